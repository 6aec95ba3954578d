/* SPDX-License-Identifier: MIT */
/* The event-log line reader behind `jvpn audit` and `jvpn report`. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "logread.h"

int logread_init(struct logread *r, FILE *f)
{
	memset(r, 0, sizeof *r);
	r->f = f;
	r->buf = malloc(LOGREAD_BLOCK);
	return r->buf ? 0 : -1;
}

void logread_fini(struct logread *r)
{
	free(r->buf);
	r->buf = NULL;
}

/* More bytes; 0, or -1 on a read error (errno set). */
static int fill(struct logread *r)
{
	size_t n;

	if (r->pos) {
		memmove(r->buf, r->buf + r->pos, r->have - r->pos);
		r->have -= r->pos;
		r->pos = 0;
	}
	n = fread(r->buf + r->have, 1, LOGREAD_BLOCK - r->have, r->f);
	if (n == 0) {
		if (ferror(r->f))
			return -1;
		r->eof = true;
	}
	r->have += n;
	return 0;
}

/* The line at pos passed LOGREAD_LINE_MAX without its '\n': hash it up
 * to the '\n' (or the end of the file) a block at a time. */
static int overlong(struct logread *r)
{
	crypto_generichash_state hs;
	unsigned char h[32];

	crypto_generichash_init(&hs, NULL, 0, sizeof h);
	for (;;) {
		char *nl = memchr(r->buf + r->pos, '\n', r->have - r->pos);
		size_t n = nl ? (size_t)(nl - (r->buf + r->pos)) :
				r->have - r->pos;

		crypto_generichash_update(&hs,
			(const unsigned char *)r->buf + r->pos, n);
		r->pos += n;
		if (nl) {
			r->pos++;
			break;
		}
		if (r->eof) {
			r->missing_nl = true;
			break;
		}
		r->pos = r->have = 0;
		if (fill(r))
			return -1;
	}
	crypto_generichash_final(&hs, h, sizeof h);
	sodium_bin2hex(r->hex, sizeof r->hex, h, sizeof h);
	r->overlong = true;
	r->line = "";
	r->len = 0;
	r->lineno++;
	return 1;
}

int logread_next(struct logread *r)
{
	r->overlong = false;
	for (;;) {
		char *nl = memchr(r->buf + r->pos, '\n', r->have - r->pos);

		if (nl) {
			r->line = r->buf + r->pos;
			r->len = (size_t)(nl - r->line);
			r->pos += r->len + 1;
			break;
		}
		if (r->have - r->pos > LOGREAD_LINE_MAX)
			return overlong(r);
		if (r->eof) {
			if (r->have == r->pos)
				return 0;
			r->line = r->buf + r->pos;
			r->len = r->have - r->pos;
			r->pos = r->have;
			r->missing_nl = true;
			break;
		}
		if (fill(r))
			return -1;
	}
	r->lineno++;
	return 1;
}

int logread_feed(FILE *f, const char *prog, const char *name,
		 struct jv_audit *a, logread_tap_fn tap, void *ud,
		 bool *missing_nl)
{
	struct logread r;
	int rc;

	*missing_nl = false;
	if (logread_init(&r, f)) {
		fprintf(stderr, "%s: out of memory\n", prog);
		return -1;
	}
	while ((rc = logread_next(&r)) > 0) {
		if (tap)
			tap(ud, r.line, r.len, r.lineno);
		if (r.overlong ? jv_audit_line_overlong(a, r.lineno, r.hex) :
				 jv_audit_line(a, r.line, r.len, r.lineno)) {
			fprintf(stderr, "%s: %s: out of memory at line %lu\n",
				prog, name, r.lineno);
			rc = -1;
			goto out;
		}
	}
	if (rc < 0)
		fprintf(stderr, "%s: %s: read error: %s\n", prog, name,
			strerror(errno));
	*missing_nl = r.missing_nl;
out:
	logread_fini(&r);
	return rc;
}

int logread_epsilon(const char *s, jv_time *out)
{
	char *end;
	unsigned long long v;

	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > LOGREAD_EPSILON_MAX_MS)
		return -1;
	*out = v;
	return 0;
}
