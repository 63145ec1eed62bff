// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The control socket server (control protocol v1, libxc/include/domus/control.h): framing,
 * per-client buffers and fd passing, then one handler per request type.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <domus/control.h>

#include "config.h"
#include "console.h"
#include "control.h"
#include "job.h"
#include "log.h"
#include "migrate.h"
#include "pm.h"
#include "save.h"
#include "vcpu.h"
#include "virtio_balloon.h"
#include "virtio_blk.h"
#include "virtio_net.h"
#include "vm.h"

#define HDR_SIZE	sizeof(struct domus_ctl_hdr)
#define MAX_PAYLOAD	8192		/* the largest reply payload: GET_INFO with 255 vCPUs */
#define MAX_MSG		256		/* reply and event text */
#define OUT_SOFT_LIMIT	(64u << 10)	/* queued output above this: stop reading requests */
#define OUT_HARD_LIMIT	(1u << 20)	/* ... above this (events nobody reads): drop the client */
#define READ_BUDGET	16		/* requests per client per poll round, for fairness */
#define CTL_DEFERRED	1		/* a handler's status: the job answers later */
#define JOB_SLOT	((struct ctl_client *)1)	/* slots[]: the job's done_fd */

/* One queued outgoing message; @fd (if any) goes with its first byte. */
struct ctl_out {
	struct ctl_out *next;
	size_t len, off;
	int fd;				/* owned until sent */
	uint8_t data[];
};

struct ctl_client {
	int fd;
	uint32_t events;		/* DOMUS_CTL_EVENTS_* subscribed to */
	bool closing;			/* stream error: send what is queued, then close */
	bool dead;			/* close at the end of this round */
	bool job_wait;			/* its SAVE/MIGRATE_SEND runs: read nothing more until
					 * the job's reply is queued (replies stay in order) */

	/* The message being received: read up to its end and never further. */
	struct domus_ctl_hdr hdr;
	uint8_t *body;
	size_t have;			/* bytes received, header included */
	int in_fds[DOMUS_CTL_MAX_FDS];
	unsigned int nr_in_fds;
	bool fds_lost;			/* more fds than we take, or MSG_CTRUNC */

	struct ctl_out *out_head, *out_tail;
	size_t out_bytes;
};

struct ctl_server {
	struct vm *vm;
	int listen_fds[CTL_MAX_LISTENERS];
	unsigned int nr_listen;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];	/* ours to unlink */
	bool paused;
	bool saved;			/* SAVE with STOP ended the machine */
	bool migrated;			/* MIGRATE_SEND ended it */
	struct job *job;		/* the running save or migration, or NULL */
	struct ctl_client *job_client;	/* who asked for it (NULL once gone) */
	uint32_t job_req_id;
	struct domus_ctl_job_info last_job; /* GET_JOB when no job runs */
	struct timespec started;
	struct ctl_client *clients[CTL_MAX_CLIENTS];
	/* What each pollfd of the current round is: a client, or NULL for a listener. */
	struct ctl_client *slots[CTL_MAX_POLLFDS];
};

/* A reply in the making: handlers fill payload, msg, fd and event. */
struct ctl_reply {
	uint8_t payload[MAX_PAYLOAD];
	size_t len;
	char msg[MAX_MSG];
	int fd;				/* passed with the reply, then closed */
	uint32_t event;			/* a reason to broadcast as a state event after the reply */
};

struct ctl_handler {
	int (*fn)(struct ctl_server *ctl, struct ctl_client *c, const uint8_t *body, size_t len,
		  struct ctl_reply *r);
	uint32_t min_len, max_len;	/* accepted body sizes */
	unsigned int nr_fds;		/* descriptors the request must carry (in c->in_fds) */
};

static void __attribute__((format(printf, 2, 3)))
set_msg(struct ctl_reply *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->msg, sizeof(r->msg), fmt, ap);
	va_end(ap);
}

static uint64_t ns_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (uint64_t)(now.tv_sec - t0->tv_sec) * 1000000000ULL + now.tv_nsec - t0->tv_nsec;
}

/* ---- output ---- */

static struct ctl_out *out_new(uint16_t type, uint32_t id, size_t body_len)
{
	struct ctl_out *o = malloc(sizeof(*o) + HDR_SIZE + body_len);
	struct domus_ctl_hdr hdr = {
		.magic = DOMUS_CTL_MAGIC,
		.version = DOMUS_CTL_VERSION,
		.type = type,
		.id = id,
		.len = body_len,
	};

	if (!o)
		return NULL;
	memcpy(o->data, &hdr, HDR_SIZE);
	o->next = NULL;
	o->len = HDR_SIZE + body_len;
	o->off = 0;
	o->fd = -1;
	return o;
}

static void out_free(struct ctl_out *o)
{
	if (o->fd >= 0)
		close(o->fd);
	free(o);
}

