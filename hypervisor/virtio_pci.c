// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Virtio over PCI, modern transport only (virtio 1.2 §4.1): vendor capabilities for the
 * common, notify, ISR and device config structures in BAR0, MSI-X in BAR0 delivered through
 * KVM irqfds, queue notifications through KVM ioeventfds, one worker thread per device.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "layout.h"
#include "log.h"
#include "savestate.h"
#include "virtio.h"
#include "vm.h"

/* BAR0 layout. */
#define BAR_SIZE		0x8000
#define COMMON_OFF		0x0000
#define COMMON_LEN		0x38
#define ISR_OFF			0x1000
#define DEVICE_OFF		0x2000
#define DEVICE_MAX		0x1000
#define NOTIFY_OFF		0x3000
#define NOTIFY_MULT		4
#define MSIX_TABLE_OFF		0x4000
#define MSIX_PBA_OFF		0x5000

/* Config space capabilities. */
#define CAP_COMMON		0x40
#define CAP_NOTIFY		0x50
#define CAP_ISR			0x64
#define CAP_DEVICE		0x74
#define CAP_MSIX		0x84
#define PCI_CAP_ID_VNDR		0x09
#define PCI_CAP_ID_MSIX		0x11
#define VIRTIO_PCI_CAP_COMMON_CFG 1
#define VIRTIO_PCI_CAP_NOTIFY_CFG 2
#define VIRTIO_PCI_CAP_ISR_CFG	3
#define VIRTIO_PCI_CAP_DEVICE_CFG 4
#define MSIX_CTRL_ENABLE	0x8000
#define MSIX_CTRL_MASKALL	0x4000
#define MSIX_ENTRY_MASKED	0x1

#define VIRTIO_PCI_VENDOR	0x1af4
#define VIRTIO_PCI_DEVICE_BASE	0x1040
#define VIRTIO_PCI_SUBSYS_BASE	0x40
#define TRANSPORT_FEATURES	((1ULL << VIRTIO_F_VERSION_1) | \
				 (1ULL << VIRTIO_F_RING_INDIRECT_DESC) | \
				 (1ULL << VIRTIO_F_RING_EVENT_IDX))

static uint64_t offered_features(const struct virtio_dev *dev)
{
	return dev->ops->features | TRANSPORT_FEATURES;
}

bool virtio_has_feature(const struct virtio_dev *dev, unsigned int bit)
{
	return dev->driver_features & (1ULL << bit);
}

/* --- MSI-X --------------------------------------------------------------------------- */

static bool vector_masked(const struct virtio_dev *dev, unsigned int v)
{
	return !dev->msix_enabled || dev->msix_masked || (dev->msix[v].ctrl & MSIX_ENTRY_MASKED);
}

static void fire_vector(struct virtio_dev *dev, unsigned int v)
{
	uint64_t one = 1;

	if (write(dev->msix_fd[v], &one, sizeof(one)) < 0)
		pr_warn("%s: cannot raise MSI-X vector %u", dev->ops->name, v);
}

/* INTx, for drivers without MSI-X: INTA# of slot s is GSI 16 + s % 8 (the DSDT's _PRT). */
static uint32_t intx_gsi(const struct virtio_dev *dev)
{
	return GSI_PCI_FIRST + dev->pci.slot % 8;
}

static void intx_set(struct virtio_dev *dev, bool level)
{
	if (dev->intx_level == level)
		return;
	dev->intx_level = level;
	vm_irq_line(dev->vm, intx_gsi(dev), level);
}

/*
 * Called with dev->lock held, from the worker or a vCPU. @isr_bit is 1 for a queue, 2 for
 * a config change: with MSI-X off the line stays asserted until the driver reads the ISR.
 */
static void signal(struct virtio_dev *dev, uint16_t v, uint8_t isr_bit)
{
	dev->isr |= isr_bit;
	if (!dev->msix_enabled) {
		if (!(dev->pci.cfg[PCI_COMMAND + 1] & (PCI_COMMAND_INTX_DISABLE >> 8)))
			intx_set(dev, true);
		return;
	}
	if (v >= dev->nr_vectors)
		return;		/* VIRTIO_MSI_NO_VECTOR or a bad one: no interrupt wanted */
	if (vector_masked(dev, v))
		dev->msix_pending |= 1ULL << v;
	else
		fire_vector(dev, v);
}

void virtio_signal_vector(struct virtio_dev *dev, uint16_t v)
{
	signal(dev, v, 0x1);
}

