// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Load txcancel's programs, pin and reuse their maps, and release them. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "dp.h"
#include "dp_internal.h"
#include "qdisc.h"
#include "txcancel.skel.h"

struct bpf_map *txdp_map(const struct txdp *dp, enum txdp_map_id map)
{
	struct txcancel *s = dp->skel;
	struct bpf_map *maps[TXDP_MAP_COUNT] = {
		[TXDP_MAP_CONFIG] = s->maps.txc_config,
		[TXDP_MAP_MARK_RULES] = s->maps.txc_mark_rules,
		[TXDP_MAP_SK_TAGS] = s->maps.txc_sk_tags,
		[TXDP_MAP_CGROUP_RULES] = s->maps.txc_cgroup_rules,
		[TXDP_MAP_FLOW_RULES] = s->maps.txc_flow_rules,
		[TXDP_MAP_ID_CANCELS] = s->maps.txc_id_cancels,
		[TXDP_MAP_PREFIX_CANCELS] = s->maps.txc_prefix_cancels,
		[TXDP_MAP_SOURCE_CANCELS] = s->maps.txc_source_cancels,
		[TXDP_MAP_SOURCE_SEQ] = s->maps.txc_source_seq,
		[TXDP_MAP_SOURCE_STATS] = s->maps.txc_source_stats,
		[TXDP_MAP_IFACES] = s->maps.txc_ifaces,
		[TXDP_MAP_RINGS] = s->maps.txc_rings,
		[TXDP_MAP_ID_STATS] = s->maps.txc_id_stats,
		[TXDP_MAP_LEASE_GENS] = s->maps.txc_lease_gens,
		[TXDP_MAP_CGROUP_FILTER] = s->maps.txc_cgroup_filter,
		[TXDP_MAP_IFACE_STATS] = s->maps.txc_iface_stats,
		[TXDP_MAP_SOURCE_CAPLEN] = s->maps.txc_source_caplen,
	};

	return (unsigned int)map < TXDP_MAP_COUNT ? maps[map] : NULL;
}

int txdp_map_fd(const struct txdp *dp, enum txdp_map_id map)
{
	struct bpf_map *m = txdp_map(dp, map);

	return m ? bpf_map__fd(m) : -EINVAL;
}

int txdp_prog_fd(const struct txdp *dp, enum txdp_prog prog)
{
	switch (prog) {
	case TXDP_PROG_TC_EGRESS:
		return bpf_program__fd(dp->skel->progs.txc_tc_egress);
	case TXDP_PROG_XDP:
		return bpf_program__fd(dp->skel->progs.txc_xdp);
	default:
		return -EINVAL;
	}
}

const char *txdp_pin_dir(const struct txdp *dp)
{
	return dp->pin_dir;
}

__u32 txdp_ring_bytes(const struct txdp *dp)
{
	return dp->ring_bytes;
}

int txdp_ensure_bpffs(const char *path)
{
	char dir[PATH_MAX];
	struct statfs st;
	char *slash;

	/* Find the closest existing ancestor and see what is mounted there. */
	snprintf(dir, sizeof(dir), "%s", path);
	while (statfs(dir, &st)) {
		int err = -errno;

		if (err == -EACCES || err == -EPERM) {
			txdp_log(TXDP_LOG_ERROR, "%s: permission denied on %s: the pin directory "
				"and bpffs are root's; run as root (txcancel needs CAP_BPF, "
				"CAP_PERFMON and CAP_NET_ADMIN)\n", path, dir);
			return err;
		}
		if (err != -ENOENT) {
			txdp_log(TXDP_LOG_ERROR, "%s: reading %s: %s\n", path, dir, strerror(-err));
			return err;
		}
		slash = strrchr(dir, '/');
		if (!slash || slash == dir)
			return -ENOENT;
		*slash = '\0';
	}
	if (st.f_type == BPF_FS_MAGIC)
		return 0;
	if (strcmp(dir, "/sys/fs/bpf")) {
		txdp_log(TXDP_LOG_ERROR, "%s is not on a bpffs mount: put the pin directory under "
			"/sys/fs/bpf or mount bpffs there ('mount -t bpf bpf <dir>')\n", path);
		return -EINVAL;
	}
	if (mount("bpf", dir, "bpf", 0, "mode=0700")) {
		int err = -errno;

		txdp_log(TXDP_LOG_ERROR, "mounting bpffs on %s: %s\n", dir, strerror(errno));
		return err;
	}
	txdp_log(TXDP_LOG_INFO, "mounted bpffs on %s\n", dir);
	return 0;
}

