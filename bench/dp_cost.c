// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * dp_cost: figures D1, D2 and D3 of bench/README.md, the cost per frame of the TC
 * egress program under BPF_PROG_TEST_RUN, beside an empty TC program.
 *
 * Cases, each on a 64-byte UDP/IPv4 and a 64-byte UDP/IPv6 frame:
 *   untagged   flow lookup on, the frame's flow has no rule
 *   tagged     the frame's flow has a rule, its ID is not canceled
 *   canceled   its ID is canceled: the frame is dropped and an abort record
 *              goes to the source's ring, which a consumer thread drains as
 *              the daemon does in a flood (wake-ups off, read every 250 us)
 * at these table sizes (full mode; quick mode uses smaller ones):
 *   1 flow rule, no other cancel                       D1, D2
 *   1, 10,000 and 1,000,000 flow rules, each with
 *   100,000 active ID cancels                          D3, dp_rules.dat
 * The frame's own rule is always one of the rules counted, so a table said
 * to hold N rules holds N.  Flow rules, because a test-run frame has no
 * sending socket of user space's.  Besides, for D1:
 *   untagged   with a mark, a socket and a cgroup rule in force (none its
 *              own) and no flow lookup
 *   tagged     by its socket: the test run's own dummy socket gets its tag
 *              from a prelude program that then tail-calls txcancel's; the
 *              baseline is the same prelude tail-calling the empty program
 *
 * Each figure is the median of several test runs of `repeat` frames; every
 * txcancel run is paired with a run of the empty program on the same frame,
 * in alternating order, so that drift of the machine hits both.  The added
 * cost is the median of the per-pair differences.  The kernel reports whole
 * nanoseconds per frame and leaves out the time the run was preempted.
 *
 * Where the time goes is measured too: the untagged frame with no rule at
 * all (flow lookup off), the tagged frame with and without the ID cancel
 * table looked up, and the canceled frame with its record written but no
 * reader to wake (the ring drained between runs that fit in it), with the
 * reader woken by the ring per record (as while aborts are few), with no
 * ring at all (the record is counted lost instead of written), and with the
 * frame's 64 bytes in its record (a capture length asked for, as by
 * `txcancel watch -w`).
 *
 * Every case checks itself: the program's verdict, and the source's counters
 * (passed or aborted frames, exactly runs x repeat), so that a number never
 * belongs to a case other than the one named.
 *
 * The measurements are here; the frames and the tables' contents are in
 * dp_cost/setup.c, the rows and dp_rules.dat in dp_cost/output.c.
 *
 * Usage: dp_cost [--quick]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "benchlib.h"
#include "dp.h"
#include "helpers.skel.h"

#include "dp_cost/dp_cost.h"

const char *const fam_name[NFAM] = { "IPv4", "IPv6" };
const char *const case_name[NCASES] = { "untagged", "tagged", "canceled" };

/* Level 0 is D1/D2's; levels 1.. are D3's, all with the same cancels. */
static const struct level full_levels[NLEVELS] = {
	{ 1, 0 }, { 1, 100000 }, { 10000, 100000 }, { 1000000, 100000 },
};
static const struct level quick_levels[NLEVELS] = {
	{ 1, 0 }, { 1, 1000 }, { 100, 1000 }, { 10000, 1000 },
};

struct result res[NLEVELS][NCASES][NFAM];
struct result no_rules[NFAM], no_ring[NFAM], between_runs[NFAM], woken[NFAM];
struct result captured[NFAM];
struct result skb_rules[NFAM], sk_tagged[NFAM], sk_only[NFAM], cg_only[NFAM];
struct result stamped[NFAM];

#define OTHER_MARK	0x01000000u		/* a mark no measured frame carries */
#define OTHER_CGROUP	0xfffffff0ull		/* a cgroup id no process is in */
#define MARK_MASK	0xff000000u

/* --- the ring's consumer -------------------------------------------------- */

static int count_record(void *ctx, void *data, size_t size)
{
	struct consumer *c = ctx;

	(void)data, (void)size;
	c->consumed++;
	return 0;
}

