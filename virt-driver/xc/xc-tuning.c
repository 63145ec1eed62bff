// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Tuning and statistics: memory (balloon target and maximum), vCPU counts and pinning,
 * the credit scheduler's weight and cap, and the counters of domstats, dommemstat,
 * domblkstat and domifstat. Live changes go through libxc under the job lock; --config
 * changes edit the stored definition, validated like any other before it is written.
 */
#define G_LOG_DOMAIN "virtdomusd"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "xc-backend.h"

#define AFFECT_LIVE 1
#define AFFECT_CONFIG 2
#define MEM_MAXIMUM 4
#define VCPU_MAXIMUM 4

/* Resolve AFFECT_CURRENT and check the domain can take what was asked (under job). */
static int affect(struct xdom *xd, unsigned int *flags, struct verr *err)
{
	bool active = xd->ctl && xd->id > 0;

	if (!(*flags & (AFFECT_LIVE | AFFECT_CONFIG)))
		*flags |= active ? AFFECT_LIVE : AFFECT_CONFIG;
	if ((*flags & AFFECT_LIVE) && !active)
		return verr_set(err, VERR_OPERATION_INVALID, VERR_FROM_DOMAIN, "domain is not running");
	if ((*flags & AFFECT_CONFIG) && !xd->persistent)
		return verr_set(err, VERR_OPERATION_INVALID, VERR_FROM_DOMAIN,
				"cannot change persistent config of a transient domain");
	return 0;
}

/* Check and store an edited copy of the definition; it replaces xd->def (under job). */
static int save_def(struct xc_backend *xb, struct xdom *xd, struct domus_domain_def *def,
		    struct verr *err)
{
	struct domus_error *e = NULL;

	if (domus_domain_def_validate(xb->schema, def, &e) < 0) {
		domus_domain_def_free(def);
		return verr_from_domus(err, e);
	}
	g_mutex_lock(&xb->lock);
	if (domus_domain_store_save(xb->store, def, &e) < 0) {
		g_mutex_unlock(&xb->lock);
		domus_domain_def_free(def);
		return verr_from_domus(err, e);
	}
	domus_domain_def_free(xd->def);
	xd->def = def;
	g_mutex_unlock(&xb->lock);
	return 0;
}

static struct domus_domain_def *config_copy(struct xc_backend *xb, struct xdom *xd)
{
	struct domus_domain_def *def;

	g_mutex_lock(&xb->lock);
	def = domus_domain_def_copy(xd->def);
	g_mutex_unlock(&xb->lock);
	return def;
}

static struct xdom *job_begin(struct xc_backend *xb, const uint8_t *uuid, struct verr *err)
{
	struct xdom *xd = xb_find(xb, uuid, err);

	if (xd)
		g_mutex_lock(&xd->job);
	return xd;
}

static int job_end(struct xdom *xd, int r)
{
	g_mutex_unlock(&xd->job);
	xdom_unref(xd);
	return r;
}

/* ---- memory ---- */

static int memory_live(struct xc_backend *xb, struct xdom *xd, uint64_t kib, bool maximum,
		       struct verr *err)
{
	int r = maximum ? xc_domain_set_max_memory(xd->xch, xd->ctl, kib * 1024) :
		xc_domain_set_memory_target(xd->xch, xd->ctl, kib * 1024);

	if (r == -ERANGE)
		return verr_set(err, VERR_INVALID_ARG, VERR_FROM_DOMAIN,
				"cannot set memory higher than max memory");
	if (r == -EOPNOTSUPP)
		return verr_set(err, VERR_OPERATION_INVALID, VERR_FROM_DOMAIN,
				"the domain has no balloon device (<memballoon model='none'/>)");
	if (r < 0)
		return verr_from_xc(err, xd->xch, r, maximum ? "setmaxmem" : "setmem");
	g_mutex_lock(&xb->lock);
	if (maximum)
		xd->live->memory_kib = kib;
	xd->live->current_memory_kib = MIN(maximum ? xd->live->current_memory_kib : kib,
					   xd->live->memory_kib);
	g_mutex_unlock(&xb->lock);
	xb_write_status(xb, xd);
	return 0;
}

static int memory_config(struct xc_backend *xb, struct xdom *xd, uint64_t kib, bool maximum,
			 struct verr *err)
{
	struct domus_domain_def *def = config_copy(xb, xd);

	if (maximum) {
		def->memory_kib = kib;
		def->current_memory_kib = MIN(def->current_memory_kib, kib);
	} else if (kib > def->memory_kib) {
		domus_domain_def_free(def);
		return verr_set(err, VERR_INVALID_ARG, VERR_FROM_DOMAIN,
				"cannot set memory higher than max memory");
	} else {
		def->current_memory_kib = kib;
	}
	return save_def(xb, xd, def, err);
}

