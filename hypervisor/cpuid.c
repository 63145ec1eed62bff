// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * CPUID and MSR set-up. The guest sees the host's CPU as KVM supports it, plus the
 * hypervisor bit and KVM's paravirtual leaves (kvmclock: with a HW-reduced ACPI machine
 * there is no PIT to calibrate the TSC against), and a topology of one package with one core
 * per vCPU, consistent with the MADT and the vCPU ids.
 */
#include <cpuid.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "log.h"
#include "vcpu.h"
#include "vm.h"

#define CPUID_1_ECX_TSC_DEADLINE (1u << 24)
#define CPUID_1_ECX_HYPERVISOR	(1u << 31)
#define CPUID_1_EDX_HTT		(1u << 28)
#define CPUID_80000001_ECX_TOPOEXT (1u << 22)

#define MSR_IA32_TSC		0x10
#define MSR_IA32_SYSENTER_CS	0x174
#define MSR_IA32_SYSENTER_ESP	0x175
#define MSR_IA32_SYSENTER_EIP	0x176
#define MSR_IA32_MISC_ENABLE	0x1a0
#define MSR_MTRR_DEF_TYPE	0x2ff
#define MSR_STAR		0xc0000081
#define MSR_LSTAR		0xc0000082
#define MSR_CSTAR		0xc0000083
#define MSR_SYSCALL_MASK	0xc0000084
#define MSR_KERNEL_GS_BASE	0xc0000102
#define MSR_KVM_SYSTEM_TIME_NEW	0x4b564d01
#define MSR_KVM_WALL_CLOCK_NEW	0x4b564d00

/*
 * QEMU's software CPU (TCG) emulates AMD SVM without the XSETBV intercept: a guest's XSETBV
 * changes the real XCR0 behind our KVM's back, so KVM's idea of the guest's XCR0 (and the
 * XSAVE sizes it reports in leaf 0xd) stays at x87 only and every world switch puts that
 * back. Linux guests then warn about an "XSAVE consistency problem" and run with an XCR0 they
 * did not choose. No hardware behaves so; on such a host the guest gets no XSAVE (it falls
 * back to FXSAVE, which does not depend on XCR0) rather than a broken one.
 */
static bool host_is_qemu_tcg(void)
{
	unsigned int r[12];

	if (__get_cpuid_max(0x80000000, NULL) < 0x80000004)
		return false;
	for (unsigned int i = 0; i < 3; i++)
		__cpuid(0x80000002 + i, r[4 * i], r[4 * i + 1], r[4 * i + 2], r[4 * i + 3]);
	return strncmp((const char *)r, "QEMU TCG CPU", 12) == 0;
}

#define CPUID_1_ECX_NEEDS_XSAVE	((1u << 12) | (1u << 26) | (1u << 27) | (1u << 28) | (1u << 29))
#define CPUID_7_EBX_NEEDS_XSAVE	((1u << 5) | (1u << 14) | (1u << 16) | (1u << 17) | (1u << 21) | \
				 (1u << 26) | (1u << 27) | (1u << 28) | (1u << 30) | (1u << 31))
/* ... and PKU: PKRU is context-switched as an XSAVE component. */
#define CPUID_7_ECX_NEEDS_XSAVE	((1u << 1) | (1u << 3) | (1u << 9) | (1u << 10) | (1u << 11) | \
				 (1u << 12) | (1u << 14))
#define CPUID_7_EDX_NEEDS_XSAVE	((1u << 2) | (1u << 3) | (1u << 8) | (1u << 22) | (1u << 23) | \
				 (1u << 24) | (1u << 25))
#define CPUID_80000001_ECX_NEEDS_XSAVE ((1u << 11) | (1u << 16))	/* XOP, FMA4 */

/* Hide XSAVE and what needs it: FMA, AVX*, F16C, MPX, PKU, VAES, VPCLMULQDQ, AMX, XOP, FMA4,
 * leaf 0xd. */
