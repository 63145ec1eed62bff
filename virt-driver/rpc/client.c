// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * One client connection: reading and assembling packets, the keepalive program, the
 * output queue. The I/O thread owns the socket; worker threads only queue packets
 * (rpc_client_send) and the I/O thread is woken to write them.
 */
#define G_LOG_DOMAIN "virtdomusd"
#include <errno.h>
#include <string.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib-unix.h>

#include "server-priv.h"

#define RX_INITIAL_ALLOC 65536		/* grown as bytes arrive, never by the length word alone */
#define RX_PACKETS_PER_WAKEUP 32	/* fairness between clients */

struct rpc_client *rpc_client_ref(struct rpc_client *c)
{
	g_atomic_int_inc(&c->refs);
	return c;
}

void rpc_client_unref(struct rpc_client *c)
{
	if (!g_atomic_int_dec_and_test(&c->refs))
		return;
	g_queue_clear_full(&c->txq, (GDestroyNotify)g_bytes_unref);
	g_free(c->rx.buf);
	g_free(c->local_host);
	if (c->data_free)
		c->data_free(c->data);
	g_mutex_clear(&c->lock);
	g_free(c);
}

struct rpc_server *rpc_client_server(struct rpc_client *c) { return c->srv; }
bool rpc_client_readonly(struct rpc_client *c) { return c->readonly; }
uint64_t rpc_client_id(struct rpc_client *c) { return c->id; }
uid_t rpc_client_uid(struct rpc_client *c) { return c->uid; }
pid_t rpc_client_pid(struct rpc_client *c) { return c->pid; }
const char *rpc_client_local_host(struct rpc_client *c) { return c->local_host; }
void *rpc_client_get_data(struct rpc_client *c) { return c->data; }

void rpc_client_set_data(struct rpc_client *c, void *data, GDestroyNotify destroy)
{
	c->data = data;
	c->data_free = destroy;
}

void rpc_client_enable_keepalive(struct rpc_client *c)
{
	c->ka_enabled = true;
}

/* ---- Output ---- */

static gboolean kick_cb(gpointer data)
{
	struct rpc_client *c = data;

	g_mutex_lock(&c->lock);
	c->kick_pending = false;
	g_mutex_unlock(&c->lock);
	if (c->srv)
		rpc_client_update_io(c);
	return G_SOURCE_REMOVE;
}

/* Make the I/O thread look at the client again. Called with c->lock held. */
static void kick_locked(struct rpc_client *c)
{
	GMainContext *ctx;

	if (c->gone || c->kick_pending)
		return;
	ctx = c->ctx;
	if (g_main_context_is_owner(ctx))
		return;		/* the I/O thread re-evaluates after its own callbacks */
	c->kick_pending = true;
	g_main_context_invoke_full(ctx, G_PRIORITY_DEFAULT, kick_cb, rpc_client_ref(c),
				   (GDestroyNotify)rpc_client_unref);
}

void rpc_client_send(struct rpc_client *c, GBytes *packet)
{
	bool io_thread;

	if (!packet)
		return;
	g_mutex_lock(&c->lock);
	if (c->gone) {
		g_mutex_unlock(&c->lock);
		g_bytes_unref(packet);
		return;
	}
	g_queue_push_tail(&c->txq, packet);
	c->txbytes += g_bytes_get_size(packet);
	io_thread = g_main_context_is_owner(c->ctx);
	kick_locked(c);
	g_mutex_unlock(&c->lock);
	if (io_thread)
		rpc_client_update_io(c);
}

void rpc_client_send_error(struct rpc_client *c, const rp_header *call, const struct verr *err)
{
	rpc_client_send(c, rp_packet_error(call, RP_REPLY, err));
}

void rpc_client_close_after_flush(struct rpc_client *c)
{
	g_mutex_lock(&c->lock);
	c->close_after_flush = true;
	if (!c->gone && g_main_context_is_owner(c->ctx)) {
		g_mutex_unlock(&c->lock);
		rpc_client_update_io(c);
		return;
	}
	kick_locked(c);
	g_mutex_unlock(&c->lock);
}

void rpc_client_pause_input(struct rpc_client *c, bool pause)
{
	/*
	 * Never re-evaluate the watch synchronously: callers hold their own locks, and the
	 * I/O thread looks at the flag when its current callback returns anyway.
	 */
	g_mutex_lock(&c->lock);
	g_atomic_int_set(&c->input_paused, pause);
	kick_locked(c);
	g_mutex_unlock(&c->lock);
}

