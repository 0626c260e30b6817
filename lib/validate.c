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

#define HDR_LEN		sizeof(struct txc_msg_hdr)
#define ERRNO_MAX	4095	/* the kernel's MAX_ERRNO */

/* Reply body of each request type; VARIABLE ones are sized by their counts. */
#define VARIABLE	((size_t)-1)

static const struct {
	const char *name;
	size_t reply;
} types[TXC_MSG_REQUEST_MAX + 1] = {
	[TXC_MSG_HELLO]		= { "HELLO", sizeof(struct txc_rep_hello) },
	[TXC_MSG_PREFIX_ALLOC]	= { "PREFIX_ALLOC", sizeof(struct txc_rep_prefix) },
	[TXC_MSG_PREFIX_FREE]	= { "PREFIX_FREE", 0 },
	[TXC_MSG_PREFIX_LIST]	= { "PREFIX_LIST", VARIABLE },
	[TXC_MSG_SOURCE_OPEN]	= { "SOURCE_OPEN", sizeof(struct txc_rep_source) },
	[TXC_MSG_SOURCE_CLOSE]	= { "SOURCE_CLOSE", 0 },
	[TXC_MSG_TAG_ADD]	= { "TAG_ADD", sizeof(struct txc_rep_tag) },
	[TXC_MSG_TAG_DEL]	= { "TAG_DEL", 0 },
	[TXC_MSG_CANCEL]	= { "CANCEL", sizeof(struct txc_rep_cancel) },
	[TXC_MSG_CLEAR]		= { "CLEAR", sizeof(struct txc_rep_clear) },
	[TXC_MSG_STATS]		= { "STATS", VARIABLE },
	[TXC_MSG_COUNT_ID]	= { "COUNT_ID", 0 },
	[TXC_MSG_SUBSCRIBE]	= { "SUBSCRIBE", 0 },
	[TXC_MSG_UNSUBSCRIBE]	= { "UNSUBSCRIBE", 0 },
	[TXC_MSG_BATCH]		= { "BATCH", sizeof(struct txc_rep_batch) },
	[TXC_MSG_STATUS]	= { "STATUS", VARIABLE },
	[TXC_MSG_EXPLAIN]	= { "EXPLAIN", sizeof(struct txc_rep_explain) },
	[TXC_MSG_METRICS]	= { "METRICS", VARIABLE },
	[TXC_MSG_ABORT_PLACES]	= { "ABORT_PLACES", VARIABLE },
};

static bool is_request_type(__u8 type)
{
	return type >= 1 && type <= TXC_MSG_REQUEST_MAX;
}

const char *txcl_type_name(__u8 type, char *tmp, size_t tmp_len)
{
	if (is_request_type(type))
		return types[type].name;
	if (type == TXC_MSG_COMPLETIONS)
		return "COMPLETIONS";
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
 * Exact body size of a successful list reply; false if it cannot be one.
 * In 64 bits: 32-bit counts times entry sizes could wrap a 32-bit size_t.
 */
static bool list_size(const void *body, size_t len, size_t entry, __u64 *want)
{
	struct txc_rep_list head;

	if (len < sizeof(head))
		return false;
	memcpy(&head, body, sizeof(head));
	*want = sizeof(head) + (__u64)head.count * entry;
	return true;
}

static bool status_size(const void *body, size_t len, __u64 *want)
{
	struct txc_rep_status st;

	if (len < sizeof(st))
		return false;
	memcpy(&st, body, sizeof(st));
	*want = sizeof(st) + (__u64)st.n_ifaces * sizeof(struct txc_status_iface) +
		(__u64)st.n_clients * sizeof(struct txc_status_client);
	return true;
}

static bool metrics_size(const void *body, size_t len, __u64 *want)
{
	struct txc_rep_metrics m;

	if (len < sizeof(m))
		return false;
	memcpy(&m, body, sizeof(m));
	*want = sizeof(m) + (__u64)m.n_ifaces * sizeof(struct txc_metrics_iface) +
		(__u64)m.n_requests * sizeof(struct txc_metrics_request);
	return true;
}

static int check_reply_ok(struct txc_client *c, __u8 type, const void *body, size_t len)
{
	char tmp[16];
	bool fits = true;
	__u64 want;

	if (!is_request_type(type))
		return txcl_fail(c->err, -EPROTO, "txcanceld sent a reply of unknown %s",
				 txcl_type_name(type, tmp, sizeof(tmp)));
	want = types[type].reply;
	if (type == TXC_MSG_PREFIX_LIST)
		fits = list_size(body, len, sizeof(struct txc_prefix_info), &want);
	else if (type == TXC_MSG_STATS)
		fits = list_size(body, len, sizeof(struct txc_stats_entry), &want);
	else if (type == TXC_MSG_ABORT_PLACES)
		fits = list_size(body, len, sizeof(struct txc_places_iface), &want);
	else if (type == TXC_MSG_STATUS)
		fits = status_size(body, len, &want);
	else if (type == TXC_MSG_METRICS)
		fits = metrics_size(body, len, &want);
	if (!fits)
		return txcl_fail(c->err, -EPROTO, "txcanceld sent a %s reply of %zu body bytes, "
				 "too short for its counts", types[type].name, len);
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

static int check_completions(struct txc_client *c, const __u8 *body, size_t len)
{
	struct txc_ev_completions ev;
	__u64 want;

	if (len < sizeof(ev))
		return malformed(c, "event", TXC_MSG_COMPLETIONS, len, sizeof(ev));
	memcpy(&ev, body, sizeof(ev));
	if (ev.count > TXC_COMPLETIONS_MAX)
		return txcl_fail(c->err, -EPROTO, "txcanceld sent a batch of %u completions, "
				 "more than the protocol's %u", ev.count, TXC_COMPLETIONS_MAX);
	want = sizeof(ev) + (__u64)ev.count * sizeof(struct txc_abort_record);
	if (len != want)
		return malformed(c, "event", TXC_MSG_COMPLETIONS, len, want);
	if (ev.source == TXC_SOURCE_NONE || ev.source >= TXC_MAX_SOURCES)
		return txcl_fail(c->err, -EPROTO, "txcanceld sent completions of source %u, "
				 "outside 1..%u", ev.source, TXC_MAX_SOURCES - 1);
	for (__u32 i = 0; i < ev.count; i++) {
		struct txc_abort_record r;
		int err;

		memcpy(&r, body + sizeof(ev) + i * sizeof(r), sizeof(r));
		err = check_record(c, &r, i, ev.source);
		if (err)
			return err;
	}
	return 0;
}

static int check_event(struct txc_client *c, const struct txc_msg_hdr *h, const void *body,
		       size_t len)
{
	char tmp[16];

	if (h->type != TXC_MSG_COMPLETIONS)
		return txcl_fail(c->err, -EPROTO, "txcanceld sent an event of unknown %s",
				 txcl_type_name(h->type, tmp, sizeof(tmp)));
	if (h->seq || h->error)
		return txcl_fail(c->err, -EPROTO, "txcanceld sent an event with seq %u error %d; "
				 "events carry 0 in both", h->seq, h->error);
	return check_completions(c, body, len);
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
