/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * struct domain_backend: what virtdomusd asks of the layer that really runs domains
 * (libxc + the domain XML model). The RPC side (remote/) decodes a call, looks the domain
 * up here by UUID, calls one op and encodes the answer; everything about domains lives
 * behind this interface.
 *
 * Rules for implementations:
 * - Every op returns 0 on success, or -1 with @err filled through verr_set() using
 *   libvirt's codes (VERR_NO_DOMAIN "no domain with matching uuid '…'", VERR_OPERATION_INVALID
 *   "domain is not running", VERR_INVALID_ARG "unsupported flags (0x%x) in function …",
 *   VERR_XML_ERROR, VERR_DOM_EXIST, …): the text reaches the user verbatim.
 * - A NULL op means "not supported": the caller answers VIR_ERR_NO_SUPPORT naming the
 *   libvirt API, which is what makes clients fall back gracefully.
 * - Ops are called from worker threads, several at once, also for the same domain: the
 *   backend does its own locking. Ops may block (a shutdown waits, a start boots) —
 *   except the quick ones, which must answer from the backend's own state without
 *   waiting for a guest: list, lookup_*, get_max_vcpus, define_xml, undefine,
 *   set_autostart, destroy (kill, do not wait for a clean exit) and vcpu_info. They run on
 *   the daemon's priority pool (libvirt's "@priority: high" procedures).
 * - Domains are identified by their UUID (16 raw bytes). Summaries always carry the
 *   current id (-1 when inactive).
 * - Strings and arrays returned through out-parameters are g_malloc'ed and owned by the
 *   caller (freed with g_free; typed params with domain_params_free()).
 * - State changes, whoever caused them (a client, the guest, a crash), are reported
 *   through the event sink given at creation, from any thread.
 */
#ifndef VIRTD_BACKEND_H
#define VIRTD_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rpc/verr.h"

#define DOMAIN_UUID_LEN 16
#define DOMAIN_NAME_MAX 256

/* virDomainState and reasons (libvirt 9.0 values, see libvirt-domain.h). */
enum domain_state {
	DOMAIN_NOSTATE = 0,
	DOMAIN_RUNNING = 1,
	DOMAIN_BLOCKED = 2,
	DOMAIN_PAUSED = 3,
	DOMAIN_SHUTDOWN = 4,
	DOMAIN_SHUTOFF = 5,
	DOMAIN_CRASHED = 6,
	DOMAIN_PMSUSPENDED = 7,
};

/* The identity of a domain as a client sees it, plus what listing filters need. */
struct domain_summary {
	char name[DOMAIN_NAME_MAX];
	uint8_t uuid[DOMAIN_UUID_LEN];
	int id;			/* > 0 when active, -1 when inactive */
	int state;		/* enum domain_state */
	int reason;		/* virDomain*Reason of that state */
	bool persistent;	/* has a stored definition */
	bool autostart;
	bool managed_save;	/* a managed-save image exists */
	bool updated;		/* live config differs from the stored one */
};

/* virDomainInfo. */
struct domain_info {
	int state;
	uint64_t max_mem_kib;
	uint64_t mem_kib;
	unsigned int nr_vcpus;
	uint64_t cpu_time_ns;
};

/* virVcpuInfo. */
struct domain_vcpu_info {
	unsigned int number;
	int state;		/* 0 offline, 1 running, 2 blocked */
	uint64_t cpu_time_ns;
	int cpu;		/* host CPU, -1 unknown */
};

/* A virTypedParameter. */
enum {
	DOMAIN_PARAM_INT = 1,
	DOMAIN_PARAM_UINT = 2,
	DOMAIN_PARAM_LLONG = 3,
	DOMAIN_PARAM_ULLONG = 4,
	DOMAIN_PARAM_DOUBLE = 5,
	DOMAIN_PARAM_BOOLEAN = 6,
	DOMAIN_PARAM_STRING = 7,
};

