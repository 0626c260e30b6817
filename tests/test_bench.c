// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The benchmark harness in quick mode: bench/run.sh --quick runs every
 * benchmark program with small counts, and this test checks what it
 * produced, never how fast anything was:
 *   - run.sh exits 0 (no program failed);
 *   - build/bench-quick.json is one valid JSON document whose "results"
 *     hold, for every figure of bench/README.md (D1 D2 D3 E1 C1 C2 R1
 *     M1), at least one row with a finite value, and with a finite baseline too for the
 *     figures bench/README.md measures against one;
 *   - both plots exist and are not empty.
 *
 * Environment: TXCT_BENCH_RUN overrides the path of bench/run.sh (default:
 * bench/run.sh from the working directory, else next to the build dir).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "testlib.h"

#define MAX_ROWS	512

struct row {
	char figure[8];
	char name[160];
	double value;		/* NAN when null or absent */
	double baseline;
};

static const struct {
	const char *figure;
	bool baseline;		/* bench/README.md names a baseline measured in the same run */
} figures[] = {
	{ "D1", true }, { "D2", true }, { "D3", true }, { "E1", true },
	{ "C1", true }, { "C2", true }, { "R1", false }, { "M1", false },
	{ "L1", true }, { "S1", true },
};

static char build[PATH_MAX];
static struct row rows[MAX_ROWS];
static int nrows;
static bool parsed;

/* --- a small JSON parser: validates everything, keeps the result rows ---- */

struct json {
	const char *p;
	const char *err;
};

