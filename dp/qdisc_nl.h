/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Qdiscs through rtnetlink (libmnl): list, create or replace, delete. */
#ifndef TXDP_QDISC_NL_H
#define TXDP_QDISC_NL_H

#include <stddef.h>
#include <linux/types.h>

#define TXDP_QDISC_OPT_MAX	1024	/* TCA_OPTIONS bytes kept of a replaced qdisc */

struct txdp_qdisc_desc {
	char kind[16];
	__u32 handle;
	__u32 parent;
	__u32 opt_len;		/* bytes of opt (TCA_OPTIONS payload); 0: none */
	__u8 opt[TXDP_QDISC_OPT_MAX];
	__u8 opt_truncated;	/* TCA_OPTIONS was longer than opt */
};

/*
 * The qdisc of @ifindex whose parent is @parent (TC_H_ROOT for the root):
 * 0, -ENOENT if none, or another -errno.
 */
int txdp_nl_qdisc_get(__u32 ifindex, __u32 parent, struct txdp_qdisc_desc *out);
/* How many qdiscs of @ifindex have kind @kind (its mq children included). */
int txdp_nl_qdisc_count(__u32 ifindex, const char *kind);
/*
 * Create or replace the qdisc at @parent with @kind (and TCA_OPTIONS @opt
 * when @opt_len).  The kernel's own message, if it gave one, is copied to
 * @why (may be NULL).
 */
int txdp_nl_qdisc_replace(__u32 ifindex, __u32 parent, __u32 handle, const char *kind,
			 const void *opt, __u32 opt_len, char *why, size_t why_len);
int txdp_nl_qdisc_delete(__u32 ifindex, __u32 parent, char *why, size_t why_len);
/* The device's TX queues (IFLA_NUM_TX_QUEUES). */
int txdp_nl_tx_queues(__u32 ifindex, __u32 *n);

#endif
