// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test-poweroff: ACPI S5 through the HW-reduced sleep control register (port 0x600 ← 0x34,
 * SLP_TYP 5 | SLP_EN).
 *
 * Host side: domus-vmm exits with 0, after the report "value=0x31415926" that proves the
 * guest ran. A VMM that ignores the write lets the guest run on: it waits a second on its
 * LAPIC timer, then exits with 64 + 3.
 */
#include "libguest.h"

#define PORT_ACPI_SLEEP		0x600
#define ACPI_SLEEP_S5		0x34

int guest_main(void)
{
	guest_timer_start();
	guest_report(0x31415926);
	outb(PORT_ACPI_SLEEP, ACPI_SLEEP_S5);
	guest_wait_until(false, 1000);
	return GUEST_EXIT_RETURNED;
}
