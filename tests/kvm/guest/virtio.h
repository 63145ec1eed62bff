/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A minimal virtio-pci (modern, virtio 1.2 §4.1) driver for the tiny guests: finds a device
 * on bus 0 through configuration mechanism #1, maps its capabilities, negotiates features,
 * sets up split virtqueues (§2.7) in guest RAM and moves one request at a time.
 *
 * Completions are polled on the used ring: a short spin, then sleeps on the watchdog tick,
 * so call guest_timer_start() before waiting on a queue. Every wait is bounded.
 * The test may also write the rings itself (struct vq is open): that is what the hostile
 * tests do.
 */
#ifndef GUEST_VIRTIO_H
#define GUEST_VIRTIO_H

#include "libguest.h"

#define VIRTIO_PCI_VENDOR		0x1af4
#define VIRTIO_PCI_DEVICE_BASE		0x1040
#define VIRTIO_ID_BLOCK			2
#define VIRTIO_ID_RNG			4

#define VIRTIO_STATUS_ACKNOWLEDGE	0x01
#define VIRTIO_STATUS_DRIVER		0x02
#define VIRTIO_STATUS_DRIVER_OK		0x04
#define VIRTIO_STATUS_FEATURES_OK	0x08
#define VIRTIO_STATUS_NEEDS_RESET	0x40
#define VIRTIO_STATUS_FAILED		0x80

#define VIRTIO_F_RING_INDIRECT_DESC	28
#define VIRTIO_F_RING_EVENT_IDX		29
#define VIRTIO_F_VERSION_1		32
#define VIRTIO_MSI_NO_VECTOR		0xffff

/* struct virtio_pci_common_cfg (virtio 1.2 §4.1.4.3) */
#define VIRTIO_COMMON_DFSELECT		0x00
#define VIRTIO_COMMON_DF		0x04
#define VIRTIO_COMMON_GFSELECT		0x08
#define VIRTIO_COMMON_GF		0x0c
#define VIRTIO_COMMON_MSIX		0x10
#define VIRTIO_COMMON_NUMQ		0x12
#define VIRTIO_COMMON_STATUS		0x14
#define VIRTIO_COMMON_CFGGENERATION	0x15
#define VIRTIO_COMMON_Q_SELECT		0x16
#define VIRTIO_COMMON_Q_SIZE		0x18
#define VIRTIO_COMMON_Q_MSIX		0x1a
#define VIRTIO_COMMON_Q_ENABLE		0x1c
#define VIRTIO_COMMON_Q_NOFF		0x1e
#define VIRTIO_COMMON_Q_DESC		0x20
#define VIRTIO_COMMON_Q_AVAIL		0x28
#define VIRTIO_COMMON_Q_USED		0x30

#define VRING_DESC_F_NEXT		1
#define VRING_DESC_F_WRITE		2
#define VRING_DESC_F_INDIRECT		4

struct vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct vring_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[];
};

struct vring_used_elem {
	uint32_t id;
	uint32_t len;
};

struct vring_used {
	uint16_t flags;
	uint16_t idx;
	struct vring_used_elem ring[];
};

/* One virtio-pci function, as found on bus 0. */
struct virtio_pci {
	unsigned int slot;
	uint16_t device_id;		/* virtio id: VIRTIO_ID_* */
	uint64_t bar0;
	uintptr_t common, isr, device, notify;
	uint32_t notify_mult;
	uint8_t msix_cap;		/* config-space offset of the MSI-X capability, or 0 */
	uintptr_t msix_table;
	uint64_t features;		/* what virtio_negotiate() accepted */
};

/* Ring memory of one queue (size <= VQ_MAX_SIZE): page-aligned, in guest RAM. */
#define VQ_MAX_SIZE			256
#define VQ_MEM_SIZE			(3 * 4096)	/* desc, avail, used: one page each */

