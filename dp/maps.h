/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Map utilities for any BPF map fd: the one batched walk every walk of a
 * map's elements uses, and batched deletes.
 */
#ifndef TXDP_MAPS_H
#define TXDP_MAPS_H

#include <stddef.h>
#include <linux/types.h>

/*
 * Delete @n keys of @key_size bytes from the map @fd in BPF_MAP_DELETE_BATCH
 * calls; keys that are not there are skipped.  *@deleted: how many were.
 */
int txdp_map_delete_keys(int fd, const void *keys, size_t key_size, __u32 n, __u32 *deleted);
/*
 * Hand every element of the map @fd to @fn, a BPF_MAP_LOOKUP_BATCH chunk at
 * a time (a million elements are a few hundred system calls).  @fn must not
 * change the map: changing elements under a hash walk makes it skip or
 * revisit them; collect, and change after the walk.  A non-zero return of
 * @fn ends the walk with it.
 */
typedef int (*txdp_map_chunk_fn)(void *ctx, const void *keys, const void *vals, __u32 n);
int txdp_map_walk(int fd, size_t key_size, size_t val_size, txdp_map_chunk_fn fn, void *ctx);

#endif
