// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Fields are written byte by byte in network order; no header structs, so
 * nothing depends on alignment or on which libc headers define what.
 * Checksums are filled in although the datapath does not look at them: a
 * frame captured on its way should be a valid one.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <netinet/in.h>
#include <linux/if_ether.h>

#include "frame.h"

#define ETH_HLEN_	14
#define VLAN_HLEN_	4
#define ARP_LEN		28	/* an IPv4-over-Ethernet ARP body, zeros */
#define IPV4_HLEN	20
#define IPV6_HLEN	40
#define IPV6_EXT_LEN	8	/* each extension header here: the shortest */
#define UDP_HLEN	8
#define TCP_HLEN	20
#define ICMP_HLEN	8
#define SCTP_HLEN	12
#define FRAG_DATA_LEN	8	/* what a later fragment carries instead of L4 */

#define NEXTHDR_HOP	0
#define NEXTHDR_FRAG	44
#define NEXTHDR_DEST	60

/* Locally administered unicast addresses: they never belong to a real NIC. */
static const __u8 mac_src[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
static const __u8 mac_dst[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };

static void put16(__u8 *p, __u16 v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static __u8 proto_of(const struct frame_spec *spec)
{
	return spec->proto ? spec->proto : IPPROTO_UDP;
}

static size_t l2_len(const struct frame_spec *spec)
{
	return ETH_HLEN_ + spec->nvlan * VLAN_HLEN_;
}

static size_t l3_len(const struct frame_spec *spec)
{
	if (spec->family == 4)
		return IPV4_HLEN;
	if (spec->family == 6)
		return IPV6_HLEN + (spec->ipv6_opts + !!spec->ipv6_frag) * IPV6_EXT_LEN;
	return ARP_LEN;
}

/* A fragment after the first: no L4 header, its data is opaque. */
static bool later_fragment(const struct frame_spec *spec)
{
	if (spec->family == 4)
		return spec->ipv4_frag_off & 0x1fff;
	return spec->family == 6 && spec->ipv6_frag == 2;
}

static size_t l4_hdr_len(const struct frame_spec *spec)
{
	if (!spec->family)
		return 0;
	if (later_fragment(spec))
		return FRAG_DATA_LEN;
	switch (proto_of(spec)) {
	case IPPROTO_UDP:
	case IPPROTO_UDPLITE:	return UDP_HLEN;
	case IPPROTO_TCP:	return TCP_HLEN;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:	return ICMP_HLEN;
	case IPPROTO_SCTP:	return SCTP_HLEN;
	default:		return 0;	/* payload only */
	}
}

size_t frame_headers_len(const struct frame_spec *spec)
{
	return l2_len(spec) + l3_len(spec) + l4_hdr_len(spec);
}

/* One's-complement sum of @len bytes (RFC 1071), not yet folded. */
static __u32 csum_add(__u32 sum, const __u8 *p, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (p[i] << 8) | p[i + 1];
	if (len & 1)
		sum += p[len - 1] << 8;
	return sum;
}

static __u16 csum_fold(__u32 sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

/* The IPv4/IPv6 pseudo-header of TCP, UDP and ICMPv6 checksums. */
static __u32 pseudo_sum(const struct frame_spec *spec, size_t l4_len)
{
	size_t alen = spec->family == 6 ? 16 : 4;
	__u32 sum = 0;

	sum = csum_add(sum, spec->saddr, alen);
	sum = csum_add(sum, spec->daddr, alen);
	return sum + proto_of(spec) + l4_len;
}

static void write_l2(const struct frame_spec *spec, __u8 *p)
{
	__u16 ethertype = spec->family == 6 ? ETH_P_IPV6 : spec->family == 4 ? ETH_P_IP : ETH_P_ARP;
	int i;

	memcpy(p, mac_dst, 6);
	memcpy(p + 6, mac_src, 6);
	p += 12;
	for (i = 0; i < spec->nvlan; i++, p += VLAN_HLEN_) {
		put16(p, i == 0 && spec->nvlan == 2 ? ETH_P_8021AD : ETH_P_8021Q);
		put16(p + 2, spec->vlan_tci[i]);
	}
	put16(p, ethertype);
}

static void write_ipv4(const struct frame_spec *spec, __u8 *p, size_t ip_len)
{
	p[0] = 0x45;			/* version 4, IHL 5 words */
	put16(p + 2, ip_len);
	put16(p + 6, spec->ipv4_frag_off);
	p[8] = 64;			/* TTL */
	p[9] = proto_of(spec);
	memcpy(p + 12, spec->saddr, 4);
	memcpy(p + 16, spec->daddr, 4);
	put16(p + 10, csum_fold(csum_add(0, p, IPV4_HLEN)));
}

static void write_ipv6(const struct frame_spec *spec, __u8 *p, size_t payload_len)
{
	__u8 *nexthdr = p + 6;
	int i;

	p[0] = 0x60;			/* version 6, class and flow label 0 */
	put16(p + 4, payload_len);
	p[7] = 64;			/* hop limit */
	memcpy(p + 8, spec->saddr, 16);
	memcpy(p + 24, spec->daddr, 16);
	p += IPV6_HLEN;
	for (i = 0; i < spec->ipv6_opts; i++, p += IPV6_EXT_LEN) {
		*nexthdr = i == 0 ? NEXTHDR_HOP : NEXTHDR_DEST;
		p[2] = 1;		/* PadN, 4 bytes of padding */
		p[3] = 4;
		nexthdr = p;
	}
	if (spec->ipv6_frag) {
		/* The first fragment: offset 0, more to come; a later one: offset 1480. */
		*nexthdr = NEXTHDR_FRAG;
		put16(p + 2, spec->ipv6_frag == 2 ? 185 << 3 : 1);
		nexthdr = p;
	}
	*nexthdr = proto_of(spec);
}

static void write_l4(const struct frame_spec *spec, __u8 *p, size_t l4_len)
{
	__u16 sum;

	if (later_fragment(spec))
		return;
	switch (proto_of(spec)) {
	case IPPROTO_UDP:
	case IPPROTO_UDPLITE:
		memcpy(p, &spec->sport, 2);
		memcpy(p + 2, &spec->dport, 2);
		/* UDP-Lite: checksum coverage 0 means the whole datagram. */
		put16(p + 4, proto_of(spec) == IPPROTO_UDP ? l4_len : 0);
		sum = csum_fold(csum_add(pseudo_sum(spec, l4_len), p, l4_len));
		put16(p + 6, sum ? sum : 0xffff);	/* 0 would mean "none" */
		break;
	case IPPROTO_TCP:
		memcpy(p, &spec->sport, 2);
		memcpy(p + 2, &spec->dport, 2);
		p[12] = (TCP_HLEN / 4) << 4;	/* data offset */
		p[13] = 0x10;			/* ACK */
		put16(p + 14, 65535);		/* window */
		put16(p + 16, csum_fold(csum_add(pseudo_sum(spec, l4_len), p, l4_len)));
		break;
	case IPPROTO_ICMP:
		p[0] = 8;			/* echo request */
		put16(p + 2, csum_fold(csum_add(0, p, l4_len)));
		break;
	case IPPROTO_ICMPV6:
		p[0] = 128;			/* echo request */
		put16(p + 2, csum_fold(csum_add(pseudo_sum(spec, l4_len), p, l4_len)));
		break;
	case IPPROTO_SCTP:
		/* The CRC32c checksum stays 0: nothing on the path checks it. */
		memcpy(p, &spec->sport, 2);
		memcpy(p + 2, &spec->dport, 2);
		break;
	default:
		break;
	}
}

int frame_build(const struct frame_spec *spec, __u8 *buf, size_t size)
{
	size_t hdrs = frame_headers_len(spec);
	size_t len = spec->len ? spec->len : hdrs;
	size_t l2 = l2_len(spec), l3 = l3_len(spec);

	if ((spec->family != 0 && spec->family != 4 && spec->family != 6) || spec->nvlan > 2)
		return -EINVAL;
	if (len < hdrs)
		return -EINVAL;
	if (len > size)
		return -ENOSPC;

	memset(buf, 0, len);
	write_l2(spec, buf);
	if (spec->family == 6)
		write_ipv6(spec, buf + l2, len - l2 - IPV6_HLEN);
	else if (spec->family == 4)
		write_ipv4(spec, buf + l2, len - l2);
	if (spec->family)
		write_l4(spec, buf + l2 + l3, len - l2 - l3);
	return len;
}
