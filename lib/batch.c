/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Batches: many tag/untag/cancel/clear operations in one BATCH request.
 *
 * A batch has no client, so its builders leave their error text where
 * txc_last_error() finds it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define BATCH_FIRST	16	/* ops room of a new batch; it doubles up to TXC_BATCH_MAX */

/* Kept as the request body goes on the wire: the count, then the ops. */
struct txc_batch {
	struct txc_req_batch *req;
	size_t max;			/* ops room after req */
};

static struct txc_batch_op *batch_ops(const struct txc_batch *b)
{
	return (struct txc_batch_op *)(b->req + 1);
}

static size_t batch_bytes(size_t ops)
{
	return sizeof(struct txc_req_batch) + ops * sizeof(struct txc_batch_op);
}

struct txc_batch *txc_batch_new(void)
{
	struct txc_batch *b = calloc(1, sizeof(*b));

	if (b)
		b->req = calloc(1, batch_bytes(BATCH_FIRST));
	if (!b || !b->req) {
		free(b);
		txcl_fail(txcl_tls_err(), -ENOMEM, "out of memory for a batch");
		return NULL;
	}
	b->max = BATCH_FIRST;
	return b;
}

void txc_batch_free(struct txc_batch *batch)
{
	if (!batch)
		return;
	free(batch->req);
	free(batch);
}

void txc_batch_reset(struct txc_batch *batch)
{
	if (batch)
		batch->req->count = 0;
}

size_t txc_batch_count(const struct txc_batch *batch)
{
	return batch ? batch->req->count : 0;
}

static int batch_room(struct txc_batch *b)
{
	struct txc_req_batch *req;
	size_t max;

	if (b->req->count == TXC_BATCH_MAX)
		return txcl_fail(txcl_tls_err(), -E2BIG, "the batch is full: a batch holds at "
				 "most %u operations", TXC_BATCH_MAX);
	if (b->req->count < b->max)
		return 0;
	max = 2 * b->max < TXC_BATCH_MAX ? 2 * b->max : TXC_BATCH_MAX;
	req = realloc(b->req, batch_bytes(max));
	if (!req)
		return txcl_fail(txcl_tls_err(), -ENOMEM, "out of memory for a batch of %zu "
				 "operations", max);
	b->req = req;
	b->max = max;
	return 0;
}

static int batch_add(struct txc_batch *b, const struct txc_batch_op *op)
{
	int err = batch_room(b);

	if (err)
		return err;
	batch_ops(b)[b->req->count++] = *op;
	return 0;
}

/* A zeroed op: the daemon refuses non-zero bytes past the op's own request. */
static int op_init(struct txc_batch *b, struct txc_batch_op *op, __u8 type)
{
	memset(op, 0, sizeof(*op));
	op->type = type;
	if (!b)
		return txcl_fail(txcl_tls_err(), -EINVAL, "the batch is NULL");
	return 0;
}

/* A TAG_ADD or TAG_DEL op; never of a socket, which must travel by SCM_RIGHTS. */
static int batch_tag_op(struct txc_batch *batch, bool add, __u8 kind,
			const union txc_tag_key *key, __u32 cancel_id, __u32 source)
{
	struct txc_batch_op op;
	int err;

	err = op_init(batch, &op, add ? TXC_MSG_TAG_ADD : TXC_MSG_TAG_DEL);
	if (err)
		return err;
	if (kind == TXC_TAG_SOCKET)
		return txcl_fail(txcl_tls_err(), -EINVAL, "socket %s cannot be batched: the "
				 "socket travels by SCM_RIGHTS; use %s()", add ? "tags" : "untags",
				 add ? "txc_tag_socket" : "txc_untag_socket");
	err = txcl_make_tag(txcl_tls_err(), &op.tag, add, kind, key, cancel_id, source);
	return err ? err : batch_add(batch, &op);
}

int txc_batch_tag(struct txc_batch *batch, __u8 kind, const union txc_tag_key *key,
		  __u32 cancel_id, __u32 source)
{
	return batch_tag_op(batch, true, kind, key, cancel_id, source);
}

int txc_batch_untag(struct txc_batch *batch, __u8 kind, const union txc_tag_key *key)
{
	return batch_tag_op(batch, false, kind, key, 0, 0);
}

int txc_batch_cancel(struct txc_batch *batch, __u8 scope, __u32 value, const char *ifname,
		     __u64 timeout_ns)
{
	struct txc_batch_op op;
	int err;

	err = op_init(batch, &op, TXC_MSG_CANCEL);
	if (!err)
		err = txcl_make_cancel(txcl_tls_err(), &op.cancel, scope, value, ifname,
				       timeout_ns);
	return err ? err : batch_add(batch, &op);
}

int txc_batch_clear(struct txc_batch *batch, __u8 scope, __u32 value)
{
	struct txc_batch_op op;
	int err;

	err = op_init(batch, &op, TXC_MSG_CLEAR);
	if (!err)
		err = txcl_make_clear(txcl_tls_err(), &op.clear, scope, value);
	return err ? err : batch_add(batch, &op);
}

/*
 * A failed op's reply: check the daemon's indexes, and say in the text how
 * far the batch got, which the return value cannot.
 */
static int batch_failed(struct txc_client *c, const struct txc_rep_batch *got, __u32 count,
			int err, __u32 *failed)
{
	char why[TXCL_ERR_MAX];

	if (got->applied > count || (got->failed >= count && got->failed != TXC_FIELD_NONE))
		return txcl_fail(c->err, -EPROTO, "txcanceld reported op %u of a batch of %u "
				 "failed after %u applied", got->failed, count, got->applied);
	if (failed)
		*failed = got->failed;
	if (got->failed != TXC_FIELD_NONE) {
		memcpy(why, c->err, sizeof(why));
		txcl_fail(c->err, err, "%s (batch op %u failed, %u of %u applied)", why,
			  got->failed, got->applied, count);
	}
	return err;
}

int txc_batch_submit(struct txc_client *client, const struct txc_batch *batch, __u32 *failed)
{
	struct txcl_reply rep = { 0 };
	struct txc_rep_batch got;
	__u32 count;
	int err;

	if (failed)
		*failed = TXC_FIELD_NONE;
	err = txcl_enter(client);
	if (err)
		return err;
	if (!batch || !batch->req->count)
		return txcl_fail(client->err, -EINVAL, "the batch is empty: add operations with "
				 "txc_batch_tag(), _untag(), _cancel() or _clear() first");
	count = batch->req->count;
	err = txcl_call(client, TXC_MSG_BATCH, batch->req, batch_bytes(count), -1, &rep);
	/* Transport failures, and refusals of the whole request (a txc_rep_error). */
	if (err && rep.len != sizeof(got))
		return err;
	memcpy(&got, rep.body, sizeof(got));
	if (err)
		return batch_failed(client, &got, count, err, failed);
	if (got.applied != count || got.failed != TXC_FIELD_NONE)
		return txcl_fail(client->err, -EPROTO, "txcanceld reported %u of %u batch "
				 "operations applied (failed op %u) without an error",
				 got.applied, count, got.failed);
	return (int)got.applied;
}
