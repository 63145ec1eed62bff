// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test-virtio-rng: the virtio entropy device through the guest's own virtio-pci driver.
 *
 * The guest finds the device (vendor 0x1af4, device 0x1044) on bus 0, negotiates
 * VERSION_1 only and reads 64 bytes twice by polling the used ring: both full, not all
 * zeroes, and different. A chain with no writable buffer comes back empty without
 * stopping the device. Then the same again with MSI-X: queue 0's vector goes to the LAPIC
 * and the completion must arrive as that interrupt.
 *
 * Host side: domus-vmm --test-device --rng exits with 64.
 */
#include "virtio.h"

#define QUEUE_SIZE	16
#define VECTOR_VQ	0x50
#define WAIT_MS		2000

static uint8_t ring[VQ_MEM_SIZE] __attribute__((aligned(4096)));
static uint8_t buf1[64], buf2[64], readable[16];
static volatile unsigned int irq_count;

static void vq_irq(struct ex_regs *regs)
{
	irq_count++;
	lapic_eoi();
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i])
			return false;
	}
	return true;
}

static bool same(const uint8_t *a, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (a[i] != b[i])
			return false;
	}
	return true;
}

static void read_random(struct vq *vq, uint8_t *buf)
{
	struct vbuf b = { buf, 64, true };
	uint32_t len;

	GUEST_ASSERT(vq_transfer(vq, &b, 1, &len));
	GUEST_ASSERT_EQ(len, 64);
}

static void polled(struct virtio_pci *dev, struct vq *vq)
{
	struct vbuf ro = { readable, sizeof(readable), false };
	uint32_t len;

	GUEST_ASSERT(virtio_start(dev, vq, 1ULL << VIRTIO_F_VERSION_1, ring, QUEUE_SIZE));
	read_random(vq, buf1);
	read_random(vq, buf2);
	GUEST_ASSERT(!all_zero(buf1, 64) && !all_zero(buf2, 64));
	GUEST_ASSERT(!same(buf1, buf2, 64));

	/* Nothing to write into: returned with 0 bytes, and the device still works. */
	GUEST_ASSERT(vq_transfer(vq, &ro, 1, &len));
	GUEST_ASSERT_EQ(len, 0);
	GUEST_ASSERT(!(virtio_status(dev) & VIRTIO_STATUS_NEEDS_RESET));
	read_random(vq, buf1);
	GUEST_ASSERT(!same(buf1, buf2, 64));
}

static void with_msix(struct virtio_pci *dev, struct vq *vq)
{
	struct vbuf b = { buf1, 64, true };
	uint32_t id, len;

	GUEST_ASSERT(dev->msix_cap);
	idt_set_handler(VECTOR_VQ, vq_irq);
	GUEST_ASSERT(virtio_negotiate(dev, 1ULL << VIRTIO_F_VERSION_1));
	virtio_msix_enable(dev);
	virtio_msix_route(dev, 0, lapic_id(), VECTOR_VQ);
	GUEST_ASSERT(virtio_queue_setup(dev, vq, 0, QUEUE_SIZE, ring, 0));
	virtio_set_status(dev, virtio_status(dev) | VIRTIO_STATUS_DRIVER_OK);

	vq_add(vq, &b, 1);
	vq_kick(vq);
	GUEST_ASSERT(guest_wait_until(irq_count == 1, WAIT_MS));
	GUEST_ASSERT(vq_wait_used(vq, &id, &len, WAIT_MS));
	GUEST_ASSERT_EQ(len, 64);
	GUEST_ASSERT(!same(buf1, buf2, 64));

	/* One interrupt per completion, no more. */
	guest_wait_until(false, 5 * GUEST_TICK_MS);
	GUEST_ASSERT_EQ(irq_count, 1);
}

int guest_main(void)
{
	struct virtio_pci dev;
	struct vq vq;

	guest_timer_start();
	GUEST_ASSERT(virtio_pci_find(VIRTIO_ID_RNG, &dev));
	polled(&dev, &vq);
	with_msix(&dev, &vq);
	virtio_reset(&dev);
	lapic_timer_stop();
	uart_puts("test-virtio-rng: ok\r\n");
	return GUEST_EXIT_OK;
}
