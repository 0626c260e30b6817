// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * A hand-made client of txcanceld's socket for the protocol tests; see
 * proto_peer.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "daemon_fixture.h"
#include "proto_peer.h"
#include "testlib.h"

static __u32 next_seq = 0x1000;

size_t msg_make(struct msg *m, __u8 type, const void *body, size_t len)
{
	memset(&m->h, 0, sizeof(m->h));
	m->h = (struct txc_msg_hdr){
		.magic = TXC_PROTO_MAGIC,
		.version = TXC_PROTO_VERSION,
		.type = type,
		.length = HDR + len,
		.seq = ++next_seq,
	};
	if (len)
		memcpy(m->body, body, len);
	return HDR + len;
}

int peer_open_path(struct peer *p, const char *path)
{
	int fd = txct_api_connect(path, 0);

	memset(p, 0, sizeof(*p));
	p->fd = fd < 0 ? -1 : fd;
	return fd < 0 ? fd : 0;
}

void peer_close(struct peer *p)
{
	if (p->lib)
		txc_client_close(p->lib);
	else if (p->fd >= 0)
		close(p->fd);
	p->lib = NULL;
	p->fd = -1;
}

int raw_send(int fd, const void *buf, size_t len, const int *fds, int n_fds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * 8)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (n_fds > 0) {
		struct cmsghdr *cm;

		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * n_fds);
	}
	return sendmsg(fd, &mh, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -errno;
}

int raw_recv_timeout(int fd, struct reply *r, int timeout_ms)
{
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n = poll(&pfd, 1, timeout_ms);

		if (n == 0)
			return -ETIMEDOUT;
		if (n < 0)
			return -errno;
		n = recv(fd, r, sizeof(*r), 0);
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ECONNRESET;
		if ((size_t)n >= HDR && r->h.flags == TXC_MSG_F_EVENT)
			continue;
		return n;
	}
}

int raw_recv(int fd, struct reply *r)
{
	return raw_recv_timeout(fd, r, 5000);
}

int peer_send(struct peer *p, const void *m, size_t len, const int *fds, int n_fds,
	      struct reply *r)
{
	int err;

	memset(r, 0, HDR + sizeof(struct txc_rep_batch));
	if (p->lib) {
		if (n_fds > 1)
			return -EINVAL;
		return txc_request_raw(p->lib, m, len, n_fds ? fds[0] : -1, r, sizeof(*r));
	}
	err = raw_send(p->fd, m, len, fds, n_fds);
	return err ? err : raw_recv(p->fd, r);
}

int peer_call(struct peer *p, __u8 type, const void *body, size_t len, int fd,
	      struct reply *r)
{
	static struct msg req;
	size_t n = msg_make(&req, type, body, len);

	return peer_send(p, &req, n, &fd, fd >= 0, r);
}

int peer_greet(struct peer *p)
{
	static struct reply r;
	struct txc_req_hello h = { .version = TXC_PROTO_VERSION };
	int n = peer_call(p, TXC_MSG_HELLO, &h, sizeof(h), -1, &r);

	if (n < 0)
		return n;
	if ((size_t)n < HDR + sizeof(r.hello) || r.h.error)
		return r.h.error ? r.h.error : -EPROTO;
	p->conn_id = r.hello.conn_id;
	p->uid = r.hello.uid;
	return 0;
}

struct hand_over {
	const char *path;
	int up;
};

/* In the child, as the user: connect, make sure the daemon accepted, send the socket up. */
static int connect_and_hand_over(void *arg)
{
	const struct hand_over *h = arg;
	struct peer p;

	if (peer_open_path(&p, h->path))
		return 10;
	/* The reply proves the daemon accepted (and read our capabilities) before we exit. */
	if (peer_greet(&p) || p.uid != getuid())
		return 11;
	return raw_send(h->up, "c", 1, &p.fd, 1) ? 12 : 0;
}

