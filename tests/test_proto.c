/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The txcanceld socket protocol against a real daemon with no interface (no
 * traffic): every request succeeding once, every validation error with its
 * errno and a sentence that names the problem, permissions between users,
 * leases and their release, and the daemon's start and stop.
 *
 * After every refused message the test checks that the daemon still
 * answers on the same connection (or on a new one where the protocol cannot
 * answer the old one) and that a bystander client, holding a prefix and a
 * source of its own, was not disturbed.
 *
 * The permission tests connect as other users: txct_run_as() switches a
 * child to the uid (with or without CAP_NET_ADMIN), the child connects and
 * says hello, and hands the connected socket back.  The daemon identifies a
 * peer when it connects (SO_PEERCRED, and the capability from
 * /proc/<pid>/status), so the parent can then speak as that user.
 */
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
#include "testlib.h"

#ifndef SO_COOKIE
#define SO_COOKIE	57
#endif

#define OFF(t, f)	((__u32)offsetof(t, f))
#define FIELD_ANY	0xfffffffeu	/* do not check the refused field's offset */
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* The main daemon's options: small per-user limits so that they can be reached. */
#define MARK_MASK	0xffffu
#define MAX_PREFIXES	2
#define MAX_RULES	3

/* Users of the permission and limit tests; they need no passwd entry. */
#define UID_A		61001	/* CAP_NET_ADMIN */
#define UID_B		61002	/* one connection without, one with CAP_NET_ADMIN */
#define UID_C		61003	/* prefix quota */
#define UID_D		61004	/* rule quota */

static struct txct_daemon dm;		/* the daemon every test but lifecycle talks to */
static struct peer root;		/* a root client for the success cases */
static struct peer by;			/* the bystander */
static __u32 by_prefix, by_source;
static struct reply rep, rep2;		/* big: kept out of the stack */
static struct msg req;

/* --- frames and keys ------------------------------------------------------ */

static const char *const V4_SRC = "198.18.0.1", *const V4_DST = "198.18.0.2";
static const char *const V6_SRC = "2001:db8::1", *const V6_DST = "2001:db8::2";

static void addr_of(int family, const char *text, __u8 out[16])
{
	memset(out, 0, 16);
	inet_pton(family == 4 ? AF_INET : AF_INET6, text, out);
}

static struct txc_flow_key flow_key(int family, __u16 sport, __u16 dport)
{
	struct txc_flow_key k = {
		.family = family == 4 ? TXC_FAMILY_IPV4 : TXC_FAMILY_IPV6,
		.proto = IPPROTO_UDP,
		.sport = htons(sport),
		.dport = htons(dport),
	};

	addr_of(family, family == 4 ? V4_SRC : V6_SRC, k.saddr);
	addr_of(family, family == 4 ? V4_DST : V6_DST, k.daddr);
	return k;
}

static __u16 ip_csum(const __u8 *p, size_t len)
{
	__u32 sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (p[i] << 8) | p[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

/* An Ethernet + IPv4/IPv6 + UDP frame with 16 bytes of payload matching flow_key(). */
static __u32 udp_frame(__u8 *f, int family, __u16 sport, __u16 dport)
{
	static const __u8 eth[12] = { 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1 };
	const __u32 payload = 16;
	struct txc_flow_key k = flow_key(family, sport, dport);
	__u8 *ip = f + 14, *udp;
	__u32 len;

	memcpy(f, eth, 12);
	if (family == 4) {
		f[12] = 0x08;
		f[13] = 0x00;
		memset(ip, 0, 20);
		ip[0] = 0x45;
		ip[2] = 0;
		ip[3] = 20 + 8 + payload;
		ip[8] = 64;
		ip[9] = IPPROTO_UDP;
		memcpy(ip + 12, k.saddr, 4);
		memcpy(ip + 16, k.daddr, 4);
		*(__u16 *)(ip + 10) = htons(ip_csum(ip, 20));
		udp = ip + 20;
	} else {
		f[12] = 0x86;
		f[13] = 0xdd;
		memset(ip, 0, 40);
		ip[0] = 0x60;
		ip[5] = 8 + payload;
		ip[6] = IPPROTO_UDP;
		ip[7] = 64;
		memcpy(ip + 8, k.saddr, 16);
		memcpy(ip + 24, k.daddr, 16);
		udp = ip + 40;
	}
	*(__u16 *)(udp + 0) = k.sport;
	*(__u16 *)(udp + 2) = k.dport;
	*(__u16 *)(udp + 4) = htons(8 + payload);
	*(__u16 *)(udp + 6) = 0;
	memset(udp + 8, 0xab, payload);
	len = (udp + 8 + payload) - f;
	return len;
}

/* --- messages ------------------------------------------------------------- */

static int peer_open_raw(struct peer *p)
{
	return peer_open_path(p, dm.sock);
}

static int call_fd(struct peer *p, __u8 type, const void *body, size_t len, int fd,
		   struct reply *r)
{
	size_t n = msg_make(&req, type, body, len);

	return peer_send(p, &req, n, &fd, fd >= 0, r);
}

static int call(struct peer *p, __u8 type, const void *body, size_t len, struct reply *r)
{
	return call_fd(p, type, body, len, -1, r);
}

/* The daemon's sentence in a failed reply (batch replies carry it inside). */
static const char *err_text(struct reply *r)
{
	struct txc_rep_error *e = &r->err;

	if (r->h.type == TXC_MSG_BATCH && r->h.length == HDR + sizeof(struct txc_rep_batch))
		e = &r->batch.error;
	e->message[sizeof(e->message) - 1] = '\0';
	return e->message;
}

static __u32 err_field(const struct reply *r)
{
	if (r->h.type == TXC_MSG_BATCH && r->h.length == HDR + sizeof(struct txc_rep_batch))
		return r->batch.error.field;
	return r->err.field;
}

static bool ok_at(const char *file, int line, int n, struct reply *r, const char *what)
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
			  strerror(-r->h.error), err_text(r));
		return false;
	}
	return true;
}

#define OK(n, r, what)	ok_at(__FILE__, __LINE__, n, r, what)

static bool err_at(const char *file, int line, int n, struct reply *r, int errnum,
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
	text = err_text(r);
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
	if (field != FIELD_ANY && err_field(r) != field) {
		test_fail(file, line, "%s: refused field at offset %u, expected %u (\"%s\")",
			  what, err_field(r), field, text);
		ok = false;
	}
	return ok;
}

#define ERR(n, r, errnum, word, field, what) \
	err_at(__FILE__, __LINE__, n, r, errnum, word, field, what)

/* --- small requests ------------------------------------------------------- */

static int hello(struct peer *p, struct reply *r)
{
	struct txc_req_hello h = { .version = TXC_PROTO_VERSION };

	return call(p, TXC_MSG_HELLO, &h, sizeof(h), r);
}

static __u32 prefix_alloc(struct peer *p, __u32 want)
{
	struct txc_req_prefix b = { .prefix = want };
	int n = call(p, TXC_MSG_PREFIX_ALLOC, &b, sizeof(b), &rep2);

	return OK(n, &rep2, "PREFIX_ALLOC") ? rep2.prefix.prefix : 0;
}

static __u32 source_open(struct peer *p)
{
	struct txc_req_source b = {};
	int n = call(p, TXC_MSG_SOURCE_OPEN, &b, sizeof(b), &rep2);

	return OK(n, &rep2, "SOURCE_OPEN") ? rep2.source.source : 0;
}

static struct txc_req_tag tag_req(__u8 kind, __u32 id, __u32 source)
{
	return (struct txc_req_tag){ .kind = kind, .cancel_id = id, .source = source };
}

static int tag_flow(struct peer *p, const struct txc_flow_key *k, __u32 id, __u32 source,
		    struct reply *r)
{
	struct txc_req_tag t = tag_req(TXC_TAG_FLOW, id, source);

	t.key.flow = *k;
	return call(p, TXC_MSG_TAG_ADD, &t, sizeof(t), r);
}

/* The fd of this process's socket with @cookie, or -1 (a socket's tag is reached through it). */
static int socket_of(__u64 cookie)
{
	for (int fd = 0; fd < 4096; fd++) {
		__u64 c = 0;
		socklen_t len = sizeof(c);

		if (!getsockopt(fd, SOL_SOCKET, SO_COOKIE, &c, &len) && c == cookie)
			return fd;
	}
	return -1;
}

/* A socket is untagged through the socket: it goes along (SCM_RIGHTS) with its cookie. */
static int untag(struct peer *p, __u8 kind, const union txc_tag_key *key, struct reply *r)
{
	struct txc_req_tag t = { .kind = kind, .key = *key };

	return call_fd(p, TXC_MSG_TAG_DEL, &t, sizeof(t),
		       kind == TXC_TAG_SOCKET ? socket_of(key->socket_cookie) : -1, r);
}

static int cancel(struct peer *p, __u8 scope, __u32 value, __u64 timeout_ns, struct reply *r)
{
	struct txc_req_cancel c = { .scope = scope, .value = value, .timeout_ns = timeout_ns };

	return call(p, TXC_MSG_CANCEL, &c, sizeof(c), r);
}

static int clear(struct peer *p, __u8 scope, __u32 value, struct reply *r)
{
	struct txc_req_clear c = { .scope = scope, .value = value };

	return call(p, TXC_MSG_CLEAR, &c, sizeof(c), r);
}

static int count_id(struct peer *p, __u32 id, __u32 enable, struct reply *r)
{
	struct txc_req_count_id c = { .cancel_id = id, .enable = enable };

	return call(p, TXC_MSG_COUNT_ID, &c, sizeof(c), r);
}

static int stats(struct peer *p, __u8 scope, __u32 value, struct reply *r)
{
	struct txc_req_stats s = { .scope = scope, .value = value };

	return call(p, TXC_MSG_STATS, &s, sizeof(s), r);
}

static int explain(struct peer *p, const void *frame, __u32 len, __u32 mark, struct reply *r)
{
	static struct txc_req_explain e;

	memset(&e, 0, sizeof(e));
	memcpy(e.frame, frame, len);
	e.frame_len = len;
	e.mark = mark;
	return call(p, TXC_MSG_EXPLAIN, &e, sizeof(e), r);
}

/* EXPLAIN a flow frame and check what the program decides. */
static bool explain_is(struct peer *p, int family, __u16 sport, __u16 dport, __u32 mark,
		       __u32 id, __u32 source, __u8 kind, __u8 verdict, __u8 scope,
		       const char *what)
{
	__u8 frame[128];
	__u32 len = udp_frame(frame, family, sport, dport);
	int n = explain(p, frame, len, mark, &rep2);
	bool ok;

	if (!OK(n, &rep2, what))
		return false;
	ok = ASSERT_EQ(rep2.explain.cancel_id, id, what);
	ok &= ASSERT_EQ(rep2.explain.source, source, what);
	ok &= ASSERT_EQ(rep2.explain.tag_kind, kind, what);
	ok &= ASSERT_EQ(rep2.explain.verdict, verdict, what);
	ok &= ASSERT_EQ(rep2.explain.scope, scope, what);
	return ok;
}

/* The entry of @prefix in a PREFIX_LIST reply, or NULL. */
static const struct txc_prefix_info *list_find(const struct reply *r, __u32 prefix)
{
	const struct txc_prefix_info *e = (const void *)(r->raw + sizeof(struct txc_rep_list));

	for (__u32 i = 0; i < r->list.count; i++)
		if (e[i].prefix == prefix)
			return &e[i];
	return NULL;
}

static bool prefix_listed(struct peer *p, __u32 prefix)
{
	int n = call(p, TXC_MSG_PREFIX_LIST, NULL, 0, &rep2);

	return OK(n, &rep2, "PREFIX_LIST") && list_find(&rep2, prefix);
}

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* --- the pinned maps ------------------------------------------------------ */

static struct {
	const char *name;
	int fd;
} maps[] = {
	{ "txc_mark_rules", -1 }, { "txc_sk_tags", -1 }, { "txc_cgroup_rules", -1 },
	{ "txc_flow_rules", -1 }, { "txc_id_cancels", -1 }, { "txc_prefix_cancels", -1 },
	{ "txc_source_cancels", -1 }, { "txc_id_stats", -1 }, { "txc_config", -1 },
	{ "txc_lease_gens", -1 },
};

static int map_fd(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(maps); i++) {
		char path[256];

		if (strcmp(maps[i].name, name))
			continue;
		if (maps[i].fd < 0) {
			snprintf(path, sizeof(path), "%s/maps/%s", dm.pin_dir, name);
			maps[i].fd = bpf_obj_get(path);
			if (maps[i].fd < 0)
				printf("    bpf_obj_get(%s): %s\n", path, strerror(errno));
		}
		return maps[i].fd;
	}
	return -1;
}

static void maps_close(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(maps); i++) {
		if (maps[i].fd >= 0)
			close(maps[i].fd);
		maps[i].fd = -1;
	}
}

/*
 * Whether the socket with @cookie (one of this process's) holds a tag in
 * force: stored in it, under the current generation of its prefix and source.
 */
static bool socket_tag_get(__u64 cookie, struct txc_tag *tag)
{
	int fd = socket_of(cookie);
	struct txc_sk_tag st;
	__u64 pgen, sgen;
	__u32 slot;

	if (fd < 0 || bpf_map_lookup_elem(map_fd("txc_sk_tags"), &fd, &st))
		return false;
	slot = TXC_ID_PREFIX(st.tag.cancel_id);
	if (bpf_map_lookup_elem(map_fd("txc_lease_gens"), &slot, &pgen))
		return false;
	slot = TXC_GEN_SOURCE(st.tag.source);
	if (st.tag.source >= TXC_MAX_SOURCES ||
	    bpf_map_lookup_elem(map_fd("txc_lease_gens"), &slot, &sgen))
		return false;
	if (pgen != st.prefix_gen || sgen != st.source_gen || st.cookie != cookie)
		return false;
	*tag = st.tag;
	return true;
}

/* Whether the rule table of @kind has @key; *tag gets its value. */
static bool rule_get(__u8 kind, const void *key, struct txc_tag *tag)
{
	static const char *const names[] = {
		[TXC_TAG_MARK] = "txc_mark_rules",
		[TXC_TAG_CGROUP] = "txc_cgroup_rules", [TXC_TAG_FLOW] = "txc_flow_rules",
	};
	struct txc_tag dummy;

	if (kind == TXC_TAG_SOCKET)
		return socket_tag_get(*(const __u64 *)key, tag ? tag : &dummy);
	return !bpf_map_lookup_elem(map_fd(names[kind]), key, tag ? tag : &dummy);
}

static bool rule_is(__u8 kind, const void *key, __u32 id, __u32 source, const char *what)
{
	struct txc_tag t;
	bool id_ok, source_ok;

	if (!ASSERT_TRUE(rule_get(kind, key, &t), what))
		return false;
	/* Both, so that a wrong rule reports every field that differs. */
	id_ok = ASSERT_EQ(t.cancel_id, id, what);
	source_ok = ASSERT_EQ(t.source, source, what);
	return id_ok && source_ok;
}

/* The cancel element of @scope/@value if it is in force. */
static bool cancel_active(__u8 scope, __u32 value, struct txc_cancel *out)
{
	const char *name = scope == TXC_SCOPE_ID ? "txc_id_cancels" :
			   scope == TXC_SCOPE_PREFIX ? "txc_prefix_cancels" : "txc_source_cancels";
	struct txc_cancel c;

	if (bpf_map_lookup_elem(map_fd(name), &value, &c) || !(c.flags & TXC_CANCEL_F_ACTIVE))
		return false;
	if (out)
		*out = c;
	return true;
}

static bool id_counted(__u32 id)
{
	struct txc_id_stats st[1024];

	return !bpf_map_lookup_elem(map_fd("txc_id_stats"), &id, st);
}

/* Once the daemon is done making the rings it keeps ready after opens. */
static int daemon_fd_count(void)
{
	return proc_fd_count_settled(dm.pid);
}

/* --- liveness ------------------------------------------------------------- */

/* @p still gets answers, and the bystander still holds what it held. */
static bool still_serving(struct peer *p)
{
	static struct reply r;
	bool ok = true;
	int n;

	if (p) {
		n = hello(p, &r);
		ok = OK(n, &r, "HELLO on the same connection after the refusal") &&
		     ASSERT_EQ(r.hello.version, TXC_PROTO_VERSION, "HELLO version");
		if (ok && p->conn_id)
			ok = ASSERT_EQ(r.hello.conn_id, p->conn_id, "same connection id");
	}
	n = hello(&by, &r);
	if (!OK(n, &r, "bystander HELLO") ||
	    !ASSERT_EQ(r.hello.conn_id, by.conn_id, "bystander keeps its connection"))
		return false;
	n = call(&by, TXC_MSG_PREFIX_LIST, NULL, 0, &r);
	if (!OK(n, &r, "bystander PREFIX_LIST"))
		return false;
	{
		const struct txc_prefix_info *e = list_find(&r, by_prefix);

		ok &= ASSERT_TRUE(e && e->state == TXC_LEASE_HELD && e->conn_id == by.conn_id,
				  "bystander still holds its prefix");
	}
	n = stats(&by, TXC_SCOPE_SOURCE, by_source, &r);
	ok &= OK(n, &r, "bystander STATS of its source") &&
	      ASSERT_EQ(((struct txc_stats_entry *)(r.raw + 8))->subscribers, 1,
			"bystander still subscribed to its source");
	return ok;
}

/* A raw client's first words: learn its connection id. */
static bool peer_hello(struct peer *p)
{
	int n = hello(p, &rep2);

	if (!OK(n, &rep2, "HELLO"))
		return false;
	p->conn_id = rep2.hello.conn_id;
	p->uid = rep2.hello.uid;
	return true;
}

static int peer_open_lib(struct peer *p)
{
	int err;

	memset(p, 0, sizeof(*p));
	p->fd = -1;
	err = txc_client_open(&p->lib, dm.sock);
	if (err) {
		printf("    txc_client_open: %s\n", txc_last_error());
		return err;
	}
	p->conn_id = txc_client_hello(p->lib)->conn_id;
	p->uid = txc_client_hello(p->lib)->uid;
	return 0;
}

/* ========================================================================== */
/* Every request type, succeeding                                             */
/* ========================================================================== */

static __u32 rq_prefix, rq_source, rq_id;

