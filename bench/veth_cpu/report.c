// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * veth_cpu's report: E1's rows from every run's sender CPU per frame, each
 * configuration's added cost beside nftables' and within its margin.
 */
#include <math.h>
#include <stdio.h>

#include "veth_cpu.h"

/* Median of the measured values of @v (NaN marks a run without a value). */
static double median_of(const double *v, int n)
{
	double tmp[BENCH_MAX_SAMPLES];
	int i, m = 0;

	for (i = 0; i < n; i++)
		if (isfinite(v[i]))
			tmp[m++] = v[i];
	return bench_stat_of(tmp, m).median;
}

/*
 * How far the median of @n paired differences may be from the truth: twice
 * its standard error, estimated robustly from the median absolute
 * deviation (1.4826 MAD estimates the deviation; the median's error is
 * about 1.25 deviations / sqrt(n)).  Run-to-run noise here is hundreds of
 * ns per frame, as large as the costs measured, so the figure is judged on
 * this margin, not on the median alone.
 */
static double median_margin(const double *v, int n)
{
	double dev[BENCH_MAX_SAMPLES], med = median_of(v, n);
	int i;

	for (i = 0; i < n; i++)
		dev[i] = fabs(v[i] - med);
	return 2 * 1.25 * 1.4826 * median_of(dev, n) / sqrt(n);
}

void emit_added(const struct results *r, const struct params *p, enum cfg c,
		       const char *what, const char *note_extra)
{
	char name[128], hook[320], unresolved[256] = "";
	double added[BENCH_MAX_SAMPLES], added_nft[BENCH_MAX_SAMPLES], base[BENCH_MAX_SAMPLES];
	double added_empty[BENCH_MAX_SAMPLES];
	char note[1536];
	struct bench_row row = {
		.figure = "E1",
		.name = name,
		.unit = "ns/frame",
		.has_baseline = true,
		.baseline_name = "no program: sender CPU per frame",
		.target = "added cost <= 0.5 x nftables' added cost",
		.met = -1,
		.note = note,
	};
	bool resolved;
	int i;

	snprintf(name, sizeof(name), what, p->rules);
	hook[0] = 0;
	for (i = 0; i < p->runs; i++) {
		added[i] = r->thread[c][i] - r->thread[CFG_NONE][i];
		added_nft[i] = r->thread[CFG_NFT][i] - r->thread[CFG_NONE][i];
		added_empty[i] = r->thread[CFG_EMPTY_TC][i] - r->thread[CFG_NONE][i];
		base[i] = r->thread[CFG_NONE][i];
	}
	if (c != CFG_NFT && isfinite(median_of(r->prog[c], p->runs)))
		snprintf(hook, sizeof(hook), "; of which the %s hook itself (an empty program "
			 "there, same subtraction): %.0f ns; program run time per frame from "
			 "bpf_stats (kernel.bpf_stats_enabled was on, not set here; it adds two "
			 "clock reads to every program run): txcancel %.0f ns, empty %.0f ns",
			 r->tcx ? "tcx" : "clsact", bench_stat_of(added_empty, p->runs).median, median_of(r->prog[c], p->runs),
			 median_of(r->prog[CFG_EMPTY_TC], p->runs));
	else if (c != CFG_NFT)
		snprintf(hook, sizeof(hook), "; of which the %s hook itself (an empty program "
			 "there, same subtraction): %.0f ns", r->tcx ? "tcx" : "clsact",
			 bench_stat_of(added_empty, p->runs).median);
	row.value = bench_stat_of(added, p->runs);
	row.baseline = bench_stat_of(base, p->runs);
	if (c != CFG_NFT) {
		double nft_added = bench_stat_of(added_nft, p->runs).median;

		row.has_ratio = true;
		row.ratio_name = "txcancel added / nftables added";
		/*
		 * A difference lost in the noise has no meaningful ratio: the
		 * figure is then "not resolved" (met -1), never met by luck of
		 * a negative median.
		 */
		double nft_margin = median_margin(added_nft, p->runs);
		double margin = median_margin(added, p->runs);

		/*
		 * Met only if txcancel's added cost, at the top of its margin, is
		 * at most half of nftables' (itself resolved above its margin).
		 */
		resolved = nft_added > nft_margin;
		row.ratio = resolved && row.value.median > 0 ? row.value.median / nft_added : NAN;
		row.met = resolved ? row.value.median + margin <= 0.5 * nft_added : -1;
		snprintf(unresolved, sizeof(unresolved), "%smedian %.0f +- %.0f ns, nftables' "
			 "%.0f +- %.0f ns (2 standard errors of the median, from the MAD); ",
			 resolved ? "" : "NOT RESOLVED (nftables' cost is within its margin): ",
			 row.value.median, margin, nft_added, nft_margin);
	}
	snprintf(note, sizeof(note),
		 "%ssender thread CPU (CLOCK_THREAD_CPUTIME_ID) per frame, %s minus no program, "
		 "per run, median of %d runs of %ld frames (64-byte UDP payload, IPv4, veth, "
		 "sendmmsg x%d), configurations interleaved; %d mark rules, nft set of %d marks; "
		 "%s%s; sent/received at the sink: %s %ld/%ld, no program %ld/%ld; "
		 "whole-system busy per frame (/proc/stat, includes other tenants): %.0f vs %.0f ns",
		 unresolved, cfg_name[c], p->runs, p->frames, BATCH, p->rules, p->rules, note_extra,
		 hook, cfg_name[c], r->sent[c], r->received[c], r->sent[CFG_NONE],
		 r->received[CFG_NONE], median_of(r->busy[c], p->runs),
		 median_of(r->busy[CFG_NONE], p->runs));
	bench_emit(&row);
}
