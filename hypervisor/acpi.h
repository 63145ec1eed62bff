/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ACPI tables for a Domus guest (ACPI 6.x, hardware-reduced): RSDP, XSDT, FADT, MADT, DSDT.
 * Pure functions over a caller-supplied buffer: no KVM, so they are unit-tested on their own.
 */
#ifndef DOMUS_ACPI_H
#define DOMUS_ACPI_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct acpi_config {
	unsigned int nr_vcpus;		/* LAPIC ids 0..nr_vcpus-1, one MADT entry each */
	uint16_t pm_port;		/* SLEEP_CONTROL = SLEEP_STATUS = RESET_REG (I/O, 1 byte) */
	uint8_t reset_value;		/* written to pm_port to reset */
	uint8_t s5_slp_typ;		/* _S5 package value */
	uint32_t ged_gsi;		/* power-button GED interrupt (edge, active high) */
	uint32_t com1_gsi;		/* COM1 (PNP0501) at 0x3f8 */
	uint64_t ioapic_addr;
	uint64_t lapic_addr;
	uint64_t pci_mmio32_base, pci_mmio32_size;	/* root bridge _CRS windows */
	uint64_t pci_mmio64_base, pci_mmio64_size;	/* size 0: no 64-bit window */
	unsigned int pci_slots;		/* _PRT entries for devices 1..pci_slots (INTx fallback) */
	uint32_t pci_first_gsi;		/* slot s, pin p -> GSI first + (s + p) % 8 */
};

/*
 * acpi_build_tables() - lay out every table in @buf, which the guest sees at @gpa.
 * The RSDP is at offset 0 (so @gpa must be 16-byte aligned); the rest follow it.
 * Return: bytes used, or -ENOSPC if @size is too small, -EINVAL for a bad config, -ENOMEM.
 */
ssize_t acpi_build_tables(const struct acpi_config *cfg, void *buf, size_t size, uint64_t gpa);

/* Sum of @len bytes modulo 256: a table is valid when its sum is 0. */
uint8_t acpi_checksum(const void *buf, size_t len);

#endif
