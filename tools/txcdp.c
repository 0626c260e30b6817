// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * txcdp: a thin command line over the datapath library, for bring-up, the
 * demo and debugging.  It edits the pinned maps directly; the daemon and its
 * `txcancel` tool are the product interface.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <linux/if_link.h>
#include <bpf/libbpf.h>

#include "dp.h"
#include "tag_kinds.h"
#include "values.h"

static const char usage[] =
"usage: txcdp [-d PIN_DIR] [-n NETNS] COMMAND ...\n"
"  load                              load the programs, pin maps (reuses pins)\n"
"  attach IFNAME [tc|clsact|xdp|xdp-skb]   attach (default tc: tcx, else clsact)\n"
"  detach IFNAME [tc|xdp]            detach (default tc)\n"
"  mark-mask MASK                    bits of the skb mark that carry the ID field\n"
"  tag [add] mark MARK id ID source SOURCE\n"
"                                    frames whose masked mark is MARK get ID\n"
"  tag [add] cgroup CGROUP_ID id ID source SOURCE\n"
"                                    frames of the cgroup (its inode number) get ID\n"
"  tag [add] flow proto PROTO src ADDR[:PORT] dst ADDR[:PORT] id ID source SOURCE\n"
"                                    PROTO: udp, tcp, icmp, icmpv6 (icmp6), ... or a\n"
"                                    number;\n"
"                                    IPv6 with a port in brackets: [2001:db8::1]:53\n"
"                                    (txcancel's words; the older positional forms\n"
"                                    tag mark MARK ID SOURCE and tag flow PROTO\n"
"                                    SADDR SPORT DADDR DPORT ID SOURCE still work)\n"
"  cancel id|prefix|source VALUE [IFNAME] [--for MS]\n"
"  clear id|prefix|source VALUE\n"
"  stats SOURCE                      counters of one source\n"
"  watch SOURCE SECONDS              print SOURCE's abort records as they come\n"
"  unload                            detach everything, remove the pins\n"
"-d: pin directory (default " TXDP_PIN_DIR_DEFAULT "); refused while a txcanceld\n"
"    holds it (stats excepted)\n"
"-n: network namespace (a name under /run/netns) for interface names\n";

static int parse_u64(const char *s, const char *what, unsigned int bits, __u64 *out)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end || end == s || s[0] == '-' || (bits < 64 && v >> bits)) {
		fprintf(stderr, "txcdp: %s '%s' is not a %u-bit number\n", what, s, bits);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int parse_u32(const char *s, const char *what, __u32 *out)
{
	__u64 v;

	if (parse_u64(s, what, 32, &v))
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_scope(const char *s, int *scope)
{
	char names[TXCC_PROBLEM_MAX];

	*scope = txcc_scope_by_name(s);
	if (!*scope) {
		fprintf(stderr, "txcdp: scope '%s': expected %s\n", s, txcc_scope_names(names));
		return -EINVAL;
	}
	return 0;
}

/* txcancel's protocol words (common/tag_kinds.h) or a number. */
static int parse_proto(const char *s, __u8 *proto)
{
	char names[TXCC_NAMES_MAX];
	int named = txcc_ip_proto_by_name(s);
	__u64 v;

	if (named >= 0)
		return *proto = named, 0;
	if (s[0] < '0' || s[0] > '9') {
		fprintf(stderr, "txcdp: protocol '%s': expected %s or a number\n", s,
			txcc_ip_proto_names(names));
		return -EINVAL;
	}
	if (parse_u64(s, "protocol", 8, &v))
		return -EINVAL;
	*proto = v;
	return 0;
}

static int parse_addr(const char *s, struct txc_flow_key *k, int which)
{
	__u8 *dst = which ? k->daddr : k->saddr;
	int family = strchr(s, ':') ? TXC_FAMILY_IPV6 : TXC_FAMILY_IPV4;

	if (k->family && k->family != family) {
		fprintf(stderr, "txcdp: '%s': both addresses must be IPv4 or both IPv6\n", s);
		return -EINVAL;
	}
	k->family = family;
	if (inet_pton(family == TXC_FAMILY_IPV6 ? AF_INET6 : AF_INET, s, dst) != 1) {
		fprintf(stderr, "txcdp: '%s' is not an IP address\n", s);
		return -EINVAL;
	}
	return 0;
}

static int parse_port(const char *s, __be16 *port)
{
	__u32 v;

	if (parse_u32(s, "port", &v) || v > 65535)
		return -EINVAL;
	*port = htons(v);
	return 0;
}

/* ADDR[:PORT], with an IPv6 address in brackets when a port follows. */
static int parse_endpoint(const char *s, struct txc_flow_key *k, int which)
{
	__be16 *port = which ? &k->dport : &k->sport;
	char addr[INET6_ADDRSTRLEN + 2];
	const char *colon = strrchr(s, ':');
	size_t len;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close || (close[1] && close[1] != ':')) {
			fprintf(stderr, "txcdp: '%s': expected [IPv6]:PORT\n", s);
			return -EINVAL;
		}
		len = close - s - 1;
		colon = close[1] ? close + 1 : NULL;
		s++;
	} else if (colon && strchr(s, ':') != colon) {
		colon = NULL;		/* an IPv6 address without a port */
		len = strlen(s);
	} else {
		len = colon ? (size_t)(colon - s) : strlen(s);
	}
	if (len >= sizeof(addr)) {
		fprintf(stderr, "txcdp: '%s' is not an IP address\n", s);
		return -EINVAL;
	}
	memcpy(addr, s, len);
	addr[len] = '\0';
	return parse_addr(addr, k, which) ?: colon ? parse_port(colon + 1, port) : 0;
}

