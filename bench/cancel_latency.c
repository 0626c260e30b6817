// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * C1: cancel latency, from the cancel request leaving the client to the
 * first frame of that ID dropped, against `nft add element`.
 *
 * A private txcanceld (tests/daemon_fixture) manages the sender's end of a
 * veth pair between two namespaces.  A libtxcancel client holds a prefix
 * and a source, is subscribed to the source's completions and tags its UDP
 * socket with one ID; a sender thread keeps sending frames on that socket
 * at a steady, bounded pace.  The sink in the other namespace never reads:
 * once its buffer is full the frames are dropped at its socket, which is
 * all the sink has to do here.
 *
 * Each sample: t0 = CLOCK_MONOTONIC just before the cancel request is sent;
 * the drop time is the tstamp_ns of the first abort record of the ID with
 * tstamp_ns >= t0 (bpf_ktime_get_ns, the same clock), as the client
 * receives it; latency = tstamp_ns - t0.  Then the ID is cleared and the
 * next sample starts.  Records of an earlier sample all carry a tstamp_ns
 * before its clear was answered, so before the next t0.
 *
 * Resolution: the drop happens at the first frame the program sees after
 * the map update, so a sample overstates the latency by up to one frame
 * interval of the sender (and more when the sender thread is preempted).
 * The achieved interval is printed in the note.
 *
 * Baseline, in the same run and under the same load: the time of one
 * `nft add element` (fork, setns into the sender's namespace, exec of nft,
 * exit) on a table there whose output chain drops the set's marks; one
 * sample every few cancels, interleaved with them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "txcancel/txcancel.h"
#include "benchlib.h"
#include "daemon_fixture.h"
#include "netns.h"

#define IF_A		"c1a"
#define IF_B		"c1b"
#define ADDR_A		"198.18.62.1"
#define ADDR_B		"198.18.62.2"
#define SPORT		7702
#define DPORT		6702
#define PAYLOAD_LEN	64
#define INTERVAL_NS	2000ull		/* the sender's pace: one datagram per 2 us at most */
#define SEND_MAX_S	120		/* the sender never runs longer than this */
#define FIRST_DROP_MS	1000		/* longest a sample waits for its first abort record */
#define BLOCKS		5		/* the samples are split in blocks: the "runs" of a row */
#define NFT_TABLE	"txc_c1"
#define NFT_MARK_BASE	100000		/* marks added to the nft set; the traffic has mark 0 */

struct params {
	int cancels;
	int nft_samples;
};

static struct bed {
	char a[FX_NAME_MAX], b[FX_NAME_MAX];
	struct txct_daemon d;
	struct txc_client *c;
	__u32 id, source;
	int tx, rx;
	struct bench_loop sender;
	/* Written by the sender thread. */
	atomic_long sent;
	atomic_ullong send_start, send_end;
	atomic_int send_err;
} bed = { .tx = -1, .rx = -1 };

/* --- the sender ----------------------------------------------------------- */

static void *sender_main(void *arg)
{
	static const char payload[PAYLOAD_LEN] = "txcancel C1 frame";
	struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons(DPORT) };
	__u64 start = bench_now_ns(), next = start, now;
	__u64 limit = start + SEND_MAX_S * 1000000000ull;
	long sent = 0;

	(void)arg;
	inet_pton(AF_INET, ADDR_B, &dst.sin_addr);
	atomic_store(&bed.send_start, start);
	while (!bench_loop_stopping(&bed.sender)) {
		/* Spin to the next slot: a sleep would be far coarser than the pace. */
		while ((now = bench_now_ns()) < next)
			;
		if (now > limit)
			break;
		/* Behind (preempted): no burst to catch up, just the next frame. */
		next = (now - next > INTERVAL_NS ? now : next) + INTERVAL_NS;
		if (sendto(bed.tx, payload, sizeof(payload), 0, (struct sockaddr *)&dst,
			   sizeof(dst)) < 0) {
			/* A frame dropped at the egress hook reports ENOBUFS: it was sent. */
			if (errno == EAGAIN || errno == EINTR)
				continue;
			if (errno != ENOBUFS && errno != EPERM) {
				atomic_store(&bed.send_err, errno);
				break;
			}
		}
		atomic_store_explicit(&bed.sent, ++sent, memory_order_relaxed);
	}
	atomic_store(&bed.send_end, bench_now_ns());
	return NULL;
}

