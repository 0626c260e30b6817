/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * txcancel: the command line of txcanceld, one subcommand per request of
 * libtxcancel.  This file holds main(), the global options, the table of
 * subcommands with their usage texts, and error reporting.
 *
 * Every subcommand parses all of its arguments before it connects, so a
 * usage error (exit 2) never reaches the daemon.
 */
#define _GNU_SOURCE		/* secure_getenv */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "txcancel.h"

struct txc_cli cli;

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
	const char *usage;
};

static int do_help(int argc, char **argv);

static const struct cmd cmds[] = {
	{ "hello", do_hello, "the daemon's version, limits and how it sees you",
"txcancel hello\n"
"  Connect and print the daemon's hello: protocol version, this connection's\n"
"  id, the uid and pid the daemon sees (SO_PEERCRED), the mark mask and the\n"
"  per-user limits.\n" },
	{ "prefix", do_prefix, "allocate, free and list ID prefixes",
"txcancel prefix alloc [PREFIX]\n"
"txcancel prefix free PREFIX\n"
"txcancel prefix list\n"
"  alloc: a free prefix (1..255), or PREFIX itself if it is free or an\n"
"  orphaned lease of your user.  A prefix is a lease on the connection: it\n"
"  ends when this command exits.  Programs hold prefixes with libtxcancel;\n"
"  the tool is for trying and for reclaiming.\n"
"  list: your user's leases (every lease for root).\n" },
	{ "source", do_source, "open and close source handles",
"txcancel source open [SOURCE]\n"
"txcancel source close SOURCE\n"
"  open: a new source handle, or reclaim SOURCE if it is an orphaned source\n"
"  of your user.  Like prefixes, a source is a lease on the connection.\n" },
	{ "tag", do_tag, "add and remove tag rules",
"txcancel tag add mark MARK id ID source SOURCE\n"
"txcancel tag add cgroup PATH|CGROUP_ID id ID source SOURCE\n"
"txcancel tag add flow FLOWSPEC id ID source SOURCE\n"
"txcancel tag del mark MARK\n"
"txcancel tag del cgroup PATH|CGROUP_ID\n"
"txcancel tag del flow FLOWSPEC\n"
"  FLOWSPEC: proto udp|tcp|icmp|icmpv6|NUM src ADDR[:PORT] dst ADDR[:PORT]\n"
"  IPv6 addresses with a port go in brackets: [2001:db8::1]:53.  Ports only\n"
"  for tcp, udp, udplite and sctp; absent ports are 0.\n"
"  PATH: a cgroup v2 directory (its inode number is the cgroup id); write a\n"
"  relative path that looks like a number as ./N.\n"
"  Socket tags are added by the program that owns the socket, with\n"
"  txc_tag_socket() from libtxcancel; COOKIE is what that call returned.\n" },
	{ "cancel", do_cancel, "cancel an ID, a prefix or a source",
"txcancel cancel id ID|prefix PREFIX|source SOURCE [dev IFNAME] [timeout DURATION]\n"
"  Drop and report every pending frame with that ID, under that prefix or\n"
"  tagged for that source, on every interface or on IFNAME only, until\n"
"  cleared or for DURATION (e.g. 500ms, 1.5s, 2m; a bare number is seconds).\n"
"  A frame is pending until it passes the egress hook, or, where txcanceld\n"
"  runs txcancel's qdisc (boundary \"queue\" in status), until it leaves that\n"
"  queue: the reply then comes after the queues were purged.  Frames in a\n"
"  NIC ring are sent.\n" },
	{ "clear", do_clear, "end a cancel and print its final counts",
"txcancel clear id ID|prefix PREFIX|source SOURCE\n"
"  End the cancel on every interface; frames with the ID flow again.  The\n"
"  final counts are the source's, the ID's if it is counted, or the sum of\n"
"  the counted IDs under the prefix.\n" },
	{ "count", do_count, "start or stop per-ID counters",
"txcancel count ID on|off\n"
"  Per-ID counters cost one lookup per tagged frame; see 'txcancel stats'.\n" },
	{ "stats", do_stats, "counters of sources and counted IDs",
"txcancel stats [source SOURCE | id ID | --prometheus]\n"
"  Without arguments: every source and every counted ID your user can see.\n"
"  For a source, aborted = delivered + ring_lost + backlog_lost + records\n"
"  not yet read from its ring; delivered and backlog_lost are its owner's,\n"
"  kept across daemon restarts.\n"
"  --prometheus: everything, with the interfaces' and the daemon's request\n"
"  counters, in the Prometheus text format (node_exporter's textfile collector).\n" },
	{ "batch", do_batch, "apply many operations from a file",
"txcancel batch FILE|-\n"
"  One operation per line, written as the subcommands: tag add ...,\n"
"  tag del ..., cancel ..., clear ...  ('#' starts a comment).  The whole\n"
"  file is parsed first; then the operations go to the daemon in batches of\n"
"  up to 1000, each checked as a whole before any of it is applied.  On a\n"
"  failure the operations before it stay applied; the count and the failing\n"
"  line are reported.\n" },
	{ "watch", do_watch, "stream abort completions",
"txcancel watch [-c COUNT] [-t SECONDS] [-o] [-w FILE [--snaplen N]] [SOURCE...]\n"
"  Subscribe to each SOURCE and print one line per abort completion, plus a\n"
"  line whenever a source's account of lost reports changes.  Watching a\n"
"  source of another process needs the same user or root.  -o opens a new\n"
"  source on this connection and watches it (it closes when watch ends);\n"
"  without SOURCE and -o only sources this connection opens are seen.\n"
"  -c COUNT stops after COUNT records, -t SECONDS after that time; Ctrl-C\n"
"  stops with a summary.  -w FILE also writes each completion as a packet\n"
"  to a pcapng file (-w -: to stdout, instead of the text), with the first\n"
"  --snaplen N bytes of the frame (1..512, default 128).\n" },
	{ "explain", do_explain, "what the datapath decides for a frame",
"txcancel explain [dev IFNAME] [mark MARK] FRAMESPEC\n"
"  FRAMESPEC: proto udp|tcp|icmp|icmpv6|NUM src ADDR[:PORT] dst ADDR[:PORT]\n"
"             [len N] [vlan VID]\n"
"  Build an Ethernet frame (len N: whole frame bytes, at most 512; default\n"
"  the headers only) and run it through the loaded program without effect.\n"
"  Prints the ID, source, tag kind, cancel scope in force and verdict.\n"
"  Socket and cgroup tags cannot be explained: the test run has no socket.\n" },
	{ "status", do_status, "the daemon, its interfaces and its clients",
"txcancel status\n"
"  The daemon's pid, uptime, pin directory, socket, mark mask and leases;\n"
"  its interfaces (present or absent, attach mode tcx, clsact or xdp, slot)\n"
"  and its clients (connection, uid, pid, leases, subscriptions, backlog).\n" },
	{ "help", do_help, "list subcommands, or the usage of one",
"txcancel help [COMMAND]\n" },
};

