// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ACPI tables for a hardware-reduced guest (ACPI 6.3): RSDP → XSDT → {FADT → DSDT, MADT}.
 *
 * Hardware-reduced means no PM1 blocks, no SCI and no FACS: the power button is a Generic Event
 * Device whose _EVT notifies a PNP0C0C button, and poweroff/reset go through the FADT's sleep and
 * reset registers, which all point at one VMM I/O port.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "acpi.h"
#include "aml.h"

/* The packed structs below are the guest's little-endian layout, written in place. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "ACPI tables are little endian");

#define ACPI_OEM_ID		"DOMUS "
#define ACPI_OEM_TABLE_ID	"DOMUSVMM"
#define ACPI_OEM_REVISION	1
#define ACPI_CREATOR_ID		"DMUS"
#define ACPI_CREATOR_REVISION	1
#define ACPI_HYPERVISOR_ID	"DOMUSVMM"

#define ACPI_TABLE_ALIGN	8
#define ACPI_RSDP_ALIGN		16

#define FADT_F_PWR_BUTTON	(1u << 4)	/* set: no fixed-feature button, use a device */
#define FADT_F_SLP_BUTTON	(1u << 5)
#define FADT_F_RESET_REG_SUP	(1u << 10)
#define FADT_F_HW_REDUCED_ACPI	(1u << 20)
#define FADT_BOOT_VGA_NOT_PRESENT	(1u << 2)
#define FADT_BOOT_CMOS_RTC_NOT_PRESENT	(1u << 5)	/* bit 3 (MSI not supported) stays 0 */
#define FADT_MINOR_VERSION	3

#define GAS_SYSTEM_IO		1
#define GAS_ACCESS_BYTE		1

#define MADT_PCAT_COMPAT	(1u << 0)
#define MADT_TYPE_LAPIC		0
#define MADT_TYPE_IOAPIC	1
#define MADT_LAPIC_ENABLED	(1u << 0)
#define MADT_MAX_VCPUS		255	/* xAPIC ids 0..254; 255 is the broadcast id */

#define PCI_MAX_SLOTS		31	/* devices 1..31 on bus 0; 0 is the host bridge */
#define PCI_INTX_GSIS		8

struct acpi_rsdp {
	char signature[8];
	uint8_t checksum;		/* over the first 20 bytes (the ACPI 1.0 part) */
	char oem_id[6];
	uint8_t revision;
	uint32_t rsdt_address;
	uint32_t length;
	uint64_t xsdt_address;
	uint8_t extended_checksum;	/* over all 36 bytes */
	uint8_t reserved[3];
} __attribute__((packed));

