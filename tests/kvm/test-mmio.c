// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test-mmio: MMIO exits to the test device page at 0xfc000000.
 *
 * The scratch register (offset 0, 8 bytes, little-endian) must read back what was written
 * at every width and offset inside it; the counter at offset 8 must count each write as
 * one; the rest of the page reads as all-ones and ignores writes.
 *
 * Host side: domus-vmm --test-device exits with 64; on a failed check the guest reports the
 * line on port 0xf5 and exits 65.
 */
#include "libguest.h"

#define SCRATCH		(TESTDEV_MMIO + TESTDEV_MMIO_SCRATCH)
#define WRITES		(TESTDEV_MMIO + TESTDEV_MMIO_WRITES)
#define UNDECODED	(TESTDEV_MMIO + 0x10)

static void check_widths(void)
{
	mmio_write64(SCRATCH, 0x1122334455667788ULL);
	GUEST_ASSERT_EQ(mmio_read64(SCRATCH), 0x1122334455667788ULL);
	GUEST_ASSERT_EQ(mmio_read32(SCRATCH), 0x55667788);
	GUEST_ASSERT_EQ(mmio_read32(SCRATCH + 4), 0x11223344);
	GUEST_ASSERT_EQ(mmio_read16(SCRATCH), 0x7788);
	GUEST_ASSERT_EQ(mmio_read16(SCRATCH + 6), 0x1122);
	GUEST_ASSERT_EQ(mmio_read8(SCRATCH), 0x88);
	GUEST_ASSERT_EQ(mmio_read8(SCRATCH + 7), 0x11);

	/* Narrow writes change only their own bytes. */
	mmio_write8(SCRATCH + 3, 0xaa);
	GUEST_ASSERT_EQ(mmio_read64(SCRATCH), 0x11223344aa667788ULL);
	mmio_write16(SCRATCH + 4, 0xbeef);
	GUEST_ASSERT_EQ(mmio_read64(SCRATCH), 0x1122beefaa667788ULL);
	mmio_write32(SCRATCH, 0xdeadbeef);
	GUEST_ASSERT_EQ(mmio_read64(SCRATCH), 0x1122beefdeadbeefULL);

	/* Unaligned, but inside the register. */
	mmio_write16(SCRATCH + 1, 0x5a5a);
	GUEST_ASSERT_EQ(mmio_read64(SCRATCH), 0x1122beefde5a5aefULL);
	GUEST_ASSERT_EQ(mmio_read32(SCRATCH + 3), 0x22beefde);
}

static void check_undecoded(void)
{
	uint64_t scratch = mmio_read64(SCRATCH);

	GUEST_ASSERT_EQ(mmio_read8(UNDECODED), 0xff);
	GUEST_ASSERT_EQ(mmio_read16(UNDECODED), 0xffff);
	GUEST_ASSERT_EQ(mmio_read32(UNDECODED), 0xffffffff);
	GUEST_ASSERT_EQ(mmio_read64(UNDECODED), ~0ULL);
	GUEST_ASSERT_EQ(mmio_read32(TESTDEV_MMIO + 0xffc), 0xffffffff);

	mmio_write32(UNDECODED, 0);
	mmio_write64(TESTDEV_MMIO + 0xff8, 0);
	GUEST_ASSERT_EQ(mmio_read32(UNDECODED), 0xffffffff);
	GUEST_ASSERT_EQ(mmio_read64(TESTDEV_MMIO + 0xff8), ~0ULL);
	GUEST_ASSERT_EQ(mmio_read64(SCRATCH), scratch);
}

int guest_main(void)
{
	uint32_t writes = mmio_read32(WRITES);

	/* Nothing wrote to the device before us; reads do not count. */
	GUEST_ASSERT_EQ(writes, 0);
	GUEST_ASSERT_EQ(mmio_read64(SCRATCH), 0);
	GUEST_ASSERT_EQ(mmio_read32(WRITES), 0);

	check_widths();
	GUEST_ASSERT_EQ(mmio_read32(WRITES), 5);

	/* A burst of writes, each one exit. */
	for (int i = 0; i < 100; i++)
		mmio_write32(SCRATCH, i);
	GUEST_ASSERT_EQ(mmio_read32(SCRATCH), 99);
	GUEST_ASSERT_EQ(mmio_read32(WRITES), 105);

	check_undecoded();
	return GUEST_EXIT_OK;
}
