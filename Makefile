# flicgate — one non-recursive Makefile.
#
#   make                 daemon + CLI + tools           (build/)
#   make check           install missing Debian packages, build, run every test
#   make demo            install missing Debian packages, run the simulated gateway
#   make deps            install the Debian build/test packages (idempotent)
#   make install         PREFIX=/usr/local DESTDIR=
#   make fuzz            build the libFuzzer targets with clang and run each FUZZ_TIME s
#   make bench           build and run the benchmarks
#   make docs            regenerate conf/flicgate.ini, docs/flicgate.ini.5 and the
#                        flicgatectl bash completion from their tables
#   make deb / image / image-check / vm-check   see README.md
#   make check-gpiod2    build + test the GPIO code against libgpiod 2 (Debian 13 root)
#
# Knobs: CC, PKG_CONFIG, CFLAGS, LDFLAGS, PREFIX, DESTDIR, SAN=1 (ASan+UBSan),
# WERROR=1, BUILD=dir (default build, build-san with SAN=1).

VERSION := 0.1.0

PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
BINDIR ?= $(PREFIX)/bin
DATADIR ?= $(PREFIX)/share
MANDIR ?= $(DATADIR)/man
SYSCONFDIR ?= /etc
# systemd, D-Bus and udev look under /usr/lib and /usr/share whatever PREFIX is
UNITDIR ?= /usr/lib/systemd/system
SYSUSERSDIR ?= /usr/lib/sysusers.d
TMPFILESDIR ?= /usr/lib/tmpfiles.d
UDEVRULESDIR ?= /usr/lib/udev/rules.d
DBUSPOLICYDIR ?= /usr/share/dbus-1/system.d
DBUSIFACEDIR ?= /usr/share/dbus-1/interfaces
DESTDIR ?=

PKG_CONFIG ?= pkg-config
SAN ?= 0
WERROR ?= 0
ifeq ($(SAN),1)
BUILD ?= build-san
else
BUILD ?= build
endif

CFLAGS ?= -O2 -g
WARNINGS := -Wall -Wextra -Wmissing-prototypes -Wshadow -Wformat=2 \
	-Wstrict-prototypes -Wno-unused-parameter -Wpointer-arith -Wundef \
	-Wvla -Wwrite-strings -Wmissing-declarations -Wnull-dereference
ifeq ($(WERROR),1)
WARNINGS += -Werror
endif

CORE_PKGS := libcrypto inih
DAEMON_PKGS := libsystemd libcurl libgpiod
TEST_PKGS := cmocka

# libgpiod 1.6 (Debian 12) or 2.x (Debian 13, Raspberry Pi OS)
GPIOD_API := $(shell $(PKG_CONFIG) --atleast-version=2 libgpiod 2>/dev/null && echo 2 || echo 1)

pkgcflags = $(shell $(PKG_CONFIG) --cflags $(1) 2>/dev/null)
pkglibs = $(shell $(PKG_CONFIG) --libs $(1) 2>/dev/null)

FG_CPPFLAGS := -D_GNU_SOURCE -DFG_VERSION='"$(VERSION)"' -DFG_GPIOD_API=$(GPIOD_API) -Idaemon
FG_CFLAGS := -std=gnu17 $(WARNINGS) -fno-strict-aliasing -fstack-protector-strong
FG_LDFLAGS :=
ifeq ($(SAN),1)
FG_CFLAGS += -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FG_LDFLAGS += -fsanitize=address,undefined
endif
ALL_LIBS = $(call pkglibs,$(CORE_PKGS) $(DAEMON_PKGS)) -lm

