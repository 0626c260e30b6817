// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The datapath library's causes reach the user: a failure the library
 * decides (a full rule table) arrives in the client's error reply and in
 * txcancel's message in the library's words, not as the errno it carries.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

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

static const struct test_case cases[] = {
	{ "rule_table_full", test_rule_table_full },
};

int main(int argc, char **argv)
{
	return test_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
}
