/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The txcanceld socket protocol: the one definition of every message between
 * txcanceld and its clients.  libtxcancel, the txcancel tool and the daemon
 * all include this file.
 *
 * Transport: a SOCK_SEQPACKET Unix socket at a path (TXC_SOCKET_PATH by
 * default).  One message per packet; a message never spans packets.
 *
 * Every message is a struct txc_msg_hdr followed by the body of its type.
 * Requests carry a client-chosen seq; the daemon answers every request with
 * exactly one reply of the same type and seq, with TXC_MSG_F_REPLY set and
 * hdr.error 0 or a negative errno.  A failed request's reply body is a
 * struct txc_rep_error naming the problem, except a BATCH that passed
 * validation, whose reply is always a struct txc_rep_batch (the error inside
 * it, e.g. a permission); a BATCH refused by validation (size, count, an op's
 * fields) gets a struct txc_rep_error.  A message too short
 * to carry a header (an empty packet included) is answered with type 0 and
 * seq 0.  A connection over one of the daemon's limits (connections per user,
 * connections in all) gets one such reply, type 0, seq 0 and a txc_rep_error
 * naming the limit, and is then closed.  Events (completions) carry
 * TXC_MSG_F_EVENT and seq 0; they may arrive between a request and its reply.
 *
 * The daemon checks, before it uses anything: the packet was not truncated
 * and is at most TXC_MSG_MAX bytes, magic, version, type, flags, hdr.length
 * equals the packet size and the size the type expects, every reserved field
 * is zero, and every value is in range.  Each failure gets its own message.
 *
 * Rules for this file (as for abi.h): fixed-width types only, explicit
 * padding, TXC_ABI_ASSERT on every layout, host byte order unless a field
 * says otherwise; codes are never renumbered, a changed layout gets a new
 * message type, retired codes stay reserved.
 *
 * Version history (TXC_PROTO_VERSION):
 *   1  first version.  METRICS (18), CAPTURE (19) and ABORT_PLACES (20)
 *      came later, without a new version: a daemon that predates one
 *      refuses the type as unknown (EBADMSG).  A client that never sends
 *      CAPTURE never receives its event COMPLETIONS_CAPTURE (65).
 */
#ifndef TXCANCEL_PROTO_H
#define TXCANCEL_PROTO_H

#include <linux/types.h>
#include "txcancel/abi.h"

#define TXC_SOCKET_PATH		"/run/txcancel/txcanceld.sock"

#define TXC_PROTO_MAGIC		0x31435854u	/* "TXC1" in little-endian memory */
#define TXC_PROTO_VERSION	1
#define TXC_MSG_MAX		65536u		/* bytes, header included */

/* ------------------------------------------------------------------------ */
/* Header                                                                   */
/* ------------------------------------------------------------------------ */

#define TXC_MSG_F_REPLY		(1u << 0)	/* daemon -> client, answers seq */
#define TXC_MSG_F_EVENT		(1u << 1)	/* daemon -> client, unsolicited */

struct txc_msg_hdr {
	__u32 magic;		/* TXC_PROTO_MAGIC */
	__u8 version;		/* TXC_PROTO_VERSION */
	__u8 type;		/* TXC_MSG_* */
	__u16 flags;		/* TXC_MSG_F_*; zero in requests */
	__u32 length;		/* whole message, header included */
	__u32 seq;		/* requests: the client's; replies: echoed; events: 0 */
	__s32 error;		/* replies: 0 or -errno; requests and events: 0 */
	__u32 reserved;		/* must be zero */
};
TXC_ABI_ASSERT(sizeof(struct txc_msg_hdr) == 24, "txc_msg_hdr size");

/* ------------------------------------------------------------------------ */
/* Message types (stable: never renumber)                                   */
/* ------------------------------------------------------------------------ */

