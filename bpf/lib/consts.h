/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Constants that vmlinux.h cannot carry because the kernel defines them as macros. */
#ifndef TXC_BPF_CONSTS_H
#define TXC_BPF_CONSTS_H

#define ETH_P_IP		0x0800
#define ETH_P_IPV6		0x86DD
#define ETH_P_8021Q		0x8100
#define ETH_P_8021AD		0x88A8

#define IP_OFFSET		0x1FFF

#define NEXTHDR_HOP		0
#define NEXTHDR_ROUTING		43
#define NEXTHDR_FRAGMENT	44
#define NEXTHDR_AUTH		51
#define NEXTHDR_DEST		60

/* TC verdicts: the same numbers serve tcx links and cls_bpf direct-action. */
#define TCX_NEXT		(-1)	/* TC_ACT_UNSPEC: next program, then the stack */
#define TCX_DROP		2	/* TC_ACT_SHOT */

#define XDP_DROP_VERDICT	1	/* enum xdp_action XDP_DROP */
#define XDP_PASS_VERDICT	2	/* enum xdp_action XDP_PASS */

#endif
