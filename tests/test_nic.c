// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Real NIC drivers: txcancel on the NICs of a VM guest instead of veth.
 *
 * The NICs are two pairs the VM harness (tests/vm/run.sh -n) joins to each
 * other, recognised by their MAC addresses and never any other NIC:
 *   52:54:00:74:78:01 and :02   a pair (virtio-net or e1000e)
 *   52:54:00:74:78:11 and :12   a multi-queue virtio-net pair
 * The first NIC of a pair is moved into a sender namespace S, the second
 * into a receiver namespace R (addresses from 198.18.96.0/22, IPv6 off and
 * permanent neighbour entries, so that nothing but the test's frames
 * crosses).  What each test checks: what the receiver got, the datapath's
 * counters and abort records, and the driver's own counters (the netdev
 * statistics and, where the driver has them, its ethtool statistics).
 *
 *   tc_cancel    TC egress on S's NIC (tcx, or clsact before Linux 6.6):
 *                frames flow; canceled, none reaches the driver or R
 *   tc_gso       UDP GSO: the abort record's segment count is what the
 *                wire carried for the same send before the cancel (on the
 *                hub-joined pair and on the tap-backed one, with offloads)
 *   xdp_native   XDP in driver mode on R's NIC: canceled frames are
 *                dropped there, counted as XDP drops by the driver
 *   mq_tc_cancel senders on each CPU use several TX queues; a cancel holds
 *                frames whichever queue they would have taken (counted
 *                per queue by mq's child qdiscs)
 * Without the NICs (on the host, or a guest booted without them) every
 * test is skipped, naming what is missing.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <ifaddrs.h>
#include <limits.h>
#include <regex.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/sockios.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "dp.h"
#include "netns.h"
#include "testlib.h"

#ifndef UDP_SEGMENT
#define UDP_SEGMENT	103
#endif

#define MAC_PREFIX	"52:54:00:74:78:"
#define K		100	/* frames per phase */
#define QUIET_MS	300
#define GSO_SIZE	1000	/* UDP payload bytes per segment */
#define GSO_SEGS	8	/* segments per GSO send */
#define GSO_SENDS	10
#define RING_BYTES	(256u * 1024u)

enum { PAIR_PLAIN, PAIR_MQ, N_PAIRS };

static const char *const pair_macs[N_PAIRS][2] = {
	{ MAC_PREFIX "01", MAC_PREFIX "02" },
	{ MAC_PREFIX "11", MAC_PREFIX "12" },
};

/* One pair of NICs joined to each other, S's end in S, R's end in R. */
struct nic_pair {
	char if_s[IFNAMSIZ], if_r[IFNAMSIZ];	/* names in the guest */
	char driver[32];
	bool found, up;				/* up: moved and addressed */
	char s[FX_NAME_MAX], r[FX_NAME_MAX];
	char addr_s[32], addr_r[32];
	__u32 ifindex_s, ifindex_r;
	int tx_queues;
};

static struct nic_pair pairs[N_PAIRS];
static struct txdp *dp;
static char pin[128];
static bool kernel_tcx;

/* --- finding the NICs ----------------------------------------------------- */

static int read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");

	if (!f)
		return -errno;
	if (!fgets(buf, (int)len, f)) {
		fclose(f);
		return -EIO;
	}
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

static int count_entries(const char *path, const char *prefix)
{
	struct dirent *de;
	DIR *d = opendir(path);
	int n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d)))
		n += !strncmp(de->d_name, prefix, strlen(prefix));
	closedir(d);
	return n;
}

/* Look for the harness's NICs among this namespace's interfaces. */
static void nics_find(void)
{
	char path[PATH_MAX], mac[32], drv[PATH_MAX];
	struct dirent *de;
	DIR *d = opendir("/sys/class/net");
	int p, e;

	if (!d)
		return;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/class/net/%s/address", de->d_name);
		if (read_line(path, mac, sizeof(mac)))
			continue;
		for (p = 0; p < N_PAIRS; p++) {
			for (e = 0; e < 2; e++) {
				ssize_t n;

				if (strcmp(mac, pair_macs[p][e]))
					continue;
				snprintf(e ? pairs[p].if_r : pairs[p].if_s, IFNAMSIZ, "%.*s",
					 IFNAMSIZ - 1, de->d_name);
				snprintf(path, sizeof(path), "/sys/class/net/%s/device/driver",
					 de->d_name);
				n = readlink(path, drv, sizeof(drv) - 1);
				if (n > 0) {
					drv[n] = '\0';
					snprintf(pairs[p].driver, sizeof(pairs[p].driver), "%.31s",
						 strrchr(drv, '/') ? strrchr(drv, '/') + 1 : drv);
				}
				if (!e) {
					snprintf(path, sizeof(path), "/sys/class/net/%s/queues",
						 de->d_name);
					pairs[p].tx_queues = count_entries(path, "tx-");
				}
			}
		}
	}
	closedir(d);
	for (p = 0; p < N_PAIRS; p++)
		pairs[p].found = pairs[p].if_s[0] && pairs[p].if_r[0];
}

