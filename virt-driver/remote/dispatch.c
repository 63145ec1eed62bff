// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Dispatch of REMOTE_PROGRAM calls: find the procedure, check the connection may make it,
 * decode the arguments, run the handler on the I/O thread or a worker, encode the reply.
 */
#define G_LOG_DOMAIN "virtdomusd"
#include <string.h>

#include "remote.h"

static const struct remote_proc *proc_index[RP_PROC_LAST_KNOWN + 1];

/* Calls of one connection waiting for a worker before we stop reading it (and resume at half). */
#define PENDING_MAX 64

static void index_table(const struct remote_proc_table *t)
{
	for (size_t i = 0; i < t->n; i++) {
		const struct remote_proc *p = &t->procs[i];

		g_assert(p->proc > 0 && p->proc <= RP_PROC_LAST_KNOWN && !proc_index[p->proc]);
		proc_index[p->proc] = p;
	}
}

/* Run @call's handler and queue its reply. Any thread. */
static void call_execute(struct remote_call *call)
{
	const struct remote_proc *p = call->p;
	size_t len;
	const uint8_t *buf = g_bytes_get_data(call->packet, &len);
	g_autofree void *args = g_malloc0(MAX(p->args_size, 1));
	g_autofree void *ret = g_malloc0(MAX(p->ret_size, 1));
	struct verr err = { 0 };
	rp_header hdr;
	GBytes *reply;

	if (p->args_xdr && rp_payload_decode(buf, len, call->skip, p->args_xdr, args) < 0) {
		verr_set(&err, VERR_RPC, VERR_FROM_RPC,
			 "Unable to decode message payload of %s (procedure %d)", p->api, p->proc);
		rpc_client_send_error(call->c, &call->hdr, &err);
		return;
	}
	if (!p->args_xdr && len != RP_PACKET_MIN + call->skip) {
		verr_set(&err, VERR_RPC, VERR_FROM_RPC, "%s takes no arguments but %zu bytes came",
			 p->api, len - RP_PACKET_MIN - call->skip);
		rpc_client_send_error(call->c, &call->hdr, &err);
		return;
	}
	if (p->fn(call, args, ret, &err) < 0) {
		verr_ensure(&err, p->api);
		rpc_client_send_error(call->c, &call->hdr, &err);
		reply = NULL;
	} else {
		rp_header_answer(&hdr, &call->hdr, RP_REPLY, RP_OK);
		reply = rp_packet_encode(&hdr, p->ret_xdr, p->ret_xdr ? ret : NULL, &err);
		if (!reply)
			rpc_client_send_error(call->c, &call->hdr, &err);
	}
	/* Also after a failure: a handler may have filled part of the (zeroed) result. */
	if (p->ret_xdr)
		xdr_free(p->ret_xdr, ret);
	if (p->args_xdr)
		xdr_free(p->args_xdr, args);
	if (reply) {
		rpc_client_send(call->c, reply);
		if (call->after_reply) {
			rpc_client_run_on_io_thread(call->c, call->after_reply, call->after_data,
						    call->after_free);
			call->after_reply = NULL;
		}
	}
	if (call->after_reply && call->after_free)
		call->after_free(call->after_data);	/* the reply failed: nothing follows */
}

static void call_free(struct remote_call *call)
{
	g_bytes_unref(call->packet);
	rpc_client_unref(call->c);
	g_free(call);
}

/* Hand the next waiting call of @rc to the pool if it has room. Called with rc->lock held. */
static void pump_locked(struct remote_client *rc)
{
	while (rc->inflight < rc->d->cfg.max_client_requests && !g_queue_is_empty(&rc->pending)) {
		struct remote_call *call = g_queue_pop_head(&rc->pending);

		rc->inflight++;
		g_thread_pool_push(call->p->flags & PROC_FAST ? rc->d->prio_pool : rc->d->pool, call,
				   NULL);
	}
}

/* A pool worker. */
static void worker_run(gpointer data, gpointer user)
{
	struct remote_call *call = data;
	struct remote_client *rc = call->rc;

	call_execute(call);
	g_mutex_lock(&rc->lock);
	rc->inflight--;
	pump_locked(rc);
	if (rc->input_paused && g_queue_get_length(&rc->pending) <= PENDING_MAX / 2) {
		rc->input_paused = false;
		rpc_client_pause_input(call->c, false);
	}
	g_mutex_unlock(&rc->lock);
	call_free(call);
}

