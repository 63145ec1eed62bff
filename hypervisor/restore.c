// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Reading a machine back from the saved-state stream (docs/savestate.md). The machine is
 * built from the command line first (same devices, new backends); the stream must describe
 * the same machine. Pages go into RAM as they come; the VM, vCPU and device state is
 * collected and applied only once the END record proved the stream complete. Every length,
 * index and id in a record is checked before use: a crafted file gets an error, never a
 * crash.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lazy.h"
#include "log.h"
#include "migrate.h"
#include "pci.h"
#include "save.h"
#include "testdev.h"
#include "uart.h"
#include "vcpu.h"
#include "virtio.h"
#include "virtio_balloon.h"
#include "vm.h"

#define MAX_VIRTIO_EXTRA 256

/* vCPU records each vCPU needs, as bits of 1 << (type - SS_REC_VCPU_REGS). */
#define VBIT(t)		(1u << ((t) - SS_REC_VCPU_REGS))
#define VCPU_NEEDED	(VBIT(SS_REC_VCPU_REGS) | VBIT(SS_REC_VCPU_MSRS) | \
			 VBIT(SS_REC_VCPU_LAPIC) | VBIT(SS_REC_VCPU_EVENTS) | \
			 VBIT(SS_REC_VCPU_MP_STATE))

struct saved_virtio {
	bool seen;
	struct ss_virtio rec;
	uint8_t extra[MAX_VIRTIO_EXTRA];
};

/* Everything but memory, held until END. */
struct restore_state {
	struct vm_state vm;
	bool have_vm, have_uart, have_pci, have_testdev, have_cpuid;
	struct uart_state uart;
	struct ss_pci pci;
	uint8_t scratch[8];
	struct saved_virtio virtio[PCI_MAX_SLOTS];
	struct vcpu_state *vcpus;
	uint32_t *vcpu_seen;	/* VBIT()s per vCPU */
	uint64_t *balloon_held;	/* from BALLOON records, or NULL */
	struct lazy *lazy;	/* the pages come later (lazy.h), or NULL: they are in RAM */
};

static const char *virtio_name(uint16_t id)
{
	switch (id) {
	case VIRTIO_ID_NET: return "virtio-net";
	case VIRTIO_ID_BLOCK: return "virtio-blk";
	case VIRTIO_ID_RNG: return "virtio-rng";
	case VIRTIO_ID_BALLOON: return "virtio-balloon";
	default: return "an unknown virtio device";
	}
}

int restore_begin(struct ss_reader *r, struct restore_machine *rm)
{
	struct ss_record rec;
	int ret = ss_read_header(r);

	if (!ret)
		ret = ss_read_record(r, &rec);
	if (ret)
		return ret;
	if (rec.type != SS_REC_MACHINE || rec.len < sizeof(rm->m))
		return ss_reader_fail(r, -EBADMSG, "the stream does not start with a MACHINE "
				      "record");
	memcpy(&rm->m, rec.body, sizeof(rm->m));
	rm->m.vmm_version[sizeof(rm->m.vmm_version) - 1] = '\0';
	if (rm->m.nr_devices > ARRAY_SIZE(rm->devs) ||
	    rec.len != sizeof(rm->m) + rm->m.nr_devices * sizeof(rm->devs[0]))
		return ss_reader_fail(r, -EBADMSG, "MACHINE record of %u bytes for %u devices",
				      rec.len, rm->m.nr_devices);
	memcpy(rm->devs, rec.body + sizeof(rm->m), rm->m.nr_devices * sizeof(rm->devs[0]));
	if (!rm->m.mem_size || (rm->m.mem_size & (SS_PAGE_SIZE - 1)) || !rm->m.nr_vcpus ||
	    rm->m.nr_vcpus > 255)
		return ss_reader_fail(r, -EBADMSG, "MACHINE record with %llu bytes of RAM and %u "
				      "vCPUs", (unsigned long long)rm->m.mem_size, rm->m.nr_vcpus);
	return 0;
}

