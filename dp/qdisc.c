// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Load, register, install and purge txcancel's qdisc (see qdisc.h).
 *
 * The object shares the datapath's maps by fd; its own maps (the queues,
 * the qdisc-to-queue index and the per-interface parameters) are pinned
 * beside them, so that a restarted daemon purges the very queues the
 * running qdiscs hold.  A daemon that adopts a registration loads only the
 * purge program: the queues' lists are typed by the BTF of the object that
 * created them, and a purge only moves and frees nodes it took from them.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/utsname.h>
#include <linux/pkt_sched.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "dp.h"
#include "dp_internal.h"
#include "qdisc.h"
#include "qdisc_nl.h"
#ifndef TXC_NO_QDISC_OBJ
#include "txcancel_qdisc.skel.h"
#endif

/* Handle of the mq root txcancel puts on a multi-queue device ("7c:"). */
#define TXDP_MQ_HANDLE		0x007c0000u
/* How long a purge waits for a dequeue that is checking a frame (it takes microseconds). */
#define PURGE_BUSY_WAIT_NS	1000000000ull

#define SAVED_MAP		"txc_qdisc_saved"
#define QUEUES_MAP		"txc_qdisc_queues"

struct txdp_qdisc {
#ifndef TXC_NO_QDISC_OBJ
	struct txcancel_qdisc *skel;
#endif
	int purge_fd;
	int queues_fd;
	int params_fd;
	int ops_fd;		/* the registered struct_ops map */
	bool adopted;
};

/* Root qdiscs txcancel may replace and put back from their kind and options alone. */
static const char *const restorable[] = {
	"pfifo", "bfifo", "pfifo_fast", "pfifo_head_drop", "fq_codel", "fq", "sfq", "codel",
	"pie", "fq_pie", "cake", "netem", "noqueue", "red", "choke", NULL,
};

static void pin_path(const struct txdp *dp, const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", txdp_pin_dir(dp), name);
}

static void map_pin_path(const struct txdp *dp, const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/maps/%s", txdp_pin_dir(dp), name);
}

static const char *label(__u32 ifindex, char *buf)
{
	char name[IF_NAMESIZE];

	if (if_indextoname(ifindex, name))
		snprintf(buf, IF_NAMESIZE + 16, "%s", name);
	else
		snprintf(buf, IF_NAMESIZE + 16, "ifindex %u", ifindex);
	return buf;
}

#ifdef TXC_NO_QDISC_OBJ

int txdp_qdisc_probe(char *why, size_t len)
{
	snprintf(why, len, "txcancel was built without its qdisc (no clang 18 or later at build "
		 "time; install clang-19 and rebuild)");
	return -EOPNOTSUPP;
}

int txdp_qdisc_open(struct txdp *dp)
{
	char why[160];

	(void)dp;
	txdp_qdisc_probe(why, sizeof(why));
	txdp_log(TXDP_LOG_ERROR, "txcancel's qdisc: %s\n", why);
	return -EOPNOTSUPP;
}

#else

int txdp_qdisc_probe(char *why, size_t len)
{
	struct btf *btf = btf__load_vmlinux_btf();
	int ok;

	if (!btf) {
		snprintf(why, len, "the kernel has no BTF (CONFIG_DEBUG_INFO_BTF), which the BPF "
			 "qdisc needs");
		return -EOPNOTSUPP;
	}
	/* The qdisc kfuncs and the struct_ops value type exist only with CONFIG_NET_SCH_BPF. */
	ok = btf__find_by_name_kind(btf, "bpf_qdisc_skb_drop", BTF_KIND_FUNC) > 0 &&
	     btf__find_by_name_kind(btf, "bpf_struct_ops_Qdisc_ops", BTF_KIND_STRUCT) > 0;
	btf__free(btf);
	if (!ok) {
		struct utsname u;

		snprintf(why, len, "this kernel (%s) has no BPF qdisc: it needs Linux 6.16 or later "
			 "built with CONFIG_NET_SCH_BPF", uname(&u) ? "unknown" : u.release);
		return -EOPNOTSUPP;
	}
	return 0;
}

/*
 * The datapath map that the qdisc object's map named @name is, or -1 for one
 * of the qdisc's own: both objects declare the datapath's maps from the same
 * bpf/lib/maps.h, so the names say which.
 */
static int shared_map(const struct txdp *dp, const char *name)
{
	for (int m = 0; m < TXDP_MAP_COUNT; m++) {
		const struct bpf_map *map = txdp_map(dp, m);

		if (map && !strcmp(bpf_map__name(map), name))
			return m;
	}
	return -1;
}

