// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Namespace, veth, UDP, cgroup and ring fixtures for the real-interface tests. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <bpf/libbpf.h>

#include "netns.h"
#include "testlib.h"

#define FX_MAX_NS	16
#define FX_MAX_CG	4
#define FX_MAX_PINS	16

static int orig_netns = -1;
static char reg_ns[FX_MAX_NS][FX_NAME_MAX];
static struct fx_cgroup *reg_cg[FX_MAX_CG];
static char reg_pin[FX_MAX_PINS][128];

/* --- commands ------------------------------------------------------------- */

static int run_cmd(char *out, size_t len, const char *fmt, va_list ap)
{
	char cmd[1024], buf[4096];
	size_t used = 0, n;
	FILE *p;
	int status;

	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	snprintf(buf, sizeof(buf), "%s 2>&1", cmd);
	p = popen(buf, "r");
	if (!p) {
		fprintf(stderr, "netns: cannot run '%s': %s\n", cmd, strerror(errno));
		return -errno;
	}
	buf[0] = '\0';
	while (used + 1 < sizeof(buf) && (n = fread(buf + used, 1, sizeof(buf) - 1 - used, p)))
		used += n;
	buf[used] = '\0';
	status = pclose(p);
	if (out)
		snprintf(out, len, "%s", buf);
	if (status) {
		fprintf(stderr, "netns: '%s' failed (status %d): %s", cmd,
			WIFEXITED(status) ? WEXITSTATUS(status) : -1, buf);
		return -EIO;
	}
	return 0;
}

int fx_run(const char *fmt, ...)
{
	va_list ap;
	int err;

	va_start(ap, fmt);
	err = run_cmd(NULL, 0, fmt, ap);
	va_end(ap);
	return err;
}

int fx_run_output(char *out, size_t len, const char *fmt, ...)
{
	va_list ap;
	int err;

	va_start(ap, fmt);
	err = run_cmd(out, len, fmt, ap);
	va_end(ap);
	return err;
}

/* --- cleanup guard -------------------------------------------------------- */

static void fx_signal(int sig)
{
	/*
	 * Not async-signal-safe, but the alternative is namespaces and veths
	 * left behind by an interrupted run; the process ends right after.
	 */
	fx_cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

int fx_init(void)
{
	orig_netns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (orig_netns < 0) {
		fprintf(stderr, "netns: opening /proc/self/ns/net: %s\n", strerror(errno));
		return -errno;
	}
	atexit(fx_cleanup);
	signal(SIGINT, fx_signal);
	signal(SIGTERM, fx_signal);
	signal(SIGHUP, fx_signal);
	return 0;
}

void fx_start(const char *test, const char *needs)
{
	if (geteuid() != 0) {
		printf("SKIP %s: needs root (%s)\n", test, needs);
		exit(0);
	}
	if (fx_init())
		exit(1);
}

void fx_cleanup(void)
{
	int i;

	if (orig_netns >= 0)
		setns(orig_netns, CLONE_NEWNET);
	for (i = 0; i < FX_MAX_CG; i++)
		if (reg_cg[i])
			cg_remove(reg_cg[i]);
	for (i = 0; i < FX_MAX_NS; i++)
		if (reg_ns[i][0])
			ns_delete(reg_ns[i]);
	for (i = 0; i < FX_MAX_PINS; i++) {
		if (!reg_pin[i][0])
			continue;
		/* Removing a link pin detaches the link: nothing outlives the run. */
		if (access(reg_pin[i], F_OK) == 0)
			fx_run("rm -rf '%s'", reg_pin[i]);
		reg_pin[i][0] = '\0';
	}
}

/* --- namespaces ----------------------------------------------------------- */

int ns_create(char name[FX_NAME_MAX], const char *tag)
{
	int i, err;

	for (i = 0; i < FX_MAX_NS && reg_ns[i][0]; i++)
		;
	if (i == FX_MAX_NS) {
		fprintf(stderr, "netns: more than %d namespaces at once\n", FX_MAX_NS);
		return -ENOSPC;
	}
	snprintf(name, FX_NAME_MAX, "txc%d-%s", (int)getpid(), tag);
	err = fx_run("ip netns add %s", name);
	if (err)
		return err;
	snprintf(reg_ns[i], FX_NAME_MAX, "%s", name);
	return fx_run("ip -n %s link set lo up", name);
}

int ns_createf(char name[FX_NAME_MAX], const char *fmt, ...)
{
	char tag[FX_NAME_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tag, sizeof(tag), fmt, ap);
	va_end(ap);
	return ns_create(name, tag);
}

void ns_delete(const char *name)
{
	char copy[FX_NAME_MAX];
	int i;

	if (!name || !name[0])
		return;
	snprintf(copy, sizeof(copy), "%s", name);	/* name may be a registry slot */
	for (i = 0; i < FX_MAX_NS; i++)
		if (!strcmp(reg_ns[i], copy))
			reg_ns[i][0] = '\0';
	fx_run("ip netns del %s", copy);
}

/* Switch to @ns and return an fd of the netns we were in (or -1 for NULL). */
static int ns_switch(const char *ns)
{
	char path[128];
	int self, fd;

	if (!ns)
		return -1;
	self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return -errno;
	snprintf(path, sizeof(path), "/run/netns/%s", ns);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNET)) {
		int err = -errno;

		fprintf(stderr, "netns: entering %s: %s\n", ns, strerror(errno));
		if (fd >= 0)
			close(fd);
		close(self);
		return err < 0 ? err : -EINVAL;
	}
	close(fd);
	return self;
}

