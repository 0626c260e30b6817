// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Tag rules: the rule tables, socket tags and the lease generations. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "dp.h"
#include "dp_internal.h"
#include "tag_kinds.h"
#include "values.h"

/*
 * The rule table of each tag kind, from the common table of kinds: socket
 * tags (no rule key) live in their sockets, the others in a map by key.
 */
static const struct tag_table {
	const char *name;
	enum txdp_map_id map;
	__u32 lookup;
	__u32 rule_key;
} tag_tables[] = {
#define ROW(kind, name, lookup, rule_key, map)	[kind] = { name, TXDP_MAP_##map, lookup, rule_key },
	TXCC_TAG_KINDS(ROW)
#undef ROW
};

static const struct tag_table *tag_table(struct txdp *dp, int kind)
{
	char names[TXCC_NAMES_MAX];

	if (kind < 0 || (size_t)kind >= sizeof(tag_tables) / sizeof(tag_tables[0]) ||
	    !tag_tables[kind].name) {
		txdp_fail(dp, -EINVAL, "tag kind %d: must be %s", kind,
			    txcc_tag_kind_names(names, true));
		return NULL;
	}
	if (!tag_tables[kind].rule_key) {
		txdp_fail(dp, -EINVAL, "%s tags are stored in the socket: "
			    "txdp_sock_tag() with its fd, not by cookie", tag_tables[kind].name);
		return NULL;
	}
	return &tag_tables[kind];
}

static int check_key(struct txdp *dp, int kind, const void *key)
{
	char why[TXCC_PROBLEM_MAX];
	__u32 at;

	if (txcc_tag_key_problem(kind, key, &at, why))
		return txdp_fail(dp, -EINVAL, "%s", why);
	return 0;
}

int txdp_tag_add(struct txdp *dp, int kind, const void *key, const struct txc_tag *tag)
{
	const struct tag_table *tt;
	struct bpf_map *m;
	int err;

	txdp_error_clear(dp);
	tt = tag_table(dp, kind);
	if (!tt)
		return -EINVAL;
	err = txdp_check_id(dp, tag->cancel_id);
	if (!err)
		err = txdp_check_source(dp, tag->source);
	if (!err)
		err = check_key(dp, kind, key);
	if (err)
		return err;
	/* The filter says "maybe" before the rule exists: never "none" while it does. */
	if (kind == TXC_TAG_CGROUP)
		txdp_cgroup_filter_set(dp, *(const __u64 *)key);
	m = txdp_map(dp, tt->map);
	if (bpf_map_update_elem(bpf_map__fd(m), key, tag, BPF_ANY)) {
		/* A hash map that is full refuses a new key with E2BIG. */
		if (errno == E2BIG)
			return txdp_fail(dp, -E2BIG, "the rule table is full (%u %s rules)",
					   bpf_map__max_entries(m), tt->name);
		return txdp_fail(dp, -errno, "adding a %s rule: %s", tt->name,
				   strerror(errno));
	}
	/* The rule is in place before its table is looked up: no half state. */
	return txdp_lookups_add(dp, tt->lookup);
}

int txdp_tag_del(struct txdp *dp, int kind, const void *key)
{
	const struct tag_table *tt = tag_table(dp, kind);

	if (!tt)
		return -EINVAL;
	if (bpf_map_delete_elem(txdp_map_fd(dp, tt->map), key))
		return -errno;
	return 0;
}

/* --- socket tags ---------------------------------------------------------- */

static __u64 gen_of(const struct txdp *dp, __u32 slot)
{
	return __atomic_load_n(&dp->gens[slot], __ATOMIC_ACQUIRE);
}

/* Whether a stored socket tag is in force: a valid ID made under current leases. */
static bool sk_tag_current(const struct txdp *dp, const struct txc_sk_tag *st)
{
	return TXC_ID_VALID(st->tag.cancel_id) && TXC_SOURCE_VALID(st->tag.source) &&
	       st->prefix_gen == gen_of(dp, TXC_ID_PREFIX(st->tag.cancel_id)) &&
	       st->source_gen == gen_of(dp, TXC_GEN_SOURCE(st->tag.source));
}

int txdp_sock_get(struct txdp *dp, int sock_fd, struct txc_sk_tag *st)
{
	if (bpf_map_lookup_elem(txdp_map_fd(dp, TXDP_MAP_SK_TAGS), &sock_fd, st))
		return -errno;
	return sk_tag_current(dp, st) ? 0 : -ENOENT;
}

int txdp_sock_tag(struct txdp *dp, int sock_fd, const struct txc_tag *tag)
{
	struct txc_sk_tag st = { .tag = *tag };
	socklen_t len = sizeof(st.cookie);
	int err;

	txdp_error_clear(dp);
	err = txdp_check_id(dp, tag->cancel_id);
	if (!err)
		err = txdp_check_source(dp, tag->source);
	if (err)
		return err;
	if (getsockopt(sock_fd, SOL_SOCKET, SO_COOKIE, &st.cookie, &len))
		return txdp_fail(dp, -errno, "socket tag: reading the cookie of fd %d: %s",
				   sock_fd, strerror(errno));
	st.prefix_gen = gen_of(dp, TXC_ID_PREFIX(tag->cancel_id));
	st.source_gen = gen_of(dp, TXC_GEN_SOURCE(tag->source));
	/* The tag is in the socket before the programs look for one: no half state. */
	if (bpf_map_update_elem(txdp_map_fd(dp, TXDP_MAP_SK_TAGS), &sock_fd, &st, BPF_ANY))
		return txdp_fail(dp, -errno, "storing the tag in socket fd %d: %s", sock_fd,
				   strerror(errno));
	return txdp_lookups_add(dp, TXC_LOOKUP_SOCKET);
}

int txdp_sock_untag(struct txdp *dp, int sock_fd)
{
	if (bpf_map_delete_elem(txdp_map_fd(dp, TXDP_MAP_SK_TAGS), &sock_fd))
		return -errno;
	return 0;
}

int txdp_lease_end(struct txdp *dp, int scope, __u32 value)
{
	__u32 slot;

	if (scope == TXC_SCOPE_PREFIX && !txdp_check_prefix(dp, value))
		slot = value;
	else if (scope == TXC_SCOPE_SOURCE && !txdp_check_source(dp, value))
		slot = TXC_GEN_SOURCE(value);
	else
		return -EINVAL;
	__atomic_fetch_add(&dp->gens[slot], 1, __ATOMIC_SEQ_CST);
	return 0;
}
