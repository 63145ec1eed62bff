// SPDX-License-Identifier: GPL-2.0-or-later
/* ACPI sleep/reset port, power button (GED), keyboard-controller reset, POST port. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "layout.h"
#include "log.h"
#include "pm.h"
#include "vm.h"

#define KBD_CMD_RESET	0xfe
#define SLP_TYP_MASK	0x1c

struct pm {
	struct vm *vm;
};

/* SLEEP_CONTROL (write), SLEEP_STATUS (read: never asleep) and RESET_REG share one port. */
static void acpi_pm_io(void *opaque, unsigned int vcpu_id, uint64_t port, uint8_t *data,
		       unsigned int len, bool is_write)
{
	struct pm *pm = opaque;
	uint8_t v = data[0];

	if (!is_write) {
		memset(data, 0, len);
		return;
	}
	if (v == ACPI_RESET_VALUE) {
		vm_request_exit(pm->vm, DOMUS_EXIT_REBOOT, "guest rebooted (ACPI reset)");
	} else if ((v & ACPI_SLP_EN) && ((v & SLP_TYP_MASK) >> 2) == ACPI_S5_SLP_TYP) {
		vm_request_exit(pm->vm, DOMUS_EXIT_POWEROFF, "guest powered off (ACPI S5)");
	} else {
		/* Other sleep states are not offered (_S5 only): ignore, do not end the guest. */
		pr_debug("vcpu %u: ignored write %#x to the ACPI sleep port", vcpu_id, v);
	}
}

/* Port 0x64 reads 0 ("input buffer empty") so Linux's kb_wait() never spins. */
static void kbd_io(void *opaque, unsigned int vcpu_id, uint64_t port, uint8_t *data,
		   unsigned int len, bool is_write)
{
	struct pm *pm = opaque;

	if (!is_write)
		memset(data, 0, len);
	else if (data[0] == KBD_CMD_RESET)
		vm_request_exit(pm->vm, DOMUS_EXIT_REBOOT, "guest rebooted (keyboard controller)");
}

/* Port 0x80: Linux's io_delay. Claimed so it is not counted as unhandled. */
static void post_io(void *opaque, unsigned int vcpu_id, uint64_t port, uint8_t *data,
		    unsigned int len, bool is_write)
{
	if (!is_write)
		memset(data, 0xff, len);
}

int pm_create(struct vm *vm, struct pm **out)
{
	struct pm *pm = calloc(1, sizeof(*pm));
	int ret;

	if (!pm)
		return -ENOMEM;
	pm->vm = vm;
	ret = io_bus_register(&vm->pio, PORT_ACPI_PM, 4, acpi_pm_io, pm);
	if (!ret)
		ret = io_bus_register(&vm->pio, PORT_KBD_STATUS, 1, kbd_io, pm);
	if (!ret)
		ret = io_bus_register(&vm->pio, PORT_POST, 1, post_io, pm);
	if (ret) {
		pm_free(pm);
		return ret;
	}
	*out = pm;
	return 0;
}

void pm_free(struct pm *pm)
{
	free(pm);
}

int pm_press_power_button(struct pm *pm)
{
	/* The GED's _EVT runs Notify(PWRB, 0x80) on the rising edge of its interrupt. */
	return vm_irq_pulse(pm->vm, GSI_GED);
}
