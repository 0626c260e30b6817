#!/bin/busybox sh
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# The VM guest's /init (in the initramfs run.sh builds): load the modules the
# root needs, mount the host's root (virtiofs, read only) under a tmpfs
# overlay that takes every write, and switch into it to run stage2.sh.
/bin/busybox mkdir -p /bin /proc /sys /dev /lower /rw /newroot
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev

fail() {
	echo "txcvm-init: $*" > /dev/ttyS0
	echo "txcvm-init: $*" > /dev/hvc0 2>/dev/null
	echo o > /proc/sysrq-trigger
	sleep 60
}

rel=$(uname -r)
for m in $(cat /modules.load); do
	modprobe "$m" || fail "cannot load module $m"
done
mount -t virtiofs -o ro hostroot /lower || fail "cannot mount the host root (virtiofs)"
mount -t tmpfs -o mode=0755 rw /rw || fail "cannot mount the tmpfs for writes"
mkdir -p /rw/upper /rw/work
mount -t overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work,xino=off,index=off \
	overlay /newroot || fail "cannot mount the overlay root"

# The guest kernel's modules, from the kernel cache on the host.
mkdir -p "/newroot/lib/modules/$rel" /newroot/run
mount -t tmpfs -o mode=0755 run /newroot/run
mkdir -p /newroot/run/txcvm
cp /bin/busybox /stage2.sh /job.sh /modules.guest /newroot/run/txcvm/
ln -s busybox /newroot/run/txcvm/modprobe
mount --bind "/lower$(cat /modules.dir)" "/newroot/lib/modules/$rel" ||
	fail "cannot mount the kernel's modules from the host"
umount /proc /sys
mount --move /dev /newroot/dev
exec switch_root /newroot /run/txcvm/busybox sh /run/txcvm/stage2.sh
