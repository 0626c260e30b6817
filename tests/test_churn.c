// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Interface churn: txcanceld manages NIF veth interfaces in a private
 * network namespace while the test deletes, re-creates, renames and sets
 * them down and up, and clients (ordinary users, through libtxcancel) tag
 * their sockets, send, cancel, clear, read completions and ask for the
 * status without a pause.  Once per attach mode (tcx, clsact, tc+xdp).
 *
 * At every checkpoint, once the daemon has caught up: STATUS lists every
 * interface under its current name and ifindex (or absent, under its
 * configured name), txc_ifaces holds exactly the present interfaces (the
 * slots of deleted ones are free), links/ holds exactly their pins, the
 * kernel has exactly their BPF links (none for a gone ifindex), clsact mode
 * has exactly txcancel's filter; and the datapath works on an interface
 * that was just re-created or renamed: a cancel drops its traffic, a clear
 * lets it flow.  At the end: the daemon's fd count and VmRSS did not grow
 * after the warm-up, every client request was answered and every client's
 * completions add up, the leases of the clients are released, and after
 * SIGTERM nothing of txcancel is left: no pin, no link, no qdiscs or
 * filters, no XDP program.
 *
 * TXCT_CHURN_ROUNDS sets the random operations per mode (default 150, at
 * least WARMUP_ROUNDS + 15 so that growth after the warm-up is measured over
 * that many rounds).  On a kernel without tcx (before Linux 6.6) the tcx mode
 * is skipped and tc+xdp's automatic mode is clsact.
 *
 * Addresses: 198.18.80.0/22 only, on veth pairs between two namespaces the
 * test creates; traffic never leaves them and is bounded per round.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <grp.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <net/if.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>

#include "txcancel/txcancel.h"
#include "daemon_fixture.h"
#include "dp.h"
#include "netns.h"
#include "testlib.h"

#define NIF		4	/* managed interfaces */
#define NCLIENTS	2	/* background clients */
#define UID_CLIENT	61021	/* uid of client 0; client k is UID_CLIENT + k */
#define SUBNET0		80	/* interface i: 198.18.(80+i).1 <-> .2 */
#define ROUNDS		150	/* random churn operations per attach mode */
#define MIN_MEASURED	15	/* rounds after the warm-up, at least */
#define CHECK_EVERY	25	/* a checkpoint after this many rounds */
#define WARMUP_ROUNDS	25	/* fd and memory baseline after these */
#define BURST		20	/* datagrams per datapath phase */
#define QUIET_MS	200
#define SETTLE_MS	8000	/* longest the daemon may take to catch up */
#define CLIENT_MAX_ITER	20000	/* bound on a client's loop, whatever happens */
#define CLIENT_PAUSE_US	4000
#define CLIENT_SEND	2	/* datagrams per client send step */
/*
 * Growth allowed between warm-up and end.  One fd per round would exceed
 * the first many times over; VmRSS moves by about 0.5 MB either way between
 * runs (malloc arenas, page cache of the binary), so its bound only catches
 * a leak of more than about 16 kB a round.
 */
#define FD_SLACK	2
#define RSS_SLACK_KB	2048

/* Not in the UAPI headers of older distributions. */
#define LINK_TYPE_XDP	6
#define LINK_TYPE_TCX	11

enum if_state { IF_PRESENT, IF_RENAMED, IF_ABSENT };

struct churn_if {
	char cfg[IFNAMSIZ];	/* configured name, in the sender namespace */
	char renamed[IFNAMSIZ];	/* the name a rename gives it */
	char peer[IFNAMSIZ];	/* the other end, in the sink namespace */
	char addr_a[32], addr_b[32];
	enum if_state state;
	__u32 ifindex;		/* 0 while absent */
};

struct mode {
	const char *name;
	const char *hooks;	/* -i NAME:<hooks> */
	const char *tc_mode;	/* --tc-mode */
	bool clsact, xdp;
};

static const struct mode modes[] = {
	{ "tcx", "tc", "tcx", false, false },
	{ "clsact", "tc", "clsact", true, false },
	{ "tc_xdp", "tc+xdp", "auto", false, true },
};

struct client_result {
	__u64 iterations, requests, ok, refused, unexpected, transport;
	__u64 records;
	__u64 aborted, delivered, ring_lost, backlog_lost;
	int account_ok;		/* 1 the completions add up, 0 not, -1 not known */
	char detail[192];	/* the first unexpected error */
};

struct client_proc {
	pid_t pid;
	int stop_w;		/* closed by the parent: stop */
	int res_r;		/* struct client_result */
};

static struct bed {
	char a[FX_NAME_MAX], b[FX_NAME_MAX];
	struct churn_if ifs[NIF];
	const struct mode *mode;
	struct txct_daemon d;
	__u32 prog_ids[32];
	int n_prog_ids;
	pid_t daemon_pid;	/* bed.d.pid, or its child under a wrapper */
	struct client_proc cl[NCLIENTS];
	__u32 rng;
	int ops[4];		/* how many of each operation ran */
	int checks;		/* datapath checks made */
} bed;

enum { OP_DELETE, OP_CREATE, OP_RENAME, OP_DOWNUP };

/* xorshift32: the run is the same for the same seed (TXCT_SEED). */
static __u32 rnd(void)
{
	bed.rng ^= bed.rng << 13;
	bed.rng ^= bed.rng >> 17;
	bed.rng ^= bed.rng << 5;
	return bed.rng;
}

static const char *if_name(const struct churn_if *ifc)
{
	return ifc->state == IF_RENAMED ? ifc->renamed : ifc->cfg;
}

/* --- interfaces ----------------------------------------------------------- */

/* Permanent neighbors both ways: no frame of a burst waits for ARP. */
static bool if_neighbors(struct churn_if *ifc)
{
	__u8 mac_a[6], mac_b[6];

	return ASSERT_OK(link_info(bed.a, if_name(ifc), &ifc->ifindex, mac_a), "sender link") &&
	       ASSERT_OK(link_info(bed.b, ifc->peer, NULL, mac_b), "sink link") &&
	       ASSERT_OK(neigh_add(bed.a, if_name(ifc), ifc->addr_b, mac_b), "sender's neighbor") &&
	       ASSERT_OK(neigh_add(bed.b, ifc->peer, ifc->addr_a, mac_a), "sink's neighbor");
}

