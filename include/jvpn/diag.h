/* SPDX-License-Identifier: MIT */
#ifndef JVPN_DIAG_H
#define JVPN_DIAG_H

/*
 * One diagnostic, shared by every parser of the project (config, policy,
 * scenario files, event log, audit): where the problem is (file, line,
 * key), the offending value, and what is wrong.  Fixed-size, so a parser
 * can fill it without allocating; every text is always NUL-terminated and
 * silently truncated to fit.  A NULL struct jv_diag * is accepted
 * everywhere and means "caller does not want details".  Start from
 * jv_diag_clear (or = {0}): setters keep `file`, which a loader sets once.
 */

#include <stdarg.h>
#include <stddef.h>

#include "error.h"

/* A buffer of this size always holds jv_diag_format's text whole. */
#define JV_DIAG_TEXT_MAX 600

struct jv_diag {
	char file[128];		/* "" = not from a file (string, JSON) */
	unsigned line;		/* 1-based; 0 = no line */
	char key[64];		/* field, key or "line"; "" = none */
	char value[64];		/* offending value as written; "" = none */
	char msg[256];		/* what is wrong, and the allowed range */
};

/* Empty diagnostic (keeps nothing, file included). */
void jv_diag_clear(struct jv_diag *d);

/* Copy name into d->file (truncated); name NULL clears it. */
void jv_diag_file(struct jv_diag *d, const char *name);

/*
 * Set line, key (NULL = none) and msg from a printf format.  file is kept
 * (a loader sets it once); value is cleared: set it after this call with
 * jv_diag_value when there is one.
 */
void jv_diag_set(struct jv_diag *d, unsigned line, const char *key,
		 const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

void jv_diag_vset(struct jv_diag *d, unsigned line, const char *key,
		  const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));

/* Set the offending value from a printf format. */
void jv_diag_value(struct jv_diag *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * "file:line: key = value: msg", leaving out whatever is empty:
 *   "policy.ini:12: volatility.loss_window_ms = 900: must be >= ..."
 *   "policy.ini:3: malformed line ..."      (no key)
 *   "line 3: key: msg"                      (no file)
 *   "key = value: msg"                      (no file, no line)
 * Returns the length written (without NUL), or JV_ERR_NOSPACE when buf
 * was too small (buf then holds a truncated, terminated text), or
 * JV_ERR_INVAL for a NULL d or buf with n > 0.
 */
JV_MUST_CHECK int jv_diag_format(const struct jv_diag *d, char *buf, size_t n);

#endif
