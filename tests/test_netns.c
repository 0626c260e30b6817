// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Real-interface tests: txcancel attached to veth interfaces in private
 * network namespaces, fed by real UDP sockets.  Every test checks what
 * arrived at the far end, the per-source counters and the abort records,
 * not only return codes.
 *
 * Addresses: 198.18.0.0/15 and 2001:db8::/32 only; traffic never leaves the
 * namespaces the test creates.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "dp.h"
#include "netns.h"
#include "testlib.h"
#include "tests/helpers.skel.h"

/* Not in the UAPI headers of older distributions (same values as attach.c). */
#ifndef BPF_TCX_EGRESS
#define BPF_TCX_EGRESS		47
#endif
#define LINK_TYPE_TCX		11	/* BPF_LINK_TYPE_TCX */

#define K		200	/* frames per group per round */
#define NO_TCX		"no tcx in this kernel (tcx links are Linux 6.6+)"
#define QUIET_MS	200	/* how long "nothing arrives" is watched */
#define MAX_GROUPS	5
#define MAX_SRC		8
#define RING_BYTES	(64u * 1024u)
#define MARK_MASK	0xff00u

/* --- log capture ---------------------------------------------------------- */

static char last_log[512];
static bool log_quiet;

/* Keep the datapath library's last message so that tests can check it is clear. */
static void test_log(enum txdp_log_level level, const char *fmt, va_list ap)
{
	va_list copy;

	if (level > TXDP_LOG_WARN)
		return;
	va_copy(copy, ap);
	vsnprintf(last_log, sizeof(last_log), fmt, ap);
	if (!log_quiet) {
		fprintf(stderr, "txcancel: ");
		vfprintf(stderr, fmt, copy);
	}
	va_end(copy);
}

/*
 * The TC egress mode this kernel offers, as txcanceld picks it: a tcx link
 * from Linux 6.6, a cls_bpf filter on clsact before.  Tests that are not
 * about one mode attach in this one.
 */
static bool kernel_tcx;

static enum txdp_tc_mode kernel_tc_mode(void)
{
	return kernel_tcx ? TXDP_TC_TCX : TXDP_TC_CLSACT;
}

static __u32 kernel_tc_flag(void)
{
	return kernel_tcx ? TXC_IFACE_F_TC_TCX : TXC_IFACE_F_TC_CLSACT;
}

/* --- sender groups -------------------------------------------------------- */

/* One stream of UDP frames with its own destination port, tag and receiver. */
struct group {
	const char *name;
	int kind;		/* TXC_TAG_* */
	const char *saddr, *daddr;
	__u16 sport, dport;
	__u32 id, source;
	__u32 mark;		/* SO_MARK, for TXC_TAG_MARK */
	__u32 ifindex;		/* where the hook sees the frames */
	/* filled by group_open() */
	int family;		/* 4 or 6 */
	int tx, rx;
	__u64 key64;		/* socket cookie or cgroup id */
	__u32 mark_key;
	struct txc_flow_key flow;
};

static const char *scope_name(int scope)
{
	return scope == TXC_SCOPE_ID ? "id" : scope == TXC_SCOPE_PREFIX ? "prefix" : "source";
}

static __u32 scope_value(const struct group *g, int scope)
{
	if (scope == TXC_SCOPE_ID)
		return g->id;
	if (scope == TXC_SCOPE_PREFIX)
		return TXC_ID_PREFIX(g->id);
	return g->source;
}

/*
 * Open the group's receiver in @rx_ns and sender in @tx_ns.  A cgroup
 * group's sender is created inside @cg: a socket keeps the cgroup it was
 * created in, so the process can leave right after.
 */
static bool group_open(struct group *g, const char *tx_ns, const char *rx_ns,
		       struct fx_cgroup *cg)
{
	socklen_t len = sizeof(g->key64);
	__u8 raw[16];

	g->tx = g->rx = -1;
	g->family = addr_parse(g->saddr, raw);
	g->rx = udp_open(rx_ns, g->daddr, g->dport);
	if (!ASSERT_GE0(g->rx, "receiver socket"))
		return false;
	if (g->kind == TXC_TAG_CGROUP && !ASSERT_OK(cg_enter(cg), "entering the test cgroup"))
		return false;
	g->tx = udp_open(tx_ns, g->saddr, g->sport);
	if (g->kind == TXC_TAG_CGROUP && !ASSERT_OK(cg_leave(cg), "leaving the test cgroup"))
		return false;
	if (!ASSERT_GE0(g->tx, "sender socket"))
		return false;

	switch (g->kind) {
	case TXC_TAG_MARK:
		g->mark_key = g->mark & MARK_MASK;
		return ASSERT_OK(setsockopt(g->tx, SOL_SOCKET, SO_MARK, &g->mark,
					    sizeof(g->mark)) ? -errno : 0, "SO_MARK");
	case TXC_TAG_SOCKET:
		return ASSERT_OK(getsockopt(g->tx, SOL_SOCKET, SO_COOKIE, &g->key64, &len) ?
				 -errno : 0, "SO_COOKIE") &&
		       ASSERT_TRUE(g->key64 != 0, "socket cookie");
	case TXC_TAG_CGROUP:
		g->key64 = cg->id;
		return true;
	default:
		return ASSERT_OK(flow_key_make(&g->flow, g->saddr, g->sport, g->daddr, g->dport),
				 "flow key");
	}
}

static void group_close(struct group *g)
{
	udp_pair_close(&g->tx, &g->rx);
}

static bool group_rule_add(struct txdp *dp, const struct group *g)
{
	struct txc_tag tag = { .cancel_id = g->id, .source = g->source };
	const void *key;
	char what[64];

	if (g->kind == TXC_TAG_MARK)
		key = &g->mark_key;
	else if (g->kind == TXC_TAG_SOCKET || g->kind == TXC_TAG_CGROUP)
		key = &g->key64;
	else
		key = &g->flow;
	snprintf(what, sizeof(what), "tag rule of %s", g->name);
	if (g->kind == TXC_TAG_SOCKET)
		return ASSERT_OK(txdp_sock_tag(dp, g->tx, &tag), what);
	return ASSERT_OK(txdp_tag_add(dp, g->kind, key, &tag), what);
}

/*
 * Send @count frames from every group; check each receiver got @want[i].
 * One group after the other: a veth whose peer runs XDP takes frames into a
 * ring of 256, and the groups' bursts together could overflow it while its
 * NAPI poll waits for a CPU (a slow guest), losing frames before any hook.
 */
static bool round_trip(struct group *gs, int n, int count, const int *want, const char *phase)
{
	char what[128];
	bool ok = true;
	int i;

	for (i = 0; i < n; i++)
		udp_drain(gs[i].rx);
	for (i = 0; i < n; i++) {
		snprintf(what, sizeof(what), "%s: frames sent by %s", phase, gs[i].name);
		ok &= ASSERT_EQ(udp_send(gs[i].tx, gs[i].daddr, gs[i].dport, count, i), count,
				what);
		snprintf(what, sizeof(what), "%s: frames of %s that arrived", phase, gs[i].name);
		ok &= ASSERT_EQ(udp_recv(gs[i].rx, want[i], QUIET_MS), want[i], what);
	}
	return ok;
}

static void want_all(int *want, int n, int count, int except, int except_count)
{
	int i;

	for (i = 0; i < n; i++)
		want[i] = i == except ? except_count : count;
}

static bool stats_expect(struct txdp *dp, const char *phase, const struct group *g,
			 __u64 passed, __u64 aborted)
{
	__u32 len = udp_frame_len(g->family);
	struct txc_source_stats st;
	char what[128];
	bool ok = true;

	snprintf(what, sizeof(what), "%s: stats of source %u (%s)", phase, g->source, g->name);
	if (!ASSERT_OK(txdp_source_stats(dp, g->source, &st), what))
		return false;
	snprintf(what, sizeof(what), "%s: %s passed_frames", phase, g->name);
	ok &= ASSERT_EQ(st.passed_frames, passed, what);
	snprintf(what, sizeof(what), "%s: %s passed_bytes", phase, g->name);
	ok &= ASSERT_EQ(st.passed_bytes, passed * len, what);
	snprintf(what, sizeof(what), "%s: %s aborted_frames", phase, g->name);
	ok &= ASSERT_EQ(st.aborted_frames, aborted, what);
	snprintf(what, sizeof(what), "%s: %s aborted_bytes", phase, g->name);
	ok &= ASSERT_EQ(st.aborted_bytes, aborted * len, what);
	snprintf(what, sizeof(what), "%s: %s lost_reports", phase, g->name);
	ok &= ASSERT_EQ(st.lost_reports, 0, what);
	return ok;
}

