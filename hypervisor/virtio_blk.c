// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * virtio block device (virtio 1.2 §5.2) on a raw image file or a host block device.
 *
 * Requests run synchronously on the transport's worker thread, one at a time and in ring
 * order. Every field of a request is checked before any I/O: its framing (a 16-byte header,
 * the data, one status byte as the last device-writable byte), the type against the
 * negotiated features, lengths in whole sectors, and the range against the capacity
 * without overflow. A malformed request completes with IOERR or UNSUPP; it never reaches
 * the backing file.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "fdarg.h"
#include "log.h"
#include "savestate.h"
#include "virtio.h"
#include "virtio_blk.h"

#define VBLK_QUEUE_SIZE		256
#define SECTOR_SHIFT		9
#define SECTOR_SIZE		512
#define VBLK_SEG_MAX		(VQ_MAX_SEGS - 2)	/* the header and status need one each */
#define VBLK_DWZ_SEG_MAX	16			/* segments per discard / write zeroes */
#define VBLK_DISCARD_MAX	(1U << 22)		/* sectors per segment: 2 GiB */
#define VBLK_ZEROES_MAX		(1U << 16)		/* 32 MiB: it may be written out */
#define PCI_CLASS_STORAGE_OTHER	0x018000

#define VIRTIO_BLK_F_SEG_MAX		2
#define VIRTIO_BLK_F_RO			5
#define VIRTIO_BLK_F_BLK_SIZE		6
#define VIRTIO_BLK_F_FLUSH		9
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

#define VIRTIO_BLK_WZ_UNMAP		1

/* Little-endian, as the guest reads it (virtio 1.2 §5.2.4), through the secure-erase fields. */
struct virtio_blk_config {
	uint64_t capacity;
	uint32_t size_max;
	uint32_t seg_max;
	uint16_t cylinders;
	uint8_t heads, sectors;
	uint32_t blk_size;
	uint8_t physical_block_exp, alignment_offset;
	uint16_t min_io_size;
	uint32_t opt_io_size;
	uint8_t writeback, unused0;
	uint16_t num_queues;
	uint32_t max_discard_sectors, max_discard_seg, discard_sector_alignment;
	uint32_t max_write_zeroes_sectors, max_write_zeroes_seg;
	uint8_t write_zeroes_may_unmap, unused1[3];
	uint32_t max_secure_erase_sectors, max_secure_erase_seg, secure_erase_sector_alignment;
} __attribute__((packed));

