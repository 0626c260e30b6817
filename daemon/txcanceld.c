// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * txcanceld: owns the datapath, the interfaces and the cancel IDs, and
 * serves the socket API.  One epoll loop: the listening socket, the clients,
 * every source's ring, rtnetlink link events, signals and a one-second tick
 * (orphaned leases, ring losses) all feed it.  Nothing in it waits on the
 * kernel for long: storing and removing rings, which waits for an RCU grace
 * period, is the work of a thread of its own (ringpool.c).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include "txcanceld.h"
#include "qdisc.h"
#include "linkwatch.h"
#include "dp_internal.h"

#define LOOP_EVENTS	64
#define RELEASE_IDLE_MS	1	/* a release's pace while nothing else happens */

static struct txcd daemon_state;

static int add_fd(struct txcd *d, int fd, enum txcd_fd_kind kind)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = TXCD_EV(kind, 0) };

	return epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

static int open_signals_and_tick(struct txcd *d)
{
	struct itimerspec tick = { .it_interval = { 1, 0 }, .it_value = { 1, 0 } };
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		return -errno;
	d->signal_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	d->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (d->signal_fd < 0 || d->timer_fd < 0 || timerfd_settime(d->timer_fd, 0, &tick, NULL))
		return -errno;
	if (add_fd(d, d->signal_fd, TXCD_FD_SIGNAL) || add_fd(d, d->timer_fd, TXCD_FD_TIMER))
		return -errno;
	return 0;
}

static void on_signal(struct txcd *d)
{
	struct signalfd_siginfo si;

	while (read(d->signal_fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			txdp_log(TXDP_LOG_INFO, "SIGHUP: nothing to reload; restart to change "
				"options\n");
			continue;
		}
		txdp_log(TXDP_LOG_INFO, "%s: exiting\n", strsignal(si.ssi_signo));
		d->stop = true;
	}
}

static void on_tick(struct txcd *d)
{
	__u64 expirations;

	if (read(d->timer_fd, &expirations, sizeof(expirations)) < 0)
		return;
	txcd_server_resume(d);
	txcd_leases_expire(d);
	txcd_lease_log_flush(d);
	txcd_check_ring_losses(d);
	txcd_ringpool_tick(d);
}

static void dispatch(struct txcd *d, const struct epoll_event *ev)
{
	__u32 idx = TXCD_EV_IDX(ev->data.u64);

	switch (TXCD_EV_KIND(ev->data.u64)) {
	case TXCD_FD_LISTEN:
		txcd_server_accept(d);
		break;
	case TXCD_FD_SIGNAL:
		on_signal(d);
		break;
	case TXCD_FD_TIMER:
		on_tick(d);
		break;
	case TXCD_FD_LINKS:
		txcd_links_event(d);
		break;
	case TXCD_FD_CONN:
		txcd_conn_event(d, idx, ev->events);
		break;
	case TXCD_FD_RING:
		txcd_ringpoll_woken(d, txcd_ring_event(d, idx));
		break;
	case TXCD_FD_RINGPOLL:
		txcd_ringpoll_tick(d);
		break;
	case TXCD_FD_RINGPOOL:
		txcd_ringpool_event(d);
		break;
	case TXCD_FD_RETRY:
		txcd_retry_event(d);
		break;
	}
}

/*
 * Two daemons on one pin dir would take each other's leases for orphans and
 * unpin each other's maps.  bpffs holds no regular files, so the lock is a
 * flock on the directory itself, held for the daemon's lifetime.
 */
static int lock_pin_dir(struct txcd *d)
{
	const char *dir = d->opts.pin_dir;

	if (txdp_mkdir_p(dir, 0700)) {
		int err = -errno;

		txdp_log(TXDP_LOG_ERROR, "creating the pin dir %s: %s\n", dir, strerror(errno));
		return err;
	}
	d->pin_lock_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (d->pin_lock_fd < 0 || flock(d->pin_lock_fd, LOCK_EX | LOCK_NB)) {
		int err = -errno;

		if (errno == EWOULDBLOCK)
			txdp_log(TXDP_LOG_ERROR, "%s: another txcanceld uses this pin dir; stop it "
				"or choose another with --pin-dir\n", dir);
		else
			txdp_log(TXDP_LOG_ERROR, "locking the pin dir %s: %s\n", dir, strerror(errno));
		return err;
	}
	return 0;
}

/*
 * Every connection is a descriptor, and so is every source's ring: raise the
 * soft descriptor limit to the hard one so that --max-clients connections
 * fit next to every ring and the daemon's own handful.  Where the hard limit
 * is lower, half of what is left goes to connections, so that the limit a
 * client meets is the documented one; should the rings take the rest,
 * accept pauses (pause_accept) rather than fail in a loop.
 */
#define FDS_OWN		64	/* epoll, signals, timer, netlink, maps, links, programs */

static void fit_fd_limit(struct txcd *d)
{
	__u64 need = (__u64)d->opts.max_clients + TXC_MAX_SOURCES + FDS_OWN, fit;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return;
	if (rl.rlim_cur < need && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max < need ? rl.rlim_max : need;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur >= need)
		return;
	fit = rl.rlim_cur > 2 * FDS_OWN ? (rl.rlim_cur - FDS_OWN) / 2 : 1;
	if (fit >= d->opts.max_clients)
		return;
	txdp_log(TXDP_LOG_WARN, "--max-clients %u does not fit in %llu descriptors (ulimit -n) "
		"next to the source rings: serving at most %llu connections\n",
		d->opts.max_clients, (unsigned long long)rl.rlim_cur, (unsigned long long)fit);
	d->opts.max_clients = fit;
}

