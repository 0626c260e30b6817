/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * txcanceld's state, the bottom layer: the options, the managed interfaces,
 * the leases (prefixes and sources), the users, the client connections and
 * their subscriptions, and the state-only files that keep them (leases.c,
 * ruleindex.c, cancelindex.c, pinfs.c).  The daemon is one epoll loop;
 * nothing here is locked (its ring thread, ringpool.c, shares only its job
 * lists, under their own lock).
 *
 * The layers, each calling only those below it (a lower one reaches an upper
 * one only through a callback it was given, as struct txcd_park_ops):
 *   state.h, conn.h         leases.c ruleindex.c cancelindex.c blocks.c conn.c
 *                           pinfs.c ringbuf.c linkwatch.c
 *   work.h                  release.c ringpool.c retry.c ifaces.c
 *   completions.h           completions.c
 *   lease_actions.h         lease_actions.c ringpoll.c
 *   requests.h              requests_perm.c < requests_tag.c < requests_batch.c,
 *                           requests_query.c < requests.c (the handler table)
 *   server.h                server_conn.c < server.c
 *   txcanceld.h             config.c txcanceld.c
 */
#ifndef TXCD_STATE_H
#define TXCD_STATE_H

#include <stdbool.h>
#include <time.h>
#include <sys/types.h>
#include <net/if.h>
#include <linux/types.h>
#include "txcancel/abi.h"
#include "txcancel/proto.h"
#include "dp.h"

#define TXCD_MAX_IFACES_CFG	TXC_MAX_IFACES

/* Hooks an interface is configured for (bits). */
#define TXCD_HOOK_TC		(1u << TXC_HOOK_TC_EGRESS)
#define TXCD_HOOK_XDP		(1u << TXC_HOOK_XDP)
/* txcancel's qdisc holds the interface's queues (with tc only; qdisc.h). */
#define TXCD_HOOK_QDISC		(1u << 8)

struct txcd_opts {
	const char *socket_path;
	mode_t socket_mode;
	gid_t socket_gid;	/* (gid_t)-1: leave the group as created */
	const char *pin_dir;
	__u32 mark_mask;
	enum txdp_tc_mode tc_mode;
	__u32 xdp_flags;
	__u32 grace_s;		/* how long orphaned leases wait for their owner */
	bool keep_on_exit;	/* leave links and pins for the next instance */
	bool ephemeral;		/* run on a bpffs that does not outlive the daemon */
	bool iface_counters;	/* count tagged frames per interface (a lookup each) */
	__u32 max_clients;	/* connections of all users, root included */
	/* Per-user limits (root is not limited). */
	__u32 max_conns;
	__u32 max_prefixes;
	__u32 max_sources;
	__u32 max_rules;
	__u32 max_subs;		/* subscriptions, over all of the user's connections */
	__u32 max_lease_rate;	/* new prefixes and sources per second; 0: unlimited */
	__u32 backlog;		/* completion records a client's socket holds (SO_SNDBUF) */
	__u32 qdisc_limit;	/* frames per TX queue of txcancel's qdisc; 0: default */
	__u64 qdisc_rate;	/* its pacing rate per TX queue, bytes/s; 0: none */
};

struct txcd_iface {
	char name[IFNAMSIZ];	/* its name now: a rename is followed while it exists */
	char cfg_name[IFNAMSIZ];	/* as configured: the name it is awaited under */
	__u32 ifindex;		/* 0 while the interface does not exist */
	__u32 hooks;		/* TXCD_HOOK_* */
	bool attached;
	int lock_fd;		/* the interface's lock while it exists (ifaces.c), or -1 */
};

/* Per-user accounting for the limits. */
struct txcd_user {
	uid_t uid;
	__u32 conns;
	__u32 prefixes;
	__u32 sources;
	__u32 rules;
	__u32 subs;
	/* Lease churn: when the user's next new lease is due at the limited rate. */
	__u64 lease_due_ns;
	/* Its lease events in the log: at most a few a second, the rest counted. */
	__u64 log_window_ns;
	__u32 log_in_window;
	__u32 log_unlogged;
	struct txcd_user *next;
};

