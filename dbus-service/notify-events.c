// SPDX-License-Identifier: GPL-2.0-or-later
/* libvirt lifecycle (event, detail) pairs -> notification texts. The numbers are libvirt's
 * virDomainEventType and its per-event detail enums, stable ABI. */
#include "notify-events.h"

enum { EV_STARTED = 2, EV_SUSPENDED = 3, EV_RESUMED = 4, EV_STOPPED = 5, EV_PMSUSPENDED = 7,
       EV_CRASHED = 8 };

#define N NOTIFY_NORMAL
#define L NOTIFY_LOW
#define C NOTIFY_CRITICAL

static const struct notify_text started[] = {
	{ "started", "The virtual machine booted.", "x-domus.vm.started", N },
	{ "migrated", "The virtual machine arrived on this host by live migration.",
	  "x-domus.vm.migrated", N },
	{ "restored", "The virtual machine was restored from a saved state.",
	  "x-domus.vm.restored", N },
	{ "started", "The virtual machine was started from a snapshot.", "x-domus.vm.started", N },
	{ "resumed", "The virtual machine woke up from suspend.", "x-domus.vm.resumed", L },
};

static const struct notify_text suspended[] = {
	{ "paused", "The virtual machine was paused.", "x-domus.vm.paused", L },
	{ "paused", "The virtual machine is paused for live migration.", "x-domus.vm.paused", L },
	{ "paused", "The virtual machine was paused after a disk I/O error.",
	  "x-domus.vm.paused", C },
	{ "paused", "The virtual machine was paused by its watchdog.", "x-domus.vm.paused", C },
	{ "paused", "The virtual machine was restored in the paused state.",
	  "x-domus.vm.restored", L },
	{ "paused", "The virtual machine was paused from a snapshot.", "x-domus.vm.paused", L },
	{ "paused", "The virtual machine was paused after a management error.",
	  "x-domus.vm.paused", C },
	{ "paused", "The virtual machine is paused in post-copy migration.", "x-domus.vm.paused", L },
	{ "paused", "Post-copy migration failed; the virtual machine is paused.",
	  "x-domus.vm.paused", C },
};

static const struct notify_text resumed[] = {
	{ "resumed", "The virtual machine is running again.", "x-domus.vm.resumed", L },
	{ "migrated", "The virtual machine finished migrating and is running.",
	  "x-domus.vm.migrated", N },
	{ "resumed", "The virtual machine resumed from a snapshot.", "x-domus.vm.resumed", L },
	{ "resumed", "The virtual machine resumed in post-copy migration.", "x-domus.vm.resumed", L },
};

static const struct notify_text stopped[] = {
	{ "shut down", "The guest shut itself down.", "x-domus.vm.stopped", N },
	{ "stopped", "The virtual machine was powered off.", "x-domus.vm.stopped", N },
	{ "crashed", "The virtual machine crashed.", "x-domus.vm.crashed", C },
	{ "migrated", "The virtual machine migrated to another host.", "x-domus.vm.migrated", N },
	{ "saved", "The virtual machine's state was saved and it stopped.", "x-domus.vm.saved", N },
	{ "failed", "The virtual machine failed and stopped.", "x-domus.vm.crashed", C },
	{ "stopped", "The virtual machine stopped to load a snapshot.", "x-domus.vm.stopped", L },
};

static const struct notify_text pmsuspended = {
	"suspended", "The guest suspended itself.", "x-domus.vm.paused", L
};

static const struct notify_text crashed = {
	"crashed", "The guest kernel crashed.", "x-domus.vm.crashed", C
};

/* A detail newer than this table still gets its event's generic text (index 0). */
#define PICK(table, d) (&(table)[(d) >= 0 && (gsize)(d) < G_N_ELEMENTS(table) ? (d) : 0])

const struct notify_text *notify_event_text(int event, int detail)
{
	switch (event) {
	case EV_STARTED: return PICK(started, detail);
	case EV_SUSPENDED: return PICK(suspended, detail);
	case EV_RESUMED: return PICK(resumed, detail);
	case EV_STOPPED: return PICK(stopped, detail);
	case EV_PMSUSPENDED: return &pmsuspended;
	case EV_CRASHED: return &crashed;
	default: return NULL;
	}
}
