// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Statistics, clocks, threads and the JSON-lines output of the benchmarks. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "benchlib.h"
#include "daemon_fixture.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

void bench_sort(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
}

double bench_percentile(const double *sorted, size_t n, double p)
{
	size_t i;

	if (!n)
		return NAN;
	/* Nearest rank: the smallest value with at least p% at or below it. */
	i = (size_t)ceil(p / 100.0 * (double)n);
	return sorted[i ? i - 1 : 0];
}

struct bench_stat bench_stat_of(double *v, int n)
{
	struct bench_stat s = { .median = NAN, .min = NAN, .max = NAN, .runs = n };

	if (n <= 0)
		return s;
	bench_sort(v, (size_t)n);
	s.min = v[0];
	s.max = v[n - 1];
	s.median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	return s;
}

/* JSON string: the names are ours, but escape anyway so the output always parses. */
static void put_str(const char *key, const char *s)
{
	printf(",\"%s\":\"", key);
	for (; s && *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

/* JSON has no NaN or infinity: a figure that could not be measured is null. */
static void put_num(const char *key, double v)
{
	if (isfinite(v))
		printf(",\"%s\":%.6g", key, v);
	else
		printf(",\"%s\":null", key);
}

static void put_stat(const char *prefix, const struct bench_stat *s)
{
	char key[64];

	snprintf(key, sizeof(key), "%s", prefix);
	put_num(key, s->median);
	snprintf(key, sizeof(key), "%s_min", prefix);
	put_num(key, s->min);
	snprintf(key, sizeof(key), "%s_max", prefix);
	put_num(key, s->max);
	snprintf(key, sizeof(key), "%s_runs", prefix);
	printf(",\"%s\":%d", key, s->runs);
}

void bench_emit(const struct bench_row *r)
{
	printf("{\"figure\":\"%s\"", r->figure);
	put_str("name", r->name);
	put_str("unit", r->unit);
	put_stat("value", &r->value);
	if (r->has_baseline) {
		put_str("baseline_name", r->baseline_name);
		put_stat("baseline", &r->baseline);
	}
	if (r->has_ratio) {
		put_num("ratio", r->ratio);
		put_str("ratio_name", r->ratio_name);
	}
	put_str("target", r->target);
	printf(",\"met\":%s", r->met < 0 ? "null" : r->met ? "true" : "false");
	if (r->note)
		put_str("note", r->note);
	printf("}\n");
	fflush(stdout);
}

bool bench_quick(int argc, char **argv)
{
	const char *env = getenv("TXC_BENCH_QUICK");
	int i;

	if (env && *env && strcmp(env, "0"))
		return true;
	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--quick"))
			return true;
	return false;
}

const char *bench_out_path(const char *name, char *buf, size_t len)
{
	const char *dir = getenv("TXC_BENCH_OUT");

	snprintf(buf, len, "%s/%s", dir && *dir ? dir : "build/bench", name);
	return buf;
}

uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t bench_thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void bench_schedstat(pid_t pid, uint64_t *run, uint64_t *wait)
{
	unsigned long long r = 0, w = 0;
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/schedstat", (int)pid);
	f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%llu %llu", &r, &w) != 2)
			r = w = 0;
		fclose(f);
	}
	*run = r;
	*wait = w;
}

int bench_loop_start(struct bench_loop *l, void *(*fn)(void *arg), void *arg)
{
	int err;

	__atomic_store_n(&l->stop, false, __ATOMIC_SEQ_CST);
	err = pthread_create(&l->tid, NULL, fn, arg);
	if (err)
		return -err;
	l->running = true;
	return 0;
}

bool bench_loop_stopping(struct bench_loop *l)
{
	return __atomic_load_n(&l->stop, __ATOMIC_SEQ_CST);
}

void bench_loop_stop(struct bench_loop *l)
{
	if (!l->running)
		return;
	__atomic_store_n(&l->stop, true, __ATOMIC_SEQ_CST);
	pthread_join(l->tid, NULL);
	l->running = false;
}

static void *bench_thread_main(void *arg)
{
	struct bench_thread *t = arg;

	pthread_barrier_wait(t->start);
	t->err = t->run(t->arg);
	__atomic_store_n(&t->end_ns, bench_now_ns(), __ATOMIC_RELEASE);
	return NULL;
}

void bench_threads_start(struct bench_threads *g, int n, int (*run)(void *arg), void *args,
			 size_t size)
{
	if (n < 1 || n > BENCH_MAX_THREADS) {
		fprintf(stderr, "bench: %d threads asked for, 1 to %d possible\n", n,
			BENCH_MAX_THREADS);
		exit(1);
	}
	g->n = n;
	pthread_barrier_init(&g->start, NULL, n + 1);
	for (int i = 0; i < n; i++) {
		struct bench_thread *t = &g->t[i];
		int err;

		*t = (struct bench_thread){
			.run = run, .arg = (char *)args + i * size, .start = &g->start,
		};
		err = pthread_create(&t->tid, NULL, bench_thread_main, t);
		if (err) {
			fprintf(stderr, "bench: starting a thread: %s\n", strerror(err));
			exit(1);
		}
	}
}

void bench_threads_go(struct bench_threads *g)
{
	pthread_barrier_wait(&g->start);
}

bool bench_threads_done(struct bench_threads *g)
{
	bool done = true;

	for (int i = 0; i < g->n; i++)
		done &= __atomic_load_n(&g->t[i].end_ns, __ATOMIC_ACQUIRE) != 0;
	return done;
}

int bench_threads_join(struct bench_threads *g, uint64_t *last_end)
{
	uint64_t end = 0;
	int err = 0;

	for (int i = 0; i < g->n; i++) {
		pthread_join(g->t[i].tid, NULL);
		if (g->t[i].err)
			err = g->t[i].err;
		if (g->t[i].end_ns > end)
			end = g->t[i].end_ns;
	}
	pthread_barrier_destroy(&g->start);
	if (last_end)
		*last_end = end;
	return err;
}

long long bench_proc_value(const char *path, const char *key)
{
	size_t klen = strlen(key);
	long long v = -1;
	char line[256];
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && line[klen] == ':') {
			v = strtoll(line + klen + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

long long bench_proc_status(pid_t pid, const char *key)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	return bench_proc_value(path, key);
}

#define MAX_MAPS	256

/* The BPF maps of a process, each counted once. */
struct maps_memlock {
	long long ids[MAX_MAPS];
	long long total;
	int n;
};

/* Adds the map descriptor @fd of @pid refers to, if it is one not yet seen. */
static void add_map_memlock(pid_t pid, int fd, void *arg)
{
	struct maps_memlock *m = arg;
	long long id, memlock;
	char path[64];
	int i;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", (int)pid, fd);
	id = bench_proc_value(path, "map_id");
	memlock = id < 0 ? -1 : bench_proc_value(path, "memlock");
	if (memlock < 0)
		return;
	for (i = 0; i < m->n && m->ids[i] != id; i++)
		;
	if (i < m->n || m->n == MAX_MAPS)
		return;
	m->ids[m->n++] = id;
	m->total += memlock;
}

long long bench_maps_memlock(pid_t pid, int *nmaps)
{
	struct maps_memlock m = { .n = 0 };
	int err = proc_fd_each(pid, add_map_memlock, &m);

	if (err < 0)
		return err;
	if (nmaps)
		*nmaps = m.n;
	return m.total;
}
