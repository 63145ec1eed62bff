// SPDX-License-Identifier: GPL-2.0-or-later
/* libguest: test device, COM1, IDT, LAPIC and IOAPIC helpers for the tiny guests. */
#include "libguest.h"

/* A byte takes no time on domus-vmm's UART; this only stops a broken LSR from hanging us. */
#define UART_POLL_MAX		1000

struct idt_entry {
	uint16_t offset0;
	uint16_t selector;
	uint8_t ist;
	uint8_t type_attr;
	uint16_t offset1;
	uint32_t offset2;
	uint32_t reserved;
} __attribute__((packed));

struct desc_ptr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

#define KERNEL_CS		0x10	/* domus-vmm's 64-bit code selector */
#define IDT_INTERRUPT_GATE	0x8e	/* present, DPL 0, 64-bit interrupt gate (IF cleared) */

extern const uint64_t idt_stubs[256];	/* crt0.S */

static struct idt_entry idt[256] __attribute__((aligned(16)));
static guest_handler_fn handlers[256];
static bool idt_loaded;

volatile uint64_t guest_ticks;

void *memset(void *s, int c, size_t n)
{
	unsigned char *p = s;

	while (n--)
		*p++ = c;
	return s;
}

void *memcpy(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	while (n--)
		*d++ = *s++;
	return dst;
}

void guest_exit(uint32_t code)
{
	outl(TESTDEV_PORT_EXIT, code);
	/* The VMM stops the vCPU; until it does (or if it ignored the port) stay here. */
	for (;;) {
		if (guest_in_user())
			cpu_relax();	/* no cli/hlt at CPL 3 */
		else
			__asm__ __volatile__("cli; hlt");
	}
}

void uart_putc(char c)
{
	for (int i = 0; i < UART_POLL_MAX; i++) {
		if (inb(COM1 + UART_LSR) & UART_LSR_THRE)
			break;
	}
	outb(COM1 + UART_THR, c);
}

void uart_puts(const char *s)
{
	while (*s)
		uart_putc(*s++);
}

void uart_put_hex(uint64_t v)
{
	static const char digits[] = "0123456789abcdef";
	int shift = 60;

	uart_puts("0x");
	while (shift > 0 && !(v >> shift))
		shift -= 4;
	for (; shift >= 0; shift -= 4)
		uart_putc(digits[(v >> shift) & 0xf]);
}

static void uart_put_dec(unsigned int v)
{
	char buf[12];
	int i = sizeof(buf);

	buf[--i] = '\0';
	do {
		buf[--i] = '0' + v % 10;
		v /= 10;
	} while (v);
	uart_puts(&buf[i]);
}

/*
 * The line number goes to the report port first, so that it reaches the host even when the
 * failing test left COM1 in loopback or with DLAB set; then a readable line on the console.
 */
static void assert_begin(const char *file, int line)
{
	cli();
	guest_report(line);
	outb(COM1 + UART_LCR, 0x03);	/* 8n1, DLAB off: THR is the transmit register again */
	outb(COM1 + UART_MCR, 0x00);	/* no loopback */
	uart_puts("GUEST_ASSERT failed: ");
	uart_puts(file);
	uart_putc(':');
	uart_put_dec(line);
	uart_puts(": ");
}

void guest_assert_fail(const char *file, int line, const char *cond)
{
	assert_begin(file, line);
	uart_puts(cond);
	uart_puts("\r\n");
	guest_exit(GUEST_EXIT_ASSERT);
}

void guest_assert_eq_fail(const char *file, int line, const char *a, const char *b, uint64_t va,
			  uint64_t vb)
{
	assert_begin(file, line);
	uart_puts(a);
	uart_puts(" == ");
	uart_puts(b);
	uart_puts(" (");
	uart_put_hex(va);
	uart_puts(" != ");
	uart_put_hex(vb);
	uart_puts(")\r\n");
	guest_exit(GUEST_EXIT_ASSERT);
}

/* Called by the stubs in crt0.S with interrupts off, on the interrupted stack. */
void idt_dispatch(struct ex_regs *regs);
void idt_dispatch(struct ex_regs *regs)
{
	guest_handler_fn fn = handlers[regs->vector & 0xff];

	if (fn) {
		fn(regs);
		return;
	}
	guest_report(0xdead0000 | regs->vector);
	uart_puts("unexpected vector ");
	uart_put_hex(regs->vector);
	uart_puts(" error code ");
	uart_put_hex(regs->error_code);
	uart_puts(" at rip ");
	uart_put_hex(regs->rip);
	uart_puts("\r\n");
	guest_exit(GUEST_EXIT_UNEXPECTED);
}

void idt_init(void)
{
	struct desc_ptr idtr = { .limit = sizeof(idt) - 1, .base = (uintptr_t)idt };

	if (idt_loaded)
		return;
	for (int i = 0; i < 256; i++) {
		uint64_t addr = idt_stubs[i];

		idt[i] = (struct idt_entry){
			.offset0 = addr & 0xffff,
			.selector = KERNEL_CS,
			.type_attr = IDT_INTERRUPT_GATE,
			.offset1 = (addr >> 16) & 0xffff,
			.offset2 = addr >> 32,
		};
	}
	__asm__ __volatile__("lidt %0" : : "m"(idtr) : "memory");
	idt_loaded = true;
}