/* After a mask bit changed: deliver what became unmasked and was pending. */
static void msix_replay(struct virtio_dev *dev)
{
	for (unsigned int v = 0; v < dev->nr_vectors; v++) {
		if ((dev->msix_pending & (1ULL << v)) && !vector_masked(dev, v)) {
			dev->msix_pending &= ~(1ULL << v);
			fire_vector(dev, v);
		}
	}
}

static void msix_update_route(struct virtio_dev *dev, unsigned int v)
{
	const struct msix_entry *e = &dev->msix[v];

	vm_msi_route_set(dev->vm, dev->msix_gsi[v], (uint64_t)e->addr_hi << 32 | e->addr_lo,
			 e->data);
}

static void msix_table_access(struct virtio_dev *dev, uint64_t off, uint8_t *data,
			      unsigned int len, bool is_write)
{
	unsigned int v = off / 16, word = (off % 16) / 4;
	uint32_t *reg;

	/* Only aligned dword accesses are defined (PCI spec); others read 0 / are dropped. */
	if (v >= dev->nr_vectors || len != 4 || off % 4) {
		if (!is_write)
			memset(data, 0, len);
		return;
	}
	reg = &dev->msix[v].addr_lo + word;
	if (!is_write) {
		memcpy(data, reg, 4);
		return;
	}
	memcpy(reg, data, 4);
	if (word == 3)
		dev->msix[v].ctrl &= MSIX_ENTRY_MASKED;
	msix_update_route(dev, v);
	msix_replay(dev);
}

/* --- common configuration ------------------------------------------------------------ */

static void kick_queue(struct virtio_dev *dev, uint64_t off);

static void reset_queue(struct virtio_dev *dev, struct virtqueue *vq)
{
	vq->size = dev->ops->queue_max;
	vq->enabled = false;
	vq->msix_vector = VIRTIO_MSI_NO_VECTOR;
	vq->desc_gpa = vq->avail_gpa = vq->used_gpa = 0;
	vq->last_avail = vq->used_idx = vq->signalled_used = 0;
	vq->signalled_used_valid = false;
}

static void device_reset(struct virtio_dev *dev)
{
	if (dev->ops->reset)
		dev->ops->reset(dev);
	dev->reset_gen++;
	for (unsigned int i = 0; i < dev->ops->num_queues; i++)
		reset_queue(dev, &dev->vqs[i]);
	dev->status = 0;
	dev->driver_features = 0;
	dev->device_feature_sel = dev->driver_feature_sel = 0;
	dev->queue_sel = 0;
	dev->msix_config = VIRTIO_MSI_NO_VECTOR;
	dev->isr = 0;
	dev->msix_pending = 0;
	intx_set(dev, false);
}

