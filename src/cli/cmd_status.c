/* SPDX-License-Identifier: MIT */
/*
 * jvpn status [IFACE] [--json] [--socket PATH | --config FILE] [--dir DIR]:
 * the daemon's sessions, states, state_version, active transport,
 * per-transport health and counters, as a table or as the daemon's JSON;
 * with no IFACE, socket or config, every daemon of the run directory
 * (daemons.h).
 */

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "daemons.h"
#include "human.h"

static json_int_t num(const json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

static const char *str(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "-";
}

static void print_session(const json_t *s, const char *indent, bool client)
{
	const json_t *paths = json_object_get(s, "transports");
	size_t i;
	json_t *p;

	char peer[48] = "", tx[HUMAN_MAX], rx[HUMAN_MAX], age[HUMAN_MAX];

	/* the client also knows the gateway's version (spec §2.5) */
	if (client)
		snprintf(peer, sizeof peer, " (gateway's %lld)",
			 (long long)num(s, "peer_state_version"));
	if (json_is_integer(json_object_get(s, "latest_packet_age_ms"))) {
		char d[HUMAN_MAX];

		snprintf(age, sizeof age, "%s ago", human_duration(
			 (uint64_t)num(s, "latest_packet_age_ms"), 2, d));
	} else {
		snprintf(age, sizeof age, "never");
	}
	printf("%ssession %s  %s  state_version %lld%s  bound %s\n",
	       indent, str(s, "session_id")[0] ? str(s, "session_id") : "(handshake pending)",
	       str(s, "state"), (long long)num(s, "state_version"), peer,
	       json_is_string(json_object_get(s, "bound_transport")) ?
	       str(s, "bound_transport") : "(none)");
	printf("%s  switches %lld  key epoch %lld  tx %s  rx %s  latest packet %s\n",
	       indent, (long long)num(s, "total_switches"),
	       (long long)num(s, "key_epoch"),
	       human_bytes((uint64_t)num(s, "tx_bytes"), tx),
	       human_bytes((uint64_t)num(s, "rx_bytes"), rx), age);
	if (!json_array_size(paths))
		return;
	printf("%s  %-22s %-8s %7s %7s %6s %5s %9s %9s  %s\n", indent,
	       "transport", "role", "srtt", "p95", "loss", "drops", "tx", "rx",
	       "endpoint");
	json_array_foreach(paths, i, p) {
		const json_t *loss = json_object_get(p, "loss_ratio");
		char l[16];

		if (json_is_number(loss))
			snprintf(l, sizeof l, "%.2f", json_number_value(loss));
		else
			snprintf(l, sizeof l, "-");
		printf("%s  %-22s %-8s %4lld ms %4lld ms %6s %5lld %9lld %9lld  %s%s\n",
		       indent, str(p, "name"), str(p, "role"),
		       (long long)num(p, "srtt_ms"), (long long)num(p, "p95_ms"),
		       l, (long long)num(p, "consecutive_drops"),
		       (long long)num(p, "tx_packets"),
		       (long long)num(p, "rx_packets"),
		       json_object_get(p, "endpoint") ? str(p, "endpoint") : "",
		       json_is_true(json_object_get(p, "os_down")) ?
		       "  (socket error: retrying)" : "");
	}
}

static void print_text(const json_t *r)
{
	const json_t *c = json_object_get(r, "counters");
	const json_t *ev = json_object_get(r, "event_log");
	const json_t *pol = json_object_get(r, "policy");
	char up[HUMAN_MAX];

	printf("interface %s (%s)  node %s  pid %lld  up %s  policy %s %s\n",
	       str(r, "interface"), str(r, "role"), str(r, "node_id"),
	       (long long)num(r, "pid"),
	       human_duration((uint64_t)num(r, "uptime_ms"), 0, up),
	       str(pol, "profile"), str(pol, "version"));
	if (json_object_get(r, "session")) {
		const json_t *s = json_object_get(r, "session");

		print_session(s, "", true);
		if (num(s, "handshakes_unanswered") > 0)
			printf("handshake: %lld initiations unanswered (a key that is no [Peer] of the gateway, or the wrong gateway PublicKey: see the log)\n",
			       (long long)num(s, "handshakes_unanswered"));
	} else {
		const json_t *h = json_object_get(r, "handshakes");

		const json_t *dr = json_object_get(r, "dropped");

		if (num(h, "bad_mac1") || num(h, "unknown_key"))
			printf("handshakes refused: %lld with a wrong mac1 (the client has another PublicKey for us), %lld with a key that is no [Peer]\n",
			       (long long)num(h, "bad_mac1"),
			       (long long)num(h, "unknown_key"));
		if (json_is_object(dr))
			printf("datagrams dropped: unknown index %lld, session ended %lld, failed to open %lld, replay %lld, rate limited %lld, unparsable %lld\n",
			       (long long)num(dr, "unknown_index"),
			       (long long)num(dr, "session_ended"),
			       (long long)num(dr, "failed_open"),
			       (long long)num(dr, "replay"),
			       (long long)num(dr, "rate_limited"),
			       (long long)num(dr, "parse"));
		size_t i;
		json_t *p;

		json_array_foreach(json_object_get(r, "peers"), i, p) {
			const json_t *s = json_object_get(p, "session");
			size_t k;
			json_t *a;

			printf("peer %s  allowed", str(p, "public_key"));
			json_array_foreach(json_object_get(p, "allowed_ips"), k, a)
				printf(" %s", json_string_value(a));
			printf("\n");
			if (json_is_object(s))
				print_session(s, "  ", false);
			else
				printf("  (no session)\n");
		}
	}
	printf("counters: tun rx %lld tx %lld (dropped %lld), udp rx %lld tx %lld (dropped %lld), no session %lld, no route %lld, bad source %lld\n",
	       (long long)num(c, "tun_rx"), (long long)num(c, "tun_tx"),
	       (long long)num(c, "tun_tx_dropped"), (long long)num(c, "udp_rx"),
	       (long long)num(c, "udp_tx"), (long long)num(c, "udp_tx_dropped"),
	       (long long)num(c, "no_session"), (long long)num(c, "no_route"),
	       (long long)num(c, "bad_source"));
	printf("event log: %s (%lld lines, %lld write failures)\n",
	       json_is_string(json_object_get(ev, "path")) ? str(ev, "path") : "off",
	       (long long)num(ev, "lines"), (long long)num(ev, "sink_failures"));
}

struct status {
	bool json;
	bool many;			/* no target named: every daemon */
	unsigned n;
	json_t *all;
};

static void on_status(void *ud, const char *sock, json_t *r)
{
	struct status *s = ud;

	(void)sock;
	if (s->json && s->many) {
		json_array_append(s->all, r);
	} else if (s->json) {
		json_dumpf(r, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		printf("\n");
	} else {
		if (s->n++)
			printf("\n");
		print_text(r);
	}
}

static int usage(FILE *f)
{
	fprintf(f, "usage: jvpn status [IFACE] [--json] [--socket PATH | --config FILE] [--dir DIR]\n");
	return f == stdout ? 0 : 2;
}

int cmd_status(int argc, char **argv)
{
	struct daemons t = { 0 };
	struct status s = { 0 };
	unsigned n;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			s.json = true;
			continue;
		}
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return usage(stdout);
		rc = daemons_arg("jvpn status", &t, argc, argv, &i);
		if (rc < 0)
			return 2;
		if (rc == 0) {
			fprintf(stderr, "jvpn status: unknown argument '%s'\n",
				argv[i]);
			return usage(stderr);
		}
	}
	/* one daemon named: its object, as before; all of them: a list */
	s.many = !t.iface && !t.sock && !t.config;
	s.all = json_array();
	if (!s.all) {
		fprintf(stderr, "jvpn status: out of memory\n");
		return 1;
	}
	rc = daemons_status("jvpn status", &t, on_status, &s, &n);
	if (s.json && s.many && n) {
		json_t *o = json_pack("{s:o}", "interfaces", s.all);

		json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		printf("\n");
		json_decref(o);
	} else {
		json_decref(s.all);
	}
	return rc;
}
