/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * How the TC egress program hands a frame's tag to txcancel's qdisc: in the
 * 20 bytes of qdisc_skb_cb data (__sk_buff->cb[0..4] to a TC program), which
 * the stack does not touch between the TC hook and the qdisc.
 *
 * A frame TC did not tag carries whatever the IP layer left there, so the
 * stamp has a magic word and a check word over the tag and the interface:
 * stale bytes match both with a chance of 2^-64, and a stamp written for
 * another interface (a frame forwarded on) never matches.  The qdisc clears
 * the magic word once it has read the stamp.
 */
#ifndef TXC_BPF_QDISC_STAMP_H
#define TXC_BPF_QDISC_STAMP_H

#define TXC_STAMP_MAGIC		0x74786371u	/* "txcq" */

struct txc_stamp {
	__u32 magic;
	__u32 cancel_id;
	__u32 source;
	__u32 kind;		/* TXC_TAG_* */
	__u32 check;
};

static __always_inline __u32 txc_stamp_check(__u32 cancel_id, __u32 source, __u32 kind,
					     __u32 ifindex)
{
	__u32 h = TXC_STAMP_MAGIC ^ ifindex * 0x9e3779b1u;

	h = (h ^ cancel_id) * 0x85ebca77u;
	h = (h ^ source) * 0xc2b2ae3du;
	return h ^ kind ^ (h >> 15);
}

/* TC side: stamp a frame that passes the hook with its tag. */
static __always_inline void txc_stamp_skb(struct __sk_buff *skb, const struct txc_tag *tag,
					  __u32 kind, __u32 ifindex)
{
	skb->cb[0] = TXC_STAMP_MAGIC;
	skb->cb[1] = tag->cancel_id;
	skb->cb[2] = tag->source;
	skb->cb[3] = kind;
	skb->cb[4] = txc_stamp_check(tag->cancel_id, tag->source, kind, ifindex);
}

#endif