/* txcancel's words, 10 arguments: proto P src A[:P] dst A[:P] id ID source S. */
static int parse_flow_words(char **argv, struct txc_flow_key *fk, struct txc_tag *tag)
{
	static const char *const words[] = { "proto", "src", "dst", "id", "source" };

	for (int i = 0; i < 5; i++)
		if (strcmp(argv[2 * i], words[i])) {
			fprintf(stderr, "txcdp: tag flow: '%s' where '%s' belongs\n%s", argv[2 * i],
				words[i], usage);
			return -EINVAL;
		}
	return parse_proto(argv[1], &fk->proto) ?: parse_endpoint(argv[3], fk, 0) ?:
	       parse_endpoint(argv[5], fk, 1) ?: parse_u32(argv[7], "ID", &tag->cancel_id) ?:
	       parse_u32(argv[9], "source", &tag->source);
}

/* Mark and cgroup rules: a number as wide as the kind's key, an ID and a source. */
static int tag_by_number(struct txdp *dp, const struct txcc_tag_kind *k, const char *key_s,
			 const char *id_s, const char *source_s)
{
	union {
		__u32 mark;
		__u64 cgroup;
	} key;
	struct txc_tag tag;
	__u64 v;

	if (parse_u64(key_s, k->name, k->rule_key * 8, &v) ||
	    parse_u32(id_s, "ID", &tag.cancel_id) || parse_u32(source_s, "source", &tag.source))
		return -EINVAL;
	if (k->kind == TXC_TAG_MARK)
		key.mark = v;
	else
		key.cgroup = v;
	return txdp_tag_add(dp, k->kind, &key, &tag);
}

static int do_tag(struct txdp *dp, int argc, char **argv)
{
	const struct txcc_tag_kind *k = NULL;
	struct txc_flow_key fk = {};
	char names[TXCC_NAMES_MAX];
	struct txc_tag tag;

	/* "tag add ..." as txcancel says it; "add" is the only thing tag does here. */
	if (argc > 1 && !strcmp(argv[1], "add"))
		argc--, argv++;
	if (argc > 1)
		k = txcc_tag_kind_by_name(argv[1]);
	if (!k) {
		fprintf(stderr, "txcdp: tag kind '%s': expected %s\n", argc > 1 ? argv[1] : "",
			txcc_tag_kind_names(names, false));
		return -EINVAL;
	}
	if (!k->rule_key) {
		fprintf(stderr, "txcdp: %s tags are stored in the socket: its owner tags it "
			"(txc_tag_socket() of libtxcancel)\n", k->name);
		return -EINVAL;
	}
	if (k->kind != TXC_TAG_FLOW && argc == 7 && !strcmp(argv[3], "id") &&
	    !strcmp(argv[5], "source"))
		return tag_by_number(dp, k, argv[2], argv[4], argv[6]);
	/* The older positional forms: mark MARK ID SOURCE, flow PROTO SADDR SPORT ... */
	if (k->kind == TXC_TAG_MARK && argc == 5)
		return tag_by_number(dp, k, argv[2], argv[3], argv[4]);
	if (k->kind == TXC_TAG_FLOW && argc == 12) {
		if (parse_flow_words(argv + 2, &fk, &tag))
			return -EINVAL;
		return txdp_tag_add(dp, TXC_TAG_FLOW, &fk, &tag);
	}
	if (k->kind == TXC_TAG_FLOW && argc == 9) {
		if (parse_proto(argv[2], &fk.proto) || parse_addr(argv[3], &fk, 0) ||
		    parse_port(argv[4], &fk.sport) || parse_addr(argv[5], &fk, 1) ||
		    parse_port(argv[6], &fk.dport) || parse_u32(argv[7], "ID", &tag.cancel_id) ||
		    parse_u32(argv[8], "source", &tag.source))
			return -EINVAL;
		return txdp_tag_add(dp, TXC_TAG_FLOW, &fk, &tag);
	}
	fprintf(stderr, "txcdp: tag %s: wrong arguments\n%s", k->name, usage);
	return -EINVAL;
}

