// SPDX-License-Identifier: GPL-2.0-or-later
/* Listening sockets, the client list and the keepalive timer (see server.h). */
#define G_LOG_DOMAIN "virtdomusd"
#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib-unix.h>

#include "server-priv.h"

static bool anonymous_full(struct rpc_listener *l)
{
	unsigned int max = l->srv->cfg.max_anonymous_clients;

	return max && (unsigned int)g_atomic_int_get(&l->nanon) >= max;
}

static gboolean listener_accept(gint fd, GIOCondition cond, gpointer data);

static void listener_watch(struct rpc_listener *l)
{
	l->src = g_unix_fd_source_new(l->fd, G_IO_IN);
	g_source_set_callback(l->src, (GSourceFunc)(void (*)(void))listener_accept, l, NULL);
	g_source_attach(l->src, l->srv->ctx);
}

static void listener_unwatch(struct rpc_listener *l)
{
	if (l->src) {
		g_source_destroy(l->src);
		g_source_unref(l->src);
		l->src = NULL;
	}
}

/* While a listener is paused: take it up again once its anonymous clients are fewer. */
static gboolean resume_tick(gpointer data)
{
	struct rpc_server *srv = data;
	bool paused = false;

	for (guint i = 0; i < srv->listeners->len; i++) {
		struct rpc_listener *l = srv->listeners->pdata[i];

		if (!l->src && !anonymous_full(l))
			listener_watch(l);
		paused |= !l->src;
	}
	if (paused)
		return G_SOURCE_CONTINUE;
	g_source_unref(srv->resume_timer);
	srv->resume_timer = NULL;
	return G_SOURCE_REMOVE;
}

/*
 * As libvirtd: with max_anonymous_clients connections on @l that have not opened one,
 * stop accepting there (new ones wait in the kernel's backlog) until some open theirs,
 * leave or time out (anonymous_timeout). The other sockets are not affected.
 */
static void listener_pause(struct rpc_listener *l)
{
	struct rpc_server *srv = l->srv;

	g_message("%s: %d connections have not opened one (max_anonymous_clients): new ones wait",
		  l->path, g_atomic_int_get(&l->nanon));
	listener_unwatch(l);
	if (!srv->resume_timer) {
		srv->resume_timer = g_timeout_source_new(50);
		g_source_set_callback(srv->resume_timer, resume_tick, srv, NULL);
		g_source_attach(srv->resume_timer, srv->ctx);
	}
}

static gboolean listener_accept(gint fd, GIOCondition cond, gpointer data)
{
	struct rpc_listener *l = data;
	struct rpc_server *srv = l->srv;

	for (int i = 0; i < 64; i++) {	/* then serve the others */
		int cfd;

		if (anonymous_full(l)) {
			listener_pause(l);
			return G_SOURCE_REMOVE;
		}
		cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				g_warning("accept on %s: %s", l->path, g_strerror(errno));
			break;
		}
		if (srv->nclients >= srv->cfg.max_clients) {
			/* libvirtd also just closes: the client reports the connection closed. */
			g_message("refusing a client on %s: already %u clients (max_clients)", l->path,
				  srv->nclients);
			close(cfd);
			continue;
		}
		rpc_client_accept(srv, cfd, l);
	}
	return G_SOURCE_CONTINUE;
}

void rpc_server_add_listener(struct rpc_server *srv, int fd, bool readonly, const char *path)
{
	struct rpc_listener *l = g_new0(struct rpc_listener, 1);

	l->srv = srv;
	l->fd = fd;
	l->readonly = readonly;
	l->path = g_strdup(path);
	g_unix_set_fd_nonblocking(fd, TRUE, NULL);
	listener_watch(l);
	g_ptr_array_add(srv->listeners, l);
}

static void listener_free(gpointer p)
{
	struct rpc_listener *l = p;

	listener_unwatch(l);
	close(l->fd);
	g_free(l->path);
	g_free(l);
}

/*
 * Keepalive: like libvirtd, PING a client that asked for keepalive once it has been
 * silent for an interval, and drop it when it stays silent for count more intervals (a
 * dead peer on a half-open connection would otherwise hold its events and streams).
 */
static void keepalive_client(struct rpc_client *c, void *opaque)
{
	struct rpc_server *srv = c->srv;
	gint64 now = g_get_monotonic_time();
	gint64 interval = (gint64)srv->cfg.keepalive_interval * G_USEC_PER_SEC;

	if (!c->ka_enabled || g_atomic_int_get(&c->input_paused))
		return;		/* a client we do not read cannot answer either */
	if (now - c->last_rx > interval * (srv->cfg.keepalive_count + 1)) {
		rpc_client_drop(c, "no answer to keepalive PINGs");
		return;
	}
	if (now - c->last_rx >= interval && now - c->last_ping >= interval) {
		c->last_ping = now;
		rpc_client_send(c, rp_packet_keepalive(RP_KEEPALIVE_PING));
	}
}

static gboolean keepalive_tick(gpointer data)
{
	rpc_server_foreach_client(data, keepalive_client, NULL);
	return G_SOURCE_CONTINUE;
}

struct rpc_server *rpc_server_new(GMainContext *ctx, const struct rpc_server_config *cfg,
				  const struct rpc_server_ops *ops, void *app)
{
	struct rpc_server *srv = g_new0(struct rpc_server, 1);

	srv->ctx = g_main_context_ref(ctx);
	srv->cfg = *cfg;
	srv->ops = ops;
	srv->app = app;
	srv->listeners = g_ptr_array_new_with_free_func(listener_free);
	if (cfg->keepalive_interval && cfg->keepalive_count) {
		srv->ka_timer = g_timeout_source_new_seconds(1);
		g_source_set_callback(srv->ka_timer, keepalive_tick, srv, NULL);
		g_source_attach(srv->ka_timer, ctx);
	}
	return srv;
}

void rpc_server_free(struct rpc_server *srv)
{
	if (!srv)
		return;
	while (srv->clients)
		rpc_client_drop(srv->clients->data, NULL);
	g_ptr_array_free(srv->listeners, TRUE);
	if (srv->resume_timer) {
		g_source_destroy(srv->resume_timer);
		g_source_unref(srv->resume_timer);
	}
	if (srv->ka_timer) {
		g_source_destroy(srv->ka_timer);
		g_source_unref(srv->ka_timer);
	}
	g_main_context_unref(srv->ctx);
	g_free(srv);
}

void *rpc_server_app(struct rpc_server *srv)
{
	return srv->app;
}

unsigned int rpc_server_nclients(struct rpc_server *srv)
{
	return srv->nclients;
}

void rpc_server_set_client_count_notify(struct rpc_server *srv, void (*fn)(void *app))
{
	srv->count_notify = fn;
}

void rpc_server_foreach_client(struct rpc_server *srv,
			       void (*fn)(struct rpc_client *c, void *opaque),
			       void *opaque)
{
	/* @fn may drop clients: walk a referenced copy of the list. */
	GList *copy = g_list_copy_deep(srv->clients, (GCopyFunc)(void (*)(void))rpc_client_ref, NULL);

	for (GList *l = copy; l; l = l->next) {
		struct rpc_client *c = l->data;

		if (c->srv)
			fn(c, opaque);
	}
	g_list_free_full(copy, (GDestroyNotify)rpc_client_unref);
}
