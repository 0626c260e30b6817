/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Bounds-checked header parsing over [data, data_end), shared by the TC and
 * XDP programs.  It never fails the frame: whatever it cannot read stays zero
 * in the summary, and a frame with no IP header simply has no flow.
 */
#ifndef TXC_BPF_PARSE_H
#define TXC_BPF_PARSE_H

#define TXC_MAX_VLAN_TAGS	2
#define TXC_MAX_IPV6_EXTHDRS	4

struct txc_cursor {
	void *pos;
	void *end;
};

static __always_inline int txc_has_ports(__u8 proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP ||
	       proto == IPPROTO_UDPLITE || proto == IPPROTO_SCTP;
}

/* TCP, UDP, UDP-Lite and SCTP all start with source and destination port. */
static __always_inline void txc_parse_ports(struct txc_cursor *c,
					    struct txc_frame_summary *s)
{
	__be16 *ports = c->pos;

	if (!txc_has_ports(s->l4_proto))
		return;
	if ((void *)(ports + 2) > c->end) {
		s->flags |= TXC_FRAME_F_TRUNCATED;
		return;
	}
	s->sport = ports[0];
	s->dport = ports[1];
}

static __always_inline void txc_parse_ipv4(struct txc_cursor *c,
					   struct txc_frame_summary *s)
{
	struct iphdr *iph = c->pos;
	__u32 hlen;

	if ((void *)(iph + 1) > c->end) {
		s->flags |= TXC_FRAME_F_TRUNCATED;
		return;
	}
	hlen = iph->ihl * 4;
	if (iph->version != 4 || hlen < sizeof(*iph))
		return;
	s->family = TXC_FAMILY_IPV4;
	s->l4_proto = iph->protocol;
	__builtin_memcpy(s->saddr, &iph->saddr, 4);
	__builtin_memcpy(s->daddr, &iph->daddr, 4);
	/* Only an unfragmented datagram or a first fragment has ports. */
	if ((void *)iph + hlen > c->end) {
		s->flags |= TXC_FRAME_F_TRUNCATED;
		return;
	}
	if (iph->frag_off & bpf_htons(IP_OFFSET))
		return;
	c->pos = (void *)iph + hlen;
	txc_parse_ports(c, s);
}

static __always_inline void txc_parse_ipv6(struct txc_cursor *c,
					   struct txc_frame_summary *s)
{
	struct ipv6hdr *ip6h = c->pos;
	__u8 nexthdr;
	int i;

	if ((void *)(ip6h + 1) > c->end) {
		s->flags |= TXC_FRAME_F_TRUNCATED;
		return;
	}
	if (ip6h->version != 6)
		return;
	s->family = TXC_FAMILY_IPV6;
	__builtin_memcpy(s->saddr, &ip6h->saddr, 16);
	__builtin_memcpy(s->daddr, &ip6h->daddr, 16);
	nexthdr = ip6h->nexthdr;
	c->pos = ip6h + 1;

	/* Walk the extension headers that may stand before the L4 header. */
#pragma unroll
	for (i = 0; i < TXC_MAX_IPV6_EXTHDRS; i++) {
		struct ipv6_opt_hdr *opt = c->pos;
		struct frag_hdr *frag = c->pos;

		if (nexthdr != NEXTHDR_HOP && nexthdr != NEXTHDR_ROUTING &&
		    nexthdr != NEXTHDR_DEST && nexthdr != NEXTHDR_FRAGMENT &&
		    nexthdr != NEXTHDR_AUTH)
			break;
		if ((void *)(opt + 1) > c->end)
			goto truncated;
		if (nexthdr == NEXTHDR_FRAGMENT) {
			if ((void *)(frag + 1) > c->end)
				goto truncated;
			/* A later fragment has no L4 header. */
			if (frag->frag_off & bpf_htons(0xFFF8)) {
				s->l4_proto = frag->nexthdr;
				return;
			}
			c->pos = frag + 1;
		} else if (nexthdr == NEXTHDR_AUTH) {
			c->pos += (opt->hdrlen + 2) * 4;
		} else {
			c->pos += (opt->hdrlen + 1) * 8;
		}
		nexthdr = opt->nexthdr;
	}
	s->l4_proto = nexthdr;
	txc_parse_ports(c, s);
	return;
truncated:
	/* Addresses are known, the L4 protocol is not. */
	s->flags |= TXC_FRAME_F_TRUNCATED;
}

/*
 * Fill @s from the frame (zeroed first).
 *
 * A subprogram, not inlined: a program that parses in several places (before
 * and after pulling an skb's headers in, for the abort record) holds one
 * copy of the parser, and each call costs a call, not a parser.  A static
 * subprogram may take packet pointers: the verifier checks it in its
 * caller's context, as it does since bpf-to-bpf calls exist (4.16).
 */
static __noinline void txc_parse_frame(void *data, void *data_end,
				       struct txc_frame_summary *s)
{
	struct txc_cursor c = { .pos = data, .end = data_end };
	struct ethhdr *eth = data;
	__be16 proto;
	int i;

	/* Every caller's summary is 8-byte aligned (struct txc_frame): 6 stores, not 22. */
	__builtin_memset(__builtin_assume_aligned(s, 8), 0, sizeof(*s));
	if ((void *)(eth + 1) > data_end) {
		s->flags |= TXC_FRAME_F_TRUNCATED;
		return;
	}
	proto = eth->h_proto;
	c.pos = eth + 1;

#pragma unroll
	for (i = 0; i < TXC_MAX_VLAN_TAGS; i++) {
		struct vlan_hdr *vh = c.pos;

		if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD))
			break;
		if ((void *)(vh + 1) > data_end) {
			s->flags |= TXC_FRAME_F_TRUNCATED;
			return;
		}
		if (i == 0)
			s->vlan_tci = bpf_ntohs(vh->h_vlan_TCI);
		proto = vh->h_vlan_encapsulated_proto;
		c.pos = vh + 1;
	}
	s->eth_proto = proto;

	if (proto == bpf_htons(ETH_P_IP))
		txc_parse_ipv4(&c, s);
	else if (proto == bpf_htons(ETH_P_IPV6))
		txc_parse_ipv6(&c, s);
}

/* The flow-rule key of a parsed frame; returns 0 if the frame has no flow. */
static __always_inline int txc_flow_key_of(const struct txc_frame_summary *s,
					   struct txc_flow_key *key)
{
	if (!s->family || (s->flags & TXC_FRAME_F_TRUNCATED))
		return 0;
	key->family = s->family;
	key->proto = s->l4_proto;
	key->reserved = 0;
	key->sport = s->sport;
	key->dport = s->dport;
	__builtin_memcpy(key->saddr, s->saddr, 16);
	__builtin_memcpy(key->daddr, s->daddr, 16);
	return 1;
}

#endif
