// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Prefix and source leases: their state, the users' counts and limits, and
 * who may act on what.  A lease belongs to the connection that took it;
 * when that connection closes, everything under the lease (tag rules,
 * cancels, counters, the ring) is removed (lease_actions.c, release.c) and
 * the prefix or source is free again.
 *
 * Leases are also written to two pinned array maps under
 * <pin_dir>/daemon/, so that a new daemon finds them after a restart or a
 * crash.  It marks them orphaned and keeps them, with their rules and
 * cancels in force, for the grace period: a client of the same user can
 * claim them back (PREFIX_ALLOC / SOURCE_OPEN with the number).  Layout of
 * both maps: key __u32 (prefix or source), value struct txcd_lease_pin.  A
 * third map there, source_accounts, holds each source's completion account
 * (struct txcd_account, kept by completions.c).
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "state.h"
#include "rules.h"

struct txcd_lease_pin {
	__u32 uid;
	__u32 state;		/* TXC_LEASE_HELD, or 0: free */
};
_Static_assert(sizeof(struct txcd_lease_pin) == 8, "txcd_lease_pin size");

static int lease_map_open(struct txcd *d, const char *name, __u32 entries, __u32 value_size)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts);
	struct bpf_map_info info = {};
	__u32 info_len = sizeof(info);
	char dir[PATH_MAX], path[PATH_MAX + 32];
	int fd;

	snprintf(dir, sizeof(dir), "%s/daemon", txdp_pin_dir(d->dp));
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = bpf_obj_get(path);
	if (fd >= 0) {
		if (!bpf_obj_get_info_by_fd(fd, &info, &info_len) &&
		    info.type == BPF_MAP_TYPE_ARRAY && info.key_size == sizeof(__u32) &&
		    info.value_size == value_size && info.max_entries == entries)
			return fd;
		txdp_log(TXDP_LOG_WARN, "%s: not a map of this version, replacing it\n", path);
		close(fd);
		unlink(path);
	}
	if (mkdir(dir, 0700) && errno != EEXIST)
		return -errno;
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, name, sizeof(__u32), value_size, entries, &opts);
	if (fd < 0 || bpf_obj_pin(fd, path)) {
		int err = -errno;

		txdp_log(TXDP_LOG_ERROR, "creating the map %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return err;
	}
	return fd;
}

static void lease_store(int fd, __u32 idx, enum txcd_lease_state state, uid_t uid)
{
	struct txcd_lease_pin l = {
		.uid = uid,
		.state = state == TXCD_FREE ? 0 : TXC_LEASE_HELD,
	};

	if (bpf_map_update_elem(fd, &idx, &l, BPF_ANY))
		txdp_log(TXDP_LOG_WARN, "recording lease %u: %s (a restart would forget it)\n", idx,
			strerror(errno));
}

struct rule_census {
	struct txcd *d;
	bool seen[TXC_NR_PREFIXES];
	__u32 failed;		/* rules the index could not take */
};

static bool count_rule(void *ctx, __u8 kind, const void *key, const struct txc_tag *tag)
{
	struct rule_census *rc = ctx;
	__u32 p = TXC_ID_PREFIX(tag->cancel_id);

	if (txcd_ruleindex_add(rc->d, kind, key, tag))
		rc->failed++;
	rc->d->prefixes[p].rules++;
	if (tag->source < TXC_MAX_SOURCES)
		rc->d->sources[tag->source].rules++;
	rc->seen[p] = true;
	return false;
}

