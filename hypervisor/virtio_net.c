// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * virtio network device (virtio 1.2 §5.1) on a Linux tap device.
 *
 * The tap is opened with IFF_VNET_HDR and a 12-byte header (TUNSETVNETHDRSZ): that is
 * struct virtio_net_hdr_v1, so a frame and its offload metadata (partial checksum, GSO)
 * cross the tap unchanged in both directions. TUNSETOFFLOAD tells the tap which offloaded
 * frames the guest accepts, from the features the driver negotiated.
 *
 * Transmit runs on the transport's worker: each chain is one frame, checked and written to
 * the tap. Receive runs on a thread of our own, since the worker only waits on the queues'
 * kick eventfds: it reads one frame from the tap into a bounce buffer, then places it in
 * the guest's receive buffers under dev->lock. With MRG_RXBUF a frame spreads over as many
 * chains as it needs. When the guest has no buffers the thread keeps the frame and stops
 * reading the tap until the guest kicks the receive queue: nothing is dropped for lack of
 * room, and the tap's own queue pushes back on the sender.
 *
 * The bounce copy costs one memcpy per received frame; in exchange the frame's length is
 * known before any chain is taken, so the thread takes exactly the chains it needs and
 * never has to give one back (the transport has no way to).
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <domus/tap.h>

#include "fdarg.h"
#include "log.h"
#include "savestate.h"
#include "virtio.h"
#include "virtio_net.h"
#include "vm.h"

#define VNET_QUEUE_SIZE		256
#define VNET_RXQ		0
#define VNET_TXQ		1
#define VNET_HDR_LEN		12	/* virtio_net_hdr_v1: VERSION_1 always has num_buffers */
#define ETH_HLEN		14
/* The largest GSO frame (§5.1.6.3: 14 + 40 + 65535 bytes), plus a VLAN tag. */
#define VNET_MAX_FRAME		(ETH_HLEN + 40 + 65535 + 4)
/* One byte more than the largest vnet frame: a read that fills it was truncated. */
#define VNET_RX_BUF		(VNET_HDR_LEN + VNET_MAX_FRAME + 1)
#define VNET_RX_BATCH		64	/* frames per interrupt at most, then look at the stop fd */
#define PCI_CLASS_NETWORK_ETH	0x020000

#define VIRTIO_NET_F_CSUM		0
#define VIRTIO_NET_F_GUEST_CSUM		1
#define VIRTIO_NET_F_MAC		5
#define VIRTIO_NET_F_GUEST_TSO4		7
#define VIRTIO_NET_F_GUEST_TSO6		8
#define VIRTIO_NET_F_GUEST_ECN		9
#define VIRTIO_NET_F_HOST_TSO4		11
#define VIRTIO_NET_F_HOST_TSO6		12
#define VIRTIO_NET_F_HOST_ECN		13
#define VIRTIO_NET_F_MRG_RXBUF		15
#define VIRTIO_NET_F_STATUS		16

#define VIRTIO_NET_S_LINK_UP		1

#define VIRTIO_NET_HDR_F_NEEDS_CSUM	1
#define VIRTIO_NET_HDR_F_DATA_VALID	2
#define VIRTIO_NET_HDR_GSO_NONE		0
#define VIRTIO_NET_HDR_GSO_TCPV4	1
#define VIRTIO_NET_HDR_GSO_TCPV6	4
#define VIRTIO_NET_HDR_GSO_ECN		0x80

#define F(bit) (1ULL << VIRTIO_NET_F_##bit)
#define VNET_FEATURES (F(CSUM) | F(GUEST_CSUM) | F(MAC) | F(GUEST_TSO4) | F(GUEST_TSO6) | \
		       F(GUEST_ECN) | F(HOST_TSO4) | F(HOST_TSO6) | F(HOST_ECN) |          \
		       F(MRG_RXBUF) | F(STATUS))

/* Little-endian, as the guest reads it (virtio 1.2 §5.1.4). */
struct virtio_net_config {
	uint8_t mac[6];
	uint16_t status;
	uint16_t max_virtqueue_pairs;
} __attribute__((packed));

struct virtio_net_hdr_v1 {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers;
};

