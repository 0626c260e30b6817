// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Q1: txcancel's qdisc (Linux 6.16+, CONFIG_NET_SCH_BPF).
 *
 *   - cancel -> reply with 1,000 and 10,000 frames of the ID queued: the
 *     time txdp_cancel() takes (map update, then the purge of every
 *     queue, each frame reported), beside the same cancel with nothing
 *     queued;
 *   - the purge's cost per queued frame: (with N queued - with none) / N;
 *   - the qdisc's cost per frame sent against pfifo on the same device in
 *     the same run: sender thread CPU per frame (CLOCK_THREAD_CPUTIME_ID),
 *     both under an mq root with one child per TX queue, the TC program
 *     attached in both.
 *
 * Frames wait because the qdisc is paced at one frame per second.  Runs in
 * a 7.2 guest (bench figures there are relative only: an emulated CPU);
 * elsewhere it says why and emits nothing.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/pkt_sched.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "benchlib.h"
#include "dp.h"
#include "qdisc.h"
#include "qdisc_nl.h"
#include "netns.h"
#include "testlib.h"

#define IF_A		"vq1a"
#define IF_B		"vq1b"
#define ADDR_A		"198.18.90.1"
#define ADDR_B		"198.18.90.2"
#define MARK		0x1100u
#define MARK_MASK	0xff00u
#define ID		TXC_ID_MAKE(9, 1)
#define SOURCE		1
#define RING_BYTES	(4u << 20)
#define RUNS		5
#define SEND_FRAMES	20000
#define MQ_HANDLE	0x007d0000u

static char ns_a[FX_NAME_MAX], ns_b[FX_NAME_MAX], pin[128];
static struct txdp *dp;
static __u32 ifindex;
static int tx = -1, ring = -1;

static int sock_open(void)
{
	int sndbuf = 64 << 20;

	tx = udp_open(ns_a, ADDR_A, 7900);
	if (tx < 0)
		return tx;
	if (setsockopt(tx, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf)) ||
	    setsockopt(tx, SOL_SOCKET, SO_MARK, &(__u32){ MARK }, sizeof(__u32)))
		return -errno;
	return 0;
}

/* Send @n frames as fast as the socket takes them. */
static int send_n(int n)
{
	__u8 payload[FX_PAYLOAD_LEN] = { 'Q', '1' };
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(6900) };

	inet_pton(AF_INET, ADDR_B, &sin.sin_addr);
	for (int i = 0; i < n; i++) {
		if (sendto(tx, payload, sizeof(payload), 0, (struct sockaddr *)&sin,
			   sizeof(sin)) < 0 && errno != ENOBUFS) {
			if (errno != EAGAIN)
				return -errno;
			usleep(100);
			i--;
		}
	}
	return 0;
}

static int ring_count(void *ctx, void *data, size_t len)
{
	(void)data;
	(void)len;
	(*(long *)ctx)++;
	return 0;
}

static long ring_consume(void)
{
	long n = 0;
	struct ring_buffer *rb = ring_buffer__new(ring, ring_count, &n, NULL);

	if (!rb)
		return -1;
	ring_buffer__consume(rb);
	ring_buffer__free(rb);
	return n;
}

static __u32 queued(void)
{
	struct txc_queue_info qi[16];
	int n = txdp_qdisc_queues(dp, ifindex, qi, 16);
	__u32 sum = 0;

	for (int i = 0; i < n; i++)
		sum += qi[i].qlen;
	return sum;
}

static int in_ns(int (*fn)(void *), void *arg)
{
	int err = ns_enter(ns_a);

	if (!err) {
		err = fn(arg);
		ns_leave();
	}
	return err;
}

static int attach_txcancel(void *arg)
{
	return txdp_qdisc_attach_ifindex(dp, ifindex, arg);
}

static int detach_txcancel(void *arg)
{
	(void)arg;
	return txdp_qdisc_detach_ifindex(dp, ifindex);
}

