// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Releases of prefixes and sources that have rules, ID cancels or ID
 * counters to remove, spread over the loop's turns.
 *
 * A prefix's or source's rules come from the rule index (ruleindex.c), its
 * ID cancels from the cancel index (cancelindex.c): a release deletes its
 * own, RELEASE_RULES a loop turn, whatever else the tables hold.  ID
 * counters (at most TXC_ID_STATS_MAX) have no index: the daemon only knows
 * whether a prefix ever had one, and then their table is walked, a chunk
 * (RELEASE_CHUNK elements read) a turn; so is the cancel table, should the
 * cancel index have missed one (out of memory).  Either way the loop keeps
 * serving everyone between chunks, and takes a turn at least every
 * millisecond while a release is on.  (A million rules took the loop about
 * a second in one go.)
 *
 * A released prefix or source is TXCD_RELEASING until it is done: it is
 * nobody's to use, it is not handed out again, and it stays counted
 * against its user's limits, so that churn of leases with rules paces
 * itself.  Releases that come during a walk wait for the next one (the
 * walk may have passed their part of a table already); one walk serves
 * every release it started with.  A release with nothing to remove ends at
 * once (leases.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "work.h"
#include "rules.h"

#define RELEASE_CHUNK	512	/* table elements read per loop turn */
#define RELEASE_RULES	256	/* rules or cancels deleted per loop turn: about 0.4 ms */

enum release_stage {
	STAGE_RULES,		/* from the rule index */
	STAGE_ID_CANCELS,	/* from the cancel index */
	STAGE_ID_CANCELS_WALK,	/* a walk of the table: cancels the index missed */
	STAGE_ID_STATS,		/* a walk of the counters */
	STAGE_DONE,
};

struct release_set {
	bool prefixes[TXC_NR_PREFIXES];
	bool sources[TXC_MAX_SOURCES];
	bool rules, ids_canceled, ids_unindexed, ids_counted;	/* which stages are needed */
	__u32 count;
};

struct txcd_release {
	struct release_set walk;	/* served by the walk under way */
	struct release_set next;	/* waiting for the next walk */
	bool active;
	int stage;
	bool started;			/* the stage's first chunk was read */
	__u8 token[64];			/* BPF_MAP_LOOKUP_BATCH's position */
	__u8 *keys, *vals;
	size_t vals_size;
	__u8 *del_keys[TXC_TAG_KIND_MAX];		/* rules to delete, per table (txcd_rule_tables) */
	__u32 n_del[4];
	int n_rules, n_cancels;		/* removed by this walk, for the log */
};

static struct txcd_release *rel_get(struct txcd *d)
{
	if (!d->release)
		d->release = calloc(1, sizeof(*d->release));
	return d->release;
}

bool txcd_release_pending(const struct txcd *d)
{
	return d->release && (d->release->active || d->release->next.count);
}

static void set_add(struct release_set *set, struct txcd *d, bool prefix, __u32 value)
{
	if (prefix) {
		const struct txcd_prefix *p = &d->prefixes[value];

		set->prefixes[value] = true;
		set->rules |= p->rules > 0;
		set->ids_canceled |= p->ids_canceled;
		set->ids_unindexed |= p->ids_unindexed;
		set->ids_counted |= p->ids_counted;
	} else {
		set->sources[value] = true;
		set->rules |= d->sources[value].rules > 0;
	}
	set->count++;
}

int txcd_release_queue(struct txcd *d, bool prefix, __u32 value)
{
	struct txcd_release *r = rel_get(d);

	if (!r)
		return -ENOMEM;
	set_add(&r->next, d, prefix, value);
	return 0;
}

/* The table a walking stage reads, with its key and value sizes. */
static int stage_map(struct txcd *d, int stage, size_t *ksz, size_t *vsz)
{
	int ncpus = libbpf_num_possible_cpus();

	*ksz = sizeof(__u32);
	if (stage == STAGE_ID_CANCELS_WALK) {
		*vsz = sizeof(struct txc_cancel);
		return txdp_map_fd(d->dp, TXDP_MAP_ID_CANCELS);
	}
	/* A per-CPU value: one 8-byte aligned copy per possible CPU. */
	*vsz = (size_t)(ncpus > 0 ? ncpus : 1) * ((sizeof(struct txc_id_stats) + 7) & ~7ul);
	return txdp_map_fd(d->dp, TXDP_MAP_ID_STATS);
}

static bool stage_needed(const struct release_set *w, int stage)
{
	if (stage == STAGE_RULES)
		return w->rules;
	if (stage == STAGE_ID_CANCELS)
		return w->ids_canceled;
	if (stage == STAGE_ID_CANCELS_WALK)
		return w->ids_unindexed;
	return w->ids_counted;
}

/* A rule of a released owner, out of the index: its key waits for the delete. */
static void rule_released(struct txcd *d, __u8 kind, const void *key, const struct txc_tag *tag)
{
	struct txcd_release *r = d->release;
	struct release_set *w = &r->walk;
	const struct txcd_rule_table *t = txcd_rule_table_of(kind);
	__u32 p = TXC_ID_PREFIX(tag->cancel_id);
	int k = t - txcd_rule_tables;

	memcpy(r->del_keys[k] + (size_t)r->n_del[k] * t->key_size, key, t->key_size);
	r->n_del[k]++;
	if (tag->source < TXC_MAX_SOURCES)
		d->sources[tag->source].rules--;
	/* A released prefix's own count and its user's go at the end, whole. */
	if (!w->prefixes[p]) {
		struct txcd_user *u = txcd_user_get(d, d->prefixes[p].lease.uid);

		d->prefixes[p].rules--;
		if (u)
			u->rules--;
	}
}

/*
 * Up to RELEASE_RULES rules of the released owners, deleted in one batch
 * per table; false when none is left.
 */
static bool rules_chunk(struct txcd *d)
{
	struct txcd_release *r = d->release;
	struct release_set *w = &r->walk;
	__u32 budget = RELEASE_RULES, deleted;

	for (int k = 0; k < TXC_TAG_KIND_MAX; k++) {
		if (!r->del_keys[k])
			r->del_keys[k] = malloc(RELEASE_RULES * txcd_rule_tables[k].key_size);
		if (!r->del_keys[k])
			return true;	/* out of memory: try again on the next turn */
		r->n_del[k] = 0;
	}
	for (__u32 p = TXC_PREFIX_MIN; p <= TXC_PREFIX_MAX && budget; p++)
		if (w->prefixes[p])
			budget -= txcd_ruleindex_take(d, p, 0, budget, rule_released);
	for (__u32 s = 1; s < TXC_MAX_SOURCES && budget; s++)
		if (w->sources[s])
			budget -= txcd_ruleindex_take(d, 0, s, budget, rule_released);
	for (int k = 0; k < TXC_TAG_KIND_MAX; k++) {
		const struct txcd_rule_table *t = &txcd_rule_tables[k];

		if (!r->n_del[k])
			continue;
		txdp_map_delete_keys(txdp_map_fd(d->dp, t->map), r->del_keys[k], t->key_size,
				    r->n_del[k], &deleted);
		r->n_rules += deleted;
	}
	return !budget;
}

/* One chunk of the current stage; false when the stage is over. */
static bool stage_chunk(struct txcd *d)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	struct txcd_release *r = d->release;
	__u32 count = RELEASE_CHUNK, n_del = 0, deleted = 0;
	size_t ksz, vsz;
	int fd = stage_map(d, r->stage, &ksz, &vsz);
	bool last;

	if (r->vals_size < RELEASE_CHUNK * vsz) {
		free(r->vals);
		r->vals = malloc(RELEASE_CHUNK * vsz);
		r->vals_size = r->vals ? RELEASE_CHUNK * vsz : 0;
	}
	if (!r->keys)
		r->keys = malloc(RELEASE_CHUNK * sizeof(__u32));
	if (!r->keys || !r->vals)
		return true;	/* out of memory: try again on the next turn */
	last = bpf_map_lookup_batch(fd, r->started ? r->token : NULL, r->token, r->keys, r->vals,
				    &count, &opts) < 0;
	if (last && errno != ENOENT) {
		txdp_log(TXDP_LOG_WARN, "releasing: reading a table: %s\n", strerror(errno));
		count = 0;
	}
	r->started = true;
	/* Matching keys are packed to the front of r->keys, then deleted. */
	for (__u32 i = 0; i < count; i++) {
		const __u8 *key = r->keys + (size_t)i * ksz;

		if (!r->walk.prefixes[TXC_ID_PREFIX(*(const __u32 *)key)])
			continue;
		if (r->stage == STAGE_ID_STATS) {
			/* Each stop keeps the lookup bit right (dp/dp.h). */
			n_del += !txdp_id_count_stop(d->dp, *(const __u32 *)key);
			continue;
		}
		memmove(r->keys + (size_t)n_del * ksz, key, ksz);
		n_del++;
	}
	if (n_del && r->stage != STAGE_ID_STATS)
		txdp_map_delete_keys(fd, r->keys, ksz, n_del, &deleted);
	if (r->stage == STAGE_ID_CANCELS_WALK)
		r->n_cancels += deleted;
	return !last;
}

