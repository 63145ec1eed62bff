// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Live migration, libvirt's v3 protocol with typed params (procedures 302–307) and the
 * migration limits (docs/virtdomusd.md, "Live migration"). Decodes the params, the flags
 * and our cookie (migrate-cookie.h), then calls the backend's migrate_* op. Perform is a
 * slow call (the normal pool: the main loop and the priority pool stay free for job info,
 * abort and the limits); with PEER2PEER it drives the destination itself (migrate-p2p.c).
 */
#define G_LOG_DOMAIN "virtdomusd"
#include <string.h>

#include "migrate-cookie.h"
#include "migrate-p2p.h"
#include "remote.h"

/* What Domus migrates with, and what it names when refusing the rest. */
static const struct {
	unsigned int flag;
	const char *what;
} refused_flags[] = {
	{ MIGRATE_TUNNELLED, "tunnelled migration (--tunnelled)" },
	{ MIGRATE_PAUSED, "leaving the domain paused on the destination (--suspend)" },
	{ MIGRATE_NON_SHARED_DISK | MIGRATE_NON_SHARED_INC,
	  "copying storage (--copy-storage-*): disks must be on shared storage" },
	{ MIGRATE_OFFLINE, "offline migration (--offline)" },
	{ MIGRATE_COMPRESSED, "compression (--compressed)" },
	{ MIGRATE_POSTCOPY, "post-copy (--postcopy)" },
	{ MIGRATE_TLS, "TLS for the migration stream (--tls)" },
	{ MIGRATE_PARALLEL, "parallel connections (--parallel)" },
};

int remote_migrate_check_flags(unsigned int flags, const char *api, struct verr *err)
{
	for (size_t i = 0; i < G_N_ELEMENTS(refused_flags); i++)
		if (flags & refused_flags[i].flag)
			return verr_set(err, VERR_ARGUMENT_UNSUPPORTED, VERR_FROM_DOMAIN,
					"%s is not supported by Domus", refused_flags[i].what);
	if (flags & ~MIGRATE_FLAGS_OK)
		return verr_set(err, VERR_INVALID_ARG, VERR_FROM_DOMAIN,
				"unsupported flags (0x%x) in function %s", flags & ~MIGRATE_FLAGS_OK,
				api);
	return 0;
}

/* A string param into *@out; duplicates and wrong types refused. */
static int take_string(const rp_typed_param *p, const char **out, struct verr *err)
{
	if (p->value.type != DOMAIN_PARAM_STRING)
		return verr_set(err, VERR_INVALID_ARG, VERR_FROM_DOMAIN,
				"migration parameter '%s' must be a string", p->field);
	if (*out)
		return verr_set(err, VERR_INVALID_ARG, VERR_FROM_DOMAIN,
				"migration parameter '%s' given twice", p->field);
	*out = p->value.rp_typed_param_value_u.s;
	return 0;
}

static int take_bandwidth(const rp_typed_param *p, struct domain_migrate_args *a,
			  struct verr *err)
{
	if (p->value.type != DOMAIN_PARAM_ULLONG)
		return verr_set(err, VERR_INVALID_ARG, VERR_FROM_DOMAIN,
				"migration parameter 'bandwidth' must be an unsigned long long");
	if (a->has_bandwidth)
		return verr_set(err, VERR_INVALID_ARG, VERR_FROM_DOMAIN,
				"migration parameter 'bandwidth' given twice");
	a->has_bandwidth = true;
	a->bandwidth_mib = p->value.rp_typed_param_value_u.ul;
	return 0;
}

int remote_migrate_params(const rp_typed_param *p, unsigned int n, struct domain_migrate_args *a,
			  struct verr *err)
{
	for (unsigned int i = 0; i < n; i++) {
		const char *f = p[i].field;
		int r;

		if (!strcmp(f, "migrate_uri"))
			r = take_string(&p[i], &a->uri, err);
		else if (!strcmp(f, "destination_name"))
			r = take_string(&p[i], &a->dname, err);
		else if (!strcmp(f, "destination_xml"))
			r = take_string(&p[i], &a->dest_xml, err);
		else if (!strcmp(f, "listen_address"))
			r = take_string(&p[i], &a->listen_address, err);
		else if (!strcmp(f, "persistent_xml"))
			r = take_string(&p[i], &a->persist_xml, err);
		else if (!strcmp(f, "bandwidth"))
			r = take_bandwidth(&p[i], a, err);
		else
			r = verr_set(err, VERR_ARGUMENT_UNSUPPORTED, VERR_FROM_DOMAIN,
				     "migration parameter '%.80s' is not supported by Domus", f);
		if (r < 0)
			return -1;
	}
	return 0;
}

