/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Prefixes (NdisGeneratePartialCancelId) and source handles: leases on the connection. */
#include <errno.h>
#include <string.h>

#include "internal.h"
#include "values.h"

/* PREFIX_ALLOC: @want 0 for any free prefix, else that one. */
static int prefix_alloc(struct txc_client *c, __u32 want, __u32 *prefix)
{
	struct txc_req_prefix req = { .prefix = want };
	struct txc_rep_prefix got;
	int err = txcl_call_head(c, TXC_MSG_PREFIX_ALLOC, &req, sizeof(req), -1, &got,
				 sizeof(got));

	if (err)
		return err;
	if (!TXC_PREFIX_VALID(got.prefix) ||
	    (want && got.prefix != want))
		return txcl_fail(c->err, -EPROTO, "txcanceld granted prefix %u when asked for %u",
				 got.prefix, want);
	*prefix = got.prefix;
	return 0;
}

int txc_generate_partial_cancel_id(struct txc_client *client, __u8 *prefix)
{
	__u32 got;
	int err = txcl_enter_arg(client, __func__, "prefix", prefix);

	if (!err)
		err = prefix_alloc(client, 0, &got);
	if (!err)
		*prefix = got;
	return err;
}

int txc_prefix_claim(struct txc_client *client, __u8 prefix)
{
	__u32 got;
	int err;

	err = txcl_enter(client);
	if (!err)
		err = txcl_check_prefix(client->err, prefix);
	return err ? err : prefix_alloc(client, prefix, &got);
}

int txc_prefix_free(struct txc_client *client, __u8 prefix)
{
	struct txc_req_prefix req = { .prefix = prefix };
	int err = txcl_enter(client);

	if (!err)
		err = txcl_check_prefix(client->err, prefix);
	return err ?: txcl_call_head(client, TXC_MSG_PREFIX_FREE, &req, sizeof(req), -1, NULL, 0);
}

int txc_prefix_list(struct txc_client *client, struct txc_prefix_info *out, size_t max)
{
	int err = txcl_enter(client);

	return err ? err : txcl_list_call(client, __func__, TXC_MSG_PREFIX_LIST, NULL, 0,
					  out, max, sizeof(*out));
}

/* SOURCE_OPEN: @want 0 for a new source, else an orphan to reclaim. */
static int source_open(struct txc_client *c, __u32 want, __u32 *source)
{
	struct txc_req_source req = { .source = want };
	struct txc_rep_source got;
	int err = txcl_call_head(c, TXC_MSG_SOURCE_OPEN, &req, sizeof(req), -1, &got,
				 sizeof(got));

	if (err)
		return err;
	if (txcl_check_source(c->err, got.source) || (want && got.source != want))
		return txcl_fail(c->err, -EPROTO, "txcanceld opened source %u when asked for %u",
				 got.source, want);
	*source = got.source;
	return 0;
}

int txc_source_open(struct txc_client *client, __u32 *source)
{
	int err = txcl_enter_arg(client, __func__, "source", source);

	return err ?: source_open(client, 0, source);
}

int txc_source_claim(struct txc_client *client, __u32 source)
{
	__u32 got;
	int err;

	err = txcl_enter(client);
	if (!err)
		err = txcl_check_source(client->err, source);
	return err ? err : source_open(client, source, &got);
}

/* SOURCE_CLOSE, SUBSCRIBE, UNSUBSCRIBE: a source in, nothing out. */
static int source_request(struct txc_client *c, __u8 type, __u32 source)
{
	struct txc_req_source req = { .source = source };
	int err = txcl_enter(c);

	if (!err)
		err = txcl_check_source(c->err, source);
	return err ?: txcl_call_head(c, type, &req, sizeof(req), -1, NULL, 0);
}

int txc_source_close(struct txc_client *client, __u32 source)
{
	return source_request(client, TXC_MSG_SOURCE_CLOSE, source);
}

int txc_subscribe(struct txc_client *client, __u32 source)
{
	return source_request(client, TXC_MSG_SUBSCRIBE, source);
}

int txc_unsubscribe(struct txc_client *client, __u32 source)
{
	return source_request(client, TXC_MSG_UNSUBSCRIBE, source);
}

int txc_capture(struct txc_client *client, __u32 source, __u32 snaplen)
{
	struct txc_req_capture req = { .source = source, .snaplen = snaplen };
	char why[TXCC_PROBLEM_MAX];
	int err = txcl_enter(client);

	if (!err)
		err = txcl_check_source(client->err, source);
	if (!err && txcc_capture_len_problem(snaplen, why))
		err = txcl_fail(client->err, -EINVAL, "%s", why);
	return err ?: txcl_call_head(client, TXC_MSG_CAPTURE, &req, sizeof(req), -1, NULL, 0);
}