_Static_assert(sizeof(struct virtio_net_hdr_v1) == VNET_HDR_LEN, "vnet header size");

/* A receive chain filled with part of the current frame, not yet returned to the guest. */

struct vnet {
	struct virtio_dev *vdev;
	int tap_fd;
	char ifname[VNET_IFNAMSIZ];
	struct virtio_net_config config;

	/* Receive thread; it alone touches the bounce buffer and tap_dead. */
	pthread_t rx_thread;
	bool rx_started;
	int rx_kick_fd;			/* eventfd: the guest added receive buffers */
	int stop_fd;			/* eventfd: vnet_free() wants the thread gone */
	bool tap_dead;			/* reading failed for good: wait only for stop */
	uint8_t *rx_buf;		/* the frame being received, vnet header first */
	size_t rx_len;			/* its length; 0 when empty */

	/* Under vdev->lock: */
	struct vnet_stats stats;
	bool rx_first_held;		/* rx_first is taken from the ring, not yet returned */
	size_t rx_off;			/* bytes of rx_buf given a place in the guest's chains */
	unsigned int rx_nr;		/* chains holding them, rx_first included */
	struct vq_used rx_used[VNET_QUEUE_SIZE];
	struct vq_elem rx_first;	/* gets the header, written last (num_buffers) */
	struct vq_elem rx_elem;
	struct vq_elem tx_elem;
	struct iovec tx_iov[VQ_MAX_SEGS + 1];
};

static bool has(const struct vnet *net, unsigned int bit)
{
	return virtio_has_feature(net->vdev, bit);
}

static void count(struct vnet *net, uint64_t *counter)
{
	pthread_mutex_lock(&net->vdev->lock);
	(*counter)++;
	pthread_mutex_unlock(&net->vdev->lock);
}

/* --- transmit (worker thread, dev->lock held) ---------------------------------------- */

/*
 * Check a header from the guest against what it negotiated (§5.1.6.2.1) and clear what the
 * host must not see: DATA_VALID would make the host trust a checksum nobody verified.
 */
static bool tx_hdr_ok(const struct vnet *net, struct virtio_net_hdr_v1 *h, uint64_t frame_len)
{
	uint8_t gso = h->gso_type & ~VIRTIO_NET_HDR_GSO_ECN;

	h->flags &= VIRTIO_NET_HDR_F_NEEDS_CSUM;	/* the device ignores unknown flags */
	h->num_buffers = 0;
	if (h->flags && (!has(net, VIRTIO_NET_F_CSUM) ||
			 (uint64_t)le16toh(h->csum_start) + le16toh(h->csum_offset) + 2 > frame_len))
		return false;
	if (gso == VIRTIO_NET_HDR_GSO_NONE)
		return h->gso_type == VIRTIO_NET_HDR_GSO_NONE;
	if ((gso == VIRTIO_NET_HDR_GSO_TCPV4 && !has(net, VIRTIO_NET_F_HOST_TSO4)) ||
	    (gso == VIRTIO_NET_HDR_GSO_TCPV6 && !has(net, VIRTIO_NET_F_HOST_TSO6)) ||
	    (gso != VIRTIO_NET_HDR_GSO_TCPV4 && gso != VIRTIO_NET_HDR_GSO_TCPV6))
		return false;
	if ((h->gso_type & VIRTIO_NET_HDR_GSO_ECN) && !has(net, VIRTIO_NET_F_HOST_ECN))
		return false;
	/* A GSO frame needs its checksum completed per segment and an MSS. */
	return h->flags && h->gso_size;
}

/*
 * Send one chain's frame. The header goes from a checked local copy: the guest may change
 * its own at any time.
 */
