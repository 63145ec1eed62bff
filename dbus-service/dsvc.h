/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * domus-dbusd: libvirt's public API (libvirt0, as a client) on D-Bus with libvirt-dbus's
 * org.libvirt.Connect / org.libvirt.Domain / org.libvirt.DomainSnapshot interfaces.
 *
 * Thread model: the GLib main loop (main thread) owns the bus name and the object
 * registrations. Method calls and property accesses are handed to a GThreadPool (libvirt
 * calls may block on a remote daemon); workers reply on the invocation themselves. A
 * dedicated thread runs libvirt's default event loop, and the event callbacks emit D-Bus
 * signals from there (GDBusConnection is thread-safe). Another thread reopens closed
 * connections every 5 s. Each served URI's connection is guarded by its own mutex.
 */
#ifndef DSVC_H
#define DSVC_H

#include <gio/gio.h>
#include <gio/gunixfdlist.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#define DSVC_ERROR_NAME "org.libvirt.Error"
#define DSVC_DEFAULT_BUS_NAME "org.domus.libvirt"
#define DSVC_DEFAULT_PATH "/org/libvirt/Domus"

enum dsvc_iface {
	DSVC_IFACE_CONNECT,
	DSVC_IFACE_DOMAIN,
	DSVC_IFACE_SNAPSHOT,
	/* the other libvirt objects, handled generically (objects.c) */
	DSVC_IFACE_NETWORK,
	DSVC_IFACE_STORAGEPOOL,
	DSVC_IFACE_STORAGEVOL,
	DSVC_IFACE_INTERFACE,
	DSVC_IFACE_NODEDEV,
	DSVC_IFACE_NWFILTER,
	DSVC_IFACE_SECRET,
	DSVC_IFACE_COUNT,
};

#define DSVC_IFACE_FIRST_OBJECT DSVC_IFACE_NETWORK

/* One libvirt URI served at one object path. */
struct dsvc_connect {
	char *uri;
	char *path;		/* e.g. /org/libvirt/Test */
	char *domain_path;	/* path + "/domain" */
	char *snapshot_path;	/* path + "/domainsnapshot" */
	GDBusConnection *bus;
	GMutex lock;		/* guards conn and the callback ids */
	virConnectPtr conn;	/* NULL while the URI cannot be opened */
	int lifecycle_cb;
	GArray *domain_cbs;	/* int callback ids of the other domain events */
	GArray *object_cbs;	/* struct dsvc_event_cb: network, pool, device, secret events */
	gboolean warned;	/* an open failure was logged already */
};

struct dsvc_event_cb {
	enum dsvc_iface iface;
	int id;
};

struct dsvc_config {
	GBusType bus_type;
	char *bus_name;
	int threads;
	GPtrArray *connects;	/* struct dsvc_connect * */
};

/* A method call (or Properties access) being served by a worker thread. */
struct dsvc_call {
	struct dsvc_connect *connect;
	enum dsvc_iface iface;
	char *node;		/* subtree node name for a domain or snapshot, else NULL */
	char *method;
	GVariant *args;
	GDBusMethodInvocation *invocation;
	virConnectPtr conn;
	virDomainPtr dom;
	virDomainSnapshotPtr snap;
	void *obj;		/* network, pool, volume, ... (objects.c) */
	GUnixFDList *out_fds;
	char *error;		/* our own error text; else libvirt's last error is used */
};

typedef GVariant *(*dsvc_method_fn)(struct dsvc_call *call);
typedef GVariant *(*dsvc_getter_fn)(struct dsvc_call *call);
typedef int (*dsvc_setter_fn)(struct dsvc_call *call, GVariant *value);

struct dsvc_method {
	const char *name;
	dsvc_method_fn fn;
};

struct dsvc_property {
	const char *name;
	dsvc_getter_fn get;
	dsvc_setter_fn set;
};

struct dsvc_iface_table {
	const char *name;
	const struct dsvc_method *methods;	/* NULL-terminated */
	const struct dsvc_method *more_methods;	/* NULL-terminated, or NULL */
	const struct dsvc_property *properties;	/* NULL-terminated */
};

extern const struct dsvc_iface_table dsvc_connect_table;
extern const struct dsvc_iface_table dsvc_domain_table;
extern const struct dsvc_iface_table dsvc_snapshot_table;
extern const struct dsvc_method dsvc_domain_tuning_methods[];
extern const struct dsvc_iface_table dsvc_network_table;
extern const struct dsvc_iface_table dsvc_storagepool_table;
extern const struct dsvc_iface_table dsvc_storagevol_table;
extern const struct dsvc_iface_table dsvc_interface_table;
extern const struct dsvc_iface_table dsvc_nodedev_table;
extern const struct dsvc_iface_table dsvc_nwfilter_table;
extern const struct dsvc_iface_table dsvc_secret_table;
extern const struct dsvc_method dsvc_connect_object_methods[];

