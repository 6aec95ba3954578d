/* SPDX-License-Identifier: MIT */
/* Scenario files: INI through libinih with a line-counting reader. */

#define _POSIX_C_SOURCE 200809L	/* fmemopen */

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "jvpn/wire.h"
#include "sim/addr.h"
#include "sim/record.h"
#include "sim/scenario.h"

enum {
	LINE_MAX_CHARS = 198,		/* libinih's INI_MAX_LINE minus "\n\0" */
	POLICY_LINES_MAX = 128,
	NAME_MAX_CHARS = 32,
};

enum section {
	SEC_NONE,
	SEC_SCENARIO,
	SEC_POLICY,		/* scope in policy_scope */
	SEC_GATEWAY,
	SEC_STORE,
	SEC_TRANSPORT,
	SEC_TRAFFIC,
	SEC_TIMELINE,
	SEC_EXPECT,
	SEC_UNKNOWN,
};

struct policy_line {
	char key[64];
	char value[128];
	unsigned line;
	int scope;		/* -1 both, else enum sim_side */
};

/* An action's path names, resolved once every [Transport] is known. */
struct pending_names {
	char path[NAME_MAX_CHARS];
	char from[NAME_MAX_CHARS];
};

struct parse {
	struct sim_scenario *sc;
	struct sim_errors *errs;
	FILE *f;
	unsigned line;
	enum section sec;
	int scope;			/* [Policy ...] scope */
	int cur_transport;		/* [Transport NAME] index */
	size_t cap_actions;
	struct pending_names *names;	/* parallel to sc->actions */
	unsigned npolicy;
	struct policy_line policy[POLICY_LINES_MAX];
	unsigned scenario_set[8];	/* line of each [Scenario] key */
	unsigned traffic_set[16];
	unsigned gateway_set[4];
	unsigned store_set[4];
	uint64_t transport_set[SIM_TRANSPORTS_MAX];
	bool nomem;
};

static void err(struct parse *p, unsigned line, const char *key,
		const char *value, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void err(struct parse *p, unsigned line, const char *key,
		const char *value, const char *fmt, ...)
{
	struct jv_diag *d;
	va_list ap;

	if (p->errs->n == SIM_ERRORS_MAX)
		return;
	d = &p->errs->d[p->errs->n++];
	jv_diag_clear(d);
	jv_diag_file(d, p->sc->file);
	va_start(ap, fmt);
	jv_diag_vset(d, line, key, fmt, ap);
	va_end(ap);
	if (value)
		jv_diag_value(d, "%s", value);
}

static void err_diag(struct parse *p, const struct jv_diag *src)
{
	struct jv_diag *d;

	if (p->errs->n == SIM_ERRORS_MAX)
		return;
	d = &p->errs->d[p->errs->n++];
	*d = *src;
	jv_diag_file(d, p->sc->file);
}

/* Copy with truncation (the callers bound what they copy). */
static void scopy(char *dst, size_t n, const char *src)
{
	size_t len = strnlen(src, n - 1);

	memcpy(dst, src, len);
	dst[len] = '\0';
}

/* ---- numbers ------------------------------------------------------------ */

static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return JV_ERR_PARSE;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return JV_ERR_PARSE;
	*out = v;
	return 0;
}

static int parse_u32(const char *s, uint32_t max, uint32_t *out)
{
	uint64_t v;

	if (parse_u64(s, max, &v))
		return JV_ERR_PARSE;
	*out = (uint32_t)v;
	return 0;
}

/* ---- sections ----------------------------------------------------------- */

static bool valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= NAME_MAX_CHARS)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' &&
		    s[i] != '_' && s[i] != '.')
			return false;
	return true;
}

/* Called by the reader on every "[...]" line. */
static void open_section(struct parse *p, const char *name)
{
	struct sim_scenario *sc = p->sc;

	p->cur_transport = -1;
	p->scope = -1;
	if (!strcmp(name, "Scenario")) {
		p->sec = SEC_SCENARIO;
	} else if (!strcmp(name, "Policy")) {
		p->sec = SEC_POLICY;
	} else if (!strcmp(name, "Policy client")) {
		p->sec = SEC_POLICY;
		p->scope = SIM_CLIENT;
	} else if (!strcmp(name, "Policy gateway")) {
		p->sec = SEC_POLICY;
		p->scope = SIM_GATEWAY;
	} else if (!strcmp(name, "Gateway")) {
		p->sec = SEC_GATEWAY;
	} else if (!strcmp(name, "Store")) {
		p->sec = SEC_STORE;
		if (!sc->store.on)
			sc->store.line = p->line;
		sc->store.on = true;
	} else if (!strncmp(name, "Transport ", 10)) {
		const char *tn = name + 10;
		struct sim_transport *t;

		p->sec = SEC_UNKNOWN;
		if (!valid_name(tn)) {
			err(p, p->line, "section", name,
			    "transport name must be 1-31 characters of "
			    "[A-Za-z0-9._-]");
			return;
		}
		if (sim_scenario_transport(sc, tn) >= 0) {
			err(p, p->line, "section", name,
			    "transport defined twice");
			return;
		}
		if (sc->ntransports == SIM_TRANSPORTS_MAX) {
			err(p, p->line, "section", name,
			    "too many transports (max %d)",
			    SIM_TRANSPORTS_MAX);
			return;
		}
		p->sec = SEC_TRANSPORT;
		p->cur_transport = (int)sc->ntransports;
		t = &sc->transport[sc->ntransports++];
		memset(t, 0, sizeof *t);
		scopy(t->name, sizeof t->name, tn);
		t->proto = JV_PROTO_UDP;
		t->line = p->line;
		/* 10.<i+1>.0.2:50000: one client address per path. */
		sim_addr_ipv4(&t->addr,
			      (uint32_t)(10u << 24 | (sc->ntransports) << 16 |
					 2u), 50000);
		sim_link_params_default(&t->up);
		sim_link_params_default(&t->down);
	} else if (!strcmp(name, "Traffic")) {
		p->sec = SEC_TRAFFIC;
	} else if (!strcmp(name, "Timeline")) {
		p->sec = SEC_TIMELINE;
	} else if (!strcmp(name, "Expect")) {
		p->sec = SEC_EXPECT;
	} else {
		p->sec = SEC_UNKNOWN;
		err(p, p->line, "section", name,
		    "unknown section (Scenario, Policy, Policy client, "
		    "Policy gateway, Gateway, Store, Transport NAME, "
		    "Traffic, Timeline, Expect)");
	}
}

/*
 * The line-counting reader libinih calls: one line per call.  It also
 * checks the shape of each line, because libinih reports only the first
 * malformed line and never shows the handler a section without keys.
 */
