/* SPDX-License-Identifier: MIT */
/*
 * The daemon's config reader (src/daemon/config.c): both roles parse to
 * what the file says, every error names file, line, key and the rule, the
 * committed examples parse, AllowedIPs routing picks the longest prefix,
 * and a failing allocation is reported, not crashed on.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/config.h"
#include "daemon/key.h"
#include "net/netaddr.h"

/* ---- allocation failure injection (linked with --wrap=calloc) ---------- */

void *__real_calloc(size_t n, size_t size);
void *__wrap_calloc(size_t n, size_t size);
static int fail_calloc_at = -1;		/* n-th call fails; -1: never */

void *__wrap_calloc(size_t n, size_t size)
{
	if (fail_calloc_at == 0) {
		fail_calloc_at = -1;
		return NULL;
	}
	if (fail_calloc_at > 0)
		fail_calloc_at--;
	return __real_calloc(n, size);
}

/* ---- helpers ------------------------------------------------------------- */

#define GW_KEY "WFRQ6xh4fbh0UOqAqSWg5KfpXItNwn7JzGHKub4Z4EI="
#define CL_KEY "yCqHds2Thf8ozKAaRvWhI04lMjJgif9uQQLIedhoy0w="
#define GW_PUB "CcGUW+8zbsP2sw76cfdtR6/TeLlpN8Z4qn6ihBzs4no="
#define CL_PUB "sL7X+ksGVsbJAIRdkHRcvLD8k5oW49vTIBheiuDOniY="
#define C2_PUB "0hl1m/cXJdZePqMUrq9iIYUZvKKKh0Zqg1xem4VV9DA="	/* a third client */
#define C3_PUB "pFYbZ/dYezGZRdx0ZYVlXx+bnw/Y5tW7LxJny610ZW8="	/* and a fourth */

static struct jv_config *parse_ok(const char *text)
{
	struct jv_config *c = NULL;
	struct jv_diag d;
	char msg[JV_DIAG_TEXT_MAX];
	int rc = jv_config_parse(text, "/etc/jvpn/wg7.conf", &c, &d);

	if (rc) {
		if (jv_diag_format(&d, msg, sizeof msg) < 0)
			msg[0] = '\0';
		fail_msg("unexpected error %d: %s", rc, msg);
	}
	assert_non_null(c);
	return c;
}

/* The text must fail with rc, at line, on key, with msg containing want. */
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
	assert_string_equal(d.file, "t.conf");
}

static const char client_text[] =
	"# a client with two paths\n"
	"[Interface]\n"
	"Role = client\n"
	"PrivateKey = " CL_KEY "\n"
	"Address = 10.8.0.2/24, fd00:8::2/64\n"
	"MTU = 1400\n"
	"NodeId = laptop-1\n"
	"\n"
	"[Peer]\n"
	"PublicKey = " GW_PUB "\n"
	"AllowedIPs = 10.8.0.0/24\n"
	"AllowedIPs = 192.168.50.0/24\n"
	"Endpoint = 192.0.2.1:51820\n"
	"\n"
	"[Transport]\n"
	"Name = wifi\n"
	"Interface = wlan0\n"
	"Priority = 0\n"
	"\n"
	"  [transport]\n"
	"  name = lte\n"
	"  bind = 198.51.100.7\n"
	"  endpoint = 203.0.113.9:443   ; another gateway address\n"
	"  priority = 10\n"
	"\n"
	"[Policy]\n"
	"version = 1.0\n"
	"profile = fast\n"
	"switching.max_switches_per_min = 6\n";

static void client_parses(void **st)
{
	struct jv_config *c;
	uint8_t key[32];
	char a[JV_NETADDR_STR_MAX];

	(void)st;
	c = parse_ok(client_text);
	assert_int_equal(c->role, JV_CFG_CLIENT);
	assert_int_equal(jv_key_from_base64(CL_KEY, key), 0);
	assert_memory_equal(c->private_key, key, 32);
	assert_int_equal(c->private_key_line, 4);
	assert_int_equal(c->naddr, 2);
	assert_string_equal(jv_netaddr_str(&c->addr[1].addr, a), "fd00:8::2");
	assert_int_equal(c->addr[1].prefix, 64);
	assert_int_equal(c->mtu, 1400);
	assert_string_equal(c->node_id, "laptop-1");
	/* defaults follow the interface name, taken from the file name */
	assert_string_equal(c->ifname, "wg7");
	assert_string_equal(c->control_socket, "/run/jvpn/wg7.sock");
	assert_string_equal(c->event_log, "/var/log/jvpn/wg7.jsonl");
	assert_int_equal(c->npeers, 1);
	assert_int_equal(c->peers[0].nallowed, 2);
	assert_int_equal(c->ntransports, 2);
	assert_string_equal(c->transports[0].name, "wifi");
	assert_string_equal(c->transports[0].ifname, "wlan0");
	assert_false(c->transports[0].has_bind);
	/* wifi inherits the [Peer] endpoint, lte has its own */
	assert_string_equal(jv_netaddr_str(&c->transports[0].endpoint, a),
			    "192.0.2.1:51820");
	assert_string_equal(jv_netaddr_str(&c->transports[1].endpoint, a),
			    "203.0.113.9:443");
	assert_string_equal(jv_netaddr_str(&c->transports[1].bind, a),
			    "198.51.100.7");
	assert_int_equal(c->transports[1].priority, 10);
	assert_int_equal(c->policy.profile, JV_PROFILE_FAST);
	assert_int_equal(c->policy.heartbeat_interval_ms, 100);
	assert_int_equal(c->policy.max_switches_per_min, 6);
	jv_config_free(c);
}

