/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Completions: batches kept in arrival order, handed out by
 * txc_read_completions(), and the last account seen per source.
 *
 * Every batch is handed out from its own copy, never from the receive
 * buffer: a callback may issue requests on the same client, and their
 * replies land in that buffer.
 *
 * After txc_client_reconnect(), the first batch of a source may repeat
 * records of the last one: a daemon killed between sending a batch and
 * recording it sends it again.  Sequence numbers are unique per source, so
 * those records are recognised and handed out once.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "internal.h"

/*
 * A COMPLETIONS_CAPTURE batch (checked: every record's size is its own
 * hdr.size): the fixed parts into recs[], the frame bytes behind them.
 */
static struct txcl_event *capture_event(const struct txc_ev_completions *ev, const __u8 *p,
					size_t len)
{
	size_t recs = (size_t)ev->count * sizeof(struct txc_abort_record);
	size_t offs = (size_t)ev->count * sizeof(__u32);
	struct txcl_event *e;
	__u8 *caps;
	__u32 at = 0;

	/* The bytes take less room than the records they came in. */
	e = malloc(sizeof(*e) + recs + offs + len);
	if (!e)
		return NULL;
	e->cap_off = (__u32 *)((__u8 *)e->recs + recs);
	caps = (__u8 *)e->cap_off + offs;
	e->caps = caps;
	for (__u32 i = 0; i < ev->count; i++) {
		struct txc_abort_record *r = &e->recs[i];

		memcpy(r, p, sizeof(*r));
		memcpy(caps + at, p + sizeof(*r), r->cap_len);
		e->cap_off[i] = at;
		at += r->cap_len;
		p += r->hdr.size;
	}
	return e;
}

int txcl_event_queue(struct txc_client *c, const void *msg)
{
	const struct txc_msg_hdr *h = msg;
	const __u8 *body = (const __u8 *)msg + sizeof(struct txc_msg_hdr);
	struct txc_ev_completions ev;
	struct txcl_event *e;
	size_t recs;

	memcpy(&ev, body, sizeof(ev));
	recs = (size_t)ev.count * sizeof(struct txc_abort_record);
	if (h->type == TXC_MSG_COMPLETIONS_CAPTURE)
		e = capture_event(&ev, body + sizeof(ev), h->length - sizeof(*h) - sizeof(ev));
	else
		e = malloc(sizeof(*e) + recs);
	if (!e)
		return txcl_fail(c->err, -ENOMEM, "out of memory keeping %u completions of "
				 "source %u", ev.count, ev.source);
	e->next = NULL;
	e->ev = ev;
	if (h->type != TXC_MSG_COMPLETIONS_CAPTURE) {
		e->cap_off = NULL;
		e->caps = NULL;
		memcpy(e->recs, body + sizeof(ev), recs);
	}
	if (c->ev_tail)
		c->ev_tail->next = e;
	else
		c->ev_head = e;
	c->ev_tail = e;
	return 0;
}

void txcl_completions_free(struct txc_client *c)
{
	struct txcl_event *e, *next;

	for (e = c->ev_head; e; e = next) {
		next = e->next;
		free(e);
	}
	c->ev_head = c->ev_tail = NULL;
	free(c->accounts);
	c->accounts = NULL;
	c->n_accounts = c->max_accounts = 0;
}

/* The account of @source, or NULL and where it would be inserted. */
static struct txcl_account *account_find(const struct txc_client *c, __u32 source,
					 size_t *pos)
{
	size_t lo = 0, hi = c->n_accounts;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (c->accounts[mid].ev.source == source)
			return &c->accounts[mid];
		if (c->accounts[mid].ev.source < source)
			lo = mid + 1;
		else
			hi = mid;
	}
	*pos = lo;
	return NULL;
}

/* The account of @source, created (empty) if there is none yet. */
static struct txcl_account *account_get(struct txc_client *c, __u32 source)
{
	struct txcl_account *a;
	size_t pos;

	a = account_find(c, source, &pos);
	if (a)
		return a;
	if (c->n_accounts == c->max_accounts) {
		size_t max = c->max_accounts ? 2 * c->max_accounts : 8;

		a = realloc(c->accounts, max * sizeof(*a));
		if (!a) {
			txcl_fail(c->err, -ENOMEM, "out of memory for the account of source %u",
				  source);
			return NULL;
		}
		c->accounts = a;
		c->max_accounts = max;
	}
	a = &c->accounts[pos];
	memmove(a + 1, a, (c->n_accounts - pos) * sizeof(*a));
	c->n_accounts++;
	memset(a, 0, sizeof(*a));
	a->ev.source = source;
	return a;
}

static bool seq_in(const __u64 *seqs, __u32 n, __u64 seq)
{
	for (__u32 i = 0; i < n; i++)
		if (seqs[i] == seq)
			return true;
	return false;
}

/*
 * Remember @e's sequence numbers and, if this is the first batch after a
 * reconnect, drop the records the last batch already handed out.
 */
