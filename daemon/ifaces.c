// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The interfaces txcanceld manages.  They are configured by name; the
 * daemon follows them through rtnetlink link events: an interface that
 * disappears is detached (its pins and slot released), one that appears
 * under a configured name is attached, and a rename is followed by ifindex.
 *
 * At start the daemon adopts what an earlier instance left attached to its
 * configured interfaces (so a restart never leaves a gap in the datapath)
 * and detaches txcancel from interfaces that are no longer configured.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "work.h"
#include "linkwatch.h"
#include "qdisc.h"

#define TC_FLAGS	(TXC_IFACE_F_TC_TCX | TXC_IFACE_F_TC_CLSACT)

/* "tc", "xdp", "qdisc" joined by '+', each once; qdisc only with tc. */
static int parse_hooks(const char *spec, const char *h, __u32 *hooks)
{
	static const struct {
		const char *word;
		__u32 hook;
	} words[] = {
		{ "tc", TXCD_HOOK_TC }, { "xdp", TXCD_HOOK_XDP }, { "qdisc", TXCD_HOOK_QDISC },
	};
	size_t len;
	__u32 i;

	*hooks = 0;
	for (; *h; h += len + (h[len] == '+')) {
		len = strcspn(h, "+");
		for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
			if (strlen(words[i].word) == len && !strncmp(words[i].word, h, len))
				break;
		if (!len || i == sizeof(words) / sizeof(words[0]) || (*hooks & words[i].hook) ||
		    (!h[len + 1] && h[len] == '+'))
			goto bad;
		*hooks |= words[i].hook;
	}
	if (!*hooks)
		goto bad;
	if ((*hooks & TXCD_HOOK_QDISC) && !(*hooks & TXCD_HOOK_TC)) {
		txdp_log(TXDP_LOG_ERROR, "interface '%s': qdisc needs tc (tc+qdisc): the TC program "
			"tags the frames the qdisc queues\n", spec);
		return -EINVAL;
	}
	return 0;
bad:
	txdp_log(TXDP_LOG_ERROR, "interface '%s': hooks must be tc, xdp, tc+xdp, tc+qdisc or "
		"tc+qdisc+xdp\n", spec);
	return -EINVAL;
}

int txcd_iface_add_cfg(struct txcd *d, const char *spec)
{
	const char *colon = strchr(spec, ':');
	size_t name_len = colon ? (size_t)(colon - spec) : strlen(spec);
	struct txcd_iface *ifc;
	__u32 hooks = TXCD_HOOK_TC;
	char name[IFNAMSIZ];
	const char *problem;

	if (name_len >= IFNAMSIZ) {
		txdp_log(TXDP_LOG_ERROR, "interface '%s': the name must be 1..%d characters\n", spec,
			IFNAMSIZ - 1);
		return -EINVAL;
	}
	memcpy(name, spec, name_len);
	name[name_len] = '\0';
	/* The kernel would never create it: refuse rather than wait for it. */
	problem = txc_ifname_problem(name);
	if (problem) {
		txdp_log(TXDP_LOG_ERROR, "interface '%s': '%s' is not a valid interface name: %s\n",
			spec, name, problem);
		return -EINVAL;
	}
	if (colon) {
		int err = parse_hooks(spec, colon + 1, &hooks);

		if (err)
			return err;
	}
	for (__u32 i = 0; i < d->n_ifaces; i++) {
		if (strlen(d->ifaces[i].cfg_name) == name_len &&
		    !strncmp(d->ifaces[i].cfg_name, spec, name_len)) {
			txdp_log(TXDP_LOG_ERROR, "interface %.*s is configured twice\n",
				(int)name_len, spec);
			return -EEXIST;
		}
	}
	if (d->n_ifaces == TXCD_MAX_IFACES_CFG) {
		txdp_log(TXDP_LOG_ERROR, "more than %u interfaces configured\n", TXCD_MAX_IFACES_CFG);
		return -E2BIG;
	}
	ifc = &d->ifaces[d->n_ifaces++];
	memset(ifc, 0, sizeof(*ifc));
	memcpy(ifc->name, spec, name_len);
	memcpy(ifc->cfg_name, spec, name_len);
	ifc->hooks = hooks;
	ifc->lock_fd = -1;
	return 0;
}