static bool if_create(struct churn_if *ifc)
{
	if (!ASSERT_OK(veth_create(bed.a, ifc->cfg, bed.b, ifc->peer), "creating a veth pair"))
		return false;
	ifc->state = IF_PRESENT;
	if (!ASSERT_OK(addr_add_len(bed.a, ifc->cfg, ifc->addr_a, 24), "sender address") ||
	    !ASSERT_OK(addr_add_len(bed.b, ifc->peer, ifc->addr_b, 24), "sink address"))
		return false;
	return if_neighbors(ifc);
}

static bool if_delete(struct churn_if *ifc)
{
	if (!ASSERT_OK(fx_run("ip -n %s link del %s", bed.a, if_name(ifc)), "deleting a veth pair"))
		return false;
	ifc->state = IF_ABSENT;
	ifc->ifindex = 0;
	return true;
}

/* A running interface cannot be renamed: down, rename, up. */
static bool if_rename(struct churn_if *ifc)
{
	const char *from = if_name(ifc);
	const char *to = ifc->state == IF_RENAMED ? ifc->cfg : ifc->renamed;

	if (!ASSERT_OK(fx_run("ip -n %s link set %s down && ip -n %s link set %s name %s && "
			      "ip -n %s link set %s up", bed.a, from, bed.a, from, to, bed.a, to),
		       "renaming an interface"))
		return false;
	ifc->state = ifc->state == IF_RENAMED ? IF_PRESENT : IF_RENAMED;
	return true;
}

static bool if_downup(struct churn_if *ifc)
{
	return ASSERT_OK(fx_run("ip -n %s link set %s down && ip -n %s link set %s up", bed.a,
				if_name(ifc), bed.a, if_name(ifc)), "setting an interface down and up");
}

static bool if_op(int op, struct churn_if *ifc)
{
	bed.ops[op]++;
	switch (op) {
	case OP_DELETE:
		return if_delete(ifc);
	case OP_CREATE:
		return if_create(ifc);
	case OP_RENAME:
		return if_rename(ifc);
	default:
		return if_downup(ifc);
	}
}

/* One random operation that the interface's state allows. */
static bool random_op(int *picked)
{
	int i = rnd() % NIF, op;
	struct churn_if *ifc = &bed.ifs[i];

	if (ifc->state == IF_ABSENT)
		op = OP_CREATE;
	else
		op = (int[]){ OP_DELETE, OP_RENAME, OP_DOWNUP }[rnd() % 3];
	*picked = i;
	return if_op(op, ifc);
}

/* --- what the daemon left in the kernel and in bpffs ---------------------- */

/* The programs @pid holds, from its fds' fdinfo: they identify the daemon's links. */
static int prog_ids_of(pid_t pid)
{
	char path[64], line[128];
	struct dirent *e;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo", (int)pid);
	dir = opendir(path);
	if (!dir)
		return -errno;
	bed.n_prog_ids = 0;
	while ((e = readdir(dir))) {
		char fpath[64 + sizeof(e->d_name)];
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(fpath, sizeof(fpath), "%s/%s", path, e->d_name);
		f = fopen(fpath, "re");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f)) {
			unsigned int id;
			bool seen = false;

			if (sscanf(line, "prog_id: %u", &id) != 1)
				continue;
			for (int i = 0; i < bed.n_prog_ids; i++)
				seen |= bed.prog_ids[i] == id;
			if (!seen && bed.n_prog_ids < (int)(sizeof(bed.prog_ids) / sizeof(bed.prog_ids[0])))
				bed.prog_ids[bed.n_prog_ids++] = id;
		}
		fclose(f);
	}
	closedir(dir);
	return bed.n_prog_ids;
}

/*
 * The daemon, or (when $TXCT_DAEMON is a wrapper, such as strace, that runs
 * it as a child) its first child: the process whose fds hold the programs.
 */
static int daemon_prog_ids(void)
{
	char path[96];
	int child = 0, n;
	FILE *f;

	bed.daemon_pid = bed.d.pid;
	n = prog_ids_of(bed.daemon_pid);
	if (n > 0)
		return n;
	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)bed.d.pid, (int)bed.d.pid);
	f = fopen(path, "re");
	if (!f || fscanf(f, "%d", &child) != 1)
		child = 0;
	if (f)
		fclose(f);
	if (!child)
		return n;
	bed.daemon_pid = child;
	return prog_ids_of(child);
}

static bool is_daemon_prog(__u32 id)
{
	for (int i = 0; i < bed.n_prog_ids; i++)
		if (bed.prog_ids[i] == id)
			return true;
	return false;
}

struct klink {
	__u32 id, type, ifindex;
};

/*
 * Every BPF link in the kernel that runs one of the daemon's programs, or
 * -errno: a walk that failed, or a link that could not be read, is no count
 * of zero (nor are links looked for without knowing the daemon's programs).
 */
static int daemon_links(struct klink *out, int max)
{
	__u32 id = 0;
	int n = 0, err;

	if (!bed.n_prog_ids)
		return -ENOENT;
	while (!(err = bpf_link_get_next_id(id, &id))) {
		struct bpf_link_info info = {};
		__u32 len = sizeof(info);
		int fd = bpf_link_get_fd_by_id(id);

		if (fd < 0) {
			if (errno == ENOENT)
				continue;	/* released since */
			return -errno;
		}
		err = bpf_obj_get_info_by_fd(fd, &info, &len);
		if (!err && is_daemon_prog(info.prog_id) && n < max) {
			/* tcx and xdp links both keep the ifindex first in the union. */
			out[n++] = (struct klink){ .id = id, .type = info.type,
						   .ifindex = info.xdp.ifindex };
		}
		close(fd);
		if (err)
			return err;
	}
	/* The walk ends with -ENOENT after the last link. */
	return err == -ENOENT ? n : err;
}

