/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The request handlers (requests*.c), one row per request type in
 * txcd_handlers[], indexed by TXC_MSG_* like every other per-type table.
 * Requests reach them structurally valid (proto_check.c); the handlers check
 * what depends on the daemon's state: who holds the prefix or source,
 * limits, interfaces, existing rules.
 *
 * One error channel: a handler returns 0 with its reply body written and
 * its length in @rep_len, or a negative errno with @err filled (txcd_error():
 * the field and the sentence the client reads).  TXCD_PARKED: it waits and
 * is answered later (server_conn.c, through d->park).
 */
#ifndef TXCD_REQUESTS_H
#define TXCD_REQUESTS_H

#include "lease_actions.h"
#include "proto_check.h"

#define TXCD_PARKED		1
#define TXCD_HDR		((__u32)sizeof(struct txc_msg_hdr))
#define TXCD_OFF(type, field)	((__u32)__builtin_offsetof(type, field))

struct txcd_req {
	struct txcd *d;
	struct txcd_conn *c;
	const struct txc_msg_hdr *h;
	const void *body;
	int fd;			/* SCM_RIGHTS descriptor or -1; closed after the handler */
	void *rep;		/* the reply body, TXC_MSG_MAX - TXCD_HDR bytes */
	size_t rep_len;		/* its type's head, zeroed before the handler; a list sets it */
	struct txc_rep_error err;
};

/* A lease the dispatcher checks before the handler runs: the caller's. */
enum txcd_needs {
	TXCD_NEEDS_NOTHING = 0,
	TXCD_NEEDS_PREFIX,	/* the __u32 at lease_off is a prefix the caller holds */
	TXCD_NEEDS_SOURCE,	/* ... a source the caller holds */
	TXCD_NEEDS_ID_PREFIX,	/* ... a cancel ID under a prefix the caller holds */
};

struct txcd_handler {
	int (*fn)(struct txcd_req *r);
	__u8 needs;		/* enum txcd_needs */
	__u16 lease_off;	/* offset in the body of the lease's __u32 */
	bool takes_fd;		/* may come with a descriptor (SCM_RIGHTS) */
	/*
	 * The reply body carries its own error (struct txc_rep_batch): on a
	 * failure it is sent as written, with the errno in the header.
	 */
	bool error_in_body;
};

/*
 * Handle one request that txcd_check_request() passed (so its length is its
 * type's); fills @reply (TXC_MSG_MAX bytes) and returns its length, or 0 when
 * it waits (parked: ringpool.c, retry.c).  @fd is the SCM_RIGHTS descriptor
 * (or -1); it is closed here.
 */
size_t txcd_handle(struct txcd *d, struct txcd_conn *c, const void *req, int fd, void *reply);

extern const struct txcd_handler txcd_handlers[TXC_MSG_REQUEST_MAX + 1];

/* Permissions (requests_perm.c): 0, or a refusal in @err naming @field. */
int txcd_need_prefix(struct txcd *d, struct txcd_conn *c, __u32 prefix, __u32 field,
		     const char *what, struct txc_rep_error *err);
int txcd_need_source(struct txcd *d, struct txcd_conn *c, __u32 source, __u32 field,
		     struct txc_rep_error *err);
int txcd_need_scope(struct txcd *d, struct txcd_conn *c, __u8 scope, __u32 value,
		    __u32 field, struct txc_rep_error *err);

/*
 * Tag, cancel and clear (requests_tag.c) have a check step and an apply
 * step, so that a batch can check every op, permissions included, before
 * applying any.  @off: where the op's body is in the message.
 */
int txcd_check_tag_add(struct txcd *d, struct txcd_conn *c, const struct txc_req_tag *t,
		       size_t off, int fd, __u32 pending, union txc_tag_key *key,
		       struct txc_rep_error *err);
int txcd_apply_tag_add(struct txcd *d, const struct txc_req_tag *t,
		       const union txc_tag_key *key, int fd, struct txc_rep_error *err);
int txcd_check_tag_del(struct txcd *d, struct txcd_conn *c, const struct txc_req_tag *t,
		       size_t off, int fd, struct txc_rep_error *err);
int txcd_apply_tag_del(struct txcd *d, const struct txc_req_tag *t, int fd,
		       struct txc_rep_error *err);
int txcd_check_cancel(struct txcd *d, struct txcd_conn *c, const struct txc_req_cancel *r,
		      size_t off, __u32 *ifindex, struct txc_rep_error *err);
int txcd_apply_cancel(struct txcd *d, const struct txc_req_cancel *r, __u32 ifindex,
		      __u64 *since, struct txc_rep_error *err);
int txcd_apply_clear(struct txcd *d, const struct txc_req_clear *r, struct txc_rep_clear *out,
		     struct txc_rep_error *err);
void txcd_add_counts(struct txc_counters *sum, const struct txc_id_stats *s);
/*
 * Hand every counted ID with its counters summed over CPUs to @fn, in
 * batches (txdp_map_walk); a non-zero return of @fn ends the walk.
 */
typedef int txcd_id_stats_fn(void *ctx, __u32 id, const struct txc_counters *counts);
int txcd_id_stats_walk(struct txcd *d, txcd_id_stats_fn *fn, void *ctx);

/* The handlers, by file. */
int txcd_do_hello(struct txcd_req *r);
int txcd_do_prefix_alloc(struct txcd_req *r);
int txcd_do_prefix_free(struct txcd_req *r);
int txcd_do_source_open(struct txcd_req *r);
int txcd_do_source_close(struct txcd_req *r);
int txcd_do_subscribe(struct txcd_req *r);
int txcd_do_unsubscribe(struct txcd_req *r);
int txcd_do_capture(struct txcd_req *r);
int txcd_do_count_id(struct txcd_req *r);
/* requests_tag.c */
int txcd_do_tag_add(struct txcd_req *r);
int txcd_do_tag_del(struct txcd_req *r);
int txcd_do_cancel(struct txcd_req *r);
int txcd_do_clear(struct txcd_req *r);
/* requests_batch.c */
int txcd_do_batch(struct txcd_req *r);
/* requests_query.c */
int txcd_do_prefix_list(struct txcd_req *r);
int txcd_do_stats(struct txcd_req *r);
int txcd_do_status(struct txcd_req *r);
int txcd_do_explain(struct txcd_req *r);
int txcd_do_metrics(struct txcd_req *r);
int txcd_do_abort_places(struct txcd_req *r);

#endif
