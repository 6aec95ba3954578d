/* SPDX-License-Identifier: MIT */
#ifndef JVPN_CORE_EVENTLOG_IMPL_H
#define JVPN_CORE_EVENTLOG_IMPL_H

/* Helpers shared by eventlog_table.c, eventlog.c and eventlog_read.c. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jvpn/eventlog.h"

const void *jv_evl_field_ptr(const struct jv_event *ev, enum jv_event_field f);
const char *jv_evl_field_str(const struct jv_event *ev, enum jv_event_field f);
size_t jv_evl_field_offset(enum jv_event_field f);
/* jv_event_check, also reporting the offending field (-1: none). */
int jv_evl_check_event(const struct jv_event *ev, char *why, size_t why_len,
		       int *field);
bool jv_evl_is_lower_hex(const char *s, size_t n);
bool jv_evl_text_ok(const char *s, size_t max);
bool jv_evl_is_detail(enum jv_event_field f);
bool jv_evl_get_u64(const json_t *v, uint64_t *out);

#endif
