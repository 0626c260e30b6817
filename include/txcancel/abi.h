/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * txcancel datapath ABI: the one definition of every value that crosses the
 * boundary between the eBPF programs and user space (map keys and values,
 * abort records, codes).  Both sides include this file; there is no second
 * copy.
 *
 * Rules for this file:
 *  - fixed-width types only, explicit padding, no bool/enum/long/pointers in
 *    shared structs;
 *  - every struct has _Static_assert()s on its size and field offsets;
 *  - codes are never renumbered; retired codes stay reserved;
 *  - byte order is host order unless a field says "network order".
 *
 * Version history of the abort record (txc_record_hdr.version):
 *   1  first version (TXC_RECORD_VERSION): the fixed struct txc_abort_record.
 *   2  TXC_RECORD_VERSION_CAPTURE: the same fixed part, cap_len (formerly
 *      reserved2, 0 in version 1) and cap_len bytes of the frame's start
 *      after it, padded to 8.  Written only for sources whose subscribers
 *      asked for bytes (TXC_MSG_CAPTURE); every other record is version 1,
 *      byte for byte as before.
 */
#ifndef TXCANCEL_ABI_H
#define TXCANCEL_ABI_H

#ifdef __bpf__
/* BPF side: the types come from vmlinux.h, included before this file. */
#else
#include <linux/types.h>
#endif

/*
 * Layout checks.  C++ spells C11's _Static_assert as static_assert; the
 * headers are included from both (extern "C" in txcancel.h).
 */
#ifdef __cplusplus
#define TXC_ABI_ASSERT(cond, msg) static_assert(cond, msg)
#else
#define TXC_ABI_ASSERT(cond, msg) _Static_assert(cond, msg)
#endif
/* The compiler's own offsetof: bpf_helpers.h defines one that is not constant. */
#define TXC_OFFSET(type, member) __builtin_offsetof(type, member)

/* ------------------------------------------------------------------------ */
/* Cancel IDs                                                               */
/* ------------------------------------------------------------------------ */

/*
 * A cancel ID is 32 bits.  Bits 24-31 are the prefix a client was given by
 * the daemon (NdisGeneratePartialCancelId), bits 0-23 are the client's own.
 * ID 0 means "untagged" and never matches; prefix 0 is never handed out, so
 * every ID with prefix 0 is invalid.
 */
#define TXC_ID_NONE		0u
#define TXC_ID_PREFIX_SHIFT	24
#define TXC_ID_LOCAL_MASK	0x00ffffffu
#define TXC_PREFIX_MIN		1u
#define TXC_PREFIX_MAX		255u
#define TXC_NR_PREFIXES		256u	/* array size: index = prefix, 0 unused */

#define TXC_ID_PREFIX(id)	((__u32)(id) >> TXC_ID_PREFIX_SHIFT)
#define TXC_ID_MAKE(prefix, local) \
	(((__u32)(prefix) << TXC_ID_PREFIX_SHIFT) | ((__u32)(local) & TXC_ID_LOCAL_MASK))
#define TXC_ID_VALID(id)	(TXC_ID_PREFIX(id) != 0)
/* TXC_PREFIX_MIN..TXC_PREFIX_MAX, written so that no type of @p makes it always true. */
#define TXC_PREFIX_VALID(p) \
	((__u32)(p) - TXC_PREFIX_MIN <= TXC_PREFIX_MAX - TXC_PREFIX_MIN)

/*
 * Source handles name who receives the completions of a tagged frame (the
 * NDIS SourceHandle).  Handle 0 means "none"; valid handles are
 * 1..TXC_MAX_SOURCES-1 and index the per-source arrays directly.
 */
#define TXC_SOURCE_NONE		0u
#define TXC_MAX_SOURCES		4096u
#define TXC_SOURCE_VALID(s)	((__u32)(s) - 1u < TXC_MAX_SOURCES - 1u)	/* 1..MAX-1 */

/* Interfaces get a slot 0..TXC_MAX_IFACES-1 for per-interface cancels. */
#define TXC_MAX_IFACES		64u