#define NR_CMDS (sizeof(cmds) / sizeof(cmds[0]))

static const char main_usage[] =
"usage: txcancel [OPTIONS] COMMAND [ARGS...]\n"
"\n"
"options:\n"
"  -s, --socket PATH  daemon socket (default: $TXCANCEL_SOCKET, else\n"
"                     " TXC_SOCKET_PATH ")\n"
"  -j, --json         JSON output; errors as {\"error\": \"...\"}\n"
"  -p, --pretty       pretty-printed JSON (implies -j)\n"
"  -h, --help         this help\n"
"  -V, --version      print the version\n"
"\n"
"Numbers are decimal or 0x hex; an ID is a number or PREFIX:LOCAL (7:42).\n"
"Exit codes: 0 ok, 1 the daemon refused or a runtime error, 2 usage error.\n"
"\n"
"commands:\n";

static const struct cmd *find_cmd(const char *name)
{
	size_t i;

	for (i = 0; i < NR_CMDS; i++)
		if (!strcmp(cmds[i].name, name))
			return &cmds[i];
	return NULL;
}

static void print_main_usage(FILE *f)
{
	size_t i;

	fputs(main_usage, f);
	for (i = 0; i < NR_CMDS; i++)
		fprintf(f, "  %-8s %s\n", cmds[i].name, cmds[i].summary);
	fputs("\n'txcancel help COMMAND' or 'txcancel COMMAND -h' shows a command's usage.\n", f);
}

