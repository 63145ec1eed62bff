/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Listening sockets (own or inherited from systemd), the pidfile, readiness notification. */
#ifndef VIRTD_LISTEN_H
#define VIRTD_LISTEN_H

#include <stdbool.h>
#include <sys/types.h>

#include <glib.h>

/*
 * listen_unix() - a listening socket at @path with @mode, creating the parent directory
 * (mode @dir_mode) if needed. A stale socket file is replaced; a live one (another daemon
 * answers) is an error. Return: the fd, or -1 with @error set.
 */
int listen_unix(const char *path, mode_t mode, mode_t dir_mode, GError **error);

/*
 * listen_tcp() - listening TCP sockets on @addr (NULL or "": every address, IPv4 and IPv6)
 * port @port, at most @max of them into @fds. Return: how many, or -1 with @error set.
 */
int listen_tcp(const char *addr, unsigned int port, int *fds, int max, GError **error);

/*
 * Sockets passed by systemd (LISTEN_PID/LISTEN_FDS/LISTEN_FDNAMES), which are then
 * consumed from the environment. @rw and @ro get the fds named virtdomusd.socket and
 * virtdomusd-ro.socket (by position when unnamed), or -1. Return: number of fds passed.
 */
int listen_activated(int *rw, int *ro);

/* Create and lock @path, write our pid. Return: the held fd, or -1 with @error set. */
int pidfile_acquire(const char *path, GError **error);

/* Tell systemd (if it is watching) @state, e.g. "READY=1". */
void notify_systemd(const char *state);

#endif