static void test_requests(void)
{
	struct txc_flow_key k4 = flow_key(4, 4000, 5001), k6 = flow_key(6, 4000, 5001);
	__u32 specific = 0, s2 = 0;
	__u64 before, cookie = 0;
	int n, udp = -1;

	test_sub_begin("hello");
	before = now_ns();
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
	test_sub_end();

	test_sub_begin("prefix_alloc_any");
	{
		struct txc_req_prefix b = {};

		n = call(&root, TXC_MSG_PREFIX_ALLOC, &b, sizeof(b), &rep);
		if (OK(n, &rep, "PREFIX_ALLOC 0")) {
			ASSERT_EQ(n, HDR + sizeof(struct txc_rep_prefix), "reply length");
			rq_prefix = rep.prefix.prefix;
			ASSERT_TRUE(rq_prefix >= 1 && rq_prefix <= 255, "prefix in 1..255");
			ASSERT_TRUE(rq_prefix != by_prefix, "not the bystander's prefix");
			ASSERT_EQ(rep.prefix.reserved, 0, "reserved");
		}
		rq_id = TXC_ID_MAKE(rq_prefix, 0x42);
	}
	test_sub_end();

	test_sub_begin("prefix_alloc_specific");
	for (__u32 p = 200; p < 255 && !specific; p++)
		if (p != rq_prefix && p != by_prefix)
			specific = p;
	{
		struct txc_req_prefix b = { .prefix = specific };

		n = call(&root, TXC_MSG_PREFIX_ALLOC, &b, sizeof(b), &rep);
		if (OK(n, &rep, "PREFIX_ALLOC specific"))
			ASSERT_EQ(rep.prefix.prefix, specific, "the prefix asked for");
		/* Held now: asking again names the holder. */
		n = call(&root, TXC_MSG_PREFIX_ALLOC, &b, sizeof(b), &rep);
		ERR(n, &rep, -EBUSY, "held by a connection of yours", FIELD_ANY, "again");
		n = call(&by, TXC_MSG_PREFIX_ALLOC, &b, sizeof(b), &rep);
		ERR(n, &rep, -EBUSY, "held", FIELD_ANY, "by the bystander");
	}
	test_sub_end();

	test_sub_begin("prefix_list");
	n = call(&root, TXC_MSG_PREFIX_LIST, NULL, 0, &rep);
	if (OK(n, &rep, "PREFIX_LIST")) {
		const struct txc_prefix_info *e = list_find(&rep, rq_prefix);

		ASSERT_EQ(n, HDR + 8 + rep.list.count * sizeof(*e), "reply length");
		/* Root sees every lease, the bystander's included. */
		ASSERT_TRUE(list_find(&rep, by_prefix) != NULL, "bystander's prefix listed");
		if (ASSERT_TRUE(e != NULL, "allocated prefix listed")) {
			ASSERT_EQ(e->state, TXC_LEASE_HELD, "state");
			ASSERT_EQ(e->uid, 0, "uid");
			ASSERT_EQ(e->conn_id, root.conn_id, "conn_id");
			ASSERT_EQ(e->rules, 0, "rules");
		}
		ASSERT_TRUE(list_find(&rep, specific) != NULL, "specific prefix listed");
	}
	test_sub_end();

	test_sub_begin("prefix_free");
	{
		struct txc_req_prefix b = { .prefix = specific };

		n = call(&root, TXC_MSG_PREFIX_FREE, &b, sizeof(b), &rep);
		if (OK(n, &rep, "PREFIX_FREE"))
			ASSERT_EQ(n, HDR, "empty reply");
		ASSERT_TRUE(!prefix_listed(&root, specific), "freed prefix no longer listed");
		n = call(&root, TXC_MSG_PREFIX_FREE, &b, sizeof(b), &rep);
		ERR(n, &rep, -EPERM, "not held", HDR + OFF(struct txc_req_prefix, prefix),
		    "freeing it twice");
	}
	test_sub_end();

	test_sub_begin("source_open_close");
	{
		struct txc_req_source b = {};

		n = call(&root, TXC_MSG_SOURCE_OPEN, &b, sizeof(b), &rep);
		if (OK(n, &rep, "SOURCE_OPEN")) {
			rq_source = rep.source.source;
			ASSERT_TRUE(rq_source >= 1 && rq_source < TXC_MAX_SOURCES, "source range");
			ASSERT_TRUE(rq_source != by_source, "not the bystander's");
		}
		n = call(&root, TXC_MSG_SOURCE_OPEN, &b, sizeof(b), &rep);
		if (OK(n, &rep, "second SOURCE_OPEN")) {
			s2 = rep.source.source;
			ASSERT_TRUE(s2 != rq_source, "a new handle");
		}
		b.source = s2;
		n = call(&root, TXC_MSG_SOURCE_CLOSE, &b, sizeof(b), &rep);
		if (OK(n, &rep, "SOURCE_CLOSE"))
			ASSERT_EQ(n, HDR, "empty reply");
		n = stats(&root, TXC_SCOPE_SOURCE, s2, &rep);
		ERR(n, &rep, -ENOENT, "not open", FIELD_ANY, "STATS of the closed source");
		/* Claiming a number that is not an orphan is refused. */
		n = call(&root, TXC_MSG_SOURCE_OPEN, &b, sizeof(b), &rep);
		ERR(n, &rep, -ENOENT, "not an orphaned lease", FIELD_ANY, "SOURCE_OPEN of a free number");
	}
	test_sub_end();

	test_sub_begin("tag_mark");
	{
		struct txc_req_tag t = tag_req(TXC_TAG_MARK, rq_id, rq_source);

		t.key.mark = 0x11;
		n = call(&root, TXC_MSG_TAG_ADD, &t, sizeof(t), &rep);
		if (OK(n, &rep, "TAG_ADD mark")) {
			ASSERT_EQ(n, HDR + sizeof(struct txc_rep_tag), "reply length");
			ASSERT_EQ(rep.tag.key, 0, "key is 0 for marks");
		}
		rule_is(TXC_TAG_MARK, &t.key.mark, rq_id, rq_source, "mark rule in the map");
		explain_is(&root, 4, 1, 2, 0x11, rq_id, rq_source, TXC_TAG_MARK, TXC_VERDICT_PASS, 0,
			   "EXPLAIN with the mark");
		n = call(&root, TXC_MSG_TAG_ADD, &t, sizeof(t), &rep);
		ERR(n, &rep, -EEXIST, "exists", FIELD_ANY, "the same mark again");
		t.key.mark = 0x10000;
		n = call(&root, TXC_MSG_TAG_ADD, &t, sizeof(t), &rep);
		ERR(n, &rep, -EINVAL, "outside the mark mask", FIELD_ANY, "mark outside the mask");
	}
	test_sub_end();

	test_sub_begin("tag_socket");
	udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (ASSERT_GE0(udp, "UDP socket")) {
		struct txc_req_tag t = tag_req(TXC_TAG_SOCKET, rq_id, rq_source);
		socklen_t len = sizeof(cookie);

		ASSERT_OK(getsockopt(udp, SOL_SOCKET, SO_COOKIE, &cookie, &len), "SO_COOKIE");
		n = call_fd(&root, TXC_MSG_TAG_ADD, &t, sizeof(t), udp, &rep);
		if (OK(n, &rep, "TAG_ADD socket"))
			ASSERT_EQ(rep.tag.key, cookie, "reply key is the socket's SO_COOKIE");
		rule_is(TXC_TAG_SOCKET, &cookie, rq_id, rq_source, "socket rule in the map");
	}
	test_sub_end();

	test_sub_begin("tag_cgroup");
	{
		struct txc_req_tag t = tag_req(TXC_TAG_CGROUP, rq_id, rq_source);
		struct stat st;

		/* Any cgroup v2 id will do: the daemon keys the rule, the kernel matches it. */
		t.key.cgroup_id = stat("/sys/fs/cgroup", &st) ? 4242 : st.st_ino;
		n = call(&root, TXC_MSG_TAG_ADD, &t, sizeof(t), &rep);
		if (OK(n, &rep, "TAG_ADD cgroup"))
			ASSERT_EQ(rep.tag.key, 0, "key is 0 for cgroups");
		rule_is(TXC_TAG_CGROUP, &t.key.cgroup_id, rq_id, rq_source, "cgroup rule in the map");
	}
	test_sub_end();

	test_sub_begin("tag_flow_v4");
	n = tag_flow(&root, &k4, rq_id, rq_source, &rep);
	if (OK(n, &rep, "TAG_ADD flow v4"))
		ASSERT_EQ(rep.tag.key, 0, "key is 0 for flows");
	rule_is(TXC_TAG_FLOW, &k4, rq_id, rq_source, "v4 flow rule in the map");
	test_sub_end();

	test_sub_begin("tag_flow_v6");
	n = tag_flow(&root, &k6, rq_id + 1, rq_source, &rep);
	OK(n, &rep, "TAG_ADD flow v6");
	rule_is(TXC_TAG_FLOW, &k6, rq_id + 1, rq_source, "v6 flow rule in the map");
	explain_is(&root, 6, 4000, 5001, 0, rq_id + 1, rq_source, TXC_TAG_FLOW, TXC_VERDICT_PASS,
		   0, "EXPLAIN of the v6 flow");
	n = call(&root, TXC_MSG_PREFIX_LIST, NULL, 0, &rep);
	if (OK(n, &rep, "PREFIX_LIST") && ASSERT_TRUE(list_find(&rep, rq_prefix), "listed"))
		/* Mark, cgroup and two flows: a socket tag lives in its socket, uncounted. */
		ASSERT_EQ(list_find(&rep, rq_prefix)->rules, 4, "rules counted under the prefix");
	test_sub_end();

	test_sub_begin("tag_del");
	{
		union txc_tag_key key = {};

		key.mark = 0x11;
		n = untag(&root, TXC_TAG_MARK, &key, &rep);
		if (OK(n, &rep, "TAG_DEL mark"))
			ASSERT_EQ(n, HDR, "empty reply");
		ASSERT_TRUE(!rule_get(TXC_TAG_MARK, &key.mark, NULL), "mark rule gone");
		memset(&key, 0, sizeof(key));
		key.socket_cookie = cookie;
		n = untag(&root, TXC_TAG_SOCKET, &key, &rep);
		OK(n, &rep, "TAG_DEL socket");
		ASSERT_TRUE(!rule_get(TXC_TAG_SOCKET, &cookie, NULL), "socket rule gone");
		memset(&key, 0, sizeof(key));
		key.flow = k6;
		n = untag(&root, TXC_TAG_FLOW, &key, &rep);
		OK(n, &rep, "TAG_DEL flow v6");
		ASSERT_TRUE(!rule_get(TXC_TAG_FLOW, &k6, NULL), "v6 flow rule gone");
		n = untag(&root, TXC_TAG_FLOW, &key, &rep);
		ERR(n, &rep, -ENOENT, "no flow rule", FIELD_ANY, "TAG_DEL of a missing rule");
		n = call(&root, TXC_MSG_PREFIX_LIST, NULL, 0, &rep);
		if (OK(n, &rep, "PREFIX_LIST") && ASSERT_TRUE(list_find(&rep, rq_prefix), "listed"))
			ASSERT_EQ(list_find(&rep, rq_prefix)->rules, 2, "rules left (cgroup, v4)");
	}
	test_sub_end();

	{
		static const struct {
			const char *name;
			__u8 scope;
			__u64 timeout_ns;
		} cases[] = {
			{ "cancel_id", TXC_SCOPE_ID, 0 },
			{ "cancel_id_timeout", TXC_SCOPE_ID, 60000000000ull },
			{ "cancel_prefix", TXC_SCOPE_PREFIX, 0 },
			{ "cancel_prefix_timeout", TXC_SCOPE_PREFIX, 60000000000ull },
			{ "cancel_source", TXC_SCOPE_SOURCE, 0 },
			{ "cancel_source_timeout", TXC_SCOPE_SOURCE, 60000000000ull },
		};

		for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
			__u8 scope = cases[i].scope;
			__u32 value = scope == TXC_SCOPE_ID ? rq_id :
				      scope == TXC_SCOPE_PREFIX ? rq_prefix : rq_source;
			struct txc_cancel c;
			__u64 after;

			test_sub_begin("%s", cases[i].name);
			explain_is(&root, 4, 4000, 5001, 0, rq_id, rq_source, TXC_TAG_FLOW,
				   TXC_VERDICT_PASS, 0, "EXPLAIN before the cancel");
			before = now_ns();
			n = cancel(&root, scope, value, cases[i].timeout_ns, &rep);
			after = now_ns();
			if (OK(n, &rep, "CANCEL")) {
				ASSERT_EQ(n, HDR + sizeof(struct txc_rep_cancel), "reply length");
				ASSERT_TRUE(rep.cancel.since_ns >= before && rep.cancel.since_ns <= after,
					    "since_ns is CLOCK_MONOTONIC of the request");
			}
			if (ASSERT_TRUE(cancel_active(scope, value, &c), "cancel in the map")) {
				ASSERT_TRUE(c.flags & TXC_CANCEL_F_ALL_IFACES, "on every interface");
				if (cases[i].timeout_ns)
					ASSERT_TRUE(c.expires_ns >= before + cases[i].timeout_ns &&
						    c.expires_ns <= after + cases[i].timeout_ns,
						    "expiry is now + timeout");
				else
					ASSERT_EQ(c.expires_ns, 0, "no expiry");
			}
			explain_is(&root, 4, 4000, 5001, 0, rq_id, rq_source, TXC_TAG_FLOW,
				   TXC_VERDICT_DROP, scope, "EXPLAIN under the cancel");
			/* Idempotent. */
			n = cancel(&root, scope, value, cases[i].timeout_ns, &rep);
			OK(n, &rep, "CANCEL again");
			n = clear(&root, scope, value, &rep);
			if (OK(n, &rep, "CLEAR"))
				ASSERT_EQ(n, HDR + sizeof(struct txc_rep_clear), "reply length");
			ASSERT_TRUE(!cancel_active(scope, value, NULL), "cancel gone from the map");
			explain_is(&root, 4, 4000, 5001, 0, rq_id, rq_source, TXC_TAG_FLOW,
				   TXC_VERDICT_PASS, 0, "EXPLAIN after CLEAR");
			test_sub_end();
		}
	}

	test_sub_begin("clear_final_counts");
	n = cancel(&root, TXC_SCOPE_SOURCE, rq_source, 0, &rep);
	OK(n, &rep, "CANCEL source");
	n = clear(&root, TXC_SCOPE_SOURCE, rq_source, &rep);
	if (OK(n, &rep, "CLEAR source")) {
		ASSERT_EQ(rep.clear.valid, 1, "source counts are valid");
		/* No interface, no traffic: the counts are there and zero. */
		ASSERT_EQ(rep.clear.counts.aborted_frames, 0, "aborted frames");
		ASSERT_EQ(rep.clear.counts.passed_frames, 0, "passed frames");
	}
	n = clear(&root, TXC_SCOPE_ID, rq_id, &rep);
	if (OK(n, &rep, "CLEAR of an uncounted ID"))
		ASSERT_EQ(rep.clear.valid, 0, "not counted: counts not valid");
	test_sub_end();

	test_sub_begin("count_id_and_stats");
	n = count_id(&root, rq_id, 1, &rep);
	if (OK(n, &rep, "COUNT_ID on"))
		ASSERT_EQ(n, HDR, "empty reply");
	ASSERT_TRUE(id_counted(rq_id), "per-ID counter in the map");
	n = stats(&root, TXC_SCOPE_ID, rq_id, &rep);
	if (OK(n, &rep, "STATS ID") && ASSERT_EQ(rep.list.count, 1, "one entry")) {
		struct txc_stats_entry *e = (void *)(rep.raw + 8);

		ASSERT_EQ(n, HDR + 8 + sizeof(*e), "reply length");
		ASSERT_EQ(e->scope, TXC_SCOPE_ID, "scope");
		ASSERT_EQ(e->value, rq_id, "value");
		ASSERT_EQ(e->uid, 0, "uid");
		ASSERT_EQ(e->counts.passed_frames + e->counts.aborted_frames, 0, "no traffic");
	}
	n = stats(&root, TXC_SCOPE_ID, 0, &rep);
	if (OK(n, &rep, "STATS every ID"))
		ASSERT_TRUE(rep.list.count >= 1, "the counted ID is listed");
	n = clear(&root, TXC_SCOPE_ID, rq_id, &rep);
	if (OK(n, &rep, "CLEAR of a counted ID"))
		ASSERT_EQ(rep.clear.valid, 1, "counted: counts valid");
	n = count_id(&root, rq_id, 0, &rep);
	OK(n, &rep, "COUNT_ID off");
	ASSERT_TRUE(!id_counted(rq_id), "per-ID counter removed");
	n = stats(&root, TXC_SCOPE_ID, rq_id, &rep);
	ERR(n, &rep, -ENOENT, "not counted", HDR + OFF(struct txc_req_stats, value),
	    "STATS of an uncounted ID");
	n = count_id(&root, rq_id, 0, &rep);
	ERR(n, &rep, -ENOENT, "not counted", FIELD_ANY, "COUNT_ID off twice");
	n = stats(&root, TXC_SCOPE_SOURCE, rq_source, &rep);
	if (OK(n, &rep, "STATS source") && ASSERT_EQ(rep.list.count, 1, "one entry")) {
		struct txc_stats_entry *e = (void *)(rep.raw + 8);

		ASSERT_EQ(e->scope, TXC_SCOPE_SOURCE, "scope");
		ASSERT_EQ(e->value, rq_source, "value");
		ASSERT_EQ(e->subscribers, 1, "the opener is subscribed");
		ASSERT_EQ(e->uid, 0, "uid");
		ASSERT_EQ(e->delivered + e->ring_lost + e->backlog_lost, 0, "nothing reported");
	}
	n = stats(&root, TXC_SCOPE_SOURCE, 0, &rep);
	if (OK(n, &rep, "STATS every source")) {
		struct txc_stats_entry *e = (void *)(rep.raw + 8);
		bool mine = false, bys = false;

		for (__u32 i = 0; i < rep.list.count; i++) {
			mine |= e[i].value == rq_source;
			bys |= e[i].value == by_source;
		}
		ASSERT_TRUE(mine && bys, "root sees its source and the bystander's");
	}
	test_sub_end();

	test_sub_begin("subscribe_unsubscribe");
	{
		struct txc_req_source b = { .source = rq_source };
		struct peer other;

		if (ASSERT_OK(peer_open_raw(&other), "second root connection") && peer_hello(&other)) {
			n = call(&other, TXC_MSG_SUBSCRIBE, &b, sizeof(b), &rep);
			if (OK(n, &rep, "SUBSCRIBE"))
				ASSERT_EQ(n, HDR, "empty reply");
			n = stats(&root, TXC_SCOPE_SOURCE, rq_source, &rep);
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
			n = stats(&root, TXC_SCOPE_SOURCE, rq_source, &rep);
			if (OK(n, &rep, "STATS"))
				ASSERT_EQ(((struct txc_stats_entry *)(rep.raw + 8))->subscribers, 1,
					  "back to one subscriber");
		}
		peer_close(&other);
	}
	test_sub_end();

	test_sub_begin("batch");
	{
		static struct {
			struct txc_req_batch b;
			struct txc_batch_op ops[5];
		} bt;
		struct txc_flow_key kb = flow_key(4, 4100, 5100);

		memset(&bt, 0, sizeof(bt));
		bt.b.count = 5;
		bt.ops[0].type = TXC_MSG_TAG_ADD;
		bt.ops[0].tag = tag_req(TXC_TAG_FLOW, rq_id + 2, rq_source);
		bt.ops[0].tag.key.flow = kb;
		bt.ops[1].type = TXC_MSG_TAG_ADD;
		bt.ops[1].tag = tag_req(TXC_TAG_MARK, rq_id + 3, rq_source);
		bt.ops[1].tag.key.mark = 0x22;
		bt.ops[2].type = TXC_MSG_CANCEL;
		bt.ops[2].cancel = (struct txc_req_cancel){ .scope = TXC_SCOPE_ID, .value = rq_id + 2 };
		bt.ops[3].type = TXC_MSG_CANCEL;
		bt.ops[3].cancel = (struct txc_req_cancel){ .scope = TXC_SCOPE_ID, .value = rq_id + 3 };
		bt.ops[4].type = TXC_MSG_CLEAR;
		bt.ops[4].clear = (struct txc_req_clear){ .scope = TXC_SCOPE_ID, .value = rq_id + 3 };
		n = call(&root, TXC_MSG_BATCH, &bt, sizeof(bt), &rep);
		if (OK(n, &rep, "BATCH")) {
			ASSERT_EQ(n, HDR + sizeof(struct txc_rep_batch), "reply length");
			ASSERT_EQ(rep.batch.applied, 5, "applied");
			ASSERT_EQ(rep.batch.failed, TXC_FIELD_NONE, "failed");
		}
		rule_is(TXC_TAG_FLOW, &kb, rq_id + 2, rq_source, "op 0: flow rule");
		rule_is(TXC_TAG_MARK, &bt.ops[1].tag.key.mark, rq_id + 3, rq_source, "op 1: mark rule");
		ASSERT_TRUE(cancel_active(TXC_SCOPE_ID, rq_id + 2, NULL), "op 2: cancel");
		ASSERT_TRUE(!cancel_active(TXC_SCOPE_ID, rq_id + 3, NULL), "ops 3, 4: cancel, clear");
		explain_is(&root, 4, 4100, 5100, 0, rq_id + 2, rq_source, TXC_TAG_FLOW,
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
		bt.ops[2].clear = (struct txc_req_clear){ .scope = TXC_SCOPE_ID, .value = rq_id + 2 };
		n = call(&root, TXC_MSG_BATCH, &bt, sizeof(bt.b) + 3 * sizeof(bt.ops[0]), &rep);
		if (OK(n, &rep, "undoing BATCH"))
			ASSERT_EQ(rep.batch.applied, 3, "applied");
		ASSERT_TRUE(!rule_get(TXC_TAG_FLOW, &kb, NULL), "flow rule removed");
		ASSERT_TRUE(!cancel_active(TXC_SCOPE_ID, rq_id + 2, NULL), "cancel cleared");
	}
	test_sub_end();

	test_sub_begin("batch_max");
	{
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
			bt.ops[i].cancel.value = TXC_ID_MAKE(rq_prefix, 0x1000 + i / 2);
		}
		n = call(&root, TXC_MSG_BATCH, &bt, sizeof(bt), &rep);
		if (OK(n, &rep, "BATCH of 1000"))
			ASSERT_EQ(rep.batch.applied, TXC_BATCH_MAX, "applied");
		ASSERT_TRUE(!cancel_active(TXC_SCOPE_ID, TXC_ID_MAKE(rq_prefix, 0x1000), NULL),
			    "each cancel cleared by the op after it");
	}
	test_sub_end();

	test_sub_begin("batch_id_runs");
	{
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
			bt.ops[n_ops].cancel.value = TXC_ID_MAKE(rq_prefix, base + i);
		}
		bt.ops[n_ops].type = TXC_MSG_CANCEL;
		bt.ops[n_ops].cancel.scope = TXC_SCOPE_PREFIX;
		bt.ops[n_ops++].cancel.value = rq_prefix;
		for (i = 0; i < 300; i++, n_ops++) {
			bt.ops[n_ops].type = TXC_MSG_CLEAR;
			bt.ops[n_ops].clear.scope = TXC_SCOPE_ID;
			/* 0..299 even: canceled above; odd ones from 1001: never canceled */
			bt.ops[n_ops].clear.value = TXC_ID_MAKE(rq_prefix, base + (i % 2 ? 1000 + i : i));
		}
		bt.ops[n_ops].type = TXC_MSG_CLEAR;
		bt.ops[n_ops].clear.scope = TXC_SCOPE_PREFIX;
		bt.ops[n_ops++].clear.value = rq_prefix;
		for (i = 0; i < 100; i++, n_ops++) {
			bt.ops[n_ops].type = TXC_MSG_CANCEL;
			bt.ops[n_ops].cancel.scope = TXC_SCOPE_ID;
			bt.ops[n_ops].cancel.value = TXC_ID_MAKE(rq_prefix, base + 500 + i);
		}
		bt.b.count = n_ops;
		n = call(&root, TXC_MSG_BATCH, &bt, sizeof(bt.b) + n_ops * sizeof(bt.ops[0]), &rep);
		if (OK(n, &rep, "BATCH of runs")) {
			ASSERT_EQ(rep.batch.applied, n_ops, "every op applied");
			ASSERT_EQ(rep.batch.failed, TXC_FIELD_NONE, "none failed");
		}
		for (i = 0; i < 400; i++) {
			bool cleared = i < 300 && i % 2 == 0;

			ok &= cancel_active(TXC_SCOPE_ID, TXC_ID_MAKE(rq_prefix, base + i), NULL) ==
			      !cleared;
		}
		ASSERT_TRUE(ok, "the first run's cancels, less the even ones the clears named");
		ok = true;
		for (i = 1; i < 300; i += 2)
			ok &= !cancel_active(TXC_SCOPE_ID, TXC_ID_MAKE(rq_prefix, base + 1000 + i),
					     NULL);
		ASSERT_TRUE(ok, "clears of IDs without a cancel create nothing");
		ok = true;
		for (i = 0; i < 100; i++)
			ok &= cancel_active(TXC_SCOPE_ID, TXC_ID_MAKE(rq_prefix, base + 500 + i),
					    NULL);
		ASSERT_TRUE(ok, "the last run's cancels");
		ASSERT_TRUE(!cancel_active(TXC_SCOPE_PREFIX, rq_prefix, NULL),
			    "prefix cancel between the runs, cleared after them");

		/* Undo: one run of clears. */
		memset(&bt, 0, sizeof(bt));
		for (i = 0, n_ops = 0; i < 600; i++, n_ops++) {
			bt.ops[n_ops].type = TXC_MSG_CLEAR;
			bt.ops[n_ops].clear.scope = TXC_SCOPE_ID;
			bt.ops[n_ops].clear.value = TXC_ID_MAKE(rq_prefix, base + i);
		}
		bt.b.count = n_ops;
		n = call(&root, TXC_MSG_BATCH, &bt, sizeof(bt.b) + n_ops * sizeof(bt.ops[0]), &rep);
		if (OK(n, &rep, "BATCH of clears"))
			ASSERT_EQ(rep.batch.applied, n_ops, "every clear applied");
		ok = true;
		for (i = 0; i < 600; i++)
			ok &= !cancel_active(TXC_SCOPE_ID, TXC_ID_MAKE(rq_prefix, base + i), NULL);
		ASSERT_TRUE(ok, "all cleared");
	}
	test_sub_end();

	test_sub_begin("status");
	n = call(&root, TXC_MSG_STATUS, NULL, 0, &rep);
	if (OK(n, &rep, "STATUS")) {
		struct txc_rep_status *st = &rep.status;
		struct txc_status_client *cl = (void *)(rep.raw + sizeof(*st) +
							st->n_ifaces * sizeof(struct txc_status_iface));
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
	test_sub_end();

	test_sub_begin("abort_places");
	n = call(&root, TXC_MSG_ABORT_PLACES, NULL, 0, &rep);
	if (OK(n, &rep, "ABORT_PLACES")) {
		ASSERT_EQ(n, HDR + sizeof(struct txc_rep_list), "reply length: the list head");
		ASSERT_EQ(rep.list.count, 0, "no interface, no entry");
	}
	test_sub_end();

	test_sub_begin("explain");
	{
		__u8 frame[128];
		__u32 len = udp_frame(frame, 4, 9999, 9999);

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
		n = cancel(&root, TXC_SCOPE_PREFIX, rq_prefix, 0, &rep);
		OK(n, &rep, "CANCEL prefix");
		explain_is(&root, 4, 9999, 9999, 0, 0, 0, 0, TXC_VERDICT_PASS, 0,
			   "untagged frame under a prefix cancel");
		explain_is(&root, 4, 4000, 5001, 0, rq_id, rq_source, TXC_TAG_FLOW, TXC_VERDICT_DROP,
			   TXC_SCOPE_PREFIX, "flow frame under the prefix cancel");
		n = clear(&root, TXC_SCOPE_PREFIX, rq_prefix, &rep);
		OK(n, &rep, "CLEAR prefix");
		explain_is(&root, 4, 4000, 5001, 0, rq_id, rq_source, TXC_TAG_FLOW, TXC_VERDICT_PASS,
			   0, "flow frame after CLEAR");
	}
	test_sub_end();

	if (udp >= 0)
		close(udp);
}

