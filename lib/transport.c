/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Requests and replies on the SEQPACKET socket: one message per packet, one
 * request in flight (or several asynchronous ones, async.c), events kept
 * aside while a reply is awaited.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "internal.h"

/*
 * A connection over one of the daemon's limits gets one reply of type 0 and
 * seq 0 naming the limit, and is closed: report that sentence and errno.
 */
static bool is_refusal(const struct txc_msg_hdr *h)
{
	return h->flags == TXC_MSG_F_REPLY && h->type == 0 && h->seq == 0 && h->error < 0;
}

static int refused(struct txc_client *c, int len)
{
	const struct txc_msg_hdr *h = (const void *)c->rx;
	char text[sizeof(((struct txc_rep_error *)0)->message) + 1];
	int err = h->error;

	text[0] = '\0';
	if ((size_t)len >= sizeof(*h) + sizeof(struct txc_rep_error))
		txcl_copy_text(text, ((const struct txc_rep_error *)(h + 1))->message,
			       sizeof(text) - 1);
	txcl_fail(c->err, err, "txcanceld refused the connection: %s",
		  text[0] ? text : strerror(-err));
	return txcl_break(c, err);
}

/* The daemon's last words, if it left a refusal before closing, else a plain close. */
static int closed(struct txc_client *c)
{
	const struct txc_msg_hdr *h = (const void *)c->rx;
	ssize_t n = recv(c->fd, c->rx, TXC_MSG_MAX, MSG_DONTWAIT);

	/* A request the daemon never read resets the connection: the refusal is behind that. */
	if (n < 0 && errno == ECONNRESET)
		n = recv(c->fd, c->rx, TXC_MSG_MAX, MSG_DONTWAIT);
	if (n >= (ssize_t)sizeof(*h) && !txcl_check_msg(c, c->rx, n) && is_refusal(h))
		return refused(c, n);
	txcl_fail(c->err, -ECONNRESET, "txcanceld closed the connection");
	return txcl_break(c, -ECONNRESET);
}

static __u32 next_seq(struct txc_client *c)
{
	/* Events carry seq 0: a request never does. */
	if (++c->seq == 0)
		c->seq = 1;
	return c->seq;
}

/*
 * Requests are synchronous even when the caller made the socket
 * non-blocking for its event loop: wait here instead of failing.
 */
static int block_until(struct txc_client *c, short events)
{
	struct pollfd p = { .fd = c->fd, .events = events };
	int err;

	while (poll(&p, 1, -1) < 0) {
		err = -errno;
		if (err != -EINTR)
			return txcl_fail(c->err, err, "cannot wait for txcanceld's socket: %s",
					 strerror(-err));
	}
	return 0;
}

union fd_cmsg {
	char buf[CMSG_SPACE(sizeof(int))];
	struct cmsghdr align;
};

static void attach_fd(struct msghdr *msg, union fd_cmsg *ctl, int fd)
{
	struct cmsghdr *cm;

	memset(ctl, 0, sizeof(*ctl));
	msg->msg_control = ctl->buf;
	msg->msg_controllen = sizeof(ctl->buf);
	cm = CMSG_FIRSTHDR(msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
}

/* Send @a and @b (either may be empty) as one packet, @fd attached if >= 0. */
static int send_packet(struct txc_client *c, const void *a, size_t a_len, const void *b,
		       size_t b_len, int fd)
{
	struct iovec iov[2] = {
		{ .iov_base = (void *)a, .iov_len = a_len },
		{ .iov_base = (void *)b, .iov_len = b_len },
	};
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = b_len ? 2 : 1 };
	union fd_cmsg ctl;
	ssize_t n;
	int err;

	if (fd >= 0)
		attach_fd(&msg, &ctl, fd);
	for (;;) {
		/* MSG_NOSIGNAL: a daemon that went away is an error, not a SIGPIPE. */
		n = sendmsg(c->fd, &msg, MSG_NOSIGNAL);
		if (n >= 0 || (errno != EINTR && errno != EAGAIN))
			break;
		if (errno == EAGAIN) {
			/* Nothing was sent yet: a failed wait leaves the stream in step. */
			err = block_until(c, POLLOUT);
			if (err)
				return err;
		}
	}
	if (n < 0) {
		err = -errno;
		if (err == -EPIPE || err == -ECONNRESET)
			return closed(c);
		/* Nothing was sent (EBADF for @fd, EMSGSIZE, ...): still in step. */
		if (err == -EBADF && fd >= 0)
			return txcl_fail(c->err, err, "cannot pass descriptor %d to txcanceld: %s",
					 fd, strerror(-err));
		return txcl_fail(c->err, err, "cannot send to txcanceld: %s", strerror(-err));
	}
	if ((size_t)n != a_len + b_len) {
		txcl_fail(c->err, -EIO, "txcanceld's socket took %zd of %zu bytes of one message",
			  n, a_len + b_len);
		return txcl_break(c, -EIO);
	}
	return 0;
}

