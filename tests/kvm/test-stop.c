// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test-stop: the host stops a guest that ignores the ACPI power button.
 *
 * The guest sleeps in hlt on its LAPIC timer for 30 s, with a second vCPU that was never
 * started (waiting for INIT/SIPI in KVM_RUN). run-guest --stop-after sends SIGTERM, which
 * presses the power button (nobody listens), and a second SIGTERM one second later, which
 * must stop the machine at once: both vCPU threads have to be kicked out of KVM_RUN.
 *
 * Host side: domus-vmm --vcpus 2 --test-device exits with 4 (stopped by the host) well
 * before the guest's 30 s are up (which would end it with 64 + 3).
 */
#include "libguest.h"

int guest_main(void)
{
	guest_timer_start();
	guest_report(0x31415926);
	guest_wait_until(false, 30000);
	return GUEST_EXIT_RETURNED;
}
