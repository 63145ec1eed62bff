// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test-console: host input reaches the guest through COM1, guest output reaches the host.
 *
 * The guest prints "console ready", then waits (bounded) for bytes on the receive side of
 * the UART and echoes each as "got: <c>" until it receives 'q'; then it waits for one more
 * byte, the host's word that it read the echo (a pty loses unread output when the VMM
 * exits), and exits with success. An 'r' resets the machine after its echo (8042 pulse, as
 * reboot=k): with --on-reboot restart the VMM starts it again, and the same console session
 * must see "console ready" once more. tests/kvm/console-test drives it over the socket and
 * pty console backends.
 */
#include "libguest.h"

#define UART_LSR_DR	0x01
#define POLL_LIMIT	20000000

static int getc_bounded(void)
{
	for (long i = 0; i < POLL_LIMIT; i++) {
		if (inb(COM1 + UART_LSR) & UART_LSR_DR)
			return inb(COM1 + UART_RBR);
		__asm__ __volatile__("pause");
	}
	return -1;
}

int guest_main(void)
{
	char line[] = "got: ?\n";
	int c;

	uart_puts("console ready\n");
	do {
		c = getc_bounded();
		GUEST_ASSERT(c >= 0);	/* no input in time: fail instead of hanging */
		line[5] = (char)c;
		uart_puts(line);
		if (c == 'r') {
			outb(0x64, 0xfe);
			GUEST_ASSERT(0);	/* still running: the reset was ignored */
		}
	} while (c != 'q');
	GUEST_ASSERT(getc_bounded() >= 0);
	return GUEST_EXIT_OK;
}
