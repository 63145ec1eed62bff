// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * org.libvirt.Domain: lifecycle, description, state, save, snapshots and the properties.
 * Tuning, block jobs, migration and guest-agent methods are in domain-tuning.c.
 */
#include <stdlib.h>
#include <unistd.h>
#include "dsvc-methods.h"

guint dsvc_flags_arg(struct dsvc_call *call)
{
	guint flags;

	g_variant_get(call->args, "(u)", &flags);
	return flags;
}

GVariant *dsvc_done(int r)
{
	return r < 0 ? NULL : g_variant_new("()");
}

GVariant *dsvc_string_result(char *s)
{
	GVariant *v;

	if (!s)
		return NULL;
	v = g_variant_new("(s)", s);
	free(s);
	return v;
}

GVariant *dsvc_domain_result(struct dsvc_call *call, virDomainPtr dom)
{
	g_autofree char *path = NULL;

	if (!dom)
		return NULL;
	path = dsvc_domain_path(call->connect, dom);
	virDomainFree(dom);
	return path ? g_variant_new("(o)", path) : NULL;
}

GVariant *dsvc_snapshot_result(struct dsvc_call *call, virDomainSnapshotPtr snap)
{
	g_autofree char *path = NULL;

	if (!snap)
		return NULL;
	path = dsvc_snapshot_path(call->connect, snap);
	virDomainSnapshotFree(snap);
	return path ? g_variant_new("(o)", path) : NULL;
}

/* Number of host CPUs, the length of every cpumap we hand out. */
int dsvc_host_cpus(struct dsvc_call *call)
{
	return virNodeGetCPUMap(call->conn, NULL, NULL, 0);
}

PLAIN_METHOD(d_abort_job, virDomainAbortJob)
XML_METHOD(d_attach_device, virDomainAttachDeviceFlags)
FLAGS_METHOD(d_create, virDomainCreateWithFlags)
FLAGS_METHOD(d_destroy, virDomainDestroyFlags)
XML_METHOD(d_detach_device, virDomainDetachDeviceFlags)
FLAGS_METHOD(d_inject_nmi, virDomainInjectNMI)
FLAGS_METHOD(d_managed_save, virDomainManagedSave)
FLAGS_METHOD(d_managed_save_remove, virDomainManagedSaveRemove)
FLAGS_METHOD(d_pm_wakeup, virDomainPMWakeup)
FLAGS_METHOD(d_reboot, virDomainReboot)
XML_METHOD(d_rename, virDomainRename)
FLAGS_METHOD(d_reset, virDomainReset)
PLAIN_METHOD(d_resume, virDomainResume)
FLAGS_METHOD(d_shutdown, virDomainShutdownFlags)
PLAIN_METHOD(d_suspend, virDomainSuspend)
FLAGS_METHOD(d_undefine, virDomainUndefineFlags)
XML_METHOD(d_update_device, virDomainUpdateDeviceFlags)

static GVariant *d_create_with_files(struct dsvc_call *call)
{
	g_autoptr(GVariantIter) iter = NULL;
	g_autofree int *fds = NULL;
	guint flags;
	int n, r;

	g_variant_get(call->args, "(ahu)", &iter, &flags);
	n = dsvc_take_fds(call, iter, &fds);
	if (n < 0)
		return NULL;
	r = virDomainCreateWithFiles(call->dom, n, fds, flags);
	dsvc_close_fds(fds, n);
	return dsvc_done(r);
}

static GVariant *d_core_dump(struct dsvc_call *call)
{
	const char *to;
	guint format, flags;

	g_variant_get(call->args, "(&suu)", &to, &format, &flags);
	return dsvc_done(virDomainCoreDumpWithFormat(call->dom, to, format, flags));
}

static GVariant *d_get_control_info(struct dsvc_call *call)
{
	virDomainControlInfo info;

	if (virDomainGetControlInfo(call->dom, &info, dsvc_flags_arg(call)) < 0)
		return NULL;
	return g_variant_new("((uut))", info.state, info.details, (guint64)info.stateTime);
}

static GVariant *d_get_hostname(struct dsvc_call *call)
{
	return dsvc_string_result(virDomainGetHostname(call->dom, dsvc_flags_arg(call)));
}

