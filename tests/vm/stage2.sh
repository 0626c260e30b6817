# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# The VM guest's second stage, run by busybox sh as PID 1 in the host's root
# (read only, with a tmpfs overlay): mount what the tests expect, load the
# modules asked for, run the job (/run/txcvm/job.sh) with its output on
# /dev/hvc0, write its exit status to /dev/hvc1 and power off.
bb=/run/txcvm/busybox
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
$bb mount -t proc proc /proc
$bb mount -t sysfs sys /sys
$bb mkdir -p /dev/pts /dev/shm
$bb mount -t devpts -o newinstance,ptmxmode=0666 devpts /dev/pts
$bb mount -t tmpfs -o mode=1777 shm /dev/shm
$bb mount -t tmpfs -o mode=1777 tmp /tmp
$bb mount -t bpf -o mode=0700 bpf /sys/fs/bpf
$bb mount -t cgroup2 cgroup2 /sys/fs/cgroup
$bb mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
$bb mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
$bb mkdir -p /run/netns /run/lock
echo /run/txcvm/modprobe > /proc/sys/kernel/modprobe
$bb hostname txcvm
$bb ip link set lo up

for m in $(cat /run/txcvm/modules.guest); do
	/run/txcvm/modprobe "$m" 2>/dev/null
done

# Held open on fd 3: a console's settings last only while someone has it open.
exec 3<> /dev/hvc0
$bb stty -F /dev/hvc0 raw -echo 2>/dev/null
/bin/sh /run/txcvm/job.sh >&3 2>&3 < /dev/null
rc=$?
echo "$rc" > /dev/hvc1
$bb sync
$bb sleep 0.2
echo o > /proc/sysrq-trigger
$bb sleep 60
