/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * PCI bus 0 behind configuration mechanism #1 (ports 0xcf8/0xcfc), with a host bridge at
 * 00:00.0. Devices register a 256-byte type-0 config space; the bus handles BAR sizing and
 * tells the device where its BARs live whenever the guest moves or enables them.
 */
#ifndef DOMUS_PCI_H
#define DOMUS_PCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PCI_MAX_SLOTS		32
#define PCI_CFG_SIZE		256
#define PCI_NUM_BARS		6

#define PCI_VENDOR_ID		0x00
#define PCI_DEVICE_ID		0x02
#define PCI_COMMAND		0x04
#define PCI_STATUS		0x06
#define PCI_REVISION_ID		0x08
#define PCI_CLASS_PROG		0x09
#define PCI_HEADER_TYPE		0x0e
#define PCI_BAR0		0x10
#define PCI_SUBSYSTEM_VENDOR_ID	0x2c
#define PCI_SUBSYSTEM_ID	0x2e
#define PCI_CAPABILITY_LIST	0x34
#define PCI_INTERRUPT_LINE	0x3c
#define PCI_INTERRUPT_PIN	0x3d

#define PCI_COMMAND_IO		0x1
#define PCI_COMMAND_MEMORY	0x2
#define PCI_COMMAND_MASTER	0x4
#define PCI_COMMAND_INTX_DISABLE 0x400
#define PCI_STATUS_CAP_LIST	0x10

#define PCI_BAR_IO		0x1
#define PCI_BAR_MEM64		0x4
#define PCI_BAR_PREFETCH	0x8

struct vm;
struct pci_dev;

struct pci_dev_ops {
	/* A BAR was placed at @addr (@enabled: decoding on) or taken away. Main or vCPU thread. */
	void (*bar_update)(struct pci_dev *dev, int bar, uint64_t addr, bool enabled);
	/* Optional hooks for device-specific config registers (capabilities). */
	void (*cfg_read)(struct pci_dev *dev, unsigned int off, uint8_t *data, unsigned int len);
	void (*cfg_write)(struct pci_dev *dev, unsigned int off, const uint8_t *data,
			  unsigned int len);
};

struct pci_bar {
	uint64_t size;			/* power of two; 0: no BAR */
	uint32_t flags;			/* PCI_BAR_IO / PCI_BAR_MEM64 / PCI_BAR_PREFETCH */
	uint64_t addr;			/* as last programmed */
	bool mapped;			/* bar_update(enabled) was last called with true */
};

/* A device's config space is data: it is saved and restored with the device. */
struct pci_dev {
	uint8_t cfg[PCI_CFG_SIZE];
	uint8_t wmask[PCI_CFG_SIZE];	/* bits the guest may write */
	struct pci_bar bars[PCI_NUM_BARS];
	const struct pci_dev_ops *ops;
	void *opaque;
	unsigned int slot;
};

struct pci_bus;

int pci_bus_create(struct vm *vm, struct pci_bus **out);
void pci_bus_free(struct pci_bus *bus);

void pci_dev_init(struct pci_dev *dev, uint16_t vendor, uint16_t device, uint32_t class_code,
		  uint8_t revision);
int pci_dev_set_bar(struct pci_dev *dev, int bar, uint64_t size, uint32_t flags, uint64_t addr);
/* The slot pci_bus_add() will use next, or -ENOSPC. */
int pci_bus_free_slot(struct pci_bus *bus);
/* Place @dev in a free slot (1..31). Return: the slot or -ENOSPC. */
int pci_bus_add(struct pci_bus *bus, struct pci_dev *dev);
void pci_bus_remove(struct pci_bus *bus, struct pci_dev *dev);

/* Config space access as the guest sees it (used by the port handlers and tests). */
void pci_bus_cfg_access(struct pci_bus *bus, unsigned int slot, unsigned int off, uint8_t *data,
			unsigned int len, bool is_write);

/* Save/restore (main thread, vCPUs paused or not started). */
struct ss_pci;
struct pci_dev *pci_bus_slot(struct pci_bus *bus, unsigned int slot);
void pci_bus_save(struct pci_bus *bus, struct ss_pci *rec);
/* Return: 0, or -EINVAL with @err saying how the machines differ. */
int pci_bus_load(struct pci_bus *bus, const struct ss_pci *rec, char *err, size_t errlen);

#endif