static GVariant *d_get_job_info(struct dsvc_call *call)
{
	virDomainJobInfo i;

	if (virDomainGetJobInfo(call->dom, &i) < 0)
		return NULL;
	return g_variant_new("((ittttttttttt))", i.type, (guint64)i.timeElapsed,
			     (guint64)i.timeRemaining, (guint64)i.dataTotal,
			     (guint64)i.dataProcessed, (guint64)i.dataRemaining,
			     (guint64)i.memTotal, (guint64)i.memProcessed,
			     (guint64)i.memRemaining, (guint64)i.fileTotal,
			     (guint64)i.fileProcessed, (guint64)i.fileRemaining);
}

static GVariant *d_get_job_stats(struct dsvc_call *call)
{
	virTypedParameterPtr params = NULL;
	int type, n = 0;
	GVariant *v;

	if (virDomainGetJobStats(call->dom, &type, &params, &n, dsvc_flags_arg(call)) < 0)
		return NULL;
	v = dsvc_params_to_variant(params, n);
	virTypedParamsFree(params, n);
	return g_variant_new("((i@a{sv}))", type, v);
}

static GVariant *d_get_metadata(struct dsvc_call *call)
{
	const char *uri;
	gint32 type;
	guint flags;

	g_variant_get(call->args, "(i&su)", &type, &uri, &flags);
	return dsvc_string_result(virDomainGetMetadata(call->dom, type,
						       dsvc_empty_to_null(uri), flags));
}

static GVariant *d_get_security_label_list(struct dsvc_call *call)
{
	virSecurityLabelPtr labels = NULL;
	GVariantBuilder b;
	int n = virDomainGetSecurityLabelList(call->dom, &labels);

	if (n < 0)
		return NULL;
	g_variant_builder_init(&b, G_VARIANT_TYPE("a(sb)"));
	for (int i = 0; i < n; i++)
		g_variant_builder_add(&b, "(sb)", labels[i].label, labels[i].enforcing != 0);
	free(labels);
	return g_variant_new("(a(sb))", &b);
}

static GVariant *d_get_state(struct dsvc_call *call)
{
	int state, reason;

	if (virDomainGetState(call->dom, &state, &reason, dsvc_flags_arg(call)) < 0)
		return NULL;
	return g_variant_new("((ii))", state, reason);
}

static GVariant *d_get_stats(struct dsvc_call *call)
{
	virDomainPtr doms[] = { call->dom, NULL };
	virDomainStatsRecordPtr *records = NULL;
	guint stats, flags;
	GVariant *v;

	g_variant_get(call->args, "(uu)", &stats, &flags);
	if (virDomainListGetStats(doms, stats, &records, flags) < 0)
		return NULL;
	if (!records[0]) {
		virDomainStatsRecordListFree(records);
		return dsvc_fail(call, "no statistics returned for the domain");
	}
	v = dsvc_params_to_variant(records[0]->params, records[0]->nparams);
	virDomainStatsRecordListFree(records);
	return g_variant_new("(@a{sv})", v);
}

static GVariant *d_get_time(struct dsvc_call *call)
{
	long long secs;
	unsigned int nsecs;

	if (virDomainGetTime(call->dom, &secs, &nsecs, dsvc_flags_arg(call)) < 0)
		return NULL;
	return g_variant_new("((tu))", (guint64)secs, nsecs);
}

static GVariant *d_get_vcpus(struct dsvc_call *call)
{
	int n = virDomainGetVcpusFlags(call->dom, dsvc_flags_arg(call));

	return n < 0 ? NULL : g_variant_new("(u)", n);
}

static GVariant *d_get_xml_desc(struct dsvc_call *call)
{
	return dsvc_string_result(virDomainGetXMLDesc(call->dom, dsvc_flags_arg(call)));
}

static GVariant *d_has_managed_save_image(struct dsvc_call *call)
{
	int r = virDomainHasManagedSaveImage(call->dom, dsvc_flags_arg(call));

	return r < 0 ? NULL : g_variant_new("(b)", r != 0);
}

