/* SPDX-License-Identifier: MIT */
/*
 * Reads `jvpn audit --json` on stdin and checks its shape: one JSON
 * document with files[] (file, violations[], streams[] unless --quiet,
 * summary, verdict) and the overall verdict and count.  A log set audited
 * together has its streams[] and summary at the top level, and a finding
 * with a second place names it as other {file, line}.
 *
 *   json_check VERDICT [CHECK-ID]
 * Exit 0 if the document is well formed, its verdict is VERDICT and, if
 * given, some violation has check CHECK-ID; 1 otherwise (with a reason).
 */

#include <stdio.h>
#include <string.h>

#include <jansson.h>

static int fail(const char *why)
{
	fprintf(stderr, "json_check: %s\n", why);
	return 1;
}

static int streams_ok(const json_t *v)
{
	const json_t *s;
	size_t j;

	if (v && !json_is_array(v))
		return 0;
	json_array_foreach(v, j, s) {
		if (!json_is_array(json_object_get(s, "timeline")) ||
		    !json_is_string(json_object_get(s, "session_id")))
			return 0;
	}
	return 1;
}

int main(int argc, char **argv)
{
	json_error_t err;
	json_t *root, *files, *f, *v;
	size_t i, j;
	long long total = 0;
	int found = argc < 3;

	if (argc < 2)
		return fail("usage: json_check VERDICT [CHECK-ID]");
	root = json_loadf(stdin, JSON_REJECT_DUPLICATES, &err);
	if (!root)
		return fail(err.text);
	files = json_object_get(root, "files");
	if (!json_is_array(files) || json_array_size(files) == 0)
		return fail("no files[]");
	json_array_foreach(files, i, f) {
		json_t *viol = json_object_get(f, "violations");
		json_t *sum = json_object_get(f, "summary");

		if (!json_is_string(json_object_get(f, "file")) ||
		    !json_is_array(viol) || !json_is_object(sum) ||
		    !json_is_string(json_object_get(f, "verdict")))
			return fail("a file entry lacks file, violations, "
				    "summary or verdict");
		if ((long long)json_array_size(viol) !=
		    json_integer_value(json_object_get(sum, "violations")))
			return fail("violations[] and summary.violations differ");
		json_array_foreach(viol, j, v) {
			const char *c = json_string_value(
				json_object_get(v, "check"));

			json_t *o = json_object_get(v, "other");

			if (!c || !json_is_string(json_object_get(v, "message")))
				return fail("a violation lacks check or message");
			if (o && (!json_is_integer(json_object_get(o, "line")) ||
				  !json_is_string(json_object_get(o, "file"))))
				return fail("a second place lacks file or line");
			if (argc > 2 && !strcmp(c, argv[2]))
				found = 1;
		}
		total += (long long)json_array_size(viol);
		if (!streams_ok(json_object_get(f, "streams")))
			return fail("a file's streams are no array of streams "
				    "with timeline and session_id");
	}
	if (!streams_ok(json_object_get(root, "streams")))
		return fail("the set's streams are no array of streams with "
			    "timeline and session_id");
	v = json_object_get(root, "summary");
	if (v && json_integer_value(json_object_get(v, "violations")) != total)
		return fail("the set's summary does not count the files' "
			    "violations");
	if (json_integer_value(json_object_get(root, "violations")) != total)
		return fail("the total is not the sum of the files'");
	if (strcmp(json_string_value(json_object_get(root, "verdict")) ?
		   json_string_value(json_object_get(root, "verdict")) : "",
		   argv[1]))
		return fail("wrong verdict");
	if (!found)
		return fail("the expected check is not among the violations");
	json_decref(root);
	return 0;
}
