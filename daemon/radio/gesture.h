/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>

/*
 * The Flic 2 gestures the gateway can map to alerts. "click" is reported at
 * release and fires for every click; "single_click" and "double_click" are
 * only known once the double-click window has passed; "hold" fires once the
 * button has been held down long enough (about 1 s, decided by the button).
 */
enum fg_gesture {
	FG_GESTURE_DOWN,
	FG_GESTURE_UP,
	FG_GESTURE_CLICK,
	FG_GESTURE_SINGLE_CLICK,
	FG_GESTURE_DOUBLE_CLICK,
	FG_GESTURE_HOLD,
	_FG_GESTURE_MAX,
	_FG_GESTURE_INVALID = -1,
};

/* A set of gestures: bit (1u << FG_GESTURE_x). */
typedef uint32_t fg_gesture_mask;
#define FG_GESTURE_BIT(g) ((fg_gesture_mask)1u << (g))

/* "click", "double_click", …; NULL for an out-of-range value. */
const char *fg_gesture_to_string(enum fg_gesture g);
/* Accepts the names above (also with '-' for '_'); _FG_GESTURE_INVALID else. */
enum fg_gesture fg_gesture_from_string(const char *s);
