/* SPDX-License-Identifier: MIT */
/*
 * Fuzz the daemon's config reader (src/daemon/config.c) on memory, the
 * way jv_config_load takes a file: the bytes are checked first (a NUL or
 * another control byte is refused with its line, jvpn/text.h), then
 * parsed.  Any input is either a config or one diagnostic naming the file
 * and a line of the input; never a crash.  (A KeyFile key makes the
 * reader open that path: it only reads.)
 */

#include <stdlib.h>
#include <string.h>

#include "daemon/config.h"
#include "fuzz.h"
#include "jvpn/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jv_config *c = NULL;
	struct jv_diag d;
	unsigned lines = 1;
	char *text;
	int rc;

	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	jv_diag_clear(&d);
	jv_diag_file(&d, "fuzz.conf");
	rc = jv_text_check(text, size, &d);
	if (rc == 0) {
		FUZZ_ASSERT(jv_text_bad_byte(text, size) == size);
		rc = jv_config_parse(text, "fuzz.conf", &c, &d);
	}
	if (rc == 0) {
		FUZZ_ASSERT(c != NULL);
		jv_config_free(c);
	} else {
		FUZZ_ASSERT(c == NULL);
		FUZZ_ASSERT(d.msg[0] != '\0');
		FUZZ_ASSERT(!strcmp(d.file, "fuzz.conf"));
		FUZZ_ASSERT(d.line <= lines);
	}
	free(text);
	return 0;
}
