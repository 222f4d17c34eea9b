#!/bin/bash
# The daemon's pure files stay pure (docs/architecture.md, "Pure and adapter").
#
# A pure file is every daemon/<domain>/*.c that its domain's adapters.mk does
# not list. The build already puts build-aux/pure-guard/ first on their
# include path; this test checks, on the objects the build made:
#  1. the guard works: an I/O header behind it stops the compiler;
#  2. no pure file or daemon header it includes names an I/O header;
#  3. no pure object calls the operating system, the clock, D-Bus, curl,
#     libgpiod, the log or lib/'s file, clock and bus helpers (undefined
#     symbols, nm -u);
#  4. no pure object calls into an adapter (a symbol an adapter defines).
set -euo pipefail
cd "${FG_SRCDIR:-$(dirname "$0")/../..}"
BUILD=${FG_BUILD:-$PWD/build}
CC=${CC:-cc}
fail=0
bad() { echo "FAIL: $*"; fail=1; }

# I/O headers: the guard's own list, so the two cannot drift apart.
mapfile -t guarded < <(cd build-aux/pure-guard && find . -name '*.h' | sed 's|^\./||' | sort)
[ ${#guarded[@]} -ge 10 ] || { echo "FAIL: build-aux/pure-guard has ${#guarded[@]} headers"; exit 1; }

# 1. the guard refuses each header it holds
for h in "${guarded[@]}"; do
	if printf '#include <%s>\n' "$h" |
		"$CC" -Ibuild-aux/pure-guard -fsyntax-only -x c - 2>/dev/null; then
		bad "build-aux/pure-guard lets <$h> through"
	fi
done

mapfile -t pure < <(make -s --no-print-directory print-pure | tr ' ' '\n' | sed '/^$/d')
mapfile -t adapters < <(make -s --no-print-directory print-adapters | tr ' ' '\n' | sed '/^$/d')
[ ${#pure[@]} -ge 10 ] || { echo "FAIL: only ${#pure[@]} pure files listed"; exit 1; }
echo "pure files: ${#pure[@]}, adapters: ${#adapters[@]}"

# 2. includes, followed through the daemon's own headers
inc_re=$(printf '%s\n' "${guarded[@]}" | sed 's/[.]/\\./g' | paste -sd'|')
declare -A seen=()
check_includes() {	# file who
	local f=$1 who=$2 h
	[ -n "${seen[$f]:-}" ] && return
	seen[$f]=1
	if grep -nE "^[[:space:]]*#[[:space:]]*include[[:space:]]*<($inc_re)>" "$f" >/dev/null; then
		bad "$who: $(grep -nE "^[[:space:]]*#[[:space:]]*include[[:space:]]*<($inc_re)>" "$f" | head -1 | sed "s|^|$f:|")"
	fi
	while read -r h; do
		[ -f "daemon/$h" ] && check_includes "daemon/$h" "$who"
	done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f")
}
for f in "${pure[@]}"; do
	seen=()
	check_includes "$f" "$f"
done

# 3. and 4. symbols
forbidden='^(open|open64|openat|openat64|creat|read|write|pread|pread64|pwrite|pwrite64|readv|writev|close|fsync|fdatasync|sync_file_range|fopen|fopen64|fdopen|fclose|fread|fwrite|fflush|fgets|fputs|fprintf|printf|vfprintf|puts|perror|socket|connect|bind|listen|accept|send|sendmsg|recv|recvmsg|ioctl|poll|ppoll|select|epoll_.*|unlink|unlinkat|rename|renameat|mkdir|mkdirat|rmdir|opendir|fdopendir|readdir|readdir64|closedir|stat|stat64|fstat|fstat64|lstat|fstatat|statvfs|fstatvfs|ftruncate|fallocate|posix_fallocate|mmap|munmap|dup|dup2|pipe|fork|execv.*|kill|clock_gettime|time|gettimeofday|sleep|usleep|nanosleep|syslog|getrandom|getenv|sd_.*|curl_.*|gpiod_.*|ini_parse|ini_parse_file|log_.*|fg_log_(internal|full_errno|open|set_.*|get_level)|fg_now_.*|fg_read_file|fg_write_file_atomic|fg_fsync_dir_of|fg_mkdir_p|fg_bus_props_.*)$'
adapter_syms=$(for a in "${adapters[@]}"; do
	o="$BUILD/obj/${a%.c}.o"
	[ -f "$o" ] || { echo "MISSING $o" >&2; continue; }
	nm --defined-only -g "$o" | awk '{ print $3 }'
done | sort -u)
for f in "${pure[@]}"; do
	o="$BUILD/obj/${f%.c}.o"
	[ -f "$o" ] || { bad "$o not built (run make test-build)"; continue; }
	while read -r sym; do
		sym=${sym%@*}
		if [[ $sym =~ $forbidden ]]; then
			bad "$f calls $sym: I/O belongs in the domain's adapter"
		elif grep -qxF "$sym" <<<"$adapter_syms"; then
			bad "$f calls $sym, which an adapter defines: pure code may not depend on an adapter"
		fi
	done < <(nm -u "$o" | awk '{ print $2 }')
done

if [ $fail -ne 0 ]; then
	echo "test-purity: FAILED"
	exit 1
fi
echo "test-purity: ${#pure[@]} pure files clean"
