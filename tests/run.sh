#!/bin/sh
# Run every test program and end with one line: "N passed, N failed".
#   1. every <build>/tests/test_*;
#   1b. test_e2e again with the daemon in clsact mode (TXCT_TC_MODE=clsact),
#      the mode of kernels before 6.6: lines "PASS clsact/...";
#   2. if <build>/asan holds the sanitized build (make asan), test_proto,
#      test_e2e and test_hostile again against the sanitized daemon and tool: their lines carry
#      the prefix "asan/", and any sanitizer report fails the suite;
#   3. if <build>/fuzz holds the fuzz targets (make fuzz-build), a replay of
#      tests/corpus/<target> and a short run of FUZZ_RUNS executions each;
#   4. if KERNELS names kernels and no filter is given, the suites SUITES in
#      a QEMU guest of each (tests/vm/matrix.sh): lines "PASS <kernel>/<suite>/...".
# Usage: tests/run.sh <build dir> [filter]
set -u
build=${1:-build}
filter=${2:-}
here=$(dirname "$0")

if [ "$(id -u)" -ne 0 ]; then
	echo "tests: the datapath tests load BPF programs and create network namespaces;" \
	     "run 'make check' as root" >&2
	echo "0 passed, 1 failed"
	exit 1
fi

log=$(mktemp)
rcfile=$(mktemp)
trap 'rm -f "$log" "$rcfile"' EXIT
status=0

# Run "$@" with its output in the log; its exit status ends up in $rc.
# (A pipeline's status is tee's: the program's goes through a file.)
run_logged() {
	{ "$@"; echo $? > "$rcfile"; } | tee -a "$log"
	rc=$(cat "$rcfile")
}

for t in "$build"/tests/test_*; do
	[ -x "$t" ] || continue
	echo "# $t"
	# A crashed or hung program counts as a failure of its own.
	run_logged timeout 600 "$t" $filter
	if [ "$rc" -gt 1 ]; then
		echo "FAIL $(basename "$t"): exited with status $rc" | tee -a "$log"
	fi
	[ "$rc" -eq 0 ] || status=1
done

# Kernels before 6.6 have no tcx: test_e2e in their mode, clsact, here too.
if [ -x "$build/tests/test_e2e" ]; then
	echo "# $build/tests/test_e2e with TXCT_TC_MODE=clsact"
	out=$(mktemp)
	TXCT_TC_MODE=clsact timeout 600 "$build/tests/test_e2e" $filter > "$out" 2>&1
	rc=$?
	sed -E 's/^(PASS|FAIL|SKIP) /\1 clsact\//' "$out" | tee -a "$log"
	rm -f "$out"
	if [ "$rc" -gt 1 ]; then
		echo "FAIL clsact/test_e2e: exited with status $rc" | tee -a "$log"
	fi
	[ "$rc" -eq 0 ] || status=1
fi

if [ -d "$build/asan/tests" ]; then
	run_logged "$here/sanitized.sh" "$build/asan" $filter
	[ "$rc" -eq 0 ] || status=1
fi

if [ -d "$build/fuzz" ] && { [ -z "$filter" ] || [ "${filter#fuzz}" != "$filter" ]; }; then
	run_logged "$here/fuzz.sh" "$build" -runs="${FUZZ_RUNS:-200000}"
	[ "$rc" -eq 0 ] || status=1
fi

if [ -n "${KERNELS:-}" ] && [ -z "$filter" ]; then
	run_logged "$here/vm/matrix.sh" --no-total "$build"
	[ "$rc" -eq 0 ] || status=1
fi

passed=$(grep -c '^PASS ' "$log")
failed=$(grep -c '^FAIL ' "$log")
skipped=$(grep -c '^SKIP ' "$log")
[ "$skipped" -eq 0 ] || { echo "# skipped:"; grep '^SKIP ' "$log" | sed 's/^/#   /'; }
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && exit $status
exit 1
