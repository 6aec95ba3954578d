/* SPDX-License-Identifier: MIT */
/*
 * The config file reader.  libinih splits lines into sections, keys and
 * values; our reader hands it one line at a time, so our line count is
 * its line number (Debian builds inih without INI_HANDLER_LINENO), and it
 * sees section headers itself, so two consecutive [Peer] sections are two
 * peers (inih only reports the section name with each key) and an empty
 * section is still noticed.  Keys and section names are compared
 * case-insensitively, as in wg.  Leading blanks are stripped before inih
 * sees a line: inih would otherwise join an indented line to the previous
 * value.  A '#' or ';' after a blank starts a comment, cut here too (inih
 * itself only knows " ;"), so "Role = client # laptop" reads as wg-quick
 * reads it, and a value holding '#' without a blank before it is whole.
 */

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>
#include <sodium.h>

#include "daemon/config.h"
#include "jvpn/text.h"
#include "daemon/key.h"
#include "daemon/route_table.h"
#include "net/netaddr.h"

enum {
	CFG_FILE_MAX = 1 << 20,		/* a config is small; refuse more */
	CFG_PEER_FILE_MAX = 64 << 10,	/* one [Peer] of PeersDir */
	CFG_ARENA_CHUNK = 64 << 10,
};

/*
 * The peers' variable parts (AllowedIPs, their lines, host names, file
 * names) are bump-allocated in chunks that live as long as the config
 * (D-032): no per-peer allocation to free, no fixed worst case per peer.
 */
struct cfg_arena {
	struct cfg_arena *next;
	size_t used, cap;
	max_align_t data[];
};

static void *arena_alloc(struct jv_config *c, size_t n)
{
	struct cfg_arena *a = c->arena;
	size_t al = _Alignof(max_align_t);

	n = (n + al - 1) / al * al;
	if (!a || a->cap - a->used < n) {
		size_t cap = n > CFG_ARENA_CHUNK ? n : CFG_ARENA_CHUNK;

		a = malloc(sizeof *a + cap);
		if (!a)
			return NULL;
		a->next = c->arena;
		a->used = 0;
		a->cap = cap;
		c->arena = a;
	}
	a->used += n;
	return (char *)a->data + a->used - n;
}

static char *arena_strdup(struct jv_config *c, const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = arena_alloc(c, n);

	if (p)
		memcpy(p, s, n);
	return p;
}

enum section {
	SEC_NONE,
	SEC_INTERFACE,
	SEC_PEER,
	SEC_TRANSPORT,
	SEC_POLICY,
	SEC_CLUSTER,
};

/* [Interface] keys, each at most once (lists may repeat). */
enum ikey {
	IK_ROLE, IK_PRIVATE_KEY, IK_PRIVATE_KEY_FILE, IK_ADDRESS, IK_MTU,
	IK_NAME, IK_NODE_ID, IK_EVENT_LOG, IK_CONTROL_SOCKET, IK_LISTEN_PORT,
	IK_LISTEN_ADDRESS, IK_MAX_SESSIONS, IK_HS_RATE, IK_HS_BURST,
	IK_STATE_DIR, IK_FWMARK, IK_TABLE, IK_DNS, IK_POST_UP, IK_PRE_DOWN,
	IK_METRICS_LISTEN, IK_PEERS_DIR, IK_COUNT
};

struct key_def {
	const char *name;
	bool list;		/* may repeat; values may be comma-separated */
};

static const struct key_def ikeys[IK_COUNT] = {
	[IK_ROLE] = { "Role", false },
	[IK_PRIVATE_KEY] = { "PrivateKey", false },
	[IK_PRIVATE_KEY_FILE] = { "PrivateKeyFile", false },
	[IK_ADDRESS] = { "Address", true },
	[IK_MTU] = { "MTU", false },
	[IK_NAME] = { "Name", false },
	[IK_NODE_ID] = { "NodeId", false },
	[IK_EVENT_LOG] = { "EventLog", false },
	[IK_CONTROL_SOCKET] = { "ControlSocket", false },
	[IK_LISTEN_PORT] = { "ListenPort", true },
	[IK_LISTEN_ADDRESS] = { "ListenAddress", true },
	[IK_MAX_SESSIONS] = { "MaxSessions", false },
	[IK_HS_RATE] = { "HandshakesPerSecond", false },
	[IK_HS_BURST] = { "HandshakeBurst", false },
	[IK_STATE_DIR] = { "StateDir", false },
	[IK_FWMARK] = { "FwMark", false },
	[IK_TABLE] = { "Table", false },
	[IK_DNS] = { "DNS", true },
	[IK_POST_UP] = { "PostUp", true },
	[IK_PRE_DOWN] = { "PreDown", true },
	[IK_METRICS_LISTEN] = { "MetricsListen", false },
	[IK_PEERS_DIR] = { "PeersDir", false },
};

enum ckey { CK_STORE, CK_CLUSTER_KEY_FILE, CK_OWNER_LEASE_MS, CK_CA_FILE,
	    CK_CERT_FILE, CK_KEY_FILE, CK_COUNT };
static const struct key_def ckeys[CK_COUNT] = {
	[CK_STORE] = { "Store", false },
	[CK_CLUSTER_KEY_FILE] = { "ClusterKeyFile", false },
	[CK_OWNER_LEASE_MS] = { "OwnerLeaseMs", false },
	[CK_CA_FILE] = { "CaFile", false },
	[CK_CERT_FILE] = { "CertFile", false },
	[CK_KEY_FILE] = { "KeyFile", false },
};

enum pkey { PK_PUBLIC_KEY, PK_ALLOWED_IPS, PK_ENDPOINT, PK_COUNT };
static const struct key_def pkeys[PK_COUNT] = {
	[PK_PUBLIC_KEY] = { "PublicKey", false },
	[PK_ALLOWED_IPS] = { "AllowedIPs", true },
	[PK_ENDPOINT] = { "Endpoint", false },
};

enum tkey { TK_NAME, TK_BIND, TK_INTERFACE, TK_ENDPOINT, TK_PRIORITY,
	    TK_COUNT };
static const struct key_def tkeys[TK_COUNT] = {
	[TK_NAME] = { "Name", false },
	[TK_BIND] = { "Bind", false },
	[TK_INTERFACE] = { "Interface", false },
	[TK_ENDPOINT] = { "Endpoint", false },
	[TK_PRIORITY] = { "Priority", false },
};

struct reader {
	/* the text and the line count */
	const char *pos;
	unsigned lineno;
	bool stop;
	int max_line;

	/* where we are */
	enum section sec;
	unsigned sec_line;
	unsigned interface_line;	/* first [Interface] header */
	unsigned transport_lines[JV_MAX_TRANSPORTS + 1];

	/* lines at which keys were set (0: not set) */
	unsigned iset[IK_COUNT];
	unsigned pset[PK_COUNT];	/* current [Peer] */
	unsigned tset[TK_COUNT];	/* current [Transport] */
	unsigned cset[CK_COUNT];	/* [Cluster] */
	unsigned peer_endpoint_line;	/* client: line of Endpoint */
	unsigned peer_allowed_line;
	/* the open [Peer]'s AllowedIPs, moved to the arena when it closes */
	unsigned cur_nallowed;
	struct jv_cidr cur_allowed[JV_CFG_ALLOWED_MAX];
	unsigned cur_allowed_line[JV_CFG_ALLOWED_MAX];
	unsigned cap_peers;		/* cfg->peers' room */

	/* a PeersDir file: only [Peer], exactly one; cur_file names it
	 * (arena), NULL while reading the config file itself */
	bool peer_file;
	const char *cur_file;
	const char *main_file;		/* the config's name, "" = none */
	const struct jv_cfg_text *files;	/* jv_config_parse_peers */
	unsigned nfiles;
	bool files_given;
	unsigned sec_count, first_peer_line;

	unsigned nlports, nladdrs;
	uint16_t lports[JV_CFG_LISTEN_MAX];
	struct jv_addr laddrs[JV_CFG_LISTEN_MAX];
	char key_file[JV_CFG_PATH_MAX];
	bool has_key;

	struct jv_policy_ini pol;
	unsigned policy_keys;

	struct jv_config *cfg;
	struct jv_diag *d;
	int err;
	unsigned err_line;
};

/* ---- small helpers ------------------------------------------------------ */

static bool ieq(const char *a, const char *b)
{
	for (; *a && *b; a++, b++)
		if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
			return false;
	return *a == *b;
}

static int fail(struct reader *r, unsigned line, const char *key,
		const char *value, int code, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

static int fail(struct reader *r, unsigned line, const char *key,
		const char *value, int code, const char *fmt, ...)
{
	va_list ap;

	if (r->err)
		return r->err;
	va_start(ap, fmt);
	jv_diag_vset(r->d, line, key, fmt, ap);
	va_end(ap);
	if (value)
		jv_diag_value(r->d, "%s", value);
	r->err = code;
	r->err_line = line;
	r->stop = true;
	return code;
}

/* Decimal digits only, in [min, max]. */
static bool parse_uint(const char *s, unsigned long min, unsigned long max,
		       unsigned long *v)
{
	char *end;

	if (!isdigit((unsigned char)*s) || (s[0] == '0' && s[1]))
		return false;
	errno = 0;
	*v = strtoul(s, &end, 10);
	return !errno && !*end && *v >= min && *v <= max;
}

static bool ifname_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= IF_NAMESIZE || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("_.-", s[i]))
			return false;
	return true;
}

/* Names the kernel keeps for itself: the loopback device, the sysctl
 * trees /proc/sys/net/ipv{4,6}/conf/{all,default}, and the bonding
 * driver's control file in /sys/class/net. */
static bool ifname_reserved(const char *s)
{
	static const char *const reserved[] = { "lo", "all", "default",
						"bonding_masters" };

	for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
		if (!strcmp(s, reserved[i]))
			return true;
	return false;
}

#define IFNAME_RESERVED_MSG \
	"reserved by the kernel (lo, all, default, bonding_masters): choose another name, e.g. jv0"

static bool transport_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= JV_TRANSPORT_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("_.-", s[i]))
			return false;
	return true;
}

/* The prefix bits of c.addr beyond c.prefix must be zero. */
static bool cidr_host_bits_clear(const struct jv_cidr *c)
{
	unsigned bits = jv_netaddr_is_v4(&c->addr) ? 96 + c->prefix : c->prefix;

	for (unsigned i = bits; i < 128; i++)
		if (c->addr.ip[i / 8] & (0x80 >> (i % 8)))
			return false;
	return true;
}

