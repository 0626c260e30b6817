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
/* Permissions between users                                                  */
/* ========================================================================== */

struct lib_as_arg {
	const char *sock;
	__u32 other_prefix;
};

/*
 * In a child as UID_B without CAP_NET_ADMIN, through libtxcancel: its own
 * socket may be tagged, mark/cgroup/flow may not, and A's prefix is not its.
 * Returns 0, or the number of the check that failed.
 */
static int lib_as_user(void *varg)
{
	const struct lib_as_arg *arg = varg;
	struct txc_flow_key k = flow_key(4, 7000, 7001);
	struct txc_client *c = NULL;
	__u32 source = 0;
	__u64 cookie = 0, want = 0;
	socklen_t len = sizeof(want);
	int udp, ret = 0, err;
	__u8 prefix = 0;

	if (txc_client_open(&c, arg->sock))
		return 1;
	if (txc_client_hello(c)->uid != UID_B)
		ret = 2;
	else if (txc_generate_partial_cancel_id(c, &prefix))
		ret = 3;
	else if (txc_source_open(c, &source))
		ret = 4;
	udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (!ret && (udp < 0 || getsockopt(udp, SOL_SOCKET, SO_COOKIE, &want, &len)))
		ret = 5;
	if (!ret && (txc_tag_socket(c, udp, TXC_ID_MAKE(prefix, 1), source, &cookie) ||
		     cookie != want))
		ret = 6;
	if (!ret) {
		err = txc_tag_flow(c, &k, TXC_ID_MAKE(prefix, 2), source);
		if (err != -EPERM || !strstr(txc_client_error(c), "CAP_NET_ADMIN"))
			ret = 7;
	}
	if (!ret) {
		err = txc_cancel_send_net_buffer_lists(c, TXC_ID_MAKE(arg->other_prefix, 1));
		if (err != -EPERM || !strstr(txc_client_error(c), "another user"))
			ret = 8;
	}
	if (ret)
		printf("    uid %u through libtxcancel: check %d failed: %s\n", getuid(), ret,
		       txc_client_error(c));
	if (udp >= 0)
		close(udp);
	txc_client_close(c);
	return ret;
}

/* What every subtest starts from; the setup makes it whichever are selected. */
struct perm_state {
	struct peer a, b, bn;		/* A; B without and with CAP_NET_ADMIN */
	struct txc_flow_key ka, kb;	/* A's flow, tagged by A; a flow of B's */
	__u32 pa, sa, pb, sb;		/* A's and B's prefix and source */
	__u32 ida, idb;			/* an ID under each prefix; A's is tagged and counted */
};

/*
 * B's requests that name what A holds, and B's refusals: which request, of
 * which of A's things, and the errno, word and field the refusal gives.
 */
enum a_thing { A_PREFIX, A_SOURCE, A_ID, A_ID_UNCOUNTED };

struct refusal {
	const char *sub;	/* the subtest that sends it */
	__u8 type;
	__u8 scope;		/* CANCEL, CLEAR, STATS */
	__u32 enable;		/* COUNT_ID */
	enum a_thing of;
	int errnum;
	const char *word;
	__u32 field;
	const char *what;
};

