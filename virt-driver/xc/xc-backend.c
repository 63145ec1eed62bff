// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The libxc backend: the domain list, lookups, definitions (the store), descriptions and
 * the backend's construction. Lifecycle is in xc-lifecycle.c, building a domain in
 * xc-build.c, events and recovery in xc-events.c, tuning and statistics in xc-tuning.c,
 * consoles in xc-console.c. Locking: xc-backend.h.
 */
#define G_LOG_DOMAIN "virtdomusd"
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "xc-backend.h"
#include "backend-xc.h"

struct xdom *xdom_ref(struct xdom *xd)
{
	g_atomic_ref_count_inc(&xd->refs);
	return xd;
}

void xdom_unref(struct xdom *xd)
{
	if (!xd || !g_atomic_ref_count_dec(&xd->refs))
		return;
	if (xd->ctl)
		xc_domain_close(xd->xch, xd->ctl);
	xc_interface_close(xd->xch);
	domus_domain_def_free(xd->def);
	domus_domain_def_free(xd->live);
	g_free(xd->completed);
	g_free(xd->name);
	g_mutex_clear(&xd->job);
	g_free(xd);
}

static struct xdom *xdom_new(const char *name, const uint8_t *uuid)
{
	struct xdom *xd = g_new0(struct xdom, 1);

	g_atomic_ref_count_init(&xd->refs);
	g_mutex_init(&xd->job);
	xd->name = g_strdup(name);
	memcpy(xd->uuid, uuid, 16);
	xd->id = -1;
	xd->state = DOMAIN_SHUTOFF;
	xd->incoming_fd = -1;
	return xd;
}

int verr_from_domus(struct verr *err, struct domus_error *e)
{
	verr_set(err, e->code, e->domain, "%s", e->message);
	domus_error_free(e);
	return -1;
}

/* A libxc failure: libvirt's "operation failed" with libxc's words. */
int verr_from_xc(struct verr *err, xc_interface *xch, int r, const char *what)
{
	const char *msg = xch ? xc_last_error(xch) : "";

	return verr_set(err, VERR_OPERATION_FAILED, VERR_FROM_DOMAIN, "%s: %s", what,
			*msg ? msg : g_strerror(-r));
}

void xb_summary(struct xdom *xd, struct domain_summary *s)
{
	memset(s, 0, sizeof(*s));
	g_strlcpy(s->name, xd->name, sizeof(s->name));
	memcpy(s->uuid, xd->uuid, 16);
	s->id = xd->id;
	s->state = xd->state;
	s->reason = xd->reason;
	s->persistent = xd->persistent;
	s->autostart = xd->autostart;
	s->managed_save = xd->managed_save;
}

void xb_emit(struct xc_backend *xb, struct xdom *xd, int event, int detail)
{
	struct domain_summary s;

	g_mutex_lock(&xb->lock);
	xb_summary(xd, &s);
	g_mutex_unlock(&xb->lock);
	g_debug("domain %s: event %d detail %d", s.name, event, detail);
	if (xb->base.events.lifecycle)
		xb->base.events.lifecycle(xb->base.events.opaque, &s, event, detail);
}

void xb_emit_reboot(struct xc_backend *xb, struct xdom *xd)
{
	struct domain_summary s;

	g_mutex_lock(&xb->lock);
	xb_summary(xd, &s);
	g_mutex_unlock(&xb->lock);
	if (xb->base.events.reboot)
		xb->base.events.reboot(xb->base.events.opaque, &s);
}

static struct xdom *find_locked(struct xc_backend *xb, const uint8_t *uuid, const char *name)
{
	for (guint i = 0; i < xb->doms->len; i++) {
		struct xdom *xd = xb->doms->pdata[i];

		if ((uuid && !memcmp(xd->uuid, uuid, 16)) || (name && !strcmp(xd->name, name)))
			return xd;
	}
	return NULL;
}

struct xdom *xb_find(struct xc_backend *xb, const uint8_t *uuid, struct verr *err)
{
	struct xdom *xd;
	char s[DOMAIN_UUID_STRLEN];

