/* SPDX-License-Identifier: MIT */
#ifndef JVPN_DAEMON_HOOKS_H
#define JVPN_DAEMON_HOOKS_H

/*
 * What the daemon runs outside itself, as wg-quick does: the PostUp and
 * PreDown commands of [Interface] (through /bin/sh -c, "%i" replaced by
 * the interface name) and `resolvectl` for DNS.  Each child gets
 * /dev/null as stdin and the daemon's stderr as stdout and stderr, the
 * default signal mask and dispositions (the daemon blocks its signals
 * for signalfd), the daemon's environment (the private key lives only in
 * the daemon's memory, which exec replaces), and JV_HOOK_TIMEOUT_MS:
 * a child still running then is killed with its process group.
 *
 * These calls block: they run during set-up and teardown, never while
 * the event loop carries traffic.
 */

#include <stddef.h>

#include "daemon/config.h"

enum { JV_HOOK_TIMEOUT_MS = 30000 };

/*
 * Run argv[0] (a path, or a name looked up in PATH) with argv, wait up to
 * timeout_ms.  Returns 0 when it exited 0; otherwise a JV_ERR_* and `why`
 * says how it ended ("exit status 3", "killed by signal 9", "timed out
 * after 30 s", "cannot run: ...").
 */
JV_MUST_CHECK int jv_hook_spawn(char *const argv[], int timeout_ms,
				char *why, size_t n);

/* `cmd` with every %i replaced by ifname and %% by %: false if the result
 * does not fit in n bytes. */
bool jv_hook_expand(const char *cmd, const char *ifname, char *out, size_t n);

/*
 * PostUp: every command in order; the first that fails stops the rest
 * and returns its error with `why` = "PostUp `cmd`: exit status N".
 * PreDown: every command in order; failures go to log(ud, line) and the
 * rest still run.
 */
JV_MUST_CHECK int jv_hooks_post_up(const struct jv_config *cfg,
				   const char *ifname, char *why, size_t n);
void jv_hooks_pre_down(const struct jv_config *cfg, const char *ifname,
		       void (*log)(void *ud, const char *line), void *ud);

/*
 * DNS = ... through systemd-resolved: `resolvectl dns IFACE servers` and
 * `resolvectl domain IFACE domains`.  Returns true when applied (so
 * jv_dns_revert must run at exit); false, with a warning through log,
 * when resolvectl is missing or resolved does not answer: nothing is
 * changed then, and the tunnel runs without it.
 */
bool jv_dns_apply(const struct jv_config *cfg, const char *ifname,
		  void (*log)(void *ud, const char *line), void *ud);
/* `resolvectl revert IFACE`. */
void jv_dns_revert(const char *ifname,
		   void (*log)(void *ud, const char *line), void *ud);

#endif
