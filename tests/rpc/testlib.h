/* SPDX-License-Identifier: GPL-2.0-or-later */
/* In-process RPC server on a real socket, and a raw client, for the C tests of the rpc suite. */
#ifndef TESTS_RPC_TESTLIB_H
#define TESTS_RPC_TESTLIB_H

#include <glib.h>

#include "server.h"

struct test_server {
	GMainLoop *loop;
	GThread *thread;
	struct rpc_server *srv;
	char *dir;
	char *path;
};

/* Start @srv's loop (its context must be @ctx) on a thread, listening in a temp dir. */
void test_server_start(struct test_server *ts, GMainContext *ctx, struct rpc_server *srv);
/* Free the server on its own thread, stop the loop, clean up. */
void test_server_stop(struct test_server *ts);
/* A connected client socket. */
int test_connect(const struct test_server *ts);

void test_read_exact(int fd, void *buf, size_t n);
/* One packet from @fd: fills @h, returns the payload (g_free) and its length. */
uint8_t *test_recv(int fd, rp_header *h, size_t *len);
void test_send(int fd, unsigned int prog, int proc, int type, int status, unsigned int serial,
	       const void *data, size_t len);
/* A CALL of REMOTE_PROGRAM and its REPLY (asserted OK); returns the payload (g_free). */
uint8_t *test_call(int fd, int proc, unsigned int serial, const void *args, size_t len,
		   size_t *ret_len);

#endif
