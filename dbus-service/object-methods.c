// SPDX-License-Identifier: GPL-2.0-or-later
/* Methods and properties of org.libvirt.Network, StoragePool, StorageVol, Interface,
 * NodeDevice, NWFilter and Secret: each one libvirt call on the resolved object. */
#include <stdlib.h>
#include <string.h>
#include "dsvc.h"

/* (u flags) -> api(obj, flags) */
#define OBJ_FLAGS(fn_name, type, api) \
	static GVariant *fn_name(struct dsvc_call *call) \
	{ return dsvc_done(api((type)call->obj, dsvc_flags_arg(call))); }
/* () -> api(obj) */
#define OBJ_PLAIN(fn_name, type, api) \
	static GVariant *fn_name(struct dsvc_call *call) \
	{ return dsvc_done(api((type)call->obj)); }
/* (u flags) -> s */
#define OBJ_XML(fn_name, type, api) \
	static GVariant *fn_name(struct dsvc_call *call) \
	{ return dsvc_string_result(api((type)call->obj, dsvc_flags_arg(call))); }
/* properties: boolean from an int-returning is* call, strings libvirt owns, UUIDs */
#define PROP_BOOL(fn_name, type, api) \
	static GVariant *fn_name(struct dsvc_call *call) \
	{ int r = api((type)call->obj); return r < 0 ? NULL : g_variant_new_boolean(r); }
#define PROP_CONST_STR(fn_name, type, api) \
	static GVariant *fn_name(struct dsvc_call *call) \
	{ const char *s = api((type)call->obj); return s ? g_variant_new_string(s) : NULL; }
#define PROP_UUID(fn_name, type, api) \
	static GVariant *fn_name(struct dsvc_call *call) \
	{ \
		char u[VIR_UUID_STRING_BUFLEN]; \
		return api((type)call->obj, u) < 0 ? NULL : g_variant_new_string(u); \
	}
#define PROP_AUTOSTART(get_name, set_name, type, get_api, set_api) \
	static GVariant *get_name(struct dsvc_call *call) \
	{ \
		int on; \
		return get_api((type)call->obj, &on) < 0 ? NULL : g_variant_new_boolean(on); \
	} \
	static int set_name(struct dsvc_call *call, GVariant *v) \
	{ return set_api((type)call->obj, g_variant_get_boolean(v)); }

/* ---- Network ---- */

OBJ_PLAIN(n_create, virNetworkPtr, virNetworkCreate)
OBJ_PLAIN(n_destroy, virNetworkPtr, virNetworkDestroy)
OBJ_XML(n_get_xml_desc, virNetworkPtr, virNetworkGetXMLDesc)
OBJ_PLAIN(n_undefine, virNetworkPtr, virNetworkUndefine)
PROP_BOOL(n_active, virNetworkPtr, virNetworkIsActive)
PROP_BOOL(n_persistent, virNetworkPtr, virNetworkIsPersistent)
PROP_CONST_STR(n_name, virNetworkPtr, virNetworkGetName)
PROP_UUID(n_uuid, virNetworkPtr, virNetworkGetUUIDString)
PROP_AUTOSTART(n_autostart, n_set_autostart, virNetworkPtr, virNetworkGetAutostart,
	       virNetworkSetAutostart)

static GVariant *n_get_dhcp_leases(struct dsvc_call *call)
{
	virNetworkDHCPLeasePtr *leases = NULL;
	GVariantBuilder b;
	const char *mac;
	guint flags;
	int n;

	g_variant_get(call->args, "(&su)", &mac, &flags);
	n = virNetworkGetDHCPLeases(call->obj, dsvc_empty_to_null(mac), &leases, flags);
	if (n < 0)
		return NULL;
	g_variant_builder_init(&b, G_VARIANT_TYPE("a(sxisssuss)"));
	for (int i = 0; i < n; i++) {
		virNetworkDHCPLeasePtr l = leases[i];

		g_variant_builder_add(&b, "(sxisssuss)", l->iface, (gint64)l->expirytime,
				      l->type, l->mac ? l->mac : "", l->iaid ? l->iaid : "",
				      l->ipaddr, l->prefix, l->hostname ? l->hostname : "",
				      l->clientid ? l->clientid : "");
		virNetworkDHCPLeaseFree(l);
	}
	free(leases);
	return g_variant_new("(a(sxisssuss))", &b);
}

static GVariant *n_update(struct dsvc_call *call)
{
	guint command, section, flags;
	gint32 parent;
	const char *xml;

	g_variant_get(call->args, "(uui&su)", &command, &section, &parent, &xml, &flags);
	return dsvc_done(virNetworkUpdate(call->obj, command, section, parent, xml, flags));
}

