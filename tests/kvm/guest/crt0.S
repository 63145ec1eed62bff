/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Tiny-guest runtime in assembly: the 64-bit entry point and the IDT entry stubs.
 *
 * domus-vmm enters _start in long mode at CPL 0 with CS=0x10, flat data segments, IF=0 and
 * RSP in its own low-memory boot area; we move to a stack of our own in .bss (the VMM zeroes
 * .bss when it loads the ELF), call guest_main() and report its return value on the test
 * device's exit port.
 */

#define TESTDEV_PORT_EXIT	0xf4
#define STACK_SIZE		16384

	.section .text.start, "ax"
	.code64
	.globl	_start
	.type	_start, @function
_start:
	leaq	stack_top(%rip), %rsp
	xorl	%ebp, %ebp
	call	guest_main
	movw	$TESTDEV_PORT_EXIT, %dx
	outl	%eax, %dx
	/* Only reached when the VMM ignored the exit port: the host's timeout ends the test. */
1:	cli
	hlt
	jmp	1b
	.size	_start, . - _start

/*
 * IDT stubs: one per vector, each 16 bytes long. Vectors without a CPU-pushed error code
 * push a zero so that the frame is always the same (struct ex_regs in libguest.h), then the
 * vector, and jump to the common code.
 */
	.text
	.p2align 4
idt_stub_base:
	vector = 0
	.rept	256
	.p2align 4
	/* #DF, #TS, #NP, #SS, #GP, #PF, #AC, #CP, #VC, #SX push an error code. */
	.if (vector == 8) || (vector >= 10 && vector <= 14) || (vector == 17) || \
	    (vector == 21) || (vector == 29) || (vector == 30)
	.else
	pushq	$0
	.endif
	pushq	$vector
	jmp	idt_common
	vector = vector + 1
	.endr

/*
 * The CPU aligned RSP to 16 before pushing its 5-quadword frame; with the error code, the
 * vector and 15 registers on top the stack is 16-byte aligned again at the call.
 */
idt_common:
	pushq	%r15
	pushq	%r14
	pushq	%r13
	pushq	%r12
	pushq	%r11
	pushq	%r10
	pushq	%r9
	pushq	%r8
	pushq	%rdi
	pushq	%rsi
	pushq	%rbp
	pushq	%rbx
	pushq	%rdx
	pushq	%rcx
	pushq	%rax
	movq	%rsp, %rdi
	cld
	call	idt_dispatch
	popq	%rax
	popq	%rcx
	popq	%rdx
	popq	%rbx
	popq	%rbp
	popq	%rsi
	popq	%rdi
	popq	%r8
	popq	%r9
	popq	%r10
	popq	%r11
	popq	%r12
	popq	%r13
	popq	%r14
	popq	%r15
	addq	$16, %rsp		/* vector and error code */
	iretq

	.section .rodata
	.p2align 3
	.globl	idt_stubs
idt_stubs:
	vector = 0
	.rept	256
	.quad	idt_stub_base + vector * 16
	vector = vector + 1
	.endr

	.bss
	.p2align 4
stack:
	.skip	STACK_SIZE
stack_top:

	.section .note.GNU-stack, "", @progbits
