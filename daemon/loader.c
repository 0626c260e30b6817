// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Load txcancel's programs, pin and reuse their maps, and edit their state. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/if_ether.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "loader.h"
#include "loader_internal.h"
#include "qdisc.h"
#include "txcancel.skel.h"

static int log_default_level = TXC_LOG_WARN;

static void log_stderr(enum txc_log_level level, const char *fmt, va_list ap)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };

	if ((int)level > log_default_level)
		return;
	fprintf(stderr, "txcancel: %s: ", names[level]);
	vfprintf(stderr, fmt, ap);
}

static txc_log_fn log_fn = log_stderr;

void txc_set_log(txc_log_fn fn)
{
	log_fn = fn ? fn : log_stderr;
}

void txc_vlog(enum txc_log_level level, const char *fmt, va_list ap)
{
	log_fn(level, fmt, ap);
}

void txc_log(enum txc_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_fn(level, fmt, ap);
	va_end(ap);
}

static int libbpf_quiet;

void txc_libbpf_quiet(bool quiet)
{
	libbpf_quiet += quiet ? 1 : -1;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	/* libbpf's warnings carry the verifier log and pinning conflicts. */
	if (level == LIBBPF_WARN && !libbpf_quiet)
		log_fn(TXC_LOG_WARN, fmt, ap);
	else
		log_fn(TXC_LOG_DEBUG, fmt, ap);
	return 0;
}

struct bpf_map *txc_dp_map(const struct txc_dp *dp, enum txc_map map)
{
	struct txcancel *s = dp->skel;
	struct bpf_map *maps[TXC_MAP_COUNT] = {
		[TXC_MAP_CONFIG] = s->maps.txc_config,
		[TXC_MAP_MARK_RULES] = s->maps.txc_mark_rules,
		[TXC_MAP_SK_TAGS] = s->maps.txc_sk_tags,
		[TXC_MAP_CGROUP_RULES] = s->maps.txc_cgroup_rules,
		[TXC_MAP_FLOW_RULES] = s->maps.txc_flow_rules,
		[TXC_MAP_ID_CANCELS] = s->maps.txc_id_cancels,
		[TXC_MAP_PREFIX_CANCELS] = s->maps.txc_prefix_cancels,
		[TXC_MAP_SOURCE_CANCELS] = s->maps.txc_source_cancels,
		[TXC_MAP_SOURCE_SEQ] = s->maps.txc_source_seq,
		[TXC_MAP_SOURCE_STATS] = s->maps.txc_source_stats,
		[TXC_MAP_IFACES] = s->maps.txc_ifaces,
		[TXC_MAP_RINGS] = s->maps.txc_rings,
		[TXC_MAP_ID_STATS] = s->maps.txc_id_stats,
		[TXC_MAP_LEASE_GENS] = s->maps.txc_lease_gens,
		[TXC_MAP_CGROUP_FILTER] = s->maps.txc_cgroup_filter,
		[TXC_MAP_IFACE_STATS] = s->maps.txc_iface_stats,
	};

	return (unsigned int)map < TXC_MAP_COUNT ? maps[map] : NULL;
}

int txc_dp_map_fd(const struct txc_dp *dp, enum txc_map map)
{
	struct bpf_map *m = txc_dp_map(dp, map);

	return m ? bpf_map__fd(m) : -EINVAL;
}

int txc_dp_prog_fd(const struct txc_dp *dp, enum txc_prog prog)
{
	switch (prog) {
	case TXC_PROG_TC_EGRESS:
		return bpf_program__fd(dp->skel->progs.txc_tc_egress);
	case TXC_PROG_XDP:
		return bpf_program__fd(dp->skel->progs.txc_xdp);
	case TXC_PROG_XDP_DEVMAP:
		return bpf_program__fd(dp->skel->progs.txc_xdp_devmap);
	default:
		return -EINVAL;
	}
}

const char *txc_dp_pin_dir(const struct txc_dp *dp)
{
	return dp->pin_dir;
}

__u32 txc_dp_ring_bytes(const struct txc_dp *dp)
{
	return dp->ring_bytes;
}

