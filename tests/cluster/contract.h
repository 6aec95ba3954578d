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
 * The backend under test opens a store with cfg, which the suite fills
 * except url and cluster_id: the factory copies cfg and sets those.
 * fresh: first move to new, empty storage (sqlite: a new file; etcd: a
 * new cluster_id prefix); otherwise open over the storage of the last
 * fresh open, as another node or as the same node restarted.  Returns
 * NULL with a reason in why when the store does not open; while another
 * store is open over the same storage that means the backend holds one
 * at a time (sqlite), and the cases that need two skip.
 */
typedef struct jv_store *(*jv_contract_open_fn)(void *ctx, bool fresh,
						const struct jv_store_config *cfg,
						char *why, size_t why_len);

/* Run every case, one TAP line each, names prefixed with backend.
 * Returns the number of failed cases. */
int jv_contract_run(const char *backend, jv_contract_open_fn open, void *ctx);

#endif
