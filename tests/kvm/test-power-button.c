// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test-power-button: SIGTERM to domus-vmm presses the ACPI power button, a pulse on the
 * GED's GSI 5 (the DSDT's _EVT then notifies PWRB); a guest that listens shuts down.
 *
 * The guest routes IOAPIC pin 5 to a vector, reports that it is ready and sleeps in hlt for
 * up to 20 s. run-guest --power-button-after 1 sends one SIGTERM; on the interrupt the guest
 * writes S5 to the sleep control register.
 *
 * Host side: domus-vmm --test-device exits with 0 (powered off) and says it pressed the
 * power button. No interrupt within 20 s ends the guest with 64 + 3.
 */
#include "libguest.h"

#define GSI_GED			5
#define VECTOR			0x45
#define PORT_ACPI_SLEEP		0x600
#define ACPI_SLEEP_S5		0x34

static volatile unsigned int presses;

static void ged_handler(struct ex_regs *regs)
{
	presses++;
	lapic_eoi();
}

int guest_main(void)
{
	guest_timer_start();
	idt_set_handler(VECTOR, ged_handler);
	ioapic_route(GSI_GED, VECTOR, lapic_id(), false, false);
	guest_report(0x31415926);

	if (!guest_wait_until(presses > 0, 20000))
		return GUEST_EXIT_RETURNED;
	outb(PORT_ACPI_SLEEP, ACPI_SLEEP_S5);
	guest_wait_until(false, 1000);
	return GUEST_EXIT_RETURNED;
}
