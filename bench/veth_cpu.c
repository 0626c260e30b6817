// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * E1: CPU added per frame on a real veth path, against nftables.
 *
 * A sender in namespace A floods a sink in namespace B with UDP datagrams
 * (64-byte payload, IPv4, sendmmsg in batches) over a veth pair.  The same
 * flood runs under five configurations, interleaved within every run:
 *
 *   none       nothing on the path (the baseline);
 *   empty TC   a two-instruction program on the same TC egress hook (tcx,
 *              or clsact on a kernel before 6.6, as txcancel attaches): what
 *              the hook costs by itself, to tell it from txcancel's program;
 *   txcancel   the TC egress program on A's veth (datapath library:
 *              txdp_open + txdp_attach_tc), N mark rules, the traffic's
 *              mark among them, its ID not canceled: every frame passes;
 *   +cancels   the same with cancels in force for other IDs of the rules,
 *              so the ID-cancel lookup runs too;
 *   nftables   a table in A: a set of N marks and `meta mark @set drop` in
 *              an output chain, the traffic's mark not in the set: every
 *              frame passes, the same decision as txcancel's.
 *
 * The figure is the CPU time of the sending thread (CLOCK_THREAD_CPUTIME_ID)
 * per frame.  On a veth both hooks run in the sender's system call (nft's
 * output hook in ip_local_out, TC egress in __dev_queue_xmit), and so does
 * the peer's receive path up to the sink's socket: veth hands the frame to
 * netif_rx and the softirq runs when the sender re-enables bottom halves.
 * Thread time counts exactly the sender's work, whatever the other tenants
 * of this shared machine do; the whole-system busy time from /proc/stat is
 * printed in the note for reference only, since it counts their work too.
 *
 * The sink is a thread that reads every datagram (recvmmsg) and counts it;
 * the sender keeps at most WINDOW frames ahead of it, so nothing is lost at
 * the socket, and the CPU spent waiting for the sink is not counted.
 *
 * The testbed, the configurations and the flood are here; the command line
 * is in veth_cpu/args.c, the rows in veth_cpu/report.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "benchlib.h"
#include "dp.h"
#include "netns.h"

#define IF_A		"e1a"
#define IF_B		"e1b"
#define ADDR_A		"198.18.61.1"
#define ADDR_B		"198.18.61.2"
#define SPORT		7701
#define DPORT		6701
#define PAYLOAD_LEN	64
#define WINDOW		8192		/* frames the sender may be ahead of the sink */
#define SINK_RCVBUF	(64 << 20)
#define MARK_MASK	0x00ffffffu
#define TRAFFIC_MARK	1u		/* rule 1: tagged with ID (PREFIX, 1), never canceled */
#define PREFIX		1u
#define SOURCE		1u
#define NFT_TABLE	"txc_e1"
#define STALL_MS	3000		/* longest the sink may make no progress */
#define TCX_NEXT_RC	(-1)		/* TCX_NEXT: not in every distribution's linux/bpf.h */

#include "veth_cpu/veth_cpu.h"

const char *const cfg_name[NCFG] = {
	[CFG_NONE] = "no program",
	[CFG_EMPTY_TC] = "empty TC program",
	[CFG_TXC] = "txcancel",
	[CFG_TXC_CANCELS] = "txcancel+cancels",
	[CFG_NFT] = "nftables",
};

static struct bed {
	char a[FX_NAME_MAX], b[FX_NAME_MAX];
	char pin[128];
	char nft_file[64];
	struct txdp *dp;
	int empty_prog, empty_link;	/* empty_link 0: on clsact, no link */
	bool tcx;			/* the kernel has tcx (Linux 6.6+) */
	int tx, rx;
	bool tc_attached, nft_hooked, cancels_on;
	struct bench_loop sink;
	atomic_ulong received;
	atomic_int sink_err;
} bed = { .tx = -1, .rx = -1, .empty_prog = -1, .empty_link = -1 };

/* One flood: what the sender spent and what arrived. */
struct sample {
	double thread_ns;	/* sender thread CPU per frame */
	double busy_ns;		/* whole-system busy time per frame (/proc/stat) */
	double wall_ns;		/* wall clock per frame, waits excluded */
	long sent, received;
	int waits;		/* times the sender waited for the sink */
	double prog_ns;		/* the attached program's own run time per run (bpf_stats), or NaN */
};

/*
 * The program on the hook in this configuration, for its own run time when
 * kernel.bpf_stats_enabled is on (this benchmark never turns it on: it is
 * global, and would slow every other BPF program on the machine).
 */
static int hook_prog_fd(void);

