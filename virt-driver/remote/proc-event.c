// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Domain events, callback style (feature REMOTE_EVENT_CALLBACK): a connection registers
 * (event id, optional domain) and gets a callback id; each event goes out once per
 * matching registration as a MESSAGE carrying that id. Registrations live with the
 * connection and go with it. Registration runs on the I/O thread, and so does delivery,
 * so the lists need no lock.
 */
#define G_LOG_DOMAIN "virtdomusd"
#include <string.h>

#include "remote.h"

/* Event ids we can deliver: LIFECYCLE (0), REBOOT (1) and JOB_COMPLETED (21). */
#define EVENT_ID_LIFECYCLE 0
#define EVENT_ID_REBOOT 1
#define EVENT_ID_JOB_COMPLETED 21
#define EVENT_ID_LAST 26		/* MEMORY_DEVICE_SIZE_CHANGE, the last in 9.0 */
#define MAX_REGISTRATIONS 1024		/* per connection */

static int register_any(struct remote_call *call, void *a, void *r, struct verr *err)
{
	rp_event_callback_register_any_args *args = a;
	struct remote_client *rc = call->rc;
	struct remote_event_reg reg = { .event_id = args->eventID };

	if (args->eventID < 0 || args->eventID > EVENT_ID_LAST)
		return verr_set(err, VERR_INVALID_ARG, VERR_FROM_NONE, "unsupported event ID %d",
				args->eventID);
	if (args->eventID != EVENT_ID_LIFECYCLE && args->eventID != EVENT_ID_REBOOT &&
	    args->eventID != EVENT_ID_JOB_COMPLETED)
		/* Clients (virsh event --all, virt-manager) carry on without these. */
		return verr_set(err, VERR_NO_SUPPORT, VERR_FROM_NONE,
				"virConnectDomainEventRegisterAny for event ID %d", args->eventID);
	if (rc->events->len >= MAX_REGISTRATIONS)
		return verr_set(err, VERR_OPERATION_FAILED, VERR_FROM_NONE,
				"too many event registrations on this connection (%d)",
				MAX_REGISTRATIONS);
	if (args->dom) {
		reg.has_dom = true;
		memcpy(reg.uuid, args->dom->uuid, DOMAIN_UUID_LEN);
	}
	reg.callback_id = rc->next_callback_id++;
	g_array_append_val(rc->events, reg);
	((rp_int_msg *)r)->v = reg.callback_id;
	return 0;
}

static int deregister_any(struct remote_call *call, void *a, void *r, struct verr *err)
{
	int id = ((rp_int_msg *)a)->v;
	GArray *ev = call->rc->events;

	for (guint i = 0; i < ev->len; i++) {
		if (g_array_index(ev, struct remote_event_reg, i).callback_id == id) {
			g_array_remove_index(ev, i);
			return 0;
		}
	}
	return verr_set(err, VERR_INVALID_ARG, VERR_FROM_NONE,
			"domain event callback %d not registered", id);
}

/* ---- Delivery ---- */

struct pending_event {
	struct virtd *d;
	int event_id;
	int proc;
	struct domain_summary dom;
	int event, detail;
	struct domain_job_info job;	/* JOB_COMPLETED */
};

static GBytes *encode_job_completed(const struct pending_event *pe, int callback_id,
				    rp_header *hdr, struct verr *err)
{
	rp_event_job_completed_msg m = { .callbackID = callback_id };
	struct domain_param p[20];
	GBytes *pkt;

	remote_domain_to_wire(&pe->dom, &m.dom);
	m.params.params_len = remote_job_params(&pe->job, p);
	m.params.params_val = remote_params_to_wire(p, m.params.params_len);
	pkt = rp_packet_encode(hdr, (xdrproc_t)xdr_rp_event_job_completed_msg, &m, err);
	xdr_free((xdrproc_t)xdr_rp_event_job_completed_msg, (char *)&m);
	return pkt;
}