/* ------------------------------------------------------------------------ */
/* Status, hook, tag-kind and scope codes (stable: never renumber)          */
/* ------------------------------------------------------------------------ */

/* NDIS_STATUS_SEND_ABORTED from ndis.h: the status of every abort record. */
#define TXC_STATUS_SEND_ABORTED	0xC023000Cu
/*
 * NDIS_STATUS_RESET_IN_PROGRESS: the frame was not canceled but thrown away
 * by a reset of txcancel's qdisc (deleted, replaced, device down).
 */
#define TXC_STATUS_RESET	0xC023000Du

/* Where a frame was seen (txc_abort_record.hook). */
#define TXC_HOOK_TC_EGRESS	1	/* TC egress (tcx or clsact) */
#define TXC_HOOK_XDP		2	/* XDP ingress of a forwarding interface */
#define TXC_HOOK_XDP_DEVMAP	3	/* XDP devmap egress (XDP_REDIRECT) */

/*
 * How a frame got its ID (txc_abort_record.tag_kind), listed in the order of
 * precedence in which the programs look: the first match wins.
 */
#define TXC_TAG_MARK		1	/* skb->mark under txc_config.mark_mask */
#define TXC_TAG_SOCKET		2	/* the sending socket (its storage) */
#define TXC_TAG_CGROUP		3	/* cgroup v2 id of the sending socket */
#define TXC_TAG_FLOW		4	/* IPv4/IPv6 5-tuple */
#define TXC_TAG_KIND_MAX	4

/* Which cancel made a frame drop (txc_abort_record.scope). */
#define TXC_SCOPE_SOURCE	1	/* everything the source tagged */
#define TXC_SCOPE_PREFIX	2	/* every ID under one prefix */
#define TXC_SCOPE_ID		3	/* one cancel ID */

/* ------------------------------------------------------------------------ */
/* Configuration: map txc_config, one element at key 0                      */
/* ------------------------------------------------------------------------ */

/* txc_config.lookups: which tables a frame is looked up in. */
#define TXC_LOOKUP_MARK		(1u << 0)
#define TXC_LOOKUP_SOCKET	(1u << 1)
#define TXC_LOOKUP_CGROUP	(1u << 2)
#define TXC_LOOKUP_FLOW		(1u << 3)
#define TXC_LOOKUP_ID_CANCELS	(1u << 4)
#define TXC_LOOKUP_ID_STATS	(1u << 5)	/* per-ID counters (txc_id_stats) */
#define TXC_LOOKUP_IFACE_STATS	(1u << 6)	/* per-interface counters (txc_iface_stats) */
/*
 * Not a table: tagged frames that pass the TC hook are stamped with their
 * tag for txcancel's qdisc (cb[], bpf/lib/qdisc_stamp.h).  Set while some
 * interface runs the qdisc (TXC_IFACE_F_QDISC), before it is installed.
 */
#define TXC_LOOKUP_QDISC	(1u << 7)
#define TXC_LOOKUP_ALL		0xffu

struct txc_config {
	/*
	 * Bits of skb->mark that form the frame's cancel-ID field.  A frame
	 * whose masked mark is non-zero already carries an ID from an upper
	 * layer: it is looked up in txc_mark_rules and, found or not, never
	 * retagged by socket, cgroup or flow.  0 turns mark tagging off.
	 */
	__u32 mark_mask;
	/*
	 * TXC_LOOKUP_* bits.  A clear bit skips a table on the frame path, so
	 * an empty table costs nothing.  Setting a bit for an empty table is
	 * only slower, never wrong; clearing it while the table holds entries
	 * would leave frames untagged, so user space clears a bit only after
	 * emptying the table.
	 */
	__u32 lookups;
	/*
	 * TXC_RING_F_* bits, written by the rings' consumer.  While a consumer
	 * polls the rings on its own timer (a flood of aborts), it sets
	 * TXC_RING_F_NO_WAKEUP and the programs submit records without waking
	 * it: a wake-up per record costs the frame path more than the record.
	 * The consumer clears the bit before it goes back to sleeping on the
	 * rings, then reads them once more.  0: every record may wake.
	 */
	__u32 ring_flags;
	__u32 reserved;		/* must be zero */
};
TXC_ABI_ASSERT(sizeof(struct txc_config) == 16, "txc_config size");

