#!/bin/sh
# No .c file outside tests/ longer than 700 lines, no function in one longer
# than 80 (tools/check_sizes.sh; tables are not functions): the daemon, the
# libraries, the tools, the BPF programs, the benchmarks and the fuzzers.
# Build directories (the one given, and any build* at the top of the tree)
# and hidden directories hold no source.
# Usage: test_sizes.sh <source dir> <build dir> [filter]
set -u
# shellcheck disable=SC2034 # read by testlib.sh
TESTLIB_NAME=sizes
# shellcheck source=tests/testlib.sh
. "$(dirname "$0")/testlib.sh"
name=file_and_function_sizes
selected "$name" || exit 0

find "$src" \( -path "$src/tests" -o -path "$build" -o -path "$src/build*" -o -name '.?*' \) \
	-prune -o -name '*.c' -type f -print | sort > "$work/files"
if ! grep -q '/bench/dp_cost\.c$' "$work/files"; then
	fail "$name: no sources found under $src (bench/dp_cost.c missing)"
elif xargs "$src/tools/check_sizes.sh" < "$work/files" > "$work/out" 2>&1; then
	echo "PASS $name ($(wc -l < "$work/files") files)"
else
	sed 's/^/# /' "$work/out"
	fail "$name: a file or a function is longer than one reads in one sitting"
fi
exit $status