# --- sources (docs/architecture.md) -------------------------------------------
# daemon/<domain>/ holds one domain each. Every .c there is PURE (bytes, events
# and time in; state, bytes and actions out) unless its domain's adapters.mk
# lists it in ADAPTER_SRC. Pure files are compiled without the libsystemd,
# libcurl and libgpiod flags and with build-aux/pure-guard/ first on the
# include path, whose headers (<unistd.h>, <systemd/sd-bus.h>, <curl/curl.h>,
# <gpiod.h>, ...) stop the build with an #error. tests/check-purity then
# also refuses any I/O call in their objects.
DOMAINS := config radio delivery feedback supervision control
ADAPTER_SRC :=
include $(wildcard $(addprefix daemon/,$(addsuffix /adapters.mk,$(DOMAINS))))
DOMAIN_SRC := $(sort $(wildcard $(addprefix daemon/,$(addsuffix /*.c,$(DOMAINS)))))
PURE_SRC := $(filter-out $(ADAPTER_SRC),$(DOMAIN_SRC))
LIB_SRC := $(sort $(wildcard daemon/lib/*.c))
DAEMON_SRC := $(sort $(ADAPTER_SRC) $(filter-out daemon/main.c,$(wildcard daemon/*.c)))
TOOLS := $(sort $(notdir $(patsubst %/,%,$(dir $(wildcard tools/*/*.c)))))
UNIT_TESTS := $(sort $(patsubst tests/%.c,%,$(wildcard tests/test-*.c)))
FUZZERS := $(sort $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz-*.c)))
BENCHES := $(sort $(patsubst tests/bench/%.c,%,$(wildcard tests/bench/bench-*.c)))

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

# flags per object: pure files see only libcrypto and inih
PURE_CFLAGS := -Ibuild-aux/pure-guard $(call pkgcflags,$(CORE_PKGS))
IO_CFLAGS := $(call pkgcflags,$(CORE_PKGS) $(DAEMON_PKGS))
$(call obj,$(PURE_SRC)): FG_OBJ_CFLAGS := $(PURE_CFLAGS)
FG_OBJ_CFLAGS ?= $(IO_CFLAGS)

