/* SPDX-License-Identifier: MIT */
/*
 * PeersDir (docs/config.md, D-032): one [Peer] per DIR/NAME.conf, read in
 * name order with the config file's own [Peer] reader.  Every bad case is
 * one line naming the file (and both files for a duplicate key or an
 * overlap).  Files in memory (jv_config_parse_peers) for the checks, a
 * real directory for what only a directory has (order, names ignored,
 * relative paths, a FIFO or a directory named *.conf), and 10 000 peers
 * for the time and the memory.
 */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "daemon/config.h"
#include "daemon/key.h"
#include "daemon/route_table.h"
#include "net/netaddr.h"

#define GW_KEY "WFRQ6xh4fbh0UOqAqSWg5KfpXItNwn7JzGHKub4Z4EI="
#define GW_PUB "CcGUW+8zbsP2sw76cfdtR6/TeLlpN8Z4qn6ihBzs4no="
#define CL_KEY "yCqHds2Thf8ozKAaRvWhI04lMjJgif9uQQLIedhoy0w="
#define CL_PUB "sL7X+ksGVsbJAIRdkHRcvLD8k5oW49vTIBheiuDOniY="
#define C2_PUB "0hl1m/cXJdZePqMUrq9iIYUZvKKKh0Zqg1xem4VV9DA="
#define C3_PUB "pFYbZ/dYezGZRdx0ZYVlXx+bnw/Y5tW7LxJny610ZW8="

#define IFACE_G "[Interface]\nRole = gateway\nPrivateKey = " GW_KEY \
	"\nAddress = 10.8.0.1/16\nListenPort = 51820\n"
#define PEER(key, ip) "[Peer]\nPublicKey = " key "\nAllowedIPs = " ip "\n"

static char msg[JV_DIAG_TEXT_MAX];

/* The one-line error of a config with these peer files (NULL: none). */
static const char *err_of(const char *main, const struct jv_cfg_text *f,
			  unsigned n)
{
	struct jv_config *c = (struct jv_config *)1;
	struct jv_diag d;
	int rc = jv_config_parse_peers(main, "/etc/jvpn/gw.conf", f, n, &c, &d);

	if (!rc) {
		jv_config_free(c);
		return NULL;
	}
	assert_null(c);
	assert_true(jv_diag_format(&d, msg, sizeof msg) > 0);
	assert_null(strchr(msg, '\n'));
	return msg;
}

static void expect(const char *main, const struct jv_cfg_text *f, unsigned n,
		   const char *want)
{
	const char *got = err_of(main, f, n);

	if (!got)
		fail_msg("accepted, expected: %s", want);
	if (strncmp(got, want, strlen(want)))
		fail_msg("got:  %s\nwant: %s", got, want);
}

static void good_files(void **st)
{
	struct jv_cfg_text f[2] = {
		{ "/etc/jvpn/peers.d/a.conf", PEER(C2_PUB, "10.8.1.0/24") },
		{ "/etc/jvpn/peers.d/b.conf",
		  "# bob\n[Peer]\nPublicKey = " C3_PUB "\nAllowedIPs = 10.8.2.2/32, fd00::2/128\n" },
	};
	struct jv_config *c = NULL;
	struct jv_diag d;
	struct jv_addr a;

	(void)st;
	assert_int_equal(jv_config_parse_peers(IFACE_G PEER(CL_PUB, "10.8.0.2/32"),
					       "/etc/jvpn/gw.conf", f, 2, &c, &d), 0);
	assert_int_equal(c->npeers, 3);
	assert_int_equal(c->npeers_dir, 2);
	assert_null(c->peers[0].file);
	assert_string_equal(jv_config_peer_file(c, &c->peers[0]), "/etc/jvpn/gw.conf");
	assert_string_equal(c->peers[2].file, "/etc/jvpn/peers.d/b.conf");
	assert_int_equal(c->peers[2].line, 2);
	assert_int_equal(c->peers[2].nallowed, 2);
	assert_int_equal(c->peers[2].allowed_line[1], 4);
	assert_int_equal(jv_netaddr_parse(&a, "10.8.2.2"), 0);
	assert_int_equal(jv_config_route_lookup(c, a.ip), 2);
	jv_config_free(c);
}

