// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Per-source, per-interface and per-ID counters. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "dp.h"
#include "dp_internal.h"
#include "values.h"

/* The counters structs are __u64 fields only: summed field by field. */
#define N_FIELDS(s)	(sizeof(s) / sizeof(__u64))

int txdp_source_stats(struct txdp *dp, __u32 source, struct txc_source_stats *sum)
{
	return txdp_map_percpu_sum(txdp_map_fd(dp, TXDP_MAP_SOURCE_STATS), &source,
				  (__u64 *)sum, N_FIELDS(*sum));
}

int txdp_iface_counters(struct txdp *dp, __u32 ifindex, struct txc_iface_stats *sum)
{
	return txdp_map_percpu_sum(txdp_map_fd(dp, TXDP_MAP_IFACE_STATS), &ifindex,
				  (__u64 *)sum, N_FIELDS(*sum));
}

int txdp_source_seq(struct txdp *dp, __u32 source, __u64 *seq)
{
	if (bpf_map_lookup_elem(txdp_map_fd(dp, TXDP_MAP_SOURCE_SEQ), &source, seq))
		return -errno;
	return 0;
}

int txdp_set_source_caplen(struct txdp *dp, __u32 source, __u32 caplen)
{
	char why[TXCC_PROBLEM_MAX];
	int err = txdp_check_source(dp, source);

	if (err)
		return err;
	if (txcc_capture_len_problem(caplen, why))
		return txdp_fail(dp, -EINVAL, "%s", why);
	if (bpf_map_update_elem(txdp_map_fd(dp, TXDP_MAP_SOURCE_CAPLEN), &source, &caplen,
				BPF_ANY))
		return -errno;
	return 0;
}

int txdp_clear_source_caplens(struct txdp *dp)
{
	int err = txdp_map_zero_all(txdp_map_fd(dp, TXDP_MAP_SOURCE_CAPLEN), TXC_MAX_SOURCES,
				    sizeof(__u32));

	return err ? txdp_fail(dp, err, "clearing the capture lengths: %s", strerror(-err)) : 0;
}

/* How long txdp_id_count_start() waits out ENOMEM, in 1 ms steps. */
#define ID_STATS_ENOMEM_TRIES	50

int txdp_id_count_try(struct txdp *dp, __u32 cancel_id)
{
	struct bpf_map *m = txdp_map(dp, TXDP_MAP_ID_STATS);
	int ncpus = libbpf_num_possible_cpus();
	struct txc_id_stats *zero;
	int err;

	txdp_error_clear(dp);
	err = txdp_check_id(dp, cancel_id);
	if (err)
		return err;
	if (ncpus < 0)
		return ncpus;
	/* A per-CPU element is written as one value per possible CPU. */
	zero = calloc(ncpus, sizeof(*zero));
	if (!zero)
		return -ENOMEM;
	/*
	 * BPF_NOEXIST: starting twice keeps the counts the ID has.  The table
	 * is not preallocated, and the kernel takes the per-CPU part of a new
	 * element from its per-CPU allocator without sleeping: in a burst of
	 * starts (or beside other users of per-CPU memory) it can run out of
	 * ready pages until its worker adds some, and the update fails with
	 * ENOMEM meanwhile: -EAGAIN, for the caller to try again shortly.
	 */
	if (bpf_map_update_elem(bpf_map__fd(m), &cancel_id, zero, BPF_NOEXIST) && errno != EEXIST)
		err = errno == ENOMEM ? -EAGAIN : -errno;
	free(zero);
	if (err == -E2BIG)
		return txdp_fail(dp, -ENOSPC, "counting ID 0x%08x: the per-ID counter table is "
				   "full (%u IDs are counted); stop counting another ID first",
				   cancel_id, bpf_map__max_entries(m));
	if (err == -EAGAIN)
		return err;
	if (err)
		return txdp_fail(dp, err, "counting ID 0x%08x: %s", cancel_id, strerror(-err));
	/* The element is in place before the programs look it up. */
	return txdp_lookups_add(dp, TXC_LOOKUP_ID_STATS);
}

int txdp_id_count_start(struct txdp *dp, __u32 cancel_id)
{
	int err;

	for (int tries = 0;; tries++) {
		err = txdp_id_count_try(dp, cancel_id);
		if (err != -EAGAIN || tries == ID_STATS_ENOMEM_TRIES)
			break;
		usleep(1000);
	}
	if (err == -EAGAIN)
		return txdp_fail(dp, -ENOMEM, "counting ID 0x%08x: %s", cancel_id,
				   strerror(ENOMEM));
	return err;
}

int txdp_id_count_stop(struct txdp *dp, __u32 cancel_id)
{
	int fd = txdp_map_fd(dp, TXDP_MAP_ID_STATS);
	int err;

	err = txdp_check_id(dp, cancel_id);
	if (err)
		return err;
	if (bpf_map_delete_elem(fd, &cancel_id))
		return -errno;
	/*
	 * abi.h: a lookup bit is cleared only once its table is empty.  Another
	 * process may count an ID between the check and the clear (it adds its
	 * element, then finds the bit still set and leaves it); looking again
	 * after the clear puts the bit back for it.
	 */
	if (!txdp_map_is_empty(fd))
		return 0;
	err = txdp_lookups_del(dp, TXC_LOOKUP_ID_STATS);
	if (!err && !txdp_map_is_empty(fd))
		err = txdp_lookups_add(dp, TXC_LOOKUP_ID_STATS);
	return err;
}

int txdp_id_counters(struct txdp *dp, __u32 cancel_id, struct txc_id_stats *sum)
{
	int err;

	memset(sum, 0, sizeof(*sum));
	err = txdp_check_id(dp, cancel_id);
	if (err)
		return err;
	return txdp_map_percpu_sum(txdp_map_fd(dp, TXDP_MAP_ID_STATS), &cancel_id,
				  (__u64 *)sum, N_FIELDS(*sum));
}
