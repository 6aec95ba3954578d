/* SPDX-License-Identifier: MIT */
/* Record bodies sealed with the cluster key, and the key file (seal.h). */

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "cluster/seal.h"
#include "cluster/why.h"

static const char ad_label[] = "jvpn-record-v1";

enum {
	AD_LABEL_LEN = sizeof ad_label - 1,
	AD_LEN = AD_LABEL_LEN + JV_SESSION_ID_BYTES + 4,
	KEY_B64_LEN = 44,
	/* Room for the key, blanks and a newline, and one byte more to tell
	 * a file with trailing garbage from one that just fits. */
	KEY_FILE_MAX = 128,
};

_Static_assert(JV_SEAL_NONCE_BYTES ==
		       crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
	       "nonce size");
_Static_assert(JV_SEAL_TAG_BYTES == crypto_aead_xchacha20poly1305_ietf_ABYTES,
	       "tag size");
_Static_assert(JV_CLUSTER_KEY_BYTES ==
		       crypto_aead_xchacha20poly1305_ietf_KEYBYTES,
	       "key size");

/* Both directions take the same pointers: a body may be empty. */
static bool args_ok(const uint8_t *key, const uint8_t *session_id,
		    const uint8_t *in, size_t len, const uint8_t *out,
		    const size_t *out_len)
{
	return key && session_id && (in || !len) && out && out_len;
}

/* libsodium up and the associated data built: 0, or JV_ERR_IO. */
static int make_ad(uint8_t ad[AD_LEN],
		   const uint8_t session_id[JV_SESSION_ID_BYTES],
		   uint32_t index)
{
	uint8_t *p = ad;

	if (sodium_init() < 0)
		return JV_ERR_IO;
	memcpy(p, ad_label, AD_LABEL_LEN);
	p += AD_LABEL_LEN;
	memcpy(p, session_id, JV_SESSION_ID_BYTES);
	p += JV_SESSION_ID_BYTES;
	p[0] = (uint8_t)index;
	p[1] = (uint8_t)(index >> 8);
	p[2] = (uint8_t)(index >> 16);
	p[3] = (uint8_t)(index >> 24);
	return 0;
}

int jv_seal_record(const uint8_t key[JV_CLUSTER_KEY_BYTES],
		   const uint8_t session_id[JV_SESSION_ID_BYTES],
		   uint32_t index, const uint8_t *plain, size_t len,
		   uint8_t *out, size_t cap, size_t *out_len)
{
	uint8_t ad[AD_LEN];
	unsigned long long clen = 0;
	int rc;

	if (!args_ok(key, session_id, plain, len, out, out_len))
		return JV_ERR_INVAL;
	if (len > crypto_aead_xchacha20poly1305_ietf_MESSAGEBYTES_MAX ||
	    cap < JV_SEAL_OVERHEAD || len > cap - JV_SEAL_OVERHEAD)
		return JV_ERR_NOSPACE;
	if ((rc = make_ad(ad, session_id, index)))
		return rc;
	randombytes_buf(out, JV_SEAL_NONCE_BYTES);
	crypto_aead_xchacha20poly1305_ietf_encrypt(
		out + JV_SEAL_NONCE_BYTES, &clen, plain, len, ad, sizeof ad,
		NULL, out, key);
	*out_len = JV_SEAL_NONCE_BYTES + (size_t)clen;
	return 0;
}

int jv_open_record(const uint8_t key[JV_CLUSTER_KEY_BYTES],
		   const uint8_t session_id[JV_SESSION_ID_BYTES],
		   uint32_t index, const uint8_t *sealed, size_t len,
		   uint8_t *out, size_t cap, size_t *out_len)
{
	uint8_t ad[AD_LEN];
	unsigned long long mlen = 0;
	size_t plain_len;
	int rc;

	if (!args_ok(key, session_id, sealed, len, out, out_len))
		return JV_ERR_INVAL;
	if (len < JV_SEAL_OVERHEAD)
		return JV_ERR_AUTH;
	plain_len = len - JV_SEAL_OVERHEAD;
	if (cap < plain_len)
		return JV_ERR_NOSPACE;
	if ((rc = make_ad(ad, session_id, index)))
		return rc;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(
		    out, &mlen, NULL, sealed + JV_SEAL_NONCE_BYTES,
		    len - JV_SEAL_NONCE_BYTES, ad, sizeof ad, sealed,
		    key) != 0) {
		sodium_memzero(out, plain_len);
		return JV_ERR_AUTH;
	}
	*out_len = (size_t)mlen;
	return 0;
}

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int jv_cluster_key_load(const char *path, uint8_t key[JV_CLUSTER_KEY_BYTES],
			char *why, size_t why_len)
{
	char buf[KEY_FILE_MAX + 1];
	uint8_t tmp[JV_CLUSTER_KEY_BYTES + 1];
	size_t got = 0, n = 0, bin_len = 0;
	const char *s, *end = NULL;
	struct stat sb;
	int fd, rc;

	if (!path || !key)
		return jv_why(why, why_len, JV_ERR_INVAL,
			      "cluster key: no path");
	sodium_memzero(key, JV_CLUSTER_KEY_BYTES);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return jv_why(why, why_len, JV_ERR_IO, "cluster key %s: %s",
			      path, strerror(errno));
	if (fstat(fd, &sb) < 0) {
		rc = jv_why(why, why_len, JV_ERR_IO, "cluster key %s: %s", path,
			    strerror(errno));
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		rc = jv_why(why, why_len, JV_ERR_STATE,
			    "cluster key %s: not a regular file", path);
		goto out;
	}
	/* Checked on the open descriptor, so a chmod between the check and
	 * the read cannot slip a wider file past it. */
	if (sb.st_mode & 077) {
		rc = jv_why(why, why_len, JV_ERR_STATE,
			    "cluster key %s: mode %04o lets group or others access it (chmod 600 %s)",
			    path, (unsigned)(sb.st_mode & 07777), path);
		goto out;
	}
	while (got < sizeof buf - 1) {
		ssize_t r = read(fd, buf + got, sizeof buf - 1 - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = jv_why(why, why_len, JV_ERR_IO,
				    "cluster key %s: %s", path,
				    strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	buf[got] = '\0';
	s = buf;
	while (*s && blank(*s))
		s++;
	n = strlen(s);
	while (n && blank(s[n - 1]))
		n--;
	rc = JV_ERR_PARSE;
	if (n == KEY_B64_LEN &&
	    sodium_base642bin(tmp, sizeof tmp, s, n, NULL, &bin_len, &end,
			      sodium_base64_VARIANT_ORIGINAL) == 0 &&
	    bin_len == JV_CLUSTER_KEY_BYTES && end == s + n) {
		memcpy(key, tmp, JV_CLUSTER_KEY_BYTES);
		rc = 0;
	} else {
		jv_why(why, why_len, JV_ERR_PARSE,
		       "cluster key %s: not one base64 32-byte key (44 characters, as jvpn genkey prints)",
		       path);
	}
out:
	close(fd);
	sodium_memzero(buf, sizeof buf);
	sodium_memzero(tmp, sizeof tmp);
	return rc;
}
