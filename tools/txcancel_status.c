/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* txcancel status: the daemon, its interfaces and hooks, and its clients. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>

#include "txcancel.h"

/* Replies are bounded by TXC_MSG_MAX, so is the client list in one. */
#define MAX_CLIENTS	((TXC_MSG_MAX - sizeof(struct txc_msg_hdr) - \
			  sizeof(struct txc_rep_status)) / sizeof(struct txc_status_client))

/* ---- status -------------------------------------------------------------- */

struct status_args {
	struct txc_rep_status st;
	struct txc_status_iface ifaces[TXC_MAX_IFACES];
	struct txc_status_client *clients;
};

/* "tcx", "clsact", "clsact(created)+xdp", "tcx+qdisc", "-". */
static void format_attach(char *buf, size_t len, __u32 flags)
{
	snprintf(buf, len, "%s%s%s%s%s",
		 flags & TXC_IFACE_F_TC_TCX ? "tcx" : "",
		 flags & TXC_IFACE_F_TC_CLSACT ?
		 (flags & TXC_IFACE_F_CLSACT_CREATED ? "clsact(created)" : "clsact") : "",
		 flags & TXC_IFACE_F_QDISC ? "+qdisc" : "",
		 (flags & (TXC_IFACE_F_TC_TCX | TXC_IFACE_F_TC_CLSACT)) &&
		 (flags & TXC_IFACE_F_XDP) ? "+" : "",
		 !(flags & TXC_IFACE_F_XDP) ? "" :
		 flags & TXC_IFACE_F_XDP_MULTIPROG ? "xdp(dispatcher)" : "xdp(link)");
	if (!buf[0])
		snprintf(buf, len, "-");
}

/* Why XDP runs on a link of its own, not in libxdp's dispatcher; NULL if it does not. */
static const char *xdp_link_reason(__u32 flags)
{
	if (!(flags & TXC_IFACE_F_XDP) || (flags & TXC_IFACE_F_XDP_MULTIPROG))
		return NULL;
	switch ((flags & TXC_IFACE_XDP_WHY_MASK) >> TXC_IFACE_XDP_WHY_SHIFT) {
	case TXC_XDP_LINK_NO_DISPATCHER:
		return "the kernel cannot run libxdp's dispatcher (no freplace programs)";
	case TXC_XDP_LINK_LIBXDP:
		return "libxdp could not attach it (the daemon's log says why)";
	case TXC_XDP_LINK_NO_SYS_ADMIN:
		return "libxdp needs CAP_SYS_ADMIN, which txcanceld does not have";
	default:
		return "attached before txcancel used libxdp's dispatcher";
	}
}

/*
 * Up to where a cancel reaches on the interface: frames already queued
 * (txcancel's qdisc holds the queues) or frames that reach the hook.
 */
static const char *boundary_name(__u32 flags)
{
	if (flags & TXC_IFACE_F_QDISC)
		return "queue";
	if (flags & (TXC_IFACE_F_TC_TCX | TXC_IFACE_F_TC_CLSACT | TXC_IFACE_F_XDP))
		return "hook";
	return "-";
}

static void format_hooks(char *buf, size_t len, __u32 hooks)
{
	snprintf(buf, len, "%s%s%s%s%s",
		 hooks & (1u << TXC_HOOK_TC_EGRESS) ? "tc" : "",
		 hooks & (1u << TXC_HOOK_TC_EGRESS) &&
		 hooks & ((1u << TXC_HOOK_XDP) | (1u << TXC_HOOK_XDP_DEVMAP)) ?
		 "," : "",
		 hooks & (1u << TXC_HOOK_XDP) ? "xdp" : "",
		 hooks & (1u << TXC_HOOK_XDP) && hooks & (1u << TXC_HOOK_XDP_DEVMAP) ? "," : "",
		 hooks & (1u << TXC_HOOK_XDP_DEVMAP) ? "xdp-devmap" : "");
	/* The daemon's bit for txcancel's qdisc (txcanceld.h: TXCD_HOOK_QDISC). */
	if (hooks & (1u << 8))
		snprintf(buf + strlen(buf), len - strlen(buf), "%sqdisc", buf[0] ? "," : "");
	if (!buf[0])
		snprintf(buf, len, "-");
}

static void status_json(const struct status_args *a, __u32 n_ifaces, __u32 n_clients)
{
	const struct txc_rep_status *st = &a->st;
	char buf[64];
	__u32 i;

	jw_object(NULL);
	jw_uint("pid", st->pid);
	jw_uint("uptime_ns", st->uptime_ns);
	jw_string_n("pin_dir", st->pin_dir, sizeof(st->pin_dir));
	jw_string_n("socket_path", st->socket_path, sizeof(st->socket_path));
	jw_uint("mark_mask", st->mark_mask);
	jw_uint("prefixes", st->n_prefixes);
	jw_uint("sources", st->n_sources);
	jw_uint("n_ifaces", st->n_ifaces);
	jw_uint("n_clients", st->n_clients);
	jw_array("ifaces");
	for (i = 0; i < n_ifaces; i++) {
		const struct txc_status_iface *f = &a->ifaces[i];

		jw_object(NULL);
		jw_string_n("name", f->name, sizeof(f->name));
		jw_uint("ifindex", f->ifindex);
		jw_bool("present", f->flags & TXC_STATUS_IFACE_PRESENT);
		format_attach(buf, sizeof(buf), f->flags);
		jw_string("attach", buf);
		if (xdp_link_reason(f->flags))
			jw_string("xdp_link_reason", xdp_link_reason(f->flags));
		else
			jw_null("xdp_link_reason");
		format_hooks(buf, sizeof(buf), f->hooks);
		jw_string("hooks", buf);
		jw_string("boundary", boundary_name(f->flags));
		jw_uint("slot", f->slot);
		jw_uint("flags", f->flags);
		jw_object_end();
	}
	jw_array_end();
	jw_array("clients");
	for (i = 0; i < n_clients; i++) {
		const struct txc_status_client *cl = &a->clients[i];

		jw_object(NULL);
		jw_uint("conn_id", cl->conn_id);
		jw_uint("uid", cl->uid);
		jw_uint("pid", cl->pid);
		jw_uint("prefixes", cl->prefixes);
		jw_uint("sources", cl->sources);
		jw_uint("subscriptions", cl->subscriptions);
		jw_uint("backlog", cl->backlog);
		jw_object_end();
	}
	jw_array_end();
	jw_object_end();
	jw_end();
}

