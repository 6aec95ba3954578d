/* SPDX-License-Identifier: MIT */
/*
 * The owners of a gateway stream (spec §9, PD-9): INV-15 and INV-16 over
 * the logs of every gateway node, and what a change of owner does to the
 * time bounds of §3.2.
 *
 * INV-15.  Acquisitions (SessionOwnerAcquired at creation or at a restart,
 * SessionOwnerTransferred at a takeover) are ordered by owner_epoch, which
 * strictly increases with time across nodes: an epoch acquired twice, or
 * one that goes down, is a finding and is not taken.  The node of the
 * highest epoch owns the session from its acquisition until the next
 * epoch's acquisition, or until it says it lost its lease
 * (SessionOwnerRejected, not_authoritative_owner).  Every gateway
 * SessionStateChange, TransportSwitch and ReattachResult(SUCCESS) is its
 * owner's at its ts_ms.  An event of any other node is held against the
 * stream here but does not move the replay: one overlap is one finding,
 * and a fenced node's late denials, which carry the version it last knew,
 * do not read as version faults of the owner's stream.  Before the first
 * acquisition (one node on a local store, or a log from before ownership
 * events) every gateway node's events belong to the stream.
 *
 * INV-16.  The last AU_COMMITS_KEEP SessionStateChanges of the stream,
 * whoever made them, are kept with their place: a version committed again
 * by another node, or in another file, is a fork, reported at the later
 * commit with the earlier one's place.
 *
 * Time bounds.  On the gateway the bounds of §3.2 are the owner's timers.
 * A dead or fenced owner cannot fire them, and no other node may act for
 * the session before its lease has expired and it acquires it; the new
 * owner then fires every overdue timer at once.  So a bound pending across
 * an ownership change is met when it is met by the later of its own
 * deadline and the acquisition's ts_ms + ε (docs/audit.md).
 */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "replay.h"

/* The end of a node's ownership (its lease ended): the engine marks it
 * details.released; a V2 denial carries the same reason but is not one. */
static bool is_release(const struct jv_event *ev)
{
	return ev->type == JV_EV_SESSION_OWNER_REJECTED &&
	       reason_of(ev) == JV_REASON_NOT_AUTHORITATIVE_OWNER &&
	       JV_EV_HAS(ev, released) && ev->released;
}

/* May node act for the session now? */
static bool acts(const struct au_own *o, const char *node)
{
	return !o->known || (!strcmp(o->node, node) && !o->released);
}

/* An acquisition: taken, or refused with its INV-15 finding. */
static bool acquire(struct jv_audit *a, struct au_live *l,
		    const struct jv_parsed_event *p, au_at line)
{
	const struct jv_event *ev = &p->ev;
	const char *node = p->origin.node_id;
	const char *owner = STR(ev, owner_node_id);
	const char *prevo = STR(ev, previous_owner_node_id);
	uint64_t epoch = ev->owner_epoch;
	struct au_own *o = l->own;
	char w[AU_WHERE_MAX];

	if (!owner || strcmp(owner, node)) {
		au_viol(a, JV_AC_INV15, line, &l->pub, "%s by %s names %s as "
			"the owner: a node acquires a session for itself",
			tname(ev->type), node, str_or_null(owner));
		return false;
	}
	if (o->known) {
		au_where(a, o->at, line, w, sizeof w);
		if (epoch == o->epoch) {
			au_viol2(a, JV_AC_INV15, line, o->at, &l->pub,
				 "owner_epoch %" PRIu64 " acquired twice: here "
				 "by %s and at %s by %s: two owners at once",
				 epoch, node, w, o->node);
			return false;
		}
		if (epoch < o->epoch) {
			au_viol2(a, JV_AC_INV15, line, o->at, &l->pub,
				 "owner_epoch goes down: %" PRIu64 " by %s after "
				 "%" PRIu64 " by %s (%s); epochs increase with "
				 "time across nodes", epoch, node, o->epoch,
				 o->node, w);
			return false;
		}
		if (prevo && strcmp(prevo, o->node))
			au_viol2(a, JV_AC_INV15, line, o->at, &l->pub,
				 "%s takes the session over from %s, but %s "
				 "holds it (epoch %" PRIu64 ", %s)", node, prevo,
				 o->node, o->epoch, w);
	} else if (l->pub.born && strcmp(l->pub.node_id, node)) {
		au_viol2(a, JV_AC_INV01, line, l->born_at, &l->pub,
			 "created by %s (%s) but first owned by %s: a session "
			 "is created on its first owner", l->pub.node_id,
			 au_where(a, l->born_at, line, w, sizeof w), node);
	}
	o->known = true;
	snprintf(o->node, sizeof o->node, "%s", node);
	o->epoch = epoch;
	o->since = ev->ts_ms;
	o->at = line;
	o->released = false;
	o->changed = true;
	o->change_ts = ev->ts_ms;
	/* a request the old owner had open died with it (INV-10) */
	l->req_open = false;
	return true;
}

