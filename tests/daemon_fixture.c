/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* A private txcanceld per test, and running code as another user: see daemon_fixture.h. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <linux/capability.h>

#include "daemon_fixture.h"
#include "testlib.h"

#define START_TIMEOUT_MS	10000	/* TXCT_DAEMON_START_MS overrides (slow VM guests) */
#define STOP_TIMEOUT_MS		5000
#define POLL_STEP_MS		20
#define CAP_NET_ADMIN_BIT	12

/*
 * What cleanup needs is copied here, not pointed at: a test that returns
 * early leaves its struct txct_daemon out of scope, and the exit handler
 * must still find the daemon, its pins and its directory.
 */
#define REG_MAX			32

static struct reg {
	bool used;
	pid_t pid;
	char pin_dir[128];
	char dir[64];
} reg[REG_MAX];

static unsigned int n_started;
static bool guard_installed;
/* Forked children inherit atexit() and the handlers: only this process cleans up. */
static pid_t owner_pid;
static struct sigaction old_act[3];
static const int guard_sigs[3] = { SIGINT, SIGTERM, SIGHUP };

static int status_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 255;
}

/* --- removal -------------------------------------------------------------- */

static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type == FTW_DP ? rmdir(path) : unlink(path))
		fprintf(stderr, "daemon fixture: removing %s: %s\n", path, strerror(errno));
	return 0;
}

static void rm_tree(const char *path)
{
	struct stat st;

	if (!path[0] || lstat(path, &st))
		return;
	nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void reg_cleanup(struct reg *r)
{
	if (!r->used)
		return;
	if (r->pid > 0) {
		kill(r->pid, SIGKILL);
		waitpid(r->pid, NULL, 0);
		r->pid = 0;
	}
	rm_tree(r->pin_dir);
	rm_tree(r->dir);
	r->used = false;
}

void txct_daemon_cleanup_all(void)
{
	if (getpid() != owner_pid)
		return;
	for (int i = 0; i < REG_MAX; i++)
		reg_cleanup(&reg[i]);
}

static void guard_signal(int sig)
{
	/* Not async-signal-safe, but a test killed mid-run must not leave pins behind. */
	txct_daemon_cleanup_all();
	for (int i = 0; i < 3; i++)
		if (guard_sigs[i] == sig)
			sigaction(sig, &old_act[i], NULL);
	/* The handler that was there before (another fixture's) runs next. */
	raise(sig);
}

/*
 * On every start: another fixture (netns.c) may have installed its handler
 * since, which would then run instead of ours; ours goes first and hands
 * the signal on to it.
 */
static void guard_install(void)
{
	struct sigaction sa = { .sa_handler = guard_signal }, cur;

	if (!guard_installed) {
		owner_pid = getpid();
		atexit(txct_daemon_cleanup_all);
	}
	guard_installed = true;
	sigemptyset(&sa.sa_mask);
	for (int i = 0; i < 3; i++) {
		if (sigaction(guard_sigs[i], NULL, &cur) || cur.sa_handler == guard_signal)
			continue;
		sigaction(guard_sigs[i], &sa, &old_act[i]);
	}
}

static struct reg *reg_of(const struct txct_daemon *d)
{
	for (int i = 0; i < REG_MAX; i++)
		if (reg[i].used && !strcmp(reg[i].dir, d->dir))
			return &reg[i];
	return NULL;
}

static void reg_set_pid(const struct txct_daemon *d)
{
	struct reg *r = reg_of(d);

	if (r)
		r->pid = d->pid;
}

/* --- the daemon ----------------------------------------------------------- */

/*
 * How long a starting daemon may take to serve.  Under an emulated CPU
 * (QEMU's TCG) loading and verifying the programs alone can take longer
 * than on the machine itself, the more so under a flood.
 */
static int start_timeout_ms(void)
{
	return txct_env_number("TXCT_DAEMON_START_MS", 1000, 600000, START_TIMEOUT_MS);
}

unsigned long long txct_env_number(const char *name, unsigned long long min,
				   unsigned long long max, unsigned long long def)
{
	const char *env = getenv(name);
	unsigned long long n;
	char *end;

	if (!env || !*env)
		return def;
	errno = 0;
	n = strtoull(env, &end, 0);
	if (*end || errno || *env == '-' || n < min || n > max) {
		fprintf(stderr, "%s=%s is not a number from %llu to %llu; using %llu\n", name, env,
			min, max, def);
		return def;
	}
	return n;
}

const char *txct_build_path(const char *env_name, const char *name, char *path, size_t len)
{
	const char *env = getenv(env_name);
	char exe[PATH_MAX];
	ssize_t n;
	char *slash;

	if (env && *env)
		return env;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0) {
		snprintf(path, len, "build/%s", name);
		return path;
	}
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (slash)
		*slash = '\0';
	snprintf(path, len, "%s/../%s", exe, name);
	return path;
}

