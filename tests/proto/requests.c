// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <bpf/bpf.h>

#include "txcancel/txcancel.h"
#include "daemon_fixture.h"
#include "proto_peer.h"
#include "proto_test.h"
#include "testlib.h"

/* ========================================================================== */
/* Every request type, succeeding                                             */
/* ========================================================================== */

/*
 * Every request type, each a step on what the steps before it left: root's
 * lease, its source, its tags.  The state goes from step to step in
 * struct req_state; selecting one step runs the others as its setup.
 */
struct req_state {
	struct txc_flow_key k4, k6;	/* the flows tagged, IPv4 and IPv6 */
	__u32 prefix, source, id;	/* root's lease, its source, an ID under the prefix */
	__u32 specific;			/* the prefix allocated by number */
	__u32 s2;			/* a second source, closed again */
	int udp;			/* the socket tagged, and its cookie */
	__u64 cookie;
};

static void req_hello(struct req_state *rq __attribute__((unused)))
{
	int n;

	n = hello(&root, &rep);
	if (OK(n, &rep, "HELLO")) {
		ASSERT_EQ(n, HDR + sizeof(struct txc_rep_hello), "reply length");
		ASSERT_EQ(rep.h.type, TXC_MSG_HELLO, "reply type");
		ASSERT_EQ(rep.h.flags, TXC_MSG_F_REPLY, "reply flags");
		ASSERT_EQ(rep.h.seq, req.h.seq, "seq echoed");
		ASSERT_EQ(rep.hello.version, TXC_PROTO_VERSION, "version");
		ASSERT_EQ(rep.hello.conn_id, root.conn_id, "conn_id");
		ASSERT_EQ(rep.hello.uid, 0, "uid");
		ASSERT_EQ(rep.hello.pid, getpid(), "pid");
		ASSERT_EQ(rep.hello.mark_mask, MARK_MASK, "mark_mask");
		ASSERT_EQ(rep.hello.max_prefixes, MAX_PREFIXES, "max_prefixes");
		ASSERT_EQ(rep.hello.max_rules, MAX_RULES, "max_rules");
	}
	/* A client of a later version is answered in the daemon's version. */
	{
		struct txc_req_hello h = { .version = 7 };

		n = call(&root, TXC_MSG_HELLO, &h, sizeof(h), &rep);
		if (OK(n, &rep, "HELLO version 7"))
			ASSERT_EQ(rep.hello.version, TXC_PROTO_VERSION, "daemon's version");
	}
}

static void req_prefix_alloc_any(struct req_state *rq)
{
	struct txc_req_prefix b = {};
	int n;

	n = call(&root, TXC_MSG_PREFIX_ALLOC, &b, sizeof(b), &rep);
	if (OK(n, &rep, "PREFIX_ALLOC 0")) {
		ASSERT_EQ(n, HDR + sizeof(struct txc_rep_prefix), "reply length");
		rq->prefix = rep.prefix.prefix;
		ASSERT_TRUE(rq->prefix >= 1 && rq->prefix <= 255, "prefix in 1..255");
		ASSERT_TRUE(rq->prefix != by_prefix, "not the bystander's prefix");
		ASSERT_EQ(rep.prefix.reserved, 0, "reserved");
	}
	rq->id = TXC_ID_MAKE(rq->prefix, 0x42);
}

static void req_prefix_alloc_specific(struct req_state *rq)
{
	int n;

	for (__u32 p = 200; p < 255 && !rq->specific; p++)
		if (p != rq->prefix && p != by_prefix)
			rq->specific = p;
	{
		struct txc_req_prefix b = { .prefix = rq->specific };

		n = call(&root, TXC_MSG_PREFIX_ALLOC, &b, sizeof(b), &rep);
		if (OK(n, &rep, "PREFIX_ALLOC specific"))
			ASSERT_EQ(rep.prefix.prefix, rq->specific, "the prefix asked for");
		/* Held now: asking again names the holder. */
		n = call(&root, TXC_MSG_PREFIX_ALLOC, &b, sizeof(b), &rep);
		ERR(n, &rep, -EBUSY, "held by a connection of yours", FIELD_ANY, "again");
		n = call(&by, TXC_MSG_PREFIX_ALLOC, &b, sizeof(b), &rep);
		ERR(n, &rep, -EBUSY, "held", FIELD_ANY, "by the bystander");
	}
}

static void req_prefix_list(struct req_state *rq)
{
	int n;

	n = call(&root, TXC_MSG_PREFIX_LIST, NULL, 0, &rep);
	if (OK(n, &rep, "PREFIX_LIST")) {
		const struct txc_prefix_info *e = list_find(&rep, rq->prefix);

		ASSERT_EQ(n, HDR + 8 + rep.list.count * sizeof(*e), "reply length");
		/* Root sees every lease, the bystander's included. */
		ASSERT_TRUE(list_find(&rep, by_prefix) != NULL, "bystander's prefix listed");
		if (ASSERT_TRUE(e != NULL, "allocated prefix listed")) {
			ASSERT_EQ(e->state, TXC_LEASE_HELD, "state");
			ASSERT_EQ(e->uid, 0, "uid");
			ASSERT_EQ(e->conn_id, root.conn_id, "conn_id");
			ASSERT_EQ(e->rules, 0, "rules");
		}
		ASSERT_TRUE(list_find(&rep, rq->specific) != NULL, "specific prefix listed");
	}
}

