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

	if (test_sub_begin("%s", name)) {
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
}

/* A body of @type with one byte at @off set to @val. */
static size_t poke(struct msg *m, __u8 type, const void *body, size_t len, size_t off, __u8 val)
{
	size_t n = msg_make(m, type, body, len);

	((__u8 *)m)[off] = val;
	return n;
}

/* @val into the @size-byte field at @off of @p, as an assignment writes it. */
static void field_set(void *p, size_t off, size_t size, __u64 val)
{
	__u8 *f = (__u8 *)p + off;

	switch (size) {
	case 1: *f = val; break;
	case 2: { __u16 v = val; memcpy(f, &v, 2); break; }
	case 4: { __u32 v = val; memcpy(f, &v, 4); break; }
	case 8: memcpy(f, &val, 8); break;
	}
}

#define HDR_FIELD(m)	OFF(struct txc_msg_hdr, m), sizeof(((struct txc_msg_hdr *)0)->m)

/* A valid HELLO but for one header field, set to @val; the refusal names @field. */
static const struct hdr_case {
	const char *name;
	size_t off, size;
	__u64 val;
	int errnum;
	const char *word;
	__u32 field;
} hdr_cases[] = {
	{ "bad_magic", HDR_FIELD(magic), 0x12345678, -EPROTO, "magic",
	  OFF(struct txc_msg_hdr, magic) },
	{ "version_2", HDR_FIELD(version), 2, -EPROTONOSUPPORT, "version 2",
	  OFF(struct txc_msg_hdr, version) },
	{ "version_0", HDR_FIELD(version), 0, -EPROTONOSUPPORT, "version 0",
	  OFF(struct txc_msg_hdr, version) },
	{ "type_0", HDR_FIELD(type), 0, -EBADMSG, "type 0", OFF(struct txc_msg_hdr, type) },
	{ "type_99", HDR_FIELD(type), 99, -EBADMSG, "type 99", OFF(struct txc_msg_hdr, type) },
	{ "type_past_max", HDR_FIELD(type), TXC_MSG_REQUEST_MAX + 1, -EBADMSG, "not a request",
	  OFF(struct txc_msg_hdr, type) },
	{ "event_type_as_request", HDR_FIELD(type), TXC_MSG_COMPLETIONS, -EBADMSG,
	  "not a request", OFF(struct txc_msg_hdr, type) },
	{ "flags_reply", HDR_FIELD(flags), TXC_MSG_F_REPLY, -EINVAL, "flags",
	  OFF(struct txc_msg_hdr, flags) },
	{ "flags_unknown", HDR_FIELD(flags), 0x8000, -EINVAL, "flags 0x8000",
	  OFF(struct txc_msg_hdr, flags) },
	{ "length_larger", HDR_FIELD(length), HDR + sizeof(struct txc_req_hello) + 4, -EINVAL,
	  "header says 36 bytes", OFF(struct txc_msg_hdr, length) },
	{ "length_smaller", HDR_FIELD(length), HDR, -EINVAL, "header says 24 bytes",
	  OFF(struct txc_msg_hdr, length) },
	{ "hdr_error_set", HDR_FIELD(error), (__u32)-1, -EINVAL, "must be zero",
	  OFF(struct txc_msg_hdr, error) },
	{ "hdr_reserved_set", HDR_FIELD(reserved), 1, -EINVAL, "reserved", FIELD_ANY },
};

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

	for (size_t i = 0; i < ARRAY_SIZE(hdr_cases); i++) {
		const struct hdr_case *c = &hdr_cases[i];

		len = msg_make(&req, TXC_MSG_HELLO, &hb, sizeof(hb));
		field_set(&req.h, c->off, c->size, c->val);
		refuse(c->name, &req, len, -1, c->errnum, c->word, c->field);
	}

	len = poke(&req, TXC_MSG_HELLO, &hb, sizeof(hb), HDR + OFF(struct txc_req_hello, reserved),
		   1);
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

		len = poke(&req, types[i], &sb, sizeof(sb),
			   HDR + OFF(struct txc_req_source, reserved), 1);
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

