/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Test frames written as text (addresses, host-order ports), built by
 * common/frame.c: Ethernet, optional VLAN tags, IPv4/IPv6, UDP/TCP/ICMP.
 */
#ifndef TXC_TEST_PKT_H
#define TXC_TEST_PKT_H

#include <stddef.h>
#include <linux/types.h>

struct pkt_spec {
	int family;			/* 4, 6, or 0 for a non-IP (ARP) frame */
	__u8 proto;			/* IPPROTO_UDP (default), IPPROTO_TCP, ... */
	const char *saddr, *daddr;	/* textual addresses */
	__u16 sport, dport;		/* host order */
	int nvlan;			/* 0..2 VLAN tags */
	__u16 vlan_tci[2];
	__u16 ipv4_frag_off;		/* host order, the raw frag_off field */
	int ipv6_opts;			/* hop-by-hop + dest-option headers before L4 */
	int ipv6_frag;			/* 1: first fragment header, 2: a later fragment */
	size_t frame_len;		/* pad the frame to this length; 0: minimal */
};

/* Returns the frame length, or 0 if @cap is too small or @spec impossible. */
size_t pkt_build(const struct pkt_spec *spec, void *buf, size_t cap);

/* Address bytes as the datapath stores them (IPv4 in the first 4 bytes). */
void pkt_addr(int family, const char *text, __u8 out[16]);

#endif
