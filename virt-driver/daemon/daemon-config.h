/* SPDX-License-Identifier: GPL-2.0-or-later */
/* virtdomusd.conf: a GKeyFile with one [virtdomusd] group (docs/virtdomusd.md). */
#ifndef VIRTD_CONFIG_H
#define VIRTD_CONFIG_H

#include <stdbool.h>

#include <glib.h>

#include "remote/remote.h"

struct daemon_config {
	struct virtd_config rpc;
	char *socket_dir;	/* where the sockets go; NULL = /run/libvirt or $XDG_RUNTIME_DIR/libvirt */
	char *pidfile;
	int timeout;		/* idle seconds before exiting; 0 = never */
	char *backend;		/* "xc" (real domains) or "none" (no domains: RPC tests) */
	char *domain_dir;	/* stored definitions; NULL = /var/lib/domus or $XDG_CONFIG_HOME/domus */
	char *state_dir;	/* status files of running domains; NULL = <registry>/virtdomusd */
	/* TCP, for migration between hosts (libvirtd's keys; docs/virtdomusd.md) */
	unsigned int listen_tcp;	/* 0/1 */
	char *listen_addr;		/* NULL: every address */
	unsigned int tcp_port;		/* 16509 */
	char *auth_tcp;			/* must be "none" to listen (no SASL here) */
	char *migration_address, *migration_host;
	unsigned int migration_port_min, migration_port_max;
};

void daemon_config_defaults(struct daemon_config *cfg);
void daemon_config_clear(struct daemon_config *cfg);

/*
 * daemon_config_load() - read @path into @cfg. A missing file is an error only when
 * @must_exist; unknown keys and bad values are errors that name the key.
 */
bool daemon_config_load(struct daemon_config *cfg, const char *path, bool must_exist,
			GError **error);

#endif