/* Requests, each answered by one reply of the same type. */
#define TXC_MSG_HELLO		1	/* txc_req_hello -> txc_rep_hello */
#define TXC_MSG_PREFIX_ALLOC	2	/* txc_req_prefix -> txc_rep_prefix */
#define TXC_MSG_PREFIX_FREE	3	/* txc_req_prefix -> (empty) */
#define TXC_MSG_PREFIX_LIST	4	/* (empty) -> txc_rep_list + txc_prefix_info[] */
#define TXC_MSG_SOURCE_OPEN	5	/* txc_req_source -> txc_rep_source */
#define TXC_MSG_SOURCE_CLOSE	6	/* txc_req_source -> (empty) */
#define TXC_MSG_TAG_ADD		7	/* txc_req_tag [+ SCM_RIGHTS socket] -> txc_rep_tag */
#define TXC_MSG_TAG_DEL		8	/* txc_req_tag -> (empty) */
#define TXC_MSG_CANCEL		9	/* txc_req_cancel -> txc_rep_cancel */
#define TXC_MSG_CLEAR		10	/* txc_req_clear -> txc_rep_clear */
#define TXC_MSG_STATS		11	/* txc_req_stats -> txc_rep_list + txc_stats_entry[] */
#define TXC_MSG_COUNT_ID	12	/* txc_req_count_id -> (empty) */
#define TXC_MSG_SUBSCRIBE	13	/* txc_req_source -> (empty) */
#define TXC_MSG_UNSUBSCRIBE	14	/* txc_req_source -> (empty) */
#define TXC_MSG_BATCH		15	/* txc_req_batch + txc_batch_op[] -> txc_rep_batch */
#define TXC_MSG_STATUS		16	/* (empty) -> txc_rep_status + ifaces[] + clients[] */
#define TXC_MSG_EXPLAIN		17	/* txc_req_explain -> txc_rep_explain */
#define TXC_MSG_METRICS		18	/* (empty) -> txc_rep_metrics + ifaces[] + requests[] */
#define TXC_MSG_CAPTURE		19	/* txc_req_capture -> (empty) */
#define TXC_MSG_ABORT_PLACES	20	/* (empty) -> txc_rep_list + txc_places_iface[] */
#define TXC_MSG_REQUEST_MAX	20

/* Events, daemon -> client. */
#define TXC_MSG_COMPLETIONS	64	/* txc_ev_completions + txc_abort_record[] */
#define TXC_MSG_COMPLETIONS_CAPTURE 65	/* txc_ev_completions + records of hdr.size each */

/* ------------------------------------------------------------------------ */
/* Errors                                                                   */
/* ------------------------------------------------------------------------ */

/*
 * Body of every reply with hdr.error < 0.  @field is the byte offset, from
 * the start of the message, of the field that was refused, or
 * TXC_FIELD_NONE.  @message is a NUL-terminated English sentence.
 */
#define TXC_FIELD_NONE		0xffffffffu

struct txc_rep_error {
	__u32 field;
	__u32 reserved;
	char message[120];
};
TXC_ABI_ASSERT(sizeof(struct txc_rep_error) == 128, "txc_rep_error size");

/* ------------------------------------------------------------------------ */
/* Bodies                                                                   */
/* ------------------------------------------------------------------------ */

struct txc_req_hello {
	__u32 version;		/* highest version the client speaks */
	__u32 reserved;
};
TXC_ABI_ASSERT(sizeof(struct txc_req_hello) == 8, "txc_req_hello size");

struct txc_rep_hello {
	__u32 version;		/* version the daemon will speak: TXC_PROTO_VERSION */
	__u32 conn_id;		/* this connection, as listed by STATUS */
	__u32 uid;		/* the peer as the daemon sees it (SO_PEERCRED) */
	__u32 pid;
	__u32 mark_mask;	/* bits of the mark that carry an ID; 0: mark tags off */
	__u32 max_prefixes;	/* per user */
	__u32 max_sources;	/* per user */
	__u32 max_rules;	/* per user */
};
TXC_ABI_ASSERT(sizeof(struct txc_rep_hello) == 32, "txc_rep_hello size");

/*
 * PREFIX_ALLOC: @prefix 0 asks for any free prefix (NdisGeneratePartialCancelId);
 * 1..255 asks for that one, which succeeds if it is free or if it is an
 * orphaned lease of the same user (after a daemon restart, within the grace
 * period).  PREFIX_FREE: @prefix is one the caller holds.
 */
