/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * domus-vmm's exit statuses: how a domain ended. libxc maps them to the domain states and
 * reasons that xm/virsh report (shutdown: powered off or rebooted; crashed; destroyed).
 */
#ifndef DOMUS_VMM_EXIT_H
#define DOMUS_VMM_EXIT_H

enum domus_vmm_exit {
	DOMUS_EXIT_POWEROFF = 0,	/* the guest powered itself off (ACPI S5) */
	DOMUS_EXIT_HOST_ERROR = 1,	/* bad usage or a failure on the host side */
	DOMUS_EXIT_REBOOT = 2,		/* the guest asked for a reset */
	DOMUS_EXIT_CRASH = 3,		/* triple fault, KVM internal error, invalid guest state */
	DOMUS_EXIT_STOPPED = 4,		/* stopped by the host (destroy), guest not asked */
	DOMUS_EXIT_TEST_BASE = 64,	/* --test-device: 64 + (value & 63) */
};

#endif
