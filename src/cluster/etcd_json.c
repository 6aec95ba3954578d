/* SPDX-License-Identifier: MIT */
/* etcd gateway JSON and the record value (see etcd_json.h). */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cluster/etcd_json.h"
#include "cluster/why.h"

enum { EJ_RECORD_VERSION = 1 };

/* ---- building ---- */

json_t *jv_ej_b64(const void *p, size_t n)
{
	size_t cap = sodium_base64_ENCODED_LEN(
		n, sodium_base64_VARIANT_ORIGINAL);
	char *s = malloc(cap);
	json_t *v;

	if (!s)
		return NULL;
	sodium_bin2base64(s, cap, p, n, sodium_base64_VARIANT_ORIGINAL);
	v = json_string(s);
	free(s);
	return v;
}

json_t *jv_ej_u64(uint64_t x)
{
	char s[24];

	snprintf(s, sizeof s, "%" PRIu64, x);
	return json_string(s);
}

static json_t *key_b64(const char *key)
{
	return jv_ej_b64(key, strlen(key));
}

json_t *jv_ej_cmp_mod(const char *key, uint64_t mod_revision)
{
	return json_pack("{s:o, s:s, s:s, s:o}", "key", key_b64(key),
			 "target", "MOD", "result", "EQUAL", "mod_revision",
			 jv_ej_u64(mod_revision));
}

json_t *jv_ej_cmp_absent(const char *key)
{
	return json_pack("{s:o, s:s, s:s, s:s}", "key", key_b64(key),
			 "target", "CREATE", "result", "EQUAL",
			 "create_revision", "0");
}

json_t *jv_ej_cmp_value(const char *key, const char *value)
{
	return json_pack("{s:o, s:s, s:s, s:o}", "key", key_b64(key),
			 "target", "VALUE", "result", "EQUAL", "value",
			 jv_ej_b64(value, strlen(value)));
}

json_t *jv_ej_op_put(const char *key, const void *val, size_t len,
		     int64_t lease)
{
	json_t *put = json_pack("{s:o, s:o}", "key", key_b64(key), "value",
				jv_ej_b64(val, len));

	if (put && lease &&
	    json_object_set_new(put, "lease", jv_ej_u64((uint64_t)lease))) {
		json_decref(put);
		return NULL;
	}
	return json_pack("{s:o}", "request_put", put);
}

json_t *jv_ej_op_range(const char *key)
{
	return json_pack("{s:{s:o}}", "request_range", "key", key_b64(key));
}

json_t *jv_ej_op_delete(const char *key)
{
	return json_pack("{s:{s:o}}", "request_delete_range", "key",
			 key_b64(key));
}

json_t *jv_ej_txn(json_t *compare, json_t *success, json_t *failure)
{
	return json_pack("{s:o, s:o, s:o}",
			 "compare", compare ? compare : json_array(),
			 "success", success ? success : json_array(),
			 "failure", failure ? failure : json_array());
}

json_t *jv_ej_op_txn(json_t *txn)
{
	return json_pack("{s:o}", "request_txn", txn);
}

char *jv_ej_dump(json_t *v)
{
	char *s;

	if (!v)
		return NULL;
	s = json_dumps(v, JSON_COMPACT);
	json_decref(v);
	return s;
}

/* ---- reading ---- */

json_t *jv_ej_load(const char *body, size_t len, char *why, size_t why_len)
{
	json_error_t err;
	json_t *v = json_loadb(body, len, JSON_REJECT_DUPLICATES, &err);

	if (!v) {
		jv_why(why, why_len, -1, "answer is not JSON (%s at byte %d)",
		       err.text, err.position);
		return NULL;
	}
	if (!json_is_object(v)) {
		json_decref(v);
		jv_why(why, why_len, -1, "answer is JSON but not an object");
		return NULL;
	}
	return v;
}

static int parse_u64(const char *s, uint64_t *out)
{
	uint64_t x = 0;
	unsigned d;

	if (!*s || strlen(s) > 20)
		return -1;
	for (; *s; s++) {
		d = (unsigned)(*s - '0');
		if (*s < '0' || *s > '9' || x > UINT64_MAX / 10 ||
		    (x == UINT64_MAX / 10 && d > UINT64_MAX % 10))
			return -1;
		x = x * 10 + d;
	}
	*out = x;
	return 0;
}

