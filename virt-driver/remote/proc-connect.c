// SPDX-License-Identifier: GPL-2.0-or-later
/* Connection procedures: auth, features, open/close, type, versions, URI, close callback. */
#define G_LOG_DOMAIN "virtdomusd"
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "remote.h"

#define VIR_CONNECT_RO 1
#define VIR_CONNECT_NO_ALIASES 2
#define LIBVIRT_PROTOCOL_VERSION 9000000ULL	/* the libvirt release whose wire protocol we speak */

/* virDrvFeature numbers (libvirt_internal.h) and our answers. */
enum {
	FEATURE_MIGRATION_P2P = 4,
	FEATURE_MIGRATION_V3 = 6,
	FEATURE_MIGRATE_CHANGE_PROTECTION = 7,
	FEATURE_TYPED_PARAM_STRING = 9,
	FEATURE_PROGRAM_KEEPALIVE = 10,
	FEATURE_REMOTE_EVENT_CALLBACK = 14,
	FEATURE_REMOTE_CLOSE_CALLBACK = 15,
	FEATURE_MIGRATION_PARAMS = 13,
	FEATURE_NETWORK_UPDATE_HAS_CORRECT_ORDER = 16,
};

static int auth_list(struct remote_call *call, void *a, void *r, struct verr *err)
{
	rp_auth_list_ret *ret = r;

	/* No authentication step: access is decided by the socket's permissions. */
	ret->types.types_len = 1;
	ret->types.types_val = g_new0(int, 1);	/* REMOTE_AUTH_NONE */
	return 0;
}

static int supports_feature(struct remote_call *call, void *a, void *r, struct verr *err)
{
	int feature = ((rp_int_msg *)a)->v;
	rp_int_msg *ret = r;

	if (!call->rc->opened && feature != FEATURE_PROGRAM_KEEPALIVE)
		return verr_set(err, VERR_INTERNAL_ERROR, VERR_FROM_RPC,
				"hypervisor connection not open");
	switch (feature) {
	case FEATURE_PROGRAM_KEEPALIVE:
		rpc_client_enable_keepalive(call->c);
		/* fall through */
	case FEATURE_TYPED_PARAM_STRING:
	case FEATURE_REMOTE_EVENT_CALLBACK:
	case FEATURE_REMOTE_CLOSE_CALLBACK:
	case FEATURE_NETWORK_UPDATE_HAS_CORRECT_ORDER:
		ret->v = 1;
		break;
	case FEATURE_MIGRATION_P2P:	/* remote/migrate-p2p.c */
	case FEATURE_MIGRATION_V3:	/* with PARAMS: procedures 302-307 (proc-migrate.c) */
	case FEATURE_MIGRATE_CHANGE_PROTECTION:
	case FEATURE_MIGRATION_PARAMS:
		ret->v = call->d->backend->ops->migrate_perform != NULL;
		break;
	default:
		ret->v = 0;	/* v1/v2 migration, fd passing, ...: not (yet) */
	}
	return 0;
}

/* Is @name a URI this daemon serves? An empty name is the client probing for our URI. */
static int check_uri(struct virtd *d, const char *name, struct verr *err)
{
	g_autoptr(GUri) uri = NULL;

	if (!name || !*name)
		return 0;
	uri = g_uri_parse(name, G_URI_FLAGS_NONE, NULL);
	if (!uri || g_strcmp0(g_uri_get_scheme(uri), "domus") != 0 ||
	    (g_uri_get_host(uri) && *g_uri_get_host(uri)))
		return verr_set(err, VERR_NO_CONNECT, VERR_FROM_REMOTE, "'%s'", name);
	if (strcmp(g_uri_get_path(uri), d->session ? "/session" : "/system") != 0)
		return verr_set(err, VERR_NO_CONNECT, VERR_FROM_REMOTE,
				"'%s': this is the %s daemon (%s)", name,
				d->session ? "session" : "system", d->uri);
	return 0;
}

static int connect_open(struct remote_call *call, void *a, void *r, struct verr *err)
{
	rp_connect_open_args *args = a;
	struct remote_client *rc = call->rc;
	const char *name = args->name ? *args->name : NULL;

	if (rc->opened)
		return verr_set(err, VERR_INTERNAL_ERROR, VERR_FROM_RPC, "connection already open");
	/*
	 * Only RO matters here. The 9.0 client also sends flags of its own (0x4 for a
	 * session URI in direct mode): accept them, as libvirtd does.
	 */
	if (args->flags & ~(VIR_CONNECT_RO | VIR_CONNECT_NO_ALIASES))
		g_debug("client %" G_GUINT64_FORMAT ": ignoring CONNECT_OPEN flags 0x%x",
			rpc_client_id(call->c), args->flags & ~(VIR_CONNECT_RO | VIR_CONNECT_NO_ALIASES));
	if (check_uri(call->d, name, err) < 0)
		return -1;
	/* A read-only socket stays read-only whatever the flags say. */
	if (args->flags & VIR_CONNECT_RO)
		rc->readonly = true;
	rc->opened = true;
	rpc_client_identified(call->c);
	g_debug("client %" G_GUINT64_FORMAT ": opened %s%s", rpc_client_id(call->c),
		name && *name ? name : call->d->uri, rc->readonly ? " read-only" : "");
	return 0;
}