bool jv_cidr_contains(const struct jv_cidr *c, const uint8_t ip[16])
{
	unsigned bits = jv_netaddr_is_v4(&c->addr) ? 96 + c->prefix : c->prefix;
	unsigned full = bits / 8, rest = bits % 8;

	if (memcmp(c->addr.ip, ip, full))
		return false;
	if (rest) {
		uint8_t m = (uint8_t)(0xff << (8 - rest));
		if ((c->addr.ip[full] & m) != (ip[full] & m))
			return false;
	}
	return true;
}

bool jv_config_has_default(const struct jv_config *cfg, bool v4)
{
	for (unsigned p = 0; p < cfg->npeers; p++)
		for (unsigned i = 0; i < cfg->peers[p].nallowed; i++) {
			const struct jv_cidr *c = &cfg->peers[p].allowed[i];

			if (c->prefix == 0 && jv_netaddr_is_v4(&c->addr) == v4)
				return true;
		}
	return false;
}

int jv_config_route_lookup(const struct jv_config *cfg, const uint8_t ip[16])
{
	int best = -1;
	unsigned best_bits = 0;

	if (cfg->routes)
		return jv_route_table_lookup(cfg->routes, ip);
	/* Linear: the reference the table is tested against, and what a
	 * config no daemon runs answers with. */
	for (unsigned p = 0; p < cfg->npeers; p++)
		for (unsigned i = 0; i < cfg->peers[p].nallowed; i++) {
			const struct jv_cidr *c = &cfg->peers[p].allowed[i];
			unsigned bits = jv_netaddr_is_v4(&c->addr) ?
					96 + c->prefix : c->prefix;

			if ((best < 0 || bits > best_bits) &&
			    jv_cidr_contains(c, ip)) {
				best = (int)p;
				best_bits = bits;
			}
		}
	return best;
}

/* Split a comma-separated list in place and call fn on each trimmed item. */
static int each_item(struct reader *r, const char *key, const char *value,
		     int (*fn)(struct reader *, const char *, const char *))
{
	char buf[512];
	char *save = NULL, *item;
	int rc;

	if (strlen(value) >= sizeof buf)
		return fail(r, r->lineno, key, NULL, JV_ERR_PARSE,
			    "list too long");
	snprintf(buf, sizeof buf, "%s", value);
	if (!buf[0] || buf[strlen(buf) - 1] == ',')
		return fail(r, r->lineno, key, value, JV_ERR_PARSE,
			    "empty item in the list (items are separated by ',')");
	for (item = strtok_r(buf, ",", &save); item;
	     item = strtok_r(NULL, ",", &save)) {
		while (isspace((unsigned char)*item))
			item++;
		for (size_t n = strlen(item); n && isspace((unsigned char)item[n - 1]);)
			item[--n] = '\0';
		if (!*item)
			return fail(r, r->lineno, key, value, JV_ERR_PARSE,
				    "empty item in the list (items are separated by ',')");
		rc = fn(r, key, item);
		if (rc)
			return rc;
	}
	return 0;
}

/* Decimal or 0x hexadecimal, 1..UINT32_MAX (FwMark, Table). */
static bool parse_u32(const char *s, uint32_t *out)
{
	unsigned long long v;
	char *end;

	if (!isdigit((unsigned char)*s))
		return false;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end || v == 0 || v > 0xffffffffull ||
	    (s[0] == '0' && s[1] && s[1] != 'x' && s[1] != 'X'))
		return false;	/* no octal surprise: 010 is refused */
	*out = (uint32_t)v;
	return true;
}

/* A DNS name: labels of 1..63 of A-Z a-z 0-9 - (not first or last),
 * separated by dots, at most 253 characters, one trailing dot allowed.
 * Used for Endpoint host names and DNS search domains. */
static bool hostname_ok(const char *s)
{
	size_t n = strlen(s), label = 0;

	if (n && s[n - 1] == '.')
		n--;
	if (n == 0 || n > 253)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '.') {
			if (label == 0 || s[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!isalnum((unsigned char)s[i]) &&
		    (s[i] != '-' || label == 0))
			return false;
		if (++label > 63)
			return false;
	}
	return s[n - 1] != '-';
}

/* ---- [Interface] ------------------------------------------------------- */

/* DNS = servers (IP addresses) and search domains (names; a leading ~
 * makes it a routing-only domain, as resolvectl has it). */
static int add_dns(struct reader *r, const char *key, const char *s)
{
	struct jv_config *c = r->cfg;
	struct jv_addr a;

	if (!jv_netaddr_parse(&a, s) && !a.port) {
		if (jv_netaddr_is_any(&a))
			return fail(r, r->lineno, key, s, JV_ERR_PARSE,
				    "the wildcard address is no DNS server");
		if (c->ndns >= JV_CFG_DNS_MAX)
			return fail(r, r->lineno, key, s, JV_ERR_PARSE,
				    "too many DNS servers (at most %d)",
				    JV_CFG_DNS_MAX);
		c->dns[c->ndns++] = a;
		return 0;
	}
	if (!hostname_ok(s[0] == '~' ? s + 1 : s))
		return fail(r, r->lineno, key, s, JV_ERR_PARSE,
			    "neither an IP address (a DNS server, e.g. 1.1.1.1) nor a domain name (a search domain, e.g. example.internal)");
	if (c->ndomains >= JV_CFG_DOMAINS_MAX)
		return fail(r, r->lineno, key, s, JV_ERR_PARSE,
			    "too many search domains (at most %d)",
			    JV_CFG_DOMAINS_MAX);
	snprintf(c->domains[c->ndomains++], JV_CFG_HOST_MAX, "%s", s);
	return 0;
}

static int add_address(struct reader *r, const char *key, const char *s)
{
	struct jv_config *c = r->cfg;
	struct jv_cidr cidr;

	if (jv_netaddr_parse_prefix(&cidr.addr, &cidr.prefix, s))
		return fail(r, r->lineno, key, s, JV_ERR_PARSE,
			    "not an address with prefix (expected e.g. 10.8.0.2/24 or fd00::2/64)");
	if (jv_netaddr_is_any(&cidr.addr))
		return fail(r, r->lineno, key, s, JV_ERR_PARSE,
			    "the wildcard address cannot be a tunnel address");
	if (c->naddr >= JV_CFG_ADDR_MAX)
		return fail(r, r->lineno, key, s, JV_ERR_PARSE,
			    "too many addresses (at most %d)", JV_CFG_ADDR_MAX);
	cidr.addr.port = 0;
	c->addr[c->naddr++] = cidr;
	return 0;
}

static int add_listen_port(struct reader *r, const char *key, const char *s)
{
	unsigned long v;

	if (!parse_uint(s, 1, 65535, &v))
		return fail(r, r->lineno, key, s, JV_ERR_PARSE,
			    "not a UDP port (1..65535)");
	if (r->nlports >= JV_CFG_LISTEN_MAX)
		return fail(r, r->lineno, key, s, JV_ERR_PARSE,
			    "too many ports (at most %d)", JV_CFG_LISTEN_MAX);
	for (unsigned i = 0; i < r->nlports; i++)
		if (r->lports[i] == v)
			return fail(r, r->lineno, key, s, JV_ERR_PARSE,
				    "port listed twice");
	r->lports[r->nlports++] = (uint16_t)v;
	return 0;
}

static int add_listen_addr(struct reader *r, const char *key, const char *s)
{
	struct jv_addr a;

	if (jv_netaddr_parse(&a, s) || a.port)
		return fail(r, r->lineno, key, s, JV_ERR_PARSE,
			    "not an IP address without port (ports go in ListenPort; e.g. 0.0.0.0, 192.0.2.1, ::)");
	if (r->nladdrs >= JV_CFG_LISTEN_MAX)
		return fail(r, r->lineno, key, s, JV_ERR_PARSE,
			    "too many addresses (at most %d)", JV_CFG_LISTEN_MAX);
	for (unsigned i = 0; i < r->nladdrs; i++)
		if (jv_addr_equal(&r->laddrs[i], &a))
			return fail(r, r->lineno, key, s, JV_ERR_PARSE,
				    "address listed twice");
	r->laddrs[r->nladdrs++] = a;
	return 0;
}

static int copy_path(struct reader *r, const char *key, const char *value,
		     char *dst, size_t cap)
{
	if (value[0] != '/')
		return fail(r, r->lineno, key, value, JV_ERR_PARSE,
			    "must be an absolute path");
	if (strlen(value) >= cap)
		return fail(r, r->lineno, key, value, JV_ERR_PARSE,
			    "path too long (at most %zu bytes)", cap - 1);
	snprintf(dst, cap, "%s", value);
	return 0;
}

/* D-030: an unauthenticated HTTP endpoint that names every peer's key
 * listens on one address the operator names, never on all of them. */
static int metrics_listen(struct reader *r, const char *key,
			  const char *value)
{
	struct jv_config *c = r->cfg;

	if (ieq(value, "off")) {
		c->has_metrics = false;
		return 0;
	}
	if (jv_netaddr_parse(&c->metrics_listen, value) ||
	    !c->metrics_listen.port)
		return fail(r, r->lineno, key, value, JV_ERR_PARSE,
			    "not an address with port (e.g. 127.0.0.1:9586, [::1]:9586, or off)");
	if (jv_netaddr_is_any(&c->metrics_listen))
		return fail(r, r->lineno, key, value, JV_ERR_PARSE,
			    "the wildcard address would serve the metrics on every interface, the tunnel's included: name one address (127.0.0.1:9586, or a management address)");
	c->has_metrics = true;
	return 0;
}

/* PeersDir: absolute, or relative to the config file's directory (so a
 * tree of /etc/jvpn moves as a whole). */
static int peers_dir_key(struct reader *r, const char *key, const char *value)
{
	struct jv_config *c = r->cfg;
	const char *slash = strrchr(r->main_file, '/');
	int n;

	if (value[0] == '/' || !slash)
		n = snprintf(c->peers_dir, sizeof c->peers_dir, "%s", value);
	else
		n = snprintf(c->peers_dir, sizeof c->peers_dir, "%.*s/%s",
			     (int)(slash - r->main_file), r->main_file, value);
	if (n < 0 || (size_t)n >= sizeof c->peers_dir)
		return fail(r, r->lineno, key, value, JV_ERR_PARSE,
			    "path too long (at most %zu bytes, relative ones joined to the config file's directory)",
			    sizeof c->peers_dir - 1);
	return 0;
}

