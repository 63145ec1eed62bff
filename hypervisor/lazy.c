// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Lazy restore (lazy.h, docs/savestate.md "Lazy restore"). The RAM stays the memfd it
 * always is (so the balloon, dirty logging, a later save or migration and the devices see
 * nothing new); only while the restore is lazy is its mapping registered with a
 * userfaultfd in MISSING mode. A vCPU (through KVM), a device thread or the VMM touching a
 * page that is not there yet blocks until this file's thread has read the page's PAGES
 * record from the file, checked its crc32c and placed it (UFFDIO_COPY); a page no record
 * holds is given as zeroes. Between faults the thread fills the records in file order;
 * when all are in, the range is unregistered and RAM is an ordinary memfd again.
 *
 * The file is never mapped: a file truncated or rewritten under us gives a short read or a
 * checksum mismatch (the domain ends with that error), never a SIGBUS.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lazy.h"
#include "log.h"
#include "vm.h"

#define NO_REC		UINT32_MAX	/* page_rec: no record holds the page (zero) */
#define BUF_SIZE	(SS_PAGES_PER_RECORD * SS_PAGE_SIZE)
#define MAX_MSGS	16

struct lazy_rec {
	uint64_t at;		/* file offset of the page data */
	uint64_t offset;	/* stream offset of the record, for messages */
	uint64_t first;		/* first page */
	uint32_t nr;
	uint32_t crc_part, crc;	/* savestate.h: struct ss_record */
};

struct lazy {
	struct vm *vm;
	int fd;			/* our own descriptor of the file, with the OFD read lock */
	uint64_t base;		/* file offset of the stream's first byte */
	uint64_t end;		/* the stream's bytes in the file */
	int uffd;
	int stop_fd;		/* eventfd: lazy_free wants the thread to end */

	/* Built on the main thread before the thread starts, read-only after. */
	struct lazy_rec *recs;
	size_t nr_recs, cap;
	uint32_t *page_rec;	/* per page of the RAM file: its record, or NO_REC */
	uint64_t nr_pages;

	/* The thread's own. */
	uint8_t *done;		/* per record: read (or given up) */
	uint8_t *buf;		/* one record's data */
	uint64_t faults, t0;
	unsigned int delay_ms;	/* DOMUS_VMM_LAZY_DELAY_MS: tests slow the background fill */
	bool leased;		/* we hold a read lease on the file */
	bool hurry;		/* someone wants to write it: no more delays */
	pthread_t thread;
	bool started, registered;

	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool finished;		/* under lock: all of RAM is in place, or never will be */
	bool failed;		/* under lock */
	char err[320];		/* under lock, with failed */
};

static int open_uffd(void)
{
	int fd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);

	/* Without CAP_SYS_PTRACE (vm.unprivileged_userfaultfd=0): the device, if allowed. */
	if (fd < 0) {
		int dev = open("/dev/userfaultfd", O_RDWR | O_CLOEXEC);

		if (dev < 0)
			return -EPERM;
		fd = ioctl(dev, USERFAULTFD_IOC_NEW, O_CLOEXEC | O_NONBLOCK);
		close(dev);
	}
	return fd < 0 ? -errno : fd;
}

static int uffd_setup(struct lazy *lz, char *why, size_t whylen)
{
	struct uffdio_api api = { .api = UFFD_API };

	lz->uffd = open_uffd();
	if (lz->uffd < 0)
		return ss_error(why, whylen, -EOPNOTSUPP, "userfaultfd is not available to this "
				"process (%s)", strerror(-lz->uffd));
	if (ioctl(lz->uffd, UFFDIO_API, &api) < 0 ||
	    !(api.features & UFFD_FEATURE_MISSING_SHMEM))
		return ss_error(why, whylen, -EOPNOTSUPP, "this kernel's userfaultfd cannot "
				"serve shared memory");
	return 0;
}

