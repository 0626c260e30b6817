// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Cancels and clears, one at a time or many IDs at once. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "dp.h"
#include "dp_internal.h"
#include "qdisc.h"

/* A cancel's or a clear's start: no error text yet, @value checked, its table in @map. */
static int cancel_target(struct txdp *dp, int scope, __u32 value, enum txdp_map_id *map)
{
	int err;

	txdp_error_clear(dp);
	err = txdp_check_scope_value(dp, scope, value);

	/* Past the check, @scope is one of the three. */
	if (!err)
		*map = scope == TXC_SCOPE_ID ? TXDP_MAP_ID_CANCELS :
		       scope == TXC_SCOPE_PREFIX ? TXDP_MAP_PREFIX_CANCELS : TXDP_MAP_SOURCE_CANCELS;
	return err;
}

int txdp_cancel(struct txdp *dp, int scope, __u32 value, __u32 ifindex, __u64 expires_ns)
{
	struct txc_cancel c = { .flags = TXC_CANCEL_F_ACTIVE };
	struct txc_iface iface;
	struct timespec now;
	enum txdp_map_id map;
	int err;

	err = cancel_target(dp, scope, value, &map);
	if (err)
		return err;
	if (!ifindex) {
		c.flags |= TXC_CANCEL_F_ALL_IFACES;
	} else {
		err = txdp_iface_get(dp, ifindex, &iface);
		if (err)
			return txdp_fail(dp, err, "cancel on ifindex %u: txcancel is not attached "
					   "there", ifindex);
	}
	c.expires_ns = expires_ns;
	/*
	 * Per-interface cancels add to those already in force for the value.
	 * One element holds one expiry: the later one, "never" winning, so
	 * that no cancel in force ends early.
	 */
	if (ifindex) {
		struct txc_cancel old;

		if (!bpf_map_lookup_elem(txdp_map_fd(dp, map), &value, &old) &&
		    (old.flags & TXC_CANCEL_F_ACTIVE)) {
			c = old;
			if (!old.expires_ns || !expires_ns)
				c.expires_ns = 0;
			else if (expires_ns > old.expires_ns)
				c.expires_ns = expires_ns;
		}
		if (!(c.flags & TXC_CANCEL_F_ALL_IFACES))
			c.iface_slots |= 1ULL << iface.slot;
	}
	clock_gettime(CLOCK_MONOTONIC, &now);
	c.since_ns = (__u64)now.tv_sec * 1000000000ull + now.tv_nsec;
	if (bpf_map_update_elem(txdp_map_fd(dp, map), &value, &c, BPF_ANY))
		return txdp_fail(dp, -errno, "cancel of %u: %s%s", value, strerror(errno),
				   errno == E2BIG ? " (the cancel table is full)" : "");
	if (scope == TXC_SCOPE_ID)
		err = txdp_lookups_add(dp, TXC_LOOKUP_ID_CANCELS);
	/* In force at the hook: now what is queued already (no-op without the qdisc). */
	return err ? err : txdp_qdisc_purge(dp, scope, value, ifindex, NULL);
}

int txdp_clear(struct txdp *dp, int scope, __u32 value)
{
	struct txc_cancel none = {};
	enum txdp_map_id map;
	int err;

	err = cancel_target(dp, scope, value, &map);
	if (err)
		return err;
	if (scope == TXC_SCOPE_ID) {
		if (bpf_map_delete_elem(txdp_map_fd(dp, map), &value) && errno != ENOENT)
			return -errno;
		return 0;
	}
	if (bpf_map_update_elem(txdp_map_fd(dp, map), &value, &none, BPF_ANY))
		return -errno;
	return 0;
}

/*
 * Many ID cancels on every interface in one BPF_MAP_UPDATE_BATCH: the
 * kernel inserts them in one system call instead of one each.  *@done says
 * how many, from the first, are in force when an error is returned.
 */
int txdp_cancel_ids(struct txdp *dp, const __u32 *ids, const __u64 *expires_ns, __u32 n,
		      __u32 *done)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts, .elem_flags = BPF_ANY);
	struct txc_cancel *vals;
	struct timespec now;
	__u32 count = n, i;
	int err;

	*done = 0;
	txdp_error_clear(dp);
	err = txdp_check_ids(dp, ids, n);
	if (err || !n)
		return err;
	vals = calloc(n, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	clock_gettime(CLOCK_MONOTONIC, &now);
	for (i = 0; i < n; i++) {
		vals[i].flags = TXC_CANCEL_F_ACTIVE | TXC_CANCEL_F_ALL_IFACES;
		vals[i].expires_ns = expires_ns ? expires_ns[i] : 0;
		vals[i].since_ns = (__u64)now.tv_sec * 1000000000ull + now.tv_nsec;
	}
	/* The lookup bit first: a cancel the programs do not look at is not in force. */
	err = txdp_lookups_add(dp, TXC_LOOKUP_ID_CANCELS);
	if (!err && bpf_map_update_batch(txdp_map_fd(dp, TXDP_MAP_ID_CANCELS), ids, vals,
					 &count, &opts))
		err = txdp_fail(dp, -errno, "cancel of %u IDs: %s after %u%s", n,
				  strerror(errno), count,
				  errno == E2BIG ? " (the cancel table is full)" : "");
	/* The kernel stops its loop with count < n; failing before it, count stays n. */
	*done = !err ? n : count < n ? count : 0;
	free(vals);
	if (*done && dp->qdisc) {
		int perr = txdp_qdisc_purge_ids(dp, ids, *done, NULL);

		if (perr && !err)
			err = perr;
	}
	return err;
}

/* Many ID clears; clearing an ID that has no cancel is no error. */
int txdp_clear_ids(struct txdp *dp, const __u32 *ids, __u32 n, __u32 *done)
{
	__u32 deleted;
	int err;

	*done = 0;
	txdp_error_clear(dp);
	err = txdp_check_ids(dp, ids, n);
	if (err)
		return err;
	err = txdp_map_delete_keys(txdp_map_fd(dp, TXDP_MAP_ID_CANCELS), ids, sizeof(*ids), n,
				  &deleted);
	if (err)
		return txdp_fail(dp, err, "clear of %u IDs: %s", n, strerror(-err));
	*done = n;
	return 0;
}
