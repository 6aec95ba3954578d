/* SPDX-License-Identifier: MIT */
/*
 * jvpn status [--json] [--socket PATH | --config FILE]: the daemon's
 * sessions, states, state_version, active transport, per-transport
 * health and counters, as a table or as the daemon's JSON.
 */

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "daemon/ctl_client.h"

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

	char peer[48] = "";

	/* the client also knows the gateway's version (spec §2.5) */
	if (client)
		snprintf(peer, sizeof peer, " (gateway's %lld)",
			 (long long)num(s, "peer_state_version"));
	printf("%ssession %s  %s  state_version %lld%s  bound %s\n",
	       indent, str(s, "session_id")[0] ? str(s, "session_id") : "(handshake pending)",
	       str(s, "state"), (long long)num(s, "state_version"), peer,
	       json_is_string(json_object_get(s, "bound_transport")) ?
	       str(s, "bound_transport") : "(none)");
	printf("%s  switches %lld  key epoch %lld  tx %lld B  rx %lld B\n",
	       indent, (long long)num(s, "total_switches"),
	       (long long)num(s, "key_epoch"), (long long)num(s, "tx_bytes"),
	       (long long)num(s, "rx_bytes"));
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

	printf("interface %s (%s)  node %s  pid %lld  up %.1f s  policy %s %s\n",
	       str(r, "interface"), str(r, "role"), str(r, "node_id"),
	       (long long)num(r, "pid"), (double)num(r, "uptime_ms") / 1000.0,
	       str(pol, "profile"), str(pol, "version"));
	if (json_object_get(r, "session")) {
		const json_t *s = json_object_get(r, "session");

		print_session(s, "", true);
		if (num(s, "handshakes_unanswered") > 0)
			printf("handshake: %lld initiations unanswered (a key that is no [Peer] of the gateway, or the wrong gateway PublicKey: see the log)\n",
			       (long long)num(s, "handshakes_unanswered"));
	} else {
		const json_t *h = json_object_get(r, "handshakes");

		if (num(h, "bad_mac1") || num(h, "unknown_key"))
			printf("handshakes refused: %lld with a wrong mac1 (the client has another PublicKey for us), %lld with a key that is no [Peer]\n",
			       (long long)num(h, "bad_mac1"),
			       (long long)num(h, "unknown_key"));
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

int cmd_status(int argc, char **argv)
{
	const char *sock = NULL, *config = NULL;
	struct jv_ctl_client c;
	bool as_json = false;
	char why[512];
	json_t *r;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			as_json = true;
		else if (!strcmp(argv[i], "--socket") && i + 1 < argc)
			sock = argv[++i];
		else if (!strcmp(argv[i], "--config") && i + 1 < argc)
			config = argv[++i];
		else {
			fprintf(stderr, "usage: jvpn status [--json] [--socket PATH | --config FILE]\n");
			return 2;
		}
	}
	if (jv_ctl_ask(sock, config, "status", &c, &r, why, sizeof why)) {
		fprintf(stderr, "jvpn status: %s\n", why);
		return 1;
	}
	jv_ctl_client_close(&c);
	if (!json_is_true(json_object_get(r, "ok"))) {
		fprintf(stderr, "jvpn status: %s\n", str(r, "error"));
		json_decref(r);
		return 1;
	}
	if (as_json) {
		json_object_del(r, "ok");
		json_dumpf(r, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		printf("\n");
	} else {
		print_text(r);
	}
	json_decref(r);
	return 0;
}