static int txc_ifaces_entries(__u32 *keys, struct txc_iface *vals, int max)
{
	char path[256];
	__u32 key, *prev = NULL;
	int fd, n = 0;

	snprintf(path, sizeof(path), "%s/maps/txc_ifaces", bed.d.pin_dir);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	while (n < max && !bpf_map_get_next_key(fd, prev, &key)) {
		if (!bpf_map_lookup_elem(fd, &key, &vals[n]))
			keys[n++] = key;
		prev = &key;
	}
	close(fd);
	return n;
}

static bool present_ifindex(__u32 ifindex)
{
	for (int i = 0; i < NIF; i++)
		if (bed.ifs[i].state != IF_ABSENT && bed.ifs[i].ifindex == ifindex)
			return true;
	return false;
}

static int n_present(void)
{
	int n = 0;

	for (int i = 0; i < NIF; i++)
		n += bed.ifs[i].state != IF_ABSENT;
	return n;
}

/*
 * Whether the daemon's view and the kernel agree with what the test did.
 * With @report, every disagreement is an assertion failure; without, the
 * first one just returns false (the daemon may still be catching up).
 */
#define CHECK(cond, ...) do {							\
	if (!(cond)) {								\
		if (report)							\
			test_fail(__FILE__, __LINE__, __VA_ARGS__);		\
		ok = false;							\
		if (!report)							\
			goto out;						\
	}									\
} while (0)

static bool state_matches(bool report)
{
	static struct txc_status_iface sifs[TXC_MAX_IFACES];
	struct txc_iface vals[TXC_MAX_IFACES];
	__u32 keys[TXC_MAX_IFACES];
	struct klink links[64];
	struct txc_rep_status st;
	struct txc_client *c = NULL;
	__u64 slots = 0;
	bool ok = true;
	int n, err, xdp_links = 0;

	/* STATUS: every interface, by its current name, ifindex and hooks. */
	err = txc_client_open(&c, bed.d.sock);
	if (!err)
		err = txc_status(c, &st, sifs, TXC_MAX_IFACES, NULL, 0);
	if (err) {
		/* The daemon answers every request: this is a failure even while settling. */
		test_fail(__FILE__, __LINE__, "STATUS: %s", c ? txc_client_error(c) :
			  txc_last_error());
		ok = false;
		goto out;
	}
	CHECK(st.n_ifaces == NIF, "STATUS lists %u interfaces, expected %d", st.n_ifaces, NIF);
	for (int i = 0; i < NIF; i++) {
		const struct churn_if *ifc = &bed.ifs[i];
		const struct txc_status_iface *s = &sifs[i];
		__u32 tc = bed.mode->clsact ? TXC_IFACE_F_TC_CLSACT : TXC_IFACE_F_TC_TCX;

		CHECK(!strncmp(s->name, if_name(ifc), sizeof(s->name)),
		      "STATUS names interface %d '%.16s', it is '%s'", i, s->name, if_name(ifc));
		CHECK(s->ifindex == ifc->ifindex, "STATUS: %s has ifindex %u, expected %u",
		      if_name(ifc), s->ifindex, ifc->ifindex);
		if (ifc->state == IF_ABSENT) {
			CHECK(!(s->flags & TXC_STATUS_IFACE_PRESENT), "STATUS: %s present, it is "
			      "deleted", ifc->cfg);
			continue;
		}
		CHECK(s->flags & TXC_STATUS_IFACE_PRESENT, "STATUS: %s absent", if_name(ifc));
		CHECK(s->flags & tc, "STATUS: %s without the tc hook (flags 0x%x)", if_name(ifc),
		      s->flags);
		CHECK(!bed.mode->xdp == !(s->flags & TXC_IFACE_F_XDP),
		      "STATUS: %s xdp flag %s, expected %s", if_name(ifc),
		      s->flags & TXC_IFACE_F_XDP ? "set" : "clear", bed.mode->xdp ? "set" : "clear");
		CHECK(!(slots & (1ULL << s->slot)), "STATUS: slot %u given twice", s->slot);
		slots |= 1ULL << s->slot;
		/* In libxdp's dispatcher (where the kernel runs it) XDP has no link of ours. */
		xdp_links += (s->flags & TXC_IFACE_F_XDP) && !(s->flags & TXC_IFACE_F_XDP_MULTIPROG);
	}

	/* txc_ifaces: the present interfaces, and no slot held for a gone one. */
	n = txc_ifaces_entries(keys, vals, TXC_MAX_IFACES);
	CHECK(n == n_present(), "txc_ifaces has %d entries, %d interfaces are present", n,
	      n_present());
	for (int k = 0; k < n; k++)
		CHECK(present_ifindex(keys[k]), "txc_ifaces holds slot %u for ifindex %u, which "
		      "is gone", vals[k].slot, keys[k]);

	/* links/: one pin per attached link of a present interface, nothing else. */
	{
		char path[256];
		int want = (bed.mode->clsact ? 0 : n_present()) + xdp_links;
		int pins = 0;
		struct dirent *e;
		DIR *dir;

		snprintf(path, sizeof(path), "%s/links", bed.d.pin_dir);
		dir = opendir(path);
		CHECK(dir || (errno == ENOENT && !want), "opening %s: %s", path, strerror(errno));
		while (dir && (e = readdir(dir))) {
			unsigned int ifindex;
			char kind[8];

			if (e->d_name[0] == '.')
				continue;
			pins++;
			if (sscanf(e->d_name, "%7[a-z]-%u", kind, &ifindex) != 2 ||
			    !present_ifindex(ifindex) || (!strcmp(kind, "tc") && bed.mode->clsact) ||
			    (!strcmp(kind, "xdp") && !bed.mode->xdp)) {
				if (report)
					test_fail(__FILE__, __LINE__, "stale pin %s/%s (not a managed interface or hook)", path,
						  e->d_name);
				ok = false;
			}
		}
		if (dir)
			closedir(dir);
		if (!ok && !report)
			goto out;
		CHECK(pins == want, "%d pins in %s, expected %d", pins, path, want);
	}

	/* The kernel's links of the daemon's programs: on present interfaces only. */
	n = daemon_links(links, 64);
	{
		int want = (bed.mode->clsact ? 0 : n_present()) + xdp_links;

		CHECK(n == want, "%d BPF links run the daemon's programs, expected %d", n, want);
		for (int k = 0; k < n; k++)
			CHECK(present_ifindex(links[k].ifindex) &&
			      (links[k].type == LINK_TYPE_TCX || links[k].type == LINK_TYPE_XDP),
			      "BPF link %u (type %u) on ifindex %u, not a present interface",
			      links[k].id, links[k].type, links[k].ifindex);
	}

	/* clsact: exactly txcancel's filter on the egress side of each present interface. */
	for (int i = 0; bed.mode->clsact && i < NIF; i++) {
		char out[4096];
		int filters = 0;

		if (bed.ifs[i].state == IF_ABSENT)
			continue;
		err = fx_run_output(out, sizeof(out), "tc -n %s filter show dev %s egress", bed.a,
				    if_name(&bed.ifs[i]));
		CHECK(!err, "tc filter show dev %s", if_name(&bed.ifs[i]));
		for (const char *p = out; (p = strstr(p, "handle 0x7c ")); p++)
			filters++;
		CHECK(filters == 1, "%d txcancel filters on %s egress, expected 1:\n%s", filters,
		      if_name(&bed.ifs[i]), out);
	}
out:
	txc_client_close(c);
	return ok;
}

