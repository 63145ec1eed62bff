// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What running domains do on their own: a subscribed libxc handle per running domain,
 * its xc_domain_event_fd() polled on the daemon's main loop; the events are acted upon in
 * the backend's event pool (libvirt events, on_poweroff / on_reboot / on_crash). Also the
 * recovery of running domains when the daemon starts.
 */
#define G_LOG_DOMAIN "virtdomusd"
#include <errno.h>
#include <string.h>

#include <glib-unix.h>
#include <glib/gstdio.h>

#include "xc-backend.h"

/* A watcher: after xb_watch() returns, only the main loop touches it. */
struct watch {
	struct xc_backend *xb;
	struct xdom *xd;		/* referenced */
	unsigned int gen;
	xc_interface *xch;
	xc_domain *dom;
	int fd;
};

static void watch_free(struct watch *w)
{
	if (w->dom)
		xc_domain_close(w->xch, w->dom);
	xc_interface_close(w->xch);
	xdom_unref(w->xd);
	g_free(w);
}

static void push_event(struct watch *w, const xc_domain_event *ev, bool gone)
{
	struct xb_event *e = g_new0(struct xb_event, 1);

	e->xd = xdom_ref(w->xd);
	e->gen = w->gen;
	e->gone = gone;
	if (ev)
		e->ev = *ev;
	g_thread_pool_push(w->xb->evpool, e, NULL);
}

static gboolean watch_io(gint fd, GIOCondition cond, gpointer data);

static void watch_attach(struct watch *w)
{
	GSource *src = g_unix_fd_source_new(w->fd, G_IO_IN | G_IO_HUP | G_IO_ERR);

	g_source_set_callback(src, G_SOURCE_FUNC(watch_io), w, NULL);
	g_source_attach(src, w->xb->ctx);
	g_source_unref(src);
}

/* Readable: take every queued event, then follow the fd (it changes after a reboot). */
static gboolean watch_io(gint fd, GIOCondition cond, gpointer data)
{
	struct watch *w = data;
	xc_domain_event ev;
	int r, nfd;

	while ((r = xc_domain_wait_event(w->xch, w->dom, 0, &ev)) == 0) {
		g_debug("domain %s: libxc event %s/%s", w->xd->name, xc_domain_state_name(ev.state),
			xc_domain_reason_name(ev.reason));
		push_event(w, &ev, false);
	}
	nfd = r == -ETIMEDOUT ? xc_domain_event_fd(w->xch, w->dom) : r;
	if (nfd == w->fd)
		return G_SOURCE_CONTINUE;
	if (nfd >= 0) {
		w->fd = nfd;
		watch_attach(w);
		return G_SOURCE_REMOVE;
	}
	/* The VMM is gone (its last event, if any, was queued above). */
	push_event(w, NULL, true);
	watch_free(w);
	return G_SOURCE_REMOVE;
}

int xb_watch(struct xc_backend *xb, struct xdom *xd, struct verr *err)
{
	struct watch *w = g_new0(struct watch, 1);
	xc_dominfo di;
	int r;

	w->xb = xb;
	w->xd = xdom_ref(xd);
	w->gen = xd->gen;
	if ((r = xc_interface_open(0, &w->xch)) < 0 ||
	    (r = xc_domain_open(w->xch, xd->id, &w->dom)) < 0 ||
	    (r = xc_domain_subscribe(w->xch, w->dom)) < 0 ||
	    (r = w->fd = xc_domain_event_fd(w->xch, w->dom)) < 0) {
		verr_from_xc(err, w->xch, r, "cannot watch the domain's events");
		watch_free(w);
		return -1;
	}
	/* What happened before the subscription: an end already reached is an event too. */
	xc_dominfo_init(&di);
	if (!xc_domain_getinfo(w->xch, w->dom, &di) &&
	    (di.state == XC_DOMSTATE_SHUTDOWN || di.state == XC_DOMSTATE_CRASHED))
		push_event(w, &(xc_domain_event){ .state = di.state, .reason = di.reason }, false);
	xc_dominfo_dispose(&di);
	watch_attach(w);
	return 0;
}