static char *reader(char *str, int num, void *stream)
{
	struct parse *p = stream;
	size_t n;
	char *s;

	if (!fgets(str, num, p->f))
		return NULL;
	p->line++;
	n = strlen(str);
	if (n > 0 && str[n - 1] == '\n') {
		str[--n] = '\0';
	} else if (!feof(p->f)) {
		int c;

		err(p, p->line, NULL, NULL,
		    "line too long (at most %d characters)", LINE_MAX_CHARS);
		while ((c = fgetc(p->f)) != EOF && c != '\n')
			;
		str[0] = '\0';
		return str;
	}
	if (n > 0 && str[n - 1] == '\r')
		str[--n] = '\0';
	/* Leading blanks would make libinih glue the line to the previous
	 * value (multi-line values); a scenario has none, so drop them. */
	s = str;
	while (*s == ' ' || *s == '\t')
		s++;
	memmove(str, s, strlen(s) + 1);
	if (str[0] == '\0' || str[0] == ';' || str[0] == '#')
		return str;
	if (str[0] == '[') {
		char name[128];
		char *close = strchr(str, ']');
		char *rest = close ? close + 1 : NULL;

		while (rest && (*rest == ' ' || *rest == '\t'))
			rest++;
		if (!close || (rest && *rest && *rest != ';' && *rest != '#')) {
			err(p, p->line, NULL, str,
			    "malformed section header (expected [Name])");
			p->sec = SEC_UNKNOWN;
			str[0] = '\0';
			return str;
		}
		n = (size_t)(close - str - 1);
		if (n >= sizeof name)
			n = sizeof name - 1;
		memcpy(name, str + 1, n);
		name[n] = '\0';
		open_section(p, name);
		return str;
	}
	if (!strpbrk(str, "=:")) {
		err(p, p->line, NULL, str, "expected key = value");
		str[0] = '\0';
	} else if (p->sec == SEC_NONE) {
		err(p, p->line, NULL, str, "key outside any section");
		str[0] = '\0';
	}
	return str;
}

/* ---- [Scenario], [Gateway], [Traffic] ---------------------------------- */

/* Record that key k of a section was set; error if it was already. */
static bool once(struct parse *p, unsigned *set, const char *key)
{
	if (*set) {
		err(p, p->line, key, NULL, "already set at line %u", *set);
		return false;
	}
	*set = p->line;
	return true;
}

static void scenario_key(struct parse *p, const char *key, const char *v)
{
	static const char *const keys[] = {
		"name", "seed", "duration_ms", "description", "spec",
		"determinism", "sink", NULL,
	};
	struct sim_scenario *sc = p->sc;
	int k = -1;

	for (int i = 0; keys[i]; i++)
		if (!strcmp(keys[i], key))
			k = i;
	if (k < 0) {
		err(p, p->line, key, NULL,
		    "unknown key in [Scenario] (name, seed, duration_ms, "
		    "description, spec, determinism, sink)");
		return;
	}
	if (!once(p, &p->scenario_set[k], key))
		return;
	switch (k) {
	case 0:
		/* Names appear in reports: keep them one token. */
		if (!valid_name(v))
			err(p, p->line, key, v,
			    "must be 1-31 characters of [A-Za-z0-9._-]");
		scopy(sc->name, sizeof sc->name, v);
		break;
	case 1:
		if (parse_u64(v, UINT64_MAX, &sc->seed))
			err(p, p->line, key, v,
			    "must be an unsigned 64-bit integer");
		break;
	case 2:
		if (parse_u64(v, 7ull * 24 * 3600 * 1000, &sc->duration_ms) ||
		    sc->duration_ms == 0)
			err(p, p->line, key, v,
			    "must be an integer in [1, 604800000]");
		break;
	case 3:
		scopy(sc->description, sizeof sc->description, v);
		break;
	case 4:
		scopy(sc->spec, sizeof sc->spec, v);
		break;
	case 5:
		if (!strcmp(v, "check"))
			sc->determinism = true;
		else if (strcmp(v, "off"))
			err(p, p->line, key, v, "must be check or off");
		break;
	case 6:
		if (!strcmp(v, "fail"))
			sc->sink_fail = true;
		else if (strcmp(v, "ok"))
			err(p, p->line, key, v, "must be ok or fail");
		break;
	}
}

static void gateway_key(struct parse *p, const char *key, const char *v)
{
	struct sim_gateway_cfg *g = &p->sc->gateway;
	int k = !strcmp(key, "max_sessions") ? 0 :
		!strcmp(key, "handshakes_per_sec") ? 1 :
		!strcmp(key, "handshake_burst") ? 2 : -1;
	uint32_t x;

	if (k < 0) {
		err(p, p->line, key, NULL,
		    "unknown key in [Gateway] (max_sessions, "
		    "handshakes_per_sec, handshake_burst)");
		return;
	}
	if (!once(p, &p->gateway_set[k], key))
		return;
	if (parse_u32(v, 1000000, &x) || x == 0) {
		err(p, p->line, key, v, "must be an integer in [1, 1000000]");
		return;
	}
	if (k == 0)
		g->max_sessions = x;
	else if (k == 1)
		g->handshakes_per_sec = x;
	else
		g->handshake_burst = x;
}

/* [Store]: the ownership store and the gateway nodes that share it. */
static void store_key(struct parse *p, const char *key, const char *v)
{
	static const char *const keys[] = {
		"latency_ms", "lease_ms", "renew_ms", "nodes", NULL,
	};
	struct sim_store_cfg *st = &p->sc->store;
	uint64_t x;
	int k = -1;

	for (int i = 0; keys[i]; i++)
		if (!strcmp(keys[i], key))
			k = i;
	if (k < 0) {
		err(p, p->line, key, NULL,
		    "unknown key in [Store] (latency_ms, lease_ms, renew_ms, "
		    "nodes)");
		return;
	}
	if (!once(p, &p->store_set[k], key))
		return;
	if (k == 3) {
		if (parse_u64(v, SIM_NODES_MAX, &x) || x == 0)
			err(p, p->line, key, v, "must be 1 or %d",
			    SIM_NODES_MAX);
		else
			st->nodes = (unsigned)x;
		return;
	}
	if (parse_u64(v, 3600000, &x) || (k == 2 && x == 0)) {
		err(p, p->line, key, v, "must be an integer in [%d, 3600000] "
		    "ms", k == 2 ? 1 : 0);
		return;
	}
	if (k == 0)
		st->latency_ms = x;
	else if (k == 1)
		st->lease_ms = x;
	else
		st->renew_ms = x;
}