/* --- the testbed ---------------------------------------------------------- */

static int nft_table_create(void)
{
	return fx_run("ip netns exec %s nft 'add table ip " NFT_TABLE "; "
		      "add set ip " NFT_TABLE " ids { type mark; size 65536; }; "
		      "add chain ip " NFT_TABLE " out { type filter hook output priority 0; "
		      "policy accept; }; "
		      "add rule ip " NFT_TABLE " out meta mark @ids drop'", bed.a);
}

static int bed_up(void)
{
	const char *const args[] = { "-i", IF_A, "-l", "warn", NULL };
	__u8 prefix;
	int err;

	if ((err = ns_create(bed.a, "c1-tx")) || (err = ns_create(bed.b, "c1-rx")) ||
	    (err = veth_link(bed.a, IF_A, ADDR_A, bed.b, IF_B, ADDR_B, 24, NULL)) ||
	    (err = nft_table_create()))
		return err;
	bed.tx = udp_open(bed.a, ADDR_A, SPORT);
	bed.rx = udp_open(bed.b, ADDR_B, DPORT);
	if (bed.tx < 0 || bed.rx < 0)
		return bed.tx < 0 ? bed.tx : bed.rx;

	err = txct_daemon_start(&bed.d, bed.a, args);
	if (err)
		return err;
	err = txc_client_open(&bed.c, bed.d.sock);
	if (err) {
		fprintf(stderr, "cancel_latency: connecting to txcanceld: %s\n", txc_last_error());
		return err;
	}
	if ((err = txc_generate_partial_cancel_id(bed.c, &prefix)) ||
	    (err = txc_source_open(bed.c, &bed.source)))
		goto client_err;
	bed.id = TXC_ID_MAKE(prefix, 1);
	err = txc_tag_socket(bed.c, bed.tx, bed.id, bed.source, NULL);
	if (err)
		goto client_err;

	err = bench_loop_start(&bed.sender, sender_main, NULL);
	if (err)
		fprintf(stderr, "cancel_latency: starting the sender: %s\n", strerror(-err));
	return err;

client_err:
	fprintf(stderr, "cancel_latency: %s\n", txc_client_error(bed.c));
	return err;
}

static void bed_down(void)
{
	bench_loop_stop(&bed.sender);
	txc_client_close(bed.c);
	bed.c = NULL;
	if (bed.d.pid > 0 && txct_daemon_stop(&bed.d))
		txct_daemon_dump_log(&bed.d);
	txct_daemon_cleanup(&bed.d);
	if (bed.tx >= 0)
		close(bed.tx);
	if (bed.rx >= 0)
		close(bed.rx);
	bed.tx = bed.rx = -1;
	/* The namespaces, and the nft table with them, go in fx_cleanup(). */
}

/* --- one txcancel sample -------------------------------------------------- */

struct first_drop {
	__u32 id;
	__u64 t0;
	__u64 tstamp;		/* earliest record at or after t0; 0: none yet */
	long records;		/* every record handed out, for the note */
};

static void on_completions(void *ctx, const struct txc_ev_completions *ev,
			   const struct txc_abort_record *recs)
{
	struct first_drop *f = ctx;

	for (__u32 i = 0; i < ev->count; i++) {
		f->records++;
		if (recs[i].cancel_id != f->id || recs[i].tstamp_ns < f->t0)
			continue;
		if (!f->tstamp || recs[i].tstamp_ns < f->tstamp)
			f->tstamp = recs[i].tstamp_ns;
	}
}