static void skip_ws(struct json *j)
{
	while (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r')
		j->p++;
}

static bool fail(struct json *j, const char *why)
{
	if (!j->err)
		j->err = why;
	return false;
}

/* A string into @out (may be NULL); \u escapes outside ASCII become '?'. */
static bool parse_string(struct json *j, char *out, size_t len)
{
	size_t n = 0;

	if (*j->p != '"')
		return fail(j, "expected a string");
	for (j->p++; *j->p != '"'; j->p++) {
		char c = *j->p;

		if (!c || (unsigned char)c < 0x20)
			return fail(j, "unterminated string or control character in a string");
		if (c == '\\') {
			c = *++j->p;
			if (c == 'u') {
				for (int i = 1; i <= 4; i++)
					if (!strchr("0123456789abcdefABCDEF", j->p[i]) || !j->p[i])
						return fail(j, "bad \\u escape");
				j->p += 4;
				c = '?';
			} else if (!strchr("\"\\/bfnrt", c) || !c) {
				return fail(j, "bad escape in a string");
			}
		}
		if (out && n + 1 < len)
			out[n++] = c;
	}
	j->p++;
	if (out)
		out[n] = '\0';
	return true;
}

static bool parse_number(struct json *j, double *v)
{
	const char *s = j->p;
	char *end;

	if (*s == '-')
		s++;
	if (*s < '0' || *s > '9')
		return fail(j, "expected a value");
	*v = strtod(j->p, &end);
	j->p = end;
	return true;
}

static bool parse_value(struct json *j, int depth, double *num);

/* An object or an array: its brackets, and what a malformed one is called. */
struct json_seq {
	char open, close;
	const char *expected;		/* no @open */
	const char *no_separator;	/* an item followed by neither ',' nor @close */
};

static const struct json_seq json_object = {
	'{', '}', "expected an object", "expected ',' or '}' in an object",
};
static const struct json_seq json_array = {
	'[', ']', "expected an array", "expected ',' or ']' in an array",
};

/* The comma-separated items between @s's brackets, each read by @item. */
static bool parse_seq(struct json *j, const struct json_seq *s,
		      bool (*item)(struct json *j, void *arg), void *arg)
{
	if (*j->p != s->open)
		return fail(j, s->expected);
	j->p++;
	skip_ws(j);
	if (*j->p == s->close) {
		j->p++;
		return true;
	}
	for (;;) {
		skip_ws(j);
		if (!item(j, arg))
			return false;
		skip_ws(j);
		if (*j->p == s->close) {
			j->p++;
			return true;
		}
		if (*j->p != ',')
			return fail(j, s->no_separator);
		j->p++;
	}
}

/* The caller's reader of an object's members or an array's elements; NULL: any value. */
struct json_items {
	int depth;
	bool (*member)(struct json *j, const char *key, void *ctx);
	bool (*elem)(struct json *j, void *ctx);
	void *ctx;
};

static bool object_member(struct json *j, void *arg)
{
	const struct json_items *it = arg;
	char key[64];

	if (!parse_string(j, key, sizeof(key)))
		return false;
	skip_ws(j);
	if (*j->p != ':')
		return fail(j, "expected ':' after a key");
	j->p++;
	skip_ws(j);
	return it->member ? it->member(j, key, it->ctx) : parse_value(j, it->depth + 1, NULL);
}

static bool array_elem(struct json *j, void *arg)
{
	const struct json_items *it = arg;

	return it->elem ? it->elem(j, it->ctx) : parse_value(j, it->depth + 1, NULL);
}

static bool parse_object(struct json *j, int depth, bool (*member)(struct json *j, const char *key,
								  void *ctx), void *ctx)
{
	struct json_items it = { .depth = depth, .member = member, .ctx = ctx };

	return parse_seq(j, &json_object, object_member, &it);
}

static bool parse_array(struct json *j, int depth, bool (*elem)(struct json *j, void *ctx),
			void *ctx)
{
	struct json_items it = { .depth = depth, .elem = elem, .ctx = ctx };

	return parse_seq(j, &json_array, array_elem, &it);
}

/* Any value; @num gets a number's value, NAN for anything else. */
static bool parse_value(struct json *j, int depth, double *num)
{
	double v = NAN;
	bool ok;

	if (depth > 32)
		return fail(j, "nested too deep");
	skip_ws(j);
	if (*j->p == '{')
		ok = parse_object(j, depth, NULL, NULL);
	else if (*j->p == '[')
		ok = parse_array(j, depth, NULL, NULL);
	else if (*j->p == '"')
		ok = parse_string(j, NULL, 0);
	else if (!strncmp(j->p, "true", 4) || !strncmp(j->p, "null", 4))
		j->p += 4, ok = true;
	else if (!strncmp(j->p, "false", 5))
		j->p += 5, ok = true;
	else
		ok = parse_number(j, &v);
	if (num)
		*num = v;
	return ok;
}

static bool row_member(struct json *j, const char *key, void *ctx)
{
	struct row *r = ctx;

	if (!strcmp(key, "figure"))
		return parse_string(j, r->figure, sizeof(r->figure));
	if (!strcmp(key, "name"))
		return parse_string(j, r->name, sizeof(r->name));
	if (!strcmp(key, "value"))
		return parse_value(j, 2, &r->value);
	if (!strcmp(key, "baseline"))
		return parse_value(j, 2, &r->baseline);
	return parse_value(j, 2, NULL);
}

static bool result_row(struct json *j, void *ctx)
{
	struct row r = { .value = NAN, .baseline = NAN };

	(void)ctx;
	if (!parse_object(j, 1, row_member, &r))
		return false;
	if (nrows == MAX_ROWS)
		return fail(j, "more result rows than this test keeps");
	rows[nrows++] = r;
	return true;
}

static bool doc_member(struct json *j, const char *key, void *ctx)
{
	bool *seen_results = ctx;

	if (!strcmp(key, "results")) {
		*seen_results = true;
		return parse_array(j, 1, result_row, NULL);
	}
	return parse_value(j, 1, NULL);
}

/* --- helpers -------------------------------------------------------------- */

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t cap = 0, n = 0, got;

	if (!f)
		return NULL;
	do {
		if (n + 4096 + 1 > cap) {
			char *b = realloc(buf, cap = cap * 2 + 8192);

			if (!b) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = b;
		}
		got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
	} while (got);
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

static void path_in_build(char *out, size_t len, const char *name)
{
	snprintf(out, len, "%s/%s", build, name);
}

static void print_file(const char *path)
{
	char line[512];
	FILE *f = fopen(path, "r");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		printf("    | %s", line);
	fclose(f);
}

/* --- tests ---------------------------------------------------------------- */

static void test_quick_run(void)
{
	char run[PATH_MAX + 32], log[PATH_MAX + 32];
	const char *env = getenv("TXCT_BENCH_RUN");
	int status, fd;
	pid_t pid;

	if (env && *env)
		snprintf(run, sizeof(run), "%s", env);
	else if (!access("bench/run.sh", X_OK))
		snprintf(run, sizeof(run), "bench/run.sh");
	else
		snprintf(run, sizeof(run), "%s/../bench/run.sh", build);
	path_in_build(log, sizeof(log), "bench-quick.log");
	printf("# %s --quick %s (output in %s)\n", run, build, log);

	fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (!ASSERT_GE0(fd, "open the log"))
		return;
	pid = fork();
	if (pid == 0) {
		dup2(fd, 1);
		dup2(fd, 2);
		execl(run, run, "--quick", build, (char *)NULL);
		fprintf(stderr, "exec %s: %s\n", run, strerror(errno));
		_exit(127);
	}
	close(fd);
	if (!ASSERT_GE0(pid, "fork"))
		return;
	if (!ASSERT_EQ(waitpid(pid, &status, 0), pid, "wait for run.sh"))
		return;
	if (!ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0,
			 "bench/run.sh --quick exits 0 (every benchmark program ran)"))
		print_file(log);
}

