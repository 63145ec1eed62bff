// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Live migration over libxc (docs/virtdomusd.md "Live migration", docs/savestate.md).
 *
 * Source: begin gives the running definition; perform connects to the destination's port
 * and runs xc_domain_migrate_send() under the domain's job (a worker thread: job info,
 * abort and the limits come meanwhile through a second handle); when it returns 0 the
 * destination runs the guest (the VMMs' READY/GO handshake decided it) and the domain here
 * waits, paused (migration), for confirm, which ends it. When perform fails the guest runs
 * on here: exactly one copy either way.
 *
 * Destination: prepare validates the XML, reserves the domain (the defined one with its
 * UUID and name, or a new transient one) and listens; an incoming thread accepts one
 * connection (or gives up after a timeout or a cancel), starts the VMM with
 * cfg.incoming and waits until the guest runs here, emitting the events as it goes, and
 * cleans up by itself when anything fails. finish waits for that thread and reports.
 */
#define G_LOG_DOMAIN "virtdomusd"
#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "xc-migrate.h"

#define ACCEPT_TIMEOUT_MS 60000		/* prepare → the source's connection */
#define CONNECT_TIMEOUT_MS 10000
#define DEFAULT_DOWNTIME_MS 300

/* An incoming migration, from prepare to finish. */
struct xmig_in {
	struct xc_backend *xb;
	struct xdom *xd;		/* referenced */
	struct domus_domain_def *def;
	uint8_t uuid[16];
	char *name;
	bool added;			/* xd was made for it (transient) */
	int lfd, cancel_fd;
	gint64 t0;			/* prepare */
	GThread *thread;
	bool failed;			/* set by the thread before it ends */
	struct verr err;
};

static void xmig_in_free(struct xmig_in *in)
{
	if (in->thread)
		g_thread_join(in->thread);
	if (in->lfd >= 0)
		close(in->lfd);
	if (in->cancel_fd >= 0)
		close(in->cancel_fd);
	domus_domain_def_free(in->def);
	xdom_unref(in->xd);
	g_free(in->name);
	g_free(in);
}

void xb_migrate_init(struct xc_backend *xb, const struct xc_backend_config *cfg)
{
	xb->mig_address = g_strdup(cfg->migration_address);
	xb->mig_host = g_strdup(cfg->migration_host);
	xb->mig_port_min = cfg->migration_port_min ? cfg->migration_port_min : 49152;
	xb->mig_port_max = cfg->migration_port_max ? cfg->migration_port_max : 49215;
	xb->incoming = g_ptr_array_new();
}

void xb_migrate_fini(struct xc_backend *xb)
{
	if (!xb->incoming)
		return;
	/* Unfinished incoming migrations: cancel them, wait for their threads. */
	for (guint i = 0; i < xb->incoming->len; i++) {
		struct xmig_in *in = xb->incoming->pdata[i];

		eventfd_write(in->cancel_fd, 1);
		xmig_in_free(in);
	}
	g_ptr_array_unref(xb->incoming);
	g_free(xb->mig_address);
	g_free(xb->mig_host);
}

bool xb_migrated_out(struct xc_backend *xb, struct xdom *xd)
{
	bool out;

	g_mutex_lock(&xb->lock);
	out = xd->migrated_out;
	g_mutex_unlock(&xb->lock);
	return out;
}

/* ---- source: begin ---- */

static int xb_migrate_begin(struct domain_backend *b, const uint8_t *uuid, unsigned int flags,
			    char **xml, struct verr *err)
{
	struct xc_backend *xb = xb_of(b);
	g_autoptr(xdom) xd = xb_find(xb, uuid, err);
	int r = 0;

	if (!xd)
		return -1;
	g_mutex_lock(&xb->lock);
	if (xd->id < 0)
		r = verr_set(err, VERR_OPERATION_INVALID, VERR_FROM_DOMAIN, "domain is not running");
	else if (xd->migrated_out || xd->migrating_out || xd->migrating_in)
		r = verr_set(err, VERR_OPERATION_INVALID, VERR_FROM_DOMAIN,
			     "domain '%s' is already migrating", xd->name);
	else if (xd->state != DOMAIN_RUNNING)
		r = verr_set(err, VERR_OPERATION_INVALID, VERR_FROM_DOMAIN,
			     "domain '%s' is not running (paused?): resume it before migrating",
			     xd->name);
	else
		*xml = domus_domain_def_format(xd->live, DOMUS_DEF_FORMAT_INACTIVE);
	g_mutex_unlock(&xb->lock);
	return r;
}

/* ---- destination: prepare and the incoming thread ---- */

static bool destroy_requested(struct xc_backend *xb, struct xdom *xd)
{
	bool d;

	g_mutex_lock(&xb->lock);
	d = xd->destroying;
	g_mutex_unlock(&xb->lock);
	return d;
}

/* The arriving VMM ended (@gone: it is out of the registry already); @why says how. */
static int receive_failed(struct xmig_in *in, bool gone)
{
	struct xc_backend *xb = in->xb;
	struct xdom *xd = in->xd;
	bool destroyed = destroy_requested(xb, xd);

	if (destroyed)
		verr_set(&in->err, VERR_OPERATION_FAILED, VERR_FROM_DOMAIN,
			 "the domain was destroyed here while it arrived");
	if (destroyed && !gone)
		xc_domain_destroy(xd->xch, xd->ctl);
	xb_stopped(xb, xd, DOMAIN_SHUTOFF, destroyed ? OFF_DESTROYED : OFF_FAILED,
		   destroyed || gone);
	xb_emit(xb, xd, EV_STOPPED, destroyed ? 1 : 5);	/* STOPPED DESTROYED / FAILED */
	return -1;
}

/* Start the VMM on the accepted @fd and wait until the guest runs here (under job). */
static int receive(struct xmig_in *in, int fd)
{
	struct xc_backend *xb = in->xb;
	struct xdom *xd = in->xd;
	int r;

	in->xd->incoming_fd = fd;
	r = xb_start(xb, xd, in->def, false, &in->err);
	xd->incoming_fd = -1;
	if (r < 0)
		return -1;
	xb_emit(xb, xd, EV_STARTED, 1);		/* STARTED MIGRATED */
	/* A destroy that came before the VMM had an id found nothing to kill: do it now. */
	if (destroy_requested(xb, xd))
		return receive_failed(in, false);
	r = xc_domain_wait_running(xd->xch, xd->ctl, -1);
	if (r < 0) {
		verr_set(&in->err, VERR_OPERATION_FAILED, VERR_FROM_DOMAIN, "%s",
			 xc_last_error(xd->xch));
		return receive_failed(in, r == -EIO);
	}
	/* Arrived just as a destroy came: it asked for the domain's end, so it ends. */
	if (destroy_requested(xb, xd))
		return receive_failed(in, false);
	if (xb_incoming_arrived(xb, xd, &in->err) < 0) {
		g_warning("domain %s arrived but: %s", xd->name, in->err.message);
		memset(&in->err, 0, sizeof(in->err));
	}
	if (xb_watch(xb, xd, &in->err) < 0) {
		g_warning("domain %s runs but cannot be watched: %s", xd->name, in->err.message);
		memset(&in->err, 0, sizeof(in->err));
	}
	xb_emit(xb, xd, EV_RESUMED, 1);		/* RESUMED MIGRATED */
	return 0;
}

bool xb_migrate_in_destroy(struct xc_backend *xb, struct xdom *xd)
{
	xc_interface *xch;
	int id, r;

	g_mutex_lock(&xb->lock);
	/* Arrived and running already: an ordinary destroy (a second handle reaches it). */
	if (!xd->migrating_in || xd->state == DOMAIN_RUNNING) {
		g_mutex_unlock(&xb->lock);
		return false;
	}
	xd->destroying = true;
	id = xd->id;
	for (guint i = 0; i < xb->incoming->len; i++) {
		struct xmig_in *in = xb->incoming->pdata[i];

		if (in->xd == xd)
			eventfd_write(in->cancel_fd, 1);	/* stops the wait for the source */
	}
	g_mutex_unlock(&xb->lock);
	/* Its VMM answers nobody until the guest arrived: it is killed, not asked. */
	if (id > 0 && xc_interface_open(0, &xch) == 0) {
		r = xc_domain_kill(xch, id);
		g_message("domain %s: destroyed while it arrived%s", xd->name,
			  r < 0 ? " (its VMM had ended)" : "");
		xc_interface_close(xch);
	}
	return true;
}

static gpointer incoming_thread(gpointer data)
{
	struct xmig_in *in = data;
	struct xc_backend *xb = in->xb;
	int fd = mig_accept(in->lfd, in->cancel_fd, ACCEPT_TIMEOUT_MS, &in->err);
	int r = -1;

	close(in->lfd);
	in->lfd = -1;
	g_mutex_lock(&in->xd->job);
	if (fd >= 0) {
		r = receive(in, fd);
		close(fd);
	}
	/* Finish replaces this with the source's figures, which its cookie carries. */
	if (r == 0)
		xb_job_done(xb, in->xd, &(struct domain_job_info){
			.type = DOMAIN_JOB_COMPLETED, .operation = DOMAIN_JOB_OP_MIGRATION_IN,
			.elapsed_ms = (g_get_monotonic_time() - in->t0) / 1000,
			.mem_total = in->def->memory_kib * 1024,
		});
	else
		xb_job_failed(xb, in->xd, DOMAIN_JOB_OP_MIGRATION_IN, in->t0, false,
			      in->err.message);
	g_mutex_unlock(&in->xd->job);
	if (r < 0)
		g_message("incoming migration of %s failed: %s", in->name, in->err.message);
	else
		g_message("domain %s arrived and runs here (id %d)", in->name, in->xd->id);
	g_mutex_lock(&xb->lock);
	in->failed = r < 0;
	in->xd->migrating_in = false;
	in->xd->destroying = false;
	if (r < 0 && in->added && in->xd->id < 0 && !in->xd->persistent && !in->xd->removed)
		xb_remove(xb, in->xd);
	g_mutex_unlock(&xb->lock);
	return NULL;
}

/* The def of the arriving domain, checked against what the cookie says migrates. */
static struct domus_domain_def *prepare_def(struct xc_backend *xb,
					    const struct domain_migrate_args *a, struct verr *err)
{
	g_autoptr(domus_domain_def) def = xb_parse(xb, a->dest_xml, 0, err);

	if (!def)
		return NULL;
	if (memcmp(def->uuid, a->uuid, 16)) {
		verr_set(err, VERR_INVALID_ARG, VERR_FROM_DOMAIN,
			 "the destination XML describes another domain (UUID) than the one migrating");
		return NULL;
	}
	if (a->dname && strcmp(a->dname, def->name)) {
		verr_set(err, VERR_ARGUMENT_UNSUPPORTED, VERR_FROM_DOMAIN,
			 "renaming a domain while migrating (--dname %s) is not supported",
			 a->dname);
		return NULL;
	}
	return g_steal_pointer(&def);
}

/* Listen where the user's migrate_uri or our configuration says; the URI for the source. */
static int prepare_listen(struct xc_backend *xb, const struct domain_migrate_args *a,
			  char **uri_out, struct verr *err)
{
	g_autofree char *host = NULL;
	unsigned int port = 0, bound;
	int fd;

	if (a->uri && mig_uri_parse(a->uri, &host, &port, err) < 0)
		return -1;
	fd = mig_listen(a->listen_address ? a->listen_address : xb->mig_address, port,
			xb->mig_port_min, xb->mig_port_max, &bound, err);
	if (fd < 0)
		return -1;
	if (!host)
		host = g_strdup(xb->mig_host ? xb->mig_host :
				a->local_host ? a->local_host : g_get_host_name());
	*uri_out = strchr(host, ':') && host[0] != '[' ?
		   g_strdup_printf("tcp:[%s]:%u", host, bound) :
		   g_strdup_printf("tcp:%s:%u", host, bound);
	return fd;
}

/* An incoming migration of the same domain that ended without a finish: forget it. */
static void drop_stale(struct xc_backend *xb, const uint8_t *uuid)
{
	struct xmig_in *stale = NULL;

	g_mutex_lock(&xb->lock);
	for (guint i = 0; i < xb->incoming->len && !stale; i++) {
		struct xmig_in *in = xb->incoming->pdata[i];

		if (!memcmp(in->uuid, uuid, 16) && !in->xd->migrating_in)
			stale = g_ptr_array_steal_index(xb->incoming, i);
	}
	g_mutex_unlock(&xb->lock);
	if (stale)
		xmig_in_free(stale);
}

/* Reserve the domain: not running, not arriving already. */
static int prepare_claim(struct xc_backend *xb, struct xmig_in *in, struct verr *err)
{
	int r = 0;

	if (!(in->xd = xb_restore_target(xb, in->def, &in->added, err)))
		return -1;
	g_mutex_lock(&xb->lock);
	if (in->xd->id > 0 || in->xd->migrating_in)
		r = verr_set(err, VERR_OPERATION_INVALID, VERR_FROM_DOMAIN,
			     "domain '%s' is already %s here", in->xd->name,
			     in->xd->id > 0 ? "running" : "arriving");
	else
		in->xd->migrating_in = true;
	if (r < 0 && in->added && !in->xd->removed)
		xb_remove(xb, in->xd);
	g_mutex_unlock(&xb->lock);
	return r;
}

static int xb_migrate_prepare(struct domain_backend *b, const struct domain_migrate_args *a,
			      char **uri_out, struct verr *err)
{
	struct xc_backend *xb = xb_of(b);
	struct xmig_in *in = g_new0(struct xmig_in, 1);

	in->xb = xb;
	in->lfd = in->cancel_fd = -1;
	in->t0 = g_get_monotonic_time();
	memcpy(in->uuid, a->uuid, 16);
	drop_stale(xb, a->uuid);
	if (!(in->def = prepare_def(xb, a, err)) || prepare_claim(xb, in, err) < 0)
		goto fail;
	in->name = g_strdup(in->def->name);
	if ((in->lfd = prepare_listen(xb, a, uri_out, err)) < 0 ||
	    (in->cancel_fd = eventfd(0, EFD_CLOEXEC)) < 0) {
		if (in->lfd >= 0)
			verr_set(err, VERR_SYSTEM_ERROR, VERR_FROM_DOMAIN, "eventfd: %s",
				 g_strerror(errno));
		g_mutex_lock(&xb->lock);
		in->xd->migrating_in = false;
		if (in->added && !in->xd->removed)
			xb_remove(xb, in->xd);
		g_mutex_unlock(&xb->lock);
		goto fail;
	}
	g_mutex_lock(&xb->lock);
	g_ptr_array_add(xb->incoming, in);
	g_mutex_unlock(&xb->lock);
	in->thread = g_thread_new("migrate-in", incoming_thread, in);
	g_message("waiting for the migration of %s on %s", in->name, *uri_out);
	return 0;
fail:
	xmig_in_free(in);
	return -1;
}

/* ---- destination: finish ---- */

static struct xmig_in *take_incoming(struct xc_backend *xb, const struct domain_migrate_args *a)
{
	static const uint8_t zero[16];
	struct xmig_in *found = NULL;

	g_mutex_lock(&xb->lock);
	for (guint i = 0; i < xb->incoming->len && !found; i++) {
		struct xmig_in *in = xb->incoming->pdata[i];

		if (memcmp(a->uuid, zero, 16) ? !memcmp(in->uuid, a->uuid, 16) :
		    a->dname && !strcmp(in->name, a->dname))
			found = g_ptr_array_steal_index(xb->incoming, i);
	}
	g_mutex_unlock(&xb->lock);
	return found;
}

/* PERSIST_DEST: the domain becomes defined here (DEFINED ADDED/UPDATED). */
static int persist(struct xc_backend *xb, struct xmig_in *in, const char *xml, struct verr *err)
{
	g_autofree char *own = NULL;
	struct domain_summary s;

	if (!xml) {
		g_mutex_lock(&xb->lock);
		own = domus_domain_def_format(in->def, DOMUS_DEF_FORMAT_INACTIVE);
		g_mutex_unlock(&xb->lock);
		xml = own;
	}
	return xb->base.ops->define_xml(&xb->base, xml, 0, &s, err);
}

/* The source's statistics (perform's cookie) are this side's: libvirt's way. */
static void job_done_in(struct xc_backend *xb, struct xdom *xd, const struct domain_job_info *src)
{
	struct domain_job_info j = *src;

	j.type = DOMAIN_JOB_COMPLETED;
	j.operation = DOMAIN_JOB_OP_MIGRATION_IN;
	j.errmsg[0] = '\0';
	xb_job_done(xb, xd, &j);
}

static int xb_migrate_finish(struct domain_backend *b, const struct domain_migrate_args *a,
			     struct domain_summary *out, struct verr *err)
{
	struct xc_backend *xb = xb_of(b);
	struct xmig_in *in = take_incoming(xb, a);
	int r = 0;

	if (!in)
		return verr_set(err, VERR_OPERATION_INVALID, VERR_FROM_DOMAIN,
				"no incoming migration of this domain here (no prepare step, or "
				"it was finished already)");
	if (a->cancelled)
		eventfd_write(in->cancel_fd, 1);
	g_thread_join(in->thread);
	in->thread = NULL;
	/*
	 * Arrived although the source reported a failure (its reply was lost after GO): the
	 * guest runs here only, so it stays; answering with the domain makes the client
	 * confirm the migration on the source.
	 */
	if (in->failed)
		r = verr_set(err, VERR_OPERATION_FAILED, VERR_FROM_DOMAIN,
			     "migration of domain '%s' did not arrive: %s", in->name,
			     in->err.message[0] ? in->err.message : "cancelled by the source");
	else if (a->stats)
		job_done_in(xb, in->xd, a->stats);
	if (!in->failed && a->flags & MIGRATE_PERSIST_DEST &&
	    persist(xb, in, a->persist_xml, err) < 0)
		g_warning("domain %s runs here but could not be made persistent: %s", in->name,
			  err->message);
	if (r == 0) {
		memset(err, 0, sizeof(*err));
		g_mutex_lock(&xb->lock);
		xb_summary(in->xd, out);
		g_mutex_unlock(&xb->lock);
	}
	xmig_in_free(in);
	return r;
}

/* ---- source: perform ---- */

static void set_migrating(struct xc_backend *xb, struct xdom *xd, bool on)
{
	g_mutex_lock(&xb->lock);
	xd->migrating_out = on;
	g_mutex_unlock(&xb->lock);
}

/* The statistics of a migration out that succeeded, begun at @t0, sending from @t1. */
static void job_done_out(struct xc_backend *xb, struct xdom *xd, const xc_migrate_result *res,
			 gint64 t0, gint64 t1)
{
	uint64_t mem;

	g_mutex_lock(&xb->lock);
	mem = xd->live ? xd->live->memory_kib * 1024 : 0;
	g_mutex_unlock(&xb->lock);
	xb_job_done(xb, xd, &(struct domain_job_info){
		.type = DOMAIN_JOB_COMPLETED, .operation = DOMAIN_JOB_OP_MIGRATION_OUT,
		.elapsed_ms = (g_get_monotonic_time() - t0) / 1000,
		.has_setup = true, .setup_ms = (t1 - t0) / 1000,
		.has_downtime = true, .downtime_ms = res->downtime_ns / 1000000,
		.data_total = res->bytes, .data_processed = res->bytes,
		.mem_total = mem, .mem_processed = res->pages * 4096,
		.bps = res->total_ns ? res->bytes * 1000000000ull / res->total_ns : 0,
		.iteration = res->rounds, .throttle = res->throttle,
	});
}

static int send_locked(struct xc_backend *xb, struct xdom *xd, const struct domain_migrate_args *a,
		       int fd, gint64 t0, bool *cancelled, struct verr *err)
{
	xc_migrate_params p = { .auto_converge = a->flags & MIGRATE_AUTO_CONVERGE };
	gint64 t1 = g_get_monotonic_time();
	xc_migrate_result res;
	int r;

	g_mutex_lock(&xb->lock);
	if (a->has_bandwidth)
		xd->mig_speed_mib = a->bandwidth_mib;
	p.max_downtime_ms = xd->mig_downtime_ms ? MIN(xd->mig_downtime_ms, UINT32_MAX) : 0;
	p.bandwidth = MIN(xd->mig_speed_mib, UINT64_MAX >> 20) << 20;
	xd->migrating_out = true;
	g_mutex_unlock(&xb->lock);
	r = xc_domain_migrate_send(xd->xch, xd->ctl, fd, &p, &res);
	set_migrating(xb, xd, false);
	*cancelled = r == -ECANCELED;
	if (r == -ECANCELED)
		return verr_set(err, VERR_OPERATION_FAILED, VERR_FROM_DOMAIN,
				"operation aborted: migration of domain '%s' was cancelled; it runs "
				"on here", xd->name);
	if (r < 0)
		return verr_set(err, VERR_OPERATION_FAILED, VERR_FROM_DOMAIN,
				"migration of domain '%s' failed (it runs on here): %s", xd->name,
				xc_last_error(xd->xch));
	job_done_out(xb, xd, &res, t0, t1);
	g_message("domain %s migrated: %" G_GUINT64_FORMAT " bytes in %u rounds, %"
		  G_GUINT64_FORMAT " ms, downtime %" G_GUINT64_FORMAT " ms", xd->name, res.bytes,
		  res.rounds, res.total_ns / 1000000, res.downtime_ns / 1000000);
	return 0;
}

static int xb_migrate_perform(struct domain_backend *b, const struct domain_migrate_args *a,
			      struct verr *err)
{
	struct xc_backend *xb = xb_of(b);
	g_autoptr(xdom) xd = xb_find(xb, a->uuid, err);
	gint64 t0 = g_get_monotonic_time();
	bool cancelled = false;
	int fd, r;

	if (!xd)
		return -1;
	g_mutex_lock(&xd->job);
	if ((r = xb_need_active(xd, err)) == 0 && xb_migrated_out(xb, xd))
		r = verr_set(err, VERR_OPERATION_INVALID, VERR_FROM_DOMAIN,
			     "domain '%s' was migrated already", xd->name);
	else if (r == 0 && (fd = mig_connect(a->uri, CONNECT_TIMEOUT_MS, err)) < 0)
		r = -1;
	else if (r == 0) {
		r = send_locked(xb, xd, a, fd, t0, &cancelled, err);
		close(fd);
	}
	/* A migration that began (the domain ran and was not sent yet) and failed. */
	if (r < 0 && xd->ctl && !xb_migrated_out(xb, xd))
		xb_job_failed(xb, xd, DOMAIN_JOB_OP_MIGRATION_OUT, t0, cancelled, err->message);
	if (r == 0) {
		g_mutex_lock(&xb->lock);
		xd->migrated_out = true;
		xd->state = DOMAIN_PAUSED;
		xd->reason = PAUSE_MIGRATION;
		g_mutex_unlock(&xb->lock);
		xb_emit(xb, xd, EV_SUSPENDED, 1);	/* SUSPENDED MIGRATED */
	}
	g_mutex_unlock(&xd->job);
	return r;
}

/* ---- source: confirm ---- */

static int confirm_locked(struct xc_backend *xb, struct xdom *xd, int cancelled,
			  struct verr *err)
{
	bool out = xb_migrated_out(xb, xd);

	if (!out && !cancelled)
		return verr_set(err, VERR_OPERATION_INVALID, VERR_FROM_DOMAIN,
				"domain '%s' was not migrated (no successful perform step)",
				xd->name);
	if (!out)
		return 0;	/* the migration failed: the guest runs on here */
	g_mutex_lock(&xb->lock);
	xd->migrated_out = false;
	g_mutex_unlock(&xb->lock);
	xb_stopped(xb, xd, DOMAIN_SHUTOFF, cancelled ? OFF_FAILED : OFF_MIGRATED, false);
	xb_emit(xb, xd, EV_STOPPED, cancelled ? 5 : 3);	/* STOPPED FAILED / MIGRATED */
	if (cancelled)
		return verr_set(err, VERR_OPERATION_FAILED, VERR_FROM_DOMAIN,
				"domain '%s' cannot run here again: its state went to the "
				"destination, which then reported a failure", xd->name);
	return 0;
}

static int xb_migrate_confirm(struct domain_backend *b, const struct domain_migrate_args *a,
			      struct verr *err)
{
	struct xc_backend *xb = xb_of(b);
	g_autoptr(xdom) xd = xb_find(xb, a->uuid, err);
	bool undefine;
	int r;

	if (!xd)
		return -1;
	g_mutex_lock(&xd->job);
	r = confirm_locked(xb, xd, a->cancelled, err);
	g_mutex_unlock(&xd->job);
	g_mutex_lock(&xb->lock);
	undefine = r == 0 && !a->cancelled && a->flags & MIGRATE_UNDEFINE_SOURCE &&
		   xd->persistent && xd->id < 0;
	g_mutex_unlock(&xb->lock);
	if (undefine && b->ops->undefine(b, a->uuid, 0, err) < 0)
		g_warning("domain %s migrated but not undefined here: %s", xd->name, err->message);
	memset(err, 0, r == 0 ? sizeof(*err) : 0);
	xb_forget_transient(xb, xd);	/* ended here, whichever way: a transient one goes */
	return r;
}

/* ---- limits ---- */

static int xb_migrate_set_limit(struct domain_backend *b, const uint8_t *uuid,
				enum domain_migrate_limit which, uint64_t value, struct verr *err)
{
	struct xc_backend *xb = xb_of(b);
	g_autoptr(xdom) xd = xb_find(xb, uuid, err);
	xc_interface *xch;
	xc_domain *dom;
	int r;

	if (!xd)
		return -1;
	if (which == DOMAIN_MIGRATE_DOWNTIME_MS && (value == 0 || value > UINT32_MAX))
		return verr_set(err, VERR_INVALID_ARG, VERR_FROM_DOMAIN,
				"the maximum downtime must be from 1 to %u ms", UINT32_MAX);
	if (which == DOMAIN_MIGRATE_SPEED_MIB && value > (UINT64_MAX >> 20))
		return verr_set(err, VERR_INVALID_ARG, VERR_FROM_DOMAIN,
				"bandwidth %" G_GUINT64_FORMAT " MiB/s is too large", value);
	g_mutex_lock(&xb->lock);
	if (which == DOMAIN_MIGRATE_DOWNTIME_MS)
		xd->mig_downtime_ms = value;
	else
		xd->mig_speed_mib = value;
	g_mutex_unlock(&xb->lock);
	/*
	 * A migration may run whoever started it (also a daemon before a restart: the VMMs
	 * go on without us): ask the VMM. No VMM or no migration: for the next one.
	 */
	if (xb_open_second(xb, xd, &xch, &dom, err) < 0) {
		memset(err, 0, sizeof(*err));
		return 0;
	}
	r = which == DOMAIN_MIGRATE_DOWNTIME_MS ?
	    xc_domain_migrate_set(xch, dom, XC_MIGRATE_SET_DOWNTIME, value, 0) :
	    xc_domain_migrate_set(xch, dom, XC_MIGRATE_SET_BANDWIDTH, 0, value << 20);
	xc_domain_close(xch, dom);
	xc_interface_close(xch);
	if (r < 0 && r != -ENOENT)	/* -ENOENT: none runs */
		return verr_set(err, VERR_OPERATION_FAILED, VERR_FROM_DOMAIN,
				"cannot change the running migration's limit: %s", g_strerror(-r));
	return 0;
}

static int xb_migrate_get_limit(struct domain_backend *b, const uint8_t *uuid,
				enum domain_migrate_limit which, uint64_t *value, struct verr *err)
{
	struct xc_backend *xb = xb_of(b);
	g_autoptr(xdom) xd = xb_find(xb, uuid, err);

	if (!xd)
		return -1;
	g_mutex_lock(&xb->lock);
	*value = which == DOMAIN_MIGRATE_SPEED_MIB ? xd->mig_speed_mib :
		 xd->mig_downtime_ms ? xd->mig_downtime_ms : DEFAULT_DOWNTIME_MS;
	g_mutex_unlock(&xb->lock);
	return 0;
}

void xb_migrate_ops(struct domain_backend_ops *ops)
{
	ops->migrate_begin = xb_migrate_begin;
	ops->migrate_prepare = xb_migrate_prepare;
	ops->migrate_perform = xb_migrate_perform;
	ops->migrate_finish = xb_migrate_finish;
	ops->migrate_confirm = xb_migrate_confirm;
	ops->migrate_set_limit = xb_migrate_set_limit;
	ops->migrate_get_limit = xb_migrate_get_limit;
}
