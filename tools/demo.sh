#!/bin/bash
# The datapath demo: a throwaway two-namespace testbed, three groups of real
# senders tagged by mark and by flow, one group canceled mid-stream and then
# cleared.  Everything it creates is removed at the end, also on failure.
#
# Usage: tools/demo.sh <build dir>
set -euo pipefail

build=${1:-build}
txcdp="$build/tools/txcdp"
tag=$$
ns_a="txc-demo-a-$tag"
ns_b="txc-demo-b-$tag"
pins="/sys/fs/bpf/txc-demo-$tag"
work=$(mktemp -d)
dp() { "$txcdp" -d "$pins" -n "$ns_a" "$@"; }

cleanup() {
	set +e
	jobs -p | xargs -r kill 2>/dev/null
	wait 2>/dev/null
	[ -d "$pins" ] && dp unload >/dev/null 2>&1
	ip netns del "$ns_a" 2>/dev/null
	ip netns del "$ns_b" 2>/dev/null
	[ -n "${TXC_DEMO_KEEP:-}" ] && echo "demo: kept $work" || rm -rf "$work"
}
trap cleanup EXIT

[ "$(id -u)" -eq 0 ] || { echo "demo: needs root (BPF and network namespaces)" >&2; exit 1; }

echo "== testbed: $ns_a (198.18.0.1) <-veth-> $ns_b (198.18.0.2, 198.18.0.3)"
ip netns add "$ns_a"
ip netns add "$ns_b"
ip link add txc-a netns "$ns_a" type veth peer name txc-b netns "$ns_b"
ip -n "$ns_a" addr add 198.18.0.1/24 dev txc-a
ip -n "$ns_b" addr add 198.18.0.2/24 dev txc-b
ip -n "$ns_b" addr add 198.18.0.3/24 dev txc-b
ip -n "$ns_a" link set txc-a up
ip -n "$ns_b" link set txc-b up
ip -n "$ns_a" link set lo up
ip -n "$ns_b" link set lo up

echo "== txcancel on txc-a egress; three groups, each its own ID and source"
dp load
dp attach txc-a
dp mark-mask 0xff
dp tag mark 0x1 0x05000001 1                                  # group A: SO_MARK 1
dp tag mark 0x2 0x05000002 2                                  # group B: SO_MARK 2
dp tag flow icmp 198.18.0.1 0 198.18.0.3 0 0x06000001 3       # group C: flow to .3
echo "   A: ping -m 1 198.18.0.2  -> ID 0x05000001, source 1"
echo "   B: ping -m 2 198.18.0.2  -> ID 0x05000002, source 2"
echo "   C: ping 198.18.0.3       -> ID 0x06000001, source 3 (flow)"

count=60
for g in A B C; do
	case $g in
	A) args=(-m 1 198.18.0.2) ;;
	B) args=(-m 2 198.18.0.2) ;;
	C) args=(198.18.0.3) ;;
	esac
	ip netns exec "$ns_a" ping -q -n -i 0.1 -W 1 -c "$count" "${args[@]}" \
		>"$work/ping-$g" 2>/dev/null &
done
"$txcdp" -d "$pins" watch 1 9 >"$work/completions" &
watch_pid=$!

sleep 2
echo "== t=2s: cancel ID 0x05000001 (group A)"
dp cancel id 0x05000001
sleep 2
echo "== t=4s: counters while the cancel is in force"
for s in 1 2 3; do dp stats $s; done
echo "== t=4s: clear ID 0x05000001"
dp clear id 0x05000001
wait $(jobs -p | grep -v "^$watch_pid\$") || true
wait "$watch_pid" || true

echo "== result per group: sent = frames that reached the hook, delivered = echo replies"
printf "   %-6s %-8s %-10s %-8s %-12s\n" group sent delivered aborted completions
for g in A B C; do
	case $g in A) s=1 ;; B) s=2 ;; C) s=3 ;; esac
	stats=$(dp stats $s)
	passed=$(sed -n 's/.*passed \([0-9]*\) frames.*/\1/p' <<<"$stats")
	aborted=$(sed -n 's/.*aborted \([0-9]*\) frames.*/\1/p' <<<"$stats")
	delivered=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$work/ping-$g")
	completions=$(grep -c "source $s " "$work/completions" || true)
	printf "   %-6s %-8s %-10s %-8s %-12s\n" "$g" "$((passed + aborted))" "${delivered:-?}" \
		"$aborted" "$completions"
done
echo "   (ping counts a request whose send failed as not transmitted and sends another)"
echo "== first completions of source 1 (NDIS_STATUS_SEND_ABORTED records)"
head -n 3 "$work/completions" | sed 's/^/   /'

echo "== teardown"
dp unload
trap - EXIT
cleanup
left=$(ip netns list | grep -c "txc-demo-.*-$tag" || true)
[ ! -e "$pins" ] && [ "$left" -eq 0 ] && echo "   nothing left behind: no pins, no namespaces"