static bool prog_stats(int fd, __u64 *run_ns, __u64 *runs)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
		return false;
	*run_ns = info.run_time_ns;
	*runs = info.run_cnt;
	return true;
}

/* Busy time of all CPUs so far, in ns (user, nice, system, irq, softirq, steal). */
static double system_busy_ns(void)
{
	unsigned long long v[8] = { 0 };
	static long hz;
	FILE *f = fopen("/proc/stat", "r");
	int n;

	if (!hz)
		hz = sysconf(_SC_CLK_TCK);
	if (!f)
		return NAN;
	n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
		   &v[3], &v[4], &v[5], &v[6], &v[7]);
	fclose(f);
	if (n != 8)
		return NAN;
	return (double)(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) * 1e9 / (double)hz;
}

/* --- the sink ------------------------------------------------------------- */

static void *sink_main(void *arg)
{
	struct mmsghdr msgs[64];
	struct iovec iov[64];
	static char bufs[64][256];
	struct pollfd pfd = { .fd = bed.rx, .events = POLLIN };
	int i, n;

	(void)arg;
	for (i = 0; i < 64; i++) {
		iov[i] = (struct iovec){ .iov_base = bufs[i], .iov_len = sizeof(bufs[i]) };
		msgs[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[i], .msg_iovlen = 1 } };
	}
	while (!bench_loop_stopping(&bed.sink)) {
		n = recvmmsg(bed.rx, msgs, 64, MSG_DONTWAIT, NULL);
		if (n > 0) {
			int ours = 0;

			/* Count only the flood's datagrams. */
			for (i = 0; i < n; i++)
				ours += msgs[i].msg_len == PAYLOAD_LEN;
			atomic_fetch_add(&bed.received, ours);
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			atomic_store(&bed.sink_err, errno);
			break;
		}
		poll(&pfd, 1, 50);
	}
	return NULL;
}

/* --- configurations ------------------------------------------------------- */

static int nft(const char *cmd)
{
	return fx_run("ip netns exec %s nft '%s'", bed.a, cmd);
}

/* The nft table with its set of @rules marks, 2..rules+1: the traffic's mark 1 is not in it. */
static int nft_table_create(int rules)
{
	FILE *f;
	int i;

	snprintf(bed.nft_file, sizeof(bed.nft_file), "/tmp/txc-e1-%d.nft", (int)getpid());
	f = fopen(bed.nft_file, "w");
	if (!f) {
		fprintf(stderr, "veth_cpu: writing %s: %s\n", bed.nft_file, strerror(errno));
		return -errno;
	}
	fprintf(f, "table ip %s {\n\tset marks {\n\t\ttype mark\n\t\tsize 65536\n"
		"\t\telements = {", NFT_TABLE);
	for (i = 0; i < rules; i++)
		fprintf(f, "%s%s%d", i ? "," : " ", i % 16 ? "" : "\n\t\t\t", i + 2);
	fprintf(f, " }\n\t}\n}\n");
	if (fclose(f)) {
		fprintf(stderr, "veth_cpu: writing %s: %s\n", bed.nft_file, strerror(errno));
		return -EIO;
	}
	return fx_run("ip netns exec %s nft -f %s", bed.a, bed.nft_file);
}

static int nft_hook(bool on)
{
	int err;

	if (on == bed.nft_hooked)
		return 0;
	if (on) {
		err = nft("add chain ip " NFT_TABLE " out { type filter hook output priority 0; "
			  "policy accept; }");
		if (!err)
			err = nft("add rule ip " NFT_TABLE " out meta mark @marks drop");
	} else {
		err = nft("flush chain ip " NFT_TABLE " out; delete chain ip " NFT_TABLE " out");
	}
	if (!err)
		bed.nft_hooked = on;
	return err;
}

static int tc_attach(bool on)
{
	int err;

	if (on == bed.tc_attached)
		return 0;
	/* The interface name is resolved in the calling thread's namespace. */
	err = ns_enter(bed.a);
	if (err)
		return err;
	err = on ? txdp_attach_tc(bed.dp, IF_A, TXDP_TC_AUTO) : txdp_detach_tc(bed.dp, IF_A);
	ns_leave();
	if (!err)
		bed.tc_attached = on;
	return err;
}

/* The empty program: return TCX_NEXT. */
static int empty_prog_load(void)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = TCX_NEXT_RC },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int fd = bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "txc_e1_empty", "GPL", insns, 2, NULL);

	if (fd < 0)
		fprintf(stderr, "veth_cpu: loading the empty TC program: %s\n", strerror(errno));
	return fd < 0 ? -errno : fd;
}

