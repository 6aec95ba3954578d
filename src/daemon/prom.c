/* SPDX-License-Identifier: MIT */
/*
 * The exposition format's writer (prom.h).  A scrape is built whole into
 * memory, then handed to the HTTP layer: the engine's state is read once,
 * on the loop's thread, and never while a client reads slowly.
 */

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/prom.h"

static bool grow(struct prom_buf *b, size_t more)
{
	size_t cap;
	char *p;

	if (b->oom)
		return false;
	if (b->len + more + 1 <= b->cap)
		return true;
	cap = b->cap ? b->cap : 4096;
	while (cap < b->len + more + 1)
		cap *= 2;
	p = realloc(b->p, cap);
	if (!p) {
		b->oom = true;
		return false;
	}
	b->p = p;
	b->cap = cap;
	return true;
}

static void put(struct prom_buf *b, const char *s, size_t n)
{
	if (!grow(b, n))
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void puts_(struct prom_buf *b, const char *s)
{
	put(b, s, strlen(s));
}

/* The format's escapes: backslash and newline everywhere, the double
 * quote inside label values only. */
static void escaped(struct prom_buf *b, const char *s, bool quote)
{
	for (; *s; s++) {
		if (*s == '\\')
			puts_(b, "\\\\");
		else if (*s == '\n')
			puts_(b, "\\n");
		else if (*s == '"' && quote)
			puts_(b, "\\\"");
		else
			put(b, s, 1);
	}
}

void prom_escape_label(struct prom_buf *b, const char *s)
{
	escaped(b, s ? s : "", true);
}

void prom_family(struct prom_buf *b, const char *name, const char *type,
		 const char *help)
{
	b->family = name;
	puts_(b, "# HELP ");
	puts_(b, name);
	puts_(b, " ");
	escaped(b, help, false);
	puts_(b, "\n# TYPE ");
	puts_(b, name);
	puts_(b, " ");
	puts_(b, type);
	puts_(b, "\n");
}

static void head(struct prom_buf *b, const struct prom_label *l, unsigned n)
{
	bool first = true;

	puts_(b, b->family ? b->family : "unnamed");
	for (unsigned i = 0; i < n && i < PROM_LABELS_MAX; i++) {
		if (!l[i].name)
			continue;
		puts_(b, first ? "{" : ",");
		first = false;
		puts_(b, l[i].name);
		puts_(b, "=\"");
		prom_escape_label(b, l[i].value);
		puts_(b, "\"");
	}
	if (!first)
		puts_(b, "}");
}

void prom_u64(struct prom_buf *b, const struct prom_label *labels,
	      unsigned nlabels, uint64_t v)
{
	char num[32];

	head(b, labels, nlabels);
	snprintf(num, sizeof num, " %" PRIu64 "\n", v);
	puts_(b, num);
}

void prom_f64(struct prom_buf *b, const struct prom_label *labels,
	      unsigned nlabels, double v)
{
	char num[48];

	head(b, labels, nlabels);
	if (isnan(v))
		snprintf(num, sizeof num, " NaN\n");
	else if (isinf(v))
		snprintf(num, sizeof num, " %cInf\n", v < 0 ? '-' : '+');
	else
		snprintf(num, sizeof num, " %.9g\n", v);
	puts_(b, num);
}

void prom_buf_free(struct prom_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof *b);
}
