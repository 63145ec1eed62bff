// SPDX-License-Identifier: GPL-2.0-or-later
/* Reading virtdomusd.conf. */
#include <errno.h>
#include <string.h>

#include "virtd-paths.h"
#include "daemon-config.h"

#define GROUP "virtdomusd"

void daemon_config_defaults(struct daemon_config *cfg)
{
	*cfg = (struct daemon_config){
		.rpc = {
			.max_clients = 5000,
			.max_anonymous_clients = 20,	/* libvirtd's default */
			.anonymous_timeout = 30,
			.max_workers = 20,
			.prio_workers = 5,
			.max_client_requests = 5,
			.keepalive_interval = 5,
			.keepalive_count = 5,
			.emulator = g_strdup(DOMUS_VMM_PATH),
		},
		.backend = g_strdup("xc"),
		.tcp_port = 16509,
		.auth_tcp = g_strdup("sasl"),	/* libvirtd's default: plain TCP must be asked for */
		.migration_port_min = 49152,
		.migration_port_max = 49215,
	};
}

void daemon_config_clear(struct daemon_config *cfg)
{
	g_free(cfg->rpc.emulator);
	g_free(cfg->socket_dir);
	g_free(cfg->pidfile);
	g_free(cfg->backend);
	g_free(cfg->domain_dir);
	g_free(cfg->state_dir);
	g_free(cfg->listen_addr);
	g_free(cfg->auth_tcp);
	g_free(cfg->migration_address);
	g_free(cfg->migration_host);
}

struct uint_key {
	const char *key;
	size_t offset;		/* of the unsigned int in struct daemon_config */
	unsigned int min, max;
};

static const struct uint_key uint_keys[] = {
	{ "max_clients", G_STRUCT_OFFSET(struct daemon_config, rpc.max_clients), 1, 1000000 },
	{ "max_anonymous_clients", G_STRUCT_OFFSET(struct daemon_config, rpc.max_anonymous_clients),
	  1, 1000000 },
	{ "anonymous_timeout", G_STRUCT_OFFSET(struct daemon_config, rpc.anonymous_timeout), 0, 3600 },
	{ "max_workers", G_STRUCT_OFFSET(struct daemon_config, rpc.max_workers), 1, 1024 },
	{ "prio_workers", G_STRUCT_OFFSET(struct daemon_config, rpc.prio_workers), 1, 1024 },
	{ "max_client_requests", G_STRUCT_OFFSET(struct daemon_config, rpc.max_client_requests), 1, 1024 },
	{ "keepalive_interval", G_STRUCT_OFFSET(struct daemon_config, rpc.keepalive_interval), 0, 3600 },
	{ "keepalive_count", G_STRUCT_OFFSET(struct daemon_config, rpc.keepalive_count), 0, 100 },
	{ "timeout", G_STRUCT_OFFSET(struct daemon_config, timeout), 0, 86400 * 365 },
	{ "listen_tcp", G_STRUCT_OFFSET(struct daemon_config, listen_tcp), 0, 1 },
	{ "tcp_port", G_STRUCT_OFFSET(struct daemon_config, tcp_port), 1, 65535 },
	{ "migration_port_min", G_STRUCT_OFFSET(struct daemon_config, migration_port_min), 1, 65535 },
	{ "migration_port_max", G_STRUCT_OFFSET(struct daemon_config, migration_port_max), 1, 65535 },
};

static bool load_uint(struct daemon_config *cfg, GKeyFile *kf, const struct uint_key *k,
		      const char *path, GError **error)
{
	g_autofree char *v = g_key_file_get_value(kf, GROUP, k->key, NULL);
	guint64 n;

	if (!v)
		return true;
	if (!g_ascii_string_to_unsigned(g_strstrip(v), 10, k->min, k->max, &n, NULL)) {
		g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
			    "%s: %s = '%s': expected a whole number from %u to %u", path, k->key, v,
			    k->min, k->max);
		return false;
	}
	*(unsigned int *)((char *)cfg + k->offset) = n;
	return true;
}

static bool load_string(GKeyFile *kf, const char *key, char **out)
{
	g_autofree char *v = g_key_file_get_string(kf, GROUP, key, NULL);

	if (!v)
		return true;
	g_strstrip(v);
	/* libvirtd.conf quotes its strings (auth_tcp = "none"): take that form too. */
	if (strlen(v) >= 2 && v[0] == '"' && v[strlen(v) - 1] == '"') {
		v[strlen(v) - 1] = '\0';
		memmove(v, v + 1, strlen(v));
	}
	g_free(*out);
	*out = g_strdup(v);
	return true;
}

static bool known_key(const char *key)
{
	static const char *const strings[] = { "emulator", "socket_dir", "pidfile", "backend",
						       "domain_dir", "state_dir", "listen_addr",
						       "auth_tcp", "migration_address",
						       "migration_host", NULL };

	for (size_t i = 0; i < G_N_ELEMENTS(uint_keys); i++)
		if (g_str_equal(key, uint_keys[i].key))
			return true;
	return g_strv_contains(strings, key);
}

static bool check_keys(GKeyFile *kf, const char *path, GError **error)
{
	g_auto(GStrv) groups = g_key_file_get_groups(kf, NULL);
	g_auto(GStrv) keys = NULL;

	for (char **g = groups; *g; g++) {
		if (!g_str_equal(*g, GROUP)) {
			g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_GROUP_NOT_FOUND,
				    "%s: unknown section [%s] (only [" GROUP "])", path, *g);
			return false;
		}
	}
	keys = g_key_file_get_keys(kf, GROUP, NULL, NULL);
	for (char **k = keys; k && *k; k++) {
		if (!known_key(*k)) {
			g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND,
				    "%s: unknown setting '%s'", path, *k);
			return false;
		}
	}
	return true;
}

bool daemon_config_load(struct daemon_config *cfg, const char *path, bool must_exist,
			GError **error)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_autoptr(GError) err = NULL;

	if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, &err)) {
		if (!must_exist && g_error_matches(err, G_FILE_ERROR, G_FILE_ERROR_NOENT))
			return true;
		g_set_error(error, err->domain, err->code, "%s: %s", path, err->message);
		return false;
	}
	if (!check_keys(kf, path, error))
		return false;
	for (size_t i = 0; i < G_N_ELEMENTS(uint_keys); i++)
		if (!load_uint(cfg, kf, &uint_keys[i], path, error))
			return false;
	load_string(kf, "emulator", &cfg->rpc.emulator);
	load_string(kf, "socket_dir", &cfg->socket_dir);
	load_string(kf, "pidfile", &cfg->pidfile);
	load_string(kf, "backend", &cfg->backend);
	load_string(kf, "domain_dir", &cfg->domain_dir);
	load_string(kf, "state_dir", &cfg->state_dir);
	load_string(kf, "listen_addr", &cfg->listen_addr);
	load_string(kf, "auth_tcp", &cfg->auth_tcp);
	load_string(kf, "migration_address", &cfg->migration_address);
	load_string(kf, "migration_host", &cfg->migration_host);
	if (cfg->migration_port_min > cfg->migration_port_max) {
		g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
			    "%s: migration_port_min %u is above migration_port_max %u", path,
			    cfg->migration_port_min, cfg->migration_port_max);
		return false;
	}
	if (strcmp(cfg->backend, "xc") && strcmp(cfg->backend, "none")) {
		g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
			    "%s: backend = '%s': expected 'xc' or 'none'", path, cfg->backend);
		return false;
	}
	return true;
}
