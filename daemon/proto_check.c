// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Structural validation of requests: see proto_check.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "proto_check.h"

#define OFF(type, field)	((__u32)__builtin_offsetof(type, field))
#define HDR			((__u32)sizeof(struct txc_msg_hdr))
#define IFNAMSIZ_PROTO		sizeof(((struct txc_req_cancel *)0)->ifname)

int txcd_error(struct txc_rep_error *err, int errnum, __u32 field, const char *fmt, ...)
{
	va_list ap;

	memset(err, 0, sizeof(*err));
	err->field = field;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return errnum;
}

static int nonzero(const void *p, size_t n)
{
	const __u8 *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return 1;
	return 0;
}

/* Fixed body size of each request type; batches are sized by their count. */
static const struct {
	const char *name;
	size_t body;
} requests[TXC_MSG_REQUEST_MAX + 1] = {
	[TXC_MSG_HELLO]		= { "HELLO", sizeof(struct txc_req_hello) },
	[TXC_MSG_PREFIX_ALLOC]	= { "PREFIX_ALLOC", sizeof(struct txc_req_prefix) },
	[TXC_MSG_PREFIX_FREE]	= { "PREFIX_FREE", sizeof(struct txc_req_prefix) },
	[TXC_MSG_PREFIX_LIST]	= { "PREFIX_LIST", 0 },
	[TXC_MSG_SOURCE_OPEN]	= { "SOURCE_OPEN", sizeof(struct txc_req_source) },
	[TXC_MSG_SOURCE_CLOSE]	= { "SOURCE_CLOSE", sizeof(struct txc_req_source) },
	[TXC_MSG_TAG_ADD]	= { "TAG_ADD", sizeof(struct txc_req_tag) },
	[TXC_MSG_TAG_DEL]	= { "TAG_DEL", sizeof(struct txc_req_tag) },
	[TXC_MSG_CANCEL]	= { "CANCEL", sizeof(struct txc_req_cancel) },
	[TXC_MSG_CLEAR]		= { "CLEAR", sizeof(struct txc_req_clear) },
	[TXC_MSG_STATS]		= { "STATS", sizeof(struct txc_req_stats) },
	[TXC_MSG_COUNT_ID]	= { "COUNT_ID", sizeof(struct txc_req_count_id) },
	[TXC_MSG_SUBSCRIBE]	= { "SUBSCRIBE", sizeof(struct txc_req_source) },
	[TXC_MSG_UNSUBSCRIBE]	= { "UNSUBSCRIBE", sizeof(struct txc_req_source) },
	[TXC_MSG_BATCH]		= { "BATCH", sizeof(struct txc_req_batch) },
	[TXC_MSG_STATUS]	= { "STATUS", 0 },
	[TXC_MSG_EXPLAIN]	= { "EXPLAIN", sizeof(struct txc_req_explain) },
	[TXC_MSG_METRICS]	= { "METRICS", 0 },
	[TXC_MSG_ABORT_PLACES]	= { "ABORT_PLACES", 0 },
};

static int check_flow(const struct txc_flow_key *f, size_t off, struct txc_rep_error *err)
{
	size_t key = off + OFF(struct txc_req_tag, key);

	if (f->family != TXC_FAMILY_IPV4 && f->family != TXC_FAMILY_IPV6)
		return txcd_error(err, -EINVAL, key + OFF(struct txc_flow_key, family),
				  "flow family %u: must be 4 (IPv4) or 6 (IPv6)", f->family);
	if (f->reserved)
		return txcd_error(err, -EINVAL, key + OFF(struct txc_flow_key, reserved),
				  "flow key reserved field must be zero");
	if (f->family == TXC_FAMILY_IPV4 &&
	    (nonzero(f->saddr + 4, 12) || nonzero(f->daddr + 4, 12)))
		return txcd_error(err, -EINVAL, key + OFF(struct txc_flow_key, saddr),
				  "IPv4 flow: address bytes 4..15 must be zero");
	return 0;
}

