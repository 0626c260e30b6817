// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The listening socket and the client connections: accept, peer identity,
 * receiving and validating requests, sending replies without ever blocking.
 *
 * Back-pressure: a connection whose replies could not all be sent is not
 * read from until they are, so a client that sends faster than it reads
 * costs the daemon at most one pending reply, and nobody else waits.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include "server.h"
#include "conn.h"
#include "requests.h"

#define CONN_REQUESTS_PER_TURN	64	/* fairness between busy clients */
#define ACCEPTS_PER_TURN	32	/* a connection flood waits its turn like a request */
/* Socket room for replies and events, on top of --backlog records of completions. */
#define CONN_SNDBUF_BASE	(4 * TXC_MSG_MAX)
#define CAP_NET_ADMIN_BIT	12

static int mkdir_parent(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0755) && errno != EEXIST) {
		int err = -errno;

		txc_log(TXC_LOG_ERROR, "creating the socket directory %s: %s\n", dir,
			strerror(errno));
		return err;
	}
	return 0;
}

/* A socket file left by a daemon that died is removed; a live one is not. */
static int claim_socket_path(const struct sockaddr_un *sun)
{
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	int live;

	if (fd < 0)
		return -errno;
	live = !connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	close(fd);
	if (live) {
		txc_log(TXC_LOG_ERROR, "%s: another txcanceld is serving this socket; stop it "
			"or choose another path with --socket\n", sun->sun_path);
		return -EADDRINUSE;
	}
	if (unlink(sun->sun_path) && errno != ENOENT) {
		int err = -errno;

		txc_log(TXC_LOG_ERROR, "removing the stale socket %s: %s\n", sun->sun_path,
			strerror(errno));
		return err;
	}
	return 0;
}

static int socket_addr(const char *path, struct sockaddr_un *sun)
{
	if (strlen(path) >= sizeof(sun->sun_path)) {
		txc_log(TXC_LOG_ERROR, "socket path %s is longer than %zu bytes\n", path,
			sizeof(sun->sun_path) - 1);
		return -ENAMETOOLONG;
	}
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	strcpy(sun->sun_path, path);
	return 0;
}

int txcd_server_claim(struct txcd *d)
{
	struct sockaddr_un sun;
	int err = socket_addr(d->opts.socket_path, &sun);

	if (!err)
		err = mkdir_parent(d->opts.socket_path);
	if (!err)
		err = claim_socket_path(&sun);
	return err;
}

static const struct txcd_park_ops park_ops;

int txcd_server_open(struct txcd *d)
{
	struct sockaddr_un sun;
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = TXCD_EV(TXCD_FD_LISTEN, 0) };
	const char *path = d->opts.socket_path;
	const char *step = NULL;
	int fd, err;

	err = socket_addr(path, &sun);
	if (err)
		return err;

	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)))
		step = "binding";
	else if (chmod(path, d->opts.socket_mode))
		step = "setting the mode of";
	else if (d->opts.socket_gid != (gid_t)-1 && chown(path, (uid_t)-1, d->opts.socket_gid))
		/* Root too needs CAP_CHOWN to give a file a group it is not in. */
		step = errno == EPERM ? "changing the group (--socket-group needs CAP_CHOWN) of" :
		       "changing the group of";
	else if (listen(fd, SOMAXCONN) || epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev))
		step = "listening on";
	if (step) {
		err = -errno;
		txc_log(TXC_LOG_ERROR, "serving: %s %s: %s\n", step, path, strerror(errno));
		close(fd);
		unlink(path);
		return err;
	}
	d->listen_fd = fd;
	d->park = &park_ops;
	txc_log(TXC_LOG_INFO, "serving on %s (mode %04o)\n", path, d->opts.socket_mode);
	return 0;
}

static void conn_free(struct txcd *d, struct txcd_conn *c)
{
	txcd_ringpool_forget(d, c);
	txcd_retry_forget(d, c);
	txcd_subs_drop_conn(d, c);
	txcd_leases_drop_conn(d, c);
	txcd_conn_free_queue(c);
	if (c->user)
		c->user->conns--;
	d->n_conns--;
	close(c->fd);
	free(c);
}

