// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The listening socket and the client connections' lives: claiming the
 * socket path, accepting with the peer's identity and limits, closing.
 * Serving a connection's requests is server_conn.c's; sending without ever
 * blocking, conn.c's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include "server.h"
#include "conn.h"
#include "lease_actions.h"

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

		txdp_log(TXDP_LOG_ERROR, "creating the socket directory %s: %s\n", dir,
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
		txdp_log(TXDP_LOG_ERROR, "%s: another txcanceld is serving this socket; stop it "
			"or choose another path with --socket\n", sun->sun_path);
		return -EADDRINUSE;
	}
	if (unlink(sun->sun_path) && errno != ENOENT) {
		int err = -errno;

		txdp_log(TXDP_LOG_ERROR, "removing the stale socket %s: %s\n", sun->sun_path,
			strerror(errno));
		return err;
	}
	return 0;
}

static int socket_addr(const char *path, struct sockaddr_un *sun)
{
	if (strlen(path) >= sizeof(sun->sun_path)) {
		txdp_log(TXDP_LOG_ERROR, "socket path %s is longer than %zu bytes\n", path,
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
		txdp_log(TXDP_LOG_ERROR, "serving: %s %s: %s\n", step, path, strerror(errno));
		close(fd);
		unlink(path);
		return err;
	}
	d->listen_fd = fd;
	d->park = &txcd_server_park_ops;
	txdp_log(TXDP_LOG_INFO, "serving on %s (mode %04o)\n", path, d->opts.socket_mode);
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
	struct txcd_error_reply rep = { .e = { .field = TXC_FIELD_NONE } };
	va_list ap;

	txcd_reply_hdr(&rep.h, NULL, errnum, sizeof(rep));
	va_start(ap, fmt);
	vsnprintf(rep.e.message, sizeof(rep.e.message), fmt, ap);
	va_end(ap);
	/* A flood of connections must not become a flood of log lines. */
	if (now - logged_ns >= 1000000000ull) {
		if (unlogged)
			txdp_log(TXDP_LOG_WARN, "%u more connections refused\n", unlogged);
		txdp_log(TXDP_LOG_WARN, "connection refused: %s\n", rep.e.message);
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
	txdp_log(TXDP_LOG_WARN, "accept: %s: not accepting connections for a second "
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
				txdp_log(TXDP_LOG_WARN, "accept: %s\n", strerror(errno));
			if (errno != ECONNABORTED)
				return;
			continue;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len)) {
			txdp_log(TXDP_LOG_WARN, "SO_PEERCRED: %s\n", strerror(errno));
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
			txdp_log(TXDP_LOG_WARN, "epoll: %s\n", strerror(errno));
			free(c);
			close(fd);
			continue;
		}
		c->user->conns++;
		d->n_conns++;
		c->next = d->conns;
		d->conns = c;
		txdp_log(TXDP_LOG_DEBUG, "client %u: connected, uid %u pid %d%s\n", c->id, c->uid,
			c->pid, c->net_admin ? " (net admin)" : "");
	}
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
		txdp_log(TXDP_LOG_DEBUG, "client %u: closed\n", c->id);
		epoll_ctl(d->epfd, EPOLL_CTL_DEL, c->fd, NULL);
		conn_free(d, c);
	}
}
