// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Attach txcancel's programs to interfaces and detach them again.
 *
 * TC egress: a tcx link where the kernel has tcx (Linux 6.6+), otherwise a
 * cls_bpf filter on a clsact qdisc.  A clsact qdisc txcancel did not create
 * is never deleted, and one it did create is deleted only when no other
 * filter is left on it.  Links are pinned, so they outlive the process.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <linux/if_link.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "dp.h"
#include "dp_internal.h"
#include "qdisc.h"

/* Not in the UAPI headers of older distributions. */
#ifndef BPF_TCX_EGRESS
#define BPF_TCX_EGRESS		47
#endif
#ifndef BPF_F_BEFORE
#define BPF_F_BEFORE		(1U << 3)
#endif

/* cls_bpf handle and priority of txcancel's filter in clsact mode. */
#define TXDP_TC_HANDLE		0x7c
#define TXDP_TC_PRIORITY		0x7c

static void link_pin_path(const struct txdp *dp, const char *kind, __u32 ifindex,
			  char *buf, size_t len)
{
	snprintf(buf, len, "%s/links/%s-%u", dp->pin_dir, kind, ifindex);
}

static int ifindex_of(const char *ifname, __u32 *ifindex)
{
	*ifindex = if_nametoindex(ifname);
	if (!*ifindex) {
		txdp_log(TXDP_LOG_ERROR, "interface '%s': %s\n", ifname, strerror(errno));
		return -ENODEV;
	}
	return 0;
}

int txdp_tcx_link_create(int prog_fd, int ifindex, enum txdp_tc_place place)
{
	LIBBPF_OPTS(bpf_link_create_opts, opts,
		.flags = place == TXDP_TC_PLACE_FIRST ? BPF_F_BEFORE : 0);
	int fd;

	/* No relative program: BPF_F_BEFORE puts it first, no flag appends it. */
	fd = bpf_link_create(prog_fd, ifindex, BPF_TCX_EGRESS, &opts);
	return fd < 0 ? -errno : fd;
}

int txdp_kernel_has_tcx(void)
{
	struct bpf_insn insns[] = {
		{ .code = 0xb7, .dst_reg = 0, .imm = -1 },	/* r0 = TCX_NEXT */
		{ .code = 0x95 },				/* exit */
	};
	int prog, link;

	prog = bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "txc_probe", "GPL", insns, 2, NULL);
	if (prog < 0)
		return 0;
	link = txdp_tcx_link_create(prog, 1 /* lo */, TXDP_TC_PLACE_LAST);
	close(prog);
	if (link < 0)
		return 0;
	close(link);
	return 1;
}

static int pin_link(struct txdp *dp, int link_fd, const char *kind, __u32 ifindex)
{
	char path[PATH_MAX];

	link_pin_path(dp, kind, ifindex, path, sizeof(path));
	if (bpf_obj_pin(link_fd, path)) {
		int err = -errno;

		txdp_log(TXDP_LOG_ERROR, "pinning the %s link at %s: %s\n", kind, path,
			strerror(errno));
		return err;
	}
	return 0;
}

/* Detach and unpin a pinned link; a link whose interface is gone just unpins. */
static int unpin_link(struct txdp *dp, const char *kind, __u32 ifindex)
{
	char path[PATH_MAX];
	int fd, err = 0;

	link_pin_path(dp, kind, ifindex, path, sizeof(path));
	fd = bpf_obj_get(path);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (bpf_link_detach(fd) && errno != ENOLINK && errno != EINVAL)
		err = -errno;
	close(fd);
	if (unlink(path) && !err)
		err = -errno;
	return err;
}

static int attach_tcx(struct txdp *dp, __u32 ifindex, struct txc_iface *iface)
{
	int fd, err;

	fd = txdp_tcx_link_create(txdp_prog_fd(dp, TXDP_PROG_TC_EGRESS), ifindex,
				 TXDP_TC_PLACE_LAST);
	if (fd < 0)
		return fd;
	err = pin_link(dp, fd, "tc", ifindex);
	if (!err)
		iface->flags |= TXC_IFACE_F_TC_TCX;
	close(fd);	/* the pin holds the link; on error this detaches it */
	return err;
}

/*
 * What holds txcancel's handle and priority on the egress side already: a
 * filter of an earlier txcancel (its program is called txc_tc_egress) that
 * nobody detached, as after a --keep exit whose pins were removed since.
 * Such a program reads maps nobody writes any more and lets every frame
 * canceled now pass: it is replaced.  Returns the old program's id if it
 * is txcancel's, 0 if it is something else, or -errno.
 */
