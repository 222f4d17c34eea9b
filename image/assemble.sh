#!/bin/sh
# SPDX-License-Identifier: MIT
# Put the file systems made by make-fs.sh into one MBR disk image:
#   assemble.sh DROPDIR IMAGE READONLY
set -eu
drop=$1
img=$2
ro=$3
MiB=1048576
size_mib() { echo $(( $(stat -c %s "$1") / MiB )); }

boot=$(size_mib "$drop/boot.vfat")
root=$(size_mib "$drop/root.ext4")
data=0
[ "$ro" = 1 ] && data=$(size_mib "$drop/data.ext4")
# 4 MiB in front (aligned for SD erase blocks), partitions back to back.
p1=4
p2=$((p1 + boot))
p3=$((p2 + root))
total=$((p3 + data))

rm -f "$img"
truncate -s "${total}M" "$img"
{
	echo "label: dos"
	echo "start=$((p1 * 2048)), size=$((boot * 2048)), type=c, bootable"
	echo "start=$((p2 * 2048)), size=$((root * 2048)), type=83"
	[ "$ro" = 1 ] && echo "start=$((p3 * 2048)), size=$((data * 2048)), type=83"
} | sfdisk --quiet "$img"
dd if="$drop/boot.vfat" of="$img" bs=1M seek=$p1 conv=notrunc,sparse status=none
dd if="$drop/root.ext4" of="$img" bs=1M seek=$p2 conv=notrunc,sparse status=none
[ "$ro" = 1 ] && dd if="$drop/data.ext4" of="$img" bs=1M seek=$p3 conv=notrunc,sparse status=none
sfdisk --dump "$img" >&2
