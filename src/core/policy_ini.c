/* SPDX-License-Identifier: MIT */
/*
 * The [Policy] section of a config file: a streaming reader (init, line,
 * finish; STYLE.md item 11) that records which keys were set, and a
 * whole-text loader over libinih that knows the line of every key.
 *
 * Required fields (spec §5): without a `profile` key the seven §5 fields
 * must all be present; naming a profile (PD-3) makes the profile supply
 * them, so only `version` stays required.  A profile is a complete,
 * validated policy, and requiring "profile = default" to be spelt out is
 * what keeps a forgotten field from silently taking a default (§5 (3)).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "jvpn/diag.h"
#include "jvpn/text.h"
#include "jvpn/policy.h"
#include "jvpn/text.h"
#include "policy_impl.h"

#define BIT(i) (UINT64_C(1) << (i))

/* ---- values ----------------------------------------------------------- */

/* Quote the value as written (truncated) for the message. */
static void diag_bad(struct jv_diag *d, unsigned line,
		     const struct jv_policy_field *f, const char *text,
		     const char *msg)
{
	jv_diag_set(d, line, f->key, "%s", msg);
	jv_diag_value(d, "\"%.56s%s\"", text, strlen(text) > 56 ? "..." : "");
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Strict decimal: digits only, no sign, no leading zero, no overflow. */
static int parse_uint(const struct jv_policy_field *f, const char *s,
		      uint64_t max, uint64_t *out, unsigned line,
		      struct jv_diag *d)
{
	uint64_t v = 0;

	for (const char *c = s; *c; c++) {
		if (!is_digit(*c)) {
			diag_bad(d, line, f, s,
				 "not a decimal integer (digits only: no sign, exponent, unit or spaces)");
			return JV_ERR_PARSE;
		}
	}
	if (s[0] == '0' && s[1]) {
		diag_bad(d, line, f, s, "leading zero (write the plain decimal number)");
		return JV_ERR_PARSE;
	}
	for (const char *c = s; *c; c++) {
		unsigned digit = (unsigned)(*c - '0');

		if (v > (max - digit) / 10) {
			jv_diag_set(d, line, f->key, "too large (at most %llu)",
				    (unsigned long long)max);
			jv_diag_value(d, "\"%.56s%s\"", s,
				      strlen(s) > 56 ? "..." : "");
			return JV_ERR_PARSE;
		}
		v = v * 10 + digit;
	}
	*out = v;
	return 0;
}

enum { JV_POLICY_DECIMALS = 9 };

static int too_precise(const struct jv_policy_field *f, const char *s,
		       unsigned line, struct jv_diag *d)
{
	diag_bad(d, line, f, s, "more than 9 decimal places");
	return JV_ERR_PARSE;
}

/* Plain decimal "12" or "0.25": no sign, exponent, hex, inf or nan, and
 * at most JV_POLICY_DECIMALS places, so that every value read prints back
 * as plain decimal (jv_policy_to_ini) and reads back identically (the
 * fuzzer found 0.000...0102, 105 zeros, read but not writable). */
static int parse_real(const struct jv_policy_field *f, const char *s,
		      double *out, unsigned line, struct jv_diag *d)
{
	const char *c = s;
	char *end;
	bool ok = is_digit(*c);

	if ((f->flags & JV_PF_OFF) && strcmp(s, "off") == 0) {
		*out = JV_POLICY_OFF;
		return 0;
	}
	while (is_digit(*c))
		c++;
	if (*c == '.') {
		const char *frac = ++c;

		ok = ok && is_digit(*c);
		while (is_digit(*c))
			c++;
		if (ok && *c == '\0' && c - frac > JV_POLICY_DECIMALS)
			return too_precise(f, s, line, d);
	}
	if (ok && *c == '\0' && c - s <= 128) {
		/* strtod follows LC_NUMERIC; the daemon keeps the C locale. */
		*out = strtod(s, &end);
		if (*end == '\0')
			return 0;
	}
	diag_bad(d, line, f, s, (f->flags & JV_PF_OFF) ?
		 "not a plain decimal number (e.g. 0.25; no sign or exponent) or off" :
		 "not a plain decimal number (e.g. 0.25; no sign or exponent)");
	return JV_ERR_PARSE;
}

/* "udp, quic": known names, each once, no empty item. */
static int parse_protos(const struct jv_policy_field *f, const char *s,
			uint32_t *out, unsigned line, struct jv_diag *d)
{
	uint32_t set = 0;
	const char *c = s;

	for (;;) {
		char name[16];
		size_t len = 0;
		int bit;

		while (*c == ' ' || *c == '\t')
			c++;
		while (c[len] && c[len] != ',' && c[len] != ' ' && c[len] != '\t')
			len++;
		if (len == 0 || len >= sizeof(name)) {
			diag_bad(d, line, f, s, len ? "unknown protocol (known: udp, quic, tcp)" :
				 "empty item in the protocol list (e.g. udp, quic)");
			return JV_ERR_PARSE;
		}
		memcpy(name, c, len);
		name[len] = '\0';
		bit = jv_proto_from_name(name);
		if (bit < 0) {
			jv_diag_set(d, line, f->key,
				    "unknown protocol '%s' (known: udp, quic, tcp)", name);
			jv_diag_value(d, "\"%.56s\"", s);
			return JV_ERR_PARSE;
		}
		if (set & (uint32_t)bit) {
			jv_diag_set(d, line, f->key, "protocol '%s' listed twice", name);
			jv_diag_value(d, "\"%.56s\"", s);
			return JV_ERR_PARSE;
		}
		set |= (uint32_t)bit;
		c += len;
		while (*c == ' ' || *c == '\t')
			c++;
		if (*c == '\0')
			break;
		if (*c != ',') {
			diag_bad(d, line, f, s, "protocols are separated by commas (e.g. udp, quic)");
			return JV_ERR_PARSE;
		}
		c++;
	}
	*out = set;
	return 0;
}

static int parse_value(const struct jv_policy_field *f, const char *s,
		       struct jv_policy *dst, unsigned line, struct jv_diag *d)
{
	uint64_t u;
	uint32_t set;
	double v;
	int k, rc;

	if (s[0] == '\0') {
		jv_diag_set(d, line, f->key, "empty value");
		return JV_ERR_PARSE;
	}
	switch (f->kind) {
	case JV_PK_VERSION:
		if (strlen(s) >= sizeof(dst->version)) {
			diag_bad(d, line, f, s, "too long (\"X.Y\", at most 15 characters)");
			return JV_ERR_PARSE;
		}
		memcpy(dst->version, s, strlen(s) + 1);
		return 0;
	case JV_PK_MS:
	case JV_PK_COUNT:
		rc = parse_uint(f, s, f->kind == JV_PK_MS ? UINT64_MAX : UINT32_MAX,
				&u, line, d);
		if (rc == 0)
			jv_policy_set_u(dst, f, u);
		return rc;
	case JV_PK_REAL:
		rc = parse_real(f, s, &v, line, d);
		if (rc == 0)
			jv_policy_set_d(dst, f, v);
		return rc;
	case JV_PK_BOOL:
		if (strcmp(s, "true") && strcmp(s, "false")) {
			diag_bad(d, line, f, s, "must be true or false");
			return JV_ERR_PARSE;
		}
		jv_policy_set_u(dst, f, s[0] == 't');
		return 0;
	case JV_PK_PROTOS:
		rc = parse_protos(f, s, &set, line, d);
		if (rc == 0)
			jv_policy_set_u(dst, f, set);
		return rc;
	case JV_PK_MODE:
		k = jv_policy_change_mode_from_name(s);
		if (k < 0) {
			diag_bad(d, line, f, s, "must be strict or grace");
			return JV_ERR_PARSE;
		}
		jv_policy_set_u(dst, f, (uint64_t)k);
		return 0;
	case JV_PK_PROFILE:
		k = jv_policy_profile_from_name(s);
		if (k < 0) {
			diag_bad(d, line, f, s, "unknown profile (known: default, fast)");
			return JV_ERR_PARSE;
		}
		jv_policy_set_u(dst, f, (uint64_t)k);
		return 0;
	}
	return JV_ERR_PARSE;
}

/* ---- streaming reader -------------------------------------------------- */

void jv_policy_ini_init(struct jv_policy_ini *st)
{
	memset(st, 0, sizeof(*st));
}

int jv_policy_ini_line(struct jv_policy_ini *st, const char *key,
		       const char *value, unsigned line, struct jv_diag *d)
{
	const struct jv_policy_field *f;
	size_t i;
	int rc;

	if (!st || !key || !value) {
		jv_diag_set(d, line, key, "no reader, key or value");
		return JV_ERR_INVAL;
	}
	f = jv_policy_field_find(key);
	if (!f) {
		jv_policy_diag_unknown(d, line, key);
		return JV_ERR_PARSE;
	}
	i = jv_policy_field_index(f);
	if (st->set & BIT(i)) {
		if (st->line[i])
			jv_diag_set(d, line, key, "duplicate key (already set on line %u)",
				    st->line[i]);
		else
			jv_diag_set(d, line, key, "duplicate key");
		return JV_ERR_PARSE;
	}
	rc = parse_value(f, value, &st->vals, line, d);
	if (rc)
		return rc;
	st->set |= BIT(i);
	st->line[i] = line;
	return 0;
}

/* After a validation error: point at the line that caused it. */
static void locate(const struct jv_policy_ini *st, size_t bad, size_t other,
		   enum jv_policy_profile prof, struct jv_diag *d)
{
	const struct jv_policy_field *f = jv_policy_field_at(bad);
	size_t len;

	if (!d || !f)
		return;
	if (st->set & BIT(bad)) {
		d->line = st->line[bad];
		return;
	}
	if (other < JV_POLICY_FIELDS_MAX && (st->set & BIT(other)))
		d->line = st->line[other];
	len = strlen(d->msg);
	if (f->offset == offsetof(struct jv_policy, standby_probe_interval_ms))
		snprintf(d->msg + len, sizeof(d->msg) - len,
			 "; not set, so it follows volatility.heartbeat_interval_ms (PD-4)");
	else
		snprintf(d->msg + len, sizeof(d->msg) - len,
			 "; not set, so it has the %s profile's value",
			 jv_policy_profile_name(prof));
}

int jv_policy_ini_finish(const struct jv_policy_ini *st, struct jv_policy *out,
			 struct jv_diag *d)
{
	const struct jv_policy_field *standby =
		jv_policy_field_find("volatility.standby_probe_interval_ms");
	const struct jv_policy_field *prof_f = jv_policy_field_find("profile");
	enum jv_policy_profile prof = JV_PROFILE_DEFAULT;
	bool named;
	struct jv_policy p;
	size_t bad, other;
	int rc;

	if (!st || !out) {
		jv_diag_set(d, 0, NULL, "no reader or output");
		return JV_ERR_INVAL;
	}
	named = st->set & BIT(jv_policy_field_index(prof_f));
	if (named)
		prof = st->vals.profile;
	for (size_t i = 0; i < jv_policy_field_count(); i++) {
		const struct jv_policy_field *f = jv_policy_field_at(i);

		if (!(f->flags & JV_PF_REQUIRED) || (st->set & BIT(i)))
			continue;
		if (named && f->kind != JV_PK_VERSION)
			continue;
		jv_diag_set(d, 0, f->key, named ? "required field missing (spec §5)" :
			    "required field missing (spec §5); set it, or name a profile (profile = default) to take the profile's value");
		return JV_ERR_PARSE;
	}
	jv_policy_apply_profile(&p, prof);
	for (size_t i = 0; i < jv_policy_field_count(); i++)
		if (st->set & BIT(i))
			jv_policy_copy_field(&p, &st->vals, jv_policy_field_at(i));
	/* PD-4: the default cadence is the heartbeat interval in force. */
	if (!(st->set & BIT(jv_policy_field_index(standby))))
		p.standby_probe_interval_ms = p.heartbeat_interval_ms;
	rc = jv_policy_check(&p, d, &bad, &other);
	if (rc) {
		locate(st, bad, other, prof, d);
		return rc;
	}
	*out = p;
	return 0;
}

/* ---- whole text through libinih ---------------------------------------- */

struct loader {
	const char *pos;		/* next unread byte */
	unsigned lineno;		/* lines handed to inih so far */
	bool indented;			/* current line starts with blank */
	bool stop;			/* report EOF from now on */
	unsigned too_long;		/* line that did not fit, or 0 */
	int max_line;			/* inih's buffer size */
	unsigned keys;			/* keys read in [Policy] */
	unsigned err_line;		/* line of the handler's error */
	int err;
	struct jv_policy_ini st;
	struct jv_diag *d;
};

/*
 * fgets over the string, one line per call, so our count equals inih's
 * lineno (Debian builds inih without INI_HANDLER_LINENO).  A line that
 * does not fit inih's buffer would be split and read as two lines:
 * stop there instead.
 */
static char *read_line(char *str, int num, void *stream)
{
	struct loader *l = stream;
	const char *nl;
	size_t len;

	if (l->stop || *l->pos == '\0')
		return NULL;
	nl = strchr(l->pos, '\n');
	len = nl ? (size_t)(nl - l->pos) + 1 : strlen(l->pos);
	l->lineno++;
	l->max_line = num;
	if (num < 2 || len > (size_t)num - 1) {
		l->too_long = l->lineno;
		l->stop = true;
		return NULL;
	}
	memcpy(str, l->pos, len);
	str[len] = '\0';
	l->pos += len;
	l->indented = str[0] == ' ' || str[0] == '\t';
	return str;
}

static bool ascii_ieq(const char *a, const char *b)
{
	for (; *a && *b; a++, b++) {
		char x = *a >= 'A' && *a <= 'Z' ? (char)(*a + 32) : *a;
		char y = *b >= 'A' && *b <= 'Z' ? (char)(*b + 32) : *b;

		if (x != y)
			return false;
	}
	return *a == *b;
}

static int on_key(void *user, const char *section, const char *name,
		  const char *value)
{
	struct loader *l = user;
	int rc;

	if (l->err)
		return 0;
	if (section[0] == '\0') {
		jv_diag_set(l->d, l->lineno, name,
			    "key outside any section (policy keys go under [Policy])");
		rc = JV_ERR_PARSE;
	} else if (!ascii_ieq(section, "Policy")) {
		return 1;	/* another section: its owner reads it */
	} else if (l->indented) {
		/* inih joins an indented line to the previous value
		 * (multi-line values): never let that change a value. */
		jv_diag_set(l->d, l->lineno, name,
			    "indented line (read as a continuation of the previous value): remove the leading blanks");
		rc = JV_ERR_PARSE;
	} else if (!value) {
		jv_diag_set(l->d, l->lineno, name, "key without a value");
		rc = JV_ERR_PARSE;
	} else {
		l->keys++;
		rc = jv_policy_ini_line(&l->st, name, value, l->lineno, l->d);
	}
	if (rc == 0)
		return 1;
	l->err = rc;
	l->err_line = l->lineno;
	l->stop = true;
	return 0;
}

int jv_policy_load_ini(const char *text, const char *filename,
		       struct jv_policy *out, struct jv_diag *d)
{
	struct jv_diag local;
	struct loader l;
	int rc;

	if (!d)
		d = &local;
	jv_diag_clear(d);
	jv_diag_file(d, filename);
	if (!text || !out) {
		jv_diag_set(d, 0, NULL, "no text or output");
		return JV_ERR_INVAL;
	}
	/* a control byte is refused, not read past (jvpn/text.h) */
	rc = jv_text_check(text, strlen(text), d);
	if (rc)
		return rc;
	memset(&l, 0, sizeof(l));
	l.pos = text;
	l.d = d;
	jv_policy_ini_init(&l.st);
	rc = ini_parse_stream(read_line, &l, on_key, &l);
	if (rc == -2) {
		jv_diag_set(d, 0, NULL, "out of memory reading the INI text");
		return JV_ERR_NOMEM;
	}
	if (rc < 0) {
		jv_diag_set(d, 0, NULL, "INI reader failed (%d)", rc);
		return JV_ERR_PARSE;
	}
	/* inih reports the first bad line, ours or its own: whichever
	 * comes first in the text is the one to report. */
	if (rc > 0 && !(l.err && (unsigned)rc == l.err_line)) {
		jv_diag_set(d, (unsigned)rc, NULL,
			    "malformed line (expected 'key = value', '[section]' or a comment)");
		return JV_ERR_PARSE;
	}
	if (l.err)
		return l.err;
	if (l.too_long) {
		jv_diag_set(d, l.too_long, NULL, "line too long (at most %d characters)",
			    l.max_line - 3);
		return JV_ERR_PARSE;
	}
	if (l.keys == 0) {
		jv_policy_default(out);
		return 0;
	}
	return jv_policy_ini_finish(&l.st, out, d);
}

int jv_policy_load_ini_n(const char *text, size_t len, const char *filename,
			 struct jv_policy *out, struct jv_diag *d)
{
	struct jv_diag local;
	char *copy;
	int rc;

	if (!d)
		d = &local;
	jv_diag_clear(d);
	jv_diag_file(d, filename);
	if (!text || !out) {
		jv_diag_set(d, 0, NULL, "no text or output");
		return JV_ERR_INVAL;
	}
	/* a NUL would end the C string the reader takes: refuse it here,
	 * where the length is known */
	rc = jv_text_check(text, len, d);
	if (rc)
		return rc;
	copy = malloc(len + 1);
	if (!copy) {
		jv_diag_set(d, 0, NULL, "out of memory");
		return JV_ERR_NOMEM;
	}
	memcpy(copy, text, len);
	copy[len] = '\0';
	rc = jv_policy_load_ini(copy, filename, out, d);
	free(copy);
	return rc;
}

/* ---- writer ------------------------------------------------------------ */

int jv_policy_to_ini(const struct jv_policy *p, char *buf, size_t n)
{
	size_t pos = 0, prev_sect = 0;
	const char *prev_key = "";
	char val[160];
	int k;

	if (!p || (!buf && n))
		return JV_ERR_INVAL;
	k = snprintf(buf, n, "[Policy]\n");
	if (k < 0)
		return JV_ERR_INVAL;
	pos = (size_t)k;
	for (size_t i = 0; i < jv_policy_field_count(); i++) {
		const struct jv_policy_field *f = jv_policy_field_at(i);
		const char *dot = strchr(f->key, '.');
		size_t sect = dot ? (size_t)(dot - f->key) : 0;

		k = jv_policy_field_format(f, p, val, sizeof(val));
		if (k < 0)
			return k == JV_ERR_NOSPACE ? JV_ERR_INVAL : k;
		/* A blank line between the sections of the key names. */
		if (i && (sect != prev_sect || strncmp(f->key, prev_key, sect)))
			k = snprintf(pos < n ? buf + pos : NULL, pos < n ? n - pos : 0,
				     "\n%s = %s\n", f->key, val);
		else
			k = snprintf(pos < n ? buf + pos : NULL, pos < n ? n - pos : 0,
				     "%s = %s\n", f->key, val);
		if (k < 0)
			return JV_ERR_INVAL;
		pos += (size_t)k;
		prev_sect = sect;
		prev_key = f->key;
	}
	if (pos >= n)
		return JV_ERR_NOSPACE;
	return (int)pos;
}
