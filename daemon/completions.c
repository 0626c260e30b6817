// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Completions: each source's BPF ring is read in batches (TXC_MSG_COMPLETIONS)
 * that go straight to the connections subscribed to it.  The ring is the
 * only queue: the daemon holds no record of its own.
 *
 * Nothing is dropped silently, and a crash loses nothing.  A batch is
 * peeked at, sent to every subscriber whose socket takes it, counted in the
 * source's pinned account, and only then consumed from the ring.  While no
 * subscriber takes it, it stays in the ring and any overflow is counted by
 * the datapath as a lost report of that source.  A subscriber that is full
 * while another takes the batch misses it and counts it in its
 * backlog_lost.  Every batch carries the running account, so a client can
 * check aborted = delivered + ring_lost + backlog_lost.
 *
 * A daemon killed between sending a batch and counting it sends the batch
 * again after its restart (the client sees those sequence numbers twice);
 * one killed between counting and consuming finds the ring behind its
 * account and skips what it counted.  Either way the account stays exact.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include "completions.h"
#include "conn.h"
#include "ringbuf.h"

#define RING_BATCHES_PER_TURN	16	/* batches per source per loop turn */
#define RING_SLOT	txcd_ring_slot(sizeof(struct txc_abort_record))

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
		txdp_log(TXDP_LOG_WARN, "source %u: epoll: %s\n", source, strerror(errno));
	else
		s->ring_armed = armed;
}

static void account_store(struct txcd *d, __u32 source)
{
	if (bpf_map_update_elem(d->source_account_fd, &source, &d->sources[source].acct, BPF_ANY))
		txdp_log(TXDP_LOG_WARN, "source %u: recording its account: %s (a restart would "
			"count from an older one)\n", source, strerror(errno));
}

/*
 * A source that has just been opened starts its account where its ring
 * stands; a claimed one brings the ring up to its account: records the
 * previous instance sent and counted but did not consume yet are skipped.
 */
static void account_sync(struct txcd *d, __u32 source, bool fresh)
{
	struct txcd_source *s = &d->sources[source];
	__u64 cons = txcd_ring_consumer(s->ring);

	if (fresh) {
		s->acct = (struct txcd_account){ .ring_pos = cons };
		account_store(d, source);
	} else if (cons < s->acct.ring_pos) {
		txdp_log(TXDP_LOG_INFO, "source %u: skipping %llu records the previous instance "
			"sent\n", source, (unsigned long long)((s->acct.ring_pos - cons) / RING_SLOT));
		txcd_ring_consume(s->ring, s->acct.ring_pos);
	} else if (cons > s->acct.ring_pos) {
		/* Consumed by a reader that kept no account: its records are lost. */
		__u64 n = (cons - s->acct.ring_pos) / RING_SLOT;

		txdp_log(TXDP_LOG_WARN, "source %u: %llu records were consumed without an account; "
			"counted as backlog_lost\n", source, (unsigned long long)n);
		s->acct.backlog_lost += n;
		s->acct.ring_pos = cons;
		account_store(d, source);
	}
}