/* The command line must have built the machine the stream describes. */
static int check_devices(struct vm *vm, struct ss_reader *r, const struct restore_machine *rm)
{
	unsigned int found = 0;

	for (unsigned int i = 0; i < rm->m.nr_devices; i++) {
		const struct ss_machine_dev *d = &rm->devs[i];
		struct virtio_dev *dev = d->slot < PCI_MAX_SLOTS ?
			virtio_pci_of(pci_bus_slot(vm->pci, d->slot)) : NULL;
		uint64_t size = 0;
		uint32_t flags = 0;

		if (!dev || dev->ops->device_id != d->virtio_id)
			return ss_reader_fail(r, -EINVAL, "the saved machine has %s in PCI slot %u, "
					      "this command line puts %s there (give the same "
					      "device options as when it was started)",
					      virtio_name(d->virtio_id), d->slot,
					      dev ? dev->ops->name : "nothing");
		if (dev->ops->describe)
			dev->ops->describe(dev, &size, &flags);
		if (size != d->size || flags != d->flags)
			return ss_reader_fail(r, -EINVAL, "%s in PCI slot %u: saved with %llu bytes%s, "
					      "now %llu bytes%s", dev->ops->name, d->slot,
					      (unsigned long long)d->size,
					      d->flags & SS_DEV_READONLY ? " read-only" : "",
					      (unsigned long long)size,
					      flags & SS_DEV_READONLY ? " read-only" : "");
		found++;
	}
	for (unsigned int slot = 0; slot < PCI_MAX_SLOTS; slot++)
		if (virtio_pci_of(pci_bus_slot(vm->pci, slot)))
			found--;
	if (found)
		return ss_reader_fail(r, -EINVAL, "this command line gives more devices than the "
				      "saved machine had");
	if (!(rm->m.flags & SS_MACHINE_TEST_DEVICE) != !vm->testdev)
		return ss_reader_fail(r, -EINVAL, "the saved machine was started %s "
				      "--test-device", vm->testdev ? "without" : "with");
	return 0;
}

/*
 * A page that became zero (a migration's ZERO_PAGES): punched out of the memfd, so the
 * memory goes back to the host as the balloon's does. The VMM and KVM both map the memfd
 * MAP_SHARED (one memslot over vm->ram), so the punch unmaps the page from both; the next
 * touch gets a fresh zero page. Zeroes are written only where the memfd cannot punch.
 */
static void ram_zero(struct vm *vm, uint64_t first, uint32_t nr)
{
	if (fallocate(vm->ram_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      first * SS_PAGE_SIZE, (off_t)nr * SS_PAGE_SIZE) < 0)
		memset(vm->ram + first * SS_PAGE_SIZE, 0, (size_t)nr * SS_PAGE_SIZE);
}

/* PAGES were checked and placed (or deferred) by the framing; ZERO_PAGES are checked here. */
static int take_pages(struct vm *vm, struct ss_reader *r, const struct ss_record *rec,
		      struct restore_state *rs)
{
	struct ss_pages p;
	uint64_t total = vm->mem_size / SS_PAGE_SIZE;

	memcpy(&p, rec->body, sizeof(p));
	if (rec->type == SS_REC_PAGES)
		return rec->deferred && lazy_add_pages(rs->lazy, rec, p.first, p.nr) ?
			ss_reader_fail(r, -ENOMEM, "out of memory") : 0;
	if (rec->len != sizeof(p) || p.first > total || p.nr > total - p.first)
		return ss_reader_fail(r, -EBADMSG, "page record at offset %llu: pages %llu+%u "
				      "do not fit %llu pages of RAM or the record's length",
				      (unsigned long long)rec->offset, (unsigned long long)p.first,
				      p.nr, (unsigned long long)total);
	if (rs->lazy)
		lazy_add_zero(rs->lazy, p.first, p.nr);
	else
		ram_zero(vm, p.first, p.nr);
	return 0;
}

