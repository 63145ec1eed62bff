// SPDX-License-Identifier: GPL-2.0-or-later
/* Memory units and their overflow, CPU sets, UUIDs and MAC addresses (conf_util.c). */
#include <string.h>

#include "xml-test.h"

static void test_units(void)
{
	static const struct {
		const char *value, *unit;
		uint64_t kib;
	} ok[] = {
		{ "1", NULL, 1 },
		{ "1024", "KiB", 1024 },
		{ "1", "k", 1 },
		{ "1", "K", 1 },
		{ "1000", "KB", 977 },			/* 1,000,000 bytes rounded up to KiB */
		{ "2", "m", 2048 },
		{ "2", "MiB", 2048 },
		{ "2", "MB", 1954 },			/* 2,000,000 bytes */
		{ "3", "G", 3 * 1024 * 1024 },
		{ "3", "gib", 3 * 1024 * 1024 },
		{ "1", "GB", 976563 },
		{ "1", "TiB", 1ULL << 30 },
		{ "1", "T", 1ULL << 30 },
		{ "1", "PiB", 1ULL << 40 },
		{ "1", "EiB", 1ULL << 50 },
		{ "15", "E", 15ULL << 50 },
		{ "1", "b", 1 },			/* one byte is one (rounded-up) KiB */
		{ "1024", "bytes", 1 },
		{ "1025", "Byte", 2 },
		{ "0", "GiB", 0 },
		{ "18446744073709551615", "b", 18014398509481984ULL },	/* UINT64_MAX bytes */
		{ "18014398509481983", "KiB", 18014398509481983ULL },
	};
	static const struct {
		const char *value, *unit;
		int code;
	} bad[] = {
		{ "16", "EiB", VIR_ERR_OVERFLOW },
		{ "18014398509481984", "KiB", VIR_ERR_OVERFLOW },
		{ "18446744073709551616", "b", VIR_ERR_OVERFLOW },	/* > UINT64_MAX itself */
		{ "17592186044416", "MiB", VIR_ERR_OVERFLOW },
		{ "18446745", "TB", VIR_ERR_OVERFLOW },
		{ "1", "KiBB", VIR_ERR_XML_ERROR },
		{ "1", "x", VIR_ERR_XML_ERROR },
		{ "1", "kibibyte", VIR_ERR_XML_ERROR },
		{ "-1", "KiB", VIR_ERR_XML_ERROR },
		{ "1.5", "GiB", VIR_ERR_XML_ERROR },
		{ "", "KiB", VIR_ERR_XML_ERROR },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(ok); i++) {
		struct domus_error *err = NULL;
		uint64_t kib = 0;
		int r = domus_memory_parse_kib(ok[i].value, ok[i].unit, &kib, &err);

		CHECK_MSG(r == 0 && kib == ok[i].kib, "%s %s: r=%d kib=%llu err=%s", ok[i].value,
			  ok[i].unit, r, (unsigned long long)kib, err ? err->message : "");
		domus_error_free(err);
	}
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		struct domus_error *err = NULL;
		uint64_t kib = 42;
		int r = domus_memory_parse_kib(bad[i].value, bad[i].unit, &kib, &err);

		CHECK_MSG(r < 0 && err && err->code == bad[i].code && kib == 42,
			  "%s %s: r=%d code=%d", bad[i].value, bad[i].unit, r, err ? err->code : 0);
		if (err && bad[i].code == VIR_ERR_OVERFLOW)
			CHECK_MSG(strstr(err->message, bad[i].value), "%s", err->message);
		domus_error_free(err);
	}
}

static void test_cpuset(void)
{
	static const struct {
		const char *in, *out;
	} ok[] = {
		{ "0", "0" },
		{ "0-3", "0-3" },
		{ "0-3,^2,8", "0-1,3,8" },
		{ "7,5,6,1", "1,5-7" },
		{ "4095", "4095" },
		{ "0-4095,^1-4094", NULL },		/* '^' takes one CPU, not a range */
		{ "2,2,2", "2" },
	};
	static const char *const bad[] = { "", "a", "1-", "3-1", "1,,2", "1,", "^", "4096",
					   "0-4096", "^1", "1,^1", "-1", "1 2" };

	for (size_t i = 0; i < G_N_ELEMENTS(ok); i++) {
		struct domus_error *err = NULL;
		g_autofree struct domus_cpuset *set = domus_cpuset_parse(ok[i].in, &err);
		g_autofree char *out = set ? domus_cpuset_format(set) : NULL;

		if (!ok[i].out) {
			CHECK_MSG(!set && err, "'%s' accepted", ok[i].in);
		} else {
			CHECK_MSG(set && !strcmp(out, ok[i].out), "'%s' -> '%s' (%s)", ok[i].in,
				  out, err ? err->message : "");
		}
		domus_error_free(err);
	}
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		struct domus_error *err = NULL;
		g_autofree struct domus_cpuset *set = domus_cpuset_parse(bad[i], &err);

		CHECK_MSG(!set && err && err->code == VIR_ERR_XML_ERROR &&
				  strstr(err->message, bad[i]),
			  "'%s' accepted or unclear: %s", bad[i], err ? err->message : "");
		domus_error_free(err);
	}
}

static void test_uuid(void)
{
	uint8_t u[16], v[16];
	char s[37];
	GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

	CHECK(domus_uuid_parse("9F3AC5D1E2B44C8A8F0D112233445566", u) == 0);
	domus_uuid_format(u, s);
	CHECK(!strcmp(s, "9f3ac5d1-e2b4-4c8a-8f0d-112233445566"));
	CHECK(domus_uuid_parse(s, v) == 0 && !memcmp(u, v, 16));
	CHECK(domus_uuid_parse("9f3ac5d1e2b4-4c8a-8f0d-112233445566", v) < 0);
	CHECK(domus_uuid_parse("9f3ac5d1-e2b4-4c8a-8f0d-11223344556", v) < 0);
	CHECK(domus_uuid_parse("9f3ac5d1-e2b4-4c8a-8f0d-11223344556g", v) < 0);
	CHECK(domus_uuid_parse("", v) < 0);
	for (int i = 0; i < 1000; i++) {
		domus_uuid_generate(u);
		domus_uuid_format(u, s);
		CHECK((u[6] >> 4) == 4 && (u[8] & 0xc0) == 0x80);
		CHECK(g_hash_table_add(seen, g_strdup(s)));	/* no repeats */
	}
	g_hash_table_unref(seen);
}

static void test_mac(void)
{
	uint8_t m[6], n[6];
	char s[18];
	int distinct = 0;

	CHECK(domus_conf_mac_parse("52:54:00:AB:cd:0F", m) == 0);
	domus_mac_format(m, s);
	CHECK(!strcmp(s, "52:54:00:ab:cd:0f"));
	CHECK(domus_conf_mac_parse("52:54:00:ab:cd", m) < 0);
	CHECK(domus_conf_mac_parse("52:54:00:ab:cd:0f:", m) < 0);
	CHECK(domus_conf_mac_parse("52-54-00-ab-cd-0f", m) < 0);
	CHECK(domus_conf_mac_parse("5254.00ab.cd0f", m) < 0);
	domus_mac_generate(n);
	for (int i = 0; i < 100; i++) {
		domus_mac_generate(m);
		CHECK(m[0] == 0x52 && m[1] == 0x54 && m[2] == 0x00 && !(m[0] & 1));
		distinct += memcmp(m, n, 6) != 0;
	}
	CHECK(distinct >= 99);
}

int main(void)
{
	test_units();
	test_cpuset();
	test_uuid();
	test_mac();
	return t_done("conf values");
}
