/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Persistent domain definitions: one "<name>.xml" per domain in a directory the caller
 * chooses (/var/lib/domus/ for domus:///system, $XDG_CONFIG_HOME/domus/ for the session),
 * plus "autostart/<name>.xml", a symlink to "../<name>.xml", for each domain that starts
 * with the daemon (libvirt's layout).
 *
 * Every write is atomic and durable: the XML goes to a temporary file in the same
 * directory, which is fsync()ed and rename()d over the old one, and then the directory is
 * fsync()ed; a crash leaves the old definition or the new one, never a mix. Files are 0600.
 *
 * A store is not thread-safe: the daemon calls it under its domain-list lock.
 */
#ifndef DOMUS_DOMAIN_STORE_H
#define DOMUS_DOMAIN_STORE_H

#include <stdbool.h>

#include "domain_conf.h"
#include "domain_schema.h"

struct domus_domain_store;
typedef struct domus_domain_store domus_domain_store;	/* for g_autoptr() only */

/*
 * domus_domain_store_open() - use @dir (created with mode 0700, parents too, if missing;
 * likewise its autostart/ directory). Leftover temporary files of an interrupted write are
 * removed. Return: a new store, or NULL with VIR_ERR_SYSTEM_ERROR.
 */
struct domus_domain_store *domus_domain_store_open(const char *dir, struct domus_error **err);

void domus_domain_store_free(struct domus_domain_store *store);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(domus_domain_store, domus_domain_store_free)

/* The directory given to _open(). */
const char *domus_domain_store_dir(const struct domus_domain_store *store);

/*
 * domus_domain_store_load_all() - every definition in the store, each validated against
 * @schema. A file that cannot be used (unreadable, malformed, refused by the schema, its
 * <name> not matching its file name, a UUID already used by an earlier file, not a regular
 * file) does not stop the others: it adds one error to @ret_errors whose message starts
 * with the file's path. An autostart link whose definition is missing is reported likewise.
 * @ret_defs: a new array (g_ptr_array_unref) of struct domus_domain_def *, owned, sorted by
 * name. @ret_errors: a new array of struct domus_error *, owned (may be empty).
 * Return: 0; -1 with *err only when the directory itself cannot be read.
 */
int domus_domain_store_load_all(struct domus_domain_store *store,
				const struct domus_schema *schema, GPtrArray **ret_defs,
				GPtrArray **ret_errors, struct domus_error **err);

/* Writes @def's inactive XML as "<name>.xml", replacing an older one atomically. */
int domus_domain_store_save(struct domus_domain_store *store,
			    const struct domus_domain_def *def, struct domus_error **err);

/* Removes "<name>.xml" and its autostart link (undefine). A missing file is
 * VIR_ERR_NO_DOMAIN. */
int domus_domain_store_delete(struct domus_domain_store *store, const char *name,
			      struct domus_error **err);

/*
 * domus_domain_store_rename() - @def (already carrying its new name) is written as
 * "<new name>.xml", the autostart link follows, then "<old_name>.xml" is removed. Refused
 * with VIR_ERR_OPERATION_INVALID when a definition with the new name exists. A crash in the
 * middle can leave both files; the next load_all() reports the second one as a duplicate
 * UUID, naming both files.
 */
int domus_domain_store_rename(struct domus_domain_store *store, const char *old_name,
			      const struct domus_domain_def *def, struct domus_error **err);

/* Creates or removes the autostart link of @name (which must be stored). */
int domus_domain_store_set_autostart(struct domus_domain_store *store, const char *name,
				     bool autostart, struct domus_error **err);

bool domus_domain_store_get_autostart(const struct domus_domain_store *store, const char *name);

/* Where definitions live by default: "/var/lib/domus" for domus:///system (@system), else
 * "$XDG_CONFIG_HOME/domus" (~/.config/domus). Return: a new string (g_free). */
char *domus_domain_store_default_dir(bool system);

/*
 * domus_file_write_atomic() - replace @path by @data as the store does (temporary file in
 * the same directory, mode 0600, fsync, rename, fsync of the directory): for the daemon's
 * own state files. Return: 0, or -1 with VIR_ERR_SYSTEM_ERROR naming the path.
 */
int domus_file_write_atomic(const char *path, const char *data, struct domus_error **err);

/* The path of "<name>.xml" in the store. Return: a new string (g_free). */
char *domus_domain_store_path(const struct domus_domain_store *store, const char *name);

#endif