static void traffic_key(struct parse *p, const char *key, const char *v)
{
	static const char *const keys[] = {
		"stream_pps", "stream_up_pps", "stream_down_pps",
		"packet_bytes", "start_ms", "stop_ms", "request_pps",
		"request_bytes", "response_bytes", "request_timeout_ms", NULL,
	};
	struct sim_traffic_cfg *t = &p->sc->traffic;
	uint64_t x;
	int k = -1;

	for (int i = 0; keys[i]; i++)
		if (!strcmp(keys[i], key))
			k = i;
	if (k < 0) {
		err(p, p->line, key, NULL,
		    "unknown key in [Traffic] (stream_pps, stream_up_pps, "
		    "stream_down_pps, packet_bytes, start_ms, stop_ms, "
		    "request_pps, request_bytes, response_bytes, "
		    "request_timeout_ms)");
		return;
	}
	if (!once(p, &p->traffic_set[k], key))
		return;
	switch (k) {
	case 0: case 1: case 2: case 6:
		if (parse_u64(v, 10000, &x)) {
			err(p, p->line, key, v,
			    "must be an integer in [0, 10000] packets/s");
			return;
		}
		if (k == 0 || k == 1)
			t->up_pps = (uint32_t)x;
		if (k == 0 || k == 2)
			t->down_pps = (uint32_t)x;
		if (k == 6)
			t->request_pps = (uint32_t)x;
		return;
	case 3: case 7: case 8:
		if (parse_u64(v, SIM_TRAFFIC_MAX, &x) || x < SIM_TRAFFIC_MIN) {
			err(p, p->line, key, v,
			    "must be an integer in [%d, %d] bytes",
			    SIM_TRAFFIC_MIN, SIM_TRAFFIC_MAX);
			return;
		}
		if (k == 3)
			t->packet_bytes = (uint32_t)x;
		else if (k == 7)
			t->request_bytes = (uint32_t)x;
		else
			t->response_bytes = (uint32_t)x;
		return;
	default:
		if (parse_u64(v, 7ull * 24 * 3600 * 1000, &x)) {
			err(p, p->line, key, v,
			    "must be an integer number of ms");
			return;
		}
		if (k == 4)
			t->start_ms = x;
		else if (k == 5)
			t->stop_ms = x;
		else
			t->request_timeout_ms = x;
	}
}

/* ---- [Transport NAME] --------------------------------------------------- */

static void transport_key(struct parse *p, const char *key, const char *v)
{
	struct sim_transport *t = &p->sc->transport[p->cur_transport];
	uint64_t *set = &p->transport_set[p->cur_transport];
	struct jv_diag d;
	const char *lk = key;
	unsigned dirs = SIM_DIR_BOTH;
	int r;

	jv_diag_clear(&d);
	jv_diag_file(&d, p->sc->file);
	static const char *const own[] = { "proto", "priority", "address",
					   "state", "node", NULL };
	for (int i = 0; own[i]; i++) {
		uint64_t bit = (uint64_t)1 << (40 + i);

		if (strcmp(own[i], key))
			continue;
		if (*set & bit) {
			err(p, p->line, key, NULL, "already set");
			return;
		}
		*set |= bit;
	}
	if (!strcmp(key, "proto")) {
		int pr = jv_proto_from_name(v);

		if (pr <= 0)
			err(p, p->line, key, v, "must be udp, quic or tcp");
		else
			t->proto = (uint32_t)pr;
		return;
	}
	if (!strcmp(key, "priority")) {
		uint32_t x;

		if (parse_u32(v, 1000, &x))
			err(p, p->line, key, v,
			    "must be an integer in [0, 1000]");
		else
			t->priority = x;
		return;
	}
	if (!strcmp(key, "address")) {
		if (sim_addr_parse(v, &t->addr))
			err(p, p->line, key, v,
			    "must be an IPv4 address and port, a.b.c.d:port");
		return;
	}
	if (!strcmp(key, "state")) {
		if (!strcmp(v, "down"))
			t->start_down = true;
		else if (strcmp(v, "up"))
			err(p, p->line, key, v, "must be up or down");
		return;
	}
	if (!strcmp(key, "node")) {
		/* Checked against [Store] once the whole file is read. */
		t->node = sim_node_from_name(v);
		t->node_line = p->line;
		if (t->node < 0) {
			err(p, p->line, key, v, "must be a gateway node: gw1 "
			    "or gw2");
			t->node = 0;
		}
		return;
	}
	if (!strncmp(key, "up.", 3)) {
		dirs = SIM_DIR_UP;
		lk = key + 3;
	} else if (!strncmp(key, "down.", 5)) {
		dirs = SIM_DIR_DOWN;
		lk = key + 5;
	}
	/* A key for both directions, then per direction, never twice. */
	for (int i = 0; sim_link_param_keys[i]; i++) {
		if (strcmp(sim_link_param_keys[i], lk))
			continue;
		uint64_t bits = (uint64_t)dirs << (2 * i);

		if (*set & bits) {
			err(p, p->line, key, NULL,
			    "already set for this direction");
			return;
		}
		*set |= bits;
	}
	d.line = p->line;
	r = 0;
	if (dirs & SIM_DIR_UP)
		r = sim_link_param_set(&t->up, lk, v, &d);
	if (r == 0 && (dirs & SIM_DIR_DOWN))
		r = sim_link_param_set(&t->down, lk, v, &d);
	if (r == JV_ERR_NOTFOUND)
		err(p, p->line, key, NULL,
		    "unknown key in [Transport] (proto, priority, address, "
		    "state, node, and [up.|down.]delay_ms, jitter_ms, loss, "
		    "loss_pattern, burst_enter, burst_exit, burst_loss, "
		    "reorder, reorder_ms, duplicate, corrupt, rate_kbps, "
		    "queue_bytes)");
	else if (r)
		err_diag(p, &d);
}

/* ---- [Timeline] --------------------------------------------------------- */

static const char *const act_names[SIM_ACT_KIND_COUNT] = {
	[SIM_ACT_KILL] = "kill", [SIM_ACT_REVIVE] = "revive",
	[SIM_ACT_SET] = "set", [SIM_ACT_NAT] = "nat",
	[SIM_ACT_SWITCH] = "switch", [SIM_ACT_TERMINATE] = "terminate",
	[SIM_ACT_RESTART] = "restart", [SIM_ACT_REPLAY] = "replay",
	[SIM_ACT_CORRUPT] = "corrupt", [SIM_ACT_HOLD] = "hold",
	[SIM_ACT_DROP] = "drop", [SIM_ACT_CRASH] = "crash",
	[SIM_ACT_STORE_DOWN] = "store down", [SIM_ACT_STORE_UP] = "store up",
	[SIM_ACT_PARTITION] = "partition", [SIM_ACT_HEAL] = "heal",
	[SIM_ACT_STORE_CONFLICT] = "store conflict",
	[SIM_ACT_POLICY] = "policy",
};

