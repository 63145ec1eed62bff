// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Save, live migration and their jobs (docs/libxc.md, "Save, restore and migration"):
 * SAVE / MIGRATE_SEND wait for their reply without a timeout (the VMM answers when the job
 * is over); GET_JOB, ABORT_JOB and MIGRATE_SET are ordinary requests, meant for a second
 * handle on the same domain. Waiting for a domain that arrives by migration.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "xc_private.h"

_Static_assert((int)XC_JOB_COMPLETED == (int)DOMUS_CTL_JOB_COMPLETED &&
	       (int)XC_JOB_CANCELLED == (int)DOMUS_CTL_JOB_CANCELLED &&
	       (int)XC_JOB_WAITING_FOR_DESTINATION == (int)DOMUS_CTL_JOB_WAIT_DEST &&
	       (int)XC_JOB_KIND_MIGRATE == (int)DOMUS_CTL_JOB_KIND_MIGRATE,
	       "job values match the wire");

const char *xc_job_phase_name(unsigned int phase)
{
	static const char *const names[] = {
		[XC_JOB_NONE] = "none",
		[XC_JOB_SAVING] = "saving",
		[XC_JOB_MIGRATING] = "migrating",
		[XC_JOB_STOP_AND_COPY] = "stop-and-copy",
		[XC_JOB_WAITING_FOR_DESTINATION] = "waiting-for-destination",
		[XC_JOB_COMPLETED] = "completed",
		[XC_JOB_FAILED] = "failed",
		[XC_JOB_CANCELLED] = "cancelled",
	};

	return phase < sizeof(names) / sizeof(names[0]) ? names[phase] : "unknown";
}

#define SAVE_LOCK_WAIT_MS 30000

int xc_save_file_open(xc_interface *xch, const char *path, unsigned int mode)
{
	struct flock wr = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, mode);
	int waited = 0, err;

	struct stat st;

	if (fd < 0)
		return xc__error(xch, -errno, "cannot create %s: %s", path, strerror(errno));
	/* A FIFO or a device: nothing to truncate, and no restore reads it lazily. */
	if (!fstat(fd, &st) && !S_ISREG(st.st_mode))
		return fd;
	/* Not O_TRUNC: a lazily restoring VMM may still read the old contents. */
	while (fcntl(fd, F_OFD_SETLK, &wr) < 0 && (errno == EAGAIN || errno == EACCES)) {
		if (waited >= SAVE_LOCK_WAIT_MS) {
			close(fd);
			return xc__error(xch, -EBUSY, "%s is still being read by a domain restored "
					 "from it; save to another file or try again", path);
		}
		nanosleep(&(struct timespec){ 0, 20 * 1000000L }, NULL);
		waited += 20;
	}
	/* Any other lock error: a file system without locks; nobody can hold one there. */
	if (ftruncate(fd, 0) < 0) {
		err = -errno;
		close(fd);
		return xc__error(xch, err, "cannot truncate %s: %s", path, strerror(-err));
	}
	return fd;
}

/*
 * One job request: @fd goes along, the reply comes when the job is over. Return: the
 * reply's status with its payload copied to @out (@out_len octets), or -errno.
 */
static int job_call(xc_interface *xch, xc_domain *dom, const char *what, uint16_t type,
		    const void *body, size_t len, int fd, void *out, size_t out_len)
{
	if (fd < 0 || fcntl(fd, F_GETFD) < 0)
		return xc__error(xch, -EBADF, "%s: descriptor %d is not open", what, fd);
	return xc__call_copy(xch, dom, what, type, body, len, fd, out, out_len);
}

int xc_domain_save(xc_interface *xch, xc_domain *dom, int fd, unsigned int flags,
		   xc_save_result *result)
{
	struct domus_ctl_save req = { .flags = flags };
	struct domus_ctl_save_result res;
	int ret;

	if (flags & ~XC_SAVE_STOP)
		return xc__error(xch, -EINVAL, "save: unknown flags %#x", flags & ~XC_SAVE_STOP);
	ret = job_call(xch, dom, "save", DOMUS_CTL_SAVE, &req, sizeof(req), fd, &res,
		       sizeof(res));
	if (!ret && result)
		*result = (xc_save_result){
			.bytes = res.bytes, .pages = res.pages, .write_ns = res.write_ns,
			.paused_ns = res.paused_ns,
		};
	return ret;
}

int xc_domain_migrate_send(xc_interface *xch, xc_domain *dom, int fd,
			   const xc_migrate_params *params, xc_migrate_result *result)
{
	struct domus_ctl_migrate req = {};
	struct domus_ctl_migrate_result res;
	int ret;

	if (params)
		req = (struct domus_ctl_migrate){
			.flags = params->auto_converge ? DOMUS_CTL_MIGRATE_AUTO_CONVERGE : 0,
			.max_downtime_ms = params->max_downtime_ms,
			.bandwidth = params->bandwidth,
		};
	if ((ret = xc_migrate_socket_tune(fd)) < 0)
		return xc__error(xch, ret, "migrate: cannot set up the socket: %s", strerror(-ret));
	ret = job_call(xch, dom, "migrate", DOMUS_CTL_MIGRATE_SEND, &req, sizeof(req), fd, &res,
		       sizeof(res));
	if (!ret && result)
		*result = (xc_migrate_result){
			.bytes = res.bytes, .pages = res.pages, .total_ns = res.total_ns,
			.downtime_ns = res.downtime_ns, .rounds = res.rounds,
			.final_pages = res.final_pages, .throttle = res.throttle,
		};
	return ret;
}