static void req_prefix_free(struct req_state *rq)
{
	struct txc_req_prefix b = { .prefix = rq->specific };
	int n;

	n = call(&root, TXC_MSG_PREFIX_FREE, &b, sizeof(b), &rep);
	if (OK(n, &rep, "PREFIX_FREE"))
		ASSERT_EQ(n, HDR, "empty reply");
	ASSERT_TRUE(!prefix_listed(&root, rq->specific), "freed prefix no longer listed");
	n = call(&root, TXC_MSG_PREFIX_FREE, &b, sizeof(b), &rep);
	ERR(n, &rep, -EPERM, "not held", HDR + OFF(struct txc_req_prefix, prefix),
	    "freeing it twice");
}

static void req_source_open_close(struct req_state *rq)
{
	struct txc_req_source b = {};
	int n;

	n = call(&root, TXC_MSG_SOURCE_OPEN, &b, sizeof(b), &rep);
	if (OK(n, &rep, "SOURCE_OPEN")) {
		rq->source = rep.source.source;
		ASSERT_TRUE(rq->source >= 1 && rq->source < TXC_MAX_SOURCES, "source range");
		ASSERT_TRUE(rq->source != by_source, "not the bystander's");
	}
	n = call(&root, TXC_MSG_SOURCE_OPEN, &b, sizeof(b), &rep);
	if (OK(n, &rep, "second SOURCE_OPEN")) {
		rq->s2 = rep.source.source;
		ASSERT_TRUE(rq->s2 != rq->source, "a new handle");
	}
	b.source = rq->s2;
	n = call(&root, TXC_MSG_SOURCE_CLOSE, &b, sizeof(b), &rep);
	if (OK(n, &rep, "SOURCE_CLOSE"))
		ASSERT_EQ(n, HDR, "empty reply");
	n = stats(&root, TXC_SCOPE_SOURCE, rq->s2, &rep);
	ERR(n, &rep, -ENOENT, "not open", FIELD_ANY, "STATS of the closed source");
	/* Claiming a number that is not an orphan is refused. */
	n = call(&root, TXC_MSG_SOURCE_OPEN, &b, sizeof(b), &rep);
	ERR(n, &rep, -ENOENT, "not an orphaned lease", FIELD_ANY, "SOURCE_OPEN of a free number");
}

static void req_tag_mark(struct req_state *rq)
{
	struct txc_req_tag t = tag_req(TXC_TAG_MARK, rq->id, rq->source);
	int n;

	t.key.mark = 0x11;
	n = call(&root, TXC_MSG_TAG_ADD, &t, sizeof(t), &rep);
	if (OK(n, &rep, "TAG_ADD mark")) {
		ASSERT_EQ(n, HDR + sizeof(struct txc_rep_tag), "reply length");
		ASSERT_EQ(rep.tag.key, 0, "key is 0 for marks");
	}
	rule_is(TXC_TAG_MARK, &t.key.mark, rq->id, rq->source, "mark rule in the map");
	explain_is(&root, 4, 1, 2, 0x11, rq->id, rq->source, TXC_TAG_MARK, TXC_VERDICT_PASS, 0,
		   "EXPLAIN with the mark");
	n = call(&root, TXC_MSG_TAG_ADD, &t, sizeof(t), &rep);
	ERR(n, &rep, -EEXIST, "exists", FIELD_ANY, "the same mark again");
	t.key.mark = 0x10000;
	n = call(&root, TXC_MSG_TAG_ADD, &t, sizeof(t), &rep);
	ERR(n, &rep, -EINVAL, "outside the mark mask", FIELD_ANY, "mark outside the mask");
}

static void req_tag_socket(struct req_state *rq)
{
	int n;

	rq->udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (ASSERT_GE0(rq->udp, "UDP socket")) {
		struct txc_req_tag t = tag_req(TXC_TAG_SOCKET, rq->id, rq->source);
		socklen_t len = sizeof(rq->cookie);

		ASSERT_OK(getsockopt(rq->udp, SOL_SOCKET, SO_COOKIE, &rq->cookie, &len),
			  "SO_COOKIE");
		n = call_fd(&root, TXC_MSG_TAG_ADD, &t, sizeof(t), rq->udp, &rep);
		if (OK(n, &rep, "TAG_ADD socket"))
			ASSERT_EQ(rep.tag.key, rq->cookie, "reply key is the socket's SO_COOKIE");
		rule_is(TXC_TAG_SOCKET, &rq->cookie, rq->id, rq->source, "socket rule in the map");
	}
}

static void req_tag_cgroup(struct req_state *rq)
{
	struct txc_req_tag t = tag_req(TXC_TAG_CGROUP, rq->id, rq->source);
	struct stat st;
	int n;

	/* Any cgroup v2 id will do: the daemon keys the rule, the kernel matches it. */
	t.key.cgroup_id = stat("/sys/fs/cgroup", &st) ? 4242 : st.st_ino;
	n = call(&root, TXC_MSG_TAG_ADD, &t, sizeof(t), &rep);
	if (OK(n, &rep, "TAG_ADD cgroup"))
		ASSERT_EQ(rep.tag.key, 0, "key is 0 for cgroups");
	rule_is(TXC_TAG_CGROUP, &t.key.cgroup_id, rq->id, rq->source, "cgroup rule in the map");
}

static void req_tag_flow_v4(struct req_state *rq)
{
	int n;

	n = tag_flow(&root, &rq->k4, rq->id, rq->source, &rep);
	if (OK(n, &rep, "TAG_ADD flow v4"))
		ASSERT_EQ(rep.tag.key, 0, "key is 0 for flows");
	rule_is(TXC_TAG_FLOW, &rq->k4, rq->id, rq->source, "v4 flow rule in the map");
}