/* BALLOON: part of the held-page bitmap, applied at END. */
static int take_balloon(struct vm *vm, struct ss_reader *r, const struct ss_record *rec,
			struct restore_state *rs)
{
	uint64_t pages = vm->mem_size / SS_PAGE_SIZE, words = (pages + 63) / 64;
	struct ss_balloon b;

	if (rec->len < sizeof(b))
		return ss_reader_fail(r, -EBADMSG, "short BALLOON record at offset %llu",
				      (unsigned long long)rec->offset);
	memcpy(&b, rec->body, sizeof(b));
	if (!vm->balloon || b.slot != vballoon_slot(vm->balloon) || !b.nr_words ||
	    b.nr_words > SS_BALLOON_WORDS || b.first_word >= words ||
	    b.nr_words > words - b.first_word ||
	    rec->len != sizeof(b) + (uint64_t)b.nr_words * sizeof(uint64_t))
		return ss_reader_fail(r, -EBADMSG, "bad BALLOON record at offset %llu (slot %u, "
				      "words %llu+%u of %llu)", (unsigned long long)rec->offset,
				      b.slot, (unsigned long long)b.first_word, b.nr_words,
				      (unsigned long long)words);
	if (!rs->balloon_held && !(rs->balloon_held = calloc(words, sizeof(uint64_t))))
		return ss_reader_fail(r, -ENOMEM, "out of memory");
	memcpy(rs->balloon_held + b.first_word, rec->body + sizeof(b),
	       b.nr_words * sizeof(uint64_t));
	if (pages % 64)		/* no page beyond RAM can be held */
		rs->balloon_held[words - 1] &= (1ULL << (pages % 64)) - 1;
	return 0;
}

static int fixed(struct ss_reader *r, const struct ss_record *rec, void *dst, size_t len)
{
	if (rec->len != len)
		return ss_reader_fail(r, -EBADMSG, "record %s at offset %llu has %u bytes, "
				      "expected %zu", ss_rec_name(rec->type),
				      (unsigned long long)rec->offset, rec->len, len);
	memcpy(dst, rec->body, len);
	return 0;
}

/* Where a vCPU record's payload goes in struct vcpu_state, and how long it must be. */
static int vcpu_field(struct vcpu_state *st, uint32_t type, size_t len, void **dst,
		      size_t *want)
{
	switch (type) {
	case SS_REC_VCPU_REGS: *dst = &st->regs; *want = sizeof(st->regs); break;
	case SS_REC_VCPU_SREGS: *dst = &st->sregs; *want = sizeof(st->sregs); break;
	case SS_REC_VCPU_SREGS2:
		*dst = &st->sregs2; *want = sizeof(st->sregs2); st->has_sregs2 = true; break;
	case SS_REC_VCPU_FPU: *dst = &st->fpu; *want = sizeof(st->fpu); break;
	case SS_REC_VCPU_XSAVE:
		*dst = st->xsave;
		*want = len >= sizeof(struct kvm_xsave) && len <= VCPU_XSAVE_MAX ? len : 0;
		st->xsave_size = len;
		break;
	case SS_REC_VCPU_XCRS: *dst = &st->xcrs; *want = sizeof(st->xcrs); st->has_xcrs = true;
		break;
	case SS_REC_VCPU_LAPIC: *dst = &st->lapic; *want = sizeof(st->lapic); break;
	case SS_REC_VCPU_EVENTS: *dst = &st->events; *want = sizeof(st->events); break;
	case SS_REC_VCPU_MP_STATE: *dst = &st->mp_state; *want = sizeof(st->mp_state); break;
	case SS_REC_VCPU_DEBUGREGS: *dst = &st->debugregs; *want = sizeof(st->debugregs); break;
	default: return -ENOENT;
	}
	return 0;
}

