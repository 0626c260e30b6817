/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The request/reply subcommands that read or lease without touching the
 * datapath's rules: hello, prefix, source, count, stats and status.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>

#include "txcancel.h"

/* Replies are bounded by TXC_MSG_MAX, so are the lists in them. */
#define MAX_STATS	((TXC_MSG_MAX - sizeof(struct txc_msg_hdr) - \
			  sizeof(struct txc_rep_list)) / sizeof(struct txc_stats_entry))
#define MAX_CLIENTS	((TXC_MSG_MAX - sizeof(struct txc_msg_hdr) - \
			  sizeof(struct txc_rep_status)) / sizeof(struct txc_status_client))

static int no_more_args(int argc, char **argv, int from)
{
	/* "help" takes the command, not "prefix alloc". */
	int cmd_len = strcspn(cli.cmd, " ");

	if (argc > from)
		return usage_error("unexpected '%s'; see 'txcancel help %.*s'", argv[from],
				   cmd_len, cli.cmd);
	return EXIT_OK;
}

/* Connect, run @fn, close: the shape of every subcommand here. */
static int with_client(int (*fn)(struct txc_client *c, void *arg), void *arg)
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
static void format_uptime(char *buf, size_t len, __u64 ns)
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
	if (cli.json) {
		jw_object(NULL);
		jw_uint("freed", a->prefix);
		jw_object_end();
		jw_end();
	} else {
		printf("freed prefix %u\n", a->prefix);
	}
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
	if (cli.json) {
		jw_object(NULL);
		jw_uint(a->open ? "source" : "closed", source);
		jw_object_end();
		jw_end();
	} else {
		printf(a->open ? "source %u\n" : "closed source %u\n", source);
	}
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

/* ---- stats --------------------------------------------------------------- */

struct stats_args {
	__u8 scope;		/* 0: sources, IDs and interfaces */
	__u32 value;
	struct txc_stats_entry *sources, *ids;
	int n_sources, n_ids;
	/* Where frames were aborted, per interface; -1: the daemon predates it. */
	struct txc_places_iface places[TXC_MAX_IFACES];
	int n_places;
};

static void jw_places_iface(const struct txc_places_iface *p)
{
	jw_object(NULL);
	jw_string_n("interface", p->name, sizeof(p->name));
	jw_uint("ifindex", p->ifindex);
	jw_bool("qdisc", p->flags & TXC_PLACES_F_QDISC);
	jw_uint("queues", p->queues);
	jw_uint("in_queue", p->queued);
	jw_object("aborted");
	for (unsigned int i = 0; i < TXC_PLACES; i++) {
		if (i == TXC_AT_HOOK && !(p->flags & TXC_PLACES_F_HOOK_COUNTED))
			jw_null(place_name(i));
		else
			jw_uint(place_name(i), p->aborted[i]);
	}
	jw_object_end();
	jw_object_end();
}

/* Frames aborted by place, per interface; HOOK is "-" without --iface-counters. */
static void print_places_table(const struct txc_places_iface *p, int n)
{
	char hook[24];

	if (!n) {
		printf("no interfaces\n");
		return;
	}
	printf("%-15s %5s %6s %8s %12s %10s %10s %10s %10s\n", "INTERFACE", "QDISC", "QUEUES",
	       "IN_QUEUE", "HOOK", "ENQUEUE", "QUEUED", "DEQUEUE", "RESET");
	for (int i = 0; i < n; i++) {
		if (p[i].flags & TXC_PLACES_F_HOOK_COUNTED)
			snprintf(hook, sizeof(hook), "%llu",
				 (unsigned long long)p[i].aborted[TXC_AT_HOOK]);
		else
			snprintf(hook, sizeof(hook), "-");
		printf("%-15.16s %5s %6u %8u %12s %10llu %10llu %10llu %10llu\n", p[i].name,
		       p[i].flags & TXC_PLACES_F_QDISC ? "yes" : "no", p[i].queues, p[i].queued,
		       hook, (unsigned long long)p[i].aborted[TXC_AT_ENQUEUE],
		       (unsigned long long)p[i].aborted[TXC_AT_PURGE],
		       (unsigned long long)p[i].aborted[TXC_AT_DEQUEUE],
		       (unsigned long long)p[i].aborted[TXC_PLACE_RESET]);
	}
}

