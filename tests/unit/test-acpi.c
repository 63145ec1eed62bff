// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ACPI builder and AML encoder checks. The expected offsets and byte strings are written out here
 * from the ACPI spec (and known-good encodings), not taken from acpi.c, so the two can disagree.
 * If iasl is installed, ACPICA's disassembler is the final judge of the tables.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acpi.h"
#include "aml.h"
#include "layout.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

static int failures;

static void __attribute__((format(printf, 2, 3))) check(bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s - ", ok ? "ok  " : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	failures += !ok;
}

static uint16_t le16(const uint8_t *p)
{
	return p[0] | p[1] << 8;
}

static uint32_t le32(const uint8_t *p)
{
	return le16(p) | (uint32_t)le16(p + 2) << 16;
}

static uint64_t le64(const uint8_t *p)
{
	return le32(p) | (uint64_t)le32(p + 4) << 32;
}

static bool aml_equals(const struct aml_buf *b, const uint8_t *want, size_t len)
{
	return !aml_error(b) && b->len == len && !memcmp(b->data, want, len);
}

/* ---- AML encoder ---- */

static void test_pkglen_form(size_t body, const uint8_t *want, int want_len)
{
	uint8_t out[4];
	int n = aml_pkglen_encode(out, body);

	check(n == want_len && !memcmp(out, want, want_len),
	      "PkgLength for a %zu-byte body is %d byte(s)", body, want_len);
}

/* A Scope around @filler bytes: the inserted PkgLength must land right after the opcode. */
static void test_pkglen_backpatch(size_t filler, int want_len)
{
	struct aml_buf b;
	size_t mark;
	uint8_t out[4];

	aml_init(&b);
	mark = aml_scope_begin(&b, "TEST");
	for (size_t i = 0; i < filler; i++)
		aml_byte(&b, 0xa5);
	aml_pkg_end(&b, mark);
	aml_pkglen_encode(out, 4 + filler);
	check(!aml_error(&b) && b.len == 1 + want_len + 4 + filler &&
	      !memcmp(b.data + 1, out, want_len) && !memcmp(b.data + 1 + want_len, "TEST", 4),
	      "Scope with a %zu-byte body gets a %d-byte PkgLength in place", 4 + filler, want_len);
	aml_free(&b);
}

static void test_pkglen(void)
{
	uint8_t out[4];

	/*
	 * Totals count the PkgLength itself: 63 fits one byte, 64 needs two; 4095 two, 4096 three;
	 * 0xfffff three, 0x100000 four.
	 */
	test_pkglen_form(62, (const uint8_t[]){ 0x3f }, 1);
	test_pkglen_form(63, (const uint8_t[]){ 0x41, 0x04 }, 2);
	test_pkglen_form(4093, (const uint8_t[]){ 0x4f, 0xff }, 2);
	test_pkglen_form(4094, (const uint8_t[]){ 0x81, 0x00, 0x01 }, 3);
	test_pkglen_form(0xffffc, (const uint8_t[]){ 0x8f, 0xff, 0xff }, 3);
	test_pkglen_form(0xffffd, (const uint8_t[]){ 0xc1, 0x00, 0x00, 0x01 }, 4);
	check(aml_pkglen_encode(out, 1u << 28) == -E2BIG, "PkgLength over 28 bits is -E2BIG");
	test_pkglen_backpatch(58, 1);
	test_pkglen_backpatch(59, 2);
	test_pkglen_backpatch(4089, 2);
	test_pkglen_backpatch(4090, 3);
}

static void test_integer(uint64_t v, const uint8_t *want, size_t len)
{
	struct aml_buf b;

	aml_init(&b);
	aml_integer(&b, v);
	check(aml_equals(&b, want, len), "integer 0x%llx takes %zu byte(s)",
	      (unsigned long long)v, len);
	aml_free(&b);
}

static void test_integers(void)
{
	test_integer(0, (const uint8_t[]){ 0x00 }, 1);
	test_integer(1, (const uint8_t[]){ 0x01 }, 1);
	test_integer(UINT64_MAX, (const uint8_t[]){ 0xff }, 1);
	test_integer(2, (const uint8_t[]){ 0x0a, 0x02 }, 2);
	test_integer(0xff, (const uint8_t[]){ 0x0a, 0xff }, 2);
	test_integer(0x100, (const uint8_t[]){ 0x0b, 0x00, 0x01 }, 3);
	test_integer(0x10000, (const uint8_t[]){ 0x0c, 0x00, 0x00, 0x01, 0x00 }, 5);
	test_integer(0x100000000ull,
		     (const uint8_t[]){ 0x0e, 0, 0, 0, 0, 1, 0, 0, 0 }, 9);
}

