/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * txcancel's qdisc (bpf/txcancel_qdisc.bpf.c): a FIFO whose queued frames a
 * cancel reaches, for kernels with the BPF qdisc (Linux 6.16+,
 * CONFIG_NET_SCH_BPF).
 *
 * The qdisc kind "txcancel" is registered once per pin dir and outlives the
 * process (the struct_ops map is pinned as <pin_dir>/qdisc_ops): a daemon
 * that is killed leaves the queues running, and the next one adopts them.
 * The qdisc an interface had before is kept in the pinned map
 * txc_qdisc_saved and put back on detach.
 *
 * Once loaded on a txdp, every txdp_cancel() and txdp_cancel_ids()
 * purges the queues it covers before it returns.
 */
#ifndef TXDP_QDISC_H
#define TXDP_QDISC_H

#include <stdbool.h>
#include <stddef.h>
#include "dp.h"
#include "txcancel/qdisc_abi.h"

/*
 * Whether this kernel and this build can run the qdisc: 0, or -EOPNOTSUPP
 * with the reason in @why.
 */
int txdp_qdisc_probe(char *why, size_t len);

/* Load the qdisc on @dp's maps and register its kind, or adopt the registration. */
int txdp_qdisc_open(struct txdp *dp);
/* Whether this process registered the kind (0) or adopted it (1); -ENOENT if not open. */
int txdp_qdisc_adopted(const struct txdp *dp);
/* Unregister the kind and remove its pins (after every interface was detached). */
int txdp_qdisc_unregister(struct txdp *dp);
/* Release this process's handles: the registration and the queues stay. */
void txdp_qdisc_close(struct txdp *dp);

/*
 * Put txcancel's qdisc on @ifindex: at the root of a single-queue device,
 * on every child of an mq root for a multi-queue one.  The TC program must
 * be attached.  Adopts what is there if it is txcancel's already.  A root
 * qdisc with classes txcancel could not put back is refused (-EBUSY).
 * @p: limit and pacing rate per TX queue; NULL: the defaults.
 */
int txdp_qdisc_attach_ifindex(struct txdp *dp, __u32 ifindex, const struct txc_qdisc_params *p);
/*
 * Put back the qdisc @ifindex had (works without txdp_qdisc_open(), also
 * when the interface is gone); -ENOENT if txcancel's qdisc was not there.
 */
int txdp_qdisc_detach_ifindex(struct txdp *dp, __u32 ifindex);

/*
 * Take every queued frame a cancel covers out of the queues it covers and
 * report it (TXC_AT_PURGE); returns when no queue has a frame that was
 * checked before the cancel still on its way out.  @ifindex 0: every
 * interface.  *@purged (may be NULL): frames taken out.  0 when the qdisc is
 * not loaded.
 */
int txdp_qdisc_purge(struct txdp *dp, int scope, __u32 value, __u32 ifindex, __u32 *purged);
/*
 * The same for the @n IDs of one batch cancel, on every interface: the
 * queues are looked up once for the batch.
 */
int txdp_qdisc_purge_ids(struct txdp *dp, const __u32 *ids, __u32 n, __u32 *purged);

/* The queues of @ifindex (0: all), up to @max; returns how many. */
int txdp_qdisc_queues(struct txdp *dp, __u32 ifindex, struct txc_queue_info *out, __u32 max);

#endif