static int start(struct txcd *d)
{
	struct txdp_opts dp_opts = { .pin_dir = d->opts.pin_dir };
	int err;

	d->start_ns = txcd_now_ns();
	fit_fd_limit(d);
	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (d->epfd < 0)
		return -errno;
	err = open_signals_and_tick(d);
	if (err)
		return err;
	/* Nothing pinned is touched before we know no other daemon owns it. */
	err = txcd_server_claim(d);
	if (!err)
		err = txcd_pinfs_check(d->opts.pin_dir, d->opts.ephemeral);
	if (!err)
		err = txdp_ensure_bpffs(d->opts.pin_dir);
	if (!err)
		err = lock_pin_dir(d);
	if (!err)
		err = txdp_open(&d->dp, &dp_opts);
	if (!err)
		err = txdp_set_mark_mask(d->dp, d->opts.mark_mask);
	/* Its verification takes about 0.1 s: not in the loop, at a first EXPLAIN. */
	if (!err)
		err = txdp_explain_prepare(d->dp);
	if (!err)
		err = txdp_set_iface_counters(d->dp, d->opts.iface_counters);
	/* No subscription outlives its daemon: nor does the capture it asked for. */
	if (!err)
		err = txdp_clear_source_caplens(d->dp);
	if (!err)
		err = txcd_ringpoll_open(d);
	if (!err)
		err = txcd_leases_open(d);
	if (!err)
		txcd_leases_attach_orphans(d);
	if (!err)
		err = txcd_ringpool_open(d);
	if (!err)
		err = txcd_server_open(d);
	if (!err)
		err = txcd_ifaces_start(d);
	return err;
}

static void run(struct txcd *d)
{
	struct epoll_event events[LOOP_EVENTS];

	while (!d->stop) {
		/*
		 * A release under way goes on a chunk per turn, and idle turns
		 * come every millisecond: it takes its time rather than a CPU
		 * others (on a small machine, the clients) need.
		 */
		int n = epoll_wait(d->epfd, events, LOOP_EVENTS,
				   txcd_release_pending(d) ? RELEASE_IDLE_MS : -1);

		if (n < 0 && errno != EINTR) {
			txdp_log(TXDP_LOG_ERROR, "epoll_wait: %s\n", strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++)
			dispatch(d, &events[i]);
		txcd_reap_dead(d);
		txcd_release_step(d);
	}
}

/*
 * Without --keep, everything this instance attached, leased and pinned is
 * removed.  With --keep, links and pinned state stay: traffic keeps being
 * tagged and canceled, and the next instance adopts it all.
 */
static void stop(struct txcd *d)
{
	bool keep = d->opts.keep_on_exit;

	txcd_server_close(d);
	txcd_ringpoll_close(d);
	if (d->dp) {
		txcd_ifaces_stop(d);
		if (!keep) {
			for (__u32 s = 1; s < TXC_MAX_SOURCES; s++)
				if (d->sources[s].lease.state != TXCD_FREE)
					txcd_source_release(d, s);
			for (__u32 p = TXC_PREFIX_MIN; p <= TXC_PREFIX_MAX; p++)
				if (d->prefixes[p].lease.state != TXCD_FREE)
					txcd_prefix_release(d, p);
		}
		/* Releases under way end here, whole; queued ring removals run. */
		txcd_release_finish(d);
		txcd_release_close(d);
		txcd_ringpool_close(d);
		txcd_leases_close(d, !keep);
		if (!keep && !txdp_detach_all(d->dp)) {
			txdp_qdisc_unregister(d->dp);
			txdp_unpin(d->dp);
		}
		txdp_close(d->dp);
	}
	if (keep)
		txdp_log(TXDP_LOG_INFO, "left the datapath attached and its state pinned under %s "
			"for the next instance\n", d->opts.pin_dir);
	while (d->users) {
		struct txcd_user *u = d->users;

		d->users = u->next;
		free(u);
	}
}

int main(int argc, char **argv)
{
	struct txcd *d = &daemon_state;
	int err;

	d->listen_fd = d->signal_fd = d->timer_fd = d->epfd = d->pin_lock_fd = -1;
	d->ringpoll_fd = d->retry_fd = -1;
	d->prefix_lease_fd = d->source_lease_fd = -1;
	err = txcd_parse_args(d, argc, argv);
	if (err)
		return err < 0 ? 2 : 0;
	err = start(d);
	if (err) {
		txdp_log(TXDP_LOG_ERROR, "not started: %s\n", strerror(-err));
		/*
		 * Release only this process's handles: what is pinned may belong
		 * to a daemon that is still running (a second instance on the
		 * same pin dir fails here), and a next start adopts it anyway.
		 */
		if (d->listen_fd >= 0)
			txcd_server_close(d);
		txcd_release_close(d);
		txcd_ringpool_close(d);
		txcd_ruleindex_close(d);
		txcd_cancelindex_close(d);
		txc_linkwatch_close(d->lw);
		txdp_close(d->dp);
		while (d->users) {
			struct txcd_user *u = d->users;

			d->users = u->next;
			free(u);
		}
		return 1;
	}
	txdp_log(TXDP_LOG_INFO, "ready: %u interface(s), pins under %s\n", d->n_ifaces,
		txdp_pin_dir(d->dp));
	run(d);
	stop(d);
	return 0;
}
