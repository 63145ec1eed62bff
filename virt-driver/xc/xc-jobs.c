// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Jobs of a domain as libvirt sees them (docs/virtdomusd.md, "Save, restore, managed save,
 * jobs"): the running one's progress and its abort, asked of the VMM on a second libxc
 * handle (the job holds the first), and the statistics of the last finished one (libvirt's
 * "completed job": virsh domjobinfo --completed), which the daemon keeps per domain since
 * the VMM that ran it is often gone by then (a save with stop, a migration out).
 *
 * A finished job's record is made by the thread that ran it, under the domain's job lock,
 * and read by any worker: it lives in struct xdom under the backend lock (xd->completed).
 */
#define G_LOG_DOMAIN "virtdomusd"
#include <errno.h>
#include <string.h>

#include "xc-backend.h"

/* A VMM's job counters in libvirt's terms (running or as it ended). */
static void from_xc(const xc_job_info *j, struct domain_job_info *out)
{
	out->elapsed_ms = j->elapsed_ns / 1000000;
	out->mem_total = j->pages_total * 4096;
	out->mem_processed = j->pages_sent * 4096;
	out->mem_remaining = j->pages_remaining * 4096;
	out->data_total = out->mem_total;
	out->data_processed = j->bytes;
	out->data_remaining = out->mem_remaining;
	out->operation = j->kind == XC_JOB_KIND_MIGRATE ? DOMAIN_JOB_OP_MIGRATION_OUT :
							DOMAIN_JOB_OP_SAVE;
	out->dirty_rate = j->dirty_rate;
	out->iteration = j->rounds;
	out->bps = j->elapsed_ns ? j->bytes * 1000000000ull / j->elapsed_ns : 0;
	out->throttle = j->throttle;
}

void xb_job_done(struct xc_backend *xb, struct xdom *xd, const struct domain_job_info *j)
{
	struct domain_job_info *c = g_memdup2(j, sizeof(*j));

	if (!c->bps && c->elapsed_ms)
		c->bps = c->data_processed * 1000 / c->elapsed_ms;
	struct domain_job_info done;
	struct domain_summary s;

	g_mutex_lock(&xb->lock);
	g_free(xd->completed);
	xd->completed = c;
	done = *c;		/* a reader may forget (free) it once we unlock */
	xb_summary(xd, &s);
	g_mutex_unlock(&xb->lock);
	/* libvirt's JOB_COMPLETED event: for a job that succeeded, with what --completed shows. */
	if (done.type == DOMAIN_JOB_COMPLETED && xb->base.events.job_completed)
		xb->base.events.job_completed(xb->base.events.opaque, &s, &done);
}

void xb_job_failed(struct xc_backend *xb, struct xdom *xd, int op, gint64 t0, bool cancelled,
		   const char *why)
{
	struct domain_job_info j = { 0 };
	xc_job_info x;

	/* What the VMM got done, if it still runs (under job: xd->xch is ours). */
	if (xd->ctl && !xc_domain_get_job(xd->xch, xd->ctl, &x) && x.phase >= XC_JOB_COMPLETED)
		from_xc(&x, &j);
	j.type = cancelled ? DOMAIN_JOB_CANCELLED : DOMAIN_JOB_FAILED;
	j.operation = op;
	j.elapsed_ms = (g_get_monotonic_time() - t0) / 1000;
	g_strlcpy(j.errmsg, why && *why ? why : "unknown error", sizeof(j.errmsg));
	xb_job_done(xb, xd, &j);
}

/* The last finished job; forgotten unless @keep (libvirt's rule). None: type none. */
static int completed_info(struct xc_backend *xb, struct xdom *xd, bool keep,
			  struct domain_job_info *out)
{
	g_mutex_lock(&xb->lock);
	if (xd->completed)
		*out = *xd->completed;
	if (!keep)
		g_clear_pointer(&xd->completed, g_free);
	g_mutex_unlock(&xb->lock);
	return 0;
}

static int xb_job_info(struct domain_backend *b, const uint8_t *uuid, unsigned int flags,
		       struct domain_job_info *out, struct verr *err)
{
	struct xc_backend *xb = xb_of(b);
	g_autoptr(xdom) xd = NULL;
	xc_interface *xch;
	xc_domain *dom;
	xc_job_info j;
	int r;

	memset(out, 0, sizeof(*out));
	if (!(xd = xb_find(xb, uuid, err)))
		return -1;
	if (flags & DOMAIN_JOB_STATS_COMPLETED)
		return completed_info(xb, xd, flags & DOMAIN_JOB_STATS_KEEP_COMPLETED, out);
	/*
	 * No job (VIR_DOMAIN_JOB_NONE) when the domain is not running, or when its VMM cannot
	 * be reached: a save that just ended takes its VMM with it, before the saving thread
	 * has marked the domain stopped. Whatever else is wrong with an unreachable VMM, it
	 * runs no job (xb_open_second() reads the id under the lock).
	 */
	if (xb_open_second(xb, xd, &xch, &dom, err) < 0) {
		g_debug("job info of %s: %s", xd->name, err->message);
		memset(err, 0, sizeof(*err));
		return 0;
	}
	r = xc_domain_get_job(xch, dom, &j);
	xc_domain_close(xch, dom);
	xc_interface_close(xch);
	if (r < 0 || j.phase == XC_JOB_NONE || j.phase >= XC_JOB_COMPLETED)
		return 0;
	out->type = DOMAIN_JOB_UNBOUNDED;
	from_xc(&j, out);
	return 0;
}

static int xb_abort_job(struct domain_backend *b, const uint8_t *uuid, struct verr *err)
{
	struct xc_backend *xb = xb_of(b);
	g_autoptr(xdom) xd = NULL;
	xc_interface *xch;
	xc_domain *dom;
	int r;

	if (!(xd = xb_find(xb, uuid, err)) || xb_open_second(xb, xd, &xch, &dom, err) < 0)
		return -1;
	r = xc_domain_abort_job(xch, dom);
	xc_domain_close(xch, dom);
	xc_interface_close(xch);
	if (r == -ENOENT)
		return verr_set(err, VERR_OPERATION_INVALID, VERR_FROM_DOMAIN,
				"no job is active on the domain");
	if (r == -EALREADY)
		return verr_set(err, VERR_OPERATION_INVALID, VERR_FROM_DOMAIN,
				"the job is past the point where it can be aborted");
	if (r < 0)
		return verr_set(err, VERR_OPERATION_FAILED, VERR_FROM_DOMAIN,
				"cannot abort the job: %s", g_strerror(-r));
	return 0;
}

void xb_job_ops(struct domain_backend_ops *ops)
{
	ops->job_info = xb_job_info;
	ops->abort_job = xb_abort_job;
}
