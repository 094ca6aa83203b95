/* virtio_net.c: virtio-net on a tap device, frames moved on the I/O thread with the virtio header passed through. */
#include "virtio_net.h"

#include "devices.h"
#include "virtio_pci.h"
#include "virtio_queues.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define NET_RX 0
#define NET_TX 1
#define NET_HDR_LEN sizeof(struct virtio_net_hdr_v1)  /* with VERSION_1 the header always has num_buffers */
#define NET_FRAME_MAX (NET_HDR_LEN + 65535 + 14)

struct vnet {
	struct virtio_dev vd;
	bool attached;
	int tap;
	char ifname[IFNAMSIZ];
	uint8_t mac[6];
	bool tap_watched;
	/* A frame read from the tap that waits for receive buffers. */
	uint8_t *frame;
	size_t frame_len;
	struct virtq_req *req, *req0;  /* req0: the first request of a received frame */
	/* The receive requests the waiting frame already fills: taken from the ring, not yet returned. */
	uint16_t rx_heads[NET_QUEUE_SIZE];
	uint32_t rx_lens[NET_QUEUE_SIZE];
	uint16_t rx_nbuf;
	size_t rx_done;  /* bytes of the frame already in them */
	uint64_t tx_dropped;
};

static struct vnet net = { .tap = -1 };

static void net_config(struct virtio_dev *vd, uint32_t off, bool is_write, uint8_t *data, unsigned size)
{
	struct vnet *n = vd->priv;
	struct virtio_net_config cfg;

	if (is_write)
		return;
	memset(&cfg, 0, sizeof(cfg));
	memcpy(cfg.mac, n->mac, 6);
	cfg.status = VIRTIO_NET_S_LINK_UP;
	cfg.max_virtqueue_pairs = 1;
	cfg.mtu = 1500;
	memcpy(data, (uint8_t *)&cfg + off, size);
}

/* One frame out to the tap; a full tap drops it, as a congested wire would. */
static void net_send(struct virtio_dev *vd, const struct virtq_req *req)
{
	struct vnet *n = vd->priv;
	struct iovec iov[64];
	unsigned i, niov = 0;

	for (i = 0; i < req->nseg && niov < ARRAY_SIZE(iov); i++)
		if (!req->seg[i].writable && req->seg[i].len)
			iov[niov++] = (struct iovec){ req->seg[i].host, req->seg[i].len };
	/* A frame must carry the header. */
	if (req->out_len < NET_HDR_LEN || req->out_len > NET_FRAME_MAX || i < req->nseg ||
	    writev(n->tap, iov, (int)niov) < 0)
		n->tx_dropped++;
}

static void net_tap_ready(void *opaque, uint32_t events);

static void net_watch_tap(struct vnet *n, bool on)
{
	struct cloak_err err;

	if (n->tap_watched == on)
		return;
	if (on) {
		if (devhost_watch(n->vd.host, n->tap, EPOLLIN, net_tap_ready, n, &err) == 0)
			n->tap_watched = true;
	} else {
		devhost_unwatch(n->vd.host, n->tap);
		n->tap_watched = false;
	}
}

/*
 * Delivers the waiting frame: into one request, or with MRG_RXBUF spread over
 * as many as it takes (num_buffers in the first header says how many).
 * Returns false when the driver has not posted enough buffers yet.
 *
 * Requests taken from the ring stay taken: a frame short of buffers keeps the
 * ones it filled (rx_*) and goes on at the next kick. Giving them back by
 * rewinding last_avail would also give back the bad chains virtio_pop has
 * already completed, which would then be completed again, and with the used
 * ring over the avail ring that repeats without end.
 */
static bool net_deliver(struct vnet *n)
{
	struct virtio_dev *vd = &n->vd;
	bool mergeable = vd->driver_features & (1ull << VIRTIO_NET_F_MRG_RXBUF);
	struct virtq *vq = &vd->vq[NET_RX];
	unsigned i;

	while (n->rx_done < n->frame_len) {
		struct virtq_req *r = n->rx_nbuf ? n->req : n->req0;
		size_t put;

		if (!virtio_pop(vd, NET_RX, r))
			return false;
		if (r->in_len < (n->rx_nbuf ? 1 : NET_HDR_LEN)) {
			virtio_report(vd, "receive buffer %u holds %llu bytes, less than a header; it is returned empty",
				      r->head, (unsigned long long)r->in_len);
			virtio_push(vd, NET_RX, r->head, 0);
			continue;
		}
		put = virtq_req_write(r, 0, n->frame + n->rx_done, n->frame_len - n->rx_done);
		n->rx_heads[n->rx_nbuf] = r->head;
		n->rx_lens[n->rx_nbuf++] = (uint32_t)put;
		n->rx_done += put;
		/*
		 * Without MRG_RXBUF a frame must fit one request; with it, it may not
		 * take more than the queue holds. Either way the rest is cut off.
		 */
		if (!mergeable || n->rx_nbuf == vq->size || n->rx_nbuf == NET_QUEUE_SIZE)
			n->rx_done = n->frame_len;
	}
	/* num_buffers sits in the first request's header (the frame's copy said 1). */
	if (n->rx_nbuf > 1)
		virtq_req_write(n->req0, offsetof(struct virtio_net_hdr_v1, num_buffers), &n->rx_nbuf,
				sizeof(n->rx_nbuf));
	for (i = 0; i < n->rx_nbuf; i++)
		virtio_push(vd, NET_RX, n->rx_heads[i], n->rx_lens[i]);
	n->rx_nbuf = 0;
	n->rx_done = 0;
	n->frame_len = 0;
	return true;
}

