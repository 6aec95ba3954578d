/* SPDX-License-Identifier: MIT */
/*
 * Routing like wg-quick, without privileges: the FwMark, Table, DNS,
 * PostUp, PreDown keys and Endpoint host names in the config reader; %i
 * expansion and the hook runner (exit status, timeout); host-name
 * resolution at start and on the worker thread, with "localhost" (from
 * /etc/hosts: no DNS query leaves the host).  A name that does not
 * resolve needs a resolver we control: tests/lab/fulltunnel_test.sh
 * tests it with its own /etc/hosts and resolv.conf (unshare -m), and the
 * namespace side of everything else.
 */

#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/config.h"
#include "daemon/hooks.h"
#include "daemon/resolve.h"
#include "net/netaddr.h"
#include "net/netlink.h"

#define GW_KEY "WFRQ6xh4fbh0UOqAqSWg5KfpXItNwn7JzGHKub4Z4EI="
#define CL_KEY "yCqHds2Thf8ozKAaRvWhI04lMjJgif9uQQLIedhoy0w="
#define GW_PUB "CcGUW+8zbsP2sw76cfdtR6/TeLlpN8Z4qn6ihBzs4no="
#define CL_PUB "sL7X+ksGVsbJAIRdkHRcvLD8k5oW49vTIBheiuDOniY="

#define IFACE_C "[Interface]\nRole = client\nPrivateKey = " CL_KEY "\nAddress = 10.8.0.2/24\n"
#define PEER_FULL "[Peer]\nPublicKey = " GW_PUB "\nAllowedIPs = 0.0.0.0/0, ::/0\nEndpoint = 192.0.2.1:51820\n"
#define PEER_SPLIT "[Peer]\nPublicKey = " GW_PUB "\nAllowedIPs = 10.8.0.0/24\nEndpoint = 192.0.2.1:51820\n"
#define IFACE_G "[Interface]\nRole = gateway\nPrivateKey = " GW_KEY "\nAddress = 10.8.0.1/24\nListenPort = 51820\n"
#define PEER_G "[Peer]\nPublicKey = " CL_PUB "\nAllowedIPs = 10.8.0.2/32\n"

static struct jv_config *parse_ok(const char *text)
{
	struct jv_config *c = NULL;
	struct jv_diag d;
	char msg[JV_DIAG_TEXT_MAX];
	int rc = jv_config_parse(text, "t.conf", &c, &d);

	if (rc) {
		if (jv_diag_format(&d, msg, sizeof msg) < 0)
			msg[0] = '\0';
		fail_msg("unexpected error %d: %s", rc, msg);
	}
	assert_non_null(c);
	return c;
}

static void parse_err(const char *text, int rc, unsigned line,
		      const char *key, const char *want)
{
	struct jv_config *c = (struct jv_config *)1;
	struct jv_diag d;
	char msg[JV_DIAG_TEXT_MAX];

	assert_int_equal(jv_config_parse(text, "t.conf", &c, &d), rc);
	assert_null(c);
	assert_true(jv_diag_format(&d, msg, sizeof msg) > 0);
	if (d.line != line || strcmp(d.key, key) || !strstr(msg, want))
		fail_msg("got \"%s\" (line %u, key '%s'); want line %u key '%s' with \"%s\"",
			 msg, d.line, d.key, line, key, want);
}

/* A full tunnel gets wg-quick's mark and table; a split one neither. */
static void fwmark_defaults(void **st)
{
	struct jv_config *c;

	(void)st;
	c = parse_ok(IFACE_C PEER_FULL);
	assert_int_equal(c->fwmark, JV_CFG_FWMARK_DEFAULT);
	assert_int_equal(c->table_mode, JV_CFG_TABLE_AUTO);
	assert_true(jv_config_has_default(c, true));
	assert_true(jv_config_has_default(c, false));
	jv_config_free(c);

	c = parse_ok(IFACE_C PEER_SPLIT);
	assert_int_equal(c->fwmark, 0);
	assert_false(jv_config_has_default(c, true));
	jv_config_free(c);

	c = parse_ok(IFACE_C "FwMark = 0x1234\nTable = 1000\n" PEER_FULL);
	assert_int_equal(c->fwmark, 0x1234);
	assert_int_equal(c->table_mode, JV_CFG_TABLE_NUM);
	assert_int_equal(c->table, 1000);
	jv_config_free(c);

	/* Table = off: no routes, so no default mark either */
	c = parse_ok(IFACE_C "Table = off\n" PEER_FULL);
	assert_int_equal(c->table_mode, JV_CFG_TABLE_OFF);
	assert_int_equal(c->fwmark, 0);
	jv_config_free(c);

	/* a gateway keeps no mark unless told */
	c = parse_ok(IFACE_G "[Peer]\nPublicKey = " CL_PUB "\nAllowedIPs = 0.0.0.0/0\n");
	assert_int_equal(c->fwmark, 0);
	jv_config_free(c);
	c = parse_ok(IFACE_G "FwMark = 7\nTable = 77\n" PEER_G);
	assert_int_equal(c->fwmark, 7);
	assert_int_equal(c->table, 77);
	jv_config_free(c);
}

