// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * C2, cancel throughput through txcanceld, beside nftables in the same run.
 *
 *  single   one client holding a prefix and a source cancels and clears
 *           IDs one request at a time, each waiting for its reply:
 *           requests/s.  Then two clients (two threads, one connection
 *           and prefix each) share as many requests, issued at the same
 *           time: their aggregate requests/s.
 *           Baseline: `nft add element`, one element per command.
 *  batched  N IDs canceled in batches of TXC_BATCH_MAX ops, then cleared
 *           the same way: IDs/s.  Baseline: `nft -f FILE` adding (then
 *           deleting) the same N elements in one file: elements/s.
 *
 * The daemon is a private one (tests/daemon_fixture.h) in a private network
 * namespace, with no interface: a cancel on every interface touches only
 * the maps.  The nft table lives in that namespace too.  Every nft sample
 * is a whole command (fork, exec, netlink, exit): that is what a user of
 * nftables pays for one change.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "benchlib.h"
#include "daemon_fixture.h"
#include "netns.h"
#include "txcancel/txcancel.h"

#define NFT_TABLE	"txcb"
#define NFT_SET		"ids"
#define MAX_CLIENTS	2

struct params {
	int runs;		/* runs of each txcancel measurement */
	int requests;		/* single requests per run, shared by the clients */
	int nft_samples;	/* `nft add element` commands */
	int batch_ids;		/* IDs per batched run */
	int nft_file_runs;	/* `nft -f` runs of batch_ids elements each */
};

static const struct params full = {
	.runs = 5, .requests = 100000, .nft_samples = 50, .batch_ids = 100000, .nft_file_runs = 5,
};
static const struct params quick = {
	.runs = 3, .requests = 2000, .nft_samples = 10, .batch_ids = 5000, .nft_file_runs = 3,
};

static char ns[FX_NAME_MAX];
static int ns_fd = -1;
static struct txct_daemon daemon_;

/* --- txcancel ------------------------------------------------------------- */

/*
 * The daemon's time in ns, from /proc/PID/schedstat of its one thread: on a
 * CPU, and runnable but waiting for one.  Where the time of a request goes,
 * beside the wall time the client sees; the wait shows what the other load
 * on the machine took.  Zero if unreadable.
 */
struct daemon_time {
	__u64 run;
	__u64 wait;
};

static struct daemon_time daemon_time(void)
{
	uint64_t run, wait;

	bench_schedstat(daemon_.pid, &run, &wait);
	return (struct daemon_time){ run, wait };
}

/* Microseconds per op of the daemon's run and wait between @a and @b. */
static void daemon_per_op(struct daemon_time a, struct daemon_time b, int ops, double *run,
			  double *wait)
{
	*run = (b.run - a.run) / 1e3 / ops;
	*wait = (b.wait - a.wait) / 1e3 / ops;
}

/* A connection holding what a real client holds: a prefix and a source. */
struct client {
	struct txc_client *c;
	__u8 prefix;
	__u32 source;
};

static int client_open(struct client *cl)
{
	int err;

	memset(cl, 0, sizeof(*cl));
	err = txc_client_open(&cl->c, daemon_.sock);
	if (err) {
		fprintf(stderr, "cancel_rate: connecting to txcanceld: %s\n", txc_last_error());
		return err;
	}
	err = txc_generate_partial_cancel_id(cl->c, &cl->prefix);
	if (!err)
		err = txc_source_open(cl->c, &cl->source);
	if (err) {
		fprintf(stderr, "cancel_rate: prefix or source: %s\n", txc_client_error(cl->c));
		txc_client_close(cl->c);
		cl->c = NULL;
	}
	return err;
}

/* @n requests, alternately cancel and clear of IDs 1, 2, ...; 0 or -errno. */
static int single_requests(struct client *cl, int n)
{
	for (int i = 0; i < n; i++) {
		__u32 id = TXC_ID_MAKE(cl->prefix, i / 2 + 1);
		int err = i % 2 ? txc_clear(cl->c, TXC_SCOPE_ID, id, NULL)
				: txc_cancel(cl->c, TXC_SCOPE_ID, id, NULL, 0, NULL);

		if (err) {
			fprintf(stderr, "cancel_rate: %s of %#x: %s\n", i % 2 ? "clear" : "cancel",
				id, txc_client_error(cl->c));
			return err;
		}
	}
	return 0;
}

#define ASYNC_DEPTH	32	/* requests in flight in the asynchronous row */

