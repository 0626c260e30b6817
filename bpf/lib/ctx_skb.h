/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The TC (struct __sk_buff) side of the context shim. */
#ifndef TXC_BPF_CTX_SKB_H
#define TXC_BPF_CTX_SKB_H

/* Enough for Ethernet, two VLAN tags, IPv6 with extension headers and ports. */
#define TXC_SKB_PARSE_BYTES	128

/*
 * Context fields are read with inline assembly: clang otherwise hoists the
 * field offsets into registers and loads from "ctx + reg", a computed
 * context offset the verifier refuses.
 */
#define txc_skb_field(skb, field) ({						\
	__u64 ___v;	/* 64 bits: data and data_end become pointers */	\
	asm volatile("%0 = *(u32 *)(%1 + %2)"					\
		     : "=r"(___v)						\
		     : "r"(skb), "i"(__builtin_offsetof(struct __sk_buff, field)));	\
	___v;									\
})

static __always_inline void txc_frame_from_skb(struct __sk_buff *skb,
					       struct txc_frame *f)
{
	f->data = (void *)(long)txc_skb_field(skb, data);
	f->data_end = (void *)(long)txc_skb_field(skb, data_end);
	f->len = txc_skb_field(skb, len);
	f->ifindex = txc_skb_field(skb, ifindex);
	f->gso_size = txc_skb_field(skb, gso_size);
	f->gso_segs = f->gso_size ? txc_skb_field(skb, gso_segs) : 1;
	f->hook = TXC_HOOK_TC_EGRESS;
}

/*
 * Parse the frame's headers.  Those of an egress skb are nearly always in
 * its linear part; only when the parser ran out of linear bytes and the skb
 * has more are the headers pulled in and parsed again.  A pull changes where
 * the bytes are, never what they are.
 */
static __always_inline void txc_skb_parse(struct __sk_buff *skb, struct txc_frame *f)
{
	txc_frame_parse(f);
	if (!(f->summary.flags & TXC_FRAME_F_TRUNCATED) ||
	    f->len <= (__u64)f->data_end - (__u64)f->data)
		return;
	if (bpf_skb_pull_data(skb, f->len < TXC_SKB_PARSE_BYTES ? f->len : TXC_SKB_PARSE_BYTES))
		return;
	f->data = (void *)(long)txc_skb_field(skb, data);
	f->data_end = (void *)(long)txc_skb_field(skb, data_end);
	__builtin_memset(&f->summary, 0, sizeof(f->summary));
	f->parsed = 0;
	txc_frame_parse(f);
}

/*
 * Tagging that only TC can do, by precedence: mark, socket, cgroup.
 * Returns the TXC_TAG_* kind, 0 when the frame is still untagged, or -1
 * when its mark carries an ID txcancel has no rule for: such a frame was
 * tagged by an upper layer and is never retagged.
 *
 * @explain (a constant) skips socket and cgroup: the explained frame has no
 * sending socket.  The test run hands the program a dummy socket whose
 * cookie is new but whose cgroup is the caller's, so a lookup would tag the
 * frame with the daemon's own cgroup.
 */
static __always_inline int txc_tag_skb(struct __sk_buff *skb,
				       const struct txc_config *cfg,
				       struct txc_tag *tag, const int explain)
{
	__u32 mark = skb->mark & cfg->mark_mask;
	__u64 key;

	if (mark) {
		if ((cfg->lookups & TXC_LOOKUP_MARK) &&
		    txc_tag_from_rule(bpf_map_lookup_elem(&txc_mark_rules, &mark), tag))
			return TXC_TAG_MARK;
		return -1;
	}
	if (explain)
		return 0;
	if (cfg->lookups & TXC_LOOKUP_SOCKET) {
		key = bpf_get_socket_cookie(skb);
		if (key && txc_tag_from_rule(bpf_map_lookup_elem(&txc_socket_rules, &key), tag))
			return TXC_TAG_SOCKET;
	}
	if (cfg->lookups & TXC_LOOKUP_CGROUP) {
		key = bpf_skb_cgroup_id(skb);
		if (key && txc_tag_from_rule(bpf_map_lookup_elem(&txc_cgroup_rules, &key), tag))
			return TXC_TAG_CGROUP;
	}
	return 0;
}

#endif
