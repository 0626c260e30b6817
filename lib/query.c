/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Questions to the daemon: counters, its status, what it decides for a frame. */
#include <errno.h>
#include <string.h>

#include "internal.h"

int txc_stats(struct txc_client *client, __u8 scope, __u32 value,
	      struct txc_stats_entry *out, size_t max)
{
	struct txc_req_stats req = { .scope = scope, .value = value };
	struct txcl_reply rep;
	int err;

	err = txcl_enter(client);
	if (err)
		return err;
	if (!out && max)
		return txcl_fail(client->err, -EINVAL, "txc_stats: out is NULL");
	if (scope != TXC_SCOPE_SOURCE && scope != TXC_SCOPE_ID)
		return txcl_fail(client->err, -EINVAL, "stats scope %u: must be TXC_SCOPE_SOURCE "
				 "(1) or TXC_SCOPE_ID (3)", scope);
	/* Value 0 lists everything visible. */
	if (value)
		err = scope == TXC_SCOPE_ID ? txcl_check_id(client->err, value) :
					      txcl_check_source(client->err, value);
	if (!err)
		err = txcl_call(client, TXC_MSG_STATS, &req, sizeof(req), -1, &rep);
	if (err)
		return err;
	return (int)txcl_copy_list(&rep, out, max, sizeof(*out));
}

int txc_status(struct txc_client *client, struct txc_rep_status *status,
	       struct txc_status_iface *ifaces, size_t max_ifaces,
	       struct txc_status_client *clients, size_t max_clients)
{
	const __u8 *entries;
	struct txcl_reply rep;
	size_t n;
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
	/* The reply was checked: both arrays follow, of exactly these counts. */
	memcpy(status, rep.body, sizeof(*status));
	entries = (const __u8 *)rep.body + sizeof(*status);
	n = status->n_ifaces < max_ifaces ? status->n_ifaces : max_ifaces;
	if (n)
		memcpy(ifaces, entries, n * sizeof(*ifaces));
	entries += (size_t)status->n_ifaces * sizeof(*ifaces);
	n = status->n_clients < max_clients ? status->n_clients : max_clients;
	if (n)
		memcpy(clients, entries, n * sizeof(*clients));
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
	const __u8 *entries;
	struct txcl_reply rep;
	size_t n;
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
	/* The reply was checked: both arrays follow, of exactly these counts. */
	memcpy(metrics, rep.body, sizeof(*metrics));
	entries = (const __u8 *)rep.body + sizeof(*metrics);
	n = metrics->n_ifaces < max_ifaces ? metrics->n_ifaces : max_ifaces;
	if (n)
		memcpy(ifaces, entries, n * sizeof(*ifaces));
	entries += (size_t)metrics->n_ifaces * sizeof(*ifaces);
	n = metrics->n_requests < max_requests ? metrics->n_requests : max_requests;
	if (n)
		memcpy(requests, entries, n * sizeof(*requests));
	return 0;
}

int txc_abort_places(struct txc_client *client, struct txc_places_iface *out, size_t max)
{
	struct txcl_reply rep;
	int err;

	err = txcl_enter(client);
	if (err)
		return err;
	if (!out && max)
		return txcl_fail(client->err, -EINVAL, "txc_abort_places: out is NULL");
	err = txcl_call(client, TXC_MSG_ABORT_PLACES, NULL, 0, -1, &rep);
	if (err)
		return err;
	return (int)txcl_copy_list(&rep, out, max, sizeof(*out));
}
