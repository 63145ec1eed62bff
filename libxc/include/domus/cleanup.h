/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Scope-bound cleanup helpers shared by hypervisor/ and libxc/. */
#ifndef DOMUS_CLEANUP_H
#define DOMUS_CLEANUP_H

#include <stdlib.h>
#include <unistd.h>

static inline void domus_freep(void *p)
{
	free(*(void **)p);
}

static inline void domus_closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}

/* char *buf __free = malloc(...);  int fd __close = open(...); */
#define __free __attribute__((cleanup(domus_freep)))
#define __close __attribute__((cleanup(domus_closep)))

/* Hand ownership out of a cleanup-scoped variable. */
#define steal_ptr(p)                                                                               \
	({                                                                                         \
		__typeof__(p) _p = (p);                                                            \
		(p) = NULL;                                                                        \
		_p;                                                                                \
	})
#define steal_fd(fd)                                                                               \
	({                                                                                         \
		int _fd = (fd);                                                                    \
		(fd) = -1;                                                                         \
		_fd;                                                                               \
	})

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define ALIGN_UP(x, a) (((x) + (a) - 1) & ~((__typeof__(x))(a) - 1))
#define _must_check_ __attribute__((warn_unused_result))

#endif