static void bad_files(void **st)
{
	const char *m = IFACE_G PEER(CL_PUB, "10.8.0.2/32");
	struct jv_cfg_text f[2] = {
		{ "/p/a.conf", PEER(C2_PUB, "10.8.1.0/24") },
		{ "/p/b.conf", NULL },
	};

	(void)st;
	f[1].text = "";
	expect(m, f, 2, "/p/b.conf: Peer: no [Peer] section: a PeersDir file holds exactly one");
	f[1].text = "# nothing\n";
	expect(m, f, 2, "/p/b.conf: Peer: no [Peer] section");
	f[1].text = PEER(C3_PUB, "10.8.2.0/24") "\n" PEER(GW_PUB, "10.8.3.0/24");
	expect(m, f, 2, "/p/b.conf:5: Peer: second [Peer] section (the first is at line 1): a PeersDir file holds exactly one");
	f[1].text = "[Interface]\nRole = client\n";
	expect(m, f, 2, "/p/b.conf:1: [Interface] in a PeersDir file: it holds exactly one [Peer] section");
	f[1].text = "PublicKey = " C3_PUB "\n[Peer]\n";
	expect(m, f, 2, "/p/b.conf:1: PublicKey: key outside the [Peer] section");
	f[1].text = "[Peer]\nPublicKey = " C3_PUB "\nAllowedIPs = 10.8.2.0/24\nPrivateKey = x\n";
	expect(m, f, 2, "/p/b.conf:4: PrivateKey: unknown key in [Peer]");
	f[1].text = "[Peer]\nPublicKey = nope\n";
	expect(m, f, 2, "/p/b.conf:2: PublicKey = nope: not a key");
	f[1].text = "[Peer]\nPublicKey = " C3_PUB "\nAllowedIPs = 10.8.2.1/24\n";
	expect(m, f, 2, "/p/b.conf:3: AllowedIPs = 10.8.2.1/24: host bits set");
	f[1].text = "[Peer]\nPublicKey = " C3_PUB "\n";
	expect(m, f, 2, "/p/b.conf:1: AllowedIPs: a gateway's [Peer] needs AllowedIPs");
	f[1].text = "[Peer]\nPublicKey = " C3_PUB "\nAllowedIPs = 10.8.2.0/24\nEndpoint = 192.0.2.1:1\n";
	expect(m, f, 2, "/p/b.conf:1: Endpoint: Endpoint is for a client's [Peer]");
	f[1].text = "[Peer]\nPublicKey = " C3_PUB "\nAllowedIPs = 10.8.2.0/24\nbroken line\n";
	expect(m, f, 2, "/p/b.conf:4: malformed line");
	/* across files: both named, reported in the later one */
	f[1].text = "\n" PEER(C2_PUB, "10.8.2.0/24");
	expect(m, f, 2, "/p/b.conf:3: PublicKey: same key as the [Peer] at /p/a.conf:1");
	f[1].text = PEER(CL_PUB, "10.8.2.0/24");
	expect(m, f, 2, "/p/b.conf:2: PublicKey: same key as the [Peer] at /etc/jvpn/gw.conf:6");
	f[1].text = PEER(C3_PUB, "10.8.1.128/25");
	expect(m, f, 2, "/p/b.conf:3: AllowedIPs = 10.8.1.128/25: lies inside 10.8.1.0/24 of the [Peer] at /p/a.conf:1 (AllowedIPs at line 3)");
	f[1].text = PEER(C3_PUB, "10.8.0.0/24");
	expect(m, f, 2, "/p/b.conf:3: AllowedIPs = 10.8.0.0/24: contains 10.8.0.2/32 of the [Peer] at /etc/jvpn/gw.conf:6 (AllowedIPs at line 8)");
	f[1].text = PEER(GW_PUB, "10.8.2.0/24");
	expect(m, f, 2, "/p/b.conf:2: PublicKey: the gateway's own public key");
	/* a client has no PeersDir */
	expect("[Interface]\nRole = client\nPrivateKey = " CL_KEY
	       "\nAddress = 10.8.0.2/24\nPeersDir = /p\n"
	       "[Peer]\nPublicKey = " GW_PUB "\nEndpoint = 192.0.2.1:51820\n",
	       NULL, 0, "/etc/jvpn/gw.conf:5: PeersDir: only for Role = gateway");
}

/* ---- a real directory ------------------------------------------------------ */

static char dir[64];

