// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The client side of the control protocol (domus/control.h): framing with deadlines,
 * fds by SCM_RIGHTS, matching replies to requests and queueing the events in between.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

#include "xc_private.h"

/* One message off the wire. */
struct msg {
	struct domus_ctl_hdr hdr;
	uint8_t *body;
	int fds[DOMUS_CTL_MAX_FDS];
	unsigned int nr_fds;
};

static void msg_dispose(struct msg *m)
{
	for (unsigned int i = 0; i < m->nr_fds; i++)
		close(m->fds[i]);
	m->nr_fds = 0;
	free(m->body);
	m->body = NULL;
}

int64_t xc__now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t xc__deadline_after(int timeout_ms)
{
	return timeout_ms < 0 ? -1 : xc__now_ms() + timeout_ms;
}

/* Wait for @events on @fd until @deadline (-1: forever). Return: 0, -ETIMEDOUT, -errno. */
static int wait_fd(int fd, short events, int64_t deadline)
{
	for (;;) {
		int64_t left = deadline < 0 ? -1 : deadline - xc__now_ms();
		struct pollfd p = { .fd = fd, .events = events };
		int n;

		if (deadline >= 0 && left < 0)
			left = 0;
		n = poll(&p, 1, (int)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		return n ? 0 : -ETIMEDOUT;
	}
}

/*
 * After a non-blocking call on @fd returned @n: 1 to call again (interrupted, or @fd became
 * ready for @events before @deadline), 0 if it moved octets, -ETIMEDOUT or -errno.
 */
static int io_again(int fd, ssize_t n, short events, int64_t deadline)
{
	int r;

	if (n >= 0)
		return 0;
	if (errno == EINTR)
		return 1;
	if (errno != EAGAIN)
		return -errno;
	r = wait_fd(fd, events, deadline);
	return r ? r : 1;
}

static int send_all(int fd, const uint8_t *buf, size_t len, int64_t deadline)
{
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		int r = io_again(fd, n, POLLOUT, deadline);

		if (r < 0)
			return r;
		if (r)
			continue;
		buf += n;
		len -= n;
	}
	return 0;
}

/* The first octet of a message with @fd attached (SCM_RIGHTS), then send_all() the rest. */
static int send_with_fd(int fd, const uint8_t *buf, size_t len, int pass_fd, int64_t deadline)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} cm = {};
	struct iovec iov = { (void *)buf, 1 };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cm.buf, .msg_controllen = sizeof(cm.buf),
	};
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	ssize_t n;
	int r;

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
	do {
		n = sendmsg(fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
		r = io_again(fd, n, POLLOUT, deadline);
		if (r < 0)
			return r;
	} while (r);
	if (n != 1)
		return -EIO;	/* a stream socket sends a lone octet or fails */
	return send_all(fd, buf + 1, len - 1, deadline);
}

static void take_fds(struct msg *m, struct msghdr *mh)
{
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		int *fds = (int *)CMSG_DATA(cm);
		size_t n;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			if (m->nr_fds < DOMUS_CTL_MAX_FDS)
				m->fds[m->nr_fds++] = fds[i];
			else
				close(fds[i]);
		}
	}
}

/*
 * Read exactly @want bytes of @m, and never more: fds travel on a message's first byte.
 * Return: 0, -ECONNRESET at end of stream, -ETIMEDOUT, -errno.
 */
static int recv_exact(int fd, struct msg *m, uint8_t *buf, size_t want, int64_t deadline)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(DOMUS_CTL_MAX_FDS * sizeof(int))];
	} cm;

	while (want) {
		struct iovec iov = { buf, want };
		struct msghdr mh = {
			.msg_iov = &iov,
			.msg_iovlen = 1,
			.msg_control = cm.buf,
			.msg_controllen = sizeof(cm.buf),
		};
		ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		int r = io_again(fd, n, POLLIN, deadline);

		if (r < 0)
			return r;
		if (r)
			continue;
		if (n == 0)
			return -ECONNRESET;
		take_fds(m, &mh);
		buf += n;
		want -= n;
	}
	return 0;
}

/* After a failure in the middle of a message the stream is out of step: drop it. */
static void connection_lost(xc_domain *dom, int err)
{
	if (dom->fd >= 0)
		close(dom->fd);
	dom->fd = -1;
	if (err == -ECONNRESET)
		dom->gone = true;
}

/* Receive one whole message. -ETIMEDOUT before its first byte leaves the connection usable. */
static int recv_msg(xc_interface *xch, xc_domain *dom, const char *what, int64_t deadline,
		    struct msg *m)
{
	int r;