static const struct refusal refusals[] = {
	{ "free_other_prefix", TXC_MSG_PREFIX_FREE, 0, 0, A_PREFIX, -EPERM, "not held by you",
	  HDR + OFF(struct txc_req_prefix, prefix), "B frees A's prefix" },
	{ "free_other_prefix", TXC_MSG_PREFIX_ALLOC, 0, 0, A_PREFIX, -EBUSY, "another user",
	  FIELD_ANY, "B asks for A's prefix" },
	{ "cancel_other", TXC_MSG_CANCEL, TXC_SCOPE_ID, 0, A_ID, -EPERM, "held by another user",
	  HDR + OFF(struct txc_req_cancel, value), "B cancels A's ID" },
	{ "cancel_other", TXC_MSG_CANCEL, TXC_SCOPE_PREFIX, 0, A_PREFIX, -EPERM, "not held by you",
	  FIELD_ANY, "B cancels A's prefix" },
	{ "cancel_other", TXC_MSG_CANCEL, TXC_SCOPE_SOURCE, 0, A_SOURCE, -EPERM,
	  "belongs to another user", FIELD_ANY, "B cancels A's source" },
	{ "clear_other", TXC_MSG_CLEAR, TXC_SCOPE_ID, 0, A_ID, -EPERM, "another user", FIELD_ANY,
	  "B clears A's ID" },
	{ "clear_other", TXC_MSG_CLEAR, TXC_SCOPE_PREFIX, 0, A_PREFIX, -EPERM, "not held by you",
	  FIELD_ANY, "B clears A's prefix" },
	{ "clear_other", TXC_MSG_CLEAR, TXC_SCOPE_SOURCE, 0, A_SOURCE, -EPERM, "another user",
	  FIELD_ANY, "B clears A's source" },
	{ "count_and_stats_other", TXC_MSG_COUNT_ID, 0, 1, A_ID_UNCOUNTED, -EPERM, "another user",
	  FIELD_ANY, "B counts an ID of A's prefix" },
	{ "count_and_stats_other", TXC_MSG_COUNT_ID, 0, 0, A_ID, -EPERM, "another user",
	  FIELD_ANY, "B stops A's counter" },
	{ "count_and_stats_other", TXC_MSG_STATS, TXC_SCOPE_ID, 0, A_ID, -EPERM, "another user",
	  FIELD_ANY, "B reads A's ID counters" },
	{ "count_and_stats_other", TXC_MSG_STATS, TXC_SCOPE_SOURCE, 0, A_SOURCE, -EPERM,
	  "another user", FIELD_ANY, "B reads A's source counters" },
	{ "close_and_subscribe_other_source", TXC_MSG_SOURCE_CLOSE, 0, 0, A_SOURCE, -EPERM,
	  "belongs to another user", HDR + OFF(struct txc_req_source, source),
	  "B closes A's source" },
	{ "close_and_subscribe_other_source", TXC_MSG_SUBSCRIBE, 0, 0, A_SOURCE, -EPERM,
	  "belongs to another user", FIELD_ANY, "B subscribes to A's source" },
	{ "close_and_subscribe_other_source", TXC_MSG_UNSUBSCRIBE, 0, 0, A_SOURCE, -EPERM,
	  "belongs to another user", FIELD_ANY, "B unsubscribes A from its source" },
	{ "close_and_subscribe_other_source", TXC_MSG_SOURCE_OPEN, 0, 0, A_SOURCE, -EBUSY,
	  "another user", FIELD_ANY, "B claims A's source" },
};

static __u32 a_value(const struct perm_state *ps, enum a_thing of)
{
	switch (of) {
	case A_PREFIX:
		return ps->pa;
	case A_SOURCE:
		return ps->sa;
	case A_ID:
		return ps->ida;
	case A_ID_UNCOUNTED:
		return TXC_ID_MAKE(ps->pa, 2);
	}
	return 0;
}

/* @r's request on @p, naming @value. */
static int request(struct peer *p, const struct refusal *r, __u32 value)
{
	struct txc_req_prefix prefix = { .prefix = value };
	struct txc_req_source source = { .source = value };

	switch (r->type) {
	case TXC_MSG_CANCEL:
		return cancel(p, r->scope, value, 0, &rep);
	case TXC_MSG_CLEAR:
		return clear(p, r->scope, value, &rep);
	case TXC_MSG_STATS:
		return stats(p, r->scope, value, &rep);
	case TXC_MSG_COUNT_ID:
		return count_id(p, value, r->enable, &rep);
	case TXC_MSG_PREFIX_FREE:
	case TXC_MSG_PREFIX_ALLOC:
		return call(p, r->type, &prefix, sizeof(prefix), &rep);
	default:		/* the source requests */
		return call(p, r->type, &source, sizeof(source), &rep);
	}
}

/* The refusals of subtest @sub, each sent on B's connection without CAP_NET_ADMIN. */
static void refuse_all(struct perm_state *ps, const char *sub)
{
	for (size_t i = 0; i < ARRAY_SIZE(refusals); i++) {
		const struct refusal *r = &refusals[i];

		if (!strcmp(r->sub, sub))
			ERR(request(&ps->b, r, a_value(ps, r->of)), &rep, r->errnum, r->word,
			    r->field, r->what);
	}
}

