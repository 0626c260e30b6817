/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The frame summary of parse.h, read through a dynptr: where a program has
 * no packet pointers (txcancel's qdisc gets a struct sk_buff), each header
 * is copied to the stack with bpf_dynptr_read(), which checks its bounds at
 * run time, so the offsets may be whatever the headers say.  Same result as
 * txc_parse_frame() for the same bytes.
 */
#ifndef TXC_BPF_PARSE_DYNPTR_H
#define TXC_BPF_PARSE_DYNPTR_H

static __always_inline int txc_dp_read(void *dst, __u32 len, const struct bpf_dynptr *p,
				       __u32 off, struct txc_frame_summary *s)
{
	if (!bpf_dynptr_read(dst, len, p, off, 0))
		return 0;
	s->flags |= TXC_FRAME_F_TRUNCATED;
	return -1;
}

static __always_inline void txc_dp_parse_ports(const struct bpf_dynptr *p, __u32 off,
					       struct txc_frame_summary *s)
{
	__be16 ports[2];

	if (!txc_has_ports(s->l4_proto) || txc_dp_read(ports, sizeof(ports), p, off, s))
		return;
	s->sport = ports[0];
	s->dport = ports[1];
}

static __always_inline void txc_dp_parse_ipv4(const struct bpf_dynptr *p, __u32 off,
					      struct txc_frame_summary *s)
{
	struct iphdr iph;
	__u32 hlen;

	if (txc_dp_read(&iph, sizeof(iph), p, off, s))
		return;
	hlen = iph.ihl * 4;
	if (iph.version != 4 || hlen < sizeof(iph))
		return;
	s->family = TXC_FAMILY_IPV4;
	s->l4_proto = iph.protocol;
	__builtin_memcpy(s->saddr, &iph.saddr, 4);
	__builtin_memcpy(s->daddr, &iph.daddr, 4);
	if (iph.frag_off & bpf_htons(IP_OFFSET))
		return;
	txc_dp_parse_ports(p, off + hlen, s);
}

static __always_inline void txc_dp_parse_ipv6(const struct bpf_dynptr *p, __u32 off,
					      struct txc_frame_summary *s)
{
	struct ipv6hdr ip6h;
	__u8 nexthdr;
	int i;

	if (txc_dp_read(&ip6h, sizeof(ip6h), p, off, s))
		return;
	if (ip6h.version != 6)
		return;
	s->family = TXC_FAMILY_IPV6;
	__builtin_memcpy(s->saddr, &ip6h.saddr, 16);
	__builtin_memcpy(s->daddr, &ip6h.daddr, 16);
	nexthdr = ip6h.nexthdr;
	off += sizeof(ip6h);

#pragma unroll
	for (i = 0; i < TXC_MAX_IPV6_EXTHDRS; i++) {
		struct ipv6_opt_hdr opt;
		struct frag_hdr frag;

		if (nexthdr != NEXTHDR_HOP && nexthdr != NEXTHDR_ROUTING &&
		    nexthdr != NEXTHDR_DEST && nexthdr != NEXTHDR_FRAGMENT &&
		    nexthdr != NEXTHDR_AUTH)
			break;
		if (nexthdr == NEXTHDR_FRAGMENT) {
			if (txc_dp_read(&frag, sizeof(frag), p, off, s))
				return;
			if (frag.frag_off & bpf_htons(0xFFF8)) {
				s->l4_proto = frag.nexthdr;
				return;
			}
			nexthdr = frag.nexthdr;
			off += sizeof(frag);
			continue;
		}
		if (txc_dp_read(&opt, sizeof(opt), p, off, s))
			return;
		off += nexthdr == NEXTHDR_AUTH ? (opt.hdrlen + 2) * 4 : (opt.hdrlen + 1) * 8;
		nexthdr = opt.nexthdr;
	}
	s->l4_proto = nexthdr;
	txc_dp_parse_ports(p, off, s);
}

/* Fill @s (zeroed by the caller) from the frame behind @p, Ethernet header first. */
static __always_inline void txc_parse_dynptr(const struct bpf_dynptr *p,
					     struct txc_frame_summary *s)
{
	struct ethhdr eth;
	struct vlan_hdr vh;
	__u32 off = sizeof(eth);
	__be16 proto;
	int i;

	if (txc_dp_read(&eth, sizeof(eth), p, 0, s))
		return;
	proto = eth.h_proto;

#pragma unroll
	for (i = 0; i < TXC_MAX_VLAN_TAGS; i++) {
		if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD))
			break;
		if (txc_dp_read(&vh, sizeof(vh), p, off, s))
			return;
		if (i == 0)
			s->vlan_tci = bpf_ntohs(vh.h_vlan_TCI);
		proto = vh.h_vlan_encapsulated_proto;
		off += sizeof(vh);
	}
	s->eth_proto = proto;

	if (proto == bpf_htons(ETH_P_IP))
		txc_dp_parse_ipv4(p, off, s);
	else if (proto == bpf_htons(ETH_P_IPV6))
		txc_dp_parse_ipv6(p, off, s);
}

#endif