/*
 * The file must stay as it is while we read from it. An OFD read lock tells writers that
 * lock; a read lease (where we may take one: the file's owner or CAP_LEASE) makes the
 * kernel hold up any other process's open for writing or truncate(2) until we let go: the
 * fill notices (F_GETLEASE), finishes at full speed and closes the file (docs/savestate.md).
 * The lease's break signal (SIGIO to this process) is ignored; nothing else uses it.
 */
static int lock_file(struct lazy *lz, char *why, size_t whylen)
{
	struct flock fl = { .l_type = F_RDLCK, .l_whence = SEEK_SET };

	if (fcntl(lz->fd, F_OFD_SETLK, &fl) < 0) {
		if (errno == EAGAIN || errno == EACCES)
			return ss_error(why, whylen, -EBUSY, "another process holds a write lock "
					"on the file (is it being written?)");
		return ss_error(why, whylen, -EOPNOTSUPP, "cannot lock the file (%s)",
				strerror(errno));
	}
	signal(SIGIO, SIG_IGN);
	lz->leased = fcntl(lz->fd, F_SETLEASE, F_RDLCK) == 0;
	if (!lz->leased && errno == EAGAIN)	/* open for writing somewhere right now */
		return ss_error(why, whylen, -EOPNOTSUPP, "the file is open for writing");
	if (!lz->leased)
		pr_debug("lazy restore: no lease on the file (%s): only the lock guards it",
			 strerror(errno));
	return 0;
}

/* Does a writer wait for our lease? Then no more test delays. */
static bool writer_waits(struct lazy *lz)
{
	if (lz->leased && !lz->hurry && fcntl(lz->fd, F_GETLEASE) == F_UNLCK) {
		pr_info("lazy restore: another process wants to write the file: filling at full "
			"speed");
		lz->hurry = true;
	}
	return lz->hurry;
}

/*
 * Our own open file description of the same file: the read lock belongs to it and goes
 * when the fill closes it, whoever else (libxc, main.c) still holds the descriptor we got.
 */
static int reopen(int fd)
{
	char path[40];
	int own;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	own = open(path, O_RDONLY | O_CLOEXEC);
	return own >= 0 ? own : fcntl(fd, F_DUPFD_CLOEXEC, 0);
}

int lazy_create(struct vm *vm, int fd, uint64_t consumed, struct lazy **out, char *why,
		size_t whylen)
{
	struct lazy *lz;
	struct stat st;
	off_t pos;
	int ret;

	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return ss_error(why, whylen, -EOPNOTSUPP, "not a regular file");
	pos = lseek(fd, 0, SEEK_CUR);
	if (pos < 0 || (uint64_t)pos < consumed || (uint64_t)st.st_size < (uint64_t)pos)
		return ss_error(why, whylen, -EOPNOTSUPP, "cannot tell the stream's position");
	lz = calloc(1, sizeof(*lz));
	if (!lz)
		return -ENOMEM;
	*lz = (struct lazy){ .vm = vm, .uffd = -1, .stop_fd = -1, .base = pos - consumed,
			     .nr_pages = vm->mem_size / SS_PAGE_SIZE };
	lz->end = st.st_size - lz->base;
	if (getenv("DOMUS_VMM_LAZY_DELAY_MS"))
		lz->delay_ms = strtoul(getenv("DOMUS_VMM_LAZY_DELAY_MS"), NULL, 10);
	pthread_mutex_init(&lz->lock, NULL);
	pthread_cond_init(&lz->cond, NULL);
	lz->fd = reopen(fd);
	ret = lz->fd < 0 ? -errno : lock_file(lz, why, whylen);
	if (!ret)
		ret = uffd_setup(lz, why, whylen);
	lz->page_rec = ret ? NULL : malloc(lz->nr_pages * sizeof(*lz->page_rec));
	if (!ret && !lz->page_rec)
		ret = -ENOMEM;
	if (ret) {
		lazy_free(lz);
		return ret;
	}
	memset(lz->page_rec, 0xff, lz->nr_pages * sizeof(*lz->page_rec));
	*out = lz;
	return 0;
}

uint64_t lazy_stream_end(const struct lazy *lz)
{
	return lz->end;
}

