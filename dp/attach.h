/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Attach txcancel's programs to interfaces and detach them again
 * (attach.c, xdp_multi.c).  Links are pinned under <pin_dir>/links.
 */
#ifndef TXC_DP_ATTACH_H
#define TXC_DP_ATTACH_H

#include <linux/types.h>
#include "txcancel/abi.h"

struct txc_dp;

enum txc_tc_mode {
	TXC_TC_AUTO,		/* tcx where the kernel has it, else clsact */
	TXC_TC_TCX,
	TXC_TC_CLSACT,
};

/* BPF_F_BEFORE/BPF_F_AFTER style placement on the tcx chain. */
enum txc_tc_place {
	TXC_TC_PLACE_LAST,
	TXC_TC_PLACE_FIRST,
};

int txc_attach_tc(struct txc_dp *dp, const char *ifname, enum txc_tc_mode mode);
int txc_detach_tc(struct txc_dp *dp, const char *ifname);
/* @xdp_flags: 0 (driver mode where supported) or XDP_FLAGS_SKB_MODE. */
int txc_attach_xdp(struct txc_dp *dp, const char *ifname, __u32 xdp_flags);
/*
 * The same by ifindex, for a caller that learned the interface from a link
 * event: a name may have passed to another interface since, an index is
 * never reused while the interface lives (-ENODEV if it is gone).
 */
int txc_attach_tc_ifindex(struct txc_dp *dp, __u32 ifindex, enum txc_tc_mode mode);
int txc_attach_xdp_ifindex(struct txc_dp *dp, __u32 ifindex, __u32 xdp_flags);
int txc_detach_xdp(struct txc_dp *dp, const char *ifname);
/* Detach both hooks from @ifindex; works also when the interface is gone. */
int txc_detach_ifindex(struct txc_dp *dp, __u32 ifindex);
/* Detach from every interface recorded in txc_ifaces. */
int txc_detach_all(struct txc_dp *dp);

/* The state txcancel keeps for @ifindex, -ENOENT if none. */
int txc_iface_get(struct txc_dp *dp, __u32 ifindex, struct txc_iface *iface);

/* Attach any SCHED_CLS program as a tcx egress link (also used by tests). */
int txc_tcx_link_create(int prog_fd, int ifindex, enum txc_tc_place place);

/* Whether this kernel has tcx links: 1 yes, 0 no. */
int txc_kernel_has_tcx(void);

#endif