static int send_one(struct ctl_client *c, struct ctl_out *o)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} cm = {};
	struct iovec iov = { o->data + o->off, o->len - o->off };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (o->off == 0 && o->fd >= 0) {
		struct cmsghdr *cmsg;

		mh.msg_control = cm.buf;
		mh.msg_controllen = sizeof(cm.buf);
		cmsg = CMSG_FIRSTHDR(&mh);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cmsg), &o->fd, sizeof(int));
	}
	do {
		n = sendmsg(c->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (o->fd >= 0) {
		close(o->fd);		/* the peer has its own reference now */
		o->fd = -1;
	}
	o->off += n;
	c->out_bytes -= n;
	return 0;
}

/* Send as much as the socket takes now. A failure means the client is gone. */
static void client_flush(struct ctl_client *c)
{
	while (c->out_head && !c->dead) {
		struct ctl_out *o = c->out_head;
		int r = send_one(c, o);

		if (r == -EAGAIN)
			return;
		if (r < 0) {
			pr_debug("control: client fd %d: %s", c->fd, strerror(-r));
			c->dead = true;
			return;
		}
		if (o->off == o->len) {
			c->out_head = o->next;
			if (!c->out_head)
				c->out_tail = NULL;
			out_free(o);
		}
	}
}

static void client_queue(struct ctl_client *c, struct ctl_out *o)
{
	if (!o || c->out_bytes + o->len > OUT_HARD_LIMIT) {
		pr_warn("control: client fd %d %s, disconnecting it", c->fd,
			o ? "does not read what it is sent" : "needs memory we do not have");
		if (o)
			out_free(o);
		c->dead = true;
		return;
	}
	if (c->out_tail)
		c->out_tail->next = o;
	else
		c->out_head = o;
	c->out_tail = o;
	c->out_bytes += o->len;
	client_flush(c);
}

static void send_reply(struct ctl_client *c, uint16_t type, uint32_t id, int status,
		       struct ctl_reply *r)
{
	size_t msg_len = strnlen(r->msg, sizeof(r->msg) - 1);
	struct domus_ctl_reply rh = { .status = status, .msg_len = msg_len };
	struct ctl_out *o = out_new(type | DOMUS_CTL_REPLY, id, sizeof(rh) + r->len + msg_len);
	uint8_t *p;

	if (o) {
		p = o->data + HDR_SIZE;
		memcpy(p, &rh, sizeof(rh));
		memcpy(p + sizeof(rh), r->payload, r->len);
		memcpy(p + sizeof(rh) + r->len, r->msg, msg_len);
		o->fd = r->fd;
		r->fd = -1;
	}
	client_queue(c, o);
}

/* A reply with no payload, for errors of the stream itself. */
static void send_error(struct ctl_client *c, int status, const char *msg)
{
	struct ctl_reply r = { .fd = -1 };

	snprintf(r.msg, sizeof(r.msg), "%s", msg);
	send_reply(c, c->hdr.type, c->hdr.id, status, &r);
}

static void broadcast_state(struct ctl_server *ctl, uint32_t state, uint32_t reason,
			    int exit_status, const char *msg)
{
	size_t msg_len = strnlen(msg, MAX_MSG - 1);
	struct domus_ctl_event_state ev = {
		.state = state,
		.reason = reason,
		.exit_status = exit_status,
		.msg_len = msg_len,
	};

	for (unsigned int i = 0; i < CTL_MAX_CLIENTS; i++) {
		struct ctl_client *c = ctl->clients[i];
		struct ctl_out *o;

		if (!c || c->dead || !(c->events & DOMUS_CTL_EVENTS_STATE))
			continue;
		o = out_new(DOMUS_CTL_EVENT_STATE, 0, sizeof(ev) + msg_len);
		if (o) {
			memcpy(o->data + HDR_SIZE, &ev, sizeof(ev));
			memcpy(o->data + HDR_SIZE + sizeof(ev), msg, msg_len);
		}
		client_queue(c, o);
	}
}

/* ---- request handlers ---- */

/*
 * While a save or migration runs, requests that would change what it relies on (the
 * vCPUs' pause state, the machine itself, the balloon) are refused: say so and how to go on.
 */
static int refuse_during_job(struct ctl_server *ctl, struct ctl_reply *r, const char *what)
{
	if (!ctl->job)
		return 0;
	set_msg(r, "cannot %s while a %s runs: wait for it to finish or cancel it (ABORT_JOB)",
		what, ctl->job->kind == DOMUS_CTL_JOB_KIND_SAVE ? "save" : "migration");
	return -EBUSY;
}

static uint32_t features(struct ctl_server *ctl)
{
	enum console_kind kind = ctl->vm->console->kind;
	uint32_t f = 0;

	if (kind == CONSOLE_SOCKET || kind == CONSOLE_PTY)
		f |= DOMUS_CTL_FEAT_CONSOLE;
	if (ctl->vm->balloon)
		f |= DOMUS_CTL_FEAT_BALLOON;
	return f;
}

static int do_hello(struct ctl_server *ctl, struct ctl_client *c, const uint8_t *body,
		    size_t len, struct ctl_reply *r)
{
	struct domus_ctl_hello h = {
		.min_version = DOMUS_CTL_VERSION_MIN,
		.max_version = DOMUS_CTL_VERSION,
		.features = features(ctl),
		.pid = getpid(),
	};

	snprintf(h.vmm_version, sizeof(h.vmm_version), "%s", DOMUS_VERSION);
	memcpy(r->payload, &h, sizeof(h));
	r->len = sizeof(h);
	pr_debug("control: client fd %d is '%.*s'", c->fd, (int)len, (const char *)body);
	return 0;
}

/* A vCPU thread's host thread id; 0 before it started or once it has ended. */
/*
 * CPU time of one of our threads in nanoseconds: the first field of /proc/self/task/TID/
 * schedstat, else (a kernel without CONFIG_SCHED_INFO) utime + stime from its stat, fields
 * 14 and 15, in clock ticks of 10 ms: too coarse for a guest that mostly halts, which
 * would show no CPU time at all.
 */
static int thread_cpu_ns(pid_t tid, uint64_t *ret_ns)
{
	char path[64], buf[1024], *p;
	unsigned long long utime, stime;
	ssize_t n;
	int fd __close = -1;

	snprintf(path, sizeof(path), "/proc/self/task/%d/schedstat", tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && (n = read(fd, buf, sizeof(buf) - 1)) > 0) {
		buf[n] = '\0';
		if (sscanf(buf, "%llu", &utime) == 1) {
			*ret_ns = utime;
			return 0;
		}
	}
	if (fd >= 0)
		close(steal_fd(fd));
	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return n < 0 ? -errno : -EIO;
	buf[n] = '\0';
	p = strrchr(buf, ')');		/* the command name may contain spaces and parentheses */
	if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
			 &utime, &stime) != 2)
		return -EIO;
	*ret_ns = (utime + stime) * (1000000000ULL / sysconf(_SC_CLK_TCK));
	return 0;
}

static void fill_vcpu_info(struct vcpu *vcpu, struct domus_ctl_vcpu_info *vi)
{
	static const uint32_t states[] = {
		[VCPU_CREATED] = DOMUS_CTL_VCPU_CREATED,
		[VCPU_RUNNING] = DOMUS_CTL_VCPU_RUNNING,
		[VCPU_PAUSED] = DOMUS_CTL_VCPU_PAUSED,
		[VCPU_STOPPED] = DOMUS_CTL_VCPU_STOPPED,
	};
	pid_t tid = vcpu_tid(vcpu);

	*vi = (struct domus_ctl_vcpu_info){
		.id = vcpu->id,
		.state = states[vcpu_get_run_state(vcpu)],
	};
	if (tid > 0 && !thread_cpu_ns(tid, &vi->cpu_time_ns))
		vi->tid = tid;
}

