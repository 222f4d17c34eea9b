/* SPDX-License-Identifier: MIT */
/* Button gestures and their names in files, logs and D-Bus (gesture.h). */
#include <stddef.h>
#include <string.h>

#include "lib/macro.h"
#include "radio/gesture.h"

static const char *const gesture_names[_FG_GESTURE_MAX] = {
	[FG_GESTURE_DOWN] = "down",
	[FG_GESTURE_UP] = "up",
	[FG_GESTURE_CLICK] = "click",
	[FG_GESTURE_SINGLE_CLICK] = "single_click",
	[FG_GESTURE_DOUBLE_CLICK] = "double_click",
	[FG_GESTURE_HOLD] = "hold",
};

FG_DEFINE_STRING_TABLE_TO(, fg_gesture, enum fg_gesture, gesture_names)

enum fg_gesture fg_gesture_from_string(const char *s)
{
	char buf[32];
	size_t n;

	if (!s)
		return _FG_GESTURE_INVALID;
	n = strlen(s);
	if (n == 0 || n >= sizeof(buf))
		return _FG_GESTURE_INVALID;
	for (size_t i = 0; i <= n; i++)
		buf[i] = s[i] == '-' ? '_' : s[i];
	for (int g = 0; g < _FG_GESTURE_MAX; g++)
		if (strcmp(buf, gesture_names[g]) == 0)
			return g;
	return _FG_GESTURE_INVALID;
}