static int xb_set_memory(struct domain_backend *b, const uint8_t *uuid, uint64_t kib,
			 unsigned int flags, struct verr *err)
{
	struct xc_backend *xb = xb_of(b);
	bool maximum = flags & MEM_MAXIMUM;
	struct xdom *xd;

	if (flags & ~(AFFECT_LIVE | AFFECT_CONFIG | MEM_MAXIMUM))
		return verr_set(err, VERR_INVALID_ARG, VERR_FROM_DOMAIN,
				"unsupported flags (0x%x) in function virDomainSetMemoryFlags", flags);
	if (kib == 0)
		return verr_set(err, VERR_INVALID_ARG, VERR_FROM_DOMAIN, "memory must be above 0 KiB");
	if (!(xd = job_begin(xb, uuid, err)))
		return -1;
	flags &= ~MEM_MAXIMUM;
	if (affect(xd, &flags, err) < 0 ||
	    ((flags & AFFECT_LIVE) && memory_live(xb, xd, kib, maximum, err) < 0) ||
	    ((flags & AFFECT_CONFIG) && memory_config(xb, xd, kib, maximum, err) < 0))
		return job_end(xd, -1);
	return job_end(xd, 0);
}

/* ---- vCPUs ---- */

static int xb_set_vcpus(struct domain_backend *b, const uint8_t *uuid, unsigned int n,
			unsigned int flags, struct verr *err)
{
	struct xc_backend *xb = xb_of(b);
	struct domus_domain_def *def;
	struct xdom *xd;

	if (flags & ~(AFFECT_LIVE | AFFECT_CONFIG | VCPU_MAXIMUM))
		return verr_set(err, VERR_INVALID_ARG, VERR_FROM_DOMAIN,
				"unsupported flags (0x%x) in function virDomainSetVcpusFlags", flags);
	if (n < 1 || n > DOMUS_DOMAIN_MAX_VCPUS)
		return verr_set(err, VERR_INVALID_ARG, VERR_FROM_DOMAIN,
				"vCPU count %u out of range 1..%d", n, DOMUS_DOMAIN_MAX_VCPUS);
	if (!(xd = job_begin(xb, uuid, err)))
		return -1;
	if (!(flags & (AFFECT_LIVE | AFFECT_CONFIG)) && xd->id > 0)
		flags |= AFFECT_LIVE;
	if (flags & AFFECT_LIVE)
		return job_end(xd, verr_set(err, VERR_OPERATION_UNSUPPORTED, VERR_FROM_DOMAIN,
					    "changing the vCPUs of a running domain (no vCPU "
					    "hotplug): use --config"));
	if (affect(xd, &flags, err) < 0)
		return job_end(xd, -1);
	def = config_copy(xb, xd);
	if (flags & VCPU_MAXIMUM) {
		def->vcpus = n;
		def->current_vcpus = MIN(def->current_vcpus, n);
	} else if (n > def->vcpus) {
		domus_domain_def_free(def);
		return job_end(xd, verr_set(err, VERR_INVALID_ARG, VERR_FROM_DOMAIN,
					    "requested vcpus is greater than max allowable vcpus "
					    "for the domain: %u > %u", n, def->vcpus));
	} else {
		def->current_vcpus = n;
	}
	/* Pins of vCPUs that no longer exist go with them. */
	size_t k = 0;
	for (size_t i = 0; i < def->cputune.npins; i++)
		if (def->cputune.pins[i].vcpu < def->vcpus)
			def->cputune.pins[k++] = def->cputune.pins[i];
	def->cputune.npins = k;
	return job_end(xd, save_def(xb, xd, def, err));
}

static int xb_get_vcpus_flags(struct domain_backend *b, const uint8_t *uuid, unsigned int flags,
			      int *out, struct verr *err)
{
	struct xc_backend *xb = xb_of(b);
	g_autoptr(xdom) xd = xb_find(xb, uuid, err);
	const struct domus_domain_def *def;

	if (!xd)
		return -1;
	if (flags & ~(AFFECT_LIVE | AFFECT_CONFIG | VCPU_MAXIMUM | 8))
		return verr_set(err, VERR_INVALID_ARG, VERR_FROM_DOMAIN,
				"unsupported flags (0x%x) in function virDomainGetVcpusFlags", flags);
	g_mutex_lock(&xb->lock);
	def = (flags & AFFECT_CONFIG) || !xd->live ? xd->def : xd->live;
	if (!def) {
		g_mutex_unlock(&xb->lock);
		return verr_set(err, VERR_OPERATION_INVALID, VERR_FROM_DOMAIN,
				"domain is transient: it has no persistent config");
	}
	if ((flags & AFFECT_LIVE) && !xd->live) {
		g_mutex_unlock(&xb->lock);
		return verr_set(err, VERR_OPERATION_INVALID, VERR_FROM_DOMAIN, "domain is not running");
	}
	*out = (flags & VCPU_MAXIMUM) ? def->vcpus : def->current_vcpus;
	g_mutex_unlock(&xb->lock);
	return 0;
}

