// SPDX-License-Identifier: GPL-2.0-or-later
/* libvirt-style error records (see verr.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "verr.h"

/* The text libvirt puts in front of the detail for each code (virErrorMsg in 9.0). */
static const char *verr_prefix(int code)
{
	switch (code) {
	case VERR_INTERNAL_ERROR: return "internal error";
	case VERR_NO_MEMORY: return "out of memory";
	case VERR_NO_SUPPORT: return "this function is not supported by the connection driver";
	case VERR_NO_CONNECT: return "no connection driver available for";
	case VERR_INVALID_ARG: return "invalid argument";
	case VERR_OPERATION_FAILED: return "operation failed";
	case VERR_XML_ERROR: return "XML error";
	case VERR_DOM_EXIST: return "operation failed";
	case VERR_OPERATION_DENIED: return "operation forbidden";
	case VERR_NO_DOMAIN: return "Domain not found";
	case VERR_NO_STORAGE_POOL: return "Storage pool not found";
	case VERR_NO_STORAGE_VOL: return "Storage volume not found";
	case VERR_OPERATION_INVALID: return "Requested operation is not valid";
	case VERR_CONFIG_UNSUPPORTED: return "unsupported configuration";
	case VERR_OPERATION_TIMEOUT: return "Timed out during operation";
	case VERR_ARGUMENT_UNSUPPORTED: return "argument unsupported";
	case VERR_OPERATION_UNSUPPORTED: return "Operation not supported";
	case VERR_RESOURCE_BUSY: return "resource busy";
	default: return NULL;	/* SYSTEM_ERROR and RPC: the detail stands alone */
	}
}

int verr_vset(struct verr *err, int code, int domain, const char *fmt, va_list ap)
{
	const char *prefix = verr_prefix(code);
	size_t n = 0;

	err->code = code;
	err->domain = domain;
	if (prefix)
		n = snprintf(err->message, sizeof(err->message), code == VERR_NO_CONNECT ? "%s " : "%s: ",
			     prefix);
	vsnprintf(err->message + n, sizeof(err->message) - n, fmt, ap);
	if (prefix && !err->message[n])
		err->message[n - (code == VERR_NO_CONNECT ? 1 : 2)] = '\0';	/* no detail: no ": " */
	return -1;
}

int verr_set(struct verr *err, int code, int domain, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verr_vset(err, code, domain, fmt, ap);
	va_end(ap);
	return -1;
}

int verr_errno(struct verr *err, int errnum, const char *fmt, ...)
{
	char what[VERR_MSG_MAX / 2];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return verr_set(err, VERR_SYSTEM_ERROR, VERR_FROM_NONE, "%s: %s", what, strerror(errnum));
}

int verr_no_support(struct verr *err, int domain, const char *api)
{
	return verr_set(err, VERR_NO_SUPPORT, domain, "%s", api);
}

void verr_ensure(struct verr *err, const char *api)
{
	if (!err->code)
		verr_set(err, VERR_INTERNAL_ERROR, VERR_FROM_NONE, "%s failed without a reason", api);
}
