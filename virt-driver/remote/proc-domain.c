// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Domain procedures: listing, lookup, state, XML, lifecycle, tuning, statistics, console.
 * Each decodes its domain reference, finds the domain in the backend by UUID (names and
 * ids a client sends back may be stale) and calls one backend op; a NULL op answers
 * VIR_ERR_NO_SUPPORT naming the API.
 */
#define G_LOG_DOMAIN "virtdomusd"
#include <string.h>

#include "remote.h"

#define VIR_DOMAIN_XML_SECURE 1
#define VIR_TYPED_PARAM_STRING_OKAY 4
#define VIR_DOMAIN_AFFECT_LIVE 1
#define VIR_DOMAIN_MEM_MAXIMUM 4


void remote_domain_to_wire(const struct domain_summary *s, rp_nonnull_domain *w)
{
	w->name = g_strdup(s->name);
	memcpy(w->uuid, s->uuid, DOMAIN_UUID_LEN);
	w->id = s->id;
}

int remote_lookup(struct remote_call *call, const rp_nonnull_domain *w, struct domain_summary *s,
		  struct verr *err)
{
	return be(call)->ops->lookup_by_uuid(be(call), (const uint8_t *)w->uuid, s, err);
}

#define lookup remote_lookup

static bool is_active(const struct domain_summary *s)
{
	return s->id > 0;
}

/* ---- Listing ---- */

/* VIR_CONNECT_LIST_DOMAINS_* filter groups: a group with bits set must match, an empty one
 * does not filter. */
bool remote_list_filter_match(const struct domain_summary *s, unsigned int f)
{
	bool other = s->state != DOMAIN_RUNNING && s->state != DOMAIN_PAUSED &&
		     s->state != DOMAIN_SHUTOFF;
#define GROUP(a, b, ca, cb) (!((f) & ((a) | (b))) || (((f) & (a)) && (ca)) || (((f) & (b)) && (cb)))
	return GROUP(1, 2, is_active(s), !is_active(s)) &&
	       GROUP(4, 8, s->persistent, !s->persistent) &&
	       (!(f & (16 | 32 | 64 | 128)) || ((f & 16) && s->state == DOMAIN_RUNNING) ||
		((f & 32) && s->state == DOMAIN_PAUSED) || ((f & 64) && s->state == DOMAIN_SHUTOFF) ||
		((f & 128) && other)) &&
	       GROUP(256, 512, s->managed_save, !s->managed_save) &&
	       GROUP(1024, 2048, s->autostart, !s->autostart) &&
	       GROUP(4096, 8192, false, true) &&	/* no snapshots */
	       GROUP(16384, 32768, false, true);	/* no checkpoints */
#undef GROUP
}

#define LIST_FLAGS_ALL 0xffffu

static int list_all(struct remote_call *call, struct domain_summary **out, size_t *n,
		    struct verr *err)
{
	return be(call)->ops->list(be(call), out, n, err);
}

static int list_all_domains(struct remote_call *call, void *a, void *r, struct verr *err)
{
	rp_list_all_domains_args *args = a;
	rp_list_all_domains_ret *ret = r;
	g_autofree struct domain_summary *all = NULL;
	size_t n, k = 0;

	if (args->flags & ~LIST_FLAGS_ALL)
		return verr_set(err, VERR_INVALID_ARG, VERR_FROM_DOMAIN,
				"unsupported flags (0x%x) in function virConnectListAllDomains",
				args->flags & ~LIST_FLAGS_ALL);
	if (list_all(call, &all, &n, err) < 0)
		return -1;
	if (args->need_results)
		ret->domains.domains_val = g_new0(rp_nonnull_domain, MAX(n, 1));
	for (size_t i = 0; i < n; i++) {
		if (!remote_list_filter_match(&all[i], args->flags))
			continue;
		if (args->need_results)
			remote_domain_to_wire(&all[i], &ret->domains.domains_val[k]);
		k++;
	}
	if (k > RP_DOMAIN_LIST_MAX)
		return verr_set(err, VERR_INTERNAL_ERROR, VERR_FROM_DOMAIN,
				"too many domains (%zu) for one reply", k);
	if (args->need_results)
		ret->domains.domains_len = k;
	ret->ret = k;
	return 0;
}

