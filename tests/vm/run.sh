#!/bin/sh
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# Boot a Debian kernel under QEMU and run one command in it, as root, in the
# host's own root file system (shared read only over virtiofs, writes go to
# a tmpfs): the built tree and every tool it calls run in place.  The
# command's output comes back on stdout and its exit status is run.sh's.
#
# Usage: tests/vm/run.sh [options] KERNEL -- COMMAND [ARG...]
#   KERNEL        6.1, 6.12, 7.2 (cloud flavour), 6.1-generic, ... or a
#                 release cached by tests/vm/kernels.sh (fetched if missing)
#   -C DIR        the command's working directory (default: the current one)
#   -t SECONDS    kill the guest after this long (default 3600)
#   -m MB         guest memory (default 2048); -s N: CPUs (default 2)
#   -n NICS       the guest's test NICs, pairs joined to each other, comma
#                 separated (see nics.sh): virtio-pair, virtio-mq-pair,
#                 e1000e-pair
#   -k MODULES    more modules to load in the guest (comma separated)
#   -e NAME=VALUE set a variable in the command's environment (repeatable)
# The guest has bpffs on /sys/fs/bpf, cgroup2 on /sys/fs/cgroup, /proc,
# /sys, a tmpfs on /tmp and /run, and the kernel's modules.  Exit status:
# the command's, or 125 when the guest could not run it (the reason is
# printed), or 124 when it was killed after the time limit.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
cache=${TXC_KERNEL_CACHE:-/var/cache/txcancel/kernels}
qemu=${QEMU:-qemu-system-x86_64}
virtiofsd=${VIRTIOFSD:-/usr/lib/qemu/virtiofsd}

# Modules the guest loads before the command runs (missing ones are skipped:
# they are built in, or that kernel does not have them).
GUEST_MODULES="veth sch_ingress cls_bpf act_bpf sch_fq sch_fq_codel sch_prio sch_netem
nf_tables nft_chain_nat tun bridge virtio_net e1000e ipv6"

die() { echo "vm: $*" >&2; exit 125; }
usage() { sed -n '/^# Usage/,/^# the command/s/^# \{0,1\}//p' "$0" >&2; exit 125; }

cwd=$(pwd) timeout_s=3600 mem=2048 smp=2 nics="" extra_mods="" envs=""
while getopts C:t:m:s:n:k:e:h opt; do
	case "$opt" in
	C) cwd=$(cd "$OPTARG" && pwd) || die "no directory $OPTARG" ;;
	t) timeout_s=$OPTARG ;;
	m) mem=$OPTARG ;;
	s) smp=$OPTARG ;;
	n) nics=$OPTARG ;;
	k) extra_mods="$extra_mods $(echo "$OPTARG" | tr , ' ')" ;;
	e) case "$OPTARG" in *=*) ;; *) die "-e wants NAME=VALUE, not '$OPTARG'" ;; esac
	   envs="$envs$(printf '%s\n' "$OPTARG" | sed "s/'/'\\\\''/g; s/=/='/; s/\$/'/")
" ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -ge 3 ] && [ "$2" = "--" ] || usage
kernel=$1
shift 2

[ "$(id -u)" -eq 0 ] || die "needs root (virtiofsd shares the host's root)"
command -v "$qemu" >/dev/null || die "$qemu not found (package qemu-system-x86)"
[ -x "$virtiofsd" ] || die "$virtiofsd not found (package qemu-system-x86 7.2 ships it)"
command -v busybox >/dev/null || die "busybox not found (package busybox-static)"
busybox_bin=$(command -v busybox)
file -L "$busybox_bin" 2>/dev/null | grep -q 'statically linked' ||
	die "$busybox_bin is not statically linked (package busybox-static)"

kdir=$cache/$kernel
if [ ! -f "$kdir/vmlinuz" ]; then
	"$here/kernels.sh" "$kernel" >&2 || die "kernel $kernel is not available"
fi
kdir=$(cd "$kdir" && pwd -P)
rel=$(basename "$kdir")
mdir=$kdir/lib/modules/$rel
[ -f "$mdir/modules.dep" ] || die "no modules.dep in $mdir (run tests/vm/kernels.sh --refresh $kernel)"