struct io_job {
	struct rpc_client *c;
	void (*fn)(struct rpc_client *c, void *data);
	void *data;
	GDestroyNotify free_data;
};

static gboolean io_job_run(gpointer p)
{
	struct io_job *job = p;

	if (job->c->srv && !job->c->gone)
		job->fn(job->c, job->data);
	return G_SOURCE_REMOVE;
}

static void io_job_free(gpointer p)
{
	struct io_job *job = p;

	if (job->free_data)
		job->free_data(job->data);
	rpc_client_unref(job->c);
	g_free(job);
}

void rpc_client_run_on_io_thread(struct rpc_client *c, void (*fn)(struct rpc_client *c, void *data),
				 void *data, GDestroyNotify free_data)
{
	struct io_job *job = g_new0(struct io_job, 1);
	GSource *src;

	job->c = rpc_client_ref(c);
	job->fn = fn;
	job->data = data;
	job->free_data = free_data;
	/*
	 * Same priority as the kick that delivers this thread's earlier packets, and sources
	 * of equal priority dispatch in creation order: the job sees those packets queued.
	 */
	src = g_idle_source_new();
	g_source_set_priority(src, G_PRIORITY_DEFAULT);
	g_source_set_callback(src, io_job_run, job, io_job_free);
	g_mutex_lock(&c->lock);
	kick_locked(c);
	g_mutex_unlock(&c->lock);
	g_source_attach(src, c->ctx);
	g_source_unref(src);
}

/* Write what the socket takes. Return: false if the connection broke. */
static bool client_flush(struct rpc_client *c)
{
	g_mutex_lock(&c->lock);
	while (!g_queue_is_empty(&c->txq)) {
		GBytes *head = g_queue_peek_head(&c->txq);
		size_t len;
		const uint8_t *p = g_bytes_get_data(head, &len);
		ssize_t n = send(c->fd, p + c->txoff, len - c->txoff, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			int e = errno;

			g_mutex_unlock(&c->lock);
			if (e == EAGAIN || e == EINTR)
				return true;
			g_debug("client %" G_GUINT64_FORMAT ": write failed: %s", c->id, g_strerror(e));
			return false;
		}
		c->txoff += n;
		if (c->txoff == len) {
			g_queue_pop_head(&c->txq);
			c->txbytes -= len;
			c->txoff = 0;
			g_bytes_unref(head);
		}
	}
	g_mutex_unlock(&c->lock);
	return true;
}

void rpc_client_update_io(struct rpc_client *c)
{
	GIOCondition want = G_IO_IN;
	bool empty, closing, too_much, paused;

	if (!c->srv || !c->src)
		return;
	g_mutex_lock(&c->lock);
	empty = g_queue_is_empty(&c->txq);
	closing = c->close_after_flush;
	too_much = c->txbytes > c->srv->cfg.max_queued_out;
	paused = g_atomic_int_get(&c->input_paused);
	g_mutex_unlock(&c->lock);
	if (too_much) {
		rpc_client_drop(c, "it does not read its replies (output queue over the limit)");
		return;
	}
	if (closing && empty) {
		rpc_client_drop(c, NULL);
		return;
	}
	if (closing || paused)
		want = 0;	/* read nothing more from a client we are closing or holding back */
	if (!empty)
		want |= G_IO_OUT;
	g_source_modify_unix_fd(c->src, c->fd_tag, want);
	rpc_stream_update_io(c);
}

/* ---- Input ---- */

static void keepalive_packet(struct rpc_client *c, const rp_header *hdr)
{
	if (hdr->type != RP_MESSAGE || hdr->vers != RP_KEEPALIVE_VERSION)
		return;	/* libvirtd ignores anything else on this program too */
	if (hdr->proc == RP_KEEPALIVE_PING)
		rpc_client_send(c, rp_packet_keepalive(RP_KEEPALIVE_PONG));
	/* A PONG needs no action: any packet already reset the idle time. */
}

