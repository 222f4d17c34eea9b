#!/bin/bash
# Build and test the GPIO code against libgpiod 2.x, the API of Debian 13
# and current Raspberry Pi OS, on a Debian 12 host that has libgpiod 1.6.
#
# Makes a Debian 13 (trixie) build root with mmdebstrap once, keeps it under
# $FG_CACHE (default ~/.cache/flicgate), copies daemon/ and tests/ into it,
# compiles every daemon/feedback/gpio*.c with the core and lib files they need
# with -Werror and FG_GPIOD_API=2, links tests/test-gpio.c and runs it
# there (the adapter on a real sd-event loop, the libgpiod 2 driver's
# paths that need no hardware: missing chip, missing label, not a chip).
#
#   tests/build-gpiod2.sh            needs root (chroot) and mmdebstrap
#   FG_CACHE=/var/cache/fg tests/build-gpiod2.sh
#   FG_GPIOD2_REBUILD=1 ...          make the build root again
#
# Exit 0: built and passed. Anything else, with a message, is a failure;
# in particular a build root that cannot be made is an error, not a skip.
set -euo pipefail
cd "$(dirname "$0")/.."

CACHE=${FG_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/flicgate}
ROOT=$CACHE/trixie-gpiod2
PKGS=gcc,libc6-dev,pkg-config,libgpiod-dev,libsystemd-dev,libcmocka-dev
SUITE=trixie

die() { echo "build-gpiod2: $*" >&2; exit 1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

[ "$(id -u)" -eq 0 ] || die "needs root (mmdebstrap and chroot)"
command -v mmdebstrap >/dev/null || die "mmdebstrap is not installed (apt-get install mmdebstrap)"

t0=$(now)
if [ "${FG_GPIOD2_REBUILD:-0}" = 1 ] || [ ! -f "$ROOT/.fg-packages" ] ||
   [ "$(cat "$ROOT/.fg-packages")" != "$SUITE $PKGS" ]; then
	echo "build-gpiod2: making the $SUITE build root in $ROOT"
	mkdir -p "$CACHE"
	rm -rf "$ROOT" "$ROOT.tmp"
	if ! mmdebstrap --variant=minbase --include="$PKGS" "$SUITE" "$ROOT.tmp" \
		>"$CACHE/mmdebstrap.log" 2>&1; then
		tail -20 "$CACHE/mmdebstrap.log" >&2
		die "mmdebstrap failed (full log: $CACHE/mmdebstrap.log)"
	fi
	echo "$SUITE $PKGS" >"$ROOT.tmp/.fg-packages"
	mv "$ROOT.tmp" "$ROOT"
	echo "build-gpiod2: build root made in $(since "$t0")s"
else
	echo "build-gpiod2: using the cached build root $ROOT"
fi

t1=$(now)
rm -rf "$ROOT/src"
mkdir -p "$ROOT/src"
cp -a daemon tests "$ROOT/src/"

# Inside the build root: the same warnings as the Makefile, -Werror.
chroot "$ROOT" /bin/sh -euc '
	cd /src
	pkg-config --atleast-version=2 libgpiod ||
		{ echo "libgpiod in the build root is $(pkg-config --modversion libgpiod), not 2.x" >&2; exit 1; }
	echo "build-gpiod2: libgpiod $(pkg-config --modversion libgpiod), $(gcc --version | head -1)"
	CFLAGS="-std=gnu17 -O2 -g -Wall -Wextra -Wmissing-prototypes -Wshadow -Wformat=2 \
		-Wstrict-prototypes -Wno-unused-parameter -Wpointer-arith -Wundef -Wvla \
		-Wwrite-strings -Wmissing-declarations -Wnull-dereference -Werror \
		-D_GNU_SOURCE -DFG_GPIOD_API=2 -Idaemon $(pkg-config --cflags libgpiod libsystemd cmocka)"
	SRC="daemon/lib/*.c daemon/feedback/*.c"
	mkdir -p /build
	for f in $SRC tests/test-gpio.c; do
		gcc $CFLAGS -c "$f" -o "/build/$(echo "$f" | tr / _).o"
	done
	# the libgpiod 2 driver must really be in there
	nm /build/daemon_feedback_gpio-gpiod2.c.o | grep -q " D fg_gpio_driver_gpiod" ||
		{ echo "gpio-gpiod2.c compiled to nothing" >&2; exit 1; }
	gcc -o /build/test-gpio /build/*.o $(pkg-config --libs libgpiod libsystemd cmocka)
	/build/test-gpio
'
echo "build-gpiod2: compiled and tested in $(since "$t1")s (total $(since "$t0")s)"
