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

/* ========================================================================== */
/* Leases                                                                     */
/* ========================================================================== */

static bool wait_unlisted(__u32 prefix)
{
	for (int i = 0; i < 150; i++) {
		if (!prefix_listed(&root, prefix))
			return true;
		test_sleep_ms(20);
	}
	return false;
}

/*
 * A prefix leaves PREFIX_LIST when its release starts; the release then
 * removes its rules, cancels and counters over a few loop turns.  It is
 * done when a request under it reads "nobody holds" instead of "being
 * released" (COUNT_ID stop: refused either way, it changes nothing).
 */
static bool wait_released(__u32 prefix)
{
	for (int i = 0; i < 150; i++) {
		int n = count_id(&root, TXC_ID_MAKE(prefix, 1), 0, &rep);

		if (n >= (int)(HDR + sizeof(rep.err)) && rep.h.error &&
		    strstr(rep.err.message, "which nobody holds"))
			return true;
		test_sleep_ms(20);
	}
	return false;
}

/* A user of the rule quota (UID_D, with CAP_NET_ADMIN) holding a prefix and a source. */
struct quota_user {
	struct peer d;
	__u32 p, s;
};

static bool quota_user_open(struct quota_user *u)
{
	memset(u, 0, sizeof(*u));
	u->d.fd = -1;
	if (!ASSERT_OK(peer_open_as(&u->d, dm.sock, UID_D, true), "connect as D"))
		return false;
	u->p = prefix_alloc(&u->d, 0);
	u->s = source_open(&u->d);
	return true;
}

/* Its connection goes, and with it its prefix. */
static void quota_user_close(struct quota_user *u)
{
	peer_close(&u->d);
	if (u->p)
		ASSERT_TRUE(wait_unlisted(u->p), "released on close");
}

/*
 * One BATCH of @count flow TAG_ADDs under @u's prefix and source: IDs from
 * @first_id on, keys from source port @sport on, @step apart (0: one key).
 */
static int flow_tag_batch(struct quota_user *u, __u32 first_id, int count, __u16 sport,
			  __u16 step)
{
	struct txc_batch_op ops[MAX_RULES] = {};

	for (int i = 0; i < count; i++) {
		ops[i].type = TXC_MSG_TAG_ADD;
		ops[i].tag = tag_req(TXC_TAG_FLOW, TXC_ID_MAKE(u->p, first_id + i), u->s);
		ops[i].tag.key.flow = flow_key(4, sport + i * step, 8000);
	}
	return batch_call(&u->d, ops, count, &rep);
}

/*
 * The batch refused whole (@errnum, @word, checked as @what): nothing of it
 * applied.  Another answer to the batch is shown with what it applied.
 */
static bool batch_refused(int n, int errnum, const char *word, const char *what,
			  const char *none_applied)
{
	if (!ERR(n, &rep, errnum, word, FIELD_ANY, what)) {
		if (n >= (int)HDR && rep.h.type == TXC_MSG_BATCH)
			printf("    the batch was answered with error %d, %u ops applied\n",
			       rep.h.error, rep.batch.applied);
		return false;
	}
	ASSERT_EQ(rep.batch.applied, 0, none_applied);
	return true;
}