/*
 * Without tcx the empty program is a cls_bpf filter on a clsact qdisc of
 * its own, as txcancel's is then; off removes the qdisc with it.
 */
static int empty_clsact(unsigned int ifindex, bool on)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = 1, .priority = 1, .prog_fd = bed.empty_prog);
	int err;

	if (!on) {
		hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
		return bpf_tc_hook_destroy(&hook);
	}
	err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST)
		return err;
	err = bpf_tc_attach(&hook, &opts);
	if (err) {
		hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
		bpf_tc_hook_destroy(&hook);
	}
	return err;
}

static int empty_attach(bool on)
{
	unsigned int ifindex;
	int err = 0;

	if (on == (bed.empty_link >= 0))
		return 0;
	if (!on && bed.tcx) {
		close(bed.empty_link);
		bed.empty_link = -1;
		return 0;
	}
	err = ns_enter(bed.a);
	if (err)
		return err;
	ifindex = if_nametoindex(IF_A);
	if (!ifindex)
		bed.empty_link = -errno;
	else if (bed.tcx)
		bed.empty_link = txdp_tcx_link_create(bed.empty_prog, ifindex, TXDP_TC_PLACE_LAST);
	else
		bed.empty_link = empty_clsact(ifindex, on);
	ns_leave();
	if (!on) {
		bed.empty_link = -1;
		return 0;
	}
	if (bed.empty_link < 0) {
		err = bed.empty_link;
		bed.empty_link = -1;
		fprintf(stderr, "veth_cpu: attaching the empty TC program: %s\n", strerror(-err));
	}
	return err;
}

static int hook_prog_fd(void)
{
	if (bed.empty_link >= 0)
		return bed.empty_prog;
	if (bed.tc_attached)
		return txdp_prog_fd(bed.dp, TXDP_PROG_TC_EGRESS);
	return -1;
}

/* Cancels in force for the IDs of rules 2..cancels+1 (not the traffic's), or none. */
static int other_cancels(int cancels, bool on)
{
	int i, err;

	for (i = 0; i < cancels; i++) {
		__u32 id = TXC_ID_MAKE(PREFIX, i + 2);

		err = on ? txdp_cancel(bed.dp, TXC_SCOPE_ID, id, 0, 0) :
			   txdp_clear(bed.dp, TXC_SCOPE_ID, id);
		if (err) {
			fprintf(stderr, "veth_cpu: %s the cancel of ID %#x: %s\n",
				on ? "setting" : "clearing", id, strerror(-err));
			return err;
		}
	}
	return 0;
}

static int cfg_apply(enum cfg c, const struct params *p)
{
	bool want_cancels = c == CFG_TXC_CANCELS;
	int err = 0;

	/*
	 * Cancels go before the program is detached: detaching walks the ID
	 * cancels to strip the interface's slot (attach.c), and that walk
	 * rewrites even unchanged elements, which moves each to the head of
	 * its hash bucket: with two cancels in one bucket it never ends.
	 */
	if (!want_cancels && bed.cancels_on) {
		err = other_cancels(p->cancels, false);
		bed.cancels_on = !!err;
	}
	if (!err)
		err = empty_attach(c == CFG_EMPTY_TC);
	if (!err)
		err = tc_attach(c == CFG_TXC || c == CFG_TXC_CANCELS);
	if (!err)
		err = nft_hook(c == CFG_NFT);
	if (!err && want_cancels && !bed.cancels_on) {
		err = other_cancels(p->cancels, true);
		bed.cancels_on = !err;
	}
	if (err)
		fprintf(stderr, "veth_cpu: setting up configuration '%s' failed\n", cfg_name[c]);
	return err;
}

/* --- the testbed ---------------------------------------------------------- */

