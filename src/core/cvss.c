/*-------------------------------------------------------------------------
 *
 * cvss.c
 *	  CVSS v2, v3.0, v3.1 and v4.0 base scores.
 *
 * Vectors are parsed against a table of metrics per version; every metric
 * and value is checked, duplicates and missing base metrics are errors.
 * v2 and v3.x follow the equations of their specifications (the v3.1
 * Roundup works on an integer so that float noise cannot push a score up
 * a tenth).  v4.0 has no equations: the score of a vector is the score of
 * its macro vector, from FIRST's lookup table, lowered by the mean
 * proportional distance to the next lower macro vectors, exactly as FIRST's
 * calculator does; here that interpolation is done in integers, so no
 * binary float decides a v4 score.
 *
 *-------------------------------------------------------------------------
 */
#include "cvss.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define MAX_METRICS		32

typedef struct MetricDef
{
	const char *name;
	const char *values;			/* space separated, in index order */
	bool		base;			/* mandatory base metric */
} MetricDef;

static const MetricDef v2_defs[] = {
	{"AV", "L A N", true}, {"AC", "H M L", true}, {"Au", "M S N", true},
	{"C", "N P C", true}, {"I", "N P C", true}, {"A", "N P C", true},
	{"E", "U POC F H ND", false}, {"RL", "OF TF W U ND", false},
	{"RC", "UC UR C ND", false}, {"CDP", "N L LM MH H ND", false},
	{"TD", "N L M H ND", false}, {"CR", "L M H ND", false},
	{"IR", "L M H ND", false}, {"AR", "L M H ND", false},
};

static const MetricDef v3_defs[] = {
	{"AV", "N A L P", true}, {"AC", "L H", true}, {"PR", "N L H", true},
	{"UI", "N R", true}, {"S", "U C", true}, {"C", "H L N", true},
	{"I", "H L N", true}, {"A", "H L N", true},
	{"E", "X U P F H", false}, {"RL", "X O T W U", false},
	{"RC", "X U R C", false}, {"CR", "X L M H", false},
	{"IR", "X L M H", false}, {"AR", "X L M H", false},
	{"MAV", "X N A L P", false}, {"MAC", "X L H", false},
	{"MPR", "X N L H", false}, {"MUI", "X N R", false},
	{"MS", "X U C", false}, {"MC", "X N L H", false},
	{"MI", "X N L H", false}, {"MA", "X N L H", false},
};

/* v4 base metric values are ordered so that index equals severity level. */
static const MetricDef v4_defs[] = {
	{"AV", "N A L P", true}, {"AC", "L H", true}, {"AT", "N P", true},
	{"PR", "N L H", true}, {"UI", "N P A", true}, {"VC", "H L N", true},
	{"VI", "H L N", true}, {"VA", "H L N", true}, {"SC", "H L N", true},
	{"SI", "H L N", true}, {"SA", "H L N", true},
	{"E", "X A P U", false}, {"CR", "X H M L", false},
	{"IR", "X H M L", false}, {"AR", "X H M L", false},
	{"MAV", "X N A L P", false}, {"MAC", "X L H", false},
	{"MAT", "X N P", false}, {"MPR", "X N L H", false},
	{"MUI", "X N P A", false}, {"MVC", "X H L N", false},
	{"MVI", "X H L N", false}, {"MVA", "X H L N", false},
	{"MSC", "X H L N", false}, {"MSI", "X S H L N", false},
	{"MSA", "X S H L N", false}, {"S", "X N P", false},
	{"AU", "X N Y", false}, {"R", "X A U I", false},
	{"V", "X D C", false}, {"RE", "X L M H", false},
	{"U", "X Clear Green Amber Red", false},
};

/* Index of value v (length vlen) in a space-separated list, or -1. */
static int
value_index(const char *values, const char *v, size_t vlen)
{
	int			idx = 0;
	const char *p = values;

	while (*p)
	{
		const char *end = strchr(p, ' ');
		size_t		n = end ? (size_t) (end - p) : strlen(p);

		if (n == vlen && memcmp(p, v, n) == 0)
			return idx;
		idx++;
		if (end == NULL)
			break;
		p = end + 1;
	}
	return -1;
}