static void cpu_set_to_map(const cpu_set_t *set, uint8_t *map, int maplen)
{
	for (int c = 0; c < maplen * 8 && c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, set))
			map[c / 8] |= 1u << (c % 8);
}

static void cpuset_to_map(const struct domus_cpuset *s, uint8_t *map, int maplen,
			  unsigned int ncpus)
{
	for (unsigned int c = 0; c < (unsigned int)maplen * 8 && c < ncpus; c++)
		if (!s || domus_cpuset_test(s, c))
			map[c / 8] |= 1u << (c % 8);
}

/* The host CPU a thread last ran on (/proc/PID/task/TID/stat field 39), or -1. */
static int thread_cpu(pid_t pid, pid_t tid)
{
	g_autofree char *path = g_strdup_printf("/proc/%d/task/%d/stat", pid, tid), *text = NULL;
	const char *p;
	int field = 2;

	if (!tid || !g_file_get_contents(path, &text, NULL, NULL) || !(p = strrchr(text, ')')))
		return -1;
	for (p++; *p && field < 39; p++)
		if (*p == ' ')
			field++;
	return *p ? atoi(p) : -1;
}

static int xb_vcpu_info(struct domain_backend *b, const uint8_t *uuid,
			struct domain_vcpu_info *info, int maxinfo, uint8_t *cpumaps, int maplen,
			int *n, struct verr *err)
{
	struct xc_backend *xb = xb_of(b);
	struct xdom *xd = job_begin(xb, uuid, err);
	xc_dominfo di;
	cpu_set_t set;
	int r;

	if (!xd)
		return -1;
	if (xb_need_active(xd, err) < 0)
		return job_end(xd, -1);
	xc_dominfo_init(&di);
	if ((r = xc_domain_getinfo(xd->xch, xd->ctl, &di)) < 0) {
		xc_dominfo_dispose(&di);
		return job_end(xd, verr_from_xc(err, xd->xch, r, "vCPU information"));
	}
	*n = MIN((int)di.nr_vcpus, maxinfo);
	for (int i = 0; i < *n; i++) {
		info[i].number = di.vcpus[i].id;
		info[i].state = di.vcpus[i].running ? 1 : 0;
		info[i].cpu_time_ns = di.vcpus[i].cpu_time_ns;
		info[i].cpu = thread_cpu(di.pid, di.vcpus[i].tid);
		if (maplen > 0 && !xc_vcpu_getaffinity(xd->xch, xd->ctl, i, &set))
			cpu_set_to_map(&set, cpumaps + (size_t)i * maplen, maplen);
	}
	xc_dominfo_dispose(&di);
	return job_end(xd, 0);
}

static int xb_vcpu_pin_info(struct domain_backend *b, const uint8_t *uuid, int ncpumaps,
			    uint8_t *cpumaps, int maplen, unsigned int flags, int *n,
			    struct verr *err)
{
	struct xc_backend *xb = xb_of(b);
	struct xdom *xd = job_begin(xb, uuid, err);
	cpu_set_t set;

	if (!xd)
		return -1;
	if (affect(xd, &flags, err) < 0)
		return job_end(xd, -1);
	g_mutex_lock(&xb->lock);
	const struct domus_domain_def *def = (flags & AFFECT_LIVE) ? xd->live : xd->def;
	*n = MIN((int)(def->current_vcpus ? def->current_vcpus : def->vcpus), ncpumaps);
	for (int v = 0; v < *n; v++) {
		uint8_t *map = cpumaps + (size_t)v * maplen;
		const struct domus_cpuset *s = def->vcpu_cpuset;

		for (size_t i = 0; i < def->cputune.npins; i++)
			if (def->cputune.pins[i].vcpu == (unsigned int)v)
				s = &def->cputune.pins[i].cpus;
		cpuset_to_map(s, map, maplen, xb->nr_cpus);
	}
	g_mutex_unlock(&xb->lock);
	/* Live: what the threads really have. */
	for (int v = 0; (flags & AFFECT_LIVE) && v < *n; v++) {
		if (xc_vcpu_getaffinity(xd->xch, xd->ctl, v, &set))
			continue;
		memset(cpumaps + (size_t)v * maplen, 0, maplen);
		cpu_set_to_map(&set, cpumaps + (size_t)v * maplen, maplen);
	}
	return job_end(xd, 0);
}