/* The synopsis lines under one "usage:", the explanation below them. */
bool print_cmd_usage(FILE *f, const char *name)
{
	const struct cmd *cmd = find_cmd(name);
	const char *line, *end;

	if (!cmd)
		return false;
	for (line = cmd->usage; *line; line = end + 1) {
		end = strchr(line, '\n');
		if (!end)
			end = line + strlen(line) - 1;
		if (!strncmp(line, "txcancel ", 9))
			fputs(line == cmd->usage ? "usage: " : "       ", f);
		fwrite(line, 1, end - line + 1, f);
	}
	return true;
}

bool wants_help(int argc, char **argv)
{
	int i;

	for (i = 0; i < argc; i++)
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return true;
	return false;
}

static int do_help(int argc, char **argv)
{
	if (argc == 0 || wants_help(argc, argv)) {
		print_main_usage(stdout);
		return EXIT_OK;
	}
	if (argc > 1)
		return usage_error("expected at most one command name, got %d arguments", argc);
	if (!print_cmd_usage(stdout, argv[0]))
		return usage_error("no command '%s'; 'txcancel help' lists them", argv[0]);
	return EXIT_OK;
}

/* ---- errors -------------------------------------------------------------- */

static void report(const char *fmt, va_list ap)
{
	char msg[1024];
	char full[1400];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (cli.where[0])
		snprintf(full, sizeof(full), "%s: %s", cli.where, msg);
	else
		snprintf(full, sizeof(full), "%s", msg);

	if (cli.json) {
		jw_object(NULL);
		jw_string("error", full);
		jw_object_end();
		jw_end();
		return;
	}
	fflush(stdout);
	if (cli.cmd[0])
		fprintf(stderr, "txcancel: %s: ", cli.cmd);
	else
		fputs("txcancel: ", stderr);
	print_safe(stderr, full, sizeof(full));
	fputc('\n', stderr);
}

int cli_error(int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report(fmt, ap);
	va_end(ap);
	return ret;
}

int client_error(struct txc_client *c, int err)
{
	const char *text = c ? txc_client_error(c) : NULL;

	if (text && text[0])
		return runtime_error("%s", text);
	return runtime_error("%s", strerror(err < 0 ? -err : err));
}

void cli_subcommand(const char *word)
{
	size_t n = strlen(cli.cmd);

	snprintf(cli.cmd + n, sizeof(cli.cmd) - n, " %s", word);
}

struct txc_client *cli_connect(void)
{
	struct txc_client *c = NULL;
	const char *text;
	int err;

	err = txc_client_open(&c, cli.socket_path);
	if (err >= 0 && c)
		return c;
	text = txc_last_error();
	if (text && text[0])
		runtime_error("%s", text);
	else
		runtime_error("cannot connect to %s: %s", cli.socket_path,
			      strerror(err < 0 ? -err : EIO));
	return NULL;
}

/* ---- main ---------------------------------------------------------------- */

static int print_version(void)
{
	if (cli.json) {
		jw_object(NULL);
		jw_string("version", TXCANCEL_VERSION);
		jw_uint("protocol", TXC_PROTO_VERSION);
		jw_uint("record", TXC_RECORD_VERSION);
		jw_object_end();
		jw_end();
		return EXIT_OK;
	}
	printf("txcancel %s (protocol %u, record version %u)\n", TXCANCEL_VERSION,
	       TXC_PROTO_VERSION, TXC_RECORD_VERSION);
	return EXIT_OK;
}

