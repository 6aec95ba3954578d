/* SPDX-License-Identifier: MIT */
/* TAP output for the cluster tests (tap.h). */

#include <stdarg.h>
#include <stdio.h>

#include "tap.h"

static unsigned tap_n, tap_failed;

static void line(const char *head, const char *tail, const char *fmt,
		 va_list ap) __attribute__((format(printf, 3, 0)));

static void line(const char *head, const char *tail, const char *fmt,
		 va_list ap)
{
	char name[512];

	vsnprintf(name, sizeof name, fmt, ap);
	printf("%s %u - %s%s\n", head, ++tap_n, name, tail);
	fflush(stdout);
}

void tap_ok(bool ok, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	line(ok ? "ok" : "not ok", "", fmt, ap);
	va_end(ap);
	if (!ok)
		tap_failed++;
}

void tap_skip(const char *reason, const char *fmt, ...)
{
	char tail[256];
	va_list ap;

	snprintf(tail, sizeof tail, " # SKIP %s", reason);
	va_start(ap, fmt);
	line("ok", tail, fmt, ap);
	va_end(ap);
}

void tap_diag(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	printf("# %s\n", msg);
	fflush(stdout);
}

int tap_done(void)
{
	printf("1..%u\n", tap_n);
	return tap_failed ? 1 : 0;
}