static int take_msrs(struct vcpu_state *st, const uint8_t *p, size_t len)
{
	uint32_t nr;

	if (len < 8)
		return -EBADMSG;
	memcpy(&nr, p, 4);
	if (nr > VCPU_MAX_MSRS || len != 8 + nr * sizeof(st->msrs[0]))
		return -EBADMSG;
	st->nr_msrs = nr;
	memcpy(st->msrs, p + 8, nr * sizeof(st->msrs[0]));
	return 0;
}

static int take_vcpu(struct vm *vm, struct ss_reader *r, const struct ss_record *rec,
		     struct restore_state *rs)
{
	struct ss_vcpu vh;
	struct vcpu_state *st;
	const uint8_t *p = rec->body + sizeof(vh);
	size_t len = rec->len - sizeof(vh), want = 0;
	void *dst = NULL;
	int ret;

	if (rec->len < sizeof(vh))
		return ss_reader_fail(r, -EBADMSG, "short vCPU record at offset %llu",
				      (unsigned long long)rec->offset);
	memcpy(&vh, rec->body, sizeof(vh));
	if (vh.id >= vm->nr_vcpus)
		return ss_reader_fail(r, -EBADMSG, "record %s for vcpu %u; the machine has %u",
				      ss_rec_name(rec->type), vh.id, vm->nr_vcpus);
	st = &rs->vcpus[vh.id];
	if (rec->type == SS_REC_VCPU_MSRS)
		ret = take_msrs(st, p, len);
	else if (!(ret = vcpu_field(st, rec->type, len, &dst, &want)))
		ret = want && want == len ? 0 : -EBADMSG;
	if (ret)
		return ss_reader_fail(r, -EBADMSG, "record %s for vcpu %u at offset %llu: %zu "
				      "bytes do not fit", ss_rec_name(rec->type), vh.id,
				      (unsigned long long)rec->offset, len);
	if (dst)
		memcpy(dst, p, len);
	rs->vcpu_seen[vh.id] |= VBIT(rec->type);
	return 0;
}

static int take_virtio(struct ss_reader *r, const struct ss_record *rec,
		       struct restore_state *rs)
{
	struct ss_virtio v;

	if (rec->len < sizeof(v))
		return ss_reader_fail(r, -EBADMSG, "short VIRTIO record at offset %llu",
				      (unsigned long long)rec->offset);
	memcpy(&v, rec->body, sizeof(v));
	if (v.slot >= PCI_MAX_SLOTS || v.extra_len > MAX_VIRTIO_EXTRA ||
	    rec->len != sizeof(v) + v.extra_len || rs->virtio[v.slot].seen)
		return ss_reader_fail(r, -EBADMSG, "bad VIRTIO record at offset %llu (slot %u, "
				      "%u bytes of device state)", (unsigned long long)rec->offset,
				      v.slot, v.extra_len);
	rs->virtio[v.slot].seen = true;
	rs->virtio[v.slot].rec = v;
	memcpy(rs->virtio[v.slot].extra, rec->body + sizeof(v), v.extra_len);
	return 0;
}

/*
 * Bits KVM rewrites from the vCPU's own state while the guest runs (KVM_GET_CPUID2 shows
 * them as the guest set them): leaf 1 ECX OSXSAVE (CR4.OSXSAVE), leaf 7.0 ECX OSPKE
 * (CR4.PKE), and leaf 0xD.0/0xD.1 EBX, the XSAVE area size for the current XCR0/XSS. A
 * saved Linux guest has them set, a fresh VMM not: they say nothing about the host, and the
 * restored vCPU state brings them back.
 */
