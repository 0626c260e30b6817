/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A reader of one BPF ring buffer map that looks before it consumes.
 * libbpf's ring_buffer consumes a record before its callback sees it, so a
 * reader whose clients are full could only drop it, and a reader that dies
 * holds records nobody will see.  This one copies records out and consumes
 * them only once they have been handed on: until then they stay in the
 * ring, where the datapath counts any overflow as a lost report and where
 * the next reader (a restarted daemon) finds them.
 */
#ifndef TXCD_RINGBUF_H
#define TXCD_RINGBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/bpf.h>
#include <linux/types.h>

struct txcd_ring;

/* Map @map_fd (a BPF_MAP_TYPE_RINGBUF); takes ownership of the fd. */
int txcd_ring_open(struct txcd_ring **ring, int map_fd);
void txcd_ring_close(struct txcd_ring *ring);	/* NULL-safe */
int txcd_ring_fd(const struct txcd_ring *ring);	/* pollable: POLLIN = data */

/*
 * Return true to take the record, false to stop before it (it and
 * everything after it stay where they are).
 */
typedef bool (*txcd_ring_fn)(void *ctx, const void *data, size_t len);

/*
 * Hand up to @max committed records from the consumer position on to @fn
 * without consuming them; returns how many @fn took and sets *@end to the
 * position just past the last one (discarded records included).  Nothing
 * leaves the ring until txcd_ring_consume(): a reader that dies between
 * the two finds the records again.
 */
size_t txcd_ring_peek(struct txcd_ring *ring, size_t max, txcd_ring_fn fn, void *ctx,
		      __u64 *end);
/* Release everything before @pos (a position txcd_ring_peek() returned). */
void txcd_ring_consume(struct txcd_ring *ring, __u64 pos);
/* The consumer position: bytes ever consumed; it lives in the map, not here. */
__u64 txcd_ring_consumer(const struct txcd_ring *ring);
/* Bytes committed or reserved and not consumed yet. */
__u64 txcd_ring_pending(const struct txcd_ring *ring);

/* Ring bytes one record of @len bytes takes: header included, 8-aligned. */
static inline __u64 txcd_ring_slot(size_t len)
{
	return (len + BPF_RINGBUF_HDR_SZ + 7) & ~7ull;
}

#endif
