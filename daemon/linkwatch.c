/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Follow the links of one network namespace through rtnetlink (libmnl).
 *
 * Events can be lost: when the event socket's receive buffer is full the
 * kernel drops them and the next read fails with ENOBUFS.  The watcher then
 * reads every link again with an RTM_GETLINK dump on its second socket and
 * reports the result; because it remembers which links it has reported, a
 * link that vanished while events were lost is reported as deleted too.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>

#include "linkwatch.h"
#include "dp.h"

/*
 * Read buffer.  The kernel builds a dump's datagrams no larger than 32 KiB
 * (what the reader offered, capped), and a single link event is a few KiB.
 */
#define LW_BUF_SIZE		32768
/* A dump's replies are produced as they are read; this only guards a hang. */
#define LW_DUMP_TIMEOUT_S	5
/* A dump the kernel marked inconsistent is repeated this many times at most. */
#define LW_DUMP_TRIES		3
/* Bound on datagrams discarded before a dump, so a storm cannot stall it. */
#define LW_DRAIN_MAX		4096

/* A link the callback was told exists, kept to report it gone after a dump. */
struct lw_link {
	struct txc_link_event ev;	/* the last NEW reported */
	__u32 gen;			/* the last dump that listed it */
};

struct txc_linkwatch {
	struct mnl_socket *events;	/* RTNLGRP_LINK, non-blocking */
	struct mnl_socket *dumps;	/* RTM_GETLINK requests only */
	unsigned int dump_portid;
	unsigned int seq;
	txc_link_fn fn;
	void *ctx;
	int resync;			/* a recovery dump failed: retry it */
	__u32 gen;			/* the dump being read */
	struct lw_link *links;		/* sorted by ifindex */
	size_t nr_links, max_links;
	char *buf;
};

/* --- known links ---------------------------------------------------------- */

/* Index of @ifindex in lw->links, or where it would be inserted. */
static size_t link_pos(const struct txc_linkwatch *lw, __u32 ifindex)
{
	size_t lo = 0, hi = lw->nr_links;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (lw->links[mid].ev.ifindex < ifindex)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void link_remember(struct txc_linkwatch *lw, const struct txc_link_event *ev)
{
	size_t pos = link_pos(lw, ev->ifindex);

	if (pos == lw->nr_links || lw->links[pos].ev.ifindex != ev->ifindex) {
		if (lw->nr_links == lw->max_links) {
			size_t max = lw->max_links ? 2 * lw->max_links : 64;
			struct lw_link *links = realloc(lw->links, max * sizeof(*links));

			if (!links) {
				/* Only a later dump's DEL for this link is at stake. */
				txdp_log(TXDP_LOG_WARN, "link watch: no memory to remember %s "
					"(ifindex %u); its removal may go unreported after lost "
					"events\n", ev->name, ev->ifindex);
				return;
			}
			lw->links = links;
			lw->max_links = max;
		}
		memmove(&lw->links[pos + 1], &lw->links[pos],
			(lw->nr_links - pos) * sizeof(*lw->links));
		lw->nr_links++;
	}
	lw->links[pos].ev = *ev;
	lw->links[pos].gen = lw->gen;
}

static void link_forget(struct txc_linkwatch *lw, __u32 ifindex)
{
	size_t pos = link_pos(lw, ifindex);

	if (pos == lw->nr_links || lw->links[pos].ev.ifindex != ifindex)
		return;
	memmove(&lw->links[pos], &lw->links[pos + 1],
		(lw->nr_links - pos - 1) * sizeof(*lw->links));
	lw->nr_links--;
}

/* After a complete dump: whatever it did not list is gone. */
static void links_sweep(struct txc_linkwatch *lw)
{
	size_t i, kept = 0;

	for (i = 0; i < lw->nr_links; i++) {
		struct txc_link_event ev = lw->links[i].ev;

		if (lw->links[i].gen == lw->gen) {
			lw->links[kept++] = lw->links[i];
			continue;
		}
		ev.type = TXC_LINK_DEL;
		lw->fn(lw->ctx, &ev);
	}
	lw->nr_links = kept;
}

/* --- messages ------------------------------------------------------------- */

static int link_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **ifname = data;

	if (mnl_attr_get_type(attr) == IFLA_IFNAME)
		*ifname = attr;
	return MNL_CB_OK;
}

