# radio: the adapter files (they talk to the outside world); every other .c in
# this folder is pure and built behind build-aux/pure-guard (docs/architecture.md).
ADAPTER_SRC += $(addprefix daemon/radio/,bluez.c bluez-adapter.c bluez-adv.c bluez-bus.c \
	bluez-device.c bluez-gatt.c bluez-link.c buttons.c buttons-budget.c buttons-link.c buttons-pairing.c \
	buttons-radio.c buttons-records.c buttons-session.c buttons-table.c pairing.c)
