// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * virtdomusd: the Domus node manager, speaking libvirt's RPC protocol to stock libvirt
 * clients on /run/libvirt/virtdomusd-sock (+ -sock-ro), or in session mode on
 * $XDG_RUNTIME_DIR/libvirt/virtdomusd-sock. See docs/virtdomusd.md.
 */
#define G_LOG_DOMAIN "virtdomusd"
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib-unix.h>
#include <glib/gstdio.h>

#include "config.h"
#include "daemon-config.h"
#include "virtd-paths.h"
#include "listen.h"
#include "backend-xc.h"
#include "remote/remote.h"
#include "conf/domain_store.h"
#include "storage/pool.h"

struct options {
	gboolean version, verbose, session, system, listen;
	char *config, *pidfile, *socket_dir, *backend;
	int timeout;
};

struct daemon {
	struct virtd d;
	struct daemon_config cfg;
	GMainLoop *loop;
	GSource *idle_timer;
	char *sock_rw, *sock_ro;	/* created by us: removed at exit */
	char *pidfile;
	int pidfd;
};

static bool parse_options(int *argc, char ***argv, struct options *o, GError **error)
{
	GOptionEntry entries[] = {
		{ "version", 'V', 0, G_OPTION_ARG_NONE, &o->version, "Print the version and exit", NULL },
		{ "verbose", 'v', 0, G_OPTION_ARG_NONE, &o->verbose, "Log debug messages too", NULL },
		{ "config", 'f', 0, G_OPTION_ARG_FILENAME, &o->config,
		  "Configuration file (default /etc/domus/virtdomusd.conf; session: "
		  "$XDG_CONFIG_HOME/domus/virtdomusd.conf)", "FILE" },
		{ "pidfile", 'p', 0, G_OPTION_ARG_FILENAME, &o->pidfile,
		  "Write the pid here (default /run/virtdomusd.pid; session: "
		  "$XDG_RUNTIME_DIR/libvirt/virtdomusd.pid)", "FILE" },
		{ "timeout", 't', 0, G_OPTION_ARG_INT, &o->timeout,
		  "Exit after SECS seconds with no clients and no running domains", "SECS" },
		{ "session", 0, 0, G_OPTION_ARG_NONE, &o->session,
		  "Serve domus:///session (the default for non-root users)", NULL },
		{ "system", 0, 0, G_OPTION_ARG_NONE, &o->system,
		  "Serve domus:///system (the default for root)", NULL },
		{ "socket-dir", 0, 0, G_OPTION_ARG_FILENAME, &o->socket_dir,
		  "Put the sockets in DIR instead of /run/libvirt or $XDG_RUNTIME_DIR/libvirt", "DIR" },
		{ "listen", 'l', 0, G_OPTION_ARG_NONE, &o->listen,
		  "Also serve TCP (listen_tcp = 1; needs auth_tcp = \"none\": trusted "
		  "migration networks only)", NULL },
		{ "backend", 0, 0, G_OPTION_ARG_STRING, &o->backend,
		  "xc (real domains, the default) or none (no domains: protocol tests)", "NAME" },
		{ NULL }
	};
	g_autoptr(GOptionContext) ctx = g_option_context_new(NULL);

	o->timeout = -1;
	g_option_context_set_summary(ctx,
		"The Domus node manager: serves libvirt clients (virsh, virt-manager, the libvirt\n"
		"bindings) the URI domus:///system, or domus:///session for a user.");
	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!g_option_context_parse(ctx, argc, argv, error))
		return false;
	if (*argc > 1) {
		g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
			    "unexpected argument '%s' (see --help)", (*argv)[1]);
		return false;
	}
	if (o->session && o->system) {
		g_set_error_literal(error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
				    "--session and --system exclude each other");
		return false;
	}
	if (o->timeout < -1 || o->timeout == 0) {
		g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
			    "--timeout must be a positive number of seconds, not %d", o->timeout);
		return false;
	}
	return true;
}

static char *session_dir(void)
{
	return g_build_filename(g_get_user_runtime_dir(), "libvirt", NULL);
}