static int count_domains(struct remote_call *call, bool active, rp_int_msg *ret, struct verr *err)
{
	g_autofree struct domain_summary *all = NULL;
	size_t n;

	if (list_all(call, &all, &n, err) < 0)
		return -1;
	ret->v = 0;
	for (size_t i = 0; i < n; i++)
		if (active ? is_active(&all[i]) : (!is_active(&all[i]) && all[i].persistent))
			ret->v++;
	return 0;
}

static int num_of_domains(struct remote_call *call, void *a, void *r, struct verr *err)
{
	return count_domains(call, true, r, err);
}

static int num_of_defined_domains(struct remote_call *call, void *a, void *r, struct verr *err)
{
	return count_domains(call, false, r, err);
}

/* The legacy LIST_DOMAINS (ids of active ones) and LIST_DEFINED_DOMAINS (names of inactive
 * persistent ones). */
static int list_legacy(struct remote_call *call, void *a, void *r, struct verr *err)
{
	int max = ((rp_int_msg *)a)->v;
	bool ids = call->p->proc == RP_PROC_CONNECT_LIST_DOMAINS;
	rp_list_domains_ret *iret = r;
	rp_list_defined_domains_ret *nret = r;
	g_autofree struct domain_summary *all = NULL;
	size_t n, k = 0;

	if (max < 0 || max > RP_DOMAIN_LIST_MAX)
		return verr_set(err, VERR_RPC, VERR_FROM_RPC, "the maximum must be in 0..%d",
				RP_DOMAIN_LIST_MAX);
	if (list_all(call, &all, &n, err) < 0)
		return -1;
	if (ids)
		iret->ids.ids_val = g_new0(int, MAX(max, 1));
	else
		nret->names.names_val = g_new0(rp_nonnull_string, MAX(max, 1));
	for (size_t i = 0; i < n && (int)k < max; i++) {
		if (ids && is_active(&all[i]))
			iret->ids.ids_val[k++] = all[i].id;
		else if (!ids && !is_active(&all[i]) && all[i].persistent)
			nret->names.names_val[k++] = g_strdup(all[i].name);
	}
	if (ids)
		iret->ids.ids_len = k;
	else
		nret->names.names_len = k;
	return 0;
}

/* ---- Lookup ---- */

/* LOOKUP_BY_ID, _BY_NAME and _BY_UUID. */
static int lookup_domain(struct remote_call *call, void *a, void *r, struct verr *err)
{
	const struct domain_backend_ops *ops = be(call)->ops;
	struct domain_summary s;
	int rc;

	switch (call->p->proc) {
	case RP_PROC_DOMAIN_LOOKUP_BY_ID:
		rc = ops->lookup_by_id(be(call), ((rp_int_msg *)a)->v, &s, err);
		break;
	case RP_PROC_DOMAIN_LOOKUP_BY_NAME:
		rc = ops->lookup_by_name(be(call), ((rp_string_msg *)a)->v, &s, err);
		break;
	default:
		rc = ops->lookup_by_uuid(be(call), (uint8_t *)((rp_uuid_msg *)a)->uuid, &s, err);
	}
	if (rc < 0)
		return -1;
	remote_domain_to_wire(&s, &((rp_domain_msg *)r)->dom);
	return 0;
}

/* ---- State and description ---- */

