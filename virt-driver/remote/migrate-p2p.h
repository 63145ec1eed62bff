/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Peer-to-peer migration (virsh migrate --p2p): the source daemon is the destination
 * daemon's client (rpc/peer.h) and runs the whole v3 sequence itself: begin here,
 * prepare there, perform here, finish there, confirm here (docs/virtdomusd.md).
 */
#ifndef VIRTD_MIGRATE_P2P_H
#define VIRTD_MIGRATE_P2P_H

#include "remote.h"

/*
 * remote_migrate_p2p() - migrate @s to the daemon at @dconnuri. @params are the user's
 * (passed on to the destination), @a what was decoded from them. Return: 0 once the
 * domain runs there and has ended here, or -1 with @err (the guest runs on here unless
 * the error says otherwise).
 */
int remote_migrate_p2p(struct remote_call *call, const struct domain_summary *s,
		       const char *dconnuri, const rp_typed_param *params, unsigned int nparams,
		       struct domain_migrate_args *a, struct verr *err);

/* proc-migrate.c: perform's cookie, with the statistics of the migration completed here. */
char *remote_migrate_perform_cookie(struct domain_backend *b, const struct domain_summary *s,
				    unsigned int *len);

#endif