/*
 * As the daemon reads a ring: woken per record while aborts are few
 * (@polled false: sleep in epoll), or, in a flood, with the datapath's
 * wake-ups off, reading every 250 us and again at once after a burst
 * (daemon/ringpoll.c).
 */
static void *consume(void *arg)
{
	struct consumer *c = arg;
	const struct timespec period = { .tv_nsec = 250000 };

	while (!bench_loop_stopping(&c->loop)) {
		if (!c->polled)
			ring_buffer__poll(c->rb, 10);
		else if (ring_buffer__consume(c->rb) < 256)
			nanosleep(&period, NULL);
	}
	ring_buffer__consume(c->rb);
	return NULL;
}

/*
 * Open the source's ring for reading; with @thread, a thread drains it as
 * the daemon would, otherwise the caller drains it with ring_buffer__consume().
 */
static int consumer_start(struct bench *b, bool thread, bool polled)
{
	struct consumer *c = &b->cons;
	int err;

	c->ring_fd = txdp_ring_open(b->dp, SOURCE);
	if (c->ring_fd < 0)
		return c->ring_fd;
	c->rb = ring_buffer__new(c->ring_fd, count_record, c, NULL);
	if (!c->rb) {
		err = -errno;
		close(c->ring_fd);
		return err;
	}
	c->polled = polled;
	err = polled ? txdp_set_ring_wakeup(b->dp, false) : 0;
	if (!err && thread)
		err = bench_loop_start(&c->loop, consume, c);
	if (err) {
		txdp_set_ring_wakeup(b->dp, true);
		ring_buffer__free(c->rb);
		close(c->ring_fd);
		return err;
	}
	return 0;
}

static void consumer_stop(struct bench *b)
{
	struct consumer *c = &b->cons;

	bench_loop_stop(&c->loop);
	if (c->polled)
		txdp_set_ring_wakeup(b->dp, true);
	ring_buffer__consume(c->rb);
	ring_buffer__free(c->rb);
	close(c->ring_fd);
}

/* --- measuring ------------------------------------------------------------ */

static int test_run(int prog_fd, const struct frame *f, __u32 repeat, __u32 want_ret,
		    double *ns)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = f->data, .data_size_in = sizeof(f->data),
		    .repeat = repeat);

	if (bpf_prog_test_run_opts(prog_fd, &opts)) {
		fprintf(stderr, "dp_cost: BPF_PROG_TEST_RUN: %s\n", strerror(errno));
		return -errno;
	}
	if (opts.retval != want_ret) {
		fprintf(stderr, "dp_cost: the program returned %d, expected %d: the case is "
			"not set up as named\n", (int)opts.retval, (int)want_ret);
		return -EPROTO;
	}
	*ns = opts.duration;
	return 0;
}

static int source_stats(struct bench *b, struct txc_source_stats *s)
{
	int err = txdp_source_stats(b->dp, SOURCE, s);

	if (err)
		fprintf(stderr, "dp_cost: reading the source's counters: %s\n", strerror(-err));
	return err;
}

/* How a canceled case's records are consumed. */
enum ring_mode {
	RING_THREAD,		/* a consumer thread polls the ring, wake-ups off (daemon in a flood) */
	RING_WOKEN,		/* a consumer thread woken by the ring per record (few aborts) */
	RING_NONE,		/* the source has no ring: every record is lost */
	RING_BETWEEN_RUNS,	/* drained between runs that fit the ring: no wakeup */
};

/*
 * @runs pairs of test runs of @repeat frames, txcancel and the empty
 * program, alternating which goes first.  Checks the verdict and that the
 * source counted exactly the frames the case should produce.
 */