static void fwmark_table_errors(void **st)
{
	(void)st;
	parse_err(IFACE_C "FwMark = 0\n" PEER_SPLIT, JV_ERR_PARSE, 5, "FwMark",
		  "must be off or a mark in [1, 4294967295]");
	parse_err(IFACE_C "FwMark = 010\n" PEER_SPLIT, JV_ERR_PARSE, 5,
		  "FwMark", "must be off or a mark");
	parse_err(IFACE_C "FwMark = 4294967296\n" PEER_SPLIT, JV_ERR_PARSE, 5,
		  "FwMark", "must be off or a mark");
	parse_err(IFACE_C "Table = main\n" PEER_SPLIT, JV_ERR_PARSE, 5, "Table",
		  "must be auto, off or a routing table");
	parse_err(IFACE_C "Table = 254\n" PEER_SPLIT, JV_ERR_PARSE, 5, "Table",
		  "the kernel's main table");
	parse_err(IFACE_C "Table = 255\n" PEER_SPLIT, JV_ERR_PARSE, 5, "Table",
		  "the kernel's local table");
	parse_err(IFACE_C "FwMark = off\n" PEER_FULL, JV_ERR_INVAL, 5, "FwMark",
		  "a full tunnel (AllowedIPs /0) with Table = auto needs the mark");
	parse_err(IFACE_C "Table = 5\nTable = 6\n" PEER_SPLIT, JV_ERR_PARSE, 6,
		  "Table", "set twice");
}

static void dns_and_hooks(void **st)
{
	struct jv_config *c;
	char a[JV_NETADDR_STR_MAX];

	(void)st;
	c = parse_ok(IFACE_C "DNS = 1.1.1.1, 2606:4700::1111, example.internal\n"
		     "DNS = ~corp.example.\n"
		     "PostUp = echo up %i, with a comma > /tmp/x\n"
		     "PostUp = true\nPreDown = echo down %i\n" PEER_FULL);
	assert_int_equal(c->ndns, 2);
	assert_string_equal(jv_netaddr_str(&c->dns[0], a), "1.1.1.1");
	assert_string_equal(jv_netaddr_str(&c->dns[1], a), "2606:4700::1111");
	assert_int_equal(c->ndomains, 2);
	assert_string_equal(c->domains[0], "example.internal");
	assert_string_equal(c->domains[1], "~corp.example.");
	assert_int_equal(c->npostup, 2);
	/* commas belong to the command: a hook is never split as a list */
	assert_string_equal(c->postup[0], "echo up %i, with a comma > /tmp/x");
	assert_string_equal(c->postup[1], "true");
	assert_int_equal(c->npredown, 1);
	jv_config_free(c);

	parse_err(IFACE_C "DNS = 1.1.1.1:53\n" PEER_FULL, JV_ERR_PARSE, 5, "DNS",
		  "neither an IP address");
	parse_err(IFACE_C "DNS = bad_name\n" PEER_FULL, JV_ERR_PARSE, 5, "DNS",
		  "neither an IP address");
	parse_err(IFACE_C "DNS = -a.example\n" PEER_FULL, JV_ERR_PARSE, 5, "DNS",
		  "neither an IP address");
	parse_err(IFACE_C "DNS = 0.0.0.0\n" PEER_FULL, JV_ERR_PARSE, 5, "DNS",
		  "wildcard");
	parse_err(IFACE_G "DNS = 1.1.1.1\n" PEER_G, JV_ERR_INVAL, 6, "DNS",
		  "only for Role = client");
}