static int clsact_stale_filter(const struct bpf_tc_hook *hook)
{
	LIBBPF_OPTS(bpf_tc_opts, q, .handle = TXDP_TC_HANDLE, .priority = TXDP_TC_PRIORITY);
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	int fd, err;

	err = bpf_tc_query(hook, &q);
	if (err)
		return err;
	fd = bpf_prog_get_fd_by_id(q.prog_id);
	if (fd < 0)
		return -errno;
	err = bpf_obj_get_info_by_fd(fd, &info, &len);
	close(fd);
	if (err)
		return -errno;
	return strcmp(info.name, "txc_tc_egress") ? 0 : (int)q.prog_id;
}

static int attach_clsact(struct txdp *dp, __u32 ifindex, struct txc_iface *iface)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = TXDP_TC_HANDLE, .priority = TXDP_TC_PRIORITY,
		    .prog_fd = txdp_prog_fd(dp, TXDP_PROG_TC_EGRESS));
	int created, err;

	/* EEXIST: a clsact qdisc is there already (someone else's filters). */
	txdp_libbpf_quiet(true);
	err = bpf_tc_hook_create(&hook);
	txdp_libbpf_quiet(false);
	if (err && err != -EEXIST) {
		txdp_log(TXDP_LOG_ERROR, "creating a clsact qdisc on ifindex %u: %s\n", ifindex,
			strerror(-err));
		return err;
	}
	created = !err;
	err = bpf_tc_attach(&hook, &opts);
	if (err == -EEXIST) {
		int old = clsact_stale_filter(&hook);

		if (old > 0) {
			txdp_log(TXDP_LOG_WARN, "ifindex %u: replacing the egress filter an earlier "
				"txcancel left (program id %d): it would let canceled frames pass\n",
				ifindex, old);
			opts.flags = BPF_TC_F_REPLACE;
			err = bpf_tc_attach(&hook, &opts);
		}
	}
	if (err) {
		txdp_log(TXDP_LOG_ERROR, "adding the egress filter on ifindex %u: %s%s\n", ifindex,
			strerror(-err), err == -EEXIST ?
			" (another program's filter has txcancel's handle and priority)" : "");
		if (created) {
			hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
			bpf_tc_hook_destroy(&hook);
		}
		return err;
	}
	iface->flags |= TXC_IFACE_F_TC_CLSACT | (created ? TXC_IFACE_F_CLSACT_CREATED : 0);
	return 0;
}

/* How messages name an interface known by index: its name now, or the index. */
static const char *ifindex_label(__u32 ifindex, char buf[IF_NAMESIZE + 16])
{
	if (!if_indextoname(ifindex, buf))
		snprintf(buf, IF_NAMESIZE + 16, "ifindex %u", ifindex);
	return buf;
}

int txdp_attach_tc(struct txdp *dp, const char *ifname, enum txdp_tc_mode mode)
{
	__u32 ifindex;
	int err = ifindex_of(ifname, &ifindex);

	return err ? err : txdp_attach_tc_ifindex(dp, ifindex, mode);
}

int txdp_attach_tc_ifindex(struct txdp *dp, __u32 ifindex, enum txdp_tc_mode mode)
{
	char label[IF_NAMESIZE + 16];
	const char *ifname = ifindex_label(ifindex, label);
	struct txc_iface iface;
	int err;

	err = txdp_iface_get_or_new(dp, ifindex, &iface);
	if (err)
		return err;
	if (iface.flags & (TXC_IFACE_F_TC_TCX | TXC_IFACE_F_TC_CLSACT)) {
		txdp_log(TXDP_LOG_ERROR, "%s: txcancel's TC program is already attached\n", ifname);
		return -EEXIST;
	}
	if (mode != TXDP_TC_CLSACT) {
		err = attach_tcx(dp, ifindex, &iface);
		if (err == -EINVAL && mode == TXDP_TC_AUTO)
			txdp_log(TXDP_LOG_INFO, "%s: no tcx in this kernel, using clsact\n", ifname);
		else if (err)
			txdp_log(TXDP_LOG_ERROR, "%s: attaching the tcx egress link: %s\n", ifname,
				strerror(-err));
	}
	if (mode == TXDP_TC_CLSACT || (mode == TXDP_TC_AUTO && err == -EINVAL))
		err = attach_clsact(dp, ifindex, &iface);
	if (err)
		return err;
	return txdp_iface_update(dp, ifindex, &iface);
}

static int mnl_count_cb(const struct nlmsghdr *nlh, void *data)
{
	(void)nlh;
	(*(int *)data)++;
	return MNL_CB_OK;
}