/*
 * The same @n single requests with up to ASYNC_DEPTH in flight
 * (txc_cancel_async / txc_clear_async), each reply collected and checked;
 * requests/s.
 */
static int async_rate(struct client *cl, int n, double *rate)
{
	__u64 t0 = bench_now_ns();
	int sent = 0, done = 0, err = 0;

	while (done < n && !err) {
		while (sent < n && sent - done < ASYNC_DEPTH && !err) {
			__u32 id = TXC_ID_MAKE(cl->prefix, sent / 2 + 1);

			err = sent % 2 ? txc_clear_async(cl->c, TXC_SCOPE_ID, id, NULL)
				       : txc_cancel_async(cl->c, TXC_SCOPE_ID, id, NULL, 0, NULL);
			sent++;
		}
		if (!err)
			err = txc_async_reply(cl->c, NULL);
		done++;
	}
	if (err) {
		fprintf(stderr, "cancel_rate: asynchronous request: %s\n",
			txc_client_error(cl->c));
		return err;
	}
	*rate = n / ((bench_now_ns() - t0) / 1e9);
	return 0;
}

/* One client's share of the requests of single_rate(). */
struct worker {
	struct client *cl;
	int n;
};

static int worker_run(void *arg)
{
	struct worker *w = arg;

	return single_requests(w->cl, w->n);
}

/*
 * Requests/s of @nclients clients sharing @n requests, issuing them at the
 * same time: all requests over the time from the common start to the last
 * one's end.
 */
static int single_rate(struct client *cls, int nclients, int n, double *rate)
{
	struct worker w[MAX_CLIENTS];
	struct bench_threads threads;
	uint64_t t0, end;
	int err;

	for (int i = 0; i < nclients; i++)
		w[i] = (struct worker){ .cl = &cls[i], .n = n / nclients };
	bench_threads_start(&threads, nclients, worker_run, w, sizeof(w[0]));
	t0 = bench_now_ns();
	bench_threads_go(&threads);
	err = bench_threads_join(&threads, &end);
	*rate = (double)nclients * (n / nclients) / ((end - t0) / 1e9);
	return err;
}

/* Cancel (@cancel) or clear IDs 1..@n of @cl's prefix in full batches; IDs/s. */
static int batched_rate(struct client *cl, struct txc_batch *b, int n, bool cancel,
			double *rate)
{
	__u64 t0 = bench_now_ns();

	for (int first = 0; first < n; first += TXC_BATCH_MAX) {
		int count = n - first < (int)TXC_BATCH_MAX ? n - first : (int)TXC_BATCH_MAX;
		__u32 failed = 0;
		int err;

		txc_batch_reset(b);
		for (int i = first; i < first + count; i++) {
			__u32 id = TXC_ID_MAKE(cl->prefix, i + 1);

			err = cancel ? txc_batch_cancel(b, TXC_SCOPE_ID, id, NULL, 0)
				     : txc_batch_clear(b, TXC_SCOPE_ID, id);
			if (err) {
				fprintf(stderr, "cancel_rate: adding op %d to a batch: %s\n", i,
					strerror(-err));
				return err;
			}
		}
		err = txc_batch_submit(cl->c, b, &failed);
		if (err != count) {
			fprintf(stderr, "cancel_rate: batch of %d %s: %d applied, op %u: %s\n",
				count, cancel ? "cancels" : "clears", err, failed,
				txc_client_error(cl->c));
			return err < 0 ? err : -EIO;
		}
	}
	*rate = n / ((bench_now_ns() - t0) / 1e9);
	return 0;
}

/* --- nftables ------------------------------------------------------------- */

/*
 * Run nft with @argv in the private namespace and wait for it; *secs is the
 * whole command's wall time.  Its stdout is discarded, its stderr shown.
 */
static int nft_run(const char *const *argv, double *secs)
{
	__u64 t0 = bench_now_ns();
	int status;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		if (setns(ns_fd, CLONE_NEWNET))
			_exit(126);
		if (null >= 0)
			dup2(null, STDOUT_FILENO);
		execvp("nft", (char *const *)argv);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	if (secs)
		*secs = (bench_now_ns() - t0) / 1e9;
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "cancel_rate: `nft %s %s ...` failed (status %#x%s)\n", argv[1],
			argv[2] ? argv[2] : "", status,
			WIFEXITED(status) && WEXITSTATUS(status) == 127 ? ": nft not found" : "");
		return -EIO;
	}
	return 0;
}