static void ns_restore(int self)
{
	if (self < 0)
		return;
	if (setns(self, CLONE_NEWNET))
		fprintf(stderr, "netns: returning to the previous netns: %s\n", strerror(errno));
	close(self);
}

int ns_enter(const char *name)
{
	int self = ns_switch(name);

	if (self < 0)
		return self;
	close(self);
	return 0;
}

int ns_leave(void)
{
	if (setns(orig_netns, CLONE_NEWNET)) {
		fprintf(stderr, "netns: returning to the original netns: %s\n", strerror(errno));
		return -errno;
	}
	return 0;
}

int veth_create(const char *ns_a, const char *if_a, const char *ns_b, const char *if_b)
{
	int err;

	err = fx_run("ip -n %s link add %s type veth peer name %s netns %s",
		     ns_a, if_a, if_b, ns_b);
	if (!err)
		err = fx_run("ip -n %s link set %s up", ns_a, if_a);
	if (!err)
		err = fx_run("ip -n %s link set %s up", ns_b, if_b);
	return err;
}

int addr_add(const char *ns, const char *ifname, const char *cidr)
{
	if (strchr(cidr, ':'))
		return fx_run("ip -n %s -6 addr add %s dev %s nodad", ns, cidr, ifname);
	return fx_run("ip -n %s addr add %s dev %s", ns, cidr, ifname);
}

int addr_add_len(const char *ns, const char *ifname, const char *addr, int prefix_len)
{
	char cidr[INET6_ADDRSTRLEN + 4];

	snprintf(cidr, sizeof(cidr), "%s/%d", addr, prefix_len);
	return addr_add(ns, ifname, cidr);
}

/* One interface ioctl on a datagram socket of @ns. */
static int ns_ioctl(const char *ns, unsigned long request, struct ifreq *ifr)
{
	int self, fd, err = 0;

	self = ns_switch(ns);
	if (ns && self < 0)
		return self;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || ioctl(fd, request, ifr))
		err = -errno;
	if (fd >= 0)
		close(fd);
	ns_restore(self);
	return err;
}

