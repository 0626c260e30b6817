/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The operations that change the datapath: tag add/del, cancel and clear,
 * one at a time from the command line.  A batch file (txcancel_batch.c)
 * goes through the same parser into a struct op, so a batch line is
 * written exactly like the subcommand.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "tag_kinds.h"
#include "values.h"
#include "txcancel.h"

/* ---- parsing ------------------------------------------------------------- */

static int parse_tag_kind(const char *s, __u8 *kind)
{
	const struct txcc_tag_kind *k = txcc_tag_kind_by_name(s);
	char names[TXCC_NAMES_MAX];

	if (!k)
		return arg_error("tag kind '%s': expected %s", s, txcc_tag_kind_names(names, false));
	*kind = k->kind;
	return 0;
}

/* The one key argument of mark, cgroup and socket rules. */
static int parse_simple_key(struct op *op, const char *arg)
{
	char why[TXCC_PROBLEM_MAX];
	__u64 cookie;
	__u32 at;

	switch (op->kind) {
	case TXC_TAG_MARK:
		if (parse_u32(arg, "mark", &op->key.mark))
			return -EINVAL;
		if (txcc_tag_key_problem(op->kind, &op->key, &at, why))
			return arg_error("%s", why);
		return 0;
	case TXC_TAG_CGROUP:
		return parse_cgroup(arg, &op->key.cgroup_id);
	case TXC_TAG_SOCKET:
		if (parse_u64(arg, "socket cookie", ~0ULL, &cookie))
			return -EINVAL;
		if (!cookie)
			return arg_error("socket cookie 0 is not valid: use the cookie that "
					 "txc_tag_socket() returned");
		op->key.socket_cookie = cookie;
		return 0;
	}
	return -EINVAL;
}

static int parse_flow_endpoint(struct txc_flow_key *flow, const char *kw, const char *arg,
			       bool *has_port)
{
	bool src = !strcmp(kw, "src");
	__u8 family;

	if (parse_endpoint(arg, kw, &family, src ? flow->saddr : flow->daddr,
			   src ? &flow->sport : &flow->dport, has_port))
		return -EINVAL;
	if (flow->family && flow->family != family)
		return arg_error("src and dst must both be IPv4 or both IPv6 (%s '%s')", kw, arg);
	flow->family = family;
	return 0;
}

/* What a 5-tuple must satisfy to ever match a frame. */
static int check_flow(const struct txc_flow_key *flow, bool have_proto, bool have_src,
		      bool have_dst, bool ports)
{
	char pbuf[16];

	if (!have_proto || !have_src || !have_dst)
		return arg_error("a flow needs proto, src and dst "
				 "(e.g. proto udp src 198.18.0.1:4000 dst 198.18.0.2:53)");
	if (ports && !proto_has_ports(flow->proto))
		return arg_error("proto %s has no ports: write src and dst without ':PORT'",
				 proto_name(flow->proto, pbuf, sizeof(pbuf)));
	if ((flow->proto == IPPROTO_ICMP && flow->family == TXC_FAMILY_IPV6) ||
	    (flow->proto == IPPROTO_ICMPV6 && flow->family == TXC_FAMILY_IPV4))
		return arg_error("proto %s does not go with %s addresses: use %s",
				 proto_name(flow->proto, pbuf, sizeof(pbuf)),
				 flow->family == TXC_FAMILY_IPV6 ? "IPv6" : "IPv4",
				 flow->family == TXC_FAMILY_IPV6 ? "icmpv6" : "icmp");
	return 0;
}

/* The keywords of a tag given so far: each at most once. */
struct tag_words {
	bool add;
	bool id, source, proto, src, dst;
	bool ports;		/* src or dst had a port */
};

/* The keyword at argv[*i] and its value; advances *i past both. */
static int parse_tag_word(int argc, char **argv, int *i, struct op *op, struct tag_words *w)
{
	bool flow = op->kind == TXC_TAG_FLOW, port;
	const char *kw = argv[*i], *v;
	bool *have;

	if (flow && !strcmp(kw, "proto"))
		have = &w->proto;
	else if (flow && !strcmp(kw, "src"))
		have = &w->src;
	else if (flow && !strcmp(kw, "dst"))
		have = &w->dst;
	else if (w->add && !strcmp(kw, "id"))
		have = &w->id;
	else if (w->add && !strcmp(kw, "source"))
		have = &w->source;
	else if (!w->add && (!strcmp(kw, "id") || !strcmp(kw, "source")))
		return arg_error("'tag del' takes no '%s': a rule is named by its key alone", kw);
	else
		return arg_error("unexpected '%s'; expected %s", kw,
				 flow ? (w->add ? "proto, src, dst, id or source" : "proto, src or dst") :
				 (w->add ? "id or source" : "nothing more"));
	if (*have)
		return arg_error("'%s' is given twice", kw);
	*have = true;

	if (have == &w->proto)
		return (v = take_value(argc, argv, i, "a protocol")) &&
		       !parse_ip_proto(v, &op->key.flow.proto) ? 0 : -EINVAL;
	if (have == &w->id)
		return (v = take_value(argc, argv, i, "an ID")) &&
		       !parse_id(v, &op->cancel_id) ? 0 : -EINVAL;
	if (have == &w->source)
		return (v = take_value(argc, argv, i, "a SOURCE")) &&
		       !parse_source(v, &op->source) ? 0 : -EINVAL;
	if (!(v = take_value(argc, argv, i, "ADDR[:PORT]")) ||
	    parse_flow_endpoint(&op->key.flow, kw, v, &port))
		return -EINVAL;
	w->ports |= port;
	return 0;
}

