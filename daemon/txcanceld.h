/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * txcanceld's shared state: the options, the managed interfaces, the leases
 * (prefixes and sources), the client connections and their subscriptions.
 * The daemon is one thread around one epoll loop; nothing here is locked.
 */
#ifndef TXCD_H
#define TXCD_H

#include <stdbool.h>
#include <sys/types.h>
#include <net/if.h>
#include <linux/types.h>
#include "txcancel/abi.h"
#include "txcancel/proto.h"
#include "loader.h"

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
	enum txc_tc_mode tc_mode;
	__u32 xdp_flags;
	__u32 grace_s;		/* how long orphaned leases wait for their owner */
	bool keep_on_exit;	/* leave links and pins for the next instance */
	__u32 max_clients;	/* connections of all users, root included */
	/* Per-user limits (root is not limited). */
	__u32 max_conns;
	__u32 max_prefixes;
	__u32 max_sources;
	__u32 max_rules;
	__u32 max_subs;		/* subscriptions, over all of the user's connections */
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
};

/* Per-user accounting for the limits. */
struct txcd_user {
	uid_t uid;
	__u32 conns;
	__u32 prefixes;
	__u32 sources;
	__u32 rules;
	__u32 subs;
	struct txcd_user *next;
};

struct txcd_conn;

enum txcd_lease_state {
	TXCD_FREE = 0,
	TXCD_HELD = TXC_LEASE_HELD,
	TXCD_ORPHANED = TXC_LEASE_ORPHANED,
};

struct txcd_prefix {
	enum txcd_lease_state state;
	uid_t uid;
	struct txcd_conn *conn;	/* holder while TXCD_HELD */
	__u64 deadline_ns;	/* orphans: released after this (CLOCK_MONOTONIC) */
	__u32 rules;		/* tag rules whose ID is under this prefix */
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
	enum txcd_lease_state state;
	uid_t uid;
	struct txcd_conn *conn;	/* opener while TXCD_HELD */
	__u64 deadline_ns;
	struct txcd_ring *ring;	/* reader of the source's BPF ring; NULL if none */
	bool ring_armed;	/* the ring's fd is in the loop's interest set */
	struct txcd_account acct;	/* the owner's, as pinned */
	struct txcd_sub *subs;	/* linked through sub->next_in_source */
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
	bool want_in;		/* EPOLLIN is: not while a reply waits (server.c) */
	bool dead;		/* closed at the end of this loop turn */
	struct txcd_conn *next;
};

struct txcd {
	struct txcd_opts opts;
	struct txc_dp *dp;
	int epfd;
	int listen_fd;
	int signal_fd;
	int timer_fd;
	int ringpoll_fd;	/* ringpoll.c: reads the rings while wake-ups are off */
	bool ring_polling;
	int pin_lock_fd;	/* flock on the pin dir: one daemon per pin dir */
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
};

/* epoll_event.data.u64: kind in the top 8 bits, an index or id below. */
#define TXCD_EV(kind, idx)	(((__u64)(kind) << 56) | (__u64)(idx))
#define TXCD_EV_KIND(u)		((int)((u) >> 56))
#define TXCD_EV_IDX(u)		((__u32)((u) & 0xffffffffffffffull))

__u64 txcd_now_ns(void);

/* --- server.c: connections ------------------------------------------------ */
/* Refuse to start if another daemon serves the socket path; before anything else. */
int txcd_server_claim(struct txcd *d);
int txcd_server_open(struct txcd *d);
void txcd_server_close(struct txcd *d);
void txcd_server_accept(struct txcd *d);
/* Listen again after running out of descriptors; on the tick. */
void txcd_server_resume(struct txcd *d);
void txcd_conn_event(struct txcd *d, __u32 conn_id, __u32 events);
struct txcd_conn *txcd_conn_find(struct txcd *d, __u32 conn_id);
/* Queue or send one message; false if the connection had to be dropped. */
bool txcd_conn_send(struct txcd *d, struct txcd_conn *c, const void *msg, size_t len);
void txcd_conn_flush(struct txcd *d, struct txcd_conn *c);
void txcd_reap_dead(struct txcd *d);
struct txcd_user *txcd_user_get(struct txcd *d, uid_t uid);