struct domain_param {
	char field[81];		/* VIR_TYPED_PARAM_FIELD_LENGTH + NUL */
	int type;
	union {
		int i;
		unsigned int ui;
		int64_t l;
		uint64_t ul;
		double d;
		int b;
		char *s;	/* owned */
	} v;
};

void domain_params_free(struct domain_param *p, size_t n);

/* @uuid as libvirt prints it ("4b5e…-…"), for error messages. */
#define DOMAIN_UUID_STRLEN 37
void domain_uuid_format(const uint8_t *uuid, char out[DOMAIN_UUID_STRLEN]);

/* One record of virConnectGetAllDomainStats. */
struct domain_stats {
	struct domain_summary dom;
	struct domain_param *params;
	size_t nparams;
};

/* virDomainMemoryStat. */
struct domain_memory_stat {
	int tag;		/* VIR_DOMAIN_MEMORY_STAT_* */
	uint64_t val;
};

/* virDomainBlockStats (DOMAIN_BLOCK_STATS). */
struct domain_block_stats {
	int64_t rd_req, rd_bytes, wr_req, wr_bytes, errs;
};

/* virDomainInterfaceStats (DOMAIN_INTERFACE_STATS), the guest's view. */
struct domain_interface_stats {
	int64_t rx_bytes, rx_packets, rx_errs, rx_drop, tx_bytes, tx_packets, tx_errs, tx_drop;
};

/*
 * virDomainJobInfo / virDomainGetJobStats: a running job's progress, or the statistics of
 * the last finished one (DOMAIN_JOB_STATS_COMPLETED). type: VIR_DOMAIN_JOB_* — 0 none,
 * 2 unbounded (running), 3 completed, 4 failed, 5 cancelled.
 */
enum {
	DOMAIN_JOB_NONE = 0, DOMAIN_JOB_UNBOUNDED = 2, DOMAIN_JOB_COMPLETED = 3,
	DOMAIN_JOB_FAILED = 4, DOMAIN_JOB_CANCELLED = 5,
};
/* VIR_DOMAIN_JOB_OPERATION_* */
enum {
	DOMAIN_JOB_OP_SAVE = 2, DOMAIN_JOB_OP_RESTORE = 3, DOMAIN_JOB_OP_MIGRATION_IN = 4,
	DOMAIN_JOB_OP_MIGRATION_OUT = 5,
};
/* virDomainGetJobStatsFlags */
#define DOMAIN_JOB_STATS_COMPLETED	(1u << 0)	/* the last finished job */
#define DOMAIN_JOB_STATS_KEEP_COMPLETED	(1u << 1)	/* and do not forget it */

struct domain_job_info {
	int type;
	uint64_t elapsed_ms;
	uint64_t data_total, data_processed, data_remaining;
	uint64_t mem_total, mem_processed, mem_remaining;
	/* For virDomainGetJobStats: */
	int operation;			/* DOMAIN_JOB_OP_* */
	uint64_t dirty_rate;		/* pages per second, last round */
	uint64_t iteration;		/* rounds so far */
	uint64_t bps;			/* bytes per second so far */
	int throttle;			/* auto-converge percent */
	/* Finished jobs only: */
	bool has_downtime, has_setup;
	uint64_t downtime_ms;		/* the guest paused until the destination ran it */
	uint64_t setup_ms;		/* before the stream began (connecting) */
	char errmsg[256];		/* why it failed ("" on success) */
};


