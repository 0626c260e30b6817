/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Reporting a frame stopped after the TC hook: in txcancel's qdisc, as it
 * was queued, while it waited (the cancel's purge, a reset) or on its way
 * out.  The hook counted the frame as passed; here it moves from passed to
 * aborted, so that every tagged frame is counted once and
 * aborted = delivered + lost stays exact.  Same ring, same sequence
 * numbers, same record as at the hook; `where` says where it was stopped.
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
	struct txc_source_stats *stats;
	struct txc_abort_record *rec;
	__u64 *next_seq;
	void *ring;
	__u64 seq = 0;

	stats = bpf_map_lookup_elem(&txc_source_stats, &source);
	/* Counted before the record is reserved, as at the hook. */
	txc_queued_count(cfg, fr, stats);

	next_seq = bpf_map_lookup_elem(&txc_source_seq, &source);
	if (next_seq)
		seq = __sync_fetch_and_add(next_seq, 1) + 1;
	ring = bpf_map_lookup_elem(&txc_rings, &source);
	rec = ring ? bpf_ringbuf_reserve(ring, sizeof(*rec), 0) : NULL;
	if (!rec) {
		if (stats)
			stats->lost_reports++;
		return;
	}
	rec->hdr.version = TXC_RECORD_VERSION;
	rec->hdr.type = TXC_RECORD_ABORT;
	rec->hdr.size = sizeof(*rec);
	rec->hdr.status = status;
	rec->cancel_id = fr->tag.cancel_id;
	rec->source = source;
	rec->seq = seq;
	rec->tstamp_ns = bpf_ktime_get_ns();
	rec->ifindex = fr->ifindex;
	rec->len = fr->len;
	rec->gso_segs = fr->gso_segs;
	rec->gso_size = fr->gso_size;
	rec->hook = TXC_HOOK_TC_EGRESS;
	rec->tag_kind = fr->kind;
	rec->scope = scope;
	rec->where = where;
	__builtin_memcpy(&rec->frame, &fr->summary, sizeof(rec->frame));
	rec->reserved2 = 0;
	bpf_ringbuf_submit(rec, txc_ring_submit_flags(cfg));
}

#endif
