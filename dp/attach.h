/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Attach txcancel's programs to interfaces and detach them again
 * (attach.c, xdp_multi.c).  Links are pinned under <pin_dir>/links.
 */
#ifndef TXDP_ATTACH_H
#define TXDP_ATTACH_H

#include <linux/types.h>
#include "txcancel/abi.h"

struct txdp;

enum txdp_tc_mode {
	TXDP_TC_AUTO,		/* tcx where the kernel has it, else clsact */
	TXDP_TC_TCX,
	TXDP_TC_CLSACT,
};

/* BPF_F_BEFORE/BPF_F_AFTER style placement on the tcx chain. */
enum txdp_tc_place {
	TXDP_TC_PLACE_LAST,
	TXDP_TC_PLACE_FIRST,
};

int txdp_attach_tc(struct txdp *dp, const char *ifname, enum txdp_tc_mode mode);
int txdp_detach_tc(struct txdp *dp, const char *ifname);
/* @xdp_flags: 0 (driver mode where supported) or XDP_FLAGS_SKB_MODE. */
int txdp_attach_xdp(struct txdp *dp, const char *ifname, __u32 xdp_flags);
/*
 * The same by ifindex, for a caller that learned the interface from a link
 * event: a name may have passed to another interface since, an index is
 * never reused while the interface lives (-ENODEV if it is gone).
 */
int txdp_attach_tc_ifindex(struct txdp *dp, __u32 ifindex, enum txdp_tc_mode mode);
int txdp_attach_xdp_ifindex(struct txdp *dp, __u32 ifindex, __u32 xdp_flags);
int txdp_detach_xdp(struct txdp *dp, const char *ifname);
/* Detach both hooks from @ifindex; works also when the interface is gone. */
int txdp_detach_ifindex(struct txdp *dp, __u32 ifindex);
/* Detach from every interface recorded in txc_ifaces. */
int txdp_detach_all(struct txdp *dp);

/* The state txcancel keeps for @ifindex, -ENOENT if none. */
int txdp_iface_get(struct txdp *dp, __u32 ifindex, struct txc_iface *iface);

/* Attach any SCHED_CLS program as a tcx egress link (also used by tests). */
int txdp_tcx_link_create(int prog_fd, int ifindex, enum txdp_tc_place place);

/* Whether this kernel has tcx links: 1 yes, 0 no. */
int txdp_kernel_has_tcx(void);

#endif
