#!/bin/sh
# No source file of the daemon, the libraries or the tools longer than 700
# lines, no function in one longer than 80 (tools/check_sizes.sh; tables
# are not functions).  bench/ and fuzz/ are programs that measure and
# probe, not the product: run the script on them by hand.
# Usage: test_sizes.sh <source dir> <build dir> [filter]
set -u
# shellcheck disable=SC2034 # read by testlib.sh
TESTLIB_NAME=sizes
# shellcheck source=tests/testlib.sh
. "$(dirname "$0")/testlib.sh"
name=file_and_function_sizes
selected "$name" || exit 0

if "$src/tools/check_sizes.sh" "$src"/dp/*.c "$src"/daemon/*.c "$src"/lib/*.c \
	"$src"/common/*.c "$src"/tools/*.c > "$work/out" 2>&1; then
	echo "PASS $name"
else
	sed 's/^/# /' "$work/out"
	fail "$name: a file or a function is longer than one reads in one sitting"
fi
exit $status
