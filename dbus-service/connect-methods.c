// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * org.libvirt.Connect: the methods and properties served for one libvirt URI.
 * The methods about networks, storage, host interfaces, node devices, nwfilters and
 * secrets are in connect-objects.c.
 */
#include <stdlib.h>
#include "dsvc.h"

static GVariant *c_baseline_cpu(struct dsvc_call *call)
{
	g_autofree const char **xmls = NULL;
	guint flags;
	gsize n;
	GVariant *arr;

	g_variant_get(call->args, "(@asu)", &arr, &flags);
	xmls = g_variant_get_strv(arr, &n);
	g_variant_unref(arr);
	return dsvc_string_result(virConnectBaselineCPU(call->conn, xmls, n, flags));
}

static GVariant *c_compare_cpu(struct dsvc_call *call)
{
	const char *xml;
	guint flags;
	int r;

	g_variant_get(call->args, "(&su)", &xml, &flags);
	r = virConnectCompareCPU(call->conn, xml, flags);
	return r == VIR_CPU_COMPARE_ERROR ? NULL : g_variant_new("(i)", r);
}

static GVariant *c_domain_create_xml(struct dsvc_call *call)
{
	const char *xml;
	guint flags;

	g_variant_get(call->args, "(&su)", &xml, &flags);
	return dsvc_domain_result(call, virDomainCreateXML(call->conn, xml, flags));
}

static GVariant *c_domain_create_xml_with_files(struct dsvc_call *call)
{
	g_autoptr(GVariantIter) iter = NULL;
	g_autofree int *fds = NULL;
	const char *xml;
	guint flags;
	GVariant *ret;
	int n;

	g_variant_get(call->args, "(&sahu)", &xml, &iter, &flags);
	n = dsvc_take_fds(call, iter, &fds);
	if (n < 0)
		return NULL;
	ret = dsvc_domain_result(call, virDomainCreateXMLWithFiles(call->conn, xml, n, fds, flags));
	dsvc_close_fds(fds, n);
	return ret;
}

static GVariant *c_domain_define_xml(struct dsvc_call *call)
{
	const char *xml;

	g_variant_get(call->args, "(&s)", &xml);
	return dsvc_domain_result(call, virDomainDefineXML(call->conn, xml));
}

static GVariant *c_domain_lookup_by_id(struct dsvc_call *call)
{
	gint32 id;

	g_variant_get(call->args, "(i)", &id);
	return dsvc_domain_result(call, virDomainLookupByID(call->conn, id));
}

static GVariant *c_domain_lookup_by_name(struct dsvc_call *call)
{
	const char *name;

	g_variant_get(call->args, "(&s)", &name);
	return dsvc_domain_result(call, virDomainLookupByName(call->conn, name));
}

static GVariant *c_domain_lookup_by_uuid(struct dsvc_call *call)
{
	const char *uuid;

	g_variant_get(call->args, "(&s)", &uuid);
	return dsvc_domain_result(call, virDomainLookupByUUIDString(call->conn, uuid));
}

static GVariant *c_domain_restore(struct dsvc_call *call)
{
	const char *from, *xml;
	guint flags;

	g_variant_get(call->args, "(&s&su)", &from, &xml, &flags);
	if (virDomainRestoreFlags(call->conn, from, dsvc_empty_to_null(xml), flags) < 0)
		return NULL;
	return g_variant_new("()");
}

static GVariant *c_domain_save_image_define_xml(struct dsvc_call *call)
{
	const char *file, *xml;
	guint flags;

	g_variant_get(call->args, "(&s&su)", &file, &xml, &flags);
	if (virDomainSaveImageDefineXML(call->conn, file, xml, flags) < 0)
		return NULL;
	return g_variant_new("()");
}

static GVariant *c_domain_save_image_get_xml_desc(struct dsvc_call *call)
{
	const char *file;
	guint flags;

	g_variant_get(call->args, "(&su)", &file, &flags);
	return dsvc_string_result(virDomainSaveImageGetXMLDesc(call->conn, file, flags));
}