/* Wait (bounded) for the daemon to catch up, then assert what it shows. */
static bool settled(const char *what)
{
	__u64 end = test_now_ms() + SETTLE_MS;

	while (test_now_ms() < end) {
		if (state_matches(false))
			return true;
		test_sleep_ms(50);
	}
	printf("    %s: the daemon did not catch up within %d ms\n", what, SETTLE_MS);
	state_matches(true);
	txct_daemon_dump_log(&bed.d);
	return false;
}

/* --- the datapath --------------------------------------------------------- */

static bool burst(int tx, int rx, const char *daddr, __u16 dport, int want, const char *what)
{
	return udp_burst(tx, rx, daddr, dport, BURST, 0x5a, want, QUIET_MS, what);
}

/* What a datapath check holds: a root client with a prefix and a source, a sender, a sink. */
struct check {
	struct txc_client *c;
	__u8 prefix;
	__u32 source;
	int tx, rx;		/* -1: not open */
};

#define CHECK_INIT	{ .tx = -1, .rx = -1 }

static bool check_open(struct check *k)
{
	int err = txc_client_open(&k->c, bed.d.sock);

	if (!ASSERT_OK(err, "root client connects")) {
		printf("    %s\n", txc_last_error());
		return false;
	}
	return ASSERT_OK(txc_generate_partial_cancel_id(k->c, &k->prefix), "root's prefix") &&
	       ASSERT_OK(txc_source_open(k->c, &k->source), "root's source");
}

static void check_close(struct check *k)
{
	udp_pair_close(&k->tx, &k->rx);
	txc_client_close(k->c);
}

/*
 * @k's traffic to @daddr:@dport, its ID @id canceled, is dropped (@canceled);
 * the clear (@clear_step) lets it flow again (@cleared).
 */
static bool dropped_until_cleared(const struct check *k, __u32 id, const char *daddr,
				  __u16 dport, const char *canceled, const char *clear_step,
				  const char *cleared)
{
	return burst(k->tx, k->rx, daddr, dport, 0, canceled) &&
	       ASSERT_OK(txc_clear(k->c, TXC_SCOPE_ID, id, NULL), clear_step) &&
	       burst(k->tx, k->rx, daddr, dport, BURST, cleared);
}

/*
 * @k's traffic to @daddr:@dport, tagged with @id, through @hook ("tc" or
 * "xdp") of interface @ifc (checked because @why): it flows, canceled it is
 * dropped, cleared it flows again.  Every mode checks tc, so only the xdp
 * steps name their hook.
 */
static bool cancel_cycle(const struct check *k, __u32 id, const struct churn_if *ifc,
			 const char *daddr, __u16 dport, const char *hook, const char *why)
{
	const char *name = if_name(ifc), *step_prefix = strcmp(hook, "xdp") ? "" : "xdp: ";
	char what[160], canceled[160], cleared[160], step[32];

	snprintf(what, sizeof(what), "%s (%s), %s: before the cancel", name, why, hook);
	if (!burst(k->tx, k->rx, daddr, dport, BURST, what))
		return false;
	snprintf(step, sizeof(step), "%scancel", step_prefix);
	if (!ASSERT_OK(txc_cancel_send_net_buffer_lists(k->c, id), step))
		return false;
	snprintf(canceled, sizeof(canceled), "%s (%s), %s: canceled", name, why, hook);
	snprintf(cleared, sizeof(cleared), "%s (%s), %s: cleared", name, why, hook);
	snprintf(step, sizeof(step), "%sclear", step_prefix);
	return dropped_until_cleared(k, id, daddr, dport, canceled, step, cleared);
}

/*
 * Traffic leaving by interface @i (egress: tc), and for tc+xdp traffic
 * arriving on it (ingress: xdp, tagged by flow): flows, canceled drops it,
 * cleared flows again.
 */
static bool datapath_check(int i, const char *why)
{
	struct churn_if *ifc = &bed.ifs[i];
	struct check k = CHECK_INIT;
	__u32 id;
	bool ok = false;

	bed.checks++;
	/* A down/up or rename flushed the neighbors. */
	if (!if_neighbors(ifc) || !check_open(&k))
		goto out;
	id = TXC_ID_MAKE(k.prefix, 0x100 + i);
	k.tx = udp_open(bed.a, "0.0.0.0", 0);
	k.rx = udp_open(bed.b, ifc->addr_b, 6800 + i);
	if (!ASSERT_GE0(k.tx, "sender socket") || !ASSERT_GE0(k.rx, "sink socket") ||
	    !ASSERT_OK(txc_tag_socket(k.c, k.tx, id, k.source, NULL), "tagging the sender"))
		goto out;
	if (!cancel_cycle(&k, id, ifc, ifc->addr_b, 6800 + i, "tc", why))
		goto out;
	udp_pair_close(&k.tx, &k.rx);

	if (bed.mode->xdp) {
		struct txc_flow_key flow;
		__u16 sport = 7800 + i, dport = 6900 + i;

		id = TXC_ID_MAKE(k.prefix, 0x200 + i);
		k.tx = udp_open(bed.b, ifc->addr_b, sport);
		k.rx = udp_open(bed.a, ifc->addr_a, dport);
		if (!ASSERT_GE0(k.tx, "xdp: sender socket") ||
		    !ASSERT_GE0(k.rx, "xdp: sink socket") ||
		    !ASSERT_OK(flow_key_make(&flow, ifc->addr_b, sport, ifc->addr_a, dport),
			       "xdp: flow key") ||
		    !ASSERT_OK(txc_tag_flow(k.c, &flow, id, k.source), "xdp: tagging the flow"))
			goto out;
		if (!cancel_cycle(&k, id, ifc, ifc->addr_a, dport, "xdp", why))
			goto out;
	}
	ok = true;
out:
	check_close(&k);
	return ok;
}

