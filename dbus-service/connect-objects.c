// SPDX-License-Identifier: GPL-2.0-or-later
/* org.libvirt.Connect: the methods about networks, storage, host interfaces, node devices,
 * nwfilters and secrets (domains are in connect-methods.c). */
#include "dsvc.h"

#define RESULT(iface, expr) dsvc_object_result(call, iface, (void *)(expr))

/* (s) -> object */
#define LOOKUP_1S(fn_name, iface, api) \
	static GVariant *fn_name(struct dsvc_call *call) \
	{ \
		const char *s; \
		g_variant_get(call->args, "(&s)", &s); \
		return RESULT(iface, api(call->conn, s)); \
	}
/* (s, u flags) -> object */
#define CREATE_SU(fn_name, iface, api) \
	static GVariant *fn_name(struct dsvc_call *call) \
	{ \
		const char *s; guint flags; \
		g_variant_get(call->args, "(&su)", &s, &flags); \
		return RESULT(iface, api(call->conn, s, flags)); \
	}
/* (u flags) -> list of objects */
#define LIST(fn_name, iface, type, api) \
	static GVariant *fn_name(struct dsvc_call *call) \
	{ \
		type *objs = NULL; guint flags; int n; \
		g_variant_get(call->args, "(u)", &flags); \
		n = api(call->conn, &objs, flags); \
		return dsvc_object_list(call, iface, (void **)objs, n); \
	}

CREATE_SU(c_interface_define_xml, DSVC_IFACE_INTERFACE, virInterfaceDefineXML)
LOOKUP_1S(c_interface_lookup_by_mac, DSVC_IFACE_INTERFACE, virInterfaceLookupByMACString)
LOOKUP_1S(c_interface_lookup_by_name, DSVC_IFACE_INTERFACE, virInterfaceLookupByName)
LIST(c_list_interfaces, DSVC_IFACE_INTERFACE, virInterfacePtr, virConnectListAllInterfaces)
LIST(c_list_networks, DSVC_IFACE_NETWORK, virNetworkPtr, virConnectListAllNetworks)
LIST(c_list_node_devices, DSVC_IFACE_NODEDEV, virNodeDevicePtr,
     virConnectListAllNodeDevices)
LIST(c_list_nwfilters, DSVC_IFACE_NWFILTER, virNWFilterPtr, virConnectListAllNWFilters)
LIST(c_list_secrets, DSVC_IFACE_SECRET, virSecretPtr, virConnectListAllSecrets)
LIST(c_list_storage_pools, DSVC_IFACE_STORAGEPOOL, virStoragePoolPtr,
     virConnectListAllStoragePools)
LOOKUP_1S(c_network_create_xml, DSVC_IFACE_NETWORK, virNetworkCreateXML)
LOOKUP_1S(c_network_define_xml, DSVC_IFACE_NETWORK, virNetworkDefineXML)
LOOKUP_1S(c_network_lookup_by_name, DSVC_IFACE_NETWORK, virNetworkLookupByName)
LOOKUP_1S(c_network_lookup_by_uuid, DSVC_IFACE_NETWORK, virNetworkLookupByUUIDString)
CREATE_SU(c_node_device_create_xml, DSVC_IFACE_NODEDEV, virNodeDeviceCreateXML)
LOOKUP_1S(c_node_device_lookup_by_name, DSVC_IFACE_NODEDEV, virNodeDeviceLookupByName)
LOOKUP_1S(c_nwfilter_define_xml, DSVC_IFACE_NWFILTER, virNWFilterDefineXML)
LOOKUP_1S(c_nwfilter_lookup_by_name, DSVC_IFACE_NWFILTER, virNWFilterLookupByName)
LOOKUP_1S(c_nwfilter_lookup_by_uuid, DSVC_IFACE_NWFILTER, virNWFilterLookupByUUIDString)
CREATE_SU(c_secret_define_xml, DSVC_IFACE_SECRET, virSecretDefineXML)
LOOKUP_1S(c_secret_lookup_by_uuid, DSVC_IFACE_SECRET, virSecretLookupByUUIDString)
CREATE_SU(c_storage_pool_create_xml, DSVC_IFACE_STORAGEPOOL, virStoragePoolCreateXML)
CREATE_SU(c_storage_pool_define_xml, DSVC_IFACE_STORAGEPOOL, virStoragePoolDefineXML)
LOOKUP_1S(c_storage_pool_lookup_by_name, DSVC_IFACE_STORAGEPOOL, virStoragePoolLookupByName)
LOOKUP_1S(c_storage_pool_lookup_by_uuid, DSVC_IFACE_STORAGEPOOL,
	  virStoragePoolLookupByUUIDString)