LIB_A := $(BUILD)/libfglib.a
CORE_A := $(BUILD)/libfgcore.a
DAEMON_A := $(BUILD)/libfgdaemon.a
PROGRAMS := $(BUILD)/flicgated $(addprefix $(BUILD)/,$(TOOLS))
TEST_BINS := $(addprefix $(BUILD)/tests/,$(UNIT_TESTS))
# helper programs the integration tests run (built like unit tests)
TEST_TOOLS := $(sort $(patsubst tests/%.c,%,$(wildcard tests/tools/*.c)))
TEST_BINS += $(addprefix $(BUILD)/tests/,$(TEST_TOOLS))
# buttons-driver makes the allocation of the trusted keys fail on demand
TEST_LDFLAGS_tools/buttons-driver := -Wl,--wrap=calloc

.PHONY: print-pure print-adapters fuzz-deps all check demo deps install uninstall fuzz bench docs clean check-docs \
	deb image image-check vm-check test-build check-gpiod2
.DEFAULT_GOAL := all
# keep objects of pattern-built programs (tests, benchmarks) between runs
.SECONDARY:

all: $(PROGRAMS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(FG_CPPFLAGS) $(FG_OBJ_CFLAGS) $(FG_CFLAGS) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

$(LIB_A): $(call obj,$(LIB_SRC))
	@rm -f $@
	$(AR) rcs $@ $^
$(CORE_A): $(call obj,$(PURE_SRC))
	@rm -f $@
	$(AR) rcs $@ $^
$(DAEMON_A): $(call obj,$(DAEMON_SRC))
	@rm -f $@
	$(AR) rcs $@ $(or $^,/dev/null)

$(BUILD)/flicgated: $(call obj,daemon/main.c) $(DAEMON_A) $(CORE_A) $(LIB_A)
	$(CC) $(FG_LDFLAGS) $(LDFLAGS) -o $@ $^ $(ALL_LIBS)

# Each tools/<name>/ is one program. Tools link only libfglib.a: in particular
# the simulator must never contain the daemon's protocol code.
define tool_rule
$(BUILD)/$(1): $(call obj,$(sort $(wildcard tools/$(1)/*.c))) $(TOOL_EXTRA_$(1)) $(LIB_A)
	$$(CC) $$(FG_LDFLAGS) $$(LDFLAGS) -o $$@ $$^ $$(ALL_LIBS)
endef
$(foreach t,$(TOOLS),$(eval $(call tool_rule,$(t))))

# --- tests -----------------------------------------------------------------
$(BUILD)/tests/%: $(call obj,tests/%.c) $(DAEMON_A) $(CORE_A) $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(FG_LDFLAGS) $(LDFLAGS) $(TEST_LDFLAGS_$*) -o $@ $^ $(ALL_LIBS) $(call pkglibs,$(TEST_PKGS))

# The simulator's unit test compiles its pure pieces directly (they are not
# in any library: the daemon must never link them).
$(BUILD)/tests/test-flicsim-proto: $(call obj,tools/flicsim/chaskey.c tools/flicsim/button-proto.c)

test-build: $(PROGRAMS) $(TEST_BINS)

# the pure sources, for tests/check-purity
print-pure:
	@echo $(PURE_SRC)
print-adapters:
	@echo $(ADAPTER_SRC)

check: deps
	@$(MAKE) --no-print-directory test-build
	@BUILD=$(BUILD) SAN=$(SAN) tests/run-tests $(BUILD)

# --- the main job without hardware ------------------------------------------
# Quiet for a newcomer: V=1 shows the build commands, DEMO_VERBOSE=1 the
# protocol lines of the simulated buttons.
demo: deps
	@echo "Building flicgated, flicgatectl and the simulator$(if $(filter 1,$(V)),, (make demo V=1 shows the commands))..."
	@$(MAKE) --no-print-directory $(if $(filter 1,$(V)),,-s) all
	@tools/demo/run-demo $(BUILD)

# --- Debian packages ---------------------------------------------------------
DEB_DEPS := gcc make pkg-config libc6-dev libsystemd-dev libcurl4-openssl-dev \
	libinih-dev libgpiod-dev libssl-dev libcmocka-dev dbus-daemon python3 \
	python3-dbus python3-gi python3-cryptography clang llvm valgrind ca-certificates \
	mmdebstrap dpkg-dev wpasupplicant openssh-client nghttp2-server openssl \
	tzdata systemd

deps:
	@missing=""; for p in $(DEB_DEPS) $(EXTRA_DEB_DEPS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed$$' \
			|| missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "make deps: installing$$missing"; \
		if [ "$$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi; \
		export DEBIAN_FRONTEND=noninteractive; \
		$$SUDO apt-get update -qq && \
		$$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null \
			|| { echo "make deps: apt-get failed" >&2; exit 1; }; \
	fi

# --- Debian package and SD-card image (image/, docs/image.md) ---------------
# make deb                                  this machine's release and arch
# make deb DEB_SUITE=trixie DEB_ARCH=arm64  any suite/arch, in a build root
# make image [SUITE=bookworm] [READONLY=1]  build/image/*.img.xz + .sha256
# make image-check                          boot it under qemu and check it
SUITE ?= trixie
DEB_SUITE ?= host
DEB_ARCH ?= $(shell dpkg --print-architecture 2>/dev/null)
IMAGE_DEB_DEPS := dpkg-dev mmdebstrap qemu-user-static binfmt-support arch-test \
	dosfstools mtools fdisk e2fsprogs xz-utils qemu-system-arm openssl
IMAGE_RAW = build/image/flicgate-$(VERSION)-$(SUITE)-arm64$(if $(filter 1,$(READONLY)),-ro).img

deb:
	@$(MAKE) --no-print-directory deps EXTRA_DEB_DEPS="dpkg-dev $(if $(filter host,$(DEB_SUITE)),,mmdebstrap qemu-user-static binfmt-support)"
	image/build-deb.sh --suite $(DEB_SUITE) --arch $(DEB_ARCH)

image:
	@$(MAKE) --no-print-directory deps EXTRA_DEB_DEPS="$(IMAGE_DEB_DEPS)"
	KEEP_RAW=1 image/build-image.sh --suite $(SUITE) $(if $(filter 1,$(READONLY)),--readonly)

image-check:
	@$(MAKE) --no-print-directory deps EXTRA_DEB_DEPS="$(IMAGE_DEB_DEPS)"
	@[ -f $(IMAGE_RAW) ] || KEEP_RAW=1 image/build-image.sh --suite $(SUITE) $(if $(filter 1,$(READONLY)),--readonly)
	image/image-check.py $(IMAGE_RAW)

# --- install -----------------------------------------------------------------
MANPAGES := docs/flicgated.8 docs/flicgatectl.1 docs/flicgate.ini.5

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR)
	install -m 0755 $(BUILD)/flicgated $(DESTDIR)$(SBINDIR)/flicgated
	if [ -x $(BUILD)/flicgatectl ]; then install -m 0755 $(BUILD)/flicgatectl $(DESTDIR)$(BINDIR)/flicgatectl; fi
	install -d $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(TMPFILESDIR) \
		$(DESTDIR)$(UDEVRULESDIR) $(DESTDIR)$(DBUSPOLICYDIR) $(DESTDIR)$(DBUSIFACEDIR) \
		$(DESTDIR)$(DATADIR)/doc/flicgate
	sed 's|@SBINDIR@|$(SBINDIR)|g' conf/flicgated.service > $(DESTDIR)$(UNITDIR)/flicgated.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/flicgated.service
	install -m 0644 conf/flicgate.sysusers $(DESTDIR)$(SYSUSERSDIR)/flicgate.conf
	install -m 0644 conf/flicgate.tmpfiles $(DESTDIR)$(TMPFILESDIR)/flicgate.conf
	install -m 0644 conf/60-flicgate-gpio.rules $(DESTDIR)$(UDEVRULESDIR)/60-flicgate-gpio.rules
	install -m 0644 conf/io.github.flicgate1.conf $(DESTDIR)$(DBUSPOLICYDIR)/io.github.flicgate1.conf
	install -m 0644 daemon/control/io.github.flicgate1.xml $(DESTDIR)$(DBUSIFACEDIR)/io.github.flicgate1.xml
	install -m 0644 conf/flicgate.ini $(DESTDIR)$(DATADIR)/doc/flicgate/flicgate.ini
	# the man pages and units name them as /usr/share/doc/flicgate/*.md
	install -m 0644 $(wildcard docs/*.md) $(DESTDIR)$(DATADIR)/doc/flicgate/
	install -d -m 0755 $(DESTDIR)$(SYSCONFDIR)/flicgate
	[ -e $(DESTDIR)$(SYSCONFDIR)/flicgate/flicgate.ini ] || \
		install -m 0640 conf/flicgate.ini $(DESTDIR)$(SYSCONFDIR)/flicgate/flicgate.ini
	for m in $(wildcard $(MANPAGES)); do \
		s=$${m##*.}; install -d $(DESTDIR)$(MANDIR)/man$$s; \
		install -m 0644 $$m $(DESTDIR)$(MANDIR)/man$$s/; done
	if [ -f tools/flicgatectl/flicgatectl.bash ]; then \
		install -d $(DESTDIR)$(DATADIR)/bash-completion/completions; \
		install -m 0644 tools/flicgatectl/flicgatectl.bash \
			$(DESTDIR)$(DATADIR)/bash-completion/completions/flicgatectl; fi

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/flicgated $(DESTDIR)$(BINDIR)/flicgatectl \
		$(DESTDIR)$(UNITDIR)/flicgated.service $(DESTDIR)$(SYSUSERSDIR)/flicgate.conf \
		$(DESTDIR)$(TMPFILESDIR)/flicgate.conf $(DESTDIR)$(UDEVRULESDIR)/60-flicgate-gpio.rules \
		$(DESTDIR)$(DBUSPOLICYDIR)/io.github.flicgate1.conf \
		$(DESTDIR)$(DBUSIFACEDIR)/io.github.flicgate1.xml \
		$(DESTDIR)$(DATADIR)/bash-completion/completions/flicgatectl
	rm -rf $(DESTDIR)$(DATADIR)/doc/flicgate

# --- generated reference -------------------------------------------------------
docs: $(BUILD)/flicgated $(BUILD)/flicgatectl
	$(BUILD)/flicgated --dump-config-example > conf/flicgate.ini
	$(BUILD)/flicgated --dump-config-man > docs/flicgate.ini.5
	$(BUILD)/flicgatectl --bash-completion > tools/flicgatectl/flicgatectl.bash

# --- fuzzing (clang + libFuzzer) -------------------------------------------------
FUZZ_BUILD := build-fuzz
FUZZ_TIME ?= 60
FUZZ_CFLAGS := -std=gnu17 -g -O1 -fsanitize=fuzzer-no-link,address,undefined \
	$(FG_CPPFLAGS) $(call pkgcflags,$(CORE_PKGS))
FUZZ_CORE_SRC := $(LIB_SRC) $(PURE_SRC)

$(FUZZ_BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@

# the fuzzers link the pure files and lib/ only (through an archive, so a
# target takes just what it calls): a fuzzer needing an adapter fails to link
FUZZ_A := $(FUZZ_BUILD)/libfgpure.a
$(FUZZ_A): $(patsubst %.c,$(FUZZ_BUILD)/obj/%.o,$(FUZZ_CORE_SRC))
	@rm -f $@
	$(AR) rcs $@ $^

$(FUZZ_BUILD)/%: $(FUZZ_BUILD)/obj/tests/fuzz/%.o $(FUZZ_A)
	clang -fsanitize=fuzzer,address,undefined -o $@ $^ $(call pkglibs,$(CORE_PKGS)) -lm

fuzz-deps:
	@$(MAKE) --no-print-directory deps EXTRA_DEB_DEPS=libclang-rt-dev

fuzz: fuzz-deps $(addprefix $(FUZZ_BUILD)/,$(FUZZERS))
	@set -e; for f in $(FUZZERS); do \
		mkdir -p $(FUZZ_BUILD)/corpus/$$f; \
		seeds=tests/fuzz/corpus/$$f; [ -d $$seeds ] || seeds=; \
		echo "== $$f ($(FUZZ_TIME)s)"; \
		rc=0; $(FUZZ_BUILD)/$$f -max_total_time=$(FUZZ_TIME) -print_final_stats=1 \
			$(FUZZ_BUILD)/corpus/$$f $$seeds >$(FUZZ_BUILD)/$$f.log 2>&1 || rc=$$?; \
		grep -E 'stat::number_of_executed_units|ERROR|SUMMARY' $(FUZZ_BUILD)/$$f.log || true; \
		[ $$rc -eq 0 ] || { echo "$$f failed (exit $$rc): $(FUZZ_BUILD)/$$f.log" >&2; exit 1; }; \
	done

# --- libgpiod 2.x build and test in a Debian 13 build root (root, mmdebstrap) ---
check-gpiod2: deps
	tests/build-gpiod2.sh

# --- the real-kernel lane: a Debian guest under QEMU (tests/vm, docs/testing.md)
vm-check: deps
	@$(MAKE) --no-print-directory all
	@tests/vm/vm-check -b $(BUILD)

# --- benchmarks ------------------------------------------------------------------
bench: deps
	@$(MAKE) --no-print-directory all $(addprefix $(BUILD)/tests/bench/,$(BENCHES))
	@set -e; for b in $(BENCHES); do echo "== $$b"; $(BUILD)/tests/bench/$$b; done
	@set -e; for b in $(wildcard tests/bench/bench-*.py); do echo "== $$b"; \
		FG_BUILD=$(abspath $(BUILD)) /usr/bin/python3 $$b; done

$(BUILD)/tests/bench/%: $(call obj,tests/bench/%.c) $(DAEMON_A) $(CORE_A) $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(FG_LDFLAGS) $(LDFLAGS) -o $@ $^ $(ALL_LIBS)

clean:
	rm -rf build build-san build-clang build-fuzz build-ci*

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
