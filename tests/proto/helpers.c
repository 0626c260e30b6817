// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* What every part of test_proto shares: its daemon, its clients, requests and checks. */
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
#include "../../common/frame.h"
#include "daemon_fixture.h"
#include "proto_peer.h"
#include "proto_test.h"
#include "testlib.h"

struct txct_daemon dm;		/* the daemon every test but lifecycle talks to */
struct peer root;		/* a root client for the success cases */
struct peer by;			/* the bystander */
__u32 by_prefix, by_source;
struct reply rep, rep2;		/* big: kept out of the stack */
struct msg req;

/* --- frames and keys ------------------------------------------------------ */

static const char *const V4_SRC = "198.18.0.1", *const V4_DST = "198.18.0.2";
static const char *const V6_SRC = "2001:db8::1", *const V6_DST = "2001:db8::2";

void addr_of(int family, const char *text, __u8 out[16])
{
	memset(out, 0, 16);
	inet_pton(family == 4 ? AF_INET : AF_INET6, text, out);
}

struct txc_flow_key flow_key(int family, __u16 sport, __u16 dport)
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

/* An Ethernet + IPv4/IPv6 + UDP frame with 16 bytes of payload matching flow_key(). */
__u32 udp_frame(__u8 *f, size_t size, int family, __u16 sport, __u16 dport)
{
	struct txc_flow_key k = flow_key(family, sport, dport);
	struct frame_spec spec = {
		.family = family, .proto = IPPROTO_UDP, .sport = k.sport, .dport = k.dport,
	};
	int n;

	memcpy(spec.saddr, k.saddr, sizeof(spec.saddr));
	memcpy(spec.daddr, k.daddr, sizeof(spec.daddr));
	spec.len = frame_headers_len(&spec) + 16;
	n = frame_build(&spec, f, size);
	return n < 0 ? 0 : n;
}

/* --- messages ------------------------------------------------------------- */

int peer_open_raw(struct peer *p)
{
	return peer_open_path(p, dm.sock);
}

int call_fd(struct peer *p, __u8 type, const void *body, size_t len, int fd,
	    struct reply *r)
{
	size_t n = msg_make(&req, type, body, len);

	return peer_send(p, &req, n, &fd, fd >= 0, r);
}

int call(struct peer *p, __u8 type, const void *body, size_t len, struct reply *r)
{
	return call_fd(p, type, body, len, -1, r);
}

/* --- small requests ------------------------------------------------------- */

int hello(struct peer *p, struct reply *r)
{
	struct txc_req_hello h = { .version = TXC_PROTO_VERSION };

	return call(p, TXC_MSG_HELLO, &h, sizeof(h), r);
}

/* A BATCH of the @count ops at @ops. */
int batch_call(struct peer *p, const struct txc_batch_op *ops, __u32 count, struct reply *r)
{
	static struct {
		struct txc_req_batch b;
		struct txc_batch_op ops[TXC_BATCH_MAX];
	} bt;

	if (count > TXC_BATCH_MAX)
		return -EMSGSIZE;
	memset(&bt.b, 0, sizeof(bt.b));
	bt.b.count = count;
	memcpy(bt.ops, ops, count * sizeof(*ops));
	return call(p, TXC_MSG_BATCH, &bt, sizeof(bt.b) + count * sizeof(*ops), r);
}

__u32 prefix_alloc(struct peer *p, __u32 want)
{
	struct txc_req_prefix b = { .prefix = want };
	int n = call(p, TXC_MSG_PREFIX_ALLOC, &b, sizeof(b), &rep2);

	return OK(n, &rep2, "PREFIX_ALLOC") ? rep2.prefix.prefix : 0;
}

__u32 source_open(struct peer *p)
{
	struct txc_req_source b = {};
	int n = call(p, TXC_MSG_SOURCE_OPEN, &b, sizeof(b), &rep2);

	return OK(n, &rep2, "SOURCE_OPEN") ? rep2.source.source : 0;
}

struct txc_req_tag tag_req(__u8 kind, __u32 id, __u32 source)
{
	return (struct txc_req_tag){ .kind = kind, .cancel_id = id, .source = source };
}

int tag_flow(struct peer *p, const struct txc_flow_key *k, __u32 id, __u32 source,
	     struct reply *r)
{
	struct txc_req_tag t = tag_req(TXC_TAG_FLOW, id, source);

	t.key.flow = *k;
	return call(p, TXC_MSG_TAG_ADD, &t, sizeof(t), r);
}

