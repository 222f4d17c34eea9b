#!/bin/bash
# Build the flashable SD-card image: Debian (trixie by default) arm64 for
# Raspberry Pi 3/3B+/4/400/CM4/Zero 2 W, from Debian's own packages, with
# flicgate built for that suite.
#
#   image/build-image.sh [--suite trixie|bookworm] [--readonly] [--out DIR]
#
# Output in DIR (default build/image): flicgate-<version>-<suite>-arm64.img.xz
# and its .sha256. Needs: mmdebstrap, qemu-user-static + binfmt-support
# (arm64 maintainer scripts), dosfstools, mtools, fdisk, e2fsprogs, xz-utils.
# No loop mounts and nothing that needs root beyond registering binfmt:
# mmdebstrap --mode=unshare builds the tree in a user namespace and the file
# systems are made from it there (mke2fs -d, mkfs.vfat + mcopy).
#
# Layout (MBR): 1 FAT32 "RASPIFIRM" /boot/firmware (config.txt, kernel,
# flicgate.ini), 2 ext4 "RASPIROOT" /; with --readonly also 3 ext4
# "FLICDATA" for /var/lib/flicgate and /var/lib/flicgate-system, the root
# mounted read-only under a tmpfs overlay (overlayroot). The last partition
# grows to the card on first boot.
#
# Environment: APT_CACHE, MIRROR (as for build-deb.sh), KEEP_RAW=1 keeps the
# uncompressed .img next to the .xz (image-check uses it).
set -euo pipefail
# Everything is in one compound command, so bash has read the whole file
# before running any of it: editing the script during a long build is safe.
{

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
die() { echo "build-image: $*" >&2; exit 1; }
step() { echo "build-image: [$(( $(date +%s) - t0 ))s] $*"; }

suite=trixie
readonly_root=0
out=$top/build/image
while [ $# -gt 0 ]; do
	case "$1" in
	--suite) suite=$2; shift 2 ;;
	--readonly) readonly_root=1; shift ;;
	--out) out=$2; shift 2 ;;
	-h|--help) sed -n '2,24s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) die "unknown argument '$1'" ;;
	esac
done
case "$suite" in
trixie|bookworm) ;;
*) die "suite must be trixie or bookworm" ;;
esac
for t in mmdebstrap mke2fs mkfs.vfat mcopy sfdisk xz; do
	command -v $t >/dev/null || die "$t is missing (apt-get install mmdebstrap e2fsprogs dosfstools mtools fdisk xz-utils)"
done
if [ "$(dpkg --print-architecture)" != arm64 ] && ! arch-test arm64 >/dev/null 2>&1; then
	[ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] ||
		die "arm64 binaries cannot run here: apt-get install qemu-user-static binfmt-support"
fi

t0=$(date +%s)
version=$(sed -n 's/^VERSION := //p' "$top/Makefile")
name=flicgate-$version-$suite-arm64${readonly_root:+}
[ $readonly_root = 1 ] && name=$name-ro
mkdir -p "$out"
out=$(cd "$out" && pwd)
cache=${APT_CACHE:-$top/build/apt-cache}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
mirror=${MIRROR:-http://deb.debian.org/debian}

work=$(mktemp -d "$out/.work.XXXXXX")
trap 'rm -rf "$work"' EXIT
chmod 0755 "$work"
# The namespace's root writes the file systems here.
mkdir -m 0777 "$work/drop"

step "building flicgate for $suite arm64"
"$here/build-deb.sh" --arch arm64 --suite "$suite" --out "$work/deb" > "$work/deb.log" 2>&1 ||
	{ cat "$work/deb.log"; die "build-deb.sh failed"; }
deb=$(ls "$work"/deb/flicgate_*_arm64.deb)
chmod -R a+rX "$work/deb"

# The boot partition's flicgate.ini: the documented example, [system] first.
{
	cat "$here/boot/flicgate.ini.head"
	sed -n '/^\[system\]/,$p' "$top/conf/flicgate.ini" | sed 1d
	echo
	sed '/^# Applied by the SD-card image/,$d' "$top/conf/flicgate.ini" |
		sed '1,/^$/d'
} > "$work/flicgate.ini"
chmod 0644 "$work/flicgate.ini"

pkgs=(
	systemd-sysv udev dbus kmod initramfs-tools zstd
	linux-image-arm64 raspi-firmware firmware-brcm80211 bluez-firmware wireless-regdb
	bluez wpasupplicant iproute2 iputils-ping systemd-resolved systemd-timesyncd
	openssh-server ca-certificates tzdata sudo less nano procps
	e2fsprogs fdisk dosfstools
)
# overlayroot's initramfs script needs grep, sed and a full mount from
# busybox: without it (a Recommends, so not installed by mmdebstrap) the
# script finds no overlay driver and boots the root read-write.
[ $readonly_root = 1 ] && pkgs+=(overlayroot busybox)

step "installing Debian $suite arm64 (mmdebstrap --mode=unshare)"
mmdebstrap --mode=unshare --variant=minbase --architectures=arm64 \
	--components=main,non-free-firmware \
	--dpkgopt=force-unsafe-io --dpkgopt='path-exclude=/usr/share/doc/*' \
	--dpkgopt='path-include=/usr/share/doc/*/copyright' \
	--dpkgopt='path-include=/usr/share/doc/flicgate/*' \
	--dpkgopt='path-exclude=/usr/share/locale/*' \
	--include="$(IFS=,; echo "${pkgs[*]}")" --include="$deb" \
	--hook-dir=/usr/share/mmdebstrap/hooks/file-mirror-automount \
	--skip=essential/unlink \
	--setup-hook="mkdir -p \"\$1/var/cache/apt/archives\"" \
	--setup-hook="sync-in '$cache' /var/cache/apt/archives/" \
	--essential-hook='chroot "$1" dpkg-divert --quiet --local --rename --add /usr/sbin/update-initramfs' \
	--essential-hook='printf "#!/bin/sh\nexit 0\n" > "$1/usr/sbin/update-initramfs"; chmod 0755 "$1/usr/sbin/update-initramfs"' \
	--customize-hook="sync-out /var/cache/apt/archives '$cache'" \
	--customize-hook="copy-in '$work/flicgate.ini' /tmp" \
	--customize-hook="sync-in '$here/rootfs' /" \
	--customize-hook="'$here/customize.sh' \"\$1\" $readonly_root" \
	--customize-hook="'$here/make-fs.sh' \"\$1\" '$work/drop' $readonly_root" \
	"$suite" /dev/null "$mirror"

step "assembling the disk image"
"$here/assemble.sh" "$work/drop" "$work/$name.img" $readonly_root
img_mib=$(( $(stat -c %s "$work/$name.img") / 1048576 ))

step "compressing"
xz -T0 -6 -k -c "$work/$name.img" > "$work/$name.img.xz"
mv -f "$work/$name.img.xz" "$out/"
if [ "${KEEP_RAW:-0}" = 1 ]; then mv -f "$work/$name.img" "$out/"; fi
(cd "$out" && sha256sum "$name.img.xz" > "$name.img.xz.sha256")
cp "$work/drop/manifest.txt" "$out/$name.manifest"
step "done: $out/$name.img.xz ($img_mib MiB raw, $(( $(stat -c %s "$out/$name.img.xz") / 1048576 )) MiB xz)"
exit
}