static void jw_stats_entry(const struct txc_stats_entry *e)
{
	jw_object(NULL);
	jw_uint(e->scope == TXC_SCOPE_ID ? "id" : "source", e->value);
	jw_uint("passed_frames", e->counts.passed_frames);
	jw_uint("passed_bytes", e->counts.passed_bytes);
	jw_uint("aborted_frames", e->counts.aborted_frames);
	jw_uint("aborted_bytes", e->counts.aborted_bytes);
	if (e->scope == TXC_SCOPE_SOURCE) {
		jw_uint("ring_lost", e->ring_lost);
		jw_uint("delivered", e->delivered);
		jw_uint("backlog_lost", e->backlog_lost);
		jw_uint("subscribers", e->subscribers);
		jw_uint("uid", e->uid);
	}
	jw_object_end();
}

static void print_stats_json(const struct stats_args *a)
{
	int i;

	jw_object(NULL);
	if (a->scope != TXC_SCOPE_ID) {
		jw_array("sources");
		for (i = 0; i < a->n_sources; i++)
			jw_stats_entry(&a->sources[i]);
		jw_array_end();
	}
	if (a->scope != TXC_SCOPE_SOURCE) {
		jw_array("ids");
		for (i = 0; i < a->n_ids; i++)
			jw_stats_entry(&a->ids[i]);
		jw_array_end();
	}
	if (a->n_places >= 0 && !a->scope) {
		jw_array("interfaces");
		for (i = 0; i < a->n_places; i++)
			jw_places_iface(&a->places[i]);
		jw_array_end();
	}
	jw_object_end();
	jw_end();
}

static void print_source_table(const struct txc_stats_entry *e, int n)
{
	int i;

	if (!n) {
		printf("no sources\n");
		return;
	}
	printf("%-6s %6s %12s %14s %12s %14s %10s %12s %10s %4s\n", "SOURCE", "UID",
	       "PASSED", "PASSED_BYTES", "ABORTED", "ABORTED_BYTES", "RING_LOST",
	       "DELIVERED", "BKLG_LOST", "SUBS");
	for (i = 0; i < n; i++)
		printf("%-6u %6u %12llu %14llu %12llu %14llu %10llu %12llu %10llu %4u\n",
		       e[i].value, e[i].uid,
		       (unsigned long long)e[i].counts.passed_frames,
		       (unsigned long long)e[i].counts.passed_bytes,
		       (unsigned long long)e[i].counts.aborted_frames,
		       (unsigned long long)e[i].counts.aborted_bytes,
		       (unsigned long long)e[i].ring_lost,
		       (unsigned long long)e[i].delivered,
		       (unsigned long long)e[i].backlog_lost, e[i].subscribers);
}

static void print_id_table(const struct txc_stats_entry *e, int n)
{
	int i;

	if (!n) {
		printf("no counted IDs ('txcancel count ID on' counts one)\n");
		return;
	}
	printf("%-10s %12s %14s %12s %14s\n", "ID", "PASSED", "PASSED_BYTES", "ABORTED",
	       "ABORTED_BYTES");
	for (i = 0; i < n; i++)
		printf("0x%08x %12llu %14llu %12llu %14llu\n", e[i].value,
		       (unsigned long long)e[i].counts.passed_frames,
		       (unsigned long long)e[i].counts.passed_bytes,
		       (unsigned long long)e[i].counts.aborted_frames,
		       (unsigned long long)e[i].counts.aborted_bytes);
}