/* Return: false if the connection must be closed (protocol violation). */
static bool client_packet(struct rpc_client *c, const rp_header *h, GBytes *packet)
{
	size_t len;
	const uint8_t *buf = g_bytes_get_data(packet, &len);
	struct verr err = { 0 };
	rp_header hdr = *h;

	if (hdr.prog == RP_KEEPALIVE_PROGRAM) {
		keepalive_packet(c, &hdr);
		return true;
	}
	if (hdr.type == RP_STREAM) {
		if (hdr.prog == RP_REMOTE_PROGRAM && hdr.vers == RP_REMOTE_VERSION)
			rpc_stream_packet(c, &hdr, buf + RP_PACKET_MIN, len - RP_PACKET_MIN);
		return true;	/* late packets for closed streams are dropped, as libvirtd does */
	}
	if (hdr.type != RP_CALL) {
		g_message("client %" G_GUINT64_FORMAT ": unexpected packet type %d from a client; closing",
			  c->id, hdr.type);
		return false;
	}
	if (hdr.prog != RP_REMOTE_PROGRAM || hdr.vers != RP_REMOTE_VERSION) {
		verr_set(&err, VERR_RPC, VERR_FROM_RPC, "Cannot find program %u version %u",
			 hdr.prog, hdr.vers);
		rpc_client_send_error(c, &hdr, &err);
		return true;
	}
	if (hdr.status != RP_OK) {
		verr_set(&err, VERR_RPC, VERR_FROM_RPC, "Unexpected message status %d in a call",
			 hdr.status);
		rpc_client_send_error(c, &hdr, &err);
		return true;
	}
	c->srv->ops->call(c, &hdr, packet, 0);
	return true;
}

/*
 * A CALL_WITH_FDS is complete, fds and all: we do not take fds (feature FD_PASSING is 0),
 * so refuse the call; the fds themselves were closed as they arrived.
 */
static void fds_call_done(struct rpc_client *c)
{
	struct verr err = { 0 };

	if (c->rx.hdr.prog != RP_REMOTE_PROGRAM) {
		verr_set(&err, VERR_RPC, VERR_FROM_RPC, "Cannot find program %u version %u",
			 c->rx.hdr.prog, c->rx.hdr.vers);
	} else {
		verr_set(&err, VERR_NO_SUPPORT, VERR_FROM_RPC,
			 "passing file descriptors (procedure %d)", c->rx.hdr.proc);
	}
	rpc_client_send_error(c, &c->rx.hdr, &err);
}

/* A CALL_WITH_FDS packet: note how many dummy bytes (one per fd) follow. */
static bool fds_call_start(struct rpc_client *c, const rp_header *hdr, const uint8_t *buf,
			   size_t len)
{
	uint32_t nfds;

	if (len < RP_PACKET_MIN + 4)
		return false;
	c->rx.hdr = *hdr;
	nfds = (uint32_t)buf[RP_PACKET_MIN] << 24 | buf[RP_PACKET_MIN + 1] << 16 |
	       buf[RP_PACKET_MIN + 2] << 8 | buf[RP_PACKET_MIN + 3];
	if (nfds > RP_MESSAGE_NUM_FDS_MAX) {
		g_message("client %" G_GUINT64_FORMAT ": %u fds in one message (limit %u); closing",
			  c->id, nfds, RP_MESSAGE_NUM_FDS_MAX);
		return false;
	}
	c->rx.drain = nfds;
	if (!nfds)
		fds_call_done(c);
	return true;
}

/* recv() that also takes (and closes) any fds sent along. Return as recv(). */
static ssize_t client_recv(struct rpc_client *c, void *buf, size_t len)
{
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(sizeof(int) * RP_MESSAGE_NUM_FDS_MAX)];
	} ctl;
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf),
	};
	ssize_t n = recvmsg(c->fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);

	if (n < 0)
		return n;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		size_t nfd = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		int *fds = (int *)CMSG_DATA(cm);

		for (size_t i = 0; i < nfd; i++)
			close(fds[i]);
	}
	return n;
}

/* RX_MORE: progress was made, read again; RX_PACKET: a packet (or an fd call) completed. */
enum rx_result { RX_AGAIN, RX_MORE, RX_PACKET, RX_CLOSE };

/* Swallow the dummy bytes that carried a CALL_WITH_FDS' descriptors. */
static enum rx_result rx_drain(struct rpc_client *c)
{
	uint8_t junk[RP_MESSAGE_NUM_FDS_MAX];
	ssize_t n = client_recv(c, junk, c->rx.drain);

	if (n == 0)
		return RX_CLOSE;
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? RX_AGAIN : RX_CLOSE;
	c->rx.drain -= n;
	if (c->rx.drain)
		return RX_MORE;
	fds_call_done(c);
	return RX_PACKET;
}