int txc_ensure_bpffs(const char *path)
{
	char dir[PATH_MAX];
	struct statfs st;
	char *slash;

	/* Find the closest existing ancestor and see what is mounted there. */
	snprintf(dir, sizeof(dir), "%s", path);
	while (statfs(dir, &st)) {
		int err = -errno;

		if (err == -EACCES || err == -EPERM) {
			txc_log(TXC_LOG_ERROR, "%s: permission denied on %s: the pin directory "
				"and bpffs are root's; run as root (txcancel needs CAP_BPF, "
				"CAP_PERFMON and CAP_NET_ADMIN)\n", path, dir);
			return err;
		}
		if (err != -ENOENT) {
			txc_log(TXC_LOG_ERROR, "%s: reading %s: %s\n", path, dir, strerror(-err));
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
		txc_log(TXC_LOG_ERROR, "%s is not on a bpffs mount: put the pin directory under "
			"/sys/fs/bpf or mount bpffs there ('mount -t bpf bpf <dir>')\n", path);
		return -EINVAL;
	}
	if (mount("bpf", dir, "bpf", 0, "mode=0700")) {
		int err = -errno;

		txc_log(TXC_LOG_ERROR, "mounting bpffs on %s: %s\n", dir, strerror(errno));
		return err;
	}
	txc_log(TXC_LOG_INFO, "mounted bpffs on %s\n", dir);
	return 0;
}

int txc_mkdir_p(const char *path, mode_t mode)
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

static int dp_pin_maps(struct txc_dp *dp)
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
 * The record of which txc_rings slots hold a ring (loader_internal.h).  A
 * txc_rings map reused without that record (an older txcancel pinned it)
 * may hold a ring anywhere: every slot is marked, and the first reset or
 * removal finds out, once.
 */
static int ring_slots_open(struct txc_dp *dp, bool rings_reused)
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
		txc_log(TXC_LOG_WARN, "%s: not a map of this version, replacing it\n", path);
		close(fd);
		unlink(path);
	}
	memset(dp->ring_slots, rings_reused ? 0xff : 0, size);
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, RING_SLOTS_NAME, sizeof(__u32), size, 1, NULL);
	if (fd < 0 || bpf_map_update_elem(fd, &zero, dp->ring_slots, BPF_ANY) ||
	    bpf_obj_pin(fd, path)) {
		int err = -errno;

		txc_log(TXC_LOG_ERROR, "creating the map %s: %s\n", path, strerror(errno));
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
static void *map_mmap(struct txc_dp *dp, enum txc_map map, size_t bytes, size_t *len)
{
	long page = sysconf(_SC_PAGESIZE);
	void *p;

	*len = (bytes + page - 1) / page * page;
	p = mmap(NULL, *len, PROT_READ | PROT_WRITE, MAP_SHARED, txc_dp_map_fd(dp, map), 0);
	if (p == MAP_FAILED) {
		txc_log(TXC_LOG_ERROR, "mapping %s into memory: %s; if an older txcancel pinned "
			"it without BPF_F_MMAPABLE, detach it and remove the pins under %s/maps\n",
			bpf_map__name(txc_dp_map(dp, map)), strerror(errno), dp->pin_dir);
		return NULL;
	}
	return p;
}

static int dp_map_shared(struct txc_dp *dp)
{
	dp->cfg = map_mmap(dp, TXC_MAP_CONFIG, sizeof(*dp->cfg), &dp->cfg_len);
	if (!dp->cfg)
		return -EINVAL;
	dp->gens = map_mmap(dp, TXC_MAP_LEASE_GENS, TXC_GEN_SLOTS * sizeof(__u64), &dp->gens_len);
	if (!dp->gens)
		return -EINVAL;
	dp->cgroup_filter = map_mmap(dp, TXC_MAP_CGROUP_FILTER,
				     TXC_CGROUP_FILTER_WORDS * sizeof(__u64),
				     &dp->cgroup_filter_len);
	return dp->cgroup_filter ? 0 : -EINVAL;
}

static void cgroup_filter_set(struct txc_dp *dp, __u64 cgroup)
{
	__u32 bit = txc_cgroup_filter_bit(cgroup);

	__atomic_fetch_or(&dp->cgroup_filter[bit / 64], 1ull << (bit % 64), __ATOMIC_SEQ_CST);
}

/*
 * Cgroup rules pinned by an instance that had no cgroup filter: set their
 * bits before the programs (with a filter of none) are attached anywhere.
 */
static int cgroup_filter_rebuild(struct txc_dp *dp)
{
	int fd = txc_dp_map_fd(dp, TXC_MAP_CGROUP_RULES);
	__u64 key, *prev = NULL;

	while (!bpf_map_get_next_key(fd, prev, &key)) {
		cgroup_filter_set(dp, key);
		prev = &key;
	}
	return errno == ENOENT ? 0 : -errno;
}

int txc_dp_open(struct txc_dp **out, const struct txc_dp_opts *opts)
{
	const char *pin_dir = opts && opts->pin_dir ? opts->pin_dir : TXC_PIN_DIR_DEFAULT;
	__u32 ring_bytes = opts && opts->ring_bytes ? opts->ring_bytes : TXC_RING_BYTES_DEFAULT;
	__u32 flow_max = opts && opts->flow_rules_max ? opts->flow_rules_max : TXC_FLOW_RULES_MAX;
	char path[PATH_MAX];
	struct txc_dp *dp;
	int template_fd = -1;
	bool rings_reused, filter_pinned;
	int err;

	*out = NULL;
	if (ring_bytes < 4096 || (ring_bytes & (ring_bytes - 1))) {
		txc_log(TXC_LOG_ERROR, "ring size %u: must be a power of 2 of at least 4096 bytes\n",
			ring_bytes);
		return -EINVAL;
	}
	libbpf_set_print(libbpf_print);

	dp = calloc(1, sizeof(*dp));
	if (!dp)
		return -ENOMEM;
	snprintf(dp->pin_dir, sizeof(dp->pin_dir), "%s", pin_dir);
	dp->ring_bytes = ring_bytes;
	dp->ring_slots_fd = -1;
	pthread_mutex_init(&dp->ring_slots_lock, NULL);

	err = txc_ensure_bpffs(dp->pin_dir);
	if (err)
		goto fail;
	snprintf(path, sizeof(path), "%s/maps", dp->pin_dir);
	err = txc_mkdir_p(path, 0700);
	if (!err) {
		snprintf(path, sizeof(path), "%s/links", dp->pin_dir);
		err = txc_mkdir_p(path, 0700);
	}
	if (err) {
		txc_log(TXC_LOG_ERROR, "creating %s: %s\n", path, strerror(-err));
		goto fail;
	}

	/* Whether an earlier instance left a cgroup filter with its rules. */
	snprintf(path, sizeof(path), "%s/maps/txc_cgroup_filter", dp->pin_dir);
	filter_pinned = !access(path, F_OK);
	dp->skel = txcancel__open();
	if (!dp->skel) {
		err = -errno;
		txc_log(TXC_LOG_ERROR, "opening the BPF object: %s\n", strerror(errno));
		goto fail;
	}
	/*
	 * The rings' size is fixed by the outer map's inner template.  libbpf
	 * 1.1 crashes resizing an inner map definition, so hand it a template
	 * ring of the wanted size instead.
	 */
	template_fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "txc_ring_tmpl", 0, 0, ring_bytes, NULL);
	if (template_fd < 0) {
		err = -errno;
		txc_log(TXC_LOG_ERROR, "creating a %u-byte ring: %s%s\n", ring_bytes, strerror(errno),
			errno == EPERM ? ": the kernel refuses bpf() to this process; txcancel "
			"needs CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN (run it as root)" : "");
		goto fail;
	}
	err = bpf_map__set_inner_map_fd(dp->skel->maps.txc_rings, template_fd);
	if (!err)
		err = bpf_map__set_max_entries(dp->skel->maps.txc_flow_rules, flow_max);
	if (!err)
		err = dp_pin_maps(dp);
	/* Loaded on demand, by explain_load(). */
	if (!err)
		err = bpf_program__set_autoload(dp->skel->progs.txc_tc_explain, false);
	if (err) {
		txc_log(TXC_LOG_ERROR, "configuring maps: %s\n", strerror(-err));
		goto fail;
	}
	snprintf(path, sizeof(path), "%s/maps/txc_rings", dp->pin_dir);
	rings_reused = !access(path, F_OK);
	err = txcancel__load(dp->skel);
	if (err) {
		txc_log(TXC_LOG_ERROR, "loading the programs (maps pinned under %s/maps): %s; "
			"if an older txcancel left incompatible maps there, detach it and "
			"remove them\n", dp->pin_dir, strerror(-err));
		goto fail;
	}
	err = ring_slots_open(dp, rings_reused);
	if (err)
		goto fail;
	close(template_fd);
	err = dp_map_shared(dp);
	if (!err && !filter_pinned)
		err = cgroup_filter_rebuild(dp);
	if (err)
		goto fail;
	*out = dp;
	return 0;
fail:
	if (template_fd >= 0)
		close(template_fd);
	txc_dp_close(dp);
	return err;
}

