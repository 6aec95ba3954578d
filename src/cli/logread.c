/* SPDX-License-Identifier: MIT */
/* The event-log line reader behind `jvpn audit` and `jvpn report`. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "logread.h"

/* One complete line (or an overlong one, hashed) to the tap and the
 * auditor.  Returns the auditor's result. */
static int one(struct jv_audit *a, logread_tap_fn tap, void *ud,
	       const char *line, size_t len, const char *overlong_hex,
	       unsigned long lineno)
{
	if (overlong_hex) {
		if (tap)
			tap(ud, "", 0, lineno);
		return jv_audit_line_overlong(a, lineno, overlong_hex);
	}
	if (tap)
		tap(ud, line, len, lineno);
	return jv_audit_line(a, line, len, lineno);
}

int logread_feed(FILE *f, const char *prog, const char *name,
		 struct jv_audit *a, logread_tap_fn tap, void *ud,
		 bool *missing_nl)
{
	crypto_generichash_state hs;
	unsigned char h[32];
	char hex[JV_HASH_HEX];
	char *buf = malloc(LOGREAD_BLOCK);
	size_t have = 0;
	unsigned long lineno = 0;
	bool overlong = false;
	int rc = 0;

	*missing_nl = false;
	if (!buf) {
		fprintf(stderr, "%s: out of memory\n", prog);
		return -1;
	}
	for (;;) {
		size_t n = fread(buf + have, 1, LOGREAD_BLOCK - have, f), pos = 0;

		if (n == 0) {
			if (ferror(f)) {
				fprintf(stderr, "%s: %s: read error: %s\n", prog,
					name, strerror(errno));
				rc = -1;
			}
			break;
		}
		have += n;
		for (;;) {
			char *nl = memchr(buf + pos, '\n', have - pos);
			size_t len;

			if (!nl)
				break;
			len = (size_t)(nl - (buf + pos));
			lineno++;
			if (overlong) {
				crypto_generichash_update(&hs,
					(const unsigned char *)buf + pos, len);
				crypto_generichash_final(&hs, h, sizeof h);
				sodium_bin2hex(hex, sizeof hex, h, sizeof h);
				overlong = false;
				rc = one(a, tap, ud, NULL, 0, hex, lineno);
			} else {
				rc = one(a, tap, ud, buf + pos, len, NULL, lineno);
			}
			if (rc)
				goto oom;
			pos += len + 1;
		}
		if (overlong) {
			crypto_generichash_update(&hs,
				(const unsigned char *)buf + pos, have - pos);
			have = 0;
			continue;
		}
		if (have - pos > LOGREAD_LINE_MAX) {
			overlong = true;
			crypto_generichash_init(&hs, NULL, 0, sizeof h);
			crypto_generichash_update(&hs,
				(const unsigned char *)buf + pos, have - pos);
			have = 0;
			continue;
		}
		memmove(buf, buf + pos, have - pos);
		have -= pos;
	}
	if (rc == 0 && (overlong || have > 0)) {
		/* the last line has no newline */
		*missing_nl = true;
		lineno++;
		if (overlong) {
			crypto_generichash_final(&hs, h, sizeof h);
			sodium_bin2hex(hex, sizeof hex, h, sizeof h);
			rc = one(a, tap, ud, NULL, 0, hex, lineno);
		} else {
			rc = one(a, tap, ud, buf, have, NULL, lineno);
		}
		if (rc)
			goto oom;
	}
	free(buf);
	return rc ? -1 : 0;
oom:
	fprintf(stderr, "%s: %s: out of memory at line %lu\n", prog, name,
		lineno);
	free(buf);
	return -1;
}