/* mq with a pfifo child per TX queue: the baseline, shaped like txcancel's install. */
static int attach_pfifo(void *arg)
{
	struct tc_fifo_qopt opt = { .limit = TXC_QDISC_LIMIT_MAX };
	__u32 ntx;
	int err;

	(void)arg;
	err = txdp_nl_tx_queues(ifindex, &ntx);
	if (!err)
		err = txdp_nl_qdisc_replace(ifindex, TC_H_ROOT, MQ_HANDLE, "mq", NULL, 0, NULL, 0);
	for (__u32 i = 1; !err && i <= ntx; i++)
		err = txdp_nl_qdisc_replace(ifindex, MQ_HANDLE | i, 0, "pfifo", &opt, sizeof(opt),
					   NULL, 0);
	return err;
}

static int detach_pfifo(void *arg)
{
	(void)arg;
	return txdp_nl_qdisc_delete(ifindex, TC_H_ROOT, NULL, 0);
}

/* Sender CPU per frame with the qdisc @attach installs. */
static int per_frame(int (*attach)(void *), int (*detach)(void *), void *arg, double *ns)
{
	uint64_t c0;
	int err = in_ns(attach, arg);

	if (err)
		return err;
	c0 = bench_thread_cpu_ns();
	err = send_n(SEND_FRAMES);
	*ns = (double)(bench_thread_cpu_ns() - c0) / SEND_FRAMES;
	usleep(200000);
	in_ns(detach, NULL);
	return err;
}

/* cancel -> reply with @n frames of ID queued; the purge's records are checked. */
static int cancel_with(int n, double *us)
{
	uint64_t t0;
	long records;
	int err;

	err = send_n(n);
	if (err)
		return err;
	if (queued() < (__u32)n * 9 / 10) {
		fprintf(stderr, "qdisc_cancel: only %u of %d frames queued\n", queued(), n);
		return -EAGAIN;
	}
	t0 = bench_now_ns();
	err = txdp_cancel(dp, TXC_SCOPE_ID, ID, 0, 0);
	*us = (double)(bench_now_ns() - t0) / 1000.0;
	if (!err)
		err = txdp_clear(dp, TXC_SCOPE_ID, ID);
	records = ring_consume();
	if (n && records < n * 9 / 10) {
		fprintf(stderr, "qdisc_cancel: %ld records for %d queued frames\n", records, n);
		return -EPROTO;
	}
	return err;
}

/* Frames of the ID queued when it is canceled; 0 is the baseline. */
static const int sizes[] = { 0, 1000, 10000 };

/* The cancel's latency by frames queued, the purge per frame, the sender's CPU. */
static void emit_rows(double lat[][RUNS], double *txq, double *fifo, int runs)
{
	struct bench_stat st[3], sq, sf;
	char name[96], note[256];

	for (int s = 0; s < 3; s++)
		st[s] = bench_stat_of(lat[s], runs);
	for (int s = 1; s < 3; s++) {
		struct bench_row row = {
			.figure = "Q1", .unit = "us", .value = st[s], .has_baseline = true,
			.baseline_name = "the same cancel, nothing queued", .baseline = st[0],
			.target = "stated (relative figures: emulated CPU)", .met = -1,
		};
		snprintf(name, sizeof(name), "cancel -> reply, %d frames of the ID queued",
			 sizes[s]);
		row.name = name;
		snprintf(note, sizeof(note), "txdp_cancel(): map update, then the purge of "
			 "every queue with one record per frame; purge per queued frame %.3g us",
			 (st[s].median - st[0].median) / sizes[s]);
		row.note = note;
		bench_emit(&row);
	}
	{
		struct bench_row row = {
			.figure = "Q1", .name = "purge, per queued frame (10000 queued)",
			.unit = "ns/frame", .target = "stated", .met = -1,
		};

		row.value.median = (st[2].median - st[0].median) * 1000.0 / sizes[2];
		row.value.min = (st[2].min - st[0].median) * 1000.0 / sizes[2];
		row.value.max = (st[2].max - st[0].median) * 1000.0 / sizes[2];
		row.value.runs = runs;
		bench_emit(&row);
	}
	sq = bench_stat_of(txq, runs);
	sf = bench_stat_of(fifo, runs);
	{
		struct bench_row row = {
			.figure = "Q1", .name = "sender CPU per tagged frame, txcancel's qdisc",
			.unit = "ns/frame", .value = sq, .has_baseline = true,
			.baseline_name = "pfifo (mq, one per TX queue), same device, same run",
			.baseline = sf, .has_ratio = true, .ratio = sq.median / sf.median,
			.ratio_name = "txcancel qdisc / pfifo", .target = "stated", .met = -1,
		};

		bench_emit(&row);
	}
}