static void net_tap_ready(void *opaque, uint32_t events)
{
	struct vnet *n = opaque;
	struct virtio_dev *vd = &n->vd;

	(void)events;
	pthread_mutex_lock(&vd->lock);
	for (;;) {
		if (!n->frame_len) {
			ssize_t r = read(n->tap, n->frame, NET_FRAME_MAX);

			if (r <= 0)
				break;
			n->frame_len = (size_t)r;
			if (n->frame_len < NET_HDR_LEN) {
				n->frame_len = 0;
				continue;
			}
			/* The tap wrote a 12-byte virtio-net header; num_buffers is the device's to fill. */
			n->frame[offsetof(struct virtio_net_hdr_v1, num_buffers)] = 1;
			n->frame[offsetof(struct virtio_net_hdr_v1, num_buffers) + 1] = 0;
		}
		if (!virtio_queue_live(vd, NET_RX)) {
			net_watch_tap(n, false);
			break;
		}
		if (!net_deliver(n)) {
			/*
			 * Keep the frame; stop reading the tap until the driver posts receive
			 * buffers. Under EVENT_IDX the driver kicks only when its index passes
			 * avail_event, so set that first (or a driver that posts buffers one at a
			 * time never kicks again), then look once more for buffers posted meanwhile.
			 */
			if (virtq_arm_notify(&vd->vq[NET_RX]))
				continue;
			net_watch_tap(n, false);
			break;
		}
	}
	virtio_interrupt(vd, NET_RX);
	pthread_mutex_unlock(&vd->lock);
}

static void net_kick(struct virtio_dev *vd, unsigned q)
{
	struct vnet *n = vd->priv;

	if (q == NET_TX) {
		virtio_drain(vd, NET_TX, n->req, net_send);
		return;
	}
	pthread_mutex_lock(&vd->lock);
	net_watch_tap(n, true);
	pthread_mutex_unlock(&vd->lock);
	/* A frame held back for want of buffers goes now. */
	net_tap_ready(n, EPOLLIN);
}

static void net_driver_ok(struct virtio_dev *vd)
{
	virtio_kick(vd, NET_TX);
	virtio_kick(vd, NET_RX);
}

static void net_reset(struct virtio_dev *vd)
{
	struct vnet *n = vd->priv;

	/* The requests a partial frame held belong to the old driver: forget them with the frame. */
	n->frame_len = 0;
	n->rx_nbuf = 0;
	n->rx_done = 0;
}

static const struct virtio_dev_ops net_ops = {
	.kind = "virtio-net",
	.type = 1,
	.pci_class = 0x020000,  /* Ethernet controller */
	.nqueues = 2,
	.queue_max = NET_QUEUE_SIZE,
	.features = 1ull << VIRTIO_NET_F_MAC | 1ull << VIRTIO_NET_F_STATUS | 1ull << VIRTIO_NET_F_MRG_RXBUF |
		    1ull << VIRTIO_NET_F_MTU,
	.config_size = sizeof(struct virtio_net_config),
	.config_access = net_config,
	.queue_kick = net_kick,
	.driver_ok = net_driver_ok,
	.reset = net_reset,
};

static int tap_open(struct vnet *n, const char *name, struct cloak_err *err)
{
	struct ifreq ifr;
	int hdr = (int)NET_HDR_LEN;

	n->tap = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (n->tap < 0)
		return err_errno(err, "--net: cannot open /dev/net/tun%s",
				 errno == ENOENT ? " (load the tun module: modprobe tun)" : "");
	memset(&ifr, 0, sizeof(ifr));
	/* IFF_VNET_HDR: the tap speaks the virtio-net header, so frames pass through unchanged. */
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(n->tap, TUNSETIFF, &ifr) < 0)
		return err_errno(err, "--net: cannot attach to tap device %s%s", name,
				 errno == EPERM ? "; create it for this user first (ip tuntap add dev NAME mode tap "
						  "user USER) or run with CAP_NET_ADMIN" :
						  errno == EBUSY ? "; another process holds it" : "");
	if (ioctl(n->tap, TUNSETVNETHDRSZ, &hdr) < 0)
		return err_errno(err, "--net: tap device %s refuses a %d-byte virtio-net header", name, hdr);
	/* No checksum or segmentation offload is offered to the guest, so the tap gets none either. */
	(void)ioctl(n->tap, TUNSETOFFLOAD, 0);
	snprintf(n->ifname, sizeof(n->ifname), "%s", ifr.ifr_name);
	return 0;
}

