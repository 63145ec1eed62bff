// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Method dispatch: GDBus hands every call (org.freedesktop.DBus.Properties included,
 * because the vtables have no get/set_property) to dsvc_dispatch() in the main thread,
 * which queues it on a thread pool. A worker resolves the target object with libvirt,
 * runs the handler from the interface's table and replies. Failures are replied as
 * org.libvirt.Error carrying libvirt's own message.
 */
#include <stdarg.h>
#include <string.h>
#include "dsvc.h"

static GThreadPool *pool;

static const struct dsvc_iface_table *tables[DSVC_IFACE_COUNT] = {
	[DSVC_IFACE_CONNECT] = &dsvc_connect_table,
	[DSVC_IFACE_DOMAIN] = &dsvc_domain_table,
	[DSVC_IFACE_SNAPSHOT] = &dsvc_snapshot_table,
	[DSVC_IFACE_NETWORK] = &dsvc_network_table,
	[DSVC_IFACE_STORAGEPOOL] = &dsvc_storagepool_table,
	[DSVC_IFACE_STORAGEVOL] = &dsvc_storagevol_table,
	[DSVC_IFACE_INTERFACE] = &dsvc_interface_table,
	[DSVC_IFACE_NODEDEV] = &dsvc_nodedev_table,
	[DSVC_IFACE_NWFILTER] = &dsvc_nwfilter_table,
	[DSVC_IFACE_SECRET] = &dsvc_secret_table,
};

GVariant *dsvc_fail(struct dsvc_call *call, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	g_free(call->error);
	call->error = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	return NULL;
}

/* The same words libvirt uses for VIR_ERR_NO_SUPPORT, so clients that look for them (as
 * libvirt-dbus's own tests do) treat our gaps exactly like a driver's. */
GVariant *dsvc_unsupported(struct dsvc_call *call)
{
	return dsvc_fail(call, "this function is not supported by the connection driver: %s.%s",
			 tables[call->iface]->name, call->method);
}

static void call_free(struct dsvc_call *call)
{
	if (call->obj)
		dsvc_object_free(call->iface, call->obj);
	if (call->snap)
		virDomainSnapshotFree(call->snap);
	if (call->dom)
		virDomainFree(call->dom);
	if (call->conn)
		virConnectClose(call->conn);
	g_clear_object(&call->out_fds);
	g_clear_object(&call->invocation);
	g_variant_unref(call->args);
	g_free(call->node);
	g_free(call->method);
	g_free(call->error);
	g_free(call);
}

static int resolve_snapshot(struct dsvc_call *call)
{
	char uuid[VIR_UUID_STRING_BUFLEN];
	g_autofree char *name = NULL;

	/* node: _<domain uuid with '_'>_<escaped snapshot name> */
	if (!dsvc_node_uuid_prefix(call->node, uuid) ||
	    call->node[VIR_UUID_STRING_BUFLEN] != '_') {
		dsvc_fail(call, "no domain snapshot at object path %s/%s",
			  call->connect->snapshot_path, call->node);
		return -1;
	}
	call->dom = virDomainLookupByUUIDString(call->conn, uuid);
	if (!call->dom)
		return -1;
	name = dsvc_decode(call->node + VIR_UUID_STRING_BUFLEN + 1);
	if (!name) {
		dsvc_fail(call, "no domain snapshot at object path %s/%s",
			  call->connect->snapshot_path, call->node);
		return -1;
	}
	call->snap = virDomainSnapshotLookupByName(call->dom, name, 0);
	return call->snap ? 0 : -1;
}

/* Find the libvirt objects the call is about; -1 with an error set if they are gone. */
static int resolve(struct dsvc_call *call)
{
	char uuid[VIR_UUID_STRING_BUFLEN];

	call->conn = dsvc_connect_get(call->connect);
	if (!call->conn)
		return -1;
	switch (call->iface) {
	case DSVC_IFACE_CONNECT:
		return 0;
	case DSVC_IFACE_DOMAIN:
		if (!dsvc_node_uuid(call->node, uuid)) {
			dsvc_fail(call, "no domain at object path %s/%s",
				  call->connect->domain_path, call->node);
			return -1;
		}
		call->dom = virDomainLookupByUUIDString(call->conn, uuid);
		return call->dom ? 0 : -1;
	case DSVC_IFACE_SNAPSHOT:
		return resolve_snapshot(call);
	default:
		return dsvc_object_resolve(call);
	}
}

