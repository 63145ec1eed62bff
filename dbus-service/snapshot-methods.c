// SPDX-License-Identifier: GPL-2.0-or-later
/* org.libvirt.DomainSnapshot, at <connect>/domainsnapshot/_<domain uuid>_<escaped name>. */
#include <stdlib.h>
#include "dsvc.h"

static GVariant *s_delete(struct dsvc_call *call)
{
	return dsvc_done(virDomainSnapshotDelete(call->snap, dsvc_flags_arg(call)));
}

static GVariant *s_get_parent(struct dsvc_call *call)
{
	return dsvc_snapshot_result(call, virDomainSnapshotGetParent(call->snap,
								     dsvc_flags_arg(call)));
}

static GVariant *s_get_xml_desc(struct dsvc_call *call)
{
	return dsvc_string_result(virDomainSnapshotGetXMLDesc(call->snap, dsvc_flags_arg(call)));
}

static GVariant *s_is_current(struct dsvc_call *call)
{
	int r = virDomainSnapshotIsCurrent(call->snap, dsvc_flags_arg(call));

	return r < 0 ? NULL : g_variant_new("(b)", r != 0);
}

static GVariant *s_list_children(struct dsvc_call *call)
{
	virDomainSnapshotPtr *snaps = NULL;
	int n = virDomainSnapshotListAllChildren(call->snap, &snaps, dsvc_flags_arg(call));

	return dsvc_snapshot_list(call, snaps, n);
}

static GVariant *s_revert(struct dsvc_call *call)
{
	return dsvc_done(virDomainRevertToSnapshot(call->snap, dsvc_flags_arg(call)));
}

static const struct dsvc_method methods[] = {
	{ "Delete", s_delete },
	{ "GetParent", s_get_parent },
	{ "GetXMLDesc", s_get_xml_desc },
	{ "IsCurrent", s_is_current },
	{ "ListChildren", s_list_children },
	{ "Revert", s_revert },
	{ NULL }
};

const struct dsvc_iface_table dsvc_snapshot_table = {
	.name = "org.libvirt.DomainSnapshot",
	.methods = methods,
};
