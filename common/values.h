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
/*
 * The key of a rule of @kind that could never match a frame: mark 0, cgroup
 * 0, a flow of another family, with its reserved field set or with bytes
 * past an IPv4 address.  @key is the kind's rule key (tag_kinds.h); *@at
 * is the offset in it of the field at fault.  Socket keys are no rule key
 * (each side says what it needs), and the kind itself is checked with the
 * table of kinds: for both, NULL.
 */
const char *txcc_tag_key_problem(__u8 kind, const void *key, __u32 *at,
				 char buf[TXCC_PROBLEM_MAX]);
/* The scopes counters are kept by: source and ID. */
const char *txcc_stats_scope_problem(__u32 scope, char buf[TXCC_PROBLEM_MAX]);
/* Bytes of each aborted frame a source's records carry: 0 (none) to TXC_CAPTURE_MAX. */
const char *txcc_capture_len_problem(__u32 len, char buf[TXCC_PROBLEM_MAX]);

/*
 * The command-line word of a scope: "source", "prefix", "id"; "none" for
 * 0, "unknown" for a scope there is not.
 */
const char *txcc_scope_name(__u8 scope);
/* The scope @word names (TXC_SCOPE_*), or 0. */
__u8 txcc_scope_by_name(const char *word);
/* The words for a sentence: "source, prefix or id" (@buf has TXCC_PROBLEM_MAX bytes). */
const char *txcc_scope_names(char buf[TXCC_PROBLEM_MAX]);

#endif /* TXCANCEL_COMMON_VALUES_H */
