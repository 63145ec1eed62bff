// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test-savestate-guest: a guest busy with memory, at CPL 3 (so it runs at full speed where
 * KVM interprets kernel mode), for the save/restore tests (savestate-test).
 *
 * It fills a 16 MiB region: page i holds words that are a function of i and the page's
 * version (version 0 = all zero; every fourth page starts so). Each round it checks every
 * word of the region against the versions, rewrites 64 pseudo-randomly chosen pages with
 * a new version (one in eight becomes zero), and reports the round number
 * (REPORT_BASE + n) on the test device; after ROUNDS rounds it prints "test-savestate: ok"
 * and exits 0. A restored guest must go on with the next round number, its pages intact:
 * a wrong word is reported as 0xbad00000 | page and fails the test.
 *
 * Host side: domus-vmm --test-device --memory 64M (see savestate-test).
 */
#include "libguest.h"

#ifndef ROUNDS
#define ROUNDS		600
#endif
#define REPORT_BASE	0x50000000u
#define BOOT_MARK	0x5a5a0001u	/* reported once, at a fresh start */
#define BAD_PAGE	0xbad00000u
#define REGION_GPA	0x1000000UL	/* from 16 MiB */
#ifndef REGION_PAGES
#define REGION_PAGES	4096		/* 16 MiB */
#endif
#define WORDS		(4096 / 8)
#define CHANGES		64

static uint16_t version[REGION_PAGES];
static uint64_t lcg = 0x2545f4914f6cdd1dULL;
static uint8_t user_stack[16384] __attribute__((aligned(16)));

static uint64_t *page(unsigned int i)
{
	return (uint64_t *)(REGION_GPA + (uintptr_t)i * 4096);
}

static uint64_t word(unsigned int i, unsigned int j, uint16_t v)
{
	uint64_t x = ((uint64_t)i << 32) ^ ((uint64_t)v << 16) ^ j;

	x *= 0x9e3779b97f4a7c15ULL;
	return x ^ (x >> 29);
}

static void fill(unsigned int i, uint16_t v)
{
	uint64_t *p = page(i);

	version[i] = v;
	for (unsigned int j = 0; j < WORDS; j++)
		p[j] = v ? word(i, j, v) : 0;
}

static void check(unsigned int i)
{
	const uint64_t *p = page(i);
	uint16_t v = version[i];

	for (unsigned int j = 0; j < WORDS; j++) {
		if (p[j] != (v ? word(i, j, v) : 0)) {
			guest_report(BAD_PAGE | i);
			GUEST_ASSERT_EQ(p[j], v ? word(i, j, v) : 0);
		}
	}
}

static unsigned int next_random(void)
{
	lcg = lcg * 6364136223846793005ULL + 1442695040888963407ULL;
	return lcg >> 33;
}

static void user_main(void)
{
	GUEST_ASSERT_EQ(read_cs() & 3, 3);
	for (unsigned int i = 0; i < REGION_PAGES; i++)
		fill(i, i % 4 == 3 ? 0 : 1);
	for (uint32_t round = 1; round <= ROUNDS; round++) {
		for (unsigned int i = 0; i < REGION_PAGES; i++)
			check(i);
		for (unsigned int k = 0; k < CHANGES; k++) {
			unsigned int r = next_random(), i = r % REGION_PAGES;
			uint16_t v = (r >> 12) % 8 == 0 ? 0 : (uint16_t)(version[i] + 1) ?: 1;

			fill(i, v);
		}
		guest_report(REPORT_BASE + round);
	}
	uart_puts("test-savestate: ok\r\n");
	guest_exit(GUEST_EXIT_OK);
}

int guest_main(void)
{
	guest_report(BOOT_MARK);
	guest_enter_user(user_main, user_stack + sizeof(user_stack));
}