struct txcd_conn;

enum txcd_lease_state {
	TXCD_FREE = 0,
	TXCD_HELD = TXC_LEASE_HELD,
	TXCD_ORPHANED = TXC_LEASE_ORPHANED,
	TXCD_RELEASING,		/* its rules are being removed (release.c): nobody's */
};

/* What a prefix's and a source's lease have alike: who holds it, and until when. */
struct txcd_lease {
	enum txcd_lease_state state;
	uid_t uid;
	struct txcd_conn *conn;	/* holder while TXCD_HELD */
	__u64 deadline_ns;	/* orphans: released after this (CLOCK_MONOTONIC) */
};

static inline bool txcd_lease_held_by(const struct txcd_lease *l, const struct txcd_conn *c)
{
	return l->state == TXCD_HELD && l->conn == c;
}

struct txcd_prefix {
	struct txcd_lease lease;
	__u32 rules;		/* tag rules whose ID is under this prefix */
	/*
	 * Whether an ID under it may have a cancel or a counter: a release
	 * looks for them only then (those tables are walked whole).
	 */
	bool ids_canceled;
	bool ids_counted;
	bool ids_unindexed;	/* a cancel the index could not take: walk at release */
};

struct txcd_sub;

/*
 * The account of a source as its owner sees it, pinned per source in
 * <pin-dir>/daemon/source_accounts so that it goes on across a restart or
 * a crash.  Records are consumed from the ring only after they were sent
 * and counted here, so at every moment
 *   aborted = delivered + ring_lost + backlog_lost + records in the ring.
 */
struct txcd_account {
	__u64 delivered;	/* records sent to the owner's subscription */
	__u64 backlog_lost;	/* records consumed that the owner did not get */
	__u64 ring_pos;		/* ring consumer position up to which both are counted */
	__u64 reserved;		/* zero */
};
_Static_assert(sizeof(struct txcd_account) == 32, "txcd_account size");

struct txcd_source {
	struct txcd_lease lease;	/* its conn: the opener */
	struct txcd_ring *ring;	/* reader of the source's BPF ring; NULL if none */
	bool ring_armed;	/* the ring's fd is in the loop's interest set */
	struct txcd_account acct;	/* the owner's, as pinned */
	struct txcd_sub *subs;	/* linked through sub->next_in_source */
	__u32 rules;		/* tag rules naming this source: none, no walk at release */
	__u32 caplen;		/* bytes the datapath captures: the most any sub asked for */
};

/*
 * One connection's subscription to one source's completions.  The owner's
 * subscription counts in its source's pinned account; any other counts
 * here, for as long as it lasts.
 */
struct txcd_sub {
	struct txcd_conn *conn;
	__u32 source;
	bool blocked;		/* its socket was full: wait for EPOLLOUT */
	bool account_changed;	/* send a batch even with no record */
	bool took;		/* took the batch being sent (source_pump) */
	__u64 delivered;
	__u64 backlog_lost;
	__u64 reported_ring_lost;	/* ring_lost in the last batch sent */
	__u32 caplen;		/* CAPTURE: frame bytes per record it wants; 0: none */
	struct txcd_sub *next_in_source;
	struct txcd_sub *next_in_conn;
};

/* A reply or event that could not be sent yet. */
struct txcd_msg {
	struct txcd_msg *next;
	size_t len;
	__u8 data[];
};

