// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Storage pool and volume procedures: dir pools (storage/pool.h), what virt-install needs
 * to take `--disk path=FILE` and what virt-manager's storage tab reads. Pools are named on
 * the wire by name and UUID and looked up by UUID; volumes by their key, the path. Without
 * a storage layer (the empty backend) every one answers VIR_ERR_NO_SUPPORT. Creating,
 * deleting, resizing, wiping or uploading volumes are not implemented (VIR_ERR_NO_SUPPORT).
 */
#define G_LOG_DOMAIN "virtdomusd"
#include <string.h>

#include "remote.h"
#include "storage/pool.h"

/* VIR_CONNECT_LIST_STORAGE_POOLS_*: state, persistence, autostart, then the type bits
 * (DIR 1 << 6 … ISCSI_DIRECT 1 << 19). */
#define LIST_POOLS_FLAGS ((1u << 20) - 1)
#define LIST_POOLS_DIR (1u << 6)
#define CREATE_WITH_BUILD_ANY 0x7	/* WITH_BUILD, _OVERWRITE, _NO_OVERWRITE */
#define BUILD_OK 0xc			/* NEW (0), NO_OVERWRITE, OVERWRITE */

static struct storage_pools *pools(struct remote_call *call, struct verr *err)
{
	if (!call->d->storage)
		verr_no_support(err, VERR_FROM_NONE, call->p->api);	/* as dispatch's */
	return call->d->storage;
}

static int check_flags(struct remote_call *call, unsigned int flags, unsigned int allowed,
		       struct verr *err)
{
	if (!(flags & ~allowed))
		return 0;
	return verr_set(err, VERR_INVALID_ARG, VERR_FROM_STORAGE,
			"unsupported flags (0x%x) in function %s", flags & ~allowed, call->p->api);
}

static void pool_to_wire(const struct sp_pool *p, rp_nonnull_storage_pool *w)
{
	w->name = g_strdup(p->name);
	memcpy(w->uuid, p->uuid, 16);
}

static void vol_to_wire(const struct sp_vol *v, rp_nonnull_storage_vol *w)
{
	w->pool = g_strdup(v->pool);
	w->name = g_strdup(v->name);
	w->key = g_strdup(v->path);
}

/* The pool a call names, as it is now. */
static int pool_of(struct remote_call *call, const rp_nonnull_storage_pool *w,
		   struct sp_pool *out, struct verr *err)
{
	struct storage_pools *sp = pools(call, err);

	return sp ? sp_lookup_uuid(sp, (const uint8_t *)w->uuid, out, err) : -1;
}

static void free_list(struct sp_pool *all, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sp_pool_clear(&all[i]);
	g_free(all);
}

static bool list_match(const struct sp_pool *p, unsigned int flags)
{
	unsigned int state = p->active ? 2 : 1, autostart = p->autostart ? 16 : 32;

	return (!(flags & 3) || (flags & state)) && (!(flags & 12) || (flags & 4)) &&
	       (!(flags & 48) || (flags & autostart)) &&
	       (!(flags & ~63u) || (flags & LIST_POOLS_DIR));
}

static int list_all_pools(struct remote_call *call, void *a, void *r, struct verr *err)
{
	rp_list_all_domains_args *args = a;
	rp_list_all_storage_pools_ret *ret = r;
	struct storage_pools *sp = pools(call, err);
	struct sp_pool *all;
	size_t n, k = 0;

	if (!sp || check_flags(call, args->flags, LIST_POOLS_FLAGS, err) < 0)
		return -1;
	all = sp_list(sp, &n);
	ret->pools.pools_val = g_new0(rp_nonnull_storage_pool, MAX(n, 1));
	for (size_t i = 0; i < n; i++)
		if (list_match(&all[i], args->flags) && args->need_results)
			pool_to_wire(&all[i], &ret->pools.pools_val[k++]);
		else if (list_match(&all[i], args->flags))
			k++;
	ret->pools.pools_len = args->need_results ? k : 0;
	ret->ret = k;
	free_list(all, n);
	return 0;
}

