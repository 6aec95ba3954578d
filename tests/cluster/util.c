/* SPDX-License-Identifier: MIT */
/* What the store tests share (util.h). */

#include <stdio.h>
#include <string.h>

#include "cluster/seal.h"
#include "util.h"

void probe_on_lease(void *ud, jv_time until)
{
	struct probe *p = ud;

	p->leases++;
	p->lease_until = until;
}

void probe_on_watch(void *ud, const uint8_t id[JV_SESSION_ID_BYTES],
		    const char *owner, uint64_t epoch)
{
	struct probe *p = ud;

	p->watches++;
	memcpy(p->watched_id, id, sizeof p->watched_id);
	snprintf(p->watched_owner, sizeof p->watched_owner, "%s", owner);
	p->watched_epoch = epoch;
}

void probe_on_get(void *ud, enum jv_store_status st,
		  const struct jv_store_rec *rec)
{
	struct probe *p = ud;

	p->calls++;
	p->status = st;
	p->had_rec = rec != NULL;
	if (rec)
		p->rec = *rec;
	if (p->close_me) {
		jv_store_close(p->close_me);
		p->close_me = NULL;
	}
}

void probe_on_put(void *ud, enum jv_store_status st, uint64_t rev)
{
	struct probe *p = ud;

	p->calls++;
	p->status = st;
	p->revision = rev;
}

void mk_rec(struct jv_store_rec *r, unsigned seed, const char *owner)
{
	memset(r, 0, sizeof *r);
	for (unsigned i = 0; i < JV_SESSION_ID_BYTES; i++)
		r->session_id[i] = (uint8_t)(seed * 37u + i);
	r->receiver_index = 0x80000000u + seed;
	snprintf(r->owner_node, sizeof r->owner_node, "%s", owner);
	r->owner_epoch = UINT64_MAX - seed;
	r->state_version = (UINT64_C(1) << 63) + seed;
	r->len = 64 + seed % 64;
	for (size_t i = 0; i < r->len; i++)
		r->blob[i] = (uint8_t)(seed ^ (i * 7u));
}

const uint8_t pd9_secret[PD9_PATTERN_LEN] =
	"SECRET-ROOT-KEY-MATERIAL-0123456";
const uint8_t pd9_cluster_key[PD9_PATTERN_LEN] =
	"CLUSTER-KEY-FOR-SEALING-RECORDS!";
const uint8_t pd9_control[PD9_PATTERN_LEN] =
	"CONTROL-PATTERN-STORED-IN-CLEAR!";

bool pd9_records(struct jv_store_rec *r, struct jv_store_rec *c,
		 const char *owner, uint8_t plain[PD9_PLAIN_LEN])
{
	size_t n = 0;
	bool ok;

	memset(plain, 0x33, PD9_PLAIN_LEN);
	memcpy(plain + 50, pd9_secret, PD9_PATTERN_LEN);
	mk_rec(r, 21, owner);
	ok = jv_seal_record(pd9_cluster_key, r->session_id, r->receiver_index,
			    plain, PD9_PLAIN_LEN, r->blob, sizeof r->blob,
			    &n) == 0;
	r->len = n;
	mk_rec(c, 22, owner);
	memcpy(c->blob + 10, pd9_control, PD9_PATTERN_LEN);
	return ok;
}
