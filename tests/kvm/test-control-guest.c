// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test-control-guest: the guest that tests/kvm/test-control.c drives through libxc.
 *
 * It counts: every 50 ms (5 watchdog ticks) it reports 0xc0000000 + n, n = 1, 2, ...,
 * through the test device, so the host sees from domus-vmm's stderr whether the guest
 * runs (pause, unpause). It listens for the ACPI power button (the GED's GSI 5) and
 * powers off (S5) when it is pressed. Untouched for 60 s, it ends with 64 + 3.
 */
#include "libguest.h"

#define GSI_GED			5
#define VECTOR			0x45
#define PORT_ACPI_SLEEP		0x600
#define ACPI_SLEEP_S5		0x34
#define REPORT_BASE		0xc0000000u
#define REPORT_TICKS		5

static volatile unsigned int presses;

static void ged_handler(struct ex_regs *regs)
{
	presses++;
	lapic_eoi();
}

int guest_main(void)
{
	uint64_t next, end;
	uint32_t n = 0;

	guest_timer_start();
	idt_set_handler(VECTOR, ged_handler);
	ioapic_route(GSI_GED, VECTOR, lapic_id(), false, false);
	next = guest_ticks;
	end = guest_ticks + 60000 / GUEST_TICK_MS;
	while (guest_ticks < end) {
		guest_wait_until(presses > 0 || guest_ticks >= next, 1000);
		if (presses) {
			outb(PORT_ACPI_SLEEP, ACPI_SLEEP_S5);
			guest_wait_until(false, 1000);
			break;
		}
		if (guest_ticks >= next) {
			guest_report(REPORT_BASE + ++n);
			next = guest_ticks + REPORT_TICKS;
		}
	}
	return GUEST_EXIT_RETURNED;
}
