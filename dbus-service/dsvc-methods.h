/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Generators for the methods that are exactly one libvirt call on the domain. */
#ifndef DSVC_METHODS_H
#define DSVC_METHODS_H

#include "dsvc.h"

/* Methods that are one libvirt call taking (dom, flags). */
#define FLAGS_METHOD(fn_name, api) \
	static GVariant *fn_name(struct dsvc_call *call) \
	{ return dsvc_done(api(call->dom, dsvc_flags_arg(call))); }
/* Methods that are one libvirt call taking (dom). */
#define PLAIN_METHOD(fn_name, api) \
	static GVariant *fn_name(struct dsvc_call *call) \
	{ return dsvc_done(api(call->dom)); }
/* (s xml, u flags) -> api(dom, xml, flags) */
#define XML_METHOD(fn_name, api) \
	static GVariant *fn_name(struct dsvc_call *call) \
	{ \
		const char *s; guint flags; \
		g_variant_get(call->args, "(&su)", &s, &flags); \
		return dsvc_done(api(call->dom, s, flags)); \
	}

/* (t value, u flags) -> api(dom, value, flags) */
#define U64_METHOD(fn_name, api) \
	static GVariant *fn_name(struct dsvc_call *call) \
	{ \
		guint64 v; guint flags; \
		g_variant_get(call->args, "(tu)", &v, &flags); \
		return dsvc_done(api(call->dom, v, flags)); \
	}

#endif
