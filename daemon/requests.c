// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Dispatch: the table of handlers by request type, and the handlers of
 * the leases and subscriptions.  The checks every handler shares (who
 * holds the prefix or source) are in requests_perm.c, tags, cancels and
 * clears in requests_tag.c, batches in requests_batch.c, the read-only
 * requests in requests_query.c.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "requests.h"
#include "conn.h"
#include "proto_table.h"

#define COUNT_ID_RETRIES	50	/* 1 ms apart: as long as the datapath library would wait */

/* --- leases and subscriptions --------------------------------------------- */

int txcd_do_hello(struct txcd_req *r)
{
	struct txc_rep_hello *rep = r->rep;

	*rep = (struct txc_rep_hello){
		.version = TXC_PROTO_VERSION, .conn_id = r->c->id, .uid = r->c->uid,
		.pid = r->c->pid, .mark_mask = r->d->opts.mark_mask,
		.max_prefixes = r->d->opts.max_prefixes, .max_sources = r->d->opts.max_sources,
		.max_rules = r->d->opts.max_rules,
	};
	return 0;
}

int txcd_do_prefix_alloc(struct txcd_req *r)
{
	const struct txc_req_prefix *req = r->body;
	struct txc_rep_prefix *rep = r->rep;
	char why[sizeof(r->err.message)];
	__u32 prefix;
	int ret = txcd_prefix_alloc(r->d, r->c, req->prefix, &prefix, why, sizeof(why));

	if (ret)
		return txcd_error(&r->err, ret, TXC_FIELD_NONE, "%s", why);
	*rep = (struct txc_rep_prefix){ .prefix = prefix };
	return 0;
}

int txcd_do_prefix_free(struct txcd_req *r)
{
	const struct txc_req_prefix *req = r->body;

	txcd_prefix_release(r->d, req->prefix);
	return 0;
}

/* The two requests that park, SOURCE_OPEN and COUNT_ID, fit parked_req exactly. */
_Static_assert(sizeof(((struct txcd_conn *)0)->parked_req) ==
	       TXCD_HDR + sizeof(struct txc_req_source) &&
	       sizeof(struct txc_req_count_id) == sizeof(struct txc_req_source),
	       "a parked request fits parked_req");

static void park(struct txcd_req *r)
{
	memcpy(r->c->parked_req, r->h, sizeof(r->c->parked_req));
}

int txcd_do_source_open(struct txcd_req *r)
{
	const struct txc_req_source *req = r->body;
	struct txc_rep_source *rep = r->rep;
	char why[sizeof(r->err.message)];
	__u32 source;
	int ret = txcd_source_open(r->d, r->c, req->source, &source, why, sizeof(why));

	if (ret == -EINPROGRESS) {
		/* No ring is ready: answered when one is (ringpool.c). */
		park(r);
		txcd_ringpool_park(r->d, r->c);
		return TXCD_PARKED;
	}
	if (ret)
		return txcd_error(&r->err, ret, TXC_FIELD_NONE, "%s", why);
	*rep = (struct txc_rep_source){ .source = source };
	return 0;
}

int txcd_do_source_close(struct txcd_req *r)
{
	const struct txc_req_source *req = r->body;

	txcd_source_release(r->d, req->source);
	return 0;
}

int txcd_do_subscribe(struct txcd_req *r)
{
	const struct txc_req_source *req = r->body;
	char why[sizeof(r->err.message)];
	int ret = txcd_subscribe(r->d, r->c, req->source, why, sizeof(why));

	if (ret == -EALREADY || ret == -EDQUOT)
		return txcd_error(&r->err, ret, TXC_FIELD_NONE, "%s", why);
	if (ret)
		return txcd_error(&r->err, ret, TXC_FIELD_NONE, "subscribing to source %u: %s",
				  req->source, strerror(-ret));
	return 0;
}

int txcd_do_unsubscribe(struct txcd_req *r)
{
	const struct txc_req_source *req = r->body;

	if (txcd_unsubscribe(r->d, r->c, req->source))
		return txcd_error(&r->err, -ENOENT, TXC_FIELD_NONE, "source %u: not subscribed",
				  req->source);
	return 0;
}

int txcd_do_capture(struct txcd_req *r)
{
	const struct txc_req_capture *req = r->body;
	char why[sizeof(r->err.message)];
	int ret = txcd_capture(r->d, r->c, req->source, req->snaplen, why, sizeof(why));

	if (ret)
		return txcd_error(&r->err, ret, TXC_FIELD_NONE, "%s", why);
	return 0;
}

int txcd_do_count_id(struct txcd_req *r)
{
	const struct txc_req_count_id *req = r->body;
	struct txcd_conn *c = r->c;
	int ret;

	if (req->enable)
		txcd_prefix_ids_used(r->d, TXC_ID_PREFIX(req->cancel_id), true);
	ret = req->enable ? txdp_id_count_try(r->d->dp, req->cancel_id) :
			    txdp_id_count_stop(r->d->dp, req->cancel_id);
	/*
	 * The kernel's per-CPU allocator is refilling: try again in a
	 * millisecond, a few dozen times, parked, while the loop goes on.
	 */
	if (ret == -EAGAIN && c->retries < COUNT_ID_RETRIES) {
		c->retries++;
		park(r);
		txcd_conn_retry_later(r->d, c);
		return TXCD_PARKED;
	}
	c->retries = 0;
	if (!ret)
		return 0;
	if (ret == -EAGAIN)
		return txcd_error(&r->err, ret, TXC_FIELD_NONE, "starting the counters of 0x%08x: "
				  "the kernel is short of per-CPU memory for a new counter; try "
				  "again", req->cancel_id);
	if (ret == -ENOENT && !req->enable)
		return txcd_error(&r->err, ret, TXC_FIELD_NONE, "cancel ID 0x%08x is not counted",
				  req->cancel_id);
	return txcd_error(&r->err, ret, TXC_FIELD_NONE, "%s the counters of 0x%08x: %s",
			  req->enable ? "starting" : "stopping", req->cancel_id,
			  txdp_strerror(r->d->dp, ret));
}

