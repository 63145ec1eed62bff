/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Traditional virtio memory balloon (virtio 1.2 §5.5): the host sets a target for the guest's
 * memory, the guest's driver gives pages to the balloon (inflateq) or takes them back
 * (deflateq), and reports memory statistics on request (statsq).
 *
 * Pages the guest puts in the balloon are really returned to the host: their range of the
 * guest RAM memfd is hole-punched, so the VMM's resident shared memory drops. A page taken
 * back needs nothing: shmem gives a zero-filled page on the next touch.
 *
 * Features offered: STATS_VQ and DEFLATE_ON_OOM. With DEFLATE_ON_OOM negotiated, Linux keeps
 * ballooned pages in its MemTotal (they show as used) and may deflate under memory pressure;
 * the target is then a request the guest can override to stay alive.
 *
 * All sizes in this API are bytes of guest memory, like --memory: a target of 256 MiB on a
 * 512 MiB guest asks for a 256 MiB balloon.
 */
#ifndef DOMUS_VIRTIO_BALLOON_H
#define DOMUS_VIRTIO_BALLOON_H

#include <stdint.h>

#include <domus/cleanup.h>

struct vm;
struct vballoon;

/* Statistics tags (virtio 1.2 §5.5.6.3.1; 10 and up are from virtio 1.3 / Linux 6.12). */
enum vballoon_stat {
	VBALLOON_STAT_SWAP_IN,		/* bytes swapped in */
	VBALLOON_STAT_SWAP_OUT,		/* bytes swapped out */
	VBALLOON_STAT_MAJFLT,		/* major page faults */
	VBALLOON_STAT_MINFLT,		/* minor page faults */
	VBALLOON_STAT_MEMFREE,		/* bytes not used for anything */
	VBALLOON_STAT_MEMTOT,		/* bytes the guest's kernel manages */
	VBALLOON_STAT_AVAIL,		/* bytes available without swapping (MemAvailable) */
	VBALLOON_STAT_CACHES,		/* bytes reclaimable without I/O */
	VBALLOON_STAT_HTLB_PGALLOC,	/* hugetlb allocations */
	VBALLOON_STAT_HTLB_PGFAIL,	/* failed hugetlb allocations */
	VBALLOON_STAT_OOM_KILLS,
	VBALLOON_STAT_ALLOC_STALLS,
	VBALLOON_STAT_ASYNC_SCANS,
	VBALLOON_STAT_DIRECT_SCANS,
	VBALLOON_STAT_ASYNC_RECLAIMS,
	VBALLOON_STAT_DIRECT_RECLAIMS,
	VBALLOON_STAT_NR
};

struct vballoon_stats {
	/* The guest's last statistics buffer, as it reported them (untrusted values). */
	uint64_t val[VBALLOON_STAT_NR];
	uint32_t valid;			/* bit n: tag n was in the last buffer */
	uint64_t updates;		/* buffers received */
	uint64_t updated_ns;		/* CLOCK_MONOTONIC of the last one; 0 if none yet */

	/* The device's own view. */
	uint64_t target_pages;		/* num_pages: the balloon size the host asks for */
	uint64_t actual_pages;		/* actual: what the driver says the balloon holds */
	uint64_t balloon_pages;		/* pages we hold (hole-punched, not handed back) */
	uint64_t inflated, deflated;	/* pages accepted on inflateq / deflateq */
	uint64_t bad_pfns;		/* PFNs outside guest RAM: ignored */
	uint64_t duplicates;		/* inflates of held pages, deflates of pages not held */
	uint64_t punch_errors;		/* fallocate() failures: memory not returned */
};

/*
 * Put a balloon on the PCI bus (next free slot) that asks the guest to keep @target_bytes
 * of its RAM (at most the RAM size; rounded up to 4 KiB). Return: 0 or -errno (-ERANGE for
 * a target above the RAM size).
 */
int vballoon_create(struct vm *vm, uint64_t target_bytes, struct vballoon **out) _must_check_;
/* Stop the device's threads and free it; pages still in the balloon stay punched. NULL: no-op. */
void vballoon_free(struct vballoon *vb);

/* Change the target; any thread. The guest is told with a config-change interrupt. */
int vballoon_set_target(struct vballoon *vb, uint64_t target_bytes) _must_check_;
/* The guest's memory as its driver reports it: RAM size minus `actual`, in bytes. */
uint64_t vballoon_get_actual(struct vballoon *vb);

/*
 * Hand the held statistics buffer back so the guest refills it. Any thread.
 * Return: 0, -EAGAIN if a request is already out, -ENODEV if the driver gave no buffer
 * (no driver, or STATS_VQ not negotiated).
 */
int vballoon_request_stats(struct vballoon *vb);
/* Seconds between automatic requests (default 10); 0 requests only on demand. */
void vballoon_set_stats_period(struct vballoon *vb, unsigned int seconds);
/*
 * Saved state beyond the transport's (docs/savestate.md): which pages the balloon holds.
 * save: one optional BALLOON record per 16 GiB of RAM that has any held page; the caller
 * has quiesced the device (holds its lock). load: the whole bitmap (one bit per 4 KiB page
 * of the RAM file), after the device's state was loaded.
 */
struct ss_writer;
int vballoon_save_held(struct vballoon *vb, struct ss_writer *w) _must_check_;
void vballoon_load_held(struct vballoon *vb, const uint64_t *held);
unsigned int vballoon_slot(const struct vballoon *vb);

/* Copy out the last statistics and the device's counters. */
void vballoon_get_stats(struct vballoon *vb, struct vballoon_stats *st);

#endif