/*
 * Parse "K:V/K:V/..." against a metric table into idx[] (-1 when a metric
 * is absent).  Every metric must be known, given once and valid; all base
 * metrics must be present.
 */
static int
parse_metrics(const char *s, const MetricDef *defs, int ndefs, int *idx,
			  char *err, size_t errlen)
{
	int			i;

	for (i = 0; i < ndefs; i++)
		idx[i] = -1;
	if (*s == '\0')
	{
		snprintf(err, errlen, "empty vector");
		return -1;
	}
	while (*s)
	{
		const char *slash = strchr(s, '/');
		size_t		n = slash ? (size_t) (slash - s) : strlen(s);
		const char *colon = memchr(s, ':', n);
		size_t		klen;
		int			m = -1;

		if (colon == NULL)
		{
			snprintf(err, errlen, "metric \"%.*s\" has no value",
					 (int) (n > 20 ? 20 : n), s);
			return -1;
		}
		klen = (size_t) (colon - s);
		for (i = 0; i < ndefs; i++)
			if (strlen(defs[i].name) == klen &&
				memcmp(defs[i].name, s, klen) == 0)
				m = i;
		if (m < 0)
		{
			snprintf(err, errlen, "unknown metric \"%.*s\"",
					 (int) (klen > 20 ? 20 : klen), s);
			return -1;
		}
		if (idx[m] >= 0)
		{
			snprintf(err, errlen, "metric \"%s\" given twice", defs[m].name);
			return -1;
		}
		idx[m] = value_index(defs[m].values, colon + 1, n - klen - 1);
		if (idx[m] < 0)
		{
			snprintf(err, errlen, "invalid value \"%.*s\" for metric \"%s\"",
					 (int) (n - klen - 1 > 20 ? 20 : n - klen - 1),
					 colon + 1, defs[m].name);
			return -1;
		}
		if (slash == NULL)
			break;
		s = slash + 1;
		if (*s == '\0')
		{
			snprintf(err, errlen, "vector ends with '/'");
			return -1;
		}
	}
	for (i = 0; i < ndefs; i++)
		if (defs[i].base && idx[i] < 0)
		{
			snprintf(err, errlen, "missing base metric \"%s\"",
					 defs[i].name);
			return -1;
		}
	return 0;
}

/* ---- v2 ---- */

static int
score_v2(const char *s, int32_t *score, char *err, size_t errlen)
{
	static const double av[] = {0.395, 0.646, 1.0};
	static const double ac[] = {0.35, 0.61, 0.71};
	static const double au[] = {0.45, 0.56, 0.704};
	static const double cia[] = {0.0, 0.275, 0.660};
	int			m[MAX_METRICS];
	char		buf[256];
	size_t		n = strlen(s);
	double		impact,
				expl,
				fimp,
				base;

	/* Accept "(AV:N/...)" as NVD used to print it. */
	if (n >= 2 && s[0] == '(' && s[n - 1] == ')')
	{
		if (n - 2 >= sizeof(buf))
		{
			snprintf(err, errlen, "vector too long");
			return -1;
		}
		memcpy(buf, s + 1, n - 2);
		buf[n - 2] = '\0';
		s = buf;
	}
	if (parse_metrics(s, v2_defs, sizeof(v2_defs) / sizeof(v2_defs[0]), m,
					  err, errlen) != 0)
		return -1;

	impact = 10.41 * (1 - (1 - cia[m[3]]) * (1 - cia[m[4]]) * (1 - cia[m[5]]));
	expl = 20 * av[m[0]] * ac[m[1]] * au[m[2]];
	fimp = impact == 0 ? 0 : 1.176;
	base = ((0.6 * impact) + (0.4 * expl) - 1.5) * fimp;

	/* Round half up to one decimal; the epsilon absorbs float noise. */
	*score = (int32_t) floor(base * 10 + 0.5 + 1e-9) * 100;
	if (*score < 0)
		*score = 0;
	return 0;
}

/* ---- v3.x ---- */

/* Roundup of CVSS v3.1 (specification appendix A), in tenths. */
static int32_t
roundup31(double x)
{
	long long	i = llround(x * 100000.0);

	if (i % 10000 == 0)
		return (int32_t) (i / 10000);
	return (int32_t) (i / 10000 + 1);
}