/* Whether the pinned struct_ops map @fd is registered (BPF_STRUCT_OPS_STATE_INUSE). */
static bool ops_in_use(int fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info), zero = 0;
	bool inuse = false;
	__u32 *val;

	if (bpf_obj_get_info_by_fd(fd, &info, &len) || info.type != BPF_MAP_TYPE_STRUCT_OPS)
		return false;
	val = calloc(1, info.value_size);
	/* struct bpf_struct_ops_common_value: refcnt, then state (1: in use). */
	if (val && !bpf_map_lookup_elem(fd, &zero, val))
		inuse = val[1] == 1;
	free(val);
	return inuse;
}

static int open_skel(struct txdp *dp, struct txdp_qdisc *q, bool adopt)
{
	struct txcancel_qdisc *s;
	struct bpf_program *prog;
	struct bpf_map *map;
	char path[PATH_MAX];
	int err = 0;

	s = txcancel_qdisc__open();
	if (!s)
		return -errno;
	q->skel = s;
	bpf_object__for_each_map(map, s->obj) {
		int shared;

		if (bpf_map__is_internal(map) || map == s->maps.txc_qdisc_ops)
			continue;
		shared = shared_map(dp, bpf_map__name(map));
		if (shared >= 0) {
			err = bpf_map__reuse_fd(map, txdp_map_fd(dp, shared));
		} else {
			map_pin_path(dp, bpf_map__name(map), path, sizeof(path));
			err = bpf_map__set_pin_path(map, path);
		}
		if (err)
			return err;
	}
	if (!adopt)
		return 0;
	/* The running qdiscs keep their programs: load only the purge. */
	bpf_object__for_each_program(prog, s->obj) {
		err = bpf_program__set_autoload(prog, prog == s->progs.txc_qdisc_purge);
		if (err)
			return err;
	}
	return bpf_map__set_autocreate(s->maps.txc_qdisc_ops, false);
}

static int do_register(struct txdp *dp, struct txdp_qdisc *q)
{
	struct bpf_link *link;
	char path[PATH_MAX];
	int err;

	link = bpf_map__attach_struct_ops(q->skel->maps.txc_qdisc_ops);
	if (!link) {
		err = -errno;
		txdp_log(TXDP_LOG_ERROR, "registering the qdisc kind '%s': %s%s\n", TXC_QDISC_KIND,
			strerror(-err), err == -EEXIST ? " (another txcancel instance, with "
			"another pin dir, registered it)" : "");
		return err;
	}
	/* The registration outlives this process: keep it when the link is freed. */
	bpf_link__disconnect(link);
	bpf_link__destroy(link);
	q->ops_fd = dup(bpf_map__fd(q->skel->maps.txc_qdisc_ops));
	pin_path(dp, "qdisc_ops", path, sizeof(path));
	if (q->ops_fd < 0 || bpf_obj_pin(q->ops_fd, path)) {
		__u32 zero = 0;

		err = -errno;
		txdp_log(TXDP_LOG_ERROR, "pinning the qdisc registration at %s: %s\n", path,
			strerror(errno));
		bpf_map_delete_elem(bpf_map__fd(q->skel->maps.txc_qdisc_ops), &zero);
		return err;
	}
	return 0;
}

int txdp_qdisc_open(struct txdp *dp)
{
	struct txdp_qdisc *q;
	char why[200], path[PATH_MAX];
	int err;

	if (dp->qdisc)
		return 0;
	err = txdp_qdisc_probe(why, sizeof(why));
	if (err) {
		txdp_log(TXDP_LOG_ERROR, "txcancel's qdisc: %s\n", why);
		return err;
	}
	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->ops_fd = -1;
	pin_path(dp, "qdisc_ops", path, sizeof(path));
	q->ops_fd = bpf_obj_get(path);
	if (q->ops_fd >= 0 && ops_in_use(q->ops_fd)) {
		q->adopted = true;
	} else if (q->ops_fd >= 0) {
		/* Pinned but unregistered: what an interrupted unregister leaves. */
		close(q->ops_fd);
		q->ops_fd = -1;
		unlink(path);
	}
	err = open_skel(dp, q, q->adopted);
	if (!err)
		err = txcancel_qdisc__load(q->skel);
	if (err) {
		txdp_log(TXDP_LOG_ERROR, "loading txcancel's qdisc on the maps under %s: %s\n",
			txdp_pin_dir(dp), strerror(-err));
		goto fail;
	}
	if (!q->adopted) {
		err = do_register(dp, q);
		if (err)
			goto fail;
	}
	q->purge_fd = bpf_program__fd(q->skel->progs.txc_qdisc_purge);
	q->queues_fd = bpf_map__fd(q->skel->maps.txc_qdisc_queues);
	q->params_fd = bpf_map__fd(q->skel->maps.txc_qdisc_params);
	txdp_log(TXDP_LOG_INFO, "qdisc kind '%s' %s\n", TXC_QDISC_KIND,
		q->adopted ? "adopted from an earlier instance" : "registered");
	dp->qdisc = q;
	return 0;
fail:
	txcancel_qdisc__destroy(q->skel);
	if (q->ops_fd >= 0)
		close(q->ops_fd);
	free(q);
	return err;
}