/* Put @set as the pin of @vcpu in @def (replacing an older one, kept sorted). */
static void def_set_pin(struct domus_domain_def *def, unsigned int vcpu,
			const struct domus_cpuset *set)
{
	size_t i;

	for (i = 0; i < def->cputune.npins; i++)
		if (def->cputune.pins[i].vcpu >= vcpu)
			break;
	if (i == def->cputune.npins || def->cputune.pins[i].vcpu != vcpu) {
		def->cputune.pins = g_renew(struct domus_vcpupin, def->cputune.pins,
					    def->cputune.npins + 1);
		memmove(&def->cputune.pins[i + 1], &def->cputune.pins[i],
			(def->cputune.npins - i) * sizeof(*def->cputune.pins));
		def->cputune.npins++;
	}
	def->cputune.pins[i].vcpu = vcpu;
	def->cputune.pins[i].cpus = *set;
}

static int xb_pin_vcpu(struct domain_backend *b, const uint8_t *uuid, unsigned int vcpu,
		       const uint8_t *map, size_t maplen, unsigned int flags, struct verr *err)
{
	struct xc_backend *xb = xb_of(b);
	struct domus_cpuset set = { 0 };
	struct xdom *xd;
	cpu_set_t cs;
	int r;

	if (flags & ~(AFFECT_LIVE | AFFECT_CONFIG))
		return verr_set(err, VERR_INVALID_ARG, VERR_FROM_DOMAIN,
				"unsupported flags (0x%x) in function virDomainPinVcpuFlags", flags);
	CPU_ZERO(&cs);
	for (size_t c = 0; c < maplen * 8 && c < xb->nr_cpus; c++)
		if (map[c / 8] & (1u << (c % 8)))
			domus_cpuset_set(&set, c), CPU_SET(c, &cs);
	if (domus_cpuset_is_empty(&set))
		return verr_set(err, VERR_INVALID_ARG, VERR_FROM_DOMAIN,
				"Empty cpu list for pinning");
	if (!(xd = job_begin(xb, uuid, err)))
		return -1;
	if (affect(xd, &flags, err) < 0)
		return job_end(xd, -1);
	if (flags & AFFECT_LIVE) {
		if ((r = xc_vcpu_setaffinity(xd->xch, xd->ctl, vcpu, &cs)) < 0)
			return job_end(xd, r == -EINVAL ?
				verr_set(err, VERR_INVALID_ARG, VERR_FROM_DOMAIN,
					 "vcpu %u is out of range of live cpu count", vcpu) :
				verr_from_xc(err, xd->xch, r, "vcpupin"));
		g_mutex_lock(&xb->lock);
		def_set_pin(xd->live, vcpu, &set);
		g_mutex_unlock(&xb->lock);
		xb_write_status(xb, xd);
	}
	if (flags & AFFECT_CONFIG) {
		struct domus_domain_def *def = config_copy(xb, xd);

		def_set_pin(def, vcpu, &set);
		if (save_def(xb, xd, def, err) < 0)
			return job_end(xd, -1);
	}
	return job_end(xd, 0);
}

/* ---- scheduler: credit, weight and cap ---- */

static int xb_sched_type(struct domain_backend *b, const uint8_t *uuid, char **type,
			 int *nparams, struct verr *err)
{
	*type = g_strdup("credit");
	*nparams = 2;
	return 0;
}

static void def_credit(const struct domus_domain_def *def, xc_sched_credit *sc)
{
	sc->weight = def->cputune.has_shares ? def->cputune.shares : 256;
	sc->cap = xb_def_cap(def);
}

static int xb_sched_get(struct domain_backend *b, const uint8_t *uuid, unsigned int flags,
			struct domain_param **params, size_t *n, struct verr *err)
{
	struct xc_backend *xb = xb_of(b);
	struct xdom *xd = job_begin(xb, uuid, err);
	xc_sched_credit sc = { 0 };
	int r;

	if (!xd)
		return -1;
	if (flags & ~(AFFECT_LIVE | AFFECT_CONFIG))
		return job_end(xd, verr_set(err, VERR_INVALID_ARG, VERR_FROM_DOMAIN,
			"unsupported flags (0x%x) in function virDomainGetSchedulerParametersFlags",
			flags));
	if (affect(xd, &flags, err) < 0)
		return job_end(xd, -1);
	if (flags & AFFECT_LIVE) {
		if ((r = xc_sched_credit_get(xd->xch, xd->ctl, &sc)) < 0)
			return job_end(xd, verr_from_xc(err, xd->xch, r, "scheduler parameters"));
	} else {
		g_mutex_lock(&xb->lock);
		def_credit(xd->def, &sc);
		g_mutex_unlock(&xb->lock);
	}
	*params = g_new0(struct domain_param, 2);
	*n = 2;
	g_strlcpy((*params)[0].field, "weight", sizeof((*params)[0].field));
	(*params)[0].type = DOMAIN_PARAM_UINT;
	(*params)[0].v.ui = sc.weight;
	g_strlcpy((*params)[1].field, "cap", sizeof((*params)[1].field));
	(*params)[1].type = DOMAIN_PARAM_UINT;
	(*params)[1].v.ui = sc.cap;
	return job_end(xd, 0);
}

