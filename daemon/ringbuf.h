/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A reader of one BPF ring buffer map that can stop *before* a record.
 * libbpf's ring_buffer consumes a record before its callback sees it, so a
 * reader whose clients are full could only drop it; this one leaves it in
 * the ring, where the datapath counts any overflow as a lost report.  That
 * keeps aborted = delivered + lost exact without the daemon dropping
 * anything itself.
 */
#ifndef TXCD_RINGBUF_H
#define TXCD_RINGBUF_H

#include <stdbool.h>
#include <stddef.h>

struct txcd_ring;

/* Map @map_fd (a BPF_MAP_TYPE_RINGBUF); takes ownership of the fd. */
int txcd_ring_open(struct txcd_ring **ring, int map_fd);
void txcd_ring_close(struct txcd_ring *ring);	/* NULL-safe */
int txcd_ring_fd(const struct txcd_ring *ring);	/* pollable: POLLIN = data */

/*
 * Return true to consume the record, false to leave it (and everything
 * after it) in the ring.
 */
typedef bool (*txcd_ring_fn)(void *ctx, const void *data, size_t len);

/* Hand up to @max records to @fn; returns how many it consumed. */
size_t txcd_ring_read(struct txcd_ring *ring, size_t max, txcd_ring_fn fn, void *ctx);

#endif