/* Rebuild the in-memory state from the pinned lease maps and rule tables. */
static int leases_load(struct txcd *d)
{
	__u64 deadline = txcd_now_ns() + (__u64)d->opts.grace_s * 1000000000ull;
	struct rule_census rc = { .d = d };
	struct txcd_lease_pin l;
	__u32 n_orphans = 0;
	int err;

	for (__u32 p = TXC_PREFIX_MIN; p <= TXC_PREFIX_MAX; p++) {
		if (bpf_map_lookup_elem(d->prefix_lease_fd, &p, &l) || l.state != TXC_LEASE_HELD)
			continue;
		/* What an earlier instance did under it is not known: look at release. */
		d->prefixes[p] = (struct txcd_prefix){
			.lease = { .state = TXCD_ORPHANED, .uid = l.uid, .deadline_ns = deadline },
			.ids_canceled = true, .ids_counted = true,
			.ids_unindexed = d->prefixes[p].ids_unindexed,	/* cancelindex.c */
		};
		n_orphans++;
	}
	for (__u32 s = 1; s < TXC_MAX_SOURCES; s++) {
		if (bpf_map_lookup_elem(d->source_lease_fd, &s, &l) || l.state != TXC_LEASE_HELD)
			continue;
		d->sources[s] = (struct txcd_source){
			.lease = { .state = TXCD_ORPHANED, .uid = l.uid, .deadline_ns = deadline },
		};
		txcd_account_load(d, s);
		n_orphans++;
	}
	err = txcd_rules_walk(d->dp, count_rule, &rc);
	if (err < 0)
		return err;
	if (rc.failed)
		txdp_log(TXDP_LOG_WARN, "%u rules could not be indexed: their release will not find "
			"them\n", rc.failed);
	for (__u32 p = TXC_PREFIX_MIN; p <= TXC_PREFIX_MAX; p++) {
		struct txcd_prefix *pr = &d->prefixes[p];
		struct txcd_user *u;

		if (pr->lease.state == TXCD_FREE) {
			/*
			 * Left behind by an instance that died mid-release: an
			 * orphan nobody can claim, released on the first tick.
			 */
			if (!rc.seen[p])
				continue;
			*pr = (struct txcd_prefix){
				.lease.state = TXCD_ORPHANED, .rules = pr->rules,
				.ids_canceled = true, .ids_counted = true,
				.ids_unindexed = pr->ids_unindexed,
			};
		}
		u = txcd_user_get(d, pr->lease.uid);
		if (u) {
			u->prefixes++;
			u->rules += pr->rules;
		}
	}
	for (__u32 s = 1; s < TXC_MAX_SOURCES; s++) {
		struct txcd_user *u;

		if (d->sources[s].lease.state != TXCD_ORPHANED)
			continue;
		u = txcd_user_get(d, d->sources[s].lease.uid);
		if (u)
			u->sources++;
	}
	if (n_orphans)
		txdp_log(TXDP_LOG_INFO, "found %u leases of an earlier instance; their owners have "
			"%u s to claim them\n", n_orphans, d->opts.grace_s);
	return 0;
}

int txcd_leases_open(struct txcd *d)
{
	int err = txcd_ruleindex_open(d);

	if (!err)
		err = txcd_cancelindex_open(d);
	if (err)
		return err;
	d->prefix_lease_fd = lease_map_open(d, "prefix_leases", TXC_NR_PREFIXES,
					    sizeof(struct txcd_lease_pin));
	if (d->prefix_lease_fd < 0)
		return d->prefix_lease_fd;
	d->source_lease_fd = lease_map_open(d, "source_leases", TXC_MAX_SOURCES,
					    sizeof(struct txcd_lease_pin));
	if (d->source_lease_fd < 0)
		return d->source_lease_fd;
	d->source_account_fd = lease_map_open(d, "source_accounts", TXC_MAX_SOURCES,
					      sizeof(struct txcd_account));
	if (d->source_account_fd < 0)
		return d->source_account_fd;
	return leases_load(d);
}

void txcd_leases_close(struct txcd *d, bool unpin)
{
	char path[PATH_MAX + 32];

	if (d->prefix_lease_fd > 0)
		close(d->prefix_lease_fd);
	if (d->source_lease_fd > 0)
		close(d->source_lease_fd);
	if (d->source_account_fd > 0)
		close(d->source_account_fd);
	txcd_ruleindex_close(d);
	txcd_cancelindex_close(d);
	if (!unpin || !d->dp)
		return;
	snprintf(path, sizeof(path), "%s/daemon/prefix_leases", txdp_pin_dir(d->dp));
	unlink(path);
	snprintf(path, sizeof(path), "%s/daemon/source_leases", txdp_pin_dir(d->dp));
	unlink(path);
	snprintf(path, sizeof(path), "%s/daemon/source_accounts", txdp_pin_dir(d->dp));
	unlink(path);
	snprintf(path, sizeof(path), "%s/daemon", txdp_pin_dir(d->dp));
	rmdir(path);
}

