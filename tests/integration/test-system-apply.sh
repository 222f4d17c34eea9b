#!/bin/bash
# SPDX-License-Identifier: MIT
# The SD-card image's boot-time applier (image/rootfs/usr/lib/flicgate/
# system-apply) against a fake root: [system] values reach /etc, Wi-Fi gets
# the derived key (IEEE 802.11i test vector), secrets leave the FAT copy and
# nothing else in it changes, a second boot with the same file changes
# nothing, a later edit is applied, a broken file is reported next to it
# and applies nothing, hostile values are refused.
set -u
cd "$(dirname "$0")/../.." || exit 2
BUILD=${FG_BUILD:-$PWD/build}
APPLY=$PWD/image/rootfs/usr/lib/flicgate/system-apply

passed=0 failed=0
check() {
	local what=$1; shift
	if "$@"; then passed=$((passed + 1)); echo "ok - $what"
	else failed=$((failed + 1)); echo "not ok - $what"; fi
}
for t in wpa_passphrase ssh-keygen usermod; do
	command -v $t >/dev/null || { echo "SKIP: $t is not installed (make deps installs it)"; exit 77; }
done
[ -x "$BUILD/flicgated" ] || { echo "SKIP: no $BUILD/flicgated (run make)"; exit 77; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
R=$tmp/root
mkdir -p "$R"/etc/ssh "$R"/boot/firmware "$R"/home/admin "$R"/var/lib "$R"/usr/share/zoneinfo/Europe
echo zone > "$R/usr/share/zoneinfo/Europe/Stockholm"
echo zone > "$R/usr/share/zoneinfo/UTC"
printf 'root:x:0:0:root:/root:/bin/sh\nadmin:x:1000:1000:admin:/home/admin:/bin/bash\n' > "$R/etc/passwd"
printf 'root:*:19000:0:99999:7:::\nadmin:!:19000:0:99999:7:::\n' > "$R/etc/shadow"
printf 'root:x:0:\nadmin:x:1000:\n' > "$R/etc/group"
printf 'root:*::\nadmin:!::\n' > "$R/etc/gshadow"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tflicgate\n' > "$R/etc/hosts"
chown 1000:1000 "$R/home/admin"

mkdir -p "$tmp/pristine/etc" "$tmp/pristine/home/admin"
cp -a "$R/etc/." "$tmp/pristine/etc/"
KEY="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl test@pc"
HASH='$y$j9T$abcdefghijklmnopqrstu.$ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdef'
INI=$R/boot/firmware/flicgate.ini
cat > "$INI" <<INI
# my gateway
[gateway]
name = ward 3

[system]
hostname = ward3-gw
timezone = Europe/Stockholm
wifi_country = se
wifi_ssid = IEEE
wifi_passphrase = password
ssh_authorized_key = $KEY
admin_password_hash = $HASH

[health]
require_time_sync = no
INI

grep -v -e '^wifi_passphrase' -e '^admin_password_hash' "$INI" > "$tmp/expected"
run() { FG_ROOT=$R FG_FLICGATED=$BUILD/flicgated "$APPLY" apply > "$tmp/out" 2>&1; local rc=$?; cat "$tmp/out"; return $rc; }

check "first boot applies" run
check "hostname written" test "$(cat "$R/etc/hostname")" = ward3-gw
check "hosts maps 127.0.1.1 to it" grep -qP '^127\.0\.1\.1\tward3-gw$' "$R/etc/hosts"
check "hosts keeps localhost" grep -q '^127.0.0.1' "$R/etc/hosts"
check "time zone linked" test "$(readlink "$R/etc/localtime")" = /usr/share/zoneinfo/Europe/Stockholm
check "/etc/timezone written" test "$(cat "$R/etc/timezone")" = Europe/Stockholm
W=$R/var/lib/flicgate-system/wpa_supplicant-wlan0.conf
check "Wi-Fi config is 0600" test "$(stat -c %a "$W")" = 600
check "Wi-Fi country upper-cased" grep -qx 'country=SE' "$W"
check "SSID written in hex" grep -qx $'\tssid=49454545' "$W"
check "PSK is the IEEE 802.11i test vector" grep -qx $'\tpsk=f42c6fc52df0ebef9ebb4b90b38a5f902e83fe1b135a70e23aed762e9710a12e' "$W"
check "the passphrase itself is stored nowhere" sh -c "! grep -rq 'password' '$R/etc' '$R/var' '$R/home'"
check "authorized_keys written" test "$(cat "$R/home/admin/.ssh/authorized_keys")" = "$KEY"
check "authorized_keys 0600 owned by admin" test "$(stat -c '%a %u' "$R/home/admin/.ssh/authorized_keys")" = "600 1000"
check "password hash set" grep -qF "admin:$HASH:" "$R/etc/shadow"
check "password hash kept private" test "$(stat -c %a "$R/var/lib/flicgate-system/admin_password_hash")" = 600
check "SSH host keys generated" test -s "$R/var/lib/flicgate-system/ssh/ssh_host_ed25519_key"
check "SSH ECDSA host key generated" test -s "$R/var/lib/flicgate-system/ssh/ssh_host_ecdsa_key"
check "passphrase scrubbed from the FAT copy" sh -c "! grep -q '^wifi_passphrase' '$INI'"
check "hash scrubbed from the FAT copy" sh -c "! grep -q '^admin_password_hash' '$INI'"
check "scrub leaves a note" grep -q '^# wifi_passphrase: applied' "$INI"
grep -v -e '^# wifi_passphrase: applied' -e '^# admin_password_hash: applied' "$INI" > "$tmp/after"
check "the rest of the file is untouched" cmp -s "$tmp/expected" "$tmp/after"
check "no temporary file left" sh -c "! ls '$R/boot/firmware' | grep -q tmp"
check "scrubbed file still valid" "$BUILD/flicgated" --check-config -c "$INI" >/dev/null
check "state dir is private" test "$(stat -c %a "$R/var/lib/flicgate-system")" = 700

# Second boot, same file: nothing changes (the scrubbed secrets mean "keep").
cp -a "$R" "$tmp/before"
hostkey=$(cat "$R/var/lib/flicgate-system/ssh/ssh_host_ed25519_key.pub")
check "second boot applies" run
check "second boot reports nothing applied" test ! -s "$tmp/out"
check "Wi-Fi key kept without the passphrase" grep -qx $'\tpsk=f42c6fc52df0ebef9ebb4b90b38a5f902e83fe1b135a70e23aed762e9710a12e' "$W"
check "password kept" grep -qF "admin:$HASH:" "$R/etc/shadow"
check "SSH host keys kept" test "$(cat "$R/var/lib/flicgate-system/ssh/ssh_host_ed25519_key.pub")" = "$hostkey"

# A read-only root starts every boot with the image's /etc; the state
# directory (data partition) and the scrubbed FAT copy remain.
for f in etc/hostname etc/hosts etc/shadow etc/localtime etc/timezone home/admin/.ssh; do
	rm -rf "${R:?}/$f"
done
cp -a "$tmp/pristine/." "$R/"
check "boot on a reset root applies" run
check "hostname back" test "$(cat "$R/etc/hostname")" = ward3-gw
check "time zone back" test "$(readlink "$R/etc/localtime")" = /usr/share/zoneinfo/Europe/Stockholm
check "password back from the state dir" grep -qF "admin:$HASH:" "$R/etc/shadow"
check "SSH key back" test "$(cat "$R/home/admin/.ssh/authorized_keys")" = "$KEY"
check "Wi-Fi key survives" grep -qx $'\tpsk=f42c6fc52df0ebef9ebb4b90b38a5f902e83fe1b135a70e23aed762e9710a12e' "$W"
check "host keys survive" test "$(cat "$R/var/lib/flicgate-system/ssh/ssh_host_ed25519_key.pub")" = "$hostkey"
check "FAT copy unchanged" cmp -s "$INI" "$tmp/before/boot/firmware/flicgate.ini"

# A later edit on a PC: new host name, time zone, network without a passphrase.
sed -i 's/^hostname = .*/hostname = ward4-gw/; s|^timezone = .*|timezone = UTC|; s/^wifi_ssid = .*/wifi_ssid = Guest "net"/' "$INI"
check "edited file applies" run
check "new hostname" test "$(cat "$R/etc/hostname")" = ward4-gw
check "new time zone" test "$(readlink "$R/etc/localtime")" = /usr/share/zoneinfo/UTC
check "new network is open (no passphrase given)" grep -qx $'\tkey_mgmt=NONE' "$W"
check "SSID with a quote survives as hex" grep -qx $'\tssid=477565737420226e657422' "$W"
check "only the changes were logged" test "$(grep -c 'set' "$tmp/out")" -eq 3

# Hostile values: refused, nothing written.
sed -i 's/^hostname = .*/hostname = a;reboot/; s|^timezone = .*|timezone = ../../etc/shadow|' "$INI"
check "hostile file runs" run
check "bad hostname refused" grep -q "system.hostname: 'a;reboot' is not a valid host name" "$tmp/out"
check "hostname unchanged" test "$(cat "$R/etc/hostname")" = ward4-gw
check "path in time zone refused" test "$(readlink "$R/etc/localtime")" = /usr/share/zoneinfo/UTC

# A file as a new user writes it: a typo in a [button], a city for a time
# zone, a country name, a short passphrase, a plain password. [system] is
# applied all the same (the network must come up); each value not applied
# and each error is in flicgate-errors.txt on the boot partition.
E=$R/boot/firmware/flicgate-errors.txt
cat > "$INI" <<INI
[webhook main]
url = https://example.org/hook
[button reception]
adress = 80:E4:DA:70:12:34
[system]
hostname = broken   # a comment
timezone = Stockholm
wifi_country = Sweden
wifi_ssid = IEEE
wifi_passphrase = 1234567
ssh_authorized_key = $KEY
admin_password = "Secret #1 pass"
INI
check "a file with errors does not fail the boot" run
check "[system] applied despite the [button] typo" test "$(cat "$R/etc/hostname")" = broken
check "the typo is in flicgate-errors.txt" grep -q "button.adress: unknown key" "$E"
check "the city as time zone is in it" grep -q "system.timezone: 'Stockholm' is not a time zone" "$E"
check "the country name is in it" grep -q "system.wifi_country: 'Sweden' is not a two-letter ISO 3166" "$E"
check "the short passphrase is in it" grep -q "system.wifi_passphrase: must be 8 to 63 characters" "$E"
check "the passphrase itself is not" sh -c "! grep -q 1234567 '$E'"
check "the time zone stays" test "$(readlink "$R/etc/localtime")" = /usr/share/zoneinfo/UTC
check "Wi-Fi stays as it was (not opened up)" grep -qx $'\tkey_mgmt=NONE' "$W"
check "the plain password is hashed (SHA-512 crypt)" grep -qE '^admin:\$6\$[^:]+:' "$R/etc/shadow"
check "and the hash verifies" sh -c "h=\$(grep '^admin:' '$R/etc/shadow' | cut -d: -f2); salt=\$(echo \$h | cut -d'\$' -f3);
	test \"\$(printf '%s\\n' 'Secret #1 pass' | openssl passwd -6 -salt \$salt -stdin)\" = \"\$h\""
check "the plain password is erased from the file" sh -c "! grep -q 'Secret' '$INI'"
check "stored nowhere in plain text" sh -c "! grep -rq 'Secret #1' '$R/etc' '$R/var' '$R/home'"
check "the erased password leaves a note" grep -q '^# admin_password: applied' "$INI"
check "the SSH key still applied" test "$(cat "$R/home/admin/.ssh/authorized_keys")" = "$KEY"

# A file with errors in [system] only: the valid values applied, the errors next to it.
printf '[system]\nhostname = broken2\nnot_a_key = 1\n' > "$INI"
check "broken file does not fail the boot" run
check "errors written to the boot partition" grep -q 'not_a_key' "$R/boot/firmware/flicgate-errors.txt"
check "the valid value is applied all the same" test "$(cat "$R/etc/hostname")" = broken2
printf '[system]\nhostname = fixed\n' > "$INI"
check "fixed file applies" run
check "error file removed once fixed" test ! -e "$R/boot/firmware/flicgate-errors.txt"
check "fixed hostname" test "$(cat "$R/etc/hostname")" = fixed
check "ssid removed: Wi-Fi off" test ! -e "$W"
check "key removed: SSH login off" test ! -e "$R/home/admin/.ssh/authorized_keys"

# A crash during a scrub leaves a temporary file: the next run removes it.
echo junk > "$INI.tmp-apply"
check "stale temp file run" run
check "stale temp file removed" test ! -e "$INI.tmp-apply"

echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
