/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Helpers shared by the kvm suite's host-side test programs (test-control, test-libxc).
 * Each program defines test_cleanup(): what to show and undo after a failure differs.
 */
#ifndef DOMUS_HOST_TEST_H
#define DOMUS_HOST_TEST_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* Called once a check failed, before the exit: show what helps, leave nothing running. */
static void test_cleanup(void);

/* Print "FAIL (line N): COND: message", clean up, exit 1. */
static void __attribute__((noreturn, format(printf, 3, 4)))
fail(int line, const char *cond, const char *fmt, ...)
{
	va_list ap;

	printf("FAIL (line %d): %s: ", line, cond);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	test_cleanup();
	exit(1);
}

#define TEST_ASSERT(cond, ...)                                                                     \
	do {                                                                                       \
		if (!(cond))                                                                       \
			fail(__LINE__, #cond, __VA_ARGS__);                                        \
	} while (0)

static inline int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline void sleep_ms(int ms)
{
	nanosleep(&(struct timespec){ ms / 1000, (ms % 1000) * 1000000L }, NULL);
}

#endif