static void req_tag_flow_v6(struct req_state *rq)
{
	int n;

	n = tag_flow(&root, &rq->k6, rq->id + 1, rq->source, &rep);
	OK(n, &rep, "TAG_ADD flow v6");
	rule_is(TXC_TAG_FLOW, &rq->k6, rq->id + 1, rq->source, "v6 flow rule in the map");
	explain_is(&root, 6, 4000, 5001, 0, rq->id + 1, rq->source, TXC_TAG_FLOW, TXC_VERDICT_PASS,
		   0, "EXPLAIN of the v6 flow");
	n = call(&root, TXC_MSG_PREFIX_LIST, NULL, 0, &rep);
	if (OK(n, &rep, "PREFIX_LIST") && ASSERT_TRUE(list_find(&rep, rq->prefix), "listed"))
		/* Mark, cgroup and two flows: a socket tag lives in its socket, uncounted. */
		ASSERT_EQ(list_find(&rep, rq->prefix)->rules, 4, "rules counted under the prefix");
}

static void req_tag_del(struct req_state *rq)
{
	union txc_tag_key key = {};
	int n;

	key.mark = 0x11;
	n = untag(&root, TXC_TAG_MARK, &key, &rep);
	if (OK(n, &rep, "TAG_DEL mark"))
		ASSERT_EQ(n, HDR, "empty reply");
	ASSERT_TRUE(!rule_get(TXC_TAG_MARK, &key.mark, NULL), "mark rule gone");
	memset(&key, 0, sizeof(key));
	key.socket_cookie = rq->cookie;
	n = untag(&root, TXC_TAG_SOCKET, &key, &rep);
	OK(n, &rep, "TAG_DEL socket");
	ASSERT_TRUE(!rule_get(TXC_TAG_SOCKET, &rq->cookie, NULL), "socket rule gone");
	memset(&key, 0, sizeof(key));
	key.flow = rq->k6;
	n = untag(&root, TXC_TAG_FLOW, &key, &rep);
	OK(n, &rep, "TAG_DEL flow v6");
	ASSERT_TRUE(!rule_get(TXC_TAG_FLOW, &rq->k6, NULL), "v6 flow rule gone");
	n = untag(&root, TXC_TAG_FLOW, &key, &rep);
	ERR(n, &rep, -ENOENT, "no flow rule", FIELD_ANY, "TAG_DEL of a missing rule");
	n = call(&root, TXC_MSG_PREFIX_LIST, NULL, 0, &rep);
	if (OK(n, &rep, "PREFIX_LIST") && ASSERT_TRUE(list_find(&rep, rq->prefix), "listed"))
		ASSERT_EQ(list_find(&rep, rq->prefix)->rules, 2, "rules left (cgroup, v4)");
}

/* A cancel of the flow's ID, prefix or source, with or without a timeout, and its clear. */
struct cancel_case {
	__u8 scope;
	__u64 timeout_ns;
};

static void req_cancel(struct req_state *rq, const struct cancel_case *cc)
{
	__u8 scope = cc->scope;
	__u32 value = scope == TXC_SCOPE_ID ? rq->id :
		      scope == TXC_SCOPE_PREFIX ? rq->prefix : rq->source;
	struct txc_cancel c;
	__u64 before, after;
	int n;

	explain_is(&root, 4, 4000, 5001, 0, rq->id, rq->source, TXC_TAG_FLOW,
		   TXC_VERDICT_PASS, 0, "EXPLAIN before the cancel");
	before = now_ns();
	n = cancel(&root, scope, value, cc->timeout_ns, &rep);
	after = now_ns();
	if (OK(n, &rep, "CANCEL")) {
		ASSERT_EQ(n, HDR + sizeof(struct txc_rep_cancel), "reply length");
		ASSERT_TRUE(rep.cancel.since_ns >= before && rep.cancel.since_ns <= after,
			    "since_ns is CLOCK_MONOTONIC of the request");
	}
	if (ASSERT_TRUE(cancel_active(scope, value, &c), "cancel in the map")) {
		ASSERT_TRUE(c.flags & TXC_CANCEL_F_ALL_IFACES, "on every interface");
		if (cc->timeout_ns)
			ASSERT_TRUE(c.expires_ns >= before + cc->timeout_ns &&
				    c.expires_ns <= after + cc->timeout_ns,
				    "expiry is now + timeout");
		else
			ASSERT_EQ(c.expires_ns, 0, "no expiry");
	}
	explain_is(&root, 4, 4000, 5001, 0, rq->id, rq->source, TXC_TAG_FLOW,
		   TXC_VERDICT_DROP, scope, "EXPLAIN under the cancel");
	/* Idempotent. */
	n = cancel(&root, scope, value, cc->timeout_ns, &rep);
	OK(n, &rep, "CANCEL again");
	n = clear(&root, scope, value, &rep);
	if (OK(n, &rep, "CLEAR"))
		ASSERT_EQ(n, HDR + sizeof(struct txc_rep_clear), "reply length");
	ASSERT_TRUE(!cancel_active(scope, value, NULL), "cancel gone from the map");
	explain_is(&root, 4, 4000, 5001, 0, rq->id, rq->source, TXC_TAG_FLOW,
		   TXC_VERDICT_PASS, 0, "EXPLAIN after CLEAR");
}

