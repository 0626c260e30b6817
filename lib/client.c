/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The connection: connect, hello, close. */
#define _GNU_SOURCE		/* secure_getenv */
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "internal.h"

static const char *socket_path(const char *path)
{
	const char *env;

	if (path)
		return path;
	/* A set-id program must not be pointed at another daemon by its caller. */
	env = secure_getenv("TXCANCEL_SOCKET");
	return env && *env ? env : TXC_SOCKET_PATH;
}

/* The socket is mode 0660: name the group that may use it, if we can see it. */
static void access_hint(const char *path, char *hint, size_t len)
{
	struct group gr, *found = NULL;
	char buf[1024];
	struct stat st;

	if (!stat(path, &st) && !getgrgid_r(st.st_gid, &gr, buf, sizeof(buf), &found) && found)
		snprintf(hint, len, " (run as root, or as a member of the socket's group '%s')",
			 gr.gr_name);
	else
		snprintf(hint, len, " (check the socket's group and permissions: run as root, or "
			 "as a member of its group)");
}

static void connect_hint(int err, const char *path, char *hint, size_t len)
{
	switch (err) {
	case -ENOENT:
	case -ECONNREFUSED:
		snprintf(hint, len, " (is txcanceld running?)");
		break;
	case -EACCES:
	case -EPERM:
		access_hint(path, hint, len);
		break;
	case -EAGAIN:
		snprintf(hint, len, " (txcanceld has too many connections waiting: try again)");
		break;
	case -EPROTOTYPE:
		snprintf(hint, len, " (not a txcanceld socket: it is not SOCK_SEQPACKET)");
		break;
	default:
		hint[0] = '\0';
	}
}

static int connect_socket(struct txc_client *c, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len = strlen(path);
	char hint[160];
	int err;

	if (!len)
		return txcl_fail(c->err, -EINVAL, "the txcanceld socket path is empty");
	if (len >= sizeof(sa.sun_path))
		return txcl_fail(c->err, -ENAMETOOLONG, "socket path '%s' is longer than the %zu "
				 "bytes a Unix socket address holds", path, sizeof(sa.sun_path) - 1);
	memcpy(sa.sun_path, path, len + 1);
	memcpy(c->path, path, len + 1);
	c->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		err = -errno;
		return txcl_fail(c->err, err, "cannot create a Unix socket: %s", strerror(-err));
	}
	if (!connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)))
		return 0;
	err = -errno;
	connect_hint(err, path, hint, sizeof(hint));
	return txcl_fail(c->err, err, "cannot connect to %s: %s%s", path, strerror(-err), hint);
}

static int say_hello(struct txc_client *c)
{
	struct txc_req_hello req = { .version = TXC_PROTO_VERSION };
	struct txcl_reply rep;
	char why[TXCL_ERR_MAX];
	int err;

	err = txcl_call(c, TXC_MSG_HELLO, &req, sizeof(req), -1, &rep);
	if (!err) {
		memcpy(&c->hello, rep.body, sizeof(c->hello));
		if (c->hello.version != TXC_PROTO_VERSION)
			err = txcl_version_mismatch(c, c->hello.version);
	}
	if (err) {
		memcpy(why, c->err, sizeof(why));
		txcl_fail(c->err, err, "hello to txcanceld at %s failed: %s", c->path, why);
	}
	return err;
}

int txc_client_open(struct txc_client **client, const char *path)
{
	struct txc_client *c;
	int err;

	if (!client)
		return txcl_fail(txcl_tls_err(), -EINVAL, "txc_client_open: client is NULL");
	*client = NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return txcl_fail(txcl_tls_err(), -ENOMEM, "out of memory for a txcanceld client");
	c->fd = -1;
	c->rx = malloc(TXC_MSG_MAX);
	if (!c->rx)
		err = txcl_fail(c->err, -ENOMEM, "out of memory for a txcanceld client");
	else
		err = connect_socket(c, socket_path(path));
	if (!err)
		err = say_hello(c);
	if (err) {
		memcpy(txcl_tls_err(), c->err, TXCL_ERR_MAX);
		txc_client_close(c);
		return err;
	}
	*client = c;
	return 0;
}

int txc_client_reconnect(struct txc_client *client)
{
	char path[sizeof(client->path)];
	int err;

	if (!client)
		return txcl_fail(txcl_tls_err(), -EINVAL, "txc_client_reconnect: client is NULL");
	memcpy(path, client->path, sizeof(path));
	if (client->fd >= 0)
		close(client->fd);
	client->fd = -1;
	client->broken = 0;
	/* Their replies would have come on the old connection: unknown now. */
	client->async_head = client->async_n = 0;
	err = connect_socket(client, path);
	if (!err)
		err = say_hello(client);
	if (err) {
		/* Unusable until a reconnect succeeds; the accounts stay. */
		if (client->fd >= 0)
			close(client->fd);
		client->fd = -1;
		return txcl_break(client, err);
	}
	txcl_completions_reconnected(client);
	return 0;
}

void txc_client_close(struct txc_client *client)
{
	if (!client)
		return;
	if (client->fd >= 0)
		close(client->fd);
	txcl_completions_free(client);
	free(client->tagged);
	free(client->rx);
	free(client);
}

int txc_client_fd(const struct txc_client *client)
{
	return client ? client->fd : -EINVAL;
}

const struct txc_rep_hello *txc_client_hello(const struct txc_client *client)
{
	return client ? &client->hello : NULL;
}
