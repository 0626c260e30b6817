// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The requests that change nothing: lists, statistics, status, explain
 * and metrics.  Each shows a caller only what it may see.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include "requests.h"
#include "qdisc.h"

#define LIST_ROOM(entry) \
	((TXC_MSG_MAX - TXCD_HDR - sizeof(struct txc_rep_list)) / sizeof(entry))

int txcd_do_prefix_list(struct txcd_req *r)
{
	struct txc_rep_list *list = r->rep;
	struct txc_prefix_info *e = (void *)(list + 1);
	__u32 n = 0;

	for (__u32 p = TXC_PREFIX_MIN; p <= TXC_PREFIX_MAX; p++) {
		const struct txcd_prefix *pr = &r->d->prefixes[p];

		if (!txcd_may_prefix(r->d, r->c, p))
			continue;
		e[n++] = (struct txc_prefix_info){
			.prefix = p,
			.state = pr->lease.state,
			.uid = pr->lease.uid,
			.conn_id = pr->lease.state == TXCD_HELD ? pr->lease.conn->id : 0,
			.rules = pr->rules,
		};
	}
	*list = (struct txc_rep_list){ .count = n };
	r->rep_len = sizeof(*list) + n * sizeof(*e);
	return 0;
}

static void source_entry(struct txcd *d, __u32 s, struct txc_stats_entry *e)
{
	const struct txcd_source *src = &d->sources[s];
	struct txc_source_stats st;

	memset(e, 0, sizeof(*e));
	e->scope = TXC_SCOPE_SOURCE;
	e->value = s;
	e->uid = src->lease.uid;
	if (!txdp_source_stats(d->dp, s, &st)) {
		e->counts = (struct txc_counters){
			st.passed_frames, st.passed_bytes, st.aborted_frames, st.aborted_bytes,
		};
		e->ring_lost = st.lost_reports;
	}
	/* The owner's account: it alone is kept across restarts. */
	e->delivered = src->acct.delivered;
	e->backlog_lost = src->acct.backlog_lost;
	for (const struct txcd_sub *sub = src->subs; sub; sub = sub->next_in_source)
		e->subscribers++;
}

static void id_entry(struct txcd *d, __u32 id, const struct txc_counters *counts,
		     struct txc_stats_entry *e)
{
	memset(e, 0, sizeof(*e));
	e->scope = TXC_SCOPE_ID;
	e->value = id;
	e->uid = d->prefixes[TXC_ID_PREFIX(id)].lease.uid;
	e->counts = *counts;
}


struct stats_fill {
	struct txcd_req *r;
	struct txc_stats_entry *e;
	__u32 n, room;
};

/* The counted IDs the caller may see, while the reply has room. */
static int stats_fill_one(void *ctx, __u32 id, const struct txc_counters *counts)
{
	struct stats_fill *f = ctx;

	if (txcd_may_prefix(f->r->d, f->r->c, TXC_ID_PREFIX(id)))
		id_entry(f->r->d, id, counts, &f->e[f->n++]);
	return f->n == f->room;
}

/* One entry: @value's (a source or a counted ID of the caller's). */
static int stats_one(struct txcd_req *r, const struct txc_req_stats *req,
		     struct txc_stats_entry *e)
{
	__u32 field = TXCD_HDR + TXCD_OFF(struct txc_req_stats, value);
	struct txc_counters counts = {};
	struct txc_id_stats st;
	int ret = txcd_need_scope(r->d, r->c, req->scope, req->value, field, &r->err);

	if (ret)
		return ret;
	if (req->scope == TXC_SCOPE_SOURCE) {
		source_entry(r->d, req->value, e);
		return 0;
	}
	if (txdp_id_counters(r->d->dp, req->value, &st))
		return txcd_error(&r->err, -ENOENT, field, "cancel ID 0x%08x is not counted: "
				  "start with COUNT_ID", req->value);
	txcd_add_counts(&counts, &st);
	id_entry(r->d, req->value, &counts, e);
	return 0;
}

int txcd_do_stats(struct txcd_req *r)
{
	const struct txc_req_stats *req = r->body;
	struct txc_rep_list *list = r->rep;
	struct stats_fill f = { .r = r, .e = (void *)(list + 1), .room = LIST_ROOM(*f.e) };
	int ret;

	if (req->value) {
		ret = stats_one(r, req, f.e);
		if (ret)
			return ret;
		f.n = 1;
	} else if (req->scope == TXC_SCOPE_SOURCE) {
		for (__u32 s = 1; s < TXC_MAX_SOURCES && f.n < f.room; s++)
			if (txcd_may_source(r->d, r->c, s))
				source_entry(r->d, s, &f.e[f.n++]);
	} else {
		/* A walk that fails lists what it got so far, as a full reply does. */
		txcd_id_stats_walk(r->d, stats_fill_one, &f);
	}
	*list = (struct txc_rep_list){ .count = f.n };
	r->rep_len = sizeof(*list) + f.n * sizeof(*f.e);
	return 0;
}