int jv_ej_get_u64(const json_t *obj, const char *field, bool required,
		  uint64_t *out, char *why, size_t why_len)
{
	const json_t *v = json_object_get(obj, field);

	*out = 0;
	if (!v) {
		if (required)
			return jv_why(why, why_len, -1, "no \"%s\"", field);
		return 0;
	}
	if (json_is_string(v) && !parse_u64(json_string_value(v), out) &&
	    *out <= INT64_MAX)
		return 0;
	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		*out = (uint64_t)json_integer_value(v);
		return 0;
	}
	return jv_why(why, why_len, -1, "\"%s\" is not a non-negative int64",
		      field);
}

int jv_ej_header_rev(const json_t *resp, uint64_t *rev, char *why,
		     size_t why_len)
{
	const json_t *h = json_object_get(resp, "header");

	if (!json_is_object(h))
		return jv_why(why, why_len, -1, "no \"header\" object");
	if (jv_ej_get_u64(h, "revision", true, rev, why, why_len))
		return -1;
	if (!*rev)
		return jv_why(why, why_len, -1, "header revision is 0");
	return 0;
}

/* Decode the base64 string obj.field into buf (at most cap bytes); an
 * absent field is empty. */
static int get_b64(const json_t *obj, const char *field, uint8_t *buf,
		   size_t cap, size_t *len, char *why, size_t why_len)
{
	const json_t *v = json_object_get(obj, field);
	const char *s, *end;

	*len = 0;
	if (!v)
		return 0;
	if (!json_is_string(v))
		return jv_why(why, why_len, -1, "\"%s\" is not a string",
			      field);
	s = json_string_value(v);
	if (sodium_base642bin(buf, cap, s, json_string_length(v), NULL, len,
			      &end, sodium_base64_VARIANT_ORIGINAL) ||
	    end != s + json_string_length(v))
		return jv_why(why, why_len, -1,
			      "\"%s\" is not base64 of at most %zu bytes",
			      field, cap);
	return 0;
}

int jv_ej_kv_parse(const json_t *o, struct jv_ej_kv *kv, char *why,
		    size_t why_len)
{
	uint64_t lease;
	size_t klen;

	if (!json_is_object(o))
		return jv_why(why, why_len, -1, "a kv is not an object");
	if (get_b64(o, "key", (uint8_t *)kv->key, sizeof kv->key - 1, &klen,
		    why, why_len) ||
	    get_b64(o, "value", kv->val, sizeof kv->val - 1, &kv->val_len,
		    why, why_len) ||
	    jv_ej_get_u64(o, "create_revision", true, &kv->create_revision,
			  why, why_len) ||
	    jv_ej_get_u64(o, "mod_revision", true, &kv->mod_revision, why,
			  why_len) ||
	    jv_ej_get_u64(o, "lease", false, &lease, why, why_len))
		return -1;
	kv->key[klen] = '\0';
	kv->val[kv->val_len] = '\0';
	kv->lease = (int64_t)lease;
	if (!klen || memchr(kv->key, '\0', klen))
		return jv_why(why, why_len, -1,
			      "a kv has an empty or binary key");
	if (!kv->create_revision || kv->mod_revision < kv->create_revision)
		return jv_why(why, why_len, -1,
			      "a kv has impossible revisions");
	return 0;
}

int jv_ej_range_one(const json_t *resp, bool *found, struct jv_ej_kv *kv,
		    char *why, size_t why_len)
{
	const json_t *kvs = json_object_get(resp, "kvs");

	*found = false;
	if (!json_is_object(resp))
		return jv_why(why, why_len, -1,
			      "range answer is not an object");
	if (!kvs)
		return 0;
	if (!json_is_array(kvs))
		return jv_why(why, why_len, -1, "\"kvs\" is not an array");
	if (json_array_size(kvs) > 1)
		return jv_why(why, why_len, -1,
			      "a range of one key gave %zu kvs",
			      json_array_size(kvs));
	if (json_array_size(kvs) == 0)
		return 0;
	if (jv_ej_kv_parse(json_array_get(kvs, 0), kv, why, why_len))
		return -1;
	*found = true;
	return 0;
}

int jv_ej_txn_answer(const json_t *resp, bool *succeeded,
		     const json_t **responses, char *why, size_t why_len)
{
	const json_t *s = json_object_get(resp, "succeeded");
	const json_t *r = json_object_get(resp, "responses");

	*succeeded = false;
	*responses = NULL;
	if (!json_is_object(resp))
		return jv_why(why, why_len, -1, "txn answer is not an object");
	if (s && !json_is_boolean(s))
		return jv_why(why, why_len, -1,
			      "\"succeeded\" is not a boolean");
	if (r && !json_is_array(r))
		return jv_why(why, why_len, -1,
			      "\"responses\" is not an array");
	*succeeded = s && json_is_true(s);
	*responses = r;
	return 0;
}