void txc_dp_close(struct txc_dp *dp)
{
	if (!dp)
		return;
	txc_qdisc_close(dp);
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
	free(dp);
}

int txc_dp_unpin(struct txc_dp *dp)
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
		txc_log(TXC_LOG_WARN, "%s is not empty: links are still attached\n", path);
		if (!err)
			err = -ENOTEMPTY;
	}
	if (rmdir(dp->pin_dir) && errno != ENOENT && !err)
		err = -errno;
	return err;
}

/* --- state --------------------------------------------------------------- */

int txc_dp_config_get(struct txc_dp *dp, struct txc_config *cfg)
{
	cfg->mark_mask = __atomic_load_n(&dp->cfg->mark_mask, __ATOMIC_ACQUIRE);
	cfg->lookups = __atomic_load_n(&dp->cfg->lookups, __ATOMIC_ACQUIRE);
	cfg->ring_flags = __atomic_load_n(&dp->cfg->ring_flags, __ATOMIC_ACQUIRE);
	cfg->reserved = 0;
	return 0;
}

int txc_dp_config_set(struct txc_dp *dp, const struct txc_config *cfg)
{
	if (cfg->reserved) {
		txc_log(TXC_LOG_ERROR, "config: reserved fields must be zero\n");
		return -EINVAL;
	}
	if (cfg->ring_flags & ~TXC_RING_F_ALL) {
		txc_log(TXC_LOG_ERROR, "config: unknown ring flags 0x%x (known: 0x%x)\n",
			cfg->ring_flags & ~TXC_RING_F_ALL, TXC_RING_F_ALL);
		return -EINVAL;
	}
	if (cfg->lookups & ~TXC_LOOKUP_ALL) {
		txc_log(TXC_LOG_ERROR, "config: unknown lookup bits 0x%x (known: 0x%x)\n",
			cfg->lookups & ~TXC_LOOKUP_ALL, TXC_LOOKUP_ALL);
		return -EINVAL;
	}
	__atomic_store_n(&dp->cfg->mark_mask, cfg->mark_mask, __ATOMIC_RELEASE);
	__atomic_store_n(&dp->cfg->lookups, cfg->lookups, __ATOMIC_RELEASE);
	__atomic_store_n(&dp->cfg->ring_flags, cfg->ring_flags, __ATOMIC_RELEASE);
	return 0;
}

/*
 * Lookup bits are set and cleared atomically in the mapped config: two
 * processes (or a process and its tests) changing different bits at once
 * both keep theirs, and no bit is rewritten that did not change.
 */
static int config_add_lookups(struct txc_dp *dp, __u32 bits)
{
	__atomic_fetch_or(&dp->cfg->lookups, bits, __ATOMIC_SEQ_CST);
	return 0;
}

static int config_del_lookups(struct txc_dp *dp, __u32 bits)
{
	__atomic_fetch_and(&dp->cfg->lookups, ~bits, __ATOMIC_SEQ_CST);
	return 0;
}

bool txc_dp_lookup_on(const struct txc_dp *dp, __u32 bits)
{
	return __atomic_load_n(&dp->cfg->lookups, __ATOMIC_ACQUIRE) & bits;
}

int txc_dp_set_mark_mask(struct txc_dp *dp, __u32 mask)
{
	__atomic_store_n(&dp->cfg->mark_mask, mask, __ATOMIC_RELEASE);
	return 0;
}

int txc_dp_set_iface_counters(struct txc_dp *dp, bool on)
{
	return on ? config_add_lookups(dp, TXC_LOOKUP_IFACE_STATS) :
		    config_del_lookups(dp, TXC_LOOKUP_IFACE_STATS);
}

int txc_dp_set_ring_wakeup(struct txc_dp *dp, bool wakeup)
{
	if (wakeup)
		__atomic_fetch_and(&dp->cfg->ring_flags, ~TXC_RING_F_NO_WAKEUP, __ATOMIC_SEQ_CST);
	else
		__atomic_fetch_or(&dp->cfg->ring_flags, TXC_RING_F_NO_WAKEUP, __ATOMIC_SEQ_CST);
	return 0;
}

static int tag_table(int kind, enum txc_map *map, __u32 *lookup)
{
	switch (kind) {
	case TXC_TAG_MARK:
		*map = TXC_MAP_MARK_RULES, *lookup = TXC_LOOKUP_MARK;
		return 0;
	case TXC_TAG_SOCKET:
		txc_log(TXC_LOG_ERROR, "socket tags are stored in the socket: "
			"txc_dp_sock_tag() with its fd, not by cookie\n");
		return -EINVAL;
	case TXC_TAG_CGROUP:
		*map = TXC_MAP_CGROUP_RULES, *lookup = TXC_LOOKUP_CGROUP;
		return 0;
	case TXC_TAG_FLOW:
		*map = TXC_MAP_FLOW_RULES, *lookup = TXC_LOOKUP_FLOW;
		return 0;
	default:
		txc_log(TXC_LOG_ERROR, "tag kind %d: must be mark (1), socket (2), cgroup (3) or "
			"flow (4)\n", kind);
		return -EINVAL;
	}
}

static int check_source(__u32 source)
{
	if (source == TXC_SOURCE_NONE || source >= TXC_MAX_SOURCES) {
		txc_log(TXC_LOG_ERROR, "source handle %u: must be 1..%u\n", source,
			TXC_MAX_SOURCES - 1);
		return -EINVAL;
	}
	return 0;
}

static int check_id(__u32 id)
{
	if (!TXC_ID_VALID(id)) {
		txc_log(TXC_LOG_ERROR, "cancel ID 0x%08x: its prefix (high byte) is 0; ID 0 means "
			"untagged and prefix 0 is never allocated\n", id);
		return -EINVAL;
	}
	return 0;
}