/* The requests a tag case starts from, each valid as it is. */
enum tag_base { TB_FLOW, TB_MARK, TB_CGROUP, TB_SOCKET_ADD, TB_SOCKET_DEL };

static struct txc_req_tag tag_base(enum tag_base base)
{
	struct txc_req_tag t = {};
	__u32 id = TXC_ID_MAKE(by_prefix, 7);

	switch (base) {
	case TB_FLOW:
		t = tag_req(TXC_TAG_FLOW, id, by_source);
		t.key.flow = flow_key(4, 1, 2);
		break;
	case TB_MARK:
		t = tag_req(TXC_TAG_MARK, id, by_source);
		t.key.mark = 0x33;
		break;
	case TB_CGROUP:
		t = tag_req(TXC_TAG_CGROUP, id, by_source);
		t.key.cgroup_id = 77;
		break;
	case TB_SOCKET_ADD:
		t = tag_req(TXC_TAG_SOCKET, id, by_source);
		break;
	case TB_SOCKET_DEL:	/* no ID or source; the cookie names the socket */
		t.kind = TXC_TAG_SOCKET;
		t.key.socket_cookie = 5;
		break;
	}
	return t;
}

/* Offset and size of a field of struct txc_req_tag. */
#define TAG_FIELD(m)	OFF(struct txc_req_tag, m), sizeof(((struct txc_req_tag *)0)->m)
#define TAG_KEY		(HDR + OFF(struct txc_req_tag, key))
#define TAG_AT(m)	(HDR + OFF(struct txc_req_tag, m))

/* A request valid but for one field, set to @val; the refusal names @field. */
static const struct tag_case {
	const char *name;
	__u8 type;
	enum tag_base base;
	size_t off, size;	/* the field changed; size 0: none */
	__u64 val;
	int errnum;
	const char *word;
	__u32 field;
} tag_cases[] = {
	{ "tag_reserved0", TXC_MSG_TAG_ADD, TB_FLOW, TAG_FIELD(reserved0[1]), 1,
	  -EINVAL, "reserved", TAG_AT(reserved0) },
	{ "tag_reserved1", TXC_MSG_TAG_ADD, TB_FLOW, TAG_FIELD(reserved1), 1,
	  -EINVAL, "reserved", FIELD_ANY },
	{ "tag_kind_0", TXC_MSG_TAG_ADD, TB_FLOW, TAG_FIELD(kind), 0,
	  -EINVAL, "tag kind 0", TAG_AT(kind) },
	{ "tag_kind_5", TXC_MSG_TAG_DEL, TB_FLOW, TAG_FIELD(kind), TXC_TAG_KIND_MAX + 1,
	  -EINVAL, "tag kind 5", TAG_AT(kind) },
	{ "mark_key_bytes_past_4", TXC_MSG_TAG_ADD, TB_MARK, TAG_FIELD(key.raw[4]), 1,
	  -EINVAL, "past the 4 bytes", TAG_KEY + 4 },
	{ "cgroup_key_bytes_past_8", TXC_MSG_TAG_ADD, TB_CGROUP, TAG_FIELD(key.raw[39]), 1,
	  -EINVAL, "past the 8 bytes", TAG_KEY + 8 },
	{ "socket_del_key_bytes_past_8", TXC_MSG_TAG_DEL, TB_SOCKET_DEL, TAG_FIELD(key.raw[8]), 1,
	  -EINVAL, "past the 8 bytes", TAG_KEY + 8 },
	{ "flow_family_5", TXC_MSG_TAG_ADD, TB_FLOW, TAG_FIELD(key.flow.family), 5,
	  -EINVAL, "family 5", TAG_KEY + OFF(struct txc_flow_key, family) },
	{ "flow_reserved", TXC_MSG_TAG_ADD, TB_FLOW, TAG_FIELD(key.flow.reserved), 1,
	  -EINVAL, "reserved", TAG_KEY + OFF(struct txc_flow_key, reserved) },
	{ "flow_v4_saddr_bytes_4_15", TXC_MSG_TAG_ADD, TB_FLOW, TAG_FIELD(key.flow.saddr[4]), 1,
	  -EINVAL, "4..15", FIELD_ANY },
	{ "flow_v4_daddr_bytes_4_15", TXC_MSG_TAG_ADD, TB_FLOW, TAG_FIELD(key.flow.daddr[15]), 1,
	  -EINVAL, "4..15", FIELD_ANY },
	{ "tag_id_prefix_0", TXC_MSG_TAG_ADD, TB_FLOW, TAG_FIELD(cancel_id), 0x00000007,
	  -EINVAL, "prefix 0", TAG_AT(cancel_id) },
	{ "tag_source_0", TXC_MSG_TAG_ADD, TB_FLOW, TAG_FIELD(source), 0,
	  -EINVAL, "source 0", TAG_AT(source) },
	{ "tag_source_4096", TXC_MSG_TAG_ADD, TB_FLOW, TAG_FIELD(source), TXC_MAX_SOURCES,
	  -EINVAL, "source 4096", TAG_AT(source) },
	{ "socket_add_with_cookie", TXC_MSG_TAG_ADD, TB_SOCKET_ADD, TAG_FIELD(key.socket_cookie),
	  1234, -EINVAL, "cookie must be 0", TAG_KEY },
	{ "tag_del_with_id_and_source", TXC_MSG_TAG_DEL, TB_FLOW, 0, 0, 0,
	  -EINVAL, "must be 0", TAG_AT(cancel_id) },
	{ "socket_del_without_socket", TXC_MSG_TAG_DEL, TB_SOCKET_DEL,
	  TAG_FIELD(key.socket_cookie), 0, -EBADF, "SCM_RIGHTS", TXC_FIELD_NONE },
	{ "cgroup_id_0", TXC_MSG_TAG_ADD, TB_CGROUP, TAG_FIELD(key.cgroup_id), 0,
	  -EINVAL, "cgroup id 0", TAG_KEY },
	{ "mark_0", TXC_MSG_TAG_ADD, TB_MARK, TAG_FIELD(key.mark), 0,
	  -EINVAL, "mark 0", TAG_KEY },
};

