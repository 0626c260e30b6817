// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * txcancel's qdisc: a FIFO with a limit and an optional pacing rate whose
 * queued frames a cancel reaches.  Written as a BPF qdisc (struct_ops
 * Qdisc_ops, Linux 6.16+ with CONFIG_NET_SCH_BPF), on the datapath's maps:
 * the same cancels, rings, sequence numbers and counters.
 *
 * A tagged frame is checked three times, each needed:
 *   enqueue  frames that arrive after the cancel;
 *   purge    frames queued before it: txc_qdisc_purge, run by the daemon
 *            after it updated the cancel maps and before it replies;
 *   dequeue  frames taken off the queue between the map update and the
 *            purge.
 * Two races are closed with per-queue words read under the queue's lock:
 *   - enqueue checks, then queues.  A purge in between would miss the frame
 *     and a clear right after the reply would let it out, so enqueue notes
 *     the queue's purge generation before its check and, if a purge ran by
 *     the time it holds the lock, checks again.
 *   - dequeue takes a frame off, then checks.  It marks the queue busy
 *     under the lock until its check is done; a purge that finds the queue
 *     busy says so and the daemon runs it again, so the reply never comes
 *     while a frame checked before the cancel is still on its way.
 *
 * The frame's tag comes from the TC egress program (lib/qdisc_stamp.h);
 * untagged frames are queued and sent like any FIFO's.
 *
 * Built with clang 18+ (kptr type tags, may_goto); the main datapath object
 * does not depend on it.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "txcancel/abi.h"
#include "txcancel/qdisc_abi.h"
#include "lib/consts.h"
#include "lib/maps.h"
#include "lib/parse.h"
#include "lib/datapath.h"
#include "lib/graph.h"
#include "lib/parse_dynptr.h"
#include "lib/qdisc_stamp.h"
#include "lib/queue_report.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define EINVAL		22
#define ENOMEM		12
#define ENOSPC		28

/* Dequeue gives up after this many frames aborted in a row and comes back at once. */
#define TXC_DEQUEUE_BUDGET	64
/* Enqueue checks again at most this often when purges keep coming. */
#define TXC_ENQUEUE_RECHECKS	4

#define TXC_QFRAME_WORDS	((sizeof(struct txc_qframe) + 7) / 8)

/*
 * The frame's report, kept as words: the verifier checks each store into an
 * allocated object against the member it falls in, so a struct is copied
 * in and out whole words at a time (txc_qnode_store/load).
 */
union txc_qframe_buf {
	struct txc_qframe fr;
	__u64 w[TXC_QFRAME_WORDS];
};

struct txc_qnode {
	struct bpf_list_node node;
	struct sk_buff __kptr *skb;
	__u32 pkt_len;		/* qdisc_pkt_len(): what the qdisc's backlog counts */
	__u32 kind;		/* TXC_TAG_*; 0: untagged */
	/* What the purge compares under the lock. */
	__u32 cancel_id;
	__u32 source;
	__u64 fr[TXC_QFRAME_WORDS];
};

static __always_inline void txc_qnode_store(struct txc_qnode *n, const union txc_qframe_buf *b)
{
	int i;

#pragma unroll
	for (i = 0; i < (int)TXC_QFRAME_WORDS; i++)
		n->fr[i] = b->w[i];
	n->kind = b->fr.kind;
	n->cancel_id = b->fr.tag.cancel_id;
	n->source = b->fr.tag.source;
}

static __always_inline void txc_qnode_load(const struct txc_qnode *n, union txc_qframe_buf *b)
{
	int i;

#pragma unroll
	for (i = 0; i < (int)TXC_QFRAME_WORDS; i++)
		b->w[i] = n->fr[i];
}

struct txc_queue {
	struct txc_queue_info info;
	struct bpf_spin_lock lock;
	struct bpf_list_head frames __contains(txc_qnode, node);
	/* Taken out by a purge, reported and freed by it after the walk. */
	struct bpf_list_head purged __contains(txc_qnode, node);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TXC_QDISC_QUEUES_MAX);
	__type(key, __u32);
	__type(value, struct txc_queue);
} txc_qdisc_queues SEC(".maps");

