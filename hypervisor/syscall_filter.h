/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DOMUS_SYSCALL_FILTER_H
#define DOMUS_SYSCALL_FILTER_H

/* Deny, for every thread, the system calls a VMM never needs (syscall_filter.c). Return 0 or -errno. */
int vmm_seccomp_install(void);

#endif
