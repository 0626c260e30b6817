// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Statistics, clocks and the JSON-lines output of the benchmarks. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "benchlib.h"

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

uint64_t bench_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
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

long long bench_maps_memlock(pid_t pid, int *nmaps)
{
	long long ids[MAX_MAPS], total = 0;
	char path[300];
	struct dirent *e;
	int n = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo", (int)pid);
	dir = opendir(path);
	if (!dir)
		return -errno;
	while ((e = readdir(dir))) {
		long long id, memlock;
		int i;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/fdinfo/%s", (int)pid, e->d_name);
		id = bench_proc_value(path, "map_id");
		memlock = id < 0 ? -1 : bench_proc_value(path, "memlock");
		if (memlock < 0)
			continue;
		for (i = 0; i < n && ids[i] != id; i++)
			;
		if (i < n || n == MAX_MAPS)
			continue;
		ids[n++] = id;
		total += memlock;
	}
	closedir(dir);
	if (nmaps)
		*nmaps = n;
	return total;
}
