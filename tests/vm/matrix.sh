#!/bin/sh
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# The kernel matrix: boot each kernel once under QEMU (run.sh) and run the
# suites inside it (suites.sh); every PASS/FAIL/SKIP line comes back named
# after its kernel and suite, then one "N passed, N failed" line per kernel
# and, unless --no-total, one for all of them.
#
# Usage: tests/vm/matrix.sh [--no-total] BUILD
#   KERNELS   kernels to boot (default: "6.1 6.12 7.2 6.1-generic")
#   SUITES    suites for the cloud kernels, each test_x or test_x:FILTER
#             (default: every suite that exercises the kernel, VM-sized)
# A cloud-flavour kernel boots with a pair of virtio-net NICs joined to each
# other and a pair of multi-queue ones (nics.sh); a -generic kernel with a
# pair of e1000e NICs, and runs only test_nic (its other suites run on the
# cloud flavour).  The guest's own time for each suite is in the output.
set -u

here=$(cd "$(dirname "$0")" && pwd)
total=1
[ "${1:-}" = "--no-total" ] && { total=0; shift; }
build=${1:-build}
build=$(cd "$build" && pwd) || { echo "0 passed, 1 failed"; exit 1; }
kernels=${KERNELS:-6.1 6.12 7.2 6.1-generic}
suites=${SUITES:-test_datapath test_netns test_e2e test_nic test_qdisc test_proto test_hostile test_linkwatch test_privs test_churn test_flood}
cache=${TXC_KERNEL_CACHE:-/var/cache/txcancel/kernels}

# Sizes of the long suites under TCG (see README, "Kernels and drivers").
VM_ENV="-e TXCT_DAEMON_START_MS=60000 -e TXCT_FLOOD_FRAMES=${TXCT_VM_FLOOD_FRAMES:-1000000} -e TXCT_FLOOD_BACKLOG=256 -e TXCT_CHURN_ROUNDS=${TXCT_VM_CHURN_ROUNDS:-50}"

log=$(mktemp)
trap 'rm -f "$log" "$log.k"' EXIT
all_pass=0 all_fail=0 status=0

for k in $kernels; do
	case "$k" in
	*-generic) nics=e1000e-pair ksuites=test_nic ;;
	*) nics=virtio-pair,virtio-mq-pair ksuites=$suites ;;
	esac
	: > "$log.k"
	start=$(date +%s)
	"$here/kernels.sh" "$k" > /dev/null || {
		echo "FAIL $k: kernel not available" | tee -a "$log.k"
	}
	if [ -f "$cache/$k/vmlinuz" ]; then
		rel=$(readlink "$cache/$k")
		pkg=$(cut -d' ' -f2- "$cache/$k/package" 2>/dev/null | awk '{print $NF}')
		echo "# kernel $k: $rel (Debian $pkg), NICs $nics"
		# shellcheck disable=SC2086
		"$here/run.sh" -t "${TXC_VM_TIMEOUT:-5400}" -n "$nics" $VM_ENV \
			-C "$(pwd)" "$k" -- sh "$here/suites.sh" "$build" "$k" $ksuites 2>&1 |
			tee -a "$log.k"
	fi
	# A guest that died is a failure even if every line it sent passed.
	if ! grep -q "^# $k: .* took [0-9]*s\$" "$log.k" ||
	   [ "$(grep -c "^# $k: test_.* took" "$log.k")" -ne "$(echo $ksuites | wc -w)" ]; then
		echo "FAIL $k: the guest did not finish its suites" | tee -a "$log.k"
	fi
	p=$(grep -c '^PASS ' "$log.k") f=$(grep -c '^FAIL ' "$log.k") s=$(grep -c '^SKIP ' "$log.k")
	echo "# kernel $k: $p passed, $f failed, $s skipped in $(($(date +%s) - start))s"
	cat "$log.k" >> "$log"
	all_pass=$((all_pass + p)) all_fail=$((all_fail + f))
	[ "$f" -eq 0 ] || status=1
done

[ "$total" -eq 0 ] || echo "$all_pass passed, $all_fail failed"
exit $status