static int interface_key(struct reader *r, int k, const char *key,
			 const char *value)
{
	struct jv_config *c = r->cfg;
	unsigned long v;

	switch (k) {
	case IK_ROLE:
		if (ieq(value, "client"))
			c->role = JV_CFG_CLIENT;
		else if (ieq(value, "gateway"))
			c->role = JV_CFG_GATEWAY;
		else
			return fail(r, r->lineno, key, value, JV_ERR_PARSE,
				    "must be client or gateway");
		return 0;
	case IK_PRIVATE_KEY:
		if (jv_key_is_placeholder(value))
			return fail(r, r->lineno, key, NULL, JV_ERR_PARSE,
				    "still the example's placeholder: put your own key here, the output of `umask 077; jvpn genkey` (or PrivateKeyFile = /path of that output)");
		if (jv_key_from_base64(value, c->private_key))
			return fail(r, r->lineno, key, NULL, JV_ERR_PARSE,
				    "not a key (44 characters of base64, as printed by `jvpn genkey`)");
		r->has_key = true;
		return 0;
	case IK_PRIVATE_KEY_FILE:
		return copy_path(r, key, value, r->key_file, sizeof r->key_file);
	case IK_ADDRESS:
		return each_item(r, key, value, add_address);
	case IK_MTU:
		if (!parse_uint(value, JV_CFG_MTU_MIN, JV_MTU_MAX, &v))
			return fail(r, r->lineno, key, value, JV_ERR_PARSE,
				    "must be an integer in [%d, %d]",
				    JV_CFG_MTU_MIN, JV_MTU_MAX);
		c->mtu = (unsigned)v;
		return 0;
	case IK_NAME:
		if (!ifname_ok(value))
			return fail(r, r->lineno, key, value, JV_ERR_PARSE,
				    "not an interface name (1..%d of A-Z a-z 0-9 _ . -)",
				    IF_NAMESIZE - 1);
		if (ifname_reserved(value))
			return fail(r, r->lineno, key, value, JV_ERR_PARSE,
				    IFNAME_RESERVED_MSG);
		snprintf(c->ifname, sizeof c->ifname, "%s", value);
		return 0;
	case IK_NODE_ID:
		if (!*value || strlen(value) >= JV_NODE_ID_MAX)
			return fail(r, r->lineno, key, value, JV_ERR_PARSE,
				    "must be 1..%d bytes", JV_NODE_ID_MAX - 1);
		for (const char *p = value; *p; p++)
			if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e)
				return fail(r, r->lineno, key, value, JV_ERR_PARSE,
					    "printable ASCII without blanks only");
		snprintf(c->node_id, sizeof c->node_id, "%s", value);
		return 0;
	case IK_EVENT_LOG:
		if (ieq(value, "off")) {
			c->event_log[0] = '\0';
			return 0;
		}
		return copy_path(r, key, value, c->event_log,
				 sizeof c->event_log);
	case IK_CONTROL_SOCKET:
		return copy_path(r, key, value, c->control_socket,
				 sizeof c->control_socket);
	case IK_LISTEN_PORT:
		return each_item(r, key, value, add_listen_port);
	case IK_LISTEN_ADDRESS:
		return each_item(r, key, value, add_listen_addr);
	case IK_MAX_SESSIONS:
		if (!parse_uint(value, 1, 1000000, &v))
			return fail(r, r->lineno, key, value, JV_ERR_PARSE,
				    "must be an integer in [1, 1000000]");
		c->max_sessions = (unsigned)v;
		return 0;
	case IK_HS_RATE:
		if (!parse_uint(value, 1, 100000, &v))
			return fail(r, r->lineno, key, value, JV_ERR_PARSE,
				    "must be an integer in [1, 100000]");
		c->handshakes_per_sec = (uint32_t)v;
		return 0;
	case IK_HS_BURST:
		if (!parse_uint(value, 1, 100000, &v))
			return fail(r, r->lineno, key, value, JV_ERR_PARSE,
				    "must be an integer in [1, 100000]");
		c->handshake_burst = (uint32_t)v;
		return 0;
	case IK_STATE_DIR:
		if (ieq(value, "off")) {
			c->state_dir[0] = '\0';
			return 0;
		}
		return copy_path(r, key, value, c->state_dir,
				 sizeof c->state_dir);
	case IK_FWMARK:
		c->fwmark_line = r->lineno;
		c->fwmark_set = true;
		if (ieq(value, "off")) {
			c->fwmark = 0;
			return 0;
		}
		if (!parse_u32(value, &c->fwmark))
			return fail(r, r->lineno, key, value, JV_ERR_PARSE,
				    "must be off or a mark in [1, 4294967295] (decimal or 0x hex)");
		return 0;
	case IK_TABLE:
		c->table_line = r->lineno;
		if (ieq(value, "auto")) {
			c->table_mode = JV_CFG_TABLE_AUTO;
			return 0;
		}
		if (ieq(value, "off")) {
			c->table_mode = JV_CFG_TABLE_OFF;
			return 0;
		}
		if (!parse_u32(value, &c->table) || c->table == 0xffffffffu)
			return fail(r, r->lineno, key, value, JV_ERR_PARSE,
				    "must be auto, off or a routing table in [1, 4294967294]");
		if (c->table >= 253 && c->table <= 255)
			return fail(r, r->lineno, key, value, JV_ERR_PARSE,
				    "table %u is the kernel's %s table: use auto, off or another number",
				    c->table, c->table == 253 ? "default" :
				    c->table == 254 ? "main" : "local");
		c->table_mode = JV_CFG_TABLE_NUM;
		return 0;
	case IK_DNS:
		return each_item(r, key, value, add_dns);
	case IK_POST_UP:
	case IK_PRE_DOWN: {
		bool up = k == IK_POST_UP;
		unsigned *n = up ? &c->npostup : &c->npredown;

		if (*n >= JV_CFG_HOOKS_MAX)
			return fail(r, r->lineno, key, NULL, JV_ERR_PARSE,
				    "too many %s lines (at most %d)", key,
				    JV_CFG_HOOKS_MAX);
		if (strlen(value) >= JV_CFG_HOOK_LEN)
			return fail(r, r->lineno, key, NULL, JV_ERR_PARSE,
				    "command too long (at most %d bytes)",
				    JV_CFG_HOOK_LEN - 1);
		snprintf(up ? c->postup[*n] : c->predown[*n], JV_CFG_HOOK_LEN,
			 "%s", value);
		(*n)++;
		return 0;
	}
	case IK_METRICS_LISTEN:
		return metrics_listen(r, key, value);
	case IK_PEERS_DIR:
		return peers_dir_key(r, key, value);
	}
	return 0;
}

/* ---- [Cluster] ----------------------------------------------------------- */

/* "http(s)://host:port" with nothing after the port: what etcd's gateway
 * needs, checked here so a typo is a config error, not a runtime one. */
static bool etcd_endpoint_ok(const char *s, size_t n)
{
	const char *p = s, *end = s + n, *colon = NULL;

	if (n > 8 && !strncmp(s, "https://", 8))
		p += 8;
	else if (n > 7 && !strncmp(s, "http://", 7))
		p += 7;
	else
		return false;
	if (p < end && *p == '[') {
		while (p < end && *p != ']')
			p++;
		if (p == end)
			return false;
	}
	for (; p < end; p++) {
		if (*p == ':')
			colon = p;
		else if (*p == '/' || *p == ' ' || *p == '@')
			return false;
	}
	if (!colon || colon + 1 == end)
		return false;
	for (p = colon + 1; p < end; p++)
		if (!isdigit((unsigned char)*p))
			return false;
	return true;
}

static int store_url(struct reader *r, const char *key, const char *value)
{
	struct jv_config *c = r->cfg;

	if (strlen(value) >= sizeof c->store_url)
		return fail(r, r->lineno, key, NULL, JV_ERR_PARSE,
			    "longer than %d bytes", JV_CFG_URL_MAX - 1);
	if (!strncmp(value, "sqlite:", 7)) {
		if (value[7] != '/')
			return fail(r, r->lineno, key, value, JV_ERR_PARSE,
				    "sqlite: needs an absolute path (e.g. sqlite:/var/lib/jvpn/jv0/sessions.db)");
	} else if (!strncmp(value, "etcd:", 5)) {
		const char *p = value + 5;

		for (;;) {
			const char *comma = strchr(p, ',');
			size_t n = comma ? (size_t)(comma - p) : strlen(p);

			if (!etcd_endpoint_ok(p, n))
				return fail(r, r->lineno, key, value, JV_ERR_PARSE,
					    "etcd: needs endpoints http(s)://host:port separated by commas (e.g. etcd:https://10.0.0.1:2379,https://10.0.0.2:2379)");
			if (!comma)
				break;
			p = comma + 1;
		}
	} else {
		return fail(r, r->lineno, key, value, JV_ERR_PARSE,
			    "must be sqlite:/path or etcd:https://host:port,...");
	}
	snprintf(c->store_url, sizeof c->store_url, "%s", value);
	return 0;
}

static int cluster_key(struct reader *r, int k, const char *key,
		       const char *value)
{
	struct jv_config *c = r->cfg;
	unsigned long v;

	switch (k) {
	case CK_STORE:
		return store_url(r, key, value);
	case CK_CLUSTER_KEY_FILE:
		return copy_path(r, key, value, c->cluster_key_file,
				 sizeof c->cluster_key_file);
	case CK_OWNER_LEASE_MS:
		if (!parse_uint(value, JV_CFG_LEASE_MS_MIN, JV_CFG_LEASE_MS_MAX,
				&v))
			return fail(r, r->lineno, key, value, JV_ERR_PARSE,
				    "must be an integer in [%d, %d] (milliseconds)",
				    JV_CFG_LEASE_MS_MIN, JV_CFG_LEASE_MS_MAX);
		c->owner_lease_ms = (unsigned)v;
		return 0;
	case CK_CA_FILE:
		return copy_path(r, key, value, c->ca_file, sizeof c->ca_file);
	case CK_CERT_FILE:
		return copy_path(r, key, value, c->cert_file,
				 sizeof c->cert_file);
	case CK_KEY_FILE:
		return copy_path(r, key, value, c->key_file, sizeof c->key_file);
	}
	return 0;
}

