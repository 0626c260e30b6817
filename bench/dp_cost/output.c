// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * dp_cost's output: the rows of D1, D2 and D3 from the results, and the
 * rule-count data file of bench/run.sh's plot.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dp_cost.h"

static void row(const char *figure, const char *name, const struct result *r, bool has_ratio,
		double ratio, const char *ratio_name, const char *target, int met, const char *note)
{
	struct bench_row row = {
		.figure = figure,
		.name = name,
		.unit = "ns/frame",
		.value = r->value,
		.has_baseline = true,
		.baseline_name = "empty TC program",
		.baseline = r->base,
		.has_ratio = has_ratio,
		.ratio = ratio,
		.ratio_name = ratio_name,
		.target = target,
		.met = met,
		.note = note,
	};

	bench_emit(&row);
}

static const char *added_name = "added ns (median of paired txcancel - empty)";

/* A row of where the time goes: the added ns, against no target. */
static void stated_row(const char *figure, const char *name, const struct result *r,
		       const char *note)
{
	row(figure, name, r, true, r->added, added_name, "where the time goes (stated only)",
	    -1, note);
}

/* A D2 row of where the time goes: @r's aborted frames accounted for, then @why. */
static void d2_stated_row(const char *name, const struct result *r, const char *why)
{
	char note[640];

	snprintf(note, sizeof(note), "aborted %llu = %llu consumed + %llu lost; %s",
		 r->aborted, r->consumed, r->lost, why);
	stated_row("D2", name, r, note);
}

/* D1 among the flow rules: the untagged and the tagged frame, and the skb rules. */
static void emit_d1_flow(struct bench *b)
{
	const struct level *l0 = &b->levels[0], *lc = &b->levels[1];
	char name[128], note[512];

	for (int fam = 0; fam < NFAM; fam++) {
		const struct result *r = &res[0][UNTAGGED][fam], *n = &no_rules[fam];

		snprintf(name, sizeof(name), "untagged, %s, %u flow rule (not its own)",
			 fam_name[fam], l0->rules);
		snprintf(note, sizeof(note),
			 "the flow table is looked up and misses; with no rule at all (flow "
			 "lookup off) %.0f ns/frame, +%.1f over the empty program",
			 n->value.median, n->added);
		row("D1", name, r, true, r->added, added_name, "<= baseline + 10 ns",
		    r->added <= 10, note);
	}
	for (int fam = 0; fam < NFAM; fam++) {
		const struct result *r = &res[0][TAGGED][fam], *w = &res[1][TAGGED][fam];

		snprintf(name, sizeof(name), "tagged, %s, %u flow rule, no ID cancel",
			 fam_name[fam], l0->rules);
		snprintf(note, sizeof(note),
			 "%llu frames counted passed; the ID cancel table is not looked up while "
			 "it is empty; with %u other ID cancels in force (a hash miss per frame) "
			 "%.0f ns/frame, +%.1f",
			 r->passed, lc->cancels - 1, w->value.median, w->added);
		row("D1", name, r, true, r->added, added_name, "<= baseline + 10 ns",
		    r->added <= 10, note);
	}
	for (int fam = 0; fam < NFAM; fam++) {
		const struct result *r = &skb_rules[fam];

		snprintf(name, sizeof(name), "untagged, %s, mark, socket and cgroup rules "
			 "(not its own), no flow rule", fam_name[fam]);
		row("D1", name, r, true, r->added, added_name, "<= baseline + 10 ns",
		    r->added <= 10, "mark 0 under the mask (no mark lookup), the socket's "
		    "storage looked up and empty, the frame's cgroup clear in the cgroup filter "
		    "(no hash lookup)");
	}
}