static void test_name(const char *path, const uint8_t *want, size_t len)
{
	struct aml_buf b;

	aml_init(&b);
	aml_name_string(&b, path);
	check(aml_equals(&b, want, len), "NameString '%s' encodes as %zu bytes", path, len);
	aml_free(&b);
}

static void test_bad_name(const char *path)
{
	struct aml_buf b;

	aml_init(&b);
	aml_name_string(&b, path);
	check(aml_error(&b) == -EINVAL, "NameString '%s' is rejected", path);
	aml_free(&b);
}

static void test_names(void)
{
	test_name("_S5", (const uint8_t[]){ '_', 'S', '5', '_' }, 4);
	test_name("\\", (const uint8_t[]){ '\\', 0x00 }, 2);
	test_name("\\_SB.PWRB",
		  (const uint8_t[]){ '\\', 0x2e, '_', 'S', 'B', '_', 'P', 'W', 'R', 'B' }, 10);
	test_name("\\_SB.PCI0.S08",
		  (const uint8_t[]){ '\\', 0x2f, 3, '_', 'S', 'B', '_', 'P', 'C', 'I', '0',
				     'S', '0', '8', '_' }, 15);
	test_bad_name("0ABC");
	test_bad_name("ABCDE");
	test_bad_name("_SB.");
	test_bad_name("a_b");
}

static void test_ids(void)
{
	static const uint8_t string[] = { 0x0d, 'A', 'C', 'P', 'I', '0', '0', '1', '3', 0 };
	static const struct { const char *id; uint8_t bytes[5]; } eisa[] = {
		{ "PNP0A03", { 0x0c, 0x41, 0xd0, 0x0a, 0x03 } },
		{ "PNP0C0C", { 0x0c, 0x41, 0xd0, 0x0c, 0x0c } },
		{ "PNP0501", { 0x0c, 0x41, 0xd0, 0x05, 0x01 } },
	};
	struct aml_buf b;

	for (size_t i = 0; i < ARRAY_SIZE(eisa); i++) {
		aml_init(&b);
		aml_eisaid(&b, eisa[i].id);
		check(aml_equals(&b, eisa[i].bytes, 5), "EISAID %s", eisa[i].id);
		aml_free(&b);
	}
	aml_init(&b);
	aml_string(&b, "ACPI0013");
	check(aml_equals(&b, string, sizeof(string)), "String \"ACPI0013\"");
	aml_free(&b);
}

/* Byte strings from cloud-hypervisor's and Firecracker's AML tests (boot brief §3.7, §3.8). */
static void test_s5_bytes(void)
{
	static const uint8_t s5[] = {
		0x08, 0x5f, 0x53, 0x35, 0x5f, 0x12, 0x08, 0x04, 0x0a, 0x05, 0x0a, 0x05, 0x00, 0x00,
	};
	struct aml_buf b;
	size_t pkg;

	aml_init(&b);
	aml_name(&b, "_S5_");
	pkg = aml_package_begin(&b, 4);
	aml_integer(&b, 5);
	aml_integer(&b, 5);
	aml_integer(&b, 0);
	aml_integer(&b, 0);
	aml_pkg_end(&b, pkg);
	check(aml_equals(&b, s5, sizeof(s5)), "Name(_S5_, Package(4){5, 5, 0, 0}) bytes");
	aml_free(&b);
}

static void test_evt_bytes(void)
{
	static const uint8_t evt[] = {
		0x14, 0x13, 0x5f, 0x45, 0x56, 0x54, 0x01, 0x86, 0x5c, 0x2e, 0x5f, 0x53, 0x42, 0x5f,
		0x50, 0x57, 0x52, 0x42, 0x0a, 0x80,
	};
	struct aml_buf b;
	size_t method;

	aml_init(&b);
	method = aml_method_begin(&b, "_EVT", 1, 0);
	aml_notify(&b, "\\_SB.PWRB", 0x80);
	aml_pkg_end(&b, method);
	check(aml_equals(&b, evt, sizeof(evt)),
	      "Method(_EVT, 1){ Notify(\\_SB.PWRB, 0x80) } bytes");
	aml_free(&b);
}