static void test_validation_tag(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(tag_cases); i++) {
		const struct tag_case *c = &tag_cases[i];
		struct txc_req_tag t = tag_base(c->base);
		size_t len;

		field_set(&t, c->off, c->size, c->val);
		len = msg_make(&req, c->type, &t, sizeof(t));
		refuse(c->name, &req, len, -1, c->errnum, c->word, c->field);
	}
}

/*
 * CANCEL, CLEAR and STATS begin alike: a scope, reserved bytes, a value.
 * Each case is one of them with a scope or a value refused, the refusal
 * naming that field; a scope refused comes with a value that would do.
 */
_Static_assert(OFF(struct txc_req_clear, value) == OFF(struct txc_req_cancel, value) &&
	       OFF(struct txc_req_stats, value) == OFF(struct txc_req_cancel, value) &&
	       OFF(struct txc_req_clear, scope) == OFF(struct txc_req_cancel, scope) &&
	       OFF(struct txc_req_stats, scope) == OFF(struct txc_req_cancel, scope),
	       "the scoped requests share their head");

static const struct scoped_case {
	const char *name;
	__u8 type;
	__u8 scope;
	__u32 value;
	const char *word;
	bool at_value;		/* the refusal names the value, else the scope */
} scoped_cases[] = {
	{ "cancel_scope_0", TXC_MSG_CANCEL, 0, TXC_ID_MAKE(1, 7), "scope 0", false },
	{ "cancel_scope_4", TXC_MSG_CANCEL, 4, TXC_ID_MAKE(1, 7), "scope 4", false },
	{ "cancel_id_prefix_0", TXC_MSG_CANCEL, TXC_SCOPE_ID, 0x00000007, "prefix 0", true },
	{ "cancel_id_0", TXC_MSG_CANCEL, TXC_SCOPE_ID, 0, "prefix 0", true },
	{ "cancel_prefix_0", TXC_MSG_CANCEL, TXC_SCOPE_PREFIX, 0, "prefix 0", true },
	{ "cancel_prefix_256", TXC_MSG_CANCEL, TXC_SCOPE_PREFIX, 256, "prefix 256", true },
	{ "cancel_source_0", TXC_MSG_CANCEL, TXC_SCOPE_SOURCE, 0, "source 0", true },
	{ "cancel_source_4096", TXC_MSG_CANCEL, TXC_SCOPE_SOURCE, TXC_MAX_SOURCES,
	  "source 4096", true },
	{ "clear_scope_0", TXC_MSG_CLEAR, 0, 1, "scope 0", false },
	{ "clear_scope_4", TXC_MSG_CLEAR, 4, 1, "scope 4", false },
	{ "clear_id_prefix_0", TXC_MSG_CLEAR, TXC_SCOPE_ID, 5, "prefix 0", true },
	{ "stats_scope_prefix", TXC_MSG_STATS, TXC_SCOPE_PREFIX, 1, "stats scope 2", false },
	{ "stats_scope_0", TXC_MSG_STATS, 0, 0, "stats scope 0", false },
	{ "stats_id_prefix_0", TXC_MSG_STATS, TXC_SCOPE_ID, 9, "prefix 0", true },
};

