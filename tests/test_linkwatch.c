/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The link watcher against real rtnetlink: veth pairs (this kernel may lack
 * the dummy driver) created, renamed, set up and down, enslaved, moved and
 * deleted inside private network namespaces the test creates.  Every check
 * compares what the callback saw with what the kernel reports, not only
 * return codes.  Deleting a namespace at the end removes every link in it.
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
#include <net/if.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>

#include "linkwatch.h"
#include "dp.h"
#include "netns.h"
#include "testlib.h"

#define WAIT_MS		2000	/* longest wait for an event that must come */
#define NR_PAIRS	150	/* veth pairs of the overflow test: 300 links */

/* --- log capture ---------------------------------------------------------- */

static char last_warn[512];
static int nr_warn;

/* Keep the watcher's warnings so that tests can check recovery said so. */
static void test_log(enum txdp_log_level level, const char *fmt, va_list ap)
{
	if (level > TXDP_LOG_WARN)
		return;
	vsnprintf(last_warn, sizeof(last_warn), fmt, ap);
	nr_warn++;
	fprintf(stderr, "    (logged) %s", last_warn);
}

/* --- events the callback saw ---------------------------------------------- */

struct evlog {
	struct txc_link_event *ev;
	int n, max;
	int oom;
};

static void on_link(void *ctx, const struct txc_link_event *ev)
{
	struct evlog *log = ctx;

	if (log->n == log->max) {
		int max = log->max ? 2 * log->max : 256;
		struct txc_link_event *p = realloc(log->ev, max * sizeof(*p));

		if (!p) {
			log->oom++;
			return;
		}
		log->ev = p;
		log->max = max;
	}
	log->ev[log->n++] = *ev;
}

/* The last event about @ifindex logged at or after @from, or NULL. */
static const struct txc_link_event *last_for(const struct evlog *log, int from, __u32 ifindex)
{
	int i;

	for (i = log->n - 1; i >= from; i--)
		if (log->ev[i].ifindex == ifindex)
			return &log->ev[i];
	return NULL;
}

static int count_for(const struct evlog *log, int from, int type, __u32 ifindex)
{
	int i, n = 0;

	for (i = from; i < log->n; i++)
		n += log->ev[i].type == type && log->ev[i].ifindex == ifindex;
	return n;
}

/* --- fixture -------------------------------------------------------------- */

struct lw_fixture {
	char ns[FX_NAME_MAX];
	struct txc_linkwatch *lw;
	struct evlog log;
	bool inside;
};

/* A fresh namespace with lo up, this thread in it, a watcher opened there. */
static bool lw_setup(struct lw_fixture *fx, const char *tag)
{
	memset(fx, 0, sizeof(*fx));
	if (!ASSERT_OK(ns_create(fx->ns, tag), "creating the test namespace"))
		return false;
	if (!ASSERT_OK(ns_enter(fx->ns), "entering the test namespace"))
		return false;
	fx->inside = true;
	return ASSERT_OK(txc_linkwatch_open(&fx->lw, on_link, &fx->log), "txc_linkwatch_open");
}

static void lw_teardown(struct lw_fixture *fx)
{
	/* The watcher's sockets hold the namespace: close them first. */
	txc_linkwatch_close(fx->lw);
	fx->lw = NULL;
	if (fx->inside)
		ns_leave();
	fx->inside = false;
	ns_delete(fx->ns);
	free(fx->log.ev);
	memset(&fx->log, 0, sizeof(fx->log));
}

/* Process events until one matching @type/@ifindex (and @name if given) shows up. */
static const struct txc_link_event *wait_for(struct lw_fixture *fx, int from, int type,
					     __u32 ifindex, const char *name)
{
	struct pollfd pfd = { .fd = txc_linkwatch_fd(fx->lw), .events = POLLIN };
	int waited, i, err;

	for (waited = 0; waited <= WAIT_MS; waited += 50) {
		err = txc_linkwatch_process(fx->lw);
		if (!ASSERT_OK(err, "txc_linkwatch_process"))
			return NULL;
		for (i = fx->log.n - 1; i >= from; i--) {
			const struct txc_link_event *ev = &fx->log.ev[i];

			if (ev->type == type && ev->ifindex == ifindex &&
			    (!name || !strcmp(ev->name, name)))
				return ev;
		}
		poll(&pfd, 1, 50);
	}
	test_fail(__FILE__, __LINE__, "no %s event for ifindex %u%s%s within %d ms",
		  type == TXC_LINK_NEW ? "NEW" : "DEL", ifindex, name ? " named " : "",
		  name ? name : "", WAIT_MS);
	return NULL;
}

