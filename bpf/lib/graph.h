/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Kernel interfaces txcancel's qdisc uses that libbpf 1.1's headers do not
 * declare: allocated objects, BPF linked lists, the qdisc kfuncs (Linux
 * 6.16+, CONFIG_NET_SCH_BPF) and the may_goto loop bound.  Needs clang 18
 * or later: the kptr type tag and may_goto.
 */
#ifndef TXC_BPF_GRAPH_H
#define TXC_BPF_GRAPH_H

/* The node type a list head holds (the verifier reads it from BTF). */
#define __contains(type, member) \
	__attribute__((btf_decl_tag("contains:" #type ":" #member)))

extern void *bpf_obj_new_impl(__u64 local_type_id, void *meta) __ksym;
extern void bpf_obj_drop_impl(void *kptr, void *meta) __ksym;
extern int bpf_list_push_back_impl(struct bpf_list_head *head, struct bpf_list_node *node,
				   void *meta, __u64 off) __ksym;
extern struct bpf_list_node *bpf_list_pop_front(struct bpf_list_head *head) __ksym;

/* bpf_core_type_id_local() also keeps the node type in the object's BTF. */
#define bpf_obj_new(type) ((type *)bpf_obj_new_impl(bpf_core_type_id_local(type), NULL))
#define bpf_obj_drop(kptr) bpf_obj_drop_impl(kptr, NULL)
#define bpf_list_push_back(head, node) bpf_list_push_back_impl(head, node, NULL, 0)

/* Qdisc kfuncs (net/sched/bpf_qdisc.c). */
/*
 * The kernel's struct bpf_sk_buff_ptr, under a name of our own: kernels
 * without the BPF qdisc (whose BTF vmlinux.h may come from) lack it, and
 * libbpf matches a kfunc's argument types by kind, not by name.
 */
struct bpf_sk_buff_ptr___txc {
	struct sk_buff *skb;
};
extern void bpf_kfree_skb(struct sk_buff *skb) __ksym;
extern void bpf_qdisc_skb_drop(struct sk_buff *skb, struct bpf_sk_buff_ptr___txc *to_free) __ksym;
extern void bpf_qdisc_watchdog_schedule(struct Qdisc *sch, __u64 expire, __u64 delta_ns) __ksym;
extern void bpf_qdisc_bstats_update(struct Qdisc *sch, const struct sk_buff *skb) __ksym;
extern int bpf_dynptr_from_skb(struct __sk_buff *skb, __u64 flags,
			       struct bpf_dynptr *ptr__uninit) __ksym;

/*
 * True until the verifier's loop budget runs out (may_goto): a loop whose
 * count only the data bounds (the queue's length) passes the verifier
 * without being unrolled.
 */
#define can_loop							\
	({ __label__ l_break, l_continue;				\
	   int ___ok = 1;						\
	   asm volatile goto("may_goto %l[l_break]" :::: l_break);	\
	   goto l_continue;						\
	l_break: ___ok = 0;						\
	l_continue:;							\
	   ___ok; })

#define NET_XMIT_SUCCESS	0x00
#define NET_XMIT_DROP		0x01
#define TC_H_ROOT		0xFFFFFFFFu
#define NSEC_PER_SEC		1000000000ull

#endif
