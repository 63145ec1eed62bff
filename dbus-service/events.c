// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libvirt domain events -> D-Bus signals, as libvirt-dbus maps them: the lifecycle event
 * is org.libvirt.Connect.DomainEvent(o,i,i) on the connect path; every other domain event
 * is a signal of org.libvirt.Domain on the domain's own path; networks, storage pools, node
 * devices and secrets have their lifecycle signal on the connect path too, and a pool's
 * refresh is StoragePool.Refresh on the pool's path. All are broadcast.
 *
 * libvirt's default event loop runs in its own thread; the callbacks run there.
 */
#include "dsvc.h"

static gpointer event_thread(gpointer data)
{
	for (;;)
		if (virEventRunDefaultImpl() < 0)
			g_warning("libvirt event loop: %s", virGetLastErrorMessage());
	return NULL;
}

/* Must run before the first virConnectOpen. */
void dsvc_events_start(void)
{
	if (virEventRegisterDefaultImpl() < 0)
		g_error("cannot set up libvirt's event loop: %s", virGetLastErrorMessage());
	g_thread_unref(g_thread_new("libvirt-events", event_thread, NULL));
}

static void emit(struct dsvc_connect *c, const char *path, const char *iface,
		 const char *name, GVariant *args)
{
	g_autoptr(GError) error = NULL;

	if (!c->bus) {	/* an event before the bus is up: nobody can be listening yet */
		if (args)
			g_variant_unref(g_variant_ref_sink(args));
		return;
	}
	if (!g_dbus_connection_emit_signal(c->bus, NULL, path, iface, name, args, &error))
		g_warning("cannot emit %s.%s on %s: %s", iface, name, path, error->message);
}

static void emit_domain(struct dsvc_connect *c, virDomainPtr dom, const char *name,
			GVariant *args)
{
	g_autofree char *path = dsvc_domain_path(c, dom);

	if (!path) {
		if (args)
			g_variant_unref(g_variant_ref_sink(args));
		return;
	}
	emit(c, path, "org.libvirt.Domain", name, args);
}

static int on_lifecycle(virConnectPtr conn, virDomainPtr dom, int event, int detail,
			void *opaque)
{
	struct dsvc_connect *c = opaque;
	g_autofree char *path = dsvc_domain_path(c, dom);

	if (path)
		emit(c, c->path, "org.libvirt.Connect", "DomainEvent",
		     g_variant_new("(oii)", path, event, detail));
	return 0;
}

#define C struct dsvc_connect *c = opaque

static void on_reboot(virConnectPtr conn, virDomainPtr dom, void *opaque)
{ C; emit_domain(c, dom, "Reboot", NULL); }

static void on_rtc(virConnectPtr conn, virDomainPtr dom, long long off, void *opaque)
{ C; emit_domain(c, dom, "RTCChange", g_variant_new("(x)", (gint64)off)); }

static void on_watchdog(virConnectPtr conn, virDomainPtr dom, int action, void *opaque)
{ C; emit_domain(c, dom, "Watchdog", g_variant_new("(i)", action)); }

static void on_io_error(virConnectPtr conn, virDomainPtr dom, const char *src,
			const char *dev, int action, const char *reason, void *opaque)
{
	C;
	emit_domain(c, dom, "IOError", g_variant_new("(ssis)", src ? src : "", dev ? dev : "",
						     action, reason ? reason : ""));
}

static GVariant *gaddr(virDomainEventGraphicsAddressPtr a)
{
	return g_variant_new("(iss)", a->family, a->node ? a->node : "",
			     a->service ? a->service : "");
}

static void on_graphics(virConnectPtr conn, virDomainPtr dom, int phase,
			virDomainEventGraphicsAddressPtr local,
			virDomainEventGraphicsAddressPtr remote, const char *scheme,
			virDomainEventGraphicsSubjectPtr subject, void *opaque)
{
	GVariantBuilder ids;

	C;
	g_variant_builder_init(&ids, G_VARIANT_TYPE("a(ss)"));
	for (int i = 0; subject && i < subject->nidentity; i++)
		g_variant_builder_add(&ids, "(ss)", subject->identities[i].type,
				      subject->identities[i].name);
	emit_domain(c, dom, "Graphics", g_variant_new("(i@(iss)@(iss)sa(ss))", phase,
						      gaddr(local), gaddr(remote),
						      scheme ? scheme : "", &ids));
}

static void on_control_error(virConnectPtr conn, virDomainPtr dom, void *opaque)
{ C; emit_domain(c, dom, "ControlError", NULL); }

