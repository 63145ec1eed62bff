// SPDX-License-Identifier: GPL-2.0-or-later
/* vCPU threads: set-up, the KVM_RUN loop and its exits, the run-state machine, state I/O. */
#include <errno.h>
#include <stddef.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "layout.h"
#include "log.h"
#include "vcpu.h"
#include "vm.h"

/* Kicks a vCPU thread out of KVM_RUN; the handler does nothing, EINTR is the point. */
#define SIG_VCPU_KICK SIGUSR1

#define APIC_LVT0	0x350
#define APIC_LVT1	0x360
#define APIC_MODE_NMI	4
#define APIC_MODE_EXTINT 7

static void kick_handler(int sig)
{
	(void)sig;
}

int vcpu_create(struct vm *vm, unsigned int id, struct vcpu **out)
{
	struct vcpu *vcpu = calloc(1, sizeof(*vcpu));

	if (!vcpu)
		return -ENOMEM;
	vcpu->vm = vm;
	vcpu->id = id;
	pthread_mutex_init(&vcpu->lock, NULL);
	pthread_cond_init(&vcpu->cond, NULL);
	vcpu->state = vcpu->target = VCPU_CREATED;
	vcpu->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)id);
	if (vcpu->fd < 0) {
		int err = -errno;

		free(vcpu);
		return err;
	}
	vcpu->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu->fd, 0);
	if (vcpu->run == MAP_FAILED) {
		int err = -errno;

		close(vcpu->fd);
		free(vcpu);
		return err;
	}
	*out = vcpu;
	return 0;
}

void vcpu_free(struct vcpu *vcpu)
{
	if (!vcpu)
		return;
	munmap(vcpu->run, vcpu->vm->run_size);
	close(vcpu->fd);
	pthread_mutex_destroy(&vcpu->lock);
	pthread_cond_destroy(&vcpu->cond);
	free(vcpu);
}

/* LINT0 = ExtINT (the PIC), LINT1 = NMI: what firmware leaves for the OS. */
static int setup_lapic(struct vcpu *vcpu)
{
	struct kvm_lapic_state lapic;
	uint32_t *lvt0 = (uint32_t *)&lapic.regs[APIC_LVT0];
	uint32_t *lvt1 = (uint32_t *)&lapic.regs[APIC_LVT1];

	if (ioctl(vcpu->fd, KVM_GET_LAPIC, &lapic) < 0)
		return -errno;
	*lvt0 = (*lvt0 & ~0x700u) | (APIC_MODE_EXTINT << 8);
	*lvt1 = (*lvt1 & ~0x700u) | (APIC_MODE_NMI << 8);
	if (ioctl(vcpu->fd, KVM_SET_LAPIC, &lapic) < 0)
		return -errno;
	return 0;
}

static void set_segment(struct kvm_segment *s, uint16_t sel, uint8_t type, bool code64)
{
	*s = (struct kvm_segment){
		.base = 0,
		.limit = 0xffffffff,	/* byte granular in KVM's struct even with g = 1 */
		.selector = sel,
		.type = type,
		.present = 1,
		.s = 1,
		.l = code64,
		.db = !code64,
		.g = 1,
	};
}

