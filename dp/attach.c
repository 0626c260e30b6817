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
#include <stdlib.h>
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
#define TXC_TC_HANDLE		0x7c
#define TXC_TC_PRIORITY		0x7c

static void link_pin_path(const struct txc_dp *dp, const char *kind, __u32 ifindex,
			  char *buf, size_t len)
{
	snprintf(buf, len, "%s/links/%s-%u", dp->pin_dir, kind, ifindex);
}

static int ifindex_of(const char *ifname, __u32 *ifindex)
{
	*ifindex = if_nametoindex(ifname);
	if (!*ifindex) {
		txc_log(TXC_LOG_ERROR, "interface '%s': %s\n", ifname, strerror(errno));
		return -ENODEV;
	}
	return 0;
}

int txc_iface_get(struct txc_dp *dp, __u32 ifindex, struct txc_iface *iface)
{
	if (bpf_map_lookup_elem(txc_dp_map_fd(dp, TXC_MAP_IFACES), &ifindex, iface))
		return -errno;
	return 0;
}

/*
 * The interface's counters start at zero when txcancel first attaches to it
 * (BPF_NOEXIST: a second hook on it keeps them) and go with it.
 */
static int iface_stats_create(struct txc_dp *dp, __u32 ifindex)
{
	int ncpus = libbpf_num_possible_cpus();
	struct txc_iface_stats *zero;
	int err = 0;

	if (ncpus < 0)
		return ncpus;
	zero = calloc(ncpus, sizeof(*zero));
	if (!zero)
		return -ENOMEM;
	if (bpf_map_update_elem(txc_dp_map_fd(dp, TXC_MAP_IFACE_STATS), &ifindex, zero,
				BPF_NOEXIST) && errno != EEXIST)
		err = -errno;
	free(zero);
	return err;
}

static void iface_stats_delete(struct txc_dp *dp, __u32 ifindex)
{
	bpf_map_delete_elem(txc_dp_map_fd(dp, TXC_MAP_IFACE_STATS), &ifindex);
}

static int iface_put(struct txc_dp *dp, __u32 ifindex, const struct txc_iface *iface)
{
	int err = iface_stats_create(dp, ifindex);

	if (err)
		return err;
	if (bpf_map_update_elem(txc_dp_map_fd(dp, TXC_MAP_IFACES), &ifindex, iface, BPF_ANY))
		return -errno;
	return 0;
}

static int slots_used(void *ctx, const void *keys, const void *vals, __u32 n)
{
	const struct txc_iface *ifaces = vals;
	__u64 *used = ctx;

	(void)keys;
	for (__u32 i = 0; i < n; i++)
		if (ifaces[i].slot < TXC_MAX_IFACES)
			*used |= 1ULL << ifaces[i].slot;
	return 0;
}

/* The interface's state, with a free slot if txcancel had none for it. */
static int iface_get_or_new(struct txc_dp *dp, __u32 ifindex, struct txc_iface *iface)
{
	__u64 used = 0;
	int err;

	if (!txc_iface_get(dp, ifindex, iface))
		return 0;
	err = txc_map_walk(txc_dp_map_fd(dp, TXC_MAP_IFACES), sizeof(__u32), sizeof(*iface),
			   slots_used, &used);
	if (err)
		return err;
	if (used == ~0ULL) {
		txc_log(TXC_LOG_ERROR, "txcancel is attached to %u interfaces already, the "
			"most it can tell apart\n", TXC_MAX_IFACES);
		return -ENOSPC;
	}
	iface->slot = __builtin_ctzll(~used);
	iface->flags = 0;
	return 0;
}

/*
 * A per-interface cancel names the interface by slot.  Before a slot is
 * given to another interface, take it out of every cancel, so that a cancel
 * never spreads to an interface nobody named.
 */
static void cancel_strip_slot(struct txc_cancel *c, __u32 slot)
{
	if (!(c->flags & TXC_CANCEL_F_ACTIVE) || (c->flags & TXC_CANCEL_F_ALL_IFACES))
		return;
	c->iface_slots &= ~(1ULL << slot);
	if (!c->iface_slots)
		memset(c, 0, sizeof(*c));
}