enum au_own_verdict au_own_classify(struct jv_audit *a, struct au_live *l,
				    const struct jv_parsed_event *p,
				    au_at line)
{
	const struct jv_event *ev = &p->ev;
	struct au_own *o = l->own;

	if (is_owner_change(ev->type))
		return acquire(a, l, p, line) ? AU_OWN_ACT : AU_OWN_SIDE;
	if (!acts(o, p->origin.node_id))
		return AU_OWN_SIDE;
	if (o->known && is_release(ev)) {
		o->released = true;
		o->released_ts = ev->ts_ms;
		o->released_at = line;
		return AU_OWN_RELEASE;
	}
	return AU_OWN_ACT;
}

/* The name of the node whose key this is, if the stream knows it. */
static const char *node_name(const struct au_own *o, uint64_t key)
{
	if (o->known && au_node_key(o->node) == key)
		return o->node;
	if (o->ncommit && o->last_node[0] && au_node_key(o->last_node) == key)
		return o->last_node;
	return "another node";
}

bool au_own_commit(struct jv_audit *a, struct au_live *l,
		   const struct jv_parsed_event *p, au_at line)
{
	struct au_own *o = l->own;
	uint64_t v = p->ev.state_version;
	const char *node = p->origin.node_id;
	uint64_t key = au_node_key(node);
	unsigned have = o->ncommit < AU_COMMITS_KEEP ? o->ncommit :
			AU_COMMITS_KEEP;
	const struct au_commit *dup = NULL;
	struct au_commit *c;
	char w[AU_WHERE_MAX];

	/* the same node repeating a version in its own file is INV-02 */
	for (unsigned i = 0; i < have && !dup; i++)
		if (o->commit[i].version == v &&
		    (o->commit[i].node != key ||
		     au_at_file(o->commit[i].at) != au_at_file(line)))
			dup = &o->commit[i];
	if (dup)
		au_viol2(a, JV_AC_INV16, line, dup->at, &l->pub, "version %"
			 PRIu64 " committed twice: here by %s and at %s by %s: "
			 "the session forked", v, node,
			 au_where(a, dup->at, line, w, sizeof w),
			 dup->node == key ? "the same node in another file" :
			 node_name(o, dup->node));
	c = &o->commit[o->ncommit % AU_COMMITS_KEEP];
	o->ncommit++;
	c->version = v;
	c->at = line;
	c->node = key;
	snprintf(o->last_node, sizeof o->last_node, "%s", node);
	return dup != NULL;
}

jv_time au_own_due(const struct jv_audit *a, const struct au_live *l,
		   jv_time start, jv_time due)
{
	const struct au_own *o = l->own;
	jv_time late;

	if (!o || !o->changed || o->change_ts <= start)
		return due;
	late = sat_add(o->change_ts, a->opts.epsilon_ms);
	return late > due ? late : due;
}

