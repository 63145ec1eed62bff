// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The libvirt objects other than domains and snapshots, served the same way libvirt-dbus
 * does: networks, nwfilters, secrets and storage pools at <connect>/<dir>/_<uuid with
 * '_'>; host interfaces, node devices and storage volumes at <connect>/<dir>/<escaped MAC,
 * name or key>. One table says, per kind, how to find an object from its node name and
 * how to name it.
 */
#include <stdlib.h>
#include <string.h>
#include "dsvc.h"

struct kind {
	const char *dir;
	gboolean by_uuid;	/* node is _<uuid>; else the escaped key */
	void *(*lookup)(virConnectPtr conn, const char *key);
	char *(*key)(void *obj);	/* uuid or key string, g_free'd */
	int (*list)(virConnectPtr conn, void ***objs);
	void (*free)(void *obj);
};

/* libvirt's object APIs have one shape per kind; these macros adapt them to the table. */
#define UUID_KIND(name, type, lookup_fn, uuid_fn, list_fn, free_fn) \
	static void *name##_lookup(virConnectPtr c, const char *k) { return lookup_fn(c, k); } \
	static char *name##_key(void *o) \
	{ \
		char buf[VIR_UUID_STRING_BUFLEN]; \
		return uuid_fn((type)o, buf) < 0 ? NULL : g_strdup(buf); \
	} \
	static int name##_list(virConnectPtr c, void ***objs) \
	{ return list_fn(c, (type **)objs, 0); } \
	static void name##_free(void *o) { free_fn((type)o); }

#define KEY_KIND(name, type, lookup_fn, key_fn, free_fn) \
	static void *name##_lookup(virConnectPtr c, const char *k) { return lookup_fn(c, k); } \
	static char *name##_key(void *o) { return g_strdup(key_fn((type)o)); } \
	static void name##_free(void *o) { free_fn((type)o); }

UUID_KIND(network, virNetworkPtr, virNetworkLookupByUUIDString, virNetworkGetUUIDString,
	  virConnectListAllNetworks, virNetworkFree)
UUID_KIND(pool, virStoragePoolPtr, virStoragePoolLookupByUUIDString,
	  virStoragePoolGetUUIDString, virConnectListAllStoragePools, virStoragePoolFree)
UUID_KIND(nwfilter, virNWFilterPtr, virNWFilterLookupByUUIDString, virNWFilterGetUUIDString,
	  virConnectListAllNWFilters, virNWFilterFree)
UUID_KIND(secret, virSecretPtr, virSecretLookupByUUIDString, virSecretGetUUIDString,
	  virConnectListAllSecrets, virSecretFree)
KEY_KIND(iface, virInterfacePtr, virInterfaceLookupByMACString, virInterfaceGetMACString,
	 virInterfaceFree)
KEY_KIND(nodedev, virNodeDevicePtr, virNodeDeviceLookupByName, virNodeDeviceGetName,
	 virNodeDeviceFree)
KEY_KIND(vol, virStorageVolPtr, virStorageVolLookupByKey, virStorageVolGetKey,
	 virStorageVolFree)

static int iface_list(virConnectPtr c, void ***objs)
{
	return virConnectListAllInterfaces(c, (virInterfacePtr **)objs, 0);
}

static int nodedev_list(virConnectPtr c, void ***objs)
{
	return virConnectListAllNodeDevices(c, (virNodeDevicePtr **)objs, 0);
}

/* Volumes have no connection-wide list: gather every pool's. */
static int vol_list(virConnectPtr c, void ***objs)
{
	virStoragePoolPtr *pools = NULL;
	GPtrArray *all = g_ptr_array_new();
	int n = virConnectListAllStoragePools(c, &pools, 0);

	for (int i = 0; i < n; i++) {
		virStorageVolPtr *vols = NULL;
		int m = virStoragePoolListAllVolumes(pools[i], &vols, 0);

		for (int j = 0; j < m; j++)
			g_ptr_array_add(all, vols[j]);
		free(vols);
		virStoragePoolFree(pools[i]);
	}
	free(pools);
	n = all->len;
	*objs = (void **)g_ptr_array_free(all, FALSE);
	return n;
}

#define KIND(name, d, uuid) { d, uuid, name##_lookup, name##_key, name##_list, name##_free }

static const struct kind kinds[DSVC_IFACE_COUNT] = {
	[DSVC_IFACE_NETWORK] = KIND(network, "network", TRUE),
	[DSVC_IFACE_STORAGEPOOL] = KIND(pool, "storagepool", TRUE),
	[DSVC_IFACE_STORAGEVOL] = KIND(vol, "storagevol", FALSE),
	[DSVC_IFACE_INTERFACE] = KIND(iface, "interface", FALSE),
	[DSVC_IFACE_NODEDEV] = KIND(nodedev, "nodedev", FALSE),
	[DSVC_IFACE_NWFILTER] = KIND(nwfilter, "nwfilter", TRUE),
	[DSVC_IFACE_SECRET] = KIND(secret, "secret", TRUE),
};

const char *dsvc_object_dir(enum dsvc_iface iface)
{
	return kinds[iface].dir;
}

void dsvc_object_free(enum dsvc_iface iface, void *obj)
{
	kinds[iface].free(obj);
}