/* What a detach changes in the ID cancels: elements to rewrite, keys to delete. */
struct id_changes {
	__u32 *upd_keys;
	struct txc_cancel *upd_vals;
	__u32 *del_keys;
	__u32 n_upd, n_del, cap;
};

static int id_changes_add(struct id_changes *ch, __u32 key, const struct txc_cancel *c)
{
	if (ch->n_upd == ch->cap || ch->n_del == ch->cap) {
		__u32 cap = ch->cap ? ch->cap * 2 : 256;
		void *k = realloc(ch->upd_keys, cap * sizeof(*ch->upd_keys));

		if (k)
			ch->upd_keys = k;
		k = k ? realloc(ch->upd_vals, cap * sizeof(*ch->upd_vals)) : NULL;
		if (k)
			ch->upd_vals = k;
		k = k ? realloc(ch->del_keys, cap * sizeof(*ch->del_keys)) : NULL;
		if (!k)
			return -ENOMEM;
		ch->del_keys = k;
		ch->cap = cap;
	}
	if (c->flags) {
		ch->upd_keys[ch->n_upd] = key;
		ch->upd_vals[ch->n_upd++] = *c;
	} else {
		ch->del_keys[ch->n_del++] = key;
	}
	return 0;
}

struct strip {
	__u32 slot;
	struct id_changes ch;
};

static int strip_chunk(void *ctx, const void *keys, const void *vals, __u32 n)
{
	struct strip *st = ctx;
	const struct txc_cancel *cancels = vals;
	const __u32 *ids = keys;
	int err = 0;

	for (__u32 i = 0; i < n && !err; i++) {
		struct txc_cancel c = cancels[i];

		cancel_strip_slot(&c, st->slot);
		if (memcmp(&c, &cancels[i], sizeof(c)))
			err = id_changes_add(&st->ch, ids[i], &c);
	}
	return err;
}

/*
 * The ID cancels that name @slot: collected by a walk that only reads, then
 * rewritten and deleted in batches.  Rewriting an element during a hash walk
 * moves it to the head of its bucket and the walk visits it again, forever
 * when two cancels share a bucket.
 */
static int strip_slot_from_id_cancels(int fd, __u32 slot)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	struct strip st = { .slot = slot };
	struct id_changes *ch = &st.ch;
	__u32 count, deleted;
	int err;

	err = txc_map_walk(fd, sizeof(__u32), sizeof(struct txc_cancel), strip_chunk, &st);
	count = ch->n_upd;
	if (!err && count && bpf_map_update_batch(fd, ch->upd_keys, ch->upd_vals, &count, &opts) < 0)
		err = -errno;
	if (!err && ch->n_del)
		err = txc_map_delete_keys(fd, ch->del_keys, sizeof(__u32), ch->n_del, &deleted);
	free(ch->upd_keys);
	free(ch->upd_vals);
	free(ch->del_keys);
	return err;
}

static int strip_slot_from_cancels(struct txc_dp *dp, __u32 slot)
{
	static const enum txc_map arrays[] = { TXC_MAP_PREFIX_CANCELS, TXC_MAP_SOURCE_CANCELS };
	static const __u32 sizes[] = { TXC_NR_PREFIXES, TXC_MAX_SOURCES };
	struct txc_cancel c, old;
	__u32 key;
	size_t a;

	for (a = 0; a < 2; a++) {
		int afd = txc_dp_map_fd(dp, arrays[a]);

		for (key = 0; key < sizes[a]; key++) {
			if (bpf_map_lookup_elem(afd, &key, &c) || !(c.flags & TXC_CANCEL_F_ACTIVE))
				continue;
			old = c;
			cancel_strip_slot(&c, slot);
			if (memcmp(&c, &old, sizeof(c)) && bpf_map_update_elem(afd, &key, &c, BPF_ANY))
				return -errno;
		}
	}
	return strip_slot_from_id_cancels(txc_dp_map_fd(dp, TXC_MAP_ID_CANCELS), slot);
}

