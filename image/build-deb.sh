#!/bin/bash
# Build flicgate_<version>_<arch>.deb.
#
#   image/build-deb.sh [--arch ARCH] [--suite SUITE] [--out DIR]
#
# SUITE "host" (the default) builds with this machine's compiler and
# libraries: the package then suits this machine's Debian release. A named
# suite (bookworm, trixie) builds inside a throwaway build root of that
# suite made by mmdebstrap --mode=unshare, cross-compiling when ARCH is not
# the build machine's (arm64, armhf). The .deb is assembled by
# "--inside" below in both cases, with dpkg-shlibdeps for Depends.
#
# Environment: VERSION (default: from the Makefile), APT_CACHE (directory
# kept between runs so packages are downloaded once; default
# build/apt-cache), MIRROR (default http://deb.debian.org/debian),
# DEB_MAINTAINER.
set -euo pipefail
# Everything is in one compound command, so bash has read the whole file
# before running any of it: editing the script during a long build is safe.
{

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)

die() { echo "build-deb: $*" >&2; exit 1; }

version=${VERSION:-$(sed -n 's/^VERSION := //p' "$top/Makefile")}
maintainer=${DEB_MAINTAINER:-flicgate maintainers <maintainers@flicgate.invalid>}

triplet_of() {
	case "$1" in
	amd64) echo x86_64-linux-gnu ;;
	arm64) echo aarch64-linux-gnu ;;
	armhf) echo arm-linux-gnueabihf ;;
	*) die "unsupported architecture '$1' (amd64, arm64, armhf)" ;;
	esac
}

suite_tag() {
	case "$1" in
	bookworm) echo deb12 ;;
	trixie) echo deb13 ;;
	forky) echo deb14 ;;
	*) die "unknown suite '$1'" ;;
	esac
}

