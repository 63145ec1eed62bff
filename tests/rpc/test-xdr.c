// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of the wire layer: the rpcgen-generated XDR of our protocol definition
 * against byte layouts observed from libvirt 9.0 (shared/briefs/libvirt-rpc.md), round
 * trips of every shape the daemon sends, and framing edge cases.
 */
#include <string.h>

#include <glib.h>
#include <rpc/xdr.h>

#include "packet.h"

static GBytes *from_hex(const char *hex)
{
	size_t n = strlen(hex) / 2;
	uint8_t *b = g_malloc(n);

	for (size_t i = 0; i < n; i++)
		sscanf(hex + 2 * i, "%2hhx", &b[i]);
	return g_bytes_new_take(b, n);
}

static char *to_hex(GBytes *b)
{
	size_t n;
	const uint8_t *p = g_bytes_get_data(b, &n);
	GString *s = g_string_new(NULL);

	for (size_t i = 0; i < n; i++)
		g_string_append_printf(s, "%02x", p[i]);
	return g_string_free(s, FALSE);
}

/* Encode @data with @proc as a REPLY to proc 66 serial 0 and return the payload bytes. */
static GBytes *encode_payload(xdrproc_t proc, const void *data)
{
	rp_header h = { RP_REMOTE_PROGRAM, 1, 66, RP_REPLY, 0, RP_OK };
	struct verr err = { 0 };
	GBytes *pkt = rp_packet_encode(&h, proc, data, &err);

	g_assert_nonnull(pkt);
	return g_bytes_new_from_bytes(pkt, RP_PACKET_MIN, g_bytes_get_size(pkt) - RP_PACKET_MIN);
}

static void test_auth_list_reply_bytes(void)
{
	int types[1] = { 0 };
	rp_auth_list_ret ret = { .types = { 1, types } };
	rp_header h = { RP_REMOTE_PROGRAM, 1, 66, RP_REPLY, 0, RP_OK };
	struct verr err = { 0 };
	g_autoptr(GBytes) pkt = rp_packet_encode(&h, (xdrproc_t)xdr_rp_auth_list_ret, &ret, &err);
	g_autofree char *hex = to_hex(pkt);

	/* The AUTH_LIST reply libvirt 9.0 clients accept (brief §2.8). */
	g_assert_cmpstr(hex, ==, "00000024200080860000000100000042000000010000000000000000"
				 "0000000100000000");
}

static void test_connect_open_args_decode(void)
{
	g_autoptr(GBytes) pkt = from_hex("0000002c20008086000000010000000100000000000000020000000000000001"
					 "0000000f646f6d75733a2f2f2f73797374656d0000000000");
	size_t len;
	const uint8_t *b = g_bytes_get_data(pkt, &len);
	rp_connect_open_args args;
	rp_header h;

	g_assert_cmpint(rp_header_decode(b, len, &h), ==, 0);
	g_assert_cmpuint(h.prog, ==, RP_REMOTE_PROGRAM);
	g_assert_cmpint(h.proc, ==, 1);
	g_assert_cmpuint(h.serial, ==, 2);
	memset(&args, 0, sizeof(args));
	g_assert_cmpint(rp_payload_decode(b, len, 0, (xdrproc_t)xdr_rp_connect_open_args, &args), ==, 0);
	g_assert_nonnull(args.name);
	g_assert_cmpstr(*args.name, ==, "domus:///system");
	g_assert_cmpuint(args.flags, ==, 0);
	xdr_free((xdrproc_t)xdr_rp_connect_open_args, &args);
}

static void test_node_info_model_is_128_bytes(void)
{
	rp_node_get_info_ret ni = { .memory = 1, .cpus = 2 };
	g_autoptr(GBytes) p = NULL;
	const uint8_t *b;

	memcpy(ni.model, "x86_64", 6);
	p = encode_payload((xdrproc_t)xdr_rp_node_get_info_ret, &ni);
	/* char model[32]: one 4-byte int per char, then hyper memory and six ints. */
	g_assert_cmpuint(g_bytes_get_size(p), ==, 128 + 8 + 6 * 4);
	b = g_bytes_get_data(p, NULL);
	g_assert_cmpint(b[3], ==, 'x');
	g_assert_cmpint(b[7], ==, '8');
	g_assert_cmpint(b[6 * 4 + 3], ==, 0);
	g_assert_cmpint(b[128 + 7], ==, 1);	/* memory, big-endian */
	g_assert_cmpint(b[128 + 8 + 3], ==, 2);	/* cpus */
}