static void tx_one(struct vnet *net, const struct vq_elem *elem)
{
	struct virtio_net_hdr_v1 hdr;
	uint64_t frame_len = elem->out_len - VNET_HDR_LEN;
	unsigned int n;
	ssize_t done;

	if (elem->out_len < VNET_HDR_LEN + ETH_HLEN || frame_len > VNET_MAX_FRAME) {
		net->stats.tx_errors++;
		return;
	}
	vq_elem_read(elem, 0, &hdr, sizeof(hdr));
	if (!tx_hdr_ok(net, &hdr, frame_len)) {
		net->stats.tx_errors++;
		return;
	}
	net->tx_iov[0] = (struct iovec){ &hdr, sizeof(hdr) };
	n = iov_slice(elem->iov, elem->nr_out, VNET_HDR_LEN, frame_len, net->tx_iov + 1);
	if (n + 1 > IOV_MAX) {
		net->stats.tx_errors++;		/* only a 1024-segment chain with a merged header */
		return;
	}
	do {
		done = writev(net->tap_fd, net->tx_iov, n + 1);
	} while (done < 0 && errno == EINTR);
	if (done >= 0) {
		net->stats.tx_packets++;
		net->stats.tx_bytes += frame_len;
	} else if (errno == EAGAIN || errno == ENOBUFS || errno == EIO) {
		net->stats.tx_dropped++;	/* the tap is down or full: a wire would drop too */
	} else {
		pr_debug("%s: tap write: %m", net->ifname);
		net->stats.tx_errors++;
	}
}

static void tx_queue(struct vnet *net, struct virtqueue *vq)
{
	bool pushed = false;

	/* A malformed ring or chain (vq_pop() < 0) has already set NEEDS_RESET: stop. */
	while (vq_pop(vq, &net->tx_elem) > 0) {
		tx_one(net, &net->tx_elem);
		vq_push(vq, &net->tx_elem, 0);
		pushed = true;
	}
	if (pushed)
		vq_notify(vq);
}

static void vnet_queue_notify(struct virtio_dev *dev, struct virtqueue *vq)
{
	struct vnet *net = dev->opaque;
	uint64_t one = 1;

	if (vq->index == VNET_TXQ) {
		tx_queue(net, vq);
		return;
	}
	/* Receive buffers: the receive thread may be waiting for them. */
	if (write(net->rx_kick_fd, &one, sizeof(one)) < 0)
		pr_debug("%s: receive kick lost", net->ifname);
}

/* --- receive (receive thread; dev->lock held where said) ----------------------------- */

/*
 * Make the tap's header fit what the driver negotiated (§5.1.6.4.1). The tap is told the
 * same through TUNSETOFFLOAD, but frames it queued before a renegotiation can still carry
 * the old offloads. Return: false if the driver cannot take this frame.
 */
static bool rx_hdr_ok(const struct vnet *net, struct virtio_net_hdr_v1 *h)
{
	uint8_t gso = h->gso_type & ~VIRTIO_NET_HDR_GSO_ECN;

	if (!has(net, VIRTIO_NET_F_GUEST_CSUM)) {
		if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)
			return false;
		h->flags = 0;
	}
	h->flags &= VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID;
	if (gso == VIRTIO_NET_HDR_GSO_NONE)
		return h->gso_type == VIRTIO_NET_HDR_GSO_NONE;
	if ((gso == VIRTIO_NET_HDR_GSO_TCPV4 && !has(net, VIRTIO_NET_F_GUEST_TSO4)) ||
	    (gso == VIRTIO_NET_HDR_GSO_TCPV6 && !has(net, VIRTIO_NET_F_GUEST_TSO6)) ||
	    (gso != VIRTIO_NET_HDR_GSO_TCPV4 && gso != VIRTIO_NET_HDR_GSO_TCPV6))
		return false;
	return !(h->gso_type & VIRTIO_NET_HDR_GSO_ECN) || has(net, VIRTIO_NET_F_GUEST_ECN);
}

/* The frame's chains went with the rings (reset), or were returned: start afresh. */
static void rx_forget_chains(struct vnet *net)
{
	net->rx_first_held = false;
	net->rx_off = 0;
	net->rx_nr = 0;
}