/* --- abort rings ---------------------------------------------------------- */

struct rings {
	int fd[MAX_SRC];	/* index = source */
};

static struct ring_log rlog;

static void rings_init(struct rings *r)
{
	int s;

	for (s = 0; s < MAX_SRC; s++)
		r->fd[s] = -1;
}

static bool rings_open(struct txdp *dp, struct rings *r, __u32 nsrc)
{
	__u32 s;

	rings_init(r);
	for (s = 1; s <= nsrc && s < MAX_SRC; s++) {
		r->fd[s] = txdp_ring_open(dp, s);
		if (!ASSERT_GE0(r->fd[s], "ring of a source"))
			return false;
	}
	return true;
}

static void rings_close(struct rings *r)
{
	int s;

	for (s = 0; s < MAX_SRC; s++) {
		if (r->fd[s] >= 0)
			close(r->fd[s]);
		r->fd[s] = -1;
	}
}

/* Read everything @source's ring holds into rlog (which is emptied first). */
static bool ring_read(struct rings *r, __u32 source)
{
	memset(&rlog, 0, offsetof(struct ring_log, recs));
	rlog.n = 0;
	return ASSERT_OK(ring_drain(r->fd[source], &rlog), "draining a ring") &&
	       ASSERT_EQ(rlog.bad_size, 0, "ring samples of the wrong size") &&
	       ASSERT_EQ(rlog.overflow, 0, "ring records beyond the test's buffer");
}

static int cmp_u64(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/*
 * Check the records in rlog: @total of them, sequence numbers exactly
 * @first_seq.. with no gap, and each one describing a frame of one of @gs
 * (matched by destination port) with the given hook and scope.  The number
 * of records per group is returned in @per_group.
 */
static bool records_check(int total, __u64 first_seq, int hook, int scope,
			  const struct group *gs, int n, int *per_group)
{
	static __u64 seqs[FX_RING_MAX_RECORDS];
	__u64 now = mono_ns();
	bool ok = true;
	int i, j;

	for (j = 0; j < n; j++)
		per_group[j] = 0;
	if (!ASSERT_EQ(rlog.n, total, "abort records in the ring"))
		return false;
	for (i = 0; i < rlog.n && ok; i++) {
		const struct txc_abort_record *r = &rlog.recs[i];
		const struct txc_frame_summary *f = &r->frame;
		const struct group *g = NULL;
		__u8 sa[16], da[16];

		for (j = 0; j < n; j++) {
			if (f->dport == htons(gs[j].dport)) {
				g = &gs[j];
				per_group[j]++;
				break;
			}
		}
		if (!ASSERT_TRUE(g != NULL, "record of a frame the test did not expect to drop"))
			return false;
		addr_parse(g->saddr, sa);
		addr_parse(g->daddr, da);
		seqs[i] = r->seq;
		ok = ASSERT_EQ(r->hdr.version, TXC_RECORD_VERSION, "record hdr.version") &&
		     ASSERT_EQ(r->hdr.type, TXC_RECORD_ABORT, "record hdr.type") &&
		     ASSERT_EQ(r->hdr.size, sizeof(*r), "record hdr.size") &&
		     ASSERT_EQ(r->hdr.status, TXC_STATUS_SEND_ABORTED, "record hdr.status") &&
		     ASSERT_EQ(r->cancel_id, g->id, "record cancel_id") &&
		     ASSERT_EQ(r->source, g->source, "record source") &&
		     ASSERT_TRUE(r->tstamp_ns > 0 && r->tstamp_ns <= now, "record tstamp_ns") &&
		     ASSERT_EQ(r->ifindex, g->ifindex, "record ifindex") &&
		     ASSERT_EQ(r->len, udp_frame_len(g->family), "record len") &&
		     ASSERT_EQ(r->gso_segs, 1, "record gso_segs") &&
		     ASSERT_EQ(r->gso_size, 0, "record gso_size") &&
		     ASSERT_EQ(r->hook, hook, "record hook") &&
		     ASSERT_EQ(r->tag_kind, g->kind, "record tag_kind") &&
		     ASSERT_EQ(r->scope, scope, "record scope") &&
		     ASSERT_EQ(r->where, TXC_AT_HOOK, "record where: at the hook") &&
		     ASSERT_EQ(r->reserved2, 0, "record reserved2") &&
		     ASSERT_EQ(f->eth_proto, htons(g->family == 4 ? 0x0800 : 0x86dd),
			       "record frame.eth_proto") &&
		     ASSERT_EQ(f->vlan_tci, 0, "record frame.vlan_tci") &&
		     ASSERT_EQ(f->family, g->family == 4 ? TXC_FAMILY_IPV4 : TXC_FAMILY_IPV6,
			       "record frame.family") &&
		     ASSERT_EQ(f->l4_proto, 17, "record frame.l4_proto") &&
		     ASSERT_EQ(f->sport, htons(g->sport), "record frame.sport") &&
		     ASSERT_EQ(f->dport, htons(g->dport), "record frame.dport") &&
		     ASSERT_MEMEQ(f->saddr, sa, 16, "record frame.saddr") &&
		     ASSERT_MEMEQ(f->daddr, da, 16, "record frame.daddr");
	}
	if (!ok)
		return false;
	/* Order across CPUs is not promised; the set of numbers is. */
	qsort(seqs, rlog.n, sizeof(seqs[0]), cmp_u64);
	for (i = 0; i < rlog.n; i++)
		if (!ASSERT_EQ(seqs[i], first_seq + i, "record seq (sorted, no gaps)"))
			return false;
	return true;
}

/* The ring of every source in @gs except @victim's must be empty. */
static bool rings_empty_except(struct rings *r, const struct group *gs, int n, int victim)
{
	char what[96];
	bool ok = true;
	int i;

	for (i = 0; i < n; i++) {
		if (i == victim)
			continue;
		if (!ring_read(r, gs[i].source))
			return false;
		snprintf(what, sizeof(what), "records in the ring of %s", gs[i].name);
		ok &= ASSERT_EQ(rlog.n, 0, what);
	}
	return ok;
}

/* --- program and link queries ---------------------------------------------- */

static __u32 prog_id(int prog_fd)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len))
		return 0;
	return info.id;
}

/*
 * Programs on the tcx egress chain of @ifindex in the current netns, in
 * order.  A kernel without tcx has no chain: none (it answers EINVAL).
 */
static int tcx_chain(__u32 ifindex, __u32 *ids, __u32 max)
{
	__u32 cnt = max, flags = 0;

	if (bpf_prog_query(ifindex, BPF_TCX_EGRESS, 0, &flags, ids, &cnt))
		return errno == EINVAL && !kernel_tcx ? 0 : -errno;
	return cnt;
}

/*
 * Links in the whole system that run one of @ids.  A link freed just now may
 * linger for a moment, so look again a few times before believing it.
 */
static int links_running(const __u32 *ids, int nids, __u32 *ifindex_seen)
{
	int tries, count = 0;

	for (tries = 0; tries < 20; tries++) {
		__u32 id = 0;

		count = 0;
		while (!bpf_link_get_next_id(id, &id)) {
			struct bpf_link_info info = {};
			__u32 len = sizeof(info);
			int fd = bpf_link_get_fd_by_id(id), i;

			if (fd < 0)
				continue;
			if (!bpf_obj_get_info_by_fd(fd, &info, &len)) {
				for (i = 0; i < nids; i++) {
					if (info.prog_id != ids[i])
						continue;
					count++;
					/* tcx and xdp links both keep ifindex first. */
					if (ifindex_seen && (info.type == BPF_LINK_TYPE_XDP ||
							     info.type == LINK_TYPE_TCX))
						*ifindex_seen = info.xdp.ifindex;
				}
			}
			close(fd);
		}
		if (!count)
			break;
		usleep(50000);
	}
	return count;
}

/* 1 if @ifname has a clsact qdisc, 0 if not, -1 if tc could not tell. */
static int qdisc_has_clsact(const char *ns, const char *ifname)
{
	char out[2048];

	if (fx_run_output(out, sizeof(out), "tc -n %s qdisc show dev %s", ns, ifname))
		return -1;
	return strstr(out, "clsact") != NULL;
}

/* --- fixtures ------------------------------------------------------------- */

/* Namespaces A and B joined by 1 or 2 veth pairs; txcancel's dp. */
struct tc_fixture {
	char a[FX_NAME_MAX], b[FX_NAME_MAX];
	char if_a[2][IFNAMSIZ], if_b[2][IFNAMSIZ];
	char addr_a[2][32], addr_b[2][32];	/* IPv4, no prefix length */
	char addr6_a[48], addr6_b[48];		/* on pair 0 */
	__u32 ifindex_a[2];
	int pairs;
	char pin[128];
	struct txdp *dp;
};

