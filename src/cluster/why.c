/* SPDX-License-Identifier: MIT */
/* The one-line reason of a src/cluster failure (why.h). */

#include <stdarg.h>
#include <stdio.h>

#include "cluster/why.h"

int jv_why(char *why, size_t why_len, int code, const char *fmt, ...)
{
	va_list ap;

	if (!why || !why_len)
		return code;
	va_start(ap, fmt);
	vsnprintf(why, why_len, fmt, ap);
	va_end(ap);
	for (char *p = why; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	return code;
}