static void test_domain_info_char_short_promotion(void)
{
	rp_domain_get_info_ret di = { .state = 5, .maxMem = 2, .memory = 3, .nrVirtCpu = 4, .cpuTime = 6 };
	g_autoptr(GBytes) p = encode_payload((xdrproc_t)xdr_rp_domain_get_info_ret, &di);
	g_autofree char *hex = to_hex(p);

	g_assert_cmpstr(hex, ==, "00000005" "0000000000000002" "0000000000000003" "00000004"
				 "0000000000000006");
}

static void test_error_layout(void)
{
	rp_header call = { RP_REMOTE_PROGRAM, 1, 23, RP_CALL, 9, RP_OK };
	struct verr err = { 0 };
	g_autoptr(GBytes) pkt = NULL;
	g_autofree char *hex = NULL;
	rp_header h;

	verr_set(&err, VERR_NO_DOMAIN, VERR_FROM_DOMAIN, "no domain with matching name '%s'", "x");
	g_assert_cmpstr(err.message, ==, "Domain not found: no domain with matching name 'x'");
	pkt = rp_packet_error(&call, RP_REPLY, &err);
	g_assert_cmpint(rp_header_decode(g_bytes_get_data(pkt, NULL), g_bytes_get_size(pkt), &h), ==, 0);
	g_assert_cmpint(h.type, ==, RP_REPLY);
	g_assert_cmpint(h.status, ==, RP_ERROR);
	g_assert_cmpint(h.proc, ==, 23);
	g_assert_cmpuint(h.serial, ==, 9);
	hex = to_hex(pkt);
	/* code 42, domain 20, message present, then level 2, dom absent, str1 present ... */
	g_assert_true(g_str_has_prefix(hex + 2 * RP_PACKET_MIN, "0000002a0000001400000001"));
	/* ... str2, str3 absent, int1 -1, int2 -1, net absent at the very end */
	g_assert_true(g_str_has_suffix(hex, "0000000000000000ffffffffffffffff00000000"));
}

static void test_verr_prefixes(void)
{
	struct verr e = { 0 };

	verr_no_support(&e, VERR_FROM_DOMAIN, "virDomainSave");
	g_assert_cmpstr(e.message, ==,
			"this function is not supported by the connection driver: virDomainSave");
	g_assert_cmpint(e.code, ==, 3);
	verr_set(&e, VERR_RPC, VERR_FROM_RPC, "unknown procedure: %d", 7);
	g_assert_cmpstr(e.message, ==, "unknown procedure: 7");
	verr_set(&e, VERR_OPERATION_INVALID, VERR_FROM_DOMAIN, "%s", "");
	g_assert_cmpstr(e.message, ==, "Requested operation is not valid");
	verr_set(&e, VERR_NO_CONNECT, VERR_FROM_REMOTE, "'%s'", "qemu:///system");
	g_assert_cmpstr(e.message, ==, "no connection driver available for 'qemu:///system'");
}

static void test_typed_params_round_trip(void)
{
	char *field[3] = { "weight", "cpu.time", "name" };
	rp_typed_param in[3] = {
		{ field[0], { .type = 2, .rp_typed_param_value_u.ui = 512 } },
		{ field[1], { .type = 4, .rp_typed_param_value_u.ul = 1ULL << 40 } },
		{ field[2], { .type = 7, .rp_typed_param_value_u.s = "vm1" } },
	};
	rp_sched_params_ret ret = { .params = { 3, in } }, out;
	g_autoptr(GBytes) p = encode_payload((xdrproc_t)xdr_rp_sched_params_ret, &ret);
	XDR x;

	memset(&out, 0, sizeof(out));
	xdrmem_create(&x, (char *)g_bytes_get_data(p, NULL), g_bytes_get_size(p), XDR_DECODE);
	g_assert_true(xdr_rp_sched_params_ret(&x, &out));
	xdr_destroy(&x);
	g_assert_cmpuint(out.params.params_len, ==, 3);
	g_assert_cmpstr(out.params.params_val[0].field, ==, "weight");
	g_assert_cmpuint(out.params.params_val[0].value.rp_typed_param_value_u.ui, ==, 512);
	g_assert_cmpuint(out.params.params_val[1].value.rp_typed_param_value_u.ul, ==, 1ULL << 40);
	g_assert_cmpstr(out.params.params_val[2].value.rp_typed_param_value_u.s, ==, "vm1");
	xdr_free((xdrproc_t)xdr_rp_sched_params_ret, &out);
}

