// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The mapped config: mark mask, lookup bits, ring flags. */
#include <errno.h>

#include "dp.h"
#include "dp_internal.h"

int txdp_config_get(struct txdp *dp, struct txc_config *cfg)
{
	cfg->mark_mask = __atomic_load_n(&dp->cfg->mark_mask, __ATOMIC_ACQUIRE);
	cfg->lookups = __atomic_load_n(&dp->cfg->lookups, __ATOMIC_ACQUIRE);
	cfg->ring_flags = __atomic_load_n(&dp->cfg->ring_flags, __ATOMIC_ACQUIRE);
	cfg->reserved = 0;
	return 0;
}

int txdp_config_set(struct txdp *dp, const struct txc_config *cfg)
{
	if (cfg->reserved) {
		txdp_log(TXDP_LOG_ERROR, "config: reserved fields must be zero\n");
		return -EINVAL;
	}
	if (cfg->ring_flags & ~TXC_RING_F_ALL) {
		txdp_log(TXDP_LOG_ERROR, "config: unknown ring flags 0x%x (known: 0x%x)\n",
			cfg->ring_flags & ~TXC_RING_F_ALL, TXC_RING_F_ALL);
		return -EINVAL;
	}
	if (cfg->lookups & ~TXC_LOOKUP_ALL) {
		txdp_log(TXDP_LOG_ERROR, "config: unknown lookup bits 0x%x (known: 0x%x)\n",
			cfg->lookups & ~TXC_LOOKUP_ALL, TXC_LOOKUP_ALL);
		return -EINVAL;
	}
	__atomic_store_n(&dp->cfg->mark_mask, cfg->mark_mask, __ATOMIC_RELEASE);
	__atomic_store_n(&dp->cfg->lookups, cfg->lookups, __ATOMIC_RELEASE);
	__atomic_store_n(&dp->cfg->ring_flags, cfg->ring_flags, __ATOMIC_RELEASE);
	return 0;
}

/*
 * Lookup bits are set and cleared atomically in the mapped config: two
 * processes (or a process and its tests) changing different bits at once
 * both keep theirs, and no bit is rewritten that did not change.
 */
int txdp_lookups_add(struct txdp *dp, __u32 bits)
{
	__atomic_fetch_or(&dp->cfg->lookups, bits, __ATOMIC_SEQ_CST);
	return 0;
}

int txdp_lookups_del(struct txdp *dp, __u32 bits)
{
	__atomic_fetch_and(&dp->cfg->lookups, ~bits, __ATOMIC_SEQ_CST);
	return 0;
}

bool txdp_lookup_on(const struct txdp *dp, __u32 bits)
{
	return __atomic_load_n(&dp->cfg->lookups, __ATOMIC_ACQUIRE) & bits;
}

int txdp_set_mark_mask(struct txdp *dp, __u32 mask)
{
	__atomic_store_n(&dp->cfg->mark_mask, mask, __ATOMIC_RELEASE);
	return 0;
}

int txdp_set_iface_counters(struct txdp *dp, bool on)
{
	return on ? txdp_lookups_add(dp, TXC_LOOKUP_IFACE_STATS) :
		    txdp_lookups_del(dp, TXC_LOOKUP_IFACE_STATS);
}

int txdp_set_ring_wakeup(struct txdp *dp, bool wakeup)
{
	if (wakeup)
		__atomic_fetch_and(&dp->cfg->ring_flags, ~TXC_RING_F_NO_WAKEUP, __ATOMIC_SEQ_CST);
	else
		__atomic_fetch_or(&dp->cfg->ring_flags, TXC_RING_F_NO_WAKEUP, __ATOMIC_SEQ_CST);
	return 0;
}