int main(int argc, char **argv)
{
	struct txdp_opts opts = { .pin_dir = pin, .ring_bytes = RING_BYTES,
				    .flow_rules_max = 1024 };
	/* One frame a second: everything sent waits. */
	struct txc_qdisc_params slow = { .limit = TXC_QDISC_LIMIT_MAX, .rate_bytes = 80 };
	struct txc_qdisc_params fast = { .limit = TXC_QDISC_LIMIT_MAX };
	struct txc_tag tag = { .cancel_id = ID, .source = SOURCE };
	double lat[3][RUNS], txq[RUNS], fifo[RUNS];
	char why[256];
	__u32 key = MARK & MARK_MASK;
	int runs = bench_quick(argc, argv) ? 2 : RUNS, err;

	if (txdp_qdisc_probe(why, sizeof(why))) {
		fprintf(stderr, "qdisc_cancel: Q1 not measured: %s\n", why);
		return 0;
	}
	if (fx_init() || ns_create(ns_a, "q1-tx") || ns_create(ns_b, "q1-rx") ||
	    veth_link(ns_a, IF_A, ADDR_A, ns_b, IF_B, ADDR_B, 24, &ifindex))
		return 1;
	pin_dir_make(pin, sizeof(pin), "q1");
	err = txdp_open(&dp, &opts);
	if (!err)
		err = txdp_set_mark_mask(dp, MARK_MASK);
	if (!err)
		err = txdp_tag_add(dp, TXC_TAG_MARK, &key, &tag);
	if (!err && !(err = ns_enter(ns_a))) {
		err = txdp_attach_tc(dp, IF_A, TXDP_TC_AUTO);
		if (!err)
			err = txdp_qdisc_open(dp);
		ns_leave();
	}
	if (!err) {
		ring = txdp_ring_open(dp, SOURCE);
		err = ring < 0 ? ring : sock_open();
	}
	if (err) {
		fprintf(stderr, "qdisc_cancel: setting up: %s\n", strerror(-err));
		goto out;
	}
	/* The per-frame cost first, txcancel and pfifo alternating. */
	for (int r = 0; r < runs && !err; r++) {
		err = per_frame(attach_txcancel, detach_txcancel, &fast, &txq[r]);
		if (!err)
			err = per_frame(attach_pfifo, detach_pfifo, NULL, &fifo[r]);
		ring_consume();
	}
	if (!err)
		err = in_ns(attach_txcancel, &slow);
	for (int r = 0; r < runs && !err; r++)
		for (int s = 0; s < 3 && !err; s++)
			err = cancel_with(sizes[s], &lat[s][r]);
	if (err) {
		fprintf(stderr, "qdisc_cancel: %s\n", strerror(-err));
		goto out;
	}
	emit_rows(lat, txq, fifo, runs);
out:
	if (tx >= 0)
		close(tx);
	if (dp) {
		if (!ns_enter(ns_a)) {
			txdp_detach_ifindex(dp, ifindex);
			ns_leave();
		}
		txdp_qdisc_unregister(dp);
		txdp_unpin(dp);
		txdp_close(dp);
	}
	ns_delete(ns_a);
	ns_delete(ns_b);
	return err ? 1 : 0;
}
