/* SPDX-License-Identifier: MIT */
/* Conversions between struct jv_addr, socket addresses and text. */

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/netaddr.h"

static const uint8_t v4_mapped_prefix[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

bool jv_netaddr_is_v4(const struct jv_addr *a)
{
	return memcmp(a->ip, v4_mapped_prefix, sizeof v4_mapped_prefix) == 0;
}

uint32_t jv_netaddr_v4(const struct jv_addr *a)
{
	if (!jv_netaddr_is_v4(a))
		return 0;
	return (uint32_t)a->ip[12] << 24 | (uint32_t)a->ip[13] << 16 |
	       (uint32_t)a->ip[14] << 8 | a->ip[15];
}

bool jv_netaddr_is_any(const struct jv_addr *a)
{
	static const uint8_t zero[16];

	if (jv_netaddr_is_v4(a))
		return jv_netaddr_v4(a) == 0;
	return memcmp(a->ip, zero, sizeof zero) == 0;
}

int jv_netaddr_family(const struct jv_addr *a)
{
	return jv_netaddr_is_v4(a) ? AF_INET : AF_INET6;
}

int jv_netaddr_from_sockaddr(struct jv_addr *a, const struct sockaddr *sa,
			     socklen_t len)
{
	if (!a || !sa)
		return JV_ERR_INVAL;
	memset(a, 0, sizeof *a);
	if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		memcpy(a->ip, v4_mapped_prefix, sizeof v4_mapped_prefix);
		memcpy(a->ip + 12, &in->sin_addr, 4);
		a->port = ntohs(in->sin_port);
		return 0;
	}
	if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

		memcpy(a->ip, &in6->sin6_addr, 16);
		a->port = ntohs(in6->sin6_port);
		return 0;
	}
	return JV_ERR_INVAL;
}

socklen_t jv_netaddr_to_sockaddr(const struct jv_addr *a,
				 struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof *ss);
	if (jv_netaddr_is_v4(a)) {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;

		in->sin_family = AF_INET;
		in->sin_port = htons(a->port);
		memcpy(&in->sin_addr, a->ip + 12, 4);
		return sizeof *in;
	}
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

	in6->sin6_family = AF_INET6;
	in6->sin6_port = htons(a->port);
	memcpy(&in6->sin6_addr, a->ip, 16);
	return sizeof *in6;
}

/* Host part only: a dotted quad or an IPv6 literal (no brackets). */
static int parse_host(struct jv_addr *a, const char *s, size_t n)
{
	char tmp[INET6_ADDRSTRLEN];
	struct in_addr v4;

	if (n == 0 || n >= sizeof tmp)
		return JV_ERR_PARSE;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	memset(a, 0, sizeof *a);
	if (inet_pton(AF_INET, tmp, &v4) == 1) {
		memcpy(a->ip, v4_mapped_prefix, sizeof v4_mapped_prefix);
		memcpy(a->ip + 12, &v4, 4);
		return 0;
	}
	if (inet_pton(AF_INET6, tmp, a->ip) == 1)
		return 0;
	return JV_ERR_PARSE;
}

/* Decimal in [0, max] and nothing after it. */
static int parse_uint(const char *s, unsigned long max, unsigned long *v)
{
	char *end;

	if (*s < '0' || *s > '9')
		return JV_ERR_PARSE;
	errno = 0;
	*v = strtoul(s, &end, 10);
	if (errno || *end || *v > max)
		return JV_ERR_PARSE;
	return 0;
}

int jv_netaddr_parse(struct jv_addr *a, const char *s)
{
	const char *host = s, *port = NULL, *colon;
	unsigned long p = 0;
	size_t n;
	int r;

	if (!a || !s)
		return JV_ERR_PARSE;
	if (*s == '[') {
		const char *close = strchr(s, ']');

		if (!close)
			return JV_ERR_PARSE;
		host = s + 1;
		n = (size_t)(close - host);
		if (close[1] == ':')
			port = close + 2;
		else if (close[1])
			return JV_ERR_PARSE;
	} else {
		colon = strchr(s, ':');
		/* One colon: v4 with a port; more: a bare IPv6 literal. */
		if (colon && !strchr(colon + 1, ':')) {
			n = (size_t)(colon - s);
			port = colon + 1;
		} else {
			n = strlen(s);
		}
	}
	r = parse_host(a, host, n);
	if (r)
		return r;
	/* A bracketed host must be IPv6: "[1.2.3.4]" is a typo, not a form. */
	if (*s == '[' && jv_netaddr_is_v4(a) && !memchr(host, ':', n))
		return JV_ERR_PARSE;
	if (port && parse_uint(port, 65535, &p))
		return JV_ERR_PARSE;
	a->port = (uint16_t)p;
	return 0;
}

int jv_netaddr_parse_prefix(struct jv_addr *a, unsigned *prefix, const char *s)
{
	const char *slash;
	unsigned long p, max;
	int r;

	if (!a || !prefix || !s)
		return JV_ERR_PARSE;
	slash = strchr(s, '/');
	r = parse_host(a, s, slash ? (size_t)(slash - s) : strlen(s));
	if (r)
		return r;
	max = jv_netaddr_is_v4(a) ? 32 : 128;
	p = max;
	if (slash && parse_uint(slash + 1, max, &p))
		return JV_ERR_PARSE;
	*prefix = (unsigned)p;
	return 0;
}

const char *jv_netaddr_str(const struct jv_addr *a,
			   char buf[JV_NETADDR_STR_MAX])
{
	char host[INET6_ADDRSTRLEN];
	bool v4 = jv_netaddr_is_v4(a);

	if (!inet_ntop(v4 ? AF_INET : AF_INET6, v4 ? a->ip + 12 : a->ip, host,
		       sizeof host))
		snprintf(host, sizeof host, "?");
	if (!a->port)
		snprintf(buf, JV_NETADDR_STR_MAX, "%s", host);
	else if (v4)
		snprintf(buf, JV_NETADDR_STR_MAX, "%s:%u", host, a->port);
	else
		snprintf(buf, JV_NETADDR_STR_MAX, "[%s]:%u", host, a->port);
	return buf;
}