static const struct dsvc_method network_methods[] = {
	{ "Create", n_create },
	{ "Destroy", n_destroy },
	{ "GetDHCPLeases", n_get_dhcp_leases },
	{ "GetXMLDesc", n_get_xml_desc },
	{ "Undefine", n_undefine },
	{ "Update", n_update },
	{ NULL }
};

static const struct dsvc_property network_properties[] = {
	{ "Active", n_active, NULL },
	{ "Autostart", n_autostart, n_set_autostart },
	{ "Name", n_name, NULL },
	{ "Persistent", n_persistent, NULL },
	{ "UUID", n_uuid, NULL },
	{ NULL }
};

const struct dsvc_iface_table dsvc_network_table = {
	.name = "org.libvirt.Network",
	.methods = network_methods,
	.properties = network_properties,
};

/* ---- StoragePool ---- */

OBJ_FLAGS(p_build, virStoragePoolPtr, virStoragePoolBuild)
OBJ_FLAGS(p_create, virStoragePoolPtr, virStoragePoolCreate)
OBJ_FLAGS(p_delete, virStoragePoolPtr, virStoragePoolDelete)
OBJ_PLAIN(p_destroy, virStoragePoolPtr, virStoragePoolDestroy)
OBJ_XML(p_get_xml_desc, virStoragePoolPtr, virStoragePoolGetXMLDesc)
OBJ_FLAGS(p_refresh, virStoragePoolPtr, virStoragePoolRefresh)
OBJ_PLAIN(p_undefine, virStoragePoolPtr, virStoragePoolUndefine)
PROP_BOOL(p_active, virStoragePoolPtr, virStoragePoolIsActive)
PROP_BOOL(p_persistent, virStoragePoolPtr, virStoragePoolIsPersistent)
PROP_CONST_STR(p_name, virStoragePoolPtr, virStoragePoolGetName)
PROP_UUID(p_uuid, virStoragePoolPtr, virStoragePoolGetUUIDString)
PROP_AUTOSTART(p_autostart, p_set_autostart, virStoragePoolPtr, virStoragePoolGetAutostart,
	       virStoragePoolSetAutostart)

static GVariant *p_get_info(struct dsvc_call *call)
{
	virStoragePoolInfo i;

	if (virStoragePoolGetInfo(call->obj, &i) < 0)
		return NULL;
	return g_variant_new("((ittt))", i.state, (guint64)i.capacity, (guint64)i.allocation,
			     (guint64)i.available);
}

static GVariant *p_list_volumes(struct dsvc_call *call)
{
	virStorageVolPtr *vols = NULL;
	int n = virStoragePoolListAllVolumes(call->obj, &vols, dsvc_flags_arg(call));

	return dsvc_object_list(call, DSVC_IFACE_STORAGEVOL, (void **)vols, n);
}

static GVariant *p_vol_create_xml(struct dsvc_call *call)
{
	const char *xml;
	guint flags;

	g_variant_get(call->args, "(&su)", &xml, &flags);
	return dsvc_object_result(call, DSVC_IFACE_STORAGEVOL,
				  virStorageVolCreateXML(call->obj, xml, flags));
}

/* The clone source is named by its key, as the D-Bus interface has it. */
static GVariant *p_vol_create_xml_from(struct dsvc_call *call)
{
	const char *xml, *key;
	virStorageVolPtr from;
	guint flags;
	GVariant *r;

	g_variant_get(call->args, "(&s&su)", &xml, &key, &flags);
	from = virStorageVolLookupByKey(call->conn, key);
	if (!from)
		return NULL;
	r = dsvc_object_result(call, DSVC_IFACE_STORAGEVOL,
			       virStorageVolCreateXMLFrom(call->obj, xml, from, flags));
	virStorageVolFree(from);
	return r;
}

static GVariant *p_vol_lookup_by_name(struct dsvc_call *call)
{
	const char *name;

	g_variant_get(call->args, "(&s)", &name);
	return dsvc_object_result(call, DSVC_IFACE_STORAGEVOL,
				  virStorageVolLookupByName(call->obj, name));
}

static const struct dsvc_method pool_methods[] = {
	{ "Build", p_build },
	{ "Create", p_create },
	{ "Delete", p_delete },
	{ "Destroy", p_destroy },
	{ "GetInfo", p_get_info },
	{ "GetXMLDesc", p_get_xml_desc },
	{ "ListStorageVolumes", p_list_volumes },
	{ "Refresh", p_refresh },
	{ "StorageVolCreateXML", p_vol_create_xml },
	{ "StorageVolCreateXMLFrom", p_vol_create_xml_from },
	{ "StorageVolLookupByName", p_vol_lookup_by_name },
	{ "Undefine", p_undefine },
	{ NULL }
};