int link_info(const char *ns, const char *ifname, __u32 *ifindex, __u8 mac[6])
{
	struct ifreq ifr = {};
	int err;

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	err = ns_ioctl(ns, SIOCGIFINDEX, &ifr);
	if (err) {
		fprintf(stderr, "netns: %s in %s: %s\n", ifname, ns ? ns : "-", strerror(-err));
		return err;
	}
	if (ifindex)
		*ifindex = ifr.ifr_ifindex;
	if (mac) {
		err = ns_ioctl(ns, SIOCGIFHWADDR, &ifr);
		if (err)
			return err;
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	}
	return 0;
}

int neigh_add(const char *ns, const char *ifname, const char *addr, const __u8 mac[6])
{
	return fx_run("ip -n %s neigh replace %s lladdr %02x:%02x:%02x:%02x:%02x:%02x dev %s "
		      "nud permanent", ns, addr, mac[0], mac[1], mac[2], mac[3], mac[4], mac[5],
		      ifname);
}

/* --- UDP ------------------------------------------------------------------ */

int veth_link(const char *ns_a, const char *if_a, const char *addr_a, const char *ns_b,
	      const char *if_b, const char *addr_b, int prefix_len, __u32 *ifindex_a)
{
	__u8 mac_a[6], mac_b[6];
	int err;

	if ((err = veth_create(ns_a, if_a, ns_b, if_b)) ||
	    (err = addr_add_len(ns_a, if_a, addr_a, prefix_len)) ||
	    (err = addr_add_len(ns_b, if_b, addr_b, prefix_len)) ||
	    (err = link_info(ns_a, if_a, ifindex_a, mac_a)) ||
	    (err = link_info(ns_b, if_b, NULL, mac_b)) ||
	    (err = neigh_add(ns_a, if_a, addr_b, mac_b)))
		return err;
	return neigh_add(ns_b, if_b, addr_a, mac_a);
}

int addr_parse(const char *addr, __u8 out[16])
{
	memset(out, 0, 16);
	if (inet_pton(AF_INET, addr, out) == 1)
		return 4;
	if (inet_pton(AF_INET6, addr, out) == 1)
		return 6;
	fprintf(stderr, "netns: bad address '%s'\n", addr);
	return -EINVAL;
}

static int sockaddr_make(const char *addr, __u16 port, struct sockaddr_storage *ss,
			 socklen_t *len)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	__u8 raw[16];
	int family = addr_parse(addr, raw);

	memset(ss, 0, sizeof(*ss));
	if (family == 4) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, raw, 4);
		*len = sizeof(*sin);
	} else if (family == 6) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		memcpy(&sin6->sin6_addr, raw, 16);
		*len = sizeof(*sin6);
	} else {
		return -EINVAL;
	}
	return 0;
}

int udp_open(const char *ns, const char *addr, __u16 port)
{
	/* Room for every datagram of a round: the test counts, it must not lose. */
	int rcvbuf = 4 << 20;
	struct sockaddr_storage ss;
	socklen_t len;
	int self, fd, err;

	err = sockaddr_make(addr, port, &ss, &len);
	if (err)
		return err;
	self = ns_switch(ns);
	if (ns && self < 0)
		return self;
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) ||
	    bind(fd, (struct sockaddr *)&ss, len)) {
		err = -errno;
		fprintf(stderr, "netns: UDP socket on [%s]:%u in %s: %s\n", addr, port,
			ns ? ns : "-", strerror(errno));
		close(fd);
		goto out;
	}
	err = fd;
out:
	ns_restore(self);
	return err;
}

