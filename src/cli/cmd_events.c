/* SPDX-License-Identifier: MIT */
/*
 * jvpn events [IFACE] [-n N] [--since TIME] [--format text|json]
 *             [--session ID] [--type EVENT] [--follow] [--file PATH]
 *             [--config FILE | --socket PATH] [--dir DIR]
 *
 * The event log, filtered.  The daemon answers `events` with its file and
 * the size at the moment of the request; we read the file up to that
 * size, then (with --follow) every line the daemon streams from then on,
 * so nothing is missed or printed twice.  When no daemon answers, the
 * file itself is read: --file, else the config's EventLog (--config),
 * else the default log of IFACE.  Lines are read with the strict event
 * parser of the audit (jv_event_parse): the filters and the text format
 * see typed events, and a line that is not one is counted, not guessed
 * at.
 *
 * Exit: 0; 1 when the log cannot be read, or --follow's stream ends (the
 * daemon stopped, or dropped us); 2 on bad arguments.
 */

#define _POSIX_C_SOURCE 200809L	/* clock_gettime */

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "daemon/config.h"
#include "daemon/ctl_client.h"
#include "human.h"
#include "jvpn/eventlog.h"
#include "logread.h"

enum {
	EVENTS_N_MAX = 1000000,		/* -n */
	EVENTS_SID_MIN = 8,		/* --session: hex digits at least */
	EVENTS_GONE_MS = 3000,		/* --follow: wait for the socket to go */
};

struct filter {
	long long last_n;		/* -1: every line */
	bool has_since;
	uint64_t since_ms;
	int type;			/* -1: any */
	char sid[JV_SESSION_ID_HEX];	/* prefix, "" any */
	bool text;
};

struct out {
	const struct filter *f;
	unsigned long bad;		/* lines that are not events */
	/* -n: the last N matching lines, a ring */
	char **ring;
	size_t head, count;
};

static const char prog[] = "jvpn events";

static int usage(FILE *f)
{
	fprintf(f, "usage: jvpn events [IFACE] [-n N] [--since TIME] [--format text|json]\n"
		   "                   [--session ID] [--type EVENT] [--follow] [--file PATH]\n"
		   "                   [--config FILE | --socket PATH] [--dir DIR]\n");
	return f == stdout ? 0 : 2;
}

static uint64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- arguments ------------------------------------------------------------ */

static int bad_type(const char *s)
{
	fprintf(stderr, "%s: --type '%s' is not an event type; one of:", prog, s);
	for (int t = 0; t < JV_EV_COUNT; t++)
		fprintf(stderr, " %s", jv_event_type_name(t));
	fprintf(stderr, "\n");
	return 2;
}

static int parse_n(const char *s, long long *out)
{
	char *end;
	long long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || v > EVENTS_N_MAX)
		return -1;
	*out = v;
	return 0;
}

static int parse_sid(const char *s, char out[JV_SESSION_ID_HEX])
{
	size_t l = strlen(s);

	if (l < EVENTS_SID_MIN || l > JV_SESSION_ID_HEX - 1)
		return -1;
	for (size_t i = 0; i < l; i++) {
		char c = s[i];

		if (c >= 'A' && c <= 'F')
			c = (char)(c - 'A' + 'a');
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return -1;
		out[i] = c;
	}
	out[l] = '\0';
	return 0;
}

/* ---- one line ------------------------------------------------------------- */

/* Keys every line has, or that the headline already shows. */
static bool shown(const char *k)
{
	static const char *const base[] = {
		"ts_ms", "event_type", "session_id", "node_id", "role",
		"policy_version", "state_version", "seq", "prev_hash",
		"reason_code", "previous_state", "new_state",
		"previous_transport", "new_transport", "details", NULL,
	};

	for (size_t i = 0; base[i]; i++)
		if (!strcmp(k, base[i]))
			return true;
	return false;
}