/* The pair @p, set up on first use; false (and the test skipped) if absent. */
static struct nic_pair *pair_get(int p)
{
	struct nic_pair *n = &pairs[p];

	if (!n->found) {
		test_skip("no %sNIC pair with MACs %s and %s here (the VM harness adds it: "
			  "tests/vm/run.sh -n %s)", p == PAIR_MQ ? "multi-queue " : "",
			  pair_macs[p][0], pair_macs[p][1],
			  p == PAIR_MQ ? "virtio-mq-pair" : "virtio-pair or e1000e-pair");
		return NULL;
	}
	if (n->up)
		return n;
	snprintf(n->addr_s, sizeof(n->addr_s), "198.18.%d.1", 96 + p);
	snprintf(n->addr_r, sizeof(n->addr_r), "198.18.%d.2", 96 + p);
	if (!ASSERT_OK(ns_createf(n->s, "nic%ds", p), "namespace S") ||
	    !ASSERT_OK(ns_createf(n->r, "nic%dr", p), "namespace R"))
		return NULL;
	/* IPv6 off before the NICs arrive: no router or neighbour solicitations. */
	if (!ASSERT_OK(fx_run("ip netns exec %s sysctl -qw net.ipv6.conf.default.disable_ipv6=1 && "
			      "ip netns exec %s sysctl -qw net.ipv6.conf.default.disable_ipv6=1",
			      n->s, n->r), "IPv6 off in S and R") ||
	    !ASSERT_OK(fx_run("ip link set %s netns %s && ip link set %s netns %s", n->if_s, n->s,
			      n->if_r, n->r), "moving the NICs into S and R") ||
	    !ASSERT_OK(fx_run("ip -n %s link set %s up && ip -n %s link set %s up", n->s,
			      n->if_s, n->r, n->if_r), "NICs up"))
		return NULL;
	if (!ASSERT_OK(addr_add_len(n->s, n->if_s, n->addr_s, 24), "address in S"))
		return NULL;
	{
		__u8 mac_s[6], mac_r[6];

		if (!ASSERT_OK(addr_add_len(n->r, n->if_r, n->addr_r, 24), "address in R") ||
		    !ASSERT_OK(link_info(n->s, n->if_s, &n->ifindex_s, mac_s), "NIC in S") ||
		    !ASSERT_OK(link_info(n->r, n->if_r, &n->ifindex_r, mac_r), "NIC in R") ||
		    !ASSERT_OK(neigh_add(n->s, n->if_s, n->addr_r, mac_r), "neighbour in S") ||
		    !ASSERT_OK(neigh_add(n->r, n->if_r, n->addr_s, mac_s), "neighbour in R"))
			return NULL;
	}
	printf("    %s pair: %s (S, %d TX queues) and %s (R), driver %s\n",
	       p == PAIR_MQ ? "multi-queue" : "NIC", n->if_s, n->tx_queues, n->if_r, n->driver);
	n->up = true;
	return n;
}

static bool dp_get(void)
{
	struct txdp_opts opts = { .pin_dir = pin, .ring_bytes = RING_BYTES,
				    .flow_rules_max = 1024 };

	if (dp)
		return ASSERT_OK(txdp_reset(dp), "resetting the datapath");
	pin_dir_make(pin, sizeof(pin), "nic");
	return ASSERT_OK(txdp_open(&dp, &opts), "opening the datapath");
}

/* --- the driver's counters ------------------------------------------------ */

/* Frames the netdev statistics of @ifname in @ns count as sent and received. */
static int netdev_counts(const char *ns, const char *ifname, __u64 *tx, __u64 *rx)
{
	struct ifaddrs *ifa, *i;
	int err = -ENODEV;

	if (ns_enter(ns))
		return -EIO;
	if (getifaddrs(&ifa)) {
		err = -errno;
		ns_leave();
		return err;
	}
	for (i = ifa; i; i = i->ifa_next) {
		const struct rtnl_link_stats *st = i->ifa_data;

		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_PACKET || !st ||
		    strcmp(i->ifa_name, ifname))
			continue;
		*tx = st->tx_packets;
		*rx = st->rx_packets;
		err = 0;
	}
	freeifaddrs(ifa);
	ns_leave();
	return err;
}