static bool ifindex_of(struct lw_fixture *fx, const char *name, __u32 *ifindex)
{
	char what[64];

	snprintf(what, sizeof(what), "ifindex of %s", name);
	return ASSERT_OK(link_info(fx->ns, name, ifindex, NULL), what);
}

/* A watcher and the veth lwa0/lwb0, which the events and dump subtests change. */
struct pair_fixture {
	struct lw_fixture lw;
	__u32 ia, ib;		/* lwa0, lwb0 */
	int from;		/* the events logged before the pair was created */
};

static bool pair_add(struct pair_fixture *fx)
{
	fx->from = fx->lw.log.n;
	return ASSERT_OK(fx_run("ip -n %s link add lwa0 type veth peer name lwb0", fx->lw.ns),
			 "creating veth lwa0/lwb0") &&
	       ifindex_of(&fx->lw, "lwa0", &fx->ia) && ifindex_of(&fx->lw, "lwb0", &fx->ib);
}

/*
 * The watcher's view, replayed from the log (the last event per link), must
 * equal the links the kernel lists now (if_nameindex(), in this thread's
 * namespace).
 */
static bool view_matches_kernel(const struct evlog *log, const char *when)
{
	struct if_nameindex *ifs = if_nameindex(), *p;
	int kernel = 0, seen = 0, i;
	bool ok = true;
	char what[128];

	if (!ASSERT_TRUE(ifs != NULL, "if_nameindex"))
		return false;
	for (p = ifs; p->if_index; p++) {
		const struct txc_link_event *ev = last_for(log, 0, p->if_index);

		kernel++;
		snprintf(what, sizeof(what), "%s: %s (ifindex %u) reported present", when,
			 p->if_name, p->if_index);
		ok &= ASSERT_TRUE(ev && ev->type == TXC_LINK_NEW, what);
		if (ev && ev->type == TXC_LINK_NEW) {
			snprintf(what, sizeof(what), "%s: name of ifindex %u", when, p->if_index);
			ok &= ASSERT_TRUE(!strcmp(ev->name, p->if_name), what);
		}
	}
	if_freenameindex(ifs);
	/* Links the log calls present: exactly the kernel's. */
	for (i = 0; i < log->n; i++) {
		const struct txc_link_event *ev = &log->ev[i];

		if (last_for(log, i, ev->ifindex) == ev && ev->type == TXC_LINK_NEW)
			seen++;
	}
	snprintf(what, sizeof(what), "%s: links reported present", when);
	ok &= ASSERT_EQ(seen, kernel, what);
	return ok;
}

/* --- 1. events ------------------------------------------------------------ */

static void events_new(struct pair_fixture *fx)
{
	const struct txc_link_event *ev;

	ev = wait_for(&fx->lw, fx->from, TXC_LINK_NEW, fx->ia, "lwa0");
	if (ev)
		ASSERT_EQ(ev->flags & IFF_UP, 0, "lwa0 created down");
	wait_for(&fx->lw, fx->from, TXC_LINK_NEW, fx->ib, "lwb0");
	ASSERT_EQ(count_for(&fx->lw.log, fx->from, TXC_LINK_DEL, fx->ia), 0,
		  "DEL events for lwa0");
}

static void events_rename(struct pair_fixture *fx)
{
	const struct txc_link_event *ev;
	int from = fx->lw.log.n;

	if (!ASSERT_OK(fx_run("ip -n %s link set lwa0 name lwr0", fx->lw.ns), "renaming lwa0"))
		return;
	wait_for(&fx->lw, from, TXC_LINK_NEW, fx->ia, "lwr0");
	ev = last_for(&fx->lw.log, from, fx->ia);
	ASSERT_TRUE(ev && ev->type == TXC_LINK_NEW && !strcmp(ev->name, "lwr0"),
		    "last event of the renamed link: NEW lwr0");
	ASSERT_EQ(count_for(&fx->lw.log, from, TXC_LINK_DEL, fx->ia), 0,
		  "DEL events for a rename");
}

