// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Hostile and broken clients against a real txcanceld that manages one end
 * of a veth pair in a private namespace: floods of malformed messages,
 * thousands of connections, a subscriber that never reads its completions,
 * a client that sends without reading replies, wrong descriptors, a user
 * attacking another user's leases, and clients that die halfway.
 *
 * test_proto checks each malformed message's errno and sentence; here the
 * question is what the daemon does under the abuse: it answers with an
 * error or closes only the abuser's connection, a bystander client keeps
 * being served (a request, and completions of its own canceled traffic
 * that must all arrive), and the daemon's memory (VmRSS) and descriptors
 * stay bounded, back to where they were once the abuser is gone.
 *
 * Addresses: 198.18.61.0/24 only, on a veth pair between two namespaces the
 * test creates; traffic never leaves them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <grp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <linux/netlink.h>
#include <bpf/bpf.h>

#include "txcancel/txcancel.h"
#include "daemon_fixture.h"
#include "netns.h"
#include "proto_peer.h"
#include "testlib.h"

#define IF_A		"hA0"	/* managed by the daemon, in the sender namespace */
#define IF_B		"hB0"
#define ADDR_A		"198.18.61.1"
#define ADDR_B		"198.18.61.2"
#define SINK_PORT	9900

/* The daemon's limits: small, so that the tests reach them. */
#define MAX_CLIENTS	200
#define MAX_CONNS	8
#define MAX_PREFIXES	2
#define MAX_SOURCES	4
#define MAX_RULES	600
#define MAX_SUBS	4
#define BACKLOG		256

#define K		16		/* bystander frames per check */
#define FLOOD_CONNS	2000		/* "thousands of connections" */
#define RSS_SLACK_KB	(16 * 1024)	/* growth allowed over the start (rounding, heap) */

/* Users; they need no passwd entry. */
#define UID_VICTIM	62001
#define UID_MALLORY	62002
#define UID_FLOOD	62003
#define UID_FUZZ	62004
#define UID_SUBS	62005

static struct txct_daemon dm;
static struct {
	char a[FX_NAME_MAX], b[FX_NAME_MAX];
	int sink;
} bed = { .sink = -1 };

/* The bystander: root, through libtxcancel, its canceled UDP sender. */
static struct txc_client *by;
static __u8 by_prefix;
static __u32 by_source, by_id;
static int by_tx = -1;

static long rss0;
static int fds0;
static struct reply rep;
static struct msg req;

/* A UDP sender in the managed namespace, to the sink. */
static int sender(__u16 port)
{
	return udp_open(bed.a, ADDR_A, port);
}

static int send_frames(int fd, int n)
{
	return udp_send(fd, ADDR_B, SINK_PORT, n, 0x5a);
}

static struct txc_flow_key flow_of(__u16 sport)
{
	struct txc_flow_key k;

	flow_key_make(&k, ADDR_A, sport, ADDR_B, SINK_PORT);
	return k;
}

/* --- requests on raw connections ------------------------------------------ */

static int call(struct peer *p, __u8 type, const void *body, size_t len)
{
	return peer_call(p, type, body, len, -1, &rep);
}

static const char *rep_text(void)
{
	return reply_error_text(&rep);
}

/* Raw calls here reply into rep; which field was refused is test_proto's to check. */
#define OK(n, what)			reply_ok_at(__FILE__, __LINE__, n, &rep, what)
#define ERR(n, errnum, word, what)	reply_err_at(__FILE__, __LINE__, n, &rep, errnum, word, \
						     FIELD_ANY, what)

static __u32 prefix_alloc(struct peer *p)
{
	struct txc_req_prefix b = {};
	int n = call(p, TXC_MSG_PREFIX_ALLOC, &b, sizeof(b));

	return OK(n, "PREFIX_ALLOC") ? rep.prefix.prefix : 0;
}

static __u32 source_open(struct peer *p)
{
	struct txc_req_source b = {};
	int n = call(p, TXC_MSG_SOURCE_OPEN, &b, sizeof(b));

	return OK(n, "SOURCE_OPEN") ? rep.source.source : 0;
}

static int tag_flow(struct peer *p, __u16 sport, __u32 id, __u32 source)
{
	struct txc_req_tag t = { .kind = TXC_TAG_FLOW, .cancel_id = id, .source = source };

	t.key.flow = flow_of(sport);
	return call(p, TXC_MSG_TAG_ADD, &t, sizeof(t));
}

static int tag_socket(struct peer *p, int fd, __u32 id, __u32 source)
{
	struct txc_req_tag t = { .kind = TXC_TAG_SOCKET, .cancel_id = id, .source = source };

	return peer_call(p, TXC_MSG_TAG_ADD, &t, sizeof(t), fd, &rep);
}

static int cancel(struct peer *p, __u8 scope, __u32 value)
{
	struct txc_req_cancel c = { .scope = scope, .value = value };

	return call(p, TXC_MSG_CANCEL, &c, sizeof(c));
}

/* --- completions ---------------------------------------------------------- */

struct tally {
	__u32 source;
	__u64 recs;
	struct txc_ev_completions last;
	bool have;
};

static void tally_fn(void *ctx, const struct txc_ev_completions *ev,
		     const struct txc_abort_record *recs)
{
	struct tally *t = ctx;

	(void)recs;
	if (ev->source != t->source)
		return;
	t->recs += ev->count;
	t->last = *ev;
	t->have = true;
}

static bool account_settled(const struct tally *t)
{
	const struct txc_ev_completions *e = &t->last;

	return t->have && e->delivered + e->backlog_lost + e->ring_lost == e->aborted;
}

/* Read @c's completions until @want more records came, or @ms passed. */
static void lib_collect(struct txc_client *c, struct tally *t, __u64 want, int ms)
{
	__u64 end = test_now_ms() + ms, goal = t->recs + want;

	do {
		if (txc_read_completions(c, tally_fn, t, 20) < 0)
			break;
	} while (t->recs < goal && test_now_ms() < end);
}

/* The same on a raw connection; replies on the way are dropped. */
static void raw_collect(int fd, struct tally *t, __u64 want, bool settle, int ms)
{
	static struct reply r;
	__u64 end = test_now_ms() + ms, goal = t->recs + want;

	while (t->recs < goal && test_now_ms() < end) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		struct txc_ev_completions ev;
		ssize_t n;

		if (poll(&pfd, 1, settle ? 300 : 20) <= 0) {
			/* Settled: the account adds up and nothing more is coming. */
			if (settle && account_settled(t))
				break;
			continue;
		}
		n = recv(fd, &r, sizeof(r), MSG_DONTWAIT);
		if (n <= 0)
			break;
		if ((size_t)n < HDR + sizeof(ev) || r.h.flags != TXC_MSG_F_EVENT ||
		    r.h.type != TXC_MSG_COMPLETIONS)
			continue;
		memcpy(&ev, r.raw, sizeof(ev));
		if (ev.source != t->source)
			continue;
		t->recs += ev.count;
		t->last = ev;
		t->have = true;
	}
}

/* --- the bystander and the daemon's bounds -------------------------------- */

/* A real request, its lease, and completions of its own canceled frames, all of them. */
static bool bystander_ok(const char *when)
{
	struct txc_prefix_info info[TXC_NR_PREFIXES];
	struct tally t = { .source = by_source };
	struct txc_rep_status st;
	bool held = false, ok;
	char what[160];
	int n;

	snprintf(what, sizeof(what), "bystander after %s: STATUS", when);
	if (!ASSERT_OK(txc_status(by, &st, NULL, 0, NULL, 0), what)) {
		printf("    %s\n", txc_client_error(by));
		return false;
	}
	n = txc_prefix_list(by, info, ARRAY_SIZE(info));
	for (int i = 0; i < n; i++)
		held |= info[i].prefix == by_prefix && info[i].state == TXC_LEASE_HELD;
	snprintf(what, sizeof(what), "bystander after %s: still holds its prefix", when);
	ok = ASSERT_TRUE(held, what);
	txc_read_completions(by, tally_fn, &t, 0);
	t.recs = 0;
	snprintf(what, sizeof(what), "bystander after %s: sends", when);
	ok &= ASSERT_EQ(send_frames(by_tx, K), K, what);
	lib_collect(by, &t, K, 5000);
	snprintf(what, sizeof(what), "bystander after %s: every completion of its %d canceled "
		 "frames", when, K);
	ok &= ASSERT_EQ(t.recs, K, what);
	return ok;
}

static int fd_count_settled(int want)
{
	int fds = proc_fd_count(dm.pid);

	/*
	 * The daemon reaps closed connections on its next loop turn, and its
	 * ring thread makes the rings of its pool again after opens.
	 */
	for (int i = 0; i < 500 && fds != want; i++) {
		test_sleep_ms(20);
		fds = proc_fd_count(dm.pid);
	}
	return fds;
}

/* VmRSS within RSS_SLACK_KB of the start, and @extra_fds descriptors more than then. */
static bool daemon_bounded(const char *when, int extra_fds)
{
	long rss = proc_rss_kb(dm.pid);
	int fds = fd_count_settled(fds0 + extra_fds);
	char what[160];
	bool ok;

	printf("    daemon %s: VmRSS %ld kB (%ld at start), %d descriptors (%d at start)\n",
	       when, rss, rss0, fds, fds0);
	snprintf(what, sizeof(what), "daemon memory bounded %s", when);
	ok = ASSERT_TRUE(rss > 0 && rss <= rss0 + RSS_SLACK_KB, what);
	/* Two failed reads are equal: no count, no comparison. */
	snprintf(what, sizeof(what), "daemon descriptors counted %s", when);
	ok &= ASSERT_TRUE(fds0 >= 0 && fds >= 0, what);
	snprintf(what, sizeof(what), "daemon descriptors %s", when);
	ok &= ASSERT_EQ(fds, fds0 + extra_fds, what);
	return ok;
}

/* After every case: the abuser is gone, everyone else is served, nothing leaked. */
static void after_with(const char *when, int extra_fds)
{
	bystander_ok(when);
	daemon_bounded(when, extra_fds);
}

static void after(const char *when)
{
	after_with(when, 0);
}

/* A root raw connection, greeted. */
static bool raw_open(struct peer *p)
{
	return ASSERT_OK(peer_open_path(p, dm.sock), "connect") &&
	       ASSERT_OK(peer_greet(p), "HELLO");
}

/* ========================================================================== */
/* Malformed messages, many of them                                           */
/* ========================================================================== */

static __u64 rng_state = 0x9e3779b97f4a7c15ull;

static __u32 rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (__u32)(rng_state >> 11);
}

/* The malformed-message subtests' root connection, and its id: a refusal must not cost it. */
struct malformed_fixture {
	struct peer m;
	__u32 conn_id;
};

static void malformed_empty_packets(struct malformed_fixture *fx)
{
	int n;

	/* recvmsg() returns 0 for an empty packet as for a close: the daemon must tell them apart. */
	for (int i = 0; i < 100; i++) {
		n = raw_send(fx->m.fd, "", 0, NULL, 0);
		if (!n)
			n = raw_recv(fx->m.fd, &rep);
		if (!ERR(n, -EINVAL, "message of 0 bytes",
			 "an empty packet is refused, the "
			 "connection kept"))
			break;
	}
	if (ASSERT_OK(peer_greet(&fx->m), "HELLO after 100 empty packets"))
		ASSERT_EQ(fx->m.conn_id, fx->conn_id, "the same connection");
	after_with("empty packets", 1);
}

static void malformed_short_messages(struct malformed_fixture *fx)
{
	struct txc_client *c = NULL;
	struct txc_rep_status st;
	bool ok = true;
	int n;

	msg_make(&req, TXC_MSG_HELLO, NULL, 0);
	for (int round = 0; round < 40 && ok; round++) {
		for (size_t len = 1; len < HDR && ok; len++) {
			n = raw_send(fx->m.fd, &req, len, NULL, 0);
			if (!n)
				n = raw_recv(fx->m.fd, &rep);
			ok = ERR(n, -EINVAL, "shorter than the 24-byte header",
				 "short") &&
			     ASSERT_EQ(rep.h.seq, 0, "nothing to echo");
		}
	}
	ASSERT_OK(peer_greet(&fx->m), "HELLO after 920 short messages");
	ASSERT_EQ(fx->m.conn_id, fx->conn_id, "the same connection");
	/* Through libtxcancel too: the answer (type 0, seq 0) is a reply, not a refusal. */
	if (ASSERT_OK(txc_client_open(&c, dm.sock), "libtxcancel client")) {
		n = txc_request_raw(c, &req, 10, -1, &rep, sizeof(rep));
		ERR(n, -EINVAL, "shorter than the 24-byte header",
		    "10 bytes by txc_request_raw");
		ASSERT_OK(txc_status(c, &st, NULL, 0, NULL, 0),
			  "the library's client goes on");
	}
	txc_client_close(c);
	after_with("short messages", 1);
}

