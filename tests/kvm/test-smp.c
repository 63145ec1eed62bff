// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test-smp: bring up an AP with INIT + STARTUP IPIs (run with --vcpus 2).
 *
 * The BSP finds the AP's APIC id in the MADT (ACPI 6.5 §5.2.12), sends INIT, then STARTUP
 * with vector 0x08, so the AP starts in real mode at 0x8000: the 16-bit trampoline below,
 * which the BSP copied there from the image (guest.ld). The AP reads its vCPU id from
 * the test device, reports it, stores it next to a flag and halts with IF=0. The BSP sleeps
 * on its LAPIC timer until the flag is set (bounded), checks the id and exits.
 *
 * Host side: domus-vmm --vcpus 2 --test-device exits with 64 and stderr holds
 *   domus-vmm: testdev: report vcpu=1 value=0x51700001
 * The exit must also end the AP's thread, halted with interrupts off.
 */
#include "libguest.h"

#define AP_MAGIC	0x51700000	/* | vCPU id: what the AP reports */
#define WAIT_MS		5000

#define RSDP_GPA	0xe0000UL
#define MADT_LAPIC	0
#define MADT_ENABLED	0x1

/* Set by the AP, in the trampoline page (real mode reaches it with DS=0). */
extern volatile uint32_t ap_id;
extern volatile uint32_t ap_flag;

__asm__(".pushsection .trampoline, \"ax\"\n"	/* real mode: no page protection */
	".code16\n"
	"ap_trampoline:\n"
	"	cli\n"
	"	xorw	%ax, %ax\n"
	"	movw	%ax, %ds\n"
	"	movw	$0xf5, %dx\n"		/* TESTDEV_PORT_REPORT */
	"	inl	%dx, %eax\n"		/* our vCPU id */
	"	movl	%eax, ap_id\n"
	"	orl	$0x51700000, %eax\n"	/* AP_MAGIC */
	"	outl	%eax, %dx\n"
	"	movl	$1, ap_flag\n"
	"1:	cli\n"
	"	hlt\n"
	"	jmp	1b\n"
	"	.p2align 2\n"
	"	.globl	ap_id, ap_flag\n"
	"ap_id:	.long	0xffffffff\n"
	"ap_flag: .long	0\n"
	".code64\n"
	".popsection\n");

struct acpi_header {
	char signature[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	uint32_t creator_id;
	uint32_t creator_revision;
} __attribute__((packed));

static bool sig_eq(const char *a, const char *b, int n)
{
	for (int i = 0; i < n; i++) {
		if (a[i] != b[i])
			return false;
	}
	return true;
}

static uint8_t checksum(const void *p, uint32_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	while (len--)
		sum += *b++;
	return sum;
}

/* The MADT, through the XSDT (RSDP revision 2+) or the RSDT. */
static const struct acpi_header *find_madt(void)
{
	const uint8_t *rsdp = (const uint8_t *)RSDP_GPA;
	uint64_t xsdt = *(const uint64_t *)(rsdp + 24);
	uint32_t rsdt = *(const uint32_t *)(rsdp + 16);
	const struct acpi_header *sdt;
	unsigned int entry_size;

	GUEST_ASSERT(sig_eq((const char *)rsdp, "RSD PTR ", 8));
	GUEST_ASSERT_EQ(checksum(rsdp, 20), 0);
	if (rsdp[15] >= 2 && xsdt) {		/* revision 2+: the XSDT, 64-bit entries */
		sdt = (const void *)(uintptr_t)xsdt;
		entry_size = 8;
	} else {
		sdt = (const void *)(uintptr_t)rsdt;
		entry_size = 4;
	}
	GUEST_ASSERT_EQ(checksum(sdt, sdt->length), 0);
	for (uint32_t off = sizeof(*sdt); off + entry_size <= sdt->length; off += entry_size) {
		const uint8_t *p = (const uint8_t *)sdt + off;
		uint64_t addr = entry_size == 8 ? *(const uint64_t *)p : *(const uint32_t *)p;
		const struct acpi_header *t = (const void *)(uintptr_t)addr;

		if (sig_eq(t->signature, "APIC", 4)) {
			GUEST_ASSERT_EQ(checksum(t, t->length), 0);
			return t;
		}
	}
	GUEST_ASSERT(!"no MADT");
	return NULL;
}

/* The APIC id of the first enabled LAPIC other than ours; *count gets how many there are. */
static uint32_t madt_find_ap(uint32_t self, unsigned int *count)
{
	const struct acpi_header *madt = find_madt();
	const uint8_t *p = (const uint8_t *)madt + sizeof(*madt) + 8;
	const uint8_t *end = (const uint8_t *)madt + madt->length;
	uint32_t ap = ~0u;

	*count = 0;
	for (; p + 2 <= end && p[1] >= 2; p += p[1]) {
		if (p[0] != MADT_LAPIC || !(*(const uint32_t *)(p + 4) & MADT_ENABLED))
			continue;
		(*count)++;
		if (p[3] != self && ap == ~0u)
			ap = p[3];
	}
	return ap;
}

int guest_main(void)
{
	unsigned int nr_lapics;
	uint32_t ap;

	guest_timer_start();
	GUEST_ASSERT_EQ(lapic_id(), 0);
	GUEST_ASSERT_EQ(guest_vcpu_id(), 0);

	ap = madt_find_ap(lapic_id(), &nr_lapics);
	GUEST_ASSERT_EQ(nr_lapics, 2);
	GUEST_ASSERT_EQ(ap, 1);

	/* Until the SIPI, the AP runs nothing. */
	GUEST_ASSERT_EQ(trampoline_install(), TRAMPOLINE_GPA);	/* SIPI vector 0x08 */
	guest_wait_until(false, 2 * GUEST_TICK_MS);
	GUEST_ASSERT_EQ(ap_flag, 0);

	lapic_start_ap(ap, TRAMPOLINE_GPA);
	GUEST_ASSERT(guest_wait_until(ap_flag == 1, WAIT_MS));
	GUEST_ASSERT_EQ(ap_id, ap);	/* vCPU id = APIC id */

	lapic_timer_stop();
	return GUEST_EXIT_OK;
}