static void client_default_transport(void **st)
{
	struct jv_config *c;

	(void)st;
	c = parse_ok("[Interface]\nRole = client\nPrivateKey = " CL_KEY "\n"
		     "Address = 10.8.0.2/24\nName = jv9\n"
		     "[Peer]\nPublicKey = " GW_PUB "\n"
		     "Endpoint = [2001:db8::1]:51820\n");
	assert_int_equal(c->ntransports, 1);
	assert_string_equal(c->transports[0].name, "default");
	assert_int_equal(c->mtu, JV_CFG_MTU_DEFAULT);
	assert_string_equal(c->ifname, "jv9");
	assert_int_equal(c->policy.profile, JV_PROFILE_DEFAULT);
	assert_int_equal(c->policy.heartbeat_interval_ms, 500);
	jv_config_free(c);
}

static void gateway_parses(void **st)
{
	struct jv_config *c;
	char a[JV_NETADDR_STR_MAX];
	uint8_t ip[16];
	struct jv_addr x;

	(void)st;
	c = parse_ok("[Interface]\nRole = gateway\nPrivateKey = " GW_KEY "\n"
		     "Address = 10.8.0.1/24\nListenPort = 51820, 443\n"
		     "ListenAddress = 192.0.2.1\nListenAddress = 203.0.113.9\n"
		     "EventLog = off\nHandshakesPerSecond = 20\n"
		     "[Peer]\nPublicKey = " CL_PUB "\nAllowedIPs = 10.8.0.2/32\n"
		     "[Peer]\nPublicKey = " C2_PUB "\n"
		     "AllowedIPs = 10.8.0.64/26, 10.9.0.0/16, 10.9.1.0/24\n");
	assert_int_equal(c->role, JV_CFG_GATEWAY);
	assert_int_equal(c->nlisten, 4);	/* 2 addresses x 2 ports */
	assert_string_equal(jv_netaddr_str(&c->listen[1], a), "192.0.2.1:443");
	assert_string_equal(jv_netaddr_str(&c->listen[2], a), "203.0.113.9:51820");
	assert_string_equal(c->event_log, "");
	assert_int_equal(c->handshakes_per_sec, 20);
	assert_int_equal(c->npeers, 2);
	/* peers' networks are disjoint (D-023); within one peer the
	 * longest prefix still wins */
	assert_int_equal(jv_netaddr_parse(&x, "10.8.0.2"), 0);
	memcpy(ip, x.ip, 16);
	assert_int_equal(jv_config_route_lookup(c, ip), 0);
	assert_int_equal(jv_netaddr_parse(&x, "10.8.0.65"), 0);
	assert_int_equal(jv_config_route_lookup(c, x.ip), 1);
	assert_int_equal(jv_netaddr_parse(&x, "10.9.1.1"), 0);
	assert_int_equal(jv_config_route_lookup(c, x.ip), 1);
	assert_int_equal(jv_netaddr_parse(&x, "10.9.200.1"), 0);
	assert_int_equal(jv_config_route_lookup(c, x.ip), 1);
	assert_int_equal(jv_netaddr_parse(&x, "10.8.0.200"), 0);
	assert_int_equal(jv_config_route_lookup(c, x.ip), -1);
	jv_config_free(c);
}

static void gateway_default_listen(void **st)
{
	struct jv_config *c;
	char a[JV_NETADDR_STR_MAX];

	(void)st;
	c = parse_ok("[Interface]\nRole = gateway\nPrivateKey = " GW_KEY "\n"
		     "Address = 10.8.0.1/24\nListenPort = 51820\n"
		     "[Peer]\nPublicKey = " CL_PUB "\nAllowedIPs = 10.8.0.2/32\n");
	assert_int_equal(c->nlisten, 1);
	assert_string_equal(jv_netaddr_str(&c->listen[0], a), "0.0.0.0:51820");
	jv_config_free(c);
}

#define IFACE_C "[Interface]\nRole = client\nPrivateKey = " CL_KEY "\nAddress = 10.8.0.2/24\n"
#define PEER_C "[Peer]\nPublicKey = " GW_PUB "\nEndpoint = 192.0.2.1:51820\n"
#define IFACE_G "[Interface]\nRole = gateway\nPrivateKey = " GW_KEY "\nAddress = 10.8.0.1/24\nListenPort = 51820\n"
#define PEER_G "[Peer]\nPublicKey = " CL_PUB "\nAllowedIPs = 10.8.0.2/32\n"

/* MetricsListen (docs/metrics.md, D-030): one address with its port,
 * never the wildcard; off by default. */
static void metrics_listen(void **st)
{
	struct jv_config *c;
	char a[JV_NETADDR_STR_MAX];

	(void)st;
	c = parse_ok(IFACE_G PEER_G);
	assert_false(c->has_metrics);
	jv_config_free(c);
	c = parse_ok(IFACE_G "MetricsListen = 127.0.0.1:9586\n" PEER_G);
	assert_true(c->has_metrics);
	assert_string_equal(jv_netaddr_str(&c->metrics_listen, a),
			    "127.0.0.1:9586");
	jv_config_free(c);
	c = parse_ok(IFACE_G "MetricsListen = [::1]:9586\n" PEER_G);
	assert_string_equal(jv_netaddr_str(&c->metrics_listen, a), "[::1]:9586");
	jv_config_free(c);
	c = parse_ok(IFACE_G "MetricsListen = off\n" PEER_G);
	assert_false(c->has_metrics);
	jv_config_free(c);
	parse_err(IFACE_G "MetricsListen = 0.0.0.0:9586\n" PEER_G, JV_ERR_PARSE,
		  6, "MetricsListen", "the wildcard address");
	parse_err(IFACE_G "MetricsListen = [::]:9586\n" PEER_G, JV_ERR_PARSE,
		  6, "MetricsListen", "the wildcard address");
	parse_err(IFACE_G "MetricsListen = 127.0.0.1\n" PEER_G, JV_ERR_PARSE,
		  6, "MetricsListen", "not an address with port");
	parse_err(IFACE_G "MetricsListen = localhost:9586\n" PEER_G,
		  JV_ERR_PARSE, 6, "MetricsListen", "not an address with port");
}

