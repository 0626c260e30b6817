// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Validity of the IDs, prefixes, sources and scopes the library is handed:
 * the common checks (common/values.h), so the caller reads the sentence the
 * daemon and the client library use, through txdp_strerror().
 */
#include <errno.h>

#include "dp.h"
#include "dp_internal.h"
#include "values.h"

static int refuse(struct txdp *dp, const char *problem)
{
	return problem ? txdp_fail(dp, -EINVAL, "%s", problem) : 0;
}

int txdp_check_source(struct txdp *dp, __u32 source)
{
	char buf[TXCC_PROBLEM_MAX];

	return refuse(dp, txcc_source_problem(source, buf));
}

int txdp_check_id(struct txdp *dp, __u32 id)
{
	char buf[TXCC_PROBLEM_MAX];

	return refuse(dp, txcc_id_problem(id, buf));
}

int txdp_check_prefix(struct txdp *dp, __u32 prefix)
{
	char buf[TXCC_PROBLEM_MAX];

	return refuse(dp, txcc_prefix_problem(prefix, buf));
}

int txdp_check_scope_value(struct txdp *dp, int scope, __u32 value)
{
	char buf[TXCC_PROBLEM_MAX];

	return refuse(dp, txcc_scope_value_problem(scope, value, buf));
}

/* Every ID of a batch is checked before any reaches the map. */
int txdp_check_ids(struct txdp *dp, const __u32 *ids, __u32 n)
{
	for (__u32 i = 0; i < n; i++) {
		int err = txdp_check_id(dp, ids[i]);

		if (err)
			return err;
	}
	return 0;
}