struct txc_req_prefix {
	__u32 prefix;
	__u32 reserved;
};
TXC_ABI_ASSERT(sizeof(struct txc_req_prefix) == 8, "txc_req_prefix size");

struct txc_rep_prefix {
	__u32 prefix;
	__u32 reserved;
};
TXC_ABI_ASSERT(sizeof(struct txc_rep_prefix) == 8, "txc_rep_prefix size");

/*
 * Head of every reply that carries a list.  A list holds at most what fits
 * in TXC_MSG_MAX (909 stats entries, 2729 prefix entries); ask for single
 * values to see past that.
 */
struct txc_rep_list {
	__u32 count;
	__u32 reserved;
};
TXC_ABI_ASSERT(sizeof(struct txc_rep_list) == 8, "txc_rep_list size");

#define TXC_LEASE_HELD		1	/* held by a live connection */
#define TXC_LEASE_ORPHANED	2	/* left by an earlier daemon; reclaimable */

/* PREFIX_LIST: root sees every prefix, other users their own. */
struct txc_prefix_info {
	__u32 prefix;
	__u32 state;		/* TXC_LEASE_* */
	__u32 uid;
	__u32 conn_id;		/* 0 when orphaned */
	__u32 rules;		/* tag rules whose ID is under this prefix (not socket
				 * tags: those live in their sockets) */
	__u32 reserved;
};
TXC_ABI_ASSERT(sizeof(struct txc_prefix_info) == 24, "txc_prefix_info size");

/*
 * SOURCE_OPEN: @source 0 opens a new source handle; 1..TXC_MAX_SOURCES-1
 * reclaims an orphaned one of the same user.  The opening connection is
 * subscribed to the source's completions.
 * SOURCE_CLOSE, SUBSCRIBE, UNSUBSCRIBE: @source is one of the caller's user.
 */
struct txc_req_source {
	__u32 source;
	__u32 reserved;
};
TXC_ABI_ASSERT(sizeof(struct txc_req_source) == 8, "txc_req_source size");

struct txc_rep_source {
	__u32 source;
	__u32 reserved;
};
TXC_ABI_ASSERT(sizeof(struct txc_rep_source) == 8, "txc_rep_source size");

/*
 * TAG_ADD / TAG_DEL.  @kind is TXC_TAG_* and selects the key:
 *   TXC_TAG_MARK    key.mark: the mark value, inside the daemon's mark mask
 *   TXC_TAG_SOCKET  the socket is passed with SCM_RIGHTS (its tag is stored
 *                   in it); TAG_ADD: key.socket_cookie must be 0, the reply
 *                   carries it; TAG_DEL: key.socket_cookie is 0 or the
 *                   passed socket's.  Neither can be batched.
 *   TXC_TAG_CGROUP  key.cgroup_id: cgroup v2 id (inode of the directory)
 *   TXC_TAG_FLOW    key.flow: the exact 5-tuple (see abi.h)
 * Unused key bytes must be zero.  TAG_DEL ignores nothing: @cancel_id and
 * @source must be 0.
 */
union txc_tag_key {
	__u32 mark;
	__u64 socket_cookie;
	__u64 cgroup_id;
	struct txc_flow_key flow;
	__u8 raw[40];
};
TXC_ABI_ASSERT(sizeof(union txc_tag_key) == 40, "txc_tag_key size");

/* Bytes of union txc_tag_key that @kind uses; 0 for an unknown kind. */
static inline __u32 txc_tag_key_size(__u8 kind)
{
	switch (kind) {
	case TXC_TAG_MARK:
		return sizeof(__u32);
	case TXC_TAG_SOCKET:
	case TXC_TAG_CGROUP:
		return sizeof(__u64);
	case TXC_TAG_FLOW:
		return sizeof(struct txc_flow_key);
	default:
		return 0;
	}
}

struct txc_req_tag {
	__u8 kind;
	__u8 reserved0[3];
	__u32 cancel_id;	/* under a prefix the caller's user holds */
	__u32 source;		/* a source of the caller's user */
	__u32 reserved1;
	union txc_tag_key key;
};
TXC_ABI_ASSERT(sizeof(struct txc_req_tag) == 56, "txc_req_tag size");

