// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * A client connection's output: replies and events sent without ever
 * blocking, the ones that could not be sent queued in order, and the
 * connection's epoll interest set, which only txcd_conn_interest() writes.
 *
 * Back-pressure: a connection whose replies could not all be sent is not
 * read from until they are, so a client that sends faster than it reads
 * costs the daemon at most one pending reply, and nobody else waits.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include "conn.h"

struct txcd_conn *txcd_conn_find(struct txcd *d, __u32 conn_id)
{
	struct txcd_conn *c;

	for (c = d->conns; c; c = c->next)
		if (c->id == conn_id)
			return c;
	return NULL;
}

static bool conn_subs_blocked(const struct txcd_conn *c)
{
	for (const struct txcd_sub *sub = c->subs; sub; sub = sub->next_in_conn)
		if (sub->blocked)
			return true;
	return false;
}

/*
 * The connection's interest set, recomputed from its state.  EPOLLOUT
 * while a reply is queued or a subscription's batch found the socket full.
 * While a reply waits to be sent, requests are not read (back-pressure), so
 * EPOLLIN stays out: the unread requests would keep a level-triggered fd
 * readable and spin the loop for as long as the client does not read.  The
 * same while a request of its waits (parked).  A hangup is reported without
 * either.
 */
void txcd_conn_interest(struct txcd *d, struct txcd_conn *c)
{
	bool in = !c->out_head && !c->parked;
	bool out = c->out_head || conn_subs_blocked(c);
	struct epoll_event ev = {
		.events = (in ? EPOLLIN : 0) | (out ? EPOLLOUT : 0),
		.data.u64 = TXCD_EV(TXCD_FD_CONN, c->id),
	};

	if ((c->want_out == out && c->want_in == in) || c->dead)
		return;
	if (epoll_ctl(d->epfd, EPOLL_CTL_MOD, c->fd, &ev)) {
		txdp_log(TXDP_LOG_WARN, "client %u: epoll: %s\n", c->id, strerror(errno));
		c->dead = true;
		return;
	}
	c->want_out = out;
	c->want_in = in;
}

bool txcd_conn_send_queued(struct txcd_conn *c)
{
	while (c->out_head && !c->dead) {
		struct txcd_msg *m = c->out_head;

		if (send(c->fd, m->data, m->len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
			if (errno != EAGAIN && errno != ENOBUFS)
				c->dead = true;
			return false;
		}
		c->out_head = m->next;
		if (!c->out_head)
			c->out_tail = NULL;
		free(m);
	}
	return !c->dead;
}

bool txcd_conn_send(struct txcd *d, struct txcd_conn *c, const void *msg, size_t len)
{
	struct txcd_msg *m;

	if (c->dead)
		return false;
	if (!c->out_head) {
		if (send(c->fd, msg, len, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0)
			return true;
		if (errno != EAGAIN && errno != ENOBUFS) {
			c->dead = true;
			return false;
		}
	}
	m = malloc(sizeof(*m) + len);
	if (!m) {
		c->dead = true;
		return false;
	}
	m->next = NULL;
	m->len = len;
	memcpy(m->data, msg, len);
	if (c->out_tail)
		c->out_tail->next = m;
	else
		c->out_head = m;
	c->out_tail = m;
	txcd_conn_interest(d, c);
	return true;
}

void txcd_conn_free_queue(struct txcd_conn *c)
{
	struct txcd_msg *m, *next;

	for (m = c->out_head; m; m = next) {
		next = m->next;
		free(m);
	}
	c->out_head = c->out_tail = NULL;
}

void txcd_reply_hdr(struct txc_msg_hdr *h, const struct txc_msg_hdr *req, int errnum,
		    size_t len)
{
	*h = (struct txc_msg_hdr){
		.magic = TXC_PROTO_MAGIC,
		.version = TXC_PROTO_VERSION,
		.type = req ? req->type : 0,
		.flags = TXC_MSG_F_REPLY,
		.length = len,
		.seq = req ? req->seq : 0,
		.error = errnum,
	};
}
