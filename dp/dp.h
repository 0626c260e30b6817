/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The datapath library: loads the txcancel programs once, pins their maps
 * under a bpffs directory (reusing the maps an earlier instance pinned),
 * creates the per-source rings and attaches the programs to interfaces.
 *
 * Pin layout under <pin_dir>:
 *   maps/<map name>          every map of txcancel.bpf.c (txc_sk_tags too: the
 *                            map is pinned, its elements live in the sockets)
 *   links/tc-<ifindex>       tcx link of the TC egress program
 *   links/xdp-<ifindex>      XDP link
 * Interface state (slot, attach mode, whether txcancel created a clsact
 * qdisc) is kept in the pinned map txc_ifaces, so that it survives a restart.
 *
 * Every function returns 0 or a negative errno and logs what failed, on
 * what, and why through the log sink (log.h); txdp_strerror() gives the
 * last failure's cause as its text.  The headers, by purpose: this one
 * (the handle and the state it edits), attach.h (interfaces), maps.h (map
 * utilities for any fd), log.h, qdisc.h (txcancel's qdisc).
 */
#ifndef TXDP_H
#define TXDP_H

#include <stdarg.h>
#include <stdbool.h>
#include <linux/types.h>
#include "txcancel/abi.h"
#include "log.h"
#include "maps.h"
#include "attach.h"

#define TXDP_PIN_DIR_DEFAULT	"/sys/fs/bpf/txcancel"

struct txdp_opts {
	const char *pin_dir;	/* NULL: TXDP_PIN_DIR_DEFAULT */
	__u32 ring_bytes;	/* per-source ring size, power of 2; 0: default */
	__u32 flow_rules_max;	/* 0: TXC_FLOW_RULES_MAX */
};

enum txdp_map_id {
	TXDP_MAP_CONFIG,
	TXDP_MAP_MARK_RULES,
	TXDP_MAP_SK_TAGS,
	TXDP_MAP_CGROUP_RULES,
	TXDP_MAP_FLOW_RULES,
	TXDP_MAP_ID_CANCELS,
	TXDP_MAP_PREFIX_CANCELS,
	TXDP_MAP_SOURCE_CANCELS,
	TXDP_MAP_SOURCE_SEQ,
	TXDP_MAP_SOURCE_STATS,
	TXDP_MAP_IFACES,
	TXDP_MAP_RINGS,
	TXDP_MAP_ID_STATS,
	TXDP_MAP_LEASE_GENS,
	TXDP_MAP_CGROUP_FILTER,
	TXDP_MAP_IFACE_STATS,
	TXDP_MAP_SOURCE_CAPLEN,
	TXDP_MAP_COUNT,
};

enum txdp_prog {
	TXDP_PROG_TC_EGRESS,
	TXDP_PROG_XDP,
	TXDP_PROG_COUNT,
};

struct txdp;

/* Load the programs, reusing maps pinned under the pin dir if present. */
int txdp_open(struct txdp **dp, const struct txdp_opts *opts);
/* Release this process's handles; pinned maps and links stay. NULL-safe. */
void txdp_close(struct txdp *dp);
/* Remove the map pins and the pin directory; links must be detached first. */
int txdp_unpin(struct txdp *dp);

/*
 * The cause of @dp's last failure, if it failed with @err, in the words a
 * user acts on ("the rule table is full (65536 flow rules)"); otherwise
 * strerror(-@err).  Valid until the next call.  At most TXDP_ERR_LEN
 * bytes with the NUL: it fits an error reply's message.
 */
#define TXDP_ERR_LEN		120
const char *txdp_strerror(struct txdp *dp, int err);

const char *txdp_pin_dir(const struct txdp *dp);
int txdp_map_fd(const struct txdp *dp, enum txdp_map_id map);
int txdp_prog_fd(const struct txdp *dp, enum txdp_prog prog);

/*
 * The XDP program's place in libxdp's dispatcher: lower runs first, and
 * xdp-loader's default is 50.  txcancel runs before the programs loaded
 * without a priority, so that a frame it cancels is not forwarded
 * (XDP_TX, XDP_REDIRECT) by a program before it; what it lets through
 * (XDP_PASS) goes on to the next program.
 */
#define TXDP_XDP_RUN_PRIO	20
__u32 txdp_ring_bytes(const struct txdp *dp);

/*
 * The lock of a pin dir: an exclusive flock on the directory, which
 * txcanceld holds for its lifetime.  A program that changes the pinned
 * state without the daemon takes it first: returns the fd that holds it
 * (close it to let go), -EBUSY when a daemon (or another holder) has it.
 * Creates the directory if needed.  Not for the process that already holds
 * it: flock locks belong to the open file, so a second one conflicts.
 */
int txdp_pin_dir_lock(const char *pin_dir);

/* Mount bpffs on the parent of @pin_dir's tree if nothing is mounted there. */
int txdp_ensure_bpffs(const char *path);

/* --- state --------------------------------------------------------------- */

int txdp_config_get(struct txdp *dp, struct txc_config *cfg);
int txdp_config_set(struct txdp *dp, const struct txc_config *cfg);
int txdp_set_mark_mask(struct txdp *dp, __u32 mask);
/* Whether any of the TXC_LOOKUP_* @bits is on: a read of the mapped config. */
bool txdp_lookup_on(const struct txdp *dp, __u32 bits);
/*
 * Count tagged frames per interface (txc_iface_stats), or stop: a hash
 * lookup per tagged frame while on.
 */
int txdp_set_iface_counters(struct txdp *dp, bool on);
/*
 * Whether records wake the rings' consumer (TXC_RING_F_NO_WAKEUP clear).
 * A consumer that stops the wake-ups must poll the rings itself until it
 * turns them back on, and read the rings once more after that.
 */
int txdp_set_ring_wakeup(struct txdp *dp, bool wakeup);

/*
 * Tag rules.  @key points at the key of @kind's table (see abi.h).  Adding a
 * rule turns on the lookup of its table; an invalid ID or source is refused
 * with -EINVAL.
 */
int txdp_tag_add(struct txdp *dp, int kind, const void *key, const struct txc_tag *tag);
int txdp_tag_del(struct txdp *dp, int kind, const void *key);

/*
 * Socket tags (TXC_TAG_SOCKET) are stored in the socket itself, through an
 * fd of it, and freed by the kernel with the socket; the tag tables above
 * refuse them.  A socket has at most one tag: tagging again replaces it.
 * txdp_sock_get() returns the tag in force (-ENOENT: none, or one made
 * under a prefix or source since released).
 */
int txdp_sock_tag(struct txdp *dp, int sock_fd, const struct txc_tag *tag);
int txdp_sock_get(struct txdp *dp, int sock_fd, struct txc_sk_tag *st);
int txdp_sock_untag(struct txdp *dp, int sock_fd);
/*
 * The lease of a prefix or source (@scope TXC_SCOPE_PREFIX or _SOURCE)
 * ended: every socket tag made under it stops being in force at once.
 */
int txdp_lease_end(struct txdp *dp, int scope, __u32 value);

/*
 * Cancels.  @scope is TXC_SCOPE_*; @value is the ID, prefix or source.
 * @ifindex 0 means every interface; otherwise the interface must be attached.
 * @expires_ns is CLOCK_MONOTONIC, 0 for never.
 */
int txdp_cancel(struct txdp *dp, int scope, __u32 value, __u32 ifindex, __u64 expires_ns);
int txdp_clear(struct txdp *dp, int scope, __u32 value);
/*
 * Many ID cancels on every interface (@expires_ns per ID, NULL: none), or
 * many ID clears, each in as few system calls as the kernel allows.  *@done
 * is how many from the first were applied, also on error; for clears that
 * fail it is 0, since which IDs were cleared is not known by position.
 */
int txdp_cancel_ids(struct txdp *dp, const __u32 *ids, const __u64 *expires_ns, __u32 n,
		      __u32 *done);
int txdp_clear_ids(struct txdp *dp, const __u32 *ids, __u32 n, __u32 *done);
/* Counters of @source, summed over CPUs. */
int txdp_source_stats(struct txdp *dp, __u32 source, struct txc_source_stats *sum);
/* Next sequence number the datapath will hand out for @source, minus one. */
int txdp_source_seq(struct txdp *dp, __u32 source, __u64 *seq);
/*
 * Bytes of each aborted frame of @source its records carry from now on
 * (0..TXC_CAPTURE_MAX; 0: none, records of version 1).
 */
int txdp_set_source_caplen(struct txdp *dp, __u32 source, __u32 caplen);
/* Every source's capture length back to 0, in one system call. */
int txdp_clear_source_caplens(struct txdp *dp);

/*
 * Per-ID counters (struct txc_id_stats), kept only for the IDs asked for.
 *
 * txdp_id_count_start() creates a zeroed element for @cancel_id and turns
 * the lookup on; an ID already counted keeps its counts (0).  -EINVAL for an
 * invalid ID, -ENOSPC when TXC_ID_STATS_MAX IDs are counted already.
 * txdp_id_count_stop() deletes the element (-ENOENT if the ID was not
 * counted) and turns the lookup off when none is left.
 * txdp_id_counters() sums the counts over CPUs; -ENOENT if not counted.
 */
int txdp_id_count_start(struct txdp *dp, __u32 cancel_id);
/*
 * The same without waiting: -EAGAIN where txdp_id_count_start() would
 * wait for the kernel's per-CPU allocator (up to 50 ms, 1 ms at a time).
 */
int txdp_id_count_try(struct txdp *dp, __u32 cancel_id);
int txdp_id_count_stop(struct txdp *dp, __u32 cancel_id);
int txdp_id_counters(struct txdp *dp, __u32 cancel_id, struct txc_id_stats *sum);

/*
 * Tagged frames passed and aborted on interface @ifindex, summed over CPUs;
 * -ENOENT if txcancel is not attached to it.
 */
int txdp_iface_counters(struct txdp *dp, __u32 ifindex, struct txc_iface_stats *sum);

/*
 * What the TC program decides for @frame (@len bytes from the Ethernet
 * header on) with skb mark @mark, leaving by @ifindex (0: no interface, so
 * only cancels on every interface apply).  The frame runs through the real
 * program logic under BPF_PROG_TEST_RUN, against the live maps, with no side
 * effect: nothing is counted, no sequence number is used, no record is
 * written, nothing is dropped.  Socket and cgroup tags are not looked up:
 * the frame has no sending socket.
 *
 * @ifindex is resolved in the caller's network namespace: -ENODEV if it has
 * no such interface.  -EINVAL if @len is under ETH_HLEN (14).  Frames shorter
 * than the test run takes (an IPv4 or IPv6 ethertype without a whole IP
 * header) are padded for the run and cut back by the program, so they are
 * explained as the truncated frames they are.
 *
 * The first call loads the explain program (a second instance of the object
 * on this instance's maps; its verification takes about 0.1 s).  Not for
 * concurrent calls on one @dp: the result comes back through that
 * instance's .bss.
 */
int txdp_explain(struct txdp *dp, const void *frame, __u32 len, __u32 mark,
		   __u32 ifindex, struct txc_explain_result *out);
/* Load the explain program now, for a caller that must not wait at the first explain. */
int txdp_explain_prepare(struct txdp *dp);

/*
 * Rings.  Every system call on txc_rings (an array of maps) may wait for an
 * RCU grace period: about 16 ms each on Linux 6.1, even a lookup or the
 * delete of an empty slot; an insert or a removal still 8 ms on 6.18.  So
 * the library records which slots hold a ring (pinned, see dp_internal.h)
 * and touches no other slot; a caller that must not wait makes these calls
 * from a thread of its own.  They may run in one thread while another uses
 * the rest of the library.  Each returns a new fd the caller closes, or a
 * negative errno.
 *
 * txdp_ring_get(): the ring stored for @source (-ENOENT if none).
 * txdp_ring_new(): a fresh ring stored for @source, replacing any other
 * without looking first.  txdp_ring_open(): the stored one, else a new one.
 */
int txdp_ring_get(struct txdp *dp, __u32 source);
int txdp_ring_new(struct txdp *dp, __u32 source);
int txdp_ring_open(struct txdp *dp, __u32 source);
/* Whether @source's slot may hold a ring (no system call). */
bool txdp_ring_slot_used(struct txdp *dp, __u32 source);
/* Remove @source's ring from txc_rings; its aborts then count as lost. */
int txdp_ring_remove(struct txdp *dp, __u32 source);

/* Forget every rule, cancel, counter and ring: back to a freshly loaded state. */
int txdp_reset(struct txdp *dp);

#endif
