// SPDX-License-Identifier: GPL-2.0-or-later
/* The migration cookie (see migrate-cookie.h). */
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "migrate-cookie.h"

#define COOKIE_MAGIC "domus-migration"
#define COOKIE_VERSION 1

/* This daemon's instance: a random id made once, so that two daemons on one host differ. */
static const char *daemon_id(void)
{
	static gsize once;
	static char id[40];

	if (g_once_init_enter(&once)) {
		g_autofree char *u = g_uuid_string_random();

		g_strlcpy(id, u, sizeof(id));
		g_once_init_leave(&once, 1);
	}
	return id;
}

char *migrate_cookie_make(const char *step, const struct domain_summary *dom, unsigned int *len)
{
	char uuid[DOMAIN_UUID_STRLEN];
	char *s;

	domain_uuid_format(dom->uuid, uuid);
	s = g_strdup_printf(COOKIE_MAGIC " %d\nstep %s\nuuid %s\nname %s\nhost %s\ndaemon %s\n",
			    COOKIE_VERSION, step, uuid, dom->name, g_get_host_name(), daemon_id());
	*len = strlen(s);
	return s;
}

static int bad(struct verr *err, const char *want, const char *why)
{
	return verr_set(err, VERR_INVALID_ARG, VERR_FROM_DOMAIN,
			"the migration cookie of the %s step is unusable: %s", want, why);
}

static bool parse_uuid(const char *s, uint8_t out[DOMAIN_UUID_LEN])
{
	int n = 0;

	for (const char *p = s; *p && n < 32; p++) {
		if (*p == '-')
			continue;
		if (!g_ascii_isxdigit(p[0]) || !g_ascii_isxdigit(p[1]))
			return false;
		out[n / 2] = g_ascii_xdigit_value(p[0]) << 4 | g_ascii_xdigit_value(p[1]);
		n += 2;
		p++;
	}
	return n == 32 && strlen(s) == 36;
}

/* One "key value" line into @out. */
static int parse_line(const char *line, struct migrate_cookie *out, const char *want,
		      struct verr *err)
{
	const char *sp = strchr(line, ' ');
	g_autofree char *key = sp ? g_strndup(line, sp - line) : g_strdup(line);
	const char *v = sp ? sp + 1 : "";

	if (!strcmp(key, "step"))
		g_strlcpy(out->step, v, sizeof(out->step));
	else if (!strcmp(key, "uuid")) {
		if (!parse_uuid(v, out->uuid))
			return bad(err, want, "its uuid is malformed");
	} else if (!strcmp(key, "name"))
		g_strlcpy(out->name, v, sizeof(out->name));
	else if (!strcmp(key, "host"))
		g_strlcpy(out->host, v, sizeof(out->host));
	else if (!strcmp(key, "daemon"))
		g_strlcpy(out->daemon, v, sizeof(out->daemon));
	/* Unknown keys are for later versions of the same major version: ignored. */
	return 0;
}

static int check_header(const char *first, const char *want, struct verr *err)
{
	unsigned int version;
	char extra;

	if (!g_str_has_prefix(first, COOKIE_MAGIC " "))
		return bad(err, want, "it does not come from a Domus daemon (a foreign "
			   "hypervisor's driver on the other side?)");
	if (sscanf(first + strlen(COOKIE_MAGIC) + 1, "%u%c", &version, &extra) != 1)
		return bad(err, want, "its version line is malformed");
	if (version != COOKIE_VERSION)
		return verr_set(err, VERR_OPERATION_INVALID, VERR_FROM_DOMAIN,
				"the migration cookie of the %s step has version %u; this daemon "
				"speaks version %d", want, version, COOKIE_VERSION);
	return 0;
}

int migrate_cookie_parse(const char *data, size_t len, const char *want, const uint8_t *uuid,
			 struct migrate_cookie *out, struct verr *err)
{
	g_autofree char *text = NULL;
	g_auto(GStrv) lines = NULL;
	char s[DOMAIN_UUID_STRLEN];
	static const uint8_t zero[DOMAIN_UUID_LEN];

	memset(out, 0, sizeof(*out));
	if (len == 0)
		return bad(err, want, "it is missing (the client passed none on)");
	if (len > MIGRATE_COOKIE_MAX || memchr(data, '\0', len))
		return bad(err, want, "it is too long or not text");
	text = g_strndup(data, len);
	lines = g_strsplit(text, "\n", 0);
	if (check_header(lines[0], want, err) < 0)
		return -1;
	for (char **l = lines + 1; *l; l++)
		if (**l && parse_line(*l, out, want, err) < 0)
			return -1;
	if (strcmp(out->step, want))
		return bad(err, want, "it was written by another step");
	if (!memcmp(out->uuid, zero, sizeof(zero)))
		return bad(err, want, "it names no domain");
	if (uuid && memcmp(uuid, out->uuid, DOMAIN_UUID_LEN)) {
		domain_uuid_format(out->uuid, s);
		return verr_set(err, VERR_OPERATION_INVALID, VERR_FROM_DOMAIN,
				"the migration cookie is about domain %s, not the one migrating", s);
	}
	return 0;
}
