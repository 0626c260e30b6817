// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Walking the rule tables: see rules.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "rules.h"
#include "tag_kinds.h"

/* The rows of common/tag_kinds.h with their maps, in TXC_TAG_* order from 1. */
#define ROW(kind, name, lookup, rule_key, map) \
	[kind - 1] = { kind, TXDP_MAP_##map, rule_key, name },
const struct txcd_rule_table txcd_rule_tables[TXC_TAG_KIND_MAX] = {
	TXCC_TAG_KINDS(ROW)
};
#undef ROW

const struct txcd_rule_table *txcd_rule_table_of(__u8 kind)
{
	if (kind < 1 || kind > TXC_TAG_KIND_MAX)
		return NULL;
	return &txcd_rule_tables[kind - 1];
}

int txcd_rule_get(struct txdp *dp, __u8 kind, const void *key, struct txc_tag *tag)
{
	const struct txcd_rule_table *t = txcd_rule_table_of(kind);

	if (!t || !t->key_size)
		return -EINVAL;
	if (bpf_map_lookup_elem(txdp_map_fd(dp, t->map), key, tag))
		return -errno;
	return 0;
}

/*
 * Keys to delete are collected first and deleted after the walk: deleting
 * keys under a walk's cursor would make it skip or repeat keys.
 */
struct key_list {
	__u8 *keys;
	size_t n, cap, size;
};

static int key_list_add(struct key_list *l, const void *key)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		__u8 *k = realloc(l->keys, cap * l->size);

		if (!k)
			return -ENOMEM;
		l->keys = k;
		l->cap = cap;
	}
	memcpy(l->keys + l->n++ * l->size, key, l->size);
	return 0;
}

static int delete_keys(int fd, struct key_list *l)
{
	__u32 deleted = 0;

	txdp_map_delete_keys(fd, l->keys, l->size, l->n, &deleted);
	free(l->keys);
	return deleted;
}

struct rule_walk {
	const struct txcd_rule_table *tab;
	txcd_rule_fn fn;
	void *ctx;
	struct key_list *del;
};

/* One chunk of a rule table: collect the keys the caller wants deleted. */
static int walk_chunk(void *ctx, const void *keys, const void *vals, __u32 n)
{
	struct rule_walk *w = ctx;
	const struct txc_tag *tags = vals;
	int err = 0;

	for (__u32 i = 0; i < n && !err; i++) {
		const void *key = (const __u8 *)keys + (size_t)i * w->tab->key_size;

		if (w->fn(w->ctx, w->tab->kind, key, &tags[i]))
			err = key_list_add(w->del, key);
	}
	return err;
}

int txcd_rules_walk(struct txdp *dp, txcd_rule_fn fn, void *ctx)
{
	int total = 0;

	for (size_t t = 0; t < TXC_TAG_KIND_MAX; t++) {
		const struct txcd_rule_table *tab = &txcd_rule_tables[t];
		int fd = txdp_map_fd(dp, tab->map);
		struct key_list del = { .size = tab->key_size };
		struct rule_walk w = { tab, fn, ctx, &del };
		int err;

		/* Socket tags are in the sockets, retired by lease generation. */
		if (!tab->key_size)
			continue;
		err = txdp_map_walk(fd, tab->key_size, sizeof(struct txc_tag), walk_chunk, &w);

		if (err) {
			free(del.keys);
			return err;
		}
		total += delete_keys(fd, &del);
	}
	return total;
}
