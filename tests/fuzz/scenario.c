/* SPDX-License-Identifier: MIT */
/*
 * Fuzz the scenario parser (docs/scenarios.md): any text is either a
 * scenario or a list of errors, each naming a line; never a crash, and a
 * rejected text leaves nothing allocated.
 */

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "sim/scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sim_scenario sc;
	struct sim_errors errs;
	char *text = malloc(size + 1);

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	memset(&errs, 0, sizeof errs);
	if (sim_scenario_parse_text(text, "fuzz.ini", &sc, &errs) == JV_OK)
		sim_scenario_free(&sc);
	else
		FUZZ_ASSERT(errs.n > 0 && errs.d[0].msg[0] != '\0');
	free(text);
	return 0;
}