/* ========================================================================== */
/* Validation: every malformed request is refused, and nobody else notices    */
/* ========================================================================== */

static struct peer vc;		/* the validation client (libtxcancel) */

/*
 * Send @len bytes of @m on the validation client and check the refusal:
 * errno, a word of the sentence, the refused field, the echoed seq and
 * type; then that the connection and the bystander are fine.
 */
static void refuse(const char *name, const struct msg *m, size_t len, int fd, int errnum,
		   const char *word, __u32 field)
{
	int n;

	test_sub_begin("%s", name);
	n = peer_send(&vc, m, len, &fd, fd >= 0, &rep);
	if (ERR(n, &rep, errnum, word, field, name) && len >= HDR) {
		ASSERT_EQ(rep.h.seq, m->h.seq, "seq echoed");
		ASSERT_EQ(rep.h.type, m->h.type, "type echoed");
		ASSERT_EQ(rep.h.magic, TXC_PROTO_MAGIC, "reply magic");
		ASSERT_EQ(rep.h.version, TXC_PROTO_VERSION, "reply version");
		ASSERT_EQ(rep.h.length, (__u32)n, "reply length field");
	}
	still_serving(&vc);
	test_sub_end();
}

/* A body of @type with one byte at @off set to @val. */
static size_t poke(struct msg *m, __u8 type, const void *body, size_t len, size_t off, __u8 val)
{
	size_t n = msg_make(m, type, body, len);

	((__u8 *)m)[off] = val;
	return n;
}

static void test_validation_header(void)
{
	static const __u8 zero[64];
	struct txc_req_hello hb = { .version = 1 };
	struct txc_req_prefix pb = {};
	size_t len;

	len = msg_make(&req, TXC_MSG_PREFIX_ALLOC, NULL, 0);
	refuse("header_only", &req, len, -1, -EINVAL, "PREFIX_ALLOC takes 32 bytes",
	       OFF(struct txc_msg_hdr, length));

	len = msg_make(&req, TXC_MSG_HELLO, zero, sizeof(hb) + 4);
	refuse("body_too_long", &req, len, -1, -EINVAL,
	       "HELLO takes 32 bytes", OFF(struct txc_msg_hdr, length));

	len = msg_make(&req, TXC_MSG_STATUS, zero, 4);
	refuse("body_on_empty_request", &req, len, -1, -EINVAL, "STATUS takes 24 bytes",
	       OFF(struct txc_msg_hdr, length));

	len = msg_make(&req, TXC_MSG_HELLO, &hb, sizeof(hb));
	req.h.magic = 0x12345678;
	refuse("bad_magic", &req, len, -1, -EPROTO, "magic", OFF(struct txc_msg_hdr, magic));

	len = msg_make(&req, TXC_MSG_HELLO, &hb, sizeof(hb));
	req.h.version = 2;
	refuse("version_2", &req, len, -1, -EPROTONOSUPPORT, "version 2",
	       OFF(struct txc_msg_hdr, version));

	len = msg_make(&req, TXC_MSG_HELLO, &hb, sizeof(hb));
	req.h.version = 0;
	refuse("version_0", &req, len, -1, -EPROTONOSUPPORT, "version 0",
	       OFF(struct txc_msg_hdr, version));

	len = msg_make(&req, 0, &hb, sizeof(hb));
	refuse("type_0", &req, len, -1, -EBADMSG, "type 0", OFF(struct txc_msg_hdr, type));

	len = msg_make(&req, 99, &hb, sizeof(hb));
	refuse("type_99", &req, len, -1, -EBADMSG, "type 99", OFF(struct txc_msg_hdr, type));

	len = msg_make(&req, TXC_MSG_REQUEST_MAX + 1, &hb, sizeof(hb));
	refuse("type_past_max", &req, len, -1, -EBADMSG, "not a request",
	       OFF(struct txc_msg_hdr, type));

	len = msg_make(&req, TXC_MSG_COMPLETIONS, &hb, sizeof(hb));
	refuse("event_type_as_request", &req, len, -1, -EBADMSG, "not a request",
	       OFF(struct txc_msg_hdr, type));

	len = msg_make(&req, TXC_MSG_HELLO, &hb, sizeof(hb));
	req.h.flags = TXC_MSG_F_REPLY;
	refuse("flags_reply", &req, len, -1, -EINVAL, "flags", OFF(struct txc_msg_hdr, flags));

	len = msg_make(&req, TXC_MSG_HELLO, &hb, sizeof(hb));
	req.h.flags = 0x8000;
	refuse("flags_unknown", &req, len, -1, -EINVAL, "flags 0x8000",
	       OFF(struct txc_msg_hdr, flags));

	len = msg_make(&req, TXC_MSG_HELLO, &hb, sizeof(hb));
	req.h.length += 4;
	refuse("length_larger", &req, len, -1, -EINVAL, "header says 36 bytes",
	       OFF(struct txc_msg_hdr, length));

	len = msg_make(&req, TXC_MSG_HELLO, &hb, sizeof(hb));
	req.h.length = HDR;
	refuse("length_smaller", &req, len, -1, -EINVAL, "header says 24 bytes",
	       OFF(struct txc_msg_hdr, length));

	len = msg_make(&req, TXC_MSG_HELLO, &hb, sizeof(hb));
	req.h.error = -1;
	refuse("hdr_error_set", &req, len, -1, -EINVAL, "must be zero",
	       OFF(struct txc_msg_hdr, error));

	len = msg_make(&req, TXC_MSG_HELLO, &hb, sizeof(hb));
	req.h.reserved = 1;
	refuse("hdr_reserved_set", &req, len, -1, -EINVAL, "reserved", FIELD_ANY);

	len = poke(&req, TXC_MSG_HELLO, &hb, sizeof(hb), HDR + OFF(struct txc_req_hello, reserved), 1);
	refuse("hello_reserved", &req, len, -1, -EINVAL, "reserved",
	       HDR + OFF(struct txc_req_hello, reserved));

	hb.version = 0;
	len = msg_make(&req, TXC_MSG_HELLO, &hb, sizeof(hb));
	refuse("hello_version_0", &req, len, -1, -EPROTONOSUPPORT, "version 0", FIELD_ANY);

	len = poke(&req, TXC_MSG_PREFIX_ALLOC, &pb, sizeof(pb),
		   HDR + OFF(struct txc_req_prefix, reserved) + 3, 1);
	refuse("prefix_alloc_reserved", &req, len, -1, -EINVAL, "reserved",
	       HDR + OFF(struct txc_req_prefix, reserved));

	len = poke(&req, TXC_MSG_PREFIX_FREE, &pb, sizeof(pb),
		   HDR + OFF(struct txc_req_prefix, reserved), 1);
	refuse("prefix_free_reserved", &req, len, -1, -EINVAL, "reserved",
	       HDR + OFF(struct txc_req_prefix, reserved));

	pb.prefix = 256;
	len = msg_make(&req, TXC_MSG_PREFIX_ALLOC, &pb, sizeof(pb));
	refuse("prefix_256", &req, len, -1, -EINVAL, "prefix 256",
	       HDR + OFF(struct txc_req_prefix, prefix));

	pb.prefix = 0;
	len = msg_make(&req, TXC_MSG_PREFIX_FREE, &pb, sizeof(pb));
	refuse("prefix_free_0", &req, len, -1, -EINVAL, "prefix 0",
	       HDR + OFF(struct txc_req_prefix, prefix));
}

static void test_validation_source(void)
{
	static const __u8 types[] = {
		TXC_MSG_SOURCE_OPEN, TXC_MSG_SOURCE_CLOSE, TXC_MSG_SUBSCRIBE, TXC_MSG_UNSUBSCRIBE,
	};
	static const char *const names[] = { "open", "close", "subscribe", "unsubscribe" };
	char name[64];

	for (size_t i = 0; i < ARRAY_SIZE(types); i++) {
		struct txc_req_source sb = {};
		size_t len;

		len = poke(&req, types[i], &sb, sizeof(sb), HDR + OFF(struct txc_req_source, reserved), 1);
		snprintf(name, sizeof(name), "source_%s_reserved", names[i]);
		refuse(name, &req, len, -1, -EINVAL, "reserved",
		       HDR + OFF(struct txc_req_source, reserved));

		sb.source = TXC_MAX_SOURCES;
		len = msg_make(&req, types[i], &sb, sizeof(sb));
		snprintf(name, sizeof(name), "source_%s_4096", names[i]);
		refuse(name, &req, len, -1, -EINVAL, "source 4096",
		       HDR + OFF(struct txc_req_source, source));

		if (types[i] == TXC_MSG_SOURCE_OPEN)
			continue;
		sb.source = 0;
		len = msg_make(&req, types[i], &sb, sizeof(sb));
		snprintf(name, sizeof(name), "source_%s_0", names[i]);
		refuse(name, &req, len, -1, -EINVAL, "source 0",
		       HDR + OFF(struct txc_req_source, source));
	}
}

