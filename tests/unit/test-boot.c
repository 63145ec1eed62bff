// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests for the boot-protocol builders (hypervisor/boot.c): no KVM needed. */
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot.h"
#include "layout.h"

static int failures;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);            \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

#define MiB (1ULL << 20)

static uint32_t rd32(const uint8_t *p, size_t off)
{
	uint32_t v;

	memcpy(&v, p + off, 4);
	return v;
}

static uint64_t rd64(const uint8_t *p, size_t off)
{
	uint64_t v;

	memcpy(&v, p + off, 8);
	return v;
}

static void wr16(uint8_t *p, size_t off, uint16_t v)
{
	memcpy(p + off, &v, 2);
}

static void wr32(uint8_t *p, size_t off, uint32_t v)
{
	memcpy(p + off, &v, 4);
}

/* A synthetic bzImage: 4 setup sectors + @payload bytes, header as Debian's 6.1 kernel. */
static uint8_t *fake_bzimage(size_t payload, size_t *size)
{
	*size = 5 * 512 + payload;
	uint8_t *k = calloc(1, *size);

	k[0x1f1] = 4;
	wr16(k, 0x1fe, 0xaa55);
	k[0x201] = 0x6a;			/* header ends at 0x26c */
	wr32(k, 0x202, 0x53726448);
	wr16(k, 0x206, 0x020f);
	k[0x211] = 0x01;			/* LOADED_HIGH */
	wr32(k, 0x22c, 0x7fffffff);
	wr32(k, 0x230, 0x200000);
	wr16(k, 0x236, 0x3);			/* XLF_KERNEL_64 | CAN_BE_LOADED_ABOVE_4G */
	wr32(k, 0x238, 2047);
	wr32(k, 0x258, 0x1000000);		/* pref_address 16 MiB */
	wr32(k, 0x260, 40 * MiB);		/* init_size */
	memset(k + 5 * 512, 0x90, payload);
	return k;
}

static void test_parse(void)
{
	size_t size;
	uint8_t *k = fake_bzimage(4096, &size);
	struct bzimage_info info;
	char err[BOOT_ERR_MAX];

	CHECK(boot_parse_bzimage(k, size, &info, err) == 0);
	CHECK(info.setup_size == 5 * 512 && info.payload_size == 4096);
	CHECK(info.header_end == 0x26c && info.init_size == 40 * MiB);

	uint8_t junk[4096] = "#!/bin/sh\necho not a kernel\n";
	CHECK(boot_parse_bzimage(junk, sizeof(junk), &info, err) == -ENOEXEC);
	CHECK(strstr(err, "not a Linux bzImage") != NULL);

	wr16(k, 0x206, 0x0204);
	CHECK(boot_parse_bzimage(k, size, &info, err) == -ENOEXEC && strstr(err, "too old"));
	wr16(k, 0x206, 0x020f);
	wr16(k, 0x236, 0);
	CHECK(boot_parse_bzimage(k, size, &info, err) == -ENOEXEC && strstr(err, "64-bit"));
	wr16(k, 0x236, 3);
	CHECK(boot_parse_bzimage(k, 5 * 512, &info, err) == -ENOEXEC);	/* no payload */
	free(k);
}

static void test_e820(void)
{
	struct e820_entry e[E820_MAX];
	int n = boot_build_e820(e, E820_MAX, 256 * MiB);

	CHECK(n == 3);
	CHECK(e[0].addr == 0 && e[0].size == EBDA_START && e[0].type == E820_RAM);
	CHECK(e[1].addr == EBDA_START && e[1].type == E820_RESERVED);
	CHECK(e[1].addr + e[1].size == HIGH_RAM_START);		/* ACPI tables reserved */
	CHECK(e[2].addr == HIGH_RAM_START && e[2].addr + e[2].size == 256 * MiB);

	/* 4 GiB of RAM: 3 GiB below the hole, 1 GiB above 4 GiB. */
	n = boot_build_e820(e, E820_MAX, 4096 * MiB);
	CHECK(n == 4);
	CHECK(e[2].addr + e[2].size == MMIO_HOLE_START);
	CHECK(e[3].addr == RAM_ABOVE_4G_START && e[3].size == 1024 * MiB);
	CHECK(boot_build_e820(e, E820_MAX, 512 * 1024) == -EINVAL);
}

