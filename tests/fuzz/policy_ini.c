/* SPDX-License-Identifier: MIT */
/*
 * Fuzz the policy loader: any text is either a valid policy (which must then
 * validate and survive a round trip through its own INI writer and JSON
 * codec) or an error with a diagnostic naming a line.
 */

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fuzz.h"
#include "jvpn/diag.h"
#include "jvpn/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jv_policy p, q;
	struct jv_diag d;
	char *text, buf[8192];

	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';	/* the loader takes a C string: stop at a NUL */
	jv_diag_clear(&d);
	if (jv_policy_load_ini(text, "fuzz.ini", &p, &d) == JV_OK) {
		FUZZ_ASSERT(jv_policy_validate(&p, NULL) == JV_OK);
		/* what the writer prints, the reader reads back identically */
		int n = jv_policy_to_ini(&p, buf, sizeof buf);
		FUZZ_ASSERT(n > 0);
		FUZZ_ASSERT(jv_policy_load_ini(buf, "roundtrip.ini", &q, NULL) == JV_OK);
		FUZZ_ASSERT(jv_policy_equal(&p, &q));
		json_t *j = jv_policy_to_json(&p);
		if (j) {
			FUZZ_ASSERT(jv_policy_from_json(j, &q, NULL) == JV_OK);
			FUZZ_ASSERT(jv_policy_equal(&p, &q));
			json_decref(j);
		}
	} else {
		FUZZ_ASSERT(d.msg[0] != '\0');
	}
	free(text);
	return 0;
}