	r = wait_fd(dom->fd, POLLIN, deadline);
	if (r == -ETIMEDOUT)
		return xc__error(xch, r, "%s: no answer from the VMM", what);
	if (!r)
		r = recv_exact(dom->fd, m, (uint8_t *)&m->hdr, sizeof(m->hdr), deadline);
	if (!r && (m->hdr.magic != DOMUS_CTL_MAGIC || m->hdr.len > DOMUS_CTL_MAX_BODY))
		r = -EPROTO;
	if (!r && m->hdr.len && !(m->body = malloc(m->hdr.len)))
		r = -ENOMEM;
	if (!r)
		r = recv_exact(dom->fd, m, m->body, m->hdr.len, deadline);
	if (!r)
		return 0;
	connection_lost(dom, r);
	msg_dispose(m);
	if (r == -ECONNRESET)
		return xc__error(xch, r, "%s: the VMM closed the connection", what);
	if (r == -EPROTO)
		return xc__error(xch, r, "%s: the VMM sent a malformed message", what);
	return xc__error(xch, r, "%s: %s", what, strerror(-r));
}

/* Queue @ev for xc_domain_wait_event(), dropping the oldest beyond the limit. */
static void push_event(xc_domain *dom, const xc_domain_event *ev)
{
	struct xc__event *e;

	if (dom->nr_events == XC_MAX_QUEUED_EVENTS) {
		e = dom->events;
		dom->events = e->next;
		dom->nr_events--;
		free(e);
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return;
	e->ev = *ev;
	if (dom->events)
		dom->events_tail->next = e;
	else
		dom->events = e;
	dom->events_tail = e;
	dom->nr_events++;
}

static void queue_event(xc_domain *dom, const struct msg *m)
{
	struct domus_ctl_event_state es;
	xc_domain_event ev = {};
	size_t text;

	if (m->hdr.type != DOMUS_CTL_EVENT_STATE || m->hdr.len < sizeof(es) || !dom->subscribed)
		return;		/* an event kind we do not know: ignore it */
	memcpy(&es, m->body, sizeof(es));
	if (es.exit_status >= 0)
		dom->ended = true;	/* the connection's end will be the VMM's end */
	text = m->hdr.len - sizeof(es) < es.msg_len ? m->hdr.len - sizeof(es) : es.msg_len;
	ev.state = es.state;
	ev.reason = es.reason;
	ev.exit_status = es.exit_status;
	if (text >= sizeof(ev.message))
		text = sizeof(ev.message) - 1;
	memcpy(ev.message, m->body + sizeof(es), text);
	push_event(dom, &ev);
}

void xc__queue_state(xc_domain *dom, unsigned int state, unsigned int reason, const char *msg)
{
	xc_domain_event ev = { .state = state, .reason = reason, .exit_status = -1 };

	if (dom->events && dom->events_tail->ev.state == state)
		return;		/* already said */
	snprintf(ev.message, sizeof(ev.message), "%s", msg);
	push_event(dom, &ev);
}

static int parse_reply(struct msg *m, struct xc__reply *r)
{
	struct domus_ctl_reply rh;
	size_t text;

	if (m->hdr.len < sizeof(rh))
		return -EPROTO;
	memcpy(&rh, m->body, sizeof(rh));
	if (rh.msg_len > m->hdr.len - sizeof(rh))
		return -EPROTO;
	/* "0 or -errno": anything else would pass for success or a count with callers. */
	if (rh.status > 0 || rh.status < -4095)
		return -EPROTO;
	r->status = rh.status;
	r->payload = m->body + sizeof(rh);
	r->payload_len = m->hdr.len - sizeof(rh) - rh.msg_len;
	text = rh.msg_len < sizeof(r->msg) ? rh.msg_len : sizeof(r->msg) - 1;
	memcpy(r->msg, r->payload + r->payload_len, text);
	r->msg[text] = '\0';
	if (m->nr_fds)
		r->fd = m->fds[--m->nr_fds];	/* one fd per reply; extras are closed */
	r->body = m->body;
	m->body = NULL;
	return 0;
}

void xc__reply_dispose(struct xc__reply *r)
{
	if (r->fd >= 0)
		close(r->fd);
	free(r->body);
	*r = (struct xc__reply){ .fd = -1 };
}

/*
 * The VMM closed the connection but its process lives on: it restarted the machine after a
 * reboot (it execs itself, and the listening socket survives), so connect again.
 */
static bool can_reconnect(const xc_domain *dom)
{
	return dom->gone && !dom->ended && !dom->destroyed && dom->control_path &&
	       xc__process_alive(dom->pid, dom->pid_start);
}

static int check_usable(xc_interface *xch, xc_domain *dom, const char *what)
{
	if (dom->fd >= 0)
		return 0;
	if (dom->pending)
		return xc__error(xch, -ENOTCONN, "%s: the domain is still arriving (incoming "
				 "migration): xc_domain_wait_running() first", what);
	if (can_reconnect(dom) && !xc__domain_connect_fd(xch, dom))
		return 0;
	return xc__error(xch, -ENOTCONN, "%s: %s", what, dom->gone ?
			 "the VMM closed the connection" : "the connection was lost earlier");
}

static int send_request(xc_interface *xch, xc_domain *dom, const char *what, uint16_t type,
			const void *body, size_t len, uint32_t id, int pass_fd, int64_t deadline)
{
	struct domus_ctl_hdr hdr = {
		.magic = DOMUS_CTL_MAGIC,
		.version = DOMUS_CTL_VERSION,
		.type = type,
		.id = id,
		.len = len,
	};
	uint8_t *buf __free = malloc(sizeof(hdr) + len);
	int r;

	if (!buf)
		return xc__error(xch, -ENOMEM, "%s: out of memory", what);
	memcpy(buf, &hdr, sizeof(hdr));
	if (len)
		memcpy(buf + sizeof(hdr), body, len);
	r = pass_fd >= 0 ? send_with_fd(dom->fd, buf, sizeof(hdr) + len, pass_fd, deadline) :
			   send_all(dom->fd, buf, sizeof(hdr) + len, deadline);
	if (!r)
		return 0;
	connection_lost(dom, r == -EPIPE ? -ECONNRESET : r);
	if (r == -EPIPE || r == -ECONNRESET)
		return xc__error(xch, -ECONNRESET, "%s: the VMM closed the connection", what);
	return xc__error(xch, r, "%s: cannot send the request: %s", what, strerror(-r));
}

static int call_once(xc_interface *xch, xc_domain *dom, const char *what, uint16_t type,
		     const void *body, size_t len, int pass_fd, int timeout_ms,
		     struct xc__reply *r)
{
	int64_t deadline = xc__deadline_after(timeout_ms);
	uint32_t id;
	int ret;

	*r = (struct xc__reply){ .fd = -1 };
	ret = check_usable(xch, dom, what);
	if (ret)
		return ret;
	id = dom->next_id++ ? : dom->next_id++;		/* 0 means "event" */
	ret = send_request(xch, dom, what, type, body, len, id, pass_fd, deadline);
	while (!ret) {
		struct msg m = {};

		ret = recv_msg(xch, dom, what, deadline, &m);
		if (ret)
			break;
		if (m.hdr.id == 0) {
			queue_event(dom, &m);
		} else if (m.hdr.id == id) {
			ret = parse_reply(&m, r);
			msg_dispose(&m);
			if (ret == -EPROTO)
				return xc__error(xch, ret, "%s: malformed reply", what);
			return 0;
		}
		msg_dispose(&m);	/* a reply to a request that timed out before */
	}
	return ret;
}

/* A request cut off by a restart is sent once more to the new VMM. */
int xc__call(xc_interface *xch, xc_domain *dom, const char *what, uint16_t type,
	     const void *body, size_t len, struct xc__reply *r)
{
	int ret = call_once(xch, dom, what, type, body, len, -1, xch->timeout_ms, r);

	if (ret == -ECONNRESET && can_reconnect(dom))
		ret = call_once(xch, dom, what, type, body, len, -1, xch->timeout_ms, r);
	return ret;
}

int xc__call_fd(xc_interface *xch, xc_domain *dom, const char *what, uint16_t type,
		const void *body, size_t len, int pass_fd, int timeout_ms, struct xc__reply *r)
{
	return call_once(xch, dom, what, type, body, len, pass_fd, timeout_ms, r);
}

int xc__reply_check(xc_interface *xch, const char *what, const struct xc__reply *r,
		    size_t min_payload)
{
	if (r->status)
		return xc__error(xch, r->status, "%s: %s", what,
				 r->msg[0] ? r->msg : strerror(-r->status));
	if (r->payload_len < min_payload)
		return xc__error(xch, -EPROTO, "%s: short reply (%zu octets, %zu wanted)", what,
				 r->payload_len, min_payload);
	return 0;
}

int xc__call_copy(xc_interface *xch, xc_domain *dom, const char *what, uint16_t type,
		  const void *body, size_t len, int pass_fd, void *out, size_t out_len)
{
	struct xc__reply r;
	int ret;

	ret = pass_fd < 0 ? xc__call(xch, dom, what, type, body, len, &r) :
			    xc__call_fd(xch, dom, what, type, body, len, pass_fd, -1, &r);
	if (ret)
		return ret;
	ret = xc__reply_check(xch, what, &r, out_len);
	if (!ret && out_len)
		memcpy(out, r.payload, out_len);
	xc__reply_dispose(&r);
	return ret;
}

int xc__poll_events(xc_interface *xch, xc_domain *dom, int timeout_ms)
{
	struct msg m = {};
	int r;

	r = check_usable(xch, dom, "wait for an event");
	if (r)
		return r == -ENOTCONN && dom->gone ? -ECONNRESET : r;
	r = recv_msg(xch, dom, "wait for an event", xc__deadline_after(timeout_ms), &m);
	if (r == -ECONNRESET && can_reconnect(dom))
		return check_usable(xch, dom, "wait for an event");
	if (r)
		return r;
	if (m.hdr.id == 0)
		queue_event(dom, &m);
	msg_dispose(&m);
	return 0;
}

int xc__connect(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd __close = -1;

	if (strlen(path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	strcpy(addr.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/* A Unix socket connects at once or fails; EAGAIN means a full backlog. */
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		return -errno;
	return steal_fd(fd);
}