/* PD-9: the session store's defaults and the [Cluster] section. */
static void gateway_store(void **st)
{
	struct jv_config *c;

	(void)st;
	c = parse_ok(IFACE_G "Name = jvx\n" PEER_G);
	assert_string_equal(c->state_dir, "/var/lib/jvpn/jvx");
	assert_string_equal(c->store_url, "sqlite:/var/lib/jvpn/jvx/sessions.db");
	assert_int_equal(c->owner_lease_ms, 0);
	jv_config_free(c);

	c = parse_ok(IFACE_G "StateDir = off\n" PEER_G);
	assert_string_equal(c->store_url, "");
	jv_config_free(c);

	c = parse_ok(IFACE_G PEER_G "[Cluster]\n"
		     "Store = etcd:https://10.0.9.1:2379,https://[fd00::9]:2379\n"
		     "CaFile = /etc/jvpn/ca.pem\nCertFile = /etc/jvpn/gw.pem\n"
		     "KeyFile = /etc/jvpn/gw.key\n");
	assert_int_equal(c->owner_lease_ms, JV_CFG_LEASE_MS_DEFAULT);
	assert_string_equal(c->ca_file, "/etc/jvpn/ca.pem");
	jv_config_free(c);
}

static void cluster_errors(void **st)
{
	(void)st;
	parse_err(IFACE_G PEER_G "[Cluster]\nStore = redis:x\n", JV_ERR_PARSE, 10,
		  "Store", "must be sqlite:/path or etcd:https://host:port");
	parse_err(IFACE_G PEER_G "[Cluster]\nStore = sqlite:rel/s.db\n",
		  JV_ERR_PARSE, 10, "Store", "absolute path");
	parse_err(IFACE_G PEER_G "[Cluster]\nStore = etcd:https://h:2379/v3\n",
		  JV_ERR_PARSE, 10, "Store", "endpoints http(s)://host:port");
	parse_err(IFACE_G PEER_G "[Cluster]\nStore = etcd:http://h:2379,ftp://h:1\n",
		  JV_ERR_PARSE, 10, "Store", "endpoints http(s)://host:port");
	parse_err(IFACE_G PEER_G "[Cluster]\nStore = etcd:http://h\n",
		  JV_ERR_PARSE, 10, "Store", "endpoints http(s)://host:port");
	parse_err(IFACE_G PEER_G "[Cluster]\nOwnerLeaseMs = 500\n",
		  JV_ERR_PARSE, 10, "OwnerLeaseMs", "[1000, 60000]");
	/* sqlite's lease is the process: etcd-only keys are refused */
	parse_err(IFACE_G PEER_G "[Cluster]\nOwnerLeaseMs = 2000\n",
		  JV_ERR_INVAL, 10, "OwnerLeaseMs", "only for Store = etcd");
	/* OP-22: the lease below the recovery window (fast: 3000) */
	parse_err(IFACE_G PEER_G "[Cluster]\nStore = etcd:http://h:2379\n"
		  "OwnerLeaseMs = 3000\n[Policy]\nversion = 1.0\nprofile = fast\n",
		  JV_ERR_INVAL, 11, "OwnerLeaseMs",
		  "not below the policy's switching.recovery_window_ms (3000)");
	parse_err(IFACE_G PEER_G "[Cluster]\nStore = etcd:https://h:2379\n"
		  "CertFile = /c.pem\n", JV_ERR_INVAL, 11, "CertFile",
		  "CertFile and KeyFile go together");
	parse_err(IFACE_G PEER_G "[Cluster]\nStore = etcd:http://h:2379\n"
		  "CaFile = /ca.pem\n", JV_ERR_INVAL, 11, "CaFile",
		  "need https:// endpoints");
	parse_err(IFACE_C PEER_C "[Cluster]\nStore = sqlite:/s.db\n",
		  JV_ERR_INVAL, 8, "Cluster", "[Cluster] is for Role = gateway");
	parse_err(IFACE_C "StateDir = /x\n" PEER_C, JV_ERR_INVAL, 5, "StateDir",
		  "only for Role = gateway");
	parse_err(IFACE_G PEER_G "[Cluster]\n[Cluster]\n", JV_ERR_PARSE, 10,
		  "Cluster", "second [Cluster] section");
}

