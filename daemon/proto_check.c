// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Structural validation of requests: see proto_check.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "proto_check.h"
#include "proto_table.h"
#include "tag_kinds.h"
#include "values.h"

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

int txcd_check_tag(const struct txc_req_tag *t, int is_add, size_t off,
		   struct txc_rep_error *err)
{
	size_t key_size = txc_tag_key_size(t->kind);
	char why[TXCC_PROBLEM_MAX], names[TXCC_NAMES_MAX];
	__u32 at;

	if (!key_size)
		return txcd_error(err, -EINVAL, off + OFF(struct txc_req_tag, kind),
				  "tag kind %u: must be %s", t->kind, txcc_tag_kind_names(names, true));
	if (nonzero(t->reserved0, sizeof(t->reserved0)) || t->reserved1)
		return txcd_error(err, -EINVAL, off + OFF(struct txc_req_tag, reserved0),
				  "tag request reserved fields must be zero");
	if (nonzero(t->key.raw + key_size, sizeof(t->key) - key_size))
		return txcd_error(err, -EINVAL, off + OFF(struct txc_req_tag, key) + key_size,
				  "tag key bytes past the %zu bytes of this kind must be zero",
				  key_size);
	if (is_add) {
		if (txcc_id_problem(t->cancel_id, why))
			return txcd_error(err, -EINVAL, off + OFF(struct txc_req_tag, cancel_id),
					  "%s", why);
		if (txcc_source_problem(t->source, why))
			return txcd_error(err, -EINVAL, off + OFF(struct txc_req_tag, source),
					  "%s", why);
		if (t->kind == TXC_TAG_SOCKET && t->key.socket_cookie)
			return txcd_error(err, -EINVAL, off + OFF(struct txc_req_tag, key),
					  "socket tags take the socket by SCM_RIGHTS: the cookie must be 0");
	} else if (t->cancel_id || t->source) {
		return txcd_error(err, -EINVAL, off + OFF(struct txc_req_tag, cancel_id),
				  "TAG_DEL takes only kind and key: cancel ID and source must be 0");
	}
	if (txcc_tag_key_problem(t->kind, &t->key, &at, why))
		return txcd_error(err, -EINVAL, off + OFF(struct txc_req_tag, key) + at, "%s", why);
	return 0;
}

static int check_scope(__u8 scope, size_t off, struct txc_rep_error *err)
{
	char why[TXCC_PROBLEM_MAX];

	if (!txcc_scope_problem(scope, why))
		return 0;
	return txcd_error(err, -EINVAL, off, "%s", why);
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
				  "batch op type %u: must be %s (%u), %s (%u), %s (%u) or %s (%u)",
				  op->type, txcc_msg_name(TXC_MSG_TAG_ADD), TXC_MSG_TAG_ADD,
				  txcc_msg_name(TXC_MSG_TAG_DEL), TXC_MSG_TAG_DEL,
				  txcc_msg_name(TXC_MSG_CANCEL), TXC_MSG_CANCEL,
				  txcc_msg_name(TXC_MSG_CLEAR), TXC_MSG_CLEAR);
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

static int check_hello(const struct txc_req_hello *r, struct txc_rep_error *err)
{
	if (r->reserved)
		return txcd_error(err, -EINVAL, HDR + OFF(struct txc_req_hello, reserved),
				  "hello reserved field must be zero");
	if (r->version < 1)
		return txcd_error(err, -EPROTONOSUPPORT, HDR,
				  "client protocol version 0 does not exist");
	return 0;
}

static int check_prefix(const struct txc_req_prefix *r, __u8 type, struct txc_rep_error *err)
{
	char why[TXCC_PROBLEM_MAX];

	if (r->reserved)
		return txcd_error(err, -EINVAL, HDR + OFF(struct txc_req_prefix, reserved),
				  "prefix request reserved field must be zero");
	/* PREFIX_ALLOC of 0 asks for any prefix. */
	if ((r->prefix || type == TXC_MSG_PREFIX_FREE) && txcc_prefix_problem(r->prefix, why))
		return txcd_error(err, -EINVAL, HDR + OFF(struct txc_req_prefix, prefix),
				  "%s%s", why, type == TXC_MSG_PREFIX_ALLOC ? " (or 0 for any)" : "");
	return 0;
}

