/*-------------------------------------------------------------------------
 *
 * fuzz_dsl.c
 *	  libFuzzer target for the stella-dsl@1 compiler, IR loader and
 *	  evaluator.
 *
 * Each input is compiled as policy source; a policy that compiles is
 * loaded from its IR and evaluated (verdict JSON and explain trace)
 * against a fixed tuple with VEX statements and env values, so the
 * evaluator sees every construct the fuzzer discovers.  Inputs that start
 * with '{' are also fed to the IR loader directly.  Built by run.sh with
 * -fsanitize=fuzzer,address,undefined.
 *
 *-------------------------------------------------------------------------
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/core/dsl.h"

static void
evaluate(const SpPolicy *p, SpArena *arena)
{
	static const char *const aliases[] = {"CVE-2020-8203"};
	static const char *const tags[] = {"kev"};
	static const char *const lic[] = {"MIT"};
	SpVexStatement vex[3] = {
		{"s1", "Acme", "not_affected", "component_not_present",
		1700000000000000LL, "CVE-2020-8203", "pkg:npm/lodash"},
		{"s2", "Acme", "affected", NULL, 1700000000000001LL,
		"GHSA-p6mc-m468-83gw", "pkg:npm/lodash@4.17.15"},
		{"s3", "Other", "fixed", "vulnerable_code_not_present",
		1600000000000000LL, "CVE-2020-8203", "pkg:npm/other"},
	};
	SpEnvEntry	env[3] = {
		{"exposure", SP_ENV_STRING, "internal", 0, false},
		{"n", SP_ENV_NUMBER, NULL, 1500, false},
		{"b", SP_ENV_BOOL, NULL, 0, true},
	};
	SpSeverityVector sv[1] = {
		{SP_CVSS_V3, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}
	};
	SpTuple		t;
	SpVerdict	v;

	memset(&t, 0, sizeof(t));
	t.sbom_id = "sbom";
	t.sbom_tags = tags;
	t.n_sbom_tags = 1;
	t.purl = "pkg:npm/lodash@4.17.15";
	t.name = "lodash";
	t.version = "4.17.15";
	t.ecosystem = "npm";
	t.licenses = lic;
	t.n_licenses = 1;
	t.advisory_id = "GHSA-p6mc-m468-83gw";
	t.aliases = aliases;
	t.n_aliases = 1;
	t.advisory_tags = tags;
	t.n_advisory_tags = 1;
	t.vectors = sv;
	t.n_vectors = 1;
	t.base_score = SP_SCORE_UNKNOWN;
	/* On the heap, so that ASan sees any out-of-range statement index. */
	t.vex = malloc(sizeof(vex));
	if (t.vex == NULL)
		return;
	memcpy((void *) t.vex, vex, sizeof(vex));
	t.n_vex = 3;
	t.env = env;
	t.n_env = 3;
	t.eval_time = 1750000000000000LL;

	if (sp_dsl_evaluate(p, &t, &v, arena) == 0)
		(void) sp_verdict_json(&v, arena);
	(void) sp_dsl_explain(p, &t, "f", arena);
	free((void *) t.vex);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	SpArena    *arena = sp_arena_create();
	SpCompileResult *res;
	const char *err;

	res = sp_dsl_compile((const char *) data, size, arena);
	if (res != NULL)
	{
		(void) sp_dsl_compile_result_json(res, arena);
		if (res->ok)
		{
			SpPolicy   *p = sp_dsl_load(res->ir_json, res->ir_len, arena,
										&err);

			/* IR the compiler wrote must always load. */
			if (p == NULL)
				__builtin_trap();
			evaluate(p, arena);
		}
	}
	if (size > 0 && data[0] == '{')
	{
		SpPolicy   *p = sp_dsl_load((const char *) data, size, arena, &err);

		if (p != NULL)
			evaluate(p, arena);
	}
	sp_arena_destroy(arena);
	return 0;
}