static GVariant *d_save(struct dsvc_call *call)
{
	const char *to, *xml;
	guint flags;

	g_variant_get(call->args, "(&s&su)", &to, &xml, &flags);
	return dsvc_done(virDomainSaveFlags(call->dom, to, dsvc_empty_to_null(xml), flags));
}

U64_METHOD(d_set_memory, virDomainSetMemoryFlags)

static GVariant *d_set_memory_stats_period(struct dsvc_call *call)
{
	gint32 period;
	guint flags;

	g_variant_get(call->args, "(iu)", &period, &flags);
	return dsvc_done(virDomainSetMemoryStatsPeriod(call->dom, period, flags));
}

static GVariant *d_set_metadata(struct dsvc_call *call)
{
	const char *metadata, *key, *uri;
	gint32 type;
	guint flags;

	g_variant_get(call->args, "(i&s&s&su)", &type, &metadata, &key, &uri, &flags);
	return dsvc_done(virDomainSetMetadata(call->dom, type, dsvc_empty_to_null(metadata),
					      dsvc_empty_to_null(key),
					      dsvc_empty_to_null(uri), flags));
}

static GVariant *d_set_time(struct dsvc_call *call)
{
	guint64 secs;
	guint nsecs, flags;

	g_variant_get(call->args, "(tuu)", &secs, &nsecs, &flags);
	return dsvc_done(virDomainSetTime(call->dom, secs, nsecs, flags));
}

static GVariant *d_set_vcpus(struct dsvc_call *call)
{
	guint n, flags;

	g_variant_get(call->args, "(uu)", &n, &flags);
	return dsvc_done(virDomainSetVcpusFlags(call->dom, n, flags));
}

/* ---- snapshots ---- */

static GVariant *d_list_snapshots(struct dsvc_call *call)
{
	virDomainSnapshotPtr *snaps = NULL;
	int n = virDomainListAllSnapshots(call->dom, &snaps, dsvc_flags_arg(call));

	return dsvc_snapshot_list(call, snaps, n);
}

/* "(ao)" of snapshot paths; frees what libvirt returned. */
GVariant *dsvc_snapshot_list(struct dsvc_call *call, virDomainSnapshotPtr *snaps, int n)
{
	GVariantBuilder b;

	if (n < 0)
		return NULL;
	g_variant_builder_init(&b, G_VARIANT_TYPE("ao"));
	for (int i = 0; i < n; i++) {
		g_autofree char *path = dsvc_snapshot_path(call->connect, snaps[i]);

		if (path)
			g_variant_builder_add(&b, "o", path);
		virDomainSnapshotFree(snaps[i]);
	}
	free(snaps);
	return g_variant_new("(ao)", &b);
}

static GVariant *d_snapshot_current(struct dsvc_call *call)
{
	return dsvc_snapshot_result(call, virDomainSnapshotCurrent(call->dom, dsvc_flags_arg(call)));
}

static GVariant *d_snapshot_create_xml(struct dsvc_call *call)
{
	const char *xml;
	guint flags;

	g_variant_get(call->args, "(&su)", &xml, &flags);
	return dsvc_snapshot_result(call, virDomainSnapshotCreateXML(call->dom, xml, flags));
}

static GVariant *d_snapshot_lookup_by_name(struct dsvc_call *call)
{
	const char *name;
	guint flags;

	g_variant_get(call->args, "(&su)", &name, &flags);
	return dsvc_snapshot_result(call, virDomainSnapshotLookupByName(call->dom, name, flags));
}

/* ---- properties ---- */

static GVariant *bool_result(int r)
{
	return r < 0 ? NULL : g_variant_new_boolean(r != 0);
}

static GVariant *p_active(struct dsvc_call *call)
{
	return bool_result(virDomainIsActive(call->dom));
}

static GVariant *p_autostart(struct dsvc_call *call)
{
	int on;

	return bool_result(virDomainGetAutostart(call->dom, &on) < 0 ? -1 : on);
}

static int set_autostart(struct dsvc_call *call, GVariant *v)
{
	return virDomainSetAutostart(call->dom, g_variant_get_boolean(v));
}

/* libvirt says -1 for an inactive domain; the interface's type is u, and libvirt-dbus
 * reports 0. */
