// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The datapath library's causes reach the user: a failure the library
 * decides (a full rule table) arrives in the client's error reply and in
 * txcancel's message in the library's words, not as the errno it carries;
 * txcdp refuses a pin dir a daemon holds, and takes txcancel's words.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <signal.h>
#include <unistd.h>

#include "txcancel/txcancel.h"
#include "daemon_fixture.h"
#include "testlib.h"

/* The library's wording of a full cgroup rule table (dp/tags.c). */
#define FULL_TEXT	"the rule table is full (16384 cgroup rules)"
#define CGROUP_BASE	1000000ull	/* ids no cgroup of this machine has */

/* Fill the cgroup rule table (TXC_CGROUP_RULES_MAX) in batches. */
static int fill_cgroup_rules(struct txc_client *cl, __u32 id, __u32 source)
{
	struct txc_batch *b = txc_batch_new();
	int err = b ? 0 : -ENOMEM;

	for (__u32 done = 0; !err && done < TXC_CGROUP_RULES_MAX;) {
		txc_batch_reset(b);
		for (__u32 i = 0; i < TXC_BATCH_MAX && done < TXC_CGROUP_RULES_MAX; i++, done++) {
			union txc_tag_key key = { .cgroup_id = CGROUP_BASE + done };

			err = txc_batch_tag(b, TXC_TAG_CGROUP, &key, id, source);
			if (err)
				break;
		}
		if (!err)
			err = txc_batch_submit(cl, b, NULL);	/* ops applied, or -errno */
		if (err > 0)
			err = 0;
	}
	txc_batch_free(b);
	return err;
}

static void test_rule_table_full(void)
{
	struct txct_daemon d;
	struct txc_client *cl = NULL;
	char out[4096], id_arg[32], src_arg[16], cg_arg[32];
	__u32 source, id;
	__u8 prefix;
	int err;

	if (!ASSERT_OK(txct_daemon_start(&d, NULL, NULL), "starting the daemon"))
		return;
	if (!ASSERT_OK(txc_client_open(&cl, d.sock), "connecting") ||
	    !ASSERT_OK(txc_generate_partial_cancel_id(cl, &prefix), "a prefix") ||
	    !ASSERT_OK(txc_source_open(cl, &source), "a source"))
		goto out;
	id = (__u32)prefix << TXC_ID_PREFIX_SHIFT | 1;
	if (!ASSERT_OK(fill_cgroup_rules(cl, id, source), "filling the cgroup rule table")) {
		printf("    %s\n", txc_client_error(cl));
		goto out;
	}

	err = txc_tag_cgroup(cl, CGROUP_BASE + TXC_CGROUP_RULES_MAX, id, source);
	ASSERT_EQ(err, -E2BIG, "one cgroup rule too many");
	if (!ASSERT_TRUE(strstr(txc_client_error(cl), FULL_TEXT) != NULL,
			 "the client reads the library's cause"))
		printf("    client read: %s\n", txc_client_error(cl));
	ASSERT_TRUE(!strstr(txc_client_error(cl), strerror(E2BIG)), "not strerror(E2BIG)");

	/* The same through the tool, a connection of its own under the same uid. */
	snprintf(id_arg, sizeof(id_arg), "%u:1", prefix);
	snprintf(src_arg, sizeof(src_arg), "%u", source);
	snprintf(cg_arg, sizeof(cg_arg), "%llu", CGROUP_BASE + TXC_CGROUP_RULES_MAX + 1);
	{
		static char tool[4096 + 16];
		const char *argv[] = { txct_build_path("TXCT_TOOL", "txcancel", tool, sizeof(tool)),
				       "-s", d.sock, "tag", "add", "cgroup", cg_arg, "id", id_arg,
				       "source", src_arg, NULL };

		err = txct_spawn_wait(argv, out, sizeof(out), 10000);
	}
	ASSERT_TRUE(err != 0, "txcancel tag add fails");
	if (!ASSERT_TRUE(strstr(out, FULL_TEXT) != NULL, "txcancel prints the library's cause"))
		printf("    txcancel said: %s", out);
out:
	txc_client_close(cl);
	txct_daemon_cleanup(&d);
}

