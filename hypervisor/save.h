/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Save and restore a whole machine through the saved-state stream (savestate.h,
 * docs/savestate.md): save.c writes it, restore.c reads it.
 *
 * Threads: save_machine() runs on a job's thread (job.h) and needs every vCPU paused (or
 * not started); it quiesces the virtio devices itself for as long as it writes. Restore
 * runs on the main thread before any vCPU thread starts.
 */
#ifndef DOMUS_SAVE_H
#define DOMUS_SAVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <domus/cleanup.h>

#include "savestate.h"

struct vm;
struct job_shared;

struct save_stats {
	uint64_t bytes;		/* stream length */
	uint64_t pages;		/* non-zero pages written */
	uint64_t zero_pages;	/* pages left out because they are zero (or never touched) */
	uint64_t ns;		/* time spent writing */
};

/*
 * Write the machine to @sh->fd, reporting bytes there; stops with -ECANCELED when
 * @sh->cancel is set. Return: 0 or -errno with @err saying what failed.
 */
int save_machine(struct vm *vm, struct job_shared *sh, struct save_stats *st, char *err,
		 size_t errlen) _must_check_;

/* The pieces, for live migration (migrate.c): */
/* Quiesce (@stop) or release every virtio device (see virtio_pci_quiesce). */
void save_quiesce(struct vm *vm, bool stop);
int save_write_machine(struct vm *vm, struct ss_writer *w) _must_check_;
/* Every non-zero page. */
int save_write_memory(struct vm *vm, struct ss_writer *w, struct save_stats *st) _must_check_;
/* The pages set in @bitmap (one bit per page of the RAM file): PAGES, or ZERO_PAGES. */
int save_write_dirty(struct vm *vm, struct ss_writer *w, const uint64_t *bitmap,
		     struct save_stats *st) _must_check_;
/* VM, vCPU and device state, then END; vCPUs paused, devices quiesced. */
int save_write_state(struct vm *vm, struct ss_writer *w, char *err, size_t errlen)
	_must_check_;

/* What the MACHINE record says, read before the machine is built. */
struct restore_machine {
	struct ss_machine m;
	struct ss_machine_dev devs[32];
};

/* Read the header and the MACHINE record. Return: 0 or -errno with r->err set. */
int restore_begin(struct ss_reader *r, struct restore_machine *rm) _must_check_;
/*
 * Check the machine built from the command line against @rm (same devices in the same
 * slots, same disk sizes and modes), then read the rest of the stream into it: memory,
 * then at the END record the VM, vCPU and device state. From a regular file the memory
 * comes lazily (lazy.h) unless @eager. Return: 0 or -errno, r->err set.
 */
int restore_machine(struct vm *vm, struct ss_reader *r, const struct restore_machine *rm,
		    bool eager) _must_check_;

#endif