int xc_domain_get_job(xc_interface *xch, xc_domain *dom, xc_job_info *info)
{
	struct domus_ctl_job_info ji;
	int ret = xc__call_copy(xch, dom, "job info", DOMUS_CTL_GET_JOB, NULL, 0, -1, &ji,
				sizeof(ji));

	if (ret)
		return ret;
	*info = (xc_job_info){
		.phase = ji.phase, .kind = ji.kind, .elapsed_ns = ji.elapsed_ns,
		.bytes = ji.bytes, .pages_total = ji.pages_total, .pages_sent = ji.pages_sent,
		.pages_remaining = ji.pages_remaining, .dirty_rate = ji.dirty_rate,
		.expected_downtime_ns = ji.expected_downtime_ns, .bandwidth = ji.bandwidth,
		.max_downtime_ms = ji.max_downtime_ms, .rounds = ji.rounds,
		.throttle = ji.throttle, .status = ji.status,
	};
	snprintf(info->error, sizeof(info->error), "%.*s", (int)sizeof(ji.error), ji.error);
	return 0;
}

int xc_domain_abort_job(xc_interface *xch, xc_domain *dom)
{
	return xc__call_copy(xch, dom, "abort job", DOMUS_CTL_ABORT_JOB, NULL, 0, -1, NULL,
			     0);
}

int xc_domain_migrate_set(xc_interface *xch, xc_domain *dom, unsigned int which,
			  uint32_t max_downtime_ms, uint64_t bandwidth)
{
	struct domus_ctl_migrate_set req = {
		.flags = which, .max_downtime_ms = max_downtime_ms, .bandwidth = bandwidth,
	};

	return xc__call_copy(xch, dom, "migrate-set", DOMUS_CTL_MIGRATE_SET, &req, sizeof(req),
			     -1, NULL, 0);
}

/*
 * The VMM serves its control socket only once the migration arrived. Knock once (a HELLO
 * on a connection of our own) and wait for the answer, or for the VMM to end: its pidfd
 * says so at once; without pidfds (before Linux 5.3) it is looked at every 100 ms.
 * Return: 0 it answers now; -ESRCH it ended; -ETIMEDOUT.
 */
static int knock(xc_domain *dom, int timeout_ms)
{
	struct domus_ctl_hdr hello = {
		.magic = DOMUS_CTL_MAGIC, .version = DOMUS_CTL_VERSION,
		.type = DOMUS_CTL_HELLO, .id = 1,
	};
	int fd __close = xc__connect(dom->control_path);
	int pfd __close = (int)syscall(SYS_pidfd_open, dom->pid, 0);
	struct pollfd p[2] = { { .fd = fd, .events = POLLIN }, { .fd = pfd, .events = POLLIN } };
	int64_t deadline = xc__deadline_after(timeout_ms);

	if (fd < 0 || !xc__process_alive(dom->pid, dom->pid_start))
		return -ESRCH;
	if (send(fd, &hello, sizeof(hello), MSG_NOSIGNAL) != sizeof(hello))
		return -ESRCH;
	for (;;) {
		int left = deadline < 0 ? 100 : (int)(deadline - xc__now_ms());
		int n = poll(p, pfd >= 0 ? 2 : 1, left < 0 ? 0 : pfd < 0 && left > 100 ? 100 : left);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (pfd >= 0 && p[1].revents)
			return -ESRCH;
		if (p[0].revents)	/* an answer, or a reset from a VMM that is ending */
			return xc__process_alive(dom->pid, dom->pid_start) ? 0 : -ESRCH;
		if (!xc__process_alive(dom->pid, dom->pid_start))
			return -ESRCH;
		if (deadline >= 0 && xc__now_ms() >= deadline)
			return -ETIMEDOUT;
	}
}

int xc_domain_wait_running(xc_interface *xch, xc_domain *dom, int timeout_ms)
{
	char msg[512];
	int ret;

	if (!dom->pending)
		return dom->fd >= 0 ? 0 : xc__error(xch, -ENOTCONN, "wait for domain %" PRIu32
						     ": not connected", dom->domid);
	ret = knock(dom, timeout_ms);
	if (ret == -ETIMEDOUT)
		return xc__error(xch, ret, "domain %s: the migration did not arrive in %d ms",
				 dom->name, timeout_ms);
	if (!ret) {
		dom->pending = false;
		ret = xc__domain_connect_fd(xch, dom);
		if (!ret)
			return 0;
	}
	/* It ended without running the guest: say why, and leave nothing behind. */
	for (int i = 0; i < 100 && xc__process_alive(dom->pid, dom->pid_start); i++)
		nanosleep(&(struct timespec){ .tv_nsec = 10000000 }, NULL);
	xc__vmm_last_words(xch, NULL, dom->domid, msg, sizeof(msg));
	dom->pending = false;
	xc_domain_destroy(xch, dom);
	return xc__error(xch, -EIO, "domain %s: the incoming migration failed%s%s", dom->name,
			 msg[0] ? ": " : "", msg);
}