static GVariant *c_find_storage_pool_sources(struct dsvc_call *call)
{
	const char *type, *spec;
	guint flags;

	g_variant_get(call->args, "(&s&su)", &type, &spec, &flags);
	return dsvc_string_result(virConnectFindStoragePoolSources(call->conn, type,
							      dsvc_empty_to_null(spec), flags));
}

static GVariant *c_get_all_domain_stats(struct dsvc_call *call)
{
	virDomainStatsRecordPtr *records = NULL;
	GVariantBuilder b;
	guint stats, flags;
	int n;

	g_variant_get(call->args, "(uu)", &stats, &flags);
	n = virConnectGetAllDomainStats(call->conn, stats, &records, flags);
	if (n < 0)
		return NULL;
	g_variant_builder_init(&b, G_VARIANT_TYPE("a(sa{sv})"));
	for (int i = 0; i < n; i++)
		g_variant_builder_add(&b, "(s@a{sv})", virDomainGetName(records[i]->dom),
				      dsvc_params_to_variant(records[i]->params,
							     records[i]->nparams));
	virDomainStatsRecordListFree(records);
	return g_variant_new("(a(sa{sv}))", &b);
}

static GVariant *c_get_capabilities(struct dsvc_call *call)
{
	return dsvc_string_result(virConnectGetCapabilities(call->conn));
}

static GVariant *c_get_cpu_model_names(struct dsvc_call *call)
{
	const char *arch;
	char **models = NULL;
	guint flags;
	GVariantBuilder b;
	int n;

	g_variant_get(call->args, "(&su)", &arch, &flags);
	n = virConnectGetCPUModelNames(call->conn, arch, &models, flags);
	if (n < 0)
		return NULL;
	g_variant_builder_init(&b, G_VARIANT_TYPE("as"));
	for (int i = 0; i < n; i++) {
		g_variant_builder_add(&b, "s", models[i]);
		free(models[i]);
	}
	free(models);
	return g_variant_new("(as)", &b);
}

static GVariant *c_get_domain_capabilities(struct dsvc_call *call)
{
	const char *emu, *arch, *machine, *virt;
	guint flags;

	g_variant_get(call->args, "(&s&s&s&su)", &emu, &arch, &machine, &virt, &flags);
	return dsvc_string_result(virConnectGetDomainCapabilities(
		call->conn, dsvc_empty_to_null(emu), dsvc_empty_to_null(arch),
		dsvc_empty_to_null(machine), dsvc_empty_to_null(virt), flags));
}

static GVariant *c_get_sysinfo(struct dsvc_call *call)
{
	guint flags;

	g_variant_get(call->args, "(u)", &flags);
	return dsvc_string_result(virConnectGetSysinfo(call->conn, flags));
}

static GVariant *c_interface_change(struct dsvc_call *call,
				    int (*fn)(virConnectPtr, unsigned int))
{
	guint flags;

	g_variant_get(call->args, "(u)", &flags);
	return fn(call->conn, flags) < 0 ? NULL : g_variant_new("()");
}

static GVariant *c_interface_change_begin(struct dsvc_call *call)
{
	return c_interface_change(call, virInterfaceChangeBegin);
}

static GVariant *c_interface_change_commit(struct dsvc_call *call)
{
	return c_interface_change(call, virInterfaceChangeCommit);
}

static GVariant *c_interface_change_rollback(struct dsvc_call *call)
{
	return c_interface_change(call, virInterfaceChangeRollback);
}

static GVariant *c_list_domains(struct dsvc_call *call)
{
	virDomainPtr *doms = NULL;
	GVariantBuilder b;
	guint flags;
	int n;

	g_variant_get(call->args, "(u)", &flags);
	n = virConnectListAllDomains(call->conn, &doms, flags);
	if (n < 0)
		return NULL;
	g_variant_builder_init(&b, G_VARIANT_TYPE("ao"));
	for (int i = 0; i < n; i++) {
		g_autofree char *path = dsvc_domain_path(call->connect, doms[i]);

		if (path)
			g_variant_builder_add(&b, "o", path);
		virDomainFree(doms[i]);
	}
	free(doms);
	return g_variant_new("(ao)", &b);
}

