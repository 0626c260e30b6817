/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Walking the datapath's rule tables: they are the only record of who
 * tagged what, so the rules of a prefix or source that is released are
 * found in them by the rule's tag.
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

#endif
