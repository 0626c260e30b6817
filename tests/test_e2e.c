// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * End-to-end tests: txcanceld running in a private network namespace and
 * managing one end of a veth pair; clients that are ordinary users (with
 * CAP_NET_ADMIN) holding their own prefixes and sources through
 * libtxcancel; real UDP senders tagged by socket, mark, cgroup and flow;
 * the txcancel tool run as root.  Every check is made where a user would
 * look: frames counted at the sink, completions as the client receives
 * them, the daemon's STATS and PREFIX_LIST, the tool's output, the pins.
 *
 * Addresses: 198.18.0.0/15 and 2001:db8::/32 only, on a veth pair between
 * two namespaces the test creates; traffic never leaves them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <bpf/bpf.h>

#include "txcancel/txcancel.h"
#include "daemon_fixture.h"
#include "forked_client.h"
#include "dp.h"
#include "netns.h"
#include "testlib.h"

/* Not in the UAPI headers of older distributions. */
#ifndef BPF_TCX_EGRESS
#define BPF_TCX_EGRESS		47
#endif

#define K		100	/* frames per group per round */
#define MARK_MASK	0xff00u
#define MARK_MASK_STR	"0xff00"
#define UID_A		61001
#define UID_B		61002
#define IF_A		"vA0"	/* the managed interface, in the sender namespace */
#define IF_B		"vB0"	/* its peer, in the sink namespace */
#define SUBNET		60	/* 198.18.60.0/24 and 2001:db8:60::/64 */
#define WAIT_MS		5000	/* longest a state change may take to show */

/* --- the testbed ---------------------------------------------------------- */

enum { G_SOCKET, G_MARK, G_CGROUP, G_FLOW, NG };

/* One stream of UDP frames from the sender namespace to its own receiver. */
struct group {
	const char *name;
	int kind;		/* TXC_TAG_* */
	bool v6;
	__u16 sport, dport;
	__u32 mark;		/* SO_MARK, for TXC_TAG_MARK */
	int tx, rx;
	__u64 key64;		/* socket cookie as the sender sees it, or cgroup id */
	struct txc_flow_key flow;
	/* Set by the client that tags the group. */
	__u32 id, source;
};

static struct bed {
	int state;		/* 0 not set up, 1 up, -1 setting up failed */
	char a[FX_NAME_MAX], b[FX_NAME_MAX];
	char addr_a[32], addr_b[32], addr6_a[48], addr6_b[48];
	__u32 ifindex;		/* of IF_A: changes when the pair is re-created */
	struct fx_cgroup cg;
	struct group g[NG];
} bed = {
	.g = {
		[G_SOCKET] = { .name = "socket", .kind = TXC_TAG_SOCKET,
			       .sport = 7601, .dport = 6601 },
		/* 0x1234 under the mask 0xff00 is 0x1200: the low bits carry no ID. */
		[G_MARK] = { .name = "mark", .kind = TXC_TAG_MARK, .mark = 0x1234,
			     .sport = 7602, .dport = 6602 },
		[G_CGROUP] = { .name = "cgroup", .kind = TXC_TAG_CGROUP,
			       .sport = 7603, .dport = 6603 },
		[G_FLOW] = { .name = "flow6", .kind = TXC_TAG_FLOW, .v6 = true,
			     .sport = 7604, .dport = 6604 },
	},
};

static const char *g_saddr(const struct group *g)
{
	return g->v6 ? bed.addr6_a : bed.addr_a;
}

static const char *g_daddr(const struct group *g)
{
	return g->v6 ? bed.addr6_b : bed.addr_b;
}

static __u32 g_len(const struct group *g)
{
	return udp_frame_len(g->v6 ? 6 : 4);
}

/* The veth pair with addresses and permanent neighbors; also re-creates it. */
static bool bed_link_up(void)
{
	__u8 mac_a[6], mac_b[6];

	if (!ASSERT_OK(veth_create(bed.a, IF_A, bed.b, IF_B), "veth pair"))
		return false;
	if (!ASSERT_OK(addr_add_len(bed.a, IF_A, bed.addr_a, 24), "IPv4 address of the sender") ||
	    !ASSERT_OK(addr_add_len(bed.b, IF_B, bed.addr_b, 24), "IPv4 address of the sink") ||
	    !ASSERT_OK(addr_add_len(bed.a, IF_A, bed.addr6_a, 64), "IPv6 address of the sender") ||
	    !ASSERT_OK(addr_add_len(bed.b, IF_B, bed.addr6_b, 64), "IPv6 address of the sink"))
		return false;
	return ASSERT_OK(link_info(bed.a, IF_A, &bed.ifindex, mac_a), "sender link") &&
	       ASSERT_OK(link_info(bed.b, IF_B, NULL, mac_b), "sink link") &&
	       ASSERT_OK(neigh_add(bed.a, IF_A, bed.addr_b, mac_b), "IPv4 neighbor of the sender") &&
	       ASSERT_OK(neigh_add(bed.b, IF_B, bed.addr_a, mac_a), "IPv4 neighbor of the sink") &&
	       ASSERT_OK(neigh_add(bed.a, IF_A, bed.addr6_b, mac_b), "IPv6 neighbor of the sender") &&
	       ASSERT_OK(neigh_add(bed.b, IF_B, bed.addr6_a, mac_a), "IPv6 neighbor of the sink");
}

/*
 * The group's receiver in the sink, its sender in the sender namespace.  The
 * cgroup group's sender is created inside the test cgroup: a socket keeps
 * the cgroup it was created in, so the process leaves right after.
 */
static bool group_open(struct group *g)
{
	socklen_t len = sizeof(g->key64);

	g->rx = udp_open(bed.b, g_daddr(g), g->dport);
	if (!ASSERT_GE0(g->rx, "receiver socket"))
		return false;
	if (g->kind == TXC_TAG_CGROUP && !ASSERT_OK(cg_enter(&bed.cg), "entering the test cgroup"))
		return false;
	g->tx = udp_open(bed.a, g_saddr(g), g->sport);
	if (g->kind == TXC_TAG_CGROUP && !ASSERT_OK(cg_leave(&bed.cg), "leaving the test cgroup"))
		return false;
	if (!ASSERT_GE0(g->tx, "sender socket"))
		return false;
	switch (g->kind) {
	case TXC_TAG_MARK:
		return ASSERT_OK(setsockopt(g->tx, SOL_SOCKET, SO_MARK, &g->mark,
					    sizeof(g->mark)) ? -errno : 0, "SO_MARK");
	case TXC_TAG_SOCKET:
		return ASSERT_OK(getsockopt(g->tx, SOL_SOCKET, SO_COOKIE, &g->key64, &len) ?
				 -errno : 0, "SO_COOKIE");
	case TXC_TAG_CGROUP:
		g->key64 = bed.cg.id;
		return true;
	default:
		return ASSERT_OK(flow_key_make(&g->flow, g_saddr(g), g->sport, g_daddr(g),
					       g->dport), "flow key");
	}
}

/* Set up once, on first use, and shared by every test: namespaces, veth, sockets. */
static bool bed_up(void)
{
	int i;

	if (bed.state)
		return ASSERT_TRUE(bed.state > 0, "the testbed (setting it up failed earlier)");
	bed.state = -1;
	snprintf(bed.addr_a, sizeof(bed.addr_a), "198.18.%d.1", SUBNET);
	snprintf(bed.addr_b, sizeof(bed.addr_b), "198.18.%d.2", SUBNET);
	snprintf(bed.addr6_a, sizeof(bed.addr6_a), "2001:db8:%d::1", SUBNET);
	snprintf(bed.addr6_b, sizeof(bed.addr6_b), "2001:db8:%d::2", SUBNET);
	if (!ASSERT_OK(ns_create(bed.a, "e2e-tx"), "sender namespace") ||
	    !ASSERT_OK(ns_create(bed.b, "e2e-rx"), "sink namespace") || !bed_link_up() ||
	    !ASSERT_OK(cg_create(&bed.cg, "e2e"), "test cgroup"))
		return false;
	for (i = 0; i < NG; i++)
		if (!group_open(&bed.g[i]))
			return false;
	bed.state = 1;
	return true;
}

static void bed_down(void)
{
	int i;

	for (i = 0; i < NG; i++) {
		if (bed.g[i].tx >= 0)
			close(bed.g[i].tx);
		if (bed.g[i].rx >= 0)
			close(bed.g[i].rx);
		bed.g[i].tx = bed.g[i].rx = -1;
	}
	cg_remove(&bed.cg);
	ns_delete(bed.a);
	ns_delete(bed.b);
	bed.state = 0;
}

