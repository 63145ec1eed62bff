/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Virtio devices over the modern PCI transport (virtio 1.2 §4.1) with split virtqueues
 * (§2.7). The guest's standard drivers are the frontends; devices here are the backends.
 *
 * A device fills a struct virtio_dev_ops and calls virtio_pci_create(). The transport owns
 * the PCI function, the common/ISR/notify/device-config capabilities, MSI-X, feature
 * negotiation, reset, and one worker thread per device that waits on the queues'
 * ioeventfds and calls ops->queue_notify(): queue processing never runs on a vCPU thread.
 *
 * Everything the guest writes is checked (virtqueue.c): a malformed ring or descriptor
 * chain sets DEVICE_NEEDS_RESET, is counted, and stops that device until the guest resets
 * it. Nothing a guest writes can make the VMM touch memory outside guest RAM.
 *
 * Locking: dev->lock protects the transport state and the queues. The worker holds it
 * while it calls queue_notify(); vCPU threads take it for register accesses. A device may
 * drop it around slow work (disk I/O) and must then check reset_gen before touching the
 * queue again.
 */
#ifndef DOMUS_VIRTIO_H
#define DOMUS_VIRTIO_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include <domus/cleanup.h>

#include "pci.h"

#define VIRTIO_ID_NET		1
#define VIRTIO_ID_BLOCK		2
#define VIRTIO_ID_RNG		4
#define VIRTIO_ID_BALLOON	5

#define VIRTIO_F_RING_INDIRECT_DESC	28
#define VIRTIO_F_RING_EVENT_IDX		29
#define VIRTIO_F_VERSION_1		32

#define VIRTIO_STATUS_ACKNOWLEDGE	0x01
#define VIRTIO_STATUS_DRIVER		0x02
#define VIRTIO_STATUS_DRIVER_OK		0x04
#define VIRTIO_STATUS_FEATURES_OK	0x08
#define VIRTIO_STATUS_NEEDS_RESET	0x40
#define VIRTIO_STATUS_FAILED		0x80

#define VIRTIO_MAX_QUEUES	8
#define VIRTIO_MSI_NO_VECTOR	0xffff
#define VQ_MAX_SEGS		1024	/* longest chain we accept (Linux uses <= 1024) */

struct vm;
struct virtio_dev;
struct ss_virtio;

/* One request: the chain starting at @head, as host iovecs (readable first, then writable). */
struct vq_elem {
	struct vm *vm;			/* whose RAM the segments are in (dirty tracking) */
	uint16_t head;
	unsigned int nr_out;		/* device-readable segments: iov[0..nr_out) */
	unsigned int nr_in;		/* device-writable: iov[nr_out..nr_out+nr_in) */
	uint64_t out_len, in_len;	/* bytes in each part */
	struct iovec iov[VQ_MAX_SEGS];
};

struct virtqueue {
	struct virtio_dev *vdev;
	uint16_t index;
	uint16_t size;			/* as the driver set it (power of two, <= max) */
	bool enabled;
	uint16_t msix_vector;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	uint16_t last_avail;		/* next avail index to consume */
	uint16_t used_idx;		/* our copy of used->idx */
	uint16_t signalled_used;	/* used_idx at the last interrupt (EVENT_IDX) */
	bool signalled_used_valid;
	int kick_fd;			/* eventfd: ioeventfd on the notify address */
	bool ioeventfd;			/* registered with KVM (else the MMIO handler kicks) */
	uint64_t bad_requests;		/* malformed chains seen (counted, device needs reset) */
};

struct virtio_dev_ops {
	const char *name;		/* "virtio-blk", for messages */
	uint16_t device_id;		/* VIRTIO_ID_* */
	uint32_t pci_class;		/* class code for the PCI function */
	unsigned int num_queues;
	uint16_t queue_max;		/* largest size the device offers */
	uint64_t features;		/* device features; VERSION_1 etc. are added */
	uint32_t config_size;		/* bytes of device-specific config */
	/* Device config space; called with dev->lock held. */
	void (*read_config)(struct virtio_dev *dev, uint32_t off, uint8_t *data, uint32_t len);
	void (*write_config)(struct virtio_dev *dev, uint32_t off, const uint8_t *data,
			     uint32_t len);
	/* The guest kicked @vq (worker thread, dev->lock held). */
	void (*queue_notify)(struct virtio_dev *dev, struct virtqueue *vq);
	/* The driver reset the device or it failed; drop in-flight state (dev->lock held). */
	void (*reset)(struct virtio_dev *dev);
	/* DRIVER_OK was set: the driver is ready (dev->lock held). Optional. */
	void (*activate)(struct virtio_dev *dev);

	/*
	 * Save/restore (save.c, restore.c), all optional and called with dev->lock held.
	 * state_save: the device's own state beyond the transport's into @buf (at most @max
	 * bytes; return the length); it may adjust @rec, e.g. to give back chains it holds.
	 * state_load: take it back before the vCPUs run; refuse what does not fit this device
	 * with -EINVAL and a message in @err. describe: what the MACHINE record says about it.
	 */
	size_t (*state_save)(struct virtio_dev *dev, struct ss_virtio *rec, uint8_t *buf,
			     size_t max);
	int (*state_load)(struct virtio_dev *dev, const uint8_t *buf, size_t len, char *err,
			  size_t errlen);
	void (*describe)(struct virtio_dev *dev, uint64_t *size, uint32_t *flags);
};

