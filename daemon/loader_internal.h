/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* What loader.c and attach.c share and nobody else needs. */
#ifndef TXC_LOADER_INTERNAL_H
#define TXC_LOADER_INTERNAL_H

#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <sys/types.h>
#include <linux/types.h>
#include "txcancel/abi.h"
#include "loader.h"

struct txcancel;
struct txc_qdisc;

struct txc_dp {
	struct txcancel *skel;
	/* Loaded on the first explain: only txc_tc_explain, on skel's maps. */
	struct txcancel *explain;
	/* txcancel's qdisc (qdisc.c), once txc_qdisc_open() loaded it. */
	struct txc_qdisc *qdisc;
	char pin_dir[PATH_MAX - 64];	/* leaves room for "/links/xdp-<ifindex>" */
	__u32 ring_bytes;
	/*
	 * Which txc_rings slots may hold a ring, pinned beside the maps
	 * (maps/txc_ring_slots, one element of this bitmap): on older
	 * kernels every system call on an array of maps, a lookup or a
	 * delete of an empty slot included, waits for an RCU grace period,
	 * so only slots marked here are ever touched.  A bit is set before
	 * a ring goes in and cleared after it is out.  The ring calls may
	 * come from a thread of their own: the lock keeps the bitmap whole.
	 */
	int ring_slots_fd;
	pthread_mutex_t ring_slots_lock;
	__u64 ring_slots[TXC_MAX_SOURCES / 64];
	/* txc_config, txc_lease_gens, txc_cgroup_filter, mapped into memory. */
	struct txc_config *cfg;
	__u64 *gens, *cgroup_filter;
	size_t cfg_len, gens_len, cgroup_filter_len;
};

/* The datapath object's map behind @map, or NULL. */
struct bpf_map *txc_dp_map(const struct txc_dp *dp, enum txc_map map);
int txc_mkdir_p(const char *path, mode_t mode);
/*
 * Around a libbpf call whose failure the caller expects and handles (a
 * clsact qdisc that is already there): libbpf's warnings, such as the
 * kernel's "Exclusivity flag on, cannot modify", go to the debug log.
 */
void txc_libbpf_quiet(bool quiet);
void txc_vlog(enum txc_log_level level, const char *fmt, va_list ap);

/*
 * xdp_multi.c: txcancel's XDP program in libxdp's dispatcher on @ifindex.
 * -EOPNOTSUPP (or another error) and *why (TXC_XDP_LINK_*) when it cannot
 * be, and nothing is left attached; the caller then attaches with a link.
 */
int txc_xdp_multi_attach(struct txc_dp *dp, __u32 ifindex, __u32 xdp_flags, __u8 *why);
/* Take it out of the dispatcher; -ENOENT if it is not in there. */
int txc_xdp_multi_detach(__u32 ifindex);

#endif