/* Store the new state; forget the interface when nothing is attached. */
static int iface_update(struct txc_dp *dp, __u32 ifindex, struct txc_iface *iface)
{
	int err;

	if (iface->flags & (TXC_IFACE_F_TC_TCX | TXC_IFACE_F_TC_CLSACT | TXC_IFACE_F_XDP))
		return iface_put(dp, ifindex, iface);
	err = strip_slot_from_cancels(dp, iface->slot);
	iface_stats_delete(dp, ifindex);
	if (bpf_map_delete_elem(txc_dp_map_fd(dp, TXC_MAP_IFACES), &ifindex) && errno != ENOENT)
		return -errno;
	return err;
}

int txc_tcx_link_create(int prog_fd, int ifindex, enum txc_tc_place place)
{
	LIBBPF_OPTS(bpf_link_create_opts, opts,
		.flags = place == TXC_TC_PLACE_FIRST ? BPF_F_BEFORE : 0);
	int fd;

	/* No relative program: BPF_F_BEFORE puts it first, no flag appends it. */
	fd = bpf_link_create(prog_fd, ifindex, BPF_TCX_EGRESS, &opts);
	return fd < 0 ? -errno : fd;
}

int txc_kernel_has_tcx(void)
{
	struct bpf_insn insns[] = {
		{ .code = 0xb7, .dst_reg = 0, .imm = -1 },	/* r0 = TCX_NEXT */
		{ .code = 0x95 },				/* exit */
	};
	int prog, link;

	prog = bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "txc_probe", "GPL", insns, 2, NULL);
	if (prog < 0)
		return 0;
	link = txc_tcx_link_create(prog, 1 /* lo */, TXC_TC_PLACE_LAST);
	close(prog);
	if (link < 0)
		return 0;
	close(link);
	return 1;
}

static int pin_link(struct txc_dp *dp, int link_fd, const char *kind, __u32 ifindex)
{
	char path[PATH_MAX];

	link_pin_path(dp, kind, ifindex, path, sizeof(path));
	if (bpf_obj_pin(link_fd, path)) {
		int err = -errno;

		txc_log(TXC_LOG_ERROR, "pinning the %s link at %s: %s\n", kind, path,
			strerror(errno));
		return err;
	}
	return 0;
}

/* Detach and unpin a pinned link; a link whose interface is gone just unpins. */
static int unpin_link(struct txc_dp *dp, const char *kind, __u32 ifindex)
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

