/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The packet logic shared by every hook: flow tagging, the cancel check, the
 * per-source and per-ID counters and the abort record.  The hook-specific parts (where
 * data, length, mark and socket come from) live in ctx_skb.h and ctx_xdp.h.
 */
#ifndef TXC_BPF_DATAPATH_H
#define TXC_BPF_DATAPATH_H

/* What a hook knows about the frame in front of it. */
struct txc_frame {
	void *data;
	void *data_end;
	__u32 len;
	__u32 ifindex;
	__u16 gso_segs;
	__u16 gso_size;
	__u8 hook;
	__u8 parsed;		/* summary below is filled */
	struct txc_frame_summary summary;
};

static __always_inline const struct txc_config *txc_get_config(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&txc_config, &zero);
}

/*
 * Copy a rule's tag if it is usable.  A rule with an invalid ID or source
 * would be refused by user space; should one reach the map anyway the frame
 * is treated as untagged, so it can never be dropped.
 */
static __always_inline int txc_tag_from_rule(const struct txc_tag *rule,
					     struct txc_tag *tag)
{
	if (!rule || !TXC_ID_VALID(rule->cancel_id) ||
	    rule->source == TXC_SOURCE_NONE || rule->source >= TXC_MAX_SOURCES)
		return 0;
	*tag = *rule;
	return 1;
}

static __always_inline void txc_frame_parse(struct txc_frame *f)
{
	if (f->parsed)
		return;
	txc_parse_frame(f->data, f->data_end, &f->summary);
	f->parsed = 1;
}

/* Lowest precedence: the frame's IPv4/IPv6 5-tuple. */
static __always_inline __u8 txc_tag_by_flow(const struct txc_config *cfg,
					    struct txc_frame *f,
					    struct txc_tag *tag)
{
	struct txc_flow_key key;

	if (!(cfg->lookups & TXC_LOOKUP_FLOW))
		return 0;
	txc_frame_parse(f);
	if (!txc_flow_key_of(&f->summary, &key))
		return 0;
	if (!txc_tag_from_rule(bpf_map_lookup_elem(&txc_flow_rules, &key), tag))
		return 0;
	return TXC_TAG_FLOW;
}

static __always_inline int txc_cancel_in_force(const struct txc_cancel *c,
					       __u32 ifindex, __u64 *now)
{
	const struct txc_iface *iface;

	if (!c || !(c->flags & TXC_CANCEL_F_ACTIVE))
		return 0;
	if (c->expires_ns) {
		if (!*now)
			*now = bpf_ktime_get_ns();
		if (*now >= c->expires_ns)
			return 0;
	}
	if (c->flags & TXC_CANCEL_F_ALL_IFACES)
		return 1;
	iface = bpf_map_lookup_elem(&txc_ifaces, &ifindex);
	return iface && iface->slot < TXC_MAX_IFACES &&
	       (c->iface_slots & (1ULL << iface->slot));
}

/*
 * The scope of the cancel that covers @tag on @ifindex, or 0.  The arrays are
 * checked first because their lookups are inlined; the per-ID hash only when
 * some ID cancel exists.
 */
static __always_inline __u8 txc_cancel_scope(const struct txc_config *cfg,
					     const struct txc_tag *tag,
					     __u32 ifindex)
{
	__u32 prefix = TXC_ID_PREFIX(tag->cancel_id);
	__u64 now = 0;

	if (txc_cancel_in_force(bpf_map_lookup_elem(&txc_source_cancels, &tag->source),
				ifindex, &now))
		return TXC_SCOPE_SOURCE;
	if (txc_cancel_in_force(bpf_map_lookup_elem(&txc_prefix_cancels, &prefix),
				ifindex, &now))
		return TXC_SCOPE_PREFIX;
	if ((cfg->lookups & TXC_LOOKUP_ID_CANCELS) &&
	    txc_cancel_in_force(bpf_map_lookup_elem(&txc_id_cancels, &tag->cancel_id),
				ifindex, &now))
		return TXC_SCOPE_ID;
	return 0;
}

/*
 * Whether to wake the ring's consumer for this record.  While it polls on a
 * timer it asked for no wake-ups; otherwise the kernel wakes it only when
 * it has read everything before this record (the default, flags 0).
 */
static __always_inline __u64 txc_ring_submit_flags(const struct txc_config *cfg)
{
	return cfg->ring_flags & TXC_RING_F_NO_WAKEUP ? BPF_RB_NO_WAKEUP : 0;
}

