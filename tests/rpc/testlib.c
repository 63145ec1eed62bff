// SPDX-License-Identifier: GPL-2.0-or-later
/* Helpers for the C tests of the rpc suite (see testlib.h). */
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "testlib.h"

static gpointer run_loop(gpointer loop)
{
	g_main_context_push_thread_default(g_main_loop_get_context(loop));
	g_main_loop_run(loop);
	return NULL;
}

void test_server_start(struct test_server *ts, GMainContext *ctx, struct rpc_server *srv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ts->dir = g_dir_make_tmp("test-rpc-XXXXXX", NULL);
	ts->path = g_build_filename(ts->dir, "sock", NULL);
	g_strlcpy(sa.sun_path, ts->path, sizeof(sa.sun_path));
	g_assert_cmpint(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
	g_assert_cmpint(listen(lfd, 16), ==, 0);
	ts->srv = srv;
	rpc_server_add_listener(srv, lfd, false, ts->path);
	ts->loop = g_main_loop_new(ctx, FALSE);
	ts->thread = g_thread_new("io", run_loop, ts->loop);
}

static gboolean stop_on_loop(gpointer data)
{
	struct test_server *ts = data;

	rpc_server_free(ts->srv);
	g_main_loop_quit(ts->loop);
	return G_SOURCE_REMOVE;
}

void test_server_stop(struct test_server *ts)
{
	g_main_context_invoke(g_main_loop_get_context(ts->loop), stop_on_loop, ts);
	g_thread_join(ts->thread);
	g_main_loop_unref(ts->loop);
	g_unlink(ts->path);
	g_rmdir(ts->dir);
	g_free(ts->path);
	g_free(ts->dir);
}

int test_connect(const struct test_server *ts)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	g_strlcpy(sa.sun_path, ts->path, sizeof(sa.sun_path));
	g_assert_cmpint(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
	return fd;
}

void test_read_exact(int fd, void *buf, size_t n)
{
	size_t have = 0;

	while (have < n) {
		ssize_t r = read(fd, (char *)buf + have, n - have);

		g_assert_cmpint(r, >, 0);
		have += r;
	}
}

uint8_t *test_recv(int fd, rp_header *h, size_t *len)
{
	uint8_t lw[4], *buf;
	uint32_t total;

	test_read_exact(fd, lw, 4);
	total = (uint32_t)lw[0] << 24 | lw[1] << 16 | lw[2] << 8 | lw[3];
	g_assert_cmpuint(total, >=, RP_PACKET_MIN);
	buf = g_malloc(total);
	memcpy(buf, lw, 4);
	test_read_exact(fd, buf + 4, total - 4);
	g_assert_cmpint(rp_header_decode(buf, total, h), ==, 0);
	*len = total - RP_PACKET_MIN;
	memmove(buf, buf + RP_PACKET_MIN, *len);
	return buf;
}

void test_send(int fd, unsigned int prog, int proc, int type, int status, unsigned int serial,
	       const void *data, size_t len)
{
	rp_header h = { prog, 1, proc, type, serial, status };
	g_autoptr(GBytes) p = rp_packet_raw(&h, data, len);
	size_t n;
	const void *b = g_bytes_get_data(p, &n);

	g_assert_cmpint(write(fd, b, n), ==, (ssize_t)n);
}

uint8_t *test_call(int fd, int proc, unsigned int serial, const void *args, size_t len,
		   size_t *ret_len)
{
	rp_header h;
	uint8_t *p;

	test_send(fd, RP_REMOTE_PROGRAM, proc, RP_CALL, RP_OK, serial, args, len);
	p = test_recv(fd, &h, ret_len);
	g_assert_cmpint(h.type, ==, RP_REPLY);
	g_assert_cmpuint(h.serial, ==, serial);
	g_assert_cmpint(h.status, ==, RP_OK);
	return p;
}
