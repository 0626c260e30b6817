// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The record txcancel keeps of each interface it is attached to
 * (txc_ifaces): its slot, its counters, and, when the last hook leaves, its
 * slot taken out of every per-interface cancel before another interface
 * can be given it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "dp.h"
#include "dp_internal.h"

int txdp_iface_get(struct txdp *dp, __u32 ifindex, struct txc_iface *iface)
{
	if (bpf_map_lookup_elem(txdp_map_fd(dp, TXDP_MAP_IFACES), &ifindex, iface))
		return -errno;
	return 0;
}

/*
 * The interface's counters start at zero when txcancel first attaches to it
 * (BPF_NOEXIST: a second hook on it keeps them) and go with it.
 */
static int iface_stats_create(struct txdp *dp, __u32 ifindex)
{
	int ncpus = libbpf_num_possible_cpus();
	struct txc_iface_stats *zero;
	int err = 0;

	if (ncpus < 0)
		return ncpus;
	zero = calloc(ncpus, sizeof(*zero));
	if (!zero)
		return -ENOMEM;
	if (bpf_map_update_elem(txdp_map_fd(dp, TXDP_MAP_IFACE_STATS), &ifindex, zero,
				BPF_NOEXIST) && errno != EEXIST)
		err = -errno;
	free(zero);
	return err;
}

void txdp_iface_stats_delete(struct txdp *dp, __u32 ifindex)
{
	bpf_map_delete_elem(txdp_map_fd(dp, TXDP_MAP_IFACE_STATS), &ifindex);
}

static int iface_put(struct txdp *dp, __u32 ifindex, const struct txc_iface *iface)
{
	int err = iface_stats_create(dp, ifindex);

	if (err)
		return err;
	if (bpf_map_update_elem(txdp_map_fd(dp, TXDP_MAP_IFACES), &ifindex, iface, BPF_ANY))
		return -errno;
	return 0;
}

static int slots_used(void *ctx, const void *keys, const void *vals, __u32 n)
{
	const struct txc_iface *ifaces = vals;
	__u64 *used = ctx;

	(void)keys;
	for (__u32 i = 0; i < n; i++)
		if (ifaces[i].slot < TXC_MAX_IFACES)
			*used |= 1ULL << ifaces[i].slot;
	return 0;
}

/* The interface's state, with a free slot if txcancel had none for it. */
int txdp_iface_get_or_new(struct txdp *dp, __u32 ifindex, struct txc_iface *iface)
{
	__u64 used = 0;
	int err;

	if (!txdp_iface_get(dp, ifindex, iface))
		return 0;
	err = txdp_map_walk(txdp_map_fd(dp, TXDP_MAP_IFACES), sizeof(__u32), sizeof(*iface),
			   slots_used, &used);
	if (err)
		return err;
	if (used == ~0ULL) {
		txdp_log(TXDP_LOG_ERROR, "txcancel is attached to %u interfaces already, the "
			"most it can tell apart\n", TXC_MAX_IFACES);
		return -ENOSPC;
	}
	iface->slot = __builtin_ctzll(~used);
	iface->flags = 0;
	return 0;
}

/*
 * A per-interface cancel names the interface by slot.  Before a slot is
 * given to another interface, take it out of every cancel, so that a cancel
 * never spreads to an interface nobody named.
 */
static void cancel_strip_slot(struct txc_cancel *c, __u32 slot)
{
	if (!(c->flags & TXC_CANCEL_F_ACTIVE) || (c->flags & TXC_CANCEL_F_ALL_IFACES))
		return;
	c->iface_slots &= ~(1ULL << slot);
	if (!c->iface_slots)
		memset(c, 0, sizeof(*c));
}

/* What a detach changes in the ID cancels: elements to rewrite, keys to delete. */
struct id_changes {
	__u32 *upd_keys;
	struct txc_cancel *upd_vals;
	__u32 *del_keys;
	__u32 n_upd, n_del, cap;
};