/*
 * A cancel in force while interface @i is deleted and re-created: the
 * re-created interface drops the canceled traffic too, and a clear lets it
 * flow.  The sender is not bound, so it outlives the interface.
 */
static bool cancel_survives_recreate(int i)
{
	struct churn_if *ifc = &bed.ifs[i];
	struct check k = CHECK_INIT;
	bool ok = false;
	__u32 id;

	if (!check_open(&k))
		goto out;
	id = TXC_ID_MAKE(k.prefix, 0x300 + i);
	k.tx = udp_open(bed.a, "0.0.0.0", 0);
	if (!ASSERT_GE0(k.tx, "sender socket") ||
	    !ASSERT_OK(txc_tag_socket(k.c, k.tx, id, k.source, NULL), "tagging the sender") ||
	    !ASSERT_OK(txc_cancel_send_net_buffer_lists(k.c, id), "cancel") ||
	    !if_delete(ifc) || !if_create(ifc) || !settled("re-created under a cancel"))
		goto out;
	k.rx = udp_open(bed.b, ifc->addr_b, 6850 + i);
	if (!ASSERT_GE0(k.rx, "sink socket") ||
	    !dropped_until_cleared(&k, id, ifc->addr_b, 6850 + i, "re-created, canceled before",
				   "clear", "re-created, cleared"))
		goto out;
	ok = true;
out:
	check_close(&k);
	return ok;
}

/* --- the clients ---------------------------------------------------------- */

static bool transport_error(int err)
{
	return err == -ECONNRESET || err == -EPIPE || err == -EIO || err == -EPROTO ||
	       err == -ETIMEDOUT || err == -ENOTCONN || err == -EBADF;
}

/* Count one request's outcome: @allowed is a refusal the situation explains. */
static void outcome(struct client_result *res, struct txc_client *c, int err, int allowed,
		    const char *what)
{
	res->requests++;
	if (err >= 0) {
		res->ok++;
		return;
	}
	if (err == allowed) {
		res->refused++;
		return;
	}
	if (transport_error(err))
		res->transport++;
	else
		res->unexpected++;
	if (!res->detail[0])
		snprintf(res->detail, sizeof(res->detail), "%s: %s (%s)", what, strerror(-err),
			 txc_client_error(c));
}

static void on_batch(void *ctx, const struct txc_ev_completions *ev,
		     const struct txc_abort_record *recs)
{
	struct client_result *res = ctx;

	(void)recs;
	res->records += ev->count;
}

static void client_send(int fd, int i)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(9) };
	char payload[FX_PAYLOAD_LEN] = "txcancel churn";

	inet_pton(AF_INET, bed.ifs[i].addr_b, &sin.sin_addr);
	/* The interface may be gone or down right now: that is the point. */
	for (int k = 0; k < CLIENT_SEND; k++)
		sendto(fd, payload, sizeof(payload), MSG_DONTWAIT, (struct sockaddr *)&sin,
		       sizeof(sin));
}

static bool stop_asked(int stop_r)
{
	struct pollfd pfd = { .fd = stop_r, .events = POLLIN };

	return poll(&pfd, 1, 0) != 0;
}

/* After the churn: no traffic, no cancel; every abort must be accounted for. */
static void client_account(struct txc_client *c, __u32 source, struct client_result *res)
{
	struct txc_ev_completions acc;
	struct txc_stats_entry e;
	int quiet = 0;

	/* The daemon drains the ring as batches are read; read until nothing comes. */
	while (quiet < 2) {
		int n = txc_read_completions(c, on_batch, res, 300);

		if (n < 0) {
			outcome(res, c, n, 0, "reading completions");
			return;
		}
		quiet = n ? 0 : quiet + 1;
	}
	if (txc_stats(c, TXC_SCOPE_SOURCE, source, &e, 1) != 1) {
		snprintf(res->detail, sizeof(res->detail), "STATS of source %u: %s", source,
			 txc_client_error(c));
		res->account_ok = 0;
		return;
	}
	res->aborted = e.counts.aborted_frames;
	if (txc_source_account(c, source, &acc)) {
		/* No batch at all: then nothing may have been aborted. */
		res->account_ok = res->aborted == 0 && res->records == 0;
		return;
	}
	res->delivered = acc.delivered;
	res->ring_lost = acc.ring_lost;
	res->backlog_lost = acc.backlog_lost;
	res->account_ok = acc.aborted == res->aborted && res->records == acc.delivered &&
			  acc.aborted == acc.delivered + acc.ring_lost + acc.backlog_lost;
}

