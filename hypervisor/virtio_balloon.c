// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Traditional virtio memory balloon (virtio 1.2 §5.5). Queues: 0 inflateq, 1 deflateq,
 * 2 statsq. Every PFN the guest sends is checked against guest RAM and against what the
 * balloon already holds; a page entering the balloon is hole-punched out of the RAM memfd so
 * the host really gets it back. Statistics: we hold the driver's one stats buffer and hand it
 * back whenever we want fresh numbers (periodically, or on vballoon_request_stats()).
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "layout.h"
#include "log.h"
#include "savestate.h"
#include "virtio.h"
#include "virtio_balloon.h"
#include "vm.h"

#define VB_PAGE_SHIFT		12	/* balloon PFNs are 4 KiB frames, whatever the guest uses */
#define VB_PAGE_SIZE		(1ULL << VB_PAGE_SHIFT)
#define VB_QUEUE_SIZE		128
#define VB_CONFIG_SIZE		16	/* num_pages, actual, free_page_hint_cmd_id, poison_val */
#define VB_F_STATS_VQ		1
#define VB_F_DEFLATE_ON_OOM	2
#define Q_INFLATE		0
#define Q_DEFLATE		1
#define Q_STATS			2
#define PFN_CHUNK		256	/* PFNs read at a time (a Linux request has <= 256) */
#define PFN_MAX_REQUEST		(1U << 18)	/* PFNs served per request: 1 GiB of balloon */
#define STAT_ENTRY_SIZE		10	/* le16 tag, le64 value, packed */
#define STAT_MAX_ENTRIES	64	/* 4x what Linux sends; the rest of a buffer is ignored */
#define DEFAULT_STATS_PERIOD	10	/* seconds */
#define PCI_CLASS_OTHER		0xff0000

/* A run of contiguous memfd bytes waiting to be punched: one fallocate() per run. */
struct punch_run {
	uint64_t start, len;
};

struct vballoon {
	struct virtio_dev *vdev;
	struct vm *vm;

	/* Under vdev->lock. */
	uint32_t num_pages;		/* config: the balloon size we ask for */
	uint32_t actual;		/* config: what the driver says it holds */
	uint64_t *held;			/* one bit per 4 KiB of the memfd: the page is ballooned */
	bool stats_held;		/* we hold the driver's stats buffer (stats_ret) */
	bool stats_out;			/* we handed it back; the driver owes us a new one */
	bool punch_warned;
	struct vballoon_stats st;	/* counters and the guest's last statistics */
	struct vq_elem stats_ret;	/* the held buffer: only its head matters */
	struct vq_elem elem;		/* the request being served (worker / activate) */

	/* Periodic statistics requests. */
	pthread_t timer;
	bool timer_started;
	pthread_mutex_t timer_lock;
	pthread_cond_t timer_cond;	/* CLOCK_MONOTONIC */
	unsigned int stats_period;	/* under timer_lock */
	bool stopping;			/* under timer_lock */
};

