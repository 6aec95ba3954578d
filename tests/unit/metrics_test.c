/* SPDX-License-Identifier: MIT */
/*
 * The metrics text (src/daemon/metrics_render.c, prom.c): label values
 * escaped, every family's HELP and TYPE exactly once and before its
 * samples (all of which follow it together), the state one-hot, seconds
 * and ratios in base units, an undefined loss left out; and which
 * requests the endpoint serves (mx_route).
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/metrics.h"
#include "daemon/prom.h"

static void label_values_escaped(void **st)
{
	(void)st;
	struct prom_buf b = { 0 };
	struct prom_label l[] = { { "peer", "a\"b\\c\nd" }, { NULL, "x" },
				  { "t", "plain" } };

	prom_family(&b, "jvpn_x_total", "counter", "Help with \\ and\nnewline.");
	prom_u64(&b, l, 3, 7);
	assert_false(b.oom);
	assert_string_equal(b.p,
			    "# HELP jvpn_x_total Help with \\\\ and\\nnewline.\n"
			    "# TYPE jvpn_x_total counter\n"
			    "jvpn_x_total{peer=\"a\\\"b\\\\c\\nd\",t=\"plain\"} 7\n");
	prom_buf_free(&b);
}

static void floats_in_base_units(void **st)
{
	(void)st;
	struct prom_buf b = { 0 };

	prom_family(&b, "g", "gauge", "h");
	prom_f64(&b, NULL, 0, 0.012);
	prom_f64(&b, NULL, 0, 0.25);
	assert_non_null(strstr(b.p, "\ng 0.012\ng 0.25\n"));
	prom_buf_free(&b);
}

/* A gateway with two peers: one ATTACHED on two transports (the second
 * with too few samples for a loss), one without a session. */