const char *sim_act_name(enum sim_act_kind k)
{
	return (unsigned)k < SIM_ACT_KIND_COUNT ? act_names[k] : "?";
}

static const char *const node_names[SIM_NODES_MAX] = { "gw1", "gw2" };

const char *sim_node_name(int node)
{
	return node >= 0 && node < SIM_NODES_MAX ? node_names[node] : "?";
}

int sim_node_from_name(const char *name)
{
	for (int i = 0; i < SIM_NODES_MAX; i++)
		if (!strcmp(node_names[i], name))
			return i;
	return -1;
}

static const struct {
	const char *name;
	enum sim_match_kind kind;
	uint8_t type, ctrl;
} match_names[] = {
	{ "any", SIM_MATCH_ANY, 0, 0 },
	{ "initiation", SIM_MATCH_TYPE, JV_MSG_INITIATION, 0 },
	{ "response", SIM_MATCH_TYPE, JV_MSG_RESPONSE, 0 },
	{ "data", SIM_MATCH_TYPE, JV_MSG_DATA, 0 },
	{ "control", SIM_MATCH_TYPE, JV_MSG_CONTROL, 0 },
	{ "heartbeat", SIM_MATCH_CTRL, JV_MSG_CONTROL, JV_CTRL_HEARTBEAT },
	{ "path_challenge", SIM_MATCH_CTRL, JV_MSG_CONTROL,
	  JV_CTRL_PATH_CHALLENGE },
	{ "path_response", SIM_MATCH_CTRL, JV_MSG_CONTROL,
	  JV_CTRL_PATH_RESPONSE },
	{ "reattach_request", SIM_MATCH_CTRL, JV_MSG_CONTROL,
	  JV_CTRL_REATTACH_REQUEST },
	{ "reattach_ack", SIM_MATCH_CTRL, JV_MSG_CONTROL,
	  JV_CTRL_REATTACH_ACK },
	{ "reattach_deny", SIM_MATCH_CTRL, JV_MSG_CONTROL,
	  JV_CTRL_REATTACH_DENY },
	{ "terminate", SIM_MATCH_CTRL, JV_MSG_CONTROL, JV_CTRL_TERMINATE },
};

static int parse_match(const char *v, struct sim_match *m)
{
	for (size_t i = 0; i < sizeof match_names / sizeof match_names[0];
	     i++)
		if (!strcmp(match_names[i].name, v)) {
			m->kind = match_names[i].kind;
			m->type = match_names[i].type;
			m->ctrl = match_names[i].ctrl;
			return 0;
		}
	return JV_ERR_PARSE;
}

static int parse_dirs(const char *v, unsigned *dirs)
{
	if (!strcmp(v, "up"))
		*dirs = SIM_DIR_UP;
	else if (!strcmp(v, "down"))
		*dirs = SIM_DIR_DOWN;
	else
		return JV_ERR_PARSE;
	return 0;
}

static struct sim_action *new_action(struct parse *p)
{
	struct sim_scenario *sc = p->sc;

	if (sc->nactions == SIM_ACTIONS_MAX)
		return NULL;
	if (sc->nactions == p->cap_actions) {
		size_t cap = p->cap_actions ? 2 * p->cap_actions : 32;
		struct sim_action *a = realloc(sc->actions, cap * sizeof *a);
		struct pending_names *nm;

		if (!a) {
			p->nomem = true;
			return NULL;
		}
		sc->actions = a;
		nm = realloc(p->names, cap * sizeof *nm);
		if (!nm) {
			p->nomem = true;
			return NULL;
		}
		p->names = nm;
		p->cap_actions = cap;
	}
	memset(&p->names[sc->nactions], 0, sizeof p->names[0]);
	return &sc->actions[sc->nactions++];
}

/* Option "name=value" of an attacker action. */
static int attacker_option(struct parse *p, struct sim_action *a,
			   struct pending_names *nm, const char *tok)
{
	const char *eq = strchr(tok, '=');
	const char *v = eq ? eq + 1 : "";
	size_t kl = eq ? (size_t)(eq - tok) : strlen(tok);
	uint64_t x;

#define IS(name) (kl == strlen(name) && !strncmp(tok, name, kl))
	if (!eq)
		goto bad;
	if (IS("match")) {
		if (parse_match(v, &a->match)) {
			err(p, p->line, "match", v,
			    "must be any, initiation, response, data, "
			    "control, heartbeat, path_challenge, "
			    "path_response, reattach_request, reattach_ack, "
			    "reattach_deny or terminate");
			return JV_ERR_PARSE;
		}
		return 0;
	}
	if (IS("pick") && a->kind == SIM_ACT_REPLAY) {
		if (!strcmp(v, "last")) {
			a->pick = 1;
			return 0;
		}
		if (parse_u64(v, 256, &x) || x == 0)
			goto bad;
		a->pick = (uint32_t)x;
		return 0;
	}
	if ((IS("count") && a->kind == SIM_ACT_REPLAY) ||
	    (IS("next") && a->kind != SIM_ACT_REPLAY)) {
		if (parse_u64(v, 1000000, &x) || x == 0)
			goto bad;
		a->count = (uint32_t)x;
		return 0;
	}
	if (IS("every") && a->kind == SIM_ACT_REPLAY) {
		if (parse_u64(v, 3600000, &x) || x == 0)
			goto bad;
		a->every_ms = x;
		return 0;
	}
	if (IS("by") && a->kind == SIM_ACT_HOLD) {
		if (parse_u64(v, 3600000, &x))
			goto bad;
		a->by_ms = x;
		return 0;
	}
	if (IS("node") && a->kind == SIM_ACT_REPLAY) {
		/* The copy reaches that gateway node instead of the path's
		 * own (CL-1: one request at two nodes in one ms). */
		a->node = sim_node_from_name(v);
		if (a->node < 0) {
			err(p, p->line, "node", v,
			    "must be a gateway node: gw1 or gw2");
			return JV_ERR_PARSE;
		}
		return 0;
	}
	if (IS("from") && a->kind == SIM_ACT_REPLAY) {
		if (sim_addr_parse(v, &a->addr) == 0) {
			a->has_addr = true;
			return 0;
		}
		if (!valid_name(v))
			goto bad;
		scopy(nm->from, sizeof nm->from, v);
		return 0;
	}
	if (IS("flip") &&
	    (a->kind == SIM_ACT_REPLAY || a->kind == SIM_ACT_CORRUPT)) {
		if (!strcmp(v, "last")) {
			a->flip = -2;
			return 0;
		}
		if (parse_u64(v, JV_DGRAM_MAX - 1, &x))
			goto bad;
		a->flip = (int32_t)x;
		return 0;
	}
	if (IS("randomize") && a->kind == SIM_ACT_REPLAY) {
		uint32_t off, len;
		char buf[32];
		char *colon;

		scopy(buf, sizeof buf, v);
		colon = strchr(buf, ':');
		if (!colon)
			goto bad;
		*colon = '\0';
		if (parse_u32(buf, JV_DGRAM_MAX - 1, &off) ||
		    parse_u32(colon + 1, 64, &len) || len == 0)
			goto bad;
		a->rand_off = (uint16_t)off;
		a->rand_len = (uint16_t)len;
		return 0;
	}
#undef IS
bad:
	err(p, p->line, act_names[a->kind], tok,
	    "bad option for %s (see docs/scenarios.md, Timeline)",
	    act_names[a->kind]);
	return JV_ERR_PARSE;
}

