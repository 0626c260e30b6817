// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * BATCH: every op checked, permissions included, before any is applied;
 * runs of ID cancels or clears go to the map in one call each.
 */
#include <errno.h>
#include <string.h>
#include "requests.h"
#include "rules.h"

#define OFF	TXCD_OFF
#define HDR	TXCD_HDR


/*
 * Ops are checked against the state before the batch, so two adds of one key
 * in the same batch would both pass: refuse the second here.
 */
static int check_batch_duplicate(const struct txc_batch_op *ops, __u32 i, size_t off,
				 struct txc_rep_error *err)
{
	for (__u32 j = 0; j < i; j++)
		if (ops[j].type == TXC_MSG_TAG_ADD && ops[j].tag.kind == ops[i].tag.kind &&
		    !memcmp(&ops[j].tag.key, &ops[i].tag.key, sizeof(ops[i].tag.key)))
			return txcd_error(err, -EEXIST, off + OFF(struct txc_req_tag, key),
					  "a %s rule for this key exists already in op %u of this batch",
					  txcd_rule_table_of(ops[i].tag.kind)->name, j);
	return 0;
}

/*
 * Consecutive ID cancels on every interface, or consecutive ID clears, go to
 * the map in one batch call each: a batch of 1,000 cancels is then a few
 * system calls, not 2,000.  Runs keep the batch's order.
 */
struct id_run {
	__u8 type;		/* TXC_MSG_CANCEL or TXC_MSG_CLEAR; 0: empty */
	__u32 first;		/* index of the run's first op */
	__u32 n;
	__u32 ids[TXC_BATCH_MAX];
	__u64 expires_ns[TXC_BATCH_MAX];
};

static bool id_run_takes(const struct id_run *run, const struct txc_batch_op *op)
{
	bool fits;

	if (op->type == TXC_MSG_CANCEL)
		fits = op->cancel.scope == TXC_SCOPE_ID && !op->cancel.ifname[0];
	else if (op->type == TXC_MSG_CLEAR)
		fits = op->clear.scope == TXC_SCOPE_ID;
	else
		fits = false;
	return fits && (!run->n || run->type == op->type);
}

static void id_run_add(struct id_run *run, __u32 index, const struct txc_batch_op *op)
{
	if (!run->n) {
		run->type = op->type;
		run->first = index;
	}
	if (op->type == TXC_MSG_CANCEL) {
		run->ids[run->n] = op->cancel.value;
		run->expires_ns[run->n] = op->cancel.timeout_ns ?
					  txcd_now_ns() + op->cancel.timeout_ns : 0;
	} else {
		run->ids[run->n] = op->clear.value;
	}
	run->n++;
}

static int id_run_flush(struct txcd *d, struct id_run *run, struct txc_rep_batch *rep)
{
	__u32 done = 0;
	int ret;

	if (!run->n)
		return 0;
	/* Indexed first, as a single cancel (txcd_apply_cancel). */
	if (run->type == TXC_MSG_CANCEL)
		for (__u32 i = 0; i < run->n; i++) {
			txcd_prefix_ids_used(d, TXC_ID_PREFIX(run->ids[i]), false);
			txcd_cancelindex_add(d, run->ids[i]);
		}
	if (run->type == TXC_MSG_CANCEL)
		ret = txdp_cancel_ids(d->dp, run->ids, run->expires_ns, run->n, &done);
	else
		ret = txdp_clear_ids(d->dp, run->ids, run->n, &done);
	rep->applied += done;
	/* Which clears went is known only when all did. */
	for (__u32 i = 0; run->type == TXC_MSG_CLEAR && !ret && i < run->n; i++)
		txcd_cancelindex_del(d, run->ids[i]);
	if (ret) {
		rep->failed = run->first + done;
		txcd_error(&rep->error, ret, TXC_FIELD_NONE, "%s the cancel of 0x%08x: %s",
			   run->type == TXC_MSG_CANCEL ? "storing" : "clearing",
			   run->ids[done < run->n ? done : 0], txdp_strerror(d->dp, ret));
	}
	run->n = 0;
	return ret;
}

/* Check every op against the state before the batch: 0, or the first refused. */
static int batch_check(struct txcd *d, struct txcd_conn *c, const struct txc_req_batch *b,
		       struct txc_rep_batch *rep)
{
	const struct txc_batch_op *ops = (const void *)(b + 1);
	union txc_tag_key key;
	__u32 ifindex, pending = 0;
	int ret = 0;

	for (__u32 i = 0; i < b->count; i++) {
		size_t off = HDR + sizeof(*b) + i * sizeof(*ops) + OFF(struct txc_batch_op, raw);

		switch (ops[i].type) {
		case TXC_MSG_TAG_ADD:
			ret = txcd_check_tag_add(d, c, &ops[i].tag, off, -1, pending++, &key,
						 &rep->error);
			if (!ret)
				ret = check_batch_duplicate(ops, i, off, &rep->error);
			break;
		case TXC_MSG_TAG_DEL:
			ret = txcd_check_tag_del(d, c, &ops[i].tag, off, -1, &rep->error);
			break;
		case TXC_MSG_CANCEL:
			ret = txcd_check_cancel(d, c, &ops[i].cancel, off, &ifindex, &rep->error);
			break;
		default:
			ret = txcd_need_scope(d, c, ops[i].clear.scope, ops[i].clear.value,
					      off + OFF(struct txc_req_clear, value), &rep->error);
			break;
		}
		if (ret) {
			rep->failed = i;
			return ret;
		}
	}
	return 0;
}

/* Apply the checked ops in order, up to the first that fails. */
static int batch_apply(struct txcd *d, struct txcd_conn *c, const struct txc_req_batch *b,
		       struct txc_rep_batch *rep)
{
	static struct id_run run;	/* 12 KiB: one batch at a time, one thread */
	const struct txc_batch_op *ops = (const void *)(b + 1);
	__u32 ifindex;
	__u64 since;
	int ret = 0;

	for (__u32 i = 0; i < b->count && !ret; i++) {
		if (id_run_takes(&run, &ops[i])) {
			id_run_add(&run, i, &ops[i]);
			continue;
		}
		ret = id_run_flush(d, &run, rep);
		if (ret)
			break;
		switch (ops[i].type) {
		case TXC_MSG_TAG_ADD:
			ret = txcd_apply_tag_add(d, &ops[i].tag, &ops[i].tag.key, -1, &rep->error);
			break;
		case TXC_MSG_TAG_DEL:
			ret = txcd_apply_tag_del(d, &ops[i].tag, -1, &rep->error);
			break;
		case TXC_MSG_CANCEL:
			txcd_check_cancel(d, c, &ops[i].cancel, 0, &ifindex, &rep->error);
			ret = txcd_apply_cancel(d, &ops[i].cancel, ifindex, &since, &rep->error);
			break;
		default:
			ret = txcd_apply_clear(d, &ops[i].clear, NULL, &rep->error);
			break;
		}
		if (ret)
			rep->failed = i;
		else
			rep->applied++;
	}
	if (!ret)
		ret = id_run_flush(d, &run, rep);
	return ret;
}

/* The reply is a struct txc_rep_batch either way: its error says what failed. */
int txcd_do_batch(struct txcd_req *r)
{
	const struct txc_req_batch *b = r->body;
	struct txc_rep_batch *rep = r->rep;
	int ret;

	rep->failed = TXC_FIELD_NONE;
	ret = batch_check(r->d, r->c, b, rep);
	return ret ? ret : batch_apply(r->d, r->c, b, rep);
}
