#!/bin/bash
# SPDX-License-Identifier: MIT
# make deb: build the package for this machine, check its contents and
# control data, then install it with apt into a throwaway Debian root of this
# machine's release (mmdebstrap --mode=unshare) and check what the
# maintainer scripts did: the user and groups, the state directory, the
# conffile and its mode, the enabled service, and that the binary runs.
# Purging it must remove the state directory and the conffile.
#
# FG_DEB_SUITE=trixie (or bookworm) builds the package in a build root of
# that release instead and installs it into that release (a few minutes
# more; run by hand before a release, not on every make check).
set -u
cd "$(dirname "$0")/../.." || exit 2
top=$PWD

passed=0 failed=0
check() {	# description, command...
	local what=$1; shift
	if "$@"; then
		passed=$((passed + 1)); echo "ok - $what"
	else
		failed=$((failed + 1)); echo "not ok - $what"
	fi
}

for t in mmdebstrap dpkg-deb dpkg-shlibdeps; do
	command -v $t >/dev/null || { echo "SKIP: $t is not installed (make deps installs it)"; exit 77; }
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
chmod 0755 "$tmp"

. /etc/os-release
suite=${FG_DEB_SUITE:-host}
if [ "$suite" = host ]; then
	codename=$VERSION_CODENAME
	tag=deb${VERSION_ID%%.*}
else
	codename=$suite
	case "$suite" in bookworm) tag=deb12 ;; trixie) tag=deb13 ;; *) echo "unknown suite $suite"; exit 2 ;; esac
fi
if ! image/build-deb.sh --suite "$suite" --out "$tmp" > "$tmp/build.log" 2>&1; then
	cat "$tmp/build.log"
	echo "not ok - build-deb.sh failed"
	echo "0 passed, 1 failed"
	exit 1
fi
deb=$(ls "$tmp"/flicgate_*.deb)
echo "# built $(basename "$deb")"

field() { dpkg-deb -f "$deb" "$1"; }
version=$(sed -n 's/^VERSION := //p' Makefile)
check "Package is flicgate" test "$(field Package)" = flicgate
check "Version carries the release" test "$(field Version)" = "$version-1~$tag"
check "Architecture is this machine's" test "$(field Architecture)" = "$(dpkg --print-architecture)"
deps=$(field Depends)
for d in libc6 libsystemd0 libinih1 bluez systemd dbus; do
	check "Depends names $d" grep -q "\b$d\b" <<<"$deps"
done
# make check SAN=1 runs this test too: the package must stay a plain build.
check "Depends names no sanitizer runtime" test -z "$(grep -oE 'lib(a|ub)san[0-9]*' <<<"$deps")"

dpkg-deb -c "$deb" | awk '{ print $1, $2, $6 }' > "$tmp/contents"
has() { grep -q -- " $1\$" "$tmp/contents"; }
for f in ./usr/sbin/flicgated ./usr/lib/systemd/system/flicgated.service \
	 ./usr/lib/sysusers.d/flicgate.conf ./usr/lib/tmpfiles.d/flicgate.conf \
	 ./usr/lib/udev/rules.d/60-flicgate-gpio.rules \
	 ./usr/share/dbus-1/system.d/io.github.flicgate1.conf \
	 ./usr/share/dbus-1/interfaces/io.github.flicgate1.xml \
	 ./usr/share/man/man8/flicgated.8.gz ./usr/share/man/man5/flicgate.ini.5.gz \
	 ./etc/flicgate/flicgate.ini ./usr/share/doc/flicgate/copyright; do
	check "ships $f" has "$f"
