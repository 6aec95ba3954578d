/* SPDX-License-Identifier: MIT */
/* Transport addresses: IPv4 is kept IPv4-mapped so one type covers both. */

#include <stdio.h>
#include <string.h>

#include "jvpn/session.h"

static const uint8_t v4mapped_prefix[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

bool jv_addr_equal(const struct jv_addr *a, const struct jv_addr *b)
{
	return a->port == b->port && memcmp(a->ip, b->ip, sizeof a->ip) == 0;
}

void jv_addr_from_ipv4(struct jv_addr *a, uint32_t ipv4, uint16_t port)
{
	memcpy(a->ip, v4mapped_prefix, sizeof v4mapped_prefix);
	a->ip[12] = (uint8_t)(ipv4 >> 24);
	a->ip[13] = (uint8_t)(ipv4 >> 16);
	a->ip[14] = (uint8_t)(ipv4 >> 8);
	a->ip[15] = (uint8_t)ipv4;
	a->port = port;
}

int jv_addr_format(const struct jv_addr *a, char *buf, size_t n)
{
	int w;

	if (memcmp(a->ip, v4mapped_prefix, sizeof v4mapped_prefix) == 0) {
		w = snprintf(buf, n, "%u.%u.%u.%u:%u", a->ip[12], a->ip[13],
			     a->ip[14], a->ip[15], a->port);
	} else {
		/* Full form, no "::" compression: stable and unambiguous. */
		char hex[40];
		size_t o = 0;
		for (int i = 0; i < 16; i += 2)
			o += (size_t)snprintf(hex + o, sizeof hex - o, "%s%x",
					      i ? ":" : "",
					      (unsigned)(a->ip[i] << 8 | a->ip[i + 1]));
		w = snprintf(buf, n, "[%s]:%u", hex, a->port);
	}
	if (w < 0 || (size_t)w >= n)
		return JV_ERR_NOSPACE;
	return JV_OK;
}
