// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * veth_cpu's parts (bench/veth_cpu.c): its configurations, its parameters
 * and the results its report (report.c) is made of.
 */
#ifndef TXC_BENCH_VETH_CPU_H
#define TXC_BENCH_VETH_CPU_H

#include <stdbool.h>

#include "benchlib.h"

#define BATCH		32		/* datagrams per sendmmsg */

enum cfg { CFG_NONE, CFG_EMPTY_TC, CFG_TXC, CFG_TXC_CANCELS, CFG_NFT, NCFG };

extern const char *const cfg_name[NCFG];

struct params {
	long frames;		/* per configuration per run */
	int runs;
	int rules;		/* mark rules, and elements of the nft set */
	int cancels;		/* other IDs canceled in CFG_TXC_CANCELS */
};

/* Every run's figures, per configuration. */
struct results {
	double thread[NCFG][BENCH_MAX_SAMPLES];
	double busy[NCFG][BENCH_MAX_SAMPLES];
	double prog[NCFG][BENCH_MAX_SAMPLES];
	long sent[NCFG], received[NCFG];
	int waits[NCFG];
	bool tcx;			/* the TC hook was tcx (else clsact) */
};

/* args.c */
int parse_args(int argc, char **argv, struct params *p);

/* report.c */
void emit_added(const struct results *r, const struct params *p, enum cfg c,
		const char *what, const char *note_extra);

#endif /* TXC_BENCH_VETH_CPU_H */
