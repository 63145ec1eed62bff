/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Console backends for the guest's serial port: stdio, a log file, a pty or a Unix socket.
 *
 * Output is written from vCPU threads (console_write, under the console lock); input is
 * read by the main thread's event loop. Output to a pty or socket never blocks the guest:
 * when nobody reads, bytes are dropped.
 */
#ifndef DOMUS_CONSOLE_H
#define DOMUS_CONSOLE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <termios.h>

enum console_kind {
	CONSOLE_STDIO,
	CONSOLE_FILE,
	CONSOLE_PTY,
	CONSOLE_SOCKET,
	CONSOLE_NONE,
};

struct console_config {
	enum console_kind kind;
	const char *path;		/* file or socket path */
	/*
	 * A restart by exec keeps the pty (master, slave) or the socket (listener, client)
	 * of the machine before it, so console sessions survive a guest reboot and the pty's
	 * name stays the same: --console-fds=A,B, written by console_exec_arg().
	 */
	bool inherited;
	int fds[2];
};

/* What a byte typed on the console means to the VMM (stdio escape: Ctrl-A then a key). */
enum console_cmd {
	CONSOLE_CMD_NONE,
	CONSOLE_CMD_QUIT,		/* Ctrl-A x: stop the machine now */
	CONSOLE_CMD_POWER_BUTTON,	/* Ctrl-A p: press the ACPI power button */
};

struct console {
	enum console_kind kind;
	pthread_mutex_t lock;		/* protects out_fd and conn_fd */
	int out_fd;			/* -1: output dropped */
	int in_fd;			/* -1: no input */
	int listen_fd;			/* CONSOLE_SOCKET */
	int conn_fd;			/* CONSOLE_SOCKET: the one connected client */
	bool escape;			/* saw Ctrl-A on stdio */
	bool tty_raw;
	struct termios saved_tty;
	char path[108];			/* pty or socket path, for messages */
};

int console_parse(const char *spec, struct console_config *cfg);
int console_parse_fds(const char *spec, struct console_config *cfg);
int console_open(const struct console_config *cfg, struct console **out);
void console_free(struct console *con);

/*
 * console_exec_arg() - get @con ready to be kept across a restart by exec: its descriptors
 * lose close-on-exec and a stdio terminal gets its settings back. Return: the option that
 * hands them to the new VMM (at most @len bytes in @buf), or NULL if nothing is kept.
 */
const char *console_exec_arg(struct console *con, char *buf, size_t len);

void console_write(struct console *con, const void *buf, size_t len);

/*
 * console_read_input() - read what is waiting on @fd (in_fd, listen_fd or conn_fd) and hand
 * the guest's bytes to @deliver. Return: a command for the VMM, if one was typed.
 */
enum console_cmd console_read_input(struct console *con, int fd,
				    void (*deliver)(void *opaque, const char *buf, size_t len),
				    void *opaque);

#endif
