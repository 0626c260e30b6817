#!/bin/sh
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# Run every benchmark program, gather its result rows into one JSON document,
# print the table and draw the plots.  See bench/README.md.
#
#   bench/run.sh [--quick] BUILD      run BUILD/bench/* (every executable)
#   bench/run.sh --markdown FILE.json print FILE.json's table as Markdown
#
# Full mode writes BUILD/bench.json, BUILD/bench-dp-rules.png and
# BUILD/bench-cancel-latency.png, with the programs' data files in
# BUILD/bench; quick mode (small counts, seconds) writes BUILD/bench-quick.json
# and the same plots into BUILD/bench-quick.  A program that fails (or runs
# past its time limit) is reported and the run goes on; the exit status is
# non-zero if any program or plot failed.  Nothing here judges a time.
set -u

here=$(dirname "$0")
usage() {
	echo "usage: $0 [--quick] BUILD | $0 --markdown FILE.json" >&2
	exit 2
}

quick=0
case "${1:-}" in
--markdown)
	[ $# -eq 2 ] || usage
	[ -r "$2" ] || { echo "bench: cannot read $2" >&2; exit 1; }
	exec awk -v markdown=1 -f "$here/table.awk" "$2"
	;;
--quick)
	quick=1
	shift
	;;
esac
[ $# -eq 1 ] || usage
build=$1
[ -d "$build/bench" ] || { echo "bench: no $build/bench: build first (make all)" >&2; exit 1; }

if [ $quick -eq 1 ]; then
	out=$build/bench-quick
	json=$build/bench-quick.json
	plots=$out
	limit=300
	args=--quick
else
	out=$build/bench
	json=$build/bench.json
	plots=$build
	limit=900
	args=
fi
mkdir -p "$out" || exit 1
dp_png=$plots/bench-dp-rules.png
lat_png=$plots/bench-cancel-latency.png
# Nothing of an earlier run may pass for this run's output.
rm -f "$json" "$dp_png" "$lat_png" "$out"/*.dat

# kernel.bpf_stats_enabled makes every BPF program run read the clock twice
# more: off for the measurements (they would carry its cost), restored after.
stats_sysctl=/proc/sys/kernel/bpf_stats_enabled
bpf_stats=$(cat "$stats_sysctl" 2>/dev/null || echo 0)
restore_stats() {
	[ "$bpf_stats" = 0 ] || echo "$bpf_stats" > "$stats_sysctl" 2>/dev/null || true
}
if [ "$bpf_stats" != 0 ]; then
	if echo 0 > "$stats_sysctl" 2>/dev/null; then
		echo "bench: kernel.bpf_stats_enabled was $bpf_stats: 0 while measuring" >&2
	else
		echo "bench: kernel.bpf_stats_enabled is $bpf_stats and cannot be turned off:" \
		     "every program run carries its cost" >&2
	fi
fi

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"; restore_stats' EXIT
trap 'exit 130' INT TERM HUP
: > "$tmp/rows"
: > "$tmp/failures"
status=0

export TXC_BENCH_OUT="$out"
export TXC_BENCH_QUICK=$quick

for prog in "$build"/bench/*; do
	[ -f "$prog" ] && [ -x "$prog" ] || continue
	name=$(basename "$prog")
	echo "bench: $name${args:+ $args}" >&2
	# shellcheck disable=SC2086
	timeout -k 10 $limit "$prog" $args > "$tmp/out"
	rc=$?
	grep '^{"figure":' "$tmp/out" >> "$tmp/rows"
	grep -v '^{"figure":' "$tmp/out" | sed "s/^/bench: $name (stdout, not a row): /" >&2
	if [ $rc -ne 0 ]; then
		[ $rc -eq 124 ] && why="ran past $limit s" || why="exit status $rc"
		echo "bench: FAILED $name: $why" >&2
		printf '%s\t%s\n' "$name" "$rc" >> "$tmp/failures"
		status=1
	fi
done

# The document: run facts, failed programs, then one row per line.
{
	printf '{"date":"%s","kernel":"%s","cpus":%s,"quick":%s,"bpf_stats_enabled":%s,\n' \
		"$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(uname -r)" "$(nproc)" \
		"$([ $quick -eq 1 ] && echo true || echo false)" "$(cat "$stats_sysctl" 2>/dev/null || echo null)"
	printf '"failures":['
	awk -F '\t' '{ printf "%s{\"program\":\"%s\",\"status\":%d}", (NR > 1 ? "," : ""), $1, $2 }' \
		"$tmp/failures"
	printf '],\n"results":[\n'
	awk 'NR > 1 { print prev "," } { prev = $0 } END { if (NR) print prev }' "$tmp/rows"
	printf ']}\n'
} > "$json"

awk -f "$here/table.awk" "$tmp/rows"
echo
echo "bench: results in $json"

# After gnuplot: its exit status $1 and the PNG $2 it should have written.
plot_drawn() {
	if [ "$1" -ne 0 ] || [ ! -s "$2" ]; then
		echo "bench: FAILED drawing $2" >&2
		status=1
	else
		echo "bench: plot $2"
	fi
}

# Datapath cost vs number of tag rules (written by dp_cost).
dat=$out/dp_rules.dat
if [ -s "$dat" ]; then
	cancels=$(sed -n 's/.*medians), \([0-9]*\) ID cancels.*/\1/p' "$dat")
	gnuplot <<-EOF
	set terminal pngcairo size 960,600 noenhanced
	set output '$dp_png'
	set title 'txcancel TC program, BPF_PROG_TEST_RUN, 64-byte UDP frames'
	set logscale x
	set xlabel 'flow rules (and $cancels ID cancels in force)'
	set ylabel 'ns per frame (median)'
	set yrange [0:*]
	set key outside right top
	set grid
	plot '$dat' using 1:2 with linespoints dashtype 2 linecolor rgb 'black' title 'empty TC program', \
	     '' using 1:3 with linespoints title 'untagged IPv4', \
	     '' using 1:4 with linespoints title 'untagged IPv6', \
	     '' using 1:5 with linespoints title 'tagged IPv4', \
	     '' using 1:6 with linespoints title 'tagged IPv6', \
	     '' using 1:7 with linespoints title 'canceled IPv4', \
	     '' using 1:8 with linespoints title 'canceled IPv6'
	EOF
	plot_drawn $? "$dp_png"
else
	echo "bench: no $dat (dp_cost did not write it): no datapath plot"
fi

# Distribution of cancel latencies (written by the C1 program): empirical CDFs.
txc=$out/c1_txcancel_us.dat
nft=$out/c1_nft_us.dat
if [ -s "$txc" ] && [ -s "$nft" ]; then
	for f in txcancel nft; do
		sort -g "$out/c1_${f}_us.dat" |
			awk '{ v[NR] = $1 } END { for (i = 1; i <= NR; i++) print v[i], i / NR }' \
			> "$tmp/cdf_$f"
	done
	gnuplot <<-EOF
	set terminal pngcairo size 960,600 noenhanced
	set output '$lat_png'
	set title 'cancel latency: request sent -> first frame of that ID dropped'
	set logscale x
	set xlabel 'latency (microseconds)'
	set ylabel 'fraction of cancels at or below'
	set yrange [0:1]
	set key right bottom
	set grid
	plot '$tmp/cdf_txcancel' using 1:2 with lines linewidth 2 title 'txcancel', \
	     '$tmp/cdf_nft' using 1:2 with lines linewidth 2 title 'nft add element'
	EOF
	plot_drawn $? "$lat_png"
else
	echo "bench: no $txc or $nft (the C1 program did not write them): no latency plot"
fi

if [ -s "$tmp/failures" ]; then
	echo "bench: failed programs:" >&2
	awk -F '\t' '{ print "  " $1 ": exit status " $2 }' "$tmp/failures" >&2
fi
exit $status