#define TXC_RING_F_NO_WAKEUP	(1u << 0)
#define TXC_RING_F_ALL		TXC_RING_F_NO_WAKEUP

/* ------------------------------------------------------------------------ */
/* Tag rules                                                                */
/* ------------------------------------------------------------------------ */

/*
 * The value of every tag rule: the ID a matching frame gets and the source
 * its completions go to.  Keys per table:
 *   txc_mark_rules    __u32  skb->mark & txc_config.mark_mask
 *   txc_cgroup_rules  __u64  cgroup v2 id (inode number of the directory)
 *   txc_flow_rules    struct txc_flow_key
 * Socket tags are not in a table: see struct txc_sk_tag.
 */
struct txc_tag {
	__u32 cancel_id;
	__u32 source;
};
TXC_ABI_ASSERT(sizeof(struct txc_tag) == 8, "txc_tag size");

/*
 * Lease generations: map txc_lease_gens, an array of __u64 indexed by
 * prefix (1..255) and by TXC_GEN_SOURCE(source).  User space increments
 * an element when the lease ends (prefix freed, source closed); a socket
 * tag is in force only while both generations it was made under are
 * current.  Never reset: a generation that went back would revive tags.
 * (64-bit elements: an mmapped array lays its elements out 8 bytes apart.)
 */
#define TXC_GEN_SOURCE(source)	(TXC_NR_PREFIXES + (__u32)(source))
#define TXC_GEN_SLOTS		(TXC_NR_PREFIXES + TXC_MAX_SOURCES)

/*
 * A socket's tag: the value of the socket-local storage map txc_sk_tags
 * (BPF_MAP_TYPE_SK_STORAGE; user space's key is the socket's fd).  The
 * element lives and dies with the socket.
 */
struct txc_sk_tag {
	struct txc_tag tag;
	__u64 prefix_gen;	/* txc_lease_gens[prefix of tag.cancel_id] when tagged */
	__u64 source_gen;	/* txc_lease_gens[TXC_GEN_SOURCE(tag.source)] when tagged */
	__u64 cookie;		/* SO_COOKIE of the socket, for whoever reads the element */
};
TXC_ABI_ASSERT(sizeof(struct txc_sk_tag) == 32, "txc_sk_tag size");
TXC_ABI_ASSERT(TXC_OFFSET(struct txc_sk_tag, prefix_gen) == 8, "txc_sk_tag.prefix_gen");
TXC_ABI_ASSERT(TXC_OFFSET(struct txc_sk_tag, cookie) == 24, "txc_sk_tag.cookie");


/*
 * Cgroup filter: map txc_cgroup_filter, an array of TXC_CGROUP_FILTER_WORDS
 * __u64 words, bit txc_cgroup_filter_bit(id) for cgroup id @id.  User space
 * sets a cgroup's bit before it stores a rule for that cgroup and clears
 * bits only when the rule table is empty, so a frame whose cgroup's bit is
 * clear has no cgroup rule and skips the hash lookup.  Ids that share a bit
 * only cost the lookup.
 */
#define TXC_CGROUP_FILTER_WORDS	256u	/* 16384 bits */

static inline __u32 txc_cgroup_filter_bit(__u64 cgroup_id)
{
	/* Fibonacci hashing: the top 14 bits of the product. */
	return (__u32)((cgroup_id * 0x9E3779B97F4A7C15ull) >> 50);
}

#define TXC_FAMILY_IPV4		4
#define TXC_FAMILY_IPV6		6

/*
 * An exact IPv4/IPv6 5-tuple.  Addresses and ports in network order; an IPv4
 * address fills the first 4 bytes and leaves the other 12 zero.  Protocols
 * without ports (ICMP, ...) and fragments after the first match with both
 * ports 0.
 */