static int nft_cmd(const char *cmd)
{
	const char *argv[] = { "nft", cmd, NULL };

	return nft_run(argv, NULL);
}

static int nft_setup(void)
{
	return nft_cmd("add table inet " NFT_TABLE) ?:
	       nft_cmd("add set inet " NFT_TABLE " " NFT_SET " { type mark; size 1048576; }");
}

/* One `nft add element` per sample: commands/s of each. */
static int nft_single(int samples, double *rates)
{
	for (int i = 0; i < samples; i++) {
		char elem[64];
		const char *argv[] = { "nft", "add", "element", "inet", NFT_TABLE, NFT_SET,
				       elem, NULL };
		double secs;
		int err;

		snprintf(elem, sizeof(elem), "{ %#x }", TXC_ID_MAKE(1, i + 1));
		err = nft_run(argv, &secs);
		if (err)
			return err;
		rates[i] = 1.0 / secs;
	}
	return nft_cmd("flush set inet " NFT_TABLE " " NFT_SET);
}

/* A file that adds or deletes elements 1..@n (under prefix 1) in one command. */
static int nft_file_write(const char *path, const char *verb, int n)
{
	FILE *f = fopen(path, "w");

	if (!f) {
		fprintf(stderr, "cancel_rate: %s: %s\n", path, strerror(errno));
		return -errno;
	}
	fprintf(f, "%s element inet %s %s {", verb, NFT_TABLE, NFT_SET);
	for (int i = 0; i < n; i++)
		fprintf(f, "%s %#x", i ? "," : "", TXC_ID_MAKE(1, i + 1));
	fprintf(f, " }\n");
	if (fclose(f)) {
		fprintf(stderr, "cancel_rate: writing %s: %s\n", path, strerror(errno));
		return -EIO;
	}
	return 0;
}

/* `nft -f` adding, then deleting, @n elements: elements/s of each, per run. */
static int nft_file(int n, int runs, double *add, double *del)
{
	char add_path[128], del_path[128];
	const char *add_argv[] = { "nft", "-f", add_path, NULL };
	const char *del_argv[] = { "nft", "-f", del_path, NULL };
	double secs;
	int err;

	snprintf(add_path, sizeof(add_path), "%s/nft-add", daemon_.dir);
	snprintf(del_path, sizeof(del_path), "%s/nft-del", daemon_.dir);
	err = nft_file_write(add_path, "add", n) ?: nft_file_write(del_path, "delete", n);
	for (int r = 0; !err && r < runs; r++) {
		err = nft_run(add_argv, &secs);
		if (err)
			break;
		add[r] = n / secs;
		err = nft_run(del_argv, &secs);
		del[r] = n / secs;
	}
	unlink(add_path);
	unlink(del_path);
	return err;
}

/* --- rows ----------------------------------------------------------------- */

static double median(double *v, int n)
{
	return bench_stat_of(v, n).median;
}

static void emit(const char *name, const char *unit, double *v, int runs,
		 const char *base_name, double *base, int base_runs, double target,
		 const char *target_text, const char *note)
{
	struct bench_row row = {
		.figure = "C2", .name = name, .unit = unit, .target = target_text, .note = note,
	};

	row.value = bench_stat_of(v, runs);
	if (base_runs > 0) {
		row.has_baseline = true;
		row.baseline_name = base_name;
		row.baseline = bench_stat_of(base, base_runs);
		row.has_ratio = true;
		row.ratio = row.value.median / row.baseline.median;
		row.ratio_name = "txcancel / nft";
	}
	row.met = row.value.median >= target;
	bench_emit(&row);
}

/* Every run's figures, and how many nft baseline samples were taken. */
struct samples {
	double one[BENCH_MAX_SAMPLES], two[BENCH_MAX_SAMPLES], async[BENCH_MAX_SAMPLES];
	double cpu_async[BENCH_MAX_SAMPLES], wait_async[BENCH_MAX_SAMPLES];
	double b_cancel[BENCH_MAX_SAMPLES], b_clear[BENCH_MAX_SAMPLES];
	double nft_one[BENCH_MAX_SAMPLES], nft_add[BENCH_MAX_SAMPLES], nft_del[BENCH_MAX_SAMPLES];
	double cpu_one[BENCH_MAX_SAMPLES], cpu_two[BENCH_MAX_SAMPLES];
	double cpu_cancel[BENCH_MAX_SAMPLES], cpu_clear[BENCH_MAX_SAMPLES];
	double wait_one[BENCH_MAX_SAMPLES], wait_two[BENCH_MAX_SAMPLES];
	double wait_cancel[BENCH_MAX_SAMPLES], wait_clear[BENCH_MAX_SAMPLES];
	int nft_one_n, nft_file_n;
};