/*
 * One daemon per interface, whatever mounts each sees (two of them on
 * different bpffs mounts would each attach a program, and the older one
 * would let the newer one's cancels pass).  The lock is an abstract Unix
 * socket named after the interface's index: abstract names belong to the
 * network namespace, as the index does, and the kernel releases the name
 * when its holder dies, however it dies.
 */
static int iface_lock(struct txcd_iface *ifc)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	socklen_t len;
	int fd;

	if (ifc->lock_fd >= 0)
		return 0;
	len = offsetof(struct sockaddr_un, sun_path) + 1 +
	      snprintf(sun.sun_path + 1, sizeof(sun.sun_path) - 1, "txcanceld/ifindex/%u",
		       ifc->ifindex);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sun, len)) {
		int err = -errno;

		close(fd);
		if (err == -EADDRINUSE)
			txdp_log(TXDP_LOG_ERROR, "%s (ifindex %u): another txcanceld manages this "
				"interface (it holds @%s); stop it first\n", ifc->name,
				ifc->ifindex, sun.sun_path + 1);
		else
			txdp_log(TXDP_LOG_ERROR, "%s (ifindex %u): taking its lock: %s\n", ifc->name,
				ifc->ifindex, strerror(-err));
		return err;
	}
	ifc->lock_fd = fd;
	return 0;
}

static void iface_unlock(struct txcd_iface *ifc)
{
	if (ifc->lock_fd >= 0)
		close(ifc->lock_fd);
	ifc->lock_fd = -1;
}

/*
 * The managed interface called @name now.  A renamed interface may carry
 * the configured name of another one that is absent: the present one wins.
 */
struct txcd_iface *txcd_iface_by_name(struct txcd *d, const char *name)
{
	struct txcd_iface *absent = NULL;

	for (__u32 i = 0; i < d->n_ifaces; i++) {
		if (strcmp(d->ifaces[i].name, name))
			continue;
		if (d->ifaces[i].ifindex)
			return &d->ifaces[i];
		absent = absent ? absent : &d->ifaces[i];
	}
	return absent;
}

/* The absent interface configured as @name, which a new link of that name is. */
static struct txcd_iface *iface_awaited(struct txcd *d, const char *name)
{
	for (__u32 i = 0; i < d->n_ifaces; i++)
		if (!d->ifaces[i].ifindex && !strcmp(d->ifaces[i].cfg_name, name))
			return &d->ifaces[i];
	return NULL;
}

static struct txcd_iface *iface_by_index(struct txcd *d, __u32 ifindex)
{
	for (__u32 i = 0; i < d->n_ifaces; i++)
		if (d->ifaces[i].ifindex == ifindex)
			return &d->ifaces[i];
	return NULL;
}

/*
 * txcancel's qdisc on @ifc if it wants one (installed, or adopted when an
 * earlier instance left it), and taken off if it no longer does.
 */
static int iface_qdisc(struct txcd *d, struct txcd_iface *ifc)
{
	struct txc_qdisc_params p = {
		.limit = d->opts.qdisc_limit, .rate_bytes = d->opts.qdisc_rate,
	};
	struct txc_iface state = {};

	txdp_iface_get(d->dp, ifc->ifindex, &state);
	if (!(ifc->hooks & TXCD_HOOK_QDISC)) {
		if (state.flags & TXC_IFACE_F_QDISC)
			txdp_qdisc_detach_ifindex(d->dp, ifc->ifindex);
		return 0;
	}
	if (!(state.flags & (TXC_IFACE_F_TC_TCX | TXC_IFACE_F_TC_CLSACT)))
		return -ENOENT;	/* the TC attach failed and said so */
	return txdp_qdisc_attach_ifindex(d->dp, ifc->ifindex, &p);
}

