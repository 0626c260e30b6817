/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Checks on everything the daemon sends, before any field of it is used:
 * a daemon of another version, or a broken one, must give a clear error
 * rather than a misread reply.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "proto_table.h"
#include "values.h"

#define HDR_LEN		sizeof(struct txc_msg_hdr)
#define ERRNO_MAX	4095	/* the kernel's MAX_ERRNO */

const char *txcl_type_name(__u8 type, char *tmp, size_t tmp_len)
{
	const char *name = txcc_msg_name(type);

	if (name)
		return name;
	snprintf(tmp, tmp_len, "type %u", type);
	return tmp;
}

int txcl_version_mismatch(struct txc_client *c, unsigned int version)
{
	return txcl_fail(c->err, -EPROTONOSUPPORT, "txcanceld speaks protocol version %u, "
			 "libtxcancel speaks version %u: use a libtxcancel and a txcanceld "
			 "of the same protocol version", version, TXC_PROTO_VERSION);
}

static int malformed(struct txc_client *c, const char *what, __u8 type, size_t got,
		     __u64 want)
{
	char tmp[16];

	return txcl_fail(c->err, -EPROTO, "txcanceld sent a malformed %s %s: %zu body bytes, "
			 "expected %llu", txcl_type_name(type, tmp, sizeof(tmp)), what, got,
			 (unsigned long long)want);
}

/*
 * Exact body size of a successful reply of @t: its head and the arrays its
 * counts announce; false if it is too short to hold the head.  In 64 bits:
 * 32-bit counts times entry sizes could wrap a 32-bit size_t.
 */
static bool reply_size(const struct txcc_msg_type *t, const __u8 *body, size_t len,
		       __u64 *want)
{
	*want = t->rep_size;
	for (size_t i = 0; i < sizeof(t->rep_arrays) / sizeof(t->rep_arrays[0]); i++) {
		const struct txcc_reply_array *a = &t->rep_arrays[i];
		__u32 count;

		if (!a->entry)
			continue;
		if (len < t->rep_size)
			return false;
		memcpy(&count, body + a->count_at, sizeof(count));
		*want += (__u64)count * a->entry;
	}
	return true;
}

static int check_reply_ok(struct txc_client *c, __u8 type, const void *body, size_t len)
{
	const struct txcc_msg_type *t = txcc_msg_type(type);
	char tmp[16];
	__u64 want;

	if (!t)
		return txcl_fail(c->err, -EPROTO, "txcanceld sent a reply of unknown %s",
				 txcl_type_name(type, tmp, sizeof(tmp)));
	if (!reply_size(t, body, len, &want))
		return txcl_fail(c->err, -EPROTO, "txcanceld sent a %s reply of %zu body bytes, "
				 "too short for its counts", t->name, len);
	if (len != want)
		return malformed(c, "reply", type, len, want);
	return 0;
}

/*
 * A failed request's body is a txc_rep_error, except for a BATCH whose op
 * failed: its txc_rep_batch carries the op's error.  The type is not
 * checked: the daemon echoes whatever type the request had.
 */
static int check_reply_error(struct txc_client *c, const struct txc_msg_hdr *h, size_t len)
{
	if (h->error < -ERRNO_MAX)
		return txcl_fail(c->err, -EPROTO, "txcanceld sent error %d, not an errno",
				 h->error);
	if (len == sizeof(struct txc_rep_error))
		return 0;
	if (h->type == TXC_MSG_BATCH && len == sizeof(struct txc_rep_batch))
		return 0;
	return malformed(c, "error reply", h->type, len, sizeof(struct txc_rep_error));
}