/* Single requests from 1 client, from 2 in parallel, and from 1 with several in flight. */
static int measure_single(struct client *cls, const struct params *p, struct samples *s)
{
	int r;

	fprintf(stderr, "cancel_rate: %d runs of %d single requests (cancel, clear, ...), "
		"1 client then 2 in parallel\n", p->runs, p->requests);
	for (r = 0; r < p->runs; r++) {
		struct daemon_time t0 = daemon_time(), t1, t2;

		if (single_rate(cls, 1, p->requests, &s->one[r]))
			return -1;
		t1 = daemon_time();
		if (single_rate(cls, 2, p->requests, &s->two[r]))
			return -1;
		t2 = daemon_time();
		daemon_per_op(t0, t1, p->requests, &s->cpu_one[r], &s->wait_one[r]);
		daemon_per_op(t1, t2, p->requests, &s->cpu_two[r], &s->wait_two[r]);
		if (async_rate(&cls[0], p->requests, &s->async[r]))
			return -1;
		daemon_per_op(t2, daemon_time(), p->requests, &s->cpu_async[r],
			      &s->wait_async[r]);
		fprintf(stderr, "  run %d: 1 client %.0f requests/s, 2 clients %.0f requests/s, "
			"1 client with %d in flight %.0f requests/s; daemon on CPU %.2f / %.2f "
			"/ %.2f us, waiting for one %.2f / %.2f / %.2f us per request\n", r + 1,
			s->one[r], s->two[r], ASYNC_DEPTH, s->async[r], s->cpu_one[r],
			s->cpu_two[r], s->cpu_async[r], s->wait_one[r], s->wait_two[r],
			s->wait_async[r]);
	}
	return 0;
}

/* Batched cancels, then the same IDs cleared. */
static int measure_batched(struct client *cls, struct txc_batch *batch, const struct params *p,
			   struct samples *s)
{
	int r;

	fprintf(stderr, "cancel_rate: %d runs of %d IDs in batches of %u: cancel, then clear\n",
		p->runs, p->batch_ids, TXC_BATCH_MAX);
	for (r = 0; r < p->runs; r++) {
		struct daemon_time t0 = daemon_time(), t1, t2;

		if (batched_rate(&cls[0], batch, p->batch_ids, true, &s->b_cancel[r]))
			return -1;
		t1 = daemon_time();
		if (batched_rate(&cls[0], batch, p->batch_ids, false, &s->b_clear[r]))
			return -1;
		t2 = daemon_time();
		daemon_per_op(t0, t1, p->batch_ids, &s->cpu_cancel[r], &s->wait_cancel[r]);
		daemon_per_op(t1, t2, p->batch_ids, &s->cpu_clear[r], &s->wait_clear[r]);
		fprintf(stderr, "  run %d: cancel %.0f IDs/s, clear %.0f IDs/s; daemon on CPU "
			"%.2f / %.2f us, waiting for one %.2f / %.2f us per ID\n", r + 1,
			s->b_cancel[r], s->b_clear[r], s->cpu_cancel[r], s->cpu_clear[r],
			s->wait_cancel[r], s->wait_clear[r]);
	}
	return 0;
}

/* The nft baselines; without them the rows go out without a baseline. */
static void measure_nft(const struct params *p, struct samples *s)
{
	int err;

	fprintf(stderr, "cancel_rate: nft baselines in %s: %d `nft add element` commands, "
		"%d x `nft -f` of %d elements\n", ns, p->nft_samples, p->nft_file_runs,
		p->batch_ids);
	err = nft_setup();
	if (!err) {
		err = nft_single(p->nft_samples, s->nft_one);
		if (!err)
			s->nft_one_n = p->nft_samples;
	}
	if (!err) {
		err = nft_file(p->batch_ids, p->nft_file_runs, s->nft_add, s->nft_del);
		if (!err)
			s->nft_file_n = p->nft_file_runs;
	}
	if (err)
		fprintf(stderr, "cancel_rate: nft baseline missing: the rows go without it\n");
}