/* D1 for each lookup alone, the socket-tagged and stamped frame, no rule at all. */
static void emit_d1_others(void)
{
	char name[128], note[512];

	for (int fam = 0; fam < NFAM; fam++) {
		for (int only = 0; only < 2; only++) {
			const struct result *r = only ? &cg_only[fam] : &sk_only[fam];

			snprintf(name, sizeof(name), "untagged, %s, only the %s lookup on",
				 fam_name[fam], only ? "cgroup" : "socket");
			stated_row("D1", name, r, only ?
				   "bpf_skb_cgroup_id() and the cgroup filter's bit (clear)" :
				   "bpf_sk_storage_get() on a socket that holds no storage");
		}
	}
	for (int fam = 0; fam < NFAM; fam++) {
		const struct result *r = &sk_tagged[fam];

		snprintf(name, sizeof(name), "socket-tagged, %s, no cancel", fam_name[fam]);
		snprintf(note, sizeof(note),
			 "%llu frames counted passed; the test run's dummy socket is tagged by a "
			 "prelude program that tail-calls txcancel's, and the baseline is the "
			 "same prelude tail-calling the empty program", r->passed);
		row("D1", name, r, true, r->added, added_name, "<= baseline + 10 ns",
		    r->added <= 10, note);
	}
	for (int fam = 0; fam < NFAM; fam++) {
		const struct result *r = &stamped[fam], *t = &res[0][TAGGED][fam];

		snprintf(name, sizeof(name), "tagged, %s, stamped for txcancel's qdisc",
			 fam_name[fam]);
		snprintf(note, sizeof(note),
			 "TXC_LOOKUP_QDISC on, as while some interface runs txcancel's qdisc: "
			 "the tag written to the frame's cb[] for the queue; with it off (no "
			 "qdisc anywhere) %.0f ns/frame, +%.1f", t->value.median, t->added);
		stated_row("D1", name, r, note);
	}
	for (int fam = 0; fam < NFAM; fam++) {
		const struct result *n = &no_rules[fam];

		snprintf(name, sizeof(name), "untagged, %s, no rule (flow lookup off)",
			 fam_name[fam]);
		stated_row("D1", name, n, "only the config lookup and the lookup bits are tested");
	}
}

void emit_d1(struct bench *b)
{
	emit_d1_flow(b);
	emit_d1_others();
}

void emit_d2(struct bench *b)
{
	char name[128], note[640];

	for (int fam = 0; fam < NFAM; fam++) {
		const struct result *r = &res[0][CANCELED][fam];
		const struct result *n = &no_ring[fam], *w = &between_runs[fam];

		snprintf(name, sizeof(name), "canceled, %s, record written, ring drained",
			 fam_name[fam]);
		snprintf(note, sizeof(note),
			 "aborted %llu = %llu records consumed + %llu lost (ring of %u bytes, "
			 "wake-ups off, one consumer thread reading every 250 us and at once "
			 "after a burst, as the daemon does in a flood); "
			 "record written but no reader to wake (drained between runs) %.0f "
			 "ns/frame, +%.1f; no ring (record counted lost, not written) %.0f "
			 "ns/frame, +%.1f",
			 r->aborted, r->consumed, r->lost, txdp_ring_bytes(b->dp),
			 w->value.median, w->added, n->value.median, n->added);
		row("D2", name, r, true, r->added, added_name, "<= baseline + 40 ns",
		    r->added <= 40, note);
	}
	for (int fam = 0; fam < NFAM; fam++) {
		const struct result *w = &between_runs[fam];

		snprintf(name, sizeof(name), "canceled, %s, record written, no wakeup "
			 "(drained between runs of %llu)", fam_name[fam],
			 w->aborted / (w->n ? w->n : 1));
		d2_stated_row(name, w, "only the first record of a run finds the reader "
			      "caught up and wakes it");
	}
	for (int fam = 0; fam < NFAM; fam++) {
		const struct result *w = &woken[fam];

		snprintf(name, sizeof(name), "canceled, %s, reader woken per record "
			 "(wake-ups on, as while aborts are few)", fam_name[fam]);
		d2_stated_row(name, w, "the kernel wakes the reader whenever it has caught up: "
			      "nearly every record");
	}
	for (int fam = 0; fam < NFAM; fam++) {
		const struct result *cp = &captured[fam];

		snprintf(name, sizeof(name), "canceled, %s, record with the frame's %u bytes "
			 "(capture on)", fam_name[fam], CAPTURE_BYTES);
		d2_stated_row(name, cp, "a version 2 record, built in a per-CPU buffer and "
			      "copied to the ring (bpf_ringbuf_output), read as in the "
			      "ring-drained case");
	}
	for (int fam = 0; fam < NFAM; fam++) {
		const struct result *n = &no_ring[fam];

		snprintf(name, sizeof(name), "canceled, %s, no ring (record lost, not written)",
			 fam_name[fam]);
		snprintf(note, sizeof(note), "aborted %llu = 0 consumed + %llu lost",
			 n->aborted, n->lost);
		stated_row("D2", name, n, note);
	}
}