static int
score_v3(const char *s, bool v31, int32_t *score, char *err, size_t errlen)
{
	static const double av[] = {0.85, 0.62, 0.55, 0.2};
	static const double ac[] = {0.77, 0.44};
	static const double pr_u[] = {0.85, 0.62, 0.27};
	static const double pr_c[] = {0.85, 0.68, 0.5};
	static const double ui[] = {0.85, 0.62};
	static const double cia[] = {0.56, 0.22, 0.0};
	int			m[MAX_METRICS];
	bool		changed;
	double		iss,
				impact,
				expl,
				total;
	int32_t		tenths;

	if (parse_metrics(s, v3_defs, sizeof(v3_defs) / sizeof(v3_defs[0]), m,
					  err, errlen) != 0)
		return -1;
	changed = m[4] == 1;

	iss = 1 - ((1 - cia[m[5]]) * (1 - cia[m[6]]) * (1 - cia[m[7]]));
	if (changed)
		impact = 7.52 * (iss - 0.029) - 3.25 * pow(iss - 0.02, 15);
	else
		impact = 6.42 * iss;
	expl = 8.22 * av[m[0]] * ac[m[1]] *
		(changed ? pr_c[m[2]] : pr_u[m[2]]) * ui[m[3]];

	if (impact <= 0)
	{
		*score = 0;
		return 0;
	}
	total = changed ? 1.08 * (impact + expl) : impact + expl;
	if (total > 10)
		total = 10;
	tenths = v31 ? roundup31(total) : (int32_t) ceil(total * 10);
	*score = tenths * 100;
	return 0;
}

/* ---- v4.0 ---- */

/*
 * FIRST's macro-vector scores in tenths, indexed by
 * ((((eq1*2+eq2)*3+eq3)*3+eq4)*3+eq5)*2+eq6; -1 where no macro vector
 * exists.
 */
static const int8_t v4_lookup[324] = {
	100, 99, 98, 95, 95, 92, 100, 96, 93, 87, 91, 81,
	93, 90, 89, 80, 81, 68, 98, 95, 95, 92, 90, 84,
	93, 92, 89, 81, 81, 65, 88, 80, 78, 70, 69, 48,
	-1, 92, -1, 82, -1, 72, -1, 79, -1, 69, -1, 50,
	-1, 69, -1, 55, -1, 27, 99, 97, 95, 92, 92, 85,
	95, 91, 90, 83, 84, 71, 92, 81, 82, 71, 72, 53,
	95, 93, 92, 85, 85, 73, 92, 82, 80, 72, 70, 59,
	84, 70, 71, 52, 50, 30, -1, 86, -1, 75, -1, 52,
	-1, 71, -1, 52, -1, 29, -1, 63, -1, 29, -1, 17,
	98, 95, 94, 87, 91, 81, 94, 89, 86, 74, 77, 64,
	87, 75, 74, 63, 63, 49, 94, 89, 88, 77, 76, 67,
	86, 76, 74, 58, 59, 50, 72, 57, 57, 52, 52, 25,
	-1, 83, -1, 70, -1, 54, -1, 65, -1, 58, -1, 26,
	-1, 53, -1, 21, -1, 13, 95, 90, 88, 76, 76, 70,
	90, 77, 75, 62, 61, 53, 77, 66, 68, 59, 52, 30,
	89, 78, 76, 67, 62, 58, 74, 59, 57, 57, 47, 23,
	61, 52, 57, 29, 24, 16, -1, 71, -1, 59, -1, 30,
	-1, 58, -1, 26, -1, 15, -1, 23, -1, 13, -1, 6,
	93, 87, 86, 72, 75, 58, 86, 74, 74, 61, 56, 34,
	70, 54, 52, 40, 40, 22, 85, 75, 74, 55, 62, 51,
	72, 57, 55, 41, 46, 19, 53, 36, 34, 19, 19, 8,
	-1, 64, -1, 51, -1, 20, -1, 47, -1, 21, -1, 11,
	-1, 24, -1, 9, -1, 4, 88, 75, 73, 53, 60, 50,
	73, 55, 59, 40, 41, 20, 54, 43, 45, 22, 20, 11,
	75, 55, 58, 45, 40, 21, 61, 51, 48, 18, 20, 9,
	46, 18, 17, 7, 8, 2, -1, 53, -1, 24, -1, 14,
	-1, 24, -1, 12, -1, 5, -1, 10, -1, 3, -1, 1,
};

