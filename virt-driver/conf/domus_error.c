// SPDX-License-Identifier: GPL-2.0-or-later
/* virError-shaped errors for the configuration layer (see domus_error.h). */
#include <stdarg.h>
#include <string.h>

#include "domus_error.h"

static void error_setv(struct domus_error **err, int domain, int code, const char *suffix,
		       const char *fmt, va_list ap) G_GNUC_PRINTF(5, 0);

static void error_setv(struct domus_error **err, int domain, int code, const char *suffix,
		       const char *fmt, va_list ap)
{
	struct domus_error *e;
	g_autofree char *msg = NULL;

	if (!err)
		return;
	msg = g_strdup_vprintf(fmt, ap);
	if (*err) {
		/* a second error at the same level is a bug: keep the first, which is the origin */
		g_warning("domus_error_set over an existing error; dropped: %s", msg);
		return;
	}
	e = g_new0(struct domus_error, 1);
	e->code = code;
	e->domain = domain;
	e->message = suffix ? g_strconcat(msg, ": ", suffix, NULL) : g_steal_pointer(&msg);
	*err = e;
}

void domus_error_set(struct domus_error **err, int domain, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	error_setv(err, domain, code, NULL, fmt, ap);
	va_end(ap);
}

void domus_error_set_errno(struct domus_error **err, int domain, int errnum, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	error_setv(err, domain, VIR_ERR_SYSTEM_ERROR, g_strerror(errnum), fmt, ap);
	va_end(ap);
}

void domus_error_prefix(struct domus_error **err, const char *fmt, ...)
{
	g_autofree char *prefix = NULL;
	va_list ap;
	char *msg;

	if (!err || !*err)
		return;
	va_start(ap, fmt);
	prefix = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	msg = g_strconcat(prefix, (*err)->message, NULL);
	g_free((*err)->message);
	(*err)->message = msg;
}

void domus_error_propagate(struct domus_error **dst, struct domus_error *src)
{
	if (!src)
		return;
	if (!dst || *dst) {
		domus_error_free(src);
		return;
	}
	*dst = src;
}

void domus_error_free(struct domus_error *err)
{
	if (!err)
		return;
	g_free(err->message);
	g_free(err);
}

void domus_error_clear(struct domus_error **err)
{
	if (err && *err) {
		domus_error_free(*err);
		*err = NULL;
	}
}
