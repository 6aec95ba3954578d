/* SPDX-License-Identifier: MIT */
#ifndef JVPN_CLUSTER_ETCD_PRIV_H
#define JVPN_CLUSTER_ETCD_PRIV_H

/* Test hooks of the etcd backend (tests/cluster/etcd_test.c), not for
 * the daemon. */

#include <stdint.h>

#include "cluster/store.h"

/* Free an etcd store as a crash would leave it: no revoke, so its node
 * and owner keys live on until the lease's TTL runs out. */
void jv_store_etcd_abandon(struct jv_store *st);

/* The lease the node key is registered on, 0 when none is. */
int64_t jv_store_etcd_lease_id(const struct jv_store *st);

#endif