/* An event of a node that does not own the session at its ts_ms. */
void au_own_side(struct jv_audit *a, struct au_live *l,
		 const struct jv_parsed_event *p, au_at line)
{
	const struct jv_event *ev = &p->ev;
	const char *node = p->origin.node_id;
	const struct au_own *o = l->own;
	bool released = o->released && !strcmp(o->node, node);
	au_at other = released ? o->released_at : o->at;
	bool success = ev->type == JV_EV_REATTACH_RESULT &&
		       str_is(STR(ev, status), "SUCCESS");
	struct jv_audit_entry e;
	char w[AU_WHERE_MAX], why[2 * JV_NODE_ID_MAX + AU_WHERE_MAX + 80];

	au_where(a, other, line, w, sizeof w);
	if (released)
		snprintf(why, sizeof why, "it let the session go at %" PRIu64
			 " (%s, not_authoritative_owner)", o->released_ts, w);
	else
		snprintf(why, sizeof why, "%s holds it (owner_epoch %" PRIu64
			 " since %" PRIu64 ", %s)", o->node, o->epoch, o->since,
			 w);

	switch (ev->type) {
	case JV_EV_SESSION_CREATED:
		au_viol(a, JV_AC_INV01, line, &l->pub, "second SessionCreated "
			"for this session and role, by %s, which does not own "
			"it: %s", node, why);
		return;
	case JV_EV_SESSION_STATE_CHANGE:
	case JV_EV_TRANSPORT_SWITCH:
	case JV_EV_REATTACH_RESULT:
		if (ev->type != JV_EV_REATTACH_RESULT || success) {
			au_viol2(a, JV_AC_INV15, line, other, &l->pub, "%s%s by "
				 "%s, which does not own the session at %" PRIu64
				 ": %s", tname(ev->type),
				 success ? "(SUCCESS)" : "", node, ev->ts_ms,
				 why);
			if (ev->type == JV_EV_SESSION_STATE_CHANGE)
				(void)au_own_commit(a, l, p, line);
			return;
		}
		a->r.denials++;
		au_entry_init(a, &e, JV_AE_DENIAL, p, line);
		e.to_transport = STR(ev, candidate_transport);
		e.detail = "reattach denied (not the owner)";
		break;
	case JV_EV_SESSION_OWNER_ACQUIRED:
	case JV_EV_SESSION_OWNER_TRANSFERRED:	/* refused by acquire() */
		au_entry_init(a, &e, JV_AE_OWNER, p, line);
		e.detail = STR(ev, owner_node_id);
		break;
	case JV_EV_SESSION_OWNER_REJECTED:
	case JV_EV_SESSION_OWNER_CONFLICT:
	case JV_EV_SECURITY_VALIDATION_FAILED:
	case JV_EV_SECURITY_REPLAY_DETECTED:
	case JV_EV_SECURITY_KEY_COMPROMISE_SUSPECTED:
		a->r.security++;
		au_entry_init(a, &e, JV_AE_SECURITY, p, line);
		e.to_transport = STR(ev, transport_id);
		e.detail = STR(ev, conflicting_node_id) ?
			   STR(ev, conflicting_node_id) : "not the owner";
		break;
	default:
		/* a node that is not the owner has no binding, state or
		 * timers of this session to show */
		return;
	}
	au_emit(a, l, &e);
}

void au_on_owner(struct jv_audit *a, struct au_live *l,
		 const struct jv_parsed_event *p, au_at line)
{
	struct jv_audit_entry e;
	char detail[JV_NODE_ID_MAX + 48];

	snprintf(detail, sizeof detail, "%s, owner_epoch %" PRIu64,
		 l->own->node, l->own->epoch);
	au_entry_init(a, &e, JV_AE_OWNER, p, line);
	e.detail = detail;
	au_emit(a, l, &e);
}