static int check_record(struct txc_client *c, const struct txc_abort_record *r, __u32 i,
			__u32 source)
{
	if (r->hdr.version != TXC_RECORD_VERSION || r->hdr.type != TXC_RECORD_ABORT)
		return txcl_fail(c->err, -EPROTO, "completion record %u has version %u type %u; "
				 "libtxcancel reads version %u type %u", i, r->hdr.version,
				 r->hdr.type, TXC_RECORD_VERSION, TXC_RECORD_ABORT);
	if (r->hdr.size != sizeof(*r))
		return txcl_fail(c->err, -EPROTO, "completion record %u is %u bytes, expected %zu",
				 i, r->hdr.size, sizeof(*r));
	if (r->hdr.status != TXC_STATUS_SEND_ABORTED)
		return txcl_fail(c->err, -EPROTO, "completion record %u has status 0x%08x, "
				 "expected SEND_ABORTED 0x%08x", i, r->hdr.status,
				 TXC_STATUS_SEND_ABORTED);
	if (r->source != source)
		return txcl_fail(c->err, -EPROTO, "completion record %u is of source %u in a "
				 "batch of source %u", i, r->source, source);
	return 0;
}

/* A batch of completions: at most the protocol's count, of a valid source. */
static int check_batch_head(struct txc_client *c, const struct txc_ev_completions *ev)
{
	char why[TXCC_PROBLEM_MAX];

	if (ev->count > TXC_COMPLETIONS_MAX)
		return txcl_fail(c->err, -EPROTO, "txcanceld sent a batch of %u completions, "
				 "more than the protocol's %u", ev->count, TXC_COMPLETIONS_MAX);
	if (txcc_source_problem(ev->source, why))
		return txcl_fail(c->err, -EPROTO, "txcanceld sent completions of %s", why);
	return 0;
}

/*
 * The records of a COMPLETIONS_CAPTURE batch of head @ev: version 2, each
 * hdr.size bytes (its cap_len bytes of frame, padded to 8), exactly filling
 * the message.
 */
static int check_capture_records(struct txc_client *c, const struct txc_ev_completions *ev,
				 const __u8 *body, size_t len)
{
	size_t off = sizeof(*ev);

	for (__u32 i = 0; i < ev->count; i++) {
		struct txc_abort_record r;

		if (len - off < sizeof(r))
			return txcl_fail(c->err, -EPROTO, "completion record %u of a capture batch "
					 "is cut short: %zu bytes left", i, len - off);
		memcpy(&r, body + off, sizeof(r));
		if (r.hdr.version != TXC_RECORD_VERSION_CAPTURE || r.hdr.type != TXC_RECORD_ABORT)
			return txcl_fail(c->err, -EPROTO, "completion record %u has version %u "
					 "type %u; a capture batch holds version %u type %u", i,
					 r.hdr.version, r.hdr.type, TXC_RECORD_VERSION_CAPTURE,
					 TXC_RECORD_ABORT);
		if (r.cap_len > TXC_CAPTURE_MAX || r.hdr.size != TXC_RECORD_CAPTURE_SIZE(r.cap_len) ||
		    r.hdr.size > len - off)
			return txcl_fail(c->err, -EPROTO, "completion record %u is %u bytes with %u "
					 "bytes of frame (at most %u), %zu left in the batch", i,
					 r.hdr.size, r.cap_len, TXC_CAPTURE_MAX, len - off);
		/* The rest of the checks are version 1's, on the fixed part. */
		r.hdr.version = TXC_RECORD_VERSION;
		r.hdr.size = sizeof(r);
		if (check_record(c, &r, i, ev->source))
			return -EPROTO;
		off += TXC_RECORD_CAPTURE_SIZE(r.cap_len);
	}
	if (off != len)
		return malformed(c, "event", TXC_MSG_COMPLETIONS_CAPTURE, len, off);
	return 0;
}

/* The records of a COMPLETIONS batch of head @ev: ev->count of version 1. */
static int check_records(struct txc_client *c, const struct txc_ev_completions *ev,
			 const __u8 *body, size_t len)
{
	__u64 want = sizeof(*ev) + (__u64)ev->count * sizeof(struct txc_abort_record);

	if (len != want)
		return malformed(c, "event", TXC_MSG_COMPLETIONS, len, want);
	for (__u32 i = 0; i < ev->count; i++) {
		struct txc_abort_record r;
		int err;

		memcpy(&r, body + sizeof(*ev) + i * sizeof(r), sizeof(r));
		err = check_record(c, &r, i, ev->source);
		if (err)
			return err;
	}
	return 0;
}