struct txc_flow_key {
	__u8 family;		/* TXC_FAMILY_IPV4 or TXC_FAMILY_IPV6 */
	__u8 proto;		/* IPPROTO_* */
	__u16 reserved;		/* must be zero */
	__be16 sport;
	__be16 dport;
	__u8 saddr[16];
	__u8 daddr[16];
};
TXC_ABI_ASSERT(sizeof(struct txc_flow_key) == 40, "txc_flow_key size");
TXC_ABI_ASSERT(TXC_OFFSET(struct txc_flow_key, sport) == 4, "txc_flow_key.sport");
TXC_ABI_ASSERT(TXC_OFFSET(struct txc_flow_key, saddr) == 8, "txc_flow_key.saddr");
TXC_ABI_ASSERT(TXC_OFFSET(struct txc_flow_key, daddr) == 24, "txc_flow_key.daddr");

/* ------------------------------------------------------------------------ */
/* Cancel state                                                             */
/* ------------------------------------------------------------------------ */

#define TXC_CANCEL_F_ACTIVE	(1u << 0)	/* in force (until cleared/expired) */
#define TXC_CANCEL_F_ALL_IFACES	(1u << 1)	/* on every interface */

/*
 * One cancel.  Values of txc_id_cancels (key: __u32 cancel ID),
 * txc_prefix_cancels (index: prefix) and txc_source_cancels (index: source
 * handle).  A cancel is sticky: it stays in force until user space clears
 * the element (all zero) or expires_ns passes.
 */
struct txc_cancel {
	__u32 flags;		/* TXC_CANCEL_F_* */
	__u32 reserved;		/* must be zero */
	/* Without TXC_CANCEL_F_ALL_IFACES: bit n = in force on slot n. */
	__u64 iface_slots;
	/* CLOCK_MONOTONIC ns (bpf_ktime_get_ns); 0 = never expires. */
	__u64 expires_ns;
	/* CLOCK_MONOTONIC ns when issued; informational. */
	__u64 since_ns;
};
TXC_ABI_ASSERT(sizeof(struct txc_cancel) == 32, "txc_cancel size");
TXC_ABI_ASSERT(TXC_OFFSET(struct txc_cancel, iface_slots) == 8, "txc_cancel.iface_slots");
TXC_ABI_ASSERT(TXC_OFFSET(struct txc_cancel, expires_ns) == 16, "txc_cancel.expires_ns");

/* ------------------------------------------------------------------------ */
/* Interfaces: map txc_ifaces, key __u32 ifindex                            */
/* ------------------------------------------------------------------------ */

#define TXC_IFACE_F_TC_TCX		(1u << 0)	/* TC hook attached as tcx link */
#define TXC_IFACE_F_TC_CLSACT		(1u << 1)	/* TC hook attached via clsact */
#define TXC_IFACE_F_CLSACT_CREATED	(1u << 2)	/* txcancel created the clsact */
#define TXC_IFACE_F_XDP			(1u << 3)	/* XDP program attached */
#define TXC_IFACE_F_XDP_MULTIPROG	(1u << 4)	/* ... in libxdp's dispatcher */
#define TXC_IFACE_F_QDISC		(1u << 5)	/* txcancel's qdisc holds its queues */

/*
 * Bits 8-15 of txc_iface.flags: why the XDP program runs on a link of its
 * own (TXC_IFACE_F_XDP without TXC_IFACE_F_XDP_MULTIPROG), not in libxdp's
 * dispatcher beside other XDP programs.
 */
#define TXC_IFACE_XDP_WHY_SHIFT		8
#define TXC_IFACE_XDP_WHY_MASK		(0xffu << TXC_IFACE_XDP_WHY_SHIFT)
#define TXC_XDP_LINK_NO_DISPATCHER	1	/* the kernel cannot run the dispatcher (freplace) */
#define TXC_XDP_LINK_LIBXDP		2	/* libxdp failed otherwise (the daemon's log says) */
#define TXC_XDP_LINK_NO_SYS_ADMIN	3	/* libxdp needs CAP_SYS_ADMIN, the daemon lacks it */