static void endpoint_names(void **st)
{
	struct jv_config *c;

	(void)st;
	c = parse_ok(IFACE_C "[Peer]\nPublicKey = " GW_PUB "\nAllowedIPs = 10.8.0.0/24\n"
		     "Endpoint = vpn.example.net:51820\n"
		     "[Transport]\nName = a\nBind = 192.0.2.7\n"
		     "[Transport]\nName = b\nEndpoint = gw-2.example.net.:443\n");
	assert_int_equal(c->ntransports, 2);
	assert_string_equal(c->transports[0].host, "vpn.example.net");
	assert_int_equal(c->transports[0].endpoint.port, 51820);
	assert_int_equal(c->transports[0].endpoint_line, 8);	/* inherited */
	assert_string_equal(c->transports[1].host, "gw-2.example.net.");
	assert_int_equal(c->transports[1].endpoint.port, 443);
	assert_int_equal(c->transports[1].endpoint_line, 14);
	jv_config_free(c);

	/* an address stays an address */
	c = parse_ok(IFACE_C PEER_SPLIT);
	assert_string_equal(c->transports[0].host, "");
	jv_config_free(c);

	parse_err(IFACE_C "[Peer]\nPublicKey = " GW_PUB "\nEndpoint = vpn.example.net\n",
		  JV_ERR_PARSE, 7, "Endpoint", "not an address or host name with port");
	parse_err(IFACE_C "[Peer]\nPublicKey = " GW_PUB "\nEndpoint = vpn.example.net:0\n",
		  JV_ERR_PARSE, 7, "Endpoint", "not an address or host name with port");
	parse_err(IFACE_C "[Peer]\nPublicKey = " GW_PUB "\nEndpoint = vpn_x.example:1\n",
		  JV_ERR_PARSE, 7, "Endpoint", "not an address or host name with port");
	parse_err(IFACE_C "[Peer]\nPublicKey = " GW_PUB "\nEndpoint = 192.0.2:1\n",
		  JV_ERR_PARSE, 7, "Endpoint", "not an address or host name with port");
}

static void hook_expand(void **st)
{
	char out[64];

	(void)st;
	assert_true(jv_hook_expand("ip link show %i; echo 100%% %x", "jv0", out,
				   sizeof out));
	assert_string_equal(out, "ip link show jv0; echo 100% %x");
	assert_false(jv_hook_expand("%i%i%i%i", "abcdefghijklmnop", out, 40));
	assert_true(jv_hook_expand("", "jv0", out, 1));
	assert_string_equal(out, "");
}

static void hook_spawn(void **st)
{
	char why[128];
	char *ok[] = { "/bin/sh", "-c", "exit 0", NULL };
	char *three[] = { "/bin/sh", "-c", "exit 3", NULL };
	char *slow[] = { "/bin/sh", "-c", "sleep 5 | cat", NULL };
	char *missing[] = { "jvpn-no-such-program", NULL };

	(void)st;
	assert_int_equal(jv_hook_spawn(ok, 5000, why, sizeof why), 0);
	assert_int_equal(jv_hook_spawn(three, 5000, why, sizeof why), JV_ERR_IO);
	assert_string_equal(why, "exit status 3");
	/* bounded: the whole pipeline is killed at the timeout */
	assert_int_equal(jv_hook_spawn(slow, 200, why, sizeof why), JV_ERR_LIMIT);
	assert_non_null(strstr(why, "timed out"));
	assert_int_equal(jv_hook_spawn(missing, 1000, why, sizeof why),
			 JV_ERR_NOTFOUND);
}

/* PostUp stops at the first failure and names the command; PreDown
 * goes on and reports each failure. */
static int lines;
static void count_line(void *ud, const char *line)
{
	(void)ud;
	(void)line;
	lines++;
}

