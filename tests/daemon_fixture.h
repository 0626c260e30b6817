/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A private txcanceld for tests: its own socket in a temporary directory,
 * its own bpffs pin directory, its stderr kept in a log file, and helpers
 * to stop, crash, restart and clean it up.  Also txct_run_as(), which runs
 * a function as another user, with or without CAP_NET_ADMIN, for the
 * permission tests.
 *
 * Every daemon started is registered; txct_daemon_cleanup_all(), run at
 * exit and on SIGINT/SIGTERM/SIGHUP (before any handler another fixture
 * installed, which it then calls), kills and removes whatever a failed or
 * interrupted test left, so no daemon, pin or temporary directory outlives
 * the test program.  A daemon whose test program dies anyway gets SIGTERM
 * (PR_SET_PDEATHSIG) and removes its own pins unless it runs with --keep.
 *
 * Functions return 0 on success and a negative errno on failure, after
 * printing what failed (and the daemon's log when it did not come up).
 */
#ifndef TXC_TEST_DAEMON_FIXTURE_H
#define TXC_TEST_DAEMON_FIXTURE_H

#include <stdbool.h>
#include <sys/types.h>
#include <linux/types.h>

#define TXCT_MAX_ARGS		32

struct txct_daemon {
	pid_t pid;		/* 0 when not running */
	char netns[64];		/* "" = current netns; else `ip netns` name to run it in */
	char sock[108];		/* socket path, in a mkdtemp dir under /tmp */
	char pin_dir[128];	/* /sys/fs/bpf/txct-<pid>-<n> */
	char log[128];		/* daemon stderr, kept for failure reports */
	char dir[64];		/* the mkdtemp dir: sock and log */
	/* The extra arguments of txct_daemon_start(), kept for restarts. */
	char *args[TXCT_MAX_ARGS + 1];
	int exit_status;	/* of the last stop/kill: exit code, or 128 + signal */
	bool registered;
	bool limit_caps;	/* run with only @caps (txct_daemon_start_caps) */
	__u64 caps;
};

/*
 * Start build/txcanceld (next to the test binary: <dir of
 * /proc/self/exe>/../txcanceld; $TXCT_DAEMON overrides) with
 *   -s sock -d pin_dir --socket-mode 0666 -l debug
 * plus @args (NULL-terminated, NULL for none), inside @netns if given, and
 * wait until its socket accepts a connection (10 s).  On timeout, or if the
 * daemon exits first, print its log and return -ETIMEDOUT (or -ECHILD with
 * d->exit_status set).  @d is zeroed first; on failure nothing is left.
 */
int txct_daemon_start(struct txct_daemon *d, const char *netns, const char *const *args);
/*
 * The same, but the daemon runs as root with only the capabilities in @caps
 * (bit n = capability n): its bounding set is cut to @caps and its
 * inheritable and ambient sets are emptied before exec, so that exec leaves
 * it exactly @caps, and no_new_privs is set.  This is what systemd does for
 * a root service with CapabilityBoundingSet= and NoNewPrivileges=yes.
 * Restarts keep the limit.
 */
int txct_daemon_start_caps(struct txct_daemon *d, const char *netns, const char *const *args,
			   __u64 caps);
/* SIGTERM, wait (5 s, then SIGKILL); returns its exit status (0 expected). */
int txct_daemon_stop(struct txct_daemon *d);
/* SIGKILL and reap (crash simulation): socket file and pins stay. */
void txct_daemon_kill(struct txct_daemon *d);
/* Start again with the same socket, pin dir and args (after a stop with --keep or a kill). */
int txct_daemon_restart(struct txct_daemon *d);
/*
 * Kill the daemon if it runs, remove its pin dir tree (unpinning a link
 * whose daemon is dead detaches it, as nothing else holds it) and its
 * temporary directory, and unregister it.  Safe to call twice.
 */
void txct_daemon_cleanup(struct txct_daemon *d);
/* Cleanup of every daemon still registered (atexit, signals). */
void txct_daemon_cleanup_all(void);
/* Print the daemon's log (on test failure). */
void txct_daemon_dump_log(const struct txct_daemon *d);

/*
 * Spawn a program (found in $PATH if @argv[0] has no slash) with a fixed
 * argument vector and wait for it; stdout and stderr go to @out (may be
 * NULL: discarded), NUL-terminated.  Returns its
 * exit status (128 + signal if killed) or a negative errno.  Used to start a
 * second daemon whose refusal is the test.
 */
int txct_spawn_wait(const char *const *argv, char *out, size_t out_len, int timeout_ms);
/* Path of the daemon binary the fixture runs. */
/* build/<name> next to the test binary (<exe dir>/../<name>); $<env_name> overrides. */
const char *txct_build_path(const char *env_name, const char *name, char *path, size_t len);
const char *txct_daemon_path(void);

/*
 * Run @fn(arg) in a forked child as @uid/@gid (no supplementary groups),
 * keeping CAP_NET_ADMIN effective and permitted if @net_admin and no
 * capability otherwise.  Returns fn's return value (the child's exit code,
 * so keep it 0..253: 0 for success), or -1 if the child crashed or could not
 * switch user.  Assertions inside @fn print their failure but cannot mark
 * the parent's test: let @fn return non-zero and assert on that.
 */
int txct_run_as(uid_t uid, gid_t gid, bool net_admin, int (*fn)(void *), void *arg);

/*
 * The number in environment variable @name (as C writes one: 1000, 0x3e8),
 * @def when it is unset, and, said on stderr, when it is not one in
 * [@min, @max].
 */
unsigned long long txct_env_number(const char *name, unsigned long long min,
				   unsigned long long max, unsigned long long def);

/*
 * Calls @fn(@pid, fd, @arg), unless @fn is NULL, for each descriptor open in
 * process @pid; the number of them, or -errno.
 */
int proc_fd_each(pid_t pid, void (*fn)(pid_t pid, int fd, void *arg), void *arg);
/* Descriptors open in process @pid, or -errno. */
int proc_fd_count(pid_t pid);
/* The same once the count has stopped changing (a daemon done with its start). */
int proc_fd_count_settled(pid_t pid);
/* A connection to the API socket @path; @flags adds SOCK_NONBLOCK.  The fd or -errno. */
int txct_api_connect(const char *path, int flags);
/* VmRSS of process @pid in KiB, or -errno. */
long proc_rss_kb(pid_t pid);

#endif