struct txc_iface {
	__u32 slot;		/* 0..TXC_MAX_IFACES-1: bit in txc_cancel.iface_slots */
	__u32 flags;		/* TXC_IFACE_F_* */
};
TXC_ABI_ASSERT(sizeof(struct txc_iface) == 8, "txc_iface size");

/* ------------------------------------------------------------------------ */
/* Frame and byte counters                                                  */
/* ------------------------------------------------------------------------ */

/*
 * Frames and bytes a hook let pass and aborted.  Every counting struct of
 * the datapath (per source, per ID, per interface) and of the protocol
 * (struct txc_counters, summed over CPUs) starts with these four members,
 * in this order: one list, so that the layouts cannot drift apart.
 */
#define TXC_COUNTERS_MEMBERS		\
	__u64 passed_frames;		\
	__u64 passed_bytes;		\
	__u64 aborted_frames;		\
	__u64 aborted_bytes

struct txc_counters {
	TXC_COUNTERS_MEMBERS;
};
TXC_ABI_ASSERT(sizeof(struct txc_counters) == 32, "txc_counters size");

/* ------------------------------------------------------------------------ */
/* Per-source counters: per-CPU array txc_source_stats, index = source      */
/* ------------------------------------------------------------------------ */

/*
 * Summed over CPUs, for every source at every moment the programs are idle:
 *   aborted_frames = records delivered to the ring + lost_reports.
 * aborted_* is counted before the record is reserved, so a reader that sees
 * a record also sees its abort counted.
 */
struct txc_source_stats {
	TXC_COUNTERS_MEMBERS;
	__u64 lost_reports;	/* aborts whose record did not fit the ring */
	__u64 reserved;
};
TXC_ABI_ASSERT(sizeof(struct txc_source_stats) == 48, "txc_source_stats size");

/* ------------------------------------------------------------------------ */
/* Per-ID counters: per-CPU hash txc_id_stats, key __u32 cancel ID          */
/* ------------------------------------------------------------------------ */

/*
 * Counters of one cancel ID, kept only for the IDs user space asked for: it
 * creates the (zeroed) element, the programs never do.  A tagged frame whose
 * ID has no element is not counted here (its source's counters still count
 * it).  Summed over CPUs, passed + aborted frames are the frames the hooks
 * saw with this ID since the element was created.
 */
struct txc_id_stats {
	TXC_COUNTERS_MEMBERS;
};
TXC_ABI_ASSERT(sizeof(struct txc_id_stats) == 32, "txc_id_stats size");
TXC_ABI_ASSERT(TXC_OFFSET(struct txc_id_stats, aborted_frames) == 16, "id_stats.aborted_frames");

/* ------------------------------------------------------------------------ */
/* Per-interface counters: per-CPU hash txc_iface_stats, key __u32 ifindex  */
/* ------------------------------------------------------------------------ */

/*
 * Tagged frames the hooks of one interface saw, summed over CPUs: passed
 * and aborted, as the per-source counters count them, by the interface the
 * hook runs on.  User space creates the (zeroed) element when it attaches
 * to the interface and deletes it when it forgets the interface; the
 * programs never create one.  Counted only while TXC_LOOKUP_IFACE_STATS is
 * set: the lookup costs every tagged frame a hash lookup.
 */
struct txc_iface_stats {
	TXC_COUNTERS_MEMBERS;
};
TXC_ABI_ASSERT(sizeof(struct txc_iface_stats) == 32, "txc_iface_stats size");

/* ------------------------------------------------------------------------ */
/* Abort records: written to the source's own ring buffer                   */
/* ------------------------------------------------------------------------ */

#define TXC_RECORD_VERSION	1
#define TXC_RECORD_VERSION_CAPTURE 2	/* followed by cap_len bytes of the frame */
#define TXC_RECORD_ABORT	1	/* txc_record_hdr.type */

/*
 * Most bytes of a frame's start an abort record carries: a per-source
 * capture length (map txc_source_caplen, 0 = off) is at most this.
 */