static const struct dsvc_property pool_properties[] = {
	{ "Active", p_active, NULL },
	{ "Autostart", p_autostart, p_set_autostart },
	{ "Name", p_name, NULL },
	{ "Persistent", p_persistent, NULL },
	{ "UUID", p_uuid, NULL },
	{ NULL }
};

const struct dsvc_iface_table dsvc_storagepool_table = {
	.name = "org.libvirt.StoragePool",
	.methods = pool_methods,
	.properties = pool_properties,
};

/* ---- StorageVol ---- */

OBJ_FLAGS(v_delete, virStorageVolPtr, virStorageVolDelete)
OBJ_XML(v_get_xml_desc, virStorageVolPtr, virStorageVolGetXMLDesc)
PROP_CONST_STR(v_name, virStorageVolPtr, virStorageVolGetName)
PROP_CONST_STR(v_key, virStorageVolPtr, virStorageVolGetKey)

static GVariant *v_path(struct dsvc_call *call)
{
	char *path = virStorageVolGetPath(call->obj);
	GVariant *v;

	if (!path)
		return NULL;
	v = g_variant_new_string(path);
	free(path);
	return v;
}

static GVariant *v_get_info(struct dsvc_call *call)
{
	virStorageVolInfo i;

	if (virStorageVolGetInfoFlags(call->obj, &i, dsvc_flags_arg(call)) < 0)
		return NULL;
	return g_variant_new("((itt))", i.type, (guint64)i.capacity, (guint64)i.allocation);
}

static GVariant *v_resize(struct dsvc_call *call)
{
	guint64 capacity;
	guint flags;

	g_variant_get(call->args, "(tu)", &capacity, &flags);
	return dsvc_done(virStorageVolResize(call->obj, capacity, flags));
}

static GVariant *v_wipe(struct dsvc_call *call)
{
	guint pattern, flags;

	g_variant_get(call->args, "(uu)", &pattern, &flags);
	return dsvc_done(virStorageVolWipePattern(call->obj, pattern, flags));
}

static const struct dsvc_method vol_methods[] = {
	{ "Delete", v_delete },
	{ "GetInfo", v_get_info },
	{ "GetXMLDesc", v_get_xml_desc },
	{ "Resize", v_resize },
	{ "Wipe", v_wipe },
	{ NULL }
};

static const struct dsvc_property vol_properties[] = {
	{ "Name", v_name, NULL },
	{ "Key", v_key, NULL },
	{ "Path", v_path, NULL },
	{ NULL }
};

const struct dsvc_iface_table dsvc_storagevol_table = {
	.name = "org.libvirt.StorageVol",
	.methods = vol_methods,
	.properties = vol_properties,
};

/* ---- Interface ---- */

OBJ_FLAGS(i_create, virInterfacePtr, virInterfaceCreate)
OBJ_FLAGS(i_destroy, virInterfacePtr, virInterfaceDestroy)
OBJ_XML(i_get_xml_desc, virInterfacePtr, virInterfaceGetXMLDesc)
OBJ_PLAIN(i_undefine, virInterfacePtr, virInterfaceUndefine)
PROP_BOOL(i_active, virInterfacePtr, virInterfaceIsActive)
PROP_CONST_STR(i_mac, virInterfacePtr, virInterfaceGetMACString)
PROP_CONST_STR(i_name, virInterfacePtr, virInterfaceGetName)

static const struct dsvc_method iface_methods[] = {
	{ "Create", i_create },
	{ "Destroy", i_destroy },
	{ "GetXMLDesc", i_get_xml_desc },
	{ "Undefine", i_undefine },
	{ NULL }
};

static const struct dsvc_property iface_properties[] = {
	{ "Active", i_active, NULL },
	{ "MAC", i_mac, NULL },
	{ "Name", i_name, NULL },
	{ NULL }
};

const struct dsvc_iface_table dsvc_interface_table = {
	.name = "org.libvirt.Interface",
	.methods = iface_methods,
	.properties = iface_properties,
};

/* ---- NodeDevice ---- */

OBJ_PLAIN(d_destroy, virNodeDevicePtr, virNodeDeviceDestroy)
OBJ_XML(d_get_xml_desc, virNodeDevicePtr, virNodeDeviceGetXMLDesc)
OBJ_PLAIN(d_reattach, virNodeDevicePtr, virNodeDeviceReAttach)
OBJ_PLAIN(d_reset, virNodeDevicePtr, virNodeDeviceReset)
PROP_CONST_STR(d_name, virNodeDevicePtr, virNodeDeviceGetName)

/* A device without a parent (the computer itself) reports "". */
static GVariant *d_parent(struct dsvc_call *call)
{
	const char *p = virNodeDeviceGetParent(call->obj);

	virResetLastError();
	return g_variant_new_string(p ? p : "");
}