void emit_d3(struct bench *b)
{
	const struct level *top = &b->levels[NLEVELS - 1];
	char name[160], note[512];

	for (int c = 0; c < NCASES; c++)
		for (int fam = 0; fam < NFAM; fam++) {
			const struct result *lo = &res[1][c][fam], *hi = &res[NLEVELS - 1][c][fam];
			double ratio = hi->value.median / lo->value.median;
			int len;

			snprintf(name, sizeof(name), "%s, %s, %u flow rules, %u ID cancels",
				 case_name[c], fam_name[fam], top->rules, top->cancels - 1 +
				 (c == CANCELED));
			len = snprintf(note, sizeof(note), "ns/frame (added over the empty program):");
			for (int l = 1; l < NLEVELS && len < (int)sizeof(note); l++)
				len += snprintf(note + len, sizeof(note) - len, "%s %u rules %.0f (+%.1f)",
						l > 1 ? ";" : "", b->levels[l].rules,
						res[l][c][fam].value.median, res[l][c][fam].added);
			if (c == CANCELED && len < (int)sizeof(note))
				snprintf(note + len, sizeof(note) - len,
					 "; at %u rules aborted %llu = %llu consumed + %llu lost",
					 top->rules, hi->aborted, hi->consumed, hi->lost);
			row("D3", name, hi, true, ratio,
			    "ns/frame at the most rules / at 1 rule (same cancels)",
			    "flat within 2x from 1 to 1M rules", ratio <= 2, note);
		}
}

/* Rule count vs ns/frame, one column per case, for bench/run.sh's plot. */
int write_dat(struct bench *b)
{
	char path[512];
	FILE *f;

	bench_out_path("dp_rules.dat", path, sizeof(path));
	f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "dp_cost: %s: %s\n", path, strerror(errno));
		return -errno;
	}
	fprintf(f, "# BPF_PROG_TEST_RUN ns/frame (medians), %u ID cancels in force\n"
		"# rules empty_program untagged_v4 untagged_v6 tagged_v4 tagged_v6 "
		"canceled_v4 canceled_v6\n", b->levels[1].cancels);
	for (int l = 1; l < NLEVELS; l++) {
		double pool[NCASES * NFAM * BENCH_MAX_SAMPLES];
		int n = 0;

		/* The baseline of a level: every empty-program run made at that level. */
		for (int c = 0; c < NCASES; c++)
			for (int fam = 0; fam < NFAM; fam++)
				for (int i = 0; i < res[l][c][fam].n; i++)
					pool[n++] = res[l][c][fam].base_samples[i];
		fprintf(f, "%u %.1f", b->levels[l].rules, bench_stat_of(pool, n).median);
		for (int c = 0; c < NCASES; c++)
			for (int fam = 0; fam < NFAM; fam++)
				fprintf(f, " %.1f", res[l][c][fam].value.median);
		fputc('\n', f);
	}
	if (fclose(f)) {
		fprintf(stderr, "dp_cost: writing %s: %s\n", path, strerror(errno));
		return -errno;
	}
	fprintf(stderr, "dp_cost: wrote %s\n", path);
	return 0;
}