/* Up to RELEASE_RULES ID cancels of the released prefixes; false when none is left. */
static bool cancels_chunk(struct txcd *d)
{
	struct txcd_release *r = d->release;
	__u32 ids[RELEASE_RULES], n = 0, deleted;

	for (__u32 p = TXC_PREFIX_MIN; p <= TXC_PREFIX_MAX && n < RELEASE_RULES; p++)
		if (r->walk.prefixes[p])
			n += txcd_cancelindex_take(d, p, ids + n, RELEASE_RULES - n);
	if (n && !txdp_map_delete_keys(txdp_map_fd(d->dp, TXDP_MAP_ID_CANCELS), ids,
				      sizeof(ids[0]), n, &deleted))
		r->n_cancels += deleted;
	return n == RELEASE_RULES;
}

static void walk_start(struct txcd *d)
{
	struct txcd_release *r = d->release;

	r->walk = r->next;
	memset(&r->next, 0, sizeof(r->next));
	r->active = true;
	r->stage = STAGE_RULES;
	r->started = false;
	r->n_rules = r->n_cancels = 0;
}

static void walk_end(struct txcd *d)
{
	struct txcd_release *r = d->release;

	r->active = false;
	for (__u32 p = TXC_PREFIX_MIN; p <= TXC_PREFIX_MAX; p++)
		if (r->walk.prefixes[p])
			txcd_prefix_released(d, p);
	for (__u32 s = 1; s < TXC_MAX_SOURCES; s++)
		if (r->walk.sources[s])
			txcd_source_released(d, s);
	txdp_log(TXDP_LOG_DEBUG, "released %u prefixes and sources: %d rules, %d ID cancels "
		"removed\n", r->walk.count, r->n_rules, r->n_cancels);
}

void txcd_release_step(struct txcd *d)
{
	struct txcd_release *r = d->release;

	if (!r)
		return;
	if (!r->active) {
		if (!r->next.count)
			return;
		walk_start(d);
	}
	while (r->stage < STAGE_DONE && !stage_needed(&r->walk, r->stage))
		r->stage++;
	if (r->stage == STAGE_RULES ? rules_chunk(d) :
	    r->stage == STAGE_ID_CANCELS ? cancels_chunk(d) :
	    r->stage < STAGE_DONE && stage_chunk(d))
		return;
	if (r->stage < STAGE_DONE) {
		r->stage++;
		r->started = false;
		return;
	}
	walk_end(d);
}

void txcd_release_finish(struct txcd *d)
{
	while (txcd_release_pending(d))
		txcd_release_step(d);
}

void txcd_release_close(struct txcd *d)
{
	if (!d->release)
		return;
	free(d->release->keys);
	free(d->release->vals);
	for (int k = 0; k < TXC_TAG_KIND_MAX; k++)
		free(d->release->del_keys[k]);
	free(d->release);
	d->release = NULL;
}