struct txc_rep_tag {
	__u64 key;		/* socket tags: the socket cookie; else 0 */
};
TXC_ABI_ASSERT(sizeof(struct txc_rep_tag) == 8, "txc_rep_tag size");

/*
 * Whether @name can name a Linux network interface, as the kernel decides
 * (dev_valid_name() in net/core/dev.c): 1..15 bytes, not "." or "..", no
 * '/', ':' or white space.  NULL if it can; else what is wrong with it.
 * The tool, the library and the daemon's configuration all check with it,
 * so a name the kernel would never give is refused at once instead of
 * being waited for.
 */
static inline const char *txc_ifname_problem(const char *name)
{
	const char *p;

	if (!name[0])
		return "the name is empty";
	for (p = name; *p; p++) {
		if (p - name == 15)
			return "the name is longer than 15 characters (IFNAMSIZ)";
		if (*p == '/' || *p == ':')
			return "'/' and ':' cannot be part of an interface name";
		if (*p == ' ' || (*p >= '\t' && *p <= '\r'))
			return "white space cannot be part of an interface name";
	}
	if (name[0] == '.' && (!name[1] || (name[1] == '.' && !name[2])))
		return "'.' and '..' are not interface names";
	return 0;
}

/*
 * CANCEL: @scope TXC_SCOPE_ID (value: cancel ID), TXC_SCOPE_PREFIX (value:
 * prefix) or TXC_SCOPE_SOURCE (value: source handle).  @ifname all zero
 * cancels on every interface, else on that interface only.  @timeout_ns 0:
 * in force until cleared; else it expires by itself.
 */
struct txc_req_cancel {
	__u8 scope;
	__u8 reserved0[3];
	__u32 value;
	char ifname[16];	/* IFNAMSIZ, NUL-padded */
	__u64 timeout_ns;
};
TXC_ABI_ASSERT(sizeof(struct txc_req_cancel) == 32, "txc_req_cancel size");

struct txc_rep_cancel {
	__u64 since_ns;		/* CLOCK_MONOTONIC when the datapath saw it */
};
TXC_ABI_ASSERT(sizeof(struct txc_rep_cancel) == 8, "txc_rep_cancel size");

/* CLEAR: ends the cancel of that scope and value on every interface. */
struct txc_req_clear {
	__u8 scope;
	__u8 reserved0[3];
	__u32 value;
};
TXC_ABI_ASSERT(sizeof(struct txc_req_clear) == 8, "txc_req_clear size");

/*
 * CLEAR's final counts (struct txc_counters, abi.h, summed over CPUs): the
 * source's for TXC_SCOPE_SOURCE; the ID's for TXC_SCOPE_ID when the ID is
 * counted (COUNT_ID), else @valid is 0; the sum of the counted IDs under
 * the prefix for TXC_SCOPE_PREFIX.
 */
struct txc_rep_clear {
	__u32 valid;
	__u32 reserved;
	struct txc_counters counts;
};
TXC_ABI_ASSERT(sizeof(struct txc_rep_clear) == 40, "txc_rep_clear size");

/*
 * STATS: @scope TXC_SCOPE_SOURCE or TXC_SCOPE_ID; @value 0 lists every
 * source (or counted ID) of the caller's user, all of them for root.
 */
struct txc_req_stats {
	__u8 scope;
	__u8 reserved0[3];
	__u32 value;
};
TXC_ABI_ASSERT(sizeof(struct txc_req_stats) == 8, "txc_req_stats size");

struct txc_stats_entry {
	__u8 scope;		/* TXC_SCOPE_SOURCE or TXC_SCOPE_ID */
	__u8 reserved0[3];
	__u32 value;
	struct txc_counters counts;
	/*
	 * Sources only (0 for IDs).  Exact at every moment, across daemon
	 * restarts and crashes:
	 *   aborted_frames = delivered + ring_lost + backlog_lost
	 *                    + records still in the ring
	 * The daemon consumes a record from the ring only after it sent it
	 * (or its owner missed it) and counted it, so it never loses one.
	 */
	__u64 ring_lost;	/* records that did not fit the source's ring */
	__u64 delivered;	/* records sent to the source's owner */
	__u64 backlog_lost;	/* records read from the ring that the owner did not
				 * get: its socket was full while another
				 * subscriber took them, or it was not subscribed */
	__u32 subscribers;
	__u32 uid;		/* owner */
};
TXC_ABI_ASSERT(sizeof(struct txc_stats_entry) == 72, "txc_stats_entry size");