int txcl_recv(struct txc_client *c, int flags)
{
	ssize_t n;
	int err;

	/* MSG_TRUNC: the real size of a packet too big for rx, not a cut copy. */
	do {
		n = recv(c->fd, c->rx, TXC_MSG_MAX, flags | MSG_TRUNC);
	} while (n < 0 && errno == EINTR);
	if (n == 0)
		return closed(c);
	if (n < 0) {
		err = -errno;
		if (err == -EAGAIN || err == -EWOULDBLOCK)
			return -EAGAIN;
		if (err == -ECONNRESET)
			return closed(c);
		txcl_fail(c->err, err, "cannot receive from txcanceld: %s", strerror(-err));
		return txcl_break(c, err);
	}
	if ((size_t)n > TXC_MSG_MAX) {
		txcl_fail(c->err, -EPROTO, "txcanceld sent a %zd-byte message, more than the "
			  "protocol's %u", n, TXC_MSG_MAX);
		return txcl_break(c, -EPROTO);
	}
	return (int)n;
}

/*
 * Receive until the reply to @seq of @type arrives; events on the way are
 * queued in order.  With @any, the first reply is taken: a raw request too
 * short to hold a header has no seq for the daemon to echo.  Returns the
 * reply's length; any failure leaves the connection broken, since the reply
 * may still be on its way and would answer the next request.
 */
static int wait_reply(struct txc_client *c, __u8 type, __u32 seq, bool any)
{
	const struct txc_msg_hdr *h = (const void *)c->rx;
	char t1[16], t2[16];
	int n, err;

	for (;;) {
		n = txcl_recv(c, 0);
		if (n == -EAGAIN) {
			err = block_until(c, POLLIN);
			if (err)
				return txcl_break(c, err);
			continue;
		}
		if (n < 0)
			return n;
		err = txcl_check_msg(c, c->rx, n);
		if (err)
			return txcl_break(c, err);
		if (h->flags == TXC_MSG_F_EVENT) {
			err = txcl_event_queue(c, c->rx);
			if (err)
				return txcl_break(c, err);
			continue;
		}
		/* With @any, type 0 seq 0 is the answer to a message too short for a header. */
		if (!any && is_refusal(h))
			return refused(c, n);
		if (any || (h->seq == seq && h->type == type))
			return n;
		txcl_fail(c->err, -EPROTO, "txcanceld answered seq %u (%s) while seq %u (%s) "
			  "waited", h->seq, txcl_type_name(h->type, t1, sizeof(t1)), seq,
			  txcl_type_name(type, t2, sizeof(t2)));
		return txcl_break(c, -EPROTO);
	}
}

/* The daemon's sentence of a failed reply, made safe to print. */
static void reply_text(struct txc_client *c, const struct txcl_reply *rep)
{
	const char *msg;
	char tmp[16];

	if (rep->len == sizeof(struct txc_rep_batch))
		msg = ((const struct txc_rep_batch *)rep->body)->error.message;
	else
		msg = ((const struct txc_rep_error *)rep->body)->message;
	txcl_copy_text(c->err, msg, sizeof(((struct txc_rep_error *)0)->message));
	if (!c->err[0])
		txcl_fail(c->err, rep->hdr->error, "txcanceld refused %s: %s",
			  txcl_type_name(rep->hdr->type, tmp, sizeof(tmp)),
			  strerror(-rep->hdr->error));
}