/* 64-bit long mode with the identity map and GDT that boot.c wrote (boot.rst §64-bit). */
static int setup_boot_regs(struct vcpu *vcpu, const struct boot_entry *entry)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs = {
		.rip = entry->rip,
		.rsi = entry->rsi,
		.rsp = BOOT_STACK_GPA,
		.rbp = BOOT_STACK_GPA,
		.rflags = 0x2,
	};
	struct kvm_fpu fpu = { .fcw = 0x37f, .mxcsr = 0x1f80 };

	if (ioctl(vcpu->fd, KVM_GET_SREGS, &sregs) < 0)
		return -errno;
	set_segment(&sregs.cs, 0x10, 0xb, true);
	set_segment(&sregs.ds, 0x18, 0x3, false);
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	sregs.tr = (struct kvm_segment){
		.selector = 0x20, .limit = 0xffff, .type = 0xb, .present = 1,
	};
	sregs.gdt.base = GDT_GPA;
	sregs.gdt.limit = 5 * 8 - 1;
	sregs.idt.base = IDT_GPA;
	sregs.idt.limit = 0;
	sregs.cr0 = (sregs.cr0 | 0x80000011) & ~0x60000000ULL;	/* PG|ET|PE, caches on */
	sregs.cr3 = PML4_GPA;
	sregs.cr4 = 0x20;					/* PAE */
	sregs.efer = 0x500;					/* LME|LMA */
	if (ioctl(vcpu->fd, KVM_SET_SREGS, &sregs) < 0)
		return -errno;
	if (ioctl(vcpu->fd, KVM_SET_REGS, &regs) < 0)
		return -errno;
	if (ioctl(vcpu->fd, KVM_SET_FPU, &fpu) < 0)
		return -errno;
	return 0;
}

int vcpu_setup(struct vcpu *vcpu, const struct boot_entry *entry)
{
	int ret;

	/* CPUID first: KVM checks MSRs against the guest's CPUID. */
	ret = cpuid_setup_vcpu(vcpu);
	if (!ret)
		ret = msr_setup_vcpu(vcpu);
	if (!ret)
		ret = setup_lapic(vcpu);
	if (!ret && vcpu->id == 0)
		ret = setup_boot_regs(vcpu, entry);
	return ret;
}

static void dump_regs(struct vcpu *vcpu)
{
	struct kvm_regs r;
	struct kvm_sregs s;

	if (ioctl(vcpu->fd, KVM_GET_REGS, &r) < 0 || ioctl(vcpu->fd, KVM_GET_SREGS, &s) < 0)
		return;
	pr_info("vcpu %u: rip=%#llx rsp=%#llx rflags=%#llx rax=%#llx rbx=%#llx rcx=%#llx "
		"rdx=%#llx rsi=%#llx rdi=%#llx", vcpu->id, r.rip, r.rsp, r.rflags, r.rax, r.rbx,
		r.rcx, r.rdx, r.rsi, r.rdi);
	pr_info("vcpu %u: cs=%#x cr0=%#llx cr3=%#llx cr4=%#llx efer=%#llx", vcpu->id,
		s.cs.selector, s.cr0, s.cr3, s.cr4, s.efer);
}

static void handle_io(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	bool is_write = run->io.direction == KVM_EXIT_IO_OUT;

	/* count > 1 for rep ins/outs: data holds count elements of size bytes. */
	for (uint32_t i = 0; i < run->io.count; i++, data += run->io.size)
		io_bus_access(&vcpu->vm->pio, vcpu->id, run->io.port, data, run->io.size, is_write);
}

static void handle_mmio(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	unsigned int len = run->mmio.len <= 8 ? run->mmio.len : 8;

	io_bus_access(&vcpu->vm->mmio, vcpu->id, run->mmio.phys_addr, run->mmio.data, len,
		      run->mmio.is_write);
}

static void handle_internal_error(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	char data[160] = "";
	size_t off = 0;

	for (uint32_t i = 0; i < run->internal.ndata && i < 16 && off < sizeof(data); i++)
		off += snprintf(data + off, sizeof(data) - off, " %#llx",
				(unsigned long long)run->internal.data[i]);
	dump_regs(vcpu);
	vm_request_exit(vcpu->vm, DOMUS_EXIT_CRASH,
			"KVM internal error on vcpu %u: suberror %u%s%s%s", vcpu->id,
			run->internal.suberror,
			run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION ?
				" (instruction emulation failed)" : "",
			run->internal.ndata ? ", data" : "", data);
}

static void handle_system_event(struct vcpu *vcpu)
{
	switch (vcpu->run->system_event.type) {
	case KVM_SYSTEM_EVENT_SHUTDOWN:
		vm_request_exit(vcpu->vm, DOMUS_EXIT_POWEROFF, "guest powered off");
		break;
	case KVM_SYSTEM_EVENT_RESET:
		vm_request_exit(vcpu->vm, DOMUS_EXIT_REBOOT, "guest rebooted");
		break;
	default:
		vm_request_exit(vcpu->vm, DOMUS_EXIT_CRASH, "guest crashed (system event %u)",
				vcpu->run->system_event.type);
		break;
	}
}