/* Pop a receive chain into @elem. Return: 1, 0 if the ring is empty, -EINVAL. */
static int rx_pop(struct vnet *net, struct vq_elem *elem)
{
	struct virtqueue *vq = &net->vdev->vqs[VNET_RXQ];
	int ret;

	/*
	 * Every chain of the ring already holds part of this frame: it can never fit (the
	 * guest's buffers are tiny), and waiting would stall reception for good.
	 */
	if (net->rx_nr >= vq->size || net->rx_nr >= VNET_QUEUE_SIZE) {
		virtio_dev_needs_reset(net->vdev, "receive queue: a %zu-byte frame does not fit",
				       net->rx_len - VNET_HDR_LEN);
		return -EINVAL;
	}
	ret = vq_pop(vq, elem);
	if (ret <= 0)
		return ret;
	/* §5.1.6.3.1: each buffer holds at least a header; the first one must. */
	if (elem->in_len < VNET_HDR_LEN) {
		virtio_dev_needs_reset(net->vdev, "receive buffer of %llu bytes",
				       (unsigned long long)elem->in_len);
		return -EINVAL;
	}
	return 1;
}

/*
 * Give the frame its first chain. Without MRG_RXBUF that chain must hold all of it
 * (§5.1.6.3.2); a frame too large for it is dropped and the chain kept for the next one.
 * Return: 1 with the first chain placed, 0 to wait for buffers, -EMSGSIZE (dropped).
 */
static int rx_first_chain(struct vnet *net)
{
	size_t len;

	if (!net->rx_first_held) {
		if (rx_pop(net, &net->rx_first) <= 0)
			return 0;
		net->rx_first_held = true;
	}
	len = net->rx_first.in_len < net->rx_len ? net->rx_first.in_len : net->rx_len;
	if (len < net->rx_len && !has(net, VIRTIO_NET_F_MRG_RXBUF))
		return -EMSGSIZE;
	net->rx_used[0] = (struct vq_used){ net->rx_first.head, len };
	net->rx_nr = 1;
	net->rx_off = len;
	return 1;
}

/* MRG_RXBUF: fill further chains with the rest. Return: 1 when all is placed, 0 to wait. */
static int rx_more_chains(struct vnet *net)
{
	struct vq_elem *elem = &net->rx_elem;

	while (net->rx_off < net->rx_len) {
		size_t n;

		if (rx_pop(net, elem) <= 0)
			return 0;
		n = vq_elem_write(elem, 0, net->rx_buf + net->rx_off, net->rx_len - net->rx_off);
		net->rx_used[net->rx_nr++] = (struct vq_used){ elem->head, n };
		net->rx_off += n;
	}
	return 1;
}

static bool rx_ready(const struct virtio_dev *dev)
{
	return (dev->status & VIRTIO_STATUS_DRIVER_OK) &&
	       !(dev->status & VIRTIO_STATUS_NEEDS_RESET) && dev->vqs[VNET_RXQ].enabled;
}

enum rx_result { RX_WAIT, RX_DELIVERED, RX_DROPPED };

/*
 * Place the frame in rx_buf into the guest's receive buffers (dev->lock held). A frame
 * waiting for buffers keeps the chains it has; the header goes in last, with num_buffers.
 */
static enum rx_result rx_place(struct vnet *net)
{
	struct virtio_net_hdr_v1 hdr;
	uint16_t nr_le;
	int ret;

	if (!rx_ready(net->vdev))
		return RX_WAIT;
	if (!net->rx_nr) {
		memcpy(&hdr, net->rx_buf, sizeof(hdr));
		if (!rx_hdr_ok(net, &hdr)) {
			net->stats.rx_dropped++;
			return RX_DROPPED;
		}
		memcpy(net->rx_buf, &hdr, sizeof(hdr));
		ret = rx_first_chain(net);
		if (ret == -EMSGSIZE) {
			net->stats.rx_dropped++;
			return RX_DROPPED;
		}
		if (ret <= 0)
			return RX_WAIT;
	}
	if (!rx_more_chains(net))
		return RX_WAIT;
	nr_le = htole16(net->rx_nr);
	memcpy(net->rx_buf + offsetof(struct virtio_net_hdr_v1, num_buffers), &nr_le, 2);
	vq_elem_write(&net->rx_first, 0, net->rx_buf, net->rx_used[0].len);
	vq_push_many(&net->vdev->vqs[VNET_RXQ], net->rx_used, net->rx_nr);
	net->stats.rx_packets++;
	net->stats.rx_bytes += net->rx_len - VNET_HDR_LEN;
	rx_forget_chains(net);
	return RX_DELIVERED;
}

