// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Arguments of the txcancel tool and txcanceld that are refused or taken
 * before anything reaches a daemon or the kernel:
 *
 *   durations:  the tool's duration parser, value by value (whole
 *               nanoseconds from decimal fractions, the bad forms refused
 *               with a message that names them);
 *   ifnames:    txc_ifname_problem() against the kernel's dev_valid_name()
 *               rules, and the library refusing such a name;
 *   tool_args:  the tool exits 2 (usage) for a bad interface name or
 *               duration, or for a socket untag (only the socket's owner
 *               can reach its tag), and takes a fractional duration (it
 *               then fails only to connect: exit 1);
 *   daemon_args: txcanceld refuses -i with an invalid name, and a --tc-mode or
 *   --xdp-mode word it does not know, at once.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "txcancel/txcancel.h"
#include "../tools/txcancel.h"
#include "daemon_fixture.h"
#include "testlib.h"

/*
 * The tool's parsers are linked in (tools/txcancel_parse.c); its reporters
 * and options live in tools/txcancel.c, with main(): this stand-in for
 * cli_error() keeps the message for the assertions instead.
 */
struct txc_cli cli;
static char last_error[512];

int cli_error(int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
	return ret;
}

static void test_durations(void)
{
	static const struct {
		const char *in;
		__u64 ns;		/* 0: refused */
		const char *error;	/* in the refusal */
	} cases[] = {
		{ "10s", 10000000000ULL, NULL },
		{ "1.5s", 1500000000ULL, NULL },
		{ "0.1s", 100000000ULL, NULL },
		{ "1.5", 1500000000ULL, NULL },
		{ "500ms", 500000000ULL, NULL },
		{ "2.25ms", 2250000ULL, NULL },
		{ "1.5m", 90000000000ULL, NULL },
		{ "0.25h", 900000000000ULL, NULL },
		{ "1.000000001s", 1000000001ULL, NULL },
		{ "1.5us", 1500ULL, NULL },
		{ "7ns", 7ULL, NULL },
		{ "18446744073.709551615s", ~0ULL, NULL },
		{ "1.5ns", 0, "not a whole number of nanoseconds" },
		{ "1.0000000001s", 0, "not a whole number of nanoseconds" },
		{ "18446744073.709551616s", 0, "too long" },
		{ "5124096h", 0, "too long" },
		{ "0s", 0, "more than 0" },
		{ "0.000s", 0, "more than 0" },
		{ ".5s", 0, "expected a decimal number" },
		{ "1.s", 0, "expected a decimal number" },
		{ "1..5s", 0, "expected a decimal number" },
		{ "0x10s", 0, "expected a decimal number" },
		{ "-1s", 0, "expected a decimal number" },
		{ "1,5s", 0, "expected a decimal number" },
		{ "1.5x", 0, "expected a decimal number" },
		{ "", 0, "expected a decimal number" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		__u64 ns = 0;
		int ret;

		if (!test_sub_begin("duration '%s'", cases[i].in))
			continue;
		last_error[0] = '\0';
		ret = parse_duration(cases[i].in, &ns);
		if (cases[i].ns) {
			ASSERT_OK(ret, "parse_duration");
			ASSERT_EQ(ns, cases[i].ns, "nanoseconds");
		} else {
			ASSERT_EQ(ret, -EINVAL, "parse_duration refuses");
			if (!ASSERT_TRUE(strstr(last_error, cases[i].error) != NULL,
					 "the message says why"))
				printf("    message: %s\n", last_error);
			ASSERT_TRUE(strstr(last_error, cases[i].in) != NULL, "the message names it");
		}
		test_sub_end();
	}
}

static void test_ifnames(void)
{
	static const struct {
		const char *name;
		const char *problem;	/* NULL: valid */
	} cases[] = {
		{ "v0", NULL },
		{ "eth0.100", NULL },
		{ "br-lan_2", NULL },
		{ "...", NULL },
		{ ".x", NULL },
		{ "abcdefghijklmno", NULL },		/* 15: the longest */
		{ "abcdefghijklmnop", "longer than 15" },
		{ "", "empty" },
		{ ".", "'.' and '..'" },
		{ "..", "'.' and '..'" },
		{ "v0/x", "'/' and ':'" },
		{ "v0:1", "'/' and ':'" },
		{ "a b", "white space" },
		{ "a\tb", "white space" },
		{ "a\nb", "white space" },
		{ "a\vb", "white space" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *problem = txc_ifname_problem(cases[i].name);

		if (!test_sub_begin("ifname #%zu", i))
			continue;
		if (!cases[i].problem)
			ASSERT_TRUE(problem == NULL, cases[i].name);
		else if (!ASSERT_TRUE(problem && strstr(problem, cases[i].problem), "refused"))
			printf("    '%s': %s\n", cases[i].name, problem ? problem : "(accepted)");
		test_sub_end();
	}

	/* The library checks before it sends: no daemon is needed to see it. */
	if (test_sub_begin("library batch refuses v0/x")) {
		struct txc_batch *b = txc_batch_new();

		if (ASSERT_TRUE(b != NULL, "txc_batch_new"))
			ASSERT_EQ(txc_batch_cancel(b, TXC_SCOPE_ID, TXC_ID_MAKE(1, 1), "v0/x", 0),
				  -EINVAL, "txc_batch_cancel with v0/x");
		if (b)
			ASSERT_EQ(txc_batch_count(b), 0, "nothing added");
		txc_batch_free(b);
		test_sub_end();
	}
}

static const char *tool_path(void)
{
	static char path[4096 + 16];

	return txct_build_path("TXCT_TOOL", "txcancel", path, sizeof(path));
}

/* Run the tool against a socket that does not exist; its exit status. */
static int run_tool(char *out, size_t len, const char *a1, const char *a2, const char *a3,
		    const char *a4, const char *a5, const char *a6)
{
	const char *argv[] = { tool_path(), "-s", "/nonexistent/txcanceld.sock", a1, a2, a3,
			       a4, a5, a6, NULL };

	return txct_spawn_wait(argv, out, len, 10000);
}

/* Command lines the tool refuses before connecting (exit 2), and what the error says. */
static const struct tool_refusal {
	const char *args[6];
	const char *says;	/* NULL: the exit status is the check */
} tool_refusals[] = {
	{ { "cancel", "id", "1:1", "dev", "v0/x" }, "'v0/x' is not valid" },
	{ { "explain", "dev", "abcdefghijklmnop", "proto", "udp" }, "longer than 15" },
	{ { "explain", "port", "53" }, "unexpected 'port'; expected dev, mark" },
	{ { "explain", "mark", "1", "mark", "2" }, "'mark' is given twice" },
	{ { "explain", "mark", "1" }, "a frame needs proto, src and dst" },
	{ { "cancel", "id", "1:1", "timeout", "1.5x" }, "duration '1.5x'" },
	{ { "watch", "-t", "0.5ns", "1" }, NULL },
	/* A socket's tag is reached only through the socket, which the tool never has. */
	{ { "tag", "del", "socket", "4097" }, "txc_untag_socket()" },
};

static void test_tool_args(void)
{
	char out[4096], what[128];
	int ret;

	for (size_t i = 0; i < sizeof(tool_refusals) / sizeof(tool_refusals[0]); i++) {
		const struct tool_refusal *r = &tool_refusals[i];
		size_t n = 0;

		/* The command line names the case. */
		for (int a = 0; a < 6 && r->args[a] && n < sizeof(what); a++)
			n += snprintf(what + n, sizeof(what) - n, "%s%s", a ? " " : "", r->args[a]);
		ret = run_tool(out, sizeof(out), r->args[0], r->args[1], r->args[2], r->args[3],
			       r->args[4], r->args[5]);
		ASSERT_EQ(ret, 2, what);
		if (r->says && !ASSERT_TRUE(strstr(out, r->says) != NULL, what))
			printf("    output: %s", out);
	}

	/* Accepted: the tool gets as far as connecting, which fails. */
	ret = run_tool(out, sizeof(out), "cancel", "id", "1:1", "timeout", "1.5s", NULL);
	ASSERT_EQ(ret, 1, "timeout 1.5s: accepted, then no daemon");
	if (!ASSERT_TRUE(strstr(out, "cannot connect") != NULL, "it failed to connect"))
		printf("    output: %s", out);
}

/* txcanceld's refusals: option, value, and what the error must name. */
static const struct daemon_refusal {
	const char *opt, *value, *says;
} daemon_refusals[] = {
	{ "-i", "v0/x", "interface '" },
	{ "-i", "v0/x:tc", "interface '" },
	{ "-i", "a b", "interface '" },
	{ "-i", "..", "interface '" },
	{ "-i", "eth0:", "interface '" },
	{ "-i", ":xdp", "interface '" },
	{ "--tc-mode", "tc", "--tc-mode 'tc': not a valid value" },
	{ "--xdp-mode", "generic", "--xdp-mode 'generic': not a valid value" },
};

static void test_daemon_args(void)
{
	char out[4096];

	for (size_t i = 0; i < sizeof(daemon_refusals) / sizeof(daemon_refusals[0]); i++) {
		const struct daemon_refusal *r = &daemon_refusals[i];
		const char *argv[] = { txct_daemon_path(), r->opt, r->value, "--socket",
				       "/nonexistent/txcanceld.sock", NULL };
		int ret;

		if (!test_sub_begin("txcanceld %s '%s'", r->opt, r->value))
			continue;
		ret = txct_spawn_wait(argv, out, sizeof(out), 10000);
		ASSERT_EQ(ret, 2, "refused as a usage error");
		if (!ASSERT_TRUE(strstr(out, r->says) && strstr(out, r->value),
				 "the error names the option and the value"))
			printf("    output: %s", out);
		test_sub_end();
	}
}

static const struct test_case cases[] = {
	{ "durations", test_durations },
	{ "ifnames", test_ifnames },
	{ "tool_args", test_tool_args },
	{ "daemon_args", test_daemon_args },
};

int main(int argc, char **argv)
{
	return test_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
}