int txc_dp_tag_add(struct txc_dp *dp, int kind, const void *key, const struct txc_tag *tag)
{
	enum txc_map map;
	__u32 lookup;
	int err;

	err = tag_table(kind, &map, &lookup);
	if (!err)
		err = check_id(tag->cancel_id);
	if (!err)
		err = check_source(tag->source);
	if (err)
		return err;
	if (kind == TXC_TAG_MARK && *(const __u32 *)key == 0) {
		txc_log(TXC_LOG_ERROR, "mark rule for mark 0: a frame with mark 0 carries no ID\n");
		return -EINVAL;
	}
	if (kind == TXC_TAG_FLOW) {
		const struct txc_flow_key *fk = key;

		if (fk->family != TXC_FAMILY_IPV4 && fk->family != TXC_FAMILY_IPV6) {
			txc_log(TXC_LOG_ERROR, "flow rule: family %u, must be 4 or 6\n",
				fk->family);
			return -EINVAL;
		}
		if (fk->reserved) {
			txc_log(TXC_LOG_ERROR, "flow rule: reserved field must be zero\n");
			return -EINVAL;
		}
	}
	/* The filter says "maybe" before the rule exists: never "none" while it does. */
	if (kind == TXC_TAG_CGROUP)
		cgroup_filter_set(dp, *(const __u64 *)key);
	if (bpf_map_update_elem(txc_dp_map_fd(dp, map), key, tag, BPF_ANY)) {
		err = -errno;
		txc_log(TXC_LOG_ERROR, "adding a tag rule: %s%s\n", strerror(errno),
			errno == E2BIG ? " (the rule table is full)" : "");
		return err;
	}
	/* The rule is in place before its table is looked up: no half state. */
	return config_add_lookups(dp, lookup);
}

int txc_dp_tag_del(struct txc_dp *dp, int kind, const void *key)
{
	enum txc_map map;
	__u32 lookup;
	int err = tag_table(kind, &map, &lookup);

	if (err)
		return err;
	if (bpf_map_delete_elem(txc_dp_map_fd(dp, map), key))
		return -errno;
	return 0;
}

/* --- socket tags ---------------------------------------------------------- */

static __u64 gen_of(const struct txc_dp *dp, __u32 slot)
{
	return __atomic_load_n(&dp->gens[slot], __ATOMIC_ACQUIRE);
}

/* Whether a stored socket tag is in force: a valid ID made under current leases. */
static bool sk_tag_current(const struct txc_dp *dp, const struct txc_sk_tag *st)
{
	return TXC_ID_VALID(st->tag.cancel_id) && st->tag.source != TXC_SOURCE_NONE &&
	       st->tag.source < TXC_MAX_SOURCES &&
	       st->prefix_gen == gen_of(dp, TXC_ID_PREFIX(st->tag.cancel_id)) &&
	       st->source_gen == gen_of(dp, TXC_GEN_SOURCE(st->tag.source));
}

int txc_dp_sock_get(struct txc_dp *dp, int sock_fd, struct txc_sk_tag *st)
{
	if (bpf_map_lookup_elem(txc_dp_map_fd(dp, TXC_MAP_SK_TAGS), &sock_fd, st))
		return -errno;
	return sk_tag_current(dp, st) ? 0 : -ENOENT;
}

int txc_dp_sock_tag(struct txc_dp *dp, int sock_fd, const struct txc_tag *tag)
{
	struct txc_sk_tag st = { .tag = *tag };
	socklen_t len = sizeof(st.cookie);
	int err;

	err = check_id(tag->cancel_id);
	if (!err)
		err = check_source(tag->source);
	if (err)
		return err;
	if (getsockopt(sock_fd, SOL_SOCKET, SO_COOKIE, &st.cookie, &len)) {
		err = -errno;
		txc_log(TXC_LOG_ERROR, "socket tag: reading the cookie of fd %d: %s\n", sock_fd,
			strerror(errno));
		return err;
	}
	st.prefix_gen = gen_of(dp, TXC_ID_PREFIX(tag->cancel_id));
	st.source_gen = gen_of(dp, TXC_GEN_SOURCE(tag->source));
	/* The tag is in the socket before the programs look for one: no half state. */
	if (bpf_map_update_elem(txc_dp_map_fd(dp, TXC_MAP_SK_TAGS), &sock_fd, &st, BPF_ANY)) {
		err = -errno;
		txc_log(TXC_LOG_ERROR, "storing the tag in socket fd %d: %s\n", sock_fd,
			strerror(errno));
		return err;
	}
	return config_add_lookups(dp, TXC_LOOKUP_SOCKET);
}

int txc_dp_sock_untag(struct txc_dp *dp, int sock_fd)
{
	if (bpf_map_delete_elem(txc_dp_map_fd(dp, TXC_MAP_SK_TAGS), &sock_fd))
		return -errno;
	return 0;
}

int txc_dp_lease_end(struct txc_dp *dp, int scope, __u32 value)
{
	__u32 slot;

	if (scope == TXC_SCOPE_PREFIX && value >= TXC_PREFIX_MIN && value <= TXC_PREFIX_MAX)
		slot = value;
	else if (scope == TXC_SCOPE_SOURCE && !check_source(value))
		slot = TXC_GEN_SOURCE(value);
	else
		return -EINVAL;
	__atomic_fetch_add(&dp->gens[slot], 1, __ATOMIC_SEQ_CST);
	return 0;
}

static int cancel_target(int scope, __u32 value, enum txc_map *map)
{
	switch (scope) {
	case TXC_SCOPE_ID:
		*map = TXC_MAP_ID_CANCELS;
		return check_id(value);
	case TXC_SCOPE_PREFIX:
		*map = TXC_MAP_PREFIX_CANCELS;
		if (value < TXC_PREFIX_MIN || value > TXC_PREFIX_MAX) {
			txc_log(TXC_LOG_ERROR, "prefix %u: must be %u..%u\n", value,
				TXC_PREFIX_MIN, TXC_PREFIX_MAX);
			return -EINVAL;
		}
		return 0;
	case TXC_SCOPE_SOURCE:
		*map = TXC_MAP_SOURCE_CANCELS;
		return check_source(value);
	default:
		txc_log(TXC_LOG_ERROR, "cancel scope %d: must be source (1), prefix (2) or "
			"ID (3)\n", scope);
		return -EINVAL;
	}
}

