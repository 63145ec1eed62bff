// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Streams (the console): after the OK reply to the opening call, bytes flow both ways in
 * STREAM packets that carry that call's proc and serial. Server→client data is
 * STREAM/CONTINUE; end of data is STREAM/CONTINUE with no bytes (a STREAM/OK is only ever
 * the confirmation of a client's finish or abort: sent unasked, libvirt 9.0 clients drop
 * the whole connection). Client data gets no reply. All on the I/O thread.
 */
#define G_LOG_DOMAIN "virtdomusd"
#include <errno.h>
#include <unistd.h>

#include <glib-unix.h>

#include "server-priv.h"

#define STREAM_IN_BACKLOG_MAX (1024 * 1024)	/* client keystrokes not yet written */

struct rpc_stream {
	struct rpc_client *c;
	rp_header hdr;			/* of the opening call */
	int fd;
	GSource *src;
	gpointer tag;
	GByteArray *wbuf;		/* client → fd, not yet written */
	bool eof_sent;
};

static void stream_send(struct rpc_stream *st, int status, const void *data, size_t len)
{
	rp_header h;

	rp_header_answer(&h, &st->hdr, RP_STREAM, status);
	rpc_client_send(st->c, rp_packet_raw(&h, data, len));
}

static void stream_free(struct rpc_stream *st)
{
	st->c->streams = g_list_remove(st->c->streams, st);
	g_source_destroy(st->src);
	g_source_unref(st->src);
	close(st->fd);
	g_byte_array_unref(st->wbuf);
	g_free(st);
}

void rpc_stream_abort(struct rpc_stream *st, const struct verr *err)
{
	rpc_client_send(st->c, rp_packet_error(&st->hdr, RP_STREAM, err));
	stream_free(st);
}

static void stream_eof(struct rpc_stream *st)
{
	st->eof_sent = true;
	stream_send(st, RP_CONTINUE, NULL, 0);
}

static void stream_read(struct rpc_stream *st)
{
	g_autofree uint8_t *buf = g_malloc(RP_STREAM_CHUNK);
	ssize_t n = read(st->fd, buf, RP_STREAM_CHUNK);

	if (n > 0) {
		stream_send(st, RP_CONTINUE, buf, n);
		return;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	/* EOF, or EIO from a pty whose other side closed: the guest end is gone. */
	stream_eof(st);
}

/* Return: false if the stream was aborted. */
static bool stream_write(struct rpc_stream *st)
{
	while (st->wbuf->len) {
		ssize_t n = write(st->fd, st->wbuf->data, st->wbuf->len);
		struct verr err = { 0 };

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return true;
		if (n < 0) {
			verr_errno(&err, errno, "cannot write to the stream");
			err.domain = VERR_FROM_STREAMS;
			rpc_stream_abort(st, &err);
			return false;
		}
		g_byte_array_remove_range(st->wbuf, 0, n);
	}
	return true;
}

static gboolean stream_io(gpointer data)
{
	struct rpc_stream *st = data;
	struct rpc_client *c = st->c;
	GIOCondition cond = g_source_query_unix_fd(st->src, st->tag);

	if ((cond & G_IO_OUT) && !stream_write(st))
		goto out;
	if ((cond & (G_IO_IN | G_IO_HUP | G_IO_ERR)) && !st->eof_sent)
		stream_read(st);
out:
	rpc_stream_update_io(c);
	return G_SOURCE_CONTINUE;
}

struct rpc_stream *rpc_stream_open(struct rpc_client *c, const rp_header *open_call, int fd)
{
	struct rpc_stream *st = g_new0(struct rpc_stream, 1);

	st->c = c;
	st->hdr = *open_call;
	st->fd = fd;
	st->wbuf = g_byte_array_new();
	g_unix_set_fd_nonblocking(fd, TRUE, NULL);
	st->src = rpc_fd_source_new(c->ctx, fd, stream_io, st, &st->tag);
	c->streams = g_list_prepend(c->streams, st);
	rpc_stream_update_io(c);
	return st;
}

void rpc_stream_update_io(struct rpc_client *c)
{
	size_t backlog;

	g_mutex_lock(&c->lock);
	backlog = c->txbytes;
	g_mutex_unlock(&c->lock);
	for (GList *l = c->streams; l; l = l->next) {
		struct rpc_stream *st = l->data;
		GIOCondition want = 0;

		/* No flow control in the protocol: stop reading while the client is behind. */
		if (!st->eof_sent && backlog < RPC_STREAM_TX_HIGH)
			want |= G_IO_IN;
		if (st->wbuf->len)
			want |= G_IO_OUT;
		g_source_modify_unix_fd(st->src, st->tag, want);
	}
}

static struct rpc_stream *stream_find(struct rpc_client *c, const rp_header *hdr)
{
	for (GList *l = c->streams; l; l = l->next) {
		struct rpc_stream *st = l->data;

		if (st->hdr.serial == hdr->serial && st->hdr.proc == hdr->proc)
			return st;
	}
	return NULL;
}

void rpc_stream_packet(struct rpc_client *c, const rp_header *hdr, const uint8_t *payload,
		       size_t len)
{
	struct rpc_stream *st = stream_find(c, hdr);
	struct verr err = { 0 };

	if (!st)
		return;		/* late packets of a finished stream */
	switch (hdr->status) {
	case RP_CONTINUE:
		if (st->wbuf->len + len > STREAM_IN_BACKLOG_MAX) {
			verr_set(&err, VERR_OPERATION_FAILED, VERR_FROM_STREAMS,
				 "stream input is arriving faster than it can be written");
			rpc_stream_abort(st, &err);
			return;
		}
		g_byte_array_append(st->wbuf, payload, len);
		if (stream_write(st))
			rpc_stream_update_io(c);
		return;
	case RP_OK:		/* finish */
	case RP_ERROR:		/* abort */
		stream_send(st, RP_OK, NULL, 0);
		stream_free(st);
		return;
	default:
		verr_set(&err, VERR_RPC, VERR_FROM_RPC, "unexpected stream status %d", hdr->status);
		rpc_stream_abort(st, &err);
	}
}

void rpc_stream_close_all(struct rpc_client *c)
{
	while (c->streams)
		stream_free(c->streams->data);
}
