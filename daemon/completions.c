// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Completions: each source's BPF ring is read into the bounded backlog of
 * every subscription to that source, and backlogs are sent to their
 * connections in batches (TXC_MSG_COMPLETIONS) whenever the socket takes
 * them.
 *
 * Nothing is dropped silently.  A record is read from the ring only while
 * some subscriber has room for it; otherwise it stays in the ring and any
 * overflow is counted by the datapath as a lost report of that source.  A
 * subscriber that is full while another is not misses the record and counts
 * it in its own backlog_lost.  Every batch carries the running account, so
 * a client can check aborted = delivered + ring_lost + backlog_lost.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include "txcanceld.h"
#include "ringbuf.h"

#define RING_READ_PER_TURN	4096	/* records per source per loop turn */

static void ring_arm(struct txcd *d, __u32 source, bool armed)
{
	struct txcd_source *s = &d->sources[source];
	struct epoll_event ev = {
		.events = armed ? EPOLLIN : 0,
		.data.u64 = TXCD_EV(TXCD_FD_RING, source),
	};

	if (!s->ring || s->ring_armed == armed)
		return;
	if (epoll_ctl(d->epfd, EPOLL_CTL_MOD, txcd_ring_fd(s->ring), &ev))
		txc_log(TXC_LOG_WARN, "source %u: epoll: %s\n", source, strerror(errno));
	else
		s->ring_armed = armed;
}

int txcd_ring_attach(struct txcd *d, __u32 source)
{
	struct txcd_source *s = &d->sources[source];
	struct epoll_event ev = { .events = 0, .data.u64 = TXCD_EV(TXCD_FD_RING, source) };
	int fd, err;

	if (s->ring)
		return 0;
	fd = txc_dp_ring_open(d->dp, source);
	if (fd < 0)
		return fd;
	err = txcd_ring_open(&s->ring, fd);
	if (err) {
		close(fd);
		return err;
	}
	if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, txcd_ring_fd(s->ring), &ev)) {
		err = -errno;
		txcd_ring_close(s->ring);
		s->ring = NULL;
		return err;
	}
	s->ring_armed = false;
	return 0;
}

void txcd_ring_detach(struct txcd *d, __u32 source)
{
	struct txcd_source *s = &d->sources[source];

	if (!s->ring)
		return;
	epoll_ctl(d->epfd, EPOLL_CTL_DEL, txcd_ring_fd(s->ring), NULL);
	txcd_ring_close(s->ring);
	s->ring = NULL;
	s->ring_armed = false;
}

static bool sub_has_room(const struct txcd *d, const struct txcd_sub *sub)
{
	return sub->count < d->opts.backlog;
}

static bool any_room(const struct txcd *d, const struct txcd_source *s)
{
	for (const struct txcd_sub *sub = s->subs; sub; sub = sub->next_in_source)
		if (sub_has_room(d, sub))
			return true;
	return false;
}

struct fanout {
	struct txcd *d;
	struct txcd_source *s;
};

static bool fan_out(void *ctx, const void *data, size_t len)
{
	struct fanout *f = ctx;
	struct txc_abort_record rec;

	if (!any_room(f->d, f->s))
		return false;
	/* A record of another size is not ours to interpret: pass it as zeroes + header. */
	memset(&rec, 0, sizeof(rec));
	memcpy(&rec, data, len < sizeof(rec) ? len : sizeof(rec));
	for (struct txcd_sub *sub = f->s->subs; sub; sub = sub->next_in_source) {
		if (!sub_has_room(f->d, sub)) {
			sub->backlog_lost++;
			sub->account_changed = true;
			continue;
		}
		sub->recs[(sub->head + sub->count) % f->d->opts.backlog] = rec;
		sub->count++;
	}
	f->s->delivered++;
	return true;
}

size_t txcd_ring_event(struct txcd *d, __u32 source)
{
	struct txcd_source *s = &d->sources[source];
	struct fanout f = { d, s };
	size_t n;

	if (!s->ring)
		return 0;
	n = txcd_ring_read(s->ring, RING_READ_PER_TURN, fan_out, &f);
	if (!s->subs || !any_room(d, s))
		ring_arm(d, source, false);
	for (struct txcd_sub *sub = s->subs; sub; sub = sub->next_in_source)
		txcd_deliver(d, sub->conn);
	return n;
}

/*
 * Each subscription may hold opts.backlog records, so the number of them is
 * what bounds the completions a user can make the daemon keep.
 */
int txcd_subscribe(struct txcd *d, struct txcd_conn *c, __u32 source, char *why,
		   size_t why_len)
{
	struct txcd_source *s = &d->sources[source];
	struct txcd_sub *sub;

	for (sub = c->subs; sub; sub = sub->next_in_conn) {
		if (sub->source == source) {
			if (why)
				snprintf(why, why_len, "subscribing to source %u: already "
					 "subscribed", source);
			return -EALREADY;
		}
	}
	if (c->uid != 0 && c->user->subs >= d->opts.max_subs) {
		if (why)
			snprintf(why, why_len, "uid %u has %u subscriptions, the per-user limit "
				 "(--max-subs)", c->uid, c->user->subs);
		return -EDQUOT;
	}
	sub = calloc(1, sizeof(*sub));
	if (!sub)
		return -ENOMEM;
	sub->recs = calloc(d->opts.backlog, sizeof(*sub->recs));
	if (!sub->recs) {
		free(sub);
		return -ENOMEM;
	}
	sub->conn = c;
	sub->source = source;
	sub->next_in_conn = c->subs;
	c->subs = sub;
	sub->next_in_source = s->subs;
	s->subs = sub;
	c->user->subs++;
	ring_arm(d, source, true);
	return 0;
}