void virtio_dev_needs_reset(struct virtio_dev *dev, const char *fmt, ...)
{
	char why[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	/* A guest looping "bad request, reset" must not flood the log: first ten, then 1/1000. */
	if (!(dev->status & VIRTIO_STATUS_NEEDS_RESET) &&
	    (++dev->bad_resets <= 10 || dev->bad_resets % 1000 == 0))
		pr_warn("%s (PCI slot %u): bad request from the guest: %s; the device needs a reset"
			" (%llu so far)", dev->ops->name, dev->pci.slot, why,
			(unsigned long long)dev->bad_resets);
	dev->status |= VIRTIO_STATUS_NEEDS_RESET;
	virtio_config_changed(dev);
}

void virtio_config_changed(struct virtio_dev *dev)
{
	dev->config_generation++;
	signal(dev, dev->msix_config, 0x2);
}

/* A queue may only go live with a power-of-two size and rings inside guest RAM. */
static const char *queue_layout_error(struct virtio_dev *dev, const struct virtqueue *vq)
{
	uint64_t n = vq->size;

	if (!n || (n & (n - 1)) || n > dev->ops->queue_max)
		return "bad size";
	if ((vq->desc_gpa & 15) || (vq->avail_gpa & 1) || (vq->used_gpa & 3) ||
	    !vm_gpa_to_hva(dev->vm, vq->desc_gpa, 16 * n) ||
	    !vm_gpa_to_hva(dev->vm, vq->avail_gpa, 6 + 2 * n) ||
	    !vm_gpa_to_hva(dev->vm, vq->used_gpa, 6 + 8 * n))
		return "rings outside guest RAM or misaligned";
	return NULL;
}

static void enable_queue(struct virtio_dev *dev, struct virtqueue *vq)
{
	const char *why = queue_layout_error(dev, vq);

	if (why) {
		virtio_dev_needs_reset(dev, "queue %u: %s (size %u)", vq->index, why, vq->size);
		return;
	}
	vq->last_avail = vq->used_idx = 0;
	vq->enabled = true;
}

static void set_status(struct virtio_dev *dev, uint8_t val)
{
	if (!val) {
		device_reset(dev);
		return;
	}
	if ((val & VIRTIO_STATUS_FEATURES_OK) && !(dev->status & VIRTIO_STATUS_FEATURES_OK)) {
		/* Refuse (do not latch FEATURES_OK) what we did not offer or a legacy driver. */
		if ((dev->driver_features & ~offered_features(dev)) ||
		    !virtio_has_feature(dev, VIRTIO_F_VERSION_1))
			val &= ~VIRTIO_STATUS_FEATURES_OK;
	}
	if ((val & VIRTIO_STATUS_DRIVER_OK) && !(dev->status & VIRTIO_STATUS_DRIVER_OK)) {
		if (dev->ops->activate)
			dev->ops->activate(dev);
		/*
		 * Some drivers queue buffers and kick before DRIVER_OK (Linux's balloon does
		 * with its stats buffer); the worker ignored those kicks, so kick every live
		 * queue once now.
		 */
		for (unsigned int q = 0; q < dev->ops->num_queues; q++)
			if (dev->vqs[q].enabled)
				kick_queue(dev, NOTIFY_OFF + NOTIFY_MULT * q);
	}
	dev->status = val | (dev->status & VIRTIO_STATUS_NEEDS_RESET);
}

static struct virtqueue *selected_queue(struct virtio_dev *dev)
{
	return dev->queue_sel < dev->ops->num_queues ? &dev->vqs[dev->queue_sel] : NULL;
}

/* The common config as the driver reads it, laid out in @buf (virtio_pci_common_cfg). */
static void common_snapshot(struct virtio_dev *dev, uint8_t *buf)
{
	struct virtqueue *vq = selected_queue(dev);
	uint32_t feat = dev->device_feature_sel < 2 ?
				offered_features(dev) >> (32 * dev->device_feature_sel) : 0;
	uint32_t drv = dev->driver_feature_sel < 2 ?
			       dev->driver_features >> (32 * dev->driver_feature_sel) : 0;
	uint16_t nq = dev->ops->num_queues, zero16 = 0;
	uint16_t notify_off = vq ? vq->index : 0;

	memset(buf, 0, COMMON_LEN);
	memcpy(buf + 0, &dev->device_feature_sel, 4);
	memcpy(buf + 4, &feat, 4);
	memcpy(buf + 8, &dev->driver_feature_sel, 4);
	memcpy(buf + 12, &drv, 4);
	memcpy(buf + 16, &dev->msix_config, 2);
	memcpy(buf + 18, &nq, 2);
	buf[20] = dev->status;
	buf[21] = dev->config_generation;
	memcpy(buf + 22, &dev->queue_sel, 2);
	memcpy(buf + 24, vq ? &vq->size : &zero16, 2);
	memcpy(buf + 26, vq ? &vq->msix_vector : &zero16, 2);
	buf[28] = vq && vq->enabled;
	memcpy(buf + 30, &notify_off, 2);
	if (vq) {
		memcpy(buf + 32, &vq->desc_gpa, 8);
		memcpy(buf + 40, &vq->avail_gpa, 8);
		memcpy(buf + 48, &vq->used_gpa, 8);
	}
}

/* Write the low or high half (or all) of a 64-bit ring address. */
static void write_addr(uint64_t *addr, uint64_t off, const uint8_t *data, unsigned int len)
{
	uint8_t bytes[8];

	memcpy(bytes, addr, 8);
	memcpy(bytes + off, data, len);
	memcpy(addr, bytes, 8);
}

static void write_queue_field(struct virtio_dev *dev, uint64_t off, uint32_t v,
			      const uint8_t *data, unsigned int len)
{
	struct virtqueue *vq = selected_queue(dev);

	if (!vq)
		return;
	/* Ring layout is fixed once enabled; the spec forbids changing it then. */
	if (vq->enabled && off != 26)
		return;
	if (off == 24 && len == 2)
		vq->size = v;
	else if (off == 26 && len == 2)
		vq->msix_vector = v < dev->nr_vectors ? v : VIRTIO_MSI_NO_VECTOR;
	else if (off == 28 && len == 2 && v == 1)
		enable_queue(dev, vq);
	else if (off >= 32 && off + len <= 56 && (len == 4 || len == 8) && off % len == 0)
		write_addr(off < 40 ? &vq->desc_gpa : off < 48 ? &vq->avail_gpa : &vq->used_gpa,
			   off % 8, data, len);
}

static void common_write(struct virtio_dev *dev, uint64_t off, const uint8_t *data,
			 unsigned int len)
{
	uint32_t v = 0;

	memcpy(&v, data, len < 4 ? len : 4);
	if (off == 0 && len == 4) {
		dev->device_feature_sel = v;
	} else if (off == 8 && len == 4) {
		dev->driver_feature_sel = v;
	} else if (off == 12 && len == 4) {
		if (dev->driver_feature_sel < 2 && !(dev->status & VIRTIO_STATUS_FEATURES_OK)) {
			unsigned int shift = 32 * dev->driver_feature_sel;

			dev->driver_features &= ~(0xffffffffULL << shift);
			dev->driver_features |= (uint64_t)v << shift;
		}
	} else if (off == 16 && len == 2) {
		dev->msix_config = v < dev->nr_vectors ? v : VIRTIO_MSI_NO_VECTOR;
	} else if (off == 20 && len == 1) {
		set_status(dev, v);
	} else if (off == 22 && len == 2) {
		dev->queue_sel = v;
	} else {
		write_queue_field(dev, off, v, data, len);
	}
}

/* --- BAR0 ---------------------------------------------------------------------------- */

static void kick_queue(struct virtio_dev *dev, uint64_t off)
{
	unsigned int q = (off - NOTIFY_OFF) / NOTIFY_MULT;
	uint64_t one = 1;

	if (q < dev->ops->num_queues && write(dev->vqs[q].kick_fd, &one, sizeof(one)) < 0)
		pr_debug("%s: kick of queue %u lost", dev->ops->name, q);
}

static void bar_read(struct virtio_dev *dev, uint64_t off, uint8_t *data, unsigned int len)
{
	uint8_t buf[COMMON_LEN];

	memset(data, 0, len);
	if (off + len <= COMMON_LEN) {
		common_snapshot(dev, buf);
		memcpy(data, buf + off, len);
	} else if (off == ISR_OFF) {
		data[0] = dev->isr;	/* reading clears it and the INTx line (virtio 1.2 §4.1.4.5) */
		dev->isr = 0;
		intx_set(dev, false);
	} else if (off >= DEVICE_OFF && off + len <= DEVICE_OFF + dev->ops->config_size) {
		if (dev->ops->read_config)
			dev->ops->read_config(dev, off - DEVICE_OFF, data, len);
	} else if (off >= MSIX_TABLE_OFF && off < MSIX_TABLE_OFF + 16 * dev->nr_vectors) {
		msix_table_access(dev, off - MSIX_TABLE_OFF, data, len, false);
	} else if (off >= MSIX_PBA_OFF && off + len <= MSIX_PBA_OFF + 8) {
		memcpy(data, (uint8_t *)&dev->msix_pending + (off - MSIX_PBA_OFF), len);
	}
}

static void bar_write(struct virtio_dev *dev, uint64_t off, const uint8_t *data,
		      unsigned int len)
{
	if (off + len <= COMMON_LEN)
		common_write(dev, off, data, len);
	else if (off >= DEVICE_OFF && off + len <= DEVICE_OFF + dev->ops->config_size) {
		if (dev->ops->write_config)
			dev->ops->write_config(dev, off - DEVICE_OFF, data, len);
	} else if (off >= NOTIFY_OFF && off < NOTIFY_OFF + NOTIFY_MULT * dev->ops->num_queues)
		kick_queue(dev, off);
	else if (off >= MSIX_TABLE_OFF && off < MSIX_TABLE_OFF + 16 * dev->nr_vectors)
		msix_table_access(dev, off - MSIX_TABLE_OFF, (uint8_t *)data, len, true);
}

static void bar_mmio(void *opaque, unsigned int vcpu_id, uint64_t addr, uint8_t *data,
		     unsigned int len, bool is_write)
{
	struct virtio_dev *dev = opaque;

	pthread_mutex_lock(&dev->lock);
	if (!dev->bar_addr || addr < dev->bar_addr || addr - dev->bar_addr >= BAR_SIZE) {
		if (!is_write)
			memset(data, 0xff, len);
	} else if (is_write) {
		bar_write(dev, addr - dev->bar_addr, data, len);
	} else {
		bar_read(dev, addr - dev->bar_addr, data, len);
	}
	pthread_mutex_unlock(&dev->lock);
}

static void set_ioeventfds(struct virtio_dev *dev, uint64_t bar, bool assign)
{
	for (unsigned int q = 0; q < dev->ops->num_queues; q++) {
		struct virtqueue *vq = &dev->vqs[q];
		struct kvm_ioeventfd io = {
			.addr = bar + NOTIFY_OFF + NOTIFY_MULT * q,
			.len = 2,	/* Linux writes the 16-bit queue index */
			.fd = vq->kick_fd,
			.flags = assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN,
		};

		if (assign == vq->ioeventfd)
			continue;
		if (ioctl(dev->vm->vm_fd, KVM_IOEVENTFD, &io) == 0)
			vq->ioeventfd = assign;
		else if (assign)
			pr_debug("%s: no ioeventfd for queue %u, kicks exit to the VMM",
				 dev->ops->name, q);
	}
}

/*
 * The guest moved BAR0 or switched decoding. Bus registration happens without dev->lock: a
 * vCPU inside bar_mmio() holds the bus read lock and wants dev->lock.
 */
static void bar_update(struct pci_dev *pdev, int bar, uint64_t addr, bool enabled)
{
	struct virtio_dev *dev = pdev->opaque;

	if (bar != 0)
		return;
	if (!enabled) {
		set_ioeventfds(dev, addr, false);
		io_bus_unregister(&dev->vm->mmio, addr, dev);
		pthread_mutex_lock(&dev->lock);
		dev->bar_addr = 0;
		pthread_mutex_unlock(&dev->lock);
		return;
	}
	if (io_bus_register(&dev->vm->mmio, addr, BAR_SIZE, bar_mmio, dev)) {
		pr_warn("%s: BAR0 at %#llx overlaps another device; not mapped", dev->ops->name,
			(unsigned long long)addr);
		return;
	}
	pthread_mutex_lock(&dev->lock);
	dev->bar_addr = addr;
	pthread_mutex_unlock(&dev->lock);
	set_ioeventfds(dev, addr, true);
}

/* MSI-X message control (Enable, Function Mask) lives in config space. */
static void cfg_write(struct pci_dev *pdev, unsigned int off, const uint8_t *data,
		      unsigned int len)
{
	struct virtio_dev *dev = pdev->opaque;
	uint16_t ctrl;

	if (off > CAP_MSIX + 3 || off + len <= CAP_MSIX + 2)
		return;
	memcpy(&ctrl, &pdev->cfg[CAP_MSIX + 2], 2);
	pthread_mutex_lock(&dev->lock);
	dev->msix_enabled = ctrl & MSIX_CTRL_ENABLE;
	dev->msix_masked = ctrl & MSIX_CTRL_MASKALL;
	if (dev->msix_enabled)
		intx_set(dev, false);
	msix_replay(dev);
	pthread_mutex_unlock(&dev->lock);
}

static const struct pci_dev_ops virtio_pci_ops = {
	.bar_update = bar_update,
	.cfg_write = cfg_write,
};

/* --- PCI function -------------------------------------------------------------------- */

static void add_vendor_cap(struct pci_dev *pdev, uint8_t at, uint8_t next, uint8_t type,
			   uint32_t off, uint32_t len, uint8_t cap_len)
{
	uint8_t *c = &pdev->cfg[at];

	c[0] = PCI_CAP_ID_VNDR;
	c[1] = next;
	c[2] = cap_len;
	c[3] = type;
	c[4] = 0;		/* BAR0 */
	memcpy(c + 8, &off, 4);
	memcpy(c + 12, &len, 4);
}

static void build_config_space(struct virtio_dev *dev)
{
	struct pci_dev *pdev = &dev->pci;
	uint32_t mult = NOTIFY_MULT, table = MSIX_TABLE_OFF, pba = MSIX_PBA_OFF;
	uint16_t id = VIRTIO_PCI_DEVICE_BASE + dev->ops->device_id;
	uint16_t subsys = VIRTIO_PCI_SUBSYS_BASE + dev->ops->device_id;
	uint16_t msix_ctrl = dev->nr_vectors - 1;

	pci_dev_init(pdev, VIRTIO_PCI_VENDOR, id, dev->ops->pci_class, 1);
	pdev->cfg[PCI_STATUS] = PCI_STATUS_CAP_LIST;
	memcpy(&pdev->cfg[PCI_SUBSYSTEM_VENDOR_ID], &(uint16_t){ VIRTIO_PCI_VENDOR }, 2);
	memcpy(&pdev->cfg[PCI_SUBSYSTEM_ID], &subsys, 2);
	pdev->cfg[PCI_CAPABILITY_LIST] = CAP_COMMON;
	pdev->cfg[PCI_INTERRUPT_PIN] = 1;	/* INTA#, for drivers that cannot use MSI-X */
	add_vendor_cap(pdev, CAP_COMMON, CAP_NOTIFY, VIRTIO_PCI_CAP_COMMON_CFG, COMMON_OFF,
		       COMMON_LEN, 16);
	add_vendor_cap(pdev, CAP_NOTIFY, CAP_ISR, VIRTIO_PCI_CAP_NOTIFY_CFG, NOTIFY_OFF,
		       NOTIFY_MULT * dev->ops->num_queues, 20);
	memcpy(&pdev->cfg[CAP_NOTIFY + 16], &mult, 4);
	add_vendor_cap(pdev, CAP_ISR, CAP_DEVICE, VIRTIO_PCI_CAP_ISR_CFG, ISR_OFF, 1, 16);
	add_vendor_cap(pdev, CAP_DEVICE, CAP_MSIX, VIRTIO_PCI_CAP_DEVICE_CFG, DEVICE_OFF,
		       dev->ops->config_size ? dev->ops->config_size : 4, 16);
	pdev->cfg[CAP_MSIX] = PCI_CAP_ID_MSIX;
	memcpy(&pdev->cfg[CAP_MSIX + 2], &msix_ctrl, 2);
	memcpy(&pdev->cfg[CAP_MSIX + 4], &table, 4);
	memcpy(&pdev->cfg[CAP_MSIX + 8], &pba, 4);
	pdev->wmask[CAP_MSIX + 3] = (MSIX_CTRL_ENABLE | MSIX_CTRL_MASKALL) >> 8;
	pdev->ops = &virtio_pci_ops;
	pdev->opaque = dev;
}

/* The worker: waits for kicks and runs the device's queue handler (off the vCPUs). */
static void *worker(void *arg)
{
	struct virtio_dev *dev = arg;
	unsigned int nq = dev->ops->num_queues;
	struct pollfd fds[VIRTIO_MAX_QUEUES + 1];
	uint64_t count;

	for (unsigned int q = 0; q < nq; q++)
		fds[q] = (struct pollfd){ .fd = dev->vqs[q].kick_fd, .events = POLLIN };
	fds[nq] = (struct pollfd){ .fd = dev->stop_fd, .events = POLLIN };
	for (;;) {
		if (poll(fds, nq + 1, -1) < 0)
			continue;
		if (fds[nq].revents)
			break;
		for (unsigned int q = 0; q < nq; q++) {
			if (!fds[q].revents || read(fds[q].fd, &count, 8) != 8)
				continue;
			pthread_mutex_lock(&dev->lock);
			if ((dev->status & VIRTIO_STATUS_DRIVER_OK) &&
			    !(dev->status & VIRTIO_STATUS_NEEDS_RESET) && dev->vqs[q].enabled)
				dev->ops->queue_notify(dev, &dev->vqs[q]);
			pthread_mutex_unlock(&dev->lock);
		}
	}
	return NULL;
}

static int create_fds(struct virtio_dev *dev)
{
	for (unsigned int q = 0; q < dev->ops->num_queues; q++) {
		dev->vqs[q].kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (dev->vqs[q].kick_fd < 0)
			return -errno;
	}
	for (unsigned int v = 0; v < dev->nr_vectors; v++) {
		int gsi = vm_msi_irqfd_create(dev->vm, &dev->msix_fd[v]);

		if (gsi < 0)
			return gsi;
		dev->msix_gsi[v] = gsi;
		dev->msix[v].ctrl = MSIX_ENTRY_MASKED;
	}
	dev->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	return dev->stop_fd < 0 ? -errno : 0;
}

static struct virtio_dev *alloc_dev(struct vm *vm, const struct virtio_dev_ops *ops,
				    void *opaque)
{
	struct virtio_dev *dev = calloc(1, sizeof(*dev));

	if (!dev)
		return NULL;
	dev->vm = vm;
	dev->ops = ops;
	dev->opaque = opaque;
	dev->nr_vectors = ops->num_queues + 1;
	dev->stop_fd = -1;
	pthread_mutex_init(&dev->lock, NULL);
	pthread_cond_init(&dev->idle, NULL);
	for (unsigned int q = 0; q < VIRTIO_MAX_QUEUES; q++) {
		dev->vqs[q] = (struct virtqueue){ .vdev = dev, .index = q, .kick_fd = -1 };
		reset_queue(dev, &dev->vqs[q]);
	}
	for (unsigned int v = 0; v <= VIRTIO_MAX_QUEUES; v++)
		dev->msix_fd[v] = -1;
	device_reset(dev);
	return dev;
}

int virtio_pci_create(struct vm *vm, const struct virtio_dev_ops *ops, void *opaque,
		      struct virtio_dev **out)
{
	struct virtio_dev *dev;
	int slot, ret;

	if (!ops->num_queues || ops->num_queues > VIRTIO_MAX_QUEUES || !ops->queue_notify ||
	    ops->config_size > DEVICE_MAX)
		return -EINVAL;
	dev = alloc_dev(vm, ops, opaque);
	if (!dev)
		return -ENOMEM;
	ret = create_fds(dev);
	if (ret)
		goto fail;
	build_config_space(dev);
	slot = pci_bus_free_slot(vm->pci);
	if (slot < 0) {
		ret = slot;
		goto fail;
	}
	/* Pre-assigned, size-aligned, inside the root bridge's 32-bit window. */
	ret = pci_dev_set_bar(&dev->pci, 0, BAR_SIZE, PCI_BAR_MEM64,
			      PCI_MMIO32_START + (uint64_t)slot * 0x100000);
	if (!ret)
		ret = pci_bus_add(vm->pci, &dev->pci);
	if (ret < 0)
		goto fail;
	ret = -pthread_create(&dev->worker, NULL, worker, dev);
	if (ret) {
		pci_bus_remove(vm->pci, &dev->pci);
		goto fail;
	}
	dev->worker_started = true;
	*out = dev;
	return 0;
fail:
	virtio_pci_free(dev);
	return ret;
}

void virtio_pci_free(struct virtio_dev *dev)
{
	uint64_t one = 1;

	if (!dev)
		return;
	if (dev->worker_started) {
		if (write(dev->stop_fd, &one, 8) == 8)
			pthread_join(dev->worker, NULL);
	}
	for (unsigned int q = 0; q < VIRTIO_MAX_QUEUES; q++)
		if (dev->vqs[q].kick_fd >= 0)
			close(dev->vqs[q].kick_fd);
	for (unsigned int v = 0; v <= VIRTIO_MAX_QUEUES; v++)
		if (dev->msix_fd[v] >= 0)
			close(dev->msix_fd[v]);
	if (dev->stop_fd >= 0)
		close(dev->stop_fd);
	pthread_mutex_destroy(&dev->lock);
	pthread_cond_destroy(&dev->idle);
	free(dev);
}

/* --- save/restore -------------------------------------------------------------------- */

struct virtio_dev *virtio_pci_of(struct pci_dev *pdev)
{
	return pdev && pdev->ops == &virtio_pci_ops ? pdev->opaque : NULL;
}

void virtio_pci_quiesce(struct virtio_dev *dev)
{
	pthread_mutex_lock(&dev->lock);
	while (dev->inflight)
		pthread_cond_wait(&dev->idle, &dev->lock);
}

void virtio_pci_resume(struct virtio_dev *dev)
{
	pthread_mutex_unlock(&dev->lock);
}

static void save_queue(const struct virtqueue *vq, struct ss_virtqueue *q)
{
	*q = (struct ss_virtqueue){
		.size = vq->size,
		.enabled = vq->enabled,
		.signalled_used_valid = vq->signalled_used_valid,
		.msix_vector = vq->msix_vector,
		.last_avail = vq->last_avail,
		.used_idx = vq->used_idx,
		.signalled_used = vq->signalled_used,
		.desc_gpa = vq->desc_gpa,
		.avail_gpa = vq->avail_gpa,
		.used_gpa = vq->used_gpa,
	};
}

size_t virtio_pci_save(struct virtio_dev *dev, struct ss_virtio *rec, uint8_t *extra,
		       size_t max)
{
	size_t extra_len = 0;

	*rec = (struct ss_virtio){
		.slot = dev->pci.slot,
		.nr_queues = dev->ops->num_queues,
		.virtio_id = dev->ops->device_id,
		.status = dev->status,
		.isr = dev->isr,
		.config_generation = dev->config_generation,
		.flags = (dev->intx_level ? SS_VIRTIO_INTX : 0) |
			 (dev->msix_enabled ? SS_VIRTIO_MSIX_ON : 0) |
			 (dev->msix_masked ? SS_VIRTIO_MSIX_MASKED : 0),
		.device_feature_sel = dev->device_feature_sel,
		.driver_feature_sel = dev->driver_feature_sel,
		.driver_features = dev->driver_features,
		.queue_sel = dev->queue_sel,
		.msix_config = dev->msix_config,
		.nr_vectors = dev->nr_vectors,
		.msix_pending = dev->msix_pending,
	};
	for (unsigned int v = 0; v < dev->nr_vectors; v++)
		memcpy(rec->msix[v], &dev->msix[v], sizeof(rec->msix[v]));
	for (unsigned int q = 0; q < dev->ops->num_queues; q++)
		save_queue(&dev->vqs[q], &rec->vqs[q]);
	if (dev->ops->state_save)
		extra_len = dev->ops->state_save(dev, rec, extra, max);
	rec->extra_len = extra_len;
	return extra_len;
}

static int __attribute__((format(printf, 4, 5)))
load_error(struct virtio_dev *dev, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(err, errlen, "%s in slot %u: ", dev->ops->name, dev->pci.slot);

	va_start(ap, fmt);
	vsnprintf(err + n, errlen - n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Everything a queue record says must be something the guest could have set up. */
static int load_queue(struct virtio_dev *dev, struct virtqueue *vq,
		      const struct ss_virtqueue *q, char *err, size_t errlen)
{
	const char *why;

	vq->size = q->size;
	vq->desc_gpa = q->desc_gpa;
	vq->avail_gpa = q->avail_gpa;
	vq->used_gpa = q->used_gpa;
	if (q->enabled && (why = queue_layout_error(dev, vq)))
		return load_error(dev, err, errlen, "queue %u: %s", vq->index, why);
	vq->enabled = q->enabled;
	vq->msix_vector = q->msix_vector < dev->nr_vectors ? q->msix_vector :
							       VIRTIO_MSI_NO_VECTOR;
	vq->last_avail = q->last_avail;
	vq->used_idx = q->used_idx;
	vq->signalled_used = q->signalled_used;
	vq->signalled_used_valid = q->signalled_used_valid;
	return 0;
}

static int load_locked(struct virtio_dev *dev, const struct ss_virtio *rec, const uint8_t *extra,
		       char *err, size_t errlen)
{
	int ret;

	if (rec->virtio_id != dev->ops->device_id || rec->nr_queues != dev->ops->num_queues ||
	    rec->nr_vectors != dev->nr_vectors)
		return load_error(dev, err, errlen, "the saved device is virtio id %u with %u "
				  "queues, this one is %u with %u", rec->virtio_id, rec->nr_queues,
				  dev->ops->device_id, dev->ops->num_queues);
	if (rec->driver_features & ~offered_features(dev))
		return load_error(dev, err, errlen, "features %#llx were not offered",
				  (unsigned long long)(rec->driver_features & ~offered_features(dev)));
	for (unsigned int q = 0; q < dev->ops->num_queues; q++) {
		ret = load_queue(dev, &dev->vqs[q], &rec->vqs[q], err, errlen);
		if (ret)
			return ret;
	}
	dev->status = rec->status;
	dev->isr = rec->isr;
	dev->config_generation = rec->config_generation;
	dev->device_feature_sel = rec->device_feature_sel;
	dev->driver_feature_sel = rec->driver_feature_sel;
	dev->driver_features = rec->driver_features;
	dev->queue_sel = rec->queue_sel;
	dev->msix_config = rec->msix_config < dev->nr_vectors ? rec->msix_config :
								 VIRTIO_MSI_NO_VECTOR;
	dev->msix_enabled = rec->flags & SS_VIRTIO_MSIX_ON;
	dev->msix_masked = rec->flags & SS_VIRTIO_MSIX_MASKED;
	dev->msix_pending = rec->msix_pending & ((1ULL << dev->nr_vectors) - 1);
	for (unsigned int v = 0; v < dev->nr_vectors; v++) {
		memcpy(&dev->msix[v], rec->msix[v], sizeof(dev->msix[v]));
		dev->msix[v].ctrl &= MSIX_ENTRY_MASKED;
		msix_update_route(dev, v);
	}
	if (dev->ops->state_load)
		return dev->ops->state_load(dev, extra, rec->extra_len, err, errlen);
	if (rec->extra_len)
		return load_error(dev, err, errlen, "%u bytes of unknown device state",
				  rec->extra_len);
	return 0;
}

int virtio_pci_load(struct virtio_dev *dev, const struct ss_virtio *rec, const uint8_t *extra,
		    char *err, size_t errlen)
{
	int ret;

	pthread_mutex_lock(&dev->lock);
	ret = load_locked(dev, rec, extra, err, errlen);
	if (!ret) {
		if (rec->flags & SS_VIRTIO_INTX)
			intx_set(dev, true);
		/* A kick that came just before the save may not have been served: look again. */
		if (dev->status & VIRTIO_STATUS_DRIVER_OK)
			for (unsigned int q = 0; q < dev->ops->num_queues; q++)
				if (dev->vqs[q].enabled)
					kick_queue(dev, NOTIFY_OFF + NOTIFY_MULT * q);
	}
	pthread_mutex_unlock(&dev->lock);
	return ret;
}
