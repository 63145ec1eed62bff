/* SPDX-License-Identifier: GPL-2.0-or-later */
/* domus-vmm's own messages: stderr, one line each, prefixed so they never mix with the guest's. */
#ifndef DOMUS_LOG_H
#define DOMUS_LOG_H

#include <stdio.h>

extern int log_verbose;

#define pr_err(fmt, ...) fprintf(stderr, "domus-vmm: error: " fmt "\n", ##__VA_ARGS__)
#define pr_warn(fmt, ...) fprintf(stderr, "domus-vmm: warning: " fmt "\n", ##__VA_ARGS__)
#define pr_info(fmt, ...) fprintf(stderr, "domus-vmm: " fmt "\n", ##__VA_ARGS__)
#define pr_debug(fmt, ...)                                                                         \
	do {                                                                                       \
		if (log_verbose)                                                                   \
			fprintf(stderr, "domus-vmm: debug: " fmt "\n", ##__VA_ARGS__);            \
	} while (0)

#endif
