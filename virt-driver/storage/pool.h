/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Storage pools of type 'dir', as libvirt's storage driver has them: a named directory
 * whose regular files are the volumes. Domus needs them because virt-install 4.1 resolves
 * every `--disk path=` through the storage API (it defines a dir pool for the file's
 * directory, then looks the file up as a volume) and drops the path when the connection
 * has no storage API at all.
 *
 * Definitions are kept as <dir>/<name>.xml with autostart links in <dir>/autostart/
 * (libvirt's layout), written atomically. Active pools are remembered in memory only: a
 * restarted daemon starts the autostart ones (all those virt-install defines) again.
 * Volumes are read from the directory at each call (there is no cache to refresh). Volumes
 * are read-only through this API: creating, deleting, resizing or uploading them is
 * VIR_ERR_NO_SUPPORT (the images are made with truncate, qemu-img or cp).
 *
 * Thread-safe: every call takes the pools' lock.
 */
#ifndef VIRTD_STORAGE_POOL_H
#define VIRTD_STORAGE_POOL_H

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#include "rpc/verr.h"

struct storage_pools;

/* A snapshot of one pool (owned strings). */
struct sp_pool {
	char *name;
	uint8_t uuid[16];
	char *path;		/* the target directory */
	bool active;
	bool autostart;
};

/* One volume: a regular file of an active pool. Its key is its path, as for libvirt's
 * dir pools. */
struct sp_vol {
	char *pool;
	char *name;
	char *path;
};

struct sp_vol_info {
	uint64_t capacity;	/* bytes: the file's size */
	uint64_t allocation;	/* bytes on disk */
	const char *format;	/* "raw" or "qcow2" (its magic) */
};

void sp_pool_clear(struct sp_pool *p);
void sp_vol_clear(struct sp_vol *v);

/* Load the definitions in @dir (created if missing); start the autostart pools. */
struct storage_pools *storage_pools_open(const char *dir, GError **error);
void storage_pools_free(struct storage_pools *sp);

/* Every pool, sorted by name; free with sp_pool_clear each and g_free. */
struct sp_pool *sp_list(struct storage_pools *sp, size_t *n);

int sp_lookup_name(struct storage_pools *sp, const char *name, struct sp_pool *out,
		   struct verr *err);
int sp_lookup_uuid(struct storage_pools *sp, const uint8_t uuid[16], struct sp_pool *out,
		   struct verr *err);

/* virStoragePoolDefineXML: a new pool, or a new definition of one with that name and UUID. */
int sp_define(struct storage_pools *sp, const char *xml, struct sp_pool *out, struct verr *err);
int sp_undefine(struct storage_pools *sp, const uint8_t uuid[16], struct verr *err);
/* @build: VIR_STORAGE_POOL_CREATE_WITH_BUILD* given, create the directory first. */
int sp_start(struct storage_pools *sp, const uint8_t uuid[16], bool build, struct verr *err);
int sp_destroy(struct storage_pools *sp, const uint8_t uuid[16], struct verr *err);
int sp_build(struct storage_pools *sp, const uint8_t uuid[16], struct verr *err);
int sp_refresh(struct storage_pools *sp, const uint8_t uuid[16], struct verr *err);
int sp_set_autostart(struct storage_pools *sp, const uint8_t uuid[16], bool on,
		     struct verr *err);
/* State (VIR_STORAGE_POOL_*), capacity, allocation and available bytes (statvfs). */
int sp_info(struct storage_pools *sp, const uint8_t uuid[16], int *state, uint64_t sizes[3],
	    struct verr *err);
char *sp_xml(struct storage_pools *sp, const uint8_t uuid[16], struct verr *err);

/* The volumes of an active pool, sorted by name. */
struct sp_vol *sp_vol_list(struct storage_pools *sp, const uint8_t uuid[16], size_t *n,
			   struct verr *err);
int sp_vol_lookup_name(struct storage_pools *sp, const uint8_t uuid[16], const char *name,
		       struct sp_vol *out, struct verr *err);
/* By path or key (the same for dir pools): the file in an active pool's directory. */
int sp_vol_lookup_path(struct storage_pools *sp, const char *path, struct sp_vol *out,
		       struct verr *err);
int sp_vol_info(struct storage_pools *sp, const char *key, struct sp_vol_info *info,
		struct verr *err);
char *sp_vol_xml(struct storage_pools *sp, const char *key, struct verr *err);

#endif
