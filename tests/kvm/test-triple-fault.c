// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test-triple-fault: an exception with no usable IDT shuts the vCPU down.
 *
 * With a zero-limit IDT, ud2 raises #UD, whose delivery faults (#GP), whose delivery faults
 * again (#DF), and the third fault is a triple fault: KVM reports KVM_EXIT_SHUTDOWN. (ud2
 * and not int3: KVM's instruction emulator, which runs CPL-0 code on hosts without VMX/SVM,
 * cannot emulate INT n in long mode and would stop with an internal error instead.)
 *
 * Host side: domus-vmm exits with 3 and says "guest crashed: triple fault" on stderr, after
 * the report "value=0x31415926" that proves the guest ran up to the fault (a VMM that cannot
 * even enter the guest crashes it too). A guest surviving the fault exits with 64 + 3.
 */
#include "libguest.h"

int guest_main(void)
{
	static const struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) empty_idt = { 0, 0 };

	guest_report(0x31415926);
	__asm__ __volatile__("lidt %0; ud2" : : "m"(empty_idt) : "memory");
	return GUEST_EXIT_RETURNED;
}