static void req_clear_final_counts(struct req_state *rq)
{
	int n;

	n = cancel(&root, TXC_SCOPE_SOURCE, rq->source, 0, &rep);
	OK(n, &rep, "CANCEL source");
	n = clear(&root, TXC_SCOPE_SOURCE, rq->source, &rep);
	if (OK(n, &rep, "CLEAR source")) {
		ASSERT_EQ(rep.clear.valid, 1, "source counts are valid");
		/* No interface, no traffic: the counts are there and zero. */
		ASSERT_EQ(rep.clear.counts.aborted_frames, 0, "aborted frames");
		ASSERT_EQ(rep.clear.counts.passed_frames, 0, "passed frames");
	}
	n = clear(&root, TXC_SCOPE_ID, rq->id, &rep);
	if (OK(n, &rep, "CLEAR of an uncounted ID"))
		ASSERT_EQ(rep.clear.valid, 0, "not counted: counts not valid");
}

static void req_count_id_and_stats(struct req_state *rq)
{
	int n;

	n = count_id(&root, rq->id, 1, &rep);
	if (OK(n, &rep, "COUNT_ID on"))
		ASSERT_EQ(n, HDR, "empty reply");
	ASSERT_TRUE(id_counted(rq->id), "per-ID counter in the map");
	n = stats(&root, TXC_SCOPE_ID, rq->id, &rep);
	if (OK(n, &rep, "STATS ID") && ASSERT_EQ(rep.list.count, 1, "one entry")) {
		struct txc_stats_entry *e = (void *)(rep.raw + 8);

		ASSERT_EQ(n, HDR + 8 + sizeof(*e), "reply length");
		ASSERT_EQ(e->scope, TXC_SCOPE_ID, "scope");
		ASSERT_EQ(e->value, rq->id, "value");
		ASSERT_EQ(e->uid, 0, "uid");
		ASSERT_EQ(e->counts.passed_frames + e->counts.aborted_frames, 0, "no traffic");
	}
	n = stats(&root, TXC_SCOPE_ID, 0, &rep);
	if (OK(n, &rep, "STATS every ID"))
		ASSERT_TRUE(rep.list.count >= 1, "the counted ID is listed");
	n = clear(&root, TXC_SCOPE_ID, rq->id, &rep);
	if (OK(n, &rep, "CLEAR of a counted ID"))
		ASSERT_EQ(rep.clear.valid, 1, "counted: counts valid");
	n = count_id(&root, rq->id, 0, &rep);
	OK(n, &rep, "COUNT_ID off");
	ASSERT_TRUE(!id_counted(rq->id), "per-ID counter removed");
	n = stats(&root, TXC_SCOPE_ID, rq->id, &rep);
	ERR(n, &rep, -ENOENT, "not counted", HDR + OFF(struct txc_req_stats, value),
	    "STATS of an uncounted ID");
	n = count_id(&root, rq->id, 0, &rep);
	ERR(n, &rep, -ENOENT, "not counted", FIELD_ANY, "COUNT_ID off twice");
	n = stats(&root, TXC_SCOPE_SOURCE, rq->source, &rep);
	if (OK(n, &rep, "STATS source") && ASSERT_EQ(rep.list.count, 1, "one entry")) {
		struct txc_stats_entry *e = (void *)(rep.raw + 8);

		ASSERT_EQ(e->scope, TXC_SCOPE_SOURCE, "scope");
		ASSERT_EQ(e->value, rq->source, "value");
		ASSERT_EQ(e->subscribers, 1, "the opener is subscribed");
		ASSERT_EQ(e->uid, 0, "uid");
		ASSERT_EQ(e->delivered + e->ring_lost + e->backlog_lost, 0, "nothing reported");
	}
	n = stats(&root, TXC_SCOPE_SOURCE, 0, &rep);
	if (OK(n, &rep, "STATS every source")) {
		struct txc_stats_entry *e = (void *)(rep.raw + 8);
		bool mine = false, bys = false;

		for (__u32 i = 0; i < rep.list.count; i++) {
			mine |= e[i].value == rq->source;
			bys |= e[i].value == by_source;
		}
		ASSERT_TRUE(mine && bys, "root sees its source and the bystander's");
	}
}

static void req_subscribe_unsubscribe(struct req_state *rq)
{
	struct txc_req_source b = { .source = rq->source };
	struct peer other;
	int n;

	if (ASSERT_OK(peer_open_raw(&other), "second root connection") && peer_hello(&other)) {
		n = call(&other, TXC_MSG_SUBSCRIBE, &b, sizeof(b), &rep);
		if (OK(n, &rep, "SUBSCRIBE"))
			ASSERT_EQ(n, HDR, "empty reply");
		n = stats(&root, TXC_SCOPE_SOURCE, rq->source, &rep);
		if (OK(n, &rep, "STATS"))
			ASSERT_EQ(((struct txc_stats_entry *)(rep.raw + 8))->subscribers, 2,
				  "two subscribers");
		n = call(&other, TXC_MSG_SUBSCRIBE, &b, sizeof(b), &rep);
		ERR(n, &rep, -EALREADY, "already subscribed", FIELD_ANY, "SUBSCRIBE twice");
		n = call(&other, TXC_MSG_UNSUBSCRIBE, &b, sizeof(b), &rep);
		if (OK(n, &rep, "UNSUBSCRIBE"))
			ASSERT_EQ(n, HDR, "empty reply");
		n = call(&other, TXC_MSG_UNSUBSCRIBE, &b, sizeof(b), &rep);
		ERR(n, &rep, -ENOENT, "not subscribed", FIELD_ANY, "UNSUBSCRIBE twice");
		n = stats(&root, TXC_SCOPE_SOURCE, rq->source, &rep);
		if (OK(n, &rep, "STATS"))
			ASSERT_EQ(((struct txc_stats_entry *)(rep.raw + 8))->subscribers, 1,
				  "back to one subscriber");
	}
	peer_close(&other);
}

