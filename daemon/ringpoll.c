// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * How the daemon learns that records wait in the rings: by wake-up while
 * aborts are few, by polling while they flood in, as NAPI does for frames.
 *
 * Asleep, every ring's fd is in the loop and the kernel wakes the daemon for
 * a record when the daemon has read everything before it.  A daemon that
 * keeps up is therefore woken for nearly every record, and each wake-up
 * costs the frame path that submits it more than the record itself.  So
 * when one wake-up finds a burst (TXCD_POLL_ENTER records or more), the
 * daemon tells the datapath to stop waking it (TXC_RING_F_NO_WAKEUP) and
 * reads every ring on a short periodic timer instead.  The first timer turn
 * that finds nothing turns the wake-ups back on and reads the rings once
 * more, and goes on polling if a ring a subscriber could take from still
 * holds records: a record submitted without a wake-up around the switch is
 * read then, and none waits for a wake-up that will not come.
 *
 * The poll interval bounds how long a record waits in a flood and how full
 * a ring gets: at 250 us, a default 256 KiB ring (about 2,500 records)
 * overflows only above about 10 million aborts per second into one source.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include "lease_actions.h"

#define TXCD_POLL_ENTER		16		/* records in one wake-up */
#define TXCD_POLL_INTERVAL_NS	250000
#define TXCD_POLL_BUSY		256		/* records in one turn: read again */
#define TXCD_POLL_BUSY_TURNS	8

int txcd_ringpoll_open(struct txcd *d)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = TXCD_EV(TXCD_FD_RINGPOLL, 0) };

	d->ringpoll_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (d->ringpoll_fd < 0)
		return -errno;
	if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->ringpoll_fd, &ev))
		return -errno;
	/* An earlier instance may have died while polling: start awake. */
	return txdp_set_ring_wakeup(d->dp, true);
}

static int set_polling(struct txcd *d, bool on)
{
	struct itimerspec t = {};
	int err;

	if (on) {
		t.it_interval.tv_nsec = TXCD_POLL_INTERVAL_NS;
		t.it_value.tv_nsec = TXCD_POLL_INTERVAL_NS;
	}
	/* The timer runs before wake-ups stop, and wake-ups resume before it stops. */
	if (on && timerfd_settime(d->ringpoll_fd, 0, &t, NULL))
		return -errno;
	err = txdp_set_ring_wakeup(d->dp, !on);
	if (err) {
		txdp_log(TXDP_LOG_WARN, "ring wake-ups %s: %s\n", on ? "off" : "on", strerror(-err));
		if (on)
			timerfd_settime(d->ringpoll_fd, 0, &(struct itimerspec){}, NULL);
		return err;
	}
	if (!on && timerfd_settime(d->ringpoll_fd, 0, &t, NULL))
		return -errno;
	d->ring_polling = on;
	return 0;
}

void txcd_ringpoll_woken(struct txcd *d, size_t nread)
{
	if (!d->ring_polling && nread >= TXCD_POLL_ENTER)
		set_polling(d, true);
}

static size_t read_all_rings(struct txcd *d)
{
	size_t n = 0;

	for (__u32 source = 1; source < TXC_MAX_SOURCES; source++)
		if (d->sources[source].ring && d->sources[source].subs)
			n += txcd_ring_event(d, source);
	return n;
}

static bool any_ring_waiting(const struct txcd *d)
{
	for (__u32 source = 1; source < TXC_MAX_SOURCES; source++)
		if (txcd_ring_waiting(d, source))
			return true;
	return false;
}

/*
 * One timer turn.  A turn that found many records reads again at once, a
 * few times, rather than leave the rest to fill the ring until the next
 * tick: the loop's other fds wait at most that long.
 */
void txcd_ringpoll_tick(struct txcd *d)
{
	__u64 expirations;
	size_t n, total = 0;

	if (read(d->ringpoll_fd, &expirations, sizeof(expirations)) < 0 || !d->ring_polling)
		return;
	for (int turn = 0; turn < TXCD_POLL_BUSY_TURNS; turn++) {
		n = read_all_rings(d);
		total += n;
		if (n < TXCD_POLL_BUSY)
			break;
	}
	if (total)
		return;
	if (set_polling(d, false))
		return;		/* still polling: the next turn tries again */
	txcd_ringpoll_woken(d, read_all_rings(d));
	/*
	 * A program that read the flag just before it changed may commit its
	 * record after that last read, without a wake-up; and the kernel wakes
	 * the reader only for the record it stopped at, so later records would
	 * wait too.  Such a ring still holds records: poll on.
	 */
	if (!d->ring_polling && any_ring_waiting(d))
		set_polling(d, true);
}

void txcd_ringpoll_close(struct txcd *d)
{
	if (d->ring_polling && d->dp)
		set_polling(d, false);
	if (d->ringpoll_fd >= 0)
		close(d->ringpoll_fd);
	d->ringpoll_fd = -1;
}