int txcd_check_tag(const struct txc_req_tag *t, int is_add, size_t off,
		   struct txc_rep_error *err)
{
	size_t key_size = txc_tag_key_size(t->kind);

	if (!key_size)
		return txcd_error(err, -EINVAL, off + OFF(struct txc_req_tag, kind),
				  "tag kind %u: must be mark (1), socket (2), cgroup (3) or flow (4)",
				  t->kind);
	if (nonzero(t->reserved0, sizeof(t->reserved0)) || t->reserved1)
		return txcd_error(err, -EINVAL, off + OFF(struct txc_req_tag, reserved0),
				  "tag request reserved fields must be zero");
	if (nonzero(t->key.raw + key_size, sizeof(t->key) - key_size))
		return txcd_error(err, -EINVAL, off + OFF(struct txc_req_tag, key) + key_size,
				  "tag key bytes past the %zu bytes of this kind must be zero",
				  key_size);
	if (is_add) {
		if (!TXC_ID_VALID(t->cancel_id))
			return txcd_error(err, -EINVAL, off + OFF(struct txc_req_tag, cancel_id),
					  "cancel ID 0x%08x has prefix 0: IDs need a prefix 1..255",
					  t->cancel_id);
		if (t->source == TXC_SOURCE_NONE || t->source >= TXC_MAX_SOURCES)
			return txcd_error(err, -EINVAL, off + OFF(struct txc_req_tag, source),
					  "source %u: must be 1..%u", t->source,
					  TXC_MAX_SOURCES - 1);
		if (t->kind == TXC_TAG_SOCKET && t->key.socket_cookie)
			return txcd_error(err, -EINVAL, off + OFF(struct txc_req_tag, key),
					  "socket tags take the socket by SCM_RIGHTS: the cookie must be 0");
	} else if (t->cancel_id || t->source) {
		return txcd_error(err, -EINVAL, off + OFF(struct txc_req_tag, cancel_id),
				  "TAG_DEL takes only kind and key: cancel ID and source must be 0");
	}
	if (t->kind == TXC_TAG_FLOW)
		return check_flow(&t->key.flow, off, err);
	if (t->kind == TXC_TAG_CGROUP && !t->key.cgroup_id)
		return txcd_error(err, -EINVAL, off + OFF(struct txc_req_tag, key),
				  "cgroup id 0 is not a cgroup");
	if (t->kind == TXC_TAG_MARK && !t->key.mark)
		return txcd_error(err, -EINVAL, off + OFF(struct txc_req_tag, key),
				  "mark 0 means untagged and cannot carry an ID");
	return 0;
}

static int check_scope(__u8 scope, size_t off, struct txc_rep_error *err)
{
	if (scope == TXC_SCOPE_ID || scope == TXC_SCOPE_PREFIX || scope == TXC_SCOPE_SOURCE)
		return 0;
	return txcd_error(err, -EINVAL, off, "scope %u: must be source (1), prefix (2) or ID (3)",
			  scope);
}

static int check_ifname(const char *name, size_t off, struct txc_rep_error *err)
{
	size_t n = strnlen(name, IFNAMSIZ_PROTO);

	if (n == IFNAMSIZ_PROTO)
		return txcd_error(err, -EINVAL, off, "interface name is not NUL-terminated "
				  "within 16 bytes");
	if (nonzero(name + n, IFNAMSIZ_PROTO - n))
		return txcd_error(err, -EINVAL, off, "interface name: bytes after the NUL must be zero");
	return 0;
}

static int check_cancel(const struct txc_req_cancel *r, size_t off, struct txc_rep_error *err)
{
	int ret = check_scope(r->scope, off + OFF(struct txc_req_cancel, scope), err);

	if (ret)
		return ret;
	if (nonzero(r->reserved0, sizeof(r->reserved0)))
		return txcd_error(err, -EINVAL, off + OFF(struct txc_req_cancel, reserved0),
				  "cancel request reserved field must be zero");
	return check_ifname(r->ifname, off + OFF(struct txc_req_cancel, ifname), err);
}