static int bed_up(const struct params *p)
{
	struct txdp_opts opts = { .pin_dir = bed.pin };
	__u32 mark = TRAFFIC_MARK;
	int rcvbuf = SINK_RCVBUF;
	int i, err;

	if ((err = ns_create(bed.a, "e1-tx")) || (err = ns_create(bed.b, "e1-rx")) ||
	    (err = veth_link(bed.a, IF_A, ADDR_A, bed.b, IF_B, ADDR_B, 24, NULL)))
		return err;
	bed.tx = udp_open(bed.a, ADDR_A, SPORT);
	bed.rx = udp_open(bed.b, ADDR_B, DPORT);
	if (bed.tx < 0 || bed.rx < 0)
		return bed.tx < 0 ? bed.tx : bed.rx;
	if (setsockopt(bed.tx, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) ||
	    setsockopt(bed.rx, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf))) {
		fprintf(stderr, "veth_cpu: SO_MARK / SO_RCVBUFFORCE: %s\n", strerror(errno));
		return -errno;
	}

	pin_dir_make(bed.pin, sizeof(bed.pin), "e1");
	err = txdp_open(&bed.dp, &opts);
	if (!err)
		err = txdp_set_mark_mask(bed.dp, MARK_MASK);
	for (i = 0; !err && i < p->rules; i++) {
		__u32 key = i + 1;
		struct txc_tag tag = { .cancel_id = TXC_ID_MAKE(PREFIX, i + 1), .source = SOURCE };

		err = txdp_tag_add(bed.dp, TXC_TAG_MARK, &key, &tag);
	}
	if (err) {
		fprintf(stderr, "veth_cpu: txcancel datapath with %d mark rules: %s\n", p->rules,
			strerror(-err));
		return err;
	}
	err = nft_table_create(p->rules);
	if (err)
		return err;
	bed.tcx = txdp_kernel_has_tcx();
	bed.empty_prog = empty_prog_load();
	if (bed.empty_prog < 0)
		return bed.empty_prog;

	err = bench_loop_start(&bed.sink, sink_main, NULL);
	if (err)
		fprintf(stderr, "veth_cpu: starting the sink thread: %s\n", strerror(-err));
	return err;
}

static void bed_down(const struct params *p)
{
	bench_loop_stop(&bed.sink);
	if (bed.dp) {
		cfg_apply(CFG_NONE, p);
		txdp_unpin(bed.dp);
		txdp_close(bed.dp);
		bed.dp = NULL;
	}
	if (bed.empty_prog >= 0)
		close(bed.empty_prog);
	bed.empty_prog = -1;
	if (bed.nft_file[0])
		unlink(bed.nft_file);
	if (bed.tx >= 0)
		close(bed.tx);
	if (bed.rx >= 0)
		close(bed.rx);
	bed.tx = bed.rx = -1;
	/* The namespaces (and the nft table in A with them) go in fx_cleanup(). */
}

/* --- the flood ------------------------------------------------------------ */

static long in_flight(long sent, unsigned long base)
{
	return sent - (long)(atomic_load(&bed.received) - base);
}

/*
 * Wait until the sink is at most @limit frames behind.  Returns the sender
 * CPU spent waiting (excluded from the figure), or -1 if the sink stalled.
 */
static long long wait_sink(long sent, unsigned long base, long limit, __u64 *wall)
{
	__u64 c0 = bench_thread_cpu_ns(), w0 = bench_now_ns(), last = w0;
	long behind = in_flight(sent, base), now_behind;
	struct timespec nap = { .tv_nsec = 50000 };

	while (behind > limit) {
		nanosleep(&nap, NULL);
		now_behind = in_flight(sent, base);
		if (now_behind < behind)
			last = bench_now_ns();
		else if (bench_now_ns() - last > STALL_MS * 1000000ull)
			return -1;
		behind = now_behind;
	}
	*wall += bench_now_ns() - w0;
	return (long long)(bench_thread_cpu_ns() - c0);
}

static int flood(long frames, struct sample *s)
{
	static char payload[PAYLOAD_LEN] = "txcancel E1 flood";
	struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons(DPORT) };
	struct mmsghdr msgs[BATCH];
	struct iovec iov = { .iov_base = payload, .iov_len = PAYLOAD_LEN };
	struct pollfd pfd = { .fd = bed.tx, .events = POLLOUT };
	unsigned long base = atomic_load(&bed.received);
	__u64 cpu0, wall0, wait_wall = 0;
	long long wait_cpu = 0, w;
	__u64 prog_ns0 = 0, prog_runs0 = 0, prog_ns1, prog_runs1;
	bool have_stats;
	double busy0;
	long sent = 0;
	int i, n;

	inet_pton(AF_INET, ADDR_B, &dst.sin_addr);
	for (i = 0; i < BATCH; i++)
		msgs[i] = (struct mmsghdr){ .msg_hdr = {
			.msg_name = &dst, .msg_namelen = sizeof(dst),
			.msg_iov = &iov, .msg_iovlen = 1 } };
	memset(s, 0, sizeof(*s));

	have_stats = prog_stats(hook_prog_fd(), &prog_ns0, &prog_runs0);
	busy0 = system_busy_ns();
	wall0 = bench_now_ns();
	cpu0 = bench_thread_cpu_ns();
	while (sent < frames) {
		if (in_flight(sent, base) > WINDOW) {
			w = wait_sink(sent, base, WINDOW / 2, &wait_wall);
			if (w < 0)
				goto stalled;
			wait_cpu += w;
			s->waits++;
		}
		n = frames - sent < BATCH ? (int)(frames - sent) : BATCH;
		n = sendmmsg(bed.tx, msgs, n, 0);
		if (n > 0) {
			sent += n;
			continue;
		}
		if (errno != EAGAIN) {
			fprintf(stderr, "veth_cpu: sendmmsg: %s\n", strerror(errno));
			return -errno;
		}
		/* Send buffer full: the veth frees it as it forwards (bounded). */
		if (poll(&pfd, 1, STALL_MS) <= 0) {
			fprintf(stderr, "veth_cpu: the send buffer stayed full\n");
			return -ETIMEDOUT;
		}
	}
	s->thread_ns = (double)(bench_thread_cpu_ns() - cpu0 - wait_cpu) / (double)frames;
	s->wall_ns = (double)(bench_now_ns() - wall0 - wait_wall) / (double)frames;
	s->busy_ns = (system_busy_ns() - busy0) / (double)frames;
	s->prog_ns = NAN;
	if (have_stats && prog_stats(hook_prog_fd(), &prog_ns1, &prog_runs1) &&
	    prog_runs1 > prog_runs0)
		s->prog_ns = (double)(prog_ns1 - prog_ns0) / (double)(prog_runs1 - prog_runs0);
	s->sent = sent;
	/* Every frame should arrive: wait for the last ones (bounded). */
	if (wait_sink(sent, base, 0, &wait_wall) < 0)
		fprintf(stderr, "veth_cpu: %ld of %ld frames did not arrive\n",
			in_flight(sent, base), sent);
	s->received = (long)(atomic_load(&bed.received) - base);
	return 0;