static bool dp_open(struct txdp **dp, char *pin, size_t len, const char *tag)
{
	struct txdp_opts opts = { .pin_dir = pin, .ring_bytes = RING_BYTES,
				    .flow_rules_max = 1024 };

	pin_dir_make(pin, len, tag);
	return ASSERT_OK(txdp_open(dp, &opts), "opening the datapath");
}

/* Pair i uses 198.18.<subnet + i>.0/24; pair 0 also 2001:db8:<subnet>::/64. */
static bool tc_fixture_setup(struct tc_fixture *fx, const char *tag, int pairs, int subnet)
{
	__u8 mac_a[6], mac_b[6];
	int i;

	memset(fx, 0, sizeof(*fx));
	fx->pairs = pairs;
	if (!ASSERT_OK(ns_createf(fx->a, "%s-a", tag), "namespace A") ||
	    !ASSERT_OK(ns_createf(fx->b, "%s-b", tag), "namespace B"))
		return false;
	for (i = 0; i < pairs; i++) {
		snprintf(fx->if_a[i], IFNAMSIZ, "vA%d", i);
		snprintf(fx->if_b[i], IFNAMSIZ, "vB%d", i);
		snprintf(fx->addr_a[i], sizeof(fx->addr_a[i]), "198.18.%d.1", subnet + i);
		snprintf(fx->addr_b[i], sizeof(fx->addr_b[i]), "198.18.%d.2", subnet + i);
		if (!ASSERT_OK(veth_create(fx->a, fx->if_a[i], fx->b, fx->if_b[i]), "veth pair"))
			return false;
		if (!ASSERT_OK(addr_add_len(fx->a, fx->if_a[i], fx->addr_a[i], 24), "address in A") ||
		    !ASSERT_OK(addr_add_len(fx->b, fx->if_b[i], fx->addr_b[i], 24), "address in B") ||
		    !ASSERT_OK(link_info(fx->a, fx->if_a[i], &fx->ifindex_a[i], mac_a), "A link") ||
		    !ASSERT_OK(link_info(fx->b, fx->if_b[i], NULL, mac_b), "B link") ||
		    !ASSERT_OK(neigh_add(fx->a, fx->if_a[i], fx->addr_b[i], mac_b), "neigh A") ||
		    !ASSERT_OK(neigh_add(fx->b, fx->if_b[i], fx->addr_a[i], mac_a), "neigh B"))
			return false;
		if (i)
			continue;
		snprintf(fx->addr6_a, sizeof(fx->addr6_a), "2001:db8:%d::1", subnet);
		snprintf(fx->addr6_b, sizeof(fx->addr6_b), "2001:db8:%d::2", subnet);
		if (!ASSERT_OK(addr_add_len(fx->a, fx->if_a[i], fx->addr6_a, 64), "IPv6 address in A") ||
		    !ASSERT_OK(addr_add_len(fx->b, fx->if_b[i], fx->addr6_b, 64), "IPv6 address in B") ||
		    !ASSERT_OK(neigh_add(fx->a, fx->if_a[i], fx->addr6_b, mac_b), "IPv6 neigh A") ||
		    !ASSERT_OK(neigh_add(fx->b, fx->if_b[i], fx->addr6_a, mac_a), "IPv6 neigh B"))
			return false;
	}
	return dp_open(&fx->dp, fx->pin, sizeof(fx->pin), tag);
}

/* Detach in @ns (clsact detach talks netlink there), unpin and close. */
static void dp_release_in(const char *ns, struct txdp **dp)
{
	if (!*dp)
		return;
	if (!ns_enter(ns)) {
		ASSERT_OK(txdp_detach_all(*dp), "detaching everything");
		ns_leave();
	}
	ASSERT_OK(txdp_unpin(*dp), "unpinning the datapath");
	txdp_close(*dp);
	*dp = NULL;
}

/* Detach in A (clsact detach talks netlink there), unpin, remove everything. */
static void tc_fixture_teardown(struct tc_fixture *fx)
{
	dp_release_in(fx->a, &fx->dp);
	ns_delete(fx->a);
	ns_delete(fx->b);
}

static bool attach_tc_in(const char *ns, struct txdp *dp, const char *ifname,
			 enum txdp_tc_mode mode)
{
	int err;

	if (!ASSERT_OK(ns_enter(ns), "entering a namespace"))
		return false;
	last_log[0] = '\0';
	err = txdp_attach_tc(dp, ifname, mode);
	ns_leave();
	if (err && last_log[0])
		printf("    loader: %s", last_log);
	if (!ASSERT_OK(err, "attaching the TC program"))
		return false;
	/* A clsact qdisc that is already there is expected: nothing to warn of. */
	if (!ASSERT_TRUE(!last_log[0], "no warning or error logged by a successful attach"))
		printf("    loader: %s", last_log);
	return true;
}

static bool detach_tc_in(const char *ns, struct txdp *dp, const char *ifname)
{
	int err;

	if (!ASSERT_OK(ns_enter(ns), "entering a namespace"))
		return false;
	err = txdp_detach_tc(dp, ifname);
	ns_leave();
	return ASSERT_OK(err, "detaching the TC program");
}

/* XDP in driver mode, or in skb mode where the driver has none. */
static int attach_xdp_in(const char *ns, struct txdp *dp, const char *ifname, __u32 *mode)
{
	bool quiet;
	int err;

	err = ns_enter(ns);
	if (err)
		return err;
	*mode = 0;
	quiet = log_quiet;
	log_quiet = true;
	err = txdp_attach_xdp(dp, ifname, 0);
	log_quiet = quiet;
	if (err && err != -EEXIST) {
		*mode = XDP_FLAGS_SKB_MODE;
		err = txdp_attach_xdp(dp, ifname, XDP_FLAGS_SKB_MODE);
	}
	ns_leave();
	return err;
}

/* --- 1. tc_groups --------------------------------------------------------- */

/*
 * One round of test 1: every group flows; @victim's group is canceled with
 * @scope and stops while the others flow; a clear lets it flow again.
 * Counters and records are checked after each phase.
 */
static void tc_groups_round(struct txdp *dp, struct group *gs, int n, int victim, int scope)
{
	struct group *v = &gs[victim];
	int want[MAX_GROUPS], per[MAX_GROUPS];
	struct rings r;
	bool ok = true;
	int i;

	rings_init(&r);
	if (!ASSERT_OK(txdp_reset(dp), "resetting the datapath") ||
	    !ASSERT_OK(txdp_set_mark_mask(dp, MARK_MASK), "mark mask"))
		return;
	for (i = 0; i < n; i++)
		if (!group_rule_add(dp, &gs[i]))
			return;
	if (!rings_open(dp, &r, n))
		goto out;

	want_all(want, n, K, -1, 0);
	if (!round_trip(gs, n, K, want, "before the cancel"))
		goto out;
	for (i = 0; i < n; i++)
		ok &= stats_expect(dp, "before the cancel", &gs[i], K, 0);
	ok &= rings_empty_except(&r, gs, n, -1);
	if (!ok)
		goto out;

	if (!ASSERT_OK(txdp_cancel(dp, scope, scope_value(v, scope), 0, 0), "cancel"))
		goto out;
	want_all(want, n, K, victim, 0);
	ok &= round_trip(gs, n, K, want, "canceled");
	for (i = 0; i < n; i++)
		ok &= stats_expect(dp, "canceled", &gs[i], i == victim ? K : 2 * K,
				   i == victim ? K : 0);
	if (ring_read(&r, v->source))
		ok &= records_check(K, 1, TXC_HOOK_TC_EGRESS, scope, v, 1, per);
	else
		ok = false;
	ok &= rings_empty_except(&r, gs, n, victim);
	if (!ok)
		goto out;

	if (!ASSERT_OK(txdp_clear(dp, scope, scope_value(v, scope)), "clear"))
		goto out;
	want_all(want, n, K, -1, 0);
	round_trip(gs, n, K, want, "cleared");
	for (i = 0; i < n; i++)
		stats_expect(dp, "cleared", &gs[i], i == victim ? 2 * K : 3 * K,
			     i == victim ? K : 0);
	rings_empty_except(&r, gs, n, -1);
out:
	rings_close(&r);
}