static void test_com1_bytes(void)
{
	static const uint8_t com1[] = {
		0x5b, 0x82, 0x30, 0x2e, 0x5f, 0x53, 0x42, 0x5f, 0x43, 0x4f, 0x4d, 0x31,
		0x08, 0x5f, 0x48, 0x49, 0x44, 0x0c, 0x41, 0xd0, 0x05, 0x01,
		0x08, 0x5f, 0x43, 0x52, 0x53, 0x11, 0x16, 0x0a, 0x13, 0x89, 0x06, 0x00, 0x03, 0x01,
		0x04, 0x00, 0x00, 0x00, 0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x00, 0x08, 0x79, 0x00,
	};
	struct aml_buf b;
	size_t dev, rt;

	aml_init(&b);
	dev = aml_device_begin(&b, "_SB.COM1");
	aml_name_eisaid(&b, "_HID", "PNP0501");
	aml_name(&b, "_CRS");
	rt = aml_rt_begin(&b);
	aml_rd_ext_irq(&b, 4, AML_IRQ_CONSUMER | AML_IRQ_EDGE);
	aml_rd_io(&b, 0x3f8, 0x3f8, 0, 8);
	aml_rt_end(&b, rt);
	aml_pkg_end(&b, dev);
	check(aml_equals(&b, com1, sizeof(com1)), "Device(_SB.COM1){_HID, _CRS} bytes");
	aml_free(&b);
}

static void test_descriptors(void)
{
	static const uint8_t bus[] = {
		0x88, 0x0d, 0x00, 0x02, 0x0c, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x00,
	};
	static const uint8_t io[] = {
		0x87, 0x17, 0x00, 0x01, 0x0c, 0x03, 0, 0, 0, 0, 0x00, 0x0d, 0, 0, 0xff, 0xff, 0, 0,
		0, 0, 0, 0, 0x00, 0xf3, 0, 0,
	};
	struct aml_buf b;

	aml_init(&b);
	aml_rd_word_bus(&b, 0, 0);
	check(aml_equals(&b, bus, sizeof(bus)), "WordBusNumber(0..0) descriptor");
	aml_free(&b);

	aml_init(&b);
	aml_rd_dword_io(&b, 0xd00, 0xffff);
	check(aml_equals(&b, io, sizeof(io)), "DWordIO(0xd00..0xffff) descriptor");
	aml_free(&b);

	aml_init(&b);
	aml_rd_qword_memory(&b, 0x100000000ull, 0x1ffffffffull);
	check(!aml_error(&b) && b.len == 46 && b.data[0] == 0x8a && le16(b.data + 1) == 43 &&
	      le64(b.data + 14) == 0x100000000ull && le64(b.data + 38) == 0x100000000ull,
	      "QWordMemory descriptor: 46 bytes, min and length in place");
	aml_free(&b);

	aml_init(&b);
	aml_rd_dword_memory(&b, 0x2000, 0x1000);
	aml_byte(&b, 0);
	check(aml_error(&b) == -EINVAL && b.len == 0,
	      "inverted window fails, and the error sticks");
	aml_free(&b);
}

/* ---- Tables ---- */

static uint8_t tables[ACPI_SIZE];

static struct acpi_config make_config(unsigned int nr_vcpus)
{
	return (struct acpi_config) {
		.nr_vcpus = nr_vcpus,
		.pm_port = PORT_ACPI_PM,
		.reset_value = ACPI_RESET_VALUE,
		.s5_slp_typ = ACPI_S5_SLP_TYP,
		.ged_gsi = GSI_GED,
		.com1_gsi = GSI_COM1,
		.ioapic_addr = IOAPIC_GPA,
		.lapic_addr = LAPIC_GPA,
		.pci_mmio32_base = PCI_MMIO32_START,
		.pci_mmio32_size = PCI_MMIO32_SIZE,
		.pci_mmio64_base = 0x2000000000ull,
		.pci_mmio64_size = PCI_MMIO64_SIZE,
		.pci_slots = 31,
		.pci_first_gsi = GSI_PCI_FIRST,
	};
}

/* The table at guest address @gpa, checked for its signature, length and checksum. */
static const uint8_t *table_at(uint64_t gpa, ssize_t used, const char *sig)
{
	uint64_t off = gpa - ACPI_GPA;
	const uint8_t *t = tables + off;
	uint32_t len;

	if (gpa < ACPI_GPA || off + 36 > (uint64_t)used) {
		check(false, "%s at 0x%llx lies in the buffer", sig, (unsigned long long)gpa);
		return NULL;
	}
	len = le32(t + 4);
	check(!memcmp(t, sig, 4) && off % 8 == 0 && off + len <= (uint64_t)used,
	      "%s: signature, 8-byte alignment, length %u inside the %zd bytes used",
	      sig, len, used);
	check(acpi_checksum(t, len) == 0, "%s: checksum", sig);
	check(!memcmp(t + 10, "DOMUS ", 6) && !memcmp(t + 16, "DOMUSVMM", 8), "%s: OEM ids", sig);
	return t;
}

