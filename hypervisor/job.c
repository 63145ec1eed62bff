// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Save and live migration as a job on a thread of its own (job.h): the control server
 * starts it, the thread writes the stream, the main thread joins it and answers.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "job.h"
#include "log.h"
#include "savestate.h"
#include "vcpu.h"
#include "vm.h"

int job_commit(struct job_shared *sh)
{
	int ret = 0;

	pthread_mutex_lock(&sh->lock);
	if (sh->cancel)
		ret = -ECANCELED;
	else
		sh->committed = true;
	pthread_mutex_unlock(&sh->lock);
	return ret;
}

/* SAVE: pause (unless a client had), write, then run on unless the domain is to end. */
static void run_save(struct job *j)
{
	uint64_t t0 = ss_now_ns();

	if (!j->was_paused)
		vcpu_pause_all(j->vm, true);
	j->status = save_machine(j->vm, &j->sh, &j->save, j->err, sizeof(j->err));
	/* With STOP the vCPUs stay paused: the main thread ends the machine. */
	if (!j->was_paused && (j->status || !(j->save_flags & DOMUS_CTL_SAVE_STOP)))
		vcpu_pause_all(j->vm, false);
	j->paused_ns = ss_now_ns() - t0;
}

/*
 * Wakes the job thread from a write blocked on a pipe whose reader stopped reading
 * (sockets are shut down instead). Only the job thread unblocks it; the handler does
 * nothing, and is installed without SA_RESTART so that the write returns EINTR.
 */
#define SIG_JOB_WAKE SIGUSR2

static void wake_handler(int sig)
{
	(void)sig;
}

static void *job_thread(void *opaque)
{
	struct job *j = opaque;
	uint64_t one = 1;
	sigset_t wake;

	sigemptyset(&wake);
	sigaddset(&wake, SIG_JOB_WAKE);
	pthread_sigmask(SIG_UNBLOCK, &wake, NULL);
	if (j->kind == DOMUS_CTL_JOB_KIND_SAVE) {
		JOB_SET(&j->sh, phase, DOMUS_CTL_JOB_SAVING);
		run_save(j);
	} else {
		JOB_SET(&j->sh, phase, DOMUS_CTL_JOB_PRECOPY);
		j->status = migrate_send(j->vm, &j->sh, j->was_paused, j->auto_converge, &j->mig,
					 j->err, sizeof(j->err));
	}
	j->end_ns = ss_now_ns();
	/* Release: whoever sees the final phase sees end_ns too (job_progress()). */
	__atomic_store_n(&j->sh.phase, !j->status ? DOMUS_CTL_JOB_COMPLETED :
			 j->status == -ECANCELED ? DOMUS_CTL_JOB_CANCELLED : DOMUS_CTL_JOB_FAILED,
			 __ATOMIC_RELEASE);
	if (write(j->done_fd, &one, sizeof(one)) < 0)
		pr_warn("job: cannot signal its end: %m");
	return NULL;
}

int job_start(struct job *j)
{
	struct sigaction sa = { .sa_handler = wake_handler };
	sigset_t all, old;
	int ret;

	sigaction(SIG_JOB_WAKE, &sa, NULL);
	j->done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (j->done_fd < 0)
		return -errno;
	pthread_mutex_init(&j->sh.lock, NULL);
	j->sh.pages_total = j->vm->mem_size / SS_PAGE_SIZE;
	j->sh.pages_remaining = j->sh.pages_total;
	j->start_ns = ss_now_ns();
	j->err[0] = '\0';
	/* Signals are the main thread's (signalfd): the job thread blocks them all. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ret = -pthread_create(&j->thread, NULL, job_thread, j);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret) {
		close(j->done_fd);
		j->done_fd = -1;
		pthread_mutex_destroy(&j->sh.lock);
	}
	return ret;
}

/* A cancelled job, not yet committed, blocked on a pipe: interrupt its write. */
static void wake_if_cancelled(struct job *j)
{
	struct stat st;

	pthread_mutex_lock(&j->sh.lock);
	if (j->sh.cancel && !j->sh.committed && !fstat(j->sh.fd, &st) && !S_ISSOCK(st.st_mode))
		pthread_kill(j->thread, SIG_JOB_WAKE);
	pthread_mutex_unlock(&j->sh.lock);
}

void job_finish(struct job *j)
{
	struct pollfd pfd = { .fd = j->done_fd, .events = POLLIN };

	/* The wake may have come just before the write blocked: send it again until done. */
	for (;;) {
		int r = poll(&pfd, 1, 100);

		if (r > 0 || (r < 0 && errno != EINTR))
			break;
		wake_if_cancelled(j);
	}
	pthread_join(j->thread, NULL);
	close(j->done_fd);
	j->done_fd = -1;
	close(j->sh.fd);
	j->sh.fd = -1;
	pthread_mutex_destroy(&j->sh.lock);
}

/*
 * A signal alone can come just before the job's write() blocks and be lost, leaving it
 * blocked on a reader that never reads. So first point @fd at /dev/null opened read-only:
 * every later write() fails at once (EBADF); the signal then ends a write in progress.
 * (Regular files never block: the job sees the cancel flag between writes.)
 */
static void break_fd(int fd)
{
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);

	if (null >= 0) {
		dup3(null, fd, O_CLOEXEC);
		close(null);
	}
}

int job_cancel(struct job *j)
{
	struct stat st;
	int ret = 0;

	pthread_mutex_lock(&j->sh.lock);
	if (j->sh.committed) {
		ret = -EALREADY;
	} else {
		__atomic_store_n(&j->sh.cancel, true, __ATOMIC_RELEASE);
		/* Wake a write blocked on a slow peer, or the wait for READY. */
		if (!fstat(j->sh.fd, &st) && S_ISSOCK(st.st_mode)) {
			shutdown(j->sh.fd, SHUT_RDWR);
		} else {
			if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode))
				break_fd(j->sh.fd);
			pthread_kill(j->thread, SIG_JOB_WAKE);
		}
	}
	pthread_mutex_unlock(&j->sh.lock);
	return ret;
}

void job_progress(struct job *j, struct domus_ctl_job_info *info)
{
	struct job_shared *sh = &j->sh;
	uint32_t phase = __atomic_load_n(&sh->phase, __ATOMIC_ACQUIRE);
	uint64_t end = phase >= DOMUS_CTL_JOB_COMPLETED ? j->end_ns : ss_now_ns();

	*info = (struct domus_ctl_job_info){
		.phase = phase,
		.kind = j->kind,
		.elapsed_ns = end > j->start_ns ? end - j->start_ns : 0,
		.bytes = JOB_GET(sh, bytes),
		.pages_total = sh->pages_total,
		.pages_sent = JOB_GET(sh, pages_sent),
		.pages_remaining = JOB_GET(sh, pages_remaining),
		.dirty_rate = JOB_GET(sh, dirty_rate),
		.expected_downtime_ns = JOB_GET(sh, expected_downtime_ns),
		.bandwidth = JOB_GET(sh, bandwidth),
		.max_downtime_ms = JOB_GET(sh, max_downtime_ms),
		.rounds = JOB_GET(sh, rounds),
		.throttle = JOB_GET(sh, throttle),
	};
}