/* Read towards the next complete packet, never past it. */
static enum rx_result rx_step(struct rpc_client *c, GBytes **out)
{
	struct rpc_rx *rx = &c->rx;
	struct verr err = { 0 };
	ssize_t n;

	if (rx->drain)
		return rx_drain(c);
	if (rx->lenhave < RP_LEN_WORD) {
		n = client_recv(c, rx->lenbuf + rx->lenhave, RP_LEN_WORD - rx->lenhave);
		if (n <= 0)
			goto io;
		rx->lenhave += n;
		if (rx->lenhave < RP_LEN_WORD)
			return RX_MORE;
		rx->len = (uint32_t)rx->lenbuf[0] << 24 | rx->lenbuf[1] << 16 |
			  rx->lenbuf[2] << 8 | rx->lenbuf[3];
		if (rp_frame_length_check(rx->len, &err) < 0) {
			g_message("client %" G_GUINT64_FORMAT ": %s; closing", c->id, err.message);
			return RX_CLOSE;
		}
		rx->alloc = MIN(rx->len, RX_INITIAL_ALLOC);
		rx->buf = g_malloc(rx->alloc);
		memcpy(rx->buf, rx->lenbuf, RP_LEN_WORD);
		rx->have = RP_LEN_WORD;
	}
	if (rx->have == rx->alloc) {
		rx->alloc = MIN(rx->len, rx->alloc * 4);
		rx->buf = g_realloc(rx->buf, rx->alloc);
	}
	n = client_recv(c, rx->buf + rx->have, rx->alloc - rx->have);
	if (n <= 0)
		goto io;
	rx->have += n;
	if (rx->have < rx->len)
		return RX_MORE;
	*out = g_bytes_new_take(rx->buf, rx->len);
	rx->buf = NULL;
	rx->lenhave = 0;
	return RX_PACKET;
io:
	if (n == 0) {
		if (rx->lenhave || rx->buf)
			g_message("client %" G_GUINT64_FORMAT ": connection closed inside a packet",
				  c->id);
		return RX_CLOSE;
	}
	return errno == EAGAIN || errno == EINTR ? RX_AGAIN : RX_CLOSE;
}

#define RX_STEPS_PER_WAKEUP 256		/* fairness between clients */

static void client_read(struct rpc_client *c)
{
	unsigned int packets = 0;

	for (unsigned int step = 0; step < RX_STEPS_PER_WAKEUP && packets < RX_PACKETS_PER_WAKEUP;
	     step++) {
		GBytes *pkt = NULL;
		enum rx_result r = rx_step(c, &pkt);
		size_t len;
		const uint8_t *buf;
		rp_header hdr;
		bool ok;

		if (r == RX_AGAIN)
			return;
		if (r == RX_CLOSE) {
			rpc_client_drop(c, NULL);
			return;
		}
		c->last_rx = g_get_monotonic_time();
		if (r == RX_MORE || !pkt)
			continue;
		packets++;
		buf = g_bytes_get_data(pkt, &len);
		if (rp_header_decode(buf, len, &hdr) < 0)
			ok = false;
		else if (hdr.type == RP_CALL_WITH_FDS)
			ok = fds_call_start(c, &hdr, buf, len);
		else
			ok = client_packet(c, &hdr, pkt);
		g_bytes_unref(pkt);
		if (!ok) {
			rpc_client_drop(c, NULL);
			return;
		}
		if (!c->srv || c->close_after_flush || g_atomic_int_get(&c->input_paused))
			return;
	}
}

static gboolean client_io(gpointer data)
{
	struct rpc_client *c = data;
	GIOCondition cond = g_source_query_unix_fd(c->src, c->fd_tag);

	rpc_client_ref(c);
	if (cond & G_IO_OUT) {
		if (!client_flush(c)) {
			rpc_client_drop(c, NULL);
			goto out;
		}
	}
	if (cond & (G_IO_IN | G_IO_HUP | G_IO_ERR))
		client_read(c);
	if (c->srv)
		rpc_client_update_io(c);
out:
	rpc_client_unref(c);
	return G_SOURCE_CONTINUE;
}

static void client_peer_creds(struct rpc_client *c)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	c->uid = (uid_t)-1;
	c->pid = 0;
	if (getsockopt(c->fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
		c->uid = cred.uid;
		c->pid = cred.pid;
	}
}