/* COUNT_ID: start (@enable 1) or stop (0) the per-ID counters of @cancel_id. */
struct txc_req_count_id {
	__u32 cancel_id;
	__u32 enable;
};
TXC_ABI_ASSERT(sizeof(struct txc_req_count_id) == 8, "txc_req_count_id size");

/*
 * BATCH: @count operations of fixed size.  Allowed op types: TAG_ADD and
 * TAG_DEL (not TXC_TAG_SOCKET: sockets need SCM_RIGHTS), CANCEL, CLEAR.  Every op
 * is validated, permissions included, before any is applied; then they are
 * applied in order and the first failure stops the batch (earlier ops stay
 * applied).  The reply says how many were applied and, on failure, which op
 * failed (hdr.error and the error text are the op's).
 */
#define TXC_BATCH_MAX		1000u

struct txc_req_batch {
	__u32 count;		/* 1..TXC_BATCH_MAX */
	__u32 reserved;
};
TXC_ABI_ASSERT(sizeof(struct txc_req_batch) == 8, "txc_req_batch size");

struct txc_batch_op {
	__u8 type;		/* TXC_MSG_TAG_ADD, _TAG_DEL, _CANCEL or _CLEAR */
	__u8 reserved[7];
	union {
		struct txc_req_tag tag;
		struct txc_req_cancel cancel;
		struct txc_req_clear clear;
		__u8 raw[56];
	};			/* bytes past the op's own struct must be zero */
};
TXC_ABI_ASSERT(sizeof(struct txc_batch_op) == 64, "txc_batch_op size");

struct txc_rep_batch {
	__u32 applied;		/* ops applied, in order */
	__u32 failed;		/* index of the op that failed; TXC_FIELD_NONE if none */
	struct txc_rep_error error;	/* the failed op's error, if any */
};
TXC_ABI_ASSERT(sizeof(struct txc_rep_batch) == 136, "txc_rep_batch size");

/* STATUS: what the daemon manages. */
struct txc_rep_status {
	__u32 pid;
	__u32 n_ifaces;		/* txc_status_iface entries that follow */
	__u32 n_clients;	/* then txc_status_client entries */
	__u32 mark_mask;
	__u32 n_prefixes;	/* prefixes leased (held or orphaned) */
	__u32 n_sources;	/* sources open (held or orphaned) */
	__u64 uptime_ns;
	char pin_dir[64];
	char socket_path[108];
	__u32 reserved;
};
TXC_ABI_ASSERT(sizeof(struct txc_rep_status) == 208, "txc_rep_status size");

#define TXC_STATUS_IFACE_PRESENT	(1u << 16)	/* the interface exists now */

struct txc_status_iface {
	char name[16];
	__u32 ifindex;		/* 0 while the interface is absent */
	__u32 slot;
	__u32 flags;		/* TXC_IFACE_F_* | TXC_STATUS_IFACE_* */
	__u32 hooks;		/* TXC_HOOK_* bits wanted: 1 << TXC_HOOK_TC_EGRESS, ... */
};
TXC_ABI_ASSERT(sizeof(struct txc_status_iface) == 32, "txc_status_iface size");

struct txc_status_client {
	__u32 conn_id;
	__u32 uid;
	__u32 pid;
	__u32 prefixes;
	__u32 sources;
	__u32 subscriptions;
	__u64 backlog;		/* completions waiting in the rings of its subscriptions */
};
TXC_ABI_ASSERT(sizeof(struct txc_status_client) == 32, "txc_status_client size");