#endif /* TXC_NO_QDISC_OBJ */

int txdp_qdisc_adopted(const struct txdp *dp)
{
	return dp->qdisc ? dp->qdisc->adopted : -ENOENT;
}

void txdp_qdisc_close(struct txdp *dp)
{
	struct txdp_qdisc *q = dp->qdisc;

	if (!q)
		return;
#ifndef TXC_NO_QDISC_OBJ
	txcancel_qdisc__destroy(q->skel);
#endif
	if (q->ops_fd >= 0)
		close(q->ops_fd);
	free(q);
	dp->qdisc = NULL;
}

int txdp_qdisc_unregister(struct txdp *dp)
{
	static const char *const own[] = {
		"txc_qdisc_queues", "txc_qdisc_index", "txc_qdisc_params", SAVED_MAP,
	};
	char path[PATH_MAX];
	__u32 zero = 0;
	int fd, err = 0;

	pin_path(dp, "qdisc_ops", path, sizeof(path));
	fd = bpf_obj_get(path);
	if (fd >= 0) {
		if (bpf_map_delete_elem(fd, &zero) && errno != ENOENT && errno != EINVAL) {
			err = -errno;
			txdp_log(TXDP_LOG_WARN, "unregistering the qdisc kind '%s': %s\n",
				TXC_QDISC_KIND, strerror(errno));
		}
		close(fd);
		unlink(path);
	}
	txdp_qdisc_close(dp);
	for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++) {
		map_pin_path(dp, own[i], path, sizeof(path));
		unlink(path);
	}
	return err;
}

