/* Put first on the include path of pure files by the Makefile: a pure file
 * takes bytes, events and time in and gives state, bytes and actions out, so
 * it has no business with <systemd/sd-bus.h>. Move the I/O into the domain's adapter. */
#error "<systemd/sd-bus.h> is an I/O header: a pure file may not include it (docs/architecture.md)"
