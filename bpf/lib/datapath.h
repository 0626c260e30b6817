/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The packet logic shared by every hook: flow tagging, the cancel check, the
 * per-source and per-ID counters and the abort record.  The hook-specific parts (where
 * data, length, mark and socket come from) live in ctx_skb.h and ctx_xdp.h.
 */
#ifndef TXC_BPF_DATAPATH_H
#define TXC_BPF_DATAPATH_H

/*
 * What a hook knows about the frame in front of it.  Filled by the context
 * shims (ctx_skb.h, ctx_xdp.h); the summary only once parsed.
 */
struct txc_frame {
	void *data;
	void *data_end;
	__u64 now;		/* bpf_ktime_get_ns() once read for this frame, else 0 */
	__u32 len;
	__u32 ifindex;
	__u16 gso_segs;
	__u16 gso_size;
	__u8 hook;
	__u8 parsed;		/* summary below is filled */
	/* Aligned: the parser zeroes it and the record takes it 8 bytes at a time. */
	struct txc_frame_summary summary __attribute__((aligned(8)));
};

/* The clock, read at most once per frame (cancel expiry and record time). */
static __always_inline __u64 txc_frame_now(struct txc_frame *f)
{
	if (!f->now)
		f->now = bpf_ktime_get_ns();
	return f->now;
}

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

/*
 * A socket's tag is in force while the prefix of its ID and its source are
 * still the leases it was made under: releasing either bumps its generation
 * (txc_lease_gens), which retires every socket tag made under it at once,
 * without visiting the sockets.
 */
static __always_inline int txc_sk_tag_current(const struct txc_sk_tag *st)
{
	__u32 prefix = TXC_ID_PREFIX(st->tag.cancel_id);
	__u32 source = TXC_GEN_SOURCE(st->tag.source);
	const __u64 *pgen, *sgen;

	if (st->tag.source >= TXC_MAX_SOURCES)
		return 0;
	pgen = bpf_map_lookup_elem(&txc_lease_gens, &prefix);
	sgen = bpf_map_lookup_elem(&txc_lease_gens, &source);
	return pgen && sgen && *pgen == st->prefix_gen && *sgen == st->source_gen;
}

/*
 * Lowest precedence: the frame's IPv4/IPv6 5-tuple.  The caller tested the
 * flow lookup bit and parsed the frame.
 */
static __always_inline __u8 txc_tag_by_flow(const struct txc_frame *f, struct txc_tag *tag)
{
	struct txc_flow_key key;

	if (!txc_flow_key_of(&f->summary, &key))
		return 0;
	if (!txc_tag_from_rule(bpf_map_lookup_elem(&txc_flow_rules, &key), tag))
		return 0;
	return TXC_TAG_FLOW;
}

#define TXC_SLOT_UNKNOWN	(-2)	/* txc_ifaces not looked up yet for this frame */
#define TXC_SLOT_NONE		(-1)	/* the interface has no slot */

/* The frame's interface slot, looked up at most once per frame. */
static __always_inline int txc_frame_slot(const struct txc_frame *f, int *slot)
{
	const struct txc_iface *iface;

	if (*slot == TXC_SLOT_UNKNOWN) {
		iface = bpf_map_lookup_elem(&txc_ifaces, &f->ifindex);
		*slot = iface && iface->slot < TXC_MAX_IFACES ? (int)iface->slot : TXC_SLOT_NONE;
	}
	return *slot;
}

static __always_inline int txc_cancel_in_force(const struct txc_cancel *c,
					       struct txc_frame *f, int *slot)
{
	if (!c || !(c->flags & TXC_CANCEL_F_ACTIVE))
		return 0;
	if (c->expires_ns && txc_frame_now(f) >= c->expires_ns)
		return 0;
	if (c->flags & TXC_CANCEL_F_ALL_IFACES)
		return 1;
	return txc_frame_slot(f, slot) >= 0 && (c->iface_slots & (1ULL << (*slot & 63)));
}

/*
 * The scope of the cancel that covers @tag on the frame's interface, or 0.
 * The arrays are checked first because their lookups are inlined; the
 * per-ID hash only when some ID cancel exists.
 */
static __always_inline __u8 txc_cancel_scope(__u32 lookups, const struct txc_tag *tag,
					     struct txc_frame *f)
{
	__u32 prefix = TXC_ID_PREFIX(tag->cancel_id);
	int slot = TXC_SLOT_UNKNOWN;

