// SPDX-License-Identifier: GPL-2.0-or-later
/* Console backends: stdio (with a Ctrl-A escape), log file, pty, Unix socket. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pty.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "console.h"
#include "log.h"

#define CTRL_A 0x01

int console_parse(const char *spec, struct console_config *cfg)
{
	if (!strcmp(spec, "stdio")) {
		*cfg = (struct console_config){ .kind = CONSOLE_STDIO };
	} else if (!strcmp(spec, "pty")) {
		*cfg = (struct console_config){ .kind = CONSOLE_PTY };
	} else if (!strcmp(spec, "none")) {
		*cfg = (struct console_config){ .kind = CONSOLE_NONE };
	} else if (!strncmp(spec, "file:", 5) && spec[5]) {
		*cfg = (struct console_config){ .kind = CONSOLE_FILE, .path = spec + 5 };
	} else if (!strncmp(spec, "socket:", 7) && spec[7]) {
		if (strlen(spec + 7) >= sizeof(((struct sockaddr_un *)0)->sun_path))
			return -ENAMETOOLONG;
		*cfg = (struct console_config){ .kind = CONSOLE_SOCKET, .path = spec + 7 };
	} else {
		return -EINVAL;
	}
	return 0;
}

/* "A,B": the descriptors a restart handed over (B may be -1: a socket with no client). */
int console_parse_fds(const char *spec, struct console_config *cfg)
{
	long fd[2];
	char *end;

	fd[0] = strtol(spec, &end, 10);
	if (end == spec || *end != ',')
		return -EINVAL;
	spec = end + 1;
	fd[1] = strtol(spec, &end, 10);
	if (end == spec || *end || fd[0] < 0 || fd[0] > INT_MAX || fd[1] < -1 || fd[1] > INT_MAX)
		return -EINVAL;
	if (fcntl((int)fd[0], F_GETFD) < 0 || (fd[1] >= 0 && fcntl((int)fd[1], F_GETFD) < 0))
		return -EBADF;
	cfg->inherited = true;
	cfg->fds[0] = (int)fd[0];
	cfg->fds[1] = (int)fd[1];
	return 0;
}

static int set_nonblock(int fd)
{
	int flags = fcntl(fd, F_GETFL);

	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

/* Raw mode so every key, Ctrl-C included, reaches the guest; Ctrl-A x gets out. */
static void stdio_make_raw(struct console *con)
{
	struct termios raw;

	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &con->saved_tty))
		return;
	raw = con->saved_tty;
	cfmakeraw(&raw);
	raw.c_oflag |= OPOST | ONLCR;	/* keep the host's newline handling for output */
	if (!tcsetattr(STDIN_FILENO, TCSANOW, &raw))
		con->tty_raw = true;
}

static int open_pty(struct console *con, const struct console_config *cfg)
{
	int master = cfg->fds[0], slave = cfg->fds[1];

	if (!cfg->inherited && openpty(&master, &slave, NULL, NULL, NULL) < 0)
		return -errno;
	if (slave < 0)
		return -EBADF;
	/* openpty() has no close-on-exec flag: nothing else we exec may inherit them. */
	fcntl(master, F_SETFD, FD_CLOEXEC);
	fcntl(slave, F_SETFD, FD_CLOEXEC);
	/* Keep the slave open so output written before anyone attaches is not an error. */
	if (ttyname_r(slave, con->path, sizeof(con->path)))
		strcpy(con->path, "?");
	struct termios t;
	if (!tcgetattr(slave, &t)) {
		cfmakeraw(&t);
		tcsetattr(slave, TCSANOW, &t);
	}
	con->out_fd = con->in_fd = master;
	con->conn_fd = slave;		/* held, never read: see above */
	pr_info("console on %s%s", con->path, cfg->inherited ? " (kept across the restart)" : "");
	return set_nonblock(master);
}

/* The listener (and client) of the machine before a restart: nobody loses the socket. */
static int adopt_socket(struct console *con, const struct console_config *cfg)
{
	con->listen_fd = cfg->fds[0];
	con->conn_fd = con->out_fd = con->in_fd = cfg->fds[1];
	for (int i = 0; i < 2; i++)
		if (cfg->fds[i] >= 0)
			fcntl(cfg->fds[i], F_SETFD, FD_CLOEXEC);
	snprintf(con->path, sizeof(con->path), "%s", cfg->path);
	pr_info("console on socket %s (kept across the restart)", cfg->path);
	return 0;
}

static int open_socket(struct console *con, const struct console_config *cfg)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	const char *path = cfg->path;
	int fd;

	if (cfg->inherited)
		return adopt_socket(con, cfg);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	strcpy(addr.sun_path, path);
	unlink(path);
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, 1) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	con->listen_fd = fd;
	snprintf(con->path, sizeof(con->path), "%s", path);
	pr_info("console on socket %s", path);
	return 0;
}