/* GET_INFO, and GET_MAX_MEMORY which is one of its fields. */
static int get_info(struct remote_call *call, void *a, void *r, struct verr *err)
{
	struct domain_summary s;
	struct domain_info info = { 0 };
	rp_domain_get_info_ret *ret = r;

	NEED_OP(call, get_info, err);
	if (lookup(call, &((rp_domain_msg *)a)->dom, &s, err) < 0 ||
	    be(call)->ops->get_info(be(call), s.uuid, &info, err) < 0)
		return -1;
	if (call->p->proc == RP_PROC_DOMAIN_GET_MAX_MEMORY) {
		((rp_uhyper_msg *)r)->v = info.max_mem_kib;
		return 0;
	}
	ret->state = info.state;
	ret->maxMem = info.max_mem_kib;
	ret->memory = info.mem_kib;
	ret->nrVirtCpu = info.nr_vcpus;
	ret->cpuTime = info.cpu_time_ns;
	return 0;
}

static int get_state(struct remote_call *call, void *a, void *r, struct verr *err)
{
	rp_domain_flags_args *args = a;
	rp_domain_get_state_ret *ret = r;
	struct domain_summary s;

	if (args->flags)
		return verr_set(err, VERR_INVALID_ARG, VERR_FROM_DOMAIN,
				"unsupported flags (0x%x) in function virDomainGetState", args->flags);
	if (lookup(call, &args->dom, &s, err) < 0)
		return -1;
	ret->state = s.state;
	ret->reason = s.reason;
	return 0;
}

/* The yes/no questions answered from the summary. */
static int summary_bool(struct remote_call *call, void *a, void *r, struct verr *err)
{
	struct domain_summary s;
	int *out = &((rp_int_msg *)r)->v;

	if (lookup(call, &((rp_domain_msg *)a)->dom, &s, err) < 0)
		return -1;
	switch (call->p->proc) {
	case RP_PROC_DOMAIN_IS_ACTIVE: *out = is_active(&s); break;
	case RP_PROC_DOMAIN_IS_PERSISTENT: *out = s.persistent; break;
	case RP_PROC_DOMAIN_IS_UPDATED: *out = s.updated; break;
	case RP_PROC_DOMAIN_GET_AUTOSTART: *out = s.autostart; break;
	default: g_assert_not_reached();
	}
	return 0;
}

static int has_managed_save(struct remote_call *call, void *a, void *r, struct verr *err)
{
	rp_domain_flags_args *args = a;
	struct domain_summary s;

	if (lookup(call, &args->dom, &s, err) < 0)
		return -1;
	((rp_int_msg *)r)->v = s.managed_save;
	return 0;
}

static int get_os_type(struct remote_call *call, void *a, void *r, struct verr *err)
{
	struct domain_summary s;

	if (lookup(call, &((rp_domain_msg *)a)->dom, &s, err) < 0)
		return -1;
	((rp_string_msg *)r)->v = g_strdup("hvm");
	return 0;
}

static int get_xml_desc(struct remote_call *call, void *a, void *r, struct verr *err)
{
	rp_domain_flags_args *args = a;
	struct domain_summary s;

	if ((args->flags & VIR_DOMAIN_XML_SECURE) && call->rc->readonly)
		return verr_set(err, VERR_OPERATION_DENIED, VERR_FROM_DOMAIN,
				"virDomainGetXMLDesc with secure flag");
	NEED_OP(call, get_xml, err);
	if (lookup(call, &args->dom, &s, err) < 0)
		return -1;
	return be(call)->ops->get_xml(be(call), s.uuid, args->flags, &((rp_string_msg *)r)->v, err);
}

static int get_max_vcpus(struct remote_call *call, void *a, void *r, struct verr *err)
{
	struct domain_summary s;

	NEED_OP(call, get_max_vcpus, err);
	if (lookup(call, &((rp_domain_msg *)a)->dom, &s, err) < 0)
		return -1;
	return be(call)->ops->get_max_vcpus(be(call), s.uuid, &((rp_int_msg *)r)->v, err);
}

/* ---- Definitions and lifecycle ---- */

static int define_xml_common(struct remote_call *call, const char *xml, unsigned int flags, void *r,
			     struct verr *err)
{
	struct domain_summary s;

	NEED_OP(call, define_xml, err);
	if (be(call)->ops->define_xml(be(call), xml, flags, &s, err) < 0)
		return -1;
	remote_domain_to_wire(&s, &((rp_domain_msg *)r)->dom);
	return 0;
}