static void test_initrd_placement(void)
{
	size_t size;
	uint8_t *k = fake_bzimage(4096, &size);
	struct bzimage_info info;
	char err[BOOT_ERR_MAX];
	uint64_t gpa;

	CHECK(boot_parse_bzimage(k, size, &info, err) == 0);
	CHECK(boot_place_initrd(&info, 256 * MiB, 20 * MiB + 123, &gpa, err) == 0);
	CHECK((gpa & 0xfff) == 0 && gpa + 20 * MiB + 123 <= 256 * MiB);
	CHECK(gpa >= 16 * MiB + 40 * MiB);		/* above the decompression area */

	/* Too little memory for the kernel itself. */
	CHECK(boot_place_initrd(&info, 32 * MiB, 0, &gpa, err) == -ENOMEM);
	CHECK(strstr(err, "too little memory") != NULL);
	/* The kernel fits but the initrd does not. */
	CHECK(boot_place_initrd(&info, 64 * MiB, 30 * MiB, &gpa, err) == -ENOMEM);
	CHECK(strstr(err, "initrd") != NULL && strstr(err, "does not fit") != NULL);
	/* RAM above the hole is not used for the initrd: it stays under initrd_addr_max. */
	CHECK(boot_place_initrd(&info, 8192 * MiB, 100 * MiB, &gpa, err) == 0);
	CHECK(gpa + 100 * MiB <= MMIO_HOLE_START);
	free(k);
}

static void test_load_linux(void)
{
	size_t size;
	uint8_t *k = fake_bzimage(8192, &size);
	uint64_t mem = 128 * MiB;
	uint8_t *ram = calloc(1, mem);
	uint8_t initrd[10000];
	struct boot_entry entry;
	char err[BOOT_ERR_MAX];
	const uint8_t *bp = ram + BOOT_PARAMS_GPA;

	memset(initrd, 0xab, sizeof(initrd));
	CHECK(boot_load_linux(ram, mem, k, size, "console=ttyS0", initrd, sizeof(initrd),
			      ACPI_GPA, &entry, err) == 0);
	CHECK(entry.rip == 0x100200 && entry.rsi == BOOT_PARAMS_GPA && entry.linux_kernel);
	CHECK(bp[0x210] == 0xff);			/* type_of_loader */
	CHECK(rd32(bp, 0x202) == 0x53726448);		/* header copied */
	CHECK(rd32(bp, 0x228) == CMDLINE_GPA);
	CHECK(!strcmp((char *)ram + CMDLINE_GPA, "console=ttyS0"));
	uint32_t rd = rd32(bp, 0x218);
	CHECK(rd32(bp, 0x21c) == sizeof(initrd) && !memcmp(ram + rd, initrd, sizeof(initrd)));
	CHECK(rd64(bp, 0x070) == ACPI_GPA);		/* acpi_rsdp_addr */
	CHECK(bp[0x1e8] == 3);				/* e820 entries */
	CHECK(bp[0x1ef] == 0);				/* sentinel */
	CHECK(ram[HIGH_RAM_START] == 0x90);		/* payload at 1 MiB */
	/* Identity map: PML4[0] -> PDPT, PD entry 8 maps 16 MiB as a 2 MiB page. */
	CHECK(rd64(ram, PML4_GPA) == (PDPT_GPA | 3));
	CHECK(rd64(ram, PD_GPA + 8 * 8) == ((8ULL << 21) | 0x83));
	CHECK(rd64(ram, PD_GPA + 2047 * 8) == ((2047ULL << 21) | 0x83));
	CHECK(rd64(ram, GDT_GPA + 0x10) == 0x00af9b000000ffffULL);
	/* Reset vector: mov dx, 0x600; mov al, 1; out dx, al. */
	static const uint8_t stub[] = { 0xba, 0x00, 0x06, 0xb0, 0x01, 0xee };
	CHECK(!memcmp(ram + RESET_VECTOR_GPA, stub, sizeof(stub)));

	/* A command line longer than the kernel's cmdline_size is refused, not truncated. */
	char longline[3000];
	memset(longline, 'x', sizeof(longline) - 1);
	longline[sizeof(longline) - 1] = 0;
	CHECK(boot_load_linux(ram, mem, k, size, longline, NULL, 0, ACPI_GPA, &entry, err) ==
	      -E2BIG);
	free(ram);
	free(k);
}