static int do_get_info(struct ctl_server *ctl, struct ctl_client *c, const uint8_t *body,
		       size_t len, struct ctl_reply *r)
{
	struct vm *vm = ctl->vm;
	struct domus_ctl_info info = {
		.state = ctl->paused ? DOMUS_CTL_STATE_PAUSED : DOMUS_CTL_STATE_RUNNING,
		.nr_vcpus = vm->nr_vcpus,
		.mem_bytes = vm->mem_size,
		.mem_target_bytes = vm->mem_size,
		.mem_actual_bytes = vm->mem_size,
		.uptime_ns = ns_since(&ctl->started),
		.pid = getpid(),
		.features = features(ctl),
	};
	struct domus_ctl_vcpu_info *vi = (void *)(r->payload + sizeof(info));

	_Static_assert(sizeof(info) + 255 * sizeof(*vi) <= MAX_PAYLOAD, "255 vCPUs fit");
	if (vm->balloon) {
		struct vballoon_stats st;

		vballoon_get_stats(vm->balloon, &st);
		info.mem_target_bytes = vm->mem_size - st.target_pages * 4096;
		info.mem_actual_bytes = vballoon_get_actual(vm->balloon);
	}
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		fill_vcpu_info(vm->vcpus[i], &vi[i]);
		info.cpu_time_ns += vi[i].cpu_time_ns;
	}
	memcpy(r->payload, &info, sizeof(info));
	r->len = sizeof(info) + vm->nr_vcpus * sizeof(*vi);
	return 0;
}

static int do_pause(struct ctl_server *ctl, struct ctl_client *c, const uint8_t *body,
		    size_t len, struct ctl_reply *r)
{
	int ret = refuse_during_job(ctl, r, "pause the domain");

	if (ret || ctl->paused)
		return ret;
	for (unsigned int i = 0; i < ctl->vm->nr_vcpus; i++)
		vcpu_pause(ctl->vm->vcpus[i]);
	ctl->paused = true;
	r->event = DOMUS_CTL_REASON_PAUSED;
	pr_info("paused by a control client");
	return 0;
}

static int do_unpause(struct ctl_server *ctl, struct ctl_client *c, const uint8_t *body,
		      size_t len, struct ctl_reply *r)
{
	int ret = refuse_during_job(ctl, r, "unpause the domain");

	if (ret || !ctl->paused)
		return ret;
	for (unsigned int i = 0; i < ctl->vm->nr_vcpus; i++)
		vcpu_resume(ctl->vm->vcpus[i]);
	ctl->paused = false;
	r->event = DOMUS_CTL_REASON_UNPAUSED;
	pr_info("unpaused by a control client");
	return 0;
}

static int do_shutdown(struct ctl_server *ctl, struct ctl_client *c, const uint8_t *body,
		       size_t len, struct ctl_reply *r)
{
	struct domus_ctl_shutdown req;
	int ret = refuse_during_job(ctl, r, "shut the domain down");

	if (ret)
		return ret;
	memcpy(&req, body, sizeof(req));
	if (req.mode != DOMUS_CTL_SHUTDOWN_POWER_BUTTON && req.mode != DOMUS_CTL_SHUTDOWN_REBOOT) {
		set_msg(r, "shutdown mode %u is not supported (0: ACPI power button, 1: reboot)",
			req.mode);
		return -EOPNOTSUPP;
	}
	if (req.mode == DOMUS_CTL_SHUTDOWN_REBOOT) {
		pthread_mutex_lock(&ctl->vm->exit_lock);
		ctl->vm->reboot_on_poweroff = true;
		pthread_mutex_unlock(&ctl->vm->exit_lock);
	}
	pr_info("control client: pressing the ACPI power button%s",
		req.mode == DOMUS_CTL_SHUTDOWN_REBOOT ? " (reboot)" : "");
	ret = pm_press_power_button(ctl->vm->pm);
	if (ret)
		set_msg(r, "cannot press the power button: %s", strerror(-ret));
	return ret;
}

/*
 * DESTROY during a job cancels it first (the main loop then joins it, ctl_stop_job()); a
 * migration that already handed the domain over completes, and the domain ends here as
 * migrated.
 */
static int do_destroy(struct ctl_server *ctl, struct ctl_client *c, const uint8_t *body,
		      size_t len, struct ctl_reply *r)
{
	if (ctl->job)
		job_cancel(ctl->job);
	vm_request_exit(ctl->vm, DOMUS_EXIT_STOPPED, "destroyed by a control client");
	return 0;
}

static int do_subscribe(struct ctl_server *ctl, struct ctl_client *c, const uint8_t *body,
			size_t len, struct ctl_reply *r)
{
	struct domus_ctl_subscribe req;

	memcpy(&req, body, sizeof(req));
	if (req.events & ~DOMUS_CTL_EVENTS_STATE) {
		set_msg(r, "unknown event bits %#x", req.events & ~DOMUS_CTL_EVENTS_STATE);
		return -EINVAL;
	}
	c->events = req.events;
	return 0;
}

/*
 * A new console client: for a socket console, one end of a socketpair becomes the connected
 * client (the newest client wins, as with connect()); for a pty, the slave opened again.
 * Other kinds have no second end to hand out.
 */
