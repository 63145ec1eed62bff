/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libvirt-style errors: what a procedure handler or a backend op reports when it fails.
 * The code and domain are libvirt's numbers (virterror.h, 9.0) because clients key their
 * fallbacks on them; the message is formatted the way libvirt formats that code, so virsh
 * prints the same words it would for a libvirt driver.
 */
#ifndef VIRTD_VERR_H
#define VIRTD_VERR_H

#include <stdarg.h>

/* virErrorNumber values used by virtdomusd. */
enum {
	VERR_INTERNAL_ERROR = 1,
	VERR_NO_MEMORY = 2,
	VERR_NO_SUPPORT = 3,
	VERR_NO_CONNECT = 5,
	VERR_INVALID_ARG = 8,
	VERR_OPERATION_FAILED = 9,
	VERR_XML_ERROR = 27,
	VERR_DOM_EXIST = 28,
	VERR_OPERATION_DENIED = 29,
	VERR_SYSTEM_ERROR = 38,
	VERR_RPC = 39,
	VERR_NO_DOMAIN = 42,
	VERR_NO_STORAGE_POOL = 49,
	VERR_NO_STORAGE_VOL = 50,
	VERR_OPERATION_INVALID = 55,
	VERR_CONFIG_UNSUPPORTED = 67,
	VERR_OPERATION_TIMEOUT = 68,
	VERR_ARGUMENT_UNSUPPORTED = 74,
	VERR_OPERATION_UNSUPPORTED = 84,
	VERR_RESOURCE_BUSY = 87,
};

/* virErrorDomain values used by virtdomusd. */
enum {
	VERR_FROM_NONE = 0,
	VERR_FROM_RPC = 7,
	VERR_FROM_REMOTE = 13,
	VERR_FROM_STORAGE = 18,
	VERR_FROM_DOMAIN = 20,
	VERR_FROM_STREAMS = 38,
	VERR_FROM_CAPABILITIES = 44,
};

#define VERR_MSG_MAX 1024

struct verr {
	int code;		/* 0 = no error recorded */
	int domain;
	char message[VERR_MSG_MAX];	/* the full text virsh prints after "error: " */
};

/*
 * verr_set() - record an error; the message is libvirt's prefix for @code followed by the
 * formatted detail ("Domain not found: no domain with matching name 'x'"). Return: -1, so
 * handlers can "return verr_set(...)".
 */
int verr_set(struct verr *err, int code, int domain, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
int verr_vset(struct verr *err, int code, int domain, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));

/* Record an errno failure as VIR_ERR_SYSTEM_ERROR: "<what>: <strerror>". Return: -1. */
int verr_errno(struct verr *err, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The standard "this function is not supported by the connection driver: @api". */
int verr_no_support(struct verr *err, int domain, const char *api);

/* Make sure a failing handler left an error: fill in a generic one if it did not. */
void verr_ensure(struct verr *err, const char *api);

#endif