static void kv(FILE *f, const char *k, const json_t *v)
{
	if (json_is_string(v)) {
		fprintf(f, " %s=%s", k, json_string_value(v));
	} else {
		char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

		fprintf(f, " %s=%s", k, s ? s : "?");
		free(s);
	}
}

/*
 * "2026-12-07 14:55:01.123 f45698d2 client SessionStateChange
 *  ATTACHED -> VOLATILE (transport_dead) heartbeat_age_ms=460": time,
 * session short id, role, type, the states or transports it moves
 * between and why, then its other fields (details.policy left out).
 */
static void print_text(const struct jv_parsed_event *p)
{
	const struct jv_event *ev = &p->ev;
	char t[HUMAN_TIME_MAX];
	const json_t *details = json_object_get(p->root, "details");
	const char *k;
	json_t *v;

	printf("%s %.8s %s %s", human_time(ev->ts_ms, t),
	       p->origin.session_id ? p->origin.session_id : "--------",
	       json_string_value(json_object_get(p->root, "role")) ?: "-",
	       jv_event_type_name(ev->type));
	if (JV_EV_HAS(ev, previous_state) && JV_EV_HAS(ev, new_state))
		printf(" %s -> %s", jv_state_name(ev->previous_state),
		       jv_state_name(ev->new_state));
	if (JV_EV_HAS(ev, new_transport))
		printf(" %s -> %s", JV_EV_HAS(ev, previous_transport) &&
		       ev->previous_transport ? ev->previous_transport : "(none)",
		       ev->new_transport ? ev->new_transport : "(none)");
	if (JV_EV_HAS(ev, reason_code))
		printf(" (%s)", jv_reason_name(ev->reason_code));
	json_object_foreach((json_t *)p->root, k, v)
		if (!shown(k))
			kv(stdout, k, v);
	json_object_foreach((json_t *)details, k, v)
		if (strcmp(k, "policy"))
			kv(stdout, k, v);
	printf("\n");
}

/* Does the line pass the filters?  1 yes, 0 no, -1 not an event. */
static int match(const struct filter *f, const char *line, size_t len,
		 struct jv_parsed_event *p)
{
	struct jv_diag d;

	if (jv_event_parse(line, len, p, &d))
		return -1;
	if (f->type >= 0 && (int)p->ev.type != f->type)
		return 0;
	if (f->sid[0] && (!p->origin.session_id ||
			  strncmp(p->origin.session_id, f->sid,
				  strlen(f->sid))))
		return 0;
	if (f->has_since && p->ev.ts_ms < f->since_ms)
		return 0;
	return 1;
}

/* Print one line in the chosen format; false when stdout is gone. */
static bool emit(const struct filter *f, const char *line, size_t len,
		 const struct jv_parsed_event *p)
{
	if (f->text) {
		print_text(p);
	} else {
		fwrite(line, 1, len, stdout);
		putchar('\n');
	}
	return !ferror(stdout);
}

/* One line of the history or the stream: printed, or kept for -n. */
static int take(struct out *o, const char *line, size_t len)
{
	struct jv_parsed_event p;
	int m = match(o->f, line, len, &p);
	bool ok = true;

	if (m < 0) {
		o->bad++;
		return 0;
	}
	if (m && !o->ring)
		ok = emit(o->f, line, len, &p);
	jv_parsed_event_free(&p);
	if (!m || !o->ring)
		return ok ? 0 : -1;
	if (!o->f->last_n)
		return 0;
	size_t slot = (o->head + o->count) % (size_t)o->f->last_n;
	char *copy = strndup(line, len);

	if (!copy) {
		fprintf(stderr, "%s: out of memory\n", prog);
		return -1;
	}
	if (o->count == (size_t)o->f->last_n) {
		free(o->ring[o->head]);
		o->ring[o->head] = copy;
		o->head = (o->head + 1) % (size_t)o->f->last_n;
	} else {
		o->ring[slot] = copy;
		o->count++;
	}
	return 0;
}