static int measure(struct bench *b, const struct frame *f, enum dp_case c, enum ring_mode ring,
		   __u32 repeat, int runs, struct result *r)
{
	double val[BENCH_MAX_SAMPLES], diff[BENCH_MAX_SAMPLES];
	struct txc_source_stats s0, s1;
	unsigned long long frames = (unsigned long long)runs * repeat, c0;
	__u32 want = c == CANCELED ? TCX_DROP_RET : TCX_NEXT_RET;
	bool consumer = c == CANCELED && ring != RING_NONE;
	int err, i;

	memset(r, 0, sizeof(*r));
	if (consumer) {
		err = consumer_start(b, ring == RING_THREAD || ring == RING_WOKEN,
				     ring == RING_THREAD);
		if (err) {
			fprintf(stderr, "dp_cost: starting the ring's consumer: %s\n",
				strerror(-err));
			return err;
		}
	}
	c0 = b->cons.consumed;
	err = source_stats(b, &s0);
	for (i = 0; !err && i < runs; i++) {
		if (i & 1) {
			err = test_run(b->tc_fd, f, repeat, want, &val[i]);
			if (!err)
				err = test_run(b->empty_fd, f, repeat, TCX_NEXT_RET,
					       &r->base_samples[i]);
		} else {
			err = test_run(b->empty_fd, f, repeat, TCX_NEXT_RET, &r->base_samples[i]);
			if (!err)
				err = test_run(b->tc_fd, f, repeat, want, &val[i]);
		}
		if (!err)
			diff[i] = val[i] - r->base_samples[i];
		if (!err && ring == RING_BETWEEN_RUNS && consumer)
			ring_buffer__consume(b->cons.rb);
	}
	if (consumer)
		consumer_stop(b);
	if (!err)
		err = source_stats(b, &s1);
	if (err)
		return err;

	r->n = runs;
	r->passed = s1.passed_frames - s0.passed_frames;
	r->aborted = s1.aborted_frames - s0.aborted_frames;
	r->lost = s1.lost_reports - s0.lost_reports;
	r->consumed = b->cons.consumed - c0;
	if (r->passed != (c == TAGGED ? frames : 0) ||
	    r->aborted != (c == CANCELED ? frames : 0) ||
	    r->aborted != r->consumed + r->lost) {
		fprintf(stderr, "dp_cost: %s: the source counted %llu passed, %llu aborted "
			"(%llu records consumed, %llu lost) for %llu frames run\n", case_name[c],
			r->passed, r->aborted, r->consumed, r->lost, frames);
		return -EPROTO;
	}
	r->value = bench_stat_of(val, runs);
	r->added = bench_stat_of(diff, runs).median;
	/* bench_stat_of sorts: keep the samples in a copy for the level's pool. */
	memcpy(diff, r->base_samples, sizeof(double) * runs);
	r->base = bench_stat_of(diff, runs);
	return 0;
}

static void report(const char *what, int fam, const struct result *r)
{
	fprintf(stderr, "  %-30s %s %7.1f ns/frame  (empty program %.1f, %+.1f)\n",
		what, fam_name[fam], r->value.median, r->base.median, r->added);
}

static int measure_case(struct bench *b, enum dp_case c, int fam, struct result *r)
{
	int err = own_rule(b, fam);

	if (!err && c == CANCELED)
		err = txdp_cancel(b->dp, TXC_SCOPE_ID, own_id(fam), 0, 0);
	if (!err)
		err = measure(b, c == UNTAGGED ? &b->untagged[fam] : &b->tagged[fam], c,
			      RING_THREAD, b->repeat, b->runs, r);
	if (c == CANCELED) {
		int e = txdp_clear(b->dp, TXC_SCOPE_ID, own_id(fam));

		err = err ?: e;
	}
	if (!err)
		report(case_name[c], fam, r);
	return err;
}

/*
 * The tagged frame with the stamp for txcancel's qdisc written, as while
 * some interface runs the qdisc (TXC_LOOKUP_QDISC): what the bit spares
 * every other time.
 */
static int measure_stamped(struct bench *b, int fam, struct result *r)
{
	struct txc_config cfg;
	int err, e;

	err = txdp_config_get(b->dp, &cfg);
	if (err)
		return err;
	cfg.lookups |= TXC_LOOKUP_QDISC;
	err = txdp_config_set(b->dp, &cfg) ?: own_rule(b, fam);
	if (!err)
		err = measure(b, &b->tagged[fam], TAGGED, RING_THREAD, b->repeat, b->runs, r);
	cfg.lookups &= ~TXC_LOOKUP_QDISC;
	e = txdp_config_set(b->dp, &cfg);
	err = err ?: e;
	if (!err)
		report("tagged, stamped for the qdisc", fam, r);
	return err;
}

