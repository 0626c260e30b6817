// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* What the TC program decides for a frame, under BPF_PROG_TEST_RUN. */
#include <errno.h>
#include <string.h>
#include <linux/if_ether.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "dp.h"
#include "dp_internal.h"
#include "txcancel.skel.h"

/*
 * The explain program is not loaded with the others: its verification takes
 * about as long as theirs together, and most users of the library never
 * explain.  The first explain loads a second instance of the object with that
 * program only, handed this instance's maps by fd: it sees the very state the
 * attached programs see, and nothing is created, pinned or reset for it.
 * Only its globals (.bss: the result) are its own.
 */
static int explain_load(struct txdp *dp)
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
		return txdp_fail(dp, err, "explain: opening the BPF object: %s", strerror(-err));
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
	txcancel__destroy(ex);
	return txdp_fail(dp, err, "explain: loading the explain program on the maps under "
			   "%s: %s", dp->pin_dir, strerror(-err));
}

int txdp_explain_prepare(struct txdp *dp)
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

int txdp_explain(struct txdp *dp, const void *frame, __u32 len, __u32 mark,
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
	txdp_error_clear(dp);
	if (len < ETH_HLEN)
		return txdp_fail(dp, -EINVAL, "explain: a frame of %u bytes has no whole "
				   "Ethernet header (%u bytes)", len, ETH_HLEN);
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
		if (err == -ENODEV)
			return txdp_fail(dp, err, "explain: no interface with ifindex %u in this "
					   "network namespace", ifindex);
		return txdp_fail(dp, err, "explain: test run of a %u-byte frame: %s", len,
				   strerror(-err));
	}
	if (!res->verdict)
		return txdp_fail(dp, -EPROTO, "explain: the program could not cut the padded "
				   "frame back to %u bytes", len);
	*out = *res;
	return 0;
}
