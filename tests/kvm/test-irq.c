// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test-irq: an interrupt from the VMM through the in-kernel IOAPIC and LAPIC.
 *
 * The guest routes IOAPIC pin 10 (edge, fixed, to APIC id 0) to vector 0x40, asks the test
 * device to pulse GSI 10 (port 0xf6) and sleeps in sti;hlt until the handler ran. Every
 * wait is bounded by the LAPIC-timer watchdog, so a lost interrupt fails with a reported
 * line instead of hanging. A #UD first checks the IDT itself, and a masked pin must
 * not deliver.
 *
 * Host side: domus-vmm --test-device exits with 64.
 */
#include "libguest.h"

#define GSI		10
#define VECTOR		0x40
#define VECTOR_UD	6
#define WAIT_MS		2000

static volatile unsigned int irq_count;
static volatile unsigned int ud_count;
static volatile uint64_t last_vector;

static void irq_handler(struct ex_regs *regs)
{
	last_vector = regs->vector;
	irq_count++;
	lapic_eoi();
}

static void ud_handler(struct ex_regs *regs)
{
	ud_count++;
	regs->rip += 2;		/* skip the ud2 */
}

/* Pulse the GSI with IF=0, then sleep until the handler has counted it. */
static bool pulse_and_wait(unsigned int expect)
{
	guest_pulse_gsi(GSI);
	return guest_wait_until(irq_count == expect, WAIT_MS);
}

int guest_main(void)
{
	guest_timer_start();
	idt_set_handler(VECTOR, irq_handler);
	idt_set_handler(VECTOR_UD, ud_handler);

	/*
	 * The IDT and iretq on their own first, with an exception (a software INT n cannot be
	 * used: KVM's instruction emulator does not implement it outside real mode).
	 */
	__asm__ __volatile__("ud2" : : : "memory");
	GUEST_ASSERT_EQ(ud_count, 1);

	/* The watchdog itself must tick, or every wait below would be meaningless. */
	GUEST_ASSERT(guest_wait_until(guest_ticks >= 2, WAIT_MS));

	ioapic_route(GSI, VECTOR, lapic_id(), false, false);
	GUEST_ASSERT(pulse_and_wait(1));
	GUEST_ASSERT_EQ(last_vector, VECTOR);
	GUEST_ASSERT(pulse_and_wait(2));

	/* Nothing else arrives on its own. */
	guest_wait_until(false, 5 * GUEST_TICK_MS);
	GUEST_ASSERT_EQ(irq_count, 2);

	/* A masked pin drops the edge. */
	ioapic_route(GSI, VECTOR, lapic_id(), false, true);
	guest_pulse_gsi(GSI);
	guest_wait_until(false, 5 * GUEST_TICK_MS);
	GUEST_ASSERT_EQ(irq_count, 2);

	/* And unmasked again, it works again. */
	ioapic_route(GSI, VECTOR, lapic_id(), false, false);
	GUEST_ASSERT(pulse_and_wait(3));

	lapic_timer_stop();
	return GUEST_EXIT_OK;
}
