// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Seed corpus of the fuzz targets: valid messages only, so that the fuzzer
 * starts from inside the protocol and mutates its way out.
 *
 *   <dir>/request/seed-*       for fuzz_request: one byte, the number of
 *                              descriptors passed, then a request; every
 *                              request type, every tag kind, scope and batch
 *                              op, batches of 1, 4 and TXC_BATCH_MAX ops
 *   <dir>/completions/seed-*   for fuzz_completions: completion events of 0,
 *                              1 and TXC_COMPLETIONS_MAX records, several
 *                              events back to back, and a reply of every type
 *
 * Usage: gen_corpus <dir> (make corpus: tests/corpus).  The output depends on
 * nothing but this file and the protocol headers.  Every seed is put to the
 * checks it feeds (the daemon's request check, the library's message check)
 * before it is written: a seed they refuse is a bug here or there.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <arpa/inet.h>

#include "proto_check.h"
#include "internal.h"

#define HDR	sizeof(struct txc_msg_hdr)

static const char *out_dir;
static __u8 msg[TXC_MSG_MAX + 1];
static int written;

static void write_file(const char *target, const char *name, const void *data, size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", out_dir, target);
	if (mkdir(path, 0755) && errno != EEXIST) {
		fprintf(stderr, "gen_corpus: mkdir %s: %s\n", path, strerror(errno));
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/%s/seed-%s", out_dir, target, name);
	f = fopen(path, "wb");
	if (!f || fwrite(data, 1, len, f) != len || fclose(f)) {
		fprintf(stderr, "gen_corpus: writing %s: %s\n", path, strerror(errno));
		exit(1);
	}
	written++;
}

/* A message of @type with @body_len bytes of body, in msg[@at...]. */
static size_t put_msg(size_t at, __u8 type, __u16 flags, __s32 error, __u32 seq,
		      const void *body, size_t body_len)
{
	struct txc_msg_hdr h = {
		.magic = TXC_PROTO_MAGIC, .version = TXC_PROTO_VERSION, .type = type,
		.flags = flags, .length = HDR + body_len, .seq = seq, .error = error,
	};

	memcpy(msg + at, &h, sizeof(h));
	if (body_len)
		memcpy(msg + at + HDR, body, body_len);
	return HDR + body_len;
}

/* --- requests ------------------------------------------------------------- */

static void request(const char *name, __u8 type, const void *body, size_t len, __u8 n_fds)
{
	struct txc_rep_error err;
	size_t n;

	msg[0] = n_fds;
	n = put_msg(1, type, 0, 0, 7, body, len);
	if (txcd_check_request(msg + 1, n, n_fds, &err)) {
		fprintf(stderr, "gen_corpus: request seed %s refused: %s\n", name, err.message);
		exit(1);
	}
	write_file("request", name, msg, 1 + n);
}

static struct txc_req_tag tag(__u8 kind, int add)
{
	struct txc_req_tag t = { .kind = kind };

	if (add) {
		t.cancel_id = TXC_ID_MAKE(3, 0x1234);
		t.source = 5;
	}
	switch (kind) {
	case TXC_TAG_MARK:
		t.key.mark = 0x300;
		break;
	case TXC_TAG_SOCKET:
		t.key.socket_cookie = add ? 0 : 0x1000000abull;
		break;
	case TXC_TAG_CGROUP:
		t.key.cgroup_id = 4242;
		break;
	case TXC_TAG_FLOW:
		t.key.flow.family = TXC_FAMILY_IPV4;
		t.key.flow.proto = 17;
		t.key.flow.sport = htons(40000);
		t.key.flow.dport = htons(9);
		memcpy(t.key.flow.saddr, (__u8[]){ 198, 18, 0, 1 }, 4);
		memcpy(t.key.flow.daddr, (__u8[]){ 198, 18, 0, 2 }, 4);
		break;
	}
	return t;
}

static struct txc_req_tag tag_flow6(int add)
{
	struct txc_req_tag t = tag(TXC_TAG_FLOW, add);
	static const __u8 a[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	static const __u8 b[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };

	t.key.flow.family = TXC_FAMILY_IPV6;
	t.key.flow.proto = 6;
	memcpy(t.key.flow.saddr, a, 16);
	memcpy(t.key.flow.daddr, b, 16);
	return t;
}

static struct txc_req_cancel cancel(__u8 scope, const char *ifname, __u64 timeout_ns)
{
	struct txc_req_cancel r = { .scope = scope, .timeout_ns = timeout_ns };

	r.value = scope == TXC_SCOPE_ID ? TXC_ID_MAKE(3, 0x1234) :
		  scope == TXC_SCOPE_PREFIX ? 3 : 5;
	if (ifname)
		strncpy(r.ifname, ifname, sizeof(r.ifname) - 1);
	return r;
}

static struct txc_batch_op op_tag(__u8 type, struct txc_req_tag t)
{
	struct txc_batch_op op = { .type = type };

	op.tag = t;
	return op;
}

static void batch(const char *name, const struct txc_batch_op *ops, __u32 count)
{
	static __u8 body[sizeof(struct txc_req_batch) + TXC_BATCH_MAX * sizeof(struct txc_batch_op)];
	struct txc_req_batch b = { .count = count };

	memcpy(body, &b, sizeof(b));
	memcpy(body + sizeof(b), ops, count * sizeof(*ops));
	request(name, TXC_MSG_BATCH, body, sizeof(b) + count * sizeof(*ops), 0);
}

/* Hello, prefixes, sources and subscriptions. */
static void gen_session_requests(void)
{
	request("hello", TXC_MSG_HELLO, &(struct txc_req_hello){ .version = 1 }, 8, 0);
	request("prefix_alloc_any", TXC_MSG_PREFIX_ALLOC, &(struct txc_req_prefix){ 0 }, 8, 0);
	request("prefix_alloc_255", TXC_MSG_PREFIX_ALLOC,
		&(struct txc_req_prefix){ .prefix = 255 }, 8, 0);
	request("prefix_free", TXC_MSG_PREFIX_FREE, &(struct txc_req_prefix){ .prefix = 3 }, 8, 0);
	request("prefix_list", TXC_MSG_PREFIX_LIST, NULL, 0, 0);
	request("source_open_new", TXC_MSG_SOURCE_OPEN, &(struct txc_req_source){ 0 }, 8, 0);
	request("source_open_reclaim", TXC_MSG_SOURCE_OPEN,
		&(struct txc_req_source){ .source = TXC_MAX_SOURCES - 1 }, 8, 0);
	request("source_close", TXC_MSG_SOURCE_CLOSE, &(struct txc_req_source){ .source = 5 }, 8, 0);
	request("subscribe", TXC_MSG_SUBSCRIBE, &(struct txc_req_source){ .source = 5 }, 8, 0);
	request("unsubscribe", TXC_MSG_UNSUBSCRIBE, &(struct txc_req_source){ .source = 5 }, 8, 0);
}

/* Tag add and delete of every kind, flows of both families. */
static void gen_tag_requests(void)
{
	static const __u8 kinds[] = { TXC_TAG_MARK, TXC_TAG_SOCKET, TXC_TAG_CGROUP, TXC_TAG_FLOW };
	static const char *const kind_names[] = { "", "mark", "socket", "cgroup", "flow4" };
	struct txc_req_tag t;
	char name[64];

	for (size_t i = 0; i < sizeof(kinds); i++) {
		t = tag(kinds[i], 1);
		snprintf(name, sizeof(name), "tag_add_%s", kind_names[kinds[i]]);
		request(name, TXC_MSG_TAG_ADD, &t, sizeof(t), kinds[i] == TXC_TAG_SOCKET);
		t = tag(kinds[i], 0);
		snprintf(name, sizeof(name), "tag_del_%s", kind_names[kinds[i]]);
		request(name, TXC_MSG_TAG_DEL, &t, sizeof(t), kinds[i] == TXC_TAG_SOCKET);
	}
	t = tag_flow6(1);
	request("tag_add_flow6", TXC_MSG_TAG_ADD, &t, sizeof(t), 0);
	t = tag_flow6(0);
	request("tag_del_flow6", TXC_MSG_TAG_DEL, &t, sizeof(t), 0);
}

/* Cancel and clear in every scope, with and without an interface and a timeout. */
static void gen_cancel_requests(void)
{
	static const char *const scope_names[] = { "", "source", "prefix", "id" };
	char name[64];

	for (__u8 s = TXC_SCOPE_SOURCE; s <= TXC_SCOPE_ID; s++) {
		struct txc_req_cancel c = cancel(s, NULL, 0);
		struct txc_req_clear cl = { .scope = s, .value = c.value };

		snprintf(name, sizeof(name), "cancel_%s", scope_names[s]);
		request(name, TXC_MSG_CANCEL, &c, sizeof(c), 0);
		c = cancel(s, "veth0", 250000000);
		snprintf(name, sizeof(name), "cancel_%s_iface_timeout", scope_names[s]);
		request(name, TXC_MSG_CANCEL, &c, sizeof(c), 0);
		snprintf(name, sizeof(name), "clear_%s", scope_names[s]);
		request(name, TXC_MSG_CLEAR, &cl, sizeof(cl), 0);
	}
}

/* Stats, counting, status, metrics, capture and explain. */
static void gen_query_requests(void)
{
	struct txc_req_explain ex = { .mark = 0x300, .frame_len = 42 };

	request("stats_sources", TXC_MSG_STATS,
		&(struct txc_req_stats){ .scope = TXC_SCOPE_SOURCE }, 8, 0);
	request("stats_id", TXC_MSG_STATS, &(struct txc_req_stats){ .scope = TXC_SCOPE_ID,
		.value = TXC_ID_MAKE(3, 1) }, 8, 0);
	request("count_id_on", TXC_MSG_COUNT_ID, &(struct txc_req_count_id){
		.cancel_id = TXC_ID_MAKE(3, 1), .enable = 1 }, 8, 0);
	request("count_id_off", TXC_MSG_COUNT_ID, &(struct txc_req_count_id){
		.cancel_id = TXC_ID_MAKE(3, 1) }, 8, 0);
	request("status", TXC_MSG_STATUS, NULL, 0, 0);
	request("metrics", TXC_MSG_METRICS, NULL, 0, 0);
	request("abort_places", TXC_MSG_ABORT_PLACES, NULL, 0, 0);
	request("capture", TXC_MSG_CAPTURE, &(struct txc_req_capture){ .source = 5,
		.snaplen = 128 }, 8, 0);
	/* A UDP/IPv4 frame's first bytes: Ethernet, then IP. */
	memset(ex.frame, 0x11, ex.frame_len);
	ex.frame[12] = 0x08;
	ex.frame[13] = 0x00;
	request("explain", TXC_MSG_EXPLAIN, &ex, sizeof(ex), 0);
	strcpy(ex.ifname, "veth0");
	ex.frame_len = TXC_EXPLAIN_FRAME_MAX;
	memset(ex.frame, 0x22, ex.frame_len);
	request("explain_iface_max_frame", TXC_MSG_EXPLAIN, &ex, sizeof(ex), 0);
}

/* Batches: one op, four mixed ops, the most ops a batch holds. */
static void gen_batch_requests(void)
{
	static struct txc_batch_op many[TXC_BATCH_MAX];
	struct txc_batch_op mixed[4];
	struct txc_req_tag t;

	mixed[0] = op_tag(TXC_MSG_TAG_ADD, tag(TXC_TAG_MARK, 1));
	mixed[1] = (struct txc_batch_op){ .type = TXC_MSG_CANCEL, .cancel = cancel(TXC_SCOPE_ID, "veth0", 0) };
	mixed[2] = (struct txc_batch_op){ .type = TXC_MSG_CLEAR,
		.clear = { .scope = TXC_SCOPE_PREFIX, .value = 3 } };
	mixed[3] = op_tag(TXC_MSG_TAG_DEL, tag(TXC_TAG_CGROUP, 0));
	batch("batch_1", mixed, 1);
	batch("batch_4_mixed", mixed, 4);
	for (__u32 i = 0; i < TXC_BATCH_MAX; i++) {
		t = i % 2 ? tag(TXC_TAG_CGROUP, 1) : tag_flow6(1);
		t.cancel_id = TXC_ID_MAKE(3, i);
		if (i % 2)
			t.key.cgroup_id += i;
		else
			t.key.flow.sport = htons(10000 + i);
		many[i] = op_tag(TXC_MSG_TAG_ADD, t);
	}
	batch("batch_max", many, TXC_BATCH_MAX);
}

static void gen_requests(void)
{
	gen_session_requests();
	gen_tag_requests();
	gen_cancel_requests();
	gen_query_requests();
	gen_batch_requests();
}

/* --- completions and replies ---------------------------------------------- */

static struct txc_abort_record record(__u32 source, __u64 seq)
{
	struct txc_abort_record r = {
		.hdr = { .version = TXC_RECORD_VERSION, .type = TXC_RECORD_ABORT,
			 .size = sizeof(r), .status = TXC_STATUS_SEND_ABORTED },
		.cancel_id = TXC_ID_MAKE(3, seq & 0xffff), .source = source, .seq = seq,
		.tstamp_ns = 1000000000ull + seq * 1000, .ifindex = 7, .len = 142,
		.gso_segs = 1, .hook = TXC_HOOK_TC_EGRESS, .tag_kind = TXC_TAG_MARK,
		.scope = TXC_SCOPE_ID,
		.frame = { .eth_proto = htons(0x0800), .family = TXC_FAMILY_IPV4, .l4_proto = 17,
			   .sport = htons(40000), .dport = htons(9) },
	};

	memcpy(r.frame.saddr, (__u8[]){ 198, 18, 0, 1 }, 4);
	memcpy(r.frame.daddr, (__u8[]){ 198, 18, 0, 2 }, 4);
	return r;
}

/* A COMPLETIONS event of @count records of @source at msg[@at]. */
static size_t event(size_t at, __u32 source, __u32 count, __u64 first_seq)
{
	static __u8 body[sizeof(struct txc_ev_completions) +
			 TXC_COMPLETIONS_MAX * sizeof(struct txc_abort_record)];
	struct txc_ev_completions ev = {
		.source = source, .count = count, .aborted = first_seq - 1 + count + 2,
		.ring_lost = 2, .delivered = first_seq - 1 + count,
	};

	memcpy(body, &ev, sizeof(ev));
	for (__u32 i = 0; i < count; i++) {
		struct txc_abort_record r = record(source, first_seq + i);

		memcpy(body + sizeof(ev) + i * sizeof(r), &r, sizeof(r));
	}
	return put_msg(at, TXC_MSG_COMPLETIONS, TXC_MSG_F_EVENT, 0, 0, body,
		       sizeof(ev) + count * sizeof(struct txc_abort_record));
}

/*
 * A COMPLETIONS_CAPTURE event of @count records of @source at msg[@at],
 * record i carrying (i * 29) % (TXC_CAPTURE_MAX + 1) bytes of frame.
 */
static size_t capture_event(size_t at, __u32 source, __u32 count, __u64 first_seq)
{
	static __u8 body[TXC_MSG_MAX];
	struct txc_ev_completions ev = {
		.source = source, .count = count, .aborted = first_seq - 1 + count,
		.delivered = first_seq - 1 + count,
	};
	size_t off = sizeof(ev);

	memcpy(body, &ev, sizeof(ev));
	for (__u32 i = 0; i < count; i++) {
		struct txc_abort_record r = record(source, first_seq + i);

		r.cap_len = (i * 29) % (TXC_CAPTURE_MAX + 1);
		r.hdr.version = TXC_RECORD_VERSION_CAPTURE;
		r.hdr.size = TXC_RECORD_CAPTURE_SIZE(r.cap_len);
		memcpy(body + off, &r, sizeof(r));
		for (__u32 b = 0; b < r.hdr.size - sizeof(r); b++)
			body[off + sizeof(r) + b] = b < r.cap_len ? (__u8)(b + i) : 0;
		off += r.hdr.size;
	}
	return put_msg(at, TXC_MSG_COMPLETIONS_CAPTURE, TXC_MSG_F_EVENT, 0, 0, body, off);
}

/* Each message of the @len bytes at msg[0] must pass the library's check. */
static void completions(const char *name, size_t len)
{
	static struct txc_client c;

	for (size_t off = 0; off < len; ) {
		struct txc_msg_hdr h;

		memcpy(&h, msg + off, sizeof(h));
		if (txcl_check_msg(&c, msg + off, h.length)) {
			fprintf(stderr, "gen_corpus: completions seed %s refused: %s\n", name, c.err);
			exit(1);
		}
		off += h.length;
	}
	write_file("completions", name, msg, len);
}

static void reply(const char *name, __u8 type, const void *body, size_t len)
{
	completions(name, put_msg(0, type, TXC_MSG_F_REPLY, 0, 9, body, len));
}

static void gen_completions(void)
{
	static __u8 body[4096];
	struct txc_rep_status st = { .pid = 1, .n_ifaces = 2, .n_clients = 3 };
	struct txc_rep_list list = { .count = 3 };
	struct txc_rep_batch rb = { .applied = 1, .failed = 1,
				    .error = { .field = 40, .message = "batch op 1: refused" } };
	struct txc_rep_error re = { .field = TXC_FIELD_NONE, .message = "refused" };
	size_t n;

	completions("event_0_records", event(0, 5, 0, 1));
	completions("event_1_record", event(0, 5, 1, 1));
	completions("event_max_records", event(0, TXC_MAX_SOURCES - 1, TXC_COMPLETIONS_MAX, 1));
	/* Several batches of several sources in one input: one packet each. */
	n = event(0, 9, 3, 1);
	n += event(n, 2, 1, 1);
	n += event(n, 9, 0, 4);
	n += event(n, 1, 17, 1);
	n += event(n, 2, 2, 2);
	completions("events_several_sources", n);
	completions("event_capture", capture_event(0, 5, 24, 1));
	n = capture_event(0, 7, 2, 1);
	n += event(n, 7, 2, 3);
	completions("events_capture_and_not", n);
	reply("reply_capture", TXC_MSG_CAPTURE, NULL, 0);

	reply("reply_hello", TXC_MSG_HELLO, &(struct txc_rep_hello){ .version = 1, .conn_id = 1,
		.mark_mask = 0xff00, .max_prefixes = 16, .max_sources = 256 }, 32);
	reply("reply_prefix_alloc", TXC_MSG_PREFIX_ALLOC, &(struct txc_rep_prefix){ .prefix = 3 }, 8);
	reply("reply_prefix_free", TXC_MSG_PREFIX_FREE, NULL, 0);
	memcpy(body, &list, sizeof(list));
	memset(body + sizeof(list), 0, 3 * sizeof(struct txc_stats_entry));
	reply("reply_prefix_list", TXC_MSG_PREFIX_LIST, body,
	      sizeof(list) + 3 * sizeof(struct txc_prefix_info));
	reply("reply_stats", TXC_MSG_STATS, body, sizeof(list) + 3 * sizeof(struct txc_stats_entry));
	reply("reply_stats_empty", TXC_MSG_STATS, &(struct txc_rep_list){ 0 }, sizeof(list));
	reply("reply_abort_places", TXC_MSG_ABORT_PLACES, &(struct txc_rep_list){ 0 }, sizeof(list));
	reply("reply_source_open", TXC_MSG_SOURCE_OPEN, &(struct txc_rep_source){ .source = 5 }, 8);
	reply("reply_source_close", TXC_MSG_SOURCE_CLOSE, NULL, 0);
	reply("reply_tag_add", TXC_MSG_TAG_ADD, &(struct txc_rep_tag){ .key = 0x1000000abull }, 8);
	reply("reply_tag_del", TXC_MSG_TAG_DEL, NULL, 0);
	reply("reply_cancel", TXC_MSG_CANCEL, &(struct txc_rep_cancel){ .since_ns = 12345 }, 8);
	reply("reply_clear", TXC_MSG_CLEAR, &(struct txc_rep_clear){ .valid = 1 },
	      sizeof(struct txc_rep_clear));
	reply("reply_count_id", TXC_MSG_COUNT_ID, NULL, 0);
	reply("reply_subscribe", TXC_MSG_SUBSCRIBE, NULL, 0);
	reply("reply_unsubscribe", TXC_MSG_UNSUBSCRIBE, NULL, 0);
	reply("reply_batch", TXC_MSG_BATCH, &(struct txc_rep_batch){ .applied = 4,
		.failed = TXC_FIELD_NONE }, sizeof(struct txc_rep_batch));
	memset(body, 0, sizeof(body));
	memcpy(body, &st, sizeof(st));
	reply("reply_status", TXC_MSG_STATUS, body, sizeof(st) +
	      2 * sizeof(struct txc_status_iface) + 3 * sizeof(struct txc_status_client));
	reply("reply_explain", TXC_MSG_EXPLAIN, &(struct txc_rep_explain){ .verdict = 1 },
	      sizeof(struct txc_rep_explain));
	memset(body, 0, sizeof(body));
	memcpy(body, &(struct txc_rep_metrics){ .n_ifaces = 2,
		.n_requests = TXC_MSG_REQUEST_MAX + 1, .flags = TXC_METRICS_F_IFACE_COUNTERS },
	       sizeof(struct txc_rep_metrics));
	reply("reply_metrics", TXC_MSG_METRICS, body, sizeof(struct txc_rep_metrics) +
	      2 * sizeof(struct txc_metrics_iface) +
	      (TXC_MSG_REQUEST_MAX + 1) * sizeof(struct txc_metrics_request));
	completions("reply_error", put_msg(0, TXC_MSG_CANCEL, TXC_MSG_F_REPLY, -EPERM, 9, &re,
					   sizeof(re)));
	completions("reply_batch_error", put_msg(0, TXC_MSG_BATCH, TXC_MSG_F_REPLY, -EINVAL, 9,
						 &rb, sizeof(rb)));
	/* An event, then the reply to a request: what a waiting client sees. */
	n = event(0, 5, 2, 1);
	n += put_msg(n, TXC_MSG_CANCEL, TXC_MSG_F_REPLY, 0, 9,
		     &(struct txc_rep_cancel){ .since_ns = 1 }, 8);
	completions("event_then_reply", n);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s <corpus dir>\n", argv[0]);
		return 2;
	}
	out_dir = argv[1];
	if (mkdir(out_dir, 0755) && errno != EEXIST) {
		fprintf(stderr, "gen_corpus: mkdir %s: %s\n", out_dir, strerror(errno));
		return 1;
	}
	gen_requests();
	gen_completions();
	printf("gen_corpus: %d seed files under %s\n", written, out_dir);
	return 0;
}
