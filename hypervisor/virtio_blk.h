/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * virtio block device (virtio 1.2 §5.2), a VBD backed by a raw image file or a host block
 * device. One request queue; requests are served synchronously on the device's worker
 * thread (its I/O thread), in order, so a completed FLUSH covers every write completed
 * before it.
 *
 * Command line: --disk path=FILE[,readonly=on|off][,serial=STRING], or fd=N instead of
 * path=FILE for a descriptor inherited from the control library. A path cannot contain ','.
 */
#ifndef DOMUS_VIRTIO_BLK_H
#define DOMUS_VIRTIO_BLK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <domus/cleanup.h>

#define VBLK_SERIAL_MAX		20	/* GET_ID: NUL-padded, no terminator at 20 bytes */

struct vm;
struct vblk;

struct vblk_config {
	int fd;			/* the image, open O_RDWR or O_RDONLY; -1 when unset */
	const char *path;	/* for messages; allocated by vblk_parse_option(), NULL for fd=N */
	bool readonly;
	char serial[VBLK_SERIAL_MAX + 1];
};

/* Per-disk counters, for statistics. */
struct vblk_stats {
	uint64_t reads, writes;		/* IN / OUT requests completed with OK */
	uint64_t read_bytes, write_bytes;
	uint64_t flushes;
	uint64_t discards, write_zeroes;
	uint64_t errors;		/* requests completed with IOERR or UNSUPP, or dropped */
};

/*
 * Parse one --disk argument into @cfg and open (or adopt, for fd=N) the image with
 * O_CLOEXEC. On error a message goes to @err.
 * Return: 0 or -errno; on error @cfg holds nothing to release.
 */
int vblk_parse_option(const char *arg, struct vblk_config *cfg, char *err, size_t errlen)
	_must_check_;
/*
 * Lock the image (OFD lock: shared when read-only, exclusive otherwise) so two domains
 * cannot write one image. The option parser's caller does it at once, except for an
 * incoming migration, which takes the image over from the source only once the source let
 * go of the domain. Return: 0, or -EBUSY with @err saying the image is in use.
 */
int vblk_config_lock(const struct vblk_config *cfg, char *err, size_t errlen) _must_check_;
/* Close @cfg->fd and free @cfg->path (vblk_create() keeps its own copies). */
void vblk_config_release(struct vblk_config *cfg);

/* Put a disk on the PCI bus (next free slot). The caller keeps @cfg. Return: 0 or -errno. */
int vblk_create(struct vm *vm, const struct vblk_config *cfg, struct vblk **out)
	_must_check_;
/* Stop the device's worker, close the image and free it; NULL is a no-op. */
void vblk_free(struct vblk *blk);
/* Migrated (GO sent): serve no more requests and let go of the image's lock. */
void vblk_hand_over(struct vblk *blk);

void vblk_get_stats(struct vblk *blk, struct vblk_stats *st);

#endif