static void close_now(struct rpc_client *c, void *data)
{
	rpc_client_close_after_flush(c);
}

static int connect_close(struct remote_call *call, void *a, void *r, struct verr *err)
{
	/* Reply first, then close once the reply is out (libvirtd's "delayed close"). */
	call->after_reply = close_now;
	return 0;
}

static int get_type(struct remote_call *call, void *a, void *r, struct verr *err)
{
	((rp_string_msg *)r)->v = g_strdup("DOMUS");
	return 0;
}

/* "major.minor.micro" → major * 1000000 + minor * 1000 + micro, as libvirt encodes versions. */
static uint64_t version_number(const char *v)
{
	unsigned int major = 0, minor = 0, micro = 0;

	sscanf(v, "%u.%u.%u", &major, &minor, &micro);
	return major * 1000000ULL + minor * 1000ULL + micro;
}

static int get_version(struct remote_call *call, void *a, void *r, struct verr *err)
{
	((rp_uhyper_msg *)r)->v = version_number(DOMUS_VERSION);
	return 0;
}

static int get_lib_version(struct remote_call *call, void *a, void *r, struct verr *err)
{
	((rp_uhyper_msg *)r)->v = LIBVIRT_PROTOCOL_VERSION;
	return 0;
}

static int get_uri(struct remote_call *call, void *a, void *r, struct verr *err)
{
	((rp_string_msg *)r)->v = g_strdup(call->d->uri);
	return 0;
}

static int is_secure(struct remote_call *call, void *a, void *r, struct verr *err)
{
	((rp_int_msg *)r)->v = 1;	/* a local UNIX socket */
	return 0;
}

static int get_hostname(struct remote_call *call, void *a, void *r, struct verr *err)
{
	char name[HOST_NAME_MAX + 1] = "";

	/* Not g_get_host_name(): it caches, and the host may be renamed while we run. */
	if (gethostname(name, sizeof(name) - 1) < 0)
		return verr_errno(err, errno, "cannot get the host name");
	((rp_string_msg *)r)->v = g_strdup(name);
	return 0;
}

static int close_callback_register(struct remote_call *call, void *a, void *r, struct verr *err)
{
	call->rc->close_callback = true;
	return 0;
}

static int close_callback_unregister(struct remote_call *call, void *a, void *r, struct verr *err)
{
	call->rc->close_callback = false;
	return 0;
}

static const struct remote_proc procs[] = {
	PROC_NOARGS(RP_PROC_AUTH_LIST, "virConnectAuthList", rp_auth_list_ret, auth_list,
		    PROC_INLINE | PROC_PREOPEN),
	PROC(RP_PROC_CONNECT_SUPPORTS_FEATURE, "virConnectSupportsFeature", rp_int_msg, rp_int_msg,
	     supports_feature, PROC_INLINE | PROC_PREOPEN),
	PROC_VOID(RP_PROC_CONNECT_OPEN, "virConnectOpen", rp_connect_open_args, connect_open,
		  PROC_INLINE | PROC_PREOPEN),
	PROC_NONE(RP_PROC_CONNECT_CLOSE, "virConnectClose", connect_close,
		  PROC_INLINE | PROC_PREOPEN),
	PROC_NOARGS(RP_PROC_CONNECT_GET_TYPE, "virConnectGetType", rp_string_msg, get_type,
		    PROC_INLINE),
	PROC_NOARGS(RP_PROC_CONNECT_GET_VERSION, "virConnectGetVersion", rp_uhyper_msg, get_version,
		    PROC_INLINE),
	PROC_NOARGS(RP_PROC_CONNECT_GET_LIB_VERSION, "virConnectGetLibVersion", rp_uhyper_msg,
		    get_lib_version, PROC_INLINE),
	PROC_NOARGS(RP_PROC_CONNECT_GET_URI, "virConnectGetURI", rp_string_msg, get_uri, PROC_INLINE),
	PROC_NOARGS(RP_PROC_CONNECT_IS_SECURE, "virConnectIsSecure", rp_int_msg, is_secure,
		    PROC_INLINE),
	PROC_NOARGS(RP_PROC_CONNECT_GET_HOSTNAME, "virConnectGetHostname", rp_string_msg,
		    get_hostname, PROC_INLINE),
	PROC_NONE(RP_PROC_CONNECT_REGISTER_CLOSE_CALLBACK, "virConnectRegisterCloseCallback",
		  close_callback_register, PROC_INLINE),
	PROC_NONE(RP_PROC_CONNECT_UNREGISTER_CLOSE_CALLBACK, "virConnectUnregisterCloseCallback",
		  close_callback_unregister, PROC_INLINE),
};

const struct remote_proc_table remote_procs_connect = { procs, G_N_ELEMENTS(procs) };