int udp_send(int fd, const char *addr, __u16 port, int count, __u8 marker)
{
	__u8 payload[FX_PAYLOAD_LEN] = { 'T', 'X', 'C', marker };
	struct sockaddr_storage ss;
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	socklen_t len;
	int i, err;

	err = sockaddr_make(addr, port, &ss, &len);
	if (err)
		return err;
	for (i = 0; i < count; i++) {
		memcpy(payload + 4, &i, sizeof(i));
		if (sendto(fd, payload, sizeof(payload), 0, (struct sockaddr *)&ss, len) >= 0 ||
		    errno == ENOBUFS)
			continue;
		if (errno != EAGAIN) {
			err = -errno;
			fprintf(stderr, "netns: sending to [%s]:%u: %s\n", addr, port,
				strerror(errno));
			return err;
		}
		/* Send buffer full: wait (bounded) until the veth drained it. */
		if (poll(&pfd, 1, 1000) <= 0) {
			fprintf(stderr, "netns: send buffer to [%s]:%u stayed full\n", addr, port);
			return -ETIMEDOUT;
		}
		i--;
	}
	return count;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

int udp_recv(int fd, int want, int quiet_ms)
{
	long long deadline = now_ms() + 3000;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char buf[256];
	int got = 0, timeout;

	for (;;) {
		while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
			got++;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -errno;
		/* Once all are in, look only briefly for datagrams that should not come. */
		timeout = got >= want ? 20 : quiet_ms;
		if (deadline - now_ms() < timeout)
			timeout = deadline - now_ms();
		if (timeout <= 0 || poll(&pfd, 1, timeout) <= 0)
			return got;
	}
}

void udp_pair_close(int *tx, int *rx)
{
	if (*tx >= 0)
		close(*tx);
	if (*rx >= 0)
		close(*rx);
	*tx = *rx = -1;
}

void udp_drain(int fd)
{
	char buf[256];

	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
		;
}

bool udp_burst(int tx, int rx, const char *addr, __u16 port, int count, __u8 marker,
	       int want, int quiet_ms, const char *what)
{
	char msg[192];

	udp_drain(rx);
	snprintf(msg, sizeof(msg), "%s: datagrams sent", what);
	if (!ASSERT_EQ(udp_send(tx, addr, port, count, marker), count, msg))
		return false;
	snprintf(msg, sizeof(msg), "%s: datagrams at the sink", what);
	return ASSERT_EQ(udp_recv(rx, want, quiet_ms), want, msg);
}

int flow_key_make(struct txc_flow_key *key, const char *saddr, __u16 sport,
		  const char *daddr, __u16 dport)
{
	int fs, fd;

	memset(key, 0, sizeof(*key));
	fs = addr_parse(saddr, key->saddr);
	fd = addr_parse(daddr, key->daddr);
	if (fs < 0 || fs != fd)
		return -EINVAL;
	key->family = fs == 4 ? TXC_FAMILY_IPV4 : TXC_FAMILY_IPV6;
	key->proto = IPPROTO_UDP;
	key->sport = htons(sport);
	key->dport = htons(dport);
	return 0;
}

/* --- cgroup v2 ------------------------------------------------------------ */

/* The hybrid layout puts cgroup2 somewhere under /sys/fs/cgroup: ask the kernel. */
static int cgroup2_mount(char *buf, size_t len)
{
	char dev[256], dir[256], type[64];
	FILE *f = fopen("/proc/mounts", "r");
	int err = -ENOENT;

	if (!f)
		return -errno;
	while (fscanf(f, "%255s %255s %63s %*[^\n]", dev, dir, type) == 3) {
		if (!strcmp(type, "cgroup2")) {
			err = snprintf(buf, len, "%s", dir) < (int)len ? 0 : -ENAMETOOLONG;
			break;
		}
	}
	fclose(f);
	if (err)
		fprintf(stderr, "netns: no cgroup2 mount in /proc/mounts\n");
	return err;
}

/* Our own cgroup v2 path, from the "0::<path>" line. */
static int cgroup2_self(char *buf, size_t len)
{
	char line[512];
	FILE *f = fopen("/proc/self/cgroup", "r");
	int err = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "0::", 3))
			continue;
		line[strcspn(line, "\n")] = '\0';
		err = snprintf(buf, len, "%s", line + 3) < (int)len ? 0 : -ENAMETOOLONG;
		break;
	}
	fclose(f);
	return err;
}