/* The map of replaced qdiscs, pinned; created when @create. */
static int saved_map(struct txdp *dp, bool create)
{
	char path[PATH_MAX];
	int fd;

	map_pin_path(dp, SAVED_MAP, path, sizeof(path));
	fd = bpf_obj_get(path);
	if (fd >= 0 || !create)
		return fd >= 0 ? fd : -errno;
	fd = bpf_map_create(BPF_MAP_TYPE_HASH, SAVED_MAP, sizeof(__u32),
			    sizeof(struct txdp_qdisc_desc), TXC_MAX_IFACES, NULL);
	if (fd < 0)
		return -errno;
	if (bpf_obj_pin(fd, path)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static int qdisc_iface_chunk(void *ctx, const void *keys, const void *vals, __u32 n)
{
	const struct txc_iface *ifaces = vals;

	(void)ctx;
	(void)keys;
	for (__u32 i = 0; i < n; i++)
		if (ifaces[i].flags & TXC_IFACE_F_QDISC)
			return 1;
	return 0;
}

/*
 * The TC program stamps passing frames for the qdisc only while the lookup
 * bit is set: on while some interface has TXC_IFACE_F_QDISC (or is getting
 * it: set before the install, so no frame reaches a new queue unstamped),
 * off otherwise, so that the stamp costs nothing where no qdisc reads it.
 */
static void stamp_bit_sync(struct txdp *dp)
{
	int found = txdp_map_walk(txdp_map_fd(dp, TXDP_MAP_IFACES), sizeof(__u32),
				  sizeof(struct txc_iface), qdisc_iface_chunk, NULL);

	/* A failed walk keeps the stamp: an unstamped frame in a queue cannot be purged. */
	if (found)
		__atomic_fetch_or(&dp->cfg->lookups, TXC_LOOKUP_QDISC, __ATOMIC_SEQ_CST);
	else
		__atomic_fetch_and(&dp->cfg->lookups, ~TXC_LOOKUP_QDISC, __ATOMIC_SEQ_CST);
}

static int iface_flags_set(struct txdp *dp, __u32 ifindex, __u32 set, __u32 clear)
{
	int fd = txdp_map_fd(dp, TXDP_MAP_IFACES);
	struct txc_iface iface;
	int err;

	if (bpf_map_lookup_elem(fd, &ifindex, &iface))
		return -errno;
	iface.flags = (iface.flags | set) & ~clear;
	err = bpf_map_update_elem(fd, &ifindex, &iface, BPF_EXIST) ? -errno : 0;
	stamp_bit_sync(dp);
	return err;
}

static bool is_restorable(const struct txdp_qdisc_desc *d)
{
	/* A default qdisc (handle 0:) comes back by itself when ours is deleted. */
	if (!TC_H_MAJ(d->handle))
		return true;
	if (d->opt_truncated)
		return false;
	for (size_t i = 0; restorable[i]; i++)
		if (!strcmp(d->kind, restorable[i]))
			return true;
	return false;
}

/* Whether txcancel's qdisc is what @ifindex runs now. */
static bool is_installed(__u32 ifindex, const struct txdp_qdisc_desc *root, __u32 ntx)
{
	if (!strcmp(root->kind, TXC_QDISC_KIND))
		return true;
	return !strcmp(root->kind, "mq") && root->handle == TXDP_MQ_HANDLE &&
	       txdp_nl_qdisc_count(ifindex, TXC_QDISC_KIND) == (int)ntx;
}

static int restore(__u32 ifindex, const struct txdp_qdisc_desc *saved, char *why, size_t len)
{
	int err;

	if (saved && TC_H_MAJ(saved->handle) && saved->kind[0])
		return txdp_nl_qdisc_replace(ifindex, TC_H_ROOT, saved->handle, saved->kind,
					    saved->opt, saved->opt_len, why, len);
	/* Deleting the root makes the kernel attach the device's default again. */
	err = txdp_nl_qdisc_delete(ifindex, TC_H_ROOT, why, len);
	return err == -ENOENT || err == -EINVAL ? 0 : err;
}

static int install(__u32 ifindex, __u32 ntx, char *why, size_t len)
{
	int err;

	if (ntx <= 1)
		return txdp_nl_qdisc_replace(ifindex, TC_H_ROOT, 0, TXC_QDISC_KIND, NULL, 0, why,
					    len);
	err = txdp_nl_qdisc_replace(ifindex, TC_H_ROOT, TXDP_MQ_HANDLE, "mq", NULL, 0, why, len);
	for (__u32 i = 1; !err && i <= ntx; i++)
		err = txdp_nl_qdisc_replace(ifindex, TXDP_MQ_HANDLE | i, 0, TXC_QDISC_KIND, NULL, 0,
					   why, len);
	return err;
}

int txdp_qdisc_attach_ifindex(struct txdp *dp, __u32 ifindex, const struct txc_qdisc_params *p)
{
	struct txc_qdisc_params params = p ? *p : (struct txc_qdisc_params){ 0 };
	struct txdp_qdisc_desc root, saved;
	char lbl[IF_NAMESIZE + 16], why[256];
	struct txc_iface iface;
	__u32 ntx;
	int fd, err;

	label(ifindex, lbl);
	if (!dp->qdisc) {
		txdp_log(TXDP_LOG_ERROR, "%s: txcancel's qdisc is not loaded\n", lbl);
		return -EOPNOTSUPP;
	}
	if (params.reserved || params.limit > TXC_QDISC_LIMIT_MAX) {
		txdp_log(TXDP_LOG_ERROR, "%s: qdisc limit %u: must be 1..%u\n", lbl, params.limit,
			TXC_QDISC_LIMIT_MAX);
		return -EINVAL;
	}
	if (txdp_iface_get(dp, ifindex, &iface) ||
	    !(iface.flags & (TXC_IFACE_F_TC_TCX | TXC_IFACE_F_TC_CLSACT))) {
		txdp_log(TXDP_LOG_ERROR, "%s: txcancel's qdisc needs the TC program attached "
			"first: the tag reaches the queue from there\n", lbl);
		return -ENOENT;
	}
	err = txdp_nl_tx_queues(ifindex, &ntx);
	if (!err) {
		err = txdp_nl_qdisc_get(ifindex, TC_H_ROOT, &root);
		if (err == -ENOENT) {
			memset(&root, 0, sizeof(root));
			err = 0;
		}
	}
	if (err) {
		txdp_log(TXDP_LOG_ERROR, "%s: reading its qdiscs: %s\n", lbl, strerror(-err));
		return err;
	}
	if (is_installed(ifindex, &root, ntx)) {
		txdp_log(TXDP_LOG_INFO, "%s: txcancel's qdisc is in place already, adopted\n", lbl);
		return iface_flags_set(dp, ifindex, TXC_IFACE_F_QDISC, 0);
	}
	fd = saved_map(dp, true);
	if (fd < 0) {
		txdp_log(TXDP_LOG_ERROR, "%s: the map of replaced qdiscs: %s\n", lbl, strerror(-fd));
		return fd;
	}
	/* An install cut short left ours (or our mq) at the root: keep the original. */
	if (bpf_map_lookup_elem(fd, &ifindex, &saved)) {
		if (!is_restorable(&root)) {
			txdp_log(TXDP_LOG_ERROR, "%s: its root qdisc is %s (handle %x:) with classes "
				"or options txcancel could not put back; remove it, or manage the "
				"interface with :tc only\n", lbl, root.kind, TC_H_MAJ(root.handle) >> 16);
			close(fd);
			return -EBUSY;
		}
		saved = root;
		if (bpf_map_update_elem(fd, &ifindex, &saved, BPF_ANY)) {
			err = -errno;
			close(fd);
			return err;
		}
	}
	err = bpf_map_update_elem(dp->qdisc->params_fd, &ifindex, &params, BPF_ANY) ? -errno : 0;
	if (!err) {
		__atomic_fetch_or(&dp->cfg->lookups, TXC_LOOKUP_QDISC, __ATOMIC_SEQ_CST);
		err = install(ifindex, ntx, why, sizeof(why));
	}
	if (err) {
		txdp_log(TXDP_LOG_ERROR, "%s: installing txcancel's qdisc: %s%s%s\n", lbl,
			strerror(-err), why[0] ? ": " : "", why);
		restore(ifindex, &saved, why, sizeof(why));
		bpf_map_delete_elem(fd, &ifindex);
		close(fd);
		stamp_bit_sync(dp);
		return err;
	}
	close(fd);
	txdp_log(TXDP_LOG_INFO, "%s: txcancel's qdisc on %u TX queue%s, replacing %s\n", lbl, ntx,
		ntx == 1 ? "" : "s", saved.kind[0] ? saved.kind : "nothing");
	return iface_flags_set(dp, ifindex, TXC_IFACE_F_QDISC, 0);
}

int txdp_qdisc_detach_ifindex(struct txdp *dp, __u32 ifindex)
{
	struct txdp_qdisc_desc saved, *sp = NULL;
	char lbl[IF_NAMESIZE + 16], why[256] = "";
	struct txc_iface iface;
	int fd, err;

	if (txdp_iface_get(dp, ifindex, &iface) || !(iface.flags & TXC_IFACE_F_QDISC))
		return -ENOENT;
	label(ifindex, lbl);
	fd = saved_map(dp, false);
	if (fd >= 0 && !bpf_map_lookup_elem(fd, &ifindex, &saved))
		sp = &saved;
	err = restore(ifindex, sp, why, sizeof(why));
	if (err == -ENODEV)
		err = 0;	/* gone: its qdiscs went with it */
	if (err) {
		txdp_log(TXDP_LOG_ERROR, "%s: putting back its %s qdisc: %s%s%s\n", lbl,
			sp ? sp->kind : "default", strerror(-err), why[0] ? ": " : "", why);
	} else {
		if (fd >= 0)
			bpf_map_delete_elem(fd, &ifindex);
		txdp_log(TXDP_LOG_INFO, "%s: txcancel's qdisc removed, %s back\n", lbl,
			sp && TC_H_MAJ(sp->handle) ? sp->kind : "the default qdisc");
	}
	if (fd >= 0)
		close(fd);
	if (dp->qdisc)
		bpf_map_delete_elem(dp->qdisc->params_fd, &ifindex);
	/* Cleared either way: a qdisc that could not be removed is not ours to count on. */
	iface_flags_set(dp, ifindex, 0, TXC_IFACE_F_QDISC);
	return err;
}

/* Purge the queue in @slot until no dequeue is checking a frame there. */
static int purge_slot(struct txdp *dp, struct txc_qdisc_purge_args *in, __u32 *total)
{
	struct txc_qdisc_purge_args a;
	LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = &a, .ctx_size_in = sizeof(a));
	struct timespec t0, t;
	int err;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		a = *in;
		/* A syscall program's context is copied back into ctx_in. */
		if (bpf_prog_test_run_opts(dp->qdisc->purge_fd, &opts)) {
			err = -errno;
			txdp_log(TXDP_LOG_ERROR, "purging the queues for the cancel of %u: %s\n",
				in->value, strerror(errno));
			return err;
		}
		if ((int)opts.retval < 0) {
			txdp_log(TXDP_LOG_ERROR, "purging the queues for the cancel of %u: %s\n",
				in->value, strerror(-(int)opts.retval));
			return (int)opts.retval;
		}
		*total += a.purged;
		if (!a.busy)
			return 0;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((__u64)(t.tv_sec - t0.tv_sec) * 1000000000ull + t.tv_nsec - t0.tv_nsec >
		    PURGE_BUSY_WAIT_NS) {
			txdp_log(TXDP_LOG_ERROR, "purging the queues for the cancel of %u: a dequeue "
				"stayed between taking a frame and checking it for a second\n",
				in->value);
			return -ETIMEDOUT;
		}
		sched_yield();
	}
}

