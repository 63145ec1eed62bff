// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test-hostile-io: a guest that writes garbage everywhere the VMM decodes I/O.
 *
 *   - PCI configuration mechanism #1 (0xcf8/0xcfc): random addresses, every width and
 *     byte offset, BAR sizing and random BAR and command values on bus 0;
 *   - COM1 (0x3f8-0x3ff) and the ACPI PM port 0x600 with random values;
 *   - every port 0x0000-0xffff: a byte read and a random byte write, and 2- and 4-byte
 *     accesses around the decoded ranges, every 64th port and at the very top;
 *   - MMIO reads and writes of every width across the 32-bit PCI hole
 *     0xc0000000-0xfbffffff and the unbacked space between the end of RAM (run it with
 *     --memory 64M) and the hole, including accesses that straddle a page.
 *
 * Writes that would legitimately end the run are filtered out byte by byte: the test
 * device's exit port, ACPI S5 or reset values on 0x600-0x603, the 8042 pulse-output
 * commands (0xf0-0xff) on 0x64, RST_CPU on 0xcf9 and the fast-reset bit of port 0x92.
 * Interrupts stay off (IF=0, LINT0 and the 8259s masked) whatever the garbage programs.
 *
 * Then the guest checks that the test device and COM1 still work and prints a line.
 *
 * Host side: domus-vmm --memory 64M --test-device survives (no crash, no poweroff or
 * reboot), exits with 64 and the console holds "test-hostile-io: survived".
 */
#include "libguest.h"

#define PCI_CONFIG_ADDR		0xcf8
#define PCI_CONFIG_DATA		0xcfc
#define PCI_ENABLE		0x80000000u
#define PCI_RANDOM_ROUNDS	4096

#define PCI_HOLE_START		0xc0000000UL
#define PCI_HOLE_END		0xfc000000UL
#define PCI_HOLE_STRIDE		0x10000UL
#define UNBACKED_START		0x4000000UL	/* 64 MiB: the --memory this test runs with */
#define UNBACKED_STRIDE		0x100000UL

static uint32_t rng_state = 0x2545f491;

/* xorshift32: a handful of instructions, which matters at ~1 us per emulated instruction */
static uint32_t rnd(void)
{
	uint32_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	rng_state = x;
	return x;
}

/* Would writing @v to @port end the run on purpose? */
static bool byte_ends_run(uint16_t port, uint8_t v)
{
	switch (port) {
	case TESTDEV_PORT_EXIT:
		return true;
	case 0x64:			/* 8042: 0xf0-0xff pulse output lines, bit 0 is reset */
		return v >= 0xf0;
	case 0x92:			/* System Control Port A: bit 0 is fast reset */
		return v & 0x01;
	case 0x600 ... 0x603:		/* SLEEP_CONTROL/RESET_REG: S5 with SLP_EN, reset value */
		return v == 0x01 || ((v & 0x20) && ((v >> 2) & 7) == 5);
	case 0xcf9:
		return v & 0x04;
	default:
		return false;
	}
}

/* A random write of @size bytes at @port, minus the bytes that would end the run. */
static void port_write(uint16_t port, unsigned int size)
{
	uint32_t v = rnd();

	for (unsigned int i = 0; i < size; i++) {
		uint16_t p = port + i;

		if (p == TESTDEV_PORT_EXIT || (p >= 0x600 && p <= 0x603 && size > 1))
			return;		/* do not even try a partial value on these */
		if (byte_ends_run(p, v >> (8 * i)))
			v &= ~(0xffu << (8 * i));	/* 0 ends nothing anywhere */
	}
	if (size == 1)
		outb(port, v);
	else if (size == 2)
		outw(port, v);
	else
		outl(port, v);
}

static void port_read(uint16_t port, unsigned int size)
{
	if (size == 1)
		inb(port);
	else if (size == 2)
		inw(port);
	else
		inl(port);
}