struct cancel_sample {
	double latency_us;	/* first drop - t0 */
	double request_us;	/* reply received - t0 */
	double map_us;		/* the daemon's since_ns (map updated) - t0 */
};

static long total_records;

/* 0 with @s filled, 1 if no frame was dropped in time (a miss), or -errno. */
static int cancel_once(struct cancel_sample *s)
{
	struct first_drop f = { .id = bed.id };
	__u64 since = 0, t_rep, deadline;
	int n, err;

	f.t0 = bench_now_ns();
	err = txc_cancel(bed.c, TXC_SCOPE_ID, bed.id, NULL, 0, &since);
	t_rep = bench_now_ns();
	if (err) {
		fprintf(stderr, "cancel_latency: cancel: %s\n", txc_client_error(bed.c));
		return err;
	}
	deadline = f.t0 + FIRST_DROP_MS * 1000000ull;
	/* Completions that came with the reply are handed out first, without waiting. */
	n = txc_read_completions(bed.c, on_completions, &f, 0);
	while (n >= 0 && !f.tstamp && bench_now_ns() < deadline)
		n = txc_read_completions(bed.c, on_completions, &f, 10);
	total_records += f.records;
	if (n < 0) {
		fprintf(stderr, "cancel_latency: reading completions: %s\n",
			txc_client_error(bed.c));
		return n;
	}
	err = txc_clear(bed.c, TXC_SCOPE_ID, bed.id, NULL);
	if (err) {
		fprintf(stderr, "cancel_latency: clear: %s\n", txc_client_error(bed.c));
		return err;
	}
	if (!f.tstamp)
		return 1;
	s->latency_us = (double)(f.tstamp - f.t0) / 1e3;
	s->request_us = (double)(t_rep - f.t0) / 1e3;
	s->map_us = (double)((long long)(since - f.t0)) / 1e3;
	return 0;
}

/* --- one nft sample ------------------------------------------------------- */

static int nft_once(int k, double *us)
{
	char path[96], elem[32];
	__u64 t0, t1;
	int status, fd;
	pid_t pid;

	snprintf(path, sizeof(path), "/run/netns/%s", bed.a);
	snprintf(elem, sizeof(elem), "{ %d }", NFT_MARK_BASE + k);
	t0 = bench_now_ns();
	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || setns(fd, CLONE_NEWNET))
			_exit(126);
		execlp("nft", "nft", "add", "element", "ip", NFT_TABLE, "ids", elem, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid)
		return -errno;
	t1 = bench_now_ns();
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "cancel_latency: nft add element %s in %s failed (status %d%s)\n",
			elem, bed.a, WIFEXITED(status) ? WEXITSTATUS(status) : -1,
			WIFEXITED(status) && WEXITSTATUS(status) == 127 ? ": no nft binary" : "");
		return -EIO;
	}
	*us = (double)(t1 - t0) / 1e3;
	return 0;
}

/* --- reporting ------------------------------------------------------------ */

static int write_samples(const char *name, const double *v, int n)
{
	char path[512];
	FILE *f = fopen(bench_out_path(name, path, sizeof(path)), "w");
	int i;

	if (!f) {
		fprintf(stderr, "cancel_latency: writing %s: %s\n", path, strerror(errno));
		return -errno;
	}
	for (i = 0; i < n; i++)
		fprintf(f, "%.3f\n", v[i]);
	if (fclose(f)) {
		fprintf(stderr, "cancel_latency: writing %s: %s\n", path, strerror(errno));
		return -EIO;
	}
	return 0;
}

static double pct(const double *v, int n, double p)
{
	double *tmp = malloc(n * sizeof(*tmp));
	double r;

	if (!tmp)
		return NAN;
	memcpy(tmp, v, n * sizeof(*tmp));
	bench_sort(tmp, n);
	r = bench_percentile(tmp, n, p);
	free(tmp);
	return r;
}