/*
 * Turn an RTM_NEWLINK/RTM_DELLINK into an event.  Returns 0, or -ENOENT
 * for a message that is not about a link of this namespace as a whole.
 */
static int link_parse(const struct nlmsghdr *nlh, struct txc_link_event *ev)
{
	const struct nlattr *ifname = NULL;
	const struct ifinfomsg *ifi;
	const char *name;
	size_t len;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifi))
		return -ENOENT;
	ifi = mnl_nlmsg_get_payload(nlh);
	/* AF_BRIDGE messages describe bridge ports; their DELLINK is "left the bridge". */
	if (ifi->ifi_family != AF_UNSPEC || ifi->ifi_index <= 0)
		return -ENOENT;
	if (mnl_attr_parse(nlh, sizeof(*ifi), link_attr_cb, &ifname) < 0 || !ifname ||
	    mnl_attr_validate(ifname, MNL_TYPE_NUL_STRING) < 0)
		return -ENOENT;
	name = mnl_attr_get_str(ifname);
	len = strnlen(name, IFNAMSIZ);
	if (!len || len == IFNAMSIZ)
		return -ENOENT;
	memset(ev, 0, sizeof(*ev));
	ev->type = nlh->nlmsg_type == RTM_DELLINK ? TXC_LINK_DEL : TXC_LINK_NEW;
	ev->ifindex = ifi->ifi_index;
	memcpy(ev->name, name, len);
	ev->flags = ifi->ifi_flags;
	return 0;
}

static void link_report(struct txc_linkwatch *lw, const struct nlmsghdr *nlh)
{
	struct txc_link_event ev;

	if (link_parse(nlh, &ev))
		return;
	if (ev.type == TXC_LINK_DEL)
		link_forget(lw, ev.ifindex);
	else
		link_remember(lw, &ev);
	lw->fn(lw->ctx, &ev);
}

/*
 * One datagram from @fd.  Returns its length, 0 for a datagram to ignore,
 * -EMSGSIZE if it did not fit @buf (the rest is lost) or -errno.
 */
static ssize_t nl_recv(int fd, void *buf, size_t len, int flags)
{
	struct sockaddr_nl addr;
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr msg = {
		.msg_name = &addr, .msg_namelen = sizeof(addr),
		.msg_iov = &iov, .msg_iovlen = 1,
	};
	ssize_t n;

	n = recvmsg(fd, &msg, flags);
	if (n < 0)
		return -errno;
	if (msg.msg_flags & MSG_TRUNC)
		return -EMSGSIZE;
	/*
	 * Link state comes from the kernel (port 0) only; another privileged
	 * process could unicast a forged RTM_DELLINK to our port.
	 */
	if (msg.msg_namelen != sizeof(addr) || addr.nl_family != AF_NETLINK || addr.nl_pid)
		return 0;
	return n;
}

/* --- dumps ---------------------------------------------------------------- */

/* Throw away what is queued on @fd (stale dump replies or superseded events). */
static void nl_drain(struct txc_linkwatch *lw, int fd)
{
	int i;

	for (i = 0; i < LW_DRAIN_MAX; i++) {
		ssize_t n = nl_recv(fd, lw->buf, LW_BUF_SIZE, MSG_DONTWAIT);

		if (n < 0 && n != -ENOBUFS && n != -EMSGSIZE && n != -EINTR)
			break;
	}
}

/*
 * One RTM_GETLINK dump: report every link as NEW and mark it with lw->gen.
 * *@intr tells whether the kernel flagged the dump as inconsistent (links
 * changed while it ran), in which case it may have missed one.
 */
