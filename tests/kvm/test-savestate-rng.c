// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test-savestate-rng: a virtio device in use across save and restore. The guest drives
 * virtio-rng through its own driver (polled used ring, the LAPIC timer as its clock) and
 * reports each completed request (REPORT_BASE + n), then sleeps a timer tick; every request
 * must come back full, and differ from the one before. Restored in the middle, the device must carry on from the
 * saved ring indices: a device that restarted at index 0 would see the driver's avail index
 * run ahead by more than the ring size (NEEDS_RESET) or never answer (timeout), and a used
 * ring that missed the device's writes (a migration without the VMM's own dirty marks)
 * would lag behind the driver's count of completions.
 * After REQUESTS requests it prints "test-savestate-rng: ok" and exits 0.
 *
 * Host side: domus-vmm --test-device --rng (see savestate-test).
 */
#include "virtio.h"

#define REQUESTS	200
#define REPORT_BASE	0x60000000u
#define QUEUE_SIZE	16
#define WAIT_MS		5000

static uint8_t ring[VQ_MEM_SIZE] __attribute__((aligned(4096)));
static uint8_t buf[2][64];

int guest_main(void)
{
	struct virtio_pci dev;
	struct vq vq;

	guest_timer_start();
	GUEST_ASSERT(virtio_pci_find(VIRTIO_ID_RNG, &dev));
	GUEST_ASSERT(virtio_start(&dev, &vq, 1ULL << VIRTIO_F_VERSION_1, ring, QUEUE_SIZE));
	for (uint32_t n = 1; n <= REQUESTS; n++) {
		uint8_t *cur = buf[n % 2], *prev = buf[(n + 1) % 2];
		struct vbuf b = { cur, 64, true };
		uint32_t len;
		bool same = true;

		GUEST_ASSERT(vq_transfer(&vq, &b, 1, &len));
		GUEST_ASSERT_EQ(len, 64);
		/* Exactly one completion per request: a stale used ring would be behind. */
		GUEST_ASSERT_EQ(READ_ONCE(vq.used->idx), vq.last_used);
		GUEST_ASSERT_EQ(vq.last_used, (uint16_t)n);
		for (unsigned int i = 0; i < 64; i++)
			same &= cur[i] == prev[i];
		GUEST_ASSERT(!same);
		GUEST_ASSERT(!(virtio_status(&dev) & VIRTIO_STATUS_NEEDS_RESET));
		guest_report(REPORT_BASE + n);
		guest_wait_until(false, GUEST_TICK_MS);	/* a tick: the LAPIC timer lives on */
	}
	uart_puts("test-savestate-rng: ok\r\n");
	return GUEST_EXIT_OK;
}