const char *txct_daemon_path(void)
{
	static char path[PATH_MAX + 16];

	return txct_build_path("TXCT_DAEMON", "txcanceld", path, sizeof(path));
}

static void close_from(int first)
{
	if (syscall(SYS_close_range, first, ~0u, 0) == 0)
		return;
	for (int fd = first; fd < 1024; fd++)
		close(fd);
}

/*
 * Root's capabilities after exec are its bounding set plus its inheritable
 * set (root's file capabilities count as full); cut the first to @caps and
 * empty the second, so the daemon gets exactly @caps.  Returns -1 (errno).
 */
static int limit_caps(__u64 caps)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};

	for (int cap = 0; cap < 64; cap++) {
		if (caps & (1ULL << cap))
			continue;
		/* EINVAL: past the last capability this kernel knows. */
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) && errno != EINVAL)
			return -1;
	}
	if (syscall(SYS_capget, &hdr, data))
		return -1;
	for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; i++) {
		__u32 keep = caps >> (32 * i);

		data[i].effective &= keep;
		data[i].permitted &= keep;
		data[i].inheritable = 0;
	}
	if (syscall(SYS_capset, &hdr, data) ||
	    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -1;
	return 0;
}

/* In the child: become the daemon.  Only returns (exits) on failure. */
static void __attribute__((noreturn)) exec_daemon(const struct txct_daemon *d)
{
	const char *argv[16 + TXCT_MAX_ARGS] = {
		txct_daemon_path(), "-s", d->sock, "-d", d->pin_dir,
		"--socket-mode", "0666", "-l", "debug",
	};
	int argc = 9, fd;

	/* A test program that dies must not leave its daemon running: SIGTERM lets it unpin. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	fd = open(d->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd >= 0) {
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
	}
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd >= 0)
		dup2(fd, STDIN_FILENO);
	close_from(3);
	if (d->netns[0]) {
		char path[128];

		/*
		 * Only the network namespace: `ip netns exec` would also remount
		 * /sys, which hides the bpffs where the test looks for the pins.
		 */
		snprintf(path, sizeof(path), "/run/netns/%s", d->netns);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || setns(fd, CLONE_NEWNET)) {
			fprintf(stderr, "daemon fixture: entering netns %s: %s\n", d->netns,
				strerror(errno));
			_exit(127);
		}
		close(fd);
	}
	if (d->limit_caps && limit_caps(d->caps)) {
		fprintf(stderr, "daemon fixture: limiting capabilities to 0x%llx: %s\n",
			(unsigned long long)d->caps, strerror(errno));
		_exit(127);
	}
	for (int i = 0; d->args[i] && i < TXCT_MAX_ARGS; i++)
		argv[argc++] = d->args[i];
	argv[argc] = NULL;
	/* A signal the test ignores would stay ignored across exec: the daemon needs them. */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	execv(argv[0], (char *const *)argv);
	fprintf(stderr, "daemon fixture: exec %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

int txct_api_connect(const char *path, int flags)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | flags, 0);

	if (fd < 0)
		return -errno;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun))) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static bool socket_accepts(const char *path)
{
	int fd = txct_api_connect(path, 0);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

static int spawn(struct txct_daemon *d)
{
	int status, waited;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0)
		exec_daemon(d);
	d->pid = pid;
	reg_set_pid(d);
	for (waited = 0; waited < start_timeout_ms(); waited += POLL_STEP_MS) {
		if (waitpid(pid, &status, WNOHANG) == pid) {
			d->pid = 0;
			reg_set_pid(d);
			d->exit_status = status_code(status);
			fprintf(stderr, "daemon fixture: txcanceld exited with status %d before "
				"serving %s\n", d->exit_status, d->sock);
			txct_daemon_dump_log(d);
			return -ECHILD;
		}
		if (socket_accepts(d->sock))
			return 0;
		test_sleep_ms(POLL_STEP_MS);
	}
	fprintf(stderr, "daemon fixture: txcanceld (pid %d) did not serve %s within %d ms\n",
		(int)pid, d->sock, start_timeout_ms());
	txct_daemon_dump_log(d);
	txct_daemon_kill(d);
	return -ETIMEDOUT;
}

static void free_args(struct txct_daemon *d)
{
	for (int i = 0; i < TXCT_MAX_ARGS && d->args[i]; i++) {
		free(d->args[i]);
		d->args[i] = NULL;
	}
}

