/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What crosses the boundary between txcancel's BPF qdisc (txcancel_qdisc.bpf.c)
 * and user space: the per-interface parameters the qdisc reads when it is
 * created, the queue state it keeps per TX queue, and the purge program's
 * arguments.  Same rules as abi.h: fixed-width types, explicit padding,
 * size and offset asserts, codes never renumbered.
 *
 * The qdisc needs Linux 6.16 or later with CONFIG_NET_SCH_BPF; none of
 * this is used where the kernel has no BPF qdisc.
 */
#ifndef TXCANCEL_QDISC_ABI_H
#define TXCANCEL_QDISC_ABI_H

#include "txcancel/abi.h"

/* The qdisc kind txcancel registers ("tc qdisc show" prints it). */
#define TXC_QDISC_KIND			"txcancel"

/* TX queues (root or mq children) one registration serves, over all interfaces. */
#define TXC_QDISC_QUEUES_MAX		256u

/*
 * Frames one queue holds.  The purge holds the queue's lock while it walks
 * the queue, so the limit also bounds how long a cancel keeps the queue
 * locked.
 */
#define TXC_QDISC_LIMIT_DEFAULT		1000u
#define TXC_QDISC_LIMIT_MAX		65536u

/*
 * Map txc_qdisc_params, key __u32 ifindex: what a txcancel qdisc created
 * on that interface starts with.  No element: the defaults.
 */
struct txc_qdisc_params {
	__u32 limit;		/* frames per TX queue; 0: TXC_QDISC_LIMIT_DEFAULT */
	__u32 reserved;		/* must be zero */
	__u64 rate_bytes;	/* pacing rate per TX queue, bytes/s; 0: unpaced */
};
TXC_ABI_ASSERT(sizeof(struct txc_qdisc_params) == 16, "txc_qdisc_params size");

/*
 * The first part of each element of map txc_qdisc_queues (array, index =
 * queue slot): what user space may read.  The rest of the element is the
 * queue itself (lock and lists), which only the programs touch.
 *
 * Counters count frames of every kind; at_* count txcancel's aborts by
 * place (one record each, or a lost report).
 */
struct txc_queue_info {
	__u64 owner;		/* the qdisc instance holding the slot; 0: free */
	__u32 ifindex;
	__u32 parent;		/* TC handle of the parent: TC_H_ROOT or mq's class */
	__u32 limit;
	__u32 qlen;		/* frames in the queue now */
	__u64 rate_bytes;
	__u64 next_tx_ns;	/* pacing: the next frame leaves no earlier */
	__u64 purge_gen;	/* purges run on this queue */
	__u32 dq_busy;		/* a tagged frame is between its dequeue and its check */
	__u32 reserved;
	/* Purged frames the qdisc's own counters (qlen, backlog) still hold. */
	__u64 pending_frames;
	__u64 pending_bytes;
	__u64 enqueued;
	__u64 limit_drops;
	__u64 at_enqueue;
	__u64 at_purge;
	__u64 at_dequeue;
	__u64 at_reset;		/* tagged frames a reset threw away (TXC_STATUS_RESET) */
};
TXC_ABI_ASSERT(sizeof(struct txc_queue_info) == 120, "txc_queue_info size");
TXC_ABI_ASSERT(TXC_OFFSET(struct txc_queue_info, next_tx_ns) == 32, "queue_info.next_tx_ns");
TXC_ABI_ASSERT(TXC_OFFSET(struct txc_queue_info, at_enqueue) == 88, "queue_info.at_enqueue");

/*
 * The purge program's context (BPF_PROG_TEST_RUN ctx_in, copied back out):
 * take every frame the cancel covers out of the queue in @slot.
 */
struct txc_qdisc_purge_args {
	__u32 scope;		/* TXC_SCOPE_* */
	__u32 value;		/* the ID, prefix or source */
	__u32 ifindex;		/* 0: a queue of any interface; else only of this one */
	__u32 slot;		/* index in txc_qdisc_queues */
	/* Out. */
	__u32 queues;		/* 1 if the slot holds a queue the cancel covers */
	__u32 purged;		/* frames taken out and reported */
	/*
	 * 1 if a tagged frame was between its dequeue and its cancel check:
	 * run the purge again until it is not, so that no frame checked
	 * before the cancel leaves after its reply.
	 */
	__u32 busy;
	__u32 reserved2;	/* must be zero */
};
TXC_ABI_ASSERT(sizeof(struct txc_qdisc_purge_args) == 32, "txc_qdisc_purge_args size");

#endif /* TXCANCEL_QDISC_ABI_H */