/* virDomainMigrateFlags (libvirt 9.0). */
enum {
	MIGRATE_LIVE = 1u << 0,
	MIGRATE_PEER2PEER = 1u << 1,
	MIGRATE_TUNNELLED = 1u << 2,
	MIGRATE_PERSIST_DEST = 1u << 3,
	MIGRATE_UNDEFINE_SOURCE = 1u << 4,
	MIGRATE_PAUSED = 1u << 5,
	MIGRATE_NON_SHARED_DISK = 1u << 6,
	MIGRATE_NON_SHARED_INC = 1u << 7,
	MIGRATE_CHANGE_PROTECTION = 1u << 8,
	MIGRATE_UNSAFE = 1u << 9,
	MIGRATE_OFFLINE = 1u << 10,
	MIGRATE_COMPRESSED = 1u << 11,
	MIGRATE_ABORT_ON_ERROR = 1u << 12,
	MIGRATE_AUTO_CONVERGE = 1u << 13,
	MIGRATE_POSTCOPY = 1u << 15,
	MIGRATE_TLS = 1u << 16,
	MIGRATE_PARALLEL = 1u << 17,
};
/* What Domus takes (a migration is always live; shared storage is required anyway). */
#define MIGRATE_FLAGS_OK                                                                           \
	(MIGRATE_LIVE | MIGRATE_PEER2PEER | MIGRATE_PERSIST_DEST | MIGRATE_UNDEFINE_SOURCE |       \
	 MIGRATE_CHANGE_PROTECTION | MIGRATE_UNSAFE | MIGRATE_ABORT_ON_ERROR |                     \
	 MIGRATE_AUTO_CONVERGE)

/*
 * What a migration step gets (remote/proc-migrate.c decodes the typed params and the
 * cookie; docs/virtdomusd.md "Live migration"). Strings are borrowed.
 */
struct domain_migrate_args {
	unsigned int flags;		/* VIR_MIGRATE_* */
	uint8_t uuid[DOMAIN_UUID_LEN];	/* the domain (finish: from the cookie) */
	const char *dname;		/* destination_name, or NULL */
	const char *dest_xml;		/* prepare: destination_xml */
	const char *persist_xml;	/* finish with PERSIST_DEST: persistent_xml, or NULL */
	const char *uri;		/* prepare: the user's migrate_uri (or NULL);
					 * perform: where the destination listens */
	const char *local_host;		/* prepare: the address the client reached us on */
	const char *listen_address;	/* prepare: listen_address, or NULL */
	bool has_bandwidth;
	uint64_t bandwidth_mib;		/* MiB/s */
	int cancelled;			/* finish, confirm */
	const struct domain_job_info *stats; /* finish: the source's, from perform's cookie */
};

enum domain_migrate_limit { DOMAIN_MIGRATE_DOWNTIME_MS, DOMAIN_MIGRATE_SPEED_MIB };

/* Lifecycle event and detail numbers are libvirt's (VIR_DOMAIN_EVENT_*). */
struct domain_event_sink {
	void (*lifecycle)(void *opaque, const struct domain_summary *dom, int event, int detail);
	void (*reboot)(void *opaque, const struct domain_summary *dom);
	/* A save, restore or migration finished well: its statistics (optional). */
	void (*job_completed)(void *opaque, const struct domain_summary *dom,
			      const struct domain_job_info *job);
	void *opaque;
};

struct domain_backend;

struct domain_backend_ops {
	const char *name;
	void (*destroy_backend)(struct domain_backend *b);

	/* Listing and lookup. list: every domain, active and inactive (the caller filters). */
	int (*list)(struct domain_backend *b, struct domain_summary **out, size_t *n, struct verr *err);
	int (*lookup_by_uuid)(struct domain_backend *b, const uint8_t *uuid, struct domain_summary *out,
			      struct verr *err);
	int (*lookup_by_name)(struct domain_backend *b, const char *name, struct domain_summary *out,
			      struct verr *err);
	int (*lookup_by_id)(struct domain_backend *b, int id, struct domain_summary *out,
			    struct verr *err);

	/* State and description. */
	int (*get_info)(struct domain_backend *b, const uint8_t *uuid, struct domain_info *out,
			struct verr *err);
	int (*get_xml)(struct domain_backend *b, const uint8_t *uuid, unsigned int flags, char **xml,
		       struct verr *err);
	int (*get_max_vcpus)(struct domain_backend *b, const uint8_t *uuid, int *out, struct verr *err);

	/* Definitions. define/create_xml return the (new or updated) domain in @out. */
	int (*define_xml)(struct domain_backend *b, const char *xml, unsigned int flags,
			  struct domain_summary *out, struct verr *err);
	int (*undefine)(struct domain_backend *b, const uint8_t *uuid, unsigned int flags,
			struct verr *err);
	int (*set_autostart)(struct domain_backend *b, const uint8_t *uuid, bool on, struct verr *err);