/*
 * A completions event of @type (COMPLETIONS or _CAPTURE): its head holds a
 * count the protocol allows and a source that can exist, then its records.
 */
static int check_completions(struct txc_client *c, __u8 type, const __u8 *body, size_t len)
{
	struct txc_ev_completions ev;
	int err;

	if (len < sizeof(ev))
		return malformed(c, "event", type, len, sizeof(ev));
	memcpy(&ev, body, sizeof(ev));
	err = check_batch_head(c, &ev);
	if (err)
		return err;
	if (type == TXC_MSG_COMPLETIONS_CAPTURE)
		return check_capture_records(c, &ev, body, len);
	return check_records(c, &ev, body, len);
}

static int check_event(struct txc_client *c, const struct txc_msg_hdr *h, const void *body,
		       size_t len)
{
	char tmp[16];

	if (h->type != TXC_MSG_COMPLETIONS && h->type != TXC_MSG_COMPLETIONS_CAPTURE)
		return txcl_fail(c->err, -EPROTO, "txcanceld sent an event of unknown %s",
				 txcl_type_name(h->type, tmp, sizeof(tmp)));
	if (h->seq || h->error)
		return txcl_fail(c->err, -EPROTO, "txcanceld sent an event with seq %u error %d; "
				 "events carry 0 in both", h->seq, h->error);
	return check_completions(c, h->type, body, len);
}

static int check_hdr(struct txc_client *c, const struct txc_msg_hdr *h, size_t len)
{
	if (h->magic != TXC_PROTO_MAGIC)
		return txcl_fail(c->err, -EPROTO, "txcanceld sent a message with magic 0x%08x, "
				 "not 0x%08x: is this socket txcanceld's?", h->magic,
				 TXC_PROTO_MAGIC);
	if (h->version != TXC_PROTO_VERSION)
		return txcl_version_mismatch(c, h->version);
	if (h->length != len)
		return txcl_fail(c->err, -EPROTO, "txcanceld sent a message whose header says "
				 "%u bytes in a packet of %zu", h->length, len);
	if (h->reserved)
		return txcl_fail(c->err, -EPROTO, "txcanceld sent a message whose reserved "
				 "header field is 0x%x, not 0", h->reserved);
	if (h->flags != TXC_MSG_F_REPLY && h->flags != TXC_MSG_F_EVENT)
		return txcl_fail(c->err, -EPROTO, "txcanceld sent a message with flags 0x%x: "
				 "expected REPLY (0x%x) or EVENT (0x%x)", h->flags,
				 TXC_MSG_F_REPLY, TXC_MSG_F_EVENT);
	if (h->flags == TXC_MSG_F_REPLY && h->error > 0)
		return txcl_fail(c->err, -EPROTO, "txcanceld sent a reply with error %d: "
				 "errors are negative", h->error);
	return 0;
}

int txcl_check_msg(struct txc_client *c, const void *msg, size_t len)
{
	struct txc_msg_hdr h;
	const __u8 *body = (const __u8 *)msg + HDR_LEN;
	int err;

	if (len < HDR_LEN)
		return txcl_fail(c->err, -EPROTO, "txcanceld sent a %zu-byte message, shorter "
				 "than the %zu-byte header", len, HDR_LEN);
	memcpy(&h, msg, sizeof(h));
	err = check_hdr(c, &h, len);
	if (err)
		return err;
	len -= HDR_LEN;
	if (h.flags == TXC_MSG_F_EVENT)
		return check_event(c, &h, body, len);
	if (h.error < 0)
		return check_reply_error(c, &h, len);
	return check_reply_ok(c, h.type, body, len);
}
