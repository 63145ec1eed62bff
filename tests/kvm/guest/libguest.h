/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libguest: the runtime of the kvm suite's tiny guests (tests/kvm/test-*.c).
 *
 * A tiny guest is a freestanding x86-64 ELF that domus-vmm enters in 64-bit mode at CPL 0
 * with paging on (identity map of 0-4 GiB), IF=0 and no IDT. crt0.S sets up a stack, calls
 * guest_main() and reports its return value through the test device's exit port, so the
 * VMM exits with status 64 + value: 64 means success.
 *
 * Guest-to-host ABI (domus-vmm --test-device):
 *   port 0xf4 out   - stop the VMM, exit status 64 + (value & 63)
 *   port 0xf5 out32 - "domus-vmm: testdev: report vcpu=<id> value=0x<hex>" on stderr
 *   port 0xf5 in32  - the accessing vCPU's id
 *   port 0xf6 out8  - pulse GSI n
 *   0xfc000000      - MMIO scratch register (8 bytes) and write counter (offset 8)
 *
 * Where the guest runs matters: on a host without VMX/SVM, KVM interprets every CPL-0
 * instruction (about 1.2 us each), so loops are bounded and waits sleep in hlt on the
 * LAPIC timer (guest_wait_until) instead of spinning.
 */
#ifndef LIBGUEST_H
#define LIBGUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Test device */
#define TESTDEV_PORT_EXIT	0xf4
#define TESTDEV_PORT_REPORT	0xf5
#define TESTDEV_PORT_IRQ	0xf6
#define TESTDEV_MMIO		0xfc000000UL
#define TESTDEV_MMIO_SCRATCH	0x0
#define TESTDEV_MMIO_WRITES	0x8

/* guest_main() return values and exit values: the VMM exits with 64 + value. */
#define GUEST_EXIT_OK		0
#define GUEST_EXIT_ASSERT	1	/* a GUEST_ASSERT failed; the line was reported */
#define GUEST_EXIT_UNEXPECTED	2	/* an exception or interrupt nobody expected */
#define GUEST_EXIT_RETURNED	3	/* code that must not return did (poweroff, reboot) */

/* COM1 */
#define COM1			0x3f8
#define UART_THR		0
#define UART_RBR		0
#define UART_IER		1
#define UART_IIR		2
#define UART_FCR		2
#define UART_LCR		3
#define UART_MCR		4
#define UART_LSR		5
#define UART_MSR		6
#define UART_SCR		7
#define UART_LSR_THRE		0x20
#define UART_LSR_TEMT		0x40

/* Local APIC (xAPIC MMIO) and IOAPIC */
#define LAPIC_BASE		0xfee00000UL
#define LAPIC_ID		0x020
#define LAPIC_TPR		0x080
#define LAPIC_EOI		0x0b0
#define LAPIC_SVR		0x0f0
#define LAPIC_ICR_LO		0x300
#define LAPIC_ICR_HI		0x310
#define LAPIC_LVT_TIMER		0x320
#define LAPIC_LVT_LINT0		0x350
#define LAPIC_TIMER_ICR		0x380
#define LAPIC_TIMER_CCR		0x390
#define LAPIC_TIMER_DCR		0x3e0
#define LAPIC_SVR_ENABLE	0x100
#define LAPIC_LVT_MASKED	0x10000
#define LAPIC_LVT_PERIODIC	0x20000
#define LAPIC_ICR_BUSY		0x1000
#define LAPIC_ICR_INIT		0x4500	/* INIT, level assert */
#define LAPIC_ICR_SIPI		0x4600	/* STARTUP, level assert; | vector (page number) */
#define MSR_IA32_APICBASE	0x1b
#define APICBASE_ENABLE		0x800

#define PIC1_DATA		0x21	/* 8259 interrupt mask registers */
#define PIC2_DATA		0xa1

#define IOAPIC_BASE		0xfec00000UL
#define IOAPIC_REGSEL		0x00
#define IOAPIC_WIN		0x10
#define IOAPIC_REDTBL(pin)	(0x10 + 2 * (pin))
#define IOAPIC_LEVEL		0x8000
#define IOAPIC_MASKED		0x10000

/* Vectors libguest itself uses */
#define VECTOR_TIMER		0x30	/* guest_timer_start(): the watchdog tick */
#define VECTOR_SPURIOUS		0xff
#define GUEST_TICK_MS		10

#ifdef __FILE_NAME__
#define GUEST_FILE __FILE_NAME__
#else
#define GUEST_FILE __FILE__
#endif

