// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The per-source rings in txc_rings, and the record of their slots. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "dp.h"
#include "dp_internal.h"

static bool slot_marked(const struct txdp *dp, __u32 source)
{
	return dp->ring_slots[source / 64] & (1ull << (source % 64));
}

/* Mark or unmark @source's slot, pinned before the caller goes on. */
static int slot_mark(struct txdp *dp, __u32 source, bool used)
{
	__u64 bit = 1ull << (source % 64);
	__u32 zero = 0;
	int err = 0;

	pthread_mutex_lock(&dp->ring_slots_lock);
	if (!!(dp->ring_slots[source / 64] & bit) != used) {
		dp->ring_slots[source / 64] ^= bit;
		if (bpf_map_update_elem(dp->ring_slots_fd, &zero, dp->ring_slots, BPF_ANY))
			err = -errno;
	}
	pthread_mutex_unlock(&dp->ring_slots_lock);
	if (err)
		txdp_log(TXDP_LOG_ERROR, "recording the ring slot of source %u: %s\n", source,
			strerror(-err));
	return err;
}

bool txdp_ring_slot_used(struct txdp *dp, __u32 source)
{
	bool used;

	if (!TXC_SOURCE_VALID(source))
		return false;
	pthread_mutex_lock(&dp->ring_slots_lock);
	used = slot_marked(dp, source);
	pthread_mutex_unlock(&dp->ring_slots_lock);
	return used;
}

int txdp_ring_get(struct txdp *dp, __u32 source)
{
	__u32 id;
	int fd, err;

	err = txdp_check_source(dp, source);
	if (err)
		return err;
	if (!txdp_ring_slot_used(dp, source))
		return -ENOENT;
	/* A ring an earlier instance stored is found by its map id. */
	if (bpf_map_lookup_elem(txdp_map_fd(dp, TXDP_MAP_RINGS), &source, &id)) {
		err = -errno;
		if (err == -ENOENT)
			slot_mark(dp, source, false);
		return err;
	}
	fd = bpf_map_get_fd_by_id(id);
	return fd < 0 ? -errno : fd;
}

int txdp_ring_new(struct txdp *dp, __u32 source)
{
	int outer = txdp_map_fd(dp, TXDP_MAP_RINGS);
	char name[BPF_OBJ_NAME_LEN];
	int fd, err;

	err = txdp_check_source(dp, source);
	if (err)
		return err;
	snprintf(name, sizeof(name), "txc_ring_%u", source);
	fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, name, 0, 0, dp->ring_bytes, NULL);
	if (fd < 0) {
		err = -errno;
		txdp_log(TXDP_LOG_ERROR, "creating the ring of source %u (%u bytes): %s\n", source,
			dp->ring_bytes, strerror(errno));
		return err;
	}
	/* Marked first: a slot that may hold a ring is never left unmarked. */
	err = slot_mark(dp, source, true);
	if (err) {
		close(fd);
		return err;
	}
	/* No lookup first: BPF_ANY replaces whatever the slot held. */
	if (bpf_map_update_elem(outer, &source, &fd, BPF_ANY)) {
		err = -errno;
		txdp_log(TXDP_LOG_ERROR, "storing the ring of source %u: %s%s\n", source,
			strerror(errno), errno == EINVAL ?
			" (the pinned txc_rings map was made for another ring size)" : "");
		close(fd);
		return err;
	}
	return fd;
}

int txdp_ring_open(struct txdp *dp, __u32 source)
{
	int fd = txdp_ring_get(dp, source);

	return fd == -ENOENT ? txdp_ring_new(dp, source) : fd;
}

int txdp_ring_remove(struct txdp *dp, __u32 source)
{
	int err = txdp_check_source(dp, source);

	if (err)
		return err;
	if (!txdp_ring_slot_used(dp, source))
		return 0;
	if (bpf_map_delete_elem(txdp_map_fd(dp, TXDP_MAP_RINGS), &source) && errno != ENOENT)
		return -errno;
	return slot_mark(dp, source, false);
}

/* Only the marked slots: each call on txc_rings may wait for a grace period. */
int txdp_rings_remove_all(struct txdp *dp)
{
	__u32 source;
	int err;

	for (source = 1; source < TXC_MAX_SOURCES; source++) {
		if (!txdp_ring_slot_used(dp, source))
			continue;
		err = txdp_ring_remove(dp, source);
		if (err)
			return err;
	}
	return 0;
}
