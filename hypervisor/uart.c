// SPDX-License-Identifier: GPL-2.0-or-later
/* 16550A UART: registers as Linux's 8250 driver probes them (8250_port.c autoconfig). */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "console.h"
#include "uart.h"
#include "vm.h"

/* Register offsets. */
#define UART_RX		0	/* in: receive buffer; out: transmit holding; DLL with DLAB */
#define UART_IER	1	/* DLM with DLAB */
#define UART_IIR	2	/* in: interrupt identification; out: FIFO control */
#define UART_LCR	3
#define UART_MCR	4
#define UART_LSR	5
#define UART_MSR	6
#define UART_SCR	7

#define IER_RDI		0x01	/* receive data available */
#define IER_THRI	0x02	/* transmit holding register empty */
#define IER_MSI		0x08	/* modem status */
#define IIR_NO_INT	0x01
#define IIR_MSI		0x00
#define IIR_THRI	0x02
#define IIR_RDI		0x04
#define IIR_FIFO_ON	0xc0
#define FCR_ENABLE	0x01
#define FCR_CLEAR_RCVR	0x02
#define LCR_DLAB	0x80
#define MCR_DTR		0x01
#define MCR_RTS		0x02
#define MCR_OUT1	0x04
#define MCR_OUT2	0x08
#define MCR_LOOP	0x10
#define LSR_DR		0x01
#define LSR_THRE	0x20
#define LSR_TEMT	0x40
#define MSR_DELTAS	0x0f
#define MSR_CTS		0x10
#define MSR_DSR		0x20
#define MSR_RI		0x40
#define MSR_DCD		0x80

struct uart {
	struct vm *vm;
	uint16_t base;
	uint32_t gsi;
	pthread_mutex_t lock;		/* protects st; taken by vCPU threads and the main loop */
	struct uart_state st;
};

/* Modem lines: a connected terminal, or the MCR looped back in loopback mode. */
static uint8_t modem_status(const struct uart_state *st)
{
	if (!(st->mcr & MCR_LOOP))
		return MSR_DCD | MSR_DSR | MSR_CTS;
	return (st->mcr & MCR_RTS ? MSR_CTS : 0) | (st->mcr & MCR_DTR ? MSR_DSR : 0) |
	       (st->mcr & MCR_OUT1 ? MSR_RI : 0) | (st->mcr & MCR_OUT2 ? MSR_DCD : 0);
}

static void set_modem_status(struct uart_state *st)
{
	uint8_t now = modem_status(st);
	uint8_t changed = (now ^ st->msr) & 0xf0;

	st->msr = now | (st->msr & MSR_DELTAS) | (changed >> 4);
}

static uint8_t pending_iir(const struct uart_state *st)
{
	if ((st->ier & IER_RDI) && st->rx_count)
		return IIR_RDI;
	if ((st->ier & IER_THRI) && st->thr_ipending)
		return IIR_THRI;
	if ((st->ier & IER_MSI) && (st->msr & MSR_DELTAS))
		return IIR_MSI;
	return IIR_NO_INT;
}

/*
 * Drive the GSI at the level of the interrupt condition. The IOAPIC pin is edge-triggered,
 * so a THRE interrupt re-armed by an instant transmission needs @force_edge: drop the line
 * and raise it again, as a real UART's line would drop while the byte was on the wire.
 */
static void update_irq(struct uart *uart, bool force_edge)
{
	struct uart_state *st = &uart->st;
	uint8_t level = pending_iir(st) != IIR_NO_INT;

	if (force_edge && level && st->irq_level) {
		vm_irq_line(uart->vm, uart->gsi, 0);
		st->irq_level = 0;
	}
	if (level != st->irq_level) {
		vm_irq_line(uart->vm, uart->gsi, level);
		st->irq_level = level;
	}
}

static void rx_push(struct uart_state *st, uint8_t c)
{
	if (st->rx_count == UART_FIFO_SIZE)
		return;
	st->rx[(st->rx_head + st->rx_count) % UART_FIFO_SIZE] = c;
	st->rx_count++;
}

static uint8_t rx_pop(struct uart_state *st)
{
	uint8_t c;

	if (!st->rx_count)
		return 0;
	c = st->rx[st->rx_head];
	st->rx_head = (st->rx_head + 1) % UART_FIFO_SIZE;
	st->rx_count--;
	return c;
}