static void set_cookie(rp_migrate_cookie *c, const char *step, const struct domain_summary *s)
{
	c->rp_migrate_cookie_val = migrate_cookie_make(step, s, NULL, &c->rp_migrate_cookie_len);
}

/* Perform's cookie: with the statistics of the migration that just completed here. */
char *remote_migrate_perform_cookie(struct domain_backend *b, const struct domain_summary *s,
				    unsigned int *len)
{
	struct domain_job_info j;
	struct verr err = { 0 };
	bool have = b->ops->job_info &&
		    !b->ops->job_info(b, s->uuid, DOMAIN_JOB_STATS_COMPLETED |
				      DOMAIN_JOB_STATS_KEEP_COMPLETED, &j, &err) &&
		    j.type == DOMAIN_JOB_COMPLETED && j.operation == DOMAIN_JOB_OP_MIGRATION_OUT;

	return migrate_cookie_make("perform", s, have ? &j : NULL, len);
}

static int begin(struct remote_call *call, void *v, void *r, struct verr *err)
{
	rp_migrate_begin3_params_args *args = v;
	rp_migrate_begin3_params_ret *ret = r;
	struct domain_migrate_args a = { .flags = args->flags };
	struct domain_summary s;

	NEED_OP(call, migrate_begin, err);
	if (remote_migrate_check_flags(args->flags, call->p->api, err) < 0 ||
	    remote_migrate_params(args->params.params_val, args->params.params_len, &a, err) < 0 ||
	    remote_lookup(call, &args->dom, &s, err) < 0 ||
	    be(call)->ops->migrate_begin(be(call), s.uuid, args->flags, &ret->xml, err) < 0)
		return -1;
	/* virsh --xml: the user's XML goes to the destination (which checks it). */
	if (a.dest_xml) {
		g_free(ret->xml);
		ret->xml = g_strdup(a.dest_xml);
	}
	set_cookie(&ret->cookie_out, "begin", &s);
	return 0;
}

static int prepare(struct remote_call *call, void *v, void *r, struct verr *err)
{
	rp_migrate_prepare3_params_args *args = v;
	rp_migrate_prepare3_params_ret *ret = r;
	struct domain_migrate_args a = { .flags = args->flags };
	struct migrate_cookie ck;
	struct domain_summary s = { .id = -1 };

	NEED_OP(call, migrate_prepare, err);
	if (remote_migrate_check_flags(args->flags, call->p->api, err) < 0 ||
	    remote_migrate_params(args->params.params_val, args->params.params_len, &a, err) < 0 ||
	    migrate_cookie_parse(args->cookie_in.rp_migrate_cookie_val,
				 args->cookie_in.rp_migrate_cookie_len, "begin", NULL, &ck, err) < 0)
		return -1;
	if (!a.dest_xml)
		return verr_set(err, VERR_INVALID_ARG, VERR_FROM_DOMAIN,
				"the migration parameter 'destination_xml' is missing");
	memcpy(a.uuid, ck.uuid, DOMAIN_UUID_LEN);
	a.local_host = rpc_client_local_host(call->c);
	ret->uri_out = g_new0(char *, 1);
	if (be(call)->ops->migrate_prepare(be(call), &a, ret->uri_out, err) < 0)
		return -1;
	memcpy(s.uuid, ck.uuid, DOMAIN_UUID_LEN);
	g_strlcpy(s.name, ck.name, sizeof(s.name));
	set_cookie(&ret->cookie_out, "prepare", &s);
	return 0;
}