static int daemon_start(struct txct_daemon *d, const char *netns, const char *const *args,
			bool limit, __u64 caps)
{
	struct reg *r = NULL;
	int i, err;

	memset(d, 0, sizeof(*d));
	d->limit_caps = limit;
	d->caps = caps;
	guard_install();
	for (i = 0; args && args[i]; i++) {
		if (i == TXCT_MAX_ARGS) {
			fprintf(stderr, "daemon fixture: more than %d arguments\n", TXCT_MAX_ARGS);
			free_args(d);
			return -E2BIG;
		}
		d->args[i] = strdup(args[i]);
		if (!d->args[i]) {
			free_args(d);
			return -ENOMEM;
		}
	}
	for (i = 0; i < REG_MAX && !r; i++)
		if (!reg[i].used)
			r = &reg[i];
	if (!r) {
		fprintf(stderr, "daemon fixture: more than %d daemons at once\n", REG_MAX);
		free_args(d);
		return -EMFILE;
	}
	snprintf(d->netns, sizeof(d->netns), "%s", netns ? netns : "");
	snprintf(d->dir, sizeof(d->dir), "/tmp/txct-XXXXXX");
	if (!mkdtemp(d->dir)) {
		err = -errno;
		fprintf(stderr, "daemon fixture: mkdtemp: %s\n", strerror(errno));
		free_args(d);
		return err;
	}
	/* Other users' clients (permission tests) must reach the socket inside. */
	chmod(d->dir, 0755);
	snprintf(d->sock, sizeof(d->sock), "%s/sock", d->dir);
	snprintf(d->log, sizeof(d->log), "%s/log", d->dir);
	snprintf(d->pin_dir, sizeof(d->pin_dir), "/sys/fs/bpf/txct-%d-%u", (int)getpid(),
		 ++n_started);
	*r = (struct reg){ .used = true };
	snprintf(r->pin_dir, sizeof(r->pin_dir), "%s", d->pin_dir);
	snprintf(r->dir, sizeof(r->dir), "%s", d->dir);
	d->registered = true;

	err = spawn(d);
	if (err)
		txct_daemon_cleanup(d);
	return err;
}

int txct_daemon_start(struct txct_daemon *d, const char *netns, const char *const *args)
{
	return daemon_start(d, netns, args, false, 0);
}

int txct_daemon_start_caps(struct txct_daemon *d, const char *netns, const char *const *args,
			   __u64 caps)
{
	return daemon_start(d, netns, args, true, caps);
}

static int wait_exit(pid_t pid, int timeout_ms, int *status)
{
	for (int waited = 0; waited <= timeout_ms; waited += POLL_STEP_MS) {
		pid_t ret = waitpid(pid, status, WNOHANG);

		if (ret == pid)
			return 0;
		if (ret < 0)
			return -errno;
		test_sleep_ms(POLL_STEP_MS);
	}
	return -ETIMEDOUT;
}

int txct_daemon_stop(struct txct_daemon *d)
{
	int status = 0, err;

	if (d->pid <= 0)
		return d->exit_status;
	kill(d->pid, SIGTERM);
	err = wait_exit(d->pid, STOP_TIMEOUT_MS, &status);
	if (err == -ETIMEDOUT) {
		fprintf(stderr, "daemon fixture: txcanceld (pid %d) still runs %d ms after "
			"SIGTERM; killing it\n", (int)d->pid, STOP_TIMEOUT_MS);
		kill(d->pid, SIGKILL);
		waitpid(d->pid, &status, 0);
	}
	d->exit_status = err == -ECHILD ? 255 : status_code(status);
	d->pid = 0;
	reg_set_pid(d);
	return d->exit_status;
}

void txct_daemon_kill(struct txct_daemon *d)
{
	int status = 0;

	if (d->pid <= 0)
		return;
	kill(d->pid, SIGKILL);
	waitpid(d->pid, &status, 0);
	d->exit_status = status_code(status);
	d->pid = 0;
	reg_set_pid(d);
}

int txct_daemon_restart(struct txct_daemon *d)
{
	FILE *f;

	if (d->pid > 0) {
		fprintf(stderr, "daemon fixture: restart while pid %d still runs\n", (int)d->pid);
		return -EBUSY;
	}
	if (!reg_of(d))
		return -ENOENT;
	f = fopen(d->log, "ae");
	if (f) {
		fprintf(f, "---- daemon fixture: restart ----\n");
		fclose(f);
	}
	return spawn(d);
}

void txct_daemon_cleanup(struct txct_daemon *d)
{
	struct reg *r;

	txct_daemon_kill(d);
	r = d->registered ? reg_of(d) : NULL;
	if (r)
		reg_cleanup(r);
	d->registered = false;
	free_args(d);
}

