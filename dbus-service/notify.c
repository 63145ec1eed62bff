// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * domus-notify: the per-user agent that turns domus-dbusd's DomainEvent signals (system
 * bus, or the session bus in session mode) into org.freedesktop.Notifications.Notify calls
 * on the user's session bus.
 *
 * Single-threaded on the GLib main loop. Events of one domain are handled strictly in
 * order: each waits for the previous one's name lookup and Notify reply, so that a burst
 * (pause, resume, stop) replaces one notification (replaces_id) instead of stacking up.
 * The signal match names the service by its well-known name, which the bus resolves to
 * whoever owns it now, so a restarted service is followed without resubscribing; a
 * restarted notification server just gets fresh notifications.
 */
#include <glib-unix.h>
#include <string.h>
#include <gio/gio.h>
#include "notify-events.h"

#define DEFAULT_SERVICE "org.domus.libvirt"
#define NOTIFICATIONS "org.freedesktop.Notifications"
#define AGENT_NAME "org.domus.Notify"	/* one agent per session */
#define COALESCE_US (10 * G_USEC_PER_SEC)
#define CALL_TIMEOUT_MS 3000

struct agent {
	GBusType watch_type;
	char *service;
	GDBusConnection *watch_bus;	/* where domus-dbusd's signals are */
	GDBusConnection *session;	/* where the notification server is */
	GHashTable *domains;		/* domain object path -> struct domain */
	GMainLoop *loop;
	int status;
};

struct event {
	char *sender;
	int event, detail;
};

struct domain {
	struct agent *agent;
	char *path;
	char *name;		/* NULL until looked up */
	gboolean guessed;	/* name is the UUID: look it up again next time */
	GQueue pending;		/* struct event * */
	gboolean busy;		/* a lookup or Notify for this domain is in flight */
	guint32 notification;	/* the server's id of our last notification, or 0 */
	gint64 notified_at;
};

static void process(struct domain *d);

static void event_free(struct event *e)
{
	g_free(e->sender);
	g_free(e);
}

static void domain_free(struct domain *d)
{
	g_queue_clear_full(&d->pending, (GDestroyNotify)event_free);
	g_free(d->path);
	g_free(d->name);
	g_free(d);
}

/* Without the name (e.g. the user may not call the service: see docs/dbus.md) the UUID in
 * the object path still identifies the domain. */
static char *fallback_name(const char *path)
{
	const char *node = strrchr(path, '/');
	char *uuid = g_strdup(node && node[1] == '_' ? node + 2 : path);

	g_strdelimit(uuid, "_", '-');
	return uuid;
}

static void on_notified(GObject *src, GAsyncResult *res, gpointer data)
{
	struct domain *d = data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) ret = g_dbus_connection_call_finish(G_DBUS_CONNECTION(src), res,
								&error);

	if (ret) {
		g_variant_get(ret, "(u)", &d->notification);
		d->notified_at = g_get_monotonic_time();
	} else {
		g_warning("Notify for %s failed: %s", d->name, error->message);
		d->notification = 0;
	}
	d->busy = FALSE;
	process(d);
}

static void notify(struct domain *d, const struct notify_text *t)
{
	g_autofree char *summary = g_strdup_printf("%s %s", d->name, t->what);
	gboolean coalesce = d->notification &&
			    g_get_monotonic_time() - d->notified_at < COALESCE_US;
	GVariantBuilder hints;

	g_variant_builder_init(&hints, G_VARIANT_TYPE("a{sv}"));
	g_variant_builder_add(&hints, "{sv}", "urgency", g_variant_new_byte(t->urgency));
	g_variant_builder_add(&hints, "{sv}", "category", g_variant_new_string(t->category));
	g_variant_builder_add(&hints, "{sv}", "desktop-entry",
			      g_variant_new_string("domus-notify"));
	d->busy = TRUE;
	g_dbus_connection_call(d->agent->session, NOTIFICATIONS, "/org/freedesktop/Notifications",
			       NOTIFICATIONS, "Notify",
			       g_variant_new("(susssasa{sv}i)", "Domus",
					     coalesce ? d->notification : 0, "computer", summary,
					     t->body, NULL, &hints, -1),
			       G_VARIANT_TYPE("(u)"), G_DBUS_CALL_FLAGS_NONE, CALL_TIMEOUT_MS,
			       NULL, on_notified, d);
}