static void account_take(struct txcl_account *a, struct txcl_event *e)
{
	__u32 n = e->ev.count, kept = 0;
	__u64 seqs[TXC_COMPLETIONS_MAX];

	if (n) {
		for (__u32 i = 0; i < n; i++)
			seqs[i] = e->recs[i].seq;
		if (a->check_repeat) {
			for (__u32 i = 0; i < n; i++)
				if (!seq_in(a->last_seqs, a->n_last, e->recs[i].seq)) {
					if (e->cap_off)
						e->cap_off[kept] = e->cap_off[i];
					e->recs[kept++] = e->recs[i];
				}
			e->ev.count = kept;
			a->check_repeat = false;
		}
		memcpy(a->last_seqs, seqs, n * sizeof(seqs[0]));
		a->n_last = n;
	}
	a->ev = e->ev;
}

void txcl_completions_reconnected(struct txc_client *c)
{
	for (size_t i = 0; i < c->n_accounts; i++)
		c->accounts[i].check_repeat = true;
}

/* Hand out every queued batch, oldest first. */
static int drain(struct txc_client *c, txc_completion_fn fn, void *ctx, int *records,
		 int *batches)
{
	struct txcl_event *e;
	struct txcl_account *a;

	while ((e = c->ev_head)) {
		/* The account first: on failure the batch stays queued, not lost. */
		a = account_get(c, e->ev.source);
		if (!a)
			return -ENOMEM;
		c->ev_head = e->next;
		if (!c->ev_head)
			c->ev_tail = NULL;
		account_take(a, e);
		c->ev_current = e;
		fn(ctx, &e->ev, e->recs);
		c->ev_current = NULL;
		*records += e->ev.count;
		(*batches)++;
		free(e);
	}
	return 0;
}

/* Check and queue the packet of @len bytes just received. */
static int take_event(struct txc_client *c, int len)
{
	const struct txc_msg_hdr *h = (const void *)c->rx;
	char tmp[16];
	int err;

	err = txcl_check_msg(c, c->rx, len);
	if (err)
		return txcl_break(c, err);
	if (h->flags != TXC_MSG_F_EVENT) {
		txcl_fail(c->err, -EPROTO, "txcanceld sent a %s reply (seq %u) while no request "
			  "waited", txcl_type_name(h->type, tmp, sizeof(tmp)), h->seq);
		return txcl_break(c, -EPROTO);
	}
	err = txcl_event_queue(c, c->rx);
	return err ? txcl_break(c, err) : 0;
}

/* 1 when readable, 0 on timeout, or a negative errno. */
static int wait_readable(struct txc_client *c, int timeout_ms)
{
	struct pollfd p = { .fd = c->fd, .events = POLLIN };
	int n, err;

	n = poll(&p, 1, timeout_ms);
	if (n >= 0)
		return n;
	err = -errno;
	return txcl_fail(c->err, err, "cannot wait for completions: %s", strerror(-err));
}

int txc_read_completions(struct txc_client *client, txc_completion_fn fn, void *ctx,
			 int timeout_ms)
{
	int records = 0, batches = 0;
	int n, err;

	err = txcl_enter(client);
	if (err)
		return err;
	if (!fn)
		return txcl_fail(client->err, -EINVAL, "txc_read_completions: the callback is NULL");
	/* The replies they wait for would be read here as events. */
	if (client->async_n)
		return txcl_fail(client->err, -EBUSY, "txc_read_completions: %u asynchronous "
				 "requests are in flight; collect their replies with "
				 "txc_async_reply() first", client->async_n);
	if (timeout_ms < -1)
		return txcl_fail(client->err, -EINVAL, "timeout %d ms: must be 0 or more, or -1 "
				 "to wait forever", timeout_ms);
	for (;;) {
		err = drain(client, fn, ctx, &records, &batches);
		/* A callback may have broken the connection with a request. */
		if (!err)
			err = txcl_enter(client);
		if (err)
			return err;
		n = txcl_recv(client, MSG_DONTWAIT);
		if (n == -EAGAIN) {
			if (batches || !timeout_ms)
				return records;
			n = wait_readable(client, timeout_ms);
			if (n <= 0)
				return n;
			/* Waited once: from now on only what is already there. */
			timeout_ms = 0;
			continue;
		}
		if (n < 0)
			return n;
		err = take_event(client, n);
		if (err)
			return err;
	}
}

int txc_source_account(const struct txc_client *client, __u32 source,
		       struct txc_ev_completions *account)
{
	const struct txcl_account *a;
	size_t pos;

	if (!client || !account)
		return -EINVAL;
	a = account_find(client, source, &pos);
	if (!a)
		return -ENOENT;
	*account = a->ev;
	return 0;
}

const __u8 *txc_record_bytes(const struct txc_client *client, const struct txc_abort_record *rec,
			     __u32 *len)
{
	const struct txcl_event *e = client ? client->ev_current : NULL;
	size_t i;

	if (len)
		*len = 0;
	if (!e || !e->cap_off || !rec || rec < e->recs || rec >= e->recs + e->ev.count)
		return NULL;
	i = (size_t)(rec - e->recs);
	if (len)
		*len = e->recs[i].cap_len;
	return e->caps + e->cap_off[i];
}