/*
 * Past TXC_MSG_MAX the daemon's recvmsg() sees MSG_TRUNC: it must refuse,
 * not parse the first 64 KiB as if they were the message.  The first 64 KiB
 * here are a valid HELLO but for the length.
 */
static void malformed_oversized(struct malformed_fixture *fx)
{
	static const size_t sizes[] = { TXC_MSG_MAX + 1, 256 << 10, 1 << 20 };
	static __u8 big[1 << 20];
	int sndbuf = 8 << 20, n;
	struct txc_req_hello hb = { .version = TXC_PROTO_VERSION };

	setsockopt(fx->m.fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf));
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		for (int round = 0; round < (sizes[i] == (1 << 20) ? 20 : 1); round++) {
			struct txc_msg_hdr *h = (void *)big;

			msg_make(&req, TXC_MSG_HELLO, &hb, sizeof(hb));
			memcpy(big, &req, HDR + sizeof(hb));
			h->length = sizes[i];
			n = raw_send(fx->m.fd, big, sizes[i], NULL, 0);
			if (!ASSERT_OK(n, "send the oversized message"))
				break;
			n = raw_recv(fx->m.fd, &rep);
			if (!ERR(n, -EMSGSIZE, "65536-byte maximum", "oversized") ||
			    !ASSERT_EQ(rep.h.seq, req.h.seq, "seq echoed"))
				break;
		}
	}
	/* Exactly the maximum is not truncated: refused for its length, not its size. */
	msg_make(&req, TXC_MSG_HELLO, &hb, sizeof(hb));
	memcpy(big, &req, HDR + sizeof(hb));
	((struct txc_msg_hdr *)big)->length = TXC_MSG_MAX;
	n = raw_send(fx->m.fd, big, TXC_MSG_MAX, NULL, 0);
	if (!n)
		n = raw_recv(fx->m.fd, &rep);
	ERR(n, -EINVAL, "HELLO takes 32 bytes",
	    "a HELLO of exactly TXC_MSG_MAX bytes");
	ASSERT_OK(peer_greet(&fx->m), "HELLO after 22 oversized messages");
	ASSERT_EQ(fx->m.conn_id, fx->conn_id, "the same connection");
	after_with("oversized messages", 1);
}

static void malformed_truncated(struct malformed_fixture *fx)
{
	struct txc_req_cancel c = { .scope = TXC_SCOPE_ID, .value = by_id };
	size_t len = msg_make(&req, TXC_MSG_CANCEL, &c, sizeof(c));
	int n;

	/* The header announces the whole message; a part of it arrives. */
	for (size_t cut = 1; cut < sizeof(c); cut += 3) {
		n = raw_send(fx->m.fd, &req, len - cut, NULL, 0);
		if (!n)
			n = raw_recv(fx->m.fd, &rep);
		if (!ERR(n, -EINVAL, "header says", "truncated CANCEL"))
			break;
	}
	after_with("truncated messages", 1);
}

/* 5000 messages, each with one header field wrong: each gets one error reply. */
static void malformed_garbage_headers(struct malformed_fixture *fx)
{
	static const int want[] = { -EPROTO, -EPROTONOSUPPORT, -EBADMSG, -EINVAL, -EINVAL,
				    -EINVAL };
	int counts[ARRAY_SIZE(want)] = {}, n;
	bool ok = true;

	for (int i = 0; i < 5000 && ok; i++) {
		__u8 body[256];
		size_t blen = rnd() % sizeof(body), len;
		int which = rnd() % ARRAY_SIZE(want);

		for (size_t j = 0; j < blen; j++)
			body[j] = rnd();
		len = msg_make(&req, 1 + rnd() % TXC_MSG_REQUEST_MAX, body, blen);
		switch (which) {
		case 0:
			req.h.magic ^= 1u << (rnd() % 32);
			break;
		case 1:
			req.h.version = 2 + rnd() % 254;
			break;
		case 2:
			req.h.type = TXC_MSG_REQUEST_MAX + 1 + rnd() % (255 - TXC_MSG_REQUEST_MAX);
			break;
		case 3:
			req.h.flags = 1 + rnd() % 0xffff;
			break;
		case 4:
			req.h.reserved = 1 + rnd();
			break;
		case 5:
			req.h.length = len + 1 + rnd() % 1000;
			break;
		}
		n = raw_send(fx->m.fd, &req, len, NULL, 0);
		if (!n)
			n = raw_recv(fx->m.fd, &rep);
		ok = ERR(n, want[which], NULL, "a header with one field wrong") &&
		     ASSERT_EQ(rep.h.seq, req.h.seq, "seq echoed");
		counts[which]++;
	}
	printf("    refused: %d bad magic, %d bad version, %d unknown type, %d flags, "
	       "%d reserved, %d length\n", counts[0], counts[1], counts[2], counts[3],
	       counts[4], counts[5]);
	ASSERT_OK(peer_greet(&fx->m), "HELLO after 5000 bad headers");
	ASSERT_EQ(fx->m.conn_id, fx->conn_id, "the same connection");
	after_with("5000 bad headers", 1);
}

/*
 * Batches whose count the bytes do not carry, every op of which would clear
 * the bystander's cancel (root may): nothing may be applied, so the
 * bystander's frames must still be dropped and reported.
 */
static void malformed_batch_absurd_counts(struct malformed_fixture *fx)
{
	static struct {
		struct txc_req_batch b;
		struct txc_batch_op ops[(TXC_MSG_MAX - HDR - sizeof(struct txc_req_batch)) /
					sizeof(struct txc_batch_op)];
	} bt;
	const size_t max_ops = ARRAY_SIZE(bt.ops);
	static const struct {
		__u32 count;
		size_t ops;	/* carried */
	} cases[] = {
		{ 0xffffffffu, 1 }, { 0xffffffffu, 0 }, { 0x80000000u, 3 },
		{ TXC_BATCH_MAX, TXC_BATCH_MAX / 2 }, { 2, 0 }, { 0xffffffffu, (size_t)-1 },
		{ TXC_BATCH_MAX + 1, (size_t)-1 },
	};
	int n;

	for (size_t i = 0; i < max_ops; i++) {
		bt.ops[i].type = TXC_MSG_CLEAR;
		bt.ops[i].clear = (struct txc_req_clear){ .scope = TXC_SCOPE_ID,
							  .value = by_id };
	}
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		size_t ops = cases[i].ops == (size_t)-1 ? max_ops : cases[i].ops;
		size_t len;

		bt.b.count = cases[i].count;
		len = msg_make(&req, TXC_MSG_BATCH, &bt,
			       sizeof(bt.b) + ops * sizeof(bt.ops[0]));
		n = raw_send(fx->m.fd, &req, len, NULL, 0);
		if (!n)
			n = raw_recv(fx->m.fd, &rep);
		if (!ERR(n, -EINVAL, "batch", "absurd batch count"))
			printf("    count %u with %zu ops' bytes\n", cases[i].count,
			       ops);
		/* A malformed batch is refused whole (error reply); a batch reply says 0 ops. */
		else if (n == (int)(HDR + sizeof(struct txc_rep_batch)))
			ASSERT_EQ(rep.batch.applied, 0, "nothing applied");
	}
	after_with("absurd batch counts (the bystander's cancel still holds)", 1);
}

/*
 * 20000 well-framed requests of random type and random bytes from a user
 * without privileges: each gets exactly one reply of its type and seq;
 * whatever it got leased is gone with its connection.
 */
static void malformed_fuzz_as_user(struct malformed_fixture *fx)
{
	struct txc_prefix_info info[TXC_NR_PREFIXES];
	struct peer f = { .fd = -1 };
	int good = 0, bad = 0, n;
	bool left = true;

	(void)fx;
	if (ASSERT_OK(peer_open_as(&f, dm.sock, UID_FUZZ, false),
		      "connect as a user")) {
		bool ok = true;

		for (int i = 0; i < 20000 && ok; i++) {
			__u8 body[300] = {};
			__u8 type = 1 + rnd() % TXC_MSG_REQUEST_MAX;
			size_t blen = rnd() % 4 ? (size_t)8 << (rnd() % 6) : rnd() % sizeof(body);

			if (blen > sizeof(body))
				blen = sizeof(body);
			/* Mostly zeroes with a few random bytes: closer to valid. */
			for (int j = rnd() % 8; j > 0; j--)
				body[rnd() % sizeof(body)] = rnd();
			n = call(&f, type, body, blen);
			ok = ASSERT_TRUE(n >= (int)HDR, "a reply") &&
			     ASSERT_EQ(rep.h.type, type, "type echoed") &&
			     ASSERT_EQ(rep.h.flags, TXC_MSG_F_REPLY, "a reply");
			if (rep.h.error)
				bad++;
			else
				good++;
		}
		printf("    %d accepted, %d refused\n", good, bad);
		ASSERT_OK(peer_greet(&f),
			  "the fuzzing user's connection still answers");
	}
	peer_close(&f);
	for (int i = 0; i < 150 && left; i++) {
		n = txc_prefix_list(by, info, ARRAY_SIZE(info));
		left = false;
		for (int j = 0; j < n; j++)
			left |= info[j].uid == UID_FUZZ;
		if (left)
			test_sleep_ms(20);
	}
	ASSERT_TRUE(!left,
		    "the fuzzing user's leases are released with its connection");
	after("20000 random requests");
}

/* On the connection, one after the other: each must leave it open. */
static const TEST_SUB_OF(struct malformed_fixture) malformed_subs[] = {
	{ "empty_packets", malformed_empty_packets },
	{ "short_messages", malformed_short_messages },
	{ "oversized", malformed_oversized },
	{ "truncated", malformed_truncated },
	{ "garbage_headers", malformed_garbage_headers },
	{ "batch_absurd_counts", malformed_batch_absurd_counts },
};

/* Once the connection is closed: their bounds count no descriptor of it. */
static const TEST_SUB_OF(struct malformed_fixture) malformed_closed_subs[] = {
	{ "fuzz_as_user", malformed_fuzz_as_user },
};

static void test_malformed(void)
{
	struct malformed_fixture fx = { .m = { .fd = -1 } };

	if (!raw_open(&fx.m))
		return;
	fx.conn_id = fx.m.conn_id;
	test_subs_run(malformed_subs, &fx);
	peer_close(&fx.m);
	test_subs_run(malformed_closed_subs, &fx);
}

/* ========================================================================== */
/* Thousands of connections                                                   */
/* ========================================================================== */

struct flood_arg {
	const char *path;
	int ready;	/* write end: the flood is held */
	int go;		/* read end: the parent has measured */
};

/* A refusal: one reply of type 0 and seq 0 saying @word, then the close. */
static bool refused_with(int fd, int errnum, const char *word)
{
	static struct reply r;
	int n = raw_recv(fd, &r);

	if (n < (int)(HDR + sizeof(r.err)) || r.h.error != errnum || r.h.seq || r.h.type ||
	    r.h.flags != TXC_MSG_F_REPLY) {
		printf("    a %d-byte answer with error %d where a refusal (%d) was due\n", n,
		       n >= (int)HDR ? r.h.error : 0, errnum);
		return false;
	}
	r.err.message[sizeof(r.err.message) - 1] = '\0';
	if (!strstr(r.err.message, word)) {
		printf("    refusal \"%s\" does not say \"%s\"\n", r.err.message, word);
		return false;
	}
	return raw_recv(fd, &r) == -ECONNRESET;
}

