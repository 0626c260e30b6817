// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * txcancel datapath: tag each frame with its cancel ID, drop the frames whose
 * ID is canceled, and write an abort record for each into the ring buffer of
 * the frame's source.  Every frame that is not canceled continues untouched.
 *
 * One object holds every program so that they share one set of maps.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "txcancel/abi.h"
#include "lib/consts.h"
#include "lib/maps.h"
#include "lib/parse.h"
#include "lib/datapath.h"
#include "lib/ctx_skb.h"
#include "lib/ctx_xdp.h"
#include "lib/qdisc_stamp.h"
#include "lib/capture.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/*
 * The TC decision, shared by the attached program and the explain program:
 * tag by mark, socket, cgroup or flow, then check the cancels.  Returns the
 * TC verdict; @f, @tag and @kind are left for the explain program to report.
 *
 * @ex is NULL in txc_tc_egress.  Both callers pass a constant and everything
 * here is inlined, so the compiler removes every explain branch from the
 * attached program: it tests no flag per frame for explain.
 */
static __always_inline int txc_tc_run(struct __sk_buff *skb, struct txc_frame *f,
				      struct txc_tag *tag, int *kind,
				      struct txc_explain_result *ex)
{
	const struct txc_config *cfg = txc_get_config();
	__u32 lookups;
	__u8 scope;

	*kind = 0;
	if (!cfg)
		return TCX_NEXT;
	lookups = cfg->lookups;
	*kind = txc_tag_skb(skb, cfg, lookups, tag, ex != NULL);
	if (*kind < 0) {
		if (ex)
			ex->flags |= TXC_EXPLAIN_F_FOREIGN_MARK;
		return TCX_NEXT;
	}
	if (!*kind && !(lookups & TXC_LOOKUP_FLOW))
		return TCX_NEXT;

	txc_frame_head_from_skb(skb, f);
	if (ex)
		f->ifindex = ex->ifindex;
	if (!*kind) {
		txc_frame_rest_from_skb(skb, f);
		txc_skb_parse(skb, f);
		*kind = txc_tag_by_flow(f, tag);
		if (!*kind)
			return TCX_NEXT;
	}
	scope = txc_verdict(lookups, f, tag, ex);
	if (!scope) {
		/*
		 * A tagged frame that goes on takes its tag to txcancel's
		 * qdisc, while some interface runs it: the bit spares every
		 * other frame the stamp.
		 */
		if (!ex && (lookups & TXC_LOOKUP_QDISC))
			txc_stamp_skb(skb, tag, *kind, f->ifindex);
		return TCX_NEXT;
	}
	if (!ex) {
		__u32 how, cap;

		/*
		 * A frame tagged by its flow was read and parsed for it (maybe
		 * after a pull of its headers, which leaves the verifier no valid
		 * packet pointer in @f where the pull failed); the others are
		 * read and parsed only now, for the record.
		 */
		if (*kind != TXC_TAG_FLOW) {
			txc_frame_rest_from_skb(skb, f);
			txc_frame_parse(f);
		}
		how = TXC_ABORT_HOW(*kind, scope, TXC_AT_HOOK);
		cap = txc_capture_len(tag);
		if (cap)
			txc_report_capture_skb(skb, f, tag, how,
					       TXC_CAPTURE_OPTS(txc_ring_submit_flags(cfg), cap));
		else
			txc_report_abort(f, tag, how, txc_ring_submit_flags(cfg));
	}
	return TCX_DROP;
}

/* TC egress: tag by mark, socket, cgroup or flow. */
SEC("tc")
int txc_tc_egress(struct __sk_buff *skb)
{
	struct txc_frame f;
	struct txc_tag tag;
	int kind;

	return txc_tc_run(skb, &f, &tag, &kind, NULL);
}