static int check_clear(const struct txc_req_clear *r, size_t off, struct txc_rep_error *err)
{
	int ret = check_scope(r->scope, off + OFF(struct txc_req_clear, scope), err);

	if (!ret && nonzero(r->reserved0, sizeof(r->reserved0)))
		ret = txcd_error(err, -EINVAL, off + OFF(struct txc_req_clear, reserved0),
				 "clear request reserved field must be zero");
	return ret;
}

static int check_batch_op(const struct txc_batch_op *op, size_t off, struct txc_rep_error *err)
{
	size_t used;
	int ret;

	if (nonzero(op->reserved, sizeof(op->reserved)))
		return txcd_error(err, -EINVAL, off + OFF(struct txc_batch_op, reserved),
				  "batch op reserved field must be zero");
	off += OFF(struct txc_batch_op, raw);
	switch (op->type) {
	case TXC_MSG_TAG_ADD:
	case TXC_MSG_TAG_DEL:
		used = sizeof(op->tag);
		ret = txcd_check_tag(&op->tag, op->type == TXC_MSG_TAG_ADD, off, err);
		if (!ret && op->tag.kind == TXC_TAG_SOCKET)
			ret = txcd_error(err, -EINVAL, off + OFF(struct txc_req_tag, kind),
					 "socket tags cannot be batched: the socket must be "
					 "passed with SCM_RIGHTS in a TAG_ADD or TAG_DEL request");
		break;
	case TXC_MSG_CANCEL:
		used = sizeof(op->cancel);
		ret = check_cancel(&op->cancel, off, err);
		break;
	case TXC_MSG_CLEAR:
		used = sizeof(op->clear);
		ret = check_clear(&op->clear, off, err);
		break;
	default:
		return txcd_error(err, -EINVAL, off - OFF(struct txc_batch_op, raw),
				  "batch op type %u: must be TAG_ADD (7), TAG_DEL (8), CANCEL (9) "
				  "or CLEAR (10)", op->type);
	}
	if (!ret && nonzero(op->raw + used, sizeof(op->raw) - used))
		ret = txcd_error(err, -EINVAL, off + used,
				 "batch op bytes past its %zu-byte request must be zero", used);
	return ret;
}

static int check_batch(const __u8 *msg, size_t len, struct txc_rep_error *err)
{
	const struct txc_req_batch *b = (const void *)(msg + HDR);
	size_t off = HDR + sizeof(*b);
	size_t want;

	if (b->reserved)
		return txcd_error(err, -EINVAL, HDR + OFF(struct txc_req_batch, reserved),
				  "batch reserved field must be zero");
	if (b->count == 0 || b->count > TXC_BATCH_MAX)
		return txcd_error(err, -EINVAL, HDR + OFF(struct txc_req_batch, count),
				  "batch count %u: must be 1..%u", b->count, TXC_BATCH_MAX);
	want = off + (size_t)b->count * sizeof(struct txc_batch_op);
	if (len != want)
		return txcd_error(err, -EINVAL, HDR + OFF(struct txc_req_batch, count),
				  "batch of %u ops must be %zu bytes, message has %zu (truncated "
				  "or padded batch)", b->count, want, len);
	for (__u32 i = 0; i < b->count; i++, off += sizeof(struct txc_batch_op)) {
		struct txc_batch_op op;
		int ret;

		memcpy(&op, msg + off, sizeof(op));
		ret = check_batch_op(&op, off, err);
		if (ret) {
			char what[sizeof(err->message)];

			memcpy(what, err->message, sizeof(what));
			return txcd_error(err, ret, err->field, "batch op %u: %.100s", i, what);
		}
	}
	return 0;
}

