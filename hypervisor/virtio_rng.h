/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * virtio entropy device (virtio 1.2 §5.4): one request queue whose device-writable buffers
 * the device fills from the host's getrandom(). No feature bits, no device configuration.
 */
#ifndef DOMUS_VIRTIO_RNG_H
#define DOMUS_VIRTIO_RNG_H

#include <domus/cleanup.h>

struct vm;
struct vrng;

/* Put an entropy device on the PCI bus (next free slot). Return: 0 or -errno. */
int vrng_create(struct vm *vm, struct vrng **out) _must_check_;
/* Stop the device's worker and free it; NULL is a no-op. */
void vrng_free(struct vrng *rng);

#endif