#define TXC_CAPTURE_MAX		512u
/* Bytes a version 2 record with @cap bytes of frame takes: padded to 8. */
#define TXC_RECORD_CAPTURE_SIZE(cap) \
	((__u32)sizeof(struct txc_abort_record) + (((__u32)(cap) + 7u) & ~7u))

/* Common header of every record: readers check version and type first. */
struct txc_record_hdr {
	__u8 version;		/* TXC_RECORD_VERSION */
	__u8 type;		/* TXC_RECORD_* */
	__u16 size;		/* bytes of the whole record */
	__u32 status;		/* TXC_STATUS_* (NDIS status code) */
};
TXC_ABI_ASSERT(sizeof(struct txc_record_hdr) == 8, "txc_record_hdr size");

/* txc_frame_summary.flags */
#define TXC_FRAME_F_TRUNCATED	(1u << 0)	/* ended before a header it announced */

/*
 * What the program could parse of the frame; zero where it could not.  A
 * truncated frame has no flow: flow rules never match it.
 */
struct txc_frame_summary {
	__be16 eth_proto;	/* network order; innermost, after VLAN tags */
	__u16 vlan_tci;		/* outermost 802.1Q/802.1ad TCI, 0 = untagged */
	__u8 family;		/* 0, TXC_FAMILY_IPV4 or TXC_FAMILY_IPV6 */
	__u8 l4_proto;		/* IPPROTO_*, 0 if not IP */
	__be16 sport;		/* network order; 0 where there are no ports */
	__be16 dport;
	__u16 flags;		/* TXC_FRAME_F_* */
	__u8 saddr[16];		/* network order; IPv4 in the first 4 bytes */
	__u8 daddr[16];
};
TXC_ABI_ASSERT(sizeof(struct txc_frame_summary) == 44, "txc_frame_summary size");
TXC_ABI_ASSERT(TXC_OFFSET(struct txc_frame_summary, saddr) == 12, "summary.saddr");

/*
 * txc_abort_record.where: where on the send path the frame was stopped.
 * Records written before the field existed carry 0, which is the hook.
 */
#define TXC_AT_HOOK		0	/* at the TC or XDP hook, before any queue */
#define TXC_AT_ENQUEUE		1	/* at txcancel's qdisc, as it was queued */
#define TXC_AT_PURGE		2	/* taken out of the qdisc's queue by the cancel */
#define TXC_AT_DEQUEUE		3	/* at the qdisc's dequeue, on its way out */

struct txc_abort_record {
	struct txc_record_hdr hdr;
	__u32 cancel_id;
	__u32 source;
	__u64 seq;		/* per source, from 1, no gaps unless lost */
	__u64 tstamp_ns;	/* CLOCK_MONOTONIC when dropped */
	__u32 ifindex;		/* interface the hook runs on */
	__u32 len;		/* frame bytes at the hook, L2 header included */
	__u16 gso_segs;		/* wire segments of a GSO frame; 1 otherwise */
	__u16 gso_size;		/* GSO segment payload size; 0 if not GSO */
	__u8 hook;		/* TXC_HOOK_* */
	__u8 tag_kind;		/* TXC_TAG_* */
	__u8 scope;		/* TXC_SCOPE_* */
	__u8 where;		/* TXC_AT_*: where on the send path it was stopped */
	struct txc_frame_summary frame;
	union {
		__u32 reserved2;	/* version 1: zero */
		/*
		 * Version 2: bytes of the frame, from its first (the
		 * Ethernet header), that follow the record: at most the
		 * capture length asked for and the frame's len.
		 */
		__u32 cap_len;
	};
};
TXC_ABI_ASSERT(sizeof(struct txc_abort_record) == 96, "txc_abort_record size");
TXC_ABI_ASSERT(TXC_OFFSET(struct txc_abort_record, cancel_id) == 8, "record.cancel_id");
TXC_ABI_ASSERT(TXC_OFFSET(struct txc_abort_record, seq) == 16, "record.seq");
TXC_ABI_ASSERT(TXC_OFFSET(struct txc_abort_record, ifindex) == 32, "record.ifindex");
TXC_ABI_ASSERT(TXC_OFFSET(struct txc_abort_record, gso_segs) == 40, "record.gso_segs");
TXC_ABI_ASSERT(TXC_OFFSET(struct txc_abort_record, hook) == 44, "record.hook");
TXC_ABI_ASSERT(TXC_OFFSET(struct txc_abort_record, frame) == 48, "record.frame");
TXC_ABI_ASSERT(TXC_OFFSET(struct txc_abort_record, cap_len) == 92, "record.cap_len");

