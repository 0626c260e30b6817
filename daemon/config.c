// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * txcanceld's options, from the command line and from a config file.  The
 * file takes the long option names, one per line: "iface eth0:tc",
 * "mark-mask 0xff000000", "keep"; '#' starts a comment.  Options apply in
 * the order they are read, so command-line options after -c override it.
 */
#include <errno.h>
#include <stddef.h>
#include <getopt.h>
#include <grp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <linux/if_link.h>
#include "txcanceld.h"
#include "qdisc.h"

static enum txdp_log_level log_level = TXDP_LOG_INFO;
static bool log_syslog;

static void log_fn(enum txdp_log_level level, const char *fmt, va_list ap)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };

	if (level > log_level)
		return;
	if (log_syslog) {
		vsyslog(prio[level], fmt, ap);
		return;
	}
	fprintf(stderr, "txcanceld: %s: ", txdp_log_level_names[level]);
	vfprintf(stderr, fmt, ap);
}

/* tc+qdisc is refused before anything is created where the kernel or the build cannot run it. */
static int check_qdisc(struct txcd *d)
{
	char why[200];

	for (__u32 i = 0; i < d->n_ifaces; i++) {
		if (!(d->ifaces[i].hooks & TXCD_HOOK_QDISC))
			continue;
		if (!txdp_qdisc_probe(why, sizeof(why)))
			return 0;
		txdp_log(TXDP_LOG_ERROR, "%s:tc+qdisc refused: %s; use %s:tc (cancels then reach "
			"frames at the TC hook, not those already queued)\n", d->ifaces[i].cfg_name,
			why, d->ifaces[i].cfg_name);
		return -EOPNOTSUPP;
	}
	return 0;
}

/* A rate as tc writes it: N[bit|kbit|mbit|gbit] (bits/s) or Nbps (bytes/s); bytes/s out. */
static int parse_rate(const char *name, const char *arg, __u64 *bytes)
{
	static const struct {
		const char *unit;
		__u64 mul_bits;
	} units[] = {
		{ "bit", 1 }, { "kbit", 1000 }, { "mbit", 1000000 }, { "gbit", 1000000000 },
		{ "bps", 8 },
	};
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(arg, &end, 10);
	if (errno || end == arg || arg[0] == '-')
		goto bad;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].unit))
			continue;
		if (!v || v > ~0ull / units[i].mul_bits || v * units[i].mul_bits / 8 == 0)
			goto bad;
		*bytes = v * units[i].mul_bits / 8;
		return 0;
	}
bad:
	txdp_log(TXDP_LOG_ERROR, "--%s '%s': a rate is a positive number with a unit: bit, kbit, "
		"mbit, gbit (bits/s) or bps (bytes/s), e.g. 10mbit\n", name, arg);
	return -EINVAL;
}

static const char usage[] =
"Usage: txcanceld [OPTIONS]\n"
"Serve the txcancel API and run its datapath on the given interfaces.\n"
"\n"
"  -i, --iface NAME[:HOOKS]   manage interface NAME; HOOKS is tc (default), xdp,\n"
"                             tc+xdp, tc+qdisc or tc+qdisc+xdp; repeat for more\n"
"                             interfaces.  qdisc: txcancel's qdisc holds the\n"
"                             queues, so cancels reach queued frames (Linux 6.16+\n"
"                             with CONFIG_NET_SCH_BPF)\n"
"      --qdisc-limit N        frames per TX queue of txcancel's qdisc (default\n"
"                             1000, at most 65536)\n"
"      --qdisc-rate RATE      pace each TX queue of txcancel's qdisc, e.g. 10mbit\n"
"                             (bit, kbit, mbit, gbit or bps; default: unpaced)\n"
"  -c, --config FILE          read options from FILE (long names, one per line)\n"
"  -s, --socket PATH          API socket (default " TXC_SOCKET_PATH ")\n"
"      --socket-mode MODE     socket file mode, octal (default 0660)\n"
"      --socket-group GROUP   socket file group (name or gid)\n"
"  -d, --pin-dir DIR          bpffs directory for maps and links\n"
"                             (default " TXDP_PIN_DIR_DEFAULT ")\n"
"  -M, --mark-mask MASK       skb mark bits that carry a cancel ID (default 0:\n"
"                             mark tagging off)\n"
"      --tc-mode MODE         auto (default), tcx or clsact\n"
"      --xdp-mode MODE        native (default) or skb\n"
"      --grace SECONDS        how long leases of an earlier instance wait to be\n"
"                             claimed back after a restart (default 30)\n"
"      --keep                 on exit, leave programs attached and state pinned\n"
"                             for the next instance (default: detach everything)\n"
"      --ephemeral            run even where the pin dir's bpffs would not\n"
"                             outlive the daemon (as under `ip netns exec`):\n"
"                             a crash or restart then forgets everything\n"
"      --iface-counters       count tagged frames per interface, for\n"
"                             txcancel stats --prometheus (a lookup per frame)\n"
"      --max-clients N        connections of all users together, root's\n"
"                             included (default 1024)\n"
"      --max-conns N          connections per user (default 64)\n"
"      --max-prefixes N       prefixes per user (default 16)\n"
"      --max-sources N        source handles per user (default 256)\n"
"      --max-rules N          tag rules per user (default 65536)\n"
"      --max-subs N           completion subscriptions per user (default 256)\n"
"      --max-lease-rate N     new prefixes and sources per user and second\n"
"                             (default 1000, bursts of as many; 0: no limit)\n"
"      --backlog N            completions a client's socket holds before they wait\n"
"                             in their source's ring (default 8192)\n"
"  -l, --log-level LEVEL      error, warn, info (default) or debug\n"
"      --syslog               log to syslog instead of stderr\n"
"  -h, --help                 show this help\n"
"  -V, --version              show the version\n"
"\n"
"Root (uid 0) is limited only by --max-clients.  A connection over a limit\n"
"gets one error reply naming it and is closed.  SIGTERM and SIGINT exit cleanly.\n";