static void errors_name_file_line_key(void **st)
{
	(void)st;
	parse_err("Role = client\n", JV_ERR_PARSE, 1, "Role",
		  "key outside any section");
	parse_err("[Interface]\nRole = server\n", JV_ERR_PARSE, 2, "Role",
		  "Role = server: must be client or gateway");
	parse_err("[Interface]\nrole = client\nROLE = gateway\n", JV_ERR_PARSE,
		  3, "ROLE", "set twice in this section (first at line 2)");
	parse_err("[Interface]\nColour = blue\n", JV_ERR_PARSE, 2, "Colour",
		  "unknown key in [Interface] (allowed: Role, PrivateKey, PrivateKeyFile, Address, MTU, Name,");
	parse_err("[Interface]\n[Peers]\n", JV_ERR_PARSE, 2, "",
		  "unknown section [Peers]");
	parse_err("[Interface\n", JV_ERR_PARSE, 1, "", "malformed section header");
	parse_err("[Interface]\nRole client\n", JV_ERR_PARSE, 2, "",
		  "malformed line");
	parse_err("[Interface]\nRole =\n", JV_ERR_PARSE, 2, "Role", "empty value");
	parse_err("[Interface]\nMTU = 100\n", JV_ERR_PARSE, 2, "MTU",
		  "MTU = 100: must be an integer in [576, 1500]");
	parse_err("[Interface]\nMTU = 01400\n", JV_ERR_PARSE, 2, "MTU",
		  "must be an integer");
	parse_err("[Interface]\nAddress = 10.8.0.2/33\n", JV_ERR_PARSE, 2,
		  "Address", "not an address with prefix");
	parse_err("[Interface]\nAddress = 10.8.0.2/24,\n", JV_ERR_PARSE, 2,
		  "Address", "empty item in the list");
	parse_err("[Interface]\nName = a/b\n", JV_ERR_PARSE, 2, "Name",
		  "not an interface name");
	parse_err("[Interface]\nControlSocket = run/x.sock\n", JV_ERR_PARSE, 2,
		  "ControlSocket", "must be an absolute path");
	parse_err("[Interface]\nListenPort = 0\n", JV_ERR_PARSE, 2,
		  "ListenPort", "not a UDP port (1..65535)");
	parse_err("[Interface]\nListenAddress = 192.0.2.1:51820\n",
		  JV_ERR_PARSE, 2, "ListenAddress", "ports go in ListenPort");
	parse_err("[Interface]\nPrivateKey = AAAA\n", JV_ERR_PARSE, 2,
		  "PrivateKey", "not a key (44 characters of base64");
	/* the key itself is never echoed */
	{
		struct jv_config *c;
		struct jv_diag d;

		assert_int_equal(jv_config_parse("[Interface]\nPrivateKey = s3cretAAAA\n",
						 "t.conf", &c, &d), JV_ERR_PARSE);
		assert_string_equal(d.value, "");
	}
}

static void errors_of_whole_file(void **st)
{
	(void)st;
	parse_err("", JV_ERR_PARSE, 0, "Interface", "no [Interface] section");
	parse_err("[Interface]\nPrivateKey = " CL_KEY "\n", JV_ERR_PARSE, 1,
		  "Role", "missing in [Interface]");
	parse_err("[Interface]\nRole = client\n", JV_ERR_PARSE, 1, "PrivateKey",
		  "missing in [Interface]");
	parse_err("[Interface]\nRole = client\nPrivateKey = " CL_KEY "\n"
		  "PrivateKeyFile = /etc/k\n", JV_ERR_PARSE, 4, "PrivateKeyFile",
		  "PrivateKey is set too (line 3)");
	parse_err("[Interface]\nRole = client\nPrivateKey = " CL_KEY "\n",
		  JV_ERR_PARSE, 1, "Address", "missing in [Interface]");
	parse_err(IFACE_C, JV_ERR_INVAL, 0, "Peer",
		  "a client needs exactly one [Peer]");
	parse_err(IFACE_C PEER_C PEER_C, JV_ERR_PARSE, 9, "PublicKey",
		  "same key as the [Peer] at line 5");
	parse_err(IFACE_C PEER_C "[Peer]\nPublicKey = " CL_PUB "\n",
		  JV_ERR_INVAL, 8, "Peer", "a client needs exactly one [Peer] (the gateway), found 2");
	parse_err(IFACE_C "[Peer]\n[Transport]\nName = a\n", JV_ERR_PARSE, 5,
		  "PublicKey", "[Peer] without PublicKey");
	parse_err(IFACE_C "[Peer]\nPublicKey = " GW_PUB "\n", JV_ERR_INVAL, 5,
		  "Endpoint", "no [Transport] section and no Endpoint in [Peer]");
	parse_err(IFACE_C "[Peer]\nPublicKey = " GW_PUB "\n[Transport]\nName = a\n",
		  JV_ERR_INVAL, 7, "Endpoint",
		  "[Transport] a has no Endpoint and [Peer] has none to inherit");
	parse_err(IFACE_C PEER_C "[Transport]\nPriority = 1\n", JV_ERR_PARSE,
		  8, "Name", "[Transport] without Name");
	parse_err(IFACE_C PEER_C "[Transport]\nName = a\n[Transport]\nName = a\n",
		  JV_ERR_PARSE, 11, "Name", "transport name already used at line 8");
	parse_err(IFACE_C PEER_C "[Transport]\nName = a b\n", JV_ERR_PARSE, 9,
		  "Name", "not a transport name");
	parse_err(IFACE_C PEER_C "[Transport]\nName = a\nBind = fd00::1\n",
		  JV_ERR_INVAL, 8, "Bind", "different address families");
	parse_err(IFACE_C PEER_C "[Transport]\nName = a\nEndpoint = 192.0.2.1\n",
		  JV_ERR_PARSE, 10, "Endpoint", "not an address or host name with port");
	parse_err(IFACE_C "ListenPort = 1\n" PEER_C, JV_ERR_INVAL, 5,
		  "ListenPort", "only for Role = gateway");
	parse_err(IFACE_G, JV_ERR_INVAL, 0, "Peer",
		  "a gateway needs at least one [Peer]");
	parse_err(IFACE_G PEER_G "[Transport]\nName = a\n", JV_ERR_INVAL, 9,
		  "Transport", "[Transport] sections are for Role = client");
	parse_err(IFACE_G "[Peer]\nPublicKey = " CL_PUB "\n", JV_ERR_INVAL, 6,
		  "AllowedIPs", "needs AllowedIPs");
	parse_err(IFACE_G PEER_G "Endpoint = 192.0.2.9:1\n", JV_ERR_INVAL, 6,
		  "Endpoint", "Endpoint is for a client's [Peer]");
	parse_err(IFACE_G PEER_G "AllowedIPs = 10.8.0.1/24\n", JV_ERR_PARSE, 9,
		  "AllowedIPs", "host bits set after the prefix");
	parse_err("[Interface]\nRole = gateway\nPrivateKey = " GW_KEY "\n"
		  "Address = 10.8.0.1/24\n" PEER_G, JV_ERR_INVAL, 1, "ListenPort",
		  "a gateway needs ListenPort");
}

