/* SPDX-License-Identifier: MIT */
/* Record sealing with the cluster key, and the key file (cluster/seal.h). */

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "cluster/seal.h"
#include "tap.h"

static const uint8_t key[32] = {
	0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa,
	0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab,
	0xcd, 0xef, 0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10,
};
static const uint8_t sid[JV_SESSION_ID_BYTES] = "0123456789abcdef";
static const uint32_t idx = 0x11223344u;

static char dir[] = "/tmp/jvpn-seal-XXXXXX";

static void fill(uint8_t *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i * 13u);
}

static bool round_trip(size_t len)
{
	uint8_t plain[2048], sealed[2048 + JV_SEAL_OVERHEAD], back[2048];
	size_t n = 0, m = 0;

	fill(plain, len, (unsigned)len);
	if (jv_seal_record(key, sid, idx, plain, len, sealed, sizeof sealed,
			   &n) != 0 ||
	    n != len + JV_SEAL_OVERHEAD)
		return false;
	if (jv_open_record(key, sid, idx, sealed, n, back, sizeof back, &m) !=
		    0 ||
	    m != len)
		return false;
	return !memcmp(plain, back, len);
}

/* The layout seal.h promises, opened with libsodium directly, so a
 * change of format cannot pass unnoticed. */
static bool layout_is_as_documented(void)
{
	uint8_t plain[50], sealed[50 + JV_SEAL_OVERHEAD], back[50];
	uint8_t ad[14 + 16 + 4];
	unsigned long long m = 0;
	size_t n = 0;

	fill(plain, sizeof plain, 3);
	if (jv_seal_record(key, sid, idx, plain, sizeof plain, sealed,
			   sizeof sealed, &n) != 0)
		return false;
	memcpy(ad, "jvpn-record-v1", 14);
	memcpy(ad + 14, sid, 16);
	ad[30] = 0x44;
	ad[31] = 0x33;
	ad[32] = 0x22;
	ad[33] = 0x11;
	return crypto_aead_xchacha20poly1305_ietf_decrypt(
		       back, &m, NULL, sealed + 24, n - 24, ad, sizeof ad,
		       sealed, key) == 0 &&
	       m == sizeof plain && !memcmp(back, plain, sizeof plain);
}

static bool nonces_differ(void)
{
	uint8_t plain[16] = { 0 }, a[16 + JV_SEAL_OVERHEAD],
		b[16 + JV_SEAL_OVERHEAD];
	size_t n;

	return jv_seal_record(key, sid, idx, plain, 16, a, sizeof a, &n) == 0 &&
	       jv_seal_record(key, sid, idx, plain, 16, b, sizeof b, &n) == 0 &&
	       memcmp(a, b, JV_SEAL_NONCE_BYTES) != 0 && memcmp(a, b, n) != 0;
}

static bool every_flipped_byte_fails(void)
{
	uint8_t plain[40], sealed[40 + JV_SEAL_OVERHEAD], back[40];
	size_t n = 0, m;

	fill(plain, sizeof plain, 9);
	if (jv_seal_record(key, sid, idx, plain, sizeof plain, sealed,
			   sizeof sealed, &n) != 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		sealed[i] ^= 0x01;
		memset(back, 0xaa, sizeof back);
		if (jv_open_record(key, sid, idx, sealed, n, back, sizeof back,
				   &m) != JV_ERR_AUTH)
			return false;
		/* Nothing of a failed open reaches the caller. */
		for (size_t j = 0; j < sizeof back; j++)
			if (back[j])
				return false;
		sealed[i] ^= 0x01;
	}
	return true;
}

static int open_with(const uint8_t *k, const uint8_t *s, uint32_t i)
{
	uint8_t plain[32], sealed[32 + JV_SEAL_OVERHEAD], back[32];
	size_t n = 0, m;

	fill(plain, sizeof plain, 1);
	if (jv_seal_record(key, sid, idx, plain, sizeof plain, sealed,
			   sizeof sealed, &n) != 0)
		return 1;
	return jv_open_record(k, s, i, sealed, n, back, sizeof back, &m);
}

static bool bounds(void)
{
	uint8_t plain[32] = { 0 }, sealed[32 + JV_SEAL_OVERHEAD], back[32];
	size_t n = 0, m;

	if (jv_seal_record(key, sid, idx, plain, 32, sealed,
			   32 + JV_SEAL_OVERHEAD - 1, &n) != JV_ERR_NOSPACE)
		return false;
	if (jv_seal_record(key, sid, idx, plain, 32, sealed, 3, &n) !=
	    JV_ERR_NOSPACE)
		return false;
	if (jv_seal_record(key, sid, idx, plain, 32, sealed, sizeof sealed,
			   &n) != 0)
		return false;
	if (jv_open_record(key, sid, idx, sealed, n, back, 31, &m) !=
	    JV_ERR_NOSPACE)
		return false;
	if (jv_open_record(key, sid, idx, sealed, JV_SEAL_OVERHEAD - 1, back,
			   sizeof back, &m) != JV_ERR_AUTH)
		return false;
	return jv_seal_record(NULL, sid, idx, plain, 32, sealed, sizeof sealed,
			      &n) == JV_ERR_INVAL &&
	       jv_open_record(key, NULL, idx, sealed, n, back, sizeof back,
			      &m) == JV_ERR_INVAL;
}

/* ---- key file ---- */

