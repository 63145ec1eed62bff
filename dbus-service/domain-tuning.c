// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * org.libvirt.Domain: tunables (typed parameters), CPU pinning, block jobs, migration
 * settings, memory/disk peeking and the guest-agent methods.
 */
#include <stdlib.h>
#include <unistd.h>
#include "dsvc-methods.h"

/* Peeks copy guest data into one D-Bus message; keep it well under the bus's limit. */
#define PEEK_MAX (16u << 20)

/* libvirt's "ask for the count, then fill" getters, with an optional string argument
 * (disk or interface) that is NULL for the plain ones. */
typedef int (*params_get_fn)(virDomainPtr dom, const char *what,
			     virTypedParameterPtr params, int *n, unsigned int flags);
typedef int (*params_set_fn)(virDomainPtr dom, const char *what,
			     virTypedParameterPtr params, int n, unsigned int flags);

static GVariant *get_params(struct dsvc_call *call, const char *what, guint flags,
			    params_get_fn fn)
{
	g_autofree virTypedParameterPtr params = NULL;
	GVariant *v;
	int n = 0;

	if (fn(call->dom, what, NULL, &n, flags) < 0)
		return NULL;
	params = g_new0(virTypedParameter, n ? n : 1);
	if (n && fn(call->dom, what, params, &n, flags) < 0)
		return NULL;
	v = dsvc_params_to_variant(params, n);
	virTypedParamsClear(params, n);
	return g_variant_new("(@a{sv})", v);
}

/* Takes dict. */
static GVariant *set_params(struct dsvc_call *call, const char *what, GVariant *dict,
			    guint flags, params_set_fn fn)
{
	g_auto(dsvc_params) ps = { 0 };

	if (dsvc_take_params(call, dict, &ps) < 0)
		return NULL;
	return dsvc_done(fn(call->dom, what, ps.p, ps.n, flags));
}