static int id_changes_add(struct id_changes *ch, __u32 key, const struct txc_cancel *c)
{
	if (ch->n_upd == ch->cap || ch->n_del == ch->cap) {
		__u32 cap = ch->cap ? ch->cap * 2 : 256;
		void *k = realloc(ch->upd_keys, cap * sizeof(*ch->upd_keys));

		if (k)
			ch->upd_keys = k;
		k = k ? realloc(ch->upd_vals, cap * sizeof(*ch->upd_vals)) : NULL;
		if (k)
			ch->upd_vals = k;
		k = k ? realloc(ch->del_keys, cap * sizeof(*ch->del_keys)) : NULL;
		if (!k)
			return -ENOMEM;
		ch->del_keys = k;
		ch->cap = cap;
	}
	if (c->flags) {
		ch->upd_keys[ch->n_upd] = key;
		ch->upd_vals[ch->n_upd++] = *c;
	} else {
		ch->del_keys[ch->n_del++] = key;
	}
	return 0;
}

struct strip {
	__u32 slot;
	struct id_changes ch;
};

static int strip_chunk(void *ctx, const void *keys, const void *vals, __u32 n)
{
	struct strip *st = ctx;
	const struct txc_cancel *cancels = vals;
	const __u32 *ids = keys;
	int err = 0;

	for (__u32 i = 0; i < n && !err; i++) {
		struct txc_cancel c = cancels[i];

		cancel_strip_slot(&c, st->slot);
		if (memcmp(&c, &cancels[i], sizeof(c)))
			err = id_changes_add(&st->ch, ids[i], &c);
	}
	return err;
}

/*
 * The ID cancels that name @slot: collected by a walk that only reads, then
 * rewritten and deleted in batches.  Rewriting an element during a hash walk
 * moves it to the head of its bucket and the walk visits it again, forever
 * when two cancels share a bucket.
 */
static int strip_slot_from_id_cancels(int fd, __u32 slot)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	struct strip st = { .slot = slot };
	struct id_changes *ch = &st.ch;
	__u32 count, deleted;
	int err;

	err = txdp_map_walk(fd, sizeof(__u32), sizeof(struct txc_cancel), strip_chunk, &st);
	count = ch->n_upd;
	if (!err && count && bpf_map_update_batch(fd, ch->upd_keys, ch->upd_vals, &count, &opts) < 0)
		err = -errno;
	if (!err && ch->n_del)
		err = txdp_map_delete_keys(fd, ch->del_keys, sizeof(__u32), ch->n_del, &deleted);
	free(ch->upd_keys);
	free(ch->upd_vals);
	free(ch->del_keys);
	return err;
}

static int strip_slot_from_cancels(struct txdp *dp, __u32 slot)
{
	static const enum txdp_map_id arrays[] = { TXDP_MAP_PREFIX_CANCELS, TXDP_MAP_SOURCE_CANCELS };
	static const __u32 sizes[] = { TXC_NR_PREFIXES, TXC_MAX_SOURCES };
	struct txc_cancel c, old;
	__u32 key;
	size_t a;

	for (a = 0; a < 2; a++) {
		int afd = txdp_map_fd(dp, arrays[a]);

		for (key = 0; key < sizes[a]; key++) {
			if (bpf_map_lookup_elem(afd, &key, &c) || !(c.flags & TXC_CANCEL_F_ACTIVE))
				continue;
			old = c;
			cancel_strip_slot(&c, slot);
			if (memcmp(&c, &old, sizeof(c)) && bpf_map_update_elem(afd, &key, &c, BPF_ANY))
				return -errno;
		}
	}
	return strip_slot_from_id_cancels(txdp_map_fd(dp, TXDP_MAP_ID_CANCELS), slot);
}

/* Store the new state; forget the interface when nothing is attached. */
int txdp_iface_update(struct txdp *dp, __u32 ifindex, struct txc_iface *iface)
{
	int err;

	if (iface->flags & (TXC_IFACE_F_TC_TCX | TXC_IFACE_F_TC_CLSACT | TXC_IFACE_F_XDP))
		return iface_put(dp, ifindex, iface);
	err = strip_slot_from_cancels(dp, iface->slot);
	txdp_iface_stats_delete(dp, ifindex);
	if (bpf_map_delete_elem(txdp_map_fd(dp, TXDP_MAP_IFACES), &ifindex) && errno != ENOENT)
		return -errno;
	return err;
}
