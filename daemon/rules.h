/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Walking and pruning the datapath's rule and cancel tables by owner: the
 * tables are the only record of who tagged what, so a prefix or source that
 * is released is found in them by the ID's prefix or the rule's source.
 */
#ifndef TXCD_RULES_H
#define TXCD_RULES_H

#include <stdbool.h>
#include <linux/types.h>
#include "dp.h"

/*
 * The tag-rule tables, in TXC_TAG_* order from 1, built from the rows of
 * common/tag_kinds.h.  Socket tags have a row for their name but no table
 * (key_size 0): they live in the sockets (txdp_sock_tag()) and are not
 * walked.
 */
struct txcd_rule_table {
	__u8 kind;
	enum txdp_map_id map;
	__u32 key_size;
	const char *name;
};
extern const struct txcd_rule_table txcd_rule_tables[TXC_TAG_KIND_MAX];

/* Called for each rule; return true to delete it. */
typedef bool (*txcd_rule_fn)(void *ctx, __u8 kind, const void *key, const struct txc_tag *tag);

/* Visit every rule of every table; deletes those @fn picks.  Returns deleted or -errno. */
int txcd_rules_walk(struct txdp *dp, txcd_rule_fn fn, void *ctx);

/* The rule stored under @kind/@key: 0, -ENOENT, or -errno. */
int txcd_rule_get(struct txdp *dp, __u8 kind, const void *key, struct txc_tag *tag);
const struct txcd_rule_table *txcd_rule_table_of(__u8 kind);

/* Clear every ID cancel under @prefix.  Returns how many, or -errno. */
int txcd_clear_id_cancels(struct txdp *dp, __u32 prefix);
/* Stop the per-ID counters of every ID under @prefix. */
int txcd_stop_id_counters(struct txdp *dp, __u32 prefix);

#endif