static int define_xml(struct remote_call *call, void *a, void *r, struct verr *err)
{
	return define_xml_common(call, ((rp_string_msg *)a)->v, 0, r, err);
}

static int define_xml_flags(struct remote_call *call, void *a, void *r, struct verr *err)
{
	rp_xml_flags_args *args = a;

	return define_xml_common(call, args->xml, args->flags, r, err);
}

static int create_xml(struct remote_call *call, void *a, void *r, struct verr *err)
{
	rp_xml_flags_args *args = a;
	struct domain_summary s;

	NEED_OP(call, create_xml, err);
	if (be(call)->ops->create_xml(be(call), args->xml, args->flags, &s, err) < 0)
		return -1;
	remote_domain_to_wire(&s, &((rp_domain_msg *)r)->dom);
	return 0;
}

/* The ops of shape (domain, flags): which one a procedure uses. */
typedef int (*flags_op)(struct domain_backend *b, const uint8_t *uuid, unsigned int flags,
			struct verr *err);

static flags_op flags_op_for(const struct domain_backend_ops *ops, int proc)
{
	switch (proc) {
	case RP_PROC_DOMAIN_UNDEFINE:
	case RP_PROC_DOMAIN_UNDEFINE_FLAGS: return ops->undefine;
	case RP_PROC_DOMAIN_CREATE:
	case RP_PROC_DOMAIN_CREATE_WITH_FLAGS: return ops->create;
	case RP_PROC_DOMAIN_DESTROY:
	case RP_PROC_DOMAIN_DESTROY_FLAGS: return ops->destroy;
	case RP_PROC_DOMAIN_SHUTDOWN:
	case RP_PROC_DOMAIN_SHUTDOWN_FLAGS: return ops->shutdown;
	case RP_PROC_DOMAIN_REBOOT: return ops->reboot;
	case RP_PROC_DOMAIN_RESET: return ops->reset;
	default: return NULL;
	}
}

/* (domain) and (domain, flags) lifecycle calls with a void reply. */
static int run_flags_op(struct remote_call *call, const rp_nonnull_domain *w, unsigned int flags,
			struct domain_summary *s, struct verr *err)
{
	flags_op op = flags_op_for(be(call)->ops, call->p->proc);

	if (!op)
		return verr_no_support(err, VERR_FROM_DOMAIN, call->p->api);
	if (lookup(call, w, s, err) < 0)
		return -1;
	return op(be(call), s->uuid, flags, err);
}

static int dom_op(struct remote_call *call, void *a, void *r, struct verr *err)
{
	struct domain_summary s;

	return run_flags_op(call, &((rp_domain_msg *)a)->dom, 0, &s, err);
}

static int dom_flags_op(struct remote_call *call, void *a, void *r, struct verr *err)
{
	rp_domain_flags_args *args = a;
	struct domain_summary s;

	return run_flags_op(call, &args->dom, args->flags, &s, err);
}

static int create_with_flags(struct remote_call *call, void *a, void *r, struct verr *err)
{
	rp_domain_flags_args *args = a;
	struct domain_summary s;

	if (run_flags_op(call, &args->dom, args->flags, &s, err) < 0 ||
	    lookup(call, &args->dom, &s, err) < 0)	/* the new id */
		return -1;
	remote_domain_to_wire(&s, &((rp_domain_msg *)r)->dom);
	return 0;
}

static int suspend_resume(struct remote_call *call, void *a, void *r, struct verr *err)
{
	bool suspend = call->p->proc == RP_PROC_DOMAIN_SUSPEND;
	int (*op)(struct domain_backend *, const uint8_t *, struct verr *) =
		suspend ? be(call)->ops->suspend : be(call)->ops->resume;
	struct domain_summary s;

	if (!op)
		return verr_no_support(err, VERR_FROM_DOMAIN, call->p->api);
	if (lookup(call, &((rp_domain_msg *)a)->dom, &s, err) < 0)
		return -1;
	return op(be(call), s.uuid, err);
}

