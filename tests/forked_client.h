/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
#ifndef TXC_TEST_FORKED_CLIENT_H
#define TXC_TEST_FORKED_CLIENT_H

#include <stdbool.h>
#include <sys/types.h>
#include "txcancel/txcancel.h"

#define MAX_RECS	2048	/* completions a client's log holds */
#define CALL_MS		10000	/* longest a client call may take */
#define QUIET_MS	200	/* how long "nothing arrives" is watched */

/*
 * The daemon takes a client's identity (SO_PEERCRED) when it connects, and
 * a lease lasts as long as the connection, so each client runs in a process
 * of its own, as its own user, and the test drives it over a socketpair: one
 * request, one reply.  The completions it receives are appended to a log in
 * memory shared with the test; the client reads them only when told
 * (W_COLLECT), so the test reads the log while the client is idle.
 */
enum wop {
	W_CONNECT = 1, W_PREFIX_ALLOC, W_PREFIX_CLAIM, W_SOURCE_OPEN, W_SOURCE_CLAIM,
	W_TAG, W_UNTAG, W_COUNT_ID, W_CANCEL, W_CLEAR, W_SUBSCRIBE, W_STATS, W_ACCOUNT,
	W_COLLECT, W_QUIT,
};

struct wreq {
	int op;
	int kind;		/* W_TAG, W_UNTAG: TXC_TAG_* */
	int scope;		/* W_CANCEL, W_CLEAR: TXC_SCOPE_* */
	__u32 value;		/* an ID, prefix or source */
	__u32 id, source;	/* W_TAG */
	int fd;			/* W_TAG of a socket: the sender, inherited from the test */
	union txc_tag_key key;
	int want;		/* W_COLLECT: records in the log to wait for */
};

struct wrep {
	int ret;
	char error[160];
	__u32 value;		/* prefix or source handed out */
	__u64 cookie;		/* socket tags */
	struct txc_rep_clear final;
	struct txc_ev_completions acct;
	struct txc_stats_entry stats;
};

struct wlog {
	int n;
	int overflow;
	int mismatched;		/* records whose source is not their batch's */
	struct txc_abort_record recs[MAX_RECS];
};

/* A client not started yet: cl_stop() on it does nothing. */
#define CLIENT_INIT	{ .cmd = -1 }

struct client {
	const char *name;
	uid_t uid;
	pid_t pid;		/* root-side parent of the client, waiting for it */
	int cmd;
	char sock[108];
	struct wlog *log;
	__u32 prefix;
};

/*
 * Fork @cl's process, as @uid (with CAP_NET_ADMIN), connected to the daemon
 * at @sock; it keeps no descriptor of the test's but @keep (the senders it
 * tags by socket).
 */
bool cl_start(struct client *cl, const char *name, uid_t uid, const char *sock,
	      const int *keep, int n_keep);
/* End the client's process (its connection closes with it) and wait for it. */
void cl_stop(struct client *cl);
/* One request, its reply in @rp; returns the call's result, rp->error says why. */
int cl_call(struct client *cl, const struct wreq *rq, struct wrep *rp);
/* A call that must succeed; the failure shows the daemon's sentence. */
bool cl_ok(struct client *cl, const struct wreq *rq, struct wrep *rp, const char *what);
/* A call that must fail with @err and say why. */
bool cl_refused(struct client *cl, const struct wreq *rq, int err, const char *what);
/* A call of @op with only @scope and @value, that must succeed (@rp may be NULL). */
bool cl_simple(struct client *cl, int op, int scope, __u32 value, struct wrep *rp,
	       const char *what);
/* Forget what the client received so far (it is idle between requests). */
void cl_log_reset(struct client *cl);
/* Read completions until @want are in the log; returns how many are. */
int cl_collect(struct client *cl, int want);

#endif