static GVariant *c_node_get_cpu_map(struct dsvc_call *call)
{
	unsigned char *map = NULL;
	guint flags;
	GVariant *v;
	int n;

	g_variant_get(call->args, "(u)", &flags);
	n = virNodeGetCPUMap(call->conn, &map, NULL, flags);
	if (n < 0)
		return NULL;
	v = dsvc_cpumap_to_variant(map, VIR_CPU_MAPLEN(n), n);
	free(map);
	return g_variant_new("(@ab)", v);
}

static GVariant *c_node_get_cpu_stats(struct dsvc_call *call)
{
	g_autofree virNodeCPUStatsPtr stats = NULL;
	GVariantBuilder b;
	gint32 cpu;
	guint flags;
	int n = 0;

	g_variant_get(call->args, "(iu)", &cpu, &flags);
	if (virNodeGetCPUStats(call->conn, cpu, NULL, &n, flags) < 0)
		return NULL;
	stats = g_new0(virNodeCPUStats, n ? n : 1);
	if (n && virNodeGetCPUStats(call->conn, cpu, stats, &n, flags) < 0)
		return NULL;
	g_variant_builder_init(&b, G_VARIANT_TYPE("a{st}"));
	for (int i = 0; i < n; i++)
		g_variant_builder_add(&b, "{st}", stats[i].field, (guint64)stats[i].value);
	return g_variant_new("(a{st})", &b);
}

static GVariant *c_node_get_free_memory(struct dsvc_call *call)
{
	unsigned long long mem = virNodeGetFreeMemory(call->conn);

	/* libvirt returns 0 for "error" here; a host with no free memory is not a thing */
	return mem ? g_variant_new("(t)", (guint64)mem) : NULL;
}

static GVariant *c_node_get_memory_parameters(struct dsvc_call *call)
{
	g_autofree virTypedParameterPtr params = NULL;
	guint flags;
	GVariant *v;
	int n = 0;

	g_variant_get(call->args, "(u)", &flags);
	if (virNodeGetMemoryParameters(call->conn, NULL, &n, flags) < 0)
		return NULL;
	params = g_new0(virTypedParameter, n ? n : 1);
	if (n && virNodeGetMemoryParameters(call->conn, params, &n, flags) < 0)
		return NULL;
	v = dsvc_params_to_variant(params, n);
	virTypedParamsClear(params, n);
	return g_variant_new("(@a{sv})", v);
}

static GVariant *c_node_get_memory_stats(struct dsvc_call *call)
{
	g_autofree virNodeMemoryStatsPtr stats = NULL;
	GVariantBuilder b;
	gint32 cell;
	guint flags;
	int n = 0;

	g_variant_get(call->args, "(iu)", &cell, &flags);
	if (virNodeGetMemoryStats(call->conn, cell, NULL, &n, flags) < 0)
		return NULL;
	stats = g_new0(virNodeMemoryStats, n ? n : 1);
	if (n && virNodeGetMemoryStats(call->conn, cell, stats, &n, flags) < 0)
		return NULL;
	g_variant_builder_init(&b, G_VARIANT_TYPE("a{st}"));
	for (int i = 0; i < n; i++)
		g_variant_builder_add(&b, "{st}", stats[i].field, (guint64)stats[i].value);
	return g_variant_new("(a{st})", &b);
}

static GVariant *c_node_get_security_model(struct dsvc_call *call)
{
	virSecurityModel model = { 0 };

	if (virNodeGetSecurityModel(call->conn, &model) < 0)
		return NULL;
	return g_variant_new("((ss))", model.model, model.doi);
}

