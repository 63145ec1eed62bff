/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The libxc backend of virtdomusd (struct domain_backend over libxc, the domain XML model
 * and the definitions store): shared internals of virt-driver/xc/.
 *
 * Locking. One backend lock (xb->lock) guards the domain list and every field of every
 * struct xdom marked "L" (identity, state, definitions); it is only held for short
 * bookkeeping, never across a libxc call. Each domain has a job lock (xd->job) that
 * serialises what is done to the domain through libxc (start, stop, tuning): the control
 * handle (xd->xch, xd->ctl) is only used under it. Order: job, then lock.
 *
 * Events. While a domain runs, a watcher (xc-events.c) holds a second, subscribed handle
 * whose xc_domain_event_fd() is a source on the daemon's main loop. The main loop only
 * reads events; each is handed to a single-threaded pool (xb->evpool, so they stay in
 * order) that takes the job lock and acts on it: libvirt events, on_poweroff/on_reboot/
 * on_crash. A run generation (xd->gen, bumped whenever the domain stops or starts) lets
 * that pool drop events of a run that an op already ended.
 */
#ifndef VIRTD_XC_BACKEND_H
#define VIRTD_XC_BACKEND_H

#include <glib.h>

#include <domus/xc.h>

#include "backend.h"
#include "backend-xc.h"
#include "domain_conf.h"
#include "domain_schema.h"
#include "domain_store.h"

struct xconsole;

struct xdom {
	gatomicrefcount refs;
	GMutex job;

	/* L: */
	char *name;
	uint8_t uuid[16];
	int id;				/* domid while active, else -1 */
	int state, reason;		/* libvirt's */
	bool persistent, autostart;
	bool removed;			/* no longer in the list */
	bool managed_save;		/* a managed save image exists (xc-save.c) */
	unsigned int gen;		/* run generation */
	struct domus_domain_def *def;	/* the stored definition; NULL when transient */
	struct domus_domain_def *live;	/* the running definition; NULL when inactive */
	struct xconsole *console;	/* the console session, if any (main loop owns it) */
	/* xc-migrate.c: the next migration's limits (0: default), and where one stands */
	uint64_t mig_downtime_ms, mig_speed_mib;
	bool migrating_out;		/* perform runs */
	bool migrated_out;		/* perform succeeded (the VMM ended): confirm next */
	bool migrating_in;		/* prepare .. the incoming thread's end */
	bool destroying;		/* destroy came while it was arriving */
	struct domain_job_info *completed; /* xc-jobs.c: the last finished job, or NULL */

	/* job: */
	xc_interface *xch;
	xc_domain *ctl;
	const char *restore_path;	/* set while xb_start() restores an image */
	int incoming_fd;		/* >= 0 while xb_start() receives a migration */
};

struct xc_backend {
	struct domain_backend base;
	GMainContext *ctx;
	bool session;
	struct domus_schema *schema;
	struct domus_domain_store *store;
	char *state_dir;
	GMutex lock;
	GPtrArray *doms;		/* struct xdom *, L */
	GThreadPool *evpool;		/* event handling, one thread */
	unsigned int nr_cpus;
	/* xc-migrate.c */
	char *mig_address, *mig_host;
	unsigned int mig_port_min, mig_port_max;
	GPtrArray *incoming;		/* struct xmig_in *, L: prepared, not yet finished */
};

static inline struct xc_backend *xb_of(struct domain_backend *b)
{
	return (struct xc_backend *)b;
}

/* xc-backend.c */
struct xdom *xdom_ref(struct xdom *xd);
void xdom_unref(struct xdom *xd);
typedef struct xdom xdom;	/* for g_autoptr() only */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xdom, xdom_unref)
/* The domain with @uuid, referenced; NULL with VIR_ERR_NO_DOMAIN. */
struct xdom *xb_find(struct xc_backend *xb, const uint8_t *uuid, struct verr *err);
void xb_summary(struct xdom *xd, struct domain_summary *s);	/* under xb->lock */
void xb_emit(struct xc_backend *xb, struct xdom *xd, int event, int detail);
void xb_emit_reboot(struct xc_backend *xb, struct xdom *xd);
int verr_from_domus(struct verr *err, struct domus_error *e);
int verr_from_xc(struct verr *err, xc_interface *xch, int r, const char *what);
void xb_remove(struct xc_backend *xb, struct xdom *xd);	/* under xb->lock */
struct xdom *xb_add(struct xc_backend *xb, const char *name, const uint8_t *uuid,
		    bool persistent);				/* under xb->lock */
struct domus_domain_def *xb_parse(struct xc_backend *xb, const char *xml, unsigned int flags,
				  struct verr *err);
/* The status file of a running domain: its live XML. */
char *xb_status_path(struct xc_backend *xb, const char *name);
void xb_write_status(struct xc_backend *xb, struct xdom *xd);	/* under job */
/* Require an active domain (under job); -1 with "domain is not running". */
int xb_need_active(struct xdom *xd, struct verr *err);

/* xc-build.c */
/* Start @def (a copy becomes xd->live); under job. Emits nothing. */
int xb_start(struct xc_backend *xb, struct xdom *xd, const struct domus_domain_def *def,
	     bool paused, struct verr *err);
/* The pty path the VMM printed in its log, or NULL. */
char *xb_console_pty(struct xc_backend *xb, const char *name);
char *xb_log_path(struct xc_backend *xb, const char *name);

