// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Validity of the IDs, prefixes and sources the library is handed, in one wording. */
#include <errno.h>

#include "dp.h"
#include "dp_internal.h"

int txc_dp_check_source(struct txc_dp *dp, __u32 source)
{
	if (source == TXC_SOURCE_NONE || source >= TXC_MAX_SOURCES)
		return txc_dp_fail(dp, -EINVAL, "source handle %u: must be 1..%u", source,
				   TXC_MAX_SOURCES - 1);
	return 0;
}

int txc_dp_check_id(struct txc_dp *dp, __u32 id)
{
	if (!TXC_ID_VALID(id))
		return txc_dp_fail(dp, -EINVAL, "cancel ID 0x%08x: its prefix (high byte) is 0; "
				   "ID 0 means untagged and prefix 0 is never allocated", id);
	return 0;
}

int txc_dp_check_prefix(struct txc_dp *dp, __u32 prefix)
{
	if (prefix < TXC_PREFIX_MIN || prefix > TXC_PREFIX_MAX)
		return txc_dp_fail(dp, -EINVAL, "prefix %u: must be %u..%u", prefix,
				   TXC_PREFIX_MIN, TXC_PREFIX_MAX);
	return 0;
}

/* Every ID of a batch is checked before any reaches the map. */
int txc_dp_check_ids(struct txc_dp *dp, const __u32 *ids, __u32 n)
{
	for (__u32 i = 0; i < n; i++) {
		int err = txc_dp_check_id(dp, ids[i]);

		if (err)
			return err;
	}
	return 0;
}
