#!/bin/sh
# dist/txcancel-metrics.{service,timer}: make install puts them in the unit
# directory with the tool's path filled in; systemd-analyze verify accepts
# them; and the service's own command, run as systemd would run it, writes
# txcancel.prom for the textfile collector from a live txcanceld (accepted
# by promtool, no temporary file left) and removes it when the daemon does
# not answer.  The daemon runs in a network namespace of its own, with no
# interface: only its API is used.
# Usage: test_metrics_unit.sh <source dir> <build dir> [filter]
set -u
# shellcheck disable=SC2034 # read by testlib.sh
TESTLIB_NAME=metrics
# shellcheck source=tests/testlib.sh
. "$(dirname "$0")/testlib.sh"
name=metrics_unit
selected "$name" || exit 0

pin=/sys/fs/bpf/txct-metrics-$$
daemon=
cleanup() {
	[ -n "$daemon" ] && kill -TERM "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null
	rm -rf "$work"
	[ -d "$pin" ] && rm -rf "$pin"
}
trap cleanup EXIT
root=$work/root
units=$root/usr/lib/systemd/system

if ! MAKEFLAGS='' make -s -C "$src" BUILD="$build" DESTDIR="$root" PREFIX=/usr \
     UNITDIR=/usr/lib/systemd/system install > "$work/log" 2>&1; then
	fail "metrics_unit/install: make install failed:"
	sed 's/^/#   /' "$work/log"
	exit 1
fi
if [ -f "$units/txcancel-metrics.service" ] && [ -f "$units/txcancel-metrics.timer" ] &&
   ! grep -q @BINDIR@ "$units/txcancel-metrics.service" &&
   grep -q "/usr/bin/txcancel stats --prometheus" "$units/txcancel-metrics.service"; then
	echo "PASS metrics_unit/install"
else
	fail "metrics_unit/install: units missing or @BINDIR@ not filled in"
fi

if command -v systemd-analyze >/dev/null; then
	# The tool's path must exist for verify: check the copy with the staged one.
	sed "s|/usr/bin/txcancel|$root/usr/bin/txcancel|" "$units/txcancel-metrics.service" \
		> "$work/txcancel-metrics.service"
	cp "$units/txcancel-metrics.timer" "$work/"
	if systemd-analyze verify "$work/txcancel-metrics.service" \
	   "$work/txcancel-metrics.timer" > "$work/verify" 2>&1 &&
	   ! grep -v -e 'txcanceld.service' "$work/verify" | grep -q .; then
		echo "PASS metrics_unit/verify"
	else
		fail "metrics_unit/verify:"
		sed 's/^/#   /' "$work/verify"
	fi
else
	echo "SKIP metrics_unit/verify: systemd-analyze is not installed"
fi

# ExecStart as systemd passes it to the shell: lines joined, $$ -> $.
cmd=$(sed -n '/^ExecStart=/,/[^\\]$/p' "$units/txcancel-metrics.service" |
	sed -e 's/\\$//' -e 's/^ExecStart=//' | tr '\n' ' ' | sed 's/\$\$/$/g' |
	sed "s|/usr/bin/txcancel|$root/usr/bin/txcancel|")
out=$work/textfile
mkdir -p "$out"

TEXTFILE_DIR=$out TXCANCEL_SOCKET=$work/none.sock sh -c "$cmd" > "$work/run" 2>&1
rc=$?
if [ "$rc" -ne 0 ] && [ -z "$(ls -A "$out")" ]; then
	echo "PASS metrics_unit/no_daemon"
else
	fail "metrics_unit/no_daemon: exit $rc, left: $(ls -A "$out")"
fi

unshare --net "$build/txcanceld" -s "$work/d.sock" -d "$pin" > "$work/daemon" 2>&1 &
daemon=$!
i=0
while [ ! -S "$work/d.sock" ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
touch "$out/txcancel.prom"	# an old file, replaced whole
TEXTFILE_DIR=$out TXCANCEL_SOCKET=$work/d.sock sh -c "$cmd" > "$work/run" 2>&1
rc=$?
if [ "$rc" -eq 0 ] && [ "$(ls -A "$out")" = txcancel.prom ] &&
   grep -q '^txcancel_up 1$' "$out/txcancel.prom" &&
   promtool check metrics < "$out/txcancel.prom" > "$work/promtool" 2>&1; then
	echo "PASS metrics_unit/writes"
else
	fail "metrics_unit/writes: exit $rc, files: $(ls -A "$out")"
	sed 's/^/#   /' "$work/run" "$work/promtool" "$work/daemon" 2>/dev/null
fi
kill -TERM "$daemon" && wait "$daemon"
rc=$?
daemon=
[ "$rc" -eq 0 ] || fail "metrics_unit/daemon_exit: txcanceld exited with $rc"
exit $status