/* The fd of this process's socket with @cookie, or -1 (a socket's tag is reached through it). */
int socket_of(__u64 cookie)
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
int untag(struct peer *p, __u8 kind, const union txc_tag_key *key, struct reply *r)
{
	struct txc_req_tag t = { .kind = kind, .key = *key };

	return call_fd(p, TXC_MSG_TAG_DEL, &t, sizeof(t),
		       kind == TXC_TAG_SOCKET ? socket_of(key->socket_cookie) : -1, r);
}

int cancel(struct peer *p, __u8 scope, __u32 value, __u64 timeout_ns, struct reply *r)
{
	struct txc_req_cancel c = { .scope = scope, .value = value, .timeout_ns = timeout_ns };

	return call(p, TXC_MSG_CANCEL, &c, sizeof(c), r);
}

int clear(struct peer *p, __u8 scope, __u32 value, struct reply *r)
{
	struct txc_req_clear c = { .scope = scope, .value = value };

	return call(p, TXC_MSG_CLEAR, &c, sizeof(c), r);
}

int count_id(struct peer *p, __u32 id, __u32 enable, struct reply *r)
{
	struct txc_req_count_id c = { .cancel_id = id, .enable = enable };

	return call(p, TXC_MSG_COUNT_ID, &c, sizeof(c), r);
}

int stats(struct peer *p, __u8 scope, __u32 value, struct reply *r)
{
	struct txc_req_stats s = { .scope = scope, .value = value };

	return call(p, TXC_MSG_STATS, &s, sizeof(s), r);
}

int explain(struct peer *p, const void *frame, __u32 len, __u32 mark, struct reply *r)
{
	static struct txc_req_explain e;

	memset(&e, 0, sizeof(e));
	memcpy(e.frame, frame, len);
	e.frame_len = len;
	e.mark = mark;
	return call(p, TXC_MSG_EXPLAIN, &e, sizeof(e), r);
}

/* EXPLAIN a flow frame and check what the program decides. */
bool explain_is(struct peer *p, int family, __u16 sport, __u16 dport, __u32 mark,
		__u32 id, __u32 source, __u8 kind, __u8 verdict, __u8 scope,
		const char *what)
{
	__u8 frame[128];
	__u32 len = udp_frame(frame, sizeof(frame), family, sport, dport);
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
const struct txc_prefix_info *list_find(const struct reply *r, __u32 prefix)
{
	const struct txc_prefix_info *e = (const void *)(r->raw + sizeof(struct txc_rep_list));

	for (__u32 i = 0; i < r->list.count; i++)
		if (e[i].prefix == prefix)
			return &e[i];
	return NULL;
}

bool prefix_listed(struct peer *p, __u32 prefix)
{
	int n = call(p, TXC_MSG_PREFIX_LIST, NULL, 0, &rep2);

	return OK(n, &rep2, "PREFIX_LIST") && list_find(&rep2, prefix);
}

__u64 now_ns(void)
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
	{ "txc_lease_gens", -1 }, { "txc_source_caplen", -1 },
};

int map_fd(const char *name)
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

void maps_close(void)
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
bool socket_tag_get(__u64 cookie, struct txc_tag *tag)
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
bool rule_get(__u8 kind, const void *key, struct txc_tag *tag)
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

bool rule_is(__u8 kind, const void *key, __u32 id, __u32 source, const char *what)
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
bool cancel_active(__u8 scope, __u32 value, struct txc_cancel *out)
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

bool id_counted(__u32 id)
{
	struct txc_id_stats st[1024];

	return !bpf_map_lookup_elem(map_fd("txc_id_stats"), &id, st);
}

/*
 * Once the daemon is done making the rings it keeps ready after opens.  A
 * failed read fails here: two of them would compare equal.
 */
int daemon_fd_count(void)
{
	int n = proc_fd_count_settled(dm.pid);

	ASSERT_GE0(n, "the daemon's descriptors counted in /proc");
	return n;
}

/* --- liveness ------------------------------------------------------------- */

/* @p still gets answers, and the bystander still holds what it held. */
bool still_serving(struct peer *p)
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
bool peer_hello(struct peer *p)
{
	int n = hello(p, &rep2);

	if (!OK(n, &rep2, "HELLO"))
		return false;
	p->conn_id = rep2.hello.conn_id;
	p->uid = rep2.hello.uid;
	return true;
}

int peer_open_lib(struct peer *p)
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

/* A libtxcancel client of the daemon at @sock holding a prefix and a source. */
bool client_with_leases(struct txc_client **c, const char *sock, const char *what,
			__u8 *prefix, __u32 *source)
{
	return ASSERT_OK(txc_client_open(c, sock), what) &&
	       ASSERT_OK(txc_generate_partial_cancel_id(*c, prefix), "prefix") &&
	       ASSERT_OK(txc_source_open(*c, source), "source");
}