/* Helpers shared by the method files (domain-methods.c). */
GVariant *dsvc_done(int r);
GVariant *dsvc_string_result(char *s);
GVariant *dsvc_domain_result(struct dsvc_call *call, virDomainPtr dom);
GVariant *dsvc_snapshot_result(struct dsvc_call *call, virDomainSnapshotPtr snap);
int dsvc_host_cpus(struct dsvc_call *call);
guint dsvc_flags_arg(struct dsvc_call *call);
GVariant *dsvc_snapshot_list(struct dsvc_call *call, virDomainSnapshotPtr *snaps, int n);
/* Typed parameters taken from a call's a{sv}; declare g_auto(dsvc_params) ps = { 0 } and
 * they are freed however the handler returns. */
typedef struct dsvc_params {
	virTypedParameterPtr p;
	int n;
} dsvc_params;
void dsvc_params_clear(dsvc_params *ps);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(dsvc_params, dsvc_params_clear)
int dsvc_take_params(struct dsvc_call *call, GVariant *dict, dsvc_params *ret);
int dsvc_take_fds(struct dsvc_call *call, GVariantIter *handles, int **ret_fds);
void dsvc_close_fds(int *fds, int n);

/* config.c */
int dsvc_config_load(struct dsvc_config *cfg, int *argc, char ***argv, GError **error);
void dsvc_config_clear(struct dsvc_config *cfg);

/* interfaces.c */
GDBusInterfaceInfo *dsvc_iface_info(enum dsvc_iface iface);

/* connect.c */
struct dsvc_connect *dsvc_connect_new(const char *uri, const char *path);
void dsvc_connect_close(struct dsvc_connect *c);
int dsvc_connect_register(struct dsvc_connect *c, GDBusConnection *bus, GError **error);
virConnectPtr dsvc_connect_get(struct dsvc_connect *c);
void dsvc_connect_try_open(struct dsvc_connect *c);
char *dsvc_domain_path(struct dsvc_connect *c, virDomainPtr dom);
char *dsvc_snapshot_path(struct dsvc_connect *c, virDomainSnapshotPtr snap);

/* objects.c: networks, storage pools and volumes, host interfaces, node devices,
 * nwfilters and secrets, at <connect>/<dir>/<node>. */
const char *dsvc_object_dir(enum dsvc_iface iface);
char *dsvc_object_path(struct dsvc_connect *c, enum dsvc_iface iface, void *obj);
GVariant *dsvc_object_result(struct dsvc_call *call, enum dsvc_iface iface, void *obj);
GVariant *dsvc_object_list(struct dsvc_call *call, enum dsvc_iface iface, void **objs, int n);
int dsvc_object_resolve(struct dsvc_call *call);
void dsvc_object_free(enum dsvc_iface iface, void *obj);
int dsvc_objects_register(struct dsvc_connect *c, GDBusConnection *bus, GError **error);

/* dispatch.c */
int dsvc_dispatch_init(int threads, GError **error);
void dsvc_dispatch_shutdown(void);
void dsvc_dispatch(struct dsvc_connect *c, enum dsvc_iface iface, const char *node,
		   const char *iface_name, const char *method, GVariant *args,
		   GDBusMethodInvocation *invocation);
GVariant *dsvc_unsupported(struct dsvc_call *call);
GVariant *dsvc_fail(struct dsvc_call *call, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/* events.c */
void dsvc_events_start(void);
void dsvc_events_register(struct dsvc_connect *c);
void dsvc_events_deregister(struct dsvc_connect *c);

/* util.c */
char *dsvc_encode(const char *s);
char *dsvc_decode(const char *s);
char *dsvc_uuid_node(const char *uuid);
gboolean dsvc_node_uuid(const char *node, char uuid[VIR_UUID_STRING_BUFLEN]);
gboolean dsvc_node_uuid_prefix(const char *node, char uuid[VIR_UUID_STRING_BUFLEN]);
int dsvc_params_from_variant(GVariant *dict, virTypedParameterPtr *ret_params,
			     int *ret_n, char **ret_error);
GVariant *dsvc_params_to_variant(virTypedParameterPtr params, int n);
unsigned char *dsvc_cpumap_from_variant(GVariant *ab, int *ret_len);
GVariant *dsvc_cpumap_to_variant(const unsigned char *map, int maplen, int ncpus);
const char *dsvc_empty_to_null(const char *s);

#endif
