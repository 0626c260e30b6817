// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Which IDs of each prefix may have a cancel in txc_id_cancels, so that a
 * release clears its own without walking the table.
 *
 * An ID goes in before its cancel is stored and out once it is cleared; a
 * batch of clears that failed keeps its IDs in (which it cleared is not
 * known), and an entry whose cancel is not there (or went otherwise) is
 * harmless: its delete finds nothing.  At start the entries are rebuilt from the table.  16
 * bytes an ID, and 4 of hash bucket.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "blocks.h"
#include "state.h"

struct cix_ent {
	__u32 id;		/* 0: free */
	__u32 hnext;		/* hash chain; on the free list, the next free */
	__u32 pnext, pprev;	/* the prefix's list */
};

struct txcd_cancelindex {
	struct txcd_hashed h;	/* of struct cix_ent, by ID */
	__u32 count;
	__u32 prefix_head[TXC_NR_PREFIXES];
};

static struct cix_ent *ent(const struct txcd_cancelindex *x, __u32 i)
{
	return txcd_blocks_at(&x->h.ents, i);
}

static __u32 hash(__u32 id)
{
	return id * 2654435761u;
}

static bool ent_hash(const void *e, __u32 *h)
{
	const struct cix_ent *c = e;

	*h = hash(c->id);
	return c->id;
}

static int index_chunk(void *ctx, const void *keys, const void *vals, __u32 n)
{
	const __u32 *ids = keys;

	(void)vals;
	for (__u32 i = 0; i < n; i++)
		txcd_cancelindex_add(ctx, ids[i]);
	return 0;
}

int txcd_cancelindex_open(struct txcd *d)
{
	struct txcd_cancelindex *x = calloc(1, sizeof(*x));
	int fd = txdp_map_fd(d->dp, TXDP_MAP_ID_CANCELS), err;

	if (!x)
		return -ENOMEM;
	d->cix = x;
	if (txcd_hashed_init(&x->h, sizeof(struct cix_ent), offsetof(struct cix_ent, hnext)))
		return -ENOMEM;
	/* What an earlier instance left: read in batches, at start only. */
	err = txdp_map_walk(fd, sizeof(__u32), sizeof(struct txc_cancel), index_chunk, d);
	if (err) {
		/* Without it every release walks the table for its cancels. */
		txdp_log(TXDP_LOG_WARN, "indexing the cancels left by an earlier instance: %s\n",
			strerror(-err));
		for (__u32 p = 0; p < TXC_NR_PREFIXES; p++)
			d->prefixes[p].ids_unindexed = true;
	}
	return 0;
}

void txcd_cancelindex_close(struct txcd *d)
{
	struct txcd_cancelindex *x = d->cix;

	if (!x)
		return;
	txcd_hashed_release(&x->h);
	free(x);
	d->cix = NULL;
}

static __u32 *find(const struct txcd_cancelindex *x, __u32 id)
{
	__u32 *l = &x->h.buckets[hash(id) & (x->h.n_buckets - 1)];

	while (*l && ent(x, *l)->id != id)
		l = &ent(x, *l)->hnext;
	return l;
}

void txcd_cancelindex_add(struct txcd *d, __u32 id)
{
	struct txcd_cancelindex *x = d->cix;
	__u32 p = TXC_ID_PREFIX(id), *link, i;
	struct cix_ent *e;

	if (!x || !TXC_ID_VALID(id) || *(link = find(x, id)))
		return;
	i = txcd_blocks_alloc(&x->h.ents);
	if (!i) {
		/* Without it the release walks the table (ids_canceled stays set). */
		txdp_log(TXDP_LOG_WARN, "indexing the cancel of 0x%08x: out of memory\n", id);
		d->prefixes[p].ids_unindexed = true;
		return;
	}
	e = ent(x, i);
	*e = (struct cix_ent){ .id = id, .pnext = x->prefix_head[p] };
	*link = i;
	if (e->pnext)
		ent(x, e->pnext)->pprev = i;
	x->prefix_head[p] = i;
	if (++x->count > x->h.n_buckets)
		txcd_hashed_grow(&x->h, ent_hash);
}

static void unlink_ent(struct txcd_cancelindex *x, __u32 i, __u32 *link)
{
	struct cix_ent *e = ent(x, i);

	*link = e->hnext;
	if (e->pprev)
		ent(x, e->pprev)->pnext = e->pnext;
	else
		x->prefix_head[TXC_ID_PREFIX(e->id)] = e->pnext;
	if (e->pnext)
		ent(x, e->pnext)->pprev = e->pprev;
	e->id = 0;
	txcd_blocks_free(&x->h.ents, i);
	x->count--;
}

void txcd_cancelindex_del(struct txcd *d, __u32 id)
{
	struct txcd_cancelindex *x = d->cix;
	__u32 *link;

	if (x && TXC_ID_VALID(id) && *(link = find(x, id)))
		unlink_ent(x, *link, link);
}

__u32 txcd_cancelindex_take(struct txcd *d, __u32 prefix, __u32 *ids, __u32 max)
{
	struct txcd_cancelindex *x = d->cix;
	__u32 n = 0;

	while (n < max && x->prefix_head[prefix]) {
		__u32 id = ent(x, x->prefix_head[prefix])->id, *link = find(x, id);

		unlink_ent(x, *link, link);
		ids[n++] = id;
	}
	return n;
}
