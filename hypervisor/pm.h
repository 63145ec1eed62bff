/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Power management and reset as a HW-reduced ACPI machine offers them: the sleep
 * control/status and reset register (one I/O port), the power button behind an ACPI GED
 * interrupt, and the legacy reset paths Linux tries (keyboard controller 0xfe).
 */
#ifndef DOMUS_PM_H
#define DOMUS_PM_H

struct vm;
struct pm;

int pm_create(struct vm *vm, struct pm **out);
void pm_free(struct pm *pm);

/* The host asks the guest to shut down (Xen's xm shutdown): press the power button. */
int pm_press_power_button(struct pm *pm);

#endif
