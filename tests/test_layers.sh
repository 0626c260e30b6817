#!/bin/sh
# The daemon's files call only downward: daemon/check_layers.sh over the
# daemon's objects in the build directory (a file in no layer fails too).
# Usage: test_layers.sh <source dir> <build dir> [filter]
set -u
# shellcheck disable=SC2034 # read by testlib.sh
TESTLIB_NAME=layers
# shellcheck source=tests/testlib.sh
. "$(dirname "$0")/testlib.sh"
name=daemon_layers
selected "$name" || exit 0

if ! ls "$build"/daemon/*.o >/dev/null 2>&1; then
	fail "$name: no daemon objects in $build/daemon (build first)"
	exit $status
fi
if "$src/daemon/check_layers.sh" "$build/daemon" > "$work/out" 2>&1; then
	echo "PASS $name"
else
	sed 's/^/# /' "$work/out"
	fail "$name: a daemon file calls a layer at or above its own"
fi
exit $status