/* Send K frames from every group; group i must deliver 0 if dropped[i], else K. */
static bool round_trip(const char *phase, const bool dropped[NG])
{
	char what[128];
	bool ok = true;
	int i;

	for (i = 0; i < NG; i++)
		udp_drain(bed.g[i].rx);
	for (i = 0; i < NG; i++) {
		struct group *g = &bed.g[i];

		snprintf(what, sizeof(what), "%s: frames sent by %s", phase, g->name);
		ok &= ASSERT_EQ(udp_send(g->tx, g_daddr(g), g->dport, K, i), K, what);
	}
	for (i = 0; i < NG; i++) {
		int want = dropped && dropped[i] ? 0 : K;

		snprintf(what, sizeof(what), "%s: frames of %s at the sink", phase, bed.g[i].name);
		ok &= ASSERT_EQ(udp_recv(bed.g[i].rx, want, QUIET_MS), want, what);
	}
	return ok;
}

/*
 * The TC egress mode txcanceld picks on this kernel: tcx from Linux 6.6, a
 * cls_bpf filter on clsact before; `txcancel status` names it.
 */
static bool kernel_tcx;
static bool clsact_forced;	/* TXCT_TC_MODE=clsact on a kernel with tcx */

static const char *kernel_attach_json(void)
{
	return kernel_tcx ? "\"attach\":\"tcx\"" : "\"attach\":\"clsact(created)\"";
}

/*
 * BPF filters on IF_A's clsact egress, or -1 if tc could not tell.  tc
 * prints a line per priority and one per filter, which has a handle.
 */
static int clsact_filters(void)
{
	char out[4096], *line, *save = NULL;
	int n = 0;

	if (fx_run_output(out, sizeof(out), "tc -n %s filter show dev %s egress", bed.a, IF_A))
		return -1;
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		n += strstr(line, " bpf ") && strstr(line, " handle ");
	return n;
}

/*
 * Programs on IF_A's TC egress: its tcx chain, or its clsact filters on a
 * kernel without tcx (a detached link may linger a moment).
 */
static int tc_progs(bool want_none)
{
	__u32 ids[8], cnt = 0, flags = 0;
	int tries;

	for (tries = 0; tries < 40; tries++) {
		if (!kernel_tcx) {
			cnt = clsact_filters();
		} else {
			if (ns_enter(bed.a))
				return -1;
			cnt = 8;
			if (bpf_prog_query(bed.ifindex, BPF_TCX_EGRESS, 0, &flags, ids, &cnt))
				cnt = errno == ENOENT ? 0 : (__u32)-1;
			ns_leave();
		}
		if (!want_none || !cnt)
			break;
		test_sleep_ms(25);
	}
	return (int)cnt;
}

static bool path_exists(const char *path)
{
	return access(path, F_OK) == 0;
}

/* Wait (bounded) until @path exists or not, as @want says. */
static bool path_wait(const char *path, bool want)
{
	__u64 end = test_now_ms() + WAIT_MS;

	while (path_exists(path) != want && test_now_ms() < end)
		test_sleep_ms(20);
	return path_exists(path) == want;
}

/* --- the daemon ----------------------------------------------------------- */

/* txcanceld in the sender namespace, managing IF_A, with mark tags on. */
static bool daemon_up(struct txct_daemon *d, const char *const *extra)
{
	const char *args[TXCT_MAX_ARGS + 1] = { "-i", IF_A, "--mark-mask", MARK_MASK_STR };
	int n = 4;

	/* TXCT_TC_MODE=clsact: the mode of kernels before 6.6, on any kernel. */
	if (clsact_forced) {
		args[n++] = "--tc-mode";
		args[n++] = "clsact";
	}
	while (extra && *extra && n < TXCT_MAX_ARGS)
		args[n++] = *extra++;
	args[n] = NULL;
	return ASSERT_OK(txct_daemon_start(d, bed.a, args), "starting txcanceld");
}

/* Stop it (SIGTERM must exit 0), remove everything it left, and check IF_A is bare. */
static void daemon_down(struct txct_daemon *d)
{
	if (d->pid > 0 && !ASSERT_EQ(txct_daemon_stop(d), 0, "txcanceld exit status"))
		txct_daemon_dump_log(d);
	txct_daemon_cleanup(d);
	if (bed.state > 0)
		ASSERT_EQ(tc_progs(true), 0, "programs left on the TC egress of " IF_A);
}

static void link_pin(char *buf, size_t len, const struct txct_daemon *d, __u32 ifindex)
{
	snprintf(buf, len, "%s/links/tc-%u", d->pin_dir, ifindex);
}

/* --- root's own view ------------------------------------------------------ */

static struct txc_client *root_open(const struct txct_daemon *d)
{
	struct txc_client *c = NULL;
	int err = txc_client_open(&c, d->sock);

	if (!ASSERT_OK(err, "root client connects"))
		printf("    %s\n", txc_last_error());
	return err ? NULL : c;
}

/* @prefix in root's PREFIX_LIST: TXC_LEASE_* (with *uid), 0 if free, or -errno. */
static int lease_of(const struct txct_daemon *d, __u32 prefix, __u32 *uid)
{
	static struct txc_prefix_info info[TXC_NR_PREFIXES];
	struct txc_client *c = NULL;
	int n, i, ret = 0;

	n = txc_client_open(&c, d->sock);
	if (n)
		return n;
	n = txc_prefix_list(c, info, TXC_NR_PREFIXES);
	if (n < 0)
		ret = n;
	for (i = 0; i < n; i++) {
		if (info[i].prefix != prefix)
			continue;
		if (uid)
			*uid = info[i].uid;
		ret = info[i].state;
	}
	txc_client_close(c);
	return ret;
}

/* Wait (bounded) until @prefix has lease state @want in PREFIX_LIST. */
static int lease_wait(const struct txct_daemon *d, __u32 prefix, int want, int wait_ms)
{
	__u64 end = test_now_ms() + wait_ms;
	int state;

	while ((state = lease_of(d, prefix, NULL)) != want && test_now_ms() < end)
		test_sleep_ms(50);
	return state;
}

/* Root's STATS of one source: 0 with *e filled, or -errno. */
static int root_stats(const struct txct_daemon *d, __u32 source, struct txc_stats_entry *e)
{
	struct txc_client *c = NULL;
	int n = txc_client_open(&c, d->sock);

	if (n)
		return n;
	n = txc_stats(c, TXC_SCOPE_SOURCE, source, e, 1);
	txc_client_close(c);
	return n < 0 ? n : n == 1 ? 0 : -ENODATA;
}

/* --- clients as other users: tests/forked_client.c ------------------------- */

/* A client that keeps the senders, to tag them by socket. */
static bool client_up(struct client *cl, const char *name, uid_t uid, const struct txct_daemon *d)
{
	int keep[NG];

	for (int i = 0; i < NG; i++)
		keep[i] = bed.g[i].tx;
	return cl_start(cl, name, uid, d->sock, keep, NG);
}

static void tag_req(struct wreq *rq, const struct group *g, __u32 id, __u32 source)
{
	memset(rq, 0, sizeof(*rq));
	rq->op = W_TAG;
	rq->kind = g->kind;
	rq->id = id;
	rq->source = source;
	rq->fd = g->tx;
	if (g->kind == TXC_TAG_MARK)
		rq->key.mark = g->mark & MARK_MASK;
	else if (g->kind == TXC_TAG_CGROUP)
		rq->key.cgroup_id = g->key64;
	else if (g->kind == TXC_TAG_FLOW)
		rq->key.flow = g->flow;
}

/*
 * @cl takes a prefix and, for each group in @gi, a source of its own and a
 * tag with the ID prefix:(i + 1), counted (so that CLEAR reports it).
 */
static bool cl_own(struct client *cl, const int *gi, int n)
{
	struct wreq rq;
	struct wrep rp;
	char what[96];

	if (!cl_simple(cl, W_PREFIX_ALLOC, 0, 0, &rp, "allocating a prefix"))
		return false;
	cl->prefix = rp.value;
	for (int i = 0; i < n; i++) {
		struct group *g = &bed.g[gi[i]];

		snprintf(what, sizeof(what), "opening a source for %s", g->name);
		if (!cl_simple(cl, W_SOURCE_OPEN, 0, 0, &rp, what))
			return false;
		g->source = rp.value;
		g->id = TXC_ID_MAKE(cl->prefix, i + 1);
		tag_req(&rq, g, g->id, g->source);
		snprintf(what, sizeof(what), "tagging %s", g->name);
		if (!cl_ok(cl, &rq, &rp, what))
			return false;
		if (g->kind == TXC_TAG_SOCKET &&
		    !ASSERT_EQ(rp.cookie, g->key64, "cookie of the socket the daemon received"))
			return false;
		snprintf(what, sizeof(what), "counting the ID of %s", g->name);
		if (!cl_simple(cl, W_COUNT_ID, 0, g->id, NULL, what))
			return false;
	}
	return true;
}