/* Return: true if this vCPU must stop running (the machine is ending). */
static bool handle_exit(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		handle_io(vcpu);
		return false;
	case KVM_EXIT_MMIO:
		handle_mmio(vcpu);
		return false;
	case KVM_EXIT_INTR:
	case KVM_EXIT_HLT:		/* not seen with the in-kernel LAPIC; harmless */
		return false;
	case KVM_EXIT_SHUTDOWN:
		/* On SVM, KVM re-initialises the vCPU on a shutdown intercept (the VMCB is
		 * undefined after it): what we can read then is the power-on state. */
		pr_info("vcpu %u: registers after the triple fault (on AMD hosts KVM has already "
			"reset them to the power-on state)", vcpu->id);
		dump_regs(vcpu);
		vm_request_exit(vcpu->vm, DOMUS_EXIT_CRASH,
				"guest crashed: triple fault on vcpu %u", vcpu->id);
		return true;
	case KVM_EXIT_SYSTEM_EVENT:
		handle_system_event(vcpu);
		return true;
	case KVM_EXIT_INTERNAL_ERROR:
		handle_internal_error(vcpu);
		return true;
	case KVM_EXIT_FAIL_ENTRY:
		vm_request_exit(vcpu->vm, DOMUS_EXIT_CRASH,
				"guest crashed: VM entry failed on vcpu %u, reason %#llx", vcpu->id,
				(unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		return true;
	default:
		dump_regs(vcpu);
		vm_request_exit(vcpu->vm, DOMUS_EXIT_CRASH, "unexpected KVM exit %u on vcpu %u",
				run->exit_reason, vcpu->id);
		return true;
	}
}

static void set_state(struct vcpu *vcpu, enum vcpu_run_state state)
{
	vcpu->state = state;
	pthread_cond_broadcast(&vcpu->cond);
}

/* Wait here while paused. Return: false when the thread must stop. Called with the lock. */
static bool wait_runnable(struct vcpu *vcpu)
{
	while (vcpu->target == VCPU_PAUSED) {
		if (vcpu->state != VCPU_PAUSED)
			set_state(vcpu, VCPU_PAUSED);
		pthread_cond_wait(&vcpu->cond, &vcpu->lock);
	}
	if (vcpu->target == VCPU_STOPPED)
		return false;
	if (vcpu->state != VCPU_RUNNING)
		set_state(vcpu, VCPU_RUNNING);
	return true;
}

/*
 * After an I/O or MMIO exit, KVM finishes the instruction (RIP, the value read) only at the
 * next KVM_RUN; state read before that would replay the access after a restore. So before
 * a vCPU parks, it enters KVM_RUN once with immediate_exit set: KVM completes the
 * instruction and returns without running another.
 */
static void complete_io(struct vcpu *vcpu)
{
	if (!vcpu->io_pending)
		return;
	vcpu->run->immediate_exit = 1;
	if (ioctl(vcpu->fd, KVM_RUN, 0) == 0 && vcpu->run->exit_reason != KVM_EXIT_INTR)
		pr_debug("vcpu %u: exit %u while completing I/O", vcpu->id,
			 vcpu->run->exit_reason);
	vcpu->io_pending = false;
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *vcpu = arg;
	sigset_t kick;

	pthread_mutex_lock(&vcpu->lock);
	__atomic_store_n(&vcpu->tid, gettid(), __ATOMIC_RELEASE);
	pthread_cond_broadcast(&vcpu->cond);	/* vcpu_start() waits for the tid */
	pthread_mutex_unlock(&vcpu->lock);
	sigemptyset(&kick);
	sigaddset(&kick, SIG_VCPU_KICK);
	pthread_sigmask(SIG_UNBLOCK, &kick, NULL);
	for (;;) {
		pthread_mutex_lock(&vcpu->lock);
		if (vcpu->target != VCPU_RUNNING && vcpu->io_pending) {
			pthread_mutex_unlock(&vcpu->lock);
			complete_io(vcpu);
			pthread_mutex_lock(&vcpu->lock);
		}
		vcpu->run->immediate_exit = 0;	/* a kick after this unlock still stops KVM_RUN */
		bool runnable = wait_runnable(vcpu);
		pthread_mutex_unlock(&vcpu->lock);
		if (!runnable)
			break;
		if (ioctl(vcpu->fd, KVM_RUN, 0) < 0) {
			vcpu->io_pending = false;	/* entering completed it */
			if (errno == EINTR || errno == EAGAIN)
				continue;
			vm_request_exit(vcpu->vm, DOMUS_EXIT_HOST_ERROR, "KVM_RUN on vcpu %u: %s",
					vcpu->id, strerror(errno));
			break;
		}
		vcpu->io_pending = vcpu->run->exit_reason == KVM_EXIT_IO ||
				   vcpu->run->exit_reason == KVM_EXIT_MMIO;
		if (handle_exit(vcpu))
			break;
	}
	pthread_mutex_lock(&vcpu->lock);
	set_state(vcpu, VCPU_STOPPED);
	pthread_mutex_unlock(&vcpu->lock);
	return NULL;
}

static void install_kick(void)
{
	struct sigaction sa = { .sa_handler = kick_handler };

	sigemptyset(&sa.sa_mask);
	sigaction(SIG_VCPU_KICK, &sa, NULL);
}

int vcpu_start(struct vcpu *vcpu)
{
	return vcpu_start_as(vcpu, VCPU_RUNNING);
}

int vcpu_start_as(struct vcpu *vcpu, enum vcpu_run_state target)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	int ret;

	if (target != VCPU_RUNNING && target != VCPU_PAUSED)
		return -EINVAL;
	pthread_once(&once, install_kick);
	pthread_mutex_lock(&vcpu->lock);
	vcpu->target = target;
	pthread_mutex_unlock(&vcpu->lock);
	ret = pthread_create(&vcpu->thread, NULL, vcpu_thread, vcpu);
	if (ret)
		return -ret;
	vcpu->thread_started = true;
	/* Return with the thread id known, so affinity and CPU time can be asked for at once. */
	pthread_mutex_lock(&vcpu->lock);
	while (!__atomic_load_n(&vcpu->tid, __ATOMIC_ACQUIRE))
		pthread_cond_wait(&vcpu->cond, &vcpu->lock);
	pthread_mutex_unlock(&vcpu->lock);
	return 0;
}

