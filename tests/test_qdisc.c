// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * txcancel's qdisc: cancels that reach frames already queued.  Needs a
 * kernel with the BPF qdisc (Linux 6.16+, CONFIG_NET_SCH_BPF); elsewhere
 * every case but the refusal is skipped, naming what is missing.
 *
 * Each case builds a sender and a sink namespace joined by a veth pair,
 * loads the datapath on its own pin dir, attaches the TC program and the
 * qdisc to the sender's end and tags UDP senders by mark.  A pacing rate
 * keeps frames waiting in the queue.  Every check is made at the sink (what
 * arrived, in which order) and in the source's ring (one record per frame
 * that did not arrive, where it was stopped, sequence numbers without gaps),
 * and the account aborted = records + lost is checked in the counters.
 *
 * Addresses: 198.18.0.0/15 only, on veth pairs in namespaces the test
 * creates; traffic never leaves them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <stddef.h>
#include <linux/pkt_sched.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>

#include "dp.h"
#include "qdisc.h"
#include "qdisc_nl.h"
#include "daemon_fixture.h"
#include "netns.h"
#include "testlib.h"
#include "txcancel/txcancel.h"

#define IF_A		"vqA0"
#define IF_B		"vqB0"
#define SUBNET		70		/* 198.18.70.0/24 and up */
#define MARK_MASK	0xff00u
#define RING_BYTES	(1u << 20)
#define FRAME_LEN	(14 + 20 + 8 + FX_PAYLOAD_LEN)
#define FPS		100		/* the pacing rate, in test frames per second */
#define RESTART_FPS	5
#define SETTLE_MS	50		/* a dequeued frame is at the sink by then */
#define WAIT_MS		8000
#define MAX_IDX		65536
#define NSRC		3		/* sources 1 and 2 (0 is none) */

struct flow {
	__u8 prefix;
	__u32 id;
	__u32 source;
	__u32 mark;
	__u16 sport, dport;
	int tx, rx;
	int sent;
	/* At the sink: how many, and whether they came in the order sent. */
	int got;
	int next_idx;
	bool out_of_order;
};

static struct bed {
	bool up;
	char a[FX_NAME_MAX], b[FX_NAME_MAX];
	char addr_a[32], addr_b[32];
	char pin[128];
	__u32 ifindex;
	struct txdp *dp;
	int ring[NSRC];
	struct flow f[8];
	int nf;
} bed;

static struct ring_log rlog;
static char probe_why[256];

static void log_all(enum txdp_log_level level, const char *fmt, va_list ap)
{
	(void)level;
	fprintf(stderr, "    loader: ");
	vfprintf(stderr, fmt, ap);
}

static bool qdisc_supported(void)
{
	if (txdp_qdisc_probe(probe_why, sizeof(probe_why))) {
		test_skip("%s", probe_why);
		return false;
	}
	return true;
}

/* The registration outlives the process: take it away before the pins go. */
static void unregister_at_exit(void)
{
	if (bed.dp) {
		txdp_qdisc_unregister(bed.dp);
		txdp_close(bed.dp);
		bed.dp = NULL;
	}
}

/* --- the testbed ---------------------------------------------------------- */

static bool flow_rule(const struct flow *f)
{
	struct txc_tag tag = { .cancel_id = f->id, .source = f->source };
	__u32 key = f->mark & MARK_MASK;

	return ASSERT_OK(txdp_tag_add(bed.dp, TXC_TAG_MARK, &key, &tag), "mark rule");
}

static bool flow_sockets(struct flow *f, int i, __u8 prefix, __u32 source)
{
	int sndbuf = 8 << 20;

	f->prefix = prefix;
	f->id = TXC_ID_MAKE(prefix, 0x100 + i);
	f->source = source;
	f->mark = (0x10 + i) << 8;
	f->sport = 7700 + i;
	f->dport = 6700 + i;
	f->tx = udp_open(bed.a, bed.addr_a, f->sport);
	f->rx = udp_open(bed.b, bed.addr_b, f->dport);
	if (!ASSERT_GE0(f->tx, "sender socket") || !ASSERT_GE0(f->rx, "sink socket"))
		return false;
	/* Frames wait in the qdisc and hold send buffer: room for all of them. */
	if (!ASSERT_OK(setsockopt(f->tx, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf)) ?
		       -errno : 0, "SO_SNDBUFFORCE") ||
	    !ASSERT_OK(setsockopt(f->tx, SOL_SOCKET, SO_MARK, &f->mark, sizeof(f->mark)) ?
		       -errno : 0, "SO_MARK"))
		return false;
	return true;
}

/*
 * Namespaces, a veth pair (@ntx TX queues on the sender's end), the datapath
 * with TC and qdisc on it, paced at @fps frames/s (0: unpaced), and @nf
 * flows: flow i has ID <prefix>:0x100+i, from source 1 + (i & 1) when
 * @two_sources, else source 1.
 */
