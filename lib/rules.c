/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Tags (NDIS_SET_NET_BUFFER_LIST_CANCEL_ID), cancels
 * (NdisCancelSendNetBufferLists), clears and per-ID counters.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "internal.h"

/* TAG_ADD; @fd is the socket of a TXC_TAG_SOCKET tag, else -1. */
static int tag_add(struct txc_client *c, __u8 kind, const union txc_tag_key *key,
		   __u32 cancel_id, __u32 source, int fd, __u64 *cookie)
{
	struct txc_req_tag req;
	struct txc_rep_tag got;
	int err = txcl_enter(c);

	if (!err)
		err = txcl_make_tag(c->err, &req, true, kind, key, cancel_id, source);
	if (!err)
		err = txcl_call_head(c, TXC_MSG_TAG_ADD, &req, sizeof(req), fd, &got, sizeof(got));
	if (err)
		return err;
	if (cookie)
		*cookie = got.key;
	return 0;
}

/* Remember which socket @fd is, for an untag by cookie (best effort: memory). */
static void remember_tagged(struct txc_client *c, int fd, __u64 cookie)
{
	if ((size_t)fd >= c->n_tagged) {
		size_t n = (size_t)fd + 16;
		__u64 *t = realloc(c->tagged, n * sizeof(*t));

		if (!t)
			return;
		memset(t + c->n_tagged, 0, (n - c->n_tagged) * sizeof(*t));
		c->tagged = t;
		c->n_tagged = n;
	}
	c->tagged[fd] = cookie;
}

/* The fd of the socket with @cookie among those tagged here and still open, or -1. */
static int tagged_fd(struct txc_client *c, __u64 cookie)
{
	for (size_t fd = 0; fd < c->n_tagged; fd++) {
		__u64 now = 0;
		socklen_t len = sizeof(now);

		if (c->tagged[fd] != cookie)
			continue;
		/* The fd may have been closed and reused since: ask the socket. */
		if (!getsockopt((int)fd, SOL_SOCKET, SO_COOKIE, &now, &len) && now == cookie)
			return (int)fd;
		c->tagged[fd] = 0;
	}
	return -1;
}

int txc_tag_socket(struct txc_client *client, int sock_fd, __u32 cancel_id, __u32 source,
		   __u64 *cookie)
{
	/* The daemon learns the cookie from the socket itself: the key stays 0. */
	union txc_tag_key key = { 0 };
	__u64 got;
	int err;

	err = txcl_enter(client);
	if (err)
		return err;
	if (sock_fd < 0)
		return txcl_fail(client->err, -EBADF, "txc_tag_socket: %d is not a file "
				 "descriptor", sock_fd);
	err = tag_add(client, TXC_TAG_SOCKET, &key, cancel_id, source, sock_fd, &got);
	if (err)
		return err;
	remember_tagged(client, sock_fd, got);
	if (cookie)
		*cookie = got;
	return 0;
}

int txc_untag_socket(struct txc_client *client, int sock_fd)
{
	union txc_tag_key key = { 0 };
	socklen_t len = sizeof(key.socket_cookie);
	struct txc_req_tag req;
	int err = txcl_enter(client);

	if (err)
		return err;
	if (sock_fd < 0)
		return txcl_fail(client->err, -EBADF, "txc_untag_socket: %d is not a file "
				 "descriptor", sock_fd);
	/* The cookie goes along: the daemon checks that it names the socket passed. */
	if (getsockopt(sock_fd, SOL_SOCKET, SO_COOKIE, &key.socket_cookie, &len))
		return txcl_fail(client->err, -errno, "txc_untag_socket: reading the cookie "
				 "of fd %d: %s", sock_fd, strerror(errno));
	err = txcl_make_tag(client->err, &req, false, TXC_TAG_SOCKET, &key, 0, 0);
	if (!err)
		err = txcl_call_head(client, TXC_MSG_TAG_DEL, &req, sizeof(req), sock_fd, NULL, 0);
	if (!err && (size_t)sock_fd < client->n_tagged)
		client->tagged[sock_fd] = 0;
	return err;
}

