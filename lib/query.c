/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Questions to the daemon: counters, its status, what it decides for a frame. */
#include <errno.h>
#include <string.h>

#include "internal.h"
#include "proto_table.h"
#include "values.h"

int txc_stats(struct txc_client *client, __u8 scope, __u32 value,
	      struct txc_stats_entry *out, size_t max)
{
	struct txc_req_stats req = { .scope = scope, .value = value };
	char why[TXCC_PROBLEM_MAX];
	int err;

	err = txcl_enter(client);
	if (err)
		return err;
	if (txcc_stats_scope_problem(scope, why))
		return txcl_fail(client->err, -EINVAL, "%s (TXC_SCOPE_*)", why);
	/* Value 0 lists everything visible. */
	if (value)
		err = scope == TXC_SCOPE_ID ? txcl_check_id(client->err, value) :
					      txcl_check_source(client->err, value);
	if (err)
		return err;
	return txcl_list_call(client, __func__, TXC_MSG_STATS, &req, sizeof(req), out, max,
			      sizeof(*out));
}

/* Where one array of a reply goes: @max entries fit in @out. */
struct array_out {
	const char *name;	/* the caller's argument, for a NULL @out */
	void *out;
	size_t max;
};

/*
 * A request whose reply is a head and the arrays its counts announce
 * (STATUS, METRICS; common/proto_table.c says where the counts are and how
 * large the entries).  The reply was checked: the arrays follow, of
 * exactly their counts; the head is copied to @head (its max unused), of
 * each array what fits.  @fn names the caller in errors.
 */
static int head_and_arrays(struct txc_client *c, const char *fn, __u8 type,
			   const struct array_out *head, const struct array_out out[2])
{
	const struct txcc_msg_type *t = txcc_msg_type(type);
	struct txcl_reply rep;
	const __u8 *entries;
	int err;

	if (!head->out)
		return txcl_fail(c->err, -EINVAL, "%s: %s is NULL", fn, head->name);
	for (int i = 0; i < 2; i++)
		if (!out[i].out && out[i].max)
			return txcl_fail(c->err, -EINVAL, "%s: %s is NULL", fn, out[i].name);
	err = txcl_call(c, type, NULL, 0, -1, &rep);
	if (err)
		return err;
	memcpy(head->out, rep.body, t->rep_size);
	entries = (const __u8 *)rep.body + t->rep_size;
	for (int i = 0; i < 2; i++) {
		const struct txcc_reply_array *a = &t->rep_arrays[i];
		__u32 count;

		memcpy(&count, (const __u8 *)rep.body + a->count_at, sizeof(count));
		if (out[i].max)
			memcpy(out[i].out, entries, (count < out[i].max ? count : out[i].max) *
			       a->entry);
		entries += (size_t)count * a->entry;
	}
	return 0;
}

int txc_status(struct txc_client *client, struct txc_rep_status *status,
	       struct txc_status_iface *ifaces, size_t max_ifaces,
	       struct txc_status_client *clients, size_t max_clients)
{
	int err = txcl_enter(client);

	return err ? err : head_and_arrays(client, __func__, TXC_MSG_STATUS,
					   &(const struct array_out){ "status", status, 1 },
					   (const struct array_out[2]){
						   { "ifaces", ifaces, max_ifaces },
						   { "clients", clients, max_clients } });
}

int txc_explain(struct txc_client *client, const char *ifname, __u32 mark, const void *frame,
		size_t frame_len, struct txc_rep_explain *out)
{
	struct txc_req_explain req;
	int err = txcl_enter(client);

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
	return txcl_call_head(client, TXC_MSG_EXPLAIN, &req, sizeof(req), -1, out, sizeof(*out));
}

int txc_metrics(struct txc_client *client, struct txc_rep_metrics *metrics,
		struct txc_metrics_iface *ifaces, size_t max_ifaces,
		struct txc_metrics_request *requests, size_t max_requests)
{
	int err = txcl_enter(client);

	return err ? err : head_and_arrays(client, __func__, TXC_MSG_METRICS,
					   &(const struct array_out){ "metrics", metrics, 1 },
					   (const struct array_out[2]){
						   { "ifaces", ifaces, max_ifaces },
						   { "requests", requests, max_requests } });
}

int txc_abort_places(struct txc_client *client, struct txc_places_iface *out, size_t max)
{
	int err = txcl_enter(client);

	return err ? err : txcl_list_call(client, __func__, TXC_MSG_ABORT_PLACES, NULL, 0, out,
					  max, sizeof(*out));
}