int txcd_do_status(struct txcd_req *r)
{
	struct txcd *d = r->d;
	struct txc_rep_status *st = r->rep;
	struct txc_status_iface *fi = (void *)(st + 1);
	struct txc_status_client *fc;
	__u32 n_clients = 0, room;

	memset(st, 0, sizeof(*st));
	st->pid = getpid();
	st->mark_mask = d->opts.mark_mask;
	st->uptime_ns = txcd_now_ns() - d->start_ns;
	snprintf(st->pin_dir, sizeof(st->pin_dir), "%s", txdp_pin_dir(d->dp));
	snprintf(st->socket_path, sizeof(st->socket_path), "%s", d->opts.socket_path);
	for (__u32 p = TXC_PREFIX_MIN; p <= TXC_PREFIX_MAX; p++)
		st->n_prefixes += d->prefixes[p].lease.state != TXCD_FREE;
	for (__u32 s = 1; s < TXC_MAX_SOURCES; s++)
		st->n_sources += d->sources[s].lease.state != TXCD_FREE;
	for (__u32 i = 0; i < d->n_ifaces; i++) {
		const struct txcd_iface *ifc = &d->ifaces[i];
		struct txc_iface state = {};

		memset(&fi[i], 0, sizeof(fi[i]));
		memcpy(fi[i].name, ifc->name, sizeof(fi[i].name));
		fi[i].ifindex = ifc->ifindex;
		fi[i].hooks = ifc->hooks;
		if (ifc->ifindex && !txdp_iface_get(d->dp, ifc->ifindex, &state)) {
			fi[i].slot = state.slot;
			fi[i].flags = state.flags;
		}
		if (ifc->ifindex)
			fi[i].flags |= TXC_STATUS_IFACE_PRESENT;
	}
	st->n_ifaces = d->n_ifaces;
	fc = (void *)(fi + d->n_ifaces);
	room = (TXC_MSG_MAX - TXCD_HDR - sizeof(*st) - d->n_ifaces * sizeof(*fi)) / sizeof(*fc);
	for (struct txcd_conn *c = d->conns; c && n_clients < room; c = c->next) {
		struct txc_status_client *e = &fc[n_clients++];

		*e = (struct txc_status_client){
			.conn_id = c->id, .uid = c->uid, .pid = c->pid,
			.backlog = txcd_conn_backlog(d, c),
		};
		for (__u32 p = TXC_PREFIX_MIN; p <= TXC_PREFIX_MAX; p++)
			e->prefixes += txcd_lease_held_by(&d->prefixes[p].lease, c);
		for (__u32 s = 1; s < TXC_MAX_SOURCES; s++)
			e->sources += txcd_lease_held_by(&d->sources[s].lease, c);
		for (struct txcd_sub *sub = c->subs; sub; sub = sub->next_in_conn)
			e->subscriptions++;
	}
	st->n_clients = n_clients;
	r->rep_len = sizeof(*st) + d->n_ifaces * sizeof(*fi) + n_clients * sizeof(*fc);
	return 0;
}

/* Whether txcancel's qdisc holds @ifindex's queues: a cancel reaches them too. */
static bool explain_qdisc(struct txcd *d, __u32 ifindex)
{
	struct txc_iface state;

	return !txdp_iface_get(d->dp, ifindex, &state) && (state.flags & TXC_IFACE_F_QDISC);
}

int txcd_do_explain(struct txcd_req *r)
{
	const struct txc_req_explain *req = r->body;
	struct txc_rep_explain *rep = r->rep;
	struct txc_explain_result res;
	__u32 ifindex = 0;
	int ret;

	if (req->ifname[0] && !(ifindex = if_nametoindex(req->ifname)))
		return txcd_error(&r->err, -ENODEV,
				  TXCD_HDR + TXCD_OFF(struct txc_req_explain, ifname),
				  "no interface %s here", req->ifname);
	ret = txdp_explain(r->d->dp, req->frame, req->frame_len, req->mark, ifindex, &res);
	if (ret)
		return txcd_error(&r->err, ret, TXC_FIELD_NONE,
				  "running the frame through the program: %s",
				  txdp_strerror(r->d->dp, ret));
	*rep = (struct txc_rep_explain){
		.cancel_id = res.cancel_id,
		.source = res.source,
		.tag_kind = res.tag_kind,
		.scope = res.scope,
		.verdict = res.verdict,
		.flags = res.flags,
		.frame = res.frame,
	};
	if (ifindex && explain_qdisc(r->d, ifindex))
		rep->flags |= TXC_EXPLAIN_F_QDISC;
	return 0;
}