/* Set the target and wait until the thread gets there (or stops on its own). */
static void request(struct vcpu *vcpu, enum vcpu_run_state target)
{
	pthread_mutex_lock(&vcpu->lock);
	if (vcpu->state == VCPU_STOPPED || !vcpu->thread_started) {
		pthread_mutex_unlock(&vcpu->lock);
		return;
	}
	vcpu->target = target;
	vcpu->run->immediate_exit = 1;
	pthread_kill(vcpu->thread, SIG_VCPU_KICK);
	pthread_cond_broadcast(&vcpu->cond);
	while (vcpu->state != target && vcpu->state != VCPU_STOPPED)
		pthread_cond_wait(&vcpu->cond, &vcpu->lock);
	pthread_mutex_unlock(&vcpu->lock);
}

void vcpu_pause(struct vcpu *vcpu)
{
	request(vcpu, VCPU_PAUSED);
}

void vcpu_resume(struct vcpu *vcpu)
{
	request(vcpu, VCPU_RUNNING);
}

void vcpu_stop(struct vcpu *vcpu)
{
	request(vcpu, VCPU_STOPPED);
	if (vcpu->thread_started) {
		pthread_join(vcpu->thread, NULL);
		vcpu->thread_started = false;
	}
}

pid_t vcpu_tid(struct vcpu *vcpu)
{
	if (vcpu_get_run_state(vcpu) == VCPU_STOPPED)
		return 0;
	return __atomic_load_n(&vcpu->tid, __ATOMIC_ACQUIRE);
}