static int parse_credit(const struct domain_param *p, size_t n, xc_sched_credit *sc,
			struct verr *err)
{
	for (size_t i = 0; i < n; i++) {
		unsigned int v;

		if (p[i].type == DOMAIN_PARAM_UINT)
			v = p[i].v.ui;
		else if (p[i].type == DOMAIN_PARAM_INT && p[i].v.i >= 0)
			v = p[i].v.i;
		else if (p[i].type == DOMAIN_PARAM_ULLONG && p[i].v.ul <= 65535)
			v = p[i].v.ul;
		else
			return verr_set(err, VERR_INVALID_ARG, VERR_FROM_DOMAIN,
					"invalid type or value for parameter '%s'", p[i].field);
		if (!strcmp(p[i].field, "weight") && v >= 1 && v <= 65535)
			sc->weight = v;
		else if (!strcmp(p[i].field, "cap") && v <= 65535)
			sc->cap = v;
		else if (!strcmp(p[i].field, "weight") || !strcmp(p[i].field, "cap"))
			return verr_set(err, VERR_INVALID_ARG, VERR_FROM_DOMAIN,
					"%s %u out of range (weight 1-65535, cap 0-65535)",
					p[i].field, v);
		else
			return verr_set(err, VERR_INVALID_ARG, VERR_FROM_DOMAIN,
					"parameter '%s' not supported: the credit scheduler has "
					"'weight' and 'cap'", p[i].field);
	}
	return 0;
}

static void def_set_credit(struct domus_domain_def *def, const xc_sched_credit *sc)
{
	def->cputune.has_shares = true;
	def->cputune.shares = sc->weight;
	def->cputune.has_quota = sc->cap != 0;
	def->cputune.period = sc->cap ? 100000 : 0;
	def->cputune.quota = sc->cap ? (int64_t)sc->cap * 1000 : 0;
}

static int xb_sched_set(struct domain_backend *b, const uint8_t *uuid,
			const struct domain_param *params, size_t n, unsigned int flags,
			struct verr *err)
{
	struct xc_backend *xb = xb_of(b);
	struct xdom *xd = job_begin(xb, uuid, err);
	xc_sched_credit sc;
	int r;

	if (!xd)
		return -1;
	if (affect(xd, &flags, err) < 0)
		return job_end(xd, -1);
	if (flags & AFFECT_LIVE) {
		if ((r = xc_sched_credit_get(xd->xch, xd->ctl, &sc)) < 0)
			return job_end(xd, verr_from_xc(err, xd->xch, r, "scheduler parameters"));
		if (parse_credit(params, n, &sc, err) < 0)
			return job_end(xd, -1);
		if ((r = xc_sched_credit_set(xd->xch, xd->ctl, &sc)) < 0)
			return job_end(xd, verr_from_xc(err, xd->xch, r, "scheduler parameters"));
		g_mutex_lock(&xb->lock);
		def_set_credit(xd->live, &sc);
		g_mutex_unlock(&xb->lock);
		xb_write_status(xb, xd);
	}
	if (flags & AFFECT_CONFIG) {
		struct domus_domain_def *def = config_copy(xb, xd);

		def_credit(def, &sc);
		if (parse_credit(params, n, &sc, err) < 0) {
			domus_domain_def_free(def);
			return job_end(xd, -1);
		}
		def_set_credit(def, &sc);
		if (save_def(xb, xd, def, err) < 0)
			return job_end(xd, -1);
	}
	return job_end(xd, 0);
}

/* ---- statistics ---- */

struct params {
	GArray *a;
};

static struct domain_param *param_add(struct params *p, const char *field, int type)
{
	struct domain_param x = { .type = type };

	g_strlcpy(x.field, field, sizeof(x.field));
	g_array_append_val(p->a, x);
	return &g_array_index(p->a, struct domain_param, p->a->len - 1);
}

static void p_int(struct params *p, const char *f, int v)
{
	param_add(p, f, DOMAIN_PARAM_INT)->v.i = v;
}

static void p_uint(struct params *p, const char *f, unsigned int v)
{
	param_add(p, f, DOMAIN_PARAM_UINT)->v.ui = v;
}