static int stats_run(struct txc_client *c, void *arg)
{
	struct stats_args *a = arg;

	if (a->scope != TXC_SCOPE_ID) {
		a->n_sources = txc_stats(c, TXC_SCOPE_SOURCE,
					 a->scope == TXC_SCOPE_SOURCE ? a->value : 0,
					 a->sources, MAX_STATS);
		if (a->n_sources < 0)
			return client_error(c, a->n_sources);
	}
	if (a->scope != TXC_SCOPE_SOURCE) {
		a->n_ids = txc_stats(c, TXC_SCOPE_ID, a->scope == TXC_SCOPE_ID ? a->value : 0,
				     a->ids, MAX_STATS);
		if (a->n_ids < 0)
			return client_error(c, a->n_ids);
	}
	a->n_places = -1;
	if (!a->scope) {
		a->n_places = txc_abort_places(c, a->places, TXC_MAX_IFACES);
		/* A daemon that predates ABORT_PLACES: the rest is still worth showing. */
		if (a->n_places == -EBADMSG)
			a->n_places = -1;
		else if (a->n_places < 0)
			return client_error(c, a->n_places);
		else if (a->n_places > (int)TXC_MAX_IFACES)
			a->n_places = TXC_MAX_IFACES;
	}
	if (cli.json) {
		print_stats_json(a);
		return EXIT_OK;
	}
	if (a->scope != TXC_SCOPE_ID)
		print_source_table(a->sources, a->n_sources);
	if (!a->scope)
		printf("\n");
	if (a->scope != TXC_SCOPE_SOURCE)
		print_id_table(a->ids, a->n_ids);
	if (a->n_places >= 0) {
		printf("\nframes aborted, by place:\n");
		print_places_table(a->places, a->n_places);
	}
	return EXIT_OK;
}

int do_stats(int argc, char **argv)
{
	struct stats_args a = { 0 };
	int ret;

	if (argc >= 1 && !strcmp(argv[0], "--prometheus")) {
		if (argc > 1)
			return usage_error("--prometheus takes no arguments: it lists everything");
		if (cli.json)
			return usage_error("--prometheus and -j are two different outputs: "
					   "choose one");
		return stats_prometheus();
	}
	if (argc == 1 && (!strcmp(argv[0], "source") || !strcmp(argv[0], "id")))
		return usage_error("'%s' needs a value", argv[0]);
	if (argc == 1 || argc > 2)
		return usage_error("expected nothing, source SOURCE or id ID");
	if (argc == 2) {
		if (!strcmp(argv[0], "source")) {
			a.scope = TXC_SCOPE_SOURCE;
			if (parse_source(argv[1], &a.value))
				return EXIT_USAGE;
		} else if (!strcmp(argv[0], "id")) {
			a.scope = TXC_SCOPE_ID;
			if (parse_id(argv[1], &a.value))
				return EXIT_USAGE;
		} else {
			return usage_error("'%s': expected source SOURCE or id ID", argv[0]);
		}
	}
	a.sources = calloc(MAX_STATS, sizeof(*a.sources));
	a.ids = calloc(MAX_STATS, sizeof(*a.ids));
	if (!a.sources || !a.ids)
		ret = runtime_error("out of memory");
	else
		ret = with_client(stats_run, &a);
	free(a.sources);
	free(a.ids);
	return ret;
}

/* ---- status -------------------------------------------------------------- */

struct status_args {
	struct txc_rep_status st;
	struct txc_status_iface ifaces[TXC_MAX_IFACES];
	struct txc_status_client *clients;
};

/* "tcx", "clsact", "clsact(created)+xdp", "tcx+qdisc", "-". */
static void format_attach(char *buf, size_t len, __u32 flags)
{
	snprintf(buf, len, "%s%s%s%s%s",
		 flags & TXC_IFACE_F_TC_TCX ? "tcx" : "",
		 flags & TXC_IFACE_F_TC_CLSACT ?
		 (flags & TXC_IFACE_F_CLSACT_CREATED ? "clsact(created)" : "clsact") : "",
		 flags & TXC_IFACE_F_QDISC ? "+qdisc" : "",
		 (flags & (TXC_IFACE_F_TC_TCX | TXC_IFACE_F_TC_CLSACT)) &&
		 (flags & TXC_IFACE_F_XDP) ? "+" : "",
		 !(flags & TXC_IFACE_F_XDP) ? "" :
		 flags & TXC_IFACE_F_XDP_MULTIPROG ? "xdp(dispatcher)" : "xdp(link)");
	if (!buf[0])
		snprintf(buf, len, "-");
}

/* Why XDP runs on a link of its own, not in libxdp's dispatcher; NULL if it does not. */
static const char *xdp_link_reason(__u32 flags)
{
	if (!(flags & TXC_IFACE_F_XDP) || (flags & TXC_IFACE_F_XDP_MULTIPROG))
		return NULL;
	switch ((flags & TXC_IFACE_XDP_WHY_MASK) >> TXC_IFACE_XDP_WHY_SHIFT) {
	case TXC_XDP_LINK_NO_DISPATCHER:
		return "the kernel cannot run libxdp's dispatcher (no freplace programs)";
	case TXC_XDP_LINK_LIBXDP:
		return "libxdp could not attach it (the daemon's log says why)";
	case TXC_XDP_LINK_NO_SYS_ADMIN:
		return "libxdp needs CAP_SYS_ADMIN, which txcanceld does not have";
	default:
		return "attached before txcancel used libxdp's dispatcher";
	}
}