	if (txc_cancel_in_force(bpf_map_lookup_elem(&txc_source_cancels, &tag->source), f, &slot))
		return TXC_SCOPE_SOURCE;
	if (txc_cancel_in_force(bpf_map_lookup_elem(&txc_prefix_cancels, &prefix), f, &slot))
		return TXC_SCOPE_PREFIX;
	if ((lookups & TXC_LOOKUP_ID_CANCELS) &&
	    txc_cancel_in_force(bpf_map_lookup_elem(&txc_id_cancels, &tag->cancel_id), f, &slot))
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

/* What txc_report_abort() says of an abort, in one argument. */
#define TXC_ABORT_HOW(kind, scope, where) \
	((__u32)(kind) | (__u32)(scope) << 8 | (__u32)(where) << 16)

/*
 * The one writer of abort records: the source's next sequence number, then
 * a record in its ring, or a lost report counted.  Shared by the hooks
 * (txc_report_abort()) and txcancel's qdisc (queue_report.h), which holds
 * a frame's facts without its skb.  Always inlined: the hooks' copy lives
 * in their subprogram, and the qdisc's programs call no subprogram (their
 * loops' may_goto budgets are set up per program).  The caller counted the
 * abort first.  @tstamp 0: now.  @how is TXC_ABORT_HOW().
 */
static __always_inline void txc_record_write(const struct txc_tag *tag, __u32 status,
					     __u32 how, __u8 hook, __u32 ifindex, __u32 len,
					     __u16 gso_segs, __u16 gso_size, __u64 tstamp,
					     const struct txc_frame_summary *summary,
					     __u64 rb_flags)
{
	struct txc_source_stats *stats;
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
		stats = bpf_map_lookup_elem(&txc_source_stats, &tag->source);
		if (stats)
			stats->lost_reports++;
		return;
	}

	rec->hdr.version = TXC_RECORD_VERSION;
	rec->hdr.type = TXC_RECORD_ABORT;
	rec->hdr.size = sizeof(*rec);
	rec->hdr.status = status;
	rec->cancel_id = tag->cancel_id;
	rec->source = tag->source;
	rec->seq = seq;
	rec->tstamp_ns = tstamp ? tstamp : bpf_ktime_get_ns();
	rec->ifindex = ifindex;
	rec->len = len;
	rec->gso_segs = gso_segs;
	rec->gso_size = gso_size;
	rec->hook = hook;
	rec->tag_kind = how & 0xff;
	rec->scope = (how >> 8) & 0xff;
	rec->where = (how >> 16) & 0xff;
	__builtin_memcpy(__builtin_assume_aligned(&rec->frame, 8), summary, sizeof(rec->frame));
	rec->reserved2 = 0;
	bpf_ringbuf_submit(rec, rb_flags);
}

/*
 * Write the abort record of @f to its source's ring, or count it lost.
 * The caller counted the abort (txc_verdict()) and parsed the frame.
 *
 * A subprogram, never inlined: the cold path of a canceled frame (sequence
 * number, ring lookup, reserve, record, submit) stays out of the programs'
 * hot path, one copy for every caller, as cilium sends its drop
 * notifications out of line.  Static, not global: the verifier checks it in
 * each caller's context, so it may read the caller's frame and tag on the
 * stack as they are, on 6.1's verifier as on later ones.  @how is
 * TXC_ABORT_HOW(); @rb_flags the ring submit flags (txc_ring_submit_flags()).
 * Unused in the qdisc's object, which writes its records with
 * txc_record_write() directly (queue_report.h).
 */
static __noinline __attribute__((unused)) void txc_report_abort(const struct txc_frame *f, const struct txc_tag *tag,
					__u32 how, __u64 rb_flags)
{
	txc_record_write(tag, TXC_STATUS_SEND_ABORTED, how, f->hook, f->ifindex, f->len,
			 f->gso_segs, f->gso_size, f->now, &f->summary, rb_flags);
}

/*
 * Count a tagged frame for its ID, if user space asked for that ID's
 * counters.  The lookup bit keeps the hash lookup off the path of every
 * tagged frame while no ID is counted.
 */
static __always_inline void txc_count_id(__u32 lookups, const struct txc_frame *f,
					 const struct txc_tag *tag, __u8 scope)
{
	struct txc_id_stats *ids;

	if (!(lookups & TXC_LOOKUP_ID_STATS))
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
static __always_inline void txc_count_iface(__u32 lookups, const struct txc_frame *f,
					    int aborted)
{
	/*
	 * A key of its own: handing the helper a pointer into *f makes the
	 * verifier forget the frame pointers spilled next to it.
	 */
	__u32 ifindex = f->ifindex;
	struct txc_iface_stats *st;

	if (!(lookups & TXC_LOOKUP_IFACE_STATS))
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
 * The verdict for a tagged frame: the scope of the cancel that drops it,
 * counted as aborted (the caller then reports it: txc_report_abort()), or 0:
 * it continues, counted as passed.  The abort is counted before its report
 * is written: aborted = delivered + lost.  Needs only f->len and
 * f->ifindex of the frame.
 *
 * @ex is NULL in the programs that are attached: every caller passes a
 * constant, so the compiler removes the explain branches from them.  With
 * @ex (the explain program) the scope is written there and nothing else
 * happens: no counter, no sequence number, no record.
 */
static __always_inline __u8 txc_verdict(__u32 lookups, struct txc_frame *f,
					const struct txc_tag *tag,
					struct txc_explain_result *ex)
{
	struct txc_source_stats *stats;
	__u8 scope;

	scope = txc_cancel_scope(lookups, tag, f);
	if (ex) {
		ex->scope = scope;
		return scope;
	}
	txc_count_id(lookups, f, tag, scope);
	txc_count_iface(lookups, f, scope != 0);
	stats = bpf_map_lookup_elem(&txc_source_stats, &tag->source);
	if (!stats)
		return scope;
	if (scope) {
		stats->aborted_frames++;
		stats->aborted_bytes += f->len;
	} else {
		stats->passed_frames++;
		stats->passed_bytes += f->len;
	}
	return scope;
}

#endif