/* The capture length the datapath has for @source. */
static __u32 datapath_caplen(__u32 source)
{
	__u32 v = ~0u;

	ASSERT_OK(bpf_map_lookup_elem(map_fd("txc_source_caplen"), &source, &v),
		  "read txc_source_caplen");
	return v;
}

/*
 * CAPTURE: the subscription's length, the datapath's the longest of them;
 * what is refused, and why.  rq->source is root's (opened: subscribed).
 */
static void req_capture(struct req_state *rq)
{
	struct txc_req_capture cr = { .source = rq->source, .snaplen = 64 };
	struct txc_req_source b = { .source = rq->source };
	struct peer other;
	int n;

	n = call(&root, TXC_MSG_CAPTURE, &cr, sizeof(cr), &rep);
	if (OK(n, &rep, "CAPTURE 64"))
		ASSERT_EQ(n, HDR, "empty reply");
	ASSERT_EQ(datapath_caplen(rq->source), 64, "the datapath captures 64 bytes");

	cr.snaplen = TXC_CAPTURE_MAX + 1;
	n = call(&root, TXC_MSG_CAPTURE, &cr, sizeof(cr), &rep);
	ERR(n, &rep, -EINVAL, "capture length 513", HDR + OFF(struct txc_req_capture, snaplen),
	    "CAPTURE past TXC_CAPTURE_MAX");
	cr = (struct txc_req_capture){ .source = 0, .snaplen = 64 };
	n = call(&root, TXC_MSG_CAPTURE, &cr, sizeof(cr), &rep);
	ERR(n, &rep, -EINVAL, "source 0", HDR + OFF(struct txc_req_capture, source),
	    "CAPTURE of source 0");
	cr = (struct txc_req_capture){ .source = TXC_MAX_SOURCES, .snaplen = 64 };
	n = call(&root, TXC_MSG_CAPTURE, &cr, sizeof(cr), &rep);
	ERR(n, &rep, -EINVAL, "source 4096", HDR + OFF(struct txc_req_capture, source),
	    "CAPTURE of a source past the last");
	ASSERT_EQ(datapath_caplen(rq->source), 64, "refused requests changed nothing");

	if (!ASSERT_OK(peer_open_raw(&other), "second root connection") || !peer_hello(&other))
		goto out;
	cr = (struct txc_req_capture){ .source = rq->source, .snaplen = 200 };
	n = call(&other, TXC_MSG_CAPTURE, &cr, sizeof(cr), &rep);
	ERR(n, &rep, -ENOENT, "not subscribed", FIELD_ANY, "CAPTURE without a subscription");
	n = call(&other, TXC_MSG_SUBSCRIBE, &b, sizeof(b), &rep);
	OK(n, &rep, "SUBSCRIBE");
	n = call(&other, TXC_MSG_CAPTURE, &cr, sizeof(cr), &rep);
	OK(n, &rep, "CAPTURE 200 by a second subscriber");
	ASSERT_EQ(datapath_caplen(rq->source), 200, "the datapath captures the longest asked");
	n = call(&other, TXC_MSG_UNSUBSCRIBE, &b, sizeof(b), &rep);
	OK(n, &rep, "UNSUBSCRIBE");
	ASSERT_EQ(datapath_caplen(rq->source), 64, "its subscriber gone, back to 64");
out:
	peer_close(&other);
	cr = (struct txc_req_capture){ .source = rq->source, .snaplen = 0 };
	n = call(&root, TXC_MSG_CAPTURE, &cr, sizeof(cr), &rep);
	OK(n, &rep, "CAPTURE 0");
	ASSERT_EQ(datapath_caplen(rq->source), 0, "nobody asks: no capture");
}

