// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Qdiscs through rtnetlink.  libbpf 1.1's bpf_tc_* API knows only clsact,
 * so txcancel's qdisc is installed with RTM_NEWQDISC and TCA_KIND, and the
 * qdisc it replaces is read (kind, handle, options) to be put back later.
 * Every request asks for extended acks: the kernel's reason for a refusal
 * ("BPF qdisc only supported on root or mq") reaches the log.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>

#include "qdisc_nl.h"

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK		11
#endif

struct nl {
	struct mnl_socket *sock;
	__u32 portid;
	__u32 seq;
	char buf[32768];
};

static int nl_open(struct nl *nl)
{
	int one = 1;

	nl->sock = mnl_socket_open(NETLINK_ROUTE);
	if (!nl->sock)
		return -errno;
	mnl_socket_setsockopt(nl->sock, NETLINK_EXT_ACK, &one, sizeof(one));
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		int err = -errno;

		mnl_socket_close(nl->sock);
		return err;
	}
	nl->portid = mnl_socket_get_portid(nl->sock);
	nl->seq = (__u32)time(NULL);
	return 0;
}

static void nl_close(struct nl *nl)
{
	mnl_socket_close(nl->sock);
}

/* The extended ack's message of an error reply, if there is one. */
static void nl_extack(const struct nlmsghdr *nlh, char *why, size_t len)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	size_t off = sizeof(*e);
	const struct nlattr *attr;

	if (!why || !len || !(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - sizeof(e->msg);
	mnl_attr_for_each_payload((const void *)((const char *)e + off),
				  (size_t)mnl_nlmsg_get_payload_len(nlh) - off) {
		if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG)
			snprintf(why, len, "%s", mnl_attr_get_str(attr));
	}
}

/* Send @nlh, wait for the ack (or run @cb on a dump), keep the kernel's reason. */
static int nl_talk(struct nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data,
		   char *why, size_t why_len)
{
	__u32 seq = nlh->nlmsg_seq = ++nl->seq;
	int ret;

	if (why && why_len)
		why[0] = '\0';
	if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		const struct nlmsghdr *h;
		int len;

		ret = mnl_socket_recvfrom(nl->sock, nl->buf, sizeof(nl->buf));
		if (ret < 0)
			return -errno;
		len = ret;
		/* Look for an error with a message before libmnl turns it into errno. */
		for (h = (void *)nl->buf; mnl_nlmsg_ok(h, len); h = mnl_nlmsg_next(h, &len))
			if (h->nlmsg_type == NLMSG_ERROR && h->nlmsg_seq == seq &&
			    ((const struct nlmsgerr *)mnl_nlmsg_get_payload(h))->error)
				nl_extack(h, why, why_len);
		ret = mnl_cb_run(nl->buf, ret, seq, nl->portid, cb, data);
		if (ret <= 0)
			return ret < 0 ? -errno : 0;
	}
}

static struct nlmsghdr *tc_msg(char *buf, int type, int flags, __u32 ifindex, __u32 parent,
			       __u32 handle)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct tcmsg *tcm;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	tcm = mnl_nlmsg_put_extra_header(nlh, sizeof(*tcm));
	tcm->tcm_family = AF_UNSPEC;
	tcm->tcm_ifindex = ifindex;
	tcm->tcm_parent = parent;
	tcm->tcm_handle = handle;
	return nlh;
}

struct qdisc_walk {
	__u32 ifindex;
	__u32 parent;		/* the one wanted (get) */
	const char *kind;	/* the kind counted (count) */
	struct txdp_qdisc_desc *out;
	int found;
};

