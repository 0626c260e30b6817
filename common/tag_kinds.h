/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The one table of tag kinds (TXC_TAG_* in abi.h): the name the tools and
 * error texts use, which is also the command-line word, the lookup bit
 * that turns the kind's table on in the datapath, and whether rules of the
 * kind live in a table keyed by the tag key at all (socket tags live in
 * their sockets).  The key's size is the wire's, txc_tag_key_size() in
 * proto.h.  The BPF map of each kind is the datapath library's (its map
 * enum), indexed by the same kind.  Internal to txcancel.
 */
#ifndef TXCANCEL_COMMON_TAG_KINDS_H
#define TXCANCEL_COMMON_TAG_KINDS_H

#include <stdbool.h>
#include <linux/types.h>

struct txcc_tag_kind {
	__u8 kind;		/* TXC_TAG_* */
	const char *name;	/* "mark": the command-line word and the name shown */
	__u32 lookup;		/* TXC_LOOKUP_* bit of txc_config.lookups */
	bool in_table;		/* rules are map entries keyed by the tag key */
};

/* The row of @kind (TXC_TAG_MARK..TXC_TAG_KIND_MAX), or NULL. */
const struct txcc_tag_kind *txcc_tag_kind(__u8 kind);
/* The kind named @name, or NULL. */
const struct txcc_tag_kind *txcc_tag_kind_by_name(const char *name);
/* "mark", ...; "none" for 0, "unknown" for a kind the table does not have. */
const char *txcc_tag_kind_name(__u8 kind);

/* The names for a sentence: "mark, socket, cgroup or flow". */
#define TXCC_TAG_KIND_NAMES	"mark, socket, cgroup or flow"
/* The same with the numbers, for the wire's: "mark (1), ..., or flow (4)". */
#define TXCC_TAG_KIND_CODES	"mark (1), socket (2), cgroup (3) or flow (4)"

/*
 * IP protocol words on the command line: "udp", "icmpv6" (and its other
 * spelling "icmp6"), ... .  Returns the protocol number or -1.
 */
int txcc_ip_proto_by_name(const char *word);
/* The name of @proto ("icmpv6"), or NULL if it has none. */
const char *txcc_ip_proto_name(__u8 proto);
/* The words for a sentence. */
#define TXCC_IP_PROTO_NAMES	"udp, tcp, icmp, icmpv6 (icmp6), sctp, udplite"

#endif /* TXCANCEL_COMMON_TAG_KINDS_H */
