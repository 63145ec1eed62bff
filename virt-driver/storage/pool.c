// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Dir storage pools: the stored definitions, autostart links and the active state
 * (storage/pool.h says what they are for and what is left out).
 */
#define G_LOG_DOMAIN "virtdomusd"
#include <errno.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "conf/conf_util.h"
#include "conf/domain_store.h"
#include "storage/pool-priv.h"

void spool_free(struct spool *p)
{
	if (!p)
		return;
	g_free(p->name);
	g_free(p->path);
	g_free(p);
}

void spool_snapshot(const struct spool *p, struct sp_pool *out)
{
	out->name = g_strdup(p->name);
	memcpy(out->uuid, p->uuid, 16);
	out->path = g_strdup(p->path);
	out->active = p->active;
	out->autostart = p->autostart;
}

void sp_pool_clear(struct sp_pool *p)
{
	g_clear_pointer(&p->name, g_free);
	g_clear_pointer(&p->path, g_free);
}

void sp_vol_clear(struct sp_vol *v)
{
	g_clear_pointer(&v->pool, g_free);
	g_clear_pointer(&v->name, g_free);
	g_clear_pointer(&v->path, g_free);
}

static struct spool *find_name(struct storage_pools *sp, const char *name)
{
	for (guint i = 0; i < sp->pools->len; i++) {
		struct spool *p = sp->pools->pdata[i];

		if (!strcmp(p->name, name))
			return p;
	}
	return NULL;
}

static struct spool *find_uuid(struct storage_pools *sp, const uint8_t uuid[16])
{
	for (guint i = 0; i < sp->pools->len; i++) {
		struct spool *p = sp->pools->pdata[i];

		if (!memcmp(p->uuid, uuid, 16))
			return p;
	}
	return NULL;
}

struct spool *sp_find_uuid(struct storage_pools *sp, const uint8_t uuid[16], struct verr *err)
{
	struct spool *p = find_uuid(sp, uuid);
	char str[37];

	if (!p) {
		domus_uuid_format(uuid, str);
		verr_set(err, VERR_NO_STORAGE_POOL, VERR_FROM_STORAGE,
			 "no storage pool with matching uuid '%s'", str);
	}
	return p;
}

struct spool *sp_find_active(struct storage_pools *sp, const uint8_t uuid[16], struct verr *err)
{
	struct spool *p = sp_find_uuid(sp, uuid, err);

	if (p && !p->active) {
		verr_set(err, VERR_OPERATION_INVALID, VERR_FROM_STORAGE,
			 "storage pool '%s' is not active", p->name);
		return NULL;
	}
	return p;
}

static char *def_path(struct storage_pools *sp, const char *name)
{
	g_autofree char *file = g_strconcat(name, ".xml", NULL);

	return g_build_filename(sp->dir, file, NULL);
}

static char *link_path(struct storage_pools *sp, const char *name)
{
	g_autofree char *file = g_strconcat(name, ".xml", NULL);

	return g_build_filename(sp->autostart_dir, file, NULL);
}

/* The target must be an existing directory for the pool to run. */
static int check_dir(const struct spool *p, struct verr *err)
{
	struct stat st;

	if (stat(p->path, &st) < 0)
		return verr_errno(err, errno, "cannot open directory '%s' of storage pool '%s'",
				  p->path, p->name);
	if (!S_ISDIR(st.st_mode))
		return verr_set(err, VERR_OPERATION_INVALID, VERR_FROM_STORAGE,
				"the target of storage pool '%s', '%s', is not a directory",
				p->name, p->path);
	return 0;
}

