// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * libFuzzer target: the daemon's request check (daemon/proto_check.c).
 *
 * Input: one byte, the number of file descriptors the request came with
 * (SCM_RIGHTS), then the request as received.  The check must not read
 * outside the message, and its verdict must agree with the protocol as
 * proto.h writes it down, restated here on its own (expect_valid): a request
 * accepted against the text is a hole, one refused against it a daemon that
 * refuses its clients.  A refusal must come with an errno of the protocol, a
 * sentence, and the offset of a field inside the message.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto_check.h"

#define HDR	sizeof(struct txc_msg_hdr)

static bool zero(const void *p, size_t n)
{
	const __u8 *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

/* IFNAMSIZ bytes: a name, its NUL, then zeros; or all zero. */
static bool ifname_ok(const char name[16])
{
	size_t n = strnlen(name, 16);

	return n < 16 && zero(name + n, 16 - n);
}

static bool scope_ok(__u8 scope)
{
	return scope == TXC_SCOPE_SOURCE || scope == TXC_SCOPE_PREFIX || scope == TXC_SCOPE_ID;
}

/* The bytes of the key each tag kind uses; 0: no such kind. */
static const size_t tag_key_len[] = {
	[TXC_TAG_MARK] = sizeof(((union txc_tag_key *)0)->mark),
	[TXC_TAG_SOCKET] = sizeof(((union txc_tag_key *)0)->socket_cookie),
	[TXC_TAG_CGROUP] = sizeof(((union txc_tag_key *)0)->cgroup_id),
	[TXC_TAG_FLOW] = sizeof(((union txc_tag_key *)0)->flow),
};

static bool tag_ok(const struct txc_req_tag *t, bool add, bool in_batch)
{
	size_t key = t->kind < sizeof(tag_key_len) / sizeof(tag_key_len[0]) ?
		     tag_key_len[t->kind] : 0;

	if (!key)
		return false;
	if (!zero(t->reserved0, sizeof(t->reserved0)) || t->reserved1 ||
	    !zero(t->key.raw + key, sizeof(t->key) - key))
		return false;
	if (add) {
		if (TXC_ID_PREFIX(t->cancel_id) < TXC_PREFIX_MIN ||
		    t->source < 1 || t->source >= TXC_MAX_SOURCES)
			return false;
		/* The socket comes by SCM_RIGHTS, which a batch cannot carry. */
		if (t->kind == TXC_TAG_SOCKET && (t->key.socket_cookie || in_batch))
			return false;
	} else {
		if (t->cancel_id || t->source)
			return false;
		/* The socket comes by SCM_RIGHTS here too; the cookie may say which. */
		if (t->kind == TXC_TAG_SOCKET && in_batch)
			return false;
	}
	switch (t->kind) {
	case TXC_TAG_MARK:
		return t->key.mark != 0;
	case TXC_TAG_CGROUP:
		return t->key.cgroup_id != 0;
	case TXC_TAG_FLOW:
		if (t->key.flow.reserved)
			return false;
		if (t->key.flow.family == TXC_FAMILY_IPV6)
			return true;
		return t->key.flow.family == TXC_FAMILY_IPV4 &&
		       zero(t->key.flow.saddr + 4, 12) && zero(t->key.flow.daddr + 4, 12);
	default:
		return true;
	}
}

static bool cancel_ok(const struct txc_req_cancel *r)
{
	return scope_ok(r->scope) && zero(r->reserved0, sizeof(r->reserved0)) &&
	       ifname_ok(r->ifname);
}

static bool clear_ok(const struct txc_req_clear *r)
{
	return scope_ok(r->scope) && zero(r->reserved0, sizeof(r->reserved0));
}

static bool batch_op_ok(const struct txc_batch_op *op)
{
	size_t used;

	if (!zero(op->reserved, sizeof(op->reserved)))
		return false;
	switch (op->type) {
	case TXC_MSG_TAG_ADD:
	case TXC_MSG_TAG_DEL:
		if (!tag_ok(&op->tag, op->type == TXC_MSG_TAG_ADD, true))
			return false;
		used = sizeof(op->tag);
		break;
	case TXC_MSG_CANCEL:
		if (!cancel_ok(&op->cancel))
			return false;
		used = sizeof(op->cancel);
		break;
	case TXC_MSG_CLEAR:
		if (!clear_ok(&op->clear))
			return false;
		used = sizeof(op->clear);
		break;
	default:
		return false;
	}
	return zero(op->raw + used, sizeof(op->raw) - used);
}

/* Body size of each request type; 0 for the ones without a body. */
static size_t body_size(__u8 type)
{
	switch (type) {
	case TXC_MSG_HELLO:		return sizeof(struct txc_req_hello);
	case TXC_MSG_PREFIX_ALLOC:
	case TXC_MSG_PREFIX_FREE:	return sizeof(struct txc_req_prefix);
	case TXC_MSG_PREFIX_LIST:	return 0;
	case TXC_MSG_SOURCE_OPEN:
	case TXC_MSG_SOURCE_CLOSE:
	case TXC_MSG_SUBSCRIBE:
	case TXC_MSG_UNSUBSCRIBE:	return sizeof(struct txc_req_source);
	case TXC_MSG_TAG_ADD:
	case TXC_MSG_TAG_DEL:		return sizeof(struct txc_req_tag);
	case TXC_MSG_CANCEL:		return sizeof(struct txc_req_cancel);
	case TXC_MSG_CLEAR:		return sizeof(struct txc_req_clear);
	case TXC_MSG_STATS:		return sizeof(struct txc_req_stats);
	case TXC_MSG_COUNT_ID:		return sizeof(struct txc_req_count_id);
	case TXC_MSG_BATCH:		return sizeof(struct txc_req_batch);
	case TXC_MSG_STATUS:
	case TXC_MSG_METRICS:
	case TXC_MSG_ABORT_PLACES:	return 0;
	case TXC_MSG_EXPLAIN:		return sizeof(struct txc_req_explain);
	case TXC_MSG_CAPTURE:		return sizeof(struct txc_req_capture);
	default:			abort();
	}
}

/* The body, copied out so that every field is aligned. */
static union {
	struct txc_req_hello hello;
	struct txc_req_prefix prefix;
	struct txc_req_source source;
	struct txc_req_tag tag;
	struct txc_req_cancel cancel;
	struct txc_req_clear clear;
	struct txc_req_stats stats;
	struct txc_req_count_id count_id;
	struct txc_req_batch batch;
	struct txc_req_explain explain;
	struct txc_req_capture capture;
} b;

static bool body_ok(const __u8 *msg, size_t len, __u8 type)
{
	memcpy(&b, msg + HDR, body_size(type));
	switch (type) {
	case TXC_MSG_HELLO:
		return b.hello.version >= 1 && !b.hello.reserved;
	case TXC_MSG_PREFIX_ALLOC:
	case TXC_MSG_PREFIX_FREE:
		return !b.prefix.reserved && b.prefix.prefix <= TXC_PREFIX_MAX &&
		       (type == TXC_MSG_PREFIX_ALLOC || b.prefix.prefix >= TXC_PREFIX_MIN);
	case TXC_MSG_SOURCE_OPEN:
	case TXC_MSG_SOURCE_CLOSE:
	case TXC_MSG_SUBSCRIBE:
	case TXC_MSG_UNSUBSCRIBE:
		return !b.source.reserved && b.source.source < TXC_MAX_SOURCES &&
		       (type == TXC_MSG_SOURCE_OPEN || b.source.source != TXC_SOURCE_NONE);
	case TXC_MSG_TAG_ADD:
	case TXC_MSG_TAG_DEL:
		return tag_ok(&b.tag, type == TXC_MSG_TAG_ADD, false);
	case TXC_MSG_CANCEL:
		return cancel_ok(&b.cancel);
	case TXC_MSG_CLEAR:
		return clear_ok(&b.clear);
	case TXC_MSG_STATS:
		return (b.stats.scope == TXC_SCOPE_SOURCE || b.stats.scope == TXC_SCOPE_ID) &&
		       zero(b.stats.reserved0, sizeof(b.stats.reserved0));
	case TXC_MSG_COUNT_ID:
		return TXC_ID_PREFIX(b.count_id.cancel_id) >= TXC_PREFIX_MIN &&
		       b.count_id.enable <= 1;
	case TXC_MSG_EXPLAIN:
		return ifname_ok(b.explain.ifname) && b.explain.frame_len >= 14 &&
		       b.explain.frame_len <= TXC_EXPLAIN_FRAME_MAX &&
		       zero(b.explain.frame + b.explain.frame_len,
			    TXC_EXPLAIN_FRAME_MAX - b.explain.frame_len);
	case TXC_MSG_CAPTURE:
		return b.capture.source != TXC_SOURCE_NONE && b.capture.source < TXC_MAX_SOURCES &&
		       b.capture.snaplen <= TXC_CAPTURE_MAX;
	case TXC_MSG_BATCH:
		if (b.batch.reserved || b.batch.count < 1 || b.batch.count > TXC_BATCH_MAX ||
		    len != HDR + sizeof(b.batch) + (size_t)b.batch.count * sizeof(struct txc_batch_op))
			return false;
		for (__u32 i = 0; i < b.batch.count; i++) {
			struct txc_batch_op op;

			memcpy(&op, msg + HDR + sizeof(b.batch) + i * sizeof(op), sizeof(op));
			if (!batch_op_ok(&op))
				return false;
		}
		return true;
	default:
		return true;
	}
}

static bool expect_valid(const __u8 *msg, size_t len, unsigned int n_fds)
{
	struct txc_msg_hdr h;
	bool socket_tag;

	if (len < HDR || len > TXC_MSG_MAX)
		return false;
	memcpy(&h, msg, sizeof(h));
	if (h.magic != TXC_PROTO_MAGIC || h.version != TXC_PROTO_VERSION ||
	    h.type < 1 || h.type > TXC_MSG_REQUEST_MAX || h.flags || h.length != len ||
	    h.error || h.reserved)
		return false;
	if (h.type == TXC_MSG_BATCH ? len < HDR + body_size(h.type)
				    : len != HDR + body_size(h.type))
		return false;
	if (!body_ok(msg, len, h.type))
		return false;
	socket_tag = (h.type == TXC_MSG_TAG_ADD || h.type == TXC_MSG_TAG_DEL) &&
		     b.tag.kind == TXC_TAG_SOCKET;
	return n_fds == (socket_tag ? 1u : 0u);
}

static bool protocol_errno(int ret)
{
	switch (-ret) {
	case EINVAL: case EMSGSIZE: case EPROTO: case EPROTONOSUPPORT: case EBADMSG:
	case EBADF:
		return true;
	default:
		return false;
	}
}

static void __attribute__((noreturn)) broken(const char *what, int ret,
					     const struct txc_rep_error *err)
{
	if (ret)
		fprintf(stderr, "fuzz_request: %s (check returned %d, field %u, \"%.120s\")\n",
			what, ret, err->field, err->message);
	else
		fprintf(stderr, "fuzz_request: %s (check returned 0)\n", what);
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct txc_rep_error err, again;
	unsigned int n_fds;
	size_t len;
	bool valid;
	__u8 *msg;
	int ret;

	if (size < 1)
		return -1;
	n_fds = data[0];
	len = size - 1;
	/* Aligned as the daemon's receive buffer, and exactly as long as the message. */
	msg = malloc(len ? len : 1);
	if (!msg)
		abort();
	memcpy(msg, data + 1, len);

	memset(&err, 0xa5, sizeof(err));
	ret = txcd_check_request(msg, len, n_fds, &err);
	valid = expect_valid(msg, len, n_fds);
	if (ret > 0)
		broken("positive return", ret, &err);
	if (!ret && !valid)
		broken("accepted a request the protocol refuses", ret, &err);
	if (ret && valid)
		broken("refused a request the protocol allows", ret, &err);
	if (ret) {
		size_t n = strnlen(err.message, sizeof(err.message));

		if (!protocol_errno(ret))
			broken("refused with an errno the protocol does not use", ret, &err);
		if (n == 0 || n == sizeof(err.message))
			broken("refusal without a NUL-terminated sentence", ret, &err);
		if (err.reserved)
			broken("refusal with a nonzero reserved field", ret, &err);
		if (err.field != TXC_FIELD_NONE && err.field >= len)
			broken("refusal names a field past the message", ret, &err);
		/* Pure: the same verdict, word for word, the second time. */
		memset(&again, 0x5a, sizeof(again));
		if (txcd_check_request(msg, len, n_fds, &again) != ret ||
		    again.field != err.field || strcmp(again.message, err.message))
			broken("a second check of the same bytes differs", ret, &err);
	}
	free(msg);
	return 0;
}
