// SPDX-License-Identifier: GPL-2.0-or-later
/* Inherited descriptors named on the command line (fdarg.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fdarg.h"

int fdarg_parse(const char *s, int *ret_fd)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0 || v > INT32_MAX)
		return -EINVAL;
	*ret_fd = (int)v;
	return 0;
}

int fdarg_adopt(const char *s, int *ret_fd, char *err, size_t errlen)
{
	int fd, fl;

	if (fdarg_parse(s, &fd)) {
		snprintf(err, errlen, "fd=%s: not a file descriptor number", s);
		return -EINVAL;
	}
	fl = fcntl(fd, F_GETFL);
	if (fl < 0) {
		snprintf(err, errlen, "fd=%d is not open", fd);
		return -EBADF;
	}
	if (fcntl(fd, F_SETFD, FD_CLOEXEC)) {
		int ret = -errno;

		snprintf(err, errlen, "fd=%d: %s", fd, strerror(-ret));
		return ret;
	}
	*ret_fd = fd;
	return fl;
}