static void load_one(struct storage_pools *sp, const char *file)
{
	g_autofree char *path = g_build_filename(sp->dir, file, NULL);
	g_autofree char *origin = g_strdup_printf("%s: ", path);
	g_autofree char *xml = NULL;
	g_autofree char *link = NULL;
	struct verr err = { 0 };
	struct spool *p;

	if (!g_file_get_contents(path, &xml, NULL, NULL) ||
	    !(p = spx_parse(xml, origin, &err))) {
		g_warning("%s", err.code ? err.message : "cannot read a storage pool definition");
		return;
	}
	if (strlen(file) != strlen(p->name) + 4 || strncmp(file, p->name, strlen(p->name)) ||
	    find_name(sp, p->name) || find_uuid(sp, p->uuid)) {
		g_warning("%s: skipped: its name is not its file's, or its name or UUID is taken",
			  path);
		spool_free(p);
		return;
	}
	link = link_path(sp, p->name);
	p->autostart = g_file_test(link, G_FILE_TEST_IS_SYMLINK);
	if (p->autostart && check_dir(p, &err) < 0)
		g_warning("autostart of storage pool '%s': %s", p->name, err.message);
	p->active = p->autostart && !err.code;
	g_ptr_array_add(sp->pools, p);
}

struct storage_pools *storage_pools_open(const char *dir, GError **error)
{
	struct storage_pools *sp = g_new0(struct storage_pools, 1);
	g_autoptr(GDir) d = NULL;
	const char *file;

	g_mutex_init(&sp->lock);
	sp->dir = g_strdup(dir);
	sp->autostart_dir = g_build_filename(dir, "autostart", NULL);
	sp->pools = g_ptr_array_new_with_free_func((GDestroyNotify)spool_free);
	if (g_mkdir_with_parents(sp->autostart_dir, 0700) < 0) {
		g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno),
			    "cannot create %s: %s", sp->autostart_dir, g_strerror(errno));
		storage_pools_free(sp);
		return NULL;
	}
	if (!(d = g_dir_open(dir, 0, error))) {
		storage_pools_free(sp);
		return NULL;
	}
	while ((file = g_dir_read_name(d)))
		if (file[0] != '.' && g_str_has_suffix(file, ".xml") && strlen(file) > 4)
			load_one(sp, file);
	g_message("%u storage pool definitions in %s", sp->pools->len, dir);
	return sp;
}

void storage_pools_free(struct storage_pools *sp)
{
	if (!sp)
		return;
	g_ptr_array_unref(sp->pools);
	g_free(sp->dir);
	g_free(sp->autostart_dir);
	g_mutex_clear(&sp->lock);
	g_free(sp);
}

static int by_name(gconstpointer a, gconstpointer b)
{
	return strcmp(((const struct sp_pool *)a)->name, ((const struct sp_pool *)b)->name);
}

struct sp_pool *sp_list(struct storage_pools *sp, size_t *n)
{
	g_autoptr(GMutexLocker) l = g_mutex_locker_new(&sp->lock);
	struct sp_pool *out = g_new0(struct sp_pool, sp->pools->len + 1);

	for (guint i = 0; i < sp->pools->len; i++)
		spool_snapshot(sp->pools->pdata[i], &out[i]);
	*n = sp->pools->len;
	qsort(out, *n, sizeof(*out), by_name);
	return out;
}

int sp_lookup_name(struct storage_pools *sp, const char *name, struct sp_pool *out,
		   struct verr *err)
{
	g_autoptr(GMutexLocker) l = g_mutex_locker_new(&sp->lock);
	struct spool *p = find_name(sp, name);

	if (!p)
		return verr_set(err, VERR_NO_STORAGE_POOL, VERR_FROM_STORAGE,
				"no storage pool with matching name '%s'", name);
	spool_snapshot(p, out);
	return 0;
}

int sp_lookup_uuid(struct storage_pools *sp, const uint8_t uuid[16], struct sp_pool *out,
		   struct verr *err)
{
	g_autoptr(GMutexLocker) l = g_mutex_locker_new(&sp->lock);
	struct spool *p = sp_find_uuid(sp, uuid, err);

	if (!p)
		return -1;
	spool_snapshot(p, out);
	return 0;
}