static void status_ifaces(const struct status_args *a, __u32 n)
{
	char name[IFNAMSIZ * 4 + 1], attach[64], hooks[64];
	__u32 i;

	printf("\ninterfaces (%u):\n", a->st.n_ifaces);
	if (!n)
		return;
	printf("  %-16s %7s  %-7s  %-20s %-16s %-8s %4s\n", "NAME", "IFINDEX", "STATE",
	       "ATTACH", "HOOKS", "BOUNDARY", "SLOT");
	for (i = 0; i < n; i++) {
		const struct txc_status_iface *f = &a->ifaces[i];
		bool present = f->flags & TXC_STATUS_IFACE_PRESENT;

		sanitize(name, sizeof(name), f->name, sizeof(f->name));
		format_attach(attach, sizeof(attach), f->flags);
		format_hooks(hooks, sizeof(hooks), f->hooks);
		if (present)
			printf("  %-16s %7u", name, f->ifindex);
		else
			printf("  %-16s %7s", name, "-");
		printf("  %-7s  %-20s %-16s %-8s %4u\n", present ? "present" : "absent",
		       attach, hooks, boundary_name(f->flags), f->slot);
	}
	for (i = 0; i < n; i++) {
		if (!xdp_link_reason(a->ifaces[i].flags))
			continue;
		sanitize(name, sizeof(name), a->ifaces[i].name, sizeof(a->ifaces[i].name));
		printf("  %s: XDP on a link of its own, so no other XDP program can share the "
		       "interface: %s\n", name, xdp_link_reason(a->ifaces[i].flags));
	}
	if (n < a->st.n_ifaces)
		printf("  (%u more not shown)\n", a->st.n_ifaces - n);
}

static void status_clients(const struct status_args *a, __u32 n)
{
	__u32 i;

	printf("\nclients (%u):\n", a->st.n_clients);
	if (!n)
		return;
	printf("  %-6s %10s %10s %8s %8s %5s %10s\n", "CONN", "UID", "PID", "PREFIXES",
	       "SOURCES", "SUBS", "BACKLOG");
	for (i = 0; i < n; i++) {
		const struct txc_status_client *cl = &a->clients[i];

		printf("  %-6u %10u %10u %8u %8u %5u %10llu\n", cl->conn_id, cl->uid,
		       cl->pid, cl->prefixes, cl->sources, cl->subscriptions,
		       (unsigned long long)cl->backlog);
	}
	if (n < a->st.n_clients)
		printf("  (%u more not shown)\n", a->st.n_clients - n);
}

static int status_run(struct txc_client *c, void *arg)
{
	struct status_args *a = arg;
	const struct txc_rep_status *st = &a->st;
	__u32 n_ifaces, n_clients;
	char up[32];
	int err;

	err = txc_status(c, &a->st, a->ifaces, TXC_MAX_IFACES, a->clients, MAX_CLIENTS);
	if (err < 0)
		return client_error(c, err);
	/* The totals may exceed what one reply carries; show what came. */
	n_ifaces = st->n_ifaces < TXC_MAX_IFACES ? st->n_ifaces : TXC_MAX_IFACES;
	n_clients = st->n_clients < MAX_CLIENTS ? st->n_clients : MAX_CLIENTS;
	if (cli.json) {
		status_json(a, n_ifaces, n_clients);
		return EXIT_OK;
	}
	format_uptime(up, sizeof(up), st->uptime_ns);
	printf("daemon      pid %u, up %s\n", st->pid, up);
	printf("pin dir     ");
	print_safe(stdout, st->pin_dir, sizeof(st->pin_dir));
	printf("\nsocket      ");
	print_safe(stdout, st->socket_path, sizeof(st->socket_path));
	printf("\nmark mask   0x%08x%s\n", st->mark_mask, st->mark_mask ? "" : " (mark tags off)");
	printf("leases      %u prefixes, %u sources\n", st->n_prefixes, st->n_sources);
	status_ifaces(a, n_ifaces);
	status_clients(a, n_clients);
	return EXIT_OK;
}

int do_status(int argc, char **argv)
{
	struct status_args a;
	int ret;

	if (argc)
		return no_more_args(argc, argv, 0);
	memset(&a, 0, sizeof(a));
	a.clients = calloc(MAX_CLIENTS, sizeof(*a.clients));
	if (!a.clients)
		return runtime_error("out of memory");
	ret = with_client(status_run, &a);
	free(a.clients);
	return ret;
}