static char *node_name(enum dsvc_iface iface, void *obj)
{
	g_autofree char *key = kinds[iface].key(obj);

	if (!key)
		return NULL;
	return kinds[iface].by_uuid ? dsvc_uuid_node(key) : dsvc_encode(key);
}

char *dsvc_object_path(struct dsvc_connect *c, enum dsvc_iface iface, void *obj)
{
	g_autofree char *node = node_name(iface, obj);

	return node ? g_strdup_printf("%s/%s/%s", c->path, kinds[iface].dir, node) : NULL;
}

/* "(o)" for a looked-up or created object (NULL: libvirt's error); frees obj. */
GVariant *dsvc_object_result(struct dsvc_call *call, enum dsvc_iface iface, void *obj)
{
	g_autofree char *path = NULL;

	if (!obj)
		return NULL;
	path = dsvc_object_path(call->connect, iface, obj);
	kinds[iface].free(obj);
	return path ? g_variant_new("(o)", path) : NULL;
}

/* "(ao)" for a list libvirt returned (n < 0: its error); frees the list. */
GVariant *dsvc_object_list(struct dsvc_call *call, enum dsvc_iface iface, void **objs, int n)
{
	GVariantBuilder b;

	if (n < 0)
		return NULL;
	g_variant_builder_init(&b, G_VARIANT_TYPE("ao"));
	for (int i = 0; i < n; i++) {
		g_autofree char *path = dsvc_object_path(call->connect, iface, objs[i]);

		if (path)
			g_variant_builder_add(&b, "o", path);
		kinds[iface].free(objs[i]);
	}
	free(objs);
	return g_variant_new("(ao)", &b);
}

int dsvc_object_resolve(struct dsvc_call *call)
{
	const struct kind *k = &kinds[call->iface];
	char uuid[VIR_UUID_STRING_BUFLEN];
	g_autofree char *key = NULL;

	if (k->by_uuid && !dsvc_node_uuid(call->node, uuid)) {
		dsvc_fail(call, "no %s at object path %s/%s/%s", k->dir, call->connect->path,
			  k->dir, call->node);
		return -1;
	}
	key = k->by_uuid ? g_strdup(uuid) : dsvc_decode(call->node);
	if (!key) {
		dsvc_fail(call, "no %s at object path %s/%s/%s", k->dir, call->connect->path,
			  k->dir, call->node);
		return -1;
	}
	call->obj = k->lookup(call->conn, key);
	return call->obj ? 0 : -1;
}

/* ---- GDBus subtrees, one per kind ---- */

struct subtree {
	struct dsvc_connect *connect;
	enum dsvc_iface iface;
};

static void object_method_call(GDBusConnection *bus, const char *sender, const char *path,
			       const char *iface, const char *method, GVariant *args,
			       GDBusMethodInvocation *inv, gpointer data)
{
	struct subtree *s = data;

	dsvc_dispatch(s->connect, s->iface, strrchr(path, '/') + 1, iface, method, args, inv);
}

static const GDBusInterfaceVTable object_vtable = { .method_call = object_method_call };

static char **object_enumerate(GDBusConnection *bus, const char *sender, const char *path,
			       gpointer data)
{
	struct subtree *s = data;
	GPtrArray *nodes = g_ptr_array_new();
	virConnectPtr conn = dsvc_connect_get(s->connect);
	void **objs = NULL;
	int n = conn ? kinds[s->iface].list(conn, &objs) : 0;

	for (int i = 0; i < n; i++) {
		char *node = node_name(s->iface, objs[i]);

		if (node)
			g_ptr_array_add(nodes, node);
		kinds[s->iface].free(objs[i]);
	}
	free(objs);
	if (conn)
		virConnectClose(conn);
	virResetLastError();
	g_ptr_array_add(nodes, NULL);
	return (char **)g_ptr_array_free(nodes, FALSE);
}

static GDBusInterfaceInfo **object_introspect(GDBusConnection *bus, const char *sender,
					      const char *path, const char *node, gpointer data)
{
	struct subtree *s = data;
	GDBusInterfaceInfo **infos;

	if (!node)
		return NULL;
	infos = g_new0(GDBusInterfaceInfo *, 2);
	infos[0] = g_dbus_interface_info_ref(dsvc_iface_info(s->iface));
	return infos;
}

static const GDBusInterfaceVTable *object_dispatch(GDBusConnection *bus, const char *sender,
						   const char *path, const char *iface,
						   const char *node, gpointer *out_data,
						   gpointer data)
{
	*out_data = data;
	return node ? &object_vtable : NULL;
}

static const GDBusSubtreeVTable object_subtree = {
	.enumerate = object_enumerate,
	.introspect = object_introspect,
	.dispatch = object_dispatch,
};

int dsvc_objects_register(struct dsvc_connect *c, GDBusConnection *bus, GError **error)
{
	for (int i = DSVC_IFACE_FIRST_OBJECT; i < DSVC_IFACE_COUNT; i++) {
		struct subtree *s = g_new0(struct subtree, 1);
		g_autofree char *path = g_strdup_printf("%s/%s", c->path, kinds[i].dir);

		s->connect = c;
		s->iface = i;
		if (!g_dbus_connection_register_subtree(
			    bus, path, &object_subtree,
			    G_DBUS_SUBTREE_FLAGS_DISPATCH_TO_UNENUMERATED_NODES, s, g_free, error))
			return -1;
	}
	return 0;
}