static int client_loop(int k, int stop_r, struct client_result *res)
{
	struct txc_client *c = NULL;
	struct txc_batch *b = txc_batch_new();
	char path[128];
	__u32 source = 0;
	__u8 prefix = 0;
	int fd, ns, err;

	res->account_ok = -1;
	snprintf(path, sizeof(path), "/run/netns/%s", bed.a);
	ns = open(path, O_RDONLY | O_CLOEXEC);
	if (ns < 0 || setns(ns, CLONE_NEWNET) || !b) {
		snprintf(res->detail, sizeof(res->detail), "entering %s: %s", bed.a,
			 strerror(errno));
		return 1;
	}
	close(ns);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setgroups(0, NULL) || setresgid(UID_CLIENT + k, UID_CLIENT + k,
						       UID_CLIENT + k) ||
	    setresuid(UID_CLIENT + k, UID_CLIENT + k, UID_CLIENT + k)) {
		snprintf(res->detail, sizeof(res->detail), "becoming uid %d: %s", UID_CLIENT + k,
			 strerror(errno));
		return 1;
	}
	err = txc_client_open(&c, bed.d.sock);
	if (err) {
		snprintf(res->detail, sizeof(res->detail), "connecting: %s", txc_last_error());
		return 1;
	}
	outcome(res, c, txc_generate_partial_cancel_id(c, &prefix), 0, "prefix");
	outcome(res, c, txc_source_open(c, &source), 0, "source");
	if (res->unexpected || res->transport)
		goto out;

	for (__u64 it = 0; it < CLIENT_MAX_ITER && !stop_asked(stop_r); it++) {
		__u32 id = TXC_ID_MAKE(prefix, (it % 4096) + 1);
		const char *ifname = it % 3 ? NULL : bed.ifs[it % NIF].cfg;
		int i = it % NIF, cancel;
		struct txc_rep_status st;
		union txc_tag_key key;
		socklen_t len = sizeof(key.socket_cookie);

		res->iterations++;
		outcome(res, c, txc_tag_socket(c, fd, id, source, NULL), 0, "tag");
		client_send(fd, i);
		/* A named interface may be deleted or renamed away just now. */
		cancel = txc_cancel(c, TXC_SCOPE_ID, id, ifname, 0, NULL);
		outcome(res, c, cancel, ifname ? -ENODEV : 0, "cancel");
		client_send(fd, i);
		err = txc_read_completions(c, on_batch, res, 0);
		if (err < 0)
			outcome(res, c, err, 0, "reading completions");
		outcome(res, c, txc_clear(c, TXC_SCOPE_ID, id, NULL), cancel ? -ENOENT : 0,
			"clear");
		memset(&key, 0, sizeof(key));
		if (getsockopt(fd, SOL_SOCKET, SO_COOKIE, &key.socket_cookie, &len))
			outcome(res, c, -errno, 0, "SO_COOKIE");
		if (it % 8 != 7) {
			outcome(res, c, txc_untag(c, TXC_TAG_SOCKET, &key), 0, "untag");
			goto pause;
		}
		/*
		 * Now and then a batch with a prefix-wide cancel, the untag through
		 * the socket (which no batch carries), and STATUS.
		 */
		txc_batch_reset(b);
		txc_batch_cancel(b, TXC_SCOPE_PREFIX, prefix, NULL, 0);
		txc_batch_clear(b, TXC_SCOPE_PREFIX, prefix);
		outcome(res, c, txc_batch_submit(c, b, NULL), 0, "batch");
		outcome(res, c, txc_untag_socket(c, fd), 0, "untag");
		outcome(res, c, txc_status(c, &st, NULL, 0, NULL, 0), 0, "status");
pause:
		if (res->transport)
			break;
		usleep(CLIENT_PAUSE_US);
	}
	client_account(c, source, res);
out:
	txc_batch_free(b);
	txc_client_close(c);
	close(fd);
	return 0;
}

static bool clients_start(void)
{
	for (int k = 0; k < NCLIENTS; k++) {
		struct client_proc *p = &bed.cl[k];
		int stop[2], res[2];

		if (!ASSERT_OK(pipe2(stop, O_CLOEXEC) || pipe2(res, O_CLOEXEC) ? -errno : 0,
			       "client pipes"))
			return false;
		fflush(stdout);
		p->pid = fork();
		if (p->pid == 0) {
			struct client_result r = {};

			prctl(PR_SET_PDEATHSIG, SIGKILL);
			close(stop[1]);
			close(res[0]);
			client_loop(k, stop[0], &r);
			_exit(write(res[1], &r, sizeof(r)) == sizeof(r) ? 0 : 1);
		}
		close(stop[0]);
		close(res[1]);
		p->stop_w = stop[1];
		p->res_r = res[0];
		if (!ASSERT_GE0(p->pid, "forking a client"))
			return false;
	}
	return true;
}

/* Stop every client; @check asserts what they report. */
static void clients_stop(bool check)
{
	/* Each client inherited the stop pipes of those forked before it: close all first. */
	for (int k = 0; k < NCLIENTS; k++) {
		if (bed.cl[k].pid > 0)
			close(bed.cl[k].stop_w);
	}
	for (int k = 0; k < NCLIENTS; k++) {
		struct client_proc *p = &bed.cl[k];
		struct client_result r = {};
		char what[96];
		ssize_t n;

		if (p->pid <= 0)
			continue;
		n = read(p->res_r, &r, sizeof(r));
		close(p->res_r);
		waitpid(p->pid, NULL, 0);
		p->pid = 0;
		if (!check)
			continue;
		snprintf(what, sizeof(what), "client %d reports", k);
		if (!ASSERT_EQ(n, sizeof(r), what))
			continue;
		printf("    client %d (uid %d): %llu iterations, %llu requests: %llu ok, %llu "
		       "refused as expected (interface absent), %llu unexpected, %llu "
		       "unanswered; %llu completions, aborted %llu = delivered %llu + ring lost "
		       "%llu + backlog lost %llu\n", k, UID_CLIENT + k,
		       (unsigned long long)r.iterations, (unsigned long long)r.requests,
		       (unsigned long long)r.ok, (unsigned long long)r.refused,
		       (unsigned long long)r.unexpected, (unsigned long long)r.transport,
		       (unsigned long long)r.records, (unsigned long long)r.aborted,
		       (unsigned long long)r.delivered, (unsigned long long)r.ring_lost,
		       (unsigned long long)r.backlog_lost);
		if (r.detail[0])
			printf("    client %d: %s\n", k, r.detail);
		snprintf(what, sizeof(what), "client %d: iterations", k);
		ASSERT_TRUE(r.iterations > 0, what);
		snprintf(what, sizeof(what), "client %d: requests not answered", k);
		ASSERT_EQ(r.transport, 0, what);
		snprintf(what, sizeof(what), "client %d: requests refused unexpectedly", k);
		ASSERT_EQ(r.unexpected, 0, what);
		snprintf(what, sizeof(what), "client %d: completions add up", k);
		ASSERT_EQ(r.account_ok, 1, what);
	}
}

/* --- one attach mode ------------------------------------------------------ */

