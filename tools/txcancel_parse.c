/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Argument parsers and the names and formats of protocol codes.  Every
 * parser names the argument it refused and what it expected, so that a
 * usage error can be fixed from the message alone.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include "tag_kinds.h"
#include "values.h"
#include "txcancel.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC	0x63677270
#endif

/* ---- numbers ------------------------------------------------------------- */

static int digit_value(char ch, int base)
{
	int v;

	if (ch >= '0' && ch <= '9')
		v = ch - '0';
	else if (ch >= 'a' && ch <= 'f')
		v = ch - 'a' + 10;
	else if (ch >= 'A' && ch <= 'F')
		v = ch - 'A' + 10;
	else
		return -1;
	return v < base ? v : -1;
}

/*
 * Decimal, or hex after 0x.  strtoull() is not used: it takes leading
 * blanks, signs and octal, none of which a user means here.  Returns the
 * number of characters read (the caller checks what follows), 0 if none,
 * -ERANGE on overflow.
 */
static int scan_u64(const char *s, __u64 *out)
{
	const char *p = s;
	int base = 10, d;
	__u64 v = 0;

	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	if (digit_value(*p, base) < 0)
		return 0;
	for (; (d = digit_value(*p, base)) >= 0; p++) {
		if (v > (~0ULL - d) / base)
			return -ERANGE;
		v = v * base + d;
	}
	*out = v;
	return p - s;
}

int parse_u64(const char *s, const char *what, __u64 max, __u64 *out)
{
	__u64 v = 0;
	int n;

	n = scan_u64(s, &v);
	if (n == -ERANGE || (n > 0 && !s[n] && v > max))
		return arg_error("%s '%s' is out of range: at most %llu (0x%llx)", what, s,
				 (unsigned long long)max, (unsigned long long)max);
	if (n <= 0 || s[n])
		return arg_error("%s '%s': expected a number (decimal or 0x hex)", what, s);
	*out = v;
	return 0;
}

int parse_u32(const char *s, const char *what, __u32 *out)
{
	__u64 v = 0;

	if (parse_u64(s, what, 0xffffffffu, &v))
		return -EINVAL;
	*out = v;
	return 0;
}

/* A number refused, if it is, with the sentence every side uses (common/values.c). */
static int parse_checked(const char *s, const char *what, __u32 *out,
			 const char *(*problem)(__u32 v, char buf[TXCC_PROBLEM_MAX]))
{
	char why[TXCC_PROBLEM_MAX];

	if (parse_u32(s, what, out))
		return -EINVAL;
	if (problem(*out, why))
		return arg_error("%s", why);
	return 0;
}

int parse_prefix(const char *s, __u32 *prefix)
{
	return parse_checked(s, "prefix", prefix, txcc_prefix_problem);
}

int parse_source(const char *s, __u32 *source)
{
	return parse_checked(s, "source", source, txcc_source_problem);
}

/* A number, or PREFIX:LOCAL; IDs under prefix 0 are refused here already. */
int parse_id(const char *s, __u32 *id)
{
	const char *colon = strchr(s, ':');
	char head[32], why[TXCC_PROBLEM_MAX];
	__u64 prefix = 0, local = 0;

	if (colon) {
		if ((size_t)(colon - s) >= sizeof(head))
			return arg_error("ID '%s': expected a number or PREFIX:LOCAL", s);
		memcpy(head, s, colon - s);
		head[colon - s] = '\0';
		if (parse_u64(head, "ID prefix", TXC_PREFIX_MAX, &prefix) ||
		    parse_u64(colon + 1, "ID local part", TXC_ID_LOCAL_MASK, &local))
			return -EINVAL;
		*id = TXC_ID_MAKE(prefix, local);
	} else if (parse_u32(s, "ID", id)) {
		return -EINVAL;
	}
	if (txcc_id_problem(*id, why))
		return arg_error("%s; e.g. 0x05000001 or 5:1", why);
	return 0;
}