static void on_disk_change(virConnectPtr conn, virDomainPtr dom, const char *old_src,
			   const char *new_src, const char *alias, int reason, void *opaque)
{
	C;
	emit_domain(c, dom, "DiskChange",
		    g_variant_new("(sssi)", old_src ? old_src : "", new_src ? new_src : "",
				  alias ? alias : "", reason));
}

static void on_tray(virConnectPtr conn, virDomainPtr dom, const char *alias, int reason,
		    void *opaque)
{ C; emit_domain(c, dom, "TrayChange", g_variant_new("(si)", alias ? alias : "", reason)); }

static void on_pmwakeup(virConnectPtr conn, virDomainPtr dom, int reason, void *opaque)
{ C; emit_domain(c, dom, "PMWakeup", g_variant_new("(i)", reason)); }

static void on_pmsuspend(virConnectPtr conn, virDomainPtr dom, int reason, void *opaque)
{ C; emit_domain(c, dom, "PMSuspend", g_variant_new("(i)", reason)); }

static void on_pmsuspend_disk(virConnectPtr conn, virDomainPtr dom, int reason, void *opaque)
{ C; emit_domain(c, dom, "PMSuspendDisk", g_variant_new("(i)", reason)); }

static void on_balloon(virConnectPtr conn, virDomainPtr dom, unsigned long long actual,
		       void *opaque)
{ C; emit_domain(c, dom, "BalloonChange", g_variant_new("(t)", (guint64)actual)); }

static void on_device_removed(virConnectPtr conn, virDomainPtr dom, const char *alias,
			      void *opaque)
{ C; emit_domain(c, dom, "DeviceRemoved", g_variant_new("(s)", alias)); }

static void on_device_added(virConnectPtr conn, virDomainPtr dom, const char *alias,
			    void *opaque)
{ C; emit_domain(c, dom, "DeviceAdded", g_variant_new("(s)", alias)); }

static void on_device_removal_failed(virConnectPtr conn, virDomainPtr dom, const char *alias,
				     void *opaque)
{ C; emit_domain(c, dom, "DeviceRemovalFailed", g_variant_new("(s)", alias)); }

static void on_block_job(virConnectPtr conn, virDomainPtr dom, const char *disk, int type,
			 int status, void *opaque)
{ C; emit_domain(c, dom, "BlockJob", g_variant_new("(sii)", disk, type, status)); }

static void on_tunable(virConnectPtr conn, virDomainPtr dom, virTypedParameterPtr params,
		       int n, void *opaque)
{ C; emit_domain(c, dom, "Tunable", g_variant_new("(@a{sv})", dsvc_params_to_variant(params, n))); }

static void on_agent(virConnectPtr conn, virDomainPtr dom, int state, int reason,
		     void *opaque)
{ C; emit_domain(c, dom, "AgentEvent", g_variant_new("(ii)", state, reason)); }

static void on_migration_iteration(virConnectPtr conn, virDomainPtr dom, int iteration,
				   void *opaque)
{ C; emit_domain(c, dom, "MigrationIteration", g_variant_new("(i)", iteration)); }

static void on_job_completed(virConnectPtr conn, virDomainPtr dom, virTypedParameterPtr params,
			     int n, void *opaque)
{
	C;
	emit_domain(c, dom, "JobCompleted",
		    g_variant_new("(@a{sv})", dsvc_params_to_variant(params, n)));
}

static void on_metadata(virConnectPtr conn, virDomainPtr dom, int type, const char *nsuri,
			void *opaque)
{ C; emit_domain(c, dom, "MetadataChange", g_variant_new("(is)", type, nsuri ? nsuri : "")); }

#undef C

