# config: the adapter files (they talk to the outside world); every other .c in
# this folder is pure and built behind build-aux/pure-guard (docs/architecture.md).
ADAPTER_SRC += $(addprefix daemon/config/,config-load.c)