static void test_validation_tag(void)
{
	const __u32 key = HDR + OFF(struct txc_req_tag, key);
	struct txc_req_tag t;
	size_t len;

	/* A valid TAG_ADD to start from: flow, under the bystander's prefix and source. */
#define TAG_BASE() do {								\
		t = tag_req(TXC_TAG_FLOW, TXC_ID_MAKE(by_prefix, 7), by_source);	\
		t.key.flow = flow_key(4, 1, 2);						\
	} while (0)

	TAG_BASE();
	t.reserved0[1] = 1;
	len = msg_make(&req, TXC_MSG_TAG_ADD, &t, sizeof(t));
	refuse("tag_reserved0", &req, len, -1, -EINVAL, "reserved",
	       HDR + OFF(struct txc_req_tag, reserved0));

	TAG_BASE();
	t.reserved1 = 1;
	len = msg_make(&req, TXC_MSG_TAG_ADD, &t, sizeof(t));
	refuse("tag_reserved1", &req, len, -1, -EINVAL, "reserved", FIELD_ANY);

	TAG_BASE();
	t.kind = 0;
	len = msg_make(&req, TXC_MSG_TAG_ADD, &t, sizeof(t));
	refuse("tag_kind_0", &req, len, -1, -EINVAL, "tag kind 0",
	       HDR + OFF(struct txc_req_tag, kind));

	TAG_BASE();
	t.kind = TXC_TAG_KIND_MAX + 1;
	len = msg_make(&req, TXC_MSG_TAG_DEL, &t, sizeof(t));
	refuse("tag_kind_5", &req, len, -1, -EINVAL, "tag kind 5",
	       HDR + OFF(struct txc_req_tag, kind));

	t = tag_req(TXC_TAG_MARK, TXC_ID_MAKE(by_prefix, 7), by_source);
	t.key.mark = 0x33;
	t.key.raw[4] = 1;
	len = msg_make(&req, TXC_MSG_TAG_ADD, &t, sizeof(t));
	refuse("mark_key_bytes_past_4", &req, len, -1, -EINVAL, "past the 4 bytes", key + 4);

	t = tag_req(TXC_TAG_CGROUP, TXC_ID_MAKE(by_prefix, 7), by_source);
	t.key.cgroup_id = 77;
	t.key.raw[39] = 1;
	len = msg_make(&req, TXC_MSG_TAG_ADD, &t, sizeof(t));
	refuse("cgroup_key_bytes_past_8", &req, len, -1, -EINVAL, "past the 8 bytes", key + 8);

	memset(&t, 0, sizeof(t));
	t.kind = TXC_TAG_SOCKET;
	t.key.socket_cookie = 5;
	t.key.raw[8] = 1;
	len = msg_make(&req, TXC_MSG_TAG_DEL, &t, sizeof(t));
	refuse("socket_del_key_bytes_past_8", &req, len, -1, -EINVAL, "past the 8 bytes", key + 8);

	TAG_BASE();
	t.key.flow.family = 5;
	len = msg_make(&req, TXC_MSG_TAG_ADD, &t, sizeof(t));
	refuse("flow_family_5", &req, len, -1, -EINVAL, "family 5",
	       key + OFF(struct txc_flow_key, family));

	TAG_BASE();
	t.key.flow.reserved = 1;
	len = msg_make(&req, TXC_MSG_TAG_ADD, &t, sizeof(t));
	refuse("flow_reserved", &req, len, -1, -EINVAL, "reserved",
	       key + OFF(struct txc_flow_key, reserved));

	TAG_BASE();
	t.key.flow.saddr[4] = 1;
	len = msg_make(&req, TXC_MSG_TAG_ADD, &t, sizeof(t));
	refuse("flow_v4_saddr_bytes_4_15", &req, len, -1, -EINVAL, "4..15", FIELD_ANY);

	TAG_BASE();
	t.key.flow.daddr[15] = 1;
	len = msg_make(&req, TXC_MSG_TAG_ADD, &t, sizeof(t));
	refuse("flow_v4_daddr_bytes_4_15", &req, len, -1, -EINVAL, "4..15", FIELD_ANY);

	TAG_BASE();
	t.cancel_id = 0x00000007;
	len = msg_make(&req, TXC_MSG_TAG_ADD, &t, sizeof(t));
	refuse("tag_id_prefix_0", &req, len, -1, -EINVAL, "prefix 0",
	       HDR + OFF(struct txc_req_tag, cancel_id));

	TAG_BASE();
	t.source = 0;
	len = msg_make(&req, TXC_MSG_TAG_ADD, &t, sizeof(t));
	refuse("tag_source_0", &req, len, -1, -EINVAL, "source 0",
	       HDR + OFF(struct txc_req_tag, source));

	TAG_BASE();
	t.source = TXC_MAX_SOURCES;
	len = msg_make(&req, TXC_MSG_TAG_ADD, &t, sizeof(t));
	refuse("tag_source_4096", &req, len, -1, -EINVAL, "source 4096",
	       HDR + OFF(struct txc_req_tag, source));

	t = tag_req(TXC_TAG_SOCKET, TXC_ID_MAKE(by_prefix, 7), by_source);
	t.key.socket_cookie = 1234;
	len = msg_make(&req, TXC_MSG_TAG_ADD, &t, sizeof(t));
	refuse("socket_add_with_cookie", &req, len, -1, -EINVAL, "cookie must be 0", key);

	TAG_BASE();
	len = msg_make(&req, TXC_MSG_TAG_DEL, &t, sizeof(t));
	refuse("tag_del_with_id_and_source", &req, len, -1, -EINVAL, "must be 0",
	       HDR + OFF(struct txc_req_tag, cancel_id));

	memset(&t, 0, sizeof(t));
	t.kind = TXC_TAG_SOCKET;
	len = msg_make(&req, TXC_MSG_TAG_DEL, &t, sizeof(t));
	refuse("socket_del_without_socket", &req, len, -1, -EBADF, "SCM_RIGHTS", TXC_FIELD_NONE);

	t = tag_req(TXC_TAG_CGROUP, TXC_ID_MAKE(by_prefix, 7), by_source);
	len = msg_make(&req, TXC_MSG_TAG_ADD, &t, sizeof(t));
	refuse("cgroup_id_0", &req, len, -1, -EINVAL, "cgroup id 0", key);

	t = tag_req(TXC_TAG_MARK, TXC_ID_MAKE(by_prefix, 7), by_source);
	len = msg_make(&req, TXC_MSG_TAG_ADD, &t, sizeof(t));
	refuse("mark_0", &req, len, -1, -EINVAL, "mark 0", key);
#undef TAG_BASE
}

static void test_validation_cancel(void)
{
	const __u32 value = HDR + OFF(struct txc_req_cancel, value);
	struct txc_req_cancel c;
	struct txc_req_clear cl;
	struct txc_req_stats st;
	struct txc_req_count_id ci;
	size_t len;

	c = (struct txc_req_cancel){ .scope = 0, .value = TXC_ID_MAKE(by_prefix, 7) };
	len = msg_make(&req, TXC_MSG_CANCEL, &c, sizeof(c));
	refuse("cancel_scope_0", &req, len, -1, -EINVAL, "scope 0",
	       HDR + OFF(struct txc_req_cancel, scope));

	c.scope = 4;
	len = msg_make(&req, TXC_MSG_CANCEL, &c, sizeof(c));
	refuse("cancel_scope_4", &req, len, -1, -EINVAL, "scope 4",
	       HDR + OFF(struct txc_req_cancel, scope));

	c.scope = TXC_SCOPE_ID;
	c.reserved0[2] = 1;
	len = msg_make(&req, TXC_MSG_CANCEL, &c, sizeof(c));
	refuse("cancel_reserved", &req, len, -1, -EINVAL, "reserved",
	       HDR + OFF(struct txc_req_cancel, reserved0));

	c = (struct txc_req_cancel){ .scope = TXC_SCOPE_ID, .value = TXC_ID_MAKE(by_prefix, 7) };
	memset(c.ifname, 'x', sizeof(c.ifname));
	len = msg_make(&req, TXC_MSG_CANCEL, &c, sizeof(c));
	refuse("cancel_ifname_without_nul", &req, len, -1, -EINVAL, "NUL",
	       HDR + OFF(struct txc_req_cancel, ifname));

	c = (struct txc_req_cancel){ .scope = TXC_SCOPE_ID, .value = TXC_ID_MAKE(by_prefix, 7) };
	memcpy(c.ifname, "lo\0junk", 7);
	len = msg_make(&req, TXC_MSG_CANCEL, &c, sizeof(c));
	refuse("cancel_ifname_bytes_after_nul", &req, len, -1, -EINVAL, "after the NUL",
	       HDR + OFF(struct txc_req_cancel, ifname));

	/* "lo" exists but this daemon manages no interface. */
	c = (struct txc_req_cancel){ .scope = TXC_SCOPE_ID, .value = TXC_ID_MAKE(by_prefix, 7) };
	strcpy(c.ifname, "lo");
	len = msg_make(&req, TXC_MSG_CANCEL, &c, sizeof(c));
	refuse("cancel_unmanaged_ifname", &req, len, -1, -ENODEV, "lo is not managed",
	       HDR + OFF(struct txc_req_cancel, ifname));

	strcpy(c.ifname, "txcnosuch0");
	len = msg_make(&req, TXC_MSG_CANCEL, &c, sizeof(c));
	refuse("cancel_unknown_ifname", &req, len, -1, -ENODEV, "txcnosuch0",
	       HDR + OFF(struct txc_req_cancel, ifname));

	c = (struct txc_req_cancel){ .scope = TXC_SCOPE_ID, .value = 0x00000007 };
	len = msg_make(&req, TXC_MSG_CANCEL, &c, sizeof(c));
	refuse("cancel_id_prefix_0", &req, len, -1, -EINVAL, "prefix 0", value);

	c = (struct txc_req_cancel){ .scope = TXC_SCOPE_ID, .value = 0 };
	len = msg_make(&req, TXC_MSG_CANCEL, &c, sizeof(c));
	refuse("cancel_id_0", &req, len, -1, -EINVAL, "prefix 0", value);

	c = (struct txc_req_cancel){ .scope = TXC_SCOPE_PREFIX, .value = 0 };
	len = msg_make(&req, TXC_MSG_CANCEL, &c, sizeof(c));
	refuse("cancel_prefix_0", &req, len, -1, -EINVAL, "prefix 0", value);

	c = (struct txc_req_cancel){ .scope = TXC_SCOPE_PREFIX, .value = 256 };
	len = msg_make(&req, TXC_MSG_CANCEL, &c, sizeof(c));
	refuse("cancel_prefix_256", &req, len, -1, -EINVAL, "prefix 256", value);

	c = (struct txc_req_cancel){ .scope = TXC_SCOPE_SOURCE, .value = 0 };
	len = msg_make(&req, TXC_MSG_CANCEL, &c, sizeof(c));
	refuse("cancel_source_0", &req, len, -1, -EINVAL, "source 0", value);

	c = (struct txc_req_cancel){ .scope = TXC_SCOPE_SOURCE, .value = TXC_MAX_SOURCES };
	len = msg_make(&req, TXC_MSG_CANCEL, &c, sizeof(c));
	refuse("cancel_source_4096", &req, len, -1, -EINVAL, "source 4096", value);

	cl = (struct txc_req_clear){ .scope = 0, .value = 1 };
	len = msg_make(&req, TXC_MSG_CLEAR, &cl, sizeof(cl));
	refuse("clear_scope_0", &req, len, -1, -EINVAL, "scope 0",
	       HDR + OFF(struct txc_req_clear, scope));

	cl = (struct txc_req_clear){ .scope = 4, .value = 1 };
	len = msg_make(&req, TXC_MSG_CLEAR, &cl, sizeof(cl));
	refuse("clear_scope_4", &req, len, -1, -EINVAL, "scope 4",
	       HDR + OFF(struct txc_req_clear, scope));

	cl = (struct txc_req_clear){ .scope = TXC_SCOPE_PREFIX, .value = by_prefix };
	cl.reserved0[0] = 1;
	len = msg_make(&req, TXC_MSG_CLEAR, &cl, sizeof(cl));
	refuse("clear_reserved", &req, len, -1, -EINVAL, "reserved",
	       HDR + OFF(struct txc_req_clear, reserved0));

	cl = (struct txc_req_clear){ .scope = TXC_SCOPE_ID, .value = 5 };
	len = msg_make(&req, TXC_MSG_CLEAR, &cl, sizeof(cl));
	refuse("clear_id_prefix_0", &req, len, -1, -EINVAL, "prefix 0",
	       HDR + OFF(struct txc_req_clear, value));

	st = (struct txc_req_stats){ .scope = TXC_SCOPE_PREFIX, .value = by_prefix };
	len = msg_make(&req, TXC_MSG_STATS, &st, sizeof(st));
	refuse("stats_scope_prefix", &req, len, -1, -EINVAL, "stats scope 2",
	       HDR + OFF(struct txc_req_stats, scope));

	st = (struct txc_req_stats){ .scope = 0 };
	len = msg_make(&req, TXC_MSG_STATS, &st, sizeof(st));
	refuse("stats_scope_0", &req, len, -1, -EINVAL, "stats scope 0",
	       HDR + OFF(struct txc_req_stats, scope));

	st = (struct txc_req_stats){ .scope = TXC_SCOPE_SOURCE };
	st.reserved0[1] = 1;
	len = msg_make(&req, TXC_MSG_STATS, &st, sizeof(st));
	refuse("stats_reserved", &req, len, -1, -EINVAL, "reserved",
	       HDR + OFF(struct txc_req_stats, reserved0));

	st = (struct txc_req_stats){ .scope = TXC_SCOPE_ID, .value = 9 };
	len = msg_make(&req, TXC_MSG_STATS, &st, sizeof(st));
	refuse("stats_id_prefix_0", &req, len, -1, -EINVAL, "prefix 0",
	       HDR + OFF(struct txc_req_stats, value));

	ci = (struct txc_req_count_id){ .cancel_id = 0x00000001, .enable = 1 };
	len = msg_make(&req, TXC_MSG_COUNT_ID, &ci, sizeof(ci));
	refuse("count_id_prefix_0", &req, len, -1, -EINVAL, "prefix 0",
	       HDR + OFF(struct txc_req_count_id, cancel_id));

	ci = (struct txc_req_count_id){ .cancel_id = TXC_ID_MAKE(by_prefix, 7), .enable = 2 };
	len = msg_make(&req, TXC_MSG_COUNT_ID, &ci, sizeof(ci));
	refuse("count_id_enable_2", &req, len, -1, -EINVAL, "enable",
	       HDR + OFF(struct txc_req_count_id, enable));
}

static void test_validation_batch(void)
{
	static struct {
		struct txc_req_batch b;
		struct txc_batch_op ops[TXC_BATCH_MAX + 1];
	} bt;
	const __u32 op0 = HDR + sizeof(struct txc_req_batch);
	const __u32 opsz = sizeof(struct txc_batch_op);
	const __u32 raw = OFF(struct txc_batch_op, raw);
	size_t len;

	/* Three valid ops to start from: clear an ID, a prefix, a source of the bystander. */
#define BATCH_BASE(n) do {							\
		memset(&bt, 0, sizeof(bt));					\
		bt.b.count = (n);						\
		for (__u32 i_ = 0; i_ < (n); i_++) {				\
			bt.ops[i_].type = TXC_MSG_CLEAR;			\
			bt.ops[i_].clear.scope = TXC_SCOPE_ID;			\
			bt.ops[i_].clear.value = TXC_ID_MAKE(by_prefix, 100 + i_);	\
		}								\
	} while (0)
#define BATCH_LEN(n)	(sizeof(bt.b) + (n) * sizeof(bt.ops[0]))

	BATCH_BASE(3);
	bt.b.reserved = 1;
	len = msg_make(&req, TXC_MSG_BATCH, &bt, BATCH_LEN(3));
	refuse("batch_reserved", &req, len, -1, -EINVAL, "reserved",
	       HDR + OFF(struct txc_req_batch, reserved));

	BATCH_BASE(1);
	bt.b.count = 0;
	len = msg_make(&req, TXC_MSG_BATCH, &bt, BATCH_LEN(0));
	refuse("batch_count_0", &req, len, -1, -EINVAL, "count 0",
	       HDR + OFF(struct txc_req_batch, count));

	BATCH_BASE(TXC_BATCH_MAX + 1);
	len = msg_make(&req, TXC_MSG_BATCH, &bt, BATCH_LEN(TXC_BATCH_MAX + 1));
	refuse("batch_count_1001", &req, len, -1, -EINVAL, "count 1001",
	       HDR + OFF(struct txc_req_batch, count));

	BATCH_BASE(3);
	len = msg_make(&req, TXC_MSG_BATCH, &bt, BATCH_LEN(2));
	refuse("batch_truncated", &req, len, -1, -EINVAL, "truncated",
	       HDR + OFF(struct txc_req_batch, count));

	BATCH_BASE(2);
	len = msg_make(&req, TXC_MSG_BATCH, &bt, BATCH_LEN(3));
	refuse("batch_padded", &req, len, -1, -EINVAL, "padded",
	       HDR + OFF(struct txc_req_batch, count));

	BATCH_BASE(2);
	bt.b.count = 1;
	len = msg_make(&req, TXC_MSG_BATCH, &bt, sizeof(bt.b) + 10);
	refuse("batch_partial_op", &req, len, -1, -EINVAL, "truncated",
	       HDR + OFF(struct txc_req_batch, count));

	len = msg_make(&req, TXC_MSG_BATCH, &bt, 4);
	refuse("batch_shorter_than_head", &req, len, -1, -EINVAL, "BATCH takes",
	       OFF(struct txc_msg_hdr, length));

	BATCH_BASE(3);
	bt.ops[1].reserved[6] = 1;
	len = msg_make(&req, TXC_MSG_BATCH, &bt, BATCH_LEN(3));
	refuse("batch_op_reserved", &req, len, -1, -EINVAL, "batch op 1",
	       op0 + opsz + OFF(struct txc_batch_op, reserved));

	BATCH_BASE(3);
	bt.ops[2].type = 99;
	len = msg_make(&req, TXC_MSG_BATCH, &bt, BATCH_LEN(3));
	refuse("batch_op_type_99", &req, len, -1, -EINVAL, "op type 99", op0 + 2 * opsz);

	BATCH_BASE(3);
	bt.ops[0].type = TXC_MSG_HELLO;
	len = msg_make(&req, TXC_MSG_BATCH, &bt, BATCH_LEN(3));
	refuse("batch_op_hello", &req, len, -1, -EINVAL, "op type 1", op0);

	BATCH_BASE(3);
	bt.ops[1].type = TXC_MSG_BATCH;
	len = msg_make(&req, TXC_MSG_BATCH, &bt, BATCH_LEN(3));
	refuse("batch_op_batch", &req, len, -1, -EINVAL, "op type 15", op0 + opsz);

	BATCH_BASE(3);
	memset(&bt.ops[1], 0, sizeof(bt.ops[1]));
	bt.ops[1].type = TXC_MSG_TAG_ADD;
	bt.ops[1].tag = tag_req(TXC_TAG_SOCKET, TXC_ID_MAKE(by_prefix, 1), by_source);
	len = msg_make(&req, TXC_MSG_BATCH, &bt, BATCH_LEN(3));
	refuse("batch_socket_tag_add", &req, len, -1, -EINVAL, "cannot be batched",
	       op0 + opsz + raw + OFF(struct txc_req_tag, kind));

	BATCH_BASE(3);
	bt.ops[2].raw[sizeof(struct txc_req_clear)] = 1;
	len = msg_make(&req, TXC_MSG_BATCH, &bt, BATCH_LEN(3));
	refuse("batch_clear_bytes_past", &req, len, -1, -EINVAL, "past its 8-byte",
	       op0 + 2 * opsz + raw + sizeof(struct txc_req_clear));

	BATCH_BASE(3);
	memset(&bt.ops[0], 0, sizeof(bt.ops[0]));
	bt.ops[0].type = TXC_MSG_CANCEL;
	bt.ops[0].cancel = (struct txc_req_cancel){ .scope = TXC_SCOPE_PREFIX, .value = by_prefix };
	bt.ops[0].raw[sizeof(struct txc_req_cancel) + 5] = 1;
	len = msg_make(&req, TXC_MSG_BATCH, &bt, BATCH_LEN(3));
	refuse("batch_cancel_bytes_past", &req, len, -1, -EINVAL, "past its 32-byte",
	       op0 + raw + sizeof(struct txc_req_cancel));

	BATCH_BASE(3);
	bt.ops[0].clear.scope = 0;
	len = msg_make(&req, TXC_MSG_BATCH, &bt, BATCH_LEN(3));
	refuse("batch_clear_scope_0", &req, len, -1, -EINVAL, "batch op 0: scope 0",
	       op0 + raw + OFF(struct txc_req_clear, scope));

	BATCH_BASE(3);
	memset(&bt.ops[2], 0, sizeof(bt.ops[2]));
	bt.ops[2].type = TXC_MSG_TAG_ADD;
	bt.ops[2].tag = tag_req(7, TXC_ID_MAKE(by_prefix, 1), by_source);
	len = msg_make(&req, TXC_MSG_BATCH, &bt, BATCH_LEN(3));
	refuse("batch_tag_kind_7", &req, len, -1, -EINVAL, "batch op 2: tag kind 7",
	       op0 + 2 * opsz + raw + OFF(struct txc_req_tag, kind));

	BATCH_BASE(3);
	memset(&bt.ops[1], 0, sizeof(bt.ops[1]));
	bt.ops[1].type = TXC_MSG_TAG_ADD;
	bt.ops[1].tag = tag_req(TXC_TAG_FLOW, TXC_ID_MAKE(by_prefix, 1), by_source);
	bt.ops[1].tag.key.flow = flow_key(4, 1, 2);
	bt.ops[1].tag.reserved1 = 9;
	len = msg_make(&req, TXC_MSG_BATCH, &bt, BATCH_LEN(3));
	refuse("batch_tag_reserved", &req, len, -1, -EINVAL, "batch op 1: tag request reserved",
	       FIELD_ANY);

	BATCH_BASE(3);
	memset(&bt.ops[1], 0, sizeof(bt.ops[1]));
	bt.ops[1].type = TXC_MSG_CANCEL;
	bt.ops[1].cancel.scope = TXC_SCOPE_ID;
	bt.ops[1].cancel.value = TXC_ID_MAKE(by_prefix, 1);
	memset(bt.ops[1].cancel.ifname, 'e', 16);
	len = msg_make(&req, TXC_MSG_BATCH, &bt, BATCH_LEN(3));
	refuse("batch_cancel_ifname_without_nul", &req, len, -1, -EINVAL, "NUL",
	       op0 + opsz + raw + OFF(struct txc_req_cancel, ifname));
