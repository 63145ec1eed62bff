// SPDX-License-Identifier: GPL-2.0-or-later
/* Linux x86 64-bit boot protocol (boot.rst) and the ELF64 loader for tiny guests. */
#include <elf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "boot.h"
#include "layout.h"

/* Setup header offsets (boot.rst; identical in the file and in boot_params). */
#define HDR_SETUP_SECTS		0x1f1
#define HDR_VID_MODE		0x1fa
#define HDR_BOOT_FLAG		0x1fe
#define HDR_JUMP		0x200
#define HDR_MAGIC		0x202
#define HDR_VERSION		0x206
#define HDR_TYPE_OF_LOADER	0x210
#define HDR_LOADFLAGS		0x211
#define HDR_CODE32_START	0x214
#define HDR_RAMDISK_IMAGE	0x218
#define HDR_RAMDISK_SIZE	0x21c
#define HDR_CMD_LINE_PTR	0x228
#define HDR_INITRD_ADDR_MAX	0x22c
#define HDR_KERNEL_ALIGNMENT	0x230
#define HDR_XLOADFLAGS		0x236
#define HDR_CMDLINE_SIZE	0x238
#define HDR_PREF_ADDRESS	0x258
#define HDR_INIT_SIZE		0x260

/* boot_params fields outside the setup header. */
#define BP_ACPI_RSDP_ADDR	0x070
#define BP_EXT_RAMDISK_IMAGE	0x0c0
#define BP_EXT_RAMDISK_SIZE	0x0c4
#define BP_EXT_CMD_LINE_PTR	0x0c8
#define BP_E820_ENTRIES		0x1e8
#define BP_E820_TABLE		0x2d0
#define BOOT_PARAMS_SIZE	4096

#define HDRS_MAGIC		0x53726448	/* "HdrS" */
#define LOADED_HIGH		0x01
#define XLF_KERNEL_64		0x01
#define LOADER_TYPE_UNDEFINED	0xff
#define MIN_BOOT_PROTOCOL	0x020c		/* 2.12: xloadflags, 64-bit entry */
#define ENTRY_64_OFFSET		0x200		/* head_64.S: ".org 0x200", fixed ABI */
#define PAGE_SIZE_4K		4096ULL
#define ALIGN_UP_PAGE(x)	(((x) + PAGE_SIZE_4K - 1) & ~(PAGE_SIZE_4K - 1))

static void set_err(char *err, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return;
	va_start(ap, fmt);
	vsnprintf(err, BOOT_ERR_MAX, fmt, ap);
	va_end(ap);
}

static uint16_t get16(const uint8_t *p, size_t off)
{
	return p[off] | (uint16_t)p[off + 1] << 8;
}

static uint32_t get32(const uint8_t *p, size_t off)
{
	return get16(p, off) | (uint32_t)get16(p, off + 2) << 16;
}

static uint64_t get64(const uint8_t *p, size_t off)
{
	return get32(p, off) | (uint64_t)get32(p, off + 4) << 32;
}

static void put16(uint8_t *p, size_t off, uint16_t v)
{
	p[off] = v;
	p[off + 1] = v >> 8;
}

static void put32(uint8_t *p, size_t off, uint32_t v)
{
	put16(p, off, v);
	put16(p, off + 2, v >> 16);
}

static void put64(uint8_t *p, size_t off, uint64_t v)
{
	put32(p, off, v);
	put32(p, off + 4, v >> 32);
}

int boot_parse_bzimage(const void *img, size_t size, struct bzimage_info *info, char *err)
{
	const uint8_t *p = img;
	unsigned int sects;

	if (size < 0x270 || get16(p, HDR_BOOT_FLAG) != 0xaa55 || get32(p, HDR_MAGIC) != HDRS_MAGIC) {
		set_err(err, "not a Linux bzImage (no boot sector signature or \"HdrS\" header)");
		return -ENOEXEC;
	}
	memset(info, 0, sizeof(*info));
	info->version = get16(p, HDR_VERSION);
	if (info->version < MIN_BOOT_PROTOCOL) {
		set_err(err, "boot protocol %u.%02u is too old (need 2.12 or later)",
			info->version >> 8, info->version & 0xff);
		return -ENOEXEC;
	}
	if (!(p[HDR_LOADFLAGS] & LOADED_HIGH) || !(get16(p, HDR_XLOADFLAGS) & XLF_KERNEL_64)) {
		set_err(err, "kernel has no 64-bit entry point (not an x86-64 bzImage)");
		return -ENOEXEC;
	}
	sects = p[HDR_SETUP_SECTS] ? p[HDR_SETUP_SECTS] : 4;
	info->setup_size = (size_t)(sects + 1) * 512;
	info->header_end = 0x202 + p[HDR_JUMP + 1];
	if (info->setup_size >= size || info->header_end > 0x1000) {
		set_err(err, "truncated bzImage: setup area of %zu bytes, file of %zu",
			info->setup_size, size);
		return -ENOEXEC;
	}
	info->payload_size = size - info->setup_size;
	info->initrd_addr_max = get32(p, HDR_INITRD_ADDR_MAX);
	info->cmdline_size = get32(p, HDR_CMDLINE_SIZE);
	info->kernel_alignment = get32(p, HDR_KERNEL_ALIGNMENT);
	info->pref_address = get64(p, HDR_PREF_ADDRESS);
	info->init_size = get32(p, HDR_INIT_SIZE);
	return 0;
}