struct txcd_user *txcd_user_get(struct txcd *d, uid_t uid)
{
	struct txcd_user *u;

	for (u = d->users; u; u = u->next)
		if (u->uid == uid)
			return u;
	u = calloc(1, sizeof(*u));
	if (!u)
		return NULL;
	u->uid = uid;
	u->next = d->users;
	d->users = u;
	return u;
}

void txcd_account_load(struct txcd *d, __u32 source)
{
	struct txcd_account *a = &d->sources[source].acct;

	if (bpf_map_lookup_elem(d->source_account_fd, &source, a))
		memset(a, 0, sizeof(*a));
}

static bool is_root(const struct txcd_conn *c)
{
	return c->uid == 0;
}

#define LEASE_LOG_PER_S		5	/* lease events of one user logged in a second */

/*
 * One user's lease events: the first few of every second are logged, the
 * rest counted and summed up in one line when the next second's first
 * event or tick comes, so that a user churning leases cannot flood the log.
 */
static void lease_log(struct txcd *d, uid_t uid, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void lease_log(struct txcd *d, uid_t uid, const char *fmt, ...)
{
	struct txcd_user *u = txcd_user_get(d, uid);
	__u64 now = txcd_now_ns();
	char line[160];
	va_list ap;

	if (u && now - u->log_window_ns >= 1000000000ull) {
		if (u->log_unlogged)
			txdp_log(TXDP_LOG_INFO, "uid %u: %u more lease events not logged\n", uid,
				u->log_unlogged);
		u->log_window_ns = now;
		u->log_in_window = 0;
		u->log_unlogged = 0;
	}
	if (u && u->log_in_window++ >= LEASE_LOG_PER_S) {
		u->log_unlogged++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	txdp_log(TXDP_LOG_INFO, "%s", line);
}

/* On the tick: the sums of the last second's unlogged events, not one left out. */
void txcd_lease_log_flush(struct txcd *d)
{
	__u64 now = txcd_now_ns();

	for (struct txcd_user *u = d->users; u; u = u->next) {
		if (!u->log_unlogged || now - u->log_window_ns < 1000000000ull)
			continue;
		txdp_log(TXDP_LOG_INFO, "uid %u: %u more lease events not logged\n", u->uid,
			u->log_unlogged);
		u->log_window_ns = now;
		u->log_in_window = 0;
		u->log_unlogged = 0;
	}
}

/*
 * New leases of a user (claims excepted) at most --max-lease-rate a second,
 * in bursts of as many: each one is a few map updates and, for a source, a
 * ring made and later removed by the ring thread.  Past it the request is
 * refused (-EAGAIN) and costs nothing more.
 */
static int lease_rate_ok(struct txcd *d, struct txcd_conn *c, char *why, size_t why_len)
{
	__u64 now = txcd_now_ns(), step, burst;
	__u32 rate = d->opts.max_lease_rate;
	struct txcd_user *u = c->user;

	if (is_root(c) || !rate)
		return 0;
	step = 1000000000ull / rate;
	burst = 1000000000ull;
	if (u->lease_due_ns < now)
		u->lease_due_ns = now;
	if (u->lease_due_ns - now >= burst) {
		snprintf(why, why_len, "uid %u opens prefixes and sources faster than %u a second, "
			 "the per-user limit (--max-lease-rate): try again later", c->uid, rate);
		return -EAGAIN;
	}
	u->lease_due_ns += step;
	return 0;
}

/* Held or orphaned, and @c's user's (root: anyone's). */
static bool lease_ours(const struct txcd_lease *l, const struct txcd_conn *c)
{
	return (l->state == TXCD_HELD || l->state == TXCD_ORPHANED) &&
	       (l->uid == c->uid || is_root(c));
}

bool txcd_may_prefix(const struct txcd *d, const struct txcd_conn *c, __u32 prefix)
{
	return TXC_PREFIX_VALID(prefix) && lease_ours(&d->prefixes[prefix].lease, c);
}

bool txcd_may_source(const struct txcd *d, const struct txcd_conn *c, __u32 source)
{
	return TXC_SOURCE_VALID(source) && lease_ours(&d->sources[source].lease, c);
}

void txcd_rules_changed(struct txcd *d, const struct txc_tag *tag, int delta)
{
	struct txcd_prefix *p = &d->prefixes[TXC_ID_PREFIX(tag->cancel_id)];
	struct txcd_user *u = txcd_user_get(d, p->lease.uid);

	p->rules += delta;
	if (tag->source < TXC_MAX_SOURCES)
		d->sources[tag->source].rules += delta;
	if (u)
		u->rules += delta;
}

void txcd_rule_added(struct txcd *d, __u8 kind, const void *key, const struct txc_tag *tag)
{
	int err = txcd_ruleindex_add(d, kind, key, tag);

	/* Only a closing prefix or source could then leave it behind: say so. */
	if (err)
		txdp_log(TXDP_LOG_WARN, "indexing the rule of ID 0x%08x: %s (its release will not "
			"find it)\n", tag->cancel_id, strerror(-err));
	txcd_rules_changed(d, tag, 1);
}

void txcd_rule_removed(struct txcd *d, __u8 kind, const void *key, const struct txc_tag *tag)
{
	txcd_ruleindex_del(d, kind, key);
	txcd_rules_changed(d, tag, -1);
}

void txcd_prefix_ids_used(struct txcd *d, __u32 prefix, bool counter)
{
	struct txcd_prefix *p = &d->prefixes[prefix & 0xff];

	if (counter)
		p->ids_counted = true;
	else
		p->ids_canceled = true;
}

/* Next-fit, so that a freed number is not handed out again at once. */
static __u32 next_free(__u32 *cursor, __u32 min, __u32 max, bool (*is_free)(struct txcd *, __u32),
		       struct txcd *d)
{
	for (__u32 i = 0; i <= max - min; i++) {
		__u32 n = min + (*cursor - min + 1 + i) % (max - min + 1);

		if (is_free(d, n)) {
			*cursor = n;
			return n;
		}
	}
	return 0;
}

static bool prefix_is_free(struct txcd *d, __u32 p)
{
	return d->prefixes[p].lease.state == TXCD_FREE;
}

/* @c holds lease @n of the pinned map @fd from now on; @how: claimed, allocated, opened. */
static void lease_hold(struct txcd *d, struct txcd_lease *l, int fd, const char *what, __u32 n,
		       struct txcd_conn *c, const char *how)
{
	*l = (struct txcd_lease){ .state = TXCD_HELD, .uid = c->uid, .conn = c };
	lease_store(fd, n, TXCD_HELD, c->uid);
	lease_log(d, c->uid, "%s %u: %s by client %u (uid %u)\n", what, n, how, c->id, c->uid);
}

/*
 * Taking a specific number: free, or an orphan of the same user (claim after
 * a restart).  Returns 0 or -errno with @why filled.
 */
static int may_take(const struct txcd_lease *l, const struct txcd_conn *c, const char *what,
		    __u32 n, char *why, size_t why_len)
{
	enum txcd_lease_state state = l->state;
	uid_t owner = l->uid;

	if (state == TXCD_FREE)
		return 0;
	if (state == TXCD_RELEASING) {
		snprintf(why, why_len, "%s %u is being released: its rules are being removed; "
			 "try again in a moment", what, n);
		return -EBUSY;
	}
	if (state == TXCD_ORPHANED && (owner == c->uid || is_root(c)))
		return 0;
	if (state == TXCD_ORPHANED) {
		snprintf(why, why_len, "%s %u is an orphaned lease of uid %u: only that user "
			 "can claim it", what, n, owner);
		return -EPERM;
	}
	snprintf(why, why_len, "%s %u is held by %s", what, n,
		 owner == c->uid ? "a connection of yours" : "another user");
	return -EBUSY;
}

int txcd_prefix_alloc(struct txcd *d, struct txcd_conn *c, __u32 want, __u32 *prefix,
		      char *why, size_t why_len)
{
	static __u32 cursor = TXC_PREFIX_MAX;
	struct txcd_prefix *p;
	bool claim = false;
	int err;

	if (want) {
		p = &d->prefixes[want];
		err = may_take(&p->lease, c, "prefix", want, why, why_len);
		if (err)
			return err;
		claim = p->lease.state == TXCD_ORPHANED;
	}
	if (!claim && !is_root(c) && c->user->prefixes >= d->opts.max_prefixes) {
		snprintf(why, why_len, "uid %u holds %u prefixes, the per-user limit",
			 c->uid, c->user->prefixes);
		return -EDQUOT;
	}
	if (!claim) {
		err = lease_rate_ok(d, c, why, why_len);
		if (err)
			return err;
	}
	if (!want) {
		want = next_free(&cursor, TXC_PREFIX_MIN, TXC_PREFIX_MAX, prefix_is_free, d);
		if (!want) {
			snprintf(why, why_len, "all %u prefixes are held: free one or wait for a "
				 "client to close", TXC_PREFIX_MAX);
			return -ENOSPC;
		}
	}
	p = &d->prefixes[want];
	if (claim) {
		struct txcd_user *old = txcd_user_get(d, p->lease.uid);

		/* Root may claim another user's orphan: move the accounting. */
		if (old && old != c->user) {
			old->prefixes--;
			old->rules -= p->rules;
			c->user->prefixes++;
			c->user->rules += p->rules;
		}
	} else {
		c->user->prefixes++;
	}
	lease_hold(d, &p->lease, d->prefix_lease_fd, "prefix", want, c,
		   claim ? "claimed" : "allocated");
	*prefix = want;
	return 0;
}

void txcd_prefix_released(struct txcd *d, __u32 prefix)
{
	struct txcd_prefix *p = &d->prefixes[prefix];
	struct txcd_user *u = txcd_user_get(d, p->lease.uid);

	if (u) {
		u->prefixes--;
		u->rules -= p->rules;
	}
	lease_log(d, p->lease.uid, "prefix %u: released (%u rules removed)\n", prefix, p->rules);
	*p = (struct txcd_prefix){ .lease.state = TXCD_FREE };
	lease_store(d->prefix_lease_fd, prefix, TXCD_FREE, 0);
}

/* Numbers neither held nor orphaned (some may wait for their old ring to go). */
__u32 txcd_sources_free(const struct txcd *d)
{
	__u32 n = 0;

	for (__u32 s = 1; s < TXC_MAX_SOURCES; s++)
		n += d->sources[s].lease.state == TXCD_FREE;
	return n;
}

int txcd_source_may_open(struct txcd *d, struct txcd_conn *c, __u32 want, bool *claim,
			 char *why, size_t why_len)
{
	struct txcd_source *s;
	int err;

	*claim = false;
	if (want) {
		s = &d->sources[want];
		err = may_take(&s->lease, c, "source", want, why, why_len);
		if (err)
			return err;
		*claim = s->lease.state == TXCD_ORPHANED;
		if (!*claim && s->lease.state == TXCD_FREE) {
			snprintf(why, why_len, "source %u is not an orphaned lease: open a new "
				 "source with 0", want);
			return -ENOENT;
		}
	}
	if (!*claim && !is_root(c) && c->user->sources >= d->opts.max_sources) {
		snprintf(why, why_len, "uid %u has %u sources open, the per-user limit",
			 c->uid, c->user->sources);
		return -EDQUOT;
	}
	if (!*claim && !c->resumed)
		return lease_rate_ok(d, c, why, why_len);
	return 0;
}

void txcd_source_hold(struct txcd *d, struct txcd_conn *c, __u32 source, bool claim)
{
	struct txcd_source *s = &d->sources[source];

	if (claim) {
		struct txcd_user *old = txcd_user_get(d, s->lease.uid);

		if (old && old != c->user) {
			old->sources--;
			c->user->sources++;
		}
	} else {
		c->user->sources++;
	}
	lease_hold(d, &s->lease, d->source_lease_fd, "source", source, c,
		   claim ? "claimed" : "opened");
}

void txcd_source_released(struct txcd *d, __u32 source)
{
	struct txcd_source *s = &d->sources[source];
	struct txcd_user *u = txcd_user_get(d, s->lease.uid);

	if (u)
		u->sources--;
	lease_log(d, s->lease.uid, "source %u: closed\n", source);
	*s = (struct txcd_source){ .lease.state = TXCD_FREE };
	lease_store(d->source_lease_fd, source, TXCD_FREE, 0);
}