static bool write_file(const char *path, const char *text, mode_t mode)
{
	int fd;
	bool ok;

	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return false;
	ok = write(fd, text, strlen(text)) == (ssize_t)strlen(text);
	ok = fchmod(fd, mode) == 0 && ok;
	close(fd);
	return ok;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* Returns the code; on failure checks that the key was wiped and that
 * the reason names the file. */
static int load(const char *text, mode_t mode, char *why, size_t why_len,
		uint8_t out[32])
{
	char path[64];
	int rc;

	snprintf(path, sizeof path, "%s/cluster.key", dir);
	if (text && !write_file(path, text, mode))
		return 1;
	memset(out, 0xee, 32);
	why[0] = '\0';
	rc = jv_cluster_key_load(path, out, why, why_len);
	if (rc && (!all_zero(out, 32) || !strstr(why, path)))
		return 2;
	return rc;
}

static void key_file_cases(void)
{
	char b64[64], text[160], why[256], sub[80];
	uint8_t got[32];
	int rc;

	sodium_bin2base64(b64, sizeof b64, key, sizeof key,
			  sodium_base64_VARIANT_ORIGINAL);
	snprintf(text, sizeof text, "%s\n", b64);
	rc = load(text, 0600, why, sizeof why, got);
	tap_ok(rc == 0 && !memcmp(got, key, 32),
	       "key file: a 0600 file with one key and a newline loads");
	snprintf(text, sizeof text, "  \t%s \r\n\n", b64);
	rc = load(text, 0400, why, sizeof why, got);
	tap_ok(rc == 0 && !memcmp(got, key, 32),
	       "key file: blanks around the key are fine, 0400 too");

	rc = load(text, 0640, why, sizeof why, got);
	tap_ok(rc == JV_ERR_STATE && strstr(why, "0640") &&
		       strstr(why, "chmod 600"),
	       "key file: group-readable refused, the reason names path and mode");
	if (rc != JV_ERR_STATE)
		tap_diag("rc %d: %s", rc, why);
	rc = load(text, 0604, why, sizeof why, got);
	tap_ok(rc == JV_ERR_STATE, "key file: other-readable refused");
	rc = load(text, 0620, why, sizeof why, got);
	tap_ok(rc == JV_ERR_STATE, "key file: group-writable refused");

	rc = load("not a key\n", 0600, why, sizeof why, got);
	tap_ok(rc == JV_ERR_PARSE && strstr(why, "44 characters"),
	       "key file: garbage is a parse error");
	snprintf(text, sizeof text, "%.43s\n", b64);
	rc = load(text, 0600, why, sizeof why, got);
	tap_ok(rc == JV_ERR_PARSE, "key file: a short key is refused");
	snprintf(text, sizeof text, "%s\n%s\n", b64, b64);
	rc = load(text, 0600, why, sizeof why, got);
	tap_ok(rc == JV_ERR_PARSE, "key file: two keys are refused");
	rc = load("", 0600, why, sizeof why, got);
	tap_ok(rc == JV_ERR_PARSE, "key file: an empty file is refused");
	/* The last character carries 4 bits of the key and 2 that must be
	 * zero: one key has exactly one spelling. */
	snprintf(text, sizeof text, "%.42sB=\n", b64);
	rc = load(text, 0600, why, sizeof why, got);
	tap_ok(rc == JV_ERR_PARSE,
	       "key file: a non-canonical last character is refused");

	snprintf(sub, sizeof sub, "%s/cluster.key", dir);
	unlink(sub);
	rc = load(NULL, 0, why, sizeof why, got);
	tap_ok(rc == JV_ERR_IO, "key file: a missing file is an I/O error");

	mkdir(sub, 0700);
	rc = load(NULL, 0, why, sizeof why, got);
	tap_ok(rc == JV_ERR_STATE || rc == JV_ERR_IO,
	       "key file: a directory is refused");
	rmdir(sub);
}

int main(void)
{
	uint8_t other[32];
	uint8_t other_sid[JV_SESSION_ID_BYTES];
	char path[64];

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	tap_ok(round_trip(0), "seal: an empty body round-trips");
	tap_ok(round_trip(1), "seal: one byte round-trips");
	tap_ok(round_trip(2048 - JV_SEAL_OVERHEAD),
	       "seal: a body that fills JV_STORE_BLOB_MAX once sealed round-trips");
	tap_ok(layout_is_as_documented(),
	       "seal: nonce || ciphertext+tag, ad = label || session_id || le32 index");
	tap_ok(nonces_differ(), "seal: every seal draws a fresh nonce");
	tap_ok(every_flipped_byte_fails(),
	       "open: any flipped bit fails JV_ERR_AUTH and wipes the output");
	memcpy(other, key, 32);
	other[31] ^= 0x80;
	tap_ok(open_with(other, sid, idx) == JV_ERR_AUTH,
	       "open: the wrong key fails");
	memcpy(other_sid, sid, sizeof other_sid);
	other_sid[0] ^= 1;
	tap_ok(open_with(key, other_sid, idx) == JV_ERR_AUTH,
	       "open: a body moved to another session fails");
	tap_ok(open_with(key, sid, idx ^ 0x01000000u) == JV_ERR_AUTH,
	       "open: a body moved to another receiver index fails");
	tap_ok(open_with(key, sid, idx) == 0, "open: the right record opens");
	tap_ok(bounds(), "seal/open: NOSPACE, short input, NULL arguments");
	key_file_cases();

	snprintf(path, sizeof path, "%s/cluster.key", dir);
	unlink(path);
	rmdir(dir);
	return tap_done();
}
