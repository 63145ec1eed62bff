// SPDX-License-Identifier: GPL-2.0-or-later
/* PCI configuration mechanism #1, bus 0, and the host bridge at 00:00.0. */
#include <errno.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "layout.h"
#include "pci.h"
#include "savestate.h"
#include "vm.h"

#define CONFIG_ENABLE	0x80000000u
#define HOST_BRIDGE_VENDOR 0x1b36	/* Red Hat, Inc. (the QEMU/virt PCI IDs) */
#define HOST_BRIDGE_DEVICE 0x0008	/* generic PCIe host bridge */
#define PCI_CLASS_HOST_BRIDGE 0x060000

struct pci_bus {
	struct vm *vm;
	pthread_mutex_t lock;		/* protects config_addr and every device's config space */
	uint32_t config_addr;
	struct pci_dev host_bridge;
	struct pci_dev *devs[PCI_MAX_SLOTS];
};

void pci_dev_init(struct pci_dev *dev, uint16_t vendor, uint16_t device, uint32_t class_code,
		  uint8_t revision)
{
	memset(dev, 0, sizeof(*dev));
	dev->cfg[PCI_VENDOR_ID] = vendor;
	dev->cfg[PCI_VENDOR_ID + 1] = vendor >> 8;
	dev->cfg[PCI_DEVICE_ID] = device;
	dev->cfg[PCI_DEVICE_ID + 1] = device >> 8;
	dev->cfg[PCI_REVISION_ID] = revision;
	dev->cfg[PCI_CLASS_PROG] = class_code;
	dev->cfg[PCI_CLASS_PROG + 1] = class_code >> 8;
	dev->cfg[PCI_CLASS_PROG + 2] = class_code >> 16;
	/* Command: I/O, memory, bus master and INTx disable are the guest's to set. */
	dev->wmask[PCI_COMMAND] = PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	dev->wmask[PCI_COMMAND + 1] = PCI_COMMAND_INTX_DISABLE >> 8;
	dev->wmask[PCI_INTERRUPT_LINE] = 0xff;
}

static uint32_t bar_low_bits(const struct pci_bar *bar)
{
	return bar->flags & (PCI_BAR_IO | PCI_BAR_MEM64 | PCI_BAR_PREFETCH);
}

static void put_bar(struct pci_dev *dev, int i)
{
	const struct pci_bar *bar = &dev->bars[i];
	uint32_t lo = (uint32_t)bar->addr | bar_low_bits(bar);

	memcpy(&dev->cfg[PCI_BAR0 + 4 * i], &lo, 4);
	if (bar->flags & PCI_BAR_MEM64) {
		uint32_t hi = bar->addr >> 32;

		memcpy(&dev->cfg[PCI_BAR0 + 4 * (i + 1)], &hi, 4);
	}
}

int pci_dev_set_bar(struct pci_dev *dev, int i, uint64_t size, uint32_t flags, uint64_t addr)
{
	int words = flags & PCI_BAR_MEM64 ? 2 : 1;

	if (i < 0 || i + words > PCI_NUM_BARS || !size || (size & (size - 1)) || (addr & (size - 1)))
		return -EINVAL;
	dev->bars[i] = (struct pci_bar){ .size = size, .flags = flags, .addr = addr };
	put_bar(dev, i);
	return 0;
}

static bool decoding(const struct pci_dev *dev, const struct pci_bar *bar)
{
	uint8_t cmd = dev->cfg[PCI_COMMAND];

	return bar->flags & PCI_BAR_IO ? cmd & PCI_COMMAND_IO : cmd & PCI_COMMAND_MEMORY;
}

/* After a write to a BAR or the command register: tell the device what moved. */
static void sync_bars(struct pci_dev *dev)
{
	for (int i = 0; i < PCI_NUM_BARS; i++) {
		struct pci_bar *bar = &dev->bars[i];
		uint64_t addr;
		bool on;

		if (!bar->size)
			continue;
		memcpy(&addr, &dev->cfg[PCI_BAR0 + 4 * i], bar->flags & PCI_BAR_MEM64 ? 8 : 4);
		if (!(bar->flags & PCI_BAR_MEM64))
			addr &= 0xffffffffu;
		addr &= ~(bar->size - 1) & ~0xfULL;
		/* A BAR being sized reads as all-ones: never map that. */
		on = decoding(dev, bar) && addr && addr != (~(bar->size - 1) & ~0xfULL);
		if (addr == bar->addr && on == bar->mapped)
			continue;
		if (bar->mapped && dev->ops && dev->ops->bar_update)
			dev->ops->bar_update(dev, i, bar->addr, false);
		bar->addr = addr;
		bar->mapped = on;
		if (on && dev->ops && dev->ops->bar_update)
			dev->ops->bar_update(dev, i, addr, true);
	}
}