static void perm_prefix_list_own_only(struct perm_state *ps)
{
	int n;

	n = call(&ps->b, TXC_MSG_PREFIX_LIST, NULL, 0, &rep);
	if (OK(n, &rep, "B's PREFIX_LIST")) {
		ASSERT_EQ(rep.list.count, 1, "B sees one lease");
		ASSERT_TRUE(list_find(&rep, ps->pb) && !list_find(&rep, ps->pa),
			    "its own, not A's");
	}
	n = stats(&ps->b, TXC_SCOPE_SOURCE, 0, &rep);
	if (OK(n, &rep, "B's STATS of every source")) {
		ASSERT_EQ(rep.list.count, 1, "B sees one source");
		ASSERT_EQ(((struct txc_stats_entry *)(rep.raw + 8))->value, ps->sb, "its own");
	}
}

static void perm_free_other_prefix(struct perm_state *ps)
{
	refuse_all(ps, "free_other_prefix");
	ASSERT_TRUE(prefix_listed(&ps->a, ps->pa), "A still holds it");
}

static void perm_cancel_other(struct perm_state *ps)
{
	refuse_all(ps, "cancel_other");
	ASSERT_TRUE(!cancel_active(TXC_SCOPE_ID, ps->ida, NULL), "no ID cancel stored");
	ASSERT_TRUE(!cancel_active(TXC_SCOPE_PREFIX, ps->pa, NULL), "no prefix cancel stored");
	ASSERT_TRUE(!cancel_active(TXC_SCOPE_SOURCE, ps->sa, NULL), "no source cancel stored");
	explain_is(&root, 4, 6000, 6001, 0, ps->ida, ps->sa, TXC_TAG_FLOW, TXC_VERDICT_PASS, 0,
		   "A's flow still passes");
}

static void perm_clear_other(struct perm_state *ps)
{
	int n;

	n = cancel(&ps->a, TXC_SCOPE_ID, ps->ida, 0, &rep);
	OK(n, &rep, "A cancels its ID");
	refuse_all(ps, "clear_other");
	ASSERT_TRUE(cancel_active(TXC_SCOPE_ID, ps->ida, NULL), "A's cancel still in force");
	n = clear(&ps->a, TXC_SCOPE_ID, ps->ida, &rep);
	OK(n, &rep, "A clears its ID");
}

static void perm_count_and_stats_other(struct perm_state *ps)
{
	refuse_all(ps, "count_and_stats_other");
	ASSERT_TRUE(!id_counted(TXC_ID_MAKE(ps->pa, 2)), "not counted");
	ASSERT_TRUE(id_counted(ps->ida), "A's counter stays");
}

static void perm_tag_under_other_prefix(struct perm_state *ps)
{
	int udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct txc_req_tag t = tag_req(TXC_TAG_SOCKET, TXC_ID_MAKE(ps->pa, 5), ps->sb);
	int n;

	/* B's own socket, but an ID under A's prefix. */
	n = call_fd(&ps->b, TXC_MSG_TAG_ADD, &t, sizeof(t), udp, &rep);
	ERR(n, &rep, -EPERM, "held by another user",
	    HDR + OFF(struct txc_req_tag, cancel_id),
	    "B tags its socket with A's prefix");
	n = tag_flow(&ps->bn, &ps->kb, TXC_ID_MAKE(ps->pa, 5), ps->sb, &rep);
	ERR(n, &rep, -EPERM, "held by another user",
	    HDR + OFF(struct txc_req_tag, cancel_id),
	    "B (net admin) tags a flow with A's prefix");
	ASSERT_TRUE(!rule_get(TXC_TAG_FLOW, &ps->kb, NULL), "no rule stored");
	if (udp >= 0)
		close(udp);
}

static void perm_tag_with_other_source(struct perm_state *ps)
{
	int n;

	n = tag_flow(&ps->bn, &ps->kb, ps->idb, ps->sa, &rep);
	ERR(n, &rep, -EPERM, "belongs to another user",
	    HDR + OFF(struct txc_req_tag, source),
	    "B tags with A's source");
	ASSERT_TRUE(!rule_get(TXC_TAG_FLOW, &ps->kb, NULL), "no rule stored");
}