static const struct {
	int id;
	virConnectDomainEventGenericCallback cb;
} domain_events[] = {
	{ VIR_DOMAIN_EVENT_ID_REBOOT, VIR_DOMAIN_EVENT_CALLBACK(on_reboot) },
	{ VIR_DOMAIN_EVENT_ID_RTC_CHANGE, VIR_DOMAIN_EVENT_CALLBACK(on_rtc) },
	{ VIR_DOMAIN_EVENT_ID_WATCHDOG, VIR_DOMAIN_EVENT_CALLBACK(on_watchdog) },
	{ VIR_DOMAIN_EVENT_ID_IO_ERROR_REASON, VIR_DOMAIN_EVENT_CALLBACK(on_io_error) },
	{ VIR_DOMAIN_EVENT_ID_GRAPHICS, VIR_DOMAIN_EVENT_CALLBACK(on_graphics) },
	{ VIR_DOMAIN_EVENT_ID_CONTROL_ERROR, VIR_DOMAIN_EVENT_CALLBACK(on_control_error) },
	{ VIR_DOMAIN_EVENT_ID_BLOCK_JOB_2, VIR_DOMAIN_EVENT_CALLBACK(on_block_job) },
	{ VIR_DOMAIN_EVENT_ID_DISK_CHANGE, VIR_DOMAIN_EVENT_CALLBACK(on_disk_change) },
	{ VIR_DOMAIN_EVENT_ID_TRAY_CHANGE, VIR_DOMAIN_EVENT_CALLBACK(on_tray) },
	{ VIR_DOMAIN_EVENT_ID_PMWAKEUP, VIR_DOMAIN_EVENT_CALLBACK(on_pmwakeup) },
	{ VIR_DOMAIN_EVENT_ID_PMSUSPEND, VIR_DOMAIN_EVENT_CALLBACK(on_pmsuspend) },
	{ VIR_DOMAIN_EVENT_ID_BALLOON_CHANGE, VIR_DOMAIN_EVENT_CALLBACK(on_balloon) },
	{ VIR_DOMAIN_EVENT_ID_PMSUSPEND_DISK, VIR_DOMAIN_EVENT_CALLBACK(on_pmsuspend_disk) },
	{ VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED, VIR_DOMAIN_EVENT_CALLBACK(on_device_removed) },
	{ VIR_DOMAIN_EVENT_ID_TUNABLE, VIR_DOMAIN_EVENT_CALLBACK(on_tunable) },
	{ VIR_DOMAIN_EVENT_ID_AGENT_LIFECYCLE, VIR_DOMAIN_EVENT_CALLBACK(on_agent) },
	{ VIR_DOMAIN_EVENT_ID_DEVICE_ADDED, VIR_DOMAIN_EVENT_CALLBACK(on_device_added) },
	{ VIR_DOMAIN_EVENT_ID_MIGRATION_ITERATION,
	  VIR_DOMAIN_EVENT_CALLBACK(on_migration_iteration) },
	{ VIR_DOMAIN_EVENT_ID_JOB_COMPLETED, VIR_DOMAIN_EVENT_CALLBACK(on_job_completed) },
	{ VIR_DOMAIN_EVENT_ID_DEVICE_REMOVAL_FAILED,
	  VIR_DOMAIN_EVENT_CALLBACK(on_device_removal_failed) },
	{ VIR_DOMAIN_EVENT_ID_METADATA_CHANGE, VIR_DOMAIN_EVENT_CALLBACK(on_metadata) },
};

/* ---- the other objects' lifecycle events, on the connect path ---- */

static void emit_object(struct dsvc_connect *c, enum dsvc_iface iface, void *obj,
			const char *name, GVariant *(*args)(const char *path, int ev, int det),
			int event, int detail)
{
	g_autofree char *path = dsvc_object_path(c, iface, obj);

	if (path)
		emit(c, c->path, "org.libvirt.Connect", name, args(path, event, detail));
}

static GVariant *args_oi(const char *path, int event, int detail)
{
	return g_variant_new("(oi)", path, event);
}

static GVariant *args_oii(const char *path, int event, int detail)
{
	return g_variant_new("(oii)", path, event, detail);
}

static void on_network(virConnectPtr conn, virNetworkPtr net, int event, int detail,
		       void *opaque)
{
	emit_object(opaque, DSVC_IFACE_NETWORK, net, "NetworkEvent", args_oi, event, detail);
}

static void on_pool(virConnectPtr conn, virStoragePoolPtr pool, int event, int detail,
		    void *opaque)
{
	emit_object(opaque, DSVC_IFACE_STORAGEPOOL, pool, "StoragePoolEvent", args_oii, event,
		    detail);
}

static void on_pool_refresh(virConnectPtr conn, virStoragePoolPtr pool, void *opaque)
{
	struct dsvc_connect *c = opaque;
	g_autofree char *path = dsvc_object_path(c, DSVC_IFACE_STORAGEPOOL, pool);

	if (path)
		emit(c, path, "org.libvirt.StoragePool", "Refresh", NULL);
}

static void on_nodedev(virConnectPtr conn, virNodeDevicePtr dev, int event, int detail,
		       void *opaque)
{
	emit_object(opaque, DSVC_IFACE_NODEDEV, dev, "NodeDeviceEvent", args_oii, event, detail);
}