bool boot_is_elf(const void *img, size_t size)
{
	return size >= SELFMAG && !memcmp(img, ELFMAG, SELFMAG);
}

uint64_t boot_lowmem_size(uint64_t mem_size)
{
	return mem_size < MMIO_HOLE_START ? mem_size : MMIO_HOLE_START;
}

int boot_build_e820(struct e820_entry *tab, unsigned int max, uint64_t mem_size)
{
	uint64_t low = boot_lowmem_size(mem_size);
	unsigned int n = 0;

	if (max < 4 || low <= HIGH_RAM_START)
		return -EINVAL;
	/* Free RAM below 640 KiB: Linux puts the SMP real-mode trampoline there. */
	tab[n++] = (struct e820_entry){ 0, EBDA_START, E820_RAM };
	/* EBDA, ACPI tables and the legacy ROM area. */
	tab[n++] = (struct e820_entry){ EBDA_START, HIGH_RAM_START - EBDA_START, E820_RESERVED };
	tab[n++] = (struct e820_entry){ HIGH_RAM_START, low - HIGH_RAM_START, E820_RAM };
	if (mem_size > low)
		tab[n++] = (struct e820_entry){ RAM_ABOVE_4G_START, mem_size - low, E820_RAM };
	return n;
}

/* The first byte after the memory the kernel needs to decompress and run its early code. */
static uint64_t kernel_end(const struct bzimage_info *info)
{
	uint64_t load = HIGH_RAM_START;
	uint64_t out = info->pref_address > load ? info->pref_address : load;
	uint64_t end = out + info->init_size;
	uint64_t payload_end = load + info->payload_size;

	return ALIGN_UP_PAGE(end > payload_end ? end : payload_end);
}

int boot_place_initrd(const struct bzimage_info *info, uint64_t mem_size, uint64_t initrd_size,
		      uint64_t *gpa, char *err)
{
	uint64_t low = boot_lowmem_size(mem_size);
	uint64_t top = (uint64_t)info->initrd_addr_max + 1;
	uint64_t need = kernel_end(info);

	if (low < need) {
		set_err(err, "too little memory: the kernel needs at least %llu MiB, guest has %llu MiB",
			(unsigned long long)(need >> 20) + 1, (unsigned long long)(mem_size >> 20));
		return -ENOMEM;
	}
	if (top > low)
		top = low;
	if (initrd_size == 0) {
		*gpa = 0;
		return 0;
	}
	if (initrd_size > top || ((top - initrd_size) & ~(PAGE_SIZE_4K - 1)) < need) {
		set_err(err, "the initrd (%llu MiB) does not fit: with the kernel it needs about "
			"%llu MiB of memory below %llu MiB, the guest has %llu MiB",
			(unsigned long long)(initrd_size >> 20),
			(unsigned long long)((need + initrd_size) >> 20) + 1,
			(unsigned long long)(top >> 20), (unsigned long long)(mem_size >> 20));
		return -ENOMEM;
	}
	*gpa = (top - initrd_size) & ~(PAGE_SIZE_4K - 1);
	return 0;
}

