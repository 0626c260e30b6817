#!/bin/sh
# Install the Debian packages txcancel's build, tests and demo need.
# Does nothing when they are all present.
set -eu

PACKAGES="make gcc clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev libmnl-dev
pkg-config iproute2 nftables iputils-ping gnuplot-nox libclang-rt-14-dev
g++ lowdown groff-base man-db bash-completion prometheus libxdp-dev xdp-tools clang-19
qemu-system-x86 busybox-static cpio file tshark zsh"

missing=""
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages:$missing; run 'make deps' as root" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
# tshark's wireshark-common asks whether non-root users may capture: no.
case "$missing" in
*tshark*)
	echo "wireshark-common wireshark-common/install-setuid boolean false" |
		debconf-set-selections ;;
esac
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