/* Read one frame from the tap into rx_buf. Return: true if there is one. */
static bool rx_read(struct vnet *net)
{
	while (!net->tap_dead) {
		ssize_t n = read(net->tap_fd, net->rx_buf, VNET_RX_BUF);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return false;
		if (n <= 0) {
			/* The tap was deleted or detached: nothing more will come from it. */
			pr_warn("%s: cannot read the tap (%s); the guest receives nothing more",
				net->ifname, n ? strerror(errno) : "end of file");
			net->tap_dead = true;
			count(net, &net->stats.rx_errors);
			return false;
		}
		if (n >= VNET_HDR_LEN + ETH_HLEN && n < VNET_RX_BUF) {
			net->rx_len = n;
			return true;
		}
		count(net, &net->stats.rx_errors);	/* a runt, or longer than any frame */
	}
	return false;
}

enum rx_wait { RX_WAIT_TAP, RX_WAIT_BUFFERS, RX_WAIT_NONE };

/* Move up to VNET_RX_BATCH frames to the guest, one interrupt. Return: what to wait for. */
static enum rx_wait rx_batch(struct vnet *net)
{
	struct virtio_dev *dev = net->vdev;
	enum rx_wait wait = RX_WAIT_NONE;
	unsigned int placed = 0;

	for (unsigned int i = 0; i < VNET_RX_BATCH; i++) {
		enum rx_result ret;

		if (!net->rx_len && !rx_read(net)) {
			wait = RX_WAIT_TAP;
			break;
		}
		pthread_mutex_lock(&dev->lock);
		ret = rx_place(net);
		pthread_mutex_unlock(&dev->lock);
		if (ret == RX_WAIT) {
			wait = RX_WAIT_BUFFERS;	/* keep the frame; read no more */
			break;
		}
		net->rx_len = 0;
		placed += ret == RX_DELIVERED;
	}
	if (placed) {
		pthread_mutex_lock(&dev->lock);
		vq_notify(&dev->vqs[VNET_RXQ]);
		pthread_mutex_unlock(&dev->lock);
	}
	return wait;
}

/* Sleep until there is something to do. Return: true if the thread must exit. */
static bool rx_wait(struct vnet *net, enum rx_wait wait)
{
	bool tap = wait == RX_WAIT_TAP && !net->tap_dead;
	struct pollfd fds[3] = {
		{ .fd = net->stop_fd, .events = POLLIN },
		{ .fd = net->rx_kick_fd, .events = POLLIN },
		/* Not watched (fd -1) while the guest has no room: its errors would spin us. */
		{ .fd = tap ? net->tap_fd : -1, .events = POLLIN },
	};
	uint64_t n;

	if (poll(fds, 3, wait == RX_WAIT_NONE ? 0 : -1) < 0)
		return false;	/* EINTR: look again */
	if (fds[0].revents)
		return true;
	if (fds[1].revents && read(net->rx_kick_fd, &n, sizeof(n)) < 0)
		pr_debug("%s: receive kick: %m", net->ifname);
	return false;
}

static void *rx_thread(void *arg)
{
	struct vnet *net = arg;

	while (!rx_wait(net, rx_batch(net)))
		;
	return NULL;
}

/* --- device ops ------------------------------------------------------------------------ */

/* The offloaded frames the tap may hand us: what the driver accepts (TUNSETOFFLOAD). */
static unsigned int tap_offloads(const struct vnet *net)
{
	unsigned int f;

	if (!has(net, VIRTIO_NET_F_GUEST_CSUM))
		return 0;	/* no partial checksums, and no GSO without them */
	f = TUN_F_CSUM;
	if (has(net, VIRTIO_NET_F_GUEST_TSO4))
		f |= TUN_F_TSO4;
	if (has(net, VIRTIO_NET_F_GUEST_TSO6))
		f |= TUN_F_TSO6;
	if ((f & (TUN_F_TSO4 | TUN_F_TSO6)) && has(net, VIRTIO_NET_F_GUEST_ECN))
		f |= TUN_F_TSO_ECN;
	return f;
}