static int dump_once(struct txc_linkwatch *lw, int *intr)
{
	int fd = mnl_socket_get_fd(lw->dumps);
	struct ifinfomsg *ifi;
	struct nlmsghdr *nlh;
	unsigned int seq;
	int len, err;

	*intr = 0;
	/* A dump abandoned half-read would make the kernel refuse the next one. */
	nl_drain(lw, fd);

	nlh = mnl_nlmsg_put_header(lw->buf);
	nlh->nlmsg_type = RTM_GETLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq = ++lw->seq;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	if (mnl_socket_sendto(lw->dumps, nlh, nlh->nlmsg_len) < 0) {
		err = -errno;
		txdp_log(TXDP_LOG_ERROR, "link watch: sending the link dump request: %s\n",
			strerror(errno));
		return err;
	}

	for (;;) {
		ssize_t n = nl_recv(fd, lw->buf, LW_BUF_SIZE, 0);

		if (n == -EINTR)
			continue;
		if (n < 0) {
			if (n == -EAGAIN || n == -EWOULDBLOCK)
				n = -ETIMEDOUT;
			txdp_log(TXDP_LOG_ERROR, "link watch: reading the link dump: %s\n",
				n == -ETIMEDOUT ? "the kernel did not answer in time" :
				strerror(-n));
			return n;
		}
		len = n;
		for (nlh = (struct nlmsghdr *)lw->buf; mnl_nlmsg_ok(nlh, len);
		     nlh = mnl_nlmsg_next(nlh, &len)) {
			/* Replies to an earlier request that was not read to the end. */
			if (!mnl_nlmsg_portid_ok(nlh, lw->dump_portid) ||
			    nlh->nlmsg_seq != seq)
				continue;
			if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
				*intr = 1;
			switch (nlh->nlmsg_type) {
			case RTM_NEWLINK:
				link_report(lw, nlh);
				break;
			case NLMSG_DONE:
				/* A dump that failed part-way ends with DONE carrying the error. */
				err = 0;
				if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(err))
					memcpy(&err, mnl_nlmsg_get_payload(nlh), sizeof(err));
				if (err < 0)
					txdp_log(TXDP_LOG_ERROR, "link watch: the kernel ended the "
						"link dump with an error: %s\n", strerror(-err));
				return err < 0 ? err : 0;
			case NLMSG_ERROR: {
				const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

				if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*e))
					err = -EBADMSG;
				else
					err = e->error < 0 ? e->error : -EPROTO;
				txdp_log(TXDP_LOG_ERROR, "link watch: the kernel refused the link "
					"dump: %s\n", strerror(-err));
				return err;
			}
			default:
				break;
			}
		}
	}
}

int txc_linkwatch_dump(struct txc_linkwatch *lw)
{
	int tries, intr, err;

	/* Everything queued so far happened before the dump, which covers it. */
	nl_drain(lw, mnl_socket_get_fd(lw->events));
	for (tries = 1; ; tries++) {
		lw->gen++;
		err = dump_once(lw, &intr);
		if (err)
			return err;
		if (!intr)
			break;
		if (tries == LW_DUMP_TRIES) {
			/* Not trusted to prove that a link is gone: no DEL from this one. */
			txdp_log(TXDP_LOG_WARN, "link watch: links kept changing during %d dumps; "
				"removals missed while events were lost stay unreported\n",
				tries);
			lw->resync = 0;
			return 0;
		}
	}
	links_sweep(lw);
	lw->resync = 0;
	return 0;
}

/* --- events --------------------------------------------------------------- */

static int resync(struct txc_linkwatch *lw)
{
	int err = txc_linkwatch_dump(lw);

	if (err) {
		lw->resync = 1;
		txdp_log(TXDP_LOG_ERROR, "link watch: could not read the links again after "
			"lost events (%s); retrying on the next call\n", strerror(-err));
		return -ENOBUFS;
	}
	return 0;
}

int txc_linkwatch_process(struct txc_linkwatch *lw)
{
	int fd = mnl_socket_get_fd(lw->events);
	struct nlmsghdr *nlh;
	ssize_t n;
	int len;

	if (lw->resync && resync(lw))
		return -ENOBUFS;
	for (;;) {
		n = nl_recv(fd, lw->buf, LW_BUF_SIZE, MSG_DONTWAIT);
		if (n == -EAGAIN || n == -EWOULDBLOCK)
			return 0;
		if (n == -EINTR)
			continue;
		if (n == -ENOBUFS || n == -EMSGSIZE) {
			txdp_log(TXDP_LOG_WARN, "link watch: link events were lost (%s); "
				"reading every link again\n", n == -ENOBUFS ?
				"the kernel dropped them, the receive buffer was full" :
				"an event did not fit the read buffer");
			if (resync(lw))
				return -ENOBUFS;
			continue;
		}
		if (n < 0) {
			txdp_log(TXDP_LOG_ERROR, "link watch: reading link events: %s\n",
				strerror(-n));
			return n;
		}
		len = n;
		for (nlh = (struct nlmsghdr *)lw->buf; mnl_nlmsg_ok(nlh, len);
		     nlh = mnl_nlmsg_next(nlh, &len)) {
			if (nlh->nlmsg_type == RTM_NEWLINK || nlh->nlmsg_type == RTM_DELLINK)
				link_report(lw, nlh);
		}
	}
}

