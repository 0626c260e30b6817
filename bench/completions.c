// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * R1, completion throughput: abort completions per second that txcanceld
 * delivers to one client during a flood of canceled frames, and whether the
 * account closes exactly afterwards:
 *
 *	aborted = delivered + ring_lost + backlog_lost
 *
 * Real sockets cannot send 10 million frames quickly on these machines, so
 * the flood is BPF_PROG_TEST_RUN of the TC program the daemon itself
 * attached (found through its pinned tcx link, or its clsact filter on a
 * kernel without tcx), with a large repeat, on a
 * 64-byte UDP/IPv4 frame whose flow is tagged with the client's ID, while
 * that ID is canceled on every interface.  Each run of the program drops the
 * frame and writes an abort record into the source's ring, exactly as on
 * the real egress path: the daemon reads the ring, the client reads the
 * daemon's socket.
 *
 * A test-run skb leaves by the loopback device of the caller's namespace
 * (ifindex 1), which is not an interface the daemon manages: only a cancel
 * on every interface covers it, which is the cancel used here.
 *
 * Two rows: the rate with a reader that takes completions as fast as it
 * can, and the share lost when the reader sleeps 1 ms between reads.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <linux/bpf.h>

#include "../common/frame.h"
#include "benchlib.h"
#include "daemon_fixture.h"
#include "dp.h"
#include "netns.h"
#include "txcancel/txcancel.h"

#define IF_DAEMON	"txr1"		/* the interface the daemon attaches to */
#define IF_PEER		"txr1p"
#define FRAME_LEN	64
#define SADDR		"198.18.0.1"
#define DADDR		"198.18.0.2"
#define SPORT		4000
#define DPORT		5000
#define CHUNK		250000u		/* test-run repeat per call */
#define TC_DROP		2		/* TC_ACT_SHOT: the program's verdict */
#define MAX_PRODUCERS	2
#define SETTLE_MS	3000		/* after the flood: how long the account may take to close */
#define SLOW_SLEEP_US	1000

/*
 * One producer thread: on two CPUs a second one only takes the CPU the
 * daemon and the reader need.  The slow reader's floods are shorter: the
 * share it loses settles long before 10 million frames.
 */
struct params {
	__u64 frames;		/* per flood with the fast reader */
	__u64 slow_frames;	/* per flood with the slow reader */
	int runs;		/* floods per row */
	int producers;		/* 1..MAX_PRODUCERS */
};

static const struct params full = {
	.frames = 10000000, .slow_frames = 2000000, .runs = 3, .producers = 1,
};
static const struct params quick = {
	.frames = 100000, .slow_frames = 100000, .runs = 1, .producers = 1,
};

static struct txct_daemon daemon_;
static __u8 frame[FRAME_LEN];

/* --- the frame and the program ------------------------------------------- */

/* Ethernet + IPv4 + UDP, padded with payload to FRAME_LEN bytes. */
static int frame_make(void)
{
	struct frame_spec spec = {
		.family = TXC_FAMILY_IPV4, .proto = IPPROTO_UDP,
		.sport = htons(SPORT), .dport = htons(DPORT), .len = FRAME_LEN,
	};

	inet_pton(AF_INET, SADDR, spec.saddr);
	inet_pton(AF_INET, DADDR, spec.daddr);
	return frame_build(&spec, frame, sizeof(frame));
}

/*
 * The id of the program in txcancel's clsact filter on @ifname in @ns (a
 * kernel without tcx), from tc's listing; 0 if there is none yet.
 */
static __u32 clsact_prog_id(const char *ns, const char *ifname)
{
	char out[4096], *line, *save = NULL, *id;

	if (fx_run_output(out, sizeof(out), "tc -n %s filter show dev %s egress", ns, ifname))
		return 0;
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strstr(line, "txc_tc_egress"))
			continue;
		id = strstr(line, " id ");
		if (id)
			return (__u32)strtoul(id + 4, NULL, 10);
	}
	return 0;
}

/*
 * The TC program the daemon attached to @ifindex (@ifname in @ns): behind
 * its pinned tcx link, or in its clsact filter where the kernel has no tcx.
 */
