/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The one table of the socket protocol's message types (proto.h): name,
 * request body size and reply body size of each.  The daemon checks
 * requests against it, libtxcancel checks replies against it, the tool
 * names request types with it.  Handlers are not here: a handler table is
 * indexed by the same type.
 *
 * Internal to txcancel: built into libtxcancel with hidden visibility, the
 * daemon and the tool; txcc_ is the prefix of everything in common/.
 */
#ifndef TXCANCEL_COMMON_PROTO_TABLE_H
#define TXCANCEL_COMMON_PROTO_TABLE_H

#include <linux/types.h>
#include "txcancel/proto.h"

/* How the size of a successful reply's body is known. */
enum txcc_reply_size {
	TXCC_REP_FIXED,		/* exactly rep_size bytes (0: empty) */
	TXCC_REP_LIST,		/* struct txc_rep_list, then count * rep_elem */
	TXCC_REP_STATUS,	/* txc_rep_status, then its n_ifaces and n_clients entries */
	TXCC_REP_METRICS,	/* txc_rep_metrics, then its n_ifaces and n_requests entries */
};

struct txcc_msg_type {
	const char *name;	/* "PREFIX_ALLOC": error texts, metrics labels (lower case) */
	__u32 req_size;		/* request body: its size, or the fixed head of a BATCH */
	__u32 req_elem;		/* 0: fixed; else each of the head's count elements */
	enum txcc_reply_size rep;
	__u32 rep_size;		/* reply body, or its fixed head */
	__u32 rep_elem;		/* TXCC_REP_LIST: each entry */
};

/* The request type @type (1..TXC_MSG_REQUEST_MAX), or NULL if it is none. */
const struct txcc_msg_type *txcc_msg_type(__u8 type);

/* "CANCEL", "COMPLETIONS", or NULL for a type the protocol does not have. */
const char *txcc_msg_name(__u8 type);

#endif /* TXCANCEL_COMMON_PROTO_TABLE_H */