static GVariant *p_id(struct dsvc_call *call)
{
	unsigned int id = virDomainGetID(call->dom);

	return g_variant_new_uint32(id == (unsigned int)-1 ? 0 : id);
}

static GVariant *p_name(struct dsvc_call *call)
{
	const char *name = virDomainGetName(call->dom);

	return name ? g_variant_new_string(name) : NULL;
}

static GVariant *p_os_type(struct dsvc_call *call)
{
	char *os = virDomainGetOSType(call->dom);
	GVariant *v;

	if (!os)
		return NULL;
	v = g_variant_new_string(os);
	free(os);
	return v;
}

static GVariant *p_persistent(struct dsvc_call *call)
{
	return bool_result(virDomainIsPersistent(call->dom));
}

static GVariant *p_scheduler_type(struct dsvc_call *call)
{
	int n = 0;
	char *type = virDomainGetSchedulerType(call->dom, &n);
	GVariant *v;

	if (!type)
		return NULL;
	v = g_variant_new("(si)", type, n);
	free(type);
	return v;
}

static GVariant *p_updated(struct dsvc_call *call)
{
	return bool_result(virDomainIsUpdated(call->dom));
}

static GVariant *p_uuid(struct dsvc_call *call)
{
	char uuid[VIR_UUID_STRING_BUFLEN];

	if (virDomainGetUUIDString(call->dom, uuid) < 0)
		return NULL;
	return g_variant_new_string(uuid);
}

static const struct dsvc_method methods[] = {
	{ "AbortJob", d_abort_job },
	{ "AttachDevice", d_attach_device },
	{ "CoreDump", d_core_dump },
	{ "Create", d_create },
	{ "CreateWithFiles", d_create_with_files },
	{ "Destroy", d_destroy },
	{ "DetachDevice", d_detach_device },
	{ "GetControlInfo", d_get_control_info },
	{ "GetHostname", d_get_hostname },
	{ "GetJobInfo", d_get_job_info },
	{ "GetJobStats", d_get_job_stats },
	{ "GetMetadata", d_get_metadata },
	{ "GetSecurityLabelList", d_get_security_label_list },
	{ "GetState", d_get_state },
	{ "GetStats", d_get_stats },
	{ "GetTime", d_get_time },
	{ "GetVcpus", d_get_vcpus },
	{ "GetXMLDesc", d_get_xml_desc },
	{ "HasManagedSaveImage", d_has_managed_save_image },
	{ "InjectNMI", d_inject_nmi },
	{ "ListDomainSnapshots", d_list_snapshots },
	{ "ManagedSave", d_managed_save },
	{ "ManagedSaveRemove", d_managed_save_remove },
	{ "PMWakeup", d_pm_wakeup },
	{ "Reboot", d_reboot },
	{ "Rename", d_rename },
	{ "Reset", d_reset },
	{ "Resume", d_resume },
	{ "Save", d_save },
	{ "SetMemory", d_set_memory },
	{ "SetMemoryStatsPeriod", d_set_memory_stats_period },
	{ "SetMetadata", d_set_metadata },
	{ "SetTime", d_set_time },
	{ "SetVcpus", d_set_vcpus },
	{ "Shutdown", d_shutdown },
	{ "SnapshotCurrent", d_snapshot_current },
	{ "SnapshotCreateXML", d_snapshot_create_xml },
	{ "SnapshotLookupByName", d_snapshot_lookup_by_name },
	{ "Suspend", d_suspend },
	{ "Undefine", d_undefine },
	{ "UpdateDevice", d_update_device },
	{ NULL }
};

static const struct dsvc_property properties[] = {
	{ "Active", p_active, NULL },
	{ "Autostart", p_autostart, set_autostart },
	{ "Id", p_id, NULL },
	{ "Name", p_name, NULL },
	{ "OSType", p_os_type, NULL },
	{ "Persistent", p_persistent, NULL },
	{ "SchedulerType", p_scheduler_type, NULL },
	{ "Updated", p_updated, NULL },
	{ "UUID", p_uuid, NULL },
	{ NULL }
};

const struct dsvc_iface_table dsvc_domain_table = {
	.name = "org.libvirt.Domain",
	.methods = methods,
	.more_methods = dsvc_domain_tuning_methods,
	.properties = properties,
};