static void set_offloads(struct vnet *net, unsigned int f)
{
	if (ioctl(net->tap_fd, TUNSETOFFLOAD, (unsigned long)f))
		pr_warn("%s: cannot set the tap's offloads to %#x: %m", net->ifname, f);
}

static void vnet_activate(struct virtio_dev *dev)
{
	struct vnet *net = dev->opaque;
	uint64_t one = 1;

	set_offloads(net, tap_offloads(net));
	/* A frame may be waiting for the driver: try it now. */
	if (write(net->rx_kick_fd, &one, sizeof(one)) < 0)
		pr_debug("%s: receive kick lost", net->ifname);
}

static void vnet_reset(struct virtio_dev *dev)
{
	struct vnet *net = dev->opaque;

	rx_forget_chains(net);
	set_offloads(net, 0);	/* until the next driver says what it takes */
}

/*
 * Saved: the MAC the guest knows. Chains the receive thread holds for a frame it has not
 * finished are given back by saving an earlier last_avail (the frame itself is dropped,
 * as a network may): the restored device takes them from the ring again.
 */
static size_t vnet_state_save(struct virtio_dev *dev, struct ss_virtio *rec, uint8_t *buf,
			      size_t max)
{
	struct vnet *net = dev->opaque;
	unsigned int held = net->rx_first_held ? (net->rx_nr ? net->rx_nr : 1) : 0;

	rec->vqs[VNET_RXQ].last_avail -= held;
	if (max < sizeof(net->config.mac))
		return 0;
	memcpy(buf, net->config.mac, sizeof(net->config.mac));
	return sizeof(net->config.mac);
}

static int vnet_state_load(struct virtio_dev *dev, const uint8_t *buf, size_t len, char *err,
			   size_t errlen)
{
	struct vnet *net = dev->opaque;

	if (len != sizeof(net->config.mac)) {
		snprintf(err, errlen, "virtio-net in slot %u: %zu bytes of device state, expected "
			 "%zu", dev->pci.slot, len, sizeof(net->config.mac));
		return -EINVAL;
	}
	if (memcmp(net->config.mac, buf, len))
		pr_info("%s: the guest keeps its saved MAC %02x:%02x:%02x:%02x:%02x:%02x",
			net->ifname, buf[0], buf[1], buf[2], buf[3], buf[4], buf[5]);
	memcpy(net->config.mac, buf, len);
	if ((dev->status & VIRTIO_STATUS_DRIVER_OK) && !(dev->status & VIRTIO_STATUS_NEEDS_RESET))
		vnet_activate(dev);
	return 0;
}

static void vnet_read_config(struct virtio_dev *dev, uint32_t off, uint8_t *data, uint32_t len)
{
	struct vnet *net = dev->opaque;

	memset(data, 0, len);
	if (off < sizeof(net->config) && len <= sizeof(net->config) - off)
		memcpy(data, (uint8_t *)&net->config + off, len);
}

static const struct virtio_dev_ops vnet_ops = {
	.name = "virtio-net",
	.device_id = VIRTIO_ID_NET,
	.pci_class = PCI_CLASS_NETWORK_ETH,
	.num_queues = 2,
	.queue_max = VNET_QUEUE_SIZE,
	.features = VNET_FEATURES,
	.config_size = sizeof(struct virtio_net_config),
	.read_config = vnet_read_config,
	.queue_notify = vnet_queue_notify,
	.reset = vnet_reset,
	.activate = vnet_activate,
	.state_save = vnet_state_save,
	.state_load = vnet_state_load,
};

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

/* The tap's name and flags; refuse anything but a tap with the flags we rely on. */
static int tap_check(int fd, char *ifname, char *err, size_t errlen)
{
	const short want = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	struct ifreq ifr = {};

	if (ioctl(fd, TUNGETIFF, &ifr))
		return parse_error(err, errlen, -EINVAL, "fd %d is not a tap device", fd);
	if ((ifr.ifr_flags & (IFF_TUN | want)) != want)
		return parse_error(err, errlen, -EINVAL,
				   "tap %.*s: opened without IFF_TAP, IFF_NO_PI and IFF_VNET_HDR",
				   IFNAMSIZ, ifr.ifr_name);
	snprintf(ifname, VNET_IFNAMSIZ, "%.*s", IFNAMSIZ - 1, ifr.ifr_name);
	return 0;
}