/*
 * Purge every queue of @ifindex (0: all) of the frames of @scope
 * @values[0..n-1]: the queue table is walked once for them all.  Each slot
 * is read just before its purge.  Reading the whole table first (one
 * BPF_MAP_LOOKUP_BATCH) delayed the purges, in an emulated 7.2 guest, until
 * the queues' own dequeues had aborted the canceled frames: not wrong, but
 * the purge is what the cancel's reply stands for.
 */
static int purge_values(struct txdp *dp, int scope, const __u32 *values, __u32 n,
			__u32 ifindex, __u32 *purged)
{
	struct txc_qdisc_purge_args in = { .scope = scope, .ifindex = ifindex };
	struct bpf_map_info info = {};
	__u32 len = sizeof(info), total = 0, queues = 0;
	struct txc_queue_info qi;
	void *val;
	int err = 0;

	if (purged)
		*purged = 0;
	if (!dp->qdisc)
		return 0;
	if (bpf_obj_get_info_by_fd(dp->qdisc->queues_fd, &info, &len))
		return -errno;
	val = malloc(info.value_size);
	if (!val)
		return -ENOMEM;
	/* Only the slots that hold a queue: most of the table is free. */
	for (in.slot = 0; in.slot < TXC_QDISC_QUEUES_MAX && !err; in.slot++) {
		if (bpf_map_lookup_elem(dp->qdisc->queues_fd, &in.slot, val))
			continue;
		memcpy(&qi, val, sizeof(qi));
		if (!qi.owner || (ifindex && qi.ifindex != ifindex))
			continue;
		queues++;
		for (__u32 v = 0; v < n && !err; v++) {
			in.value = values[v];
			err = purge_slot(dp, &in, &total);
		}
	}
	free(val);
	txdp_log(TXDP_LOG_DEBUG, "purge for the cancel of %u value%s (first %u): %u queues, "
		"%u frames\n", n, n == 1 ? "" : "s", n ? values[0] : 0, queues, total);
	if (purged)
		*purged = total;
	return err;
}

