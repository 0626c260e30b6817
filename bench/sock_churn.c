// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * sock_churn: figure S1, what socket tags cost to keep.  A client does what
 * a server does with short connections: it opens a socket, tags it, sends
 * one datagram on it and closes it, 100,000 times, one after the other,
 * through a private txcanceld attached to a veth interface in a private
 * network namespace.
 *
 * Measured every tenth of the way: the daemon's VmRSS and the memory of the
 * BPF maps it holds (memlock over its map fds, each map once, as mem.c
 * does).  At the end the source's counters from `txcancel stats` (the
 * library's txc_stats()) must count every datagram as passed, exactly, and
 * nothing aborted.  A tag lives in its socket, so nothing should grow.
 *
 * Usage: sock_churn [--quick]		(quick: 2,000 sockets)
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "txcancel/txcancel.h"
#include "benchlib.h"
#include "daemon_fixture.h"
#include "netns.h"

#define IF_TX		"s1tx"
#define IF_RX		"s1rx"
#define ADDR_TX		"198.18.0.1"
#define ADDR_RX		"198.18.0.2"
#define PORT_RX		5001
#define SAMPLES		11
static double rss_kib(pid_t pid)
{
	return bench_proc_status(pid, "VmRSS");
}

/* Sum of memlock over the BPF maps @pid holds, each map once, in KiB. */
static double maps_kib(pid_t pid)
{
	long long bytes = bench_maps_memlock(pid, NULL);

	return bytes < 0 ? -1 : bytes / 1024.0;
}

static void emit(const char *name, const char *unit, double first, double last, int met,
		 const char *note)
{
	double v = last, b = first;
	struct bench_row row = {
		.figure = "S1",
		.name = name,
		.unit = unit,
		.value = bench_stat_of(&v, 1),
		.has_baseline = true,
		.baseline_name = "before the first socket",
		.baseline = bench_stat_of(&b, 1),
		.has_ratio = true,
		.ratio = last - first,
		.ratio_name = "growth over the run",
		.target = "flat, and txcancel stats exact",
		.met = met,
		.note = note,
	};

	bench_emit(&row);
}

/* What one churn saw: memory samples (KiB) along the way, datagrams sent, its time. */
struct churn {
	double rss[SAMPLES], maps[SAMPLES];
	int n;			/* samples taken */
	int sent;
	__u64 t0, t1;
};

/* @nsocks sockets opened in @ns, tagged, used once and closed; the daemon @pid sampled. */
static int churn(struct txc_client *c, const char *ns, __u8 prefix, __u32 source, pid_t pid,
		 int nsocks, struct churn *ch)
{
	int err = 0;

	ch->t0 = bench_now_ns();
	for (int i = 0; i < nsocks && !err; i++) {
		int fd;

		if (i % (nsocks / (SAMPLES - 1)) == 0) {
			ch->rss[ch->n] = rss_kib(pid);
			ch->maps[ch->n++] = maps_kib(pid);
		}
		fd = udp_open(ns, ADDR_TX, 0);
		if (fd < 0) {
			err = fd;
			break;
		}
		err = txc_tag_socket(c, fd, TXC_ID_MAKE(prefix, (i % 1000) + 1), source, NULL);
		if (!err && udp_send(fd, ADDR_RX, PORT_RX, 1, 0) != 1)
			err = -EIO;
		else if (!err)
			ch->sent++;
		close(fd);
	}
	ch->t1 = bench_now_ns();
	ch->rss[ch->n] = rss_kib(pid);
	ch->maps[ch->n++] = maps_kib(pid);
	return err;
}

