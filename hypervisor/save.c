// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Writing a machine to the saved-state stream: MACHINE, the non-zero pages of RAM, then the
 * VM, vCPU and device state, END (docs/savestate.md). The vCPUs are paused by the caller;
 * the virtio devices are quiesced here for the whole write, so that no device emulation
 * writes guest memory or moves a ring index between the pages and the state.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "job.h"
#include "lazy.h"
#include "log.h"
#include "pci.h"
#include "save.h"
#include "testdev.h"
#include "uart.h"
#include "vcpu.h"
#include "virtio.h"
#include "virtio_balloon.h"
#include "vm.h"

_Static_assert(sizeof(struct uart_state) == 14 + UART_FIFO_SIZE, "UART record layout");

static struct virtio_dev *slot_virtio(struct vm *vm, unsigned int slot)
{
	return virtio_pci_of(pci_bus_slot(vm->pci, slot));
}

void save_quiesce(struct vm *vm, bool stop)
{
	for (unsigned int slot = 0; slot < PCI_MAX_SLOTS; slot++) {
		struct virtio_dev *dev = slot_virtio(vm, slot);

		if (dev && stop)
			virtio_pci_quiesce(dev);
		else if (dev)
			virtio_pci_resume(dev);
	}
}

int save_write_machine(struct vm *vm, struct ss_writer *w)
{
	struct {
		struct ss_machine m;
		struct ss_machine_dev devs[PCI_MAX_SLOTS];
	} rec = {
		.m = {
			.mem_size = vm->mem_size,
			.nr_vcpus = vm->nr_vcpus,
			.flags = vm->testdev ? SS_MACHINE_TEST_DEVICE : 0,
		},
	};

	snprintf(rec.m.vmm_version, sizeof(rec.m.vmm_version), "%s", DOMUS_VERSION);
	for (unsigned int slot = 0; slot < PCI_MAX_SLOTS; slot++) {
		struct virtio_dev *dev = slot_virtio(vm, slot);
		struct ss_machine_dev *d = &rec.devs[rec.m.nr_devices];

		if (!dev)
			continue;
		*d = (struct ss_machine_dev){ .slot = slot, .virtio_id = dev->ops->device_id };
		if (dev->ops->describe)
			dev->ops->describe(dev, &d->size, &d->flags);
		rec.m.nr_devices++;
	}
	return ss_write_record(w, SS_REC_MACHINE, SS_F_MANDATORY, &rec,
			       sizeof(rec.m) + rec.m.nr_devices * sizeof(rec.devs[0]));
}

static bool page_is_zero(const uint8_t *p)
{
	const uint64_t *q = (const uint64_t *)p;

	for (unsigned int i = 0; i < SS_PAGE_SIZE / 8; i += 8)
		if (q[i] | q[i + 1] | q[i + 2] | q[i + 3] | q[i + 4] | q[i + 5] | q[i + 6] |
		    q[i + 7])
			return false;
	return true;
}

/* Progress for GET_JOB: @nr more pages went out (if @ret says they did). */
static int count_pages(struct ss_writer *w, uint32_t nr, int ret)
{
	if (!ret && w->live_pages)
		__atomic_add_fetch(w->live_pages, nr, __ATOMIC_RELAXED);
	return ret;
}

static int write_run(struct vm *vm, struct ss_writer *w, uint64_t first, uint32_t nr)
{
	struct ss_pages hdr = { .first = first, .nr = nr };
	struct iovec iov[2] = {
		{ &hdr, sizeof(hdr) },
		{ vm->ram + first * SS_PAGE_SIZE, (size_t)nr * SS_PAGE_SIZE },
	};

	/* A running guest may write the pages while they go out: checksum a copy. */
	if (w->bounce) {
		memcpy(w->bounce, iov[1].iov_base, iov[1].iov_len);
		iov[1].iov_base = w->bounce;
	}

	return count_pages(w, nr, ss_write_recordv(w, SS_REC_PAGES, SS_F_MANDATORY, iov, 2));
}