void test_leases(void)
{
	struct peer e = { .fd = -1 };
	int n;

	if (test_sub_begin("prefix_exhaustion")) {
		if (ASSERT_OK(peer_open_raw(&e), "root connection") && peer_hello(&e)) {
			struct txc_req_prefix b = {};
			__u32 got = 0, last = 0, held_before;

			n = call(&root, TXC_MSG_PREFIX_LIST, NULL, 0, &rep);
			held_before = OK(n, &rep, "PREFIX_LIST") ? rep.list.count : 0;
			for (int i = 0; i < 300; i++) {
				n = call(&e, TXC_MSG_PREFIX_ALLOC, &b, sizeof(b), &rep);
				if (n < 0 || rep.h.error)
					break;
				last = rep.prefix.prefix;
				got++;
			}
			/* Root is not limited by --max-prefixes: it gets every free prefix. */
			ASSERT_EQ(got, 255 - held_before, "prefixes handed out");
			ERR(n, &rep, -ENOSPC, "all 255 prefixes are held", FIELD_ANY,
			    "the one too many");
			n = call(&root, TXC_MSG_PREFIX_LIST, NULL, 0, &rep);
			if (OK(n, &rep, "PREFIX_LIST"))
				ASSERT_EQ(rep.list.count, 255, "every prefix is leased");
			still_serving(&e);
			b.prefix = last;
			n = call(&e, TXC_MSG_PREFIX_FREE, &b, sizeof(b), &rep);
			OK(n, &rep, "free one");
			b.prefix = 0;
			n = call(&e, TXC_MSG_PREFIX_ALLOC, &b, sizeof(b), &rep);
			if (OK(n, &rep, "allocate again"))
				ASSERT_EQ(rep.prefix.prefix, last,
					  "the freed one, the only free one");
			n = call(&e, TXC_MSG_PREFIX_ALLOC, &b, sizeof(b), &rep);
			ERR(n, &rep, -ENOSPC, "all", FIELD_ANY, "full again");
			peer_close(&e);
			/* Its connection gone, every prefix it took is free again. */
			for (int i = 0; i < 150; i++) {
				n = call(&root, TXC_MSG_PREFIX_LIST, NULL, 0, &rep);
				if (n < 0 || rep.list.count == held_before)
					break;
				test_sleep_ms(20);
			}
			ASSERT_EQ(rep.list.count, held_before, "leases after the client closed");
		}
		peer_close(&e);
		test_sub_end();
	}

	if (test_sub_begin("per_user_prefix_quota")) {
		{
			struct peer c1 = { .fd = -1 }, c2 = { .fd = -1 };
			struct txc_req_prefix b = {};
			__u32 p1 = 0, p2 = 0;

			if (ASSERT_OK(peer_open_as(&c1, dm.sock, UID_C, false), "connect as C") &&
			    ASSERT_OK(peer_open_as(&c2, dm.sock, UID_C, false),
				      "connect as C again")) {
				p1 = prefix_alloc(&c1, 0);
				p2 = prefix_alloc(&c2, 0);
				ASSERT_TRUE(p1 && p2, "two prefixes (--max-prefixes 2)");
				n = call(&c1, TXC_MSG_PREFIX_ALLOC, &b, sizeof(b), &rep);
				ERR(n, &rep, -EDQUOT, "per-user limit", FIELD_ANY,
				    "a third on the first connection");
				n = call(&c2, TXC_MSG_PREFIX_ALLOC, &b, sizeof(b), &rep);
				ERR(n, &rep, -EDQUOT, "uid 61003 holds 2 prefixes", FIELD_ANY,
				    "a third on the second connection: the limit is per user");
				still_serving(&c1);
				/* Freeing one makes room; so does closing a connection. */
				b.prefix = p1;
				n = call(&c1, TXC_MSG_PREFIX_FREE, &b, sizeof(b), &rep);
				OK(n, &rep, "free one");
				b.prefix = 0;
				p1 = prefix_alloc(&c1, 0);
				ASSERT_TRUE(p1 != 0, "room for one again");
				peer_close(&c2);
				ASSERT_TRUE(wait_unlisted(p2),
					    "the closed connection's prefix is released");
				n = call(&c1, TXC_MSG_PREFIX_ALLOC, &b, sizeof(b), &rep);
				OK(n, &rep, "the closed connection's quota is back");
			}
			peer_close(&c1);
			peer_close(&c2);
		}
		test_sub_end();
	}

	if (test_sub_begin("per_user_rule_quota")) {
		struct quota_user u;

		if (quota_user_open(&u)) {
			for (int i = 0; i < MAX_RULES; i++) {
				struct txc_flow_key k = flow_key(4, 8000 + i, 8000);

				n = tag_flow(&u.d, &k, TXC_ID_MAKE(u.p, i + 1), u.s, &rep);
				OK(n, &rep, "a rule within the limit");
			}
			{
				struct txc_flow_key k = flow_key(4, 8100, 8000);

				n = tag_flow(&u.d, &k, TXC_ID_MAKE(u.p, 9), u.s, &rep);
				ERR(n, &rep, -EDQUOT, "per-user limit", FIELD_ANY,
				    "one rule too many");
				ASSERT_TRUE(!rule_get(TXC_TAG_FLOW, &k, NULL), "not stored");
			}
			still_serving(&u.d);
		}
		quota_user_close(&u);
		test_sub_end();
	}

	if (test_sub_begin("per_user_rule_quota_batch")) {
		struct quota_user u;

		if (quota_user_open(&u)) {
			struct txc_flow_key k = flow_key(4, 8200, 8000);

			n = tag_flow(&u.d, &k, TXC_ID_MAKE(u.p, 1), u.s, &rep);
			OK(n, &rep, "one rule");
			/* Two rules of room, a batch of three: the limit holds for the batch too. */
			n = flow_tag_batch(&u, 2, 3, 8300, 1);
			batch_refused(n, -EDQUOT, "limit", "batch past the rule limit",
				      "checked before anything is applied");
			n = call(&u.d, TXC_MSG_PREFIX_LIST, NULL, 0, &rep);
			if (OK(n, &rep, "PREFIX_LIST") && list_find(&rep, u.p))
				ASSERT_TRUE(list_find(&rep, u.p)->rules <= MAX_RULES,
					    "rules held stay within --max-rules");
		}
		quota_user_close(&u);
		test_sub_end();
	}

	if (test_sub_begin("batch_duplicate_key")) {
		struct txc_flow_key k = flow_key(4, 8400, 8000);
		struct quota_user u;

		/*
		 * Two TAG_ADDs of one key in one batch: each is valid alone, the
		 * second is not after the first.  Checking every op before any is
		 * applied means refusing the second; and whatever happens, the
		 * rules counted under the prefix must be the rules in the table.
		 */
		if (quota_user_open(&u)) {
			struct txc_tag t;

			n = flow_tag_batch(&u, 1, 2, 8400, 0);
			if (batch_refused(n, -EEXIST, "exists", "the same key twice",
					  "nothing applied"))
				ASSERT_EQ(rep.batch.failed, 1, "op 1 named");
			n = call(&u.d, TXC_MSG_PREFIX_LIST, NULL, 0, &rep);
			if (OK(n, &rep, "PREFIX_LIST") &&
			    ASSERT_TRUE(list_find(&rep, u.p), "listed"))
				ASSERT_EQ(list_find(&rep, u.p)->rules,
					  rule_get(TXC_TAG_FLOW, &k, &t),
					  "rules counted under the prefix = rules in the table");
		}
		quota_user_close(&u);
		test_sub_end();
	}

	if (test_sub_begin("close_releases_everything")) {
		if (ASSERT_OK(peer_open_raw(&e), "root connection") && peer_hello(&e)) {
			struct txc_flow_key k = flow_key(4, 9000, 9001);
			__u32 p = prefix_alloc(&e, 0), s = source_open(&e), conn = e.conn_id;
			__u32 id = TXC_ID_MAKE(p, 1), id2 = TXC_ID_MAKE(p, 2);
			struct txc_req_tag t = tag_req(TXC_TAG_MARK, id, s);
			int udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
			__u64 cookie = 0;

			n = tag_flow(&e, &k, id, s, &rep);
			OK(n, &rep, "flow rule");
			t.key.mark = 0x66;
			n = call(&e, TXC_MSG_TAG_ADD, &t, sizeof(t), &rep);
			OK(n, &rep, "mark rule");
			t = tag_req(TXC_TAG_SOCKET, id, s);
			n = call_fd(&e, TXC_MSG_TAG_ADD, &t, sizeof(t), udp, &rep);
			if (OK(n, &rep, "socket rule"))
				cookie = rep.tag.key;
			n = cancel(&e, TXC_SCOPE_ID, id2, 0, &rep);
			OK(n, &rep, "ID cancel");
			n = cancel(&e, TXC_SCOPE_PREFIX, p, 0, &rep);
			OK(n, &rep, "prefix cancel");
			n = cancel(&e, TXC_SCOPE_SOURCE, s, 0, &rep);
			OK(n, &rep, "source cancel");
			n = count_id(&e, id, 1, &rep);
			OK(n, &rep, "ID counter");
			explain_is(&root, 4, 9000, 9001, 0, id, s, TXC_TAG_FLOW, TXC_VERDICT_DROP,
				   TXC_SCOPE_SOURCE, "dropped while the client is there");

			peer_close(&e);
			ASSERT_TRUE(wait_unlisted(p),
				    "prefix released (PREFIX_LIST of another client)");
			ASSERT_TRUE(wait_released(p), "its release finished");
			ASSERT_TRUE(!rule_get(TXC_TAG_FLOW, &k, NULL), "flow rule removed");
			ASSERT_TRUE(!rule_get(TXC_TAG_MARK, &(__u32){ 0x66 }, NULL),
				    "mark rule removed");
			ASSERT_TRUE(!rule_get(TXC_TAG_SOCKET, &cookie, NULL),
				    "socket rule removed");
			ASSERT_TRUE(!cancel_active(TXC_SCOPE_ID, id2, NULL), "ID cancel removed");
			ASSERT_TRUE(!cancel_active(TXC_SCOPE_PREFIX, p, NULL),
				    "prefix cancel removed");
			ASSERT_TRUE(!cancel_active(TXC_SCOPE_SOURCE, s, NULL),
				    "source cancel removed");
			ASSERT_TRUE(!id_counted(id), "ID counter removed");
			explain_is(&root, 4, 9000, 9001, 0, 0, 0, 0, TXC_VERDICT_PASS, 0,
				   "the flow is untagged and passes");
			explain_is(&root, 4, 1, 2, 0x66, 0, 0, 0, TXC_VERDICT_PASS, 0,
				   "the mark is no longer an ID");
			n = stats(&root, TXC_SCOPE_SOURCE, s, &rep);
			ERR(n, &rep, -ENOENT, "not open", FIELD_ANY, "its source is closed");
			n = call(&root, TXC_MSG_STATUS, NULL, 0, &rep);
			if (OK(n, &rep, "STATUS")) {
				struct txc_status_client *cl = (void *)(rep.raw + sizeof(rep.status));
				bool gone = true;

				for (__u32 i = 0; i < rep.status.n_clients; i++)
					gone &= cl[i].conn_id != conn;
				ASSERT_TRUE(gone, "the client is no longer listed");
			}
			if (udp >= 0)
				close(udp);
		}
		peer_close(&e);
		test_sub_end();
	}
}