/* The names of the active (@active) or inactive pools, for the legacy listing calls. */
static int legacy_names(struct remote_call *call, bool active, int max, rp_names_ret *names,
			int *count, struct verr *err)
{
	struct storage_pools *sp = pools(call, err);
	struct sp_pool *all;
	size_t n;
	int k = 0;

	if (!sp)
		return -1;
	all = sp_list(sp, &n);
	if (names)
		names->names.names_val = g_new0(rp_nonnull_string, MAX(n, 1));
	for (size_t i = 0; i < n; i++) {
		if (all[i].active != active || (names && k >= max))
			continue;
		if (names)
			names->names.names_val[k] = g_strdup(all[i].name);
		k++;
	}
	if (names)
		names->names.names_len = k;
	if (count)
		*count = k;
	free_list(all, n);
	return 0;
}

static int num_of_pools(struct remote_call *call, void *a, void *r, struct verr *err)
{
	return legacy_names(call, true, 0, NULL, &((rp_int_msg *)r)->v, err);
}

static int num_of_defined_pools(struct remote_call *call, void *a, void *r, struct verr *err)
{
	return legacy_names(call, false, 0, NULL, &((rp_int_msg *)r)->v, err);
}

static int list_pools(struct remote_call *call, void *a, void *r, struct verr *err)
{
	return legacy_names(call, true, ((rp_int_msg *)a)->v, r, NULL, err);
}

static int list_defined_pools(struct remote_call *call, void *a, void *r, struct verr *err)
{
	return legacy_names(call, false, ((rp_int_msg *)a)->v, r, NULL, err);
}

static int lookup_by_name(struct remote_call *call, void *a, void *r, struct verr *err)
{
	struct storage_pools *sp = pools(call, err);
	struct sp_pool p = { 0 };

	if (!sp || sp_lookup_name(sp, ((rp_string_msg *)a)->v, &p, err) < 0)
		return -1;
	pool_to_wire(&p, &((rp_pool_msg *)r)->pool);
	sp_pool_clear(&p);
	return 0;
}

static int lookup_by_uuid(struct remote_call *call, void *a, void *r, struct verr *err)
{
	struct storage_pools *sp = pools(call, err);
	struct sp_pool p = { 0 };

	if (!sp || sp_lookup_uuid(sp, (const uint8_t *)((rp_uuid_msg *)a)->uuid, &p, err) < 0)
		return -1;
	pool_to_wire(&p, &((rp_pool_msg *)r)->pool);
	sp_pool_clear(&p);
	return 0;
}

static int lookup_by_volume(struct remote_call *call, void *a, void *r, struct verr *err)
{
	struct storage_pools *sp = pools(call, err);
	struct sp_vol v = { 0 };
	struct sp_pool p = { 0 };
	int ret;

	if (!sp || sp_vol_lookup_path(sp, ((rp_vol_msg *)a)->vol.key, &v, err) < 0)
		return -1;
	ret = sp_lookup_name(sp, v.pool, &p, err);
	if (!ret)
		pool_to_wire(&p, &((rp_pool_msg *)r)->pool);
	sp_vol_clear(&v);
	sp_pool_clear(&p);
	return ret;
}

static int define_xml(struct remote_call *call, void *a, void *r, struct verr *err)
{
	rp_xml_flags_args *args = a;
	struct storage_pools *sp = pools(call, err);
	struct sp_pool p = { 0 };

	/* VIR_STORAGE_POOL_DEFINE_VALIDATE: every definition is checked anyway */
	if (!sp || check_flags(call, args->flags, 1, err) < 0 ||
	    sp_define(sp, args->xml, &p, err) < 0)
		return -1;
	g_message("storage pool '%s' defined (%s)", p.name, p.path);
	pool_to_wire(&p, &((rp_pool_msg *)r)->pool);
	sp_pool_clear(&p);
	return 0;
}

/* Calls on one pool that return nothing: start, build, destroy, undefine, refresh. */
enum pool_op { OP_START, OP_BUILD, OP_DESTROY, OP_UNDEFINE, OP_REFRESH };

static int pool_op(struct remote_call *call, const rp_nonnull_storage_pool *w,
		   unsigned int flags, enum pool_op op, struct verr *err)
{
	static const unsigned int allowed[] = { CREATE_WITH_BUILD_ANY, BUILD_OK, 0, 0, 0 };
	struct storage_pools *sp = pools(call, err);
	const uint8_t *uuid = (const uint8_t *)w->uuid;

	if (!sp || check_flags(call, flags, allowed[op], err) < 0)
		return -1;
	switch (op) {
	case OP_START: return sp_start(sp, uuid, flags != 0, err);
	case OP_BUILD: return sp_build(sp, uuid, err);
	case OP_DESTROY: return sp_destroy(sp, uuid, err);
	case OP_UNDEFINE: return sp_undefine(sp, uuid, err);
	case OP_REFRESH: return sp_refresh(sp, uuid, err);
	}
	return -1;
}