int lazy_add_pages(struct lazy *lz, const struct ss_record *rec, uint64_t first, uint32_t nr)
{
	if (lz->nr_recs == lz->cap) {
		size_t cap = lz->cap ? lz->cap * 2 : 256;
		struct lazy_rec *p = reallocarray(lz->recs, cap, sizeof(*p));

		if (!p || cap >= NO_REC)
			return -ENOMEM;
		lz->recs = p;
		lz->cap = cap;
	}
	lz->recs[lz->nr_recs] = (struct lazy_rec){
		.at = lz->base + rec->data_at, .offset = rec->offset, .first = first, .nr = nr,
		.crc_part = rec->crc_part, .crc = rec->crc,
	};
	/* A page in several records (a migration stream saved to a file): the last wins. */
	for (uint64_t p = first; p < first + nr; p++)
		lz->page_rec[p] = lz->nr_recs;
	lz->nr_recs++;
	return 0;
}

void lazy_add_zero(struct lazy *lz, uint64_t first, uint32_t nr)
{
	for (uint64_t p = first; p < first + nr; p++)
		lz->page_rec[p] = NO_REC;
}

/* Read record @i into lz->buf and check it. Return: 0 or -errno with @err set. */
static int read_rec(struct lazy *lz, size_t i, char *err, size_t errlen)
{
	const struct lazy_rec *rec = &lz->recs[i];
	size_t len = (size_t)rec->nr * SS_PAGE_SIZE;
	size_t have = 0;

	while (have < len) {
		ssize_t n = pread(lz->fd, lz->buf + have, len - have, rec->at + have);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return ss_error(err, errlen, -EIO, "record PAGES at offset %llu: %s",
					(unsigned long long)rec->offset,
					n < 0 ? strerror(errno) : "the file was truncated since the "
					"restore began");
		have += n;
	}
	if (ss_crc32c(rec->crc_part, lz->buf, len) != rec->crc)
		return ss_error(err, errlen, -EBADMSG, "checksum mismatch in record PAGES at "
				"offset %llu: the file is corrupt or changed since the restore "
				"began", (unsigned long long)rec->offset);
	return 0;
}

static int uffd_copy(struct lazy *lz, uint64_t page, const uint8_t *src, uint64_t nr)
{
	struct uffdio_copy c = {
		.dst = (uintptr_t)(lz->vm->ram + page * SS_PAGE_SIZE),
		.src = (uintptr_t)src,
		.len = nr * SS_PAGE_SIZE,
	};

	while (ioctl(lz->uffd, UFFDIO_COPY, &c) < 0) {
		if (errno == EEXIST && nr > 1) {
			/* Some page is there already: place the others one by one. */
			for (uint64_t k = 0; k < nr; k++) {
				int ret = uffd_copy(lz, page + k, src + k * SS_PAGE_SIZE, 1);

				if (ret && ret != -EEXIST)
					return ret;
			}
			return 0;
		}
		if (errno != EAGAIN)
			return -errno;
		if (c.copy > 0) {	/* partly done */
			c.dst += c.copy;
			c.src += c.copy;
			c.len -= c.copy;
		}
		c.copy = 0;
	}
	return 0;
}

static void fail(struct lazy *lz, const char *msg)
{
	pthread_mutex_lock(&lz->lock);
	if (!lz->failed) {
		lz->failed = true;
		snprintf(lz->err, sizeof(lz->err), "lazy restore: %s", msg);
	}
	pthread_mutex_unlock(&lz->lock);
	vm_request_exit(lz->vm, DOMUS_EXIT_HOST_ERROR, "the restored domain's memory cannot be "
			"completed: %s", msg);
}

