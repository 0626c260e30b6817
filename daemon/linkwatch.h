/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Follow the network interfaces of one network namespace through rtnetlink
 * link events (RTNLGRP_LINK), so that the daemon notices when an interface
 * it manages goes away, comes back, is renamed or changes state.
 *
 * The watcher keeps two netlink sockets, both opened in the caller's
 * network namespace by txc_linkwatch_open():
 *   - a non-blocking socket subscribed to RTNLGRP_LINK, whose fd goes into
 *     the caller's epoll loop (txc_linkwatch_fd());
 *   - a socket that is never subscribed and only carries RTM_GETLINK dumps,
 *     so that a dump's replies never interleave with events.  It is opened
 *     once rather than per dump: a socket opened later would belong to
 *     whatever namespace the calling thread is in by then.
 *
 * What the callback sees:
 *   - TXC_LINK_NEW: the link appeared or changed (RTM_NEWLINK); a rename is
 *     a NEW with the same ifindex and the new name.  Also every link a dump
 *     lists.  NEW may repeat for an unchanged link.
 *   - TXC_LINK_DEL: the link is gone from this namespace (RTM_DELLINK): it
 *     was deleted or moved to another namespace.  After a dump, every link
 *     reported earlier that the dump no longer lists is reported as DEL,
 *     so events lost to an overflow never hide a deletion.  DEL may repeat
 *     for a link already reported gone.
 * Only AF_UNSPEC link messages count: a bridge reports its ports with
 * AF_BRIDGE messages on the same group, and its RTM_DELLINK means "left
 * the bridge", not "deleted".
 *
 * The callback runs inside txc_linkwatch_process()/txc_linkwatch_dump() and
 * must not call them, or txc_linkwatch_close(), on the same watcher.
 * Every function returns 0 or a negative errno and logs what failed through
 * txdp_log().
 */
#ifndef TXC_LINKWATCH_H
#define TXC_LINKWATCH_H

#include <net/if.h>
#include <linux/types.h>

enum {
	TXC_LINK_NEW = 1,	/* RTM_NEWLINK, or listed by a dump */
	TXC_LINK_DEL = 2,	/* RTM_DELLINK, or missing from a dump */
};

struct txc_link_event {
	int type;		/* TXC_LINK_NEW or TXC_LINK_DEL */
	__u32 ifindex;
	char name[IFNAMSIZ];	/* current name (IFLA_IFNAME); last known one for DEL */
	__u32 flags;		/* ifi_flags (IFF_UP, IFF_RUNNING, ...) */
};

typedef void (*txc_link_fn)(void *ctx, const struct txc_link_event *ev);

struct txc_linkwatch;

/* Receive buffer of the event socket: room for a burst of some thousand events. */
#define TXC_LINKWATCH_RCVBUF	(1 << 20)

/* Subscribe to RTNLGRP_LINK in the caller's network namespace. */
int txc_linkwatch_open(struct txc_linkwatch **lw, txc_link_fn fn, void *ctx);
/* Close both sockets and free the watcher.  NULL-safe. */
void txc_linkwatch_close(struct txc_linkwatch *lw);
/* The event socket: non-blocking, close-on-exec, readable when events wait. */
int txc_linkwatch_fd(const struct txc_linkwatch *lw);
/*
 * Read every pending event and call fn for each; never waits for events.
 * When the kernel dropped events because the socket's buffer was full
 * (ENOBUFS), or one was too large for the read buffer, it logs a warning
 * and recovers with txc_linkwatch_dump(); it returns -ENOBUFS only if that
 * dump failed too, and then retries the dump on its next call.
 */
int txc_linkwatch_process(struct txc_linkwatch *lw);
/*
 * Dump every existing link now and call fn(TXC_LINK_NEW) for each, then
 * fn(TXC_LINK_DEL) for each link reported earlier that no longer exists.
 * Events still queued from before the dump are discarded first: the dump
 * supersedes them.  Used at start-up and for recovery.
 */
int txc_linkwatch_dump(struct txc_linkwatch *lw);

#endif
