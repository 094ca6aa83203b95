/* virtio_net.h: the options of virtio-net, exposed for the unit tests. */
#ifndef CLOAK_VIRTIO_NET_H
#define CLOAK_VIRTIO_NET_H

#include "cloak.h"

/* --net tap=NAME[,mac=MAC]: the tap device and, if given, the guest's MAC address. */
struct virtio_net_options {
	char tap[16];  /* IFNAMSIZ */
	uint8_t mac[6];
	bool has_mac;
};

/* One --net value; the message names --net and the remedy. */
int virtio_net_parse_options(const char *value, struct virtio_net_options *out, struct cloak_err *err);

#endif