/*
 * Where a canceled frame's time goes, at level 0:
 *  - RING_NONE: the source has no ring, the record is counted lost: no
 *    reserve, no write, no wakeup;
 *  - RING_BETWEEN_RUNS: runs of half a ring of frames, drained between runs,
 *    so every record is written and only a run's first record wakes the
 *    (absent) reader: the write without the wakeups.
 */
static int measure_canceled_diag(struct bench *b, int fam, enum ring_mode ring, struct result *r)
{
	/* A record takes 8 bytes of ring header + 96, rounded to 8. */
	__u32 fit = txdp_ring_bytes(b->dp) / 2 / (8 + sizeof(struct txc_abort_record));
	__u32 repeat = ring == RING_BETWEEN_RUNS && fit < b->repeat ? fit : b->repeat;
	int runs = ring == RING_BETWEEN_RUNS ? b->diag_runs : b->runs;
	int err = 0, fd;

	if (ring == RING_NONE)
		err = txdp_ring_remove(b->dp, SOURCE);
	if (!err)
		err = own_rule(b, fam);
	if (!err)
		err = txdp_cancel(b->dp, TXC_SCOPE_ID, own_id(fam), 0, 0);
	if (!err)
		err = measure(b, &b->tagged[fam], CANCELED, ring, repeat, runs, r);
	if (!err)
		err = txdp_clear(b->dp, TXC_SCOPE_ID, own_id(fam));
	if (ring == RING_NONE) {
		/* Give the source its ring back for the cases that follow. */
		fd = txdp_ring_open(b->dp, SOURCE);
		if (fd < 0)
			return err ?: fd;
		close(fd);
	}
	if (!err)
		report(ring == RING_NONE ? "canceled, no ring" :
		       ring == RING_WOKEN ? "canceled, reader woken per record" :
		       "canceled, drained between runs", fam, r);
	return err;
}

/*
 * D2 with the frame's bytes in each record (its source's capture length
 * 64: the whole frame), as a subscriber of `txcancel watch -w` asks: the
 * record goes through a per-CPU buffer and bpf_ringbuf_output().
 */
static int measure_canceled_capture(struct bench *b, int fam, struct result *r)
{
	int err = txdp_set_source_caplen(b->dp, SOURCE, CAPTURE_BYTES);

	if (!err)
		err = own_rule(b, fam);
	if (!err)
		err = txdp_cancel(b->dp, TXC_SCOPE_ID, own_id(fam), 0, 0);
	if (!err)
		err = measure(b, &b->tagged[fam], CANCELED, RING_THREAD, b->repeat, b->runs, r);
	if (!err)
		err = txdp_clear(b->dp, TXC_SCOPE_ID, own_id(fam));
	err = err ?: txdp_set_source_caplen(b->dp, SOURCE, 0);
	if (!err)
		report("canceled, 64 bytes captured", fam, r);
	return err;
}

/*
 * D1 for the rules only TC has: the untagged frame while a mark, a socket
 * (not the frame's) and a cgroup (not the frame's) rule are in force, and
 * the frame tagged by its own socket (the test run's dummy socket, tagged
 * by a prelude).  Measured before any flow rule exists; every rule and
 * lookup bit is removed afterwards.
 */
