/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Errors of the virt-driver configuration layer, shaped after libvirt's virError: a
 * virErrorNumber code (VIR_ERR_*), a virErrorDomain (VIR_FROM_*) and a message that says
 * what was wrong. The daemon sends code, domain and message on the wire unchanged.
 *
 * Convention (GError-like): a function that can fail takes a last argument
 * `struct domus_error **err`; on failure it sets *err (if err is not NULL) exactly once,
 * at the origin, and returns -1 or NULL. *err must be NULL on entry.
 */
#ifndef DOMUS_ERROR_H
#define DOMUS_ERROR_H

#include <glib.h>
#include <libvirt/virterror.h>	/* only for the VIR_ERR_* and VIR_FROM_* values */

struct domus_error {
	int code;		/* virErrorNumber */
	int domain;		/* virErrorDomain */
	char *message;		/* owned, never NULL */
};
typedef struct domus_error domus_error;	/* for g_autoptr() only */

/* Sets *err to a new error (no-op when err is NULL); warns if *err was already set. */
void domus_error_set(struct domus_error **err, int domain, int code, const char *fmt, ...)
	G_GNUC_PRINTF(4, 5);

/* Like domus_error_set(), with ": strerror(errnum)" appended (code VIR_ERR_SYSTEM_ERROR). */
void domus_error_set_errno(struct domus_error **err, int domain, int errnum, const char *fmt, ...)
	G_GNUC_PRINTF(4, 5);

/* Prepends a formatted prefix to an already set error's message (no-op when unset). */
void domus_error_prefix(struct domus_error **err, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/* Moves @src into *dst (or frees it when dst is NULL). */
void domus_error_propagate(struct domus_error **dst, struct domus_error *src);

void domus_error_free(struct domus_error *err);

/* Frees *err and sets it to NULL. */
void domus_error_clear(struct domus_error **err);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(domus_error, domus_error_free)

#endif