static int pool_create(struct remote_call *call, void *a, void *r, struct verr *err)
{
	rp_pool_flags_args *args = a;

	return pool_op(call, &args->pool, args->flags, OP_START, err);
}

static int pool_build(struct remote_call *call, void *a, void *r, struct verr *err)
{
	rp_pool_flags_args *args = a;

	return pool_op(call, &args->pool, args->flags, OP_BUILD, err);
}

static int pool_refresh(struct remote_call *call, void *a, void *r, struct verr *err)
{
	rp_pool_flags_args *args = a;

	return pool_op(call, &args->pool, args->flags, OP_REFRESH, err);
}

static int pool_destroy(struct remote_call *call, void *a, void *r, struct verr *err)
{
	return pool_op(call, &((rp_pool_msg *)a)->pool, 0, OP_DESTROY, err);
}

static int pool_undefine(struct remote_call *call, void *a, void *r, struct verr *err)
{
	return pool_op(call, &((rp_pool_msg *)a)->pool, 0, OP_UNDEFINE, err);
}

static int pool_get_info(struct remote_call *call, void *a, void *r, struct verr *err)
{
	rp_storage_pool_get_info_ret *ret = r;
	struct storage_pools *sp = pools(call, err);
	uint64_t sizes[3];
	int state;

	if (!sp || sp_info(sp, (const uint8_t *)((rp_pool_msg *)a)->pool.uuid, &state, sizes,
			   err) < 0)
		return -1;
	ret->state = (char)state;
	ret->capacity = sizes[0];
	ret->allocation = sizes[1];
	ret->available = sizes[2];
	return 0;
}

static int pool_get_xml_desc(struct remote_call *call, void *a, void *r, struct verr *err)
{
	rp_pool_flags_args *args = a;
	struct storage_pools *sp = pools(call, err);
	char *xml;

	/* VIR_STORAGE_XML_INACTIVE: the same document (a dir pool has no live-only part) */
	if (!sp || check_flags(call, args->flags, 1, err) < 0 ||
	    !(xml = sp_xml(sp, (const uint8_t *)args->pool.uuid, err)))
		return -1;
	((rp_string_msg *)r)->v = xml;
	return 0;
}

static int pool_get_autostart(struct remote_call *call, void *a, void *r, struct verr *err)
{
	struct sp_pool p = { 0 };

	if (pool_of(call, &((rp_pool_msg *)a)->pool, &p, err) < 0)
		return -1;
	((rp_int_msg *)r)->v = p.autostart;
	sp_pool_clear(&p);
	return 0;
}

static int pool_set_autostart(struct remote_call *call, void *a, void *r, struct verr *err)
{
	rp_storage_pool_set_autostart_args *args = a;
	struct storage_pools *sp = pools(call, err);

	return sp ? sp_set_autostart(sp, (const uint8_t *)args->pool.uuid, args->autostart != 0,
				     err) : -1;
}

static int pool_is_active(struct remote_call *call, void *a, void *r, struct verr *err)
{
	struct sp_pool p = { 0 };

	if (pool_of(call, &((rp_pool_msg *)a)->pool, &p, err) < 0)
		return -1;
	((rp_int_msg *)r)->v = p.active;
	sp_pool_clear(&p);
	return 0;
}

static int pool_is_persistent(struct remote_call *call, void *a, void *r, struct verr *err)
{
	struct sp_pool p = { 0 };

	if (pool_of(call, &((rp_pool_msg *)a)->pool, &p, err) < 0)
		return -1;
	((rp_int_msg *)r)->v = 1;	/* no transient pools (CREATE_XML is not implemented) */
	sp_pool_clear(&p);
	return 0;
}

static struct sp_vol *volumes(struct remote_call *call, const rp_nonnull_storage_pool *w,
			      size_t *n, struct verr *err)
{
	struct storage_pools *sp = pools(call, err);

	return sp ? sp_vol_list(sp, (const uint8_t *)w->uuid, n, err) : NULL;
}