static void test_json(void)
{
	char path[PATH_MAX + 32];
	bool seen_results = false;
	struct json j;
	size_t len;
	char *doc;

	path_in_build(path, sizeof(path), "bench-quick.json");
	doc = read_file(path, &len);
	if (!ASSERT_TRUE(doc != NULL, "bench-quick.json exists")) {
		printf("    %s: %s\n", path, strerror(errno));
		return;
	}
	j = (struct json){ .p = doc };
	skip_ws(&j);
	nrows = 0;
	if (parse_object(&j, 0, doc_member, &seen_results)) {
		skip_ws(&j);
		if (*j.p)
			fail(&j, "text after the document");
	}
	if (!ASSERT_TRUE(!j.err, "bench-quick.json is one JSON document"))
		printf("    %s: %s at byte %td\n", path, j.err, j.p - doc);
	else if (ASSERT_TRUE(seen_results, "the document has \"results\""))
		parsed = true;
	free(doc);
}

static void test_figures(void)
{
	for (size_t f = 0; f < sizeof(figures) / sizeof(figures[0]); f++) {
		const char *fig = figures[f].figure;
		int n = 0, valued = 0, based = 0;

		if (test_sub_begin("%s", fig)) {
			if (!parsed) {
				test_fail(__FILE__, __LINE__,
					  "figure %s: no parsed bench-quick.json", fig);
				test_sub_end();
				continue;
			}
			for (int i = 0; i < nrows; i++) {
				if (strcmp(rows[i].figure, fig))
					continue;
				n++;
				if (isfinite(rows[i].value)) {
					valued++;
					based += isfinite(rows[i].baseline);
				}
			}
			if (!n)
				test_fail(__FILE__, __LINE__,
					  "figure %s is missing: no result row for it "
					  "(no benchmark program printed one)", fig);
			else if (!valued)
				test_fail(__FILE__, __LINE__,
					  "figure %s: none of its %d rows has a value",
					  fig, n);
			else if (figures[f].baseline && !based)
				test_fail(__FILE__, __LINE__,
					  "figure %s: no row with a value has its "
					  "baseline measured in the same run", fig);
			test_sub_end();
		}
	}
}

static void test_plots(void)
{
	static const char *const pngs[] = {
		"bench-quick/bench-dp-rules.png", "bench-quick/bench-cancel-latency.png",
	};

	for (size_t i = 0; i < sizeof(pngs) / sizeof(pngs[0]); i++) {
		char path[PATH_MAX + 64];
		struct stat st;

		if (test_sub_begin("%s", strchr(pngs[i], '/') + 1)) {
			path_in_build(path, sizeof(path), pngs[i]);
			if (stat(path, &st))
				test_fail(__FILE__, __LINE__, "%s was not drawn: %s", path,
					  strerror(errno));
			else
				ASSERT_TRUE(st.st_size > 0, "the plot is not empty");
			test_sub_end();
		}
	}
}

int main(int argc, char **argv)
{
	static const struct test_case cases[] = {
		{ "bench_quick_run", test_quick_run },
		{ "bench_json", test_json },
		{ "bench_figure", test_figures },
		{ "bench_plot", test_plots },
	};
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	/* build/tests/test_bench -> build */
	if (n <= 0) {
		perror("test_bench: /proc/self/exe");
		return 1;
	}
	exe[n] = '\0';
	for (int up = 0; up < 2; up++) {
		slash = strrchr(exe, '/');
		if (slash)
			*slash = '\0';
	}
	snprintf(build, sizeof(build), "%s", exe);
	return test_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
}