/* fd=N: a tap the control library opened for us; we own it from here on. */
static int adopt_fd(const char *val, struct vnet_config *cfg, char *err, size_t errlen)
{
	int fd, ret = fdarg_adopt(val, &fd, err, errlen);

	if (ret < 0)
		return ret;
	ret = tap_check(fd, cfg->ifname, err, errlen);
	if (ret)
		return ret;
	cfg->tap_fd = fd;
	return 0;
}

static int parse_items(char *list, struct vnet_config *cfg, const char **tap, const char **fd,
		       bool *mac_set, char *err, size_t errlen)
{
	char *item;
	int ret = 0;

	while (!ret && (item = strsep(&list, ","))) {
		char *val = strchr(item, '=');

		if (!val)
			return parse_error(err, errlen, -EINVAL, "'%s': expected KEY=VALUE", item);
		*val++ = '\0';
		if ((!strcmp(item, "tap") || !strcmp(item, "fd")) && (*tap || *fd))
			return parse_error(err, errlen, -EINVAL, "give one of tap= and fd=, once");
		if ((!strcmp(item, "tap") || !strcmp(item, "bridge")) && !domus_tap_name_ok(val))
			return parse_error(err, errlen, -EINVAL, "%s=%s: not an interface name "
					   "(1-15 characters, no '/', ':' or spaces)", item, val);
		if (!strcmp(item, "tap"))
			*tap = val;
		else if (!strcmp(item, "fd"))
			*fd = val;
		else if (!strcmp(item, "mac") && !*mac_set) {
			ret = domus_mac_parse(val, cfg->mac, err, errlen);
			*mac_set = true;
		} else if (!strcmp(item, "bridge"))
			strcpy(cfg->bridge, val);
		else
			return parse_error(err, errlen, -EINVAL, "bad net option '%s=%s'", item, val);
	}
	return ret;
}

int vnet_parse_option(const char *arg, struct vnet_config *cfg, char *err, size_t errlen)
{
	char *list __free = strdup(arg);
	const char *tap = NULL, *fd = NULL;
	bool mac_set = false;
	int ret;

	*cfg = (struct vnet_config){ .tap_fd = -1 };
	if (!list)
		return parse_error(err, errlen, -ENOMEM, "out of memory");
	ret = parse_items(list, cfg, &tap, &fd, &mac_set, err, errlen);
	if (!ret && !tap && !fd)
		ret = parse_error(err, errlen, -EINVAL, "a network interface needs tap=NAME or fd=N");
	if (!ret && !mac_set)
		ret = domus_mac_random(cfg->mac, err, errlen);
	if (!ret)
		ret = tap ? domus_tap_open(tap, &cfg->tap_fd, cfg->ifname, err, errlen)
			  : adopt_fd(fd, cfg, err, errlen);
	if (!ret && cfg->bridge[0])
		ret = domus_tap_attach_bridge(cfg->ifname, cfg->bridge, err, errlen);
	if (ret) {
		/* An adopted fd=N stays the caller's when we refuse it. */
		if (tap)
			vnet_config_release(cfg);
		*cfg = (struct vnet_config){ .tap_fd = -1 };
	}
	return ret;
}

void vnet_config_release(struct vnet_config *cfg)
{
	if (cfg->tap_fd >= 0)
		close(cfg->tap_fd);
	cfg->tap_fd = -1;
}

/* --- device ---------------------------------------------------------------------------- */

