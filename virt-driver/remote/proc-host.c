// SPDX-License-Identifier: GPL-2.0-or-later
/* Host procedures: node info, memory, CPU map, capabilities, sysinfo, max vCPUs. */
#define G_LOG_DOMAIN "virtdomusd"
#include <string.h>

#include "host/capabilities.h"
#include "host/hostinfo.h"
#include "remote.h"

#define HOST_ROOT ""	/* the real /proc and /sys */

static int check_flags(unsigned int flags, unsigned int allowed, const char *api, struct verr *err)
{
	if (!(flags & ~allowed))
		return 0;
	return verr_set(err, VERR_INVALID_ARG, VERR_FROM_NONE,
			"unsupported flags (0x%x) in function %s", flags & ~allowed, api);
}

static int node_get_info(struct remote_call *call, void *a, void *r, struct verr *err)
{
	rp_node_get_info_ret *ret = r;
	struct host_node_info ni;

	if (host_node_info(HOST_ROOT, &ni, err) < 0)
		return -1;
	/* char model[32] travels as 32 four-byte ints, NUL-padded (ret is zeroed). */
	memcpy(ret->model, ni.model, MIN(strlen(ni.model), sizeof(ret->model) - 1));
	ret->memory = ni.memory_kib;
	ret->cpus = ni.cpus;
	ret->mhz = ni.mhz;
	ret->nodes = ni.nodes;
	ret->sockets = ni.sockets;
	ret->cores = ni.cores;
	ret->threads = ni.threads;
	return 0;
}

static int get_capabilities(struct remote_call *call, void *a, void *r, struct verr *err)
{
	char *xml = capabilities_xml(HOST_ROOT, call->d->cfg.emulator, err);

	if (!xml)
		return -1;
	((rp_string_msg *)r)->v = xml;
	return 0;
}

static const char *opt(rp_string s)
{
	return s ? *s : NULL;
}

static int get_domain_capabilities(struct remote_call *call, void *a, void *r, struct verr *err)
{
	rp_get_domain_capabilities_args *args = a;
	char *xml;

	if (check_flags(args->flags, 0, "virConnectGetDomainCapabilities", err) < 0)
		return -1;
	xml = domain_capabilities_xml(call->d->cfg.emulator, opt(args->emulatorbin),
				      opt(args->arch), opt(args->machine), opt(args->virttype), err);
	if (!xml)
		return -1;
	((rp_string_msg *)r)->v = xml;
	return 0;
}

static int get_sysinfo(struct remote_call *call, void *a, void *r, struct verr *err)
{
	char *xml;

	if (check_flags(((rp_uint_msg *)a)->v, 0, "virConnectGetSysinfo", err) < 0)
		return -1;
	xml = sysinfo_xml(HOST_ROOT, err);
	if (!xml)
		return -1;
	((rp_string_msg *)r)->v = xml;
	return 0;
}

static int get_max_vcpus(struct remote_call *call, void *a, void *r, struct verr *err)
{
	const char *type = opt(((rp_opt_string_msg *)a)->v);

	if (type && g_ascii_strcasecmp(type, DOMUS_VIRTTYPE) != 0)
		return verr_set(err, VERR_INVALID_ARG, VERR_FROM_NONE,
				"unknown type '%s' (Domus runs '%s' guests)", type, DOMUS_VIRTTYPE);
	((rp_int_msg *)r)->v = DOMUS_MAX_VCPUS;
	return 0;
}

static int node_get_free_memory(struct remote_call *call, void *a, void *r, struct verr *err)
{
	return host_free_memory(HOST_ROOT, &((rp_uhyper_msg *)r)->v, err);
}

static int node_get_cells_free_memory(struct remote_call *call, void *a, void *r, struct verr *err)
{
	rp_node_get_cells_free_memory_args *args = a;
	rp_node_get_cells_free_memory_ret *ret = r;
	int n;

	if (args->maxcells <= 0 || args->maxcells > RP_NODE_MAX_CELLS)
		return verr_set(err, VERR_RPC, VERR_FROM_RPC,
				"maxCells must be in 1..%d", RP_NODE_MAX_CELLS);
	ret->cells.cells_val = g_new0(u_quad_t, args->maxcells);
	n = host_cells_free_memory(HOST_ROOT, args->startCell, args->maxcells,
				   (uint64_t *)ret->cells.cells_val, err);
	if (n < 0)
		return -1;
	ret->cells.cells_len = n;
	return 0;
}

static int node_get_cpu_map(struct remote_call *call, void *a, void *r, struct verr *err)
{
	rp_node_get_cpu_map_args *args = a;
	rp_node_get_cpu_map_ret *ret = r;
	uint8_t *map;
	unsigned int online;
	int ncpu;

	if (check_flags(args->flags, 0, "virNodeGetCPUMap", err) < 0)
		return -1;
	ncpu = host_cpu_map(HOST_ROOT, &map, &online);
	if (args->need_map) {
		ret->cpumap.cpumap_len = (ncpu + 7) / 8;
		ret->cpumap.cpumap_val = (char *)map;
	} else {
		g_free(map);
	}
	if (args->need_online)
		ret->online = online;
	ret->ret = ncpu;
	return 0;
}

