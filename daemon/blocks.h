/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Entries of one size in blocks of TXCD_BLOCK, addressed by index from 1 (0
 * means none), so that growing never moves them: the indexes of rules
 * (ruleindex.c) and of cancels (cancelindex.c) link their entries by index.
 * A freed entry goes on a free list kept in the entry itself, in the __u32
 * at @link_off (the user's hash-chain link, unused while it is free).
 */
#ifndef TXCD_BLOCKS_H
#define TXCD_BLOCKS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#define TXCD_BLOCK	4096u

struct txcd_blocks {
	void **blocks;
	size_t ent_size;
	size_t link_off;
	__u32 n_blocks;
	__u32 n_used;		/* entries handed out so far (free ones included) */
	__u32 free_head;
};

static inline void *txcd_blocks_at(const struct txcd_blocks *b, __u32 i)
{
	__u32 at = i - 1;

	return (char *)b->blocks[at / TXCD_BLOCK] + (size_t)(at % TXCD_BLOCK) * b->ent_size;
}

void txcd_blocks_init(struct txcd_blocks *b, size_t ent_size, size_t link_off);
/* A new entry's index (its content is the caller's to set), or 0 without memory. */
__u32 txcd_blocks_alloc(struct txcd_blocks *b);
/* The caller has marked entry @i free in its own terms; its link is taken over. */
void txcd_blocks_free(struct txcd_blocks *b, __u32 i);
void txcd_blocks_release(struct txcd_blocks *b);

/*
 * Entries in blocks, chained by their link into a power-of-two array of
 * bucket heads (1024 to start) that the index doubles when its entries
 * outnumber it: both indexes are one of these.
 */
struct txcd_hashed {
	struct txcd_blocks ents;
	__u32 *buckets;
	__u32 n_buckets;
};

int txcd_hashed_init(struct txcd_hashed *h, size_t ent_size, size_t link_off);
/*
 * Twice the buckets, every entry in use chained again: @hash says whether
 * an entry is in use and its hash.  Without memory it does nothing: longer
 * chains, still right.
 */
void txcd_hashed_grow(struct txcd_hashed *h, bool (*hash)(const void *ent, __u32 *hash));
void txcd_hashed_release(struct txcd_hashed *h);

#endif
