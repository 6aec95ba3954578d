/* SPDX-License-Identifier: MIT */
#ifndef JVPN_CLUSTER_WHY_H
#define JVPN_CLUSTER_WHY_H

/* The one-line reason every src/cluster function that can fail writes
 * into its caller's why buffer (store.h, seal.h).  Private to
 * src/cluster. */

#include <stddef.h>

/*
 * Format into why (nothing when why is NULL or why_len is 0) as one line:
 * a CR or LF from a message of SQLite, the system or a configured value
 * becomes a space.  Returns code, so a failing path says why and returns
 * in one statement.
 */
int jv_why(char *why, size_t why_len, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