/*
 * Up to where a cancel reaches on the interface: frames already queued
 * (txcancel's qdisc holds the queues) or frames that reach the hook.
 */
static const char *boundary_name(__u32 flags)
{
	if (flags & TXC_IFACE_F_QDISC)
		return "queue";
	if (flags & (TXC_IFACE_F_TC_TCX | TXC_IFACE_F_TC_CLSACT | TXC_IFACE_F_XDP))
		return "hook";
	return "-";
}

static void format_hooks(char *buf, size_t len, __u32 hooks)
{
	snprintf(buf, len, "%s%s%s%s%s",
		 hooks & (1u << TXC_HOOK_TC_EGRESS) ? "tc" : "",
		 hooks & (1u << TXC_HOOK_TC_EGRESS) &&
		 hooks & ((1u << TXC_HOOK_XDP) | (1u << TXC_HOOK_XDP_DEVMAP)) ?
		 "," : "",
		 hooks & (1u << TXC_HOOK_XDP) ? "xdp" : "",
		 hooks & (1u << TXC_HOOK_XDP) && hooks & (1u << TXC_HOOK_XDP_DEVMAP) ? "," : "",
		 hooks & (1u << TXC_HOOK_XDP_DEVMAP) ? "xdp-devmap" : "");
	/* The daemon's bit for txcancel's qdisc (txcanceld.h: TXCD_HOOK_QDISC). */
	if (hooks & (1u << 8))
		snprintf(buf + strlen(buf), len - strlen(buf), "%sqdisc", buf[0] ? "," : "");
	if (!buf[0])
		snprintf(buf, len, "-");
}

static void status_json(const struct status_args *a, __u32 n_ifaces, __u32 n_clients)
{
	const struct txc_rep_status *st = &a->st;
	char buf[64];
	__u32 i;

	jw_object(NULL);
	jw_uint("pid", st->pid);
	jw_uint("uptime_ns", st->uptime_ns);
	jw_string_n("pin_dir", st->pin_dir, sizeof(st->pin_dir));
	jw_string_n("socket_path", st->socket_path, sizeof(st->socket_path));
	jw_uint("mark_mask", st->mark_mask);
	jw_uint("prefixes", st->n_prefixes);
	jw_uint("sources", st->n_sources);
	jw_uint("n_ifaces", st->n_ifaces);
	jw_uint("n_clients", st->n_clients);
	jw_array("ifaces");
	for (i = 0; i < n_ifaces; i++) {
		const struct txc_status_iface *f = &a->ifaces[i];

		jw_object(NULL);
		jw_string_n("name", f->name, sizeof(f->name));
		jw_uint("ifindex", f->ifindex);
		jw_bool("present", f->flags & TXC_STATUS_IFACE_PRESENT);
		format_attach(buf, sizeof(buf), f->flags);
		jw_string("attach", buf);
		if (xdp_link_reason(f->flags))
			jw_string("xdp_link_reason", xdp_link_reason(f->flags));
		else
			jw_null("xdp_link_reason");
		format_hooks(buf, sizeof(buf), f->hooks);
		jw_string("hooks", buf);
		jw_string("boundary", boundary_name(f->flags));
		jw_uint("slot", f->slot);
		jw_uint("flags", f->flags);
		jw_object_end();
	}
	jw_array_end();
	jw_array("clients");
	for (i = 0; i < n_clients; i++) {
		const struct txc_status_client *cl = &a->clients[i];

		jw_object(NULL);
		jw_uint("conn_id", cl->conn_id);
		jw_uint("uid", cl->uid);
		jw_uint("pid", cl->pid);
		jw_uint("prefixes", cl->prefixes);
		jw_uint("sources", cl->sources);
		jw_uint("subscriptions", cl->subscriptions);
		jw_uint("backlog", cl->backlog);
		jw_object_end();
	}
	jw_array_end();
	jw_object_end();
	jw_end();
}