/* Depth of each macro vector, in level steps (FIRST's maxSeverity). */
static const int v4_depth_eq1[3] = {1, 4, 5};
static const int v4_depth_eq2[2] = {1, 2};
static const int v4_depth_eq3eq6[3][2] = {{7, 6}, {8, 8}, {0, 10}};
static const int v4_depth_eq4[3] = {6, 5, 4};

/* Highest-severity vectors of each macro vector, as severity levels. */
typedef struct Lv3
{
	int8_t		a,
				b,
				c;
} Lv3;

typedef struct Lv6
{
	int8_t		vc,
				vi,
				va,
				cr,
				ir,
				ar;
} Lv6;

/* eq1: AV, PR, UI */
static const Lv3 v4_max_eq1_0[] = {{0, 0, 0}};
static const Lv3 v4_max_eq1_1[] = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}};
static const Lv3 v4_max_eq1_2[] = {{3, 0, 0}, {1, 1, 1}};

/* eq2: AC, AT */
static const Lv3 v4_max_eq2_0[] = {{0, 0, 0}};
static const Lv3 v4_max_eq2_1[] = {{1, 0, 0}, {0, 1, 0}};

/* eq3 with eq6: VC, VI, VA, CR, IR, AR */
static const Lv6 v4_max_eq36_00[] = {{0, 0, 0, 0, 0, 0}};
static const Lv6 v4_max_eq36_01[] = {{0, 0, 1, 1, 1, 0}, {0, 0, 0, 1, 1, 1}};
static const Lv6 v4_max_eq36_10[] = {{1, 0, 0, 0, 0, 0}, {0, 1, 0, 0, 0, 0}};
static const Lv6 v4_max_eq36_11[] = {
	{1, 0, 1, 0, 1, 0}, {1, 0, 0, 0, 1, 1}, {0, 1, 0, 1, 0, 1},
	{0, 1, 1, 1, 0, 0}, {1, 1, 0, 0, 0, 1}
};
static const Lv6 v4_max_eq36_21[] = {{1, 1, 1, 0, 0, 0}};

/* eq4: SC, SI, SA (SC is never S, so its levels start at 1) */
static const Lv3 v4_max_eq4_0[] = {{1, 0, 0}};
static const Lv3 v4_max_eq4_1[] = {{1, 1, 1}};
static const Lv3 v4_max_eq4_2[] = {{2, 2, 2}};

static int
v4_lookup_score(int e1, int e2, int e3, int e4, int e5, int e6)
{
	if (e1 > 2 || e2 > 1 || e3 > 2 || e4 > 2 || e5 > 2 || e6 > 1)
		return -1;
	return v4_lookup[((((e1 * 2 + e2) * 3 + e3) * 3 + e4) * 3 + e5) * 2 + e6];
}

/*
 * XXX Threat and environmental metrics are validated but not scored, so a
 * vector carrying them still yields CVSS-B; should they give CVSS-BT/BTE?
 */
