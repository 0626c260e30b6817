/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * explain: build a frame from a description and ask the daemon what the
 * loaded program decides for it (the NDIS_GET_NET_BUFFER_LIST_CANCEL_ID of
 * txcancel, plus the verdict).
 */
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "txcancel.h"

struct explain_args {
	char ifname[16];
	__u32 mark;
	struct frame_spec spec;
	__u8 frame[TXC_EXPLAIN_FRAME_MAX];
	size_t frame_len;
};

enum explain_word { EW_DEV, EW_MARK, EW_PROTO, EW_SRC, EW_DST, EW_LEN, EW_VLAN, EW_COUNT };

static const char *const explain_words[EW_COUNT] = {
	[EW_DEV] = "dev", [EW_MARK] = "mark", [EW_PROTO] = "proto", [EW_SRC] = "src",
	[EW_DST] = "dst", [EW_LEN] = "len", [EW_VLAN] = "vlan",
};

struct explain_seen {
	bool word[EW_COUNT];
	bool ports;
};

static int explain_endpoint(struct explain_args *a, const char *kw, const char *arg,
			    struct explain_seen *seen)
{
	struct frame_spec *spec = &a->spec;
	bool src = !strcmp(kw, "src"), port;
	__u8 family;

	if (parse_endpoint(arg, kw, &family, src ? spec->saddr : spec->daddr,
			   src ? &spec->sport : &spec->dport, &port))
		return -EINVAL;
	if (spec->family && spec->family != family)
		return arg_error("src and dst must both be IPv4 or both IPv6 (%s '%s')", kw, arg);
	spec->family = family;
	seen->ports |= port;
	return 0;
}

/* One "KEYWORD VALUE" of the command line at argv[*i]. */
static int explain_keyword(struct explain_args *a, int argc, char **argv, int *i,
			   struct explain_seen *seen)
{
	const char *kw = argv[*i], *v;
	unsigned int w;
	__u64 n;

	for (w = 0; w < EW_COUNT && strcmp(kw, explain_words[w]); w++)
		;
	if (w == EW_COUNT)
		return arg_error("unexpected '%s'; expected dev, mark, proto, src, dst, len "
				 "or vlan", kw);
	if (seen->word[w])
		return arg_error("'%s' is given twice", kw);
	seen->word[w] = true;
	v = take_value(argc, argv, i, "a value");
	if (!v)
		return -EINVAL;

	switch (w) {
	case EW_DEV:
		return parse_ifname(v, a->ifname);
	case EW_MARK:
		return parse_u32(v, "mark", &a->mark);
	case EW_PROTO:
		return parse_ip_proto(v, &a->spec.proto);
	case EW_SRC:
	case EW_DST:
		return explain_endpoint(a, kw, v, seen);
	case EW_LEN:
		if (parse_u64(v, "len", TXC_EXPLAIN_FRAME_MAX, &n))
			return -EINVAL;
		a->spec.len = n;
		return 0;
	case EW_VLAN:
	default:
		if (parse_u64(v, "vlan", 4095, &n))
			return -EINVAL;
		a->spec.nvlan = 1;
		a->spec.vlan_tci[0] = n;	/* PCP 0, DEI 0 */
		return 0;
	}
}

static int parse_explain(int argc, char **argv, struct explain_args *a)
{
	struct explain_seen seen = { 0 };
	struct frame_spec *spec = &a->spec;
	char pbuf[16];
	size_t hdrs;
	int i = 0, n;

	while (i < argc)
		if (explain_keyword(a, argc, argv, &i, &seen))
			return -EINVAL;
	if (!seen.word[EW_PROTO] || !seen.word[EW_SRC] || !seen.word[EW_DST])
		return arg_error("a frame needs proto, src and dst "
				 "(e.g. proto udp src 198.18.0.1:4000 dst 198.18.0.2:53)");
	/* "icmp" names the ICMP of the address family. */
	if (spec->proto == IPPROTO_ICMP && spec->family == TXC_FAMILY_IPV6)
		spec->proto = IPPROTO_ICMPV6;
	else if (spec->proto == IPPROTO_ICMPV6 && spec->family == TXC_FAMILY_IPV4)
		spec->proto = IPPROTO_ICMP;
	if (seen.ports && !proto_has_ports(spec->proto))
		return arg_error("proto %s has no ports: write src and dst without ':PORT'",
				 proto_name(spec->proto, pbuf, sizeof(pbuf)));
	if (spec->family == TXC_FAMILY_IPV4)
		spec->ipv4_frag_off = 0x4000;	/* DF: the first and only fragment */
	hdrs = frame_headers_len(spec);
	if (seen.word[EW_LEN] && spec->len < hdrs)
		return arg_error("len %u is shorter than the headers of this frame (%zu bytes)",
				 spec->len, hdrs);
	n = frame_build(spec, a->frame, sizeof(a->frame));
	if (n < 0)
		return arg_error("cannot build the frame: %s", strerror(-n));
	a->frame_len = n;
	return 0;
}