tmp=$(mktemp -d /tmp/txcvm.XXXXXX)
vfs_pid="" qemu_pid="" netns=""
cleanup() {
	[ -z "$qemu_pid" ] || kill "$qemu_pid" 2>/dev/null || true
	[ -z "$vfs_pid" ] || kill "$vfs_pid" 2>/dev/null || true
	[ -z "$netns" ] || ip netns del "$netns" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the initramfs: busybox, the two init stages, the job, the modules the
# root needs (with their dependencies) -----------------------------------------
ird=$tmp/initrd
mkdir -p "$ird/bin" "$ird/lib/modules/$rel"
cp "$busybox_bin" "$ird/bin/busybox"
cp "$here/init.sh" "$ird/init"
cp "$here/stage2.sh" "$ird/stage2.sh"
chmod 0755 "$ird/init"
cp "$mdir/modules.dep" "$mdir/modules.alias" "$mdir/modules.symbols" "$ird/lib/modules/$rel/" 2>/dev/null || true
[ -f "$mdir/modules.builtin" ] && cp "$mdir/modules.builtin" "$ird/lib/modules/$rel/"

# The path of a module in modules.dep, and of everything it needs.
module_files() {
	awk -v want="$1" '
	{ f = $1; sub(/:$/, "", f); n = f; sub(/.*\//, "", n); sub(/\.ko.*/, "", n)
	  gsub(/-/, "_", n) }
	n == want { print f; for (i = 2; i <= NF; i++) print $i; exit }' "$mdir/modules.dep"
}
boot_mods=""
for m in virtio_pci virtio_console virtiofs overlay; do
	files=$(module_files "$m")
	[ -n "$files" ] || continue		# built in
	for f in $files; do
		mkdir -p "$ird/lib/modules/$rel/$(dirname "$f")"
		cp "$mdir/$f" "$ird/lib/modules/$rel/$f"
	done
	boot_mods="$boot_mods $m"
done
echo "$boot_mods" > "$ird/modules.load"
echo "$GUEST_MODULES $extra_mods $("$here/nics.sh" modules "$nics")" > "$ird/modules.guest"
echo "$mdir" > "$ird/modules.dir"	# bound into the guest from the host's root

# The job: environment, directory, command (each word quoted for sh).
{
	echo "export HOME=/root TERM=dumb LANG=C.UTF-8"
	printf '%s' "$envs" | sed 's/^/export /'
	printf "cd '%s' || exit 125\n" "$(printf '%s' "$cwd" | sed "s/'/'\\\\''/g")"
	printf 'exec'
	for a in "$@"; do
		printf " '%s'" "$(printf '%s' "$a" | sed "s/'/'\\\\''/g")"
	done
	echo
} > "$ird/job.sh"
(cd "$ird" && find . | cpio -o -H newc --quiet) > "$tmp/initrd.cpio" ||
	die "cannot build the initramfs"

# --- the host root over virtiofs ---------------------------------------------
"$virtiofsd" --socket-path="$tmp/vfs.sock" -o source=/ -o sandbox=chroot \
	-o cache=auto -o log_level=err > "$tmp/virtiofsd.log" 2>&1 &
vfs_pid=$!
i=0
while [ ! -S "$tmp/vfs.sock" ]; do
	kill -0 "$vfs_pid" 2>/dev/null ||
		die "virtiofsd failed: $(cat "$tmp/virtiofsd.log")"
	i=$((i + 1))
	[ "$i" -lt 100 ] || die "virtiofsd did not create its socket in 10 s"
	sleep 0.1
done

# --- boot ---------------------------------------------------------------------
: > "$tmp/status"
nic_args=$("$here/nics.sh" qemu "$nics") || die "bad NIC set '$nics'"
in_netns=""
# Tap devices live in a network namespace of their own, which QEMU runs in.
if [ "$("$here/nics.sh" host-netns "$nics")" = yes ]; then
	netns=txcvm$$
	ip netns add "$netns" || die "cannot create the network namespace $netns for the taps"
	"$here/nics.sh" host-up "$nics" "$netns" || die "cannot create the taps in $netns"
	in_netns="ip netns exec $netns"
fi
start=$(date +%s)
set +e
# shellcheck disable=SC2086
$in_netns timeout -k 10 "$timeout_s" "$qemu" \
	-accel tcg,thread=multi -cpu max -smp "$smp" -m "$mem" \
	-object memory-backend-memfd,id=mem,size="${mem}M",share=on \
	-machine q35,memory-backend=mem \
	-nodefaults -display none -no-reboot \
	-kernel "$kdir/vmlinuz" -initrd "$tmp/initrd.cpio" \
	-append "console=ttyS0 loglevel=4 panic=-1 rdinit=/init" \
	-serial file:"$tmp/console.log" \
	-chardev socket,id=vfs,path="$tmp/vfs.sock" \
	-device vhost-user-fs-pci,chardev=vfs,tag=hostroot,queue-size=1024 \
	-device virtio-serial-pci \
	-chardev stdio,id=out,signal=off -device virtconsole,chardev=out \
	-chardev file,id=st,path="$tmp/status" -device virtconsole,chardev=st \
	$nic_args < /dev/null 2> "$tmp/qemu.err" &
qemu_pid=$!
wait "$qemu_pid"
qrc=$?
qemu_pid=""
set -e
# A hub joins only the guest's own NICs: QEMU's note that it reaches no host is expected.
grep -v 'is not connected to host network' "$tmp/qemu.err" >&2 || true
elapsed=$(($(date +%s) - start))

rc=$(tr -dc '0-9' < "$tmp/status")
if [ -n "$rc" ]; then
	exit "$rc"
fi
if [ "$qrc" -eq 124 ] || [ "$qrc" -eq 137 ]; then
	echo "vm: guest ($rel) killed after ${timeout_s}s without finishing" >&2
	tail -n 20 "$tmp/console.log" | sed 's/^/vm:   /' >&2
	exit 124
fi
echo "vm: guest ($rel) ended after ${elapsed}s without an exit status (qemu status $qrc); its console:" >&2
tail -n 30 "$tmp/console.log" | sed 's/^/vm:   /' >&2
exit 125
