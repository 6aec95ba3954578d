/* SPDX-License-Identifier: MIT */
/*
 * Fuzz the event-log reader and the chain checker: any bytes either parse
 * into an event whose formatted line parses again and formats to the same
 * bytes (the writer's output is a fixed point of the reader), or are
 * refused with a diagnostic; the chain checker never crashes on them.
 */

#include <string.h>

#include "fuzz.h"
#include "jvpn/eventlog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jv_parsed_event pe;
	struct jv_diag d;
	struct jv_chain_check cc;
	char line[JV_EVENT_LINE_MAX], again[JV_EVENT_LINE_MAX];
	size_t len, len2;

	jv_diag_clear(&d);
	if (jv_event_parse((const char *)data, size, &pe, &d) == JV_OK) {
		/* Whatever the reader accepts, the writer can write. */
		FUZZ_ASSERT(jv_event_format(&pe.origin, &pe.ev, pe.seq,
					    pe.prev_hash, line, sizeof line,
					    &len) == JV_OK);
		jv_parsed_event_free(&pe);
		struct jv_parsed_event pe2;
		FUZZ_ASSERT(jv_event_parse(line, len, &pe2, NULL) == JV_OK);
		FUZZ_ASSERT(jv_event_format(&pe2.origin, &pe2.ev, pe2.seq,
					    pe2.prev_hash, again, sizeof again,
					    &len2) == JV_OK);
		FUZZ_ASSERT(len2 == len && memcmp(again, line, len) == 0);
		jv_parsed_event_free(&pe2);
	} else {
		FUZZ_ASSERT(d.msg[0] != '\0');
		jv_parsed_event_free(&pe);
	}
	jv_chain_check_init(&cc);
	(void)!jv_chain_check_line(&cc, (const char *)data, size, 1, NULL);
	(void)!jv_chain_check_line(&cc, (const char *)data, size, 2, NULL);
	return 0;
}