static void hostile_pci(void)
{
	/* Bus 0, every device and function: size the BARs, then scribble on the header. */
	for (uint32_t devfn = 0; devfn < 256; devfn++) {
		uint32_t base = PCI_ENABLE | devfn << 8;

		for (uint32_t reg = 0; reg < 0x40; reg += 4) {
			outl(PCI_CONFIG_ADDR, base | reg);
			inl(PCI_CONFIG_DATA);
			if (reg >= 0x10 && reg <= 0x24) {
				outl(PCI_CONFIG_DATA, 0xffffffff);
				inl(PCI_CONFIG_DATA);
			}
			port_write(PCI_CONFIG_DATA, 4);
		}
	}
	/* Random addresses (enabled or not, any bus, any offset) and random accesses. */
	for (int i = 0; i < PCI_RANDOM_ROUNDS; i++) {
		uint32_t r = rnd();
		uint16_t port = PCI_CONFIG_DATA + (r & 3);
		unsigned int size = 1 << ((r >> 2) % 3);

		outl(PCI_CONFIG_ADDR, rnd());
		if (r & 0x10)
			port_write(port, size);
		else
			port_read(port, size);
		if (r & 0x20)
			port_write(PCI_CONFIG_ADDR + (r >> 6) % 4, 1);
	}
}

static void hostile_uart_pm(void)
{
	for (int i = 0; i < 2048; i++) {
		uint32_t r = rnd();

		port_write(COM1 + (r & 7), 1);
		port_read(COM1 + ((r >> 3) & 7), 1);
		port_write(0x600 + ((r >> 6) & 3), 1);
		port_read(0x600, 1 << ((r >> 8) % 3));
	}
}

/* Ports where wider accesses are worth their time: decoded ranges, their edges, the top. */
static bool try_wide(uint32_t port)
{
	return port < 0x100 || (port & 0x3f) == 0 || (port >= 0x3f0 && port < 0x400) ||
	       (port >= 0x5f8 && port < 0x610) || (port >= 0xcf0 && port < 0xd00) ||
	       port >= 0xfffc;
}

/* Each port takes ~20 instructions here: at ~1.2 us each under emulation, keep it so. */
static void hostile_all_ports(void)
{
	for (uint32_t port = 0; port <= 0xffff; port++) {
		uint8_t v = rnd();

		inb(port);
		if (port == TESTDEV_PORT_EXIT)
			continue;
		outb(port, byte_ends_run(port, v) ? 0 : v);
		if (!try_wide(port))
			continue;
		for (unsigned int size = 2; size <= 4; size <<= 1) {
			port_read(port, size);
			port_write(port, size);
		}
	}
}

static void mmio_garbage(uintptr_t addr)
{
	uint32_t r = rnd();

	switch (r & 3) {
	case 0:
		mmio_read8(addr);
		mmio_write8(addr, r >> 8);
		break;
	case 1:
		mmio_read16(addr);
		mmio_write16(addr, r >> 8);
		break;
	case 2:
		mmio_read32(addr);
		mmio_write32(addr, r);
		break;
	default:
		mmio_read64(addr);
		mmio_write64(addr, (uint64_t)rnd() << 32 | r);
		break;
	}
}

static void hostile_mmio(void)
{
	for (uintptr_t a = UNBACKED_START; a < PCI_HOLE_START; a += UNBACKED_STRIDE)
		mmio_garbage(a + (rnd() & 0xff8));
	for (uintptr_t a = PCI_HOLE_START; a < PCI_HOLE_END; a += PCI_HOLE_STRIDE) {
		mmio_garbage(a + (rnd() & 0xfff));
		/* Straddle the page boundary: KVM splits it into two exits. */
		mmio_write64(a + 0xffc, 0x0123456789abcdefULL);
		mmio_read64(a + 0xffd);
	}
}

/* The VMM still decodes the test device and COM1 as before. */
static void check_alive(void)
{
	mmio_write64(TESTDEV_MMIO, 0x1122334455667788ULL);
	GUEST_ASSERT_EQ(mmio_read64(TESTDEV_MMIO), 0x1122334455667788ULL);
	GUEST_ASSERT_EQ(guest_vcpu_id(), 0);

	outb(COM1 + UART_LCR, 0x03);
	outb(COM1 + UART_IER, 0x00);
	outb(COM1 + UART_MCR, 0x00);
	outb(COM1 + UART_FCR, 0x07);
	GUEST_ASSERT_EQ(inb(COM1 + UART_LSR) & (UART_LSR_THRE | UART_LSR_TEMT),
			UART_LSR_THRE | UART_LSR_TEMT);
	outb(COM1 + UART_SCR, 0x5a);
	GUEST_ASSERT_EQ(inb(COM1 + UART_SCR), 0x5a);
	uart_puts("\r\ntest-hostile-io: survived\r\n");
}

int guest_main(void)
{
	/* Mask LINT0 and the 8259s before the garbage can program them; IF stays 0. */
	idt_init();
	lapic_enable();

	hostile_pci();
	hostile_uart_pm();
	hostile_all_ports();
	hostile_mmio();
	check_alive();
	return GUEST_EXIT_OK;
}
