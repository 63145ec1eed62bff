// SPDX-License-Identifier: GPL-2.0-or-later
/* Minimal virtio-pci modern driver for the tiny guests (see virtio.h). */
#include "virtio.h"

#define PCI_CONFIG_ADDR		0xcf8
#define PCI_CONFIG_DATA		0xcfc
#define PCI_ENABLE		0x80000000u
#define PCI_SLOTS		32
#define PCI_COMMAND		0x04
#define PCI_STATUS		0x06
#define PCI_BAR0		0x10
#define PCI_CAP_PTR		0x34
#define PCI_COMMAND_MEMORY	0x2
#define PCI_COMMAND_MASTER	0x4
#define PCI_STATUS_CAP_LIST	0x10
#define PCI_CAP_ID_VNDR		0x09
#define PCI_CAP_ID_MSIX		0x11
#define PCI_CAPS_MAX		48	/* a cap list longer than config space is looping */
#define PCI_BAR_BASE(slot)	(0xc0000000UL + (slot) * 0x100000UL)	/* if unassigned */

#define VIRTIO_PCI_CAP_COMMON	1
#define VIRTIO_PCI_CAP_NOTIFY	2
#define VIRTIO_PCI_CAP_ISR	3
#define VIRTIO_PCI_CAP_DEVICE	4

#define MSIX_CTRL_ENABLE	0x8000
#define RESET_POLLS		1000
#define USED_SPINS		500	/* before sleeping on the tick: ~1 us per check here */

static void pci_select(unsigned int slot, unsigned int off)
{
	outl(PCI_CONFIG_ADDR, PCI_ENABLE | slot << 11 | (off & 0xfc));
}

uint32_t pci_cfg_read32(unsigned int slot, unsigned int off)
{
	pci_select(slot, off);
	return inl(PCI_CONFIG_DATA);
}

uint16_t pci_cfg_read16(unsigned int slot, unsigned int off)
{
	pci_select(slot, off);
	return inw(PCI_CONFIG_DATA + (off & 2));
}

uint8_t pci_cfg_read8(unsigned int slot, unsigned int off)
{
	pci_select(slot, off);
	return inb(PCI_CONFIG_DATA + (off & 3));
}

void pci_cfg_write32(unsigned int slot, unsigned int off, uint32_t v)
{
	pci_select(slot, off);
	outl(PCI_CONFIG_DATA, v);
}

void pci_cfg_write16(unsigned int slot, unsigned int off, uint16_t v)
{
	pci_select(slot, off);
	outw(PCI_CONFIG_DATA + (off & 2), v);
}

