/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Frames as the datapath parses them: Ethernet, up to two VLAN tags, IPv4 or
 * IPv6 (with extension headers and fragments if asked) and a minimal L4
 * header, every length field and checksum consistent.  One builder for the
 * tool's 'explain', the tests and the benchmarks.
 */
#ifndef TXC_COMMON_FRAME_H
#define TXC_COMMON_FRAME_H

#include <stddef.h>
#include <linux/types.h>

struct frame_spec {
	__u8 family;		/* 4 (TXC_FAMILY_IPV4), 6 (TXC_FAMILY_IPV6), 0: ARP */
	__u8 proto;		/* IPPROTO_*; 0 is IPPROTO_UDP */
	__u8 saddr[16];		/* network order; IPv4 in the first 4 bytes */
	__u8 daddr[16];
	__be16 sport;
	__be16 dport;
	__u8 nvlan;		/* 0..2 tags; of two, the outer is 802.1ad */
	__u16 vlan_tci[2];	/* outer first */
	__u16 ipv4_frag_off;	/* the raw frag_off field, host order (0x4000: DF) */
	__u8 ipv6_opts;		/* hop-by-hop and destination-option headers before L4 */
	__u8 ipv6_frag;		/* a fragment header: 1 the first fragment, 2 a later one */
	__u32 len;		/* the whole frame, padded with zeros; 0: just the headers */
};

/* Header bytes of @spec: Ethernet (+ VLAN), IP (+ extension headers), L4. */
size_t frame_headers_len(const struct frame_spec *spec);

/*
 * Build the frame into @buf; returns its length, -EINVAL if @spec's len is
 * shorter than its headers or its family unknown, -ENOSPC if @size is short.
 */
int frame_build(const struct frame_spec *spec, __u8 *buf, size_t size);

#endif
