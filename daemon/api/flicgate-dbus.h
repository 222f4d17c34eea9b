/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * D-Bus names of the control API, shared by flicgated and flicgatectl.
 * Versioned: an incompatible change gets new names ending in 2.
 * Documented in docs/dbus-api.md.
 */
#define FG_DBUS_NAME		"io.github.flicgate1"
#define FG_DBUS_ROOT_PATH	"/io/github/flicgate1"
#define FG_DBUS_MANAGER_PATH	"/io/github/flicgate1/gateway"
#define FG_DBUS_BUTTON_PREFIX	"/io/github/flicgate1/button"
#define FG_DBUS_MANAGER_IFACE	"io.github.flicgate1.Gateway"
#define FG_DBUS_BUTTON_IFACE	"io.github.flicgate1.Button"
