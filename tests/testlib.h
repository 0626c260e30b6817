/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A small test harness in the style of the kernel's BPF selftests.
 *
 * Assertions return whether they held, so that a test reads
 *	if (!ASSERT_OK(err, "load"))
 *		goto cleanup;
 * and a failing assertion prints what was expected and what was found.
 * Every test (and every subtest) prints one line: PASS, FAIL or SKIP.
 */
#ifndef TXC_TESTLIB_H
#define TXC_TESTLIB_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct test_case {
	const char *name;
	void (*run)(void);
};

void test_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Mark the running (sub)test skipped, with the reason shown. */
void test_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Subtests: each is reported on its own line and counted on its own.  A
 * subtest runs only if test_sub_begin() says it was selected:
 *	if (test_sub_begin("name")) {
 *		...
 *		test_sub_end();
 *	}
 */
bool test_sub_begin(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), warn_unused_result));
void test_sub_end(void);
/*
 * Called first by a test whose subtests build on one another: a subtest not
 * selected then still runs, unreported, as the setup of the ones after it
 * (its failure fails the test).
 */
void test_subs_chained(void);

/*
 * A table of subtests that share one fixture, each a function of it, run in
 * the table's order by test_subs_run(), each as test_sub_begin() selects it:
 *	static const TEST_SUB_OF(struct my_fixture) subs[] = {
 *		{ "name", run_name },
 *	};
 *	test_subs_run(subs, &fx);
 */
#define TEST_SUB_OF(fixture_type)						\
	struct {								\
		const char *name;						\
		void (*run)(fixture_type *fx);					\
	}

#define test_subs_run(subs, fx) do {						\
	for (size_t ___i = 0; ___i < ARRAY_SIZE(subs); ___i++) {		\
		if (test_sub_begin("%s", (subs)[___i].name)) {			\
			(subs)[___i].run(fx);					\
			test_sub_end();						\
		}								\
	}									\
} while (0)

int test_main(int argc, char **argv, const struct test_case *cases, size_t n);

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* CLOCK_MONOTONIC in milliseconds, and a sleep that signals do not cut short. */
unsigned long long test_now_ms(void);
void test_sleep_ms(int ms);

#define ASSERT_TRUE(cond, what) ({						\
	bool ___ok = (cond);							\
	if (!___ok)								\
		test_fail(__FILE__, __LINE__, "%s: expected %s", what, #cond);	\
	___ok;									\
})

#define ASSERT_EQ(actual, expected, what) ({					\
	unsigned long long ___a = (unsigned long long)(actual);			\
	unsigned long long ___e = (unsigned long long)(expected);		\
	bool ___ok = ___a == ___e;						\
	if (!___ok)								\
		test_fail(__FILE__, __LINE__, "%s: got %lld (0x%llx), expected %lld (0x%llx)", \
			  what, ___a, ___a, ___e, ___e);			\
	___ok;									\
})

#define ASSERT_OK(err, what) ({							\
	long long ___e = (err);							\
	bool ___ok = ___e == 0;							\
	if (!___ok)								\
		test_fail(__FILE__, __LINE__, "%s: failed with %lld (%s)", what,	\
			  ___e, strerror(___e < 0 ? -___e : ___e));		\
	___ok;									\
})

/* An fd or count that must not be negative. */
#define ASSERT_GE0(val, what) ({						\
	long long ___v = (val);							\
	bool ___ok = ___v >= 0;							\
	if (!___ok)								\
		test_fail(__FILE__, __LINE__, "%s: failed with %lld (%s)", what,	\
			  ___v, strerror(___v < 0 ? -___v : 0));		\
	___ok;									\
})

#define ASSERT_MEMEQ(actual, expected, len, what) ({				\
	bool ___ok = memcmp(actual, expected, len) == 0;			\
	if (!___ok)								\
		test_fail(__FILE__, __LINE__, "%s: %zu bytes differ", what,	\
			  (size_t)(len));					\
	___ok;									\
})

#endif
