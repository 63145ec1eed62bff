// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The peer-to-peer migration client (virt-driver/rpc/peer.c) against a hostile
 * destination: a fake daemon on 127.0.0.1 answers the handshake properly, then answers the
 * call under test (a PREPARE3_PARAMS, whose reply carries a cookie and a URI) with a
 * crafted or mutated reply and closes. Every answer must end the call at once with 0 (a
 * valid reply) or -1 and an error that says what was wrong: truncated packets, length
 * words too small or too large, wrong serial, procedure, version, type or status, error
 * replies good and bad, XDR with impossible lengths, garbage; then a few hundred random
 * mutations of a valid reply (FUZZ_SEED reproduces a run). Run it on a
 * -Db_sanitize=address,undefined build to catch what does not crash outright.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib.h>

#include "packet.h"
#include "peer.h"

#define TIMEOUT_MS 5000

/* What the fake daemon sends as the reply to the call under test. */
struct scenario {
	GBytes *reply;		/* bytes sent as they are, then the connection closes */
};

static int listen_fd;
static unsigned short port;
static struct scenario *current;
static GMutex lock;
static GCond cond;
static bool served;

/* A whole packet from @fd into a GBytes, or NULL at end of file. */
static GBytes *read_call(int fd, rp_header *h)
{
	uint8_t lw[4];
	uint32_t n;
	uint8_t *buf;

	if (recv(fd, lw, 4, MSG_WAITALL) != 4)
		return NULL;
	n = (uint32_t)lw[0] << 24 | lw[1] << 16 | lw[2] << 8 | lw[3];
	g_assert_cmpuint(n, >=, RP_PACKET_MIN);
	g_assert_cmpuint(n, <, 1 << 20);
	buf = g_malloc(n);
	memcpy(buf, lw, 4);
	g_assert_cmpint(recv(fd, buf + 4, n - 4, MSG_WAITALL), ==, (ssize_t)(n - 4));
	g_assert_cmpint(rp_header_decode(buf, n, h), ==, 0);
	return g_bytes_new_take(buf, n);
}

static void send_bytes(int fd, GBytes *b)
{
	size_t len;
	const uint8_t *p = g_bytes_get_data(b, &len);

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n <= 0)
			return;	/* the client gave up first: fine */
		p += n;
		len -= n;
	}
}

/* Answer AUTH_LIST ("none") and CONNECT_OPEN, then the next call with the scenario. */
static void serve_one(int fd)
{
	for (;;) {
		rp_header h, r;
		g_autoptr(GBytes) call = read_call(fd, &h);
		g_autoptr(GBytes) out = NULL;
		struct verr err = { 0 };

		if (!call)
			return;
		rp_header_answer(&r, &h, RP_REPLY, RP_OK);
		if (h.proc == RP_PROC_AUTH_LIST) {
			int none = 0;
			rp_auth_list_ret ret = { .types = { 1, &none } };

			out = rp_packet_encode(&r, (xdrproc_t)xdr_rp_auth_list_ret, &ret, &err);
		} else if (h.proc == RP_PROC_CONNECT_OPEN) {
			out = rp_packet_encode(&r, NULL, NULL, &err);
		} else {
			send_bytes(fd, current->reply);
			return;
		}
		send_bytes(fd, out);
	}
}

static gpointer server(gpointer data)
{
	for (;;) {
		int fd = accept(listen_fd, NULL, NULL);

		if (fd < 0)
			return NULL;
		serve_one(fd);
		shutdown(fd, SHUT_WR);
		close(fd);
		g_mutex_lock(&lock);
		served = true;
		g_cond_signal(&cond);
		g_mutex_unlock(&lock);
	}
}

static rp_header reply_header(unsigned int serial)
{
	/* The client's serials: AUTH_LIST 0, CONNECT_OPEN 1, the call under test 2. */
	return (rp_header){ RP_REMOTE_PROGRAM, RP_REMOTE_VERSION,
			    RP_PROC_DOMAIN_MIGRATE_PREPARE3_PARAMS, RP_REPLY, serial, RP_OK };
}