static bool gas_is_io_byte(const uint8_t *gas, uint16_t port)
{
	return gas[0] == 1 && gas[1] == 8 && gas[2] == 0 && gas[3] == 1 && le64(gas + 4) == port;
}

static void check_fadt(const uint8_t *fadt, const uint8_t *dsdt)
{
	uint32_t flags = (1u << 20) | (1u << 10) | (1u << 4) | (1u << 5);
	uint16_t boot_arch = le16(fadt + 109);

	check(le32(fadt + 4) == 276 && fadt[8] == 6, "FADT: revision 6, 276 bytes");
	check(le32(fadt + 112) == flags, "FADT: flags HW_REDUCED | RESET_REG_SUP | PWR/SLP_BUTTON");
	check(!(boot_arch & (1 << 3)) && (boot_arch & (1 << 2)) && (boot_arch & (1 << 5)),
	      "FADT: IAPC_BOOT_ARCH 0x%x: MSI allowed, no VGA, no CMOS RTC", boot_arch);
	check(gas_is_io_byte(fadt + 116, PORT_ACPI_PM) && fadt[128] == ACPI_RESET_VALUE,
	      "FADT: RESET_REG is byte I/O at 0x%x, value %u", PORT_ACPI_PM, ACPI_RESET_VALUE);
	check(gas_is_io_byte(fadt + 244, PORT_ACPI_PM) && gas_is_io_byte(fadt + 256, PORT_ACPI_PM),
	      "FADT: SLEEP_CONTROL_REG and SLEEP_STATUS_REG are byte I/O at 0x%x", PORT_ACPI_PM);
	check(dsdt && le64(fadt + 140) == ACPI_GPA + (uint64_t)(dsdt - tables),
	      "FADT: X_DSDT points at the DSDT");
	check(le32(fadt + 46) == 0 && le32(fadt + 56) == 0 && le32(fadt + 64) == 0,
	      "FADT: no SCI, no PM1 blocks");
	check(!memcmp(fadt + 268, "DOMUSVMM", 8), "FADT: hypervisor vendor id");
}

static void check_madt(const uint8_t *madt, unsigned int n)
{
	uint32_t len = le32(madt + 4);
	unsigned int lapics = 0, ioapics = 0, others = 0;
	bool ids_ok = true, ioapic_ok = false;
	uint32_t off;

	check(len == 44 + 8 * n + 12 && madt[8] >= 3, "MADT: %u bytes for %u vCPUs", len, n);
	check(le32(madt + 36) == LAPIC_GPA && (le32(madt + 40) & 1),
	      "MADT: LAPIC address, PCAT_COMPAT");
	for (off = 44; off + 2 <= len && madt[off + 1] >= 2; off += madt[off + 1]) {
		const uint8_t *e = madt + off;

		if (e[0] == 0 && e[1] == 8) {
			ids_ok &= e[3] == lapics && e[2] == lapics && (le32(e + 4) & 1);
			lapics++;
		} else if (e[0] == 1 && e[1] == 12) {
			ioapic_ok = e[2] == 0 && le32(e + 4) == IOAPIC_GPA && le32(e + 8) == 0;
			ioapics++;
		} else {
			others++;
		}
	}
	check(off == len, "MADT: entries tile the table exactly");
	check(lapics == n && ids_ok, "MADT: %u enabled LAPICs with ids 0..%u", lapics, n - 1);
	check(ioapics == 1 && ioapic_ok, "MADT: one IOAPIC, id 0 at 0x%llx, GSI base 0",
	      (unsigned long long)IOAPIC_GPA);
	check(others == 0, "MADT: no interrupt source overrides (no IRQ0 -> GSI2)");
}

