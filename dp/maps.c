// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Map utilities: batched walks and deletes, emptiness, zeroing. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "dp_internal.h"

#define WALK_CHUNK	4096	/* elements per BPF_MAP_LOOKUP_BATCH */

int txdp_map_walk(int fd, size_t key_size, size_t val_size, txdp_map_chunk_fn fn, void *ctx)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	void *keys = malloc(WALK_CHUNK * key_size), *vals = malloc(WALK_CHUNK * val_size);
	__u32 batch, count;
	void *in = NULL;
	int err = keys && vals ? 0 : -ENOMEM;
	bool last = false;

	while (!err && !last) {
		count = WALK_CHUNK;
		/* The end of the map is ENOENT, with the last chunk's elements. */
		last = bpf_map_lookup_batch(fd, in, &batch, keys, vals, &count, &opts) < 0;
		if (last && errno != ENOENT)
			err = -errno;
		else if (count)
			err = fn(ctx, keys, vals, count);
		in = &batch;
	}
	free(keys);
	free(vals);
	return err;
}

int txdp_map_delete_keys(int fd, const void *keys, size_t key_size, __u32 n, __u32 *deleted)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u32 i, count;

	*deleted = 0;
	for (i = 0; i < n; i += count) {
		count = n - i;
		if (!bpf_map_delete_batch(fd, (const __u8 *)keys + (size_t)i * key_size, &count,
					  &opts)) {
			*deleted += n - i;
			break;
		}
		/* The kernel stops at a missing key: count what it deleted, skip that one. */
		if (errno != ENOENT || count >= n - i) {
			int err = -errno;

			*deleted += count < n - i ? count : 0;
			return err;
		}
		*deleted += count;
		count++;
	}
	return 0;
}

/*
 * One call for the first key is all emptiness needs: the one per-key call
 * outside txdp_map_walk(), which would fetch a whole chunk.
 */
int txdp_map_is_empty(int fd)
{
	__u32 key[16];	/* room for any key of txcancel's maps */

	/* Any error but ENOENT counts as "not empty": the bit then stays set. */
	return bpf_map_get_next_key(fd, NULL, key) && errno == ENOENT;
}

int txdp_map_zero_all(int fd, __u32 max_entries, size_t value_size)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u32 *keys = malloc(max_entries * sizeof(*keys)), n = max_entries;
	void *zero = calloc(max_entries, value_size);
	int err = keys && zero ? 0 : -ENOMEM;

	for (__u32 i = 0; i < max_entries && !err; i++)
		keys[i] = i;
	if (!err && bpf_map_update_batch(fd, keys, zero, &n, &opts))
		err = -errno;
	free(keys);
	free(zero);
	return err;
}

struct key_list {
	__u8 *keys;
	size_t key_size;
	__u32 n, cap;
};

static int key_list_add(void *ctx, const void *keys, const void *vals, __u32 n)
{
	struct key_list *kl = ctx;

	(void)vals;
	if (kl->n + n > kl->cap) {
		__u32 cap = (kl->n + n) * 2;
		__u8 *p = realloc(kl->keys, (size_t)cap * kl->key_size);

		if (!p)
			return -ENOMEM;
		kl->keys = p;
		kl->cap = cap;
	}
	memcpy(kl->keys + (size_t)kl->n * kl->key_size, keys, (size_t)n * kl->key_size);
	kl->n += n;
	return 0;
}

/* Walk first, then delete: a hash walk under deletes skips or revisits keys. */
int txdp_map_delete_all(int fd, size_t key_size, size_t val_size)
{
	struct key_list kl = { .key_size = key_size };
	__u32 deleted;
	int err;

	err = txdp_map_walk(fd, key_size, val_size, key_list_add, &kl);
	if (!err && kl.n)
		err = txdp_map_delete_keys(fd, kl.keys, key_size, kl.n, &deleted);
	free(kl.keys);
	return err;
}

int txdp_map_percpu_sum(int fd, const void *key, __u64 *sum, size_t n_fields)
{
	int ncpus = libbpf_num_possible_cpus();
	__u64 *percpu;
	int err = 0;

	memset(sum, 0, n_fields * sizeof(*sum));
	if (ncpus < 0)
		return ncpus;
	/* A per-CPU element is read as one value per possible CPU. */
	percpu = calloc((size_t)ncpus * n_fields, sizeof(*percpu));
	if (!percpu)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, key, percpu))
		err = -errno;
	for (int cpu = 0; cpu < ncpus && !err; cpu++)
		for (size_t f = 0; f < n_fields; f++)
			sum[f] += percpu[(size_t)cpu * n_fields + f];
	free(percpu);
	return err;
}