static size_t scoped_len(__u8 type)
{
	return type == TXC_MSG_CANCEL ? sizeof(struct txc_req_cancel) :
					sizeof(struct txc_req_clear);
}

static void test_validation_cancel(void)
{
	struct txc_req_cancel c;
	struct txc_req_clear cl;
	struct txc_req_stats st;
	struct txc_req_count_id ci;
	size_t len;

	for (size_t i = 0; i < ARRAY_SIZE(scoped_cases); i++) {
		const struct scoped_case *sc = &scoped_cases[i];

		c = (struct txc_req_cancel){ .scope = sc->scope, .value = sc->value };
		len = msg_make(&req, sc->type, &c, scoped_len(sc->type));
		refuse(sc->name, &req, len, -1, -EINVAL, sc->word,
		       HDR + (sc->at_value ? OFF(struct txc_req_cancel, value) :
				       OFF(struct txc_req_cancel, scope)));
	}

	c = (struct txc_req_cancel){ .scope = TXC_SCOPE_ID, .value = TXC_ID_MAKE(by_prefix, 7) };
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

	cl = (struct txc_req_clear){ .scope = TXC_SCOPE_PREFIX, .value = by_prefix };
	cl.reserved0[0] = 1;
	len = msg_make(&req, TXC_MSG_CLEAR, &cl, sizeof(cl));
	refuse("clear_reserved", &req, len, -1, -EINVAL, "reserved",
	       HDR + OFF(struct txc_req_clear, reserved0));

	st = (struct txc_req_stats){ .scope = TXC_SCOPE_SOURCE };
	st.reserved0[1] = 1;
	len = msg_make(&req, TXC_MSG_STATS, &st, sizeof(st));
	refuse("stats_reserved", &req, len, -1, -EINVAL, "reserved",
	       HDR + OFF(struct txc_req_stats, reserved0));

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
	/* Explain takes 14 bytes (an Ethernet header) to TXC_EXPLAIN_FRAME_MAX. */
	static const struct {
		__u32 frame_len;
		const char *name, *word;
	} bad_lens[] = {
		{ 13, "explain_frame_len_13", "frame length 13" },
		{ TXC_EXPLAIN_FRAME_MAX + 1, "explain_frame_len_513", "frame length 513" },
		{ 0, "explain_frame_len_0", "frame length 0" },
	};
	static struct txc_req_explain e;
	__u8 frame[128];
	__u32 flen = udp_frame(frame, sizeof(frame), 4, 1, 2);
	size_t len;

	memset(&e, 0, sizeof(e));
	memcpy(e.frame, frame, flen);
	for (size_t i = 0; i < ARRAY_SIZE(bad_lens); i++) {
		e.frame_len = bad_lens[i].frame_len;
		len = msg_make(&req, TXC_MSG_EXPLAIN, &e, sizeof(e));
		refuse(bad_lens[i].name, &req, len, -1, -EINVAL, bad_lens[i].word,
		       HDR + OFF(struct txc_req_explain, frame_len));
	}

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

	if (test_sub_begin("shorter_than_header")) {
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
	}

	if (test_sub_begin("empty_packet")) {
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
	}

	if (test_sub_begin("oversized")) {
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
			if (ERR(n, &rep, -EMSGSIZE, "65536-byte maximum", TXC_FIELD_NONE,
				"oversized"))
				ASSERT_EQ(rep.h.seq, req.h.seq, "seq echoed from the first bytes");
			still_serving(&r);
		}
		peer_close(&r);
		test_sub_end();
	}
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

	if (test_sub_begin("two_fds")) {
		if (ASSERT_OK(peer_open_raw(&r), "raw connection") && peer_hello(&r)) {
			len = msg_make(&req, TXC_MSG_TAG_ADD, &t, sizeof(t));
			n = peer_send(&r, &req, len, socks, 2, &rep);
			ERR(n, &rep, -EINVAL, "2 file descriptors", TXC_FIELD_NONE, "two sockets");
			ASSERT_TRUE(!rule_get(TXC_TAG_SOCKET, &cookie0, NULL),
				    "no rule for the first socket");
			still_serving(&r);
		}
		test_sub_end();
	}

	if (test_sub_begin("five_fds")) {
		if (r.fd >= 0) {
			len = msg_make(&req, TXC_MSG_TAG_ADD, &t, sizeof(t));
			n = peer_send(&r, &req, len, socks, 5, &rep);
			ERR(n, &rep, -EINVAL, "file descriptors", TXC_FIELD_NONE, "five sockets");
			still_serving(&r);
		}
		test_sub_end();
	}

	if (test_sub_begin("fd_socket_and_pipe")) {
		if (r.fd >= 0) {
			int two[2] = { pipefd[1], socks[1] };

			len = msg_make(&req, TXC_MSG_TAG_ADD, &t, sizeof(t));
			n = peer_send(&r, &req, len, two, 2, &rep);
			ERR(n, &rep, -EINVAL, "2 file descriptors", TXC_FIELD_NONE,
			    "pipe and socket");
			still_serving(&r);
		}
		test_sub_end();
	}
	peer_close(&r);

	if (test_sub_begin("no_descriptor_kept")) {
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
	}

	for (int i = 0; i < 5; i++)
		if (socks[i] >= 0)
			close(socks[i]);
	if (pipefd[0] >= 0) {
		close(pipefd[0]);
		close(pipefd[1]);
	}
}