int main(int argc, char **argv)
{
	const char *args[] = { "-i", IF_TX, NULL };
	bool quick = bench_quick(argc, argv);
	int nsocks = quick ? 2000 : 100000, err = 0, ret = 1;
	static struct churn ch;
	double *rss = ch.rss, *maps = ch.maps, rss_max = 0, maps_max = 0;
	char ns_tx[FX_NAME_MAX], ns_rx[FX_NAME_MAX], note[768], name[128];
	struct txc_stats_entry st = {};
	struct txct_daemon d = {};
	struct txc_client *c = NULL;
	__u8 prefix = 0;
	__u32 source = 0;
	int s, sent;

	if (fx_init() || ns_create(ns_tx, "s1-tx") || ns_create(ns_rx, "s1-rx") ||
	    veth_link(ns_tx, IF_TX, ADDR_TX, ns_rx, IF_RX, ADDR_RX, 24, NULL)) {
		fprintf(stderr, "sock_churn: setting up the testbed failed\n");
		goto out;
	}
	if (txct_daemon_start(&d, ns_tx, args))
		goto out;
	if (txc_client_open(&c, d.sock) || txc_generate_partial_cancel_id(c, &prefix) ||
	    txc_source_open(c, &source)) {
		fprintf(stderr, "sock_churn: client: %s\n", txc_client_error(c));
		goto out;
	}
	/*
	 * The daemon refills its pool of ready rings (maps of their own) after
	 * a source opens: the baseline is what it holds once that is done.
	 */
	proc_fd_count_settled(d.pid);
	fprintf(stderr, "sock_churn: %d sockets opened, tagged, used once and closed\n", nsocks);
	err = churn(c, ns_tx, prefix, source, d.pid, nsocks, &ch);
	s = ch.n;
	sent = ch.sent;
	if (err) {
		fprintf(stderr, "sock_churn: socket %d: %s (%s)\n", sent, strerror(-err),
			txc_client_error(c));
		goto out;
	}
	if (txc_stats(c, TXC_SCOPE_SOURCE, source, &st, 1) != 1) {
		fprintf(stderr, "sock_churn: txc_stats: %s\n", txc_client_error(c));
		goto out;
	}
	for (int i = 0; i < s; i++) {
		if (rss[i] - rss[0] > rss_max)
			rss_max = rss[i] - rss[0];
		if (maps[i] - maps[0] > maps_max)
			maps_max = maps[i] - maps[0];
	}
	bool exact = st.counts.passed_frames == (__u64)sent &&
		     st.counts.passed_bytes == (__u64)sent * udp_frame_len(4) &&
		     !st.counts.aborted_frames;

	snprintf(note, sizeof(note), "%d sockets, each opened, tagged (txc_tag_socket), sent one "
		 "datagram through the interface txcanceld is attached to, closed: %.1f us a "
		 "socket; largest growth at a tenth of the way %.0f KiB; txcancel stats of the "
		 "source: %llu passed frames, %llu bytes, %llu aborted (sent %d)", nsocks,
		 (ch.t1 - ch.t0) / 1e3 / nsocks, rss_max,
		 (unsigned long long)st.counts.passed_frames,
		 (unsigned long long)st.counts.passed_bytes,
		 (unsigned long long)st.counts.aborted_frames, sent);
	snprintf(name, sizeof(name), "daemon VmRSS over %d tagged short-lived sockets", nsocks);
	emit(name, "KiB", rss[0], rss[s - 1], rss_max <= 1024 && exact, note);
	snprintf(note, sizeof(note), "sum of memlock over the daemon's map fds, each map once; "
		 "largest growth at a tenth of the way %.0f KiB; a socket's tag is in the socket "
		 "(socket-local storage), freed with it", maps_max);
	snprintf(name, sizeof(name), "BPF map memory over %d tagged short-lived sockets", nsocks);
	emit(name, "KiB", maps[0], maps[s - 1], maps_max == 0 && exact, note);
	fprintf(stderr, "sock_churn: RSS %.0f -> %.0f KiB, maps %.0f -> %.0f KiB, stats %s\n",
		rss[0], rss[s - 1], maps[0], maps[s - 1], exact ? "exact" : "NOT exact");
	ret = 0;
out:
	txc_client_close(c);
	txct_daemon_stop(&d);
	txct_daemon_cleanup(&d);
	fx_cleanup();
	return ret;
}
