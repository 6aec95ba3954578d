/* SPDX-License-Identifier: MIT */
#ifndef JVPN_TESTS_CLUSTER_TAP_H
#define JVPN_TESTS_CLUSTER_TAP_H

/* TAP lines for the cluster tests: one counter per process, so the
 * contract suite and a backend's own cases number one plan together and
 * meson counts every case. */

#include <stdbool.h>

void tap_ok(bool ok, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void tap_skip(const char *reason, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A "# ..." line, for why a case failed. */
void tap_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print the plan; the exit status (1 if any case failed). */
int tap_done(void);

#endif