static GVariant *c_node_set_memory_parameters(struct dsvc_call *call)
{
	g_auto(dsvc_params) ps = { 0 };
	GVariant *dict;
	guint flags;

	g_variant_get(call->args, "(@a{sv}u)", &dict, &flags);
	if (dsvc_take_params(call, dict, &ps) < 0)
		return NULL;
	return dsvc_done(virNodeSetMemoryParameters(call->conn, ps.p, ps.n, flags));
}

/* ---- properties ---- */

static GVariant *p_encrypted(struct dsvc_call *call)
{
	int r = virConnectIsEncrypted(call->conn);

	return r < 0 ? NULL : g_variant_new_boolean(r);
}

static GVariant *p_secure(struct dsvc_call *call)
{
	int r = virConnectIsSecure(call->conn);

	return r < 0 ? NULL : g_variant_new_boolean(r);
}

static GVariant *p_hostname(struct dsvc_call *call)
{
	char *h = virConnectGetHostname(call->conn);
	GVariant *v;

	if (!h)
		return NULL;
	v = g_variant_new_string(h);
	free(h);
	return v;
}

static GVariant *p_lib_version(struct dsvc_call *call)
{
	unsigned long v;

	return virConnectGetLibVersion(call->conn, &v) < 0 ? NULL : g_variant_new_uint64(v);
}

static GVariant *p_version(struct dsvc_call *call)
{
	unsigned long v;

	return virConnectGetVersion(call->conn, &v) < 0 ? NULL : g_variant_new_uint64(v);
}

static const struct dsvc_method methods[] = {
	{ "BaselineCPU", c_baseline_cpu },
	{ "CompareCPU", c_compare_cpu },
	{ "DomainCreateXML", c_domain_create_xml },
	{ "DomainCreateXMLWithFiles", c_domain_create_xml_with_files },
	{ "DomainDefineXML", c_domain_define_xml },
	{ "DomainLookupByID", c_domain_lookup_by_id },
	{ "DomainLookupByName", c_domain_lookup_by_name },
	{ "DomainLookupByUUID", c_domain_lookup_by_uuid },
	{ "DomainRestore", c_domain_restore },
	{ "DomainSaveImageDefineXML", c_domain_save_image_define_xml },
	{ "DomainSaveImageGetXMLDesc", c_domain_save_image_get_xml_desc },
	{ "FindStoragePoolSources", c_find_storage_pool_sources },
	{ "GetAllDomainStats", c_get_all_domain_stats },
	{ "GetCapabilities", c_get_capabilities },
	{ "GetCPUModelNames", c_get_cpu_model_names },
	{ "GetDomainCapabilities", c_get_domain_capabilities },
	{ "GetSysinfo", c_get_sysinfo },
	{ "InterfaceChangeBegin", c_interface_change_begin },
	{ "InterfaceChangeCommit", c_interface_change_commit },
	{ "InterfaceChangeRollback", c_interface_change_rollback },
	{ "ListDomains", c_list_domains },
	{ "NodeGetCPUMap", c_node_get_cpu_map },
	{ "NodeGetCPUStats", c_node_get_cpu_stats },
	{ "NodeGetFreeMemory", c_node_get_free_memory },
	{ "NodeGetMemoryParameters", c_node_get_memory_parameters },
	{ "NodeGetMemoryStats", c_node_get_memory_stats },
	{ "NodeGetSecurityModel", c_node_get_security_model },
	{ "NodeSetMemoryParameters", c_node_set_memory_parameters },
	{ NULL }
};

static const struct dsvc_property properties[] = {
	{ "Encrypted", p_encrypted, NULL },
	{ "Hostname", p_hostname, NULL },
	{ "LibVersion", p_lib_version, NULL },
	{ "Secure", p_secure, NULL },
	{ "Version", p_version, NULL },
	{ NULL }
};

const struct dsvc_iface_table dsvc_connect_table = {
	.name = "org.libvirt.Connect",
	.methods = methods,
	.more_methods = dsvc_connect_object_methods,
	.properties = properties,
};