static void put(const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void rm(const char *name)
{
	char path[256];

	snprintf(path, sizeof path, "%s/%s", dir, name);
	if (unlink(path) && errno == EISDIR)
		rmdir(path);
	else if (errno == EPERM || errno == EISDIR)
		rmdir(path);
}

/* The main file in dir, PeersDir given relative to it. */
static int load_dir(const char *peers_dir, struct jv_config **c,
		    struct jv_diag *d)
{
	char text[512], path[256];

	snprintf(text, sizeof text, IFACE_G "PeersDir = %s\n", peers_dir);
	snprintf(path, sizeof path, "%s/gw.conf", dir);
	put("gw.conf", text);
	return jv_config_load(path, c, d);
}

static int setup_dir(void **st)
{
	(void)st;
	snprintf(dir, sizeof dir, "/tmp/jvpn-peersdir.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown_dir(void **st)
{
	char cmd[128];

	(void)st;
	snprintf(cmd, sizeof cmd, "rm -rf -- '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void real_dir(void **st)
{
	struct jv_config *c = NULL;
	struct jv_diag d;
	char sub[128], want[300];

	(void)st;
	snprintf(sub, sizeof sub, "%s/peers.d", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	put("peers.d/b.conf", PEER(C3_PUB, "10.8.2.0/24"));
	put("peers.d/a.conf", PEER(C2_PUB, "10.8.1.0/24"));
	put("peers.d/notes.txt", "not a peer");
	put("peers.d/.hidden.conf", "not read either");
	put("peers.d/c.conf~", "an editor's backup");
	assert_int_equal(load_dir("peers.d", &c, &d), 0);
	assert_int_equal(c->npeers, 2);
	snprintf(want, sizeof want, "%s/peers.d/a.conf", dir);
	assert_string_equal(c->peers[0].file, want);	/* name order */
	snprintf(want, sizeof want, "%s/peers.d", dir);
	assert_string_equal(c->peers_dir, want);
	jv_config_free(c);

	/* a missing directory, named with the PeersDir line */
	assert_int_equal(load_dir("nowhere", &c, &d), JV_ERR_IO);
	assert_true(jv_diag_format(&d, msg, sizeof msg) > 0);
	snprintf(want, sizeof want, "%s/gw.conf:6: PeersDir = %s/nowhere: cannot read the directory: No such file or directory", dir, dir);
	assert_string_equal(msg, want);

	/* a directory, a FIFO, a dangling link named *.conf */
	put("peers.d/c.conf", "");
	rm("peers.d/c.conf");
	snprintf(want, sizeof want, "%s/peers.d/c.conf", dir);
	assert_int_equal(mkdir(want, 0700), 0);
	assert_int_equal(load_dir("peers.d", &c, &d), JV_ERR_IO);
	assert_true(jv_diag_format(&d, msg, sizeof msg) > 0);
	assert_non_null(strstr(msg, "peers.d/c.conf: not a regular file"));
	assert_int_equal(rmdir(want), 0);
	assert_int_equal(mkfifo(want, 0600), 0);
	assert_int_equal(load_dir("peers.d", &c, &d), JV_ERR_IO);
	assert_true(jv_diag_format(&d, msg, sizeof msg) > 0);
	assert_non_null(strstr(msg, "peers.d/c.conf: not a regular file"));
	assert_int_equal(unlink(want), 0);
	assert_int_equal(symlink("/nonexistent/x", want), 0);
	assert_int_equal(load_dir("peers.d", &c, &d), JV_ERR_IO);
	assert_true(jv_diag_format(&d, msg, sizeof msg) > 0);
	assert_non_null(strstr(msg, "peers.d/c.conf: cannot open: No such file"));
	assert_int_equal(unlink(want), 0);

	/* a bad file names itself and its line */
	put("peers.d/c.conf", "[Peer]\nPublicKey = " C3_PUB "\nAllowedIPs = 10.8.9.0/24\n");
	assert_int_equal(load_dir("peers.d", &c, &d), JV_ERR_PARSE);
	assert_true(jv_diag_format(&d, msg, sizeof msg) > 0);
	snprintf(want, sizeof want, "%s/peers.d/c.conf:2: PublicKey: same key as the [Peer] at %s/peers.d/b.conf:1", dir, dir);
	assert_string_equal(msg, want);
	rm("peers.d/c.conf");
}

/*
 * 10 000 peers, one file each (in memory: the directory's reading is
 * real_dir's and the lab's, peersdir_test.sh): parsed, checked and routed
 * in well under a second, and the config's memory per peer (D-032;
 * printed for the report).
 */
static void ten_thousand(void **st)
{
	enum { N = 10000 };
	struct jv_config *c = NULL;
	struct jv_diag d;
	struct jv_cfg_text *f = calloc(N, sizeof *f);
	char (*names)[40] = calloc(N, sizeof *names);
	char (*texts)[128] = calloc(N, sizeof *texts);
	struct timespec t0, t1;
	struct jv_addr a;
	double ms;
	size_t bytes;

	(void)st;
	assert_non_null(f);
	assert_non_null(names);
	assert_non_null(texts);
	for (unsigned i = 0; i < N; i++) {
		uint8_t k[32];
		char b64[JV_KEY_B64_SIZE];

		randombytes_buf(k, sizeof k);
		k[31] &= 0x7f;
		k[0] |= 1;
		jv_key_to_base64(k, b64);
		snprintf(names[i], sizeof names[i], "/etc/jvpn/peers.d/p%05u.conf", i);
		snprintf(texts[i], sizeof texts[i],
			 "[Peer]\nPublicKey = %s\nAllowedIPs = 10.%u.%u.%u/32\n",
			 b64, 128 + i / 65536, i / 256 % 256, i % 256);
		f[i] = (struct jv_cfg_text){ names[i], texts[i] };
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(jv_config_parse_peers(IFACE_G, "/etc/jvpn/gw.conf", f,
					       N, &c, &d), 0);
	assert_int_equal(jv_route_table_for(c, &c->routes), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
	     (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	assert_int_equal(c->npeers, N);
	assert_int_equal(jv_netaddr_parse(&a, "10.128.39.15"), 0);
	assert_int_equal(jv_config_route_lookup(c, a.ip), 39 * 256 + 15);
	bytes = jv_config_heap_bytes(c);
	print_message("# peersdir: %u peers parsed, checked and routed in %.0f ms, config heap %zu bytes (%zu per peer), struct jv_cfg_peer %zu bytes\n",
		      N, ms, bytes, bytes / N, sizeof(struct jv_cfg_peer));
	assert_true(bytes / N < 1024);
	assert_true(ms < 5000);
	jv_config_free(c);
	free(texts);
	free(names);
	free(f);
}

/* One peer past JV_CFG_PEERS_MAX: refused in the file that makes it one
 * too many.  (The keys only need to differ: no X25519 is done.) */
static void peers_limit(void **st)
{
	enum { N = JV_CFG_PEERS_MAX };	/* + the main file's one */
	struct jv_cfg_text *f = calloc(N, sizeof *f);
	char (*names)[40] = calloc(N, sizeof *names);
	char (*texts)[128] = calloc(N, sizeof *texts);

	(void)st;
	assert_non_null(f);
	assert_non_null(names);
	assert_non_null(texts);
	for (unsigned i = 0; i < N; i++) {
		uint8_t k[32] = { 0x42, 0x17 };
		char b64[JV_KEY_B64_SIZE];

		memcpy(k + 2, &i, sizeof i);
		jv_key_to_base64(k, b64);
		snprintf(names[i], sizeof names[i], "/p/p%05u.conf", i);
		snprintf(texts[i], sizeof texts[i],
			 "[Peer]\nPublicKey = %s\nAllowedIPs = 10.%u.%u.%u/32\n",
			 b64, 128 + i / 65536, i / 256 % 256, i % 256);
		f[i] = (struct jv_cfg_text){ names[i], texts[i] };
	}
	expect(IFACE_G PEER(CL_PUB, "10.8.0.2/32"), f, N,
	       "/p/p65535.conf:1: Peer: too many [Peer] sections (at most 65536, PeersDir included)");
	assert_null(err_of(IFACE_G, f, N));	/* exactly the limit: fine */
	free(texts);
	free(names);
	free(f);
}

/* The low-order table (key.c) against X25519 itself: every small-order
 * u coordinate (top bit either way), keys one byte off them, random
 * keys.  The table took 2.5 s of X25519 off a 10 000-file load. */
static void low_order_table(void **st)
{
	static const char *const low[] = {
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
		"AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
		"4Ot6fDtBuK4WVuP68Z/EatoJjeucMrH9hmIFFl9JuAA=",
		"X5yVvKNQjCSx0LFVnIPvWwREXMRYHI6G2CJO3dCfEVc=",
		"7P///////////////////////////////////////38=",
		"7f///////////////////////////////////////38=",
		"7v///////////////////////////////////////38=",
	};
	uint8_t k[32];

	(void)st;
	for (size_t i = 0; i < sizeof low / sizeof low[0]; i++) {
		assert_int_equal(jv_key_from_base64(low[i], k), 0);
		for (int top = 0; top < 2; top++) {
			k[31] = (uint8_t)(top ? k[31] | 0x80 : k[31] & 0x7f);
			assert_true(jv_key_low_order_slow(k));
			assert_true(jv_key_low_order(k));
		}
		for (int j = 0; j < 64; j++) {
			uint8_t m[32];

			memcpy(m, k, 32);
			m[j % 32] ^= (uint8_t)(1u << (j % 8));
			assert_int_equal(jv_key_low_order(m),
					 jv_key_low_order_slow(m));
		}
	}
	for (int i = 0; i < 2000; i++) {
		randombytes_buf(k, sizeof k);
		assert_int_equal(jv_key_low_order(k), jv_key_low_order_slow(k));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(low_order_table),
		cmocka_unit_test(good_files),
		cmocka_unit_test(bad_files),
		cmocka_unit_test(real_dir),
		cmocka_unit_test(ten_thousand),
		cmocka_unit_test(peers_limit),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