/* libvirt's rules for a (re)definition: one name ↔ one UUID, one pool per directory. */
static int check_define(struct storage_pools *sp, const struct spool *def, struct spool *old,
			struct verr *err)
{
	struct spool *same_uuid = find_uuid(sp, def->uuid);
	char str[37];

	domus_uuid_format(old ? old->uuid : def->uuid, str);
	if (old && memcmp(old->uuid, def->uuid, 16))
		return verr_set(err, VERR_OPERATION_FAILED, VERR_FROM_STORAGE,
				"pool '%s' is already defined with uuid %s", old->name, str);
	if (!old && same_uuid)
		return verr_set(err, VERR_OPERATION_FAILED, VERR_FROM_STORAGE,
				"pool '%s' already exists with uuid %s", same_uuid->name, str);
	for (guint i = 0; i < sp->pools->len; i++) {
		struct spool *p = sp->pools->pdata[i];

		if (p != old && !strcmp(p->path, def->path))
			return verr_set(err, VERR_OPERATION_FAILED, VERR_FROM_STORAGE,
					"Storage source conflict with pool: '%s'", p->name);
	}
	if (old && old->active && strcmp(old->path, def->path))
		return verr_set(err, VERR_OPERATION_INVALID, VERR_FROM_STORAGE,
				"storage pool '%s' is active: destroy it before moving its target",
				old->name);
	return 0;
}

int sp_define(struct storage_pools *sp, const char *xml, struct sp_pool *out, struct verr *err)
{
	g_autoptr(GMutexLocker) l = g_mutex_locker_new(&sp->lock);
	struct spool *def = spx_parse(xml, "", err);
	g_autofree char *path = NULL;
	g_autofree char *text = NULL;
	struct domus_error *e = NULL;
	struct spool *old;

	if (!def)
		return -1;
	old = find_name(sp, def->name);
	if (check_define(sp, def, old, err) < 0) {
		spool_free(def);
		return -1;
	}
	path = def_path(sp, def->name);
	text = spx_format_pool(def, NULL);
	if (domus_file_write_atomic(path, text, &e) < 0) {
		verr_set(err, VERR_OPERATION_FAILED, VERR_FROM_STORAGE, "%s", e->message);
		domus_error_free(e);
		spool_free(def);
		return -1;
	}
	if (old) {
		def->active = old->active;
		def->autostart = old->autostart;
		g_ptr_array_remove(sp->pools, old);
	}
	g_ptr_array_add(sp->pools, def);
	spool_snapshot(def, out);
	return 0;
}

int sp_undefine(struct storage_pools *sp, const uint8_t uuid[16], struct verr *err)
{
	g_autoptr(GMutexLocker) l = g_mutex_locker_new(&sp->lock);
	struct spool *p = sp_find_uuid(sp, uuid, err);
	g_autofree char *link = NULL;
	g_autofree char *path = NULL;

	if (!p)
		return -1;
	if (p->active)
		return verr_set(err, VERR_OPERATION_INVALID, VERR_FROM_STORAGE,
				"storage pool '%s' is still active", p->name);
	link = link_path(sp, p->name);
	path = def_path(sp, p->name);
	if ((unlink(link) < 0 && errno != ENOENT) || unlink(path) < 0)
		return verr_errno(err, errno, "cannot remove the definition of storage pool '%s'",
				  p->name);
	g_ptr_array_remove(sp->pools, p);
	return 0;
}

/* A pool that is not active yet: its directory made (@build), then checked; @start: the
 * pool runs. */
static int prepare(struct storage_pools *sp, const uint8_t uuid[16], bool build, bool start,
		   struct verr *err)
{
	g_autoptr(GMutexLocker) l = g_mutex_locker_new(&sp->lock);
	struct spool *p = sp_find_uuid(sp, uuid, err);

