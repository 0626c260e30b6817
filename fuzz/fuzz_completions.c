// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * libFuzzer target: what libtxcancel does with the packets a daemon sends,
 * completion events above all (lib/validate.c, lib/events.c).
 *
 * Input: one or more messages back to back.  Each is cut at the length its
 * header gives, when that length is a header's or more and fits; otherwise
 * the rest of the input is one packet.  A valid message is therefore a
 * valid input, and so are several.
 *
 * Two things run on the packets:
 *   1. txcl_check_msg() on each, whose verdict must agree with proto.h as
 *      restated here (expect_msg): header, replies of every type (sizes
 *      from their counts), error replies, events and their records;
 *   2. the real receive path: the packets go down a SOCK_SEQPACKET pair to
 *      a client that txc_read_completions() reads.  Every valid event before
 *      the first packet that is not one must reach the callback intact and
 *      in order, the accounts must be the last batch of each source, and
 *      the first bad packet must leave the client broken with -EPROTO or
 *      -EPROTONOSUPPORT.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "internal.h"

#define HDR		sizeof(struct txc_msg_hdr)
#define MAX_PACKETS	64

struct packet {
	const __u8 *data;
	size_t len;
};

static void __attribute__((noreturn, format(printf, 1, 2))) broken(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "fuzz_completions: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

/* --- the protocol, restated ----------------------------------------------- */

/* Whether @len bytes hold a head of @size bytes; if so it is copied to @head. */
static bool head_of(void *head, size_t size, const __u8 *body, size_t len)
{
	if (len < size)
		return false;
	memcpy(head, body, size);
	return true;
}

/* COMPLETIONS_CAPTURE: version 2 records of their own hdr.size, exactly filling it. */
static bool capture_body_ok(const __u8 *body, size_t len)
{
	struct txc_ev_completions ev;
	size_t off = sizeof(ev);

	if (!head_of(&ev, sizeof(ev), body, len) ||
	    ev.count > TXC_COMPLETIONS_MAX || ev.source < 1 || ev.source >= TXC_MAX_SOURCES)
		return false;
	for (__u32 i = 0; i < ev.count; i++) {
		struct txc_abort_record r;

		if (!head_of(&r, sizeof(r), body + off, len - off) ||
		    r.hdr.version != TXC_RECORD_VERSION_CAPTURE || r.hdr.type != TXC_RECORD_ABORT ||
		    r.cap_len > TXC_CAPTURE_MAX || r.hdr.size != TXC_RECORD_CAPTURE_SIZE(r.cap_len) ||
		    r.hdr.size > len - off || r.hdr.status != TXC_STATUS_SEND_ABORTED ||
		    r.source != ev.source)
			return false;
		off += r.hdr.size;
	}
	return off == len;
}

static bool event_body_ok(__u8 type, const __u8 *body, size_t len)
{
	struct txc_ev_completions ev;

	if (type == TXC_MSG_COMPLETIONS_CAPTURE)
		return capture_body_ok(body, len);
	if (type != TXC_MSG_COMPLETIONS || !head_of(&ev, sizeof(ev), body, len) ||
	    ev.count > TXC_COMPLETIONS_MAX ||
	    len != sizeof(ev) + ev.count * sizeof(struct txc_abort_record) ||
	    ev.source < 1 || ev.source >= TXC_MAX_SOURCES)
		return false;
	for (__u32 i = 0; i < ev.count; i++) {
		struct txc_abort_record r;

		memcpy(&r, body + sizeof(ev) + i * sizeof(r), sizeof(r));
		if (r.hdr.version != TXC_RECORD_VERSION || r.hdr.type != TXC_RECORD_ABORT ||
		    r.hdr.size != sizeof(r) || r.hdr.status != TXC_STATUS_SEND_ABORTED ||
		    r.source != ev.source)
			return false;
	}
	return true;
}

/* A counted list: the head's count times @entry bytes after it, exactly. */
static bool list_ok(const __u8 *body, size_t len, size_t entry)
{
	struct txc_rep_list head;

	return head_of(&head, sizeof(head), body, len) &&
	       len == sizeof(head) + (__u64)head.count * entry;
}

static bool reply_ok(__u8 type, const __u8 *body, size_t len)
{
	struct txc_rep_metrics m;
	struct txc_rep_status st;

	switch (type) {
	case TXC_MSG_HELLO:		return len == sizeof(struct txc_rep_hello);
	case TXC_MSG_PREFIX_ALLOC:	return len == sizeof(struct txc_rep_prefix);
	case TXC_MSG_SOURCE_OPEN:	return len == sizeof(struct txc_rep_source);
	case TXC_MSG_TAG_ADD:		return len == sizeof(struct txc_rep_tag);
	case TXC_MSG_CANCEL:		return len == sizeof(struct txc_rep_cancel);
	case TXC_MSG_CLEAR:		return len == sizeof(struct txc_rep_clear);
	case TXC_MSG_BATCH:		return len == sizeof(struct txc_rep_batch);
	case TXC_MSG_EXPLAIN:		return len == sizeof(struct txc_rep_explain);
	case TXC_MSG_PREFIX_FREE:
	case TXC_MSG_SOURCE_CLOSE:
	case TXC_MSG_TAG_DEL:
	case TXC_MSG_COUNT_ID:
	case TXC_MSG_SUBSCRIBE:
	case TXC_MSG_UNSUBSCRIBE:
	case TXC_MSG_CAPTURE:		return len == 0;
	case TXC_MSG_PREFIX_LIST:	return list_ok(body, len, sizeof(struct txc_prefix_info));
	case TXC_MSG_STATS:		return list_ok(body, len, sizeof(struct txc_stats_entry));
	case TXC_MSG_ABORT_PLACES:	return list_ok(body, len, sizeof(struct txc_places_iface));
	case TXC_MSG_STATUS:
		return head_of(&st, sizeof(st), body, len) &&
		       len == sizeof(st) +
			      (__u64)st.n_ifaces * sizeof(struct txc_status_iface) +
			      (__u64)st.n_clients * sizeof(struct txc_status_client);
	case TXC_MSG_METRICS:
		return head_of(&m, sizeof(m), body, len) &&
		       len == sizeof(m) +
			      (__u64)m.n_ifaces * sizeof(struct txc_metrics_iface) +
			      (__u64)m.n_requests * sizeof(struct txc_metrics_request);
	default:
		return false;
	}
}

/* 0 if the library must take the message, else the errno it must refuse it with. */
static int expect_msg(const __u8 *msg, size_t len)
{
	const __u8 *body = msg + HDR;
	struct txc_msg_hdr h;
	bool ok;

	if (len < HDR)
		return -EPROTO;
	memcpy(&h, msg, sizeof(h));
	if (h.magic != TXC_PROTO_MAGIC)
		return -EPROTO;
	if (h.version != TXC_PROTO_VERSION)
		return -EPROTONOSUPPORT;
	if (h.length != len || h.reserved)
		return -EPROTO;
	if (h.flags == TXC_MSG_F_EVENT)
		ok = !h.seq && !h.error && event_body_ok(h.type, body, len - HDR);
	else if (h.flags != TXC_MSG_F_REPLY || h.error > 0)
		ok = false;
	else if (h.error < 0)
		ok = h.error >= -4095 && (len - HDR == sizeof(struct txc_rep_error) ||
					  (h.type == TXC_MSG_BATCH &&
					   len - HDR == sizeof(struct txc_rep_batch)));
	else
		ok = reply_ok(h.type, body, len - HDR);
	return ok ? 0 : -EPROTO;
}

static bool is_event(const struct packet *p)
{
	struct txc_msg_hdr h;

	if (expect_msg(p->data, p->len))
		return false;
	memcpy(&h, p->data, sizeof(h));
	return h.flags == TXC_MSG_F_EVENT;
}

/* --- the receive path ------------------------------------------------------ */

struct delivery {
	struct txc_client *c;
	const struct packet *pkts;
	size_t n_pkts, next;
	long records;
};

static void on_batch(void *ctx, const struct txc_ev_completions *ev,
		     const struct txc_abort_record *recs)
{
	struct delivery *d = ctx;
	const struct packet *p;

	if (d->next >= d->n_pkts || !is_event(&d->pkts[d->next]))
		broken("callback for packet %zu, which is not a valid event", d->next);
	p = &d->pkts[d->next++];
	if (memcmp(ev, p->data + HDR, sizeof(*ev)))
		broken("batch %zu: the account differs from the event's", d->next - 1);
	if (((const struct txc_msg_hdr *)p->data)->type == TXC_MSG_COMPLETIONS_CAPTURE) {
		size_t off = HDR + sizeof(*ev);

		for (__u32 i = 0; i < ev->count; i++) {
			const __u8 *bytes;
			__u32 n;

			bytes = txc_record_bytes(d->c, &recs[i], &n);
			if (memcmp(&recs[i], p->data + off, sizeof(*recs)) || n != recs[i].cap_len ||
			    (n && (!bytes || memcmp(bytes, p->data + off + sizeof(*recs), n))))
				broken("batch %zu: record %u differs from the event's", d->next - 1, i);
			off += recs[i].hdr.size;
		}
	} else if (ev->count && memcmp(recs, p->data + HDR + sizeof(*ev),
				       ev->count * sizeof(*recs))) {
		broken("batch %zu: the records differ from the event's", d->next - 1);
	}
	d->records += ev->count;
}

static struct txc_client *client_on(int fd)
{
	struct txc_client *c = calloc(1, sizeof(*c));

	if (!c || !(c->rx = malloc(TXC_MSG_MAX)))
		abort();
	c->fd = fd;
	return c;
}

static void check_accounts(const struct txc_client *c, const struct packet *pkts, size_t n)
{
	for (size_t i = 0; i + 1 < c->n_accounts; i++)
		if (c->accounts[i].ev.source >= c->accounts[i + 1].ev.source)
			broken("accounts not sorted by source at %zu", i);
	for (size_t i = 0; i < n; i++) {
		struct txc_ev_completions ev, got;
		bool last = true;

		memcpy(&ev, pkts[i].data + HDR, sizeof(ev));
		for (size_t j = i + 1; j < n; j++)
			if (!memcmp(pkts[j].data + HDR, &ev.source, sizeof(ev.source)))
				last = false;
		if (!last)
			continue;
		if (txc_source_account(c, ev.source, &got))
			broken("no account for source %u", ev.source);
		if (memcmp(&got, &ev, sizeof(ev)))
			broken("account of source %u is not its last batch", ev.source);
	}
	if (txc_source_account(c, TXC_SOURCE_NONE, &(struct txc_ev_completions){}) != -ENOENT)
		broken("an account for source 0");
}

static void read_through_client(const struct packet *pkts, size_t n)
{
	struct delivery d = { .pkts = pkts };
	size_t first_bad, sent = 0;
	struct txc_client *c;
	int sv[2], ret;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		broken("socketpair: %s", strerror(errno));
	for (; sent < n; sent++)
		if (send(sv[1], pkts[sent].data, pkts[sent].len, MSG_DONTWAIT | MSG_NOSIGNAL) !=
		    (ssize_t)pkts[sent].len)
			break;	/* the socket is full: the rest stays unsent */
	d.n_pkts = sent;
	for (first_bad = 0; first_bad < sent && is_event(&pkts[first_bad]); first_bad++)
		;
	c = client_on(sv[0]);
	d.c = c;
	ret = txc_read_completions(c, on_batch, &d, 0);
	if (d.next != first_bad)
		broken("%zu batches handed out, %zu valid events came first", d.next, first_bad);
	if (first_bad == sent) {
		if (ret != d.records)
			broken("returned %d for %ld records", ret, d.records);
		if (txc_read_completions(c, on_batch, &d, 0) != 0)
			broken("a second read found something");
	} else {
		int want = expect_msg(pkts[first_bad].data, pkts[first_bad].len);

		/* A valid reply nobody waited for is a protocol error too. */
		if (ret != (want ? want : -EPROTO))
			broken("packet %zu: returned %d, not %d", first_bad, ret,
			       want ? want : -EPROTO);
		if (!txc_client_error(c)[0])
			broken("refused without an error text");
		if (txc_read_completions(c, on_batch, &d, 0) != ret)
			broken("the client is not broken after a bad packet");
	}
	check_accounts(c, pkts, first_bad);
	txc_client_close(c);
	close(sv[1]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct packet pkts[MAX_PACKETS];
	struct txc_client *c;
	size_t n = 0, off = 0;

	while (off < size && n < MAX_PACKETS) {
		size_t left = size - off, len = left;
		struct txc_msg_hdr h;

		if (left >= HDR) {
			memcpy(&h, data + off, sizeof(h));
			if (h.length >= HDR && h.length <= left)
				len = h.length;
		}
		pkts[n++] = (struct packet){ .data = data + off, .len = len };
		off += len;
	}

	c = client_on(-1);
	for (size_t i = 0; i < n; i++) {
		int want = expect_msg(pkts[i].data, pkts[i].len);
		int got;

		c->err[0] = '\0';
		got = txcl_check_msg(c, pkts[i].data, pkts[i].len);
		if (got != want)
			broken("packet %zu of %zu bytes: check returned %d, the protocol says %d "
			       "(%s)", i, pkts[i].len, got, want, c->err);
		if (got && !c->err[0])
			broken("packet %zu refused without an error text", i);
	}
	txc_client_close(c);

	if (n)
		read_through_client(pkts, n);
	return 0;
}
