// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Parked requests that try again on a timer: a COUNT_ID waits a
 * millisecond for the kernel's per-CPU allocator, without holding up the
 * loop or anyone else.  They are answered through the park ops the server
 * registered (d->park), not by calling up into it.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include "work.h"

void txcd_retry_forget(struct txcd *d, struct txcd_conn *c)
{
	if (!c->retrying)
		return;
	for (struct txcd_conn **pp = &d->retry_head; *pp; pp = &(*pp)->next_parked) {
		if (*pp == c) {
			*pp = c->next_parked;
			break;
		}
	}
	c->retrying = c->parked = false;
}

#define RETRY_NS	1000000		/* a parked request tries again after 1 ms */

void txcd_conn_retry_later(struct txcd *d, struct txcd_conn *c)
{
	struct itimerspec t = { .it_value = { 0, RETRY_NS } };
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = TXCD_EV(TXCD_FD_RETRY, 0) };

	if (d->retry_fd < 0) {
		d->retry_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
		if (d->retry_fd >= 0 && epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->retry_fd, &ev)) {
			close(d->retry_fd);
			d->retry_fd = -1;
		}
	}
	c->parked = c->retrying = true;
	c->next_parked = d->retry_head;
	d->retry_head = c;
	if (d->retry_fd < 0 || timerfd_settime(d->retry_fd, 0, &t, NULL)) {
		/* No timer: the request is answered by trying once more now. */
		txdp_log(TXDP_LOG_WARN, "retry timer: %s\n", strerror(errno));
		txcd_retry_event(d);
	}
}

void txcd_retry_event(struct txcd *d)
{
	struct txcd_conn *c = d->retry_head, *next;
	__u64 expirations;

	if (d->retry_fd >= 0 && read(d->retry_fd, &expirations, sizeof(expirations)) < 0 &&
	    errno != EAGAIN)
		return;
	d->retry_head = NULL;
	for (; c; c = next) {
		next = c->next_parked;
		c->parked = c->retrying = false;
		d->park->resume(d, c);
	}
}