static int perform(struct remote_call *call, void *v, void *r, struct verr *err)
{
	rp_migrate_perform3_params_args *args = v;
	rp_migrate_perform3_params_ret *ret = r;
	struct domain_migrate_args a = { .flags = args->flags };
	struct migrate_cookie ck;
	struct domain_summary s;

	NEED_OP(call, migrate_perform, err);
	if (remote_migrate_check_flags(args->flags, call->p->api, err) < 0 ||
	    remote_migrate_params(args->params.params_val, args->params.params_len, &a, err) < 0 ||
	    remote_lookup(call, &args->dom, &s, err) < 0)
		return -1;
	memcpy(a.uuid, s.uuid, DOMAIN_UUID_LEN);
	/* Peer to peer: we are the client of the destination; the reply's cookie stays empty. */
	if (args->flags & MIGRATE_PEER2PEER)
		return remote_migrate_p2p(call, &s, args->dconnuri ? *args->dconnuri : NULL,
					  args->params.params_val, args->params.params_len, &a, err);
	if (migrate_cookie_parse(args->cookie_in.rp_migrate_cookie_val,
				 args->cookie_in.rp_migrate_cookie_len, "prepare", s.uuid, &ck,
				 err) < 0)
		return -1;
	if (!a.uri)
		return verr_set(err, VERR_INVALID_ARG, VERR_FROM_DOMAIN,
				"no migration URI: the destination's prepare step gave none");
	if (be(call)->ops->migrate_perform(be(call), &a, err) < 0)
		return -1;
	ret->cookie_out.rp_migrate_cookie_val =
		remote_migrate_perform_cookie(be(call), &s, &ret->cookie_out.rp_migrate_cookie_len);
	return 0;
}

static int finish(struct remote_call *call, void *v, void *r, struct verr *err)
{
	rp_migrate_finish3_params_args *args = v;
	rp_migrate_finish3_params_ret *ret = r;
	struct domain_migrate_args a = { .flags = args->flags, .cancelled = args->cancelled };
	struct migrate_cookie ck;
	struct domain_summary s;

	NEED_OP(call, migrate_finish, err);
	if (remote_migrate_check_flags(args->flags, call->p->api, err) < 0 ||
	    remote_migrate_params(args->params.params_val, args->params.params_len, &a, err) < 0)
		return -1;
	/* A perform that failed wrote no cookie: the prepare's domain is found by name then. */
	if (migrate_cookie_parse(args->cookie_in.rp_migrate_cookie_val,
				 args->cookie_in.rp_migrate_cookie_len, "perform", NULL, &ck,
				 err) < 0) {
		if (!args->cancelled)
			return -1;
		memset(err, 0, sizeof(*err));
	}
	memcpy(a.uuid, ck.uuid, DOMAIN_UUID_LEN);
	a.stats = ck.has_stats ? &ck.stats : NULL;
	if (be(call)->ops->migrate_finish(be(call), &a, &s, err) < 0)
		return -1;
	remote_domain_to_wire(&s, &ret->dom);
	set_cookie(&ret->cookie_out, "finish", &s);
	return 0;
}

static int confirm(struct remote_call *call, void *v, void *r, struct verr *err)
{
	rp_migrate_confirm3_params_args *args = v;
	struct domain_migrate_args a = { .flags = args->flags, .cancelled = args->cancelled };
	struct migrate_cookie ck;
	struct domain_summary s;

	NEED_OP(call, migrate_confirm, err);
	if (remote_migrate_check_flags(args->flags, call->p->api, err) < 0 ||
	    remote_migrate_params(args->params.params_val, args->params.params_len, &a, err) < 0 ||
	    remote_lookup(call, &args->dom, &s, err) < 0)
		return -1;
	/* Only a finish that succeeded wrote a cookie. */
	if (!args->cancelled &&
	    migrate_cookie_parse(args->cookie_in.rp_migrate_cookie_val,
				 args->cookie_in.rp_migrate_cookie_len, "finish", s.uuid, &ck,
				 err) < 0)
		return -1;
	memcpy(a.uuid, s.uuid, DOMAIN_UUID_LEN);
	return be(call)->ops->migrate_confirm(be(call), &a, err);
}

/* ---- Limits: migrate-setmaxdowntime (ms), migrate-setspeed (MiB/s) and the getters ---- */

static enum domain_migrate_limit limit_of(struct remote_call *call)
{
	int p = call->p->proc;

