// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Lifecycle ops: start, create, destroy, shutdown, reboot, reset, suspend, resume, and the
 * autostart of domains at daemon start. Each takes the domain's job lock; the libvirt
 * events of what the op did are emitted here, those of what the guest did in xc-events.c.
 */
#define G_LOG_DOMAIN "virtdomusd"
#include <errno.h>
#include <string.h>

#include "xc-backend.h"

#define VIR_DOMAIN_START_PAUSED 1
#define VIR_DOMAIN_START_FORCE_BOOT 8
#define VIR_DOMAIN_START_VALIDATE 16

static int bad_flags(struct verr *err, unsigned int flags, const char *api)
{
	return verr_set(err, VERR_INVALID_ARG, VERR_FROM_DOMAIN,
			"unsupported flags (0x%x) in function %s", flags, api);
}

/* Start @xd from @def under its job lock, then watch it and announce it. */
int xb_start_and_watch(struct xc_backend *xb, struct xdom *xd,
		       const struct domus_domain_def *def, bool paused, struct verr *err)
{
	if (xd->id > 0)
		return verr_set(err, VERR_OPERATION_INVALID, VERR_FROM_DOMAIN,
				"domain is already running");
	if (xb_start(xb, xd, def, paused, err) < 0)
		return -1;
	if (xb_watch(xb, xd, err) < 0) {
		g_warning("domain %s runs but cannot be watched: %s", xd->name, err->message);
		memset(err, 0, sizeof(*err));
	}
	xb_emit(xb, xd, EV_STARTED, xd->restore_path ? 2 /* RESTORED */ : 0 /* BOOTED */);
	if (paused)	/* SUSPENDED RESTORED after a restore, as libvirt's QEMU driver */
		xb_emit(xb, xd, EV_SUSPENDED, xd->restore_path ? 4 : 0);
	return 0;
}

static int xb_create(struct domain_backend *b, const uint8_t *uuid, unsigned int flags,
		     struct verr *err)
{
	struct xc_backend *xb = xb_of(b);
	const unsigned int ok = VIR_DOMAIN_START_PAUSED | VIR_DOMAIN_START_FORCE_BOOT |
				VIR_DOMAIN_START_VALIDATE;
	g_autoptr(xdom) xd = NULL;
	g_autoptr(domus_domain_def) def = NULL;
	int r;

	if (flags & ~ok)
		return bad_flags(err, flags & ~ok, "virDomainCreateWithFlags");
	if (!(xd = xb_find(xb, uuid, err)))
		return -1;
	g_mutex_lock(&xd->job);
	g_mutex_lock(&xb->lock);
	if (xd->def)
		def = domus_domain_def_copy(xd->def);
	g_mutex_unlock(&xb->lock);
	if (xd->id > 0 || !def)
		r = verr_set(err, VERR_OPERATION_INVALID, VERR_FROM_DOMAIN,
			     "domain is already running");
	else if (xd->managed_save && !(flags & VIR_DOMAIN_START_FORCE_BOOT))
		r = xb_start_managed(xb, xd, def, flags & VIR_DOMAIN_START_PAUSED, err);
	else if ((flags & VIR_DOMAIN_START_FORCE_BOOT) && xb_discard_managed(xb, xd, err) < 0)
		r = -1;
	else
		r = xb_start_and_watch(xb, xd, def, flags & VIR_DOMAIN_START_PAUSED, err);
	g_mutex_unlock(&xd->job);
	return r;
}

static int xb_create_xml(struct domain_backend *b, const char *xml, unsigned int flags,
			 struct domain_summary *out, struct verr *err)
{
	struct xc_backend *xb = xb_of(b);
	const unsigned int ok = VIR_DOMAIN_START_PAUSED | VIR_DOMAIN_START_VALIDATE;
	g_autoptr(domus_domain_def) def = NULL;
	struct xdom *xd;
	char s[DOMAIN_UUID_STRLEN];
	int r;

	if (flags & ~ok)
		return bad_flags(err, flags & ~ok, "virDomainCreateXML");
	if (!(def = xb_parse(xb, xml, 0, err)))
		return -1;
	g_mutex_lock(&xb->lock);
	for (guint i = 0; i < xb->doms->len; i++) {
		struct xdom *o = xb->doms->pdata[i];

		if (!memcmp(o->uuid, def->uuid, 16) || !strcmp(o->name, def->name)) {
			domain_uuid_format(o->uuid, s);
			g_mutex_unlock(&xb->lock);
			return verr_set(err, VERR_DOM_EXIST, VERR_FROM_DOMAIN,
					"domain '%s' already exists with uuid %s", o->name, s);
		}
	}
	xd = xdom_ref(xb_add(xb, def->name, def->uuid, false));
	g_mutex_lock(&xd->job);		/* new: nobody else holds it */
	g_mutex_unlock(&xb->lock);
	r = xb_start_and_watch(xb, xd, def, flags & VIR_DOMAIN_START_PAUSED, err);
	g_mutex_lock(&xb->lock);
	if (r < 0)
		xb_remove(xb, xd);
	else
		xb_summary(xd, out);
	g_mutex_unlock(&xb->lock);
	g_mutex_unlock(&xd->job);
	xdom_unref(xd);
	return r;
}

