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
#include <bpf/bpf.h>

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

/* Whether txcdp's pinned rule table @map under @pin_dir holds @key. */
static bool rule_stored(const char *pin_dir, const char *map, const void *key)
{
	struct txc_tag tag;
	char path[128];
	int fd, err;

	snprintf(path, sizeof(path), "%s/maps/%s", pin_dir, map);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return false;
	err = bpf_map_lookup_elem(fd, key, &tag);
	close(fd);
	return !err && tag.cancel_id == 0x01000001 && tag.source == 1;
}

/* txcdp's tag words are txcancel's, from the common tables; the rules land. */
static void test_txcdp_words(void)
{
	static const struct {
		const char *what;
		const char *args[14];
		int ret;
		const char *says;	/* in a refusal */
	} cases[] = {
		{ "tag add flow proto icmpv6", { "tag", "add", "flow", "proto", "icmpv6", "src",
		  "2001:db8::1", "dst", "2001:db8::2", "id", "0x01000001", "source", "1" }, 0 },
		{ "icmp6, txcancel's other spelling", { "tag", "add", "flow", "proto", "icmp6",
		  "src", "2001:db8::3", "dst", "2001:db8::4", "id", "0x01000001", "source", "1" },
		  0 },
		{ "tag add flow with ports", { "tag", "add", "flow", "proto", "udp", "src",
		  "198.18.0.1:5000", "dst", "198.18.0.2:53", "id", "0x01000001", "source", "1" },
		  0 },
		{ "tag flow [IPv6]:PORT", { "tag", "flow", "proto", "udp", "src",
		  "[2001:db8::1]:5000", "dst", "[2001:db8::2]:53", "id", "0x01000001", "source",
		  "1" }, 0 },
		{ "tag add mark ... id ... source", { "tag", "add", "mark", "7", "id",
		  "0x01000001", "source", "1" }, 0 },
		{ "tag add cgroup ... id ... source", { "tag", "add", "cgroup", "4294967296",
		  "id", "0x01000001", "source", "1" }, 0 },
		{ "'dest' for 'dst': refused", { "tag", "add", "flow", "proto", "udp", "src",
		  "198.18.0.1", "dest", "198.18.0.2", "id", "0x01000001", "source", "1" }, 1,
		  "'dest' where 'dst' belongs" },
		{ "unknown tag kind: refused", { "tag", "add", "vlan", "7", "id", "0x01000001",
		  "source", "1" }, 1, "tag kind 'vlan': expected mark, socket, cgroup or flow" },
		{ "socket tag by number: refused", { "tag", "add", "socket", "7", "id",
		  "0x01000001", "source", "1" }, 1, "socket tags are stored in the socket" },
		{ "unknown protocol: refused", { "tag", "add", "flow", "proto", "quic", "src",
		  "198.18.0.1", "dst", "198.18.0.2", "id", "0x01000001", "source", "1" }, 1,
		  "protocol 'quic': expected icmp, tcp, udp, icmpv6 (icmp6)" },
		{ "mark wider than 32 bits: refused", { "tag", "add", "mark", "4294967296", "id",
		  "0x01000001", "source", "1" }, 1, "is not a 32-bit number" },
	};
	const char *const load[] = { "load", NULL };
	const char *const unload[] = { "unload", NULL };
	struct txc_flow_key icmp6 = { .family = TXC_FAMILY_IPV6, .proto = 58,
				      .saddr = { 0x20, 0x01, 0x0d, 0xb8, [15] = 3 },
				      .daddr = { 0x20, 0x01, 0x0d, 0xb8, [15] = 4 } };
	char pin_dir[64], out[4096];

	snprintf(pin_dir, sizeof(pin_dir), "/sys/fs/bpf/txct-txcdp-%d", (int)getpid());
	if (!ASSERT_EQ(run_txcdp(out, sizeof(out), pin_dir, load), 0, "txcdp load")) {
		printf("    txcdp said: %s", out);
		return;
	}
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int ret = run_txcdp(out, sizeof(out), pin_dir, cases[i].args);

		if (!ASSERT_EQ(ret, cases[i].ret, cases[i].what))
			printf("    txcdp said: %s", out);
		if (cases[i].says && !ASSERT_TRUE(strstr(out, cases[i].says) != NULL,
						  "the refusal names the problem"))
			printf("    txcdp said: %s", out);
	}
	ASSERT_TRUE(rule_stored(pin_dir, "txc_flow_rules", &icmp6), "the icmp6 flow rule is stored");
	ASSERT_TRUE(rule_stored(pin_dir, "txc_mark_rules", &(__u32){ 7 }),
		    "the mark rule is stored");
	ASSERT_TRUE(rule_stored(pin_dir, "txc_cgroup_rules", &(__u64){ 1ull << 32 }),
		    "the cgroup rule is stored, all 64 bits of its key");
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