/* Run txcdp with the pin dir @pin_dir and up to 20 more arguments; its exit status. */
static int run_txcdp(char *out, size_t len, const char *pin_dir, const char *const *args)
{
	static char tool[4096 + 16];
	const char *argv[24] = { txct_build_path("TXCT_TXCDP", "tools/txcdp", tool, sizeof(tool)),
				 "-d", pin_dir };
	int n = 3;

	for (; *args && n < 23; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	return txct_spawn_wait(argv, out, len, 30000);
}

static void test_txcdp_beside_daemon(void)
{
	static const char *const refused[][4] = {
		{ "detach", "lo", NULL },
		{ "watch", "1", "1", NULL },
		{ "unload", NULL },
		{ "tag", "add", "mark", NULL },
	};
	const char *const stats[] = { "stats", "1", NULL };
	struct txct_daemon d;
	char out[4096];
	int ret;

	if (!ASSERT_OK(txct_daemon_start(&d, NULL, NULL), "starting the daemon"))
		return;
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		ret = run_txcdp(out, sizeof(out), d.pin_dir, refused[i]);
		ASSERT_EQ(ret, 1, refused[i][0]);
		if (!ASSERT_TRUE(strstr(out, "held by a running txcanceld") != NULL,
				 "txcdp says a daemon holds the pin dir"))
			printf("    txcdp said: %s", out);
	}
	/* Reading a source's counters changes nothing: allowed. */
	ret = run_txcdp(out, sizeof(out), d.pin_dir, stats);
	ASSERT_TRUE(!strstr(out, "held by a running txcanceld"), "stats is not refused");
	ASSERT_TRUE(kill(d.pid, 0) == 0, "the daemon still runs");
	ASSERT_EQ(txct_daemon_stop(&d), 0, "the daemon exits cleanly");
	txct_daemon_cleanup(&d);
}

static void test_txcdp_words(void)
{
	const char *const load[] = { "load", NULL };
	const char *const flow6[] = { "tag", "add", "flow", "proto", "icmpv6", "src", "2001:db8::1",
				      "dst", "2001:db8::2", "id", "0x01000001", "source", "1",
				      NULL };
	const char *const flow4[] = { "tag", "add", "flow", "proto", "udp", "src",
				      "198.18.0.1:5000", "dst", "198.18.0.2:53", "id",
				      "0x01000001", "source", "1", NULL };
	const char *const bracket[] = { "tag", "flow", "proto", "udp", "src", "[2001:db8::1]:5000",
					"dst", "[2001:db8::2]:53", "id", "0x01000001", "source",
					"1", NULL };
	const char *const mark[] = { "tag", "add", "mark", "7", "id", "0x01000001", "source", "1",
				     NULL };
	const char *const wrong[] = { "tag", "add", "flow", "proto", "udp", "src", "198.18.0.1",
				      "dest", "198.18.0.2", "id", "0x01000001", "source", "1",
				      NULL };
	const char *const unload[] = { "unload", NULL };
	char pin_dir[64], out[4096];

	snprintf(pin_dir, sizeof(pin_dir), "/sys/fs/bpf/txct-txcdp-%d", (int)getpid());
	if (!ASSERT_EQ(run_txcdp(out, sizeof(out), pin_dir, load), 0, "txcdp load")) {
		printf("    txcdp said: %s", out);
		return;
	}
	if (!ASSERT_EQ(run_txcdp(out, sizeof(out), pin_dir, flow6), 0, "tag add flow proto icmpv6"))
		printf("    txcdp said: %s", out);
	ASSERT_EQ(run_txcdp(out, sizeof(out), pin_dir, flow4), 0, "tag add flow with ports");
	ASSERT_EQ(run_txcdp(out, sizeof(out), pin_dir, bracket), 0, "tag flow [IPv6]:PORT");
	ASSERT_EQ(run_txcdp(out, sizeof(out), pin_dir, mark), 0, "tag add mark ... id ... source");
	ASSERT_EQ(run_txcdp(out, sizeof(out), pin_dir, wrong), 1, "'dest' for 'dst': refused");
	ASSERT_TRUE(strstr(out, "'dest' where 'dst' belongs") != NULL, "the error names 'dest'");
	ASSERT_EQ(run_txcdp(out, sizeof(out), pin_dir, unload), 0, "txcdp unload");
	ASSERT_TRUE(access(pin_dir, F_OK) != 0, "the pin dir is gone");
}

static const struct test_case cases[] = {
	{ "rule_table_full", test_rule_table_full },
	{ "txcdp_beside_daemon", test_txcdp_beside_daemon },
	{ "txcdp_words", test_txcdp_words },
};

int main(int argc, char **argv)
{
	return test_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
}
