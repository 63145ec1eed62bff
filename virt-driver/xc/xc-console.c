// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Console sessions (virsh console): the guest's serial console (xc_domain_console_fd(),
 * the VMM's pty opened again) relayed by a thread of its own to one end of a socketpair
 * whose other end the daemon's stream layer carries to the client. The relay is what
 * lets the backend know whether a session is still open (a second one is refused without
 * VIR_DOMAIN_CONSOLE_FORCE) and end it (--force takes over; the domain stopping): shutting
 * our end down makes the stream send the client its end of data.
 */
#define G_LOG_DOMAIN "virtdomusd"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "xc-backend.h"

#define VIR_DOMAIN_CONSOLE_FORCE 1
#define VIR_DOMAIN_CONSOLE_SAFE 2

struct xconsole {
	struct xc_backend *xb;
	struct xdom *xd;	/* referenced */
	int guest;		/* the console (pty) */
	int peer;		/* our end of the socketpair */
};

/*
 * To the client's socket: blocking, so a slow client slows the relay (never the guest,
 * whose output the VMM drops once the pty is full); a kick's shutdown() ends the write.
 * To the guest's pty: non-blocking, and what does not fit is dropped, as on a serial line
 * without flow control, so a VMM that stops reading the pty cannot hold the relay (and
 * with it a kick or a --force takeover) forever.
 */
static bool write_all(int fd, const char *buf, ssize_t n, bool may_drop)
{
	while (n > 0) {
		ssize_t w = write(fd, buf, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN && may_drop)
			return true;
		if (w <= 0)
			return false;
		buf += w;
		n -= w;
	}
	return true;
}

static gpointer relay(gpointer data)
{
	struct xconsole *c = data;
	struct pollfd p[2] = { { c->guest, POLLIN, 0 }, { c->peer, POLLIN, 0 } };
	char buf[16384];

	for (;;) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[0].revents) {
			ssize_t n = read(c->guest, buf, sizeof(buf));

			if ((n < 0 && errno != EINTR && errno != EAGAIN) || n == 0 ||
			    (n > 0 && !write_all(c->peer, buf, n, false)))
				break;	/* the VMM closed the pty: it ended */
		}
		if (p[1].revents) {
			ssize_t n = read(c->peer, buf, sizeof(buf));

			if ((n < 0 && errno != EINTR && errno != EAGAIN) || n == 0 ||
			    (n > 0 && !write_all(c->guest, buf, n, true)))
				break;	/* the client finished, or we were kicked */
		}
	}
	g_mutex_lock(&c->xb->lock);
	if (c->xd->console == c)
		c->xd->console = NULL;
	g_mutex_unlock(&c->xb->lock);
	close(c->guest);
	close(c->peer);
	xdom_unref(c->xd);
	g_free(c);
	return NULL;
}

/* End the session of @xd, if any (the client sees the end of data). */
static void kick_locked(struct xdom *xd)
{
	if (xd->console) {
		shutdown(xd->console->peer, SHUT_RDWR);
		xd->console = NULL;
	}
}

void xb_console_kick(struct xc_backend *xb, struct xdom *xd)
{
	g_mutex_lock(&xb->lock);
	kick_locked(xd);
	g_mutex_unlock(&xb->lock);
}

int xb_open_console(struct domain_backend *b, const uint8_t *uuid, const char *dev,
		    unsigned int flags, int *fd, struct verr *err)
{
	struct xc_backend *xb = xb_of(b);
	g_autoptr(xdom) xd = NULL;
	struct xconsole *c;
	int sv[2], guest = -1, r;

	if (flags & ~(VIR_DOMAIN_CONSOLE_FORCE | VIR_DOMAIN_CONSOLE_SAFE))
		return verr_set(err, VERR_INVALID_ARG, VERR_FROM_DOMAIN,
				"unsupported flags (0x%x) in function virDomainOpenConsole", flags);
	if (!(xd = xb_find(xb, uuid, err)))
		return -1;
	g_mutex_lock(&xd->job);
	if (xb_need_active(xd, err) < 0 || xd->state == DOMAIN_CRASHED) {
		g_mutex_unlock(&xd->job);
		return err->code ? -1 : verr_set(err, VERR_OPERATION_INVALID, VERR_FROM_DOMAIN,
						 "domain has crashed");
	}
	if (dev && strcmp(dev, "serial0") && strcmp(dev, "console0")) {
		g_mutex_unlock(&xd->job);
		return verr_set(err, VERR_INTERNAL_ERROR, VERR_FROM_DOMAIN,
				"cannot find character device %s", dev);
	}
	g_mutex_lock(&xb->lock);
	if (xd->console && !(flags & VIR_DOMAIN_CONSOLE_FORCE)) {
		g_mutex_unlock(&xb->lock);
		g_mutex_unlock(&xd->job);
		return verr_set(err, VERR_OPERATION_FAILED, VERR_FROM_DOMAIN,
				"Active console session exists for this domain");
	}
	kick_locked(xd);
	g_mutex_unlock(&xb->lock);
	r = xc_domain_console_fd(xd->xch, xd->ctl, &guest);
	if (r < 0) {
		g_mutex_unlock(&xd->job);
		return r == -EOPNOTSUPP ?
		       verr_set(err, VERR_OPERATION_UNSUPPORTED, VERR_FROM_DOMAIN,
				"the domain has no pty console (<serial type='pty'/>)") :
		       verr_from_xc(err, xd->xch, r, "console");
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		close(guest);
		g_mutex_unlock(&xd->job);
		return verr_errno(err, errno, "console socketpair");
	}
	fcntl(guest, F_SETFL, fcntl(guest, F_GETFL) | O_NONBLOCK);
	c = g_new0(struct xconsole, 1);
	c->xb = xb;
	c->xd = xdom_ref(xd);
	c->guest = guest;
	c->peer = sv[0];
	g_mutex_lock(&xb->lock);
	xd->console = c;
	g_mutex_unlock(&xb->lock);
	g_thread_unref(g_thread_new("console", relay, c));
	g_mutex_unlock(&xd->job);
	*fd = sv[1];
	return 0;
}
