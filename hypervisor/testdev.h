/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The test device (--test-device), a guest->host channel for tiny test guests in the
 * KVM-selftests style. Ports: 0xf4 out = exit with 64 + (value & 63); 0xf5 out = report a
 * value on stderr, 0xf5 in = the accessing vCPU's id; 0xf6 out = pulse GSI n. MMIO page at
 * TESTDEV_MMIO_GPA: offset 0 an 8-byte scratch register, offset 8 the MMIO write count.
 */
#ifndef DOMUS_TESTDEV_H
#define DOMUS_TESTDEV_H

#include <stdint.h>

struct vm;
struct testdev;

int testdev_create(struct vm *vm, struct testdev **out);
void testdev_free(struct testdev *td);

/* The MMIO scratch register, for save/restore. */
void testdev_get_scratch(struct testdev *td, uint8_t scratch[8]);
void testdev_set_scratch(struct testdev *td, const uint8_t scratch[8]);

#endif