static bool bed_net_up(const char *tag, int ntx, int nf, bool two_sources, int subnet)
{
	int i;

	cpu_set_t one;

	/*
	 * One CPU for the senders, the watchdog and the veth: the sink's
	 * backlog is per CPU, and frames sent from two CPUs could arrive out
	 * of the order they left the queue in.
	 */
	CPU_ZERO(&one);
	CPU_SET(0, &one);
	sched_setaffinity(0, sizeof(one), &one);
	memset(&bed, 0, sizeof(bed));
	memset(&rlog, 0, offsetof(struct ring_log, recs));
	rlog.n = 0;
	for (i = 0; i < NSRC; i++)
		bed.ring[i] = -1;
	for (i = 0; i < (int)(sizeof(bed.f) / sizeof(bed.f[0])); i++)
		bed.f[i].tx = bed.f[i].rx = -1;
	pin_dir_make(bed.pin, sizeof(bed.pin), tag);
	snprintf(bed.addr_a, sizeof(bed.addr_a), "198.18.%d.1", subnet);
	snprintf(bed.addr_b, sizeof(bed.addr_b), "198.18.%d.2", subnet);
	if (!ASSERT_OK(ns_create(bed.a, "q-tx"), "sender namespace") ||
	    !ASSERT_OK(ns_create(bed.b, "q-rx"), "sink namespace"))
		return false;
	if (ntx > 1) {
		/* A multi-queue veth: mq with one txcancel qdisc per TX queue. */
		if (!ASSERT_OK(fx_run("ip -n %s link add %s numtxqueues %d numrxqueues %d type veth "
				      "peer name %s numtxqueues %d numrxqueues %d netns %s", bed.a,
				      IF_A, ntx, ntx, IF_B, ntx, ntx, bed.b), "multi-queue veth"))
			return false;
		{
			__u8 mac_a[6], mac_b[6];
			char cidr[48];

			snprintf(cidr, sizeof(cidr), "%s/24", bed.addr_a);
			if (!ASSERT_OK(fx_run("ip -n %s link set %s up", bed.a, IF_A), "up") ||
			    !ASSERT_OK(fx_run("ip -n %s link set %s up", bed.b, IF_B), "up") ||
			    !ASSERT_OK(addr_add(bed.a, IF_A, cidr), "address"))
				return false;
			snprintf(cidr, sizeof(cidr), "%s/24", bed.addr_b);
			if (!ASSERT_OK(addr_add(bed.b, IF_B, cidr), "address") ||
			    !ASSERT_OK(link_info(bed.a, IF_A, &bed.ifindex, mac_a), "link") ||
			    !ASSERT_OK(link_info(bed.b, IF_B, NULL, mac_b), "link") ||
			    !ASSERT_OK(neigh_add(bed.a, IF_A, bed.addr_b, mac_b), "neighbor") ||
			    !ASSERT_OK(neigh_add(bed.b, IF_B, bed.addr_a, mac_a), "neighbor"))
				return false;
		}
	} else if (!ASSERT_OK(veth_link(bed.a, IF_A, bed.addr_a, bed.b, IF_B, bed.addr_b, 24,
				       &bed.ifindex), "veth pair")) {
		return false;
	}
	bed.nf = nf;
	for (i = 0; i < nf; i++)
		if (!flow_sockets(&bed.f[i], i, i < 2 || !two_sources ? 5 : 6,
				  two_sources ? 1 + (i & 1) : 1))
			return false;
	return true;
}

/* The datapath on the sender's end: TC program, qdisc paced at @fps (0: not), rings, rules. */
static bool bed_dp_up(int fps)
{
	struct txc_qdisc_params p = {
		.limit = TXC_QDISC_LIMIT_MAX, .rate_bytes = (__u64)fps * FRAME_LEN,
	};
	struct txdp_opts opts = { .pin_dir = bed.pin, .ring_bytes = RING_BYTES,
				    .flow_rules_max = 1024 };
	int err, i;

	if (!ASSERT_OK(txdp_open(&bed.dp, &opts), "opening the datapath") ||
	    !ASSERT_OK(txdp_set_mark_mask(bed.dp, MARK_MASK), "mark mask"))
		return false;
	if (!ASSERT_OK(ns_enter(bed.a), "entering the sender namespace"))
		return false;
	err = txdp_attach_tc(bed.dp, IF_A, TXDP_TC_AUTO);
	if (!err)
		err = txdp_qdisc_open(bed.dp);
	if (!err)
		err = txdp_qdisc_attach_ifindex(bed.dp, bed.ifindex, &p);
	ns_leave();
	if (!ASSERT_OK(err, "TC program and qdisc on the sender's end"))
		return false;
	for (i = 1; i < NSRC; i++) {
		bed.ring[i] = txdp_ring_open(bed.dp, i);
		if (!ASSERT_GE0(bed.ring[i], "source ring"))
			return false;
	}
	for (i = 0; i < bed.nf; i++)
		if (!flow_rule(&bed.f[i]))
			return false;
	bed.up = true;
	return true;
}

static bool bed_up(const char *tag, int ntx, int fps, int nf, bool two_sources, int subnet)
{
	return bed_net_up(tag, ntx, nf, two_sources, subnet) && bed_dp_up(fps);
}

static void bed_down(void)
{
	int i;

	for (i = 0; i < bed.nf; i++) {
		if (bed.f[i].tx >= 0)
			close(bed.f[i].tx);
		if (bed.f[i].rx >= 0)
			close(bed.f[i].rx);
	}
	for (i = 0; i < NSRC; i++)
		if (bed.ring[i] >= 0)
			close(bed.ring[i]);
	if (bed.dp) {
		if (!ns_enter(bed.a)) {
			txdp_detach_ifindex(bed.dp, bed.ifindex);
			ns_leave();
		}
		txdp_qdisc_unregister(bed.dp);
		txdp_unpin(bed.dp);
		txdp_close(bed.dp);
		bed.dp = NULL;
	}
	ns_delete(bed.a);
	ns_delete(bed.b);
	bed.up = false;
}

/* --- frames --------------------------------------------------------------- */

static int send_one(struct flow *f)
{
	__u8 payload[FX_PAYLOAD_LEN] = { 'T', 'X', 'Q' };
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(f->dport) };
	int idx = f->sent;

	inet_pton(AF_INET, bed.addr_b, &sin.sin_addr);
	memcpy(payload + 4, &idx, sizeof(idx));
	for (int tries = 0; tries < 1000; tries++) {
		/* A frame the hook or the qdisc drops still left the socket: it counts. */
		if (sendto(f->tx, payload, sizeof(payload), 0, (struct sockaddr *)&sin,
			   sizeof(sin)) >= 0 || errno == ENOBUFS) {
			f->sent++;
			return 0;
		}
		if (errno != EAGAIN)
			return -errno;
		test_sleep_ms(1);
	}
	return -ETIMEDOUT;
}

/* Take what reached the sink for @f: count it and check the order. */
static void sink_read(struct flow *f)
{
	__u8 buf[256];
	ssize_t n;
	int idx;

	while ((n = recv(f->rx, buf, sizeof(buf), MSG_DONTWAIT)) >= (ssize_t)(4 + sizeof(idx))) {
		memcpy(&idx, buf + 4, sizeof(idx));
		/* Canceled frames leave gaps; what arrives comes in the order sent. */
		if (idx < f->next_idx)
			f->out_of_order = true;
		f->next_idx = idx + 1;
		f->got++;
	}
}

static void sink_read_all(void)
{
	for (int i = 0; i < bed.nf; i++)
		sink_read(&bed.f[i]);
}

/* Wait until flow @f got @want frames (or @ms passed); returns what it got. */
static int sink_wait(struct flow *f, int want, int ms)
{
	__u64 end = test_now_ms() + ms;

	for (;;) {
		sink_read_all();
		if (f->got >= want || test_now_ms() >= end)
			return f->got;
		test_sleep_ms(5);
	}
}

