/* SPDX-License-Identifier: MIT */
#ifndef JVPN_CLI_LOGREAD_H
#define JVPN_CLI_LOGREAD_H

/*
 * Read an event log line by line in fixed memory, for `jvpn audit` and
 * `jvpn report`: pulled one line at a time (logread_next, so that the
 * lines of several files can be merged), or pushed into an auditor
 * (logread_feed).  A line longer than LOGREAD_LINE_MAX is hashed as it
 * streams by (so the chain check goes on) and handed over as overlong,
 * never held.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "audit/audit.h"

enum {
	LOGREAD_BLOCK = 1 << 20,	/* read size */
	LOGREAD_LINE_MAX = 64 * 1024,	/* longer lines are not parsed */
	LOGREAD_EPSILON_MAX_MS = 60000,	/* --epsilon */
};

/* One file as a source of lines. */
struct logread {
	FILE *f;			/* not owned */
	char *buf;			/* LOGREAD_BLOCK bytes */
	size_t have, pos;		/* buf[pos, have) not read yet */
	bool eof;
	/* the line logread_next returned last */
	unsigned long lineno;
	const char *line;		/* len bytes, no '\n'; "" if overlong */
	size_t len;
	bool overlong;			/* hex is its hash */
	char hex[JV_HASH_HEX];
	bool missing_nl;		/* the file's last line had no '\n' */
};

/* Start reading f.  0, or -1 out of memory (r->f is set all the same). */
int logread_init(struct logread *r, FILE *f);
/* The next line into r: 1, 0 at the end of the file, or -1 on a read
 * error (errno set). */
int logread_next(struct logread *r);
/* Free r's memory (f stays open). */
void logread_fini(struct logread *r);

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

/* The value of --epsilon: 0 to LOGREAD_EPSILON_MAX_MS milliseconds.
 * 0, or -1 when s is not one. */
int logread_epsilon(const char *s, jv_time *out);

#endif
