// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Whether the pin dir's bpffs outlives the daemon.
 *
 * Everything that must survive a crash (links, rules, cancels, leases,
 * accounts) is pinned there.  A bpffs mounted only in a mount namespace of
 * the daemon's own goes away with the daemon: `ip netns exec` gives the
 * command a new mount namespace with a fresh /sys, where nothing is mounted
 * on /sys/fs/bpf; the datapath library would mount a bpffs there, and after a kill -9
 * every link, lease and cancel is gone while the next daemon starts
 * "clean" on another empty bpffs.
 *
 * The reference is the mount namespace of the daemon's furthest ancestor
 * whose namespace can be read (the shell or service manager that started
 * it, outside any `ip netns exec`).  The pin dir is durable if it sits on
 * the bpffs that namespace sees at the same path, or if nothing is mounted
 * yet and the daemon runs in that very namespace (a bpffs it mounts stays).
 * Where no ancestor can be read (a service whose capabilities do not allow
 * it), nothing can be told and nothing is refused.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include "state.h"

static int mnt_ns_of(pid_t pid, char *buf, size_t len)
{
	char path[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int)pid);
	n = readlink(path, buf, len - 1);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

static pid_t parent_of(pid_t pid)
{
	char path[64], buf[512], *p;
	int ppid = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	/* "pid (comm) state ppid": comm may hold spaces and parentheses. */
	if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')))
		sscanf(p + 1, " %*c %d", &ppid);
	fclose(f);
	return ppid;
}

/* The furthest ancestor whose mount namespace is readable: 0 if none. */
static pid_t reference_process(char *ns, size_t len)
{
	pid_t ref = 0;

	for (pid_t pid = parent_of(getpid()); pid > 0; pid = parent_of(pid)) {
		if (mnt_ns_of(pid, ns, len))
			break;
		ref = pid;
		if (pid == 1)
			break;
	}
	return ref ? (mnt_ns_of(ref, ns, len), ref) : 0;
}

int txcd_pinfs_check(const char *pin_dir, bool ephemeral_ok)
{
	char dir[PATH_MAX], via[PATH_MAX + 32], own[64], ref_ns[64];
	struct stat here, there;
	struct statfs st;
	bool mounted, durable;
	const char *why;
	char *slash;
	pid_t ref;

	snprintf(dir, sizeof(dir), "%s", pin_dir);
	while (statfs(dir, &st)) {
		/* Other errors are the datapath library's to report, with their cause. */
		if (errno != ENOENT || !(slash = strrchr(dir, '/')) || slash == dir)
			return 0;
		*slash = '\0';
	}
	mounted = st.f_type == BPF_FS_MAGIC;
	ref = reference_process(ref_ns, sizeof(ref_ns));
	if (!ref || mnt_ns_of(getpid(), own, sizeof(own))) {
		txdp_log(TXDP_LOG_DEBUG, "%s: cannot tell whether its bpffs outlives txcanceld "
			"(no ancestor's mount namespace is readable)\n", pin_dir);
		return 0;
	}
	if (!strcmp(own, ref_ns))
		return 0;
	if (!mounted) {
		durable = false;
		why = "nothing is mounted there in txcanceld's mount namespace, which is not that "
		      "of the processes that started it: a bpffs mounted there would go away "
		      "with txcanceld";
	} else {
		snprintf(via, sizeof(via), "/proc/%d/root%s", (int)ref, dir);
		durable = !stat(dir, &here) && !stat(via, &there) && here.st_dev == there.st_dev;
		why = "the bpffs there is private to txcanceld's mount namespace, not the one "
		      "the processes that started it see";
	}
	if (durable)
		return 0;
	if (ephemeral_ok) {
		txdp_log(TXDP_LOG_WARN, "%s: %s; --ephemeral: links, leases and cancels will not "
			"survive a crash or a restart\n", pin_dir, why);
		return 0;
	}
	txdp_log(TXDP_LOG_ERROR, "%s: %s, and with it every link, lease and cancel a restart "
		"must find (`ip netns exec` remounts /sys like this).  Start txcanceld in the "
		"namespace with `nsenter --net=/run/netns/NAME` instead, put --pin-dir on the "
		"host's bpffs, or pass --ephemeral to run without those guarantees\n", pin_dir,
		why);
	return -EXDEV;
}