static void on_name(GObject *src, GAsyncResult *res, gpointer data)
{
	struct domain *d = data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) ret = g_dbus_connection_call_finish(G_DBUS_CONNECTION(src), res,
								&error);
	g_autoptr(GVariant) v = NULL;

	if (ret) {
		g_variant_get(ret, "(v)", &v);
		d->name = g_variant_dup_string(v, NULL);
	} else {
		g_debug("cannot get the name of %s: %s", d->path, error->message);
		d->name = fallback_name(d->path);
		d->guessed = TRUE;
	}
	d->busy = FALSE;
	process(d);
}

static void lookup_name(struct domain *d, const char *sender)
{
	d->busy = TRUE;
	g_dbus_connection_call(d->agent->watch_bus, sender, d->path,
			       "org.freedesktop.DBus.Properties", "Get",
			       g_variant_new("(ss)", "org.libvirt.Domain", "Name"),
			       G_VARIANT_TYPE("(v)"), G_DBUS_CALL_FLAGS_NONE, CALL_TIMEOUT_MS,
			       NULL, on_name, d);
}

/* Handles the domain's queued events in order until one has to wait for a reply. */
static void process(struct domain *d)
{
	while (!d->busy && !g_queue_is_empty(&d->pending)) {
		struct event *e = g_queue_peek_head(&d->pending);
		const struct notify_text *t = notify_event_text(e->event, e->detail);
		/* a definition (rename) or undefine makes the cached name stale */
		gboolean stale = e->event == 0 || e->event == 1;

		if (t && !d->name) {
			lookup_name(d, e->sender);
			return;
		}
		g_queue_pop_head(&d->pending);
		event_free(e);
		if (t)
			notify(d, t);
		if (stale || d->guessed) {	/* a guess is not kept: ask again next time */
			g_clear_pointer(&d->name, g_free);
			d->guessed = FALSE;
		}
	}
}

static void on_domain_event(GDBusConnection *bus, const char *sender, const char *path,
			    const char *iface, const char *member, GVariant *params,
			    gpointer data)
{
	struct agent *a = data;
	struct event *e;
	const char *dom_path;
	struct domain *d;

	if (!g_variant_is_of_type(params, G_VARIANT_TYPE("(oii)"))) {
		g_warning("ignoring DomainEvent with signature %s from %s",
			  g_variant_get_type_string(params), sender);
		return;
	}
	e = g_new0(struct event, 1);
	g_variant_get(params, "(&oii)", &dom_path, &e->event, &e->detail);
	e->sender = g_strdup(sender);
	d = g_hash_table_lookup(a->domains, dom_path);
	if (!d) {
		d = g_new0(struct domain, 1);
		d->agent = a;
		d->path = g_strdup(dom_path);
		g_queue_init(&d->pending);
		g_hash_table_insert(a->domains, d->path, d);
	}
	g_queue_push_tail(&d->pending, e);
	process(d);
}

static void on_service_appeared(GDBusConnection *bus, const char *name, const char *owner,
				gpointer data)
{
	g_message("%s is up (%s)", name, owner);
}

/* The next service may serve other URIs: forget names, keep nothing in flight. */
static void on_service_vanished(GDBusConnection *bus, const char *name, gpointer data)
{
	struct agent *a = data;
	GHashTableIter it;
	struct domain *d;

	g_message("%s is gone; waiting for it to come back", name);
	g_hash_table_iter_init(&it, a->domains);
	while (g_hash_table_iter_next(&it, NULL, (gpointer *)&d))
		if (!d->busy && g_queue_is_empty(&d->pending))
			g_hash_table_iter_remove(&it);
}

/* A new notification server does not know the old ids: stop replacing them. */
static void on_notifications_vanished(GDBusConnection *bus, const char *name, gpointer data)
{
	struct agent *a = data;
	GHashTableIter it;
	struct domain *d;

	g_hash_table_iter_init(&it, a->domains);
	while (g_hash_table_iter_next(&it, NULL, (gpointer *)&d))
		d->notification = 0;
}

static void on_closed(GDBusConnection *bus, gboolean remote, GError *error, gpointer data)
{
	struct agent *a = data;

	g_printerr("domus-notify: lost the %s bus: %s\n",
		   bus == a->session ? "session" : "watched",
		   error ? error->message : "closed");
	a->status = 1;
	g_main_loop_quit(a->loop);
}

static gboolean on_signal(gpointer data)
{
	g_main_loop_quit(((struct agent *)data)->loop);
	return G_SOURCE_CONTINUE;
}