static void events_up_down(struct pair_fixture *fx)
{
	const struct txc_link_event *ev;
	int from = fx->lw.log.n;

	if (ASSERT_OK(fx_run("ip -n %s link set lwr0 up", fx->lw.ns), "setting lwr0 up")) {
		wait_for(&fx->lw, from, TXC_LINK_NEW, fx->ia, "lwr0");
		ev = last_for(&fx->lw.log, from, fx->ia);
		ASSERT_TRUE(ev && (ev->flags & IFF_UP), "IFF_UP after 'up'");
	}
	from = fx->lw.log.n;
	if (ASSERT_OK(fx_run("ip -n %s link set lwr0 down", fx->lw.ns), "setting lwr0 down")) {
		wait_for(&fx->lw, from, TXC_LINK_NEW, fx->ia, "lwr0");
		ev = last_for(&fx->lw.log, from, fx->ia);
		ASSERT_TRUE(ev && !(ev->flags & IFF_UP), "no IFF_UP after 'down'");
	}
}

static void events_delete(struct pair_fixture *fx)
{
	const struct txc_link_event *ev;
	int from = fx->lw.log.n;

	if (!ASSERT_OK(fx_run("ip -n %s link del lwr0", fx->lw.ns), "deleting lwr0"))
		return;
	ev = wait_for(&fx->lw, from, TXC_LINK_DEL, fx->ia, NULL);
	if (ev)
		ASSERT_TRUE(!strcmp(ev->name, "lwr0"), "DEL carries the current name");
	/* Deleting one end of a veth pair deletes its peer. */
	wait_for(&fx->lw, from, TXC_LINK_DEL, fx->ib, "lwb0");
}

static const TEST_SUB_OF(struct pair_fixture) pair_event_subs[] = {
	{ "new", events_new },
	{ "rename", events_rename },
	{ "up_down", events_up_down },
	{ "delete", events_delete },
};

/* A bridge port's AF_BRIDGE RTM_DELLINK means "left the bridge", not "deleted". */
static void events_bridge_port(struct lw_fixture *fx)
{
	__u32 ic, ibr;
	int from;

	if (fx_run("ip -n %s link add lwbr0 type bridge", fx->ns)) {
		test_skip("no bridge support in this kernel");
		return;
	}
	if (!ASSERT_OK(fx_run("ip -n %s link add lwc0 type veth peer name lwd0", fx->ns),
		       "creating veth lwc0/lwd0") ||
	    !ifindex_of(fx, "lwc0", &ic) || !ifindex_of(fx, "lwbr0", &ibr) ||
	    !ASSERT_OK(txc_linkwatch_process(fx->lw), "processing the creations"))
		return;
	from = fx->log.n;
	if (!ASSERT_OK(fx_run("ip -n %s link set lwc0 master lwbr0", fx->ns),
		       "enslaving lwc0") ||
	    !ASSERT_OK(fx_run("ip -n %s link set lwc0 nomaster", fx->ns), "releasing lwc0"))
		return;
	wait_for(fx, from, TXC_LINK_NEW, ic, "lwc0");
	ASSERT_OK(txc_linkwatch_process(fx->lw), "processing the port events");
	ASSERT_EQ(count_for(&fx->log, from, TXC_LINK_DEL, ic), 0,
		  "DEL events for a port leaving its bridge");
	ASSERT_EQ(count_for(&fx->log, from, TXC_LINK_DEL, ibr), 0, "DEL events for the bridge");
	fx_run("ip -n %s link del lwc0", fx->ns);
	fx_run("ip -n %s link del lwbr0", fx->ns);
}