/* A valid reply: a cookie and a URI. */
static GBytes *good_reply(rp_header h)
{
	char *uri = "tcp:10.0.0.2:49152";
	rp_migrate_prepare3_params_ret ret = { .cookie_out = { 5, "hello" }, .uri_out = &uri };
	struct verr err = { 0 };
	GBytes *b = rp_packet_encode(&h, (xdrproc_t)xdr_rp_migrate_prepare3_params_ret, &ret,
				     &err);

	g_assert_nonnull(b);
	return b;
}

/*
 * Run the call against @reply (taken). Return the call's result; the error's message in
 * @msg (g_malloc'ed, "" on success). The call must end well before its deadline: every
 * scenario closes the connection after its reply.
 */
static int run(GBytes *reply, char **msg)
{
	g_autofree char *uri = g_strdup_printf("domus+tcp://127.0.0.1:%u/system", port);
	struct scenario sc = { .reply = reply };
	rp_migrate_prepare3_params_args args = { 0 };
	rp_migrate_prepare3_params_ret ret = { 0 };
	struct verr err = { 0 };
	struct rpc_peer *p;
	gint64 t0 = g_get_monotonic_time();
	int r;

	g_mutex_lock(&lock);
	current = &sc;
	served = false;
	g_mutex_unlock(&lock);
	p = rpc_peer_open(uri, TIMEOUT_MS, &err);
	g_assert_nonnull(p);
	r = rpc_peer_call(p, RP_PROC_DOMAIN_MIGRATE_PREPARE3_PARAMS,
			  (xdrproc_t)xdr_rp_migrate_prepare3_params_args, &args,
			  (xdrproc_t)xdr_rp_migrate_prepare3_params_ret, &ret, TIMEOUT_MS, &err);
	g_assert_true(r == 0 || r == -1);
	if (r == 0) {
		g_assert_cmpstr(err.message, ==, "");
		xdr_free((xdrproc_t)xdr_rp_migrate_prepare3_params_ret, (char *)&ret);
	} else {
		g_assert_cmpstr(err.message, !=, "");
		g_assert_nonnull(g_utf8_validate(err.message, -1, NULL) ? err.message : NULL);
	}
	/* Nothing waited for its deadline: the peer closed, so everything ends at once. */
	g_assert_cmpint(g_get_monotonic_time() - t0, <, TIMEOUT_MS * 1000 / 2);
	rpc_peer_close(p);
	g_mutex_lock(&lock);
	while (!served)
		g_cond_wait(&cond, &lock);
	current = NULL;
	g_mutex_unlock(&lock);
	g_bytes_unref(reply);
	*msg = g_strdup(err.message);
	return r;
}

static void expect_error(GBytes *reply, const char *text)
{
	g_autofree char *msg = NULL;
	int r = run(reply, &msg);

	if (r == 0 || !strstr(msg, text))
		g_error("expected an error with '%s', got %d '%s'", text, r, msg);
	g_test_message("refused: %s", msg);
}

/* Bytes: the given packet with its length word rewritten to @len. */
static GBytes *with_length(GBytes *pkt, uint32_t len)
{
	gsize n;
	uint8_t *b = g_bytes_unref_to_data(pkt, &n);

	b[0] = len >> 24, b[1] = len >> 16, b[2] = len >> 8, b[3] = len;
	return g_bytes_new_take(b, n);
}

static GBytes *concat(GBytes *a, GBytes *b)
{
	GByteArray *x = g_bytes_unref_to_array(a);
	gsize n;
	const uint8_t *d = g_bytes_get_data(b, &n);

	g_byte_array_append(x, d, n);
	g_bytes_unref(b);
	return g_byte_array_free_to_bytes(x);
}

static void test_valid(void)
{
	g_autofree char *msg = NULL;

	g_assert_cmpint(run(good_reply(reply_header(2)), &msg), ==, 0);
}

