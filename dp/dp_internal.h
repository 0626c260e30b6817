/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* What the library's files share and nobody else needs. */
#ifndef TXDP_INTERNAL_H
#define TXDP_INTERNAL_H

#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <sys/types.h>
#include <linux/types.h>
#include "txcancel/abi.h"
#include "dp.h"

struct txcancel;
struct txdp_qdisc;

struct txdp {
	struct txcancel *skel;
	/* Loaded on the first explain: only txc_tc_explain, on skel's maps. */
	struct txcancel *explain;
	/* txcancel's qdisc (qdisc.c), once txdp_qdisc_open() loaded it. */
	struct txdp_qdisc *qdisc;
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
	/*
	 * The cause of the last failure, in the words a user acts on
	 * (txdp_strerror()).  Ring calls may fail in a thread of their
	 * own: the lock keeps the text whole.
	 */
	pthread_mutex_t err_lock;
	int err_num;
	char err_text[TXDP_ERR_LEN];
	char err_read[TXDP_ERR_LEN];
};

/* The datapath object's map behind @map, or NULL. */
struct bpf_map *txdp_map(const struct txdp *dp, enum txdp_map_id map);
int txdp_mkdir_p(const char *path, mode_t mode);
/*
 * Around a libbpf call whose failure the caller expects and handles (a
 * clsact qdisc that is already there): libbpf's warnings, such as the
 * kernel's "Exclusivity flag on, cannot modify", go to the debug log.
 */
void txdp_libbpf_quiet(bool quiet);
void txdp_vlog(enum txdp_log_level level, const char *fmt, va_list ap);
/* libbpf's messages through the log sink (log.c). */
void txdp_libbpf_log(void);

/*
 * A failure of a call on @dp, decided here: logs the message as an error
 * and keeps it as @dp's last error (txdp_strerror()).  No newline at the
 * end of @fmt.  @dp may be NULL (a failure before the handle exists: only
 * logged).  Returns @err.
 */
int txdp_fail(struct txdp *dp, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Forget the last error: at the start of a call whose failure is forwarded. */
void txdp_error_clear(struct txdp *dp);

/*
 * check.c: validity of what callers hand in, in the common wording
 * (common/values.h); a refusal is @dp's last error, -EINVAL.
 */
int txdp_check_id(struct txdp *dp, __u32 id);
int txdp_check_ids(struct txdp *dp, const __u32 *ids, __u32 n);
int txdp_check_source(struct txdp *dp, __u32 source);
int txdp_check_prefix(struct txdp *dp, __u32 prefix);
/* @scope (TXC_SCOPE_*) itself, then @value as that scope's ID, prefix or source. */
int txdp_check_scope_value(struct txdp *dp, int scope, __u32 value);

/* config.c: lookup bits set and cleared atomically in the mapped config. */
int txdp_lookups_add(struct txdp *dp, __u32 bits);
int txdp_lookups_del(struct txdp *dp, __u32 bits);
/* open.c: the cgroup filter says "maybe" for @cgroup from now on. */
void txdp_cgroup_filter_set(struct txdp *dp, __u64 cgroup);
/* rings.c: remove every ring (only the marked slots are touched). */
int txdp_rings_remove_all(struct txdp *dp);

/*
 * ifaces.c: @ifindex's record, with a free slot if txcancel had none for
 * it; storing it back, or forgetting the interface (its slot out of every
 * cancel, its counters deleted) when no hook is left on it.
 */
int txdp_iface_get_or_new(struct txdp *dp, __u32 ifindex, struct txc_iface *iface);
int txdp_iface_update(struct txdp *dp, __u32 ifindex, struct txc_iface *iface);
void txdp_iface_stats_delete(struct txdp *dp, __u32 ifindex);

/* maps.c */
int txdp_map_is_empty(int fd);
/*
 * Every element of the array @fd to zeroes, in one BPF_MAP_UPDATE_BATCH;
 * @value_size as the batch takes it (per-CPU: one value per possible CPU).
 */
int txdp_map_zero_all(int fd, __u32 max_entries, size_t value_size);
int txdp_map_delete_all(int fd, size_t key_size, size_t val_size);
/*
 * The element @key of the per-CPU map @fd, summed over CPUs into @sum: a
 * struct of @n_fields __u64 counters, which is also each CPU's value.
 */
int txdp_map_percpu_sum(int fd, const void *key, __u64 *sum, size_t n_fields);

/*
 * xdp_multi.c: txcancel's XDP program in libxdp's dispatcher on @ifindex.
 * -EOPNOTSUPP (or another error) and *why (TXC_XDP_LINK_*) when it cannot
 * be, and nothing is left attached; the caller then attaches with a link.
 */
int txdp_xdp_multi_attach(struct txdp *dp, __u32 ifindex, __u32 xdp_flags, __u8 *why);
/* Take it out of the dispatcher; -ENOENT if it is not in there. */
int txdp_xdp_multi_detach(__u32 ifindex);

#endif
