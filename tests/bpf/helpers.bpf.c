// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Programs the tests run beside txcancel: empty programs (the baseline of
 * the cost measurement) and counters that sit before and after txcancel on
 * the same hook.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "txcancel/abi.h"

#define TC_NEXT		(-1)
#define ETH_P_IP	0x0800

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("tc")
int empty_tc(struct __sk_buff *skb)
{
	return TC_NEXT;
}

SEC("xdp")
int empty_xdp(struct xdp_md *ctx)
{
	return XDP_PASS;
}

/* UDP/IPv4 frames seen per destination port (host order). */
struct udp_counter {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u16);
	__type(value, __u64);
};

struct udp_counter seen_first SEC(".maps");
struct udp_counter seen_last SEC(".maps");

static __always_inline void count_udp(void *map, void *data, void *data_end)
{
	struct ethhdr *eth = data;
	struct iphdr *iph = (void *)(eth + 1);
	struct udphdr *udp = (void *)(iph + 1);
	__u64 one = 1, *n;
	__u16 port;

	if ((void *)(udp + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP) ||
	    iph->ihl != 5 || iph->protocol != IPPROTO_UDP)
		return;
	port = bpf_ntohs(udp->dest);
	n = bpf_map_lookup_elem(map, &port);
	if (n)
		__sync_fetch_and_add(n, 1);
	else
		bpf_map_update_elem(map, &port, &one, BPF_NOEXIST);
}

SEC("tc")
int count_first(struct __sk_buff *skb)
{
	count_udp(&seen_first, (void *)(long)skb->data, (void *)(long)skb->data_end);
	return TC_NEXT;
}

SEC("tc")
int count_last(struct __sk_buff *skb)
{
	count_udp(&seen_last, (void *)(long)skb->data, (void *)(long)skb->data_end);
	return TC_NEXT;
}

/*
 * Socket tags under BPF_PROG_TEST_RUN.  A test run hands the program a
 * dummy socket of its own, made for that run: no user space fd reaches it.
 * These preludes store @dummy_sk_tag in it (in txcancel's txc_sk_tags,
 * which the user shares with this object by fd) on the run's first frame
 * and tail-call txcancel's program (slot 0 of dp_progs) or the empty
 * program (slot 1): the two differ only in what follows the prelude.
 */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct txc_sk_tag);
} dp_sk_tags SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u32);
} dp_progs SEC(".maps");

struct txc_sk_tag dummy_sk_tag;

static __always_inline int tag_dummy_sk_then(struct __sk_buff *skb, __u32 slot)
{
	struct bpf_sock *sk = skb->sk;

	if (sk)
		bpf_sk_storage_get(&dp_sk_tags, sk, &dummy_sk_tag, BPF_SK_STORAGE_GET_F_CREATE);
	bpf_tail_call(skb, &dp_progs, slot);
	return TC_NEXT;
}

SEC("tc")
int sk_tagged_txc(struct __sk_buff *skb)
{
	return tag_dummy_sk_then(skb, 0);
}

SEC("tc")
int sk_tagged_empty(struct __sk_buff *skb)
{
	return tag_dummy_sk_then(skb, 1);
}