	g_mutex_lock(&xb->lock);
	xd = find_locked(xb, uuid, NULL);
	if (xd)
		xdom_ref(xd);
	g_mutex_unlock(&xb->lock);
	if (!xd) {
		domain_uuid_format(uuid, s);
		verr_set(err, VERR_NO_DOMAIN, VERR_FROM_DOMAIN, "no domain with matching uuid '%s'", s);
	}
	return xd;
}

void xb_remove(struct xc_backend *xb, struct xdom *xd)
{
	if (xd->removed)
		return;
	xd->removed = true;
	g_ptr_array_remove(xb->doms, xd);	/* drops the list's reference */
}

int xb_need_active(struct xdom *xd, struct verr *err)
{
	if (xd->ctl && xd->id > 0)
		return 0;
	return verr_set(err, VERR_OPERATION_INVALID, VERR_FROM_DOMAIN, "domain is not running");
}

char *xb_status_path(struct xc_backend *xb, const char *name)
{
	g_autofree char *file = g_strconcat(name, ".xml", NULL);

	return g_build_filename(xb->state_dir, file, NULL);
}

void xb_write_status(struct xc_backend *xb, struct xdom *xd)
{
	g_autofree char *path = NULL, *xml = NULL;
	struct domus_error *e = NULL;

	g_mutex_lock(&xb->lock);
	if (xd->live) {
		path = xb_status_path(xb, xd->name);
		xml = domus_domain_def_format(xd->live, 0);
	}
	g_mutex_unlock(&xb->lock);
	if (xml && domus_file_write_atomic(path, xml, &e) < 0) {
		g_warning("domain %s: cannot write its status file: %s", xd->name, e->message);
		domus_error_free(e);
	}
}

/* ---- listing and lookup ---- */

static int xb_list(struct domain_backend *b, struct domain_summary **out, size_t *n,
		   struct verr *err)
{
	struct xc_backend *xb = xb_of(b);

	g_mutex_lock(&xb->lock);
	*n = xb->doms->len;
	*out = g_new0(struct domain_summary, MAX(*n, 1));
	for (guint i = 0; i < xb->doms->len; i++)
		xb_summary(xb->doms->pdata[i], &(*out)[i]);
	g_mutex_unlock(&xb->lock);
	return 0;
}

static int lookup(struct xc_backend *xb, const uint8_t *uuid, const char *name, int id,
		  struct domain_summary *out)
{
	int ret = -1;

	g_mutex_lock(&xb->lock);
	for (guint i = 0; i < xb->doms->len && ret < 0; i++) {
		struct xdom *xd = xb->doms->pdata[i];

		if ((uuid && !memcmp(xd->uuid, uuid, 16)) || (name && !strcmp(xd->name, name)) ||
		    (id > 0 && xd->id == id)) {
			xb_summary(xd, out);
			ret = 0;
		}
	}
	g_mutex_unlock(&xb->lock);
	return ret;
}

static int xb_lookup_by_uuid(struct domain_backend *b, const uint8_t *uuid,
			     struct domain_summary *out, struct verr *err)
{
	char s[DOMAIN_UUID_STRLEN];

	if (!lookup(xb_of(b), uuid, NULL, 0, out))
		return 0;
	domain_uuid_format(uuid, s);
	return verr_set(err, VERR_NO_DOMAIN, VERR_FROM_DOMAIN, "no domain with matching uuid '%s'", s);
}

static int xb_lookup_by_name(struct domain_backend *b, const char *name,
			     struct domain_summary *out, struct verr *err)
{
	if (!lookup(xb_of(b), NULL, name, 0, out))
		return 0;
	return verr_set(err, VERR_NO_DOMAIN, VERR_FROM_DOMAIN, "no domain with matching name '%s'",
			name);
}

static int xb_lookup_by_id(struct domain_backend *b, int id, struct domain_summary *out,
			   struct verr *err)
{
	if (id > 0 && !lookup(xb_of(b), NULL, NULL, id, out))
		return 0;
	return verr_set(err, VERR_NO_DOMAIN, VERR_FROM_DOMAIN, "no domain with matching id %d", id);
}