static void test_tables(unsigned int n)
{
	struct acpi_config cfg = make_config(n);
	const uint8_t *xsdt, *fadt = NULL, *madt = NULL, *dsdt = NULL;
	ssize_t used;

	printf("# tables for %u vCPU(s)\n", n);
	memset(tables, 0xcc, sizeof(tables));
	used = acpi_build_tables(&cfg, tables, sizeof(tables), ACPI_GPA);
	check(used > 36 && (size_t)used <= sizeof(tables), "build returns %zd bytes", used);
	if (used <= 36)
		return;

	check(!memcmp(tables, "RSD PTR ", 8) && tables[15] == 2 && le32(tables + 20) == 36,
	      "RSDP: signature, revision 2, length 36");
	check(acpi_checksum(tables, 20) == 0 && acpi_checksum(tables, 36) == 0,
	      "RSDP: 20-byte and extended checksums");

	xsdt = table_at(le64(tables + 24), used, "XSDT");
	if (!xsdt)
		return;
	check(le32(xsdt + 4) == 36 + 16, "XSDT: two entries");
	fadt = table_at(le64(xsdt + 36), used, "FACP");
	madt = table_at(le64(xsdt + 44), used, "APIC");
	if (fadt)
		dsdt = table_at(le64(fadt + 140), used, "DSDT");
	if (!fadt || !madt || !dsdt)
		return;
	check(dsdt[8] == 2, "DSDT: revision 2");
	check(dsdt + le32(dsdt + 4) == tables + used, "the DSDT ends the %zd bytes used", used);
	check_fadt(fadt, dsdt);
	check_madt(madt, n);
}

static void test_errors(void)
{
	struct acpi_config cfg = make_config(4);
	ssize_t used = acpi_build_tables(&cfg, tables, sizeof(tables), ACPI_GPA);

	check(acpi_build_tables(&cfg, tables, 64, ACPI_GPA) == -ENOSPC, "64-byte buffer: -ENOSPC");
	check(used > 0 && acpi_build_tables(&cfg, tables, used - 1, ACPI_GPA) == -ENOSPC,
	      "one byte short: -ENOSPC");
	check(acpi_build_tables(&cfg, tables, sizeof(tables), ACPI_GPA + 8) == -EINVAL,
	      "RSDP address not 16-byte aligned: -EINVAL");
	cfg.nr_vcpus = 0;
	check(acpi_build_tables(&cfg, tables, sizeof(tables), ACPI_GPA) == -EINVAL,
	      "0 vCPUs: -EINVAL");
	cfg.nr_vcpus = 256;
	check(acpi_build_tables(&cfg, tables, sizeof(tables), ACPI_GPA) == -EINVAL,
	      "256 vCPUs (xAPIC ids stop at 254): -EINVAL");
	cfg = make_config(4);
	cfg.pci_mmio32_size = 0x80000000ull;
	check(acpi_build_tables(&cfg, tables, sizeof(tables), ACPI_GPA) == -EINVAL,
	      "32-bit window past 4 GiB: -EINVAL");
	cfg = make_config(4);
	cfg.pci_slots = 32;
	check(acpi_build_tables(&cfg, tables, sizeof(tables), ACPI_GPA) == -EINVAL,
	      "32 PCI slots: -EINVAL");
}

/* ---- iasl ---- */

static bool write_table(const char *dir, const char *name, const uint8_t *t)
{
	char path[256];
	FILE *f;
	bool ok;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f)
		return false;
	ok = fwrite(t, 1, le32(t + 4), f) == le32(t + 4);
	return !fclose(f) && ok;
}

/* @dir/@name as a NUL-terminated string, or NULL. */
static char *slurp(const char *dir, const char *name)
{
	char path[256];
	char *s = NULL;
	size_t len = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	if (!f)
		return NULL;
	if (getdelim(&s, &len, '\0', f) < 0) {
		free(s);
		s = NULL;
	}
	fclose(f);
	return s;
}

/* Run iasl with @args in @dir; its output is kept in iasl.log. True if it exited with 0. */
static bool run_iasl(const char *dir, const char *args)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "cd '%s' && iasl %s > iasl.log 2>&1", dir, args);
	return system(cmd) == 0;
}

/* Disassemble @table.dat, look for each of @want; returns the .dsl text for the caller to free. */
static char *check_disassembly(const char *dir, const char *table, const char *const *want)
{
	char dat[32], *log, *dsl;

	snprintf(dat, sizeof(dat), "-d %s.dat", table);
	check(run_iasl(dir, dat), "iasl -d %s.dat exits with 0", table);
	log = slurp(dir, "iasl.log");
	check(log && !strstr(log, "Error") && !strstr(log, "Warning"),
	      "iasl -d %s.dat reports no errors or warnings (checksum, length)", table);
	if (log && (strstr(log, "Error") || strstr(log, "Warning")))
		fputs(log, stdout);
	snprintf(dat, sizeof(dat), "%s.dsl", table);
	dsl = slurp(dir, dat);
	for (; *want; want++)
		check(dsl && strstr(dsl, *want), "%s.dsl contains '%s'", table, *want);
	free(log);
	return dsl;
}

