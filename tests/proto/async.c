// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <bpf/bpf.h>

#include "txcancel/txcancel.h"
#include "daemon_fixture.h"
#include "proto_peer.h"
#include "proto_test.h"
#include "testlib.h"

/*
 * Asynchronous cancels and clears: many in flight, replies collected oldest
 * first with each request's own outcome, the bound, and the calls that must
 * wait until the replies are in.
 */
static void ignore_completion(void *ctx, const struct txc_ev_completions *ev,
			      const struct txc_abort_record *recs)
{
	(void)ctx, (void)ev, (void)recs;
}

void test_async(void)
{
	__u32 seqs[TXC_ASYNC_MAX], seq = 0, refused_id;
	struct txc_client *c = NULL;
	__u8 prefix;
	bool ok = true;
	int i, err;

	if (!ASSERT_OK(txc_client_open(&c, dm.sock), "client") ||
	    !ASSERT_OK(txc_generate_partial_cancel_id(c, &prefix), "its prefix"))
		goto out;
	refused_id = TXC_ID_MAKE(prefix, 2);

	if (test_sub_begin("in_flight")) {
		ASSERT_EQ(txc_async_reply(c, &seq), -ENOENT, "no reply to wait for");
		for (i = 0; i < TXC_ASYNC_MAX && ok; i++)
			ok = ASSERT_OK(txc_cancel_async(c, TXC_SCOPE_ID,
							TXC_ID_MAKE(prefix, 0x100 + i),
							NULL, 0, &seqs[i]), "cancel in flight");
		ASSERT_EQ(txc_async_pending(c), TXC_ASYNC_MAX, "all in flight");
		ASSERT_EQ(txc_cancel_async(c, TXC_SCOPE_ID, TXC_ID_MAKE(prefix, 1), NULL, 0, NULL),
			  -EBUSY, "one more is refused");
		ASSERT_TRUE(strstr(txc_client_error(c), "txc_async_reply") != NULL,
			    "the refusal says how to make room");
		ASSERT_EQ(txc_cancel_send_net_buffer_lists(c, TXC_ID_MAKE(prefix, 1)), -EBUSY,
			  "a synchronous call waits for the replies");
		ASSERT_EQ(txc_read_completions(c, ignore_completion, NULL, 0), -EBUSY,
			  "so does reading completions");
		for (i = 0, ok = true; i < TXC_ASYNC_MAX && ok; i++) {
			err = txc_async_reply(c, &seq);
			ok = ASSERT_OK(err, "reply") && ASSERT_EQ(seq, seqs[i], "oldest first");
		}
		ASSERT_EQ(txc_async_pending(c), 0, "none left");
		for (i = 0, ok = true; i < TXC_ASYNC_MAX; i++)
			ok &= cancel_active(TXC_SCOPE_ID, TXC_ID_MAKE(prefix, 0x100 + i), NULL);
		ASSERT_TRUE(ok, "every cancel in force");
		test_sub_end();
	}

	if (test_sub_begin("outcomes_in_order")) {
		/* Clear, a cancel the daemon refuses, clear: each reply is its own request's. */
		ASSERT_OK(txc_clear_async(c, TXC_SCOPE_ID, TXC_ID_MAKE(prefix, 0x100), &seqs[0]),
			  "clear");
		ASSERT_OK(txc_cancel_async(c, TXC_SCOPE_ID, refused_id, "txc-nosuch0", 0, &seqs[1]),
			  "cancel on an interface the daemon does not manage, sent");
		ASSERT_OK(txc_clear_async(c, TXC_SCOPE_ID, TXC_ID_MAKE(prefix, 0x101), &seqs[2]),
			  "clear");
		ASSERT_OK(txc_async_reply(c, &seq), "first: applied");
		ASSERT_EQ(seq, seqs[0], "first seq");
		ASSERT_EQ(txc_async_reply(c, &seq), -ENODEV, "second: refused");
		ASSERT_EQ(seq, seqs[1], "second seq");
		ASSERT_TRUE(strstr(txc_client_error(c), "txc-nosuch0") != NULL,
			    "with the daemon's sentence");
		ASSERT_OK(txc_async_reply(c, &seq), "third: applied after a refused one");
		ASSERT_EQ(seq, seqs[2], "third seq");
		ASSERT_TRUE(!cancel_active(TXC_SCOPE_ID, TXC_ID_MAKE(prefix, 0x100), NULL) &&
			    !cancel_active(TXC_SCOPE_ID, TXC_ID_MAKE(prefix, 0x101), NULL),
			    "the two clears applied");
		ASSERT_TRUE(!cancel_active(TXC_SCOPE_ID, refused_id, NULL),
			    "the refused cancel did not");
		ASSERT_EQ(txc_async_pending(c), 0, "none left");
		test_sub_end();
	}

	if (test_sub_begin("sync_after")) {
		ASSERT_OK(txc_cancel_send_net_buffer_lists(c, TXC_ID_MAKE(prefix, 1)),
			  "a synchronous call once the replies are in");
		for (i = 0, ok = true; i < TXC_ASYNC_MAX; i++)
			ok &= !txc_clear(c, TXC_SCOPE_ID, TXC_ID_MAKE(prefix, 0x100 + i), NULL);
		ok &= !txc_clear(c, TXC_SCOPE_ID, TXC_ID_MAKE(prefix, 1), NULL);
		ASSERT_TRUE(ok, "cleared again");
		test_sub_end();
	}
out:
	txc_client_close(c);
}
