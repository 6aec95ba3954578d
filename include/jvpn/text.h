/* SPDX-License-Identifier: MIT */
#ifndef JVPN_TEXT_H
#define JVPN_TEXT_H

/*
 * The bytes a config or policy file may hold.  A NUL ends a C string, so
 * a reader that takes the file as one would silently ignore everything
 * after it and run a policy other than the one written; other control
 * bytes are invisible in an editor.  So a file holds text: any byte but
 * the control bytes (0x00-0x1f, 0x7f), except tab, LF, and CR before LF
 * (docs/config.md).
 */

#include <stddef.h>

#include "jvpn/diag.h"
#include "jvpn/error.h"

/* Offset of the first byte of text[0..len) a file must not hold, or len
 * when there is none. */
size_t jv_text_bad_byte(const char *text, size_t len);

/* 0, or JV_ERR_PARSE with d set to the line of the first bad byte
 * ("control byte 0x00 (NUL) in the line: ..."); d keeps its file. */
JV_MUST_CHECK int jv_text_check(const char *text, size_t len,
				struct jv_diag *d);

#endif
