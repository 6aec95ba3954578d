/* SPDX-License-Identifier: MIT */
/*
 * Fuzz what the metrics endpoint takes from a client and what it writes
 * of other people's text (src/daemon/metrics_render.c, prom.c).  The input
 * is "METHOD\nURL\nLABEL VALUE": the route is 200 only for GET or HEAD of
 * exactly /metrics, else 404 or 405; the escaped label value holds no raw
 * newline and no unescaped quote, and unescapes to the input.
 */

#include <stdlib.h>
#include <string.h>

#include "daemon/metrics.h"
#include "daemon/prom.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *method, *url, *value, *nl;
	struct prom_buf b = { 0 };
	unsigned code;
	size_t j = 0;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	method = text;
	url = value = "";
	if ((nl = strchr(method, '\n'))) {
		*nl = '\0';
		url = nl + 1;
		if ((nl = strchr(url, '\n'))) {
			*nl = '\0';
			value = nl + 1;
		}
	}
	code = mx_route(method, url);
	FUZZ_ASSERT(code == 200 || code == 404 || code == 405);
	FUZZ_ASSERT((code == 200) == (!strcmp(url, "/metrics") &&
				      (!strcmp(method, "GET") ||
				       !strcmp(method, "HEAD"))));
	prom_escape_label(&b, value);
	if (!b.oom && b.p) {
		for (size_t i = 0; i < b.len; i++, j++) {
			FUZZ_ASSERT(b.p[i] != '\n');
			FUZZ_ASSERT(b.p[i] != '"');
			if (b.p[i] == '\\') {
				i++;
				FUZZ_ASSERT(i < b.len);
				FUZZ_ASSERT(value[j] == (b.p[i] == 'n' ? '\n' :
							 b.p[i]));
				FUZZ_ASSERT(b.p[i] == 'n' || b.p[i] == '\\' ||
					    b.p[i] == '"');
			} else {
				FUZZ_ASSERT(value[j] == b.p[i]);
			}
		}
		FUZZ_ASSERT(value[j] == '\0');
	}
	prom_buf_free(&b);
	free(text);
	return 0;
}
