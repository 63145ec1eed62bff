/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * 16550A UART (COM1): the guest's console. Transmission is instant, so the line status
 * always reports THRE|TEMT and Linux's console never waits on it.
 */
#ifndef DOMUS_UART_H
#define DOMUS_UART_H

#include <stddef.h>
#include <stdint.h>

#define UART_FIFO_SIZE 4096	/* generous: host input is not flow-controlled */

struct vm;

/* Everything that defines the device to the guest: saved and restored as is. */
struct uart_state {
	uint8_t ier, lcr, mcr, msr, scr, fcr, dll, dlm;
	uint8_t thr_ipending;		/* THRE interrupt pending (cleared by IIR read/THR write) */
	uint8_t irq_level;		/* level currently driven on the GSI */
	uint16_t rx_head, rx_count;
	uint8_t rx[UART_FIFO_SIZE];
};

struct uart;

int uart_create(struct vm *vm, uint16_t base, uint32_t gsi, struct uart **out);
void uart_free(struct uart *uart);

/* Host input for the guest (main thread). Bytes beyond the FIFO's room are dropped. */
size_t uart_receive(struct uart *uart, const char *buf, size_t len);

void uart_get_state(struct uart *uart, struct uart_state *st);
int uart_set_state(struct uart *uart, const struct uart_state *st);

#endif
