/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The remote program: the procedure table, the per-connection state and dispatch.
 *
 * Thread model: a call is decoded and answered either on the I/O thread (procedures marked
 * PROC_INLINE: pure bookkeeping that never blocks — auth, features, open/close, event
 * registration, fixed strings) or on a worker of one of the daemon's thread pools
 * (everything that reads the host or asks the backend). Procedures that must answer
 * promptly whatever else is going on (lookups, listing, state, define — libvirt's
 * "@priority: high" ones, PROC_FAST) have a pool of their own, so that slow calls
 * (a shutdown waiting for the guest) cannot use up every worker they need. A connection has at most
 * max_client_requests calls on workers at once; further calls wait in its queue, in order.
 * Keepalive and stream packets never wait for a worker.
 */
#ifndef VIRTD_REMOTE_H
#define VIRTD_REMOTE_H

#include <stdbool.h>

#include <glib.h>
#include <rpc/xdr.h>

#include "backend.h"
#include "rpc/server.h"

struct virtd_config {
	unsigned int max_clients;
	unsigned int max_anonymous_clients;
	unsigned int anonymous_timeout;
	unsigned int max_workers;
	unsigned int prio_workers;
	unsigned int max_client_requests;
	unsigned int keepalive_interval;
	unsigned int keepalive_count;
	char *emulator;			/* domus-vmm, for the capabilities XML */
};

struct storage_pools;

struct virtd {
	GMainContext *ctx;
	struct rpc_server *srv;
	struct domain_backend *backend;
	struct storage_pools *storage;	/* dir pools (storage/pool.h); NULL: not supported */
	GThreadPool *pool;		/* calls that may block */
	GThreadPool *prio_pool;		/* PROC_FAST calls: never stuck behind slow ones */
	struct virtd_config cfg;
	bool session;
	const char *uri;		/* "domus:///system" or "domus:///session" */
};

enum {
	PROC_INLINE = 1 << 0,		/* run on the I/O thread; must not block */
	PROC_PREOPEN = 1 << 1,		/* allowed before CONNECT_OPEN */
	PROC_MUTATING = 1 << 2,		/* refused on read-only connections */
	PROC_FAST = 1 << 3,		/* quick by contract (libvirt's @priority: high): own pool */
};

struct remote_call;
/*
 * A handler gets decoded @args and a zeroed @ret to fill with g_malloc'ed members (freed
 * with xdr_free afterwards, also when the handler fails); it returns 0 or -1 with @err.
 */
typedef int (*remote_handler)(struct remote_call *call, void *args, void *ret, struct verr *err);

struct remote_proc {
	int proc;
	const char *api;		/* the libvirt API, for error messages */
	xdrproc_t args_xdr;		/* NULL: no arguments */
	size_t args_size;
	xdrproc_t ret_xdr;		/* NULL: void reply */
	size_t ret_size;
	remote_handler fn;
	unsigned int flags;
};

