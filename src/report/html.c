/* SPDX-License-Identifier: MIT */
/*
 * Escaping: every string a log carries reaches the page through here.
 * The same form serves text and quoted attribute values, so a caller
 * cannot pick the wrong one.
 */

#include <string.h>

#include "report_impl.h"

void rp_esc(FILE *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	if (!s)
		return;
	for (; *p; p++) {
		switch (*p) {
		case '&':
			fputs("&amp;", out);
			break;
		case '<':
			fputs("&lt;", out);
			break;
		case '>':
			fputs("&gt;", out);
			break;
		case '"':
			fputs("&quot;", out);
			break;
		case '\'':
			fputs("&#39;", out);
			break;
		case '\t':
		case '\n':
			fputc(*p, out);
			break;
		default:
			/* C0 controls and DEL are not allowed in HTML text */
			if (*p < 0x20 || *p == 0x7f)
				fputs("\xef\xbf\xbd", out);
			else
				fputc(*p, out);
		}
	}
}

int jv_report_html_escape(FILE *out, const char *s)
{
	if (!out || !s)
		return JV_ERR_INVAL;
	rp_esc(out, s);
	return ferror(out) ? JV_ERR_IO : 0;
}

const char *rp_state_name(int st)
{
	const char *n = st >= 0 ? jv_state_name((enum jv_state)st) : NULL;

	return n ? n : "unknown";
}

/* CSS class of a state's colour (page.c's style sheet). */
const char *rp_state_class(int st)
{
	static const char *const cls[JV_STATE_COUNT] = {
		[JV_STATE_BIRTH] = "s-birth",
		[JV_STATE_ATTACHED] = "s-attached",
		[JV_STATE_VOLATILE] = "s-volatile",
		[JV_STATE_DEGRADED] = "s-degraded",
		[JV_STATE_RECOVERING] = "s-recovering",
		[JV_STATE_TERMINATED] = "s-terminated",
	};

	return st >= 0 && st < JV_STATE_COUNT ? cls[st] : "s-unknown";
}