/* As UID_FLOOD: FLOOD_CONNS connections, MAX_CONNS of them served. */
static int flood_user(void *varg)
{
	const struct flood_arg *a = varg;
	struct peer held[MAX_CONNS];
	struct txc_client *c = NULL;
	int ret = 0, err;
	char b;

	for (int i = 0; i < MAX_CONNS; i++)
		if (peer_open_path(&held[i], a->path) || peer_greet(&held[i]))
			return 1;
	for (int i = 0; i < FLOOD_CONNS && !ret; i++) {
		struct peer x;

		if (peer_open_path(&x, a->path))
			ret = 2;
		else if (!refused_with(x.fd, -EDQUOT, "per-user limit (--max-conns)"))
			ret = 3;
		peer_close(&x);
	}
	/* Through the library the refusal is an error naming the limit. */
	err = txc_client_open(&c, a->path);
	if (!ret && (err != -EDQUOT || !strstr(txc_last_error(), "refused the connection") ||
		     !strstr(txc_last_error(), "--max-conns"))) {
		printf("    txc_client_open over the limit: %d, \"%s\"\n", err, txc_last_error());
		ret = 4;
	}
	txc_client_close(c);
	for (int i = 0; i < MAX_CONNS && !ret; i++)
		if (peer_greet(&held[i]))
			ret = 5;
	if (write(a->ready, "r", 1) != 1 || read(a->go, &b, 1) != 1)
		ret = ret ? ret : 6;
	for (int i = 0; i < MAX_CONNS; i++)
		peer_close(&held[i]);
	return ret;
}

/* Run @fn as @uid in a child while the parent watches; returns its pid. */
static pid_t spawn_as(uid_t uid, bool net_admin, int (*fn)(void *), void *arg)
{
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		int ret = txct_run_as(uid, uid, net_admin, fn, arg);

		_exit(ret < 0 ? 255 : ret);
	}
	return pid;
}

static int child_status(pid_t pid)
{
	int status;

	if (pid <= 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static bool wait_byte(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char b;

	return poll(&p, 1, ms) == 1 && read(fd, &b, 1) == 1;
}

static int status_clients(void)
{
	struct txc_rep_status st;

	return txc_status(by, &st, NULL, 0, NULL, 0) ? -1 : (int)st.n_clients;
}

static void connections_user_opens_thousands(const struct txct_daemon *d)
{
	struct flood_arg a = { .path = d->sock };
	int ready[2], go[2];
	pid_t pid;

	if (pipe2(ready, O_CLOEXEC) || pipe2(go, O_CLOEXEC)) {
		test_fail(__FILE__, __LINE__, "pipe: %s", strerror(errno));
	} else {
		a.ready = ready[1];
		a.go = go[0];
		pid = spawn_as(UID_FLOOD, false, flood_user, &a);
		if (ASSERT_TRUE(wait_byte(ready[0], 120000), "the flood is held")) {
			daemon_bounded("holding the user's 8 connections",
				       MAX_CONNS);
			bystander_ok("2000 refused connections of one user");
		}
		if (write(go[1], "g", 1) != 1)
			printf("    write: %s\n", strerror(errno));
		ASSERT_EQ(child_status(pid), 0,
			  "uid 62003: 2000 connections past --max-conns "
			  "8 refused with a reply naming the limit, 8 served (see above)");
		close(ready[0]);
		close(ready[1]);
		close(go[0]);
		close(go[1]);
	}
	after("a user's 2008 connections");
}

/* Root is not limited per user, but --max-clients counts everyone. */
static void connections_root_opens_thousands(const struct txct_daemon *d)
{
	static struct peer conns[FLOOD_CONNS];
	int before = status_clients(), accepted = 0, refused = 0, other = 0, silent = 0;
	struct txc_client *c = NULL;
	int err, n;

	for (int i = 0; i < FLOOD_CONNS; i++) {
		struct txc_req_hello hb = { .version = TXC_PROTO_VERSION };
		size_t len;

		conns[i].fd = -1;
		if (peer_open_path(&conns[i], d->sock)) {
			other++;
			continue;
		}
		len = msg_make(&req, TXC_MSG_HELLO, &hb, sizeof(hb));
		/*
		 * The refused are closed at once: the send may find the peer
		 * gone, and a HELLO the daemon never read resets the
		 * connection; the refusal is still queued behind that.
		 */
		raw_send(conns[i].fd, &req, len, NULL, 0);
		memset(&rep.h, 0, sizeof(rep.h));
		n = raw_recv(conns[i].fd, &rep);
		if (n == -ECONNRESET)
			n = raw_recv(conns[i].fd, &rep);
		if (n >= (int)HDR && !rep.h.error && rep.h.type == TXC_MSG_HELLO) {
			accepted++;
			continue;
		}
		if (n >= (int)HDR && rep.h.error == -EUSERS && !rep.h.seq &&
		    strstr(rep.err.message, "its limit (--max-clients)") &&
		    raw_recv(conns[i].fd, &rep) == -ECONNRESET)
			refused++;
		else
			other++;
		peer_close(&conns[i]);
	}
	printf("    %d connections before, %d accepted, %d refused naming --max-clients, "
	       "%d otherwise\n", before, accepted, refused, other);
	ASSERT_EQ(before + accepted, MAX_CLIENTS, "served up to --max-clients");
	ASSERT_EQ(refused, FLOOD_CONNS - accepted,
		  "every other one refused with a reply");
	err = txc_client_open(&c, d->sock);
	if (ASSERT_EQ(err, -EUSERS, "libtxcancel while full"))
		ASSERT_TRUE(strstr(txc_last_error(), "--max-clients") != NULL,
			    "its error names --max-clients");
	txc_client_close(c);
	daemon_bounded("holding 200 connections", accepted);
	bystander_ok("root's 2000 connections");
	for (int i = 0; i < FLOOD_CONNS; i++)
		if (conns[i].fd >= 0 && peer_greet(&conns[i]))
			silent++;
	ASSERT_EQ(silent, 0, "the accepted connections all answer");
	for (int i = 0; i < FLOOD_CONNS; i++)
		peer_close(&conns[i]);
	fd_count_settled(fds0);
	err = txc_client_open(&c, d->sock);
	ASSERT_OK(err, "connections are accepted again once they closed");
	txc_client_close(c);
	after("root's 2000 connections");
}

/* Their fixture is the daemon they connect to. */
static const TEST_SUB_OF(const struct txct_daemon) connection_subs[] = {
	{ "user_opens_thousands", connections_user_opens_thousands },
	{ "root_opens_thousands", connections_root_opens_thousands },
};

static void test_connections(void)
{
	test_subs_run(connection_subs, &dm);
}

/* ========================================================================== */
/* A subscriber that never reads                                              */
/* ========================================================================== */

static bool source_stats(__u32 source, struct txc_stats_entry *e)
{
	return txc_stats(by, TXC_SCOPE_SOURCE, source, e, 1) == 1;
}

static __u64 client_backlog(__u32 conn_id)
{
	static struct txc_status_client cl[MAX_CLIENTS];
	struct txc_rep_status st;

	if (txc_status(by, &st, NULL, 0, cl, ARRAY_SIZE(cl)))
		return (__u64)-1;
	for (__u32 i = 0; i < st.n_clients && i < ARRAY_SIZE(cl); i++)
		if (cl[i].conn_id == conn_id)
			return cl[i].backlog;
	return (__u64)-1;
}

static void test_slow_reader(void)
{
	struct peer h = { .fd = -1 };
	struct txc_client *r = NULL;
	struct tally th = {}, tr = {};
	struct txc_stats_entry e = {};
	__u32 hp = 0, hs = 0, sent = 0;
	int tx = -1, n;

	if (test_sub_begin("never_reads_completions")) {
		if (!raw_open(&h) || !(hp = prefix_alloc(&h)) || !(hs = source_open(&h)))
			goto out;
		tx = sender(7710);
		n = tag_socket(&h, tx, TXC_ID_MAKE(hp, 1), hs);
		if (!OK(n, "tag the sender") ||
		    !OK(cancel(&h, TXC_SCOPE_ID, TXC_ID_MAKE(hp, 1)), "cancel"))
			goto out;
		/* A second subscriber of the same source that does read. */
		if (!ASSERT_OK(txc_client_open(&r, dm.sock), "reader connects") ||
		    !ASSERT_OK(txc_subscribe(r, hs), "reader subscribes"))
			goto out;
		th.source = tr.source = hs;
		/* Until the non-reader's socket and backlog overflowed. */
		for (int round = 0; round < 12; round++) {
			n = send_frames(tx, 20000);
			if (!ASSERT_EQ(n, 20000, "frames sent"))
				break;
			sent += n;
			/*
			 * Batches go out as the ring fills, so an early batch's account
			 * balances too: wait for the one that counts every frame sent.
			 */
			lib_collect(r, &tr, 0, 0);
			for (int i = 0; i < 250 &&
			     !(account_settled(&tr) && tr.last.aborted == sent); i++)
				lib_collect(r, &tr, 1, 20);
			if (source_stats(hs, &e) && e.backlog_lost)
				break;
		}
		printf("    %u frames sent; source: %llu aborted, %llu delivered, %llu ring_lost, "
		       "%llu backlog_lost; non-reader's backlog %llu\n", sent,
		       (unsigned long long)e.counts.aborted_frames, (unsigned long long)e.delivered,
		       (unsigned long long)e.ring_lost, (unsigned long long)e.backlog_lost,
		       (unsigned long long)client_backlog(h.conn_id));
		ASSERT_EQ(e.counts.aborted_frames, sent, "every frame aborted");
		ASSERT_TRUE(e.backlog_lost > 0,
			    "the non-reader's overflow is counted (backlog_lost)");
		ASSERT_TRUE(client_backlog(h.conn_id) <= BACKLOG,
			    "its backlog stays within --backlog");
		/* The reader missed nothing the daemon could read from the ring. */
		if (ASSERT_TRUE(account_settled(&tr), "the reader's account settles")) {
			ASSERT_EQ(tr.last.backlog_lost, 0,
				  "the reader lost nothing to the backlog");
			ASSERT_EQ(tr.recs, tr.last.delivered,
				  "the reader got every record delivered");
			ASSERT_EQ(tr.last.aborted, sent, "the reader's account counts every abort");
		}
		daemon_bounded("while a subscriber does not read", 3);	/* h, r, the ring */
		bystander_ok("a subscriber that does not read");

		/* When it reads at last: what it got plus what it was told it lost is everything. */
		raw_collect(h.fd, &th, (__u64)-1, true, 20000);
		printf("    the non-reader then reads %llu records: delivered %llu, backlog_lost %llu, "
		       "ring_lost %llu of %llu\n", (unsigned long long)th.recs,
		       (unsigned long long)th.last.delivered, (unsigned long long)th.last.backlog_lost,
		       (unsigned long long)th.last.ring_lost, (unsigned long long)th.last.aborted);
		if (ASSERT_TRUE(account_settled(&th),
				"delivered + backlog_lost + ring_lost = aborted")) {
			ASSERT_EQ(th.recs, th.last.delivered, "records received = delivered");
			ASSERT_EQ(th.last.aborted, sent, "aborted = frames sent");
		}
out:
		if (tx >= 0)
			close(tx);
		txc_client_close(r);
		peer_close(&h);
		after("a subscriber that did not read");
		test_sub_end();
	}
}

/* ========================================================================== */
/* A client that sends and never reads its replies                            */
/* ========================================================================== */

/* Send HELLOs without reading until the socket stays full; returns how many went. */
static int flood_requests(int fd, __u32 *first_seq, bool *stalled)
{
	struct txc_req_hello hb = { .version = TXC_PROTO_VERSION };
	int sent = 0;
	size_t len = msg_make(&req, TXC_MSG_HELLO, &hb, sizeof(hb));

	*stalled = false;
	*first_seq = req.h.seq;
	while (sent < 1000000) {
		struct pollfd p = { .fd = fd, .events = POLLOUT };

		if (send(fd, &req, len, MSG_DONTWAIT | MSG_NOSIGNAL) == (ssize_t)len) {
			sent++;
			len = msg_make(&req, TXC_MSG_HELLO, &hb, sizeof(hb));
			continue;
		}
		if (errno != EAGAIN)
			break;
		if (poll(&p, 1, 500) == 0) {
			*stalled = true;
			break;
		}
	}
	return sent;
}

static long cpu_ticks(pid_t pid);

static void test_fast_sender(void)
{
	struct peer p = { .fd = -1 };

	if (test_sub_begin("never_reads_replies")) {
		if (raw_open(&p)) {
			__u32 first = 0, seq_ok = 0;
			bool stalled;
			int sent = flood_requests(p.fd, &first, &stalled), got = 0;

			printf("    %d requests sent before the daemon stopped reading\n", sent);
			ASSERT_TRUE(stalled,
				    "the daemon stops reading a client that does not read");
			{
				/* Unread requests keep the socket readable: the daemon must not spin on it. */
				long t0 = cpu_ticks(dm.pid), t1;

				test_sleep_ms(1500);
				t1 = cpu_ticks(dm.pid);
				printf("    daemon CPU while the client does not read: %ld ticks in 1.5 s\n",
				       t1 - t0);
				ASSERT_TRUE(t0 >= 0 && t1 - t0 < 30,
					    "the daemon does not spin on it");
			}
			daemon_bounded("while a client does not read its replies", 1);
			bystander_ok("a client that does not read its replies");
			/* Nothing was lost: one reply per request, in order. */
			for (;;) {
				int n = raw_recv_timeout(p.fd, &rep, 1000);

				if (n < 0)
					break;
				seq_ok += rep.h.type == TXC_MSG_HELLO && !rep.h.error &&
					  rep.h.seq == first + got;
				got++;
			}
			ASSERT_EQ(got, sent, "one reply per request once it reads");
			ASSERT_EQ(seq_ok, sent, "in order, every one a HELLO");
		}
		peer_close(&p);
		after("a client that did not read its replies");
		test_sub_end();
	}
}

/* ========================================================================== */
/* Descriptors that are not the socket a socket tag needs                     */
/* ========================================================================== */

/* Descriptors of every kind but the socket a socket tag needs. */
struct wrong_fds {
	int pipefd[2], sv[2];
	int null, ep, nl;
	int lfd;		/* a listening TCP socket */
	int cfd;		/* a TCP connection to it whose peer then closed */
	int closed_fd;
};

static void wrong_fds_open(struct wrong_fds *w)
{
	int afd;

	socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, w->sv);
	w->nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	w->ep = epoll_create1(EPOLL_CLOEXEC);
	w->null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (pipe2(w->pipefd, O_CLOEXEC))
		w->pipefd[0] = w->pipefd[1] = -1;
	if (!ns_enter(bed.a)) {
		struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(9911) };

		inet_pton(AF_INET, ADDR_A, &sin.sin_addr);
		w->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (w->lfd < 0 || bind(w->lfd, (struct sockaddr *)&sin, sizeof(sin)) ||
		    listen(w->lfd, 4))
			printf("    listening socket: %s\n", strerror(errno));
		w->cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (w->cfd < 0 || connect(w->cfd, (struct sockaddr *)&sin, sizeof(sin)))
			printf("    connecting: %s\n", strerror(errno));
		afd = accept4(w->lfd, NULL, NULL, SOCK_CLOEXEC);
		if (afd >= 0)
			close(afd);	/* the peer of cfd is gone */
		ns_leave();
	}
	w->closed_fd = dup(w->null);
	close(w->closed_fd);
}