static void test_tc_groups(void)
{
	static const int scopes[] = { TXC_SCOPE_ID, TXC_SCOPE_PREFIX, TXC_SCOPE_SOURCE };
	struct group gs[MAX_GROUPS] = {
		/* 0x1234 under the mask 0xff00 is key 0x1200: the low bits are not the ID. */
		{ .name = "mark", .kind = TXC_TAG_MARK, .mark = 0x1234,
		  .sport = 7001, .dport = 6001, .id = 0x11000001, .source = 1 },
		{ .name = "socket", .kind = TXC_TAG_SOCKET,
		  .sport = 7002, .dport = 6002, .id = 0x12000002, .source = 2 },
		{ .name = "cgroup", .kind = TXC_TAG_CGROUP,
		  .sport = 7003, .dport = 6003, .id = 0x13000003, .source = 3 },
		{ .name = "flow4", .kind = TXC_TAG_FLOW,
		  .sport = 7004, .dport = 6004, .id = 0x14000004, .source = 4 },
		{ .name = "flow6", .kind = TXC_TAG_FLOW,
		  .sport = 7005, .dport = 6005, .id = 0x15000005, .source = 5 },
	};
	struct tc_fixture fx;
	struct fx_cgroup cg = {};
	struct txc_iface iface;
	size_t s;
	int i;

	for (i = 0; i < MAX_GROUPS; i++)
		gs[i].tx = gs[i].rx = -1;
	if (!tc_fixture_setup(&fx, "grp", 1, 0))
		goto out;
	if (!ASSERT_OK(cg_create(&cg, "grp"), "test cgroup"))
		goto out;
	for (i = 0; i < MAX_GROUPS; i++) {
		bool v6 = i == MAX_GROUPS - 1;

		gs[i].saddr = v6 ? fx.addr6_a : fx.addr_a[0];
		gs[i].daddr = v6 ? fx.addr6_b : fx.addr_b[0];
		gs[i].ifindex = fx.ifindex_a[0];
		if (!group_open(&gs[i], fx.a, fx.b, &cg))
			goto out;
	}
	if (!attach_tc_in(fx.a, fx.dp, fx.if_a[0], TXDP_TC_AUTO) ||
	    !ASSERT_OK(txdp_iface_get(fx.dp, fx.ifindex_a[0], &iface), "interface state") ||
	    !ASSERT_EQ(iface.flags & (TXC_IFACE_F_TC_TCX | TXC_IFACE_F_TC_CLSACT), kernel_tc_flag(),
		       kernel_tcx ? "automatic TC mode: tcx" : "automatic TC mode: clsact"))
		goto out;

	for (s = 0; s < sizeof(scopes) / sizeof(scopes[0]); s++) {
		for (i = 0; i < MAX_GROUPS; i++) {
			if (test_sub_begin("%s/%s", gs[i].name, scope_name(scopes[s]))) {
				tc_groups_round(fx.dp, gs, MAX_GROUPS, i, scopes[s]);
				test_sub_end();
			}
		}
	}
out:
	for (i = 0; i < MAX_GROUPS; i++)
		group_close(&gs[i]);
	cg_remove(&cg);
	tc_fixture_teardown(&fx);
}

/* --- forwarding fixture (test 2) ----------------------------------------- */

/*
 * S -- sR/rS -- R -- rD/dR -- D.  R forwards 198.18.40.0/24 <-> 198.18.41.0/24.
 * Two flow-tagged groups from S to D.
 */
struct fwd_fixture {
	char s[FX_NAME_MAX], r[FX_NAME_MAX], d[FX_NAME_MAX];
	__u32 rs_ifindex, rd_ifindex, dr_ifindex;
	__u8 rd_mac[6], dr_mac[6];
	char pin[128];
	struct txdp *dp;
	struct group gs[2];
};

static bool fwd_fixture_setup(struct fwd_fixture *fx, const char *tag)
{
	__u8 sr_mac[6], rs_mac[6];
	int i;

	memset(fx, 0, sizeof(*fx));
	for (i = 0; i < 2; i++)
		fx->gs[i].tx = fx->gs[i].rx = -1;
	if (!ASSERT_OK(ns_createf(fx->s, "%s-s", tag), "namespace S") ||
	    !ASSERT_OK(ns_createf(fx->r, "%s-r", tag), "namespace R") ||
	    !ASSERT_OK(ns_createf(fx->d, "%s-d", tag), "namespace D"))
		return false;
	if (!ASSERT_OK(veth_create(fx->s, "sR", fx->r, "rS"), "veth S-R") ||
	    !ASSERT_OK(veth_create(fx->r, "rD", fx->d, "dR"), "veth R-D") ||
	    !ASSERT_OK(addr_add(fx->s, "sR", "198.18.40.1/24"), "address S") ||
	    !ASSERT_OK(addr_add(fx->r, "rS", "198.18.40.2/24"), "address R (S side)") ||
	    !ASSERT_OK(addr_add(fx->r, "rD", "198.18.41.1/24"), "address R (D side)") ||
	    !ASSERT_OK(addr_add(fx->d, "dR", "198.18.41.2/24"), "address D") ||
	    !ASSERT_OK(fx_run("ip -n %s route add 198.18.41.0/24 via 198.18.40.2", fx->s),
		       "route in S") ||
	    !ASSERT_OK(fx_run("ip -n %s route add 198.18.40.0/24 via 198.18.41.1", fx->d),
		       "route in D") ||
	    !ASSERT_OK(fx_run("ip netns exec %s sysctl -qw net.ipv4.ip_forward=1", fx->r),
		       "forwarding in R"))
		return false;
	if (!ASSERT_OK(link_info(fx->s, "sR", NULL, sr_mac), "link sR") ||
	    !ASSERT_OK(link_info(fx->r, "rS", &fx->rs_ifindex, rs_mac), "link rS") ||
	    !ASSERT_OK(link_info(fx->r, "rD", &fx->rd_ifindex, fx->rd_mac), "link rD") ||
	    !ASSERT_OK(link_info(fx->d, "dR", &fx->dr_ifindex, fx->dr_mac), "link dR") ||
	    !ASSERT_OK(neigh_add(fx->s, "sR", "198.18.40.2", rs_mac), "neigh S") ||
	    !ASSERT_OK(neigh_add(fx->r, "rS", "198.18.40.1", sr_mac), "neigh R (S side)") ||
	    !ASSERT_OK(neigh_add(fx->r, "rD", "198.18.41.2", fx->dr_mac), "neigh R (D side)") ||
	    !ASSERT_OK(neigh_add(fx->d, "dR", "198.18.41.1", fx->rd_mac), "neigh D"))
		return false;

	for (i = 0; i < 2; i++) {
		struct group *g = &fx->gs[i];

		g->name = i ? "flow-b" : "flow-a";
		g->kind = TXC_TAG_FLOW;
		g->saddr = "198.18.40.1";
		g->daddr = "198.18.41.2";
		g->sport = 7501 + i;
		g->dport = 6501 + i;
		g->id = TXC_ID_MAKE(0x51, i + 1);
		g->source = i + 1;
		if (!group_open(g, fx->s, fx->d, NULL))
			return false;
	}
	return dp_open(&fx->dp, fx->pin, sizeof(fx->pin), tag);
}

static void fwd_fixture_teardown(struct fwd_fixture *fx)
{
	int i;

	for (i = 0; i < 2; i++)
		group_close(&fx->gs[i]);
	dp_release_in(fx->r, &fx->dp);
	ns_delete(fx->s);
	ns_delete(fx->r);
	ns_delete(fx->d);
}

/*
 * Both groups flow through R; group B is canceled by ID and stops at R
 * while A still arrives at D; a clear lets B through again.
 */
static bool fwd_cancel_round(struct fwd_fixture *fx, int hook)
{
	struct rings r;
	int want[2], per[2];
	bool ok = true;
	int i;

	if (!ASSERT_OK(txdp_reset(fx->dp), "resetting the datapath"))
		return false;
	for (i = 0; i < 2; i++)
		if (!group_rule_add(fx->dp, &fx->gs[i]))
			return false;
	if (!rings_open(fx->dp, &r, 2))
		goto out;

	want_all(want, 2, K, -1, 0);
	ok = round_trip(fx->gs, 2, K, want, "forwarded, before the cancel");
	for (i = 0; i < 2; i++)
		ok &= stats_expect(fx->dp, "before the cancel", &fx->gs[i], K, 0);
	if (!ok)
		goto out;

	if (!ASSERT_OK(txdp_cancel(fx->dp, TXC_SCOPE_ID, fx->gs[1].id, 0, 0), "cancel"))
		goto out;
	want_all(want, 2, K, 1, 0);
	ok &= round_trip(fx->gs, 2, K, want, "forwarded, canceled");
	ok &= stats_expect(fx->dp, "canceled", &fx->gs[0], 2 * K, 0);
	ok &= stats_expect(fx->dp, "canceled", &fx->gs[1], K, K);
	if (ring_read(&r, 2))
		ok &= records_check(K, 1, hook, TXC_SCOPE_ID, &fx->gs[1], 1, per);
	else
		ok = false;
	ok &= rings_empty_except(&r, fx->gs, 2, 1);
	if (!ok)
		goto out;

	if (!ASSERT_OK(txdp_clear(fx->dp, TXC_SCOPE_ID, fx->gs[1].id), "clear"))
		goto out;
	want_all(want, 2, K, -1, 0);
	ok &= round_trip(fx->gs, 2, K, want, "forwarded, cleared");
	ok &= stats_expect(fx->dp, "cleared", &fx->gs[0], 3 * K, 0);
	ok &= stats_expect(fx->dp, "cleared", &fx->gs[1], 2 * K, K);
	ok &= rings_empty_except(&r, fx->gs, 2, -1);
out:
	rings_close(&r);
	return ok;
}