static int attach_tcx(struct txc_dp *dp, __u32 ifindex, struct txc_iface *iface)
{
	int fd, err;

	fd = txc_tcx_link_create(txc_dp_prog_fd(dp, TXC_PROG_TC_EGRESS), ifindex,
				 TXC_TC_PLACE_LAST);
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
	LIBBPF_OPTS(bpf_tc_opts, q, .handle = TXC_TC_HANDLE, .priority = TXC_TC_PRIORITY);
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

static int attach_clsact(struct txc_dp *dp, __u32 ifindex, struct txc_iface *iface)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = TXC_TC_HANDLE, .priority = TXC_TC_PRIORITY,
		    .prog_fd = txc_dp_prog_fd(dp, TXC_PROG_TC_EGRESS));
	int created, err;

	/* EEXIST: a clsact qdisc is there already (someone else's filters). */
	txc_libbpf_quiet(true);
	err = bpf_tc_hook_create(&hook);
	txc_libbpf_quiet(false);
	if (err && err != -EEXIST) {
		txc_log(TXC_LOG_ERROR, "creating a clsact qdisc on ifindex %u: %s\n", ifindex,
			strerror(-err));
		return err;
	}
	created = !err;
	err = bpf_tc_attach(&hook, &opts);
	if (err == -EEXIST) {
		int old = clsact_stale_filter(&hook);

		if (old > 0) {
			txc_log(TXC_LOG_WARN, "ifindex %u: replacing the egress filter an earlier "
				"txcancel left (program id %d): it would let canceled frames pass\n",
				ifindex, old);
			opts.flags = BPF_TC_F_REPLACE;
			err = bpf_tc_attach(&hook, &opts);
		}
	}
	if (err) {
		txc_log(TXC_LOG_ERROR, "adding the egress filter on ifindex %u: %s%s\n", ifindex,
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

int txc_attach_tc(struct txc_dp *dp, const char *ifname, enum txc_tc_mode mode)
{
	__u32 ifindex;
	int err = ifindex_of(ifname, &ifindex);

	return err ? err : txc_attach_tc_ifindex(dp, ifindex, mode);
}

int txc_attach_tc_ifindex(struct txc_dp *dp, __u32 ifindex, enum txc_tc_mode mode)
{
	char label[IF_NAMESIZE + 16];
	const char *ifname = ifindex_label(ifindex, label);
	struct txc_iface iface;
	int err;

	err = iface_get_or_new(dp, ifindex, &iface);
	if (err)
		return err;
	if (iface.flags & (TXC_IFACE_F_TC_TCX | TXC_IFACE_F_TC_CLSACT)) {
		txc_log(TXC_LOG_ERROR, "%s: txcancel's TC program is already attached\n", ifname);
		return -EEXIST;
	}
	if (mode != TXC_TC_CLSACT) {
		err = attach_tcx(dp, ifindex, &iface);
		if (err == -EINVAL && mode == TXC_TC_AUTO)
			txc_log(TXC_LOG_INFO, "%s: no tcx in this kernel, using clsact\n", ifname);
		else if (err)
			txc_log(TXC_LOG_ERROR, "%s: attaching the tcx egress link: %s\n", ifname,
				strerror(-err));
	}
	if (mode == TXC_TC_CLSACT || (mode == TXC_TC_AUTO && err == -EINVAL))
		err = attach_clsact(dp, ifindex, &iface);
	if (err)
		return err;
	return iface_update(dp, ifindex, &iface);
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
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = TXC_TC_HANDLE, .priority = TXC_TC_PRIORITY);
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
			txc_log(TXC_LOG_INFO, "ifindex %u: leaving the clsact qdisc txcancel "
				"created, other filters use it\n", ifindex);
		}
	}
	iface->flags &= ~(TXC_IFACE_F_TC_CLSACT | TXC_IFACE_F_CLSACT_CREATED);
	return 0;
}

static int detach_tc_ifindex(struct txc_dp *dp, __u32 ifindex)
{
	struct txc_iface iface;
	int err;

	err = txc_iface_get(dp, ifindex, &iface);
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
	return iface_update(dp, ifindex, &iface);
}

static int detach_xdp_ifindex(struct txc_dp *dp, __u32 ifindex)
{
	struct txc_iface iface;
	int err;

	err = txc_iface_get(dp, ifindex, &iface);
	if (err || !(iface.flags & TXC_IFACE_F_XDP))
		return -ENOENT;
	if (iface.flags & TXC_IFACE_F_XDP_MULTIPROG) {
		err = txc_xdp_multi_detach(ifindex);
		/* Gone already: taken out of the dispatcher by someone else. */
		if (err == -ENOENT)
			err = 0;
	} else {
		err = unpin_link(dp, "xdp", ifindex);
	}
	if (err)
		return err;
	iface.flags &= ~(TXC_IFACE_F_XDP | TXC_IFACE_F_XDP_MULTIPROG | TXC_IFACE_XDP_WHY_MASK);
	return iface_update(dp, ifindex, &iface);
}

int txc_detach_tc(struct txc_dp *dp, const char *ifname)
{
	__u32 ifindex;
	int err = ifindex_of(ifname, &ifindex);

	if (!err)
		err = detach_tc_ifindex(dp, ifindex);
	if (err == -ENOENT)
		txc_log(TXC_LOG_ERROR, "%s: txcancel's TC program is not attached\n", ifname);
	else if (err)
		txc_log(TXC_LOG_ERROR, "%s: detaching the TC program: %s\n", ifname,
			strerror(-err));
	return err;
}

int txc_attach_xdp(struct txc_dp *dp, const char *ifname, __u32 xdp_flags)
{
	__u32 ifindex;
	int err = ifindex_of(ifname, &ifindex);

	return err ? err : txc_attach_xdp_ifindex(dp, ifindex, xdp_flags);
}

