#!/bin/sh
# Run every test program and end with one line: "N passed, N failed".
# Usage: tests/run.sh <build dir> [filter]
set -u
build=${1:-build}
filter=${2:-}

if [ "$(id -u)" -ne 0 ]; then
	echo "tests: the datapath tests load BPF programs and create network namespaces;" \
	     "run 'make check' as root" >&2
	echo "0 passed, 1 failed"
	exit 1
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
for t in "$build"/tests/test_*; do
	[ -x "$t" ] || continue
	echo "# $t"
	# A crashed or hung program counts as a failure of its own.
	timeout 600 "$t" $filter | tee -a "$log"
	rc=$?
	if [ $rc -gt 1 ]; then
		echo "FAIL $(basename "$t"): exited with status $rc" | tee -a "$log"
	fi
	[ $rc -eq 0 ] || status=1
done

passed=$(grep -c '^PASS ' "$log")
failed=$(grep -c '^FAIL ' "$log")
skipped=$(grep -c '^SKIP ' "$log")
[ "$skipped" -eq 0 ] || { echo "# skipped:"; grep '^SKIP ' "$log" | sed 's/^/#   /'; }
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && exit $status
exit 1