/* -n: print what the ring kept, oldest first (unless !print), and
 * free it. */
static int flush_ring(struct out *o, bool print)
{
	int rc = print ? 0 : -1;

	for (size_t i = 0; i < o->count; i++) {
		char *l = o->ring[(o->head + i) % (size_t)o->f->last_n];
		struct jv_parsed_event p;

		if (!rc && match(o->f, l, strlen(l), &p) == 1) {
			if (!emit(o->f, l, strlen(l), &p))
				rc = -1;
			jv_parsed_event_free(&p);
		}
		free(l);
	}
	free(o->ring);
	o->ring = NULL;
	o->count = 0;
	return rc;
}

/* The history: path up to limit bytes (-1: all of it). 0, or 1 after one
 * line on stderr. */
static int read_log(struct out *o, const char *path, long long limit)
{
	struct logread r;
	unsigned long long done = 0;
	FILE *f = fopen(path, "re");
	int rc = 0, n;

	if (!f) {
		fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
		return 1;
	}
	if (logread_init(&r, f)) {
		fprintf(stderr, "%s: out of memory\n", prog);
		fclose(f);
		return 1;
	}
	while ((limit < 0 || done < (unsigned long long)limit) &&
	       (n = logread_next(&r)) > 0) {
		done += r.len + 1;
		if (r.overlong) {
			o->bad++;
			continue;
		}
		if (take(o, r.line, r.len)) {
			rc = 1;
			break;
		}
	}
	if (!rc && ferror(f)) {
		fprintf(stderr, "%s: %s: read error: %s\n", prog, path,
			strerror(errno));
		rc = 1;
	}
	logread_fini(&r);
	fclose(f);
	if (o->bad)
		fprintf(stderr, "%s: %s: %lu line%s not read as events (jvpn audit %s says why)\n",
			prog, path, o->bad, o->bad == 1 ? "" : "s", path);
	return rc;
}

/* ---- where the log is ----------------------------------------------------- */

/* The log to read when no daemon answers: --config's EventLog (its
 * default when the file has none), else IFACE's default.  0 with the
 * path, or 1 after saying why. */
static int offline_log(const char *config, const char *iface, char *out,
		       size_t n)
{
	if (config) {
		struct jv_config *cfg = NULL;
		struct jv_diag d;
		char text[JV_DIAG_TEXT_MAX];

		if (jv_config_load(config, &cfg, &d)) {
			if (jv_diag_format(&d, text, sizeof text) < 0)
				text[sizeof text - 1] = '\0';
			fprintf(stderr, "%s: %s\n", prog, text);
			jv_config_free(cfg);
			return 1;
		}
		if (!cfg->event_log[0]) {
			fprintf(stderr, "%s: %s has EventLog = off: no log to read\n",
				prog, config);
			jv_config_free(cfg);
			return 1;
		}
		snprintf(out, n, "%s", cfg->event_log);
		jv_config_free(cfg);
		return 0;
	}
	if (iface) {
		snprintf(out, n, "/var/log/jvpn/%s.jsonl", iface);
		return 0;
	}
	return 1;
}

/* The interface name the daemon gives (for messages); the socket's name
 * when it does not say. */
static void daemon_name(const char *sock, char *out, size_t n)
{
	struct jv_ctl_client c;
	char why[256];
	json_t *r = NULL;

	jv_ctl_sock_iface(sock, out, n);
	if (jv_ctl_client_open(&c, sock, why, sizeof why))
		return;
	if (!jv_ctl_client_call(&c, "status", &r, why, sizeof why) &&
	    json_is_string(json_object_get(r, "interface")))
		snprintf(out, n, "%s",
			 json_string_value(json_object_get(r, "interface")));
	json_decref(r);
	jv_ctl_client_close(&c);
}

/* After the stream ended: is the daemon gone?  Its socket file goes at
 * the end of its teardown, a moment after the stream closes, so this
 * watches for that for up to EVENTS_GONE_MS. */