int txc_dp_cancel(struct txc_dp *dp, int scope, __u32 value, __u32 ifindex, __u64 expires_ns)
{
	struct txc_cancel c = { .flags = TXC_CANCEL_F_ACTIVE };
	struct txc_iface iface;
	struct timespec now;
	enum txc_map map;
	int err;

	err = cancel_target(scope, value, &map);
	if (err)
		return err;
	if (!ifindex) {
		c.flags |= TXC_CANCEL_F_ALL_IFACES;
	} else {
		err = txc_iface_get(dp, ifindex, &iface);
		if (err) {
			txc_log(TXC_LOG_ERROR, "cancel on ifindex %u: txcancel is not attached "
				"there\n", ifindex);
			return err;
		}
	}
	c.expires_ns = expires_ns;
	/*
	 * Per-interface cancels add to those already in force for the value.
	 * One element holds one expiry: the later one, "never" winning, so
	 * that no cancel in force ends early.
	 */
	if (ifindex) {
		struct txc_cancel old;

		if (!bpf_map_lookup_elem(txc_dp_map_fd(dp, map), &value, &old) &&
		    (old.flags & TXC_CANCEL_F_ACTIVE)) {
			c = old;
			if (!old.expires_ns || !expires_ns)
				c.expires_ns = 0;
			else if (expires_ns > old.expires_ns)
				c.expires_ns = expires_ns;
		}
		if (!(c.flags & TXC_CANCEL_F_ALL_IFACES))
			c.iface_slots |= 1ULL << iface.slot;
	}
	clock_gettime(CLOCK_MONOTONIC, &now);
	c.since_ns = (__u64)now.tv_sec * 1000000000ull + now.tv_nsec;
	if (bpf_map_update_elem(txc_dp_map_fd(dp, map), &value, &c, BPF_ANY)) {
		err = -errno;
		txc_log(TXC_LOG_ERROR, "cancel of %u: %s\n", value, strerror(errno));
		return err;
	}
	if (scope == TXC_SCOPE_ID)
		err = config_add_lookups(dp, TXC_LOOKUP_ID_CANCELS);
	/* In force at the hook: now what is queued already (no-op without the qdisc). */
	return err ? err : txc_qdisc_purge(dp, scope, value, ifindex, NULL);
}

int txc_dp_clear(struct txc_dp *dp, int scope, __u32 value)
{
	struct txc_cancel none = {};
	enum txc_map map;
	int err = cancel_target(scope, value, &map);

	if (err)
		return err;
	if (scope == TXC_SCOPE_ID) {
		if (bpf_map_delete_elem(txc_dp_map_fd(dp, map), &value) && errno != ENOENT)
			return -errno;
		return 0;
	}
	if (bpf_map_update_elem(txc_dp_map_fd(dp, map), &value, &none, BPF_ANY))
		return -errno;
	return 0;
}

/* Every ID of a batch is checked before any reaches the map. */
static int check_ids(const __u32 *ids, __u32 n)
{
	for (__u32 i = 0; i < n; i++) {
		int err = check_id(ids[i]);

		if (err)
			return err;
	}
	return 0;
}

/*
 * Many ID cancels on every interface in one BPF_MAP_UPDATE_BATCH: the
 * kernel inserts them in one system call instead of one each.  *@done says
 * how many, from the first, are in force when an error is returned.
 */
int txc_dp_cancel_ids(struct txc_dp *dp, const __u32 *ids, const __u64 *expires_ns, __u32 n,
		      __u32 *done)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts, .elem_flags = BPF_ANY);
	struct txc_cancel *vals;
	struct timespec now;
	__u32 count = n, i;
	int err;

	*done = 0;
	err = check_ids(ids, n);
	if (err || !n)
		return err;
	vals = calloc(n, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	clock_gettime(CLOCK_MONOTONIC, &now);
	for (i = 0; i < n; i++) {
		vals[i].flags = TXC_CANCEL_F_ACTIVE | TXC_CANCEL_F_ALL_IFACES;
		vals[i].expires_ns = expires_ns ? expires_ns[i] : 0;
		vals[i].since_ns = (__u64)now.tv_sec * 1000000000ull + now.tv_nsec;
	}
	/* The lookup bit first: a cancel the programs do not look at is not in force. */
	err = config_add_lookups(dp, TXC_LOOKUP_ID_CANCELS);
	if (!err && bpf_map_update_batch(txc_dp_map_fd(dp, TXC_MAP_ID_CANCELS), ids, vals,
					 &count, &opts)) {
		err = -errno;
		txc_log(TXC_LOG_ERROR, "cancel of %u IDs: %s after %u\n", n, strerror(errno),
			count);
	}
	/* The kernel stops its loop with count < n; failing before it, count stays n. */
	*done = !err ? n : count < n ? count : 0;
	free(vals);
	if (*done && dp->qdisc) {
		int perr = txc_qdisc_purge_ids(dp, ids, *done, NULL);

		if (perr && !err)
			err = perr;
	}
	return err;
}

#define WALK_CHUNK	4096	/* elements per BPF_MAP_LOOKUP_BATCH */

int txc_map_walk(int fd, size_t key_size, size_t val_size, txc_map_chunk_fn fn, void *ctx)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	void *keys = malloc(WALK_CHUNK * key_size), *vals = malloc(WALK_CHUNK * val_size);
	__u32 batch, count;
	void *in = NULL;
	int err = keys && vals ? 0 : -ENOMEM;
	bool last = false;

	while (!err && !last) {
		count = WALK_CHUNK;
		/* The end of the map is ENOENT, with the last chunk's elements. */
		last = bpf_map_lookup_batch(fd, in, &batch, keys, vals, &count, &opts) < 0;
		if (last && errno != ENOENT)
			err = -errno;
		else if (count)
			err = fn(ctx, keys, vals, count);
		in = &batch;
	}
	free(keys);
	free(vals);
	return err;
}

int txc_map_delete_keys(int fd, const void *keys, size_t key_size, __u32 n, __u32 *deleted)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u32 i, count;

	*deleted = 0;
	for (i = 0; i < n; i += count) {
		count = n - i;
		if (!bpf_map_delete_batch(fd, (const __u8 *)keys + (size_t)i * key_size, &count,
					  &opts)) {
			*deleted += n - i;
			break;
		}
		/* The kernel stops at a missing key: count what it deleted, skip that one. */
		if (errno != ENOENT || count >= n - i) {
			int err = -errno;

			*deleted += count < n - i ? count : 0;
			return err;
		}
		*deleted += count;
		count++;
	}
	return 0;
}

/* Many ID clears; clearing an ID that has no cancel is no error. */
int txc_dp_clear_ids(struct txc_dp *dp, const __u32 *ids, __u32 n, __u32 *done)
{
	__u32 deleted;
	int err;

	*done = 0;
	err = check_ids(ids, n);
	if (err)
		return err;
	err = txc_map_delete_keys(txc_dp_map_fd(dp, TXC_MAP_ID_CANCELS), ids, sizeof(*ids), n,
				  &deleted);
	if (err) {
		txc_log(TXC_LOG_ERROR, "clear of %u IDs: %s\n", n, strerror(-err));
		return err;
	}
	*done = n;
	return 0;
}

