// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Entries of one size, in blocks that never move (blocks.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "blocks.h"

void txcd_blocks_init(struct txcd_blocks *b, size_t ent_size, size_t link_off)
{
	memset(b, 0, sizeof(*b));
	b->ent_size = ent_size;
	b->link_off = link_off;
}

static __u32 *link_of(const struct txcd_blocks *b, __u32 i)
{
	return (__u32 *)((char *)txcd_blocks_at(b, i) + b->link_off);
}

__u32 txcd_blocks_alloc(struct txcd_blocks *b)
{
	__u32 i = b->free_head;

	if (i) {
		b->free_head = *link_of(b, i);
		return i;
	}
	if (b->n_used == b->n_blocks * TXCD_BLOCK) {
		void **blocks = realloc(b->blocks, (b->n_blocks + 1) * sizeof(*blocks));

		if (!blocks)
			return 0;
		b->blocks = blocks;
		blocks[b->n_blocks] = malloc(TXCD_BLOCK * b->ent_size);
		if (!blocks[b->n_blocks])
			return 0;
		b->n_blocks++;
	}
	return ++b->n_used;
}

void txcd_blocks_free(struct txcd_blocks *b, __u32 i)
{
	*link_of(b, i) = b->free_head;
	b->free_head = i;
}

void txcd_blocks_release(struct txcd_blocks *b)
{
	for (__u32 i = 0; i < b->n_blocks; i++)
		free(b->blocks[i]);
	free(b->blocks);
	memset(b, 0, sizeof(*b));
}

int txcd_hashed_init(struct txcd_hashed *h, size_t ent_size, size_t link_off)
{
	txcd_blocks_init(&h->ents, ent_size, link_off);
	h->n_buckets = 1024;
	h->buckets = calloc(h->n_buckets, sizeof(*h->buckets));
	return h->buckets ? 0 : -ENOMEM;
}

void txcd_hashed_grow(struct txcd_hashed *h, bool (*hash)(const void *ent, __u32 *hash))
{
	__u32 n = h->n_buckets * 2, *b = calloc(n, sizeof(*b));

	if (!b)
		return;
	for (__u32 i = 1; i <= h->ents.n_used; i++) {
		__u32 at;

		if (!hash(txcd_blocks_at(&h->ents, i), &at))
			continue;
		at &= n - 1;
		*link_of(&h->ents, i) = b[at];
		b[at] = i;
	}
	free(h->buckets);
	h->buckets = b;
	h->n_buckets = n;
}

void txcd_hashed_release(struct txcd_hashed *h)
{
	txcd_blocks_release(&h->ents);
	free(h->buckets);
	h->buckets = NULL;
	h->n_buckets = 0;
}
