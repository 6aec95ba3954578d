/* SPDX-License-Identifier: MIT */
#ifndef JVPN_STATE_H
#define JVPN_STATE_H

/* The six session states of spec §2.1. */
enum jv_state {
	JV_STATE_BIRTH,
	JV_STATE_ATTACHED,
	JV_STATE_VOLATILE,
	JV_STATE_DEGRADED,
	JV_STATE_RECOVERING,
	JV_STATE_TERMINATED,
	JV_STATE_COUNT
};

#define JV_STATE_BIT(s) (1u << (s))
#define JV_STATES_NONTERMINAL                                           \
	(JV_STATE_BIT(JV_STATE_BIRTH) | JV_STATE_BIT(JV_STATE_ATTACHED) |   \
	 JV_STATE_BIT(JV_STATE_VOLATILE) | JV_STATE_BIT(JV_STATE_DEGRADED) | \
	 JV_STATE_BIT(JV_STATE_RECOVERING))

/* "BIRTH", "ATTACHED", ...; NULL if out of range. */
const char *jv_state_name(enum jv_state s);
/* Inverse of jv_state_name; -1 if unknown. */
int jv_state_from_name(const char *name);

/* The endpoint's role in a session (spec §1 requester / validator). */
enum jv_role {
	JV_ROLE_CLIENT,		/* requester */
	JV_ROLE_GATEWAY,	/* validator */
};
const char *jv_role_name(enum jv_role r);

#endif
