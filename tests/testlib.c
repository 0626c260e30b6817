// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <stdarg.h>
#include <errno.h>
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

bool test_sub_begin(const char *fmt, ...)
{
	char sub[120];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(sub, sizeof(sub), fmt, ap);
	va_end(ap);
	/* Keep what the parent test found before the subtest started. */
	parent_state = t.state == TEST_FAIL ? TEST_FAIL : parent_state;
	snprintf(t.name, sizeof(t.name), "%s/%s", parent_name, sub);
	t.state = TEST_PASS;
	t.skip_reason[0] = '\0';
	t.in_sub = true;
	return true;
}

void test_sub_end(void)
{
	report(t.name, t.state, t.state == TEST_SKIP ? t.skip_reason : NULL);
	t.in_sub = false;
	t.state = TEST_PASS;
	t.skip_reason[0] = '\0';
	snprintf(t.name, sizeof(t.name), "%s", parent_name);
}

int test_main(int argc, char **argv, const struct test_case *cases, size_t n)
{
	const char *filter = argc > 1 ? argv[1] : NULL;
	size_t i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 0; i < n; i++) {
		int before = t.passed + t.failed + t.skipped;

		if (filter && !strstr(cases[i].name, filter))
			continue;
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
		/* A test with subtests reports itself only if it failed outside them. */
		if (t.passed + t.failed + t.skipped == before)
			report(cases[i].name, t.state, t.state == TEST_SKIP ? t.skip_reason : NULL);
		else if (t.state == TEST_FAIL || parent_state == TEST_FAIL)
			report(cases[i].name, TEST_FAIL, "outside its subtests");
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