	/* Lifecycle. @flags are the libvirt flags of the matching *Flags API (0 for the plain one). */
	int (*create)(struct domain_backend *b, const uint8_t *uuid, unsigned int flags,
		      struct verr *err);
	int (*create_xml)(struct domain_backend *b, const char *xml, unsigned int flags,
			  struct domain_summary *out, struct verr *err);
	int (*destroy)(struct domain_backend *b, const uint8_t *uuid, unsigned int flags,
		       struct verr *err);
	int (*shutdown)(struct domain_backend *b, const uint8_t *uuid, unsigned int flags,
			struct verr *err);
	int (*reboot)(struct domain_backend *b, const uint8_t *uuid, unsigned int flags,
		      struct verr *err);
	int (*reset)(struct domain_backend *b, const uint8_t *uuid, unsigned int flags,
		     struct verr *err);
	int (*suspend)(struct domain_backend *b, const uint8_t *uuid, struct verr *err);
	int (*resume)(struct domain_backend *b, const uint8_t *uuid, struct verr *err);

	/* Tuning. set_memory: @flags are VIR_DOMAIN_AFFECT_* | VIR_DOMAIN_MEM_MAXIMUM. */
	int (*set_memory)(struct domain_backend *b, const uint8_t *uuid, uint64_t kib,
			  unsigned int flags, struct verr *err);
	int (*set_vcpus)(struct domain_backend *b, const uint8_t *uuid, unsigned int n,
			 unsigned int flags, struct verr *err);
	int (*get_vcpus_flags)(struct domain_backend *b, const uint8_t *uuid, unsigned int flags,
			       int *out, struct verr *err);
	/*
	 * vcpu_info: up to @maxinfo entries in @info (caller-allocated), and when @maplen > 0
	 * the affinity of each in @cpumaps (caller-allocated, zeroed, maxinfo × maplen bytes).
	 * Return the number of entries in @n.
	 */
	int (*vcpu_info)(struct domain_backend *b, const uint8_t *uuid, struct domain_vcpu_info *info,
			 int maxinfo, uint8_t *cpumaps, int maplen, int *n, struct verr *err);
	/* vcpu_pin_info: like above for the configured pinning of @ncpumaps vCPUs. */
	int (*vcpu_pin_info)(struct domain_backend *b, const uint8_t *uuid, int ncpumaps,
			     uint8_t *cpumaps, int maplen, unsigned int flags, int *n,
			     struct verr *err);
	int (*pin_vcpu)(struct domain_backend *b, const uint8_t *uuid, unsigned int vcpu,
			const uint8_t *cpumap, size_t maplen, unsigned int flags, struct verr *err);
	/* Scheduler "credit": params weight (UINT), cap (UINT). */
	int (*sched_type)(struct domain_backend *b, const uint8_t *uuid, char **type, int *nparams,
			  struct verr *err);
	int (*sched_get)(struct domain_backend *b, const uint8_t *uuid, unsigned int flags,
			 struct domain_param **params, size_t *n, struct verr *err);
	int (*sched_set)(struct domain_backend *b, const uint8_t *uuid, const struct domain_param *params,
			 size_t n, unsigned int flags, struct verr *err);

	/* Statistics. stats: @groups are VIR_DOMAIN_STATS_* (0 = all supported). */
	int (*stats)(struct domain_backend *b, const uint8_t *uuid, unsigned int groups,
		     struct domain_param **params, size_t *n, struct verr *err);
	int (*memory_stats)(struct domain_backend *b, const uint8_t *uuid, struct domain_memory_stat *out,
			    unsigned int max, unsigned int *n, struct verr *err);
	/* @path: a disk's target ("vda") or source; @dev: an interface's tap name or MAC. */
	int (*block_stats)(struct domain_backend *b, const uint8_t *uuid, const char *path,
			   struct domain_block_stats *out, struct verr *err);
	int (*interface_stats)(struct domain_backend *b, const uint8_t *uuid, const char *dev,
			       struct domain_interface_stats *out, struct verr *err);