static void test_lifecycle_event_bytes(void)
{
	rp_event_lifecycle_msg m = { .callbackID = 0, .dom = { "test", { 0 }, 1 }, .event = 3,
				     .detail = 0 };
	g_autoptr(GBytes) p = encode_payload((xdrproc_t)xdr_rp_event_lifecycle_msg, &m);
	g_autofree char *hex = to_hex(p);

	/* callbackID, name "test", 16-byte uuid, id 1, SUSPENDED, PAUSED (brief §2.8) */
	g_assert_cmpstr(hex, ==, "00000000" "00000004" "74657374" "00000000000000000000000000000000"
				 "00000001" "00000003" "00000000");
}

static void test_domain_list_round_trip(void)
{
	rp_nonnull_domain doms[2] = { { "a", { 1 }, 3 }, { "bb", { 2 }, -1 } };
	rp_list_all_domains_ret ret = { .domains = { 2, doms }, .ret = 2 }, out;
	g_autoptr(GBytes) p = encode_payload((xdrproc_t)xdr_rp_list_all_domains_ret, &ret);
	XDR x;

	memset(&out, 0, sizeof(out));
	xdrmem_create(&x, (char *)g_bytes_get_data(p, NULL), g_bytes_get_size(p), XDR_DECODE);
	g_assert_true(xdr_rp_list_all_domains_ret(&x, &out));
	xdr_destroy(&x);
	g_assert_cmpuint(out.domains.domains_len, ==, 2);
	g_assert_cmpstr(out.domains.domains_val[1].name, ==, "bb");
	g_assert_cmpint(out.domains.domains_val[1].id, ==, -1);
	g_assert_cmpint(out.domains.domains_val[1].uuid[0], ==, 2);
	xdr_free((xdrproc_t)xdr_rp_list_all_domains_ret, &out);
}

static void test_frame_lengths(void)
{
	struct verr e = { 0 };

	g_assert_cmpint(rp_frame_length_check(0, &e), ==, -1);
	g_assert_cmpint(rp_frame_length_check(27, &e), ==, -1);
	g_assert_true(strstr(e.message, "shorter than the 28-byte header"));
	g_assert_cmpint(rp_frame_length_check(28, &e), ==, 0);
	g_assert_cmpint(rp_frame_length_check(16777216 + 4, &e), ==, 0);
	g_assert_cmpint(rp_frame_length_check(16777216 + 5, &e), ==, -1);
	g_assert_cmpint(rp_frame_length_check(0xffffffff, &e), ==, -1);
}

static void test_payload_decode_strict(void)
{
	/* SUPPORTS_FEATURE call: exact, short and with trailing bytes */
	g_autoptr(GBytes) exact = from_hex("000000202000808600000001000000"
					   "3c000000000000000100000000" "0000000a");
	g_autoptr(GBytes) shrt = from_hex("0000001e2000808600000001000000"
					  "3c000000000000000100000000" "0000");
	g_autoptr(GBytes) trailing = from_hex("000000242000808600000001000000"
					      "3c000000000000000100000000" "0000000a00000000");
	rp_int_msg m = { 0 };
	rp_header h;

	g_assert_cmpint(rp_payload_decode(g_bytes_get_data(exact, NULL), g_bytes_get_size(exact), 0,
					  (xdrproc_t)xdr_rp_int_msg, &m), ==, 0);
	g_assert_cmpint(m.v, ==, 10);
	g_assert_cmpint(rp_payload_decode(g_bytes_get_data(shrt, NULL), g_bytes_get_size(shrt), 0,
					  (xdrproc_t)xdr_rp_int_msg, &m), ==, -1);
	g_assert_cmpint(rp_payload_decode(g_bytes_get_data(trailing, NULL), g_bytes_get_size(trailing),
					  0, (xdrproc_t)xdr_rp_int_msg, &m), ==, -1);
	g_assert_cmpint(rp_header_decode(g_bytes_get_data(exact, NULL), 27, &h), ==, -1);
}