static bool daemon_gone(const char *sock)
{
	struct timespec step = { 0, 50 * 1000000L };
	struct jv_ctl_client probe;
	char why[256];

	for (int i = 0; i < EVENTS_GONE_MS / 50; i++) {
		if (jv_ctl_client_open(&probe, sock, why, sizeof why))
			return true;
		jv_ctl_client_close(&probe);
		nanosleep(&step, NULL);
	}
	return false;
}

/* --follow: the lines the daemon streams, until it goes. Returns 1 (the
 * stream always ends by the daemon's doing, or stdout's). */
static int follow(struct out *o, struct jv_ctl_client *c, const char *sock,
		  const char *name)
{
	static char line[JV_EVENT_LINE_MAX + 2];

	signal(SIGPIPE, SIG_DFL);
	for (;;) {
		ssize_t n = jv_ctl_client_line(c, line, sizeof line);

		if (n <= 0) {
			fflush(stdout);
			if (n < 0)
				fprintf(stderr, "%s: the stream from the daemon on %s failed (%s)\n",
					prog, name, jv_strerror((int)n));
			else if (daemon_gone(sock))
				fprintf(stderr, "%s: the daemon on %s stopped\n",
					prog, name);
			else
				fprintf(stderr, "%s: the daemon on %s closed the stream (it drops a reader too slow to keep up)\n",
					prog, name);
			return 1;
		}
		if (take(o, line, strlen(line)) || fflush(stdout))
			return 1;
	}
}