#define GUEST_ASSERT(cond)                                                                         \
	do {                                                                                       \
		if (!(cond))                                                                       \
			guest_assert_fail(GUEST_FILE, __LINE__, #cond);                            \
	} while (0)

/* Like GUEST_ASSERT((a) == (b)), and the console line shows both values. */
#define GUEST_ASSERT_EQ(a, b)                                                                      \
	do {                                                                                       \
		uint64_t __a = (a), __b = (b);                                                     \
		if (__a != __b)                                                                    \
			guest_assert_eq_fail(GUEST_FILE, __LINE__, #a, #b, __a, __b);              \
	} while (0)

#define READ_ONCE(x) (*(const volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, v) (*(volatile __typeof__(x) *)&(x) = (v))
#define barrier() __asm__ __volatile__("" ::: "memory")

/*
 * Ring 3 (guest_enter_user() below): port I/O from CPL 3 traps to CPL 0 with a UD2 whose
 * #UD handler does the access, because neither IOPL 3, software interrupts nor SYSCALL
 * work from CPL 3 everywhere (KVM without VMX/SVM runs user mode natively, under the
 * host's rules), while exceptions do.
 * The port helpers below check the CPL, so the test device, COM1 and GUEST_ASSERT work in
 * both rings.
 */
static inline uint16_t read_cs(void)
{
	uint16_t cs;

	__asm__ __volatile__("mov %%cs, %0" : "=r"(cs));
	return cs;
}

static inline bool guest_in_user(void)
{
	return (read_cs() & 3) == 3;
}

/* From CPL 3: one port access of @size bytes done at CPL 0. Return: the value read. */
uint32_t guest_user_io(uint16_t port, uint32_t value, unsigned int size, bool is_write);

/* Port I/O */
static inline void outb(uint16_t port, uint8_t v)
{
	if (guest_in_user()) {
		guest_user_io(port, v, 1, true);
		return;
	}
	__asm__ __volatile__("outb %0, %1" : : "a"(v), "Nd"(port) : "memory");
}

static inline void outw(uint16_t port, uint16_t v)
{
	if (guest_in_user()) {
		guest_user_io(port, v, 2, true);
		return;
	}
	__asm__ __volatile__("outw %0, %1" : : "a"(v), "Nd"(port) : "memory");
}

static inline void outl(uint16_t port, uint32_t v)
{
	if (guest_in_user()) {
		guest_user_io(port, v, 4, true);
		return;
	}
	__asm__ __volatile__("outl %0, %1" : : "a"(v), "Nd"(port) : "memory");
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	if (guest_in_user())
		return guest_user_io(port, 0, 1, false);
	__asm__ __volatile__("inb %1, %0" : "=a"(v) : "Nd"(port) : "memory");
	return v;
}

static inline uint16_t inw(uint16_t port)
{
	uint16_t v;

	if (guest_in_user())
		return guest_user_io(port, 0, 2, false);
	__asm__ __volatile__("inw %1, %0" : "=a"(v) : "Nd"(port) : "memory");
	return v;
}

static inline uint32_t inl(uint16_t port)
{
	uint32_t v;

	if (guest_in_user())
		return guest_user_io(port, 0, 4, false);
	__asm__ __volatile__("inl %1, %0" : "=a"(v) : "Nd"(port) : "memory");
	return v;
}

/*
 * MMIO: one mov of exactly the given width, so that each call is one KVM_EXIT_MMIO (the
 * compiler may neither merge nor split it).
 */
static inline void mmio_write8(uintptr_t addr, uint8_t v)
{
	__asm__ __volatile__("movb %0, (%1)" : : "q"(v), "r"(addr) : "memory");
}

static inline void mmio_write16(uintptr_t addr, uint16_t v)
{
	__asm__ __volatile__("movw %0, (%1)" : : "r"(v), "r"(addr) : "memory");
}

static inline void mmio_write32(uintptr_t addr, uint32_t v)
{
	__asm__ __volatile__("movl %0, (%1)" : : "r"(v), "r"(addr) : "memory");
}

static inline void mmio_write64(uintptr_t addr, uint64_t v)
{
	__asm__ __volatile__("movq %0, (%1)" : : "r"(v), "r"(addr) : "memory");
}

static inline uint8_t mmio_read8(uintptr_t addr)
{
	uint8_t v;

	__asm__ __volatile__("movb (%1), %0" : "=q"(v) : "r"(addr) : "memory");
	return v;
}

static inline uint16_t mmio_read16(uintptr_t addr)
{
	uint16_t v;

	__asm__ __volatile__("movw (%1), %0" : "=r"(v) : "r"(addr) : "memory");
	return v;
}

static inline uint32_t mmio_read32(uintptr_t addr)
{
	uint32_t v;

	__asm__ __volatile__("movl (%1), %0" : "=r"(v) : "r"(addr) : "memory");
	return v;
}

static inline uint64_t mmio_read64(uintptr_t addr)
{
	uint64_t v;

	__asm__ __volatile__("movq (%1), %0" : "=r"(v) : "r"(addr) : "memory");
	return v;
}

static inline void cli(void)
{
	if (!guest_in_user())	/* CPL 3 runs with IF=0 anyway */
		__asm__ __volatile__("cli" : : : "memory");
}

/* sti; hlt: the STI shadow makes the pair atomic, so a pending interrupt wakes the hlt. */
static inline void safe_halt(void)
{
	__asm__ __volatile__("sti; hlt; cli" : : : "memory");
}

static inline void cpu_relax(void)
{
	__asm__ __volatile__("pause" : : : "memory");
}

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	__asm__ __volatile__("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ __volatile__("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32))
			     : "memory");
}