/* Frames in every queue of the sender's end now. */
static __u32 queued_now(void)
{
	struct txc_queue_info qi[16];
	int n = txdp_qdisc_queues(bed.dp, bed.ifindex, qi, 16);
	__u32 sum = 0;

	for (int i = 0; i < n; i++)
		sum += qi[i].qlen;
	return sum;
}

static bool wait_idle(int ms)
{
	__u64 end = test_now_ms() + ms;

	while (queued_now() && test_now_ms() < end)
		test_sleep_ms(10);
	test_sleep_ms(SETTLE_MS);
	sink_read_all();
	return ASSERT_EQ(queued_now(), 0, "the queues drained");
}

/* --- records -------------------------------------------------------------- */

struct tally {
	int records;		/* of the flow's ID */
	int at[4];		/* by TXC_AT_* */
	int reset;		/* with TXC_STATUS_RESET */
	int bad;		/* wrong status, hook or length */
};

/*
 * What the veth carries already arrives within SETTLE_MS; after that, none
 * of @f's frames may arrive, while every frame of @b does (when given) or
 * over half a second more.
 */
static void nothing_arrives_later(struct flow *f, struct flow *b, const char *what)
{
	int got;

	test_sleep_ms(SETTLE_MS);
	sink_read_all();
	got = f->got;
	if (b) {
		ASSERT_EQ(sink_wait(b, b->sent, WAIT_MS), b->sent, "every B frame at the sink");
		test_sleep_ms(SETTLE_MS);
	} else {
		test_sleep_ms(500);
	}
	sink_read_all();
	ASSERT_EQ(f->got, got, what);
}

/* Drain source @s's ring into rlog, appending; false on a ring error. */
static bool ring_take(__u32 s)
{
	return ASSERT_OK(ring_drain(bed.ring[s], &rlog), "draining a ring") &&
	       ASSERT_EQ(rlog.bad_size, 0, "ring samples of the wrong size") &&
	       ASSERT_EQ(rlog.overflow, 0, "records beyond the test's buffer");
}

static void tally_of(const struct flow *f, struct tally *t)
{
	memset(t, 0, sizeof(*t));
	for (int i = 0; i < rlog.n; i++) {
		const struct txc_abort_record *r = &rlog.recs[i];

		if (r->cancel_id != f->id)
			continue;
		t->records++;
		if (r->where < 4)
			t->at[r->where]++;
		if (r->hdr.status == TXC_STATUS_RESET)
			t->reset++;
		else if (r->hdr.status != TXC_STATUS_SEND_ABORTED)
			t->bad++;
		if (r->source != f->source || r->hook != TXC_HOOK_TC_EGRESS ||
		    r->len != FRAME_LEN || r->tag_kind != TXC_TAG_MARK ||
		    r->frame.dport != htons(f->dport) || r->ifindex != bed.ifindex)
			t->bad++;
	}
}

