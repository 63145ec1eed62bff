// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The stream engine (virt-driver/rpc/stream.c) on a real server socket: a call opens a
 * stream relayed to one end of a socketpair standing in for a console, and the test
 * speaks the client side of the protocol byte for byte. The daemon cannot open a stream
 * until domains exist, so this is where streams are tested for now.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib.h>

#include "testlib.h"

#define PROC_CONSOLE 201

static int console_peer = -1;	/* the "guest" side of the console */

static void open_call(struct rpc_client *c, const rp_header *hdr, GBytes *packet, size_t skip)
{
	rp_header ok;
	int sv[2];

	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
	if (console_peer >= 0)
		close(console_peer);
	console_peer = sv[1];
	rp_header_answer(&ok, hdr, RP_REPLY, RP_OK);
	rpc_client_send(c, rp_packet_raw(&ok, NULL, 0));
	rpc_stream_open(c, hdr, sv[0]);
}

static void test_gone(struct rpc_client *c)
{
}

static const struct rpc_server_ops ops = { .call = open_call, .client_gone = test_gone };

struct fixture {
	struct test_server ts;
	int fd;
};

static void setup(struct fixture *f, gconstpointer data)
{
	struct rpc_server_config cfg = { .max_clients = 10, .max_queued_out = 64 << 20 };
	GMainContext *ctx = g_main_context_new();

	test_server_start(&f->ts, ctx, rpc_server_new(ctx, &cfg, &ops, NULL));
	g_main_context_unref(ctx);
	f->fd = test_connect(&f->ts);
}

static void teardown(struct fixture *f, gconstpointer data)
{
	close(f->fd);
	test_server_stop(&f->ts);
	if (console_peer >= 0)
		close(console_peer);
	console_peer = -1;
}

static void send_packet(int fd, int type, int status, unsigned int serial, const void *data,
			size_t len)
{
	test_send(fd, RP_REMOTE_PROGRAM, PROC_CONSOLE, type, status, serial, data, len);
}

#define recv_packet test_recv
#define read_exact test_read_exact

static void open_console(struct fixture *f, unsigned int serial)
{
	rp_header h;
	size_t len;
	g_autofree uint8_t *p = NULL;

	send_packet(f->fd, RP_CALL, RP_OK, serial, NULL, 0);
	p = recv_packet(f->fd, &h, &len);
	g_assert_cmpint(h.type, ==, RP_REPLY);
	g_assert_cmpint(h.status, ==, RP_OK);
	g_assert_cmpuint(h.serial, ==, serial);
	g_assert_cmpuint(len, ==, 0);
}

static void expect_stream(struct fixture *f, unsigned int serial, int status, const char *data)
{
	rp_header h;
	size_t len;
	g_autofree uint8_t *p = recv_packet(f->fd, &h, &len);

	g_assert_cmpint(h.type, ==, RP_STREAM);
	g_assert_cmpint(h.proc, ==, PROC_CONSOLE);
	g_assert_cmpuint(h.serial, ==, serial);
	g_assert_cmpint(h.status, ==, status);
	g_assert_cmpuint(len, ==, strlen(data));
	g_assert_true(memcmp(p, data, len) == 0);
}

static void test_data_eof_finish(struct fixture *f, gconstpointer data)
{
	char buf[16] = "";

	open_console(f, 7);
	g_assert_cmpint(write(console_peer, "login: ", 7), ==, 7);
	expect_stream(f, 7, RP_CONTINUE, "login: ");
	send_packet(f->fd, RP_STREAM, RP_CONTINUE, 7, "root\n", 5);
	read_exact(console_peer, buf, 5);
	g_assert_cmpstr(buf, ==, "root\n");
	/* the guest side goes away: EOF is a zero-length CONTINUE, never an unasked OK */
	close(console_peer);
	console_peer = -1;
	expect_stream(f, 7, RP_CONTINUE, "");
	send_packet(f->fd, RP_STREAM, RP_OK, 7, NULL, 0);	/* finish */
	expect_stream(f, 7, RP_OK, "");				/* confirmed */
}

static void test_client_abort(struct fixture *f, gconstpointer data)
{
	char c;

	open_console(f, 3);
	send_packet(f->fd, RP_STREAM, RP_ERROR, 3, NULL, 0);	/* abort */
	expect_stream(f, 3, RP_OK, "");
	/* the console was closed: its peer reads EOF */
	g_assert_cmpint(read(console_peer, &c, 1), ==, 0);
	/* a late packet for the closed stream is dropped; the connection still works */
	send_packet(f->fd, RP_STREAM, RP_CONTINUE, 3, "x", 1);
	open_console(f, 4);
}

static void test_large_output_chunked(struct fixture *f, gconstpointer data)
{
	const size_t total = 1 << 20;
	g_autofree uint8_t *out = g_malloc(total);
	size_t got = 0, written = 0;

	for (size_t i = 0; i < total; i++)
		out[i] = i * 7;
	open_console(f, 9);
	while (got < total) {
		rp_header h;
		size_t len;
		g_autofree uint8_t *p = NULL;

		/* feed the console as the other side drains, like a guest printing a lot */
		if (written < total) {
			ssize_t n = send(console_peer, out + written, total - written, MSG_DONTWAIT);

			if (n > 0)
				written += n;
		}
		if (got >= written)
			continue;
		p = recv_packet(f->fd, &h, &len);
		g_assert_cmpint(h.status, ==, RP_CONTINUE);
		g_assert_cmpuint(len, >, 0);
		g_assert_cmpuint(len, <=, RP_STREAM_CHUNK);
		g_assert_true(memcmp(p, out + got, len) == 0);
		got += len;
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add("/stream/data-eof-finish", struct fixture, NULL, setup, test_data_eof_finish,
		   teardown);
	g_test_add("/stream/client-abort", struct fixture, NULL, setup, test_client_abort, teardown);
	g_test_add("/stream/large-output", struct fixture, NULL, setup, test_large_output_chunked,
		   teardown);
	return g_test_run();
}