static void wrong_fds_close(struct wrong_fds *w)
{
	for (int *fd = (int[]){ w->sv[0], w->sv[1], w->lfd, w->cfd, w->nl, w->ep, w->null,
				w->pipefd[0], w->pipefd[1], -2 };
	     *fd != -2; fd++)
		if (*fd >= 0)
			close(*fd);
}

static void descriptors_wrong_descriptors(struct wrong_fds *w)
{
	struct txc_client *c = NULL;
	struct txc_prefix_info info[TXC_NR_PREFIXES];
	__u8 prefix = 0;
	__u32 source = 0, id;
	int err, n;

	if (!ASSERT_OK(txc_client_open(&c, dm.sock), "client") ||
	    !ASSERT_OK(txc_generate_partial_cancel_id(c, &prefix), "prefix") ||
	    !ASSERT_OK(txc_source_open(c, &source), "source"))
		goto out;
	id = TXC_ID_MAKE(prefix, 1);
	wrong_fds_open(w);
	{
		const struct {
			const char *name;
			int fd;
			int err;
			const char *word;
		} bad[] = {
			{ "a pipe", w->pipefd[0], -ENOTSOCK, "not a socket" },
			{ "/dev/null", w->null, -ENOTSOCK, "not a socket" },
			{ "an epoll descriptor", w->ep, -ENOTSOCK, "not a socket" },
			{ "a Unix stream socket", w->sv[0], -EAFNOSUPPORT, "AF_UNIX" },
			{ "its own connection to the daemon", txc_client_fd(c), -EAFNOSUPPORT,
			  "AF_UNIX" },
			{ "a netlink socket", w->nl, -EAFNOSUPPORT, "AF_NETLINK" },
			{ "a listening TCP socket", w->lfd, -EINVAL, "listening" },
			{ "a descriptor already closed", w->closed_fd, -EBADF,
			  "cannot pass descriptor" },
		};

		for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
			char what[128];

			snprintf(what, sizeof(what), "socket tag with %s", bad[i].name);
			err = txc_tag_socket(c, bad[i].fd, id, source, NULL);
			if (ASSERT_EQ(err, bad[i].err, what) &&
			    !ASSERT_TRUE(strstr(txc_client_error(c), bad[i].word) != NULL,
					 what))
				printf("    error text: \"%s\"\n", txc_client_error(c));
			snprintf(what, sizeof(what), "the client still works after %s",
				 bad[i].name);
			ASSERT_OK(txc_prefix_list(c, info, ARRAY_SIZE(info)) < 0, what);
		}
	}
	n = txc_prefix_list(c, info, ARRAY_SIZE(info));
	for (int i = 0; i < n; i++)
		if (info[i].prefix == prefix)
			ASSERT_EQ(info[i].rules, 0, "no rule was added by any of them");
	/* A TCP socket whose peer closed can still send (its FIN, a reset): it is taken. */
	err = txc_tag_socket(c, w->cfd, id, source, NULL);
	if (!ASSERT_OK(err, "socket tag with a TCP socket whose peer closed"))
		printf("    %s\n", txc_client_error(c));
out:
	txc_client_close(c);
	wrong_fds_close(w);
	after("wrong descriptors");
}

static const TEST_SUB_OF(struct wrong_fds) descriptor_subs[] = {
	{ "wrong_descriptors", descriptors_wrong_descriptors },
};

static void test_descriptors(void)
{
	struct wrong_fds w = {
		.pipefd = { -1, -1 }, .sv = { -1, -1 }, .null = -1, .ep = -1, .nl = -1,
		.lfd = -1, .cfd = -1, .closed_fd = -1,
	};

	test_subs_run(descriptor_subs, &w);
}

/* ========================================================================== */
/* One user against another's leases                                          */
/* ========================================================================== */

/* The victim's and the attacker's connections and leases, and the victim's two flows. */
struct other_user_fixture {
	struct peer v, m;
	__u32 vp, vs, mp, ms;	/* prefix and source, of v and of m */
	__u32 id1, id2;		/* v's IDs on its flows 1 (canceled) and 2 */
	int tx1, tx2;		/* v's senders of flows 1 and 2 */
};

/* The setup every subtest but after needs, selected or not. */
static bool other_user_setup(struct other_user_fixture *fx)
{
	if (!ASSERT_OK(peer_open_as(&fx->v, dm.sock, UID_VICTIM, true), "victim connects") ||
	    !ASSERT_OK(peer_open_as(&fx->m, dm.sock, UID_MALLORY, true), "attacker connects") ||
	    !(fx->vp = prefix_alloc(&fx->v)) || !(fx->vs = source_open(&fx->v)) ||
	    !(fx->mp = prefix_alloc(&fx->m)) || !(fx->ms = source_open(&fx->m)))
		return false;
	fx->id1 = TXC_ID_MAKE(fx->vp, 1);
	fx->id2 = TXC_ID_MAKE(fx->vp, 2);
	fx->tx1 = sender(7721);
	fx->tx2 = sender(7722);
	OK(tag_flow(&fx->v, 7721, fx->id1, fx->vs), "victim tags flow 1");
	OK(tag_flow(&fx->v, 7722, fx->id2, fx->vs), "victim tags flow 2");
	OK(cancel(&fx->v, TXC_SCOPE_ID, fx->id1), "victim cancels flow 1's ID");
	return true;
}

static void other_user_teardown(struct other_user_fixture *fx)
{
	if (fx->tx1 >= 0)
		close(fx->tx1);
	if (fx->tx2 >= 0)
		close(fx->tx2);
	peer_close(&fx->v);
	peer_close(&fx->m);
}

static void other_user_attacks(struct other_user_fixture *fx)
{
	struct txc_req_prefix pv = { .prefix = fx->vp };
	struct txc_req_source sv = { .source = fx->vs };
	struct txc_req_cancel c_id = { .scope = TXC_SCOPE_ID, .value = fx->id2 };
	struct txc_req_cancel c_pfx = { .scope = TXC_SCOPE_PREFIX, .value = fx->vp };
	struct txc_req_cancel c_src = { .scope = TXC_SCOPE_SOURCE, .value = fx->vs };
	struct txc_req_clear x_id = { .scope = TXC_SCOPE_ID, .value = fx->id1 };
	struct txc_req_clear x_pfx = { .scope = TXC_SCOPE_PREFIX, .value = fx->vp };
	struct txc_req_clear x_src = { .scope = TXC_SCOPE_SOURCE, .value = fx->vs };
	struct txc_req_count_id cnt = { .cancel_id = fx->id1, .enable = 1 };
	struct txc_req_stats st = { .scope = TXC_SCOPE_SOURCE, .value = fx->vs };
	struct txc_req_tag t_id = { .kind = TXC_TAG_FLOW, .cancel_id = TXC_ID_MAKE(fx->vp, 3),
				    .source = fx->ms, .key.flow = flow_of(7723) };
	struct txc_req_tag t_src = { .kind = TXC_TAG_FLOW, .cancel_id = TXC_ID_MAKE(fx->mp, 3),
				     .source = fx->vs, .key.flow = flow_of(7723) };
	struct txc_req_tag t_key = { .kind = TXC_TAG_FLOW, .cancel_id = TXC_ID_MAKE(fx->mp, 3),
				     .source = fx->ms, .key.flow = flow_of(7721) };
	struct txc_req_tag t_del = { .kind = TXC_TAG_FLOW, .key.flow = flow_of(7721) };
	struct {
		struct txc_req_batch b;
		struct txc_batch_op ops[2];
	} bt = { .b.count = 2 };
	int n;
	const struct {
		const char *name;
		__u8 type;
		const void *body;
		size_t len;
		int err;
		const char *word;
	} attacks[] = {
		{ "cancel its ID", TXC_MSG_CANCEL, &c_id, sizeof(c_id), -EPERM, "another user" },
		{ "cancel its prefix", TXC_MSG_CANCEL, &c_pfx, sizeof(c_pfx), -EPERM, "not held by you" },
		{ "cancel its source", TXC_MSG_CANCEL, &c_src, sizeof(c_src), -EPERM, "another user" },
		{ "clear its ID's cancel", TXC_MSG_CLEAR, &x_id, sizeof(x_id), -EPERM, "another user" },
		{ "clear its prefix", TXC_MSG_CLEAR, &x_pfx, sizeof(x_pfx), -EPERM, "not held by you" },
		{ "clear its source", TXC_MSG_CLEAR, &x_src, sizeof(x_src), -EPERM, "another user" },
		{ "free its prefix", TXC_MSG_PREFIX_FREE, &pv, sizeof(pv), -EPERM, "not held by you" },
		{ "take its prefix", TXC_MSG_PREFIX_ALLOC, &pv, sizeof(pv), -EBUSY, "another user" },
		{ "close its source", TXC_MSG_SOURCE_CLOSE, &sv, sizeof(sv), -EPERM, "another user" },
		{ "take its source", TXC_MSG_SOURCE_OPEN, &sv, sizeof(sv), -EBUSY, "another user" },
		{ "subscribe to its source", TXC_MSG_SUBSCRIBE, &sv, sizeof(sv), -EPERM, "another user" },
		{ "unsubscribe it", TXC_MSG_UNSUBSCRIBE, &sv, sizeof(sv), -EPERM, "another user" },
		{ "tag with its ID", TXC_MSG_TAG_ADD, &t_id, sizeof(t_id), -EPERM, "another user" },
		{ "tag with its source", TXC_MSG_TAG_ADD, &t_src, sizeof(t_src), -EPERM, "another user" },
		{ "take over its rule's key", TXC_MSG_TAG_ADD, &t_key, sizeof(t_key), -EEXIST, "another user" },
		{ "remove its rule", TXC_MSG_TAG_DEL, &t_del, sizeof(t_del), -EPERM, "another user" },
		{ "count its ID", TXC_MSG_COUNT_ID, &cnt, sizeof(cnt), -EPERM, "another user" },
		{ "read its source's counters", TXC_MSG_STATS, &st, sizeof(st), -EPERM, "another user" },
		{ "batch: its own clear, then the victim's", TXC_MSG_BATCH, &bt, sizeof(bt), -EPERM,
		  "another user" },
	};

	bt.ops[0].type = TXC_MSG_CLEAR;
	bt.ops[0].clear = (struct txc_req_clear){ .scope = TXC_SCOPE_ID,
						  .value = TXC_ID_MAKE(fx->mp, 5) };
	bt.ops[1].type = TXC_MSG_CLEAR;
	bt.ops[1].clear = x_id;
	for (size_t i = 0; i < ARRAY_SIZE(attacks); i++) {
		char what[128];

		snprintf(what, sizeof(what), "uid %u tries to %s", UID_MALLORY,
			 attacks[i].name);
		n = call(&fx->m, attacks[i].type, attacks[i].body, attacks[i].len);
		ERR(n, attacks[i].err, attacks[i].word, what);
	}
	/* With the victim's own sender socket in hand, under the victim's prefix. */
	n = tag_socket(&fx->m, fx->tx1, TXC_ID_MAKE(fx->vp, 9), fx->ms);
	ERR(n, -EPERM, "another user",
	    "tag the victim's socket with the victim's ID");
}