static int set_autostart(struct remote_call *call, void *a, void *r, struct verr *err)
{
	rp_domain_int_args *args = a;
	struct domain_summary s;

	NEED_OP(call, set_autostart, err);
	if (lookup(call, &args->dom, &s, err) < 0)
		return -1;
	return be(call)->ops->set_autostart(be(call), s.uuid, args->v != 0, err);
}

/* ---- Memory and vCPUs ---- */

static int set_memory_common(struct remote_call *call, const rp_nonnull_domain *w, uint64_t kib,
			     unsigned int flags, struct verr *err)
{
	struct domain_summary s;

	NEED_OP(call, set_memory, err);
	if (lookup(call, w, &s, err) < 0)
		return -1;
	return be(call)->ops->set_memory(be(call), s.uuid, kib, flags, err);
}

static int set_memory(struct remote_call *call, void *a, void *r, struct verr *err)
{
	rp_domain_uhyper_args *args = a;

	/* virDomainSetMemory is SetMemoryFlags(LIVE), SetMaxMemory is (CURRENT|MAXIMUM). */
	return set_memory_common(call, &args->dom, args->v,
				 call->p->proc == RP_PROC_DOMAIN_SET_MEMORY ? VIR_DOMAIN_AFFECT_LIVE :
				 VIR_DOMAIN_MEM_MAXIMUM, err);
}

static int set_memory_flags(struct remote_call *call, void *a, void *r, struct verr *err)
{
	rp_domain_uhyper_flags_args *args = a;

	return set_memory_common(call, &args->dom, args->v, args->flags, err);
}

static int set_vcpus_common(struct remote_call *call, const rp_nonnull_domain *w, unsigned int n,
			    unsigned int flags, struct verr *err)
{
	struct domain_summary s;

	NEED_OP(call, set_vcpus, err);
	if (lookup(call, w, &s, err) < 0)
		return -1;
	return be(call)->ops->set_vcpus(be(call), s.uuid, n, flags, err);
}

static int set_vcpus(struct remote_call *call, void *a, void *r, struct verr *err)
{
	rp_domain_int_args *args = a;

	return set_vcpus_common(call, &args->dom, (unsigned int)args->v, VIR_DOMAIN_AFFECT_LIVE, err);
}

static int set_vcpus_flags(struct remote_call *call, void *a, void *r, struct verr *err)
{
	rp_domain_uint_flags_args *args = a;

	return set_vcpus_common(call, &args->dom, args->v, args->flags, err);
}

static int get_vcpus_flags(struct remote_call *call, void *a, void *r, struct verr *err)
{
	rp_domain_flags_args *args = a;
	struct domain_summary s;

	NEED_OP(call, get_vcpus_flags, err);
	if (lookup(call, &args->dom, &s, err) < 0)
		return -1;
	return be(call)->ops->get_vcpus_flags(be(call), s.uuid, args->flags,
					      &((rp_int_msg *)r)->v, err);
}

static int check_maps(int n, int maplen, int nmax, struct verr *err)
{
	if (n < 0 || n > nmax || maplen < 0 || maplen > RP_CPUMAP_MAX ||
	    (int64_t)n * maplen > RP_CPUMAPS_MAX)
		return verr_set(err, VERR_RPC, VERR_FROM_RPC,
				"vCPU count %d or map length %d out of range", n, maplen);
	return 0;
}