int cmd_events(int argc, char **argv)
{
	const char *sock = NULL, *config = NULL, *file = NULL, *iface = NULL;
	const char *dir = NULL;
	struct filter f = { .last_n = -1, .type = -1 };
	struct out o = { .f = &f };
	char path[JV_CFG_PATH_MAX], why[512], name[JV_CFG_PATH_MAX];
	struct jv_ctl_client c = { .fd = -1 };
	bool want_follow = false;
	json_t *r = NULL;
	int rc;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		bool takes = strcmp(a, "-n") == 0 || !strcmp(a, "--since") ||
			     !strcmp(a, "--format") || !strcmp(a, "--session") ||
			     !strcmp(a, "--type") || !strcmp(a, "--file") ||
			     !strcmp(a, "--socket") || !strcmp(a, "--config") ||
			     !strcmp(a, "--dir");

		if (!strcmp(a, "--help") || !strcmp(a, "-h"))
			return usage(stdout);
		if (takes && !v) {
			fprintf(stderr, "%s: %s needs a value\n", prog, a);
			return 2;
		}
		if (takes)
			i++;
		if (!strcmp(a, "--follow") || !strcmp(a, "-f")) {
			want_follow = true;
		} else if (!strcmp(a, "-n")) {
			if (parse_n(v, &f.last_n)) {
				fprintf(stderr, "%s: -n '%s': a number of events, 0 to %d\n",
					prog, v, EVENTS_N_MAX);
				return 2;
			}
		} else if (!strcmp(a, "--since")) {
			if (human_parse_since(v, wall_ms(), &f.since_ms)) {
				fprintf(stderr, "%s: --since '%s': an RFC 3339 time (2026-12-07T14:55:00Z) or an age (30s, 10m, 2h, 1d)\n",
					prog, v);
				return 2;
			}
			f.has_since = true;
		} else if (!strcmp(a, "--format")) {
			if (strcmp(v, "text") && strcmp(v, "json")) {
				fprintf(stderr, "%s: --format '%s': text or json\n",
					prog, v);
				return 2;
			}
			f.text = !strcmp(v, "text");
		} else if (!strcmp(a, "--session")) {
			if (parse_sid(v, f.sid)) {
				fprintf(stderr, "%s: --session '%s': a session id or its first %d+ hex digits\n",
					prog, v, EVENTS_SID_MIN);
				return 2;
			}
		} else if (!strcmp(a, "--type")) {
			f.type = jv_event_type_from_name(v);
			if (f.type < 0)
				return bad_type(v);
		} else if (!strcmp(a, "--file")) {
			file = v;
		} else if (!strcmp(a, "--socket")) {
			sock = v;
		} else if (!strcmp(a, "--config")) {
			config = v;
		} else if (!strcmp(a, "--dir")) {
			dir = v;
		} else if (a[0] != '-' && !iface) {
			iface = a;
		} else {
			fprintf(stderr, "%s: unknown argument '%s'\n", prog, a);
			return usage(stderr);
		}
	}
	if (!!iface + !!sock + !!config + !!file > 1) {
		fprintf(stderr, "%s: give one of IFACE, --socket PATH, --config FILE and --file PATH\n",
			prog);
		return 2;
	}
	if (file && want_follow) {
		fprintf(stderr, "%s: --follow reads the daemon's stream: not with --file\n",
			prog);
		return 2;
	}
	if (f.last_n >= 0) {
		o.ring = calloc(f.last_n ? (size_t)f.last_n : 1, sizeof *o.ring);
		if (!o.ring) {
			fprintf(stderr, "%s: out of memory\n", prog);
			return 1;
		}
	}

	if (file) {
		rc = read_log(&o, file, -1);
		if (!rc && o.ring)
			rc = flush_ring(&o, true) ? 1 : 0;
		goto out;
	}
	/* jv_ctl_find looks for the only socket in the run directory */
	if (dir && setenv("JVPN_RUN_DIR", dir, 1)) {
		fprintf(stderr, "%s: %s\n", prog, strerror(errno));
		rc = 1;
		goto out;
	}
	rc = iface ? jv_ctl_iface_socket(dir, iface, path, sizeof path, why,
					 sizeof why)
		   : jv_ctl_find(sock, config, path, sizeof path, why, sizeof why);
	if (rc) {
		fprintf(stderr, "%s: %s\n", prog, why);
		rc = rc == JV_ERR_INVAL && iface ? 2 : 1;
		goto out;
	}
	if (jv_ctl_client_open(&c, path, why, sizeof why)) {
		char log[JV_CFG_PATH_MAX];

		/* no daemon: its file, when we know where it is */
		if (offline_log(config, iface, log, sizeof log)) {
			fprintf(stderr, "%s: %s\n", prog, why);
			rc = 1;
			goto out;
		}
		fprintf(stderr, "%s: no daemon answers on %s: reading %s\n",
			prog, path, log);
		rc = read_log(&o, log, -1);
		if (!rc && o.ring)
			rc = flush_ring(&o, true) ? 1 : 0;
		if (!rc && want_follow) {
			fprintf(stderr, "%s: the daemon on %s is not running: nothing to follow\n",
				prog, iface ? iface : path);
			rc = 1;
		}
		goto out;
	}
	if (want_follow)
		daemon_name(path, name, sizeof name);
	if (jv_ctl_client_call(&c, "events", &r, why, sizeof why)) {
		fprintf(stderr, "%s: %s\n", prog, why);
		rc = 1;
		goto out;
	}
	if (!json_is_true(json_object_get(r, "ok"))) {
		fprintf(stderr, "%s: %s\n", prog,
			json_string_value(json_object_get(r, "error")) ?: "error");
		rc = 1;
		goto out;
	}
	rc = read_log(&o, json_string_value(json_object_get(r, "path")) ?: "",
		      json_integer_value(json_object_get(r, "offset")));
	if (!rc && o.ring)
		rc = flush_ring(&o, true) ? 1 : 0;
	if (!rc && fflush(stdout))
		rc = 1;
	if (!rc && want_follow) {
		o.bad = 0;
		rc = follow(&o, &c, path, name);
	}
out:
	if (o.ring)
		(void)flush_ring(&o, false);
	json_decref(r);
	jv_ctl_client_close(&c);
	return rc;
}
