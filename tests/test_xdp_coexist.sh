#!/bin/sh
# txcancel's XDP program beside other XDP programs, through libxdp's
# dispatcher, in native and in generic (skb) mode, on a veth pair between two
# network namespaces this test creates (198.18.70.0/24):
#
#   placed:   txcanceld -i vA0:xdp puts txc_xdp in the dispatcher at priority
#             20 (txcancel status says xdp(dispatcher)), running on the
#             datapath's own maps (the same map ids as the daemon's pins);
#   chain:    xdp-loader adds a program before (priority 10, passes all) and
#             one after (priority 90, drops all): ping from the peer stops,
#             so frames txcancel passes reach the program after it; without
#             the last one ping works again;
#   detach:   txcanceld stops: txc_xdp leaves the dispatcher, the program
#             xdp-loader put before it stays.
#
# Where the kernel cannot run the dispatcher (it refuses freplace programs),
# txcanceld attaches with a link of its own: the test checks that
# `txcancel status` says so and why, and skips the rest with that reason.
# Usage: test_xdp_coexist.sh <source dir> <build dir> [filter]
set -u
# shellcheck disable=SC2034 # read by testlib.sh
TESTLIB_NAME=xdp
# shellcheck source=tests/testlib.sh
. "$(dirname "$0")/testlib.sh"

bpfobj=/usr/lib/x86_64-linux-gnu/bpf
[ -d "$bpfobj" ] || bpfobj=/usr/lib/bpf
pass_all=$bpfobj/xdpfilt_alw_all.o
drop_all=$bpfobj/xdpfilt_dny_all.o
for f in "$pass_all" "$drop_all"; do
	if [ ! -r "$f" ] || ! command -v xdp-loader >/dev/null; then
		echo "FAIL xdp_coexist: xdp-loader or $f missing (package xdp-tools: make deps)"
		exit 1
	fi
done

netns_pair txcx

# In A's network namespace, but with the host's mounts (bpffs): not ip netns exec.
in_a() {
	nsenter --net=/run/netns/"$nsa" "$@"
}

setup() {
	ip netns add "$nsa" && ip netns add "$nsb" &&
	ip -n "$nsa" link add vA0 type veth peer name vB0 netns "$nsb" &&
	ip -n "$nsa" addr add 198.18.70.1/24 dev vA0 &&
	ip -n "$nsb" addr add 198.18.70.2/24 dev vB0 &&
	ip -n "$nsa" link set vA0 up && ip -n "$nsb" link set vB0 up &&
	ip -n "$nsa" link set lo up && ip -n "$nsb" link set lo up
}

# ping from B to A; 0 if it answers.
ping_a() {
	ip netns exec "$nsb" ping -c 1 -W 1 -q 198.18.70.1 >/dev/null 2>&1
}