static void p_ull(struct params *p, const char *f, uint64_t v)
{
	param_add(p, f, DOMAIN_PARAM_ULLONG)->v.ul = v;
}

static void p_str(struct params *p, const char *f, const char *v)
{
	param_add(p, f, DOMAIN_PARAM_STRING)->v.s = g_strdup(v);
}

#define FIELD(buf, ...) (snprintf(buf, sizeof(buf), __VA_ARGS__), buf)

static void stats_vcpu(struct params *p, const xc_dominfo *di, unsigned int max)
{
	char f[81];

	p_uint(p, "vcpu.current", di->nr_vcpus);
	p_uint(p, "vcpu.maximum", max);
	for (unsigned int i = 0; i < di->nr_vcpus; i++) {
		p_int(p, FIELD(f, "vcpu.%u.state", i), di->vcpus[i].running ? 1 : 0);
		p_ull(p, FIELD(f, "vcpu.%u.time", i), di->vcpus[i].cpu_time_ns);
	}
}

static void stats_block(struct params *p, const struct domus_domain_def *def,
			const xc_domstats *st)
{
	char f[81];

	p_uint(p, "block.count", def->ndisks);
	for (size_t i = 0; i < def->ndisks; i++) {
		const xc_blk_stats *b = i < st->nr_disks ? &st->disks[i] : NULL;

		p_str(p, FIELD(f, "block.%zu.name", i), def->disks[i]->target);
		p_str(p, FIELD(f, "block.%zu.path", i), def->disks[i]->source);
		if (!b)
			continue;
		p_ull(p, FIELD(f, "block.%zu.rd.reqs", i), b->rd_reqs);
		p_ull(p, FIELD(f, "block.%zu.rd.bytes", i), b->rd_bytes);
		p_ull(p, FIELD(f, "block.%zu.wr.reqs", i), b->wr_reqs);
		p_ull(p, FIELD(f, "block.%zu.wr.bytes", i), b->wr_bytes);
		p_ull(p, FIELD(f, "block.%zu.fl.reqs", i), b->flush_reqs);
		p_ull(p, FIELD(f, "block.%zu.errors", i), b->errors);
	}
}

static void stats_net(struct params *p, const struct domus_domain_def *def, const xc_domstats *st)
{
	char f[81];

	p_uint(p, "net.count", def->nnets);
	for (size_t i = 0; i < def->nnets; i++) {
		const xc_net_stats *n = i < st->nr_nics ? &st->nics[i] : NULL;

		p_str(p, FIELD(f, "net.%zu.name", i), def->nets[i]->runtime_ifname ?
			 def->nets[i]->runtime_ifname : "");
		if (!n)
			continue;
		/* The guest's view, as libvirt reports it: rx is what the guest received. */
		p_ull(p, FIELD(f, "net.%zu.rx.bytes", i), n->rx_bytes);
		p_ull(p, FIELD(f, "net.%zu.rx.pkts", i), n->rx_packets);
		p_ull(p, FIELD(f, "net.%zu.rx.errs", i), n->rx_errors);
		p_ull(p, FIELD(f, "net.%zu.rx.drop", i), n->rx_drops);
		p_ull(p, FIELD(f, "net.%zu.tx.bytes", i), n->tx_bytes);
		p_ull(p, FIELD(f, "net.%zu.tx.pkts", i), n->tx_packets);
		p_ull(p, FIELD(f, "net.%zu.tx.errs", i), n->tx_errors);
		p_ull(p, FIELD(f, "net.%zu.tx.drop", i), n->tx_drops);
	}
}

enum { ST_STATE = 1, ST_CPU = 2, ST_BALLOON = 4, ST_VCPU = 8, ST_NET = 16, ST_BLOCK = 32 };

static void stats_active(struct xdom *xd, const struct domus_domain_def *live, unsigned int groups,
			 struct params *p)
{
	xc_dominfo di;
	xc_domstats st = { 0 };

	xc_dominfo_init(&di);
	if (xc_domain_getinfo(xd->xch, xd->ctl, &di) < 0)
		return;
	if (groups & ST_CPU)
		p_ull(p, "cpu.time", di.cpu_time_ns);
	if (groups & ST_BALLOON) {
		p_ull(p, "balloon.current", (di.has_balloon && di.mem_actual_bytes ?
					     di.mem_actual_bytes : di.mem_target_bytes) / 1024);
		p_ull(p, "balloon.maximum", di.max_mem_bytes / 1024);
	}
	if (groups & ST_VCPU)
		stats_vcpu(p, &di, live->vcpus);
	if ((groups & (ST_NET | ST_BLOCK)) && !xc_domain_get_stats(xd->xch, xd->ctl, &st)) {
		if (groups & ST_NET)
			stats_net(p, live, &st);
		if (groups & ST_BLOCK)
			stats_block(p, live, &st);
		xc_domstats_dispose(&st);
	}
	xc_dominfo_dispose(&di);
}