static int do_get_console(struct ctl_server *ctl, struct ctl_client *c, const uint8_t *body,
			  size_t len, struct ctl_reply *r)
{
	struct console *con = ctl->vm->console;
	int sv[2];

	if (con->kind == CONSOLE_PTY) {
		r->fd = open(con->path, O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (r->fd >= 0)
			return 0;
		set_msg(r, "cannot open the console pty %s: %m", con->path);
		return -errno;
	}
	if (con->kind != CONSOLE_SOCKET) {
		set_msg(r, "this console cannot be shared: start domus-vmm with --console "
			   "socket:PATH or pty");
		return -EOPNOTSUPP;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	fcntl(sv[0], F_SETFL, O_NONBLOCK);	/* console_write() drops output nobody reads */
	pthread_mutex_lock(&con->lock);
	if (con->conn_fd >= 0)
		close(con->conn_fd);
	con->conn_fd = con->out_fd = con->in_fd = sv[0];
	pthread_mutex_unlock(&con->lock);
	r->fd = sv[1];
	return 0;
}

static int do_set_memory_target(struct ctl_server *ctl, struct ctl_client *c,
				const uint8_t *body, size_t len, struct ctl_reply *r)
{
	struct domus_ctl_memory_target req;
	int ret = refuse_during_job(ctl, r, "change the memory target");

	if (ret)
		return ret;
	memcpy(&req, body, sizeof(req));
	if (!ctl->vm->balloon) {
		set_msg(r, "this domain has no balloon (domus-vmm --balloon)");
		return -EOPNOTSUPP;
	}
	ret = vballoon_set_target(ctl->vm->balloon, req.target_bytes);
	if (ret == -ERANGE)
		set_msg(r, "target %llu bytes is more than the guest's RAM",
			(unsigned long long)req.target_bytes);
	return ret;
}

static int do_reset(struct ctl_server *ctl, struct ctl_client *c, const uint8_t *body,
		    size_t len, struct ctl_reply *r)
{
	int ret = refuse_during_job(ctl, r, "reset the domain");

	if (ret)
		return ret;
	vm_request_exit(ctl->vm, DOMUS_EXIT_REBOOT, "reset by a control client");
	return 0;
}

static void fill_net_stats(struct vnet *net, struct domus_ctl_net_stats *ns)
{
	struct vnet_stats st;

	vnet_get_stats(net, &st);
	*ns = (struct domus_ctl_net_stats){
		.rx_packets = st.rx_packets, .rx_bytes = st.rx_bytes,
		.rx_dropped = st.rx_dropped, .rx_errors = st.rx_errors,
		.tx_packets = st.tx_packets, .tx_bytes = st.tx_bytes,
		.tx_dropped = st.tx_dropped, .tx_errors = st.tx_errors,
	};
	vnet_get_identity(net, ns->ifname, ns->mac);
}

static int do_get_stats(struct ctl_server *ctl, struct ctl_client *c, const uint8_t *body,
			size_t len, struct ctl_reply *r)
{
	struct vm *vm = ctl->vm;
	struct domus_ctl_stats *st = (void *)r->payload;
	struct domus_ctl_blk_stats *bs = (void *)(st + 1);
	struct domus_ctl_net_stats *ns = (void *)(bs + vm->nr_disks);

	_Static_assert(sizeof(*st) + VM_MAX_DISKS * sizeof(*bs) + VM_MAX_NICS * sizeof(*ns) <=
		       MAX_PAYLOAD, "every device's statistics fit");
	*st = (struct domus_ctl_stats){ .nr_disks = vm->nr_disks, .nr_nics = vm->nr_nets };
	if (vm->balloon) {
		struct vballoon_stats b;

		vballoon_get_stats(vm->balloon, &b);
		for (unsigned int t = 0; t < DOMUS_CTL_BALLOON_STATS && t < VBALLOON_STAT_NR; t++)
			st->balloon[t] = b.val[t];
		st->balloon_valid = b.valid & ((1u << DOMUS_CTL_BALLOON_STATS) - 1);
		if (b.updated_ns) {
			struct timespec now;

			clock_gettime(CLOCK_MONOTONIC, &now);
			st->balloon_updated_ns = now.tv_sec * 1000000000ull + now.tv_nsec -
						 b.updated_ns;
		}
	}
	for (unsigned int i = 0; i < vm->nr_disks; i++) {
		struct vblk_stats b;

		vblk_get_stats(vm->disks[i], &b);
		bs[i] = (struct domus_ctl_blk_stats){
			.reads = b.reads, .writes = b.writes, .read_bytes = b.read_bytes,
			.write_bytes = b.write_bytes, .flushes = b.flushes, .discards = b.discards,
			.write_zeroes = b.write_zeroes, .errors = b.errors,
		};
	}
	for (unsigned int i = 0; i < vm->nr_nets; i++)
		fill_net_stats(vm->nets[i], &ns[i]);
	r->len = (uint8_t *)(ns + vm->nr_nets) - r->payload;
	return 0;
}

/* ---- save/restore and migration (types 32-47): jobs ---- */

/* The descriptor a SAVE or MIGRATE_SEND brought must take the stream. */
static int check_stream_fd(int fd, struct ctl_reply *r, const char *what)
{
	int acc = fcntl(fd, F_GETFL);

	if (acc >= 0 && (acc & O_ACCMODE) != O_RDONLY)
		return 0;
	set_msg(r, "the descriptor for the %s is not open for writing", what);
	return -EBADF;
}

/*
 * Start @j on its thread; the reply waits for the job's end (finish_job()), and the client
 * is not read meanwhile so that its later requests are answered after it, in order.
 */
static int start_job(struct ctl_server *ctl, struct ctl_client *c, struct job *j,
		     struct ctl_reply *r)
{
	int ret;

	j->vm = ctl->vm;
	j->was_paused = ctl->paused;
	j->sh.fd = c->in_fds[0];
	ret = job_start(j);
	if (ret) {
		free(j);
		set_msg(r, "cannot start the job's thread: %s", strerror(-ret));
		return ret;
	}
	c->nr_in_fds = 0;		/* the descriptor is the job's now */
	ctl->job = j;
	ctl->job_client = c;
	ctl->job_req_id = c->hdr.id;
	c->job_wait = true;
	return CTL_DEFERRED;
}

static int refuse_second_job(struct ctl_server *ctl, struct ctl_reply *r)
{
	if (!ctl->job)
		return 0;
	set_msg(r, "a %s is already running (GET_JOB shows it; ABORT_JOB cancels it)",
		ctl->job->kind == DOMUS_CTL_JOB_KIND_SAVE ? "save" : "migration");
	return -EBUSY;
}

/* SAVE: pause, write the stream to the client's descriptor, then end (STOP) or go on. */
static int do_save(struct ctl_server *ctl, struct ctl_client *c, const uint8_t *body,
		   size_t len, struct ctl_reply *r)
{
	struct domus_ctl_save req;
	struct job *j;
	int ret = refuse_second_job(ctl, r);

	if (ret)
		return ret;
	memcpy(&req, body, sizeof(req));
	if (req.flags & ~DOMUS_CTL_SAVE_STOP) {
		set_msg(r, "unknown save flags %#x", req.flags & ~DOMUS_CTL_SAVE_STOP);
		return -EINVAL;
	}
	ret = check_stream_fd(c->in_fds[0], r, "saved state");
	if (ret)
		return ret;
	j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	j->kind = DOMUS_CTL_JOB_KIND_SAVE;
	j->save_flags = req.flags;
	return start_job(ctl, c, j, r);
}

/* MIGRATE_SEND: the guest goes to the peer of the descriptor; ends here once it is there. */
static int do_migrate_send(struct ctl_server *ctl, struct ctl_client *c, const uint8_t *body,
			   size_t len, struct ctl_reply *r)
{
	struct domus_ctl_migrate req;
	struct job *j;
	int ret = refuse_second_job(ctl, r);

	if (ret)
		return ret;
	memcpy(&req, body, sizeof(req));
	if (req.flags & ~DOMUS_CTL_MIGRATE_AUTO_CONVERGE) {
		set_msg(r, "unknown migration flags %#x",
			req.flags & ~DOMUS_CTL_MIGRATE_AUTO_CONVERGE);
		return -EINVAL;
	}
	ret = check_stream_fd(c->in_fds[0], r, "migration");
	if (ret)
		return ret;
	j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	j->kind = DOMUS_CTL_JOB_KIND_MIGRATE;
	j->auto_converge = req.flags & DOMUS_CTL_MIGRATE_AUTO_CONVERGE;
	j->sh.max_downtime_ms = req.max_downtime_ms ? : MIGRATE_DEFAULT_DOWNTIME_MS;
	j->sh.bandwidth = req.bandwidth;
	pr_info("migrating (max downtime %u ms, bandwidth %s)", j->sh.max_downtime_ms,
		req.bandwidth ? "limited" : "unlimited");
	return start_job(ctl, c, j, r);
}

static int do_get_job(struct ctl_server *ctl, struct ctl_client *c, const uint8_t *body,
		      size_t len, struct ctl_reply *r)
{
	struct domus_ctl_job_info info = ctl->last_job;

	if (ctl->job)
		job_progress(ctl->job, &info);
	memcpy(r->payload, &info, sizeof(info));
	r->len = sizeof(info);
	return 0;
}

static int do_abort_job(struct ctl_server *ctl, struct ctl_client *c, const uint8_t *body,
			size_t len, struct ctl_reply *r)
{
	int ret;

	if (!ctl->job) {
		set_msg(r, "no save or migration is running");
		return -ENOENT;
	}
	ret = job_cancel(ctl->job);
	if (ret == -EALREADY)
		set_msg(r, "too late to cancel: the destination has been told to run the domain");
	else
		pr_info("%s cancelled by a control client", ctl->job->kind ==
			DOMUS_CTL_JOB_KIND_SAVE ? "save" : "migration");
	return ret;
}

static int do_migrate_set(struct ctl_server *ctl, struct ctl_client *c, const uint8_t *body,
			  size_t len, struct ctl_reply *r)
{
	const uint32_t known = DOMUS_CTL_MIGRATE_SET_DOWNTIME | DOMUS_CTL_MIGRATE_SET_BANDWIDTH;
	struct domus_ctl_migrate_set req;

	memcpy(&req, body, sizeof(req));
	if (!req.flags || (req.flags & ~known)) {
		set_msg(r, "migration settings flags %#x: expected bit 0 (max downtime) and/or "
			"bit 1 (bandwidth)", req.flags);
		return -EINVAL;
	}
	if ((req.flags & DOMUS_CTL_MIGRATE_SET_DOWNTIME) && !req.max_downtime_ms) {
		set_msg(r, "the maximum downtime must be at least 1 ms");
		return -EINVAL;
	}
	if (!ctl->job || ctl->job->kind != DOMUS_CTL_JOB_KIND_MIGRATE) {
		set_msg(r, "no migration is running");
		return -ENOENT;
	}
	if (req.flags & DOMUS_CTL_MIGRATE_SET_DOWNTIME)
		JOB_SET(&ctl->job->sh, max_downtime_ms, req.max_downtime_ms);
	if (req.flags & DOMUS_CTL_MIGRATE_SET_BANDWIDTH)
		JOB_SET(&ctl->job->sh, bandwidth, req.bandwidth);
	pr_info("migration settings changed: max downtime %u ms, bandwidth %llu B/s",
		JOB_GET(&ctl->job->sh, max_downtime_ms),
		(unsigned long long)JOB_GET(&ctl->job->sh, bandwidth));
	return 0;
}

/* A finished save: its reply, and the end of the machine if it was saved with STOP. */
static int save_done(struct ctl_server *ctl, struct job *j, struct ctl_reply *r)
{
	struct domus_ctl_save_result res = {
		.bytes = j->save.bytes, .pages = j->save.pages, .write_ns = j->save.ns,
		.paused_ns = j->paused_ns,
	};

	if (j->status) {
		pr_warn("save failed: %s", j->err);
		return j->status;
	}
	pr_info("saved %llu MiB (%llu non-zero pages) in %llu ms",
		(unsigned long long)(j->save.bytes >> 20), (unsigned long long)j->save.pages,
		(unsigned long long)(j->save.ns / 1000000));
	if (j->save_flags & DOMUS_CTL_SAVE_STOP) {
		ctl->saved = true;
		vm_request_exit(ctl->vm, DOMUS_EXIT_STOPPED, "saved (%llu MiB in %llu ms); "
				"the domain ends", (unsigned long long)(j->save.bytes >> 20),
				(unsigned long long)(j->save.ns / 1000000));
	}
	memcpy(r->payload, &res, sizeof(res));
	r->len = sizeof(res);
	return 0;
}

static int migrate_done(struct ctl_server *ctl, struct job *j, struct ctl_reply *r)
{
	const struct migrate_stats *st = &j->mig;
	struct domus_ctl_migrate_result res = {
		.bytes = st->bytes, .pages = st->pages, .total_ns = st->total_ns,
		.downtime_ns = st->downtime_ns, .rounds = st->rounds,
		.final_pages = st->final_pages, .throttle = st->throttle,
	};

	if (j->status) {
		pr_warn("migration failed, the domain runs on here: %s", j->err);
		return j->status;
	}
	ctl->migrated = true;
	vm_request_exit(ctl->vm, DOMUS_EXIT_STOPPED, "migrated (%llu MiB in %u rounds, "
			"%llu ms; downtime %llu ms; throttle %u%%); the domain ends here",
			(unsigned long long)(st->bytes >> 20), st->rounds,
			(unsigned long long)(st->total_ns / 1000000),
			(unsigned long long)(st->downtime_ns / 1000000), st->throttle);
	memcpy(r->payload, &res, sizeof(res));
	r->len = sizeof(res);
	return 0;
}

/* The job's thread is done (or about to be, after a cancel): join it and answer. */
static void finish_job(struct ctl_server *ctl)
{
	struct job *j = ctl->job;
	struct ctl_client *c = ctl->job_client;
	struct ctl_reply r = { .fd = -1 };
	int status;

	job_finish(j);
	status = j->kind == DOMUS_CTL_JOB_KIND_SAVE ? save_done(ctl, j, &r) :
		 migrate_done(ctl, j, &r);
	if (status) {
		r.len = 0;
		set_msg(&r, "%s", j->err[0] ? j->err : strerror(-status));
	}
	job_progress(j, &ctl->last_job);
	ctl->last_job.status = status;
	snprintf(ctl->last_job.error, sizeof(ctl->last_job.error), "%.127s", status ? r.msg : "");
	if (c) {
		send_reply(c, j->kind == DOMUS_CTL_JOB_KIND_SAVE ? DOMUS_CTL_SAVE :
			   DOMUS_CTL_MIGRATE_SEND, ctl->job_req_id, status, &r);
		c->job_wait = false;
	}
	ctl->job = NULL;
	ctl->job_client = NULL;
	free(j);
}

void ctl_stop_job(struct ctl_server *ctl)
{
	if (!ctl || !ctl->job)
		return;
	job_cancel(ctl->job);
	finish_job(ctl);
}

void ctl_set_paused(struct ctl_server *ctl)
{
	if (ctl)
		ctl->paused = true;
}

static const struct ctl_handler handlers[] = {
	[DOMUS_CTL_HELLO] = { do_hello, 0, 64 },
	[DOMUS_CTL_GET_INFO] = { do_get_info, 0, 0 },
	[DOMUS_CTL_PAUSE] = { do_pause, 0, 0 },
	[DOMUS_CTL_UNPAUSE] = { do_unpause, 0, 0 },
	[DOMUS_CTL_SHUTDOWN] = { do_shutdown, 8, 8 },
	[DOMUS_CTL_DESTROY] = { do_destroy, 0, 0 },
	[DOMUS_CTL_SUBSCRIBE] = { do_subscribe, 8, 8 },
	[DOMUS_CTL_GET_CONSOLE] = { do_get_console, 0, 0 },
	[DOMUS_CTL_SET_MEMORY_TARGET] = { do_set_memory_target, 8, 8 },
	[DOMUS_CTL_RESET] = { do_reset, 0, 0 },
	[DOMUS_CTL_GET_STATS] = { do_get_stats, 0, 0 },
	[DOMUS_CTL_SAVE] = { do_save, 8, 8, 1 },
	[DOMUS_CTL_MIGRATE_SEND] = { do_migrate_send, 16, 16, 1 },
	[DOMUS_CTL_GET_JOB] = { do_get_job, 0, 0 },
	[DOMUS_CTL_ABORT_JOB] = { do_abort_job, 0, 0 },
	[DOMUS_CTL_MIGRATE_SET] = { do_migrate_set, 16, 16 },
};

/* Run one complete request and queue its reply (then the state event it caused, if any). */
static void dispatch(struct ctl_server *ctl, struct ctl_client *c)
{
	const struct ctl_handler *h = NULL;
	struct ctl_reply r = { .fd = -1 };
	uint32_t type = c->hdr.type, len = c->hdr.len;
	int status;

	if (type < ARRAY_SIZE(handlers) && handlers[type].fn)
		h = &handlers[type];
	if (!c->hdr.id) {
		set_msg(&r, "request id 0 is reserved for events");
		status = -EINVAL;
	} else if (!h) {
		set_msg(&r, "unknown request type %u", type);
		status = -EOPNOTSUPP;
	} else if (c->nr_in_fds != h->nr_fds || c->fds_lost) {
		set_msg(&r, "request type %u takes %u file descriptor(s), not %u%s", type,
			h->nr_fds, c->nr_in_fds, c->fds_lost ? " and more" : "");
		status = -EINVAL;
	} else if (len < h->min_len || len > h->max_len) {
		set_msg(&r, "request type %u: body of %u bytes, expected %u to %u", type, len,
			h->min_len, h->max_len);
		status = -EINVAL;
	} else {
		status = h->fn(ctl, c, c->body, len, &r);
	}
	if (status == CTL_DEFERRED)
		return;			/* finish_job() answers */
	if (status)
		r.len = 0;		/* payload only on success */
	if (status && !r.msg[0])
		set_msg(&r, "%s", strerror(-status));
	send_reply(c, type, c->hdr.id, status, &r);
	if (r.fd >= 0)
		close(r.fd);
	if (r.event)
		broadcast_state(ctl, ctl->paused ? DOMUS_CTL_STATE_PAUSED : DOMUS_CTL_STATE_RUNNING,
				r.event, -1, ctl->paused ? "paused" : "running");
}

/* ---- input ---- */

static void drop_in_fds(struct ctl_client *c)
{
	for (unsigned int i = 0; i < c->nr_in_fds; i++)
		close(c->in_fds[i]);
	c->nr_in_fds = 0;
	c->fds_lost = false;
}

static void take_fds(struct ctl_client *c, struct msghdr *mh)
{
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		size_t n;
		int *fds = (int *)CMSG_DATA(cm);

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			if (c->nr_in_fds < DOMUS_CTL_MAX_FDS) {
				c->in_fds[c->nr_in_fds++] = fds[i];
			} else {
				close(fds[i]);
				c->fds_lost = true;
			}
		}
	}
	if (mh->msg_flags & MSG_CTRUNC)
		c->fds_lost = true;
}

