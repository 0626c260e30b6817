/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The request/reply subcommands that lease or count without touching the
 * datapath's rules: hello, prefix, source and count; and what every
 * request/reply subcommand shares (txcancel_stats.c, txcancel_status.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "txcancel.h"

int no_more_args(int argc, char **argv, int from)
{
	/* "help" takes the command, not "prefix alloc". */
	int cmd_len = strcspn(cli.cmd, " ");

	if (argc > from)
		return usage_error("unexpected '%s'; see 'txcancel help %.*s'", argv[from],
				   cmd_len, cli.cmd);
	return EXIT_OK;
}

/* Connect, run @fn, close: the shape of every subcommand here. */
int with_client(int (*fn)(struct txc_client *c, void *arg), void *arg)
{
	struct txc_client *c = cli_connect();
	int ret;

	if (!c)
		return EXIT_RUNTIME;
	ret = fn(c, arg);
	txc_client_close(c);
	return ret;
}

/* "1d02h03m04s", leading zero units left out. */
void format_uptime(char *buf, size_t len, __u64 ns)
{
	__u64 s = ns / 1000000000ULL;

	if (s >= 86400)
		snprintf(buf, len, "%llud%02lluh%02llum%02llus", s / 86400, s / 3600 % 24,
			 s / 60 % 60, s % 60);
	else if (s >= 3600)
		snprintf(buf, len, "%lluh%02llum%02llus", s / 3600, s / 60 % 60, s % 60);
	else if (s >= 60)
		snprintf(buf, len, "%llum%02llus", s / 60, s % 60);
	else
		snprintf(buf, len, "%llu.%03llus", s, ns / 1000000ULL % 1000);
}

/* ---- hello --------------------------------------------------------------- */

static int hello_run(struct txc_client *c, void *arg)
{
	const struct txc_rep_hello *h = txc_client_hello(c);

	(void)arg;
	if (!h)
		return runtime_error("the library kept no hello reply");
	if (cli.json) {
		jw_object(NULL);
		jw_uint("version", h->version);
		jw_uint("client_version", TXC_PROTO_VERSION);
		jw_uint("conn_id", h->conn_id);
		jw_uint("uid", h->uid);
		jw_uint("pid", h->pid);
		jw_uint("mark_mask", h->mark_mask);
		jw_uint("max_prefixes", h->max_prefixes);
		jw_uint("max_sources", h->max_sources);
		jw_uint("max_rules", h->max_rules);
		jw_string("socket", cli.socket_path);
		jw_object_end();
		jw_end();
		return EXIT_OK;
	}
	printf("socket      ");
	print_safe(stdout, cli.socket_path, 4096);
	printf("\nprotocol    %u (txcancel speaks %u)\n"
	       "connection  %u\n"
	       "you are     uid %u, pid %u\n"
	       "mark mask   0x%08x%s\n"
	       "limits      %u prefixes, %u sources, %u rules per user (root: none)\n",
	       h->version, TXC_PROTO_VERSION, h->conn_id, h->uid, h->pid, h->mark_mask,
	       h->mark_mask ? "" : " (mark tags off)",
	       h->max_prefixes, h->max_sources, h->max_rules);
	return EXIT_OK;
}

int do_hello(int argc, char **argv)
{
	if (argc)
		return no_more_args(argc, argv, 0);
	return with_client(hello_run, NULL);
}

/* ---- prefix -------------------------------------------------------------- */

/*
 * The reply of a prefix freed or a source opened or closed: {"@key": @value}
 * in JSON, else "@what @value".
 */
static void print_lease_done(const char *key, const char *what, __u32 value)
{
	if (cli.json) {
		jw_object(NULL);
		jw_uint(key, value);
		jw_object_end();
		jw_end();
	} else {
		printf("%s %u\n", what, value);
	}
}

struct prefix_args {
	const char *verb;
	__u32 prefix;		/* alloc: 0 for any */
};

static int prefix_alloc(struct txc_client *c, struct prefix_args *a)
{
	__u8 p = a->prefix;
	int err;

	if (a->prefix)
		err = txc_prefix_claim(c, p);
	else
		err = txc_generate_partial_cancel_id(c, &p);
	if (err < 0)
		return client_error(c, err);
	if (cli.json) {
		jw_object(NULL);
		jw_uint("prefix", p);
		jw_uint("first_id", TXC_ID_MAKE(p, 0));
		jw_uint("last_id", TXC_ID_MAKE(p, TXC_ID_LOCAL_MASK));
		jw_object_end();
		jw_end();
	} else {
		printf("prefix %u (IDs 0x%08x..0x%08x)\n", p, TXC_ID_MAKE(p, 0),
		       TXC_ID_MAKE(p, TXC_ID_LOCAL_MASK));
	}
	return EXIT_OK;
}

static const char *lease_state(__u32 state)
{
	switch (state) {
	case TXC_LEASE_HELD:		return "held";
	case TXC_LEASE_ORPHANED:	return "orphaned";
	default:			return "unknown";
	}
}

static int prefix_list(struct txc_client *c)
{
	struct txc_prefix_info info[TXC_NR_PREFIXES];
	int n, i;

	memset(info, 0, sizeof(info));
	n = txc_prefix_list(c, info, TXC_NR_PREFIXES);
	if (n < 0)
		return client_error(c, n);
	if (cli.json) {
		jw_array(NULL);
		for (i = 0; i < n; i++) {
			jw_object(NULL);
			jw_uint("prefix", info[i].prefix);
			jw_string("state", lease_state(info[i].state));
			jw_uint("uid", info[i].uid);
			jw_uint("conn_id", info[i].conn_id);
			jw_uint("rules", info[i].rules);
			jw_object_end();
		}
		jw_array_end();
		jw_end();
		return EXIT_OK;
	}
	if (!n) {
		printf("no prefixes leased\n");
		return EXIT_OK;
	}
	printf("%-6s  %-8s  %10s  %8s  %8s\n", "PREFIX", "STATE", "UID", "CONN", "RULES");
	for (i = 0; i < n; i++)
		printf("%-6u  %-8s  %10u  %8u  %8u\n", info[i].prefix,
		       lease_state(info[i].state), info[i].uid, info[i].conn_id, info[i].rules);
	return EXIT_OK;
}

static int prefix_run(struct txc_client *c, void *arg)
{
	struct prefix_args *a = arg;
	int err;

	if (!strcmp(a->verb, "alloc"))
		return prefix_alloc(c, a);
	if (!strcmp(a->verb, "list"))
		return prefix_list(c);
	err = txc_prefix_free(c, a->prefix);
	if (err < 0)
		return client_error(c, err);
	print_lease_done("freed", "freed prefix", a->prefix);
	return EXIT_OK;
}

int do_prefix(int argc, char **argv)
{
	struct prefix_args a = { 0 };

	if (argc < 1)
		return usage_error("expected alloc, free or list");
	a.verb = argv[0];
	if (!strcmp(a.verb, "alloc")) {
		cli_subcommand(a.verb);
		if (argc > 2)
			return no_more_args(argc, argv, 2);
		if (argc == 2 && parse_prefix(argv[1], &a.prefix))
			return EXIT_USAGE;
	} else if (!strcmp(a.verb, "free")) {
		cli_subcommand(a.verb);
		if (argc < 2)
			return usage_error("expected the PREFIX to free");
		if (argc > 2)
			return no_more_args(argc, argv, 2);
		if (parse_prefix(argv[1], &a.prefix))
			return EXIT_USAGE;
	} else if (!strcmp(a.verb, "list")) {
		cli_subcommand(a.verb);
		if (argc > 1)
			return no_more_args(argc, argv, 1);
	} else {
		return usage_error("'%s': expected alloc, free or list", a.verb);
	}
	return with_client(prefix_run, &a);
}

/* ---- source -------------------------------------------------------------- */

struct source_args {
	bool open;
	__u32 source;		/* open: 0 for a new one */
};

static int source_run(struct txc_client *c, void *arg)
{
	struct source_args *a = arg;
	__u32 source = a->source;
	int err;

	if (!a->open)
		err = txc_source_close(c, source);
	else if (source)
		err = txc_source_claim(c, source);
	else
		err = txc_source_open(c, &source);
	if (err < 0)
		return client_error(c, err);
	if (a->open)
		print_lease_done("source", "source", source);
	else
		print_lease_done("closed", "closed source", source);
	return EXIT_OK;
}

int do_source(int argc, char **argv)
{
	struct source_args a = { 0 };

	if (argc < 1 || (strcmp(argv[0], "open") && strcmp(argv[0], "close")))
		return usage_error("%s%s%sexpected open or close", argc ? "'" : "",
				   argc ? argv[0] : "", argc ? "': " : "");
	cli_subcommand(argv[0]);
	a.open = !strcmp(argv[0], "open");
	if (argc > 2)
		return no_more_args(argc, argv, 2);
	if (!a.open && argc < 2)
		return usage_error("expected the SOURCE to close");
	if (argc == 2 && parse_source(argv[1], &a.source))
		return EXIT_USAGE;
	return with_client(source_run, &a);
}

/* ---- count --------------------------------------------------------------- */

struct count_args {
	__u32 id;
	bool enable;
};

static int count_run(struct txc_client *c, void *arg)
{
	struct count_args *a = arg;
	int err;

	err = txc_count_id(c, a->id, a->enable);
	if (err < 0)
		return client_error(c, err);
	if (cli.json) {
		jw_object(NULL);
		jw_uint("id", a->id);
		jw_bool("counted", a->enable);
		jw_object_end();
		jw_end();
	} else {
		printf("%s id 0x%08x\n", a->enable ? "counting" : "stopped counting", a->id);
	}
	return EXIT_OK;
}

int do_count(int argc, char **argv)
{
	struct count_args a = { 0 };

	if (argc != 2)
		return usage_error("expected ID on|off");
	if (parse_id(argv[0], &a.id))
		return EXIT_USAGE;
	if (!strcmp(argv[1], "on"))
		a.enable = true;
	else if (strcmp(argv[1], "off"))
		return usage_error("'%s': expected on or off", argv[1]);
	return with_client(count_run, &a);
}
