# delivery: the adapter files (they talk to the outside world); every other .c in
# this folder is pure and built behind build-aux/pure-guard (docs/architecture.md).
ADAPTER_SRC += $(addprefix daemon/delivery/,pipeline.c pipeline-alerts.c pipeline-state.c pipeline-status.c webhook.c spool.c spool-file.c spool-state.c spool-dead.c)