static bool daemon_alive(void)
{
	return bed.d.pid > 0 && waitpid(bed.d.pid, NULL, WNOHANG) == 0;
}

static bool bed_up(const struct mode *m)
{
	memset(bed.ifs, 0, sizeof(bed.ifs));
	memset(bed.ops, 0, sizeof(bed.ops));
	bed.checks = 0;
	bed.mode = m;
	if (!ASSERT_OK(ns_createf(bed.a, "ch-%s-a", m->name), "sender namespace") ||
	    !ASSERT_OK(ns_createf(bed.b, "ch-%s-b", m->name), "sink namespace"))
		return false;
	for (int i = 0; i < NIF; i++) {
		struct churn_if *ifc = &bed.ifs[i];

		snprintf(ifc->cfg, sizeof(ifc->cfg), "chA%d", i);
		snprintf(ifc->renamed, sizeof(ifc->renamed), "chR%d", i);
		snprintf(ifc->peer, sizeof(ifc->peer), "chB%d", i);
		snprintf(ifc->addr_a, sizeof(ifc->addr_a), "198.18.%d.1", SUBNET0 + i);
		snprintf(ifc->addr_b, sizeof(ifc->addr_b), "198.18.%d.2", SUBNET0 + i);
		if (!if_create(ifc))
			return false;
	}
	return true;
}

static void bed_down(void)
{
	clients_stop(false);
	txct_daemon_cleanup(&bed.d);
	if (bed.a[0])
		ns_delete(bed.a);
	if (bed.b[0])
		ns_delete(bed.b);
	bed.a[0] = bed.b[0] = '\0';
}

static bool daemon_up(void)
{
	const char *args[TXCT_MAX_ARGS + 1] = { "--tc-mode", bed.mode->tc_mode };
	static char specs[NIF][32];
	int n = 2;

	for (int i = 0; i < NIF; i++) {
		snprintf(specs[i], sizeof(specs[i]), "%s:%s", bed.ifs[i].cfg, bed.mode->hooks);
		args[n++] = "-i";
		args[n++] = specs[i];
	}
	args[n] = NULL;
	return ASSERT_OK(txct_daemon_start(&bed.d, bed.a, args), "starting txcanceld") &&
	       ASSERT_TRUE(daemon_prog_ids() >= 2, "the daemon's programs (fdinfo)");
}

/*
 * A busy daemon reads link events late.  With the daemon stopped, interface
 * @i is re-created, renamed away, and an unmanaged "stray" interface takes
 * its configured name; then the daemon reads it all.  The managed interface
 * must be attached where it is now (renamed), the stray must stay bare.
 */
static bool stray_under_configured_name(int i)
{
	struct churn_if *ifc = &bed.ifs[i];
	char out[4096];
	__u32 stray;
	bool ok;

	if (!ASSERT_OK(kill(bed.daemon_pid, SIGSTOP) ? -errno : 0, "stopping txcanceld (SIGSTOP)"))
		return false;
	ok = if_delete(ifc) && if_create(ifc) && if_rename(ifc) &&
	     ASSERT_OK(veth_create(bed.a, ifc->cfg, bed.b, "chS"), "the stray interface");
	kill(bed.daemon_pid, SIGCONT);
	if (!ok || !ASSERT_OK(link_info(bed.a, ifc->cfg, &stray, NULL), "the stray's ifindex"))
		return false;
	/* state_matches() finds a link, pin or slot of the stray as one of a gone interface. */
	ok = settled("a stray under the configured name") &&
	     datapath_check(i, "renamed while a stray took its name");
	if (ok && bed.mode->clsact &&
	    ASSERT_OK(fx_run_output(out, sizeof(out), "tc -n %s filter show dev %s egress", bed.a,
				    ifc->cfg), "tc filter show on the stray"))
		ok = ASSERT_TRUE(!strstr(out, "handle 0x7c "), "no txcancel filter on the stray");
	return ASSERT_OK(fx_run("ip -n %s link del %s", bed.a, ifc->cfg), "deleting the stray") &&
	       ok;
}

/* Bring every interface back under its configured name. */
static bool restore_all(void)
{
	for (int i = 0; i < NIF; i++) {
		struct churn_if *ifc = &bed.ifs[i];

		if (ifc->state == IF_ABSENT && !if_create(ifc))
			return false;
		if (ifc->state == IF_RENAMED && !if_rename(ifc))
			return false;
	}
	return true;
}

static bool log_has(const char *needle)
{
	char line[1024];
	bool found = false;
	FILE *f = fopen(bed.d.log, "re");

	while (f && !found && fgets(line, sizeof(line), f))
		found = strstr(line, needle) != NULL;
	if (f)
		fclose(f);
	if (found)
		printf("    daemon log: %s", line);
	return found;
}

/* What SIGTERM must leave: nothing of txcancel on any interface or in bpffs. */
static void check_nothing_left(void)
{
	struct klink links[16];
	__u64 end = test_now_ms() + 2000;
	char out[8192];
	int n;

	/* The links go with the daemon's last reference; the release is deferred. */
	while ((n = daemon_links(links, 16)) > 0 && test_now_ms() < end)
		test_sleep_ms(20);
	ASSERT_EQ(n, 0, "BPF links of the daemon's programs after it exited");
	ASSERT_TRUE(access(bed.d.pin_dir, F_OK) && errno == ENOENT, "pin dir removed on exit");
	if (ASSERT_OK(fx_run_output(out, sizeof(out), "tc -n %s qdisc show", bed.a), "tc qdisc"))
		ASSERT_TRUE(!strstr(out, "clsact"), "no clsact qdisc left in the namespace");
	if (ASSERT_OK(fx_run_output(out, sizeof(out), "ip -n %s -d link show", bed.a), "ip link"))
		ASSERT_TRUE(!strstr(out, "prog/xdp"), "no XDP program left in the namespace");
}

static int rounds = ROUNDS;
static bool kernel_tcx;

