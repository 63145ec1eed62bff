/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libxc internals: the handles and the wire layer under the xc_* calls (xc__ prefix). */
#ifndef DOMUS_XC_PRIVATE_H
#define DOMUS_XC_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <domus/cleanup.h>
#include <domus/control.h>
#include <domus/xc.h>

#define XC_DEFAULT_TIMEOUT_MS	30000
#define XC_MAX_QUEUED_EVENTS	256	/* events nobody waited for yet; older ones are dropped */

struct xc__event {
	struct xc__event *next;
	xc_domain_event ev;
};

struct xc_interface_core {
	int timeout_ms;
	char last_error[1024];
	struct xc_domain *domains;	/* open through this handle, to close with it */
};

struct xc_domain {
	struct xc_domain *next;		/* in xc_interface_core.domains */
	int fd;				/* the control connection; -1 once broken */
	bool gone;			/* the VMM closed the connection */
	uint32_t next_id;
	char *control_path;
	struct domus_ctl_hello hello;
	bool subscribed;
	struct xc__event *events, *events_tail;
	unsigned int nr_events;
};

/* A reply as received: @body owns the payload and the text. */
struct xc__reply {
	int status;
	const uint8_t *payload;
	size_t payload_len;
	char msg[256];
	int fd;				/* passed with the reply, or -1; owned */
	uint8_t *body;
};

void xc__reply_dispose(struct xc__reply *r);

/* Record a failure for xc_last_error() and return @err (a -errno value). */
int xc__error(xc_interface *xch, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Connect to @path; Return: a connected, close-on-exec, non-blocking socket or -errno. */
int xc__connect(const char *path);

/*
 * xc__call() - send one request and wait for its reply, queueing events that arrive
 * meanwhile. Return: 0 with @r filled (r->status says how the request went), or -errno
 * if no reply came (described in the handle's last error, prefixed with @what).
 */
int xc__call(xc_interface *xch, xc_domain *dom, const char *what, uint16_t type,
	     const void *body, size_t len, struct xc__reply *r);

/* Wait up to @timeout_ms for one message and queue it if it is an event. */
int xc__poll_events(xc_interface *xch, xc_domain *dom, int timeout_ms);

#endif