/*
 * 500ms, 10s, 1.5s, 2m, 0.25h, 250us, 100ns; a bare number is seconds.  The
 * value is computed in whole nanoseconds from the digits (no floating point,
 * so 0.1s is exactly 100000000 ns); a fraction finer than 1 ns is refused.
 */
int parse_duration(const char *s, __u64 *ns)
{
	static const struct { const char *unit; __u64 ns; } units[] = {
		{ "ns", 1ULL }, { "us", 1000ULL }, { "ms", 1000000ULL },
		{ "s", 1000000000ULL }, { "", 1000000000ULL },
		{ "m", 60000000000ULL }, { "h", 3600000000000ULL },
	};
	const char *p = s, *frac = NULL, *unit;
	__u64 whole = 0, v;
	size_t i;

	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		goto bad;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (whole > (~0ULL - (*p - '0')) / 10)
			return arg_error("duration '%s' is too long", s);
		whole = whole * 10 + (*p - '0');
	}
	if (*p == '.') {
		frac = ++p;
		while (*p >= '0' && *p <= '9')
			p++;
		if (p == frac)
			goto bad;
	}
	if (p == s || (frac && frac == s + 1))
		goto bad;
	unit = p;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		__u64 scale = units[i].ns, part = 0;

		if (strcmp(unit, units[i].unit))
			continue;
		if (whole > ~0ULL / scale)
			return arg_error("duration '%s' is too long", s);
		v = whole * scale;
		/* Each fraction digit takes a tenth of the scale left. */
		for (p = frac; p && p < unit; p++) {
			if (scale % 10) {
				if (*p != '0')
					return arg_error("duration '%s' is not a whole number of "
							 "nanoseconds", s);
				continue;
			}
			scale /= 10;
			part += (__u64)(*p - '0') * scale;
		}
		if (v > ~0ULL - part)
			return arg_error("duration '%s' is too long", s);
		v += part;
		if (!v)
			return arg_error("duration '%s' must be more than 0", s);
		*ns = v;
		return 0;
	}
bad:
	return arg_error("duration '%s': expected a decimal number (a fraction allowed) "
			 "with a unit ns, us, ms, s, m or h (e.g. 500ms, 1.5s, 2m)", s);
}

int parse_ifname(const char *s, char ifname[16])
{
	const char *problem = txc_ifname_problem(s);

	if (problem)
		return arg_error("interface name '%s' is not valid: %s", s, problem);
	memset(ifname, 0, IFNAMSIZ);
	memcpy(ifname, s, strlen(s));
	return 0;
}

int parse_scope(const char *s, __u8 *scope)
{
	char names[TXCC_PROBLEM_MAX];

	*scope = txcc_scope_by_name(s);
	if (!*scope)
		return arg_error("'%s': expected %s", s, txcc_scope_names(names));
	return 0;
}

int parse_ip_proto(const char *s, __u8 *proto)
{
	int n = txcc_ip_proto_by_name(s);
	char names[TXCC_NAMES_MAX];
	__u64 v = 0;

	if (n >= 0) {
		*proto = n;
		return 0;
	}
	n = scan_u64(s, &v);
	if (n <= 0 || s[n] || v > 255)
		return arg_error("protocol '%s': expected %s or a number 0..255", s,
				 txcc_ip_proto_names(names));
	*proto = v;
	return 0;
}

bool proto_has_ports(__u8 proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP ||
	       proto == IPPROTO_UDPLITE || proto == IPPROTO_SCTP;
}

static int parse_port(const char *s, const char *what, const char *arg, __be16 *port)
{
	__u64 v = 0;
	int n = scan_u64(s, &v);

	if (n <= 0 || s[n] || v > 65535)
		return arg_error("%s '%s': port '%s' is not a number 0..65535", what, arg, s);
	*port = htons(v);
	return 0;
}

/*
 * ADDR, ADDR:PORT, IPv6 bare or [IPv6]:PORT.  More than one ':' without
 * brackets is an IPv6 address with no port.
 */
