#!/bin/sh
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# The test NICs a VM guest can have, for run.sh -n:
#   nics.sh qemu SET      QEMU arguments for SET
#   nics.sh modules SET   the guest modules SET needs
# SETs (each a pair of NICs joined to each other by a QEMU hub):
#   virtio-pair     two virtio-net NICs
#   e1000e-pair     two e1000e NICs (needs the generic kernel flavour)
set -eu
what=$1 set=${2:-}
case "$set" in
"") model="" ;;
virtio-pair) model=virtio-net-pci ;;
e1000e-pair) model=e1000e ;;
*) echo "nics: unknown NIC set '$set' (virtio-pair, e1000e-pair)" >&2; exit 1 ;;
esac
case "$what" in
modules)
	case "$set" in
	virtio*) echo virtio_net ;;
	e1000e*) echo e1000e ;;
	esac ;;
qemu)
	[ -n "$model" ] || exit 0
	for i in 0 1; do
		printf -- '-netdev hubport,id=tn%s,hubid=7 ' "$i"
		printf -- '-device %s,netdev=tn%s,mac=52:54:00:74:78:%02x ' "$model" "$i" "$((i + 1))"
	done
	echo ;;
*) echo "nics: usage: nics.sh qemu|modules SET" >&2; exit 1 ;;
esac