static int measure_skb_rules(struct bench *b)
{
	struct txc_tag tag = { .cancel_id = TXC_ID_MAKE(5, 100), .source = SOURCE };
	struct txc_config none = {};
	__u32 mark = OTHER_MARK;
	__u64 cgroup = OTHER_CGROUP;
	int tc_fd = b->tc_fd, empty_fd = b->empty_fd;
	int err, fam, other = socket(AF_INET, SOCK_DGRAM, 0);

	if (other < 0)
		return -errno;
	err = txdp_set_mark_mask(b->dp, MARK_MASK);
	if (!err)
		err = txdp_tag_add(b->dp, TXC_TAG_MARK, &mark, &tag);
	if (!err)
		err = txdp_tag_add(b->dp, TXC_TAG_CGROUP, &cgroup, &tag);
	if (!err)
		err = txdp_sock_tag(b->dp, other, &tag);
	for (fam = 0; fam < NFAM && !err; fam++) {
		err = measure(b, &b->untagged[fam], UNTAGGED, RING_THREAD, b->repeat, b->runs,
			      &skb_rules[fam]);
		if (!err)
			report("untagged, mark+socket+cgroup rules", fam, &skb_rules[fam]);
	}
	/* Where that time goes: one lookup at a time (the rules stay in place). */
	for (int only = 0; only < 2 && !err; only++) {
		struct txc_config cfg;

		err = txdp_config_get(b->dp, &cfg);
		cfg.lookups = only ? TXC_LOOKUP_CGROUP : TXC_LOOKUP_SOCKET;
		if (!err)
			err = txdp_config_set(b->dp, &cfg);
		for (fam = 0; fam < NFAM && !err; fam++) {
			struct result *r = only ? &cg_only[fam] : &sk_only[fam];

			err = measure(b, &b->untagged[fam], UNTAGGED, RING_THREAD, b->repeat,
				      b->runs, r);
			if (!err)
				report(only ? "untagged, cgroup lookup only" :
				       "untagged, socket lookup only", fam, r);
		}
	}
	if (!err)
		err = txdp_config_set(b->dp, &(struct txc_config){ .mark_mask = MARK_MASK,
			.lookups = TXC_LOOKUP_MARK | TXC_LOOKUP_SOCKET | TXC_LOOKUP_CGROUP });
	/* The dummy socket's tag: own ID, under the current generations. */
	b->helpers->bss->dummy_sk_tag = (struct txc_sk_tag){ .tag = tag };
	if (!err) {
		int gens = txdp_map_fd(b->dp, TXDP_MAP_LEASE_GENS);
		__u32 slot = TXC_ID_PREFIX(tag.cancel_id);

		if (bpf_map_lookup_elem(gens, &slot, &b->helpers->bss->dummy_sk_tag.prefix_gen))
			err = -errno;
		slot = TXC_GEN_SOURCE(tag.source);
		if (!err &&
		    bpf_map_lookup_elem(gens, &slot, &b->helpers->bss->dummy_sk_tag.source_gen))
			err = -errno;
	}
	b->tc_fd = bpf_program__fd(b->helpers->progs.sk_tagged_txc);
	b->empty_fd = bpf_program__fd(b->helpers->progs.sk_tagged_empty);
	for (fam = 0; fam < NFAM && !err; fam++) {
		err = measure(b, &b->untagged[fam], TAGGED, RING_THREAD, b->repeat, b->runs,
			      &sk_tagged[fam]);
		if (!err)
			report("socket-tagged (prelude)", fam, &sk_tagged[fam]);
	}
	b->tc_fd = tc_fd;
	b->empty_fd = empty_fd;
	txdp_tag_del(b->dp, TXC_TAG_MARK, &mark);
	txdp_tag_del(b->dp, TXC_TAG_CGROUP, &cgroup);
	close(other);
	return err ?: txdp_config_set(b->dp, &none);
}

/* Slots of the preludes' tail calls: txcancel's program, the empty one. */
static int preludes_setup(struct bench *b)
{
	int fd = bpf_map__fd(b->helpers->maps.dp_progs);
	__u32 slot = 0;
	int prog = b->tc_fd;

	if (bpf_map_update_elem(fd, &slot, &prog, BPF_ANY))
		return -errno;
	slot = 1;
	prog = b->empty_fd;
	return bpf_map_update_elem(fd, &slot, &prog, BPF_ANY) ? -errno : 0;
}