stalled:
	fprintf(stderr, "veth_cpu: the sink stopped receiving (%ld sent, %ld received%s%s)\n",
		sent, (long)(atomic_load(&bed.received) - base),
		atomic_load(&bed.sink_err) ? ": " : "",
		atomic_load(&bed.sink_err) ? strerror(atomic_load(&bed.sink_err)) : "");
	return -ETIMEDOUT;
}

int main(int argc, char **argv)
{
	static struct results r;
	char extra[128];
	struct params p;
	struct sample s;
	int run, i, err;

	if (parse_args(argc, argv, &p))
		return 2;
	if (geteuid() != 0) {
		fprintf(stderr, "veth_cpu: needs root (namespaces, veth, BPF, nftables)\n");
		return 1;
	}
	if (fx_init())
		return 1;
	fprintf(stderr, "veth_cpu: %d runs x %d configurations x %ld frames, %d mark rules\n",
		p.runs, NCFG, p.frames, p.rules);
	err = bed_up(&p);
	r.tcx = bed.tcx;
	/* Warm up the path (neighbors, caches, socket buffers); not measured. */
	for (i = 0; !err && i < NCFG; i++) {
		err = cfg_apply(i, &p);
		if (!err)
			err = flood(p.frames / 10 > 1000 ? p.frames / 10 : 1000, &s);
	}
	for (run = 0; !err && run < p.runs; run++) {
		/* Rotate the order so that no configuration always runs first or last. */
		for (i = 0; !err && i < NCFG; i++) {
			enum cfg c = (enum cfg)((i + run) % NCFG);

			err = cfg_apply(c, &p);
			if (!err)
				err = flood(p.frames, &s);
			if (err)
				break;
			r.thread[c][run] = s.thread_ns;
			r.busy[c][run] = s.busy_ns;
			r.prog[c][run] = s.prog_ns;
			r.sent[c] += s.sent;
			r.received[c] += s.received;
			r.waits[c] += s.waits;
			fprintf(stderr, "  run %d %-17s thread %7.1f ns/frame  wall %7.1f  "
				"system %7.1f  sent %ld received %ld waits %d\n", run + 1,
				cfg_name[c], s.thread_ns, s.wall_ns, s.busy_ns, s.sent,
				s.received, s.waits);
		}
	}
	bed_down(&p);
	if (err) {
		fprintf(stderr, "veth_cpu: could not measure: %s\n", strerror(-err));
		return 1;
	}

	snprintf(extra, sizeof(extra), "traffic's mark tagged, its ID not canceled");
	emit_added(&r, &p, CFG_TXC, "txcancel TC egress, %d mark rules, tagged not canceled", extra);
	snprintf(extra, sizeof(extra), "%d other IDs canceled, not the traffic's", p.cancels);
	emit_added(&r, &p, CFG_TXC_CANCELS,
		   "txcancel TC egress, %d mark rules, other IDs canceled", extra);
	emit_added(&r, &p, CFG_NFT, "nftables output chain, meta mark @set drop, %d-mark set",
		   "traffic's mark not in the set");
	return 0;
}