int boot_build_params(void *zero_page, const void *img, const struct bzimage_info *info,
		      const struct boot_layout *layout, char *err)
{
	uint8_t *bp = zero_page;
	struct e820_entry e820[E820_MAX];
	int n;

	if (layout->cmdline_len > info->cmdline_size) {
		set_err(err, "command line of %zu bytes is longer than the kernel accepts (%u)",
			layout->cmdline_len, info->cmdline_size);
		return -E2BIG;
	}
	n = boot_build_e820(e820, E820_MAX, layout->mem_size);
	if (n < 0) {
		set_err(err, "guest memory of %llu bytes is too small",
			(unsigned long long)layout->mem_size);
		return n;
	}
	/* Only the header is copied: the rest of the page, including the sentinel, stays 0. */
	memset(bp, 0, BOOT_PARAMS_SIZE);
	memcpy(bp + HDR_SETUP_SECTS, (const uint8_t *)img + HDR_SETUP_SECTS,
	       info->header_end - HDR_SETUP_SECTS);
	put16(bp, HDR_VID_MODE, 0xffff);
	/* type_of_loader 0 would make Linux ignore the initrd. */
	bp[HDR_TYPE_OF_LOADER] = LOADER_TYPE_UNDEFINED;
	put32(bp, HDR_CODE32_START, HIGH_RAM_START);
	put32(bp, HDR_CMD_LINE_PTR, layout->cmdline_gpa);
	put32(bp, BP_EXT_CMD_LINE_PTR, layout->cmdline_gpa >> 32);
	put32(bp, HDR_RAMDISK_IMAGE, layout->initrd_gpa);
	put32(bp, BP_EXT_RAMDISK_IMAGE, layout->initrd_gpa >> 32);
	put32(bp, HDR_RAMDISK_SIZE, layout->initrd_size);
	put32(bp, BP_EXT_RAMDISK_SIZE, layout->initrd_size >> 32);
	put64(bp, BP_ACPI_RSDP_ADDR, layout->rsdp_gpa);
	bp[BP_E820_ENTRIES] = n;
	memcpy(bp + BP_E820_TABLE, e820, n * sizeof(e820[0]));
	return 0;
}

void boot_build_page_tables(void *ram)
{
	uint64_t *pml4 = (uint64_t *)((uint8_t *)ram + PML4_GPA);
	uint64_t *pdpt = (uint64_t *)((uint8_t *)ram + PDPT_GPA);
	uint64_t *pd = (uint64_t *)((uint8_t *)ram + PD_GPA);

	memset(pml4, 0, 4096);
	memset(pdpt, 0, 4096);
	pml4[0] = PDPT_GPA | 0x3;			/* present, writable */
	for (int i = 0; i < 4; i++)
		pdpt[i] = (PD_GPA + i * 0x1000) | 0x3;
	for (int n = 0; n < 4 * 512; n++)
		pd[n] = ((uint64_t)n << 21) | 0x83;	/* present, writable, 2 MiB page */
}

void boot_build_gdt(void *ram)
{
	static const uint64_t gdt[] = {
		0,
		0,
		0x00af9b000000ffffULL,	/* 0x10: 64-bit code, as boot.rst's __BOOT_CS */
		0x00cf93000000ffffULL,	/* 0x18: flat data, __BOOT_DS */
		0x00808b0000000000ULL,	/* 0x20: busy TSS; entry needs a usable TR */
	};

	memcpy((uint8_t *)ram + GDT_GPA, gdt, sizeof(gdt));
	memset((uint8_t *)ram + IDT_GPA, 0, 8);
}

/*
 * A 9-byte "firmware" at the real-mode reset vector F000:FFF0. Linux on a HW-reduced ACPI
 * machine without EFI ends up in machine_real_restart(), a far jump to that vector (its
 * BOOT_EFI fallback): with nothing there it would run zeroes forever. The stub writes the
 * ACPI reset value to the reset register, so a reboot always reaches the VMM.
 */
void boot_build_reset_stub(void *ram)
{
	static const uint8_t stub[] = {
		0xba, PORT_ACPI_PM & 0xff, PORT_ACPI_PM >> 8,	/* mov dx, PORT_ACPI_PM */
		0xb0, ACPI_RESET_VALUE,				/* mov al, ACPI_RESET_VALUE */
		0xee,						/* out dx, al */
		0xf4,						/* 1: hlt */
		0xeb, 0xfd,					/* jmp 1b */
	};

	memcpy((uint8_t *)ram + RESET_VECTOR_GPA, stub, sizeof(stub));
}

int boot_load_linux(void *ram, uint64_t mem_size, const void *img, size_t img_size,
		    const char *cmdline, const void *initrd, size_t initrd_size, uint64_t rsdp_gpa,
		    struct boot_entry *entry, char *err)
{
	uint8_t *mem = ram;
	struct bzimage_info info;
	struct boot_layout layout = {
		.mem_size = mem_size,
		.cmdline_gpa = CMDLINE_GPA,
		.cmdline_len = strlen(cmdline),
		.initrd_size = initrd_size,
		.rsdp_gpa = rsdp_gpa,
	};
	int ret;