static int cmp_u64(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

/*
 * Source @s's records in rlog have the numbers 1..aborted, each once, and
 * its counters say aborted = records + lost with nothing lost.
 */
static bool account_exact(__u32 s)
{
	static __u64 seqs[FX_RING_MAX_RECORDS];
	struct txc_source_stats st;
	char what[96];
	int n = 0;
	bool ok = true;

	for (int i = 0; i < rlog.n; i++)
		if (rlog.recs[i].source == s)
			seqs[n++] = rlog.recs[i].seq;
	qsort(seqs, n, sizeof(seqs[0]), cmp_u64);
	for (int i = 0; i < n && ok; i++) {
		snprintf(what, sizeof(what), "source %u: record %d has sequence number %d", s, i,
			 i + 1);
		ok &= ASSERT_EQ(seqs[i], (__u64)i + 1, what);
	}
	if (!ASSERT_OK(txdp_source_stats(bed.dp, s, &st), "source counters"))
		return false;
	snprintf(what, sizeof(what), "source %u: aborted = records read (%d) + lost", s, n);
	ok &= ASSERT_EQ(st.aborted_frames, (__u64)n + st.lost_reports, what);
	ok &= ASSERT_EQ(st.lost_reports, 0, "no record lost (the ring is large enough)");
	return ok;
}

/* Every frame of @f arrived or has exactly one record; the ones that arrived, in order. */
static bool fates_exact(const struct flow *f, const struct tally *t, const char *phase)
{
	char what[160];
	bool ok;

	snprintf(what, sizeof(what), "%s: flow %#x: sent (%d) = at the sink (%d) + records (%d)",
		 phase, f->id, f->sent, f->got, t->records);
	ok = ASSERT_EQ(f->got + t->records, f->sent, what);
	snprintf(what, sizeof(what), "%s: flow %#x: frames at the sink in the order sent", phase,
		 f->id);
	ok &= ASSERT_TRUE(!f->out_of_order, what);
	snprintf(what, sizeof(what), "%s: flow %#x: records with the right status, source, hook, "
		 "length, port and interface", phase, f->id);
	ok &= ASSERT_EQ(t->bad, 0, what);
	return ok;
}

/* --- cases ---------------------------------------------------------------- */

/*
 * Without the BPF qdisc, loading and installing it is refused with the
 * reason, and cancels work as before (at the hook).
 */
static void test_refused_without(void)
{
	char why[256];
	struct txdp *dp = NULL;
	char pin[128];
	struct txdp_opts opts = { .pin_dir = pin, .ring_bytes = RING_BYTES,
				    .flow_rules_max = 1024 };

	if (!txdp_qdisc_probe(why, sizeof(why))) {
		test_skip("this kernel has the BPF qdisc: nothing to refuse");
		return;
	}
	ASSERT_TRUE(strstr(why, "CONFIG_NET_SCH_BPF") != NULL,
		    "the reason names CONFIG_NET_SCH_BPF");
	pin_dir_make(pin, sizeof(pin), "refused");
	if (!ASSERT_OK(txdp_open(&dp, &opts), "opening the datapath"))
		return;
	ASSERT_EQ(txdp_qdisc_open(dp), -EOPNOTSUPP, "loading the qdisc is refused");
	ASSERT_EQ(txdp_qdisc_attach_ifindex(dp, 1, NULL), -EOPNOTSUPP,
		  "installing it is refused");
	/* Cancels work as before: the purge is a no-op without the qdisc. */
	ASSERT_OK(txdp_cancel(dp, TXC_SCOPE_ID, TXC_ID_MAKE(5, 1), 0, 0), "a cancel");
	txdp_unpin(dp);
	txdp_close(dp);
}

/* Send @n frames of each flow in @mask, interleaved. */
static bool send_interleaved(unsigned int mask, int n)
{
	for (int k = 0; k < n; k++)
		for (int i = 0; i < bed.nf; i++)
			if ((mask & (1u << i)) && !ASSERT_OK(send_one(&bed.f[i]), "sending"))
				return false;
	return true;
}

/*
 * Frames of A and B wait behind the pacing rate; A is canceled: none of A
 * reaches the sink after the cancel's reply, each A frame that did not
 * arrive has one record, B passes untouched and in order.  With @clear,
 * A is cleared right after the cancel: still none of the old A frames
 * leaves, and new A frames pass again.
 */
static void paced(bool clear)
{
	struct flow *A = &bed.f[0], *B = &bed.f[1];
	struct tally ta, tb;

	if (!bed_up(clear ? "clear" : "paced", 1, FPS, 2, false, SUBNET))
		goto out;
	if (!send_interleaved(3, 40))
		goto out;
	test_sleep_ms(150);	/* about 15 frames left, 65 wait */
	if (!ASSERT_TRUE(queued_now() > 20, "frames wait in the qdisc"))
		goto out;
	if (!ASSERT_OK(txdp_cancel(bed.dp, TXC_SCOPE_ID, A->id, 0, 0), "cancel of A"))
		goto out;
	if (clear && !ASSERT_OK(txdp_clear(bed.dp, TXC_SCOPE_ID, A->id), "clear of A"))
		goto out;
	nothing_arrives_later(A, B, "no A frame at the sink after the cancel's reply");
	if (clear) {
		/* The ID is usable again. */
		int before = A->got;

		send_interleaved(1, 5);
		ASSERT_EQ(sink_wait(A, before + 5, WAIT_MS), before + 5,
			  "new A frames pass after the clear");
	}
	if (!ring_take(1))
		goto out;
	tally_of(A, &ta);
	tally_of(B, &tb);
	fates_exact(A, &ta, "A");
	fates_exact(B, &tb, "B");
	ASSERT_EQ(tb.records, 0, "no record for B");
	ASSERT_TRUE(ta.at[TXC_AT_PURGE] > 0, "A frames taken out of the queue by the purge");
	ASSERT_EQ(ta.at[TXC_AT_HOOK], 0, "no A frame reached the hook after the cancel");
	ASSERT_EQ(ta.reset, 0, "no record says reset");
	account_exact(1);
out:
	bed_down();
}

static void test_paced_cancel(void)
{
	if (qdisc_supported())
		paced(false);
}

static void test_clear_after_cancel(void)
{
	if (qdisc_supported())
		paced(true);
}

/* --- flood ---------------------------------------------------------------- */

static atomic_int flood_stop;

/* Cancels and clears, toggling by ID, prefix and source, while the flood runs. */
static void *toggler(void *arg)
{
	unsigned int seed = 1;
	int rounds = 0;

	(void)arg;
	while (!atomic_load(&flood_stop)) {
		const struct flow *f = &bed.f[rand_r(&seed) % bed.nf];
		int scope = 1 + rand_r(&seed) % 3;
		__u32 value = scope == TXC_SCOPE_ID ? f->id :
			      scope == TXC_SCOPE_PREFIX ? f->prefix : f->source;

		txdp_cancel(bed.dp, scope, value, 0, 0);
		usleep(1000 + rand_r(&seed) % 4000);
		txdp_clear(bed.dp, scope, value);
		usleep(rand_r(&seed) % 3000);
		rounds++;
	}
	return (void *)(long)rounds;
}

static void test_flood(void)
{
	pthread_t th;
	void *rounds = NULL;
	int total_sent = 0, total_got = 0, total_rec = 0;
	bool started = false;

	if (!qdisc_supported())
		return;
	/* Four flows, two prefixes, two sources; paced so that frames queue. */
	if (!bed_up("flood", 1, 2000, 4, true, SUBNET + 1))
		goto out;
	atomic_store(&flood_stop, 0);
	if (!ASSERT_OK(pthread_create(&th, NULL, toggler, NULL), "toggling thread"))
		goto out;
	started = true;
	for (int k = 0; k < 400; k++) {
		if (!send_interleaved(0xf, 2))
			break;
		usleep(500);
		if (k % 50 == 0) {
			ring_take(1);
			ring_take(2);
		}
	}
	atomic_store(&flood_stop, 1);
	pthread_join(th, &rounds);
	started = false;
	/* Nothing in force any more: what is queued goes out. */
	for (int i = 0; i < bed.nf; i++) {
		txdp_clear(bed.dp, TXC_SCOPE_ID, bed.f[i].id);
		txdp_clear(bed.dp, TXC_SCOPE_PREFIX, bed.f[i].prefix);
		txdp_clear(bed.dp, TXC_SCOPE_SOURCE, bed.f[i].source);
	}
	wait_idle(WAIT_MS);
	if (!ring_take(1) || !ring_take(2))
		goto out;
	for (int i = 0; i < bed.nf; i++) {
		struct tally t;

		tally_of(&bed.f[i], &t);
		fates_exact(&bed.f[i], &t, "flood");
		total_sent += bed.f[i].sent;
		total_got += bed.f[i].got;
		total_rec += t.records;
		printf("    flow %#x: sent %d, at the sink %d, records %d (hook %d, enqueue %d, "
		       "queued %d, dequeue %d)\n", bed.f[i].id, bed.f[i].sent, bed.f[i].got,
		       t.records, t.at[TXC_AT_HOOK], t.at[TXC_AT_ENQUEUE], t.at[TXC_AT_PURGE],
		       t.at[TXC_AT_DEQUEUE]);
	}
	printf("    flood: %ld cancel/clear rounds; sent %d = at the sink %d + records %d\n",
	       (long)rounds, total_sent, total_got, total_rec);
	ASSERT_TRUE(total_rec > 0, "the flood had frames canceled");
	account_exact(1);
	account_exact(2);
out:
	if (started) {
		atomic_store(&flood_stop, 1);
		pthread_join(th, NULL);
	}
	bed_down();
}

/* --- multi-queue ---------------------------------------------------------- */

static void test_mq(void)
{
	struct txc_queue_info qi[8];
	struct txdp_qdisc_desc root;
	int n, with_purges = 0, flows = 6, ntx = 4, i;
	int got_at_reply[8];
	bool ok;

	if (!qdisc_supported())
		return;
	/* Six flows of one ID (same prefix, source 1): spread over the TX queues by hash. */
	if (!bed_up("mq", ntx, FPS, flows, false, SUBNET + 2))
		goto out;
	for (i = 1; i < flows; i++) {
		struct txc_tag tag = { .cancel_id = bed.f[0].id, .source = 1 };
		__u32 key = bed.f[i].mark & MARK_MASK;

		bed.f[i].id = bed.f[0].id;
		txdp_tag_add(bed.dp, TXC_TAG_MARK, &key, &tag);
	}
	ASSERT_OK(ns_enter(bed.a), "entering the sender namespace");
	ok = ASSERT_OK(txdp_nl_qdisc_get(bed.ifindex, TC_H_ROOT, &root), "root qdisc");
	ok = ok && ASSERT_TRUE(!strcmp(root.kind, "mq"), "mq at the root");
	ok = ok && ASSERT_EQ(txdp_nl_qdisc_count(bed.ifindex, TXC_QDISC_KIND), ntx,
			     "one txcancel qdisc per TX queue");
	ns_leave();
	if (!ok)
		goto out;
	n = txdp_qdisc_queues(bed.dp, bed.ifindex, qi, 8);
	ASSERT_EQ(n, ntx, "one queue per TX queue in the queue map");
	if (!send_interleaved((1u << flows) - 1, 20))
		goto out;
	test_sleep_ms(150);
	txdp_set_log(log_all);
	if (!ASSERT_OK(txdp_cancel(bed.dp, TXC_SCOPE_ID, bed.f[0].id, 0, 0), "cancel"))
		goto out;
	txdp_set_log(NULL);
	test_sleep_ms(SETTLE_MS);
	sink_read_all();
	for (i = 0; i < flows; i++)
		got_at_reply[i] = bed.f[i].got;
	test_sleep_ms(1000);
	sink_read_all();
	for (i = 0; i < flows; i++)
		ASSERT_EQ(bed.f[i].got, got_at_reply[i], "nothing at the sink after the reply");
	ASSERT_EQ(queued_now(), 0, "every queue purged");
	n = txdp_qdisc_queues(bed.dp, bed.ifindex, qi, 8);
	for (i = 0; i < n; i++) {
		printf("    TX queue %x: enqueued %llu, purged %llu, at dequeue %llu\n",
		       qi[i].parent, (unsigned long long)qi[i].enqueued,
		       (unsigned long long)qi[i].at_purge, (unsigned long long)qi[i].at_dequeue);
		with_purges += qi[i].at_purge > 0;
	}
	ASSERT_TRUE(with_purges >= 2, "frames purged from more than one TX queue");
	if (!ring_take(1))
		goto out;
	{
		int sent = 0, got = 0;

		for (i = 0; i < flows; i++) {
			sent += bed.f[i].sent;
			got += bed.f[i].got;
		}
		ASSERT_EQ(got + rlog.n, sent, "sent = at the sink + records, over every queue");
	}
	account_exact(1);
	/* Detach puts the device's default back. */
	ASSERT_OK(ns_enter(bed.a), "entering the sender namespace");
	ASSERT_OK(txdp_qdisc_detach_ifindex(bed.dp, bed.ifindex), "taking the qdisc off");
	ASSERT_EQ(txdp_nl_qdisc_count(bed.ifindex, TXC_QDISC_KIND), 0, "no txcancel qdisc left");
	ns_leave();
out:
	bed_down();
}

/* --- delete with frames queued -------------------------------------------- */

static void test_delete_queued(void)
{
	struct flow *A;
	struct txdp_qdisc_desc root;
	struct tally t;

	if (!qdisc_supported())
		return;
	if (!bed_up("delete", 1, FPS, 1, false, SUBNET + 3))
		goto out;
	A = &bed.f[0];
	if (!send_interleaved(1, 40))
		goto out;
	test_sleep_ms(100);
	ASSERT_OK(ns_enter(bed.a), "entering the sender namespace");
	ASSERT_OK(txdp_qdisc_detach_ifindex(bed.dp, bed.ifindex), "taking the qdisc off");
	if (!txdp_nl_qdisc_get(bed.ifindex, TC_H_ROOT, &root))
		ASSERT_TRUE(strcmp(root.kind, TXC_QDISC_KIND), "the root is not txcancel's");
	ns_leave();
	nothing_arrives_later(A, NULL, "nothing of the deleted queue arrives later");
	if (!ring_take(1))
		goto out;
	tally_of(A, &t);
	fates_exact(A, &t, "delete");
	ASSERT_EQ(t.reset, t.records, "every record says reset");
	ASSERT_TRUE(t.reset > 0, "the deleted queue held frames");
	account_exact(1);
out:
	bed_down();
}

/* --- kill -9 and restart -------------------------------------------------- */

/*
 * The first instance is a child process: it loads the datapath, registers
 * the qdisc, installs it and is killed with SIGKILL while frames wait.  The
 * next instance (this process) adopts all of it and cancels what is queued.
 */
static void test_kill_restart(void)
{
	struct txdp_opts opts = { .pin_dir = bed.pin, .ring_bytes = RING_BYTES,
				    .flow_rules_max = 1024 };
	/*
	 * Slow enough that frames still wait after the next instance loaded
	 * and verified its programs (seconds under an emulated CPU).
	 */
	struct txc_qdisc_params p = { .limit = 1000, .rate_bytes = RESTART_FPS * FRAME_LEN };
	int ready[2] = { -1, -1 };
	struct flow *A;
	struct tally t;
	__u32 purged = 0, ntx = 0;
	pid_t pid;
	int status;
	char c = 0;

	if (!qdisc_supported())
		return;
	if (!bed_net_up("restart", 1, 1, false, SUBNET + 4) ||
	    !ASSERT_OK(pipe(ready) ? -errno : 0, "pipe"))
		goto out;
	A = &bed.f[0];
	pid = fork();
	if (pid == 0) {
		/* The first instance: everything pinned, then it dies holding it all. */
		bool ok = bed_dp_up(RESTART_FPS);

		c = ok ? 'R' : 'F';
		if (write(ready[1], &c, 1) != 1 || !ok)
			_exit(1);
		for (;;)
			pause();
	}
	if (!ASSERT_GE0(pid, "fork") ||
	    !ASSERT_EQ(read(ready[0], &c, 1), 1, "the first instance came up") ||
	    !ASSERT_EQ(c, 'R', "the first instance set everything up")) {
		if (pid > 0) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
		}
		goto out;
	}
	if (!send_interleaved(1, 100)) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		goto out;
	}
	test_sleep_ms(100);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
		    "the first instance was killed with SIGKILL");

	/* The next instance adopts the registration, the queues and the qdisc. */
	if (!ASSERT_OK(txdp_open(&bed.dp, &opts), "reopening the datapath"))
		goto out;
	ASSERT_TRUE(queued_now() > 0, "frames still queued after the kill");
	if (!ASSERT_OK(txdp_qdisc_open(bed.dp), "opening the qdisc again"))
		goto out;
	ASSERT_EQ(txdp_qdisc_adopted(bed.dp), 1, "the registration was adopted");
	ASSERT_OK(ns_enter(bed.a), "entering the sender namespace");
	ASSERT_OK(txdp_qdisc_attach_ifindex(bed.dp, bed.ifindex, &p), "attaching again");
	/* One per TX queue (a veth has one per CPU, under mq when there are several). */
	if (!ASSERT_OK(txdp_nl_tx_queues(bed.ifindex, &ntx), "TX queues") ||
	    !ASSERT_EQ(txdp_nl_qdisc_count(bed.ifindex, TXC_QDISC_KIND), (int)ntx,
		       "one txcancel qdisc per TX queue still: adopted, not duplicated"))
		fx_run("tc qdisc show dev %s >&2", IF_A);
	ns_leave();
	bed.ring[1] = txdp_ring_open(bed.dp, 1);
	if (!ASSERT_GE0(bed.ring[1], "the source's ring, kept"))
		goto out;
	if (!ASSERT_OK(txdp_cancel(bed.dp, TXC_SCOPE_ID, A->id, 0, 0), "cancel after restart"))
		goto out;
	ASSERT_OK(txdp_qdisc_purge(bed.dp, TXC_SCOPE_ID, A->id, 0, &purged), "purge again");
	ASSERT_EQ(purged, 0, "the cancel's own purge took them all");
	nothing_arrives_later(A, NULL, "nothing at the sink after the cancel's reply");
	if (!ring_take(1))
		goto out;
	tally_of(A, &t);
	fates_exact(A, &t, "restart");
	ASSERT_TRUE(t.at[TXC_AT_PURGE] > 0, "frames queued before the kill were purged");
	account_exact(1);