/* store down | store up | store conflict */
static int parse_store_action(struct parse *p, struct sim_action *a,
			      char **tok, unsigned n, const char *value)
{
	if (n == 2 && !strcmp(tok[1], "down")) {
		a->kind = SIM_ACT_STORE_DOWN;
		a->fault = true;
	} else if (n == 2 && !strcmp(tok[1], "up")) {
		a->kind = SIM_ACT_STORE_UP;
	} else if (n == 2 && !strcmp(tok[1], "conflict")) {
		a->kind = SIM_ACT_STORE_CONFLICT;
		a->fault = true;
	} else {
		err(p, p->line, "store", value,
		    "expected: store down|up|conflict");
		return JV_ERR_PARSE;
	}
	return 0;
}

/*
 * policy client|gateway|both KEY=VALUE...: each key read by the policy
 * module's streaming reader now (unknown key, duplicate or bad value: an
 * error with this line); ranges and relations are left to the engine at
 * run time, so a scenario can show an update being refused.
 */
static int parse_policy_action(struct parse *p, struct sim_action *a,
			       char **tok, unsigned n, const char *value)
{
	struct jv_policy_ini st;
	struct jv_diag d;

	if (n < 3 || (strcmp(tok[1], "both") &&
		      sim_side_from_name(tok[1]) < 0)) {
		err(p, p->line, "policy", value,
		    "expected: policy client|gateway|both KEY=VALUE...");
		return JV_ERR_PARSE;
	}
	a->side = strcmp(tok[1], "both") ? sim_side_from_name(tok[1])
					 : SIM_SIDES;
	jv_policy_ini_init(&st);
	for (unsigned i = 2; i < n; i++) {
		char *eq = strchr(tok[i], '=');

		if (!eq) {
			err(p, p->line, "policy", tok[i],
			    "expected KEY=VALUE (a [Policy] key)");
			return JV_ERR_PARSE;
		}
		*eq = '\0';
		jv_diag_clear(&d);
		jv_diag_file(&d, p->sc->file);
		if (jv_policy_ini_line(&st, tok[i], eq + 1, p->line, &d)) {
			err_diag(p, &d);
			return JV_ERR_PARSE;
		}
	}
	struct jv_policy_ini *t = realloc(p->sc->policy_changes,
					  (p->sc->npolicy_changes + 1) *
						  sizeof *t);
	if (!t) {
		p->nomem = true;
		return JV_ERR_NOMEM;
	}
	p->sc->policy_changes = t;
	t[p->sc->npolicy_changes] = st;
	a->policy = (unsigned)p->sc->npolicy_changes++;
	return 0;
}

/* Parse ACTION text into a (time set by the caller). */
static int parse_action(struct parse *p, struct sim_action *a,
			struct pending_names *nm, const char *value)
{
	char buf[200], *tok[24];
	unsigned n = 0, i;
	int k = -1;

	memset(a, 0, sizeof *a);
	a->line = p->line;
	a->path = -1;
	a->from_path = -1;
	a->side = -1;
	a->node = -1;
	a->dirs = SIM_DIR_BOTH;
	a->flip = -1;
	a->pick = 1;
	a->count = 1;
	scopy(a->text, sizeof a->text, value);
	scopy(buf, sizeof buf, value);
	for (char *t = strtok(buf, " \t"); t && n < 24; t = strtok(NULL, " \t"))
		tok[n++] = t;
	if (n == 0) {
		err(p, p->line, "action", NULL, "empty action");
		return JV_ERR_PARSE;
	}
	for (int j = 0; j < SIM_ACT_KIND_COUNT; j++)
		if (!strcmp(act_names[j], tok[0]))
			k = j;
	if (!strcmp(tok[0], "store"))
		return parse_store_action(p, a, tok, n, value);
	if (k < 0) {
		err(p, p->line, "action", tok[0],
		    "unknown action (kill, revive, set, nat, switch, "
		    "terminate, restart, replay, corrupt, hold, drop, crash, "
		    "partition, heal, store, policy)");
		return JV_ERR_PARSE;
	}
	a->kind = (enum sim_act_kind)k;

