#!/bin/sh
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The daemon's files call only downward (state.h lists the layers): for each
# object of the daemon, which daemon files define the symbols it uses, and
# whether one of them sits in a higher layer than it.  The handler table
# (requests.c) naming its handlers counts as a call.  Exit 1 on a call up.
# Usage: daemon/check_layers.sh [build/daemon] [-v: print the call graph]
set -u
dir=${1:-build/daemon}
verbose=${2:-}
srcdir=$(dirname "$0")

# The objects of today's daemon sources (a build directory may keep others).
objs=
for c in "$srcdir"/*.c; do
	o=$dir/$(basename "$c" .c).o
	if [ ! -f "$o" ]; then
		echo "FAIL $o: not built"
		exit 1
	fi
	objs="$objs $o"
done

# Layer of each file.  The datapath library (dp/) is below all: its objects
# are not in the daemon's directory, so calls into it are not looked at.
layer() {
	case $1 in
	blocks|ringbuf|pinfs|linkwatch|proto_check|rules) echo 1 ;;
	ruleindex|cancelindex|conn) echo 2 ;;
	leases) echo 3 ;;
	release|ringpool|retry|ifaces) echo 4 ;;
	completions) echo 5 ;;
	lease_actions|ringpoll) echo 6 ;;
	requests_perm) echo 7 ;;
	requests_tag) echo 8 ;;
	requests_batch|requests_query) echo 9 ;;
	requests) echo 10 ;;
	server_conn) echo 11 ;;
	server) echo 12 ;;
	config) echo 13 ;;
	txcanceld) echo 14 ;;
	*) echo unknown ;;
	esac
}

defs=$(mktemp) || exit 1
trap 'rm -f "$defs"' EXIT
for o in $objs; do
	nm --defined-only -g "$o" | awk -v f="$(basename "$o" .o)" '{ print $3, f }'
done | sort > "$defs"

status=0
for o in $objs; do
	f=$(basename "$o" .o)
	lf=$(layer "$f")
	if [ "$lf" = unknown ]; then
		echo "FAIL $f: no layer: add it to daemon/check_layers.sh and state.h"
		status=1
		continue
	fi
	callees=$(nm -u "$o" | awk '{ print $2 }' | sort | join - "$defs" | awk '{ print $2 }' |
		  sort -u | grep -v -x "$f" | tr '\n' ' ')
	[ -n "$verbose" ] && echo "$f ($lf): $callees"
	for g in $callees; do
		lg=$(layer "$g")
		if [ "$lg" = unknown ] || [ "$lg" -ge "$lf" ]; then
			echo "FAIL $f (layer $lf) calls $g (layer $lg)"
			status=1
		fi
	done
done
[ $status = 0 ] && echo "ok: every daemon file calls only the layers below it"
exit $status