#undef BATCH_BASE
#undef BATCH_LEN
}

static void test_validation_explain(void)
{
	static struct txc_req_explain e;
	__u8 frame[128];
	__u32 flen = udp_frame(frame, 4, 1, 2);
	size_t len;

	memset(&e, 0, sizeof(e));
	memcpy(e.frame, frame, flen);
	e.frame_len = 13;
	len = msg_make(&req, TXC_MSG_EXPLAIN, &e, sizeof(e));
	refuse("explain_frame_len_13", &req, len, -1, -EINVAL, "frame length 13",
	       HDR + OFF(struct txc_req_explain, frame_len));

	e.frame_len = TXC_EXPLAIN_FRAME_MAX + 1;
	len = msg_make(&req, TXC_MSG_EXPLAIN, &e, sizeof(e));
	refuse("explain_frame_len_513", &req, len, -1, -EINVAL, "frame length 513",
	       HDR + OFF(struct txc_req_explain, frame_len));

	e.frame_len = 0;
	len = msg_make(&req, TXC_MSG_EXPLAIN, &e, sizeof(e));
	refuse("explain_frame_len_0", &req, len, -1, -EINVAL, "frame length 0",
	       HDR + OFF(struct txc_req_explain, frame_len));

	e.frame_len = 20;
	len = msg_make(&req, TXC_MSG_EXPLAIN, &e, sizeof(e));
	refuse("explain_bytes_past_frame_len", &req, len, -1, -EINVAL, "past frame_len",
	       HDR + OFF(struct txc_req_explain, frame) + 20);

	memset(e.frame + flen, 0, sizeof(e.frame) - flen);
	e.frame_len = flen;
	memset(e.ifname, 'y', sizeof(e.ifname));
	len = msg_make(&req, TXC_MSG_EXPLAIN, &e, sizeof(e));
	refuse("explain_ifname_without_nul", &req, len, -1, -EINVAL, "NUL",
	       HDR + OFF(struct txc_req_explain, ifname));

	memset(e.ifname, 0, sizeof(e.ifname));
	strcpy(e.ifname, "txcnosuch0");
	len = msg_make(&req, TXC_MSG_EXPLAIN, &e, sizeof(e));
	refuse("explain_unknown_ifname", &req, len, -1, -ENODEV, "txcnosuch0",
	       HDR + OFF(struct txc_req_explain, ifname));

	len = msg_make(&req, TXC_MSG_EXPLAIN, &e, sizeof(e) - 1);
	refuse("explain_short_body", &req, len, -1, -EINVAL, "EXPLAIN takes 560 bytes",
	       OFF(struct txc_msg_hdr, length));
}