static void perm_untag_other(struct perm_state *ps)
{
	union txc_tag_key key = { .flow = ps->ka };
	int n;

	n = untag(&ps->bn, TXC_TAG_FLOW, &key, &rep);
	ERR(n, &rep, -EPERM, "another user", FIELD_ANY, "B removes A's rule");
	rule_is(TXC_TAG_FLOW, &ps->ka, ps->ida, ps->sa, "A's rule stays");
	/* The same rule key cannot be taken over either. */
	n = tag_flow(&ps->bn, &ps->ka, ps->idb, ps->sb, &rep);
	ERR(n, &rep, -EEXIST, "another user's", FIELD_ANY, "B adds A's key");
	rule_is(TXC_TAG_FLOW, &ps->ka, ps->ida, ps->sa, "A's rule unchanged");
}

static void perm_close_and_subscribe_other_source(struct perm_state *ps)
{
	int n;

	refuse_all(ps, "close_and_subscribe_other_source");
	n = stats(&ps->a, TXC_SCOPE_SOURCE, ps->sa, &rep);
	if (OK(n, &rep, "A's STATS"))
		ASSERT_EQ(((struct txc_stats_entry *)(rep.raw + 8))->subscribers, 1,
			  "A's source keeps its one subscriber");
}

static void perm_no_net_admin(struct perm_state *ps)
{
	struct txc_req_tag t = tag_req(TXC_TAG_MARK, TXC_ID_MAKE(ps->pb, 3), ps->sb);
	int udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	__u64 want = 0;
	socklen_t len = sizeof(want);
	int n;

	t.key.mark = 0x55;
	n = call(&ps->b, TXC_MSG_TAG_ADD, &t, sizeof(t), &rep);
	ERR(n, &rep, -EPERM, "CAP_NET_ADMIN", HDR + OFF(struct txc_req_tag, kind),
	    "mark without CAP_NET_ADMIN");
	t = tag_req(TXC_TAG_CGROUP, TXC_ID_MAKE(ps->pb, 3), ps->sb);
	t.key.cgroup_id = 99;
	n = call(&ps->b, TXC_MSG_TAG_ADD, &t, sizeof(t), &rep);
	ERR(n, &rep, -EPERM, "CAP_NET_ADMIN", HDR + OFF(struct txc_req_tag, kind),
	    "cgroup without CAP_NET_ADMIN");
	n = tag_flow(&ps->b, &ps->kb, TXC_ID_MAKE(ps->pb, 3), ps->sb, &rep);
	ERR(n, &rep, -EPERM, "CAP_NET_ADMIN", HDR + OFF(struct txc_req_tag, kind),
	    "flow without CAP_NET_ADMIN");
	ASSERT_TRUE(!rule_get(TXC_TAG_FLOW, &ps->kb, NULL), "no flow rule");
	t = tag_req(TXC_TAG_SOCKET, TXC_ID_MAKE(ps->pb, 3), ps->sb);
	getsockopt(udp, SOL_SOCKET, SO_COOKIE, &want, &len);
	n = call_fd(&ps->b, TXC_MSG_TAG_ADD, &t, sizeof(t), udp, &rep);
	if (OK(n, &rep, "B tags its own socket"))
		ASSERT_EQ(rep.tag.key, want, "cookie");
	rule_is(TXC_TAG_SOCKET, &want, TXC_ID_MAKE(ps->pb, 3), ps->sb, "socket rule");
	{
		union txc_tag_key key = { .socket_cookie = want };

		n = untag(&ps->b, TXC_TAG_SOCKET, &key, &rep);
		OK(n, &rep, "B removes its socket rule");
	}
	/* The same user with CAP_NET_ADMIN may tag a flow. */
	n = tag_flow(&ps->bn, &ps->kb, TXC_ID_MAKE(ps->pb, 3), ps->sb, &rep);
	OK(n, &rep, "B with CAP_NET_ADMIN tags a flow");
	{
		union txc_tag_key key = { .flow = ps->kb };

		n = untag(&ps->bn, TXC_TAG_FLOW, &key, &rep);
		OK(n, &rep, "and removes it");
	}
	if (udp >= 0)
		close(udp);
}