static unsigned int xb_count_active(struct domain_backend *b)
{
	struct xc_backend *xb = xb_of(b);
	unsigned int n = 0;

	g_mutex_lock(&xb->lock);
	for (guint i = 0; i < xb->doms->len; i++)
		n += ((struct xdom *)xb->doms->pdata[i])->id > 0;
	g_mutex_unlock(&xb->lock);
	return n;
}

/* ---- description ---- */

static int xb_get_info(struct domain_backend *b, const uint8_t *uuid, struct domain_info *out,
		       struct verr *err)
{
	struct xc_backend *xb = xb_of(b);
	g_autoptr(xdom) xd = xb_find(xb, uuid, err);
	xc_dominfo di;
	int r;

	if (!xd)
		return -1;
	g_mutex_lock(&xd->job);
	g_mutex_lock(&xb->lock);
	const struct domus_domain_def *def = xd->live ? xd->live : xd->def;
	if (!def) {	/* a transient domain that just stopped */
		g_mutex_unlock(&xb->lock);
		g_mutex_unlock(&xd->job);
		return verr_set(err, VERR_NO_DOMAIN, VERR_FROM_DOMAIN, "domain '%s' is gone",
				xd->name);
	}
	out->state = xd->state;
	out->max_mem_kib = def->memory_kib;
	out->mem_kib = def->current_memory_kib;
	out->nr_vcpus = def->current_vcpus;
	g_mutex_unlock(&xb->lock);
	if (xd->ctl && xd->id > 0) {
		xc_dominfo_init(&di);
		r = xc_domain_getinfo(xd->xch, xd->ctl, &di);
		if (!r) {
			out->max_mem_kib = di.max_mem_bytes / 1024;
			out->mem_kib = (di.has_balloon && di.mem_actual_bytes ? di.mem_actual_bytes :
					di.mem_target_bytes) / 1024;
			out->nr_vcpus = di.nr_vcpus;
			out->cpu_time_ns = di.cpu_time_ns;
		}
		xc_dominfo_dispose(&di);
	}
	g_mutex_unlock(&xd->job);
	return 0;
}

#define VIR_DOMAIN_XML_INACTIVE 2
#define XML_FLAGS_OK (1 | 2 | 4 | 8)	/* SECURE, INACTIVE, UPDATE_CPU, MIGRATABLE */

static int xb_get_xml(struct domain_backend *b, const uint8_t *uuid, unsigned int flags,
		      char **xml, struct verr *err)
{
	struct xc_backend *xb = xb_of(b);
	g_autoptr(xdom) xd = NULL;

	if (flags & ~XML_FLAGS_OK)
		return verr_set(err, VERR_INVALID_ARG, VERR_FROM_DOMAIN,
				"unsupported flags (0x%x) in function virDomainGetXMLDesc",
				flags & ~XML_FLAGS_OK);
	if (!(xd = xb_find(xb, uuid, err)))
		return -1;
	g_mutex_lock(&xb->lock);
	if (!xd->def && !xd->live) {
		g_mutex_unlock(&xb->lock);
		return verr_set(err, VERR_NO_DOMAIN, VERR_FROM_DOMAIN, "domain '%s' is gone",
				xd->name);
	}
	if ((flags & VIR_DOMAIN_XML_INACTIVE) && xd->def)
		*xml = domus_domain_def_format(xd->def, DOMUS_DEF_FORMAT_INACTIVE);
	else if (xd->live)
		*xml = domus_domain_def_format(xd->live, (flags & VIR_DOMAIN_XML_INACTIVE) ?
							 DOMUS_DEF_FORMAT_INACTIVE : 0);
	else
		*xml = domus_domain_def_format(xd->def, DOMUS_DEF_FORMAT_INACTIVE);
	g_mutex_unlock(&xb->lock);
	return 0;
}

