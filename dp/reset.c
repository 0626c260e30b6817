// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Back to a freshly loaded state. */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "dp.h"
#include "dp_internal.h"

int txdp_reset(struct txdp *dp)
{
	int ncpus = libbpf_num_possible_cpus();
	static const enum txdp_map_id hashes[] = {
		TXDP_MAP_MARK_RULES, TXDP_MAP_CGROUP_RULES, TXDP_MAP_FLOW_RULES,
		TXDP_MAP_ID_CANCELS, TXDP_MAP_ID_STATS,
	};
	static const enum txdp_map_id arrays[] = {
		TXDP_MAP_PREFIX_CANCELS, TXDP_MAP_SOURCE_CANCELS, TXDP_MAP_SOURCE_SEQ,
		TXDP_MAP_SOURCE_CAPLEN,
	};
	struct txc_config none = {};
	struct bpf_map *m;
	size_t i, val_size;
	int err = txdp_config_set(dp, &none);

	if (ncpus < 0)
		return ncpus;
	for (i = 0; i < sizeof(hashes) / sizeof(hashes[0]) && !err; i++) {
		m = txdp_map(dp, hashes[i]);
		/* A per-CPU element is read as one value (8-byte aligned) per CPU. */
		val_size = bpf_map__type(m) == BPF_MAP_TYPE_PERCPU_HASH ?
			   (size_t)ncpus * ((bpf_map__value_size(m) + 7) & ~7u) :
			   bpf_map__value_size(m);
		err = txdp_map_delete_all(bpf_map__fd(m), bpf_map__key_size(m), val_size);
	}
	for (i = 0; i < sizeof(arrays) / sizeof(arrays[0]) && !err; i++) {
		m = txdp_map(dp, arrays[i]);
		err = txdp_map_zero_all(bpf_map__fd(m), bpf_map__max_entries(m),
				       bpf_map__value_size(m));
	}
	if (!err) {
		m = txdp_map(dp, TXDP_MAP_SOURCE_STATS);
		err = txdp_map_zero_all(bpf_map__fd(m), bpf_map__max_entries(m),
				       (size_t)ncpus * bpf_map__value_size(m));
	}
	if (!err)
		err = txdp_rings_remove_all(dp);
	/* No cgroup rule is left: no cgroup may have one. */
	for (i = 0; i < TXC_CGROUP_FILTER_WORDS && !err; i++)
		__atomic_store_n(&dp->cgroup_filter[i], 0, __ATOMIC_SEQ_CST);
	/* Socket tags are in sockets this process cannot visit: retire them all. */
	for (i = 0; i < TXC_GEN_SLOTS && !err; i++)
		__atomic_fetch_add(&dp->gens[i], 1, __ATOMIC_SEQ_CST);
	return err;
}
