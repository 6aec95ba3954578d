/* SPDX-License-Identifier: MIT */
#ifndef JVPN_REPORT_IMPL_H
#define JVPN_REPORT_IMPL_H

/* Internals of the report: the bounded model of a stream and the
 * collector of a file (collect.c), drawn by render.c, assembled by
 * page.c. */

#include "report/report.h"

enum {
	RP_TID_MAX = 48,	/* a transport id as shown; longer ones cut */
	RP_TEXT_MAX = 224,	/* a marker's hover text */
	RP_LABEL_MAX = 80,	/* a marker's short label */
	RP_UNKNOWN = -1,	/* a state not (yet) known */
};

/* Marker classes, each thinned on its own so frequent denials never
 * crowd out the rare switches. */
enum { RP_MAJOR, RP_MINOR, RP_CLASSES };

/*
 * A list that keeps at most max elements spread evenly over all it was
 * offered: past max, every other element is dropped and from then on
 * only every stride-th offer is kept (the stride doubles each time).
 */
struct rp_sample {
	unsigned char *v;
	size_t size, n, cap, max;
	uint64_t seen, stride;
};

/* One state interval, or several merged neighbours past the band cap. */
struct rp_band {
	jv_time t0, t1;
	uint64_t v0;			/* version that entered it */
	uint64_t dur[JV_STATE_COUNT];	/* ms per state (merged bands) */
	unsigned long line;		/* line that entered it; 0 = none */
	uint32_t norig;			/* intervals it stands for */
	int state;			/* the (dominant) state; RP_UNKNOWN */
	enum jv_reason reason;		/* why it was entered */
	bool bound, bound_end;		/* a binding at its start / end */
	char bind[RP_TID_MAX], bind_end[RP_TID_MAX];
};

struct rp_mark {
	jv_time ts;
	unsigned long line;
	enum jv_audit_entry_kind kind;
	bool forced;			/* SWITCH: trigger_class (PD-7) */
	char label[RP_LABEL_MAX];	/* short: "p1 -> p2", a reason */
	char text[RP_TEXT_MAX];		/* the auditor's timeline line */
};

/* A transport damped (PD-7): TransportDamped until TransportReused, or
 * to the end of the log (line1 0). */
struct rp_damp {
	jv_time t0, t1;
	unsigned long line0, line1;
	uint64_t pen0, pen1;		/* flap penalty at each end */
	char tid[RP_TID_MAX];
};

enum {
	RP_DAMP_OPEN_MAX = JV_MAX_TRANSPORTS,	/* damped at once */
	RP_DAMP_CAP = 128,		/* intervals kept per stream */
};

struct rp_point {
	jv_time ts;
	unsigned long line;
	enum jv_event_type type;
	bool has_loss, has_lat;
	double loss;
	uint64_t lat;
};

struct rp_stream {
	struct jv_audit_stream info;	/* as of its latest entry */
	bool started;
	jv_time t0, last;
	uint64_t transitions;

	struct rp_band open;		/* the interval in progress */
	struct rp_band acc;		/* closed intervals not yet stored */
	uint32_t merge;			/* intervals per stored band */
	struct rp_band *bands;
	size_t nbands, bands_cap;

	bool bound;			/* binding replay, as the timeline */
	char bind[RP_TID_MAX];

	struct rp_sample marks[RP_CLASSES];
	struct rp_sample points;
	bool any_loss, any_lat;

	uint64_t nswitch, ndenial, nsecurity, ndead;
	/* PD-7, PD-8: switch classes, planned switches by name, damping */
	uint64_t nforced;
	enum jv_reason rec_reason;	/* of the latest entry into RECOVERING */
	uint64_t nfailback, nfailback_sw, nmigration, nmigration_sw;
	struct rp_damp damp_open[RP_DAMP_OPEN_MAX];
	unsigned ndamp_open;
	struct rp_sample damps;		/* ended intervals */
	uint64_t ndamped, damp_untracked;
	uint64_t in_state[JV_STATE_COUNT];	/* as the auditor counts */

	bool outage;			/* out of ATTACHED (§8.4) */
	jv_time outage_since;
	uint64_t lat_n, lat_sum, lat_max;

	bool terminated, open_at_end;
	enum jv_reason term_reason;
	jv_time term_ts;
	uint64_t term_age;
	unsigned long term_line;
};

/* Figures of the line being audited (jv_report_file_line). */
struct rp_pending {
	unsigned long line;		/* 0: none */
	enum jv_event_type type;
	bool has_loss, has_lat;
	double loss;
	uint64_t lat;
};

struct jv_report_file {
	char *name;
	unsigned fileno;
	struct jv_report_budget *budget;
	FILE *viol, *rows, *detail;	/* spools */

	struct rp_stream **live;	/* by stream index */
	uint32_t *nviol;		/* findings by stream index */
	size_t nlive;			/* length of both arrays */

	struct rp_pending pend;
	uint64_t viol_total, viol_shown, viol_file;
	unsigned streams, rows_written, detailed;
	uint64_t thinned;		/* streams with something left out */
	bool failed;			/* out of memory in a hook */
};

/* collect.c */
void *rp_sample_slot(struct rp_sample *s, bool *nomem);
void rp_sample_free(struct rp_sample *s);
void rp_copy_tid(char *dst, size_t n, const char *src);

/* render.c: a finished stream as an overview row and a section */
int rp_render_row(FILE *out, const struct jv_report_file *f,
		  const struct rp_stream *s, bool detailed);
int rp_render_stream(FILE *out, const struct jv_report_file *f,
		     const struct rp_stream *s);
/* "\x01" index "\x02": the stream's verdict, filled in by page.c */
void rp_verdict_slot(FILE *out, unsigned index);
void rp_put_ms(FILE *out, uint64_t ms);

/* html.c */
void rp_esc(FILE *out, const char *s);
const char *rp_state_name(int st);
const char *rp_state_class(int st);

#endif
