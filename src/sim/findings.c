/* SPDX-License-Identifier: MIT */
/* Open engine findings: which violations they explain (findings.h). */

#include <string.h>

#include "sim/findings.h"

static const char *const names[SIM_FINDINGS] = {
	[SIM_F1] = "F1", [SIM_F3] = "F3", [SIM_F4] = "F4", [SIM_F6] = "F6",
};

const char *sim_finding_name(enum sim_finding f)
{
	return f < SIM_FINDINGS ? names[f] : "?";
}

/* The finding that explains v, or SIM_FINDINGS if none. */
static enum sim_finding explain(const struct sim_violation *v,
				const struct sim_result *res,
				const struct jv_policy *client)
{
	(void)client;
	if (v->side != SIM_GATEWAY)
		return SIM_FINDINGS;
	if (!strcmp(v->id, "INV-16"))
		return SIM_F1;
	if ((!strcmp(v->id, "INV-08") || !strcmp(v->id, "INV-12")) &&
	    res->adoptions > 0)
		return SIM_F4;
	if (!strcmp(v->id, "INV-02") && res->crashes > 0 &&
	    strstr(v->msg, "resumes the session"))
		return SIM_F6;
	if (!strcmp(v->id, "LIV-02") && strstr(v->msg, "(still in BIRTH)"))
		return SIM_F3;
	return SIM_FINDINGS;
}

bool sim_findings_explain(const struct sim_result *res,
			  const struct jv_policy *client,
			  bool which[SIM_FINDINGS])
{
	bool any = false;

	if (res->check.total == 0 || res->check.total > res->check.nkept)
		return false;
	for (unsigned i = 0; i < res->check.nkept; i++) {
		const struct sim_violation *v = &res->check.kept[i];
		enum sim_finding f = explain(v, res, client);

		/* INV-04 on the gateway comes with F1 (a lost termination
		 * committed again): explained only along with a finding. */
		if (f == SIM_FINDINGS && v->side == SIM_GATEWAY &&
		    !strcmp(v->id, "INV-04"))
			continue;
		if (f == SIM_FINDINGS)
			return false;
		which[f] = true;
		any = true;
	}
	return any;
}