struct virtio_dev {
	struct vm *vm;
	const struct virtio_dev_ops *ops;
	void *opaque;			/* the device's own state */
	pthread_mutex_t lock;

	struct pci_dev pci;
	uint64_t bar_addr;		/* BAR0 where the guest put it; 0 when unmapped */

	uint8_t status;
	uint64_t reset_gen;		/* bumped by every reset: work begun before it is void */
	uint32_t device_feature_sel, driver_feature_sel;
	uint64_t driver_features;	/* what the driver accepted */
	uint16_t queue_sel;
	uint16_t msix_config;
	uint8_t isr;
	uint8_t config_generation;
	struct virtqueue vqs[VIRTIO_MAX_QUEUES];

	/* MSI-X: one vector per queue plus one for config changes. */
	unsigned int nr_vectors;
	struct msix_entry {
		uint32_t addr_lo, addr_hi, data, ctrl;
	} msix[VIRTIO_MAX_QUEUES + 1];
	uint64_t msix_pending;		/* PBA */
	bool msix_enabled, msix_masked;	/* capability's Enable and Function Mask */
	int msix_gsi[VIRTIO_MAX_QUEUES + 1];
	int msix_fd[VIRTIO_MAX_QUEUES + 1];	/* irqfds */
	bool intx_level;		/* INTA# asserted (MSI-X off, ISR not read yet) */
	uint64_t bad_resets;		/* times the guest drove the device into NEEDS_RESET */

	/* Requests a device serves without dev->lock (virtio-blk's disk I/O). */
	unsigned int inflight;		/* under lock */
	pthread_cond_t idle;		/* signalled when inflight drops to 0 */

	pthread_t worker;
	int stop_fd;			/* eventfd: wakes the worker to exit */
	bool worker_started;
};

/* Create the PCI function and its worker; the device is on the bus when this returns 0. */
int virtio_pci_create(struct vm *vm, const struct virtio_dev_ops *ops, void *opaque,
		      struct virtio_dev **out);
void virtio_pci_free(struct virtio_dev *dev);

bool virtio_has_feature(const struct virtio_dev *dev, unsigned int bit);

/* The virtio device behind a PCI function, or NULL if it is not one of ours. */
struct virtio_dev *virtio_pci_of(struct pci_dev *pdev);
/*
 * Save/restore: quiesce takes dev->lock and waits until no request is in flight outside
 * it, so the rings and the device state agree; nothing moves until virtio_pci_resume().
 */
void virtio_pci_quiesce(struct virtio_dev *dev);
void virtio_pci_resume(struct virtio_dev *dev);
/* With the device quiesced. @extra gets the device's own state. Return: its length. */
size_t virtio_pci_save(struct virtio_dev *dev, struct ss_virtio *rec, uint8_t *extra,
		       size_t max);
/* Before the vCPUs run. Return: 0, or -EINVAL with @err saying what does not fit. */
int virtio_pci_load(struct virtio_dev *dev, const struct ss_virtio *rec, const uint8_t *extra,
		    char *err, size_t errlen) _must_check_;

/* The device found something wrong: set NEEDS_RESET and tell the driver. */
void virtio_dev_needs_reset(struct virtio_dev *dev, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The device config changed (e.g. disk resized): bump the generation, interrupt. */
void virtio_config_changed(struct virtio_dev *dev);

/*
 * vq_pop() - take the next available chain and map it.
 * Return: 1 with @elem filled, 0 if the ring is empty, -EINVAL if the guest's ring or chain
 * is malformed (the device has then been marked as needing reset).
 */
int vq_pop(struct virtqueue *vq, struct vq_elem *elem);
/* Return the chain with @written bytes written into its writable part. */
void vq_push(struct virtqueue *vq, const struct vq_elem *elem, uint32_t written);

/* One completed chain: its head and the bytes written into it (at most its in_len). */
struct vq_used {
	uint16_t head;
	uint32_t len;
};
/*
 * Return @n chains with a single used->idx update, so the driver sees them all at once
 * (virtio-net's merged receive buffers must appear together, §5.1.6.4).
 */
void vq_push_many(struct virtqueue *vq, const struct vq_used *used, unsigned int n);
/* Interrupt the driver for this queue if it wants one (NO_INTERRUPT / EVENT_IDX). */
void vq_notify(struct virtqueue *vq);

/* Transport internal: raise MSI-X @vector (or record it pending while masked). */
void virtio_signal_vector(struct virtio_dev *dev, uint16_t vector);

/* The @len bytes at @off of the segments @iov[0..n), as new segments in @out. Return: count. */
unsigned int iov_slice(const struct iovec *iov, unsigned int n, uint64_t off, uint64_t len,
		       struct iovec *out);

/* Copy between a flat buffer and a chain's readable / writable segments. */
size_t vq_elem_read(const struct vq_elem *elem, uint64_t off, void *buf, size_t len);
size_t vq_elem_write(const struct vq_elem *elem, uint64_t off, const void *buf, size_t len);

#endif