static void policy_errors_keep_lines(void **st)
{
	(void)st;
	parse_err(IFACE_C PEER_C "[Policy]\nversion = 1.0\nprofile = fast\n"
		  "volatility.heartbeat_intervall_ms = 100\n", JV_ERR_PARSE, 11,
		  "volatility.heartbeat_intervall_ms", "unknown");
	parse_err(IFACE_C PEER_C "[Policy]\nversion = 1.0\nprofile = fast\n"
		  "session.transport_lost_ttl_ms = 100\n", JV_ERR_INVAL, 11,
		  "session.transport_lost_ttl_ms",
		  "must be > volatility.heartbeat_volatile_ms");
	/* without a profile every §5 field is required */
	parse_err(IFACE_C PEER_C "[Policy]\nversion = 1.0\n", JV_ERR_PARSE, 0,
		  "session.max_lifetime_ms", "");
}

/* wg-quick style: '#' or ';' after a blank starts a comment, anywhere a
 * value or a section header ends; without the blank it is part of the
 * value (base64 and paths are never cut). */
static void inline_comments(void **st)
{
	struct jv_config *c;

	(void)st;
	c = parse_ok("[Interface] # this host\n"
		     "Role = client # a laptop\n"
		     "PrivateKey = " CL_KEY "\t# from jvpn genkey\n"
		     "Address = 10.8.0.2/24 ; wg-quick style too\n"
		     "NodeId = rack#7\n"
		     "EventLog = /var/log/jvpn/a#1.jsonl # a '#' in a path\n"
		     "[Peer]   ; the gateway\n"
		     "PublicKey = " GW_PUB " # gw-fra-1\n"
		     "Endpoint = 192.0.2.1:51820 # its default address\n"
		     "[Policy]\n"
		     "version = 1.0 # spec version\n"
		     "profile = fast\t; the fast column\n");
	assert_int_equal(c->role, JV_CFG_CLIENT);
	assert_int_equal(c->naddr, 1);
	assert_string_equal(c->node_id, "rack#7");
	assert_string_equal(c->event_log, "/var/log/jvpn/a#1.jsonl");
	assert_int_equal(c->policy.profile, JV_PROFILE_FAST);
	jv_config_free(c);
	/* no blank before '#': the value keeps it, and is refused as such */
	parse_err("[Interface]\nRole = client#laptop\n", JV_ERR_PARSE, 2,
		  "Role", "Role = client#laptop: must be client or gateway");
	parse_err("[Interface]\nPrivateKey = " CL_KEY "#x\n", JV_ERR_PARSE, 2,
		  "PrivateKey", "not a key (44 characters of base64");
	parse_err("[Interface]\nMTU = 1400;x\n", JV_ERR_PARSE, 2, "MTU",
		  "MTU = 1400;x: must be an integer");
	/* a comment and nothing else is no value */
	parse_err("[Interface]\nRole = # client\n", JV_ERR_PARSE, 2, "Role",
		  "empty value");
	/* after a section header only a comment may follow */
	parse_err("[Interface]\n[Peer]#gw\n", JV_ERR_PARSE, 2, "",
		  "text after the section header");
	parse_err("[Interface]\n[Peer] gw\n", JV_ERR_PARSE, 2, "",
		  "text after the section header");
	parse_err("[Interface]\n[Peer # gw]\n", JV_ERR_PARSE, 2, "",
		  "malformed section header");
}

/* The examples ship placeholders where keys go; `jvpn up` says what to
 * run instead of failing on base64. */
static void placeholders_refused(void **st)
{
	(void)st;
	parse_err("[Interface]\nRole = client\n"
		  "PrivateKey = REPLACE_WITH_OUTPUT_OF_jvpn_genkey\n",
		  JV_ERR_PARSE, 3, "PrivateKey",
		  "PrivateKey: still the example's placeholder: put your own key here, the output of `umask 077; jvpn genkey`");
	parse_err(IFACE_C "[Peer]\nPublicKey = replace_with_the_gateways_key\n",
		  JV_ERR_PARSE, 6, "PublicKey",
		  "PublicKey = replace_with_the_gateways_key: still the example's placeholder: put the peer's public key here, what `jvpn pubkey < its.key` prints on the peer");
}

/* Keys that cannot be secret: published ones, zero and low-order
 * points, and this host's own key as its peer. */