/* What libtxcancel cannot send: no header, too big, several descriptors. */
static void test_validation_raw(void)
{
	struct peer r;
	int n;

	test_sub_begin("shorter_than_header");
	if (ASSERT_OK(peer_open_raw(&r), "raw connection") && peer_hello(&r)) {
		static const __u8 junk[10] = { 0x54, 0x58, 0x43, 0x31 };

		n = raw_send(r.fd, junk, sizeof(junk), NULL, 0);
		if (ASSERT_OK(n, "send 10 bytes"))
			n = raw_recv(r.fd, &rep);
		if (ERR(n, &rep, -EINVAL, "shorter than the 24-byte header", TXC_FIELD_NONE,
			"10-byte message")) {
			/* Nothing to echo: type and seq 0. */
			ASSERT_EQ(rep.h.seq, 0, "seq");
			ASSERT_EQ(rep.h.type, 0, "type");
		}
		still_serving(&r);
	}
	peer_close(&r);
	test_sub_end();

	test_sub_begin("empty_packet");
	/*
	 * A zero-byte packet reads like the end of the stream (recv returns
	 * 0), so the daemon may either refuse it or take it as a close; either
	 * way it must go on serving everyone, this client on a new connection.
	 */
	if (ASSERT_OK(peer_open_raw(&r), "raw connection") && peer_hello(&r)) {
		n = raw_send(r.fd, "", 0, NULL, 0);
		if (ASSERT_OK(n, "send an empty packet"))
			n = raw_recv(r.fd, &rep);
		if (n == -ECONNRESET || n == 0) {
			peer_close(&r);
			if (ASSERT_OK(peer_open_raw(&r), "a new connection"))
				still_serving(&r);
		} else if (ERR(n, &rep, -EINVAL, "message of 0 bytes", TXC_FIELD_NONE,
			       "empty message")) {
			still_serving(&r);
		}
	}
	peer_close(&r);
	test_sub_end();

	test_sub_begin("oversized");
	if (ASSERT_OK(peer_open_raw(&r), "raw connection") && peer_hello(&r)) {
		static const struct txc_req_hello hb = { .version = 1 };
		int sndbuf = 4 << 20;
		size_t len = msg_make(&req, TXC_MSG_HELLO, &hb, sizeof(hb));

		/* A well-formed header announcing the real size, and 100 bytes past the limit. */
		len = TXC_MSG_MAX + 100;
		req.h.length = len;
		setsockopt(r.fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
		n = raw_send(r.fd, &req, len, NULL, 0);
		if (ASSERT_OK(n, "send 65636 bytes"))
			n = raw_recv(r.fd, &rep);
		if (ERR(n, &rep, -EMSGSIZE, "65536-byte maximum", TXC_FIELD_NONE, "oversized"))
			ASSERT_EQ(rep.h.seq, req.h.seq, "seq echoed from the first bytes");
		still_serving(&r);
	}
	peer_close(&r);
	test_sub_end();
}

/* Descriptors passed with SCM_RIGHTS: only one, only a socket, only with TAG_ADD. */
static void test_validation_fds(void)
{
	struct txc_req_tag t = tag_req(TXC_TAG_SOCKET, TXC_ID_MAKE(by_prefix, 9), by_source);
	struct txc_req_hello hb = { .version = 1 };
	int pipefd[2] = { -1, -1 }, socks[5], fds_before, n;
	struct peer r = { .fd = -1 };
	__u64 cookie0 = 0;
	size_t len;

	for (int i = 0; i < 5; i++)
		socks[i] = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	getsockopt(socks[0], SOL_SOCKET, SO_COOKIE, &cookie0, &(socklen_t){ sizeof(cookie0) });
	if (pipe2(pipefd, O_CLOEXEC))
		pipefd[0] = pipefd[1] = -1;
	fds_before = daemon_fd_count();

	len = msg_make(&req, TXC_MSG_HELLO, &hb, sizeof(hb));
	refuse("fd_with_hello", &req, len, socks[0], -EINVAL, "file descriptor", TXC_FIELD_NONE);

	{
		struct txc_req_tag m = tag_req(TXC_TAG_MARK, TXC_ID_MAKE(by_prefix, 9), by_source);

		m.key.mark = 0x44;
		len = msg_make(&req, TXC_MSG_TAG_ADD, &m, sizeof(m));
		refuse("fd_with_mark_tag", &req, len, socks[0], -EINVAL,
		       "only socket tags take a file descriptor", TXC_FIELD_NONE);
		ASSERT_TRUE(!rule_get(TXC_TAG_MARK, &m.key.mark, NULL), "no mark rule added");
	}

	len = msg_make(&req, TXC_MSG_TAG_ADD, &t, sizeof(t));
	refuse("socket_tag_with_pipe", &req, len, pipefd[0], -ENOTSOCK, "not a socket",
	       TXC_FIELD_NONE);

	len = msg_make(&req, TXC_MSG_TAG_ADD, &t, sizeof(t));
	refuse("socket_tag_without_fd", &req, len, -1, -EBADF, "without a socket",
	       TXC_FIELD_NONE);

	/* A bad message and a descriptor: the message is refused, the descriptor closed. */
	len = msg_make(&req, TXC_MSG_TAG_ADD, &t, sizeof(t));
	req.h.reserved = 3;
	refuse("fd_with_bad_header", &req, len, socks[0], -EINVAL, "reserved", FIELD_ANY);

	test_sub_begin("two_fds");
	if (ASSERT_OK(peer_open_raw(&r), "raw connection") && peer_hello(&r)) {
		len = msg_make(&req, TXC_MSG_TAG_ADD, &t, sizeof(t));
		n = peer_send(&r, &req, len, socks, 2, &rep);
		ERR(n, &rep, -EINVAL, "2 file descriptors", TXC_FIELD_NONE, "two sockets");
		ASSERT_TRUE(!rule_get(TXC_TAG_SOCKET, &cookie0, NULL), "no rule for the first socket");
		still_serving(&r);
	}
	test_sub_end();

	test_sub_begin("five_fds");
	if (r.fd >= 0) {
		len = msg_make(&req, TXC_MSG_TAG_ADD, &t, sizeof(t));
		n = peer_send(&r, &req, len, socks, 5, &rep);
		ERR(n, &rep, -EINVAL, "file descriptors", TXC_FIELD_NONE, "five sockets");
		still_serving(&r);
	}
	test_sub_end();

	test_sub_begin("fd_socket_and_pipe");
	if (r.fd >= 0) {
		int two[2] = { pipefd[1], socks[1] };

		len = msg_make(&req, TXC_MSG_TAG_ADD, &t, sizeof(t));
		n = peer_send(&r, &req, len, two, 2, &rep);
		ERR(n, &rep, -EINVAL, "2 file descriptors", TXC_FIELD_NONE, "pipe and socket");
		still_serving(&r);
	}
	test_sub_end();
	peer_close(&r);

	test_sub_begin("no_descriptor_kept");
	/* A tagged socket is only read for its cookie: the daemon keeps no descriptor. */
	len = msg_make(&req, TXC_MSG_TAG_ADD, &t, sizeof(t));
	n = peer_send(&vc, &req, len, &socks[2], 1, &rep);
	if (OK(n, &rep, "TAG_ADD socket")) {
		union txc_tag_key key = { .socket_cookie = rep.tag.key };

		n = untag(&vc, TXC_TAG_SOCKET, &key, &rep);
		OK(n, &rep, "TAG_DEL socket");
	}
	/* Every other descriptor passed above was refused and must be closed. */
	test_sleep_ms(100);
	ASSERT_EQ(daemon_fd_count(), fds_before, "descriptors open in the daemon");
	test_sub_end();

	for (int i = 0; i < 5; i++)
		if (socks[i] >= 0)
			close(socks[i]);
	if (pipefd[0] >= 0) {
		close(pipefd[0]);
		close(pipefd[1]);
	}
}

static void test_validation(void)
{
	if (!ASSERT_OK(peer_open_lib(&vc), "validation client"))
		return;
	test_validation_header();
	test_validation_source();
	test_validation_tag();
	test_validation_cancel();
	test_validation_batch();
	test_validation_explain();
	test_validation_fds();
	peer_close(&vc);
	test_validation_raw();
}

/* ========================================================================== */
/* Permissions between users                                                  */
/* ========================================================================== */

struct lib_as_arg {
	const char *sock;
	__u32 other_prefix;
};

/*
 * In a child as UID_B without CAP_NET_ADMIN, through libtxcancel: its own
 * socket may be tagged, mark/cgroup/flow may not, and A's prefix is not its.
 * Returns 0, or the number of the check that failed.
 */
static int lib_as_user(void *varg)
{
	const struct lib_as_arg *arg = varg;
	struct txc_flow_key k = flow_key(4, 7000, 7001);
	struct txc_client *c = NULL;
	__u32 source = 0;
	__u64 cookie = 0, want = 0;
	socklen_t len = sizeof(want);
	int udp, ret = 0, err;
	__u8 prefix = 0;

	if (txc_client_open(&c, arg->sock))
		return 1;
	if (txc_client_hello(c)->uid != UID_B)
		ret = 2;
	else if (txc_generate_partial_cancel_id(c, &prefix))
		ret = 3;
	else if (txc_source_open(c, &source))
		ret = 4;
	udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (!ret && (udp < 0 || getsockopt(udp, SOL_SOCKET, SO_COOKIE, &want, &len)))
		ret = 5;
	if (!ret && (txc_tag_socket(c, udp, TXC_ID_MAKE(prefix, 1), source, &cookie) ||
		     cookie != want))
		ret = 6;
	if (!ret) {
		err = txc_tag_flow(c, &k, TXC_ID_MAKE(prefix, 2), source);
		if (err != -EPERM || !strstr(txc_client_error(c), "CAP_NET_ADMIN"))
			ret = 7;
	}
	if (!ret) {
		err = txc_cancel_send_net_buffer_lists(c, TXC_ID_MAKE(arg->other_prefix, 1));
		if (err != -EPERM || !strstr(txc_client_error(c), "another user"))
			ret = 8;
	}
	if (ret)
		printf("    uid %u through libtxcancel: check %d failed: %s\n", getuid(), ret,
		       txc_client_error(c));
	if (udp >= 0)
		close(udp);
	txc_client_close(c);
	return ret;
}

static void test_permissions(void)
{
	struct peer a = { .fd = -1 }, b = { .fd = -1 }, bn = { .fd = -1 };
	struct txc_flow_key ka = flow_key(4, 6000, 6001), kb = flow_key(4, 6100, 6101);
	__u32 pa = 0, sa = 0, pb = 0, sb = 0, ida, idb;
	int n;

	test_sub_begin("setup");
	if (!ASSERT_OK(peer_open_as(&a, dm.sock, UID_A, true), "connect as A (CAP_NET_ADMIN)") ||
	    !ASSERT_OK(peer_open_as(&b, dm.sock, UID_B, false), "connect as B") ||
	    !ASSERT_OK(peer_open_as(&bn, dm.sock, UID_B, true), "connect as B (CAP_NET_ADMIN)")) {
		test_sub_end();
		goto out;
	}
	ASSERT_EQ(a.uid, UID_A, "A's uid as the daemon sees it");
	ASSERT_EQ(b.uid, UID_B, "B's uid as the daemon sees it");
	pa = prefix_alloc(&a, 0);
	sa = source_open(&a);
	pb = prefix_alloc(&b, 0);
	sb = source_open(&b);
	ida = TXC_ID_MAKE(pa, 1);
	idb = TXC_ID_MAKE(pb, 1);
	n = tag_flow(&a, &ka, ida, sa, &rep);
	OK(n, &rep, "A tags a flow (it has CAP_NET_ADMIN)");
	n = count_id(&a, ida, 1, &rep);
	OK(n, &rep, "A counts its ID");
	still_serving(&b);
	still_serving(&bn);
	test_sub_end();
	if (!pa || !sa || !pb || !sb)
		goto out;

	test_sub_begin("prefix_list_own_only");
	n = call(&b, TXC_MSG_PREFIX_LIST, NULL, 0, &rep);
	if (OK(n, &rep, "B's PREFIX_LIST")) {
		ASSERT_EQ(rep.list.count, 1, "B sees one lease");
		ASSERT_TRUE(list_find(&rep, pb) && !list_find(&rep, pa), "its own, not A's");
	}
	n = stats(&b, TXC_SCOPE_SOURCE, 0, &rep);
	if (OK(n, &rep, "B's STATS of every source")) {
		ASSERT_EQ(rep.list.count, 1, "B sees one source");
		ASSERT_EQ(((struct txc_stats_entry *)(rep.raw + 8))->value, sb, "its own");
	}
	still_serving(&b);
	still_serving(&bn);
	test_sub_end();

	test_sub_begin("free_other_prefix");
	{
		struct txc_req_prefix p = { .prefix = pa };

		n = call(&b, TXC_MSG_PREFIX_FREE, &p, sizeof(p), &rep);
		ERR(n, &rep, -EPERM, "not held by you", HDR + OFF(struct txc_req_prefix, prefix),
		    "B frees A's prefix");
		ASSERT_TRUE(prefix_listed(&a, pa), "A still holds it");
		n = call(&b, TXC_MSG_PREFIX_ALLOC, &p, sizeof(p), &rep);
		ERR(n, &rep, -EBUSY, "another user", FIELD_ANY, "B asks for A's prefix");
	}
	still_serving(&b);
	still_serving(&bn);
	test_sub_end();

	test_sub_begin("cancel_other");
	n = cancel(&b, TXC_SCOPE_ID, ida, 0, &rep);
	ERR(n, &rep, -EPERM, "held by another user", HDR + OFF(struct txc_req_cancel, value),
	    "B cancels A's ID");
	ASSERT_TRUE(!cancel_active(TXC_SCOPE_ID, ida, NULL), "no ID cancel stored");
	n = cancel(&b, TXC_SCOPE_PREFIX, pa, 0, &rep);
	ERR(n, &rep, -EPERM, "not held by you", FIELD_ANY, "B cancels A's prefix");
	ASSERT_TRUE(!cancel_active(TXC_SCOPE_PREFIX, pa, NULL), "no prefix cancel stored");
	n = cancel(&b, TXC_SCOPE_SOURCE, sa, 0, &rep);
	ERR(n, &rep, -EPERM, "belongs to another user", FIELD_ANY, "B cancels A's source");
	ASSERT_TRUE(!cancel_active(TXC_SCOPE_SOURCE, sa, NULL), "no source cancel stored");
	explain_is(&root, 4, 6000, 6001, 0, ida, sa, TXC_TAG_FLOW, TXC_VERDICT_PASS, 0,
		   "A's flow still passes");
	still_serving(&b);
	still_serving(&bn);
	test_sub_end();

	test_sub_begin("clear_other");
	n = cancel(&a, TXC_SCOPE_ID, ida, 0, &rep);
	OK(n, &rep, "A cancels its ID");
	n = clear(&b, TXC_SCOPE_ID, ida, &rep);
	ERR(n, &rep, -EPERM, "another user", FIELD_ANY, "B clears A's ID");
	n = clear(&b, TXC_SCOPE_PREFIX, pa, &rep);
	ERR(n, &rep, -EPERM, "not held by you", FIELD_ANY, "B clears A's prefix");
	n = clear(&b, TXC_SCOPE_SOURCE, sa, &rep);
	ERR(n, &rep, -EPERM, "another user", FIELD_ANY, "B clears A's source");
	ASSERT_TRUE(cancel_active(TXC_SCOPE_ID, ida, NULL), "A's cancel still in force");
	n = clear(&a, TXC_SCOPE_ID, ida, &rep);
	OK(n, &rep, "A clears its ID");
	still_serving(&b);
	still_serving(&bn);
	test_sub_end();

	test_sub_begin("count_and_stats_other");
	n = count_id(&b, TXC_ID_MAKE(pa, 2), 1, &rep);
	ERR(n, &rep, -EPERM, "another user", FIELD_ANY, "B counts an ID of A's prefix");
	ASSERT_TRUE(!id_counted(TXC_ID_MAKE(pa, 2)), "not counted");
	n = count_id(&b, ida, 0, &rep);
	ERR(n, &rep, -EPERM, "another user", FIELD_ANY, "B stops A's counter");
	ASSERT_TRUE(id_counted(ida), "A's counter stays");
	n = stats(&b, TXC_SCOPE_ID, ida, &rep);
	ERR(n, &rep, -EPERM, "another user", FIELD_ANY, "B reads A's ID counters");
	n = stats(&b, TXC_SCOPE_SOURCE, sa, &rep);
	ERR(n, &rep, -EPERM, "another user", FIELD_ANY, "B reads A's source counters");
	still_serving(&b);
	still_serving(&bn);
	test_sub_end();

	test_sub_begin("tag_under_other_prefix");
	{
		int udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		struct txc_req_tag t = tag_req(TXC_TAG_SOCKET, TXC_ID_MAKE(pa, 5), sb);

		/* B's own socket, but an ID under A's prefix. */
		n = call_fd(&b, TXC_MSG_TAG_ADD, &t, sizeof(t), udp, &rep);
		ERR(n, &rep, -EPERM, "held by another user", HDR + OFF(struct txc_req_tag, cancel_id),
		    "B tags its socket with A's prefix");
		n = tag_flow(&bn, &kb, TXC_ID_MAKE(pa, 5), sb, &rep);
		ERR(n, &rep, -EPERM, "held by another user", HDR + OFF(struct txc_req_tag, cancel_id),
		    "B (net admin) tags a flow with A's prefix");
		ASSERT_TRUE(!rule_get(TXC_TAG_FLOW, &kb, NULL), "no rule stored");
		if (udp >= 0)
			close(udp);
	}
	still_serving(&b);
	still_serving(&bn);
	test_sub_end();

	test_sub_begin("tag_with_other_source");
	n = tag_flow(&bn, &kb, idb, sa, &rep);
	ERR(n, &rep, -EPERM, "belongs to another user", HDR + OFF(struct txc_req_tag, source),
	    "B tags with A's source");
	ASSERT_TRUE(!rule_get(TXC_TAG_FLOW, &kb, NULL), "no rule stored");
	still_serving(&b);
	still_serving(&bn);
	test_sub_end();

	test_sub_begin("untag_other");
	{
		union txc_tag_key key = { .flow = ka };

		n = untag(&bn, TXC_TAG_FLOW, &key, &rep);
		ERR(n, &rep, -EPERM, "another user", FIELD_ANY, "B removes A's rule");
		rule_is(TXC_TAG_FLOW, &ka, ida, sa, "A's rule stays");
		/* The same rule key cannot be taken over either. */
		n = tag_flow(&bn, &ka, idb, sb, &rep);
		ERR(n, &rep, -EEXIST, "another user's", FIELD_ANY, "B adds A's key");
		rule_is(TXC_TAG_FLOW, &ka, ida, sa, "A's rule unchanged");
	}
	still_serving(&b);
	still_serving(&bn);
	test_sub_end();

	test_sub_begin("close_and_subscribe_other_source");
	{
		struct txc_req_source s = { .source = sa };

		n = call(&b, TXC_MSG_SOURCE_CLOSE, &s, sizeof(s), &rep);
		ERR(n, &rep, -EPERM, "belongs to another user", HDR + OFF(struct txc_req_source, source),
		    "B closes A's source");
		n = call(&b, TXC_MSG_SUBSCRIBE, &s, sizeof(s), &rep);
		ERR(n, &rep, -EPERM, "belongs to another user", FIELD_ANY, "B subscribes to A's source");
		n = call(&b, TXC_MSG_UNSUBSCRIBE, &s, sizeof(s), &rep);
		ERR(n, &rep, -EPERM, "belongs to another user", FIELD_ANY,
		    "B unsubscribes A from its source");
		n = call(&b, TXC_MSG_SOURCE_OPEN, &s, sizeof(s), &rep);
		ERR(n, &rep, -EBUSY, "another user", FIELD_ANY, "B claims A's source");
		n = stats(&a, TXC_SCOPE_SOURCE, sa, &rep);
		if (OK(n, &rep, "A's STATS"))
			ASSERT_EQ(((struct txc_stats_entry *)(rep.raw + 8))->subscribers, 1,
				  "A's source keeps its one subscriber");
	}
	still_serving(&b);
	still_serving(&bn);
	test_sub_end();

	test_sub_begin("no_net_admin");
	{
		struct txc_req_tag t = tag_req(TXC_TAG_MARK, TXC_ID_MAKE(pb, 3), sb);
		int udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		__u64 want = 0;
		socklen_t len = sizeof(want);

		t.key.mark = 0x55;
		n = call(&b, TXC_MSG_TAG_ADD, &t, sizeof(t), &rep);
		ERR(n, &rep, -EPERM, "CAP_NET_ADMIN", HDR + OFF(struct txc_req_tag, kind),
		    "mark without CAP_NET_ADMIN");
		t = tag_req(TXC_TAG_CGROUP, TXC_ID_MAKE(pb, 3), sb);
		t.key.cgroup_id = 99;
		n = call(&b, TXC_MSG_TAG_ADD, &t, sizeof(t), &rep);
		ERR(n, &rep, -EPERM, "CAP_NET_ADMIN", HDR + OFF(struct txc_req_tag, kind),
		    "cgroup without CAP_NET_ADMIN");
		n = tag_flow(&b, &kb, TXC_ID_MAKE(pb, 3), sb, &rep);
		ERR(n, &rep, -EPERM, "CAP_NET_ADMIN", HDR + OFF(struct txc_req_tag, kind),
		    "flow without CAP_NET_ADMIN");
		ASSERT_TRUE(!rule_get(TXC_TAG_FLOW, &kb, NULL), "no flow rule");
		t = tag_req(TXC_TAG_SOCKET, TXC_ID_MAKE(pb, 3), sb);
		getsockopt(udp, SOL_SOCKET, SO_COOKIE, &want, &len);
		n = call_fd(&b, TXC_MSG_TAG_ADD, &t, sizeof(t), udp, &rep);
		if (OK(n, &rep, "B tags its own socket"))
			ASSERT_EQ(rep.tag.key, want, "cookie");
		rule_is(TXC_TAG_SOCKET, &want, TXC_ID_MAKE(pb, 3), sb, "socket rule");
		{
			union txc_tag_key key = { .socket_cookie = want };

			n = untag(&b, TXC_TAG_SOCKET, &key, &rep);
			OK(n, &rep, "B removes its socket rule");
		}
		/* The same user with CAP_NET_ADMIN may tag a flow. */
		n = tag_flow(&bn, &kb, TXC_ID_MAKE(pb, 3), sb, &rep);
		OK(n, &rep, "B with CAP_NET_ADMIN tags a flow");
		{
			union txc_tag_key key = { .flow = kb };

			n = untag(&bn, TXC_TAG_FLOW, &key, &rep);
			OK(n, &rep, "and removes it");
		}
		if (udp >= 0)
			close(udp);
	}
	still_serving(&b);
	still_serving(&bn);
	test_sub_end();

	test_sub_begin("through_libtxcancel");
	{
		struct lib_as_arg arg = { .sock = dm.sock, .other_prefix = pa };

		ASSERT_EQ(txct_run_as(UID_B, UID_B, false, lib_as_user, &arg), 0,
			  "uid 61002 without CAP_NET_ADMIN through libtxcancel (see the line above)");
	}
	still_serving(&b);
	still_serving(&bn);
	test_sub_end();

	test_sub_begin("root_administers_all");
	n = cancel(&root, TXC_SCOPE_ID, ida, 0, &rep);
	OK(n, &rep, "root cancels A's ID");
	explain_is(&root, 4, 6000, 6001, 0, ida, sa, TXC_TAG_FLOW, TXC_VERDICT_DROP, TXC_SCOPE_ID,
		   "A's flow dropped");
	n = stats(&root, TXC_SCOPE_ID, ida, &rep);
	OK(n, &rep, "root reads A's ID counters");
	n = clear(&root, TXC_SCOPE_ID, ida, &rep);
	if (OK(n, &rep, "root clears A's ID"))
		ASSERT_EQ(rep.clear.valid, 1, "A's ID is counted");
	n = cancel(&root, TXC_SCOPE_SOURCE, sa, 0, &rep);
	OK(n, &rep, "root cancels A's source");
	n = clear(&root, TXC_SCOPE_SOURCE, sa, &rep);
	OK(n, &rep, "root clears A's source");
	n = call(&root, TXC_MSG_PREFIX_LIST, NULL, 0, &rep);
	if (OK(n, &rep, "root's PREFIX_LIST")) {
		const struct txc_prefix_info *e = list_find(&rep, pa);

		ASSERT_TRUE(e && list_find(&rep, pb), "root sees A's and B's leases");
		if (e) {
			ASSERT_EQ(e->uid, UID_A, "A's lease uid");
			ASSERT_EQ(e->conn_id, a.conn_id, "A's lease connection");
			ASSERT_EQ(e->rules, 1, "A's rule count");
		}
	}
	still_serving(&b);
	still_serving(&bn);
	test_sub_end();

	test_sub_begin("batch_forbidden_op");
	{
		static struct {
			struct txc_req_batch b;
			struct txc_batch_op ops[4];
		} bt;

		memset(&bt, 0, sizeof(bt));
		bt.b.count = 4;
		bt.ops[0].type = TXC_MSG_TAG_ADD;
		bt.ops[0].tag = tag_req(TXC_TAG_FLOW, idb, sb);
		bt.ops[0].tag.key.flow = kb;
		bt.ops[1].type = TXC_MSG_CANCEL;
		bt.ops[1].cancel = (struct txc_req_cancel){ .scope = TXC_SCOPE_ID, .value = idb };
		bt.ops[2].type = TXC_MSG_CANCEL;
		bt.ops[2].cancel = (struct txc_req_cancel){ .scope = TXC_SCOPE_ID, .value = ida };
		bt.ops[3].type = TXC_MSG_CLEAR;
		bt.ops[3].clear = (struct txc_req_clear){ .scope = TXC_SCOPE_PREFIX, .value = pb };
		n = call(&bn, TXC_MSG_BATCH, &bt, sizeof(bt), &rep);
		if (ERR(n, &rep, -EPERM, "another user",
			HDR + sizeof(bt.b) + 2 * sizeof(bt.ops[0]) + OFF(struct txc_batch_op, raw) +
			OFF(struct txc_req_cancel, value), "batch with A's ID in op 2")) {
			ASSERT_EQ(n, HDR + sizeof(struct txc_rep_batch), "a batch reply");
			ASSERT_EQ(rep.batch.applied, 0, "nothing applied");
			ASSERT_EQ(rep.batch.failed, 2, "op 2 named");
		}
		ASSERT_TRUE(!rule_get(TXC_TAG_FLOW, &kb, NULL), "op 0 (flow rule) not applied");
		ASSERT_TRUE(!cancel_active(TXC_SCOPE_ID, idb, NULL), "op 1 (cancel) not applied");
		ASSERT_TRUE(!cancel_active(TXC_SCOPE_ID, ida, NULL), "op 2 not applied");
		n = call(&bn, TXC_MSG_PREFIX_LIST, NULL, 0, &rep);
		if (OK(n, &rep, "PREFIX_LIST") && ASSERT_TRUE(list_find(&rep, pb), "B's lease"))
			ASSERT_EQ(list_find(&rep, pb)->rules, 0, "no rule counted under B's prefix");
		explain_is(&root, 4, 6100, 6101, 0, 0, 0, 0, TXC_VERDICT_PASS, 0,
			   "B's flow is untagged");
		still_serving(&bn);
	}
	test_sub_end();

out:
	peer_close(&a);
	peer_close(&b);
	peer_close(&bn);
	/* Their leases go with their connections; wait so later tests start clean. */
	for (int i = 0; i < 100 && pa && prefix_listed(&root, pa); i++)
		test_sleep_ms(20);
}

/* ========================================================================== */
/* Leases                                                                     */
/* ========================================================================== */

static bool wait_unlisted(__u32 prefix)
{
	for (int i = 0; i < 150; i++) {
		if (!prefix_listed(&root, prefix))
			return true;
		test_sleep_ms(20);
	}
	return false;
}

static void test_leases(void)
{
	struct peer e = { .fd = -1 };
	int n;

	test_sub_begin("prefix_exhaustion");
	if (ASSERT_OK(peer_open_raw(&e), "root connection") && peer_hello(&e)) {
		struct txc_req_prefix b = {};
		__u32 got = 0, last = 0, held_before;

		n = call(&root, TXC_MSG_PREFIX_LIST, NULL, 0, &rep);
		held_before = OK(n, &rep, "PREFIX_LIST") ? rep.list.count : 0;
		for (int i = 0; i < 300; i++) {
			n = call(&e, TXC_MSG_PREFIX_ALLOC, &b, sizeof(b), &rep);
			if (n < 0 || rep.h.error)
				break;
			last = rep.prefix.prefix;
			got++;
		}
		/* Root is not limited by --max-prefixes: it gets every free prefix. */
		ASSERT_EQ(got, 255 - held_before, "prefixes handed out");
		ERR(n, &rep, -ENOSPC, "all 255 prefixes are held", FIELD_ANY, "the one too many");
		n = call(&root, TXC_MSG_PREFIX_LIST, NULL, 0, &rep);
		if (OK(n, &rep, "PREFIX_LIST"))
			ASSERT_EQ(rep.list.count, 255, "every prefix is leased");
		still_serving(&e);
		b.prefix = last;
		n = call(&e, TXC_MSG_PREFIX_FREE, &b, sizeof(b), &rep);
		OK(n, &rep, "free one");
		b.prefix = 0;
		n = call(&e, TXC_MSG_PREFIX_ALLOC, &b, sizeof(b), &rep);
		if (OK(n, &rep, "allocate again"))
			ASSERT_EQ(rep.prefix.prefix, last, "the freed one, the only free one");
		n = call(&e, TXC_MSG_PREFIX_ALLOC, &b, sizeof(b), &rep);
		ERR(n, &rep, -ENOSPC, "all", FIELD_ANY, "full again");
		peer_close(&e);
		/* Its connection gone, every prefix it took is free again. */
		for (int i = 0; i < 150; i++) {
			n = call(&root, TXC_MSG_PREFIX_LIST, NULL, 0, &rep);
			if (n < 0 || rep.list.count == held_before)
				break;
			test_sleep_ms(20);
		}
		ASSERT_EQ(rep.list.count, held_before, "leases after the client closed");
	}
	peer_close(&e);
	test_sub_end();

	test_sub_begin("per_user_prefix_quota");
	{
		struct peer c1 = { .fd = -1 }, c2 = { .fd = -1 };
		struct txc_req_prefix b = {};
		__u32 p1 = 0, p2 = 0;

		if (ASSERT_OK(peer_open_as(&c1, dm.sock, UID_C, false), "connect as C") &&
		    ASSERT_OK(peer_open_as(&c2, dm.sock, UID_C, false), "connect as C again")) {
			p1 = prefix_alloc(&c1, 0);
			p2 = prefix_alloc(&c2, 0);
			ASSERT_TRUE(p1 && p2, "two prefixes (--max-prefixes 2)");
			n = call(&c1, TXC_MSG_PREFIX_ALLOC, &b, sizeof(b), &rep);
			ERR(n, &rep, -EDQUOT, "per-user limit", FIELD_ANY, "a third on the first connection");
			n = call(&c2, TXC_MSG_PREFIX_ALLOC, &b, sizeof(b), &rep);
			ERR(n, &rep, -EDQUOT, "uid 61003 holds 2 prefixes", FIELD_ANY,
			    "a third on the second connection: the limit is per user");
			still_serving(&c1);
			/* Freeing one makes room; so does closing a connection. */
			b.prefix = p1;
			n = call(&c1, TXC_MSG_PREFIX_FREE, &b, sizeof(b), &rep);
			OK(n, &rep, "free one");
			b.prefix = 0;
			p1 = prefix_alloc(&c1, 0);
			ASSERT_TRUE(p1 != 0, "room for one again");
			peer_close(&c2);
			ASSERT_TRUE(wait_unlisted(p2), "the closed connection's prefix is released");
			n = call(&c1, TXC_MSG_PREFIX_ALLOC, &b, sizeof(b), &rep);
			OK(n, &rep, "the closed connection's quota is back");
		}
		peer_close(&c1);
		peer_close(&c2);
	}
	test_sub_end();

	test_sub_begin("per_user_rule_quota");
	{
		struct peer d = { .fd = -1 };
		__u32 p = 0, s = 0;

		if (ASSERT_OK(peer_open_as(&d, dm.sock, UID_D, true), "connect as D")) {
			p = prefix_alloc(&d, 0);
			s = source_open(&d);
			for (int i = 0; i < MAX_RULES; i++) {
				struct txc_flow_key k = flow_key(4, 8000 + i, 8000);

				n = tag_flow(&d, &k, TXC_ID_MAKE(p, i + 1), s, &rep);
				OK(n, &rep, "a rule within the limit");
			}
			{
				struct txc_flow_key k = flow_key(4, 8100, 8000);

				n = tag_flow(&d, &k, TXC_ID_MAKE(p, 9), s, &rep);
				ERR(n, &rep, -EDQUOT, "per-user limit", FIELD_ANY, "one rule too many");
				ASSERT_TRUE(!rule_get(TXC_TAG_FLOW, &k, NULL), "not stored");
			}
			still_serving(&d);
		}
		peer_close(&d);
		if (p)
			ASSERT_TRUE(wait_unlisted(p), "released on close");
	}
	test_sub_end();

	test_sub_begin("per_user_rule_quota_batch");
	{
		static struct {
			struct txc_req_batch b;
			struct txc_batch_op ops[3];
		} bt;
		struct peer d = { .fd = -1 };
		__u32 p = 0, s = 0;

		if (ASSERT_OK(peer_open_as(&d, dm.sock, UID_D, true), "connect as D")) {
			struct txc_flow_key k = flow_key(4, 8200, 8000);

			p = prefix_alloc(&d, 0);
			s = source_open(&d);
			n = tag_flow(&d, &k, TXC_ID_MAKE(p, 1), s, &rep);
			OK(n, &rep, "one rule");
			/* Two rules of room, a batch of three: the limit holds for the batch too. */
			memset(&bt, 0, sizeof(bt));
			bt.b.count = 3;
			for (int i = 0; i < 3; i++) {
				bt.ops[i].type = TXC_MSG_TAG_ADD;
				bt.ops[i].tag = tag_req(TXC_TAG_FLOW, TXC_ID_MAKE(p, 2 + i), s);
				bt.ops[i].tag.key.flow = flow_key(4, 8300 + i, 8000);
			}
			n = call(&d, TXC_MSG_BATCH, &bt, sizeof(bt), &rep);
			if (ERR(n, &rep, -EDQUOT, "limit", FIELD_ANY, "batch past the rule limit"))
				ASSERT_EQ(rep.batch.applied, 0, "checked before anything is applied");
			else if (n >= (int)HDR && rep.h.type == TXC_MSG_BATCH)
				printf("    the batch was answered with error %d, %u ops applied\n",
				       rep.h.error, rep.batch.applied);
			n = call(&d, TXC_MSG_PREFIX_LIST, NULL, 0, &rep);
			if (OK(n, &rep, "PREFIX_LIST") && list_find(&rep, p))
				ASSERT_TRUE(list_find(&rep, p)->rules <= MAX_RULES,
					    "rules held stay within --max-rules");
		}
		peer_close(&d);
		if (p)
			ASSERT_TRUE(wait_unlisted(p), "released on close");
	}
	test_sub_end();

	test_sub_begin("batch_duplicate_key");
	{
		static struct {
			struct txc_req_batch b;
			struct txc_batch_op ops[2];
		} bt;
		struct txc_flow_key k = flow_key(4, 8400, 8000);
		struct peer d = { .fd = -1 };
		__u32 p = 0, s = 0;

		/*
		 * Two TAG_ADDs of one key in one batch: each is valid alone, the
		 * second is not after the first.  Checking every op before any is
		 * applied means refusing the second; and whatever happens, the
		 * rules counted under the prefix must be the rules in the table.
		 */
		if (ASSERT_OK(peer_open_as(&d, dm.sock, UID_D, true), "connect as D")) {
			struct txc_tag t;

			p = prefix_alloc(&d, 0);
			s = source_open(&d);
			memset(&bt, 0, sizeof(bt));
			bt.b.count = 2;
			for (int i = 0; i < 2; i++) {
				bt.ops[i].type = TXC_MSG_TAG_ADD;
				bt.ops[i].tag = tag_req(TXC_TAG_FLOW, TXC_ID_MAKE(p, 1 + i), s);
				bt.ops[i].tag.key.flow = k;
			}
			n = call(&d, TXC_MSG_BATCH, &bt, sizeof(bt), &rep);
			if (ERR(n, &rep, -EEXIST, "exists", FIELD_ANY, "the same key twice")) {
				ASSERT_EQ(rep.batch.applied, 0, "nothing applied");
				ASSERT_EQ(rep.batch.failed, 1, "op 1 named");
			} else if (n >= (int)HDR && rep.h.type == TXC_MSG_BATCH) {
				printf("    the batch was answered with error %d, %u ops applied\n",
				       rep.h.error, rep.batch.applied);
			}
			n = call(&d, TXC_MSG_PREFIX_LIST, NULL, 0, &rep);
			if (OK(n, &rep, "PREFIX_LIST") && ASSERT_TRUE(list_find(&rep, p), "listed"))
				ASSERT_EQ(list_find(&rep, p)->rules, rule_get(TXC_TAG_FLOW, &k, &t),
					  "rules counted under the prefix = rules in the table");
		}
		peer_close(&d);
		if (p)
			ASSERT_TRUE(wait_unlisted(p), "released on close");
	}
	test_sub_end();

	test_sub_begin("close_releases_everything");
	if (ASSERT_OK(peer_open_raw(&e), "root connection") && peer_hello(&e)) {
		struct txc_flow_key k = flow_key(4, 9000, 9001);
		__u32 p = prefix_alloc(&e, 0), s = source_open(&e), conn = e.conn_id;
		__u32 id = TXC_ID_MAKE(p, 1), id2 = TXC_ID_MAKE(p, 2);
		struct txc_req_tag t = tag_req(TXC_TAG_MARK, id, s);
		int udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		__u64 cookie = 0;

		n = tag_flow(&e, &k, id, s, &rep);
		OK(n, &rep, "flow rule");
		t.key.mark = 0x66;
		n = call(&e, TXC_MSG_TAG_ADD, &t, sizeof(t), &rep);
		OK(n, &rep, "mark rule");
		t = tag_req(TXC_TAG_SOCKET, id, s);
		n = call_fd(&e, TXC_MSG_TAG_ADD, &t, sizeof(t), udp, &rep);
		if (OK(n, &rep, "socket rule"))
			cookie = rep.tag.key;
		n = cancel(&e, TXC_SCOPE_ID, id2, 0, &rep);
		OK(n, &rep, "ID cancel");
		n = cancel(&e, TXC_SCOPE_PREFIX, p, 0, &rep);
		OK(n, &rep, "prefix cancel");
		n = cancel(&e, TXC_SCOPE_SOURCE, s, 0, &rep);
		OK(n, &rep, "source cancel");
		n = count_id(&e, id, 1, &rep);
		OK(n, &rep, "ID counter");
		explain_is(&root, 4, 9000, 9001, 0, id, s, TXC_TAG_FLOW, TXC_VERDICT_DROP,
			   TXC_SCOPE_SOURCE, "dropped while the client is there");

		peer_close(&e);
		ASSERT_TRUE(wait_unlisted(p), "prefix released (PREFIX_LIST of another client)");
		ASSERT_TRUE(!rule_get(TXC_TAG_FLOW, &k, NULL), "flow rule removed");
		ASSERT_TRUE(!rule_get(TXC_TAG_MARK, &(__u32){ 0x66 }, NULL), "mark rule removed");
		ASSERT_TRUE(!rule_get(TXC_TAG_SOCKET, &cookie, NULL), "socket rule removed");
		ASSERT_TRUE(!cancel_active(TXC_SCOPE_ID, id2, NULL), "ID cancel removed");
		ASSERT_TRUE(!cancel_active(TXC_SCOPE_PREFIX, p, NULL), "prefix cancel removed");
		ASSERT_TRUE(!cancel_active(TXC_SCOPE_SOURCE, s, NULL), "source cancel removed");
		ASSERT_TRUE(!id_counted(id), "ID counter removed");
		explain_is(&root, 4, 9000, 9001, 0, 0, 0, 0, TXC_VERDICT_PASS, 0,
			   "the flow is untagged and passes");
		explain_is(&root, 4, 1, 2, 0x66, 0, 0, 0, TXC_VERDICT_PASS, 0,
			   "the mark is no longer an ID");
		n = stats(&root, TXC_SCOPE_SOURCE, s, &rep);
		ERR(n, &rep, -ENOENT, "not open", FIELD_ANY, "its source is closed");
		n = call(&root, TXC_MSG_STATUS, NULL, 0, &rep);
		if (OK(n, &rep, "STATUS")) {
			struct txc_status_client *cl = (void *)(rep.raw + sizeof(rep.status));
			bool gone = true;

			for (__u32 i = 0; i < rep.status.n_clients; i++)
				gone &= cl[i].conn_id != conn;
			ASSERT_TRUE(gone, "the client is no longer listed");
		}
		if (udp >= 0)
			close(udp);
	}
	peer_close(&e);
	test_sub_end();
}

/* ========================================================================== */
/* Daemon lifecycle                                                           */
/* ========================================================================== */

/*
 * In a child as UID_C: with --max-conns 2 the third connection gets one
 * error reply naming the limit and is closed, and a connection freed makes
 * room again.  Returns 0 or the number of the check that failed.
 */
static int conn_limit_child(void *arg)
{
	const char *path = arg;
	struct peer p[3];
	int ret = 0;

	for (int i = 0; i < 3; i++)
		if (peer_open_path(&p[i], path))
			return 1;
	if (!peer_hello(&p[0]) || !peer_hello(&p[1]))
		ret = 2;
	else if (raw_recv(p[2].fd, &rep) < (int)(HDR + sizeof(rep.err)) ||
		 rep.h.error != -EDQUOT || rep.h.seq != 0 ||
		 !strstr(rep.err.message, "per-user limit (--max-conns)"))
		ret = 3;	/* not refused, or without saying why */
	else if (raw_recv(p[2].fd, &rep) != -ECONNRESET)
		ret = 6;	/* and then closed */
	peer_close(&p[2]);
	peer_close(&p[1]);
	/* The daemon counts the close when it reaps the connection: retry a while. */
	for (int i = 0; !ret && i < 100; i++) {
		if (peer_open_path(&p[2], path))
			return 4;
		if (hello(&p[2], &rep) >= 0 && !rep.h.error)
			break;
		peer_close(&p[2]);
		test_sleep_ms(20);
		if (i == 99)
			ret = 5;
	}
	if (ret)
		printf("    --max-conns as uid %u: check %d failed\n", getuid(), ret);
	for (int i = 0; i < 3; i++)
		peer_close(&p[i]);
	return ret;
}

/*
 * Asynchronous cancels and clears: many in flight, replies collected oldest
 * first with each request's own outcome, the bound, and the calls that must
 * wait until the replies are in.
 */
static void ignore_completion(void *ctx, const struct txc_ev_completions *ev,
			      const struct txc_abort_record *recs)
{
	(void)ctx, (void)ev, (void)recs;
}

static void test_async(void)
{
	__u32 seqs[TXC_ASYNC_MAX], seq = 0, refused_id;
	struct txc_client *c = NULL;
	__u8 prefix;
	bool ok = true;
	int i, err;

	if (!ASSERT_OK(txc_client_open(&c, dm.sock), "client") ||
	    !ASSERT_OK(txc_generate_partial_cancel_id(c, &prefix), "its prefix"))
		goto out;
	refused_id = TXC_ID_MAKE(prefix, 2);

	test_sub_begin("in_flight");
	ASSERT_EQ(txc_async_reply(c, &seq), -ENOENT, "no reply to wait for");
	for (i = 0; i < TXC_ASYNC_MAX && ok; i++)
		ok = ASSERT_OK(txc_cancel_async(c, TXC_SCOPE_ID, TXC_ID_MAKE(prefix, 0x100 + i),
						NULL, 0, &seqs[i]), "cancel in flight");
	ASSERT_EQ(txc_async_pending(c), TXC_ASYNC_MAX, "all in flight");
	ASSERT_EQ(txc_cancel_async(c, TXC_SCOPE_ID, TXC_ID_MAKE(prefix, 1), NULL, 0, NULL),
		  -EBUSY, "one more is refused");
	ASSERT_TRUE(strstr(txc_client_error(c), "txc_async_reply") != NULL,
		    "the refusal says how to make room");
	ASSERT_EQ(txc_cancel_send_net_buffer_lists(c, TXC_ID_MAKE(prefix, 1)), -EBUSY,
		  "a synchronous call waits for the replies");
	ASSERT_EQ(txc_read_completions(c, ignore_completion, NULL, 0), -EBUSY,
		  "so does reading completions");
	for (i = 0, ok = true; i < TXC_ASYNC_MAX && ok; i++) {
		err = txc_async_reply(c, &seq);
		ok = ASSERT_OK(err, "reply") && ASSERT_EQ(seq, seqs[i], "oldest first");
	}
	ASSERT_EQ(txc_async_pending(c), 0, "none left");
	for (i = 0, ok = true; i < TXC_ASYNC_MAX; i++)
		ok &= cancel_active(TXC_SCOPE_ID, TXC_ID_MAKE(prefix, 0x100 + i), NULL);
	ASSERT_TRUE(ok, "every cancel in force");
	test_sub_end();

	test_sub_begin("outcomes_in_order");
	/* Clear, a cancel the daemon refuses, clear: each reply is its own request's. */
	ASSERT_OK(txc_clear_async(c, TXC_SCOPE_ID, TXC_ID_MAKE(prefix, 0x100), &seqs[0]), "clear");
	ASSERT_OK(txc_cancel_async(c, TXC_SCOPE_ID, refused_id, "txc-nosuch0", 0, &seqs[1]),
		  "cancel on an interface the daemon does not manage, sent");
	ASSERT_OK(txc_clear_async(c, TXC_SCOPE_ID, TXC_ID_MAKE(prefix, 0x101), &seqs[2]), "clear");
	ASSERT_OK(txc_async_reply(c, &seq), "first: applied");
	ASSERT_EQ(seq, seqs[0], "first seq");
	ASSERT_EQ(txc_async_reply(c, &seq), -ENODEV, "second: refused");
	ASSERT_EQ(seq, seqs[1], "second seq");
	ASSERT_TRUE(strstr(txc_client_error(c), "txc-nosuch0") != NULL,
		    "with the daemon's sentence");
	ASSERT_OK(txc_async_reply(c, &seq), "third: applied after a refused one");
	ASSERT_EQ(seq, seqs[2], "third seq");
	ASSERT_TRUE(!cancel_active(TXC_SCOPE_ID, TXC_ID_MAKE(prefix, 0x100), NULL) &&
		    !cancel_active(TXC_SCOPE_ID, TXC_ID_MAKE(prefix, 0x101), NULL),
		    "the two clears applied");
	ASSERT_TRUE(!cancel_active(TXC_SCOPE_ID, refused_id, NULL), "the refused cancel did not");
	ASSERT_EQ(txc_async_pending(c), 0, "none left");
	test_sub_end();

	test_sub_begin("sync_after");
	ASSERT_OK(txc_cancel_send_net_buffer_lists(c, TXC_ID_MAKE(prefix, 1)),
		  "a synchronous call once the replies are in");
	for (i = 0, ok = true; i < TXC_ASYNC_MAX; i++)
		ok &= !txc_clear(c, TXC_SCOPE_ID, TXC_ID_MAKE(prefix, 0x100 + i), NULL);
	ok &= !txc_clear(c, TXC_SCOPE_ID, TXC_ID_MAKE(prefix, 1), NULL);
	ASSERT_TRUE(ok, "cleared again");
	test_sub_end();
out:
	txc_client_close(c);
}

/* ========================================================================== */
/* Socket tags: stored in the socket, gone with it, retired with their lease  */
/* ========================================================================== */

/* Elements of the pinned map @name of the daemon with pin dir @pin_dir (hash maps). */
static int map_count(const char *pin_dir, const char *name, size_t key_size)
{
	char path[256], key[64], next[64];
	void *prev = NULL;
	int fd, n = 0;

	snprintf(path, sizeof(path), "%s/maps/%s", pin_dir, name);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	while (key_size <= sizeof(key) && !bpf_map_get_next_key(fd, prev, next)) {
		memcpy(key, next, key_size);
		prev = key;
		n++;
	}
	close(fd);
	return n;
}

/* Every table a tag could have been left in, summed. */
static int tables_count(const char *pin_dir)
{
	return map_count(pin_dir, "txc_mark_rules", 4) + map_count(pin_dir, "txc_cgroup_rules", 8) +
	       map_count(pin_dir, "txc_flow_rules", sizeof(struct txc_flow_key)) +
	       map_count(pin_dir, "txc_id_cancels", 4) + map_count(pin_dir, "txc_id_stats", 4);
}

/*
 * The tag in force on socket @fd, read as the TC program reads it: the
 * element in the socket, under the current generations of its prefix and
 * source.  False: no tag in force.
 */
static bool sock_tag_in_force(const char *pin_dir, int fd, struct txc_tag *tag)
{
	char path[256];
	struct txc_sk_tag st;
	__u64 pgen = 0, sgen = 0;
	__u32 slot;
	int tags, gens;
	bool ok;

	snprintf(path, sizeof(path), "%s/maps/txc_sk_tags", pin_dir);
	tags = bpf_obj_get(path);
	snprintf(path, sizeof(path), "%s/maps/txc_lease_gens", pin_dir);
	gens = bpf_obj_get(path);
	ok = tags >= 0 && gens >= 0 && !bpf_map_lookup_elem(tags, &fd, &st) &&
	     TXC_ID_VALID(st.tag.cancel_id) && st.tag.source < TXC_MAX_SOURCES;
	slot = TXC_ID_PREFIX(st.tag.cancel_id);
	ok = ok && !bpf_map_lookup_elem(gens, &slot, &pgen);
	slot = TXC_GEN_SOURCE(st.tag.source);
	ok = ok && !bpf_map_lookup_elem(gens, &slot, &sgen);
	ok = ok && pgen == st.prefix_gen && sgen == st.source_gen;
	if (ok && tag)
		*tag = st.tag;
	if (tags >= 0)
		close(tags);
	if (gens >= 0)
		close(gens);
	return ok;
}

#define SOCKS 200

static void test_socket_tags(void)
{
	struct txc_client *c = NULL;
	int socks[SOCKS], before, fds, n;
	struct txc_prefix_info info[8];
	struct txc_tag t;
	__u8 prefix = 0;
	__u32 source = 0;
	__u64 cookie = 0;

	if (!ASSERT_OK(txc_client_open(&c, dm.sock), "client") ||
	    !ASSERT_OK(txc_generate_partial_cancel_id(c, &prefix), "prefix") ||
	    !ASSERT_OK(txc_source_open(c, &source), "source"))
		goto out;

	test_sub_begin("closed_socket_leaves_nothing");
	before = tables_count(dm.pin_dir);
	fds = proc_fd_count_settled(dm.pid);
	for (int i = 0; i < SOCKS; i++) {
		socks[i] = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (!ASSERT_GE0(socks[i], "socket") ||
		    !ASSERT_OK(txc_tag_socket(c, socks[i], TXC_ID_MAKE(prefix, i + 1), source, NULL),
			       "tag"))
			break;
	}
	ASSERT_TRUE(sock_tag_in_force(dm.pin_dir, socks[SOCKS - 1], &t) &&
		    t.cancel_id == TXC_ID_MAKE(prefix, SOCKS), "the tag is in the socket");
	ASSERT_EQ(tables_count(dm.pin_dir), before, "no table holds a socket tag");
	n = txc_prefix_list(c, info, 8);
	for (int i = 0; i < n; i++)
		if (info[i].prefix == prefix)
			ASSERT_EQ(info[i].rules, 0, "socket tags are not rules counted against the user");
	ASSERT_EQ(proc_fd_count_settled(dm.pid), fds, "the daemon keeps no socket open");
	for (int i = 0; i < SOCKS; i++)
		close(socks[i]);
	/* The same fd numbers, new sockets: nothing of the old tags reaches them. */
	for (int i = 0; i < SOCKS; i++)
		socks[i] = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	for (int i = 0; i < SOCKS; i++)
		if (!ASSERT_TRUE(!sock_tag_in_force(dm.pin_dir, socks[i], NULL),
				 "a new socket on a tagged socket's fd number is untagged"))
			break;
	ASSERT_EQ(tables_count(dm.pin_dir), before, "nothing left in any table");
	test_sub_end();

	test_sub_begin("tag_twice_untag");
	ASSERT_OK(txc_tag_socket(c, socks[0], TXC_ID_MAKE(prefix, 1), source, &cookie), "tag");
	ASSERT_EQ(txc_tag_socket(c, socks[0], TXC_ID_MAKE(prefix, 2), source, NULL), -EEXIST,
		  "a tagged socket keeps its one tag");
	ASSERT_TRUE(sock_tag_in_force(dm.pin_dir, socks[0], &t) &&
		    t.cancel_id == TXC_ID_MAKE(prefix, 1), "the first tag stays");
	ASSERT_OK(txc_untag(c, TXC_TAG_SOCKET, &(union txc_tag_key){ .socket_cookie = cookie }),
		  "untag by cookie (the library passes the socket)");
	ASSERT_TRUE(!sock_tag_in_force(dm.pin_dir, socks[0], NULL), "untagged");
	ASSERT_OK(txc_tag_socket(c, socks[0], TXC_ID_MAKE(prefix, 3), source, NULL), "tag again");
	ASSERT_OK(txc_untag_socket(c, socks[0]), "untag through the socket");
	ASSERT_TRUE(!sock_tag_in_force(dm.pin_dir, socks[0], NULL), "untagged again");
	ASSERT_EQ(txc_untag_socket(c, socks[0]), -ENOENT, "an untagged socket has no tag to remove");
	test_sub_end();

	test_sub_begin("source_close_untags_at_once");
	for (int i = 0; i < SOCKS; i++)
		if (!ASSERT_OK(txc_tag_socket(c, socks[i], TXC_ID_MAKE(prefix, i + 1), source, NULL),
			       "tag"))
			break;
	ASSERT_OK(txc_source_close(c, source), "source closed");
	/* No wait: the reply means every tag of the source is out of force. */
	for (int i = 0; i < SOCKS; i++)
		if (!ASSERT_TRUE(!sock_tag_in_force(dm.pin_dir, socks[i], NULL),
				 "untagged when the source's close is answered"))
			break;
	if (ASSERT_OK(txc_source_open(c, &source), "a source again (maybe the same number)"))
		ASSERT_TRUE(!sock_tag_in_force(dm.pin_dir, socks[0], NULL),
			    "a reopened source number does not revive old tags");
	ASSERT_OK(txc_tag_socket(c, socks[0], TXC_ID_MAKE(prefix, 1), source, NULL),
		  "a socket of a closed source can be tagged again");
	test_sub_end();

	test_sub_begin("prefix_free_untags_at_once");
	ASSERT_TRUE(sock_tag_in_force(dm.pin_dir, socks[0], NULL), "tagged");
	ASSERT_OK(txc_prefix_free(c, prefix), "prefix freed");
	ASSERT_TRUE(!sock_tag_in_force(dm.pin_dir, socks[0], NULL),
		    "untagged when the prefix's release is answered");
	test_sub_end();
	for (int i = 0; i < SOCKS; i++)
		close(socks[i]);
out:
	txc_client_close(c);
}

/* A restart, crash or not, keeps the tags of sockets that stay open. */
static void test_socket_tags_restart(void)
{
	static const char *const args[] = { "--grace", "30", NULL };
	struct txct_daemon y;
	struct txc_client *c = NULL;
	struct txc_tag t;
	__u8 prefix = 0;
	__u32 source = 0;
	int udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	test_sub_begin("restart_keeps_socket_tags");
	if (ASSERT_GE0(udp, "socket") && ASSERT_OK(txct_daemon_start(&y, NULL, args), "start")) {
		if (ASSERT_OK(txc_client_open(&c, y.sock), "client") &&
		    ASSERT_OK(txc_generate_partial_cancel_id(c, &prefix), "prefix") &&
		    ASSERT_OK(txc_source_open(c, &source), "source"))
			ASSERT_OK(txc_tag_socket(c, udp, TXC_ID_MAKE(prefix, 7), source, NULL), "tag");
		txct_daemon_kill(&y);
		ASSERT_TRUE(sock_tag_in_force(y.pin_dir, udp, &t), "in force while no daemon runs");
		txc_client_close(c);
		c = NULL;
		if (ASSERT_OK(txct_daemon_restart(&y), "restart") &&
		    ASSERT_OK(txc_client_open(&c, y.sock), "serves again")) {
			ASSERT_TRUE(sock_tag_in_force(y.pin_dir, udp, &t) &&
				    t.cancel_id == TXC_ID_MAKE(prefix, 7) && t.source == source,
				    "the orphaned leases keep the socket's tag");
			ASSERT_OK(txc_prefix_claim(c, prefix), "prefix claimed back");
			ASSERT_OK(txc_source_claim(c, source), "source claimed back");
			ASSERT_TRUE(sock_tag_in_force(y.pin_dir, udp, NULL), "still tagged once claimed");
			ASSERT_OK(txc_untag_socket(c, udp), "untagged by the new instance");
			ASSERT_TRUE(!sock_tag_in_force(y.pin_dir, udp, NULL), "untagged");
			txc_client_close(c);
		}
		ASSERT_EQ(txct_daemon_stop(&y), 0, "exits cleanly");
	}
	txct_daemon_cleanup(&y);
	if (udp >= 0)
		close(udp);
	test_sub_end();
}

static void test_lifecycle(void)
{
	static const char *const args[] = { "--mark-mask", "0xff", NULL };
	struct txct_daemon x, y;
	struct stat st;
	char out[8192];
	int ret;

	test_sub_begin("sigterm_exits_clean");
	if (ASSERT_OK(txct_daemon_start(&x, NULL, args), "start")) {
		struct peer p;

		/* A client with leases and a source does not hold the exit up. */
		if (ASSERT_OK(peer_open_path(&p, x.sock), "connect")) {
			ASSERT_TRUE(prefix_alloc(&p, 0) != 0, "prefix");
			ASSERT_TRUE(source_open(&p) != 0, "source");
		}
		ret = txct_daemon_stop(&x);
		if (!ASSERT_EQ(ret, 0, "exit status after SIGTERM"))
			txct_daemon_dump_log(&x);
		ASSERT_TRUE(stat(x.sock, &st) && errno == ENOENT, "socket removed");
		ASSERT_TRUE(stat(x.pin_dir, &st) && errno == ENOENT, "pin dir removed");
		peer_close(&p);
	}
	txct_daemon_cleanup(&x);
	test_sub_end();

	test_sub_begin("second_daemon_refused");
	if (ASSERT_OK(txct_daemon_start(&x, NULL, args), "start the first")) {
		char other_pins[160];
		const char *argv[] = {
			txct_daemon_path(), "-s", x.sock, "-d", other_pins, NULL,
		};
		struct txc_client *c = NULL;
		__u32 pid_before = x.pid;

		snprintf(other_pins, sizeof(other_pins), "%s-second", x.pin_dir);
		ret = txct_spawn_wait(argv, out, sizeof(out), 10000);
		ASSERT_TRUE(ret != 0, "the second daemon exits non-zero");
		if (!ASSERT_TRUE(strstr(out, "another txcanceld is serving") != NULL,
				 "and says another txcanceld is serving"))
			printf("    its output:\n%s\n", out);
		ASSERT_TRUE(!stat(x.sock, &st), "the first's socket is still there");
		if (ASSERT_OK(txc_client_open(&c, x.sock), "the first still accepts clients")) {
			struct txc_rep_status s;

			ASSERT_OK(txc_status(c, &s, NULL, 0, NULL, 0), "and answers");
			ASSERT_EQ(s.pid, pid_before, "the same daemon");
			txc_client_close(c);
		}
		/* The refused daemon must not leave pins of its own behind. */
		ASSERT_TRUE(stat(other_pins, &st) && errno == ENOENT,
			    "the refused daemon left no pin dir");
		{
			char cmd[256];

			snprintf(cmd, sizeof(cmd), "rm -rf '%s'", other_pins);
			if (system(cmd))
				printf("    %s failed\n", cmd);
		}
		ret = txct_daemon_stop(&x);
		ASSERT_EQ(ret, 0, "the first exits cleanly");
	}
	txct_daemon_cleanup(&x);
	test_sub_end();

	test_sub_begin("second_daemon_same_pins");
	/*
	 * The worst case of a mistaken second start: same socket, same pin dir,
	 * other options.  It must refuse before it touches the first's datapath.
	 */
	if (ASSERT_OK(txct_daemon_start(&x, NULL, args), "start the first")) {
		const char *argv[] = {
			txct_daemon_path(), "-s", x.sock, "-d", x.pin_dir, "--mark-mask", "0", NULL,
		};
		struct txc_client *c = NULL;
		struct txc_rep_explain ex;
		__u8 frame[128], prefix = 0;
		__u32 len = udp_frame(frame, 4, 1, 2), source = 0;

		if (ASSERT_OK(txc_client_open(&c, x.sock), "client of the first") &&
		    ASSERT_OK(txc_generate_partial_cancel_id(c, &prefix), "prefix") &&
		    ASSERT_OK(txc_source_open(c, &source), "source") &&
		    ASSERT_OK(txc_tag_mark(c, 0x7, TXC_ID_MAKE(prefix, 1), source), "mark rule")) {
			ret = txct_spawn_wait(argv, out, sizeof(out), 10000);
			ASSERT_TRUE(ret != 0, "the second daemon exits non-zero");
			ASSERT_TRUE(strstr(out, "another txcanceld is serving") != NULL,
				    "and says another txcanceld is serving");
			if (ASSERT_OK(txc_explain(c, NULL, 0x7, frame, len, &ex), "EXPLAIN"))
				ASSERT_EQ(ex.cancel_id, TXC_ID_MAKE(prefix, 1),
					  "the first's mark tagging still works (mark mask kept)");
		}
		txc_client_close(c);
		ret = txct_daemon_stop(&x);
		ASSERT_EQ(ret, 0, "the first exits cleanly");
	}
	txct_daemon_cleanup(&x);
	test_sub_end();

	test_sub_begin("second_daemon_same_pin_dir");
	/*
	 * Another socket but the same pin dir: the second would share the
	 * first's maps and leases.  It must refuse to start, and the first's
	 * clients must keep their rules whatever it does.
	 */
	if (ASSERT_OK(txct_daemon_start(&x, NULL, args), "start the first")) {
		char other_sock[160], maps_dir[192];
		const char *argv[] = {
			txct_daemon_path(), "-s", other_sock, "-d", x.pin_dir, "--grace", "1", NULL,
		};
		struct txc_flow_key k = flow_key(4, 9600, 9601);
		struct txc_client *c = NULL;
		struct txc_rep_explain ex;
		__u8 frame[128], prefix = 0;
		__u32 len = udp_frame(frame, 4, 9600, 9601), source = 0;
		int status = 0, waited;
		pid_t pid;

		snprintf(other_sock, sizeof(other_sock), "%s/second.sock", x.dir);
		snprintf(maps_dir, sizeof(maps_dir), "%s/maps", x.pin_dir);
		if (ASSERT_OK(txc_client_open(&c, x.sock), "client of the first") &&
		    ASSERT_OK(txc_generate_partial_cancel_id(c, &prefix), "prefix") &&
		    ASSERT_OK(txc_source_open(c, &source), "source"))
			ASSERT_OK(txc_tag_flow(c, &k, TXC_ID_MAKE(prefix, 1), source), "flow rule");
		fflush(stdout);
		pid = fork();
		if (pid == 0) {
			int null = open("/dev/null", O_WRONLY);

			dup2(null, STDOUT_FILENO);
			dup2(null, STDERR_FILENO);
			execv(argv[0], (char *const *)argv);
			_exit(127);
		}
		/* Long enough for its grace period (1 s) to run out, if it runs. */
		for (waited = 0; waited < 3000 && waitpid(pid, &status, WNOHANG) == 0; waited += 50)
			test_sleep_ms(50);
		if (!ASSERT_TRUE(waited < 3000 && WIFEXITED(status) && WEXITSTATUS(status) != 0,
				 "the second daemon refuses to start on a pin dir in use")) {
			if (c && ASSERT_OK(txc_explain(c, NULL, 0, frame, len, &ex), "EXPLAIN"))
				ASSERT_EQ(ex.cancel_id, TXC_ID_MAKE(prefix, 1),
					  "while it runs, the first's client keeps its rule");
			kill(pid, SIGTERM);
			waitpid(pid, &status, 0);
		}
		ASSERT_TRUE(!stat(maps_dir, &st), "the first's maps are still pinned");
		if (c && ASSERT_OK(txc_explain(c, NULL, 0, frame, len, &ex), "EXPLAIN"))
			ASSERT_EQ(ex.cancel_id, TXC_ID_MAKE(prefix, 1),
				  "the first's client keeps its rule");
		txc_client_close(c);
		txct_daemon_stop(&x);
	}
	txct_daemon_cleanup(&x);
	test_sub_end();

	test_sub_begin("per_user_connection_limit");
	{
		static const char *const lim[] = { "--max-conns", "2", NULL };

		if (ASSERT_OK(txct_daemon_start(&x, NULL, lim), "start with --max-conns 2")) {
			ASSERT_EQ(txct_run_as(UID_C, UID_C, false, conn_limit_child, x.sock), 0,
				  "a third connection of one user is refused");
			ASSERT_EQ(txct_daemon_stop(&x), 0, "exits cleanly");
		}
		txct_daemon_cleanup(&x);
	}
	test_sub_end();

	test_sub_begin("kill_and_restart");
	/* A crash leaves socket and pins; a restart takes them over and serves again. */
	if (ASSERT_OK(txct_daemon_start(&y, NULL, args), "start")) {
		struct txc_flow_key k = flow_key(4, 9500, 9501);
		struct txc_client *c = NULL;
		struct txc_prefix_info info[8];
		__u8 prefix = 0;
		__u32 source = 0;

		/* Leases and a rule of a client the crash cuts off. */
		if (ASSERT_OK(txc_client_open(&c, y.sock), "client") &&
		    ASSERT_OK(txc_generate_partial_cancel_id(c, &prefix), "prefix") &&
		    ASSERT_OK(txc_source_open(c, &source), "source"))
			ASSERT_OK(txc_tag_flow(c, &k, TXC_ID_MAKE(prefix, 1), source), "flow rule");
		txct_daemon_kill(&y);
		txc_client_close(c);
		c = NULL;
		ASSERT_TRUE(!stat(y.sock, &st), "socket file left by the crash");
		ASSERT_TRUE(!stat(y.pin_dir, &st), "pins left by the crash");
		if (ASSERT_OK(txct_daemon_restart(&y), "restart") &&
		    ASSERT_OK(txc_client_open(&c, y.sock), "serves again")) {
			int count = txc_prefix_list(c, info, 8);

			/* The cut-off client's prefix waits, orphaned, with its rule. */
			if (ASSERT_EQ(count, 1, "one lease found again")) {
				ASSERT_EQ(info[0].prefix, prefix, "its prefix");
				ASSERT_EQ(info[0].state, TXC_LEASE_ORPHANED, "orphaned");
				ASSERT_EQ(info[0].conn_id, 0, "no connection");
				ASSERT_EQ(info[0].rules, 1, "its rule counted");
			}
			ASSERT_OK(txc_prefix_claim(c, prefix), "claimed back by the same user");
			count = txc_prefix_list(c, info, 8);
			if (ASSERT_EQ(count, 1, "one lease"))
				ASSERT_EQ(info[0].state, TXC_LEASE_HELD, "held again");
			ASSERT_OK(txc_source_claim(c, source), "source claimed back");
			txc_client_close(c);
		}
		ASSERT_EQ(txct_daemon_stop(&y), 0, "exits cleanly");
		ASSERT_TRUE(stat(y.pin_dir, &st) && errno == ENOENT, "pin dir removed");
	}
	txct_daemon_cleanup(&y);
	test_sub_end();
}

/* ========================================================================== */

/* The main daemon, stopped last: exit status 0, nothing left behind. */
static void test_shutdown(void)
{
	struct stat st;
	int ret;

	maps_close();
	peer_close(&root);
	peer_close(&by);
	ret = txct_daemon_stop(&dm);
	if (!ASSERT_EQ(ret, 0, "exit status after SIGTERM"))
		txct_daemon_dump_log(&dm);
	ASSERT_TRUE(stat(dm.sock, &st) && errno == ENOENT, "socket removed");
	ASSERT_TRUE(stat(dm.pin_dir, &st) && errno == ENOENT, "pin dir removed");
}

static const struct test_case cases[] = {
	{ "requests", test_requests },
	{ "validation", test_validation },
	{ "permissions", test_permissions },
	{ "leases", test_leases },
	{ "async", test_async },
	{ "socket_tags", test_socket_tags },
	{ "socket_tags_restart", test_socket_tags_restart },
	{ "lifecycle", test_lifecycle },
	{ "shutdown", test_shutdown },
};

int main(int argc, char **argv)
{
	char mask[16], maxp[16], maxr[16];
	const char *args[] = {
		"--mark-mask", mask, "--max-prefixes", maxp, "--max-rules", maxr, NULL,
	};
	struct stat st;
	int rc, err;

	if (geteuid() != 0) {
		printf("SKIP test_proto: needs root (BPF, other users' connections)\n");
		return 0;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	snprintf(mask, sizeof(mask), "0x%x", MARK_MASK);
	snprintf(maxp, sizeof(maxp), "%d", MAX_PREFIXES);
	snprintf(maxr, sizeof(maxr), "%d", MAX_RULES);
	if (stat(txct_daemon_path(), &st)) {
		printf("FAIL daemon: %s not found: make build/txcanceld\n", txct_daemon_path());
		return 1;
	}
	err = txct_daemon_start(&dm, NULL, args);
	if (err) {
		printf("FAIL daemon: txcanceld did not start: %s\n", strerror(-err));
		return 1;
	}
	err = peer_open_lib(&root);
	if (!err)
		err = peer_open_lib(&by);
	if (!err) {
		by_prefix = prefix_alloc(&by, 0);
		by_source = source_open(&by);
	}
	if (err || !by_prefix || !by_source) {
		printf("FAIL setup: clients of the daemon\n");
		txct_daemon_dump_log(&dm);
		txct_daemon_cleanup_all();
		return 1;
	}
	rc = test_main(argc, argv, cases, ARRAY_SIZE(cases));
	if (rc && dm.pid > 0)
		txct_daemon_dump_log(&dm);
	maps_close();
	peer_close(&root);
	peer_close(&by);
	txct_daemon_cleanup(&dm);
	return rc;
}