void xb_stopped(struct xc_backend *xb, struct xdom *xd, int state, int reason, bool destroyed)
{
	g_autofree char *status = NULL;

	if (!destroyed && xd->ctl)
		xc_domain_destroy(xd->xch, xd->ctl);	/* out of the registry */
	if (xd->ctl)
		xc_domain_close(xd->xch, xd->ctl);
	xd->ctl = NULL;
	g_clear_pointer(&xd->xch, xc_interface_close);
	xb_console_kick(xb, xd);
	g_mutex_lock(&xb->lock);
	status = xb_status_path(xb, xd->name);
	g_clear_pointer(&xd->live, domus_domain_def_free);
	xd->id = -1;
	xd->gen++;
	xd->state = state;
	xd->reason = reason;
	xd->migrated_out = false;	/* however it ended, no confirm is owed any more */
	g_mutex_unlock(&xb->lock);
	g_unlink(status);
}

/* A transient domain that stopped leaves the list (after its STOPPED event). */
void xb_forget_transient(struct xc_backend *xb, struct xdom *xd)
{
	g_mutex_lock(&xb->lock);
	if (!xd->persistent && xd->id < 0)
		xb_remove(xb, xd);
	g_mutex_unlock(&xb->lock);
}

/* on_* = restart: boot the same definition again (the stored one if there is one). */
static void restart(struct xc_backend *xb, struct xdom *xd, struct domus_domain_def *last)
{
	g_autoptr(domus_domain_def) def = NULL;
	struct verr err = { 0 };

	g_mutex_lock(&xb->lock);
	def = domus_domain_def_copy(xd->def ? xd->def : last);
	g_mutex_unlock(&xb->lock);
	if (xb_start_and_watch(xb, xd, def, false, &err) < 0) {
		g_warning("domain %s: restart failed: %s", xd->name, err.message);
		xb_forget_transient(xb, xd);
	}
}

/* The VMM ended: the guest powered off, crashed, or someone else destroyed it. */
static void ended(struct xc_backend *xb, struct xdom *xd, const xc_domain_event *ev)
{
	g_autoptr(domus_domain_def) last = NULL;
	enum domus_lifecycle_action action;
	int off_reason, detail;

	g_mutex_lock(&xb->lock);
	last = domus_domain_def_copy(xd->live);
	g_mutex_unlock(&xb->lock);
	switch (ev->reason) {
	case XC_REASON_MIGRATED:
		/* Its state went to another host. A perform step that did it leaves the rest to
		 * confirm (xc-migrate.c); else (the daemon restarted meanwhile) it ends here. */
		if (xb_migrated_out(xb, xd))
			return;
		xb_stopped(xb, xd, DOMAIN_SHUTOFF, OFF_MIGRATED, false);
		xb_emit(xb, xd, EV_STOPPED, 3);
		xb_forget_transient(xb, xd);
		return;
	case XC_REASON_DESTROYED:
		xb_stopped(xb, xd, DOMAIN_SHUTOFF, OFF_DESTROYED, false);
		xb_emit(xb, xd, EV_STOPPED, 1);
		xb_forget_transient(xb, xd);
		return;
	case XC_REASON_POWEROFF:
	case XC_REASON_REBOOT:
	case XC_REASON_TEST_EXIT:
		action = ev->reason == XC_REASON_REBOOT ? last->on_reboot : last->on_poweroff;
		off_reason = OFF_SHUTDOWN;
		detail = 0;		/* STOPPED SHUTDOWN */
		xb_emit(xb, xd, EV_SHUTDOWN, 0);
		break;
	default:		/* crash, host error, the VMM died */
		action = last->on_crash;
		off_reason = OFF_CRASHED;
		detail = 2;		/* STOPPED CRASHED */
		if (action == DOMUS_ACTION_PRESERVE) {
			g_mutex_lock(&xb->lock);
			xd->state = DOMAIN_CRASHED;
			xd->reason = CRASH_PANICKED;
			g_mutex_unlock(&xb->lock);
			g_message("domain %s crashed (%s): kept for inspection (on_crash=preserve)",
				  xd->name, ev->message);
			xb_emit(xb, xd, EV_CRASHED, 0);
			return;
		}
	}
	g_message("domain %s ended: %s (%s)", xd->name, xc_domain_reason_name(ev->reason),
		  ev->message);
	xb_stopped(xb, xd, DOMAIN_SHUTOFF, off_reason, false);
	xb_emit(xb, xd, EV_STOPPED, detail);
	if (action == DOMUS_ACTION_RESTART)
		restart(xb, xd, last);
	else
		xb_forget_transient(xb, xd);
}