static void test_truncated(void)
{
	GBytes *good = good_reply(reply_header(2));

	expect_error(g_bytes_new_from_bytes(good, 0, g_bytes_get_size(good) - 7),
		     "reply cut short");
	expect_error(g_bytes_new_from_bytes(good, 0, 2), "no reply");
	expect_error(g_bytes_new(NULL, 0), "no reply");
	g_bytes_unref(good);
}

static void test_lengths(void)
{
	expect_error(with_length(good_reply(reply_header(2)), 8),
		     "migration peer 127.0.0.1: packet length 8 is shorter than the 28-byte header");
	expect_error(with_length(good_reply(reply_header(2)), 0xffffffffu),
		     "packet length 4294967295 exceeds the maximum");
	expect_error(with_length(good_reply(reply_header(2)), RP_PACKET_MAX + 1),
		     "exceeds the maximum");
	/* Longer than what follows: the reply is cut short. */
	expect_error(with_length(good_reply(reply_header(2)), 4096), "reply cut short");
	/* Shorter than its XDR: the payload does not decode. */
	expect_error(with_length(good_reply(reply_header(2)), RP_PACKET_MIN + 6),
		     "cannot decode the reply");
}

/* A header field of the reply changed to a value, and what the error must say. */
static const struct {
	size_t field;		/* offsetof(rp_header, …): all are 4-byte words */
	unsigned int value;
	const char *text;
} bad_headers[] = {
	{ offsetof(rp_header, proc), RP_PROC_AUTH_LIST, "is for procedure 66" },
	{ offsetof(rp_header, vers), 9, "version 9" },
	{ offsetof(rp_header, status), RP_CONTINUE, "neither OK nor ERROR" },
	{ offsetof(rp_header, status), 77, "status 77" },
	/* A message, a call and another program's packet with our serial are not replies. */
	{ offsetof(rp_header, type), RP_MESSAGE, "no reply" },
	{ offsetof(rp_header, type), RP_CALL, "no reply" },
	{ offsetof(rp_header, prog), RP_KEEPALIVE_PROGRAM, "no reply" },
};

static void test_header(void)
{
	rp_header h = reply_header(2);

	/* Another serial, then nothing: skipped, and the connection's end is the error. */
	h.serial = 7;
	expect_error(good_reply(h), "no reply");
	/* Another serial, then the real reply: skipped, then taken. */
	{
		g_autofree char *msg = NULL;

		g_assert_cmpint(run(concat(good_reply(h), good_reply(reply_header(2))), &msg), ==,
				0);
	}
	for (size_t i = 0; i < G_N_ELEMENTS(bad_headers); i++) {
		unsigned int v = bad_headers[i].value;

		h = reply_header(2);
		memcpy((char *)&h + bad_headers[i].field, &v, sizeof(v));
		expect_error(good_reply(h), bad_headers[i].text);
	}
}

static void test_error_replies(void)
{
	rp_header h = reply_header(2);
	struct verr e = { .code = 55, .domain = 10 };
	struct verr err = { 0 };
	GBytes *pkt;
	g_autofree char *msg = NULL;

	g_strlcpy(e.message, "Requested operation is not valid: domain 'x' is already running",
		  sizeof(e.message));
	pkt = rp_packet_error(&h, RP_REPLY, &e);
	g_assert_cmpint(run(pkt, &msg), ==, -1);
	g_assert_nonnull(strstr(msg, "already running (on 127.0.0.1)"));
	/* An error status whose payload is not an error. */
	h.status = RP_ERROR;
	expect_error(good_reply(h), "undecodable error reply");
	expect_error(rp_packet_encode(&h, NULL, NULL, &err), "undecodable error reply");
}