/* Before the options are all read: was JSON asked for among them? */
static bool json_asked(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc && argv[i][0] == '-'; i++)
		if (!strcmp(argv[i], "-j") || !strcmp(argv[i], "--json") ||
		    !strcmp(argv[i], "-p") || !strcmp(argv[i], "--pretty"))
			return true;
	return false;
}

/*
 * Global options may also follow the command ("txcancel stats -j"): take
 * them out of its arguments.  No subcommand argument starts with '-' except
 * watch's own -c, -t, -o, -w and --snaplen, which these do not collide with.
 */
static int take_global_options(int *argc, char **argv)
{
	int i, n = 1;

	for (i = 1; i < *argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "-j") || !strcmp(a, "--json")) {
			cli.json = true;
		} else if (!strcmp(a, "-p") || !strcmp(a, "--pretty")) {
			cli.json = true;
			cli.pretty = true;
		} else if (!strcmp(a, "-s") || !strcmp(a, "--socket")) {
			if (++i == *argc)
				return usage_error("option %s needs a PATH", a);
			cli.socket_path = argv[i];
		} else {
			argv[n++] = argv[i];
		}
	}
	*argc = n;
	return EXIT_OK;
}

static int run_cmd(int argc, char **argv)
{
	const struct cmd *cmd = find_cmd(argv[0]);

	if (!cmd)
		return usage_error("unknown command '%s'; 'txcancel help' lists them", argv[0]);
	snprintf(cli.cmd, sizeof(cli.cmd), "%s", cmd->name);
	if (take_global_options(&argc, argv))
		return EXIT_USAGE;
	if (!cli.socket_path[0])
		return usage_error("the socket path is empty");
	if (strlen(cli.socket_path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return usage_error("socket path '%s' is longer than the %zu bytes of a Unix "
				   "socket address", cli.socket_path,
				   sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
	/* "help -h" is just help; every other command prints its usage. */
	if (cmd->fn != do_help && wants_help(argc - 1, argv + 1)) {
		print_cmd_usage(stdout, cmd->name);
		return EXIT_OK;
	}
	return cmd->fn(argc - 1, argv + 1);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket",  required_argument, NULL, 's' },
		{ "json",    no_argument,       NULL, 'j' },
		{ "pretty",  no_argument,       NULL, 'p' },
		{ "help",    no_argument,       NULL, 'h' },
		{ "version", no_argument,       NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	bool help = false, version = false;
	int opt, ret;

	/* As libtxcancel: a set-id caller cannot redirect the tool. */
	cli.socket_path = secure_getenv("TXCANCEL_SOCKET");
	if (!cli.socket_path || !cli.socket_path[0])
		cli.socket_path = TXC_SOCKET_PATH;

	/* "+": stop at the command, its own options (watch -c) are its own. */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+s:jphV", opts, NULL)) != -1) {
		switch (opt) {
		case 's':
			cli.socket_path = optarg;
			break;
		case 'j':
			cli.json = true;
			break;
		case 'p':
			cli.json = true;
			cli.pretty = true;
			break;
		case 'h':
			help = true;
			break;
		case 'V':
			version = true;
			break;
		default:
			cli.json = cli.json || json_asked(argc, argv);
			if (optopt == 's')
				return usage_error("option -s needs a PATH");
			if (optopt)
				return usage_error("option -%c is not known; see 'txcancel --help'",
						   optopt);
			return usage_error("option '%s' is not known; see 'txcancel --help'",
					   argv[optind - 1]);
		}
	}
	if (help) {
		print_main_usage(stdout);
		return EXIT_OK;
	}
	if (version)
		return print_version();
	if (optind >= argc) {
		if (!cli.json)
			print_main_usage(stderr);
		return usage_error("no command given");
	}

	ret = run_cmd(argc - optind, argv + optind);
	if (fflush(stdout) || ferror(stdout)) {
		/* Say so on stderr: stdout is what failed. */
		fprintf(stderr, "txcancel: %s: writing the output failed\n", cli.cmd);
		return EXIT_RUNTIME;
	}
	return ret;
}