/* Attach the hooks @ifc wants that are not attached yet (adopting those that are). */
static void iface_up(struct txcd *d, struct txcd_iface *ifc)
{
	struct txc_iface state = {};
	bool ok = true;

	if (iface_lock(ifc)) {
		ifc->attached = false;
		return;
	}
	/*
	 * By index, not by name: the event may be old, and the name may belong
	 * to another interface by now (it was renamed away and the name taken).
	 */
	txdp_iface_get(d->dp, ifc->ifindex, &state);
	if ((ifc->hooks & TXCD_HOOK_TC) && !(state.flags & TC_FLAGS))
		ok &= !txdp_attach_tc_ifindex(d->dp, ifc->ifindex, d->opts.tc_mode);
	if ((ifc->hooks & TXCD_HOOK_XDP) && !(state.flags & TXC_IFACE_F_XDP))
		ok &= !txdp_attach_xdp_ifindex(d->dp, ifc->ifindex, d->opts.xdp_flags);
	ok &= !iface_qdisc(d, ifc);
	ifc->attached = ok;
	txdp_iface_get(d->dp, ifc->ifindex, &state);
	txdp_log(ok ? TXDP_LOG_INFO : TXDP_LOG_ERROR, "%s (ifindex %u): %s%s%s%s%s\n", ifc->name,
		ifc->ifindex, ok ? "attached" : "attaching failed; will retry when it changes",
		state.flags & TXC_IFACE_F_TC_TCX ? ", tc egress via tcx" : "",
		state.flags & TXC_IFACE_F_TC_CLSACT ? ", tc egress via clsact" : "",
		state.flags & TXC_IFACE_F_QDISC ? ", txcancel's qdisc (cancels reach queued "
		"frames)" : "", state.flags & TXC_IFACE_F_XDP ? ", xdp" : "");
}

static void iface_gone(struct txcd *d, struct txcd_iface *ifc)
{
	txdp_log(TXDP_LOG_INFO, "%s (ifindex %u): gone, detached; will attach again when it "
		"comes back\n", ifc->name, ifc->ifindex);
	txdp_detach_ifindex(d->dp, ifc->ifindex);
	iface_unlock(ifc);
	ifc->ifindex = 0;
	ifc->attached = false;
	/*
	 * A rename was followed while it existed; what comes back is awaited
	 * under the configured name, or an interface renamed and then deleted
	 * would never be managed again.
	 */
	if (strcmp(ifc->name, ifc->cfg_name))
		txdp_log(TXDP_LOG_INFO, "%s: awaited again as %s\n", ifc->name, ifc->cfg_name);
	memcpy(ifc->name, ifc->cfg_name, sizeof(ifc->name));
}

static void on_link(void *ctx, const struct txc_link_event *ev)
{
	struct txcd *d = ctx;
	struct txcd_iface *ifc = iface_by_index(d, ev->ifindex);

	if (ev->type == TXC_LINK_DEL) {
		if (ifc)
			iface_gone(d, ifc);
		return;
	}
	if (ifc) {
		if (strcmp(ifc->name, ev->name)) {
			txdp_log(TXDP_LOG_INFO, "%s (ifindex %u): renamed to %s, following it\n",
				ifc->name, ev->ifindex, ev->name);
			snprintf(ifc->name, sizeof(ifc->name), "%s", ev->name);
		}
		if (!ifc->attached)
			iface_up(d, ifc);
		return;
	}
	ifc = iface_awaited(d, ev->name);
	if (ifc) {
		ifc->ifindex = ev->ifindex;
		iface_up(d, ifc);
	}
}

struct stale_ifaces {
	struct txcd *d;
	__u32 ifindex[TXC_MAX_IFACES];
	__u32 n;
};

