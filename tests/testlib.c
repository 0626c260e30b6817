// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <stdarg.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"

enum test_state { TEST_PASS, TEST_FAIL, TEST_SKIP };

static struct {
	char name[256];
	enum test_state state;
	char skip_reason[160];
	bool in_sub;
	bool parent_failed;
	bool chained;		/* the running test's subtests build on one another */
	bool muted;		/* a subtest run only as the setup of later ones */
	char setup_failed[256];	/* the first such subtest that failed */
	int passed, failed, skipped;
} t;

static void report(const char *name, enum test_state state, const char *why)
{
	static const char *const words[] = { "PASS", "FAIL", "SKIP" };

	printf("%s %s%s%s\n", words[state], name, why && *why ? ": " : "", why ? why : "");
	fflush(stdout);
	if (state == TEST_PASS)
		t.passed++;
	else if (state == TEST_FAIL)
		t.failed++;
	else
		t.skipped++;
}

void test_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stdout, "    %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	t.state = TEST_FAIL;
}

void test_skip(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t.skip_reason, sizeof(t.skip_reason), fmt, ap);
	va_end(ap);
	if (t.state == TEST_PASS)
		t.state = TEST_SKIP;
}

static char parent_name[120];
static enum test_state parent_state;

/*
 * The selection: the program's first argument, a comma-separated list of
 * patterns, as the kernel's test_progs -t takes them.  A pattern names the
 * tests whose name contains it, or, with a wildcard, that it matches as a glob
 * ("cancel", "tag_*").  "TEST/SUB" names the subtests SUB of the tests TEST,
 * each half matched the same way ("requests/bad_length", "requests/bad_*").
 */
#define MAX_PATTERNS 32
static char *patterns[MAX_PATTERNS];
static int n_patterns;
/* Whether the running test was selected whole or only some of its subtests. */
static bool whole_test;
static int subs_selected;

static bool name_matches(const char *pattern, size_t len, const char *name)
{
	char p[120];

	snprintf(p, sizeof(p), "%.*s", (int)len, pattern);
	if (strpbrk(p, "*?["))
		return fnmatch(p, name, 0) == 0;
	return strstr(name, p) != NULL;
}

/* The test half of a pattern: all of it, or what comes before its '/'. */
static size_t test_part(const char *pattern)
{
	const char *slash = strchr(pattern, '/');

	return slash ? (size_t)(slash - pattern) : strlen(pattern);
}

static bool test_selected(const char *test)
{
	int i;

	if (!n_patterns)
		return true;
	for (i = 0; i < n_patterns; i++)
		if (!strchr(patterns[i], '/') &&
		    name_matches(patterns[i], strlen(patterns[i]), test))
			return true;
	return false;
}

/* Selected for some of its subtests only. */
static bool test_subs_selected(const char *test)
{
	int i;

	for (i = 0; i < n_patterns; i++)
		if (strchr(patterns[i], '/') &&
		    name_matches(patterns[i], test_part(patterns[i]), test))
			return true;
	return false;
}

static bool sub_selected(const char *test, const char *sub)
{
	int i;

	if (whole_test)
		return true;
	for (i = 0; i < n_patterns; i++) {
		const char *p = patterns[i];
		size_t n = test_part(p);

		if (p[n] == '/' && name_matches(p, n, test) &&
		    name_matches(p + n + 1, strlen(p + n + 1), sub))
			return true;
	}
	return false;
}

