// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * veth_cpu's command line: --quick, --frames, --runs, --rules.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include <txcancel/abi.h>

#include "veth_cpu.h"

static int parse_count(const char *opt, const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 0);
	if (errno || end == s || *end || v < min || v > max) {
		fprintf(stderr, "veth_cpu: --%s '%s': expected a number %ld..%ld\n", opt, s, min,
			max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

int parse_args(int argc, char **argv, struct params *p)
{
	static const struct option opts[] = {
		{ "quick", no_argument, NULL, 'q' },
		{ "frames", required_argument, NULL, 'f' },
		{ "runs", required_argument, NULL, 'r' },
		{ "rules", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	bool quick = bench_quick(argc, argv);
	long v;
	int o;

	*p = (struct params){
		/*
		 * Full: 2,000,000 frames per configuration in 20 interleaved runs.
		 * On a shared VM the drift from one run to the next is the larger
		 * error, so many short runs, each paired with its own baseline,
		 * beat a few long ones.  5 x 20 x 100,000 frames at ~4 us of CPU
		 * each is ~40 s.
		 */
		.frames = quick ? 20000 : 100000,
		.runs = quick ? 3 : 20,
		.rules = 10000,
		.cancels = 1000,
	};
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'q':
			break;
		case 'f':
			if (parse_count("frames", optarg, 1000, 100000000, &v))
				return -EINVAL;
			p->frames = v;
			break;
		case 'r':
			if (parse_count("runs", optarg, 1, BENCH_MAX_SAMPLES, &v))
				return -EINVAL;
			p->runs = (int)v;
			break;
		case 'n':
			if (parse_count("rules", optarg, 2, TXC_MARK_RULES_MAX, &v))
				return -EINVAL;
			p->rules = (int)v;
			break;
		default:
			fprintf(stderr, "usage: veth_cpu [--quick] [--frames N] [--runs N] "
				"[--rules N]\n");
			return -EINVAL;
		}
	}
	if (p->cancels > p->rules - 1)
		p->cancels = p->rules - 1;
	return 0;
}
