// SPDX-License-Identifier: GPL-2.0-or-later
/* The introspection data, compiled in from the XML files in interfaces/ (also installed to
 * /usr/share/dbus-1/interfaces for clients that want it). */
#include "dsvc.h"

static const char *const resource_names[DSVC_IFACE_COUNT] = {
	[DSVC_IFACE_CONNECT] = "/org/domus/dbusd/org.libvirt.Connect.xml",
	[DSVC_IFACE_DOMAIN] = "/org/domus/dbusd/org.libvirt.Domain.xml",
	[DSVC_IFACE_SNAPSHOT] = "/org/domus/dbusd/org.libvirt.DomainSnapshot.xml",
	[DSVC_IFACE_NETWORK] = "/org/domus/dbusd/org.libvirt.Network.xml",
	[DSVC_IFACE_STORAGEPOOL] = "/org/domus/dbusd/org.libvirt.StoragePool.xml",
	[DSVC_IFACE_STORAGEVOL] = "/org/domus/dbusd/org.libvirt.StorageVol.xml",
	[DSVC_IFACE_INTERFACE] = "/org/domus/dbusd/org.libvirt.Interface.xml",
	[DSVC_IFACE_NODEDEV] = "/org/domus/dbusd/org.libvirt.NodeDevice.xml",
	[DSVC_IFACE_NWFILTER] = "/org/domus/dbusd/org.libvirt.NWFilter.xml",
	[DSVC_IFACE_SECRET] = "/org/domus/dbusd/org.libvirt.Secret.xml",
};

GDBusInterfaceInfo *dsvc_iface_info(enum dsvc_iface iface)
{
	static GDBusNodeInfo *nodes[DSVC_IFACE_COUNT];
	static GMutex lock;
	g_autoptr(GBytes) bytes = NULL;
	g_autoptr(GError) error = NULL;
	GDBusInterfaceInfo *info;

	g_mutex_lock(&lock);
	if (!nodes[iface]) {
		bytes = g_resources_lookup_data(resource_names[iface], 0, &error);
		if (bytes)
			nodes[iface] = g_dbus_node_info_new_for_xml(
				g_bytes_get_data(bytes, NULL), &error);
		if (!nodes[iface])	/* the XML is built in: this is a build defect */
			g_error("introspection data %s: %s", resource_names[iface],
				error->message);
		g_dbus_interface_info_cache_build(nodes[iface]->interfaces[0]);
	}
	info = nodes[iface]->interfaces[0];
	g_mutex_unlock(&lock);
	return info;
}