static int
score_v4(const char *s, int32_t *score, char *err, size_t errlen)
{
	int			m[MAX_METRICS];
	int			av, ac, at, pr, ui, vc, vi, va, sc, si, sa;
	int			e1, e2, e3, e4, e5, e6;
	int			value, lower[5], depth[4];
	const Lv3  *mx1, *mx2, *mx4;
	const Lv6  *mx36;
	int			n1, n2, n36, n4;
	int			d[14];
	int			i1, i2, i3, i4;
	bool		found = false;
	long long	num, den, sum = 0;
	int			nlower = 0;
	int			i;

	if (parse_metrics(s, v4_defs, sizeof(v4_defs) / sizeof(v4_defs[0]), m,
					  err, errlen) != 0)
		return -1;
	av = m[0]; ac = m[1]; at = m[2]; pr = m[3]; ui = m[4];
	vc = m[5]; vi = m[6]; va = m[7];
	sc = m[8] + 1; si = m[9] + 1; sa = m[10] + 1;

	/* No impact on either system scores zero. */
	if (vc == 2 && vi == 2 && va == 2 && sc == 3 && si == 3 && sa == 3)
	{
		*score = 0;
		return 0;
	}

	/*
	 * Equivalence classes.  With base metrics only, E counts as A and
	 * CR/IR/AR as H; so eq5 is 0 and eq6 depends on VC/VI/VA alone.
	 */
	if (av == 0 && pr == 0 && ui == 0)
		e1 = 0;
	else if ((av == 0 || pr == 0 || ui == 0) && av != 3)
		e1 = 1;
	else
		e1 = 2;
	e2 = (ac == 0 && at == 0) ? 0 : 1;
	if (vc == 0 && vi == 0)
		e3 = 0;
	else if (vc == 0 || vi == 0 || va == 0)
		e3 = 1;
	else
		e3 = 2;
	e4 = (sc == 1 || si == 1 || sa == 1) ? 1 : 2;
	e5 = 0;
	e6 = (vc == 0 || vi == 0 || va == 0) ? 0 : 1;

	value = v4_lookup_score(e1, e2, e3, e4, e5, e6);
	if (value < 0)
	{
		snprintf(err, errlen, "no CVSS v4 macro vector for this vector");
		return -1;
	}

	/* Scores of the next lower macro vector along each equivalence. */
	lower[0] = v4_lookup_score(e1 + 1, e2, e3, e4, e5, e6);
	lower[1] = v4_lookup_score(e1, e2 + 1, e3, e4, e5, e6);
	if (e3 == 0 && e6 == 0)
	{
		int			left = v4_lookup_score(e1, e2, e3, e4, e5, e6 + 1);
		int			right = v4_lookup_score(e1, e2, e3 + 1, e4, e5, e6);

		/* As the calculator: the left path only when it is higher. */
		lower[2] = (left >= 0 && right >= 0 && left > right) ? left : right;
	}
	else if (e3 == 1 && e6 == 0)
		lower[2] = v4_lookup_score(e1, e2, e3, e4, e5, e6 + 1);
	else if (e3 == 0 || (e3 == 1 && e6 == 1))
		lower[2] = v4_lookup_score(e1, e2, e3 + 1, e4, e5, e6);
	else
		lower[2] = -1;
	lower[3] = v4_lookup_score(e1, e2, e3, e4 + 1, e5, e6);
	lower[4] = v4_lookup_score(e1, e2, e3, e4, e5 + 1, e6);

	/* The highest vectors of this macro vector. */
	mx1 = e1 == 0 ? v4_max_eq1_0 : e1 == 1 ? v4_max_eq1_1 : v4_max_eq1_2;
	n1 = e1 == 0 ? 1 : e1 == 1 ? 3 : 2;
	mx2 = e2 == 0 ? v4_max_eq2_0 : v4_max_eq2_1;
	n2 = e2 == 0 ? 1 : 2;
	if (e3 == 0 && e6 == 0)
		mx36 = v4_max_eq36_00, n36 = 1;
	else if (e3 == 0)
		mx36 = v4_max_eq36_01, n36 = 2;
	else if (e3 == 1 && e6 == 0)
		mx36 = v4_max_eq36_10, n36 = 2;
	else if (e3 == 1)
		mx36 = v4_max_eq36_11, n36 = 5;
	else
		mx36 = v4_max_eq36_21, n36 = 1;
	mx4 = e4 == 0 ? v4_max_eq4_0 : e4 == 1 ? v4_max_eq4_1 : v4_max_eq4_2;
	n4 = 1;

	/*
	 * Severity distance from the first highest vector that the scored
	 * vector does not exceed on any metric (the calculator's order).
	 */
	memset(d, 0, sizeof(d));
	for (i1 = 0; i1 < n1 && !found; i1++)
		for (i2 = 0; i2 < n2 && !found; i2++)
			for (i3 = 0; i3 < n36 && !found; i3++)
				for (i4 = 0; i4 < n4 && !found; i4++)
				{
					d[0] = av - mx1[i1].a;
					d[1] = pr - mx1[i1].b;
					d[2] = ui - mx1[i1].c;
					d[3] = ac - mx2[i2].a;
					d[4] = at - mx2[i2].b;
					d[5] = vc - mx36[i3].vc;
					d[6] = vi - mx36[i3].vi;
					d[7] = va - mx36[i3].va;
					d[8] = sc - mx4[i4].a;
					d[9] = si - mx4[i4].b;
					d[10] = sa - mx4[i4].c;
					d[11] = 0 - mx36[i3].cr;
					d[12] = 0 - mx36[i3].ir;
					d[13] = 0 - mx36[i3].ar;
					found = true;
					for (i = 0; i < 14; i++)
						if (d[i] < 0)
							found = false;
				}

	/*
	 * Mean proportional distance, as a fraction over 2520 (a multiple of
	 * every depth), times the number of existing lower macro vectors.
	 */
	depth[0] = v4_depth_eq1[e1];
	depth[1] = v4_depth_eq2[e2];
	depth[2] = v4_depth_eq3eq6[e3][e6];
	depth[3] = v4_depth_eq4[e4];
	{
		int			dist[4];

		dist[0] = d[0] + d[1] + d[2];
		dist[1] = d[3] + d[4];
		dist[2] = d[5] + d[6] + d[7] + d[11] + d[12] + d[13];
		dist[3] = d[8] + d[9] + d[10];
		for (i = 0; i < 4; i++)
		{
			if (lower[i] < 0)
				continue;
			nlower++;
			sum += (long long) (value - lower[i]) * dist[i] *
				(2520 / depth[i]);
		}
		if (lower[4] >= 0)
			nlower++;			/* eq5 counts, with proportion zero */
	}

	if (nlower == 0)
		*score = value * 100;
	else
	{
		/* tenths = round_half_up(value - sum / (2520 * nlower)) */
		den = 2520LL * nlower;
		num = (long long) value * den - sum;
		if (num <= 0)
			*score = 0;
		else
		{
			long long	t = (2 * num + den) / (2 * den);

			*score = (int32_t) (t > 100 ? 100 : t) * 100;
		}
	}
	return 0;
}

