/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The XDP (struct xdp_md) side of the context shim. */
#ifndef TXC_BPF_CTX_XDP_H
#define TXC_BPF_CTX_XDP_H

static __always_inline void txc_frame_from_xdp(struct xdp_md *ctx, __u8 hook,
					       __u32 ifindex, struct txc_frame *f)
{
	f->data = (void *)(long)ctx->data;
	f->data_end = (void *)(long)ctx->data_end;
	f->now = 0;
	f->len = f->data_end - f->data;
	f->ifindex = ifindex;
	f->gso_segs = 1;
	f->gso_size = 0;
	f->hook = hook;
	f->parsed = 0;
}

#endif