#define PROC(num, name, a, r, handler, fl)                                                         \
	{ .proc = (num), .api = (name), .args_xdr = (xdrproc_t)xdr_##a, .args_size = sizeof(a),   \
	  .ret_xdr = (xdrproc_t)xdr_##r, .ret_size = sizeof(r), .fn = (handler), .flags = (fl) }
#define PROC_NOARGS(num, name, r, handler, fl)                                                     \
	{ .proc = (num), .api = (name), .ret_xdr = (xdrproc_t)xdr_##r, .ret_size = sizeof(r),       \
	  .fn = (handler), .flags = (fl) }
#define PROC_VOID(num, name, a, handler, fl)                                                       \
	{ .proc = (num), .api = (name), .args_xdr = (xdrproc_t)xdr_##a, .args_size = sizeof(a),   \
	  .fn = (handler), .flags = (fl) }
#define PROC_NONE(num, name, handler, fl)                                                          \
	{ .proc = (num), .api = (name), .fn = (handler), .flags = (fl) }

struct remote_proc_table {
	const struct remote_proc *procs;
	size_t n;
};

/* The tables of proc-*.c. */
extern const struct remote_proc_table remote_procs_connect;
extern const struct remote_proc_table remote_procs_host;
extern const struct remote_proc_table remote_procs_domain;
extern const struct remote_proc_table remote_procs_tuning;
extern const struct remote_proc_table remote_procs_event;
extern const struct remote_proc_table remote_procs_save;
extern const struct remote_proc_table remote_procs_migrate;
extern const struct remote_proc_table remote_procs_storage;

/* proc-tuning.c: backend params → wire (strings copied; free with the reply). */
rp_typed_param *remote_params_to_wire(const struct domain_param *p, size_t n);

/* proc-migrate.c: the flags and typed params of a migration step, checked and decoded. */
int remote_migrate_check_flags(unsigned int flags, const char *api, struct verr *err);
int remote_migrate_params(const rp_typed_param *p, unsigned int n, struct domain_migrate_args *a,
			  struct verr *err);

/* An event registration of a connection (callback style). */
struct remote_event_reg {
	int callback_id;
	int event_id;
	bool has_dom;
	uint8_t uuid[DOMAIN_UUID_LEN];
};

/* Per-connection state of the remote program. */
struct remote_client {
	struct virtd *d;
	/* I/O thread only */
	bool opened;
	bool readonly;			/* socket or CONNECT_OPEN flags */
	bool close_callback;
	GArray *events;			/* struct remote_event_reg */
	int next_callback_id;
	/* guarded by lock: calls on workers and calls waiting for one */
	GMutex lock;
	unsigned int inflight;
	GQueue pending;			/* struct remote_call * */
	bool input_paused;		/* too many pending: the client is not read */
};

struct remote_call {
	struct virtd *d;
	struct rpc_client *c;
	struct remote_client *rc;
	const struct remote_proc *p;
	rp_header hdr;
	GBytes *packet;
	size_t skip;
	/* set by a handler: run on the I/O thread once the reply is queued */
	void (*after_reply)(struct rpc_client *c, void *data);
	void *after_data;
	GDestroyNotify after_free;
};

/* dispatch.c */
void remote_init(struct virtd *d);
void remote_shutdown(struct virtd *d);
extern const struct rpc_server_ops remote_server_ops;

/* The name of a libvirt 9.0 procedure we do not implement, for NO_SUPPORT (procnames.c). */
const char *remote_proc_api_name(int proc);

/* proc-event.c: deliver events from the backend (thread-safe). */
void remote_event_lifecycle(void *opaque, const struct domain_summary *dom, int event, int detail);
void remote_event_reboot(void *opaque, const struct domain_summary *dom);
void remote_event_job_completed(void *opaque, const struct domain_summary *dom,
				const struct domain_job_info *job);
/* A job's statistics as libvirt's VIR_DOMAIN_JOB_* typed params (room for 20 in @p). */
size_t remote_job_params(const struct domain_job_info *j, struct domain_param *p);

/* proc-domain.c: the wire form of a domain; the domain a call names, as the backend knows
 * it now. */
void remote_domain_to_wire(const struct domain_summary *s, rp_nonnull_domain *w);
/* Does @s pass the VIR_CONNECT_LIST_DOMAINS_* filter @flags (groups AND-ed, bits OR-ed)? */
bool remote_list_filter_match(const struct domain_summary *s, unsigned int flags);
int remote_lookup(struct remote_call *call, const rp_nonnull_domain *w, struct domain_summary *s,
		  struct verr *err);

static inline struct domain_backend *be(struct remote_call *call)
{
	return call->d->backend;
}

/* Answer VIR_ERR_NO_SUPPORT for the call's API when the backend lacks @op. */
#define NEED_OP(call, op, err)                                                                     \
	do {                                                                                       \
		if (!be(call)->ops->op)                                                            \
			return verr_no_support((err), VERR_FROM_DOMAIN, (call)->p->api);           \
	} while (0)

#endif