/* How many tc filters hang off one side (ingress/egress) of the clsact qdisc. */
static int clsact_filter_count(__u32 ifindex, __u32 parent_minor)
{
	char buf[32768];	/* libmnl 1.0.4 has no MNL_SOCKET_DUMP_SIZE */
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	struct tcmsg *tcm;
	unsigned int seq, portid;
	int count = 0, ret;

	nl = mnl_socket_open(NETLINK_ROUTE);
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETTFILTER;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq = 1;
	tcm = mnl_nlmsg_put_extra_header(nlh, sizeof(*tcm));
	tcm->tcm_family = AF_UNSPEC;
	tcm->tcm_ifindex = ifindex;
	tcm->tcm_parent = TC_H_MAKE(TC_H_CLSACT, parent_minor);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		ret = -errno;
		goto out;
	}
	while ((ret = mnl_socket_recvfrom(nl, buf, sizeof(buf))) > 0) {
		ret = mnl_cb_run(buf, ret, seq, portid, mnl_count_cb, &count);
		if (ret <= 0)
			break;
	}
	ret = ret < 0 ? -errno : count;
out:
	mnl_socket_close(nl);
	return ret;
}

static int detach_clsact(__u32 ifindex, struct txc_iface *iface)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = TXDP_TC_HANDLE, .priority = TXDP_TC_PRIORITY);
	int err, others;

	err = bpf_tc_detach(&hook, &opts);
	if (err && err != -ENOENT && err != -ENODEV && err != -EINVAL)
		return err;
	if (iface->flags & TXC_IFACE_F_CLSACT_CREATED) {
		others = clsact_filter_count(ifindex, TC_H_MIN_INGRESS);
		if (others >= 0)
			others += clsact_filter_count(ifindex, TC_H_MIN_EGRESS);
		if (others == 0) {
			hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
			err = bpf_tc_hook_destroy(&hook);
			if (err && err != -ENOENT && err != -ENODEV && err != -EINVAL)
				return err;
		} else {
			txdp_log(TXDP_LOG_INFO, "ifindex %u: leaving the clsact qdisc txcancel "
				"created, other filters use it\n", ifindex);
		}
	}
	iface->flags &= ~(TXC_IFACE_F_TC_CLSACT | TXC_IFACE_F_CLSACT_CREATED);
	return 0;
}

static int detach_tc_ifindex(struct txdp *dp, __u32 ifindex)
{
	struct txc_iface iface;
	int err;

	err = txdp_iface_get(dp, ifindex, &iface);
	if (err || !(iface.flags & (TXC_IFACE_F_TC_TCX | TXC_IFACE_F_TC_CLSACT)))
		return -ENOENT;
	if (iface.flags & TXC_IFACE_F_TC_TCX) {
		err = unpin_link(dp, "tc", ifindex);
		if (err)
			return err;
		iface.flags &= ~TXC_IFACE_F_TC_TCX;
	}
	if (iface.flags & TXC_IFACE_F_TC_CLSACT) {
		err = detach_clsact(ifindex, &iface);
		if (err)
			return err;
	}
	return txdp_iface_update(dp, ifindex, &iface);
}

static int detach_xdp_ifindex(struct txdp *dp, __u32 ifindex)
{
	struct txc_iface iface;
	int err;

	err = txdp_iface_get(dp, ifindex, &iface);
	if (err || !(iface.flags & TXC_IFACE_F_XDP))
		return -ENOENT;
	if (iface.flags & TXC_IFACE_F_XDP_MULTIPROG) {
		err = txdp_xdp_multi_detach(ifindex);
		/* Gone already: taken out of the dispatcher by someone else. */
		if (err == -ENOENT)
			err = 0;
	} else {
		err = unpin_link(dp, "xdp", ifindex);
	}
	if (err)
		return err;
	iface.flags &= ~(TXC_IFACE_F_XDP | TXC_IFACE_F_XDP_MULTIPROG | TXC_IFACE_XDP_WHY_MASK);
	return txdp_iface_update(dp, ifindex, &iface);
}

/* Detach by name, saying which program (@what: "TC", "XDP") was not there. */
static int detach_by_name(struct txdp *dp, const char *ifname, const char *what,
			  int (*detach_ifindex)(struct txdp *dp, __u32 ifindex))
{
	__u32 ifindex;
	int err = ifindex_of(ifname, &ifindex);

	if (!err)
		err = detach_ifindex(dp, ifindex);
	if (err == -ENOENT)
		txdp_log(TXDP_LOG_ERROR, "%s: txcancel's %s program is not attached\n", ifname,
			what);
	else if (err)
		txdp_log(TXDP_LOG_ERROR, "%s: detaching the %s program: %s\n", ifname, what,
			strerror(-err));
	return err;
}

