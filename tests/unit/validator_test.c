/* SPDX-License-Identifier: MIT */
/*
 * The validator's checks that no packet can reach (spec §7.4 V3, V4, V8),
 * called directly: on the receive path the gateway ends an expired or
 * transportless session (X1, X2) before a request is read, and a gateway
 * session rests only in ATTACHED, VOLATILE or DEGRADED.  They stay as
 * defence in depth (a record adopted after a takeover, a future caller),
 * so each is shown to deny, with the right reason, and to change nothing.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "core/session.h"
#include "jvpn/rng.h"

enum { T0 = 1000000 };

struct bare {
	struct jv_session s;
	struct jv_seeded_rng rng;
	struct jv_policy pol;
	struct jv_addr from;
};

/* A gateway session just out of the handshake (BIRTH). */
static void bare_birth(struct bare *b)
{
	uint8_t id[16], k1[32], k2[32], root[32];

	memset(b, 0, sizeof *b);
	jv_policy_default(&b->pol);
	jv_seeded_rng_init(&b->rng, 5);
	assert_int_equal(jv_sess_init(&b->s, JV_ROLE_GATEWAY, &b->pol, "gw",
				      jv_seeded_rng(&b->rng), NULL, NULL, 2),
			 0);
	memset(id, 0xa1, sizeof id);
	memset(k1, 1, sizeof k1);
	memset(k2, 2, sizeof k2);
	memset(root, 3, sizeof root);
	jv_sess_created(&b->s, id, k1, k2, root, NULL, NULL, T0);
	jv_addr_from_ipv4(&b->from, 0x0a000102, 40001);
}

/* ... confirmed on b->from (T01). */
static void bare_attached(struct bare *b)
{
	struct jv_path *p;

	bare_birth(b);
	p = &b->s.paths[0];
	p->used = true;
	p->proto = JV_PROTO_UDP;
	p->remote = b->from;
	jv_tuple_id(&b->from, p->id);
	jv_health_init(&p->health, &b->s.policy, T0);
	b->s.npaths = 1;
	assert_int_equal(jv_sess_input(&b->s, JV_IN_ATTACH_OK, JV_REASON_NONE,
				       T0, NULL, false), 1);
	jv_sess_bind(&b->s, 0, T0);
}

/* A request V0-V2 and V5-V7, V9-V10 would pass, at `now`. */
static void request(const struct bare *b, jv_time now,
		    struct jv_reattach_req *r)
{
	memset(r, 0, sizeof *r);
	r->nonce = 1;
	r->ts_ms = now;
	r->state_version = b->s.fsm.state_version;
	r->trigger = JV_REASON_NAT_REBINDING;
	r->recovery = JV_REASON_LOSS_RECOVERY;
	snprintf(r->cand.transport_id, sizeof r->cand.transport_id, "p1");
	r->cand.proto = JV_PROTO_UDP;
	r->proven = true;
}

/* Run the validator; assert a DENY for `why` that moved nothing. */
static void denied(struct bare *b, jv_time now, enum jv_reason why)
{
	struct jv_reattach_req r;
	struct jv_ctrl a;
	uint64_t v = b->s.fsm.state_version;
	enum jv_state st = b->s.fsm.state;
	int bound = b->s.bound;

	request(b, now, &r);
	jv_validate_request(&b->s, &r, &b->from, 0, true, now, &a);
	assert_int_equal(a.type, JV_CTRL_REATTACH_DENY);
	assert_int_equal(a.deny.reason, why);
	assert_int_equal(b->s.fsm.state_version, v);
	assert_int_equal(b->s.fsm.state, st);
	assert_int_equal(b->s.bound, bound);
}

/* The same request passes where the check's condition is false. */
static void accepted(struct bare *b, jv_time now)
{
	struct jv_reattach_req r;
	struct jv_ctrl a;

	request(b, now, &r);
	jv_validate_request(&b->s, &r, &b->from, 0, true, now, &a);
	assert_int_equal(a.type, JV_CTRL_REATTACH_ACK);
}

/* V3: past SESSION_MAX_LIFETIME_MS, fatal. */
static void v3_lifetime(void **st)
{
	(void)st;
	struct bare b;

	bare_attached(&b);
	denied(&b, T0 + b.pol.max_lifetime_ms + 1,
	       JV_REASON_SESSION_LIFETIME_EXCEEDED);
	accepted(&b, T0 + b.pol.max_lifetime_ms - 1000);
	jv_sess_destroy(&b.s);
}

/* V4: no binding for longer than TRANSPORT_LOST_TTL_MS, fatal. */
static void v4_transport_ttl(void **st)
{
	(void)st;
	struct bare b;

	bare_attached(&b);
	b.s.bound = -1;
	b.s.unbound_since_ms = T0;
	denied(&b, T0 + b.pol.transport_lost_ttl_ms + 1,
	       JV_REASON_TRANSPORT_TTL_EXCEEDED);
	jv_sess_destroy(&b.s);

	bare_attached(&b);
	accepted(&b, T0 + b.pol.transport_lost_ttl_ms + 1);	/* bound */
	jv_sess_destroy(&b.s);
}

/* V8: a session in BIRTH (not confirmed) admits no reattach. */
static void v8_state_admits_reattach(void **st)
{
	(void)st;
	struct bare b;

	bare_birth(&b);
	denied(&b, T0 + 10, JV_REASON_INVALID_STATE_FOR_REATTACH);
	jv_sess_destroy(&b.s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(v3_lifetime),
		cmocka_unit_test(v4_transport_ttl),
		cmocka_unit_test(v8_state_admits_reattach),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