static void perm_through_libtxcancel(struct perm_state *ps)
{
	struct lib_as_arg arg = { .sock = dm.sock, .other_prefix = ps->pa };

	ASSERT_EQ(txct_run_as(UID_B, UID_B, false, lib_as_user, &arg), 0,
		  "uid 61002 without CAP_NET_ADMIN through libtxcancel (see the line above)");
}

static void perm_root_administers_all(struct perm_state *ps)
{
	int n;

	n = cancel(&root, TXC_SCOPE_ID, ps->ida, 0, &rep);
	OK(n, &rep, "root cancels A's ID");
	explain_is(&root, 4, 6000, 6001, 0, ps->ida, ps->sa, TXC_TAG_FLOW, TXC_VERDICT_DROP,
		   TXC_SCOPE_ID,
		   "A's flow dropped");
	n = stats(&root, TXC_SCOPE_ID, ps->ida, &rep);
	OK(n, &rep, "root reads A's ID counters");
	n = clear(&root, TXC_SCOPE_ID, ps->ida, &rep);
	if (OK(n, &rep, "root clears A's ID"))
		ASSERT_EQ(rep.clear.valid, 1, "A's ID is counted");
	n = cancel(&root, TXC_SCOPE_SOURCE, ps->sa, 0, &rep);
	OK(n, &rep, "root cancels A's source");
	n = clear(&root, TXC_SCOPE_SOURCE, ps->sa, &rep);
	OK(n, &rep, "root clears A's source");
	n = call(&root, TXC_MSG_PREFIX_LIST, NULL, 0, &rep);
	if (OK(n, &rep, "root's PREFIX_LIST")) {
		const struct txc_prefix_info *e = list_find(&rep, ps->pa);

		ASSERT_TRUE(e && list_find(&rep, ps->pb), "root sees A's and B's leases");
		if (e) {
			ASSERT_EQ(e->uid, UID_A, "A's lease uid");
			ASSERT_EQ(e->conn_id, ps->a.conn_id, "A's lease connection");
			ASSERT_EQ(e->rules, 1, "A's rule count");
		}
	}
}

static void perm_batch_forbidden_op(struct perm_state *ps)
{
	struct txc_batch_op ops[4] = {};
	int n;

	ops[0].type = TXC_MSG_TAG_ADD;
	ops[0].tag = tag_req(TXC_TAG_FLOW, ps->idb, ps->sb);
	ops[0].tag.key.flow = ps->kb;
	ops[1].type = TXC_MSG_CANCEL;
	ops[1].cancel = (struct txc_req_cancel){ .scope = TXC_SCOPE_ID, .value = ps->idb };
	ops[2].type = TXC_MSG_CANCEL;
	ops[2].cancel = (struct txc_req_cancel){ .scope = TXC_SCOPE_ID, .value = ps->ida };
	ops[3].type = TXC_MSG_CLEAR;
	ops[3].clear = (struct txc_req_clear){ .scope = TXC_SCOPE_PREFIX, .value = ps->pb };
	n = batch_call(&ps->bn, ops, ARRAY_SIZE(ops), &rep);
	if (ERR(n, &rep, -EPERM, "another user",
		HDR + sizeof(struct txc_req_batch) + 2 * sizeof(ops[0]) +
		OFF(struct txc_batch_op, raw) + OFF(struct txc_req_cancel, value),
		"batch with A's ID in op 2")) {
		ASSERT_EQ(n, HDR + sizeof(struct txc_rep_batch), "a batch reply");
		ASSERT_EQ(rep.batch.applied, 0, "nothing applied");
		ASSERT_EQ(rep.batch.failed, 2, "op 2 named");
	}
	ASSERT_TRUE(!rule_get(TXC_TAG_FLOW, &ps->kb, NULL),
		    "op 0 (flow rule) not applied");
	ASSERT_TRUE(!cancel_active(TXC_SCOPE_ID, ps->idb, NULL),
		    "op 1 (cancel) not applied");
	ASSERT_TRUE(!cancel_active(TXC_SCOPE_ID, ps->ida, NULL), "op 2 not applied");
	n = call(&ps->bn, TXC_MSG_PREFIX_LIST, NULL, 0, &rep);
	if (OK(n, &rep, "PREFIX_LIST") &&
	    ASSERT_TRUE(list_find(&rep, ps->pb), "B's lease"))
		ASSERT_EQ(list_find(&rep, ps->pb)->rules, 0,
			  "no rule counted under B's prefix");
	explain_is(&root, 4, 6100, 6101, 0, 0, 0, 0, TXC_VERDICT_PASS, 0,
		   "B's flow is untagged");
}