LOOKUP_1S(c_storage_vol_lookup_by_key, DSVC_IFACE_STORAGEVOL, virStorageVolLookupByKey)
LOOKUP_1S(c_storage_vol_lookup_by_path, DSVC_IFACE_STORAGEVOL, virStorageVolLookupByPath)

static GVariant *c_node_device_lookup_scsi_host_by_wwn(struct dsvc_call *call)
{
	const char *wwnn, *wwpn;
	guint flags;

	g_variant_get(call->args, "(&s&su)", &wwnn, &wwpn, &flags);
	return RESULT(DSVC_IFACE_NODEDEV,
		      virNodeDeviceLookupSCSIHostByWWN(call->conn, wwnn, wwpn, flags));
}

static GVariant *c_secret_lookup_by_usage(struct dsvc_call *call)
{
	const char *id;
	gint32 type;

	g_variant_get(call->args, "(i&s)", &type, &id);
	return RESULT(DSVC_IFACE_SECRET, virSecretLookupByUsage(call->conn, type, id));
}

const struct dsvc_method dsvc_connect_object_methods[] = {
	{ "InterfaceDefineXML", c_interface_define_xml },
	{ "InterfaceLookupByMAC", c_interface_lookup_by_mac },
	{ "InterfaceLookupByName", c_interface_lookup_by_name },
	{ "ListInterfaces", c_list_interfaces },
	{ "ListNetworks", c_list_networks },
	{ "ListNodeDevices", c_list_node_devices },
	{ "ListNWFilters", c_list_nwfilters },
	{ "ListSecrets", c_list_secrets },
	{ "ListStoragePools", c_list_storage_pools },
	{ "NetworkCreateXML", c_network_create_xml },
	{ "NetworkDefineXML", c_network_define_xml },
	{ "NetworkLookupByName", c_network_lookup_by_name },
	{ "NetworkLookupByUUID", c_network_lookup_by_uuid },
	{ "NodeDeviceCreateXML", c_node_device_create_xml },
	{ "NodeDeviceLookupByName", c_node_device_lookup_by_name },
	{ "NodeDeviceLookupSCSIHostByWWN", c_node_device_lookup_scsi_host_by_wwn },
	{ "NWFilterDefineXML", c_nwfilter_define_xml },
	{ "NWFilterLookupByName", c_nwfilter_lookup_by_name },
	{ "NWFilterLookupByUUID", c_nwfilter_lookup_by_uuid },
	{ "SecretDefineXML", c_secret_define_xml },
	{ "SecretLookupByUUID", c_secret_lookup_by_uuid },
	{ "SecretLookupByUsage", c_secret_lookup_by_usage },
	{ "StoragePoolCreateXML", c_storage_pool_create_xml },
	{ "StoragePoolDefineXML", c_storage_pool_define_xml },
	{ "StoragePoolLookupByName", c_storage_pool_lookup_by_name },
	{ "StoragePoolLookupByUUID", c_storage_pool_lookup_by_uuid },
	{ "StorageVolLookupByKey", c_storage_vol_lookup_by_key },
	{ "StorageVolLookupByPath", c_storage_vol_lookup_by_path },
	{ NULL }
};