static bool driver_live(const struct virtio_dev *dev)
{
	return (dev->status & VIRTIO_STATUS_DRIVER_OK) &&
	       !(dev->status & VIRTIO_STATUS_NEEDS_RESET);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* --- pages --------------------------------------------------------------------------- */

/*
 * memfd offset of the 4 KiB frame @pfn, or -1 if it is not entirely guest RAM. The memfd
 * holds low RAM at offset 0 and RAM from 4 GiB right after it (vm.h).
 */
static int64_t pfn_to_offset(struct vballoon *vb, uint32_t pfn)
{
	uint64_t gpa = (uint64_t)pfn << VB_PAGE_SHIFT;

	if (!vm_gpa_to_hva(vb->vm, gpa, VB_PAGE_SIZE))
		return -1;
	if (gpa < RAM_ABOVE_4G_START)
		return gpa;
	return vb->vm->lowmem + (gpa - RAM_ABOVE_4G_START);
}

/* Set (@on) or clear bit @n. Return: whether it was set before. */
static bool held_update(uint64_t *map, uint64_t n, bool on)
{
	uint64_t mask = 1ULL << (n % 64);
	bool was = map[n / 64] & mask;

	if (on)
		map[n / 64] |= mask;
	else
		map[n / 64] &= ~mask;
	return was;
}

/*
 * Give the run's memory back to the host. The mapping is MAP_SHARED, so punching the memfd
 * drops the pages from the VMM's page tables and KVM's (mmu notifiers) at once.
 */
static void punch(struct vballoon *vb, struct punch_run *run)
{
	if (!run->len)
		return;
	if (fallocate(vb->vm->ram_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, run->start,
		      run->len) < 0) {
		vb->st.punch_errors += run->len >> VB_PAGE_SHIFT;
		if (!vb->punch_warned)
			pr_warn("virtio-balloon: cannot return guest memory to the host: %m");
		vb->punch_warned = true;
	}
	/* The pages now read zero: a live migration must send them again. */
	vm_mark_dirty(vb->vm, vb->vm->ram + run->start, run->len);
	run->len = 0;
}

static void inflate_pfn(struct vballoon *vb, uint32_t pfn, struct punch_run *run)
{
	int64_t off = pfn_to_offset(vb, pfn);

	if (off < 0) {
		vb->st.bad_pfns++;
		return;
	}
	/* Already ours: punching again is harmless, but the guest's count would be off. */
	if (held_update(vb->held, off >> VB_PAGE_SHIFT, true)) {
		vb->st.duplicates++;
		return;
	}
	vb->st.inflated++;
	vb->st.balloon_pages++;
	if (run->len && run->start + run->len == (uint64_t)off) {
		run->len += VB_PAGE_SIZE;
		return;
	}
	punch(vb, run);
	*run = (struct punch_run){ off, VB_PAGE_SIZE };
}

/* Nothing to do with the page itself: shmem hands out a zeroed one on the next touch. */
static void deflate_pfn(struct vballoon *vb, uint32_t pfn)
{
	int64_t off = pfn_to_offset(vb, pfn);

	if (off < 0) {
		vb->st.bad_pfns++;
		return;
	}
	if (!held_update(vb->held, off >> VB_PAGE_SHIFT, false)) {
		vb->st.duplicates++;
		return;
	}
	vb->st.deflated++;
	vb->st.balloon_pages--;
}

/*
 * One inflate or deflate request: an array of le32 PFNs in the readable part. A chain can
 * describe far more than any driver sends; past PFN_MAX_REQUEST the rest is ignored (and
 * counted) so that one request cannot keep the device lock for minutes.
 */
static void serve_pfns(struct vballoon *vb, const struct vq_elem *elem, bool inflate)
{
	uint64_t limit = (uint64_t)PFN_MAX_REQUEST * sizeof(uint32_t), off = 0;
	uint32_t pfns[PFN_CHUNK];
	struct punch_run run = {};
	size_t got;

	if (elem->out_len > limit)
		vb->st.bad_pfns += (elem->out_len - limit) / sizeof(uint32_t);
	do {
		got = vq_elem_read(elem, off, pfns, sizeof(pfns));
		for (size_t i = 0; i < got / sizeof(pfns[0]); i++) {
			if (inflate)
				inflate_pfn(vb, le32toh(pfns[i]), &run);
			else
				deflate_pfn(vb, le32toh(pfns[i]));
		}
		off += got;
	} while (got == sizeof(pfns) && off < limit);	/* limit: a whole number of chunks */
	/* Before the request is used: the driver may reuse nothing until then anyway. */
	punch(vb, &run);
}

/* --- statistics ---------------------------------------------------------------------- */

static void parse_stats(struct vballoon *vb, const struct vq_elem *elem)
{
	uint8_t buf[STAT_ENTRY_SIZE * STAT_MAX_ENTRIES];
	size_t n = vq_elem_read(elem, 0, buf, sizeof(buf)) / STAT_ENTRY_SIZE;
	struct vballoon_stats *st = &vb->st;

	if (!n)
		return;		/* an empty buffer (allowed at init): keep what we had */
	memset(st->val, 0, sizeof(st->val));
	st->valid = 0;
	for (size_t i = 0; i < n; i++) {
		uint16_t tag;
		uint64_t val;

		memcpy(&tag, buf + i * STAT_ENTRY_SIZE, sizeof(tag));
		memcpy(&val, buf + i * STAT_ENTRY_SIZE + 2, sizeof(val));
		tag = le16toh(tag);
		if (tag >= VBALLOON_STAT_NR)
			continue;	/* §5.5.6.3: ignore tags we do not know */
		st->val[tag] = le64toh(val);
		st->valid |= 1U << tag;
	}
	st->updates++;
	st->updated_ns = now_ns();
	pr_debug("virtio-balloon: guest stats: total %llu MiB, free %llu MiB, available %llu MiB, "
		 "caches %llu MiB, faults %llu major %llu minor",
		 (unsigned long long)(st->val[VBALLOON_STAT_MEMTOT] >> 20),
		 (unsigned long long)(st->val[VBALLOON_STAT_MEMFREE] >> 20),
		 (unsigned long long)(st->val[VBALLOON_STAT_AVAIL] >> 20),
		 (unsigned long long)(st->val[VBALLOON_STAT_CACHES] >> 20),
		 (unsigned long long)st->val[VBALLOON_STAT_MAJFLT],
		 (unsigned long long)st->val[VBALLOON_STAT_MINFLT]);
}

/* The driver gave us a (fresh) stats buffer: read it and keep it for the next request. */
static void take_stats(struct vballoon *vb, struct virtqueue *vq)
{
	bool pushed = false;

	if (!virtio_has_feature(vq->vdev, VB_F_STATS_VQ))
		return;		/* no statsq was negotiated: leave the queue alone */
	while (vq_pop(vq, &vb->elem) > 0) {
		parse_stats(vb, &vb->elem);
		/* The driver may have only one buffer out (§5.5.6.3): return a stale extra. */
		if (vb->stats_held) {
			vq_push(vq, &vb->stats_ret, 0);
			pushed = true;
		}
		memset(&vb->stats_ret, 0, offsetof(struct vq_elem, iov));
		vb->stats_ret.head = vb->elem.head;
		vb->stats_held = true;
		vb->stats_out = false;
	}
	if (pushed)
		vq_notify(vq);
}

int vballoon_request_stats(struct vballoon *vb)
{
	struct virtio_dev *dev = vb->vdev;
	struct virtqueue *vq = &dev->vqs[Q_STATS];
	int ret = -ENODEV;

	pthread_mutex_lock(&dev->lock);
	if (vb->stats_held && driver_live(dev) && vq->enabled) {
		vq_push(vq, &vb->stats_ret, 0);
		vq_notify(vq);
		vb->stats_held = false;
		vb->stats_out = true;
		ret = 0;
	} else if (vb->stats_out) {
		ret = -EAGAIN;
	}
	pthread_mutex_unlock(&dev->lock);
	return ret;
}

void vballoon_get_stats(struct vballoon *vb, struct vballoon_stats *st)
{
	pthread_mutex_lock(&vb->vdev->lock);
	*st = vb->st;
	st->target_pages = vb->num_pages;
	st->actual_pages = vb->actual;
	pthread_mutex_unlock(&vb->vdev->lock);
}

/* --- virtio device ------------------------------------------------------------------- */

static void vballoon_queue_notify(struct virtio_dev *dev, struct virtqueue *vq)
{
	struct vballoon *vb = dev->opaque;
	bool pushed = false;

	if (vq->index == Q_STATS) {
		take_stats(vb, vq);
		return;
	}
	/* A malformed chain (vq_pop() < 0) has already set NEEDS_RESET: stop there. */
	while (vq_pop(vq, &vb->elem) > 0) {
		serve_pfns(vb, &vb->elem, vq->index == Q_INFLATE);
		vq_push(vq, &vb->elem, 0);
		pushed = true;
	}
	if (pushed)
		vq_notify(vq);
}

/*
 * Linux queues its first stats buffer and kicks before it sets DRIVER_OK; the transport drops
 * kicks until then, so look at every queue now.
 */
static void vballoon_activate(struct virtio_dev *dev)
{
	for (unsigned int q = 0; q < dev->ops->num_queues; q++)
		if (dev->vqs[q].enabled)
			vballoon_queue_notify(dev, &dev->vqs[q]);
}

/*
 * A new driver owns all of RAM again and knows nothing of its predecessor's balloon; the
 * punched pages come back zero-filled as it touches them. The target stays.
 */
static void vballoon_reset(struct virtio_dev *dev)
{
	struct vballoon *vb = dev->opaque;
	uint64_t words = (dev->vm->mem_size / VB_PAGE_SIZE + 63) / 64;

	vb->actual = 0;
	vb->stats_held = vb->stats_out = false;
	memset(vb->held, 0, words * sizeof(*vb->held));
	vb->st.balloon_pages = 0;
}

/* Saved state: the two config words and the stats buffer the device holds (by head). */
struct vballoon_saved {
	uint32_t num_pages;
	uint32_t actual;
	uint16_t stats_head;
	uint8_t stats_held;
	uint8_t stats_out;
	uint32_t reserved;
};

static size_t vballoon_state_save(struct virtio_dev *dev, struct ss_virtio *rec, uint8_t *buf,
				  size_t max)
{
	struct vballoon *vb = dev->opaque;
	struct vballoon_saved s = {
		.num_pages = vb->num_pages,
		.actual = vb->actual,
		.stats_head = vb->stats_ret.head,
		.stats_held = vb->stats_held,
		.stats_out = vb->stats_out,
	};

	if (max < sizeof(s))
		return 0;
	memcpy(buf, &s, sizeof(s));
	return sizeof(s);
}

/* Which pages the balloon holds is in BALLOON records of its own (vballoon_save_held). */
static int vballoon_state_load(struct virtio_dev *dev, const uint8_t *buf, size_t len,
			       char *err, size_t errlen)
{
	struct vballoon *vb = dev->opaque;
	struct vballoon_saved s;

	if (len != sizeof(s)) {
		snprintf(err, errlen, "virtio-balloon in slot %u: %zu bytes of device state, "
			 "expected %zu", dev->pci.slot, len, sizeof(s));
		return -EINVAL;
	}
	memcpy(&s, buf, sizeof(s));
	if (s.num_pages > dev->vm->mem_size / VB_PAGE_SIZE ||
	    (s.stats_held && s.stats_head >= dev->vqs[Q_STATS].size)) {
		snprintf(err, errlen, "virtio-balloon in slot %u: saved state out of range",
			 dev->pci.slot);
		return -EINVAL;
	}
	vb->num_pages = s.num_pages;
	vb->actual = s.actual;
	vb->stats_ret.head = s.stats_head;
	vb->stats_held = s.stats_held;
	vb->stats_out = s.stats_out;
	return 0;
}

static uint64_t held_words(const struct vballoon *vb)
{
	return (vb->vm->mem_size / VB_PAGE_SIZE + 63) / 64;
}

int vballoon_save_held(struct vballoon *vb, struct ss_writer *w)
{
	uint64_t words = held_words(vb);

	for (uint64_t first = 0; first < words; first += SS_BALLOON_WORDS) {
		uint32_t n = words - first < SS_BALLOON_WORDS ? words - first : SS_BALLOON_WORDS;
		struct ss_balloon h = { .slot = vb->vdev->pci.slot, .nr_words = n,
					.first_word = first };
		uint32_t k = 0;
		int ret;

		while (k < n && !vb->held[first + k])
			k++;
		if (k == n)
			continue;	/* nothing held here: no record */
		ret = ss_write_recordv(w, SS_REC_BALLOON, 0, (struct iovec[]){
			{ &h, sizeof(h) }, { &vb->held[first], n * sizeof(uint64_t) } }, 2);
		if (ret)
			return ret;
	}
	return 0;
}

void vballoon_load_held(struct vballoon *vb, const uint64_t *held)
{
	uint64_t words = held_words(vb), pages = 0;

	pthread_mutex_lock(&vb->vdev->lock);
	memcpy(vb->held, held, words * sizeof(*held));
	for (uint64_t k = 0; k < words; k++)
		pages += __builtin_popcountll(held[k]);
	vb->st.balloon_pages = pages;
	pthread_mutex_unlock(&vb->vdev->lock);
}

unsigned int vballoon_slot(const struct vballoon *vb)
{
	return vb->vdev->pci.slot;
}

static void config_image(const struct vballoon *vb, uint8_t *cfg)
{
	uint32_t num = htole32(vb->num_pages), act = htole32(vb->actual);

	memset(cfg, 0, VB_CONFIG_SIZE);
	memcpy(cfg, &num, 4);
	memcpy(cfg + 4, &act, 4);
}

static void vballoon_read_config(struct virtio_dev *dev, uint32_t off, uint8_t *data,
				 uint32_t len)
{
	uint8_t cfg[VB_CONFIG_SIZE];

	config_image(dev->opaque, cfg);
	memcpy(data, cfg + off, len);	/* the transport keeps off + len <= config_size */
}

/* Only `actual` belongs to the driver; byte writes are allowed (legacy drivers did that). */
static void vballoon_write_config(struct virtio_dev *dev, uint32_t off, const uint8_t *data,
				  uint32_t len)
{
	struct vballoon *vb = dev->opaque;
	uint8_t cfg[VB_CONFIG_SIZE];
	uint32_t act;

	config_image(vb, cfg);
	for (uint32_t i = 0; i < len; i++)
		if (off + i >= 4 && off + i < 8)
			cfg[off + i] = data[i];
	memcpy(&act, cfg + 4, 4);
	act = le32toh(act);
	if (act != vb->actual && act == vb->num_pages)
		pr_debug("virtio-balloon: the guest reached the target: %u pages in the balloon",
			 act);
	vb->actual = act;
}

static const struct virtio_dev_ops vballoon_ops = {
	.name = "virtio-balloon",
	.device_id = VIRTIO_ID_BALLOON,
	.pci_class = PCI_CLASS_OTHER,
	.num_queues = 3,
	.queue_max = VB_QUEUE_SIZE,
	.features = (1ULL << VB_F_STATS_VQ) | (1ULL << VB_F_DEFLATE_ON_OOM),
	.config_size = VB_CONFIG_SIZE,
	.read_config = vballoon_read_config,
	.write_config = vballoon_write_config,
	.queue_notify = vballoon_queue_notify,
	.reset = vballoon_reset,
	.activate = vballoon_activate,
	.state_save = vballoon_state_save,
	.state_load = vballoon_state_load,
};

/* --- target -------------------------------------------------------------------------- */

/* Balloon pages for a target of @bytes of guest memory. Return: pages or -ERANGE. */
static int64_t target_to_pages(const struct vballoon *vb, uint64_t bytes)
{
	uint64_t ram = vb->vm->mem_size, pages;

	if (bytes > ram)
		return -ERANGE;
	pages = (ram - ALIGN_UP(bytes, VB_PAGE_SIZE)) >> VB_PAGE_SHIFT;
	if (pages > UINT32_MAX)
		return -ERANGE;		/* num_pages is le32: at most 16 TiB in the balloon */
	return pages;
}

int vballoon_set_target(struct vballoon *vb, uint64_t target_bytes)
{
	struct virtio_dev *dev = vb->vdev;
	int64_t pages = target_to_pages(vb, target_bytes);

	if (pages < 0)
		return pages;
	pthread_mutex_lock(&dev->lock);
	if (vb->num_pages != pages) {
		vb->num_pages = pages;
		/* Before DRIVER_OK the driver reads num_pages when it starts anyway. */
		if (dev->status & VIRTIO_STATUS_DRIVER_OK)
			virtio_config_changed(dev);
	}
	pthread_mutex_unlock(&dev->lock);
	return 0;
}

uint64_t vballoon_get_actual(struct vballoon *vb)
{
	uint64_t ram = vb->vm->mem_size, ballooned;

	pthread_mutex_lock(&vb->vdev->lock);
	ballooned = (uint64_t)vb->actual << VB_PAGE_SHIFT;
	pthread_mutex_unlock(&vb->vdev->lock);
	return ballooned < ram ? ram - ballooned : 0;
}

/* --- periodic statistics ------------------------------------------------------------- */

static void *stats_timer(void *arg)
{
	struct vballoon *vb = arg;
	struct timespec at;

	pthread_mutex_lock(&vb->timer_lock);
	while (!vb->stopping) {
		if (!vb->stats_period) {
			pthread_cond_wait(&vb->timer_cond, &vb->timer_lock);
			continue;
		}
		clock_gettime(CLOCK_MONOTONIC, &at);
		at.tv_sec += vb->stats_period;
		if (pthread_cond_timedwait(&vb->timer_cond, &vb->timer_lock, &at) != ETIMEDOUT)
			continue;	/* stopping, or the period changed: start over */
		/* Never hold timer_lock while taking the device lock. */
		pthread_mutex_unlock(&vb->timer_lock);
		vballoon_request_stats(vb);
		pthread_mutex_lock(&vb->timer_lock);
	}
	pthread_mutex_unlock(&vb->timer_lock);
	return NULL;
}

void vballoon_set_stats_period(struct vballoon *vb, unsigned int seconds)
{
	pthread_mutex_lock(&vb->timer_lock);
	vb->stats_period = seconds;
	pthread_cond_signal(&vb->timer_cond);
	pthread_mutex_unlock(&vb->timer_lock);
}

static void init_timer(struct vballoon *vb)
{
	pthread_condattr_t attr;

	pthread_mutex_init(&vb->timer_lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&vb->timer_cond, &attr);	/* cannot fail with these attributes */
	pthread_condattr_destroy(&attr);
	vb->stats_period = DEFAULT_STATS_PERIOD;
}

/* --- lifetime ------------------------------------------------------------------------ */

int vballoon_create(struct vm *vm, uint64_t target_bytes, struct vballoon **out)
{
	struct vballoon *vb = calloc(1, sizeof(*vb));
	int64_t pages;
	int ret;

	if (!vb)
		return -ENOMEM;
	vb->vm = vm;
	pages = target_to_pages(vb, target_bytes);
	if (pages < 0) {
		free(vb);
		return pages;
	}
	vb->num_pages = pages;
	init_timer(vb);
	/* Before the device exists: the transport resets it (our reset clears this) at once. */
	vb->held = calloc((vm->mem_size / VB_PAGE_SIZE + 63) / 64, sizeof(*vb->held));
	ret = vb->held ? virtio_pci_create(vm, &vballoon_ops, vb, &vb->vdev) : -ENOMEM;
	if (!ret)
		ret = -pthread_create(&vb->timer, NULL, stats_timer, vb);
	if (ret) {
		vballoon_free(vb);
		return ret;
	}
	vb->timer_started = true;
	pr_debug("virtio-balloon: PCI slot %u, target %llu MiB (%u pages to balloon)",
		 vb->vdev->pci.slot,
		 (unsigned long long)((vm->mem_size - pages * VB_PAGE_SIZE) >> 20), vb->num_pages);
	*out = vb;
	return 0;
}

void vballoon_free(struct vballoon *vb)
{
	if (!vb)
		return;
	if (vb->timer_started) {
		pthread_mutex_lock(&vb->timer_lock);
		vb->stopping = true;
		pthread_cond_signal(&vb->timer_cond);
		pthread_mutex_unlock(&vb->timer_lock);
		pthread_join(vb->timer, NULL);
	}
	virtio_pci_free(vb->vdev);	/* joins the worker: nobody uses vb after this */
	pthread_cond_destroy(&vb->timer_cond);
	pthread_mutex_destroy(&vb->timer_lock);
	free(vb->held);
	free(vb);
}