static int xb_stats(struct domain_backend *b, const uint8_t *uuid, unsigned int groups,
		    struct domain_param **params, size_t *n, struct verr *err)
{
	struct xc_backend *xb = xb_of(b);
	struct xdom *xd = job_begin(xb, uuid, err);
	struct params p = { g_array_new(FALSE, TRUE, sizeof(struct domain_param)) };
	g_autoptr(domus_domain_def) def = NULL;

	if (!xd) {
		g_array_free(p.a, TRUE);
		return -1;
	}
	if (!groups)
		groups = ST_STATE | ST_CPU | ST_BALLOON | ST_VCPU | ST_NET | ST_BLOCK;
	g_mutex_lock(&xb->lock);
	if (!xd->live && !xd->def) {
		g_mutex_unlock(&xb->lock);
		g_array_free(p.a, TRUE);
		return job_end(xd, verr_set(err, VERR_NO_DOMAIN, VERR_FROM_DOMAIN,
					    "domain '%s' is gone", xd->name));
	}
	def = domus_domain_def_copy(xd->live ? xd->live : xd->def);
	if (groups & ST_STATE) {
		p_int(&p, "state.state", xd->state);
		p_int(&p, "state.reason", xd->reason);
	}
	g_mutex_unlock(&xb->lock);
	if (xd->ctl && xd->id > 0 && xd->state != DOMAIN_CRASHED) {
		stats_active(xd, def, groups, &p);
	} else {
		if (groups & ST_BALLOON) {
			p_ull(&p, "balloon.current", def->current_memory_kib);
			p_ull(&p, "balloon.maximum", def->memory_kib);
		}
		if (groups & ST_VCPU) {
			p_uint(&p, "vcpu.current", def->current_vcpus);
			p_uint(&p, "vcpu.maximum", def->vcpus);
		}
	}
	*n = p.a->len;
	*params = (struct domain_param *)g_array_free(p.a, FALSE);
	return job_end(xd, 0);
}

/* virtio-balloon stat tags (VIRTIO_BALLOON_S_*) → libvirt's, and whether bytes → KiB. */
static const struct {
	int vtag, tag;
	bool bytes;
} balloon_map[] = {
	{ 0, 0, true },		/* swap in */
	{ 1, 1, true },		/* swap out */
	{ 2, 2, false },	/* major faults */
	{ 3, 3, false },	/* minor faults */
	{ 4, 4, true },		/* free → unused */
	{ 5, 5, true },		/* total → available */
	{ 6, 8, true },		/* available → usable */
	{ 7, 10, true },	/* caches → disk_caches */
	{ 8, 11, false },	/* hugetlb allocations */
	{ 9, 12, false },	/* hugetlb failures */
};

/* VmRSS of the VMM process in KiB. */
static uint64_t vmm_rss(pid_t pid)
{
	g_autofree char *path = g_strdup_printf("/proc/%d/status", pid), *text = NULL;
	const char *p;

	if (!g_file_get_contents(path, &text, NULL, NULL) || !(p = strstr(text, "VmRSS:")))
		return 0;
	return g_ascii_strtoull(p + 6, NULL, 10);
}

static int xb_memory_stats(struct domain_backend *b, const uint8_t *uuid,
			   struct domain_memory_stat *out, unsigned int max, unsigned int *n,
			   struct verr *err)
{
	struct xc_backend *xb = xb_of(b);
	struct xdom *xd = job_begin(xb, uuid, err);
	xc_domstats st = { 0 };
	xc_dominfo di;
	int r;

#define ADD(t, v) do { if (*n < max) out[(*n)++] = (struct domain_memory_stat){ (t), (v) }; } while (0)
	if (!xd)
		return -1;
	if (xb_need_active(xd, err) < 0)
		return job_end(xd, -1);
	xc_dominfo_init(&di);
	if ((r = xc_domain_getinfo(xd->xch, xd->ctl, &di)) < 0 ||
	    (r = xc_domain_get_stats(xd->xch, xd->ctl, &st)) < 0) {
		xc_dominfo_dispose(&di);
		return job_end(xd, verr_from_xc(err, xd->xch, r, "memory statistics"));
	}
	*n = 0;
	for (size_t i = 0; i < G_N_ELEMENTS(balloon_map); i++)
		if (st.balloon_valid & (1u << balloon_map[i].vtag))
			ADD(balloon_map[i].tag, balloon_map[i].bytes ?
			    st.balloon[balloon_map[i].vtag] / 1024 : st.balloon[balloon_map[i].vtag]);
	ADD(6, (di.has_balloon && di.mem_actual_bytes ? di.mem_actual_bytes :
		di.mem_target_bytes) / 1024);			/* actual */
	if (st.balloon_age_ns)
		ADD(9, (uint64_t)time(NULL) - st.balloon_age_ns / 1000000000);	/* last update */
	ADD(7, vmm_rss(di.pid));				/* rss */
#undef ADD
	xc_domstats_dispose(&st);
	xc_dominfo_dispose(&di);
	return job_end(xd, 0);
}

