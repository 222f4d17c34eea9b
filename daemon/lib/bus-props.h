/*
 * The one reader of D-Bus property dictionaries (a{sv}): BlueZ's Device1,
 * Adapter1 and GattCharacteristic1 in the daemon, flicgated's own objects in
 * flicgatectl, the daemon's objects in the simulator. A table says which
 * names to take, of which type, and where to put them.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <systemd/sd-bus.h>

struct fg_bus_prop {
	const char *name;
	/* the variant's contents: "s", "o", "b", "y", "n", "q", "i", "u", "x",
	 * "t", "d", "as", or anything else when @read is given */
	const char *type;
	/*
	 * NULL: store the value at @base + @offset (char * for "s"/"o", owned by
	 * @base and replaced; bool for "b"; the C type of the rest; char ** for
	 * "as", a strv owned by @base). Otherwise called with the variant
	 * entered, to read its contents; returns > 0 when the value changed,
	 * 0 when not, -errno to stop the walk.
	 */
	int (*read)(sd_bus_message *m, void *base, void *userdata);
	size_t offset;
	unsigned changed;	/* ORed into *ret_changed when the value changed */
};

/* A table entry stored at a member of @type (a struct). */
#define FG_BUS_PROP(name, sig, type, member, bits) \
	{ (name), (sig), NULL, offsetof(type, member), (bits) }
/* A table entry read by @fn. */
#define FG_BUS_PROP_FN(name, sig, fn, bits) { (name), (sig), (fn), 0, (bits) }

enum {
	/*
	 * A known name with another type is -EBADMSG: for our own API, where a
	 * mismatch is a bug. Without it the value is skipped, as a foreign
	 * service (BlueZ) may change a type between releases.
	 */
	FG_BUS_PROPS_STRICT = 1 << 0,
};

/*
 * Reads the a{sv} at @m's read position by @table (ended by an entry whose
 * name is NULL). Names the table does not know go to @other when given
 * (called at the variant, not entered; it must consume it; 0 or -errno),
 * else are skipped, so a newer peer with more properties is fine.
 * *ret_changed (may be NULL) gets the @changed bits of the entries whose
 * value changed ORed in. @userdata is passed to @read and @other.
 * Returns 0 or -errno (-EBADMSG for a malformed dictionary); on error
 * the values read before it stay stored.
 */
int fg_bus_props_read(sd_bus_message *m, const struct fg_bus_prop *table, unsigned flags,
		      int (*other)(sd_bus_message *m, const char *name, void *base, void *userdata),
		      void *base, unsigned *ret_changed, void *userdata);

/* Frees what the "s", "o" and "as" entries of @table stored in @base. */
void fg_bus_props_clear(const struct fg_bus_prop *table, void *base);