	/*
	 * open_console: a file descriptor (pty master or socket) carrying the console @dev_name
	 * (NULL = the first one); ownership goes to the caller, which relays it as a stream.
	 */
	int (*open_console)(struct domain_backend *b, const uint8_t *uuid, const char *dev_name,
			    unsigned int flags, int *fd, struct verr *err);

	/*
	 * Save and restore (virt-driver/xc/xc-save.c, docs/savestate.md). save: the domain's
	 * state into @path, then it stops (@flags VIR_DOMAIN_SAVE_RUNNING/PAUSED: how a restore
	 * starts it). restore: a file from save; the domain starts again. managed_save: the same
	 * into the daemon's own file, which the next create resumes from.
	 */
	int (*save)(struct domain_backend *b, const uint8_t *uuid, const char *path,
		    unsigned int flags, struct verr *err);
	int (*restore)(struct domain_backend *b, const char *path, unsigned int flags,
		       struct verr *err);
	int (*managed_save)(struct domain_backend *b, const uint8_t *uuid, unsigned int flags,
			    struct verr *err);
	int (*managed_save_remove)(struct domain_backend *b, const uint8_t *uuid,
				   unsigned int flags, struct verr *err);
	int (*save_image_xml)(struct domain_backend *b, const char *path, unsigned int flags,
			      char **xml, struct verr *err);
	/*
	 * The running job (a save, a migration) from another client: never waits for it. With
	 * DOMAIN_JOB_STATS_COMPLETED the statistics of the last finished one instead (save,
	 * restore, migration out here or in here), forgotten once read unless
	 * DOMAIN_JOB_STATS_KEEP_COMPLETED.
	 */
	int (*job_info)(struct domain_backend *b, const uint8_t *uuid, unsigned int flags,
			struct domain_job_info *out, struct verr *err);
	int (*abort_job)(struct domain_backend *b, const uint8_t *uuid, struct verr *err);

	/*
	 * Live migration (xc/xc-migrate.c). Source: begin (the XML for the destination),
	 * perform (send; blocks, off the main loop), confirm. Destination: prepare (listen;
	 * *uri_out is where perform must connect), finish (wait for the domain to run here;
	 * @out is it). Limits: the running migration's, else the next one's.
	 */
	int (*migrate_begin)(struct domain_backend *b, const uint8_t *uuid, unsigned int flags,
			     char **xml, struct verr *err);
	int (*migrate_prepare)(struct domain_backend *b, const struct domain_migrate_args *a,
			       char **uri_out, struct verr *err);
	int (*migrate_perform)(struct domain_backend *b, const struct domain_migrate_args *a,
			       struct verr *err);
	int (*migrate_finish)(struct domain_backend *b, const struct domain_migrate_args *a,
			      struct domain_summary *out, struct verr *err);
	int (*migrate_confirm)(struct domain_backend *b, const struct domain_migrate_args *a,
			       struct verr *err);
	int (*migrate_set_limit)(struct domain_backend *b, const uint8_t *uuid,
				 enum domain_migrate_limit which, uint64_t value, struct verr *err);
	int (*migrate_get_limit)(struct domain_backend *b, const uint8_t *uuid,
				 enum domain_migrate_limit which, uint64_t *value, struct verr *err);

	/* Running domains, for the daemon's idle timeout. */
	unsigned int (*count_active)(struct domain_backend *b);
};

struct domain_backend {
	const struct domain_backend_ops *ops;
	struct domain_event_sink events;
	void *priv;
};

/*
 * The backend the daemon ships with until domain control is wired to libxc: it knows no
 * domains (lists are empty, lookups fail with VIR_ERR_NO_DOMAIN) and every other op is
 * unsupported.
 */
struct domain_backend *domain_backend_none_new(const struct domain_event_sink *events);

static inline void domain_backend_free(struct domain_backend *b)
{
	if (b)
		b->ops->destroy_backend(b);
}

#endif