/* --- 2. xdp_forward ------------------------------------------------------- */

static void test_xdp_forward(void)
{
	struct fwd_fixture fx;
	__u32 mode;
	int i;

	if (!fwd_fixture_setup(&fx, "xfw"))
		goto out;
	/*
	 * veth has native XDP on its receive side and needs nothing on the
	 * peer for XDP_PASS; skb mode stays as a fallback for other kernels.
	 */
	if (!ASSERT_OK(attach_xdp_in(fx.r, fx.dp, "rS", &mode), "attaching XDP on rS"))
		goto out;
	if (mode)
		printf("    xdp_forward: driver mode refused, using skb mode\n");
	for (i = 0; i < 2; i++)
		fx.gs[i].ifindex = fx.rs_ifindex;
	fwd_cancel_round(&fx, TXC_HOOK_XDP);
out:
	fwd_fixture_teardown(&fx);
}

/* --- 3. coexistence ------------------------------------------------------- */

static __u64 seen(struct bpf_map *map, __u16 port)
{
	__u64 v = 0;

	bpf_map_lookup_elem(bpf_map__fd(map), &port, &v);
	return v;
}

struct seen_counts {
	__u64 first[2], last[2];
};

static void seen_read(struct helpers *h, const struct group *gs, struct seen_counts *c)
{
	int i;

	for (i = 0; i < 2; i++) {
		c->first[i] = seen(h->maps.seen_first, gs[i].dport);
		c->last[i] = seen(h->maps.seen_last, gs[i].dport);
	}
}

/*
 * Send K per group and check how many more frames count_first saw (all of
 * both groups) and, with @check_last, count_last (@last_b of group B: 0 when
 * txcancel drops it in between).  B must receive what count_last saw.
 */
static bool coexist_round(struct helpers *h, struct group *gs, const char *phase,
			  bool check_last, __u64 last_b)
{
	struct seen_counts before, after;
	int want[2] = { K, (int)last_b };
	char what[128];
	bool ok;

	seen_read(h, gs, &before);
	ok = round_trip(gs, 2, K, want, phase);
	seen_read(h, gs, &after);
	snprintf(what, sizeof(what), "%s: count_first, group A", phase);
	ok &= ASSERT_EQ(after.first[0] - before.first[0], K, what);
	snprintf(what, sizeof(what), "%s: count_first, group B", phase);
	ok &= ASSERT_EQ(after.first[1] - before.first[1], K, what);
	if (check_last) {
		snprintf(what, sizeof(what), "%s: count_last, group A", phase);
		ok &= ASSERT_EQ(after.last[0] - before.last[0], K, what);
		snprintf(what, sizeof(what), "%s: count_last, group B", phase);
		ok &= ASSERT_EQ(after.last[1] - before.last[1], last_b, what);
	}
	return ok;
}

/*
 * Tag both groups, send a round, cancel group B with @scope/@value, send
 * again: the neighbours see what coexist_round() expects, B's source gets
 * exactly K records and counts K aborts.
 */
static bool coexist_cancel(struct tc_fixture *fx, struct helpers *h, struct group *gs,
			   struct rings *r, const char *mode, bool check_last, int scope,
			   __u32 value)
{
	char phase[64];
	int per[2];

	if (!ASSERT_OK(txdp_reset(fx->dp), "resetting the datapath") ||
	    !group_rule_add(fx->dp, &gs[0]) || !group_rule_add(fx->dp, &gs[1]) ||
	    !rings_open(fx->dp, r, 2))
		return false;
	snprintf(phase, sizeof(phase), "%s, before the cancel", mode);
	coexist_round(h, gs, phase, check_last, K);
	if (!ASSERT_OK(txdp_cancel(fx->dp, scope, value, 0, 0), "cancel"))
		return false;
	snprintf(phase, sizeof(phase), "%s, canceled", mode);
	coexist_round(h, gs, phase, check_last, 0);
	if (ring_read(r, gs[1].source))
		records_check(K, 1, TXC_HOOK_TC_EGRESS, scope, &gs[1], 1, per);
	stats_expect(fx->dp, phase, &gs[1], K, K);
	return true;
}

static void coexist_tcx(struct tc_fixture *fx, struct helpers *h, struct group *gs)
{
	__u32 ids[8], want_ids[3];
	int first = -1, last = -1, n;
	struct rings r;

	if (!kernel_tcx) {
		test_skip(NO_TCX);
		return;
	}
	rings_init(&r);
	if (!attach_tc_in(fx->a, fx->dp, fx->if_a[0], TXDP_TC_TCX) ||
	    !ASSERT_OK(ns_enter(fx->a), "entering A"))
		goto out;
	first = txdp_tcx_link_create(bpf_program__fd(h->progs.count_first), fx->ifindex_a[0],
				    TXDP_TC_PLACE_FIRST);
	last = txdp_tcx_link_create(bpf_program__fd(h->progs.count_last), fx->ifindex_a[0],
				   TXDP_TC_PLACE_LAST);
	n = tcx_chain(fx->ifindex_a[0], ids, 8);
	ns_leave();
	if (!ASSERT_GE0(first, "count_first link") || !ASSERT_GE0(last, "count_last link"))
		goto out;
	want_ids[0] = prog_id(bpf_program__fd(h->progs.count_first));
	want_ids[1] = prog_id(txdp_prog_fd(fx->dp, TXDP_PROG_TC_EGRESS));
	want_ids[2] = prog_id(bpf_program__fd(h->progs.count_last));
	if (!ASSERT_EQ(n, 3, "programs on the tcx chain") ||
	    !ASSERT_MEMEQ(ids, want_ids, sizeof(want_ids),
			  "tcx chain order: count_first, txcancel, count_last"))
		goto out;

	if (!coexist_cancel(fx, h, gs, &r, "tcx", true, TXC_SCOPE_ID, gs[1].id))
		goto out;

	/* Without txcancel the cancel has no hook: both neighbours see everything. */
	if (!detach_tc_in(fx->a, fx->dp, fx->if_a[0]))
		goto out;
	if (!ASSERT_OK(ns_enter(fx->a), "entering A"))
		goto out;
	n = tcx_chain(fx->ifindex_a[0], ids, 8);
	ns_leave();
	want_ids[1] = want_ids[2];
	if (ASSERT_EQ(n, 2, "programs on the tcx chain after the detach"))
		ASSERT_MEMEQ(ids, want_ids, 2 * sizeof(__u32), "tcx chain after the detach");
	coexist_round(h, gs, "tcx, txcancel detached", true, K);
	stats_expect(fx->dp, "tcx, detached", &gs[1], K, K);
out:
	rings_close(&r);
	if (first >= 0)
		close(first);
	if (last >= 0)
		close(last);
}