/*
 * The sum of the driver's ethtool statistics on @ifname in @ns whose names
 * match the extended regular expression @re; -ENOENT if none does.
 */
static long long ethtool_sum(const char *ns, const char *ifname, const char *re)
{
	struct ethtool_drvinfo info = { .cmd = ETHTOOL_GDRVINFO };
	struct ethtool_gstrings *names = NULL;
	struct ethtool_stats *vals = NULL;
	struct ifreq ifr = {};
	long long sum = -ENOENT;
	regex_t rx;
	int fd, n;

	if (regcomp(&rx, re, REG_EXTENDED | REG_NOSUB))
		return -EINVAL;
	if (ns_enter(ns)) {
		regfree(&rx);
		return -EIO;
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ns_leave();
	if (fd < 0)
		goto out;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&info;
	if (ioctl(fd, SIOCETHTOOL, &ifr) || !info.n_stats)
		goto out;
	n = info.n_stats;
	names = calloc(1, sizeof(*names) + (size_t)n * ETH_GSTRING_LEN);
	vals = calloc(1, sizeof(*vals) + (size_t)n * sizeof(__u64));
	if (!names || !vals)
		goto out;
	names->cmd = ETHTOOL_GSTRINGS;
	names->string_set = ETH_SS_STATS;
	names->len = n;
	ifr.ifr_data = (void *)names;
	if (ioctl(fd, SIOCETHTOOL, &ifr))
		goto out;
	vals->cmd = ETHTOOL_GSTATS;
	vals->n_stats = n;
	ifr.ifr_data = (void *)vals;
	if (ioctl(fd, SIOCETHTOOL, &ifr))
		goto out;
	for (int i = 0; i < n; i++) {
		char name[ETH_GSTRING_LEN + 1];

		memcpy(name, names->data + (size_t)i * ETH_GSTRING_LEN, ETH_GSTRING_LEN);
		name[ETH_GSTRING_LEN] = '\0';
		if (regexec(&rx, name, 0, NULL, 0))
			continue;
		sum = (sum < 0 ? 0 : sum) + (long long)vals->data[i];
	}
out:
	if (fd >= 0)
		close(fd);
	free(names);
	free(vals);
	regfree(&rx);
	return sum;
}

/*
 * Frames each TX queue of @ifname in @ns sent, from the counters of mq's
 * child qdiscs (one per queue, "parent :<queue + 1>"): newer virtio_net
 * keeps its per-queue packet counts out of ethtool.  Returns the number of
 * queues found, or a negative errno.
 */
static int txq_packets(const char *ns, const char *ifname, long long *pkts, int max)
{
	static char out[16384];
	char *line, *save = NULL;
	int q = -1, found = 0;

	if (fx_run_output(out, sizeof(out), "tc -n %s -s qdisc show dev %s", ns, ifname))
		return -EIO;
	for (int i = 0; i < max; i++)
		pkts[i] = -1;
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		const char *parent = strstr(line, " parent :");
		unsigned long long bytes, n;

		if (!strncmp(line, "qdisc ", 6)) {
			q = parent ? (int)strtol(parent + 9, NULL, 16) - 1 : -1;
			continue;
		}
		if (q >= 0 && q < max && sscanf(line, " Sent %llu bytes %llu pkt", &bytes, &n) == 2) {
			pkts[q] = (long long)n;
			found = found > q + 1 ? found : q + 1;
			q = -1;
		}
	}
	return found;
}

/* --- traffic -------------------------------------------------------------- */

struct flow {
	__u16 sport, dport;
	__u32 id, source;
	int tx, rx;
};

static bool flow_open(struct nic_pair *n, struct flow *f)
{
	struct txc_flow_key key;
	struct txc_tag tag = { .cancel_id = f->id, .source = f->source };

	f->tx = udp_open(n->s, n->addr_s, f->sport);
	f->rx = udp_open(n->r, n->addr_r, f->dport);
	return ASSERT_GE0(f->tx, "sender socket") && ASSERT_GE0(f->rx, "receiver socket") &&
	       ASSERT_OK(flow_key_make(&key, n->addr_s, f->sport, n->addr_r, f->dport),
			 "flow key") &&
	       ASSERT_OK(txdp_tag_add(dp, TXC_TAG_FLOW, &key, &tag), "flow tag rule");
}

