/* SPDX-License-Identifier: MIT */
#ifndef JVPN_DAEMON_RELOAD_H
#define JVPN_DAEMON_RELOAD_H

/*
 * Reload (SIGHUP, `jvpn reload`): read the config file the daemon was
 * started with again and apply the difference without touching any other
 * session (issue 11 item 4, D-022).
 *
 *   gateway  [Peer]s added (jv_gateway_add_peer), removed (their session
 *            ends with peer_removed, the key is unknown from then on) or
 *            changed (AllowedIPs: the routing table and the source check
 *            of the peer; a new key is a removal plus an addition);
 *            [Policy] through the engine's runtime policy change
 *            (jv_gateway_set_policy, spec §5, D-026);
 *   client   [Policy] only (jv_client_set_policy).
 *
 * Anything else that differs (Role, PrivateKey, Name, Address, MTU,
 * ListenPort, ListenAddress, NodeId, EventLog, ControlSocket, MaxSessions,
 * HandshakesPerSecond, HandshakeBurst, StateDir, [Cluster]; a client's
 * [Transport]s and [Peer]) needs a restart: the reload is refused as a
 * whole and the answer names each key with its line.  So is a file that
 * does not load (its error, with file, line and key).  Nothing changes
 * then.
 *
 * The running config (d->cfg) keeps its address: its contents are
 * swapped with the new file's, so a pointer into it stays valid.  A
 * gateway's running [Peer] array is indexed by the engine's peer index,
 * not by file order: a removed peer stays as a hole (`removed`, no
 * AllowedIPs) until the engine gives its index to another key, so that
 * `d->cfg->peers[p]` and engine peer p are the same peer everywhere.
 */

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct jv_daemon;

/*
 * Start a reload: the files are read on a worker thread, the loop carries
 * on, and applies the result when the worker wakes it (D-032).  The
 * answer, {"ok":true,"summary":"reloaded jv0: ...",...} or
 * {"ok":false,"error":"..."}, goes to the deferred control request
 * `token` (jv_ctl_defer; UINT64_MAX: none, SIGHUP); the daemon log has
 * the same line.  Returns 0, JV_ERR_STATE (a reload is still reading),
 * JV_ERR_IO or JV_ERR_NOMEM (nothing started).
 */
int dmn_reload_start(struct jv_daemon *d, uint64_t token);

/* Teardown: wait for a running worker, free what it read. */
void dmn_reload_free(struct jv_daemon *d);

struct jv_config;
/* What differs between `old` and `nc` that only a restart applies, as
 * "Key (line N), ..." in buf; returns how many keys (0: reloadable). */
unsigned dmn_reload_restart_keys(const struct jv_config *old,
				 const struct jv_config *nc, char *buf,
				 size_t n);

#endif
