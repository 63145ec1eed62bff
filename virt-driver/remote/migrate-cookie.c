// SPDX-License-Identifier: GPL-2.0-or-later
/* The migration cookie (see migrate-cookie.h). */
#include <stddef.h>
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

/* The figures a stats line carries: key, and where it goes in struct domain_job_info. */
static const struct {
	const char *key;
	size_t off;
} stat_keys[] = {
#define K(k, f) { k, offsetof(struct domain_job_info, f) }
	K("elapsed", elapsed_ms), K("setup", setup_ms), K("downtime", downtime_ms),
	K("data", data_processed), K("mem_total", mem_total), K("mem", mem_processed),
	K("bps", bps), K("rounds", iteration),
#undef K
};

static uint64_t *stat_field(struct domain_job_info *j, size_t i)
{
	return (uint64_t *)((char *)j + stat_keys[i].off);
}

static void append_stats(GString *s, const struct domain_job_info *j)
{
	struct domain_job_info c = *j;

	g_string_append(s, "stats");
	for (size_t i = 0; i < G_N_ELEMENTS(stat_keys); i++)
		g_string_append_printf(s, " %s=%" G_GUINT64_FORMAT, stat_keys[i].key,
				       *stat_field(&c, i));
	g_string_append_printf(s, " throttle=%d\n", j->throttle);
}

char *migrate_cookie_make(const char *step, const struct domain_summary *dom,
			  const struct domain_job_info *stats, unsigned int *len)
{
	char uuid[DOMAIN_UUID_STRLEN];
	GString *s = g_string_new(NULL);

	domain_uuid_format(dom->uuid, uuid);
	g_string_printf(s, COOKIE_MAGIC " %d\nstep %s\nuuid %s\nname %s\nhost %s\ndaemon %s\n",
			COOKIE_VERSION, step, uuid, dom->name, g_get_host_name(), daemon_id());
	if (stats)
		append_stats(s, stats);
	*len = s->len;
	return g_string_free(s, FALSE);
}

/*
 * "k=v k=v …" of a stats line into @out->stats. Figures only inform (the domain has arrived
 * by the time finish reads them), so a malformed line is dropped, not the cookie.
 */
static void parse_stats(const char *v, struct migrate_cookie *out)
{
	g_auto(GStrv) kv = g_strsplit(v, " ", 0);
	struct domain_job_info j = { .has_setup = true, .has_downtime = true };

	for (char **p = kv; *p; p++) {
		const char *eq = strchr(*p, '=');
		guint64 n;
		size_t i;

		if (!eq || !g_ascii_string_to_unsigned(eq + 1, 10, 0, G_MAXUINT64, &n, NULL)) {
			g_message("migration cookie: malformed stats item '%.40s': stats dropped", *p);
			return;
		}
		for (i = 0; i < G_N_ELEMENTS(stat_keys); i++)
			if (!strncmp(*p, stat_keys[i].key, eq - *p) &&
			    !stat_keys[i].key[eq - *p]) {
				*stat_field(&j, i) = n;
				break;
			}
		if (!strncmp(*p, "throttle=", 9))
			j.throttle = MIN(n, 100);
	}
	j.data_total = j.data_processed;
	out->stats = j;
	out->has_stats = true;
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
	else if (!strcmp(key, "stats"))
		parse_stats(v, out);
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
