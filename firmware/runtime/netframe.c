/* netframe.c: the Ethernet, ARP and IPv4 pieces the network test and benchmark guests build and read frames with. */
#include "guest.h"

void net_put16be(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* The Internet checksum (RFC 1071) over n bytes; an odd last byte is padded with zero. */
uint16_t net_csum(const uint8_t *p, unsigned n)
{
	uint32_t s = 0;

	for (; n > 1; n -= 2, p += 2)
		s += (uint32_t)p[0] << 8 | p[1];
	if (n)
		s += (uint32_t)p[0] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

unsigned net_arp_request(uint8_t *f, const uint8_t mac[6], const uint8_t ip[4], const uint8_t target_ip[4])
{
	memset(f, 0xff, 6);
	memcpy(f + 6, mac, 6);
	net_put16be(f + 12, 0x0806);
	net_put16be(f + 14, 1);       /* Ethernet */
	net_put16be(f + 16, 0x0800); /* IPv4 */
	f[18] = 6;
	f[19] = 4;
	net_put16be(f + 20, 1);       /* request */
	memcpy(f + 22, mac, 6);
	memcpy(f + 28, ip, 4);
	memset(f + 32, 0, 6);
	memcpy(f + 38, target_ip, 4);
	return 42;
}

bool net_arp_reply_from(const uint8_t *f, int len, const uint8_t ip[4], uint8_t mac_out[6])
{
	if (len < 42 || f[12] != 0x08 || f[13] != 0x06 || f[21] != 2 || memcmp(f + 28, ip, 4))
		return false;
	memcpy(mac_out, f + 22, 6);
	return true;
}