void txct_daemon_dump_log(const struct txct_daemon *d)
{
	char line[1024];
	unsigned int skipped = 0;
	FILE *f = fopen(d->log, "re");

	if (!f) {
		printf("    (no txcanceld log at %s: %s)\n", d->log, strerror(errno));
		return;
	}
	fflush(stderr);
	printf("    ---- txcanceld log %s ----\n", d->log);
	/* libbpf's debug output (thousands of relocation lines) buries the daemon's own. */
	while (fgets(line, sizeof(line), f)) {
		if (strstr(line, "debug: libbpf:")) {
			skipped++;
			continue;
		}
		fputs(line, stdout);
	}
	printf("    ---- end of log (%u libbpf debug lines left out) ----\n", skipped);
	fflush(stdout);
	fclose(f);
}

int txct_spawn_wait(const char *const *argv, char *out, size_t out_len, int timeout_ms)
{
	size_t used = 0;
	int pipefd[2], status = 0, waited = 0;
	pid_t pid;

	if (out && out_len)
		out[0] = '\0';
	if (pipe2(pipefd, O_CLOEXEC))
		return -errno;
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		close(pipefd[0]);
		close(pipefd[1]);
		return -errno;
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(pipefd[1], STDOUT_FILENO);
		dup2(pipefd[1], STDERR_FILENO);
		execvp(argv[0], (char *const *)argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(pipefd[1]);
	for (;;) {
		struct pollfd pfd = { .fd = pipefd[0], .events = POLLIN };
		char buf[512];
		ssize_t n;

		if (waited >= timeout_ms) {
			kill(pid, SIGKILL);
			break;
		}
		if (poll(&pfd, 1, POLL_STEP_MS) <= 0) {
			waited += POLL_STEP_MS;
			continue;
		}
		n = read(pipefd[0], buf, sizeof(buf));
		if (n <= 0)
			break;
		if (out && out_len > used + 1) {
			size_t take = (size_t)n < out_len - used - 1 ? (size_t)n : out_len - used - 1;

			memcpy(out + used, buf, take);
			used += take;
			out[used] = '\0';
		}
	}
	close(pipefd[0]);
	if (waitpid(pid, &status, 0) != pid)
		return -ECHILD;
	return waited >= timeout_ms ? -ETIMEDOUT : status_code(status);
}

/* --- another user --------------------------------------------------------- */

static int keep_net_admin(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};

	data[0].effective = 1u << CAP_NET_ADMIN_BIT;
	data[0].permitted = 1u << CAP_NET_ADMIN_BIT;
	return syscall(SYS_capset, &hdr, data) ? -errno : 0;
}

int txct_run_as(uid_t uid, gid_t gid, bool net_admin, int (*fn)(void *), void *arg)
{
	int status;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int ret;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		/* Keep the permitted set across setresuid() so NET_ADMIN can be raised again. */
		if (net_admin && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0)) {
			fprintf(stderr, "run_as: PR_SET_KEEPCAPS: %s\n", strerror(errno));
			_exit(254);
		}
		if (setgroups(0, NULL) || setresgid(gid, gid, gid) || setresuid(uid, uid, uid)) {
			fprintf(stderr, "run_as: switching to uid %u gid %u: %s\n", uid, gid,
				strerror(errno));
			_exit(254);
		}
		if (net_admin && keep_net_admin()) {
			fprintf(stderr, "run_as: capset CAP_NET_ADMIN: %s\n", strerror(errno));
			_exit(254);
		}
		ret = fn(arg);
		fflush(stdout);
		fflush(stderr);
		_exit(ret & 0xff);
	}
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	if (!WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status) == 254 ? -1 : WEXITSTATUS(status);
}

int proc_fd_each(pid_t pid, void (*fn)(pid_t pid, int fd, void *arg), void *arg)
{
	char path[64];
	struct dirent *e;
	int n = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	dir = opendir(path);
	if (!dir)
		return -errno;
	while ((e = readdir(dir))) {
		if (e->d_name[0] == '.')
			continue;
		if (fn)
			fn(pid, atoi(e->d_name), arg);
		n++;
	}
	closedir(dir);
	return n;
}

int proc_fd_count(pid_t pid)
{
	return proc_fd_each(pid, NULL, NULL);
}

/*
 * A daemon keeps a few things ready in the background (rings made ahead of
 * need): its descriptor count is a baseline only once that is done.  Taken
 * when it has not changed over SETTLE_READS reads in a row; no time is
 * judged, the bound only ends a wait that would never settle.
 */
#define SETTLE_READS	10
#define SETTLE_STEP_MS	50
#define SETTLE_MAX_MS	15000

int proc_fd_count_settled(pid_t pid)
{
	struct timespec step = { 0, SETTLE_STEP_MS * 1000000L };
	int n = proc_fd_count(pid), same = 0;

	for (int waited = 0; same < SETTLE_READS && waited < SETTLE_MAX_MS;
	     waited += SETTLE_STEP_MS) {
		int now;

		nanosleep(&step, NULL);
		now = proc_fd_count(pid);
		same = now == n ? same + 1 : 0;
		n = now;
	}
	return n;
}

long proc_rss_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = -ENOENT;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}