struct virtio_blk_req_hdr {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

struct virtio_blk_dwz_seg {
	uint64_t sector;
	uint32_t num_sectors;
	uint32_t flags;
};

#define HDR_LEN sizeof(struct virtio_blk_req_hdr)

struct vblk {
	struct virtio_dev *vdev;
	struct virtio_dev_ops ops;	/* per disk: the features depend on the backing file */
	int fd;
	char *name;			/* path or "fd N", for messages */
	bool readonly, blkdev;
	bool handed_over;		/* migrated: the destination owns the image (under
					 * vdev->lock) */
	bool can_punch;			/* file: FALLOC_FL_PUNCH_HOLE works */
	bool can_zero_range;		/* file: FALLOC_FL_ZERO_RANGE works (else write zeroes) */
	uint32_t discard_align;		/* bytes: what the backing store deallocates at once */
	uint64_t capacity;		/* 512-byte sectors */
	struct virtio_blk_config config;
	char serial[VBLK_SERIAL_MAX];
	/* Worker thread, under vdev->lock: */
	struct vblk_stats stats;
	struct vq_elem elem;
	struct iovec data[VQ_MAX_SEGS];
};

/* Counters are bumped by the worker while it does I/O without the device lock. */
#define STAT_ADD(blk, field, n) __atomic_add_fetch(&(blk)->stats.field, (n), __ATOMIC_RELAXED)

static bool range_ok(const struct vblk *blk, uint64_t sector, uint64_t nsec)
{
	return sector <= blk->capacity && nsec <= blk->capacity - sector;
}

/* preadv/pwritev until every byte moved. Return: 0, or -errno (-EIO: the file ended). */
static int rw_all(int fd, struct iovec *iov, unsigned int n, uint64_t off, bool write)
{
	while (n) {
		ssize_t done = write ? pwritev(fd, iov, n, off) : preadv(fd, iov, n, off);

		if (done < 0 && errno == EINTR)
			continue;
		if (done < 0)
			return -errno;
		if (done == 0)
			return -EIO;	/* the image shrank under us */
		off += done;
		/* A short transfer: skip what moved and go on with the rest. */
		while (n && (size_t)done >= iov->iov_len) {
			done -= iov->iov_len;
			iov++;
			n--;
		}
		if (n) {
			iov->iov_base = (uint8_t *)iov->iov_base + done;
			iov->iov_len -= done;
		}
	}
	return 0;
}

/* Without a negotiated FLUSH, writes are stable on completion (virtio 1.2 §5.2.6.2). */
static int sync_if_writethrough(struct vblk *blk)
{
	if (virtio_has_feature(blk->vdev, VIRTIO_BLK_F_FLUSH))
		return 0;
	return fdatasync(blk->fd) ? -errno : 0;
}

static uint8_t do_rw(struct vblk *blk, const struct vq_elem *elem, uint64_t sector, bool write,
		     uint64_t *written)
{
	const struct iovec *iov = write ? elem->iov : elem->iov + elem->nr_out;
	uint64_t len = write ? elem->out_len - HDR_LEN : elem->in_len - 1;
	unsigned int n;
	int ret;

	/* IN: only the header is readable; OUT: only the status is writable. */
	if (write ? elem->in_len != 1 : elem->out_len != HDR_LEN)
		return VIRTIO_BLK_S_IOERR;
	if (write && blk->readonly)
		return VIRTIO_BLK_S_IOERR;	/* and nothing written (§5.2.6.2) */
	if (len % SECTOR_SIZE || !range_ok(blk, sector, len >> SECTOR_SHIFT))
		return VIRTIO_BLK_S_IOERR;
	n = iov_slice(iov, write ? elem->nr_out : elem->nr_in, write ? HDR_LEN : 0, len,
		      blk->data);
	ret = rw_all(blk->fd, blk->data, n, sector << SECTOR_SHIFT, write);
	if (!ret && write)
		ret = sync_if_writethrough(blk);
	if (ret) {
		pr_warn("%s: %s at sector %llu: %s", blk->name, write ? "write" : "read",
			(unsigned long long)sector, strerror(-ret));
		return VIRTIO_BLK_S_IOERR;
	}
	if (write) {
		STAT_ADD(blk, writes, 1);
		STAT_ADD(blk, write_bytes, len);
	} else {
		STAT_ADD(blk, reads, 1);
		STAT_ADD(blk, read_bytes, len);
		*written = len;
	}
	return VIRTIO_BLK_S_OK;
}

static uint8_t do_flush(struct vblk *blk, const struct vq_elem *elem)
{
	if (elem->out_len != HDR_LEN || elem->in_len != 1)
		return VIRTIO_BLK_S_IOERR;
	if (!virtio_has_feature(blk->vdev, VIRTIO_BLK_F_FLUSH))
		return VIRTIO_BLK_S_UNSUPP;
	/* Every write before this one has completed (one thread, in order): commit them. */
	if (fdatasync(blk->fd)) {
		pr_warn("%s: flush: %m", blk->name);
		return VIRTIO_BLK_S_IOERR;
	}
	STAT_ADD(blk, flushes, 1);
	return VIRTIO_BLK_S_OK;
}

static uint8_t do_get_id(struct vblk *blk, const struct vq_elem *elem, uint64_t *written)
{
	if (elem->out_len != HDR_LEN || elem->in_len != VBLK_SERIAL_MAX + 1)
		return VIRTIO_BLK_S_IOERR;
	*written = vq_elem_write(elem, 0, blk->serial, VBLK_SERIAL_MAX);
	return VIRTIO_BLK_S_OK;
}

static int discard_range(struct vblk *blk, uint64_t off, uint64_t len)
{
	uint64_t range[2] = { off, len };
	int ret;

	if (blk->blkdev)
		ret = ioctl(blk->fd, BLKDISCARD, range);
	else
		ret = fallocate(blk->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, len);
	/* A discard is only a hint (§5.2.6.2 "MAY deallocate"): not doing it is fine. */
	if (ret && errno == EOPNOTSUPP)
		return 0;
	return ret ? -errno : 0;
}

/* For files whose filesystem cannot FALLOC_FL_ZERO_RANGE: write the zeroes out. */
static int write_zeroes_out(int fd, uint64_t off, uint64_t len)
{
	static const uint8_t zeroes[64 * 1024];

	while (len) {
		size_t n = len < sizeof(zeroes) ? len : sizeof(zeroes);
		ssize_t done = pwrite(fd, zeroes, n, off);

		if (done < 0 && errno == EINTR)
			continue;
		if (done <= 0)
			return done < 0 ? -errno : -EIO;
		off += done;
		len -= done;
	}
	return 0;
}

static int zero_range(struct vblk *blk, uint64_t off, uint64_t len, bool unmap)
{
	uint64_t range[2] = { off, len };

	if (blk->blkdev)
		return ioctl(blk->fd, BLKZEROOUT, range) ? -errno : 0;
	/* A hole reads back as zeroes: that is what unmap allows. */
	if (unmap && blk->can_punch &&
	    !fallocate(blk->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, len))
		return 0;
	if (blk->can_zero_range) {
		if (!fallocate(blk->fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, off, len))
			return 0;
		if (errno != EOPNOTSUPP)
			return -errno;
		blk->can_zero_range = false;
	}
	return write_zeroes_out(blk->fd, off, len);
}

/* DISCARD and WRITE_ZEROES: every segment is checked before any is carried out. */
static uint8_t do_discard_zeroes(struct vblk *blk, const struct vq_elem *elem, bool zeroes)
{
	struct virtio_blk_dwz_seg seg[VBLK_DWZ_SEG_MAX];
	uint64_t len = elem->out_len - HDR_LEN, n = len / sizeof(seg[0]);
	uint32_t max = zeroes ? VBLK_ZEROES_MAX : VBLK_DISCARD_MAX;

	if (!virtio_has_feature(blk->vdev, zeroes ? VIRTIO_BLK_F_WRITE_ZEROES :
						    VIRTIO_BLK_F_DISCARD))
		return VIRTIO_BLK_S_UNSUPP;
	if (elem->in_len != 1 || !n || len % sizeof(seg[0]) || n > VBLK_DWZ_SEG_MAX ||
	    blk->readonly)
		return VIRTIO_BLK_S_IOERR;
	vq_elem_read(elem, HDR_LEN, seg, len);
	/* Unknown flags, or unmap on a discard, are UNSUPP whatever else is wrong (§5.2.6.2). */
	for (unsigned int i = 0; i < n; i++) {
		uint32_t flags = le32toh(seg[i].flags);

		if ((flags & ~VIRTIO_BLK_WZ_UNMAP) || (!zeroes && flags))
			return VIRTIO_BLK_S_UNSUPP;
	}
	for (unsigned int i = 0; i < n; i++) {
		uint32_t nsec = le32toh(seg[i].num_sectors);

		if (nsec > max || !range_ok(blk, le64toh(seg[i].sector), nsec))
			return VIRTIO_BLK_S_IOERR;
	}
	for (unsigned int i = 0; i < n; i++) {
		uint64_t off = le64toh(seg[i].sector) << SECTOR_SHIFT;
		uint64_t bytes = (uint64_t)le32toh(seg[i].num_sectors) << SECTOR_SHIFT;
		bool unmap = le32toh(seg[i].flags) & VIRTIO_BLK_WZ_UNMAP;
		int ret;

		if (!bytes)
			continue;
		ret = zeroes ? zero_range(blk, off, bytes, unmap) : discard_range(blk, off, bytes);
		if (ret) {
			pr_warn("%s: %s: %s", blk->name, zeroes ? "write zeroes" : "discard",
				strerror(-ret));
			return VIRTIO_BLK_S_IOERR;
		}
	}
	if (zeroes && sync_if_writethrough(blk))
		return VIRTIO_BLK_S_IOERR;
	if (zeroes)
		STAT_ADD(blk, write_zeroes, 1);
	else
		STAT_ADD(blk, discards, 1);
	return VIRTIO_BLK_S_OK;
}

/* Carry out one request. Return: the status; @written: data bytes given to the driver. */
static uint8_t do_request(struct vblk *blk, const struct vq_elem *elem, uint64_t *written)
{
	struct virtio_blk_req_hdr hdr;

	if (vq_elem_read(elem, 0, &hdr, sizeof(hdr)) != sizeof(hdr))
		return VIRTIO_BLK_S_IOERR;
	switch (le32toh(hdr.type)) {
	case VIRTIO_BLK_T_IN:
		return do_rw(blk, elem, le64toh(hdr.sector), false, written);
	case VIRTIO_BLK_T_OUT:
		return do_rw(blk, elem, le64toh(hdr.sector), true, written);
	case VIRTIO_BLK_T_FLUSH:
		return do_flush(blk, elem);
	case VIRTIO_BLK_T_GET_ID:
		return do_get_id(blk, elem, written);
	case VIRTIO_BLK_T_DISCARD:
		return do_discard_zeroes(blk, elem, false);
	case VIRTIO_BLK_T_WRITE_ZEROES:
		return do_discard_zeroes(blk, elem, true);
	default:
		return VIRTIO_BLK_S_UNSUPP;
	}
}

static void vblk_queue_notify(struct virtio_dev *dev, struct virtqueue *vq)
{
	struct vblk *blk = dev->opaque;
	bool pushed = false;

	/* Migrated away: the requests are the destination's (its copy of the ring has them). */
	if (blk->handed_over)
		return;
	/* A malformed ring or chain (vq_pop() < 0) has already set NEEDS_RESET: stop. */
	while (vq_pop(vq, &blk->elem) > 0) {
		struct vq_elem *elem = &blk->elem;
		uint64_t written = 0;
		uint8_t status;

		/* No writable byte for the status: the driver cannot learn anything. */
		if (!elem->in_len) {
			STAT_ADD(blk, errors, 1);
			vq_push(vq, elem, 0);
			pushed = true;
			continue;
		}
		/*
		 * The I/O itself runs without the device lock, so a vCPU touching the
		 * device's registers never waits for the disk (an fdatasync can take a
		 * while). If the driver reset the device meanwhile, the request belongs to
		 * rings that are gone: drop its completion.
		 */
		uint64_t gen = dev->reset_gen;

		dev->inflight++;	/* a save waits for it (virtio_pci_quiesce) */
		pthread_mutex_unlock(&dev->lock);
		status = do_request(blk, elem, &written);
		pthread_mutex_lock(&dev->lock);
		if (!--dev->inflight)
			pthread_cond_broadcast(&dev->idle);
		if (gen != dev->reset_gen)
			return;
		if (status != VIRTIO_BLK_S_OK) {
			STAT_ADD(blk, errors, 1);
			written = 0;
		}
		vq_elem_write(elem, elem->in_len - 1, &status, 1);
		/* The used length is 32 bits; a larger read is capped, the driver ignores it. */
		vq_push(vq, elem, written + 1 > UINT32_MAX ? UINT32_MAX : written + 1);
		pushed = true;
	}
	if (pushed)
		vq_notify(vq);
}

static void vblk_read_config(struct virtio_dev *dev, uint32_t off, uint8_t *data, uint32_t len)
{
	struct vblk *blk = dev->opaque;

	memset(data, 0, len);
	if (off < sizeof(blk->config) && len <= sizeof(blk->config) - off)
		memcpy(data, (uint8_t *)&blk->config + off, len);
}

/* The MACHINE record names the disk by size and mode: a restore must get the same. */
static void vblk_describe(struct virtio_dev *dev, uint64_t *size, uint32_t *flags)
{
	struct vblk *blk = dev->opaque;

	*size = blk->capacity * 512;
	*flags = blk->readonly ? SS_DEV_READONLY : 0;
}

/* --- command line ------------------------------------------------------------------- */

static int __attribute__((format(printf, 4, 5)))
parse_error(char *err, size_t errlen, int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return ret;
}

static int parse_serial(const char *val, struct vblk_config *cfg, char *err, size_t errlen)
{
	if (strlen(val) > VBLK_SERIAL_MAX)
		return parse_error(err, errlen, -EINVAL, "serial '%s' is longer than %d characters",
				   val, VBLK_SERIAL_MAX);
	/* The guest shows it as a string (/sys/block/vda/serial): printable ASCII only. */
	for (const char *p = val; *p; p++) {
		if (*p < 0x20 || *p > 0x7e)
			return parse_error(err, errlen, -EINVAL, "serial: not printable ASCII");
	}
	strcpy(cfg->serial, val);
	return 0;
}

static int open_image(const char *path, struct vblk_config *cfg, char *err, size_t errlen)
{
	cfg->fd = open(path, (cfg->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (cfg->fd < 0)
		return parse_error(err, errlen, -errno, "%s: %s", path, strerror(errno));
	cfg->path = strdup(path);
	return cfg->path ? 0 : parse_error(err, errlen, -ENOMEM, "out of memory");
}

/* fd=N: a descriptor the control library opened for us; we own it from here on. */
static int adopt_fd(const char *val, struct vblk_config *cfg, char *err, size_t errlen)
{
	int fd, fl = fdarg_adopt(val, &fd, err, errlen);

	if (fl < 0)
		return fl;
	if (!cfg->readonly && (fl & O_ACCMODE) == O_RDONLY)
		return parse_error(err, errlen, -EBADF, "fd=%d is read-only: add readonly=on",
				   fd);
	cfg->fd = fd;
	return 0;
}

static int check_image(const struct vblk_config *cfg, const char *name, char *err,
		       size_t errlen)
{
	struct stat st;

	if (fstat(cfg->fd, &st))
		return parse_error(err, errlen, -errno, "%s: %s", name, strerror(errno));
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		return parse_error(err, errlen, -EINVAL, "%s: not a regular file or block device",
				   name);
	return 0;
}

/*
 * A migration's source once it sent GO: no request is served here any more (one still in
 * flight is waited for), and the image's lock goes now, so that the destination, which
 * waits for it before it runs the guest, does not also wait for this process to tear its VM
 * down (13-22 ms on the development host, more under nesting).
 */
void vblk_hand_over(struct vblk *blk)
{
	struct flock fl = { .l_type = F_UNLCK, .l_whence = SEEK_SET };

	virtio_pci_quiesce(blk->vdev);
	blk->handed_over = true;
	if (fcntl(blk->fd, F_OFD_SETLK, &fl))
		pr_warn("%s: cannot unlock the image: %m", blk->name);
	virtio_pci_resume(blk->vdev);
}

/* An open-file-description lock: two domains writing one image corrupt it. */
int vblk_config_lock(const struct vblk_config *cfg, char *err, size_t errlen)
{
	struct flock fl = { .l_type = cfg->readonly ? F_RDLCK : F_WRLCK, .l_whence = SEEK_SET };
	const char *name = cfg->path ? cfg->path : "the disk";

	if (!fcntl(cfg->fd, F_OFD_SETLK, &fl))
		return 0;
	if (errno == EAGAIN || errno == EACCES)
		return parse_error(err, errlen, -EBUSY, "%s: in use by another process", name);
	pr_warn("%s: cannot lock the image: %m", name);	/* e.g. a filesystem without locks */
	return 0;
}

static int parse_items(char *list, struct vblk_config *cfg, const char **path,
		       const char **fd, char *err, size_t errlen)
{
	char *item;
	int ret = 0;

	while (!ret && (item = strsep(&list, ","))) {
		char *val = strchr(item, '=');

		if (!val)
			return parse_error(err, errlen, -EINVAL,
					   "'%s': expected KEY=VALUE (a path cannot contain ',')",
					   item);
		*val++ = '\0';
		if ((!strcmp(item, "path") || !strcmp(item, "fd")) && (*path || *fd))
			return parse_error(err, errlen, -EINVAL, "give one of path= and fd=, once");
		if (!strcmp(item, "path") && *val)
			*path = val;
		else if (!strcmp(item, "fd"))
			*fd = val;
		else if (!strcmp(item, "readonly") && (!strcmp(val, "on") || !strcmp(val, "off")))
			cfg->readonly = !strcmp(val, "on");
		else if (!strcmp(item, "serial"))
			ret = parse_serial(val, cfg, err, errlen);
		else
			return parse_error(err, errlen, -EINVAL, "bad disk option '%s=%s'", item,
					   val);
	}
	return ret;
}

int vblk_parse_option(const char *arg, struct vblk_config *cfg, char *err, size_t errlen)
{
	char *list __free = strdup(arg);
	const char *path = NULL, *fd = NULL;
	int ret;

	*cfg = (struct vblk_config){ .fd = -1 };
	if (!list)
		return parse_error(err, errlen, -ENOMEM, "out of memory");
	ret = parse_items(list, cfg, &path, &fd, err, errlen);
	if (!ret && !path && !fd)
		ret = parse_error(err, errlen, -EINVAL, "a disk needs path=FILE or fd=N");
	if (!ret)
		ret = path ? open_image(path, cfg, err, errlen) : adopt_fd(fd, cfg, err, errlen);
	if (!ret)
		ret = check_image(cfg, path ? path : arg, err, errlen);
	if (ret) {
		/* An adopted fd=N stays the caller's when we refuse it. */
		if (path)
			vblk_config_release(cfg);
		*cfg = (struct vblk_config){ .fd = -1 };
	}
	return ret;
}

void vblk_config_release(struct vblk_config *cfg)
{
	if (cfg->fd >= 0)
		close(cfg->fd);
	free((char *)cfg->path);
	cfg->fd = -1;
	cfg->path = NULL;
}

/* --- backing file ------------------------------------------------------------------- */

/* Size and capabilities of the image. Return: 0 or -errno. */
static int probe_backing(struct vblk *blk)
{
	int logical = SECTOR_SIZE;
	uint64_t bytes;
	struct stat st;

	if (fstat(blk->fd, &st))
		return -errno;
	if (S_ISBLK(st.st_mode)) {
		blk->blkdev = true;
		if (ioctl(blk->fd, BLKGETSIZE64, &bytes) || ioctl(blk->fd, BLKSSZGET, &logical))
			return -errno;
	} else if (S_ISREG(st.st_mode)) {
		bytes = st.st_size;
		/*
		 * Probe hole punching beyond the end of the file, where it changes nothing
		 * (KEEP_SIZE). ZERO_RANGE is only found out on first use: it has a fallback.
		 */
		blk->can_punch = !blk->readonly &&
				 !fallocate(blk->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					    st.st_size, 4096);
		blk->can_zero_range = !blk->readonly;
		blk->discard_align = st.st_blksize;	/* the filesystem's block */
	} else {
		return -EINVAL;
	}
	if (bytes % SECTOR_SIZE)
		pr_warn("%s: size is not a multiple of 512 bytes; the tail is not visible",
			blk->name);
	blk->capacity = bytes >> SECTOR_SHIFT;
	if (logical < SECTOR_SIZE || logical % SECTOR_SIZE)
		logical = SECTOR_SIZE;
	blk->config.blk_size = htole32(logical);
	if (blk->discard_align < (uint32_t)logical || blk->discard_align % SECTOR_SIZE)
		blk->discard_align = logical;
	return 0;
}

static uint64_t setup_features(struct vblk *blk)
{
	struct virtio_blk_config *c = &blk->config;
	uint64_t f = 1ULL << VIRTIO_BLK_F_SEG_MAX | 1ULL << VIRTIO_BLK_F_BLK_SIZE |
		     1ULL << VIRTIO_BLK_F_FLUSH;

	c->capacity = htole64(blk->capacity);
	c->seg_max = htole32(VBLK_SEG_MAX);
	c->num_queues = htole16(1);
	if (blk->readonly)
		return f | 1ULL << VIRTIO_BLK_F_RO;
	if (blk->blkdev || blk->can_punch) {
		f |= 1ULL << VIRTIO_BLK_F_DISCARD;
		c->max_discard_sectors = htole32(VBLK_DISCARD_MAX);
		c->max_discard_seg = htole32(VBLK_DWZ_SEG_MAX);
		c->discard_sector_alignment = htole32(blk->discard_align >> SECTOR_SHIFT);
		c->write_zeroes_may_unmap = 1;
	}
	f |= 1ULL << VIRTIO_BLK_F_WRITE_ZEROES;
	c->max_write_zeroes_sectors = htole32(VBLK_ZEROES_MAX);
	c->max_write_zeroes_seg = htole32(VBLK_DWZ_SEG_MAX);
	return f;
}

int vblk_create(struct vm *vm, const struct vblk_config *cfg, struct vblk **out)
{
	struct vblk *blk = calloc(1, sizeof(*blk));
	char name[32];
	int ret;

	if (!blk)
		return -ENOMEM;
	snprintf(name, sizeof(name), "disk fd %d", cfg->fd);
	blk->name = strdup(cfg->path ? cfg->path : name);
	blk->fd = fcntl(cfg->fd, F_DUPFD_CLOEXEC, 3);
	blk->readonly = cfg->readonly;
	/* NUL-padded as GET_ID returns it: blk is zeroed, so copy the characters only. */
	memcpy(blk->serial, cfg->serial, strnlen(cfg->serial, sizeof(blk->serial)));
	if (!blk->name || blk->fd < 0) {
		ret = blk->name ? -errno : -ENOMEM;
		goto fail;
	}
	ret = probe_backing(blk);
	if (ret)
		goto fail;
	blk->ops = (struct virtio_dev_ops){
		.name = "virtio-blk",
		.device_id = VIRTIO_ID_BLOCK,
		.pci_class = PCI_CLASS_STORAGE_OTHER,
		.num_queues = 1,
		.queue_max = VBLK_QUEUE_SIZE,
		.features = setup_features(blk),
		.config_size = sizeof(blk->config),
		.read_config = vblk_read_config,
		.queue_notify = vblk_queue_notify,
		.describe = vblk_describe,
	};
	ret = virtio_pci_create(vm, &blk->ops, blk, &blk->vdev);
	if (ret)
		goto fail;
	pr_debug("virtio-blk: %s, %llu sectors%s, PCI slot %u", blk->name,
		 (unsigned long long)blk->capacity, blk->readonly ? ", read-only" : "",
		 blk->vdev->pci.slot);
	*out = blk;
	return 0;
fail:
	vblk_free(blk);
	return ret;
}

void vblk_free(struct vblk *blk)
{
	if (!blk)
		return;
	virtio_pci_free(blk->vdev);	/* joins the worker: no request is running after this */
	if (blk->fd >= 0)
		close(blk->fd);
	free(blk->name);
	free(blk);
}

void vblk_get_stats(struct vblk *blk, struct vblk_stats *st)
{
	const uint64_t *src = (const uint64_t *)&blk->stats;
	uint64_t *dst = (uint64_t *)st;

	_Static_assert(sizeof(*st) % sizeof(uint64_t) == 0, "vblk_stats holds only u64s");
	for (size_t i = 0; i < sizeof(*st) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}
