// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Whether the caller may act on a prefix, a source or a cancel scope: the
 * checks every handler shares, each refusal naming the field and the lease.
 */
#include <errno.h>
#include <stdio.h>
#include "values.h"
#include "requests.h"

int txcd_need_prefix(struct txcd *d, struct txcd_conn *c, __u32 prefix, __u32 field,
		     const char *what, struct txc_rep_error *err)
{
	const struct txcd_prefix *p = &d->prefixes[prefix & 0xff];

	if (txcd_may_prefix(d, c, prefix))
		return 0;
	if (p->lease.state == TXCD_FREE)
		return txcd_error(err, -EPERM, field, "%s is under prefix %u, which nobody holds: "
				  "allocate a prefix first", what, prefix);
	if (p->lease.state == TXCD_RELEASING)
		return txcd_error(err, -EPERM, field, "%s is under prefix %u, which is being "
				  "released", what, prefix);
	return txcd_error(err, -EPERM, field, "%s is under prefix %u, held by another user",
			  what, prefix);
}

int txcd_need_source(struct txcd *d, struct txcd_conn *c, __u32 source, __u32 field,
		     struct txc_rep_error *err)
{
	enum txcd_lease_state state;

	if (txcd_may_source(d, c, source))
		return 0;
	state = d->sources[source].lease.state;
	if (state == TXCD_FREE || state == TXCD_RELEASING)
		return txcd_error(err, -ENOENT, field, "source %u is not open", source);
	return txcd_error(err, -EPERM, field, "source %u belongs to another user", source);
}

/* The prefix/source a scoped cancel or clear acts on must be the caller's. */
int txcd_need_scope(struct txcd *d, struct txcd_conn *c, __u8 scope, __u32 value,
		    __u32 field, struct txc_rep_error *err)
{
	char why[TXCC_PROBLEM_MAX];
	char what[48];

	if (txcc_scope_value_problem(scope, value, why))
		return txcd_error(err, -EINVAL, field, "%s", why);
	switch (scope) {
	case TXC_SCOPE_ID:
		snprintf(what, sizeof(what), "cancel ID 0x%08x", value);
		return txcd_need_prefix(d, c, TXC_ID_PREFIX(value), field, what, err);
	case TXC_SCOPE_PREFIX:
		if (txcd_may_prefix(d, c, value))
			return 0;
		return txcd_error(err, -EPERM, field, "prefix %u is not held by you", value);
	default:
		return txcd_need_source(d, c, value, field, err);
	}
}

