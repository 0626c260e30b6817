/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Fixtures for the real-interface tests: private network namespaces joined
 * by veth pairs, UDP senders and receivers inside them, a throwaway cgroup
 * v2 child and a reader that drains a source's abort ring.
 *
 * Everything a helper creates is registered and removed again by
 * fx_cleanup(), which also runs from atexit() and from SIGINT/SIGTERM/SIGHUP,
 * so a failed or interrupted run leaves no namespace, cgroup or pin behind.
 *
 * Traffic rules: addresses only from 198.18.0.0/15 and 2001:db8::/32, only
 * on veth pairs between namespaces the test created.
 *
 * Functions return 0 (or a count or fd) on success and a negative errno on
 * failure, after printing what failed on stderr.
 */
#ifndef TXC_TEST_NETNS_H
#define TXC_TEST_NETNS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "txcancel/abi.h"

#define FX_NAME_MAX	64

/* Record the original netns and install the cleanup guard.  Call first. */
int fx_init(void);
/*
 * Start a test program that needs root: fx_init() where it runs as root;
 * elsewhere a SKIP line naming @needs and exit status 0.  Exits with
 * status 1 when fx_init() fails.
 */
void fx_start(const char *test, const char *needs);
/* Remove every namespace, cgroup and pin directory still registered. */
void fx_cleanup(void);

/* --- commands ------------------------------------------------------------- */

/* Run a shell command; its output is shown only when it fails. */
int fx_run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Run a shell command and keep its output (NUL-terminated, truncated). */
int fx_run_output(char *out, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* --- namespaces ----------------------------------------------------------- */

/* Create namespace "txc<pid>-<tag>" with lo up; @name receives it. */
int ns_create(char name[FX_NAME_MAX], const char *tag);
/* The same with the tag formatted from @fmt. */
int ns_createf(char name[FX_NAME_MAX], const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void ns_delete(const char *name);
/* Move this thread into @name; sockets and ifindexes are then @name's. */
int ns_enter(const char *name);
/* Back to the netns the process started in. */
int ns_leave(void);

/* veth pair @if_a in @ns_a <-> @if_b in @ns_b, both up. */
int veth_create(const char *ns_a, const char *if_a, const char *ns_b, const char *if_b);
/* Add @cidr ("198.18.0.1/24", "2001:db8::1/64"); IPv6 without DAD. */
int addr_add(const char *ns, const char *ifname, const char *cidr);
/* The same for @addr and its @prefix_len. */
int addr_add_len(const char *ns, const char *ifname, const char *addr, int prefix_len);
int link_info(const char *ns, const char *ifname, __u32 *ifindex, __u8 mac[6]);
/*
 * Permanent neighbor entry: with it no frame waits in the neighbor queue
 * (which drops under a burst) and no ARP/ND has to cross the veth first.
 */
int neigh_add(const char *ns, const char *ifname, const char *addr, const __u8 mac[6]);
/*
 * The usual testbed link: a veth pair @if_a in @ns_a and @if_b in @ns_b, up,
 * with @addr_a/@prefix_len and @addr_b/@prefix_len, and each side's neighbour
 * entry for the other (no ARP or ND to wait for).  *@ifindex_a (may be NULL)
 * is @if_a's index.
 */
int veth_link(const char *ns_a, const char *if_a, const char *addr_a, const char *ns_b,
	      const char *if_b, const char *addr_b, int prefix_len, __u32 *ifindex_a);

/* --- UDP ------------------------------------------------------------------ */

#define FX_PAYLOAD_LEN	32	/* UDP payload of every test datagram */

/* A non-blocking UDP socket in @ns bound to @addr:@port (family from addr). */
int udp_open(const char *ns, const char *addr, __u16 port);
/*
 * Send @count datagrams to @addr:@port.  A frame dropped at the egress hook
 * may report ENOBUFS: it still reached the hook and counts as sent.
 * Returns how many were sent, or a negative errno.
 */
int udp_send(int fd, const char *addr, __u16 port, int count, __u8 marker);
/*
 * Count datagrams on @fd until @want arrived (plus a short look for extras)
 * or nothing came for @quiet_ms; never longer than 3 s.
 */
int udp_recv(int fd, int want, int quiet_ms);
/* Throw away whatever is queued on @fd. */
void udp_drain(int fd);
/* Close a sender and a sink (-1: not open) and set both to -1. */
void udp_pair_close(int *tx, int *rx);
/*
 * One step of a traffic check: drain @rx, send @count datagrams from @tx to
 * @addr:@port and assert that @want of them reach @rx (udp_recv() with
 * @quiet_ms).  @what names the step in the two assertions.
 */
bool udp_burst(int tx, int rx, const char *addr, __u16 port, int count, __u8 marker,
	       int want, int quiet_ms, const char *what);

/* Bytes of a test datagram at L2 (Ethernet + IP + UDP + payload). */
static inline __u32 udp_frame_len(int family)
{
	return 14 + (family == 6 ? 40 : 20) + 8 + FX_PAYLOAD_LEN;
}

/* Parse @addr into 16 bytes (IPv4 in the first 4); returns 4, 6 or -EINVAL. */
int addr_parse(const char *addr, __u8 out[16]);
int flow_key_make(struct txc_flow_key *key, const char *saddr, __u16 sport,
		  const char *daddr, __u16 dport);

/* --- cgroup v2 ------------------------------------------------------------ */

struct fx_cgroup {
	char path[256];		/* the child directory */
	char orig[256];		/* the directory of the cgroup we came from */
	__u64 id;		/* cgroup v2 id: inode number of path */
	bool inside;
};

/* Make the child "txc-test-<pid>-<tag>" under the cgroup2 mount. */
int cg_create(struct fx_cgroup *cg, const char *tag);
int cg_enter(struct fx_cgroup *cg);
int cg_leave(struct fx_cgroup *cg);
void cg_remove(struct fx_cgroup *cg);

/* --- bpffs ---------------------------------------------------------------- */

/* "/sys/fs/bpf/txc-test-<pid>-<tag>", registered for removal. */
void pin_dir_make(char *buf, size_t len, const char *tag);

/* --- abort rings ---------------------------------------------------------- */

#define FX_RING_MAX_RECORDS	4096

struct ring_log {
	struct txc_abort_record recs[FX_RING_MAX_RECORDS];
	int n;
	int bad_size;		/* samples that were not one whole record */
	int overflow;		/* records that did not fit recs[] */
};

/* Consume everything in the ring behind @ring_fd into @log (appending). */
int ring_drain(int ring_fd, struct ring_log *log);

#endif