int parse_endpoint(const char *arg, const char *what, __u8 *family, __u8 addr[16],
		   __be16 *port, bool *has_port)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *s = arg, *end, *port_str = NULL;
	size_t len;
	int af;

	if (s[0] == '[') {
		end = strchr(s, ']');
		if (!end || (end[1] && end[1] != ':'))
			goto bad;
		af = AF_INET6;
		s++;
		len = end - s;
		if (end[1] == ':')
			port_str = end + 2;
	} else {
		end = strchr(s, ':');
		if (end && !strchr(end + 1, ':')) {
			af = AF_INET;
			len = end - s;
			port_str = end + 1;
		} else {
			af = end ? AF_INET6 : AF_INET;
			len = strlen(s);
		}
	}
	if (len >= sizeof(host))
		goto bad;
	memcpy(host, s, len);
	host[len] = '\0';
	memset(addr, 0, 16);
	if (inet_pton(af, host, addr) != 1)
		goto bad;
	*family = af == AF_INET ? TXC_FAMILY_IPV4 : TXC_FAMILY_IPV6;
	*has_port = port_str != NULL;
	*port = 0;
	if (port_str && parse_port(port_str, what, arg, port))
		return -EINVAL;
	return 0;
bad:
	return arg_error("%s '%s': expected ADDR or ADDR:PORT, IPv4 or IPv6 "
			 "(IPv6 with a port in brackets: [2001:db8::1]:53)", what, arg);
}

static bool is_number(const char *s)
{
	__u64 v = 0;
	int n = scan_u64(s, &v);

	return n != 0 && (n < 0 || !s[n]);
}

/* A cgroup v2 id is the inode number of the cgroup's directory. */
int parse_cgroup(const char *s, __u64 *cgroup_id)
{
	struct statfs sfs;
	struct stat st;

	if (is_number(s)) {
		char why[TXCC_PROBLEM_MAX];
		__u32 at;

		if (parse_u64(s, "cgroup id", ~0ULL, cgroup_id))
			return -EINVAL;
		if (txcc_tag_key_problem(TXC_TAG_CGROUP, cgroup_id, &at, why))
			return arg_error("%s", why);
		return 0;
	}
	if (statfs(s, &sfs) || stat(s, &st))
		return arg_error("cgroup '%s': %s; expected a cgroup v2 directory or a cgroup id",
				 s, strerror(errno));
	if (sfs.f_type != CGROUP2_SUPER_MAGIC || !S_ISDIR(st.st_mode))
		return arg_error("cgroup '%s' is not a directory of a cgroup v2 hierarchy "
				 "(e.g. /sys/fs/cgroup/...)", s);
	*cgroup_id = st.st_ino;
	return 0;
}

const char *take_value(int argc, char **argv, int *i, const char *expect)
{
	if (*i + 1 >= argc) {
		usage_error("'%s' needs %s", argv[*i], expect);
		return NULL;
	}
	*i += 2;
	return argv[*i - 1];
}

/* ---- names and formats --------------------------------------------------- */

const char *scope_name(__u8 scope)
{
	return txcc_scope_name(scope);
}

const char *tag_kind_name(__u8 kind)
{
	return txcc_tag_kind_name(kind);
}

const char *hook_name(__u8 hook)
{
	switch (hook) {
	case TXC_HOOK_TC_EGRESS:	return "tc";
	case TXC_HOOK_XDP:		return "xdp";
	case TXC_HOOK_XDP_DEVMAP:	return "xdp-devmap";
	default:			return "unknown";
	}
}

/* Where a frame was stopped (txc_abort_record.where). */
const char *where_name(__u8 where)
{
	switch (where) {
	case TXC_AT_HOOK:	return "hook";
	case TXC_AT_ENQUEUE:	return "enqueue";
	case TXC_AT_PURGE:	return "queued";
	case TXC_AT_DEQUEUE:	return "dequeue";
	default:		return "unknown";
	}
}

/*
 * A place of txc_places_iface.aborted: where_name() for the TXC_AT_*
 * places, then "reset" for the frames a qdisc reset threw away.
 */
const char *place_name(unsigned int place)
{
	return place == TXC_PLACE_RESET ? "reset" : where_name(place);
}