int jv_ej_response(const json_t *responses, size_t i, const char *kind,
		   const json_t **out, char *why, size_t why_len)
{
	const json_t *r = json_array_get(responses, i);

	*out = json_object_get(r, kind);
	if (!json_is_object(*out))
		return jv_why(why, why_len, -1, "txn response %zu is not a %s",
			      i, kind);
	return 0;
}

int jv_ej_error(const json_t *resp, long *code, const char **message)
{
	const json_t *e = json_object_get(resp, "error");
	const json_t *c = json_object_get(resp, "code");

	if (!json_is_string(e) || !json_is_integer(c))
		return -1;
	*code = (long)json_integer_value(c);
	*message = json_string_value(e);
	return 0;
}

/* ---- the record ---- */

void jv_ej_id_hex(const uint8_t id[JV_SESSION_ID_BYTES], char *out)
{
	sodium_bin2hex(out, 2 * JV_SESSION_ID_BYTES + 1, id,
		       JV_SESSION_ID_BYTES);
}

int jv_ej_id_parse(const char *hex, size_t len,
		   uint8_t id[JV_SESSION_ID_BYTES])
{
	size_t n;
	const char *end;

	if (len != 2 * JV_SESSION_ID_BYTES ||
	    sodium_hex2bin(id, JV_SESSION_ID_BYTES, hex, len, NULL, &n,
			   &end) ||
	    n != JV_SESSION_ID_BYTES || end != hex + len)
		return -1;
	return 0;
}

char *jv_ej_record_encode(const struct jv_store_rec *rec)
{
	char id[2 * JV_SESSION_ID_BYTES + 1];

	jv_ej_id_hex(rec->session_id, id);
	return jv_ej_dump(json_pack(
		"{s:i, s:s, s:I, s:s, s:o, s:o, s:o}", "v", EJ_RECORD_VERSION,
		"session_id", id, "receiver_index",
		(json_int_t)rec->receiver_index, "owner_node", rec->owner_node,
		"owner_epoch", jv_ej_u64(rec->owner_epoch), "state_version",
		jv_ej_u64(rec->state_version), "blob",
		jv_ej_b64(rec->blob, rec->len)));
}

int jv_ej_record_decode(const uint8_t *val, size_t len,
			struct jv_store_rec *rec, char *why, size_t why_len)
{
	json_error_t err;
	json_t *v, *epoch, *version, *blob;
	const char *id, *owner;
	json_int_t ver, index;
	size_t id_len, owner_len;
	int rc = -1;

	v = json_loadb((const char *)val, len, JSON_REJECT_DUPLICATES, &err);
	if (!v)
		return jv_why(why, why_len, -1, "record is not JSON (%s)",
			      err.text);
	if (json_unpack_ex(v, &err, JSON_STRICT,
			   "{s:I, s:s%, s:I, s:s%, s:o, s:o, s:o}", "v", &ver,
			   "session_id", &id, &id_len, "receiver_index", &index,
			   "owner_node", &owner, &owner_len, "owner_epoch",
			   &epoch, "state_version", &version, "blob", &blob)) {
		jv_why(why, why_len, -1, "record: %s", err.text);
		goto out;
	}
	if (ver != EJ_RECORD_VERSION) {
		jv_why(why, why_len, -1, "record format %lld, want %d",
		       (long long)ver, EJ_RECORD_VERSION);
		goto out;
	}
	if (jv_ej_id_parse(id, id_len, rec->session_id)) {
		jv_why(why, why_len, -1,
		       "record session_id is not 32 hex digits");
		goto out;
	}
	if (index < 0 || index > UINT32_MAX) {
		jv_why(why, why_len, -1, "record receiver_index out of range");
		goto out;
	}
	rec->receiver_index = (uint32_t)index;
	if (!owner_len || owner_len >= sizeof rec->owner_node ||
	    memchr(owner, '\0', owner_len)) {
		jv_why(why, why_len, -1, "record owner_node empty or too long");
		goto out;
	}
	memcpy(rec->owner_node, owner, owner_len + 1);
	if (!json_is_string(epoch) || !json_is_string(version) ||
	    parse_u64(json_string_value(epoch), &rec->owner_epoch) ||
	    parse_u64(json_string_value(version), &rec->state_version)) {
		jv_why(why, why_len, -1,
		       "record owner_epoch/state_version not decimal strings");
		goto out;
	}
	if (get_b64(v, "blob", rec->blob, sizeof rec->blob, &rec->len, why,
		    why_len))
		goto out;
	rc = 0;
out:
	json_decref(v);
	return rc;
}
