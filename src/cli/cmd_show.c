/* SPDX-License-Identifier: MIT */
/*
 * jvpn show [IFACE] [--json] [--socket PATH | --config FILE] [--dir DIR]:
 * every running interface (or the one named), like `wg show`: the
 * interface, then per peer its key, endpoint, allowed IPs, session and
 * state, bound transport, when it was last heard, the last switch and
 * why, and the transfer, in units a person reads.  --json gives the same
 * for scripts: each field raw (bytes, milliseconds) and as shown (the
 * field names are listed in docs/operations.md).
 */

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "daemons.h"
#include "human.h"

static const char *str(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

static uint64_t num(const json_t *o, const char *k)
{
	json_int_t v = json_integer_value(json_object_get(o, k));

	return v > 0 ? (uint64_t)v : 0;
}

static void set_str(json_t *o, const char *k, const char *v)
{
	json_object_set_new(o, k, v ? json_string(v) : json_null());
}

/* "3 seconds ago" / "never". */
static const char *ago(const json_t *age, char out[HUMAN_MAX])
{
	char d[HUMAN_MAX];

	if (!json_is_integer(age))
		return "never";
	snprintf(out, HUMAN_MAX, "%s ago",
		 human_duration((uint64_t)json_integer_value(age), 2, d));
	return out;
}

/*
 * One peer as `show` presents it, built from the daemon's peer (public
 * key, allowed IPs) and session objects: what the text prints and what
 * --json gives.
 */
static json_t *peer_view(const json_t *peer, const json_t *s)
{
	json_t *v = json_object();
	const json_t *sw = json_object_get(s, "last_switch");
	json_t *ips = json_object_get(peer, "allowed_ips");
	char a[HUMAN_MAX], b[HUMAN_MAX], t[3 * HUMAN_MAX + 96];

	if (!v)
		return NULL;
	set_str(v, "public_key", str(peer, "public_key"));
	json_object_set_new(v, "allowed_ips", ips ? json_incref(ips) :
			    json_array());
	if (!json_is_object(s) || !str(s, "session_id")[0]) {
		json_object_set_new(v, "session_id", json_null());
		json_object_set_new(v, "state", json_null());
		/* a client's initiations nothing answered (a wrong key) */
		if (json_is_integer(json_object_get(s, "handshakes_unanswered")))
			json_object_set_new(v, "handshakes_unanswered", json_integer(
				(json_int_t)num(s, "handshakes_unanswered")));
		return v;
	}
	json_object_set(v, "endpoint", json_object_get(s, "endpoint"));
	set_str(v, "session_id", str(s, "session_id"));
	set_str(v, "state", str(s, "state"));
	json_object_set(v, "transport", json_object_get(s, "bound_transport"));
	json_object_set(v, "latest_packet_ms",
			json_object_get(s, "latest_packet_ms"));
	json_object_set(v, "latest_packet_age_ms",
			json_object_get(s, "latest_packet_age_ms"));
	set_str(v, "latest_packet",
		ago(json_object_get(s, "latest_packet_age_ms"), a));
	if (json_is_object(sw)) {
		json_t *c = json_deep_copy(sw);

		snprintf(t, sizeof t, "%s, %s -> %s (%s)",
			 ago(json_object_get(sw, "age_ms"), a),
			 json_is_string(json_object_get(sw, "from")) ?
			 str(sw, "from") : "(none)", str(sw, "to"),
			 json_is_string(json_object_get(sw, "reason")) ?
			 str(sw, "reason") : "?");
		set_str(c, "text", t);
		json_object_set_new(v, "last_switch", c);
	} else {
		json_object_set_new(v, "last_switch", json_null());
	}
	json_object_set_new(v, "total_switches",
			    json_integer((json_int_t)num(s, "total_switches")));
	json_object_set_new(v, "rx_bytes",
			    json_integer((json_int_t)num(s, "rx_bytes")));
	json_object_set_new(v, "tx_bytes",
			    json_integer((json_int_t)num(s, "tx_bytes")));
	set_str(v, "received", human_bytes(num(s, "rx_bytes"), a));
	set_str(v, "sent", human_bytes(num(s, "tx_bytes"), b));
	snprintf(t, sizeof t, "%s received, %s sent", a, b);
	set_str(v, "transfer", t);
	return v;
}

/* The interface as `show` presents it (see peer_view). */
static json_t *iface_view(const json_t *r)
{
	json_t *v = json_object(), *peers = json_array();
	const json_t *pol = json_object_get(r, "policy");
	char d[HUMAN_MAX];
	size_t i;
	json_t *p;

	if (!v || !peers) {
		json_decref(v);
		json_decref(peers);
		return NULL;
	}
	set_str(v, "interface", str(r, "interface"));
	set_str(v, "role", str(r, "role"));
	json_object_set(v, "public_key", json_object_get(r, "public_key"));
	json_object_set(v, "listen_ports", json_object_get(r, "listen_ports"));
	set_str(v, "node_id", str(r, "node_id"));
	set_str(v, "policy", str(pol, "profile"));
	set_str(v, "policy_version", str(pol, "version"));
	json_object_set(v, "pid", json_object_get(r, "pid"));
	json_object_set(v, "uptime_ms", json_object_get(r, "uptime_ms"));
	set_str(v, "uptime", human_duration(num(r, "uptime_ms"), 0, d));
	if (json_object_get(r, "session")) {
		json_array_append_new(peers,
			peer_view(json_object_get(r, "peer"),
				  json_object_get(r, "session")));
	} else {
		json_array_foreach(json_object_get(r, "peers"), i, p)
			json_array_append_new(peers,
				peer_view(p, json_object_get(p, "session")));
	}
	json_object_set_new(v, "peer_count",
			    json_integer((json_int_t)json_array_size(peers)));
	set_str(v, "peers_text", human_count(json_array_size(peers), "peer",
					     "peers", d));
	json_object_set_new(v, "peers", peers);
	return v;
}

static void print_iface(const json_t *v)
{
	const json_t *ports = json_object_get(v, "listen_ports");
	size_t i;
	json_t *p;

	printf("interface: %s (%s, %s)\n", str(v, "interface"), str(v, "role"),
	       str(v, "peers_text"));
	printf("  public key: %s\n", str(v, "public_key"));
	printf("  listening port%s:", json_array_size(ports) == 1 ? "" : "s");
	json_array_foreach(ports, i, p)
		printf("%s %lld", i ? "," : "", (long long)json_integer_value(p));
	printf("%s\n", json_array_size(ports) ? "" : " (none)");
	printf("  node: %s, policy %s %s, pid %lld\n", str(v, "node_id"),
	       str(v, "policy"), str(v, "policy_version"),
	       (long long)json_integer_value(json_object_get(v, "pid")));
	printf("  uptime: %s\n", str(v, "uptime"));
	json_array_foreach(json_object_get(v, "peers"), i, p) {
		const json_t *sw = json_object_get(p, "last_switch");
		size_t k;
		json_t *a;

		printf("\npeer: %s\n", str(p, "public_key"));
		if (json_is_string(json_object_get(p, "endpoint")))
			printf("  endpoint: %s\n", str(p, "endpoint"));
		printf("  allowed ips:");
		json_array_foreach(json_object_get(p, "allowed_ips"), k, a)
			printf("%s %s", k ? "," : "", json_string_value(a));
		printf("%s\n", json_array_size(json_object_get(p, "allowed_ips")) ?
		       "" : " (none)");
		if (!json_is_string(json_object_get(p, "session_id"))) {
			/* a client's peer is the gateway it is shaking hands
			 * with; a gateway's, a client that is not connected */
			uint64_t n = num(p, "handshakes_unanswered");

			if (strcmp(str(v, "role"), "client"))
				printf("  session: none\n");
			else if (n)
				printf("  session: none (handshake pending: %llu initiation%s unanswered)\n",
				       (unsigned long long)n, n == 1 ? "" : "s");
			else
				printf("  session: none (handshake pending)\n");
			continue;
		}
		printf("  session: %s (%s)\n", str(p, "session_id"),
		       str(p, "state"));
		printf("  transport: %s\n",
		       json_is_string(json_object_get(p, "transport")) ?
		       str(p, "transport") : "(none)");
		printf("  latest packet: %s\n", str(p, "latest_packet"));
		if (json_is_object(sw))
			printf("  last switch: %s\n", str(sw, "text"));
		printf("  transfer: %s\n", str(p, "transfer"));
	}
}

struct show {
	bool json;
	unsigned n;
	json_t *all;
};

static void on_status(void *ud, const char *sock, json_t *r)
{
	struct show *s = ud;
	json_t *v = iface_view(r);

	(void)sock;
	if (!v)
		return;
	if (s->json) {
		json_array_append_new(s->all, v);
		return;
	}
	if (s->n++)
		printf("\n");
	print_iface(v);
	json_decref(v);
}

static int usage(FILE *f)
{
	fprintf(f, "usage: jvpn show [IFACE] [--json] [--socket PATH | --config FILE] [--dir DIR]\n");
	return f == stdout ? 0 : 2;
}

int cmd_show(int argc, char **argv)
{
	struct daemons t = { 0 };
	struct show s = { 0 };
	unsigned n;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			s.json = true;
			continue;
		}
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return usage(stdout);
		rc = daemons_arg("jvpn show", &t, argc, argv, &i);
		if (rc < 0)
			return 2;
		if (rc == 0) {
			fprintf(stderr, "jvpn show: unknown argument '%s'\n", argv[i]);
			return usage(stderr);
		}
	}
	s.all = json_array();
	if (!s.all) {
		fprintf(stderr, "jvpn show: out of memory\n");
		return 1;
	}
	rc = daemons_status("jvpn show", &t, on_status, &s, &n);
	if (s.json && n) {
		json_t *o = json_pack("{s:o}", "interfaces", s.all);

		json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		printf("\n");
		json_decref(o);
	} else {
		json_decref(s.all);
	}
	return rc;
}