void txcd_server_close(struct txcd *d)
{
	while (d->conns) {
		struct txcd_conn *c = d->conns;

		d->conns = c->next;
		conn_free(d, c);
	}
	if (d->retry_fd >= 0)
		close(d->retry_fd);
	d->retry_fd = -1;
	if (d->listen_fd >= 0) {
		close(d->listen_fd);
		unlink(d->opts.socket_path);
		d->listen_fd = -1;
	}
}

/*
 * Tagging by mark, cgroup or flow classifies traffic the client does not own,
 * which is what CAP_NET_ADMIN guards elsewhere (nftables, tc): the peer must
 * have it.  Read at connect time from the peer's effective set.  The peer
 * may have exited and its pid been reused by then: the process read must
 * still have the peer's effective uid, or another user's process could lend
 * its capabilities.
 */
static bool peer_has_net_admin(pid_t pid, uid_t uid)
{
	char path[64], line[256];
	bool ok = false, same_uid = false;
	FILE *f;

	if (uid == 0)
		return true;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long caps;
		unsigned int ruid, euid;

		/* "Uid:" comes before "CapEff:". */
		if (sscanf(line, "Uid: %u %u", &ruid, &euid) == 2)
			same_uid = euid == uid;
		if (sscanf(line, "CapEff: %llx", &caps) == 1) {
			ok = same_uid && (caps & (1ull << CAP_NET_ADMIN_BIT));
			break;
		}
	}
	fclose(f);
	return ok;
}

/*
 * A connection over a limit is told which one before it is closed: one
 * reply of type 0 and seq 0 (it has asked nothing yet), which the client
 * finds in its receive queue even after the close.
 */
static void refuse_conn(int fd, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void refuse_conn(int fd, int errnum, const char *fmt, ...)
{
	static __u64 logged_ns;
	static __u32 unlogged;
	__u64 now = txcd_now_ns();
	struct {
		struct txc_msg_hdr h;
		struct txc_rep_error e;
	} rep = {
		.h = {
			.magic = TXC_PROTO_MAGIC,
			.version = TXC_PROTO_VERSION,
			.flags = TXC_MSG_F_REPLY,
			.length = sizeof(rep),
			.error = errnum,
		},
		.e = { .field = TXC_FIELD_NONE },
	};
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rep.e.message, sizeof(rep.e.message), fmt, ap);
	va_end(ap);
	/* A flood of connections must not become a flood of log lines. */
	if (now - logged_ns >= 1000000000ull) {
		if (unlogged)
			txc_log(TXC_LOG_WARN, "%u more connections refused\n", unlogged);
		txc_log(TXC_LOG_WARN, "connection refused: %s\n", rep.e.message);
		logged_ns = now;
		unlogged = 0;
	} else {
		unlogged++;
	}
	/* A fresh socket's buffer is empty: this cannot block or be cut. */
	send(fd, &rep, sizeof(rep), MSG_DONTWAIT | MSG_NOSIGNAL);
	close(fd);
}

/*
 * Out of descriptors, the pending connection cannot be accepted and the
 * listener stays readable: stop listening until the next tick instead of
 * spinning on it.  Connections wait in the backlog meanwhile.
 */
static void pause_accept(struct txcd *d, int errnum)
{
	struct epoll_event ev = { .events = 0, .data.u64 = TXCD_EV(TXCD_FD_LISTEN, 0) };

	if (d->accept_paused)
		return;
	txc_log(TXC_LOG_WARN, "accept: %s: not accepting connections for a second "
		"(%u connections open; see --max-clients and ulimit -n)\n", strerror(errnum),
		d->n_conns);
	if (!epoll_ctl(d->epfd, EPOLL_CTL_MOD, d->listen_fd, &ev))
		d->accept_paused = true;
}

void txcd_server_resume(struct txcd *d)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = TXCD_EV(TXCD_FD_LISTEN, 0) };

	if (d->accept_paused && !epoll_ctl(d->epfd, EPOLL_CTL_MOD, d->listen_fd, &ev))
		d->accept_paused = false;
}