/* Adapters from libvirt's signatures to the two above. */
#define PARAMS_ADAPTERS(name, get_api, set_api) \
	static int name##_get(virDomainPtr d, const char *w, virTypedParameterPtr p, int *n, \
			      unsigned int f) { return get_api(d, p, n, f); } \
	static int name##_set(virDomainPtr d, const char *w, virTypedParameterPtr p, int n, \
			      unsigned int f) { return set_api(d, p, n, f); } \
	static GVariant *d_get_##name(struct dsvc_call *call) \
	{ \
		guint flags; \
		g_variant_get(call->args, "(u)", &flags); \
		return get_params(call, NULL, flags, name##_get); \
	} \
	static GVariant *d_set_##name(struct dsvc_call *call) \
	{ \
		GVariant *dict; guint flags; \
		g_variant_get(call->args, "(@a{sv}u)", &dict, &flags); \
		return set_params(call, NULL, dict, flags, name##_set); \
	}

#define PARAMS_ADAPTERS_WITH(name, get_api, set_api) \
	static int name##_get(virDomainPtr d, const char *w, virTypedParameterPtr p, int *n, \
			      unsigned int f) { return get_api(d, w, p, n, f); } \
	static int name##_set(virDomainPtr d, const char *w, virTypedParameterPtr p, int n, \
			      unsigned int f) { return set_api(d, w, p, n, f); } \
	static GVariant *d_get_##name(struct dsvc_call *call) \
	{ \
		const char *what; guint flags; \
		g_variant_get(call->args, "(&su)", &what, &flags); \
		return get_params(call, what, flags, name##_get); \
	} \
	static GVariant *d_set_##name(struct dsvc_call *call) \
	{ \
		const char *what; GVariant *dict; guint flags; \
		g_variant_get(call->args, "(&s@a{sv}u)", &what, &dict, &flags); \
		return set_params(call, what, dict, flags, name##_set); \
	}

PARAMS_ADAPTERS(blkio, virDomainGetBlkioParameters, virDomainSetBlkioParameters)
PARAMS_ADAPTERS(memory, virDomainGetMemoryParameters, virDomainSetMemoryParameters)
PARAMS_ADAPTERS(numa, virDomainGetNumaParameters, virDomainSetNumaParameters)
/* The scheduler getter cannot count its parameters; the scheduler type says how many.
 * Without flags the older calls are used: some drivers (test:///) refuse the flag that
 * the *Flags variants add for string parameters. */
static int sched_get_any(virDomainPtr d, virTypedParameterPtr p, int *n, unsigned int f)
{
	char *type;

	if (p)
		return f ? virDomainGetSchedulerParametersFlags(d, p, n, f) :
			   virDomainGetSchedulerParameters(d, p, n);
	type = virDomainGetSchedulerType(d, n);
	free(type);
	return type ? 0 : -1;
}

static int sched_set_any(virDomainPtr d, virTypedParameterPtr p, int n, unsigned int f)
{
	return f ? virDomainSetSchedulerParametersFlags(d, p, n, f) :
		   virDomainSetSchedulerParameters(d, p, n);
}

PARAMS_ADAPTERS(sched, sched_get_any, sched_set_any)
PARAMS_ADAPTERS_WITH(block_io_tune, virDomainGetBlockIoTune, virDomainSetBlockIoTune)
PARAMS_ADAPTERS_WITH(iface, virDomainGetInterfaceParameters, virDomainSetInterfaceParameters)

/* Perf events and guest vCPUs are returned allocated by libvirt. */
static GVariant *owned_params(virTypedParameterPtr params, int n, int r)
{
	GVariant *v;

	if (r < 0)
		return NULL;
	v = dsvc_params_to_variant(params, n);
	virTypedParamsFree(params, n);
	return g_variant_new("(@a{sv})", v);
}

static GVariant *d_get_perf_events(struct dsvc_call *call)
{
	virTypedParameterPtr params = NULL;
	guint flags;
	int n = 0, r;

	g_variant_get(call->args, "(u)", &flags);
	r = virDomainGetPerfEvents(call->dom, &params, &n, flags);
	return owned_params(params, n, r);
}

static GVariant *d_set_perf_events(struct dsvc_call *call)
{
	g_auto(dsvc_params) ps = { 0 };
	GVariant *dict;
	guint flags;

	g_variant_get(call->args, "(@a{sv}u)", &dict, &flags);
	if (dsvc_take_params(call, dict, &ps) < 0)
		return NULL;
	return dsvc_done(virDomainSetPerfEvents(call->dom, ps.p, ps.n, flags));
}

static GVariant *d_get_guest_vcpus(struct dsvc_call *call)
{
	virTypedParameterPtr params = NULL;
	unsigned int n = 0;
	guint flags;
	int r;

	g_variant_get(call->args, "(u)", &flags);
	r = virDomainGetGuestVcpus(call->dom, &params, &n, flags);
	return owned_params(params, n, r);
}

/* ab -> "0,2,3", libvirt's cpumap string for SetGuestVcpus. */
static GVariant *d_set_guest_vcpus(struct dsvc_call *call)
{
	g_autoptr(GVariantIter) iter = NULL;
	g_autoptr(GString) list = g_string_new(NULL);
	gint32 state;
	guint flags, i = 0;
	gboolean on;

	g_variant_get(call->args, "(abiu)", &iter, &state, &flags);
	while (g_variant_iter_next(iter, "b", &on)) {
		if (on)
			g_string_append_printf(list, "%s%u", list->len ? "," : "", i);
		i++;
	}
	return dsvc_done(virDomainSetGuestVcpus(call->dom, list->str, state, flags));
}

/* ---- CPU pinning ---- */

static GVariant *d_get_vcpu_pin_info(struct dsvc_call *call)
{
	g_autofree unsigned char *maps = NULL;
	GVariantBuilder b;
	int ncpus, nvcpus, maplen;
	guint flags;

	g_variant_get(call->args, "(u)", &flags);
	ncpus = dsvc_host_cpus(call);
	nvcpus = virDomainGetVcpusFlags(call->dom, flags & ~VIR_DOMAIN_VCPU_MAXIMUM);
	if (ncpus < 0 || nvcpus < 0)
		return NULL;
	maplen = VIR_CPU_MAPLEN(ncpus);
	maps = g_malloc0((gsize)maplen * (nvcpus ? nvcpus : 1));
	nvcpus = virDomainGetVcpuPinInfo(call->dom, nvcpus, maps, maplen, flags);
	if (nvcpus < 0)
		return NULL;
	g_variant_builder_init(&b, G_VARIANT_TYPE("aab"));
	for (int v = 0; v < nvcpus; v++)
		g_variant_builder_add_value(&b, dsvc_cpumap_to_variant(maps + v * maplen, maplen,
									ncpus));
	return g_variant_new("(aab)", &b);
}

static GVariant *d_get_emulator_pin_info(struct dsvc_call *call)
{
	g_autofree unsigned char *map = NULL;
	int ncpus = dsvc_host_cpus(call), maplen;
	guint flags;

	g_variant_get(call->args, "(u)", &flags);
	if (ncpus < 0)
		return NULL;
	maplen = VIR_CPU_MAPLEN(ncpus);
	map = g_malloc0(maplen);
	if (virDomainGetEmulatorPinInfo(call->dom, map, maplen, flags) < 0)
		return NULL;
	return g_variant_new("(@ab)", dsvc_cpumap_to_variant(map, maplen, ncpus));
}

static GVariant *d_get_iothread_info(struct dsvc_call *call)
{
	virDomainIOThreadInfoPtr *info = NULL;
	GVariantBuilder b;
	guint flags;
	int n;

	g_variant_get(call->args, "(u)", &flags);
	n = virDomainGetIOThreadInfo(call->dom, &info, flags);
	if (n < 0)
		return NULL;
	g_variant_builder_init(&b, G_VARIANT_TYPE("a(uab)"));
	for (int i = 0; i < n; i++) {
		g_variant_builder_add(&b, "(u@ab)", info[i]->iothread_id,
				      dsvc_cpumap_to_variant(info[i]->cpumap, info[i]->cpumaplen,
							     info[i]->cpumaplen * 8));
		virDomainIOThreadInfoFree(info[i]);
	}
	free(info);
	return g_variant_new("(a(uab))", &b);
}

static GVariant *d_pin_emulator(struct dsvc_call *call)
{
	g_autofree unsigned char *map = NULL;
	GVariant *ab;
	guint flags;
	int len;

	g_variant_get(call->args, "(@abu)", &ab, &flags);
	map = dsvc_cpumap_from_variant(ab, &len);
	g_variant_unref(ab);
	return dsvc_done(virDomainPinEmulator(call->dom, map, len, flags));
}

static GVariant *pin_indexed(struct dsvc_call *call,
			     int (*fn)(virDomainPtr, unsigned int, unsigned char *, int,
				       unsigned int))
{
	g_autofree unsigned char *map = NULL;
	GVariant *ab;
	guint idx, flags;
	int len;

	g_variant_get(call->args, "(u@abu)", &idx, &ab, &flags);
	map = dsvc_cpumap_from_variant(ab, &len);
	g_variant_unref(ab);
	return dsvc_done(fn(call->dom, idx, map, len, flags));
}

static GVariant *d_pin_vcpu(struct dsvc_call *call)
{
	return pin_indexed(call, virDomainPinVcpuFlags);
}

static GVariant *d_pin_iothread(struct dsvc_call *call)
{
	return pin_indexed(call, virDomainPinIOThread);
}

static GVariant *iothread_op(struct dsvc_call *call,
			     int (*fn)(virDomainPtr, unsigned int, unsigned int))
{
	guint id, flags;

	g_variant_get(call->args, "(uu)", &id, &flags);
	return dsvc_done(fn(call->dom, id, flags));
}

static GVariant *d_add_iothread(struct dsvc_call *call)
{
	return iothread_op(call, virDomainAddIOThread);
}

static GVariant *d_del_iothread(struct dsvc_call *call)
{
	return iothread_op(call, virDomainDelIOThread);
}

/* ---- block devices ---- */

static GVariant *d_block_commit(struct dsvc_call *call)
{
	const char *disk, *base, *top;
	guint64 bw;
	guint flags;

	g_variant_get(call->args, "(&s&s&stu)", &disk, &base, &top, &bw, &flags);
	return dsvc_done(virDomainBlockCommit(call->dom, disk, dsvc_empty_to_null(base),
					      dsvc_empty_to_null(top), bw, flags));
}

static GVariant *d_block_copy(struct dsvc_call *call)
{
	g_auto(dsvc_params) ps = { 0 };
	const char *disk, *dest;
	GVariant *dict;
	guint flags;

	g_variant_get(call->args, "(&s&s@a{sv}u)", &disk, &dest, &dict, &flags);
	if (dsvc_take_params(call, dict, &ps) < 0)
		return NULL;
	return dsvc_done(virDomainBlockCopy(call->dom, disk, dest, ps.p, ps.n, flags));
}

static GVariant *d_block_job_abort(struct dsvc_call *call)
{
	const char *disk;
	guint flags;

	g_variant_get(call->args, "(&su)", &disk, &flags);
	return dsvc_done(virDomainBlockJobAbort(call->dom, disk, flags));
}

/* (s disk, t value, u flags) */
static GVariant *disk_value(struct dsvc_call *call,
			    int (*fn)(virDomainPtr, const char *, unsigned long, unsigned int))
{
	const char *disk;
	guint64 v;
	guint flags;

	g_variant_get(call->args, "(&stu)", &disk, &v, &flags);
	return dsvc_done(fn(call->dom, disk, v, flags));
}

static GVariant *d_block_pull(struct dsvc_call *call)
{
	return disk_value(call, virDomainBlockPull);
}

static GVariant *d_block_job_set_speed(struct dsvc_call *call)
{
	return disk_value(call, virDomainBlockJobSetSpeed);
}

static GVariant *d_block_resize(struct dsvc_call *call)
{
	const char *disk;
	guint64 size;
	guint flags;

	g_variant_get(call->args, "(&stu)", &disk, &size, &flags);
	return dsvc_done(virDomainBlockResize(call->dom, disk, size, flags));
}

static GVariant *d_block_rebase(struct dsvc_call *call)
{
	const char *disk, *base;
	guint64 bw;
	guint flags;

	g_variant_get(call->args, "(&s&stu)", &disk, &base, &bw, &flags);
	return dsvc_done(virDomainBlockRebase(call->dom, disk, dsvc_empty_to_null(base), bw,
					      flags));
}

static GVariant *d_get_block_job_info(struct dsvc_call *call)
{
	virDomainBlockJobInfo info = { 0 };
	const char *disk;
	guint flags;

	g_variant_get(call->args, "(&su)", &disk, &flags);
	if (virDomainGetBlockJobInfo(call->dom, disk, &info, flags) < 0)
		return NULL;
	return g_variant_new("((ittt))", info.type, (guint64)info.bandwidth,
			     (guint64)info.cur, (guint64)info.end);
}

static GVariant *peek_result(unsigned char *buf, guint64 size, int r)
{
	GVariant *v;

	if (r < 0) {
		g_free(buf);
		return NULL;
	}
	v = g_variant_new_from_data(G_VARIANT_TYPE("ay"), buf, size, TRUE, g_free, buf);
	return g_variant_new_tuple(&v, 1);
}

static GVariant *d_block_peek(struct dsvc_call *call)
{
	const char *disk;
	guint64 off, size;
	guint flags;
	unsigned char *buf;

	g_variant_get(call->args, "(&sttu)", &disk, &off, &size, &flags);
	if (size > PEEK_MAX)
		return dsvc_fail(call, "BlockPeek: size %" G_GUINT64_FORMAT " is above the "
				 "limit of %u bytes", size, PEEK_MAX);
	buf = g_malloc0(size ? size : 1);
	return peek_result(buf, size, virDomainBlockPeek(call->dom, disk, off, size, buf, flags));
}

static GVariant *d_memory_peek(struct dsvc_call *call)
{
	guint64 start, size;
	guint flags;
	unsigned char *buf;

	g_variant_get(call->args, "(ttu)", &start, &size, &flags);
	if (size > PEEK_MAX)
		return dsvc_fail(call, "MemoryPeek: size %" G_GUINT64_FORMAT " is above the "
				 "limit of %u bytes", size, PEEK_MAX);
	buf = g_malloc0(size ? size : 1);
	return peek_result(buf, size, virDomainMemoryPeek(call->dom, start, size, buf, flags));
}

static GVariant *d_get_disk_errors(struct dsvc_call *call)
{
	g_autofree virDomainDiskErrorPtr errs = NULL;
	GVariantBuilder b;
	guint flags;
	int n;

	g_variant_get(call->args, "(u)", &flags);
	n = virDomainGetDiskErrors(call->dom, NULL, 0, flags);
	if (n < 0)
		return NULL;
	errs = g_new0(virDomainDiskError, n ? n : 1);
	if (n && (n = virDomainGetDiskErrors(call->dom, errs, n, flags)) < 0)
		return NULL;
	g_variant_builder_init(&b, G_VARIANT_TYPE("a(si)"));
	for (int i = 0; i < n; i++) {
		g_variant_builder_add(&b, "(si)", errs[i].disk, errs[i].error);
		free(errs[i].disk);
	}
	return g_variant_new("(a(si))", &b);
}

static GVariant *d_memory_stats(struct dsvc_call *call)
{
	virDomainMemoryStatStruct stats[VIR_DOMAIN_MEMORY_STAT_NR];
	GVariantBuilder b;
	guint flags;
	int n;

	g_variant_get(call->args, "(u)", &flags);
	n = virDomainMemoryStats(call->dom, stats, VIR_DOMAIN_MEMORY_STAT_NR, flags);
	if (n < 0)
		return NULL;
	g_variant_builder_init(&b, G_VARIANT_TYPE("a{it}"));
	for (int i = 0; i < n; i++)
		g_variant_builder_add(&b, "{it}", stats[i].tag, (guint64)stats[i].val);
	return g_variant_new("(a{it})", &b);
}

/* ---- migration settings ---- */

static GVariant *d_migrate_get_compression_cache(struct dsvc_call *call)
{
	unsigned long long size;
	guint flags;

	g_variant_get(call->args, "(u)", &flags);
	if (virDomainMigrateGetCompressionCache(call->dom, &size, flags) < 0)
		return NULL;
	return g_variant_new("(t)", (guint64)size);
}

static GVariant *d_migrate_get_max_speed(struct dsvc_call *call)
{
	unsigned long bw;
	guint flags;

	g_variant_get(call->args, "(u)", &flags);
	if (virDomainMigrateGetMaxSpeed(call->dom, &bw, flags) < 0)
		return NULL;
	return g_variant_new("(t)", (guint64)bw);
}

U64_METHOD(d_migrate_set_compression_cache, virDomainMigrateSetCompressionCache)

U64_METHOD(d_migrate_set_max_downtime, virDomainMigrateSetMaxDowntime)

U64_METHOD(d_migrate_set_max_speed, virDomainMigrateSetMaxSpeed)

static GVariant *d_migrate_start_post_copy(struct dsvc_call *call)
{
	guint flags;

	g_variant_get(call->args, "(u)", &flags);
	return dsvc_done(virDomainMigrateStartPostCopy(call->dom, flags));
}

static GVariant *d_migrate_to_uri3(struct dsvc_call *call)
{
	g_auto(dsvc_params) ps = { 0 };
	const char *uri;
	GVariant *dict;
	guint flags;

	g_variant_get(call->args, "(&s@a{sv}u)", &uri, &dict, &flags);
	if (dsvc_take_params(call, dict, &ps) < 0)
		return NULL;
	return dsvc_done(virDomainMigrateToURI3(call->dom, dsvc_empty_to_null(uri), ps.p, ps.n,
						flags));
}

/* ---- guest ---- */

static GVariant *fs_freeze_thaw(struct dsvc_call *call,
				int (*fn)(virDomainPtr, const char **, unsigned int,
					  unsigned int))
{
	g_autofree const char **mounts = NULL;
	GVariant *arr;
	guint flags;
	gsize n;
	int r;

	g_variant_get(call->args, "(@asu)", &arr, &flags);
	mounts = g_variant_get_strv(arr, &n);
	r = fn(call->dom, n ? mounts : NULL, n, flags);
	g_variant_unref(arr);
	return r < 0 ? NULL : g_variant_new("(u)", r);
}

static GVariant *d_fs_freeze(struct dsvc_call *call)
{
	return fs_freeze_thaw(call, virDomainFSFreeze);
}

static GVariant *d_fs_thaw(struct dsvc_call *call)
{
	return fs_freeze_thaw(call, virDomainFSThaw);
}

static GVariant *d_fs_trim(struct dsvc_call *call)
{
	const char *mount;
	guint64 min;
	guint flags;

	g_variant_get(call->args, "(&stu)", &mount, &min, &flags);
	return dsvc_done(virDomainFSTrim(call->dom, dsvc_empty_to_null(mount), min, flags));
}

static GVariant *d_get_fs_info(struct dsvc_call *call)
{
	virDomainFSInfoPtr *info = NULL;
	GVariantBuilder b;
	guint flags;
	int n;

	g_variant_get(call->args, "(u)", &flags);
	n = virDomainGetFSInfo(call->dom, &info, flags);
	if (n < 0)
		return NULL;
	g_variant_builder_init(&b, G_VARIANT_TYPE("a(sssas)"));
	for (int i = 0; i < n; i++) {
		GVariantBuilder aliases;

		g_variant_builder_init(&aliases, G_VARIANT_TYPE("as"));
		for (size_t j = 0; j < info[i]->ndevAlias; j++)
			g_variant_builder_add(&aliases, "s", info[i]->devAlias[j]);
		g_variant_builder_add(&b, "(sssas)", info[i]->mountpoint, info[i]->name,
				      info[i]->fstype, &aliases);
		virDomainFSInfoFree(info[i]);
	}
	free(info);
	return g_variant_new("(a(sssas))", &b);
}

static GVariant *iface_addrs(virDomainInterfacePtr iface)
{
	GVariantBuilder b;

	g_variant_builder_init(&b, G_VARIANT_TYPE("a(isu)"));
	for (size_t j = 0; j < iface->naddrs; j++)
		g_variant_builder_add(&b, "(isu)", iface->addrs[j].type, iface->addrs[j].addr,
				      iface->addrs[j].prefix);
	return g_variant_builder_end(&b);
}

static GVariant *d_interface_addresses(struct dsvc_call *call)
{
	virDomainInterfacePtr *ifaces = NULL;
	GVariantBuilder b;
	guint source, flags;
	int n;

	g_variant_get(call->args, "(uu)", &source, &flags);
	n = virDomainInterfaceAddresses(call->dom, &ifaces, source, flags);
	if (n < 0)
		return NULL;
	g_variant_builder_init(&b, G_VARIANT_TYPE("a(ssa(isu))"));
	for (int i = 0; i < n; i++) {
		g_variant_builder_add(&b, "(ss@a(isu))", ifaces[i]->name,
				      ifaces[i]->hwaddr ? ifaces[i]->hwaddr : "",
				      iface_addrs(ifaces[i]));
		virDomainInterfaceFree(ifaces[i]);
	}
	free(ifaces);
	return g_variant_new("(a(ssa(isu)))", &b);
}

static GVariant *d_open_graphics_fd(struct dsvc_call *call)
{
	g_autoptr(GError) error = NULL;
	guint idx, flags;
	int fd, h;

	g_variant_get(call->args, "(uu)", &idx, &flags);
	fd = virDomainOpenGraphicsFD(call->dom, idx, flags);
	if (fd < 0)
		return NULL;
	call->out_fds = g_unix_fd_list_new();
	h = g_unix_fd_list_append(call->out_fds, fd, &error);
	close(fd);
	if (h < 0)
		return dsvc_fail(call, "cannot pass the graphics fd: %s", error->message);
	return g_variant_new("(h)", h);
}

static GVariant *d_send_key(struct dsvc_call *call)
{
	g_autofree guint *keys = NULL;
	const guint32 *codes;
	GVariant *arr;
	guint codeset, hold, flags;
	gsize n = 0;
	int r;

	g_variant_get(call->args, "(uu@auu)", &codeset, &hold, &arr, &flags);
	codes = g_variant_get_fixed_array(arr, &n, sizeof(guint32));
	keys = g_memdup2(codes, sizeof(guint) * n);
	g_variant_unref(arr);
	r = virDomainSendKey(call->dom, codeset, hold, keys, n, flags);
	return dsvc_done(r);
}

static GVariant *d_send_process_signal(struct dsvc_call *call)
{
	gint64 pid;
	guint sig, flags;

	g_variant_get(call->args, "(xuu)", &pid, &sig, &flags);
	return dsvc_done(virDomainSendProcessSignal(call->dom, pid, sig, flags));
}

static GVariant *d_set_user_password(struct dsvc_call *call)
{
	const char *user, *password;
	guint flags;

	g_variant_get(call->args, "(&s&su)", &user, &password, &flags);
	return dsvc_done(virDomainSetUserPassword(call->dom, user, password, flags));
}

const struct dsvc_method dsvc_domain_tuning_methods[] = {
	{ "AddIOThread", d_add_iothread },
	{ "BlockCommit", d_block_commit },
	{ "BlockCopy", d_block_copy },
	{ "BlockJobAbort", d_block_job_abort },
	{ "BlockJobSetSpeed", d_block_job_set_speed },
	{ "BlockPeek", d_block_peek },
	{ "BlockPull", d_block_pull },
	{ "BlockRebase", d_block_rebase },
	{ "BlockResize", d_block_resize },
	{ "DelIOThread", d_del_iothread },
	{ "FSFreeze", d_fs_freeze },
	{ "FSThaw", d_fs_thaw },
	{ "FSTrim", d_fs_trim },
	{ "GetBlockIOParameters", d_get_blkio },
	{ "GetBlockIOTune", d_get_block_io_tune },
	{ "GetBlockJobInfo", d_get_block_job_info },
	{ "GetDiskErrors", d_get_disk_errors },
	{ "GetEmulatorPinInfo", d_get_emulator_pin_info },
	{ "GetFSInfo", d_get_fs_info },
	{ "GetGuestVcpus", d_get_guest_vcpus },
	{ "GetInterfaceParameters", d_get_iface },
	{ "GetIOThreadInfo", d_get_iothread_info },
	{ "GetMemoryParameters", d_get_memory },
	{ "GetNumaParameters", d_get_numa },
	{ "GetPerfEvents", d_get_perf_events },
	{ "GetSchedulerParameters", d_get_sched },
	{ "GetVcpuPinInfo", d_get_vcpu_pin_info },
	{ "InterfaceAddresses", d_interface_addresses },
	{ "MemoryPeek", d_memory_peek },
	{ "MemoryStats", d_memory_stats },
	{ "MigrateGetCompressionCache", d_migrate_get_compression_cache },
	{ "MigrateGetMaxSpeed", d_migrate_get_max_speed },
	{ "MigrateSetCompressionCache", d_migrate_set_compression_cache },
	{ "MigrateSetMaxDowntime", d_migrate_set_max_downtime },
	{ "MigrateSetMaxSpeed", d_migrate_set_max_speed },
	{ "MigrateStartPostCopy", d_migrate_start_post_copy },
	{ "MigrateToURI3", d_migrate_to_uri3 },
	{ "OpenGraphicsFD", d_open_graphics_fd },
	{ "PinEmulator", d_pin_emulator },
	{ "PinIOThread", d_pin_iothread },
	{ "PinVcpu", d_pin_vcpu },
	{ "SendKey", d_send_key },
	{ "SendProcessSignal", d_send_process_signal },
	{ "SetBlockIOParameters", d_set_blkio },
	{ "SetBlockIOTune", d_set_block_io_tune },
	{ "SetGuestVcpus", d_set_guest_vcpus },
	{ "SetInterfaceParameters", d_set_iface },
	{ "SetMemoryParameters", d_set_memory },
	{ "SetNumaParameters", d_set_numa },
	{ "SetPerfEvents", d_set_perf_events },
	{ "SetSchedulerParameters", d_set_sched },
	{ "SetUserPassword", d_set_user_password },
	{ NULL }
};
