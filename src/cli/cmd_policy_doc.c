/* SPDX-License-Identifier: MIT */
/*
 * jvpn policy-doc: docs/policy.md, generated from the policy's field and
 * relation tables (src/core/policy.c), so the reference cannot drift from
 * the code; tests/docs diffs the committed copy against this output.
 */

#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "jvpn/diag.h"
#include "jvpn/policy.h"

static const char rules[] =
"## Rules\n"
"\n"
"- **Where.** The `[Policy]` section of the config file (section name compared\n"
"  case-insensitively); other sections belong to the daemon's config reader. A\n"
"  key before any section is an error. A file with no key in `[Policy]` gets the\n"
"  `default` profile. In the event log the policy travels as JSON (below).\n"
"- **Profiles (PD-3).** `profile = default` is the spec §4 defaults;\n"
"  `profile = fast` changes only the values in the *fast* column. Keys set in\n"
"  the section override the profile and the result is validated as one\n"
"  policy, so key order does not matter.\n"
"- **Required fields (§5).** Without a `profile` key, every field marked\n"
"  *required* must be present, so a forgotten field never takes a default\n"
"  silently. With a `profile` key (even `profile = default`) the profile\n"
"  supplies them and only `version` is required.\n"
"- **PD-4.** When `volatility.standby_probe_interval_ms` is not set it equals\n"
"  the resulting `volatility.heartbeat_interval_ms`.\n"
"- **Values.** Integers: decimal digits only (no sign, leading zero, exponent,\n"
"  unit or separator), overflow rejected. Reals: plain decimals (`0.25`,\n"
"  `1.1`). Bools: `true` or `false`. Protocol set: comma-separated names among\n"
"  `udp`, `quic`, `tcp`, each at most once. Enums: their names.\n"
"  `transport.candidate_score_threshold` also takes `off`.\n"
"- **Lines.** As everywhere in the config file (docs/config.md): leading\n"
"  blanks are ignored (the config reader strips them before libinih sees the\n"
"  line, so an indented line is never joined to the previous value), and a\n"
"  `#` or `;` with a blank before it starts a comment:\n"
"  `profile = fast  # laptops`. Without the blank it is part of the value.\n"
"- **Rejected.** An unknown key (the closest known key is suggested), a key set\n"
"  twice, a value that does not parse, a malformed line, a line too long for\n"
"  the INI reader's buffer.\n"
"- **Validation order.** The first failure is reported with file, line, key,\n"
"  value and the allowed range: (1) each line as it is read: known key, not a\n"
"  duplicate, value of the right type; (2) required fields; (3) each field's\n"
"  own range, in the order of the table below; (4) each cross-field relation,\n"
"  in the order of its table. When the failing field came from the profile, the\n"
"  line is the one of the field it is compared with.\n"
"- **Core invariants (§5 (4))** cannot be disabled: `security.strict_validation`\n"
"  and `observability.emit_security_events` must be true,\n"
"  `security.replay_window_size` at least 1, and lifetimes, TTLs and the switch\n"
"  rate finite.\n";

static const char json_rules[] =
"- **JSON.** `jvpn` writes the policy in force into `SessionCreated`\n"
"  (`details.policy`) with the same keys: ms and counts as integers, reals as\n"
"  numbers, `off` as `null`, the protocol set as an array of names, enums and\n"
"  `version` as strings. Reading it back applies the same rules (unknown keys\n"
"  rejected, required fields, validation) and gives the identical policy.\n"
"- **Runtime change (§5, D-026).** A new policy (a reload) applies to the\n"
"  sessions made from then on and to every live one, by the new policy's\n"
"  `policy_change_mode`. `strict`: adopted at once, and armed deadlines are\n"
"  recomputed from their start (a session already past a tightened lifetime\n"
"  or transportless TTL ends there and then; a loosened one is extended).\n"
"  `grace`: adopted at the end of the session's next transition (that\n"
"  transition's events still name the old version); a newer update before\n"
"  then replaces it. Each adoption is logged as `PolicyUpdate` (`APPLIED`,\n"
"  `previous_policy_version`, `mode`, `details.policy`), and every later\n"
"  event names the new `version`. An invalid policy, or a `version` already\n"
"  in force with other values (a version names one content: bump it),\n"
"  changes nothing and is logged as `PolicyUpdate` (`REJECTED`,\n"
"  `policy_invalid`, `field`). The same policy again changes nothing.\n"
"  Client and gateway each apply their own policy; nothing is negotiated.\n";

static const char minimal[] =
"[Policy]\n"
"version = 1.0\n"
"profile = fast\n"
"switching.max_switches_per_min = 4\n";

static const char broken[] =
"[Policy]\n"
"version = 1.0\n"
"profile = default\n"
"volatility.heartbeat_interval_ms = 500\n"
"volatility.heartbeat_volatile_ms = 400\n";

/* Formatting into fixed buffers that are large enough by construction. */
static const char *text(int rc, char *buf)
{
	return rc < 0 ? "?" : buf;
}