int txc_dp_source_stats(struct txc_dp *dp, __u32 source, struct txc_source_stats *sum)
{
	int ncpus = libbpf_num_possible_cpus();
	struct txc_source_stats *percpu;
	int i, err = 0;

	if (ncpus < 0)
		return ncpus;
	percpu = calloc(ncpus, sizeof(*percpu));
	if (!percpu)
		return -ENOMEM;
	memset(sum, 0, sizeof(*sum));
	if (bpf_map_lookup_elem(txc_dp_map_fd(dp, TXC_MAP_SOURCE_STATS), &source, percpu)) {
		err = -errno;
		goto out;
	}
	for (i = 0; i < ncpus; i++) {
		sum->passed_frames += percpu[i].passed_frames;
		sum->passed_bytes += percpu[i].passed_bytes;
		sum->aborted_frames += percpu[i].aborted_frames;
		sum->aborted_bytes += percpu[i].aborted_bytes;
		sum->lost_reports += percpu[i].lost_reports;
	}
out:
	free(percpu);
	return err;
}

int txc_dp_iface_counters(struct txc_dp *dp, __u32 ifindex, struct txc_iface_stats *sum)
{
	int ncpus = libbpf_num_possible_cpus();
	struct txc_iface_stats *percpu;
	int i, err = 0;

	memset(sum, 0, sizeof(*sum));
	if (ncpus < 0)
		return ncpus;
	percpu = calloc(ncpus, sizeof(*percpu));
	if (!percpu)
		return -ENOMEM;
	if (bpf_map_lookup_elem(txc_dp_map_fd(dp, TXC_MAP_IFACE_STATS), &ifindex, percpu)) {
		err = -errno;
		goto out;
	}
	for (i = 0; i < ncpus; i++) {
		sum->passed_frames += percpu[i].passed_frames;
		sum->passed_bytes += percpu[i].passed_bytes;
		sum->aborted_frames += percpu[i].aborted_frames;
		sum->aborted_bytes += percpu[i].aborted_bytes;
	}
out:
	free(percpu);
	return err;
}

int txc_dp_source_seq(struct txc_dp *dp, __u32 source, __u64 *seq)
{
	if (bpf_map_lookup_elem(txc_dp_map_fd(dp, TXC_MAP_SOURCE_SEQ), &source, seq))
		return -errno;
	return 0;
}

/* --- per-ID counters ----------------------------------------------------- */

static int map_is_empty(int fd)
{
	__u32 key;

	/* Any error but ENOENT counts as "not empty": the bit then stays set. */
	return bpf_map_get_next_key(fd, NULL, &key) && errno == ENOENT;
}

/* How long txc_dp_id_count_start() waits out ENOMEM, in 1 ms steps. */
#define ID_STATS_ENOMEM_TRIES	50

int txc_dp_id_count_try(struct txc_dp *dp, __u32 cancel_id)
{
	struct bpf_map *m = txc_dp_map(dp, TXC_MAP_ID_STATS);
	int ncpus = libbpf_num_possible_cpus();
	struct txc_id_stats *zero;
	int err;

	err = check_id(cancel_id);
	if (err)
		return err;
	if (ncpus < 0)
		return ncpus;
	/* A per-CPU element is written as one value per possible CPU. */
	zero = calloc(ncpus, sizeof(*zero));
	if (!zero)
		return -ENOMEM;
	/*
	 * BPF_NOEXIST: starting twice keeps the counts the ID has.  The table
	 * is not preallocated, and the kernel takes the per-CPU part of a new
	 * element from its per-CPU allocator without sleeping: in a burst of
	 * starts (or beside other users of per-CPU memory) it can run out of
	 * ready pages until its worker adds some, and the update fails with
	 * ENOMEM meanwhile: -EAGAIN, for the caller to try again shortly.
	 */
	if (bpf_map_update_elem(bpf_map__fd(m), &cancel_id, zero, BPF_NOEXIST) && errno != EEXIST)
		err = errno == ENOMEM ? -EAGAIN : -errno;
	free(zero);
	if (err == -E2BIG) {
		txc_log(TXC_LOG_ERROR, "counting ID 0x%08x: the per-ID counter table is full "
			"(%u IDs are counted); stop counting another ID first\n", cancel_id,
			bpf_map__max_entries(m));
		return -ENOSPC;
	}
	if (err == -EAGAIN)
		return err;
	if (err) {
		txc_log(TXC_LOG_ERROR, "counting ID 0x%08x: %s\n", cancel_id, strerror(-err));
		return err;
	}
	/* The element is in place before the programs look it up. */
	return config_add_lookups(dp, TXC_LOOKUP_ID_STATS);
}

int txc_dp_id_count_start(struct txc_dp *dp, __u32 cancel_id)
{
	int err;

	for (int tries = 0;; tries++) {
		err = txc_dp_id_count_try(dp, cancel_id);
		if (err != -EAGAIN || tries == ID_STATS_ENOMEM_TRIES)
			break;
		usleep(1000);
	}
	if (err == -EAGAIN) {
		txc_log(TXC_LOG_ERROR, "counting ID 0x%08x: %s\n", cancel_id, strerror(ENOMEM));
		return -ENOMEM;
	}
	return err;
}

int txc_dp_id_count_stop(struct txc_dp *dp, __u32 cancel_id)
{
	int fd = txc_dp_map_fd(dp, TXC_MAP_ID_STATS);
	int err;

	err = check_id(cancel_id);
	if (err)
		return err;
	if (bpf_map_delete_elem(fd, &cancel_id))
		return -errno;
	/*
	 * abi.h: a lookup bit is cleared only once its table is empty.  Another
	 * process may count an ID between the check and the clear (it adds its
	 * element, then finds the bit still set and leaves it); looking again
	 * after the clear puts the bit back for it.
	 */
	if (!map_is_empty(fd))
		return 0;
	err = config_del_lookups(dp, TXC_LOOKUP_ID_STATS);
	if (!err && !map_is_empty(fd))
		err = config_add_lookups(dp, TXC_LOOKUP_ID_STATS);
	return err;
}

