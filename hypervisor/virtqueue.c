// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Split virtqueues (virtio 1.2 §2.7), device side. The rings live in guest memory and the
 * guest may change them at any moment, so every value is read once into a local, checked,
 * and only then used. A malformed ring marks the device as needing reset.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "virtio.h"
#include "vm.h"

#define VRING_DESC_F_NEXT	1
#define VRING_DESC_F_WRITE	2
#define VRING_DESC_F_INDIRECT	4
#define VRING_AVAIL_F_NO_INTERRUPT 1
#define VQ_MAX_INDIRECT		32768	/* largest table a queue could need */

struct vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct vring_used_elem {
	uint32_t id;
	uint32_t len;
};

/* Guest ring addresses are validated when the queue is enabled; these re-derive them. */
static void *ring_ptr(struct virtqueue *vq, uint64_t gpa, uint64_t len)
{
	return vm_gpa_to_hva(vq->vdev->vm, gpa, len);
}

static uint16_t *avail_ring(struct virtqueue *vq)
{
	return ring_ptr(vq, vq->avail_gpa, 6 + 2ULL * vq->size);
}

static uint8_t *used_ring(struct virtqueue *vq)
{
	return ring_ptr(vq, vq->used_gpa, 6 + 8ULL * vq->size);
}

static bool event_idx(struct virtqueue *vq)
{
	return virtio_has_feature(vq->vdev, VIRTIO_F_RING_EVENT_IDX);
}

static int bad_chain(struct virtqueue *vq, const char *why)
{
	vq->bad_requests++;
	virtio_dev_needs_reset(vq->vdev, "queue %u: %s", vq->index, why);
	return -EINVAL;
}

/* Map one descriptor into the element, enforcing readable-before-writable. */
static int add_segment(struct virtqueue *vq, struct vq_elem *elem, const struct vring_desc *d)
{
	void *hva;

	if (elem->nr_out + elem->nr_in >= VQ_MAX_SEGS)
		return bad_chain(vq, "descriptor chain too long");
	hva = vm_gpa_to_hva(vq->vdev->vm, d->addr, d->len);
	if (!hva)
		return bad_chain(vq, "descriptor buffer outside guest RAM");
	if (d->flags & VRING_DESC_F_WRITE) {
		elem->in_len += d->len;
		elem->iov[elem->nr_out + elem->nr_in++] = (struct iovec){ hva, d->len };
		return 0;
	}
	if (elem->nr_in)
		return bad_chain(vq, "readable descriptor after a writable one");
	elem->out_len += d->len;
	elem->iov[elem->nr_out++] = (struct iovec){ hva, d->len };
	return 0;
}

/* Switch @table/@n to an indirect table; Return: 0 or -EINVAL. */
static int enter_indirect(struct virtqueue *vq, const struct vring_desc *d,
			  const struct vring_desc **table, uint32_t *n)
{
	if (!virtio_has_feature(vq->vdev, VIRTIO_F_RING_INDIRECT_DESC))
		return bad_chain(vq, "indirect descriptor not negotiated");
	if (d->flags & VRING_DESC_F_NEXT)
		return bad_chain(vq, "indirect descriptor with NEXT");
	if (!d->len || d->len % sizeof(struct vring_desc) ||
	    d->len / sizeof(struct vring_desc) > VQ_MAX_INDIRECT)
		return bad_chain(vq, "bad indirect table length");
	*table = vm_gpa_to_hva(vq->vdev->vm, d->addr, d->len);
	if (!*table)
		return bad_chain(vq, "indirect table outside guest RAM");
	*n = d->len / sizeof(struct vring_desc);
	return 0;
}

/* Walk the chain at @head. Each table is walked at most once per entry: no loops. */
static int walk_chain(struct virtqueue *vq, uint16_t head, struct vq_elem *elem)
{
	const struct vring_desc *table = ring_ptr(vq, vq->desc_gpa, 16ULL * vq->size);
	uint32_t n = vq->size, i = head, steps = 0;
	bool indirect = false;
	struct vring_desc d;

	if (!table)
		return bad_chain(vq, "descriptor table outside guest RAM");
	for (;;) {
		if (i >= n)
			return bad_chain(vq, "descriptor index out of range");
		if (++steps > n)
			return bad_chain(vq, "descriptor chain loops");
		memcpy(&d, &table[i], sizeof(d));	/* one read: the guest may be writing */
		if (d.flags & VRING_DESC_F_INDIRECT) {
			if (indirect)
				return bad_chain(vq, "nested indirect descriptor");
			if (enter_indirect(vq, &d, &table, &n))
				return -EINVAL;
			indirect = true;
			i = steps = 0;
			continue;
		}
		if (add_segment(vq, elem, &d))
			return -EINVAL;
		if (!(d.flags & VRING_DESC_F_NEXT))
			return 0;
		i = d.next;
	}
}

/* EVENT_IDX: tell the driver which avail index should trigger the next kick. */
static void set_avail_event(struct virtqueue *vq)
{
	uint8_t *used = used_ring(vq);
	uint16_t *avail_event = used ? (uint16_t *)(used + 4 + 8ULL * vq->size) : NULL;

	if (avail_event && event_idx(vq)) {
		__atomic_store_n(avail_event, vq->last_avail, __ATOMIC_RELAXED);
		vm_mark_dirty(vq->vdev->vm, avail_event, 2);
	}
}

