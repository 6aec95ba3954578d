/* SPDX-License-Identifier: MIT */
/*
 * What a reload may apply and what needs a restart (src/daemon/reload.c,
 * D-028): two config texts, the second with one edit; each restart-only
 * edit is named with its key and line, each live one passes.  No
 * privileges: the comparison only (tests/lab/reload_test.sh applies).
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/config.h"
#include "daemon/reload.h"

#define GW_KEY "WFRQ6xh4fbh0UOqAqSWg5KfpXItNwn7JzGHKub4Z4EI="
#define CL_KEY "yCqHds2Thf8ozKAaRvWhI04lMjJgif9uQQLIedhoy0w="
#define GW_PUB "CcGUW+8zbsP2sw76cfdtR6/TeLlpN8Z4qn6ihBzs4no="
#define CL_PUB "sL7X+ksGVsbJAIRdkHRcvLD8k5oW49vTIBheiuDOniY="
#define OTHER_KEY "EEKjIbDJWeW7RzX2tKSxJRIbMESha+3zjmrGDAOSfUU="
#define B_PUB "mDv2ZP8Mz84Mn03gmPvXWzoxxCaUS0DmTcpPcNCyEjU="

static const char gateway[] =
	"[Interface]\n"					/* 1 */
	"Role = gateway\n"
	"PrivateKey = " GW_KEY "\n"
	"Address = 10.8.0.1/24\n"
	"ListenPort = 51820\n"				/* 5 */
	"Name = jvg0\n"
	"NodeId = gw-1\n"
	"EventLog = off\n"
	"StateDir = off\n"
	"\n"						/* 10 */
	"[Peer]\n"
	"PublicKey = " CL_PUB "\n"
	"AllowedIPs = 10.8.0.2/32\n"
	"\n"
	"[Policy]\n"					/* 15 */
	"version = 1.0\n"
	"profile = default\n";

static const char client[] =
	"[Interface]\n"					/* 1 */
	"Role = client\n"
	"PrivateKey = " CL_KEY "\n"
	"Address = 10.8.0.2/24\n"
	"Name = jvc0\n"					/* 5 */
	"EventLog = off\n"
	"\n"
	"[Peer]\n"
	"PublicKey = " GW_PUB "\n"
	"AllowedIPs = 10.8.0.0/24\n"			/* 10 */
	"\n"
	"[Transport]\n"
	"Name = a\n"
	"Endpoint = 192.0.2.1:51820\n"
	"Priority = 0\n";				/* 15 */

static struct jv_config *parse(const char *text)
{
	struct jv_config *c = NULL;
	struct jv_diag d;
	char msg[JV_DIAG_TEXT_MAX];

	if (jv_config_parse(text, "/etc/jvpn/jvg0.conf", &c, &d)) {
		if (jv_diag_format(&d, msg, sizeof msg) < 0)
			msg[0] = '\0';
		fail_msg("config does not parse: %s", msg);
	}
	return c;
}

/* `base` with the text `from` replaced by `to` (once; it must occur). */
static char *edit(const char *base, const char *from, const char *to)
{
	const char *at = strstr(base, from);
	size_t n = strlen(base) - strlen(from) + strlen(to) + 1;
	char *out = malloc(n);

	assert_non_null(at);
	assert_non_null(out);
	snprintf(out, n, "%.*s%s%s", (int)(at - base), base, to,
		 at + strlen(from));
	return out;
}

/* Edit `base`; expect `want` restart keys and each `names` in the text. */
static void check(const char *base, const char *from, const char *to,
		  unsigned want, const char *names)
{
	char *text = edit(base, from, to), buf[600];
	struct jv_config *a = parse(base), *b = parse(text);
	unsigned n = dmn_reload_restart_keys(a, b, buf, sizeof buf);

	if (n != want || (names && !strstr(buf, names)))
		fail_msg("edit '%s' -> '%s': %u restart keys '%s', want %u naming '%s'",
			 from, to, n, buf, want, names ? names : "");
	jv_config_free(a);
	jv_config_free(b);
	free(text);
}