static int daemon_prog_fd(const char *ns, const char *ifname, __u32 ifindex, __u32 *prog_id)
{
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);
	bool tcx = txdp_kernel_has_tcx();
	char pin[256];
	int link_fd, fd;

	snprintf(pin, sizeof(pin), "%s/links/tc-%u", daemon_.pin_dir, ifindex);
	*prog_id = 0;
	for (int i = 0; i < 100 && (tcx ? access(pin, F_OK) != 0 : !*prog_id); i++) {
		if (!tcx)
			*prog_id = clsact_prog_id(ns, ifname);
		if (tcx ? access(pin, F_OK) != 0 : !*prog_id)
			usleep(20000);
	}
	if (!tcx && !*prog_id) {
		fprintf(stderr, "completions: no txcancel filter on %s's clsact egress (this "
			"kernel has no tcx)\n", ifname);
		return -ENOENT;
	}
	if (tcx) {
		link_fd = bpf_obj_get(pin);
		if (link_fd < 0) {
			fprintf(stderr, "completions: the daemon's tc link %s: %s\n", pin,
				strerror(errno));
			return -errno;
		}
		if (bpf_obj_get_info_by_fd(link_fd, &info, &len)) {
			fprintf(stderr, "completions: info of link %s: %s\n", pin, strerror(errno));
			close(link_fd);
			return -errno;
		}
		close(link_fd);
		*prog_id = info.prog_id;
	}
	fd = bpf_prog_get_fd_by_id(*prog_id);
	if (fd < 0) {
		fprintf(stderr, "completions: program id %u of the daemon on %s: %s\n", *prog_id,
			ifname, strerror(errno));
		return -errno;
	}
	return fd;
}

/* --- producers ------------------------------------------------------------ */

/* One producer's share of a flood. */
struct producer {
	int prog_fd;
	__u64 frames;
};

static int producer_run(void *arg)
{
	struct producer *p = arg;

	for (__u64 done = 0; done < p->frames; ) {
		__u32 n = p->frames - done < CHUNK ? p->frames - done : CHUNK;
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = sizeof(frame),
			    .repeat = n);

		if (bpf_prog_test_run_opts(p->prog_fd, &opts)) {
			int err = -errno;

			fprintf(stderr, "completions: BPF_PROG_TEST_RUN: %s\n", strerror(-err));
			return err;
		}
		if (opts.retval != TC_DROP) {
			fprintf(stderr, "completions: the program returned %d, not drop (%d): the "
				"frame is not tagged or not canceled\n", (int)opts.retval, TC_DROP);
			return -EPROTO;
		}
		done += n;
	}
	return 0;
}

/* --- the reader ----------------------------------------------------------- */

struct reader {
	__u32 cancel_id;
	__u32 source;
	__u64 received;		/* records handed to the callback */
	__u64 bad;		/* records of another ID, source or status */
	__u64 last_ns;		/* when the last record arrived */
};

static void on_completions(void *ctx, const struct txc_ev_completions *ev,
			   const struct txc_abort_record *recs)
{
	struct reader *r = ctx;

	if (!ev->count)
		return;
	for (__u32 i = 0; i < ev->count; i++)
		if (recs[i].cancel_id != r->cancel_id || recs[i].source != r->source ||
		    recs[i].hdr.status != TXC_STATUS_SEND_ABORTED)
			r->bad++;
	r->received += ev->count;
	r->last_ns = bench_now_ns();
}

struct flood {
	double rate;		/* delivered / (last completion - flood start) */
	double produce_rate;	/* frames / producer time */
	double lost_share;	/* (ring_lost + backlog_lost) / aborted */
	struct txc_ev_completions acc;
	__u64 frames;
	__u64 received;
	__u64 bad;
	bool exact;		/* the identity, aborted = frames and received = delivered */
	double daemon_ns;	/* daemon CPU per delivered completion */
	double daemon_wait_ns;	/* daemon waiting for a CPU, per delivered completion */
	double reader_ns;	/* reader thread CPU per delivered completion */
};

static bool account_closed(const struct txc_ev_completions *a, __u64 frames, __u64 received)
{
	return a->aborted == frames && a->aborted == a->delivered + a->ring_lost + a->backlog_lost &&
	       received == a->delivered;
}