/* --- requests.c: one handler per request type ----------------------------- */
/*
 * Handle one validated request; fills @reply (TXC_MSG_MAX bytes) and returns
 * its length.  @fd is the SCM_RIGHTS descriptor (or -1); the handler owns it.
 */
size_t txcd_handle(struct txcd *d, struct txcd_conn *c, const void *req, size_t len,
		   int fd, void *reply);

/* --- leases.c: prefixes and sources --------------------------------------- */
int txcd_leases_open(struct txcd *d);
void txcd_leases_close(struct txcd *d, bool unpin);
int txcd_prefix_alloc(struct txcd *d, struct txcd_conn *c, __u32 want, __u32 *prefix,
		      char *why, size_t why_len);
int txcd_prefix_release(struct txcd *d, __u32 prefix);
int txcd_source_open(struct txcd *d, struct txcd_conn *c, __u32 want, __u32 *source,
		     char *why, size_t why_len);
int txcd_source_release(struct txcd *d, __u32 source);
/* Release what @c holds (it is closing). */
void txcd_leases_drop_conn(struct txcd *d, struct txcd_conn *c);
/* Release orphans whose grace period is over. */
void txcd_leases_expire(struct txcd *d);
/* Whether @c's user may act on @prefix / @source. */
bool txcd_may_prefix(const struct txcd *d, const struct txcd_conn *c, __u32 prefix);
bool txcd_may_source(const struct txcd *d, const struct txcd_conn *c, __u32 source);
/* Keep the rule counts of prefixes and users in step with the maps. */
void txcd_rules_changed(struct txcd *d, __u32 cancel_id, int delta);

/* --- completions.c: rings, subscriptions, batches ------------------------- */
/* @fresh: a new source, whose account starts here; else a claimed one. */
int txcd_ring_attach(struct txcd *d, __u32 source, bool fresh);
void txcd_ring_detach(struct txcd *d, __u32 source);
/* Sends what the source's subscribers take; returns the records consumed. */
size_t txcd_ring_event(struct txcd *d, __u32 source);
/* Records wait in the source's ring and some subscriber could take them. */
bool txcd_ring_waiting(const struct txcd *d, __u32 source);
/* -EDQUOT when the user has --max-subs subscriptions; @why (may be NULL) says so. */
int txcd_subscribe(struct txcd *d, struct txcd_conn *c, __u32 source, char *why,
		   size_t why_len);
int txcd_unsubscribe(struct txcd *d, struct txcd_conn *c, __u32 source);
void txcd_subs_drop_conn(struct txcd *d, struct txcd_conn *c);
/* @c's socket may take more: send what waits in its subscriptions' rings. */
void txcd_deliver(struct txcd *d, struct txcd_conn *c);
/* Records waiting in the rings of @c's subscriptions. */
__u64 txcd_conn_backlog(const struct txcd *d, const struct txcd_conn *c);
void txcd_check_ring_losses(struct txcd *d);
/* A source's pinned account, as an earlier instance left it. */
void txcd_account_load(struct txcd *d, __u32 source);
/* The account a subscription reports: the source's for its owner, else its own. */
void txcd_sub_account(const struct txcd *d, const struct txcd_sub *sub, __u64 *delivered,
		      __u64 *backlog_lost);

/* --- ringpoll.c: wake-ups while aborts are few, polling while they flood -- */
int txcd_ringpoll_open(struct txcd *d);
void txcd_ringpoll_woken(struct txcd *d, size_t nread);
void txcd_ringpoll_tick(struct txcd *d);
void txcd_ringpoll_close(struct txcd *d);

/* --- ifaces.c: managed interfaces ----------------------------------------- */
int txcd_iface_add_cfg(struct txcd *d, const char *spec);
int txcd_ifaces_start(struct txcd *d);
void txcd_ifaces_stop(struct txcd *d);
void txcd_links_event(struct txcd *d);
struct txcd_iface *txcd_iface_by_name(struct txcd *d, const char *name);

/* --- config.c ------------------------------------------------------------- */
int txcd_parse_args(struct txcd *d, int argc, char **argv);

#endif
