/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vCPUs: one thread each, running KVM_RUN, driven by an explicit state machine.
 *
 *   CREATED --start--> RUNNING <--pause/resume--> PAUSED
 *                         |                          |
 *                         +--------stop------------>STOPPED (the thread ends)
 *
 * The main thread asks for a state (vcpu_pause/resume/stop): it sets `target` under the lock,
 * kicks the thread out of KVM_RUN (immediate_exit + a signal) and waits until `state`
 * says the request was carried out. A vCPU that ends the machine (poweroff, crash) stops
 * on its own and tells the main thread through vm_request_exit().
 */
#ifndef DOMUS_VCPU_H
#define DOMUS_VCPU_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <domus/cleanup.h>

#include "boot.h"

struct vm;

enum vcpu_run_state {
	VCPU_CREATED,
	VCPU_RUNNING,
	VCPU_PAUSED,
	VCPU_STOPPED,
};

#define VCPU_MAX_MSRS 256
#define VCPU_XSAVE_MAX 16384	/* KVM_CAP_XSAVE2 sizes (AMX needs 11008) */

/* One vCPU's architectural state, as data: what save/restore and migration carry. */
struct vcpu_state {
	struct kvm_regs regs;
	struct kvm_sregs sregs;		/* always filled; loaded when !has_sregs2 */
	struct kvm_sregs2 sregs2;	/* with the PDPTRs, where KVM has KVM_CAP_SREGS2 */
	bool has_sregs2;
	bool has_xcrs;
	struct kvm_fpu fpu;		/* loaded when xsave_size is 0 */
	uint32_t xsave_size;		/* bytes of xsave[] in use; 0 without KVM_CAP_XSAVE */
	struct kvm_lapic_state lapic;
	struct kvm_vcpu_events events;
	struct kvm_mp_state mp_state;
	struct kvm_xcrs xcrs;
	struct kvm_debugregs debugregs;
	uint32_t nr_msrs;
	struct kvm_msr_entry msrs[VCPU_MAX_MSRS];
	uint8_t xsave[VCPU_XSAVE_MAX] __attribute__((aligned(64)));
};

struct vcpu {
	struct vm *vm;
	unsigned int id;		/* also the initial APIC id */
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool thread_started;
	bool io_pending;		/* thread only: the last exit was I/O that KVM completes at
					 * the next KVM_RUN (see complete_io) */
	pid_t tid;			/* host thread id once started (affinity, CPU time); 0 before */

	pthread_mutex_t lock;		/* protects state and target */
	pthread_cond_t cond;		/* signalled on every state change */
	enum vcpu_run_state state;
	enum vcpu_run_state target;
};

int vcpu_create(struct vm *vm, unsigned int id, struct vcpu **out) _must_check_;
void vcpu_free(struct vcpu *vcpu);

/* CPUID, MSRs and LAPIC LINT pins; for the BSP also the entry registers of @entry. */
int vcpu_setup(struct vcpu *vcpu, const struct boot_entry *entry) _must_check_;

int vcpu_start(struct vcpu *vcpu) _must_check_;
/* Start the thread already paused (VCPU_PAUSED: `domus-vmm --paused`) or running. */
int vcpu_start_as(struct vcpu *vcpu, enum vcpu_run_state target) _must_check_;
void vcpu_pause(struct vcpu *vcpu);
void vcpu_resume(struct vcpu *vcpu);
void vcpu_stop(struct vcpu *vcpu);	/* stops and joins the thread */
/* Pause (or resume) every vCPU of @vm; returns when all are there. Main thread. */
void vcpu_pause_all(struct vm *vm, bool pause);
enum vcpu_run_state vcpu_get_run_state(struct vcpu *vcpu);
/* The host thread id while the thread exists, else 0. */
pid_t vcpu_tid(struct vcpu *vcpu);

/* Only while the vCPU is not running (CREATED, PAUSED or STOPPED). */
int vcpu_save_state(struct vcpu *vcpu, struct vcpu_state *st) _must_check_;
int vcpu_load_state(struct vcpu *vcpu, const struct vcpu_state *st) _must_check_;

/* cpuid.c */
#define CPUID_MAX_ENTRIES 256
/* The CPUID this vCPU was given (KVM_GET_CPUID2). Return: entries or -errno. */
int cpuid_get(struct vcpu *vcpu, struct kvm_cpuid_entry2 *entries, unsigned int max)
	_must_check_;
int cpuid_init(struct vm *vm) _must_check_;
int cpuid_setup_vcpu(struct vcpu *vcpu) _must_check_;
int msr_setup_vcpu(struct vcpu *vcpu) _must_check_;
/*
 * The MSRs that are part of a vCPU's state: KVM_GET_MSR_INDEX_LIST, less those this host
 * cannot read on @vcpu. Built once per VM (main thread). Return: count or -errno.
 */
int msr_state_list(struct vcpu *vcpu, const uint32_t **list) _must_check_;

#endif