static void emit_rows(const struct params *p, struct samples *s)
{
	char note[512];

	snprintf(note, sizeof(note), "one connection, requests alternate cancel and clear of "
		 "one ID, each waits for its reply; %d requests per run; daemon on a CPU %.2f us "
		 "and waiting for one %.2f us per request (medians); nft: one whole `nft add "
		 "element` command per sample", p->requests, median(s->cpu_one, p->runs),
		 median(s->wait_one, p->runs));
	emit("single requests, 1 client", "requests/s", s->one, p->runs, "nft add element",
	     s->nft_one, s->nft_one_n, 100000, ">= 100,000 requests/s", note);
	snprintf(note, sizeof(note), "2 threads, one connection and prefix each, %d requests "
		 "each (%d per run), started together: all requests / time to the last one's "
		 "reply; daemon on a CPU %.2f us and waiting for one %.2f us per request "
		 "(medians)", p->requests / 2, p->requests, median(s->cpu_two, p->runs),
		 median(s->wait_two, p->runs));
	emit("single requests, 2 clients in parallel (aggregate)", "requests/s", s->two, p->runs,
	     "nft add element", s->nft_one, s->nft_one_n, 100000, ">= 100,000 requests/s", note);
	snprintf(note, sizeof(note), "one connection, the same single requests with up to %d "
		 "in flight (txc_cancel_async, txc_clear_async), every reply collected in order "
		 "and checked; %d requests per run; daemon on a CPU %.2f us and waiting for one "
		 "%.2f us per request (medians)", ASYNC_DEPTH, p->requests,
		 median(s->cpu_async, p->runs), median(s->wait_async, p->runs));
	emit("single requests, 1 client, 32 in flight", "requests/s", s->async, p->runs,
	     "nft add element", s->nft_one, s->nft_one_n, 100000, ">= 100,000 requests/s", note);
	snprintf(note, sizeof(note), "%d IDs canceled (every interface) in batches of %u ops "
		 "per request; daemon on a CPU %.2f us and waiting for one %.2f us per ID "
		 "(medians); nft: `nft -f` adding the same %d elements to a set in one file",
		 p->batch_ids, TXC_BATCH_MAX, median(s->cpu_cancel, p->runs),
		 median(s->wait_cancel, p->runs), p->batch_ids);
	emit("batched cancel", "IDs/s", s->b_cancel, p->runs, "nft -f add element", s->nft_add,
	     s->nft_file_n, 1000000, ">= 1,000,000 IDs/s", note);
	snprintf(note, sizeof(note), "the same %d IDs cleared in batches of %u; daemon on a "
		 "CPU %.2f us and waiting for one %.2f us per ID (medians); nft: `nft -f` "
		 "deleting the %d elements in one file", p->batch_ids, TXC_BATCH_MAX,
		 median(s->cpu_clear, p->runs), median(s->wait_clear, p->runs), p->batch_ids);
	emit("batched clear", "IDs/s", s->b_clear, p->runs, "nft -f delete element", s->nft_del,
	     s->nft_file_n, 1000000, ">= 1,000,000 IDs/s", note);
}

int main(int argc, char **argv)
{
	const struct params *p = bench_quick(argc, argv) ? &quick : &full;
	const char *daemon_args[] = { "-l", "info", NULL };
	static struct samples s;
	struct client cls[MAX_CLIENTS] = {};
	struct txc_batch *batch = NULL;
	char path[128];
	int r, ret = 1;

	if (fx_init() || ns_create(ns, "c2"))
		return 1;
	snprintf(path, sizeof(path), "/run/netns/%s", ns);
	ns_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (ns_fd < 0) {
		fprintf(stderr, "cancel_rate: %s: %s\n", path, strerror(errno));
		return 1;
	}
	if (txct_daemon_start(&daemon_, ns, daemon_args))
		goto out;
	for (r = 0; r < MAX_CLIENTS; r++)
		if (client_open(&cls[r]))
			goto out;
	batch = txc_batch_new();
	if (!batch)
		goto out;
	if (measure_single(cls, p, &s) || measure_batched(cls, batch, p, &s))
		goto out;
	measure_nft(p, &s);
	emit_rows(p, &s);
	ret = 0;
out:
	txc_batch_free(batch);
	for (r = 0; r < MAX_CLIENTS; r++)
		txc_client_close(cls[r].c);
	if (daemon_.pid > 0 && txct_daemon_stop(&daemon_))
		txct_daemon_dump_log(&daemon_);
	txct_daemon_cleanup(&daemon_);
	if (ns_fd >= 0)
		close(ns_fd);
	fx_cleanup();
	return ret;
}