static void coexist_clsact(struct tc_fixture *fx, struct helpers *h, struct group *gs)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = fx->ifindex_a[1], .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = 1, .priority = 1,
		    .prog_fd = bpf_program__fd(h->progs.count_first));
	const char *ifname = fx->if_a[1];
	struct txc_iface iface;
	struct rings r;
	char out[4096];
	int err;

	rings_init(&r);
	/* Someone else's clsact qdisc and filter, there before txcancel. */
	if (!ASSERT_OK(fx_run("tc -n %s qdisc add dev %s clsact", fx->a, ifname), "clsact qdisc") ||
	    !ASSERT_OK(ns_enter(fx->a), "entering A"))
		return;
	err = bpf_tc_attach(&hook, &opts);
	ns_leave();
	if (!ASSERT_OK(err, "pre-existing count_first filter"))
		return;
	if (!attach_tc_in(fx->a, fx->dp, ifname, TXDP_TC_CLSACT) ||
	    !ASSERT_OK(txdp_iface_get(fx->dp, fx->ifindex_a[1], &iface), "interface state") ||
	    !ASSERT_EQ(iface.flags, TXC_IFACE_F_TC_CLSACT,
		       "clsact mode, qdisc not created by txcancel"))
		return;

	/* count_last is not on this interface: only count_first is checked. */
	if (!coexist_cancel(fx, h, gs, &r, "clsact", false, TXC_SCOPE_SOURCE, gs[1].source))
		goto out;

	if (!detach_tc_in(fx->a, fx->dp, ifname))
		goto out;
	ASSERT_EQ(qdisc_has_clsact(fx->a, ifname), 1, "pre-existing clsact kept after the detach");
	if (ASSERT_OK(fx_run_output(out, sizeof(out), "tc -n %s filter show dev %s egress",
				    fx->a, ifname), "tc filter show")) {
		ASSERT_TRUE(strstr(out, "count_first") != NULL, "pre-existing filter kept");
		ASSERT_TRUE(strstr(out, "txc_tc_egress") == NULL, "txcancel's filter removed");
	}
	coexist_round(h, gs, "clsact, txcancel detached", false, K);
out:
	rings_close(&r);
}

static void test_coexistence(void)
{
	struct group gs[2] = {
		{ .name = "flow-a", .kind = TXC_TAG_FLOW, .sport = 7301, .dport = 6301,
		  .id = TXC_ID_MAKE(0x31, 1), .source = 1 },
		{ .name = "flow-b", .kind = TXC_TAG_FLOW, .sport = 7302, .dport = 6302,
		  .id = TXC_ID_MAKE(0x31, 2), .source = 2 },
	};
	struct group gc[2] = {
		{ .name = "clsact-a", .kind = TXC_TAG_FLOW, .sport = 7311, .dport = 6311,
		  .id = TXC_ID_MAKE(0x32, 1), .source = 1 },
		{ .name = "clsact-b", .kind = TXC_TAG_FLOW, .sport = 7312, .dport = 6312,
		  .id = TXC_ID_MAKE(0x32, 2), .source = 2 },
	};
	struct helpers *h = NULL;
	struct tc_fixture fx;
	int i;

	for (i = 0; i < 2; i++)
		gs[i].tx = gs[i].rx = gc[i].tx = gc[i].rx = -1;
	if (!tc_fixture_setup(&fx, "cox", 2, 20))
		goto out;
	h = helpers__open_and_load();
	if (!ASSERT_TRUE(h != NULL, "loading the helper programs"))
		goto out;
	for (i = 0; i < 2; i++) {
		gs[i].saddr = fx.addr_a[0];
		gs[i].daddr = fx.addr_b[0];
		gs[i].ifindex = fx.ifindex_a[0];
		gc[i].saddr = fx.addr_a[1];
		gc[i].daddr = fx.addr_b[1];
		gc[i].ifindex = fx.ifindex_a[1];
		if (!group_open(&gs[i], fx.a, fx.b, NULL) || !group_open(&gc[i], fx.a, fx.b, NULL))
			goto out;
	}

	if (test_sub_begin("tcx")) {
		coexist_tcx(&fx, h, gs);
		test_sub_end();
	}

	if (test_sub_begin("clsact")) {
		coexist_clsact(&fx, h, gc);
		test_sub_end();
	}
out:
	for (i = 0; i < 2; i++) {
		group_close(&gs[i]);
		group_close(&gc[i]);
	}
	tc_fixture_teardown(&fx);
	helpers__destroy(h);
}

/* --- 4. attach_detach_clean ----------------------------------------------- */