static void hide_xsave(struct kvm_cpuid2 *cpuid)
{
	for (unsigned int i = 0; i < cpuid->nent; i++) {
		struct kvm_cpuid_entry2 *e = &cpuid->entries[i];

		switch (e->function) {
		case 1:
			e->ecx &= ~CPUID_1_ECX_NEEDS_XSAVE;
			break;
		case 7:
			if (e->index == 0) {
				e->ebx &= ~CPUID_7_EBX_NEEDS_XSAVE;
				e->ecx &= ~CPUID_7_ECX_NEEDS_XSAVE;
				e->edx &= ~CPUID_7_EDX_NEEDS_XSAVE;
			}
			break;
		case 0xd:
			e->eax = e->ebx = e->ecx = e->edx = 0;
			break;
		case 0x80000001:
			e->ecx &= ~CPUID_80000001_ECX_NEEDS_XSAVE;
			break;
		}
	}
}

int cpuid_init(struct vm *vm)
{
	size_t size = sizeof(struct kvm_cpuid2) + CPUID_MAX_ENTRIES * sizeof(struct kvm_cpuid_entry2);

	vm->cpuid = calloc(1, size);
	if (!vm->cpuid)
		return -ENOMEM;
	vm->cpuid->nent = CPUID_MAX_ENTRIES;
	if (ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, vm->cpuid) < 0) {
		int err = -errno;

		pr_err("KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
		return err;
	}
	if (host_is_qemu_tcg()) {
		pr_info("this host's CPU is QEMU's TCG, whose SVM does not trap a guest's XSETBV: "
			"the guest gets no XSAVE (it uses FXSAVE)");
		hide_xsave(vm->cpuid);
	}
	return 0;
}

static unsigned int order_base_2(unsigned int n)
{
	unsigned int order = 0;

	while ((1u << order) < n)
		order++;
	return order;
}

/* Leaf 0xb: level 0 = SMT (one thread per core), level 1 = core (nr vCPUs per package). */
static void set_topology_leaf(struct kvm_cpuid_entry2 *e, unsigned int id, unsigned int nr)
{
	e->edx = id;
	switch (e->index) {
	case 0:
		e->eax = 0;
		e->ebx = 1;
		e->ecx = (1 << 8) | 0;
		break;
	case 1:
		e->eax = order_base_2(nr);
		e->ebx = nr;
		e->ecx = (2 << 8) | 1;
		break;
	default:
		e->eax = e->ebx = 0;
		e->ecx = e->index;
		break;
	}
}

static void adjust_entry(struct kvm_cpuid_entry2 *e, struct vm *vm, unsigned int id)
{
	unsigned int nr = vm->nr_vcpus;

	switch (e->function) {
	case 1:
		e->ebx = (e->ebx & 0xffff) | (id << 24) | ((1u << order_base_2(nr)) << 16);
		e->ebx = (e->ebx & ~0xff00u) | (8 << 8);	/* CLFLUSH line: 64 bytes */
		e->ecx |= CPUID_1_ECX_HYPERVISOR;
		if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_TSC_DEADLINE_TIMER) > 0)
			e->ecx |= CPUID_1_ECX_TSC_DEADLINE;
		e->edx = nr > 1 ? e->edx | CPUID_1_EDX_HTT : e->edx & ~CPUID_1_EDX_HTT;
		break;
	case 4:
		/* Cores per package - 1; a cache is shared by every core only at level 3. */
		e->eax &= 0x3fff;
		e->eax |= ((1u << order_base_2(nr)) - 1) << 26;
		if (((e->eax >> 5) & 7) == 3)
			e->eax |= (nr - 1) << 14;
		break;
	case 0xb:
		set_topology_leaf(e, id, nr);
		break;
	case 0x80000001:
		e->ecx &= ~CPUID_80000001_ECX_TOPOEXT;	/* no 0x8000001e topology to keep true */
		break;
	case 0x80000008:
		e->ecx = (order_base_2(nr) << 12) | (nr - 1);
		break;
	}
}

/* Drop leaves whose topology we do not model (0x1f, 0x8000001e): Linux then uses 0xb. */
static bool keep_entry(const struct kvm_cpuid_entry2 *e)
{
	return e->function != 0x1f && e->function != 0x8000001e;
}

int cpuid_setup_vcpu(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;
	size_t size = sizeof(struct kvm_cpuid2) + vm->cpuid->nent * sizeof(struct kvm_cpuid_entry2);
	struct kvm_cpuid2 *c __free = calloc(1, size);
	unsigned int n = 0;

	if (!c)
		return -ENOMEM;
	for (unsigned int i = 0; i < vm->cpuid->nent; i++) {
		if (!keep_entry(&vm->cpuid->entries[i]))
			continue;
		c->entries[n] = vm->cpuid->entries[i];
		adjust_entry(&c->entries[n], vm, vcpu->id);
		n++;
	}
	c->nent = n;
	if (ioctl(vcpu->fd, KVM_SET_CPUID2, c) < 0)
		return -errno;
	return 0;
}