/* Pages [first, end) of the RAM file: the non-zero ones, in runs. */
static int write_extent(struct vm *vm, struct ss_writer *w, uint64_t first, uint64_t end,
			struct save_stats *st)
{
	uint64_t run = 0;
	uint32_t nr = 0;
	int ret;

	for (uint64_t p = first; p < end; p++) {
		if (page_is_zero(vm->ram + p * SS_PAGE_SIZE)) {
			st->zero_pages++;
			continue;
		}
		if (nr && (p != run + nr || nr == SS_PAGES_PER_RECORD)) {
			ret = write_run(vm, w, run, nr);
			if (ret)
				return ret;
			nr = 0;
		}
		if (!nr)
			run = p;
		nr++;
		st->pages++;
	}
	return nr ? write_run(vm, w, run, nr) : 0;
}

/*
 * Holes in the memfd (never touched, or given to the balloon) are skipped without reading
 * them: a read would allocate shmem pages just to find zeroes.
 */
int save_write_memory(struct vm *vm, struct ss_writer *w, struct save_stats *st)
{
	uint64_t total = vm->mem_size / SS_PAGE_SIZE;
	off_t off = 0;
	char err[320];

	/* A lazily restored domain's RAM must be all there (its holes are not zero yet). */
	if (lazy_wait(vm, err, sizeof(err))) {
		pr_err("%s", err);
		return -EIO;
	}

	while ((uint64_t)off < vm->mem_size) {
		off_t data = lseek(vm->ram_fd, off, SEEK_DATA);
		off_t hole;
		int ret;

		if (data < 0 && errno == ENXIO)
			break;		/* only a hole up to the end */
		if (data < 0)
			data = off;	/* no SEEK_DATA: read everything */
		hole = lseek(vm->ram_fd, data, SEEK_HOLE);
		if (hole < 0 || (uint64_t)hole > vm->mem_size)
			hole = vm->mem_size;
		st->zero_pages += (data - off) / SS_PAGE_SIZE;
		ret = write_extent(vm, w, data / SS_PAGE_SIZE,
				   ALIGN_UP((uint64_t)hole, SS_PAGE_SIZE) / SS_PAGE_SIZE, st);
		if (ret)
			return ret;
		off = ALIGN_UP((uint64_t)hole, SS_PAGE_SIZE);
	}
	st->zero_pages += total - (st->pages + st->zero_pages);
	return 0;
}

static int write_vcpu_rec(struct ss_writer *w, uint32_t type, uint32_t flags, unsigned int id,
			  const void *body, size_t len)
{
	struct ss_vcpu hdr = { .id = id };
	struct iovec iov[2] = { { &hdr, sizeof(hdr) }, { (void *)body, len } };

	return ss_write_recordv(w, type, flags, iov, 2);
}

static int write_vcpu(struct ss_writer *w, unsigned int id, const struct vcpu_state *st)
{
	struct {
		uint32_t nr, pad;
	} msr_hdr = { st->nr_msrs, 0 };
	struct ss_vcpu vh = { .id = id };
	struct iovec msrs[3] = {
		{ &vh, sizeof(vh) },
		{ &msr_hdr, sizeof(msr_hdr) },
		{ (void *)st->msrs, st->nr_msrs * sizeof(st->msrs[0]) },
	};
	const uint32_t M = SS_F_MANDATORY;
	int ret;

	ret = write_vcpu_rec(w, SS_REC_VCPU_REGS, M, id, &st->regs, sizeof(st->regs));
	if (!ret)
		ret = st->has_sregs2 ?
			write_vcpu_rec(w, SS_REC_VCPU_SREGS2, M, id, &st->sregs2, sizeof(st->sregs2)) :
			write_vcpu_rec(w, SS_REC_VCPU_SREGS, M, id, &st->sregs, sizeof(st->sregs));
	if (!ret)
		ret = st->xsave_size ?
			write_vcpu_rec(w, SS_REC_VCPU_XSAVE, M, id, st->xsave, st->xsave_size) :
			write_vcpu_rec(w, SS_REC_VCPU_FPU, M, id, &st->fpu, sizeof(st->fpu));
	if (!ret && st->has_xcrs)
		ret = write_vcpu_rec(w, SS_REC_VCPU_XCRS, M, id, &st->xcrs, sizeof(st->xcrs));
	if (!ret)
		ret = ss_write_recordv(w, SS_REC_VCPU_MSRS, M, msrs, 3);
	if (!ret)
		ret = write_vcpu_rec(w, SS_REC_VCPU_LAPIC, M, id, &st->lapic, sizeof(st->lapic));
	if (!ret)
		ret = write_vcpu_rec(w, SS_REC_VCPU_EVENTS, M, id, &st->events, sizeof(st->events));
	if (!ret)
		ret = write_vcpu_rec(w, SS_REC_VCPU_MP_STATE, M, id, &st->mp_state,
				     sizeof(st->mp_state));
	if (!ret)
		ret = write_vcpu_rec(w, SS_REC_VCPU_DEBUGREGS, 0, id, &st->debugregs,
				     sizeof(st->debugregs));
	return ret;
}