/* Moving a link out of the namespace is a DEL here; links elsewhere are never seen. */
static void events_netns_move(struct lw_fixture *fx)
{
	char other[FX_NAME_MAX] = "";
	__u32 ie, iff = 0;
	int from, i;

	if (!ASSERT_OK(ns_create(other, "lwo"), "creating a second namespace") ||
	    !ASSERT_OK(fx_run("ip -n %s link add lwe0 type veth peer name lwf0", fx->ns),
		       "creating veth lwe0/lwf0") ||
	    !ifindex_of(fx, "lwe0", &ie) || !ifindex_of(fx, "lwf0", &iff) ||
	    !wait_for(fx, 0, TXC_LINK_NEW, ie, "lwe0"))
		goto out;
	from = fx->log.n;
	if (!ASSERT_OK(fx_run("ip -n %s link set lwe0 netns %s", fx->ns, other),
		       "moving lwe0 to the second namespace"))
		goto out;
	wait_for(fx, from, TXC_LINK_DEL, ie, "lwe0");
	ASSERT_EQ(count_for(&fx->log, from, TXC_LINK_DEL, iff), 0, "DEL events for the peer");

	from = fx->log.n;
	if (!ASSERT_OK(fx_run("ip -n %s link add lwx0 type veth peer name lwx1", other),
		       "creating veth lwx0/lwx1 in the second namespace") ||
	    !ASSERT_OK(fx_run("ip -n %s link set lwe0 name lwg0", other),
		       "renaming the moved link"))
		goto out;
	usleep(100 * 1000);
	ASSERT_OK(txc_linkwatch_process(fx->lw), "processing");
	for (i = from; i < fx->log.n; i++)
		ASSERT_TRUE(strncmp(fx->log.ev[i].name, "lwx", 3) &&
			    strcmp(fx->log.ev[i].name, "lwg0"),
			    "no event about the second namespace's links");
out:
	ns_delete(other);
	/*
	 * The namespace dies in a kernel work item, taking lwe0 and with it
	 * its peer here: wait for that DEL so that no later check sees it.
	 */
	if (iff)
		wait_for(fx, 0, TXC_LINK_DEL, iff, "lwf0");
}

static void events_socket(struct lw_fixture *fx)
{
	int fd = txc_linkwatch_fd(fx->lw);
	int fl = fcntl(fd, F_GETFL), fdfl = fcntl(fd, F_GETFD), from = fx->log.n;

	ASSERT_TRUE(fl >= 0 && (fl & O_NONBLOCK), "event socket is non-blocking");
	ASSERT_TRUE(fdfl >= 0 && (fdfl & FD_CLOEXEC), "event socket is close-on-exec");
	/* Nothing pending: returns at once with nothing reported. */
	ASSERT_OK(txc_linkwatch_process(fx->lw), "processing an empty queue");
	ASSERT_OK(txc_linkwatch_process(fx->lw), "processing an empty queue again");
	ASSERT_EQ(fx->log.n - from, 0, "events from an empty queue");
}

/*
 * A link message sent to the watcher's port by another socket (possible
 * with CAP_NET_ADMIN) is not the kernel's word: it must not be reported.
 */
static void events_forged(struct lw_fixture *fx)
{
	char buf[256];
	struct sockaddr_nl self = {}, to = { .nl_family = AF_NETLINK };
	socklen_t len = sizeof(self);
	struct ifinfomsg *ifi;
	struct nlmsghdr *nlh;
	int fd = -1, from = fx->log.n;

	if (!ASSERT_OK(getsockname(txc_linkwatch_fd(fx->lw), (struct sockaddr *)&self, &len) ?
		       -errno : 0, "port of the event socket"))
		return;
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (!ASSERT_GE0(fd < 0 ? -errno : fd, "sender socket"))
		return;
	memset(buf, 0, sizeof(buf));
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_DELLINK;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = 1;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, "lo");
	to.nl_pid = self.nl_pid;
	if (ASSERT_OK(sendto(fd, nlh, nlh->nlmsg_len, 0, (struct sockaddr *)&to, sizeof(to)) < 0 ?
		      -errno : 0, "sending a forged RTM_DELLINK for lo")) {
		usleep(50 * 1000);
		ASSERT_OK(txc_linkwatch_process(fx->lw), "processing");
		ASSERT_EQ(fx->log.n - from, 0, "events reported from a forged message");
	}
	close(fd);
}

static const TEST_SUB_OF(struct lw_fixture) event_subs[] = {
	{ "bridge_port", events_bridge_port },
	{ "netns_move", events_netns_move },
	{ "socket", events_socket },
	{ "forged", events_forged },
};

