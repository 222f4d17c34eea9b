# supervision: the adapter files (they talk to the outside world); every other .c in
# this folder is pure and built behind build-aux/pure-guard (docs/architecture.md).
ADAPTER_SRC += $(addprefix daemon/supervision/,supervision.c supervision-alerts.c supervision-audit.c \
	supervision-clock.c supervision-heartbeat.c supervision-state.c supervision-test-window.c audit.c)
