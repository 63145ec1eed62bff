// SPDX-License-Identifier: GPL-2.0-or-later
/* A minimal RPC client of a peer daemon (see peer.h). */
#define G_LOG_DOMAIN "virtdomusd"
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib.h>

#include <domus/xc.h>

#include "peer.h"

#define VIR_NET_CONNECT_PORT 16509

struct rpc_peer {
	int fd;
	unsigned int serial;
	char *host;
};

static int peer_fail(struct verr *err, const char *host, const char *what, int e)
{
	return verr_set(err, VERR_OPERATION_FAILED, VERR_FROM_RPC,
			"migration peer %s: %s: %s", host, what, g_strerror(e));
}

/* All of @len bytes, or -errno (-ETIMEDOUT past @deadline, monotonic µs). */
static int io_all(int fd, void *buf, size_t len, bool out, gint64 deadline)
{
	uint8_t *p = buf;

	while (len) {
		struct pollfd pf = { .fd = fd, .events = out ? POLLOUT : POLLIN };
		gint64 left = (deadline - g_get_monotonic_time()) / 1000;
		ssize_t n;

		if (left <= 0)
			return -ETIMEDOUT;
		if (poll(&pf, 1, left) <= 0)
			continue;
		n = out ? send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT) :
			  recv(fd, p, len, MSG_DONTWAIT);
		if (n == 0)
			return -ECONNRESET;
		if (n < 0 && errno != EINTR && errno != EAGAIN)
			return -errno;
		if (n > 0)
			p += n, len -= n;
	}
	return 0;
}

/* The next packet (whole, length word included) into *@buf. */
static int read_packet(struct rpc_peer *p, uint8_t **buf, size_t *len, gint64 deadline,
		       struct verr *err)
{
	uint8_t lw[RP_LEN_WORD];
	uint32_t n;
	int r;

	if ((r = io_all(p->fd, lw, sizeof(lw), false, deadline)) < 0)
		return peer_fail(err, p->host, "no reply", -r);
	n = (uint32_t)lw[0] << 24 | lw[1] << 16 | lw[2] << 8 | lw[3];
	if (rp_frame_length_check(n, err) < 0) {
		g_autofree char *why = g_strdup(err->message);

		return verr_set(err, VERR_RPC, VERR_FROM_RPC, "migration peer %s: %s", p->host, why);
	}
	*buf = g_malloc(n);
	memcpy(*buf, lw, sizeof(lw));
	if ((r = io_all(p->fd, *buf + RP_LEN_WORD, n - RP_LEN_WORD, false, deadline)) < 0) {
		g_clear_pointer(buf, g_free);
		return peer_fail(err, p->host, "reply cut short", -r);
	}
	*len = n;
	return 0;
}

/* An error reply into @err, naming the peer. */
static int peer_error(struct rpc_peer *p, const uint8_t *buf, size_t len, struct verr *err)
{
	rp_error e = { 0 };

	if (rp_payload_decode(buf, len, 0, (xdrproc_t)xdr_rp_error, &e) < 0)
		return verr_set(err, VERR_RPC, VERR_FROM_RPC,
				"migration peer %s: an undecodable error reply", p->host);
	err->code = e.code ? e.code : VERR_INTERNAL_ERROR;
	err->domain = e.domain;
	snprintf(err->message, sizeof(err->message), "%s (on %s)",
		 e.message ? *e.message : "unknown error", p->host);
	xdr_free((xdrproc_t)xdr_rp_error, (char *)&e);
	return -1;
}

/*
 * Wait for the reply to call @serial of @proc, skipping events and stream packets of other
 * calls. The peer is hostile input like any client: a packet that claims to answer this
 * call but is not its reply, or an impossible status, is an error that says so.
 */
static int wait_reply(struct rpc_peer *p, unsigned int serial, int proc, xdrproc_t ret_xdr,
		      void *ret, gint64 deadline, struct verr *err)
{
	for (;;) {
		g_autofree uint8_t *buf = NULL;
		rp_header h;
		size_t len = 0;

		if (read_packet(p, &buf, &len, deadline, err) < 0)
			return -1;
		if (rp_header_decode(buf, len, &h) < 0)
			return verr_set(err, VERR_RPC, VERR_FROM_RPC,
					"migration peer %s: an undecodable packet", p->host);
		if (h.prog != RP_REMOTE_PROGRAM || h.type != RP_REPLY || h.serial != serial)
			continue;
		if (h.vers != RP_REMOTE_VERSION || h.proc != proc)
			return verr_set(err, VERR_RPC, VERR_FROM_RPC,
					"migration peer %s: the reply to call %u is for procedure "
					"%d version %u, not procedure %d version %d", p->host,
					serial, h.proc, h.vers, proc, RP_REMOTE_VERSION);
		if (h.status == RP_ERROR)
			return peer_error(p, buf, len, err);
		if (h.status != RP_OK)
			return verr_set(err, VERR_RPC, VERR_FROM_RPC,
					"migration peer %s: a reply with status %d (neither OK "
					"nor ERROR) to procedure %d", p->host, h.status, proc);
		if (ret_xdr && rp_payload_decode(buf, len, 0, ret_xdr, ret) < 0)
			return verr_set(err, VERR_RPC, VERR_FROM_RPC,
					"migration peer %s: cannot decode the reply to procedure %d",
					p->host, h.proc);
		return 0;
	}
}