struct acpi_sdt_header {
	char signature[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	char creator_id[4];
	uint32_t creator_revision;
} __attribute__((packed));

struct acpi_gas {
	uint8_t space_id;
	uint8_t bit_width;
	uint8_t bit_offset;
	uint8_t access_size;
	uint64_t address;
} __attribute__((packed));

struct acpi_xsdt {
	struct acpi_sdt_header hdr;
	uint64_t entry[2];		/* FADT, MADT */
} __attribute__((packed));

/* FADT revision 6; the legacy fixed-hardware blocks are all zero in hardware-reduced mode. */
struct acpi_fadt {
	struct acpi_sdt_header hdr;
	uint32_t firmware_ctrl;
	uint32_t dsdt;
	uint8_t reserved0;
	uint8_t preferred_pm_profile;
	uint16_t sci_int;
	uint8_t legacy0[61];		/* SMI_CMD .. CENTURY */
	uint16_t iapc_boot_arch;
	uint8_t reserved1;
	uint32_t flags;
	struct acpi_gas reset_reg;
	uint8_t reset_value;
	uint16_t arm_boot_arch;
	uint8_t minor_version;
	uint64_t x_firmware_ctrl;
	uint64_t x_dsdt;
	struct acpi_gas x_legacy[8];	/* X_PM1a_EVT_BLK .. X_GPE1_BLK */
	struct acpi_gas sleep_control_reg;
	struct acpi_gas sleep_status_reg;
	char hypervisor_vendor_id[8];
} __attribute__((packed));

_Static_assert(offsetof(struct acpi_fadt, iapc_boot_arch) == 109, "FADT layout");
_Static_assert(offsetof(struct acpi_fadt, flags) == 112, "FADT layout");
_Static_assert(offsetof(struct acpi_fadt, reset_value) == 128, "FADT layout");
_Static_assert(offsetof(struct acpi_fadt, x_dsdt) == 140, "FADT layout");
_Static_assert(offsetof(struct acpi_fadt, sleep_control_reg) == 244, "FADT layout");
_Static_assert(sizeof(struct acpi_fadt) == 276, "FADT layout");

struct acpi_madt {
	struct acpi_sdt_header hdr;
	uint32_t lapic_address;
	uint32_t flags;
} __attribute__((packed));

struct madt_lapic {
	uint8_t type;
	uint8_t length;
	uint8_t processor_uid;
	uint8_t apic_id;
	uint32_t flags;
} __attribute__((packed));

struct madt_ioapic {
	uint8_t type;
	uint8_t length;
	uint8_t id;
	uint8_t reserved;
	uint32_t address;
	uint32_t gsi_base;
} __attribute__((packed));

/* Offsets of each table in the caller's buffer, RSDP at 0. */
struct acpi_layout {
	size_t xsdt, fadt, madt, dsdt, end;
};

uint8_t acpi_checksum(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint8_t sum = 0;

	while (len--)
		sum += *p++;
	return sum;
}

static size_t align_up(size_t v, size_t a)
{
	return (v + a - 1) & ~(a - 1);
}

/* ---- DSDT body ---- */

static void dsdt_pci_crs(struct aml_buf *b, const struct acpi_config *cfg)
{
	size_t rt;

	aml_name(b, "_CRS");
	rt = aml_rt_begin(b);
	aml_rd_word_bus(b, 0, 0);
	/* The config ports themselves: Linux drops exactly this range from the windows. */
	aml_rd_io(b, 0xcf8, 0xcf8, 1, 8);
	aml_rd_dword_io(b, 0, 0xcf7);
	aml_rd_dword_io(b, 0xd00, 0xffff);
	aml_rd_dword_memory(b, cfg->pci_mmio32_base,
			    cfg->pci_mmio32_base + cfg->pci_mmio32_size - 1);
	if (cfg->pci_mmio64_size)
		aml_rd_qword_memory(b, cfg->pci_mmio64_base,
				    cfg->pci_mmio64_base + cfg->pci_mmio64_size - 1);
	aml_rt_end(b, rt);
}

/*
 * INTx fallback: Source 0 makes SourceIndex the GSI itself. Pins rotate across the eight GSIs so
 * that neighbouring slots do not all share INTA.
 */
static void dsdt_pci_prt(struct aml_buf *b, const struct acpi_config *cfg)
{
	size_t prt, entry;

	aml_name(b, "_PRT");
	prt = aml_package_begin(b, cfg->pci_slots * 4);
	for (unsigned int slot = 1; slot <= cfg->pci_slots; slot++) {
		for (unsigned int pin = 0; pin < 4; pin++) {
			entry = aml_package_begin(b, 4);
			aml_integer(b, (uint64_t)slot << 16 | 0xffff);	/* any function */
			aml_integer(b, pin);
			aml_integer(b, 0);
			aml_integer(b, cfg->pci_first_gsi + (slot + pin) % PCI_INTX_GSIS);
			aml_pkg_end(b, entry);
		}
	}
	aml_pkg_end(b, prt);
}

/* PNP0A03 alone (not PNP0A08): no _OSC and no ECAM, so Linux stays quiet and uses conf1. */
static void dsdt_pci0(struct aml_buf *b, const struct acpi_config *cfg)
{
	size_t dev = aml_device_begin(b, "PCI0");

	aml_name_eisaid(b, "_HID", "PNP0A03");
	aml_name_integer(b, "_UID", 0);
	aml_name_integer(b, "_SEG", 0);
	aml_name_integer(b, "_BBN", 0);
	dsdt_pci_crs(b, cfg);
	if (cfg->pci_slots)
		dsdt_pci_prt(b, cfg);
	aml_pkg_end(b, dev);
}

static void dsdt_com1(struct aml_buf *b, const struct acpi_config *cfg)
{
	size_t dev = aml_device_begin(b, "COM1");
	size_t rt;

	aml_name_eisaid(b, "_HID", "PNP0501");
	aml_name_integer(b, "_UID", 0);
	aml_name(b, "_CRS");
	rt = aml_rt_begin(b);
	aml_rd_ext_irq(b, cfg->com1_gsi, AML_IRQ_CONSUMER | AML_IRQ_EDGE);
	aml_rd_io(b, 0x3f8, 0x3f8, 0, 8);
	aml_rt_end(b, rt);
	aml_pkg_end(b, dev);
}

static void dsdt_pwrb(struct aml_buf *b)
{
	size_t dev = aml_device_begin(b, "PWRB");

	aml_name_eisaid(b, "_HID", "PNP0C0C");
	aml_name_integer(b, "_UID", 0);
	aml_pkg_end(b, dev);
}

/* The VMM pulses ged_gsi on a power-button press; 0x80 is the button's "pressed" notification. */
static void dsdt_ged(struct aml_buf *b, const struct acpi_config *cfg)
{
	size_t dev = aml_device_begin(b, "GED_");
	size_t rt, method;

	aml_name_str(b, "_HID", "ACPI0013");	/* no EISA form exists for ACPI* ids */
	aml_name_integer(b, "_UID", 0);
	aml_name(b, "_CRS");
	rt = aml_rt_begin(b);
	aml_rd_ext_irq(b, cfg->ged_gsi, AML_IRQ_CONSUMER | AML_IRQ_EDGE);
	aml_rt_end(b, rt);
	method = aml_method_begin(b, "_EVT", 1, 0);
	aml_notify(b, "\\_SB.PWRB", 0x80);
	aml_pkg_end(b, method);
	aml_pkg_end(b, dev);
}

/* SLP_TYPa, SLP_TYPb, reserved, reserved: the guest writes SLP_TYPa into SLEEP_CONTROL. */
static void dsdt_s5(struct aml_buf *b, const struct acpi_config *cfg)
{
	size_t pkg;

	aml_name(b, "\\_S5");
	pkg = aml_package_begin(b, 4);
	aml_integer(b, cfg->s5_slp_typ);
	aml_integer(b, cfg->s5_slp_typ);
	aml_integer(b, 0);
	aml_integer(b, 0);
	aml_pkg_end(b, pkg);
}

static int dsdt_build_aml(struct aml_buf *b, const struct acpi_config *cfg)
{
	size_t sb = aml_scope_begin(b, "\\_SB");

	dsdt_pci0(b, cfg);
	dsdt_com1(b, cfg);
	dsdt_pwrb(b);
	dsdt_ged(b, cfg);
	aml_pkg_end(b, sb);
	dsdt_s5(b, cfg);
	return aml_error(b);
}

/* ---- Fixed tables ---- */

static void sdt_init(struct acpi_sdt_header *hdr, const char *sig, size_t len, uint8_t rev)
{
	memcpy(hdr->signature, sig, 4);
	hdr->length = len;
	hdr->revision = rev;
	memcpy(hdr->oem_id, ACPI_OEM_ID, 6);
	memcpy(hdr->oem_table_id, ACPI_OEM_TABLE_ID, 8);
	hdr->oem_revision = ACPI_OEM_REVISION;
	memcpy(hdr->creator_id, ACPI_CREATOR_ID, 4);
	hdr->creator_revision = ACPI_CREATOR_REVISION;
}

/* Last step for each table: the checksum byte makes the whole table sum to zero. */
static void sdt_finish(struct acpi_sdt_header *hdr)
{
	hdr->checksum = 0;
	hdr->checksum = -acpi_checksum(hdr, hdr->length);
}

static struct acpi_gas gas_io_byte(uint16_t port)
{
	return (struct acpi_gas) {
		.space_id = GAS_SYSTEM_IO,
		.bit_width = 8,
		.access_size = GAS_ACCESS_BYTE,
		.address = port,
	};
}

static void build_rsdp(struct acpi_rsdp *rsdp, uint64_t xsdt_gpa)
{
	memcpy(rsdp->signature, "RSD PTR ", 8);
	memcpy(rsdp->oem_id, ACPI_OEM_ID, 6);
	rsdp->revision = 2;
	rsdp->length = sizeof(*rsdp);
	rsdp->xsdt_address = xsdt_gpa;
	rsdp->checksum = -acpi_checksum(rsdp, 20);
	rsdp->extended_checksum = -acpi_checksum(rsdp, sizeof(*rsdp));
}

static void build_xsdt(struct acpi_xsdt *xsdt, uint64_t fadt_gpa, uint64_t madt_gpa)
{
	sdt_init(&xsdt->hdr, "XSDT", sizeof(*xsdt), 1);
	xsdt->entry[0] = fadt_gpa;
	xsdt->entry[1] = madt_gpa;
	sdt_finish(&xsdt->hdr);
}

static void build_fadt(struct acpi_fadt *fadt, const struct acpi_config *cfg, uint64_t dsdt_gpa)
{
	sdt_init(&fadt->hdr, "FACP", sizeof(*fadt), 6);
	fadt->iapc_boot_arch = FADT_BOOT_VGA_NOT_PRESENT | FADT_BOOT_CMOS_RTC_NOT_PRESENT;
	fadt->flags = FADT_F_HW_REDUCED_ACPI | FADT_F_RESET_REG_SUP |
		      FADT_F_PWR_BUTTON | FADT_F_SLP_BUTTON;
	fadt->reset_reg = gas_io_byte(cfg->pm_port);
	fadt->reset_value = cfg->reset_value;
	fadt->minor_version = FADT_MINOR_VERSION;
	fadt->x_dsdt = dsdt_gpa;	/* the 32-bit DSDT field stays 0, as X_DSDT overrides it */
	fadt->sleep_control_reg = gas_io_byte(cfg->pm_port);
	fadt->sleep_status_reg = gas_io_byte(cfg->pm_port);
	memcpy(fadt->hypervisor_vendor_id, ACPI_HYPERVISOR_ID, 8);
	sdt_finish(&fadt->hdr);
}

static size_t madt_size(const struct acpi_config *cfg)
{
	return sizeof(struct acpi_madt) + cfg->nr_vcpus * sizeof(struct madt_lapic) +
	       sizeof(struct madt_ioapic);
}

static void build_madt(struct acpi_madt *madt, const struct acpi_config *cfg)
{
	struct madt_lapic *lapic = (struct madt_lapic *)(madt + 1);
	struct madt_ioapic *ioapic;

	sdt_init(&madt->hdr, "APIC", madt_size(cfg), 5);
	madt->lapic_address = cfg->lapic_addr;
	madt->flags = MADT_PCAT_COMPAT;
	for (unsigned int i = 0; i < cfg->nr_vcpus; i++, lapic++) {
		lapic->type = MADT_TYPE_LAPIC;
		lapic->length = sizeof(*lapic);
		lapic->processor_uid = i;
		lapic->apic_id = i;		/* = KVM vcpu id, as CPUID reports it */
		lapic->flags = MADT_LAPIC_ENABLED;
	}
	/* No interrupt source overrides: KVM routes ISA IRQ n to IOAPIC pin n, IRQ0 included. */
	ioapic = (struct madt_ioapic *)lapic;
	ioapic->type = MADT_TYPE_IOAPIC;
	ioapic->length = sizeof(*ioapic);
	ioapic->address = cfg->ioapic_addr;
	ioapic->gsi_base = 0;
	sdt_finish(&madt->hdr);
}

static void build_dsdt(struct acpi_sdt_header *hdr, const struct aml_buf *aml)
{
	/* Revision 2: AML integers are 64 bits wide (the QWord window, Ones). */
	sdt_init(hdr, "DSDT", sizeof(*hdr) + aml->len, 2);
	memcpy(hdr + 1, aml->data, aml->len);
	sdt_finish(hdr);
}

/* ---- Entry point ---- */

static bool window_ok(uint64_t base, uint64_t size, uint64_t limit)
{
	return base <= limit && size <= limit - base + 1;
}

static int config_check(const struct acpi_config *cfg, uint64_t gpa)
{
	if (gpa % ACPI_RSDP_ALIGN)
		return -EINVAL;
	if (cfg->nr_vcpus == 0 || cfg->nr_vcpus > MADT_MAX_VCPUS)
		return -EINVAL;
	/* Sleep and reset both need the port: without it poweroff just halts. */
	if (cfg->pm_port == 0 || cfg->s5_slp_typ > 7)
		return -EINVAL;
	if (cfg->lapic_addr > UINT32_MAX || cfg->ioapic_addr > UINT32_MAX)
		return -EINVAL;
	if (cfg->pci_mmio32_size == 0 ||
	    !window_ok(cfg->pci_mmio32_base, cfg->pci_mmio32_size, UINT32_MAX))
		return -EINVAL;
	if (cfg->pci_mmio64_size &&
	    !window_ok(cfg->pci_mmio64_base, cfg->pci_mmio64_size, UINT64_MAX))
		return -EINVAL;
	if (cfg->pci_slots > PCI_MAX_SLOTS || cfg->pci_first_gsi > UINT32_MAX - PCI_INTX_GSIS)
		return -EINVAL;
	return 0;
}

static void layout_tables(struct acpi_layout *l, const struct acpi_config *cfg, size_t aml_len)
{
	l->xsdt = align_up(sizeof(struct acpi_rsdp), ACPI_TABLE_ALIGN);
	l->fadt = align_up(l->xsdt + sizeof(struct acpi_xsdt), ACPI_TABLE_ALIGN);
	l->madt = align_up(l->fadt + sizeof(struct acpi_fadt), ACPI_TABLE_ALIGN);
	l->dsdt = align_up(l->madt + madt_size(cfg), ACPI_TABLE_ALIGN);
	l->end = l->dsdt + sizeof(struct acpi_sdt_header) + aml_len;
}

static ssize_t write_tables(const struct acpi_config *cfg, uint8_t *p, size_t size, uint64_t gpa,
			    const struct aml_buf *aml)
{
	struct acpi_layout l;

	layout_tables(&l, cfg, aml->len);
	if (l.end > size)
		return -ENOSPC;

	memset(p, 0, l.end);
	build_dsdt((struct acpi_sdt_header *)(p + l.dsdt), aml);
	build_madt((struct acpi_madt *)(p + l.madt), cfg);
	build_fadt((struct acpi_fadt *)(p + l.fadt), cfg, gpa + l.dsdt);
	build_xsdt((struct acpi_xsdt *)(p + l.xsdt), gpa + l.fadt, gpa + l.madt);
	build_rsdp((struct acpi_rsdp *)p, gpa + l.xsdt);
	return l.end;
}

ssize_t acpi_build_tables(const struct acpi_config *cfg, void *buf, size_t size, uint64_t gpa)
{
	struct aml_buf aml;
	ssize_t ret;

	if (!cfg || !buf)
		return -EINVAL;
	ret = config_check(cfg, gpa);
	if (ret < 0)
		return ret;

	/* The DSDT comes first: its size decides the layout and the FADT points at it. */
	aml_init(&aml);
	ret = dsdt_build_aml(&aml, cfg);
	if (ret == 0)
		ret = write_tables(cfg, buf, size, gpa, &aml);
	aml_free(&aml);
	return ret;
}