static void req_batch(struct req_state *rq)
{
	int n;

	static struct {
		struct txc_req_batch b;
		struct txc_batch_op ops[5];
	} bt;
	struct txc_flow_key kb = flow_key(4, 4100, 5100);

	memset(&bt, 0, sizeof(bt));
	bt.b.count = 5;
	bt.ops[0].type = TXC_MSG_TAG_ADD;
	bt.ops[0].tag = tag_req(TXC_TAG_FLOW, rq->id + 2, rq->source);
	bt.ops[0].tag.key.flow = kb;
	bt.ops[1].type = TXC_MSG_TAG_ADD;
	bt.ops[1].tag = tag_req(TXC_TAG_MARK, rq->id + 3, rq->source);
	bt.ops[1].tag.key.mark = 0x22;
	bt.ops[2].type = TXC_MSG_CANCEL;
	bt.ops[2].cancel = (struct txc_req_cancel){ .scope = TXC_SCOPE_ID, .value = rq->id + 2 };
	bt.ops[3].type = TXC_MSG_CANCEL;
	bt.ops[3].cancel = (struct txc_req_cancel){ .scope = TXC_SCOPE_ID, .value = rq->id + 3 };
	bt.ops[4].type = TXC_MSG_CLEAR;
	bt.ops[4].clear = (struct txc_req_clear){ .scope = TXC_SCOPE_ID, .value = rq->id + 3 };
	n = call(&root, TXC_MSG_BATCH, &bt, sizeof(bt), &rep);
	if (OK(n, &rep, "BATCH")) {
		ASSERT_EQ(n, HDR + sizeof(struct txc_rep_batch), "reply length");
		ASSERT_EQ(rep.batch.applied, 5, "applied");
		ASSERT_EQ(rep.batch.failed, TXC_FIELD_NONE, "failed");
	}
	rule_is(TXC_TAG_FLOW, &kb, rq->id + 2, rq->source, "op 0: flow rule");
	rule_is(TXC_TAG_MARK, &bt.ops[1].tag.key.mark, rq->id + 3, rq->source, "op 1: mark rule");
	ASSERT_TRUE(cancel_active(TXC_SCOPE_ID, rq->id + 2, NULL), "op 2: cancel");
	ASSERT_TRUE(!cancel_active(TXC_SCOPE_ID, rq->id + 3, NULL), "ops 3, 4: cancel, clear");
	explain_is(&root, 4, 4100, 5100, 0, rq->id + 2, rq->source, TXC_TAG_FLOW,
		   TXC_VERDICT_DROP, TXC_SCOPE_ID, "EXPLAIN of the batch's flow");

	/* A second batch undoes the first: TAG_DEL, CLEAR. */
	memset(&bt, 0, sizeof(bt));
	bt.b.count = 3;
	bt.ops[0].type = TXC_MSG_TAG_DEL;
	bt.ops[0].tag.kind = TXC_TAG_FLOW;
	bt.ops[0].tag.key.flow = kb;
	bt.ops[1].type = TXC_MSG_TAG_DEL;
	bt.ops[1].tag.kind = TXC_TAG_MARK;
	bt.ops[1].tag.key.mark = 0x22;
	bt.ops[2].type = TXC_MSG_CLEAR;
	bt.ops[2].clear = (struct txc_req_clear){ .scope = TXC_SCOPE_ID, .value = rq->id + 2 };
	n = call(&root, TXC_MSG_BATCH, &bt, sizeof(bt.b) + 3 * sizeof(bt.ops[0]), &rep);
	if (OK(n, &rep, "undoing BATCH"))
		ASSERT_EQ(rep.batch.applied, 3, "applied");
	ASSERT_TRUE(!rule_get(TXC_TAG_FLOW, &kb, NULL), "flow rule removed");
	ASSERT_TRUE(!cancel_active(TXC_SCOPE_ID, rq->id + 2, NULL), "cancel cleared");
}

static void req_batch_max(struct req_state *rq)
{
	int n;

	static struct {
		struct txc_req_batch b;
		struct txc_batch_op ops[TXC_BATCH_MAX];
	} bt;

	/* TXC_BATCH_MAX ops fit one message and are all applied. */
	memset(&bt, 0, sizeof(bt));
	bt.b.count = TXC_BATCH_MAX;
	for (__u32 i = 0; i < TXC_BATCH_MAX; i++) {
		bt.ops[i].type = i % 2 ? TXC_MSG_CLEAR : TXC_MSG_CANCEL;
		bt.ops[i].cancel.scope = TXC_SCOPE_ID;
		bt.ops[i].cancel.value = TXC_ID_MAKE(rq->prefix, 0x1000 + i / 2);
	}
	n = call(&root, TXC_MSG_BATCH, &bt, sizeof(bt), &rep);
	if (OK(n, &rep, "BATCH of 1000"))
		ASSERT_EQ(rep.batch.applied, TXC_BATCH_MAX, "applied");
	ASSERT_TRUE(!cancel_active(TXC_SCOPE_ID, TXC_ID_MAKE(rq->prefix, 0x1000), NULL),
		    "each cancel cleared by the op after it");
}