static int xb_get_max_vcpus(struct domain_backend *b, const uint8_t *uuid, int *out,
			    struct verr *err)
{
	struct xc_backend *xb = xb_of(b);
	g_autoptr(xdom) xd = xb_find(xb, uuid, err);

	if (!xd)
		return -1;
	g_mutex_lock(&xb->lock);
	*out = xd->live ? xd->live->vcpus : xd->def ? xd->def->vcpus : 0;
	g_mutex_unlock(&xb->lock);
	return *out ? 0 : verr_set(err, VERR_NO_DOMAIN, VERR_FROM_DOMAIN, "domain '%s' is gone",
				   xd->name);
}

/* ---- definitions ---- */

/* Refuse a definition whose name or UUID belongs to another domain (under xb->lock). */
static int check_clash(struct xc_backend *xb, const struct domus_domain_def *def,
		       struct xdom **same, struct verr *err)
{
	struct xdom *by_uuid = find_locked(xb, def->uuid, NULL);
	struct xdom *by_name = find_locked(xb, NULL, def->name);
	char s[DOMAIN_UUID_STRLEN];

	if (by_uuid && strcmp(by_uuid->name, def->name)) {
		domain_uuid_format(def->uuid, s);
		return verr_set(err, VERR_DOM_EXIST, VERR_FROM_DOMAIN,
				"domain '%s' already exists with uuid %s", by_uuid->name, s);
	}
	if (by_name && by_name != by_uuid) {
		domain_uuid_format(by_name->uuid, s);
		return verr_set(err, VERR_DOM_EXIST, VERR_FROM_DOMAIN,
				"domain '%s' already exists with uuid %s", by_name->name, s);
	}
	*same = by_uuid;
	return 0;
}

/* Parse @xml; with DOMUS_DEF_PARSE_STATUS for status files. */
struct domus_domain_def *xb_parse(struct xc_backend *xb, const char *xml, unsigned int flags,
				  struct verr *err)
{
	struct domus_error *e = NULL;
	struct domus_domain_def *def = domus_domain_def_parse_string(xb->schema, xml, flags, &e);

	if (!def)
		verr_from_domus(err, e);
	return def;
}

/* Add a new domain to the list (under xb->lock); the list holds the reference. */
struct xdom *xb_add(struct xc_backend *xb, const char *name, const uint8_t *uuid, bool persistent)
{
	struct xdom *xd = xdom_new(name, uuid);

	xd->persistent = persistent;
	g_ptr_array_add(xb->doms, xd);
	return xd;
}

#define VIR_DOMAIN_DEFINE_VALIDATE 1

static int xb_define_xml(struct domain_backend *b, const char *xml, unsigned int flags,
			 struct domain_summary *out, struct verr *err)
{
	struct xc_backend *xb = xb_of(b);
	g_autoptr(domus_domain_def) def = NULL;
	struct domus_error *e = NULL;
	struct xdom *xd = NULL;
	bool existed;

	if (flags & ~VIR_DOMAIN_DEFINE_VALIDATE)
		return verr_set(err, VERR_INVALID_ARG, VERR_FROM_DOMAIN,
				"unsupported flags (0x%x) in function virDomainDefineXMLFlags",
				flags & ~VIR_DOMAIN_DEFINE_VALIDATE);
	/* Every definition is validated against the schema, --validate or not. */
	if (!(def = xb_parse(xb, xml, 0, err)))
		return -1;
	g_mutex_lock(&xb->lock);
	if (check_clash(xb, def, &xd, err) < 0 || domus_domain_store_save(xb->store, def, &e) < 0) {
		g_mutex_unlock(&xb->lock);
		return e ? verr_from_domus(err, e) : -1;
	}
	existed = xd && xd->persistent;
	if (!xd)
		xd = xb_add(xb, def->name, def->uuid, true);
	domus_domain_def_free(xd->def);
	xd->def = g_steal_pointer(&def);
	xd->persistent = true;
	xb_summary(xd, out);
	g_mutex_unlock(&xb->lock);
	xb_emit(xb, xd, EV_DEFINED, existed ? 1 : 0);
	return 0;
}