	return p == RP_PROC_DOMAIN_MIGRATE_SET_MAX_DOWNTIME ||
	       p == RP_PROC_DOMAIN_MIGRATE_GET_MAX_DOWNTIME ? DOMAIN_MIGRATE_DOWNTIME_MS :
							      DOMAIN_MIGRATE_SPEED_MIB;
}

/* The domain of a limit call; no flags (VIR_DOMAIN_MIGRATE_MAX_SPEED_POSTCOPY: no post-copy). */
static int limit_target(struct remote_call *call, const rp_nonnull_domain *dom, unsigned int flags,
			struct domain_summary *s, struct verr *err)
{
	if (flags)
		return verr_set(err, VERR_INVALID_ARG, VERR_FROM_DOMAIN,
				"unsupported flags (0x%x) in function %s", flags, call->p->api);
	return remote_lookup(call, dom, s, err);
}

static int set_limit(struct remote_call *call, void *v, void *r, struct verr *err)
{
	rp_migrate_set_limit_args *args = v;
	struct domain_summary s;

	NEED_OP(call, migrate_set_limit, err);
	if (limit_target(call, &args->dom, args->flags, &s, err) < 0)
		return -1;
	return be(call)->ops->migrate_set_limit(be(call), s.uuid, limit_of(call), args->value, err);
}

static int get_limit(struct remote_call *call, void *v, void *r, struct verr *err)
{
	rp_domain_flags_args *args = v;
	struct domain_summary s;

	NEED_OP(call, migrate_get_limit, err);
	if (limit_target(call, &args->dom, args->flags, &s, err) < 0)
		return -1;
	return be(call)->ops->migrate_get_limit(be(call), s.uuid, limit_of(call),
						 &((rp_migrate_get_limit_ret *)r)->value, err);
}

#define M PROC_MUTATING
static const struct remote_proc procs[] = {
	PROC(RP_PROC_DOMAIN_MIGRATE_BEGIN3_PARAMS, "virDomainMigrateBegin3Params",
	     rp_migrate_begin3_params_args, rp_migrate_begin3_params_ret, begin, M),
	PROC(RP_PROC_DOMAIN_MIGRATE_PREPARE3_PARAMS, "virDomainMigratePrepare3Params",
	     rp_migrate_prepare3_params_args, rp_migrate_prepare3_params_ret, prepare, M),
	PROC(RP_PROC_DOMAIN_MIGRATE_PERFORM3_PARAMS, "virDomainMigratePerform3Params",
	     rp_migrate_perform3_params_args, rp_migrate_perform3_params_ret, perform, M),
	PROC(RP_PROC_DOMAIN_MIGRATE_FINISH3_PARAMS, "virDomainMigrateFinish3Params",
	     rp_migrate_finish3_params_args, rp_migrate_finish3_params_ret, finish, M),
	PROC_VOID(RP_PROC_DOMAIN_MIGRATE_CONFIRM3_PARAMS, "virDomainMigrateConfirm3Params",
		  rp_migrate_confirm3_params_args, confirm, M),
	PROC_VOID(RP_PROC_DOMAIN_MIGRATE_SET_MAX_DOWNTIME, "virDomainMigrateSetMaxDowntime",
		  rp_migrate_set_limit_args, set_limit, M | PROC_FAST),
	PROC_VOID(RP_PROC_DOMAIN_MIGRATE_SET_MAX_SPEED, "virDomainMigrateSetMaxSpeed",
		  rp_migrate_set_limit_args, set_limit, M | PROC_FAST),
	PROC(RP_PROC_DOMAIN_MIGRATE_GET_MAX_DOWNTIME, "virDomainMigrateGetMaxDowntime",
	     rp_domain_flags_args, rp_migrate_get_limit_ret, get_limit, PROC_FAST),
	PROC(RP_PROC_DOMAIN_MIGRATE_GET_MAX_SPEED, "virDomainMigrateGetMaxSpeed",
	     rp_domain_flags_args, rp_migrate_get_limit_ret, get_limit, PROC_FAST),
};
#undef M

const struct remote_proc_table remote_procs_migrate = { procs, G_N_ELEMENTS(procs) };
