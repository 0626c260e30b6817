/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Abort records that carry the first bytes of their frame (record version
 * 2, abi.h), for the sources whose subscribers asked for them.
 *
 * A path of its own beside txc_report_abort(): a source with no capture
 * length costs its canceled frames one inlined array lookup
 * (txc_capture_len()) and nothing else.  The record is built in a per-CPU
 * scratch buffer and copied to the ring with bpf_ringbuf_output(), because
 * bpf_ringbuf_reserve() takes only a constant size and a record sized for
 * the largest capture would waste the ring on short frames.
 */
#ifndef TXC_BPF_CAPTURE_H
#define TXC_BPF_CAPTURE_H

/* Capture length per source, written by user space; 0: records without bytes. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TXC_MAX_SOURCES);
	__type(key, __u32);
	__type(value, __u32);
} txc_source_caplen SEC(".maps");

struct txc_capture_buf {
	struct txc_abort_record rec;
	__u8 bytes[TXC_CAPTURE_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct txc_capture_buf);
} txc_capture_scratch SEC(".maps");

/* The capture length of @source's records, 0 when off. */
static __always_inline __u32 txc_capture_len(const struct txc_tag *tag)
{
	const __u32 *cap = bpf_map_lookup_elem(&txc_source_caplen, &tag->source);

	return cap ? *cap : 0;
}

/*
 * Fill the fixed part of @f's record and take its sequence number.
 * Returns the scratch buffer, or NULL when there is none (the caller counts
 * the record lost).
 */
static __always_inline struct txc_capture_buf *
txc_capture_begin(const struct txc_frame *f, const struct txc_tag *tag, __u32 how)
{
	struct txc_capture_buf *buf;
	__u64 *next_seq;
	__u32 zero = 0;
	__u64 seq = 0;

	next_seq = bpf_map_lookup_elem(&txc_source_seq, &tag->source);
	if (next_seq)
		seq = __sync_fetch_and_add(next_seq, 1) + 1;
	buf = bpf_map_lookup_elem(&txc_capture_scratch, &zero);
	if (!buf)
		return NULL;
	buf->rec.hdr.version = TXC_RECORD_VERSION_CAPTURE;
	buf->rec.hdr.type = TXC_RECORD_ABORT;
	buf->rec.hdr.status = TXC_STATUS_SEND_ABORTED;
	buf->rec.cancel_id = tag->cancel_id;
	buf->rec.source = tag->source;
	buf->rec.seq = seq;
	buf->rec.tstamp_ns = f->now ? f->now : bpf_ktime_get_ns();
	buf->rec.ifindex = f->ifindex;
	buf->rec.len = f->len;
	buf->rec.gso_segs = f->gso_segs;
	buf->rec.gso_size = f->gso_size;
	buf->rec.hook = f->hook;
	buf->rec.tag_kind = how & 0xff;
	buf->rec.scope = (how >> 8) & 0xff;
	buf->rec.where = (how >> 16) & 0xff;
	__builtin_memcpy(&buf->rec.frame, &f->summary, sizeof(buf->rec.frame));
	return buf;
}

/*
 * How many bytes to copy: the capture length, at most the frame and
 * TXC_CAPTURE_MAX, at least 1 (the load helpers refuse 0; every frame has
 * an Ethernet header).  The word the last byte falls in is zeroed first, so
 * the padding to 8 carries nothing of an earlier record.
 */
static __always_inline __u32 txc_capture_prepare(struct txc_capture_buf *buf, __u32 cap,
						 __u32 len)
{
	__u32 n = cap < len ? cap : len;

	if (n > TXC_CAPTURE_MAX)
		n = TXC_CAPTURE_MAX;
	if (n < 1)
		n = 1;
	*(__u64 *)&buf->bytes[((n - 1) / 8) * 8 & (TXC_CAPTURE_MAX - 8)] = 0;
	return n;
}

static __always_inline void txc_capture_lost(const struct txc_tag *tag)
{
	struct txc_source_stats *stats;

	stats = bpf_map_lookup_elem(&txc_source_stats, &tag->source);
	if (stats)
		stats->lost_reports++;
}

/* Send the record with @n bytes (0 if they could not be read), or count it lost. */
static __always_inline void txc_capture_end(struct txc_capture_buf *buf,
					    const struct txc_tag *tag, __u32 n,
					    __u64 rb_flags)
{
	__u32 size;
	void *ring;

	if (n > TXC_CAPTURE_MAX)
		n = TXC_CAPTURE_MAX;
	size = TXC_RECORD_CAPTURE_SIZE(n);
	/*
	 * Bound the size in the register handed to the helper: left alone,
	 * clang tests the rounded length instead, a register whose bound 6.1's
	 * verifier does not carry over to the size.
	 */
	asm volatile("" : "+r"(size));
	if (size > sizeof(*buf)) {
		txc_capture_lost(tag);
		return;
	}
	buf->rec.hdr.size = size;
	buf->rec.cap_len = n;
	ring = bpf_map_lookup_elem(&txc_rings, &tag->source);
	if (ring && !bpf_ringbuf_output(ring, buf, size, rb_flags))
		return;
	txc_capture_lost(tag);
}

/*
 * txc_report_abort() with the frame's first bytes, from @ctx: a TC hook's
 * skb or (@xdp) an XDP hook's xdp_md.  @opts is TXC_CAPTURE_OPTS(): a
 * subprogram takes at most five arguments.
 */
#define TXC_CAPTURE_OPTS(rb_flags, cap)	((__u64)(rb_flags) | (__u64)(cap) << 32)

static __always_inline void
txc_report_capture(void *ctx, bool xdp, const struct txc_frame *f, const struct txc_tag *tag,
		   __u32 how, __u64 opts)
{
	struct txc_capture_buf *buf = txc_capture_begin(f, tag, how);
	__u32 n;
	long err;

	if (!buf) {
		txc_capture_lost(tag);
		return;
	}
	n = txc_capture_prepare(buf, opts >> 32, f->len);
	if (xdp)
		err = bpf_xdp_load_bytes(ctx, 0, buf->bytes, n);
	else
		err = bpf_skb_load_bytes(ctx, 0, buf->bytes, n);
	if (err)
		n = 0;
	txc_capture_end(buf, tag, n, opts & 0xffffffff);
}

/* Its copies for the TC and the XDP hooks: subprograms, each verified once. */
static __noinline __attribute__((unused)) void
txc_report_capture_skb(struct __sk_buff *skb, const struct txc_frame *f,
		       const struct txc_tag *tag, __u32 how, __u64 opts)
{
	txc_report_capture(skb, false, f, tag, how, opts);
}

static __noinline __attribute__((unused)) void
txc_report_capture_xdp(struct xdp_md *ctx, const struct txc_frame *f,
		       const struct txc_tag *tag, __u32 how, __u64 opts)
{
	txc_report_capture(ctx, true, f, tag, how, opts);
}

#endif