/* ---- [Peer] ------------------------------------------------------------- */

static int add_allowed(struct reader *r, const char *key, const char *s)
{
	struct jv_cidr c;

	if (jv_netaddr_parse_prefix(&c.addr, &c.prefix, s))
		return fail(r, r->lineno, key, s, JV_ERR_PARSE,
			    "not a network (expected e.g. 10.8.0.0/24, 10.8.0.2/32 or fd00::/64)");
	c.addr.port = 0;
	if (!cidr_host_bits_clear(&c))
		return fail(r, r->lineno, key, s, JV_ERR_PARSE,
			    "host bits set after the prefix (write the network address, e.g. 10.8.0.0/24)");
	if (r->cur_nallowed >= JV_CFG_ALLOWED_MAX)
		return fail(r, r->lineno, key, s, JV_ERR_PARSE,
			    "too many networks (at most %d per peer)",
			    JV_CFG_ALLOWED_MAX);
	r->cur_allowed_line[r->cur_nallowed] = r->lineno;
	r->cur_allowed[r->cur_nallowed++] = c;
	return 0;
}

/*
 * An address with port, or a host name with port ("vpn.example.net:51820"):
 * the name is kept in host[] with the port in a->port, and resolved when
 * the daemon starts (daemon/resolve.h), never here: reading a file
 * (tests, the fuzzer, `jvpn status --config`) does no DNS.
 */
static int parse_endpoint(struct reader *r, const char *key, const char *value,
			  struct jv_addr *a, char host[JV_CFG_HOST_MAX],
			  unsigned *line)
{
	const char *colon = strrchr(value, ':');
	char name[JV_CFG_HOST_MAX];
	unsigned long port;
	size_t n;

	*line = r->lineno;
	host[0] = '\0';
	if (!jv_netaddr_parse(a, value) && a->port && !jv_netaddr_is_any(a))
		return 0;
	n = colon ? (size_t)(colon - value) : 0;
	if (!colon || n == 0 || n >= sizeof name || value[0] == '[' ||
	    isdigit((unsigned char)value[n - 1]) ||
	    !parse_uint(colon + 1, 1, 65535, &port))
		goto bad;
	memcpy(name, value, n);
	name[n] = '\0';
	if (!hostname_ok(name))
		goto bad;
	memset(a, 0, sizeof *a);
	a->port = (uint16_t)port;
	snprintf(host, JV_CFG_HOST_MAX, "%s", name);
	return 0;
bad:
	return fail(r, r->lineno, key, value, JV_ERR_PARSE,
		    "not an address or host name with port (expected e.g. 192.0.2.1:51820, [2001:db8::1]:51820 or vpn.example.net:51820)");
}

static int peer_key(struct reader *r, int k, const char *key,
		    const char *value)
{
	struct jv_cfg_peer *p = &r->cfg->peers[r->cfg->npeers - 1];

	switch (k) {
	case PK_PUBLIC_KEY:
		if (jv_key_is_placeholder(value))
			return fail(r, r->lineno, key, value, JV_ERR_PARSE,
				    "still the example's placeholder: put the peer's public key here, what `jvpn pubkey < its.key` prints on the peer");
		if (jv_key_from_base64(value, p->public_key))
			return fail(r, r->lineno, key, value, JV_ERR_PARSE,
				    "not a key (44 characters of base64, as printed by `jvpn pubkey`)");
		if (jv_key_low_order(p->public_key))
			return fail(r, r->lineno, key, value, JV_ERR_PARSE,
				    "%s: no secret can be agreed with it; put the peer's real key here (`jvpn pubkey` on the peer)",
				    sodium_is_zero(p->public_key, 32) ?
				    "an all-zero key" : "a low-order point");
		if (jv_key_compromised(p->public_key))
			return fail(r, r->lineno, key, value, JV_ERR_PARSE,
				    "known-compromised key: published in the examples of jvpn 0.1.0; the peer needs a new pair (`jvpn genkey`, then `jvpn pubkey`)");
		p->key_line = r->lineno;
		p->has_key = true;
		return 0;
	case PK_ALLOWED_IPS:
		r->peer_allowed_line = r->lineno;
		return each_item(r, key, value, add_allowed);
	case PK_ENDPOINT: {
		char host[JV_CFG_HOST_MAX];
		int rc;

		r->peer_endpoint_line = r->lineno;
		p->has_endpoint = true;
		rc = parse_endpoint(r, key, value, &p->endpoint, host,
				    &p->endpoint_line);
		if (rc || !host[0])
			return rc;
		p->host = arena_strdup(r->cfg, host);
		if (!p->host) {
			p->host = "";
			return fail(r, r->lineno, key, NULL, JV_ERR_NOMEM,
				    "out of memory");
		}
		return 0;
	}
	}
	return 0;
}

/* ---- [Transport] --------------------------------------------------------- */

static int transport_key(struct reader *r, int k, const char *key,
			 const char *value)
{
	struct jv_cfg_transport *t =
		&r->cfg->transports[r->cfg->ntransports - 1];
	unsigned long v;

	switch (k) {
	case TK_NAME:
		if (!transport_name_ok(value))
			return fail(r, r->lineno, key, value, JV_ERR_PARSE,
				    "not a transport name (1..%d of A-Z a-z 0-9 _ . -)",
				    JV_TRANSPORT_ID_MAX - 1);
		for (unsigned i = 0; i + 1 < r->cfg->ntransports; i++)
			if (!strcmp(r->cfg->transports[i].name, value))
				return fail(r, r->lineno, key, value,
					    JV_ERR_PARSE,
					    "transport name already used at line %u",
					    r->transport_lines[i]);
		snprintf(t->name, sizeof t->name, "%s", value);
		return 0;
	case TK_BIND:
		if (jv_netaddr_parse(&t->bind, value))
			return fail(r, r->lineno, key, value, JV_ERR_PARSE,
				    "not a local address (e.g. 192.0.2.10, 192.0.2.10:40000 or [2001:db8::10]:0)");
		t->has_bind = true;
		return 0;
	case TK_INTERFACE:
		if (!ifname_ok(value))
			return fail(r, r->lineno, key, value, JV_ERR_PARSE,
				    "not an interface name (1..%d of A-Z a-z 0-9 _ . -)",
				    IF_NAMESIZE - 1);
		snprintf(t->ifname, sizeof t->ifname, "%s", value);
		return 0;
	case TK_ENDPOINT:
		t->has_endpoint = true;
		return parse_endpoint(r, key, value, &t->endpoint, t->host,
				      &t->endpoint_line);
	case TK_PRIORITY:
		if (!parse_uint(value, 0, 1000, &v))
			return fail(r, r->lineno, key, value, JV_ERR_PARSE,
				    "must be an integer in [0, 1000] (lower is preferred)");
		t->priority = (unsigned)v;
		return 0;
	}
	return 0;
}

/* ---- dispatch ------------------------------------------------------------ */

static int find_key(const struct key_def *defs, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (ieq(defs[i].name, name))
			return i;
	return -1;
}

static void list_keys(const struct key_def *defs, int n, char *buf, size_t cap)
{
	size_t pos = 0;

	buf[0] = '\0';
	for (int i = 0; i < n && pos < cap; i++) {
		int k = snprintf(buf + pos, cap - pos, "%s%s", i ? ", " : "",
				 defs[i].name);
		if (k < 0)
			break;
		pos += (size_t)k;
	}
}

static int section_key(struct reader *r, const struct key_def *defs, int n,
		       unsigned *set, const char *sect, const char *name,
		       const char *value, int *out)
{
	char allowed[256];
	int k = find_key(defs, n, name);

	if (k < 0) {
		list_keys(defs, n, allowed, sizeof allowed);
		return fail(r, r->lineno, name, NULL, JV_ERR_PARSE,
			    "unknown key in [%s] (allowed: %s)", sect, allowed);
	}
	if (set[k] && !defs[k].list)
		return fail(r, r->lineno, name, value, JV_ERR_PARSE,
			    "set twice in this section (first at line %u)",
			    set[k]);
	if (!set[k])
		set[k] = r->lineno;
	*out = k;
	return 0;
}

static int on_key(void *user, const char *section, const char *name,
		  const char *value)
{
	struct reader *r = user;
	int k, rc = 0;

	(void)section;	/* the reader tracked it, with repeated sections */
	if (r->err)
		return 0;
	if (!value) {
		fail(r, r->lineno, name, NULL, JV_ERR_PARSE,
		     "key without a value (expected key = value)");
		return 0;
	}
	if (!*value && r->sec != SEC_POLICY) {
		fail(r, r->lineno, name, NULL, JV_ERR_PARSE,
		     "empty value");
		return 0;
	}
	switch (r->sec) {
	case SEC_NONE:
		fail(r, r->lineno, name, NULL, JV_ERR_PARSE, r->peer_file ?
		     "key outside the [Peer] section (a PeersDir file holds exactly one [Peer])" :
		     "key outside any section (sections: [Interface], [Peer], [Transport], [Policy], [Cluster])");
		return 0;
	case SEC_INTERFACE:
		rc = section_key(r, ikeys, IK_COUNT, r->iset, "Interface", name,
				 value, &k);
		if (!rc)
			rc = interface_key(r, k, name, value);
		break;
	case SEC_PEER:
		rc = section_key(r, pkeys, PK_COUNT, r->pset, "Peer", name,
				 value, &k);
		if (!rc)
			rc = peer_key(r, k, name, value);
		break;
	case SEC_TRANSPORT:
		rc = section_key(r, tkeys, TK_COUNT, r->tset, "Transport", name,
				 value, &k);
		if (!rc)
			rc = transport_key(r, k, name, value);
		break;
	case SEC_CLUSTER:
		rc = section_key(r, ckeys, CK_COUNT, r->cset, "Cluster", name,
				 value, &k);
		if (!rc)
			rc = cluster_key(r, k, name, value);
		break;
	case SEC_POLICY:
		r->policy_keys++;
		rc = jv_policy_ini_line(&r->pol, name, value, r->lineno, r->d);
		if (rc) {
			/* the policy reader wrote d itself */
			r->err = rc;
			r->err_line = r->lineno;
			r->stop = true;
		}
		break;
	}
	return rc ? 0 : 1;
}

