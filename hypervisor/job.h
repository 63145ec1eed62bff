/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A save or a live migration running as a job on a thread of its own (docs/savestate.md,
 * "Jobs"), so that the control socket, the console and signals are served meanwhile.
 *
 * Threads: job_start() and everything else but the job's thread function are called on
 * the main thread. The job thread owns the machine's pause state for its duration (the
 * control server refuses PAUSE/UNPAUSE meanwhile) and reports through the atomic fields of
 * struct job_shared; it signals its end on job_done_fd(). The main thread joins it
 * (job_finish()) and only then uses the result, sends the reply and ends the machine if
 * the job says so.
 */
#ifndef DOMUS_JOB_H
#define DOMUS_JOB_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <domus/cleanup.h>
#include <domus/control.h>

#include "migrate.h"
#include "save.h"

struct vm;

/* What the job thread and the main thread share. Counters: __atomic loads and stores. */
struct job_shared {
	pthread_mutex_t lock;		/* orders cancel against the migration's GO */
	int fd;				/* where the stream goes (owned by the job) */
	bool cancel;			/* ABORT_JOB or the machine ending: stop soon */
	bool committed;			/* under lock: GO sent, the destination runs it */
	uint32_t phase;			/* enum domus_ctl_job_phase */
	uint32_t max_downtime_ms;	/* MIGRATE_SET may change these two while it runs */
	uint64_t bandwidth;
	uint64_t bytes, pages_total, pages_sent, pages_remaining;
	uint64_t dirty_rate, expected_downtime_ns;
	uint32_t rounds, throttle;
};

#define JOB_SET(sh, field, v)	__atomic_store_n(&(sh)->field, (v), __ATOMIC_RELAXED)
#define JOB_GET(sh, field)	__atomic_load_n(&(sh)->field, __ATOMIC_RELAXED)

/* Has the job been asked to stop? */
static inline bool job_cancelled(struct job_shared *sh)
{
	return __atomic_load_n(&sh->cancel, __ATOMIC_ACQUIRE);
}

/*
 * The migration is about to send GO: from here on it cannot be cancelled. Return: 0, or
 * -ECANCELED if a cancel came first (then GO must not go).
 */
int job_commit(struct job_shared *sh) _must_check_;

struct job {
	struct job_shared sh;
	uint32_t kind;			/* enum domus_ctl_job_kind */
	struct vm *vm;
	bool was_paused;		/* a client had paused the guest */
	uint32_t save_flags;		/* DOMUS_CTL_SAVE_* */
	bool auto_converge;
	uint64_t start_ns, end_ns;
	pthread_t thread;
	int done_fd;			/* eventfd, readable once the thread is done */

	/* Valid after job_finish(). */
	int status;
	char err[256];
	struct save_stats save;
	struct migrate_stats mig;
	uint64_t paused_ns;		/* save: how long the guest was paused for it */
};

/*
 * Start @j (kind, vm, was_paused, the flags and sh.fd, max_downtime_ms, bandwidth set by
 * the caller) on its own thread. Return: 0 or -errno (nothing started).
 */
int job_start(struct job *j) _must_check_;

/* Wait for the thread (after done_fd fired, or after job_cancel()) and release it. */
void job_finish(struct job *j);

/*
 * Ask the job to stop: it fails with -ECANCELED and the guest runs on. A socket is shut
 * down so that a blocked write or the wait for READY returns at once; a write blocked on a
 * pipe is interrupted by a signal (job_finish() repeats it until the thread ends).
 * Return: 0, or -EALREADY when the migration has already handed the domain over (sent GO).
 */
int job_cancel(struct job *j);

/* The job's progress as GET_JOB reports it (phase, counters; not the last result). */
void job_progress(struct job *j, struct domus_ctl_job_info *info);

#endif