static void print_fields(void)
{
	struct jv_policy def, fast;
	char dv[64], fv[64], range[160], rel[128];

	jv_policy_default(&def);
	if (jv_policy_profile(&fast, "fast", NULL))
		jv_policy_default(&fast);
	printf("## Fields\n\n"
	       "| Key | Spec name | Unit | Default | fast | Valid | Required | Meaning |\n"
	       "|---|---|---|---|---|---|---|---|\n");
	for (size_t i = 0; i < jv_policy_field_count(); i++) {
		const struct jv_policy_field *f = jv_policy_field_at(i);
		size_t pos;
		int rc;

		rc = jv_policy_field_format(f, &def, dv, sizeof(dv));
		if (rc < 0)
			strcpy(dv, "?");
		rc = jv_policy_field_format(f, &fast, fv, sizeof(fv));
		if (rc < 0)
			strcpy(fv, "?");
		if (jv_policy_field_range(f, range, sizeof(range)) < 0)
			strcpy(range, "?");
		pos = strlen(range);
		/* The relations where this field is on the left. */
		for (size_t r = 0; r < jv_policy_rel_count(); r++) {
			const struct jv_policy_rel *rl = jv_policy_rel_at(r);

			if (jv_policy_field_at(rl->a) != f)
				continue;
			if (jv_policy_rel_format(rl, rel, sizeof(rel)) < 0)
				continue;
			pos += (size_t)snprintf(range + pos, sizeof(range) - pos,
						"; %s", rel);
			if (pos >= sizeof(range))
				break;
		}
		printf("| `%s` | %s | %s | %s | %s%s | %s | %s | %s |\n",
		       f->key, f->spec_name[0] ? f->spec_name : "-", f->unit, dv,
		       fv, strcmp(dv, fv) ? " **" : "", range,
		       !(f->flags & JV_PF_REQUIRED) ? "no" :
		       f->kind == JV_PK_VERSION ? "yes" : "yes, unless a profile is named",
		       f->meaning);
	}
}

static void print_relations(void)
{
	char rel[128];

	printf("\n## Cross-field relations\n\n"
	       "Checked after every field's own range, in this order.\n\n"
	       "| # | Field | Must be | Source |\n"
	       "|---|---|---|---|\n");
	for (size_t r = 0; r < jv_policy_rel_count(); r++) {
		const struct jv_policy_rel *rl = jv_policy_rel_at(r);

		printf("| %zu | `%s` | %s | %s |\n", r + 1,
		       jv_policy_field_at(rl->a)->key,
		       text(jv_policy_rel_format(rl, rel, sizeof(rel)), rel),
		       rl->why);
	}
	printf("\nSources marked [R] are the project's, not the seed's (spec OP-12).\n");
}

static void print_caps(void)
{
	printf("\n## Upper caps [R]\n\n"
	       "The seed gives no upper bound for these; the caps keep every bound\n"
	       "finite (§5 (4)) and every value inside the fixed-size structure that\n"
	       "holds it:\n\n"
	       "- every `_ms` value <= %u (7 days);\n"
	       "- `switching.max_switches_per_min` <= %d (ring of recent switch times);\n"
	       "- `transport.max_candidate_count` <= %d (transports per session);\n"
	       "- `security.replay_window_size` <= %u (anti-replay bitmap);\n"
	       "- `transport.candidate_score_threshold` <= 100 (scores are 0..100, §6.1);\n"
	       "- `security.control_rate_per_sec` <= 100000; `security.rekey_interval_ms`\n"
	       "  >= 1000 (OP-11: rekeys are bounded).\n",
	       JV_POLICY_MS_CAP, JV_POLICY_SWITCHES_CAP, JV_POLICY_CANDIDATES_CAP,
	       JV_POLICY_REPLAY_WINDOW_CAP);
}

static int print_examples(void)
{
	static char ini[8192];
	struct jv_policy def, p;
	struct jv_diag d;
	char msg[JV_DIAG_TEXT_MAX];
	int rc;

	jv_policy_default(&def);
	rc = jv_policy_to_ini(&def, ini, sizeof(ini));
	if (rc < 0) {
		fprintf(stderr, "jvpn policy-doc: %s\n", jv_strerror(rc));
		return 1;
	}
	printf("\n## Examples\n\n"
	       "Every key, with the default profile's values (what `profile =\n"
	       "default` gives):\n\n```ini\n%s```\n\n"
	       "The fast profile with one override:\n\n```ini\n%s```\n\n",
	       ini, minimal);
	rc = jv_policy_load_ini(broken, "policy.ini", &p, &d);
	if (rc == 0 || jv_diag_format(&d, msg, sizeof(msg)) < 0) {
		fprintf(stderr, "jvpn policy-doc: example error not reported\n");
		return 1;
	}
	printf("An invalid policy is refused with the first failure:\n\n"
	       "```ini\n%s```\n\n```\n%s\n```\n", broken, msg);
	return 0;
}

int cmd_policy_doc(int argc, char **argv)
{
	(void)argv;
	if (argc > 1) {
		fprintf(stderr, "usage: jvpn policy-doc\n");
		return 2;
	}
	printf("# Policy reference\n\n"
	       "<!-- Generated by `jvpn policy-doc` from the tables in\n"
	       "src/core/policy.c; do not edit, run `make docs`. -->\n\n"
	       "The policy (spec §4, §5, PD-3, PD-4) bounds every timer, threshold and\n"
	       "switch limit of a session. A session holds an immutable, validated\n"
	       "snapshot; an invalid policy refuses to start a session with a message\n"
	       "naming the field.\n\n");
	printf("%s%s\n", rules, json_rules);
	print_fields();
	printf("\n`**` marks the values the `fast` profile changes.\n");
	print_relations();
	print_caps();
	return print_examples();
}
