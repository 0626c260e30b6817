/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The TC (struct __sk_buff) side of the context shim. */
#ifndef TXC_BPF_CTX_SKB_H
#define TXC_BPF_CTX_SKB_H

/* Enough for Ethernet, two VLAN tags, IPv6 with extension headers and ports. */
#define TXC_SKB_PARSE_BYTES	128

/*
 * What the verdict on a tagged frame needs (length, interface), and the rest
 * (data and GSO geometry), which only a parse or an abort record does: a
 * frame tagged by mark, socket or cgroup that passes never reads it.
 */
static __always_inline void txc_frame_head_from_skb(struct __sk_buff *skb,
						    struct txc_frame *f)
{
	f->now = 0;
	f->len = skb->len;
	f->ifindex = skb->ifindex;
	f->hook = TXC_HOOK_TC_EGRESS;
	f->parsed = 0;
}

static __always_inline void txc_frame_rest_from_skb(struct __sk_buff *skb,
						    struct txc_frame *f)
{
	f->data = (void *)(long)skb->data;
	f->data_end = (void *)(long)skb->data_end;
	f->gso_size = skb->gso_size;
	f->gso_segs = f->gso_size ? skb->gso_segs : 1;
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
	f->data = (void *)(long)skb->data;
	f->data_end = (void *)(long)skb->data_end;
	f->parsed = 0;
	txc_frame_parse(f);
}

/*
 * The tag stored in the sending socket, if it is in force.  The helper
 * finds nothing on a socket that is not a full one (request and time-wait
 * sockets have no storage), so no bpf_sk_fullsock() is needed first.
 */
static __always_inline int txc_tag_by_socket(struct __sk_buff *skb, struct txc_tag *tag)
{
	struct bpf_sock *sk = skb->sk;
	const struct txc_sk_tag *st;

	if (!sk)
		return 0;
	st = bpf_sk_storage_get(&txc_sk_tags, sk, NULL, 0);
	return st && txc_sk_tag_current(st) && txc_tag_from_rule(&st->tag, tag);
}

/* Whether @cgroup may have a rule: a clear filter bit says it has none. */
static __always_inline int txc_cgroup_maybe(__u64 cgroup)
{
	__u32 bit = txc_cgroup_filter_bit(cgroup), word = bit / 64;
	const __u64 *w = bpf_map_lookup_elem(&txc_cgroup_filter, &word);

	return w && (*w >> (bit % 64)) & 1;
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
				       const struct txc_config *cfg, __u32 lookups,
				       struct txc_tag *tag, const int explain)
{
	__u32 mark = skb->mark & cfg->mark_mask;
	__u64 key;

	if (mark) {
		if ((lookups & TXC_LOOKUP_MARK) &&
		    txc_tag_from_rule(bpf_map_lookup_elem(&txc_mark_rules, &mark), tag))
			return TXC_TAG_MARK;
		return -1;
	}
	if (explain)
		return 0;
	if ((lookups & TXC_LOOKUP_SOCKET) && txc_tag_by_socket(skb, tag))
		return TXC_TAG_SOCKET;
	if (lookups & TXC_LOOKUP_CGROUP) {
		key = bpf_skb_cgroup_id(skb);
		if (key && txc_cgroup_maybe(key) &&
		    txc_tag_from_rule(bpf_map_lookup_elem(&txc_cgroup_rules, &key), tag))
			return TXC_TAG_CGROUP;
	}
	return 0;
}

#endif
