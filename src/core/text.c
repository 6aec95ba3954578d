/* SPDX-License-Identifier: MIT */
/* The bytes a config or policy file may hold (jvpn/text.h). */

#include <string.h>

#include "jvpn/text.h"

size_t jv_text_bad_byte(const char *text, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];

		if (c >= 0x20 && c != 0x7f)
			continue;
		if (c == '\t' || c == '\n')
			continue;
		if (c == '\r' && i + 1 < len && text[i + 1] == '\n')
			continue;
		return i;
	}
	return len;
}

int jv_text_check(const char *text, size_t len, struct jv_diag *d)
{
	size_t bad = jv_text_bad_byte(text, len);
	unsigned line = 1;
	unsigned char c;

	if (bad == len)
		return 0;
	for (size_t i = 0; i < bad; i++)
		line += text[i] == '\n';
	c = (unsigned char)text[bad];
	if (d)
		jv_diag_set(d, line, NULL,
			    "control byte 0x%02x%s in the line: the file must be text (tab, newline and CRLF are the only control bytes allowed)",
			    c, c == 0 ? " (NUL)" : c == '\r' ? " (CR not before a newline)" : "");
	return JV_ERR_PARSE;
}
