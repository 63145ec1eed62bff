// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Save, restore, managed save and job procedures: decode, look the domain up, call the
 * backend's op (docs/virtdomusd.md). Saves and restores are slow calls (the normal pool);
 * job info and abort are quick and must answer while a save of the same domain runs, so
 * they take the priority pool.
 */
#include "remote.h"

#define VIR_DOMAIN_SAVE_BYPASS_CACHE 1u

/* A replacement XML (virsh --xml, save-image-define) is not supported: say so. */
static int refuse_dxml(const char *dxml, struct verr *err)
{
	if (!dxml)
		return 0;
	return verr_set(err, VERR_ARGUMENT_UNSUPPORTED, VERR_FROM_DOMAIN,
			"a replacement domain XML for the saved image is not supported");
}

static int save_common(struct remote_call *call, const rp_nonnull_domain *w, const char *to,
		       const char *dxml, unsigned int flags, struct verr *err)
{
	struct domain_summary s;

	NEED_OP(call, save, err);
	if (refuse_dxml(dxml, err) < 0)
		return -1;
	if (remote_lookup(call, w, &s, err) < 0)
		return -1;
	/* Bypassing the page cache is a hint; the VMM writes and syncs in large blocks. */
	return be(call)->ops->save(be(call), s.uuid, to, flags & ~VIR_DOMAIN_SAVE_BYPASS_CACHE,
				   err);
}

static int save(struct remote_call *call, void *a, void *r, struct verr *err)
{
	rp_domain_save_args *args = a;

	return save_common(call, &args->dom, args->to, NULL, 0, err);
}

static int save_flags(struct remote_call *call, void *a, void *r, struct verr *err)
{
	rp_domain_save_flags_args *args = a;

	return save_common(call, &args->dom, args->to, args->dxml ? *args->dxml : NULL,
			   args->flags, err);
}

static int restore_common(struct remote_call *call, const char *from, const char *dxml,
			  unsigned int flags, struct verr *err)
{
	NEED_OP(call, restore, err);
	if (refuse_dxml(dxml, err) < 0)
		return -1;
	return be(call)->ops->restore(be(call), from, flags & ~VIR_DOMAIN_SAVE_BYPASS_CACHE, err);
}

static int restore(struct remote_call *call, void *a, void *r, struct verr *err)
{
	return restore_common(call, ((rp_string_msg *)a)->v, NULL, 0, err);
}

static int restore_flags(struct remote_call *call, void *a, void *r, struct verr *err)
{
	rp_domain_restore_flags_args *args = a;

	return restore_common(call, args->from, args->dxml ? *args->dxml : NULL, args->flags, err);
}

static int save_image_xml(struct remote_call *call, void *a, void *r, struct verr *err)
{
	rp_save_image_get_xml_desc_args *args = a;

	NEED_OP(call, save_image_xml, err);
	return be(call)->ops->save_image_xml(be(call), args->file, args->flags,
					     &((rp_string_msg *)r)->v, err);
}

static int managed_save(struct remote_call *call, void *a, void *r, struct verr *err)
{
	rp_domain_flags_args *args = a;
	bool remove = call->p->proc == RP_PROC_DOMAIN_MANAGED_SAVE_REMOVE;
	struct domain_summary s;

	if (remove)
		NEED_OP(call, managed_save_remove, err);
	else
		NEED_OP(call, managed_save, err);
	if (remote_lookup(call, &args->dom, &s, err) < 0)
		return -1;
	if (remove)
		return be(call)->ops->managed_save_remove(be(call), s.uuid, args->flags, err);
	return be(call)->ops->managed_save(be(call), s.uuid,
					   args->flags & ~VIR_DOMAIN_SAVE_BYPASS_CACHE, err);
}

