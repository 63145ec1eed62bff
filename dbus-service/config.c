// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Configuration: command line over an optional key file.
 *
 *   domus-dbusd [--system|--session] [--bus-name NAME] [--connect URI=PATH]...
 *               [--threads N] [--config FILE]
 *
 * Key file (default /etc/domus/dbusd.conf for the system bus,
 * $XDG_CONFIG_HOME/domus/dbusd.conf for the session bus; missing is fine):
 *
 *   [dbusd]
 *   bus=system|session
 *   bus-name=org.domus.libvirt
 *   threads=4
 *   connect=domus:///system=/org/libvirt/Domus;test:///default=/org/libvirt/Test
 */
#include <string.h>
#include <unistd.h>
#include "dsvc.h"

static gboolean opt_system, opt_session;
static char *opt_bus_name, *opt_config;
static char **opt_connect;
static int opt_threads = -1;	/* -1: not given */

static const GOptionEntry entries[] = {
	{ "system", 0, 0, G_OPTION_ARG_NONE, &opt_system, "Serve on the system bus", NULL },
	{ "session", 0, 0, G_OPTION_ARG_NONE, &opt_session, "Serve on the session bus", NULL },
	{ "bus-name", 'n', 0, G_OPTION_ARG_STRING, &opt_bus_name,
	  "Well-known bus name to own (default " DSVC_DEFAULT_BUS_NAME ")", "NAME" },
	{ "connect", 'c', 0, G_OPTION_ARG_STRING_ARRAY, &opt_connect,
	  "Serve libvirt URI at object PATH (repeatable; replaces the configured list)",
	  "URI=PATH" },
	{ "threads", 't', 0, G_OPTION_ARG_INT, &opt_threads,
	  "Worker threads for method calls (default 4)", "N" },
	{ "config", 'f', 0, G_OPTION_ARG_FILENAME, &opt_config, "Configuration file", "FILE" },
	{ NULL }
};

/* "URI=PATH"; the URI may itself contain '=' (query parameters), the path cannot. */
static int add_connect(struct dsvc_config *cfg, const char *spec, GError **error)
{
	const char *eq = strrchr(spec, '=');
	g_autofree char *uri = NULL;

	if (!eq || eq == spec || !g_variant_is_object_path(eq + 1) || !strcmp(eq + 1, "/")) {
		g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
			    "connect '%s': expected URI=PATH with PATH a D-Bus object path "
			    "such as /org/libvirt/Domus", spec);
		return -1;
	}
	uri = g_strndup(spec, eq - spec);
	for (guint i = 0; i < cfg->connects->len; i++) {
		struct dsvc_connect *c = cfg->connects->pdata[i];

		if (!strcmp(c->path, eq + 1)) {
			g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
				    "connect '%s': object path %s is already used by %s", spec,
				    c->path, c->uri);
			return -1;
		}
	}
	g_ptr_array_add(cfg->connects, dsvc_connect_new(uri, eq + 1));
	return 0;
}

static int add_connects(struct dsvc_config *cfg, char **specs, GError **error)
{
	for (char **s = specs; s && *s; s++)
		if (add_connect(cfg, *s, error) < 0)
			return -1;
	return 0;
}

static int parse_bus(const char *s, GBusType *ret, GError **error)
{
	if (!strcmp(s, "system"))
		*ret = G_BUS_TYPE_SYSTEM;
	else if (!strcmp(s, "session"))
		*ret = G_BUS_TYPE_SESSION;
	else {
		g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
			    "bus=%s: expected 'system' or 'session'", s);
		return -1;
	}
	return 0;
}

static char *default_config_path(GBusType bus)
{
	if (bus == G_BUS_TYPE_SYSTEM)
		return g_build_filename(DOMUS_SYSCONFDIR, "domus", "dbusd.conf", NULL);
	return g_build_filename(g_get_user_config_dir(), "domus", "dbusd.conf", NULL);
}

