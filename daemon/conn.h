/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * conn.c: a client connection's output and its epoll interest set.  Below
 * the completions and the server: both send through it, and neither writes
 * the interest set itself.
 */
#ifndef TXCD_CONN_H
#define TXCD_CONN_H

#include "state.h"

struct txcd_conn *txcd_conn_find(struct txcd *d, __u32 conn_id);
/*
 * Set @c's interest set from its state: EPOLLOUT while a reply is queued or
 * a subscription is blocked, EPOLLIN unless a reply is queued or a request
 * is parked.  The one writer of it: every change of that state asks it.
 */
void txcd_conn_interest(struct txcd *d, struct txcd_conn *c);
/* Queue or send one message; false if the connection had to be dropped. */
bool txcd_conn_send(struct txcd *d, struct txcd_conn *c, const void *msg, size_t len);
/* Send what is queued; true when the queue is empty. */
bool txcd_conn_send_queued(struct txcd_conn *c);
void txcd_conn_free_queue(struct txcd_conn *c);

/* A refusal as the client reads it: the header and why. */
struct txcd_error_reply {
	struct txc_msg_hdr h;
	struct txc_rep_error e;
};

/*
 * Fill the header of a reply of @len bytes to @req (NULL: to nothing asked
 * yet, type and seq 0) with @errnum (0 or a negative errno).
 */
void txcd_reply_hdr(struct txc_msg_hdr *h, const struct txc_msg_hdr *req, int errnum,
		    size_t len);

#endif
