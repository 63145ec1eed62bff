/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The libxc backend: real Domus domains (libxc + the domain XML model + the definitions
 * store). See docs/virtdomusd.md, "What each procedure does".
 */
#ifndef VIRTD_BACKEND_XC_H
#define VIRTD_BACKEND_XC_H

#include <glib.h>

#include "backend.h"

struct xc_backend_config {
	GMainContext *ctx;		/* the daemon's main loop: event fds and consoles */
	bool session;
	const char *domain_dir;		/* definitions; NULL: the store's default */
	const char *state_dir;		/* status files; NULL: <registry>/virtdomusd */
	/* Incoming migrations (docs/virtdomusd.md, "Live migration"). */
	const char *migration_address;	/* listen there; NULL: every address */
	const char *migration_host;	/* the host in the URI given to the source; NULL:
					 * the address the client reached us on */
	unsigned int migration_port_min, migration_port_max;
};

/*
 * Load the stored definitions, find running domains again (libxc's registry and our status
 * files) and schedule the autostart domains to start once the main loop runs.
 * Return: the backend, or NULL with @error (no schema, an unusable directory).
 */
struct domain_backend *domain_backend_xc_new(const struct domain_event_sink *events,
					     const struct xc_backend_config *cfg, GError **error);

#endif