/* --- what a client received ----------------------------------------------- */

static int cmp_u64(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

/*
 * @cl's log must hold exactly @per frames of each group in @victims (and
 * nothing else): status SEND_ABORTED, the group's ID and source, per source
 * the sequence numbers @first_seq.. with no gap, IF_A's ifindex, the TC
 * hook, the tag kind, @scope and a summary of the group's frames.
 */
static bool completions_check(const struct client *cl, const int *victims, int nv, int per,
			      __u64 first_seq, int scope, const char *phase)
{
	static __u64 seqs[NG][MAX_RECS];
	const struct wlog *log = cl->log;
	int count[NG] = {}, i, j;
	char what[160];
	bool ok = true;

	snprintf(what, sizeof(what), "%s: completions %s received", phase, cl->name);
	if (!ASSERT_EQ(log->n, per * nv, what) || !ASSERT_EQ(log->overflow, 0, "log overflow") ||
	    !ASSERT_EQ(log->mismatched, 0, "records of another source than their batch"))
		return false;
	for (i = 0; i < log->n && ok; i++) {
		const struct txc_abort_record *r = &log->recs[i];
		const struct txc_frame_summary *f = &r->frame;
		const struct group *g = NULL;
		__u8 sa[16], da[16];
		int v = -1;

		for (j = 0; j < nv; j++)
			if (f->dport == htons(bed.g[victims[j]].dport))
				v = victims[j];
		snprintf(what, sizeof(what), "%s: a completion of %s for a frame of a group it "
			 "did not cancel (dport %u)", phase, cl->name, ntohs(f->dport));
		if (!ASSERT_TRUE(v >= 0, what))
			return false;
		g = &bed.g[v];
		seqs[v][count[v]++] = r->seq;
		addr_parse(g_saddr(g), sa);
		addr_parse(g_daddr(g), da);
		ok = ASSERT_EQ(r->hdr.version, TXC_RECORD_VERSION, "record version") &&
		     ASSERT_EQ(r->hdr.status, TXC_STATUS_SEND_ABORTED, "record status") &&
		     ASSERT_EQ(r->cancel_id, g->id, "record cancel ID") &&
		     ASSERT_EQ(r->source, g->source, "record source") &&
		     ASSERT_EQ(r->ifindex, bed.ifindex, "record ifindex") &&
		     ASSERT_EQ(r->hook, TXC_HOOK_TC_EGRESS, "record hook") &&
		     ASSERT_EQ(r->tag_kind, g->kind, "record tag kind") &&
		     ASSERT_EQ(r->scope, scope, "record scope") &&
		     ASSERT_EQ(r->len, g_len(g), "record len") &&
		     ASSERT_EQ(f->l4_proto, IPPROTO_UDP, "record frame protocol") &&
		     ASSERT_EQ(f->sport, htons(g->sport), "record frame sport") &&
		     ASSERT_MEMEQ(f->saddr, sa, 16, "record frame saddr") &&
		     ASSERT_MEMEQ(f->daddr, da, 16, "record frame daddr");
	}
	if (!ok)
		return false;
	for (j = 0; j < nv; j++) {
		int v = victims[j];

		snprintf(what, sizeof(what), "%s: completions of %s", phase, bed.g[v].name);
		if (!ASSERT_EQ(count[v], per, what))
			return false;
		/* Order across CPUs is not promised; the set of numbers is. */
		qsort(seqs[v], count[v], sizeof(seqs[v][0]), cmp_u64);
		snprintf(what, sizeof(what), "%s: seq of %s's completions (sorted, no gap)", phase,
			 bed.g[v].name);
		for (i = 0; i < count[v]; i++)
			if (!ASSERT_EQ(seqs[v][i], first_seq + i, what))
				return false;
	}
	return true;
}

/*
 * The account of @g's source, as @cl last heard it and as STATS says:
 * @aborted frames aborted and all of them delivered, nothing lost, and
 * @passed frames passed.  A source without aborts has sent no batch, so
 * its client has no account of it yet.
 */
static bool account_check(struct client *cl, const struct group *g, __u64 aborted,
			  __u64 passed, const char *phase)
{
	struct wreq rq = { .op = W_ACCOUNT, .value = g->source };
	const struct txc_ev_completions *a;
	const struct txc_stats_entry *s;
	struct wrep rp;
	char what[128];
	bool ok = true;

	snprintf(what, sizeof(what), "%s: account of %s's source", phase, g->name);
	if (!aborted) {
		/* No completion, no batch: the client has heard no account. */
		ok &= ASSERT_EQ(cl_call(cl, &rq, &rp), -ENOENT, what);
		goto stats;
	}
	if (!cl_ok(cl, &rq, &rp, what))
		return false;
	a = &rp.acct;
	ok &= ASSERT_EQ(a->aborted, aborted, "account: aborted");
	ok &= ASSERT_EQ(a->delivered, aborted, "account: delivered");
	ok &= ASSERT_EQ(a->ring_lost, 0, "account: ring_lost");
	ok &= ASSERT_EQ(a->backlog_lost, 0, "account: backlog_lost");
	ok &= ASSERT_EQ(a->aborted, a->delivered + a->ring_lost + a->backlog_lost,
			"account: aborted = delivered + ring_lost + backlog_lost");

stats:
	rq.op = W_STATS;
	snprintf(what, sizeof(what), "%s: STATS of %s's source", phase, g->name);
	if (!cl_ok(cl, &rq, &rp, what))
		return false;
	s = &rp.stats;
	ok &= ASSERT_EQ(s->value, g->source, "STATS: source");
	ok &= ASSERT_EQ(s->uid, cl->uid, "STATS: owner");
	ok &= ASSERT_EQ(s->counts.aborted_frames, aborted, "STATS: aborted frames");
	ok &= ASSERT_EQ(s->counts.aborted_bytes, aborted * g_len(g), "STATS: aborted bytes");
	ok &= ASSERT_EQ(s->counts.passed_frames, passed, "STATS: passed frames");
	ok &= ASSERT_EQ(s->counts.passed_bytes, passed * g_len(g), "STATS: passed bytes");
	ok &= ASSERT_EQ(s->delivered, aborted, "STATS: delivered");
	ok &= ASSERT_EQ(s->ring_lost, 0, "STATS: ring_lost");
	ok &= ASSERT_EQ(s->backlog_lost, 0, "STATS: backlog_lost");
	ok &= ASSERT_EQ(s->counts.aborted_frames, s->delivered + s->ring_lost + s->backlog_lost,
			"STATS: aborted = delivered + ring_lost + backlog_lost");
	return ok;
}

/* --- 1. two clients ------------------------------------------------------- */

static const int own_a[] = { G_SOCKET, G_MARK };
static const int own_b[] = { G_CGROUP, G_FLOW };

static const char *scope_name(int scope)
{
	return scope == TXC_SCOPE_ID ? "id" : scope == TXC_SCOPE_PREFIX ? "prefix" : "source";
}

static bool start_two(struct client *a, struct client *b, const struct txct_daemon *d)
{
	return client_up(a, "client A", UID_A, d) && client_up(b, "client B", UID_B, d) &&
	       cl_own(a, own_a, 2) && cl_own(b, own_b, 2);
}

/*
 * A cancel by @scope: client A cancels the ID of its mark group or the
 * source of its socket group, client B the prefix of both its groups.  The
 * victims stop at the sink, the rest flows; the canceler gets exactly the
 * victims' completions, the other client none; accounts balance; the clear
 * reports the final counts and the victims flow again.
 */
static void two_clients_round(const struct txct_daemon *d, int scope)
{
	struct client a = CLIENT_INIT, b = CLIENT_INIT, *own, *other;
	bool dropped[NG] = {};
	int victims[2], nv, i;
	struct txc_counters want = {};
	struct wrep rp;
	__u32 value;

	if (!start_two(&a, &b, d))
		goto out;
	if (scope == TXC_SCOPE_ID) {
		own = &a;
		other = &b;
		victims[0] = G_MARK;
		nv = 1;
		value = bed.g[G_MARK].id;
	} else if (scope == TXC_SCOPE_PREFIX) {
		own = &b;
		other = &a;
		victims[0] = G_CGROUP;
		victims[1] = G_FLOW;
		nv = 2;
		value = b.prefix;
	} else {
		own = &a;
		other = &b;
		victims[0] = G_SOCKET;
		nv = 1;
		value = bed.g[G_SOCKET].source;
	}
	for (i = 0; i < nv; i++)
		dropped[victims[i]] = true;

	if (!round_trip("before the cancel", NULL))
		goto out;
	if (!ASSERT_EQ(cl_collect(&a, 0), 0, "completions of A before the cancel") ||
	    !ASSERT_EQ(cl_collect(&b, 0), 0, "completions of B before the cancel"))
		goto out;

	if (!cl_simple(own, W_CANCEL, scope, value, NULL, "cancel"))
		goto out;
	if (!round_trip("canceled", dropped))
		goto out;
	cl_collect(own, K * nv);
	cl_collect(other, 0);
	if (!completions_check(own, victims, nv, K, 1, scope, "canceled") ||
	    !ASSERT_EQ(other->log->n, 0, "completions received by the other client"))
		goto out;
	for (i = 0; i < NG; i++) {
		const struct group *g = &bed.g[i];
		struct client *holder = i == G_SOCKET || i == G_MARK ? &a : &b;

		if (!account_check(holder, g, dropped[i] ? K : 0, dropped[i] ? K : 2 * K,
				   "canceled"))
			goto out;
	}

	if (!cl_simple(own, W_CLEAR, scope, value, &rp, "clear"))
		goto out;
	for (i = 0; i < nv; i++) {
		__u32 len = g_len(&bed.g[victims[i]]);

		want.passed_frames += K;
		want.passed_bytes += K * len;
		want.aborted_frames += K;
		want.aborted_bytes += K * len;
	}
	ASSERT_EQ(rp.final.valid, 1, "clear: final counts valid");
	ASSERT_EQ(rp.final.counts.passed_frames, want.passed_frames, "clear: passed frames");
	ASSERT_EQ(rp.final.counts.passed_bytes, want.passed_bytes, "clear: passed bytes");
	ASSERT_EQ(rp.final.counts.aborted_frames, want.aborted_frames, "clear: aborted frames");
	ASSERT_EQ(rp.final.counts.aborted_bytes, want.aborted_bytes, "clear: aborted bytes");

	round_trip("cleared", NULL);
	ASSERT_EQ(cl_collect(own, 0), K * nv, "completions of the canceler after the clear");
	ASSERT_EQ(cl_collect(other, 0), 0, "completions of the other client after the clear");
out:
	cl_stop(&a);
	cl_stop(&b);
}

static void test_two_clients(void)
{
	static const int scopes[] = { TXC_SCOPE_ID, TXC_SCOPE_PREFIX, TXC_SCOPE_SOURCE };
	struct txct_daemon d = { .pid = 0 };

	if (!bed_up() || !daemon_up(&d, NULL))
		goto out;
	for (size_t s = 0; s < sizeof(scopes) / sizeof(scopes[0]); s++) {
		if (test_sub_begin("%s", scope_name(scopes[s]))) {
			two_clients_round(&d, scopes[s]);
			test_sub_end();
		}
	}
out:
	daemon_down(&d);
}

/* --- 2. isolation --------------------------------------------------------- */

/*
 * B tries everything on what A holds: cancel and clear of A's IDs, prefix
 * and source, tagging under A's prefix, untagging A's rule, counting A's
 * ID, reading or subscribing to A's source, taking A's prefix or source.
 * Each is refused with a reason; A's cancel stays in force, A's other
 * group keeps flowing, and only A hears of the aborts.
 */
static void test_isolation(void)
{
	struct txct_daemon d = { .pid = 0 };
	struct client a = CLIENT_INIT, b = CLIENT_INIT;
	const struct group *gs = &bed.g[G_SOCKET], *gm = &bed.g[G_MARK];
	bool dropped[NG] = { [G_SOCKET] = true };
	struct wreq rq;
	struct wrep rp;

	if (!bed_up() || !daemon_up(&d, NULL) || !start_two(&a, &b, &d))
		goto out;
	if (!cl_simple(&a, W_CANCEL, TXC_SCOPE_ID, gs->id, NULL, "A cancels its socket group"))
		goto out;

	const struct {
		struct wreq rq;
		int err;
		const char *what;
	} attempts[] = {
		{ { .op = W_CANCEL, .scope = TXC_SCOPE_ID, .value = gm->id }, -EPERM,
		  "cancel of A's ID" },
		{ { .op = W_CANCEL, .scope = TXC_SCOPE_PREFIX, .value = a.prefix }, -EPERM,
		  "cancel of A's prefix" },
		{ { .op = W_CANCEL, .scope = TXC_SCOPE_SOURCE, .value = gm->source }, -EPERM,
		  "cancel of A's source" },
		{ { .op = W_CLEAR, .scope = TXC_SCOPE_ID, .value = gs->id }, -EPERM,
		  "clear of A's ID" },
		{ { .op = W_CLEAR, .scope = TXC_SCOPE_PREFIX, .value = a.prefix }, -EPERM,
		  "clear of A's prefix" },
		{ { .op = W_CLEAR, .scope = TXC_SCOPE_SOURCE, .value = gs->source }, -EPERM,
		  "clear of A's source" },
		{ { .op = W_COUNT_ID, .value = gs->id }, -EPERM, "counting A's ID" },
		{ { .op = W_STATS, .value = gs->source }, -EPERM, "STATS of A's source" },
		{ { .op = W_SUBSCRIBE, .value = gs->source }, -EPERM, "subscribing to A's source" },
		{ { .op = W_PREFIX_CLAIM, .value = a.prefix }, -EBUSY, "taking A's prefix" },
		{ { .op = W_SOURCE_CLAIM, .value = gs->source }, -EBUSY, "taking A's source" },
		{ { .op = W_UNTAG, .kind = TXC_TAG_MARK, .key.mark = gm->mark & MARK_MASK },
		  -EPERM, "removing A's mark rule" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(attempts); i++)
		cl_refused(&b, &attempts[i].rq, attempts[i].err, attempts[i].what);
	/* A flow of B's own, but under A's prefix. */
	tag_req(&rq, &bed.g[G_FLOW], TXC_ID_MAKE(a.prefix, 9), bed.g[G_FLOW].source);
	rq.key.flow.dport = htons(9);
	cl_refused(&b, &rq, -EPERM, "tagging with an ID under A's prefix");

	round_trip("after B's attempts", dropped);
	cl_collect(&a, K);
	cl_collect(&b, 0);
	completions_check(&a, (const int[]){ G_SOCKET }, 1, K, 1, TXC_SCOPE_ID,
			  "after B's attempts");
	ASSERT_EQ(b.log->n, 0, "completions B received");
	account_check(&a, gs, K, 0, "after B's attempts");
	account_check(&a, gm, 0, K, "after B's attempts");

	if (cl_simple(&a, W_CLEAR, TXC_SCOPE_ID, gs->id, &rp, "A clears"))
		round_trip("cleared by A", NULL);
out:
	cl_stop(&a);
	cl_stop(&b);
	daemon_down(&d);
}

/* --- 3. disconnect releases ----------------------------------------------- */

/*
 * Root takes a released @prefix and tags the socket group with @id, the ID
 * it had: if a cancel of the ID or the prefix outlived the lease, the
 * frames would still be dropped.
 */
static bool released_prefix_clean(const struct txct_daemon *d, __u32 prefix, __u32 id,
				  const char *phase)
{
	struct txc_client *c = root_open(d);
	struct txc_stats_entry e;
	bool ok = false;
	__u32 source;
	char what[128];

	if (!c)
		return false;
	snprintf(what, sizeof(what), "%s: root takes the released prefix %u", phase, prefix);
	if (!ASSERT_OK(txc_prefix_claim(c, prefix), what) ||
	    !ASSERT_OK(txc_source_open(c, &source), "root opens a source") ||
	    !ASSERT_OK(txc_tag_socket(c, bed.g[G_SOCKET].tx, id, source, NULL),
		       "root tags the socket group with its old ID")) {
		printf("    root: %s\n", txc_client_error(c));
		goto out;
	}
	/* Other groups may still be canceled by their owners: look at this one only. */
	snprintf(what, sizeof(what), "%s, the old ID re-tagged", phase);
	udp_drain(bed.g[G_SOCKET].rx);
	ok = ASSERT_EQ(udp_send(bed.g[G_SOCKET].tx, g_daddr(&bed.g[G_SOCKET]),
				bed.g[G_SOCKET].dport, K, 0), K, "frames sent") &&
	     ASSERT_EQ(udp_recv(bed.g[G_SOCKET].rx, K, QUIET_MS), K, what) &&
	     ASSERT_OK(txc_stats(c, TXC_SCOPE_SOURCE, source, &e, 1) == 1 ? 0 : -EIO,
		       "root's STATS") &&
	     ASSERT_EQ(e.counts.aborted_frames, 0, "frames aborted under the released ID");
out:
	txc_client_close(c);
	return ok;
}

static void test_disconnect(void)
{
	struct txct_daemon d = { .pid = 0 };
	struct client a = CLIENT_INIT, b = CLIENT_INIT;
	bool dropped[NG] = { [G_SOCKET] = true, [G_MARK] = true, [G_CGROUP] = true };
	struct txc_stats_entry e;
	__u32 prefix_a, id_a, src_a[2], uid = 0;

	if (!bed_up() || !daemon_up(&d, NULL) || !start_two(&a, &b, &d))
		goto out;
	prefix_a = a.prefix;
	id_a = bed.g[G_SOCKET].id;
	src_a[0] = bed.g[G_SOCKET].source;
	src_a[1] = bed.g[G_MARK].source;
	if (!cl_simple(&a, W_CANCEL, TXC_SCOPE_PREFIX, a.prefix, NULL, "A cancels its prefix") ||
	    !cl_simple(&b, W_CANCEL, TXC_SCOPE_ID, bed.g[G_CGROUP].id, NULL,
		       "B cancels its cgroup group") ||
	    !round_trip("both canceled", dropped))
		goto out;
	cl_collect(&a, 2 * K);
	cl_collect(&b, K);
	if (!completions_check(&a, own_a, 2, K, 1, TXC_SCOPE_PREFIX, "both canceled") ||
	    !completions_check(&b, (const int[]){ G_CGROUP }, 1, K, 1, TXC_SCOPE_ID,
			       "both canceled"))
		goto out;

	cl_stop(&a);
	ASSERT_EQ(lease_wait(&d, prefix_a, 0, WAIT_MS), 0, "A's prefix after A left (0: free)");
	ASSERT_EQ(lease_of(&d, b.prefix, &uid), TXC_LEASE_HELD, "B's prefix after A left");
	ASSERT_EQ(uid, UID_B, "holder of B's prefix");
	ASSERT_EQ(root_stats(&d, src_a[0], &e), -ENOENT, "STATS of A's first source after A left");
	ASSERT_EQ(root_stats(&d, src_a[1], &e), -ENOENT, "STATS of A's second source after A left");

	dropped[G_SOCKET] = dropped[G_MARK] = false;
	cl_log_reset(&b);
	round_trip("after A left", dropped);
	cl_collect(&b, K);
	completions_check(&b, (const int[]){ G_CGROUP }, 1, K, K + 1, TXC_SCOPE_ID, "after A left");
	account_check(&b, &bed.g[G_CGROUP], 2 * K, 0, "after A left");
	account_check(&b, &bed.g[G_FLOW], 0, 2 * K, "after A left");

	released_prefix_clean(&d, prefix_a, id_a, "after A left");
	if (cl_simple(&b, W_CLEAR, TXC_SCOPE_ID, bed.g[G_CGROUP].id, NULL, "B clears"))
		round_trip("B cleared", NULL);
out:
	cl_stop(&a);
	cl_stop(&b);
	daemon_down(&d);
}

/* --- 4. the tool ---------------------------------------------------------- */

/* build/txcancel next to the test binary; $TXCT_TOOL overrides (as $TXCT_DAEMON does). */
static const char *tool_path(void)
{
	static char path[PATH_MAX + 16];

	return txct_build_path("TXCT_TOOL", "txcancel", path, sizeof(path));
}

/* Run `txcancel -s SOCK ARGS...` (NULL-terminated); its exit status, output in @out. */
static int tool(const struct txct_daemon *d, char *out, size_t len, ...)
{
	const char *argv[24] = { tool_path(), "-s", d->sock };
	int argc = 3;
	va_list ap;

	va_start(ap, len);
	while (argc < 23 && (argv[argc] = va_arg(ap, const char *)))
		argc++;
	va_end(ap);
	argv[argc] = NULL;
	return txct_spawn_wait(argv, out, len, 10000);
}

/* A program running in the background, its output kept in an unlinked file. */
struct bg {
	pid_t pid;
	int out;
};

static int bg_start(struct bg *bg, const char *const *argv)
{
	char path[] = "/tmp/txc-e2e-XXXXXX";

	bg->pid = 0;
	bg->out = mkostemp(path, O_CLOEXEC);
	if (bg->out < 0)
		return -errno;
	unlink(path);
	fflush(stdout);
	fflush(stderr);
	bg->pid = fork();
	if (bg->pid < 0)
		return -errno;
	if (bg->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(bg->out, STDOUT_FILENO);
		dup2(bg->out, STDERR_FILENO);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	return 0;
}

/* Wait (bounded, then kill) and read its output; returns its exit status. */
static int bg_wait(struct bg *bg, int timeout_ms, char *out, size_t len)
{
	__u64 end = test_now_ms() + timeout_ms;
	int status = 0, ret = -ETIMEDOUT;
	ssize_t n;

	out[0] = '\0';
	if (bg->pid <= 0)
		return -ECHILD;
	while (waitpid(bg->pid, &status, WNOHANG) == 0) {
		if (test_now_ms() > end) {
			kill(bg->pid, SIGKILL);
			waitpid(bg->pid, &status, 0);
			goto read;
		}
		test_sleep_ms(20);
	}
	ret = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
read:
	bg->pid = 0;
	n = pread(bg->out, out, len - 1, 0);
	out[n > 0 ? n : 0] = '\0';
	close(bg->out);
	bg->out = -1;
	return ret;
}

static void bg_kill(struct bg *bg)
{
	char tmp[16];

	if (bg->pid > 0) {
		kill(bg->pid, SIGKILL);
		bg_wait(bg, 1000, tmp, sizeof(tmp));
	}
}

/* Lines of @text that contain every one of @n needles. */
static int lines_with(const char *text, int n, const char *const *needles)
{
	int count = 0;

	for (const char *line = text; *line;) {
		const char *eol = strchr(line, '\n');
		size_t len = eol ? (size_t)(eol - line) : strlen(line);
		bool all = true;

		for (int i = 0; i < n && all; i++) {
			const char *hit = memmem(line, len, needles[i], strlen(needles[i]));

			all = hit != NULL;
		}
		count += all;
		line += len + (eol ? 1 : 0);
	}
	return count;
}

/*
 * Whether the JSON object of interface @name in `status -j` has @member (as
 * written, e.g. "\"attach\":\"tcx\"").  Interface objects hold no nested
 * object, so the object ends at the next '}'.
 */
static bool iface_has(const char *json, const char *name, const char *member)
{
	char key[64];
	const char *obj, *end, *hit;

	snprintf(key, sizeof(key), "\"name\":\"%s\"", name);
	obj = strstr(json, key);
	if (!obj)
		return false;
	while (obj > json && *obj != '{')
		obj--;
	end = strchr(obj, '}');
	hit = strstr(obj, member);
	return hit && end && hit < end;
}

static void test_tool(void)
{
	struct txct_daemon d = { .pid = 0 };
	struct client a = CLIENT_INIT;
	struct group *gm = &bed.g[G_MARK];
	bool dropped[NG] = { [G_MARK] = true };
	static char out[256 * 1024];
	char id[16], src[16], n[16], want_id[32], want_src[32], want[48];
	struct txc_stats_entry e = { .subscribers = 0 };
	struct bg watch = { .pid = 0, .out = -1 };
	__u64 end;
	int ret;

	if (!bed_up() || !daemon_up(&d, NULL) || !client_up(&a, "client A", UID_A, &d) ||
	    !cl_own(&a, own_a, 2))
		goto out;

	ret = tool(&d, out, sizeof(out), "-j", "status", NULL);
	if (!ASSERT_EQ(ret, 0, "txcancel status -j: exit status"))
		printf("    %s", out);
	ASSERT_TRUE(iface_has(out, IF_A, kernel_attach_json()),
		    kernel_tcx ? "status -j: " IF_A " attach tcx" : "status -j: " IF_A " attach clsact");
	ASSERT_TRUE(iface_has(out, IF_A, "\"present\":true"), "status -j: " IF_A " present");

	snprintf(id, sizeof(id), "0x%08x", gm->id);
	snprintf(src, sizeof(src), "%u", gm->source);
	snprintf(n, sizeof(n), "%d", K);
	{
		const char *argv[] = { tool_path(), "-s", d.sock, "-j", "watch", "-c", n,
				       "-t", "10", src, NULL };

		if (!ASSERT_OK(bg_start(&watch, argv), "starting txcancel watch"))
			goto out;
	}
	/* The watcher is the source's second subscriber once it is ready. */
	end = test_now_ms() + WAIT_MS;
	while ((root_stats(&d, gm->source, &e) || e.subscribers < 2) && test_now_ms() < end)
		test_sleep_ms(20);
	if (!ASSERT_EQ(e.subscribers, 2, "subscribers of the watched source"))
		goto out;

	ret = tool(&d, out, sizeof(out), "cancel", "id", id, NULL);
	if (!ASSERT_EQ(ret, 0, "txcancel cancel id: exit status"))
		printf("    %s", out);
	round_trip("canceled by the tool", dropped);

	ret = bg_wait(&watch, WAIT_MS, out, sizeof(out));
	if (!ASSERT_EQ(ret, 0, "txcancel watch: exit status"))
		printf("    %s", out);
	snprintf(want_id, sizeof(want_id), "\"id\":%u,", gm->id);
	snprintf(want_src, sizeof(want_src), "\"source\":%u,", gm->source);
	snprintf(want, sizeof(want), "\"status\":%u,", TXC_STATUS_SEND_ABORTED);
	ASSERT_EQ(lines_with(out, 1, (const char *[]){ "\"type\":\"completion\"" }), K,
		  "watch -j: completion lines");
	ASSERT_EQ(lines_with(out, 4, (const char *[]){ "\"type\":\"completion\"", want_id,
						       want_src, want }), K,
		  "watch -j: completion lines with the group's ID, source and status");

	ret = tool(&d, out, sizeof(out), "-j", "stats", "source", src, NULL);
	ASSERT_EQ(ret, 0, "txcancel stats -j: exit status");
	snprintf(want, sizeof(want), "\"aborted_frames\":%d,", K);
	ASSERT_TRUE(strstr(out, want) != NULL, "stats -j: aborted_frames");
	snprintf(want, sizeof(want), "\"delivered\":%d,", K);
	ASSERT_TRUE(strstr(out, want) != NULL, "stats -j: delivered");
	ASSERT_TRUE(strstr(out, "\"ring_lost\":0,") != NULL, "stats -j: ring_lost");

	cl_collect(&a, K);
	completions_check(&a, (const int[]){ G_MARK }, 1, K, 1, TXC_SCOPE_ID,
			  "canceled by the tool");

	ret = tool(&d, out, sizeof(out), "clear", "id", id, NULL);
	if (!ASSERT_EQ(ret, 0, "txcancel clear id: exit status"))
		printf("    %s", out);
	round_trip("cleared by the tool", NULL);

	ret = tool(&d, out, sizeof(out), "cancel", "id", "0", NULL);
	ASSERT_TRUE(ret > 0, "txcancel cancel id 0: non-zero exit status");
	if (!ASSERT_TRUE(strstr(out, "prefix 0") != NULL, "cancel id 0: the error names prefix 0"))
		printf("    output: %s", out);
out:
	bg_kill(&watch);
	cl_stop(&a);
	daemon_down(&d);
}

/* --- 4b. metrics for Prometheus ------------------------------------------- */

/* The value of the sample "@name{@labels}" (or "@name" without labels) in @text. */
static bool prom_value(const char *text, const char *name, const char *labels,
		       unsigned long long *v)
{
	char key[160];
	const char *p = text;
	size_t n;

	n = snprintf(key, sizeof(key), labels ? "%s{%s} " : "%s ", name, labels);
	while ((p = strstr(p, key))) {
		if (p == text || p[-1] == '\n')
			return sscanf(p + n, "%llu", v) == 1;
		p += n;
	}
	return false;
}

static void prom_expect(const char *text, const char *name, const char *labels,
			unsigned long long want)
{
	unsigned long long v = ~0ULL;
	char what[200];

	snprintf(what, sizeof(what), "%s{%s}", name, labels ? labels : "");
	if (!ASSERT_TRUE(prom_value(text, name, labels, &v), what))
		return;
	ASSERT_EQ(v, want, what);
}

/*
 * txcancel stats --prometheus after traffic with one group canceled, the daemon
 * counting per interface (--iface-counters): promtool
 * accepts it, and every value is the one the daemon's own replies give
 * (STATS, STATUS); the interface's counters are the sum of the sources' (all
 * tagged traffic leaves by IF_A); a malformed request is counted once.
 */
static void test_prometheus(void)
{
	static char out[256 * 1024], check[4096];
	static struct txc_stats_entry all[512];
	struct txct_daemon d = { .pid = 0 };
	struct client a = CLIENT_INIT;
	static const char *const args[] = { "--iface-counters", NULL };
	bool dropped[NG] = { [G_MARK] = true };
	struct txc_counters sum = { 0 };
	struct txc_client *root = NULL;
	struct txc_rep_status st;
	char id[16], labels[64], path[] = "/tmp/txc-prom-XXXXXX", cmd[128];
	struct txc_msg_hdr bad = { .magic = 0, .version = TXC_PROTO_VERSION,
				   .type = TXC_MSG_HELLO, .length = sizeof(bad) };
	__u8 reply[512];
	FILE *f;
	int ret, n, fd = -1;

	if (!bed_up() || !daemon_up(&d, args) || !client_up(&a, "client A", UID_A, &d) ||
	    !cl_own(&a, own_a, 2))
		goto out;
	round_trip("before the cancel", NULL);
	snprintf(id, sizeof(id), "0x%08x", bed.g[G_MARK].id);
	ret = tool(&d, out, sizeof(out), "cancel", "id", id, NULL);
	if (!ASSERT_EQ(ret, 0, "txcancel cancel id: exit status"))
		printf("    %s", out);
	round_trip("canceled", dropped);
	cl_collect(&a, K);

	root = root_open(&d);
	if (!root)
		goto out;
	/* Refused before dispatch (bad magic): counted as type "invalid". */
	ret = txc_request_raw(root, &bad, sizeof(bad), -1, reply, sizeof(reply));
	ASSERT_TRUE(ret >= (int)sizeof(bad) && ((struct txc_msg_hdr *)reply)->error < 0,
		    "a request with a bad magic is refused");

	ret = tool(&d, out, sizeof(out), "stats", "--prometheus", NULL);
	if (!ASSERT_EQ(ret, 0, "txcancel stats --prometheus: exit status")) {
		printf("    %s", out);
		goto out;
	}
	fd = mkstemp(path);
	if (!ASSERT_GE0(fd, "a file for promtool") ||
	    !ASSERT_EQ(write(fd, out, strlen(out)), strlen(out), "writing it"))
		goto out;
	snprintf(cmd, sizeof(cmd), "promtool check metrics < %s 2>&1", path);
	f = popen(cmd, "r");
	if (ASSERT_TRUE(f != NULL, "running promtool")) {
		n = fread(check, 1, sizeof(check) - 1, f);
		check[n > 0 ? n : 0] = '\0';
		if (!ASSERT_EQ(pclose(f), 0, "promtool check metrics accepts the output"))
			printf("    promtool: %s", check);
	}

	/* Every source root sees, value by value; their sum is IF_A's. */
	n = txc_stats(root, TXC_SCOPE_SOURCE, 0, all, 512);
	if (!ASSERT_TRUE(n >= 2, "STATS lists the client's sources"))
		goto out;
	for (int i = 0; i < n; i++) {
		const struct txc_stats_entry *e = &all[i];

		snprintf(labels, sizeof(labels), "source=\"%u\",uid=\"%u\"", e->value, e->uid);
		prom_expect(out, "txcancel_source_passed_frames_total", labels,
			    e->counts.passed_frames);
		prom_expect(out, "txcancel_source_passed_bytes_total", labels,
			    e->counts.passed_bytes);
		prom_expect(out, "txcancel_source_aborted_frames_total", labels,
			    e->counts.aborted_frames);
		prom_expect(out, "txcancel_source_aborted_bytes_total", labels,
			    e->counts.aborted_bytes);
		prom_expect(out, "txcancel_source_ring_lost_total", labels, e->ring_lost);
		prom_expect(out, "txcancel_source_delivered_total", labels, e->delivered);
		prom_expect(out, "txcancel_source_backlog_lost_total", labels, e->backlog_lost);
		prom_expect(out, "txcancel_source_subscribers", labels, e->subscribers);
		sum.passed_frames += e->counts.passed_frames;
		sum.passed_bytes += e->counts.passed_bytes;
		sum.aborted_frames += e->counts.aborted_frames;
		sum.aborted_bytes += e->counts.aborted_bytes;
	}
	ASSERT_EQ(sum.aborted_frames, K, "STATS: the canceled group's frames aborted");
	prom_expect(out, "txcancel_interface_passed_frames_total", "interface=\"" IF_A "\"",
		    sum.passed_frames);
	prom_expect(out, "txcancel_interface_passed_bytes_total", "interface=\"" IF_A "\"",
		    sum.passed_bytes);
	prom_expect(out, "txcancel_interface_aborted_frames_total", "interface=\"" IF_A "\"",
		    sum.aborted_frames);
	prom_expect(out, "txcancel_interface_aborted_bytes_total", "interface=\"" IF_A "\"",
		    sum.aborted_bytes);
	prom_expect(out, "txcancel_interface_present", "interface=\"" IF_A "\"", 1);
	/* Where they were aborted: all at the hook, as IF_A runs no txcancel qdisc. */
	prom_expect(out, "txcancel_interface_aborted_at_frames_total",
		    "interface=\"" IF_A "\",where=\"hook\"", sum.aborted_frames);
	prom_expect(out, "txcancel_interface_aborted_at_frames_total",
		    "interface=\"" IF_A "\",where=\"queued\"", 0);
	prom_expect(out, "txcancel_interface_aborted_at_frames_total",
		    "interface=\"" IF_A "\",where=\"reset\"", 0);

	if (ASSERT_OK(txc_status(root, &st, NULL, 0, NULL, 0), "STATUS")) {
		prom_expect(out, "txcancel_leases", "kind=\"prefix\"", st.n_prefixes);
		prom_expect(out, "txcancel_leases", "kind=\"source\"", st.n_sources);
		/* Client A, root and the tool itself. */
		prom_expect(out, "txcancel_clients", NULL, 3);
	}
	prom_expect(out, "txcancel_requests_total", "type=\"invalid\"", 1);
	prom_expect(out, "txcancel_request_errors_total", "type=\"invalid\"", 1);
	prom_expect(out, "txcancel_requests_total", "type=\"cancel\"", 1);
	prom_expect(out, "txcancel_request_errors_total", "type=\"cancel\"", 0);
	prom_expect(out, "txcancel_up", NULL, 1);

	ret = tool(&d, out, sizeof(out), "stats", "--prometheus", "source", "1", NULL);
	ASSERT_EQ(ret, 2, "stats --prometheus source 1: usage error");
out:
	if (fd >= 0) {
		close(fd);
		unlink(path);
	}
	txc_client_close(root);
	cl_stop(&a);
	daemon_down(&d);
}

/* --- 5. interface removed and re-created ---------------------------------- */

/*
 * Wait (bounded) until `txcancel status -j` shows IF_A with @ifindex,
 * attached in the kernel's TC mode.
 */
static bool tool_shows_attached(const struct txct_daemon *d, __u32 ifindex)
{
	static char out[64 * 1024];
	char idx[32];
	__u64 end = test_now_ms() + WAIT_MS;
	bool ok;

	snprintf(idx, sizeof(idx), "\"ifindex\":%u,", ifindex);
	do {
		ok = tool(d, out, sizeof(out), "-j", "status", NULL) == 0 &&
		     iface_has(out, IF_A, idx) && iface_has(out, IF_A, kernel_attach_json()) &&
		     iface_has(out, IF_A, "\"present\":true");
		if (!ok)
			test_sleep_ms(50);
	} while (!ok && test_now_ms() < end);
	if (!ok)
		printf("    last status: %s", out);
	return ok;
}

/* Wait (bounded) until STATUS lists IF_A as managed but absent, with no ifindex. */
static bool root_sees_absent(const struct txct_daemon *d)
{
	struct txc_status_iface ifs[TXC_MAX_IFACES];
	struct txc_rep_status st;
	__u64 end = test_now_ms() + WAIT_MS;
	bool absent = false;

	do {
		struct txc_client *c = NULL;

		if (!txc_client_open(&c, d->sock) &&
		    txc_status(c, &st, ifs, TXC_MAX_IFACES, NULL, 0) == 0 && st.n_ifaces == 1)
			absent = !strcmp(ifs[0].name, IF_A) && !ifs[0].ifindex &&
				 !(ifs[0].flags & TXC_STATUS_IFACE_PRESENT);
		txc_client_close(c);
		if (!absent)
			test_sleep_ms(50);
	} while (!absent && test_now_ms() < end);
	return absent;
}

static void test_iface_recreate(void)
{
	struct txct_daemon d = { .pid = 0 };
	struct client a = CLIENT_INIT;
	bool dropped[NG] = { [G_SOCKET] = true };
	char pin_old[256], pin_new[256];
	bool deleted = false;
	__u32 old;

	if (!bed_up() || !daemon_up(&d, NULL) || !client_up(&a, "client A", UID_A, &d) ||
	    !cl_own(&a, own_a, 2))
		goto out;
	if (!cl_simple(&a, W_CANCEL, TXC_SCOPE_ID, bed.g[G_SOCKET].id, NULL, "cancel") ||
	    !round_trip("canceled", dropped))
		goto out;
	cl_collect(&a, K);
	if (!completions_check(&a, (const int[]){ G_SOCKET }, 1, K, 1, TXC_SCOPE_ID, "canceled"))
		goto out;

	/* A tcx link is pinned; a clsact filter lives on the interface only. */
	old = bed.ifindex;
	link_pin(pin_old, sizeof(pin_old), &d, old);
	if (!ASSERT_TRUE(path_exists(pin_old) == kernel_tcx,
			 kernel_tcx ? "link pin of " IF_A " while attached" :
			 "no link pin of " IF_A " in clsact mode"))
		goto out;
	deleted = true;
	if (!ASSERT_OK(fx_run("ip -n %s link del %s", bed.a, IF_A), "deleting the veth pair"))
		goto out;
	if (kernel_tcx)
		ASSERT_TRUE(path_wait(pin_old, false), "link pin of the deleted interface removed");
	ASSERT_TRUE(root_sees_absent(&d), "status shows the deleted " IF_A " absent");

	deleted = !bed_link_up();
	if (deleted)
		goto out;
	if (!ASSERT_TRUE(tool_shows_attached(&d, bed.ifindex),
			 "status shows the re-created " IF_A " attached in the kernel's TC mode"))
		goto out;
	link_pin(pin_new, sizeof(pin_new), &d, bed.ifindex);
	if (kernel_tcx)
		ASSERT_TRUE(path_exists(pin_new), "link pin of the re-created interface");
	if (bed.ifindex != old)
		ASSERT_TRUE(!path_exists(pin_old), "no link pin of the old ifindex");
	ASSERT_EQ(tc_progs(false), 1, "programs on the TC egress of the re-created " IF_A);

	cl_log_reset(&a);
	round_trip("re-created, still canceled", dropped);
	cl_collect(&a, K);
	completions_check(&a, (const int[]){ G_SOCKET }, 1, K, K + 1, TXC_SCOPE_ID,
			  "re-created, still canceled");
	account_check(&a, &bed.g[G_SOCKET], 2 * K, 0, "re-created");

	if (cl_simple(&a, W_CLEAR, TXC_SCOPE_ID, bed.g[G_SOCKET].id, NULL, "clear"))
		round_trip("cleared", NULL);
out:
	/* Later tests need the pair back. */
	if (deleted && !bed_link_up())
		bed.state = -1;
	cl_stop(&a);
	daemon_down(&d);
}

/* --- 6. daemon restart ---------------------------------------------------- */

/*
 * A cancel in force while txcanceld goes down (SIGTERM with --keep, or
 * SIGKILL): the pinned link keeps dropping the canceled group; the restarted
 * daemon finds the leases orphaned; the client reconnects, claims its
 * prefix and sources, hears of the frames dropped while the daemon was
 * down, clears, and the group flows.
 */
static void restart_claim(bool keep)
{
	static const char *const keep_args[] = { "--keep", NULL };
	struct txct_daemon d = { .pid = 0 };
	struct client a = CLIENT_INIT;
	struct group *gs = &bed.g[G_SOCKET];
	bool dropped[NG] = { [G_SOCKET] = true };
	char pin[256];
	__u32 uid = 0;
	struct wrep rp;

	if (!daemon_up(&d, keep ? keep_args : NULL) || !client_up(&a, "client A", UID_A, &d) ||
	    !cl_own(&a, own_a, 2))
		goto out;
	if (!cl_simple(&a, W_CANCEL, TXC_SCOPE_ID, gs->id, NULL, "cancel") ||
	    !round_trip("canceled", dropped))
		goto out;
	/* Everything read before the daemon goes: what follows counts the downtime. */
	cl_collect(&a, K);
	if (!completions_check(&a, (const int[]){ G_SOCKET }, 1, K, 1, TXC_SCOPE_ID, "canceled"))
		goto out;

	if (keep) {
		if (!ASSERT_EQ(txct_daemon_stop(&d), 0, "txcanceld exit status (SIGTERM, --keep)"))
			goto out;
	} else {
		txct_daemon_kill(&d);
	}
	link_pin(pin, sizeof(pin), &d, bed.ifindex);
	if (kernel_tcx)
		ASSERT_TRUE(path_exists(pin), "link pin while the daemon is down");
	ASSERT_EQ(tc_progs(false), 1, "programs on the TC egress while the daemon is down");
	round_trip("daemon down", dropped);

	if (!ASSERT_OK(txct_daemon_restart(&d), "restarting txcanceld"))
		goto out;
	ASSERT_EQ(tc_progs(false), 1, "programs on the TC egress after the restart");
	ASSERT_EQ(lease_of(&d, a.prefix, &uid), TXC_LEASE_ORPHANED, "A's prefix after the restart");
	ASSERT_EQ(uid, UID_A, "owner of the orphaned prefix");

	cl_log_reset(&a);
	if (!cl_simple(&a, W_CONNECT, 0, 0, NULL, "reconnecting") ||
	    !cl_simple(&a, W_PREFIX_CLAIM, 0, a.prefix, NULL, "claiming the prefix") ||
	    !cl_simple(&a, W_SOURCE_CLAIM, 0, gs->source, NULL, "claiming the socket source") ||
	    !cl_simple(&a, W_SOURCE_CLAIM, 0, bed.g[G_MARK].source, NULL,
		       "claiming the mark source"))
		goto out;
	ASSERT_EQ(lease_of(&d, a.prefix, &uid), TXC_LEASE_HELD, "A's prefix after the claim");
	/* The frames dropped while the daemon was down wait in the source's ring. */
	cl_collect(&a, K);
	completions_check(&a, (const int[]){ G_SOCKET }, 1, K, K + 1, TXC_SCOPE_ID,
			  "claimed: the frames dropped while the daemon was down");

	cl_log_reset(&a);
	round_trip("claimed, still canceled", dropped);
	cl_collect(&a, K);
	completions_check(&a, (const int[]){ G_SOCKET }, 1, K, 2 * K + 1, TXC_SCOPE_ID,
			  "claimed, still canceled");

	if (!cl_simple(&a, W_CLEAR, TXC_SCOPE_ID, gs->id, &rp, "clear"))
		goto out;
	ASSERT_EQ(rp.final.valid, 1, "clear: final counts valid");
	ASSERT_EQ(rp.final.counts.aborted_frames, 3 * K, "clear: aborted frames over the restart");
	ASSERT_EQ(rp.final.counts.passed_frames, 0, "clear: passed frames");
	round_trip("cleared", NULL);
	if (keep) {
		/* The restarted daemon has --keep too: it leaves its program in force, as asked. */
		cl_stop(&a);
		ASSERT_EQ(txct_daemon_stop(&d), 0, "txcanceld exit status (SIGTERM, --keep again)");
		ASSERT_EQ(tc_progs(false), 1, "programs on the TC egress after the second --keep exit");
		/* A clsact filter is not pinned: removing the pins (daemon_down) leaves it. */
		if (!kernel_tcx)
			ASSERT_OK(fx_run("tc -n %s filter del dev %s egress", bed.a, IF_A),
				  "removing the filter the --keep exit left");
	}
out:
	cl_stop(&a);
	daemon_down(&d);
}

/* Whether process @pid was started with the argument @opt followed by @val. */
static bool cmdline_has(pid_t pid, const char *opt, const char *val)
{
	char path[64], buf[4096];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	for (const char *a = buf; a < buf + n; a += strlen(a) + 1)
		if (!strcmp(a, opt) && a + strlen(a) + 1 < buf + n && !strcmp(a + strlen(a) + 1, val))
			return true;
	return false;
}

/*
 * An orphan nobody claims: it keeps its cancel for the grace period, then
 * the daemon releases it, with its rules and its cancel.
 */
static void restart_grace(void)
{
	static const char *const args[] = { "--grace", "2", NULL };
	struct txct_daemon d = { .pid = 0 };
	struct client a = CLIENT_INIT;
	bool dropped[NG] = { [G_SOCKET] = true };
	__u32 prefix, id, source;
	struct txc_stats_entry e;
	__u64 t0;
	int state;

	if (!daemon_up(&d, args) || !client_up(&a, "client A", UID_A, &d) || !cl_own(&a, own_a, 2))
		goto out;
	prefix = a.prefix;
	id = bed.g[G_SOCKET].id;
	source = bed.g[G_SOCKET].source;
	if (!cl_simple(&a, W_CANCEL, TXC_SCOPE_ID, id, NULL, "cancel") ||
	    !round_trip("canceled", dropped))
		goto out;

	txct_daemon_kill(&d);
	cl_stop(&a);
	if (!ASSERT_OK(txct_daemon_restart(&d), "restarting txcanceld"))
		goto out;
	t0 = test_now_ms();
	/* Otherwise the wait below measures the default grace period, not this one. */
	ASSERT_TRUE(cmdline_has(d.pid, "--grace", "2"), "the restarted daemon runs with --grace 2");
	ASSERT_EQ(lease_of(&d, prefix, NULL), TXC_LEASE_ORPHANED, "the prefix after the restart");
	round_trip("orphaned, in the grace period", dropped);
	ASSERT_TRUE(test_now_ms() - t0 < 2000, "checked within the grace period");

	state = lease_wait(&d, prefix, 0, 2000 + WAIT_MS);
	if (!ASSERT_EQ(state, 0, "the orphaned prefix after the grace period (0: free)"))
		txct_daemon_dump_log(&d);
	ASSERT_TRUE(test_now_ms() - t0 >= 1500, "released no earlier than the grace period");
	ASSERT_EQ(root_stats(&d, source, &e), -ENOENT, "STATS of the orphaned source after it");
	round_trip("released after the grace period", NULL);
	released_prefix_clean(&d, prefix, id, "released after the grace period");
out:
	cl_stop(&a);
	daemon_down(&d);
}

static void test_restart(void)
{
	if (!bed_up())
		return;
	if (test_sub_begin("keep_sigterm")) {
		restart_claim(true);
		test_sub_end();
	}

	if (test_sub_begin("kill9")) {
		restart_claim(false);
		test_sub_end();
	}

	if (test_sub_begin("grace_expiry")) {
		restart_grace();
		test_sub_end();
	}
}

/* ------------------------------------------------------------------------- */

static const struct test_case cases[] = {
	{ "two_clients", test_two_clients },
	{ "isolation", test_isolation },
	{ "disconnect", test_disconnect },
	{ "tool", test_tool },
	{ "prometheus", test_prometheus },
	{ "iface_recreate", test_iface_recreate },
	{ "restart", test_restart },
};

int main(int argc, char **argv)
{
	int ret;

	fx_start("test_e2e", "namespaces, veth, BPF, other users");
	for (int i = 0; i < NG; i++)
		bed.g[i].tx = bed.g[i].rx = -1;
	kernel_tcx = txdp_kernel_has_tcx();
	if (kernel_tcx && getenv("TXCT_TC_MODE") && !strcmp(getenv("TXCT_TC_MODE"), "clsact")) {
		kernel_tcx = false;
		clsact_forced = true;
		printf("# TC egress mode: clsact (TXCT_TC_MODE), as on kernels before 6.6\n");
	} else {
		printf("# TC egress mode of this kernel: %s\n",
		       kernel_tcx ? "tcx" : "clsact (no tcx before Linux 6.6)");
	}
	ret = test_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
	bed_down();
	return ret;
}