static int xb_undefine(struct domain_backend *b, const uint8_t *uuid, unsigned int flags,
		       struct verr *err)
{
	struct xc_backend *xb = xb_of(b);
	g_autoptr(xdom) xd = xb_find(xb, uuid, err);
	struct domus_error *e = NULL;

	/* managed save, snapshot and checkpoint metadata, nvram, TPM: Domus keeps none. */
	if (flags & ~0x7fu)
		return verr_set(err, VERR_INVALID_ARG, VERR_FROM_DOMAIN,
				"unsupported flags (0x%x) in function virDomainUndefineFlags",
				flags & ~0x7fu);
	if (!xd || xb_undefine_managed_save(xb, xd, flags, err) < 0)
		return -1;
	g_mutex_lock(&xb->lock);
	if (!xd->persistent) {
		g_mutex_unlock(&xb->lock);
		return verr_set(err, VERR_OPERATION_INVALID, VERR_FROM_DOMAIN,
				"cannot undefine transient domain");
	}
	if (domus_domain_store_delete(xb->store, xd->name, &e) < 0) {
		g_mutex_unlock(&xb->lock);
		return verr_from_domus(err, e);
	}
	xd->persistent = xd->autostart = false;
	g_clear_pointer(&xd->def, domus_domain_def_free);
	if (xd->id < 0)
		xb_remove(xb, xdom_ref(xd));
	g_mutex_unlock(&xb->lock);
	xb_emit(xb, xd, EV_UNDEFINED, 0);
	if (xd->removed)
		xdom_unref(xd);
	return 0;
}

static int xb_set_autostart(struct domain_backend *b, const uint8_t *uuid, bool on,
			    struct verr *err)
{
	struct xc_backend *xb = xb_of(b);
	g_autoptr(xdom) xd = xb_find(xb, uuid, err);
	struct domus_error *e = NULL;
	int r = 0;

	if (!xd)
		return -1;
	g_mutex_lock(&xb->lock);
	if (!xd->persistent)
		r = verr_set(err, VERR_OPERATION_INVALID, VERR_FROM_DOMAIN,
			     "cannot set autostart for transient domain");
	else if (domus_domain_store_set_autostart(xb->store, xd->name, on, &e) < 0)
		r = verr_from_domus(err, e);
	else
		xd->autostart = on;
	g_mutex_unlock(&xb->lock);
	return r;
}

/* ---- construction ---- */

static void xb_destroy_backend(struct domain_backend *b)
{
	struct xc_backend *xb = xb_of(b);

	/* Running domains keep running: only our handles go. */
	xb_migrate_fini(xb);
	g_thread_pool_free(xb->evpool, FALSE, TRUE);
	g_ptr_array_unref(xb->doms);
	domus_domain_store_free(xb->store);
	domus_schema_free(xb->schema);
	g_free(xb->state_dir);
	g_mutex_clear(&xb->lock);
	g_main_context_unref(xb->ctx);
	g_free(xb);
}

static struct domain_backend_ops xb_ops = {
	.name = "xc",
	.destroy_backend = xb_destroy_backend,
	.list = xb_list,
	.lookup_by_uuid = xb_lookup_by_uuid,
	.lookup_by_name = xb_lookup_by_name,
	.lookup_by_id = xb_lookup_by_id,
	.get_info = xb_get_info,
	.get_xml = xb_get_xml,
	.get_max_vcpus = xb_get_max_vcpus,
	.define_xml = xb_define_xml,
	.undefine = xb_undefine,
	.set_autostart = xb_set_autostart,
	.count_active = xb_count_active,
	.open_console = xb_open_console,
};

static void event_job(gpointer data, gpointer user);