static int get_vcpus(struct remote_call *call, void *a, void *r, struct verr *err)
{
	rp_domain_get_vcpus_args *args = a;
	rp_domain_get_vcpus_ret *ret = r;
	g_autofree struct domain_vcpu_info *info = NULL;
	struct domain_summary s;
	int n = 0;

	NEED_OP(call, vcpu_info, err);
	if (check_maps(args->maxinfo, args->maplen, RP_VCPUINFO_MAX, err) < 0 ||
	    lookup(call, &args->dom, &s, err) < 0)
		return -1;
	info = g_new0(struct domain_vcpu_info, MAX(args->maxinfo, 1));
	/* Exactly maxinfo × maplen map bytes go back, unused ones zero (clients expect it). */
	ret->cpumaps.cpumaps_len = args->maxinfo * args->maplen;
	ret->cpumaps.cpumaps_val = g_malloc0(MAX(ret->cpumaps.cpumaps_len, 1));
	if (be(call)->ops->vcpu_info(be(call), s.uuid, info, args->maxinfo,
				     (uint8_t *)ret->cpumaps.cpumaps_val, args->maplen, &n, err) < 0)
		return -1;
	ret->info.info_val = g_new0(rp_vcpu_info, MAX(n, 1));
	ret->info.info_len = MIN(n, args->maxinfo);
	for (u_int i = 0; i < ret->info.info_len; i++) {
		ret->info.info_val[i].number = info[i].number;
		ret->info.info_val[i].state = info[i].state;
		ret->info.info_val[i].cpu_time = info[i].cpu_time_ns;
		ret->info.info_val[i].cpu = info[i].cpu;
	}
	return 0;
}

static int get_vcpu_pin_info(struct remote_call *call, void *a, void *r, struct verr *err)
{
	rp_domain_get_vcpu_pin_info_args *args = a;
	rp_domain_get_vcpu_pin_info_ret *ret = r;
	struct domain_summary s;

	NEED_OP(call, vcpu_pin_info, err);
	if (check_maps(args->ncpumaps, args->maplen, RP_VCPUINFO_MAX, err) < 0 ||
	    lookup(call, &args->dom, &s, err) < 0)
		return -1;
	ret->cpumaps.cpumaps_len = args->ncpumaps * args->maplen;
	ret->cpumaps.cpumaps_val = g_malloc0(MAX(ret->cpumaps.cpumaps_len, 1));
	return be(call)->ops->vcpu_pin_info(be(call), s.uuid, args->ncpumaps,
					    (uint8_t *)ret->cpumaps.cpumaps_val, args->maplen,
					    args->flags, &ret->num, err);
}

static int pin_common(struct remote_call *call, const rp_nonnull_domain *w, unsigned int vcpu,
		      const char *map, u_int len, unsigned int flags, struct verr *err)
{
	struct domain_summary s;

	NEED_OP(call, pin_vcpu, err);
	if (lookup(call, w, &s, err) < 0)
		return -1;
	return be(call)->ops->pin_vcpu(be(call), s.uuid, vcpu, (const uint8_t *)map, len, flags, err);
}

static int pin_vcpu(struct remote_call *call, void *a, void *r, struct verr *err)
{
	rp_domain_pin_vcpu_args *args = a;

	return pin_common(call, &args->dom, args->vcpu, args->cpumap.cpumap_val,
			  args->cpumap.cpumap_len, VIR_DOMAIN_AFFECT_LIVE, err);
}

static int pin_vcpu_flags(struct remote_call *call, void *a, void *r, struct verr *err)
{
	rp_domain_pin_vcpu_flags_args *args = a;

	return pin_common(call, &args->dom, args->vcpu, args->cpumap.cpumap_val,
			  args->cpumap.cpumap_len, args->flags, err);
}

