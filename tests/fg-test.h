/* SPDX-License-Identifier: MIT */
#pragma once

/* cmocka needs these before its header */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

/* A test case with a path-like name: FG_TEST("/config/crlf", test_crlf) */
#define FG_TEST(path, fn) { .name = (path), .test_func = (fn) }
#define FG_TEST_SETUP(path, fn, setup, teardown) \
	{ .name = (path), .test_func = (fn), .setup_func = (setup), .teardown_func = (teardown) }

/* Tests run from the top of the source tree (tests/run-tests does cd there). */
#define FG_SRCDIR "."