/* Collected during the walk, detached after it: the walk must not change the map. */
static int stale_chunk(void *ctx, const void *keys, const void *vals, __u32 n)
{
	struct stale_ifaces *st = ctx;
	const __u32 *ifindex = keys;

	(void)vals;
	for (__u32 i = 0; i < n && st->n < TXC_MAX_IFACES; i++)
		if (!iface_by_index(st->d, ifindex[i]))
			st->ifindex[st->n++] = ifindex[i];
	return 0;
}

/* Detach txcancel from interfaces an earlier instance attached and we do not manage. */
static void detach_unmanaged(struct txcd *d)
{
	struct stale_ifaces st = { .d = d };
	int err = txdp_map_walk(txdp_map_fd(d->dp, TXDP_MAP_IFACES), sizeof(__u32),
			       sizeof(struct txc_iface), stale_chunk, &st);

	if (err)
		txdp_log(TXDP_LOG_WARN, "looking for interfaces an earlier instance attached: %s\n",
			strerror(-err));
	for (__u32 i = 0; i < st.n; i++) {
		txdp_log(TXDP_LOG_INFO, "ifindex %u: attached by an earlier instance but not "
			"configured now, detaching\n", st.ifindex[i]);
		txdp_detach_ifindex(d->dp, st.ifindex[i]);
	}
}

/* Load txcancel's qdisc if an interface wants it (the options were checked against the kernel). */
static int qdisc_start(struct txcd *d)
{
	for (__u32 i = 0; i < d->n_ifaces; i++)
		if (d->ifaces[i].hooks & TXCD_HOOK_QDISC)
			return txdp_qdisc_open(d->dp);
	return 0;
}

int txcd_ifaces_start(struct txcd *d)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = TXCD_EV(TXCD_FD_LINKS, 0) };
	int err;

	err = qdisc_start(d);
	if (err)
		return err;

	for (__u32 i = 0; i < d->n_ifaces; i++) {
		d->ifaces[i].ifindex = if_nametoindex(d->ifaces[i].name);
		if (!d->ifaces[i].ifindex)
			txdp_log(TXDP_LOG_WARN, "%s: no such interface now; it will be attached "
				"when it appears\n", d->ifaces[i].name);
		/* Another daemon's interface: refuse to start rather than run beside it. */
		else if ((err = iface_lock(&d->ifaces[i])))
			return err;
	}
	detach_unmanaged(d);
	err = txc_linkwatch_open(&d->lw, on_link, d);
	if (err) {
		txdp_log(TXDP_LOG_ERROR, "following interfaces (rtnetlink): %s\n", strerror(-err));
		return err;
	}
	if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, txc_linkwatch_fd(d->lw), &ev))
		return -errno;
	for (__u32 i = 0; i < d->n_ifaces; i++)
		if (d->ifaces[i].ifindex)
			iface_up(d, &d->ifaces[i]);
	/* Events between if_nametoindex() and the subscription are caught up here. */
	return txc_linkwatch_dump(d->lw);
}

void txcd_links_event(struct txcd *d)
{
	int err = txc_linkwatch_process(d->lw);

	if (err && err != -EAGAIN)
		txdp_log(TXDP_LOG_WARN, "reading link events: %s\n", strerror(-err));
}

void txcd_ifaces_stop(struct txcd *d)
{
	txc_linkwatch_close(d->lw);
	d->lw = NULL;
	if (d->opts.keep_on_exit)
		return;
	for (__u32 i = 0; i < d->n_ifaces; i++) {
		struct txcd_iface *ifc = &d->ifaces[i];

		if (!ifc->ifindex)
			continue;
		if (!txdp_detach_ifindex(d->dp, ifc->ifindex))
			txdp_log(TXDP_LOG_INFO, "%s: detached\n", ifc->name);
		iface_unlock(ifc);
		ifc->ifindex = 0;
		ifc->attached = false;
	}
}
