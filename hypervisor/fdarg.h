/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Descriptors the VMM inherits through options ("--kvm-fd N", "fd=N" in --disk, --net,
 * --restore...): parsing the number and taking the descriptor over, in one place.
 */
#ifndef DOMUS_FDARG_H
#define DOMUS_FDARG_H

#include <stddef.h>

#include <domus/cleanup.h>

/* "N": a descriptor number (not checked to be open). Return: 0 or -EINVAL. */
int fdarg_parse(const char *s, int *ret_fd) _must_check_;

/*
 * "N" naming an open descriptor, made close-on-exec (a restart keeps it by name,
 * lifecycle.c). Return: its file status flags (F_GETFL), or -errno with @err saying what
 * is wrong ("fd=N ..."). A refused descriptor stays open: it is the caller's.
 */
int fdarg_adopt(const char *s, int *ret_fd, char *err, size_t errlen);

#endif
