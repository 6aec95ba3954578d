/* SPDX-License-Identifier: MIT */
#ifndef JVPN_CORE_POLICY_IMPL_H
#define JVPN_CORE_POLICY_IMPL_H

/*
 * Shared by policy.c, policy_ini.c and policy_json.c only: generic access
 * to a member through its table row, and the validator with the indexes
 * of the culprit fields (so the INI reader can point at the right line).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jvpn/diag.h"
#include "jvpn/policy.h"

#define JV_PROTO_NAMES_TEXT "udp, quic, tcp"

size_t jv_policy_field_index(const struct jv_policy_field *f);

/* Integer kinds, BOOL (0/1), PROTOS, MODE, PROFILE. */
uint64_t jv_policy_get_u(const struct jv_policy *p,
			 const struct jv_policy_field *f);
void jv_policy_set_u(struct jv_policy *p, const struct jv_policy_field *f,
		     uint64_t v);
double jv_policy_get_d(const struct jv_policy *p,
		       const struct jv_policy_field *f);
void jv_policy_set_d(struct jv_policy *p, const struct jv_policy_field *f,
		     double v);

/* Copy field f's member from src to dst. */
void jv_policy_copy_field(struct jv_policy *dst, const struct jv_policy *src,
			  const struct jv_policy_field *f);

/* Fill p with profile prof (PD-3, PD-4). */
void jv_policy_apply_profile(struct jv_policy *p, enum jv_policy_profile prof);

/*
 * jv_policy_validate, also giving the table index of the failing field
 * (*bad) and, for a relation, of the field it is compared with (*other,
 * else SIZE_MAX).
 */
int jv_policy_check(const struct jv_policy *p, struct jv_diag *d,
		    size_t *bad, size_t *other);

/* Closest known key within edit distance 2, or a key with the same last
 * component ("heartbeat_interval_ms"); NULL if none. */
const struct jv_policy_field *jv_policy_field_suggest(const char *key);

/* d: "unknown key" with a suggestion when there is one. */
void jv_policy_diag_unknown(struct jv_diag *d, unsigned line,
			    const char *key);

#endif
