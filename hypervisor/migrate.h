/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Live migration over one connected descriptor (docs/savestate.md, "Live migration"):
 * pre-copy rounds of dirty pages while the guest runs, then stop-and-copy of the rest and
 * of all state as one saved-state stream (header flag LIVE), then a handshake so that the
 * source ends only once the destination has the whole machine.
 *
 * Threads: the job's thread (job.h), blocking; the control socket is served meanwhile and
 * may cancel it or change its limits through struct job_shared.
 */
#ifndef DOMUS_MIGRATE_H
#define DOMUS_MIGRATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <domus/cleanup.h>

struct vm;
struct job_shared;

#define MIGRATE_DEFAULT_DOWNTIME_MS	300
#define MIGRATE_MAX_ROUNDS		30
#define MIGRATE_HANDSHAKE_MS		30000
#define MIGRATE_DISK_WAIT_MS		5000	/* for the source to exit and unlock disks */

#define MIGRATE_THROTTLE_START		20	/* percent of the time the vCPUs are held */
#define MIGRATE_THROTTLE_STEP		10
#define MIGRATE_THROTTLE_MAX		90
#define MIGRATE_THROTTLE_SLICE_MS	10

struct migrate_stats {
	uint64_t bytes;			/* stream length */
	uint64_t pages;			/* pages sent, repeats included */
	uint64_t total_ns;
	uint64_t downtime_ns;		/* vCPUs paused until the destination confirmed */
	uint32_t rounds;		/* pre-copy rounds, the first full pass included */
	uint32_t final_pages;		/* dirty pages sent during the stop-and-copy */
	uint32_t throttle;		/* the highest auto-converge throttle, percent */
};

/*
 * The source side, to @sh->fd, with @sh's max downtime and bandwidth (read again every
 * round and every write: MIGRATE_SET), reporting progress there and stopping when
 * @sh->cancel is set. @was_paused: a client had paused the guest. @auto_converge: slow the
 * guest down while it dirties faster than the rounds can send. Return: 0 when the
 * destination confirmed (the guest stays paused here: the caller ends the machine), or
 * -errno with @err set and the guest running as before (-ECANCELED: cancelled).
 */
int migrate_send(struct vm *vm, struct job_shared *sh, bool was_paused, bool auto_converge,
		 struct migrate_stats *st, char *err, size_t errlen) _must_check_;

/*
 * The destination side, on a SYNC record (@seq) of the stream on @fd: everything before it
 * is applied, tell the source. Return: 0 or -errno with @err set.
 */
int migrate_incoming_synced(int fd, uint64_t seq, char *err, size_t errlen) _must_check_;

/*
 * The destination side, after the whole stream was restored from @fd: say READY and wait
 * for GO. Return: 0 (run the guest) or -errno with @err set (the source keeps it).
 */
int migrate_incoming_confirm(int fd, char *err, size_t errlen) _must_check_;

#endif