/* --- setup ---------------------------------------------------------------- */

static struct mnl_socket *nl_open(int flags, const char *what)
{
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_ROUTE, flags | SOCK_CLOEXEC);

	if (!nl)
		txdp_log(TXDP_LOG_ERROR, "link watch: opening the %s netlink socket: %s\n", what,
			strerror(errno));
	return nl;
}

static int events_open(struct txc_linkwatch *lw)
{
	int rcvbuf = TXC_LINKWATCH_RCVBUF, group = RTNLGRP_LINK, fd, err;

	lw->events = nl_open(SOCK_NONBLOCK, "link event");
	if (!lw->events)
		return -errno;
	fd = mnl_socket_get_fd(lw->events);
	/* FORCE passes net.core.rmem_max; without CAP_NET_ADMIN take what the limit allows. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)))
		txdp_log(TXDP_LOG_WARN, "link watch: setting a %d byte receive buffer: %s; "
			"bursts of link events may overflow\n", rcvbuf, strerror(errno));
	/* Join the group only once the buffer is large. */
	if (mnl_socket_bind(lw->events, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    mnl_socket_setsockopt(lw->events, NETLINK_ADD_MEMBERSHIP, &group,
				  sizeof(group)) < 0) {
		err = -errno;
		txdp_log(TXDP_LOG_ERROR, "link watch: subscribing to rtnetlink link events: %s\n",
			strerror(errno));
		return err;
	}
	return 0;
}

static int dumps_open(struct txc_linkwatch *lw)
{
	struct timeval tv = { .tv_sec = LW_DUMP_TIMEOUT_S };
	int err;

	lw->dumps = nl_open(0, "link dump");
	if (!lw->dumps)
		return -errno;
	if (setsockopt(mnl_socket_get_fd(lw->dumps), SOL_SOCKET, SO_RCVTIMEO, &tv,
		       sizeof(tv)) ||
	    mnl_socket_bind(lw->dumps, 0, MNL_SOCKET_AUTOPID) < 0) {
		err = -errno;
		txdp_log(TXDP_LOG_ERROR, "link watch: setting up the link dump socket: %s\n",
			strerror(errno));
		return err;
	}
	lw->dump_portid = mnl_socket_get_portid(lw->dumps);
	return 0;
}

int txc_linkwatch_open(struct txc_linkwatch **lwp, txc_link_fn fn, void *ctx)
{
	struct txc_linkwatch *lw;
	int err;

	*lwp = NULL;
	if (!fn) {
		txdp_log(TXDP_LOG_ERROR, "link watch: no callback given for link events\n");
		return -EINVAL;
	}
	lw = calloc(1, sizeof(*lw));
	if (!lw || !(lw->buf = malloc(LW_BUF_SIZE))) {
		free(lw);
		txdp_log(TXDP_LOG_ERROR, "link watch: no memory for the watcher\n");
		return -ENOMEM;
	}
	lw->fn = fn;
	lw->ctx = ctx;
	err = events_open(lw);
	if (!err)
		err = dumps_open(lw);
	if (err) {
		txc_linkwatch_close(lw);
		return err;
	}
	*lwp = lw;
	return 0;
}

void txc_linkwatch_close(struct txc_linkwatch *lw)
{
	if (!lw)
		return;
	if (lw->events)
		mnl_socket_close(lw->events);
	if (lw->dumps)
		mnl_socket_close(lw->dumps);
	free(lw->links);
	free(lw->buf);
	free(lw);
}

int txc_linkwatch_fd(const struct txc_linkwatch *lw)
{
	return mnl_socket_get_fd(lw->events);
}