int txc_attach_xdp_ifindex(struct txc_dp *dp, __u32 ifindex, __u32 xdp_flags)
{
	LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = xdp_flags);
	char label[IF_NAMESIZE + 16];
	const char *ifname = ifindex_label(ifindex, label);
	struct txc_iface iface;
	__u8 why;
	int fd, err;

	err = iface_get_or_new(dp, ifindex, &iface);
	if (err)
		return err;
	if (iface.flags & TXC_IFACE_F_XDP) {
		txc_log(TXC_LOG_ERROR, "%s: txcancel's XDP program is already attached\n", ifname);
		return -EEXIST;
	}
	iface.flags &= ~TXC_IFACE_XDP_WHY_MASK;
	err = txc_xdp_multi_attach(dp, ifindex, xdp_flags, &why);
	if (!err) {
		iface.flags |= TXC_IFACE_F_XDP | TXC_IFACE_F_XDP_MULTIPROG;
		return iface_update(dp, ifindex, &iface);
	}
	txc_log(TXC_LOG_INFO, "%s: XDP on a link of its own, not in libxdp's dispatcher: %s\n",
		ifname, why == TXC_XDP_LINK_NO_DISPATCHER ?
		"the kernel cannot run the dispatcher (no freplace)" :
		why == TXC_XDP_LINK_NO_SYS_ADMIN ? "libxdp needs CAP_SYS_ADMIN" : strerror(-err));
	iface.flags |= (__u32)why << TXC_IFACE_XDP_WHY_SHIFT;
	fd = bpf_link_create(txc_dp_prog_fd(dp, TXC_PROG_XDP), ifindex, BPF_XDP, &opts);
	if (fd < 0) {
		err = -errno;
		txc_log(TXC_LOG_ERROR, "%s: attaching the XDP program: %s%s\n", ifname,
			strerror(errno), errno == EBUSY ?
			" (another XDP program is attached; XDP has one program per interface)" : "");
		return err;
	}
	err = pin_link(dp, fd, "xdp", ifindex);
	close(fd);
	if (err)
		return err;
	iface.flags |= TXC_IFACE_F_XDP;
	return iface_update(dp, ifindex, &iface);
}

int txc_detach_xdp(struct txc_dp *dp, const char *ifname)
{
	__u32 ifindex;
	int err = ifindex_of(ifname, &ifindex);

	if (!err)
		err = detach_xdp_ifindex(dp, ifindex);
	if (err == -ENOENT)
		txc_log(TXC_LOG_ERROR, "%s: txcancel's XDP program is not attached\n", ifname);
	else if (err)
		txc_log(TXC_LOG_ERROR, "%s: detaching the XDP program: %s\n", ifname,
			strerror(-err));
	return err;
}

int txc_detach_ifindex(struct txc_dp *dp, __u32 ifindex)
{
	int err, ret = 0;

	/* The qdisc first: the TC program that tags its frames goes next. */
	err = txc_qdisc_detach_ifindex(dp, ifindex);
	if (err && err != -ENOENT)
		ret = err;
	err = detach_tc_ifindex(dp, ifindex);
	if (err && err != -ENOENT)
		ret = err;
	err = detach_xdp_ifindex(dp, ifindex);
	if (err && err != -ENOENT && !ret)
		ret = err;
	if (ret)
		txc_log(TXC_LOG_WARN, "ifindex %u: detaching txcancel: %s\n", ifindex,
			strerror(-ret));
	return ret;
}

int txc_detach_all(struct txc_dp *dp)
{
	int fd = txc_dp_map_fd(dp, TXC_MAP_IFACES);
	__u32 ifindex;
	int err, ret = 0;

	/*
	 * A per-key loop on purpose: each pass detaches and removes the first
	 * interface, and a walk must not run under the deletes it causes.
	 */
	while (!bpf_map_get_next_key(fd, NULL, &ifindex)) {
		err = txc_detach_ifindex(dp, ifindex);
		if (err && !ret)
			ret = err;
		/* Whatever could not be detached, do not loop on it forever. */
		iface_stats_delete(dp, ifindex);
		if (bpf_map_delete_elem(fd, &ifindex) && errno != ENOENT && !ret)
			ret = -errno;
	}
	return ret;
}