/* Qdisc instance (its kernel address) -> slot in txc_qdisc_queues. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TXC_QDISC_QUEUES_MAX);
	__type(key, __u64);
	__type(value, __u32);
} txc_qdisc_index SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, struct txc_qdisc_params);
} txc_qdisc_params SEC(".maps");

static __always_inline struct txc_queue *txc_queue_of(struct Qdisc *sch)
{
	__u64 key = (__u64)sch;
	__u32 *slot = bpf_map_lookup_elem(&txc_qdisc_index, &key);

	return slot ? bpf_map_lookup_elem(&txc_qdisc_queues, slot) : NULL;
}

static __always_inline __u32 txc_pkt_len(const struct sk_buff *skb)
{
	return ((struct qdisc_skb_cb *)skb->cb)->pkt_len;
}

/*
 * The qdisc's own counters are writable only from its ops: what a purge
 * took out is taken off them here, at the next enqueue or dequeue.
 */
static __always_inline void txc_apply_pending(struct txc_queue *q, struct Qdisc *sch)
{
	__u64 n, bytes;

	if (!q->info.pending_frames)
		return;
	n = __sync_lock_test_and_set(&q->info.pending_frames, 0);
	bytes = __sync_lock_test_and_set(&q->info.pending_bytes, 0);
	sch->q.qlen = sch->q.qlen > n ? sch->q.qlen - n : 0;
	sch->qstats.backlog = sch->qstats.backlog > bytes ? sch->qstats.backlog - bytes : 0;
	sch->qstats.drops += n;
}

/* The tag the TC program stamped on @skb for this interface, if any. */
static __always_inline int txc_stamp_take(struct sk_buff *skb, __u32 ifindex,
					  struct txc_qframe *fr)
{
	struct qdisc_skb_cb *cb = (struct qdisc_skb_cb *)skb->cb;
	struct txc_stamp st;

	__builtin_memcpy(&st, cb->data, sizeof(st));
	if (st.magic != TXC_STAMP_MAGIC ||
	    st.check != txc_stamp_check(st.cancel_id, st.source, st.kind, ifindex))
		return 0;
	if (!TXC_ID_VALID(st.cancel_id) || st.source == TXC_SOURCE_NONE ||
	    st.source >= TXC_MAX_SOURCES || !st.kind || st.kind > TXC_TAG_KIND_MAX)
		return 0;
	/* Read once: the same skb queued again later is not taken for tagged. */
	*(__u32 *)cb->data = 0;
	fr->tag.cancel_id = st.cancel_id;
	fr->tag.source = st.source;
	fr->kind = st.kind;
	return 1;
}

static __always_inline void txc_qframe_fill(struct sk_buff *skb, __u32 ifindex,
					    struct txc_qframe *fr)
{
	struct skb_shared_info *shinfo;
	struct bpf_dynptr ptr;

	fr->len = skb->len;
	fr->ifindex = ifindex;
	fr->gso_segs = 1;
	fr->gso_size = 0;
	shinfo = (struct skb_shared_info *)(skb->head + skb->end);
	if (shinfo) {
		fr->gso_size = BPF_CORE_READ(shinfo, gso_size);
		if (fr->gso_size)
			fr->gso_segs = BPF_CORE_READ(shinfo, gso_segs);
	}
	if (!bpf_dynptr_from_skb((struct __sk_buff *)skb, 0, &ptr))
		txc_parse_dynptr(&ptr, &fr->summary);
	else
		fr->summary.flags |= TXC_FRAME_F_TRUNCATED;
}

static __always_inline __u8 txc_queued_scope(const struct txc_qframe *fr)
{
	const struct txc_config *cfg = txc_get_config();
	/* What the cancel check reads of a frame: its interface (and the clock, once). */
	struct txc_frame f = { .ifindex = fr->ifindex };

	return cfg ? txc_cancel_scope(cfg->lookups, &fr->tag, &f) : 0;
}

static __always_inline void txc_queued_abort(const struct txc_qframe *fr, __u8 scope,
					     __u8 where, __u32 status)
{
	const struct txc_config *cfg = txc_get_config();

	if (cfg)
		txc_report_queued(cfg, fr, scope, where, status);
}

SEC("struct_ops")
int BPF_PROG(txc_qdisc_enqueue, struct sk_buff *skb, struct Qdisc *sch,
	     struct bpf_sk_buff_ptr___txc *to_free)
{
	union txc_qframe_buf b = {};
	struct txc_qframe *fr = &b.fr;
	struct txc_queue *q;
	struct txc_qnode *n;
	__u32 pkt_len = txc_pkt_len(skb);
	__u64 gen = 0;
	__u8 scope = 0;
	int tagged, tries, queued = 0;