/*
 * EXPLAIN: run a frame through the loaded TC program with BPF_PROG_TEST_RUN
 * in explain mode (no counter, no record, nothing dropped) and report what
 * the real program would decide.  @frame holds @frame_len bytes from the
 * Ethernet header on; @mark is the skb mark; @ifname (optional) the
 * interface it leaves by.  Socket and cgroup tags cannot be explained: the
 * test run has no sending socket.
 */
#define TXC_EXPLAIN_FRAME_MAX	512u

struct txc_req_explain {
	char ifname[16];
	__u32 mark;
	__u32 frame_len;	/* 14..TXC_EXPLAIN_FRAME_MAX */
	__u8 frame[TXC_EXPLAIN_FRAME_MAX];
};
TXC_ABI_ASSERT(sizeof(struct txc_req_explain) == 536, "txc_req_explain size");

/* verdict: TXC_VERDICT_PASS or TXC_VERDICT_DROP, defined in abi.h. */

struct txc_rep_explain {
	__u32 cancel_id;	/* 0: untagged */
	__u32 source;
	__u8 tag_kind;		/* TXC_TAG_*, 0 if untagged */
	__u8 scope;		/* TXC_SCOPE_* of the cancel in force, 0 if none */
	__u8 verdict;		/* TXC_VERDICT_* */
	/*
	 * TXC_EXPLAIN_F_* (abi.h).  Daemons before it was defined sent 0:
	 * the reply's size did not change.
	 */
	__u8 flags;
	__u32 reserved1;
	struct txc_frame_summary frame;
	__u32 reserved2;
};
TXC_ABI_ASSERT(sizeof(struct txc_rep_explain) == 64, "txc_rep_explain size");

/*
 * METRICS: what a monitoring system scrapes, for anyone who may connect
 * (the same as STATUS shows).  @n_ifaces txc_metrics_iface entries follow,
 * one per managed interface (counters 0 while it is absent), then
 * @n_requests txc_metrics_request entries: type 0 counts the requests
 * refused before any handler (malformed, unknown type), then one per
 * request type 1..TXC_MSG_REQUEST_MAX of the daemon.  Counters run from
 * the daemon's start, except the interfaces' (txc_iface_stats in abi.h),
 * which are the datapath's, run from the first attach, and count only
 * while the daemon runs with --iface-counters (TXC_METRICS_F_IFACE_COUNTERS).
 */
#define TXC_METRICS_F_IFACE_COUNTERS	(1u << 0)	/* txcanceld --iface-counters */

struct txc_rep_metrics {
	__u32 n_ifaces;
	__u32 n_requests;
	__u32 flags;		/* TXC_METRICS_F_*: without IFACE_COUNTERS the counters are 0 */
	__u32 reserved;
	__u64 uptime_ns;
};
TXC_ABI_ASSERT(sizeof(struct txc_rep_metrics) == 24, "txc_rep_metrics size");

struct txc_metrics_iface {
	char name[16];		/* as configured or renamed, NUL-padded */
	__u32 ifindex;		/* 0 while the interface is absent */
	__u32 reserved;
	struct txc_counters counts;	/* tagged frames on it, summed over CPUs */
};
TXC_ABI_ASSERT(sizeof(struct txc_metrics_iface) == 56, "txc_metrics_iface size");

struct txc_metrics_request {
	__u8 type;		/* TXC_MSG_*; 0: refused before dispatch */
	__u8 reserved0[7];
	__u64 requests;		/* answered */
	__u64 errors;		/* answered with hdr.error < 0 */
};
TXC_ABI_ASSERT(sizeof(struct txc_metrics_request) == 24, "txc_metrics_request size");

/*
 * CAPTURE: from now on, the caller's subscription to @source gets the first
 * @snaplen bytes (1..TXC_CAPTURE_MAX) of each aborted frame, or none again
 * (@snaplen 0).  The caller must be subscribed (SOURCE_OPEN or SUBSCRIBE).
 * While @snaplen is not 0 its batches come as COMPLETIONS_CAPTURE events;
 * other subscriptions of the source keep getting COMPLETIONS with version 1
 * records, unchanged.  The datapath copies the longest length any
 * subscriber asked for; each gets at most its own.  Frames aborted before
 * the reply may come without bytes (cap_len 0), as may frames aborted in
 * txcancel's qdisc (where = enqueue, purge, dequeue).
 */
