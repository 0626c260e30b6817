/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Completions, above the datapath work: each source's ring read in batches
 * and sent to its subscribers (completions.c).
 */
#ifndef TXCD_COMPLETIONS_H
#define TXCD_COMPLETIONS_H

#include "state.h"

/* --- completions.c: rings, subscriptions, batches ------------------------- */
/*
 * Read @source's ring: @fd (owned from here on) if not negative, else the
 * ring stored for it.  @fresh: a new source, whose account starts here;
 * else a claimed one.
 */
int txcd_ring_attach(struct txcd *d, __u32 source, int fd, bool fresh);
void txcd_ring_detach(struct txcd *d, __u32 source);
/* Sends what the source's subscribers take; returns the records consumed. */
size_t txcd_ring_event(struct txcd *d, __u32 source);
/* Records wait in the source's ring and some subscriber could take them. */
bool txcd_ring_waiting(const struct txcd *d, __u32 source);
/* -EDQUOT when the user has --max-subs subscriptions; @why (may be NULL) says so. */
int txcd_subscribe(struct txcd *d, struct txcd_conn *c, __u32 source, char *why,
		   size_t why_len);
int txcd_unsubscribe(struct txcd *d, struct txcd_conn *c, __u32 source);
/* CAPTURE: @c's subscription to @source gets @snaplen bytes of each frame. */
int txcd_capture(struct txcd *d, struct txcd_conn *c, __u32 source, __u32 snaplen,
		 char *why, size_t why_len);
void txcd_subs_drop_conn(struct txcd *d, struct txcd_conn *c);
/* @c's socket may take more: send what waits in its subscriptions' rings. */
void txcd_deliver(struct txcd *d, struct txcd_conn *c);
/* Records waiting in the rings of @c's subscriptions. */
__u64 txcd_conn_backlog(const struct txcd *d, const struct txcd_conn *c);
void txcd_check_ring_losses(struct txcd *d);
/* The account a subscription reports: the source's for its owner, else its own. */
void txcd_sub_account(const struct txcd *d, const struct txcd_sub *sub, __u64 *delivered,
		      __u64 *backlog_lost);

#endif