int txdp_mkdir_p(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	char *p;

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) && errno != EEXIST)
		return -errno;
	return 0;
}

int txdp_pin_dir_lock(const char *pin_dir)
{
	int fd, err;

	err = txdp_ensure_bpffs(pin_dir);
	if (!err)
		err = txdp_mkdir_p(pin_dir, 0700);
	if (err) {
		txdp_log(TXDP_LOG_ERROR, "creating the pin dir %s: %s\n", pin_dir, strerror(-err));
		return err;
	}
	fd = open(pin_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0 && !flock(fd, LOCK_EX | LOCK_NB))
		return fd;
	err = -errno;
	if (err == -EWOULDBLOCK) {
		txdp_log(TXDP_LOG_ERROR, "%s is held by a running txcanceld: its programs, rules "
			"and rings are the daemon's; use txcancel, or stop the daemon first\n",
			pin_dir);
		err = -EBUSY;
	} else {
		txdp_log(TXDP_LOG_ERROR, "locking the pin dir %s: %s\n", pin_dir, strerror(-err));
	}
	if (fd >= 0)
		close(fd);
	return err;
}

static int dp_pin_maps(struct txdp *dp)
{
	struct bpf_map *map;
	char path[PATH_MAX];
	int err;

	bpf_object__for_each_map(map, dp->skel->obj) {
		/* Globals (.rodata, .bss) are per load: nothing to share. */
		if (bpf_map__is_internal(map))
			continue;
		snprintf(path, sizeof(path), "%s/maps/%s", dp->pin_dir, bpf_map__name(map));
		err = bpf_map__set_pin_path(map, path);
		if (err)
			return err;
	}
	return 0;
}

#define RING_SLOTS_NAME	"txc_ring_slots"

/*
 * The record of which txc_rings slots hold a ring (dp_internal.h).  A
 * txc_rings map reused without that record (an older txcancel pinned it)
 * may hold a ring anywhere: every slot is marked, and the first reset or
 * removal finds out, once.
 */
static int ring_slots_open(struct txdp *dp, bool rings_reused)
{
	size_t size = sizeof(dp->ring_slots);
	struct bpf_map_info info = {};
	__u32 zero = 0, len = sizeof(info);
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/maps/" RING_SLOTS_NAME, dp->pin_dir);
	fd = bpf_obj_get(path);
	if (fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &len) &&
	    info.type == BPF_MAP_TYPE_ARRAY && info.value_size == size && info.max_entries == 1 &&
	    !bpf_map_lookup_elem(fd, &zero, dp->ring_slots)) {
		dp->ring_slots_fd = fd;
		return 0;
	}
	if (fd >= 0) {
		txdp_log(TXDP_LOG_WARN, "%s: not a map of this version, replacing it\n", path);
		close(fd);
		unlink(path);
	}
	memset(dp->ring_slots, rings_reused ? 0xff : 0, size);
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, RING_SLOTS_NAME, sizeof(__u32), size, 1, NULL);
	if (fd < 0 || bpf_map_update_elem(fd, &zero, dp->ring_slots, BPF_ANY) ||
	    bpf_obj_pin(fd, path)) {
		int err = -errno;

		txdp_log(TXDP_LOG_ERROR, "creating the map %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return err;
	}
	dp->ring_slots_fd = fd;
	return 0;
}

/*
 * The config and the lease generations are memory-mapped arrays: this
 * process reads and changes them in place, with no system call, and the
 * programs see each store at once (the very same memory).  Nothing is
 * cached: a mapping is the map.
 */
static void *map_mmap(struct txdp *dp, enum txdp_map_id map, size_t bytes, size_t *len)
{
	long page = sysconf(_SC_PAGESIZE);
	void *p;

	*len = (bytes + page - 1) / page * page;
	p = mmap(NULL, *len, PROT_READ | PROT_WRITE, MAP_SHARED, txdp_map_fd(dp, map), 0);
	if (p == MAP_FAILED) {
		txdp_log(TXDP_LOG_ERROR, "mapping %s into memory: %s; if an older txcancel pinned "
			"it without BPF_F_MMAPABLE, detach it and remove the pins under %s/maps\n",
			bpf_map__name(txdp_map(dp, map)), strerror(errno), dp->pin_dir);
		return NULL;
	}
	return p;
}

