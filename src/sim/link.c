/* SPDX-License-Identifier: MIT */
/* Impairments of one direction of a virtual transport. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sim/link.h"

/* Bounds that keep every computation inside 64 bits and a run sane. */
enum {
	SIM_LINK_MS_MAX = 3600000,		/* one hour of delay at most */
	SIM_LINK_RATE_MAX = 100000000,		/* 100 Gbit/s in kbit/s */
	SIM_LINK_QUEUE_MAX = 1u << 30,
	SIM_LINK_QUEUE_DEFAULT = 64 * 1024,
};

void sim_link_params_default(struct sim_link_params *p)
{
	memset(p, 0, sizeof *p);
	p->delay_ms = 10;
	p->burst_loss = 1.0;
	p->queue_bytes = SIM_LINK_QUEUE_DEFAULT;
}

const char *const sim_link_param_keys[] = {
	"delay_ms", "jitter_ms", "loss", "loss_pattern", "burst_enter",
	"burst_exit", "burst_loss", "reorder", "reorder_ms", "duplicate",
	"corrupt", "rate_kbps", "queue_bytes", NULL,
};

static int parse_u32(const char *s, uint32_t max, uint32_t *out)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return JV_ERR_PARSE;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return JV_ERR_PARSE;
	*out = (uint32_t)v;
	return 0;
}

static int parse_ratio(const char *s, double *out)
{
	char *end;
	double v;

	if ((*s < '0' || *s > '9') && *s != '.')
		return JV_ERR_PARSE;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !(v >= 0.0 && v <= 1.0))
		return JV_ERR_PARSE;
	*out = v;
	return 0;
}

static int parse_pattern(const char *s, uint32_t *on, uint32_t *every)
{
	char a[16], *slash;
	size_t n;

	if (strcmp(s, "off") == 0) {
		*on = *every = 0;
		return 0;
	}
	slash = strchr(s, '/');
	if (!slash || (n = (size_t)(slash - s)) == 0 || n >= sizeof a)
		return JV_ERR_PARSE;
	memcpy(a, s, n);
	a[n] = '\0';
	if (parse_u32(a, SIM_LINK_MS_MAX, on) ||
	    parse_u32(slash + 1, SIM_LINK_MS_MAX, every) || *every == 0 ||
	    *on > *every)
		return JV_ERR_PARSE;
	return 0;
}

int sim_link_param_set(struct sim_link_params *p, const char *key,
		       const char *value, struct jv_diag *d)
{
	const char *range;
	int r;

	if (!strcmp(key, "delay_ms")) {
		range = "an integer in [0, 3600000]";
		r = parse_u32(value, SIM_LINK_MS_MAX, &p->delay_ms);
	} else if (!strcmp(key, "jitter_ms")) {
		range = "an integer in [0, 3600000]";
		r = parse_u32(value, SIM_LINK_MS_MAX, &p->jitter_ms);
	} else if (!strcmp(key, "reorder_ms")) {
		range = "an integer in [0, 3600000]";
		r = parse_u32(value, SIM_LINK_MS_MAX, &p->reorder_ms);
	} else if (!strcmp(key, "rate_kbps")) {
		range = "an integer in [0, 100000000] (0: unlimited)";
		r = parse_u32(value, SIM_LINK_RATE_MAX, &p->rate_kbps);
	} else if (!strcmp(key, "queue_bytes")) {
		range = "an integer in [0, 1073741824]";
		r = parse_u32(value, SIM_LINK_QUEUE_MAX, &p->queue_bytes);
	} else if (!strcmp(key, "loss")) {
		range = "a ratio in [0, 1]";
		r = parse_ratio(value, &p->loss);
	} else if (!strcmp(key, "burst_enter")) {
		range = "a ratio in [0, 1]";
		r = parse_ratio(value, &p->burst_enter);
	} else if (!strcmp(key, "burst_exit")) {
		range = "a ratio in [0, 1]";
		r = parse_ratio(value, &p->burst_exit);
	} else if (!strcmp(key, "burst_loss")) {
		range = "a ratio in [0, 1]";
		r = parse_ratio(value, &p->burst_loss);
	} else if (!strcmp(key, "reorder")) {
		range = "a ratio in [0, 1]";
		r = parse_ratio(value, &p->reorder);
	} else if (!strcmp(key, "duplicate")) {
		range = "a ratio in [0, 1]";
		r = parse_ratio(value, &p->duplicate);
	} else if (!strcmp(key, "corrupt")) {
		range = "a ratio in [0, 1]";
		r = parse_ratio(value, &p->corrupt);
	} else if (!strcmp(key, "loss_pattern")) {
		range = "ON/EVERY in ms with 0 <= ON <= EVERY, EVERY >= 1 "
			"(lost while now mod EVERY < ON), or off";
		r = parse_pattern(value, &p->loss_on_ms, &p->loss_every_ms);
	} else {
		return JV_ERR_NOTFOUND;
	}
	if (r) {
		jv_diag_set(d, d ? d->line : 0, key, "must be %s", range);
		jv_diag_value(d, "%s", value);
		return JV_ERR_PARSE;
	}
	return 0;
}

