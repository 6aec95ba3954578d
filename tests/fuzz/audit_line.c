/* SPDX-License-Identifier: MIT */
/*
 * Fuzz the auditor (src/audit): the input is a log, its lines fed in
 * order to one auditor, then finished.  Whatever the bytes, the audit
 * ends with a report whose counts add up, never a crash; and on every
 * line, the fast canonical reader may accept only what the strict reader
 * (jv_event_parse) accepts, reading the same event, so the fast path can
 * change the audit's speed but never its findings.
 */

#include <string.h>

#include "audit/audit.h"
#include "audit/audit_impl.h"
#include "fuzz.h"
#include "jvpn/eventlog.h"

static void same_reading(const struct au_fast *f, const char *line,
			 size_t len)
{
	static char scratch[2 * JV_EVENT_LINE_MAX];
	struct jv_parsed_event a, b;

	if (!au_fast_parse(f, line, len, scratch, sizeof scratch, &a))
		return;
	FUZZ_ASSERT(jv_event_parse(line, len, &b, NULL) == JV_OK);
	FUZZ_ASSERT(a.ev.type == b.ev.type && a.ev.ts_ms == b.ev.ts_ms &&
		    a.ev.state_version == b.ev.state_version &&
		    a.ev.set == b.ev.set && a.seq == b.seq &&
		    a.origin.role == b.origin.role &&
		    !strcmp(a.prev_hash, b.prev_hash) &&
		    !strcmp(a.origin.session_id, b.origin.session_id) &&
		    !strcmp(a.origin.node_id, b.origin.node_id) &&
		    !strcmp(a.origin.policy_version, b.origin.policy_version));
	for (int i = 0; i < JV_F_COUNT; i++) {
		const char *pa = (const char *)&a.ev + f->off[i];
		const char *pb = (const char *)&b.ev + f->off[i];
		const char *sa, *sb;

		if (!((a.ev.set >> i) & 1))
			continue;
		switch (f->kind[i]) {
		case JV_KIND_STR:
			memcpy(&sa, pa, sizeof sa);
			memcpy(&sb, pb, sizeof sb);
			FUZZ_ASSERT((sa == NULL) == (sb == NULL));
			FUZZ_ASSERT(!sa || !strcmp(sa, sb));
			break;
		case JV_KIND_REASON:
			FUZZ_ASSERT(a.ev.reason_code == b.ev.reason_code);
			break;
		case JV_KIND_U64:
		case JV_KIND_F64:
			FUZZ_ASSERT(!memcmp(pa, pb, 8));
			break;
		case JV_KIND_BOOL:
			FUZZ_ASSERT(!memcmp(pa, pb, sizeof(bool)));
			break;
		default:
			FUZZ_ASSERT(!memcmp(pa, pb, sizeof(int)));
			break;
		}
	}
	jv_parsed_event_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	struct jv_audit_report r;
	struct jv_audit *a;
	struct au_fast f;
	unsigned long lineno = 0;
	uint64_t sum = 0;

	au_fast_init(&f);
	if (jv_audit_new(NULL, &a) != JV_OK)
		return 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);

		same_reading(&f, p, len);
		FUZZ_ASSERT(jv_audit_line(a, p, len, ++lineno) == JV_OK);
		p += len + (nl ? 1 : 0);
	}
	FUZZ_ASSERT(jv_audit_finish(a, size && data[size - 1] != '\n', &r) ==
		    JV_OK);
	for (int c = 0; c < JV_AC_COUNT; c++)
		sum += r.by_check[c];
	FUZZ_ASSERT(sum == r.violations && r.pass == (r.violations == 0));
	FUZZ_ASSERT(r.lines == lineno && r.events <= r.lines);
	FUZZ_ASSERT(r.streams == r.streams_client + r.streams_gateway);
	jv_audit_free(a);
	return 0;
}
