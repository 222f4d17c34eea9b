#!/bin/sh
# SPDX-License-Identifier: MIT
# mmdebstrap customize hook of build-image.sh: makes the file systems from
# the finished root $1 into directory $2 (boot.vfat, root.ext4, data.ext4
# for a read-only image when $3 = 1), inside the build's user namespace so
# that mke2fs -d records the real owners without root on the host.
set -eu
R=$1
drop=$2
ro=$3
export MTOOLS_SKIP_CHECK=1

stage=$drop/stage
mkdir -p "$stage/root" "$stage/boot" "$stage/data"
# --one-file-system leaves out /proc, /sys and the host's /dev nodes that
# mmdebstrap binds in.
tar -C "$R" --one-file-system --numeric-owner --xattrs -cf - . |
	tar -C "$stage/root" --numeric-owner --xattrs -xpf -
mv "$R/tmp/manifest.txt" "$drop/manifest.txt"
rm -f "$stage/root/tmp/manifest.txt"
cp -r "$stage/root/boot/firmware/." "$stage/boot/"
find "$stage/root/boot/firmware" -mindepth 1 -delete
# The tree is taken before mmdebstrap's own clean-up, so do it here: its
# daemon-start blockers must not stay in the image, nor build leftovers.
S=$stage/root
rm -f "$S/usr/sbin/policy-rc.d" "$S/etc/apt/apt.conf.d/00mmdebstrap" \
	"$S/etc/apt/apt.conf.d/99mmdebstrap" "$S/usr/bin/qemu-aarch64-static"
for d in "$S/usr/sbin" "$S/sbin"; do
	if [ ! -L "$d" ] && [ -e "$d/start-stop-daemon.REAL" ]; then
		mv -f "$d/start-stop-daemon.REAL" "$d/start-stop-daemon"
	fi
done
rm -rf "$S"/var/cache/apt/archives/*.deb "$S"/var/cache/apt/*.bin \
	"$S"/var/lib/apt/lists/* "$S"/tmp/* "$S"/var/tmp/* "$S"/run/* \
	"$S"/var/log/dpkg.log "$S"/var/log/apt/* "$S"/var/log/alternatives.log \
	"$S"/var/cache/ldconfig/aux-cache
mkdir -p "$S/var/lib/apt/lists/partial"

if [ "$ro" = 1 ]; then
	mv "$stage/root/var/lib/flicgate" "$stage/data/flicgate"
	mkdir -p "$stage/root/var/lib/flicgate" "$stage/data/flicgate-system"
	chmod 0700 "$stage/data/flicgate-system"
	mib=$(( $(du -sm "$stage/data" | cut -f1) + 64 ))
	mke2fs -q -t ext4 -L FLICDATA -m 0 -d "$stage/data" "$drop/data.ext4" "${mib}M"
fi

# Room for apt upgrades until first boot grows the partition.
used=$(du -sm "$stage/root" | cut -f1)
mib=$(( (used * 120 / 100 + 128 + 3) / 4 * 4 ))
mke2fs -q -t ext4 -L RASPIROOT -m 1 -d "$stage/root" "$drop/root.ext4" "${mib}M"

boot_mib=256
mkfs.vfat -F 32 -n RASPIFIRM -C "$drop/boot.vfat" $((boot_mib * 1024)) >/dev/null
mcopy -s -i "$drop/boot.vfat" "$stage/boot"/* ::/

chmod 0644 "$drop"/*.ext4 "$drop/boot.vfat" "$drop/manifest.txt"
rm -rf "$stage"