	q = txc_queue_of(sch);
	if (!q)
		goto drop;
	txc_apply_pending(q, sch);

	tagged = txc_stamp_take(skb, q->info.ifindex, fr);
	if (tagged) {
		txc_qframe_fill(skb, q->info.ifindex, fr);
		/* A full barrier: the check below sees every cancel a purge bumped it for. */
		gen = __sync_fetch_and_add(&q->info.purge_gen, 0);
		scope = txc_queued_scope(fr);
		if (scope)
			goto abort;
	}
	if (sch->q.qlen >= sch->limit) {
		__sync_fetch_and_add(&q->info.limit_drops, 1);
		goto drop;
	}

	n = bpf_obj_new(struct txc_qnode);
	if (!n)
		goto drop;
	n->pkt_len = pkt_len;
	txc_qnode_store(n, &b);
	skb = bpf_kptr_xchg(&n->skb, skb);
	if (skb)	/* never: the node is new */
		bpf_qdisc_skb_drop(skb, to_free);

	sch->q.qlen++;
	sch->qstats.backlog += pkt_len;
	for (tries = 0; tries < TXC_ENQUEUE_RECHECKS; tries++) {
		bpf_spin_lock(&q->lock);
		if (!tagged || q->info.purge_gen == gen || tries == TXC_ENQUEUE_RECHECKS - 1) {
			/*
			 * The last try queues regardless: a purge on every
			 * try is no cancel's; dequeue still checks the frame.
			 */
			bpf_list_push_back(&q->frames, &n->node);
			q->info.qlen++;
			bpf_spin_unlock(&q->lock);
			queued = 1;
			break;
		}
		gen = q->info.purge_gen;
		bpf_spin_unlock(&q->lock);
		scope = txc_queued_scope(fr);
		if (scope)
			break;
	}
	if (queued) {
		__sync_fetch_and_add(&q->info.enqueued, 1);
		return NET_XMIT_SUCCESS;
	}
	/* A purge ran between the check and the queue, for this frame's cancel. */
	sch->q.qlen--;
	sch->qstats.backlog -= pkt_len;
	skb = bpf_kptr_xchg(&n->skb, NULL);
	bpf_obj_drop(n);
	if (!skb)
		return NET_XMIT_DROP;
abort:
	__sync_fetch_and_add(&q->info.at_enqueue, 1);
	txc_queued_abort(fr, scope, TXC_AT_ENQUEUE, TXC_STATUS_SEND_ABORTED);
drop:
	sch->qstats.drops++;
	bpf_qdisc_skb_drop(skb, to_free);
	return NET_XMIT_DROP;
}

SEC("struct_ops")
struct sk_buff *BPF_PROG(txc_qdisc_dequeue, struct Qdisc *sch)
{
	union txc_qframe_buf b;
	struct bpf_list_node *node;
	struct txc_queue *q;
	struct sk_buff *skb;
	struct txc_qnode *n;
	__u64 now = 0, next;
	__u8 scope;
	int i;

	q = txc_queue_of(sch);
	if (!q)
		return NULL;
	txc_apply_pending(q, sch);
	if (q->info.rate_bytes) {
		now = bpf_ktime_get_ns();
		if (now < q->info.next_tx_ns) {
			bpf_qdisc_watchdog_schedule(sch, q->info.next_tx_ns, 0);
			return NULL;
		}
	}

	for (i = 0; i < TXC_DEQUEUE_BUDGET; i++) {
		bpf_spin_lock(&q->lock);
		node = bpf_list_pop_front(&q->frames);
		if (node) {
			n = container_of(node, struct txc_qnode, node);
			q->info.qlen--;
			if (n->kind)
				q->info.dq_busy = 1;
		}
		bpf_spin_unlock(&q->lock);
		if (!node)
			return NULL;
		n = container_of(node, struct txc_qnode, node);
		skb = bpf_kptr_xchg(&n->skb, NULL);
		sch->q.qlen = sch->q.qlen ? sch->q.qlen - 1 : 0;
		sch->qstats.backlog = sch->qstats.backlog > n->pkt_len ?
				      sch->qstats.backlog - n->pkt_len : 0;
		scope = 0;
		if (n->kind) {
			txc_qnode_load(n, &b);
			scope = txc_queued_scope(&b.fr);
		}
		if (scope) {
			__sync_fetch_and_add(&q->info.at_dequeue, 1);
			txc_queued_abort(&b.fr, scope, TXC_AT_DEQUEUE, TXC_STATUS_SEND_ABORTED);
		}
		/* The check is done: a purge may now count this frame as gone. */
		if (n->kind)
			__sync_lock_test_and_set(&q->info.dq_busy, 0);
		bpf_obj_drop(n);
		if (!skb)
			continue;
		if (scope) {
			sch->qstats.drops++;
			bpf_kfree_skb(skb);
			continue;
		}
		bpf_qdisc_bstats_update(sch, skb);
		if (q->info.rate_bytes) {
			next = q->info.next_tx_ns > now ? q->info.next_tx_ns : now;
			q->info.next_tx_ns = next + (__u64)skb->len * NSEC_PER_SEC /
						    q->info.rate_bytes;
		}
		return skb;
	}
	/* Many aborted in a row: let others run, and come back at once. */
	bpf_qdisc_watchdog_schedule(sch, bpf_ktime_get_ns(), 0);
	return NULL;
}