	if (a->kind == SIM_ACT_RESTART && n == 2 &&
	    (a->node = sim_node_from_name(tok[1])) >= 0) {
		a->side = SIM_GATEWAY;
		return 0;
	}
	if (a->kind == SIM_ACT_TERMINATE || a->kind == SIM_ACT_RESTART) {
		if (n != 2 || (a->side = sim_side_from_name(tok[1])) < 0 ||
		    (a->kind == SIM_ACT_RESTART && a->side != SIM_CLIENT)) {
			err(p, p->line, tok[0], value,
			    a->kind == SIM_ACT_RESTART ?
			    "expected: restart client|gw1|gw2" :
			    "expected: terminate client|gateway");
			return JV_ERR_PARSE;
		}
		return 0;
	}
	if (a->kind == SIM_ACT_POLICY)
		return parse_policy_action(p, a, tok, n, value);
	if (a->kind == SIM_ACT_CRASH || a->kind == SIM_ACT_PARTITION ||
	    a->kind == SIM_ACT_HEAL) {
		bool store_word = a->kind != SIM_ACT_CRASH;

		if (n != 2u + store_word ||
		    (a->node = sim_node_from_name(tok[1])) < 0 ||
		    (store_word && strcmp(tok[2], "store"))) {
			err(p, p->line, tok[0], value, "expected: %s gw1|gw2%s",
			    tok[0], store_word ? " store" : "");
			return JV_ERR_PARSE;
		}
		a->fault = a->kind != SIM_ACT_HEAL;
		return 0;
	}
	if (n < 2 || !valid_name(tok[1])) {
		err(p, p->line, tok[0], value,
		    "expected a transport name after %s", tok[0]);
		return JV_ERR_PARSE;
	}
	scopy(nm->path, sizeof nm->path, tok[1]);
	i = 2;
	switch (a->kind) {
	case SIM_ACT_KILL:
		a->fault = true;
		if (n < 3 || (strcmp(tok[2], "hard") && strcmp(tok[2], "silent"))) {
			err(p, p->line, "kill", value,
			    "expected: kill PATH hard|silent [up|down] (hard: "
			    "the client's socket sees the failure)");
			return JV_ERR_PARSE;
		}
		a->hard = tok[2][0] == 'h';
		i = 3;
		/* fall through */
	case SIM_ACT_REVIVE:
		if (i < n && parse_dirs(tok[i], &a->dirs) == 0)
			i++;
		break;
	case SIM_ACT_SET:
		a->fault = true;
		for (; i < n; i++) {
			struct sim_link_params scratch;
			struct sim_set *s;
			struct jv_diag d;
			char *eq = strchr(tok[i], '=');
			const char *key = tok[i];

			if (!eq || a->nset == SIM_SET_MAX) {
				err(p, p->line, "set", tok[i],
				    "expected up to %d KEY=VALUE", SIM_SET_MAX);
				return JV_ERR_PARSE;
			}
			*eq = '\0';
			s = &a->set[a->nset++];
			s->dirs = SIM_DIR_BOTH;
			if (!strncmp(key, "up.", 3)) {
				s->dirs = SIM_DIR_UP;
				key += 3;
			} else if (!strncmp(key, "down.", 5)) {
				s->dirs = SIM_DIR_DOWN;
				key += 5;
			}
			scopy(s->key, sizeof s->key, key);
			scopy(s->value, sizeof s->value, eq + 1);
			/* Validate now, so the error has its line. */
			sim_link_params_default(&scratch);
			jv_diag_clear(&d);
			jv_diag_file(&d, p->sc->file);
			d.line = p->line;
			int r = sim_link_param_set(&scratch, s->key, s->value,
						   &d);
			if (r == JV_ERR_NOTFOUND) {
				err(p, p->line, "set", key,
				    "unknown link parameter");
				return JV_ERR_PARSE;
			}
			if (r) {
				err_diag(p, &d);
				return JV_ERR_PARSE;
			}
		}
		if (a->nset == 0) {
			err(p, p->line, "set", value,
			    "expected: set PATH KEY=VALUE...");
			return JV_ERR_PARSE;
		}
		return 0;
	case SIM_ACT_NAT:
		a->fault = true;
		if (i < n) {
			if (sim_addr_parse(tok[i], &a->addr)) {
				err(p, p->line, "nat", tok[i],
				    "expected an address a.b.c.d:port");
				return JV_ERR_PARSE;
			}
			a->has_addr = true;
			i++;
		}
		break;
	case SIM_ACT_SWITCH:
		a->fault = true;
		break;
	case SIM_ACT_REPLAY:
	case SIM_ACT_CORRUPT:
	case SIM_ACT_HOLD:
	case SIM_ACT_DROP:
		a->fault = true;
		if (n < 3 || parse_dirs(tok[2], &a->dirs)) {
			err(p, p->line, tok[0], value,
			    "expected: %s PATH up|down [OPTION=VALUE]...",
			    tok[0]);
			return JV_ERR_PARSE;
		}
		for (i = 3; i < n; i++)
			if (attacker_option(p, a, nm, tok[i]))
				return JV_ERR_PARSE;
		if (a->kind == SIM_ACT_CORRUPT && a->flip == -1)
			a->flip = -2;
		return 0;
	default:
		break;
	}
	if (i != n) {
		err(p, p->line, tok[0], tok[i], "unexpected word");
		return JV_ERR_PARSE;
	}
	return 0;
}

/* "at T" or "every P from A to B" */
static void timeline_key(struct parse *p, const char *key, const char *v)
{
	char buf[128], *tok[8];
	unsigned n = 0;
	uint64_t at = 0, every = 0, from = 0, to = 0;
	const uint64_t tmax = 7ull * 24 * 3600 * 1000;
	struct sim_action proto_action;
	struct pending_names proto_names;

	scopy(buf, sizeof buf, key);
	for (char *t = strtok(buf, " \t"); t && n < 8; t = strtok(NULL, " \t"))
		tok[n++] = t;
	if (n == 2 && !strcmp(tok[0], "at") && !parse_u64(tok[1], tmax, &at)) {
		from = to = at;
		every = 1;
	} else if (n == 6 && !strcmp(tok[0], "every") &&
		   !parse_u64(tok[1], tmax, &every) && every > 0 &&
		   !strcmp(tok[2], "from") && !parse_u64(tok[3], tmax, &from) &&
		   !strcmp(tok[4], "to") && !parse_u64(tok[5], tmax, &to) &&
		   from <= to) {
		/* ok */
	} else {
		err(p, p->line, key, NULL,
		    "timeline key must be `at MS` or `every MS from MS to MS`");
		return;
	}
	memset(&proto_names, 0, sizeof proto_names);
	if (parse_action(p, &proto_action, &proto_names, v))
		return;
	for (uint64_t t = from; t <= to; t += every) {
		struct sim_action *a = new_action(p);

		if (!a) {
			if (!p->nomem)
				err(p, p->line, key, NULL,
				    "too many timeline actions (max %d after "
				    "expanding every)", SIM_ACTIONS_MAX);
			return;
		}
		*a = proto_action;
		a->at = t;
		p->names[p->sc->nactions - 1] = proto_names;
	}
}

/* ---- [Policy] ----------------------------------------------------------- */

static void policy_key(struct parse *p, const char *key, const char *v)
{
	struct policy_line *pl;

	if (p->npolicy == POLICY_LINES_MAX) {
		err(p, p->line, key, NULL, "too many policy lines (max %d)",
		    POLICY_LINES_MAX);
		return;
	}
	pl = &p->policy[p->npolicy++];
	scopy(pl->key, sizeof pl->key, key);
	scopy(pl->value, sizeof pl->value, v);
	pl->line = p->line;
	pl->scope = p->scope;
	for (unsigned i = 0; i + 1 < p->npolicy; i++)
		if (p->policy[i].scope == pl->scope &&
		    !strcmp(p->policy[i].key, key)) {
			err(p, p->line, key, NULL, "already set at line %u",
			    p->policy[i].line);
			p->npolicy--;
			return;
		}
}

/* Feed one side's policy: shared lines not overridden, then its own.
 * Returns 0 or the reader's error code with d filled. */
