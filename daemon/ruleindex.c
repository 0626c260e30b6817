// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Which tag rules each prefix and each source has, so that a release
 * removes its own rules without walking the tables (a million-slot flow
 * table took a second to walk, however few rules the prefix had).
 *
 * Every rule the daemon stores is an entry here: its kind, key, ID and
 * source, hashed by kind and key (for TAG_DEL), and linked into its
 * prefix's and its source's lists.  The daemon is the only writer of the
 * rule tables; at start the entries are rebuilt from a walk of them.  An
 * entry costs 68 bytes (the key takes up to 40) and 4 to 8 of hash bucket.
 *
 * Entries live in blocks (blocks.h), addressed by index (0 means none),
 * so that growing never moves them; the bucket array doubles when the
 * entries outnumber it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "blocks.h"
#include "state.h"
#include "rules.h"

#define RIX_KEY_MAX	40u

struct rix_ent {
	__u32 hnext;		/* hash chain; on the free list, the next free */
	__u32 pnext, pprev;	/* the prefix's list */
	__u32 snext, sprev;	/* the source's list */
	__u32 cancel_id;
	__u16 source;
	__u8 kind;		/* 0: free */
	__u8 pad;
	__u8 key[RIX_KEY_MAX];
};
_Static_assert(sizeof(struct rix_ent) == 68, "rix_ent size");

struct txcd_ruleindex {
	struct txcd_hashed h;	/* of struct rix_ent, by kind and key */
	__u32 count;		/* entries in use */
	__u32 prefix_head[TXC_NR_PREFIXES];
	__u32 source_head[TXC_MAX_SOURCES];
};

static struct rix_ent *ent(const struct txcd_ruleindex *x, __u32 i)
{
	return txcd_blocks_at(&x->h.ents, i);
}

static __u32 key_size(__u8 kind)
{
	const struct txcd_rule_table *t = txcd_rule_table_of(kind);

	return t && t->key_size <= RIX_KEY_MAX ? t->key_size : 0;
}

/* FNV-1a over the kind and the key. */
static __u32 hash(__u8 kind, const void *key, __u32 len)
{
	const __u8 *p = key;
	__u32 h = 2166136261u ^ kind;

	for (__u32 i = 0; i < len; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

int txcd_ruleindex_open(struct txcd *d)
{
	struct txcd_ruleindex *x = calloc(1, sizeof(*x));

	if (!x)
		return -ENOMEM;
	if (txcd_hashed_init(&x->h, sizeof(struct rix_ent), offsetof(struct rix_ent, hnext))) {
		free(x);
		return -ENOMEM;
	}
	d->rix = x;
	return 0;
}

void txcd_ruleindex_close(struct txcd *d)
{
	struct txcd_ruleindex *x = d->rix;

	if (!x)
		return;
	txcd_hashed_release(&x->h);
	free(x);
	d->rix = NULL;
}

static bool ent_hash(const void *p, __u32 *h)
{
	const struct rix_ent *e = p;

	*h = hash(e->kind, e->key, key_size(e->kind));
	return e->kind;
}

static __u32 find(const struct txcd_ruleindex *x, __u8 kind, const void *key, __u32 **link)
{
	__u32 len = key_size(kind);
	__u32 *l = &x->h.buckets[hash(kind, key, len) & (x->h.n_buckets - 1)];

	for (; *l; l = &ent(x, *l)->hnext) {
		const struct rix_ent *e = ent(x, *l);

		if (e->kind == kind && !memcmp(e->key, key, len))
			break;
	}
	if (link)
		*link = l;
	return *l;
}

int txcd_ruleindex_add(struct txcd *d, __u8 kind, const void *key, const struct txc_tag *tag)
{
	struct txcd_ruleindex *x = d->rix;
	__u32 len = key_size(kind), p = TXC_ID_PREFIX(tag->cancel_id), i, *link;
	struct rix_ent *e;

	if (!len || tag->source >= TXC_MAX_SOURCES)
		return -EINVAL;
	if (find(x, kind, key, &link))
		return -EEXIST;
	i = txcd_blocks_alloc(&x->h.ents);
	if (!i)
		return -ENOMEM;
	e = ent(x, i);
	*e = (struct rix_ent){
		.hnext = *link, .pnext = x->prefix_head[p], .snext = x->source_head[tag->source],
		.cancel_id = tag->cancel_id, .source = tag->source, .kind = kind,
	};
	memcpy(e->key, key, len);
	*link = i;
	if (e->pnext)
		ent(x, e->pnext)->pprev = i;
	x->prefix_head[p] = i;
	if (e->snext)
		ent(x, e->snext)->sprev = i;
	x->source_head[tag->source] = i;
	/* Chains stay short: the buckets at least as many as the entries. */
	if (++x->count > x->h.n_buckets)
		txcd_hashed_grow(&x->h, ent_hash);
	return 0;
}

static void unlink_ent(struct txcd_ruleindex *x, __u32 i, __u32 *link)
{
	struct rix_ent *e = ent(x, i);
	__u32 p = TXC_ID_PREFIX(e->cancel_id);

	*link = e->hnext;
	if (e->pprev)
		ent(x, e->pprev)->pnext = e->pnext;
	else
		x->prefix_head[p] = e->pnext;
	if (e->pnext)
		ent(x, e->pnext)->pprev = e->pprev;
	if (e->sprev)
		ent(x, e->sprev)->snext = e->snext;
	else
		x->source_head[e->source] = e->snext;
	if (e->snext)
		ent(x, e->snext)->sprev = e->sprev;
	e->kind = 0;
	txcd_blocks_free(&x->h.ents, i);
	x->count--;
}

int txcd_ruleindex_del(struct txcd *d, __u8 kind, const void *key)
{
	struct txcd_ruleindex *x = d->rix;
	__u32 *link, i;

	if (!key_size(kind))
		return -EINVAL;
	i = find(x, kind, key, &link);
	if (!i)
		return -ENOENT;
	unlink_ent(x, i, link);
	return 0;
}

/*
 * Up to @max rules of @prefix (or, @prefix 0, of @source) are taken out of
 * the index and handed to @fn, which deletes them from the tables: how many.
 */
__u32 txcd_ruleindex_take(struct txcd *d, __u32 prefix, __u32 source, __u32 max,
			  void (*fn)(struct txcd *d, __u8 kind, const void *key,
				     const struct txc_tag *tag))
{
	struct txcd_ruleindex *x = d->rix;
	__u32 n = 0;

	while (n < max) {
		__u32 i = prefix ? x->prefix_head[prefix] : x->source_head[source], *link;
		struct rix_ent *e;
		struct txc_tag tag;
		__u8 key[RIX_KEY_MAX], kind;

		if (!i)
			break;
		e = ent(x, i);
		kind = e->kind;
		tag = (struct txc_tag){ .cancel_id = e->cancel_id, .source = e->source };
		memcpy(key, e->key, key_size(kind));
		find(x, kind, key, &link);
		unlink_ent(x, i, link);
		fn(d, kind, key, &tag);
		n++;
	}
	return n;
}