static void uart_write_reg(struct uart *uart, unsigned int off, uint8_t val)
{
	struct uart_state *st = &uart->st;
	bool dlab = st->lcr & LCR_DLAB;
	bool force_edge = false;

	switch (off) {
	case UART_RX:
		if (dlab) {
			st->dll = val;
			break;
		}
		if (st->mcr & MCR_LOOP)
			rx_push(st, val);
		else
			console_write(uart->vm->console, &val, 1);
		st->thr_ipending = 1;	/* sent at once: the holding register is empty again */
		force_edge = true;
		break;
	case UART_IER:
		if (dlab) {
			st->dlm = val;
			break;
		}
		/* Enabling THRI with an empty THR raises it at once (Linux tests for this). */
		if ((val & IER_THRI) && !(st->ier & IER_THRI))
			st->thr_ipending = 1;
		st->ier = val & 0x0f;
		break;
	case UART_IIR:
		st->fcr = val & 0xc9;
		if (val & FCR_CLEAR_RCVR)
			st->rx_head = st->rx_count = 0;
		break;
	case UART_LCR:
		st->lcr = val;
		break;
	case UART_MCR:
		st->mcr = val & 0x1f;
		set_modem_status(st);
		break;
	case UART_SCR:
		st->scr = val;
		break;
	default:
		break;			/* LSR and MSR are read-only */
	}
	update_irq(uart, force_edge);
}

static uint8_t uart_read_reg(struct uart *uart, unsigned int off)
{
	struct uart_state *st = &uart->st;
	bool dlab = st->lcr & LCR_DLAB;
	uint8_t val = 0;

	switch (off) {
	case UART_RX:
		val = dlab ? st->dll : rx_pop(st);
		break;
	case UART_IER:
		val = dlab ? st->dlm : st->ier;
		break;
	case UART_IIR:
		val = pending_iir(st);
		if (val == IIR_THRI)
			st->thr_ipending = 0;
		if (st->fcr & FCR_ENABLE)
			val |= IIR_FIFO_ON;
		break;
	case UART_LCR:
		val = st->lcr;
		break;
	case UART_MCR:
		val = st->mcr;
		break;
	case UART_LSR:
		val = LSR_THRE | LSR_TEMT | (st->rx_count ? LSR_DR : 0);
		break;
	case UART_MSR:
		val = st->msr;
		st->msr &= ~MSR_DELTAS;
		break;
	case UART_SCR:
		val = st->scr;
		break;
	}
	update_irq(uart, false);
	return val;
}

static void uart_io(void *opaque, unsigned int vcpu_id, uint64_t addr, uint8_t *data,
		    unsigned int len, bool is_write)
{
	struct uart *uart = opaque;
	unsigned int off = addr - uart->base;

	pthread_mutex_lock(&uart->lock);
	/* Wider accesses are unusual; each byte lane is treated as its own register. */
	for (unsigned int i = 0; i < len && off + i < 8; i++) {
		if (is_write)
			uart_write_reg(uart, off + i, data[i]);
		else
			data[i] = uart_read_reg(uart, off + i);
	}
	pthread_mutex_unlock(&uart->lock);
}

size_t uart_receive(struct uart *uart, const char *buf, size_t len)
{
	size_t n;

	pthread_mutex_lock(&uart->lock);
	n = UART_FIFO_SIZE - uart->st.rx_count;
	if (n > len)
		n = len;
	for (size_t i = 0; i < n; i++)
		rx_push(&uart->st, buf[i]);
	update_irq(uart, false);
	pthread_mutex_unlock(&uart->lock);
	return n;
}

int uart_create(struct vm *vm, uint16_t base, uint32_t gsi, struct uart **out)
{
	struct uart *uart = calloc(1, sizeof(*uart));
	int ret;

	if (!uart)
		return -ENOMEM;
	uart->vm = vm;
	uart->base = base;
	uart->gsi = gsi;
	pthread_mutex_init(&uart->lock, NULL);
	uart->st.msr = modem_status(&uart->st);
	uart->st.dll = 12;		/* 9600 baud, as firmware leaves it */
	ret = io_bus_register(&vm->pio, base, 8, uart_io, uart);
	if (ret) {
		uart_free(uart);
		return ret;
	}
	*out = uart;
	return 0;
}

void uart_free(struct uart *uart)
{
	if (!uart)
		return;
	pthread_mutex_destroy(&uart->lock);
	free(uart);
}

void uart_get_state(struct uart *uart, struct uart_state *st)
{
	pthread_mutex_lock(&uart->lock);
	*st = uart->st;
	pthread_mutex_unlock(&uart->lock);
}

int uart_set_state(struct uart *uart, const struct uart_state *st)
{
	if (st->rx_head >= UART_FIFO_SIZE || st->rx_count > UART_FIFO_SIZE)
		return -EINVAL;
	pthread_mutex_lock(&uart->lock);
	uart->st = *st;
	uart->st.irq_level = 0;
	update_irq(uart, false);
	pthread_mutex_unlock(&uart->lock);
	return 0;
}