/*
 * argv: add|del KIND KEY... [id ID source SOURCE].  The keywords after the
 * kind may come in any order; each at most once.
 */
static int parse_tag(int argc, char **argv, struct op *op)
{
	char names[TXCC_NAMES_MAX];
	struct tag_words w = { 0 };
	int i;

	memset(op, 0, sizeof(*op));
	if (argc < 1 || (strcmp(argv[0], "add") && strcmp(argv[0], "del")))
		return arg_error("expected 'add' or 'del'%s%s%s", argc ? ", not '" : "",
				 argc ? argv[0] : "", argc ? "'" : "");
	w.add = !strcmp(argv[0], "add");
	op->type = w.add ? TXC_MSG_TAG_ADD : TXC_MSG_TAG_DEL;
	if (argc < 2)
		return arg_error("expected %s after '%s'", txcc_tag_kind_names(names, false),
				 argv[0]);
	if (parse_tag_kind(argv[1], &op->kind))
		return -EINVAL;
	/* The daemon reaches a socket's tag only through the socket, which only its owner has. */
	if (op->kind == TXC_TAG_SOCKET)
		return arg_error(w.add ?
				 "a socket can only be tagged by the program that owns it: "
				 "call txc_tag_socket() from libtxcancel there (the daemon "
				 "receives the socket itself, over the connection)" :
				 "a socket's tag is stored in the socket: its owner removes it "
				 "(txc_untag_socket()); it also ends when the socket is closed, "
				 "its source closed or its prefix freed ('txcancel source close', "
				 "'txcancel prefix free')");

	i = 2;
	if (op->kind != TXC_TAG_FLOW) {
		if (argc < 3)
			return arg_error("'%s' needs %s", argv[1],
					 op->kind == TXC_TAG_MARK ? "a MARK" : "a PATH or CGROUP_ID");
		if (parse_simple_key(op, argv[2]))
			return -EINVAL;
		i = 3;
	}
	while (i < argc)
		if (parse_tag_word(argc, argv, &i, op, &w))
			return -EINVAL;

	if (op->kind == TXC_TAG_FLOW && check_flow(&op->key.flow, w.proto, w.src, w.dst, w.ports))
		return -EINVAL;
	if (w.add && (!w.id || !w.source))
		return arg_error("'tag add' needs 'id ID' and 'source SOURCE'");
	return 0;
}

/* argv: id ID | prefix PREFIX | source SOURCE (the object of cancel and clear) */
static int parse_target(int argc, char **argv, struct op *op)
{
	if (argc < 1)
		return arg_error("expected id ID, prefix PREFIX or source SOURCE");
	if (parse_scope(argv[0], &op->scope))
		return -EINVAL;
	if (argc < 2)
		return arg_error("'%s' needs a value", argv[0]);
	switch (op->scope) {
	case TXC_SCOPE_ID:
		return parse_id(argv[1], &op->value);
	case TXC_SCOPE_PREFIX:
		return parse_prefix(argv[1], &op->value);
	default:
		return parse_source(argv[1], &op->value);
	}
}

static int parse_cancel(int argc, char **argv, struct op *op)
{
	bool have_dev = false, have_timeout = false;
	const char *v;
	int i = 2;

	memset(op, 0, sizeof(*op));
	op->type = TXC_MSG_CANCEL;
	if (parse_target(argc, argv, op))
		return -EINVAL;
	while (i < argc) {
		if (!strcmp(argv[i], "dev") && !have_dev) {
			if (!(v = take_value(argc, argv, &i, "an IFNAME")) ||
			    parse_ifname(v, op->ifname))
				return -EINVAL;
			have_dev = true;
		} else if (!strcmp(argv[i], "timeout") && !have_timeout) {
			if (!(v = take_value(argc, argv, &i, "a DURATION (e.g. 10s)")) ||
			    parse_duration(v, &op->timeout_ns))
				return -EINVAL;
			have_timeout = true;
		} else if (!strcmp(argv[i], "dev") || !strcmp(argv[i], "timeout")) {
			return arg_error("'%s' is given twice", argv[i]);
		} else {
			return arg_error("unexpected '%s'; expected dev IFNAME or "
					 "timeout DURATION", argv[i]);
		}
	}
	return 0;
}