void txcd_server_accept(struct txcd *d)
{
	/* The listener stays readable: the rest are accepted on the next turns. */
	for (int turn = 0; turn < ACCEPTS_PER_TURN; turn++) {
		struct ucred cred;
		socklen_t len = sizeof(cred);
		struct epoll_event ev = { .events = EPOLLIN };
		struct txcd_user *user;
		struct txcd_conn *c;
		/*
		 * Completions wait in the client's socket and, once it is full,
		 * in their source's ring: the socket is a subscriber's backlog.
		 */
		int fd, sndbuf = CONN_SNDBUF_BASE +
				 d->opts.backlog * (int)sizeof(struct txc_abort_record);

		fd = accept4(d->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM)
				pause_accept(d, errno);
			else if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				txc_log(TXC_LOG_WARN, "accept: %s\n", strerror(errno));
			if (errno != ECONNABORTED)
				return;
			continue;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len)) {
			txc_log(TXC_LOG_WARN, "SO_PEERCRED: %s\n", strerror(errno));
			close(fd);
			continue;
		}
		if (d->n_conns >= d->opts.max_clients) {
			refuse_conn(fd, -EUSERS, "uid %u (pid %d): txcanceld serves %u connections, "
				    "its limit (--max-clients)", cred.uid, cred.pid, d->n_conns);
			continue;
		}
		user = txcd_user_get(d, cred.uid);
		if (!user) {
			refuse_conn(fd, -ENOMEM, "uid %u: out of memory", cred.uid);
			continue;
		}
		if (cred.uid != 0 && user->conns >= d->opts.max_conns) {
			refuse_conn(fd, -EDQUOT, "uid %u (pid %d) has %u connections, the per-user "
				    "limit (--max-conns)", cred.uid, cred.pid, user->conns);
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (!c) {
			refuse_conn(fd, -ENOMEM, "uid %u: out of memory", cred.uid);
			continue;
		}
		c->user = user;
		setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf));
		c->fd = fd;
		c->want_in = true;	/* the interest set it is added with below */
		c->id = ++d->next_conn_id;
		c->uid = cred.uid;
		c->pid = cred.pid;
		c->net_admin = peer_has_net_admin(cred.pid, cred.uid);
		ev.data.u64 = TXCD_EV(TXCD_FD_CONN, c->id);
		if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev)) {
			txc_log(TXC_LOG_WARN, "epoll: %s\n", strerror(errno));
			free(c);
			close(fd);
			continue;
		}
		c->user->conns++;
		d->n_conns++;
		c->next = d->conns;
		d->conns = c;
		txc_log(TXC_LOG_DEBUG, "client %u: connected, uid %u pid %d%s\n", c->id, c->uid,
			c->pid, c->net_admin ? " (net admin)" : "");
	}
}

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
	struct {
		struct txc_msg_hdr h;
		struct txc_rep_error e;
	} rep = {
		.h = {
			.magic = TXC_PROTO_MAGIC,
			.version = TXC_PROTO_VERSION,
			.type = req ? req->type : 0,
			.flags = TXC_MSG_F_REPLY,
			.length = sizeof(rep),
			.seq = req ? req->seq : 0,
			.error = errnum,
		},
		.e = *err,
	};

	txc_log(TXC_LOG_DEBUG, "client %u: refused: %s\n", c->id, err->message);
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
	len = txcd_handle(d, c, buf, len, fd, reply);
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
	len = txcd_handle(d, c, c->parked_req, c->parked_len, -1, reply);
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
static const struct txcd_park_ops park_ops = {
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

void txcd_reap_dead(struct txcd *d)
{
	struct txcd_conn **pp = &d->conns;

	while (*pp) {
		struct txcd_conn *c = *pp;

		if (!c->dead) {
			pp = &c->next;
			continue;
		}
		*pp = c->next;
		txc_log(TXC_LOG_DEBUG, "client %u: closed\n", c->id);
		epoll_ctl(d->epfd, EPOLL_CTL_DEL, c->fd, NULL);
		conn_free(d, c);
	}
}