static int build_policy(struct parse *p, int side, struct jv_diag *d)
{
	struct jv_policy_ini st;
	bool has_profile = false, has_version = false;
	int r = 0;

	jv_diag_clear(d);
	jv_diag_file(d, p->sc->file);
	jv_policy_ini_init(&st);
	for (unsigned i = 0; i < p->npolicy; i++) {
		const struct policy_line *pl = &p->policy[i];

		if (pl->scope != -1 && pl->scope != side)
			continue;
		has_profile |= !strcmp(pl->key, "profile");
		has_version |= !strcmp(pl->key, "version");
	}
	/* A scenario states only what differs: it starts from the default
	 * profile and version "1.0" unless it names them. */
	if (!has_profile)
		r = jv_policy_ini_line(&st, "profile", "default", 0, d);
	if (!r && !has_version)
		r = jv_policy_ini_line(&st, "version", "1.0", 0, d);
	for (unsigned i = 0; !r && i < p->npolicy; i++) {
		const struct policy_line *pl = &p->policy[i];
		bool overridden = false;

		if (pl->scope == -1) {
			for (unsigned j = 0; j < p->npolicy; j++)
				overridden |= p->policy[j].scope == side &&
					      !strcmp(p->policy[j].key,
						      pl->key);
		} else if (pl->scope != side) {
			continue;
		}
		if (!overridden)
			r = jv_policy_ini_line(&st, pl->key, pl->value,
					       pl->line, d);
	}
	if (!r)
		r = jv_policy_ini_finish(&st, &p->sc->policy[side], d);
	jv_diag_file(d, p->sc->file);
	return r;
}

static void prefix_key(struct jv_diag *d, const char *prefix)
{
	char tmp[sizeof d->key];
	size_t n = strlen(prefix);

	memcpy(tmp, d->key, sizeof tmp);
	if (n >= sizeof d->key)
		return;
	memcpy(d->key, prefix, n);
	memcpy(d->key + n, tmp, sizeof d->key - n - 1);
	d->key[sizeof d->key - 1] = '\0';
}

static void build_policies(struct parse *p)
{
	struct jv_diag dc, dg;
	int rc = build_policy(p, SIM_CLIENT, &dc);
	int rg = build_policy(p, SIM_GATEWAY, &dg);

	if (rc) {
		if (dc.line == 0)
			prefix_key(&dc, "[Policy client] ");
		err_diag(p, &dc);
	}
	/* A shared line fails on both sides: say it once. */
	if (rg && (!rc || dg.line != dc.line || strcmp(dg.msg, dc.msg))) {
		if (dg.line == 0)
			prefix_key(&dg, "[Policy gateway] ");
		err_diag(p, &dg);
	}
}

/* ---- handler and driver ------------------------------------------------- */

static int handler(void *user, const char *section, const char *name,
		   const char *value)
{
	struct parse *p = user;
	struct sim_scenario *sc = p->sc;

	(void)section;	/* the reader tracks sections, with line numbers */
	switch (p->sec) {
	case SEC_SCENARIO:
		scenario_key(p, name, value);
		break;
	case SEC_POLICY:
		policy_key(p, name, value);
		break;
	case SEC_GATEWAY:
		gateway_key(p, name, value);
		break;
	case SEC_STORE:
		store_key(p, name, value);
		break;
	case SEC_TRANSPORT:
		transport_key(p, name, value);
		break;
	case SEC_TRAFFIC:
		traffic_key(p, name, value);
		break;
	case SEC_TIMELINE:
		timeline_key(p, name, value);
		break;
	case SEC_EXPECT: {
		struct jv_diag d;

		if (sc->nexpects == SIM_EXPECTS_MAX) {
			err(p, p->line, name, NULL,
			    "too many expectations (max %d)",
			    SIM_EXPECTS_MAX);
			break;
		}
		jv_diag_clear(&d);
		if (sim_expect_parse(&sc->expects[sc->nexpects], name, value,
				     p->line, &d))
			err_diag(p, &d);
		else
			sc->nexpects++;
		break;
	}
	case SEC_NONE:
	case SEC_UNKNOWN:
		break;	/* already reported */
	}
	return 1;
}

static int cmp_action(const void *x, const void *y)
{
	const struct sim_action *a = x, *b = y;

	if (a->at != b->at)
		return a->at < b->at ? -1 : 1;
	/* Same time: file order (the index was stashed in line order). */
	if (a->line != b->line)
		return a->line < b->line ? -1 : 1;
	return 0;
}

static bool names_node(const struct sim_action *a)
{
	switch (a->kind) {
	case SIM_ACT_CRASH:
	case SIM_ACT_PARTITION:
	case SIM_ACT_HEAL:
	case SIM_ACT_STORE_DOWN:
	case SIM_ACT_STORE_UP:
	case SIM_ACT_STORE_CONFLICT:
		return true;
	default:
		return a->node >= 0;	/* restart NODE, replay node= */
	}
}

/* Gateway nodes and the store they share: what names a node needs a
 * [Store]; the node count is the highest node named unless set. */
static void check_store(struct parse *p)
{
	struct sim_scenario *sc = p->sc;
	struct sim_store_cfg *st = &sc->store;
	unsigned want = 1;

	for (unsigned i = 0; i < sc->ntransports; i++) {
		const struct sim_transport *t = &sc->transport[i];

		if (!t->node_line)
			continue;
		if (!st->on)
			err(p, t->node_line, "node", sim_node_name(t->node),
			    "gateway nodes share an ownership store: add a "
			    "[Store] section");
		if ((unsigned)t->node + 1 > want)
			want = (unsigned)t->node + 1;
	}
	for (size_t i = 0; i < sc->nactions; i++) {
		const struct sim_action *a = &sc->actions[i];

		if (!names_node(a))
			continue;
		if (!st->on) {
			err(p, a->line, sim_act_name(a->kind), a->text,
			    "needs a [Store] section (gateway nodes and the "
			    "ownership store they share)");
			break;
		}
		if (a->node >= 0 && (unsigned)a->node + 1 > want)
			want = (unsigned)a->node + 1;
	}
	if (!st->on)
		return;
	if (!p->store_set[3])
		st->nodes = want;
	else if (want > st->nodes)
		err(p, p->store_set[3], "nodes", NULL, "gw%u is named but "
		    "nodes = %u", want, st->nodes);
	if (!p->store_set[2])
		st->renew_ms = st->lease_ms ? (st->lease_ms / 3 ? st->lease_ms /
					       3 : 1) : 1000;
	else if (st->lease_ms && st->renew_ms >= st->lease_ms)
		err(p, p->store_set[2], "renew_ms", NULL, "must be below "
		    "lease_ms (%llu): the lease would lapse between renewals",
		    (unsigned long long)st->lease_ms);
}

