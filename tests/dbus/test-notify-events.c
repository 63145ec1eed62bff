// SPDX-License-Identifier: GPL-2.0-or-later
/* domus-notify's event table: every libvirt lifecycle (event, detail) the agent can see,
 * including the ones test:///default cannot produce (migration, post-copy, failures). */
#include <libvirt/libvirt.h>
#include <string.h>
#include "notify-events.h"

static void expect(int event, int detail, const char *what, const char *category, int urgency)
{
	const struct notify_text *t = notify_event_text(event, detail);

	g_assert_nonnull(t);
	g_assert_cmpstr(t->what, ==, what);
	g_assert_cmpstr(t->category, ==, category);
	g_assert_cmpint(t->urgency, ==, urgency);
	g_assert_true(t->body && t->body[strlen(t->body) - 1] == '.');
}

static void test_table(void)
{
	expect(VIR_DOMAIN_EVENT_STARTED, VIR_DOMAIN_EVENT_STARTED_BOOTED, "started",
	       "x-domus.vm.started", NOTIFY_NORMAL);
	expect(VIR_DOMAIN_EVENT_STARTED, VIR_DOMAIN_EVENT_STARTED_MIGRATED, "migrated",
	       "x-domus.vm.migrated", NOTIFY_NORMAL);
	expect(VIR_DOMAIN_EVENT_STARTED, VIR_DOMAIN_EVENT_STARTED_RESTORED, "restored",
	       "x-domus.vm.restored", NOTIFY_NORMAL);
	expect(VIR_DOMAIN_EVENT_SUSPENDED, VIR_DOMAIN_EVENT_SUSPENDED_PAUSED, "paused",
	       "x-domus.vm.paused", NOTIFY_LOW);
	expect(VIR_DOMAIN_EVENT_SUSPENDED, VIR_DOMAIN_EVENT_SUSPENDED_IOERROR, "paused",
	       "x-domus.vm.paused", NOTIFY_CRITICAL);
	expect(VIR_DOMAIN_EVENT_SUSPENDED, VIR_DOMAIN_EVENT_SUSPENDED_POSTCOPY_FAILED, "paused",
	       "x-domus.vm.paused", NOTIFY_CRITICAL);
	expect(VIR_DOMAIN_EVENT_RESUMED, VIR_DOMAIN_EVENT_RESUMED_UNPAUSED, "resumed",
	       "x-domus.vm.resumed", NOTIFY_LOW);
	expect(VIR_DOMAIN_EVENT_RESUMED, VIR_DOMAIN_EVENT_RESUMED_MIGRATED, "migrated",
	       "x-domus.vm.migrated", NOTIFY_NORMAL);
	expect(VIR_DOMAIN_EVENT_STOPPED, VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN, "shut down",
	       "x-domus.vm.stopped", NOTIFY_NORMAL);
	expect(VIR_DOMAIN_EVENT_STOPPED, VIR_DOMAIN_EVENT_STOPPED_DESTROYED, "stopped",
	       "x-domus.vm.stopped", NOTIFY_NORMAL);
	expect(VIR_DOMAIN_EVENT_STOPPED, VIR_DOMAIN_EVENT_STOPPED_CRASHED, "crashed",
	       "x-domus.vm.crashed", NOTIFY_CRITICAL);
	expect(VIR_DOMAIN_EVENT_STOPPED, VIR_DOMAIN_EVENT_STOPPED_MIGRATED, "migrated",
	       "x-domus.vm.migrated", NOTIFY_NORMAL);
	expect(VIR_DOMAIN_EVENT_STOPPED, VIR_DOMAIN_EVENT_STOPPED_SAVED, "saved",
	       "x-domus.vm.saved", NOTIFY_NORMAL);
	expect(VIR_DOMAIN_EVENT_STOPPED, VIR_DOMAIN_EVENT_STOPPED_FAILED, "failed",
	       "x-domus.vm.crashed", NOTIFY_CRITICAL);
	expect(VIR_DOMAIN_EVENT_CRASHED, VIR_DOMAIN_EVENT_CRASHED_PANICKED, "crashed",
	       "x-domus.vm.crashed", NOTIFY_CRITICAL);
	expect(VIR_DOMAIN_EVENT_PMSUSPENDED, VIR_DOMAIN_EVENT_PMSUSPENDED_MEMORY, "suspended",
	       "x-domus.vm.paused", NOTIFY_LOW);
}

static void test_quiet_events(void)
{
	g_assert_null(notify_event_text(VIR_DOMAIN_EVENT_DEFINED, 0));
	g_assert_null(notify_event_text(VIR_DOMAIN_EVENT_UNDEFINED, 0));
	g_assert_null(notify_event_text(VIR_DOMAIN_EVENT_SHUTDOWN, 0));
	g_assert_null(notify_event_text(99, 0));
}

/* A detail added by a newer libvirt falls back to the event's generic text. */
static void test_unknown_detail(void)
{
	g_assert_cmpstr(notify_event_text(VIR_DOMAIN_EVENT_STOPPED, 1000)->what, ==, "shut down");
	g_assert_cmpstr(notify_event_text(VIR_DOMAIN_EVENT_STARTED, -1)->what, ==, "started");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/notify/table", test_table);
	g_test_add_func("/notify/quiet", test_quiet_events);
	g_test_add_func("/notify/unknown-detail", test_unknown_detail);
	return g_test_run();
}
