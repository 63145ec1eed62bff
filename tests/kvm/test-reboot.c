// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test-reboot: the guest asks for a reset, the way Linux's reboot= methods do it.
 *
 * Built three times (tests/kvm/meson.build):
 *   default         port 0x64 ← 0xfe: 8042 "pulse reset line" (reboot=k)
 *   -DREBOOT_ACPI   port 0x600 ← 0x01: the FADT RESET_REG with RESET_VALUE (reboot=a)
 *   -DREBOOT_CF9    port 0xcf9 ← 0x02, then 0x06: the PCI reset control register (reboot=p);
 *                   the first write, without bit 2, must not reset yet
 *
 * Host side: domus-vmm exits with 2, after the report "value=0x31415926" that proves the
 * guest ran. A VMM that ignores the request lets the guest run on: it waits a second on its
 * LAPIC timer, then exits with 64 + 3.
 */
#include "libguest.h"

#define PORT_KBD_COMMAND	0x64
#define KBD_PULSE_RESET		0xfe
#define PORT_ACPI_RESET		0x600
#define ACPI_RESET_VALUE	0x01
#define PORT_PCI_RESET		0xcf9
#define CF9_SYS_RST		0x02
#define CF9_RST_CPU		0x04

int guest_main(void)
{
	guest_timer_start();
	guest_report(0x31415926);
#if defined(REBOOT_ACPI)
	outb(PORT_ACPI_RESET, ACPI_RESET_VALUE);
#elif defined(REBOOT_CF9)
	outb(PORT_PCI_RESET, CF9_SYS_RST);
	guest_report(0x27182818);
	outb(PORT_PCI_RESET, CF9_SYS_RST | CF9_RST_CPU);
#else
	outb(PORT_KBD_COMMAND, KBD_PULSE_RESET);
#endif
	guest_wait_until(false, 1000);
	return GUEST_EXIT_RETURNED;
}
