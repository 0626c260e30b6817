#!/bin/sh
# test_proto, test_e2e and test_hostile built with AddressSanitizer + UndefinedBehaviorSanitizer,
# against the daemon and the tool built the same way (make asan).  Lines carry
# the prefix "asan/".  A report by any of them, the test program or a daemon
# or tool it starts (as root or as another uid), fails the suite: every
# process writes its reports to a per-run directory, checked after each suite.
# LeakSanitizer is on: a daemon stopped by SIGTERM must have freed everything
# (one killed with SIGKILL writes no report, which is fine).
# Usage: tests/sanitized.sh <sanitized build dir> [filter]
set -u
san=${1:-build/asan}
filter=${2:-}

case $san in /*) ;; *) san=$(pwd)/$san ;; esac
for f in txcanceld txcancel tests/test_proto tests/test_e2e tests/test_hostile; do
	if [ ! -x "$san/$f" ]; then
		echo "FAIL asan/build: $san/$f is missing: run 'make asan'"
		exit 1
	fi
done
export TXCT_DAEMON="$san/txcanceld" TXCT_TOOL="$san/txcancel"

# Under /tmp and world-writable (sticky): clients run as other uids report too.
reports=$(mktemp -d /tmp/txcancel-sanitizers.XXXXXX) || exit 1
chmod 1777 "$reports"
rcfile=$(mktemp)
trap 'rm -f "$rcfile"' EXIT
status=0

for t in test_proto test_e2e test_hostile; do
	dir="$reports/$t"
	mkdir -m 1777 "$dir"
	echo "# asan: $san/tests/$t (reports in $dir)"
	# halt_on_error: the first report ends the process that made it.
	export ASAN_OPTIONS="log_path=$dir/asan:halt_on_error=1:detect_leaks=1:abort_on_error=0:detect_stack_use_after_return=1"
	export UBSAN_OPTIONS="log_path=$dir/ubsan:halt_on_error=1:print_stacktrace=1"
	export LSAN_OPTIONS="log_path=$dir/lsan"
	start=$(date +%s)
	{ timeout 1200 "$san/tests/$t" $filter; echo $? > "$rcfile"; } |
		sed -u -e 's/^\(PASS\|FAIL\|SKIP\) /\1 asan\//' -e 's/^# \([^:]*\): \([0-9]* passed\)/# asan \1: \2/'
	rc=$(cat "$rcfile")
	if [ "$rc" -gt 1 ]; then
		echo "FAIL asan/$t: exited with status $rc"
	fi
	[ "$rc" -eq 0 ] || status=1
	found=0
	for r in "$dir"/*; do
		[ -e "$r" ] || continue
		found=1
		echo "FAIL asan/$t/sanitizer_report: $r"
		head -n 15 "$r" | sed 's/^/#   /'
	done
	echo "# asan: $t took $(($(date +%s) - start)) s"
	if [ $found -eq 0 ]; then
		echo "PASS asan/$t/no_sanitizer_report"
	else
		status=1
	fi
done

unset ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS
# Reports are kept for reading; a clean run leaves nothing behind.
if [ $status -eq 0 ]; then
	rm -rf "$reports"
else
	echo "# asan: sanitizer reports and logs kept in $reports"
fi
exit $status