int console_open(const struct console_config *cfg, struct console **out)
{
	struct console *con = calloc(1, sizeof(*con));
	int ret = 0;

	if (!con)
		return -ENOMEM;
	pthread_mutex_init(&con->lock, NULL);
	con->kind = cfg->kind;
	con->out_fd = con->in_fd = con->listen_fd = con->conn_fd = -1;
	switch (cfg->kind) {
	case CONSOLE_STDIO:
		con->out_fd = STDOUT_FILENO;
		con->in_fd = STDIN_FILENO;
		stdio_make_raw(con);
		break;
	case CONSOLE_FILE:
		con->out_fd = open(cfg->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (con->out_fd < 0)
			ret = -errno;
		break;
	case CONSOLE_PTY:
		ret = open_pty(con, cfg);
		break;
	case CONSOLE_SOCKET:
		ret = open_socket(con, cfg);
		break;
	case CONSOLE_NONE:
		break;
	}
	if (ret) {
		console_free(con);
		return ret;
	}
	*out = con;
	return 0;
}

void console_free(struct console *con)
{
	if (!con)
		return;
	if (con->tty_raw)
		tcsetattr(STDIN_FILENO, TCSANOW, &con->saved_tty);
	if (con->kind == CONSOLE_FILE || con->kind == CONSOLE_PTY)
		close(con->out_fd);
	if (con->conn_fd >= 0)
		close(con->conn_fd);
	if (con->listen_fd >= 0) {
		close(con->listen_fd);
		unlink(con->path);
	}
	pthread_mutex_destroy(&con->lock);
	free(con);
}

const char *console_exec_arg(struct console *con, char *buf, size_t len)
{
	int a, b;

	if (con->tty_raw)
		tcsetattr(STDIN_FILENO, TCSANOW, &con->saved_tty);	/* the next VMM saves it */
	if (con->kind == CONSOLE_PTY)
		a = con->out_fd, b = con->conn_fd;	/* in_fd may have been dropped */
	else if (con->kind == CONSOLE_SOCKET)
		a = con->listen_fd, b = con->conn_fd;
	else
		return NULL;
	if (a < 0 || fcntl(a, F_SETFD, 0) < 0 || (b >= 0 && fcntl(b, F_SETFD, 0) < 0))
		return NULL;
	snprintf(buf, len, "--console-fds=%d,%d", a, b);
	return buf;
}

void console_write(struct console *con, const void *buf, size_t len)
{
	const char *p = buf;

	pthread_mutex_lock(&con->lock);
	while (con->out_fd >= 0 && len) {
		ssize_t n = write(con->out_fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;		/* EAGAIN or a gone reader: the byte is dropped */
		p += n;
		len -= n;
	}
	pthread_mutex_unlock(&con->lock);
}

static void socket_accept(struct console *con)
{
	int fd = accept4(con->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd < 0)
		return;
	pthread_mutex_lock(&con->lock);
	if (con->conn_fd >= 0)
		close(con->conn_fd);	/* the newest client takes over, like a serial line */
	con->conn_fd = con->out_fd = con->in_fd = fd;
	pthread_mutex_unlock(&con->lock);
}

static void socket_hangup(struct console *con)
{
	pthread_mutex_lock(&con->lock);
	close(con->conn_fd);
	con->conn_fd = con->out_fd = con->in_fd = -1;
	pthread_mutex_unlock(&con->lock);
}

/* Filter the stdio escape sequence out of @buf in place. */
static size_t stdio_filter(struct console *con, char *buf, size_t len, enum console_cmd *cmd)
{
	size_t out = 0;

	for (size_t i = 0; i < len; i++) {
		char c = buf[i];

		if (con->escape) {
			con->escape = false;
			if (c == 'x' || c == 'X')
				*cmd = CONSOLE_CMD_QUIT;
			else if (c == 'p' || c == 'P')
				*cmd = CONSOLE_CMD_POWER_BUTTON;
			else if (c == CTRL_A)
				buf[out++] = c;
			continue;
		}
		if (c == CTRL_A && con->tty_raw)
			con->escape = true;
		else
			buf[out++] = c;
	}
	return out;
}

enum console_cmd console_read_input(struct console *con, int fd,
				    void (*deliver)(void *opaque, const char *buf, size_t len),
				    void *opaque)
{
	enum console_cmd cmd = CONSOLE_CMD_NONE;
	char buf[512];
	ssize_t n;

	if (fd == con->listen_fd) {
		socket_accept(con);
		return cmd;
	}
	n = read(fd, buf, sizeof(buf));
	if (n <= 0) {
		if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			if (con->kind == CONSOLE_SOCKET)
				socket_hangup(con);
			else if (fd == con->in_fd)
				con->in_fd = -1;	/* stdin closed: stop polling it */
		}
		return cmd;
	}
	if (con->kind == CONSOLE_STDIO)
		n = stdio_filter(con, buf, n, &cmd);
	if (n > 0)
		deliver(opaque, buf, n);
	return cmd;
}