out:
	if (ready[0] >= 0) {
		close(ready[0]);
		close(ready[1]);
	}
	bed_down();
}

/* --- a cancel racing enqueue ---------------------------------------------- */

static atomic_int race_stop;

static void *race_sender(void *arg)
{
	struct flow *f = arg;

	while (!atomic_load(&race_stop)) {
		if (send_one(f))
			break;
		usleep(1000);
	}
	return NULL;
}

static void test_cancel_races_enqueue(void)
{
	struct flow *A;
	struct tally t;
	pthread_t th;
	int rounds = 20, bad = 0;

	if (!qdisc_supported())
		return;
	/* Paced at 500 frames/s while the sender offers about 900/s: the queue grows. */
	if (!bed_up("race", 1, 500, 1, false, SUBNET + 5))
		goto out;
	A = &bed.f[0];
	atomic_store(&race_stop, 0);
	if (!ASSERT_OK(pthread_create(&th, NULL, race_sender, A), "sending thread"))
		goto out;
	for (int r = 0; r < rounds; r++) {
		int got_at_reply;

		test_sleep_ms(30 + r % 7);
		txdp_cancel(bed.dp, TXC_SCOPE_ID, A->id, 0, 0);
		test_sleep_ms(SETTLE_MS);
		sink_read(A);
		got_at_reply = A->got;
		test_sleep_ms(60);
		sink_read(A);
		bad += A->got != got_at_reply;
		txdp_clear(bed.dp, TXC_SCOPE_ID, A->id);
		if (r % 5 == 0)
			ring_take(1);
	}
	atomic_store(&race_stop, 1);
	pthread_join(th, NULL);
	ASSERT_EQ(bad, 0, "rounds in which a frame arrived after the cancel's reply");
	wait_idle(WAIT_MS);
	if (!ring_take(1))
		goto out;
	tally_of(A, &t);
	fates_exact(A, &t, "race");
	printf("    race: sent %d, at the sink %d, records %d (hook %d, enqueue %d, queued %d, "
	       "dequeue %d)\n", A->sent, A->got, t.records, t.at[TXC_AT_HOOK],
	       t.at[TXC_AT_ENQUEUE], t.at[TXC_AT_PURGE], t.at[TXC_AT_DEQUEUE]);
	account_exact(1);
out:
	bed_down();
}