static void req_batch_id_runs(struct req_state *rq)
{
	int n;

	static struct {
		struct txc_req_batch b;
		struct txc_batch_op ops[TXC_BATCH_MAX];
	} bt;
	const __u32 base = 0x2000;
	bool ok = true;
	__u32 i, n_ops = 0;

	/*
	 * Runs of ID cancels and clears go to the map in batch calls:
	 * 400 cancels, a prefix cancel between runs, 300 clears of
	 * which every other ID had no cancel (no error: a clear is
	 * idempotent), a prefix clear, then 100 cancels again.
	 */
	memset(&bt, 0, sizeof(bt));
	for (i = 0; i < 400; i++, n_ops++) {
		bt.ops[n_ops].type = TXC_MSG_CANCEL;
		bt.ops[n_ops].cancel.scope = TXC_SCOPE_ID;
		bt.ops[n_ops].cancel.value = TXC_ID_MAKE(rq->prefix, base + i);
	}
	bt.ops[n_ops].type = TXC_MSG_CANCEL;
	bt.ops[n_ops].cancel.scope = TXC_SCOPE_PREFIX;
	bt.ops[n_ops++].cancel.value = rq->prefix;
	for (i = 0; i < 300; i++, n_ops++) {
		bt.ops[n_ops].type = TXC_MSG_CLEAR;
		bt.ops[n_ops].clear.scope = TXC_SCOPE_ID;
		/* 0..299 even: canceled above; odd ones from 1001: never canceled */
		bt.ops[n_ops].clear.value = TXC_ID_MAKE(rq->prefix, base + (i % 2 ? 1000 + i : i));
	}
	bt.ops[n_ops].type = TXC_MSG_CLEAR;
	bt.ops[n_ops].clear.scope = TXC_SCOPE_PREFIX;
	bt.ops[n_ops++].clear.value = rq->prefix;
	for (i = 0; i < 100; i++, n_ops++) {
		bt.ops[n_ops].type = TXC_MSG_CANCEL;
		bt.ops[n_ops].cancel.scope = TXC_SCOPE_ID;
		bt.ops[n_ops].cancel.value = TXC_ID_MAKE(rq->prefix, base + 500 + i);
	}
	bt.b.count = n_ops;
	n = call(&root, TXC_MSG_BATCH, &bt, sizeof(bt.b) + n_ops * sizeof(bt.ops[0]), &rep);
	if (OK(n, &rep, "BATCH of runs")) {
		ASSERT_EQ(rep.batch.applied, n_ops, "every op applied");
		ASSERT_EQ(rep.batch.failed, TXC_FIELD_NONE, "none failed");
	}
	for (i = 0; i < 400; i++) {
		bool cleared = i < 300 && i % 2 == 0;

		ok &= cancel_active(TXC_SCOPE_ID, TXC_ID_MAKE(rq->prefix, base + i), NULL) ==
		      !cleared;
	}
	ASSERT_TRUE(ok, "the first run's cancels, less the even ones the clears named");
	ok = true;
	for (i = 1; i < 300; i += 2)
		ok &= !cancel_active(TXC_SCOPE_ID, TXC_ID_MAKE(rq->prefix, base + 1000 + i),
				     NULL);
	ASSERT_TRUE(ok, "clears of IDs without a cancel create nothing");
	ok = true;
	for (i = 0; i < 100; i++)
		ok &= cancel_active(TXC_SCOPE_ID, TXC_ID_MAKE(rq->prefix, base + 500 + i),
				    NULL);
	ASSERT_TRUE(ok, "the last run's cancels");
	ASSERT_TRUE(!cancel_active(TXC_SCOPE_PREFIX, rq->prefix, NULL),
		    "prefix cancel between the runs, cleared after them");

	/* Undo: one run of clears. */
	memset(&bt, 0, sizeof(bt));
	for (i = 0, n_ops = 0; i < 600; i++, n_ops++) {
		bt.ops[n_ops].type = TXC_MSG_CLEAR;
		bt.ops[n_ops].clear.scope = TXC_SCOPE_ID;
		bt.ops[n_ops].clear.value = TXC_ID_MAKE(rq->prefix, base + i);
	}
	bt.b.count = n_ops;
	n = call(&root, TXC_MSG_BATCH, &bt, sizeof(bt.b) + n_ops * sizeof(bt.ops[0]), &rep);
	if (OK(n, &rep, "BATCH of clears"))
		ASSERT_EQ(rep.batch.applied, n_ops, "every clear applied");
	ok = true;
	for (i = 0; i < 600; i++)
		ok &= !cancel_active(TXC_SCOPE_ID, TXC_ID_MAKE(rq->prefix, base + i), NULL);
	ASSERT_TRUE(ok, "all cleared");
}

static void req_status(struct req_state *rq __attribute__((unused)))
{
	int n;

	n = call(&root, TXC_MSG_STATUS, NULL, 0, &rep);
	if (OK(n, &rep, "STATUS")) {
		struct txc_rep_status *st = &rep.status;
		struct txc_status_client *cl = (void *)(rep.raw + sizeof(*st) + st->n_ifaces *
							sizeof(struct txc_status_iface));
		bool me = false, bys = false;

		ASSERT_EQ(n, HDR + sizeof(*st) + st->n_ifaces * sizeof(struct txc_status_iface) +
			  st->n_clients * sizeof(*cl), "reply length");
		ASSERT_EQ(st->pid, dm.pid, "daemon pid");
		ASSERT_TRUE(!strcmp(st->socket_path, dm.sock), "socket path");
		ASSERT_TRUE(!strcmp(st->pin_dir, dm.pin_dir), "pin dir");
		ASSERT_EQ(st->n_ifaces, 0, "no interface");
		ASSERT_EQ(st->mark_mask, MARK_MASK, "mark mask");
		ASSERT_TRUE(st->n_prefixes >= 2, "prefixes: ours and the bystander's");
		ASSERT_TRUE(st->n_sources >= 2, "sources: ours and the bystander's");
		ASSERT_TRUE(st->uptime_ns > 0, "uptime");
		for (__u32 i = 0; i < st->n_clients; i++) {
			if (cl[i].conn_id == root.conn_id) {
				me = true;
				ASSERT_EQ(cl[i].uid, 0, "our uid");
				ASSERT_EQ(cl[i].pid, getpid(), "our pid");
				ASSERT_EQ(cl[i].prefixes, 1, "our prefixes");
				ASSERT_EQ(cl[i].sources, 1, "our sources");
				ASSERT_EQ(cl[i].subscriptions, 1, "our subscriptions");
			}
			bys |= cl[i].conn_id == by.conn_id;
		}
		ASSERT_TRUE(me, "this connection is listed");
		ASSERT_TRUE(bys, "the bystander is listed");
	}
}

static void req_abort_places(struct req_state *rq __attribute__((unused)))
{
	int n = call(&root, TXC_MSG_ABORT_PLACES, NULL, 0, &rep);

	if (OK(n, &rep, "ABORT_PLACES")) {
		ASSERT_EQ(n, HDR + sizeof(struct txc_rep_list), "reply length: the list head");
		ASSERT_EQ(rep.list.count, 0, "no interface, no entry");
	}
}

