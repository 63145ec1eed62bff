// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test-uart: COM1 as Linux's 8250 driver probes it (8250_port.c autoconfig() and
 * serial8250_do_startup()), then output and the THRE interrupt.
 *
 * Checks, in order: the IER test, the scratch register, LSR idle bits (THRE|TEMT), the
 * loopback test (MCR 0x1a gives MSR 0x90 in the high nibble), 16550A FIFO detection, the
 * THRE-on-ETBEI behaviour twice in a row (Linux's UART_BUG_THRE test), a line written
 * through THR, and finally a real THRE interrupt on GSI 4 through the IOAPIC.
 *
 * Host side: domus-vmm --test-device exits with 64 and the console holds the line
 * "test-uart: hello from COM1".
 */
#include "libguest.h"

#define GSI_COM1	4
#define VECTOR		0x44
#define WAIT_MS		2000

#define IER_THRI	0x02
#define IIR_ID_MASK	0x0f
#define IIR_NO_INT	0x01
#define IIR_THRI	0x02
#define IIR_FIFO_ON	0xc0
#define MCR_OUT2	0x08
#define MCR_LOOP_TEST	0x1a	/* LOOP | OUT2 | RTS */

static volatile unsigned int thre_irqs;
static volatile uint8_t handler_iir;

static uint8_t uart_in(unsigned int reg)
{
	return inb(COM1 + reg);
}

static void uart_out(unsigned int reg, uint8_t v)
{
	outb(COM1 + reg, v);
}

static void check_probe(void)
{
	uint8_t mcr;

	/* IER test: no port unless the low nibble holds what was written. */
	uart_out(UART_LCR, 0x03);
	uart_out(UART_IER, 0x00);
	GUEST_ASSERT_EQ(uart_in(UART_IER) & 0x0f, 0x00);
	uart_out(UART_IER, 0x0f);
	GUEST_ASSERT_EQ(uart_in(UART_IER) & 0x0f, 0x0f);
	uart_out(UART_IER, 0x00);

	uart_out(UART_SCR, 0xa5);
	GUEST_ASSERT_EQ(uart_in(UART_SCR), 0xa5);
	uart_out(UART_SCR, 0x5a);
	GUEST_ASSERT_EQ(uart_in(UART_SCR), 0x5a);

	GUEST_ASSERT_EQ(uart_in(UART_LSR) & (UART_LSR_THRE | UART_LSR_TEMT),
			UART_LSR_THRE | UART_LSR_TEMT);

	mcr = uart_in(UART_MCR);
	uart_out(UART_MCR, MCR_LOOP_TEST);
	GUEST_ASSERT_EQ(uart_in(UART_MSR) & 0xf0, 0x90);
	uart_out(UART_MCR, mcr);

	/* 16550A: the FIFO-enabled bits in IIR follow FCR bit 0. */
	uart_out(UART_FCR, 0x07);
	GUEST_ASSERT_EQ(uart_in(UART_IIR) & IIR_FIFO_ON, IIR_FIFO_ON);
	uart_out(UART_FCR, 0x00);
	GUEST_ASSERT_EQ(uart_in(UART_IIR) & IIR_FIFO_ON, 0);
	uart_out(UART_FCR, 0x07);
}

/* Enabling ETBEI with an empty THR must report THRI at once, every time (UART_BUG_THRE). */
static void check_thre_on_etbei(void)
{
	for (int i = 0; i < 2; i++) {
		uart_out(UART_IER, IER_THRI);
		GUEST_ASSERT_EQ(uart_in(UART_IIR) & IIR_ID_MASK, IIR_THRI);
		uart_out(UART_IER, 0);
	}
	GUEST_ASSERT_EQ(uart_in(UART_IIR) & IIR_ID_MASK, IIR_NO_INT);
}

static void com1_handler(struct ex_regs *regs)
{
	handler_iir = uart_in(UART_IIR);	/* reading IIR acknowledges THRI */
	thre_irqs++;
	lapic_eoi();
}

static void check_thre_irq(void)
{
	guest_timer_start();
	idt_set_handler(VECTOR, com1_handler);
	ioapic_route(GSI_COM1, VECTOR, lapic_id(), false, false);

	uart_out(UART_MCR, MCR_OUT2);	/* the PC's IRQ gate, in case the VMM honours it */
	uart_out(UART_IER, IER_THRI);
	GUEST_ASSERT(guest_wait_until(thre_irqs >= 1, WAIT_MS));
	GUEST_ASSERT_EQ(handler_iir, IIR_FIFO_ON | IIR_THRI);
	GUEST_ASSERT_EQ(uart_in(UART_IIR), IIR_FIFO_ON | IIR_NO_INT);

	/* Transmitting a byte empties THR again: a second interrupt. */
	uart_out(UART_THR, '\n');
	GUEST_ASSERT(guest_wait_until(thre_irqs >= 2, WAIT_MS));

	uart_out(UART_IER, 0);
	lapic_timer_stop();
}

int guest_main(void)
{
	check_probe();
	check_thre_on_etbei();
	uart_puts("test-uart: hello from COM1\r\n");
	check_thre_irq();
	return GUEST_EXIT_OK;
}
