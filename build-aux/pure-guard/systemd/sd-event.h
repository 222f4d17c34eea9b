/* Put first on the include path of pure files by the Makefile: a pure file
 * takes bytes, events and time in and gives state, bytes and actions out, so
 * it has no business with <systemd/sd-event.h>. Move the I/O into the domain's adapter. */
#error "<systemd/sd-event.h> is an I/O header: a pure file may not include it (docs/architecture.md)"