int txc_tag_mark(struct txc_client *client, __u32 mark, __u32 cancel_id, __u32 source)
{
	union txc_tag_key key = { .mark = mark };

	return tag_add(client, TXC_TAG_MARK, &key, cancel_id, source, -1, NULL);
}

int txc_tag_cgroup(struct txc_client *client, __u64 cgroup_id, __u32 cancel_id, __u32 source)
{
	union txc_tag_key key = { .cgroup_id = cgroup_id };

	return tag_add(client, TXC_TAG_CGROUP, &key, cancel_id, source, -1, NULL);
}

int txc_tag_flow(struct txc_client *client, const struct txc_flow_key *flow, __u32 cancel_id,
		 __u32 source)
{
	union txc_tag_key key;
	int err = txcl_enter_arg(client, __func__, "flow", flow);

	if (err)
		return err;
	memset(&key, 0, sizeof(key));
	key.flow = *flow;
	return tag_add(client, TXC_TAG_FLOW, &key, cancel_id, source, -1, NULL);
}

int txc_untag(struct txc_client *client, __u8 kind, const union txc_tag_key *key)
{
	struct txc_req_tag req;
	int err, fd = -1;

	err = txcl_enter(client);
	if (!err)
		err = txcl_make_tag(client->err, &req, false, kind, key, 0, 0);
	if (err)
		return err;
	/* The daemon reaches a socket's tag only through the socket. */
	if (kind == TXC_TAG_SOCKET) {
		fd = tagged_fd(client, key->socket_cookie);
		if (fd < 0)
			return txcl_fail(client->err, -ENOENT, "txc_untag: no open socket with "
					 "cookie %llu was tagged through this client; untag a "
					 "socket with txc_untag_socket() (its tag also ends when "
					 "it is closed)", (unsigned long long)key->socket_cookie);
	}
	err = txcl_call_head(client, TXC_MSG_TAG_DEL, &req, sizeof(req), fd, NULL, 0);
	if (!err && fd >= 0)
		client->tagged[fd] = 0;
	return err;
}

int txc_cancel(struct txc_client *client, __u8 scope, __u32 value, const char *ifname,
	       __u64 timeout_ns, __u64 *since_ns)
{
	struct txc_req_cancel req;
	struct txc_rep_cancel got;
	int err = txcl_enter(client);

	if (!err)
		err = txcl_make_cancel(client->err, &req, scope, value, ifname, timeout_ns);
	if (!err)
		err = txcl_call_head(client, TXC_MSG_CANCEL, &req, sizeof(req), -1, &got,
				     sizeof(got));
	if (err)
		return err;
	if (since_ns)
		*since_ns = got.since_ns;
	return 0;
}

int txc_cancel_send_net_buffer_lists(struct txc_client *client, __u32 cancel_id)
{
	return txc_cancel(client, TXC_SCOPE_ID, cancel_id, NULL, 0, NULL);
}

int txc_clear(struct txc_client *client, __u8 scope, __u32 value, struct txc_rep_clear *final)
{
	struct txc_req_clear req;
	int err = txcl_enter(client);

	if (!err)
		err = txcl_make_clear(client->err, &req, scope, value);
	return err ?: txcl_call_head(client, TXC_MSG_CLEAR, &req, sizeof(req), -1, final,
				     sizeof(*final));
}

int txc_count_id(struct txc_client *client, __u32 cancel_id, int enable)
{
	struct txc_req_count_id req = { .cancel_id = cancel_id, .enable = !!enable };
	int err = txcl_enter(client);

	if (!err)
		err = txcl_check_id(client->err, cancel_id);
	return err ?: txcl_call_head(client, TXC_MSG_COUNT_ID, &req, sizeof(req), -1, NULL, 0);
}
