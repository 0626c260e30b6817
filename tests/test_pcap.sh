#!/bin/sh
# Aborted frames in a capture file: `txcancel watch -w` on real frames of a
# canceled ID, read back with tshark, on a veth pair between two network
# namespaces this test creates (198.18.71.0/24).  demo-client (in A) tags
# its UDP socket with an ID and counts the completions it gets; it never
# asks for bytes.  Three watchers follow its source:
#   cap:   txcancel -j watch -w FILE --snaplen 60: JSON lines and the file
#   plain: txcancel -j watch (asks for no bytes)
#   pipe:  txcancel watch -w - | tshark -r -
#   epipe: txcancel watch -w - | head -c 64 (the reader goes away)
# Subtests:
#   fields:     every packet of the file against the JSON record it came
#               from: comment (ID, source, seq, status, hook, where, tag,
#               scope, interface), frame.len = len, frame.cap_len = cap_len =
#               min(len, 60), wall time to the microsecond, interface name,
#               and the frame's own bytes (sender's MAC, addresses, ports)
#   old_reader: the watcher that asked for nothing got the same records, in
#               version 1 and without cap_len; demo-client got every one
#   pipe:       tshark reading the pipe saw the same packets
#   epipe:      a pipe whose reader left ends the watch cleanly (exit 0)
#   bad_args:   out-of-range and misplaced capture options are refused
#   bad_file:   a file that cannot be written is named in the error
# Usage: test_pcap.sh <source dir> <build dir> [filter]
set -u
# shellcheck disable=SC2034 # read by testlib.sh
TESTLIB_NAME=pcap
# shellcheck source=tests/testlib.sh
. "$(dirname "$0")/testlib.sh"

if ! command -v tshark >/dev/null; then
	echo "FAIL pcap: tshark missing (package tshark: make deps)"
	exit 1
fi

netns_pair txcp
pin=/sys/fs/bpf/txct-pcap-$$
sock=$work/txcanceld.sock
snaplen=60

txc() {
	"$build/txcancel" -s "$sock" "$@"
}

# tshark says so when run as root; nothing else on stderr is expected.
tshark_q() {
	tshark "$@" 2>"$work/tshark.err"
}

# bad_args first: nothing of it reaches a daemon.
if selected pcap/bad_args; then
	ok=1
	for args in "--snaplen 0 -w x 1" "--snaplen 513 -w x 1" "--snaplen abc -w x 1" \
		    "--snaplen 64 1" "-w"; do
		# shellcheck disable=SC2086 # the words are the arguments
		"$build/txcancel" -s "$work/none.sock" watch $args >"$work/bad.out" 2>&1
		rc=$?
		case "$rc:$(cat "$work/bad.out")" in
		2:*snaplen*|2:*-w*) ;;
		*) ok=0; fail "pcap/bad_args: watch $args: exit $rc: $(cat "$work/bad.out")" ;;
		esac
	done
	[ $ok -eq 1 ] && echo "PASS pcap/bad_args"
fi

if ! { ip netns add "$nsa" && ip netns add "$nsb" &&
       ip -n "$nsa" link add vA0 type veth peer name vB0 netns "$nsb" &&
       ip -n "$nsa" addr add 198.18.71.1/24 dev vA0 &&
       ip -n "$nsb" addr add 198.18.71.2/24 dev vB0 &&
       ip -n "$nsa" link set vA0 up && ip -n "$nsb" link set vB0 up; }; then
	echo "FAIL pcap/setup: namespaces and veth pair"
	exit 1