static void churn(const struct mode *mode)
{
	struct mode kernel_mode = *mode, *m = &kernel_mode;
	long rss_warm = -1, rss_end;
	int fds_warm = -1, fds_end, picked = 0;
	struct txc_rep_status st;
	struct txc_client *c = NULL;
	__u64 t0 = test_now_ms();
	bool ok;

	if (!strcmp(m->tc_mode, "tcx") && !kernel_tcx) {
		test_skip("no tcx in this kernel (tcx links are Linux 6.6+)");
		return;
	}
	/* The daemon picks clsact where the kernel has no tcx. */
	if (!strcmp(m->tc_mode, "auto"))
		m->clsact = !kernel_tcx;
	if (!bed_up(m) || !daemon_up() || !settled("started") || !clients_start())
		goto out;

	/* Every kind of operation once, on purpose, each checked. */
	ok = if_rename(&bed.ifs[0]) && settled("renamed") && datapath_check(0, "renamed") &&
	     if_delete(&bed.ifs[0]) && settled("deleted while renamed") &&
	     if_create(&bed.ifs[0]) && settled("re-created under its configured name") &&
	     datapath_check(0, "re-created after a rename") &&
	     if_downup(&bed.ifs[1]) && settled("down and up") && datapath_check(1, "down/up") &&
	     cancel_survives_recreate(2) && stray_under_configured_name(3);
	if (!ok)
		goto out;

	for (int round = 1; round <= rounds; round++) {
		if (!random_op(&picked) || !ASSERT_TRUE(daemon_alive(), "txcanceld runs"))
			goto out;
		if (round % CHECK_EVERY)
			continue;
		if (!settled("churn"))
			goto out;
		if (bed.ifs[picked].state == IF_ABSENT && !if_create(&bed.ifs[picked]))
			goto out;
		if (!settled("checkpoint") || !datapath_check(picked, "after churn"))
			goto out;
		if (round == WARMUP_ROUNDS) {
			fds_warm = proc_fd_count_settled(bed.daemon_pid);
			rss_warm = proc_rss_kb(bed.daemon_pid);
		}
	}
	if (!restore_all() || !settled("restored") || !datapath_check(3, "restored"))
		goto out;
	fds_end = proc_fd_count_settled(bed.daemon_pid);
	rss_end = proc_rss_kb(bed.daemon_pid);
	printf("    %s: %d rounds + 10 scripted operations in %.1f s: %d deletes, %d creates, "
	       "%d renames, %d down/ups; %d datapath checks\n", m->name, rounds,
	       (test_now_ms() - t0) / 1000.0, bed.ops[OP_DELETE], bed.ops[OP_CREATE],
	       bed.ops[OP_RENAME], bed.ops[OP_DOWNUP], bed.checks);
	printf("    %s: daemon fds %d after warm-up, %d at the end; VmRSS %ld kB, %ld kB\n",
	       m->name, fds_warm, fds_end, rss_warm, rss_end);
	/* A failed /proc read is no measurement: it must not pass for a bounded one. */
	if (ASSERT_TRUE(fds_warm >= 0 && fds_end >= 0, "daemon fd counts read from /proc"))
		ASSERT_TRUE(fds_end <= fds_warm + FD_SLACK, "daemon fd count bounded");
	if (ASSERT_TRUE(rss_warm > 0 && rss_end > 0, "daemon VmRSS read from /proc"))
		ASSERT_TRUE(rss_end <= rss_warm + RSS_SLACK_KB, "daemon VmRSS bounded");

	clients_stop(true);
	/* The clients' connections, prefixes and sources are released. */
	if (ASSERT_OK(txc_client_open(&c, bed.d.sock), "connecting after the clients left")) {
		__u64 end = test_now_ms() + SETTLE_MS;

		while (!txc_status(c, &st, NULL, 0, NULL, 0) &&
		       (st.n_clients > 1 || st.n_prefixes || st.n_sources) && test_now_ms() < end)
			test_sleep_ms(50);
		ASSERT_EQ(st.n_clients, 1, "connections left (this one)");
		ASSERT_EQ(st.n_prefixes, 0, "prefixes leased after the clients left");
		ASSERT_EQ(st.n_sources, 0, "sources open after the clients left");
		txc_client_close(c);
	}
	if (!ASSERT_TRUE(daemon_alive(), "txcanceld runs at the end"))
		goto out;
	if (!ASSERT_EQ(txct_daemon_stop(&bed.d), 0, "txcanceld exit status (SIGTERM)"))
		txct_daemon_dump_log(&bed.d);
	check_nothing_left();
	/* Nothing else uses the clsact qdiscs here: the daemon must not claim otherwise. */
	ASSERT_TRUE(!log_has("other filters use it"),
		    "the log never says another filter keeps a clsact qdisc");
out:
	bed_down();
}

static void seed_once(void)
{
	const char *seed = getenv("TXCT_SEED");

	if (bed.rng)
		return;
	bed.rng = seed ? (__u32)strtoul(seed, NULL, 0) : 0x7c0ffee;
	if (!bed.rng)
		bed.rng = 1;
	printf("    seed 0x%x (TXCT_SEED repeats a run)\n", bed.rng);
}

static void test_churn_tcx(void)
{
	seed_once();
	churn(&modes[0]);
}

static void test_churn_clsact(void)
{
	seed_once();
	churn(&modes[1]);
}

static void test_churn_tc_xdp(void)
{
	seed_once();
	churn(&modes[2]);
}

static const struct test_case cases[] = {
	{ "churn_tcx", test_churn_tcx },
	{ "churn_clsact", test_churn_clsact },
	{ "churn_tc_xdp", test_churn_tc_xdp },
};

int main(int argc, char **argv)
{
	const char *env = getenv("TXCT_CHURN_ROUNDS");

	fx_start("test_churn", "namespaces, veth, BPF, other users");
	if (env) {
		char *end;
		long n = strtol(env, &end, 10);

		if (*env == '\0' || *end != '\0' || n < WARMUP_ROUNDS + MIN_MEASURED || n > 100000) {
			fprintf(stderr, "test_churn: TXCT_CHURN_ROUNDS=%s: want a number from %d "
				"(warm-up %d + %d measured) to 100000\n", env,
				WARMUP_ROUNDS + MIN_MEASURED, WARMUP_ROUNDS, MIN_MEASURED);
			return 2;
		}
		rounds = (int)n;
	}
	kernel_tcx = txdp_kernel_has_tcx();
	return test_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
}
