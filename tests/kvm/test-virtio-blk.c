// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test-virtio-blk: a disk through the guest's own virtio-pci driver.
 *
 * The host (virtio-disk-test) prepares a 1 MiB image where byte i of sector s is
 * IMAGE_BYTE(s, i) and gives it to domus-vmm with serial=SERIAL. The guest:
 *   - checks capacity, reads sector 0 and the last sector, and that reads at or across
 *     the end fail with IOERR; a read whose data and status share one descriptor works;
 *   - GET_ID returns the 20-byte serial (no terminator at 20 bytes);
 *   - an unknown request type is UNSUPP;
 *   - read-write disk: writes sector 1 with WRITE_BYTE(i), FLUSHes, reads it back, and
 *     zeroes sectors 4-7 with WRITE_ZEROES (if offered); the host then checks the image;
 *   - read-only disk (VIRTIO_BLK_F_RO): the write fails with IOERR and changes nothing.
 *
 * Host side: exit 64, console "test-virtio-blk: rw ok" or "test-virtio-blk: ro ok".
 */
#include "virtio.h"

#define QUEUE_SIZE		16
#define CAPACITY		2048	/* sectors: the host's 1 MiB image */
#define SERIAL			"domus-virtio-blk-t01"
#define IMAGE_BYTE(s, i)	((uint8_t)((s) * 13 + (i) * 7 + 0x11))
#define WRITE_BYTE(i)		((uint8_t)((i) * 3 + 0xa5))

#define VIRTIO_BLK_F_SEG_MAX		2
#define VIRTIO_BLK_F_RO			5
#define VIRTIO_BLK_F_BLK_SIZE		6
#define VIRTIO_BLK_F_FLUSH		9
#define VIRTIO_BLK_F_WRITE_ZEROES	14
#define VIRTIO_BLK_T_IN			0
#define VIRTIO_BLK_T_OUT		1
#define VIRTIO_BLK_T_FLUSH		4
#define VIRTIO_BLK_T_GET_ID		8
#define VIRTIO_BLK_T_WRITE_ZEROES	13
#define VIRTIO_BLK_S_OK			0
#define VIRTIO_BLK_S_IOERR		1
#define VIRTIO_BLK_S_UNSUPP		2
#define BLK_CFG_CAPACITY		0
#define BLK_CFG_BLK_SIZE		20

