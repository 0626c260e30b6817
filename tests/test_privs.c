// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The capabilities txcanceld needs, proven rather than guessed: the set is
 * read from CapabilityBoundingSet= of dist/txcanceld.service, and the
 * daemon runs as root with exactly that set (bounding set cut, nothing
 * inheritable or ambient, no_new_privs: what systemd does for the unit).
 *
 *   unit_caps:  with the unit's set it starts, attaches tc and xdp to a veth
 *               interface, serves root and an unprivileged user (a socket
 *               tag, a cancel that drops the traffic, a clear that lets it
 *               through, EXPLAIN), and on SIGTERM detaches and unpins all.
 *   each_needed: with any one capability of the set taken away, it refuses
 *               to start (its own exit, status 1): the set is minimal.
 *   socket_group: --socket-group needs CAP_CHOWN on top (as the unit file
 *               and README say), and works with it.
 *
 * Addresses: 198.18.90.0/24 only, on a veth pair between two namespaces the
 * test creates.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>

#include "txcancel/txcancel.h"
#include "daemon_fixture.h"
#include "dp.h"
#include "netns.h"
#include "testlib.h"

#define IF_A		"pvA0"
#define IF_B		"pvB0"
#define ADDR_A		"198.18.90.1"
#define ADDR_B		"198.18.90.2"
#define PORT		6990
#define BURST		20
#define QUIET_MS	200
#define UID_USER	61031

/* Every capability name systemd accepts (linux/capability.h), by number. */
static const char *const cap_names[] = {
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
	"CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
	"CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
	"CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
	"CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
	"CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
	"CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE",
	"CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
	"CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
};
#define NR_CAP_NAMES	(int)(sizeof(cap_names) / sizeof(cap_names[0]))
#define CAP_CHOWN_BIT	0

static struct {
	int state;		/* 0 not set up, 1 up, -1 failed */
	char a[FX_NAME_MAX], b[FX_NAME_MAX];
	__u32 ifindex;
	__u64 caps;		/* the unit's CapabilityBoundingSet= */
} bed;

static int cap_number(const char *name)
{
	for (int i = 0; i < NR_CAP_NAMES; i++)
		if (!strcasecmp(cap_names[i], name))
			return i;
	return -1;
}

static void caps_string(__u64 caps, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (int i = 0; i < NR_CAP_NAMES && used < len; i++)
		if (caps & (1ULL << i))
			used += snprintf(buf + used, len - used, "%s%s", used ? " " : "",
					 cap_names[i]);
}

/* dist/txcanceld.service of the source tree ($TXCT_UNIT overrides). */
static const char *unit_path(void)
{
	static char path[PATH_MAX + 64];
	const char *p = txct_build_path("TXCT_UNIT", "../dist/txcanceld.service", path,
					sizeof(path));

	/* A build dir outside the tree: make check runs from the tree's top. */
	return access(p, R_OK) ? "dist/txcanceld.service" : p;
}

/*
 * The capabilities of CapabilityBoundingSet= lines (systemd ORs several
 * lines; an empty one resets).  The inverted form ("~CAP_...") is refused:
 * this unit names what it keeps.  Returns 0 or a negative errno.
 */
static int unit_caps(const char *path, __u64 *caps)
{
	char line[1024];
	int lineno = 0;
	bool seen = false;
	FILE *f = fopen(path, "re");

	if (!f) {
		printf("    %s: %s\n", path, strerror(errno));
		return -errno;
	}
	*caps = 0;
	while (fgets(line, sizeof(line), f)) {
		const char *key = "CapabilityBoundingSet=";
		char *v, *tok, *save;

		lineno++;
		if (strncmp(line, key, strlen(key)))
			continue;
		seen = true;
		v = line + strlen(key);
		if (*v == '~') {
			printf("    %s:%d: an inverted bounding set; name the capabilities kept\n",
			       path, lineno);
			fclose(f);
			return -EINVAL;
		}
		if (!v[strspn(v, " \t\n")])
			*caps = 0;
		for (tok = strtok_r(v, " \t\n", &save); tok; tok = strtok_r(NULL, " \t\n", &save)) {
			int n = cap_number(tok);

			if (n < 0) {
				printf("    %s:%d: unknown capability '%s'\n", path, lineno, tok);
				fclose(f);
				return -EINVAL;
			}
			*caps |= 1ULL << n;
		}
	}
	fclose(f);
	if (!seen) {
		printf("    %s: no CapabilityBoundingSet= line\n", path);
		return -ENOENT;
	}
	return 0;
}

