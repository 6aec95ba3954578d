/* SPDX-License-Identifier: MIT */
#ifndef JVPN_CLI_LOGREAD_H
#define JVPN_CLI_LOGREAD_H

/*
 * Feed an event log to the auditor line by line in fixed memory, shared by
 * `jvpn audit` and `jvpn report`.  A line longer than LOGREAD_LINE_MAX is
 * hashed as it streams by (so the chain check goes on) and reported to the
 * auditor as overlong, never held.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "audit/audit.h"

enum {
	LOGREAD_BLOCK = 1 << 20,	/* read size */
	LOGREAD_LINE_MAX = 64 * 1024,	/* longer lines are not parsed */
};

/* Called with every line before the auditor sees it ("" for an overlong
 * one); may be NULL. */
typedef void (*logread_tap_fn)(void *ud, const char *line, size_t len,
			       unsigned long lineno);

/*
 * Read f (named `name` in messages, which start with `prog`) into a.
 * *missing_nl tells whether the last line lacked its newline.  Returns 0,
 * or -1 after printing one line saying why (read error, out of memory).
 */
int logread_feed(FILE *f, const char *prog, const char *name,
		 struct jv_audit *a, logread_tap_fn tap, void *ud,
		 bool *missing_nl);

#endif
