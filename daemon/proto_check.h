/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Structural validation of requests (proto.h): everything that can be said
 * about a message without looking at the daemon's state.  Pure functions,
 * so that they can be unit-tested and fuzzed on their own.
 */
#ifndef TXCD_PROTO_CHECK_H
#define TXCD_PROTO_CHECK_H

#include <stddef.h>
#include "txcancel/proto.h"

/*
 * Check one received request of @len bytes that came with @n_fds file
 * descriptors (SCM_RIGHTS); @msg is aligned for the message structs (8
 * bytes): the checks read it in place.  Returns 0, or a negative errno with
 * @err filled: the offset of the refused field (or TXC_FIELD_NONE) and a
 * sentence naming the problem.  On success the body of the type is complete, every
 * reserved field is zero, every code (kind, scope, op type) is known, and
 * @n_fds is 1 for a TAG_ADD of a socket and 0 for anything else.
 */
int txcd_check_request(const void *msg, size_t len, unsigned int n_fds,
		       struct txc_rep_error *err);

/* Check one tag request body found at byte @off of the message. */
int txcd_check_tag(const struct txc_req_tag *t, int is_add, size_t off,
		   struct txc_rep_error *err);

/* Fill @err: field offset and printf-style message.  Returns @errnum. */
int txcd_error(struct txc_rep_error *err, int errnum, __u32 field, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