/*
 * Percentile @p of all of @v as the value, and as its spread the lowest and
 * highest of that percentile over BLOCKS consecutive blocks of the samples.
 */
static struct bench_stat block_stat(const double *v, int n, double p)
{
	struct bench_stat st = { .median = pct(v, n, p), .min = NAN, .max = NAN, .runs = 1 };
	int b, len = n / BLOCKS;

	if (len < 1) {
		st.min = st.max = st.median;
		return st;
	}
	for (b = 0; b < BLOCKS; b++) {
		double x = pct(v + b * len, b == BLOCKS - 1 ? n - b * len : len, p);

		st.min = b ? fmin(st.min, x) : x;
		st.max = b ? fmax(st.max, x) : x;
	}
	st.runs = BLOCKS;
	return st;
}

static void emit(const char *name, double p, const double *lat, int n, const double *nft,
		 int n_nft, const char *note)
{
	struct bench_row row = {
		.figure = "C1",
		.name = name,
		.unit = "us",
		.value = block_stat(lat, n, p),
		.has_baseline = true,
		.baseline_name = "nft add element (one element, fork+exec), p50",
		.baseline = block_stat(nft, n_nft, 50),
		.has_ratio = true,
		.ratio_name = "nft p50 / txcancel",
		.target = "p50 >= 50x faster than nft",
		.met = -1,
		.note = note,
	};

	row.ratio = row.baseline.median / row.value.median;
	/* The target speaks of the median; p99 and max are stated. */
	if (p == 50)
		row.met = row.ratio >= 50;
	bench_emit(&row);
}

/* Every sample of one run: latencies and their parts in us, nft's in us. */
struct samples {
	double *lat, *req, *map, *wait, *nft;
	int n, n_nft, misses;
};

/* p->cancels cancels, with p->nft_samples nft commands spread among them. */
static int take_samples(const struct params *p, struct samples *sm)
{
	int every = p->cancels / p->nft_samples, i, err = 0;
	struct cancel_sample s;

	for (i = 0; !err && i < p->cancels; i++) {
		if (i % every == every / 2 && sm->n_nft < p->nft_samples) {
			err = nft_once(sm->n_nft, &sm->nft[sm->n_nft]);
			if (err)
				break;
			sm->n_nft++;
		}
		err = cancel_once(&s);
		if (err == 1) {
			sm->misses++;
			err = 0;
			continue;
		}
		if (err)
			break;
		sm->lat[sm->n] = s.latency_us;
		sm->req[sm->n] = s.request_us;
		sm->map[sm->n] = s.map_us;
		sm->wait[sm->n] = s.latency_us - s.map_us;
		sm->n++;
	}
	return err;
}