static int parse_clear(int argc, char **argv, struct op *op)
{
	memset(op, 0, sizeof(*op));
	op->type = TXC_MSG_CLEAR;
	if (parse_target(argc, argv, op))
		return -EINVAL;
	if (argc > 2)
		return arg_error("unexpected '%s': clear takes id, prefix or source "
				 "and a value, on every interface", argv[2]);
	return 0;
}

int parse_op(int argc, char **argv, struct op *op)
{
	if (!strcmp(argv[0], "tag"))
		return parse_tag(argc - 1, argv + 1, op);
	if (!strcmp(argv[0], "cancel"))
		return parse_cancel(argc - 1, argv + 1, op);
	if (!strcmp(argv[0], "clear"))
		return parse_clear(argc - 1, argv + 1, op);
	return arg_error("unknown operation '%s': expected tag add, tag del, cancel or clear",
			 argv[0]);
}

/* ---- output -------------------------------------------------------------- */

static void format_value(char *buf, size_t len, __u8 scope, __u32 value)
{
	if (scope == TXC_SCOPE_ID)
		snprintf(buf, len, "id 0x%08x", value);
	else
		snprintf(buf, len, "%s %u", scope_name(scope), value);
}

/* What a cancel or clear names, as members: format_value() for JSON. */
static void jw_value(__u8 scope, __u32 value)
{
	jw_string("scope", scope_name(scope));
	jw_uint("value", value);
}

static void format_key(char *buf, size_t len, const struct op *op)
{
	const struct txc_flow_key *f = &op->key.flow;
	char src[ENDPOINT_STRLEN], dst[ENDPOINT_STRLEN], pbuf[16];
	bool ports = proto_has_ports(f->proto);

	switch (op->kind) {
	case TXC_TAG_MARK:
		snprintf(buf, len, "mark 0x%x", op->key.mark);
		break;
	case TXC_TAG_CGROUP:
		snprintf(buf, len, "cgroup %llu", (unsigned long long)op->key.cgroup_id);
		break;
	case TXC_TAG_SOCKET:
		snprintf(buf, len, "socket %llu", (unsigned long long)op->key.socket_cookie);
		break;
	default:
		format_endpoint(src, sizeof(src), f->family, f->saddr, f->sport, ports);
		format_endpoint(dst, sizeof(dst), f->family, f->daddr, f->dport, ports);
		snprintf(buf, len, "flow %s %s -> %s",
			 proto_name(f->proto, pbuf, sizeof(pbuf)), src, dst);
		break;
	}
}

static void jw_key(const struct op *op)
{
	const struct txc_flow_key *f = &op->key.flow;
	char addr[ENDPOINT_STRLEN];

	jw_string("kind", tag_kind_name(op->kind));
	switch (op->kind) {
	case TXC_TAG_MARK:
		jw_uint("mark", op->key.mark);
		break;
	case TXC_TAG_CGROUP:
		jw_uint("cgroup_id", op->key.cgroup_id);
		break;
	case TXC_TAG_SOCKET:
		jw_uint("socket_cookie", op->key.socket_cookie);
		break;
	default:
		jw_object("flow");
		jw_uint("family", f->family);
		jw_uint("proto", f->proto);
		format_endpoint(addr, sizeof(addr), f->family, f->saddr, 0, false);
		jw_string("src", addr);
		jw_uint("sport", ntohs(f->sport));
		format_endpoint(addr, sizeof(addr), f->family, f->daddr, 0, false);
		jw_string("dst", addr);
		jw_uint("dport", ntohs(f->dport));
		jw_object_end();
		break;
	}
}

static void jw_counters(const char *name, const struct txc_counters *c)
{
	jw_object(name);
	jw_counts(c);
	jw_object_end();
}

static void print_tag_done(const struct op *op)
{
	char key[160];

	if (cli.json) {
		jw_object(NULL);
		jw_string("op", op->type == TXC_MSG_TAG_ADD ? "tag add" : "tag del");
		jw_key(op);
		if (op->type == TXC_MSG_TAG_ADD) {
			jw_uint("id", op->cancel_id);
			jw_uint("source", op->source);
		}
		jw_object_end();
		jw_end();
		return;
	}
	format_key(key, sizeof(key), op);
	if (op->type == TXC_MSG_TAG_ADD)
		printf("tagged %s: id 0x%08x source %u\n", key, op->cancel_id, op->source);
	else
		printf("untagged %s\n", key);
}

