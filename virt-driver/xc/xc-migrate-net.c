// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The TCP ends of a migration's memory stream: the URI libvirt passes ("tcp:HOST:PORT",
 * "tcp://HOST:PORT", IPv6 in brackets), the destination's listening socket on a port of
 * the configured range, and the source's connection (bounded in time).
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib-unix.h>

#include "xc-migrate.h"

static int bad_uri(struct verr *err, const char *uri, const char *why)
{
	return verr_set(err, VERR_INVALID_ARG, VERR_FROM_DOMAIN,
			"migration URI '%s': %s (expected tcp:HOST[:PORT] or tcp://HOST[:PORT])",
			uri, why);
}

static int parse_port(const char *s, unsigned int *port)
{
	guint64 v;

	if (!g_ascii_string_to_unsigned(s, 10, 1, 65535, &v, NULL))
		return -1;
	*port = v;
	return 0;
}

int mig_uri_parse(const char *uri, char **host, unsigned int *port, struct verr *err)
{
	const char *p = uri, *end;

	*port = 0;
	*host = NULL;
	if (!g_str_has_prefix(p, "tcp:"))
		return bad_uri(err, uri, "only the tcp scheme is supported");
	p += 4;
	if (g_str_has_prefix(p, "//"))
		p += 2;
	if (*p == '[') {
		if (!(end = strchr(p, ']')))
			return bad_uri(err, uri, "unterminated IPv6 address");
		*host = g_strndup(p + 1, end - p - 1);
		p = end + 1;
	} else {
		end = strchr(p, ':');
		*host = end ? g_strndup(p, end - p) : g_strdup(p);
		p = end ? end : p + strlen(p);
	}
	if (*p && *p++ != ':')
		goto bad_port;
	if (*p && parse_port(p, port) < 0)
		goto bad_port;
	if (!**host || strchr(*host, '/')) {
		g_clear_pointer(host, g_free);
		return bad_uri(err, uri, "no host");
	}
	return 0;
bad_port:
	g_clear_pointer(host, g_free);
	return bad_uri(err, uri, "the port is not a number from 1 to 65535");
}

static int listen_family(const char *addr, unsigned int port, int family, struct verr *err)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE,
				  .ai_family = family };
	struct addrinfo *ai = NULL;
	char service[12];
	int fd, one = 1, zero = 0, r;

	snprintf(service, sizeof(service), "%u", port);
	if ((r = getaddrinfo(addr, service, &hints, &ai)) != 0) {
		if (!addr)	/* no IPv6 here */
			return -EAFNOSUPPORT;
		return verr_set(err, VERR_OPERATION_FAILED, VERR_FROM_DOMAIN,
				"migration_address '%s': %s", addr, gai_strerror(r));
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (ai->ai_family == AF_INET6 && !addr)	/* every address: v4 too */
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	}
	if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 1) < 0) {
		r = errno;
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		if (r == EADDRINUSE || r == EAFNOSUPPORT)
			return -r;
		return verr_set(err, VERR_SYSTEM_ERROR, VERR_FROM_DOMAIN,
				"cannot listen for the migration on port %u: %s", port,
				g_strerror(r));
	}
	freeaddrinfo(ai);
	return fd;
}

/*
 * Bind @port on @addr (NULL: every address: IPv6 and IPv4 on one socket, or IPv4 alone on
 * a host without IPv6). Return: fd, -EADDRINUSE, or -1 with @err.
 */
static int listen_port(const char *addr, unsigned int port, struct verr *err)
{
	int fd = listen_family(addr, port, addr ? AF_UNSPEC : AF_INET6, err);

	if (fd == -EAFNOSUPPORT && !addr)
		fd = listen_family(addr, port, AF_INET, err);
	if (fd == -EAFNOSUPPORT)
		return verr_set(err, VERR_SYSTEM_ERROR, VERR_FROM_DOMAIN,
				"cannot listen for the migration: %s", g_strerror(EAFNOSUPPORT));
	return fd;
}

int mig_listen(const char *addr, unsigned int port, unsigned int min, unsigned int max,
	       unsigned int *bound, struct verr *err)
{
	int fd;

	if (port) {
		fd = listen_port(addr, port, err);
		if (fd == -EADDRINUSE)
			return verr_set(err, VERR_OPERATION_FAILED, VERR_FROM_DOMAIN,
					"the migration port %u is in use", port);
		*bound = port;
		return fd;
	}
	for (unsigned int p = min; p <= max; p++) {
		fd = listen_port(addr, p, err);
		if (fd != -EADDRINUSE) {
			*bound = p;
			return fd;
		}
	}
	return verr_set(err, VERR_OPERATION_FAILED, VERR_FROM_DOMAIN,
			"no free migration port from %u to %u (migration_port_min/max)", min, max);
}

/* Wait for a non-blocking connect(). */
static int connect_wait(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	int e = 0;
	socklen_t len = sizeof(e);

	if (poll(&p, 1, timeout_ms) == 0)
		return ETIMEDOUT;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0)
		return errno;
	return e;
}

int mig_connect(const char *uri, int timeout_ms, struct verr *err)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM };
	g_autofree char *host = NULL;
	struct addrinfo *ai = NULL;
	unsigned int port;
	char service[12];
	int fd, r;

	if (mig_uri_parse(uri, &host, &port, err) < 0)
		return -1;
	if (!port)
		return bad_uri(err, uri, "no port");
	snprintf(service, sizeof(service), "%u", port);
	if ((r = getaddrinfo(host, service, &hints, &ai)) != 0)
		return verr_set(err, VERR_OPERATION_FAILED, VERR_FROM_DOMAIN,
				"migration URI '%s': %s", uri, gai_strerror(r));
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	r = fd < 0 ? errno : connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 ? 0 :
	    errno != EINPROGRESS ? errno : connect_wait(fd, timeout_ms);
	freeaddrinfo(ai);
	if (r) {
		if (fd >= 0)
			close(fd);
		return verr_set(err, VERR_OPERATION_FAILED, VERR_FROM_DOMAIN,
				"cannot connect to the destination's migration port %s: %s", uri,
				g_strerror(r));
	}
	g_unix_set_fd_nonblocking(fd, FALSE, NULL);
	return fd;
}

int mig_accept(int lfd, int cancel_fd, int timeout_ms, struct verr *err)
{
	struct pollfd p[2] = { { .fd = lfd, .events = POLLIN }, { .fd = cancel_fd, .events = POLLIN } };
	int r, fd;

	do
		r = poll(p, 2, timeout_ms);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		return verr_set(err, VERR_OPERATION_TIMEOUT, VERR_FROM_DOMAIN,
				"the source did not connect within %d s", timeout_ms / 1000);
	if (r < 0 || p[1].revents)
		return verr_set(err, VERR_OPERATION_FAILED, VERR_FROM_DOMAIN,
				"the migration was cancelled before the source connected");
	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return verr_set(err, VERR_SYSTEM_ERROR, VERR_FROM_DOMAIN,
				"cannot accept the migration connection: %s", g_strerror(errno));
	return fd;
}