/* A fresh client with a prefix, a source, a flow tag and the tag's ID canceled. */
static int flood_client(struct txc_client **cp, struct reader *r)
{
	struct txc_client *c;
	struct txc_flow_key key;
	__u8 prefix = 0;
	int err;

	err = txc_client_open(cp, daemon_.sock);
	if (err) {
		fprintf(stderr, "completions: connecting: %s\n", txc_last_error());
		return err;
	}
	c = *cp;
	err = flow_key_make(&key, SADDR, SPORT, DADDR, DPORT);
	if (!err)
		err = txc_generate_partial_cancel_id(c, &prefix);
	if (!err)
		err = txc_source_open(c, &r->source);
	r->cancel_id = TXC_ID_MAKE(prefix, 1);
	if (!err)
		err = txc_tag_flow(c, &key, r->cancel_id, r->source);
	if (!err)
		err = txc_cancel(c, TXC_SCOPE_ID, r->cancel_id, NULL, 0, NULL);
	if (err)
		fprintf(stderr, "completions: setting up the client: %s\n", txc_client_error(c));
	return err;
}

/* The clocks at a flood's start. */
struct flood_start {
	uint64_t t0;			/* wall clock */
	uint64_t cpu_d0, wait_d0;	/* the daemon's CPU and run-queue time */
	uint64_t cpu_r0;		/* the reader thread's CPU */
};

/* @out's figures from what the reader saw; printed on stderr. */
static void flood_result(struct txc_client *c, const struct reader *r, __u64 frames,
			 const struct flood_start *st, uint64_t prod_end, bool slow,
			 struct flood *out)
{
	__u64 t0 = st->t0;

	txc_source_account(c, r->source, &out->acc);
	out->frames = frames;
	out->received = r->received;
	out->bad = r->bad;
	out->exact = account_closed(&out->acc, frames, r->received) && !r->bad;
	out->rate = r->last_ns > t0 ? r->received / ((r->last_ns - t0) / 1e9) : 0;
	out->produce_rate = frames / ((prod_end - t0) / 1e9);
	out->lost_share = out->acc.aborted ?
		(double)(out->acc.ring_lost + out->acc.backlog_lost) / out->acc.aborted : 0;
	if (r->received) {
		uint64_t cpu_d, wait_d;

		bench_schedstat(daemon_.pid, &cpu_d, &wait_d);
		out->daemon_ns = (double)(cpu_d - st->cpu_d0) / r->received;
		out->daemon_wait_ns = (double)(wait_d - st->wait_d0) / r->received;
		out->reader_ns = (double)(bench_thread_cpu_ns() - st->cpu_r0) / r->received;
	}
	fprintf(stderr, "  %s reader: %llu frames in %.2f s (%.2f M/s); delivered %.2f M/s; "
		"aborted %llu delivered %llu ring_lost %llu backlog_lost %llu received %llu "
		"bad %llu: identity %s; per completion: daemon on a CPU %.0f ns, waiting for "
		"one %.0f ns, reader on a CPU %.0f ns\n",
		slow ? "slow" : "fast", (unsigned long long)frames, (prod_end - t0) / 1e9,
		out->produce_rate / 1e6, out->rate / 1e6, (unsigned long long)out->acc.aborted,
		(unsigned long long)out->acc.delivered, (unsigned long long)out->acc.ring_lost,
		(unsigned long long)out->acc.backlog_lost, (unsigned long long)r->received,
		(unsigned long long)r->bad, out->exact ? "exact" : "NOT exact", out->daemon_ns,
		out->daemon_wait_ns, out->reader_ns);
}

/*
 * One flood of @frames through a fresh client, prefix, source, flow tag
 * and ID cancel; the reader is this thread, sleeping between reads if @slow.
 * Returns 0 when it measured (the identity may still fail: that is a result).
 */
static int flood_run(const struct params *p, __u64 frames, int prog_fd, bool slow,
		     struct flood *out)
{
	struct producer prod[MAX_PRODUCERS];
	struct bench_threads producers;
	struct txc_client *c = NULL;
	struct reader r = {};
	struct flood_start st;
	uint64_t prod_end = 0;
	__u64 idle_since = 0, last_seen = 0;
	bool running;
	int err;

