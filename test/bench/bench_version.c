/*-------------------------------------------------------------------------
 *
 * bench_version.c
 *	  Comparisons per second per scheme, string and parse-once.
 *
 * For each scheme a small set of realistic versions is compared all
 * against all, repeatedly, for a fixed number of comparisons; each
 * measurement is repeated five times and the median is printed.  The
 * string path includes parsing both sides on every call (what an SQL
 * version_cmp(a, b) costs); the parse-once path is the candidate-tuple hot
 * loop.  Usage: bench_version [comparisons-per-run]
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "version.h"

#define NV 8

static const struct
{
	SpScheme	scheme;
	const char *v[NV];
}			sets[] = {
	{SP_SCHEME_SEMVER, {"1.2.3", "1.2.3-beta.1", "4.17.21", "0.21.0", "1.0.0-rc.10", "2.0.0", "10.4.1", "1.2.3+b"}},
	{SP_SCHEME_GO, {"v1.2.3", "v0.31.0", "v0.0.0-20210101000000-abcdef123456", "v2.5.0+incompatible", "1.2.3", "v1.35.24", "v0.29.0", "v1.2.4-0.2019"}},
	{SP_SCHEME_PEP440, {"1.2.3", "2.24.0", "1.0rc1", "3.0.7", "1!1.0", "1.0.post1", "1.0.dev3", "2020.6.20"}},
	{SP_SCHEME_MAVEN, {"2.13.2.2", "31.1-jre", "6.2.0.Final", "1.0-SNAPSHOT", "2.4.0-rc1", "1.0", "11.1.1.jre11-preview", "2.4.8"}},
	{SP_SCHEME_DPKG, {"1.1.1d-0+deb10u7", "1:2.30-1", "2.28-10", "1.0~rc1-1", "7.64.0-4+deb10u1", "1.2.11.dfsg-1", "3.0-1", "1:1.0"}},
	{SP_SCHEME_RPM, {"1.0-1.el8", "2:1.1.1k-6.el8_5", "1.0^git1-2", "1.0~rc1-1", "3.6.8-47.el8", "5.4.4-4.el8", "1.0", "0:2.28-189.el8"}},
	{SP_SCHEME_APK, {"1.2.3-r0", "1.1.1q-r0", "3.16.2-r1", "1.2.3_alpha1-r0", "2.35-r0", "1.35.0-r17", "1.2.12-r3", "1.0_p1"}},
	{SP_SCHEME_GEM, {"1.2.3", "1.0.a", "4.2.1", "1.10.0.pre", "2.0", "0.9.1", "1.0.0-rc1", "3.1"}},
	{SP_SCHEME_NUGET, {"1.2.3", "1.0.0-alpha", "4.6.0.1", "2.0", "13.0.1", "1.0.0-RC.2", "6.0.0", "1.2"}},
	{SP_SCHEME_COMPOSER, {"1.2.3", "v2.0.0", "1.0.0-beta2", "5.4.1", "1.0RC1", "2.1.0.0", "3.0.0-dev", "1.0-p1"}},
	{SP_SCHEME_GENERIC, {"1.2.3", "1.0rc1", "2020-01-01", "4.6", "1.0.0", "10", "1.2a", "9.9.9"}},
};

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
dcmp(const void *a, const void *b)
{
	double		x = *(const double *) a,
				y = *(const double *) b;

	return x < y ? -1 : x > y;
}

/* Median of five runs of fn, in comparisons per second. */
static double
median_rate(int which, size_t si, long n, volatile long *sink)
{
	double		rates[5];
	SpArena    *arena = sp_arena_create();
	SpVersion	pv[NV];

	for (int i = 0; i < NV; i++)
		if (sp_version_parse(sets[si].scheme, sets[si].v[i], arena, &pv[i],
							 NULL, 0) != 0)
			fprintf(stderr, "bench version %s does not parse\n",
					sets[si].v[i]);

	for (int run = 0; run < 5; run++)
	{
		double		t0 = now();
		long		acc = 0;

		for (long k = 0; k < n; k++)
		{
			int			i = k & (NV - 1);
			int			j = (k >> 3) & (NV - 1);
			int			r = 0;

			if (which == 0)
				sp_version_cmp(sets[si].scheme, sets[si].v[i], sets[si].v[j],
							   &r, NULL, 0);
			else
				r = sp_version_cmp_parsed(&pv[i], &pv[j]);
			acc += r;
		}
		*sink += acc;
		rates[run] = n / (now() - t0);
	}
	sp_arena_destroy(arena);
	qsort(rates, 5, sizeof(double), dcmp);
	return rates[2];
}

int
main(int argc, char **argv)
{
	long		n = argc > 1 ? atol(argv[1]) : 1000000;
	volatile long sink = 0;

	printf("%-10s %16s %16s\n", "scheme", "string cmp/s", "parsed cmp/s");
	for (size_t si = 0; si < sizeof(sets) / sizeof(sets[0]); si++)
	{
		double		s = median_rate(0, si, n, &sink);
		double		p = median_rate(1, si, n * 4, &sink);

		printf("%-10s %16.0f %16.0f\n", sp_scheme_name(sets[si].scheme), s, p);
	}
	return sink == 42424242 ? 1 : 0;
}