static void status_ifaces(const struct status_args *a, __u32 n)
{
	char name[IFNAMSIZ * 4 + 1], attach[64], hooks[64];
	__u32 i;

	printf("\ninterfaces (%u):\n", a->st.n_ifaces);
	if (!n)
		return;
	printf("  %-16s %7s  %-7s  %-20s %-16s %-8s %4s\n", "NAME", "IFINDEX", "STATE",
	       "ATTACH", "HOOKS", "BOUNDARY", "SLOT");
	for (i = 0; i < n; i++) {
		const struct txc_status_iface *f = &a->ifaces[i];
		bool present = f->flags & TXC_STATUS_IFACE_PRESENT;

		sanitize(name, sizeof(name), f->name, sizeof(f->name));
		format_attach(attach, sizeof(attach), f->flags);
		format_hooks(hooks, sizeof(hooks), f->hooks);
		if (present)
			printf("  %-16s %7u", name, f->ifindex);
		else
			printf("  %-16s %7s", name, "-");
		printf("  %-7s  %-20s %-16s %-8s %4u\n", present ? "present" : "absent",
		       attach, hooks, boundary_name(f->flags), f->slot);
	}
	for (i = 0; i < n; i++) {
		if (!xdp_link_reason(a->ifaces[i].flags))
			continue;
		sanitize(name, sizeof(name), a->ifaces[i].name, sizeof(a->ifaces[i].name));
		printf("  %s: XDP on a link of its own, so no other XDP program can share the "
		       "interface: %s\n", name, xdp_link_reason(a->ifaces[i].flags));
	}
	if (n < a->st.n_ifaces)
		printf("  (%u more not shown)\n", a->st.n_ifaces - n);
}

static void status_clients(const struct status_args *a, __u32 n)
{
	__u32 i;

	printf("\nclients (%u):\n", a->st.n_clients);
	if (!n)
		return;
	printf("  %-6s %10s %10s %8s %8s %5s %10s\n", "CONN", "UID", "PID", "PREFIXES",
	       "SOURCES", "SUBS", "BACKLOG");
	for (i = 0; i < n; i++) {
		const struct txc_status_client *cl = &a->clients[i];

		printf("  %-6u %10u %10u %8u %8u %5u %10llu\n", cl->conn_id, cl->uid,
		       cl->pid, cl->prefixes, cl->sources, cl->subscriptions,
		       (unsigned long long)cl->backlog);
	}
	if (n < a->st.n_clients)
		printf("  (%u more not shown)\n", a->st.n_clients - n);
}

static int status_run(struct txc_client *c, void *arg)
{
	struct status_args *a = arg;
	const struct txc_rep_status *st = &a->st;
	__u32 n_ifaces, n_clients;
	char up[32];
	int err;

	err = txc_status(c, &a->st, a->ifaces, TXC_MAX_IFACES, a->clients, MAX_CLIENTS);
	if (err < 0)
		return client_error(c, err);
	/* The totals may exceed what one reply carries; show what came. */
	n_ifaces = st->n_ifaces < TXC_MAX_IFACES ? st->n_ifaces : TXC_MAX_IFACES;
	n_clients = st->n_clients < MAX_CLIENTS ? st->n_clients : MAX_CLIENTS;
	if (cli.json) {
		status_json(a, n_ifaces, n_clients);
		return EXIT_OK;
	}
	format_uptime(up, sizeof(up), st->uptime_ns);
	printf("daemon      pid %u, up %s\n", st->pid, up);
	printf("pin dir     ");
	print_safe(stdout, st->pin_dir, sizeof(st->pin_dir));
	printf("\nsocket      ");
	print_safe(stdout, st->socket_path, sizeof(st->socket_path));
	printf("\nmark mask   0x%08x%s\n", st->mark_mask, st->mark_mask ? "" : " (mark tags off)");
	printf("leases      %u prefixes, %u sources\n", st->n_prefixes, st->n_sources);
	status_ifaces(a, n_ifaces);
	status_clients(a, n_clients);
	return EXIT_OK;
}

int do_status(int argc, char **argv)
{
	struct status_args a;
	int ret;

	if (argc)
		return no_more_args(argc, argv, 0);
	memset(&a, 0, sizeof(a));
	a.clients = calloc(MAX_CLIENTS, sizeof(*a.clients));
	if (!a.clients)
		return runtime_error("out of memory");
	ret = with_client(status_run, &a);
	free(a.clients);
	return ret;
}
