// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Asynchronous cancels and clears: several single requests in flight on one
 * connection, their outcomes collected oldest first.
 *
 * The daemon answers a connection's requests in order, so the next reply is
 * always the oldest request's.  TXC_ASYNC_MAX keeps requests and replies
 * within the sockets' buffers: the daemon stops reading a connection whose
 * replies it cannot send, and a client that sent more than fits without
 * reading any reply would wait for the daemon forever.
 */
#include <errno.h>

#include "internal.h"

static int post(struct txc_client *c, __u8 type, const void *body, size_t len, __u32 *seq)
{
	__u32 s, slot;
	int err;

	if (c->async_n == TXC_ASYNC_MAX)
		return txcl_fail(c->err, -EBUSY, "%u requests in flight, the most there may be: "
				 "collect a reply with txc_async_reply() first", TXC_ASYNC_MAX);
	err = txcl_send(c, type, body, len, -1, &s);
	if (err)
		return err;
	slot = (c->async_head + c->async_n) % TXC_ASYNC_MAX;
	c->async[slot].seq = s;
	c->async[slot].type = type;
	c->async_n++;
	if (seq)
		*seq = s;
	return 0;
}

int txc_cancel_async(struct txc_client *client, __u8 scope, __u32 value, const char *ifname,
		     __u64 timeout_ns, __u32 *seq)
{
	struct txc_req_cancel req;
	int err;

	err = txcl_enter(client);
	if (!err)
		err = txcl_make_cancel(client->err, &req, scope, value, ifname, timeout_ns);
	return err ?: post(client, TXC_MSG_CANCEL, &req, sizeof(req), seq);
}

int txc_clear_async(struct txc_client *client, __u8 scope, __u32 value, __u32 *seq)
{
	struct txc_req_clear req;
	int err;

	err = txcl_enter(client);
	if (!err)
		err = txcl_make_clear(client->err, &req, scope, value);
	return err ?: post(client, TXC_MSG_CLEAR, &req, sizeof(req), seq);
}

int txc_async_reply(struct txc_client *client, __u32 *seq)
{
	struct txcl_reply rep;
	__u32 s;
	__u8 type;
	int err;

	err = txcl_enter(client);
	if (err)
		return err;
	if (!client->async_n)
		return txcl_fail(client->err, -ENOENT, "txc_async_reply: no asynchronous "
				 "request is in flight");
	s = client->async[client->async_head].seq;
	type = client->async[client->async_head].type;
	client->async_head = (client->async_head + 1) % TXC_ASYNC_MAX;
	client->async_n--;
	if (seq)
		*seq = s;
	return txcl_wait(client, type, s, &rep);
}

unsigned int txc_async_pending(const struct txc_client *client)
{
	return client ? client->async_n : 0;
}
