/* SPDX-License-Identifier: MIT */
/* Names of the enums shared by every layer: states, reasons, events, errors. */

#include <string.h>

#include "jvpn/error.h"
#include "jvpn/event.h"
#include "jvpn/reason.h"
#include "jvpn/session.h"
#include "jvpn/state.h"

static const char *const state_names[JV_STATE_COUNT] = {
	[JV_STATE_BIRTH] = "BIRTH",
	[JV_STATE_ATTACHED] = "ATTACHED",
	[JV_STATE_VOLATILE] = "VOLATILE",
	[JV_STATE_DEGRADED] = "DEGRADED",
	[JV_STATE_RECOVERING] = "RECOVERING",
	[JV_STATE_TERMINATED] = "TERMINATED",
};

const char *jv_state_name(enum jv_state s)
{
	if ((unsigned)s >= JV_STATE_COUNT)
		return NULL;
	return state_names[s];
}

const char *jv_path_role_name(enum jv_path_role r)
{
	switch (r) {
	case JV_PATH_BOUND:
		return "bound";
	case JV_PATH_DEAD:
		return "dead";
	default:
		return "standby";
	}
}

int jv_state_from_name(const char *name)
{
	for (int s = 0; name && s < JV_STATE_COUNT; s++)
		if (strcmp(state_names[s], name) == 0)
			return s;
	return -1;
}

const char *jv_role_name(enum jv_role r)
{
	return r == JV_ROLE_GATEWAY ? "gateway" : "client";
}

static const char *const reason_names[JV_REASON_COUNT] = {
#define JV_REASON_NAME_(id, name) [JV_REASON_##id] = #name,
	JV_REASONS(JV_REASON_NAME_)
#undef JV_REASON_NAME_
};

const char *jv_reason_name(enum jv_reason r)
{
	if (r < 0 || r >= JV_REASON_COUNT)
		return NULL;
	return reason_names[r];
}

enum jv_reason jv_reason_from_name(const char *name)
{
	for (int r = 0; name && r < JV_REASON_COUNT; r++)
		if (strcmp(reason_names[r], name) == 0)
			return (enum jv_reason)r;
	return JV_REASON_NONE;
}

static const char *const event_type_names[JV_EV_COUNT] = {
#define JV_EVENT_NAME_(id, name) [JV_EV_##id] = #name,
	JV_EVENT_TYPES(JV_EVENT_NAME_)
#undef JV_EVENT_NAME_
};

const char *jv_event_type_name(enum jv_event_type t)
{
	if ((unsigned)t >= JV_EV_COUNT)
		return NULL;
	return event_type_names[t];
}

int jv_event_type_from_name(const char *name)
{
	for (int t = 0; name && t < JV_EV_COUNT; t++)
		if (strcmp(event_type_names[t], name) == 0)
			return t;
	return -1;
}

const char *jv_strerror(int err)
{
	switch (err) {
	case JV_OK: return "success";
	case JV_ERR_INVAL: return "invalid argument";
	case JV_ERR_NOMEM: return "out of memory";
	case JV_ERR_PARSE: return "does not parse";
	case JV_ERR_ILLEGAL: return "transition not in the table";
	case JV_ERR_OVERFLOW: return "counter would wrap";
	case JV_ERR_NOSPACE: return "buffer too small";
	case JV_ERR_AUTH: return "authentication failed";
	case JV_ERR_REPLAY: return "replayed or too old";
	case JV_ERR_STATE: return "not allowed in this state";
	case JV_ERR_NOTFOUND: return "not found";
	case JV_ERR_LIMIT: return "refused by a limit";
	case JV_ERR_IO: return "input/output error";
	}
	return "unknown error";
}