static bool load_config(struct daemon *dm, const struct options *o, GError **error)
{
	g_autofree char *user_conf = g_build_filename(g_get_user_config_dir(), "domus",
						      "virtdomusd.conf", NULL);
	const char *path = o->config ? o->config :
			   dm->d.session ? user_conf : DOMUS_SYSCONFDIR "/domus/virtdomusd.conf";

	daemon_config_defaults(&dm->cfg);
	if (!daemon_config_load(&dm->cfg, path, o->config != NULL, error))
		return false;
	if (o->timeout > 0)
		dm->cfg.timeout = o->timeout;
	if (o->listen)
		dm->cfg.listen_tcp = 1;
	if (o->socket_dir) {
		g_free(dm->cfg.socket_dir);
		dm->cfg.socket_dir = g_strdup(o->socket_dir);
	}
	if (o->pidfile) {
		g_free(dm->cfg.pidfile);
		dm->cfg.pidfile = g_strdup(o->pidfile);
	}
	if (o->backend) {
		if (strcmp(o->backend, "xc") && strcmp(o->backend, "none")) {
			g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
				    "--backend %s: expected xc or none", o->backend);
			return false;
		}
		g_free(dm->cfg.backend);
		dm->cfg.backend = g_strdup(o->backend);
	}
	dm->d.cfg = dm->cfg.rpc;
	return true;
}

/* Sockets from systemd, or our own in the mode's directory. */
static bool setup_sockets(struct daemon *dm, GError **error)
{
	g_autofree char *dir = dm->cfg.socket_dir ? g_strdup(dm->cfg.socket_dir) :
			       dm->d.session ? session_dir() : g_strdup(DOMUS_RUNSTATEDIR "/libvirt");
	int rw, ro;

	if (listen_activated(&rw, &ro) > 0 && rw >= 0) {
		g_message("using sockets passed by systemd");
	} else {
		dm->sock_rw = g_build_filename(dir, "virtdomusd-sock", NULL);
		rw = listen_unix(dm->sock_rw, 0600, dm->d.session ? 0700 : 0755, error);
		if (rw < 0) {
			g_clear_pointer(&dm->sock_rw, g_free);
			return false;
		}
		/* No read-only socket in session mode (as libvirt's session daemons). */
		if (!dm->d.session) {
			dm->sock_ro = g_build_filename(dir, "virtdomusd-sock-ro", NULL);
			ro = listen_unix(dm->sock_ro, 0666, 0755, error);
			if (ro < 0) {
				g_clear_pointer(&dm->sock_ro, g_free);
				return false;
			}
		}
	}
	rpc_server_add_listener(dm->d.srv, rw, false, dm->sock_rw ? dm->sock_rw : "virtdomusd.socket");
	if (ro >= 0)
		rpc_server_add_listener(dm->d.srv, ro, true,
					dm->sock_ro ? dm->sock_ro : "virtdomusd-ro.socket");
	g_message("serving %s on %s%s%s", dm->d.uri, dm->sock_rw ? dm->sock_rw : "activated sockets",
		  dm->sock_ro ? " and " : "", dm->sock_ro ? dm->sock_ro : "");
	return true;
}

/*
 * The TCP listener (libvirtd's listen_tcp), for a peer daemon or a client driving a
 * migration. There is no authentication on it: like libvirtd, it is refused unless
 * auth_tcp = "none" says the network is trusted.
 */
static bool setup_tcp(struct daemon *dm, GError **error)
{
	int fds[4], n;

	if (!dm->cfg.listen_tcp)
		return true;
	if (strcmp(dm->cfg.auth_tcp, "none") != 0) {
		g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
			    "listen_tcp: auth_tcp = '%s' is not supported (no SASL); set auth_tcp "
			    "= \"none\" to serve plain TCP, on a trusted migration network only: "
			    "anyone who reaches the port controls every domain", dm->cfg.auth_tcp);
		return false;
	}
	if (dm->d.session) {
		g_set_error_literal(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
				    "listen_tcp is for the system daemon, not a session one");
		return false;
	}
	n = listen_tcp(dm->cfg.listen_addr, dm->cfg.tcp_port, fds, G_N_ELEMENTS(fds), error);
	if (n < 0)
		return false;
	for (int i = 0; i < n; i++)
		rpc_server_add_listener(dm->d.srv, fds[i], false, "tcp");
	g_warning("serving %s over plain TCP on %s port %u without authentication "
		  "(auth_tcp = none): for a trusted migration network only", dm->d.uri,
		  dm->cfg.listen_addr ? dm->cfg.listen_addr : "every address", dm->cfg.tcp_port);
	return true;
}