static void emit_rows(const struct samples *sm, const struct txc_ev_completions *acct,
		      long sent, double interval_ns)
{
	const double *lat = sm->lat, *req = sm->req, *map = sm->map, *wait = sm->wait;
	const double *nft = sm->nft;
	int n = sm->n, n_nft = sm->n_nft;
	char note[1280];

	snprintf(note, sizeof(note),
		 "%d cancels (%d without a drop within %d ms), %d nft samples interleaved; "
		 "t0 before the request, drop = first abort record's tstamp_ns; request round "
		 "trip (reply received) p50 %.1f p99 %.1f us; request to map updated (daemon's "
		 "since_ns) p50 %.1f p99 %.1f us; map updated to first drop (waiting for the "
		 "sender's next frame) p50 %.1f p99 %.1f us; sender pace %llu ns, achieved %.0f ns per frame (%ld frames): a "
		 "sample overstates by up to one frame interval, more when the sender is "
		 "preempted; %ld abort records received (source account: %llu aborted, "
		 "%llu delivered, %llu lost in the ring, %llu in the backlog); value = percentile of all samples, "
		 "min/max = its range over %d blocks; txcancel p50 %.1f p99 %.1f max %.1f us, "
		 "nft p50 %.0f us",
		 n, sm->misses, FIRST_DROP_MS, n_nft, pct(req, n, 50), pct(req, n, 99),
		 pct(map, n, 50), pct(map, n, 99), pct(wait, n, 50), pct(wait, n, 99), INTERVAL_NS,
		 interval_ns, sent, total_records, (unsigned long long)acct->aborted,
		 (unsigned long long)acct->delivered, (unsigned long long)acct->ring_lost,
		 (unsigned long long)acct->backlog_lost, BLOCKS, pct(lat, n, 50), pct(lat, n, 99),
		 pct(lat, n, 100), pct(nft, n_nft, 50));
	emit("cancel -> first frame dropped, p50", 50, lat, n, nft, n_nft, note);
	emit("cancel -> first frame dropped, p99", 99, lat, n, nft, n_nft, note);
	emit("cancel -> first frame dropped, max", 100, lat, n, nft, n_nft, note);
}

int main(int argc, char **argv)
{
	struct params p = { .cancels = 10000, .nft_samples = 50 };
	struct samples sm = {};
	struct txc_ev_completions acct;
	double interval_ns;
	int i, err = 0;
	long sent;

	if (bench_quick(argc, argv))
		p = (struct params){ .cancels = 200, .nft_samples = 5 };
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quick")) {
			fprintf(stderr, "cancel_latency: unknown argument '%s'; usage: "
				"cancel_latency [--quick]\n", argv[i]);
			return 2;
		}
	}
	if (geteuid() != 0) {
		fprintf(stderr, "cancel_latency: needs root (namespaces, veth, BPF, nftables)\n");
		return 1;
	}
	sm.lat = calloc(p.cancels, sizeof(*sm.lat));
	sm.req = calloc(p.cancels, sizeof(*sm.req));
	sm.map = calloc(p.cancels, sizeof(*sm.map));
	sm.wait = calloc(p.cancels, sizeof(*sm.wait));
	sm.nft = calloc(p.nft_samples, sizeof(*sm.nft));
	if (!sm.lat || !sm.req || !sm.map || !sm.wait || !sm.nft || fx_init())
		return 1;
	fprintf(stderr, "cancel_latency: %d cancels, %d nft samples, sender pace %llu ns\n",
		p.cancels, p.nft_samples, INTERVAL_NS);
	err = bed_up();
	/* Let the sender run before the first sample. */
	if (!err)
		usleep(20000);
	if (!err)
		err = take_samples(&p, &sm);
	bench_loop_stop(&bed.sender);
	/* A lost record could hide a sample's first drop: say how many were lost. */
	if (bed.c && txc_source_account(bed.c, bed.source, &acct))
		acct = (struct txc_ev_completions){ 0 };
	sent = atomic_load(&bed.sent);
	interval_ns = sent ? (double)(atomic_load(&bed.send_end) -
				      atomic_load(&bed.send_start)) / (double)sent : NAN;
	if (atomic_load(&bed.send_err))
		fprintf(stderr, "cancel_latency: the sender stopped: %s\n",
			strerror(atomic_load(&bed.send_err)));
	bed_down();
	if (err || sm.n < p.cancels / 2 || sm.n_nft < 1) {
		fprintf(stderr, "cancel_latency: could not measure: %s (%d samples, %d misses, "
			"%d nft samples)\n", err ? strerror(-err) : "too many misses", sm.n,
			sm.misses, sm.n_nft);
		return 1;
	}
	if (write_samples("c1_txcancel_us.dat", sm.lat, sm.n) ||
	    write_samples("c1_nft_us.dat", sm.nft, sm.n_nft))
		return 1;
	emit_rows(&sm, &acct, sent, interval_ns);
	return 0;
}