static void sub_unlink(struct txcd_sub **head, struct txcd_sub *sub, bool by_source)
{
	for (struct txcd_sub **pp = head; *pp;
	     pp = by_source ? &(*pp)->next_in_source : &(*pp)->next_in_conn) {
		if (*pp == sub) {
			*pp = by_source ? sub->next_in_source : sub->next_in_conn;
			return;
		}
	}
}

int txcd_unsubscribe(struct txcd *d, struct txcd_conn *c, __u32 source)
{
	struct txcd_sub *sub;

	for (sub = c->subs; sub; sub = sub->next_in_conn)
		if (sub->source == source)
			break;
	if (!sub)
		return -ENOENT;
	sub_unlink(&c->subs, sub, false);
	sub_unlink(&d->sources[source].subs, sub, true);
	c->user->subs--;
	free(sub->recs);
	free(sub);
	if (!d->sources[source].subs)
		ring_arm(d, source, false);
	else if (any_room(d, &d->sources[source]))
		ring_arm(d, source, true);
	return 0;
}

void txcd_subs_drop_conn(struct txcd *d, struct txcd_conn *c)
{
	while (c->subs)
		txcd_unsubscribe(d, c, c->subs->source);
}

__u64 txcd_conn_backlog(const struct txcd_conn *c)
{
	__u64 n = 0;

	for (const struct txcd_sub *sub = c->subs; sub; sub = sub->next_in_conn)
		n += sub->count;
	return n;
}

static void source_totals(struct txcd *d, __u32 source, struct txc_source_stats *st)
{
	if (txc_dp_source_stats(d->dp, source, st))
		memset(st, 0, sizeof(*st));
}

/* Send one batch of @sub; false when the socket is full (or gone). */
static bool send_batch(struct txcd *d, struct txcd_sub *sub)
{
	static __u8 buf[sizeof(struct txc_msg_hdr) + sizeof(struct txc_ev_completions) +
			TXC_COMPLETIONS_MAX * sizeof(struct txc_abort_record)];
	struct txc_msg_hdr *h = (void *)buf;
	struct txc_ev_completions *ev = (void *)(h + 1);
	struct txc_abort_record *recs = (void *)(ev + 1);
	__u32 cap = d->opts.backlog;
	__u32 n = sub->count < TXC_COMPLETIONS_MAX ? sub->count : TXC_COMPLETIONS_MAX;
	__u32 first = n < cap - sub->head ? n : cap - sub->head;
	struct txc_source_stats st;
	size_t len = sizeof(*h) + sizeof(*ev) + n * sizeof(*recs);

	source_totals(d, sub->source, &st);
	memcpy(recs, &sub->recs[sub->head], first * sizeof(*recs));
	memcpy(recs + first, sub->recs, (n - first) * sizeof(*recs));
	*h = (struct txc_msg_hdr){
		.magic = TXC_PROTO_MAGIC,
		.version = TXC_PROTO_VERSION,
		.type = TXC_MSG_COMPLETIONS,
		.flags = TXC_MSG_F_EVENT,
		.length = len,
	};
	*ev = (struct txc_ev_completions){
		.source = sub->source,
		.count = n,
		.aborted = st.aborted_frames,
		.ring_lost = st.lost_reports,
		.delivered = sub->delivered + n,
		.backlog_lost = sub->backlog_lost,
	};
	if (send(sub->conn->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
		if (errno != EAGAIN && errno != ENOBUFS)
			sub->conn->dead = true;
		return false;
	}
	sub->head = (sub->head + n) % cap;
	sub->count -= n;
	sub->delivered += n;
	sub->reported_ring_lost = st.lost_reports;
	sub->account_changed = false;
	return true;
}

void txcd_deliver(struct txcd *d, struct txcd_conn *c)
{
	if (c->dead || c->out_head)
		return;		/* replies first, in order */
	for (struct txcd_sub *sub = c->subs; sub; sub = sub->next_in_conn) {
		bool was_full = !sub_has_room(d, sub);

		while (sub->count || sub->account_changed) {
			if (!send_batch(d, sub)) {
				if (!c->dead) {
					/* Wake up when the socket drains. */
					struct epoll_event ev = {
						.events = EPOLLIN | EPOLLOUT,
						.data.u64 = TXCD_EV(TXCD_FD_CONN, c->id),
					};

					if (!c->want_out && !epoll_ctl(d->epfd, EPOLL_CTL_MOD,
								       c->fd, &ev))
						c->want_out = true;
				}
				return;
			}
		}
		if (was_full || sub_has_room(d, sub))
			ring_arm(d, sub->source, true);
	}
}

/* Called on the periodic tick: report ring losses nobody has heard of yet. */
void txcd_check_ring_losses(struct txcd *d)
{
	for (struct txcd_conn *c = d->conns; c; c = c->next) {
		for (struct txcd_sub *sub = c->subs; sub; sub = sub->next_in_conn) {
			struct txc_source_stats st;

			source_totals(d, sub->source, &st);
			if (st.lost_reports != sub->reported_ring_lost)
				sub->account_changed = true;
		}
		txcd_deliver(d, c);
	}
}