/* Place record @i's pages (those no later record holds). Return: false if it failed. */
static bool fill(struct lazy *lz, size_t i)
{
	const struct lazy_rec *rec = &lz->recs[i];
	char err[256];
	int ret;

	if (lz->done[i])
		return true;
	lz->done[i] = 1;
	ret = read_rec(lz, i, err, sizeof(err));
	for (uint64_t p = rec->first; !ret && p < rec->first + rec->nr;) {
		uint64_t q = p;

		while (q < rec->first + rec->nr && lz->page_rec[q] == i)
			q++;
		if (q > p)
			ret = uffd_copy(lz, p, lz->buf + (p - rec->first) * SS_PAGE_SIZE, q - p);
		if (ret)
			snprintf(err, sizeof(err), "cannot place pages %llu+%llu: %s",
				 (unsigned long long)p, (unsigned long long)(q - p), strerror(-ret));
		p = q > p ? q : p + 1;
	}
	if (ret)
		fail(lz, err);
	return !ret;
}

/* A page no record holds (zero, or given to the balloon since its record was placed). */
static void zero_page(struct lazy *lz, uint64_t page)
{
	struct uffdio_zeropage z = {
		.range = { (uintptr_t)(lz->vm->ram + page * SS_PAGE_SIZE), SS_PAGE_SIZE },
	};
	struct uffdio_range wake = z.range;

	if (ioctl(lz->uffd, UFFDIO_ZEROPAGE, &z) < 0)
		ioctl(lz->uffd, UFFDIO_WAKE, &wake);	/* there already: just wake the waiter */
}

/* Serve what is waiting. Return: false if a record failed (the domain is ending). */
static bool serve_faults(struct lazy *lz)
{
	struct uffd_msg msgs[MAX_MSGS];
	ssize_t n = read(lz->uffd, msgs, sizeof(msgs));

	for (ssize_t k = 0; k < n / (ssize_t)sizeof(msgs[0]); k++) {
		uint64_t addr = msgs[k].arg.pagefault.address;
		uint64_t page = (addr - (uintptr_t)lz->vm->ram) / SS_PAGE_SIZE;
		uint32_t i;

		if (msgs[k].event != UFFD_EVENT_PAGEFAULT || page >= lz->nr_pages)
			continue;
		lz->faults++;
		i = lz->page_rec[page];
		if (i != NO_REC && !lz->done[i]) {
			if (!fill(lz, i))
				return false;
		} else {
			zero_page(lz, page);
		}
	}
	return true;
}

static void unregister(struct lazy *lz)
{
	struct uffdio_range range = { (uintptr_t)lz->vm->ram, lz->vm->mem_size };

	/* Wakes whoever still waits: the missing pages are then ordinary memfd holes. */
	if (lz->registered)
		ioctl(lz->uffd, UFFDIO_UNREGISTER, &range);
	lz->registered = false;
}

/* The tests' pause between two background records; faults are still served at once. */
static bool delay(struct lazy *lz)
{
	struct pollfd fds[2] = { { lz->uffd, POLLIN, 0 }, { lz->stop_fd, POLLIN, 0 } };

	if (poll(fds, 2, lz->delay_ms) > 0 && fds[0].revents & POLLIN)
		return serve_faults(lz);
	return true;
}

static void *lazy_thread(void *opaque)
{
	struct lazy *lz = opaque;
	size_t next = 0;
	bool ok = true;

	while (ok && next < lz->nr_recs) {
		struct pollfd fds[2] = { { lz->uffd, POLLIN, 0 }, { lz->stop_fd, POLLIN, 0 } };

		if (poll(fds, 2, 0) < 0 && errno != EINTR)
			break;
		if (fds[1].revents)
			break;
		if (fds[0].revents & POLLIN)
			ok = serve_faults(lz);
		else if (lz->delay_ms && !lz->done[next] && !writer_waits(lz))
			ok = delay(lz) && fill(lz, next++);
		else
			ok = fill(lz, next++);
	}
	unregister(lz);
	/* The file is not needed any more: its read lock goes, a saver may now write it. */
	close(lz->fd);
	lz->fd = -1;
	pthread_mutex_lock(&lz->lock);
	lz->finished = true;
	if (next < lz->nr_recs && !lz->failed) {	/* stopped: the domain is ending */
		lz->failed = true;
		snprintf(lz->err, sizeof(lz->err), "lazy restore: the domain ended before all its "
			 "memory was read");
	}
	pthread_cond_broadcast(&lz->cond);
	pthread_mutex_unlock(&lz->lock);
	if (ok && next == lz->nr_recs)
		pr_info("lazy restore: all memory in place %llu ms after the guest started (%llu "
			"faults served)", (unsigned long long)((ss_now_ns() - lz->t0) / 1000000),
			(unsigned long long)lz->faults);
	return NULL;
}