static void test_events(void)
{
	struct pair_fixture fx;

	test_subs_chained();	/* the links each subtest leaves are the next one's */
	if (!lw_setup(&fx.lw, "lwev"))
		goto out;
	if (pair_add(&fx))
		test_subs_run(pair_event_subs, &fx);
	test_subs_run(event_subs, &fx.lw);
out:
	lw_teardown(&fx.lw);
}

/* --- 2. dump -------------------------------------------------------------- */

static void dump_existing(struct pair_fixture *fx)
{
	const struct txc_link_event *ev;
	struct evlog *log = &fx->lw.log;
	int from = log->n;

	if (!ASSERT_OK(txc_linkwatch_dump(fx->lw.lw), "txc_linkwatch_dump"))
		return;
	ev = last_for(log, from, 1);
	ASSERT_TRUE(ev && ev->type == TXC_LINK_NEW && !strcmp(ev->name, "lo") &&
		    (ev->flags & IFF_UP), "NEW lo (ifindex 1), up");
	ev = last_for(log, from, fx->ia);
	ASSERT_TRUE(ev && ev->type == TXC_LINK_NEW && !strcmp(ev->name, "lwa0") &&
		    !(ev->flags & IFF_UP), "NEW lwa0, down");
	ev = last_for(log, from, fx->ib);
	ASSERT_TRUE(ev && ev->type == TXC_LINK_NEW && !strcmp(ev->name, "lwb0") &&
		    (ev->flags & IFF_UP), "NEW lwb0, up");
	view_matches_kernel(log, "after the dump");
}

/* Changes nobody processed: a dump reports them, and the links it no longer lists. */
static void dump_missed_changes(struct pair_fixture *fx)
{
	const struct txc_link_event *ev;
	struct evlog *log = &fx->lw.log;
	const char *ns = fx->lw.ns;
	int from = log->n;

	/* Down first: kernels before 6.2 refuse to rename a link that is up. */
	if (ASSERT_OK(fx_run("ip -n %s link set lwb0 down", ns), "setting lwb0 down") &&
	    ASSERT_OK(fx_run("ip -n %s link set lwb0 name lwc0", ns), "renaming lwb0")) {
		ASSERT_OK(txc_linkwatch_dump(fx->lw.lw), "txc_linkwatch_dump");
		ev = last_for(log, from, fx->ib);
		ASSERT_TRUE(ev && ev->type == TXC_LINK_NEW && !strcmp(ev->name, "lwc0") &&
			    !(ev->flags & IFF_UP), "NEW lwc0 (renamed, down)");
	}
	from = log->n;
	if (!ASSERT_OK(fx_run("ip -n %s link del lwa0", ns), "deleting lwa0"))
		return;
	ASSERT_OK(txc_linkwatch_dump(fx->lw.lw), "txc_linkwatch_dump");
	ASSERT_EQ(count_for(log, from, TXC_LINK_DEL, fx->ia), 1, "DEL lwa0 from the dump");
	ASSERT_EQ(count_for(log, from, TXC_LINK_DEL, fx->ib), 1, "DEL lwc0 from the dump");
	ev = last_for(log, from, fx->ib);
	ASSERT_TRUE(ev && !strcmp(ev->name, "lwc0"), "DEL carries the last known name");
	/* The queued RTM_DELLINKs predate the dump, which superseded them. */
	from = log->n;
	ASSERT_OK(txc_linkwatch_process(fx->lw.lw), "processing after the dump");
	ASSERT_EQ(log->n - from, 0, "events reported again after the dump");
	view_matches_kernel(log, "after the deletion");
}

/*
 * The dump socket was opened with the watcher: a dump from a thread that has
 * since moved to another namespace still lists the watcher's.
 */
