/* SPDX-License-Identifier: MIT */
#ifndef JVPN_CLUSTER_ETCD_JSON_H
#define JVPN_CLUSTER_ETCD_JSON_H

/*
 * The JSON of etcd v3's gateway (grpc-gateway over etcdserverpb), both
 * ways, and the JSON of a session record.
 *
 * What the gateway sends, as etcd 3.4 does: keys and values base64
 * (standard alphabet, padded), int64 as decimal strings, and fields that
 * hold their zero value left out ("succeeded" of a failed txn, "kvs" of an
 * empty range, "TTL" of a dead lease).  The parsers accept exactly that:
 * a missing optional field is its zero, a field of the wrong type or a
 * value that does not decode is an error with a reason; fields we do not
 * read are ignored, so a newer etcd that adds some still parses.
 *
 * The record value (key P/s/<id>) is JSON so that `etcdctl get` shows it:
 *   {"v":1,"session_id":"<32 hex>","receiver_index":N,
 *    "owner_node":"gw1","owner_epoch":"E","state_version":"V",
 *    "blob":"<base64 of the sealed body>"}
 * with the 64-bit numbers as decimal strings (exact past 2^53, like
 * etcd's own).  It is ours, so it is read strictly: every field, nothing
 * else.  revision and owner_live come from etcd, not from the value.
 *
 * Private to src/cluster.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cluster/store.h"

enum jv_ej_limits {
	JV_EJ_KEY_MAX = 256,
	/* A record value: the blob in base64 plus a few hundred bytes. */
	JV_EJ_VALUE_MAX = 4096,
	JV_EJ_WHY_MAX = 400,
};

/* ---- building requests (each returns a new reference or NULL) ---- */

json_t *jv_ej_b64(const void *p, size_t n);
json_t *jv_ej_u64(uint64_t v);
/* Compares, all "EQUAL". */
json_t *jv_ej_cmp_mod(const char *key, uint64_t mod_revision);
json_t *jv_ej_cmp_absent(const char *key);	/* create_revision == 0 */
json_t *jv_ej_cmp_value(const char *key, const char *value);
/* Request ops of a txn. */
json_t *jv_ej_op_put(const char *key, const void *val, size_t len,
		     int64_t lease);
json_t *jv_ej_op_range(const char *key);
json_t *jv_ej_op_delete(const char *key);
/* A txn body; compare, success and failure are stolen (NULL: empty). */
json_t *jv_ej_txn(json_t *compare, json_t *success, json_t *failure);
/* A txn as an op of another txn (stolen). */
json_t *jv_ej_op_txn(json_t *txn);
/* Compact text of v (stolen); NULL if v is NULL or out of memory. */
char *jv_ej_dump(json_t *v);

/* ---- reading answers: 0, or -1 with a reason in why ---- */

struct jv_ej_kv {
	char key[JV_EJ_KEY_MAX];	/* NUL-terminated */
	uint8_t val[JV_EJ_VALUE_MAX + 1];	/* NUL-terminated too */
	size_t val_len;
	uint64_t create_revision, mod_revision;
	int64_t lease;
};

/* One kv object of a range or a watch event. */
int jv_ej_kv_parse(const json_t *o, struct jv_ej_kv *kv, char *why,
		   size_t why_len);
/* The body as one JSON object (a new reference). */
json_t *jv_ej_load(const char *body, size_t len, char *why, size_t why_len);
/* A non-negative int64 as the gateway writes it ("12") or as a number. */
int jv_ej_get_u64(const json_t *obj, const char *field, bool required,
		  uint64_t *out, char *why, size_t why_len);
/* header.revision (> 0). */
int jv_ej_header_rev(const json_t *resp, uint64_t *rev, char *why,
		     size_t why_len);
/* The answer to a range of one key: found, and if so its kv. */
int jv_ej_range_one(const json_t *resp, bool *found, struct jv_ej_kv *kv,
		    char *why, size_t why_len);
/* A txn answer: succeeded, and responses (borrowed; an empty array when
 * absent is reported as NULL). */
int jv_ej_txn_answer(const json_t *resp, bool *succeeded,
		     const json_t **responses, char *why, size_t why_len);
/* responses[i].<kind> ("response_range", "response_txn"). */
int jv_ej_response(const json_t *responses, size_t i, const char *kind,
		   const json_t **out, char *why, size_t why_len);
/* A gateway error body {"error":..,"code":N,...}: 0 when it is one. */
int jv_ej_error(const json_t *resp, long *code, const char **message);

/* ---- the record value ---- */

/* The record as its JSON text (malloc'd) or NULL. */
char *jv_ej_record_encode(const struct jv_store_rec *rec);
/* Fill rec's stored fields (not revision, not owner_live). */
int jv_ej_record_decode(const uint8_t *val, size_t len,
			struct jv_store_rec *rec, char *why, size_t why_len);

/* Lower-case hex of a session id into out[2 * JV_SESSION_ID_BYTES + 1]. */
void jv_ej_id_hex(const uint8_t id[JV_SESSION_ID_BYTES], char *out);
/* Exactly 32 hex digits to an id: 0 or -1. */
int jv_ej_id_parse(const char *hex, size_t len,
		   uint8_t id[JV_SESSION_ID_BYTES]);

#endif