	memset(out, 0, sizeof(*out));
	err = flood_client(&c, &r);
	if (err)
		goto out;

	for (int i = 0; i < p->producers; i++)
		prod[i] = (struct producer){
			.prog_fd = prog_fd,
			.frames = frames / p->producers + (i == 0 ? frames % p->producers : 0),
		};
	bench_threads_start(&producers, p->producers, producer_run, prod, sizeof(prod[0]));
	running = true;
	bench_schedstat(daemon_.pid, &st.cpu_d0, &st.wait_d0);
	st.cpu_r0 = bench_thread_cpu_ns();
	st.t0 = bench_now_ns();
	bench_threads_go(&producers);

	for (;;) {
		int n;

		if (slow) {
			usleep(SLOW_SLEEP_US);
			n = txc_read_completions(c, on_completions, &r, 0);
		} else {
			n = txc_read_completions(c, on_completions, &r, 100);
		}
		if (n < 0) {
			fprintf(stderr, "completions: reading: %s\n", txc_client_error(c));
			err = n;
			break;
		}
		if (running) {
			if (!bench_threads_done(&producers))
				continue;
			err = bench_threads_join(&producers, &prod_end);
			running = false;
			if (err)
				break;
			idle_since = bench_now_ns();
		}
		/* The flood is over: wait, bounded, for the account to close. */
		txc_source_account(c, r.source, &out->acc);
		if (account_closed(&out->acc, frames, r.received))
			break;
		if (r.received + out->acc.ring_lost + out->acc.backlog_lost != last_seen) {
			last_seen = r.received + out->acc.ring_lost + out->acc.backlog_lost;
			idle_since = bench_now_ns();
		} else if (bench_now_ns() - idle_since > SETTLE_MS * 1000000ull) {
			break;
		}
	}
	if (running)
		bench_threads_join(&producers, NULL);
	if (err)
		goto out;

	flood_result(c, &r, frames, &st, prod_end, slow, out);
out:
	txc_client_close(c);
	return err;
}

/* --- rows ----------------------------------------------------------------- */

static int account_text(char *buf, size_t len, const struct flood *f, int runs)
{
	int n = 0;

	for (int i = 0; i < runs; i++)
		n += snprintf(buf + n, len - n, "%srun %d: aborted %llu = delivered %llu + "
			      "ring_lost %llu + backlog_lost %llu%s (frames %llu, received %llu%s)",
			      i ? "; " : "", i + 1, (unsigned long long)f[i].acc.aborted,
			      (unsigned long long)f[i].acc.delivered,
			      (unsigned long long)f[i].acc.ring_lost,
			      (unsigned long long)f[i].acc.backlog_lost,
			      f[i].exact ? " exact" : " NOT EXACT",
			      (unsigned long long)f[i].frames, (unsigned long long)f[i].received,
			      f[i].bad ? ", records of another ID" : "");
	return n;
}

/*
 * Emits @row, its value the median of @v over the @runs floods @f and its
 * note the @n characters already in @note followed by the floods' accounts;
 * the target met only when every account closed exactly and, if @min is
 * not 0, the median reached @min.
 */
static void emit_r1(struct bench_row *row, const struct flood *f, int runs, double *v,
		    char *note, size_t len, int n, double min)
{
	bool all_exact = true;

	for (int i = 0; i < runs; i++)
		all_exact &= f[i].exact;
	account_text(note + n, len - n, f, runs);
	row->value = bench_stat_of(v, runs);
	row->note = note;
	row->met = (!min || row->value.median >= min) && all_exact;
	bench_emit(row);
}