/* Take the job of a running domain: referenced and locked, or NULL with @err. */
static struct xdom *job_active(struct xc_backend *xb, const uint8_t *uuid, struct verr *err)
{
	struct xdom *xd = xb_find(xb, uuid, err);

	if (!xd)
		return NULL;
	g_mutex_lock(&xd->job);
	if (xb_need_active(xd, err) < 0) {
		g_mutex_unlock(&xd->job);
		xdom_unref(xd);
		return NULL;
	}
	return xd;
}

static void job_end(struct xdom *xd)
{
	g_mutex_unlock(&xd->job);
	xdom_unref(xd);
}

#define VIR_DOMAIN_DESTROY_GRACEFUL 1

/*
 * A save or a migration holds the job lock until it ends, which may take long; libvirt's
 * destroy ends such a job rather than wait for it. So end the VMM first through a handle
 * of our own (the job's is busy): the job then fails at once and lets the lock go.
 * Return: true if this ended it.
 */
static bool destroy_under_job(struct xc_backend *xb, struct xdom *xd)
{
	struct verr e = { 0 };
	xc_interface *xch;
	xc_domain *dom;
	int r;

	if (xb_open_second(xb, xd, &xch, &dom, &e) < 0)
		return false;	/* not running (yet): wait for whoever holds the job */
	r = xc_domain_destroy(xch, dom);
	g_message("domain %s: destroyed while a job ran%s", xd->name, r < 0 ? " (it had ended)" : "");
	xc_domain_close(xch, dom);
	xc_interface_close(xch);
	return r == 0;
}

static int xb_destroy(struct domain_backend *b, const uint8_t *uuid, unsigned int flags,
		      struct verr *err)
{
	struct xc_backend *xb = xb_of(b);
	struct xdom *xd;
	bool ended_it = false, locked = false;
	int r;

	if (flags & ~VIR_DOMAIN_DESTROY_GRACEFUL)
		return bad_flags(err, flags & ~VIR_DOMAIN_DESTROY_GRACEFUL, "virDomainDestroyFlags");
	if (!(xd = xb_find(xb, uuid, err)))
		return -1;
	/*
	 * Arriving: its incoming thread holds the job until the migration ends, so end the
	 * migration now; that thread cleans up (STOPPED DESTROYED) and lets the job go.
	 */
	if (xb_migrate_in_destroy(xb, xd))
		ended_it = true;
	else if (!(locked = g_mutex_trylock(&xd->job)))
		ended_it = destroy_under_job(xb, xd);
	if (!locked)
		g_mutex_lock(&xd->job);
	if (xb_need_active(xd, err) < 0) {
		/* Ended by the kill above, and its watcher already said so (stopped, destroyed). */
		if (ended_it)
			memset(err, 0, sizeof(*err));
		job_end(xd);
		return ended_it ? 0 : -1;
	}
	r = xc_domain_destroy(xd->xch, xd->ctl);
	if (r < 0 && r != -ESRCH && r != -ECONNRESET && r != -ENOTCONN) {
		verr_from_xc(err, xd->xch, r, "cannot destroy the domain");
		job_end(xd);
		return -1;
	}
	/* xc_domain_destroy() removed it from the registry already. */
	xb_stopped(xb, xd, DOMAIN_SHUTOFF, OFF_DESTROYED, true);
	xb_emit(xb, xd, EV_STOPPED, 1);
	xb_forget_transient(xb, xd);
	job_end(xd);
	return 0;
}

#define VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN 1

/* shutdown, reboot: only the ACPI power button (the default mode). */
static int acpi_op(struct domain_backend *b, const uint8_t *uuid, unsigned int flags,
		   bool reboot, struct verr *err)
{
	struct xc_backend *xb = xb_of(b);
	struct xdom *xd;
	int r;

	if (flags & ~VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN)
		return verr_set(err, VERR_ARGUMENT_UNSUPPORTED, VERR_FROM_DOMAIN,
				"%s mode 0x%x: Domus has only the ACPI power button (--mode acpi)",
				reboot ? "reboot" : "shutdown", flags);
	if (!(xd = job_active(xb, uuid, err)))
		return -1;
	r = reboot ? xc_domain_reboot(xd->xch, xd->ctl) : xc_domain_shutdown(xd->xch, xd->ctl);
	if (r < 0)
		verr_from_xc(err, xd->xch, r, reboot ? "reboot" : "shutdown");
	job_end(xd);
	return r < 0 ? -1 : 0;
}