int
sp_cvss_version(const char *vector)
{
	if (strncmp(vector, "CVSS:4.0/", 9) == 0)
		return 4;
	if (strncmp(vector, "CVSS:3.0/", 9) == 0 ||
		strncmp(vector, "CVSS:3.1/", 9) == 0)
		return 3;
	return 2;
}

int
sp_cvss_score_version(int version, const char *vector, int32_t *score,
					  char *err, size_t errlen)
{
	*score = 0;
	if (vector == NULL)
	{
		snprintf(err, errlen, "no vector");
		return -1;
	}
	if (strlen(vector) > 1024)
	{
		snprintf(err, errlen, "vector too long");
		return -1;
	}
	switch (version)
	{
		case 4:
			if (strncmp(vector, "CVSS:4.0/", 9) != 0)
			{
				snprintf(err, errlen, "a CVSS v4 vector starts with CVSS:4.0/");
				return -1;
			}
			return score_v4(vector + 9, score, err, errlen);
		case 3:
			if (strncmp(vector, "CVSS:3.1/", 9) == 0)
				return score_v3(vector + 9, true, score, err, errlen);
			if (strncmp(vector, "CVSS:3.0/", 9) == 0)
				return score_v3(vector + 9, false, score, err, errlen);
			snprintf(err, errlen,
					 "a CVSS v3 vector starts with CVSS:3.0/ or CVSS:3.1/");
			return -1;
		case 2:
			if (strncmp(vector, "CVSS:2.0/", 9) == 0)
				vector += 9;
			if (strncmp(vector, "CVSS:", 5) == 0)
			{
				snprintf(err, errlen, "unsupported CVSS version prefix");
				return -1;
			}
			return score_v2(vector, score, err, errlen);
		default:
			snprintf(err, errlen, "unsupported CVSS version %d", version);
			return -1;
	}
}

int
sp_cvss_base_score(const char *vector, int32_t *score, char *err,
				   size_t errlen)
{
	if (vector == NULL)
	{
		*score = 0;
		snprintf(err, errlen, "no vector");
		return -1;
	}
	return sp_cvss_score_version(sp_cvss_version(vector), vector, score,
								 err, errlen);
}
