/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Questions to the daemon: counters, its status, what it decides for a frame. */
#include <errno.h>
#include <string.h>

#include "internal.h"

int txc_stats(struct txc_client *client, __u8 scope, __u32 value,
	      struct txc_stats_entry *out, size_t max)
{
	struct txc_req_stats req = { .scope = scope, .value = value };
	int err;

	err = txcl_enter(client);
	if (err)
		return err;
	if (scope != TXC_SCOPE_SOURCE && scope != TXC_SCOPE_ID)
		return txcl_fail(client->err, -EINVAL, "stats scope %u: must be TXC_SCOPE_SOURCE "
				 "(1) or TXC_SCOPE_ID (3)", scope);
	/* Value 0 lists everything visible. */
	if (value)
		err = scope == TXC_SCOPE_ID ? txcl_check_id(client->err, value) :
					      txcl_check_source(client->err, value);
	if (err)
		return err;
	return txcl_list_call(client, __func__, TXC_MSG_STATS, &req, sizeof(req), out, max,
			      sizeof(*out));
}

/* One array of a reply: where its entries go, how many fit, how many came. */
struct list_out {
	void *out;
	size_t max;
	size_t entry;
	__u32 count;
};

/*
 * The two arrays after the head of a STATUS or METRICS reply.  The reply
 * was checked: both follow, of exactly their counts; copy what fits.
 */
static void copy_lists(const __u8 *entries, const struct list_out *a, const struct list_out *b)
{
	size_t n = a->count < a->max ? a->count : a->max;

	if (n)
		memcpy(a->out, entries, n * a->entry);
	entries += (size_t)a->count * a->entry;
	n = b->count < b->max ? b->count : b->max;
	if (n)
		memcpy(b->out, entries, n * b->entry);
}

int txc_status(struct txc_client *client, struct txc_rep_status *status,
	       struct txc_status_iface *ifaces, size_t max_ifaces,
	       struct txc_status_client *clients, size_t max_clients)
{
	struct txcl_reply rep;
	int err;

	err = txcl_enter(client);
	if (err)
		return err;
	if (!status || (!ifaces && max_ifaces) || (!clients && max_clients))
		return txcl_fail(client->err, -EINVAL, "txc_status: %s is NULL",
				 !status ? "status" : !ifaces && max_ifaces ? "ifaces" : "clients");
	err = txcl_call(client, TXC_MSG_STATUS, NULL, 0, -1, &rep);
	if (err)
		return err;
	memcpy(status, rep.body, sizeof(*status));
	copy_lists((const __u8 *)rep.body + sizeof(*status),
		   &(struct list_out){ ifaces, max_ifaces, sizeof(*ifaces), status->n_ifaces },
		   &(struct list_out){ clients, max_clients, sizeof(*clients), status->n_clients });
	return 0;
}

int txc_explain(struct txc_client *client, const char *ifname, __u32 mark, const void *frame,
		size_t frame_len, struct txc_rep_explain *out)
{
	struct txc_req_explain req;
	struct txcl_reply rep;
	int err;

	err = txcl_enter(client);
	if (err)
		return err;
	if (!frame || !out)
		return txcl_fail(client->err, -EINVAL, "txc_explain: %s is NULL",
				 !frame ? "frame" : "out");
	if (frame_len < 14 || frame_len > TXC_EXPLAIN_FRAME_MAX)
		return txcl_fail(client->err, -EINVAL, "frame of %zu bytes: explain takes "
				 "14..%u bytes from the Ethernet header on", frame_len,
				 TXC_EXPLAIN_FRAME_MAX);
	memset(&req, 0, sizeof(req));
	err = txcl_copy_ifname(client->err, req.ifname, ifname);
	if (err)
		return err;
	req.mark = mark;
	req.frame_len = frame_len;
	memcpy(req.frame, frame, frame_len);
	err = txcl_call(client, TXC_MSG_EXPLAIN, &req, sizeof(req), -1, &rep);
	if (!err)
		memcpy(out, rep.body, sizeof(*out));
	return err;
}

int txc_metrics(struct txc_client *client, struct txc_rep_metrics *metrics,
		struct txc_metrics_iface *ifaces, size_t max_ifaces,
		struct txc_metrics_request *requests, size_t max_requests)
{
	struct txcl_reply rep;
	int err;

	err = txcl_enter(client);
	if (err)
		return err;
	if (!metrics || (!ifaces && max_ifaces) || (!requests && max_requests))
		return txcl_fail(client->err, -EINVAL, "txc_metrics: %s is NULL",
				 !metrics ? "metrics" : !ifaces && max_ifaces ? "ifaces" :
				 "requests");
	err = txcl_call(client, TXC_MSG_METRICS, NULL, 0, -1, &rep);
	if (err)
		return err;
	memcpy(metrics, rep.body, sizeof(*metrics));
	copy_lists((const __u8 *)rep.body + sizeof(*metrics),
		   &(struct list_out){ ifaces, max_ifaces, sizeof(*ifaces), metrics->n_ifaces },
		   &(struct list_out){ requests, max_requests, sizeof(*requests),
				       metrics->n_requests });
	return 0;
}