/* The good reply's payload with the URI's string length replaced by @n. */
static void test_xdr_lengths(void)
{
	static const uint32_t lens[] = { 0xffffffffu, 0x7fffffffu, RP_STRING_MAX + 1, 1000 };

	for (size_t i = 0; i < G_N_ELEMENTS(lens); i++) {
		GBytes *good = good_reply(reply_header(2));
		gsize n;
		uint8_t *b = g_bytes_unref_to_data(good, &n);
		/* header, cookie (len 5 + 3 pad), the URI pointer's "present" word, its length */
		size_t at = RP_PACKET_MIN + 4 + 8 + 4;
		uint32_t v = htonl(lens[i]);

		memcpy(b + at, &v, 4);
		expect_error(g_bytes_new_take(b, n), "cannot decode the reply");
	}
	/* The cookie's length likewise. */
	{
		GBytes *good = good_reply(reply_header(2));
		gsize n;
		uint8_t *b = g_bytes_unref_to_data(good, &n);
		uint32_t v = htonl(0xfffffff0u);

		memcpy(b + RP_PACKET_MIN, &v, 4);
		expect_error(g_bytes_new_take(b, n), "cannot decode the reply");
	}
	/* Garbage after a valid payload, and garbage instead of one. */
	{
		GBytes *good = good_reply(reply_header(2));
		GByteArray *x = g_bytes_unref_to_array(good);
		uint32_t len = x->len + 8;

		g_byte_array_append(x, (const uint8_t *)"trailing", 8);
		expect_error(with_length(g_byte_array_free_to_bytes(x), len),
			     "cannot decode the reply");
	}
}

/* Random mutations of the valid reply: bit flips, cuts, junk, header fields. */
static void test_fuzz(void)
{
	const char *seed_env = g_getenv("FUZZ_SEED");
	guint32 seed = seed_env ? (guint32)g_ascii_strtoull(seed_env, NULL, 10) : g_random_int();
	g_autoptr(GRand) rnd = g_rand_new_with_seed(seed);
	unsigned int ok = 0, refused = 0;

	g_test_message("FUZZ_SEED=%u", seed);
	for (int i = 0; i < 300; i++) {
		GBytes *good = good_reply(reply_header(2));
		gsize n;
		uint8_t *b = g_bytes_unref_to_data(good, &n);
		g_autofree char *msg = NULL;
		int flips = g_rand_int_range(rnd, 1, 6);

		for (int f = 0; f < flips; f++) {
			/* Mostly in the header and the length words, where parsing decides. */
			size_t at = g_rand_boolean(rnd) ? g_rand_int_range(rnd, 0, RP_PACKET_MIN + 20) :
							  g_rand_int_range(rnd, 0, n);

			if (at >= n)
				at = n - 1;
			if (g_rand_int_range(rnd, 0, 4) == 0)
				b[at] = g_rand_int_range(rnd, 0, 256);
			else
				b[at] ^= 1u << g_rand_int_range(rnd, 0, 8);
		}
		if (g_rand_int_range(rnd, 0, 5) == 0)
			n = g_rand_int_range(rnd, 0, n + 1);	/* cut short */
		if (run(g_bytes_new_take(b, n), &msg) == 0)
			ok++;
		else
			refused++;
	}
	g_test_message("300 mutated replies: %u taken, %u refused with an error", ok, refused);
	g_assert_cmpuint(refused, >, 0);
}

int main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);

	g_test_init(&argc, &argv, NULL);
	listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(listen_fd, 8) < 0 || getsockname(listen_fd, (struct sockaddr *)&a, &alen) < 0) {
		g_test_skip("no loopback TCP");
		return 77;
	}
	port = ntohs(a.sin_port);
	g_thread_unref(g_thread_new("fake-peer", server, NULL));
	g_test_add_func("/peer/valid", test_valid);
	g_test_add_func("/peer/truncated", test_truncated);
	g_test_add_func("/peer/lengths", test_lengths);
	g_test_add_func("/peer/header", test_header);
	g_test_add_func("/peer/error-replies", test_error_replies);
	g_test_add_func("/peer/xdr-lengths", test_xdr_lengths);
	g_test_add_func("/peer/fuzz", test_fuzz);
	return g_test_run();
}