static void flow_close(struct flow *f)
{
	udp_pair_close(&f->tx, &f->rx);
}

static int attach_tc(struct nic_pair *n)
{
	struct txc_iface iface;
	int err;

	if (ns_enter(n->s))
		return -EIO;
	err = txdp_attach_tc(dp, n->if_s, TXDP_TC_AUTO);
	ns_leave();
	if (!ASSERT_OK(err, "attaching the TC program to the NIC"))
		return err;
	if (!ASSERT_OK(txdp_iface_get(dp, n->ifindex_s, &iface), "interface state") ||
	    !ASSERT_EQ(iface.flags & (TXC_IFACE_F_TC_TCX | TXC_IFACE_F_TC_CLSACT),
		       kernel_tcx ? TXC_IFACE_F_TC_TCX : TXC_IFACE_F_TC_CLSACT,
		       kernel_tcx ? "TC mode: tcx" : "TC mode: clsact (no tcx before Linux 6.6)"))
		return -EINVAL;
	return 0;
}

static void detach_tc(struct nic_pair *n)
{
	if (ns_enter(n->s))
		return;
	ASSERT_OK(txdp_detach_tc(dp, n->if_s), "detaching the TC program");
	ns_leave();
}

/* Every record: from @f's ID and source, at @hook on @ifindex, @len bytes. */
static bool records_check(const struct ring_log *log, int want, const struct flow *f,
			  int hook, __u32 ifindex, __u32 len, const char *phase)
{
	char what[128];
	bool ok = true;
	int i;

	snprintf(what, sizeof(what), "%s: abort records", phase);
	ok &= ASSERT_EQ(log->n, want, what);
	for (i = 0; !ok && i < log->n && i < 32; i++)
		printf("    record %d: id 0x%08x source %u hook %u ifindex %u len %u gso %u x %u\n",
		       i, log->recs[i].cancel_id, log->recs[i].source, log->recs[i].hook,
		       log->recs[i].ifindex, log->recs[i].len, log->recs[i].gso_segs,
		       log->recs[i].gso_size);
	for (i = 0; i < log->n && ok; i++) {
		const struct txc_abort_record *r = &log->recs[i];

		snprintf(what, sizeof(what), "%s: record %d", phase, i);
		ok &= ASSERT_EQ(r->hdr.status, TXC_STATUS_SEND_ABORTED, what) &&
		      ASSERT_EQ(r->cancel_id, f->id, what) &&
		      ASSERT_EQ(r->source, f->source, what) &&
		      ASSERT_EQ(r->hook, hook, what) &&
		      ASSERT_EQ(r->ifindex, ifindex, what) &&
		      ASSERT_EQ(r->scope, TXC_SCOPE_ID, what) &&
		      (!len || ASSERT_EQ(r->len, len, what));
	}
	return ok;
}

static bool ring_read(int fd, struct ring_log *log)
{
	log->n = log->bad_size = log->overflow = 0;
	return ASSERT_OK(ring_drain(fd, log), "draining the ring") &&
	       ASSERT_EQ(log->bad_size, 0, "ring samples of the wrong size");
}

static bool stats_check(const struct flow *f, __u64 passed, __u64 aborted, const char *phase)
{
	struct txc_source_stats st;
	char what[128];

	snprintf(what, sizeof(what), "%s: source counters", phase);
	if (!ASSERT_OK(txdp_source_stats(dp, f->source, &st), what))
		return false;
	snprintf(what, sizeof(what), "%s: passed frames", phase);
	if (!ASSERT_EQ(st.passed_frames, passed, what))
		return false;
	snprintf(what, sizeof(what), "%s: aborted frames", phase);
	return ASSERT_EQ(st.aborted_frames, aborted, what) &&
	       ASSERT_EQ(st.lost_reports, 0, "lost reports");
}

/*
 * Send @count datagrams of @f; check R got @want and the NICs' netdev
 * counters moved by @want frames (nothing else crosses the pair).
 */