SEC("struct_ops")
int BPF_PROG(txc_qdisc_init, struct Qdisc *sch, struct nlattr *opt,
	     struct netlink_ext_ack *extack)
{
	__u64 key = (__u64)sch;
	__u32 ifindex = sch->dev_queue->dev->ifindex;
	struct txc_qdisc_params *pr;
	__u32 limit = TXC_QDISC_LIMIT_DEFAULT;
	struct txc_queue *q = NULL;
	__u64 rate = 0;
	__u32 slot;

	pr = bpf_map_lookup_elem(&txc_qdisc_params, &ifindex);
	if (pr) {
		if (pr->limit && pr->limit <= TXC_QDISC_LIMIT_MAX)
			limit = pr->limit;
		rate = pr->rate_bytes;
	}
	for (slot = 0; slot < TXC_QDISC_QUEUES_MAX; slot++) {
		q = bpf_map_lookup_elem(&txc_qdisc_queues, &slot);
		if (!q)
			return -ENOSPC;
		if (!q->info.owner && !__sync_val_compare_and_swap(&q->info.owner, 0, key))
			break;
	}
	if (slot >= TXC_QDISC_QUEUES_MAX || !q)
		return -ENOSPC;
	q->info.ifindex = ifindex;
	q->info.parent = sch->parent;
	q->info.limit = limit;
	q->info.rate_bytes = rate;
	q->info.next_tx_ns = 0;
	q->info.dq_busy = 0;
	q->info.pending_frames = 0;
	q->info.pending_bytes = 0;
	q->info.enqueued = 0;
	q->info.limit_drops = 0;
	q->info.at_enqueue = 0;
	q->info.at_purge = 0;
	q->info.at_dequeue = 0;
	q->info.at_reset = 0;
	if (bpf_map_update_elem(&txc_qdisc_index, &key, &slot, BPF_ANY)) {
		q->info.owner = 0;
		return -ENOMEM;
	}
	sch->limit = limit;
	return 0;
}

/* Throw away everything queued: tagged frames are reported as reset. */
static __always_inline void txc_queue_drain(struct txc_queue *q, struct bpf_list_head *head)
{
	union txc_qframe_buf b;
	struct bpf_list_node *node;
	struct sk_buff *skb;
	struct txc_qnode *n;

	while (can_loop) {
		bpf_spin_lock(&q->lock);
		node = bpf_list_pop_front(head);
		if (node && head == &q->frames)
			q->info.qlen--;
		bpf_spin_unlock(&q->lock);
		if (!node)
			break;
		n = container_of(node, struct txc_qnode, node);
		if (n->kind) {
			txc_qnode_load(n, &b);
			__sync_fetch_and_add(&q->info.at_reset, 1);
			txc_queued_abort(&b.fr, 0, TXC_AT_PURGE, TXC_STATUS_RESET);
		}
		skb = bpf_kptr_xchg(&n->skb, NULL);
		bpf_obj_drop(n);
		if (skb)
			bpf_kfree_skb(skb);
	}
}

SEC("struct_ops")
void BPF_PROG(txc_qdisc_reset, struct Qdisc *sch)
{
	struct txc_queue *q = txc_queue_of(sch);

	if (q)
		txc_queue_drain(q, &q->frames);
	sch->q.qlen = 0;
	sch->qstats.backlog = 0;
	if (q) {
		q->info.pending_frames = 0;
		q->info.pending_bytes = 0;
		q->info.next_tx_ns = 0;
	}
}

