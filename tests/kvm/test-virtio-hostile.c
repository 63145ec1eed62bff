// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test-virtio-hostile: a guest that feeds the virtio-blk device every malformed ring,
 * descriptor chain and request it can think of.
 *
 * Transport cases (virtqueue.c): descriptor buffers outside RAM, in the MMIO hole and
 * wrapping around 2^64, a 4 GiB length, descriptor loops, next or head indexes beyond the
 * queue, the avail index jumping by more than the queue size, indirect tables with bad
 * lengths, nested, with NEXT, outside RAM, looping or longer than the device takes,
 * indirect without negotiating it, a writable descriptor before a readable one, a queue
 * size that is not a power of two, rings outside RAM or misaligned at enable time, feature
 * bits never offered, and registers and kicks of a queue that does not exist.
 * Each must end with DEVICE_NEEDS_RESET, or with that one request failed.
 *
 * Device cases (virtio_blk.c): short header, no status byte, data not in whole sectors,
 * sectors past the end and wrapping, data on the wrong side, GET_ID and FLUSH with wrong
 * lengths, bad discard / write-zeroes segments and flags, unknown types, and 1000
 * writable segments aliasing 60 MiB of RAM. Each must fail with IOERR or UNSUPP and leave
 * the device working without a reset.
 *
 * After every case the device is reset and must serve a good read of sector 0 again.
 * Nothing may be written to the disk: the host checks the image is unchanged.
 *
 * Host side: domus-vmm --memory 64M --test-device --disk ... exits 64 and prints
 * "test-virtio-hostile: survived".
 */
#include "virtio.h"

#define QUEUE_SIZE		16
#define RAM_END			0x4000000UL	/* --memory 64M */
#define CAPACITY		2048
#define IMAGE_BYTE(s, i)	((uint8_t)((s) * 13 + (i) * 7 + 0x11))
#define WAIT_MS			1000
#define ANY_FAILURE		0xff	/* NEEDS_RESET, or a status other than OK */
#define NO_STATUS		0xfe	/* used, with nowhere to put a status */
#define BIG_TABLE		1100	/* more segments than the device's VQ_MAX_SEGS */

#define VIRTIO_BLK_F_DISCARD		13
#define VIRTIO_BLK_F_WRITE_ZEROES	14
#define VIRTIO_BLK_T_IN			0
#define VIRTIO_BLK_T_OUT		1
#define VIRTIO_BLK_T_FLUSH		4
#define VIRTIO_BLK_T_GET_ID		8
#define VIRTIO_BLK_T_DISCARD		11
#define VIRTIO_BLK_T_WRITE_ZEROES	13
#define VIRTIO_BLK_S_OK			0
#define VIRTIO_BLK_S_IOERR		1
#define VIRTIO_BLK_S_UNSUPP		2

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
static struct vring_desc table[BIG_TABLE] __attribute__((aligned(16)));
static uint8_t data[4096];
static struct blk_hdr hdr;
static volatile uint8_t status;
static struct virtio_pci dev;
static struct vq vq;
static unsigned int cases, resets;

static const uint64_t features = 1ULL << VIRTIO_F_VERSION_1 |
				 1ULL << VIRTIO_F_RING_INDIRECT_DESC |
				 1ULL << VIRTIO_BLK_F_DISCARD | 1ULL << VIRTIO_BLK_F_WRITE_ZEROES;

static struct vring_desc desc(const void *addr, uint32_t len, uint16_t flags, uint16_t next)
{
	return (struct vring_desc){ (uintptr_t)addr, len, flags, next };
}

/* A fresh device and queue, and a request header with its status byte. */
static void begin(uint32_t type, uint64_t sector, uint64_t want)
{
	GUEST_ASSERT(virtio_start(&dev, &vq, want, ring, QUEUE_SIZE));
	hdr = (struct blk_hdr){ .type = type, .sector = sector };
	status = 0xee;
}