static void free_vols(struct sp_vol *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sp_vol_clear(&v[i]);
	g_free(v);
}

static int num_of_volumes(struct remote_call *call, void *a, void *r, struct verr *err)
{
	size_t n;
	struct sp_vol *v = volumes(call, &((rp_pool_msg *)a)->pool, &n, err);

	if (!v)
		return -1;
	((rp_int_msg *)r)->v = (int)n;
	free_vols(v, n);
	return 0;
}

static int list_volumes(struct remote_call *call, void *a, void *r, struct verr *err)
{
	rp_storage_pool_list_volumes_args *args = a;
	rp_names_ret *ret = r;
	size_t n, k = 0;
	struct sp_vol *v = volumes(call, &args->pool, &n, err);

	if (!v)
		return -1;
	ret->names.names_val = g_new0(rp_nonnull_string, MAX(n, 1));
	for (; k < n && (int)k < args->maxnames; k++)
		ret->names.names_val[k] = g_strdup(v[k].name);
	ret->names.names_len = k;
	free_vols(v, n);
	return 0;
}

static int list_all_volumes(struct remote_call *call, void *a, void *r, struct verr *err)
{
	rp_storage_pool_list_all_volumes_args *args = a;
	rp_storage_pool_list_all_volumes_ret *ret = r;
	struct sp_vol *v;
	size_t n;

	if (check_flags(call, args->flags, 0, err) < 0 ||
	    !(v = volumes(call, &args->pool, &n, err)))
		return -1;
	ret->vols.vols_val = g_new0(rp_nonnull_storage_vol, MAX(n, 1));
	for (size_t i = 0; args->need_results && i < n; i++)
		vol_to_wire(&v[i], &ret->vols.vols_val[i]);
	ret->vols.vols_len = args->need_results ? n : 0;
	ret->ret = n;
	free_vols(v, n);
	return 0;
}

static int vol_lookup_by_name(struct remote_call *call, void *a, void *r, struct verr *err)
{
	rp_storage_vol_lookup_by_name_args *args = a;
	struct storage_pools *sp = pools(call, err);
	struct sp_vol v = { 0 };

	if (!sp || sp_vol_lookup_name(sp, (const uint8_t *)args->pool.uuid, args->name, &v,
				      err) < 0)
		return -1;
	vol_to_wire(&v, &((rp_vol_msg *)r)->vol);
	sp_vol_clear(&v);
	return 0;
}

/* By path or by key: the same thing for dir pools. */
static int vol_lookup_by_path(struct remote_call *call, void *a, void *r, struct verr *err)
{
	struct storage_pools *sp = pools(call, err);
	struct sp_vol v = { 0 };

	if (!sp || sp_vol_lookup_path(sp, ((rp_string_msg *)a)->v, &v, err) < 0)
		return -1;
	vol_to_wire(&v, &((rp_vol_msg *)r)->vol);
	sp_vol_clear(&v);
	return 0;
}

static int vol_get_info(struct remote_call *call, void *a, void *r, struct verr *err)
{
	rp_storage_vol_get_info_ret *ret = r;
	struct storage_pools *sp = pools(call, err);
	struct sp_vol_info info;

	if (!sp || sp_vol_info(sp, ((rp_vol_msg *)a)->vol.key, &info, err) < 0)
		return -1;
	ret->type = 0;		/* VIR_STORAGE_VOL_FILE */
	ret->capacity = info.capacity;
	ret->allocation = info.allocation;
	return 0;
}

static int vol_get_xml_desc(struct remote_call *call, void *a, void *r, struct verr *err)
{
	rp_vol_flags_args *args = a;
	struct storage_pools *sp = pools(call, err);
	char *xml;

	if (!sp || check_flags(call, args->flags, 0, err) < 0 ||
	    !(xml = sp_vol_xml(sp, args->vol.key, err)))
		return -1;
	((rp_string_msg *)r)->v = xml;
	return 0;
}

static int vol_get_path(struct remote_call *call, void *a, void *r, struct verr *err)
{
	struct storage_pools *sp = pools(call, err);
	struct sp_vol v = { 0 };

	if (!sp || sp_vol_lookup_path(sp, ((rp_vol_msg *)a)->vol.key, &v, err) < 0)
		return -1;
	((rp_string_msg *)r)->v = g_steal_pointer(&v.path);
	sp_vol_clear(&v);
	return 0;
}