static void hooks_order(void **st)
{
	struct jv_config *c;
	char why[256], path[] = "/tmp/jvpn-hooks-XXXXXX", cmd[800], buf[64];
	FILE *f;
	int fd = mkstemp(path);

	(void)st;
	assert_true(fd >= 0);
	snprintf(cmd, sizeof cmd,
		 IFACE_C "PostUp = echo 1 %%i >> %s\nPostUp = exit 4\n"
		 "PostUp = echo 3 >> %s\nPreDown = false\nPreDown = echo d >> %s\n"
		 PEER_SPLIT, path, path, path);
	c = parse_ok(cmd);
	assert_int_equal(jv_hooks_post_up(c, "jvt9", why, sizeof why),
			 JV_ERR_IO);
	assert_string_equal(why, "PostUp `exit 4`: exit status 4");
	lines = 0;
	jv_hooks_pre_down(c, "jvt9", count_line, NULL);
	assert_int_equal(lines, 1);
	f = fdopen(fd, "r");
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof buf, f));
	assert_string_equal(buf, "1 jvt9\n");
	assert_non_null(fgets(buf, sizeof buf, f));
	assert_string_equal(buf, "d\n");	/* "3" never ran */
	assert_null(fgets(buf, sizeof buf, f));
	fclose(f);
	unlink(path);
	jv_config_free(c);
}

static void resolve_names(void **st)
{
	struct jv_config *c;
	struct jv_addr a;
	char why[300], s[JV_NETADDR_STR_MAX];

	(void)st;
	c = parse_ok(IFACE_C "[Peer]\nPublicKey = " GW_PUB "\nAllowedIPs = 10.8.0.0/24\n"
		     "[Transport]\nName = a\nBind = 127.0.0.1\nEndpoint = localhost:4000\n"
		     "[Transport]\nName = b\nEndpoint = localhost:4001\n");
	assert_int_equal(jv_resolve_now(c, &c->transports[0], AF_INET, &a, why,
					sizeof why), 0);
	assert_string_equal(jv_netaddr_str(&a, s), "127.0.0.1:4000");

	/* the worker: an answer per request, and the eventfd says so */
	struct jv_resolver *r = jv_resolver_new(c);
	struct jv_resolve_answer ans[4];
	struct pollfd p;
	unsigned got = 0;

	assert_non_null(r);
	p.fd = jv_resolver_fd(r);
	p.events = POLLIN;
	jv_resolver_request(r, 0, AF_INET);
	jv_resolver_request(r, 1, AF_INET);
	jv_resolver_request(r, 1, AF_INET);	/* merged with the first */
	for (int i = 0; i < 40 && got < 2; i++) {
		if (poll(&p, 1, 500) == 1)
			got += jv_resolver_take(r, ans + got, 4 - got);
	}
	assert_int_equal(got, 2);
	for (unsigned i = 0; i < 2; i++) {
		if (ans[i].transport == 0) {
			assert_true(ans[i].ok);
			assert_string_equal(jv_netaddr_str(&ans[i].addr, s),
					    "127.0.0.1:4000");
		} else {
			assert_int_equal(ans[i].transport, 1);
			assert_true(ans[i].ok);
			assert_string_equal(jv_netaddr_str(&ans[i].addr, s),
					    "127.0.0.1:4001");
		}
	}
	jv_resolver_free(r);
	jv_config_free(c);
}

static void rule_text(void **st)
{
	char b[96];
	struct jv_nl_rule m = { .family = AF_INET, .priority = 32765,
				.table = 51820, .fwmark = 51820, .invert = true,
				.suppress_prefixlen = -1 };
	struct jv_nl_rule s = { .family = AF_INET6, .priority = 32764,
				.table = 254, .suppress_prefixlen = 0 };

	(void)st;
	jv_nl_rule_str(&m, b, sizeof b);
	assert_string_equal(b, "32765: not fwmark 0xca6c lookup 51820");
	jv_nl_rule_str(&s, b, sizeof b);
	assert_string_equal(b, "-6 32764: lookup main suppress_prefixlength 0");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fwmark_defaults),
		cmocka_unit_test(fwmark_table_errors),
		cmocka_unit_test(dns_and_hooks),
		cmocka_unit_test(endpoint_names),
		cmocka_unit_test(hook_expand),
		cmocka_unit_test(hook_spawn),
		cmocka_unit_test(hooks_order),
		cmocka_unit_test(resolve_names),
		cmocka_unit_test(rule_text),
	};

	return cmocka_run_group_tests_name("route_config", tests, NULL, NULL);
}