static ssize_t recv_some(struct ctl_client *c, void *buf, size_t want)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(DOMUS_CTL_MAX_FDS * sizeof(int))];
	} cm;
	struct iovec iov = { buf, want };
	struct msghdr mh = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = cm.buf,
		.msg_controllen = sizeof(cm.buf),
	};
	ssize_t n;

	do {
		n = recvmsg(c->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	take_fds(c, &mh);
	return n;
}

/*
 * The header is complete: refuse what cannot be framed or spoken. After one of these the
 * stream cannot be trusted to be in step, so the connection ends once the reply is out.
 */
static int check_header(struct ctl_client *c)
{
	const struct domus_ctl_hdr *h = &c->hdr;
	char msg[MAX_MSG];

	if (h->magic != DOMUS_CTL_MAGIC) {
		snprintf(msg, sizeof(msg), "bad magic %#x: not a Domus control message", h->magic);
		send_error(c, -EPROTO, msg);
	} else if (h->version < DOMUS_CTL_VERSION_MIN || h->version > DOMUS_CTL_VERSION) {
		struct domus_ctl_versions v = { DOMUS_CTL_VERSION_MIN, DOMUS_CTL_VERSION, 0 };
		struct ctl_reply r = { .len = sizeof(v), .fd = -1 };

		memcpy(r.payload, &v, sizeof(v));
		set_msg(&r, "protocol version %u is not supported; this VMM speaks %u to %u",
			h->version, DOMUS_CTL_VERSION_MIN, DOMUS_CTL_VERSION);
		send_reply(c, h->type, h->id, -EPROTONOSUPPORT, &r);
	} else if (h->len > DOMUS_CTL_MAX_BODY) {
		snprintf(msg, sizeof(msg), "body of %u bytes is over the limit of %u", h->len,
			 DOMUS_CTL_MAX_BODY);
		send_error(c, -EMSGSIZE, msg);
	} else {
		if (h->len && !(c->body = malloc(h->len))) {
			send_error(c, -ENOMEM, "out of memory");
			return -ENOMEM;
		}
		return 0;
	}
	pr_debug("control: client fd %d: stream error, closing", c->fd);
	return -EPROTO;
}

static void message_done(struct ctl_client *c)
{
	free(c->body);
	c->body = NULL;
	c->have = 0;
	drop_in_fds(c);
}

/*
 * Read the current message, never past its end, so that fds sent with the next message
 * (on its first byte) are not taken for this one's. Dispatch each complete message.
 */
static void client_read(struct ctl_server *ctl, struct ctl_client *c)
{
	for (int budget = READ_BUDGET; budget > 0 && !c->closing && !c->dead && !c->job_wait;) {
		bool in_hdr = c->have < HDR_SIZE;
		uint8_t *dst = in_hdr ? (uint8_t *)&c->hdr + c->have :
					c->body + (c->have - HDR_SIZE);
		size_t want = in_hdr ? HDR_SIZE - c->have : HDR_SIZE + c->hdr.len - c->have;
		ssize_t n = recv_some(c, dst, want);

		if (n == -EAGAIN)
			return;
		if (n <= 0) {
			if (n < 0 || c->have)
				pr_debug("control: client fd %d gone%s", c->fd,
					 c->have ? " in the middle of a message" : "");
			c->dead = true;
			return;
		}
		c->have += n;
		if (c->have == HDR_SIZE && check_header(c)) {
			c->closing = true;
			return;
		}
		if (c->have >= HDR_SIZE && c->have == HDR_SIZE + c->hdr.len) {
			dispatch(ctl, c);
			message_done(c);
			budget--;
			if (c->out_bytes > OUT_SOFT_LIMIT || c->job_wait)
				return;
		}
	}
}

/* ---- connections ---- */

static void client_free(struct ctl_client *c)
{
	while (c->out_head) {
		struct ctl_out *o = c->out_head;

		c->out_head = o->next;
		out_free(o);
	}
	message_done(c);
	close(c->fd);
	free(c);
}

/* Only our own user (or root) may control the domain, whoever holds the listening fd. */
static bool peer_allowed(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return false;
	return cred.uid == 0 || cred.uid == geteuid();
}

static void accept_clients(struct ctl_server *ctl, int listen_fd)
{
	for (;;) {
		int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		struct ctl_client *c;
		unsigned int i;

		if (fd < 0)
			return;		/* EAGAIN, or a connection that went away meanwhile */
		for (i = 0; i < CTL_MAX_CLIENTS && ctl->clients[i]; i++)
			;
		c = i < CTL_MAX_CLIENTS && peer_allowed(fd) ? calloc(1, sizeof(*c)) : NULL;
		if (!c) {
			pr_warn("control: refusing a connection (%s)", i == CTL_MAX_CLIENTS ?
				"too many clients" : "not our user, or out of memory");
			close(fd);
			continue;
		}
		c->fd = fd;
		ctl->clients[i] = c;
		pr_debug("control: client fd %d connected", fd);
	}
}

unsigned int ctl_poll_fill(struct ctl_server *ctl, struct pollfd *fds)
{
	unsigned int n = 0;

	if (!ctl)
		return 0;
	for (unsigned int i = 0; i < ctl->nr_listen; i++) {
		ctl->slots[n] = NULL;
		fds[n++] = (struct pollfd){ .fd = ctl->listen_fds[i], .events = POLLIN };
	}
	for (unsigned int i = 0; i < CTL_MAX_CLIENTS; i++) {
		struct ctl_client *c = ctl->clients[i];
		short events = 0;

		if (!c)
			continue;
		if (!c->closing && !c->job_wait && c->out_bytes <= OUT_SOFT_LIMIT)
			events |= POLLIN;
		if (c->out_head)
			events |= POLLOUT;
		ctl->slots[n] = c;
		fds[n++] = (struct pollfd){ .fd = c->fd, .events = events };
	}
	if (ctl->job) {
		ctl->slots[n] = JOB_SLOT;
		fds[n++] = (struct pollfd){ .fd = ctl->job->done_fd, .events = POLLIN };
	}
	return n;
}

static void reap_clients(struct ctl_server *ctl)
{
	for (unsigned int i = 0; i < CTL_MAX_CLIENTS; i++) {
		struct ctl_client *c = ctl->clients[i];

		if (c && (c->dead || (c->closing && !c->out_head))) {
			pr_debug("control: client fd %d disconnected", c->fd);
			if (ctl->job_client == c)
				ctl->job_client = NULL;	/* the job goes on; its reply is dropped */
			client_free(c);
			ctl->clients[i] = NULL;
		}
	}
}

void ctl_poll_dispatch(struct ctl_server *ctl, const struct pollfd *fds, unsigned int n)
{
	if (!ctl)
		return;
	/* Clients first: accepting may reuse the memory of a client closed in this round. */
	for (unsigned int i = 0; i < n; i++) {
		struct ctl_client *c = ctl->slots[i];

		if (c == JOB_SLOT) {
			if (fds[i].revents && ctl->job)
				finish_job(ctl);
			continue;
		}
		if (!c || !fds[i].revents || c->dead)
			continue;
		/* Waiting for its job's reply, it is not read: a hang-up ends it. */
		if (c->job_wait && (fds[i].revents & (POLLHUP | POLLERR))) {
			c->dead = true;
			continue;
		}
		if (fds[i].revents & POLLOUT)
			client_flush(c);
		if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) {
			if (c->closing)
				c->dead = true;	/* hung up before taking its error reply */
			else
				client_read(ctl, c);
		}
	}
	reap_clients(ctl);
	for (unsigned int i = 0; i < n; i++)
		if (!ctl->slots[i] && fds[i].revents)
			accept_clients(ctl, fds[i].fd);
}