static void weak_keys_refused(void **st)
{
	char path[] = "/tmp/jvpn-config-key-XXXXXX", text[512];
	int fd;

	(void)st;
	/* the examples' keys before issue 11 (jvpn 0.1.0) */
	parse_err("[Interface]\nRole = gateway\n"
		  "PrivateKey = 4AfODjLYO7MxJm5RrP/aIhQ9vFqlrvfB9U/te81lOXY=\n"
		  "Address = 10.8.0.1/24\nListenPort = 51820\n" PEER_G,
		  JV_ERR_PARSE, 3, "PrivateKey",
		  "PrivateKey: known-compromised key: it was published in the examples of jvpn 0.1.0");
	parse_err(IFACE_C "[Peer]\n"
		  "PublicKey = j/iLHHArixw4+SUzekQmMTVIcPbhWo+vjOFRFCC9pRc=\n",
		  JV_ERR_PARSE, 6, "PublicKey",
		  "known-compromised key: published in the examples of jvpn 0.1.0; the peer needs a new pair");
	parse_err(IFACE_G "[Peer]\n"
		  "PublicKey = vkZrNZS5J6BoZWCNJMHC8L061CtBxGNJDcD8Djwxek8=\n",
		  JV_ERR_PARSE, 7, "PublicKey", "known-compromised key");
	/* the same from a PrivateKeyFile */
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_true(write(fd, "kMBtWYWJGeB9ZYxElSDYHZG/OIQ2ZouN16dCwhqfzWg=\n", 45) == 45);
	close(fd);
	snprintf(text, sizeof text, "[Interface]\nRole = client\n"
		 "PrivateKeyFile = %s\nAddress = 10.8.0.2/24\n" PEER_C, path);
	parse_err(text, JV_ERR_PARSE, 3, "PrivateKeyFile", "known-compromised key");
	unlink(path);
	/* zero and low-order points (u = 0, u = 1) */
	parse_err(IFACE_C "[Peer]\n"
		  "PublicKey = AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
		  JV_ERR_PARSE, 6, "PublicKey",
		  "an all-zero key: no secret can be agreed with it");
	parse_err(IFACE_C "[Peer]\n"
		  "PublicKey = AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
		  JV_ERR_PARSE, 6, "PublicKey",
		  "a low-order point: no secret can be agreed with it");
	parse_err("[Interface]\nRole = client\n"
		  "PrivateKey = AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
		  "Address = 10.8.0.2/24\n" PEER_C, JV_ERR_PARSE, 3, "PrivateKey",
		  "an all-zero key is not a key");
	/* this host's own key as its peer */
	parse_err(IFACE_G PEER_G "[Peer]\nPublicKey = " GW_PUB "\n"
		  "AllowedIPs = 10.8.0.3/32\n", JV_ERR_INVAL, 10, "PublicKey",
		  "the gateway's own public key (of the private key at line 3): a [Peer] holds a client's key");
	parse_err(IFACE_C "[Peer]\nPublicKey = " CL_PUB "\n"
		  "Endpoint = 192.0.2.1:51820\n", JV_ERR_INVAL, 6, "PublicKey",
		  "the client's own public key (of the private key at line 3): the [Peer] holds the gateway's key");
}

/* Two gateway peers may not share an address (D-023): the same network,
 * or one inside the other, either way round, IPv6 too; one peer's own
 * nested networks are fine. */
static void overlapping_allowed_ips(void **st)
{
	struct jv_config *c;

	(void)st;
	parse_err(IFACE_G PEER_G "[Peer]\nPublicKey = " C2_PUB "\n"
		  "AllowedIPs = 10.8.0.2/32\n", JV_ERR_INVAL, 11, "AllowedIPs",
		  "AllowedIPs = 10.8.0.2/32: the same network as 10.8.0.2/32 of the [Peer] at line 6 (AllowedIPs at line 8): a gateway's peers need disjoint AllowedIPs");
	parse_err(IFACE_G PEER_G "[Peer]\nPublicKey = " C2_PUB "\n"
		  "AllowedIPs = 192.168.0.0/16\nAllowedIPs = 10.8.0.0/24\n",
		  JV_ERR_INVAL, 12, "AllowedIPs",
		  "AllowedIPs = 10.8.0.0/24: contains 10.8.0.2/32 of the [Peer] at line 6 (AllowedIPs at line 8)");
	parse_err(IFACE_G "[Peer]\nPublicKey = " CL_PUB "\n"
		  "AllowedIPs = 10.8.0.0/16\n"
		  "[Peer]\nPublicKey = " C2_PUB "\nAllowedIPs = 10.7.0.0/16\n"
		  "[Peer]\nPublicKey = " C3_PUB "\n"
		  "AllowedIPs = fd00::3/128, 10.8.3.0/24\n",
		  JV_ERR_INVAL, 14, "AllowedIPs",
		  "AllowedIPs = 10.8.3.0/24: lies inside 10.8.0.0/16 of the [Peer] at line 6 (AllowedIPs at line 8)");
	parse_err(IFACE_G "[Peer]\nPublicKey = " CL_PUB "\n"
		  "AllowedIPs = fd00:8::/64\n"
		  "[Peer]\nPublicKey = " C2_PUB "\nAllowedIPs = fd00:8::2/128\n",
		  JV_ERR_INVAL, 11, "AllowedIPs",
		  "AllowedIPs = fd00:8::2/128: lies inside fd00:8::/64 of the [Peer] at line 6 (AllowedIPs at line 8)");
	/* disjoint neighbours, one peer's own nesting and duplicates, and
	 * ::/0 beside IPv4 networks (another family) are fine */
	c = parse_ok(IFACE_G "[Peer]\nPublicKey = " CL_PUB "\n"
		     "AllowedIPs = 10.8.0.0/25, 10.8.0.0/26, 10.8.0.0/26, ::/0\n"
		     "[Peer]\nPublicKey = " C2_PUB "\n"
		     "AllowedIPs = 10.8.0.128/25, 10.9.0.0/16\n");
	assert_int_equal(c->npeers, 2);
	jv_config_free(c);
	/* the client's one [Peer] is not checked against itself */
	c = parse_ok(IFACE_C "[Peer]\nPublicKey = " GW_PUB "\n"
		     "AllowedIPs = 10.0.0.0/8, 10.8.0.0/24\n"
		     "Endpoint = 192.0.2.1:51820\n");
	jv_config_free(c);
}

