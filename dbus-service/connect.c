// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * One served libvirt URI: its libvirt connection and its objects on the bus.
 *
 * The connection is opened at start-up and reopened when it closes (e.g. virtdomusd
 * restarted) by a retry timer and on demand by the next call, so signals flow without a
 * client having to touch the object first.
 */
#include <string.h>
#include "dsvc.h"

static void on_close_cb(virConnectPtr conn, int reason, void *opaque);

struct dsvc_connect *dsvc_connect_new(const char *uri, const char *path)
{
	struct dsvc_connect *c = g_new0(struct dsvc_connect, 1);

	c->uri = g_strdup(uri);
	c->path = g_strdup(path);
	c->domain_path = g_strdup_printf("%s/domain", path);
	c->snapshot_path = g_strdup_printf("%s/domainsnapshot", path);
	c->lifecycle_cb = -1;
	c->domain_cbs = g_array_new(FALSE, FALSE, sizeof(int));
	c->object_cbs = g_array_new(FALSE, FALSE, sizeof(struct dsvc_event_cb));
	g_mutex_init(&c->lock);
	return c;
}

/* Called with c->lock held: drop the connection (its event callbacks with it). Workers
 * holding a reference keep using it until they are done. */
static void drop_locked(struct dsvc_connect *c)
{
	if (!c->conn)
		return;
	dsvc_events_deregister(c);
	virConnectUnregisterCloseCallback(c->conn, on_close_cb);
	virConnectClose(c->conn);
	c->conn = NULL;
	virResetLastError();
}

/* At exit. The struct itself stays allocated: libvirt's event thread may still be
 * running a callback that points at it, and the process is about to end anyway. */
void dsvc_connect_close(struct dsvc_connect *c)
{
	g_mutex_lock(&c->lock);
	drop_locked(c);
	g_mutex_unlock(&c->lock);
}

struct closed {
	struct dsvc_connect *connect;
	virConnectPtr conn;
};

/* In the main loop, not in the close callback: libvirt may hold its own locks there,
 * and a worker holding c->lock may be waiting for them. */
static gboolean handle_close(gpointer data)
{
	struct closed *cl = data;
	struct dsvc_connect *c = cl->connect;

	g_mutex_lock(&c->lock);
	if (c->conn == cl->conn) {
		drop_locked(c);
		c->warned = FALSE;
	}
	g_mutex_unlock(&c->lock);
	virConnectClose(cl->conn);	/* the reference taken in on_close_cb */
	g_free(cl);
	return G_SOURCE_REMOVE;
}

static void on_close_cb(virConnectPtr conn, int reason, void *opaque)
{
	struct closed *cl = g_new0(struct closed, 1);

	g_message("%s: connection closed (reason %d); reconnecting",
		  ((struct dsvc_connect *)opaque)->uri, reason);
	cl->connect = opaque;
	cl->conn = conn;
	virConnectRef(conn);
	g_idle_add(handle_close, cl);
}

/* Called with c->lock held. */
static void open_locked(struct dsvc_connect *c)
{
	virConnectPtr conn;

	if (c->conn && virConnectIsAlive(c->conn) == 1)
		return;
	drop_locked(c);	/* dead, and its close callback has not run yet */
	conn = virConnectOpen(c->uri);
	if (!conn) {
		if (!c->warned)
			g_warning("%s: cannot open: %s (will retry)", c->uri,
				  virGetLastErrorMessage());
		c->warned = TRUE;
		return;
	}
	/* Keepalive makes a dead remote daemon show up as a closed connection. It is not
	 * supported by local drivers such as test:///, which is fine. */
	if (virConnectSetKeepAlive(conn, 5, 3) < 0)
		virResetLastError();
	virConnectRegisterCloseCallback(conn, on_close_cb, c, NULL);
	c->conn = conn;
	c->warned = FALSE;
	dsvc_events_register(c);
	g_message("%s: connected", c->uri);
}