/* Checks at the end of a [Peer] or [Transport] section. */
static int close_section(struct reader *r)
{
	struct jv_config *c = r->cfg;

	if (r->sec == SEC_PEER) {
		struct jv_cfg_peer *p = &c->peers[c->npeers - 1];
		size_t n = r->cur_nallowed;

		r->sec = SEC_NONE;
		if (!p->has_key)
			return fail(r, p->line, "PublicKey", NULL, JV_ERR_PARSE,
				    "[Peer] without PublicKey");
		/* a duplicate key is found once all peers are read, in one
		 * sort (check_dup_keys): a scan here would be O(n^2) */
		if (n) {
			p->allowed = arena_alloc(c, n * sizeof *p->allowed);
			p->allowed_line = arena_alloc(c, n * sizeof *p->allowed_line);
			if (!p->allowed || !p->allowed_line)
				return fail(r, p->line, NULL, NULL, JV_ERR_NOMEM,
					    "out of memory");
			memcpy(p->allowed, r->cur_allowed, n * sizeof *p->allowed);
			memcpy(p->allowed_line, r->cur_allowed_line,
			       n * sizeof *p->allowed_line);
			p->nallowed = (unsigned)n;
		}
		r->cur_nallowed = 0;
	} else if (r->sec == SEC_TRANSPORT) {
		struct jv_cfg_transport *t = &c->transports[c->ntransports - 1];

		if (!t->name[0])
			return fail(r, t->line, "Name", NULL, JV_ERR_PARSE,
				    "[Transport] without Name");
	}
	return 0;
}

static int open_section(struct reader *r, const char *name)
{
	struct jv_config *c = r->cfg;

	if (close_section(r))
		return r->err;
	r->sec_line = r->lineno;
	if (r->peer_file && !ieq(name, "Peer"))
		return fail(r, r->lineno, NULL, name, JV_ERR_PARSE,
			    "[%s] in a PeersDir file: it holds exactly one [Peer] section",
			    name);
	if (ieq(name, "Interface")) {
		if (r->interface_line)
			return fail(r, r->lineno, "Interface", NULL, JV_ERR_PARSE,
				    "second [Interface] section (the first is at line %u)",
				    r->interface_line);
		r->interface_line = r->lineno;
		r->sec = SEC_INTERFACE;
	} else if (ieq(name, "Peer")) {
		if (r->peer_file && r->sec_count++)
			return fail(r, r->lineno, "Peer", NULL, JV_ERR_PARSE,
				    "second [Peer] section (the first is at line %u): a PeersDir file holds exactly one",
				    r->first_peer_line);
		if (c->npeers >= JV_CFG_PEERS_MAX)
			return fail(r, r->lineno, "Peer", NULL, JV_ERR_PARSE,
				    "too many [Peer] sections (at most %d, PeersDir included)",
				    JV_CFG_PEERS_MAX);
		if (c->npeers == r->cap_peers) {
			unsigned cap = 2 * r->cap_peers;
			struct jv_cfg_peer *np = realloc(c->peers,
							 cap * sizeof *np);

			if (!np)
				return fail(r, r->lineno, "Peer", NULL,
					    JV_ERR_NOMEM, "out of memory");
			c->peers = np;
			r->cap_peers = cap;
		}
		memset(&c->peers[c->npeers], 0, sizeof c->peers[0]);
		c->peers[c->npeers].host = "";
		c->peers[c->npeers].file = r->cur_file;
		c->peers[c->npeers++].line = r->lineno;
		r->first_peer_line = r->lineno;
		memset(r->pset, 0, sizeof r->pset);
		r->cur_nallowed = 0;
		r->sec = SEC_PEER;
	} else if (ieq(name, "Transport")) {
		if (c->ntransports >= JV_MAX_TRANSPORTS)
			return fail(r, r->lineno, "Transport", NULL, JV_ERR_PARSE,
				    "too many [Transport] sections (at most %d)",
				    JV_MAX_TRANSPORTS);
		memset(&c->transports[c->ntransports], 0,
		       sizeof c->transports[0]);
		c->transports[c->ntransports].line = r->lineno;
		r->transport_lines[c->ntransports] = r->lineno;
		c->ntransports++;
		memset(r->tset, 0, sizeof r->tset);
		r->sec = SEC_TRANSPORT;
	} else if (ieq(name, "Cluster")) {
		if (c->cluster_line)
			return fail(r, r->lineno, "Cluster", NULL, JV_ERR_PARSE,
				    "second [Cluster] section (the first is at line %u)",
				    c->cluster_line);
		c->cluster_line = r->lineno;
		r->sec = SEC_CLUSTER;
	} else if (ieq(name, "Policy")) {
		/* several [Policy] sections read as one; a key still may
		 * not repeat (the policy reader checks) */
		r->sec = SEC_POLICY;
	} else {
		return fail(r, r->lineno, NULL, name, JV_ERR_PARSE,
			    "unknown section [%s] (allowed: [Interface], [Peer], [Transport], [Policy], [Cluster])",
			    name);
	}
	return 0;
}

/*
 * Cut a comment that follows a value: '#' or ';' with a blank before it
 * (wg-quick's rule, which inih applies to " ;" only).  Base64 holds
 * neither character, and a path or name that holds one without a blank
 * before it ("/etc/jvpn/a#1.key") stays whole.
 */
static void cut_comment(char *s)
{
	for (char *p = s; *p; p++)
		if ((*p == '#' || *p == ';') && p > s &&
		    (p[-1] == ' ' || p[-1] == '\t')) {
			*p = '\0';
			return;
		}
}

/*
 * fgets for inih over the text, one line per call.  A line that does not
 * fit inih's buffer would be split into two lines: stop there.
 */
static char *read_line(char *str, int num, void *stream)
{
	struct reader *r = stream;
	const char *nl, *p;
	size_t len;

	if (r->stop || *r->pos == '\0')
		return NULL;
	nl = strchr(r->pos, '\n');
	len = nl ? (size_t)(nl - r->pos) + 1 : strlen(r->pos);
	p = r->pos;
	r->pos += len;
	r->lineno++;
	r->max_line = num;
	while (len && (*p == ' ' || *p == '\t')) {
		p++;
		len--;
	}
	if (num < 4 || len > (size_t)num - 1) {
		fail(r, r->lineno, NULL, NULL, JV_ERR_PARSE,
		     "line too long (at most %d characters; split lists over several keys)",
		     num - 3);
		return NULL;
	}
	memcpy(str, p, len);
	str[len] = '\0';
	if (memchr(p, '\0', len)) {
		fail(r, r->lineno, NULL, NULL, JV_ERR_PARSE, "NUL byte in the line");
		return NULL;
	}
	cut_comment(str);
	if (str[0] == '[') {
		char name[64];
		const char *close = strchr(str, ']');
		size_t n;

		if (!close) {
			fail(r, r->lineno, NULL, NULL, JV_ERR_PARSE,
			     "malformed section header (expected [Name])");
			return NULL;
		}
		/* inih ignores what follows the ']': only a comment may */
		if (close[strspn(close + 1, " \t\r\n") + 1]) {
			fail(r, r->lineno, NULL, NULL, JV_ERR_PARSE,
			     "text after the section header (a comment needs a blank before its '#' or ';')");
			return NULL;
		}
		n = (size_t)(close - str - 1);
		if (n >= sizeof name)
			n = sizeof name - 1;
		memcpy(name, str + 1, n);
		name[n] = '\0';
		if (open_section(r, name))
			return NULL;
	}
	return str;
}

/* ---- whole-file checks --------------------------------------------------- */

/* Diagnostics from here on may name a PeersDir file: d->file follows. */
static void set_file(struct reader *r, const char *file)
{
	if (!r->err)
		jv_diag_file(r->d, file ? file : r->main_file);
}

/* Where peer q is, as seen from an error in peer p's file: "line 7" in
 * the same file, "FILE:7" in another (peer q's header line, or `line`). */
static void where(const struct jv_cfg_peer *p, const struct jv_cfg_peer *q,
		  unsigned line, const char *main_file, char *buf, size_t n)
{
	if (p->file == q->file)
		snprintf(buf, n, "line %u", line);
	else
		snprintf(buf, n, "%s:%u", q->file ? q->file : main_file, line);
}

struct key_ref {
	const uint8_t *key;
	unsigned peer;
};

static int key_cmp(const void *a, const void *b)
{
	const struct key_ref *x = a, *y = b;
	int d = memcmp(x->key, y->key, 32);

	return d ? d : x->peer < y->peer ? -1 : x->peer > y->peer;
}

/*
 * Two [Peer]s with one key, over the file and PeersDir: sorted by key, a
 * duplicate is a neighbour (O(n log n); 10 000 files would make a scan per
 * peer a hundred million comparisons).  The one reported is the first in
 * reading order whose key came before, named at its PublicKey line.
 */
static int check_dup_keys(struct reader *r)
{
	struct jv_config *c = r->cfg;
	struct key_ref *v;
	unsigned later = UINT32_MAX, earlier = 0;
	char at[JV_CFG_PATH_MAX + 16];

	if (c->npeers < 2)
		return 0;
	v = malloc(c->npeers * sizeof *v);
	if (!v) {
		jv_diag_set(r->d, 0, NULL, "out of memory");
		return r->err = JV_ERR_NOMEM;
	}
	for (unsigned i = 0; i < c->npeers; i++)
		v[i] = (struct key_ref){ c->peers[i].public_key, i };
	qsort(v, c->npeers, sizeof *v, key_cmp);
	for (unsigned i = 1; i < c->npeers; i++)
		if (!memcmp(v[i - 1].key, v[i].key, 32) && v[i].peer < later) {
			later = v[i].peer;
			earlier = v[i - 1].peer;
		}
	free(v);
	if (later == UINT32_MAX)
		return 0;
	where(&c->peers[later], &c->peers[earlier], c->peers[earlier].line,
	      r->main_file, at, sizeof at);
	set_file(r, c->peers[later].file);
	return fail(r, c->peers[later].key_line, "PublicKey", NULL,
		    JV_ERR_PARSE, "same key as the [Peer] at %s", at);
}

struct allowed_ref {
	const struct jv_cidr *c;
	unsigned bits;		/* prefix in the 16-byte form (v4: 96 + p) */
	unsigned peer;
	unsigned line;
};