struct blk_hdr {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

struct blk_dwz {
	uint64_t sector;
	uint32_t num_sectors;
	uint32_t flags;
};

static uint8_t ring[VQ_MEM_SIZE] __attribute__((aligned(4096)));
static uint8_t data[1024];
static struct blk_hdr hdr;
static uint8_t status;

/* header, @len bytes of data (device-writable if @in), status. Return: the status byte. */
static uint8_t blk_request(struct vq *vq, uint32_t type, uint64_t sector, uint32_t len, bool in,
			   uint32_t *used_len)
{
	struct vbuf bufs[3] = { { &hdr, sizeof(hdr), false } };
	unsigned int n = 1;
	uint32_t ignored;

	hdr = (struct blk_hdr){ .type = type, .sector = sector };
	if (len)
		bufs[n++] = (struct vbuf){ data, len, in };
	status = 0xff;
	bufs[n++] = (struct vbuf){ &status, 1, true };
	GUEST_ASSERT(vq_transfer(vq, bufs, n, used_len ? used_len : &ignored));
	return READ_ONCE(status);
}

static void check_sector(const uint8_t *p, uint64_t s)
{
	for (int i = 0; i < 512; i++)
		GUEST_ASSERT_EQ(p[i], IMAGE_BYTE(s, i));
}

static void check_reads(struct vq *vq)
{
	uint32_t len;

	GUEST_ASSERT_EQ(blk_request(vq, VIRTIO_BLK_T_IN, 0, 512, true, &len), VIRTIO_BLK_S_OK);
	GUEST_ASSERT_EQ(len, 513);		/* data and status */
	check_sector(data, 0);
	GUEST_ASSERT_EQ(blk_request(vq, VIRTIO_BLK_T_IN, CAPACITY - 2, 1024, true, NULL),
			VIRTIO_BLK_S_OK);
	check_sector(data, CAPACITY - 2);
	check_sector(data + 512, CAPACITY - 1);
	GUEST_ASSERT_EQ(blk_request(vq, VIRTIO_BLK_T_IN, CAPACITY, 512, true, NULL),
			VIRTIO_BLK_S_IOERR);
	GUEST_ASSERT_EQ(blk_request(vq, VIRTIO_BLK_T_IN, CAPACITY - 1, 1024, true, NULL),
			VIRTIO_BLK_S_IOERR);
}

/* virtio 1.x has no framing rules: data and status may share one descriptor. */
static void check_layout(struct vq *vq)
{
	struct vbuf bufs[2] = { { &hdr, sizeof(hdr), false }, { data, 513, true } };
	uint32_t len;

	hdr = (struct blk_hdr){ .type = VIRTIO_BLK_T_IN, .sector = 9 };
	data[512] = 0xff;
	GUEST_ASSERT(vq_transfer(vq, bufs, 2, &len));
	GUEST_ASSERT_EQ(len, 513);
	GUEST_ASSERT_EQ(data[512], VIRTIO_BLK_S_OK);
	check_sector(data, 9);
}

static void check_get_id(struct vq *vq)
{
	static const char serial[] = SERIAL;
	uint32_t len;

	memset(data, 0x55, 32);
	GUEST_ASSERT_EQ(blk_request(vq, VIRTIO_BLK_T_GET_ID, 0, 20, true, &len), VIRTIO_BLK_S_OK);
	GUEST_ASSERT_EQ(len, 21);
	for (int i = 0; i < 20; i++)
		GUEST_ASSERT_EQ(data[i], serial[i]);
	GUEST_ASSERT_EQ(data[20], 0x55);	/* exactly 20 bytes */
	GUEST_ASSERT_EQ(blk_request(vq, 0x55, 0, 0, false, NULL), VIRTIO_BLK_S_UNSUPP);
}

static void check_write(struct vq *vq)
{
	for (int i = 0; i < 512; i++)
		data[i] = WRITE_BYTE(i);
	GUEST_ASSERT_EQ(blk_request(vq, VIRTIO_BLK_T_OUT, 1, 512, false, NULL), VIRTIO_BLK_S_OK);
	GUEST_ASSERT_EQ(blk_request(vq, VIRTIO_BLK_T_FLUSH, 0, 0, false, NULL), VIRTIO_BLK_S_OK);
	memset(data, 0, 512);
	GUEST_ASSERT_EQ(blk_request(vq, VIRTIO_BLK_T_IN, 1, 512, true, NULL), VIRTIO_BLK_S_OK);
	for (int i = 0; i < 512; i++)
		GUEST_ASSERT_EQ(data[i], WRITE_BYTE(i));
}

static void check_write_zeroes(struct vq *vq)
{
	struct blk_dwz *seg = (struct blk_dwz *)data;

	*seg = (struct blk_dwz){ .sector = 4, .num_sectors = 4 };
	GUEST_ASSERT_EQ(blk_request(vq, VIRTIO_BLK_T_WRITE_ZEROES, 0, sizeof(*seg), false, NULL),
			VIRTIO_BLK_S_OK);
	GUEST_ASSERT_EQ(blk_request(vq, VIRTIO_BLK_T_FLUSH, 0, 0, false, NULL), VIRTIO_BLK_S_OK);
	for (uint64_t s = 4; s < 8; s += 2) {
		memset(data, 0xff, 1024);
		GUEST_ASSERT_EQ(blk_request(vq, VIRTIO_BLK_T_IN, s, 1024, true, NULL),
				VIRTIO_BLK_S_OK);
		for (int i = 0; i < 1024; i++)
			GUEST_ASSERT_EQ(data[i], 0);
	}
	/* And sector 3 next to them was left alone. */
	GUEST_ASSERT_EQ(blk_request(vq, VIRTIO_BLK_T_IN, 3, 512, true, NULL), VIRTIO_BLK_S_OK);
	check_sector(data, 3);
}

static void check_readonly(struct vq *vq)
{
	memset(data, 0, 512);
	GUEST_ASSERT_EQ(blk_request(vq, VIRTIO_BLK_T_OUT, 1, 512, false, NULL),
			VIRTIO_BLK_S_IOERR);
	GUEST_ASSERT_EQ(blk_request(vq, VIRTIO_BLK_T_IN, 1, 512, true, NULL), VIRTIO_BLK_S_OK);
	check_sector(data, 1);
}

int guest_main(void)
{
	const uint64_t want = 1ULL << VIRTIO_F_VERSION_1 | 1ULL << VIRTIO_BLK_F_SEG_MAX |
			      1ULL << VIRTIO_BLK_F_RO | 1ULL << VIRTIO_BLK_F_BLK_SIZE |
			      1ULL << VIRTIO_BLK_F_FLUSH | 1ULL << VIRTIO_BLK_F_WRITE_ZEROES;
	struct virtio_pci dev;
	struct vq vq;
	bool ro;

	guest_timer_start();
	GUEST_ASSERT(virtio_pci_find(VIRTIO_ID_BLOCK, &dev));
	GUEST_ASSERT(dev.device);
	GUEST_ASSERT(virtio_start(&dev, &vq, want, ring, QUEUE_SIZE));
	GUEST_ASSERT(dev.features & 1ULL << VIRTIO_BLK_F_FLUSH);
	GUEST_ASSERT_EQ(virtio_cfg_read64(&dev, BLK_CFG_CAPACITY), CAPACITY);
	GUEST_ASSERT_EQ(virtio_cfg_read32(&dev, BLK_CFG_BLK_SIZE), 512);
	ro = dev.features & 1ULL << VIRTIO_BLK_F_RO;

	check_reads(&vq);
	check_layout(&vq);
	check_get_id(&vq);
	if (ro) {
		check_readonly(&vq);
	} else {
		check_write(&vq);
		GUEST_ASSERT(dev.features & 1ULL << VIRTIO_BLK_F_WRITE_ZEROES);
		check_write_zeroes(&vq);
	}
	GUEST_ASSERT(!(virtio_status(&dev) & VIRTIO_STATUS_NEEDS_RESET));
	virtio_reset(&dev);
	lapic_timer_stop();
	uart_puts(ro ? "test-virtio-blk: ro ok\r\n" : "test-virtio-blk: rw ok\r\n");
	return GUEST_EXIT_OK;
}