/* Names the kernel keeps: refused at parse time, not as a TUNSETIFF
 * errno at start (the start-time check is tests/lab/errors_test.sh). */
static void reserved_interface_names(void **st)
{
	struct jv_config *c = NULL;
	struct jv_diag d;

	(void)st;
	parse_err("[Interface]\nName = lo\n", JV_ERR_PARSE, 2, "Name",
		  "Name = lo: reserved by the kernel (lo, all, default, bonding_masters): choose another name, e.g. jv0");
	parse_err("[Interface]\nName = all\n", JV_ERR_PARSE, 2, "Name",
		  "reserved by the kernel");
	parse_err("[Interface]\nName = default\n", JV_ERR_PARSE, 2, "Name",
		  "reserved by the kernel");
	/* from the file name, as wg-quick does it: /etc/jvpn/lo.conf */
	assert_int_equal(jv_config_parse(IFACE_C PEER_C, "/etc/jvpn/lo.conf", &c,
					 &d), JV_ERR_INVAL);
	assert_null(c);
	assert_int_equal(d.line, 1);
	assert_string_equal(d.key, "Name");
	assert_non_null(strstr(d.msg, "comes from the file name and is reserved by the kernel"));
	c = parse_ok(IFACE_C "Name = jv0\n" PEER_C);
	jv_config_free(c);
}

static void long_line_refused(void **st)
{
	char text[1024];

	(void)st;
	snprintf(text, sizeof text, "[Interface]\nNodeId = %0400d\n", 7);
	parse_err(text, JV_ERR_PARSE, 2, "", "line too long");
}

static void load_file_and_mode(void **st)
{
	char path[] = "/tmp/jvpn-config-test-XXXXXX";
	struct jv_config *c = NULL;
	struct jv_diag d;
	int fd = mkstemp(path);

	(void)st;
	assert_true(fd >= 0);
	assert_true(write(fd, client_text, strlen(client_text)) ==
		    (ssize_t)strlen(client_text));
	close(fd);
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(jv_config_load(path, &c, &d), 0);
	assert_false(c->world_readable);
	jv_config_free(c);
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(jv_config_load(path, &c, &d), 0);
	assert_true(c->world_readable);	/* holds a key: warn like wg */
	jv_config_free(c);
	unlink(path);
	assert_int_equal(jv_config_load(path, &c, &d), JV_ERR_IO);
	assert_null(c);
	assert_string_equal(d.file, path);
	assert_non_null(strstr(d.msg, "cannot open"));
}

/* Issue 10: a NUL in the file used to end the text the reader took, so
 * the keys after it silently did not apply (here a [Policy] line).  Any
 * control byte but tab, LF and CRLF is refused, naming file and line. */
static void control_bytes_refused(void **st)
{
	char path[] = "/tmp/jvpn-config-test-XXXXXX";
	static const char tail[] = "\n[Policy]\nprofile = fast\n";
	struct jv_config *c = NULL;
	struct jv_diag d;
	char msg[JV_DIAG_TEXT_MAX];
	size_t n = strlen(client_text);
	int fd = mkstemp(path);

	(void)st;
	assert_true(fd >= 0);
	assert_true(write(fd, client_text, n) == (ssize_t)n);
	assert_true(write(fd, "# x\0y", 5) == 5);	/* line after the text */
	assert_true(write(fd, tail, sizeof tail - 1) == (ssize_t)(sizeof tail - 1));
	close(fd);
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(jv_config_load(path, &c, &d), JV_ERR_PARSE);
	assert_null(c);
	assert_true(jv_diag_format(&d, msg, sizeof msg) > 0);
	assert_string_equal(d.file, path);
	{
		unsigned lines = 1;

		for (size_t i = 0; i < n; i++)
			lines += client_text[i] == '\n';
		if (d.line != lines || !strstr(msg, "control byte 0x00 (NUL)"))
			fail_msg("got \"%s\" (line %u), want line %u", msg,
				 d.line, lines);
	}
	unlink(path);
	/* in memory too: a bell, a lone CR, DEL; tab and CRLF are fine */
	parse_err("[Interface]\nRole = client\a\n", JV_ERR_PARSE, 2, "",
		  "control byte 0x07");
	parse_err("[Interface]\r\nRole = client\rMTU = 1300\n", JV_ERR_PARSE, 2,
		  "", "control byte 0x0d (CR not before a newline)");
	parse_err("[Interface]\n\x7fRole = client\n", JV_ERR_PARSE, 2, "",
		  "control byte 0x7f");
	c = parse_ok("[Interface]\r\nRole\t= client\r\nPrivateKey = "
		     CL_KEY "\r\n"
		     "Address = 10.9.0.2/24\r\n[Peer]\r\nPublicKey = "
		     GW_PUB "\r\n"
		     "Endpoint = 192.0.2.1:51820\r\n");
	jv_config_free(c);
}

/*
 * The committed examples hold no key, only placeholders (a key in a
 * shipped file is a key everyone has): as shipped, `jvpn up` refuses them
 * at the first placeholder; with fresh keys in their place they parse.
 */