static bool phase(struct nic_pair *n, struct flow *f, int count, int want, const char *name)
{
	__u64 tx0 = 0, rx0 = 0, tx1 = 0, rx1 = 0, dummy;
	char what[128];
	bool ok;

	udp_drain(f->rx);
	ok = ASSERT_OK(netdev_counts(n->s, n->if_s, &tx0, &dummy), "S's NIC counters") &&
	     ASSERT_OK(netdev_counts(n->r, n->if_r, &dummy, &rx0), "R's NIC counters");
	snprintf(what, sizeof(what), "%s: datagrams sent", name);
	ok &= ASSERT_EQ(udp_send(f->tx, n->addr_r, f->dport, count, 1), count, what);
	snprintf(what, sizeof(what), "%s: datagrams R received", name);
	ok &= ASSERT_EQ(udp_recv(f->rx, want, QUIET_MS), want, what);
	ok &= ASSERT_OK(netdev_counts(n->s, n->if_s, &tx1, &dummy), "S's NIC counters") &&
	      ASSERT_OK(netdev_counts(n->r, n->if_r, &dummy, &rx1), "R's NIC counters");
	snprintf(what, sizeof(what), "%s: frames S's driver sent (tx_packets)", name);
	ok &= ASSERT_EQ(tx1 - tx0, want, what);
	snprintf(what, sizeof(what), "%s: frames R's driver received (rx_packets)", name);
	ok &= ASSERT_EQ(rx1 - rx0, want, what);
	return ok;
}

/*
 * One flow through pair @p, its source's ring, and txcancel's TC program on
 * S's NIC: what a TC case needs.  tc_case_down() undoes what tc_case_up() did.
 */
struct tc_case {
	struct nic_pair *n;
	struct flow *f;
	int ring;
	bool attached;
};

static bool tc_case_up(struct tc_case *c, int p, struct flow *f)
{
	*c = (struct tc_case){ .n = pair_get(p), .f = f, .ring = -1 };
	if (!c->n || !dp_get() || !flow_open(c->n, f))
		return false;
	c->ring = txdp_ring_open(dp, f->source);
	if (!ASSERT_GE0(c->ring, "ring of the source") || attach_tc(c->n))
		return false;
	c->attached = true;
	return true;
}

static void tc_case_down(struct tc_case *c)
{
	if (c->attached)
		detach_tc(c->n);
	if (c->ring >= 0)
		close(c->ring);
	flow_close(c->f);
}

/* --- 1. tc_cancel --------------------------------------------------------- */

static void tc_cancel_on(int p, __u16 port_base)
{
	struct flow f = { .sport = port_base, .dport = port_base + 1,
			  .id = TXC_ID_MAKE(0x61 + p, 1), .source = 1, .tx = -1, .rx = -1 };
	static struct ring_log log;
	struct nic_pair *n;
	struct tc_case c;

	if (!tc_case_up(&c, p, &f))
		goto out;
	n = c.n;
	if (!phase(n, &f, K, K, "before the cancel") || !stats_check(&f, K, 0, "before the cancel"))
		goto out;
	if (!ASSERT_OK(txdp_cancel(dp, TXC_SCOPE_ID, f.id, 0, 0), "cancel"))
		goto out;
	if (!phase(n, &f, K, 0, "canceled") || !stats_check(&f, K, K, "canceled"))
		goto out;
	if (ring_read(c.ring, &log))
		records_check(&log, K, &f, TXC_HOOK_TC_EGRESS, n->ifindex_s,
			      udp_frame_len(4), "canceled");
	if (!ASSERT_OK(txdp_clear(dp, TXC_SCOPE_ID, f.id), "clear"))
		goto out;
	if (phase(n, &f, K, K, "cleared"))
		stats_check(&f, 2 * K, K, "cleared");
out:
	tc_case_down(&c);
}

static void test_tc_cancel(void)
{
	tc_cancel_on(PAIR_PLAIN, 7601);
}

/* --- 2. tc_gso ------------------------------------------------------------ */

/*
 * @sends GSO sends of GSO_SEGS segments of GSO_SIZE bytes each: how many
 * went, or a negative errno if the first one failed.
 */
static int gso_send(int fd, const char *daddr, __u16 dport, int sends)
{
	static char buf[GSO_SIZE * GSO_SEGS];
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(dport) };
	int i, done = 0;

	inet_pton(AF_INET, daddr, &to.sin_addr);
	for (i = 0; i < sends; i++) {
		ssize_t n = sendto(fd, buf, sizeof(buf), 0, (struct sockaddr *)&to, sizeof(to));

		/* A frame dropped at the egress hook may report ENOBUFS: it was sent. */
		if (n == (ssize_t)sizeof(buf) || (n < 0 && errno == ENOBUFS))
			done++;
		else if (!i)
			return -errno;
		usleep(1000);
	}
	return done;
}