static void other_user_victim_unaffected(struct other_user_fixture *fx)
{
	struct tally t = { .source = fx->vs };
	struct txc_req_stats st = { .scope = TXC_SCOPE_SOURCE, .value = fx->vs };
	const struct txc_stats_entry *e = (const void *)(rep.raw + sizeof(rep.list));
	const struct txc_prefix_info *pi = (const void *)(rep.raw + sizeof(rep.list));
	int n;

	n = call(&fx->v, TXC_MSG_PREFIX_LIST, NULL, 0);
	if (OK(n, "victim's PREFIX_LIST") &&
	    ASSERT_EQ(rep.list.count, 1, "one lease")) {
		ASSERT_EQ(pi->prefix, fx->vp, "its prefix");
		ASSERT_EQ(pi->state, TXC_LEASE_HELD, "held");
		ASSERT_EQ(pi->conn_id, fx->v.conn_id, "by its connection");
		ASSERT_EQ(pi->rules, 2, "with its two rules");
	}
	n = call(&fx->v, TXC_MSG_STATS, &st, sizeof(st));
	if (OK(n, "victim's STATS") && ASSERT_EQ(rep.list.count, 1, "its source"))
		ASSERT_EQ(e->subscribers, 1, "one subscriber, the victim");
	udp_drain(bed.sink);
	ASSERT_EQ(send_frames(fx->tx1, K), K, "victim sends on its canceled flow");
	ASSERT_EQ(send_frames(fx->tx2, K), K, "and on its other flow");
	raw_collect(fx->v.fd, &t, K, false, 5000);
	ASSERT_EQ(t.recs, K,
		  "the canceled flow's frames are all reported to the victim");
	ASSERT_EQ(udp_recv(bed.sink, K, 200), K,
		  "only the other flow's frames arrive");
}

static void other_user_after(struct other_user_fixture *fx)
{
	(void)fx;
	after("another user's attacks");
}

static const TEST_SUB_OF(struct other_user_fixture) other_user_subs[] = {
	{ "attacks", other_user_attacks },
	{ "victim_unaffected", other_user_victim_unaffected },
};

/* Once both users are gone. */
static const TEST_SUB_OF(struct other_user_fixture) other_user_gone_subs[] = {
	{ "after", other_user_after },
};

static void test_other_user(void)
{
	struct other_user_fixture fx = { .v = { .fd = -1 }, .m = { .fd = -1 }, .tx1 = -1,
					 .tx2 = -1 };

	if (other_user_setup(&fx))
		test_subs_run(other_user_subs, &fx);
	other_user_teardown(&fx);
	test_subs_run(other_user_gone_subs, &fx);
}

/* ========================================================================== */
/* Per-user subscriptions (pending completions)                               */
/* ========================================================================== */

struct subs_arg {
	const char *path;
};

/* As UID_SUBS: the source and subscription limits.  0 or the failed check's number. */
static int subs_user(void *varg)
{
	const struct subs_arg *a = varg;
	struct peer c1, c2, c3;
	struct txc_req_source s = {};
	__u32 src[MAX_SOURCES];
	int ret = 0, n;

	if (peer_open_path(&c1, a->path) || peer_greet(&c1) || peer_open_path(&c2, a->path) ||
	    peer_greet(&c2) || peer_open_path(&c3, a->path) || peer_greet(&c3))
		return 1;
	for (int i = 0; i < MAX_SOURCES && !ret; i++) {
		n = call(&c1, TXC_MSG_SOURCE_OPEN, &s, sizeof(s));
		if (n < 0 || rep.h.error)
			ret = 2;
		src[i] = rep.source.source;
	}
	/* Every source it opens subscribes it: the fourth filled --max-subs too. */
	n = call(&c1, TXC_MSG_SOURCE_OPEN, &s, sizeof(s));
	if (!ret && (n < 0 || rep.h.error != -EDQUOT || !strstr(rep_text(), "per-user limit")))
		ret = 3;
	s.source = src[0];
	n = call(&c2, TXC_MSG_SUBSCRIBE, &s, sizeof(s));
	if (!ret && (n < 0 || rep.h.error != -EDQUOT || !strstr(rep_text(), "--max-subs")))
		ret = 4;
	/* Room again once one goes. */
	n = call(&c1, TXC_MSG_UNSUBSCRIBE, &s, sizeof(s));
	if (!ret && (n < 0 || rep.h.error))
		ret = 5;
	n = call(&c2, TXC_MSG_SUBSCRIBE, &s, sizeof(s));
	if (!ret && (n < 0 || rep.h.error))
		ret = 6;
	s.source = src[1];
	n = call(&c3, TXC_MSG_SUBSCRIBE, &s, sizeof(s));
	if (!ret && (n < 0 || rep.h.error != -EDQUOT))
		ret = 7;
	/* A closed connection gives its subscriptions back. */
	peer_close(&c2);
	for (int i = 0; !ret && i < 100; i++) {
		n = call(&c3, TXC_MSG_SUBSCRIBE, &s, sizeof(s));
		if (n >= 0 && !rep.h.error)
			break;
		usleep(20000);
		if (i == 99)
			ret = 8;
	}
	if (ret)
		printf("    uid %u: check %d failed: %d \"%s\"\n", getuid(), ret, rep.h.error,
		       rep.h.error ? rep_text() : "");
	peer_close(&c1);
	peer_close(&c3);
	return ret;
}

static void test_user_limits(void)
{
	struct subs_arg a = { .path = dm.sock };

	if (test_sub_begin("subscriptions_per_user")) {
		ASSERT_EQ(txct_run_as(UID_SUBS, UID_SUBS, false, subs_user, &a), 0,
			  "--max-subs 4 bounds a user's subscriptions over all its connections");
		after("the subscription limit");
		test_sub_end();
	}
}

/* ========================================================================== */
/* Clients that die halfway                                                   */
/* ========================================================================== */

/* In a forked child: become @uid, without groups or capabilities. */
static int setgroups_drop_to(uid_t uid)
{
	return setgroups(0, NULL) || setresgid(uid, uid, uid) || setresuid(uid, uid, uid) ?
	       -errno : 0;
}

static bool wait_no_lease_of(__u32 prefix)
{
	struct txc_prefix_info info[TXC_NR_PREFIXES];

	for (int i = 0; i < 150; i++) {
		int n = txc_prefix_list(by, info, ARRAY_SIZE(info));
		bool held = false;

		for (int j = 0; j < n; j++)
			held |= info[j].prefix == prefix;
		if (!held)
			return true;
		test_sleep_ms(20);
	}
	return false;
}

/* A map the daemon pinned, or -errno. */
static int pinned_map(const char *name)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/maps/%s", dm.pin_dir, name);
	fd = bpf_obj_get(path);
	return fd < 0 ? -errno : fd;
}

static int flow_rules_fd(void)
{
	return pinned_map("txc_flow_rules");
}

/*
 * A client process that does its work (@fn: 0, or the exit status that says
 * which step failed), tells the test what it holds up a pipe and waits to
 * be killed.
 */
struct doomed {
	pid_t pid;
	int up[2];
};

static bool doomed_start(struct doomed *d, int (*fn)(int up, void *arg), void *arg)
{
	d->pid = -1;
	if (pipe2(d->up, O_CLOEXEC)) {
		d->up[0] = d->up[1] = -1;
		return ASSERT_OK(-errno, "a pipe from the client");
	}
	fflush(stdout);
	d->pid = fork();
	if (d->pid == 0) {
		int ret = fn(d->up[1], arg);

		if (ret)
			_exit(ret);
		pause();
		_exit(0);
	}
	return ASSERT_GE0(d->pid, "fork of a client");
}

/* @len bytes of what the client holds; false if it died first. */
static bool doomed_says(struct doomed *d, void *buf, size_t len)
{
	return read(d->up[0], buf, len) == (ssize_t)len;
}

/* SIGKILL; @what asserts that is how it ended (NULL after a failure: just reaped). */
static void doomed_kill(struct doomed *d, const char *what)
{
	if (d->pid > 0) {
		kill(d->pid, SIGKILL);
		if (what)
			ASSERT_EQ(child_status(d->pid), 128 + SIGKILL, what);
		else
			child_status(d->pid);
		d->pid = -1;
	}
}

static void doomed_end(struct doomed *d)
{
	doomed_kill(d, NULL);
	close(d->up[0]);
	close(d->up[1]);
}

/* Applies 500 flow rules, sends a batch promising 1000 ops, says its prefix. */
static int batch_then_broken_batch(int up, void *arg)
{
	static struct {
		struct txc_req_batch b;
		struct txc_batch_op ops[500];
	} bt;
	struct peer p;
	__u32 pfx, src;
	size_t len;

	(void)arg;
	if (peer_open_path(&p, dm.sock) || peer_greet(&p))
		return 1;
	pfx = prefix_alloc(&p);
	src = source_open(&p);
	bt.b.count = 500;
	for (int i = 0; i < 500; i++) {
		bt.ops[i].type = TXC_MSG_TAG_ADD;
		bt.ops[i].tag = (struct txc_req_tag){
			.kind = TXC_TAG_FLOW, .cancel_id = TXC_ID_MAKE(pfx, i + 1),
			.source = src, .key.flow = flow_of(20000 + i) };
	}
	if (call(&p, TXC_MSG_BATCH, &bt, sizeof(bt)) < 0 || rep.h.error)
		return 2;
	bt.b.count = 1000;
	len = msg_make(&req, TXC_MSG_BATCH, &bt, sizeof(bt));
	if (write(up, &pfx, sizeof(pfx)) != sizeof(pfx))
		return 3;
	raw_send(p.fd, &req, len, NULL, 0);
	return 0;
}

/* As UID_VICTIM: a prefix, a source, @arg's socket tagged and its ID canceled. */
static int holding_leases(int up, void *arg)
{
	int tx = *(int *)arg;
	struct peer p;
	__u32 ids[2];

	if (setgroups_drop_to(UID_VICTIM))
		return 1;
	if (peer_open_path(&p, dm.sock) || peer_greet(&p))
		return 2;
	ids[0] = prefix_alloc(&p);
	ids[1] = source_open(&p);
	if (tag_socket(&p, tx, TXC_ID_MAKE(ids[0], 1), ids[1]) < 0 || rep.h.error ||
	    cancel(&p, TXC_SCOPE_ID, TXC_ID_MAKE(ids[0], 1)) < 0 || rep.h.error)
		return 3;
	if (write(up, ids, sizeof(ids)) != sizeof(ids))
		return 4;
	return 0;
}

/* Floods requests without reading until the daemon holds its replies; says so. */
static int stalling_flood(int up, void *arg)
{
	struct peer p;
	__u32 first;
	bool stalled;

	(void)arg;
	if (peer_open_path(&p, dm.sock))
		return 1;
	flood_requests(p.fd, &first, &stalled);
	if (!stalled || write(up, "s", 1) != 1)
		return 2;
	return 0;
}

/*
 * The client applied a batch of 500 flow rules, sent a batch whose count
 * promises twice the ops it carries, and is killed without reading: the
 * broken batch changes nothing and the applied rules go with it.
 */