# One daemon start in @mode (native | skb) and the checks above.
run_mode() {
	mode=$1 lmode=$1
	pin=/sys/fs/bpf/txct-xdp-$$-$mode
	sock=$work/$mode.sock
	# nsenter execs the daemon: $! is the daemon.
	nsenter --net=/run/netns/"$nsa" "$build/txcanceld" -i vA0:xdp --xdp-mode "$mode" \
		-s "$sock" -d "$pin" > "$work/$mode.log" 2>&1 &
	daemon=$!
	i=0
	while [ $i -lt 100 ] && ! "$build/txcancel" -s "$sock" -j status 2>/dev/null |
	      grep -q '"attach":"xdp('; do
		sleep 0.1
		i=$((i + 1))
	done
	st=$("$build/txcancel" -s "$sock" -j status 2>&1)
	case $st in
	*'"attach":"xdp(dispatcher)"'*) ;;
	*'"attach":"xdp(link)"'*)
		reason=$(printf '%s' "$st" | sed -n 's/.*"xdp_link_reason":"\([^"]*\)".*/\1/p')
		if [ -n "$reason" ] &&
		   "$build/txcancel" -s "$sock" status | grep -q "vA0: XDP on a link of its own"; then
			echo "PASS xdp_coexist/$mode/fallback_reason_shown"
		else
			fail "xdp_coexist/$mode/fallback_reason_shown: $st"
		fi
		for t in placed chain detach; do
			echo "SKIP xdp_coexist/$mode/$t: txcancel runs on a link: $reason"
		done
		stop_daemon "$mode"
		return
		;;
	*)
		fail "xdp_coexist/$mode/placed: txcanceld did not attach XDP: $st"
		sed 's/^/#   /' "$work/$mode.log"
		stop_daemon "$mode"
		return
		;;
	esac

	# placed: in the dispatcher, at 20, on the daemon's maps.
	in_a xdp-loader status vA0 > "$work/status" 2>&1
	prog_id=$(awk '$2 == 20 && $3 == "txc_xdp" { print $4 }' "$work/status")
	cfg_id=$(bpftool -j map show pinned "$pin/maps/txc_config" 2>/dev/null |
		 sed -n 's/^{"id":\([0-9]*\),.*/\1/p')
	if [ -n "$prog_id" ] && [ -n "$cfg_id" ] &&
	   bpftool -j prog show id "$prog_id" | grep -q "\"map_ids\":\[[0-9,]*\b$cfg_id\b"; then
		echo "PASS xdp_coexist/$mode/placed"
	else
		fail "xdp_coexist/$mode/placed: txc_xdp at priority 20 on txc_config $cfg_id?"
		sed 's/^/#   /' "$work/status"
	fi

	# chain: before it a program that passes all, after it one that drops all.
	if in_a xdp-loader load -m "$lmode" -P 10 vA0 "$pass_all" > "$work/load" 2>&1 &&
	   in_a xdp-loader load -m "$lmode" -P 90 vA0 "$drop_all" >> "$work/load" 2>&1; then
		in_a xdp-loader status vA0 > "$work/status" 2>&1
		n=$(grep -c -e 'xdpfilt_alw_all' -e 'txc_xdp' -e 'xdpfilt_dny_all' "$work/status")
		dropped=1
		ping_a && dropped=0
		drop_id=$(awk '$3 == "xdpfilt_dny_all" { print $4 }' "$work/status")
		in_a xdp-loader unload -i "$drop_id" vA0 > /dev/null 2>&1
		if [ "$n" -eq 3 ] && [ "$dropped" -eq 1 ] && ping_a; then
			echo "PASS xdp_coexist/$mode/chain"
		else
			fail "xdp_coexist/$mode/chain: $n programs, ping through the last" \
			     "dropped: $dropped, after unloading it:" "$(ping_a && echo works)"
			sed 's/^/#   /' "$work/status"
		fi
	else
		fail "xdp_coexist/$mode/chain: xdp-loader could not add a program:"
		sed 's/^/#   /' "$work/load"
	fi

	# detach: the daemon goes, the program before it stays.
	stop_daemon "$mode"
	in_a xdp-loader status vA0 > "$work/status" 2>&1
	if grep -q xdpfilt_alw_all "$work/status" && ! grep -q txc_xdp "$work/status" &&
	   ping_a; then
		echo "PASS xdp_coexist/$mode/detach"
	else
		fail "xdp_coexist/$mode/detach:"
		sed 's/^/#   /' "$work/status"
	fi
	in_a xdp-loader unload -a vA0 > /dev/null 2>&1
}

stop_daemon() {
	kill -TERM "$daemon" && wait "$daemon"
	rc=$?
	daemon=
	[ "$rc" -eq 0 ] || fail "xdp_coexist/$1/daemon_exit: txcanceld exited with $rc"
}

if ! setup; then
	echo "FAIL xdp_coexist/setup: namespaces and veth pair"
	exit 1
fi
for mode in native skb; do
	selected "xdp_coexist/$mode" && run_mode "$mode"
done
exit $status