/*
 * UDP GSO through S's NIC of pair @p: before the cancel, R counts the
 * segments each send became on the wire; canceled, each GSO frame is one
 * abort record whose gso_segs and gso_size say the same, and the driver
 * sends nothing.
 */
static void tc_gso_on(int p, __u16 port)
{
	struct flow f = { .sport = port, .dport = port + 1, .id = TXC_ID_MAKE(0x63, 1 + p),
			  .source = 2, .tx = -1, .rx = -1 };
	const int seg = GSO_SIZE, want = GSO_SENDS * GSO_SEGS;
	__u64 tx0, tx1, tx2, dummy;
	static struct ring_log log;
	struct nic_pair *n;
	struct tc_case c;
	int sent, got, i;
	bool ok = true;

	if (!tc_case_up(&c, p, &f) ||
	    !ASSERT_OK(setsockopt(f.tx, IPPROTO_UDP, UDP_SEGMENT, &seg, sizeof(seg)) ? -errno : 0,
		       "UDP_SEGMENT on the sender"))
		goto out;
	n = c.n;

	/* Before the cancel: the segments R receives are what the wire carried. */
	udp_drain(f.rx);
	ok &= ASSERT_OK(netdev_counts(n->s, n->if_s, &tx0, &dummy), "S's NIC counters");
	sent = gso_send(f.tx, n->addr_r, f.dport, GSO_SENDS);
	if (sent == -EIO) {
		/* udp_send_skb(): GSO wants CHECKSUM_PARTIAL, i.e. checksum offload. */
		test_skip("UDP GSO needs TX checksum offload on this kernel, which this %s NIC lacks "
			  "(a hub gives virtio-net no offloads; tap-backed NICs have them)",
			  n->driver);
		goto out;
	}
	ok &= ASSERT_EQ(sent, GSO_SENDS, "GSO sends");
	got = udp_recv(f.rx, want, QUIET_MS);
	ok &= ASSERT_EQ(got, want, "segments R received");
	ok &= ASSERT_OK(netdev_counts(n->s, n->if_s, &tx1, &dummy), "S's NIC counters");
	/* Segmented by the stack, the driver sends each; offloaded, one per send. */
	ok &= ASSERT_TRUE(tx1 - tx0 == (__u64)want || tx1 - tx0 == GSO_SENDS,
			  "frames S's driver sent: one per segment, or one per send (offload)");
	printf("    %s: %d GSO sends became %d datagrams at R; S's driver sent %llu frames\n",
	       n->if_s, GSO_SENDS, got, (unsigned long long)(tx1 - tx0));
	ok &= stats_check(&f, GSO_SENDS, 0, "GSO, before the cancel");
	if (!ok || !ASSERT_OK(txdp_cancel(dp, TXC_SCOPE_ID, f.id, 0, 0), "cancel"))
		goto out;

	udp_drain(f.rx);
	ok &= ASSERT_EQ(gso_send(f.tx, n->addr_r, f.dport, GSO_SENDS), GSO_SENDS, "GSO sends");
	ok &= ASSERT_EQ(udp_recv(f.rx, 0, QUIET_MS), 0, "datagrams R received, canceled");
	ok &= ASSERT_OK(netdev_counts(n->s, n->if_s, &tx2, &dummy), "S's NIC counters");
	ok &= ASSERT_EQ(tx2 - tx1, 0, "frames S's driver sent, canceled");
	ok &= stats_check(&f, GSO_SENDS, GSO_SENDS, "GSO, canceled");
	if (!ok || !ring_read(c.ring, &log) ||
	    !records_check(&log, GSO_SENDS, &f, TXC_HOOK_TC_EGRESS, n->ifindex_s, 0, "GSO"))
		goto out;
	/* One record per GSO frame, whose segments are what the wire carried before. */
	for (i = 0; i < log.n; i++) {
		ok &= ASSERT_EQ(log.recs[i].gso_segs, got / GSO_SENDS,
				"record's gso_segs = segments per send R received before the cancel");
		ok &= ASSERT_EQ(log.recs[i].gso_size, GSO_SIZE, "record's gso_size");
		if (!ok)
			break;
	}
out:
	tc_case_down(&c);
}

/* On the hub-joined pair and on the tap-backed one (which has offloads). */
static void test_tc_gso(void)
{
	if (test_sub_begin("hub")) {
		tc_gso_on(PAIR_PLAIN, 7611);
		test_sub_end();
	}
	if (test_sub_begin("tap")) {
		tc_gso_on(PAIR_MQ, 7613);
		test_sub_end();
	}
}