/* What a record's status says happened to the frame. */
const char *record_status_name(__u32 status)
{
	switch (status) {
	case TXC_STATUS_SEND_ABORTED:	return "aborted";
	case TXC_STATUS_RESET:		return "reset";
	default:			return "unknown";
	}
}

const char *verdict_name(__u8 verdict)
{
	switch (verdict) {
	case TXC_VERDICT_PASS:	return "PASS";
	case TXC_VERDICT_DROP:	return "DROP";
	default:		return "UNKNOWN";
	}
}

const char *proto_name(__u8 proto, char *buf, size_t len)
{
	const char *name = txcc_ip_proto_name(proto);

	if (name)
		return name;
	snprintf(buf, len, "proto-%u", proto);
	return buf;
}

void format_endpoint(char *buf, size_t len, __u8 family, const __u8 addr[16],
		     __be16 port, bool with_port)
{
	char host[INET6_ADDRSTRLEN];
	int af = family == TXC_FAMILY_IPV6 ? AF_INET6 : AF_INET;

	if ((family != TXC_FAMILY_IPV4 && family != TXC_FAMILY_IPV6) ||
	    !inet_ntop(af, addr, host, sizeof(host))) {
		snprintf(buf, len, "-");
		return;
	}
	if (!with_port)
		snprintf(buf, len, "%s", host);
	else if (af == AF_INET6)
		snprintf(buf, len, "[%s]:%u", host, ntohs(port));
	else
		snprintf(buf, len, "%s:%u", host, ntohs(port));
}

void format_frame_summary(char *buf, size_t len, const struct txc_frame_summary *s)
{
	char src[ENDPOINT_STRLEN], dst[ENDPOINT_STRLEN], pbuf[16];
	bool ports = proto_has_ports(s->l4_proto) && !(s->flags & TXC_FRAME_F_TRUNCATED);
	int n;

	if (s->family) {
		format_endpoint(src, sizeof(src), s->family, s->saddr, s->sport, ports);
		format_endpoint(dst, sizeof(dst), s->family, s->daddr, s->dport, ports);
		n = snprintf(buf, len, "%s %s -> %s",
			     s->l4_proto || !(s->flags & TXC_FRAME_F_TRUNCATED) ?
			     proto_name(s->l4_proto, pbuf, sizeof(pbuf)) : "ip",
			     src, dst);
	} else {
		n = snprintf(buf, len, "ethertype 0x%04x", ntohs(s->eth_proto));
	}
	if (n < 0 || (size_t)n >= len)
		return;
	if (s->vlan_tci)
		n += snprintf(buf + n, len - n, " vlan %u", s->vlan_tci & 0x0fff);
	if ((size_t)n < len && (s->flags & TXC_FRAME_F_TRUNCATED))
		snprintf(buf + n, len - n, " (truncated)");
}

void jw_counts(const struct txc_counters *c)
{
	jw_uint("passed_frames", c->passed_frames);
	jw_uint("passed_bytes", c->passed_bytes);
	jw_uint("aborted_frames", c->aborted_frames);
	jw_uint("aborted_bytes", c->aborted_bytes);
}

void jw_frame_summary(const char *name, const struct txc_frame_summary *s)
{
	char addr[ENDPOINT_STRLEN], pbuf[16];

	jw_object(name);
	jw_uint("eth_proto", ntohs(s->eth_proto));
	jw_uint("vlan_tci", s->vlan_tci);
	jw_uint("family", s->family);
	jw_uint("proto", s->l4_proto);
	jw_string("proto_name", proto_name(s->l4_proto, pbuf, sizeof(pbuf)));
	if (s->family) {
		format_endpoint(addr, sizeof(addr), s->family, s->saddr, 0, false);
		jw_string("src", addr);
		format_endpoint(addr, sizeof(addr), s->family, s->daddr, 0, false);
		jw_string("dst", addr);
	} else {
		jw_null("src");
		jw_null("dst");
	}
	jw_uint("sport", ntohs(s->sport));
	jw_uint("dport", ntohs(s->dport));
	jw_bool("truncated", s->flags & TXC_FRAME_F_TRUNCATED);
	jw_object_end();
}