/* What the guest believes its CPU is: a restore on another CPU model is refused. */
static int write_cpuid(struct vm *vm, struct ss_writer *w)
{
	struct kvm_cpuid_entry2 *e __free = calloc(CPUID_MAX_ENTRIES, sizeof(*e));
	int n;

	if (!e)
		return -ENOMEM;
	n = cpuid_get(vm->vcpus[0], e, CPUID_MAX_ENTRIES);
	if (n < 0)
		return n;
	return ss_write_record(w, SS_REC_CPUID, SS_F_MANDATORY, e, n * sizeof(*e));
}

static int write_cpu_state(struct vm *vm, struct ss_writer *w, char *err, size_t errlen)
{
	struct vcpu_state *st __free = malloc(sizeof(*st));
	struct vm_state vst;
	int ret;

	if (!st)
		return ss_error(err, errlen, -ENOMEM, "out of memory");
	ret = vm_save_state(vm, &vst);
	if (ret)
		return ss_error(err, errlen, ret, "cannot read the irqchip/PIT/clock state: %s",
				  strerror(-ret));
	ret = ss_write_record(w, SS_REC_VM, SS_F_MANDATORY, &vst, sizeof(vst));
	if (!ret)
		ret = write_cpuid(vm, w);
	for (unsigned int i = 0; !ret && i < vm->nr_vcpus; i++) {
		ret = vcpu_save_state(vm->vcpus[i], st);
		if (ret)
			return ss_error(err, errlen, ret, "cannot read the state of vcpu %u: %s",
					  i, strerror(-ret));
		ret = write_vcpu(w, i, st);
	}
	return ret;
}

static int write_devices(struct vm *vm, struct ss_writer *w)
{
	struct ss_pci *pci __free = malloc(sizeof(*pci));
	struct uart_state *uart __free = malloc(sizeof(*uart));
	uint8_t extra[256];
	int ret;

	if (!pci || !uart)
		return -ENOMEM;
	uart_get_state(vm->uart, uart);
	ret = ss_write_record(w, SS_REC_UART, SS_F_MANDATORY, uart, sizeof(*uart));
	pci_bus_save(vm->pci, pci);
	if (!ret)
		ret = ss_write_record(w, SS_REC_PCI, SS_F_MANDATORY, pci, sizeof(*pci));
	for (unsigned int slot = 0; !ret && slot < PCI_MAX_SLOTS; slot++) {
		struct virtio_dev *dev = slot_virtio(vm, slot);
		struct ss_virtio rec;
		size_t n;

		if (!dev)
			continue;
		n = virtio_pci_save(dev, &rec, extra, sizeof(extra));
		ret = ss_write_recordv(w, SS_REC_VIRTIO, SS_F_MANDATORY,
				       (struct iovec[]){ { &rec, sizeof(rec) }, { extra, n } }, 2);
	}
	if (!ret && vm->balloon)
		ret = vballoon_save_held(vm->balloon, w);
	if (!ret && vm->testdev) {
		uint8_t scratch[8];

		testdev_get_scratch(vm->testdev, scratch);
		ret = ss_write_record(w, SS_REC_TESTDEV, 0, scratch, sizeof(scratch));
	}
	return ret;
}