/* Our own descriptor for the tap: non-blocking (the receive thread polls), 12-byte header. */
static int setup_tap(struct vnet *net, int cfg_fd)
{
	char err[128];
	int fl, hdr_len = VNET_HDR_LEN;

	net->tap_fd = fcntl(cfg_fd, F_DUPFD_CLOEXEC, 3);
	if (net->tap_fd < 0)
		return -errno;
	if (tap_check(net->tap_fd, net->ifname, err, sizeof(err))) {
		pr_err("%s", err);
		return -EINVAL;
	}
	fl = fcntl(net->tap_fd, F_GETFL);
	if (fl < 0 || fcntl(net->tap_fd, F_SETFL, fl | O_NONBLOCK) ||
	    ioctl(net->tap_fd, TUNSETVNETHDRSZ, &hdr_len) ||
	    ioctl(net->tap_fd, TUNSETOFFLOAD, 0UL))
		return -errno;
	return 0;
}

static struct vnet *alloc_vnet(const struct vnet_config *cfg)
{
	struct vnet *net = calloc(1, sizeof(*net));

	if (!net)
		return NULL;
	net->tap_fd = net->rx_kick_fd = net->stop_fd = -1;
	net->rx_buf = malloc(VNET_RX_BUF);
	memcpy(net->config.mac, cfg->mac, sizeof(net->config.mac));
	net->config.status = htole16(VIRTIO_NET_S_LINK_UP);
	net->config.max_virtqueue_pairs = htole16(1);
	return net;
}

int vnet_create(struct vm *vm, const struct vnet_config *cfg, struct vnet **out)
{
	struct vnet *net = alloc_vnet(cfg);
	const uint8_t *m = cfg->mac;
	int ret;

	if (!net)
		return -ENOMEM;
	ret = net->rx_buf ? setup_tap(net, cfg->tap_fd) : -ENOMEM;
	if (ret)
		goto fail;
	net->rx_kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	net->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (net->rx_kick_fd < 0 || net->stop_fd < 0) {
		ret = -errno;
		goto fail;
	}
	ret = virtio_pci_create(vm, &vnet_ops, net, &net->vdev);
	if (ret)
		goto fail;
	ret = -pthread_create(&net->rx_thread, NULL, rx_thread, net);
	if (ret)
		goto fail;
	net->rx_started = true;
	pthread_setname_np(net->rx_thread, "vnet-rx");
	pr_debug("virtio-net: tap %s, MAC %02x:%02x:%02x:%02x:%02x:%02x, PCI slot %u",
		 net->ifname, m[0], m[1], m[2], m[3], m[4], m[5], net->vdev->pci.slot);
	*out = net;
	return 0;
fail:
	vnet_free(net);
	return ret;
}

void vnet_free(struct vnet *net)
{
	const struct vnet_stats *s;
	uint64_t one = 1;

	if (!net)
		return;
	s = &net->stats;
	/* The receive thread uses the transport's lock and queues: it goes first. */
	if (net->rx_started && write(net->stop_fd, &one, sizeof(one)) == sizeof(one))
		pthread_join(net->rx_thread, NULL);
	virtio_pci_free(net->vdev);	/* joins the worker: no transmit is running after this */
	if (net->rx_started) {
		pr_debug("virtio-net %s: rx %llu packets %llu bytes %llu dropped %llu errors, "
			 "tx %llu packets %llu bytes %llu dropped %llu errors", net->ifname,
			 (unsigned long long)s->rx_packets, (unsigned long long)s->rx_bytes,
			 (unsigned long long)s->rx_dropped, (unsigned long long)s->rx_errors,
			 (unsigned long long)s->tx_packets, (unsigned long long)s->tx_bytes,
			 (unsigned long long)s->tx_dropped, (unsigned long long)s->tx_errors);
	}
	if (net->tap_fd >= 0)
		close(net->tap_fd);
	if (net->rx_kick_fd >= 0)
		close(net->rx_kick_fd);
	if (net->stop_fd >= 0)
		close(net->stop_fd);
	free(net->rx_buf);
	free(net);
}

void vnet_get_stats(struct vnet *net, struct vnet_stats *st)
{
	pthread_mutex_lock(&net->vdev->lock);
	*st = net->stats;
	pthread_mutex_unlock(&net->vdev->lock);
}

void vnet_get_identity(struct vnet *net, char ifname[VNET_IFNAMSIZ], uint8_t mac[6])
{
	memcpy(ifname, net->ifname, VNET_IFNAMSIZ);
	memcpy(mac, net->config.mac, 6);
}
