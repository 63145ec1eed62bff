// SPDX-License-Identifier: GPL-2.0-or-later
/* Value types of the domain XML: memory units, CPU sets, UUIDs, MAC addresses. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf_util.h"

uint64_t domus_memory_unit_scale(const char *unit)
{
	static const char prefixes[] = "kmgtpe";
	const char *p;
	uint64_t base, scale = 1;
	unsigned int power;

	if (!unit || !*unit)
		return 1024;
	if (!g_ascii_strcasecmp(unit, "b") || !g_ascii_strcasecmp(unit, "byte") ||
	    !g_ascii_strcasecmp(unit, "bytes"))
		return 1;
	p = strchr(prefixes, g_ascii_tolower(unit[0]));
	if (!p || !unit[0])
		return 0;
	power = (unsigned int)(p - prefixes) + 1;
	/* "k" and "KiB" are binary, "KB" decimal: libvirt's reading of the units */
	if (unit[1] == '\0' || !g_ascii_strcasecmp(unit + 1, "ib"))
		base = 1024;
	else if (!g_ascii_strcasecmp(unit + 1, "b"))
		base = 1000;
	else
		return 0;
	while (power--)
		scale *= base;		/* 1024^6 = 2^60 fits */
	return scale;
}

int domus_memory_parse_kib(const char *value, const char *unit, uint64_t *ret_kib,
			   struct domus_error **err)
{
	uint64_t scale = domus_memory_unit_scale(unit);
	unsigned long long v;
	char *end;

	if (!scale) {
		domus_error_set(err, VIR_FROM_DOMAIN, VIR_ERR_XML_ERROR,
				"unknown memory unit '%s'", unit);
		return -1;
	}
	if (!value || !g_ascii_isdigit(value[0])) {
		domus_error_set(err, VIR_FROM_DOMAIN, VIR_ERR_XML_ERROR,
				"invalid memory size '%s'", value ? value : "");
		return -1;
	}
	errno = 0;
	v = strtoull(value, &end, 10);
	if (*end) {
		domus_error_set(err, VIR_FROM_DOMAIN, VIR_ERR_XML_ERROR,
				"invalid memory size '%s'", value);
		return -1;
	}
	if (errno == ERANGE || v > UINT64_MAX / scale) {
		domus_error_set(err, VIR_FROM_DOMAIN, VIR_ERR_OVERFLOW,
				"memory size too large: %s %s (at most %llu bytes)", value,
				unit ? unit : "KiB", (unsigned long long)UINT64_MAX);
		return -1;
	}
	/* round up to KiB without overflowing (v * scale may be UINT64_MAX itself) */
	v *= scale;
	*ret_kib = v / 1024 + (v % 1024 != 0);
	return 0;
}

bool domus_cpuset_test(const struct domus_cpuset *set, unsigned int cpu)
{
	return cpu < DOMUS_CPUSET_MAX && (set->bits[cpu / 64] >> (cpu % 64)) & 1;
}

void domus_cpuset_set(struct domus_cpuset *set, unsigned int cpu)
{
	if (cpu < DOMUS_CPUSET_MAX)
		set->bits[cpu / 64] |= 1ULL << (cpu % 64);
}

static void cpuset_clear(struct domus_cpuset *set, unsigned int cpu)
{
	set->bits[cpu / 64] &= ~(1ULL << (cpu % 64));
}

bool domus_cpuset_is_empty(const struct domus_cpuset *set)
{
	for (size_t i = 0; i < G_N_ELEMENTS(set->bits); i++)
		if (set->bits[i])
			return false;
	return true;
}

/* One number of a cpuset; advances *p. */
static int cpuset_number(const char **p, unsigned int *ret)
{
	unsigned long v;
	char *end;

	if (!g_ascii_isdigit(**p))
		return -1;
	errno = 0;
	v = strtoul(*p, &end, 10);
	if (errno || v >= DOMUS_CPUSET_MAX)
		return -1;
	*p = end;
	*ret = (unsigned int)v;
	return 0;
}

struct domus_cpuset *domus_cpuset_parse(const char *str, struct domus_error **err)
{
	g_autofree struct domus_cpuset *set = g_new0(struct domus_cpuset, 1);
	const char *p = str;