/* SOURCE_OPEN, SOURCE_CLOSE, SUBSCRIBE, UNSUBSCRIBE. */
static int check_source(const struct txc_req_source *r, __u8 type, struct txc_rep_error *err)
{
	char why[TXCC_PROBLEM_MAX];

	if (r->reserved)
		return txcd_error(err, -EINVAL, HDR + OFF(struct txc_req_source, reserved),
				  "source request reserved field must be zero");
	/* SOURCE_OPEN of 0 opens a new source. */
	if ((r->source || type != TXC_MSG_SOURCE_OPEN) && txcc_source_problem(r->source, why))
		return txcd_error(err, -EINVAL, HDR + OFF(struct txc_req_source, source),
				  "%s%s", why, type == TXC_MSG_SOURCE_OPEN ?
				  " (or 0 for a new one)" : "");
	return 0;
}

static int check_stats(const struct txc_req_stats *r, struct txc_rep_error *err)
{
	char why[TXCC_PROBLEM_MAX];

	if (txcc_stats_scope_problem(r->scope, why))
		return txcd_error(err, -EINVAL, HDR + OFF(struct txc_req_stats, scope), "%s", why);
	if (nonzero(r->reserved0, sizeof(r->reserved0)))
		return txcd_error(err, -EINVAL, HDR + OFF(struct txc_req_stats, reserved0),
				  "stats request reserved field must be zero");
	return 0;
}

static int check_count_id(const struct txc_req_count_id *r, struct txc_rep_error *err)
{
	char why[TXCC_PROBLEM_MAX];

	if (txcc_id_problem(r->cancel_id, why))
		return txcd_error(err, -EINVAL, HDR + OFF(struct txc_req_count_id, cancel_id),
				  "%s", why);
	if (r->enable > 1)
		return txcd_error(err, -EINVAL, HDR + OFF(struct txc_req_count_id, enable),
				  "enable must be 0 or 1");
	return 0;
}

static int check_explain(const struct txc_req_explain *r, struct txc_rep_error *err)
{
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

static int check_capture(const struct txc_req_capture *r, struct txc_rep_error *err)
{
	char why[TXCC_PROBLEM_MAX];

	if (txcc_source_problem(r->source, why))
		return txcd_error(err, -EINVAL, HDR + OFF(struct txc_req_capture, source),
				  "%s", why);
	if (txcc_capture_len_problem(r->snaplen, why))
		return txcd_error(err, -EINVAL, HDR + OFF(struct txc_req_capture, snaplen),
				  "%s", why);
	return 0;
}

/* The body of a request whose size was checked; @msg is aligned (proto_check.h). */
static int check_body(const __u8 *msg, size_t len, __u8 type, struct txc_rep_error *err)
{
	const void *body = msg + HDR;

	switch (type) {
	case TXC_MSG_HELLO:
		return check_hello(body, err);
	case TXC_MSG_PREFIX_ALLOC:
	case TXC_MSG_PREFIX_FREE:
		return check_prefix(body, type, err);
	case TXC_MSG_SOURCE_OPEN:
	case TXC_MSG_SOURCE_CLOSE:
	case TXC_MSG_SUBSCRIBE:
	case TXC_MSG_UNSUBSCRIBE:
		return check_source(body, type, err);
	case TXC_MSG_TAG_ADD:
	case TXC_MSG_TAG_DEL:
		return txcd_check_tag(body, type == TXC_MSG_TAG_ADD, HDR, err);
	case TXC_MSG_CANCEL:
		return check_cancel(body, HDR, err);
	case TXC_MSG_CLEAR:
		return check_clear(body, HDR, err);
	case TXC_MSG_STATS:
		return check_stats(body, err);
	case TXC_MSG_COUNT_ID:
		return check_count_id(body, err);
	case TXC_MSG_BATCH:
		return check_batch(msg, len, err);
	case TXC_MSG_EXPLAIN:
		return check_explain(body, err);
	case TXC_MSG_CAPTURE:
		return check_capture(body, err);
	default:
		return 0;	/* PREFIX_LIST, STATUS, METRICS: no body */
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
	const struct txcc_msg_type *t;
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
	if (!txcc_msg_type(h.type))
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
	t = txcc_msg_type(h.type);
	want = HDR + t->req_size;
	if (t->req_elem ? len < want : len != want)
		return txcd_error(err, -EINVAL, OFF(struct txc_msg_hdr, length),
				  "%s takes %zu bytes%s, the message has %zu", t->name,
				  want, t->req_elem ? " plus its ops" : "", len);
	ret = check_body(msg, len, h.type, err);
	return ret ? ret : check_fds(msg, h.type, n_fds, err);
}