static unsigned int count_substr(const char *s, const char *sub)
{
	unsigned int n = 0;

	while (s && (s = strstr(s, sub))) {
		n++;
		s += strlen(sub);
	}
	return n;
}

/* Build for 255 vCPUs and write XSDT, FACP, APIC and DSDT as @dir/<name>.dat. */
static bool write_tables(const char *dir)
{
	struct acpi_config cfg = make_config(255);
	const uint8_t *xsdt, *fadt;

	if (acpi_build_tables(&cfg, tables, sizeof(tables), ACPI_GPA) <= 0)
		return false;
	xsdt = tables + le64(tables + 24) - ACPI_GPA;
	fadt = tables + le64(xsdt + 36) - ACPI_GPA;
	return write_table(dir, "xsdt.dat", xsdt) && write_table(dir, "facp.dat", fadt) &&
	       write_table(dir, "apic.dat", tables + le64(xsdt + 44) - ACPI_GPA) &&
	       write_table(dir, "dsdt.dat", tables + le64(fadt + 140) - ACPI_GPA);
}

static void check_tables_with_iasl(const char *dir)
{
	static const char *const dsdt_want[] = {
		"Device (PCI0)", "EisaId (\"PNP0A03\")", "Name (_PRT", "0x001FFFFF",
		"Name (\\_S5, Package (0x04)", "EisaId (\"PNP0C0C\")", "EisaId (\"PNP0501\")",
		"Name (_HID, \"ACPI0013\"", "Method (_EVT, 1", "Notify (\\_SB.PWRB, 0x80)",
		"DWordIO", "DWordMemory", "QWordMemory", NULL,
	};
	static const char *const facp_want[] = {
		"Hardware Reduced (V5) : 1", "MSI Not Supported (V4) : 0",
		"Reset Register Supported (V2) : 1", "Control Method Power Button (V1) : 1", NULL,
	};
	static const char *const apic_want[] = { "Local Apic ID : FE", "I/O Apic ID : 00", NULL };
	static const char *const none[] = { NULL };
	char *text;

	free(check_disassembly(dir, "dsdt", dsdt_want));
	free(check_disassembly(dir, "facp", facp_want));
	free(check_disassembly(dir, "xsdt", none));
	text = check_disassembly(dir, "apic", apic_want);
	check(count_substr(text, "[Processor Local APIC]") == 255,
	      "apic.dsl lists 255 local APICs");
	free(text);

	/* Round trip: the disassembly must compile again. */
	check(run_iasl(dir, "-p redsdt dsdt.dsl"), "iasl recompiles dsdt.dsl");
	text = slurp(dir, "iasl.log");
	check(text && strstr(text, " 0 Errors"), "recompiling dsdt.dsl reports 0 errors");
	free(text);
}

static void test_iasl(void)
{
	char dir[] = "/tmp/test-acpi-XXXXXX";
	char cmd[64];

	if (system("command -v iasl > /dev/null 2>&1") != 0) {
		printf("# SKIP: iasl not found (install acpica-tools): disassembly not checked\n");
		return;
	}
	printf("# iasl checks\n");
	if (!mkdtemp(dir)) {
		check(false, "mkdtemp: %m");
		return;
	}
	check(write_tables(dir), "tables for 255 vCPUs written to %s", dir);
	check_tables_with_iasl(dir);

	/* Keep the files of a failed run for a look. */
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (!failures && system(cmd) != 0)
		printf("# could not remove %s\n", dir);
}

int main(void)
{
	static const unsigned int vcpus[] = { 1, 2, 64, 255 };

	printf("# AML encoder\n");
	test_pkglen();
	test_integers();
	test_names();
	test_ids();
	test_s5_bytes();
	test_evt_bytes();
	test_com1_bytes();
	test_descriptors();

	for (size_t i = 0; i < ARRAY_SIZE(vcpus); i++)
		test_tables(vcpus[i]);
	printf("# errors\n");
	test_errors();
	test_iasl();

	printf("# %d failure(s)\n", failures);
	return failures ? EXIT_FAILURE : EXIT_SUCCESS;
}