/* Exactly six pairs of hex digits joined by colons; no signs, blanks or other separators. */
static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned i;

	if (strlen(s) != 17)
		return -1;
	for (i = 0; i < 17; i++)
		if (i % 3 == 2 ? s[i] != ':' : !isxdigit((unsigned char)s[i]))
			return -1;
	for (i = 0; i < 6; i++)
		mac[i] = (uint8_t)strtoul((char[3]){ s[3 * i], s[3 * i + 1], 0 }, NULL, 16);
	return 0;
}

int virtio_net_parse_options(const char *s, struct virtio_net_options *o, struct cloak_err *err)
{
	char *copy = strdup(s), *item, *save = NULL;

	if (!copy)
		return err_set(err, "out of memory");
	*o = (struct virtio_net_options){ .has_mac = false };
	for (item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		if (!strncmp(item, "tap=", 4) && item[4]) {
			if (strlen(item + 4) >= sizeof(o->tap)) {
				err_set(err, "--net: tap name '%s' is longer than 15 characters (IFNAMSIZ)", item + 4);
				goto fail;
			}
			snprintf(o->tap, sizeof(o->tap), "%s", item + 4);
		} else if (!strncmp(item, "mac=", 4)) {
			if (parse_mac(item + 4, o->mac) < 0) {
				err_set(err, "--net: '%s' is not a MAC address; write it like mac=52:54:00:12:34:56",
					item + 4);
				goto fail;
			}
			if (o->mac[0] & 1) {
				err_set(err, "--net: %s is a multicast address; give a unicast MAC (first byte even)",
					item + 4);
				goto fail;
			}
			o->has_mac = true;
		} else {
			err_set(err, "--net: unknown setting '%s'; write --net tap=NAME[,mac=MAC]", item);
			goto fail;
		}
	}
	free(copy);
	if (!o->tap[0])
		return err_set(err, "--net: no tap device named in '%s'; write --net tap=NAME[,mac=MAC]", s);
	return 0;
fail:
	free(copy);
	return -1;
}

static int net_parse(const char *value, struct cloak_err *err)
{
	struct virtio_net_options o;

	return virtio_net_parse_options(value, &o, err);
}

/* The tap itself is made or attached only by init: creating it here would leave one behind on a later error. */
static int net_probe(const char *value, struct cloak_err *err)
{
	int fd;

	(void)value;
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return err_errno(err, "--net: cannot open /dev/net/tun%s",
				 errno == ENOENT ? " (load the tun module: modprobe tun)" : "");
	close(fd);
	return 0;
}

static void net_help(FILE *out)
{
	fprintf(out, "  --net tap=NAME[,mac=MAC]\n"
		     "                       a virtio-net device on the tap device NAME (created if missing)\n");
}

static void net_fini(struct dev_host *host);

static int net_init(struct dev_host *host, struct cloak_err *err)
{
	struct vnet *n = &net;
	const char *value = config_device_value(host->cfg, "net", 0);
	struct virtio_net_options o;
	struct timespec ts;

	*n = (struct vnet){ .tap = -1 };
	if (!value)
		return 0;
	if (virtio_net_parse_options(value, &o, err) < 0)
		return -1;
	n->frame = malloc(NET_FRAME_MAX);
	n->req = malloc(sizeof(*n->req));
	n->req0 = malloc(sizeof(*n->req0));
	if (!n->frame || !n->req || !n->req0) {
		err_set(err, "out of memory");
		goto fail;
	}
	if (tap_open(n, o.tap, err) < 0)
		goto fail;
	if (o.has_mac) {
		memcpy(n->mac, o.mac, 6);
	} else {
		/* Locally administered, unicast, different per run: 52:54:00 and three varying bytes. */
		clock_gettime(CLOCK_REALTIME, &ts);
		n->mac[0] = 0x52;
		n->mac[1] = 0x54;
		n->mac[2] = 0x00;
		n->mac[3] = (uint8_t)getpid();
		n->mac[4] = (uint8_t)(ts.tv_nsec >> 8);
		n->mac[5] = (uint8_t)(ts.tv_nsec >> 16);
	}
	if (virtio_pci_init(&n->vd, host, &net_ops, "virtio-net0", n, err) < 0)
		goto fail;
	n->attached = true;
	return 0;
fail:
	/* Undo the PCI function here (fini undoes only an attached one); fini may run again after this. */
	if (n->vd.host)
		virtio_pci_fini(&n->vd);
	net_fini(host);
	return -1;
}

static void net_fini(struct dev_host *host)
{
	struct vnet *n = &net;

	(void)host;
	if (n->attached)
		virtio_pci_fini(&n->vd);
	if (n->tx_dropped)
		fprintf(stderr, "cloak: virtio-net0: %llu frames from the guest were dropped (malformed or tap full)\n",
			(unsigned long long)n->tx_dropped);
	if (n->tap >= 0)
		close(n->tap);
	free(n->frame);
	free(n->req);
	free(n->req0);
	*n = (struct vnet){ .tap = -1 };
}

const struct device_ops virtio_net_device = {
	.name = "virtio-net",
	.option = "net",
	.parse = net_parse,
	.probe = net_probe,
	.help = net_help,
	.init = net_init,
	.fini = net_fini,
};
