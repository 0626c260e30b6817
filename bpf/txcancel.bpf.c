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

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* TC egress: tag by mark, socket, cgroup or flow. */
SEC("tc")
int txc_tc_egress(struct __sk_buff *skb)
{
	const struct txc_config *cfg = txc_get_config();
	struct txc_frame f = {};
	struct txc_tag tag;
	int kind;

	if (!cfg)
		return TCX_NEXT;
	kind = txc_tag_skb(skb, cfg, &tag);
	if (kind < 0)
		return TCX_NEXT;
	if (!kind && !(cfg->lookups & TXC_LOOKUP_FLOW))
		return TCX_NEXT;

	txc_frame_from_skb(skb, &f);
	if (!kind) {
		txc_skb_parse(skb, &f);
		kind = txc_tag_by_flow(cfg, &f, &tag);
	}
	if (!kind)
		return TCX_NEXT;
	return txc_verdict(cfg, &f, &tag, kind) ? TCX_DROP : TCX_NEXT;
}

/* XDP sees frames before the stack: only their flow can tag them. */
static __always_inline int txc_xdp_run(struct xdp_md *ctx, __u8 hook, __u32 ifindex)
{
	const struct txc_config *cfg = txc_get_config();
	struct txc_frame f = {};
	struct txc_tag tag;

	if (!cfg || !(cfg->lookups & TXC_LOOKUP_FLOW))
		return XDP_PASS_VERDICT;
	txc_frame_from_xdp(ctx, hook, ifindex, &f);
	if (!txc_tag_by_flow(cfg, &f, &tag))
		return XDP_PASS_VERDICT;
	return txc_verdict(cfg, &f, &tag, TXC_TAG_FLOW) ? XDP_DROP_VERDICT : XDP_PASS_VERDICT;
}

/* XDP ingress of a forwarding interface. */
SEC("xdp")
int txc_xdp(struct xdp_md *ctx)
{
	return txc_xdp_run(ctx, TXC_HOOK_XDP, ctx->ingress_ifindex);
}

/* Devmap egress, for forwarders that XDP_REDIRECT through a devmap. */
SEC("xdp/devmap")
int txc_xdp_devmap(struct xdp_md *ctx)
{
	return txc_xdp_run(ctx, TXC_HOOK_XDP_DEVMAP, ctx->egress_ifindex);
}
