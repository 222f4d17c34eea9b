/* Property dictionaries (a{sv}) read by table (see bus-props.h). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/bus-props.h"
#include "lib/strv.h"

static int store_string(sd_bus_message *m, char type, char **field)
{
	const char *s;
	char *copy;
	int r;

	r = sd_bus_message_read_basic(m, type, &s);
	if (r < 0)
		return r;
	if (*field && strcmp(*field, s) == 0)
		return 0;
	copy = strdup(s);
	if (!copy)
		return -ENOMEM;
	free(*field);
	*field = copy;
	return 1;
}

static bool strv_equal(char *const *a, char *const *b)
{
	size_t n = fg_strv_length(a);

	if (n != fg_strv_length(b))
		return false;
	for (size_t i = 0; i < n; i++)
		if (strcmp(a[i], b[i]) != 0)
			return false;
	return true;
}

static int store_strv(sd_bus_message *m, char ***field)
{
	char **l = NULL;
	const char *s;
	int r;

	r = sd_bus_message_enter_container(m, 'a', "s");
	if (r < 0)
		return r;
	while ((r = sd_bus_message_read_basic(m, 's', &s)) > 0) {
		r = fg_strv_push(&l, s);
		if (r < 0)
			break;
	}
	if (r >= 0)
		r = sd_bus_message_exit_container(m);
	if (r < 0) {
		fg_strv_free(l);
		return r;
	}
	if (strv_equal(l, *field)) {
		fg_strv_free(l);
		return 0;
	}
	fg_strv_free(*field);
	*field = l;
	return 1;
}

/* A fixed-size basic value: read into a scratch, store if it differs. */
static int store_fixed(sd_bus_message *m, char type, void *field)
{
	union {
		uint8_t y;
		int16_t n;
		uint16_t q;
		int32_t i;
		uint32_t u;
		int64_t x;
		uint64_t t;
		double d;
		int b;
	} v;
	size_t size;
	int r;

	r = sd_bus_message_read_basic(m, type, &v);
	if (r < 0)
		return r;
	if (type == 'b') {
		bool b = v.b;

		if (*(bool *)field == b)
			return 0;
		*(bool *)field = b;
		return 1;
	}
	switch (type) {
	case 'y': size = sizeof(v.y); break;
	case 'n': case 'q': size = sizeof(v.q); break;
	case 'i': case 'u': size = sizeof(v.u); break;
	case 'x': case 't': size = sizeof(v.t); break;
	case 'd': size = sizeof(v.d); break;
	default: return -EINVAL;
	}
	if (memcmp(field, &v, size) == 0)
		return 0;
	memcpy(field, &v, size);
	return 1;
}

static int store(sd_bus_message *m, const struct fg_bus_prop *p, void *base, void *userdata)
{
	void *field = (char *)base + p->offset;

	if (p->read)
		return p->read(m, base, userdata);
	if (strcmp(p->type, "as") == 0)
		return store_strv(m, field);
	if (p->type[0] && p->type[1])
		return -EINVAL;	/* a container needs a reader */
	if (p->type[0] == 's' || p->type[0] == 'o')
		return store_string(m, p->type[0], field);
	return store_fixed(m, p->type[0], field);
}

static const struct fg_bus_prop *find(const struct fg_bus_prop *table, const char *name)
{
	for (; table->name; table++)
		if (strcmp(table->name, name) == 0)
			return table;
	return NULL;
}

/* One dictionary entry, positioned after its name. */
static int read_entry(sd_bus_message *m, const struct fg_bus_prop *table, unsigned flags,
		      int (*other)(sd_bus_message *, const char *, void *, void *),
		      const char *name, void *base, unsigned *changed, void *userdata)
{
	const struct fg_bus_prop *p = find(table, name);
	int r;

	if (!p)
		return other ? other(m, name, base, userdata) : sd_bus_message_skip(m, "v");
	r = sd_bus_message_enter_container(m, 'v', p->type);
	if (r == -ENXIO || r == 0)	/* another type in the variant */
		return flags & FG_BUS_PROPS_STRICT ? -EBADMSG : sd_bus_message_skip(m, "v");
	if (r < 0)
		return r;
	r = store(m, p, base, userdata);
	if (r < 0)
		return r;
	if (r > 0)
		*changed |= p->changed;
	return sd_bus_message_exit_container(m);
}

int fg_bus_props_read(sd_bus_message *m, const struct fg_bus_prop *table, unsigned flags,
		      int (*other)(sd_bus_message *m, const char *name, void *base, void *userdata),
		      void *base, unsigned *ret_changed, void *userdata)
{
	unsigned changed = 0;
	const char *name;
	int r;

	r = sd_bus_message_enter_container(m, 'a', "{sv}");
	if (r <= 0)
		return r < 0 ? r : -EBADMSG;
	while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
		r = sd_bus_message_read_basic(m, 's', &name);
		if (r >= 0)
			r = read_entry(m, table, flags, other, name, base, &changed, userdata);
		if (r >= 0)
			r = sd_bus_message_exit_container(m);
		if (r < 0)
			break;
	}
	if (r >= 0)
		r = sd_bus_message_exit_container(m);
	if (ret_changed)
		*ret_changed |= changed;
	return r < 0 ? r : 0;
}

void fg_bus_props_clear(const struct fg_bus_prop *table, void *base)
{
	for (; table->name; table++) {
		void *field = (char *)base + table->offset;

		if (table->read)
			continue;
		if (strcmp(table->type, "as") == 0) {
			*(char ***)field = fg_strv_free(*(char ***)field);
		} else if (strcmp(table->type, "s") == 0 || strcmp(table->type, "o") == 0) {
			free(*(char **)field);
			*(char **)field = NULL;
		}
	}
}
