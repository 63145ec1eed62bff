// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test-internal-error: the guest jumps into the MMIO hole, where no RAM backs the code.
 *
 * KVM cannot fetch an instruction from a GPA without a memory slot, so KVM_RUN returns
 * KVM_EXIT_INTERNAL_ERROR (emulation failure) on any host, with or without VT-x/AMD-V.
 * Host side: domus-vmm exits with 3 (crashed) and prints the suberror and the registers;
 * it must neither hang nor treat it as a host error.
 */
#include "libguest.h"

#define UNBACKED_GPA 0xd0000000UL	/* inside the PCI window, no BAR there */

int guest_main(void)
{
	void (*nowhere)(void) = (void (*)(void))UNBACKED_GPA;

	guest_report(0x0badc0de);
	nowhere();
	return GUEST_EXIT_RETURNED;
}
