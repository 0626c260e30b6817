// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The message-type table: see proto_table.h. */
#include <stddef.h>
#include "proto_table.h"

#define FIXED(req_body, rep_body)	.req_size = (req_body), .rep_size = (rep_body)
#define ARRAY(head, count, entry_type) \
	{ __builtin_offsetof(struct head, count), sizeof(struct entry_type) }
/* struct txc_rep_list and its entries. */
#define LIST(req_body, entry_type) \
	.req_size = (req_body), .rep_size = sizeof(struct txc_rep_list), \
	.rep_arrays = { ARRAY(txc_rep_list, count, entry_type) }

static const struct txcc_msg_type types[] = {
	[TXC_MSG_HELLO] = { "HELLO",
		FIXED(sizeof(struct txc_req_hello), sizeof(struct txc_rep_hello)) },
	[TXC_MSG_PREFIX_ALLOC] = { "PREFIX_ALLOC",
		FIXED(sizeof(struct txc_req_prefix), sizeof(struct txc_rep_prefix)) },
	[TXC_MSG_PREFIX_FREE] = { "PREFIX_FREE", FIXED(sizeof(struct txc_req_prefix), 0) },
	[TXC_MSG_PREFIX_LIST] = { "PREFIX_LIST", LIST(0, txc_prefix_info) },
	[TXC_MSG_SOURCE_OPEN] = { "SOURCE_OPEN",
		FIXED(sizeof(struct txc_req_source), sizeof(struct txc_rep_source)) },
	[TXC_MSG_SOURCE_CLOSE] = { "SOURCE_CLOSE", FIXED(sizeof(struct txc_req_source), 0) },
	[TXC_MSG_TAG_ADD] = { "TAG_ADD",
		FIXED(sizeof(struct txc_req_tag), sizeof(struct txc_rep_tag)) },
	[TXC_MSG_TAG_DEL] = { "TAG_DEL", FIXED(sizeof(struct txc_req_tag), 0) },
	[TXC_MSG_CANCEL] = { "CANCEL",
		FIXED(sizeof(struct txc_req_cancel), sizeof(struct txc_rep_cancel)) },
	[TXC_MSG_CLEAR] = { "CLEAR",
		FIXED(sizeof(struct txc_req_clear), sizeof(struct txc_rep_clear)) },
	[TXC_MSG_STATS] = { "STATS",
		LIST(sizeof(struct txc_req_stats), txc_stats_entry) },
	[TXC_MSG_COUNT_ID] = { "COUNT_ID", FIXED(sizeof(struct txc_req_count_id), 0) },
	[TXC_MSG_SUBSCRIBE] = { "SUBSCRIBE", FIXED(sizeof(struct txc_req_source), 0) },
	[TXC_MSG_UNSUBSCRIBE] = { "UNSUBSCRIBE", FIXED(sizeof(struct txc_req_source), 0) },
	[TXC_MSG_BATCH] = { "BATCH",
		FIXED(sizeof(struct txc_req_batch), sizeof(struct txc_rep_batch)),
		.req_elem = sizeof(struct txc_batch_op) },
	[TXC_MSG_STATUS] = { "STATUS", .rep_size = sizeof(struct txc_rep_status),
		.rep_arrays = { ARRAY(txc_rep_status, n_ifaces, txc_status_iface),
				ARRAY(txc_rep_status, n_clients, txc_status_client) } },
	[TXC_MSG_EXPLAIN] = { "EXPLAIN",
		FIXED(sizeof(struct txc_req_explain), sizeof(struct txc_rep_explain)) },
	[TXC_MSG_METRICS] = { "METRICS", .rep_size = sizeof(struct txc_rep_metrics),
		.rep_arrays = { ARRAY(txc_rep_metrics, n_ifaces, txc_metrics_iface),
				ARRAY(txc_rep_metrics, n_requests, txc_metrics_request) } },
	[TXC_MSG_CAPTURE] = { "CAPTURE", FIXED(sizeof(struct txc_req_capture), 0) },
	[TXC_MSG_ABORT_PLACES] = { "ABORT_PLACES", LIST(0, txc_places_iface) },
};

/*
 * The array is as long as its highest row: a TXC_MSG_REQUEST_MAX raised in
 * proto.h without a row for the new type here fails the build.
 */
_Static_assert(sizeof(types) / sizeof(types[0]) == TXC_MSG_REQUEST_MAX + 1,
	       "a row for every request type up to TXC_MSG_REQUEST_MAX");

const struct txcc_msg_type *txcc_msg_type(__u8 type)
{
	if (type < 1 || type > TXC_MSG_REQUEST_MAX || !types[type].name)
		return NULL;
	return &types[type];
}

const char *txcc_msg_name(__u8 type)
{
	const struct txcc_msg_type *t = txcc_msg_type(type);

	if (t)
		return t->name;
	if (type == TXC_MSG_COMPLETIONS)
		return "COMPLETIONS";
	return type == TXC_MSG_COMPLETIONS_CAPTURE ? "COMPLETIONS_CAPTURE" : NULL;
}
