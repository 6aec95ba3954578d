/* SPDX-License-Identifier: MIT */
#ifndef JVPN_DAEMON_ROUTE_TABLE_H
#define JVPN_DAEMON_ROUTE_TABLE_H

/*
 * A gateway's inner routing: which peer's AllowedIPs hold a destination,
 * longest prefix first (cryptokey routing).  Asked for every packet from
 * the TUN, so it is built once per (re)load into one sorted array per
 * prefix length in use; a lookup masks the address to each length, the
 * longest first, and binary-searches that length's array: O(L log n) for
 * L lengths in use (a gateway's clients are mostly one /32 and one /128:
 * L is 1 or 2).  D-032 says why not a trie.
 *
 * Addresses are the 16-byte form (IPv4 mapped into ::ffff:0:0/96, its
 * prefix counted from bit 96), as struct jv_cidr holds them.
 */

#include <stddef.h>
#include <stdint.h>

#include "jvpn/error.h"

struct jv_cidr;
struct jv_config;
struct jv_route_table;

struct jv_route_in {
	const struct jv_cidr *c;
	uint32_t peer;
};

/*
 * Build the table of n prefixes (any nesting; the same prefix twice keeps
 * the lowest peer).  *out NULL when n is 0 (every lookup misses).
 * Returns 0 or JV_ERR_NOMEM.
 */
JV_MUST_CHECK int jv_route_table_build(const struct jv_route_in *in, size_t n,
				       struct jv_route_table **out);

/* The table of cfg's peers' AllowedIPs (a removed peer has none), indexed
 * by position in cfg->peers.  0 or JV_ERR_NOMEM. */
JV_MUST_CHECK int jv_route_table_for(const struct jv_config *cfg,
				     struct jv_route_table **out);

/* The peer of the longest prefix holding ip, or -1.  t NULL: -1. */
int jv_route_table_lookup(const struct jv_route_table *t, const uint8_t ip[16]);

/* Prefixes held, and heap bytes (for the memory figure). */
size_t jv_route_table_size(const struct jv_route_table *t);
size_t jv_route_table_bytes(const struct jv_route_table *t);

void jv_route_table_free(struct jv_route_table *t);

#endif