struct vq {
	struct virtio_pci *dev;
	uint16_t index, size;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint16_t avail_idx;		/* next avail->idx we publish */
	uint16_t last_used;		/* used entries consumed */
	uintptr_t notify;
};

/* One descriptor of a chain for vq_add(). */
struct vbuf {
	const void *addr;
	uint32_t len;
	bool writable;
};

/* PCI configuration mechanism #1, bus 0. */
uint32_t pci_cfg_read32(unsigned int slot, unsigned int off);
uint16_t pci_cfg_read16(unsigned int slot, unsigned int off);
uint8_t pci_cfg_read8(unsigned int slot, unsigned int off);
void pci_cfg_write32(unsigned int slot, unsigned int off, uint32_t v);
void pci_cfg_write16(unsigned int slot, unsigned int off, uint16_t v);

/*
 * Find the first virtio device with @device_id on bus 0, map its capabilities and turn on
 * memory decoding and bus mastering. Return: false if there is none or it looks wrong.
 */
bool virtio_pci_find(uint16_t device_id, struct virtio_pci *dev);

static inline uint8_t virtio_status(const struct virtio_pci *dev)
{
	return mmio_read8(dev->common + VIRTIO_COMMON_STATUS);
}

static inline void virtio_set_status(const struct virtio_pci *dev, uint8_t status)
{
	mmio_write8(dev->common + VIRTIO_COMMON_STATUS, status);
}

/* Write 0 to the status and wait until it reads 0 (§4.1.4.3.2). */
bool virtio_reset(struct virtio_pci *dev);
uint64_t virtio_device_features(struct virtio_pci *dev);
/*
 * Reset, ACKNOWLEDGE|DRIVER, accept @want & offered features, FEATURES_OK.
 * Return: whether the device kept FEATURES_OK; dev->features holds what was written.
 */
bool virtio_negotiate(struct virtio_pci *dev, uint64_t want);
/*
 * Set up queue @index with @size entries in @mem (VQ_MEM_SIZE bytes, page-aligned) and
 * MSI-X vector @vector (VIRTIO_MSI_NO_VECTOR for none), then enable it.
 * Return: false if the device refused the size, the vector or the enable.
 */
bool virtio_queue_setup(struct virtio_pci *dev, struct vq *vq, uint16_t index, uint16_t size,
			void *mem, uint16_t vector);
/* virtio_negotiate(), queue 0 without interrupts and DRIVER_OK: a ready device. */
bool virtio_start(struct virtio_pci *dev, struct vq *vq, uint64_t want, void *mem,
		  uint16_t size);

/* Device-specific config space. */
static inline uint32_t virtio_cfg_read32(const struct virtio_pci *dev, unsigned int off)
{
	return mmio_read32(dev->device + off);
}

static inline uint64_t virtio_cfg_read64(const struct virtio_pci *dev, unsigned int off)
{
	return virtio_cfg_read32(dev, off) | (uint64_t)virtio_cfg_read32(dev, off + 4) << 32;
}

/* Chain @n buffers in descriptors 0..n-1 and make them available (one request in flight). */
void vq_add(struct vq *vq, const struct vbuf *bufs, unsigned int n);
/* Publish a head that is already in the descriptor table. */
void vq_add_head(struct vq *vq, uint16_t head);
void vq_kick(struct vq *vq);
/* Wait for the next used entry. Return: false on timeout; else its id and length. */
bool vq_wait_used(struct vq *vq, uint32_t *id, uint32_t *len, unsigned int timeout_ms);
/* vq_add(), kick and wait. Return: false on timeout. */
bool vq_transfer(struct vq *vq, const struct vbuf *bufs, unsigned int n, uint32_t *len);

/* MSI-X: enable the function's MSI-X, and program @entry to @vector on @apic_id, unmasked. */
void virtio_msix_enable(struct virtio_pci *dev);
void virtio_msix_route(struct virtio_pci *dev, unsigned int entry, uint32_t apic_id,
		       uint8_t vector);

#endif