int txdp_qdisc_purge(struct txdp *dp, int scope, __u32 value, __u32 ifindex, __u32 *purged)
{
	return purge_values(dp, scope, &value, 1, ifindex, purged);
}

int txdp_qdisc_purge_ids(struct txdp *dp, const __u32 *ids, __u32 n, __u32 *purged)
{
	return purge_values(dp, TXC_SCOPE_ID, ids, n, 0, purged);
}

int txdp_qdisc_queues(struct txdp *dp, __u32 ifindex, struct txc_queue_info *out, __u32 max)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info), n = 0;
	char path[PATH_MAX];
	void *val;
	int fd;

	map_pin_path(dp, QUEUES_MAP, path, sizeof(path));
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	if (bpf_obj_get_info_by_fd(fd, &info, &len) || info.value_size < sizeof(*out)) {
		close(fd);
		return -EINVAL;
	}
	val = malloc(info.value_size);
	for (__u32 slot = 0; val && slot < info.max_entries && n < max; slot++) {
		const struct txc_queue_info *qi = val;

		if (bpf_map_lookup_elem(fd, &slot, val) || !qi->owner)
			continue;
		if (ifindex && qi->ifindex != ifindex)
			continue;
		out[n++] = *qi;
	}
	free(val);
	close(fd);
	return n;
}