/* --- 3. xdp_native -------------------------------------------------------- */

#define RE_XDP_DROPS	"^rx(_queue_)?[0-9]+_xdp_drops$"

static void test_xdp_native(void)
{
	struct flow f = { .sport = 7621, .dport = 7622, .id = TXC_ID_MAKE(0x64, 1),
			  .source = 3, .tx = -1, .rx = -1 };
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	static struct ring_log log;
	struct nic_pair *n = pair_get(PAIR_PLAIN);
	long long drops0, drops1;
	int ring = -1, err;
	bool attached = false;

	if (!n || !dp_get() || !flow_open(n, &f))
		goto out;
	ring = txdp_ring_open(dp, f.source);
	if (!ASSERT_GE0(ring, "ring of the source") || !ASSERT_OK(ns_enter(n->r), "entering R"))
		goto out;
	err = txdp_attach_xdp(dp, n->if_r, XDP_FLAGS_DRV_MODE);
	if (!err)
		err = bpf_xdp_query(n->ifindex_r, 0, &q);
	ns_leave();
	if ((err == -EOPNOTSUPP || err == -EINVAL) && strcmp(n->driver, "virtio_net")) {
		test_skip("the %s driver has no native (driver mode) XDP", n->driver);
		goto out;
	}
	if (!ASSERT_OK(err, "attaching XDP in driver mode"))
		goto out;
	attached = true;
	if (!ASSERT_EQ(q.attach_mode, XDP_ATTACHED_DRV, "XDP attached in driver mode"))
		goto detach;

	drops0 = ethtool_sum(n->r, n->if_r, RE_XDP_DROPS);
	if (!phase(n, &f, K, K, "XDP, before the cancel") ||
	    !stats_check(&f, K, 0, "XDP, before the cancel") ||
	    !ASSERT_OK(txdp_cancel(dp, TXC_SCOPE_ID, f.id, 0, 0), "cancel"))
		goto detach;
	/* R's driver receives the frames (rx_packets) and drops them in XDP. */
	{
		__u64 rx0, rx1, dummy;

		netdev_counts(n->r, n->if_r, &dummy, &rx0);
		udp_drain(f.rx);
		ASSERT_EQ(udp_send(f.tx, n->addr_r, f.dport, K, 1), K, "XDP, canceled: sent");
		ASSERT_EQ(udp_recv(f.rx, 0, QUIET_MS), 0, "XDP, canceled: datagrams R received");
		netdev_counts(n->r, n->if_r, &dummy, &rx1);
		ASSERT_EQ(rx1 - rx0, K, "XDP, canceled: frames R's driver received");
	}
	stats_check(&f, K, K, "XDP, canceled");
	drops1 = ethtool_sum(n->r, n->if_r, RE_XDP_DROPS);
	if (drops0 >= 0 && ASSERT_TRUE(drops1 >= 0, "the driver's XDP drop counters"))
		ASSERT_EQ(drops1 - drops0, K, "XDP drops the driver counted (rx_*_xdp_drops)");
	else
		printf("    (%s has no XDP drop counters)\n", n->driver);
	if (ring_read(ring, &log))
		records_check(&log, K, &f, TXC_HOOK_XDP, n->ifindex_r, udp_frame_len(4),
			      "XDP, canceled");
	if (ASSERT_OK(txdp_clear(dp, TXC_SCOPE_ID, f.id), "clear"))
		phase(n, &f, K, K, "XDP, cleared");
detach:
	if (attached && !ns_enter(n->r)) {
		ASSERT_OK(txdp_detach_xdp(dp, n->if_r), "detaching XDP");
		ns_leave();
	}
out:
	if (ring >= 0)
		close(ring);
	flow_close(&f);
}

/* --- 4. mq_tc_cancel ------------------------------------------------------ */

/*
 * One sender socket per CPU, each sending while pinned to its CPU: XPS maps
 * CPUs to TX queues, so the frames take more than one queue.  Checked on the
 * counters of each TX queue's qdisc: before the cancel the flows used at
 * least two queues; canceled, no queue sent anything, and the driver (its
 * netdev counters) sent nothing either.
 */
