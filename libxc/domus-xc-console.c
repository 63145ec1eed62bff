// SPDX-License-Identifier: GPL-2.0-or-later
/* domus-xc console: the guest's serial console on this terminal, like xm console. */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "domus-xc.h"

#define DETACH 0x1d	/* Ctrl-] */

static int copy(int from, int to, bool *detach)
{
	char buf[4096];
	ssize_t n = read(from, buf, sizeof(buf));

	if (n <= 0)
		return n < 0 && (errno == EINTR || errno == EAGAIN) ? 0 : -1;
	if (detach) {
		char *d = memchr(buf, DETACH, n);

		if (d) {
			n = d - buf;
			*detach = true;
		}
	}
	for (ssize_t off = 0; off < n;) {
		ssize_t w = write(to, buf + off, n - off);

		if (w < 0 && errno != EINTR && errno != EAGAIN)
			return -1;
		off += w > 0 ? w : 0;
	}
	return 0;
}

int cmd_console(xc_interface *xch, xc_domain *dom)
{
	struct termios saved, raw;
	bool tty = isatty(0) && !tcgetattr(0, &saved), detach = false, in_open = true;
	int fd, r = xc_domain_console_fd(xch, dom, &fd);

	if (r)
		return r;
	if (tty) {
		raw = saved;
		cfmakeraw(&raw);
		tcsetattr(0, TCSANOW, &raw);
		fprintf(stderr, "Connected to the console of %s (Ctrl-] detaches)\r\n",
			xc_domain_name(dom)[0] ? xc_domain_name(dom) : "the domain");
	}
	while (!detach) {
		struct pollfd p[2] = { { .fd = fd, .events = POLLIN },
				       { .fd = in_open ? 0 : -1, .events = POLLIN } };

		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[0].revents && copy(fd, 1, NULL))
			break;		/* the domain ended */
		/* End of input (a pipe): keep showing output until the domain ends. */
		if (p[1].revents && copy(0, fd, &detach))
			in_open = false;
	}
	if (tty) {
		tcsetattr(0, TCSANOW, &saved);
		fprintf(stderr, "\n");
	}
	close(fd);
	return 0;
}
