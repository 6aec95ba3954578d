/* SPDX-License-Identifier: MIT */
/* The simulated ownership store: records, CAS, leases, faults. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/store.h"

void sim_store_init(struct sim_store *s, jv_time lease_ms)
{
	memset(s, 0, sizeof *s);
	s->lease_ms = lease_ms;
}

void sim_store_free(struct sim_store *s)
{
	free(s->rec);
	s->rec = NULL;
	s->n = s->cap = 0;
}

int sim_store_add_node(struct sim_store *s, const char *id)
{
	struct sim_store_node *n;

	if (s->nnodes == SIM_STORE_NODES)
		return JV_ERR_LIMIT;
	n = &s->node[s->nnodes];
	memset(n, 0, sizeof *n);
	snprintf(n->id, sizeof n->id, "%s", id);
	return (int)s->nnodes++;
}

bool sim_store_reachable(const struct sim_store *s, unsigned node)
{
	return !s->down && node < s->nnodes && !s->node[node].partitioned;
}

void sim_store_node_up(struct sim_store *s, unsigned node)
{
	if (node < s->nnodes)
		s->node[node].alive = true;
}

void sim_store_node_down(struct sim_store *s, unsigned node)
{
	if (node < s->nnodes)
		s->node[node].alive = false;
}

bool sim_store_renew(struct sim_store *s, unsigned node, jv_time now,
		     jv_time *until)
{
	if (!sim_store_reachable(s, node)) {
		s->st.failed++;
		return false;
	}
	s->st.renewals++;
	if (s->lease_ms) {
		s->node[node].until = now + s->lease_ms;
		*until = s->node[node].until;
	} else {
		*until = JV_TIME_NEVER;
	}
	return true;
}

bool sim_store_owner_live(const struct sim_store *s, const char *owner,
			  jv_time now)
{
	for (unsigned i = 0; i < s->nnodes; i++) {
		const struct sim_store_node *n = &s->node[i];

		if (strcmp(n->id, owner))
			continue;
		return s->lease_ms ? now <= n->until : n->alive;
	}
	return true;
}

static struct sim_store_rec *find(const struct sim_store *s, uint32_t index)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->rec[i].index == index)
			return &s->rec[i];
	return NULL;
}

const struct sim_store_rec *sim_store_get(const struct sim_store *s,
					  uint32_t index)
{
	return find(s, index);
}

enum jv_record_outcome sim_store_read(struct sim_store *s, unsigned node,
				      uint32_t index,
				      const struct sim_store_rec **out)
{
	*out = NULL;
	if (!sim_store_reachable(s, node)) {
		s->st.failed++;
		return JV_RECORD_FAILED;
	}
	s->st.reads++;
	*out = find(s, index);
	return JV_RECORD_WRITTEN;
}

int sim_store_put(struct sim_store *s, unsigned node, uint32_t index,
		  uint64_t expected, const uint8_t *bytes, jv_time now,
		  uint64_t *revision)
{
	struct sim_store_rec *r;
	const char *id;

	if (!sim_store_reachable(s, node)) {
		s->st.failed++;
		return JV_RECORD_FAILED;
	}
	id = s->node[node].id;
	r = find(s, index);
	if ((r ? r->revision : 0) != expected ||
	    (r && strcmp(r->owner, id) && sim_store_owner_live(s, r->owner,
								now))) {
		s->st.conflicts++;
		return JV_RECORD_CONFLICT;
	}
	if (!r) {
		if (s->n == s->cap) {
			size_t cap = s->cap ? 2 * s->cap : 8;
			struct sim_store_rec *p = realloc(s->rec,
							  cap * sizeof *p);

			if (!p)
				return JV_ERR_NOMEM;
			s->rec = p;
			s->cap = cap;
		}
		r = &s->rec[s->n++];
		memset(r, 0, sizeof *r);
		r->index = index;
	}
	r->revision++;
	snprintf(r->owner, sizeof r->owner, "%s", id);
	memcpy(r->bytes, bytes, sizeof r->bytes);
	s->st.writes++;
	*revision = r->revision;
	return JV_RECORD_WRITTEN;
}

enum jv_record_outcome sim_store_del(struct sim_store *s, unsigned node,
				     uint32_t index, uint64_t expected)
{
	struct sim_store_rec *r;

	if (!sim_store_reachable(s, node)) {
		s->st.failed++;
		return JV_RECORD_FAILED;
	}
	r = find(s, index);
	if (!r || r->revision != expected) {
		s->st.conflicts++;
		return JV_RECORD_CONFLICT;
	}
	*r = s->rec[--s->n];
	s->st.deletes++;
	return JV_RECORD_WRITTEN;
}

unsigned sim_store_inject_conflict(struct sim_store *s, const char *writer)
{
	for (size_t i = 0; i < s->n; i++) {
		s->rec[i].revision++;
		snprintf(s->rec[i].owner, sizeof s->rec[i].owner, "%s",
			 writer);
	}
	return (unsigned)s->n;
}