static void print_explain_json(const struct explain_args *a, const struct txc_rep_explain *r)
{
	jw_object(NULL);
	if (a->ifname[0])
		jw_string("dev", a->ifname);
	else
		jw_null("dev");
	jw_uint("mark", a->mark);
	jw_uint("frame_len", a->frame_len);
	jw_uint("id", r->cancel_id);
	jw_uint("source", r->source);
	jw_string("tag_kind", tag_kind_name(r->tag_kind));
	jw_string("scope", scope_name(r->scope));
	jw_string("verdict", verdict_name(r->verdict));
	jw_bool("foreign_mark", r->flags & TXC_EXPLAIN_F_FOREIGN_MARK);
	if (a->ifname[0])
		jw_string("boundary", r->flags & TXC_EXPLAIN_F_QDISC ? "queue" : "hook");
	else
		jw_null("boundary");
	jw_frame_summary("parsed", &r->frame);
	jw_object_end();
	jw_end();
}

/*
 * What a cancel of the frame's ID reaches on the interface: what the TC
 * program and, where it runs, txcancel's qdisc do (txcancel_qdisc.bpf.c).
 */
static void print_boundary(const struct explain_args *a, const struct txc_rep_explain *r)
{
	if (!(r->flags & TXC_EXPLAIN_F_QDISC)) {
		printf("boundary hook: %s has no txcancel qdisc; a cancel drops the frames that "
		       "reach the TC hook after it, and frames queued before it still leave\n",
		       a->ifname);
		return;
	}
	printf("boundary queue: %s runs txcancel's qdisc\n", a->ifname);
	if (!r->cancel_id)
		printf("         the frame is untagged: it is queued and sent, no cancel reaches it\n");
	else if (r->verdict == TXC_VERDICT_DROP)
		printf("         the frame is aborted at the TC hook (where: hook) and never "
		       "queued; the frames this cancel covers that were queued before it were "
		       "purged before its reply (where: queued), or are aborted at dequeue\n");
	else
		printf("         the frame passes the hook and is queued; a later cancel of its "
		       "ID, prefix or source takes it out of the queue before that cancel's "
		       "reply (where: queued), and the qdisc checks it again as it is queued "
		       "and dequeued\n");
}

static void print_explain(const struct explain_args *a, const struct txc_rep_explain *r)
{
	char summary[160];

	format_frame_summary(summary, sizeof(summary), &r->frame);
	printf("frame    %zu bytes, mark 0x%x", a->frame_len, a->mark);
	if (a->ifname[0])
		printf(", leaving by %s", a->ifname);
	printf("\n");
	printf("parsed   %s\n", summary);
	if (r->cancel_id)
		printf("id       0x%08x (prefix %u, local %u)\n", r->cancel_id,
		       TXC_ID_PREFIX(r->cancel_id), r->cancel_id & TXC_ID_LOCAL_MASK);
	else
		printf("id       none (untagged)\n");
	if (r->source)
		printf("source   %u\n", r->source);
	else
		printf("source   none\n");
	printf("tag      %s\n", tag_kind_name(r->tag_kind));
	/* Mark bits under the mask that no rule names: someone else's mark, left alone. */
	if (r->flags & TXC_EXPLAIN_F_FOREIGN_MARK)
		printf("mark     0x%x under the mark mask matches no mark rule: another program's "
		       "mark, kept as it is; the frame is not tagged\n", a->mark);
	printf("cancel   %s\n", r->scope ? scope_name(r->scope) : "none in force");
	printf("verdict  %s\n", verdict_name(r->verdict));
	if (a->ifname[0])
		print_boundary(a, r);
}

int do_explain(int argc, char **argv)
{
	struct txc_rep_explain rep;
	struct explain_args a;
	struct txc_client *c;
	int err;

	memset(&a, 0, sizeof(a));
	if (parse_explain(argc, argv, &a))
		return EXIT_USAGE;
	c = cli_connect();
	if (!c)
		return EXIT_RUNTIME;
	memset(&rep, 0, sizeof(rep));
	err = txc_explain(c, a.ifname[0] ? a.ifname : NULL, a.mark, a.frame, a.frame_len, &rep);
	if (err < 0) {
		err = client_error(c, err);
		txc_client_close(c);
		return err;
	}
	txc_client_close(c);
	if (cli.json)
		print_explain_json(&a, &rep);
	else
		print_explain(&a, &rep);
	return EXIT_OK;
}
