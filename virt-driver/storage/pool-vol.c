// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The volumes of dir pools: the regular files in an active pool's directory (names
 * starting with '.' left out), read at each call. A volume's key is its path.
 */
#define G_LOG_DOMAIN "virtdomusd"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "storage/pool-priv.h"

static bool is_volume(const char *dir, const char *name, struct stat *st)
{
	g_autofree char *path = g_build_filename(dir, name, NULL);

	return name[0] != '.' && !strchr(name, '/') && stat(path, st) == 0 &&
	       S_ISREG(st->st_mode);
}

static void vol_of(const struct spool *p, const char *name, struct sp_vol *out)
{
	out->pool = g_strdup(p->name);
	out->name = g_strdup(name);
	out->path = g_build_filename(p->path, name, NULL);
}

static int vol_by_name(const void *a, const void *b)
{
	return strcmp(((const struct sp_vol *)a)->name, ((const struct sp_vol *)b)->name);
}

struct sp_vol *sp_vol_list(struct storage_pools *sp, const uint8_t uuid[16], size_t *n,
			   struct verr *err)
{
	g_autoptr(GMutexLocker) l = g_mutex_locker_new(&sp->lock);
	struct spool *p = sp_find_active(sp, uuid, err);
	g_autoptr(GArray) vols = NULL;
	g_autoptr(GDir) d = NULL;
	g_autoptr(GError) e = NULL;
	const char *name;
	struct stat st;

	if (!p)
		return NULL;
	if (!(d = g_dir_open(p->path, 0, &e))) {
		verr_set(err, VERR_SYSTEM_ERROR, VERR_FROM_STORAGE, "%s", e->message);
		return NULL;
	}
	vols = g_array_new(TRUE, TRUE, sizeof(struct sp_vol));
	while ((name = g_dir_read_name(d))) {
		struct sp_vol v = { 0 };

		if (!is_volume(p->path, name, &st))
			continue;
		vol_of(p, name, &v);
		g_array_append_val(vols, v);
	}
	*n = vols->len;
	qsort(vols->data, *n, sizeof(struct sp_vol), vol_by_name);
	return (struct sp_vol *)g_array_free(g_steal_pointer(&vols), FALSE);
}

int sp_vol_lookup_name(struct storage_pools *sp, const uint8_t uuid[16], const char *name,
		       struct sp_vol *out, struct verr *err)
{
	g_autoptr(GMutexLocker) l = g_mutex_locker_new(&sp->lock);
	struct spool *p = sp_find_active(sp, uuid, err);
	struct stat st;

	if (!p)
		return -1;
	if (!is_volume(p->path, name, &st))
		return verr_set(err, VERR_NO_STORAGE_VOL, VERR_FROM_STORAGE,
				"no storage vol with matching name '%s'", name);
	vol_of(p, name, out);
	return 0;
}

/* The active pool whose directory holds @path (compared as given, then resolved). */
static struct spool *pool_of_path(struct storage_pools *sp, const char *path, char **name)
{
	g_autofree char *dir = g_path_get_dirname(path);
	g_autofree char *real_dir = realpath(dir, NULL);

	*name = g_path_get_basename(path);
	for (guint i = 0; i < sp->pools->len; i++) {
		struct spool *p = sp->pools->pdata[i];
		g_autofree char *real_pool = NULL;

		if (!p->active)
			continue;
		if (!strcmp(p->path, dir))
			return p;
		real_pool = realpath(p->path, NULL);
		if (real_dir && real_pool && !strcmp(real_pool, real_dir))
			return p;
	}
	return NULL;
}

int sp_vol_lookup_path(struct storage_pools *sp, const char *path, struct sp_vol *out,
		       struct verr *err)
{
	g_autoptr(GMutexLocker) l = g_mutex_locker_new(&sp->lock);
	g_autofree char *name = NULL;
	struct spool *p = path[0] == '/' ? pool_of_path(sp, path, &name) : NULL;
	struct stat st;

	if (!p || !is_volume(p->path, name, &st))
		return verr_set(err, VERR_NO_STORAGE_VOL, VERR_FROM_STORAGE,
				"no storage vol with matching path '%s'", path);
	vol_of(p, name, out);
	return 0;
}

/* qcow2 images start with "QFI\xfb"; anything else is taken as raw, as Domus uses it. */
static const char *probe_format(const char *path)
{
	unsigned char magic[4] = { 0 };
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	ssize_t n = fd >= 0 ? read(fd, magic, sizeof(magic)) : -1;

	if (fd >= 0)
		close(fd);
	return n == 4 && !memcmp(magic, "QFI\xfb", 4) ? "qcow2" : "raw";
}

int sp_vol_info(struct storage_pools *sp, const char *key, struct sp_vol_info *info,
		struct verr *err)
{
	struct sp_vol v = { 0 };
	struct stat st;

	if (sp_vol_lookup_path(sp, key, &v, err) < 0)
		return -1;
	sp_vol_clear(&v);
	if (stat(key, &st) < 0)
		return verr_set(err, VERR_NO_STORAGE_VOL, VERR_FROM_STORAGE,
				"no storage vol with matching key %s", key);
	info->capacity = st.st_size;
	info->allocation = (uint64_t)st.st_blocks * 512;
	info->format = probe_format(key);
	return 0;
}

char *sp_vol_xml(struct storage_pools *sp, const char *key, struct verr *err)
{
	struct sp_vol_info info;
	g_autofree char *name = g_path_get_basename(key);

	if (sp_vol_info(sp, key, &info, err) < 0)
		return NULL;
	return spx_format_vol(name, key, &info);
}