/* Minimal ELF64 with one PT_LOAD at @paddr. */
static size_t fake_elf(uint8_t *buf, uint64_t paddr, uint64_t filesz, uint64_t memsz)
{
	Elf64_Ehdr *eh = (Elf64_Ehdr *)buf;
	Elf64_Phdr *ph = (Elf64_Phdr *)(buf + sizeof(*eh));

	memset(buf, 0, 4096);
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_type = ET_EXEC;
	eh->e_machine = EM_X86_64;
	eh->e_entry = paddr;
	eh->e_phoff = sizeof(*eh);
	eh->e_phentsize = sizeof(*ph);
	eh->e_phnum = 1;
	ph->p_type = PT_LOAD;
	ph->p_offset = 512;
	ph->p_paddr = paddr;
	ph->p_filesz = filesz;
	ph->p_memsz = memsz;
	memset(buf + 512, 0xcc, filesz);
	return 512 + filesz;
}

static void test_load_elf(void)
{
	uint64_t mem = 4 * MiB;
	uint8_t *ram = calloc(1, mem);
	uint8_t img[4096];
	struct boot_entry entry;
	char err[BOOT_ERR_MAX];
	size_t n;

	n = fake_elf(img, HIGH_RAM_START, 100, 200);
	memset(ram + HIGH_RAM_START, 0x55, 300);
	CHECK(boot_is_elf(img, n));
	CHECK(boot_load_elf(ram, mem, img, n, &entry, err) == 0);
	CHECK(entry.rip == HIGH_RAM_START && !entry.linux_kernel);
	CHECK(ram[HIGH_RAM_START] == 0xcc && ram[HIGH_RAM_START + 99] == 0xcc);
	CHECK(ram[HIGH_RAM_START + 100] == 0 && ram[HIGH_RAM_START + 199] == 0);	/* bss */
	CHECK(ram[HIGH_RAM_START + 200] == 0x55);

	n = fake_elf(img, 0xe0000, 16, 16);
	CHECK(boot_load_elf(ram, mem, img, n, &entry, err) == -ENOEXEC && strstr(err, "ACPI"));
	n = fake_elf(img, 0x9000, 16, 16);
	CHECK(boot_load_elf(ram, mem, img, n, &entry, err) == -ENOEXEC &&
	      strstr(err, "page tables"));
	n = fake_elf(img, 3 * MiB, 16, 2 * MiB);
	CHECK(boot_load_elf(ram, mem, img, n, &entry, err) == -ENOEXEC && strstr(err, "outside"));
	n = fake_elf(img, ~0ULL - 8, 16, 16);		/* wraps around */
	CHECK(boot_load_elf(ram, mem, img, n, &entry, err) == -ENOEXEC);
	n = fake_elf(img, HIGH_RAM_START, 16, 16);
	CHECK(boot_load_elf(ram, mem, img, 300, &entry, err) == -ENOEXEC);	/* truncated */
	((Elf64_Ehdr *)img)->e_phnum = 60000;
	CHECK(boot_load_elf(ram, mem, img, n, &entry, err) == -ENOEXEC);
	free(ram);
}

/* The real Debian kernel, when tests/guest/build-image has fetched it. */
static void test_real_kernel(const char *path)
{
	FILE *f = path ? fopen(path, "rb") : NULL;
	struct bzimage_info info;
	char err[BOOT_ERR_MAX];
	static uint8_t buf[64 << 20];
	size_t n;

	if (!f) {
		printf("SKIP real kernel header check (no %s)\n", path ? path : "kernel given");
		return;
	}
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	CHECK(boot_parse_bzimage(buf, n, &info, err) == 0);
	CHECK(info.version >= 0x020c && info.init_size > 0 && info.cmdline_size >= 255);
	printf("real kernel %s: protocol %x, init_size %u MiB, payload %zu KiB\n", path,
	       info.version, info.init_size >> 20, info.payload_size >> 10);
}

int main(int argc, char **argv)
{
	test_parse();
	test_e820();
	test_initrd_placement();
	test_load_linux();
	test_load_elf();
	test_real_kernel(argc > 1 ? argv[1] : getenv("DOMUS_TEST_KERNEL"));
	if (failures) {
		fprintf(stderr, "%d check(s) failed\n", failures);
		return 1;
	}
	printf("all boot builder checks passed\n");
	return 0;
}