/* The guest rebooted: the VMM restarted in place (same pty). on_reboot=destroy ends it. */
static void rebooted(struct xc_backend *xb, struct xdom *xd)
{
	bool destroy;

	xb_emit_reboot(xb, xd);
	g_mutex_lock(&xb->lock);
	destroy = xd->live->on_reboot == DOMUS_ACTION_DESTROY;
	if (xd->live->serial && xd->live->serial->type == DOMUS_CHR_PTY) {
		g_free(xd->live->serial->path);
		xd->live->serial->path = xb_console_pty(xb, xd->name);
	}
	g_mutex_unlock(&xb->lock);
	if (destroy) {
		g_message("domain %s rebooted: destroyed (on_reboot=destroy)", xd->name);
		xb_stopped(xb, xd, DOMAIN_SHUTOFF, OFF_SHUTDOWN, false);
		xb_emit(xb, xd, EV_STOPPED, 0);
		xb_forget_transient(xb, xd);
		return;
	}
	xb_write_status(xb, xd);
}

static void state_change(struct xc_backend *xb, struct xdom *xd, int state, int reason, int event)
{
	bool changed;

	g_mutex_lock(&xb->lock);
	changed = xd->state != state;
	if (changed)
		xd->state = state, xd->reason = reason;
	g_mutex_unlock(&xb->lock);
	if (changed)
		xb_emit(xb, xd, event, 0);
}

void xb_handle_event(struct xc_backend *xb, struct xb_event *e)
{
	struct xdom *xd = e->xd;
	xc_dominfo di;

	g_mutex_lock(&xd->job);
	if (e->gen != xd->gen || xd->id < 0 || !xd->ctl || xd->state == DOMAIN_CRASHED)
		goto out;
	if (e->gone) {
		/* No last event: ask the registry how it ended. */
		xc_dominfo_init(&di);
		if (xc_domain_getinfo(xd->xch, xd->ctl, &di) == 0 &&
		    (di.state == XC_DOMSTATE_SHUTDOWN || di.state == XC_DOMSTATE_CRASHED)) {
			e->ev.state = di.state;
			e->ev.reason = di.reason;
			e->gone = false;
		}
		xc_dominfo_dispose(&di);
		if (e->gone)
			goto out;
	}
	switch (e->ev.state) {
	case XC_DOMSTATE_RUNNING:
	case XC_DOMSTATE_PAUSED:
		if (e->ev.state == XC_DOMSTATE_RUNNING && e->ev.reason == XC_REASON_REBOOT) {
			rebooted(xb, xd);
			break;
		}
		/* Pause and unpause events also come for what our own ops did, possibly after a
		 * later op: what counts is the state now (we hold the job lock). */
		xc_dominfo_init(&di);
		if (!xc_domain_getinfo(xd->xch, xd->ctl, &di)) {
			if (di.state == XC_DOMSTATE_RUNNING)
				state_change(xb, xd, DOMAIN_RUNNING, RUN_UNPAUSED, EV_RESUMED);
			else if (di.state == XC_DOMSTATE_PAUSED)
				state_change(xb, xd, DOMAIN_PAUSED, PAUSE_USER, EV_SUSPENDED);
		}
		xc_dominfo_dispose(&di);
		break;
	case XC_DOMSTATE_SHUTDOWN:
	case XC_DOMSTATE_CRASHED:
		ended(xb, xd, &e->ev);
		break;
	}
out:
	g_mutex_unlock(&xd->job);
	xdom_unref(xd);
	g_free(e);
}

/* ---- recovery at start-up ---- */

/*
 * Does the status file @base (NAME.xml) agree with its content and the domains known so far?
 * A damaged or stray file must not give a defined domain a second name, two domains one
 * name, or a domain already found again a second VMM handle.
 */
static bool recover_consistent(struct xc_backend *xb, const char *base,
			       const struct domus_domain_def *live, struct verr *err)
{
	g_autofree char *want = g_strconcat(live->name, ".xml", NULL);
	bool ok = true;

	if (strcmp(base, want) != 0)
		return verr_set(err, VERR_INTERNAL_ERROR, VERR_FROM_DOMAIN,
				"it describes domain '%s', not the one its file name says",
				live->name), false;
	g_mutex_lock(&xb->lock);
	for (guint i = 0; i < xb->doms->len && ok; i++) {
		struct xdom *o = xb->doms->pdata[i];
		bool same_uuid = !memcmp(o->uuid, live->uuid, 16);

		if (same_uuid != !strcmp(o->name, live->name) || (same_uuid && o->ctl)) {
			verr_set(err, VERR_INTERNAL_ERROR, VERR_FROM_DOMAIN,
				 "domain '%s' clashes with the known domain '%s'", live->name,
				 o->name);
			ok = false;
		}
	}
	g_mutex_unlock(&xb->lock);
	return ok;
}