/* The BAR registers keep only the address bits the size allows, plus the type bits. */
static void write_bar_byte(struct pci_dev *dev, unsigned int off, uint8_t val)
{
	unsigned int reg = (off - PCI_BAR0) / 4;
	int i = reg;
	uint64_t mask;

	if (reg > 0 && !dev->bars[reg].size && (dev->bars[reg - 1].flags & PCI_BAR_MEM64))
		i = reg - 1;			/* high half of a 64-bit BAR */
	if (!dev->bars[i].size)
		return;
	mask = ~(dev->bars[i].size - 1);
	if (!(dev->bars[i].flags & PCI_BAR_MEM64))
		mask &= 0xffffffffu;
	unsigned int byte = off - (PCI_BAR0 + 4 * i);
	uint8_t m = mask >> (8 * byte);

	if (byte == 0)
		m &= 0xf0;			/* type bits are read-only */
	dev->cfg[off] = (dev->cfg[off] & ~m) | (val & m);
	if (byte == 0)
		dev->cfg[off] = (dev->cfg[off] & 0xf0) | bar_low_bits(&dev->bars[i]);
}

static void dev_cfg_write(struct pci_dev *dev, unsigned int off, const uint8_t *data,
			  unsigned int len)
{
	bool touches_bars = false;

	for (unsigned int i = 0; i < len; i++) {
		unsigned int o = off + i;

		if (o >= PCI_BAR0 && o < PCI_BAR0 + 4 * PCI_NUM_BARS) {
			write_bar_byte(dev, o, data[i]);
			touches_bars = true;
		} else {
			dev->cfg[o] = (dev->cfg[o] & ~dev->wmask[o]) | (data[i] & dev->wmask[o]);
		}
		if (o == PCI_COMMAND)
			touches_bars = true;
	}
	if (dev->ops && dev->ops->cfg_write)
		dev->ops->cfg_write(dev, off, data, len);
	if (touches_bars)
		sync_bars(dev);
}

static struct pci_dev *slot_dev(struct pci_bus *bus, unsigned int slot)
{
	return slot < PCI_MAX_SLOTS ? bus->devs[slot] : NULL;
}

void pci_bus_cfg_access(struct pci_bus *bus, unsigned int slot, unsigned int off, uint8_t *data,
			unsigned int len, bool is_write)
{
	struct pci_dev *dev = slot_dev(bus, slot);

	if (!dev || off >= PCI_CFG_SIZE || len > PCI_CFG_SIZE - off) {
		if (!is_write)
			memset(data, 0xff, len);	/* no device: vendor 0xffff */
		return;
	}
	if (is_write) {
		dev_cfg_write(dev, off, data, len);
		return;
	}
	memcpy(data, &dev->cfg[off], len);
	if (dev->ops && dev->ops->cfg_read)
		dev->ops->cfg_read(dev, off, data, len);
}

#define RESET_CONTROL_SYS_RST 0x04	/* 0xcf9 bit 2: reset the machine */

/*
 * 0xcf8-0xcfb: a 32-bit access at 0xcf8 is CONFIG_ADDRESS. Byte accesses are not: Linux's
 * probe writes 0xcfb, and 0xcf9 is the chipset's reset control register.
 */
