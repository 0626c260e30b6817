#!/bin/sh
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# Run inside a VM guest by matrix.sh: each suite in turn, its result lines
# named after the kernel and the suite ("PASS 6.1/test_netns/basic"), a
# crashed or hung suite a failure of its own, and the time each took.
# Usage: tests/vm/suites.sh BUILD NAME SUITE[:FILTER]...
set -u
build=$1 name=$2
shift 2
ready=$(cut -d' ' -f1 /proc/uptime)
echo "# $name: $(uname -r), up ${ready}s when the suites start"
for s in "$@"; do
	suite=${s%%:*} filter=""
	[ "$suite" = "$s" ] || filter=${s#*:}
	t=$build/tests/$suite
	if [ ! -x "$t" ]; then
		echo "FAIL $name/$suite: $t is not built"
		continue
	fi
	echo "# $name: $suite${filter:+ $filter}"
	start=$(date +%s)
	# shellcheck disable=SC2086
	{ timeout -k 10 "${TXC_SUITE_TIMEOUT:-1800}" "$t" $filter; echo $? > /tmp/suite.rc; } 2>&1 |
		sed -u -E "s#^(PASS|FAIL|SKIP) #\1 $name/$suite/#"
	rc=$(cat /tmp/suite.rc 2>/dev/null)
	[ "${rc:-1}" -le 1 ] || echo "FAIL $name/$suite: exited with status $rc"
	echo "# $name: $suite took $(($(date +%s) - start))s"
done
