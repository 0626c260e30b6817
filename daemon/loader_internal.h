/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* What loader.c and attach.c share and nobody else needs. */
#ifndef TXC_LOADER_INTERNAL_H
#define TXC_LOADER_INTERNAL_H

#include <limits.h>
#include <sys/types.h>

struct txcancel;

struct txc_dp {
	struct txcancel *skel;
	/* Loaded on the first explain: only txc_tc_explain, on skel's maps. */
	struct txcancel *explain;
	char pin_dir[PATH_MAX - 64];	/* leaves room for "/links/xdp-<ifindex>" */
	__u32 ring_bytes;
	/* txc_config, txc_lease_gens, txc_cgroup_filter, mapped into memory. */
	struct txc_config *cfg;
	__u64 *gens, *cgroup_filter;
	size_t cfg_len, gens_len, cgroup_filter_len;
};

int txc_mkdir_p(const char *path, mode_t mode);

#endif