fi
mac=$(ip -n "$nsa" -o link show vA0 | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')

# Only the network namespace (not ip netns exec): the pins need the host's bpffs.
nsenter --net=/run/netns/"$nsa" "$build/txcanceld" -i vA0 -s "$sock" -d "$pin" \
	>"$work/daemon.log" 2>&1 &
daemon=$!
i=0
while [ $i -lt 100 ] && ! txc hello >/dev/null 2>&1; do
	sleep 0.1
	i=$((i + 1))
done

if selected pcap/bad_file; then
	txc watch -w "$work/no/such/dir/x.pcapng" -t 1 >"$work/badfile.out" 2>&1
	rc=$?
	if [ $rc -eq 1 ] && grep -q "cannot write $work/no/such/dir/x.pcapng" "$work/badfile.out"
	then
		echo "PASS pcap/bad_file"
	else
		fail "pcap/bad_file: exit $rc: $(cat "$work/badfile.out")"
	fi
fi

nsenter --net=/run/netns/"$nsa" "$build/tools/demo-client" -s "$sock" -g 1 -r 100 -t 6 \
	198.18.71.2 5000 >"$work/client.out" 2>&1 &
client=$!
i=0
while [ $i -lt 50 ] && ! grep -q '^group 0 ' "$work/client.out" 2>/dev/null; do
	sleep 0.1
	i=$((i + 1))
done
id=$(awk '/^group 0 /{ print $4 }' "$work/client.out")
source=$(awk '/^group 0 /{ print $6 }' "$work/client.out")
if [ -z "$id" ] || [ -z "$source" ]; then
	echo "FAIL pcap/setup: demo-client did not start:"
	sed 's/^/#   /' "$work/client.out" "$work/daemon.log"
	exit 1
fi

txc -j watch -w "$work/cap.pcapng" --snaplen $snaplen -t 8 "$source" \
	>"$work/cap.json" 2>"$work/cap.err" &
w_cap=$!
txc -j watch -t 8 "$source" >"$work/plain.json" 2>"$work/plain.err" &
w_plain=$!
(txc watch -w - -t 8 "$source" 2>"$work/pipe.err"; echo $? >"$work/pipe.rc") |
	tshark -r - -T fields -e frame.comment >"$work/pipe.txt" 2>/dev/null &
w_pipe=$!
(txc watch -w - -t 8 "$source" 2>"$work/epipe.err"; echo $? >"$work/epipe.rc") |
	head -c 64 >/dev/null &
w_epipe=$!

# demo-client and the four watchers, all subscribed before the cancel.
i=0
while [ $i -lt 200 ] &&
      ! txc -j stats source "$source" 2>/dev/null | grep -q '"subscribers":5'; do
	sleep 0.05
	i=$((i + 1))
done
[ $i -lt 200 ] || fail "pcap/setup: the watchers did not subscribe within 10 s"
txc cancel id "$id" >/dev/null || fail "pcap/setup: txcancel cancel id $id"
sleep 1
txc clear id "$id" >/dev/null || fail "pcap/setup: txcancel clear id $id"
wait $w_cap $w_plain $w_pipe $w_epipe $client

n=$(grep -c '"type":"completion"' "$work/cap.json")
if [ "$n" -lt 50 ]; then
	fail "pcap/setup: only $n completions in 1 s of a 100/s stream canceled"
	sed 's/^/#   /' "$work/cap.err" "$work/daemon.log"
fi

if selected pcap/fields; then
	# What each JSON record says the packet must be, field by field.
	sed -n '/"type":"completion"/p' "$work/cap.json" |
	while IFS= read -r line; do
		get() { printf '%s' "$line" | sed -n "s/.*\"$1\":\"\{0,1\}\([^\",}]*\).*/\1/p"; }
		t=$(get time) st=$(get status) sn=$(get status_name) so=$(get source)
		seq=$(get seq) cid=$(get id) ifi=$(get ifindex) dev=$(get dev) hook=$(get hook)
		tag=$(get tag_kind) sc=$(get scope) wh=$(get where) len=$(get len)
		sa=$(get src) da=$(get dst) sp=$(get sport) dpt=$(get dport) cap=$(get cap_len)
		printf 'txcancel id 0x%08x source %s seq %s status 0x%08X %s hook %s where %s tag %s scope %s dev %s ifindex %s|%s|%s|%s|%s|%s|%s|%s|%s|%s\n' \
			"$cid" "$so" "$seq" "$st" "$sn" "$hook" "$wh" "$tag" "$sc" "$dev" "$ifi" \
			"$len" "$cap" "$(printf '%s' "$t" | sed 's/Z$//; s/T/ /')" "$dev" "$mac" \
			"$sa" "$da" "$sp" "$dpt"
	done >"$work/want.txt"
	tshark_q -r "$work/cap.pcapng" -t ud -T fields -E separator='|' -e frame.comment \
		-e frame.len -e frame.cap_len -e _ws.col.Time -e frame.interface_name \
		-e eth.src -e ip.src -e ip.dst -e udp.srcport -e udp.dstport |
		# wall time to the microsecond, as the JSON has it
		sed 's/^\([^|]*|[^|]*|[^|]*|[^|]*\.[0-9]\{6\}\)[0-9]*|/\1|/' >"$work/got.txt"
	bad=$(awk -F'|' -v s=$snaplen '$3 != ($2 < s ? $2 : s) { n++ } END { print n + 0 }' \
		"$work/got.txt")
	if [ "$n" -gt 0 ] && cmp -s "$work/want.txt" "$work/got.txt" && [ "$bad" -eq 0 ]; then
		echo "PASS pcap/fields"
	else
		fail "pcap/fields: $n records, $bad with cap_len != min(len, $snaplen); want < > got:"
		diff "$work/want.txt" "$work/got.txt" | head -6 | sed 's/^/#   /'
		sed 's/^/#   /' "$work/tshark.err"
	fi
fi

if selected pcap/old_reader; then
	# Each watch turns the records' time into wall time with the clock offset
	# it measured itself: "time" may differ by a microsecond, tstamp_ns not.
	sed -n '/"type":"completion"/{ s/"time":"[^"]*",//; s/"version":2,/"version":1,/
		s/,"cap_len":[0-9]*}$/}/; p; }' "$work/cap.json" >"$work/cap.v1"
	sed -n '/"type":"completion"/{ s/"time":"[^"]*",//; p; }' "$work/plain.json" \
		>"$work/plain.v1"
	got=$(awk '/^result 0 /{ print $6 }' "$work/client.out")
	if [ "$n" -gt 0 ] && cmp -s "$work/cap.v1" "$work/plain.v1" &&
	   ! grep -q '"version":2\|cap_len' "$work/plain.json" && [ "$got" = "$n" ]; then
		echo "PASS pcap/old_reader"
	else
		fail "pcap/old_reader: demo-client got $got of $n; plain watch < > capture's:"
		diff "$work/plain.v1" "$work/cap.v1" | head -4 | sed 's/^/#   /'
	fi
fi

if selected pcap/pipe; then
	cut -d'|' -f1 "$work/got.txt" >"$work/got.comments"
	if [ "$(cat "$work/pipe.rc")" = 0 ] && [ "$n" -gt 0 ] &&
	   cmp -s "$work/pipe.txt" "$work/got.comments"; then
		echo "PASS pcap/pipe"
	else
		fail "pcap/pipe: exit $(cat "$work/pipe.rc"), $(wc -l <"$work/pipe.txt") packets of $n"
		sed 's/^/#   /' "$work/pipe.err"
	fi
fi

if selected pcap/epipe; then
	if [ "$(cat "$work/epipe.rc")" = 0 ] && grep -q 'closed the pipe' "$work/epipe.err"; then
		echo "PASS pcap/epipe"
	else
		fail "pcap/epipe: exit $(cat "$work/epipe.rc"):"
		sed 's/^/#   /' "$work/epipe.err"
	fi
fi
exit $status
