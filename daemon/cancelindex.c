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
#include <bpf/bpf.h>
#include "txcanceld.h"

#define CIX_BLOCK	4096u

struct cix_ent {
	__u32 id;		/* 0: free */
	__u32 hnext;		/* hash chain; on the free list, the next free */
	__u32 pnext, pprev;	/* the prefix's list */
};

struct txcd_cancelindex {
	struct cix_ent **blocks;
	__u32 n_blocks, n_used, free_head, count;
	__u32 *buckets;
	__u32 n_buckets;	/* a power of 2 */
	__u32 prefix_head[TXC_NR_PREFIXES];
};

static struct cix_ent *ent(const struct txcd_cancelindex *x, __u32 i)
{
	return &x->blocks[(i - 1) / CIX_BLOCK][(i - 1) % CIX_BLOCK];
}

static __u32 bucket_of(const struct txcd_cancelindex *x, __u32 id)
{
	return (id * 2654435761u) & (x->n_buckets - 1);
}

int txcd_cancelindex_open(struct txcd *d)
{
	struct txcd_cancelindex *x = calloc(1, sizeof(*x));
	int fd = txc_dp_map_fd(d->dp, TXC_MAP_ID_CANCELS);
	__u32 id, *prev = NULL;

	if (!x)
		return -ENOMEM;
	x->n_buckets = 1024;
	x->buckets = calloc(x->n_buckets, sizeof(*x->buckets));
	d->cix = x;
	if (!x->buckets)
		return -ENOMEM;
	/* What an earlier instance left: one system call per cancel, at start only. */
	while (!bpf_map_get_next_key(fd, prev, &id)) {
		txcd_cancelindex_add(d, id);
		prev = &id;
	}
	return 0;
}

void txcd_cancelindex_close(struct txcd *d)
{
	struct txcd_cancelindex *x = d->cix;

	if (!x)
		return;
	for (__u32 b = 0; b < x->n_blocks; b++)
		free(x->blocks[b]);
	free(x->blocks);
	free(x->buckets);
	free(x);
	d->cix = NULL;
}

static void grow_buckets(struct txcd_cancelindex *x)
{
	__u32 n = x->n_buckets * 2, *b = calloc(n, sizeof(*b)), *old = x->buckets;

	if (!b)
		return;		/* longer chains, still right */
	x->buckets = b;
	x->n_buckets = n;
	for (__u32 i = 1; i <= x->n_used; i++) {
		struct cix_ent *e = ent(x, i);

		if (!e->id)
			continue;
		e->hnext = b[bucket_of(x, e->id)];
		b[bucket_of(x, e->id)] = i;
	}
	free(old);
}

static __u32 *find(const struct txcd_cancelindex *x, __u32 id)
{
	__u32 *l = &x->buckets[bucket_of(x, id)];

	while (*l && ent(x, *l)->id != id)
		l = &ent(x, *l)->hnext;
	return l;
}

static __u32 ent_alloc(struct txcd_cancelindex *x)
{
	__u32 i = x->free_head;

	if (i) {
		x->free_head = ent(x, i)->hnext;
		return i;
	}
	if (x->n_used == x->n_blocks * CIX_BLOCK) {
		struct cix_ent **blocks = realloc(x->blocks, (x->n_blocks + 1) * sizeof(*blocks));

		if (!blocks)
			return 0;
		x->blocks = blocks;
		blocks[x->n_blocks] = malloc(CIX_BLOCK * sizeof(struct cix_ent));
		if (!blocks[x->n_blocks])
			return 0;
		x->n_blocks++;
	}
	return ++x->n_used;
}

void txcd_cancelindex_add(struct txcd *d, __u32 id)
{
	struct txcd_cancelindex *x = d->cix;
	__u32 p = TXC_ID_PREFIX(id), *link, i;
	struct cix_ent *e;

	if (!x || !TXC_ID_VALID(id) || *(link = find(x, id)))
		return;
	i = ent_alloc(x);
	if (!i) {
		/* Without it the release walks the table (ids_canceled stays set). */
		txc_log(TXC_LOG_WARN, "indexing the cancel of 0x%08x: out of memory\n", id);
		d->prefixes[p].ids_unindexed = true;
		return;
	}
	e = ent(x, i);
	*e = (struct cix_ent){ .id = id, .pnext = x->prefix_head[p] };
	*link = i;
	if (e->pnext)
		ent(x, e->pnext)->pprev = i;
	x->prefix_head[p] = i;
	if (++x->count > x->n_buckets)
		grow_buckets(x);
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
	e->hnext = x->free_head;
	x->free_head = i;
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