static void dump_other_thread_netns(struct pair_fixture *fx)
{
	struct evlog *log = &fx->lw.log;
	int i, from, foreign = 0, mine = 0;

	if (!ASSERT_OK(fx_run("ip -n %s link add lwm0 type veth peer name lwm1", fx->lw.ns),
		       "creating veth lwm0/lwm1") ||
	    !ASSERT_OK(ns_leave(), "leaving the test namespace"))
		return;
	fx->lw.inside = false;
	from = log->n;
	ASSERT_OK(txc_linkwatch_dump(fx->lw.lw), "txc_linkwatch_dump from outside");
	for (i = from; i < log->n; i++) {
		if (log->ev[i].type != TXC_LINK_NEW)
			continue;
		if (!strcmp(log->ev[i].name, "lwm0") || !strcmp(log->ev[i].name, "lwm1"))
			mine++;
		else if (strcmp(log->ev[i].name, "lo"))
			foreign++;
	}
	ASSERT_EQ(mine, 2, "the test namespace's new links listed");
	ASSERT_EQ(foreign, 0, "links of other namespaces listed");
	ASSERT_EQ(count_for(log, from, TXC_LINK_DEL, 1), 0, "DEL events for lo");
	if (ASSERT_OK(ns_enter(fx->lw.ns), "re-entering the test namespace"))
		fx->lw.inside = true;
}

static const TEST_SUB_OF(struct pair_fixture) dump_subs[] = {
	{ "existing", dump_existing },
	{ "missed_changes", dump_missed_changes },
	{ "other_thread_netns", dump_other_thread_netns },
};

static void test_dump(void)
{
	struct pair_fixture fx;

	test_subs_chained();	/* each dump follows the changes of the subtest before */
	if (!lw_setup(&fx.lw, "lwdu") || !pair_add(&fx) ||
	    !ASSERT_OK(fx_run("ip -n %s link set lwb0 up", fx.lw.ns), "setting lwb0 up"))
		goto out;
	test_subs_run(dump_subs, &fx);
out:
	lw_teardown(&fx.lw);
}

/* --- 3. overflow ---------------------------------------------------------- */

/*
 * One "ip -batch" run: create (or delete) the veth pairs lwv<i>/lwp<i>,
 * then delete lwk0 if asked.  One process for 150 pairs keeps it fast.
 */
static int batch_run(const char *ns, bool create, int n, bool del_k)
{
	char path[] = "/tmp/txc-lw-batch-XXXXXX";
	FILE *f;
	int fd, i, err;

	fd = mkstemp(path);
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "w");
	if (!f) {
		err = -errno;
		close(fd);
		unlink(path);
		return err;
	}
	for (i = 0; i < n; i++) {
		if (create)
			fprintf(f, "link add lwv%d type veth peer name lwp%d\n", i, i);
		else
			fprintf(f, "link del lwv%d\n", i);
	}
	if (del_k)
		fprintf(f, "link del lwk0\n");
	err = fclose(f) ? -errno : 0;
	if (!err)
		err = fx_run("ip -n %s -batch %s", ns, path);
	unlink(path);
	return err;
}

/* The overflow subtests' watcher, its shrunk socket, and the veth lwk0/lwk1. */
struct overflow_fixture {
	struct lw_fixture lw;
	int fd;			/* the watcher's event socket */
	int rcvbuf;		/* its receive buffer, as the kernel sized it */
	__u32 ik0, ik1;
	bool created;		/* create_300 created the 150 pairs */
};

static void overflow_create_300(struct overflow_fixture *fx)
{
	const struct txc_link_event *ev;
	struct evlog *log = &fx->lw.log;
	int from = log->n, warn_before = nr_warn, i;
	char name[IFNAMSIZ];
	bool ok;

	/* lwk0/lwk1 vanish in the same burst: recovery must report them gone. */
	if (!ASSERT_OK(batch_run(fx->lw.ns, true, NR_PAIRS, true),
		       "creating 150 veth pairs and deleting lwk0"))
		return;
	fx->created = true;
	ok = ASSERT_OK(txc_linkwatch_process(fx->lw.lw), "txc_linkwatch_process after overflow");
	ASSERT_TRUE(nr_warn > warn_before && strstr(last_warn, "lost"),
		    "a warning says events were lost");
	printf("    receive buffer %d bytes; %d events reported after the burst\n", fx->rcvbuf,
	       log->n - from);
	for (i = 0; ok && i < 2 * NR_PAIRS; i++) {
		__u32 idx;

		snprintf(name, sizeof(name), "%s%d", i % 2 ? "lwp" : "lwv", i / 2);
		if (!ifindex_of(&fx->lw, name, &idx)) {
			ok = false;
			break;
		}
		ev = last_for(log, from, idx);
		ok &= ASSERT_TRUE(ev && ev->type == TXC_LINK_NEW && !strcmp(ev->name, name),
				  "every new link reported present under its name");
	}
	ASSERT_TRUE(count_for(log, from, TXC_LINK_DEL, fx->ik0) >= 1, "DEL lwk0");
	ASSERT_TRUE(count_for(log, from, TXC_LINK_DEL, fx->ik1) >= 1, "DEL lwk1");
	ev = last_for(log, from, fx->ik1);
	ASSERT_TRUE(ev && ev->type == TXC_LINK_DEL, "lwk1's last event is DEL");
	ASSERT_EQ(log->oom, 0, "events the test could not record");
	view_matches_kernel(log, "after recovery");
}

