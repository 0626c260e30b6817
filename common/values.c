// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Value checks with one wording: see values.h. */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include "txcancel/abi.h"
#include "values.h"

const char *txcc_id_problem(__u32 cancel_id, char buf[TXCC_PROBLEM_MAX])
{
	if (TXC_ID_VALID(cancel_id))
		return NULL;
	snprintf(buf, TXCC_PROBLEM_MAX, "cancel ID 0x%08x has prefix 0: its high byte must "
		 "be a prefix %u..%u (0 means untagged)", cancel_id, TXC_PREFIX_MIN,
		 TXC_PREFIX_MAX);
	return buf;
}

const char *txcc_prefix_problem(__u32 prefix, char buf[TXCC_PROBLEM_MAX])
{
	if (TXC_PREFIX_VALID(prefix))
		return NULL;
	snprintf(buf, TXCC_PROBLEM_MAX, "prefix %u: must be %u..%u", prefix, TXC_PREFIX_MIN,
		 TXC_PREFIX_MAX);
	return buf;
}

const char *txcc_source_problem(__u32 source, char buf[TXCC_PROBLEM_MAX])
{
	if (TXC_SOURCE_VALID(source))
		return NULL;
	snprintf(buf, TXCC_PROBLEM_MAX, "source %u: must be 1..%u", source,
		 TXC_MAX_SOURCES - 1);
	return buf;
}

const char *txcc_scope_problem(__u32 scope, char buf[TXCC_PROBLEM_MAX])
{
	if (scope == TXC_SCOPE_SOURCE || scope == TXC_SCOPE_PREFIX || scope == TXC_SCOPE_ID)
		return NULL;
	snprintf(buf, TXCC_PROBLEM_MAX, "scope %u: must be source (%u), prefix (%u) or ID (%u)",
		 scope, TXC_SCOPE_SOURCE, TXC_SCOPE_PREFIX, TXC_SCOPE_ID);
	return buf;
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
		snprintf(buf, TXCC_PROBLEM_MAX, "flow family %u: must be %u (IPv4) or %u (IPv6)",
			 f->family, TXC_FAMILY_IPV4, TXC_FAMILY_IPV6);
		return buf;
	}
	if (f->reserved) {
		*at = offsetof(struct txc_flow_key, reserved);
		snprintf(buf, TXCC_PROBLEM_MAX, "flow key: the reserved field must be zero");
		return buf;
	}
	if (f->family == TXC_FAMILY_IPV4 && (!all_zero(f->saddr + 4, sizeof(f->saddr) - 4) ||
					     !all_zero(f->daddr + 4, sizeof(f->daddr) - 4))) {
		*at = all_zero(f->saddr + 4, sizeof(f->saddr) - 4) ?
		      offsetof(struct txc_flow_key, daddr) : offsetof(struct txc_flow_key, saddr);
		snprintf(buf, TXCC_PROBLEM_MAX, "IPv4 flow key: address bytes 4..15 must be zero");
		return buf;
	}
	return NULL;
}

const char *txcc_tag_key_problem(__u8 kind, const void *key, __u32 *at,
				 char buf[TXCC_PROBLEM_MAX])
{
	struct txc_flow_key flow;
	__u64 cgroup;
	__u32 mark;

	*at = 0;
	switch (kind) {
	case TXC_TAG_MARK:
		memcpy(&mark, key, sizeof(mark));
		if (mark)
			return NULL;
		snprintf(buf, TXCC_PROBLEM_MAX, "mark 0 means untagged: it cannot carry an ID");
		return buf;
	case TXC_TAG_CGROUP:
		memcpy(&cgroup, key, sizeof(cgroup));
		if (cgroup)
			return NULL;
		snprintf(buf, TXCC_PROBLEM_MAX, "cgroup id 0 is not a cgroup");
		return buf;
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
	snprintf(buf, TXCC_PROBLEM_MAX, "stats scope %u: must be source (%u) or ID (%u)", scope,
		 TXC_SCOPE_SOURCE, TXC_SCOPE_ID);
	return buf;
}

const char *txcc_capture_len_problem(__u32 len, char buf[TXCC_PROBLEM_MAX])
{
	if (len <= TXC_CAPTURE_MAX)
		return NULL;
	snprintf(buf, TXCC_PROBLEM_MAX, "capture length %u: must be 0 (none) to %u bytes", len,
		 TXC_CAPTURE_MAX);
	return buf;
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
	snprintf(buf, TXCC_PROBLEM_MAX, "%s, %s or %s", scope_names[TXC_SCOPE_SOURCE],
		 scope_names[TXC_SCOPE_PREFIX], scope_names[TXC_SCOPE_ID]);
	return buf;
}
