/* SPDX-License-Identifier: MIT */
#ifndef JVPN_CLUSTER_SEAL_H
#define JVPN_CLUSTER_SEAL_H

/*
 * The record body is sealed with the cluster key before it reaches the
 * store (PD-9: secrets in the store are sealed), so neither the SQLite
 * file nor etcd nor a backup of either holds a session secret in clear.
 *
 * XChaCha20-Poly1305 (libsodium, IETF construction): a random 24-byte
 * nonce is safe at any number of records under one key, so no counter has
 * to survive a restart or be shared between gateways.
 *
 *   sealed = nonce(24) || ciphertext || tag(16)
 *   ad     = "jvpn-record-v1" || session_id(16) || receiver_index(le32)
 *
 * The associated data binds a body to its record: a body copied under
 * another session or receiver index by someone who can write the store
 * does not open.
 */

#include <stddef.h>
#include <stdint.h>

#include "jvpn/error.h"
#include "jvpn/limits.h"

enum jv_seal_limits {
	JV_CLUSTER_KEY_BYTES = 32,
	JV_SEAL_NONCE_BYTES = 24,
	JV_SEAL_TAG_BYTES = 16,
	JV_SEAL_OVERHEAD = JV_SEAL_NONCE_BYTES + JV_SEAL_TAG_BYTES,
};

/*
 * Seal len bytes of plain into out (cap bytes; len + JV_SEAL_OVERHEAD are
 * written, *out_len says so).  out must not overlap plain.  Returns 0,
 * JV_ERR_INVAL (a NULL pointer), JV_ERR_NOSPACE (cap too small), or
 * JV_ERR_IO (libsodium failed to initialise).
 */
JV_MUST_CHECK int jv_seal_record(const uint8_t key[JV_CLUSTER_KEY_BYTES],
				 const uint8_t session_id[JV_SESSION_ID_BYTES],
				 uint32_t index, const uint8_t *plain,
				 size_t len, uint8_t *out, size_t cap,
				 size_t *out_len);

/*
 * Open what jv_seal_record wrote for the same session_id and index.
 * *out_len = len - JV_SEAL_OVERHEAD.  out must not overlap sealed.
 * Returns 0, JV_ERR_AUTH (too short, wrong key, tampered, or sealed for
 * another record; out is wiped), JV_ERR_INVAL (a NULL pointer), or
 * JV_ERR_NOSPACE (cap too small).
 */
JV_MUST_CHECK int jv_open_record(const uint8_t key[JV_CLUSTER_KEY_BYTES],
				 const uint8_t session_id[JV_SESSION_ID_BYTES],
				 uint32_t index, const uint8_t *sealed,
				 size_t len, uint8_t *out, size_t cap,
				 size_t *out_len);

/*
 * Read the cluster key from path: one 32-byte key in standard base64 with
 * padding (44 characters, what `jvpn genkey` prints), blanks and a final
 * newline allowed around it.  The file must not be readable or writable
 * by group or others.  Returns 0, or with a one-line reason in why:
 *   JV_ERR_IO     cannot open or read the file;
 *   JV_ERR_STATE  the file is not a regular file or its mode is too open;
 *   JV_ERR_PARSE  the content is not exactly one key.
 * key is wiped on failure.
 */
JV_MUST_CHECK int jv_cluster_key_load(const char *path,
				      uint8_t key[JV_CLUSTER_KEY_BYTES],
				      char *why, size_t why_len);

#endif