static void examples_parse(void **st)
{
	static const char *const names[] = { "client.conf", "gateway.conf" };
	const char *dir = getenv("JV_EXAMPLES_DIR");
	char path[512], msg[JV_DIAG_TEXT_MAX];

	(void)st;
	if (!dir)
		skip();
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		struct jv_config *c = NULL;
		struct jv_diag d;
		char line[512], text[8192] = "";
		unsigned lineno = 0, first = 0;
		FILE *f;

		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		f = fopen(path, "r");
		assert_non_null(f);
		while (fgets(line, sizeof line, f)) {
			char *ph = strstr(line, "REPLACE_WITH_");
			uint8_t k[32], pub[32];
			char b64[JV_KEY_B64_SIZE], *eq = strchr(line, '=');

			lineno++;
			if (line[0] == '#')
				ph = NULL;	/* the header says what they are */
			/* no key at all: every key value is a placeholder */
			if (eq && (!strncmp(line, "PrivateKey", 10) ||
				   !strncmp(line, "PublicKey", 9))) {
				assert_non_null(ph);
				assert_int_not_equal(jv_key_from_base64(eq + 1, k), 0);
			}
			if (ph) {
				if (!first)
					first = lineno;
				assert_int_equal(jv_key_generate(k), 0);
				if (strncmp(line, "PrivateKey", 10)) {
					assert_int_equal(jv_key_public(k, pub), 0);
					memcpy(k, pub, 32);
				}
				jv_key_to_base64(k, b64);
				snprintf(ph, sizeof line - (size_t)(ph - line),
					 "%s\n", b64);
			}
			assert_true(strlen(text) + strlen(line) < sizeof text);
			strcat(text, line);
		}
		fclose(f);
		assert_true(first > 0);
		/* as shipped: refused at its first placeholder, saying what
		 * to run */
		assert_int_equal(jv_config_load(path, &c, &d), JV_ERR_PARSE);
		assert_null(c);
		assert_true(jv_diag_format(&d, msg, sizeof msg) > 0);
		if (d.line != first || strcmp(d.key, "PrivateKey") ||
		    !strstr(msg, "still the example's placeholder") ||
		    !strstr(msg, "jvpn genkey"))
			fail_msg("%s as shipped: got \"%s\", want line %u, PrivateKey, placeholder",
				 names[i], msg, first);
		/* with its own keys */
		if (jv_config_parse(text, path, &c, &d)) {
			if (jv_diag_format(&d, msg, sizeof msg) < 0)
				msg[0] = '\0';
			fail_msg("%s with fresh keys: %s", names[i], msg);
		}
		assert_int_equal(c->role, i == 0 ? JV_CFG_CLIENT : JV_CFG_GATEWAY);
		jv_config_free(c);
	}
}

static void allocation_failure(void **st)
{
	struct jv_config *c = (struct jv_config *)1;
	struct jv_diag d;

	(void)st;
	for (int n = 0; n < 3; n++) {
		fail_calloc_at = n;
		assert_int_equal(jv_config_parse(client_text, "t.conf", &c, &d),
				 JV_ERR_NOMEM);
		assert_null(c);
		assert_non_null(strstr(d.msg, "out of memory"));
	}
	fail_calloc_at = -1;
	c = parse_ok(client_text);
	jv_config_free(c);
}

static void keys_round_trip(void **st)
{
	uint8_t k[32], pub[32], back[32];
	char b64[JV_KEY_B64_SIZE];

	(void)st;
	assert_int_equal(jv_key_from_base64(CL_KEY, k), 0);
	assert_int_equal(jv_key_public(k, pub), 0);
	jv_key_to_base64(pub, b64);
	assert_string_equal(b64, CL_PUB);
	assert_int_equal(jv_key_from_base64(" " CL_PUB "\n", back), 0);
	assert_memory_equal(back, pub, 32);
	/* 43 characters, a bad character, 33 bytes: refused */
	assert_int_equal(jv_key_from_base64("sL7X+ksGVsbJAIRdkHRcvLD8k5oW49vTIBheiuDOniY", back),
			 JV_ERR_PARSE);
	assert_int_equal(jv_key_from_base64("sL7X+ksGVsbJAIRdkHRcvLD8k5oW49vTIBheiuDOni!=", back),
			 JV_ERR_PARSE);
	assert_int_equal(jv_key_from_base64("sL7X+ksGVsbJAIRdkHRcvLD8k5oW49vTIBheiuDOniYA", back),
			 JV_ERR_PARSE);
	assert_int_equal(jv_key_generate(k), 0);
	assert_int_equal(k[0] & 7, 0);		/* clamped */
	assert_int_equal(k[31] & 0xc0, 0x40);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(client_parses),
		cmocka_unit_test(client_default_transport),
		cmocka_unit_test(gateway_parses),
		cmocka_unit_test(gateway_default_listen),
		cmocka_unit_test(gateway_store),
		cmocka_unit_test(metrics_listen),
		cmocka_unit_test(cluster_errors),
		cmocka_unit_test(errors_name_file_line_key),
		cmocka_unit_test(errors_of_whole_file),
		cmocka_unit_test(policy_errors_keep_lines),
		cmocka_unit_test(inline_comments),
		cmocka_unit_test(placeholders_refused),
		cmocka_unit_test(weak_keys_refused),
		cmocka_unit_test(overlapping_allowed_ips),
		cmocka_unit_test(reserved_interface_names),
		cmocka_unit_test(long_line_refused),
		cmocka_unit_test(load_file_and_mode),
		cmocka_unit_test(control_bytes_refused),
		cmocka_unit_test(examples_parse),
		cmocka_unit_test(allocation_failure),
		cmocka_unit_test(keys_round_trip),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
