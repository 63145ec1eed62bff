/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Guest image loaders: the Linux x86 64-bit boot protocol for bzImages
 * (Documentation/arch/x86/boot.rst) and plain ELF64 images for tiny test guests.
 *
 * Everything here works on host buffers (the guest's RAM mapping or a scratch buffer), never
 * on KVM, so it is unit-tested without /dev/kvm. Errors are -errno with a message in @err.
 */
#ifndef DOMUS_BOOT_H
#define DOMUS_BOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BOOT_ERR_MAX 256

/* What the loader learned from a bzImage's setup header. */
struct bzimage_info {
	uint16_t version;		/* boot protocol version, e.g. 0x020f */
	size_t setup_size;		/* (setup_sects + 1) * 512 */
	size_t payload_size;		/* protected-mode part, loaded at HIGH_RAM_START */
	uint32_t header_end;		/* copy [0x1f1, header_end) into boot_params */
	uint32_t initrd_addr_max;
	uint32_t cmdline_size;		/* longest command line, without the NUL */
	uint32_t kernel_alignment;
	uint64_t pref_address;
	uint32_t init_size;		/* linear memory the kernel needs from its load address */
};

struct e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
} __attribute__((packed));

#define E820_RAM	1
#define E820_RESERVED	2
#define E820_MAX	128

/* Where things went in guest memory; input to boot_params. */
struct boot_layout {
	uint64_t mem_size;		/* guest RAM in bytes */
	uint64_t cmdline_gpa;
	size_t cmdline_len;		/* without the NUL */
	uint64_t initrd_gpa;
	uint64_t initrd_size;
	uint64_t rsdp_gpa;
};

/* A loaded image: how to enter it. */
struct boot_entry {
	uint64_t rip;
	uint64_t rsi;			/* boot_params for Linux, 0 for tiny guests */
	bool linux_kernel;
};

int boot_parse_bzimage(const void *img, size_t size, struct bzimage_info *info, char *err);
bool boot_is_elf(const void *img, size_t size);

/* RAM below 4 GiB and above 4 GiB for a guest of @mem_size bytes. */
uint64_t boot_lowmem_size(uint64_t mem_size);

int boot_build_e820(struct e820_entry *tab, unsigned int max, uint64_t mem_size);

/*
 * boot_place_initrd() - pick the initrd's address: page-aligned, as high as allowed in low
 * RAM, above everything the kernel needs to decompress. Return: 0 or -ENOMEM with @err set.
 */
int boot_place_initrd(const struct bzimage_info *info, uint64_t mem_size, uint64_t initrd_size,
		      uint64_t *gpa, char *err);

/* Fill the 4 KiB zero page from the image's header and @layout. */
int boot_build_params(void *zero_page, const void *img, const struct bzimage_info *info,
		      const struct boot_layout *layout, char *err);

/* Identity page tables (0-4 GiB, 2 MiB pages) and the boot GDT, written into guest RAM. */
void boot_build_page_tables(void *ram);
void boot_build_gdt(void *ram);
/* The real-mode reset vector: a stub that resets through the ACPI reset register. */
void boot_build_reset_stub(void *ram);

/*
 * boot_load_linux() / boot_load_elf() - copy an image into guest RAM (@ram, @mem_size
 * bytes, low RAM only) and describe its entry. The Linux loader also writes the command
 * line, the initrd and boot_params.
 */
int boot_load_linux(void *ram, uint64_t mem_size, const void *img, size_t img_size,
		    const char *cmdline, const void *initrd, size_t initrd_size, uint64_t rsdp_gpa,
		    struct boot_entry *entry, char *err);
int boot_load_elf(void *ram, uint64_t mem_size, const void *img, size_t img_size,
		  struct boot_entry *entry, char *err);

#endif
