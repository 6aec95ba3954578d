/* SPDX-License-Identifier: MIT */
#ifndef JVPN_DAEMON_CONFIG_H
#define JVPN_DAEMON_CONFIG_H

/*
 * The daemon's config file: WireGuard-like INI read by libinih through a
 * line-counting reader (STYLE 11), so every error names the file, the
 * line, the key and what is allowed (struct jv_diag).  docs/config.md is
 * the reference; examples/ holds one full file per role.
 *
 *   [Interface]  Role, PrivateKey | PrivateKeyFile, Address, MTU, Name,
 *                NodeId, EventLog, ControlSocket, FwMark, Table, DNS,
 *                PostUp, PreDown, MetricsListen; gateway: ListenPort,
 *                ListenAddress, MaxSessions, HandshakesPerSecond,
 *                HandshakeBurst, PeersDir
 *   [Peer]       PublicKey, AllowedIPs, Endpoint (client: the gateway's
 *                default endpoint); a client has exactly one, a gateway
 *                one per client, here and/or one per file of PeersDir
 *                (each DIR/NAME.conf holds exactly one [Peer], D-032)
 *   [Transport]  client only, one per path: Name, Bind, Interface,
 *                Endpoint, Priority
 *   [Policy]     the policy keys (docs/policy.md), through the policy's
 *                own streaming reader
 *   [Cluster]    gateway only: Store, ClusterKeyFile, OwnerLeaseMs,
 *                CaFile, CertFile, KeyFile (the ownership store, PD-9);
 *                StateDir in [Interface] places the default one
 */

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "jvpn/diag.h"
#include "jvpn/error.h"
#include "jvpn/limits.h"
#include "jvpn/policy.h"
#include "jvpn/session.h"

enum jv_cfg_limits {
	JV_CFG_ADDR_MAX = 8,		/* [Interface] Address entries */
	JV_CFG_ALLOWED_MAX = 32,	/* AllowedIPs entries per peer */
	JV_CFG_PEERS_MAX = 65536,	/* [Peer] sections (gateway), the
					 * file's and PeersDir's together */
	JV_CFG_LISTEN_MAX = 16,		/* ListenAddress x ListenPort */
	JV_CFG_PATH_MAX = 256,		/* file and socket paths */
	JV_CFG_SOCK_PATH_MAX = 108,	/* sizeof sun_path */
	JV_CFG_MTU_DEFAULT = 1420,	/* 1500 - IPv6 40 - UDP 8 - jvpn 32 */
	JV_CFG_MTU_MIN = 576,
	JV_CFG_URL_MAX = 1024,		/* [Cluster] Store */
	JV_CFG_LEASE_MS_DEFAULT = 2000,	/* etcd OwnerLeaseMs */
	JV_CFG_LEASE_MS_MIN = 1000,	/* etcd leases are whole seconds */
	JV_CFG_LEASE_MS_MAX = 60000,
	JV_CFG_IKEYS_MAX = 48,		/* [Interface] key names (lines kept) */
	JV_CFG_HOST_MAX = 254,		/* a DNS name, 253 characters */
	JV_CFG_DNS_MAX = 8,		/* DNS servers */
	JV_CFG_DOMAINS_MAX = 8,		/* DNS search domains */
	JV_CFG_HOOKS_MAX = 16,		/* PostUp, PreDown lines each */
	JV_CFG_HOOK_LEN = 200,		/* a line is at most ~197 anyway */
	/* wg-quick's default: the fwmark and table of a full tunnel */
	JV_CFG_FWMARK_DEFAULT = 51820,
};

/* Table = auto | off | N (docs/config.md "Full tunnel"). */
enum jv_cfg_table { JV_CFG_TABLE_AUTO, JV_CFG_TABLE_OFF, JV_CFG_TABLE_NUM };

enum jv_cfg_role { JV_CFG_CLIENT, JV_CFG_GATEWAY };

struct jv_cidr {
	struct jv_addr addr;		/* port 0 */
	unsigned prefix;		/* 0..32 (IPv4) or 0..128 */
};

