/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Built as C and as C++ by tests/test_headers.sh: uses the public headers
 * the way a client program does (types, constants, inline helpers, calls)
 * and links against libtxcancel, which proves the extern "C" linkage.
 * It prints the layout a compiler saw so that C and C++ can be compared.
 */
#include <stdio.h>
#include <txcancel/txcancel.h>

static void on_completions(void *ctx, const struct txc_ev_completions *ev,
			   const struct txc_abort_record *recs)
{
	(void)ctx;
	(void)ev;
	(void)recs;
}

int main(void)
{
	union txc_tag_key key;
	struct txc_batch_op op;
	txc_completion_fn fn = on_completions;

	key.mark = 1;
	op.type = TXC_MSG_CANCEL;
	op.cancel.scope = TXC_SCOPE_ID;
	(void)fn;
	/* Connecting to a socket that does not exist fails; the call links. */
	struct txc_client *client = NULL;
	int err = txc_client_open(&client, "/nonexistent/txcanceld.sock");

	printf("key %u op %u mark %u id 0x%08x err %s\n",
	       (unsigned)sizeof(key), (unsigned)sizeof(op), (unsigned)txc_tag_key_size(TXC_TAG_MARK),
	       (unsigned)TXC_ID_MAKE(5, 1), err < 0 && !client ? "yes" : "no");
	printf("record %u hdr %u status %u\n", (unsigned)sizeof(struct txc_abort_record),
	       (unsigned)sizeof(struct txc_msg_hdr), (unsigned)sizeof(struct txc_rep_status));
	return 0;
}