static gboolean on_quit_signal(gpointer data)
{
	struct daemon *dm = data;

	g_message("shutting down on a signal");
	g_main_loop_quit(dm->loop);
	return G_SOURCE_CONTINUE;
}

static gboolean on_hup(gpointer data)
{
	g_message("SIGHUP: nothing to reload yet (restart to apply configuration changes)");
	return G_SOURCE_CONTINUE;
}

static void idle_check(void *app);

static gboolean idle_expired(gpointer data)
{
	struct daemon *dm = data;

	g_clear_pointer(&dm->idle_timer, g_source_unref);
	if (rpc_server_nclients(dm->d.srv) == 0 &&
	    (!dm->d.backend->ops->count_active || dm->d.backend->ops->count_active(dm->d.backend) == 0)) {
		g_message("idle for %d s with no clients and no running domains: exiting",
			  dm->cfg.timeout);
		g_main_loop_quit(dm->loop);
	} else {
		idle_check(dm);		/* domains still run: look again later */
	}
	return G_SOURCE_REMOVE;
}

/* Arm the idle timer while nobody is connected (--timeout), disarm it otherwise. */
static void idle_check(void *app)
{
	struct daemon *dm = app;

	if (dm->cfg.timeout <= 0)
		return;
	if (rpc_server_nclients(dm->d.srv) > 0) {
		if (dm->idle_timer) {
			g_source_destroy(dm->idle_timer);
			g_clear_pointer(&dm->idle_timer, g_source_unref);
		}
		return;
	}
	if (dm->idle_timer)
		return;
	dm->idle_timer = g_timeout_source_new_seconds(dm->cfg.timeout);
	g_source_set_callback(dm->idle_timer, idle_expired, dm, NULL);
	g_source_attach(dm->idle_timer, dm->d.ctx);
}

static bool take_pidfile(struct daemon *dm, GError **error)
{
	dm->pidfile = dm->cfg.pidfile ? g_strdup(dm->cfg.pidfile) :
		      dm->d.session ? g_build_filename(g_get_user_runtime_dir(), "libvirt",
						       "virtdomusd.pid", NULL) :
		      g_strdup(DOMUS_RUNSTATEDIR "/virtdomusd.pid");
	dm->pidfd = pidfile_acquire(dm->pidfile, error);
	if (dm->pidfd < 0)
		g_clear_pointer(&dm->pidfile, g_free);
	return dm->pidfd >= 0;
}

static void cleanup(struct daemon *dm)
{
	notify_systemd("STOPPING=1");
	/* Clients first (their replies would go nowhere), then wait for running calls. */
	rpc_server_free(dm->d.srv);
	dm->d.srv = NULL;
	if (dm->d.pool)
		remote_shutdown(&dm->d);
	domain_backend_free(dm->d.backend);
	storage_pools_free(dm->d.storage);
	if (dm->sock_rw)
		g_unlink(dm->sock_rw);
	if (dm->sock_ro)
		g_unlink(dm->sock_ro);
	if (dm->pidfile) {
		g_unlink(dm->pidfile);
		close(dm->pidfd);
	}
	if (dm->idle_timer) {
		g_source_destroy(dm->idle_timer);
		g_source_unref(dm->idle_timer);
	}
	g_free(dm->sock_rw);
	g_free(dm->sock_ro);
	g_free(dm->pidfile);
	daemon_config_clear(&dm->cfg);
	g_main_loop_unref(dm->loop);
	g_main_context_unref(dm->d.ctx);
}

