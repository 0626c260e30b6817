// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * dp_cost's parts (bench/dp_cost.c): the cases, the tables' sizes, the
 * state of one run and the results every part reads.
 */
#ifndef TXC_BENCH_DP_COST_H
#define TXC_BENCH_DP_COST_H

#include <stdbool.h>
#include <linux/types.h>

#include "benchlib.h"
#include "dp.h"

#define TCX_NEXT_RET	0xffffffffu	/* TCX_NEXT (-1) as test_run's retval */
#define TCX_DROP_RET	2u

#define SOURCE		1u		/* the frames' source */

enum family { V4, V6, NFAM };
enum dp_case { UNTAGGED, TAGGED, CANCELED, NCASES };

extern const char *const fam_name[NFAM];
extern const char *const case_name[NCASES];

/* One table size: flow rules (the frame's own included) and ID cancels. */
struct level {
	__u32 rules;
	__u32 cancels;
};

#define NLEVELS 4

struct frame {
	__u8 data[64];
	struct txc_flow_key key;
};

struct result {
	struct bench_stat value;	/* txcancel, ns/frame */
	struct bench_stat base;		/* empty program, ns/frame */
	double added;			/* median of paired differences */
	double base_samples[BENCH_MAX_SAMPLES];
	int n;
	/* Counters of the case, deltas of the source's and the consumer's. */
	unsigned long long passed, aborted, lost, consumed;
};

struct consumer {
	struct ring_buffer *rb;
	int ring_fd;
	struct bench_loop loop;	/* the thread that drains the ring, if any */
	bool polled;		/* wake-ups off, the thread polls as the daemon does */
	unsigned long long consumed;
};

struct bench {
	struct txdp *dp;
	struct helpers *helpers;
	int tc_fd, empty_fd, flow_fd, cancels_fd;
	struct frame tagged[NFAM], untagged[NFAM];
	__u32 repeat;
	int runs;
	int diag_runs;			/* runs of the drained-between-runs case */
	const struct level *levels;
	__u32 fillers;			/* other flow rules present */
	__u32 filler_cancels;		/* other ID cancels present */
	int own;			/* family whose own rule is present, -1 none */
	struct consumer cons;
};

/* Filled by dp_cost.c's measurements, read by its output (output.c). */
extern struct result res[NLEVELS][NCASES][NFAM];
extern struct result no_rules[NFAM], no_ring[NFAM], between_runs[NFAM], woken[NFAM];
extern struct result captured[NFAM];
extern struct result skb_rules[NFAM], sk_tagged[NFAM], sk_only[NFAM], cg_only[NFAM];
extern struct result stamped[NFAM];

/* The capture length of the capture case: the whole 64-byte frame. */
#define CAPTURE_BYTES	64u

static inline __u32 own_id(int fam)
{
	return TXC_ID_MAKE(5, 1 + fam);
}

/* setup.c */
void build_frame(struct frame *f, int fam, __u16 sport);
int fill_rules(struct bench *b, __u32 want);
int fill_cancels(struct bench *b, __u32 want);
int own_rule(struct bench *b, int fam);

/* output.c */
void emit_d1(struct bench *b);
void emit_d2(struct bench *b);
void emit_d3(struct bench *b);
int write_dat(struct bench *b);

#endif /* TXC_BENCH_DP_COST_H */
