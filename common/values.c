// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Value checks with one wording: see values.h. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include "txcancel/abi.h"
#include "values.h"

/* Write the sentence into @buf, which is returned: the checks' one way out. */
static const char * __attribute__((format(printf, 2, 3)))
problem(char buf[TXCC_PROBLEM_MAX], const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, TXCC_PROBLEM_MAX, fmt, ap);
	va_end(ap);
	return buf;
}

const char *txcc_id_problem(__u32 cancel_id, char buf[TXCC_PROBLEM_MAX])
{
	if (TXC_ID_VALID(cancel_id))
		return NULL;
	return problem(buf, "cancel ID 0x%08x has prefix 0: its high byte must "
		       "be a prefix %u..%u (0 means untagged)", cancel_id, TXC_PREFIX_MIN,
		       TXC_PREFIX_MAX);
}

const char *txcc_prefix_problem(__u32 prefix, char buf[TXCC_PROBLEM_MAX])
{
	if (TXC_PREFIX_VALID(prefix))
		return NULL;
	return problem(buf, "prefix %u: must be %u..%u", prefix, TXC_PREFIX_MIN,
		       TXC_PREFIX_MAX);
}

const char *txcc_source_problem(__u32 source, char buf[TXCC_PROBLEM_MAX])
{
	if (TXC_SOURCE_VALID(source))
		return NULL;
	return problem(buf, "source %u: must be 1..%u", source,
		       TXC_MAX_SOURCES - 1);
}

const char *txcc_scope_problem(__u32 scope, char buf[TXCC_PROBLEM_MAX])
{
	if (scope == TXC_SCOPE_SOURCE || scope == TXC_SCOPE_PREFIX || scope == TXC_SCOPE_ID)
		return NULL;
	return problem(buf, "scope %u: must be source (%u), prefix (%u) or ID (%u)",
		       scope, TXC_SCOPE_SOURCE, TXC_SCOPE_PREFIX, TXC_SCOPE_ID);
}

static bool all_zero(const __u8 *p, size_t n)
{
	while (n--)
		if (*p++)
			return false;
	return true;
}

static const char *flow_key_problem(const struct txc_flow_key *f, __u32 *at,
				    char buf[TXCC_PROBLEM_MAX])
{
	if (f->family != TXC_FAMILY_IPV4 && f->family != TXC_FAMILY_IPV6) {
		*at = offsetof(struct txc_flow_key, family);
		return problem(buf, "flow family %u: must be %u (IPv4) or %u (IPv6)",
			       f->family, TXC_FAMILY_IPV4, TXC_FAMILY_IPV6);
	}
	if (f->reserved) {
		*at = offsetof(struct txc_flow_key, reserved);
		return problem(buf, "flow key: the reserved field must be zero");
	}
	if (f->family == TXC_FAMILY_IPV4 && (!all_zero(f->saddr + 4, sizeof(f->saddr) - 4) ||
					     !all_zero(f->daddr + 4, sizeof(f->daddr) - 4))) {
		*at = all_zero(f->saddr + 4, sizeof(f->saddr) - 4) ?
		      offsetof(struct txc_flow_key, daddr) : offsetof(struct txc_flow_key, saddr);
		return problem(buf, "IPv4 flow key: address bytes 4..15 must be zero");
	}
	return NULL;
}

const char *txcc_tag_key_problem(__u8 kind, const void *key, __u32 *at,
				 char buf[TXCC_PROBLEM_MAX])
{
	struct txc_flow_key flow;

	*at = 0;
	switch (kind) {
	case TXC_TAG_MARK:
		return all_zero(key, sizeof(__u32)) ?
		       problem(buf, "mark 0 means untagged: it cannot carry an ID") : NULL;
	case TXC_TAG_CGROUP:
		return all_zero(key, sizeof(__u64)) ? problem(buf, "cgroup id 0 is not a cgroup") : NULL;
	case TXC_TAG_FLOW:
		memcpy(&flow, key, sizeof(flow));
		return flow_key_problem(&flow, at, buf);
	default:
		return NULL;
	}
}

const char *txcc_stats_scope_problem(__u32 scope, char buf[TXCC_PROBLEM_MAX])
{
	if (scope == TXC_SCOPE_SOURCE || scope == TXC_SCOPE_ID)
		return NULL;
	return problem(buf, "stats scope %u: must be source (%u) or ID (%u)", scope,
		       TXC_SCOPE_SOURCE, TXC_SCOPE_ID);
}

const char *txcc_capture_len_problem(__u32 len, char buf[TXCC_PROBLEM_MAX])
{
	if (len <= TXC_CAPTURE_MAX)
		return NULL;
	return problem(buf, "capture length %u: must be 0 (none) to %u bytes", len,
		       TXC_CAPTURE_MAX);
}

const char *txcc_scope_value_problem(__u32 scope, __u32 value, char buf[TXCC_PROBLEM_MAX])
{
	switch (scope) {
	case TXC_SCOPE_ID:
		return txcc_id_problem(value, buf);
	case TXC_SCOPE_PREFIX:
		return txcc_prefix_problem(value, buf);
	case TXC_SCOPE_SOURCE:
		return txcc_source_problem(value, buf);
	default:
		return txcc_scope_problem(scope, buf);
	}
}

static const char *const scope_names[] = {
	[0] = "none",
	[TXC_SCOPE_SOURCE] = "source",
	[TXC_SCOPE_PREFIX] = "prefix",
	[TXC_SCOPE_ID] = "id",
};

const char *txcc_scope_name(__u8 scope)
{
	if (scope >= sizeof(scope_names) / sizeof(scope_names[0]) || !scope_names[scope])
		return "unknown";
	return scope_names[scope];
}

__u8 txcc_scope_by_name(const char *word)
{
	for (__u8 s = 1; s < sizeof(scope_names) / sizeof(scope_names[0]); s++)
		if (scope_names[s] && !strcmp(scope_names[s], word))
			return s;
	return 0;
}

const char *txcc_scope_names(char buf[TXCC_PROBLEM_MAX])
{
	return problem(buf, "%s, %s or %s", scope_names[TXC_SCOPE_SOURCE],
		       scope_names[TXC_SCOPE_PREFIX], scope_names[TXC_SCOPE_ID]);
}