static GBytes *encode_event(const struct pending_event *pe, int callback_id)
{
	rp_header hdr = {
		.prog = RP_REMOTE_PROGRAM,
		.vers = RP_REMOTE_VERSION,
		.proc = pe->proc,
		.type = RP_MESSAGE,
		.serial = 1,	/* what libvirtd 9.0 sends; clients ignore it */
		.status = RP_OK,
	};
	struct verr err = { 0 };
	GBytes *pkt;

	if (pe->event_id == EVENT_ID_LIFECYCLE) {
		rp_event_lifecycle_msg m = { .callbackID = callback_id, .event = pe->event,
					     .detail = pe->detail };

		remote_domain_to_wire(&pe->dom, &m.dom);
		pkt = rp_packet_encode(&hdr, (xdrproc_t)xdr_rp_event_lifecycle_msg, &m, &err);
		g_free(m.dom.name);
	} else if (pe->event_id == EVENT_ID_JOB_COMPLETED) {
		pkt = encode_job_completed(pe, callback_id, &hdr, &err);
	} else {
		rp_event_reboot_msg m = { .callbackID = callback_id };

		remote_domain_to_wire(&pe->dom, &m.dom);
		pkt = rp_packet_encode(&hdr, (xdrproc_t)xdr_rp_event_reboot_msg, &m, &err);
		g_free(m.dom.name);
	}
	return pkt;
}

static void deliver_to_client(struct rpc_client *c, void *opaque)
{
	const struct pending_event *pe = opaque;
	struct remote_client *rc = rpc_client_get_data(c);

	if (!rc || !rc->opened)
		return;
	for (guint i = 0; i < rc->events->len; i++) {
		const struct remote_event_reg *reg =
			&g_array_index(rc->events, struct remote_event_reg, i);

		if (reg->event_id != pe->event_id ||
		    (reg->has_dom && memcmp(reg->uuid, pe->dom.uuid, DOMAIN_UUID_LEN) != 0))
			continue;
		rpc_client_send(c, encode_event(pe, reg->callback_id));
	}
}

static gboolean deliver(gpointer data)
{
	struct pending_event *pe = data;

	if (pe->d->srv)
		rpc_server_foreach_client(pe->d->srv, deliver_to_client, pe);
	return G_SOURCE_REMOVE;
}

static void queue_event(struct virtd *d, int event_id, int proc, const struct domain_summary *dom,
			int event, int detail)
{
	struct pending_event *pe = g_new0(struct pending_event, 1);

	pe->d = d;
	pe->event_id = event_id;
	pe->proc = proc;
	pe->dom = *dom;
	pe->event = event;
	pe->detail = detail;
	/* In order, on the I/O thread, whichever thread the backend reports from. */
	g_main_context_invoke_full(d->ctx, G_PRIORITY_DEFAULT, deliver, pe, g_free);
}

void remote_event_lifecycle(void *opaque, const struct domain_summary *dom, int event, int detail)
{
	queue_event(opaque, EVENT_ID_LIFECYCLE, RP_PROC_DOMAIN_EVENT_CALLBACK_LIFECYCLE, dom, event,
		    detail);
}

void remote_event_reboot(void *opaque, const struct domain_summary *dom)
{
	queue_event(opaque, EVENT_ID_REBOOT, RP_PROC_DOMAIN_EVENT_CALLBACK_REBOOT, dom, 0, 0);
}

void remote_event_job_completed(void *opaque, const struct domain_summary *dom,
				const struct domain_job_info *job)
{
	struct pending_event *pe = g_new0(struct pending_event, 1);

	pe->d = opaque;
	pe->event_id = EVENT_ID_JOB_COMPLETED;
	pe->proc = RP_PROC_DOMAIN_EVENT_CALLBACK_JOB_COMPLETED;
	pe->dom = *dom;
	pe->job = *job;
	g_main_context_invoke_full(pe->d->ctx, G_PRIORITY_DEFAULT, deliver, pe, g_free);
}

static const struct remote_proc procs[] = {
	PROC(RP_PROC_CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY,
	     "virConnectDomainEventRegisterAny", rp_event_callback_register_any_args, rp_int_msg,
	     register_any, PROC_INLINE),
	PROC_VOID(RP_PROC_CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY,
		  "virConnectDomainEventDeregisterAny", rp_int_msg, deregister_any, PROC_INLINE),
};

const struct remote_proc_table remote_procs_event = { procs, G_N_ELEMENTS(procs) };