/* A good request works: the device is usable again. */
static void good_read(void)
{
	struct vbuf bufs[3] = {
		{ &hdr, sizeof(hdr), false }, { data, 512, true }, { (void *)&status, 1, true },
	};
	uint32_t len;

	begin(VIRTIO_BLK_T_IN, 0, features);
	GUEST_ASSERT(vq_transfer(&vq, bufs, 3, &len));
	GUEST_ASSERT_EQ(status, VIRTIO_BLK_S_OK);
	for (int i = 0; i < 512; i += 61)
		GUEST_ASSERT_EQ(data[i], IMAGE_BYTE(0, i));
}

static bool needs_reset(void)
{
	return virtio_status(&dev) & VIRTIO_STATUS_NEEDS_RESET;
}

/* Wait until the device used a chain or asked for a reset. Return: whether it used one. */
static bool wait_outcome(void)
{
	guest_wait_until(READ_ONCE(vq.used->idx) != vq.last_used || needs_reset(), WAIT_MS);
	return READ_ONCE(vq.used->idx) != vq.last_used;
}

/*
 * The chain at descriptor 0 is in place: publish it, kick, and see it refused as @want
 * says (a status value, NO_STATUS or ANY_FAILURE). Then reset and check a good request.
 */
static void expect(int line, uint8_t want)
{
	uint32_t id, len;
	bool used;

	vq_add_head(&vq, 0);
	vq_kick(&vq);
	used = wait_outcome() && vq_wait_used(&vq, &id, &len, 0);
	if (!used && !needs_reset())
		guest_assert_fail(GUEST_FILE, line, "request neither failed nor reset the device");
	if (want == ANY_FAILURE) {
		if (used && !needs_reset() && status == VIRTIO_BLK_S_OK)
			guest_assert_fail(GUEST_FILE, line, "a hostile request succeeded");
	} else if (!used || needs_reset()) {
		guest_assert_fail(GUEST_FILE, line, "a bad request made the device need a reset");
	} else if (want == NO_STATUS ? status != 0xee || len : status != want) {
		guest_assert_eq_fail(GUEST_FILE, line, "status", "want", status, want);
	}
	resets += needs_reset();
	cases++;
	good_read();
}

/* A two- or three-descriptor chain with a custom middle: header, @mid, status. */
static void chain3(struct vring_desc mid)
{
	vq.desc[0] = desc(&hdr, sizeof(hdr), VRING_DESC_F_NEXT, 1);
	mid.flags |= VRING_DESC_F_NEXT;
	mid.next = 2;
	vq.desc[1] = mid;
	vq.desc[2] = desc((void *)&status, 1, VRING_DESC_F_WRITE, 0);
}

static void bad_buffers(void)
{
	const uint16_t w = VRING_DESC_F_WRITE;

	begin(VIRTIO_BLK_T_IN, 0, features);
	chain3(desc((void *)(RAM_END + 0x100000), 512, w, 0));		/* past the end of RAM */
	expect(__LINE__, ANY_FAILURE);
	begin(VIRTIO_BLK_T_IN, 0, features);
	chain3(desc((void *)(uintptr_t)dev.bar0, 512, w, 0));		/* the device's own BAR */
	expect(__LINE__, ANY_FAILURE);
	begin(VIRTIO_BLK_T_IN, 0, features);
	chain3(desc((void *)0xfffffffffffff000UL, 0x2000, w, 0));	/* wraps around 2^64 */
	expect(__LINE__, ANY_FAILURE);
	begin(VIRTIO_BLK_T_IN, 0, features);
	chain3(desc(data, 0xffffffff, w, 0));				/* 4 GiB */
	expect(__LINE__, ANY_FAILURE);
	begin(VIRTIO_BLK_T_IN, 0, features);
	vq.desc[0] = desc((void *)(0xc0000000UL - 8), sizeof(hdr), VRING_DESC_F_NEXT, 1);
	vq.desc[1] = desc((void *)&status, 1, w, 0);			/* header into the hole */
	expect(__LINE__, ANY_FAILURE);
}