	if (!p)
		return -1;
	if (p->active)
		return verr_set(err, VERR_OPERATION_INVALID, VERR_FROM_STORAGE,
				"storage pool '%s' is already active", p->name);
	if (build && g_mkdir_with_parents(p->path, 0755) < 0)
		return verr_errno(err, errno, "cannot create directory '%s'", p->path);
	if (check_dir(p, err) < 0)
		return -1;
	p->active = start;
	return 0;
}

int sp_build(struct storage_pools *sp, const uint8_t uuid[16], struct verr *err)
{
	return prepare(sp, uuid, true, false, err);
}

int sp_start(struct storage_pools *sp, const uint8_t uuid[16], bool build, struct verr *err)
{
	return prepare(sp, uuid, build, true, err);
}

int sp_destroy(struct storage_pools *sp, const uint8_t uuid[16], struct verr *err)
{
	g_autoptr(GMutexLocker) l = g_mutex_locker_new(&sp->lock);
	struct spool *p = sp_find_active(sp, uuid, err);

	if (!p)
		return -1;
	p->active = false;
	return 0;
}

int sp_refresh(struct storage_pools *sp, const uint8_t uuid[16], struct verr *err)
{
	g_autoptr(GMutexLocker) l = g_mutex_locker_new(&sp->lock);
	struct spool *p = sp_find_active(sp, uuid, err);

	/* Volumes are read at each call: refreshing only checks the directory is there. */
	return p ? check_dir(p, err) : -1;
}

int sp_set_autostart(struct storage_pools *sp, const uint8_t uuid[16], bool on,
		     struct verr *err)
{
	g_autoptr(GMutexLocker) l = g_mutex_locker_new(&sp->lock);
	struct spool *p = sp_find_uuid(sp, uuid, err);
	g_autofree char *link = NULL;
	g_autofree char *target = NULL;

	if (!p)
		return -1;
	link = link_path(sp, p->name);
	target = g_strconcat("../", p->name, ".xml", NULL);
	if (on && !p->autostart && symlink(target, link) < 0 && errno != EEXIST)
		return verr_errno(err, errno, "cannot create the autostart link '%s'", link);
	if (!on && unlink(link) < 0 && errno != ENOENT)
		return verr_errno(err, errno, "cannot remove the autostart link '%s'", link);
	p->autostart = on;
	return 0;
}

static void pool_sizes(const struct spool *p, uint64_t sizes[3])
{
	struct statvfs vfs;

	memset(sizes, 0, 3 * sizeof(*sizes));
	if (!p->active || statvfs(p->path, &vfs) < 0)
		return;
	sizes[0] = (uint64_t)vfs.f_blocks * vfs.f_frsize;
	sizes[1] = (uint64_t)(vfs.f_blocks - vfs.f_bfree) * vfs.f_frsize;
	sizes[2] = (uint64_t)vfs.f_bavail * vfs.f_frsize;
}

int sp_info(struct storage_pools *sp, const uint8_t uuid[16], int *state, uint64_t sizes[3],
	    struct verr *err)
{
	g_autoptr(GMutexLocker) l = g_mutex_locker_new(&sp->lock);
	struct spool *p = sp_find_uuid(sp, uuid, err);

	if (!p)
		return -1;
	*state = p->active ? 2 : 0;	/* VIR_STORAGE_POOL_RUNNING / _INACTIVE */
	pool_sizes(p, sizes);
	return 0;
}

char *sp_xml(struct storage_pools *sp, const uint8_t uuid[16], struct verr *err)
{
	g_autoptr(GMutexLocker) l = g_mutex_locker_new(&sp->lock);
	struct spool *p = sp_find_uuid(sp, uuid, err);
	uint64_t sizes[3];

	if (!p)
		return NULL;
	pool_sizes(p, sizes);
	/* with or without VIR_STORAGE_XML_INACTIVE, as libvirt: an inactive pool's are 0 */
	return spx_format_pool(p, sizes);
}