static int check_body(const __u8 *msg, size_t len, __u8 type, struct txc_rep_error *err)
{
	const void *body = msg + HDR;

	switch (type) {
	case TXC_MSG_HELLO: {
		const struct txc_req_hello *r = body;

		if (r->reserved)
			return txcd_error(err, -EINVAL, HDR + OFF(struct txc_req_hello, reserved),
					  "hello reserved field must be zero");
		if (r->version < 1)
			return txcd_error(err, -EPROTONOSUPPORT, HDR,
					  "client protocol version 0 does not exist");
		return 0;
	}
	case TXC_MSG_PREFIX_ALLOC:
	case TXC_MSG_PREFIX_FREE: {
		const struct txc_req_prefix *r = body;

		if (r->reserved)
			return txcd_error(err, -EINVAL, HDR + OFF(struct txc_req_prefix, reserved),
					  "prefix request reserved field must be zero");
		if (r->prefix > TXC_PREFIX_MAX || (type == TXC_MSG_PREFIX_FREE && !r->prefix))
			return txcd_error(err, -EINVAL, HDR + OFF(struct txc_req_prefix, prefix),
					  "prefix %u: must be %u..%u%s", r->prefix, TXC_PREFIX_MIN,
					  TXC_PREFIX_MAX, type == TXC_MSG_PREFIX_ALLOC ?
					  " (or 0 for any)" : "");
		return 0;
	}
	case TXC_MSG_SOURCE_OPEN:
	case TXC_MSG_SOURCE_CLOSE:
	case TXC_MSG_SUBSCRIBE:
	case TXC_MSG_UNSUBSCRIBE: {
		const struct txc_req_source *r = body;

		if (r->reserved)
			return txcd_error(err, -EINVAL, HDR + OFF(struct txc_req_source, reserved),
					  "source request reserved field must be zero");
		if (r->source >= TXC_MAX_SOURCES ||
		    (type != TXC_MSG_SOURCE_OPEN && r->source == TXC_SOURCE_NONE))
			return txcd_error(err, -EINVAL, HDR + OFF(struct txc_req_source, source),
					  "source %u: must be 1..%u%s", r->source,
					  TXC_MAX_SOURCES - 1, type == TXC_MSG_SOURCE_OPEN ?
					  " (or 0 for a new one)" : "");
		return 0;
	}
	case TXC_MSG_TAG_ADD:
	case TXC_MSG_TAG_DEL:
		return txcd_check_tag(body, type == TXC_MSG_TAG_ADD, HDR, err);
	case TXC_MSG_CANCEL:
		return check_cancel(body, HDR, err);
	case TXC_MSG_CLEAR:
		return check_clear(body, HDR, err);
	case TXC_MSG_STATS: {
		const struct txc_req_stats *r = body;

		if (r->scope != TXC_SCOPE_SOURCE && r->scope != TXC_SCOPE_ID)
			return txcd_error(err, -EINVAL, HDR + OFF(struct txc_req_stats, scope),
					  "stats scope %u: must be source (1) or ID (3)", r->scope);
		if (nonzero(r->reserved0, sizeof(r->reserved0)))
			return txcd_error(err, -EINVAL, HDR + OFF(struct txc_req_stats, reserved0),
					  "stats request reserved field must be zero");
		return 0;
	}
	case TXC_MSG_COUNT_ID: {
		const struct txc_req_count_id *r = body;

		if (!TXC_ID_VALID(r->cancel_id))
			return txcd_error(err, -EINVAL, HDR + OFF(struct txc_req_count_id, cancel_id),
					  "cancel ID 0x%08x has prefix 0", r->cancel_id);
		if (r->enable > 1)
			return txcd_error(err, -EINVAL, HDR + OFF(struct txc_req_count_id, enable),
					  "enable must be 0 or 1");
		return 0;
	}
	case TXC_MSG_BATCH:
		return check_batch(msg, len, err);
	case TXC_MSG_EXPLAIN: {
		const struct txc_req_explain *r = body;
		int ret = check_ifname(r->ifname, HDR + OFF(struct txc_req_explain, ifname), err);

		if (ret)
			return ret;
		if (r->frame_len < 14 || r->frame_len > TXC_EXPLAIN_FRAME_MAX)
			return txcd_error(err, -EINVAL, HDR + OFF(struct txc_req_explain, frame_len),
					  "frame length %u: must be 14..%u", r->frame_len,
					  TXC_EXPLAIN_FRAME_MAX);
		if (nonzero(r->frame + r->frame_len, TXC_EXPLAIN_FRAME_MAX - r->frame_len))
			return txcd_error(err, -EINVAL, HDR + OFF(struct txc_req_explain, frame) +
					  r->frame_len, "frame bytes past frame_len must be zero");
		return 0;
	}
	default:
		return 0;
	}
}