int txdp_detach_tc(struct txdp *dp, const char *ifname)
{
	return detach_by_name(dp, ifname, "TC", detach_tc_ifindex);
}

int txdp_attach_xdp(struct txdp *dp, const char *ifname, __u32 xdp_flags)
{
	__u32 ifindex;
	int err = ifindex_of(ifname, &ifindex);

	return err ? err : txdp_attach_xdp_ifindex(dp, ifindex, xdp_flags);
}

int txdp_attach_xdp_ifindex(struct txdp *dp, __u32 ifindex, __u32 xdp_flags)
{
	LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = xdp_flags);
	char label[IF_NAMESIZE + 16];
	const char *ifname = ifindex_label(ifindex, label);
	struct txc_iface iface;
	__u8 why;
	int fd, err;

	err = txdp_iface_get_or_new(dp, ifindex, &iface);
	if (err)
		return err;
	if (iface.flags & TXC_IFACE_F_XDP) {
		txdp_log(TXDP_LOG_ERROR, "%s: txcancel's XDP program is already attached\n", ifname);
		return -EEXIST;
	}
	iface.flags &= ~TXC_IFACE_XDP_WHY_MASK;
	err = txdp_xdp_multi_attach(dp, ifindex, xdp_flags, &why);
	if (!err) {
		iface.flags |= TXC_IFACE_F_XDP | TXC_IFACE_F_XDP_MULTIPROG;
		return txdp_iface_update(dp, ifindex, &iface);
	}
	txdp_log(TXDP_LOG_INFO, "%s: XDP on a link of its own, not in libxdp's dispatcher: %s\n",
		ifname, why == TXC_XDP_LINK_NO_DISPATCHER ?
		"the kernel cannot run the dispatcher (no freplace)" :
		why == TXC_XDP_LINK_NO_SYS_ADMIN ? "libxdp needs CAP_SYS_ADMIN" : strerror(-err));
	iface.flags |= (__u32)why << TXC_IFACE_XDP_WHY_SHIFT;
	fd = bpf_link_create(txdp_prog_fd(dp, TXDP_PROG_XDP), ifindex, BPF_XDP, &opts);
	if (fd < 0) {
		err = -errno;
		txdp_log(TXDP_LOG_ERROR, "%s: attaching the XDP program: %s%s\n", ifname,
			strerror(errno), errno == EBUSY ?
			" (another XDP program is attached; XDP has one program per interface)" : "");
		return err;
	}
	err = pin_link(dp, fd, "xdp", ifindex);
	close(fd);
	if (err)
		return err;
	iface.flags |= TXC_IFACE_F_XDP;
	return txdp_iface_update(dp, ifindex, &iface);
}

int txdp_detach_xdp(struct txdp *dp, const char *ifname)
{
	return detach_by_name(dp, ifname, "XDP", detach_xdp_ifindex);
}

int txdp_detach_ifindex(struct txdp *dp, __u32 ifindex)
{
	int err, ret = 0;

	/* The qdisc first: the TC program that tags its frames goes next. */
	err = txdp_qdisc_detach_ifindex(dp, ifindex);
	if (err && err != -ENOENT)
		ret = err;
	err = detach_tc_ifindex(dp, ifindex);
	if (err && err != -ENOENT)
		ret = err;
	err = detach_xdp_ifindex(dp, ifindex);
	if (err && err != -ENOENT && !ret)
		ret = err;
	if (ret)
		txdp_log(TXDP_LOG_WARN, "ifindex %u: detaching txcancel: %s\n", ifindex,
			strerror(-ret));
	return ret;
}

int txdp_detach_all(struct txdp *dp)
{
	int fd = txdp_map_fd(dp, TXDP_MAP_IFACES);
	__u32 ifindex;
	int err, ret = 0;

	/*
	 * A per-key loop on purpose: each pass detaches and removes the first
	 * interface, and a walk must not run under the deletes it causes.
	 */
	while (!bpf_map_get_next_key(fd, NULL, &ifindex)) {
		err = txdp_detach_ifindex(dp, ifindex);
		if (err && !ret)
			ret = err;
		/* Whatever could not be detached, do not loop on it forever. */
		txdp_iface_stats_delete(dp, ifindex);
		if (bpf_map_delete_elem(fd, &ifindex) && errno != ENOENT && !ret)
			ret = -errno;
	}
	return ret;
}