static int run_level(struct bench *b, int l)
{
	const struct level *lv = &b->levels[l];
	int err, c, fam;

	err = fill_rules(b, lv->rules - 1);
	if (!err)
		err = fill_cancels(b, lv->cancels ? lv->cancels - 1 : 0);
	if (err)
		return err;
	fprintf(stderr, "dp_cost: %u flow rules, %u other ID cancels\n", lv->rules,
		b->filler_cancels);
	/* Case by case: no canceled case turns the ID lookup on before a tagged one. */
	for (c = 0; c < NCASES; c++)
		for (fam = 0; fam < NFAM; fam++) {
			err = measure_case(b, c, fam, &res[l][c][fam]);
			if (err)
				return err;
		}
	if (l == 0)
		for (fam = 0; fam < NFAM; fam++) {
			err = measure_stamped(b, fam, &stamped[fam]);
			if (!err)
				err = measure_canceled_diag(b, fam, RING_NONE, &no_ring[fam]);
			if (!err)
				err = measure_canceled_diag(b, fam, RING_BETWEEN_RUNS,
							    &between_runs[fam]);
			if (!err)
				err = measure_canceled_diag(b, fam, RING_WOKEN, &woken[fam]);
			if (!err)
				err = measure_canceled_capture(b, fam, &captured[fam]);
			if (err)
				return err;
		}
	return 0;
}

int main(int argc, char **argv)
{
	struct txdp_opts dp_opts = {};
	struct bench b = { .own = -1 };
	bool quick = bench_quick(argc, argv);
	char pin_dir[64];
	int err, fam, l;

	b.levels = quick ? quick_levels : full_levels;
	b.repeat = quick ? 10000 : 1000000;
	b.runs = quick ? 3 : 5;
	b.diag_runs = quick ? 3 : 51;

	snprintf(pin_dir, sizeof(pin_dir), "/sys/fs/bpf/txc-bench-dp-%d", getpid());
	dp_opts.pin_dir = pin_dir;
	err = txdp_open(&b.dp, &dp_opts);
	if (err) {
		fprintf(stderr, "dp_cost: loading the datapath: %s\n", strerror(-err));
		return 1;
	}
	/* Nothing pinned outlives this process, however it ends: the fds hold the maps. */
	txdp_unpin(b.dp);
	b.helpers = helpers__open();
	err = b.helpers ? 0 : -errno;
	/* The preludes tag the dummy socket in txcancel's own socket storage. */
	if (!err)
		err = bpf_map__reuse_fd(b.helpers->maps.dp_sk_tags,
					txdp_map_fd(b.dp, TXDP_MAP_SK_TAGS));
	if (!err)
		err = helpers__load(b.helpers);
	if (err) {
		fprintf(stderr, "dp_cost: loading the empty program: %s\n", strerror(-err));
		goto out;
	}
	b.tc_fd = txdp_prog_fd(b.dp, TXDP_PROG_TC_EGRESS);
	b.empty_fd = bpf_program__fd(b.helpers->progs.empty_tc);
	err = preludes_setup(&b);
	if (err) {
		fprintf(stderr, "dp_cost: filling the preludes' program array: %s\n",
			strerror(-err));
		goto out;
	}
	b.flow_fd = txdp_map_fd(b.dp, TXDP_MAP_FLOW_RULES);
	b.cancels_fd = txdp_map_fd(b.dp, TXDP_MAP_ID_CANCELS);
	for (fam = 0; fam < NFAM; fam++) {
		build_frame(&b.tagged[fam], fam, 40000);
		build_frame(&b.untagged[fam], fam, 40001);
	}
	fprintf(stderr, "dp_cost: BPF_PROG_TEST_RUN, 64-byte UDP frames, repeat %u, %d runs "
		"paired with the empty TC program%s\n", b.repeat, b.runs, quick ? " (quick)" : "");

	/* Before any rule exists: the flow lookup is still off. */
	for (fam = 0; fam < NFAM && !err; fam++) {
		err = measure(&b, &b.untagged[fam], UNTAGGED, RING_THREAD, b.repeat, b.runs,
			      &no_rules[fam]);
		if (!err)
			report("untagged, no rule", fam, &no_rules[fam]);
	}
	if (!err)
		err = measure_skb_rules(&b);
	for (l = 0; l < NLEVELS && !err; l++)
		err = run_level(&b, l);
	if (err)
		goto out;

	emit_d1(&b);
	emit_d2(&b);
	emit_d3(&b);
	err = write_dat(&b);
out:
	if (err)
		fprintf(stderr, "dp_cost: could not measure: %s\n", strerror(-err));
	helpers__destroy(b.helpers);
	txdp_close(b.dp);
	return err ? 1 : 0;
}