int txc_dp_id_counters(struct txc_dp *dp, __u32 cancel_id, struct txc_id_stats *sum)
{
	int ncpus = libbpf_num_possible_cpus();
	struct txc_id_stats *percpu;
	int i, err;

	memset(sum, 0, sizeof(*sum));
	err = check_id(cancel_id);
	if (err)
		return err;
	if (ncpus < 0)
		return ncpus;
	percpu = calloc(ncpus, sizeof(*percpu));
	if (!percpu)
		return -ENOMEM;
	if (bpf_map_lookup_elem(txc_dp_map_fd(dp, TXC_MAP_ID_STATS), &cancel_id, percpu)) {
		err = -errno;
		goto out;
	}
	for (i = 0; i < ncpus; i++) {
		sum->passed_frames += percpu[i].passed_frames;
		sum->passed_bytes += percpu[i].passed_bytes;
		sum->aborted_frames += percpu[i].aborted_frames;
		sum->aborted_bytes += percpu[i].aborted_bytes;
	}
out:
	free(percpu);
	return err;
}

/* --- explain -------------------------------------------------------------- */

/*
 * The explain program is not loaded with the others: its verification takes
 * about as long as theirs together, and most users of the loader never
 * explain.  The first explain loads a second instance of the object with that
 * program only, handed this instance's maps by fd: it sees the very state the
 * attached programs see, and nothing is created, pinned or reset for it.
 * Only its globals (.bss: the result) are its own.
 */
static int explain_load(struct txc_dp *dp)
{
	struct bpf_map *map, *own = NULL;
	struct bpf_program *prog;
	struct txcancel *ex;
	int err = 0;

	if (dp->explain)
		return 0;
	ex = txcancel__open();
	if (!ex) {
		err = -errno;
		txc_log(TXC_LOG_ERROR, "explain: opening the BPF object: %s\n", strerror(errno));
		return err;
	}
	bpf_object__for_each_program(prog, ex->obj) {
		err = bpf_program__set_autoload(prog, prog == ex->progs.txc_tc_explain);
		if (err)
			goto fail;
	}
	/*
	 * Both objects come from the same ELF: their maps are listed in the
	 * same order.  Pair them by position, not by name: a reused map takes
	 * the kernel's name, cut to 15 characters.
	 */
	bpf_object__for_each_map(map, ex->obj) {
		own = bpf_object__next_map(dp->skel->obj, own);
		if (!own || bpf_map__type(own) != bpf_map__type(map)) {
			err = -EINVAL;
			goto fail;
		}
		if (bpf_map__is_internal(map))
			continue;
		err = bpf_map__reuse_fd(map, bpf_map__fd(own));
		if (err)
			goto fail;
	}
	err = txcancel__load(ex);
	if (err)
		goto fail;
	dp->explain = ex;
	return 0;
fail:
	txc_log(TXC_LOG_ERROR, "explain: loading the explain program on the maps under %s: %s\n",
		dp->pin_dir, strerror(-err));
	txcancel__destroy(ex);
	return err;
}

int txc_dp_explain_prepare(struct txc_dp *dp)
{
	return explain_load(dp);
}

/*
 * The shortest frame the test run takes: for an IPv4 or IPv6 ethertype the
 * kernel wants the whole IP header before it runs the program.
 */
static __u32 explain_min_len(const __u8 *frame)
{
	__u16 proto = frame[12] << 8 | frame[13];

	if (proto == ETH_P_IP)
		return ETH_HLEN + 20;
	if (proto == ETH_P_IPV6)
		return ETH_HLEN + 40;
	return ETH_HLEN;
}

int txc_dp_explain(struct txc_dp *dp, const void *frame, __u32 len, __u32 mark,
		   __u32 ifindex, struct txc_explain_result *out)
{
	struct txc_explain_result *res;
	struct txc_explain_in in = {};
	struct __sk_buff skb = {};
	__u8 padded[ETH_HLEN + 40];
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = len,
		    .ctx_in = &skb, .ctx_size_in = sizeof(skb), .repeat = 1);
	__u32 min;
	int err;

	memset(out, 0, sizeof(*out));
	if (len < ETH_HLEN) {
		txc_log(TXC_LOG_ERROR, "explain: a frame of %u bytes has no whole Ethernet "
			"header (%u bytes)\n", len, ETH_HLEN);
		return -EINVAL;
	}
	err = explain_load(dp);
	if (err)
		return err;
	/* txc_tc_explain writes it into its instance's .bss, mapped here. */
	res = &dp->explain->bss->txc_explain_out;
	min = explain_min_len(frame);
	if (len < min) {
		/* Pad for the kernel; the program cuts the frame back to @len. */
		memset(padded, 0, min);
		memcpy(padded, frame, len);
		opts.data_in = padded;
		opts.data_size_in = min;
		in.len = len;
	}
	if (!ifindex)
		in.flags |= TXC_EXPLAIN_IN_NO_IFACE;
	skb.mark = mark;
	/* The kernel gives the skb this device (lo for 0 and 1). */
	skb.ifindex = ifindex;
	memcpy(skb.cb, &in, sizeof(in));

	memset(res, 0, sizeof(*res));
	if (bpf_prog_test_run_opts(bpf_program__fd(dp->explain->progs.txc_tc_explain), &opts)) {
		err = -errno;
		if (errno == ENODEV)
			txc_log(TXC_LOG_ERROR, "explain: no interface with ifindex %u in this "
				"network namespace\n", ifindex);
		else
			txc_log(TXC_LOG_ERROR, "explain: test run of a %u-byte frame: %s\n",
				len, strerror(errno));
		return err;
	}
	if (!res->verdict) {
		txc_log(TXC_LOG_ERROR, "explain: the program could not cut the padded frame "
			"back to %u bytes\n", len);
		return -EPROTO;
	}
	*out = *res;
	return 0;
}

/* --- rings ---------------------------------------------------------------- */

static bool slot_marked(const struct txc_dp *dp, __u32 source)
{
	return dp->ring_slots[source / 64] & (1ull << (source % 64));
}

/* Mark or unmark @source's slot, pinned before the caller goes on. */
static int slot_mark(struct txc_dp *dp, __u32 source, bool used)
{
	__u64 bit = 1ull << (source % 64);
	__u32 zero = 0;
	int err = 0;

	pthread_mutex_lock(&dp->ring_slots_lock);
	if (!!(dp->ring_slots[source / 64] & bit) != used) {
		dp->ring_slots[source / 64] ^= bit;
		if (bpf_map_update_elem(dp->ring_slots_fd, &zero, dp->ring_slots, BPF_ANY))
			err = -errno;
	}
	pthread_mutex_unlock(&dp->ring_slots_lock);
	if (err)
		txc_log(TXC_LOG_ERROR, "recording the ring slot of source %u: %s\n", source,
			strerror(-err));
	return err;
}