static int get_job_info(struct remote_call *call, void *a, void *r, struct verr *err)
{
	rp_domain_get_job_info_ret *ret = r;
	struct domain_job_info j = { 0 };
	struct domain_summary s;

	NEED_OP(call, job_info, err);
	if (remote_lookup(call, &((rp_domain_msg *)a)->dom, &s, err) < 0 ||
	    be(call)->ops->job_info(be(call), s.uuid, 0, &j, err) < 0)
		return -1;
	ret->type = j.type;
	ret->timeElapsed = j.elapsed_ms;
	ret->dataTotal = j.data_total;
	ret->dataProcessed = j.data_processed;
	ret->dataRemaining = j.data_remaining;
	ret->memTotal = j.mem_total;
	ret->memProcessed = j.mem_processed;
	ret->memRemaining = j.mem_remaining;
	return 0;
}

static void job_param(struct domain_param *p, size_t *n, const char *field, int type,
		      uint64_t v)
{
	g_strlcpy(p[*n].field, field, sizeof(p[*n].field));
	p[*n].type = type;
	if (type == DOMAIN_PARAM_INT)
		p[*n].v.i = v;
	else
		p[*n].v.ul = v;
	(*n)++;
}

/* Also the JOB_COMPLETED event's (proc-event.c). */
size_t remote_job_params(const struct domain_job_info *j, struct domain_param *p)
{
	bool done = j->type >= DOMAIN_JOB_COMPLETED;
	bool mig = j->operation == DOMAIN_JOB_OP_MIGRATION_OUT ||
		   j->operation == DOMAIN_JOB_OP_MIGRATION_IN;
	size_t n = 0;

	job_param(p, &n, "operation", DOMAIN_PARAM_INT, j->operation);
	job_param(p, &n, "time_elapsed", DOMAIN_PARAM_ULLONG, j->elapsed_ms);
	if (j->has_downtime)
		job_param(p, &n, "downtime", DOMAIN_PARAM_ULLONG, j->downtime_ms);
	if (j->has_setup)
		job_param(p, &n, "setup_time", DOMAIN_PARAM_ULLONG, j->setup_ms);
	job_param(p, &n, "data_total", DOMAIN_PARAM_ULLONG, j->data_total);
	job_param(p, &n, "data_processed", DOMAIN_PARAM_ULLONG, j->data_processed);
	job_param(p, &n, "data_remaining", DOMAIN_PARAM_ULLONG, j->data_remaining);
	job_param(p, &n, "memory_total", DOMAIN_PARAM_ULLONG, j->mem_total);
	job_param(p, &n, "memory_processed", DOMAIN_PARAM_ULLONG, j->mem_processed);
	job_param(p, &n, "memory_remaining", DOMAIN_PARAM_ULLONG, j->mem_remaining);
	job_param(p, &n, "memory_bps", DOMAIN_PARAM_ULLONG, j->bps);
	if (!done || mig) {
		job_param(p, &n, "memory_dirty_rate", DOMAIN_PARAM_ULLONG, j->dirty_rate);
		job_param(p, &n, "memory_iteration", DOMAIN_PARAM_ULLONG, j->iteration);
		job_param(p, &n, "auto_converge_throttle", DOMAIN_PARAM_INT, j->throttle);
	}
	job_param(p, &n, "memory_page_size", DOMAIN_PARAM_ULLONG, 4096);
	if (done) {
		g_strlcpy(p[n].field, "success", sizeof(p[n].field));
		p[n].type = DOMAIN_PARAM_BOOLEAN;
		p[n++].v.b = j->type == DOMAIN_JOB_COMPLETED;
	}
	if (done && j->errmsg[0]) {
		g_strlcpy(p[n].field, "errmsg", sizeof(p[n].field));
		p[n].type = DOMAIN_PARAM_STRING;
		p[n++].v.s = (char *)j->errmsg;	/* copied by remote_params_to_wire() */
	}
	return n;
}

/*
 * virsh domjobinfo: the running job as typed params; with VIR_DOMAIN_JOB_STATS_COMPLETED
 * (--completed) the last finished job's statistics, which the backend then forgets unless
 * VIR_DOMAIN_JOB_STATS_KEEP_COMPLETED (--keep-completed) says otherwise.
 */