void vcpu_pause_all(struct vm *vm, bool pause)
{
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		if (pause)
			vcpu_pause(vm->vcpus[i]);
		else
			vcpu_resume(vm->vcpus[i]);
	}
}

enum vcpu_run_state vcpu_get_run_state(struct vcpu *vcpu)
{
	enum vcpu_run_state s;

	pthread_mutex_lock(&vcpu->lock);
	s = vcpu->state;
	pthread_mutex_unlock(&vcpu->lock);
	return s;
}

static int msrs_io(struct vcpu *vcpu, struct kvm_msr_entry *entries, uint32_t n,
		   unsigned long op)
{
	struct kvm_msrs *msrs __free = malloc(sizeof(*msrs) + n * sizeof(*entries));
	int ret;

	if (!msrs)
		return -ENOMEM;
	msrs->nmsrs = n;
	msrs->pad = 0;
	memcpy(msrs->entries, entries, n * sizeof(*entries));
	ret = ioctl(vcpu->fd, op, msrs);
	if (ret < 0)
		return -errno;
	memcpy(entries, msrs->entries, ret * sizeof(*entries));
	return ret;
}

static bool has_cap(struct vcpu *vcpu, int cap)
{
	return ioctl(vcpu->vm->kvm_fd, KVM_CHECK_EXTENSION, cap) > 0;
}

/* The FPU/SSE/AVX state: XSAVE where KVM has it (its size from KVM_CAP_XSAVE2). */
static int save_fpu(struct vcpu *vcpu, struct vcpu_state *st)
{
	int size;

	if (ioctl(vcpu->fd, KVM_GET_FPU, &st->fpu) < 0)
		return -errno;
	if (!has_cap(vcpu, KVM_CAP_XSAVE))
		return 0;
	size = ioctl(vcpu->vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE2);
	if (size <= 0) {
		size = sizeof(struct kvm_xsave);
		if (ioctl(vcpu->fd, KVM_GET_XSAVE, st->xsave) < 0)
			return -errno;
	} else {
		if (size > VCPU_XSAVE_MAX)
			return -E2BIG;
		if (size < (int)sizeof(struct kvm_xsave))
			size = sizeof(struct kvm_xsave);
		if (ioctl(vcpu->fd, KVM_GET_XSAVE2, st->xsave) < 0)
			return -errno;
	}
	st->xsave_size = size;
	return 0;
}

/* KVM_GET_MSRS stops at the first MSR it refuses: only the list's readable ones are asked. */
static int save_msrs(struct vcpu *vcpu, struct vcpu_state *st)
{
	const uint32_t *list;
	int n = msr_state_list(vcpu, &list);

	if (n < 0)
		return n;
	for (int i = 0; i < n; i++)
		st->msrs[i] = (struct kvm_msr_entry){ .index = list[i] };
	n = msrs_io(vcpu, st->msrs, n, KVM_GET_MSRS);
	if (n < 0)
		return n;
	st->nr_msrs = n;	/* entries past a refused one are not part of the state */
	return 0;
}

int vcpu_save_state(struct vcpu *vcpu, struct vcpu_state *st)
{
	int ret;

	if (vcpu_get_run_state(vcpu) == VCPU_RUNNING)
		return -EBUSY;
	memset(st, 0, offsetof(struct vcpu_state, xsave));
	/* Events and MP state first: they may flush pending state into the registers. */
	if (ioctl(vcpu->fd, KVM_GET_MP_STATE, &st->mp_state) < 0 ||
	    ioctl(vcpu->fd, KVM_GET_VCPU_EVENTS, &st->events) < 0 ||
	    ioctl(vcpu->fd, KVM_GET_REGS, &st->regs) < 0 ||
	    ioctl(vcpu->fd, KVM_GET_SREGS, &st->sregs) < 0 ||
	    ioctl(vcpu->fd, KVM_GET_LAPIC, &st->lapic) < 0 ||
	    ioctl(vcpu->fd, KVM_GET_DEBUGREGS, &st->debugregs) < 0)
		return -errno;
	if (has_cap(vcpu, KVM_CAP_SREGS2)) {
		if (ioctl(vcpu->fd, KVM_GET_SREGS2, &st->sregs2) < 0)
			return -errno;
		st->has_sregs2 = true;
	}
	if (has_cap(vcpu, KVM_CAP_XCRS)) {
		if (ioctl(vcpu->fd, KVM_GET_XCRS, &st->xcrs) < 0)
			return -errno;
		st->has_xcrs = true;
	}
	ret = save_fpu(vcpu, st);
	return ret ? ret : save_msrs(vcpu, st);
}

