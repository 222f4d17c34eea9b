/* SPDX-License-Identifier: MIT */
/* NULL-terminated string lists, comma/space list splitting and name validation. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/strv.h"

size_t fg_strv_length(char *const *l)
{
	size_t n = 0;

	while (l && l[n])
		n++;
	return n;
}

int fg_strv_push(char ***l, const char *s)
{
	size_t n = fg_strv_length(*l);
	char **nl, *copy;

	copy = strdup(s);
	if (!copy)
		return -ENOMEM;
	nl = realloc(*l, (n + 2) * sizeof(char *));
	if (!nl) {
		free(copy);
		return -ENOMEM;
	}
	nl[n] = copy;
	nl[n + 1] = NULL;
	*l = nl;
	return 0;
}

bool fg_strv_contains(char *const *l, const char *s)
{
	for (size_t i = 0; l && l[i]; i++)
		if (strcmp(l[i], s) == 0)
			return true;
	return false;
}

int fg_strv_copy(char *const *l, char ***ret)
{
	char **c = NULL;

	for (size_t i = 0; l && l[i]; i++)
		if (fg_strv_push(&c, l[i]) < 0) {
			fg_strv_free(c);
			return -ENOMEM;
		}
	*ret = c;
	return 0;
}

char **fg_strv_free(char **l)
{
	for (size_t i = 0; l && l[i]; i++)
		free(l[i]);
	free(l);
	return NULL;
}

int fg_strv_split_list(const char *s, char ***ret)
{
	char **l = NULL;
	const char *p = s;

	while (p && *p) {
		size_t n;
		char *item;

		while (*p == ',' || isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		n = strcspn(p, ", \t\r\n\v\f");
		item = strndup(p, n);
		if (!item || fg_strv_push(&l, item) < 0) {
			free(item);
			fg_strv_free(l);
			return -ENOMEM;
		}
		free(item);
		p += n;
	}
	*ret = l;
	return 0;
}

bool fg_name_is_valid(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' && *s != '.')
			return false;
	return true;
}