/* The address a TCP client reached us on (numeric; IPv6 in brackets, for URIs). */
static void client_local_host(struct rpc_client *c)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char host[NI_MAXHOST];

	if (getsockname(c->fd, (struct sockaddr *)&ss, &len) < 0 ||
	    (ss.ss_family != AF_INET && ss.ss_family != AF_INET6) ||
	    getnameinfo((struct sockaddr *)&ss, len, host, sizeof(host), NULL, 0, NI_NUMERICHOST))
		return;
	c->local_host = ss.ss_family == AF_INET6 ? g_strdup_printf("[%s]", host) : g_strdup(host);
}

static gboolean anonymous_expired(gpointer data)
{
	struct rpc_client *c = data;
	g_autofree char *why = g_strdup_printf("no connection opened within %u s "
					       "(anonymous_timeout)",
					       c->srv ? c->srv->cfg.anonymous_timeout : 0);

	g_source_unref(c->anon_timer);
	c->anon_timer = NULL;
	if (g_atomic_int_get(&c->anonymous))
		rpc_client_drop(c, why);
	return G_SOURCE_REMOVE;
}

void rpc_client_identified(struct rpc_client *c)
{
	if (g_atomic_int_compare_and_exchange(&c->anonymous, 1, 0))
		g_atomic_int_add(&c->listener->nanon, -1);
}

void rpc_client_accept(struct rpc_server *srv, int fd, struct rpc_listener *l)
{
	struct rpc_client *c = g_new0(struct rpc_client, 1);

	c->refs = 1;
	c->srv = srv;
	c->ctx = srv->ctx;
	c->fd = fd;
	c->readonly = l->readonly;
	c->listener = l;
	c->anonymous = 1;
	g_atomic_int_inc(&l->nanon);
	if (srv->cfg.anonymous_timeout) {
		c->anon_timer = g_timeout_source_new_seconds(srv->cfg.anonymous_timeout);
		g_source_set_callback(c->anon_timer, anonymous_expired, c, NULL);
		g_source_attach(c->anon_timer, srv->ctx);
	}
	c->id = ++srv->next_client_id;
	c->last_rx = g_get_monotonic_time();
	g_mutex_init(&c->lock);
	g_queue_init(&c->txq);
	client_peer_creds(c);
	client_local_host(c);
	c->src = rpc_fd_source_new(srv->ctx, fd, client_io, c, &c->fd_tag);
	srv->clients = g_list_prepend(srv->clients, c);
	srv->nclients++;
	g_debug("client %" G_GUINT64_FORMAT ": connected (pid %d uid %d%s)", c->id, (int)c->pid,
		(int)c->uid, l->readonly ? ", read-only" : "");
	if (srv->count_notify)
		srv->count_notify(srv->app);
}

void rpc_client_drop(struct rpc_client *c, const char *why)
{
	struct rpc_server *srv = c->srv;

	if (!srv)
		return;
	if (why)
		g_message("client %" G_GUINT64_FORMAT " (pid %d): dropped: %s", c->id, (int)c->pid, why);
	else
		g_debug("client %" G_GUINT64_FORMAT ": disconnected", c->id);
	g_mutex_lock(&c->lock);
	c->gone = true;
	g_mutex_unlock(&c->lock);
	rpc_client_identified(c);	/* no longer counted, whatever it was */
	if (c->anon_timer) {
		g_source_destroy(c->anon_timer);
		g_source_unref(c->anon_timer);
		c->anon_timer = NULL;
	}
	rpc_stream_close_all(c);
	srv->ops->client_gone(c);
	g_source_destroy(c->src);
	g_source_unref(c->src);
	c->src = NULL;
	close(c->fd);
	c->fd = -1;
	c->srv = NULL;
	srv->clients = g_list_remove(srv->clients, c);
	srv->nclients--;
	if (srv->count_notify)
		srv->count_notify(srv->app);
	rpc_client_unref(c);
}

static gboolean fd_src_dispatch(GSource *src, GSourceFunc cb, gpointer data)
{
	return cb(data);
}

static GSourceFuncs fd_src_funcs = {
	.dispatch = fd_src_dispatch,
};

GSource *rpc_fd_source_new(GMainContext *ctx, int fd, GSourceFunc cb, gpointer data, gpointer *tag)
{
	GSource *src = g_source_new(&fd_src_funcs, sizeof(GSource));

	*tag = g_source_add_unix_fd(src, fd, G_IO_IN);
	g_source_set_callback(src, cb, data, NULL);
	g_source_attach(src, ctx);
	return src;
}