/* Set every MSR KVM takes; one it refuses is named and skipped, not silently lost. */
static int load_msrs(struct vcpu *vcpu, const struct vcpu_state *st)
{
	struct kvm_msr_entry *e __free = malloc(st->nr_msrs * sizeof(*e) + 1);
	uint32_t done = 0;

	if (!e)
		return -ENOMEM;
	memcpy(e, st->msrs, st->nr_msrs * sizeof(*e));
	while (done < st->nr_msrs) {
		int n = msrs_io(vcpu, e + done, st->nr_msrs - done, KVM_SET_MSRS);

		if (n < 0)
			return n;
		done += n;
		if (done < st->nr_msrs) {
			pr_warn("vcpu %u: KVM refused MSR %#x = %#llx; it keeps its reset value",
				vcpu->id, e[done].index, (unsigned long long)e[done].data);
			done++;
		}
	}
	return 0;
}

static int load_fpu(struct vcpu *vcpu, const struct vcpu_state *st)
{
	if (!st->xsave_size)
		return ioctl(vcpu->fd, KVM_SET_FPU, &st->fpu) < 0 ? -errno : 0;
	if (!has_cap(vcpu, KVM_CAP_XSAVE))
		return -EOPNOTSUPP;
	/* KVM_SET_XSAVE takes the larger XSAVE2 layout through the same call. */
	return ioctl(vcpu->fd, KVM_SET_XSAVE, st->xsave) < 0 ? -errno : 0;
}

/*
 * The order matters: special registers (CR0/CR4/EFER, APIC base) before the registers and
 * the FPU that depend on them, the LAPIC before the MSRs (the TSC deadline is only kept
 * in TSC-deadline mode), events and MP state last.
 */
int vcpu_load_state(struct vcpu *vcpu, const struct vcpu_state *st)
{
	int ret;

	if (vcpu_get_run_state(vcpu) == VCPU_RUNNING)
		return -EBUSY;
	if (st->nr_msrs > VCPU_MAX_MSRS || st->xsave_size > VCPU_XSAVE_MAX)
		return -EINVAL;
	if (st->has_sregs2 ? ioctl(vcpu->fd, KVM_SET_SREGS2, &st->sregs2) < 0 :
			     ioctl(vcpu->fd, KVM_SET_SREGS, &st->sregs) < 0)
		return -errno;
	if (ioctl(vcpu->fd, KVM_SET_REGS, &st->regs) < 0)
		return -errno;
	ret = load_fpu(vcpu, st);
	if (ret)
		return ret;
	if (st->has_xcrs && ioctl(vcpu->fd, KVM_SET_XCRS, &st->xcrs) < 0)
		return -errno;
	if (ioctl(vcpu->fd, KVM_SET_LAPIC, &st->lapic) < 0)
		return -errno;
	ret = load_msrs(vcpu, st);
	if (ret)
		return ret;
	if (ioctl(vcpu->fd, KVM_SET_MP_STATE, &st->mp_state) < 0 ||
	    ioctl(vcpu->fd, KVM_SET_VCPU_EVENTS, &st->events) < 0 ||
	    ioctl(vcpu->fd, KVM_SET_DEBUGREGS, &st->debugregs) < 0)
		return -errno;
	return 0;
}
