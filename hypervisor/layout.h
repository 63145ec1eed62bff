/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The fixed shape of a Domus x86-64 machine: guest physical addresses, I/O ports and GSIs.
 * Everything the VMM builds for the guest lives below 1 MiB or in e820-reserved ranges,
 * because Linux's KASLR may place the decompressed kernel anywhere in e820 RAM above 16 MiB.
 */
#ifndef DOMUS_LAYOUT_H
#define DOMUS_LAYOUT_H

/* Low memory (all e820 RAM below EBDA_START, so the real-mode trampoline finds a home). */
#define GDT_GPA			0x500ULL
#define IDT_GPA			0x520ULL
#define BOOT_STACK_GPA		0x6ff0ULL	/* initial RSP for 64-bit entry */
#define BOOT_PARAMS_GPA		0x7000ULL
#define PML4_GPA		0x9000ULL
#define PDPT_GPA		0xa000ULL
#define PD_GPA			0xb000ULL	/* four pages: 0xb000..0xefff, maps 4 GiB */
#define CMDLINE_GPA		0x20000ULL
#define CMDLINE_MAX		4096
#define EBDA_START		0x9fc00ULL
#define ACPI_GPA		0xe0000ULL	/* RSDP first (16-byte aligned), then the tables */
#define ACPI_SIZE		0x20000ULL	/* up to 1 MiB, e820-reserved */
#define RESET_VECTOR_GPA	0xffff0ULL	/* F000:FFF0, Linux's machine_real_restart() */
#define HIGH_RAM_START		0x100000ULL	/* kernel payload / ELF images go here */

/* The 32-bit hole below 4 GiB: no RAM from here on (RAM above 3 GiB moves above 4 GiB). */
#define MMIO_HOLE_START		0xc0000000ULL
#define PCI_MMIO32_START	0xc0000000ULL
#define PCI_MMIO32_SIZE		0x3c000000ULL	/* 0xc0000000..0xfbffffff */
#define TESTDEV_MMIO_GPA	0xfc000000ULL	/* --test-device only */
#define TESTDEV_MMIO_SIZE	0x1000ULL
#define IOAPIC_GPA		0xfec00000ULL
#define LAPIC_GPA		0xfee00000ULL
#define KVM_IDENTITY_MAP_GPA	0xfffbc000ULL	/* one page, Intel only */
#define KVM_TSS_GPA		0xfffbd000ULL	/* three pages, Intel only */
#define RAM_ABOVE_4G_START	0x100000000ULL
#define PCI_MMIO64_SIZE		0x4000000000ULL	/* 256 GiB window placed above RAM */

/* I/O ports the VMM decodes. */
#define PORT_KBD_STATUS		0x64	/* reads 0; 0xfe written means reset */
#define PORT_POST		0x80	/* io_delay: ignored */
#define PORT_TESTDEV_EXIT	0xf4	/* --test-device */
#define PORT_TESTDEV_REPORT	0xf5
#define PORT_TESTDEV_IRQ	0xf6
#define PORT_COM1		0x3f8
#define PORT_ACPI_PM		0x600	/* HW-reduced sleep control/status and reset register */
#define PORT_PCI_CONFIG_ADDR	0xcf8
#define PORT_PCI_RESET		0xcf9
#define PORT_PCI_CONFIG_DATA	0xcfc

/* ACPI sleep/reset register encodings (HW-reduced FADT). */
#define ACPI_S5_SLP_TYP		5
#define ACPI_SLP_EN		0x20
#define ACPI_SLEEP_S5_VALUE	((ACPI_S5_SLP_TYP << 2) | ACPI_SLP_EN)	/* 0x34 */
#define ACPI_RESET_VALUE	0x01

/* GSIs (in-kernel IOAPIC pins, identity-mapped from ISA IRQs: no IRQ0 override). */
#define GSI_COM1		4
#define GSI_GED			5	/* ACPI generic event device: the power button */
#define GSI_PCI_FIRST		16	/* INTx fallback pins 16..23 */

#endif