static bool cpuid_same(const struct kvm_cpuid_entry2 *a, const struct kvm_cpuid_entry2 *b)
{
	uint32_t ecx_mask = ~0u, ebx_mask = ~0u;

	if (a->function != b->function || a->index != b->index)
		return false;
	if (a->function == 1)
		ecx_mask = ~(1u << 27);
	else if (a->function == 7 && a->index == 0)
		ecx_mask = ~(1u << 4);
	else if (a->function == 0xd && a->index <= 1)
		ebx_mask = 0;
	return a->eax == b->eax && (a->ebx & ebx_mask) == (b->ebx & ebx_mask) &&
	       (a->ecx & ecx_mask) == (b->ecx & ecx_mask) && a->edx == b->edx;
}

/*
 * The guest keeps running on what CPUID told it at boot: this host must give it the same
 * (vCPU 0's table, entry by entry, but for the guest-controlled bits above). Another CPU
 * model, or a KVM that offers other features, is refused rather than left to crash the
 * guest later.
 */
static int check_cpuid(struct vm *vm, struct ss_reader *r, const struct ss_record *rec)
{
	struct kvm_cpuid_entry2 *now __free = calloc(CPUID_MAX_ENTRIES, sizeof(*now));
	const struct kvm_cpuid_entry2 *saved = (const void *)rec->body;
	size_t n = rec->len / sizeof(*saved);
	int have;

	if (!now)
		return ss_reader_fail(r, -ENOMEM, "out of memory");
	if (rec->len % sizeof(*saved) || n > CPUID_MAX_ENTRIES)
		return ss_reader_fail(r, -EBADMSG, "CPUID record of %u bytes", rec->len);
	have = cpuid_get(vm->vcpus[0], now, CPUID_MAX_ENTRIES);
	if (have < 0)
		return ss_reader_fail(r, have, "cannot read this host's CPUID: %s", strerror(-have));
	for (size_t i = 0; i < n || i < (size_t)have; i++) {
		const struct kvm_cpuid_entry2 *a = i < n ? &saved[i] : NULL;
		const struct kvm_cpuid_entry2 *b = i < (size_t)have ? &now[i] : NULL;

		if (a && b && cpuid_same(a, b))
			continue;
		a = a ? a : b;
		return ss_reader_fail(r, -EINVAL, "the saved domain ran on another CPU (CPUID "
				      "leaf 0x%x.%u differs here): restore it on a host with the "
				      "same CPU and KVM", a->function, a->index);
	}
	return 0;
}

/*
 * SYNC (a live migration's): everything before it is in RAM now; say so to the source,
 * which waits for it before it decides on its next round. A stream read from a file or a
 * pipe has nobody waiting: nothing to answer.
 */
static int take_sync(struct ss_reader *r, const struct ss_record *rec)
{
	struct ss_sync s = {};
	struct stat sb;
	char err[128];
	int ret;

	if (!(r->hdr_flags & SS_HDR_LIVE))
		return ss_reader_fail(r, -EBADMSG, "a SYNC record at offset %llu in a stream "
				      "that is not a live migration's",
				      (unsigned long long)rec->offset);
	ret = fixed(r, rec, &s, sizeof(s));
	if (ret || fstat(r->fd, &sb) || !S_ISSOCK(sb.st_mode))
		return ret;
	ret = migrate_incoming_synced(r->fd, s.seq, err, sizeof(err));
	return ret ? ss_reader_fail(r, ret, "%s", err) : 0;
}