/* A "Cap*:" line of /proc/<pid>/status. */
static int proc_caps(pid_t pid, const char *field, __u64 *caps)
{
	char path[64], line[256], key[32];
	unsigned long long v;
	int found = -ENOENT;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	snprintf(key, sizeof(key), "%s: %%llx", field);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, key, &v) == 1) {
			*caps = v;
			found = 0;
		}
	fclose(f);
	return found;
}

static bool bed_up(void)
{
	if (bed.state)
		return ASSERT_TRUE(bed.state > 0, "the testbed (setting it up failed earlier)");
	bed.state = -1;
	if (!ASSERT_OK(unit_caps(unit_path(), &bed.caps), "CapabilityBoundingSet= of the unit") ||
	    !ASSERT_OK(ns_create(bed.a, "privs-a"), "sender namespace") ||
	    !ASSERT_OK(ns_create(bed.b, "privs-b"), "sink namespace") ||
	    !ASSERT_OK(veth_link(bed.a, IF_A, ADDR_A, bed.b, IF_B, ADDR_B, 24, &bed.ifindex),
		       "veth link"))
		return false;
	bed.state = 1;
	return true;
}

static bool burst(int tx, int rx, int want, const char *what)
{
	return udp_burst(tx, rx, ADDR_B, PORT, BURST, 0x11, want, QUIET_MS, what);
}

/* As an unprivileged user: tag a socket, cancel, clear; traffic proves each step. */
struct user_ctx {
	const char *sock;
	int tx, rx;
};

static int user_client(void *arg)
{
	struct user_ctx *u = arg;
	struct txc_client *c = NULL;
	__u32 source, id;
	__u8 prefix;

	if (txc_client_open(&c, u->sock)) {
		printf("    user client: %s\n", txc_last_error());
		return 1;
	}
	if (txc_generate_partial_cancel_id(c, &prefix) || txc_source_open(c, &source))
		goto fail;
	id = TXC_ID_MAKE(prefix, 7);
	if (txc_tag_socket(c, u->tx, id, source, NULL))
		goto fail;
	if (!burst(u->tx, u->rx, BURST, "user: tagged"))
		return 2;
	if (txc_cancel_send_net_buffer_lists(c, id))
		goto fail;
	if (!burst(u->tx, u->rx, 0, "user: canceled"))
		return 3;
	if (txc_clear(c, TXC_SCOPE_ID, id, NULL))
		goto fail;
	if (!burst(u->tx, u->rx, BURST, "user: cleared"))
		return 4;
	txc_client_close(c);
	return 0;
fail:
	printf("    user client: %s\n", txc_client_error(c));
	txc_client_close(c);
	return 5;
}

/* Whether IF_A's clsact egress holds txcancel's filter (kernels without tcx). */
static bool clsact_filter_of_txcancel(void)
{
	char out[4096];

	return !fx_run_output(out, sizeof(out), "tc -n %s filter show dev %s egress", bed.a,
			      IF_A) &&
	       strstr(out, "txc_tc_egress");
}

/*
 * Root's view: STATUS says attached by the kernel's TC mode (tcx from Linux
 * 6.6, clsact before) and xdp; EXPLAIN answers.
 */
static void root_checks(const struct txct_daemon *d)
{
	struct txc_status_iface ifs[4];
	struct txc_rep_explain ex;
	struct txc_rep_status st;
	struct txc_client *c = NULL;
	__u8 frame[64] = { [12] = 0x08, [13] = 0x00 };

	if (!ASSERT_OK(txc_client_open(&c, d->sock), "root client connects"))
		return;
	if (ASSERT_OK(txc_status(c, &st, ifs, 4, NULL, 0), "STATUS") &&
	    ASSERT_EQ(st.n_ifaces, 1, "interfaces in STATUS")) {
		ASSERT_EQ(ifs[0].ifindex, bed.ifindex, "STATUS: ifindex of " IF_A);
		if (txdp_kernel_has_tcx())
			ASSERT_TRUE(ifs[0].flags & TXC_IFACE_F_TC_TCX, "STATUS: tc egress by tcx");
		else
			ASSERT_TRUE(ifs[0].flags & TXC_IFACE_F_TC_CLSACT,
				    "STATUS: tc egress by clsact (no tcx before Linux 6.6)");
		ASSERT_TRUE(ifs[0].flags & TXC_IFACE_F_XDP, "STATUS: xdp");
	}
	/* EXPLAIN loads a second program instance and test-runs it. */
	if (!ASSERT_OK(txc_explain(c, IF_A, 0, frame, sizeof(frame), &ex), "EXPLAIN"))
		printf("    %s\n", txc_client_error(c));
	txc_client_close(c);
}