static void on_secret(virConnectPtr conn, virSecretPtr secret, int event, int detail,
		      void *opaque)
{
	emit_object(opaque, DSVC_IFACE_SECRET, secret, "SecretEvent", args_oii, event, detail);
}

static void add_object_cb(struct dsvc_connect *c, enum dsvc_iface iface, int id)
{
	struct dsvc_event_cb cb = { iface, id };

	if (id >= 0)
		g_array_append_val(c->object_cbs, cb);
}

static void register_objects(struct dsvc_connect *c)
{
	g_array_set_size(c->object_cbs, 0);
	add_object_cb(c, DSVC_IFACE_NETWORK, virConnectNetworkEventRegisterAny(
		c->conn, NULL, VIR_NETWORK_EVENT_ID_LIFECYCLE,
		VIR_NETWORK_EVENT_CALLBACK(on_network), c, NULL));
	add_object_cb(c, DSVC_IFACE_STORAGEPOOL, virConnectStoragePoolEventRegisterAny(
		c->conn, NULL, VIR_STORAGE_POOL_EVENT_ID_LIFECYCLE,
		VIR_STORAGE_POOL_EVENT_CALLBACK(on_pool), c, NULL));
	add_object_cb(c, DSVC_IFACE_STORAGEPOOL, virConnectStoragePoolEventRegisterAny(
		c->conn, NULL, VIR_STORAGE_POOL_EVENT_ID_REFRESH,
		VIR_STORAGE_POOL_EVENT_CALLBACK(on_pool_refresh), c, NULL));
	add_object_cb(c, DSVC_IFACE_NODEDEV, virConnectNodeDeviceEventRegisterAny(
		c->conn, NULL, VIR_NODE_DEVICE_EVENT_ID_LIFECYCLE,
		VIR_NODE_DEVICE_EVENT_CALLBACK(on_nodedev), c, NULL));
	add_object_cb(c, DSVC_IFACE_SECRET, virConnectSecretEventRegisterAny(
		c->conn, NULL, VIR_SECRET_EVENT_ID_LIFECYCLE,
		VIR_SECRET_EVENT_CALLBACK(on_secret), c, NULL));
}

static void deregister_objects(struct dsvc_connect *c)
{
	for (guint i = 0; i < c->object_cbs->len; i++) {
		struct dsvc_event_cb *cb = &g_array_index(c->object_cbs, struct dsvc_event_cb, i);

		switch (cb->iface) {
		case DSVC_IFACE_NETWORK:
			virConnectNetworkEventDeregisterAny(c->conn, cb->id);
			break;
		case DSVC_IFACE_STORAGEPOOL:
			virConnectStoragePoolEventDeregisterAny(c->conn, cb->id);
			break;
		case DSVC_IFACE_NODEDEV:
			virConnectNodeDeviceEventDeregisterAny(c->conn, cb->id);
			break;
		default:
			virConnectSecretEventDeregisterAny(c->conn, cb->id);
		}
	}
	g_array_set_size(c->object_cbs, 0);
}

/* Called with c->lock held on a freshly opened connection. A driver that lacks one event
 * kind only loses that kind. */
void dsvc_events_register(struct dsvc_connect *c)
{
	c->lifecycle_cb = virConnectDomainEventRegisterAny(
		c->conn, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
		VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle), c, NULL);
	if (c->lifecycle_cb < 0)
		g_warning("%s: no lifecycle events: %s", c->uri, virGetLastErrorMessage());
	g_array_set_size(c->domain_cbs, 0);
	for (gsize i = 0; i < G_N_ELEMENTS(domain_events); i++) {
		int id = virConnectDomainEventRegisterAny(c->conn, NULL, domain_events[i].id,
							  domain_events[i].cb, c, NULL);

		if (id >= 0)
			g_array_append_val(c->domain_cbs, id);
	}
	register_objects(c);
	virResetLastError();
}

void dsvc_events_deregister(struct dsvc_connect *c)
{
	if (c->lifecycle_cb >= 0)
		virConnectDomainEventDeregisterAny(c->conn, c->lifecycle_cb);
	c->lifecycle_cb = -1;
	for (guint i = 0; i < c->domain_cbs->len; i++)
		virConnectDomainEventDeregisterAny(c->conn, g_array_index(c->domain_cbs, int, i));
	g_array_set_size(c->domain_cbs, 0);
	deregister_objects(c);
}
