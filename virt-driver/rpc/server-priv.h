/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Internals shared by server.c, client.c and stream.c. */
#ifndef VIRTD_SERVER_PRIV_H
#define VIRTD_SERVER_PRIV_H

#include "server.h"

struct rpc_listener {
	struct rpc_server *srv;
	int fd;
	bool readonly;
	char *path;
	GSource *src;			/* NULL while paused (max_anonymous_clients) */
	gint nanon;			/* atomic: its clients not identified yet */
};

struct rpc_server {
	GMainContext *ctx;
	struct rpc_server_config cfg;
	const struct rpc_server_ops *ops;
	void *app;
	GPtrArray *listeners;		/* struct rpc_listener * */
	GList *clients;			/* struct rpc_client *, I/O thread only */
	unsigned int nclients;
	uint64_t next_client_id;
	GSource *ka_timer;
	GSource *resume_timer;		/* while a listener is paused (max_anonymous_clients) */
	void (*count_notify)(void *app);
};

/* Incoming packet assembly. */
struct rpc_rx {
	uint8_t lenbuf[RP_LEN_WORD];
	size_t lenhave;
	uint8_t *buf;			/* the whole packet once the length is known */
	size_t len, have, alloc;
	unsigned int drain;		/* fd dummy bytes still to swallow after a packet */
	rp_header hdr;			/* of the packet whose fds are being drained */
	bool drained_call;
};

struct rpc_client {
	gint refs;
	struct rpc_server *srv;		/* NULL once the client is gone */
	GMainContext *ctx;		/* the server's, kept after it is gone */
	int fd;
	bool readonly;
	uint64_t id;
	uid_t uid;
	pid_t pid;
	char *local_host;		/* TCP: the address the client reached us on */
	struct rpc_listener *listener;	/* where it connected (outlives its clients) */
	gint anonymous;			/* atomic: counted in listener->nanon */
	GSource *anon_timer;		/* drops it if it stays anonymous, I/O thread */
	GSource *src;			/* fd watch, I/O thread */
	gpointer fd_tag;
	struct rpc_rx rx;

	GMutex lock;			/* guards the fields below */
	GQueue txq;			/* GBytes * */
	size_t txbytes;
	size_t txoff;			/* written of the head packet */
	bool close_after_flush;
	gint input_paused;		/* atomic: written by any thread, read by the I/O thread */
	bool gone;
	bool kick_pending;

	/* keepalive, I/O thread */
	bool ka_enabled;
	gint64 last_rx;			/* monotonic µs */
	gint64 last_ping;
	GList *streams;			/* struct rpc_stream *, I/O thread */

	void *data;
	GDestroyNotify data_free;
};

void rpc_client_accept(struct rpc_server *srv, int fd, struct rpc_listener *l);
void rpc_client_drop(struct rpc_client *c, const char *why);
/* Re-evaluate the fd watch (write interest, stream reads). I/O thread. */
void rpc_client_update_io(struct rpc_client *c);

/*
 * A source watching @fd (G_IO_IN at first; change with g_source_modify_unix_fd on *@tag)
 * that calls @cb(@data), attached to @ctx.
 */
GSource *rpc_fd_source_new(GMainContext *ctx, int fd, GSourceFunc cb, gpointer data, gpointer *tag);

/* stream.c */
void rpc_stream_packet(struct rpc_client *c, const rp_header *hdr, const uint8_t *payload,
		       size_t len);
void rpc_stream_close_all(struct rpc_client *c);
void rpc_stream_update_io(struct rpc_client *c);

#define RPC_STREAM_TX_HIGH (2 * 1024 * 1024)	/* stop reading consoles above this backlog */

#endif
