/* SPDX-License-Identifier: MIT */
/*
 * Writes the seed corpus of every fuzz target: gen_corpus DIR makes
 * DIR/<target>/seed-<n> with a few valid inputs each (the committed copy
 * lives in tests/fuzz/corpus).  Deterministic: same keys and seeds as the
 * targets (fuzz.h), so rerunning it reproduces the committed files.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "fuzz.h"
#include "jvpn/cookie.h"
#include "jvpn/wire.h"

static const char *root;

static void put(const char *target, int n, const uint8_t *a, size_t na,
		const uint8_t *b, size_t nb)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", root, target);
	if (mkdir(path, 0755) != 0 && errno != EEXIST) {
		perror(path);
		exit(1);
	}
	snprintf(path, sizeof path, "%s/%s/seed-%d", root, target, n);
	f = fopen(path, "wb");
	if (!f || fwrite(a, 1, na, f) != na ||
	    (nb && fwrite(b, 1, nb, f) != nb) || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

static void sample(struct jv_ctrl *m, unsigned t)
{
	memset(m, 0, sizeof *m);
	m->type = (enum jv_ctrl_type)t;
	switch (m->type) {
	case JV_CTRL_HEARTBEAT:
	case JV_CTRL_HEARTBEAT_ACK:
	case JV_CTRL_PROBE:
	case JV_CTRL_PROBE_ACK:
		m->hb.seq = 17;
		m->hb.send_ts = FUZZ_T0;
		m->hb.state_version = 3;
		memset(m->hb.token, 0x7e, sizeof m->hb.token);	/* ACKs only */
		break;
	case JV_CTRL_PATH_CHALLENGE:
		memcpy(m->challenge.data, "\x11\x22\x33\x44\x55\x66\x77\x88", 8);
		m->challenge.nonce = 12;
		break;
	case JV_CTRL_PATH_RESPONSE:
		memcpy(m->path_response.data, "\x11\x22\x33\x44\x55\x66\x77\x88", 8);
		m->path_response.nonce = 9;
		m->path_response.state_version = 4;
		break;
	case JV_CTRL_REATTACH_REQUEST:
		memset(m->request.session_id, 0xa5, 16);
		m->request.nonce = 10;
		m->request.protocol_version = JV_PROTOCOL_VERSION;
		m->request.ts_ms = FUZZ_T0;
		m->request.state_version = 4;
		m->request.trigger_reason = JV_REASON_TRANSPORT_DEAD;
		m->request.recovery_reason = JV_REASON_DEAD_TRANSPORT_RECOVERY;
		strcpy(m->request.candidate.transport_id, "wifi0");
		m->request.candidate.proto = 1;
		m->request.candidate.remote_ip[10] = 0xff;
		m->request.candidate.remote_ip[11] = 0xff;
		m->request.candidate.remote_ip[12] = 198;
		m->request.candidate.remote_ip[13] = 51;
		m->request.candidate.remote_ip[14] = 100;
		m->request.candidate.remote_ip[15] = 1;
		m->request.candidate.remote_port = 51820;
		memset(m->request.path_token, 0x7e, sizeof m->request.path_token);
		break;
	case JV_CTRL_REATTACH_ACK:
		m->ack.nonce = 10;
		m->ack.state_version = 7;
		strcpy(m->ack.transport_id, "wifi0");
		break;
	case JV_CTRL_REATTACH_DENY:
		m->deny.nonce = 10;
		m->deny.reason = JV_REASON_STALE_STATE_VERSION;
		m->deny.retryable = true;
		m->deny.retry_after_ms = 250;
		m->deny.state_version = 8;
		break;
	case JV_CTRL_REKEY:
	case JV_CTRL_REKEY_ACK:
		m->rekey.new_epoch = 1;
		break;
	case JV_CTRL_TERMINATE:
		m->terminate.reason = JV_REASON_OPERATOR_TERMINATED;
		break;
	}
}