/* --- the daemon ---------------------------------------------------------- */

/* Take a registration a failed run left behind, so that the next run can register. */
static void unregister_pin(const char *pin_dir)
{
	char path[256];
	__u32 zero = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/qdisc_ops", pin_dir);
	fd = bpf_obj_get(path);
	if (fd >= 0) {
		bpf_map_delete_elem(fd, &zero);
		close(fd);
	}
}

/* txcancel's qdiscs on IF_A now (in the sender namespace). */
static int qdiscs_now(void)
{
	int n;

	if (ns_enter(bed.a))
		return -1;
	n = txdp_nl_qdisc_count(bed.ifindex, TXC_QDISC_KIND);
	ns_leave();
	return n;
}

/*
 * The count once it is @want: the daemon serves its socket before it has
 * attached (loading and verifying the programs takes seconds on a slow CPU).
 */
static int qdiscs_wait(int want)
{
	__u64 end = test_now_ms() + 60000;
	int n;

	while ((n = qdiscs_now()) != want && test_now_ms() < end)
		test_sleep_ms(100);
	return n;
}

/*
 * The network with @nf flows, then txcanceld with @args (which install the
 * qdisc): true once it runs; its qdiscs, one per TX queue (*@ntx), checked.
 */
static bool daemon_up(struct txct_daemon *d, const char *const *args, const char *tag, int nf,
		      int subnet, __u32 *ntx)
{
	if (!bed_net_up(tag, 1, nf, false, subnet) ||
	    !ASSERT_OK(ns_enter(bed.a), "entering the sender namespace"))
		return false;
	txdp_nl_tx_queues(bed.ifindex, ntx);
	ns_leave();
	if (!ASSERT_OK(txct_daemon_start(d, bed.a, args), "txcanceld -i IF:tc+qdisc"))
		return false;
	ASSERT_EQ(qdiscs_wait(*ntx), (int)*ntx, "one txcancel qdisc per TX queue");
	return true;
}