int peer_open_as(struct peer *p, const char *path, uid_t uid, bool net_admin)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	char c;
	struct iovec iov = { .iov_base = &c, .iov_len = 1 };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf),
	};
	struct hand_over h = { .path = path };
	struct cmsghdr *cm;
	int sv[2], ret;

	memset(p, 0, sizeof(*p));
	p->fd = -1;
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv))
		return -errno;
	h.up = sv[1];
	ret = txct_run_as(uid, uid, net_admin, connect_and_hand_over, &h);
	if (ret) {
		printf("    connecting as uid %u: child returned %d\n", uid, ret);
		close(sv[0]);
		close(sv[1]);
		return -EIO;
	}
	ret = recvmsg(sv[0], &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC) == 1 ? 0 : -EIO;
	cm = CMSG_FIRSTHDR(&mh);
	if (!ret && cm && cm->cmsg_type == SCM_RIGHTS)
		memcpy(&p->fd, CMSG_DATA(cm), sizeof(int));
	close(sv[0]);
	close(sv[1]);
	if (p->fd < 0)
		return -EIO;
	ret = peer_greet(p);
	if (ret)
		peer_close(p);
	return ret;
}

/* --- checking replies ----------------------------------------------------- */

const char *reply_error_text(struct reply *r)
{
	struct txc_rep_error *e = &r->err;

	if (r->h.type == TXC_MSG_BATCH && r->h.length == HDR + sizeof(struct txc_rep_batch))
		e = &r->batch.error;
	e->message[sizeof(e->message) - 1] = '\0';
	return e->message;
}

__u32 reply_error_field(const struct reply *r)
{
	if (r->h.type == TXC_MSG_BATCH && r->h.length == HDR + sizeof(struct txc_rep_batch))
		return r->batch.error.field;
	return r->err.field;
}

bool reply_ok_at(const char *file, int line, int n, struct reply *r, const char *what)
{
	if (n < 0) {
		test_fail(file, line, "%s: no reply: %s", what, strerror(-n));
		return false;
	}
	if ((size_t)n < HDR || !(r->h.flags & TXC_MSG_F_REPLY)) {
		test_fail(file, line, "%s: a %d-byte message that is no reply", what, n);
		return false;
	}
	if (r->h.error) {
		test_fail(file, line, "%s: refused with %d (%s): %s", what, r->h.error,
			  strerror(-r->h.error), reply_error_text(r));
		return false;
	}
	return true;
}

bool reply_err_at(const char *file, int line, int n, struct reply *r, int errnum,
		  const char *word, __u32 field, const char *what)
{
	const char *text;
	bool ok = true;

	if (n < 0) {
		test_fail(file, line, "%s: no reply: %s", what, strerror(-n));
		return false;
	}
	if ((size_t)n < HDR + sizeof(struct txc_rep_error)) {
		test_fail(file, line, "%s: a %d-byte reply (error %d), too short for an error "
			  "reply", what, n, (size_t)n >= HDR ? r->h.error : 0);
		return false;
	}
	text = reply_error_text(r);
	if (r->h.error != errnum) {
		test_fail(file, line, "%s: error %d (%s), expected %d (%s); text: \"%s\"", what,
			  r->h.error, strerror(-r->h.error), errnum, strerror(-errnum), text);
		ok = false;
	}
	if (r->h.flags != TXC_MSG_F_REPLY) {
		test_fail(file, line, "%s: flags 0x%x, expected REPLY", what, r->h.flags);
		ok = false;
	}
	if (word && !strcasestr(text, word)) {
		test_fail(file, line, "%s: error text \"%s\" does not say \"%s\"", what, text,
			  word);
		ok = false;
	}
	if (field != FIELD_ANY && reply_error_field(r) != field) {
		test_fail(file, line, "%s: refused field at offset %u, expected %u (\"%s\")",
			  what, reply_error_field(r), field, text);
		ok = false;
	}
	return ok;
}