struct perm_step {
	const char *name;
	void (*run)(struct perm_state *ps);
	bool b_idle;		/* B's plain connection is not asked again after it */
};

static const struct perm_step perm_steps[] = {
	{ "prefix_list_own_only", perm_prefix_list_own_only },
	{ "free_other_prefix", perm_free_other_prefix },
	{ "cancel_other", perm_cancel_other },
	{ "clear_other", perm_clear_other },
	{ "count_and_stats_other", perm_count_and_stats_other },
	{ "tag_under_other_prefix", perm_tag_under_other_prefix },
	{ "tag_with_other_source", perm_tag_with_other_source },
	{ "untag_other", perm_untag_other },
	{ "close_and_subscribe_other_source", perm_close_and_subscribe_other_source },
	{ "no_net_admin", perm_no_net_admin },
	{ "through_libtxcancel", perm_through_libtxcancel },
	{ "root_administers_all", perm_root_administers_all },
	{ "batch_forbidden_op", perm_batch_forbidden_op, true },
};

void test_permissions(void)
{
	struct perm_state ps = {
		.a = { .fd = -1 }, .b = { .fd = -1 }, .bn = { .fd = -1 },
		.ka = flow_key(4, 6000, 6001), .kb = flow_key(4, 6100, 6101),
	};
	int n;

	/* The setup every subtest below needs, selected or not. */
	if (!ASSERT_OK(peer_open_as(&ps.a, dm.sock, UID_A, true), "connect as A (CAP_NET_ADMIN)") ||
	    !ASSERT_OK(peer_open_as(&ps.b, dm.sock, UID_B, false), "connect as B") ||
	    !ASSERT_OK(peer_open_as(&ps.bn, dm.sock, UID_B, true), "connect as B (CAP_NET_ADMIN)")) {
		goto out;
	}
	ASSERT_EQ(ps.a.uid, UID_A, "A's uid as the daemon sees it");
	ASSERT_EQ(ps.b.uid, UID_B, "B's uid as the daemon sees it");
	ps.pa = prefix_alloc(&ps.a, 0);
	ps.sa = source_open(&ps.a);
	ps.pb = prefix_alloc(&ps.b, 0);
	ps.sb = source_open(&ps.b);
	ps.ida = TXC_ID_MAKE(ps.pa, 1);
	ps.idb = TXC_ID_MAKE(ps.pb, 1);
	n = tag_flow(&ps.a, &ps.ka, ps.ida, ps.sa, &rep);
	OK(n, &rep, "A tags a flow (it has CAP_NET_ADMIN)");
	n = count_id(&ps.a, ps.ida, 1, &rep);
	OK(n, &rep, "A counts its ID");
	still_serving(&ps.b);
	still_serving(&ps.bn);
	if (!ps.pa || !ps.sa || !ps.pb || !ps.sb)
		goto out;

	/* After each: B's connections and the bystander are still served. */
	for (size_t i = 0; i < ARRAY_SIZE(perm_steps); i++) {
		const struct perm_step *step = &perm_steps[i];

		if (!test_sub_begin("%s", step->name))
			continue;
		step->run(&ps);
		if (!step->b_idle)
			still_serving(&ps.b);
		still_serving(&ps.bn);
		test_sub_end();
	}

out:
	peer_close(&ps.a);
	peer_close(&ps.b);
	peer_close(&ps.bn);
	/* Their leases go with their connections; wait so later tests start clean. */
	for (int i = 0; i < 100 && ps.pa && prefix_listed(&root, ps.pa); i++)
		test_sleep_ms(20);
}
