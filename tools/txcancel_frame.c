/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Frames for 'txcancel explain': Ethernet, an optional 802.1Q tag, IPv4 or
 * IPv6 and a minimal L4 header, with every length field consistent so that
 * the datapath parser reads the frame as a real one.  Checksums are filled
 * in although the parser does not look at them: a frame captured from an
 * explain run should also be a valid one.
 *
 * Fields are written byte by byte in network order; no header structs, so
 * nothing depends on alignment or on which libc headers define what.
 */
#include <errno.h>
#include <string.h>
#include <netinet/in.h>
#include <linux/if_ether.h>

#include "txcancel.h"

#define ETH_HLEN_	14
#define VLAN_HLEN_	4
#define IPV4_HLEN	20
#define IPV6_HLEN	40
#define UDP_HLEN	8
#define TCP_HLEN	20
#define ICMP_HLEN	8
#define SCTP_HLEN	12

/* Locally administered unicast addresses: they never belong to a real NIC. */
static const __u8 mac_src[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
static const __u8 mac_dst[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };

static void put16(__u8 *p, __u16 v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static size_t l2_len(const struct frame_spec *spec)
{
	return ETH_HLEN_ + (spec->has_vlan ? VLAN_HLEN_ : 0);
}

static size_t l3_len(const struct frame_spec *spec)
{
	return spec->family == TXC_FAMILY_IPV6 ? IPV6_HLEN : IPV4_HLEN;
}

static size_t l4_hdr_len(__u8 proto)
{
	switch (proto) {
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
	return l2_len(spec) + l3_len(spec) + l4_hdr_len(spec->proto);
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
	size_t alen = spec->family == TXC_FAMILY_IPV6 ? 16 : 4;
	__u32 sum = 0;

	sum = csum_add(sum, spec->saddr, alen);
	sum = csum_add(sum, spec->daddr, alen);
	return sum + spec->proto + l4_len;
}

static void write_l2(const struct frame_spec *spec, __u8 *p)
{
	__u16 ethertype = spec->family == TXC_FAMILY_IPV6 ? ETH_P_IPV6 : ETH_P_IP;

	memcpy(p, mac_dst, 6);
	memcpy(p + 6, mac_src, 6);
	if (spec->has_vlan) {
		put16(p + 12, ETH_P_8021Q);
		put16(p + 14, spec->vid);	/* PCP 0, DEI 0 */
		put16(p + 16, ethertype);
	} else {
		put16(p + 12, ethertype);
	}
}

static void write_ipv4(const struct frame_spec *spec, __u8 *p, size_t ip_len)
{
	p[0] = 0x45;			/* version 4, IHL 5 words */
	put16(p + 2, ip_len);
	put16(p + 6, 0x4000);		/* DF, first and only fragment */
	p[8] = 64;			/* TTL */
	p[9] = spec->proto;
	memcpy(p + 12, spec->saddr, 4);
	memcpy(p + 16, spec->daddr, 4);
	put16(p + 10, csum_fold(csum_add(0, p, IPV4_HLEN)));
}

static void write_ipv6(const struct frame_spec *spec, __u8 *p, size_t payload_len)
{
	p[0] = 0x60;			/* version 6, class and flow label 0 */
	put16(p + 4, payload_len);
	p[6] = spec->proto;
	p[7] = 64;			/* hop limit */
	memcpy(p + 8, spec->saddr, 16);
	memcpy(p + 24, spec->daddr, 16);
}

static void write_l4(const struct frame_spec *spec, __u8 *p, size_t l4_len)
{
	__u16 sum;

	switch (spec->proto) {
	case IPPROTO_UDP:
	case IPPROTO_UDPLITE:
		memcpy(p, &spec->sport, 2);
		memcpy(p + 2, &spec->dport, 2);
		/* UDP-Lite: checksum coverage 0 means the whole datagram. */
		put16(p + 4, spec->proto == IPPROTO_UDP ? l4_len : 0);
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

	if (spec->family != TXC_FAMILY_IPV4 && spec->family != TXC_FAMILY_IPV6)
		return -EINVAL;
	if (len < hdrs)
		return -EINVAL;
	if (len > size)
		return -ENOSPC;

	memset(buf, 0, len);
	write_l2(spec, buf);
	if (spec->family == TXC_FAMILY_IPV6)
		write_ipv6(spec, buf + l2, len - l2 - l3);
	else
		write_ipv4(spec, buf + l2, len - l2);
	write_l4(spec, buf + l2 + l3, len - l2 - l3);
	return len;
}
