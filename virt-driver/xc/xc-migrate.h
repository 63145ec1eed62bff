/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Internals of xc-migrate.c: the TCP ends of the memory stream (xc-migrate-net.c). */
#ifndef VIRTD_XC_MIGRATE_H
#define VIRTD_XC_MIGRATE_H

#include "xc-backend.h"

/* "tcp:HOST[:PORT]" / "tcp://HOST[:PORT]" into @host (g_malloc'ed) and @port (0: none). */
int mig_uri_parse(const char *uri, char **host, unsigned int *port, struct verr *err);

/* A listening socket on @addr (NULL: all) at @port, or the first free one of min..max. */
int mig_listen(const char *addr, unsigned int port, unsigned int min, unsigned int max,
	       unsigned int *bound, struct verr *err);

/* A blocking socket connected to @uri within @timeout_ms, or -1 with @err. */
int mig_connect(const char *uri, int timeout_ms, struct verr *err);

/* One connection on @lfd within @timeout_ms unless @cancel_fd becomes readable first. */
int mig_accept(int lfd, int cancel_fd, int timeout_ms, struct verr *err);

#endif