static bool status_says_queue(const struct txct_daemon *d)
{
	char exe[512], out[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	if (n <= 0)
		return false;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (slash)
		*slash = '\0';
	if (fx_run_output(out, sizeof(out), "%s/../txcancel -s %s status", exe, d->sock))
		return false;
	return strstr(out, "tcx+qdisc") && strstr(out, " queue ");
}

/*
 * txcanceld -i IF:tc+qdisc: installs the qdisc (one per TX queue), status
 * says the boundary is the queue, a kill -9 leaves it in place, the next
 * instance adopts it without a second one, and SIGTERM puts the device's
 * own qdisc back.
 */
static void test_daemon(void)
{
	static const char *const args[] = {
		"-i", IF_A ":tc+qdisc", "--qdisc-rate", "800bps", "--qdisc-limit", "500", NULL,
	};
	struct txct_daemon d = { 0 };
	struct txdp_qdisc_desc root;
	__u32 ntx = 0;

	if (!qdisc_supported())
		return;
	if (!daemon_up(&d, args, "daemon", 0, SUBNET + 6, &ntx))
		goto out;
	{
		__u64 end = test_now_ms() + 10000;
		bool said;

		while (!(said = status_says_queue(&d)) && test_now_ms() < end)
			test_sleep_ms(200);
		ASSERT_TRUE(said, "status: attach tcx+qdisc, boundary queue");
	}
	txct_daemon_kill(&d);
	ASSERT_EQ(qdiscs_now(), (int)ntx, "the qdiscs stay after kill -9");
	if (!ASSERT_OK(txct_daemon_restart(&d), "restarting txcanceld"))
		goto out;
	/* Adopted: the count never goes above one per TX queue while it attaches. */
	{
		__u64 end = test_now_ms() + 60000;
		bool said = false;

		while (!(said = status_says_queue(&d)) && test_now_ms() < end) {
			ASSERT_EQ(qdiscs_now(), (int)ntx, "adopted after the restart, not duplicated");
			test_sleep_ms(200);
		}
		ASSERT_TRUE(said, "status after the restart: boundary queue");
		ASSERT_EQ(qdiscs_now(), (int)ntx, "adopted after the restart, not duplicated");
	}
	ASSERT_EQ(txct_daemon_stop(&d), 0, "txcanceld exits cleanly on SIGTERM");
	ASSERT_EQ(qdiscs_now(), 0, "no txcancel qdisc after the exit");
	if (!ns_enter(bed.a)) {
		if (ASSERT_OK(txdp_nl_qdisc_get(bed.ifindex, TC_H_ROOT, &root), "root qdisc"))
			ASSERT_TRUE(!strcmp(root.kind, "noqueue"), "veth's noqueue is back");
		ns_leave();
	}
out:
	if (d.pin_dir[0])
		unregister_pin(d.pin_dir);
	txct_daemon_cleanup(&d);
	bed_down();
}

/* --- through the daemon --------------------------------------------------- */

/* Completions a client received, as a user's program gets them. */
struct client_log {
	struct txc_abort_record recs[512];
	int n;
	bool overflow;
};

static void client_take(void *ctx, const struct txc_ev_completions *ev,
			const struct txc_abort_record *recs)
{
	struct client_log *l = ctx;

	for (__u32 i = 0; i < ev->count; i++) {
		if (l->n == (int)(sizeof(l->recs) / sizeof(l->recs[0]))) {
			l->overflow = true;
			return;
		}
		l->recs[l->n++] = recs[i];
	}
}

/* The interface's entry of ABORT_PLACES, what `txcancel stats` shows. */
static bool places_of(struct txc_client *c, struct txc_places_iface *out)
{
	struct txc_places_iface p[TXC_MAX_IFACES];
	int n = txc_abort_places(c, p, TXC_MAX_IFACES);

	if (!ASSERT_EQ(n, 1, "ABORT_PLACES lists the one managed interface"))
		return false;
	*out = p[0];
	return ASSERT_TRUE(!strcmp(p[0].name, IF_A), "ABORT_PLACES names it");
}

/*
 * A user's program cancels through txcanceld's socket (txc_cancel) while
 * frames of the ID wait behind the pacing rate: none reaches the sink after
 * the reply, each has exactly one completion on the subscribed source, from
 * the queue (purge or dequeue), the other ID passes in order, and
 * ABORT_PLACES (`txcancel stats`) counts them at those places.
 */
static void test_daemon_cancel(void)
{
	char rate[32], out[8192], exe[512], *slash;
	const char *args[] = {
		"-i", IF_A ":tc+qdisc", "--mark-mask", "0xff00", "--qdisc-rate", rate,
		"--qdisc-limit", "65536", "--iface-counters", NULL,
	};
	struct flow *A = &bed.f[0], *B = &bed.f[1];
	struct txct_daemon d = { 0 };
	struct txc_client *c = NULL;
	struct txc_places_iface pl;
	struct txc_stats_entry st;
	struct client_log *log;
	int at[4] = { 0 }, a_records = 0, other = 0;
	__u32 source = 0, ntx = 0;
	__u8 prefix = 0;
	ssize_t len;
	__u64 end;

	if (!qdisc_supported())
		return;
	log = calloc(1, sizeof(*log));
	if (!ASSERT_TRUE(log != NULL, "memory"))
		return;
	snprintf(rate, sizeof(rate), "%ubps", FPS * FRAME_LEN);
	if (!daemon_up(&d, args, "dcancel", 2, SUBNET + 7, &ntx))
		goto out;
	if (!ASSERT_OK(txc_client_open(&c, d.sock), "connecting to txcanceld") ||
	    !ASSERT_OK(txc_generate_partial_cancel_id(c, &prefix), "a prefix") ||
	    !ASSERT_OK(txc_source_open(c, &source), "a source (subscribed)"))
		goto out;
	for (int i = 0; i < 2; i++) {
		bed.f[i].prefix = prefix;
		bed.f[i].id = TXC_ID_MAKE(prefix, 0x100 + i);
		bed.f[i].source = source;
		if (!ASSERT_OK(txc_tag_mark(c, bed.f[i].mark, bed.f[i].id, source), "mark tag"))
			goto out;
	}
	/* The daemon attaches after it serves its socket: wait for the queue's boundary. */
	end = test_now_ms() + 60000;
	while (places_of(c, &pl) && !(pl.flags & TXC_PLACES_F_QDISC) && test_now_ms() < end)
		test_sleep_ms(100);
	if (!ASSERT_TRUE(pl.flags & TXC_PLACES_F_QDISC, "the qdisc holds the queues"))
		goto out;

	if (!send_interleaved(3, 40))
		goto out;
	test_sleep_ms(150);
	if (!places_of(c, &pl) || !ASSERT_TRUE(pl.queued > 20, "frames wait in the qdisc"))
		goto out;
	if (!ASSERT_OK(txc_cancel(c, TXC_SCOPE_ID, A->id, NULL, 0, NULL), "txc_cancel of A"))
		goto out;
	nothing_arrives_later(A, B, "no A frame at the sink after the cancel's reply");
	ASSERT_TRUE(!B->out_of_order, "B frames in the order sent");

	/* One completion per A frame that did not arrive, on the subscription. */
	end = test_now_ms() + WAIT_MS;
	while (log->n < A->sent - A->got && test_now_ms() < end)
		if (txc_read_completions(c, client_take, log, 200) < 0)
			break;
	txc_read_completions(c, client_take, log, 200);
	ASSERT_TRUE(!log->overflow, "the test's buffer held every completion");
	for (int i = 0; i < log->n; i++) {
		const struct txc_abort_record *r = &log->recs[i];

		if (r->cancel_id != A->id || r->source != source ||
		    r->hdr.status != TXC_STATUS_SEND_ABORTED || r->where > TXC_AT_DEQUEUE) {
			other++;
			continue;
		}
		a_records++;
		at[r->where]++;
		for (int j = 0; j < i; j++)
			if (log->recs[j].seq == r->seq)
				other++;
	}
	ASSERT_EQ(other, 0, "every completion is one of A's, once, SEND_ABORTED");
	ASSERT_EQ(A->got + a_records, A->sent, "A: sent = at the sink + completions");
	ASSERT_EQ(at[TXC_AT_PURGE] + at[TXC_AT_DEQUEUE], a_records,
		  "A: every completion from the queue (purge or dequeue)");
	ASSERT_TRUE(at[TXC_AT_PURGE] > 0, "A: frames taken out by the cancel's purge");

	/* What `txcancel stats` shows: the source's account and the places. */
	if (ASSERT_EQ(txc_stats(c, TXC_SCOPE_SOURCE, source, &st, 1), 1, "source stats"))
		ASSERT_EQ(st.counts.aborted_frames, (__u64)a_records,
			  "the source counts each A completion aborted");
	if (places_of(c, &pl)) {
		ASSERT_TRUE(pl.flags & TXC_PLACES_F_HOOK_COUNTED, "the hook is counted");
		ASSERT_EQ(pl.aborted[TXC_AT_HOOK], 0, "none at the hook");
		ASSERT_EQ(pl.aborted[TXC_AT_ENQUEUE], 0, "none at enqueue");
		ASSERT_EQ(pl.aborted[TXC_AT_PURGE], (__u64)at[TXC_AT_PURGE], "purged");
		ASSERT_EQ(pl.aborted[TXC_AT_DEQUEUE], (__u64)at[TXC_AT_DEQUEUE], "at dequeue");
		ASSERT_EQ(pl.aborted[TXC_PLACE_RESET], 0, "none reset");
		ASSERT_EQ(pl.queues, ntx, "its queues");
	}
	len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (len > 0) {
		char want[128];

		exe[len] = '\0';
		slash = strrchr(exe, '/');
		if (slash)
			*slash = '\0';
		if (ASSERT_OK(fx_run_output(out, sizeof(out), "%s/../txcancel -s %s -j stats", exe,
					    d.sock), "txcancel -j stats")) {
			snprintf(want, sizeof(want), "\"queued\":%d", at[TXC_AT_PURGE]);
			ASSERT_TRUE(strstr(out, want) != NULL, "txcancel stats shows the purged");
		}
		/* explain: an A frame is dropped at the hook, on an interface whose boundary is the queue. */
		if (ASSERT_OK(fx_run_output(out, sizeof(out), "%s/../txcancel -s %s -j explain dev %s "
					    "mark %#x proto udp src %s:%u dst %s:%u", exe, d.sock,
					    IF_A, A->mark, bed.addr_a, A->sport, bed.addr_b,
					    A->dport), "txcancel -j explain")) {
			ASSERT_TRUE(strstr(out, "\"verdict\":\"DROP\"") != NULL, "explain: DROP");
			ASSERT_TRUE(strstr(out, "\"boundary\":\"queue\"") != NULL,
				    "explain: the boundary is the queue");
		}
	}
	txc_client_close(c);
	c = NULL;
	ASSERT_EQ(txct_daemon_stop(&d), 0, "txcanceld exits cleanly on SIGTERM");
out:
	if (c)
		txc_client_close(c);
	if (d.pin_dir[0])
		unregister_pin(d.pin_dir);
	txct_daemon_cleanup(&d);
	bed_down();
	free(log);
}

static const struct test_case cases[] = {
	{ "refused_without_bpf_qdisc", test_refused_without },
	{ "paced_cancel", test_paced_cancel },
	{ "clear_after_cancel", test_clear_after_cancel },
	{ "flood", test_flood },
	{ "mq", test_mq },
	{ "delete_queued", test_delete_queued },
	{ "kill_restart", test_kill_restart },
	{ "cancel_races_enqueue", test_cancel_races_enqueue },
	{ "daemon", test_daemon },
	{ "daemon_cancel", test_daemon_cancel },
};

int main(int argc, char **argv)
{
	if (fx_init())
		return 1;
	atexit(unregister_at_exit);
	return test_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
}
