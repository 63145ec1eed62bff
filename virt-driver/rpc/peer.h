/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A minimal client of another virtdomusd (or libvirtd) over TCP, for peer-to-peer
 * migration: the source daemon calls the destination's prepare and finish itself.
 * libvirt0's own migration entry points are internal, so this speaks the wire protocol on
 * the XDR we generate from domus_remote.x: connect, AUTH_LIST (only "none"), CONNECT_OPEN,
 * then one call at a time. No keepalive is asked for (so the peer sends no PINGs); events
 * are not registered (so none come). Every call has a deadline.
 *
 * Thread model: a peer belongs to the thread that opened it; calls block that thread.
 */
#ifndef VIRTD_PEER_H
#define VIRTD_PEER_H

#include <rpc/xdr.h>

#include "packet.h"

struct rpc_peer;

/*
 * rpc_peer_open() - connect to @uri (domus+tcp://HOST[:PORT]/system) and open the
 * connection. Return: the peer, or NULL with @err saying what failed.
 */
struct rpc_peer *rpc_peer_open(const char *uri, int timeout_ms, struct verr *err);

/*
 * rpc_peer_call() - call REMOTE_PROGRAM procedure @proc with @args (encoded with
 * @args_xdr; NULL: none) and wait up to @timeout_ms for the reply, decoded into @ret
 * (zeroed first; free with xdr_free(@ret_xdr)). An error reply is copied into @err with
 * its libvirt code, prefixed with the peer's host. Return: 0 or -1.
 */
int rpc_peer_call(struct rpc_peer *p, int proc, xdrproc_t args_xdr, const void *args,
		  xdrproc_t ret_xdr, void *ret, int timeout_ms, struct verr *err);

/* CONNECT_CLOSE (best effort), then close the socket. NULL is fine. */
void rpc_peer_close(struct rpc_peer *p);

#endif