/* One record before END. Return: 0 or -errno with r->err set. */
static int take_record(struct vm *vm, struct ss_reader *r, const struct ss_record *rec,
		       struct restore_state *rs)
{
	switch (rec->type) {
	case SS_REC_PAGES:
	case SS_REC_ZERO_PAGES:
		return take_pages(vm, r, rec, rs);
	case SS_REC_BALLOON:
		return take_balloon(vm, r, rec, rs);
	case SS_REC_VM:
		rs->have_vm = true;
		return fixed(r, rec, &rs->vm, sizeof(rs->vm));
	case SS_REC_CPUID:
		rs->have_cpuid = true;
		return check_cpuid(vm, r, rec);
	case SS_REC_SYNC:
		return take_sync(r, rec);
	case SS_REC_VCPU_REGS ... SS_REC_VCPU_DEBUGREGS:
		return take_vcpu(vm, r, rec, rs);
	case SS_REC_UART:
		rs->have_uart = true;
		return fixed(r, rec, &rs->uart, sizeof(rs->uart));
	case SS_REC_PCI:
		rs->have_pci = true;
		return fixed(r, rec, &rs->pci, sizeof(rs->pci));
	case SS_REC_VIRTIO:
		return take_virtio(r, rec, rs);
	case SS_REC_TESTDEV:
		rs->have_testdev = true;
		return fixed(r, rec, rs->scratch, sizeof(rs->scratch));
	case SS_REC_MACHINE:
		return ss_reader_fail(r, -EBADMSG, "a second MACHINE record at offset %llu",
				      (unsigned long long)rec->offset);
	}
	if (rec->flags & SS_F_MANDATORY)
		return ss_reader_fail(r, -EPROTONOSUPPORT, "record type %u at offset %llu is "
				      "mandatory and unknown to this domus-vmm (written by a newer "
				      "version?)", rec->type, (unsigned long long)rec->offset);
	pr_debug("restore: skipping optional record type %u (%u bytes)", rec->type, rec->len);
	return 0;
}

/* END: is anything missing? */
static int check_complete(struct vm *vm, struct ss_reader *r, struct restore_state *rs)
{
	const char *missing = !rs->have_vm ? "VM" : !rs->have_uart ? "UART" :
			      !rs->have_pci ? "PCI" : !rs->have_cpuid ? "CPUID" : NULL;

	if (missing)
		return ss_reader_fail(r, -EBADMSG, "the stream has no %s record", missing);
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		uint32_t seen = rs->vcpu_seen[i];

		if ((seen & VCPU_NEEDED) != VCPU_NEEDED ||
		    !(seen & (VBIT(SS_REC_VCPU_SREGS) | VBIT(SS_REC_VCPU_SREGS2))) ||
		    !(seen & (VBIT(SS_REC_VCPU_FPU) | VBIT(SS_REC_VCPU_XSAVE))))
			return ss_reader_fail(r, -EBADMSG, "the stream lacks state of vcpu %u "
					      "(records seen: %#x)", i, seen);
	}
	for (unsigned int slot = 0; slot < PCI_MAX_SLOTS; slot++)
		if (!rs->virtio[slot].seen != !virtio_pci_of(pci_bus_slot(vm->pci, slot)))
			return ss_reader_fail(r, -EBADMSG, "the stream's virtio state does not "
					      "match the device in PCI slot %u", slot);
	return 0;
}

static int apply_devices(struct vm *vm, struct ss_reader *r, struct restore_state *rs)
{
	char err[256] = "";
	int ret = uart_set_state(vm->uart, &rs->uart);

	if (ret)
		return ss_reader_fail(r, ret, "the UART state is out of range");
	ret = pci_bus_load(vm->pci, &rs->pci, err, sizeof(err));
	for (unsigned int slot = 0; !ret && slot < PCI_MAX_SLOTS; slot++) {
		struct virtio_dev *dev = virtio_pci_of(pci_bus_slot(vm->pci, slot));

		if (dev)
			ret = virtio_pci_load(dev, &rs->virtio[slot].rec, rs->virtio[slot].extra,
					      err, sizeof(err));
	}
	if (ret)
		return ss_reader_fail(r, ret, "%s", err);
	if (vm->testdev && rs->have_testdev)
		testdev_set_scratch(vm->testdev, rs->scratch);
	if (vm->balloon && rs->balloon_held)
		vballoon_load_held(vm->balloon, rs->balloon_held);
	return 0;
}

