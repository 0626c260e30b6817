#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# make demo: txcanceld on a throwaway two-namespace testbed.  A client
# program sends three tagged UDP streams; the txcancel tool cancels one of
# them mid-stream and clears it again; the table shows, per stream and per
# phase, what was sent, what reached the receiver, and the abort completions
# the owning client received.  Everything it creates is removed at the end,
# also on failure.
#
# Usage: tools/demo.sh <build dir>
set -euo pipefail

build=${1:-build}
tag=$$
ns_a="txc-demo-a-$tag"
ns_b="txc-demo-b-$tag"
pins="/sys/fs/bpf/txc-demo-$tag"
work=$(mktemp -d)
sock="$work/txcanceld.sock"
daemon_pid=
ports=(5001 5002 5003)

txcancel() { "$build/txcancel" -s "$sock" "$@"; }
in_a() { ip netns exec "$ns_a" "$@"; }
delivered() { ip netns exec "$ns_b" nft list counter inet txcdemo "g$1" |
	      sed -n 's/.*packets \([0-9]*\).*/\1/p'; }

cleanup() {
	set +e
	[ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null
	jobs -p | xargs -r kill 2>/dev/null
	wait 2>/dev/null
	ip netns del "$ns_a" 2>/dev/null
	ip netns del "$ns_b" 2>/dev/null
	# Only a daemon that died leaves pins; remove them so nothing stays behind.
	[ -d "$pins" ] && rm -rf "$pins"
	[ -n "${TXC_DEMO_KEEP:-}" ] && echo "demo: kept $work" || rm -rf "$work"
}
trap cleanup EXIT

[ "$(id -u)" -eq 0 ] || { echo "demo: needs root (BPF and network namespaces)" >&2; exit 1; }

echo "== testbed: $ns_a (198.18.0.1) <-veth-> $ns_b (198.18.0.2)"
ip netns add "$ns_a"
ip netns add "$ns_b"
ip link add txc-a netns "$ns_a" type veth peer name txc-b netns "$ns_b"
ip -n "$ns_a" addr add 198.18.0.1/24 dev txc-a
ip -n "$ns_b" addr add 198.18.0.2/24 dev txc-b
for ns in "$ns_a" "$ns_b"; do ip -n "$ns" link set lo up; done
ip -n "$ns_a" link set txc-a up
ip -n "$ns_b" link set txc-b up
# The receiver counts each stream's datagrams and drops them (no ICMP back).
ip netns exec "$ns_b" nft -f - <<EOF
table inet txcdemo {
	counter g0 {}
	counter g1 {}
	counter g2 {}
	chain input {
		type filter hook input priority 0;
		udp dport ${ports[0]} counter name g0 drop
		udp dport ${ports[1]} counter name g1 drop
		udp dport ${ports[2]} counter name g2 drop
	}
}
EOF

echo "== txcanceld on txc-a (socket $sock, pins $pins)"
# Only the network namespace: `ip netns exec` would also give the daemon a
# mount namespace of its own with a fresh /sys, whose bpffs (and with it every
# pinned link, lease and cancel) dies with the daemon; txcanceld refuses that.
nsenter --net="/run/netns/$ns_a" "$build/txcanceld" -i txc-a -s "$sock" -d "$pins" \
	>"$work/daemon.log" 2>&1 &
daemon_pid=$!
for _ in $(seq 50); do
	txcancel hello >/dev/null 2>&1 && break
	kill -0 "$daemon_pid" 2>/dev/null || { cat "$work/daemon.log" >&2; exit 1; }
	sleep 0.1
done
txcancel status | sed 's/^/   /'

echo "== demo-client: three UDP streams, 50 datagrams/s each for 9 s, each socket its own ID"
in_a "$build/tools/demo-client" -s "$sock" -g 3 -r 50 -t 9 198.18.0.2 "${ports[0]}" \
	>"$work/client.out" 2>&1 &
client_pid=$!
for _ in $(seq 50); do
	[ "$(grep -c '^group ' "$work/client.out")" -eq 3 ] && break
	sleep 0.1
done
grep '^group ' "$work/client.out" >/dev/null || { cat "$work/client.out" >&2; exit 1; }
mapfile -t ids < <(awk '/^group /{print $4}' "$work/client.out")
source=$(awk '/^group 0 /{print $6}' "$work/client.out")
sed 's/^/   /' "$work/client.out"
canceled=${ids[1]}
# An observer (root may watch any source): the first completions, as they arrive.
txcancel watch -c 3 -t 8 "$source" >"$work/watch.out" 2>&1 &
watch_pid=$!
# Count the stream's frames too, so that the clear can report final counts.
txcancel count "$canceled" on

phase() { for g in 0 1 2; do delivered "$g"; done | paste -sd' '; }
sleep 3
before=$(phase)
echo "== t=3s: txcancel cancel id $canceled   (stream 1, NdisCancelSendNetBufferLists)"
txcancel cancel id "$canceled" | sed 's/^/   /'
sleep 3
during=$(phase)
echo "== t=6s: counters while the cancel is in force"
txcancel stats source "$source" | sed 's/^/   /'
echo "== t=6s: txcancel clear id $canceled"
txcancel clear id "$canceled" | sed 's/^/   /'
wait "$client_pid"
after=$(phase)

read -r -a b <<<"$before"
read -r -a d <<<"$during"
read -r -a a <<<"$after"
echo "== result per stream (delivered = datagrams counted by the receiver in $ns_b)"
printf "   %-7s %-11s %-6s %-26s %-9s %-12s %s\n" stream id sent \
	"delivered: 0-3s/3-6s/6-9s" aborted completions "sent = delivered + aborted"
fail=0
for g in 0 1 2; do
	sent=$(awk -v g="$g" '$1 == "result" && $2 == g {print $4}' "$work/client.out")
	got=$(awk -v g="$g" '$1 == "result" && $2 == g {print $6}' "$work/client.out")
	total=${a[$g]}
	aborted=$((sent - total))
	ok=yes
	[ "$aborted" -eq "$got" ] || { ok=no; fail=1; }
	printf "   %-7s %-11s %-6s %-26s %-9s %-12s %s\n" "$g" "${ids[$g]}" "$sent" \
		"${b[$g]}/$((d[g] - b[g]))/$((a[g] - d[g]))" "$aborted" "$got" "$ok"
done
grep '^account' "$work/client.out" | sed 's/^/   /'
echo "== the first completions, as 'txcancel watch' printed them (status 0xC023000C = NDIS_STATUS_SEND_ABORTED)"
wait "$watch_pid" || true
sed 's/^/   /' "$work/watch.out"

echo "== teardown"
kill "$daemon_pid"
wait "$daemon_pid" && echo "   txcanceld exited cleanly"
daemon_pid=
trap - EXIT
cleanup
left=$(ip netns list | grep -c "txc-demo-.*-$tag" || true)
[ ! -e "$pins" ] && [ "$left" -eq 0 ] && echo "   nothing left behind: no pins, no namespaces"
exit $fail
