// SPDX-License-Identifier: GPL-2.0-or-later
/* Peer-to-peer migration: this daemon drives the destination (see migrate-p2p.h). */
#define G_LOG_DOMAIN "virtdomusd"
#include <string.h>

#include "migrate-cookie.h"
#include "migrate-p2p.h"
#include "peer.h"

#define PEER_TIMEOUT_MS 30000
/* Finish waits for the guest to arrive; the VMMs give up after 30 s of silence. */
#define FINISH_TIMEOUT_MS 120000

/* The user's params, plus destination_xml when they gave none (borrowed strings). */
static rp_typed_param *dest_params(const rp_typed_param *params, unsigned int n,
				   const char *xml, bool has_xml, unsigned int *out_n)
{
	rp_typed_param *p = g_new0(rp_typed_param, n + 1);

	if (n)
		memcpy(p, params, n * sizeof(*p));
	*out_n = n;
	if (!has_xml) {
		p[n].field = "destination_xml";
		p[n].value.type = DOMAIN_PARAM_STRING;
		p[n].value.rp_typed_param_value_u.s = (char *)xml;
		*out_n = n + 1;
	}
	return p;
}

struct p2p {
	struct remote_call *call;
	struct rpc_peer *peer;
	const struct domain_summary *s;
	rp_typed_param *params;
	unsigned int nparams;
	unsigned int flags;		/* for the destination: no CHANGE_PROTECTION */
};

/* The destination's prepare: the URI the memory stream goes to. */
static int p2p_prepare(struct p2p *m, const char *begin_xml, char **uri, struct verr *err)
{
	g_autofree char *ck = NULL;
	rp_migrate_prepare3_params_args args = { .flags = m->flags };
	rp_migrate_prepare3_params_ret ret = { 0 };
	struct migrate_cookie parsed;
	int r;

	ck = migrate_cookie_make("begin", m->s, NULL, &args.cookie_in.rp_migrate_cookie_len);
	args.cookie_in.rp_migrate_cookie_val = ck;
	args.params.params_val = m->params;
	args.params.params_len = m->nparams;
	r = rpc_peer_call(m->peer, RP_PROC_DOMAIN_MIGRATE_PREPARE3_PARAMS,
			  (xdrproc_t)xdr_rp_migrate_prepare3_params_args, &args,
			  (xdrproc_t)xdr_rp_migrate_prepare3_params_ret, &ret, PEER_TIMEOUT_MS, err);
	if (r == 0 && (!ret.uri_out || !*ret.uri_out))
		r = verr_set(err, VERR_OPERATION_FAILED, VERR_FROM_DOMAIN,
			     "the destination's prepare step gave no migration URI");
	if (r == 0)
		r = migrate_cookie_parse(ret.cookie_out.rp_migrate_cookie_val,
					 ret.cookie_out.rp_migrate_cookie_len, "prepare",
					 m->s->uuid, &parsed, err);
	if (r == 0)
		*uri = g_strdup(*ret.uri_out);
	xdr_free((xdrproc_t)xdr_rp_migrate_prepare3_params_ret, (char *)&ret);
	return r;
}

/* The destination's finish; @cancelled when perform failed. Return: 0 if it runs there. */
static int p2p_finish(struct p2p *m, bool cancelled, struct verr *err)
{
	g_autofree char *ck = NULL;
	rp_migrate_finish3_params_args args = { .flags = m->flags, .cancelled = cancelled };
	rp_migrate_finish3_params_ret ret = { 0 };
	struct migrate_cookie parsed;
	int r;

	ck = remote_migrate_perform_cookie(be(m->call), m->s, &args.cookie_in.rp_migrate_cookie_len);
	args.cookie_in.rp_migrate_cookie_val = ck;
	args.params.params_val = m->params;
	args.params.params_len = m->nparams;
	r = rpc_peer_call(m->peer, RP_PROC_DOMAIN_MIGRATE_FINISH3_PARAMS,
			  (xdrproc_t)xdr_rp_migrate_finish3_params_args, &args,
			  (xdrproc_t)xdr_rp_migrate_finish3_params_ret, &ret, FINISH_TIMEOUT_MS,
			  err);
	if (r == 0)
		r = migrate_cookie_parse(ret.cookie_out.rp_migrate_cookie_val,
					 ret.cookie_out.rp_migrate_cookie_len, "finish",
					 m->s->uuid, &parsed, err);
	xdr_free((xdrproc_t)xdr_rp_migrate_finish3_params_ret, (char *)&ret);
	return r;
}

/* Prepare there, perform here, finish there, confirm here: exactly one copy runs after. */
static int p2p_run(struct p2p *m, const char *xml, struct domain_migrate_args *a,
		   struct verr *err)
{
	struct domain_backend *b = be(m->call);
	g_autofree char *uri = NULL;
	struct verr ferr = { 0 }, cerr = { 0 };
	int perf, fin;

	if (p2p_prepare(m, xml, &uri, err) < 0)
		return -1;
	a->uri = uri;
	perf = b->ops->migrate_perform(b, a, err);
	fin = p2p_finish(m, perf < 0, &ferr);
	/* A finish that answers with the domain means it runs there, whatever perform said. */
	a->cancelled = fin < 0;
	if (b->ops->migrate_confirm(b, a, &cerr) < 0)
		g_message("migration of %s: confirm: %s", m->s->name, cerr.message);
	if (fin == 0) {
		memset(err, 0, sizeof(*err));
		return 0;
	}
	if (perf == 0)
		*err = ferr;
	return -1;
}

int remote_migrate_p2p(struct remote_call *call, const struct domain_summary *s,
		       const char *dconnuri, const rp_typed_param *params, unsigned int nparams,
		       struct domain_migrate_args *a, struct verr *err)
{
	struct domain_backend *b = be(call);
	g_autofree char *xml = NULL;
	g_autofree rp_typed_param *dp = NULL;
	struct p2p m = { .call = call, .s = s, .flags = a->flags & ~MIGRATE_CHANGE_PROTECTION };
	int r;

	if (!dconnuri)
		return verr_set(err, VERR_INVALID_ARG, VERR_FROM_DOMAIN,
				"peer-to-peer migration needs the destination's URI");
	if (b->ops->migrate_begin(b, s->uuid, a->flags, &xml, err) < 0)
		return -1;
	dp = dest_params(params, nparams, a->dest_xml ? a->dest_xml : xml, a->dest_xml != NULL,
			 &m.nparams);
	m.params = dp;
	if (!(m.peer = rpc_peer_open(dconnuri, PEER_TIMEOUT_MS, err)))
		return -1;
	r = p2p_run(&m, xml, a, err);
	rpc_peer_close(m.peer);
	return r;
}
