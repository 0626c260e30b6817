// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Source rings made ready ahead of need, and put away off the loop.
 *
 * Storing a ring in txc_rings or taking one out waits for an RCU grace
 * period in the kernel: 8 ms on 6.18, 16-19 ms on 6.1 and 6.12.  On the
 * loop's thread that wait stalled every client for as long as one user kept
 * opening and closing sources.  So those calls run in a thread of their
 * own, one job at a time, and the loop only hands jobs over and collects
 * their results (through an eventfd):
 *
 *  - a few free source numbers, the next ones the allocator would pick,
 *    always have a fresh ring stored (TXCD_POOL_READY of them): a
 *    SOURCE_OPEN takes one and is answered at once;
 *  - a released source's ring is removed by a job; its number is not
 *    handed out again before that job is done;
 *  - when opens come faster than the thread makes rings, a SOURCE_OPEN
 *    waits, without blocking anyone: its connection is parked (not read
 *    from) and answered, oldest first, when a ring is ready.  A ring that
 *    cannot be made fails the oldest waiter with the reason.
 *
 * Only the loop's thread touches the pool's state; the thread and the loop
 * share only the two job lists, under the lock.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include "work.h"

#define TXCD_POOL_READY		8	/* fresh rings kept ready: a burst of opens */

enum ringjob_op {
	RINGJOB_NEW,
	RINGJOB_REMOVE,
};

struct ringjob {
	struct ringjob *next;
	enum ringjob_op op;
	__u32 source;
	int result;		/* NEW: the ring's fd or -errno; REMOVE: 0 or -errno */
};

struct txcd_ringpool {
	pthread_t thread;
	bool thread_started;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop;		/* under lock: finish the jobs queued, then exit */
	struct ringjob *todo, **todo_tail;	/* under lock */
	struct ringjob *done, **done_tail;	/* under lock */
	struct txdp *dp;
	int event_fd;

	/* The loop's own state. */
	int ready_fd[TXC_MAX_SOURCES];	/* fd of a fresh ring stored for a free source */
	bool busy[TXC_MAX_SOURCES];	/* a job for this source is queued or running */
	__u32 ready_order[TXCD_POOL_READY];	/* ready sources, oldest first */
	__u32 n_ready;
	__u32 n_filling;	/* NEW jobs queued or running */
	__u32 cursor;		/* next-fit: a freed number is not handed out at once */
	bool fill_paused;	/* a ring could not be made: try again on the tick */
	struct txcd_conn *waiters, **waiters_tail;	/* parked SOURCE_OPENs */
};

static void *ringpool_thread(void *arg)
{
	struct txcd_ringpool *p = arg;
	__u64 one = 1;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		struct ringjob *job = p->todo;

		if (!job) {
			if (p->stop)
				break;
			pthread_cond_wait(&p->cond, &p->lock);
			continue;
		}
		p->todo = job->next;
		if (!p->todo)
			p->todo_tail = &p->todo;
		pthread_mutex_unlock(&p->lock);

		if (job->op == RINGJOB_NEW)
			job->result = txdp_ring_new(p->dp, job->source);
		else
			job->result = txdp_ring_remove(p->dp, job->source);

		pthread_mutex_lock(&p->lock);
		job->next = NULL;
		*p->done_tail = job;
		p->done_tail = &job->next;
		if (write(p->event_fd, &one, sizeof(one)) < 0) {
			/* The counter cannot overflow at one write per job. */
		}
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

static int queue_job(struct txcd_ringpool *p, enum ringjob_op op, __u32 source)
{
	struct ringjob *job = calloc(1, sizeof(*job));

	if (!job)
		return -ENOMEM;
	job->op = op;
	job->source = source;
	p->busy[source] = true;
	pthread_mutex_lock(&p->lock);
	*p->todo_tail = job;
	p->todo_tail = &job->next;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
	return 0;
}

static bool fill_candidate(const struct txcd *d, __u32 s)
{
	const struct txcd_ringpool *p = d->pool;

	return d->sources[s].lease.state == TXCD_FREE && !p->busy[s] && p->ready_fd[s] < 0;
}

/* Queue fresh rings until TXCD_POOL_READY are ready or on their way. */
static void fill(struct txcd *d)
{
	struct txcd_ringpool *p = d->pool;
	const __u32 n = TXC_MAX_SOURCES - 1;

	while (!p->fill_paused && p->n_ready + p->n_filling < TXCD_POOL_READY) {
		__u32 s = 0;

		for (__u32 i = 0; i < n; i++) {
			__u32 c = 1 + (p->cursor - 1 + 1 + i) % n;

			if (fill_candidate(d, c)) {
				s = c;
				break;
			}
		}
		if (!s || queue_job(p, RINGJOB_NEW, s))
			return;
		p->cursor = s;
		p->n_filling++;
	}
}

int txcd_ringpool_open(struct txcd *d)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = TXCD_EV(TXCD_FD_RINGPOOL, 0) };
	struct txcd_ringpool *p = calloc(1, sizeof(*p));
	int err;

	if (!p)
		return -ENOMEM;
	d->pool = p;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	p->todo_tail = &p->todo;
	p->done_tail = &p->done;
	p->waiters_tail = &p->waiters;
	p->dp = d->dp;
	p->cursor = TXC_MAX_SOURCES - 1;
	for (__u32 s = 0; s < TXC_MAX_SOURCES; s++)
		p->ready_fd[s] = -1;
	p->event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (p->event_fd < 0 || epoll_ctl(d->epfd, EPOLL_CTL_ADD, p->event_fd, &ev))
		return -errno;
	err = -pthread_create(&p->thread, NULL, ringpool_thread, p);
	if (err) {
		txdp_log(TXDP_LOG_ERROR, "starting the ring thread: %s\n", strerror(-err));
		return err;
	}
	p->thread_started = true;
	/* Rings an earlier instance left in free slots (--keep, a crash) go. */
	for (__u32 s = 1; s < TXC_MAX_SOURCES; s++)
		if (d->sources[s].lease.state == TXCD_FREE && txdp_ring_slot_used(d->dp, s))
			queue_job(p, RINGJOB_REMOVE, s);
	fill(d);
	return 0;
}