/* A socket for TAG_ADD and TAG_DEL of a socket, nothing for anything else. */
static int check_fds(const __u8 *msg, __u8 type, unsigned int n_fds, struct txc_rep_error *err)
{
	bool socket_tag = false;

	if (type == TXC_MSG_TAG_ADD || type == TXC_MSG_TAG_DEL) {
		struct txc_req_tag t;

		memcpy(&t, msg + HDR, sizeof(t));
		socket_tag = t.kind == TXC_TAG_SOCKET;
	}
	if (n_fds > 1)
		return txcd_error(err, -EINVAL, TXC_FIELD_NONE,
				  "%u file descriptors passed: a request takes at most one", n_fds);
	if (n_fds && type != TXC_MSG_TAG_ADD && type != TXC_MSG_TAG_DEL)
		return txcd_error(err, -EINVAL, TXC_FIELD_NONE,
				  "only TAG_ADD and TAG_DEL of a socket take a file descriptor");
	if (n_fds && !socket_tag)
		return txcd_error(err, -EINVAL, TXC_FIELD_NONE,
				  "only socket tags take a file descriptor");
	if (!n_fds && socket_tag)
		return txcd_error(err, -EBADF, TXC_FIELD_NONE,
				  "socket tag without a socket: pass it with SCM_RIGHTS");
	return 0;
}

int txcd_check_request(const void *msg, size_t len, unsigned int n_fds,
		       struct txc_rep_error *err)
{
	struct txc_msg_hdr h;
	size_t want;
	int ret;

	if (len < sizeof(h))
		return txcd_error(err, -EINVAL, TXC_FIELD_NONE,
				  "message of %zu bytes is shorter than the %u-byte header", len, HDR);
	if (len > TXC_MSG_MAX)
		return txcd_error(err, -EMSGSIZE, TXC_FIELD_NONE,
				  "message is longer than the %u-byte maximum", TXC_MSG_MAX);
	memcpy(&h, msg, sizeof(h));
	if (h.magic != TXC_PROTO_MAGIC)
		return txcd_error(err, -EPROTO, OFF(struct txc_msg_hdr, magic),
				  "bad magic 0x%08x: not a txcancel message", h.magic);
	if (h.version != TXC_PROTO_VERSION)
		return txcd_error(err, -EPROTONOSUPPORT, OFF(struct txc_msg_hdr, version),
				  "protocol version %u is not supported: this daemon speaks %u",
				  h.version, TXC_PROTO_VERSION);
	if (h.type == 0 || h.type > TXC_MSG_REQUEST_MAX)
		return txcd_error(err, -EBADMSG, OFF(struct txc_msg_hdr, type),
				  "message type %u is not a request", h.type);
	if (h.flags)
		return txcd_error(err, -EINVAL, OFF(struct txc_msg_hdr, flags),
				  "flags 0x%x: requests carry no flags", h.flags);
	if (h.length != len)
		return txcd_error(err, -EINVAL, OFF(struct txc_msg_hdr, length),
				  "header says %u bytes, the message has %zu", h.length, len);
	if (h.error || h.reserved)
		return txcd_error(err, -EINVAL, OFF(struct txc_msg_hdr, error),
				  "header error and reserved fields must be zero in requests");
	want = HDR + requests[h.type].body;
	if (h.type == TXC_MSG_BATCH ? len < want : len != want)
		return txcd_error(err, -EINVAL, OFF(struct txc_msg_hdr, length),
				  "%s takes %zu bytes%s, the message has %zu", requests[h.type].name,
				  want, h.type == TXC_MSG_BATCH ? " plus its ops" : "", len);
	ret = check_body(msg, len, h.type, err);
	return ret ? ret : check_fds(msg, h.type, n_fds, err);
}