void sim_link_init(struct sim_link *l, const struct sim_link_params *p,
		   uint64_t seed, const char *stream_name)
{
	memset(l, 0, sizeof *l);
	l->p = *p;
	sim_rand_init(&l->rand, seed, stream_name);
}

static void lose(struct sim_verdict *v, enum sim_fate f, uint64_t *counter)
{
	v->fate = f;
	v->copies = 0;
	(*counter)++;
}

void sim_link_transmit(struct sim_link *l, jv_time now, size_t len,
		       struct sim_verdict *v)
{
	const struct sim_link_params *p = &l->p;
	jv_time depart = now, at;

	v->fate = SIM_DELIVERED;
	v->copies = 0;
	v->flip_bit = -1;
	l->st.offered++;

	if (l->down) {
		lose(v, SIM_LOST_DOWN, &l->st.lost_down);
		return;
	}
	if (p->loss_every_ms && now % p->loss_every_ms < p->loss_on_ms) {
		lose(v, SIM_LOST_PATTERN, &l->st.lost_pattern);
		return;
	}
	if (p->burst_enter > 0 || l->burst_bad) {
		if (l->burst_bad) {
			if (sim_rand_chance(&l->rand, p->burst_exit))
				l->burst_bad = false;
		} else if (sim_rand_chance(&l->rand, p->burst_enter)) {
			l->burst_bad = true;
		}
		if (l->burst_bad && sim_rand_chance(&l->rand, p->burst_loss)) {
			lose(v, SIM_LOST_BURST, &l->st.lost_burst);
			return;
		}
	}
	if (sim_rand_chance(&l->rand, p->loss)) {
		lose(v, SIM_LOST_RANDOM, &l->st.lost_random);
		return;
	}

	if (p->rate_kbps) {
		/* kbit/s = bit/ms, so a byte takes 8000 / rate microseconds. */
		uint64_t now_us = now * 1000;
		uint64_t start = l->busy_until_us > now_us ? l->busy_until_us
							   : now_us;
		uint64_t backlog = (start - now_us) * p->rate_kbps / 8000;
		uint64_t ser = ((uint64_t)len * 8000 + p->rate_kbps - 1) /
			       p->rate_kbps;

		if (backlog + len > p->queue_bytes) {
			lose(v, SIM_LOST_QUEUE, &l->st.lost_queue);
			return;
		}
		l->busy_until_us = start + ser;
		depart = (l->busy_until_us + 999) / 1000;
	}

	at = depart + p->delay_ms;
	if (p->jitter_ms)
		at += sim_rand_below(&l->rand, (uint64_t)p->jitter_ms + 1);
	if (p->reorder > 0 && sim_rand_chance(&l->rand, p->reorder)) {
		at += p->reorder_ms;
		l->st.reordered++;
	} else {
		if (at < l->fifo_at)
			at = l->fifo_at;
		l->fifo_at = at;
	}
	if (p->corrupt > 0 && len > 0 &&
	    sim_rand_chance(&l->rand, p->corrupt)) {
		v->flip_bit = (int64_t)sim_rand_below(&l->rand, len * 8);
		l->st.corrupted++;
	}
	v->copies = 1;
	v->at[0] = at;
	if (p->duplicate > 0 && sim_rand_chance(&l->rand, p->duplicate)) {
		v->copies = 2;
		v->at[1] = at;
		l->st.duplicated++;
	}
	l->st.delivered += v->copies;
}