/*
 * Explain: what txc_tc_egress would decide for a frame, for user space to
 * run with BPF_PROG_TEST_RUN (txdp_explain()).  It is never attached.
 *
 * Why a second program rather than a mode of the first (a .rodata flag
 * tested on the frame path): the attached program must not pay for explain,
 * not even a flag test per frame.  Compiled from the same txc_tc_run() with
 * a constant @ex, the two differ only where explain must differ: no socket
 * or cgroup lookup (no sending socket), the interface user space names, and
 * no side effect (no counter, sequence number or record).
 *
 * The loader loads it on demand, as a second instance of this object holding
 * only this program and handed the first instance's maps.  The result goes
 * to a .bss variable, which every instance has for itself, so two processes
 * explaining at once never see each other's results.  Input comes in
 * __sk_buff.cb[] (struct txc_explain_in), per run.
 */
struct txc_explain_result txc_explain_out;

SEC("tc")
int txc_tc_explain(struct __sk_buff *skb)
{
	struct txc_explain_result *ex = &txc_explain_out;
	struct txc_frame f = {};
	struct txc_tag tag = {};
	__u32 in_flags = skb->cb[0];
	__u32 in_len = skb->cb[1];
	int kind, rc;

	__builtin_memset(ex, 0, sizeof(*ex));
	/* Drop the padding user space added for the test run's minimum length. */
	if (in_len && bpf_skb_change_tail(skb, in_len, 0))
		return TCX_NEXT;	/* verdict 0: user space reports it */
	ex->ifindex = in_flags & TXC_EXPLAIN_IN_NO_IFACE ? 0 : skb->ifindex;

	rc = txc_tc_run(skb, &f, &tag, &kind, ex);

	/*
	 * An untagged frame may not have been parsed: parse it for the summary,
	 * from the skb's pointers as they are now (after a pull, if any).
	 */
	if (!f.parsed) {
		f.data = (void *)(long)skb->data;
		f.data_end = (void *)(long)skb->data_end;
		f.len = skb->len;
		txc_frame_parse(&f);
	}
	if (kind > 0) {
		ex->cancel_id = tag.cancel_id;
		ex->source = tag.source;
		ex->tag_kind = kind;
	}
	ex->verdict = rc == TCX_DROP ? TXC_VERDICT_DROP : TXC_VERDICT_PASS;
	ex->len = f.len;
	__builtin_memcpy(&ex->frame, &f.summary, sizeof(ex->frame));
	/* Nothing is ever dropped for real: the frame was never going anywhere. */
	return TCX_NEXT;
}

/*
 * XDP sees frames before the stack: only their flow can tag them.  One body
 * for both XDP programs, which differ only in where the interface comes
 * from; a subprogram, so the object holds it once.
 */
static __noinline int txc_xdp_run(struct xdp_md *ctx, __u32 hook, __u32 ifindex)
{
	const struct txc_config *cfg = txc_get_config();
	struct txc_frame f;
	struct txc_tag tag;
	__u32 how, cap;
	__u8 scope;

	if (!cfg || !(cfg->lookups & TXC_LOOKUP_FLOW))
		return XDP_PASS_VERDICT;
	txc_frame_from_xdp(ctx, hook, ifindex, &f);
	txc_frame_parse(&f);
	if (!txc_tag_by_flow(&f, &tag))
		return XDP_PASS_VERDICT;
	scope = txc_verdict(cfg->lookups, &f, &tag, NULL);
	if (!scope)
		return XDP_PASS_VERDICT;
	how = TXC_ABORT_HOW(TXC_TAG_FLOW, scope, TXC_AT_HOOK);
	cap = txc_capture_len(&tag);
	if (cap)
		txc_report_capture_xdp(ctx, &f, &tag, how,
				       TXC_CAPTURE_OPTS(txc_ring_submit_flags(cfg), cap));
	else
		txc_report_abort(&f, &tag, how, txc_ring_submit_flags(cfg));
	return XDP_DROP_VERDICT;
}

/* XDP ingress of a forwarding interface. */
SEC("xdp")
int txc_xdp(struct xdp_md *ctx)
{
	return txc_xdp_run(ctx, TXC_HOOK_XDP, ctx->ingress_ifindex);
}
