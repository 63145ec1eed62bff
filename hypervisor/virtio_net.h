/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * virtio network device (virtio 1.2 §5.1), a VIF backed by a Linux tap device opened with
 * IFF_TAP | IFF_NO_PI | IFF_VNET_HDR: the 12-byte virtio_net_hdr_v1 passes between the guest
 * and the tap, so checksum and segmentation offloads cost nothing on the way through.
 *
 * Queues: receiveq1 (0) and transmitq1 (1), no control queue. Transmit runs on the
 * transport's worker thread; receive on a thread of its own that waits on the tap.
 *
 * Command line: --net tap=NAME[,mac=MAC][,bridge=BR], or fd=N instead of tap=NAME for a tap
 * descriptor inherited from the control library. Without mac=, a random locally
 * administered address (02:xx:xx:xx:xx:xx) is used.
 */
#ifndef DOMUS_VIRTIO_NET_H
#define DOMUS_VIRTIO_NET_H

#include <stddef.h>
#include <stdint.h>

#include <domus/cleanup.h>

#define VNET_IFNAMSIZ	16	/* IFNAMSIZ, with the terminating NUL */

struct vm;
struct vnet;

struct vnet_config {
	int tap_fd;			/* the tap, O_RDWR; -1 when unset */
	char ifname[VNET_IFNAMSIZ];	/* its interface name (for fd=N: as the kernel says) */
	uint8_t mac[6];			/* the guest's address: given or generated */
	char bridge[VNET_IFNAMSIZ];	/* the bridge the tap was attached to, or "" */
};

/* Per-VIF counters, for statistics. Bytes are Ethernet frames, without the vnet header. */
struct vnet_stats {
	uint64_t rx_packets, rx_bytes;	/* tap -> guest */
	uint64_t rx_dropped;		/* frames the guest did not negotiate or had no room for */
	uint64_t rx_errors;		/* tap read errors, runt frames */
	uint64_t tx_packets, tx_bytes;	/* guest -> tap */
	uint64_t tx_dropped;		/* the tap refused them (down, no buffer space) */
	uint64_t tx_errors;		/* malformed frames from the guest */
};

/*
 * Parse one --net argument into @cfg. tap=NAME opens (or creates) the tap NAME; with
 * bridge=BR it also attaches the tap to the Linux bridge BR and brings it up, which needs
 * CAP_NET_ADMIN. fd=N adopts an open tap descriptor. Every descriptor is O_CLOEXEC. On
 * error a message goes to @err.
 * Return: 0 or -errno; on error @cfg holds nothing to release (an fd=N stays the caller's).
 */
int vnet_parse_option(const char *arg, struct vnet_config *cfg, char *err, size_t errlen)
	_must_check_;
/* Close @cfg->tap_fd (vnet_create() keeps its own copy). */
void vnet_config_release(struct vnet_config *cfg);

/* Put a NIC on the PCI bus (next free slot). The caller keeps @cfg. Return: 0 or -errno. */
int vnet_create(struct vm *vm, const struct vnet_config *cfg, struct vnet **out)
	_must_check_;
/* Stop the device's threads, close its tap and free it; NULL is a no-op. */
void vnet_free(struct vnet *net);

void vnet_get_stats(struct vnet *net, struct vnet_stats *st);
/* The tap's name and the guest's MAC address, as statistics report them. */
void vnet_get_identity(struct vnet *net, char ifname[VNET_IFNAMSIZ], uint8_t mac[6]);

#endif
