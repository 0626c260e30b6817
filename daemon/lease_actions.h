/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Above the completions: what taking and ending a lease does to rings,
 * subscriptions and rules (lease_actions.c), and the ring polling that
 * reads the rings while aborts flood (ringpoll.c).
 */
#ifndef TXCD_LEASE_ACTIONS_H
#define TXCD_LEASE_ACTIONS_H

#include "completions.h"
#include "work.h"

/* --- lease_actions.c: taking and ending leases: rings, subscriptions, releases */
int txcd_prefix_release(struct txcd *d, __u32 prefix);
int txcd_source_open(struct txcd *d, struct txcd_conn *c, __u32 want, __u32 *source,
		     char *why, size_t why_len);
int txcd_source_release(struct txcd *d, __u32 source);
/* Read the rings of the sources an earlier instance left; at start. */
void txcd_leases_attach_orphans(struct txcd *d);
/* Release what @c holds (it is closing). */
void txcd_leases_drop_conn(struct txcd *d, struct txcd_conn *c);
/* Release orphans whose grace period is over. */
void txcd_leases_expire(struct txcd *d);

/* --- ringpoll.c: wake-ups while aborts are few, polling while they flood -- */
int txcd_ringpoll_open(struct txcd *d);
void txcd_ringpoll_woken(struct txcd *d, size_t nread);
void txcd_ringpoll_tick(struct txcd *d);
void txcd_ringpoll_close(struct txcd *d);

#endif