bool txc_dp_ring_slot_used(struct txc_dp *dp, __u32 source)
{
	bool used;

	if (source == TXC_SOURCE_NONE || source >= TXC_MAX_SOURCES)
		return false;
	pthread_mutex_lock(&dp->ring_slots_lock);
	used = slot_marked(dp, source);
	pthread_mutex_unlock(&dp->ring_slots_lock);
	return used;
}

int txc_dp_ring_get(struct txc_dp *dp, __u32 source)
{
	__u32 id;
	int fd, err;

	err = check_source(source);
	if (err)
		return err;
	if (!txc_dp_ring_slot_used(dp, source))
		return -ENOENT;
	/* A ring an earlier instance stored is found by its map id. */
	if (bpf_map_lookup_elem(txc_dp_map_fd(dp, TXC_MAP_RINGS), &source, &id)) {
		err = -errno;
		if (err == -ENOENT)
			slot_mark(dp, source, false);
		return err;
	}
	fd = bpf_map_get_fd_by_id(id);
	return fd < 0 ? -errno : fd;
}

int txc_dp_ring_new(struct txc_dp *dp, __u32 source)
{
	int outer = txc_dp_map_fd(dp, TXC_MAP_RINGS);
	char name[BPF_OBJ_NAME_LEN];
	int fd, err;

	err = check_source(source);
	if (err)
		return err;
	snprintf(name, sizeof(name), "txc_ring_%u", source);
	fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, name, 0, 0, dp->ring_bytes, NULL);
	if (fd < 0) {
		err = -errno;
		txc_log(TXC_LOG_ERROR, "creating the ring of source %u (%u bytes): %s\n", source,
			dp->ring_bytes, strerror(errno));
		return err;
	}
	/* Marked first: a slot that may hold a ring is never left unmarked. */
	err = slot_mark(dp, source, true);
	if (err) {
		close(fd);
		return err;
	}
	/* No lookup first: BPF_ANY replaces whatever the slot held. */
	if (bpf_map_update_elem(outer, &source, &fd, BPF_ANY)) {
		err = -errno;
		txc_log(TXC_LOG_ERROR, "storing the ring of source %u: %s%s\n", source,
			strerror(errno), errno == EINVAL ?
			" (the pinned txc_rings map was made for another ring size)" : "");
		close(fd);
		return err;
	}
	return fd;
}

int txc_dp_ring_open(struct txc_dp *dp, __u32 source)
{
	int fd = txc_dp_ring_get(dp, source);

	return fd == -ENOENT ? txc_dp_ring_new(dp, source) : fd;
}

int txc_dp_ring_remove(struct txc_dp *dp, __u32 source)
{
	int err = check_source(source);

	if (err)
		return err;
	if (!txc_dp_ring_slot_used(dp, source))
		return 0;
	if (bpf_map_delete_elem(txc_dp_map_fd(dp, TXC_MAP_RINGS), &source) && errno != ENOENT)
		return -errno;
	return slot_mark(dp, source, false);
}

static int map_zero_all(int fd, __u32 max_entries, size_t value_size)
{
	void *zero = calloc(1, value_size);
	__u32 i;
	int err = 0;

	if (!zero)
		return -ENOMEM;
	for (i = 0; i < max_entries && !err; i++)
		if (bpf_map_update_elem(fd, &i, zero, BPF_ANY))
			err = -errno;
	free(zero);
	return err;
}

static int map_delete_all(int fd, size_t key_size)
{
	char key[64], next[64];
	void *prev = NULL;

	if (key_size > sizeof(key))
		return -E2BIG;
	/* Restart from the beginning after each delete: iteration is not stable. */
	while (!bpf_map_get_next_key(fd, prev, next)) {
		memcpy(key, next, key_size);
		if (bpf_map_delete_elem(fd, key) && errno != ENOENT)
			return -errno;
	}
	return errno == ENOENT ? 0 : -errno;
}

/* Only the marked slots: each call on txc_rings may wait for a grace period. */
static int rings_remove_all(struct txc_dp *dp)
{
	__u32 source;
	int err;

	for (source = 1; source < TXC_MAX_SOURCES; source++) {
		if (!txc_dp_ring_slot_used(dp, source))
			continue;
		err = txc_dp_ring_remove(dp, source);
		if (err)
			return err;
	}
	return 0;
}

int txc_dp_reset(struct txc_dp *dp)
{
	int ncpus = libbpf_num_possible_cpus();
	static const struct {
		enum txc_map map;
		size_t key_size;
	} hashes[] = {
		{ TXC_MAP_MARK_RULES, sizeof(__u32) },
		{ TXC_MAP_CGROUP_RULES, sizeof(__u64) },
		{ TXC_MAP_FLOW_RULES, sizeof(struct txc_flow_key) },
		{ TXC_MAP_ID_CANCELS, sizeof(__u32) },
		{ TXC_MAP_ID_STATS, sizeof(__u32) },
	};
	static const enum txc_map arrays[] = {
		TXC_MAP_PREFIX_CANCELS, TXC_MAP_SOURCE_CANCELS, TXC_MAP_SOURCE_SEQ,
	};
	struct txc_config none = {};
	struct bpf_map *m;
	size_t i;
	int err = txc_dp_config_set(dp, &none);

	for (i = 0; i < sizeof(hashes) / sizeof(hashes[0]) && !err; i++)
		err = map_delete_all(txc_dp_map_fd(dp, hashes[i].map), hashes[i].key_size);
	for (i = 0; i < sizeof(arrays) / sizeof(arrays[0]) && !err; i++) {
		m = txc_dp_map(dp, arrays[i]);
		err = map_zero_all(bpf_map__fd(m), bpf_map__max_entries(m),
				   bpf_map__value_size(m));
	}
	if (!err) {
		m = txc_dp_map(dp, TXC_MAP_SOURCE_STATS);
		err = map_zero_all(bpf_map__fd(m), bpf_map__max_entries(m),
				   (size_t)ncpus * bpf_map__value_size(m));
	}
	if (!err)
		err = rings_remove_all(dp);
	/* No cgroup rule is left: no cgroup may have one. */
	for (i = 0; i < TXC_CGROUP_FILTER_WORDS && !err; i++)
		__atomic_store_n(&dp->cgroup_filter[i], 0, __ATOMIC_SEQ_CST);
	/* Socket tags are in sockets this process cannot visit: retire them all. */
	for (i = 0; i < TXC_GEN_SLOTS && !err; i++)
		__atomic_fetch_add(&dp->gens[i], 1, __ATOMIC_SEQ_CST);
	return err;
}