/*
 * The library refuses a NULL it would write or read through before anything
 * is sent, naming the call and the argument; the client stays usable.
 */
static void null_refused(struct txc_client *c, const char *name, int err, const char *says)
{
	int n;

	if (!test_sub_begin("null_%s", name))
		return;
	ASSERT_EQ(err, -EINVAL, "refused with -EINVAL");
	if (!ASSERT_TRUE(strstr(txc_client_error(c), says) != NULL, says))
		printf("    error: %s\n", txc_client_error(c));
	n = txc_prefix_list(c, NULL, 0);
	ASSERT_GE0(n, "the client still answers a request");
	test_sub_end();
}

static void test_validation_null_args(void)
{
	struct txc_client *c = vc.lib;
	struct txc_rep_explain out;
	__u8 frame[64] = { 0 };

	null_refused(c, "partial_cancel_id_prefix", txc_generate_partial_cancel_id(c, NULL),
		     "txc_generate_partial_cancel_id: prefix is NULL");
	null_refused(c, "source_open_source", txc_source_open(c, NULL),
		     "txc_source_open: source is NULL");
	null_refused(c, "tag_flow_flow", txc_tag_flow(c, NULL, 0x01000001, 1),
		     "txc_tag_flow: flow is NULL");
	null_refused(c, "explain_frame", txc_explain(c, "lo", 0, NULL, sizeof(frame), &out),
		     "txc_explain: frame is NULL");
	null_refused(c, "explain_out", txc_explain(c, "lo", 0, frame, sizeof(frame), NULL),
		     "txc_explain: out is NULL");
	null_refused(c, "read_completions_callback", txc_read_completions(c, NULL, NULL, 0),
		     "txc_read_completions: the callback is NULL");
}

void test_validation(void)
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
	test_validation_null_args();
	peer_close(&vc);
	test_validation_raw();
}
