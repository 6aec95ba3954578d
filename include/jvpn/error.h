/* SPDX-License-Identifier: MIT */
#ifndef JVPN_ERROR_H
#define JVPN_ERROR_H

/*
 * Errors are negative JV_ERR_* codes; 0 is success.  A function that can
 * fail is marked JV_MUST_CHECK and lists, in its comment, the codes it
 * returns.
 */

#define JV_MUST_CHECK __attribute__((warn_unused_result))

enum jv_err {
	JV_OK = 0,
	JV_ERR_INVAL = -1,	/* argument or input out of its allowed range */
	JV_ERR_NOMEM = -2,	/* allocation failed */
	JV_ERR_PARSE = -3,	/* text or bytes do not parse */
	JV_ERR_ILLEGAL = -4,	/* (state, input) pair not in the table */
	JV_ERR_OVERFLOW = -5,	/* a counter would wrap */
	JV_ERR_NOSPACE = -6,	/* caller buffer too small */
	JV_ERR_AUTH = -7,	/* authentication failed */
	JV_ERR_REPLAY = -8,	/* replayed or too old */
	JV_ERR_STATE = -9,	/* operation not allowed in this state */
	JV_ERR_NOTFOUND = -10,	/* no such session, transport or key */
	JV_ERR_LIMIT = -11,	/* a rate or size limit refused it */
	JV_ERR_IO = -12,	/* a sink or the OS failed (never from core) */
};

/* Static English text for a JV_ERR_* code (or "unknown error"). */
const char *jv_strerror(int err);

#endif
