/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Lazy restore from a saved-state file (docs/savestate.md, "Lazy restore"): the restore
 * reads only the records' headers and the machine state, the guest starts at once, and
 * its memory comes from the file as it is touched (userfaultfd on the RAM memfd's
 * mapping), the rest filled in the background. Each PAGES record's checksum is checked
 * when it is read, before any of its pages is visible to the guest or a device.
 *
 * Threads: lazy_create/lazy_add_* /lazy_start on the main thread during the restore; then
 * one thread of its own serves faults and fills. lazy_wait from any thread (a save or
 * migration job) waits for the end; lazy_free on the main thread after the vCPUs stopped.
 */
#ifndef DOMUS_LAZY_H
#define DOMUS_LAZY_H

#include <stddef.h>
#include <stdint.h>

#include <domus/cleanup.h>

#include "savestate.h"

struct vm;
struct lazy;

/*
 * Can the restore from @fd (positioned @consumed bytes into the stream) be lazy? Only for
 * a regular file that we can hold an OFD read lock on, with userfaultfd available.
 * Return: 0 with *@out set; -EOPNOTSUPP (read eagerly, as from a pipe; @why says why) or
 * another -errno (refused, @why says why).
 */
int lazy_create(struct vm *vm, int fd, uint64_t consumed, struct lazy **out, char *why,
		size_t whylen) _must_check_;
/* The stream's length in the file (for the reader's truncation check). */
uint64_t lazy_stream_end(const struct lazy *lz);
/* A deferred PAGES record (pages [first, first + nr)); ZERO_PAGES. Return: 0 or -ENOMEM. */
int lazy_add_pages(struct lazy *lz, const struct ss_record *rec, uint64_t first,
		   uint32_t nr) _must_check_;
void lazy_add_zero(struct lazy *lz, uint64_t first, uint32_t nr);
/*
 * All records seen: serve the memory from now on (vm->lazy is set). If userfaultfd cannot
 * be registered after all, the pages are read here and now instead. Return: 0 or -errno
 * with @err set (then nothing runs).
 */
int lazy_start(struct vm *vm, struct lazy *lz, char *err, size_t errlen) _must_check_;
/*
 * Wait until all of RAM is in place (a save or a migration reads it whole). Return: 0, or
 * -EIO with @err saying why the memory could not be completed (a record changed in the
 * file since it was restored: the domain is ending).
 */
int lazy_wait(struct vm *vm, char *err, size_t errlen) _must_check_;
void lazy_free(struct lazy *lz);

#endif