/* ---- machine end ---- */

/* Wait (bounded) until every client took its queued output, or went away. */
static void flush_all(struct ctl_server *ctl, int timeout_ms)
{
	struct timespec t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd fds[CTL_MAX_CLIENTS];
		struct ctl_client *cs[CTL_MAX_CLIENTS];
		unsigned int n = 0;
		int left = timeout_ms - (int)(ns_since(&t0) / 1000000);

		for (unsigned int i = 0; i < CTL_MAX_CLIENTS; i++) {
			struct ctl_client *c = ctl->clients[i];

			if (c && !c->dead && c->out_head) {
				cs[n] = c;
				fds[n++] = (struct pollfd){ .fd = c->fd, .events = POLLOUT };
			}
		}
		if (!n || left <= 0 || poll(fds, n, left) < 0)
			return;
		for (unsigned int i = 0; i < n; i++)
			if (fds[i].revents)
				client_flush(cs[i]);
	}
}

void ctl_end_state(struct ctl_server *ctl, int status, uint32_t *state, uint32_t *reason)
{
	domus_ctl_exit_state(status, state, reason);
	if (ctl && ctl->saved && status == DOMUS_EXIT_STOPPED)
		*reason = DOMUS_CTL_REASON_SAVED;
	if (ctl && ctl->migrated && status == DOMUS_EXIT_STOPPED)
		*reason = DOMUS_CTL_REASON_MIGRATED;
}