/* Reads the key file into cfg; a missing default file is not an error. */
static int load_file(struct dsvc_config *cfg, const char *path, gboolean must_exist,
		     char ***ret_connects, GError **error)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_autofree char *bus = NULL;
	g_autoptr(GError) local = NULL;

	if (!g_key_file_load_from_file(kf, path, 0, &local)) {
		if (!must_exist && g_error_matches(local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
			return 0;
		g_set_error(error, local->domain, local->code, "%s: %s", path, local->message);
		return -1;
	}
	bus = g_key_file_get_string(kf, "dbusd", "bus", NULL);
	if (bus && parse_bus(bus, &cfg->bus_type, error) < 0)
		return -1;
	if (g_key_file_has_key(kf, "dbusd", "bus-name", NULL)) {
		g_free(cfg->bus_name);
		cfg->bus_name = g_key_file_get_string(kf, "dbusd", "bus-name", NULL);
	}
	if (g_key_file_has_key(kf, "dbusd", "threads", NULL)) {
		cfg->threads = g_key_file_get_integer(kf, "dbusd", "threads", &local);
		if (local) {
			g_set_error(error, local->domain, local->code, "%s: threads: %s", path,
				    local->message);
			return -1;
		}
	}
	*ret_connects = g_key_file_get_string_list(kf, "dbusd", "connect", NULL, NULL);
	return 0;
}

static int check(struct dsvc_config *cfg, GError **error)
{
	if (!g_dbus_is_name(cfg->bus_name) || g_dbus_is_unique_name(cfg->bus_name)) {
		g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
			    "bus name '%s' is not a valid well-known D-Bus name", cfg->bus_name);
		return -1;
	}
	if (cfg->threads < 1 || cfg->threads > 64) {
		g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
			    "threads=%d: expected 1 to 64", cfg->threads);
		return -1;
	}
	return 0;
}

static void set_defaults(struct dsvc_config *cfg)
{
	gboolean root = geteuid() == 0;

	cfg->bus_type = root ? G_BUS_TYPE_SYSTEM : G_BUS_TYPE_SESSION;
	cfg->bus_name = g_strdup(DSVC_DEFAULT_BUS_NAME);
	cfg->threads = 4;
	cfg->connects = g_ptr_array_new();	/* never freed: see dsvc_connect_close() */
}

int dsvc_config_load(struct dsvc_config *cfg, int *argc, char ***argv, GError **error)
{
	g_autoptr(GOptionContext) ctx = g_option_context_new("- libvirt domains on D-Bus");
	g_auto(GStrv) file_connects = NULL;
	g_autofree char *path = NULL;

	set_defaults(cfg);
	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!g_option_context_parse(ctx, argc, argv, error))
		return -1;
	if (opt_system && opt_session) {
		g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
			    "--system and --session exclude each other");
		return -1;
	}
	if (opt_system || opt_session)
		cfg->bus_type = opt_system ? G_BUS_TYPE_SYSTEM : G_BUS_TYPE_SESSION;
	path = opt_config ? g_strdup(opt_config) : default_config_path(cfg->bus_type);
	if (load_file(cfg, path, opt_config != NULL, &file_connects, error) < 0)
		return -1;
	if (opt_system || opt_session)	/* the command line wins over the file */
		cfg->bus_type = opt_system ? G_BUS_TYPE_SYSTEM : G_BUS_TYPE_SESSION;
	if (opt_bus_name) {
		g_free(cfg->bus_name);
		cfg->bus_name = g_strdup(opt_bus_name);
	}
	if (opt_threads != -1)
		cfg->threads = opt_threads;
	if (add_connects(cfg, opt_connect ? opt_connect : file_connects, error) < 0)
		return -1;
	if (!cfg->connects->len)
		g_ptr_array_add(cfg->connects, dsvc_connect_new(
			cfg->bus_type == G_BUS_TYPE_SYSTEM ? "domus:///system" : "domus:///session",
			DSVC_DEFAULT_PATH));
	return check(cfg, error);
}

/* At exit: the connections are closed, but the list stays (the reconnect and event
 * threads may still be looking at it until the process ends). */
void dsvc_config_clear(struct dsvc_config *cfg)
{
	for (guint i = 0; cfg->connects && i < cfg->connects->len; i++)
		dsvc_connect_close(cfg->connects->pdata[i]);
	g_clear_pointer(&cfg->bus_name, g_free);
}