static int dp_map_shared(struct txdp *dp)
{
	dp->cfg = map_mmap(dp, TXDP_MAP_CONFIG, sizeof(*dp->cfg), &dp->cfg_len);
	if (!dp->cfg)
		return -EINVAL;
	dp->gens = map_mmap(dp, TXDP_MAP_LEASE_GENS, TXC_GEN_SLOTS * sizeof(__u64), &dp->gens_len);
	if (!dp->gens)
		return -EINVAL;
	dp->cgroup_filter = map_mmap(dp, TXDP_MAP_CGROUP_FILTER,
				     TXC_CGROUP_FILTER_WORDS * sizeof(__u64),
				     &dp->cgroup_filter_len);
	return dp->cgroup_filter ? 0 : -EINVAL;
}

void txdp_cgroup_filter_set(struct txdp *dp, __u64 cgroup)
{
	__u32 bit = txc_cgroup_filter_bit(cgroup);

	__atomic_fetch_or(&dp->cgroup_filter[bit / 64], 1ull << (bit % 64), __ATOMIC_SEQ_CST);
}

/*
 * Cgroup rules pinned by an instance that had no cgroup filter: set their
 * bits before the programs (with a filter of none) are attached anywhere.
 */
static int cgroup_filter_add(void *ctx, const void *keys, const void *vals, __u32 n)
{
	const __u64 *cgroups = keys;

	(void)vals;
	for (__u32 i = 0; i < n; i++)
		txdp_cgroup_filter_set(ctx, cgroups[i]);
	return 0;
}

static int cgroup_filter_rebuild(struct txdp *dp)
{
	struct bpf_map *m = txdp_map(dp, TXDP_MAP_CGROUP_RULES);

	return txdp_map_walk(bpf_map__fd(m), sizeof(__u64), bpf_map__value_size(m),
			    cgroup_filter_add, dp);
}

/* The pin dir with its maps/ and links/, on bpffs. */
static int pin_dirs_make(struct txdp *dp)
{
	char path[PATH_MAX];
	int err;

	err = txdp_ensure_bpffs(dp->pin_dir);
	if (err)
		return err;
	snprintf(path, sizeof(path), "%s/maps", dp->pin_dir);
	err = txdp_mkdir_p(path, 0700);
	if (!err) {
		snprintf(path, sizeof(path), "%s/links", dp->pin_dir);
		err = txdp_mkdir_p(path, 0700);
	}
	if (err)
		txdp_log(TXDP_LOG_ERROR, "creating %s: %s\n", path, strerror(-err));
	return err;
}

/*
 * Open the object and set it up before the load: the rings' size, the flow
 * table's, the pin paths.  *@template_fd: the template ring, which the
 * caller closes after the load.
 */
static int skel_prepare(struct txdp *dp, __u32 flow_max, int *template_fd)
{
	int err;

	dp->skel = txcancel__open();
	if (!dp->skel) {
		err = -errno;
		txdp_log(TXDP_LOG_ERROR, "opening the BPF object: %s\n", strerror(errno));
		return err;
	}
	/*
	 * The rings' size is fixed by the outer map's inner template.  libbpf
	 * 1.1 crashes resizing an inner map definition, so hand it a template
	 * ring of the wanted size instead.
	 */
	*template_fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "txc_ring_tmpl", 0, 0,
				      dp->ring_bytes, NULL);
	if (*template_fd < 0) {
		err = -errno;
		txdp_log(TXDP_LOG_ERROR, "creating a %u-byte ring: %s%s\n", dp->ring_bytes,
			strerror(errno), errno == EPERM ? ": the kernel refuses bpf() to this "
			"process; txcancel needs CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN (run "
			"it as root)" : "");
		return err;
	}
	err = bpf_map__set_inner_map_fd(dp->skel->maps.txc_rings, *template_fd);
	if (!err)
		err = bpf_map__set_max_entries(dp->skel->maps.txc_flow_rules, flow_max);
	if (!err)
		err = dp_pin_maps(dp);
	/* Loaded on demand, by explain_load(). */
	if (!err)
		err = bpf_program__set_autoload(dp->skel->progs.txc_tc_explain, false);
	if (err)
		txdp_log(TXDP_LOG_ERROR, "configuring maps: %s\n", strerror(-err));
	return err;
}

