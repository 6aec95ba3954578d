/* SPDX-License-Identifier: MIT */
/* Numbers and times for people (human.h). */

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "human.h"

const char *human_bytes(uint64_t n, char out[HUMAN_MAX])
{
	static const char *const unit[] = { "KiB", "MiB", "GiB", "TiB",
					    "PiB", "EiB" };
	double v = (double)n;
	unsigned u = 0;

	if (n < 1024) {
		snprintf(out, HUMAN_MAX, "%llu B", (unsigned long long)n);
		return out;
	}
	v /= 1024.0;
	while (v >= 1024.0 && u + 1 < sizeof unit / sizeof unit[0]) {
		v /= 1024.0;
		u++;
	}
	snprintf(out, HUMAN_MAX, v < 9.995 ? "%.2f %s" : v < 99.95 ?
		 "%.1f %s" : "%.0f %s", v, unit[u]);
	return out;
}

const char *human_count(uint64_t n, const char *one, const char *many,
			char out[HUMAN_MAX])
{
	snprintf(out, HUMAN_MAX, "%llu %s", (unsigned long long)n,
		 n == 1 ? one : many);
	return out;
}

const char *human_duration(uint64_t ms, unsigned units, char out[HUMAN_MAX])
{
	static const struct {
		uint64_t s;
		const char *name;
	} u[] = {
		{ 86400, "day" }, { 3600, "hour" }, { 60, "minute" },
		{ 1, "second" },
	};
	uint64_t s = ms / 1000;
	size_t o = 0;
	unsigned shown = 0;

	if (ms < 1000) {
		snprintf(out, HUMAN_MAX, "%llu ms", (unsigned long long)ms);
		return out;
	}
	out[0] = '\0';
	for (size_t i = 0; i < sizeof u / sizeof u[0]; i++) {
		uint64_t k = s / u[i].s;

		if (!k)
			continue;
		s -= k * u[i].s;
		o += (size_t)snprintf(out + o, HUMAN_MAX - o, "%s%llu %s%s",
				      shown ? ", " : "", (unsigned long long)k,
				      u[i].name, k == 1 ? "" : "s");
		if (++shown == units || o >= HUMAN_MAX)
			break;
	}
	return out;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
	int64_t era;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

const char *human_time(uint64_t ts_ms, char out[HUMAN_TIME_MAX])
{
	uint64_t s = ts_ms / 1000, sod = s % 86400;
	unsigned m, d;
	int y;

	civil_from_days((int64_t)(s / 86400), &y, &m, &d);
	snprintf(out, HUMAN_TIME_MAX, "%04d-%02u-%02u %02u:%02u:%02u.%03u",
		 y, m, d, (unsigned)(sod / 3600), (unsigned)(sod / 60 % 60),
		 (unsigned)(sod % 60), (unsigned)(ts_ms % 1000));
	return out;
}

/* n digits exactly at *p into *v; advances *p. */
static bool digits(const char **p, unsigned n, unsigned *v)
{
	*v = 0;
	for (unsigned i = 0; i < n; i++, (*p)++) {
		if (**p < '0' || **p > '9')
			return false;
		*v = *v * 10 + (unsigned)(**p - '0');
	}
	return true;
}

static int parse_rfc3339(const char *p, uint64_t *out)
{
	static const unsigned mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30,
					  31, 30, 31 };
	unsigned y, mo, d, h, mi, s, ms = 0, oh, om;
	int64_t t, off = 0;

	/* each test fails on the NUL, so nothing reads past it */
	if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) ||
	    *p++ != '-' || !digits(&p, 2, &d) || !strchr("Tt ", *p) || !*p)
		return -1;
	p++;
	if (!digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &mi) ||
	    *p++ != ':' || !digits(&p, 2, &s))
		return -1;
	if (*p == '.') {
		unsigned n = 0;

		p++;
		if (*p < '0' || *p > '9')
			return -1;
		for (; *p >= '0' && *p <= '9'; p++, n++)
			if (n < 3)
				ms = ms * 10 + (unsigned)(*p - '0');
		for (; n < 3; n++)
			ms *= 10;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p++ == '-' ? -1 : 1;

		if (!digits(&p, 2, &oh) || *p++ != ':' || !digits(&p, 2, &om) ||
		    oh > 23 || om > 59)
			return -1;
		off = sign * (int64_t)(oh * 3600 + om * 60);
	} else {
		return -1;
	}
	if (*p || y < 1970 || mo < 1 || mo > 12 || d < 1 ||
	    d > mdays[mo - 1] || (mo == 2 && d == 29 &&
				   (y % 4 || (y % 100 == 0 && y % 400))) ||
	    h > 23 || mi > 59 || s > 60)
		return -1;
	t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 +
	    (s == 60 ? 59 : s) - off;
	if (t < 0)
		return -1;
	*out = (uint64_t)t * 1000 + ms;
	return 0;
}

int human_parse_since(const char *s, uint64_t now_ms, uint64_t *out)
{
	static const struct {
		const char *name;
		uint64_t ms;
	} unit[] = {
		{ "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 },
		{ "d", 86400000 },
	};
	uint64_t v = 0;
	const char *p = s;

	if (!s || !*s)
		return -1;
	if (strlen(s) >= 10 && s[4] == '-')
		return parse_rfc3339(s, out);
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (p == s)
		return -1;
	for (size_t i = 0; i < sizeof unit / sizeof unit[0]; i++) {
		if (strcmp(p, unit[i].name))
			continue;
		if (v > now_ms / unit[i].ms)
			return -1;	/* before 1970 */
		*out = now_ms - v * unit[i].ms;
		return 0;
	}
	return -1;
}