# Build, install into a staging tree and pack. Runs on the host (suite
# "host") or inside the build root. $1 arch, $2 Debian revision suffix,
# $3 output directory.
inside() {
	local arch=$1 tag=$2 out=$3 build_arch triplet stage work shlibs
	build_arch=$(dpkg --print-architecture)
	triplet=$(triplet_of "$arch")
	# The package is never a sanitizer or -Werror build, whatever the
	# caller's make (make check SAN=1 runs test-deb.sh): the variables a
	# parent make passes down in MAKEFLAGS would otherwise reach this make
	# and mix objects of both kinds in one build directory.
	unset MAKEFLAGS MFLAGS MAKELEVEL
	local -a mk=(BUILD="build-deb-$arch" WERROR=0 SAN=0)
	if [ "$arch" != "$build_arch" ]; then
		mk+=(CC="$triplet-gcc" AR="$triplet-ar")
		export PKG_CONFIG_LIBDIR="/usr/lib/$triplet/pkgconfig:/usr/share/pkgconfig"
	fi
	cd "$top"
	make -s -j"$(nproc)" "${mk[@]}" all
	work=$(mktemp -d)
	stage=$work/stage
	make -s "${mk[@]}" install PREFIX=/usr SYSCONFDIR=/etc DESTDIR="$stage"
	for f in "$stage"/usr/sbin/* "$stage"/usr/bin/*; do
		[ -f "$f" ] || continue
		"$triplet-strip" --strip-unneeded --remove-section=.comment "$f" 2>/dev/null ||
			strip --strip-unneeded "$f"
	done
	find "$stage/usr/share/man" -type f -exec gzip -9n {} +
	install -d "$stage/usr/share/doc/flicgate"
	install -m 0644 "$top/README.md" "$stage/usr/share/doc/flicgate/README.md"
	if [ -f "$top/LICENSE" ]; then
		install -m 0644 "$top/LICENSE" "$stage/usr/share/doc/flicgate/copyright"
	else
		printf 'flicgate\nLicense: MIT\n' > "$stage/usr/share/doc/flicgate/copyright"
	fi

	# dpkg-shlibdeps wants a debian/control next to it.
	mkdir -p "$work/src/debian"
	printf 'Source: flicgate\n\nPackage: flicgate\nArchitecture: any\n' \
		> "$work/src/debian/control"
	local -a bins=()
	for f in "$stage"/usr/sbin/* "$stage"/usr/bin/*; do
		[ -f "$f" ] && bins+=(-e"$f")
	done
	shlibs=$(cd "$work/src" && DEB_HOST_ARCH=$arch dpkg-shlibdeps -O \
			-l"/usr/lib/$triplet" "${bins[@]}" 2>/dev/null |
		sed -n 's/^shlibs:Depends=//p')
	[ -n "$shlibs" ] || die "dpkg-shlibdeps found no dependencies"

	install -d "$stage/DEBIAN"
	sed -e "s|@VERSION@|$version-1~$tag|" -e "s|@ARCH@|$arch|" \
	    -e "s|@SIZE@|$(du -sk --exclude=DEBIAN "$stage" | cut -f1)|" \
	    -e "s|@SHLIBS@|$shlibs|" -e "s|@MAINTAINER@|$maintainer|" \
		"$here/debian/control.in" > "$stage/DEBIAN/control"
	install -m 0644 "$here/debian/conffiles" "$stage/DEBIAN/conffiles"
	for s in postinst prerm postrm; do
		install -m 0755 "$here/debian/$s" "$stage/DEBIAN/$s"
	done
	(cd "$stage" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' |
		sort -z | xargs -0 md5sum > DEBIAN/md5sums)
	mkdir -p "$out"
	dpkg-deb --root-owner-group -Zxz --build "$stage" \
		"$out/flicgate_${version}-1~${tag}_${arch}.deb" >/dev/null
	rm -rf "$work"
	echo "$out/flicgate_${version}-1~${tag}_${arch}.deb"
}

if [ "${1:-}" = --inside ]; then
	shift
	inside "$@"
	exit 0
fi

arch=$(dpkg --print-architecture)
suite=host
out=$top/build/pkg
while [ $# -gt 0 ]; do
	case "$1" in
	--arch) arch=$2; shift 2 ;;
	--suite) suite=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	-h|--help) sed -n '2,17s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) die "unknown argument '$1'" ;;
	esac
done
triplet_of "$arch" >/dev/null
mkdir -p "$out"
out=$(cd "$out" && pwd)

if [ "$suite" = host ]; then
	. /etc/os-release
	[ "$arch" = "$(dpkg --print-architecture)" ] ||
		die "--suite host builds only for $(dpkg --print-architecture); name a suite to cross-build"
	inside "$arch" "deb${VERSION_ID%%.*}" "$out"
	exit 0
fi

tag=$(suite_tag "$suite")
command -v mmdebstrap >/dev/null || die "mmdebstrap is needed (apt-get install mmdebstrap)"
build_arch=$(dpkg --print-architecture)
triplet=$(triplet_of "$arch")
devpkgs="libc6-dev libsystemd-dev libcurl4-openssl-dev libinih-dev libgpiod-dev libssl-dev"
pkgs="make pkg-config dpkg-dev binutils gzip"
archs=$build_arch
if [ "$arch" = "$build_arch" ]; then
	pkgs="$pkgs gcc $devpkgs"
else
	archs="$build_arch,$arch"
	pkgs="$pkgs gcc-$triplet binutils-$triplet"
	for p in $devpkgs; do pkgs="$pkgs $p:$arch"; done
fi

cache=${APT_CACHE:-$top/build/apt-cache}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
src=$(mktemp -d)
trap 'rm -rf "$src"' EXIT
# The working tree as it is (committed or not), without build output.
tar -C "$top" --exclude=./build --exclude='./build-*' --exclude=./.git -cf "$src/src.tar" .
chmod -R a+rX "$src"
drop=$(mktemp -d "$out/.drop.XXXXXX")
chmod 0777 "$drop"

mmdebstrap --quiet --mode=unshare --variant=apt --architectures="$archs" \
	--include="$(echo $pkgs | tr ' ' ,)" --skip=essential/unlink \
	--setup-hook="mkdir -p \"\$1/var/cache/apt/archives\"" \
	--setup-hook="sync-in '$cache' /var/cache/apt/archives/" \
	--customize-hook="sync-out /var/cache/apt/archives '$cache'" \
	--customize-hook="mkdir -p \"\$1/build/src\" \"\$1/build/out\"" \
	--customize-hook="tar-in '$src/src.tar' /build/src" \
	--customize-hook="chroot \"\$1\" /build/src/image/build-deb.sh --inside $arch $tag /build/out" \
	--customize-hook="sync-out /build/out '$drop'" \
	"$suite" /dev/null "${MIRROR:-http://deb.debian.org/debian}"

for f in "$drop"/*.deb; do
	[ -f "$f" ] || die "the build root produced no package"
	mv -f "$f" "$out/"
	echo "$out/$(basename "$f")"
done
rm -rf "$drop"
exit
}