static int refuse(struct rpc_client *c, const rp_header *hdr, struct remote_client *rc,
		  const struct remote_proc *p, struct verr *err)
{
	int proc = hdr->proc;

	if (!p) {
		if (proc <= 0 || proc > RP_PROC_LAST_KNOWN)
			return verr_set(err, VERR_RPC, VERR_FROM_RPC, "unknown procedure: %d", proc);
		if (!rc->opened)
			goto not_open;
		return verr_no_support(err, g_str_has_prefix(remote_proc_api_name(proc), "virDomain") ?
				       VERR_FROM_DOMAIN : VERR_FROM_NONE, remote_proc_api_name(proc));
	}
	if (!rc->opened && !(p->flags & PROC_PREOPEN))
		goto not_open;
	if (rc->readonly && (p->flags & PROC_MUTATING))
		return verr_set(err, VERR_OPERATION_DENIED, VERR_FROM_NONE,
				"read only access prevents %s", p->api);
	return 0;
not_open:
	return verr_set(err, VERR_INTERNAL_ERROR, VERR_FROM_RPC, "hypervisor connection not open");
}

static void remote_call_cb(struct rpc_client *c, const rp_header *hdr, GBytes *packet, size_t skip)
{
	struct remote_client *rc = rpc_client_get_data(c);
	const struct remote_proc *p = NULL;
	struct remote_call *call;
	struct verr err = { 0 };

	if (hdr->proc > 0 && hdr->proc <= RP_PROC_LAST_KNOWN)
		p = proc_index[hdr->proc];
	if (refuse(c, hdr, rc, p, &err) < 0) {
		rpc_client_send_error(c, hdr, &err);
		return;
	}
	call = g_new0(struct remote_call, 1);
	call->d = rc->d;
	call->c = rpc_client_ref(c);
	call->rc = rc;
	call->p = p;
	call->hdr = *hdr;
	call->packet = g_bytes_ref(packet);
	call->skip = skip;
	if (p->flags & PROC_INLINE) {
		call_execute(call);
		call_free(call);
		return;
	}
	g_mutex_lock(&rc->lock);
	g_queue_push_tail(&rc->pending, call);
	pump_locked(rc);
	if (!rc->input_paused && g_queue_get_length(&rc->pending) >= PENDING_MAX) {
		rc->input_paused = true;
		rpc_client_pause_input(c, true);
	}
	g_mutex_unlock(&rc->lock);
}

static void remote_client_free(gpointer data)
{
	struct remote_client *rc = data;

	g_array_unref(rc->events);
	g_mutex_clear(&rc->lock);
	g_free(rc);
}

static struct remote_client *remote_client_get(struct rpc_client *c, struct virtd *d)
{
	struct remote_client *rc = rpc_client_get_data(c);

	if (rc)
		return rc;
	rc = g_new0(struct remote_client, 1);
	rc->d = d;
	rc->readonly = rpc_client_readonly(c);
	rc->events = g_array_new(FALSE, FALSE, sizeof(struct remote_event_reg));
	g_mutex_init(&rc->lock);
	g_queue_init(&rc->pending);
	rpc_client_set_data(c, rc, remote_client_free);
	return rc;
}

static void remote_client_gone(struct rpc_client *c)
{
	struct remote_client *rc = rpc_client_get_data(c);
	GQueue waiting = G_QUEUE_INIT;

	if (!rc)
		return;
	/* Calls not yet on a worker will never be answered: drop them now. */
	g_mutex_lock(&rc->lock);
	waiting = rc->pending;
	g_queue_init(&rc->pending);
	g_mutex_unlock(&rc->lock);
	g_queue_clear_full(&waiting, (GDestroyNotify)call_free);
	g_array_set_size(rc->events, 0);
}

static void remote_call_entry(struct rpc_client *c, const rp_header *hdr, GBytes *packet,
			      size_t skip)
{
	remote_client_get(c, rpc_server_app(rpc_client_server(c)));
	remote_call_cb(c, hdr, packet, skip);
}

const struct rpc_server_ops remote_server_ops = {
	.call = remote_call_entry,
	.client_gone = remote_client_gone,
};

void remote_init(struct virtd *d)
{
	index_table(&remote_procs_connect);
	index_table(&remote_procs_host);
	index_table(&remote_procs_domain);
	index_table(&remote_procs_tuning);
	index_table(&remote_procs_event);
	index_table(&remote_procs_save);
	index_table(&remote_procs_migrate);
	index_table(&remote_procs_storage);
	d->pool = g_thread_pool_new(worker_run, d, d->cfg.max_workers, FALSE, NULL);
	d->prio_pool = g_thread_pool_new(worker_run, d, d->cfg.prio_workers, FALSE, NULL);
}

void remote_shutdown(struct virtd *d)
{
	/* Let running calls finish: their replies go nowhere once clients are gone. */
	g_thread_pool_free(d->pool, FALSE, TRUE);
	g_thread_pool_free(d->prio_pool, FALSE, TRUE);
	d->pool = NULL;
	d->prio_pool = NULL;
}