static int get_job_stats(struct remote_call *call, void *a, void *r, struct verr *err)
{
	const unsigned int ok = DOMAIN_JOB_STATS_COMPLETED | DOMAIN_JOB_STATS_KEEP_COMPLETED;
	rp_domain_flags_args *args = a;
	rp_domain_get_job_stats_ret *ret = r;
	struct domain_job_info j = { 0 };
	struct domain_param p[20];
	struct domain_summary s;
	size_t n = 0;

	NEED_OP(call, job_info, err);
	if (args->flags & ~ok)
		return verr_set(err, VERR_INVALID_ARG, VERR_FROM_DOMAIN,
				"unsupported flags (0x%x) in function virDomainGetJobStats",
				args->flags & ~ok);
	/* libvirt's client library checks this too; a raw client is told the same. */
	if (args->flags & DOMAIN_JOB_STATS_KEEP_COMPLETED &&
	    !(args->flags & DOMAIN_JOB_STATS_COMPLETED))
		return verr_set(err, VERR_INVALID_ARG, VERR_FROM_DOMAIN,
				"Flag 'VIR_DOMAIN_JOB_STATS_COMPLETED' is required by flag "
				"'VIR_DOMAIN_JOB_STATS_KEEP_COMPLETED'");
	if (remote_lookup(call, &args->dom, &s, err) < 0 ||
	    be(call)->ops->job_info(be(call), s.uuid, args->flags, &j, err) < 0)
		return -1;
	ret->type = j.type;
	if (j.type)
		n = remote_job_params(&j, p);
	ret->params.params_len = n;
	ret->params.params_val = remote_params_to_wire(p, n);
	return 0;
}

static int abort_job(struct remote_call *call, void *a, void *r, struct verr *err)
{
	struct domain_summary s;

	NEED_OP(call, abort_job, err);
	if (remote_lookup(call, &((rp_domain_msg *)a)->dom, &s, err) < 0)
		return -1;
	return be(call)->ops->abort_job(be(call), s.uuid, err);
}

#define M PROC_MUTATING
static const struct remote_proc procs[] = {
	PROC_VOID(RP_PROC_DOMAIN_SAVE, "virDomainSave", rp_domain_save_args, save, M),
	PROC_VOID(RP_PROC_DOMAIN_SAVE_FLAGS, "virDomainSaveFlags", rp_domain_save_flags_args,
		  save_flags, M),
	PROC_VOID(RP_PROC_DOMAIN_RESTORE, "virDomainRestore", rp_string_msg, restore, M),
	PROC_VOID(RP_PROC_DOMAIN_RESTORE_FLAGS, "virDomainRestoreFlags",
		  rp_domain_restore_flags_args, restore_flags, M),
	PROC(RP_PROC_DOMAIN_SAVE_IMAGE_GET_XML_DESC, "virDomainSaveImageGetXMLDesc",
	     rp_save_image_get_xml_desc_args, rp_string_msg, save_image_xml, M),
	PROC_VOID(RP_PROC_DOMAIN_MANAGED_SAVE, "virDomainManagedSave", rp_domain_flags_args,
		  managed_save, M),
	PROC_VOID(RP_PROC_DOMAIN_MANAGED_SAVE_REMOVE, "virDomainManagedSaveRemove",
		  rp_domain_flags_args, managed_save, M),
	PROC(RP_PROC_DOMAIN_GET_JOB_INFO, "virDomainGetJobInfo", rp_domain_msg,
	     rp_domain_get_job_info_ret, get_job_info, PROC_FAST),
	PROC(RP_PROC_DOMAIN_GET_JOB_STATS, "virDomainGetJobStats", rp_domain_flags_args,
	     rp_domain_get_job_stats_ret, get_job_stats, PROC_FAST),
	PROC_VOID(RP_PROC_DOMAIN_ABORT_JOB, "virDomainAbortJob", rp_domain_msg, abort_job,
		  PROC_MUTATING | PROC_FAST),
};
#undef M

const struct remote_proc_table remote_procs_save = { procs, G_N_ELEMENTS(procs) };
