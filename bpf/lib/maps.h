/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The datapath's maps.  Layouts of keys and values are in txcancel/abi.h;
 * the datapath library (dp/) pins every map under <pin dir>/maps/<name>.
 */
#ifndef TXC_BPF_MAPS_H
#define TXC_BPF_MAPS_H

/*
 * Memory-mapped: user space reads and flips its bits in place (atomically),
 * with no system call, and the programs see every store at once.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct txc_config);
} txc_config SEC(".maps");

/* Tag rules: hash maps, looked up in the order of TXC_TAG_* precedence. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TXC_MARK_RULES_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct txc_tag);
} txc_mark_rules SEC(".maps");

/*
 * Socket tags live in the socket (struct txc_sk_tag): stored by user space
 * through the socket's fd, read by the TC program from skb->sk without a
 * hash lookup, and freed by the kernel with the socket.  No table of them
 * can fill up with sockets that are gone.
 */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct txc_sk_tag);
} txc_sk_tags SEC(".maps");

/*
 * Generation of each prefix (index = prefix) and source (index
 * TXC_GEN_SOURCE(source)), bumped when the lease ends: a socket tag made
 * under an earlier generation is not in force.  Memory-mapped for user
 * space, which reads it at each socket tag.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TXC_GEN_SLOTS);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, __u64);
} txc_lease_gens SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TXC_CGROUP_RULES_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u64);
	__type(value, struct txc_tag);
} txc_cgroup_rules SEC(".maps");

/* Which cgroups may have a rule (abi.h); memory-mapped for user space. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TXC_CGROUP_FILTER_WORDS);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, __u64);
} txc_cgroup_filter SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TXC_FLOW_RULES_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct txc_flow_key);
	__type(value, struct txc_tag);
} txc_flow_rules SEC(".maps");

/*
 * Cancel state.  Plain hash and arrays, never LRU: an LRU map could evict a
 * cancel in force.  Prefix and source state are arrays so that their lookup
 * is inlined by the verifier.
 *
 * The ID cancels are preallocated: a cancel or clear then takes an element
 * from the map's free list instead of the kernel's allocator, about three
 * times faster per ID (measured on 6.18: 0.5 against 1.5 us an update, in
 * batches of 1,000), for about 23 MiB held from the start.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TXC_ID_CANCELS_MAX);
	__type(key, __u32);
	__type(value, struct txc_cancel);
} txc_id_cancels SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TXC_NR_PREFIXES);
	__type(key, __u32);
	__type(value, struct txc_cancel);
} txc_prefix_cancels SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TXC_MAX_SOURCES);
	__type(key, __u32);
	__type(value, struct txc_cancel);
} txc_source_cancels SEC(".maps");

/*
 * Next abort sequence number per source.  Kept apart from txc_source_cancels
 * because user space rewrites whole cancel elements, which would race with
 * the programs' atomic increments here.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TXC_MAX_SOURCES);
	__type(key, __u32);
	__type(value, __u64);
} txc_source_seq SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TXC_MAX_SOURCES);
	__type(key, __u32);
	__type(value, struct txc_source_stats);
} txc_source_stats SEC(".maps");

/*
 * Per-ID counters, only for the IDs user space created an element for.
 * Per-CPU values: the programs add without atomics.  Not preallocated: the
 * elements are few and only user space creates them, and a preallocated
 * per-CPU table would cost max_entries x CPUs x 32 bytes up front.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, TXC_ID_STATS_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct txc_id_stats);
} txc_id_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, struct txc_iface);
} txc_ifaces SEC(".maps");

/* Per-interface counters (abi.h); elements only for interfaces txcancel is on. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, struct txc_iface_stats);
} txc_iface_stats SEC(".maps");

/*
 * One ring buffer per source, so that a noisy source cannot push out another
 * one's completions.  User space creates a ring when it opens a source and
 * stores it at the source's index.  Every ring has the template's size.
 */
struct txc_ring {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, TXC_RING_BYTES_DEFAULT);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, TXC_MAX_SOURCES);
	__type(key, __u32);
	__array(values, struct txc_ring);
} txc_rings SEC(".maps");

#endif