/* Back to the normal buffer; whether or not it overflows, all 300 must go. */
static void overflow_delete_300(struct overflow_fixture *fx)
{
	struct evlog *log = &fx->lw.log;
	int got = TXC_LINKWATCH_RCVBUF, from = log->n, dels = 0, i;

	if (!fx->created) {
		test_skip("create_300 created no links to delete");
		return;
	}
	if (!ASSERT_OK(setsockopt(fx->fd, SOL_SOCKET, SO_RCVBUFFORCE, &got, sizeof(got)) ?
		       -errno : 0, "restoring the receive buffer") ||
	    !ASSERT_OK(batch_run(fx->lw.ns, false, NR_PAIRS, false), "deleting 150 veth pairs") ||
	    !ASSERT_OK(txc_linkwatch_process(fx->lw.lw), "txc_linkwatch_process"))
		return;
	for (i = from; i < log->n; i++)
		dels += log->ev[i].type == TXC_LINK_DEL && !strncmp(log->ev[i].name, "lw", 2);
	ASSERT_TRUE(dels >= 2 * NR_PAIRS, "DEL events for both ends of every pair");
	view_matches_kernel(log, "after deleting everything");
}

static const TEST_SUB_OF(struct overflow_fixture) overflow_subs[] = {
	{ "create_300", overflow_create_300 },
	{ "delete_300", overflow_delete_300 },
};

static void test_overflow(void)
{
	struct overflow_fixture fx = { .fd = -1 };
	socklen_t len = sizeof(fx.rcvbuf);
	int small = 1;

	test_subs_chained();	/* the 300 links deleted are the ones created */
	if (!lw_setup(&fx.lw, "lwov") ||
	    !ASSERT_OK(txc_linkwatch_dump(fx.lw.lw), "start-up dump") ||
	    !ASSERT_OK(fx_run("ip -n %s link add lwk0 type veth peer name lwk1", fx.lw.ns),
		       "creating veth lwk0/lwk1") ||
	    !ifindex_of(&fx.lw, "lwk0", &fx.ik0) || !ifindex_of(&fx.lw, "lwk1", &fx.ik1) ||
	    !wait_for(&fx.lw, 0, TXC_LINK_NEW, fx.ik1, "lwk1"))
		goto out;

	/*
	 * The smallest buffer the kernel allows holds a handful of events:
	 * 300 new links, each announced more than once, overflow it for sure.
	 */
	fx.fd = txc_linkwatch_fd(fx.lw.lw);
	if (!ASSERT_OK(setsockopt(fx.fd, SOL_SOCKET, SO_RCVBUFFORCE, &small, sizeof(small)) ?
		       -errno : 0, "shrinking the receive buffer") ||
	    !ASSERT_OK(getsockopt(fx.fd, SOL_SOCKET, SO_RCVBUF, &fx.rcvbuf, &len) ? -errno : 0,
		       "reading the receive buffer size"))
		goto out;
	test_subs_run(overflow_subs, &fx);
out:
	lw_teardown(&fx.lw);
}

/* ------------------------------------------------------------------------- */

static const struct test_case cases[] = {
	{ "events", test_events },
	{ "dump", test_dump },
	{ "overflow", test_overflow },
};

int main(int argc, char **argv)
{
	fx_start("test_linkwatch", "network namespaces, veth");
	txdp_set_log(test_log);
	return test_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
}
