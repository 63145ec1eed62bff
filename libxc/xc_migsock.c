// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The migration stream's TCP socket: noticing a dead peer (docs/savestate.md, "Live
 * migration", "A dead link").
 *
 * Without help, a cut link is only noticed by the VMMs' own 30 s timeouts (the source's
 * SO_SNDTIMEO on a full send buffer, the destination's silence timeout), one after the
 * other: about a minute. TCP knows sooner. TCP_USER_TIMEOUT aborts the connection once
 * data sent has gone unacknowledged for XC_MIGRATE_DEAD_PEER_MS, which wakes a blocked
 * send at once (ETIMEDOUT); keepalive probes make a side that only waits (the destination
 * reading, the source waiting for READY) send something the peer must acknowledge, so the
 * same bound applies there. A slow but alive link still acknowledges what arrives (its
 * peer's kernel does, whatever the VMM is busy with), so only a link that carries nothing
 * at all for that long is given up.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "xc_private.h"


int xc_migrate_socket_tune(int fd)
{
	int one = 1, idle = XC_MIGRATE_KEEPIDLE_S, intvl = 1, cnt = 3;
	unsigned int user_timeout = XC_MIGRATE_DEAD_PEER_MS;
	int proto = 0;
	socklen_t len = sizeof(proto);

	/* A socketpair or a pipe (tests, local use) has no link to lose. */
	if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &len) < 0 || proto != IPPROTO_TCP)
		return 0;
	if (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle)) < 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl)) < 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt)) < 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout,
		       sizeof(user_timeout)) < 0)
		return -errno;
	return 0;
}