static int node_stats_reply(const struct host_stat *st, int n, int nparams, rp_node_stats_ret *ret,
			    const char *api, struct verr *err)
{
	if (nparams == 0) {		/* the caller asks how many there are */
		ret->nparams = n;
		return 0;
	}
	if (nparams < n)
		return verr_set(err, VERR_INVALID_ARG, VERR_FROM_NONE,
				"nparams in %s must be equal or larger than %d", api, n);
	ret->params.params_val = g_new0(rp_node_stat, n);
	ret->params.params_len = n;
	for (int i = 0; i < n; i++) {
		ret->params.params_val[i].field = g_strdup(st[i].field);
		ret->params.params_val[i].value = st[i].value;
	}
	ret->nparams = n;
	return 0;
}

static int node_get_cpu_stats(struct remote_call *call, void *a, void *r, struct verr *err)
{
	rp_node_get_cpu_stats_args *args = a;
	struct host_stat st[HOST_CPU_STATS];

	if (check_flags(args->flags, 0, "virNodeGetCPUStats", err) < 0)
		return -1;
	if (args->nparams < 0 || args->nparams > RP_NODE_STATS_MAX)
		return verr_set(err, VERR_RPC, VERR_FROM_RPC, "nparams must be in 0..%d",
				RP_NODE_STATS_MAX);
	if (args->nparams && host_cpu_stats(HOST_ROOT, args->cpuNum, st, err) < 0)
		return -1;
	return node_stats_reply(st, HOST_CPU_STATS, args->nparams, r, "virNodeGetCPUStats", err);
}

static int node_get_memory_stats(struct remote_call *call, void *a, void *r, struct verr *err)
{
	rp_node_get_memory_stats_args *args = a;
	struct host_stat st[HOST_MEMORY_STATS];
	int n = HOST_MEMORY_STATS;

	if (check_flags(args->flags, 0, "virNodeGetMemoryStats", err) < 0)
		return -1;
	if (args->nparams < 0 || args->nparams > RP_NODE_STATS_MAX)
		return verr_set(err, VERR_RPC, VERR_FROM_RPC, "nparams must be in 0..%d",
				RP_NODE_STATS_MAX);
	if (args->nparams && (n = host_memory_stats(HOST_ROOT, args->cellNum, st, err)) < 0)
		return -1;
	return node_stats_reply(st, n, args->nparams, r, "virNodeGetMemoryStats", err);
}

static int node_get_security_model(struct remote_call *call, void *a, void *r, struct verr *err)
{
	/* No security driver: empty model and DOI make virsh skip its security lines. */
	return 0;
}

static const struct remote_proc procs[] = {
	PROC_NOARGS(RP_PROC_NODE_GET_INFO, "virNodeGetInfo", rp_node_get_info_ret, node_get_info,
		    PROC_FAST),
	PROC_NOARGS(RP_PROC_CONNECT_GET_CAPABILITIES, "virConnectGetCapabilities", rp_string_msg,
		    get_capabilities, PROC_FAST),
	PROC(RP_PROC_CONNECT_GET_DOMAIN_CAPABILITIES, "virConnectGetDomainCapabilities",
	     rp_get_domain_capabilities_args, rp_string_msg, get_domain_capabilities, PROC_FAST),
	PROC(RP_PROC_CONNECT_GET_SYSINFO, "virConnectGetSysinfo", rp_uint_msg, rp_string_msg,
	     get_sysinfo, PROC_FAST),
	PROC(RP_PROC_CONNECT_GET_MAX_VCPUS, "virConnectGetMaxVcpus", rp_opt_string_msg, rp_int_msg,
	     get_max_vcpus, PROC_INLINE),
	PROC_NOARGS(RP_PROC_NODE_GET_FREE_MEMORY, "virNodeGetFreeMemory", rp_uhyper_msg,
		    node_get_free_memory, PROC_FAST),
	PROC(RP_PROC_NODE_GET_CELLS_FREE_MEMORY, "virNodeGetCellsFreeMemory",
	     rp_node_get_cells_free_memory_args, rp_node_get_cells_free_memory_ret,
	     node_get_cells_free_memory, PROC_FAST),
	PROC(RP_PROC_NODE_GET_CPU_MAP, "virNodeGetCPUMap", rp_node_get_cpu_map_args,
	     rp_node_get_cpu_map_ret, node_get_cpu_map, PROC_FAST),
	PROC(RP_PROC_NODE_GET_CPU_STATS, "virNodeGetCPUStats", rp_node_get_cpu_stats_args,
	     rp_node_stats_ret, node_get_cpu_stats, PROC_FAST),
	PROC(RP_PROC_NODE_GET_MEMORY_STATS, "virNodeGetMemoryStats", rp_node_get_memory_stats_args,
	     rp_node_stats_ret, node_get_memory_stats, PROC_FAST),
	PROC_NOARGS(RP_PROC_NODE_GET_SECURITY_MODEL, "virNodeGetSecurityModel",
		    rp_node_get_security_model_ret, node_get_security_model, PROC_INLINE),
};

const struct remote_proc_table remote_procs_host = { procs, G_N_ELEMENTS(procs) };
