/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The one check, and the one sentence, for each value the protocol
 * numbers: cancel IDs, prefixes, sources and scopes.  The library, the
 * tool and the daemon all refuse a bad value with these words, so a user
 * reads the same sentence whichever side caught it; a side may add what
 * the fix is in its own terms (a library call, a command).
 *
 * Each returns NULL when the value is valid, else @buf holding the
 * sentence.  Internal to txcancel (see proto_table.h).
 */
#ifndef TXCANCEL_COMMON_VALUES_H
#define TXCANCEL_COMMON_VALUES_H

#include <linux/types.h>

#define TXCC_PROBLEM_MAX	96	/* bytes of a sentence, NUL included */

const char *txcc_id_problem(__u32 cancel_id, char buf[TXCC_PROBLEM_MAX]);
const char *txcc_prefix_problem(__u32 prefix, char buf[TXCC_PROBLEM_MAX]);
const char *txcc_source_problem(__u32 source, char buf[TXCC_PROBLEM_MAX]);
const char *txcc_scope_problem(__u32 scope, char buf[TXCC_PROBLEM_MAX]);
/* @scope's own check, then @value's as that scope's: an ID, a prefix or a source. */
const char *txcc_scope_value_problem(__u32 scope, __u32 value, char buf[TXCC_PROBLEM_MAX]);

#endif /* TXCANCEL_COMMON_VALUES_H */