static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static int do_cancel(struct txdp *dp, int argc, char **argv)
{
	__u32 value, ifindex = 0, ms = 0;
	int scope, i;

	if (argc < 3 || parse_scope(argv[1], &scope) || parse_u32(argv[2], "value", &value))
		return -EINVAL;
	for (i = 3; i < argc; i++) {
		if (!strcmp(argv[i], "--for") && i + 1 < argc) {
			if (parse_u32(argv[++i], "milliseconds", &ms))
				return -EINVAL;
		} else {
			ifindex = if_nametoindex(argv[i]);
			if (!ifindex) {
				fprintf(stderr, "txcdp: interface '%s': %s\n", argv[i], strerror(errno));
				return -ENODEV;
			}
		}
	}
	return txdp_cancel(dp, scope, value, ifindex, ms ? mono_ns() + ms * 1000000ull : 0);
}

static int do_stats(struct txdp *dp, __u32 source)
{
	struct txc_source_stats s;
	int err = txdp_source_stats(dp, source, &s);

	if (err)
		return err;
	printf("source %u: passed %llu frames %llu bytes, aborted %llu frames %llu bytes, "
	       "lost reports %llu\n", source, (unsigned long long)s.passed_frames,
	       (unsigned long long)s.passed_bytes, (unsigned long long)s.aborted_frames,
	       (unsigned long long)s.aborted_bytes, (unsigned long long)s.lost_reports);
	return 0;
}

static int print_record(void *ctx, void *data, size_t size)
{
	const struct txc_abort_record *r = data;
	char src[INET6_ADDRSTRLEN] = "-", dst[INET6_ADDRSTRLEN] = "-";
	int af = r->frame.family == TXC_FAMILY_IPV6 ? AF_INET6 : AF_INET;

	(void)ctx;
	if (size < sizeof(*r) || r->hdr.version != TXC_RECORD_VERSION) {
		printf("record of %zu bytes, version %u: not understood\n", size, r->hdr.version);
		return 0;
	}
	if (r->frame.family) {
		inet_ntop(af, r->frame.saddr, src, sizeof(src));
		inet_ntop(af, r->frame.daddr, dst, sizeof(dst));
	}
	printf("SEND_ABORTED (0x%08x) id 0x%08x source %u seq %llu if %u hook %s len %u "
	       "proto %u %s:%u -> %s:%u\n", r->hdr.status, r->cancel_id, r->source,
	       (unsigned long long)r->seq, r->ifindex,
	       r->hook == TXC_HOOK_TC_EGRESS ? "tc" : r->hook == TXC_HOOK_XDP ? "xdp" : "devmap",
	       r->len, r->frame.l4_proto, src, ntohs(r->frame.sport), dst, ntohs(r->frame.dport));
	fflush(stdout);
	return 0;
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int do_watch(struct txdp *dp, __u32 source, __u32 seconds)
{
	__u64 end = mono_ns() + seconds * 1000000000ull;
	struct ring_buffer *rb;
	int fd, err = 0;

	fd = txdp_ring_open(dp, source);
	if (fd < 0)
		return fd;
	rb = ring_buffer__new(fd, print_record, NULL, NULL);
	if (!rb) {
		err = -errno;
		goto out;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	while (!stop && mono_ns() < end) {
		err = ring_buffer__poll(rb, 100);
		if (err == -EINTR)
			break;
		if (err < 0)
			goto out;
	}
	err = ring_buffer__consume(rb);
	err = err < 0 ? err : 0;
out:
	ring_buffer__free(rb);
	close(fd);
	return err;
}

static int enter_netns(const char *name)
{
	char path[256];
	int fd, err = 0;

	/* Only the network namespace: the bpffs mount stays the caller's. */
	snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNET)) {
		err = -errno;
		fprintf(stderr, "txcdp: entering network namespace %s: %s\n", name, strerror(errno));
	}
	if (fd >= 0)
		close(fd);
	return err;
}

