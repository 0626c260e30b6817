/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Reporting a frame stopped after the TC hook: in txcancel's qdisc, as it
 * was queued, while it waited (the cancel's purge, a reset) or on its way
 * out.  The hook counted the frame as passed; here it moves from passed to
 * aborted, so that every tagged frame is counted once and
 * aborted = delivered + lost stays exact.  Same ring, same sequence
 * numbers, the same record and its one writer as at the hook
 * (txc_record_write()); `where` says where it was stopped.
 */
#ifndef TXC_BPF_QUEUE_REPORT_H
#define TXC_BPF_QUEUE_REPORT_H

/* What the qdisc keeps of a tagged frame, to report it without the skb. */
struct txc_qframe {
	struct txc_tag tag;
	__u32 len;		/* bytes at the hook, L2 header included */
	__u32 ifindex;
	__u16 gso_segs;
	__u16 gso_size;
	__u8 kind;		/* TXC_TAG_*; 0: untagged, never reported */
	__u8 pad[3];
	struct txc_frame_summary summary;
};

static __always_inline void txc_queued_count(const struct txc_config *cfg,
					     const struct txc_qframe *fr,
					     struct txc_source_stats *stats)
{
	struct txc_id_stats *ids;

	if (stats) {
		stats->passed_frames--;
		stats->passed_bytes -= fr->len;
		stats->aborted_frames++;
		stats->aborted_bytes += fr->len;
	}
	if (!(cfg->lookups & TXC_LOOKUP_ID_STATS))
		return;
	ids = bpf_map_lookup_elem(&txc_id_stats, &fr->tag.cancel_id);
	if (ids) {
		ids->passed_frames--;
		ids->passed_bytes -= fr->len;
		ids->aborted_frames++;
		ids->aborted_bytes += fr->len;
	}
}

/* Count the frame as aborted and write its record (or count the record lost). */
static __always_inline void txc_report_queued(const struct txc_config *cfg,
					      const struct txc_qframe *fr, __u8 scope,
					      __u8 where, __u32 status)
{
	__u32 source = fr->tag.source;

	/* Counted before the record is reserved, as at the hook. */
	txc_queued_count(cfg, fr, bpf_map_lookup_elem(&txc_source_stats, &source));
	txc_record_write(&fr->tag, status, TXC_ABORT_HOW(fr->kind, scope, where),
			 TXC_HOOK_TC_EGRESS, fr->ifindex, fr->len, fr->gso_segs, fr->gso_size, 0,
			 &fr->summary, txc_ring_submit_flags(cfg));
}

#endif