done
# Every document a shipped man page or unit names is shipped.
mkdir "$tmp/fs"
dpkg-deb -x "$deb" "$tmp/fs"
named=$( { for m in "$tmp"/fs/usr/share/man/man*/*.gz; do zcat "$m"; done
	   cat "$tmp"/fs/usr/lib/systemd/system/*.service; } |
	grep -o '/usr/share/doc/flicgate/[A-Za-z0-9_.-]*' | sed 's/\.$//' | sort -u)
check "the man pages name documents in /usr/share/doc/flicgate" test -n "$named"
check "the man pages name no source-tree docs/ path" sh -c "! { for m in '$tmp'/fs/usr/share/man/man*/*.gz; do zcat \"\$m\"; done; } | grep -q 'docs/[a-z-]*\.md'"
for d in $named; do
	check "ships $d (named by a man page or unit)" has ".$d"
done
for d in alerts dbus-api bluez supervision gpio; do
	check "ships /usr/share/doc/flicgate/$d.md" has "./usr/share/doc/flicgate/$d.md"
done
if [ -x "${FG_BUILD:-build}/flicgatectl" ] || [ -d tools/flicgatectl ]; then
	check "ships flicgatectl" has ./usr/bin/flicgatectl
fi
check "files are owned by root" test -z "$(awk '$2 != "root/root"' "$tmp/contents")"
check "the config is not world-readable" grep -q '^-rw-r----- root/root ./etc/flicgate/flicgate.ini$' "$tmp/contents"
check "unit has no @SBINDIR@ left" sh -c "dpkg-deb --fsys-tarfile '$deb' | tar -xOf - ./usr/lib/systemd/system/flicgated.service | grep -q '^ExecStart=/usr/sbin/flicgated'"
# The unit as shipped: reload without procps, the clock check allowed, the
# clock still unsettable, exposure still at most 2.0.
dpkg-deb --fsys-tarfile "$deb" | tar -xOf - ./usr/lib/systemd/system/flicgated.service > "$tmp/flicgated.service"
check "ExecReload needs no /bin/kill (procps is no dependency)" sh -c "! grep -q '^ExecReload=.*/bin/kill' '$tmp/flicgated.service'"
check "ExecReload calls the daemon's Reload with busctl" grep -q '^ExecReload=/usr/bin/busctl call io.github.flicgate1 .* Reload$' "$tmp/flicgated.service"
check "no ProtectClock=yes: its own filter would deny adjtimex" sh -c "! grep -q '^ProtectClock=yes' '$tmp/flicgated.service'"
adjtimex_after_deny() { awk '/^SystemCallFilter=~@privileged/ { d = 1 } d && /^SystemCallFilter=adjtimex$/ { ok = 1 } END { exit !ok }' "$1"; }
check "adjtimex allowed after the @privileged deny line" adjtimex_after_deny "$tmp/flicgated.service"
check "the bounding set is empty: no CAP_SYS_TIME, the clock cannot be set" grep -q '^CapabilityBoundingSet=$' "$tmp/flicgated.service"
if command -v systemd-analyze >/dev/null; then
	exposure=$(systemd-analyze security --offline=yes "$tmp/flicgated.service" 2>/dev/null |
		sed -n 's/.*Overall exposure level for flicgated.service: \([0-9.]*\).*/\1/p')
	echo "# systemd-analyze security --offline=yes: exposure $exposure"
	check "exposure at most 2.0 ($exposure)" awk -v e="${exposure:-99}" 'BEGIN { exit !(e <= 2.0) }'
fi
mkdir "$tmp/ctl"
dpkg-deb -e "$deb" "$tmp/ctl"
check "conffiles lists the config" test "$(cat "$tmp/ctl/conffiles")" = /etc/flicgate/flicgate.ini
for s in postinst prerm postrm; do
	check "$s is valid sh" sh -n "$tmp/ctl/$s"
done

# make check SAN=1 (CI's sanitizer pass) runs every test a second time.
# build-deb.sh builds the same plain package in both passes, so the slow
# part below (apt into a fresh root: 1-2 minutes, most of this test) would
# only repeat the plain pass: the sanitizer pass stops after the package
# checks above. FG_DEB_INSTALL=1 forces the install in any pass.
if [ "${SAN:-0}" = 1 ] && [ "${FG_DEB_INSTALL:-0}" != 1 ]; then
	echo "# SAN=1: the apt install into a fresh root runs in the plain make check pass only"
	echo "$passed passed, $failed failed"
	[ $failed -eq 0 ]
	exit
fi

# The real thing: apt resolves Depends from the archive and runs the
# maintainer scripts; the checks run inside that root.
cat > "$tmp/inside.sh" <<'INSIDE'
#!/bin/sh
p=0 f=0
c() { w=$1; shift; if "$@"; then p=$((p + 1)); echo "ok - $w"; else f=$((f + 1)); echo "not ok - $w"; fi; }
c "flicgated --version runs" sh -c 'flicgated --version | grep -q "^flicgated "'
c "the shipped config passes --check-config" sh -c 'flicgated --check-config -c /etc/flicgate/flicgate.ini >/dev/null'
c "user flicgate exists" sh -c "getent passwd flicgate >/dev/null"
c "group gpio exists" sh -c "getent group gpio >/dev/null"
c "flicgate is in group bluetooth" sh -c 'id -nG flicgate | grep -qw bluetooth'
c "flicgate is in group gpio" sh -c 'id -nG flicgate | grep -qw gpio'
c "config is root:flicgate 0640" test "$(stat -c '%U:%G %a' /etc/flicgate/flicgate.ini)" = "root:flicgate 640"
c "state dir is flicgate 0700" test "$(stat -c '%U:%G %a' /var/lib/flicgate)" = "flicgate:flicgate 700"
c "the ExecReload= program exists in a minimal root" sh -c 'test -x "$(sed -n "s/^ExecReload=\([^ ]*\).*/\1/p" /usr/lib/systemd/system/flicgated.service)"'
c "service is enabled" test -L /etc/systemd/system/multi-user.target.wants/flicgated.service
c "dpkg knows the conffile" sh -c "dpkg-query -W -f='\${Conffiles}' flicgate | grep -q /etc/flicgate/flicgate.ini"
echo "local edit" >> /etc/flicgate/flicgate.ini
apt-get -qq -y remove flicgate >/dev/null 2>&1
c "remove keeps the edited conffile" grep -q "local edit" /etc/flicgate/flicgate.ini
c "remove takes the binary" test ! -e /usr/sbin/flicgated
apt-get -qq -y purge flicgate >/dev/null 2>&1
c "purge takes the conffile" test ! -e /etc/flicgate/flicgate.ini
c "purge takes the state dir" test ! -e /var/lib/flicgate
echo "inside: $p passed, $f failed"
[ $f -eq 0 ]
INSIDE
chmod 0755 "$tmp/inside.sh"
cache=$top/build/apt-cache
mkdir -p "$cache"
start=$(date +%s)
mmdebstrap --quiet --mode=unshare --variant=apt --skip=essential/unlink \
	--include="$deb" --hook-dir=/usr/share/mmdebstrap/hooks/file-mirror-automount \
	--setup-hook="mkdir -p \"\$1/var/cache/apt/archives\"" \
	--setup-hook="sync-in '$cache' /var/cache/apt/archives/" \
	--customize-hook="sync-out /var/cache/apt/archives '$cache'" \
	--customize-hook="copy-in '$tmp/inside.sh' /tmp" \
	--customize-hook="chroot \"\$1\" /tmp/inside.sh > '$tmp/inside.log' 2>&1 || true" \
	"$codename" /dev/null > "$tmp/mmdebstrap.log" 2>&1
rc=$?
echo "# apt install into a $codename root took $(( $(date +%s) - start ))s"
check "apt installs the .deb into a fresh $codename root" test $rc -eq 0
[ $rc -eq 0 ] || tail -30 "$tmp/mmdebstrap.log"
[ -f "$tmp/inside.log" ] && cat "$tmp/inside.log"
check "every check inside the root passed" grep -q '^inside: [0-9]* passed, 0 failed$' "$tmp/inside.log"

echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
