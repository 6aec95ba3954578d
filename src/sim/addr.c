/* SPDX-License-Identifier: MIT */
/* IPv4 virtual addresses. */

#include <stdio.h>
#include <string.h>

#include "sim/addr.h"

void sim_addr_ipv4(struct jv_addr *a, uint32_t ipv4, uint16_t port)
{
	memset(a, 0, sizeof *a);
	a->ip[10] = a->ip[11] = 0xff;
	a->ip[12] = (uint8_t)(ipv4 >> 24);
	a->ip[13] = (uint8_t)(ipv4 >> 16);
	a->ip[14] = (uint8_t)(ipv4 >> 8);
	a->ip[15] = (uint8_t)ipv4;
	a->port = port;
}

int sim_addr_parse(const char *s, struct jv_addr *a)
{
	unsigned v[5];
	char tail;

	if (sscanf(s, "%3u.%3u.%3u.%3u:%5u%c", &v[0], &v[1], &v[2], &v[3],
		   &v[4], &tail) != 5)
		return JV_ERR_PARSE;
	for (int i = 0; i < 4; i++)
		if (v[i] > 255)
			return JV_ERR_PARSE;
	if (v[4] == 0 || v[4] > 65535)
		return JV_ERR_PARSE;
	/* sscanf accepts signs and spaces; allow digits, dots, colon only. */
	if (strspn(s, "0123456789.:") != strlen(s))
		return JV_ERR_PARSE;
	sim_addr_ipv4(a, v[0] << 24 | v[1] << 16 | v[2] << 8 | v[3],
		      (uint16_t)v[4]);
	return 0;
}

bool sim_addr_eq(const struct jv_addr *a, const struct jv_addr *b)
{
	return a->port == b->port && memcmp(a->ip, b->ip, sizeof a->ip) == 0;
}

const char *sim_addr_str(const struct jv_addr *a, char *buf, size_t n)
{
	snprintf(buf, n, "%u.%u.%u.%u:%u", a->ip[12], a->ip[13], a->ip[14],
		 a->ip[15], a->port);
	return buf;
}