static void print_cancel_done(const struct op *op, __u64 since_ns)
{
	char what[48];

	if (cli.json) {
		jw_object(NULL);
		jw_string("op", "cancel");
		jw_value(op->scope, op->value);
		if (op->ifname[0])
			jw_string_n("dev", op->ifname, sizeof(op->ifname));
		else
			jw_null("dev");
		jw_uint("timeout_ns", op->timeout_ns);
		jw_uint("since_ns", since_ns);
		jw_object_end();
		jw_end();
		return;
	}
	format_value(what, sizeof(what), op->scope, op->value);
	printf("canceled %s on %s%s", what, op->ifname[0] ? op->ifname : "every interface",
	       op->timeout_ns ? "" : ", until cleared");
	if (op->timeout_ns)
		printf(", for %llu.%03llu s", (unsigned long long)(op->timeout_ns / 1000000000),
		       (unsigned long long)(op->timeout_ns % 1000000000 / 1000000));
	printf(" (in force since %llu.%06llu, CLOCK_MONOTONIC)\n",
	       (unsigned long long)(since_ns / 1000000000),
	       (unsigned long long)(since_ns % 1000000000 / 1000));
}

static void print_clear_done(const struct op *op, const struct txc_rep_clear *final)
{
	const struct txc_counters *c = &final->counts;
	char what[48];

	if (cli.json) {
		jw_object(NULL);
		jw_string("op", "clear");
		jw_value(op->scope, op->value);
		if (final->valid)
			jw_counters("final", c);
		else
			jw_null("final");
		jw_object_end();
		jw_end();
		return;
	}
	format_value(what, sizeof(what), op->scope, op->value);
	if (!final->valid) {
		printf("cleared %s; no final counts: the ID is not counted "
		       "('txcancel count ID on' counts it)\n", what);
		return;
	}
	printf("cleared %s\n"
	       "  passed   %llu frames, %llu bytes\n"
	       "  aborted  %llu frames, %llu bytes\n", what,
	       (unsigned long long)c->passed_frames, (unsigned long long)c->passed_bytes,
	       (unsigned long long)c->aborted_frames, (unsigned long long)c->aborted_bytes);
}

/* ---- one operation ------------------------------------------------------- */

static int apply_op(struct txc_client *c, void *arg)
{
	const struct op *op = arg;
	struct txc_rep_clear final = { 0 };
	__u64 since = 0;
	int err;

	switch (op->type) {
	case TXC_MSG_TAG_ADD:
		if (op->kind == TXC_TAG_MARK)
			err = txc_tag_mark(c, op->key.mark, op->cancel_id, op->source);
		else if (op->kind == TXC_TAG_CGROUP)
			err = txc_tag_cgroup(c, op->key.cgroup_id, op->cancel_id, op->source);
		else
			err = txc_tag_flow(c, &op->key.flow, op->cancel_id, op->source);
		if (err < 0)
			return client_error(c, err);
		print_tag_done(op);
		return EXIT_OK;
	case TXC_MSG_TAG_DEL:
		err = txc_untag(c, op->kind, &op->key);
		if (err < 0)
			return client_error(c, err);
		print_tag_done(op);
		return EXIT_OK;
	case TXC_MSG_CANCEL:
		err = txc_cancel(c, op->scope, op->value, op->ifname[0] ? op->ifname : NULL,
				 op->timeout_ns, &since);
		if (err < 0)
			return client_error(c, err);
		print_cancel_done(op, since);
		return EXIT_OK;
	default:
		err = txc_clear(c, op->scope, op->value, &final);
		if (err < 0)
			return client_error(c, err);
		print_clear_done(op, &final);
		return EXIT_OK;
	}
}

int do_tag(int argc, char **argv)
{
	struct op op;

	if (argc >= 1 && (!strcmp(argv[0], "add") || !strcmp(argv[0], "del")))
		cli_subcommand(argv[0]);
	if (parse_tag(argc, argv, &op))
		return EXIT_USAGE;
	return with_client(apply_op, &op);
}

int do_cancel(int argc, char **argv)
{
	struct op op;

	if (parse_cancel(argc, argv, &op))
		return EXIT_USAGE;
	return with_client(apply_op, &op);
}

int do_clear(int argc, char **argv)
{
	struct op op;

	if (parse_clear(argc, argv, &op))
		return EXIT_USAGE;
	return with_client(apply_op, &op);
}