enum {
	OPT_SOCKET_MODE = 256, OPT_SOCKET_GROUP, OPT_TC_MODE, OPT_XDP_MODE, OPT_GRACE,
	OPT_KEEP, OPT_MAX_CONNS, OPT_MAX_PREFIXES, OPT_MAX_SOURCES, OPT_MAX_RULES,
	OPT_BACKLOG, OPT_SYSLOG, OPT_MAX_CLIENTS, OPT_MAX_SUBS, OPT_MAX_LEASE_RATE, OPT_EPHEMERAL,
	OPT_IFACE_COUNTERS, OPT_QDISC_LIMIT, OPT_QDISC_RATE,
};

static const struct option long_opts[] = {
	{ "iface", required_argument, NULL, 'i' },
	{ "config", required_argument, NULL, 'c' },
	{ "socket", required_argument, NULL, 's' },
	{ "socket-mode", required_argument, NULL, OPT_SOCKET_MODE },
	{ "socket-group", required_argument, NULL, OPT_SOCKET_GROUP },
	{ "pin-dir", required_argument, NULL, 'd' },
	{ "mark-mask", required_argument, NULL, 'M' },
	{ "tc-mode", required_argument, NULL, OPT_TC_MODE },
	{ "xdp-mode", required_argument, NULL, OPT_XDP_MODE },
	{ "grace", required_argument, NULL, OPT_GRACE },
	{ "keep", no_argument, NULL, OPT_KEEP },
	{ "ephemeral", no_argument, NULL, OPT_EPHEMERAL },
	{ "iface-counters", no_argument, NULL, OPT_IFACE_COUNTERS },
	{ "max-clients", required_argument, NULL, OPT_MAX_CLIENTS },
	{ "max-conns", required_argument, NULL, OPT_MAX_CONNS },
	{ "max-prefixes", required_argument, NULL, OPT_MAX_PREFIXES },
	{ "max-sources", required_argument, NULL, OPT_MAX_SOURCES },
	{ "max-rules", required_argument, NULL, OPT_MAX_RULES },
	{ "max-subs", required_argument, NULL, OPT_MAX_SUBS },
	{ "max-lease-rate", required_argument, NULL, OPT_MAX_LEASE_RATE },
	{ "backlog", required_argument, NULL, OPT_BACKLOG },
	{ "qdisc-limit", required_argument, NULL, OPT_QDISC_LIMIT },
	{ "qdisc-rate", required_argument, NULL, OPT_QDISC_RATE },
	{ "log-level", required_argument, NULL, 'l' },
	{ "syslog", no_argument, NULL, OPT_SYSLOG },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{}
};