static void lower(char *dst, const char *src)
{
	while (*src) {
		char ch = *src++;
		*dst++ = (char)(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
	}
	*dst = 0;
}

static struct jv_noise_peer peer;

static struct jv_noise_peer *lookup(void *ctx, const uint8_t pub[32])
{
	(void)ctx;
	return memcmp(pub, peer.pub, 32) == 0 ? &peer : NULL;
}

int main(int argc, char **argv)
{
	uint8_t key[32], buf[JV_WIRE_DGRAM_MAX], pt[JV_CTRL_MAX];
	const uint8_t zero = 0;
	int len;

	if (argc != 2) {
		fprintf(stderr, "usage: gen_corpus DIR\n");
		return 2;
	}
	if (sodium_init() < 0)
		return 1;
	root = argv[1];
	if (mkdir(root, 0755) != 0 && errno != EEXIST) {
		perror(root);
		return 1;
	}

	/* control messages: whole plaintexts, bodies, sealed datagrams */
	fuzz_key(key, 0x80);
	for (unsigned t = 1; t <= JV_CTRL_TYPE_MAX; t++) {
		struct jv_ctrl m;
		char name[64] = "ctrl_";
		struct jv_wire_hdr h = {
			.type = JV_MSG_CONTROL, .key_epoch = 0,
			.receiver_index = 7, .counter = t,
		};

		sample(&m, t);
		len = jv_ctrl_encode(&m, pt, sizeof pt);
		if (len < 0)
			return 1;
		lower(name + 5, jv_ctrl_name(t));
		put("ctrl", (int)t, pt, (size_t)len, NULL, 0);
		put(name, 1, pt + 1, (size_t)len - 1, NULL, 0);
		len = jv_wire_seal_ctrl(key, &h, &m, buf, sizeof buf);
		if (len < 0)
			return 1;
		put("wire_header", (int)t, buf, (size_t)len, NULL, 0);
	}
	/* data datagrams: shortest and longest */
	struct jv_wire_hdr h = {
		.type = JV_MSG_DATA, .key_epoch = 1, .receiver_index = 7,
		.counter = 100,
	};
	memset(pt, 0x45, sizeof pt);
	len = jv_wire_seal(key, &h, pt, 1, buf, sizeof buf);
	put("wire_header", 20, buf, (size_t)len, NULL, 0);
	static uint8_t ip[JV_WIRE_INNER_MAX];
	memset(ip, 0x60, sizeof ip);
	h.counter = 101;
	len = jv_wire_seal(key, &h, ip, sizeof ip, buf, sizeof buf);
	put("wire_header", 21, buf, (size_t)len, NULL, 0);

	/* the handshake, exactly as the targets set it up */
	struct jv_noise_static client, gw;
	struct jv_seeded_rng sc, sg;
	struct jv_rng rc, rg;
	struct jv_noise_initiator in;
	struct jv_noise_responder re;
	struct jv_noise_result res;
	uint8_t m1[JV_WIRE_INITIATION_SIZE], m2[JV_WIRE_RESPONSE_SIZE];
	const uint8_t fix = 1;

	fuzz_key(key, FUZZ_CLIENT_BASE);
	if (jv_noise_static_init(&client, key))
		return 1;
	fuzz_key(key, FUZZ_GATEWAY_BASE);
	if (jv_noise_static_init(&gw, key))
		return 1;
	memcpy(peer.pub, client.kp.pub, 32);
	jv_seeded_rng_init(&sc, FUZZ_CLIENT_SEED);
	jv_seeded_rng_init(&sg, FUZZ_GATEWAY_SEED);
	rc = jv_seeded_rng(&sc);
	rg = jv_seeded_rng(&sg);
	if (jv_noise_initiation_create(&in, &client, gw.kp.pub,
				       FUZZ_CLIENT_INDEX, FUZZ_T0, &rc, m1) ||
	    jv_noise_initiation_consume(&re, &gw, lookup, NULL, m1, sizeof m1,
					NULL) ||
	    jv_noise_response_create(&re, FUZZ_GATEWAY_INDEX, &rg, m2, &res) ||
	    jv_noise_response_consume(&in, m2, sizeof m2, &res, NULL))
		return 1;
	put("initiation", 1, &zero, 1, m1, sizeof m1);
	put("initiation", 2, &fix, 1, m1, sizeof m1);
	put("response", 1, &zero, 1, m2, sizeof m2);
	put("response", 2, &fix, 1, m2, sizeof m2);

	/* cookie_reply: the gateway's reply to the target's initiation */
	struct jv_cookie_checker ck;
	struct jv_addr from;
	uint8_t cr[JV_WIRE_COOKIE_REPLY_SIZE];
	jv_seeded_rng_init(&sc, FUZZ_CLIENT_SEED);
	rc = jv_seeded_rng(&sc);
	if (jv_noise_initiation_create(&in, &client, gw.kp.pub,
				       FUZZ_CLIENT_INDEX, FUZZ_T0, &rc, m1))
		return 1;
	jv_seeded_rng_init(&sg, FUZZ_GATEWAY_SEED);
	rg = jv_seeded_rng(&sg);
	jv_cookie_checker_init(&ck, gw.kp.pub);
	fuzz_cookie_addr(&from);
	if (jv_cookie_reply_create(&ck, m1, sizeof m1, &from, FUZZ_T0, &rg,
				   cr) != JV_WIRE_COOKIE_REPLY_SIZE)
		return 1;
	put("cookie_reply", 1, &zero, 1, cr, sizeof cr);
	put("cookie_reply", 2, &fix, 1, cr, sizeof cr);

	/* replay: window parameters 128/256, then a few ops */
	const uint8_t ops[] = {
		128, 0, 0, 1,
		0, 0, 0, 0, 0, 0, 0, 0, 0,		/* mark 0 */
		0, 5, 0, 0, 0, 0, 0, 0, 0,		/* mark 5 */
		1, 5, 0, 0, 0, 0, 0, 0, 0,		/* check 5 */
		0x80, 0xc0, 0xf0, 0, 0, 0, 0, 0, 0,	/* mark top - 4032 */
		2, 1, 0, 0, 0, 0, 0, 0, 0,		/* nonce 1 */
		0x82, 0, 1, 0, 0, 0, 0, 0, 0,		/* nonce H + 256 */
		0x82, 0, 0, 0, 0, 0, 0, 0, 0,		/* nonce H again */
		3, 0, 0, 0, 0, 0, 0, 0, 0,		/* freshness */
	};
	put("replay", 1, ops, sizeof ops, NULL, 0);
	return 0;
}
