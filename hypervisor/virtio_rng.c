// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * virtio entropy device (virtio 1.2 §5.4). Each chain the driver queues is a device-writable
 * buffer; we fill it from getrandom() on the device's worker thread and return it.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/random.h>

#include "log.h"
#include "virtio.h"
#include "virtio_rng.h"

#define VRNG_QUEUE_SIZE		256
#define VRNG_MAX_REQUEST	(64 * 1024)	/* bytes per request: the guest asks again */
#define PCI_CLASS_OTHER		0xff0000

struct vrng {
	struct virtio_dev *vdev;
	struct vq_elem elem;		/* one request at a time, on the worker thread */
	uint64_t requests;		/* under vdev->lock */
	uint64_t bytes;
	uint64_t empty;			/* chains with no writable byte: nothing we can give */
};

/* Fill @len bytes at @p. Return: bytes filled, short only if getrandom() itself fails. */
static size_t fill_random(uint8_t *p, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = getrandom(p + done, len - done, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;	/* large reads can be interrupted; nothing is lost */
			pr_warn("virtio-rng: getrandom: %m");
			break;
		}
		done += n;
	}
	return done;
}

/* Fill the writable part of @elem up to VRNG_MAX_REQUEST. Return: bytes written. */
static uint32_t fill_elem(const struct vq_elem *elem)
{
	uint32_t written = 0;

	for (unsigned int i = elem->nr_out; i < elem->nr_out + elem->nr_in; i++) {
		const struct iovec *v = &elem->iov[i];
		size_t want = v->iov_len;
		size_t got;

		if (want > VRNG_MAX_REQUEST - written)
			want = VRNG_MAX_REQUEST - written;
		got = fill_random(v->iov_base, want);
		written += got;
		if (got < want || written == VRNG_MAX_REQUEST)
			break;
	}
	return written;
}

static void vrng_queue_notify(struct virtio_dev *dev, struct virtqueue *vq)
{
	struct vrng *rng = dev->opaque;
	bool pushed = false;

	/* A malformed chain (vq_pop() < 0) has already set NEEDS_RESET: stop there. */
	while (vq_pop(vq, &rng->elem) > 0) {
		uint32_t written = fill_elem(&rng->elem);

		/*
		 * The spec wants at least one byte per request; a chain without writable
		 * space breaks the driver's side of that, so it goes back empty and counted.
		 */
		if (!written)
			rng->empty++;
		rng->requests++;
		rng->bytes += written;
		vq_push(vq, &rng->elem, written);
		pushed = true;
	}
	if (pushed)
		vq_notify(vq);
}

static const struct virtio_dev_ops vrng_ops = {
	.name = "virtio-rng",
	.device_id = VIRTIO_ID_RNG,
	.pci_class = PCI_CLASS_OTHER,
	.num_queues = 1,
	.queue_max = VRNG_QUEUE_SIZE,
	.queue_notify = vrng_queue_notify,
};

int vrng_create(struct vm *vm, struct vrng **out)
{
	struct vrng *rng = calloc(1, sizeof(*rng));
	int ret;

	if (!rng)
		return -ENOMEM;
	ret = virtio_pci_create(vm, &vrng_ops, rng, &rng->vdev);
	if (ret) {
		free(rng);
		return ret;
	}
	pr_debug("virtio-rng: PCI slot %u", rng->vdev->pci.slot);
	*out = rng;
	return 0;
}

void vrng_free(struct vrng *rng)
{
	if (!rng)
		return;
	virtio_pci_free(rng->vdev);	/* joins the worker: nobody uses rng after this */
	free(rng);
}
