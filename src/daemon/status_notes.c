/* SPDX-License-Identifier: MIT */
/*
 * The last switch of each live session, for `jvpn show` ("last switch:
 * 2 minutes ago, a -> b (transport_dead)").  The engine's status has the
 * switch count but not the why: that is in the events, so the daemon
 * keeps, per session, what its events said last.
 *
 * The why of a switch is the reason of the state change that took the
 * session off ATTACHED (transport_dead, health_degraded, the operator's
 * migration...): the TransportSwitch itself always says reattach_success
 * (the commit).  Its previous_transport is null on a client whose binding
 * died first, so "from" falls back on the transport last bound.
 */

#include <stdlib.h>
#include <string.h>

#include "daemon/daemon_impl.h"
#include "daemon/keymap.h"

struct dmn_note {
	char sid[JV_SESSION_ID_HEX];
	char bound[JV_TRANSPORT_ID_MAX];	/* last bound transport */
	char cause[48];				/* why it left ATTACHED */
	struct dmn_switch_note sw;
};

/* Every event of every session comes here: found by a hash of its id,
 * not a scan of 10 000 notes (D-032). */
struct dmn_notes {
	size_t n, cap;
	struct dmn_note *v;
	struct dmn_keymap at;		/* session id -> index in v */
};

static void copy(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src ? src : "");
}

static struct dmn_note *find(struct dmn_notes *ns, const char *sid)
{
	uint8_t key[32];
	uint32_t i;

	if (!ns)
		return NULL;
	dmn_keymap_sid(sid, key);
	return dmn_keymap_get(&ns->at, key, &i) && i < ns->n ? &ns->v[i]
							      : NULL;
}

/* The session's note, made when missing; NULL when out of memory (the
 * status then shows no last switch: nothing else depends on it). */
static struct dmn_note *note_of(struct jv_daemon *d, const char *sid)
{
	struct dmn_notes *ns = d->notes;
	struct dmn_note *n = find(ns, sid);
	uint8_t key[32];

	if (n)
		return n;
	if (!ns) {
		ns = d->notes = calloc(1, sizeof *ns);
		if (!ns)
			return NULL;
		dmn_keymap_init(&ns->at);
	}
	if (ns->n == ns->cap) {
		size_t cap = ns->cap ? 2 * ns->cap : 4;
		struct dmn_note *v = realloc(ns->v, cap * sizeof *v);

		if (!v)
			return NULL;
		ns->v = v;
		ns->cap = cap;
	}
	n = &ns->v[ns->n];
	memset(n, 0, sizeof *n);
	/* not copy(): GCC's sanitizer build sees a null destination in the
	 * inlined snprintf here (-Wformat-truncation) */
	memcpy(n->sid, sid, strnlen(sid, sizeof n->sid - 1));
	dmn_keymap_sid(n->sid, key);
	if (dmn_keymap_put(&ns->at, key, (uint32_t)ns->n))
		return NULL;
	ns->n++;
	return n;
}

static void forget(struct jv_daemon *d, const char *sid)
{
	struct dmn_notes *ns = d->notes;
	struct dmn_note *n = find(ns, sid);
	uint8_t key[32];

	if (!n)
		return;
	dmn_keymap_sid(n->sid, key);
	dmn_keymap_del(&ns->at, key);
	if (n != &ns->v[ns->n - 1]) {
		/* the last note fills the hole: its index changes */
		*n = ns->v[ns->n - 1];
		dmn_keymap_sid(n->sid, key);
		(void)dmn_keymap_set(&ns->at, key, (uint32_t)(n - ns->v));
	}
	ns->n--;
}

void dmn_status_note_event(struct jv_daemon *d,
			   const struct jv_event_origin *o,
			   const struct jv_event *ev)
{
	struct dmn_note *n;

	if (!o->session_id || !o->session_id[0])
		return;
	if (ev->type == JV_EV_SESSION_TERMINATED) {
		forget(d, o->session_id);
		return;
	}
	if (ev->type != JV_EV_SESSION_STATE_CHANGE &&
	    ev->type != JV_EV_TRANSPORT_ATTACHED &&
	    ev->type != JV_EV_TRANSPORT_SWITCH)
		return;
	n = note_of(d, o->session_id);
	if (!n)
		return;
	switch (ev->type) {
	case JV_EV_TRANSPORT_ATTACHED:
		if (JV_EV_HAS(ev, transport_id) && ev->transport_id)
			copy(n->bound, sizeof n->bound, ev->transport_id);
		break;
	case JV_EV_SESSION_STATE_CHANGE:
		if (JV_EV_HAS(ev, previous_state) &&
		    ev->previous_state == JV_STATE_ATTACHED &&
		    JV_EV_HAS(ev, reason_code))
			copy(n->cause, sizeof n->cause,
			     jv_reason_name(ev->reason_code));
		break;
	default:	/* JV_EV_TRANSPORT_SWITCH */
		n->sw.valid = true;
		n->sw.ts_ms = ev->ts_ms;
		copy(n->sw.from, sizeof n->sw.from,
		     ev->previous_transport ? ev->previous_transport : n->bound);
		copy(n->sw.to, sizeof n->sw.to, ev->new_transport);
		copy(n->sw.reason, sizeof n->sw.reason,
		     n->cause[0] ? n->cause :
		     JV_EV_HAS(ev, reason_code) ?
		     jv_reason_name(ev->reason_code) : "");
		copy(n->sw.trigger, sizeof n->sw.trigger,
		     JV_EV_HAS(ev, trigger_class) ? ev->trigger_class : "");
		copy(n->bound, sizeof n->bound, ev->new_transport);
		n->cause[0] = '\0';
		break;
	}
}

bool dmn_status_last_switch(const struct jv_daemon *d, const char *sid,
			    struct dmn_switch_note *out)
{
	const struct dmn_note *n = find(d->notes, sid);

	if (!n || !n->sw.valid)
		return false;
	*out = n->sw;
	return true;
}

void dmn_status_free(struct jv_daemon *d)
{
	if (d->notes) {
		free(d->notes->v);
		dmn_keymap_free(&d->notes->at);
	}
	free(d->notes);
	d->notes = NULL;
}
