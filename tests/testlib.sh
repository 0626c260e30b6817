# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# What the shell tests (tests/test_*.sh) share, sourced after "set -u":
# their arguments, a scratch directory removed at exit, FAIL lines and the
# subtest filter, as testlib.c does for the C tests.
#   TESTLIB_NAME=man; . "$(dirname "$0")/testlib.sh"
# Sets src, build, filter and work (/tmp/txcancel-$TESTLIB_NAME.*); the test
# ends with "exit $status".
src=$1
build=$2
filter=${3:-}
status=0
work=$(mktemp -d "/tmp/txcancel-$TESTLIB_NAME.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT

# A failure is a FAIL line (counted by tests/run.sh) and the exit status.
fail() {
	echo "FAIL $*"
	status=1
}

# Whether the subtest $1 is selected by the filter (a part of its name).
selected() {
	case $1 in *"$filter"*) return 0 ;; esac
	return 1
}

# The two network namespaces of a test that starts the daemon: $1 and this
# shell's pid name them.  Sets nsa and nsb; the test sets daemon to the
# daemon's pid.  At exit the daemon is stopped, the namespaces and the
# scratch directory removed.
netns_pair() {
	nsa=$1-a-$$
	nsb=$1-b-$$
	daemon=
	trap netns_pair_cleanup EXIT
}

netns_pair_cleanup() {
	[ -n "$daemon" ] && kill -TERM "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null
	ip netns del "$nsa" 2>/dev/null
	ip netns del "$nsb" 2>/dev/null
	rm -rf "$work"
}