/* ------------------------------------------------------------------------ */
/* Explain: the TC program's decision for one frame, without side effects   */
/* ------------------------------------------------------------------------ */

/* What a hook decides for a frame (stable: never renumber). */
#define TXC_VERDICT_PASS	1	/* continues: TCX_NEXT, XDP_PASS */
#define TXC_VERDICT_DROP	2	/* dropped and reported as aborted */

/* txc_explain_in.flags */
#define TXC_EXPLAIN_IN_NO_IFACE	(1u << 0)	/* no interface: only cancels on every interface apply */

/*
 * The explain program's input.  User space puts it in __sk_buff.cb[] of the
 * test run's ctx_in (cb[] is 20 bytes), so every run carries its own.
 */
struct txc_explain_in {
	__u32 flags;		/* TXC_EXPLAIN_IN_* */
	/*
	 * The frame's length when user space had to pad it to the minimum the
	 * kernel's test run accepts; the program trims it back to this length
	 * before it looks at it.  0: not padded.
	 */
	__u32 len;
	__u32 reserved[3];	/* must be zero */
};
TXC_ABI_ASSERT(sizeof(struct txc_explain_in) == 20, "txc_explain_in size: __sk_buff.cb[]");

/* txc_explain_result.flags */
#define TXC_EXPLAIN_F_FOREIGN_MARK	(1u << 0)	/* masked mark set, no rule: kept as is */
/*
 * The interface explained runs txcancel's qdisc, so a cancel reaches the
 * frames queued there too.  Set by the daemon (txc_rep_explain), never by
 * the program.
 */
#define TXC_EXPLAIN_F_QDISC		(1u << 1)

/*
 * What the TC program decides for a frame: written by the explain program
 * (a .bss variable of the loaded object), read by txdp_explain().
 */
struct txc_explain_result {
	__u32 cancel_id;	/* 0: untagged */
	__u32 source;		/* 0: untagged */
	__u8 tag_kind;		/* TXC_TAG_*, 0 if untagged */
	__u8 scope;		/* TXC_SCOPE_* of the cancel in force, 0 if none */
	__u8 verdict;		/* TXC_VERDICT_*; 0: the program did not finish */
	__u8 flags;		/* TXC_EXPLAIN_F_* */
	__u32 ifindex;		/* interface the cancels were checked for; 0: none */
	struct txc_frame_summary frame;
	__u32 len;		/* frame bytes the program saw, L2 header included */
};
TXC_ABI_ASSERT(sizeof(struct txc_explain_result) == 64, "txc_explain_result size");
TXC_ABI_ASSERT(TXC_OFFSET(struct txc_explain_result, tag_kind) == 8, "explain.tag_kind");
TXC_ABI_ASSERT(TXC_OFFSET(struct txc_explain_result, ifindex) == 12, "explain.ifindex");
TXC_ABI_ASSERT(TXC_OFFSET(struct txc_explain_result, frame) == 16, "explain.frame");
TXC_ABI_ASSERT(TXC_OFFSET(struct txc_explain_result, len) == 60, "explain.len");

/* ------------------------------------------------------------------------ */
/* Map names and default sizes (the datapath library may resize them)        */
/* ------------------------------------------------------------------------ */

#define TXC_MARK_RULES_MAX	65536u
#define TXC_CGROUP_RULES_MAX	16384u
#define TXC_FLOW_RULES_MAX	1048576u
#define TXC_ID_CANCELS_MAX	262144u
#define TXC_ID_STATS_MAX	65536u
#define TXC_RING_BYTES_DEFAULT	(256u * 1024u)	/* per source; power of 2 */

#endif /* TXCANCEL_ABI_H */