/* After the policies: OWNER_LEASE_MS < RECOVERY_WINDOW_MS (spec §4). */
static void check_lease(struct parse *p)
{
	const struct sim_store_cfg *st = &p->sc->store;
	jv_time rw = p->sc->policy[SIM_GATEWAY].recovery_window_ms;

	if (st->on && st->lease_ms && rw && st->lease_ms >= rw)
		err(p, p->store_set[1], "lease_ms", NULL, "must be below the "
		    "gateway's switching.recovery_window_ms (%llu): a "
		    "takeover must fit in one recovery window (spec §4, "
		    "OP-22)", (unsigned long long)rw);
}

static void finish(struct parse *p)
{
	struct sim_scenario *sc = p->sc;

	if (!p->scenario_set[0])
		err(p, 0, "name", NULL, "[Scenario] name is required");
	if (!p->scenario_set[2])
		err(p, 0, "duration_ms", NULL,
		    "[Scenario] duration_ms is required");
	if (sc->ntransports == 0)
		err(p, 0, NULL, NULL, "at least one [Transport NAME] is required");
	for (size_t i = 0; i < sc->nactions; i++) {
		struct sim_action *a = &sc->actions[i];
		struct pending_names *nm = &p->names[i];

		if (nm->path[0]) {
			a->path = sim_scenario_transport(sc, nm->path);
			if (a->path < 0)
				err(p, a->line, act_names[a->kind], nm->path,
				    "no [Transport %s]", nm->path);
		}
		if (nm->from[0]) {
			a->from_path = sim_scenario_transport(sc, nm->from);
			if (a->from_path < 0)
				err(p, a->line, "from", nm->from,
				    "neither an address nor a transport");
		}
		if (p->scenario_set[2] && a->at > sc->duration_ms) {
			err(p, a->line, "at", NULL,
			    "action at %llu is after duration_ms %llu",
			    (unsigned long long)a->at,
			    (unsigned long long)sc->duration_ms);
			break;
		}
	}
	/* Actions expanded from `every` lines: keep same-time ties in file
	 * order (line), which qsort's instability cannot break because
	 * (at, line) is unique except within one line, whose copies all
	 * have different times. */
	if (sc->nactions)
		qsort(sc->actions, sc->nactions, sizeof *sc->actions,
		      cmp_action);
	if (sc->traffic.stop_ms == 0)
		sc->traffic.stop_ms = sc->duration_ms;
	check_store(p);
	build_policies(p);
	check_lease(p);
}

/* File order; file-wide problems (line 0) last.  Stable. */
static void sort_errors(struct sim_errors *errs)
{
	for (unsigned i = 1; i < errs->n; i++) {
		struct jv_diag d = errs->d[i];
		unsigned key = d.line ? d.line : UINT32_MAX, j = i;

		while (j > 0 && (errs->d[j - 1].line ? errs->d[j - 1].line
						     : UINT32_MAX) > key) {
			errs->d[j] = errs->d[j - 1];
			j--;
		}
		errs->d[j] = d;
	}
}

static void defaults(struct sim_scenario *sc, const char *name)
{
	memset(sc, 0, sizeof *sc);
	scopy(sc->file, sizeof sc->file, name ? name : "-");
	sc->seed = 1;
	sc->traffic.packet_bytes = 200;
	sc->traffic.start_ms = 1000;
	sc->traffic.request_bytes = 100;
	sc->traffic.response_bytes = 200;
	sc->traffic.request_timeout_ms = 1000;
}

int sim_scenario_parse(FILE *f, const char *name, struct sim_scenario *sc,
		       struct sim_errors *errs)
{
	struct parse *p;
	int r;

	errs->n = 0;
	defaults(sc, name);
	p = calloc(1, sizeof *p);
	sc->expects = calloc(SIM_EXPECTS_MAX, sizeof *sc->expects);
	if (!p || !sc->expects) {
		free(p);
		sim_scenario_free(sc);
		return JV_ERR_NOMEM;
	}
	p->sc = sc;
	p->errs = errs;
	p->f = f;
	p->cur_transport = -1;
	p->scope = -1;
	r = ini_parse_stream(reader, p, handler, p);
	if (r > 0 && errs->n == 0)
		err(p, (unsigned)r, NULL, NULL, "malformed line");
	else if (r < 0)
		p->nomem = true;
	/* Cross-checks run even after errors, so one pass reports all. */
	if (!p->nomem)
		finish(p);
	sort_errors(errs);
	r = p->nomem ? JV_ERR_NOMEM : errs->n ? JV_ERR_PARSE : 0;
	free(p->names);
	free(p);
	if (r)
		sim_scenario_free(sc);
	return r;
}

int sim_scenario_load(const char *path, struct sim_scenario *sc,
		      struct sim_errors *errs)
{
	FILE *f = fopen(path, "r");
	int r;

	if (!f) {
		errs->n = 1;
		jv_diag_clear(&errs->d[0]);
		jv_diag_file(&errs->d[0], path);
		jv_diag_set(&errs->d[0], 0, NULL, "cannot open: %s",
			    strerror(errno));
		defaults(sc, path);
		return JV_ERR_IO;
	}
	r = sim_scenario_parse(f, path, sc, errs);
	fclose(f);
	return r;
}

int sim_scenario_parse_text(const char *text, const char *name,
			    struct sim_scenario *sc, struct sim_errors *errs)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	int r;

	if (!f) {
		errs->n = 0;
		defaults(sc, name);
		return JV_ERR_NOMEM;
	}
	r = sim_scenario_parse(f, name, sc, errs);
	fclose(f);
	return r;
}

void sim_scenario_free(struct sim_scenario *sc)
{
	free(sc->actions);
	free(sc->expects);
	free(sc->policy_changes);
	sc->actions = NULL;
	sc->expects = NULL;
	sc->policy_changes = NULL;
	sc->nactions = sc->nexpects = sc->npolicy_changes = 0;
}

void sim_errors_print(const struct sim_errors *errs, FILE *out)
{
	char buf[JV_DIAG_TEXT_MAX];

	for (unsigned i = 0; i < errs->n; i++) {
		if (jv_diag_format(&errs->d[i], buf, sizeof buf) < 0 &&
		    buf[0] == '\0')
			snprintf(buf, sizeof buf, "%s: error", errs->d[i].file);
		fprintf(out, "%s\n", buf);
	}
	if (errs->n == SIM_ERRORS_MAX)
		fprintf(out, "(further errors not shown)\n");
}

int sim_scenario_transport(const struct sim_scenario *sc, const char *name)
{
	for (unsigned i = 0; i < sc->ntransports; i++)
		if (!strcmp(sc->transport[i].name, name))
			return (int)i;
	return -1;
}
