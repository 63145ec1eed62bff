// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test-savestate-blk: a disk in use across save and restore. Request n writes sector
 * n % SECTORS with a pattern of n, reads it back and compares, reports REPORT_BASE + n and
 * sleeps a tick. After REQUESTS requests every sector is read once more and must hold the
 * pattern of the last request that wrote it (the host checks the image file the same way);
 * then "test-savestate-blk: ok" and exit 0. A save waits for the disk I/O in flight, so no
 * request is lost or done twice by the restored device.
 *
 * Host side: domus-vmm --test-device --disk path=IMG (1 MiB), see savestate-test.
 */
#include "virtio.h"

#define REQUESTS	200
#define SECTORS		64
#define REPORT_BASE	0x70000000u
#define QUEUE_SIZE	16
#define T_IN		0
#define T_OUT		1

struct blk_req_hdr {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

static uint8_t ring[VQ_MEM_SIZE] __attribute__((aligned(4096)));
static uint8_t wbuf[512], rbuf[512];
static struct blk_req_hdr req;
static uint8_t req_status;

/* Sector contents written by request @n (the host's check computes the same). */
static uint8_t pattern(uint32_t n, unsigned int i)
{
	return (uint8_t)(n * 31 + i) ^ (uint8_t)(n >> 8);
}

static void sector_io(struct vq *vq, uint32_t type, uint64_t sector, uint8_t *buf)
{
	struct vbuf chain[3] = {
		{ &req, sizeof(req), false },
		{ buf, 512, type == T_IN },
		{ &req_status, 1, true },
	};
	uint32_t len;

	req = (struct blk_req_hdr){ .type = type, .sector = sector };
	req_status = 0xff;
	GUEST_ASSERT(vq_transfer(vq, chain, 3, &len));
	GUEST_ASSERT_EQ(READ_ONCE(req_status), 0);
	GUEST_ASSERT_EQ(READ_ONCE(vq->used->idx), vq->last_used);
}

static void check_sector(struct vq *vq, uint32_t n)
{
	sector_io(vq, T_IN, n % SECTORS, rbuf);
	for (unsigned int i = 0; i < 512; i++)
		GUEST_ASSERT_EQ(rbuf[i], pattern(n, i));
}

int guest_main(void)
{
	struct virtio_pci dev;
	struct vq vq;

	guest_timer_start();
	GUEST_ASSERT(virtio_pci_find(VIRTIO_ID_BLOCK, &dev));
	GUEST_ASSERT(virtio_start(&dev, &vq, 1ULL << VIRTIO_F_VERSION_1, ring, QUEUE_SIZE));
	for (uint32_t n = 1; n <= REQUESTS; n++) {
		for (unsigned int i = 0; i < 512; i++)
			wbuf[i] = pattern(n, i);
		sector_io(&vq, T_OUT, n % SECTORS, wbuf);
		check_sector(&vq, n);
		guest_report(REPORT_BASE + n);
		guest_wait_until(false, GUEST_TICK_MS);
	}
	for (uint32_t n = REQUESTS - SECTORS + 1; n <= REQUESTS; n++)
		check_sector(&vq, n);
	uart_puts("test-savestate-blk: ok\r\n");
	return GUEST_EXIT_OK;
}