struct txcd_conn {
	int fd;
	__u32 id;
	uid_t uid;
	pid_t pid;
	bool net_admin;		/* may tag by mark, cgroup and flow */
	struct txcd_user *user;
	struct txcd_msg *out_head, *out_tail;	/* unsent replies, in order */
	struct txcd_sub *subs;
	bool want_out;		/* EPOLLOUT is in the interest set */
	bool want_in;		/* EPOLLIN is: not while a reply waits (conn.c) */
	bool dead;		/* closed at the end of this loop turn */
	/*
	 * A request that waits, and its connection is not read from meanwhile:
	 * a SOURCE_OPEN for a ring (ringpool.c), a COUNT_ID for the kernel's
	 * per-CPU memory (retried on a timer, retry.c).
	 */
	bool parked;
	bool retrying;		/* parked on the retry list, not the ring pool's */
	bool resumed;		/* its parked request runs again: already counted */
	__u8 retries;		/* of the parked request */
	struct txcd_conn *next_parked;
	__u8 parked_req[sizeof(struct txc_msg_hdr) + 8] __attribute__((aligned(8)));
	struct txcd_conn *next;
};

struct txcd;

/*
 * How a parked request is answered: the server registers them (server_conn.c),
 * the ring pool and the retry timer below it call them.
 */
struct txcd_park_ops {
	/* Run @c's parked request again (a ring is ready, the timer fired). */
	void (*resume)(struct txcd *d, struct txcd_conn *c);
	/* Answer @c's parked SOURCE_OPEN with @err: no ring could be made. */
	void (*failed)(struct txcd *d, struct txcd_conn *c, int err);
};

struct txcd {
	struct txcd_opts opts;
	const struct txcd_park_ops *park;
	struct txdp *dp;
	int epfd;
	int listen_fd;
	int signal_fd;
	int timer_fd;
	int ringpoll_fd;	/* ringpoll.c: reads the rings while wake-ups are off */
	bool ring_polling;
	int pin_lock_fd;	/* flock on the pin dir: one daemon per pin dir */
	struct txcd_ringpool *pool;	/* ringpool.c: rings stored and removed off the loop */
	struct txcd_release *release;	/* release.c: releases spread over loop turns */
	struct txcd_ruleindex *rix;	/* ruleindex.c: the rules of each prefix and source */
	struct txcd_cancelindex *cix;	/* cancelindex.c: the ID cancels of each prefix */
	int retry_fd;		/* timer of the parked requests that try again (retry.c) */
	struct txcd_conn *retry_head;
	struct txc_linkwatch *lw;
	bool stop;
	__u64 start_ns;

	struct txcd_iface ifaces[TXCD_MAX_IFACES_CFG];
	__u32 n_ifaces;

	struct txcd_prefix prefixes[TXC_NR_PREFIXES];
	struct txcd_source sources[TXC_MAX_SOURCES];
	int prefix_lease_fd;	/* pinned lease maps: survive a restart */
	int source_lease_fd;
	int source_account_fd;	/* pinned struct txcd_account per source */

	struct txcd_conn *conns;
	__u32 n_conns;
	__u32 next_conn_id;
	bool accept_paused;	/* out of descriptors: the listener waits for the tick */
	struct txcd_user *users;

	/* Requests answered and refused, by type; 0: refused before dispatch (METRICS). */
	__u64 req_count[TXC_MSG_REQUEST_MAX + 1];
	__u64 req_errors[TXC_MSG_REQUEST_MAX + 1];
};

/* What the epoll data pointer of an fd refers to. */
enum txcd_fd_kind {
	TXCD_FD_LISTEN = 1,
	TXCD_FD_SIGNAL,
	TXCD_FD_TIMER,
	TXCD_FD_LINKS,
	TXCD_FD_CONN,
	TXCD_FD_RING,
	TXCD_FD_RINGPOLL,
	TXCD_FD_RINGPOOL,
	TXCD_FD_RETRY,
};

/* epoll_event.data.u64: kind in the top 8 bits, an index or id below. */
#define TXCD_EV(kind, idx)	(((__u64)(kind) << 56) | (__u64)(idx))
#define TXCD_EV_KIND(u)		((int)((u) >> 56))
#define TXCD_EV_IDX(u)		((__u32)((u) & 0xffffffffffffffull))