static int allowed_cmp(const void *a, const void *b)
{
	const struct allowed_ref *x = a, *y = b;
	bool x4 = jv_netaddr_is_v4(&x->c->addr), y4 = jv_netaddr_is_v4(&y->c->addr);
	int d = memcmp(x->c->addr.ip, y->c->addr.ip, 16);

	if (x4 != y4)
		return x4 ? -1 : 1;
	if (d)
		return d;
	return x->bits < y->bits ? -1 : x->bits > y->bits;
}

/* The families need no test: the sort puts every IPv4 prefix first, and
 * an IPv4 one (inside ::ffff:0:0/96) never holds an IPv6 address. */
static bool allowed_contains(const struct allowed_ref *outer,
			     const struct allowed_ref *inner)
{
	return outer->bits <= inner->bits &&
	       jv_cidr_contains(outer->c, inner->c->addr.ip);
}

/*
 * A gateway routes a packet to the client whose AllowedIPs hold its
 * destination, and admits from a client only its own sources: two peers
 * with the same or nested networks would make one client's addresses
 * another's (D-023).  Prefixes nest or are disjoint, so in address order
 * (the shorter first at one address) each one either lies in the chain of
 * prefixes still open before it or starts a new chain; a chain only ever
 * holds one peer's prefixes, since a second peer's is refused on sight.
 * O(n log n) over every entry of every peer.
 */
static int check_overlaps(struct reader *r)
{
	struct jv_config *c = r->cfg;
	struct allowed_ref *v, *stack[130];
	size_t n = 0, depth = 0;
	int rc = 0;

	for (unsigned p = 0; p < c->npeers; p++)
		n += c->peers[p].nallowed;
	v = malloc((n ? n : 1) * sizeof *v);
	if (!v) {
		jv_diag_set(r->d, 0, NULL, "out of memory");
		return r->err = JV_ERR_NOMEM;
	}
	n = 0;
	for (unsigned p = 0; p < c->npeers; p++)
		for (unsigned i = 0; i < c->peers[p].nallowed; i++) {
			const struct jv_cidr *a = &c->peers[p].allowed[i];

			v[n].c = a;
			v[n].bits = jv_netaddr_is_v4(&a->addr) ? 96 + a->prefix
							       : a->prefix;
			v[n].peer = p;
			v[n++].line = c->peers[p].allowed_line[i];
		}
	qsort(v, n, sizeof *v, allowed_cmp);
	for (size_t i = 0; i < n && !rc; i++) {
		const struct allowed_ref *top, *first, *later;
		char a[JV_NETADDR_STR_MAX], b[JV_NETADDR_STR_MAX];
		char hdr[JV_CFG_PATH_MAX + 16];

		while (depth && !allowed_contains(stack[depth - 1], &v[i]))
			depth--;
		top = depth ? stack[depth - 1] : NULL;
		if (top && top->peer == v[i].peer) {
			if (top->bits < v[i].bits && depth < sizeof stack / sizeof stack[0])
				stack[depth++] = &v[i];
			continue;	/* one client's own redundancy */
		}
		if (!top) {
			stack[depth++] = &v[i];
			continue;
		}
		/* name both, reported at the later of the two in reading
		 * order (the file, then PeersDir's files by name): peers are
		 * stored in that order, so the later is the higher index */
		first = top->peer < v[i].peer ? top : &v[i];
		later = first == top ? &v[i] : top;
		jv_netaddr_str(&later->c->addr, a);
		jv_netaddr_str(&first->c->addr, b);
		snprintf(a + strlen(a), sizeof a - strlen(a), "/%u",
			 later->c->prefix);
		where(&c->peers[later->peer], &c->peers[first->peer],
		      c->peers[first->peer].line, r->main_file, hdr, sizeof hdr);
		set_file(r, c->peers[later->peer].file);
		rc = fail(r, later->line, "AllowedIPs", a, JV_ERR_INVAL,
			  "%s %s/%u of the [Peer] at %s (AllowedIPs at line %u): a gateway's peers need disjoint AllowedIPs, each address belongs to one client",
			  top->bits == v[i].bits ? "the same network as" :
			  later == top ? "contains" : "lies inside",
			  b, first->c->prefix, hdr, first->line);
	}
	free(v);
	return rc;
}

/*
 * The keys against each other, once the private key is known (it may
 * come from PrivateKeyFile): a published key, a peer that is this host
 * itself.
 */
static int check_keys(struct reader *r)
{
	struct jv_config *c = r->cfg;
	unsigned line = r->iset[IK_PRIVATE_KEY] ? r->iset[IK_PRIVATE_KEY]
						: r->iset[IK_PRIVATE_KEY_FILE];
	const char *key = r->iset[IK_PRIVATE_KEY] ? "PrivateKey"
						  : "PrivateKeyFile";
	uint8_t pub[32];
	int rc = 0;

	if (sodium_is_zero(c->private_key, 32))
		return fail(r, line, key, NULL, JV_ERR_PARSE,
			    "an all-zero key is not a key: use the output of `umask 077; jvpn genkey`");
	if (jv_key_public(c->private_key, pub))
		return fail(r, line, key, NULL, JV_ERR_PARSE,
			    "not a usable X25519 key: use the output of `umask 077; jvpn genkey`");
	if (jv_key_compromised(pub)) {
		rc = fail(r, line, key, NULL, JV_ERR_PARSE,
			  "known-compromised key: it was published in the examples of jvpn 0.1.0, anyone can be this host; make a new one with `umask 077; jvpn genkey` and give the peers its `jvpn pubkey`");
		goto out;
	}
	for (unsigned i = 0; i < c->npeers; i++)
		if (!sodium_memcmp(pub, c->peers[i].public_key, 32)) {
			set_file(r, c->peers[i].file);
			rc = fail(r, c->peers[i].key_line, "PublicKey", NULL,
				  JV_ERR_INVAL,
				  c->role == JV_CFG_GATEWAY ?
				  "the gateway's own public key (of the private key at line %u): a [Peer] holds a client's key" :
				  "the client's own public key (of the private key at line %u): the [Peer] holds the gateway's key",
				  line);
			break;
		}
out:
	sodium_memzero(pub, sizeof pub);
	return rc;
}

/* The store's defaults (PD-9: on by default, so a restart resumes) and the
 * relations between the [Cluster] keys. */
static int finish_cluster(struct reader *r)
{
	struct jv_config *c = r->cfg;
	bool etcd;

	if (!r->iset[IK_STATE_DIR])
		snprintf(c->state_dir, sizeof c->state_dir, "/var/lib/jvpn/%s",
			 c->ifname);
	if (!r->cset[CK_STORE] && c->state_dir[0] &&
	    (size_t)snprintf(c->store_url, sizeof c->store_url,
			     "sqlite:%s/sessions.db", c->state_dir) >=
		    sizeof c->store_url)
		return fail(r, r->iset[IK_STATE_DIR], "StateDir", NULL,
			    JV_ERR_INVAL, "too long for a store path");
	etcd = !strncmp(c->store_url, "etcd:", 5);
	if (!etcd) {
		static const int etcd_only[] = { CK_OWNER_LEASE_MS, CK_CA_FILE,
						 CK_CERT_FILE, CK_KEY_FILE };
		for (size_t i = 0; i < sizeof etcd_only / sizeof etcd_only[0];
		     i++)
			if (r->cset[etcd_only[i]])
				return fail(r, r->cset[etcd_only[i]],
					    ckeys[etcd_only[i]].name, NULL,
					    JV_ERR_INVAL,
					    "only for Store = etcd:... (the sqlite store's lease is the process itself)");
		return 0;
	}
	if (!c->owner_lease_ms)
		c->owner_lease_ms = JV_CFG_LEASE_MS_DEFAULT;
	/* §4: OWNER_LEASE_MS < RECOVERY_WINDOW_MS, so a takeover fits in
	 * one recovery window (OP-22). */
	if (c->owner_lease_ms >= c->policy.recovery_window_ms)
		return fail(r, r->cset[CK_OWNER_LEASE_MS] ? r->cset[CK_OWNER_LEASE_MS]
							  : c->cluster_line,
			    "OwnerLeaseMs", NULL, JV_ERR_INVAL,
			    "%u ms is not below the policy's switching.recovery_window_ms (%llu): a takeover must fit in one recovery window",
			    c->owner_lease_ms,
			    (unsigned long long)c->policy.recovery_window_ms);
	if (!!r->cset[CK_CERT_FILE] != !!r->cset[CK_KEY_FILE])
		return fail(r, r->cset[CK_CERT_FILE] ? r->cset[CK_CERT_FILE]
						     : r->cset[CK_KEY_FILE],
			    r->cset[CK_CERT_FILE] ? "CertFile" : "KeyFile", NULL,
			    JV_ERR_INVAL,
			    "CertFile and KeyFile go together (the client certificate and its key)");
	if ((r->cset[CK_CERT_FILE] || r->cset[CK_CA_FILE]) &&
	    !strstr(c->store_url, "https://"))
		return fail(r, r->cset[CK_CA_FILE] ? r->cset[CK_CA_FILE]
						   : r->cset[CK_CERT_FILE],
			    r->cset[CK_CA_FILE] ? "CaFile" : "CertFile", NULL,
			    JV_ERR_INVAL,
			    "TLS files need https:// endpoints in Store");
	return 0;
}

static int read_peers_dir(struct reader *r);