static bool create_backend(struct daemon *dm, const struct domain_event_sink *sink,
			   GError **error)
{
	struct xc_backend_config xcfg = {
		.ctx = dm->d.ctx,
		.session = dm->d.session,
		.domain_dir = dm->cfg.domain_dir,
		.state_dir = dm->cfg.state_dir,
		.migration_address = dm->cfg.migration_address,
		.migration_host = dm->cfg.migration_host,
		.migration_port_min = dm->cfg.migration_port_min,
		.migration_port_max = dm->cfg.migration_port_max,
	};

	g_autofree char *domain_dir = NULL;
	g_autofree char *pool_dir = NULL;

	if (!strcmp(dm->cfg.backend, "none")) {
		dm->d.backend = domain_backend_none_new(sink);
		return true;	/* and no storage pools: the protocol alone */
	}
	dm->d.backend = domain_backend_xc_new(sink, &xcfg, error);
	if (!dm->d.backend)
		return false;
	/* Dir storage pools beside the domains: <domain_dir>/storage/ */
	domain_dir = dm->cfg.domain_dir ? g_strdup(dm->cfg.domain_dir) :
		     domus_domain_store_default_dir(!dm->d.session);
	pool_dir = g_build_filename(domain_dir, "storage", NULL);
	dm->d.storage = storage_pools_open(pool_dir, error);
	return dm->d.storage != NULL;
}

static int run(struct daemon *dm, const struct options *o)
{
	struct rpc_server_config scfg;
	struct domain_event_sink sink = {
		.lifecycle = remote_event_lifecycle,
		.reboot = remote_event_reboot,
		.job_completed = remote_event_job_completed,
		.opaque = &dm->d,
	};
	g_autoptr(GError) error = NULL;

	dm->d.session = o->session || (!o->system && geteuid() != 0);
	dm->d.uri = dm->d.session ? "domus:///session" : "domus:///system";
	dm->d.ctx = g_main_context_ref(g_main_context_default());
	dm->loop = g_main_loop_new(dm->d.ctx, FALSE);
	dm->pidfd = -1;
	if (!load_config(dm, o, &error))
		goto fail;
	scfg = (struct rpc_server_config){
		.max_clients = dm->cfg.rpc.max_clients,
		.max_anonymous_clients = dm->cfg.rpc.max_anonymous_clients,
		.anonymous_timeout = dm->cfg.rpc.anonymous_timeout,
		.keepalive_interval = dm->cfg.rpc.keepalive_interval,
		.keepalive_count = dm->cfg.rpc.keepalive_count,
		.max_queued_out = 64 * 1024 * 1024,
	};
	dm->d.srv = rpc_server_new(dm->d.ctx, &scfg, &remote_server_ops, &dm->d);
	remote_init(&dm->d);
	/* The pidfile first: a second daemon must not touch the first one's domains. */
	if (!take_pidfile(dm, &error) || !create_backend(dm, &sink, &error) ||
	    !setup_sockets(dm, &error) || !setup_tcp(dm, &error))
		goto fail;
	rpc_server_set_client_count_notify(dm->d.srv, idle_check);
	idle_check(dm);
	g_unix_signal_add(SIGTERM, on_quit_signal, dm);
	g_unix_signal_add(SIGINT, on_quit_signal, dm);
	g_unix_signal_add(SIGHUP, on_hup, dm);
	notify_systemd("READY=1");
	g_main_loop_run(dm->loop);
	cleanup(dm);
	return 0;
fail:
	g_printerr("virtdomusd: %s\n", error->message);
	cleanup(dm);
	return 1;
}

int main(int argc, char **argv)
{
	struct options o = { 0 };
	struct daemon dm = { 0 };
	g_autoptr(GError) error = NULL;
	int ret;

	signal(SIGPIPE, SIG_IGN);	/* a console peer that went away is an error, not a death */
	if (!parse_options(&argc, &argv, &o, &error)) {
		g_printerr("virtdomusd: %s\n", error->message);
		return 2;
	}
	if (o.version) {
		printf("virtdomusd (Domus) %s\n", DOMUS_VERSION);
		return 0;
	}
	if (o.verbose)
		g_log_set_debug_enabled(TRUE);
	ret = run(&dm, &o);
	g_free(o.config);
	g_free(o.pidfile);
	g_free(o.socket_dir);
	g_free(o.backend);
	return ret;
}