#define M PROC_MUTATING
#define F PROC_FAST
static const struct remote_proc procs[] = {
	PROC_NOARGS(71, "virConnectNumOfStoragePools", rp_int_msg, num_of_pools, F),
	PROC(72, "virConnectListStoragePools", rp_int_msg, rp_names_ret, list_pools, F),
	PROC_NOARGS(73, "virConnectNumOfDefinedStoragePools", rp_int_msg, num_of_defined_pools, F),
	PROC(74, "virConnectListDefinedStoragePools", rp_int_msg, rp_names_ret,
	     list_defined_pools, F),
	PROC(77, "virStoragePoolDefineXML", rp_xml_flags_args, rp_pool_msg, define_xml, M | F),
	PROC_VOID(78, "virStoragePoolCreate", rp_pool_flags_args, pool_create, M),
	PROC_VOID(79, "virStoragePoolBuild", rp_pool_flags_args, pool_build, M),
	PROC_VOID(80, "virStoragePoolDestroy", rp_pool_msg, pool_destroy, M | F),
	PROC_VOID(82, "virStoragePoolUndefine", rp_pool_msg, pool_undefine, M | F),
	PROC_VOID(83, "virStoragePoolRefresh", rp_pool_flags_args, pool_refresh, M),
	PROC(84, "virStoragePoolLookupByName", rp_string_msg, rp_pool_msg, lookup_by_name, F),
	PROC(85, "virStoragePoolLookupByUUID", rp_uuid_msg, rp_pool_msg, lookup_by_uuid, F),
	PROC(86, "virStoragePoolLookupByVolume", rp_vol_msg, rp_pool_msg, lookup_by_volume, F),
	PROC(87, "virStoragePoolGetInfo", rp_pool_msg, rp_storage_pool_get_info_ret,
	     pool_get_info, 0),
	PROC(88, "virStoragePoolGetXMLDesc", rp_pool_flags_args, rp_string_msg,
	     pool_get_xml_desc, F),
	PROC(89, "virStoragePoolGetAutostart", rp_pool_msg, rp_int_msg, pool_get_autostart, F),
	PROC_VOID(90, "virStoragePoolSetAutostart", rp_storage_pool_set_autostart_args,
		  pool_set_autostart, M | F),
	PROC(91, "virStoragePoolNumOfVolumes", rp_pool_msg, rp_int_msg, num_of_volumes, F),
	PROC(92, "virStoragePoolListVolumes", rp_storage_pool_list_volumes_args, rp_names_ret,
	     list_volumes, F),
	PROC(95, "virStorageVolLookupByName", rp_storage_vol_lookup_by_name_args, rp_vol_msg,
	     vol_lookup_by_name, F),
	PROC(96, "virStorageVolLookupByKey", rp_string_msg, rp_vol_msg, vol_lookup_by_path, F),
	PROC(97, "virStorageVolLookupByPath", rp_string_msg, rp_vol_msg, vol_lookup_by_path, F),
	PROC(98, "virStorageVolGetInfo", rp_vol_msg, rp_storage_vol_get_info_ret,
	     vol_get_info, 0),
	PROC(99, "virStorageVolGetXMLDesc", rp_vol_flags_args, rp_string_msg,
	     vol_get_xml_desc, 0),
	PROC(100, "virStorageVolGetPath", rp_vol_msg, rp_string_msg, vol_get_path, F),
	PROC(154, "virStoragePoolIsActive", rp_pool_msg, rp_int_msg, pool_is_active, F),
	PROC(155, "virStoragePoolIsPersistent", rp_pool_msg, rp_int_msg, pool_is_persistent, F),
	PROC(281, "virConnectListAllStoragePools", rp_list_all_domains_args,
	     rp_list_all_storage_pools_ret, list_all_pools, F),
	PROC(282, "virStoragePoolListAllVolumes", rp_storage_pool_list_all_volumes_args,
	     rp_storage_pool_list_all_volumes_ret, list_all_volumes, F),
};
#undef M
#undef F

const struct remote_proc_table remote_procs_storage = { procs, G_N_ELEMENTS(procs) };