struct txc_req_capture {
	__u32 source;
	__u32 snaplen;		/* 0..TXC_CAPTURE_MAX (abi.h) */
};
TXC_ABI_ASSERT(sizeof(struct txc_req_capture) == 8, "txc_req_capture size");

/*
 * ABORT_PLACES: where on the send path each managed interface's frames were
 * aborted, for anyone who may connect (as METRICS).  One entry per managed
 * interface.  @aborted is indexed by TXC_AT_* (abi.h), then
 * TXC_PLACE_RESET:
 *   TXC_AT_HOOK      at the TC and XDP hooks: the interface's counters
 *                    (txc_iface_stats), counted only with --iface-counters
 *                    (TXC_PLACES_F_HOOK_COUNTED; else 0)
 *   TXC_AT_ENQUEUE,  in txcancel's qdisc (records with that `where`),
 *   _PURGE,          summed over the interface's TX queues, each counted
 *   _DEQUEUE         from when its qdisc was created
 *   TXC_PLACE_RESET  tagged frames a qdisc reset threw away (records with
 *                    status TXC_STATUS_RESET, where TXC_AT_PURGE)
 * Every such frame was counted as passed at the hook first; the source's
 * and the ID's counters then moved it to aborted.
 */
#define TXC_PLACE_RESET			4
#define TXC_PLACES			5

#define TXC_PLACES_F_HOOK_COUNTED	(1u << 0)	/* txcanceld --iface-counters */
#define TXC_PLACES_F_QDISC		(1u << 1)	/* txcancel's qdisc holds its queues */

struct txc_places_iface {
	char name[16];		/* as configured or renamed, NUL-padded */
	__u32 ifindex;		/* 0 while the interface is absent */
	__u32 flags;		/* TXC_PLACES_F_* */
	__u32 queues;		/* TX queues of txcancel's qdisc on it now */
	__u32 queued;		/* frames in them now */
	__u64 aborted[TXC_PLACES];
};
TXC_ABI_ASSERT(sizeof(struct txc_places_iface) == 72, "txc_places_iface size");
TXC_ABI_ASSERT(TXC_OFFSET(struct txc_places_iface, aborted) == 32, "places_iface.aborted");

/* ------------------------------------------------------------------------ */
/* Events                                                                   */
/* ------------------------------------------------------------------------ */

/*
 * COMPLETIONS: a batch of @count abort records of one source, and that
 * subscription's running account.  Once the datapath is idle and every
 * batch has been read, for the source's owner (the connection that opened
 * or claimed it):
 *   aborted = delivered + ring_lost + backlog_lost
 * The owner's delivered and backlog_lost go on across daemon restarts and
 * crashes (other subscriptions count from when they subscribed).  Every
 * record has its own seq (1..aborted per source); the seqs an owner never
 * received are exactly ring_lost + backlog_lost.  A daemon killed between
 * sending a batch and recording it sends that batch again after its
 * restart: a seq seen twice is the same completion, to be taken once.
 * A batch with @count 0 only reports a changed account.
 *
 * COMPLETIONS_CAPTURE (to a subscription that asked for bytes, CAPTURE):
 * the same, but each record takes its hdr.size bytes, 8-aligned: a version
 * 2 record (abi.h) is followed by cap_len bytes of its frame padded to 8; a
 * version 1 record has none.  @count records, at most TXC_COMPLETIONS_MAX,
 * in at most TXC_MSG_MAX bytes.
 */
#define TXC_COMPLETIONS_MAX	256u	/* records per batch */

struct txc_ev_completions {
	__u32 source;
	__u32 count;
	__u64 aborted;		/* the source's aborted frames so far */
	__u64 ring_lost;	/* the source's records that did not fit its ring */
	__u64 delivered;	/* records sent on this subscription, this batch included */
	__u64 backlog_lost;	/* records this subscription missed for being slow */
};
TXC_ABI_ASSERT(sizeof(struct txc_ev_completions) == 40, "txc_ev_completions size");

#endif /* TXCANCEL_PROTO_H */
