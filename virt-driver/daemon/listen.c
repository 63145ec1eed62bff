// SPDX-License-Identifier: GPL-2.0-or-later
/* Sockets, socket activation, the pidfile and sd_notify, without libsystemd (see listen.h). */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "listen.h"

static bool fill_addr(struct sockaddr_un *sa, const char *path, GError **error)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path)) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FILENAME_TOO_LONG,
			    "socket path %s is longer than %zu bytes", path, sizeof(sa->sun_path) - 1);
		return false;
	}
	strcpy(sa->sun_path, path);
	return true;
}

/* Is a daemon answering on @path? */
static bool socket_alive(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool alive = fd >= 0 && connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0;

	if (fd >= 0)
		close(fd);
	return alive;
}

int listen_unix(const char *path, mode_t mode, mode_t dir_mode, GError **error)
{
	g_autofree char *dir = g_path_get_dirname(path);
	g_autofree char *tmp = g_strdup_printf("%s.%d.new", path, (int)getpid());
	struct sockaddr_un sa, tmp_sa;
	int fd;

	if (!fill_addr(&sa, path, error) || !fill_addr(&tmp_sa, tmp, error))
		return -1;
	if (g_mkdir_with_parents(dir, dir_mode) < 0) {
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "cannot create %s: %s",
			    dir, g_strerror(errno));
		return -1;
	}
	if (socket_alive(&sa)) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_EXISTS,
			    "another daemon is already listening on %s", path);
		return -1;
	}
	/*
	 * Bind and listen under a temporary name, then rename into place: the socket appears
	 * only once it accepts, so a client that sees it never gets ECONNREFUSED. This also
	 * replaces a stale socket left by a daemon that did not exit cleanly.
	 */
	unlink(tmp);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&tmp_sa, sizeof(tmp_sa)) < 0 ||
	    chmod(tmp, mode) < 0 || listen(fd, SOMAXCONN) < 0 || rename(tmp, path) < 0) {
		int e = errno;

		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e), "cannot listen on %s: %s",
			    path, g_strerror(e));
		if (fd >= 0)
			close(fd);
		unlink(tmp);
		return -1;
	}
	return fd;
}

/* One listening TCP socket for @ai; -errno on failure. */
static int listen_ai(const struct addrinfo *ai)
{
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int one = 1, e;

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ai->ai_family == AF_INET6)	/* "::" and "0.0.0.0" are separate sockets */
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, SOMAXCONN) < 0) {
		e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

int listen_tcp(const char *addr, unsigned int port, int *fds, int max, GError **error)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE };
	struct addrinfo *res = NULL;
	char service[12];
	int n = 0, r, last = 0;

	snprintf(service, sizeof(service), "%u", port);
	if ((r = getaddrinfo(addr && *addr ? addr : NULL, service, &hints, &res)) != 0) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
			    "listen_addr '%s': %s", addr, gai_strerror(r));
		return -1;
	}
	for (struct addrinfo *ai = res; ai && n < max; ai = ai->ai_next) {
		if ((r = listen_ai(ai)) >= 0)
			fds[n++] = r;
		else
			last = -r;
	}
	freeaddrinfo(res);
	if (n == 0) {
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(last),
			    "cannot listen on TCP %s port %u: %s", addr ? addr : "*", port,
			    g_strerror(last));
		return -1;
	}
	return n;
}

#define SD_LISTEN_FDS_START 3

int listen_activated(int *rw, int *ro)
{
	const char *pid = g_getenv("LISTEN_PID"), *nfds = g_getenv("LISTEN_FDS");
	const char *names = g_getenv("LISTEN_FDNAMES");
	g_auto(GStrv) name = names ? g_strsplit(names, ":", -1) : NULL;
	int n;

	*rw = *ro = -1;
	if (!pid || !nfds || atol(pid) != (long)getpid())
		return 0;
	n = atoi(nfds);
	for (int i = 0; i < n; i++) {
		int fd = SD_LISTEN_FDS_START + i;
		const char *nm = name && i < (int)g_strv_length(name) ? name[i] : NULL;

		fcntl(fd, F_SETFD, FD_CLOEXEC);
		if (nm ? g_str_equal(nm, "virtdomusd-ro.socket") : i == 1)
			*ro = fd;
		else if (nm ? g_str_equal(nm, "virtdomusd.socket") : i == 0)
			*rw = fd;
		else
			close(fd);	/* e.g. an admin socket we do not serve */
	}
	g_unsetenv("LISTEN_PID");
	g_unsetenv("LISTEN_FDS");
	g_unsetenv("LISTEN_FDNAMES");
	return n;
}

int pidfile_acquire(const char *path, GError **error)
{
	g_autofree char *dir = g_path_get_dirname(path);
	struct flock lk = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	char buf[32];
	int fd, len;

	/* 0700: in session mode this is $XDG_RUNTIME_DIR/libvirt, private like its socket. */
	g_mkdir_with_parents(dir, 0700);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "cannot open pidfile %s: %s",
			    path, g_strerror(errno));
		return -1;
	}
	if (fcntl(fd, F_SETLK, &lk) < 0) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_BUSY,
			    "pidfile %s is locked: is another virtdomusd running?", path);
		close(fd);
		return -1;
	}
	len = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, len, 0) != len) {
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "cannot write pidfile %s: %s",
			    path, g_strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

void notify_systemd(const char *state)
{
	const char *path = g_getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t len;
	int fd;

	if (!path || (path[0] != '/' && path[0] != '@') || strlen(path) >= sizeof(sa.sun_path))
		return;
	strcpy(sa.sun_path, path);
	if (path[0] == '@')
		sa.sun_path[0] = '\0';	/* abstract namespace */
	len = offsetof(struct sockaddr_un, sun_path) + strlen(path);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa, len) < 0)
		g_debug("sd_notify %s: %s", state, g_strerror(errno));
	close(fd);
}
