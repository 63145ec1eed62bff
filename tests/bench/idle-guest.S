/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * idle-guest: the tiny guest of tests/bench/domains. It disables interrupts and halts, so
 * its vCPU sleeps in the host kernel for good and the domain costs no CPU while hundreds of
 * others start around it. It touches no memory of its own: what it costs is the VMM's.
 *
 * One image boots on both VMMs compared. domus-vmm enters e_entry in 64-bit mode; QEMU's
 * -kernel loader (microvm included) boots an ELF with a Xen PVH note, entering the note's
 * address in 32-bit protected mode with paging off. Both are _start: cli, hlt and a short
 * jmp encode the same in either mode (fa f4 eb fd).
 */

#define XEN_ELFNOTE_PHYS32_ENTRY	18

	.section .note.Xen, "a", @note
	.balign	4
	.long	4			/* namesz: "Xen\0" */
	.long	8			/* descsz: the entry as 64 bits, read as 32 or 64 */
	.long	XEN_ELFNOTE_PHYS32_ENTRY
	.asciz	"Xen"
	.balign	4
	.quad	_start

	.text
	.code64
	.globl	_start
	.type	_start, @function
_start:
	cli
1:	hlt
	jmp	1b
	.size	_start, . - _start

	.section .note.GNU-stack, "", @progbits