static void mid_batch_gone(struct doomed *d, int map)
{
	struct txc_flow_key k = flow_of(20000);
	struct txc_tag tag;
	__u32 prefix = 0;

	if (!ASSERT_TRUE(doomed_says(d, &prefix, sizeof(prefix)),
			 "the client applied its first batch"))
		return;
	ASSERT_TRUE(!bpf_map_lookup_elem(map, &k, &tag), "its rules are in force");
	doomed_kill(d, "killed");
	ASSERT_TRUE(wait_no_lease_of(prefix), "its prefix is released");
	/* Its rules go over the daemon's next loop turns. */
	for (int i = 0; i < 600 && !bpf_map_lookup_elem(map, &k, &tag); i++)
		test_sleep_ms(20);
	for (int i = 0; i < 500; i += 49) {
		k = flow_of(20000 + i);
		if (!ASSERT_TRUE(bpf_map_lookup_elem(map, &k, &tag), "its rules are gone"))
			break;
	}
}

static int victim_sender(void)
{
	return sender(7731);
}

/*
 * The user held a prefix, a source, a socket rule on @tx and a cancel, has
 * completions queued that it never read, and is killed.  Everything of its
 * goes, and only that: its frames flow again, the bystander's stay canceled
 * and reported.
 */
static void leases_gone(struct doomed *d, int tx)
{
	struct txc_stats_entry e;
	__u32 got[2] = {};

	if (!ASSERT_TRUE(doomed_says(d, got, sizeof(got)), "the user took its leases"))
		return;
	udp_drain(bed.sink);
	ASSERT_EQ(send_frames(tx, 2000), 2000, "its canceled frames");
	ASSERT_EQ(udp_recv(bed.sink, 1, 200), 0, "none arrives while it lives");
	doomed_kill(d, "killed");
	ASSERT_TRUE(wait_no_lease_of(got[0]), "its prefix is released");
	ASSERT_EQ(txc_stats(by, TXC_SCOPE_SOURCE, got[1], &e, 1), -ENOENT,
		  "its source is closed");
	udp_drain(bed.sink);
	ASSERT_EQ(send_frames(tx, K), K, "the same socket sends again");
	ASSERT_EQ(udp_recv(bed.sink, K, 200), K, "its frames flow: rule and cancel gone");
}

/* Killed while the daemon holds a reply it could not send: that reply is freed with it. */
static void stalled_reply_freed(struct doomed *d, int fd)
{
	(void)fd;
	ASSERT_TRUE(wait_byte(d->up[0], 60000), "the client stalled the daemon's replies");
	doomed_kill(d, "killed");
}

/*
 * A client killed while it holds something of the daemon's; what it holds
 * goes with it.  The case's descriptor (a map to look into, a socket to tag)
 * goes to the client as its argument and to the check.
 */
static const struct doomed_case {
	const char *name;
	int (*open_fd)(void);			/* NULL: none */
	int (*client)(int up, void *arg);	/* @arg: the int descriptor */
	void (*check)(struct doomed *d, int fd);
	const char *after;
} doomed_cases[] = {
	{ "killed_mid_batch", flow_rules_fd, batch_then_broken_batch, mid_batch_gone,
	  "a client killed mid-batch" },
	{ "killed_holding_leases", victim_sender, holding_leases, leases_gone,
	  "a user killed holding leases" },
	{ "killed_while_flooding", NULL, stalling_flood, stalled_reply_freed,
	  "a client killed while flooding" },
};

static void doomed_run(const struct doomed_case *c)
{
	struct doomed d;
	int fd;

	if (!test_sub_begin("%s", c->name))
		return;
	fd = c->open_fd ? c->open_fd() : -1;
	if (doomed_start(&d, c->client, &fd))
		c->check(&d, fd);
	doomed_end(&d);
	if (fd >= 0)
		close(fd);
	after(c->after);
	test_sub_end();
}

static void test_dying(void)
{
	if (test_sub_begin("exit_before_the_reply")) {
		/* 200 clients, each sends a request and is gone before the answer. */
		for (int i = 0; i < 200; i++) {
			pid_t pid;

			fflush(stdout);
			pid = fork();
			if (pid == 0) {
				struct peer p;
				size_t len;

				if (peer_open_path(&p, dm.sock))
					_exit(1);
				len = msg_make(&req, i % 2 ? TXC_MSG_STATUS : TXC_MSG_PREFIX_LIST,
					       NULL, 0);
				_exit(raw_send(p.fd, &req, len, NULL, 0) ? 2 : 0);
			}
			if (!ASSERT_EQ(child_status(pid), 0, "a client sends and exits"))
				break;
		}
		after("200 clients gone before their replies");
		test_sub_end();
	}

	for (size_t i = 0; i < ARRAY_SIZE(doomed_cases); i++)
		doomed_run(&doomed_cases[i]);
}