static inline __u64 txcd_now_ns(void)
{
	struct timespec ts;

	/* bpf_ktime_get_ns() is CLOCK_MONOTONIC: cancels' expiry compare with it. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* --- leases.c: the state of prefixes, sources and users ------------------ */
int txcd_leases_open(struct txcd *d);
void txcd_leases_close(struct txcd *d, bool unpin);
struct txcd_user *txcd_user_get(struct txcd *d, uid_t uid);
int txcd_prefix_alloc(struct txcd *d, struct txcd_conn *c, __u32 want, __u32 *prefix,
		      char *why, size_t why_len);
/* The checks of opening (@want 0) or claiming a source: *@claim says which. */
int txcd_source_may_open(struct txcd *d, struct txcd_conn *c, __u32 want, bool *claim,
			 char *why, size_t why_len);
/* @c holds @source now: a new one, or with @claim an orphan taken back. */
void txcd_source_hold(struct txcd *d, struct txcd_conn *c, __u32 source, bool claim);
/* Sources neither held nor orphaned. */
__u32 txcd_sources_free(const struct txcd *d);
/* The end of a release: the tables hold nothing of it any more (release.c). */
void txcd_prefix_released(struct txcd *d, __u32 prefix);
void txcd_source_released(struct txcd *d, __u32 source);
/* A source's pinned account, as an earlier instance left it. */
void txcd_account_load(struct txcd *d, __u32 source);
/* Log the sums of lease events left out of the log (on the tick). */
void txcd_lease_log_flush(struct txcd *d);
/* Whether @c's user may act on @prefix / @source. */
bool txcd_may_prefix(const struct txcd *d, const struct txcd_conn *c, __u32 prefix);
bool txcd_may_source(const struct txcd *d, const struct txcd_conn *c, __u32 source);
/* Keep the rule counts of prefixes, sources and users in step with the maps. */
void txcd_rules_changed(struct txcd *d, const struct txc_tag *tag, int delta);
/* A rule was stored or removed: the counts and the index follow. */
void txcd_rule_added(struct txcd *d, __u8 kind, const void *key, const struct txc_tag *tag);
void txcd_rule_removed(struct txcd *d, __u8 kind, const void *key, const struct txc_tag *tag);
/* An ID under @prefix got a cancel (@counter false) or a counter (true). */
void txcd_prefix_ids_used(struct txcd *d, __u32 prefix, bool counter);

/* --- ruleindex.c: the rules of each prefix and source ---------------------- */
int txcd_ruleindex_open(struct txcd *d);
void txcd_ruleindex_close(struct txcd *d);
int txcd_ruleindex_add(struct txcd *d, __u8 kind, const void *key, const struct txc_tag *tag);
int txcd_ruleindex_del(struct txcd *d, __u8 kind, const void *key);
/*
 * Take up to @max rules of @prefix (or, with @prefix 0, of @source) out of
 * the index, handing each to @fn: how many.
 */
__u32 txcd_ruleindex_take(struct txcd *d, __u32 prefix, __u32 source, __u32 max,
			  void (*fn)(struct txcd *d, __u8 kind, const void *key,
				     const struct txc_tag *tag));

/* --- cancelindex.c: the IDs of each prefix that may have a cancel --------- */
/* Rebuilt from txc_id_cancels. */
int txcd_cancelindex_open(struct txcd *d);
void txcd_cancelindex_close(struct txcd *d);
void txcd_cancelindex_add(struct txcd *d, __u32 id);
void txcd_cancelindex_del(struct txcd *d, __u32 id);
/* Take up to @max IDs of @prefix out of the index, into @ids: how many. */
__u32 txcd_cancelindex_take(struct txcd *d, __u32 prefix, __u32 *ids, __u32 max);

/* --- pinfs.c: is the pin dir's bpffs one that outlives the daemon? --------- */
/* 0, or -EXDEV (logged) when it is not and @ephemeral_ok is false. */
int txcd_pinfs_check(const char *pin_dir, bool ephemeral_ok);

#endif