static int write_pid(const char *dir)
{
	char path[300], pid[32];
	int fd, n, err = 0;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, pid, n) != n)
		err = -errno;
	if (fd >= 0)
		close(fd);
	if (err)
		fprintf(stderr, "netns: moving pid %d into %s: %s\n", (int)getpid(), dir,
			strerror(-err));
	return err;
}

int cg_create(struct fx_cgroup *cg, const char *tag)
{
	char mnt[128], self[256];
	struct stat st;
	int i, err;

	memset(cg, 0, sizeof(*cg));
	err = cgroup2_mount(mnt, sizeof(mnt));
	if (!err)
		err = cgroup2_self(self, sizeof(self));
	if (err)
		return err;
	if (snprintf(cg->orig, sizeof(cg->orig), "%s%s", mnt,
		     strcmp(self, "/") ? self : "") >= (int)sizeof(cg->orig) ||
	    snprintf(cg->path, sizeof(cg->path), "%s/txc-test-%d-%s", mnt, (int)getpid(),
		     tag) >= (int)sizeof(cg->path))
		return -ENAMETOOLONG;
	if (mkdir(cg->path, 0755) || stat(cg->path, &st)) {
		err = -errno;
		fprintf(stderr, "netns: creating cgroup %s: %s\n", cg->path, strerror(errno));
		return err;
	}
	cg->id = st.st_ino;
	for (i = 0; i < FX_MAX_CG; i++) {
		if (!reg_cg[i]) {
			reg_cg[i] = cg;
			break;
		}
	}
	return 0;
}

int cg_enter(struct fx_cgroup *cg)
{
	int err = write_pid(cg->path);

	if (!err)
		cg->inside = true;
	return err;
}

int cg_leave(struct fx_cgroup *cg)
{
	int err = write_pid(cg->orig);

	if (!err)
		cg->inside = false;
	return err;
}

void cg_remove(struct fx_cgroup *cg)
{
	int i;

	if (!cg->path[0])
		return;
	if (cg->inside)
		cg_leave(cg);
	if (rmdir(cg->path) && errno != ENOENT)
		fprintf(stderr, "netns: removing cgroup %s: %s\n", cg->path, strerror(errno));
	cg->path[0] = '\0';
	for (i = 0; i < FX_MAX_CG; i++)
		if (reg_cg[i] == cg)
			reg_cg[i] = NULL;
}

/* --- bpffs ---------------------------------------------------------------- */

void pin_dir_make(char *buf, size_t len, const char *tag)
{
	int i;

	snprintf(buf, len, "/sys/fs/bpf/txc-test-%d-%s", (int)getpid(), tag);
	for (i = 0; i < FX_MAX_PINS; i++) {
		if (!strcmp(reg_pin[i], buf))
			return;
	}
	for (i = 0; i < FX_MAX_PINS; i++) {
		if (!reg_pin[i][0]) {
			snprintf(reg_pin[i], sizeof(reg_pin[i]), "%s", buf);
			return;
		}
	}
}

/* --- abort rings ---------------------------------------------------------- */

static int ring_record(void *ctx, void *data, size_t size)
{
	struct ring_log *log = ctx;

	if (size != sizeof(struct txc_abort_record)) {
		log->bad_size++;
		return 0;
	}
	if (log->n == FX_RING_MAX_RECORDS) {
		log->overflow++;
		return 0;
	}
	memcpy(&log->recs[log->n++], data, size);
	return 0;
}

int ring_drain(int ring_fd, struct ring_log *log)
{
	struct ring_buffer *rb;
	int n;

	rb = ring_buffer__new(ring_fd, ring_record, log, NULL);
	if (!rb) {
		int err = -errno;

		fprintf(stderr, "netns: opening ring fd %d: %s\n", ring_fd, strerror(errno));
		return err;
	}
	n = ring_buffer__consume(rb);
	ring_buffer__free(rb);
	return n < 0 ? n : 0;
}
