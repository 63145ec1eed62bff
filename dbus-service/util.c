// SPDX-License-Identifier: GPL-2.0-or-later
/* Object-path escaping and libvirt <-> GVariant conversions shared by the interfaces. */
#include <string.h>
#include <unistd.h>
#include "dsvc.h"

/* libvirt-dbus's escaping: [A-Za-z0-9] unchanged, any other byte as "_xx" (lowercase hex),
 * so any string is a legal object-path element and the same name gives the same path. */
char *dsvc_encode(const char *s)
{
	GString *out = g_string_sized_new(strlen(s) * 3 + 1);

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (g_ascii_isalnum(*p))
			g_string_append_c(out, *p);
		else
			g_string_append_printf(out, "_%02x", *p);
	}
	return g_string_free(out, FALSE);
}

/* The inverse of dsvc_encode(), for its output only: NULL for anything it would not have
 * written (a NUL byte, an escaped letter or digit, uppercase or missing hex), so one name
 * has exactly one object path and "_00" cannot cut a name short. */
char *dsvc_decode(const char *s)
{
	g_autoptr(GString) out = g_string_new(NULL);

	for (const char *p = s; *p; p++) {
		if (*p != '_') {
			if (!g_ascii_isalnum(*p))
				return NULL;
			g_string_append_c(out, *p);
			continue;
		}
		if (!g_ascii_isxdigit(p[1]) || !g_ascii_isxdigit(p[2]) ||
		    g_ascii_isupper(p[1]) || g_ascii_isupper(p[2]))
			return NULL;
		int c = g_ascii_xdigit_value(p[1]) * 16 + g_ascii_xdigit_value(p[2]);

		if (!c || g_ascii_isalnum(c))
			return NULL;
		g_string_append_c(out, c);
		p += 2;
	}
	return g_string_free(g_steal_pointer(&out), FALSE);
}

/* Domains live at <connect>/domain/_<uuid with '-' turned into '_'>. */
char *dsvc_uuid_node(const char *uuid)
{
	char *node = g_strdup_printf("_%s", uuid);

	g_strdelimit(node, "-", '_');
	return node;
}

/* The UUID at the start of a node name (_<uuid with '_'>...). dsvc_node_uuid() also
 * wants the node to end there; a snapshot's goes on with _<name>. */
gboolean dsvc_node_uuid_prefix(const char *node, char uuid[VIR_UUID_STRING_BUFLEN])
{
	if (!node || node[0] != '_' || strlen(node) < VIR_UUID_STRING_BUFLEN)
		return FALSE;
	memcpy(uuid, node + 1, VIR_UUID_STRING_BUFLEN - 1);
	uuid[VIR_UUID_STRING_BUFLEN - 1] = '\0';
	g_strdelimit(uuid, "_", '-');
	for (const char *p = uuid; *p; p++)
		if (*p != '-' && !g_ascii_isxdigit(*p))
			return FALSE;
	return TRUE;
}

gboolean dsvc_node_uuid(const char *node, char uuid[VIR_UUID_STRING_BUFLEN])
{
	return dsvc_node_uuid_prefix(node, uuid) && strlen(node) == VIR_UUID_STRING_BUFLEN;
}

const char *dsvc_empty_to_null(const char *s)
{
	return s && *s ? s : NULL;
}

static int add_param(virTypedParameterPtr *params, int *n, int *max, const char *key,
		     GVariant *v)
{
	const GVariantType *t = g_variant_get_type(v);

	if (g_variant_type_equal(t, G_VARIANT_TYPE_INT32))
		return virTypedParamsAddInt(params, n, max, key, g_variant_get_int32(v));
	if (g_variant_type_equal(t, G_VARIANT_TYPE_UINT32))
		return virTypedParamsAddUInt(params, n, max, key, g_variant_get_uint32(v));
	if (g_variant_type_equal(t, G_VARIANT_TYPE_INT64))
		return virTypedParamsAddLLong(params, n, max, key, g_variant_get_int64(v));
	if (g_variant_type_equal(t, G_VARIANT_TYPE_UINT64))
		return virTypedParamsAddULLong(params, n, max, key, g_variant_get_uint64(v));
	if (g_variant_type_equal(t, G_VARIANT_TYPE_DOUBLE))
		return virTypedParamsAddDouble(params, n, max, key, g_variant_get_double(v));
	if (g_variant_type_equal(t, G_VARIANT_TYPE_BOOLEAN))
		return virTypedParamsAddBoolean(params, n, max, key, g_variant_get_boolean(v));
	if (g_variant_type_equal(t, G_VARIANT_TYPE_STRING))
		return virTypedParamsAddString(params, n, max, key, g_variant_get_string(v, NULL));
	return -2;
}

