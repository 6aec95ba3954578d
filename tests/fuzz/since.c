/* SPDX-License-Identifier: MIT */
/*
 * Fuzz `jvpn events --since` (src/cli/human.c): any text is a time or
 * refused, never a crash or a read past its end; a time it accepts in
 * RFC 3339 form is one human_time prints back and reads again the same.
 */

#include <stdlib.h>
#include <string.h>

#include "cli/human.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint64_t now = 1796655301123ull;
	char *text, again[HUMAN_TIME_MAX + 2];
	uint64_t t, u;

	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (human_parse_since(text, now, &t) == 0) {
		/* the ages never reach before 1970 or past now */
		if (strlen(text) < 10 || text[4] != '-')
			FUZZ_ASSERT(t <= now);
		human_time(t, again);
		strcat(again, "Z");
		if (t < 253402300800000ull) {	/* year 9999 */
			FUZZ_ASSERT(human_parse_since(again, now, &u) == 0);
			FUZZ_ASSERT(u == t);
		}
	}
	free(text);
	return 0;
}