static int parse_filter(const char *filter)
{
	char *arg = strdup(filter), *save = NULL, *p;

	if (!arg)
		return -1;
	for (p = strtok_r(arg, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
		if (n_patterns == MAX_PATTERNS) {
			fprintf(stderr, "at most %d patterns\n", MAX_PATTERNS);
			return -1;
		}
		patterns[n_patterns++] = p;
	}
	return 0;
}

bool test_sub_begin(const char *fmt, ...)
{
	char sub[120];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(sub, sizeof(sub), fmt, ap);
	va_end(ap);
	t.muted = !sub_selected(parent_name, sub);
	if (t.muted && !t.chained)
		return false;
	subs_selected += !t.muted;
	/* Keep what the parent test found before the subtest started. */
	parent_state = t.state == TEST_FAIL ? TEST_FAIL : parent_state;
	snprintf(t.name, sizeof(t.name), "%s/%s", parent_name, sub);
	t.state = TEST_PASS;
	t.skip_reason[0] = '\0';
	t.in_sub = true;
	return true;
}

void test_subs_chained(void)
{
	t.chained = true;
}

void test_sub_end(void)
{
	if (!t.muted)
		report(t.name, t.state, t.state == TEST_SKIP ? t.skip_reason : NULL);
	else if (t.state == TEST_FAIL && !t.setup_failed[0])
		snprintf(t.setup_failed, sizeof(t.setup_failed), "%s", t.name);
	t.muted = false;
	t.in_sub = false;
	t.state = TEST_PASS;
	t.skip_reason[0] = '\0';
	snprintf(t.name, sizeof(t.name), "%s", parent_name);
}

static void usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [-l] [PATTERN[,PATTERN...]]\n"
		"  PATTERN   the tests whose name contains it or matches it as a glob;\n"
		"            TEST/SUB the subtests SUB of the tests TEST (\"requests/bad_*\")\n"
		"  -l        list the tests and exit\n", prog);
}

int test_main(int argc, char **argv, const struct test_case *cases, size_t n)
{
	bool list = false;
	int arg = 1;
	size_t i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (; arg < argc && argv[arg][0] == '-'; arg++) {
		if (!strcmp(argv[arg], "-l")) {
			list = true;
		} else {
			usage(argv[0]);
			return 2;
		}
	}
	if (argc - arg > 1) {
		usage(argv[0]);
		return 2;
	}
	if (arg < argc && parse_filter(argv[arg]))
		return 2;
	for (i = 0; list && i < n; i++)
		if (test_selected(cases[i].name) || test_subs_selected(cases[i].name))
			printf("%s\n", cases[i].name);
	if (list)
		return 0;
	for (i = 0; i < n; i++) {
		int before = t.passed + t.failed + t.skipped;

		whole_test = test_selected(cases[i].name);
		if (!whole_test && !test_subs_selected(cases[i].name))
			continue;
		subs_selected = 0;
		t.chained = false;
		t.setup_failed[0] = '\0';
		snprintf(parent_name, sizeof(parent_name), "%s", cases[i].name);
		snprintf(t.name, sizeof(t.name), "%s", cases[i].name);
		t.state = TEST_PASS;
		parent_state = TEST_PASS;
		t.skip_reason[0] = '\0';
		cases[i].run();
		if (t.in_sub) {
			test_fail(__FILE__, __LINE__, "subtest not ended");
			test_sub_end();
		}
		/*
		 * A test with subtests reports itself only if it failed outside
		 * them; one run for subtests it does not have says so.
		 */
		if (t.setup_failed[0]) {
			char why[320];

			snprintf(why, sizeof(why), "%s failed, run as the setup of the selected "
				 "subtests", t.setup_failed);
			report(cases[i].name, TEST_FAIL, why);
		}
		if (!whole_test && !subs_selected && t.state == TEST_PASS)
			printf("# %s: no subtest matches\n", cases[i].name);
		else if (t.passed + t.failed + t.skipped == before)
			report(cases[i].name, t.state, t.state == TEST_SKIP ? t.skip_reason : NULL);
		else if (t.state == TEST_FAIL || parent_state == TEST_FAIL) {
			report(cases[i].name, TEST_FAIL, "outside its subtests");
		}
	}
	printf("# %s: %d passed, %d failed, %d skipped\n", argv[0], t.passed, t.failed,
	       t.skipped);
	return t.failed ? 1 : 0;
}

unsigned long long test_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void test_sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}