static void test_string_bound(void)
{
	/* LOOKUP_BY_NAME with a declared string length over RP_STRING_MAX: refused, no alloc. */
	g_autoptr(GBytes) pkt = from_hex("000000202000808600000001000000170000000000000000"
					 "00000000" "00400001");
	rp_string_msg m = { 0 };

	g_assert_cmpint(rp_payload_decode(g_bytes_get_data(pkt, NULL), g_bytes_get_size(pkt), 0,
					  (xdrproc_t)xdr_rp_string_msg, &m), ==, -1);
	g_assert_null(m.v);
}

static void test_oversized_reply_refused(void)
{
	rp_header h = { RP_REMOTE_PROGRAM, 1, 7, RP_REPLY, 0, RP_OK };
	struct verr err = { 0 };
	rp_string_msg m = { .v = g_malloc(RP_MESSAGE_PAYLOAD_MAX + 1) };

	/* xdr_string stops at RP_STRING_MAX: the encoder must fail cleanly, not truncate. */
	memset(m.v, 'a', RP_MESSAGE_PAYLOAD_MAX);
	m.v[RP_MESSAGE_PAYLOAD_MAX] = 0;
	g_assert_null(rp_packet_encode(&h, (xdrproc_t)xdr_rp_string_msg, &m, &err));
	g_assert_cmpint(err.code, ==, VERR_RPC);
	g_free(m.v);
}

static void test_raw_and_keepalive(void)
{
	g_autoptr(GBytes) ping = rp_packet_keepalive(RP_KEEPALIVE_PING);
	g_autofree char *hex = to_hex(ping);
	rp_header h = { RP_REMOTE_PROGRAM, 1, 201, RP_STREAM, 4, RP_CONTINUE };
	g_autoptr(GBytes) data = rp_packet_raw(&h, "hi", 2);
	g_autoptr(GBytes) eof = rp_packet_raw(&h, NULL, 0);

	g_assert_cmpstr(hex, ==, "0000001c6b6565700000000100000001000000020000000000000000");
	g_assert_cmpuint(g_bytes_get_size(data), ==, RP_PACKET_MIN + 2);
	g_assert_cmpint(((const uint8_t *)g_bytes_get_data(data, NULL))[28], ==, 'h');
	g_assert_cmpuint(g_bytes_get_size(eof), ==, RP_PACKET_MIN);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/xdr/auth-list-reply-bytes", test_auth_list_reply_bytes);
	g_test_add_func("/xdr/connect-open-args", test_connect_open_args_decode);
	g_test_add_func("/xdr/node-info-model-128", test_node_info_model_is_128_bytes);
	g_test_add_func("/xdr/domain-info-promotion", test_domain_info_char_short_promotion);
	g_test_add_func("/xdr/error-layout", test_error_layout);
	g_test_add_func("/xdr/verr-prefixes", test_verr_prefixes);
	g_test_add_func("/xdr/typed-params", test_typed_params_round_trip);
	g_test_add_func("/xdr/lifecycle-event-bytes", test_lifecycle_event_bytes);
	g_test_add_func("/xdr/domain-list", test_domain_list_round_trip);
	g_test_add_func("/framing/lengths", test_frame_lengths);
	g_test_add_func("/framing/strict-decode", test_payload_decode_strict);
	g_test_add_func("/framing/string-bound", test_string_bound);
	g_test_add_func("/framing/oversized-reply", test_oversized_reply_refused);
	g_test_add_func("/framing/raw-and-keepalive", test_raw_and_keepalive);
	return g_test_run();
}