static __always_inline void txc_report_abort(const struct txc_config *cfg,
					     struct txc_frame *f,
					     const struct txc_tag *tag,
					     __u8 kind, __u8 scope,
					     struct txc_source_stats *stats)
{
	struct txc_abort_record *rec;
	__u64 *next_seq;
	void *ring;
	__u64 seq = 0;

	next_seq = bpf_map_lookup_elem(&txc_source_seq, &tag->source);
	if (next_seq)
		seq = __sync_fetch_and_add(next_seq, 1) + 1;

	ring = bpf_map_lookup_elem(&txc_rings, &tag->source);
	rec = ring ? bpf_ringbuf_reserve(ring, sizeof(*rec), 0) : NULL;
	if (!rec) {
		if (stats)
			stats->lost_reports++;
		return;
	}

	txc_frame_parse(f);
	rec->hdr.version = TXC_RECORD_VERSION;
	rec->hdr.type = TXC_RECORD_ABORT;
	rec->hdr.size = sizeof(*rec);
	rec->hdr.status = TXC_STATUS_SEND_ABORTED;
	rec->cancel_id = tag->cancel_id;
	rec->source = tag->source;
	rec->seq = seq;
	rec->tstamp_ns = bpf_ktime_get_ns();
	rec->ifindex = f->ifindex;
	rec->len = f->len;
	rec->gso_segs = f->gso_segs;
	rec->gso_size = f->gso_size;
	rec->hook = f->hook;
	rec->tag_kind = kind;
	rec->scope = scope;
	rec->where = TXC_AT_HOOK;
	__builtin_memcpy(&rec->frame, &f->summary, sizeof(rec->frame));
	rec->reserved2 = 0;
	bpf_ringbuf_submit(rec, txc_ring_submit_flags(cfg));
}

/*
 * Count a tagged frame for its ID, if user space asked for that ID's
 * counters.  The lookup bit keeps the hash lookup off the path of every
 * tagged frame while no ID is counted.
 */
static __always_inline void txc_count_id(const struct txc_config *cfg,
					 const struct txc_frame *f,
					 const struct txc_tag *tag, __u8 scope)
{
	struct txc_id_stats *ids;

	if (!(cfg->lookups & TXC_LOOKUP_ID_STATS))
		return;
	ids = bpf_map_lookup_elem(&txc_id_stats, &tag->cancel_id);
	if (!ids)
		return;
	if (scope) {
		ids->aborted_frames++;
		ids->aborted_bytes += f->len;
	} else {
		ids->passed_frames++;
		ids->passed_bytes += f->len;
	}
}

/* Count a tagged frame on the interface its hook runs on, if asked to. */
static __always_inline void txc_count_iface(const struct txc_config *cfg,
					    const struct txc_frame *f, int aborted)
{
	/*
	 * A key of its own: handing the helper a pointer into *f makes the
	 * verifier forget the frame pointers spilled next to it.
	 */
	__u32 ifindex = f->ifindex;
	struct txc_iface_stats *st;

	if (!(cfg->lookups & TXC_LOOKUP_IFACE_STATS))
		return;
	st = bpf_map_lookup_elem(&txc_iface_stats, &ifindex);
	if (!st)
		return;
	if (aborted) {
		st->aborted_frames++;
		st->aborted_bytes += f->len;
	} else {
		st->passed_frames++;
		st->passed_bytes += f->len;
	}
}

/*
 * The verdict for a tagged frame: 1 = drop (canceled, counted and reported),
 * 0 = let it continue (counted as passed).
 *
 * @ex is NULL in the programs that are attached: every caller passes a
 * constant, so the compiler removes the explain branches from them.  With
 * @ex (the explain program) the scope is written there and nothing else
 * happens: no counter, no sequence number, no record.
 */
static __always_inline int txc_verdict(const struct txc_config *cfg,
				       struct txc_frame *f,
				       const struct txc_tag *tag, __u8 kind,
				       struct txc_explain_result *ex)
{
	struct txc_source_stats *stats;
	__u8 scope;

	scope = txc_cancel_scope(cfg, tag, f->ifindex);
	if (ex) {
		ex->scope = scope;
		return scope != 0;
	}
	txc_count_id(cfg, f, tag, scope);
	txc_count_iface(cfg, f, scope != 0);
	stats = bpf_map_lookup_elem(&txc_source_stats, &tag->source);
	if (!scope) {
		if (stats) {
			stats->passed_frames++;
			stats->passed_bytes += f->len;
		}
		return 0;
	}
	/* Count the abort before reporting it: aborted = delivered + lost. */
	if (stats) {
		stats->aborted_frames++;
		stats->aborted_bytes += f->len;
	}
	txc_report_abort(cfg, f, tag, kind, scope, stats);
	return 1;
}

#endif