void dsvc_connect_try_open(struct dsvc_connect *c)
{
	g_mutex_lock(&c->lock);
	open_locked(c);
	g_mutex_unlock(&c->lock);
}

/* A reference to the open connection, or NULL with libvirt's error set. */
virConnectPtr dsvc_connect_get(struct dsvc_connect *c)
{
	virConnectPtr conn = NULL;

	g_mutex_lock(&c->lock);
	open_locked(c);
	if (c->conn && virConnectRef(c->conn) == 0)
		conn = c->conn;
	g_mutex_unlock(&c->lock);
	return conn;
}

char *dsvc_domain_path(struct dsvc_connect *c, virDomainPtr dom)
{
	char uuid[VIR_UUID_STRING_BUFLEN];
	g_autofree char *node = NULL;

	if (virDomainGetUUIDString(dom, uuid) < 0)
		return NULL;
	node = dsvc_uuid_node(uuid);
	return g_strdup_printf("%s/%s", c->domain_path, node);
}

char *dsvc_snapshot_path(struct dsvc_connect *c, virDomainSnapshotPtr snap)
{
	char uuid[VIR_UUID_STRING_BUFLEN];
	g_autofree char *node = NULL;
	g_autofree char *name = NULL;

	if (virDomainGetUUIDString(virDomainSnapshotGetDomain(snap), uuid) < 0)
		return NULL;
	node = dsvc_uuid_node(uuid);
	name = dsvc_encode(virDomainSnapshotGetName(snap));
	return g_strdup_printf("%s/%s_%s", c->snapshot_path, node, name);
}

/* ---- GDBus registration ---- */

static void connect_method_call(GDBusConnection *bus, const char *sender, const char *path,
				const char *iface, const char *method, GVariant *args,
				GDBusMethodInvocation *inv, gpointer data)
{
	dsvc_dispatch(data, DSVC_IFACE_CONNECT, NULL, iface, method, args, inv);
}

static void domain_method_call(GDBusConnection *bus, const char *sender, const char *path,
			       const char *iface, const char *method, GVariant *args,
			       GDBusMethodInvocation *inv, gpointer data)
{
	dsvc_dispatch(data, DSVC_IFACE_DOMAIN, strrchr(path, '/') + 1, iface, method, args,
		      inv);
}

static void snapshot_method_call(GDBusConnection *bus, const char *sender, const char *path,
				 const char *iface, const char *method, GVariant *args,
				 GDBusMethodInvocation *inv, gpointer data)
{
	dsvc_dispatch(data, DSVC_IFACE_SNAPSHOT, strrchr(path, '/') + 1, iface, method, args,
		      inv);
}

static const GDBusInterfaceVTable connect_vtable = { .method_call = connect_method_call };
static const GDBusInterfaceVTable domain_vtable = { .method_call = domain_method_call };
static const GDBusInterfaceVTable snapshot_vtable = { .method_call = snapshot_method_call };

static void add_domain_nodes(GPtrArray *nodes, virConnectPtr conn)
{
	virDomainPtr *doms = NULL;
	int n = virConnectListAllDomains(conn, &doms, 0);

	for (int i = 0; i < n; i++) {
		char uuid[VIR_UUID_STRING_BUFLEN];

		if (virDomainGetUUIDString(doms[i], uuid) == 0)
			g_ptr_array_add(nodes, dsvc_uuid_node(uuid));
		virDomainFree(doms[i]);
	}
	free(doms);
}

static void add_snapshot_nodes(GPtrArray *nodes, struct dsvc_connect *c, virConnectPtr conn)
{
	virDomainPtr *doms = NULL;
	int n = virConnectListAllDomains(conn, &doms, 0);

	for (int i = 0; i < n; i++) {
		virDomainSnapshotPtr *snaps = NULL;
		int m = virDomainListAllSnapshots(doms[i], &snaps, 0);

		for (int j = 0; j < m; j++) {
			char *path = dsvc_snapshot_path(c, snaps[j]);

			if (path)
				g_ptr_array_add(nodes, g_strdup(strrchr(path, '/') + 1));
			g_free(path);
			virDomainSnapshotFree(snaps[j]);
		}
		free(snaps);
		virDomainFree(doms[i]);
	}
	free(doms);
}