static int finish(struct reader *r)
{
	struct jv_config *c = r->cfg;
	char host[64] = "";
	int rc;

	if (close_section(r) || check_dup_keys(r))
		return r->err;
	if (!r->interface_line)
		return fail(r, 0, "Interface", NULL, JV_ERR_PARSE,
			    "no [Interface] section");
	if (!r->iset[IK_ROLE])
		return fail(r, r->interface_line, "Role", NULL, JV_ERR_PARSE,
			    "missing in [Interface] (Role = client or Role = gateway)");
	if (r->iset[IK_PRIVATE_KEY] && r->iset[IK_PRIVATE_KEY_FILE])
		return fail(r, r->iset[IK_PRIVATE_KEY_FILE], "PrivateKeyFile",
			    NULL, JV_ERR_PARSE,
			    "PrivateKey is set too (line %u): give one of them",
			    r->iset[IK_PRIVATE_KEY]);
	if (!r->iset[IK_PRIVATE_KEY] && !r->iset[IK_PRIVATE_KEY_FILE])
		return fail(r, r->interface_line, "PrivateKey", NULL,
			    JV_ERR_PARSE,
			    "missing in [Interface] (PrivateKey = <base64> from `jvpn genkey`, or PrivateKeyFile = /path)");
	if (!c->naddr)
		return fail(r, r->interface_line, "Address", NULL, JV_ERR_PARSE,
			    "missing in [Interface] (the tunnel address, e.g. Address = 10.8.0.2/24)");

	if (c->role == JV_CFG_CLIENT) {
		static const int gw_only[] = { IK_LISTEN_PORT, IK_LISTEN_ADDRESS,
					       IK_MAX_SESSIONS, IK_HS_RATE,
					       IK_HS_BURST, IK_STATE_DIR,
					       IK_PEERS_DIR };

		for (size_t i = 0; i < sizeof gw_only / sizeof gw_only[0]; i++)
			if (r->iset[gw_only[i]])
				return fail(r, r->iset[gw_only[i]],
					    ikeys[gw_only[i]].name, NULL,
					    JV_ERR_INVAL,
					    "only for Role = gateway");
		if (c->cluster_line)
			return fail(r, c->cluster_line, "Cluster", NULL,
				    JV_ERR_INVAL,
				    "[Cluster] is for Role = gateway (a client lists one [Transport] per gateway node)");
		if (c->npeers != 1)
			return fail(r, c->npeers ? c->peers[1].line : 0, "Peer",
				    NULL, JV_ERR_INVAL,
				    "a client needs exactly one [Peer] (the gateway), found %u",
				    c->npeers);
		if (c->ntransports == 0) {
			struct jv_cfg_transport *t = &c->transports[0];

			if (!c->peers[0].has_endpoint)
				return fail(r, c->peers[0].line, "Endpoint", NULL,
					    JV_ERR_INVAL,
					    "no [Transport] section and no Endpoint in [Peer]: the client has no path to the gateway");
			memset(t, 0, sizeof *t);
			snprintf(t->name, sizeof t->name, "default");
			t->line = c->peers[0].line;
			c->ntransports = 1;
		}
		for (unsigned i = 0; i < c->ntransports; i++) {
			struct jv_cfg_transport *t = &c->transports[i];

			if (!t->has_endpoint) {
				if (!c->peers[0].has_endpoint)
					return fail(r, t->line, "Endpoint", NULL,
						    JV_ERR_INVAL,
						    "[Transport] %s has no Endpoint and [Peer] has none to inherit",
						    t->name);
				t->endpoint = c->peers[0].endpoint;
				snprintf(t->host, sizeof t->host, "%s", c->peers[0].host);
				t->endpoint_line = c->peers[0].endpoint_line;
				t->has_endpoint = true;
			}
			/* a name's family is chosen when it resolves (Bind's) */
			if (t->has_bind && !t->host[0] &&
			    jv_netaddr_family(&t->bind) !=
			    jv_netaddr_family(&t->endpoint))
				return fail(r, t->line, "Bind", NULL, JV_ERR_INVAL,
					    "[Transport] %s: Bind and Endpoint are of different address families",
					    t->name);
		}
	} else {
		if (c->ntransports)
			return fail(r, c->transports[0].line, "Transport", NULL,
				    JV_ERR_INVAL,
				    "[Transport] sections are for Role = client (a gateway listens: ListenPort, ListenAddress)");
		if (!r->nlports)
			return fail(r, r->interface_line, "ListenPort", NULL,
				    JV_ERR_INVAL,
				    "missing: a gateway needs ListenPort (e.g. ListenPort = 51820)");
		if ((r->iset[IK_PEERS_DIR] || r->files_given) &&
		    (read_peers_dir(r) || check_dup_keys(r)))
			return r->err;
		if (!c->npeers)
			return fail(r, r->iset[IK_PEERS_DIR], "Peer", NULL,
				    JV_ERR_INVAL, r->iset[IK_PEERS_DIR] ?
				    "a gateway needs at least one [Peer] (one per client key), and PeersDir holds no *.conf file" :
				    "a gateway needs at least one [Peer] (one per client key)");
		for (unsigned i = 0; i < c->npeers; i++) {
			set_file(r, c->peers[i].file);
			if (!c->peers[i].nallowed)
				return fail(r, c->peers[i].line, "AllowedIPs", NULL,
					    JV_ERR_INVAL,
					    "a gateway's [Peer] needs AllowedIPs (the client's tunnel address, e.g. 10.8.0.2/32)");
			if (c->peers[i].has_endpoint)
				return fail(r, c->peers[i].line, "Endpoint", NULL,
					    JV_ERR_INVAL,
					    "Endpoint is for a client's [Peer]: clients connect to the gateway");
		}
		set_file(r, NULL);
		if (check_overlaps(r))
			return r->err;
		set_file(r, NULL);
		if (!r->nladdrs)
			jv_addr_from_ipv4(&r->laddrs[r->nladdrs++], 0, 0);
		if ((size_t)r->nladdrs * r->nlports > JV_CFG_LISTEN_MAX)
			return fail(r, r->iset[IK_LISTEN_PORT], "ListenPort", NULL,
				    JV_ERR_INVAL,
				    "%u addresses x %u ports is more than %d sockets",
				    r->nladdrs, r->nlports, JV_CFG_LISTEN_MAX);
		for (unsigned a = 0; a < r->nladdrs; a++)
			for (unsigned p = 0; p < r->nlports; p++) {
				c->listen[c->nlisten] = r->laddrs[a];
				c->listen[c->nlisten++].port = r->lports[p];
			}
	}

	if (c->role == JV_CFG_GATEWAY && r->iset[IK_DNS])
		return fail(r, r->iset[IK_DNS], "DNS", NULL, JV_ERR_INVAL,
			    "only for Role = client (the resolvers a client uses while the tunnel is up)");
	/* A client's full tunnel gets wg-quick's defaults: its transports'
	 * sockets carry a mark that the policy rules send around the tunnel
	 * (daemon/tunnel.h); a gateway keeps no mark unless told. */
	if (c->role == JV_CFG_CLIENT && !c->fwmark_set &&
	    c->table_mode == JV_CFG_TABLE_AUTO &&
	    (jv_config_has_default(c, true) || jv_config_has_default(c, false)))
		c->fwmark = JV_CFG_FWMARK_DEFAULT;
	if (c->role == JV_CFG_CLIENT && c->fwmark_set && !c->fwmark &&
	    c->table_mode == JV_CFG_TABLE_AUTO &&
	    (jv_config_has_default(c, true) || jv_config_has_default(c, false)))
		return fail(r, c->fwmark_line, "FwMark", "off", JV_ERR_INVAL,
			    "a full tunnel (AllowedIPs /0) with Table = auto needs the mark, or the transports' own datagrams loop into the tunnel: remove this line, or set Table = off and route yourself");
	if (!c->mtu)
		c->mtu = JV_CFG_MTU_DEFAULT;
	if (!c->ifname[0])
		snprintf(c->ifname, sizeof c->ifname, "jv0");
	if (!r->iset[IK_CONTROL_SOCKET])
		snprintf(c->control_socket, sizeof c->control_socket,
			 "/run/jvpn/%s.sock", c->ifname);
	if (!r->iset[IK_EVENT_LOG])
		snprintf(c->event_log, sizeof c->event_log,
			 "/var/log/jvpn/%s.jsonl", c->ifname);

	if (!c->node_id[0]) {
		if (gethostname(host, sizeof host - 1) || !host[0])
			snprintf(host, sizeof host, "localhost");
		snprintf(c->node_id, sizeof c->node_id, "%.40s/%s", host,
			 c->ifname);
	}

	if (r->policy_keys == 0) {
		jv_policy_default(&c->policy);
	} else {
		rc = jv_policy_ini_finish(&r->pol, &c->policy, r->d);
		if (rc) {
			r->err = rc;
			return rc;
		}
	}
	if (c->role == JV_CFG_GATEWAY)
		return finish_cluster(r);
	return 0;
}

static int read_key_file(struct reader *r)
{
	struct jv_config *c = r->cfg;
	char buf[128];
	struct stat st;
	ssize_t n;
	int fd, rc = 0;
	unsigned line = r->iset[IK_PRIVATE_KEY_FILE];

	fd = open(r->key_file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return fail(r, line, "PrivateKeyFile", r->key_file, JV_ERR_IO,
			    "cannot open: %s", strerror(errno));
	if (fstat(fd, &st) == 0 && (st.st_mode & 007))
		c->world_readable = true;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n < 0)
		rc = fail(r, line, "PrivateKeyFile", r->key_file, JV_ERR_IO,
			  "cannot read: %s", strerror(errno));
	else {
		buf[n] = '\0';
		if (jv_key_from_base64(buf, c->private_key))
			rc = fail(r, line, "PrivateKeyFile", r->key_file,
				  JV_ERR_PARSE,
				  "the file does not hold one key (44 characters of base64 from `jvpn genkey`)");
		else
			r->has_key = true;
	}
	sodium_memzero(buf, sizeof buf);
	return rc;
}

/* "wg0.conf" -> "wg0", like wg-quick; "" when the name is no ifname. */
static void ifname_from_file(const char *name, char out[IF_NAMESIZE])
{
	const char *base = name ? strrchr(name, '/') : NULL;
	char tmp[64];
	size_t n;

	out[0] = '\0';
	if (!name)
		return;
	base = base ? base + 1 : name;
	n = strlen(base);
	if (n > 5 && !strcmp(base + n - 5, ".conf"))
		n -= 5;
	if (n >= sizeof tmp)
		return;
	memcpy(tmp, base, n);
	tmp[n] = '\0';
	if (ifname_ok(tmp))
		memcpy(out, tmp, n + 1);	/* n < IF_NAMESIZE: checked */
}

/*
 * One text through inih and our line reader: the config file, or one
 * PeersDir file (r->peer_file).  inih reports the first bad line, its own
 * or ours: whichever comes first in the text is the one to report.
 */
static int run_text(struct reader *r, const char *text)
{
	int rc;

	r->pos = text;
	r->lineno = 0;
	r->stop = false;
	r->sec = SEC_NONE;
	if (strlen(text) >= 3 && !memcmp(text, "\xef\xbb\xbf", 3))
		r->pos += 3;	/* a UTF-8 BOM from some editors */
	rc = jv_text_check(text, strlen(text), r->d);
	if (rc)
		return r->err = rc;
	rc = ini_parse_stream(read_line, r, on_key, r);
	if (rc == -2) {
		jv_diag_set(r->d, 0, NULL, "out of memory reading the file");
		return r->err = JV_ERR_NOMEM;
	}
	if (rc > 0 && (!r->err || (unsigned)rc < r->err_line)) {
		jv_diag_set(r->d, (unsigned)rc, NULL,
			    "malformed line (expected 'Key = value', '[Section]' or a comment)");
		r->err = JV_ERR_PARSE;
		r->err_line = (unsigned)rc;
	}
	return r->err;
}