static void config_addr_io(void *opaque, unsigned int vcpu_id, uint64_t port, uint8_t *data,
			   unsigned int len, bool is_write)
{
	struct pci_bus *bus = opaque;

	if (port == PORT_PCI_RESET && len == 1) {
		if (is_write && (data[0] & RESET_CONTROL_SYS_RST))
			vm_request_exit(bus->vm, DOMUS_EXIT_REBOOT, "guest rebooted (port 0xcf9)");
		else if (!is_write)
			data[0] = 0;
		return;
	}
	if (port != PORT_PCI_CONFIG_ADDR || len != 4) {
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	pthread_mutex_lock(&bus->lock);
	if (is_write)
		memcpy(&bus->config_addr, data, 4);
	else
		memcpy(data, &bus->config_addr, 4);
	pthread_mutex_unlock(&bus->lock);
}

static void config_data_io(void *opaque, unsigned int vcpu_id, uint64_t port, uint8_t *data,
			   unsigned int len, bool is_write)
{
	struct pci_bus *bus = opaque;
	unsigned int lane = port - PORT_PCI_CONFIG_DATA;
	uint32_t a;

	pthread_mutex_lock(&bus->lock);
	a = bus->config_addr;
	/* Enabled, bus 0, function 0 only; an access may not run past the dword. */
	if (!(a & CONFIG_ENABLE) || ((a >> 16) & 0xff) || ((a >> 8) & 7) || lane + len > 4) {
		if (!is_write)
			memset(data, 0xff, len);
	} else {
		pci_bus_cfg_access(bus, (a >> 11) & 0x1f, (a & 0xfc) + lane, data, len, is_write);
	}
	pthread_mutex_unlock(&bus->lock);
}

int pci_bus_free_slot(struct pci_bus *bus)
{
	for (unsigned int slot = 1; slot < PCI_MAX_SLOTS; slot++)
		if (!bus->devs[slot])
			return slot;
	return -ENOSPC;
}

void pci_bus_remove(struct pci_bus *bus, struct pci_dev *dev)
{
	pthread_mutex_lock(&bus->lock);
	if (dev->slot < PCI_MAX_SLOTS && bus->devs[dev->slot] == dev)
		bus->devs[dev->slot] = NULL;
	pthread_mutex_unlock(&bus->lock);
}

int pci_bus_add(struct pci_bus *bus, struct pci_dev *dev)
{
	for (unsigned int slot = 1; slot < PCI_MAX_SLOTS; slot++) {
		if (bus->devs[slot])
			continue;
		dev->slot = slot;
		pthread_mutex_lock(&bus->lock);
		bus->devs[slot] = dev;
		sync_bars(dev);
		pthread_mutex_unlock(&bus->lock);
		return slot;
	}
	return -ENOSPC;
}

int pci_bus_create(struct vm *vm, struct pci_bus **out)
{
	struct pci_bus *bus = calloc(1, sizeof(*bus));
	int ret;

	if (!bus)
		return -ENOMEM;
	bus->vm = vm;
	pthread_mutex_init(&bus->lock, NULL);
	/* Linux's conf1 sanity check looks for a host bridge (class 06/00) on bus 0. */
	pci_dev_init(&bus->host_bridge, HOST_BRIDGE_VENDOR, HOST_BRIDGE_DEVICE,
		     PCI_CLASS_HOST_BRIDGE, 0);
	bus->devs[0] = &bus->host_bridge;
	ret = io_bus_register(&vm->pio, PORT_PCI_CONFIG_ADDR, 4, config_addr_io, bus);
	if (!ret)
		ret = io_bus_register(&vm->pio, PORT_PCI_CONFIG_DATA, 4, config_data_io, bus);
	if (ret) {
		pci_bus_free(bus);
		return ret;
	}
	*out = bus;
	return 0;
}

void pci_bus_free(struct pci_bus *bus)
{
	if (!bus)
		return;
	pthread_mutex_destroy(&bus->lock);
	free(bus);
}

struct pci_dev *pci_bus_slot(struct pci_bus *bus, unsigned int slot)
{
	return slot_dev(bus, slot);
}

void pci_bus_save(struct pci_bus *bus, struct ss_pci *rec)
{
	memset(rec, 0, sizeof(*rec));
	pthread_mutex_lock(&bus->lock);
	rec->config_addr = bus->config_addr;
	for (unsigned int slot = 0; slot < PCI_MAX_SLOTS; slot++) {
		if (!bus->devs[slot])
			continue;
		rec->present |= 1u << slot;
		memcpy(rec->cfg[slot], bus->devs[slot]->cfg, PCI_CFG_SIZE);
	}
	pthread_mutex_unlock(&bus->lock);
}

/*
 * Saved config space goes in as the guest's own writes would (write masks, BAR sizes, the
 * devices' hooks, BAR mapping), so a file cannot set up what a guest could not.
 */
int pci_bus_load(struct pci_bus *bus, const struct ss_pci *rec, char *err, size_t errlen)
{
	for (unsigned int slot = 0; slot < PCI_MAX_SLOTS; slot++) {
		bool saved = rec->present & (1u << slot);

		if (saved != !!bus->devs[slot]) {
			snprintf(err, errlen, "PCI slot %u: %s", slot, saved ?
				 "the saved machine has a device there, this one has none" :
				 "this machine has a device the saved one did not have");
			return -EINVAL;
		}
	}
	pthread_mutex_lock(&bus->lock);
	bus->config_addr = rec->config_addr;
	for (unsigned int slot = 0; slot < PCI_MAX_SLOTS; slot++)
		if (bus->devs[slot])
			dev_cfg_write(bus->devs[slot], PCI_COMMAND, rec->cfg[slot] + PCI_COMMAND,
				      PCI_CFG_SIZE - PCI_COMMAND);
	pthread_mutex_unlock(&bus->lock);
	return 0;
}