/* R1 with the reader as fast as it can: completions delivered per second. */
static void emit_fast(const struct params *p, const struct flood *fast)
{
	double v[BENCH_MAX_SAMPLES], prod[BENCH_MAX_SAMPLES], dcpu[BENCH_MAX_SAMPLES];
	double rcpu[BENCH_MAX_SAMPLES], dwait[BENCH_MAX_SAMPLES];
	struct bench_stat ps, ds, dw, rs;
	struct bench_row row = {
		.figure = "R1", .name = "completions delivered, reader as fast as it can",
		.unit = "completions/s",
		.target = ">= 5,000,000/s with aborted = delivered + lost exact",
	};
	char note[2048];
	int n, i;

	for (i = 0; i < p->runs; i++) {
		v[i] = fast[i].rate;
		prod[i] = fast[i].produce_rate;
		dcpu[i] = fast[i].daemon_ns;
		dwait[i] = fast[i].daemon_wait_ns;
		rcpu[i] = fast[i].reader_ns;
	}
	ps = bench_stat_of(prod, p->runs);
	ds = bench_stat_of(dcpu, p->runs);
	dw = bench_stat_of(dwait, p->runs);
	rs = bench_stat_of(rcpu, p->runs);
	n = snprintf(note, sizeof(note), "%llu-frame floods, %d producer thread(s) running the "
		     "daemon's tc program by BPF_PROG_TEST_RUN at %.2f M frames/s (median); "
		     "per delivered completion: daemon on a CPU %.0f ns and waiting for one "
		     "%.0f ns, reader on a CPU %.0f ns (medians); ", (unsigned long long)p->frames,
		     p->producers, ps.median / 1e6, ds.median, dw.median, rs.median);
	emit_r1(&row, fast, p->runs, v, note, sizeof(note), n, 5e6);
}

/* R1 with the reader sleeping between reads: the share of completions lost. */
static void emit_slow(const struct params *p, const struct flood *slow)
{
	double v[BENCH_MAX_SAMPLES];
	struct bench_row row = {
		.figure = "R1", .name = "lost share, reader sleeping 1 ms between reads",
		.unit = "lost/aborted", .target = "aborted = delivered + lost exact",
	};
	char note[2048];
	int n;

	for (int i = 0; i < p->runs; i++)
		v[i] = slow[i].lost_share;
	n = snprintf(note, sizeof(note), "%llu-frame floods; the reader sleeps %d us between "
		     "reads; lost = ring_lost + backlog_lost; ",
		     (unsigned long long)p->slow_frames, SLOW_SLEEP_US);
	emit_r1(&row, slow, p->runs, v, note, sizeof(note), n, 0);
}

int main(int argc, char **argv)
{
	const struct params *p = bench_quick(argc, argv) ? &quick : &full;
	const char *daemon_args[] = { "-i", IF_DAEMON, "-l", "info", NULL };
	struct flood fast[BENCH_MAX_SAMPLES], slow[BENCH_MAX_SAMPLES];
	char ns_a[FX_NAME_MAX], ns_b[FX_NAME_MAX];
	int prog_fd = -1, ret = 1, i;
	__u32 ifindex = 0, prog_id = 0;

	if (frame_make() != FRAME_LEN) {
		fprintf(stderr, "completions: cannot build the test frame\n");
		return 1;
	}
	if (fx_init() || ns_create(ns_a, "r1a") || ns_create(ns_b, "r1b") ||
	    veth_create(ns_a, IF_DAEMON, ns_b, IF_PEER) || link_info(ns_a, IF_DAEMON, &ifindex, NULL))
		return 1;
	if (txct_daemon_start(&daemon_, ns_a, daemon_args))
		goto out;
	prog_fd = daemon_prog_fd(ns_a, IF_DAEMON, ifindex, &prog_id);
	if (prog_fd < 0)
		goto out;

	fprintf(stderr, "completions: %d floods of %llu frames (slow reader: %llu), %d "
		"producer thread(s), BPF_PROG_TEST_RUN of the daemon's tc program (id %u, on %s "
		"ifindex %u)\n", p->runs, (unsigned long long)p->frames,
		(unsigned long long)p->slow_frames, p->producers, prog_id, IF_DAEMON, ifindex);
	for (i = 0; i < p->runs; i++)
		if (flood_run(p, p->frames, prog_fd, false, &fast[i]))
			goto out;
	for (i = 0; i < p->runs; i++)
		if (flood_run(p, p->slow_frames, prog_fd, true, &slow[i]))
			goto out;

	emit_fast(p, fast);
	emit_slow(p, slow);
	ret = 0;
out:
	if (prog_fd >= 0)
		close(prog_fd);
	if (daemon_.pid > 0 && txct_daemon_stop(&daemon_))
		txct_daemon_dump_log(&daemon_);
	txct_daemon_cleanup(&daemon_);
	fx_cleanup();
	return ret;
}