/* Entries of @path other than . and .., or a negative errno. */
static int dir_entries(const char *path)
{
	struct dirent *de;
	DIR *d = opendir(path);
	int n = 0;

	if (!d)
		return -errno;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

/* Nothing of txcancel may be left on the interface or in the system. */
static bool check_clean(struct tc_fixture *fx, const char *when)
{
	__u32 ids[2], tcx_ids[4], xdp_id = 1, ifseen = 0;
	struct txc_iface iface;
	char path[256], what[128];
	int n, err;
	bool ok;

	ids[0] = prog_id(txdp_prog_fd(fx->dp, TXDP_PROG_TC_EGRESS));
	ids[1] = prog_id(txdp_prog_fd(fx->dp, TXDP_PROG_XDP));
	snprintf(path, sizeof(path), "%s/links", fx->pin);
	snprintf(what, sizeof(what), "%s: pins left in <pin dir>/links", when);
	ok = ASSERT_EQ(dir_entries(path), 0, what);

	if (!ASSERT_OK(ns_enter(fx->a), "entering A"))
		return false;
	n = tcx_chain(fx->ifindex_a[0], tcx_ids, 4);
	err = bpf_xdp_query_id(fx->ifindex_a[0], 0, &xdp_id);
	ns_leave();
	snprintf(what, sizeof(what), "%s: programs on the tcx chain", when);
	ok &= ASSERT_EQ(n, 0, what);
	snprintf(what, sizeof(what), "%s: XDP program id on the interface", when);
	ok &= ASSERT_OK(err, "querying XDP") && ASSERT_EQ(xdp_id, 0, what);
	snprintf(what, sizeof(what), "%s: links running txcancel's programs", when);
	ok &= ASSERT_EQ(links_running(ids, 2, &ifseen), 0, what);
	snprintf(what, sizeof(what), "%s: clsact qdisc", when);
	ok &= ASSERT_EQ(qdisc_has_clsact(fx->a, fx->if_a[0]), 0, what);
	snprintf(what, sizeof(what), "%s: txdp_iface_get", when);
	ok &= ASSERT_EQ(txdp_iface_get(fx->dp, fx->ifindex_a[0], &iface), -ENOENT, what);
	return ok;
}

static void clean_tcx_xdp(struct tc_fixture *fx)
{
	__u32 ids[2], tcx_ids[4], xdp_id = 0, ifseen = 0, mode;
	struct txc_iface iface;
	char path[256];
	bool multi;
	int n;

	if (!kernel_tcx) {
		test_skip(NO_TCX);
		return;
	}
	ids[0] = prog_id(txdp_prog_fd(fx->dp, TXDP_PROG_TC_EGRESS));
	ids[1] = prog_id(txdp_prog_fd(fx->dp, TXDP_PROG_XDP));
	if (!attach_tc_in(fx->a, fx->dp, fx->if_a[0], TXDP_TC_TCX) ||
	    !ASSERT_OK(attach_xdp_in(fx->a, fx->dp, fx->if_a[0], &mode), "attaching XDP"))
		return;
	/* First show that every check below can see an attachment. */
	ASSERT_OK(txdp_iface_get(fx->dp, fx->ifindex_a[0], &iface), "interface state");
	/* In libxdp's dispatcher where the kernel runs it, else on a link of its own. */
	multi = iface.flags & TXC_IFACE_F_XDP_MULTIPROG;
	ASSERT_EQ(iface.flags & ~(TXC_IFACE_F_XDP_MULTIPROG | TXC_IFACE_XDP_WHY_MASK),
		  TXC_IFACE_F_TC_TCX | TXC_IFACE_F_XDP, "interface flags");
	snprintf(path, sizeof(path), "%s/links/tc-%u", fx->pin, fx->ifindex_a[0]);
	ASSERT_OK(access(path, F_OK) ? -errno : 0, "tc link pinned");
	snprintf(path, sizeof(path), "%s/links/xdp-%u", fx->pin, fx->ifindex_a[0]);
	ASSERT_EQ(access(path, F_OK) ? -errno : 0, multi ? -ENOENT : 0,
		  multi ? "no xdp link of txcancel's in dispatcher mode" : "xdp link pinned");
	if (!ASSERT_OK(ns_enter(fx->a), "entering A"))
		return;
	n = tcx_chain(fx->ifindex_a[0], tcx_ids, 4);
	bpf_xdp_query_id(fx->ifindex_a[0], 0, &xdp_id);
	ns_leave();
	ASSERT_EQ(n, 1, "programs on the tcx chain while attached");
	ASSERT_EQ(tcx_ids[0], ids[0], "txcancel on the tcx chain");
	if (multi)
		ASSERT_TRUE(xdp_id != 0, "libxdp's dispatcher on the interface");
	else
		ASSERT_EQ(xdp_id, ids[1], "txcancel's XDP program on the interface");
	ASSERT_EQ(links_running(ids, 1, &ifseen), 1, "tcx links running txcancel");
	ASSERT_EQ(ifseen, fx->ifindex_a[0], "ifindex of txcancel's tcx link");

	if (!ASSERT_OK(ns_enter(fx->a), "entering A"))
		return;
	ASSERT_OK(txdp_detach_tc(fx->dp, fx->if_a[0]), "detaching TC");
	ASSERT_OK(txdp_detach_xdp(fx->dp, fx->if_a[0]), "detaching XDP");
	ns_leave();
	check_clean(fx, "after detaching tcx and xdp");
}

static void clean_clsact(struct tc_fixture *fx, bool preexisting)
{
	struct txc_iface iface;
	__u32 want = TXC_IFACE_F_TC_CLSACT | (preexisting ? 0 : TXC_IFACE_F_CLSACT_CREATED);
	char out[2048];

	if (preexisting &&
	    !ASSERT_OK(fx_run("tc -n %s qdisc add dev %s clsact", fx->a, fx->if_a[0]),
		       "pre-existing clsact qdisc"))
		return;
	if (!attach_tc_in(fx->a, fx->dp, fx->if_a[0], TXDP_TC_CLSACT))
		goto out;
	ASSERT_OK(txdp_iface_get(fx->dp, fx->ifindex_a[0], &iface), "interface state");
	ASSERT_EQ(iface.flags, want, "interface flags");
	ASSERT_EQ(qdisc_has_clsact(fx->a, fx->if_a[0]), 1, "clsact qdisc while attached");
	if (ASSERT_OK(fx_run_output(out, sizeof(out), "tc -n %s filter show dev %s egress",
				    fx->a, fx->if_a[0]), "tc filter show"))
		ASSERT_TRUE(strstr(out, "txc_tc_egress") != NULL,
			    "txcancel's filter while attached");
	if (!detach_tc_in(fx->a, fx->dp, fx->if_a[0]))
		goto out;
	if (ASSERT_OK(fx_run_output(out, sizeof(out), "tc -n %s filter show dev %s egress",
				    fx->a, fx->if_a[0]), "tc filter show"))
		ASSERT_TRUE(strstr(out, "txc_tc_egress") == NULL, "txcancel's filter removed");
	if (preexisting) {
		ASSERT_EQ(qdisc_has_clsact(fx->a, fx->if_a[0]), 1,
			  "a clsact qdisc txcancel did not create stays");
		fx_run("tc -n %s qdisc del dev %s clsact", fx->a, fx->if_a[0]);
	}
out:
	check_clean(fx, preexisting ? "after the clsact detach (qdisc removed by the test)" :
			"after the clsact detach");
}

/*
 * On A's first interface, with A entered: attaching the hook (XDP if xdp,
 * else TC) in mode while it is attached is refused, and the log says so.
 */
static void attach_refused(struct tc_fixture *fx, bool xdp, __u32 mode, const char *what)
{
	last_log[0] = '\0';
	ASSERT_EQ(xdp ? txdp_attach_xdp(fx->dp, fx->if_a[0], mode) :
			txdp_attach_tc(fx->dp, fx->if_a[0], mode), -EEXIST, what);
	ASSERT_TRUE(strstr(last_log, "already attached") != NULL,
		    "error says 'already attached'");
}

/* The same for detaching the hook while it is not attached. */
static void detach_refused(struct tc_fixture *fx, bool xdp, const char *what)
{
	last_log[0] = '\0';
	ASSERT_EQ(xdp ? txdp_detach_xdp(fx->dp, fx->if_a[0]) :
			txdp_detach_tc(fx->dp, fx->if_a[0]), -ENOENT, what);
	ASSERT_TRUE(strstr(last_log, "not attached") != NULL, "error says 'not attached'");
}

static void clean_errors(struct tc_fixture *fx)
{
	__u32 mode;
	int err;

	if (!ASSERT_OK(ns_enter(fx->a), "entering A"))
		return;
	log_quiet = true;

	last_log[0] = '\0';
	err = txdp_attach_tc(fx->dp, "txcnoexist0", TXDP_TC_AUTO);
	ASSERT_EQ(err, -ENODEV, "TC attach to a missing interface");
	ASSERT_TRUE(strstr(last_log, "txcnoexist0") != NULL, "error names the interface");
	err = txdp_attach_xdp(fx->dp, "txcnoexist0", 0);
	ASSERT_EQ(err, -ENODEV, "XDP attach to a missing interface");

	detach_refused(fx, false, "TC detach when never attached");

	if (ASSERT_OK(txdp_attach_tc(fx->dp, fx->if_a[0], kernel_tc_mode()), "TC attach")) {
		attach_refused(fx, false, kernel_tc_mode(), "TC attach twice");
		ASSERT_EQ(txdp_attach_tc(fx->dp, fx->if_a[0],
					kernel_tcx ? TXDP_TC_CLSACT : TXDP_TC_TCX), -EEXIST,
			  "attach in the other TC mode over the first");
		ASSERT_OK(txdp_detach_tc(fx->dp, fx->if_a[0]), "TC detach");
		detach_refused(fx, false, "TC detach twice");
	}
	ns_leave();
	err = attach_xdp_in(fx->a, fx->dp, fx->if_a[0], &mode);
	if (ASSERT_OK(err, "XDP attach") && !ns_enter(fx->a)) {
		attach_refused(fx, true, mode, "XDP attach twice");
		ASSERT_OK(txdp_detach_xdp(fx->dp, fx->if_a[0]), "XDP detach");
		detach_refused(fx, true, "XDP detach twice");
		ns_leave();
	}
	log_quiet = false;
	check_clean(fx, "after the error cases");
}

/*
 * Detaching strips the interface's slot from every per-interface cancel.
 * With thousands of ID cancels in one hash table, several share a bucket;
 * rewriting elements while walking the table visited them again and again,
 * and the detach never returned.  All-interface cancels stay as they are;
 * cancels of only this interface go; those of two interfaces keep the other.
 */
static void detach_many_cancels(struct tc_fixture *fx)
{
	const __u32 n = 3000, prefix = 0x42;
	int fd = txdp_map_fd(fx->dp, TXDP_MAP_ID_CANCELS);
	__u32 i, all_ok = 0, gone = 0, kept_other = 0;
	struct txc_cancel c;

	if (!attach_tc_in(fx->a, fx->dp, fx->if_a[0], kernel_tc_mode()) ||
	    !attach_tc_in(fx->a, fx->dp, fx->if_a[1], kernel_tc_mode()))
		return;
	for (i = 0; i < n; i++) {
		__u32 id = TXC_ID_MAKE(prefix, i + 1);
		int err;

		if (i % 3 == 0) {
			err = txdp_cancel(fx->dp, TXC_SCOPE_ID, id, 0, 0);
		} else {
			err = txdp_cancel(fx->dp, TXC_SCOPE_ID, id, fx->ifindex_a[0], 0);
			if (!err && i % 3 == 2)
				err = txdp_cancel(fx->dp, TXC_SCOPE_ID, id, fx->ifindex_a[1], 0);
		}
		if (!ASSERT_OK(err, "storing a cancel"))
			return;
	}
	/* A detach that never returns is this test's failure: SIGALRM ends the program. */
	alarm(120);
	if (!detach_tc_in(fx->a, fx->dp, fx->if_a[0]))
		return;
	alarm(0);
	for (i = 0; i < n; i++) {
		__u32 id = TXC_ID_MAKE(prefix, i + 1);
		bool found = !bpf_map_lookup_elem(fd, &id, &c);

		if (i % 3 == 0)
			all_ok += found && (c.flags & TXC_CANCEL_F_ALL_IFACES);
		else if (i % 3 == 1)
			gone += !found;
		else
			kept_other += found && !(c.flags & TXC_CANCEL_F_ALL_IFACES) &&
				      c.iface_slots && (c.flags & TXC_CANCEL_F_ACTIVE);
	}
	ASSERT_EQ(all_ok, n / 3, "all-interface cancels untouched");
	ASSERT_EQ(gone, n / 3, "cancels of only the detached interface removed");
	ASSERT_EQ(kept_other, n / 3, "cancels of two interfaces keep the other one");
	detach_tc_in(fx->a, fx->dp, fx->if_a[1]);
	for (i = 0; i < n; i++)
		txdp_clear(fx->dp, TXC_SCOPE_ID, TXC_ID_MAKE(prefix, i + 1));
}

static void clean_clsact_created(struct tc_fixture *fx)
{
	clean_clsact(fx, false);
}

static void clean_clsact_preexisting(struct tc_fixture *fx)
{
	clean_clsact(fx, true);
}

static const TEST_SUB_OF(struct tc_fixture) clean_subs[] = {
	{ "tcx_xdp", clean_tcx_xdp },
	{ "clsact_created", clean_clsact_created },
	{ "clsact_preexisting", clean_clsact_preexisting },
	{ "errors", clean_errors },
	{ "detach_many_cancels", detach_many_cancels },
};

static void test_attach_detach_clean(void)
{
	struct tc_fixture fx;
	struct stat st;
	__u32 mode;

	if (!tc_fixture_setup(&fx, "adc", 2, 50))
		goto out;

	test_subs_run(clean_subs, &fx);

	/* Last, as it unpins and closes the datapath. */
	if (test_sub_begin("detach_all_unpin")) {
		/* Leave things attached so that detach_all has work to do. */
		if (attach_tc_in(fx.a, fx.dp, fx.if_a[0], kernel_tc_mode()) &&
		    ASSERT_OK(attach_xdp_in(fx.a, fx.dp, fx.if_a[0], &mode), "attaching XDP") &&
		    ASSERT_OK(ns_enter(fx.a), "entering A")) {
			ASSERT_OK(txdp_detach_all(fx.dp), "txdp_detach_all");
			ns_leave();
			check_clean(&fx, "after txdp_detach_all");
			ASSERT_OK(txdp_unpin(fx.dp), "txdp_unpin");
			ASSERT_TRUE(stat(fx.pin, &st) && errno == ENOENT, "pin directory removed");
			txdp_close(fx.dp);
			fx.dp = NULL;
		}
		test_sub_end();
	}
out:
	tc_fixture_teardown(&fx);
}

/* --- 5. iface_scope ------------------------------------------------------- */

/* Both groups tagged alike (source 1), with source 1's ring open. */
static bool iface_setup(struct tc_fixture *fx, struct group *gs, struct rings *r)
{
	rings_init(r);
	return ASSERT_OK(txdp_reset(fx->dp), "resetting the datapath") &&
	       group_rule_add(fx->dp, &gs[0]) && group_rule_add(fx->dp, &gs[1]) &&
	       rings_open(fx->dp, r, 1);
}

/* Group i leaves through vA<i>; both carry the same tag. */
static void iface_scope_round(struct tc_fixture *fx, struct group *gs, int scope)
{
	struct group *g = &gs[0];
	int want[2], per[2];
	struct rings r;
	bool ok = true;

	if (!iface_setup(fx, gs, &r))
		goto out;

	if (!ASSERT_OK(txdp_cancel(fx->dp, scope, scope_value(g, scope), fx->ifindex_a[0], 0),
		       "cancel on vA0"))
		goto out;
	want[0] = 0;
	want[1] = K;
	ok &= round_trip(gs, 2, K, want, "canceled on vA0");
	ok &= ring_read(&r, 1) && records_check(K, 1, TXC_HOOK_TC_EGRESS, scope, gs, 2, per) &&
	      ASSERT_EQ(per[0], K, "records from vA0") && ASSERT_EQ(per[1], 0, "records from vA1");
	ok &= stats_expect(fx->dp, "canceled on vA0", g, K, K);
	if (!ok)
		goto out;

	/* A cancel on the second interface adds to the first one. */
	if (!ASSERT_OK(txdp_cancel(fx->dp, scope, scope_value(g, scope), fx->ifindex_a[1], 0),
		       "cancel on vA1"))
		goto out;
	want[1] = 0;
	ok &= round_trip(gs, 2, K, want, "canceled on vA0 and vA1");
	ok &= ring_read(&r, 1) && records_check(2 * K, K + 1, TXC_HOOK_TC_EGRESS, scope, gs, 2,
						per) &&
	      ASSERT_EQ(per[0], K, "records from vA0") && ASSERT_EQ(per[1], K, "records from vA1");
	ok &= stats_expect(fx->dp, "canceled on both", g, K, 3 * K);
	if (!ok)
		goto out;

	if (!ASSERT_OK(txdp_clear(fx->dp, scope, scope_value(g, scope)), "clear"))
		goto out;
	want[0] = want[1] = K;
	round_trip(gs, 2, K, want, "cleared");
	if (ring_read(&r, 1))
		ASSERT_EQ(rlog.n, 0, "records after the clear");
	stats_expect(fx->dp, "cleared", g, 3 * K, 3 * K);
out:
	rings_close(&r);
}

static void iface_expiry(struct tc_fixture *fx, struct group *gs)
{
	struct txc_cancel c;
	__u64 expires, sent;
	int want[2], per[2];
	struct rings r;
	bool ok;
	int i;

	if (!iface_setup(fx, gs, &r))
		goto out;

	expires = mono_ns() + 300000000ull;
	if (!ASSERT_OK(txdp_cancel(fx->dp, TXC_SCOPE_ID, gs[0].id, 0, expires), "cancel"))
		goto out;
	for (i = 0; i < 2; i++)
		ASSERT_EQ(udp_send(gs[i].tx, gs[i].daddr, gs[i].dport, K, i), K, "sending");
	sent = mono_ns();
	if (!ASSERT_TRUE(sent < expires, "all frames sent before the cancel expired"))
		goto out;
	for (i = 0; i < 2; i++)
		ASSERT_EQ(udp_recv(gs[i].rx, 0, QUIET_MS), 0, "frames arriving before the expiry");
	ok = ring_read(&r, 1) &&
	     records_check(2 * K, 1, TXC_HOOK_TC_EGRESS, TXC_SCOPE_ID, gs, 2, per);
	ok &= stats_expect(fx->dp, "before the expiry", &gs[0], 0, 2 * K);
	if (!ok)
		goto out;

	while (mono_ns() < expires + 50000000ull)
		usleep(10000);
	want[0] = want[1] = K;
	round_trip(gs, 2, K, want, "after the expiry");
	stats_expect(fx->dp, "after the expiry", &gs[0], 2 * K, 2 * K);
	if (ring_read(&r, 1))
		ASSERT_EQ(rlog.n, 0, "records after the expiry");
	/* Nobody cleared it: the element is still there, only past its time. */
	if (ASSERT_OK(bpf_map_lookup_elem(txdp_map_fd(fx->dp, TXDP_MAP_ID_CANCELS), &gs[0].id,
					  &c) ? -errno : 0, "expired cancel still stored"))
		ASSERT_TRUE((c.flags & TXC_CANCEL_F_ACTIVE) && c.expires_ns == expires,
			    "stored cancel is the expired one");
out:
	rings_close(&r);
}

static void test_iface_scope(void)
{
	static const int scopes[] = { TXC_SCOPE_ID, TXC_SCOPE_PREFIX, TXC_SCOPE_SOURCE };
	struct group gs[2] = {
		{ .name = "via-vA0", .kind = TXC_TAG_FLOW, .sport = 7401, .dport = 6401,
		  .id = TXC_ID_MAKE(0x41, 1), .source = 1 },
		{ .name = "via-vA1", .kind = TXC_TAG_FLOW, .sport = 7402, .dport = 6402,
		  .id = TXC_ID_MAKE(0x41, 1), .source = 1 },
	};
	struct tc_fixture fx;
	size_t s;
	int i;

	for (i = 0; i < 2; i++)
		gs[i].tx = gs[i].rx = -1;
	if (!tc_fixture_setup(&fx, "ifs", 2, 30))
		goto out;
	for (i = 0; i < 2; i++) {
		gs[i].saddr = fx.addr_a[i];
		gs[i].daddr = fx.addr_b[i];
		gs[i].ifindex = fx.ifindex_a[i];
		if (!group_open(&gs[i], fx.a, fx.b, NULL) ||
		    !attach_tc_in(fx.a, fx.dp, fx.if_a[i], kernel_tc_mode()))
			goto out;
	}
	for (s = 0; s < sizeof(scopes) / sizeof(scopes[0]); s++) {
		if (test_sub_begin("%s", scope_name(scopes[s]))) {
			iface_scope_round(&fx, gs, scopes[s]);
			test_sub_end();
		}
	}
	if (test_sub_begin("expiry")) {
		iface_expiry(&fx, gs);
		test_sub_end();
	}
out:
	for (i = 0; i < 2; i++)
		group_close(&gs[i]);
	tc_fixture_teardown(&fx);
}

/* ------------------------------------------------------------------------- */

static const struct test_case cases[] = {
	{ "tc_groups", test_tc_groups },
	{ "xdp_forward", test_xdp_forward },
	{ "coexistence", test_coexistence },
	{ "attach_detach_clean", test_attach_detach_clean },
	{ "iface_scope", test_iface_scope },
};

int main(int argc, char **argv)
{
	fx_start("test_netns", "namespaces, veth, BPF");
	txdp_set_log(test_log);
	kernel_tcx = txdp_kernel_has_tcx();
	printf("# TC egress mode of this kernel: %s\n", kernel_tcx ? "tcx" : "clsact (" NO_TCX ")");
	return test_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
}
