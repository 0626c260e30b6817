#!/bin/sh
# Run every fuzz target of <build>/fuzz (make fuzz-build): first a replay of
# each input checked in under tests/corpus/<target> (seeds and regressions),
# then fuzzing from that corpus with the libFuzzer options given, e.g.
# -runs=200000 (make check) or -max_total_time=600 (make fuzz).  One PASS or
# FAIL line per step, named fuzz/<target>/replay and fuzz/<target>/run.
# New inputs go to <build>/fuzz/<target>.corpus (kept between runs), crashes
# to <build>/fuzz/<target>-crash-*: copy one to tests/corpus/<target>/regress-*
# to keep it replayed.
# Usage: tests/fuzz.sh <build dir> [libFuzzer option...]
set -u
build=${1:-build}
shift
here=$(dirname "$0")
corpus="$here/corpus"
status=0

for bin in "$build"/fuzz/fuzz_*; do
	[ -x "$bin" ] || continue
	target=${bin##*/fuzz_}
	seeds="$corpus/$target"
	log="$build/fuzz/$target.log"
	echo "# fuzz: $target ($bin)"
	if [ ! -d "$seeds" ]; then
		echo "FAIL fuzz/$target/replay: no corpus in $seeds"
		status=1
		continue
	fi

	# Replay: every checked-in input once, as it is.
	n=$(ls "$seeds" | wc -l)
	if "$bin" -timeout=10 "$seeds"/* > "$log" 2>&1; then
		echo "PASS fuzz/$target/replay"
		echo "# fuzz: $target: replayed $n inputs"
	else
		echo "FAIL fuzz/$target/replay: an input of $seeds fails; $log says:"
		grep -m 12 -E 'ERROR|fuzz_|Running:|SUMMARY|#[0-9]+ ' "$log" | sed 's/^/#   /'
		status=1
	fi

	# Fuzz: new inputs into the work corpus, never into the checked-in one.
	mkdir -p "$build/fuzz/$target.corpus"
	start=$(date +%s)
	if "$bin" -timeout=10 -print_final_stats=1 -artifact_prefix="$build/fuzz/$target-" \
		"$@" "$build/fuzz/$target.corpus" "$seeds" > "$log" 2>&1; then
		echo "PASS fuzz/$target/run"
	else
		echo "FAIL fuzz/$target/run: see $log; the input that failed:"
		grep -m 12 -E 'ERROR|fuzz_|SUMMARY|Test unit written' "$log" | sed 's/^/#   /'
		status=1
	fi
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)
	echo "# fuzz: $target: ${runs:-?} executions in $(($(date +%s) - start)) s, $cov"
done
exit $status