static const struct dsvc_property *find_property(const struct dsvc_iface_table *t,
						 const char *name)
{
	for (const struct dsvc_property *p = t->properties; p && p->name; p++)
		if (!strcmp(p->name, name))
			return p;
	return NULL;
}

static GVariant *get_all(struct dsvc_call *call, const struct dsvc_iface_table *t)
{
	GVariantBuilder b;

	g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
	for (const struct dsvc_property *p = t->properties; p && p->name; p++) {
		GVariant *v = p->get(call);

		if (!v) {
			g_variant_builder_clear(&b);
			return NULL;
		}
		g_variant_builder_add(&b, "{sv}", p->name, v);
	}
	return g_variant_new("(a{sv})", &b);
}

/* org.freedesktop.DBus.Properties.Get/GetAll/Set on one of our interfaces. GDBus has
 * already checked that the property exists, its access and the value's type. */
static GVariant *run_properties(struct dsvc_call *call)
{
	const struct dsvc_iface_table *t = tables[call->iface];
	const char *iface, *name;
	const struct dsvc_property *p;
	GVariant *v;

	if (!strcmp(call->method, "GetAll"))
		return get_all(call, t);
	g_variant_get_child(call->args, 0, "&s", &iface);
	g_variant_get_child(call->args, 1, "&s", &name);
	p = find_property(t, name);
	if (!p)
		return dsvc_fail(call, "no property %s on %s", name, t->name);
	if (!strcmp(call->method, "Get")) {
		v = p->get(call);
		return v ? g_variant_new("(v)", v) : NULL;
	}
	if (!p->set)
		return dsvc_fail(call, "property %s.%s is read-only", t->name, name);
	g_variant_get_child(call->args, 2, "v", &v);
	if (p->set(call, v) < 0) {
		g_variant_unref(v);
		return NULL;
	}
	g_variant_unref(v);
	return g_variant_new("()");
}

static GVariant *run_method(struct dsvc_call *call)
{
	const struct dsvc_iface_table *t = tables[call->iface];

	for (const struct dsvc_method *m = t->methods; m->name; m++)
		if (!strcmp(m->name, call->method))
			return m->fn(call);
	for (const struct dsvc_method *m = t->more_methods; m && m->name; m++)
		if (!strcmp(m->name, call->method))
			return m->fn(call);
	return dsvc_unsupported(call);
}

static void reply_error(struct dsvc_call *call)
{
	const char *msg = call->error;

	if (!msg)
		msg = virGetLastErrorMessage();
	g_dbus_method_invocation_return_dbus_error(g_steal_pointer(&call->invocation),
						   DSVC_ERROR_NAME, msg);
}

static void worker(gpointer data, gpointer user_data)
{
	struct dsvc_call *call = data;
	gboolean props = !strcmp(g_dbus_method_invocation_get_interface_name(call->invocation),
				 "org.freedesktop.DBus.Properties");
	GVariant *ret = NULL;

	virResetLastError();
	if (resolve(call) == 0)
		ret = props ? run_properties(call) : run_method(call);
	if (!ret)
		reply_error(call);
	else
		g_dbus_method_invocation_return_value_with_unix_fd_list(
			g_steal_pointer(&call->invocation), ret, call->out_fds);
	call_free(call);
}

void dsvc_dispatch(struct dsvc_connect *c, enum dsvc_iface iface, const char *node,
		   const char *iface_name, const char *method, GVariant *args,
		   GDBusMethodInvocation *invocation)
{
	struct dsvc_call *call = g_new0(struct dsvc_call, 1);

	call->connect = c;
	call->iface = iface;
	call->node = g_strdup(node);
	call->method = g_strdup(method);
	call->args = g_variant_ref(args);
	call->invocation = invocation;	/* GDBus hands us its reference */
	g_thread_pool_push(pool, call, NULL);
}

int dsvc_dispatch_init(int threads, GError **error)
{
	pool = g_thread_pool_new(worker, NULL, threads, FALSE, error);
	return pool ? 0 : -1;
}

void dsvc_dispatch_shutdown(void)
{
	if (pool)
		g_thread_pool_free(pool, FALSE, TRUE);
	pool = NULL;
}