int txcd_ring_attach(struct txcd *d, __u32 source, int fd, bool fresh)
{
	struct txcd_source *s = &d->sources[source];
	struct epoll_event ev = { .events = 0, .data.u64 = TXCD_EV(TXCD_FD_RING, source) };
	int err;

	if (s->ring) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	if (fd < 0)
		fd = txdp_ring_open(d->dp, source);
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
	account_sync(d, source, fresh);
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

static bool sub_is_owner(const struct txcd *d, const struct txcd_sub *sub)
{
	return txcd_lease_held_by(&d->sources[sub->source].lease, sub->conn);
}

void txcd_sub_account(const struct txcd *d, const struct txcd_sub *sub, __u64 *delivered,
		      __u64 *backlog_lost)
{
	const struct txcd_account *a = &d->sources[sub->source].acct;

	*delivered = sub_is_owner(d, sub) ? a->delivered : sub->delivered;
	*backlog_lost = sub_is_owner(d, sub) ? a->backlog_lost : sub->backlog_lost;
}

/* Its socket may take a batch now: replies go first, in order. */
static bool sub_ready(const struct txcd_sub *sub)
{
	return !sub->blocked && !sub->conn->dead && !sub->conn->out_head;
}

static bool any_ready(const struct txcd_source *s)
{
	for (const struct txcd_sub *sub = s->subs; sub; sub = sub->next_in_source)
		if (sub_ready(sub))
			return true;
	return false;
}

static void source_totals(struct txcd *d, __u32 source, struct txc_source_stats *st)
{
	if (txdp_source_stats(d->dp, source, st))
		memset(st, 0, sizeof(*st));
}

static __u8 batch_buf[sizeof(struct txc_msg_hdr) + sizeof(struct txc_ev_completions) +
		      TXC_COMPLETIONS_MAX * sizeof(struct txc_abort_record)];

static struct txc_abort_record *batch_recs(void)
{
	return (void *)(batch_buf + sizeof(struct txc_msg_hdr) + sizeof(struct txc_ev_completions));
}

/*
 * The frame bytes of the batch's records (version 2 in the ring), for the
 * subscriptions that asked for them (CAPTURE); batch_recs() holds every
 * record as version 1, as the others get it.
 */
static __u8 batch_bytes[TXC_COMPLETIONS_MAX][TXC_CAPTURE_MAX];
static __u32 batch_cap_len[TXC_COMPLETIONS_MAX];
/* One COMPLETIONS_CAPTURE message, built per subscription. */
static __u8 capture_buf[TXC_MSG_MAX];

static void collect_bytes(__u32 i, struct txc_abort_record *rec, const void *data, size_t len)
{
	__u32 cap = rec->cap_len;

	batch_cap_len[i] = 0;
	if (rec->hdr.version == TXC_RECORD_VERSION_CAPTURE && cap <= TXC_CAPTURE_MAX &&
	    len >= TXC_RECORD_CAPTURE_SIZE(cap)) {
		memcpy(batch_bytes[i], (const __u8 *)data + sizeof(*rec), cap);
		batch_cap_len[i] = cap;
	}
	if (rec->hdr.version == TXC_RECORD_VERSION_CAPTURE) {
		/* What it was before there were bytes, byte for byte. */
		rec->hdr.version = TXC_RECORD_VERSION;
		rec->hdr.size = sizeof(*rec);
		rec->cap_len = 0;
	}
}

/*
 * Records per batch: a COMPLETIONS_CAPTURE message with the source's
 * longest capture must fit in TXC_MSG_MAX.
 */
static size_t batch_max(const struct txcd_source *s)
{
	size_t room = TXC_MSG_MAX - sizeof(struct txc_msg_hdr) - sizeof(struct txc_ev_completions);
	size_t n = room / TXC_RECORD_CAPTURE_SIZE(s->caplen);

	return n < TXC_COMPLETIONS_MAX ? n : TXC_COMPLETIONS_MAX;
}

/*
 * The records of the batch as @sub asked for them: version 2, each with at
 * most sub->caplen bytes of its frame.  Returns the message's length.
 */
static size_t capture_batch(const struct txcd_sub *sub, __u32 n)
{
	size_t off = sizeof(struct txc_msg_hdr) + sizeof(struct txc_ev_completions);

	for (__u32 i = 0; i < n; i++) {
		struct txc_abort_record rec = batch_recs()[i];
		__u32 cap = batch_cap_len[i] < sub->caplen ? batch_cap_len[i] : sub->caplen;
		__u32 size = TXC_RECORD_CAPTURE_SIZE(cap);

		rec.hdr.version = TXC_RECORD_VERSION_CAPTURE;
		rec.hdr.size = size;
		rec.cap_len = cap;
		memcpy(capture_buf + off, &rec, sizeof(rec));
		memcpy(capture_buf + off + sizeof(rec), batch_bytes[i], cap);
		memset(capture_buf + off + sizeof(rec) + cap, 0, size - sizeof(rec) - cap);
		off += size;
	}
	return off;
}

/*
 * Send the @n records in batch_buf to @sub with its account; false when its
 * socket is full (it is then blocked until EPOLLOUT) or gone.
 */
static bool send_batch(struct txcd *d, struct txcd_sub *sub, __u32 n,
		       const struct txc_source_stats *st)
{
	__u8 *msg = sub->caplen ? capture_buf : batch_buf;
	struct txc_msg_hdr *h = (void *)msg;
	struct txc_ev_completions *ev = (void *)(h + 1);
	size_t len = sizeof(*h) + sizeof(*ev) + n * sizeof(struct txc_abort_record);
	struct txcd_conn *c = sub->conn;
	__u64 delivered, backlog_lost;

	if (sub->caplen)
		len = capture_batch(sub, n);
	txcd_sub_account(d, sub, &delivered, &backlog_lost);
	*h = (struct txc_msg_hdr){
		.magic = TXC_PROTO_MAGIC,
		.version = TXC_PROTO_VERSION,
		.type = sub->caplen ? TXC_MSG_COMPLETIONS_CAPTURE : TXC_MSG_COMPLETIONS,
		.flags = TXC_MSG_F_EVENT,
		.length = len,
	};
	*ev = (struct txc_ev_completions){
		.source = sub->source,
		.count = n,
		.aborted = st->aborted_frames,
		.ring_lost = st->lost_reports,
		.delivered = delivered + n,
		.backlog_lost = backlog_lost,
	};
	if (send(c->fd, msg, len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
		if (errno != EAGAIN && errno != ENOBUFS) {
			c->dead = true;
			return false;
		}
		sub->blocked = true;
		/* Wake up when the socket drains. */
		txcd_conn_interest(d, c);
		return false;
	}
	if (sub_is_owner(d, sub))
		d->sources[sub->source].acct.delivered += n;
	else
		sub->delivered += n;
	sub->reported_ring_lost = st->lost_reports;
	sub->account_changed = false;
	return true;
}

struct collect {
	__u32 n;
};

static bool collect_one(void *ctx, const void *data, size_t len)
{
	struct collect *col = ctx;
	struct txc_abort_record *rec = &batch_recs()[col->n];

	/* A record of another size is not ours to interpret: pass it as zeroes + header. */
	memset(rec, 0, sizeof(*rec));
	memcpy(rec, data, len < sizeof(*rec) ? len : sizeof(*rec));
	collect_bytes(col->n++, rec, data, len);
	return true;
}

/*
 * Send batches of @source's ring to its subscribers and consume what was
 * sent (or missed).  Stops when the ring is empty or no subscriber takes
 * a batch; the ring stays armed only while some subscriber could.
 */
static size_t source_pump(struct txcd *d, __u32 source)
{
	struct txcd_source *s = &d->sources[source];
	size_t consumed = 0;

	for (int turn = 0; s->ring && turn < RING_BATCHES_PER_TURN && any_ready(s); turn++) {
		struct collect col = { 0 };
		struct txc_source_stats st;
		bool taken = false, owner_seen = false;
		struct txcd_sub *sub;
		__u64 end;

		txcd_ring_peek(s->ring, batch_max(s), collect_one, &col, &end);
		if (end == txcd_ring_consumer(s->ring))
			break;
		source_totals(d, source, &st);
		for (sub = s->subs; sub; sub = sub->next_in_source) {
			sub->took = sub_ready(sub) && send_batch(d, sub, col.n, &st);
			taken |= sub->took;
		}
		if (!taken)
			break;	/* in the ring it stays: nobody could take it */
		for (sub = s->subs; sub; sub = sub->next_in_source) {
			if (sub_is_owner(d, sub))
				owner_seen = true;
			if (sub->took)
				continue;
			if (sub_is_owner(d, sub))
				s->acct.backlog_lost += col.n;
			else
				sub->backlog_lost += col.n;
			sub->account_changed = true;
		}
		/* Consumed while its owner is not subscribed: the owner misses it. */
		if (!owner_seen)
			s->acct.backlog_lost += col.n;
		/* Counted before consumed: a crash in between cannot lose it. */
		s->acct.ring_pos = end;
		account_store(d, source);
		txcd_ring_consume(s->ring, end);
		consumed += col.n;
	}
	ring_arm(d, source, any_ready(s));
	return consumed;
}

bool txcd_ring_waiting(const struct txcd *d, __u32 source)
{
	const struct txcd_source *s = &d->sources[source];

	return s->ring && txcd_ring_pending(s->ring) && any_ready(s);
}

size_t txcd_ring_event(struct txcd *d, __u32 source)
{
	return source_pump(d, source);
}

/*
 * Tell the datapath the longest capture @source's subscribers want.
 * Written at every change of its subscribers, so that a length a previous
 * daemon left in the pinned map does not outlive them.
 */
static int source_caplen_update(struct txcd *d, __u32 source)
{
	struct txcd_source *s = &d->sources[source];
	__u32 max = 0;
	int err;

	for (const struct txcd_sub *sub = s->subs; sub; sub = sub->next_in_source)
		if (sub->caplen > max)
			max = sub->caplen;
	err = txdp_set_source_caplen(d->dp, source, max);
	if (err)
		txdp_log(TXDP_LOG_WARN, "source %u: setting its capture length to %u: %s\n",
			source, max, strerror(-err));
	else
		s->caplen = max;
	return err;
}

int txcd_capture(struct txcd *d, struct txcd_conn *c, __u32 source, __u32 snaplen,
		 char *why, size_t why_len)
{
	struct txcd_sub *sub;
	__u32 prev;
	int err;

	for (sub = c->subs; sub; sub = sub->next_in_conn)
		if (sub->source == source)
			break;
	if (!sub) {
		snprintf(why, why_len, "capture of source %u: not subscribed to it (open or "
			 "subscribe first)", source);
		return -ENOENT;
	}
	prev = sub->caplen;
	sub->caplen = snaplen;
	err = source_caplen_update(d, source);
	if (err) {
		/* Never more bytes than the batches are sized for (s->caplen). */
		sub->caplen = prev;
		snprintf(why, why_len, "capture of source %u: the datapath's capture length "
			 "could not be set: %s", source, strerror(-err));
	}
	return err;
}

/*
 * Completions wait in their source's ring, not in the daemon; what a user's
 * subscriptions bound is the socket buffers (--backlog each) they can fill.
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
	sub->conn = c;
	sub->source = source;
	sub->next_in_conn = c->subs;
	c->subs = sub;
	sub->next_in_source = s->subs;
	s->subs = sub;
	c->user->subs++;
	source_caplen_update(d, source);
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
	free(sub);
	source_caplen_update(d, source);
	ring_arm(d, source, any_ready(&d->sources[source]));
	return 0;
}

void txcd_subs_drop_conn(struct txcd *d, struct txcd_conn *c)
{
	while (c->subs)
		txcd_unsubscribe(d, c, c->subs->source);
}

__u64 txcd_conn_backlog(const struct txcd *d, const struct txcd_conn *c)
{
	__u64 n = 0;

	for (const struct txcd_sub *sub = c->subs; sub; sub = sub->next_in_conn) {
		const struct txcd_source *s = &d->sources[sub->source];

		if (s->ring)
			n += txcd_ring_pending(s->ring) / RING_SLOT;
	}
	return n;
}

void txcd_deliver(struct txcd *d, struct txcd_conn *c)
{
	if (c->dead || c->out_head)
		return;		/* replies first, in order */
	for (struct txcd_sub *sub = c->subs; sub && !c->dead; sub = sub->next_in_conn) {
		struct txc_source_stats st;

		sub->blocked = false;
		source_pump(d, sub->source);
		if (sub->account_changed && sub_ready(sub)) {
			source_totals(d, sub->source, &st);
			send_batch(d, sub, 0, &st);
		}
	}
	txcd_conn_interest(d, c);	/* no longer blocked: no EPOLLOUT */
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
