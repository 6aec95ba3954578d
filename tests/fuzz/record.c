/* SPDX-License-Identifier: MIT */
/*
 * The session record decoder (PD-9): bytes from a store file or etcd,
 * after the seal opened.  Invariants: never crashes; what decodes encodes
 * back to the very same bytes (the format has one spelling per record).
 */

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "jvpn/record.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jv_gw_record r;
	uint8_t back[JV_RECORD_SIZE];
	const char *why = NULL;

	if (jv_gw_record_decode(data, size, &r, &why) != JV_OK) {
		if (!why)
			abort();	/* every refusal says why */
		return 0;
	}
	if (jv_gw_record_encode(&r, back, sizeof back) != JV_RECORD_SIZE ||
	    size != JV_RECORD_SIZE || memcmp(back, data, size) != 0)
		abort();
	return 0;
}