int vq_pop(struct virtqueue *vq, struct vq_elem *elem)
{
	uint16_t *avail = avail_ring(vq);
	uint16_t idx, head;

	if (!vq->enabled || !avail || (vq->vdev->status & VIRTIO_STATUS_NEEDS_RESET))
		return 0;
	idx = __atomic_load_n(&avail[1], __ATOMIC_ACQUIRE);
	if (idx == vq->last_avail) {
		set_avail_event(vq);
		/* A kick we suppressed may have raced with the store above: look again. */
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		idx = __atomic_load_n(&avail[1], __ATOMIC_ACQUIRE);
		if (idx == vq->last_avail)
			return 0;
	}
	if ((uint16_t)(idx - vq->last_avail) > vq->size)
		return bad_chain(vq, "available index moved by more than the queue size");
	head = __atomic_load_n(&avail[2 + vq->last_avail % vq->size], __ATOMIC_RELAXED);
	memset(elem, 0, offsetof(struct vq_elem, iov));
	elem->vm = vq->vdev->vm;
	elem->head = head;
	if (walk_chain(vq, head, elem))
		return -EINVAL;
	vq->last_avail++;
	set_avail_event(vq);
	return 1;
}

void vq_push_many(struct virtqueue *vq, const struct vq_used *u, unsigned int n)
{
	uint8_t *used = used_ring(vq);

	if (!used || !vq->enabled)
		return;
	for (unsigned int i = 0; i < n; i++) {
		struct vring_used_elem ue = { u[i].head, u[i].len };
		uint16_t slot = (uint16_t)(vq->used_idx + i) % vq->size;

		memcpy(used + 4 + 8ULL * slot, &ue, sizeof(ue));
	}
	vq->used_idx += n;
	__atomic_store_n((uint16_t *)(used + 2), vq->used_idx, __ATOMIC_RELEASE);
	vm_mark_dirty(vq->vdev->vm, used, 4 + 8ULL * vq->size);	/* for live migration */
}

void vq_push(struct virtqueue *vq, const struct vq_elem *elem, uint32_t written)
{
	/* Never claim more than the driver gave us. */
	struct vq_used u = { elem->head, written < elem->in_len ? written : elem->in_len };
	uint64_t left = u.len;

	/* What the device wrote into the chain (live migration must send it again). */
	for (unsigned int i = elem->nr_out; i < elem->nr_out + elem->nr_in && left; i++) {
		size_t n = elem->iov[i].iov_len < left ? elem->iov[i].iov_len : left;

		vm_mark_dirty(vq->vdev->vm, elem->iov[i].iov_base, n);
		left -= n;
	}
	vq_push_many(vq, &u, 1);
}

/* virtio 1.2 §2.7.10: interrupt when the used index crosses used_event. */
static bool need_event(uint16_t event, uint16_t new_idx, uint16_t old)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}

static bool wants_interrupt(struct virtqueue *vq)
{
	uint16_t *avail = avail_ring(vq);
	uint16_t old = vq->signalled_used;
	bool valid = vq->signalled_used_valid;

	if (!avail)
		return false;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);	/* used idx before reading the event */
	if (!event_idx(vq))
		return !(__atomic_load_n(&avail[0], __ATOMIC_RELAXED) & VRING_AVAIL_F_NO_INTERRUPT);
	vq->signalled_used = vq->used_idx;
	vq->signalled_used_valid = true;
	return !valid || need_event(__atomic_load_n(&avail[2 + vq->size], __ATOMIC_RELAXED),
				    vq->used_idx, old);
}

void vq_notify(struct virtqueue *vq)
{
	if (vq->enabled && wants_interrupt(vq))
		virtio_signal_vector(vq->vdev, vq->msix_vector);
}

size_t vq_elem_read(const struct vq_elem *elem, uint64_t off, void *buf, size_t len)
{
	size_t done = 0;

	for (unsigned int i = 0; i < elem->nr_out && done < len; i++) {
		const struct iovec *v = &elem->iov[i];

		if (off >= v->iov_len) {
			off -= v->iov_len;
			continue;
		}
		size_t n = v->iov_len - off < len - done ? v->iov_len - off : len - done;
		memcpy((uint8_t *)buf + done, (uint8_t *)v->iov_base + off, n);
		done += n;
		off = 0;
	}
	return done;
}

size_t vq_elem_write(const struct vq_elem *elem, uint64_t off, const void *buf, size_t len)
{
	size_t done = 0;

	for (unsigned int i = elem->nr_out; i < elem->nr_out + elem->nr_in && done < len; i++) {
		const struct iovec *v = &elem->iov[i];

		if (off >= v->iov_len) {
			off -= v->iov_len;
			continue;
		}
		size_t n = v->iov_len - off < len - done ? v->iov_len - off : len - done;
		memcpy((uint8_t *)v->iov_base + off, (const uint8_t *)buf + done, n);
		if (elem->vm)
			vm_mark_dirty(elem->vm, (uint8_t *)v->iov_base + off, n);
		done += n;
		off = 0;
	}
	return done;
}

unsigned int iov_slice(const struct iovec *iov, unsigned int n, uint64_t off, uint64_t len,
		       struct iovec *out)
{
	unsigned int k = 0;

	for (unsigned int i = 0; i < n && len; i++) {
		uint64_t seg = iov[i].iov_len;

		if (off >= seg) {
			off -= seg;
			continue;
		}
		seg -= off;
		if (seg > len)
			seg = len;
		out[k++] = (struct iovec){ (uint8_t *)iov[i].iov_base + off, seg };
		len -= seg;
		off = 0;
	}
	return k;
}