#define M PROC_MUTATING
#define MF (PROC_MUTATING | PROC_FAST)
static const struct remote_proc procs[] = {
	PROC(RP_PROC_CONNECT_LIST_ALL_DOMAINS, "virConnectListAllDomains", rp_list_all_domains_args,
	     rp_list_all_domains_ret, list_all_domains, PROC_FAST),
	PROC_NOARGS(RP_PROC_CONNECT_NUM_OF_DOMAINS, "virConnectNumOfDomains", rp_int_msg,
		    num_of_domains, PROC_FAST),
	PROC_NOARGS(RP_PROC_CONNECT_NUM_OF_DEFINED_DOMAINS, "virConnectNumOfDefinedDomains",
		    rp_int_msg, num_of_defined_domains, PROC_FAST),
	PROC(RP_PROC_CONNECT_LIST_DOMAINS, "virConnectListDomains", rp_int_msg, rp_list_domains_ret,
	     list_legacy, PROC_FAST),
	PROC(RP_PROC_CONNECT_LIST_DEFINED_DOMAINS, "virConnectListDefinedDomains", rp_int_msg,
	     rp_list_defined_domains_ret, list_legacy, PROC_FAST),
	PROC(RP_PROC_DOMAIN_LOOKUP_BY_ID, "virDomainLookupByID", rp_int_msg, rp_domain_msg,
	     lookup_domain, PROC_FAST),
	PROC(RP_PROC_DOMAIN_LOOKUP_BY_NAME, "virDomainLookupByName", rp_string_msg, rp_domain_msg,
	     lookup_domain, PROC_FAST),
	PROC(RP_PROC_DOMAIN_LOOKUP_BY_UUID, "virDomainLookupByUUID", rp_uuid_msg, rp_domain_msg,
	     lookup_domain, PROC_FAST),
	PROC(RP_PROC_DOMAIN_GET_INFO, "virDomainGetInfo", rp_domain_msg, rp_domain_get_info_ret,
	     get_info, 0),
	PROC(RP_PROC_DOMAIN_GET_MAX_MEMORY, "virDomainGetMaxMemory", rp_domain_msg, rp_uhyper_msg,
	     get_info, 0),
	PROC(RP_PROC_DOMAIN_GET_STATE, "virDomainGetState", rp_domain_flags_args,
	     rp_domain_get_state_ret, get_state, PROC_FAST),
	PROC(RP_PROC_DOMAIN_IS_ACTIVE, "virDomainIsActive", rp_domain_msg, rp_int_msg, summary_bool,
	     PROC_FAST),
	PROC(RP_PROC_DOMAIN_IS_PERSISTENT, "virDomainIsPersistent", rp_domain_msg, rp_int_msg,
	     summary_bool, PROC_FAST),
	PROC(RP_PROC_DOMAIN_IS_UPDATED, "virDomainIsUpdated", rp_domain_msg, rp_int_msg,
	     summary_bool, PROC_FAST),
	PROC(RP_PROC_DOMAIN_GET_AUTOSTART, "virDomainGetAutostart", rp_domain_msg, rp_int_msg,
	     summary_bool, PROC_FAST),
	PROC(RP_PROC_DOMAIN_HAS_MANAGED_SAVE_IMAGE, "virDomainHasManagedSaveImage",
	     rp_domain_flags_args, rp_int_msg, has_managed_save, PROC_FAST),
	PROC(RP_PROC_DOMAIN_GET_OS_TYPE, "virDomainGetOSType", rp_domain_msg, rp_string_msg,
	     get_os_type, PROC_FAST),
	PROC(RP_PROC_DOMAIN_GET_XML_DESC, "virDomainGetXMLDesc", rp_domain_flags_args, rp_string_msg,
	     get_xml_desc, 0),
	PROC(RP_PROC_DOMAIN_GET_MAX_VCPUS, "virDomainGetMaxVcpus", rp_domain_msg, rp_int_msg,
	     get_max_vcpus, PROC_FAST),
	PROC(RP_PROC_DOMAIN_DEFINE_XML, "virDomainDefineXML", rp_string_msg, rp_domain_msg,
	     define_xml, MF),
	PROC(RP_PROC_DOMAIN_DEFINE_XML_FLAGS, "virDomainDefineXMLFlags", rp_xml_flags_args,
	     rp_domain_msg, define_xml_flags, MF),
	PROC(RP_PROC_DOMAIN_CREATE_XML, "virDomainCreateXML", rp_xml_flags_args, rp_domain_msg,
	     create_xml, M),
	PROC_VOID(RP_PROC_DOMAIN_UNDEFINE, "virDomainUndefine", rp_domain_msg, dom_op, MF),
	PROC_VOID(RP_PROC_DOMAIN_UNDEFINE_FLAGS, "virDomainUndefineFlags", rp_domain_flags_args,
		  dom_flags_op, MF),
	PROC_VOID(RP_PROC_DOMAIN_CREATE, "virDomainCreate", rp_domain_msg, dom_op, M),
	PROC(RP_PROC_DOMAIN_CREATE_WITH_FLAGS, "virDomainCreateWithFlags", rp_domain_flags_args,
	     rp_domain_msg, create_with_flags, M),
	PROC_VOID(RP_PROC_DOMAIN_DESTROY, "virDomainDestroy", rp_domain_msg, dom_op, MF),
	PROC_VOID(RP_PROC_DOMAIN_DESTROY_FLAGS, "virDomainDestroyFlags", rp_domain_flags_args,
		  dom_flags_op, MF),
	PROC_VOID(RP_PROC_DOMAIN_SHUTDOWN, "virDomainShutdown", rp_domain_msg, dom_op, M),
	PROC_VOID(RP_PROC_DOMAIN_SHUTDOWN_FLAGS, "virDomainShutdownFlags", rp_domain_flags_args,
		  dom_flags_op, M),
	PROC_VOID(RP_PROC_DOMAIN_REBOOT, "virDomainReboot", rp_domain_flags_args, dom_flags_op, M),
	PROC_VOID(RP_PROC_DOMAIN_RESET, "virDomainReset", rp_domain_flags_args, dom_flags_op, M),
	PROC_VOID(RP_PROC_DOMAIN_SUSPEND, "virDomainSuspend", rp_domain_msg, suspend_resume, M),
	PROC_VOID(RP_PROC_DOMAIN_RESUME, "virDomainResume", rp_domain_msg, suspend_resume, M),
	PROC_VOID(RP_PROC_DOMAIN_SET_AUTOSTART, "virDomainSetAutostart", rp_domain_int_args,
		  set_autostart, MF),
	PROC_VOID(RP_PROC_DOMAIN_SET_MEMORY, "virDomainSetMemory", rp_domain_uhyper_args,
		  set_memory, M),
	PROC_VOID(RP_PROC_DOMAIN_SET_MAX_MEMORY, "virDomainSetMaxMemory", rp_domain_uhyper_args,
		  set_memory, M),
	PROC_VOID(RP_PROC_DOMAIN_SET_MEMORY_FLAGS, "virDomainSetMemoryFlags",
		  rp_domain_uhyper_flags_args, set_memory_flags, M),
	PROC_VOID(RP_PROC_DOMAIN_SET_VCPUS, "virDomainSetVcpus", rp_domain_int_args, set_vcpus, M),
	PROC_VOID(RP_PROC_DOMAIN_SET_VCPUS_FLAGS, "virDomainSetVcpusFlags", rp_domain_uint_flags_args,
		  set_vcpus_flags, M),
	PROC(RP_PROC_DOMAIN_GET_VCPUS_FLAGS, "virDomainGetVcpusFlags", rp_domain_flags_args,
	     rp_int_msg, get_vcpus_flags, 0),
	PROC(RP_PROC_DOMAIN_GET_VCPUS, "virDomainGetVcpus", rp_domain_get_vcpus_args,
	     rp_domain_get_vcpus_ret, get_vcpus, PROC_FAST),
	PROC(RP_PROC_DOMAIN_GET_VCPU_PIN_INFO, "virDomainGetVcpuPinInfo",
	     rp_domain_get_vcpu_pin_info_args, rp_domain_get_vcpu_pin_info_ret, get_vcpu_pin_info, 0),
	PROC_VOID(RP_PROC_DOMAIN_PIN_VCPU, "virDomainPinVcpu", rp_domain_pin_vcpu_args, pin_vcpu, M),
	PROC_VOID(RP_PROC_DOMAIN_PIN_VCPU_FLAGS, "virDomainPinVcpuFlags",
		  rp_domain_pin_vcpu_flags_args, pin_vcpu_flags, M),
};
#undef M
#undef MF

const struct remote_proc_table remote_procs_domain = { procs, G_N_ELEMENTS(procs) };