void ctl_machine_ended(struct ctl_server *ctl, int status)
{
	uint32_t state, reason;
	char msg[MAX_MSG];
	struct vm *vm;

	if (!ctl)
		return;
	vm = ctl->vm;
	ctl_end_state(ctl, status, &state, &reason);
	pthread_mutex_lock(&vm->exit_lock);
	snprintf(msg, sizeof(msg), "%s", vm->exit_reason);
	pthread_mutex_unlock(&vm->exit_lock);
	broadcast_state(ctl, state, reason, status, msg);
	flush_all(ctl, 1000);
}

void ctl_machine_restarting(struct ctl_server *ctl)
{
	char msg[MAX_MSG];

	if (!ctl)
		return;
	pthread_mutex_lock(&ctl->vm->exit_lock);
	snprintf(msg, sizeof(msg), "%.200s; restarting", ctl->vm->exit_reason);
	pthread_mutex_unlock(&ctl->vm->exit_lock);
	broadcast_state(ctl, DOMUS_CTL_STATE_RUNNING, DOMUS_CTL_REASON_REBOOT, -1, msg);
	flush_all(ctl, 1000);
}

/* ---- set-up ---- */

/* An inherited fd must be a listening Unix stream socket: nothing else can carry fds. */
static int adopt_listener(int fd)
{
	int val, flags;
	socklen_t len = sizeof(val);

	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &val, &len) < 0)
		return errno == EBADF ? -EBADF : -ENOTSOCK;
	if (val != AF_UNIX)
		return -EAFNOSUPPORT;
	len = sizeof(val);
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &val, &len) < 0 || !val)
		return -EINVAL;
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		return -errno;
	return 0;
}