static int run(struct txdp *dp, int argc, char **argv)
{
	const char *cmd = argv[0];
	__u32 v, w;
	int scope;

	if (!strcmp(cmd, "load") && argc == 1)
		return printf("loaded, maps pinned under %s\n", txdp_pin_dir(dp)), 0;
	if (!strcmp(cmd, "attach") && (argc == 2 || argc == 3)) {
		const char *how = argc == 3 ? argv[2] : "tc";

		if (!strcmp(how, "tc") || !strcmp(how, "clsact"))
			return txdp_attach_tc(dp, argv[1], how[0] == 't' ? TXDP_TC_AUTO : TXDP_TC_CLSACT);
		if (!strcmp(how, "xdp") || !strcmp(how, "xdp-skb"))
			return txdp_attach_xdp(dp, argv[1], how[3] ? XDP_FLAGS_SKB_MODE : 0);
	}
	if (!strcmp(cmd, "detach") && (argc == 2 || argc == 3)) {
		if (argc == 2 || !strcmp(argv[2], "tc"))
			return txdp_detach_tc(dp, argv[1]);
		if (!strcmp(argv[2], "xdp"))
			return txdp_detach_xdp(dp, argv[1]);
	}
	if (!strcmp(cmd, "mark-mask") && argc == 2)
		return parse_u32(argv[1], "mask", &v) ?: txdp_set_mark_mask(dp, v);
	if (!strcmp(cmd, "tag"))
		return do_tag(dp, argc, argv);
	if (!strcmp(cmd, "cancel"))
		return do_cancel(dp, argc, argv);
	if (!strcmp(cmd, "clear") && argc == 3)
		return parse_scope(argv[1], &scope) ?: parse_u32(argv[2], "value", &v) ?:
		       txdp_clear(dp, scope, v);
	if (!strcmp(cmd, "stats") && argc == 2)
		return parse_u32(argv[1], "source", &v) ?: do_stats(dp, v);
	if (!strcmp(cmd, "watch") && argc == 3)
		return parse_u32(argv[1], "source", &v) ?: parse_u32(argv[2], "seconds", &w) ?:
		       do_watch(dp, v, w);
	if (!strcmp(cmd, "unload") && argc == 1)
		return txdp_detach_all(dp) ?: txdp_unpin(dp);
	fprintf(stderr, "txcdp: unknown command or wrong arguments: %s\n%s", cmd, usage);
	return -EINVAL;
}

int main(int argc, char **argv)
{
	struct txdp_opts opts = {};
	struct txdp *dp;
	const char *netns = NULL;
	int opt, err, lock_fd = -1;

	while ((opt = getopt(argc, argv, "+d:n:h")) != -1) {
		switch (opt) {
		case 'd':
			opts.pin_dir = optarg;
			break;
		case 'n':
			netns = optarg;
			break;
		default:
			fputs(usage, opt == 'h' ? stdout : stderr);
			return opt == 'h' ? 0 : 2;
		}
	}
	if (optind >= argc) {
		fputs(usage, stderr);
		return 2;
	}
	err = netns ? enter_netns(netns) : 0;
	/* Beside a daemon, txcdp would detach its programs and drain its rings. */
	if (!err && strcmp(argv[optind], "stats")) {
		lock_fd = txdp_pin_dir_lock(opts.pin_dir ? opts.pin_dir : TXDP_PIN_DIR_DEFAULT);
		err = lock_fd < 0 ? lock_fd : 0;
	}
	if (!err)
		err = txdp_open(&dp, &opts);
	if (err) {
		if (lock_fd >= 0)
			close(lock_fd);
		return 1;
	}
	err = run(dp, argc - optind, argv + optind);
	if (err && err != -EINVAL)
		fprintf(stderr, "txcdp: %s: %s\n", argv[optind], txdp_strerror(dp, err));
	txdp_close(dp);
	if (lock_fd >= 0)
		close(lock_fd);
	return err ? 1 : 0;
}