/* The disk named by a target ("vda") or a source path, or -1. */
static int find_disk(const struct domus_domain_def *def, const char *path)
{
	for (size_t i = 0; i < def->ndisks; i++)
		if (!strcmp(def->disks[i]->target, path) || !strcmp(def->disks[i]->source, path))
			return i;
	return -1;
}

/* The interface named by its tap or its MAC address, or -1. */
static int find_nic(const struct domus_domain_def *def, const char *dev)
{
	for (size_t i = 0; i < def->nnets; i++) {
		const struct domus_net_def *nd = def->nets[i];
		char mac[18];

		snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", nd->mac[0], nd->mac[1],
			 nd->mac[2], nd->mac[3], nd->mac[4], nd->mac[5]);
		if ((nd->runtime_ifname && !strcmp(nd->runtime_ifname, dev)) ||
		    !g_ascii_strcasecmp(mac, dev))
			return i;
	}
	return -1;
}

/* The VMM's counters and the index of device @dev of a running domain. */
static int device_counters(struct xc_backend *xb, const uint8_t *uuid, const char *dev,
			   bool disk, xc_domstats *st, int *idx, struct verr *err)
{
	struct xdom *xd = job_begin(xb, uuid, err);
	int r;

	if (!xd)
		return -1;
	if (xb_need_active(xd, err) < 0)
		return job_end(xd, -1);
	g_mutex_lock(&xb->lock);
	*idx = disk ? find_disk(xd->live, dev) : find_nic(xd->live, dev);
	g_mutex_unlock(&xb->lock);
	if (*idx < 0)
		return job_end(xd, disk ? verr_set(err, VERR_INVALID_ARG, VERR_FROM_DOMAIN,
						   "invalid path: %s", dev) :
				   verr_set(err, VERR_INVALID_ARG, VERR_FROM_DOMAIN,
					    "invalid path, '%s' is not a known interface", dev));
	if ((r = xc_domain_get_stats(xd->xch, xd->ctl, st)) < 0)
		return job_end(xd, verr_from_xc(err, xd->xch, r, "device statistics"));
	return job_end(xd, 0);
}

static int xb_block_stats(struct domain_backend *b, const uint8_t *uuid, const char *path,
			  struct domain_block_stats *out, struct verr *err)
{
	xc_domstats st = { 0 };
	int i;

	if (device_counters(xb_of(b), uuid, path, true, &st, &i, err) < 0)
		return -1;
	if ((unsigned int)i < st.nr_disks)
		*out = (struct domain_block_stats){ st.disks[i].rd_reqs, st.disks[i].rd_bytes,
						    st.disks[i].wr_reqs, st.disks[i].wr_bytes,
						    st.disks[i].errors };
	xc_domstats_dispose(&st);
	return 0;
}

static int xb_interface_stats(struct domain_backend *b, const uint8_t *uuid, const char *dev,
			      struct domain_interface_stats *out, struct verr *err)
{
	xc_domstats st = { 0 };
	int i;

	if (device_counters(xb_of(b), uuid, dev, false, &st, &i, err) < 0)
		return -1;
	if ((unsigned int)i < st.nr_nics) {
		const xc_net_stats *s = &st.nics[i];

		*out = (struct domain_interface_stats){ s->rx_bytes, s->rx_packets, s->rx_errors,
							s->rx_drops, s->tx_bytes, s->tx_packets,
							s->tx_errors, s->tx_drops };
	}
	xc_domstats_dispose(&st);
	return 0;
}

void xb_tuning_ops(struct domain_backend_ops *ops)
{
	ops->set_memory = xb_set_memory;
	ops->set_vcpus = xb_set_vcpus;
	ops->get_vcpus_flags = xb_get_vcpus_flags;
	ops->vcpu_info = xb_vcpu_info;
	ops->vcpu_pin_info = xb_vcpu_pin_info;
	ops->pin_vcpu = xb_pin_vcpu;
	ops->sched_type = xb_sched_type;
	ops->sched_get = xb_sched_get;
	ops->sched_set = xb_sched_set;
	ops->stats = xb_stats;
	ops->memory_stats = xb_memory_stats;
	ops->block_stats = xb_block_stats;
	ops->interface_stats = xb_interface_stats;
}