static void fill_reply(struct txc_client *c, int len, struct txcl_reply *rep)
{
	rep->hdr = (const void *)c->rx;
	rep->body = c->rx + sizeof(struct txc_msg_hdr);
	rep->len = len - sizeof(struct txc_msg_hdr);
}

int txcl_list_call(struct txc_client *c, const char *fn, __u8 type, const void *req,
		   size_t len, void *out, size_t max, size_t entry)
{
	struct txc_rep_list head;
	struct txcl_reply rep;
	size_t n;
	int err;

	if (!out && max)
		return txcl_fail(c->err, -EINVAL, "%s: out is NULL", fn);
	err = txcl_call(c, type, req, len, -1, &rep);
	if (err)
		return err;
	/* The reply was checked: exactly head.count entries follow. */
	memcpy(&head, rep.body, sizeof(head));
	n = head.count < max ? head.count : max;
	if (n)
		memcpy(out, (const __u8 *)rep.body + sizeof(head), n * entry);
	return (int)n;
}

/* A reply read while asynchronous requests wait would be one of theirs. */
static int async_idle(struct txc_client *c, const char *what)
{
	if (!c->async_n)
		return 0;
	return txcl_fail(c->err, -EBUSY, "%s: %u asynchronous requests are in flight; collect "
			 "their replies with txc_async_reply() first", what, c->async_n);
}

int txcl_send(struct txc_client *c, __u8 type, const void *body, size_t len, int fd,
	      __u32 *seq)
{
	struct txc_msg_hdr h = {
		.magic = TXC_PROTO_MAGIC,
		.version = TXC_PROTO_VERSION,
		.type = type,
		.length = sizeof(h) + len,
		.seq = next_seq(c),
	};

	*seq = h.seq;
	return send_packet(c, &h, sizeof(h), body, len, fd);
}

int txcl_wait(struct txc_client *c, __u8 type, __u32 seq, struct txcl_reply *rep)
{
	int n = wait_reply(c, type, seq, false);

	if (n < 0)
		return n;
	fill_reply(c, n, rep);
	if (rep->hdr->error < 0) {
		reply_text(c, rep);
		return rep->hdr->error;
	}
	return 0;
}

int txcl_call(struct txc_client *c, __u8 type, const void *body, size_t len, int fd,
	      struct txcl_reply *rep)
{
	__u32 seq;
	int err = async_idle(c, txcl_type_name(type, (char[16]){ 0 }, 16));

	if (!err)
		err = txcl_send(c, type, body, len, fd, &seq);
	return err ?: txcl_wait(c, type, seq, rep);
}

int txcl_call_head(struct txc_client *c, __u8 type, const void *body, size_t len, int fd,
		   void *out, size_t out_len)
{
	struct txcl_reply rep;
	int err = txcl_call(c, type, body, len, fd, &rep);

	/* The reply was checked against the type's reply head before this. */
	if (!err && out)
		memcpy(out, rep.body, out_len);
	return err;
}

int txc_request_raw(struct txc_client *client, const void *msg, size_t len, int fd,
		    void *reply, size_t reply_max)
{
	struct txc_msg_hdr h = { 0 };
	struct txcl_reply rep;
	int n, err;

	err = txcl_enter(client);
	if (err)
		return err;
	if ((!msg && len) || (!reply && reply_max))
		return txcl_fail(client->err, -EINVAL, "txc_request_raw: %s is NULL",
				 !msg && len ? "msg" : "reply");
	if (len >= sizeof(h))
		memcpy(&h, msg, sizeof(h));
	err = async_idle(client, "txc_request_raw");
	if (!err)
		err = send_packet(client, msg, len, NULL, 0, fd);
	if (err)
		return err;
	n = wait_reply(client, h.type, h.seq, len < sizeof(h));
	if (n < 0)
		return n;
	fill_reply(client, n, &rep);
	if (rep.hdr->error < 0)
		reply_text(client, &rep);
	if (reply_max)
		memcpy(reply, client->rx, (size_t)n < reply_max ? (size_t)n : reply_max);
	return n;
}
