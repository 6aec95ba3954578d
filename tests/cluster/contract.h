/* SPDX-License-Identifier: MIT */
#ifndef JVPN_TESTS_CLUSTER_CONTRACT_H
#define JVPN_TESTS_CLUSTER_CONTRACT_H

/*
 * The ownership store contract (src/cluster/store.h): every backend runs
 * these cases and must pass all of them, so the engine sees one store
 * whichever backend the operator picked.  Output is TAP (tap.h).
 */

#include <stdbool.h>
#include <stddef.h>

#include "cluster/store.h"

/*
 * Where the backend under test keeps a store: the suite fills cfg, the
 * factory sets its url (written into url, url_len bytes) and what else
 * the backend needs (etcd: cluster_id, the TLS files), and the suite
 * opens it.  fresh: first move to new, empty storage (sqlite: a new
 * file; etcd: a new cluster_id prefix); otherwise the storage of the last
 * fresh call, as another node or as the same node restarted.  While
 * another store is open over the same storage, a store that does not
 * open means the backend holds one at a time (sqlite), and the cases
 * that need two skip.
 */
typedef void (*jv_contract_where_fn)(void *ctx, bool fresh,
				     struct jv_store_config *cfg, char *url,
				     size_t url_len);

/* Run every case, one TAP line each, names prefixed with backend.
 * Returns the number of failed cases. */
int jv_contract_run(const char *backend, jv_contract_where_fn where,
		    void *ctx);

#endif
