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

/*
 * An array after a reply's fixed head: its count is the __u32 at byte
 * @count_at of the head, each entry @entry bytes.  @entry 0: none.
 */
struct txcc_reply_array {
	__u32 count_at;
	__u32 entry;
};

struct txcc_msg_type {
	const char *name;	/* "PREFIX_ALLOC": error texts, metrics labels (lower case) */
	__u32 req_size;		/* request body: its size, or the fixed head of a BATCH */
	__u32 req_elem;		/* 0: fixed; else each of the head's count elements */
	__u32 rep_size;		/* successful reply body: its size, or its fixed head */
	struct txcc_reply_array rep_arrays[2];	/* what follows the head, in order */
};

/* The request type @type (1..TXC_MSG_REQUEST_MAX), or NULL if it is none. */
const struct txcc_msg_type *txcc_msg_type(__u8 type);

/* "CANCEL", "COMPLETIONS", or NULL for a type the protocol does not have. */
const char *txcc_msg_name(__u8 type);

#endif /* TXCANCEL_COMMON_PROTO_TABLE_H */