static char *render(bool gateway)
{
	static struct mx_peer peers[2];
	struct mx_snapshot s;
	struct prom_buf b = { 0 };

	memset(peers, 0, sizeof peers);
	memset(&s, 0, sizeof s);
	snprintf(peers[0].key, sizeof peers[0].key, "%s",
		 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+/8=");
	peers[0].has_session = true;
	peers[0].st.state = JV_STATE_ATTACHED;
	peers[0].st.rx_bytes = 1000;
	peers[0].st.tx_bytes = 2000;
	peers[0].st.npaths = 2;
	snprintf(peers[0].st.paths[0].id, JV_TRANSPORT_ID_MAX, "udp:10.0.1.2:1");
	peers[0].st.paths[0].role = JV_PATH_BOUND;
	peers[0].st.paths[0].srtt_ms = 12;
	peers[0].st.paths[0].p95_ms = 30;
	peers[0].st.paths[0].loss_ratio = 0.25;
	snprintf(peers[0].st.paths[1].id, JV_TRANSPORT_ID_MAX, "udp:10.0.2.2:2");
	peers[0].st.paths[1].role = JV_PATH_DEAD;
	peers[0].st.paths[1].loss_ratio = -1;
	peers[0].switches[MX_FORCED] = 3;
	snprintf(peers[1].key, sizeof peers[1].key, "%s",
		 "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB=");
	s.ifname = "jv0";
	s.node_id = "gw-1";
	s.gateway = gateway;
	s.npeers = 2;
	s.peers = peers;
	s.gw.dropped_unknown = 5;
	s.gw.dropped_ended = 2;
	s.gw.hs_bad_mac1 = 4;
	s.gw.hs_dropped_noise = 7;
	s.gw.hs_unknown_key = 5;
	s.reattach[MX_DENIED][JV_REASON_REPLAY_DETECTED + 1] = 2;
	mx_render(&s, &b);
	assert_false(b.oom);
	return b.p;
}

/* The family a sample line belongs to: its name up to '{' or ' '. */
static void sample_name(const char *line, char *out, size_t cap)
{
	size_t n = strcspn(line, "{ ");

	assert_true(n < cap);
	memcpy(out, line, n);
	out[n] = '\0';
}

static void check_families(char *text)
{
	char seen[128][64];
	unsigned nseen = 0;
	char cur[64] = "";
	char *save = NULL;
	bool want_type = false;

	for (char *line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char name[64];

		if (!strncmp(line, "# HELP ", 7)) {
			sample_name(line + 7, name, sizeof name);
			for (unsigned i = 0; i < nseen; i++)
				assert_string_not_equal(seen[i], name);
			assert_true(nseen < 128);
			snprintf(seen[nseen++], 64, "%s", name);
			snprintf(cur, sizeof cur, "%s", name);
			want_type = true;
			continue;
		}
		if (!strncmp(line, "# TYPE ", 7)) {
			assert_true(want_type);
			sample_name(line + 7, name, sizeof name);
			assert_string_equal(name, cur);
			want_type = false;
			continue;
		}
		assert_false(want_type);
		sample_name(line, name, sizeof name);
		assert_string_equal(name, cur);	/* a sample of this family */
	}
	assert_true(nseen > 20);
	free(text);
}

static void help_and_type_once_per_family(void **st)
{
	(void)st;
	check_families(render(true));
	check_families(render(false));
}

static void values(void **st)
{
	(void)st;
	char *t = render(true), *c = render(false);
	const char *k = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+/8=";
	char want[512];

#define HAS(...)                                                         \
	do {                                                             \
		snprintf(want, sizeof want, __VA_ARGS__);                \
		if (!strstr(t, want))                                    \
			fail_msg("missing: %s", want);                   \
	} while (0)
	HAS("jvpn_peer_state{interface=\"jv0\",peer=\"%s\",state=\"ATTACHED\"} 1\n", k);
	HAS("jvpn_peer_state{interface=\"jv0\",peer=\"%s\",state=\"BIRTH\"} 0\n", k);
	HAS("jvpn_sessions{interface=\"jv0\",state=\"ATTACHED\"} 1\n");
	HAS("jvpn_peer_switches_total{interface=\"jv0\",peer=\"%s\",trigger_class=\"forced\"} 3\n", k);
	HAS("jvpn_peer_switches_total{interface=\"jv0\",peer=\"%s\",trigger_class=\"discretionary\"} 0\n", k);
	HAS("jvpn_peer_receive_bytes_total{interface=\"jv0\",peer=\"%s\"} 1000\n", k);
	HAS("jvpn_transport_loss_ratio{interface=\"jv0\",peer=\"%s\",transport=\"udp:10.0.1.2:1\"} 0.25\n", k);
	HAS("jvpn_transport_role{interface=\"jv0\",peer=\"%s\",transport=\"udp:10.0.2.2:2\",role=\"dead\"} 1\n", k);
	HAS("jvpn_datagrams_dropped_total{interface=\"jv0\",reason=\"unknown_index\"} 3\n");
	HAS("jvpn_datagrams_dropped_total{interface=\"jv0\",reason=\"session_ended\"} 2\n");
	HAS("jvpn_handshakes_refused_total{interface=\"jv0\",reason=\"mac1\"} 4\n");
	HAS("jvpn_handshakes_refused_total{interface=\"jv0\",reason=\"unknown_key\"} 5\n");
	HAS("jvpn_handshakes_refused_total{interface=\"jv0\",reason=\"noise\"} 2\n");
	HAS("jvpn_reattach_results_total{interface=\"jv0\",status=\"DENIED\",reason=\"replay_detected\"} 2\n");
	HAS("jvpn_reattach_results_total{interface=\"jv0\",status=\"SUCCESS\",reason=\"none\"} 0\n");
	/* undefined loss: no sample; the peer without a session: no bytes */
	assert_null(strstr(t, "jvpn_transport_loss_ratio{interface=\"jv0\",peer=\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+/8=\",transport=\"udp:10.0.2.2:2\"}"));
	assert_null(strstr(t, "jvpn_peer_receive_bytes_total{interface=\"jv0\",peer=\"BBBB"));
	assert_non_null(strstr(t, "jvpn_peer_state{interface=\"jv0\",peer=\"BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB=\",state=\"ATTACHED\"} 0\n"));
	/* round-trip times: the client's probes; the gateway sends none */
	assert_null(strstr(t, "jvpn_transport_srtt_seconds"));
	assert_null(strstr(c, "jvpn_datagrams_dropped_total"));
	free(t);
	t = c;
	HAS("jvpn_transport_srtt_seconds{interface=\"jv0\",peer=\"%s\",transport=\"udp:10.0.1.2:1\"} 0.012\n", k);
	HAS("jvpn_transport_rtt_p95_seconds{interface=\"jv0\",peer=\"%s\",transport=\"udp:10.0.1.2:1\"} 0.03\n", k);
	HAS("jvpn_info{interface=\"jv0\",role=\"client\",node_id=\"gw-1\"} 1\n");
#undef HAS
	free(t);
}

static void routes(void **st)
{
	(void)st;
	assert_int_equal(mx_route("GET", "/metrics"), 200);
	assert_int_equal(mx_route("HEAD", "/metrics"), 200);
	assert_int_equal(mx_route("POST", "/metrics"), 405);
	assert_int_equal(mx_route("get", "/metrics"), 405);
	assert_int_equal(mx_route("GET", "/"), 404);
	assert_int_equal(mx_route("GET", "/metrics/"), 404);
	assert_int_equal(mx_route("GET", "/metricsx"), 404);
	assert_int_equal(mx_route(NULL, NULL), 404);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(label_values_escaped),
		cmocka_unit_test(floats_in_base_units),
		cmocka_unit_test(help_and_type_once_per_family),
		cmocka_unit_test(values),
		cmocka_unit_test(routes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