	while (*p) {
		bool exclude = *p == '^';
		unsigned int lo, hi;

		if (exclude)
			p++;
		if (cpuset_number(&p, &lo) < 0)
			goto bad;
		hi = lo;
		if (*p == '-' && !exclude) {
			p++;
			if (cpuset_number(&p, &hi) < 0 || hi < lo)
				goto bad;
		}
		for (unsigned int c = lo; c <= hi; c++) {
			if (exclude)
				cpuset_clear(set, c);
			else
				domus_cpuset_set(set, c);
		}
		if (*p == ',' && p[1])
			p++;
		else if (*p)
			goto bad;
	}
	if (domus_cpuset_is_empty(set)) {
		domus_error_set(err, VIR_FROM_DOMAIN, VIR_ERR_XML_ERROR,
				"CPU set '%s' contains no CPU", str);
		return NULL;
	}
	return g_steal_pointer(&set);
bad:
	domus_error_set(err, VIR_FROM_DOMAIN, VIR_ERR_XML_ERROR,
			"invalid CPU set '%s' (expected e.g. '0-3,^2,8' with CPUs below %d)", str,
			DOMUS_CPUSET_MAX);
	return NULL;
}

char *domus_cpuset_format(const struct domus_cpuset *set)
{
	GString *s = g_string_new(NULL);

	for (unsigned int c = 0; c < DOMUS_CPUSET_MAX; c++) {
		unsigned int end = c;

		if (!domus_cpuset_test(set, c))
			continue;
		while (end + 1 < DOMUS_CPUSET_MAX && domus_cpuset_test(set, end + 1))
			end++;
		if (s->len)
			g_string_append_c(s, ',');
		if (end == c)
			g_string_append_printf(s, "%u", c);
		else
			g_string_append_printf(s, "%u-%u", c, end);
		c = end;
	}
	return g_string_free(s, FALSE);
}

static int hexval(char c)
{
	return g_ascii_xdigit_value(c);
}

int domus_uuid_parse(const char *str, uint8_t uuid[16])
{
	static const int dashes[] = { 8, 13, 18, 23 };
	size_t len = strlen(str), n = 0;

	if (len != 32 && len != 36)
		return -1;
	for (size_t i = 0; i < len;) {
		if (len == 36 && (i == (size_t)dashes[0] || i == (size_t)dashes[1] ||
				  i == (size_t)dashes[2] || i == (size_t)dashes[3])) {
			if (str[i++] != '-')
				return -1;
			continue;
		}
		if (hexval(str[i]) < 0 || hexval(str[i + 1]) < 0)
			return -1;
		uuid[n++] = (uint8_t)(hexval(str[i]) << 4 | hexval(str[i + 1]));
		i += 2;
	}
	return n == 16 ? 0 : -1;
}

void domus_uuid_format(const uint8_t u[16], char buf[37])
{
	snprintf(buf, 37,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0],
		 u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13],
		 u[14], u[15]);
}

void domus_uuid_generate(uint8_t uuid[16])
{
	g_autofree char *s = g_uuid_string_random();	/* version 4, from GLib's CSPRNG */

	if (domus_uuid_parse(s, uuid) < 0)
		g_error("GLib returned a malformed UUID '%s'", s);
}

int domus_conf_mac_parse(const char *str, uint8_t mac[6])
{
	for (int i = 0; i < 6; i++) {
		const char *p = str + 3 * i;

		if (hexval(p[0]) < 0 || hexval(p[1]) < 0 || p[2] != (i == 5 ? '\0' : ':'))
			return -1;
		mac[i] = (uint8_t)(hexval(p[0]) << 4 | hexval(p[1]));
	}
	return 0;
}

void domus_mac_format(const uint8_t m[6], char buf[18])
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

void domus_mac_generate(uint8_t mac[6])
{
	guint32 r = g_random_int();

	mac[0] = 0x52;
	mac[1] = 0x54;
	mac[2] = 0x00;
	mac[3] = (uint8_t)(r >> 16);
	mac[4] = (uint8_t)(r >> 8);
	mac[5] = (uint8_t)r;
}