int save_write_state(struct vm *vm, struct ss_writer *w, char *err, size_t errlen)
{
	int ret = write_cpu_state(vm, w, err, errlen);

	if (ret)
		return err[0] ? ret : ss_error(err, errlen, ret, "cannot write the saved "
						  "state: %s", strerror(-ret));
	ret = write_devices(vm, w);
	if (!ret)
		ret = ss_write_record(w, SS_REC_END, SS_F_MANDATORY, NULL, 0);
	if (ret)
		return ss_error(err, errlen, ret, "cannot write the saved state: %s",
				  strerror(-ret));
	return 0;
}

static int write_stream(struct vm *vm, struct ss_writer *w, struct save_stats *st, char *err,
			size_t errlen)
{
	int ret = ss_write_header(w, 0);

	if (!ret)
		ret = save_write_machine(vm, w);
	if (!ret)
		ret = save_write_memory(vm, w, st);
	if (ret)
		return ss_error(err, errlen, ret, "cannot write the saved state: %s",
				  strerror(-ret));
	return save_write_state(vm, w, err, errlen);
}

/* A zero page goes as ZERO_PAGES (the receiver may hold an older copy), runs of both. */
static int write_zero_run(struct ss_writer *w, uint64_t first, uint32_t nr)
{
	struct ss_pages hdr = { .first = first, .nr = nr };

	return count_pages(w, nr, ss_write_record(w, SS_REC_ZERO_PAGES, SS_F_MANDATORY, &hdr,
						  sizeof(hdr)));
}

int save_write_dirty(struct vm *vm, struct ss_writer *w, const uint64_t *bitmap,
		     struct save_stats *st)
{
	uint64_t pages = vm->mem_size / SS_PAGE_SIZE, run = 0;
	uint32_t nr = 0;
	bool zero_run = false;
	int ret = 0;

	for (uint64_t p = 0; p <= pages && !ret; p++) {
		bool dirty = p < pages && (bitmap[p / 64] & (1ULL << (p % 64)));
		bool zero = dirty && page_is_zero(vm->ram + p * SS_PAGE_SIZE);

		if (nr && (!dirty || zero != zero_run || p != run + nr ||
			   nr == SS_PAGES_PER_RECORD)) {
			ret = zero_run ? write_zero_run(w, run, nr) : write_run(vm, w, run, nr);
			nr = 0;
		}
		if (!dirty)
			continue;
		if (!nr) {
			run = p;
			zero_run = zero;
		}
		nr++;
		if (zero)
			st->zero_pages++;
		else
			st->pages++;
	}
	return ret;
}

int save_machine(struct vm *vm, struct job_shared *sh, struct save_stats *st, char *err,
		 size_t errlen)
{
	int fd = sh->fd;
	struct ss_writer w = {
		.fd = fd, .cancel = &sh->cancel, .live_bytes = &sh->bytes,
		.live_pages = &sh->pages_sent,
	};
	uint64_t t0 = ss_now_ns();
	struct stat sb;
	int ret;

	*st = (struct save_stats){};
	err[0] = '\0';
	ret = lazy_wait(vm, err, errlen);
	if (ret)
		return ret;
	save_quiesce(vm, true);
	ret = write_stream(vm, &w, st, err, errlen);
	save_quiesce(vm, false);
	/* A file must be on disk before the caller may throw the domain away. */
	if (!ret && !fstat(fd, &sb) && S_ISREG(sb.st_mode) && fdatasync(fd) < 0)
		ret = ss_error(err, errlen, -errno, "cannot sync the saved state: %m");
	st->bytes = w.bytes;
	st->ns = ss_now_ns() - t0;
	JOB_SET(sh, pages_remaining, 0);
	if (ret && job_cancelled(sh))
		ret = ss_error(err, errlen, -ECANCELED, "cancelled (ABORT_JOB)");
	return ret;
}