/* BAR0 (64-bit memory): where the VMM put it, or a place of our own if it did not. */
static uint64_t map_bar0(unsigned int slot)
{
	uint64_t bar = (pci_cfg_read32(slot, PCI_BAR0) & ~0xfULL) |
		       (uint64_t)pci_cfg_read32(slot, PCI_BAR0 + 4) << 32;

	if (!bar) {
		bar = PCI_BAR_BASE(slot);
		pci_cfg_write32(slot, PCI_BAR0, bar);
		pci_cfg_write32(slot, PCI_BAR0 + 4, 0);
	}
	pci_cfg_write16(slot, PCI_COMMAND, pci_cfg_read16(slot, PCI_COMMAND) |
					   PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	return bar;
}

static void vendor_cap(struct virtio_pci *dev, unsigned int cap)
{
	uint8_t type = pci_cfg_read8(dev->slot, cap + 3);
	uintptr_t addr = dev->bar0 + pci_cfg_read32(dev->slot, cap + 8);

	/* We only map BAR0, the only BAR domus-vmm's devices have. */
	if (pci_cfg_read8(dev->slot, cap + 4) != 0)
		return;
	switch (type) {
	case VIRTIO_PCI_CAP_COMMON:
		dev->common = addr;
		break;
	case VIRTIO_PCI_CAP_NOTIFY:
		dev->notify = addr;
		dev->notify_mult = pci_cfg_read32(dev->slot, cap + 16);
		break;
	case VIRTIO_PCI_CAP_ISR:
		dev->isr = addr;
		break;
	case VIRTIO_PCI_CAP_DEVICE:
		dev->device = addr;
		break;
	}
}

static bool walk_caps(struct virtio_pci *dev)
{
	unsigned int cap = pci_cfg_read8(dev->slot, PCI_CAP_PTR) & 0xfc;

	if (!(pci_cfg_read16(dev->slot, PCI_STATUS) & PCI_STATUS_CAP_LIST))
		return false;
	for (int i = 0; cap && i < PCI_CAPS_MAX; i++) {
		uint8_t id = pci_cfg_read8(dev->slot, cap);

		if (id == PCI_CAP_ID_VNDR) {
			vendor_cap(dev, cap);
		} else if (id == PCI_CAP_ID_MSIX) {
			dev->msix_cap = cap;
			dev->msix_table = dev->bar0 + (pci_cfg_read32(dev->slot, cap + 4) & ~7u);
		}
		cap = pci_cfg_read8(dev->slot, cap + 1) & 0xfc;
	}
	return dev->common && dev->notify && dev->isr;
}

bool virtio_pci_find(uint16_t device_id, struct virtio_pci *dev)
{
	for (unsigned int slot = 0; slot < PCI_SLOTS; slot++) {
		uint32_t id = pci_cfg_read32(slot, 0);

		if ((id & 0xffff) != VIRTIO_PCI_VENDOR ||
		    id >> 16 != VIRTIO_PCI_DEVICE_BASE + (uint32_t)device_id)
			continue;
		memset(dev, 0, sizeof(*dev));
		dev->slot = slot;
		dev->device_id = device_id;
		dev->bar0 = map_bar0(slot);
		return walk_caps(dev);
	}
	return false;
}

bool virtio_reset(struct virtio_pci *dev)
{
	virtio_set_status(dev, 0);
	for (int i = 0; i < RESET_POLLS; i++) {
		if (!virtio_status(dev))
			return true;
	}
	return false;
}

uint64_t virtio_device_features(struct virtio_pci *dev)
{
	uint64_t f;

	mmio_write32(dev->common + VIRTIO_COMMON_DFSELECT, 0);
	f = mmio_read32(dev->common + VIRTIO_COMMON_DF);
	mmio_write32(dev->common + VIRTIO_COMMON_DFSELECT, 1);
	return f | (uint64_t)mmio_read32(dev->common + VIRTIO_COMMON_DF) << 32;
}

bool virtio_negotiate(struct virtio_pci *dev, uint64_t want)
{
	const uint8_t ack = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;

	if (!virtio_reset(dev))
		return false;
	virtio_set_status(dev, VIRTIO_STATUS_ACKNOWLEDGE);
	virtio_set_status(dev, ack);
	dev->features = want & virtio_device_features(dev);
	mmio_write32(dev->common + VIRTIO_COMMON_GFSELECT, 0);
	mmio_write32(dev->common + VIRTIO_COMMON_GF, dev->features);
	mmio_write32(dev->common + VIRTIO_COMMON_GFSELECT, 1);
	mmio_write32(dev->common + VIRTIO_COMMON_GF, dev->features >> 32);
	virtio_set_status(dev, ack | VIRTIO_STATUS_FEATURES_OK);
	return virtio_status(dev) & VIRTIO_STATUS_FEATURES_OK;
}

static void write_addr(struct virtio_pci *dev, unsigned int off, const void *p)
{
	mmio_write32(dev->common + off, (uintptr_t)p);
	mmio_write32(dev->common + off + 4, (uint64_t)(uintptr_t)p >> 32);
}

bool virtio_queue_setup(struct virtio_pci *dev, struct vq *vq, uint16_t index, uint16_t size,
			void *mem, uint16_t vector)
{
	uint8_t *m = mem;

	mmio_write16(dev->common + VIRTIO_COMMON_Q_SELECT, index);
	if (!size || size > VQ_MAX_SIZE || size > mmio_read16(dev->common + VIRTIO_COMMON_Q_SIZE))
		return false;
	*vq = (struct vq){
		.dev = dev,
		.index = index,
		.size = size,
		.desc = (struct vring_desc *)m,
		.avail = (struct vring_avail *)(m + 4096),
		.used = (struct vring_used *)(m + 8192),
		.notify = dev->notify +
			  mmio_read16(dev->common + VIRTIO_COMMON_Q_NOFF) * dev->notify_mult,
	};
	/* Only what the rings use: at ~1 us per instruction, 12 KiB of memset is not free. */
	memset(vq->desc, 0, 16 * size);
	memset(vq->avail, 0, 6 + 2 * size);
	memset(vq->used, 0, 6 + 8 * size);
	mmio_write16(dev->common + VIRTIO_COMMON_Q_SIZE, size);
	write_addr(dev, VIRTIO_COMMON_Q_DESC, vq->desc);
	write_addr(dev, VIRTIO_COMMON_Q_AVAIL, vq->avail);
	write_addr(dev, VIRTIO_COMMON_Q_USED, vq->used);
	mmio_write16(dev->common + VIRTIO_COMMON_Q_MSIX, vector);
	if (mmio_read16(dev->common + VIRTIO_COMMON_Q_MSIX) != vector)
		return false;
	mmio_write16(dev->common + VIRTIO_COMMON_Q_ENABLE, 1);
	return mmio_read16(dev->common + VIRTIO_COMMON_Q_ENABLE) == 1;
}

bool virtio_start(struct virtio_pci *dev, struct vq *vq, uint64_t want, void *mem,
		  uint16_t size)
{
	if (!virtio_negotiate(dev, want) ||
	    !virtio_queue_setup(dev, vq, 0, size, mem, VIRTIO_MSI_NO_VECTOR))
		return false;
	virtio_set_status(dev, virtio_status(dev) | VIRTIO_STATUS_DRIVER_OK);
	return (virtio_status(dev) & ~VIRTIO_STATUS_NEEDS_RESET) ==
	       (VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK |
		VIRTIO_STATUS_DRIVER_OK);
}

void vq_add_head(struct vq *vq, uint16_t head)
{
	vq->avail->ring[vq->avail_idx % vq->size] = head;
	barrier();		/* x86 keeps stores in order; the compiler must too */
	WRITE_ONCE(vq->avail->idx, ++vq->avail_idx);
}

void vq_add(struct vq *vq, const struct vbuf *bufs, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		vq->desc[i] = (struct vring_desc){
			.addr = (uintptr_t)bufs[i].addr,
			.len = bufs[i].len,
			.flags = (bufs[i].writable ? VRING_DESC_F_WRITE : 0) |
				 (i + 1 < n ? VRING_DESC_F_NEXT : 0),
			.next = i + 1 < n ? i + 1 : 0,
		};
	}
	vq_add_head(vq, 0);
}

