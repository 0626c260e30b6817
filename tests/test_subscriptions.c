// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Subscriptions to a source's completions through libtxcancel, against a
 * real txcanceld on a veth pair in namespaces of the test's own:
 *
 *   unsubscribe  the owner of a source unsubscribes: no completion reaches
 *                it while the source's frames go on being aborted, yet every
 *                abort stays accounted (STATS: aborted grows, delivered
 *                does not, nothing lost); subscribed again, it receives the
 *                records that waited in the ring, in sequence.  A second
 *                unsubscribe is refused (-ENOENT), a second subscribe too
 *                (-EALREADY).
 *   capture_restart  a capture length a subscriber asked for is in the pinned
 *                map; the daemon is killed, so nothing takes it back, and
 *                the next instance starts with every source's length at 0:
 *                no subscription outlives its daemon, nor its capture.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "txcancel/txcancel.h"
#include "daemon_fixture.h"
#include "netns.h"
#include "testlib.h"

#define IF_A		"sA0"	/* the managed interface, in the sender namespace */
#define IF_B		"sB0"
#define ADDR_A		"198.18.62.1"
#define ADDR_B		"198.18.62.2"
#define SPORT		7801
#define DPORT		6801
#define N_SUBSCRIBED	20	/* frames aborted while subscribed */
#define N_UNSUBSCRIBED	30	/* frames aborted while not */
#define QUIET_MS	300	/* how long "nothing arrives" is watched */
#define WAIT_MS		5000	/* longest completions may take to arrive */

/* What the completion callback saw. */
struct seen {
	int records;
	int out_of_order;	/* records whose seq was not the next one */
	__u64 next_seq;
	__u32 source, id;
	int foreign;		/* records of another source or ID */
};

static void on_batch(void *ctx, const struct txc_ev_completions *ev,
		     const struct txc_abort_record *recs)
{
	struct seen *s = ctx;

	for (__u32 i = 0; i < ev->count; i++) {
		if (recs[i].source != s->source || recs[i].cancel_id != s->id)
			s->foreign++;
		if (recs[i].seq != s->next_seq)
			s->out_of_order++;
		s->next_seq = recs[i].seq + 1;
		s->records++;
	}
}

/* Read completions until @want records in all were seen, or WAIT_MS passed. */
static int collect(struct txc_client *c, struct seen *s, int want)
{
	unsigned long long end = test_now_ms() + WAIT_MS;

	while (s->records < want && test_now_ms() < end) {
		int n = txc_read_completions(c, on_batch, s, 100);

		if (n < 0)
			return n;
	}
	return s->records;
}

static bool source_stats(struct txc_client *c, __u32 source, struct txc_stats_entry *e)
{
	return ASSERT_EQ(txc_stats(c, TXC_SCOPE_SOURCE, source, e, 1), 1, "STATS of the source");
}

static void unsubscribe_run(struct txc_client *c, int tx)
{
	struct seen seen = { .next_seq = 1 };
	struct txc_stats_entry e;
	__u32 source;
	__u8 prefix;

	if (!ASSERT_OK(txc_generate_partial_cancel_id(c, &prefix), "a prefix") ||
	    !ASSERT_OK(txc_source_open(c, &source), "a source (subscribed)"))
		return;
	seen.source = source;
	seen.id = TXC_ID_MAKE(prefix, 7);
	if (!ASSERT_OK(txc_tag_socket(c, tx, seen.id, source, NULL), "tagging the sender") ||
	    !ASSERT_OK(txc_cancel_send_net_buffer_lists(c, seen.id), "canceling its ID"))
		return;

	ASSERT_EQ(udp_send(tx, ADDR_B, DPORT, N_SUBSCRIBED, 1), N_SUBSCRIBED, "frames sent");
	ASSERT_EQ(collect(c, &seen, N_SUBSCRIBED), N_SUBSCRIBED, "completions while subscribed");

	if (!ASSERT_OK(txc_unsubscribe(c, source), "unsubscribing"))
		return;
	ASSERT_EQ(txc_unsubscribe(c, source), -ENOENT, "unsubscribing twice");
	ASSERT_TRUE(strstr(txc_client_error(c), "not subscribed") != NULL,
		    "the refusal says it is not subscribed");

	ASSERT_EQ(udp_send(tx, ADDR_B, DPORT, N_UNSUBSCRIBED, 2), N_UNSUBSCRIBED, "frames sent");
	ASSERT_EQ(txc_read_completions(c, on_batch, &seen, QUIET_MS), 0,
		  "no completion while unsubscribed");
	if (source_stats(c, source, &e)) {
		ASSERT_EQ(e.counts.aborted_frames, N_SUBSCRIBED + N_UNSUBSCRIBED,
			  "every abort counted");
		ASSERT_EQ(e.delivered, N_SUBSCRIBED, "delivered: only those while subscribed");
		ASSERT_EQ(e.ring_lost + e.backlog_lost, 0, "nothing lost: the rest waits");
		ASSERT_EQ(e.subscribers, 0, "no subscriber");
	}

	if (!ASSERT_OK(txc_subscribe(c, source), "subscribing again"))
		return;
	ASSERT_EQ(txc_subscribe(c, source), -EALREADY, "subscribing twice");
	ASSERT_EQ(collect(c, &seen, N_SUBSCRIBED + N_UNSUBSCRIBED),
		  N_SUBSCRIBED + N_UNSUBSCRIBED, "the waiting records arrive");
	ASSERT_EQ(seen.out_of_order, 0, "records in sequence, none missing or repeated");
	ASSERT_EQ(seen.foreign, 0, "records of the source and ID only");
	if (source_stats(c, source, &e)) {
		ASSERT_EQ(e.delivered, N_SUBSCRIBED + N_UNSUBSCRIBED, "delivered: all");
		ASSERT_EQ(e.ring_lost + e.backlog_lost, 0, "nothing lost");
		ASSERT_EQ(e.subscribers, 1, "one subscriber");
	}
}

