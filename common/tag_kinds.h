/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The one table of tag kinds (TXC_TAG_* in abi.h), one row per kind:
 *   kind	TXC_TAG_*
 *   name	the command-line word, and the name in texts and JSON
 *   lookup	the TXC_LOOKUP_* bit of txc_config.lookups that turns the
 *		kind's table on in the datapath
 *   rule_key	bytes of the key of its rule table; 0: no table (socket
 *		tags live in their sockets).  Where there is a table, its key
 *		is the wire's key (txc_tag_key_size() in proto.h).
 *   map	the datapath library's map of its rules: TXDP_MAP_<map> of its
 *		enum, pasted only where that enum is known
 * As an X-macro so that the datapath side can build its rows (with the
 * map) from the same lines.  Internal to txcancel.
 */
#ifndef TXCANCEL_COMMON_TAG_KINDS_H
#define TXCANCEL_COMMON_TAG_KINDS_H

#include <stdbool.h>
#include <linux/types.h>
#include "txcancel/abi.h"

#define TXCC_TAG_KINDS(X)							\
	X(TXC_TAG_MARK,   "mark",   TXC_LOOKUP_MARK,   sizeof(__u32),  MARK_RULES)	\
	X(TXC_TAG_SOCKET, "socket", TXC_LOOKUP_SOCKET, 0,              SK_TAGS)	\
	X(TXC_TAG_CGROUP, "cgroup", TXC_LOOKUP_CGROUP, sizeof(__u64),  CGROUP_RULES)	\
	X(TXC_TAG_FLOW,   "flow",   TXC_LOOKUP_FLOW,					\
	  sizeof(struct txc_flow_key), FLOW_RULES)

struct txcc_tag_kind {
	__u8 kind;		/* TXC_TAG_* */
	const char *name;
	__u32 lookup;
	__u32 rule_key;
};

/* The row of @kind (TXC_TAG_MARK..TXC_TAG_KIND_MAX), or NULL. */
const struct txcc_tag_kind *txcc_tag_kind(__u8 kind);
/* The kind named @name, or NULL. */
const struct txcc_tag_kind *txcc_tag_kind_by_name(const char *name);
/* "mark", ...; "none" for 0, "unknown" for a kind the table does not have. */
const char *txcc_tag_kind_name(__u8 kind);

#define TXCC_NAMES_MAX	96	/* bytes of a list of names, NUL included */
/*
 * The kinds for a sentence, from the table: "mark, socket, cgroup or flow",
 * with @codes "mark (1), socket (2), cgroup (3) or flow (4)".  Returns @buf.
 */
const char *txcc_tag_kind_names(char buf[TXCC_NAMES_MAX], bool codes);

/*
 * IP protocol words on the command line: "udp", "icmpv6" (and its other
 * spelling "icmp6"), ... .  Returns the protocol number or -1.
 */
int txcc_ip_proto_by_name(const char *word);
/* The name of @proto ("icmpv6"), or NULL if it has none. */
const char *txcc_ip_proto_name(__u8 proto);
/* The words for a sentence: "icmp, tcp, udp, icmpv6 (icmp6), ...".  Returns @buf. */
const char *txcc_ip_proto_names(char buf[TXCC_NAMES_MAX]);

#endif /* TXCANCEL_COMMON_TAG_KINDS_H */
