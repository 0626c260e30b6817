// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The tag-kind and IP protocol word tables: see tag_kinds.h. */
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>
#include "tag_kinds.h"

#define ROW(kind, name, lookup, rule_key, map)	[kind] = { kind, name, lookup, rule_key },
static const struct txcc_tag_kind kinds[] = {
	TXCC_TAG_KINDS(ROW)
};
#undef ROW

_Static_assert(sizeof(kinds) / sizeof(kinds[0]) == TXC_TAG_KIND_MAX + 1,
	       "a row for every tag kind up to TXC_TAG_KIND_MAX");

const struct txcc_tag_kind *txcc_tag_kind(__u8 kind)
{
	if (kind > TXC_TAG_KIND_MAX || !kinds[kind].name)
		return NULL;
	return &kinds[kind];
}

const struct txcc_tag_kind *txcc_tag_kind_by_name(const char *name)
{
	for (__u8 k = 1; k <= TXC_TAG_KIND_MAX; k++)
		if (kinds[k].name && !strcmp(kinds[k].name, name))
			return &kinds[k];
	return NULL;
}

const char *txcc_tag_kind_name(__u8 kind)
{
	const struct txcc_tag_kind *k = txcc_tag_kind(kind);

	if (k)
		return k->name;
	return kind ? "unknown" : "none";
}

const char *txcc_tag_kind_names(char buf[TXCC_NAMES_MAX], bool codes)
{
	size_t n = 0;

	buf[0] = '\0';
	for (__u8 k = 1; k <= TXC_TAG_KIND_MAX && n < TXCC_NAMES_MAX; k++) {
		const char *sep = k == 1 ? "" : k == TXC_TAG_KIND_MAX ? " or " : ", ";

		if (codes)
			n += snprintf(buf + n, TXCC_NAMES_MAX - n, "%s%s (%u)", sep,
				      kinds[k].name, k);
		else
			n += snprintf(buf + n, TXCC_NAMES_MAX - n, "%s%s", sep, kinds[k].name);
	}
	return buf;
}

/* The first word of each protocol is its name; later ones are other spellings. */
static const struct {
	const char *word;
	__u8 proto;
} ip_protos[] = {
	{ "icmp", IPPROTO_ICMP }, { "tcp", IPPROTO_TCP }, { "udp", IPPROTO_UDP },
	{ "icmpv6", IPPROTO_ICMPV6 }, { "icmp6", IPPROTO_ICMPV6 },
	{ "sctp", IPPROTO_SCTP }, { "udplite", IPPROTO_UDPLITE },
};

int txcc_ip_proto_by_name(const char *word)
{
	for (size_t i = 0; i < sizeof(ip_protos) / sizeof(ip_protos[0]); i++)
		if (!strcmp(ip_protos[i].word, word))
			return ip_protos[i].proto;
	return -1;
}

const char *txcc_ip_proto_name(__u8 proto)
{
	for (size_t i = 0; i < sizeof(ip_protos) / sizeof(ip_protos[0]); i++)
		if (ip_protos[i].proto == proto)
			return ip_protos[i].word;
	return NULL;
}

const char *txcc_ip_proto_names(char buf[TXCC_NAMES_MAX])
{
	const size_t n_words = sizeof(ip_protos) / sizeof(ip_protos[0]);
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n_words && n < TXCC_NAMES_MAX; i++) {
		/* Another spelling of the protocol before it: "icmpv6 (icmp6)". */
		bool alias = i && ip_protos[i].proto == ip_protos[i - 1].proto;

		if (alias)
			n += snprintf(buf + n, TXCC_NAMES_MAX - n, " (%s)", ip_protos[i].word);
		else
			n += snprintf(buf + n, TXCC_NAMES_MAX - n, "%s%s", i ? ", " : "",
				      ip_protos[i].word);
	}
	return buf;
}