/* Called for introspection only (calls go to unenumerated nodes directly). */
static char **enumerate(GDBusConnection *bus, const char *sender, const char *path,
			gpointer data, gboolean snapshots)
{
	struct dsvc_connect *c = data;
	GPtrArray *nodes = g_ptr_array_new();
	virConnectPtr conn = dsvc_connect_get(c);

	if (conn) {
		if (snapshots)
			add_snapshot_nodes(nodes, c, conn);
		else
			add_domain_nodes(nodes, conn);
		virConnectClose(conn);
	}
	virResetLastError();
	g_ptr_array_add(nodes, NULL);
	return (char **)g_ptr_array_free(nodes, FALSE);
}

static char **domain_enumerate(GDBusConnection *bus, const char *sender, const char *path,
			       gpointer data)
{
	return enumerate(bus, sender, path, data, FALSE);
}

static char **snapshot_enumerate(GDBusConnection *bus, const char *sender, const char *path,
				 gpointer data)
{
	return enumerate(bus, sender, path, data, TRUE);
}

static GDBusInterfaceInfo **one_iface(const char *node, enum dsvc_iface iface)
{
	GDBusInterfaceInfo **infos;

	if (!node)	/* the container itself has no interface */
		return NULL;
	infos = g_new0(GDBusInterfaceInfo *, 2);
	infos[0] = g_dbus_interface_info_ref(dsvc_iface_info(iface));
	return infos;
}

static GDBusInterfaceInfo **domain_introspect(GDBusConnection *bus, const char *sender,
					      const char *path, const char *node, gpointer data)
{
	return one_iface(node, DSVC_IFACE_DOMAIN);
}

static GDBusInterfaceInfo **snapshot_introspect(GDBusConnection *bus, const char *sender,
						const char *path, const char *node,
						gpointer data)
{
	return one_iface(node, DSVC_IFACE_SNAPSHOT);
}

static const GDBusInterfaceVTable *domain_dispatch(GDBusConnection *bus, const char *sender,
						   const char *path, const char *iface,
						   const char *node, gpointer *out_data,
						   gpointer data)
{
	*out_data = data;
	return node ? &domain_vtable : NULL;
}

static const GDBusInterfaceVTable *snapshot_dispatch(GDBusConnection *bus,
						     const char *sender, const char *path,
						     const char *iface, const char *node,
						     gpointer *out_data, gpointer data)
{
	*out_data = data;
	return node ? &snapshot_vtable : NULL;
}

static const GDBusSubtreeVTable domain_subtree = {
	.enumerate = domain_enumerate,
	.introspect = domain_introspect,
	.dispatch = domain_dispatch,
};

static const GDBusSubtreeVTable snapshot_subtree = {
	.enumerate = snapshot_enumerate,
	.introspect = snapshot_introspect,
	.dispatch = snapshot_dispatch,
};

int dsvc_connect_register(struct dsvc_connect *c, GDBusConnection *bus, GError **error)
{
	const GDBusSubtreeFlags f = G_DBUS_SUBTREE_FLAGS_DISPATCH_TO_UNENUMERATED_NODES;

	c->bus = bus;
	if (!g_dbus_connection_register_object(bus, c->path,
					       dsvc_iface_info(DSVC_IFACE_CONNECT),
					       &connect_vtable, c, NULL, error))
		return -1;
	if (!g_dbus_connection_register_subtree(bus, c->domain_path, &domain_subtree, f, c,
						NULL, error))
		return -1;
	if (!g_dbus_connection_register_subtree(bus, c->snapshot_path, &snapshot_subtree, f, c,
						NULL, error))
		return -1;
	return dsvc_objects_register(c, bus, error);
}
