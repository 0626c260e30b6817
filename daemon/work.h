/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The daemon's work on the datapath, above its state: releases spread over
 * loop turns, rings made ahead of need, parked requests retried on a timer,
 * the managed interfaces.
 */
#ifndef TXCD_WORK_H
#define TXCD_WORK_H

#include "state.h"

/* --- release.c: releases with rules to remove, spread over loop turns ---- */
int txcd_release_queue(struct txcd *d, bool prefix, __u32 value);
/* A release is under way or waiting: the loop must come back soon. */
bool txcd_release_pending(const struct txcd *d);
/* One chunk of it, once per loop turn. */
void txcd_release_step(struct txcd *d);
/* All of it, now (at exit). */
void txcd_release_finish(struct txcd *d);
void txcd_release_close(struct txcd *d);

/* --- ringpool.c: rings made ready ahead of need, removed off the loop ----- */
int txcd_ringpool_open(struct txcd *d);
void txcd_ringpool_close(struct txcd *d);
/* A free source with a ready ring: its fd (the caller owns it), or -EAGAIN. */
int txcd_ringpool_take(struct txcd *d, __u32 *source);
/* Remove a released source's ring, off the loop. */
void txcd_ringpool_release(struct txcd *d, __u32 source);
/* Wait for a ring: @c is answered through d->park. */
void txcd_ringpool_park(struct txcd *d, struct txcd_conn *c);
void txcd_ringpool_forget(struct txcd *d, struct txcd_conn *c);
void txcd_ringpool_event(struct txcd *d);
void txcd_ringpool_tick(struct txcd *d);

/* --- retry.c: parked requests that try again on a timer ----------------- */
/*
 * Park @c's request (copied to parked_req) and run it again in a
 * millisecond, without holding up anyone else.
 */
void txcd_conn_retry_later(struct txcd *d, struct txcd_conn *c);
void txcd_retry_event(struct txcd *d);
void txcd_retry_forget(struct txcd *d, struct txcd_conn *c);

/* --- ifaces.c: managed interfaces ----------------------------------------- */
int txcd_iface_add_cfg(struct txcd *d, const char *spec);
int txcd_ifaces_start(struct txcd *d);
void txcd_ifaces_stop(struct txcd *d);
void txcd_links_event(struct txcd *d);
struct txcd_iface *txcd_iface_by_name(struct txcd *d, const char *name);

#endif