/*
 * Read a whole regular file of at most `max` bytes into *text (NUL-
 * terminated; free it).  O_NONBLOCK: a FIFO named *.conf in PeersDir is
 * refused, never waited on.  d says why it failed (line 0).
 */
static int read_text(const char *path, size_t max, char **text, size_t *len,
		     struct stat *st, struct jv_diag *d)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	char *buf;
	size_t n = 0;

	*text = NULL;
	*len = 0;
	if (fd < 0) {
		jv_diag_set(d, 0, NULL, "cannot open: %s", strerror(errno));
		return JV_ERR_IO;
	}
	if (fstat(fd, st) || !S_ISREG(st->st_mode)) {
		jv_diag_set(d, 0, NULL, "not a regular file");
		close(fd);
		return JV_ERR_IO;
	}
	if ((size_t)st->st_size > max) {
		jv_diag_set(d, 0, NULL, "file too large (more than %zu bytes)",
			    max);
		close(fd);
		return JV_ERR_IO;
	}
	buf = malloc((size_t)st->st_size + 1);
	if (!buf) {
		close(fd);
		jv_diag_set(d, 0, NULL, "out of memory");
		return JV_ERR_NOMEM;
	}
	while (n < (size_t)st->st_size) {
		ssize_t k = read(fd, buf + n, (size_t)st->st_size - n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			jv_diag_set(d, 0, NULL, "cannot read: %s",
				    strerror(errno));
			close(fd);
			sodium_memzero(buf, n);
			free(buf);
			return JV_ERR_IO;
		}
		if (k == 0)
			break;
		n += (size_t)k;
	}
	close(fd);
	buf[n] = '\0';
	*text = buf;
	*len = n;
	/* A NUL would end the text the reader takes, and the rest of the
	 * file would silently not apply: refused with its line. */
	return jv_text_check(buf, n, d);
}

/* One PeersDir file: exactly one [Peer], the keys of the config file's. */
static int peer_text(struct reader *r, const char *path, const char *text)
{
	const char *name = arena_strdup(r->cfg, path);

	if (!name) {
		jv_diag_set(r->d, 0, NULL, "out of memory");
		return r->err = JV_ERR_NOMEM;
	}
	jv_diag_file(r->d, name);
	r->peer_file = true;
	r->cur_file = name;
	r->sec_count = 0;
	if (run_text(r, text) || close_section(r))
		return r->err;
	if (!r->sec_count)
		return fail(r, 0, "Peer", NULL, JV_ERR_PARSE,
			    "no [Peer] section: a PeersDir file holds exactly one");
	r->peer_file = false;
	r->cur_file = NULL;
	jv_diag_file(r->d, r->main_file);
	return 0;
}

static int conf_name(const struct dirent *e)
{
	size_t n = strlen(e->d_name);

	return e->d_name[0] != '.' && n > 5 &&
	       !strcmp(e->d_name + n - 5, ".conf");
}

/* Byte order, not the locale's (alphasort): the same order everywhere. */
static int name_cmp(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* PeersDir's *.conf files in name order (or the files given). */
static int read_peers_dir(struct reader *r)
{
	struct jv_config *c = r->cfg;
	unsigned before = c->npeers, line = r->iset[IK_PEERS_DIR];
	struct dirent **list = NULL;
	int n, rc = 0;

	if (r->files_given) {
		for (unsigned i = 0; i < r->nfiles && !rc; i++)
			rc = peer_text(r, r->files[i].name, r->files[i].text);
		c->npeers_dir = c->npeers - before;
		return rc;
	}
	n = scandir(c->peers_dir, &list, conf_name, name_cmp);
	if (n < 0)
		return fail(r, line, "PeersDir", c->peers_dir, JV_ERR_IO,
			    "cannot read the directory: %s", strerror(errno));
	for (int i = 0; i < n; i++) {
		char path[JV_CFG_PATH_MAX + 256], *text = NULL;
		struct stat st;
		size_t len;

		if (!rc && (size_t)snprintf(path, sizeof path, "%s/%s",
					    c->peers_dir, list[i]->d_name) >=
				   sizeof path)
			rc = fail(r, line, "PeersDir", list[i]->d_name,
				  JV_ERR_IO, "file name too long");
		if (!rc) {
			jv_diag_file(r->d, path);
			rc = read_text(path, CFG_PEER_FILE_MAX, &text, &len,
				       &st, r->d);
			if (rc)
				r->err = rc;
			else
				rc = peer_text(r, path, text);
		}
		if (text) {
			sodium_memzero(text, len);
			free(text);
		}
		free(list[i]);
	}
	free(list);
	c->npeers_dir = c->npeers - before;
	return rc;
}

static int parse(const char *text, const char *name,
		 const struct jv_cfg_text *files, unsigned nfiles, bool given,
		 struct jv_config **out, struct jv_diag *d)
{
	struct jv_diag local;
	struct reader *r;
	char fromfile[IF_NAMESIZE];
	int rc;

	if (!d)
		d = &local;
	jv_diag_clear(d);
	jv_diag_file(d, name);
	if (!out || !text || (nfiles && !files)) {
		jv_diag_set(d, 0, NULL, "no text or output");
		return JV_ERR_INVAL;
	}
	*out = NULL;
	r = calloc(1, sizeof *r);
	struct jv_config *c = calloc(1, sizeof *c);
	struct jv_cfg_peer *peers = calloc(4, sizeof *peers);

	if (!r || !c || !peers) {
		free(r);
		free(c);
		free(peers);
		jv_diag_set(d, 0, NULL, "out of memory");
		return JV_ERR_NOMEM;
	}
	c->peers = peers;
	r->cap_peers = 4;
	if (name)
		snprintf(c->file, sizeof c->file, "%s", name);
	r->main_file = name ? name : "";
	r->files = files;
	r->nfiles = nfiles;
	r->files_given = given;
	r->cfg = c;
	r->d = d;
	jv_policy_ini_init(&r->pol);
	rc = run_text(r, text);
	if (rc)
		goto out;
	ifname_from_file(name, fromfile);
	if (!c->ifname[0] && fromfile[0] && ifname_reserved(fromfile)) {
		rc = fail(r, r->interface_line, "Name", fromfile, JV_ERR_INVAL,
			  "the interface name comes from the file name and is "
			  IFNAME_RESERVED_MSG " (Name = ... in [Interface])");
		goto out;
	}
	if (!c->ifname[0] && fromfile[0])
		snprintf(c->ifname, sizeof c->ifname, "%s", fromfile);
	rc = finish(r);
	if (!rc && r->key_file[0])
		rc = read_key_file(r);
	if (!rc)
		rc = check_keys(r);
	if (!rc && c->npeers < r->cap_peers) {
		/* to fit: the array doubled while the files were read */
		struct jv_cfg_peer *np = realloc(c->peers, (c->npeers ? c->npeers
							  : 1) * sizeof *np);

		if (np)
			c->peers = np;
	}
	if (!rc) {
		c->private_key_line = r->iset[IK_PRIVATE_KEY];
		c->interface_line = r->interface_line;
		memcpy(c->key_line, r->iset, sizeof r->iset);
	}
out:
	if (rc) {
		jv_config_free(c);
		c = NULL;
	}
	sodium_memzero(&r->pol, sizeof r->pol);
	free(r);
	*out = c;
	return rc;
}

int jv_config_parse(const char *text, const char *name,
		    struct jv_config **out, struct jv_diag *d)
{
	return parse(text, name, NULL, 0, false, out, d);
}

int jv_config_parse_peers(const char *text, const char *name,
			  const struct jv_cfg_text *files, unsigned nfiles,
			  struct jv_config **out, struct jv_diag *d)
{
	return parse(text, name, files, nfiles, true, out, d);
}

_Static_assert((int)IK_COUNT <= (int)JV_CFG_IKEYS_MAX, "raise JV_CFG_IKEYS_MAX");

unsigned jv_config_key_line(const struct jv_config *cfg, const char *key)
{
	int k = cfg && key ? find_key(ikeys, IK_COUNT, key) : -1;

	return k < 0 ? 0 : cfg->key_line[k];
}

int jv_config_load(const char *path, struct jv_config **out,
		   struct jv_diag *d)
{
	struct jv_diag local;
	struct stat st;
	char *text = NULL;
	size_t len = 0;
	int rc;

	if (!d)
		d = &local;
	jv_diag_clear(d);
	jv_diag_file(d, path);
	if (out)
		*out = NULL;
	if (!path || !out) {
		jv_diag_set(d, 0, NULL, "no file given");
		return JV_ERR_INVAL;
	}
	rc = read_text(path, CFG_FILE_MAX, &text, &len, &st, d);
	if (!rc)
		rc = jv_config_parse(text, path, out, d);
	/* wg warns when a file holding a private key is world-accessible */
	if (!rc && (st.st_mode & 007) && (*out)->private_key_line)
		(*out)->world_readable = true;
	if (text) {
		sodium_memzero(text, len);
		free(text);
	}
	return rc;
}

const char *jv_config_peer_file(const struct jv_config *cfg,
				const struct jv_cfg_peer *p)
{
	return p->file ? p->file : cfg->file;
}

size_t jv_config_heap_bytes(const struct jv_config *cfg)
{
	size_t n = 0;

	if (!cfg)
		return 0;
	for (const struct cfg_arena *a = cfg->arena; a; a = a->next)
		n += sizeof *a + a->cap;
	return n + (size_t)cfg->npeers * sizeof *cfg->peers +
	       jv_route_table_bytes(cfg->routes);
}

void jv_config_free(struct jv_config *cfg)
{
	if (!cfg)
		return;
	while (cfg->arena) {
		struct cfg_arena *a = cfg->arena;

		cfg->arena = a->next;
		free(a);
	}
	jv_route_table_free(cfg->routes);
	free(cfg->peers);
	sodium_memzero(cfg, sizeof *cfg);
	free(cfg);
}
