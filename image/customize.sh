#!/bin/sh
# SPDX-License-Identifier: MIT
# mmdebstrap customize hook of build-image.sh: runs in the build's user
# namespace with the new root at $1 (the rootfs/ overlay is already copied
# in). $2 = 1 for a read-only root.
set -eu
R=$1
ro=$2
in_root() { chroot "$R" "$@"; }

# The admin user: SSH key and password come from [system]; until then it
# has no password (locked) and no key, so nobody can log in remotely.
in_root useradd --create-home --shell /bin/bash --groups sudo,flicgate \
	--comment "flicgate administrator" admin
echo 'admin ALL=(ALL:ALL) NOPASSWD: ALL' > "$R/etc/sudoers.d/010-flicgate-admin"
chmod 0440 "$R/etc/sudoers.d/010-flicgate-admin"

echo flicgate > "$R/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tflicgate\n::1\tlocalhost ip6-localhost ip6-loopback\n' > "$R/etc/hosts"

# Every card gets its own identity on first boot.
rm -f "$R"/etc/ssh/ssh_host_*
echo uninitialized > "$R/etc/machine-id"
rm -f "$R/var/lib/dbus/machine-id"

# Wi-Fi: wpa_supplicant starts when wlan0 appears, with the network that
# flicgate-system-apply wrote into its state directory.
mkdir -p "$R/etc/wpa_supplicant" "$R/etc/systemd/system/sys-subsystem-net-devices-wlan0.device.wants"
ln -sfn /var/lib/flicgate-system/wpa_supplicant-wlan0.conf \
	"$R/etc/wpa_supplicant/wpa_supplicant-wlan0.conf"
ln -sfn /usr/lib/systemd/system/wpa_supplicant@.service \
	"$R/etc/systemd/system/sys-subsystem-net-devices-wlan0.device.wants/wpa_supplicant@wlan0.service"
in_root systemctl set-default multi-user.target >/dev/null 2>&1
in_root systemctl enable systemd-networkd.service systemd-resolved.service \
	flicgate-system-apply.service flicgate-growfs.service flicgated.service >/dev/null 2>&1
ln -sfn ../run/systemd/resolve/stub-resolv.conf "$R/etc/resolv.conf"

# The boot partition is readable by flicgated (group flicgate) and by
# nobody else: flicgate.ini carries webhook secrets.
gid=$(in_root getent group flicgate | cut -d: -f3)
{
	echo "# <file system>  <mount point>  <type>  <options>  <dump>  <pass>"
	echo "LABEL=RASPIROOT  /  ext4  rw,noatime,commit=60,errors=remount-ro  0  1"
	echo "LABEL=RASPIFIRM  /boot/firmware  vfat  rw,noatime,uid=0,gid=$gid,fmask=0137,dmask=0027,flush  0  2"
	if [ "$ro" = 1 ]; then
		echo "LABEL=FLICDATA  /srv/flicgate-data  ext4  rw,noatime,commit=60  0  2"
		echo "/srv/flicgate-data/flicgate  /var/lib/flicgate  none  bind,x-systemd.requires-mounts-for=/srv/flicgate-data  0  0"
		echo "/srv/flicgate-data/flicgate-system  /var/lib/flicgate-system  none  bind,x-systemd.requires-mounts-for=/srv/flicgate-data  0  0"
	fi
	echo "tmpfs  /tmp  tmpfs  rw,nosuid,nodev,size=64M  0  0"
} > "$R/etc/fstab"

if [ "$ro" = 1 ]; then
	mkdir -p "$R/srv/flicgate-data" "$R/var/lib/flicgate-system"
	# Everything else under / is a tmpfs overlay: writes vanish at reboot.
	echo 'overlayroot="tmpfs:recurse=0"' > "$R/etc/overlayroot.local.conf"
	cat > "$R/etc/systemd/journald.conf.d/60-flicgate-read-only.conf" <<'JOURNAL'
# Read-only root: the journal lives in RAM only.
[Journal]
Storage=volatile
RuntimeMaxUse=32M
JOURNAL
	# overlayroot's initramfs script reads this from the root file system;
	# the data partition is the last one and grows instead of the root.

	# overlayroot writes / into the overlay's fstab with its lowerdir=...
	# options; systemd-remount-fs would apply them with a remount, which
	# overlayfs refuses ("No changes allowed in reconfigure"): the unit
	# fails and the system is "degraded". There is nothing to remount on
	# the overlay; booted with overlayroot=disabled, / is the ext4 root
	# again, /media/root-ro is no mount point and the unit runs.
	mkdir -p "$R/etc/systemd/system/systemd-remount-fs.service.d"
	cat > "$R/etc/systemd/system/systemd-remount-fs.service.d/flicgate-overlayroot.conf" <<'REMOUNT'
[Unit]
ConditionPathIsMountPoint=!/media/root-ro
REMOUNT
fi

# The raspi-firmware defaults (from the overlay) are applied by the kernel
# hook, which rewrites config.txt and cmdline.txt and copies kernel,
# initrd and device trees to /boot/firmware.
kver=$(ls "$R/lib/modules" | sort -V | tail -1)
# build-image.sh kept update-initramfs from running during the installation
# (under qemu-user each run takes minutes, and packages trigger several):
# build the initrd once, now that every package and hook is in place.
if [ -e "$R/usr/sbin/update-initramfs.distrib" ]; then
	rm -f "$R/usr/sbin/update-initramfs"
	in_root dpkg-divert --quiet --local --rename --remove /usr/sbin/update-initramfs
	in_root update-initramfs -c -k "$kver"
fi
in_root env DEB_MAINT_PARAMS=configure /etc/kernel/postinst.d/z50-raspi-firmware "$kver"

install -m 0644 "$R/tmp/flicgate.ini" "$R/boot/firmware/flicgate.ini"
rm -f "$R/tmp/flicgate.ini"

in_root dpkg-query -W -f '${Package} ${Version}\n' > "$R/tmp/manifest.txt"