/* Load, reusing the pinned maps; then what lives beside them. */
static int skel_load(struct txdp *dp)
{
	char path[PATH_MAX];
	bool rings_reused, filter_pinned;
	int err;

	/* Whether an earlier instance left a cgroup filter with its rules. */
	snprintf(path, sizeof(path), "%s/maps/txc_cgroup_filter", dp->pin_dir);
	filter_pinned = !access(path, F_OK);
	snprintf(path, sizeof(path), "%s/maps/txc_rings", dp->pin_dir);
	rings_reused = !access(path, F_OK);
	err = txcancel__load(dp->skel);
	if (err) {
		txdp_log(TXDP_LOG_ERROR, "loading the programs (maps pinned under %s/maps): %s; "
			"if an older txcancel left incompatible maps there, detach it and "
			"remove them\n", dp->pin_dir, strerror(-err));
		return err;
	}
	err = ring_slots_open(dp, rings_reused);
	if (!err)
		err = dp_map_shared(dp);
	if (!err && !filter_pinned)
		err = cgroup_filter_rebuild(dp);
	return err;
}

int txdp_open(struct txdp **out, const struct txdp_opts *opts)
{
	const char *pin_dir = opts && opts->pin_dir ? opts->pin_dir : TXDP_PIN_DIR_DEFAULT;
	__u32 ring_bytes = opts && opts->ring_bytes ? opts->ring_bytes : TXC_RING_BYTES_DEFAULT;
	__u32 flow_max = opts && opts->flow_rules_max ? opts->flow_rules_max : TXC_FLOW_RULES_MAX;
	struct txdp *dp;
	int template_fd = -1;
	int err;

	*out = NULL;
	if (ring_bytes < 4096 || (ring_bytes & (ring_bytes - 1))) {
		txdp_log(TXDP_LOG_ERROR, "ring size %u: must be a power of 2 of at least 4096 bytes\n",
			ring_bytes);
		return -EINVAL;
	}
	txdp_libbpf_log();

	dp = calloc(1, sizeof(*dp));
	if (!dp)
		return -ENOMEM;
	snprintf(dp->pin_dir, sizeof(dp->pin_dir), "%s", pin_dir);
	dp->ring_bytes = ring_bytes;
	dp->ring_slots_fd = -1;
	pthread_mutex_init(&dp->ring_slots_lock, NULL);
	pthread_mutex_init(&dp->err_lock, NULL);

	err = pin_dirs_make(dp);
	if (!err)
		err = skel_prepare(dp, flow_max, &template_fd);
	if (!err)
		err = skel_load(dp);
	if (template_fd >= 0)
		close(template_fd);
	if (err) {
		txdp_close(dp);
		return err;
	}
	*out = dp;
	return 0;
}

void txdp_close(struct txdp *dp)
{
	if (!dp)
		return;
	txdp_qdisc_close(dp);
	if (dp->cfg)
		munmap(dp->cfg, dp->cfg_len);
	if (dp->gens)
		munmap(dp->gens, dp->gens_len);
	if (dp->cgroup_filter)
		munmap(dp->cgroup_filter, dp->cgroup_filter_len);
	txcancel__destroy(dp->explain);
	txcancel__destroy(dp->skel);
	if (dp->ring_slots_fd >= 0)
		close(dp->ring_slots_fd);
	pthread_mutex_destroy(&dp->ring_slots_lock);
	pthread_mutex_destroy(&dp->err_lock);
	free(dp);
}

int txdp_unpin(struct txdp *dp)
{
	char path[PATH_MAX];
	struct bpf_map *map;
	int err = 0;

	bpf_object__for_each_map(map, dp->skel->obj) {
		if (!bpf_map__is_pinned(map))
			continue;
		if (bpf_map__unpin(map, NULL) && !err)
			err = -errno;
	}
	snprintf(path, sizeof(path), "%s/maps/" RING_SLOTS_NAME, dp->pin_dir);
	if (unlink(path) && errno != ENOENT && !err)
		err = -errno;
	snprintf(path, sizeof(path), "%s/maps", dp->pin_dir);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/links", dp->pin_dir);
	if (rmdir(path) && errno != ENOENT) {
		txdp_log(TXDP_LOG_WARN, "%s is not empty: links are still attached\n", path);
		if (!err)
			err = -ENOTEMPTY;
	}
	if (rmdir(dp->pin_dir) && errno != ENOENT && !err)
		err = -errno;
	return err;
}
