// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * What taking and ending a lease does beyond its state (leases.c): a
 * source's ring and its owner's subscription, the datapath's lease end, and
 * the releases that remove a lease's rules (release.c).  Above the leases,
 * the completions and the ring pool, which it calls; nothing below calls it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "lease_actions.h"

/*
 * Releasing a prefix: its cancel ends at once; its rules, ID cancels and
 * counters, when it may have some, are removed over the next loop turns
 * (release.c), and the prefix is free once they are gone.
 */
int txcd_prefix_release(struct txcd *d, __u32 prefix)
{
	struct txcd_prefix *p = &d->prefixes[prefix];

	if (p->lease.state == TXCD_RELEASING)
		return 0;
	/* Every socket tag under the prefix stops at once, without visiting the sockets. */
	txdp_lease_end(d->dp, TXC_SCOPE_PREFIX, prefix);
	txdp_clear(d->dp, TXC_SCOPE_PREFIX, prefix);
	p->lease.conn = NULL;
	if (!p->rules && !p->ids_canceled && !p->ids_counted) {
		txcd_prefix_released(d, prefix);
		return 0;
	}
	p->lease.state = TXCD_RELEASING;
	return txcd_release_queue(d, true, prefix);
}

/* A fresh source starts with zero counters and sequence numbers. */
static void source_reset_counters(struct txcd *d, __u32 source)
{
	int ncpus = libbpf_num_possible_cpus();
	struct txc_source_stats *zero;
	__u64 seq = 0;

	zero = ncpus > 0 ? calloc(ncpus, sizeof(*zero)) : NULL;
	if (!zero || bpf_map_update_elem(txdp_map_fd(d->dp, TXDP_MAP_SOURCE_STATS), &source,
					 zero, BPF_ANY) ||
	    bpf_map_update_elem(txdp_map_fd(d->dp, TXDP_MAP_SOURCE_SEQ), &source, &seq, BPF_ANY))
		txdp_log(TXDP_LOG_WARN, "source %u: resetting its counters failed\n", source);
	free(zero);
}

int txcd_source_open(struct txcd *d, struct txcd_conn *c, __u32 want, __u32 *source,
		     char *why, size_t why_len)
{
	int fd = -1, err;
	bool claim;

	err = txcd_source_may_open(d, c, want, &claim, why, why_len);
	if (err)
		return err;
	if (!want) {
		/* A free number whose ring is stored already (ringpool.c). */
		fd = txcd_ringpool_take(d, &want);
		if (fd == -EAGAIN && txcd_sources_free(d) == 0) {
			snprintf(why, why_len, "all %u source handles are open", TXC_MAX_SOURCES - 1);
			return -ENOSPC;
		}
		if (fd == -EAGAIN)
			return -EINPROGRESS;	/* the caller waits for a ring */
		source_reset_counters(d, want);
	}
	/* A new source's account starts where its ring stands. */
	err = txcd_ring_attach(d, want, fd, !claim);
	if (err) {
		if (!claim)
			txcd_ringpool_release(d, want);
		snprintf(why, why_len, "source %u: creating its ring buffer failed: %s", want,
			 strerror(-err));
		return err;
	}
	txcd_source_hold(d, c, want, claim);
	err = txcd_subscribe(d, c, want, why, why_len);
	if (err) {
		txcd_source_release(d, want);
		if (err != -EDQUOT)
			snprintf(why, why_len, "source %u: subscribing failed: %s", want,
				 strerror(-err));
		return err;
	}
	*source = want;
	return 0;
}

/* Releasing a source: as a prefix (above), its ring and subscriptions at once. */
int txcd_source_release(struct txcd *d, __u32 source)
{
	struct txcd_source *s = &d->sources[source];

	if (s->lease.state == TXCD_RELEASING)
		return 0;
	txdp_clear(d->dp, TXC_SCOPE_SOURCE, source);
	txdp_lease_end(d->dp, TXC_SCOPE_SOURCE, source);
	while (s->subs)
		txcd_unsubscribe(d, s->subs->conn, source);
	txcd_ring_detach(d, source);
	txcd_ringpool_release(d, source);
	s->lease.conn = NULL;
	if (!s->rules) {
		txcd_source_released(d, source);
		return 0;
	}
	s->lease.state = TXCD_RELEASING;
	return txcd_release_queue(d, false, source);
}

/*
 * The rings of the sources an earlier instance left (leases.c found them
 * orphaned): found now, before anyone is served: looking one up may wait
 * for a grace period, a claim must not.
 */
void txcd_leases_attach_orphans(struct txcd *d)
{
	for (__u32 s = 1; s < TXC_MAX_SOURCES; s++) {
		int err;

		if (d->sources[s].lease.state != TXCD_ORPHANED)
			continue;
		err = txcd_ring_attach(d, s, -1, false);
		if (err)
			txdp_log(TXDP_LOG_WARN, "source %u: reading the ring an earlier instance "
				"left: %s\n", s, strerror(-err));
	}
}

static bool orphan_expired(const struct txcd_lease *l, __u64 now)
{
	return l->state == TXCD_ORPHANED && now >= l->deadline_ns;
}

void txcd_leases_drop_conn(struct txcd *d, struct txcd_conn *c)
{
	/* Exiting with --keep: the leases stay pinned for the next instance. */
	if (d->stop && d->opts.keep_on_exit)
		return;
	for (__u32 s = 1; s < TXC_MAX_SOURCES; s++)
		if (txcd_lease_held_by(&d->sources[s].lease, c))
			txcd_source_release(d, s);
	for (__u32 p = TXC_PREFIX_MIN; p <= TXC_PREFIX_MAX; p++)
		if (txcd_lease_held_by(&d->prefixes[p].lease, c))
			txcd_prefix_release(d, p);
}

void txcd_leases_expire(struct txcd *d)
{
	__u64 now = txcd_now_ns();

	for (__u32 s = 1; s < TXC_MAX_SOURCES; s++)
		if (orphan_expired(&d->sources[s].lease, now)) {
			txdp_log(TXDP_LOG_INFO, "source %u: nobody claimed it\n", s);
			txcd_source_release(d, s);
		}
	for (__u32 p = TXC_PREFIX_MIN; p <= TXC_PREFIX_MAX; p++)
		if (orphan_expired(&d->prefixes[p].lease, now)) {
			txdp_log(TXDP_LOG_INFO, "prefix %u: nobody claimed it\n", p);
			txcd_prefix_release(d, p);
		}
}
