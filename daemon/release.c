// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Releases of prefixes and sources that have rules, ID cancels or ID
 * counters to remove, spread over the loop's turns.
 *
 * The datapath's tables are the only record of who tagged what, and a
 * table is found only by walking it: a million flow rules take about a
 * second to walk and delete.  Done in one go, that second belonged to every
 * other client.  Here a walk does one chunk (RELEASE_CHUNK elements read,
 * those of the released owners deleted) per loop turn, while the loop keeps
 * serving everyone; the loop does not sleep while a walk is on.
 *
 * A released prefix or source is TXCD_RELEASING until the walk is over: it
 * is nobody's to use, it is not handed out again, and it stays counted
 * against its user's limits, so that churn of leases with rules paces
 * itself.  Releases that come during a walk wait for the next one (the
 * walk may have passed their rules already); one walk serves every release
 * it started with.  A release with nothing in the tables (the daemon
 * counts rules per prefix and per source, and knows whether a prefix ever
 * had an ID cancel or counter) needs no walk and ends at once (leases.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "txcanceld.h"
#include "rules.h"

#define RELEASE_CHUNK	512	/* elements read per loop turn */

enum release_stage {
	STAGE_RULES,		/* the four rule tables, one after the other */
	STAGE_ID_CANCELS = STAGE_RULES + 4,
	STAGE_ID_STATS,
	STAGE_DONE,
};

struct release_set {
	bool prefixes[TXC_NR_PREFIXES];
	bool sources[TXC_MAX_SOURCES];
	bool rules, ids_canceled, ids_counted;	/* which stages are needed */
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

/* The table a stage reads, with its key and value sizes. */
static int stage_map(struct txcd *d, int stage, size_t *ksz, size_t *vsz)
{
	int ncpus = libbpf_num_possible_cpus();

	if (stage < STAGE_ID_CANCELS) {
		const struct txcd_rule_table *t = &txcd_rule_tables[stage - STAGE_RULES];

		*ksz = t->key_size;
		*vsz = sizeof(struct txc_tag);
		return txc_dp_map_fd(d->dp, t->map);
	}
	*ksz = sizeof(__u32);
	if (stage == STAGE_ID_CANCELS) {
		*vsz = sizeof(struct txc_cancel);
		return txc_dp_map_fd(d->dp, TXC_MAP_ID_CANCELS);
	}
	/* A per-CPU value: one 8-byte aligned copy per possible CPU. */
	*vsz = (size_t)(ncpus > 0 ? ncpus : 1) * ((sizeof(struct txc_id_stats) + 7) & ~7ul);
	return txc_dp_map_fd(d->dp, TXC_MAP_ID_STATS);
}

static bool stage_needed(const struct release_set *w, int stage)
{
	if (stage < STAGE_ID_CANCELS)
		return w->rules;
	if (stage == STAGE_ID_CANCELS)
		return w->ids_canceled;
	return w->ids_counted;
}

/* A rule of the walk's owners goes; the counts follow (see txcd_rules_changed). */
static bool rule_released(struct txcd *d, const struct txc_tag *tag)
{
	struct release_set *w = &d->release->walk;
	__u32 p = TXC_ID_PREFIX(tag->cancel_id);

	if (!w->prefixes[p] && !(tag->source < TXC_MAX_SOURCES && w->sources[tag->source]))
		return false;
	if (tag->source < TXC_MAX_SOURCES)
		d->sources[tag->source].rules--;
	/* A released prefix's own count and its user's go at the end, whole. */
	if (!w->prefixes[p]) {
		struct txcd_user *u = txcd_user_get(d, d->prefixes[p].uid);

		d->prefixes[p].rules--;
		if (u)
			u->rules--;
	}
	return true;
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
		r->keys = malloc(RELEASE_CHUNK * sizeof(struct txc_flow_key));
	if (!r->keys || !r->vals)
		return true;	/* out of memory: try again on the next turn */
	last = bpf_map_lookup_batch(fd, r->started ? r->token : NULL, r->token, r->keys, r->vals,
				    &count, &opts) < 0;
	if (last && errno != ENOENT) {
		txc_log(TXC_LOG_WARN, "releasing: reading a table: %s\n", strerror(errno));
		count = 0;
	}
	r->started = true;
	/* Matching keys are packed to the front of r->keys, then deleted. */
	for (__u32 i = 0; i < count; i++) {
		const __u8 *key = r->keys + (size_t)i * ksz;
		const void *val = r->vals + (size_t)i * vsz;
		bool del;

		if (r->stage < STAGE_ID_CANCELS)
			del = rule_released(d, val);
		else
			del = r->walk.prefixes[TXC_ID_PREFIX(*(const __u32 *)key)];
		if (!del)
			continue;
		if (r->stage == STAGE_ID_STATS) {
			/* Each stop keeps the lookup bit right (loader.h). */
			n_del += !txc_dp_id_count_stop(d->dp, *(const __u32 *)key);
			continue;
		}
		memmove(r->keys + (size_t)n_del * ksz, key, ksz);
		n_del++;
	}
	if (n_del && r->stage != STAGE_ID_STATS)
		txc_map_delete_keys(fd, r->keys, ksz, n_del, &deleted);
	if (r->stage < STAGE_ID_CANCELS)
		r->n_rules += deleted;
	else if (r->stage == STAGE_ID_CANCELS)
		r->n_cancels += deleted;
	return !last;
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
	txc_log(TXC_LOG_DEBUG, "released %u prefixes and sources: %d rules, %d ID cancels "
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
	if (r->stage < STAGE_DONE && stage_chunk(d))
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
	free(d->release);
	d->release = NULL;
}