static GVariant *d_detach(struct dsvc_call *call)
{
	const char *driver;
	guint flags;

	g_variant_get(call->args, "(&su)", &driver, &flags);
	return dsvc_done(virNodeDeviceDetachFlags(call->obj, dsvc_empty_to_null(driver), flags));
}

static GVariant *d_list_caps(struct dsvc_call *call)
{
	int n = virNodeDeviceNumOfCaps(call->obj);
	g_autofree char **names = NULL;
	GVariantBuilder b;

	if (n < 0)
		return NULL;
	names = g_new0(char *, n + 1);
	if (n && (n = virNodeDeviceListCaps(call->obj, names, n)) < 0)
		return NULL;
	g_variant_builder_init(&b, G_VARIANT_TYPE("as"));
	for (int i = 0; i < n; i++) {
		g_variant_builder_add(&b, "s", names[i]);
		free(names[i]);
	}
	return g_variant_new("(as)", &b);
}

static const struct dsvc_method nodedev_methods[] = {
	{ "Destroy", d_destroy },
	{ "Detach", d_detach },
	{ "GetXMLDesc", d_get_xml_desc },
	{ "ListCaps", d_list_caps },
	{ "ReAttach", d_reattach },
	{ "Reset", d_reset },
	{ NULL }
};

static const struct dsvc_property nodedev_properties[] = {
	{ "Name", d_name, NULL },
	{ "Parent", d_parent, NULL },
	{ NULL }
};

const struct dsvc_iface_table dsvc_nodedev_table = {
	.name = "org.libvirt.NodeDevice",
	.methods = nodedev_methods,
	.properties = nodedev_properties,
};

/* ---- NWFilter ---- */

OBJ_XML(f_get_xml_desc, virNWFilterPtr, virNWFilterGetXMLDesc)
OBJ_PLAIN(f_undefine, virNWFilterPtr, virNWFilterUndefine)
PROP_CONST_STR(f_name, virNWFilterPtr, virNWFilterGetName)
PROP_UUID(f_uuid, virNWFilterPtr, virNWFilterGetUUIDString)

static const struct dsvc_method nwfilter_methods[] = {
	{ "GetXMLDesc", f_get_xml_desc },
	{ "Undefine", f_undefine },
	{ NULL }
};

static const struct dsvc_property nwfilter_properties[] = {
	{ "Name", f_name, NULL },
	{ "UUID", f_uuid, NULL },
	{ NULL }
};

const struct dsvc_iface_table dsvc_nwfilter_table = {
	.name = "org.libvirt.NWFilter",
	.methods = nwfilter_methods,
	.properties = nwfilter_properties,
};

/* ---- Secret ---- */

OBJ_XML(s_get_xml_desc, virSecretPtr, virSecretGetXMLDesc)
OBJ_PLAIN(s_undefine, virSecretPtr, virSecretUndefine)
PROP_CONST_STR(s_usage_id, virSecretPtr, virSecretGetUsageID)
PROP_UUID(s_uuid, virSecretPtr, virSecretGetUUIDString)

static GVariant *s_usage_type(struct dsvc_call *call)
{
	int t = virSecretGetUsageType(call->obj);

	return t < 0 ? NULL : g_variant_new_int32(t);
}

static GVariant *s_get_value(struct dsvc_call *call)
{
	size_t size = 0;
	unsigned char *value = virSecretGetValue(call->obj, &size, dsvc_flags_arg(call));
	GVariant *v;

	if (!value)
		return NULL;
	v = g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, value, size, 1);
	memset(value, 0, size);	/* don't leave the secret in freed memory */
	free(value);
	return g_variant_new_tuple(&v, 1);
}

static GVariant *s_set_value(struct dsvc_call *call)
{
	g_autoptr(GVariant) arr = NULL;
	const unsigned char *value;
	guint flags;
	gsize n;

	g_variant_get(call->args, "(@ayu)", &arr, &flags);
	value = g_variant_get_fixed_array(arr, &n, 1);
	return dsvc_done(virSecretSetValue(call->obj, value, n, flags));
}

static const struct dsvc_method secret_methods[] = {
	{ "GetValue", s_get_value },
	{ "GetXMLDesc", s_get_xml_desc },
	{ "SetValue", s_set_value },
	{ "Undefine", s_undefine },
	{ NULL }
};

static const struct dsvc_property secret_properties[] = {
	{ "UUID", s_uuid, NULL },
	{ "UsageID", s_usage_id, NULL },
	{ "UsageType", s_usage_type, NULL },
	{ NULL }
};

const struct dsvc_iface_table dsvc_secret_table = {
	.name = "org.libvirt.Secret",
	.methods = secret_methods,
	.properties = secret_properties,
};
