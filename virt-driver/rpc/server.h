/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The RPC server: listening sockets, client connections and their I/O, keepalive and
 * streams. It knows the framing and the keepalive program but nothing about procedures:
 * complete REMOTE_PROGRAM calls go to the application's rpc_server_ops.
 *
 * Thread model: everything in this file runs on the thread that runs the server's
 * GMainContext (the "I/O thread"), except the functions marked thread-safe, which worker
 * threads use to answer calls.
 */
#ifndef VIRTD_SERVER_H
#define VIRTD_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <glib.h>

#include "packet.h"

struct rpc_server;
struct rpc_client;
struct rpc_stream;

struct rpc_server_ops {
	/*
	 * A complete CALL (or CALL_WITH_FDS, @skip = 4 for the fd count) for REMOTE_PROGRAM v1.
	 * @packet is the whole packet. Runs on the I/O thread; must not block.
	 */
	void (*call)(struct rpc_client *c, const rp_header *hdr, GBytes *packet, size_t skip);
	/* The client is going away (EOF, error, close): drop what the application holds. */
	void (*client_gone)(struct rpc_client *c);
};

struct rpc_server_config {
	unsigned int max_clients;		/* connections at once */
	unsigned int keepalive_interval;	/* s; 0 disables server PINGs */
	unsigned int keepalive_count;		/* PINGs without an answer before dropping */
	size_t max_queued_out;			/* bytes queued to a slow reader before dropping it */
	/*
	 * Connections that have not opened a connection (CONNECT_OPEN) yet, per listening
	 * socket, and for how long one may stay so: anyone who can reach the read-only socket
	 * (or a TCP port) could otherwise hold every slot without ever saying a word.
	 */
	unsigned int max_anonymous_clients;
	unsigned int anonymous_timeout;		/* s; 0: no limit */
};

struct rpc_server *rpc_server_new(GMainContext *ctx, const struct rpc_server_config *cfg,
				  const struct rpc_server_ops *ops, void *app);
void rpc_server_free(struct rpc_server *srv);
/* @c opened its connection: it no longer counts as anonymous. Any thread. */
void rpc_client_identified(struct rpc_client *c);
void *rpc_server_app(struct rpc_server *srv);

/*
 * rpc_server_add_listener() - accept clients on @fd (a listening UNIX stream socket, now
 * owned by the server); clients of a @readonly listener are read-only.
 */
void rpc_server_add_listener(struct rpc_server *srv, int fd, bool readonly, const char *path);

/* Number of connected clients. */
unsigned int rpc_server_nclients(struct rpc_server *srv);

/* Called whenever the number of clients changes (for the idle timeout). */
void rpc_server_set_client_count_notify(struct rpc_server *srv, void (*fn)(void *app));

/* Iterate the connected clients (I/O thread). */
void rpc_server_foreach_client(struct rpc_server *srv,
			       void (*fn)(struct rpc_client *c, void *opaque),
			       void *opaque);

/* ---- Clients ---- */
struct rpc_client *rpc_client_ref(struct rpc_client *c);	/* thread-safe */
void rpc_client_unref(struct rpc_client *c);			/* thread-safe */
struct rpc_server *rpc_client_server(struct rpc_client *c);
bool rpc_client_readonly(struct rpc_client *c);
uint64_t rpc_client_id(struct rpc_client *c);
uid_t rpc_client_uid(struct rpc_client *c);
pid_t rpc_client_pid(struct rpc_client *c);
/* A TCP client: the numeric address it connected to ("[…]" for IPv6); else NULL. */
const char *rpc_client_local_host(struct rpc_client *c);
void *rpc_client_get_data(struct rpc_client *c);
void rpc_client_set_data(struct rpc_client *c, void *data, GDestroyNotify destroy);

/* The client asked for keepalive (feature PROGRAM_KEEPALIVE): start PINGing it when idle. */
void rpc_client_enable_keepalive(struct rpc_client *c);

/*
 * rpc_client_send() - queue a complete packet for the client and take ownership of it.
 * Thread-safe. Packets from one thread go out in the order they were queued; a packet for
 * a client that has gone is dropped.
 */
void rpc_client_send(struct rpc_client *c, GBytes *packet);

/* Send an error reply to @call. Thread-safe. */
void rpc_client_send_error(struct rpc_client *c, const rp_header *call, const struct verr *err);

/*
 * rpc_client_pause_input() - stop (or resume) reading the client's packets, e.g. while
 * too many of its calls wait for a worker. Thread-safe, takes effect after the current
 * I/O-thread callback; may be called with the caller's own locks held.
 */
void rpc_client_pause_input(struct rpc_client *c, bool pause);

/* Close the connection once everything queued so far has been written. Thread-safe. */
void rpc_client_close_after_flush(struct rpc_client *c);

/*
 * rpc_client_run_on_io_thread() - run @fn(c, data) on the I/O thread after everything
 * this thread has queued with rpc_client_send() so far. Thread-safe; @fn is not called if
 * the client has gone (then @free_data still runs).
 */
void rpc_client_run_on_io_thread(struct rpc_client *c, void (*fn)(struct rpc_client *c, void *data),
				 void *data, GDestroyNotify free_data);

/* ---- Streams (stream.c) ---- */

/*
 * rpc_stream_open() - turn the call @open_call into a bidirectional byte stream relayed to
 * and from @fd (a console pty or socket, now owned by the stream). I/O thread only; the
 * call's OK reply must already be queued.
 */
struct rpc_stream *rpc_stream_open(struct rpc_client *c, const rp_header *open_call, int fd);

/* End @st with a STREAM/ERROR carrying @err (e.g. the console was taken over). I/O thread. */
void rpc_stream_abort(struct rpc_stream *st, const struct verr *err);

#endif