static bool load_store(struct xc_backend *xb, GError **error)
{
	g_autoptr(GPtrArray) defs = NULL, errors = NULL;
	struct domus_error *e = NULL;

	if (domus_domain_store_load_all(xb->store, xb->schema, &defs, &errors, &e) < 0) {
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "%s", e->message);
		domus_error_free(e);
		return false;
	}
	for (guint i = 0; i < errors->len; i++)
		g_warning("%s", ((struct domus_error *)errors->pdata[i])->message);
	g_ptr_array_set_free_func(errors, (GDestroyNotify)domus_error_free);
	for (guint i = 0; i < defs->len; i++) {
		struct domus_domain_def *def = defs->pdata[i];
		struct xdom *xd = xb_add(xb, def->name, def->uuid, true);

		xd->autostart = domus_domain_store_get_autostart(xb->store, def->name);
		xd->def = def;
		xd->managed_save = xb_has_managed_save(xb, xd->name);
		defs->pdata[i] = NULL;
	}
	g_message("%u stored domain definitions in %s", defs->len,
		  domus_domain_store_dir(xb->store));
	return true;
}

static char *default_state_dir(bool session)
{
	const char *env = g_getenv("DOMUS_RUN_DIR");

	if (env && *env)
		return g_build_filename(env, "virtdomusd", NULL);
	if (!session)
		return g_strdup("/run/domus/virtdomusd");
	return g_build_filename(g_get_user_runtime_dir(), "domus", "virtdomusd", NULL);
}

/* Autostart runs once the main loop turns, so that its events reach a ready daemon. */
static gboolean autostart_idle(gpointer data)
{
	struct xc_backend *xb = data;

	g_thread_pool_push(xb->evpool, xb, NULL);	/* the backend itself: autostart */
	return G_SOURCE_REMOVE;
}

struct domain_backend *domain_backend_xc_new(const struct domain_event_sink *events,
					     const struct xc_backend_config *cfg, GError **error)
{
	struct xc_backend *xb = g_new0(struct xc_backend, 1);
	g_autofree char *schema_path = domus_schema_default_path();
	g_autofree char *store_dir = cfg->domain_dir ? g_strdup(cfg->domain_dir) :
				     domus_domain_store_default_dir(!cfg->session);
	struct domus_error *e = NULL;
	GSource *src;

	xb_lifecycle_ops(&xb_ops);
	xb_tuning_ops(&xb_ops);
	xb_save_ops(&xb_ops);
	xb_job_ops(&xb_ops);
	xb_migrate_ops(&xb_ops);
	xb->base.ops = &xb_ops;
	xb->base.events = *events;
	xb->ctx = g_main_context_ref(cfg->ctx);
	xb->session = cfg->session;
	g_mutex_init(&xb->lock);
	xb->doms = g_ptr_array_new_with_free_func((GDestroyNotify)xdom_unref);
	xb->evpool = g_thread_pool_new(event_job, xb, 1, TRUE, NULL);
	xb->nr_cpus = MAX(sysconf(_SC_NPROCESSORS_CONF), 1);
	xb_migrate_init(xb, cfg);
	xb->state_dir = cfg->state_dir ? g_strdup(cfg->state_dir) : default_state_dir(cfg->session);
	if (g_mkdir_with_parents(xb->state_dir, 0700) < 0) {
		g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno),
			    "cannot create the state directory %s: %s", xb->state_dir,
			    g_strerror(errno));
		goto fail;
	}
	if (!(xb->schema = domus_schema_load(schema_path, &e)) ||
	    !(xb->store = domus_domain_store_open(store_dir, &e))) {
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "%s", e->message);
		domus_error_free(e);
		goto fail;
	}
	if (!load_store(xb, error))
		goto fail;
	xb_recover(xb);
	src = g_idle_source_new();
	g_source_set_callback(src, autostart_idle, xb, NULL);
	g_source_attach(src, xb->ctx);
	g_source_unref(src);
	return &xb->base;
fail:
	xb_destroy_backend(&xb->base);
	return NULL;
}

/* ---- the event pool ---- */

static void event_job(gpointer data, gpointer user)
{
	struct xc_backend *xb = user;

	if (data == xb)
		xb_autostart(xb);
	else
		xb_handle_event(xb, data);
}