/* Interfaces' counters from the datapath, requests' from the daemon. */
int txcd_do_metrics(struct txcd_req *r)
{
	struct txcd *d = r->d;
	struct txc_rep_metrics *m = r->rep;
	struct txc_metrics_iface *mi = (void *)(m + 1);
	struct txc_metrics_request *mr = (void *)(mi + d->n_ifaces);

	*m = (struct txc_rep_metrics){
		.n_ifaces = d->n_ifaces, .n_requests = TXC_MSG_REQUEST_MAX + 1,
		.flags = d->opts.iface_counters ? TXC_METRICS_F_IFACE_COUNTERS : 0,
		.uptime_ns = txcd_now_ns() - d->start_ns,
	};
	for (__u32 i = 0; i < d->n_ifaces; i++) {
		const struct txcd_iface *ifc = &d->ifaces[i];
		struct txc_iface_stats st;

		memset(&mi[i], 0, sizeof(mi[i]));
		memcpy(mi[i].name, ifc->name, sizeof(mi[i].name));
		mi[i].ifindex = ifc->ifindex;
		if (ifc->ifindex && !txdp_iface_counters(d->dp, ifc->ifindex, &st))
			mi[i].counts = (struct txc_counters){
				.passed_frames = st.passed_frames, .passed_bytes = st.passed_bytes,
				.aborted_frames = st.aborted_frames,
				.aborted_bytes = st.aborted_bytes,
			};
	}
	for (__u32 t = 0; t <= TXC_MSG_REQUEST_MAX; t++)
		mr[t] = (struct txc_metrics_request){
			.type = t, .requests = d->req_count[t], .errors = d->req_errors[t],
		};
	r->rep_len = sizeof(*m) + d->n_ifaces * sizeof(*mi) +
		     (TXC_MSG_REQUEST_MAX + 1) * sizeof(*mr);
	return 0;
}


/* One interface's abort places: the hook's from its counters, the queues' from the qdisc's. */
static void abort_places_of(struct txcd *d, const struct txcd_iface *ifc,
			    struct txc_places_iface *pi)
{
	struct txc_queue_info qi[TXC_QDISC_QUEUES_MAX];
	struct txc_iface_stats st;
	struct txc_iface state;
	int n;

	memset(pi, 0, sizeof(*pi));
	memcpy(pi->name, ifc->name, sizeof(pi->name));
	pi->ifindex = ifc->ifindex;
	if (d->opts.iface_counters)
		pi->flags |= TXC_PLACES_F_HOOK_COUNTED;
	if (!ifc->ifindex)
		return;
	if (d->opts.iface_counters && !txdp_iface_counters(d->dp, ifc->ifindex, &st))
		pi->aborted[TXC_AT_HOOK] = st.aborted_frames;
	if (!txdp_iface_get(d->dp, ifc->ifindex, &state) && (state.flags & TXC_IFACE_F_QDISC))
		pi->flags |= TXC_PLACES_F_QDISC;
	n = txdp_qdisc_queues(d->dp, ifc->ifindex, qi, sizeof(qi) / sizeof(qi[0]));
	for (int q = 0; q < n; q++) {
		pi->queues++;
		pi->queued += qi[q].qlen;
		pi->aborted[TXC_AT_ENQUEUE] += qi[q].at_enqueue;
		pi->aborted[TXC_AT_PURGE] += qi[q].at_purge;
		pi->aborted[TXC_AT_DEQUEUE] += qi[q].at_dequeue;
		pi->aborted[TXC_PLACE_RESET] += qi[q].at_reset;
	}
}

/* ABORT_PLACES: where each managed interface's frames were aborted. */
int txcd_do_abort_places(struct txcd_req *r)
{
	struct txcd *d = r->d;
	struct txc_rep_list *l = r->rep;
	struct txc_places_iface *pi = (void *)(l + 1);

	*l = (struct txc_rep_list){ .count = d->n_ifaces };
	for (__u32 i = 0; i < d->n_ifaces; i++)
		abort_places_of(d, &d->ifaces[i], &pi[i]);
	r->rep_len = sizeof(*l) + d->n_ifaces * sizeof(*pi);
	return 0;
}