/* userfaultfd refused the range after all: read everything now, as an eager restore. */
static int fill_eagerly(struct lazy *lz, char *err, size_t errlen)
{
	for (size_t i = 0; i < lz->nr_recs; i++) {
		const struct lazy_rec *rec = &lz->recs[i];
		int ret = read_rec(lz, i, err, errlen);

		if (ret)
			return ret;
		for (uint64_t p = rec->first; p < rec->first + rec->nr; p++)
			if (lz->page_rec[p] == i)
				memcpy(lz->vm->ram + p * SS_PAGE_SIZE,
				       lz->buf + (p - rec->first) * SS_PAGE_SIZE, SS_PAGE_SIZE);
	}
	return 0;
}

int lazy_start(struct vm *vm, struct lazy *lz, char *err, size_t errlen)
{
	struct uffdio_register reg = {
		.range = { (uintptr_t)vm->ram, vm->mem_size },
		.mode = UFFDIO_REGISTER_MODE_MISSING,
	};
	int ret;

	lz->done = calloc(lz->nr_recs ? lz->nr_recs : 1, 1);
	lz->buf = aligned_alloc(SS_PAGE_SIZE, BUF_SIZE);
	if (!lz->done || !lz->buf)
		return ss_error(err, errlen, -ENOMEM, "out of memory");
	lz->registered = ioctl(lz->uffd, UFFDIO_REGISTER, &reg) == 0;
	if (!lz->registered || !(reg.ioctls & (1ULL << _UFFDIO_COPY)) ||
	    !(reg.ioctls & (1ULL << _UFFDIO_ZEROPAGE))) {
		pr_info("lazy restore: userfaultfd refuses the guest's RAM (%s): reading it now",
			lz->registered ? "no UFFDIO_COPY" : strerror(errno));
		unregister(lz);
		return fill_eagerly(lz, err, errlen);
	}
	lz->t0 = ss_now_ns();
	lz->stop_fd = eventfd(0, EFD_CLOEXEC);
	ret = lz->stop_fd < 0 ? -errno : -pthread_create(&lz->thread, NULL, lazy_thread, lz);
	if (ret) {
		unregister(lz);
		return fill_eagerly(lz, err, errlen);
	}
	lz->started = true;
	vm->lazy = lz;
	return 0;
}

int lazy_wait(struct vm *vm, char *err, size_t errlen)
{
	struct lazy *lz = vm->lazy;
	int ret = 0;

	if (!lz)
		return 0;
	pthread_mutex_lock(&lz->lock);
	while (!lz->finished)
		pthread_cond_wait(&lz->cond, &lz->lock);
	if (lz->failed)
		ret = ss_error(err, errlen, -EIO, "%s", lz->err);
	pthread_mutex_unlock(&lz->lock);
	return ret;
}

void lazy_free(struct lazy *lz)
{
	uint64_t one = 1;

	if (!lz)
		return;
	if (lz->started) {
		if (write(lz->stop_fd, &one, sizeof(one)) < 0)
			pr_warn("lazy restore: cannot stop its thread: %m");
		pthread_join(lz->thread, NULL);
	}
	unregister(lz);
	if (lz->stop_fd >= 0)
		close(lz->stop_fd);
	if (lz->uffd >= 0)
		close(lz->uffd);
	if (lz->fd >= 0)
		close(lz->fd);
	pthread_mutex_destroy(&lz->lock);
	pthread_cond_destroy(&lz->cond);
	free(lz->recs);
	free(lz->page_rec);
	free(lz->done);
	free(lz->buf);
	free(lz);
}