void idt_set_handler(unsigned int vector, guest_handler_fn fn)
{
	handlers[vector & 0xff] = fn;
}

static void spurious_handler(struct ex_regs *regs)
{
	/* A spurious interrupt has no EOI. */
}

void lapic_enable(void)
{
	uint64_t base = rdmsr(MSR_IA32_APICBASE);

	/* KVM resets the APIC base MSR to enabled; only write it when it is not. */
	if (!(base & APICBASE_ENABLE))
		wrmsr(MSR_IA32_APICBASE, base | APICBASE_ENABLE);
	/*
	 * KVM resets the BSP's LINT0 to ExtINT and the 8259s unmasked with vector base 0, so a
	 * pulse on GSI 0-15 would also arrive through the PIC as vector 0-15. No firmware ran to
	 * set that up: mask both 8259s and LINT0, as Linux does when it uses the IOAPIC.
	 */
	outb(PIC1_DATA, 0xff);
	outb(PIC2_DATA, 0xff);
	lapic_write(LAPIC_LVT_LINT0, LAPIC_LVT_MASKED);
	idt_set_handler(VECTOR_SPURIOUS, spurious_handler);
	lapic_write(LAPIC_TPR, 0);
	lapic_write(LAPIC_SVR, LAPIC_SVR_ENABLE | VECTOR_SPURIOUS);
}

/* KVM's APIC bus runs at 1 GHz: with divide-by-1 a count is in nanoseconds. */
void lapic_timer_periodic(uint8_t vector, uint32_t count)
{
	lapic_write(LAPIC_TIMER_DCR, 0xb);	/* divide by 1 */
	lapic_write(LAPIC_LVT_TIMER, LAPIC_LVT_PERIODIC | vector);
	lapic_write(LAPIC_TIMER_ICR, count);
}

void lapic_timer_stop(void)
{
	lapic_write(LAPIC_TIMER_ICR, 0);
	lapic_write(LAPIC_LVT_TIMER, LAPIC_LVT_MASKED);
}

static void lapic_send_ipi(uint32_t apic_id, uint32_t icr_lo)
{
	lapic_write(LAPIC_ICR_HI, apic_id << 24);
	lapic_write(LAPIC_ICR_LO, icr_lo);
	for (int i = 0; i < 1000 && (lapic_read(LAPIC_ICR_LO) & LAPIC_ICR_BUSY); i++)
		cpu_relax();
}

/*
 * The INIT-SIPI-SIPI sequence (Intel SDM Vol. 3 §9.4.4). The delays are the architectural
 * ones; under KVM the second SIPI is ignored when the first one already started the AP.
 */
void lapic_start_ap(uint32_t apic_id, uint32_t start_gpa)
{
	lapic_send_ipi(apic_id, LAPIC_ICR_INIT);
	guest_wait_until(false, 10);
	lapic_send_ipi(apic_id, LAPIC_ICR_SIPI | (start_gpa >> 12));
	guest_wait_until(false, 1);
	lapic_send_ipi(apic_id, LAPIC_ICR_SIPI | (start_gpa >> 12));
}

/* guest.ld: where the .trampoline section is stored in the image, and its size. */
extern const char __trampoline_load[], __trampoline_size[];

uint32_t trampoline_install(void)
{
	size_t size = (uintptr_t)__trampoline_size;

	GUEST_ASSERT(size > 0);
	memcpy((void *)TRAMPOLINE_GPA, __trampoline_load, size);
	return TRAMPOLINE_GPA;
}

uint32_t ioapic_read(unsigned int reg)
{
	mmio_write32(IOAPIC_BASE + IOAPIC_REGSEL, reg);
	return mmio_read32(IOAPIC_BASE + IOAPIC_WIN);
}

void ioapic_write(unsigned int reg, uint32_t v)
{
	mmio_write32(IOAPIC_BASE + IOAPIC_REGSEL, reg);
	mmio_write32(IOAPIC_BASE + IOAPIC_WIN, v);
}

void ioapic_route(unsigned int pin, uint8_t vector, uint32_t apic_id, bool level, bool masked)
{
	uint32_t lo = vector;

	if (level)
		lo |= IOAPIC_LEVEL;
	if (masked)
		lo |= IOAPIC_MASKED;
	/* Destination first, so that the entry is never live with a stale one. */
	ioapic_write(IOAPIC_REDTBL(pin) + 1, apic_id << 24);
	ioapic_write(IOAPIC_REDTBL(pin), lo);
}

static void timer_handler(struct ex_regs *regs)
{
	guest_ticks++;
	lapic_eoi();
}

void guest_timer_start(void)
{
	idt_init();
	lapic_enable();
	idt_set_handler(VECTOR_TIMER, timer_handler);
	lapic_timer_periodic(VECTOR_TIMER, GUEST_TICK_MS * 1000000);
}

/* ---- ring 3 ---- */

struct tss64 {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iopb;
} __attribute__((packed));