static int xb_shutdown(struct domain_backend *b, const uint8_t *uuid, unsigned int flags,
		       struct verr *err)
{
	return acpi_op(b, uuid, flags, false, err);
}

static int xb_reboot(struct domain_backend *b, const uint8_t *uuid, unsigned int flags,
		     struct verr *err)
{
	return acpi_op(b, uuid, flags, true, err);
}

static int xb_reset(struct domain_backend *b, const uint8_t *uuid, unsigned int flags,
		    struct verr *err)
{
	struct xc_backend *xb = xb_of(b);
	struct xdom *xd;
	int r;

	if (flags)
		return bad_flags(err, flags, "virDomainReset");
	if (!(xd = job_active(xb, uuid, err)))
		return -1;
	if ((r = xc_domain_reset(xd->xch, xd->ctl)) < 0)
		verr_from_xc(err, xd->xch, r, "reset");
	job_end(xd);
	return r < 0 ? -1 : 0;
}

/* Set a new state; true if it changed (the caller then emits the event). */
static bool set_state(struct xc_backend *xb, struct xdom *xd, int state, int reason)
{
	bool changed;

	g_mutex_lock(&xb->lock);
	changed = xd->state != state;
	xd->state = state;
	xd->reason = reason;
	g_mutex_unlock(&xb->lock);
	return changed;
}

static int pause_op(struct domain_backend *b, const uint8_t *uuid, bool pause, struct verr *err)
{
	struct xc_backend *xb = xb_of(b);
	struct xdom *xd;
	int r;

	if (!(xd = job_active(xb, uuid, err)))
		return -1;
	if (xd->state == DOMAIN_CRASHED) {
		job_end(xd);
		return verr_set(err, VERR_OPERATION_INVALID, VERR_FROM_DOMAIN, "domain has crashed");
	}
	if (!pause && xd->state != DOMAIN_PAUSED) {
		job_end(xd);
		return verr_set(err, VERR_OPERATION_INVALID, VERR_FROM_DOMAIN, "domain is not paused");
	}
	r = pause ? xc_domain_pause(xd->xch, xd->ctl) : xc_domain_unpause(xd->xch, xd->ctl);
	if (r < 0) {
		verr_from_xc(err, xd->xch, r, pause ? "suspend" : "resume");
	} else if (pause ? set_state(xb, xd, DOMAIN_PAUSED, PAUSE_USER) :
		   set_state(xb, xd, DOMAIN_RUNNING, RUN_UNPAUSED)) {
		xb_emit(xb, xd, pause ? EV_SUSPENDED : EV_RESUMED, 0);
	}
	job_end(xd);
	return r < 0 ? -1 : 0;
}

static int xb_suspend(struct domain_backend *b, const uint8_t *uuid, struct verr *err)
{
	return pause_op(b, uuid, true, err);
}

static int xb_resume(struct domain_backend *b, const uint8_t *uuid, struct verr *err)
{
	return pause_op(b, uuid, false, err);
}

/* The event pool, once at start-up: every inactive autostart domain. */
void xb_autostart(struct xc_backend *xb)
{
	g_autoptr(GPtrArray) todo = g_ptr_array_new_with_free_func((GDestroyNotify)xdom_unref);

	g_mutex_lock(&xb->lock);
	for (guint i = 0; i < xb->doms->len; i++) {
		struct xdom *xd = xb->doms->pdata[i];

		if (xd->autostart && xd->id < 0)
			g_ptr_array_add(todo, xdom_ref(xd));
	}
	g_mutex_unlock(&xb->lock);
	for (guint i = 0; i < todo->len; i++) {
		struct xdom *xd = todo->pdata[i];
		struct verr err = { 0 };

		if (xb_create(&xb->base, xd->uuid, 0, &err) < 0)
			g_warning("autostart of domain %s failed: %s", xd->name, err.message);
		else
			g_message("autostarted domain %s", xd->name);
	}
}

void xb_lifecycle_ops(struct domain_backend_ops *ops)
{
	ops->create = xb_create;
	ops->create_xml = xb_create_xml;
	ops->destroy = xb_destroy;
	ops->shutdown = xb_shutdown;
	ops->reboot = xb_reboot;
	ops->reset = xb_reset;
	ops->suspend = xb_suspend;
	ops->resume = xb_resume;
}
