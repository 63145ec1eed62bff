/* SPDX-License-Identifier: GPL-2.0-or-later */
/* domus-notify: which libvirt lifecycle events become desktop notifications, and how. */
#ifndef NOTIFY_EVENTS_H
#define NOTIFY_EVENTS_H

#include <glib.h>

enum notify_urgency { NOTIFY_LOW = 0, NOTIFY_NORMAL = 1, NOTIFY_CRITICAL = 2 };

struct notify_text {
	const char *what;	/* "started": the summary is "<domain> <what>" */
	const char *body;	/* one sentence about the detail */
	const char *category;	/* x-domus.vm.<kind> */
	enum notify_urgency urgency;
};

/* The notification for a DomainEvent(event, detail), or NULL for events that are not
 * worth a desktop notification (defined, undefined, the guest beginning to shut down). */
const struct notify_text *notify_event_text(int event, int detail);

#endif
