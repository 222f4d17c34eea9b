/* Small macros every part of flicgate shares: array length and the string
 * tables that map our enums to the words written in files, logs and D-Bus. */
#pragma once

#include <stddef.h>
#include <string.h>

#define FG_ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

/*
 * FG_DEFINE_STRING_TABLE(scope, name, type, table)
 *
 * Defines name_to_string(type) -> const char * (NULL for a value outside the
 * table or a hole in it) and name_from_string(const char *) -> the value, or
 * -EINVAL for a word that is not in the table (or NULL). @table is an array
 * of strings indexed by the enum, written with designated initialisers next
 * to the enum's users; its length bounds the lookup, so a trailing NULL
 * sentinel (kept where a NULL-terminated list is also needed) is harmless.
 * @scope is empty for exported functions or `static`.
 *
 *	static const char *const colour_table[] = {
 *		[COLOUR_RED] = "red", [COLOUR_GREEN] = "green",
 *	};
 *	FG_DEFINE_STRING_TABLE(, colour, enum colour, colour_table)
 */
#define FG_DEFINE_STRING_TABLE(scope, name, type, table)			\
	scope const char *name##_to_string(type v)				\
	{									\
		if ((size_t)v >= FG_ELEMENTSOF(table))				\
			return NULL;						\
		return (table)[(size_t)v];					\
	}									\
	scope int name##_from_string(const char *s)				\
	{									\
		if (!s)								\
			return -EINVAL;						\
		for (size_t i_ = 0; i_ < FG_ELEMENTSOF(table); i_++)		\
			if ((table)[i_] && strcmp((table)[i_], s) == 0)		\
				return (int)i_;					\
		return -EINVAL;							\
	}

/* Only the _to_string half, for enums that are never parsed. */
#define FG_DEFINE_STRING_TABLE_TO(scope, name, type, table)			\
	scope const char *name##_to_string(type v)				\
	{									\
		if ((size_t)v >= FG_ELEMENTSOF(table))				\
			return NULL;						\
		return (table)[(size_t)v];					\
	}
