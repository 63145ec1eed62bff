// SPDX-License-Identifier: GPL-2.0-or-later
/* Scheduler parameters, statistics and the console stream: the typed-parameter procedures. */
#define G_LOG_DOMAIN "virtdomusd"
#include <string.h>
#include <unistd.h>

#include "remote.h"

#define VIR_TYPED_PARAM_STRING_OKAY 4

rp_typed_param *remote_params_to_wire(const struct domain_param *p, size_t n)
{
	rp_typed_param *w = g_new0(rp_typed_param, MAX(n, 1));

	for (size_t i = 0; i < n; i++) {
		rp_typed_param_value *v = &w[i].value;

		w[i].field = g_strdup(p[i].field);
		v->type = p[i].type;
		switch (p[i].type) {
		case DOMAIN_PARAM_INT: v->rp_typed_param_value_u.i = p[i].v.i; break;
		case DOMAIN_PARAM_UINT: v->rp_typed_param_value_u.ui = p[i].v.ui; break;
		case DOMAIN_PARAM_LLONG: v->rp_typed_param_value_u.l = p[i].v.l; break;
		case DOMAIN_PARAM_ULLONG: v->rp_typed_param_value_u.ul = p[i].v.ul; break;
		case DOMAIN_PARAM_DOUBLE: v->rp_typed_param_value_u.d = p[i].v.d; break;
		case DOMAIN_PARAM_BOOLEAN: v->rp_typed_param_value_u.b = p[i].v.b; break;
		case DOMAIN_PARAM_STRING:
			v->rp_typed_param_value_u.s = g_strdup(p[i].v.s ? p[i].v.s : "");
			break;
		default: g_assert_not_reached();
		}
	}
	return w;
}

/* Wire → backend params; strings borrowed from @w. Return: NULL with @err on a bad name. */
static struct domain_param *params_from_wire(const rp_typed_param *w, size_t n, struct verr *err)
{
	g_autofree struct domain_param *p = g_new0(struct domain_param, MAX(n, 1));

	for (size_t i = 0; i < n; i++) {
		const rp_typed_param_value *v = &w[i].value;

		if (strlen(w[i].field) > RP_FIELD_LENGTH) {
			verr_set(err, VERR_INVALID_ARG, VERR_FROM_NONE,
				 "parameter name '%.80s…' longer than %d characters", w[i].field,
				 RP_FIELD_LENGTH);
			return NULL;
		}
		g_strlcpy(p[i].field, w[i].field, sizeof(p[i].field));
		p[i].type = v->type;
		switch (v->type) {
		case DOMAIN_PARAM_INT: p[i].v.i = v->rp_typed_param_value_u.i; break;
		case DOMAIN_PARAM_UINT: p[i].v.ui = v->rp_typed_param_value_u.ui; break;
		case DOMAIN_PARAM_LLONG: p[i].v.l = v->rp_typed_param_value_u.l; break;
		case DOMAIN_PARAM_ULLONG: p[i].v.ul = v->rp_typed_param_value_u.ul; break;
		case DOMAIN_PARAM_DOUBLE: p[i].v.d = v->rp_typed_param_value_u.d; break;
		case DOMAIN_PARAM_BOOLEAN: p[i].v.b = v->rp_typed_param_value_u.b; break;
		case DOMAIN_PARAM_STRING: p[i].v.s = v->rp_typed_param_value_u.s; break;
		}
	}
	return g_steal_pointer(&p);
}

static int sched_type(struct remote_call *call, void *a, void *r, struct verr *err)
{
	rp_domain_get_scheduler_type_ret *ret = r;
	struct domain_summary s;

	NEED_OP(call, sched_type, err);
	if (remote_lookup(call, &((rp_domain_msg *)a)->dom, &s, err) < 0)
		return -1;
	return be(call)->ops->sched_type(be(call), s.uuid, &ret->type, &ret->nparams, err);
}

static int sched_get_common(struct remote_call *call, const rp_nonnull_domain *w, int nparams,
			    unsigned int flags, rp_sched_params_ret *ret, struct verr *err)
{
	struct domain_param *p = NULL;
	struct domain_summary s;
	size_t n = 0;

	NEED_OP(call, sched_get, err);
	if (nparams < 0 || nparams > RP_SCHED_PARAMS_MAX)
		return verr_set(err, VERR_RPC, VERR_FROM_RPC, "nparams must be in 0..%d",
				RP_SCHED_PARAMS_MAX);
	if (remote_lookup(call, w, &s, err) < 0 ||
	    be(call)->ops->sched_get(be(call), s.uuid, flags & ~VIR_TYPED_PARAM_STRING_OKAY, &p, &n,
				     err) < 0)
		return -1;
	n = MIN(n, (size_t)nparams);
	ret->params.params_val = remote_params_to_wire(p, n);
	ret->params.params_len = n;
	domain_params_free(p, n);
	return 0;
}

static int sched_get(struct remote_call *call, void *a, void *r, struct verr *err)
{
	rp_domain_int_args *args = a;

	return sched_get_common(call, &args->dom, args->v, 0, r, err);
}

