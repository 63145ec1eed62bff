// SPDX-License-Identifier: GPL-2.0-or-later
/* domus-dbusd: libvirt domains on D-Bus (org.libvirt.Connect / Domain / DomainSnapshot). */
#include <glib-unix.h>
#include <stdio.h>
#include <stdlib.h>
#include "dsvc.h"

#define RECONNECT_SECONDS 5

struct service {
	struct dsvc_config cfg;
	GMainLoop *loop;
	GDBusConnection *bus;
	int status;
};

static gboolean on_signal(gpointer data)
{
	struct service *s = data;

	g_main_loop_quit(s->loop);
	return G_SOURCE_CONTINUE;
}

static void open_all(struct service *s)
{
	for (guint i = 0; i < s->cfg.connects->len; i++)
		dsvc_connect_try_open(s->cfg.connects->pdata[i]);
}

/* Keeps every URI open so signals keep flowing after the libvirt daemon comes back. Its
 * own thread, because opening may block (a remote daemon, session autostart) and the
 * main loop must keep dispatching. */
static gpointer reconnect_thread(gpointer data)
{
	for (;;) {
		g_usleep(RECONNECT_SECONDS * G_USEC_PER_SEC);
		open_all(data);
	}
	return NULL;
}

static void on_bus_acquired(GDBusConnection *bus, const char *name, gpointer data)
{
	struct service *s = data;
	g_autoptr(GError) error = NULL;

	s->bus = bus;
	for (guint i = 0; i < s->cfg.connects->len; i++) {
		struct dsvc_connect *c = s->cfg.connects->pdata[i];

		if (dsvc_connect_register(c, bus, &error) < 0) {
			g_printerr("domus-dbusd: cannot register %s: %s\n", c->path,
				   error->message);
			s->status = EXIT_FAILURE;
			g_main_loop_quit(s->loop);
			return;
		}
	}
}

static void on_name_acquired(GDBusConnection *bus, const char *name, gpointer data)
{
	g_message("owning %s", name);
}

/* Like libvirt-dbus: without the name (or the bus) there is nothing to serve. */
static void on_name_lost(GDBusConnection *bus, const char *name, gpointer data)
{
	struct service *s = data;

	if (!bus)
		g_printerr("domus-dbusd: cannot connect to the %s bus\n",
			   s->cfg.bus_type == G_BUS_TYPE_SYSTEM ? "system" : "session");
	else
		g_printerr("domus-dbusd: cannot own bus name %s (taken, or not allowed by the "
			   "bus policy)\n", name);
	s->status = EXIT_FAILURE;
	g_main_loop_quit(s->loop);
}

/* libvirt's default handler prints every error to stderr, including the ones we return to
 * D-Bus callers as replies; the log should hold the service's own story only. */
static void quiet_libvirt_error(void *opaque, virErrorPtr err)
{
}

int main(int argc, char **argv)
{
	struct service s = { .status = EXIT_SUCCESS };
	g_autoptr(GError) error = NULL;
	guint owner;

	if (dsvc_config_load(&s.cfg, &argc, &argv, &error) < 0) {
		g_printerr("domus-dbusd: %s\n", error->message);
		return 2;
	}
	virSetErrorFunc(NULL, quiet_libvirt_error);
	if (virInitialize() < 0 || dsvc_dispatch_init(s.cfg.threads, &error) < 0) {
		g_printerr("domus-dbusd: cannot initialise: %s\n",
			   error ? error->message : virGetLastErrorMessage());
		return EXIT_FAILURE;
	}
	dsvc_events_start();
	s.loop = g_main_loop_new(NULL, FALSE);
	/* Open the URIs before owning the name, so the first caller finds them ready. */
	open_all(&s);
	g_thread_unref(g_thread_new("reconnect", reconnect_thread, &s));
	g_unix_signal_add(SIGINT, on_signal, &s);
	g_unix_signal_add(SIGTERM, on_signal, &s);
	owner = g_bus_own_name(s.cfg.bus_type, s.cfg.bus_name, G_BUS_NAME_OWNER_FLAGS_NONE,
			       on_bus_acquired, on_name_acquired, on_name_lost, &s, NULL);
	g_main_loop_run(s.loop);
	g_bus_unown_name(owner);
	dsvc_dispatch_shutdown();
	dsvc_config_clear(&s.cfg);
	g_main_loop_unref(s.loop);
	return s.status;
}
