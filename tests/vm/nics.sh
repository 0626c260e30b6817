#!/bin/sh
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# The test NICs a VM guest can have (run.sh -n SET[,SET...]), each a pair of
# NICs joined to each other, told apart by their MAC addresses (test_nic
# uses no other NIC):
#   virtio-pair     two virtio-net NICs on a QEMU hub (52:54:00:74:78:01, :02)
#   e1000e-pair     two e1000e NICs on a QEMU hub (same MACs; needs a kernel
#                   of the generic flavour, the cloud one has no e1000e)
#   virtio-mq-pair  two multi-queue virtio-net NICs (4 queue pairs;
#                   52:54:00:74:78:11, :12), each on a multi-queue tap device
#                   in a network namespace of the host's that only they use,
#                   joined there by a bridge
#
#   nics.sh qemu SETS          QEMU's arguments
#   nics.sh modules SETS       the guest modules they need
#   nics.sh host-netns SETS    "yes" if QEMU must run in a host netns
#   nics.sh host-up SETS NS    create that netns's taps and bridge
set -eu
what=$1 sets=$(echo "${2:-}" | tr , ' ')
MQ_QUEUES=4

for s in $sets; do
	case "$s" in
	virtio-pair|e1000e-pair|virtio-mq-pair) ;;
	*) echo "nics: unknown NIC set '$s' (virtio-pair, e1000e-pair, virtio-mq-pair)" >&2
	   exit 1 ;;
	esac
done

hub_pair() {
	for i in 1 2; do
		printf -- '-netdev hubport,id=tn%s,hubid=7 ' "$i"
		printf -- '-device %s,netdev=tn%s,romfile=,mac=52:54:00:74:78:%02x ' "$1" "$i" "$i"
	done
}

case "$what" in
modules)
	for s in $sets; do
		case "$s" in
		virtio*) echo virtio_net ;;
		e1000e*) echo e1000e ;;
		esac
	done | sort -u | tr '\n' ' ' ;;
host-netns)
	for s in $sets; do
		[ "$s" = virtio-mq-pair ] && { echo yes; exit 0; }
	done
	echo no ;;
host-up)
	ns=$3
	for s in $sets; do
		[ "$s" = virtio-mq-pair ] || continue
		ip -n "$ns" link add txcbr type bridge
		for i in 1 2; do
			ip -n "$ns" tuntap add mode tap multi_queue name "txcmq$i"
			ip -n "$ns" link set "txcmq$i" master txcbr up
		done
		ip -n "$ns" link set txcbr up
	done ;;
qemu)
	for s in $sets; do
		case "$s" in
		virtio-pair) hub_pair virtio-net-pci ;;
		e1000e-pair) hub_pair e1000e ;;
		virtio-mq-pair)
			for i in 1 2; do
				printf -- '-netdev tap,id=mq%s,ifname=txcmq%s,script=no,downscript=no,' "$i" "$i"
				printf -- 'vhost=off,queues=%s ' "$MQ_QUEUES"
				printf -- '-device virtio-net-pci,netdev=mq%s,romfile=,mq=on,vectors=%s,' \
					"$i" "$((2 * MQ_QUEUES + 2))"
				printf -- 'mac=52:54:00:74:78:%02x ' "$((0x10 + i))"
			done ;;
		esac
	done
	echo ;;
*) echo "nics: usage: nics.sh qemu|modules|host-netns|host-up SETS [NS]" >&2; exit 1 ;;
esac