static int parse_u32(const char *opt, const char *s, int base, __u32 min, __u32 max, __u32 *out)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, base);
	if (errno || end == s || *end || *s == '-' || v < min || v > max) {
		txdp_log(TXDP_LOG_ERROR, "--%s '%s': expected a number %u..%u\n", opt, s, min, max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int parse_group(const char *s, gid_t *gid)
{
	struct group *g = getgrnam(s);
	__u32 v;

	if (g) {
		*gid = g->gr_gid;
		return 0;
	}
	if (parse_u32("socket-group", s, 10, 0, 0x7fffffff, &v))
		return -EINVAL;
	*gid = v;
	return 0;
}

static int read_config(struct txcd *d, const char *path);

/*
 * Where an option's value goes in struct txcd_opts.  The field must be of
 * @type (the array size is -1, a build error, if not).
 */
#define OPTS_FIELD(field, type)							\
	(offsetof(struct txcd_opts, field) +					\
	 0 * sizeof(char[__builtin_types_compatible_p(				\
		__typeof__(((struct txcd_opts *)0)->field), type) ? 1 : -1]))

/* The options that take a number: where it goes, its base and its range. */
#define U32_OPT(o, field, b, lo, hi)	{ (o), OPTS_FIELD(field, __u32), (b), (lo), (hi) }

static const struct u32_opt {
	int opt;
	size_t off;		/* of a __u32 in struct txcd_opts */
	int base;		/* 0: as C writes it (0x..., 0...) */
	__u32 min, max;
} u32_opts[] = {
	U32_OPT('M', mark_mask, 0, 0, 0xffffffffu),
	U32_OPT(OPT_GRACE, grace_s, 10, 0, 86400),
	U32_OPT(OPT_MAX_CLIENTS, max_clients, 10, 1, 1000000),
	U32_OPT(OPT_MAX_SUBS, max_subs, 10, 1, 1000000),
	U32_OPT(OPT_MAX_LEASE_RATE, max_lease_rate, 10, 0, 1000000),
	U32_OPT(OPT_MAX_CONNS, max_conns, 10, 1, 1000000),
	U32_OPT(OPT_MAX_PREFIXES, max_prefixes, 10, 1, TXC_PREFIX_MAX),
	U32_OPT(OPT_MAX_SOURCES, max_sources, 10, 1, TXC_MAX_SOURCES - 1),
	U32_OPT(OPT_MAX_RULES, max_rules, 10, 1, 0x7fffffff),
	U32_OPT(OPT_BACKLOG, backlog, 10, TXC_COMPLETIONS_MAX, 1u << 24),
	U32_OPT(OPT_QDISC_LIMIT, qdisc_limit, 10, 1, TXC_QDISC_LIMIT_MAX),
};

/* The options that take no value and switch something on. */
static const struct flag_opt {
	int opt;
	size_t off;		/* of a bool in struct txcd_opts */
} flag_opts[] = {
	{ OPT_KEEP, OPTS_FIELD(keep_on_exit, bool) },
	{ OPT_EPHEMERAL, OPTS_FIELD(ephemeral, bool) },
	{ OPT_IFACE_COUNTERS, OPTS_FIELD(iface_counters, bool) },
};

/* The words of an option that takes one of a few. */
struct opt_word {
	const char *word;
	__u32 value;
};

static const struct opt_word tc_modes[] = {
	{ "auto", TXDP_TC_AUTO },
	{ "tcx", TXDP_TC_TCX },
	{ "clsact", TXDP_TC_CLSACT },
	{ NULL },
};

static const struct opt_word xdp_modes[] = {
	{ "native", 0 },
	{ "skb", XDP_FLAGS_SKB_MODE },
	{ NULL },
};

static int word_value(const struct opt_word *words, const char *arg, __u32 *value)
{
	for (; words->word; words++)
		if (!strcmp(words->word, arg)) {
			*value = words->value;
			return 0;
		}
	return -EINVAL;
}

static int apply_opt(struct txcd *d, int opt, const char *name, const char *arg)
{
	struct txcd_opts *o = &d->opts;
	__u32 v;

	for (size_t i = 0; i < sizeof(u32_opts) / sizeof(u32_opts[0]); i++)
		if (u32_opts[i].opt == opt)
			return parse_u32(name, arg, u32_opts[i].base, u32_opts[i].min,
					 u32_opts[i].max, (__u32 *)((char *)o + u32_opts[i].off));
	for (size_t i = 0; i < sizeof(flag_opts) / sizeof(flag_opts[0]); i++)
		if (flag_opts[i].opt == opt) {
			*(bool *)((char *)o + flag_opts[i].off) = true;
			return 0;
		}
	switch (opt) {
	case 'i':
		return txcd_iface_add_cfg(d, arg);
	case 'c':
		return read_config(d, arg);
	case 's':
		o->socket_path = strdup(arg);
		return 0;
	case OPT_SOCKET_MODE:
		if (parse_u32(name, arg, 8, 0, 0777, &v))
			return -EINVAL;
		o->socket_mode = v;
		return 0;
	case OPT_SOCKET_GROUP:
		return parse_group(arg, &o->socket_gid);
	case 'd':
		o->pin_dir = strdup(arg);
		return 0;
	case OPT_TC_MODE:
		if (word_value(tc_modes, arg, &v))
			goto bad_word;
		o->tc_mode = v;
		return 0;
	case OPT_XDP_MODE:
		if (word_value(xdp_modes, arg, &v))
			goto bad_word;
		o->xdp_flags = v;
		return 0;
	case OPT_QDISC_RATE:
		return parse_rate(name, arg, &o->qdisc_rate);
	case 'l': {
		int level = txdp_log_level_parse(arg);

		if (level < 0)
			goto bad_word;
		log_level = level;
		return 0;
	}
	case OPT_SYSLOG:
		log_syslog = true;
		openlog("txcanceld", LOG_PID, LOG_DAEMON);
		return 0;
	}
	txdp_log(TXDP_LOG_ERROR, "unknown option '%s'; see txcanceld --help\n", name);
	return -EINVAL;
bad_word:
	txdp_log(TXDP_LOG_ERROR, "--%s '%s': not a valid value; see txcanceld --help\n", name, arg);
	return -EINVAL;
}

static const struct option *opt_by_name(const char *name)
{
	for (const struct option *o = long_opts; o->name; o++)
		if (!strcmp(o->name, name))
			return o;
	return NULL;
}

static int read_config(struct txcd *d, const char *path)
{
	char line[512];
	int lineno = 0, err = 0;
	FILE *f = fopen(path, "re");

	if (!f) {
		err = -errno;
		txdp_log(TXDP_LOG_ERROR, "config %s: %s\n", path, strerror(errno));
		return err;
	}
	while (!err && fgets(line, sizeof(line), f)) {
		char *hash = strchr(line, '#'), *name, *arg;
		const struct option *o;

		lineno++;
		if (hash)
			*hash = '\0';
		name = strtok(line, " \t\r\n");
		if (!name)
			continue;
		arg = strtok(NULL, " \t\r\n");
		o = opt_by_name(name);
		if (!o || o->val == 'c' || o->val == 'h' || o->val == 'V') {
			txdp_log(TXDP_LOG_ERROR, "config %s:%d: unknown option '%s'\n", path, lineno,
				name);
			err = -EINVAL;
		} else if ((o->has_arg == required_argument) != (arg != NULL) ||
			   strtok(NULL, " \t\r\n")) {
			txdp_log(TXDP_LOG_ERROR, "config %s:%d: '%s' takes %s\n", path, lineno, name,
				o->has_arg == required_argument ? "one value" : "no value");
			err = -EINVAL;
		} else {
			err = apply_opt(d, o->val, name, arg);
			if (err)
				txdp_log(TXDP_LOG_ERROR, "config %s:%d: not applied\n", path, lineno);
		}
	}
	fclose(f);
	return err;
}

/* Returns 0 to run, 1 to exit successfully (help, version), <0 on errors. */
int txcd_parse_args(struct txcd *d, int argc, char **argv)
{
	int opt, idx;

	txdp_set_log(log_fn);
	d->opts = (struct txcd_opts){
		.socket_path = TXC_SOCKET_PATH,
		.socket_mode = 0660,
		.socket_gid = (gid_t)-1,
		.pin_dir = TXDP_PIN_DIR_DEFAULT,
		.tc_mode = TXDP_TC_AUTO,
		.grace_s = 30,
		.max_clients = 1024,
		.max_conns = 64,
		.max_prefixes = 16,
		.max_sources = 256,
		.max_rules = 65536,
		.max_subs = 256,
		.max_lease_rate = 1000,
		.backlog = 8192,
	};
	while ((opt = getopt_long(argc, argv, "i:c:s:d:M:l:hV", long_opts, &idx)) != -1) {
		const char *name = opt < 256 && opt != '?' ? NULL : long_opts[idx].name;

		for (const struct option *o = long_opts; !name && o->name; o++)
			if (o->val == opt)
				name = o->name;
		if (opt == 'h') {
			fputs(usage, stdout);
			return 1;
		}
		if (opt == 'V') {
			printf("txcanceld, protocol version %d\n", TXC_PROTO_VERSION);
			return 1;
		}
		if (opt == '?') {
			fprintf(stderr, "see txcanceld --help\n");
			return -EINVAL;
		}
		if (apply_opt(d, opt, name ? name : "?", optarg))
			return -EINVAL;
	}
	if (optind < argc) {
		txdp_log(TXDP_LOG_ERROR, "unexpected argument '%s'; interfaces are given with -i\n",
			argv[optind]);
		return -EINVAL;
	}
	if (!d->n_ifaces)
		txdp_log(TXDP_LOG_WARN, "no interface given (-i): serving the API without a "
			"datapath attached anywhere\n");
	return check_qdisc(d);
}