/* utime + stime of @pid in clock ticks. */
static long cpu_ticks(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long ut, st;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	/* After the name: state ppid pgrp session tty tpgid flags, 4 fault counts, utime stime */
	if (!p ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		return -1;
	return (long)(ut + st);
}

#define LOW_NOFILE	256

/* A daemon of its own started with 256 descriptors, and the connections that fill them. */
struct low_nofile_fixture {
	struct txct_daemon x;
	bool started;
	struct peer conns[LOW_NOFILE];
	struct peer src;	/* the connection that opens sources */
	struct peer late[3];	/* connections that wait for a free descriptor */
};

/* A daemon started with 256 descriptors: --max-clients 1000 cannot hold. */
static void descriptor_limit_low_ulimit(struct low_nofile_fixture *fx)
{
	static const char *const args[] = { "--max-clients", "1000", NULL };
	const int fit = (LOW_NOFILE - 64) / 2;	/* what the daemon keeps for connections */
	struct rlimit old, low = { LOW_NOFILE, LOW_NOFILE };
	int accepted = 0, refused = 0, err;

	getrlimit(RLIMIT_NOFILE, &old);
	setrlimit(RLIMIT_NOFILE, &low);
	err = txct_daemon_start(&fx->x, NULL, args);
	setrlimit(RLIMIT_NOFILE, &old);
	if (!ASSERT_OK(err, "start with ulimit -n 256"))
		return;
	fx->started = true;
	for (int i = 0; i < LOW_NOFILE; i++) {
		int n;

		if (peer_open_path(&fx->conns[i], fx->x.sock))
			continue;
		n = peer_greet(&fx->conns[i]);
		if (!n) {
			accepted++;
			continue;
		}
		if (n == -ECONNRESET || n == -EPIPE)
			n = raw_recv(fx->conns[i].fd, &rep) >= (int)HDR ? rep.h.error : n;
		refused += n == -EUSERS;
		peer_close(&fx->conns[i]);
	}
	printf("    %d accepted, %d refused naming --max-clients\n", accepted, refused);
	ASSERT_EQ(accepted, fit, "the connections that fit next to the rings");
	ASSERT_EQ(refused, LOW_NOFILE - fit, "the others refused with a reply");
}

/*
 * Rings take the rest of the descriptors (root is not limited per user),
 * until a source cannot be opened: a clear error.  Then a connection cannot
 * even be accepted: the daemon must not spin on its listening socket, and
 * must take the connection once a descriptor is free again.
 */
static void descriptor_limit_out_of_descriptors(struct low_nofile_fixture *fx)
{
	struct txct_daemon *x = &fx->x;
	long t0, t1;
	char cmd[300], out[64];
	int sources = 0, waiting = 0, err;

	if (!fx->started) {
		test_skip("low_ulimit started no daemon");
		return;
	}
	/* Room for three more connections under the limit, none in descriptors. */
	for (int i = 0; i < 3; i++)
		peer_close(&fx->conns[i]);
	/* The daemon counts the closes when it reaps them: retry a while. */
	for (int i = 0; i < 100; i++) {
		err = peer_open_path(&fx->src, x->sock);
		if (!err && !(err = peer_greet(&fx->src)))
			break;
		peer_close(&fx->src);
		test_sleep_ms(20);
	}
	if (!ASSERT_OK(err, "a connection to open sources"))
		return;
	for (int i = 0; i < LOW_NOFILE; i++) {
		struct txc_req_source b = {};
		int n = call(&fx->src, TXC_MSG_SOURCE_OPEN, &b, sizeof(b));

		if (n < 0 || rep.h.error)
			break;
		sources++;
	}
	printf("    %d sources opened, then: \"%s\"\n", sources,
	       rep.h.error ? rep_text() : "");
	ASSERT_TRUE(rep.h.error && strstr(rep_text(), "ring"),
		    "the source that does not fit "
		    "is refused with an error that says why");
	t0 = cpu_ticks(x->pid);
	for (int i = 0; i < 3; i++)
		waiting += !peer_open_path(&fx->late[i], x->sock);
	ASSERT_EQ(waiting, 3, "three connections wait in the backlog");
	test_sleep_ms(1500);
	t1 = cpu_ticks(x->pid);
	printf("    daemon CPU while connections wait: %ld ticks in 1.5 s\n",
	       t1 - t0);
	ASSERT_TRUE(t0 >= 0 && t1 - t0 < 30, "the daemon does not spin on accept");
	snprintf(cmd, sizeof(cmd),
		 "grep -c 'not accepting connections for a second' '%s'",
		 x->log);
	ASSERT_TRUE(!fx_run_output(out, sizeof(out), "%s", cmd) && atoi(out) >= 1,
		    "it says it ran out of descriptors and pauses");
	/* Free descriptors: the daemon takes the waiting connections on its next tick. */
	peer_close(&fx->src);
	for (int i = 0; i < 3; i++) {
		err = peer_greet(&fx->late[i]);
		ASSERT_OK(err,
			  "a waiting connection is served once descriptors are free");
	}
	err = 0;
	for (int i = 3; i < LOW_NOFILE; i++)
		if (fx->conns[i].fd >= 0 && peer_greet(&fx->conns[i]))
			err++;
	ASSERT_EQ(err, 0, "the other connections were served throughout");
	ASSERT_EQ(txct_daemon_stop(x), 0, "exits cleanly");
}

/* out_of_descriptors goes on with low_ulimit's daemon and connections. */
static const TEST_SUB_OF(struct low_nofile_fixture) descriptor_limit_subs[] = {
	{ "low_ulimit", descriptor_limit_low_ulimit },
	{ "out_of_descriptors", descriptor_limit_out_of_descriptors },
};

static void test_descriptor_limit(void)
{
	struct low_nofile_fixture fx = { .src = { .fd = -1 } };

	for (int i = 0; i < LOW_NOFILE; i++)
		fx.conns[i].fd = -1;
	for (int i = 0; i < 3; i++)
		fx.late[i].fd = -1;
	test_subs_chained();
	test_subs_run(descriptor_limit_subs, &fx);
	peer_close(&fx.src);
	for (int i = 0; i < 3; i++)
		peer_close(&fx.late[i]);
	for (int i = 0; i < LOW_NOFILE; i++)
		peer_close(&fx.conns[i]);
	txct_daemon_cleanup(&fx.x);
}

/* ========================================================================== */

static bool bed_up(void)
{
	return ASSERT_OK(ns_create(bed.a, "ha"), "namespace a") &&
	       ASSERT_OK(ns_create(bed.b, "hb"), "namespace b") &&
	       ASSERT_OK(veth_link(bed.a, IF_A, ADDR_A, bed.b, IF_B, ADDR_B, 24, NULL),
			 "veth link") &&
	       ASSERT_GE0(bed.sink = udp_open(bed.b, ADDR_B, SINK_PORT), "sink");
}

static bool daemon_up(void)
{
	static char lim[8][16];
	const char *args[] = {
		"-i", IF_A,
		"--max-clients", lim[0], "--max-conns", lim[1], "--max-prefixes", lim[2],
		"--max-sources", lim[3], "--max-rules", lim[4], "--max-subs", lim[5],
		"--backlog", lim[6], "-l", "info", NULL,
	};

	snprintf(lim[0], 16, "%d", MAX_CLIENTS);
	snprintf(lim[1], 16, "%d", MAX_CONNS);
	snprintf(lim[2], 16, "%d", MAX_PREFIXES);
	snprintf(lim[3], 16, "%d", MAX_SOURCES);
	snprintf(lim[4], 16, "%d", MAX_RULES);
	snprintf(lim[5], 16, "%d", MAX_SUBS);
	snprintf(lim[6], 16, "%d", BACKLOG);
	return ASSERT_OK(txct_daemon_start(&dm, bed.a, args), "txcanceld starts");
}

static bool bystander_up(void)
{
	__u64 cookie;

	if (!ASSERT_OK(txc_client_open(&by, dm.sock), "bystander connects") ||
	    !ASSERT_OK(txc_generate_partial_cancel_id(by, &by_prefix), "bystander's prefix") ||
	    !ASSERT_OK(txc_source_open(by, &by_source), "bystander's source"))
		return false;
	by_id = TXC_ID_MAKE(by_prefix, 7);
	by_tx = sender(7700);
	return ASSERT_GE0(by_tx, "bystander's sender") &&
	       ASSERT_OK(txc_tag_socket(by, by_tx, by_id, by_source, &cookie), "bystander tags") &&
	       ASSERT_OK(txc_cancel_send_net_buffer_lists(by, by_id), "bystander cancels") &&
	       bystander_ok("setting up");
}

/* --- loads that once stalled everyone ------------------------------------- */

#define UID_CHURN	62006
#define UID_STORM	62007
#define UID_EXPLAIN	62008
#define CHURN_PAIRS	300
#define PREFIX_PAIRS	2000
#define STORM_MSGS	500
#define CLOSE_RULES	20000
#define CLOSE_CANCELS	1000

/* What the good client (the bystander) saw while a load ran. */
struct good {
	long sent, answered, failed;
};

/*
 * The bystander cancels and clears an ID of its own, one request after the
 * other, for as long as the load's child runs: every request must come back
 * answered, and answered with success.  How long they took is L1's business
 * (bench/hostile_latency.c), not this test's.
 */
static int good_beside(pid_t pid, struct good *g)
{
	__u32 id = TXC_ID_MAKE(by_prefix, 8);
	int status = -1;

	memset(g, 0, sizeof(*g));
	while (pid > 0 && waitpid(pid, &status, WNOHANG) == 0) {
		int err;

		/* A client that keeps its pace, not one more load on the daemon. */
		test_sleep_ms(1);
		err = txc_cancel(by, TXC_SCOPE_ID, id, NULL, 0, NULL);

		g->sent++;
		if (err == -EPIPE || err == -ECONNRESET || err == -ENOTCONN || err == -ETIMEDOUT)
			break;
		g->answered++;
		g->failed += err != 0;
		err = txc_clear(by, TXC_SCOPE_ID, id, NULL);
		g->sent++;
		if (err == -EPIPE || err == -ECONNRESET || err == -ENOTCONN || err == -ETIMEDOUT)
			break;
		g->answered++;
		g->failed += err != 0;
	}
	if (pid > 0 && status == -1 && waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void check_good(const struct good *g, const char *load)
{
	char what[160];

	printf("    beside %s: %ld requests, %ld answered, %ld refused\n", load, g->sent,
	       g->answered, g->failed);
	snprintf(what, sizeof(what), "beside %s: every request of the good client answered",
		 load);
	ASSERT_EQ(g->answered, g->sent, what);
	snprintf(what, sizeof(what), "beside %s: and none refused", load);
	ASSERT_EQ(g->failed, 0, what);
	ASSERT_TRUE(g->sent > 0, "the good client got requests in");
}

/* A refusal of the lease rate names the limit; anything else is a failure. */
static bool lease_refusal_ok(struct txc_client *c, int err, long *limited)
{
	if (err != -EAGAIN || !strstr(txc_client_error(c), "--max-lease-rate")) {
		printf("    unexpected: %s\n", txc_client_error(c));
		return false;
	}
	(*limited)++;
	return true;
}

/* One lease taken and given back. */
static int source_pair(struct txc_client *c)
{
	__u32 s;
	int err = txc_source_open(c, &s);

	return err ? err : txc_source_close(c, s);
}

static int prefix_pair(struct txc_client *c)
{
	__u8 p;
	int err = txc_generate_partial_cancel_id(c, &p);

	return err ? err : txc_prefix_free(c, p);
}

struct lease_churn {
	const char *what;
	int pairs;
	int (*pair)(struct txc_client *c);
};

static struct lease_churn source_churn = {
	"source open/close", CHURN_PAIRS, source_pair,
};
static struct lease_churn prefix_churn = {
	"prefix alloc/free", PREFIX_PAIRS, prefix_pair,
};

/* @arg's pairs as fast as they go; a refusal must be the lease rate's. */
static int lease_churn(void *arg)
{
	const struct lease_churn *lc = arg;
	struct txc_client *c;
	long ok = 0, limited = 0;
	int err;

	if (txc_client_open(&c, dm.sock))
		return 1;
	for (int i = 0; i < lc->pairs; i++) {
		err = lc->pair(c);
		if (!err)
			ok++;
		else if (!lease_refusal_ok(c, err, &limited))
			return 2;
	}
	printf("    uid %d: %ld %s pairs, %ld refused by the lease rate\n", UID_CHURN, ok,
	       lc->what, limited);
	txc_client_close(c);
	return 0;
}

/* 8 connections of random bytes and broken headers, never reading a reply. */
static int garbage_storm(void *arg)
{
	unsigned int seed = 7;
	int fds[8];
	long sent = 0;

	(void)arg;
	for (int i = 0; i < 8; i++)
		fds[i] = txct_api_connect(dm.sock, SOCK_NONBLOCK);
	for (int m = 0; m < STORM_MSGS; m++) {
		for (int i = 0; i < 8; i++) {
			__u8 buf[256] __attribute__((aligned(8)));
			struct txc_msg_hdr *h = (void *)buf;
			size_t len = 1 + rand_r(&seed) % sizeof(buf);

			if (fds[i] < 0)
				continue;
			for (size_t k = 0; k < len; k++)
				buf[k] = rand_r(&seed);
			if (m % 2 && len >= sizeof(*h)) {
				h->magic = TXC_PROTO_MAGIC;
				h->version = TXC_PROTO_VERSION;
				h->length = len;
			}
			sent += send(fds[i], buf, len, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0;
		}
	}
	printf("    uid %d: %ld junk messages sent on 8 connections, no reply read\n",
	       UID_STORM, sent);
	for (int i = 0; i < 8; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return 0;
}

static int connection_attempts(void *arg)
{
	static int fds[FLOOD_CONNS];
	int made = 0;

	(void)arg;
	for (int i = 0; i < FLOOD_CONNS; i++) {
		fds[i] = txct_api_connect(dm.sock, SOCK_NONBLOCK);
		made += fds[i] >= 0;
	}
	for (int i = 0; i < FLOOD_CONNS; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	printf("    uid %d: %d connection attempts, %d connected (most then refused)\n",
	       UID_STORM, FLOOD_CONNS, made);
	return 0;
}

/* Root's source with CLOSE_RULES flow rules, closed (by exiting) once they are in. */
static int rules_then_close(void *arg)
{
	struct txc_batch *b = txc_batch_new();
	struct txc_client *c;
	__u32 source, failed;
	__u8 prefix;
	int added = 0;

	(void)arg;
	if (!b || txc_client_open(&c, dm.sock) || txc_generate_partial_cancel_id(c, &prefix) ||
	    txc_source_open(c, &source))
		return 1;
	while (added < CLOSE_RULES) {
		txc_batch_reset(b);
		for (int i = 0; i < (int)TXC_BATCH_MAX && added + i < CLOSE_RULES; i++) {
			union txc_tag_key key = { .flow = flow_of(1 + (added + i) % 60000) };

			key.flow.daddr[3] = 10 + (added + i) / 60000;
			txc_batch_tag(b, TXC_TAG_FLOW, &key, TXC_ID_MAKE(prefix, 1), source);
		}
		if (txc_batch_submit(c, b, &failed) < 0) {
			printf("    adding rules: %s\n", txc_client_error(c));
			return 2;
		}
		added += txc_batch_count(b);
	}
	/* And ID cancels under the prefix, for its release to clear. */
	txc_batch_reset(b);
	for (__u32 i = 0; i < CLOSE_CANCELS; i++)
		txc_batch_cancel(b, TXC_SCOPE_ID, TXC_ID_MAKE(prefix, 100 + i), NULL, 0);
	if (txc_batch_submit(c, b, &failed) < 0) {
		printf("    canceling: %s\n", txc_client_error(c));
		return 3;
	}
	printf("    root: %d flow rules and %d ID cancels under prefix %u, source %u; closing\n",
	       added, CLOSE_CANCELS, prefix, source);
	txc_batch_free(b);
	txc_client_close(c);
	return 0;
}

static int explains(void *arg)
{
	static const __u8 frame[64] = { [12] = 0x08, [13] = 0x00, [14] = 0x45 };
	struct txc_rep_explain rep;
	struct txc_client *c;

	(void)arg;
	if (txc_client_open(&c, dm.sock))
		return 1;
	for (int i = 0; i < 200; i++)
		if (txc_explain(c, NULL, 0, frame, sizeof(frame), &rep)) {
			printf("    explain: %s\n", txc_client_error(c));
			return 2;
		}
	txc_client_close(c);
	return 0;
}

/* The keys of the pinned map @name that @counts (NULL: every key), or -errno. */
static int pinned_keys(const char *name, bool (*counts)(const void *key))
{
	__u8 key[64], prev[sizeof(key)];
	int fd = pinned_map(name), n = 0;
	bool first = true;

	_Static_assert(sizeof(struct txc_flow_key) <= sizeof(key), "a flow key fits");
	if (fd < 0)
		return fd;
	while (!bpf_map_get_next_key(fd, first ? NULL : prev, key)) {
		n += !counts || counts(key);
		memcpy(prev, key, sizeof(prev));
		first = false;
	}
	close(fd);
	return n;
}

/* Flow rules left in the datapath's table, read from the pins. */
static int flow_rules_left(void)
{
	return pinned_keys("txc_flow_rules", NULL);
}

static bool not_bystanders(const void *key)
{
	__u32 id;

	memcpy(&id, key, sizeof(id));
	return TXC_ID_PREFIX(id) != by_prefix;
}

/* ID cancels in the datapath's table under prefixes other than the bystander's. */
static int others_cancels_left(void)
{
	return pinned_keys("txc_id_cancels", not_bystanders);
}

/* The daemon removes a released owner's rules and cancels over its loop turns. */
static int flow_rules_gone(void)
{
	int n = flow_rules_left() + others_cancels_left();

	for (int i = 0; i < 600 && n > 0; i++) {
		test_sleep_ms(50);
		n = flow_rules_left() + others_cancels_left();
	}
	return n;
}

/* @fn runs as @uid beside the good client, to its end; then everyone else is served. */
static void run_load(const char *load, uid_t uid, bool net_admin, int (*fn)(void *), void *arg)
{
	struct good g;
	char what[160];

	snprintf(what, sizeof(what), "%s: the load ran to its end", load);
	ASSERT_EQ(good_beside(spawn_as(uid, net_admin, fn, arg), &g), 0, what);
	check_good(&g, load);
	after(load);
}

/* Lines of the daemon's log that contain @what (and @and, if not NULL). */
static int log_lines(const char *what, const char *and)
{
	char line[512];
	int n = 0;
	FILE *f = fopen(dm.log, "re");

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		n += strstr(line, what) && (!and || strstr(line, and));
	fclose(f);
	return n;
}

/*
 * A user's churn of leases is summed up in the log: fewer lines than
 * events, and a line that says how many were left out (on the next tick).
 */
static void check_lease_log(void)
{
	char uid[32], sum[64];
	int lines, sums = 0;

	snprintf(uid, sizeof(uid), "(uid %d)", UID_CHURN);
	snprintf(sum, sizeof(sum), "uid %d: ", UID_CHURN);
	for (int i = 0; i < 100 && sums <= 0; i++) {
		sums = log_lines(sum, "more lease events not logged");
		if (sums <= 0)
			test_sleep_ms(50);
	}
	/* Both churns' events: "opened" and "allocated" lines name the uid. */
	lines = log_lines(uid, NULL);
	printf("    the daemon's log: %d lines on uid %d's %d sources and %d prefixes, %d sums "
	       "of the rest\n", lines, UID_CHURN, CHURN_PAIRS, PREFIX_PAIRS, sums);
	ASSERT_TRUE(sums > 0, "the log sums up the lease events it left out");
	ASSERT_TRUE(lines < CHURN_PAIRS, "fewer log lines than sources opened");
}

/* What the loads share: how many lease churns ran, whose log lease_log reads. */
struct stalls_fixture {
	int churns;
};

static void stalls_source_churn(struct stalls_fixture *fx)
{
	run_load("source open/close churn", UID_CHURN, false, lease_churn, &source_churn);
	fx->churns++;
}

static void stalls_prefix_churn(struct stalls_fixture *fx)
{
	run_load("prefix alloc/free churn", UID_CHURN, false, lease_churn, &prefix_churn);
	fx->churns++;
}

static void stalls_lease_log(struct stalls_fixture *fx)
{
	if (fx->churns == 2)
		check_lease_log();
	else
		test_skip("it reads the log of source_churn and prefix_churn: select them too");
}

static void stalls_garbage_storm(struct stalls_fixture *fx)
{
	(void)fx;
	run_load("a garbage storm from 8 connections", UID_STORM, false, garbage_storm, NULL);
}

static void stalls_connection_attempts(struct stalls_fixture *fx)
{
	(void)fx;
	run_load("2000 connection attempts", UID_STORM, false, connection_attempts, NULL);
}

static void stalls_rules_source_closing(struct stalls_fixture *fx)
{
	(void)fx;
	run_load("a source with 20000 flow rules and 1000 cancels closing", 0, true,
		 rules_then_close, NULL);
	ASSERT_EQ(flow_rules_gone(), 0,
		  "the closed source's flow rules and its prefix's ID "
		  "cancels are all gone");
}

static void stalls_first_explain(struct stalls_fixture *fx)
{
	(void)fx;
	run_load("a first EXPLAIN and 199 more", UID_EXPLAIN, false, explains, NULL);
}

static const TEST_SUB_OF(struct stalls_fixture) stalls_subs[] = {
	{ "source_churn", stalls_source_churn },
	{ "prefix_churn", stalls_prefix_churn },
	{ "lease_log", stalls_lease_log },
	{ "garbage_storm", stalls_garbage_storm },
	{ "connection_attempts", stalls_connection_attempts },
	{ "rules_source_closing", stalls_rules_source_closing },
	{ "first_explain", stalls_first_explain },
};

static void test_stalls(void)
{
	struct stalls_fixture fx = {};

	test_subs_run(stalls_subs, &fx);
}

/* --- how the daemon may be started ---------------------------------------- */

/* A second daemon's run: its exit status and output, in @out. */
static int second_daemon(const char *const *prefix_argv, const char *extra, char *out,
			 size_t len)
{
	char sock[160], pins[160];
	const char *argv[24];
	int n = 0, status;

	snprintf(sock, sizeof(sock), "%s.second", dm.sock);
	snprintf(pins, sizeof(pins), "%s-second", dm.pin_dir);
	for (; prefix_argv && prefix_argv[n]; n++)
		argv[n] = prefix_argv[n];
	argv[n++] = txct_daemon_path();
	argv[n++] = "-i";
	argv[n++] = IF_A;
	argv[n++] = "-s";
	argv[n++] = sock;
	argv[n++] = "-d";
	argv[n++] = pins;
	if (extra)
		argv[n++] = extra;
	argv[n] = NULL;
	status = txct_spawn_wait(argv, out, len, 20000);
	/* A daemon refused after it loaded leaves its pins: nothing may stay. */
	fx_run("rm -rf %s", pins);
	unlink(sock);
	printf("    exit status %d: %s", status, out);
	return status;
}

/* What the refused starts share: the managed namespace's path, and room for their output. */
struct startup_fixture {
	char netns_arg[FX_NAME_MAX + 24];
	char out[4096];
};

static void startup_ip_netns_exec_refused(struct startup_fixture *fx)
{
	const char *const pre[] = { "ip", "netns", "exec", bed.a, NULL };

	ASSERT_EQ(second_daemon(pre, NULL, fx->out, sizeof(fx->out)), 1,
		  "under ip netns exec: refused");
	ASSERT_TRUE(strstr(fx->out, "ip netns exec") && strstr(fx->out, "--ephemeral") &&
		    strstr(fx->out, "nsenter"), "the error names the cause and the ways out");
}

static void startup_other_mount_namespace_same_interface(struct startup_fixture *fx)
{
	const char *const pre[] = { "unshare", "-m", "nsenter", fx->netns_arg, NULL };

	ASSERT_EQ(second_daemon(pre, NULL, fx->out, sizeof(fx->out)), 1,
		  "a second daemon in another mount namespace, on another pin dir: refused");
	ASSERT_TRUE(strstr(fx->out, "another txcanceld manages this interface") != NULL,
		    "the error says another daemon manages the interface");
}

static void startup_ephemeral_other_bpffs_same_interface(struct startup_fixture *fx)
{
	const char *const pre[] = { "ip", "netns", "exec", bed.a, NULL };

	ASSERT_EQ(second_daemon(pre, "--ephemeral", fx->out, sizeof(fx->out)), 1,
		  "--ephemeral under ip netns exec (its own bpffs): still refused");
	ASSERT_TRUE(strstr(fx->out, "another txcanceld manages this interface") != NULL,
		    "the error says another daemon manages the interface");
}

static void startup_non_root_message(struct startup_fixture *fx)
{
	char dir[] = "/tmp/txct-nonroot-XXXXXX", sock[64], pins[160];
	const char *argv[] = { "setpriv", "--reuid", "65534", "--regid", "65534",
			       "--clear-groups", txct_daemon_path(), "-s", sock, "-d", pins,
			       NULL };
	int status;

	snprintf(pins, sizeof(pins), "%s-nonroot", dm.pin_dir);
	if (!ASSERT_TRUE(mkdtemp(dir) && !chmod(dir, 0777), "a directory for its socket"))
		return;
	snprintf(sock, sizeof(sock), "%s/s", dir);
	status = txct_spawn_wait(argv, fx->out, sizeof(fx->out), 20000);
	printf("    exit status %d: %s", status, fx->out);
	ASSERT_EQ(status, 1, "txcanceld as uid 65534: refused");
	ASSERT_TRUE(strstr(fx->out, "permission denied") && strstr(fx->out, "run as root") &&
		    !strstr(fx->out, "not on a bpffs"),
		    "the error names the permission, not the file system");
	unlink(sock);
	rmdir(dir);
}

static const TEST_SUB_OF(struct startup_fixture) startup_subs[] = {
	{ "ip_netns_exec_refused", startup_ip_netns_exec_refused },
	{ "other_mount_namespace_same_interface", startup_other_mount_namespace_same_interface },
	{ "ephemeral_other_bpffs_same_interface", startup_ephemeral_other_bpffs_same_interface },
	{ "non_root_message", startup_non_root_message },
};

static void test_startup(void)
{
	struct startup_fixture fx;

	snprintf(fx.netns_arg, sizeof(fx.netns_arg), "--net=/run/netns/%s", bed.a);
	test_subs_run(startup_subs, &fx);
	after("refused starts");
}

/* --- a stale filter ------------------------------------------------------- */

#define IF_C		"hC0"	/* a second link for daemons in clsact mode */
#define IF_D		"hD0"
#define ADDR_C		"198.18.61.129"
#define ADDR_D		"198.18.61.130"
#define STALE_PORT	9901

/* The ids of txc_tc_egress filters on @IF_C's egress, up to @max: how many. */
static int clsact_prog_ids(__u32 *ids, int max)
{
	char out[4096], *p = out;
	int n = 0;

	if (fx_run_output(out, sizeof(out), "ip netns exec %s tc filter show dev " IF_C
			  " egress", bed.a))
		return -1;
	while (n < max && (p = strstr(p, "txc_tc_egress"))) {
		char *id = strstr(p, " id ");

		if (!id)
			break;
		ids[n++] = strtoul(id + 4, NULL, 10);
		p = id + 4;
	}
	return n;
}

/*
 * A daemon in clsact mode stopped with --keep leaves its filter; its pins
 * are removed.  The next daemon must not run beside that program (which
 * reads maps nobody writes and lets every canceled frame pass): it
 * replaces it, and its own cancels hold.
 */
static void test_stale_filter(void)
{
	const char *keep[] = { "-i", IF_C, "--tc-mode", "clsact", "--keep", NULL };
	const char *args[] = { "-i", IF_C, "--tc-mode", "clsact", NULL };
	struct txct_daemon x = {}, y = {};
	struct txc_client *c = NULL;
	struct tally t = {};
	__u32 old_id[4], new_id[4], source;
	int tx = -1, sink = -1, n;
	__u8 prefix;

	if (test_sub_begin("replaced_after_keep")) {
		if (!ASSERT_OK(veth_link(bed.a, IF_C, ADDR_C, bed.b, IF_D, ADDR_D, 26, NULL),
			       "a second veth link") ||
		    !ASSERT_OK(txct_daemon_start(&x, bed.a, keep), "a daemon in clsact mode") ||
		    !ASSERT_EQ(txct_daemon_stop(&x), 0, "it exits with --keep"))
			goto out;
		n = clsact_prog_ids(old_id, 4);
		if (!ASSERT_EQ(n, 1, "its filter stays"))
			goto out;
		/* The pins go (unpinning nothing of a clsact filter): the filter stays. */
		txct_daemon_cleanup(&x);
		if (!ASSERT_OK(txct_daemon_start(&y, bed.a, args), "the next daemon starts"))
			goto out;
		n = clsact_prog_ids(new_id, 4);
		ASSERT_EQ(n, 1, "one txcancel filter on the interface");
		ASSERT_TRUE(n == 1 && new_id[0] != old_id[0], "the old program is replaced");
		tx = udp_open(bed.a, ADDR_C, STALE_PORT);
		sink = udp_open(bed.b, ADDR_D, STALE_PORT);
		if (!ASSERT_GE0(tx, "sender") || !ASSERT_GE0(sink, "sink") ||
		    !ASSERT_OK(txc_client_open(&c, y.sock), "client") ||
		    !ASSERT_OK(txc_generate_partial_cancel_id(c, &prefix), "prefix") ||
		    !ASSERT_OK(txc_source_open(c, &source), "source") ||
		    !ASSERT_OK(txc_tag_socket(c, tx, TXC_ID_MAKE(prefix, 1), source, NULL),
			       "tag") ||
		    !ASSERT_OK(txc_cancel_send_net_buffer_lists(c, TXC_ID_MAKE(prefix, 1)),
			       "cancel"))
			goto out;
		t.source = source;
		ASSERT_EQ(udp_send(tx, ADDR_D, STALE_PORT, K, 0x5a), K, "sends");
		lib_collect(c, &t, K, 5000);
		ASSERT_EQ(t.recs, K,
			  "every canceled frame dropped by the new program and reported");
out:
		txc_client_close(c);
		if (tx >= 0)
			close(tx);
		if (sink >= 0)
			close(sink);
		if (y.pid > 0)
			ASSERT_EQ(txct_daemon_stop(&y), 0, "the next daemon exits");
		txct_daemon_cleanup(&y);
		txct_daemon_cleanup(&x);
		ASSERT_EQ(clsact_prog_ids(new_id, 4), 0, "no txcancel filter left");
		fx_run("ip netns exec %s ip link del " IF_C, bed.a);
		test_sub_end();
	}
}

static const struct test_case cases[] = {
	{ "malformed", test_malformed },
	{ "connections", test_connections },
	{ "slow_reader", test_slow_reader },
	{ "fast_sender", test_fast_sender },
	{ "descriptors", test_descriptors },
	{ "other_user", test_other_user },
	{ "user_limits", test_user_limits },
	{ "dying", test_dying },
	{ "descriptor_limit", test_descriptor_limit },
	{ "stalls", test_stalls },
	{ "startup", test_startup },
	{ "stale_filter", test_stale_filter },
};

int main(int argc, char **argv)
{
	int rc;

	fx_start("test_hostile", "namespaces, BPF, other users");
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!bed_up() || !daemon_up() || !bystander_up()) {
		printf("FAIL setup\n");
		if (dm.pid > 0)
			txct_daemon_dump_log(&dm);
		txct_daemon_cleanup_all();
		fx_cleanup();
		return 1;
	}
	/* Baselines of a settled daemon: its rings made ahead of need are ready. */
	fds0 = proc_fd_count_settled(dm.pid);
	rss0 = proc_rss_kb(dm.pid);
	rc = test_main(argc, argv, cases, ARRAY_SIZE(cases));
	txc_client_close(by);
	if (!ASSERT_EQ(txct_daemon_stop(&dm), 0, "txcanceld exits cleanly after it all"))
		rc = 1;
	if (rc)
		txct_daemon_dump_log(&dm);
	txct_daemon_cleanup(&dm);
	fx_cleanup();
	return rc;
}
