// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * In-process test of the vCPU run-state machine and of machine state as data, linked with
 * hv_core. The guest is a 10-byte loop that increments a counter in RAM; the host pauses,
 * resumes and stops it, checks the counter freezes and moves as it should, and reads and
 * writes every piece of vCPU and VM state while paused.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "boot.h"
#include "layout.h"
#include "vcpu.h"
#include "vm.h"

int log_verbose;
static int failures;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);            \
			failures++;                                                                \
		} else {                                                                           \
			printf("ok   %s\n", #cond);                                                \
		}                                                                                  \
	} while (0)

#define CODE_GPA	HIGH_RAM_START
#define COUNTER_GPA	0x200000ULL

static volatile uint64_t *counter(struct vm *vm)
{
	return (volatile uint64_t *)vm_gpa_to_hva(vm, COUNTER_GPA, 8);
}

/* Wait up to 10 s for the counter to pass @above (the loop runs slowly where KVM emulates). */
static bool counter_moves(struct vm *vm, uint64_t above)
{
	for (int i = 0; i < 1000; i++) {
		if (*counter(vm) > above)
			return true;
		usleep(10000);
	}
	return false;
}

static void load_guest(struct vm *vm, struct boot_entry *entry)
{
	/* 1: inc qword [COUNTER_GPA]; jmp 1b */
	static const uint8_t loop[] = { 0x48, 0xff, 0x04, 0x25, 0x00, 0x00, 0x20, 0x00,
					0xeb, 0xf6 };

	memcpy(vm->ram + CODE_GPA, loop, sizeof(loop));
	boot_build_page_tables(vm->ram);
	boot_build_gdt(vm->ram);
	*entry = (struct boot_entry){ .rip = CODE_GPA };
}

static void test_states(struct vm *vm, struct vcpu *vcpu)
{
	struct vcpu_state st, st2;
	struct vm_state vst;
	uint64_t frozen;

	CHECK(vcpu_get_run_state(vcpu) == VCPU_CREATED);
	CHECK(vcpu_save_state(vcpu, &st) == 0);			/* legal before the start */
	CHECK(st.regs.rip == CODE_GPA && st.sregs.cr3 == PML4_GPA);
	CHECK(vcpu_start(vcpu) == 0);
	CHECK(counter_moves(vm, 0));
	CHECK(vcpu_get_run_state(vcpu) == VCPU_RUNNING);
	CHECK(vcpu_save_state(vcpu, &st) == -EBUSY);		/* not while running */

	vcpu_pause(vcpu);
	CHECK(vcpu_get_run_state(vcpu) == VCPU_PAUSED);
	frozen = *counter(vm);
	usleep(100000);
	CHECK(*counter(vm) == frozen);				/* paused means paused */

	CHECK(vcpu_save_state(vcpu, &st) == 0);
	CHECK(st.regs.rip >= CODE_GPA && st.regs.rip < CODE_GPA + 10);
	CHECK(st.sregs.efer & 0x400);				/* still in long mode */
	CHECK(st.nr_msrs > 0);
	CHECK(vcpu_load_state(vcpu, &st) == 0);
	CHECK(vcpu_save_state(vcpu, &st2) == 0);
	CHECK(!memcmp(&st.regs, &st2.regs, sizeof(st.regs)));
	CHECK(!memcmp(&st.sregs, &st2.sregs, sizeof(st.sregs)));

	CHECK(vm_save_state(vm, &vst) == 0);
	CHECK(vst.ioapic.chip_id == KVM_IRQCHIP_IOAPIC);
	CHECK(vm_load_state(vm, &vst) == 0);
	vst.ioapic.chip_id = KVM_IRQCHIP_PIC_MASTER;
	CHECK(vm_load_state(vm, &vst) == -EINVAL);		/* a foreign state is refused */

	vcpu_resume(vcpu);
	CHECK(vcpu_get_run_state(vcpu) == VCPU_RUNNING);
	CHECK(counter_moves(vm, frozen));

	/* Pausing twice and resuming twice are harmless. */
	vcpu_pause(vcpu);
	vcpu_pause(vcpu);
	CHECK(vcpu_get_run_state(vcpu) == VCPU_PAUSED);
	vcpu_resume(vcpu);
	vcpu_resume(vcpu);
	CHECK(vcpu_get_run_state(vcpu) == VCPU_RUNNING);

	vcpu_stop(vcpu);
	CHECK(vcpu_get_run_state(vcpu) == VCPU_STOPPED);
	frozen = *counter(vm);
	usleep(50000);
	CHECK(*counter(vm) == frozen);
	vcpu_resume(vcpu);					/* no effect once stopped */
	CHECK(vcpu_get_run_state(vcpu) == VCPU_STOPPED);
}

int main(void)
{
	struct vm_config cfg = { .mem_size = 16ULL << 20, .nr_vcpus = 1, .kvm_fd = -1 };
	struct boot_entry entry;
	struct vm *vm;
	struct vcpu *vcpu;
	int fd = open("/dev/kvm", O_RDWR);

	if (fd < 0) {
		printf("SKIP: cannot open /dev/kvm\n");
		return 77;
	}
	close(fd);
	if (vm_create(&cfg, &vm)) {
		fprintf(stderr, "FAIL: vm_create\n");
		return 1;
	}
	vm->nr_vcpus = 1;
	load_guest(vm, &entry);
	if (cpuid_init(vm) || vcpu_create(vm, 0, &vcpu) || vcpu_setup(vcpu, &entry)) {
		fprintf(stderr, "FAIL: vCPU set-up\n");
		return 1;
	}
	test_states(vm, vcpu);
	vcpu_free(vcpu);
	vm_free(vm);
	if (failures) {
		fprintf(stderr, "%d check(s) failed\n", failures);
		return 1;
	}
	printf("vCPU state machine and state I/O: all checks passed\n");
	return 0;
}