/* A status file names a domain the old daemon ran: find its VMM again. */
static void recover_one(struct xc_backend *xb, const char *path)
{
	g_autofree char *xml = NULL;
	g_autoptr(domus_domain_def) live = NULL;
	struct verr err = { 0 };
	char uuid[37];
	uint32_t domid;
	xc_dominfo di;
	struct xdom *xd;
	xc_interface *xch = NULL;
	xc_domain *ctl = NULL;
	int r;

	g_autoptr(GError) ge = NULL;
	g_autofree char *base = g_path_get_basename(path);

	if (!g_file_get_contents(path, &xml, NULL, &ge))
		verr_set(&err, VERR_SYSTEM_ERROR, VERR_FROM_DOMAIN, "%s", ge->message);
	else if ((live = xb_parse(xb, xml, DOMUS_DEF_PARSE_STATUS, &err)) &&
		 !recover_consistent(xb, base, live, &err))
		g_clear_pointer(&live, domus_domain_def_free);
	if (!live) {
		g_warning("%s: unusable status file, removed: %s", path, err.message);
		g_unlink(path);
		return;
	}
	xc_uuid_format(live->uuid, uuid);
	xc_dominfo_init(&di);
	if ((r = xc_interface_open(0, &xch)) < 0 || (r = xc_domain_lookup(xch, uuid, &domid)) < 0 ||
	    (r = xc_domain_open(xch, domid, &ctl)) < 0 || (r = xc_domain_getinfo(xch, ctl, &di)) < 0) {
		g_message("domain %s is gone since the daemon last ran", live->name);
		if (ctl)
			xc_domain_destroy(xch, ctl);
		xc_interface_close(xch);
		xc_dominfo_dispose(&di);
		g_unlink(path);
		return;
	}
	xc_interface_set_timeout(xch, 10000);
	g_mutex_lock(&xb->lock);
	xd = NULL;
	for (guint i = 0; i < xb->doms->len && !xd; i++)
		if (!memcmp(((struct xdom *)xb->doms->pdata[i])->uuid, live->uuid, 16))
			xd = xb->doms->pdata[i];
	if (!xd)
		xd = xb_add(xb, live->name, live->uuid, false);
	xd->xch = xch;
	xd->ctl = ctl;
	xd->id = domid;
	live->id = domid;
	xd->live = g_steal_pointer(&live);
	xd->gen++;
	xd->state = di.state == XC_DOMSTATE_PAUSED ? DOMAIN_PAUSED : DOMAIN_RUNNING;
	xd->reason = di.state == XC_DOMSTATE_PAUSED ? PAUSE_USER : RUN_UNKNOWN;
	g_mutex_unlock(&xb->lock);
	if (di.state == XC_DOMSTATE_SHUTDOWN || di.state == XC_DOMSTATE_CRASHED) {
		/* It ended while we were away: handled as its last event (on_* actions too). */
		struct xb_event *e = g_new0(struct xb_event, 1);

		g_message("domain %s (id %u) ended while the daemon was away: %s", xd->name, domid,
			  xc_domain_reason_name(di.reason));
		e->xd = xdom_ref(xd);
		e->gen = xd->gen;
		e->ev.state = di.state;
		e->ev.reason = di.reason;
		g_thread_pool_push(xb->evpool, e, NULL);
	} else {
		g_message("found running domain %s (id %u) again", xd->name, domid);
		if (xb_watch(xb, xd, &err) < 0)
			g_warning("domain %s: %s", xd->name, err.message);
	}
	xc_dominfo_dispose(&di);
}

void xb_recover(struct xc_backend *xb)
{
	g_autoptr(GDir) dir = g_dir_open(xb->state_dir, 0, NULL);
	const char *f;

	while (dir && (f = g_dir_read_name(dir))) {
		g_autofree char *path = g_build_filename(xb->state_dir, f, NULL);

		if (g_str_has_suffix(f, ".xml"))
			recover_one(xb, path);
	}
}