int msr_setup_vcpu(struct vcpu *vcpu)
{
	static const struct kvm_msr_entry boot_msrs[] = {
		{ .index = MSR_IA32_SYSENTER_CS },
		{ .index = MSR_IA32_SYSENTER_ESP },
		{ .index = MSR_IA32_SYSENTER_EIP },
		{ .index = MSR_STAR },
		{ .index = MSR_LSTAR },
		{ .index = MSR_CSTAR },
		{ .index = MSR_SYSCALL_MASK },
		{ .index = MSR_KERNEL_GS_BASE },
		{ .index = MSR_IA32_TSC },
		{ .index = MSR_IA32_MISC_ENABLE, .data = 1 },	/* fast strings */
		{ .index = MSR_MTRR_DEF_TYPE, .data = 0x806 },	/* MTRRs on, default WB */
	};
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry entry;
	} one = { .hdr.nmsrs = 1 };

	/* One at a time: KVM_SET_MSRS stops at the first MSR this host's KVM refuses. */
	for (size_t i = 0; i < ARRAY_SIZE(boot_msrs); i++) {
		one.entry = boot_msrs[i];
		int ret = ioctl(vcpu->fd, KVM_SET_MSRS, &one);

		if (ret < 0)
			return -errno;
		if (ret != 1)
			pr_debug("vcpu %u: KVM refused MSR 0x%x", vcpu->id, boot_msrs[i].index);
	}
	return 0;
}

/* Whether KVM lets us read @index on this vCPU (some listed MSRs need CPUID features). */
static bool msr_readable(struct vcpu *vcpu, uint32_t index)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry entry;
	} one = { .hdr.nmsrs = 1, .entry.index = index };

	return ioctl(vcpu->fd, KVM_GET_MSRS, &one) == 1;
}

int msr_state_list(struct vcpu *vcpu, const uint32_t **list)
{
	struct vm *vm = vcpu->vm;
	struct kvm_msr_list probe = { .nmsrs = 0 };
	struct kvm_msr_list *all __free = NULL;
	int n = 0;

	if (vm->state_msrs) {
		*list = vm->state_msrs;
		return vm->nr_state_msrs;
	}
	/* The first call fails with E2BIG and says how many there are. */
	if (ioctl(vm->kvm_fd, KVM_GET_MSR_INDEX_LIST, &probe) < 0 && errno != E2BIG)
		return -errno;
	all = calloc(1, sizeof(*all) + probe.nmsrs * sizeof(uint32_t));
	vm->state_msrs = calloc(probe.nmsrs ? probe.nmsrs : 1, sizeof(uint32_t));
	if (!all || !vm->state_msrs)
		return -ENOMEM;
	all->nmsrs = probe.nmsrs;
	if (ioctl(vm->kvm_fd, KVM_GET_MSR_INDEX_LIST, all) < 0)
		return -errno;
	for (uint32_t i = 0; i < all->nmsrs && n < VCPU_MAX_MSRS; i++) {
		if (msr_readable(vcpu, all->indices[i]))
			vm->state_msrs[n++] = all->indices[i];
	}
	if (n == VCPU_MAX_MSRS)
		pr_warn("KVM lists more than %d MSRs; the rest are not saved", VCPU_MAX_MSRS);
	vm->nr_state_msrs = n;
	*list = vm->state_msrs;
	return n;
}

int cpuid_get(struct vcpu *vcpu, struct kvm_cpuid_entry2 *entries, unsigned int max)
{
	size_t size = sizeof(struct kvm_cpuid2) + max * sizeof(struct kvm_cpuid_entry2);
	struct kvm_cpuid2 *c __free = calloc(1, size);

	if (!c)
		return -ENOMEM;
	c->nent = max;
	if (ioctl(vcpu->fd, KVM_GET_CPUID2, c) < 0)
		return -errno;
	memcpy(entries, c->entries, c->nent * sizeof(*entries));
	return c->nent;
}