static void test_mq_tc_cancel(void)
{
	enum { NCPU = 2 };
	struct flow f[NCPU];
	struct nic_pair *n = pair_get(PAIR_MQ);
	static struct ring_log log;
	long long q0[8], q1[8], q2[8];
	int ring = -1, i, c, used = 0, nq;
	cpu_set_t orig;

	for (i = 0; i < NCPU; i++)
		f[i] = (struct flow){ .sport = 7631 + 2 * i, .dport = 7632 + 2 * i,
				      .id = TXC_ID_MAKE(0x65, 1), .source = 4, .tx = -1, .rx = -1 };
	if (!n)
		return;
	nq = n->tx_queues < 8 ? n->tx_queues : 8;
	if (nq < 2 || sysconf(_SC_NPROCESSORS_ONLN) < NCPU) {
		test_skip("%d TX queues and %ld CPUs: the test needs 2 of each", nq,
			  sysconf(_SC_NPROCESSORS_ONLN));
		return;
	}
	if (!dp_get())
		return;
	for (i = 0; i < NCPU; i++)
		if (!flow_open(n, &f[i]))
			goto out;
	ring = txdp_ring_open(dp, 4);
	if (!ASSERT_GE0(ring, "ring of the source") || attach_tc(n))
		goto out;
	sched_getaffinity(0, sizeof(orig), &orig);

	for (int phase_no = 0; phase_no < 2; phase_no++) {
		long long *before = phase_no ? q1 : q0, *after = phase_no ? q2 : q1;
		__u64 tx0 = 0, tx1 = 0, dummy;
		int want = phase_no ? 0 : K;

		if (!ASSERT_EQ(txq_packets(n->s, n->if_s, before, 8), nq, "TX queue qdiscs") ||
		    !ASSERT_OK(netdev_counts(n->s, n->if_s, &tx0, &dummy), "S's NIC counters"))
			goto detach;
		for (i = 0; i < NCPU; i++) {
			cpu_set_t one;

			CPU_ZERO(&one);
			CPU_SET(i, &one);
			sched_setaffinity(0, sizeof(one), &one);
			udp_drain(f[i].rx);
			ASSERT_EQ(udp_send(f[i].tx, n->addr_r, f[i].dport, K, 1), K, "sent");
		}
		sched_setaffinity(0, sizeof(orig), &orig);
		for (i = 0; i < NCPU; i++)
			ASSERT_EQ(udp_recv(f[i].rx, want, QUIET_MS), want,
				  phase_no ? "canceled: datagrams R received" :
				  "before the cancel: datagrams R received");
		if (!ASSERT_EQ(txq_packets(n->s, n->if_s, after, 8), nq, "TX queue qdiscs") ||
		    !ASSERT_OK(netdev_counts(n->s, n->if_s, &tx1, &dummy), "S's NIC counters"))
			goto detach;
		ASSERT_EQ(tx1 - tx0, NCPU * want, phase_no ? "canceled: frames S's driver sent" :
			  "before the cancel: frames S's driver sent");
		if (!phase_no && !ASSERT_OK(txdp_cancel(dp, TXC_SCOPE_ID, f[0].id, 0, 0),
					    "cancel"))
			goto detach;
	}
	for (c = 0; c < nq; c++) {
		printf("    TX queue %d: %lld frames before the cancel, %lld canceled\n", c,
		       q1[c] - q0[c], q2[c] - q1[c]);
		used += q1[c] - q0[c] > 0;
		ASSERT_EQ(q2[c] - q1[c], 0, "frames a TX queue sent while canceled");
	}
	ASSERT_TRUE(used >= 2, "the flows took at least two TX queues before the cancel");
	stats_check(&f[0], NCPU * K, NCPU * K, "multi-queue, canceled");
	if (ring_read(ring, &log))
		ASSERT_EQ(log.n, NCPU * K, "abort records, one per canceled frame");
detach:
	detach_tc(n);
out:
	if (ring >= 0)
		close(ring);
	for (i = 0; i < NCPU; i++)
		flow_close(&f[i]);
}

static const struct test_case cases[] = {
	{ "tc_cancel", test_tc_cancel },
	{ "tc_gso", test_tc_gso },
	{ "xdp_native", test_xdp_native },
	{ "mq_tc_cancel", test_mq_tc_cancel },
};

int main(int argc, char **argv)
{
	int ret;

	fx_start("test_nic", "namespaces, NICs, BPF");
	nics_find();
	kernel_tcx = txdp_kernel_has_tcx();
	ret = test_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
	if (dp) {
		txdp_detach_all(dp);
		txdp_unpin(dp);
		txdp_close(dp);
	}
	return ret;
}
