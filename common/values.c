// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Value checks with one wording: see values.h. */
#include <stddef.h>
#include <stdio.h>
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
	if (prefix >= TXC_PREFIX_MIN && prefix <= TXC_PREFIX_MAX)
		return NULL;
	snprintf(buf, TXCC_PROBLEM_MAX, "prefix %u: must be %u..%u", prefix, TXC_PREFIX_MIN,
		 TXC_PREFIX_MAX);
	return buf;
}

const char *txcc_source_problem(__u32 source, char buf[TXCC_PROBLEM_MAX])
{
	if (source != TXC_SOURCE_NONE && source < TXC_MAX_SOURCES)
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