static void req_explain(struct req_state *rq)
{
	__u8 frame[128];
	__u32 len = udp_frame(frame, sizeof(frame), 4, 9999, 9999);
	int n;

	n = explain(&root, frame, len, 0, &rep);
	if (OK(n, &rep, "EXPLAIN untagged")) {
		ASSERT_EQ(n, HDR + sizeof(struct txc_rep_explain), "reply length");
		ASSERT_EQ(rep.explain.verdict, TXC_VERDICT_PASS, "verdict PASS");
		ASSERT_EQ(rep.explain.cancel_id, 0, "ID 0");
		ASSERT_EQ(rep.explain.source, 0, "no source");
		ASSERT_EQ(rep.explain.tag_kind, 0, "no tag");
		ASSERT_EQ(rep.explain.scope, 0, "no cancel");
		ASSERT_EQ(rep.explain.flags, 0, "no flag");
		ASSERT_EQ(rep.explain.frame.family, TXC_FAMILY_IPV4, "summary family");
		ASSERT_EQ(rep.explain.frame.l4_proto, IPPROTO_UDP, "summary protocol");
		ASSERT_EQ(ntohs(rep.explain.frame.dport), 9999, "summary dport");
	}
	/* An interface the daemon does not manage has no txcancel qdisc. */
	{
		static struct txc_req_explain e;

		memset(&e, 0, sizeof(e));
		memcpy(e.frame, frame, len);
		e.frame_len = len;
		strcpy(e.ifname, "lo");
		n = call(&root, TXC_MSG_EXPLAIN, &e, sizeof(e), &rep);
		if (OK(n, &rep, "EXPLAIN dev lo"))
			ASSERT_EQ(rep.explain.flags & TXC_EXPLAIN_F_QDISC, 0,
				  "lo: no qdisc flag, the boundary is the hook");
	}
	/* Mark bits under the mask that no rule names: another program's, left alone. */
	n = explain(&root, frame, len, 0x1234, &rep);
	if (OK(n, &rep, "EXPLAIN with a foreign mark")) {
		ASSERT_EQ(rep.explain.flags, TXC_EXPLAIN_F_FOREIGN_MARK, "foreign mark flagged");
		ASSERT_EQ(rep.explain.verdict, TXC_VERDICT_PASS, "foreign mark: PASS");
		ASSERT_EQ(rep.explain.tag_kind, 0, "foreign mark: no tag");
	}
	/* An untagged frame stays untouched under every cancel there is. */
	n = cancel(&root, TXC_SCOPE_PREFIX, rq->prefix, 0, &rep);
	OK(n, &rep, "CANCEL prefix");
	explain_is(&root, 4, 9999, 9999, 0, 0, 0, 0, TXC_VERDICT_PASS, 0,
		   "untagged frame under a prefix cancel");
	explain_is(&root, 4, 4000, 5001, 0, rq->id, rq->source, TXC_TAG_FLOW, TXC_VERDICT_DROP,
		   TXC_SCOPE_PREFIX, "flow frame under the prefix cancel");
	n = clear(&root, TXC_SCOPE_PREFIX, rq->prefix, &rep);
	OK(n, &rep, "CLEAR prefix");
	explain_is(&root, 4, 4000, 5001, 0, rq->id, rq->source, TXC_TAG_FLOW, TXC_VERDICT_PASS,
		   0, "flow frame after CLEAR");
}

struct req_step {
	const char *name;
	void (*run)(struct req_state *rq);
	struct cancel_case cancel;	/* the step when run is NULL */
};

static const struct req_step req_steps[] = {
	{ "hello", req_hello },
	{ "prefix_alloc_any", req_prefix_alloc_any },
	{ "prefix_alloc_specific", req_prefix_alloc_specific },
	{ "prefix_list", req_prefix_list },
	{ "prefix_free", req_prefix_free },
	{ "source_open_close", req_source_open_close },
	{ "tag_mark", req_tag_mark },
	{ "tag_socket", req_tag_socket },
	{ "tag_cgroup", req_tag_cgroup },
	{ "tag_flow_v4", req_tag_flow_v4 },
	{ "tag_flow_v6", req_tag_flow_v6 },
	{ "tag_del", req_tag_del },
	{ "cancel_id", .cancel = { TXC_SCOPE_ID, 0 } },
	{ "cancel_id_timeout", .cancel = { TXC_SCOPE_ID, 60000000000ull } },
	{ "cancel_prefix", .cancel = { TXC_SCOPE_PREFIX, 0 } },
	{ "cancel_prefix_timeout", .cancel = { TXC_SCOPE_PREFIX, 60000000000ull } },
	{ "cancel_source", .cancel = { TXC_SCOPE_SOURCE, 0 } },
	{ "cancel_source_timeout", .cancel = { TXC_SCOPE_SOURCE, 60000000000ull } },
	{ "clear_final_counts", req_clear_final_counts },
	{ "count_id_and_stats", req_count_id_and_stats },
	{ "subscribe_unsubscribe", req_subscribe_unsubscribe },
	{ "capture", req_capture },
	{ "batch", req_batch },
	{ "batch_max", req_batch_max },
	{ "batch_id_runs", req_batch_id_runs },
	{ "status", req_status },
	{ "abort_places", req_abort_places },
	{ "explain", req_explain },
};

void test_requests(void)
{
	struct req_state rq = {
		.k4 = flow_key(4, 4000, 5001), .k6 = flow_key(6, 4000, 5001), .udp = -1,
	};

	test_subs_chained();
	for (size_t i = 0; i < ARRAY_SIZE(req_steps); i++) {
		const struct req_step *step = &req_steps[i];

		if (!test_sub_begin("%s", step->name))
			continue;
		if (step->run)
			step->run(&rq);
		else
			req_cancel(&rq, &step->cancel);
		test_sub_end();
	}
	if (rq.udp >= 0)
		close(rq.udp);
}