int rpc_peer_call(struct rpc_peer *p, int proc, xdrproc_t args_xdr, const void *args,
		  xdrproc_t ret_xdr, void *ret, int timeout_ms, struct verr *err)
{
	gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
	rp_header h = { .prog = RP_REMOTE_PROGRAM, .vers = RP_REMOTE_VERSION, .proc = proc,
			.type = RP_CALL, .serial = p->serial++, .status = RP_OK };
	g_autoptr(GBytes) pkt = rp_packet_encode(&h, args_xdr, args, err);
	const void *data;
	size_t len;
	int r;

	if (!pkt)
		return -1;
	data = g_bytes_get_data(pkt, &len);
	if ((r = io_all(p->fd, (void *)data, len, true, deadline)) < 0)
		return peer_fail(err, p->host, "cannot send", -r);
	return wait_reply(p, h.serial, proc, ret_xdr, ret, deadline, err);
}

/* domus+tcp://HOST[:PORT]/system → HOST, PORT. */
static int parse_uri(const char *uri, char **host, int *port, struct verr *err)
{
	g_autoptr(GUri) u = g_uri_parse(uri, G_URI_FLAGS_NONE, NULL);

	if (!u || g_strcmp0(g_uri_get_scheme(u), "domus+tcp") || !g_uri_get_host(u) ||
	    !*g_uri_get_host(u))
		return verr_set(err, VERR_INVALID_ARG, VERR_FROM_DOMAIN,
				"peer-to-peer migration needs a domus+tcp://HOST/system destination "
				"URI, not '%s'", uri);
	if (strcmp(g_uri_get_path(u), "/system"))
		return verr_set(err, VERR_INVALID_ARG, VERR_FROM_DOMAIN,
				"destination URI '%s': only /system can be migrated to", uri);
	*host = g_strdup(g_uri_get_host(u));
	*port = g_uri_get_port(u) > 0 ? g_uri_get_port(u) : VIR_NET_CONNECT_PORT;
	return 0;
}

static int peer_connect(struct rpc_peer *p, int port, int timeout_ms, struct verr *err)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM };
	struct addrinfo *ai = NULL;
	gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
	struct pollfd pf = { .events = POLLOUT };
	char service[12];
	int r, e = 0;
	socklen_t elen = sizeof(e);

	snprintf(service, sizeof(service), "%d", port);
	if ((r = getaddrinfo(p->host, service, &hints, &ai)) != 0)
		return verr_set(err, VERR_OPERATION_FAILED, VERR_FROM_RPC,
				"migration peer %s: %s", p->host, gai_strerror(r));
	p->fd = pf.fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	r = p->fd < 0 ? errno : connect(p->fd, ai->ai_addr, ai->ai_addrlen) == 0 ? 0 :
	    errno != EINPROGRESS ? errno :
	    poll(&pf, 1, (deadline - g_get_monotonic_time()) / 1000) <= 0 ? ETIMEDOUT :
	    getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &e, &elen) < 0 ? errno : e;
	freeaddrinfo(ai);
	/* A cut link is noticed in seconds, not at the call's deadline (finish: 120 s). */
	if (!r)
		r = -xc_migrate_socket_tune(p->fd);
	return r ? peer_fail(err, p->host, "cannot connect", r) : 0;
}

/* AUTH_LIST must offer "none" (0): we have no SASL client. Then CONNECT_OPEN. */
static int peer_handshake(struct rpc_peer *p, int timeout_ms, struct verr *err)
{
	rp_auth_list_ret auth = { 0 };
	char *name = "domus:///system";
	rp_connect_open_args open = { .name = &name };
	bool none;

	if (rpc_peer_call(p, RP_PROC_AUTH_LIST, NULL, NULL, (xdrproc_t)xdr_rp_auth_list_ret, &auth,
			  timeout_ms, err) < 0)
		return -1;
	none = auth.types.types_len == 0 || auth.types.types_val[0] == 0;
	xdr_free((xdrproc_t)xdr_rp_auth_list_ret, (char *)&auth);
	if (!none)
		return verr_set(err, VERR_OPERATION_FAILED, VERR_FROM_RPC,
				"migration peer %s asks for authentication, which peer-to-peer "
				"migration does not do (set auth_tcp = \"none\" there)", p->host);
	return rpc_peer_call(p, RP_PROC_CONNECT_OPEN, (xdrproc_t)xdr_rp_connect_open_args, &open,
			     NULL, NULL, timeout_ms, err);
}

struct rpc_peer *rpc_peer_open(const char *uri, int timeout_ms, struct verr *err)
{
	struct rpc_peer *p = g_new0(struct rpc_peer, 1);
	int port = 0;

	p->fd = -1;
	if (parse_uri(uri, &p->host, &port, err) < 0 || peer_connect(p, port, timeout_ms, err) < 0 ||
	    peer_handshake(p, timeout_ms, err) < 0) {
		if (p->fd >= 0)
			close(p->fd);
		g_free(p->host);
		g_free(p);
		return NULL;
	}
	return p;
}

void rpc_peer_close(struct rpc_peer *p)
{
	struct verr ignored = { 0 };

	if (!p)
		return;
	rpc_peer_call(p, RP_PROC_CONNECT_CLOSE, NULL, NULL, NULL, NULL, 2000, &ignored);
	close(p->fd);
	g_free(p->host);
	g_free(p);
}