/* xc-events.c */
struct xb_event {
	struct xdom *xd;		/* referenced */
	unsigned int gen;
	bool gone;			/* the connection ended without a last event */
	xc_domain_event ev;
};
void xb_handle_event(struct xc_backend *xb, struct xb_event *ev);	/* the event pool */
void xb_autostart(struct xc_backend *xb);				/* likewise */
int xb_start_and_watch(struct xc_backend *xb, struct xdom *xd,
		       const struct domus_domain_def *def, bool paused, struct verr *err);
int xb_watch(struct xc_backend *xb, struct xdom *xd, struct verr *err);
/* After the VMM ended (under job): remove it from the registry unless @destroyed says
 * xc_domain_destroy() did already, close the handles, end a console session, forget the
 * runtime state and the status file; the domain is now @state/@reason. */
void xb_stopped(struct xc_backend *xb, struct xdom *xd, int state, int reason, bool destroyed);
/* A transient domain that stopped leaves the list (after its STOPPED event). */
void xb_forget_transient(struct xc_backend *xb, struct xdom *xd);
/* Recover running domains from the registry and the status files at start-up. */
void xb_recover(struct xc_backend *xb);

/* xc-console.c */
int xb_open_console(struct domain_backend *b, const uint8_t *uuid, const char *dev,
		    unsigned int flags, int *fd, struct verr *err);
void xb_console_kick(struct xc_backend *xb, struct xdom *xd);

/* After an incoming migration arrived (under job): pins, state running (migrated). */
int xb_incoming_arrived(struct xc_backend *xb, struct xdom *xd, struct verr *err);

/* The op tables of the other files. */
unsigned int xb_def_cap(const struct domus_domain_def *def);
void xb_lifecycle_ops(struct domain_backend_ops *ops);
void xb_tuning_ops(struct domain_backend_ops *ops);

/* xc-save.c */
void xb_save_ops(struct domain_backend_ops *ops);
bool xb_has_managed_save(struct xc_backend *xb, const char *name);
/* create's way when a managed save image exists: resume from it (under job). */
int xb_start_managed(struct xc_backend *xb, struct xdom *xd, const struct domus_domain_def *def,
		     bool paused, struct verr *err);
/* start --force-boot: the image is dropped (libvirt's rule), so no later start resumes a
 * memory image older than the disks it would run on (under job). */
int xb_discard_managed(struct xc_backend *xb, struct xdom *xd, struct verr *err);
/* Before undefine: refuse while a managed save image exists, unless @flags has
 * VIR_DOMAIN_UNDEFINE_MANAGED_SAVE, which removes it. */
int xb_undefine_managed_save(struct xc_backend *xb, struct xdom *xd, unsigned int flags,
			     struct verr *err);
/* The domain a restored image or an incoming migration of @def becomes: the one with its
 * UUID and name, or a new transient one (*@added). */
struct xdom *xb_restore_target(struct xc_backend *xb, const struct domus_domain_def *def,
			       bool *added, struct verr *err);
/* A second libxc handle on @xd's running VMM (the job holds the first). */
int xb_open_second(struct xc_backend *xb, struct xdom *xd, xc_interface **xch, xc_domain **dom,
		   struct verr *err);

/* xc-jobs.c: job info and abort; the statistics of the last finished job (under job). */
void xb_job_ops(struct domain_backend_ops *ops);
/* @j is now @xd's last finished job (its memory_bps made up if 0). */
void xb_job_done(struct xc_backend *xb, struct xdom *xd, const struct domain_job_info *j);
/* A job of @op (DOMAIN_JOB_OP_*) begun at @t0 (g_get_monotonic_time()) failed for @why. */
void xb_job_failed(struct xc_backend *xb, struct xdom *xd, int op, gint64 t0, bool cancelled,
		   const char *why);

/* xc-migrate.c */
void xb_migrate_ops(struct domain_backend_ops *ops);
void xb_migrate_init(struct xc_backend *xb, const struct xc_backend_config *cfg);
void xb_migrate_fini(struct xc_backend *xb);
/*
 * destroy of a domain still arriving: the incoming migration is ended at once (its VMM
 * killed, or the wait for the source's connection cancelled) and fails; the source's guest
 * runs on. Return: true if @xd was arriving (destroy then waits for the job lock, which the
 * incoming thread lets go when it has cleaned up: STOPPED DESTROYED).
 */
bool xb_migrate_in_destroy(struct xc_backend *xb, struct xdom *xd);
/* Did a perform step send @xd away (its confirm is to come)? */
bool xb_migrated_out(struct xc_backend *xb, struct xdom *xd);

/* xc-events.c: a transient domain that stopped leaves the list. */
void xb_forget_transient(struct xc_backend *xb, struct xdom *xd);

/* libvirt's numbers used by the backend. */
enum {
	EV_DEFINED = 0, EV_UNDEFINED = 1, EV_STARTED = 2, EV_SUSPENDED = 3, EV_RESUMED = 4,
	EV_STOPPED = 5, EV_SHUTDOWN = 6, EV_CRASHED = 8,
};
enum { RUN_UNKNOWN = 0, RUN_BOOTED = 1, RUN_RESTORED = 3, RUN_UNPAUSED = 5 };
enum { PAUSE_UNKNOWN = 0, PAUSE_USER = 1 };
enum { OFF_UNKNOWN = 0, OFF_SHUTDOWN = 1, OFF_DESTROYED = 2, OFF_CRASHED = 3, OFF_MIGRATED = 4,
       OFF_FAILED = 6 };
enum { RUN_MIGRATED = 2, PAUSE_MIGRATION = 2 };
enum { CRASH_PANICKED = 1 };

#endif