#define GDT_TSS_SEL		0x30
#define KERNEL_STACK_SIZE	8192
#define PTE_USER		0x4ULL

static uint64_t gdt[8] __attribute__((aligned(16))) = {
	[2] = 0x00af9a000000ffffULL,	/* 0x10: kernel code, 64-bit (as the VMM's GDT) */
	[3] = 0x00cf92000000ffffULL,	/* 0x18: kernel data */
	[4] = 0x00cff2000000ffffULL,	/* 0x20: user data, DPL 3 */
	[5] = 0x00affa000000ffffULL,	/* 0x28: user code, 64-bit, DPL 3 */
};
static struct tss64 tss __attribute__((aligned(16)));
static uint8_t kernel_stack[KERNEL_STACK_SIZE] __attribute__((aligned(16)));

static void set_tss_descriptor(void)
{
	uint64_t base = (uintptr_t)&tss, limit = sizeof(tss) - 1;

	gdt[6] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ULL << 40) |
		 (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
	gdt[7] = base >> 32;
}

/* The VMM's identity map (PML4 -> PDPT -> 2 MiB pages): allow user access at every level. */
static void make_map_user(void)
{
	uint64_t cr3, *pml4, *pdpt;

	__asm__ __volatile__("mov %%cr3, %0" : "=r"(cr3));
	pml4 = (uint64_t *)(cr3 & ~0xfffULL);
	pml4[0] |= PTE_USER;
	pdpt = (uint64_t *)(pml4[0] & 0xffffffffff000ULL);
	for (int i = 0; i < 4; i++) {
		uint64_t *pd = (uint64_t *)(pdpt[i] & 0xffffffffff000ULL);

		pdpt[i] |= PTE_USER;
		for (int j = 0; j < 512; j++)
			pd[j] |= PTE_USER;
	}
	__asm__ __volatile__("mov %0, %%cr3" : : "r"(cr3) : "memory");
}

#define USER_IO_WRITE		0x100
#define VECTOR_UD		6

/*
 * The CPL 3 -> CPL 0 call of guest_user_io() is a UD2 whose #UD handler does the access and
 * steps over it. Exceptions from CPL 3 reach the guest's IDT everywhere; software
 * interrupts (#UD) and SYSCALL (lands at CPL 3) do not where KVM runs user mode natively
 * without VMX/SVM.
 */
uint32_t guest_user_io(uint16_t port, uint32_t value, unsigned int size, bool is_write)
{
	register uint64_t rdi __asm__("rdi") = value;
	register uint64_t rsi __asm__("rsi") = port;
	register uint64_t rdx __asm__("rdx") = size | (is_write ? USER_IO_WRITE : 0);
	uint64_t rax;

	__asm__ __volatile__("ud2" : "=a"(rax) : "r"(rdi), "r"(rsi), "r"(rdx) : "memory");
	return rax;
}

static void user_io_handler(struct ex_regs *regs)
{
	const uint8_t *insn = (const uint8_t *)regs->rip;
	uint16_t port = regs->rsi;
	unsigned int size = regs->rdx & 0xff;

	if (!(regs->cs & 3) || insn[0] != 0x0f || insn[1] != 0x0b) {
		guest_report(0xdead0000 | VECTOR_UD);
		uart_puts("unexpected #UD at rip ");
		uart_put_hex(regs->rip);
		uart_puts("\r\n");
		guest_exit(GUEST_EXIT_UNEXPECTED);
	}
	regs->rip += 2;
	if (regs->rdx & USER_IO_WRITE) {
		if (size == 1)
			outb(port, regs->rdi);
		else if (size == 2)
			outw(port, regs->rdi);
		else
			outl(port, regs->rdi);
		return;
	}
	regs->rax = size == 1 ? inb(port) : size == 2 ? inw(port) : inl(port);
}

void guest_enter_user(void (*fn)(void), void *stack_top)
{
	struct desc_ptr gdtr = { .limit = sizeof(gdt) - 1, .base = (uintptr_t)gdt };

	idt_init();
	idt_set_handler(VECTOR_UD, user_io_handler);
	tss.rsp[0] = (uintptr_t)(kernel_stack + KERNEL_STACK_SIZE);
	tss.iopb = sizeof(tss);		/* no bitmap: IOPL 3 decides */
	set_tss_descriptor();
	__asm__ __volatile__("lgdt %0" : : "m"(gdtr) : "memory");
	__asm__ __volatile__("ltr %w0" : : "r"(GDT_TSS_SEL) : "memory");
	make_map_user();
	__asm__ __volatile__(
		"pushq %[ss]\n\t"
		"pushq %[rsp]\n\t"
		"pushq %[rflags]\n\t"
		"pushq %[cs]\n\t"
		"pushq %[rip]\n\t"
		"iretq"
		:
		: [ss] "i"(USER_DS), [rsp] "r"((uintptr_t)stack_top),
		  [rflags] "i"(0x2),		/* IOPL 0, IF 0 */
		  [cs] "i"(USER_CS), [rip] "r"((uintptr_t)fn)
		: "memory");
	__builtin_unreachable();
}