/*
 * One [Peer], sized to fit (D-032): what varies in length lives in the
 * config's arena (freed with it), so 10 000 gateway peers cost about a
 * hundred bytes each plus their networks.  Copies of the struct (a
 * reload's slots) share those arrays: they stay valid as long as the
 * config that read them.
 */
struct jv_cfg_peer {
	uint8_t public_key[32];
	struct jv_cidr *allowed;	/* nallowed entries (arena) */
	unsigned *allowed_line;		/* the line of each, in `file` */
	const char *file;		/* a PeersDir file (arena), or NULL:
					 * the config file itself */
	const char *host;		/* Endpoint by name, "" = address;
					 * never NULL */
	struct jv_addr endpoint;
	unsigned nallowed;
	unsigned endpoint_line;
	unsigned line;			/* of its [Peer] header */
	unsigned key_line;		/* of its PublicKey */
	bool has_key;
	bool has_endpoint;
	bool removed;			/* running gateway: a peer a reload
					 * removed, its slot kept (reload.h) */
};

struct jv_cfg_transport {
	char name[JV_TRANSPORT_ID_MAX];
	bool has_bind;
	struct jv_addr bind;		/* port 0: ephemeral */
	char ifname[IF_NAMESIZE];	/* "" = none */
	bool has_endpoint;
	struct jv_addr endpoint;	/* resolved: own, else the peer's */
	/* Endpoint given by name ("" = an address): resolved at start and
	 * again when the path dies (daemon/resolve.h); endpoint.port is
	 * already the port, endpoint_line where the name was written. */
	char host[JV_CFG_HOST_MAX];
	unsigned endpoint_line;
	unsigned priority;		/* lower is preferred */
	unsigned line;			/* of its [Transport] header */
};

struct cfg_arena;
struct jv_route_table;

struct jv_config {
	char file[JV_CFG_PATH_MAX];
	enum jv_cfg_role role;
	uint8_t private_key[32];
	char ifname[IF_NAMESIZE];
	unsigned naddr;
	struct jv_cidr addr[JV_CFG_ADDR_MAX];
	unsigned mtu;
	unsigned nlisten;		/* gateway: resolved listen tuples */
	struct jv_addr listen[JV_CFG_LISTEN_MAX];
	char node_id[JV_NODE_ID_MAX];
	char event_log[JV_CFG_PATH_MAX];	/* "" = no event log */
	char control_socket[JV_CFG_SOCK_PATH_MAX];
	bool has_metrics;		/* MetricsListen set (not off) */
	struct jv_addr metrics_listen;	/* docs/metrics.md */
	unsigned max_sessions;		/* gateway; 0 = engine default */
	uint32_t handshakes_per_sec;	/* gateway; 0 = engine default */
	uint32_t handshake_burst;	/* gateway; 0 = engine default */
	unsigned npeers;
	struct jv_cfg_peer *peers;	/* npeers, allocated to fit */
	char peers_dir[JV_CFG_PATH_MAX];	/* PeersDir, resolved against
						 * the file's directory; "" */
	unsigned npeers_dir;		/* how many peers came from it */
	struct cfg_arena *arena;	/* the peers' arrays and names */
	struct jv_route_table *routes;	/* AllowedIPs -> peer index, built
					 * by the daemon (route_table.h) */
	unsigned ntransports;
	struct jv_cfg_transport transports[JV_MAX_TRANSPORTS];
	struct jv_policy policy;
	/* gateway: the ownership store (PD-9) */
	char state_dir[JV_CFG_PATH_MAX];	/* "" = StateDir = off */
	char store_url[JV_CFG_URL_MAX];		/* "" = none: sessions die
						 * with the process */
	char cluster_key_file[JV_CFG_PATH_MAX];	/* "" = derived from the
						 * private key */
	unsigned owner_lease_ms;		/* etcd; 0 for sqlite */
	char ca_file[JV_CFG_PATH_MAX];		/* etcd TLS, "" = none */
	char cert_file[JV_CFG_PATH_MAX];
	char key_file[JV_CFG_PATH_MAX];
	unsigned cluster_line;			/* [Cluster] header, 0: none */
	unsigned private_key_line;	/* line of PrivateKey; 0: from a file */
	unsigned interface_line;	/* [Interface] header */
	unsigned key_line[JV_CFG_IKEYS_MAX];	/* jv_config_key_line */
	bool world_readable;		/* a file holding the key is mode & 007 */
	/* routing like wg-quick (daemon/tunnel.h) */
	uint32_t fwmark;		/* 0: none (FwMark = off or unset) */
	bool fwmark_set;		/* FwMark given explicitly */
	enum jv_cfg_table table_mode;
	uint32_t table;			/* JV_CFG_TABLE_NUM: the table */
	unsigned fwmark_line, table_line;
	/* client: DNS = servers and search domains (resolvectl) */
	unsigned ndns, ndomains;
	struct jv_addr dns[JV_CFG_DNS_MAX];
	char domains[JV_CFG_DOMAINS_MAX][JV_CFG_HOST_MAX];
	/* hooks, run by /bin/sh -c in order (daemon/hooks.h) */
	unsigned npostup, npredown;
	char postup[JV_CFG_HOOKS_MAX][JV_CFG_HOOK_LEN];
	char predown[JV_CFG_HOOKS_MAX][JV_CFG_HOOK_LEN];
};