static int sched_get_flags(struct remote_call *call, void *a, void *r, struct verr *err)
{
	rp_domain_get_scheduler_parameters_flags_args *args = a;

	return sched_get_common(call, &args->dom, args->nparams, args->flags, r, err);
}

static int sched_set_common(struct remote_call *call, const rp_nonnull_domain *w,
			    const rp_typed_param *wp, u_int n, unsigned int flags, struct verr *err)
{
	g_autofree struct domain_param *p = NULL;
	struct domain_summary s;

	NEED_OP(call, sched_set, err);
	if (!(p = params_from_wire(wp, n, err)) || remote_lookup(call, w, &s, err) < 0)
		return -1;
	return be(call)->ops->sched_set(be(call), s.uuid, p, n, flags, err);
}

static int sched_set(struct remote_call *call, void *a, void *r, struct verr *err)
{
	rp_domain_set_scheduler_parameters_args *args = a;

	return sched_set_common(call, &args->dom, args->params.params_val, args->params.params_len,
				0, err);
}

static int sched_set_flags(struct remote_call *call, void *a, void *r, struct verr *err)
{
	rp_domain_set_scheduler_parameters_flags_args *args = a;

	return sched_set_common(call, &args->dom, args->params.params_val, args->params.params_len,
				args->flags, err);
}

static int memory_stats(struct remote_call *call, void *a, void *r, struct verr *err)
{
	rp_domain_memory_stats_args *args = a;
	rp_domain_memory_stats_ret *ret = r;
	g_autofree struct domain_memory_stat *st = NULL;
	struct domain_summary s;
	unsigned int n = 0;

	NEED_OP(call, memory_stats, err);
	if (args->maxStats > RP_MEMORY_STATS_MAX)
		return verr_set(err, VERR_RPC, VERR_FROM_RPC, "maxStats must be at most %d",
				RP_MEMORY_STATS_MAX);
	if (remote_lookup(call, &args->dom, &s, err) < 0)
		return -1;
	st = g_new0(struct domain_memory_stat, MAX(args->maxStats, 1));
	if (be(call)->ops->memory_stats(be(call), s.uuid, st, args->maxStats, &n, err) < 0)
		return -1;
	n = MIN(n, args->maxStats);
	ret->stats.stats_val = g_new0(rp_domain_memory_stat, MAX(n, 1));
	ret->stats.stats_len = n;
	for (unsigned int i = 0; i < n; i++) {
		ret->stats.stats_val[i].tag = st[i].tag;
		ret->stats.stats_val[i].val = st[i].val;
	}
	return 0;
}

/* domblkstat (virsh falls back to this from BLOCK_STATS_FLAGS) and domifstat. */
static int device_stats(struct remote_call *call, void *a, void *r, struct verr *err)
{
	rp_domain_device_args *args = a;
	struct domain_summary s;

	if (call->p->proc == RP_PROC_DOMAIN_BLOCK_STATS) {
		rp_domain_block_stats_ret *ret = r;
		struct domain_block_stats st = { 0 };

		NEED_OP(call, block_stats, err);
		if (remote_lookup(call, &args->dom, &s, err) < 0 ||
		    be(call)->ops->block_stats(be(call), s.uuid, args->dev, &st, err) < 0)
			return -1;
		*ret = (rp_domain_block_stats_ret){ st.rd_req, st.rd_bytes, st.wr_req, st.wr_bytes,
						    st.errs };
	} else {
		rp_domain_interface_stats_ret *ret = r;
		struct domain_interface_stats st = { 0 };

		NEED_OP(call, interface_stats, err);
		if (remote_lookup(call, &args->dom, &s, err) < 0 ||
		    be(call)->ops->interface_stats(be(call), s.uuid, args->dev, &st, err) < 0)
			return -1;
		*ret = (rp_domain_interface_stats_ret){ st.rx_bytes, st.rx_packets, st.rx_errs,
							st.rx_drop, st.tx_bytes, st.tx_packets,
							st.tx_errs, st.tx_drop };
	}
	return 0;
}

/* One stats record for @s. */
static int stats_record(struct remote_call *call, const struct domain_summary *s,
			unsigned int groups, rp_domain_stats_record *rec, struct verr *err)
{
	struct domain_param *p = NULL;
	size_t n = 0;

	if (be(call)->ops->stats(be(call), s->uuid, groups, &p, &n, err) < 0)
		return -1;
	remote_domain_to_wire(s, &rec->dom);
	rec->params.params_val = remote_params_to_wire(p, n);
	rec->params.params_len = n;
	domain_params_free(p, n);
	return 0;
}