/* Someone else's live socket must not be taken over; a stale one (no listener) may. */
static int check_stale(const struct sockaddr_un *addr)
{
	struct stat st;
	int fd __close = -1;

	if (lstat(addr->sun_path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)addr, sizeof(*addr)) == 0)
		return -EADDRINUSE;
	if (errno != ECONNREFUSED)
		return -errno;
	unlink(addr->sun_path);
	return 0;
}

static int listen_path(struct ctl_server *ctl, const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd __close = -1;
	mode_t old_mask;
	int r;

	if (strlen(path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	strcpy(addr.sun_path, path);
	r = check_stale(&addr);
	if (r)
		return r;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/* Born 0600: chmod() after bind() would leave a window where others can connect. */
	old_mask = umask(0177);
	r = bind(fd, (struct sockaddr *)&addr, sizeof(addr));
	umask(old_mask);
	if (r < 0)
		return -errno;
	strcpy(ctl->path, path);
	if (listen(fd, 16) < 0)
		return -errno;
	ctl->listen_fds[ctl->nr_listen++] = steal_fd(fd);
	return 0;
}

int ctl_create(struct vm *vm, const struct ctl_config *cfg, struct ctl_server **ret)
{
	struct ctl_server *ctl;
	int r;

	*ret = NULL;
	if (!cfg->path && cfg->listen_fd < 0)
		return 0;
	ctl = calloc(1, sizeof(*ctl));
	if (!ctl)
		return -ENOMEM;
	ctl->vm = vm;
	clock_gettime(CLOCK_MONOTONIC, &ctl->started);
	if (cfg->listen_fd >= 0) {
		r = adopt_listener(cfg->listen_fd);
		if (r) {
			pr_err("--control-fd %d: not a listening Unix stream socket (%s)",
			       cfg->listen_fd, strerror(-r));
			ctl_free(ctl);
			return r;
		}
		ctl->listen_fds[ctl->nr_listen++] = cfg->listen_fd;
	}
	if (cfg->path) {
		r = listen_path(ctl, cfg->path);
		if (r) {
			pr_err("--control %s: cannot listen there: %s", cfg->path,
			       r == -EADDRINUSE ? "another process serves it" : strerror(-r));
			ctl_free(ctl);
			return r;
		}
		pr_info("control socket on %s", cfg->path);
	}
	*ret = ctl;
	return 0;
}

struct ctl_server *ctl_free(struct ctl_server *ctl)
{
	if (!ctl)
		return NULL;
	for (unsigned int i = 0; i < CTL_MAX_CLIENTS; i++)
		if (ctl->clients[i])
			client_free(ctl->clients[i]);
	for (unsigned int i = 0; i < ctl->nr_listen; i++)
		close(ctl->listen_fds[i]);
	if (ctl->path[0])
		unlink(ctl->path);
	free(ctl);
	return NULL;
}