static void bad_links(void)
{
	begin(VIRTIO_BLK_T_IN, 0, features);				/* 0 -> 1 -> 0 */
	vq.desc[0] = desc(&hdr, sizeof(hdr), VRING_DESC_F_NEXT, 1);
	vq.desc[1] = desc(data, 16, VRING_DESC_F_NEXT, 0);
	expect(__LINE__, ANY_FAILURE);
	begin(VIRTIO_BLK_T_IN, 0, features);				/* 0 -> 0 */
	vq.desc[0] = desc(&hdr, sizeof(hdr), VRING_DESC_F_NEXT, 0);
	expect(__LINE__, ANY_FAILURE);
	begin(VIRTIO_BLK_T_IN, 0, features);
	vq.desc[0] = desc(&hdr, sizeof(hdr), VRING_DESC_F_NEXT, QUEUE_SIZE);
	expect(__LINE__, ANY_FAILURE);
	begin(VIRTIO_BLK_T_IN, 0, features);
	vq.desc[0] = desc(&hdr, sizeof(hdr), VRING_DESC_F_NEXT, 0xffff);
	expect(__LINE__, ANY_FAILURE);
	begin(VIRTIO_BLK_T_IN, 0, features);				/* status, then header */
	vq.desc[0] = desc((void *)&status, 1, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	vq.desc[1] = desc(&hdr, sizeof(hdr), 0, 0);
	expect(__LINE__, ANY_FAILURE);
}

/* Ring indexes: a head beyond the table, and the avail index running far ahead. */
static void bad_ring(void)
{
	begin(VIRTIO_BLK_T_IN, 0, features);
	chain3(desc(data, 512, VRING_DESC_F_WRITE, 0));
	vq.avail->ring[0] = QUEUE_SIZE + 3;
	vq.avail->idx = ++vq.avail_idx;
	vq_kick(&vq);
	GUEST_ASSERT(!wait_outcome() && needs_reset());
	cases++, resets++;
	good_read();

	begin(VIRTIO_BLK_T_IN, 0, features);
	chain3(desc(data, 512, VRING_DESC_F_WRITE, 0));
	vq.avail_idx += QUEUE_SIZE + 1;		/* expect() publishes one more */
	expect(__LINE__, ANY_FAILURE);
}

/* The chain is header -> indirect(@n entries of table at @addr). */
static void indirect(const void *addr, uint32_t len, uint16_t flags)
{
	vq.desc[0] = desc(&hdr, sizeof(hdr), VRING_DESC_F_NEXT, 1);
	vq.desc[1] = desc(addr, len, VRING_DESC_F_INDIRECT | flags, 2);
}

static void bad_indirect(void)
{
	const uint16_t w = VRING_DESC_F_WRITE, n = VRING_DESC_F_NEXT;

	table[0] = desc(data, 512, w | n, 1);
	table[1] = desc((void *)&status, 1, w, 0);
	begin(VIRTIO_BLK_T_IN, 0, features);
	indirect(table, 24, 0);						/* not 16-byte entries */
	expect(__LINE__, ANY_FAILURE);
	begin(VIRTIO_BLK_T_IN, 0, features);
	indirect(table, 0, 0);						/* empty */
	expect(__LINE__, ANY_FAILURE);
	begin(VIRTIO_BLK_T_IN, 0, features);
	indirect((void *)(RAM_END - 16), 64, 0);			/* runs past RAM */
	expect(__LINE__, ANY_FAILURE);
	begin(VIRTIO_BLK_T_IN, 0, features);
	indirect(table, 32, n);						/* INDIRECT | NEXT */
	vq.desc[2] = desc((void *)&status, 1, w, 0);
	expect(__LINE__, ANY_FAILURE);
	begin(VIRTIO_BLK_T_IN, 0, 1ULL << VIRTIO_F_VERSION_1);		/* not negotiated */
	indirect(table, 32, 0);
	expect(__LINE__, ANY_FAILURE);

	table[2] = desc(&table[0], 32, VRING_DESC_F_INDIRECT, 0);	/* nested */
	begin(VIRTIO_BLK_T_IN, 0, features);
	indirect(&table[2], 16, 0);
	expect(__LINE__, ANY_FAILURE);
	table[0] = desc(data, 512, w | n, 1);				/* 0 -> 1 -> 0 */
	table[1] = desc(data + 512, 512, w | n, 0);
	begin(VIRTIO_BLK_T_IN, 0, features);
	indirect(table, 32, 0);
	expect(__LINE__, ANY_FAILURE);
	table[1] = desc(data + 512, 512, w | n, 7);			/* next past the table */
	begin(VIRTIO_BLK_T_IN, 0, features);
	indirect(table, 32, 0);
	expect(__LINE__, ANY_FAILURE);
}

/* Over VQ_MAX_SEGS segments in one indirect table; and 1000 aliasing 60 MiB each. */
static void long_chains(void)
{
	for (int i = 0; i < BIG_TABLE; i++)
		table[i] = desc(data, 16, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, i + 1);
	table[BIG_TABLE - 1].flags = VRING_DESC_F_WRITE;
	begin(VIRTIO_BLK_T_IN, 0, features);
	indirect(table, sizeof(table), 0);
	expect(__LINE__, ANY_FAILURE);

	for (int i = 0; i < 1000; i++)
		table[i] = desc((void *)0x100000, 60 << 20, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT,
				i + 1);
	table[1000] = desc((void *)&status, 1, VRING_DESC_F_WRITE, 0);
	begin(VIRTIO_BLK_T_IN, 0, features);
	indirect(table, 1001 * sizeof(table[0]), 0);
	expect(__LINE__, VIRTIO_BLK_S_IOERR);		/* 60 GB is past the end of the disk */
}

/* A ring that cannot go live: the device refuses the enable or wants a reset. */
static void bad_queue(uint16_t size, uint64_t desc_gpa, int line)
{
	uintptr_t c = dev.common;

	GUEST_ASSERT(virtio_negotiate(&dev, features));
	mmio_write16(c + VIRTIO_COMMON_Q_SELECT, 0);
	mmio_write16(c + VIRTIO_COMMON_Q_SIZE, size);
	mmio_write32(c + VIRTIO_COMMON_Q_DESC, desc_gpa);
	mmio_write32(c + VIRTIO_COMMON_Q_DESC + 4, desc_gpa >> 32);
	mmio_write32(c + VIRTIO_COMMON_Q_AVAIL, (uintptr_t)ring + 4096);
	mmio_write32(c + VIRTIO_COMMON_Q_USED, (uintptr_t)ring + 8192);
	mmio_write16(c + VIRTIO_COMMON_Q_ENABLE, 1);
	if (mmio_read16(c + VIRTIO_COMMON_Q_ENABLE) && !needs_reset())
		guest_assert_fail(GUEST_FILE, line, "a bad queue went live");
	/* Kicking it anyway must not wake anything up. */
	virtio_set_status(&dev, virtio_status(&dev) | VIRTIO_STATUS_DRIVER_OK);
	mmio_write16(dev.notify, 0);
	resets += needs_reset();
	cases++;
	good_read();
}

/* Feature bits the device did not offer, or no VERSION_1: FEATURES_OK must not stick. */
static bool features_ok(uint64_t f)
{
	const uint8_t ack = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;

	GUEST_ASSERT(virtio_reset(&dev));
	virtio_set_status(&dev, ack);
	mmio_write32(dev.common + VIRTIO_COMMON_GFSELECT, 0);
	mmio_write32(dev.common + VIRTIO_COMMON_GF, f);
	mmio_write32(dev.common + VIRTIO_COMMON_GFSELECT, 1);
	mmio_write32(dev.common + VIRTIO_COMMON_GF, f >> 32);
	virtio_set_status(&dev, ack | VIRTIO_STATUS_FEATURES_OK);
	return virtio_status(&dev) & VIRTIO_STATUS_FEATURES_OK;
}

static void bad_features(void)
{
	GUEST_ASSERT(features_ok(features));
	GUEST_ASSERT(!features_ok(features | 1ULL << 40));		/* RING_RESET */
	GUEST_ASSERT(!features_ok(1ULL << VIRTIO_F_RING_INDIRECT_DESC));	/* no VERSION_1 */
	cases += 2;
	good_read();
}

/* Queue registers and notifications for a queue the device does not have. */
static void bad_select(void)
{
	uintptr_t c = dev.common;

	GUEST_ASSERT(virtio_negotiate(&dev, features));
	mmio_write16(c + VIRTIO_COMMON_Q_SELECT, 5);
	GUEST_ASSERT_EQ(mmio_read16(c + VIRTIO_COMMON_Q_SIZE), 0);	/* not available */
	mmio_write16(c + VIRTIO_COMMON_Q_SIZE, QUEUE_SIZE);
	mmio_write32(c + VIRTIO_COMMON_Q_DESC, (uintptr_t)ring);
	mmio_write16(c + VIRTIO_COMMON_Q_ENABLE, 1);
	GUEST_ASSERT_EQ(mmio_read16(c + VIRTIO_COMMON_Q_ENABLE), 0);
	virtio_set_status(&dev, virtio_status(&dev) | VIRTIO_STATUS_DRIVER_OK);
	mmio_write16(dev.notify + 5 * dev.notify_mult, 5);
	mmio_write16(dev.notify + 0xffc, 0xffff);
	cases++;
	good_read();
}

/*
 * Requests the transport accepts and the disk must refuse with @st: a header of @hlen
 * bytes, @out readable bytes of data[], @in writable bytes (the last one the status).
 */
static void bad_request(uint32_t type, uint64_t sector, uint32_t hlen, uint32_t out, uint32_t in,
			uint8_t st, int line)
{
	unsigned int n = 0;

	begin(type, sector, features);
	if (hlen)
		vq.desc[n++] = desc(&hdr, hlen, 0, 0);
	if (out)
		vq.desc[n++] = desc(data, out, 0, 0);
	if (in > 1)
		vq.desc[n++] = desc(data + 2048, in - 1, VRING_DESC_F_WRITE, 0);
	if (in)
		vq.desc[n++] = desc((void *)&status, 1, VRING_DESC_F_WRITE, 0);
	for (unsigned int i = 0; i + 1 < n; i++) {
		vq.desc[i].flags |= VRING_DESC_F_NEXT;
		vq.desc[i].next = i + 1;
	}
	expect(line, st);
}

static void bad_blk_requests(void)
{
	const uint8_t ioerr = VIRTIO_BLK_S_IOERR, unsupp = VIRTIO_BLK_S_UNSUPP;
	const uint32_t in = VIRTIO_BLK_T_IN, out = VIRTIO_BLK_T_OUT;

	bad_request(in, 0, 8, 0, 513, ioerr, __LINE__);			/* short header */
	bad_request(in, 0, 16, 0, 0, NO_STATUS, __LINE__);		/* no status byte */
	bad_request(in, 0, 16, 0, 101, ioerr, __LINE__);		/* 100 bytes */
	bad_request(in, CAPACITY, 16, 0, 513, ioerr, __LINE__);
	bad_request(in, ~0ULL, 16, 0, 513, ioerr, __LINE__);		/* sector wraps */
	bad_request(in, 1ULL << 55, 16, 0, 513, ioerr, __LINE__);	/* offset wraps */
	bad_request(in, 0, 16, 8, 513, ioerr, __LINE__);		/* readable data */
	bad_request(out, CAPACITY, 16, 512, 1, ioerr, __LINE__);
	bad_request(out, ~0ULL - 1, 16, 1024, 1, ioerr, __LINE__);
	bad_request(out, 0, 16, 100, 1, ioerr, __LINE__);
	bad_request(out, 0, 16, 0, 513, ioerr, __LINE__);		/* writable data */
	bad_request(VIRTIO_BLK_T_GET_ID, 0, 16, 0, 11, ioerr, __LINE__);
	bad_request(VIRTIO_BLK_T_FLUSH, 0, 16, 0, 513, ioerr, __LINE__);
	bad_request(VIRTIO_BLK_T_FLUSH, 0, 16, 512, 1, ioerr, __LINE__);
	bad_request(2, 0, 16, 0, 1, unsupp, __LINE__);			/* legacy SCSI */
	bad_request(10, 0, 16, 0, 7, unsupp, __LINE__);			/* GET_LIFETIME */
	bad_request(0xffffffff, 0, 16, 0, 1, unsupp, __LINE__);
}

/* DISCARD / WRITE_ZEROES: @n segments, refused with @st (UNSUPP if not negotiated). */
static void bad_dwz(uint32_t type, unsigned int n, const struct blk_dwz *segs, uint8_t st,
		    int line)
{
	struct blk_dwz *d = (struct blk_dwz *)data;
	unsigned int feature = type == VIRTIO_BLK_T_DISCARD ? VIRTIO_BLK_F_DISCARD :
							      VIRTIO_BLK_F_WRITE_ZEROES;

	for (unsigned int i = 0; i < n; i++)
		d[i] = segs[i < 2 ? i : 1];
	if (!(dev.features & 1ULL << feature))
		st = VIRTIO_BLK_S_UNSUPP;
	bad_request(type, 0, 16, n * sizeof(*d), 1, st, line);
}

static void bad_discard_zeroes(void)
{
	const uint8_t ioerr = VIRTIO_BLK_S_IOERR, unsupp = VIRTIO_BLK_S_UNSUPP;
	const uint32_t dis = VIRTIO_BLK_T_DISCARD, wz = VIRTIO_BLK_T_WRITE_ZEROES;
	/* The first segment is good: it must not be carried out when the second is bad. */
	struct blk_dwz s[][2] = {
		{ { 4, 4, 0 }, { 4, 4, 1 } },			/* unmap on a discard */
		{ { 4, 4, 0 }, { 4, 4, 2 } },			/* unknown flag */
		{ { 4, 4, 0 }, { 4, 4, 0x80000000 } },
		{ { 4, 4, 0 }, { CAPACITY - 1, 2, 0 } },		/* past the end */
		{ { 4, 4, 0 }, { 1ULL << 63, 1, 0 } },
		{ { 4, 4, 0 }, { ~0ULL, 2, 0 } },			/* wraps */
		{ { 4, 4, 0 }, { 0, 0xffffffff, 0 } },		/* over the limit */
	};

	bad_dwz(dis, 2, s[0], unsupp, __LINE__);
	bad_dwz(dis, 2, s[1], unsupp, __LINE__);
	bad_dwz(wz, 2, s[1], unsupp, __LINE__);
	bad_dwz(wz, 2, s[2], unsupp, __LINE__);
	for (int i = 3; i < 7; i++) {
		bad_dwz(dis, 2, s[i], ioerr, __LINE__);
		bad_dwz(wz, 2, s[i], ioerr, __LINE__);
	}
	bad_dwz(wz, 0, s[0], ioerr, __LINE__);				/* no segment */
	bad_dwz(wz, 17, s[3], ioerr, __LINE__);			/* too many */
	bad_request(wz, 0, 16, 20, 1, dev.features & 1ULL << VIRTIO_BLK_F_WRITE_ZEROES ?
		    ioerr : unsupp, __LINE__);				/* 1.25 segments */
}

int guest_main(void)
{
	guest_timer_start();
	GUEST_ASSERT(virtio_pci_find(VIRTIO_ID_BLOCK, &dev));
	good_read();

	bad_buffers();
	bad_links();
	bad_ring();
	bad_indirect();
	long_chains();
	bad_queue(12, (uintptr_t)ring, __LINE__);		/* not a power of two */
	bad_queue(QUEUE_SIZE * 2 * VQ_MAX_SIZE, (uintptr_t)ring, __LINE__);	/* too big */
	bad_queue(QUEUE_SIZE, RAM_END - 64, __LINE__);		/* table past RAM */
	bad_queue(QUEUE_SIZE, 0xd0000000UL, __LINE__);		/* in the MMIO hole */
	bad_queue(QUEUE_SIZE, (uintptr_t)ring + 8, __LINE__);	/* misaligned */
	bad_features();
	bad_select();
	bad_blk_requests();
	bad_discard_zeroes();

	virtio_reset(&dev);
	lapic_timer_stop();
	uart_puts("test-virtio-hostile: survived ");
	uart_put_hex(cases);
	uart_puts(" cases, ");
	uart_put_hex(resets);
	uart_puts(" needed a reset\r\n");
	return GUEST_EXIT_OK;
}