static int parse_args(struct agent *a, int *argc, char ***argv, GError **error)
{
	gboolean sys = FALSE, ses = FALSE;
	char *name = NULL;
	const GOptionEntry entries[] = {
		{ "system", 0, 0, G_OPTION_ARG_NONE, &sys,
		  "Watch the service on the system bus (default)", NULL },
		{ "session", 0, 0, G_OPTION_ARG_NONE, &ses,
		  "Watch the service on the session bus (session mode)", NULL },
		{ "bus-name", 'n', 0, G_OPTION_ARG_STRING, &name,
		  "The service's bus name (default " DEFAULT_SERVICE ")", "NAME" },
		{ NULL }
	};
	g_autoptr(GOptionContext) ctx = g_option_context_new("- desktop notifications for "
							     "Domus virtual machines");

	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!g_option_context_parse(ctx, argc, argv, error))
		return -1;
	if ((sys && ses) || (name && (!g_dbus_is_name(name) || g_dbus_is_unique_name(name)))) {
		g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, sys && ses ?
			    "--system and --session exclude each other" :
			    "--bus-name: '%s' is not a well-known D-Bus name", name);
		return -1;
	}
	a->watch_type = ses ? G_BUS_TYPE_SESSION : G_BUS_TYPE_SYSTEM;
	a->service = name ? name : g_strdup(DEFAULT_SERVICE);
	return 0;
}

static GDBusConnection *open_bus(struct agent *a, GBusType type, GError **error)
{
	GDBusConnection *bus = g_bus_get_sync(type, NULL, error);

	if (bus) {
		g_dbus_connection_set_exit_on_close(bus, FALSE);
		g_signal_connect(bus, "closed", G_CALLBACK(on_closed), a);
	}
	return bus;
}

/* Autostart and the systemd user unit may both start us: only the first one stays. */
static int claim_session(struct agent *a, GError **error)
{
	g_autoptr(GVariant) ret = g_dbus_connection_call_sync(
		a->session, "org.freedesktop.DBus", "/org/freedesktop/DBus",
		"org.freedesktop.DBus", "RequestName",
		g_variant_new("(su)", AGENT_NAME, 4 /* DBUS_NAME_FLAG_DO_NOT_QUEUE */),
		G_VARIANT_TYPE("(u)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, error);
	guint r;

	if (!ret)
		return -1;
	g_variant_get(ret, "(u)", &r);
	return r == 1 /* PRIMARY_OWNER */ ? 0 : 1;
}

int main(int argc, char **argv)
{
	struct agent a = { 0 };
	g_autoptr(GError) error = NULL;

	if (parse_args(&a, &argc, &argv, &error) < 0) {
		g_printerr("domus-notify: %s\n", error->message);
		return 2;
	}
	a.session = open_bus(&a, G_BUS_TYPE_SESSION, &error);
	if (a.session)
		a.watch_bus = a.watch_type == G_BUS_TYPE_SESSION ? g_object_ref(a.session) :
								   open_bus(&a, a.watch_type, &error);
	if (!a.watch_bus) {
		g_printerr("domus-notify: %s\n", error->message);
		return 1;
	}
	switch (claim_session(&a, &error)) {
	case -1:
		g_printerr("domus-notify: %s\n", error->message);
		return 1;
	case 1:
		g_message("another domus-notify runs in this session; leaving it the job");
		return 0;
	}
	a.domains = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
					  (GDestroyNotify)domain_free);
	a.loop = g_main_loop_new(NULL, FALSE);
	g_dbus_connection_signal_subscribe(a.watch_bus, a.service, "org.libvirt.Connect",
					   "DomainEvent", NULL, NULL, G_DBUS_SIGNAL_FLAGS_NONE,
					   on_domain_event, &a, NULL);
	g_bus_watch_name_on_connection(a.watch_bus, a.service, G_BUS_NAME_WATCHER_FLAGS_NONE,
				       on_service_appeared, on_service_vanished, &a, NULL);
	g_bus_watch_name_on_connection(a.session, NOTIFICATIONS, G_BUS_NAME_WATCHER_FLAGS_NONE,
				       NULL, on_notifications_vanished, &a, NULL);
	g_unix_signal_add(SIGINT, on_signal, &a);
	g_unix_signal_add(SIGTERM, on_signal, &a);
	g_message("watching %s on the %s bus", a.service,
		  a.watch_type == G_BUS_TYPE_SYSTEM ? "system" : "session");
	g_main_loop_run(a.loop);
	return a.status;
}
