/*-------------------------------------------------------------------------
 *
 * bench_eval.c
 *	  Evaluation speed of the three published policies.
 *
 * Builds one million varied tuples in memory (components of several
 * ecosystems, scores, sources, KEV tags, zero to three VEX statements of
 * which some apply, env values), then times sp_dsl_evaluate() over all of
 * them, five times per policy, and prints the median nanoseconds per
 * tuple.  The base score is precomputed per advisory, as the extension
 * does.  Usage: bench_eval [policy-dir] [tuples]
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../src/core/dsl.h"

#define RUNS 5

static const char *const purls[] = {
	"pkg:npm/lodash@4.17.15", "pkg:npm/minimist@1.2.0",
	"pkg:pypi/django@3.0.7", "pkg:golang/golang.org/x/net@v0.31.0",
	"pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.13.2.2?type=jar",
	"pkg:deb/debian/openssl@1.1.1d-0+deb10u3?arch=amd64&distro=debian-10.2",
};
static const char *const products[] = {
	"pkg:npm/lodash", "pkg:npm/minimist@1.2.0", "pkg:pypi/django",
	"pkg:golang/golang.org/x/net", "pkg:npm/express",
	"pkg:deb/debian/openssl@1.1.1d-0+deb10u3",
};
static const char *const ids[] = {
	"GHSA-p6mc-m468-83gw", "GHSA-vh95-rmgr-6w4m", "PYSEC-2021-9",
	"GO-2024-3333", "OSV-2022-1", "DSA-5000-1",
};
static const char *const aliases[][1] = {
	{"CVE-2020-8203"}, {"CVE-2021-44906"}, {"CVE-2021-3281"},
	{"CVE-2024-45338"}, {"CVE-2022-0001"}, {"CVE-2021-3711"},
};
static const char *const statuses[] = {
	"not_affected", "fixed", "affected", "under_investigation"
};
static const char *const justs[] = {
	"component_not_present", "vulnerable_code_not_present",
	"inline_mitigations_already_exist", NULL
};
static const char *const kev[] = {"kev"};
static const char *const exposures[] = {"internal", "internal-only",
"internet", "dev"};

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int
cmp_double(const void *a, const void *b)
{
	double		x = *(const double *) a,
				y = *(const double *) b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	static const char *const files[] = {
		"default-org-policy.stella", "docs2-short-baseline.stella",
		"internal-only.stella"
	};
	const char *dir = argc > 1 ? argv[1] : "/work/shared/policies";
	long		n = argc > 2 ? atol(argv[2]) : 1000000;
	SpArena    *arena = sp_arena_create();
	SpArena    *scratch = sp_arena_create();
	SpTuple    *tuples = calloc((size_t) n, sizeof(SpTuple));
	SpVexStatement *vex = calloc((size_t) n * 3, sizeof(SpVexStatement));
	SpEnvEntry *env = calloc((size_t) n * 2, sizeof(SpEnvEntry));
	unsigned	seed = 42;
	long		i;
	size_t		f;

	/* Varied tuples, deterministic (fixed LCG seed). */
	for (i = 0; i < n; i++)
	{
		SpTuple    *t = &tuples[i];
		int			k,
					c,
					nv;

		seed = seed * 1103515245 + 12345;
		c = (int) ((seed >> 16) % 6);
		t->sbom_id = "sbom";
		t->purl = purls[c];
		t->name = "name";
		t->ecosystem = "npm";
		t->advisory_id = ids[(c + (int) (seed >> 8)) % 6];
		t->aliases = aliases[c];
		t->n_aliases = 1;
		t->base_score = (int32_t) ((seed >> 4) % 101) * 100;
		if ((seed >> 12) % 10 == 0)
		{
			t->advisory_tags = kev;
			t->n_advisory_tags = 1;
		}
		nv = (int) ((seed >> 20) % 4);
		for (k = 0; k < nv; k++)
		{
			SpVexStatement *s = &vex[i * 3 + k];

			seed = seed * 1103515245 + 12345;
			s->id = k == 0 ? "s0" : k == 1 ? "s1" : "s2";
			s->issuer = (seed >> 10) % 2 ? "Vendor" : "Other";
			s->status = statuses[(seed >> 14) % 4];
			s->justification = justs[(seed >> 18) % 4];
			s->timestamp = 1700000000000000LL + (int64_t) ((seed >> 8) % 1000) * 1000000;
			s->vulnerability = (seed >> 22) % 3 ? aliases[c][0] : "CVE-1999-0001";
			s->product = products[((seed >> 24) % 3) ? c : (c + 1) % 6];
		}
		t->vex = &vex[i * 3];
		t->n_vex = nv;
		env[i * 2].key = "exposure";
		env[i * 2].type = SP_ENV_STRING;
		env[i * 2].str = exposures[(seed >> 6) % 4];
		env[i * 2 + 1].key = "stage";
		env[i * 2 + 1].type = SP_ENV_STRING;
		env[i * 2 + 1].str = (seed >> 9) % 2 ? "dev" : "prod";
		t->env = &env[i * 2];
		t->n_env = 2;
		t->eval_time = 1750000000000000LL;
	}

	printf("# %ld tuples, %d runs each, median reported\n", n, RUNS);
	for (f = 0; f < 3; f++)
	{
		char		path[512];
		FILE	   *fp;
		char		src[65536];
		size_t		len;
		SpCompileResult *res;
		SpPolicy   *p;
		double		runs[RUNS];
		long		fired = 0;
		int			r;

		snprintf(path, sizeof(path), "%s/%s", dir, files[f]);
		fp = fopen(path, "rb");
		if (fp == NULL)
		{
			fprintf(stderr, "bench_eval: cannot open %s\n", path);
			return 1;
		}
		len = fread(src, 1, sizeof(src), fp);
		fclose(fp);
		p = sp_dsl_compile_load(src, len, arena, &res);
		if (p == NULL)
		{
			fprintf(stderr, "bench_eval: %s does not compile\n", path);
			return 1;
		}
		for (r = 0; r < RUNS; r++)
		{
			double		t0 = now_ns();

			fired = 0;
			for (i = 0; i < n; i++)
			{
				SpVerdict	v;

				sp_dsl_evaluate(p, &tuples[i], &v, scratch);
				fired += v.rule_index >= 0;
				sp_arena_reset(scratch);
			}
			runs[r] = (now_ns() - t0) / (double) n;
		}
		qsort(runs, RUNS, sizeof(double), cmp_double);
		printf("%-30s %7.1f ns/tuple (min %.1f, max %.1f); rules fired for %ld of %ld\n",
			   files[f], runs[RUNS / 2], runs[0], runs[RUNS - 1], fired, n);
	}
	free(tuples);
	free(vex);
	free(env);
	sp_arena_destroy(scratch);
	sp_arena_destroy(arena);
	return 0;
}
