// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The backend virtdomusd runs with until domain control is wired to libxc: no domains.
 * Lists are empty and lookups fail the way libvirt's do; the ops left NULL make every
 * other domain procedure answer VIR_ERR_NO_SUPPORT with the API's name.
 */
#include <stdio.h>

#include <glib.h>

#include "backend.h"

static void none_destroy(struct domain_backend *b)
{
	g_free(b);
}

static int none_list(struct domain_backend *b, struct domain_summary **out, size_t *n,
		     struct verr *err)
{
	*out = NULL;
	*n = 0;
	return 0;
}

static int none_lookup_by_uuid(struct domain_backend *b, const uint8_t *uuid,
			       struct domain_summary *out, struct verr *err)
{
	char s[DOMAIN_UUID_STRLEN];

	domain_uuid_format(uuid, s);
	return verr_set(err, VERR_NO_DOMAIN, VERR_FROM_DOMAIN, "no domain with matching uuid '%s'", s);
}

static int none_lookup_by_name(struct domain_backend *b, const char *name,
			       struct domain_summary *out, struct verr *err)
{
	return verr_set(err, VERR_NO_DOMAIN, VERR_FROM_DOMAIN, "no domain with matching name '%s'",
			name);
}

static int none_lookup_by_id(struct domain_backend *b, int id, struct domain_summary *out,
			     struct verr *err)
{
	return verr_set(err, VERR_NO_DOMAIN, VERR_FROM_DOMAIN, "no domain with matching id %d", id);
}

static unsigned int none_count_active(struct domain_backend *b)
{
	return 0;
}

static const struct domain_backend_ops none_ops = {
	.name = "none",
	.destroy_backend = none_destroy,
	.list = none_list,
	.lookup_by_uuid = none_lookup_by_uuid,
	.lookup_by_name = none_lookup_by_name,
	.lookup_by_id = none_lookup_by_id,
	.count_active = none_count_active,
};

struct domain_backend *domain_backend_none_new(const struct domain_event_sink *events)
{
	struct domain_backend *b = g_new0(struct domain_backend, 1);

	b->ops = &none_ops;
	b->events = *events;
	return b;
}

void domain_params_free(struct domain_param *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i].type == DOMAIN_PARAM_STRING)
			g_free(p[i].v.s);
	g_free(p);
}

void domain_uuid_format(const uint8_t *uuid, char out[DOMAIN_UUID_STRLEN])
{
	snprintf(out, DOMAIN_UUID_STRLEN,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", uuid[0],
		 uuid[1], uuid[2], uuid[3], uuid[4], uuid[5], uuid[6], uuid[7], uuid[8], uuid[9],
		 uuid[10], uuid[11], uuid[12], uuid[13], uuid[14], uuid[15]);
}