SEC("struct_ops")
void BPF_PROG(txc_qdisc_destroy, struct Qdisc *sch)
{
	__u64 key = (__u64)sch;
	struct txc_queue *q = txc_queue_of(sch);

	if (!q)
		return;
	/* Reset ran before; what is left here was queued since. */
	txc_queue_drain(q, &q->frames);
	bpf_map_delete_elem(&txc_qdisc_index, &key);
	__sync_lock_test_and_set(&q->info.owner, 0);
}

/* Whether the cancel of @a covers the queued frame @fr (a plain compare: under the lock). */
static __always_inline int txc_purge_match(const struct txc_qdisc_purge_args *a,
					   const struct txc_qnode *n)
{
	if (!n->kind)
		return 0;
	switch (a->scope) {
	case TXC_SCOPE_ID:
		return n->cancel_id == a->value;
	case TXC_SCOPE_PREFIX:
		return TXC_ID_PREFIX(n->cancel_id) == a->value;
	case TXC_SCOPE_SOURCE:
		return n->source == a->value;
	}
	return 0;
}

/*
 * The cancel's purge of one queue, run by the daemon with BPF_PROG_TEST_RUN
 * for every queue in use after it put the cancel in the maps: every queued
 * frame the cancel covers is moved to the purged list under the queue's
 * lock (the walk holds it for the queue's length, at most its limit), then
 * reported and freed.
 *
 * One queue a run, and no subprogram: may_goto (can_loop) budgets are set
 * up by the program's prologue, and one walk is all the verifier has to
 * follow.
 */
SEC("syscall")
int txc_qdisc_purge(struct txc_qdisc_purge_args *ctx)
{
	struct txc_qdisc_purge_args a = *ctx;
	union txc_qframe_buf b;
	struct bpf_list_node *node;
	struct txc_queue *q;
	struct txc_qnode *n;
	__u32 slot = a.slot, len, i;

	ctx->queues = 0;
	ctx->purged = 0;
	ctx->busy = 0;
	if (a.scope < TXC_SCOPE_SOURCE || a.scope > TXC_SCOPE_ID || a.reserved2)
		return -EINVAL;
	q = bpf_map_lookup_elem(&txc_qdisc_queues, &slot);
	if (!q || !q->info.owner || (a.ifindex && q->info.ifindex != a.ifindex))
		return 0;
	ctx->queues = 1;
	bpf_spin_lock(&q->lock);
	q->info.purge_gen++;
	if (q->info.dq_busy)
		ctx->busy = 1;
	len = q->info.qlen;
	/* One turn of the queue: the others stay in their order. */
	for (i = 0; i < len && can_loop; i++) {
		node = bpf_list_pop_front(&q->frames);
		if (!node)
			break;
		n = container_of(node, struct txc_qnode, node);
		if (txc_purge_match(&a, n)) {
			bpf_list_push_back(&q->purged, &n->node);
			q->info.qlen--;
		} else {
			bpf_list_push_back(&q->frames, &n->node);
		}
	}
	bpf_spin_unlock(&q->lock);

	while (can_loop) {
		bpf_spin_lock(&q->lock);
		node = bpf_list_pop_front(&q->purged);
		bpf_spin_unlock(&q->lock);
		if (!node)
			break;
		n = container_of(node, struct txc_qnode, node);
		__sync_fetch_and_add(&q->info.at_purge, 1);
		__sync_fetch_and_add(&q->info.pending_frames, 1);
		__sync_fetch_and_add(&q->info.pending_bytes, n->pkt_len);
		txc_qnode_load(n, &b);
		txc_queued_abort(&b.fr, a.scope, TXC_AT_PURGE, TXC_STATUS_SEND_ABORTED);
		/*
		 * Dropping the node frees the skb it holds (the kptr's
		 * destructor): bpf_kfree_skb is for qdisc ops only.
		 */
		bpf_obj_drop(n);
		ctx->purged++;
	}
	return 0;
}

SEC(".struct_ops")
struct Qdisc_ops txc_qdisc_ops = {
	.enqueue = (void *)txc_qdisc_enqueue,
	.dequeue = (void *)txc_qdisc_dequeue,
	.init = (void *)txc_qdisc_init,
	.reset = (void *)txc_qdisc_reset,
	.destroy = (void *)txc_qdisc_destroy,
	.id = TXC_QDISC_KIND,
};