/* a{sv} -> typed parameters. The variant types map one to one (i u x t d b s). */
int dsvc_params_from_variant(GVariant *dict, virTypedParameterPtr *ret_params,
			     int *ret_n, char **ret_error)
{
	virTypedParameterPtr params = NULL;
	int n = 0, max = 0;
	GVariantIter iter;
	const char *key;
	GVariant *v;

	g_variant_iter_init(&iter, dict);
	while (g_variant_iter_loop(&iter, "{&sv}", &key, &v)) {
		int r = add_param(&params, &n, &max, key, v);

		if (r == -2)
			*ret_error = g_strdup_printf("typed parameter '%s': unsupported type '%s' "
						     "(expected one of i u x t d b s)", key,
						     g_variant_get_type_string(v));
		if (r < 0) {
			virTypedParamsFree(params, n);
			g_variant_unref(v);
			return -1;
		}
	}
	*ret_params = params;
	*ret_n = n;
	return 0;
}

/* Converts and unrefs dict; on a bad value the call's error says which one. */
int dsvc_take_params(struct dsvc_call *call, GVariant *dict, dsvc_params *ret)
{
	int r = dsvc_params_from_variant(dict, &ret->p, &ret->n, &call->error);

	g_variant_unref(dict);
	return r;
}

void dsvc_params_clear(dsvc_params *ps)
{
	virTypedParamsFree(ps->p, ps->n);
	ps->p = NULL;
	ps->n = 0;
}

/* The "ah" handles of a *WithFiles call -> fds of our own (dup'ed by GDBus), in order.
 * Returns how many, or -1 with the call's error set (an index not in the message, or no
 * fd left to dup); then none stays open. The caller closes them with dsvc_close_fds(). */
int dsvc_take_fds(struct dsvc_call *call, GVariantIter *handles, int **ret_fds)
{
	GUnixFDList *list = g_dbus_message_get_unix_fd_list(
		g_dbus_method_invocation_get_message(call->invocation));
	int *fds = g_new0(int, g_variant_iter_n_children(handles) + 1);
	int n = 0;
	gint32 h;

	while (g_variant_iter_next(handles, "h", &h)) {
		g_autoptr(GError) gerr = NULL;

		if (!list || h < 0 || h >= g_unix_fd_list_get_length(list)) {
			dsvc_fail(call, "file descriptor index %d is not in the message", h);
			goto fail;
		}
		fds[n] = g_unix_fd_list_get(list, h, &gerr);
		if (fds[n] < 0) {
			dsvc_fail(call, "file descriptor index %d: %s", h, gerr->message);
			goto fail;
		}
		n++;
	}
	*ret_fds = fds;
	return n;
fail:
	dsvc_close_fds(fds, n);
	g_free(fds);
	return -1;
}

void dsvc_close_fds(int *fds, int n)
{
	for (int i = 0; i < n; i++)
		close(fds[i]);
}

static GVariant *param_value(virTypedParameterPtr p)
{
	switch (p->type) {
	case VIR_TYPED_PARAM_INT: return g_variant_new_int32(p->value.i);
	case VIR_TYPED_PARAM_UINT: return g_variant_new_uint32(p->value.ui);
	case VIR_TYPED_PARAM_LLONG: return g_variant_new_int64(p->value.l);
	case VIR_TYPED_PARAM_ULLONG: return g_variant_new_uint64(p->value.ul);
	case VIR_TYPED_PARAM_DOUBLE: return g_variant_new_double(p->value.d);
	case VIR_TYPED_PARAM_BOOLEAN: return g_variant_new_boolean(p->value.b);
	case VIR_TYPED_PARAM_STRING: return g_variant_new_string(p->value.s ? p->value.s : "");
	}
	return NULL;
}

GVariant *dsvc_params_to_variant(virTypedParameterPtr params, int n)
{
	GVariantBuilder b;

	g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
	for (int i = 0; i < n; i++) {
		GVariant *v = param_value(&params[i]);

		if (v)	/* a type newer than this build is skipped, not sent mistyped */
			g_variant_builder_add(&b, "{sv}", params[i].field, v);
	}
	return g_variant_builder_end(&b);
}

/* ab (one boolean per host CPU) -> libvirt's bitmap. */
unsigned char *dsvc_cpumap_from_variant(GVariant *ab, int *ret_len)
{
	gsize n = g_variant_n_children(ab);
	int len = VIR_CPU_MAPLEN(n ? n : 1);
	unsigned char *map = g_malloc0(len);

	for (gsize i = 0; i < n; i++) {
		gboolean on;

		g_variant_get_child(ab, i, "b", &on);
		if (on)
			VIR_USE_CPU(map, i);
	}
	*ret_len = len;
	return map;
}

GVariant *dsvc_cpumap_to_variant(const unsigned char *map, int maplen, int ncpus)
{
	GVariantBuilder b;

	g_variant_builder_init(&b, G_VARIANT_TYPE("ab"));
	for (int i = 0; i < ncpus && i < maplen * 8; i++)
		g_variant_builder_add(&b, "b", VIR_CPU_USABLE(map, maplen, 0, i) != 0);
	return g_variant_builder_end(&b);
}