static void test_unsubscribe(void)
{
	const char *const args[] = { "-i", IF_A, NULL };
	char a[FX_NAME_MAX] = "", b[FX_NAME_MAX] = "";
	struct txct_daemon d = { 0 };
	struct txc_client *c = NULL;
	int tx = -1;

	if (!ASSERT_OK(ns_create(a, "sub-tx"), "sender namespace") ||
	    !ASSERT_OK(ns_create(b, "sub-rx"), "sink namespace") ||
	    !ASSERT_OK(veth_link(a, IF_A, ADDR_A, b, IF_B, ADDR_B, 24, NULL), "veth pair") ||
	    !ASSERT_OK(txct_daemon_start(&d, a, args), "starting txcanceld"))
		goto out;
	tx = udp_open(a, ADDR_A, SPORT);
	if (!ASSERT_GE0(tx, "sender socket"))
		goto out;
	if (!ASSERT_OK(txc_client_open(&c, d.sock), "connecting")) {
		printf("    %s\n", txc_last_error());
		goto out;
	}
	unsubscribe_run(c, tx);
out:
	txc_client_close(c);
	if (tx >= 0)
		close(tx);
	if (d.pid > 0 && !ASSERT_EQ(txct_daemon_stop(&d), 0, "txcanceld exit status"))
		txct_daemon_dump_log(&d);
	txct_daemon_cleanup(&d);
	if (a[0])
		ns_delete(a);
	if (b[0])
		ns_delete(b);
}

/* The capture length the datapath has pinned for @source, or -errno. */
static long long pinned_caplen(const struct txct_daemon *d, __u32 source)
{
	char path[192];
	__u32 len;
	int fd, err = 0;

	snprintf(path, sizeof(path), "%s/maps/txc_source_caplen", d->pin_dir);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	if (bpf_map_lookup_elem(fd, &source, &len))
		err = -errno;
	close(fd);
	return err ? err : (long long)len;
}

static void test_capture_restart(void)
{
	struct txct_daemon d = { 0 };
	struct txc_client *c = NULL;
	__u32 source;

	if (!ASSERT_OK(txct_daemon_start(&d, NULL, NULL), "starting txcanceld"))
		return;
	if (!ASSERT_OK(txc_client_open(&c, d.sock), "connecting") ||
	    !ASSERT_OK(txc_source_open(c, &source), "opening a source") ||
	    !ASSERT_OK(txc_capture(c, source, 64), "asking for 64 bytes of each frame")) {
		printf("    %s\n", txc_last_error());
		goto out;
	}
	ASSERT_EQ(pinned_caplen(&d, source), 64, "the datapath captures 64 bytes");
	txct_daemon_kill(&d);
	ASSERT_EQ(pinned_caplen(&d, source), 64, "still pinned after the kill");
	txc_client_close(c);
	c = NULL;
	if (!ASSERT_OK(txct_daemon_restart(&d), "starting the next instance"))
		goto out;
	ASSERT_EQ(pinned_caplen(&d, source), 0, "the next instance captures nothing");
out:
	txc_client_close(c);
	if (d.pid > 0 && !ASSERT_EQ(txct_daemon_stop(&d), 0, "txcanceld exit status"))
		txct_daemon_dump_log(&d);
	txct_daemon_cleanup(&d);
}

static const struct test_case cases[] = {
	{ "unsubscribe", test_unsubscribe },
	{ "capture_restart", test_capture_restart },
};

int main(int argc, char **argv)
{
	fx_start("test_subscriptions", "namespaces, veth, BPF");
	return test_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
}