	ret = boot_parse_bzimage(img, img_size, &info, err);
	if (ret)
		return ret;
	ret = boot_place_initrd(&info, mem_size, initrd_size, &layout.initrd_gpa, err);
	if (ret)
		return ret;
	if (layout.cmdline_len >= CMDLINE_MAX) {
		set_err(err, "command line is too long (%zu bytes, at most %d)", layout.cmdline_len,
			CMDLINE_MAX - 1);
		return -E2BIG;
	}
	ret = boot_build_params(mem + BOOT_PARAMS_GPA, img, &info, &layout, err);
	if (ret)
		return ret;
	memcpy(mem + CMDLINE_GPA, cmdline, layout.cmdline_len + 1);
	memcpy(mem + HIGH_RAM_START, (const uint8_t *)img + info.setup_size, info.payload_size);
	if (initrd_size)
		memcpy(mem + layout.initrd_gpa, initrd, initrd_size);
	boot_build_page_tables(ram);
	boot_build_gdt(ram);
	boot_build_reset_stub(ram);
	*entry = (struct boot_entry){
		.rip = HIGH_RAM_START + ENTRY_64_OFFSET,
		.rsi = BOOT_PARAMS_GPA,
		.linux_kernel = true,
	};
	return 0;
}

/* Ranges of low memory the VMM owns; an image may not load over them. */
static const struct {
	uint64_t start, end;
	const char *what;
} reserved_ranges[] = {
	{ GDT_GPA, BOOT_PARAMS_GPA + 0x1000, "boot GDT, stack and boot_params" },
	/* 0x8000-0x8fff stays free: tiny guests put an AP trampoline there. */
	{ PML4_GPA, PD_GPA + 0x4000, "page tables" },
	{ CMDLINE_GPA, CMDLINE_GPA + CMDLINE_MAX, "command line" },
	{ EBDA_START, HIGH_RAM_START, "EBDA and ACPI tables" },
};

static int check_segment(uint64_t start, uint64_t len, uint64_t low, char *err)
{
	uint64_t end = start + len;

	if (end < start || end > low) {
		set_err(err, "ELF segment at 0x%llx (+0x%llx) is outside guest RAM",
			(unsigned long long)start, (unsigned long long)len);
		return -ENOEXEC;
	}
	for (size_t i = 0; i < sizeof(reserved_ranges) / sizeof(reserved_ranges[0]); i++) {
		if (start < reserved_ranges[i].end && end > reserved_ranges[i].start) {
			set_err(err, "ELF segment at 0x%llx overlaps the %s",
				(unsigned long long)start, reserved_ranges[i].what);
			return -ENOEXEC;
		}
	}
	return 0;
}

static int check_elf_header(const Elf64_Ehdr *eh, size_t size, char *err)
{
	if (size < sizeof(*eh) || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_ident[EI_DATA] != ELFDATA2LSB || eh->e_machine != EM_X86_64 ||
	    eh->e_type != ET_EXEC) {
		set_err(err, "not an x86-64 ELF64 executable");
		return -ENOEXEC;
	}
	if (eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phoff > size ||
	    (size - eh->e_phoff) / sizeof(Elf64_Phdr) < eh->e_phnum) {
		set_err(err, "ELF program headers are outside the file");
		return -ENOEXEC;
	}
	return 0;
}

int boot_load_elf(void *ram, uint64_t mem_size, const void *img, size_t img_size,
		  struct boot_entry *entry, char *err)
{
	const Elf64_Ehdr *eh = img;
	const Elf64_Phdr *ph;
	uint64_t low = boot_lowmem_size(mem_size);
	int ret, loaded = 0;

	ret = check_elf_header(eh, img_size, err);
	if (ret)
		return ret;
	ph = (const Elf64_Phdr *)((const uint8_t *)img + eh->e_phoff);
	for (unsigned int i = 0; i < eh->e_phnum; i++, ph++) {
		if (ph->p_type != PT_LOAD || ph->p_memsz == 0)
			continue;
		if (ph->p_filesz > ph->p_memsz || ph->p_offset > img_size ||
		    img_size - ph->p_offset < ph->p_filesz) {
			set_err(err, "ELF segment %u has bad sizes or lies outside the file", i);
			return -ENOEXEC;
		}
		ret = check_segment(ph->p_paddr, ph->p_memsz, low, err);
		if (ret)
			return ret;
		memcpy((uint8_t *)ram + ph->p_paddr, (const uint8_t *)img + ph->p_offset,
		       ph->p_filesz);
		memset((uint8_t *)ram + ph->p_paddr + ph->p_filesz, 0, ph->p_memsz - ph->p_filesz);
		loaded++;
	}
	if (!loaded) {
		set_err(err, "ELF image has no loadable segment");
		return -ENOEXEC;
	}
	boot_build_page_tables(ram);
	boot_build_gdt(ram);
	boot_build_reset_stub(ram);
	*entry = (struct boot_entry){ .rip = eh->e_entry };
	return 0;
}
