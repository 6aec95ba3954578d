/* SPDX-License-Identifier: MIT */
/*
 * Control message decoder.  Built once per ctype with -DFUZZ_CTYPE=<n>
 * (the input is the body; the harness prepends the ctype byte, so every
 * run reaches that message's field checks) and once with FUZZ_CTYPE 0
 * (the input is the whole plaintext).  Invariants: a rejection names its
 * field; what decodes re-encodes to the very same bytes (one encoding per
 * message) and its transport ids are safe to log.
 */

#include <stdlib.h>

#include "fuzz.h"
#include "jvpn/wire.h"

#ifndef FUZZ_CTYPE
#define FUZZ_CTYPE 0
#endif

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (sodium_init() < 0)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t buf[JV_CTRL_MAX + 64], again[JV_CTRL_MAX];
	const uint8_t *in = data;
	size_t n = size;
	struct jv_ctrl m;
	const char *why = NULL;
	int r;

	if (FUZZ_CTYPE) {
		if (size > sizeof buf - 1)
			return 0;
		buf[0] = FUZZ_CTYPE;
		memcpy(buf + 1, data, size);
		in = buf;
		n = size + 1;
	}
	r = jv_ctrl_decode(in, n, &m, &why);
	if (r != 0) {
		FUZZ_ASSERT(r == JV_ERR_PARSE && why != NULL);
		return 0;
	}
	FUZZ_ASSERT(n == jv_ctrl_size(m.type));
	if (m.type == JV_CTRL_REATTACH_REQUEST)
		FUZZ_ASSERT(jv_wire_transport_id_ok(m.request.candidate.transport_id));
	if (m.type == JV_CTRL_REATTACH_ACK)
		FUZZ_ASSERT(jv_wire_transport_id_ok(m.ack.transport_id));
	r = jv_ctrl_encode(&m, again, sizeof again);
	FUZZ_ASSERT(r == (int)n);
	FUZZ_ASSERT(memcmp(again, in, n) == 0);
	return 0;
}