/* --- dispatch ------------------------------------------------------------- */

#define LEASE(kind, type, field) \
	.needs = (kind), .lease_off = TXCD_OFF(type, field)

const struct txcd_handler txcd_handlers[TXC_MSG_REQUEST_MAX + 1] = {
	[TXC_MSG_HELLO]		= { txcd_do_hello },
	[TXC_MSG_PREFIX_ALLOC]	= { txcd_do_prefix_alloc },
	[TXC_MSG_PREFIX_FREE]	= { txcd_do_prefix_free,
				    LEASE(TXCD_NEEDS_PREFIX, struct txc_req_prefix, prefix) },
	[TXC_MSG_PREFIX_LIST]	= { txcd_do_prefix_list },
	[TXC_MSG_SOURCE_OPEN]	= { txcd_do_source_open },
	[TXC_MSG_SOURCE_CLOSE]	= { txcd_do_source_close,
				    LEASE(TXCD_NEEDS_SOURCE, struct txc_req_source, source) },
	[TXC_MSG_SUBSCRIBE]	= { txcd_do_subscribe,
				    LEASE(TXCD_NEEDS_SOURCE, struct txc_req_source, source) },
	[TXC_MSG_UNSUBSCRIBE]	= { txcd_do_unsubscribe,
				    LEASE(TXCD_NEEDS_SOURCE, struct txc_req_source, source) },
	[TXC_MSG_TAG_ADD]	= { txcd_do_tag_add, .takes_fd = true },
	[TXC_MSG_TAG_DEL]	= { txcd_do_tag_del, .takes_fd = true },
	[TXC_MSG_CANCEL]	= { txcd_do_cancel },
	[TXC_MSG_CLEAR]		= { txcd_do_clear },
	[TXC_MSG_STATS]		= { txcd_do_stats },
	[TXC_MSG_COUNT_ID]	= { txcd_do_count_id,
				    LEASE(TXCD_NEEDS_ID_PREFIX, struct txc_req_count_id,
					  cancel_id) },
	[TXC_MSG_BATCH]		= { txcd_do_batch, .error_in_body = true },
	[TXC_MSG_STATUS]	= { txcd_do_status },
	[TXC_MSG_EXPLAIN]	= { txcd_do_explain },
	[TXC_MSG_METRICS]	= { txcd_do_metrics },
	[TXC_MSG_ABORT_PLACES]	= { txcd_do_abort_places },
	[TXC_MSG_CAPTURE]	= { txcd_do_capture,
				    LEASE(TXCD_NEEDS_SOURCE, struct txc_req_capture, source) },
};

static int check_lease(struct txcd_req *r, const struct txcd_handler *hd)
{
	__u32 field = TXCD_HDR + hd->lease_off;
	__u32 v;
	char what[48];

	memcpy(&v, (const __u8 *)r->body + hd->lease_off, sizeof(v));
	switch (hd->needs) {
	case TXCD_NEEDS_PREFIX:
		return txcd_need_scope(r->d, r->c, TXC_SCOPE_PREFIX, v, field, &r->err);
	case TXCD_NEEDS_SOURCE:
		return txcd_need_source(r->d, r->c, v, field, &r->err);
	case TXCD_NEEDS_ID_PREFIX:
		snprintf(what, sizeof(what), "cancel ID 0x%08x", v);
		return txcd_need_prefix(r->d, r->c, TXC_ID_PREFIX(v), field, what, &r->err);
	}
	return 0;
}

static int dispatch(struct txcd_req *r)
{
	const struct txcd_handler *hd = r->h->type <= TXC_MSG_REQUEST_MAX ?
					&txcd_handlers[r->h->type] : NULL;
	int ret;

	if (!hd || !hd->fn)
		return txcd_error(&r->err, -EBADMSG, TXC_FIELD_NONE,
				  "request type %u has no handler", r->h->type);
	if (r->fd >= 0 && !hd->takes_fd)
		return txcd_error(&r->err, -EINVAL, TXC_FIELD_NONE,
				  "only TAG_ADD and TAG_DEL of a socket take a file descriptor");
	ret = check_lease(r, hd);
	return ret ? ret : hd->fn(r);
}

size_t txcd_handle(struct txcd *d, struct txcd_conn *c, const void *msg, int fd, void *reply)
{
	struct txcd_req r = {
		.d = d, .c = c, .h = msg, .body = (const __u8 *)msg + TXCD_HDR, .fd = fd,
		.rep = (__u8 *)reply + TXCD_HDR,
	};
	struct txc_msg_hdr *h = reply;
	/* The check passed: the type is a request type, and has a row. */
	size_t head = txcc_msg_type(r.h->type)->rep_size;
	int ret;

	/*
	 * The reply is its type's head, zeroed, unless the handler says
	 * otherwise (a list with its entries): the table has its size.
	 */
	memset(r.rep, 0, head);
	r.rep_len = head;
	ret = dispatch(&r);
	if (fd >= 0)
		close(fd);
	if (ret == TXCD_PARKED)
		return 0;
	if (ret && !txcd_handlers[r.h->type].error_in_body) {
		memcpy(r.rep, &r.err, sizeof(r.err));
		r.rep_len = sizeof(r.err);
	}
	txcd_reply_hdr(h, r.h, ret, TXCD_HDR + r.rep_len);
	return h->length;
}
