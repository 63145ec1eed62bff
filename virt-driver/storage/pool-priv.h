/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Internals of storage/: the pool list and the XML of pools and volumes. */
#ifndef VIRTD_STORAGE_POOL_PRIV_H
#define VIRTD_STORAGE_POOL_PRIV_H

#include <sys/stat.h>

#include "storage/pool.h"

struct spool {
	char *name;
	uint8_t uuid[16];
	char *path;
	bool active;
	bool autostart;
};

struct storage_pools {
	GMutex lock;
	char *dir;		/* <name>.xml */
	char *autostart_dir;	/* <name>.xml → ../<name>.xml */
	GPtrArray *pools;	/* struct spool *, under lock */
};

void spool_free(struct spool *p);
/* A copy of @p for a caller (outside the lock). */
void spool_snapshot(const struct spool *p, struct sp_pool *out);

/* With the lock held: the pool with @uuid, or NULL and VIR_ERR_NO_STORAGE_POOL. */
struct spool *sp_find_uuid(struct storage_pools *sp, const uint8_t uuid[16], struct verr *err);
/* ... and it must be active (VIR_ERR_OPERATION_INVALID otherwise). */
struct spool *sp_find_active(struct storage_pools *sp, const uint8_t uuid[16], struct verr *err);

/* Parse a <pool> definition (type 'dir' only); a missing UUID is generated. @origin starts
 * the error messages ("<file>: " for a stored definition, "" for a client's XML). */
struct spool *spx_parse(const char *xml, const char *origin, struct verr *err);
/* @sizes: capacity, allocation, available (bytes), or NULL to leave them out. */
char *spx_format_pool(const struct spool *p, const uint64_t *sizes);
char *spx_format_vol(const char *name, const char *path, const struct sp_vol_info *info);

#endif