/* Whether some [Peer] routes 0.0.0.0/0 or ::/0 (v4: IPv4, else IPv6). */
bool jv_config_has_default(const struct jv_config *cfg, bool v4);

/*
 * Read and check the config file `path`.  cfg is allocated (free with
 * jv_config_free, also after an error).  Returns 0, or
 *   JV_ERR_IO     the file cannot be opened or read (d says why);
 *   JV_ERR_PARSE  a malformed line, unknown section or key, bad value,
 *                 key set twice, required key missing;
 *   JV_ERR_INVAL  values that do not fit together (client without a
 *                 [Transport] endpoint, gateway without ListenPort...),
 *                 or a [Policy] that fails validation;
 *   JV_ERR_NOMEM.
 * d always names file, line (0 when the problem is a missing key) and key.
 */
JV_MUST_CHECK int jv_config_load(const char *path, struct jv_config **cfg,
				 struct jv_diag *d);

/*
 * The same from text already in memory (tests, fuzzing); `name` is the
 * file name used in diagnostics and for the default interface name.
 */
JV_MUST_CHECK int jv_config_parse(const char *text, const char *name,
				  struct jv_config **cfg, struct jv_diag *d);

/* The line at which [Interface] key `key` (any case) was set, or 0 (not
 * set, or no such key): a reload names what would need a restart. */
unsigned jv_config_key_line(const struct jv_config *cfg, const char *key);

/* Wipe the private key and free.  NULL is fine. */
void jv_config_free(struct jv_config *cfg);

/* The longest prefix of `peers[*]` AllowedIPs holding `ip` (IPv4-mapped or
 * IPv6), as peer index, or -1.  Through cfg->routes when built (O(log
 * n)), else a linear pass (the reference the table is tested against). */
int jv_config_route_lookup(const struct jv_config *cfg, const uint8_t ip[16]);

/* The file a peer was read from: its PeersDir file, or the config's. */
const char *jv_config_peer_file(const struct jv_config *cfg,
				const struct jv_cfg_peer *p);

/* A PeersDir file's text, given in memory (tests, fuzzing). */
struct jv_cfg_text {
	const char *name;		/* its path, named in diagnostics */
	const char *text;
};

/*
 * jv_config_parse with the PeersDir files given in memory instead of read
 * from the directory (PeersDir need not be set; when it is, the directory
 * is not read): each must hold exactly one [Peer].  The fuzz target of a
 * peer file and the tests of the checks across files use it.
 */
JV_MUST_CHECK int jv_config_parse_peers(const char *text, const char *name,
					const struct jv_cfg_text *files,
					unsigned nfiles,
					struct jv_config **cfg,
					struct jv_diag *d);

/* Bytes the config holds on the heap beyond its own struct: the peers'
 * array, the arena (D-032's figure). */
size_t jv_config_heap_bytes(const struct jv_config *cfg);

/* Whether ip lies inside c. */
bool jv_cidr_contains(const struct jv_cidr *c, const uint8_t ip[16]);

#endif
