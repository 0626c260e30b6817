// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Serving one connection: receiving a request with its descriptor,
 * validating it (proto_check.c), handing it to its handler (requests.h),
 * sending and counting the answer; parked requests answered later.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include "server.h"
#include "conn.h"
#include "requests.h"

#define CONN_REQUESTS_PER_TURN	64	/* fairness between busy clients */

/*
 * Send the answer to a request that was counted when it was received (or
 * parked): a refusal counts as its type's error, whenever it comes.
 */
static void send_answer(struct txcd *d, struct txcd_conn *c, const void *reply, size_t len)
{
	const struct txc_msg_hdr *h = reply;

	/* The check passed before it was counted: h->type is a request type. */
	if (h->error < 0)
		d->req_errors[h->type]++;
	txcd_conn_send(d, c, reply, len);
}

static void reply_error(struct txcd *d, struct txcd_conn *c, const struct txc_msg_hdr *req,
			int errnum, const struct txc_rep_error *err)
{
	struct txcd_error_reply rep = { .e = *err };

	txcd_reply_hdr(&rep.h, req, errnum, sizeof(rep));
	txdp_log(TXDP_LOG_DEBUG, "client %u: refused: %s\n", c->id, err->message);
	txcd_conn_send(d, c, &rep, sizeof(rep));
}

/*
 * The descriptors a request carries: the first is kept in @fd, the others
 * closed; how many there were is for the request check to judge.
 */
static int take_fd(struct msghdr *mh, struct txc_rep_error *err, int *fd,
		   unsigned int *n_fds)
{
	struct cmsghdr *cm;

	*fd = -1;
	*n_fds = 0;
	for (cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		int *fds = (int *)CMSG_DATA(cm);
		size_t n;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++, (*n_fds)++) {
			if (*fd < 0)
				*fd = fds[i];
			else
				close(fds[i]);
		}
	}
	if (mh->msg_flags & MSG_CTRUNC)
		return txcd_error(err, -EINVAL, TXC_FIELD_NONE,
				  "too many file descriptors passed: a request takes at most one");
	return 0;
}

/*
 * recvmsg() returns 0 both for an empty packet and at the end of the
 * stream; only the latter comes with the peer's shutdown.  An empty packet
 * is a malformed request and is answered like one.
 */
static bool peer_gone(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLRDHUP };

	if (poll(&p, 1, 0) < 0)
		return true;
	return p.revents & (POLLRDHUP | POLLHUP | POLLERR);
}

/* Receive and answer one request; false when there is nothing more to read. */
static bool conn_serve_one(struct txcd *d, struct txcd_conn *c, __u8 *buf, __u8 *reply)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * 4)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = buf, .iov_len = TXC_MSG_MAX };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf),
	};
	struct txc_rep_error err;
	struct txc_msg_hdr h;
	unsigned int n_fds;
	ssize_t n;
	size_t len;
	int fd, ret;

	n = recvmsg(c->fd, &mh, MSG_DONTWAIT | MSG_TRUNC | MSG_CMSG_CLOEXEC);
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			c->dead = true;
		return false;
	}
	if (n == 0 && peer_gone(c->fd)) {
		c->dead = true;
		return false;
	}
	len = (size_t)n;
	ret = take_fd(&mh, &err, &fd, &n_fds);
	/* A header we can echo lets the client match the error to its request. */
	memset(&h, 0, sizeof(h));
	if (len >= sizeof(h))
		memcpy(&h, buf, sizeof(h));
	if (!ret && (mh.msg_flags & MSG_TRUNC))
		ret = txcd_error(&err, -EMSGSIZE, TXC_FIELD_NONE,
				 "message of %zu bytes is longer than the %u-byte maximum", len,
				 TXC_MSG_MAX);
	if (!ret)
		ret = txcd_check_request(buf, len, n_fds, &err);
	if (ret) {
		if (fd >= 0)
			close(fd);
		/* Refused before dispatch: counted as type 0, whatever it claims. */
		d->req_count[0]++;
		d->req_errors[0]++;
		reply_error(d, c, len >= sizeof(h) ? &h : NULL, ret, &err);
		return true;
	}
	len = txcd_handle(d, c, buf, fd, reply);
	/* The check passed: h.type is a known request type. */
	d->req_count[h.type]++;
	if (!len) {
		/* Parked: nothing more is read until it is answered. */
		txcd_conn_interest(d, c);
		return false;
	}
	send_answer(d, c, reply, len);
	return true;
}

static void conn_resume(struct txcd *d, struct txcd_conn *c)
{
	static __u8 reply[TXC_MSG_MAX] __attribute__((aligned(8)));
	size_t len;

	c->resumed = true;
	len = txcd_handle(d, c, c->parked_req, -1, reply);
	c->resumed = false;

	if (len)
		send_answer(d, c, reply, len);
	txcd_conn_interest(d, c);
}

static void conn_park_failed(struct txcd *d, struct txcd_conn *c, int err)
{
	const struct txc_msg_hdr *h = (const void *)c->parked_req;
	struct txc_rep_error e;

	txcd_error(&e, err, TXC_FIELD_NONE, "opening a source: creating its ring buffer "
		   "failed: %s", strerror(-err));
	d->req_errors[h->type]++;
	reply_error(d, c, h, err, &e);
	txcd_conn_interest(d, c);
}

/* How the layers below answer a parked request: only through these. */
const struct txcd_park_ops txcd_server_park_ops = {
	.resume = conn_resume,
	.failed = conn_park_failed,
};

void txcd_conn_event(struct txcd *d, __u32 conn_id, __u32 events)
{
	/* Requests and replies are read and written in place as their structs. */
	static __u8 buf[TXC_MSG_MAX] __attribute__((aligned(8)));
	static __u8 reply[TXC_MSG_MAX] __attribute__((aligned(8)));
	struct txcd_conn *c = txcd_conn_find(d, conn_id);

	if (!c || c->dead)
		return;
	if (events & (EPOLLHUP | EPOLLERR) && !(events & EPOLLIN)) {
		c->dead = true;
		return;
	}
	if (events & EPOLLOUT)
		txcd_conn_send_queued(c);
	for (int i = 0; i < CONN_REQUESTS_PER_TURN && !c->dead && !c->out_head && !c->parked;
	     i++)
		if (!conn_serve_one(d, c, buf, reply))
			break;
	if (!c->dead)
		txcd_deliver(d, c);
	txcd_conn_interest(d, c);
}