/* The flags STATUS shows for IF_A, 0 if it cannot tell. */
static __u32 status_flags(const struct txct_daemon *d)
{
	struct txc_status_iface ifs[4];
	struct txc_rep_status st;
	struct txc_client *c = NULL;
	__u32 flags = 0;

	if (txc_client_open(&c, d->sock))
		return 0;
	if (!txc_status(c, &st, ifs, 4, NULL, 0) && st.n_ifaces == 1)
		flags = ifs[0].flags;
	txc_client_close(c);
	return flags;
}

/* The unit_caps run: one daemon, from its start to what it leaves behind. */
struct unit_run {
	struct txct_daemon d;
	struct user_ctx u;
	bool tcx;		/* the kernel has tcx: the TC program is a pinned link */
	__u32 tc_prog_id;	/* the program of the pinned tc link, 0 if unknown */
};

/* The daemon starts with the unit's set, and runs with exactly that set. */
static bool unit_started(struct unit_run *run)
{
	static const char *const args[] = { "-i", IF_A ":tc+xdp", NULL };
	__u64 eff = 0, bnd = 0;
	char names[512];

	caps_string(bed.caps, names, sizeof(names));
	printf("    %s: CapabilityBoundingSet=%s\n", unit_path(), names);
	if (!ASSERT_OK(txct_daemon_start_caps(&run->d, bed.a, args, bed.caps),
		       "txcanceld starts with the unit's capabilities"))
		return false;
	ASSERT_OK(proc_caps(run->d.pid, "CapEff", &eff), "CapEff of txcanceld");
	ASSERT_OK(proc_caps(run->d.pid, "CapBnd", &bnd), "CapBnd of txcanceld");
	ASSERT_EQ(eff, bed.caps, "txcanceld's effective capabilities are the unit's set");
	ASSERT_EQ(bnd, bed.caps, "txcanceld's bounding set is the unit's set");
	return true;
}

/* The program of the link pinned at @pin, 0 if there is none. */
static __u32 pinned_link_prog(const char *pin)
{
	int fd = bpf_obj_get(pin);
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);
	__u32 prog_id = 0;

	if (fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &len))
		prog_id = info.prog_id;
	if (fd >= 0)
		close(fd);
	return prog_id;
}

/* With those capabilities it attaches tc and xdp to IF_A, and pins their links. */
static void unit_attached(struct unit_run *run)
{
	const struct txct_daemon *d = &run->d;
	char pin[256], xdp_pin[256];
	__u32 flags = 0;

	snprintf(pin, sizeof(pin), "%s/links/tc-%u", d->pin_dir, bed.ifindex);
	/* The socket is served before the interfaces are attached. */
	snprintf(xdp_pin, sizeof(xdp_pin), "%s/links/xdp-%u", d->pin_dir, bed.ifindex);
	for (int tries = 0; tries < 250 && ((run->tcx && access(pin, F_OK)) ||
					     !((flags = status_flags(d)) & TXC_IFACE_F_XDP)); tries++)
		usleep(20000);
	/* Without tcx (before Linux 6.6) the TC program is a clsact filter, not a link. */
	if (run->tcx)
		ASSERT_OK(access(pin, F_OK) ? -errno : 0, "tc link pinned");
	else
		ASSERT_TRUE(clsact_filter_of_txcancel(), "txcancel's clsact filter on " IF_A);
	if (!ASSERT_TRUE(flags & TXC_IFACE_F_XDP, "xdp attached"))
		txct_daemon_dump_log(&run->d);
	/* In libxdp's dispatcher, where the kernel runs it, there is no link of txcancel's. */
	if (!(flags & TXC_IFACE_F_XDP_MULTIPROG))
		ASSERT_OK(access(xdp_pin, F_OK) ? -errno : 0, "xdp link pinned");
	run->tc_prog_id = pinned_link_prog(pin);
}

/* An unprivileged user is served: it tags, cancels and clears. */
static void unit_serves_user(struct unit_run *run)
{
	int err;

	run->u.sock = run->d.sock;
	run->u.tx = udp_open(bed.a, ADDR_A, PORT + 1);
	run->u.rx = udp_open(bed.b, ADDR_B, PORT);
	if (ASSERT_GE0(run->u.tx, "sender socket") && ASSERT_GE0(run->u.rx, "sink socket")) {
		err = txct_run_as(UID_USER, UID_USER, false, user_client, &run->u);
		ASSERT_EQ(err, 0, "an unprivileged user tags, cancels and clears (0: all held)");
	}
}