/* The VM-wide state first (irqchips, PIT, clock), then each vCPU. */
static int apply_state(struct vm *vm, struct ss_reader *r, struct restore_state *rs)
{
	int ret = vm_load_state(vm, &rs->vm);

	if (ret)
		return ss_reader_fail(r, ret, "KVM refused the saved irqchip/PIT/clock state: %s",
				      strerror(-ret));
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		ret = vcpu_load_state(vm->vcpus[i], &rs->vcpus[i]);
		if (ret)
			return ss_reader_fail(r, ret, "KVM refused the saved state of vcpu %u: %s",
					      i, strerror(-ret));
	}
	return apply_devices(vm, r, rs);
}

static int start_lazy(struct vm *vm, struct ss_reader *r, struct restore_state *rs);

static int read_records(struct vm *vm, struct ss_reader *r, struct restore_state *rs)
{
	for (;;) {
		struct ss_record rec;
		int ret = ss_read_record(r, &rec);

		if (ret)
			return ret;
		if (rec.type == SS_REC_END) {
			uint64_t t0 = ss_now_ns();

			ret = check_complete(vm, r, rs);
			if (!ret && rs->lazy)
				ret = start_lazy(vm, r, rs);
			if (!ret)
				ret = apply_state(vm, r, rs);
			/* Part of a migration's downtime (docs/savestate.md, "Numbers"). */
			if (!ret && (r->hdr_flags & SS_HDR_LIVE))
				pr_info("migration: END received, state applied in %.1f ms",
					(ss_now_ns() - t0) / 1e6);
			return ret;
		}
		ret = take_record(vm, r, &rec, rs);
		if (ret)
			return ret;
	}
}

/*
 * From a regular file the memory is restored lazily when this host allows it (lazy.h); a
 * pipe, a socket (migration) or a host without userfaultfd reads it here and now.
 */
static int try_lazy(struct vm *vm, struct ss_reader *r, struct restore_state *rs, bool eager)
{
	char why[160];
	int ret;

	if (eager)
		return 0;
	ret = lazy_create(vm, r->fd, r->offset, &rs->lazy, why, sizeof(why));
	if (ret == -EOPNOTSUPP) {
		pr_info("restore: reading all memory now, not lazily: %s", why);
		return 0;
	}
	if (ret)
		return ss_reader_fail(r, ret, "%s", ret == -ENOMEM ? "out of memory" : why);
	r->defer_pages = true;
	r->end = lazy_stream_end(rs->lazy);
	return 0;
}

static int start_lazy(struct vm *vm, struct ss_reader *r, struct restore_state *rs)
{
	char err[256];
	struct lazy *lz = rs->lazy;
	int ret;

	rs->lazy = NULL;	/* vm->lazy owns it once it runs */
	ret = lazy_start(vm, lz, err, sizeof(err));
	if (!vm->lazy)
		lazy_free(lz);
	return ret ? ss_reader_fail(r, ret, "%s", err) : 0;
}

int restore_machine(struct vm *vm, struct ss_reader *r, const struct restore_machine *rm,
		    bool eager)
{
	struct restore_state *rs __free = calloc(1, sizeof(*rs));
	struct vcpu_state *vcpus __free = calloc(vm->nr_vcpus, sizeof(*vcpus));
	uint32_t *seen __free = calloc(vm->nr_vcpus, sizeof(*seen));
	int ret = check_devices(vm, r, rm);

	if (ret)
		return ret;
	if (!rs || !vcpus || !seen)
		return ss_reader_fail(r, -ENOMEM, "out of memory");
	rs->vcpus = vcpus;
	rs->vcpu_seen = seen;
	r->ram = vm->ram;		/* page data straight into RAM */
	r->ram_pages = vm->mem_size / SS_PAGE_SIZE;
	ret = try_lazy(vm, r, rs, eager);
	if (!ret)
		ret = read_records(vm, r, rs);
	lazy_free(rs->lazy);		/* not started: the restore failed */
	free(rs->balloon_held);
	return ret;
}