int txcd_ringpool_take(struct txcd *d, __u32 *source)
{
	struct txcd_ringpool *p = d->pool;
	int fd;

	if (!p->n_ready)
		return -EAGAIN;
	*source = p->ready_order[0];
	memmove(p->ready_order, p->ready_order + 1, --p->n_ready * sizeof(p->ready_order[0]));
	fd = p->ready_fd[*source];
	p->ready_fd[*source] = -1;
	fill(d);
	return fd;
}

void txcd_ringpool_release(struct txcd *d, __u32 source)
{
	struct txcd_ringpool *p = d->pool;

	if (p->busy[source] || !txdp_ring_slot_used(d->dp, source))
		return;
	if (queue_job(p, RINGJOB_REMOVE, source))
		txdp_log(TXDP_LOG_WARN, "source %u: out of memory: its ring stays stored until "
			"the source is opened again\n", source);
}

void txcd_ringpool_park(struct txcd *d, struct txcd_conn *c)
{
	struct txcd_ringpool *p = d->pool;

	c->parked = true;
	c->next_parked = NULL;
	*p->waiters_tail = c;
	p->waiters_tail = &c->next_parked;
}

void txcd_ringpool_forget(struct txcd *d, struct txcd_conn *c)
{
	struct txcd_ringpool *p = d->pool;
	struct txcd_conn **pp;

	if (!c->parked || !p)
		return;
	for (pp = &p->waiters; *pp; pp = &(*pp)->next_parked) {
		if (*pp != c)
			continue;
		*pp = c->next_parked;
		if (!*pp)
			p->waiters_tail = pp;
		break;
	}
	c->parked = false;
}

static struct txcd_conn *next_waiter(struct txcd_ringpool *p)
{
	struct txcd_conn *c = p->waiters;

	if (c) {
		p->waiters = c->next_parked;
		if (!p->waiters)
			p->waiters_tail = &p->waiters;
		c->parked = false;
	}
	return c;
}

static void job_done(struct txcd *d, struct ringjob *job)
{
	struct txcd_ringpool *p = d->pool;
	__u32 s = job->source;

	p->busy[s] = false;
	if (job->op == RINGJOB_REMOVE) {
		if (job->result)
			txdp_log(TXDP_LOG_WARN, "source %u: removing its ring: %s\n", s,
				strerror(-job->result));
		return;
	}
	p->n_filling--;
	if (job->result < 0) {
		struct txcd_conn *c = next_waiter(p);

		p->fill_paused = true;
		if (c)
			d->park->failed(d, c, job->result);
		return;
	}
	if (d->sources[s].lease.state != TXCD_FREE) {
		/* Claimed meanwhile (an orphan cannot be: it was never free). */
		close(job->result);
		return;
	}
	p->ready_fd[s] = job->result;
	p->ready_order[p->n_ready++] = s;
}

void txcd_ringpool_event(struct txcd *d)
{
	struct txcd_ringpool *p = d->pool;
	struct ringjob *done, *next;
	__u64 n;

	if (read(p->event_fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		return;
	pthread_mutex_lock(&p->lock);
	done = p->done;
	p->done = NULL;
	p->done_tail = &p->done;
	pthread_mutex_unlock(&p->lock);
	for (; done; done = next) {
		next = done->next;
		job_done(d, done);
		free(done);
	}
	/* Waiters first, oldest first; each takes a ready ring and refills. */
	while (p->n_ready && p->waiters)
		d->park->resume(d, next_waiter(p));
	fill(d);
}

void txcd_ringpool_tick(struct txcd *d)
{
	if (!d->pool)
		return;
	d->pool->fill_paused = false;
	fill(d);
}

void txcd_ringpool_close(struct txcd *d)
{
	struct txcd_ringpool *p = d->pool;

	if (!p)
		return;
	if (p->thread_started) {
		pthread_mutex_lock(&p->lock);
		p->stop = true;
		pthread_cond_signal(&p->cond);
		pthread_mutex_unlock(&p->lock);
		pthread_join(p->thread, NULL);
	}
	/* Every job has run: collect their results (and fds). */
	for (struct ringjob *job = p->done, *next; job; job = next) {
		next = job->next;
		if (job->op == RINGJOB_NEW && job->result >= 0)
			close(job->result);
		free(job);
	}
	for (__u32 s = 0; s < TXC_MAX_SOURCES; s++)
		if (p->ready_fd[s] >= 0)
			close(p->ready_fd[s]);
	if (p->event_fd >= 0)
		close(p->event_fd);
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->lock);
	free(p);
	d->pool = NULL;
}