void vq_kick(struct vq *vq)
{
	mmio_write16(vq->notify, vq->index);
}

bool vq_wait_used(struct vq *vq, uint32_t *id, uint32_t *len, unsigned int timeout_ms)
{
	struct vring_used_elem e;
	bool ready = false;

	for (int i = 0; i < USED_SPINS && !ready; i++)
		ready = READ_ONCE(vq->used->idx) != vq->last_used;
	if (!ready && !guest_wait_until(READ_ONCE(vq->used->idx) != vq->last_used, timeout_ms))
		return false;
	barrier();
	e = vq->used->ring[vq->last_used++ % vq->size];
	*id = e.id;
	*len = e.len;
	return true;
}

bool vq_transfer(struct vq *vq, const struct vbuf *bufs, unsigned int n, uint32_t *len)
{
	uint32_t id;

	vq_add(vq, bufs, n);
	vq_kick(vq);
	return vq_wait_used(vq, &id, len, 2000) && id == 0;
}

void virtio_msix_enable(struct virtio_pci *dev)
{
	unsigned int ctrl = dev->msix_cap + 2;

	pci_cfg_write16(dev->slot, ctrl, pci_cfg_read16(dev->slot, ctrl) | MSIX_CTRL_ENABLE);
}

void virtio_msix_route(struct virtio_pci *dev, unsigned int entry, uint32_t apic_id,
		       uint8_t vector)
{
	uintptr_t e = dev->msix_table + 16 * entry;

	/* Fixed delivery, edge, physical destination (Intel SDM Vol. 3 §11.11). */
	mmio_write32(e + 0, LAPIC_BASE | apic_id << 12);
	mmio_write32(e + 4, 0);
	mmio_write32(e + 8, vector);
	mmio_write32(e + 12, 0);		/* unmask */
}