/* How many links of the kernel run program @prog_id. */
static int links_of_prog(__u32 prog_id)
{
	__u32 id = 0;
	int left = 0;

	while (!bpf_link_get_next_id(id, &id)) {
		struct bpf_link_info info = {};
		__u32 len = sizeof(info);
		int fd = bpf_link_get_fd_by_id(id);

		if (fd < 0)
			continue;
		left += !bpf_obj_get_info_by_fd(fd, &info, &len) && info.prog_id == prog_id;
		close(fd);
	}
	return left;
}

/* On SIGTERM it detaches and unpins all it attached and pinned. */
static void unit_stopped(struct unit_run *run)
{
	ASSERT_EQ(txct_daemon_stop(&run->d), 0, "txcanceld exit status (SIGTERM)");
	ASSERT_TRUE(access(run->d.pin_dir, F_OK) && errno == ENOENT, "pin dir removed on exit");
	if (!run->tcx)
		ASSERT_TRUE(!clsact_filter_of_txcancel(), "no txcancel filter left on " IF_A);
	/* The tc link is gone with its pin; its id is not reused. */
	if (run->tc_prog_id)
		ASSERT_EQ(links_of_prog(run->tc_prog_id), 0,
			  "links of the daemon's tc program after it exited");
}

static void test_unit_caps(void)
{
	struct unit_run run = {
		.d = { .pid = 0 },
		.u = { .tx = -1, .rx = -1 },
		.tcx = txdp_kernel_has_tcx(),
	};

	if (!bed_up())
		return;
	if (unit_started(&run)) {
		unit_attached(&run);
		root_checks(&run.d);
		unit_serves_user(&run);
		unit_stopped(&run);
	}
	if (run.u.tx >= 0)
		close(run.u.tx);
	if (run.u.rx >= 0)
		close(run.u.rx);
	if (run.d.pid > 0)
		txct_daemon_dump_log(&run.d);
	txct_daemon_cleanup(&run.d);
}

static void test_each_needed(void)
{
	/* Quiet: libbpf's verifier log is hundreds of warning lines. */
	static const char *const args[] = { "-i", IF_A ":tc+xdp", "-l", "error", NULL };

	if (!bed_up())
		return;
	for (int cap = 0; cap < 64; cap++) {
		struct txct_daemon d = { .pid = 0 };
		char what[128];
		int err;

		if (!(bed.caps & (1ULL << cap)))
			continue;
		if (test_sub_begin("without_%s", cap < NR_CAP_NAMES ? cap_names[cap] : "?")) {
			err = txct_daemon_start_caps(&d, bed.a, args, bed.caps & ~(1ULL << cap));
			snprintf(what, sizeof(what),
				 "txcanceld without %s refuses to start (-ECHILD)",
				 cap_names[cap]);
			/* The fixture shows the daemon's log, which says what was refused. */
			ASSERT_EQ(err, -ECHILD, what);
			/*
			 * Its own refusal, exit status 1: not the fixture's exec
			 * failure (127) or a signal, which also end in -ECHILD.
			 */
			ASSERT_EQ(d.exit_status, 1, "txcanceld itself refused (exit status 1)");
			txct_daemon_cleanup(&d);
			test_sub_end();
		}
	}
}

static void test_socket_group(void)
{
	static const char *const args[] = { "-i", IF_A, "--socket-group", "nogroup", "-l",
					    "error", NULL };
	struct txct_daemon d = { .pid = 0 };
	struct group *g = getgrnam("nogroup");
	struct stat st;
	int err;

	if (!g) {
		test_skip("no group 'nogroup' on this system");
		return;
	}
	if (!bed_up())
		return;
	err = txct_daemon_start_caps(&d, bed.a, args, bed.caps);
	ASSERT_EQ(err, -ECHILD, "--socket-group with the unit's set refuses to start");
	txct_daemon_cleanup(&d);

	err = txct_daemon_start_caps(&d, bed.a, args, bed.caps | 1ULL << CAP_CHOWN_BIT);
	if (ASSERT_OK(err, "--socket-group with CAP_CHOWN added starts") &&
	    ASSERT_OK(stat(d.sock, &st) ? -errno : 0, "socket file"))
		ASSERT_EQ(st.st_gid, g->gr_gid, "the socket's group");
	if (d.pid > 0)
		ASSERT_EQ(txct_daemon_stop(&d), 0, "txcanceld exit status (SIGTERM)");
	txct_daemon_cleanup(&d);
}

static const struct test_case cases[] = {
	{ "unit_caps", test_unit_caps },
	{ "each_needed", test_each_needed },
	{ "socket_group", test_socket_group },
};

int main(int argc, char **argv)
{
	int ret;

	fx_start("test_privs", "namespaces, veth, BPF, capabilities");
	ret = test_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
	if (bed.state)
		ns_delete(bed.a), ns_delete(bed.b);
	return ret;
}
