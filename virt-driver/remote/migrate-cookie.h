/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The migration cookie: what two virtdomusd exchange through the client between the steps
 * of a migration (libvirt passes it on unread). Ours is a few lines of text, versioned:
 *
 *   domus-migration 1
 *   step prepare            begin | prepare | perform | finish: who wrote it
 *   uuid 4b5e…              the domain migrating
 *   name vm1
 *   host dst.example        the writer's host name and daemon instance, for messages
 *   daemon 8c1f…
 *   stats elapsed=812 setup=2 downtime=4 data=12582912 mem_total=…   perform only: the
 *                           source's figures of the migration it completed, which the
 *                           destination keeps as its own (virsh domjobinfo --completed)
 *
 * Each step checks the cookie of the step before it (version, step, UUID) and says
 * clearly what is wrong, as the cookie crosses the client and is hostile input like any.
 */
#ifndef VIRTD_MIGRATE_COOKIE_H
#define VIRTD_MIGRATE_COOKIE_H

#include <stddef.h>
#include <stdint.h>

#include "backend.h"

#define MIGRATE_COOKIE_MAX 4096

struct migrate_cookie {
	char step[16];
	uint8_t uuid[DOMAIN_UUID_LEN];
	char name[DOMAIN_NAME_MAX];
	char host[256];
	char daemon[40];
	bool has_stats;			/* a well-formed stats line came */
	struct domain_job_info stats;
};

/* The cookie @step writes for @dom (g_malloc'ed, *@len bytes, no NUL), with @stats if any. */
char *migrate_cookie_make(const char *step, const struct domain_summary *dom,
			  const struct domain_job_info *stats, unsigned int *len);

/*
 * migrate_cookie_parse() - check the cookie @data (@len bytes) came from step @want and,
 * when @uuid is not NULL, is about that domain. Return: 0 with @out filled, or -1 with
 * @err (VIR_ERR_OPERATION_INVALID / VIR_ERR_INVALID_ARG saying what is wrong).
 */
int migrate_cookie_parse(const char *data, size_t len, const char *want, const uint8_t *uuid,
			 struct migrate_cookie *out, struct verr *err);

#endif
