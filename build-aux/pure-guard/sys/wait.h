/* Put first on the include path of pure files by the Makefile: a pure file
 * takes bytes, events and time in and gives state, bytes and actions out, so
 * it has no business with <sys/wait.h>. Move the I/O into the domain's adapter. */
#error "<sys/wait.h> is an I/O header: a pure file may not include it (docs/architecture.md)"