static int all_domain_stats(struct remote_call *call, void *a, void *r, struct verr *err)
{
	rp_get_all_domain_stats_args *args = a;
	rp_get_all_domain_stats_ret *ret = r;
	g_autofree struct domain_summary *doms = NULL;
	size_t n = 0, k = 0;

	if (args->doms.doms_len) {
		n = args->doms.doms_len;
		doms = g_new0(struct domain_summary, n);
		for (size_t i = 0; i < n; i++)
			if (remote_lookup(call, &args->doms.doms_val[i], &doms[i], err) < 0)
				return -1;
	} else {
		/* All domains, filtered by the listing flags (the stats-only flags are above them). */
		if (be(call)->ops->list(be(call), &doms, &n, err) < 0)
			return -1;
		for (size_t i = 0; i < n; i++)
			if (remote_list_filter_match(&doms[i], args->flags & 0xffffu))
				doms[k++] = doms[i];
		n = k;
	}
	if (n)		/* no domains, no statistics: that much every backend can answer */
		NEED_OP(call, stats, err);
	ret->retStats.retStats_val = g_new0(rp_domain_stats_record, MAX(n, 1));
	for (size_t i = 0; i < n; i++) {
		struct verr gone = { 0 };
		rp_domain_stats_record *rec = &ret->retStats.retStats_val[ret->retStats.retStats_len];

		if (stats_record(call, &doms[i], args->stats, rec, &gone) < 0) {
			if (gone.code == VERR_NO_DOMAIN && !args->doms.doms_len)
				continue;	/* undefined while we listed: not an error */
			*err = gone;
			return -1;
		}
		ret->retStats.retStats_len++;
	}
	return 0;
}

/* ---- Console ---- */

struct console_open {
	rp_header hdr;
	int fd;
};

static void console_start(struct rpc_client *c, void *data)
{
	struct console_open *co = data;

	rpc_stream_open(c, &co->hdr, co->fd);
	co->fd = -1;
}

static void console_open_free(void *data)
{
	struct console_open *co = data;

	if (co->fd >= 0)
		close(co->fd);
	g_free(co);
}

static int open_console(struct remote_call *call, void *a, void *r, struct verr *err)
{
	rp_domain_open_console_args *args = a;
	struct domain_summary s;
	struct console_open *co;
	int fd = -1;

	NEED_OP(call, open_console, err);
	if (remote_lookup(call, &args->dom, &s, err) < 0 ||
	    be(call)->ops->open_console(be(call), s.uuid, args->dev_name ? *args->dev_name : NULL,
					args->flags, &fd, err) < 0)
		return -1;
	/* The stream starts on the I/O thread once the OK reply is queued ahead of its data. */
	co = g_new0(struct console_open, 1);
	co->hdr = call->hdr;
	co->fd = fd;
	call->after_reply = console_start;
	call->after_data = co;
	call->after_free = console_open_free;
	return 0;
}

#define M PROC_MUTATING
static const struct remote_proc procs[] = {
	PROC(RP_PROC_DOMAIN_GET_SCHEDULER_TYPE, "virDomainGetSchedulerType", rp_domain_msg,
	     rp_domain_get_scheduler_type_ret, sched_type, 0),
	PROC(RP_PROC_DOMAIN_GET_SCHEDULER_PARAMETERS, "virDomainGetSchedulerParameters",
	     rp_domain_int_args, rp_sched_params_ret, sched_get, 0),
	PROC(RP_PROC_DOMAIN_GET_SCHEDULER_PARAMETERS_FLAGS, "virDomainGetSchedulerParametersFlags",
	     rp_domain_get_scheduler_parameters_flags_args, rp_sched_params_ret, sched_get_flags, 0),
	PROC_VOID(RP_PROC_DOMAIN_SET_SCHEDULER_PARAMETERS, "virDomainSetSchedulerParameters",
		  rp_domain_set_scheduler_parameters_args, sched_set, M),
	PROC_VOID(RP_PROC_DOMAIN_SET_SCHEDULER_PARAMETERS_FLAGS,
		  "virDomainSetSchedulerParametersFlags",
		  rp_domain_set_scheduler_parameters_flags_args, sched_set_flags, M),
	PROC(RP_PROC_DOMAIN_MEMORY_STATS, "virDomainMemoryStats", rp_domain_memory_stats_args,
	     rp_domain_memory_stats_ret, memory_stats, 0),
	PROC(RP_PROC_DOMAIN_BLOCK_STATS, "virDomainBlockStats", rp_domain_device_args,
	     rp_domain_block_stats_ret, device_stats, 0),
	PROC(RP_PROC_DOMAIN_INTERFACE_STATS, "virDomainInterfaceStats", rp_domain_device_args,
	     rp_domain_interface_stats_ret, device_stats, 0),
	PROC(RP_PROC_CONNECT_GET_ALL_DOMAIN_STATS, "virConnectGetAllDomainStats",
	     rp_get_all_domain_stats_args, rp_get_all_domain_stats_ret, all_domain_stats, 0),
	PROC_VOID(RP_PROC_DOMAIN_OPEN_CONSOLE, "virDomainOpenConsole", rp_domain_open_console_args,
		  open_console, M),
};
#undef M

const struct remote_proc_table remote_procs_tuning = { procs, G_N_ELEMENTS(procs) };