static int qdisc_cb(const struct nlmsghdr *nlh, void *data)
{
	struct qdisc_walk *w = data;
	const struct tcmsg *tcm = mnl_nlmsg_get_payload(nlh);
	const char *kind = NULL;
	const struct nlattr *a, *opt = NULL;

	if (nlh->nlmsg_type != RTM_NEWQDISC || (__u32)tcm->tcm_ifindex != w->ifindex)
		return MNL_CB_OK;
	mnl_attr_for_each(a, nlh, sizeof(*tcm)) {
		if (mnl_attr_get_type(a) == TCA_KIND)
			kind = mnl_attr_get_str(a);
		else if (mnl_attr_get_type(a) == TCA_OPTIONS)
			opt = a;
	}
	if (!kind)
		return MNL_CB_OK;
	if (w->kind) {
		w->found += !strcmp(kind, w->kind);
		return MNL_CB_OK;
	}
	if (tcm->tcm_parent != w->parent || w->found)
		return MNL_CB_OK;
	w->found = 1;
	memset(w->out, 0, sizeof(*w->out));
	snprintf(w->out->kind, sizeof(w->out->kind), "%s", kind);
	w->out->handle = tcm->tcm_handle;
	w->out->parent = tcm->tcm_parent;
	if (opt) {
		__u32 len = mnl_attr_get_payload_len(opt);

		w->out->opt_truncated = len > sizeof(w->out->opt);
		w->out->opt_len = len > sizeof(w->out->opt) ? sizeof(w->out->opt) : len;
		memcpy(w->out->opt, mnl_attr_get_payload(opt), w->out->opt_len);
	}
	return MNL_CB_OK;
}

static int qdisc_dump(struct qdisc_walk *w)
{
	struct nl nl;
	struct nlmsghdr *nlh;
	int err = nl_open(&nl);

	if (err)
		return err;
	nlh = tc_msg(nl.buf, RTM_GETQDISC, NLM_F_DUMP, w->ifindex, 0, 0);
	err = nl_talk(&nl, nlh, qdisc_cb, w, NULL, 0);
	nl_close(&nl);
	return err;
}

int txdp_nl_qdisc_get(__u32 ifindex, __u32 parent, struct txdp_qdisc_desc *out)
{
	struct qdisc_walk w = { .ifindex = ifindex, .parent = parent, .out = out };
	int err = qdisc_dump(&w);

	if (err)
		return err;
	return w.found ? 0 : -ENOENT;
}

int txdp_nl_qdisc_count(__u32 ifindex, const char *kind)
{
	struct qdisc_walk w = { .ifindex = ifindex, .kind = kind };
	int err = qdisc_dump(&w);

	return err ? err : w.found;
}

int txdp_nl_qdisc_replace(__u32 ifindex, __u32 parent, __u32 handle, const char *kind,
			 const void *opt, __u32 opt_len, char *why, size_t why_len)
{
	struct nl nl;
	struct nlmsghdr *nlh;
	int err = nl_open(&nl);

	if (err)
		return err;
	nlh = tc_msg(nl.buf, RTM_NEWQDISC, NLM_F_CREATE | NLM_F_REPLACE | NLM_F_ACK, ifindex,
		     parent, handle);
	mnl_attr_put_strz(nlh, TCA_KIND, kind);
	if (opt_len)
		mnl_attr_put(nlh, TCA_OPTIONS, opt_len, opt);
	err = nl_talk(&nl, nlh, NULL, NULL, why, why_len);
	nl_close(&nl);
	return err;
}

int txdp_nl_qdisc_delete(__u32 ifindex, __u32 parent, char *why, size_t why_len)
{
	struct nl nl;
	struct nlmsghdr *nlh;
	int err = nl_open(&nl);

	if (err)
		return err;
	nlh = tc_msg(nl.buf, RTM_DELQDISC, NLM_F_ACK, ifindex, parent, 0);
	err = nl_talk(&nl, nlh, NULL, NULL, why, why_len);
	nl_close(&nl);
	return err;
}

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *a;

	mnl_attr_for_each(a, nlh, sizeof(struct ifinfomsg))
		if (mnl_attr_get_type(a) == IFLA_NUM_TX_QUEUES)
			*(__u32 *)data = mnl_attr_get_u32(a);
	return MNL_CB_OK;
}

int txdp_nl_tx_queues(__u32 ifindex, __u32 *n)
{
	struct nl nl;
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;
	int err = nl_open(&nl);

	if (err)
		return err;
	*n = 0;
	nlh = mnl_nlmsg_put_header(nl.buf);
	nlh->nlmsg_type = RTM_GETLINK;
	/* The ack ends the exchange: a plain get has no NLMSG_DONE. */
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	err = nl_talk(&nl, nlh, link_cb, n, NULL, 0);
	nl_close(&nl);
	if (!err && !*n)
		*n = 1;
	return err;
}
