/* SPDX-License-Identifier: MIT */
#ifndef JVPN_DAEMON_PROM_H
#define JVPN_DAEMON_PROM_H

/*
 * Prometheus text exposition format (version 0.0.4) into a growing
 * buffer: one family header (HELP, TYPE) then its samples.  Pure: no
 * I/O, no clock; the metrics endpoint (metrics.c) and its unit test both
 * drive it.  Label values are escaped (\\, \", \n), HELP text too (\\,
 * \n); names are the caller's constants and are not checked.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { PROM_LABELS_MAX = 4 };	/* label pairs per sample */

struct prom_buf {
	char *p;
	size_t len, cap;
	bool oom;		/* an allocation failed: the text is cut */
	const char *family;	/* the family being written */
};

/* One label pair of a sample. */
struct prom_label {
	const char *name;
	const char *value;
};

/* Start a family: "# HELP name help" and "# TYPE name type" (type is
 * "counter" or "gauge"). */
void prom_family(struct prom_buf *b, const char *name, const char *type,
		 const char *help);

/* A sample of the current family: name{l0="v0",...} value.  `suffix`
 * is appended to the family name (NULL: none); up to PROM_LABELS_MAX
 * labels, those with a NULL name ignored. */
void prom_u64(struct prom_buf *b, const struct prom_label *labels,
	      unsigned nlabels, uint64_t v);
void prom_f64(struct prom_buf *b, const struct prom_label *labels,
	      unsigned nlabels, double v);

/* Append label value s escaped for the exposition format. */
void prom_escape_label(struct prom_buf *b, const char *s);

/* Release the buffer (safe on a zeroed one). */
void prom_buf_free(struct prom_buf *b);

#endif