static void gateway_restart_keys(void **st)
{
	(void)st;
	check(gateway, "Role = gateway\n", "Role = gateway\n", 0, NULL);
	check(gateway, "ListenPort = 51820", "ListenPort = 51821", 1,
	      "ListenPort (line 5)");
	check(gateway, "ListenPort = 51820", "ListenPort = 51820, 51821", 1,
	      "ListenPort (line 5)");
	check(gateway, "ListenPort = 51820\n",
	      "ListenPort = 51820\nListenAddress = 127.0.0.1\n", 1,
	      "ListenAddress (line 6)");
	check(gateway, "Address = 10.8.0.1/24", "Address = 10.8.0.1/16", 1,
	      "Address (line 4)");
	/* the default ControlSocket follows Name: both named */
	check(gateway, "Name = jvg0", "Name = jvg1", 2,
	      "Name (line 6), ControlSocket (not set; its default changed)");
	check(gateway, "NodeId = gw-1", "NodeId = gw-2", 1, "NodeId (line 7)");
	check(gateway, "EventLog = off", "EventLog = /tmp/x.jsonl", 1,
	      "EventLog (line 8)");
	check(gateway, "StateDir = off", "StateDir = /tmp/jv", 1,
	      "StateDir (line 9)");
	check(gateway, "Name = jvg0\n", "Name = jvg0\nMTU = 1400\n", 1,
	      "MTU (line 7)");
	check(gateway, "Name = jvg0\n", "Name = jvg0\nMaxSessions = 10\n", 1,
	      "MaxSessions (line 7)");
	check(gateway, "Name = jvg0\n",
	      "Name = jvg0\nControlSocket = /tmp/x.sock\n", 1,
	      "ControlSocket (line 7)");
	check(gateway, "Name = jvg0\n", "Name = jvg0\nHandshakesPerSecond = 5\n",
	      1, "HandshakesPerSecond (line 7)");
	check(gateway, "Name = jvg0\n", "Name = jvg0\nHandshakeBurst = 5\n",
	      1, "HandshakeBurst (line 7)");
	check(gateway, "PrivateKey = " GW_KEY,
	      "PrivateKey = " OTHER_KEY, 1, "PrivateKey (line 3)");
	check(gateway, "StateDir = off\n",
	      "StateDir = off\n[Cluster]\nStore = sqlite:/tmp/s.db\n", 1,
	      "[Cluster] (line 10)");
	/* two at once: both named */
	check(gateway, "NodeId = gw-1\nEventLog = off",
	      "NodeId = gw-2\nEventLog = /tmp/e.jsonl", 2,
	      "NodeId (line 7), EventLog (line 8)");
	/* a key no longer set names where it was */
	check(gateway, "NodeId = gw-1\n", "", 1, "NodeId (no longer set, was line 7)");
}

static void gateway_live_changes(void **st)
{
	(void)st;
	/* peers and AllowedIPs, and the policy, are not restart keys */
	check(gateway, "AllowedIPs = 10.8.0.2/32", "AllowedIPs = 10.8.0.2/32, 10.9.0.0/16",
	      0, NULL);
	check(gateway, "PublicKey = " CL_PUB, "PublicKey = " B_PUB, 0, NULL);
	check(gateway, "\n[Policy]",
	      "\n[Peer]\nPublicKey = " B_PUB "\nAllowedIPs = 10.8.0.3/32\n\n[Policy]",
	      0, NULL);
	check(gateway, "version = 1.0", "version = 1.1", 0, NULL);
}

static void client_restart_keys(void **st)
{
	(void)st;
	check(client, "Priority = 0", "Priority = 1", 1,
	      "[Transport] a (line 12)");
	check(client, "Endpoint = 192.0.2.1:51820", "Endpoint = 192.0.2.9:51820",
	      1, "[Transport] a (line 12)");
	check(client, "Priority = 0\n",
	      "Priority = 0\n\n[Transport]\nName = b\nEndpoint = 192.0.2.2:51820\n",
	      1, "[Transport] b (line 17)");
	check(client, "AllowedIPs = 10.8.0.0/24", "AllowedIPs = 10.8.0.0/16", 1,
	      "[Peer] (line 8)");
	check(client, "PublicKey = " GW_PUB, "PublicKey = " B_PUB, 1,
	      "[Peer] (line 8)");
	/* the client's policy is live */
	check(client, "Priority = 0\n", "Priority = 0\n[Policy]\nversion = 1.1\nprofile = default\n",
	      0, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(gateway_restart_keys),
		cmocka_unit_test(gateway_live_changes),
		cmocka_unit_test(client_restart_keys),
	};
	return cmocka_run_group_tests_name("reload_keys", tests, NULL, NULL);
}