/* Test device */
static inline void guest_report(uint32_t value)
{
	outl(TESTDEV_PORT_REPORT, value);
}

static inline uint32_t guest_vcpu_id(void)
{
	return inl(TESTDEV_PORT_REPORT);
}

static inline void guest_pulse_gsi(uint8_t gsi)
{
	outb(TESTDEV_PORT_IRQ, gsi);
}

/* Stop the VMM with status 64 + (code & 63); does not return. */
void guest_exit(uint32_t code) __attribute__((noreturn));
void guest_assert_fail(const char *file, int line, const char *cond) __attribute__((noreturn));
void guest_assert_eq_fail(const char *file, int line, const char *a, const char *b, uint64_t va,
			  uint64_t vb) __attribute__((noreturn));

/* COM1 output, polling LSR.THRE a bounded number of times per byte. */
void uart_putc(char c);
void uart_puts(const char *s);
void uart_put_hex(uint64_t v);

/*
 * Interrupts. idt_init() installs a 256-entry IDT whose stubs (crt0.S) save the registers
 * and call the handler set for the vector; a vector without a handler ends the test with
 * GUEST_EXIT_UNEXPECTED after reporting 0xdead0000 | vector.
 */
struct ex_regs {
	uint64_t rax, rcx, rdx, rbx, rbp, rsi, rdi;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t vector, error_code;
	uint64_t rip, cs, rflags, rsp, ss;	/* pushed by the CPU */
};

typedef void (*guest_handler_fn)(struct ex_regs *regs);

void idt_init(void);
void idt_set_handler(unsigned int vector, guest_handler_fn fn);

/* Local APIC */
static inline uint32_t lapic_read(unsigned int reg)
{
	return mmio_read32(LAPIC_BASE + reg);
}

static inline void lapic_write(unsigned int reg, uint32_t v)
{
	mmio_write32(LAPIC_BASE + reg, v);
}

static inline void lapic_eoi(void)
{
	lapic_write(LAPIC_EOI, 0);
}

static inline uint32_t lapic_id(void)
{
	return lapic_read(LAPIC_ID) >> 24;
}

void lapic_enable(void);
void lapic_timer_periodic(uint8_t vector, uint32_t count);
void lapic_timer_stop(void);
/*
 * Send INIT, then two STARTUPs for the real-mode code at @start_gpa (page aligned, < 1 MiB).
 * The delays between them sleep on the watchdog clock: call guest_timer_start() first.
 */
void lapic_start_ap(uint32_t apic_id, uint32_t start_gpa);

/*
 * Copy the .trampoline section (16-bit code linked to run at TRAMPOLINE_GPA, see guest.ld)
 * into place. Return: TRAMPOLINE_GPA, the start address for lapic_start_ap().
 */
#define TRAMPOLINE_GPA		0x8000
uint32_t trampoline_install(void);

/* IOAPIC: route @pin to @vector on @apic_id, fixed delivery, physical destination. */
void ioapic_route(unsigned int pin, uint8_t vector, uint32_t apic_id, bool level, bool masked);
uint32_t ioapic_read(unsigned int reg);
void ioapic_write(unsigned int reg, uint32_t v);

/*
 * The watchdog clock: guest_timer_start() sets up the IDT (if not yet), enables the LAPIC
 * and makes its timer tick every GUEST_TICK_MS on VECTOR_TIMER, counting guest_ticks.
 * guest_wait_until() sleeps in hlt until @cond holds or @timeout_ms passed, and evaluates
 * to the final value of @cond. Call it with IF=0; it returns with IF=0.
 */
extern volatile uint64_t guest_ticks;
void guest_timer_start(void);

#define guest_wait_until(cond, timeout_ms)                                                         \
	({                                                                                         \
		uint64_t __end = guest_ticks + (timeout_ms) / GUEST_TICK_MS + 1;                   \
		bool __ok;                                                                         \
		while (!(__ok = (cond)) && guest_ticks < __end)                                    \
			safe_halt();                                                               \
		__ok;                                                                              \
	})

/*
 * Ring 3. On a host without VMX/SVM only CPL-0 code is interpreted; user-mode code runs
 * natively, so tests that need speed (save/restore of a guest busy with memory) run there.
 * guest_enter_user() loads a GDT with user segments (0x23 data, 0x2b code) and a TSS whose
 * RSP0 takes exceptions, makes the identity map user-accessible, takes #UD for
 * guest_user_io(), and IRETs to @fn on @stack_top at CPL 3 with IF=0. @fn must not return: it ends
 * with guest_exit().
 */
#define USER_DS			0x23
#define USER_CS			0x2b
void guest_enter_user(void (*fn)(void), void *stack_top) __attribute__((noreturn));

/* Freestanding helpers the compiler may call. */
void *memset(void *s, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);

int guest_main(void);

#endif
