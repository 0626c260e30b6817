/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What every benchmark program in bench/ shares: statistics over repeated
 * runs, clocks, threads, and the one output format bench/run.sh collects.
 *
 * Output contract: a benchmark prints progress and explanations on stderr
 * and, on stdout, one JSON object per line per result row (bench_emit()).
 * bench/run.sh gathers those lines into build/bench.json and the table.
 * Data for plots goes to files under $TXC_BENCH_OUT (bench_out_path()).
 */
#ifndef TXC_BENCHLIB_H
#define TXC_BENCHLIB_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define BENCH_MAX_SAMPLES 64

/* Median and spread of a few runs of one measurement. */
struct bench_stat {
	double median;
	double min;
	double max;
	int runs;
};

/* Sorts @v in place. */
struct bench_stat bench_stat_of(double *v, int n);

/* Percentile @p (0..100) of @v, which must be sorted ascending. */
double bench_percentile(const double *sorted, size_t n, double p);
void bench_sort(double *v, size_t n);

/*
 * One result row.  @value is txcancel's figure and @baseline the baseline's,
 * measured in the same run (has_baseline false when the figure has none).
 * @ratio is what the target speaks of, computed by the program, because its
 * sense differs per figure (e.g. "added cost / nftables' added cost" or
 * "nft latency / txcancel latency").  @met: 1 met, 0 not met, -1 no target
 * (a figure that is only stated, such as memory).
 */
struct bench_row {
	const char *figure;		/* "D1", "C2", ... */
	const char *name;		/* what was measured, e.g. "tagged, IPv6, 10000 rules" */
	const char *unit;		/* "ns/frame", "us", "requests/s", "MiB" */
	struct bench_stat value;
	bool has_baseline;
	const char *baseline_name;	/* e.g. "empty TC program" */
	struct bench_stat baseline;
	bool has_ratio;
	double ratio;
	const char *ratio_name;		/* what the ratio is, e.g. "added / nft added" */
	const char *target;		/* bench/README.md's target, in words */
	int met;
	const char *note;		/* optional: exact counts, where the time goes */
};

void bench_emit(const struct bench_row *row);

/* True when TXC_BENCH_QUICK is set or the program was run with --quick. */
bool bench_quick(int argc, char **argv);

/* $TXC_BENCH_OUT/@name (default build/bench/@name) for data files and plots. */
const char *bench_out_path(const char *name, char *buf, size_t len);

/* The number after "@key:" in the /proc file @path (kB where it says so), or -1. */
long long bench_proc_value(const char *path, const char *key);
/* A line of /proc/@pid/status (VmRSS, VmHWM: kB), or -1. */
long long bench_proc_status(pid_t pid, const char *key);
/*
 * The memlock of the BPF maps @pid holds descriptors of, each map once, in
 * bytes, or a negative errno; the number of maps in *@nmaps if not NULL.
 */
long long bench_maps_memlock(pid_t pid, int *nmaps);

uint64_t bench_now_ns(void);		/* CLOCK_MONOTONIC */
uint64_t bench_thread_cpu_ns(void);	/* the calling thread's CPU time */

/*
 * Time of @pid's main thread in ns from /proc/PID/schedstat: *@run on a CPU,
 * *@wait runnable but waiting for one (what other load on the machine took).
 * Zero if unreadable.
 */
void bench_schedstat(pid_t pid, uint64_t *run, uint64_t *wait);

/*
 * A thread that runs until told to stop: its function loops while
 * bench_loop_stopping() is false.
 */
struct bench_loop {
	pthread_t tid;
	bool running;
	bool stop;
};

/* Starts @fn(@arg) in a thread of @l's; 0 or a negative errno. */
int bench_loop_start(struct bench_loop *l, void *(*fn)(void *arg), void *arg);
bool bench_loop_stopping(struct bench_loop *l);
/* Tells it to stop and waits until it has; nothing if it is not running. */
void bench_loop_stop(struct bench_loop *l);

#define BENCH_MAX_THREADS 8

/* One thread of struct bench_threads. */
struct bench_thread {
	int (*run)(void *arg);		/* its work: 0 or a negative errno */
	void *arg;
	pthread_barrier_t *start;
	pthread_t tid;
	uint64_t end_ns;		/* when run returned; stored last, atomically */
	int err;			/* what run returned */
};

/*
 * Threads that begin their work at one instant: bench_threads_start()
 * creates them, each waiting at a barrier; bench_threads_go() lets them all
 * run (the caller reads its clocks just before); bench_threads_join() waits
 * for them.
 */
struct bench_threads {
	struct bench_thread t[BENCH_MAX_THREADS];
	pthread_barrier_t start;
	int n;
};

/*
 * @n threads (at most BENCH_MAX_THREADS), thread i to run @run on the i-th
 * element of the array @args of @size-byte elements.  A thread that cannot
 * be made ends the program, saying why: there is nothing to measure then.
 */
void bench_threads_start(struct bench_threads *g, int n, int (*run)(void *arg), void *args,
			 size_t size);
void bench_threads_go(struct bench_threads *g);
/* Whether every thread's run has returned. */
bool bench_threads_done(struct bench_threads *g);
/*
 * Joins them all: the error of the last of them (in order) that failed, or 0,
 * and in *@last_end, if not NULL, when the last one to end ended.
 */
int bench_threads_join(struct bench_threads *g, uint64_t *last_end);

#endif
