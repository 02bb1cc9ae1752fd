/*-------------------------------------------------------------------------
 *
 * test_cvss.c
 *	  TAP tests of the CVSS base-score calculators (src/core/cvss.c).
 *
 * The expected scores are published ones: the worked examples of the FIRST
 * v2 and v3.1 specification documents, and vectors scored by FIRST's
 * calculators as collected in the test suite of Red Hat's cvss library.
 * Malformed vectors must fail with a message.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <string.h>

#include "../../src/core/cvss.h"

static int	tests = 0;
static int	failures = 0;

static void
ok(int cond, const char *desc)
{
	tests++;
	if (!cond)
		failures++;
	printf("%sok %d - %s\n", cond ? "" : "not ", tests, desc);
}

typedef struct Case
{
	const char *vector;
	int			tenths;
} Case;

/* FIRST specification examples (v3.1 section 7 and the v2 guide). */
static const Case spec_cases[] = {
	{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", 75},	/* CVE-2014-0160 */
	{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 98},	/* CVE-2014-6271 */
	{"CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 61},	/* CVE-2013-1937 */
	{"CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H", 99},	/* calculator */
	{"CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H", 78},	/* calculator */
	{"CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 98},
	{"AV:N/AC:L/Au:N/C:N/I:N/A:C", 78},	/* CVE-2002-0392 */
	{"AV:N/AC:L/Au:N/C:C/I:C/A:C", 100},	/* CVE-2003-0818 */
	{"AV:L/AC:H/Au:N/C:C/I:C/A:C", 62},	/* CVE-2003-0062 */
	{"(AV:N/AC:L/Au:N/C:P/I:P/A:P)", 75},
	{"CVSS:2.0/AV:N/AC:M/Au:N/C:P/I:P/A:P/E:F/RL:OF/RC:C", 68},
	{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:P/RL:O/RC:C", 98},
};

static const Case v31_cases[] = {
	{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 100},
	{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:L/A:L", 99},
	{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:L/A:N", 93},
	{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:N/A:N", 86},
	{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:L/I:L/A:L", 83},
	{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:L/I:L/A:N", 72},
	{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:L/I:N/A:N", 58},
	{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:N/I:N/A:N", 0},
	{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:L", 94},
	{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:N", 91},
	{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:L/A:L", 86},
	{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:L/A:L", 73},
	{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N", 53},
	{"CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:H/I:H/A:H", 96},
	{"CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:H/I:N/A:N", 74},
	{"CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:N/A:N", 47},
	{"CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H", 88},
	{"CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:L/A:L", 76},
	{"CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:L/I:L/A:N", 54},
	{"CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:N/I:N/A:L", 43},
	{"CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H", 99},
	{"CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:L/I:L/A:L", 74},
	{"CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:L/I:N/A:N", 50},
	{"CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 88},
	{"CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:L/I:N/A:N", 43},
	{"CVSS:3.1/AV:N/AC:L/PR:L/UI:R/S:C/C:H/I:H/A:H", 90},
	{"CVSS:3.1/AV:N/AC:L/PR:L/UI:R/S:C/C:L/I:L/A:L", 65},
	{"CVSS:3.1/AV:N/AC:L/PR:L/UI:R/S:C/C:L/I:N/A:N", 41},
	{"CVSS:3.1/AV:N/AC:L/PR:L/UI:R/S:U/C:H/I:H/A:H", 80},
	{"CVSS:3.1/AV:N/AC:L/PR:L/UI:R/S:U/C:L/I:L/A:L", 55},
	{"CVSS:3.1/AV:N/AC:L/PR:L/UI:R/S:U/C:L/I:N/A:N", 35},
	{"CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:C/C:H/I:H/A:H", 91},
	{"CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:C/C:L/I:L/A:L", 66},
	{"CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:C/C:L/I:N/A:N", 41},
	{"CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H", 72},
	{"CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:L/A:L", 60},
	{"CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:N/A:N", 49},
};

static const Case v30_cases[] = {
	{"CVSS:3.0/AV:L/AC:H/PR:H/UI:R/S:C/C:L/I:N/A:H", 58},
	{"CVSS:3.0/AV:L/AC:H/PR:H/UI:R/S:C/C:L/I:N/A:N", 23},
	{"CVSS:3.0/AV:L/AC:H/PR:H/UI:R/S:C/C:N/I:H/A:H", 69},
	{"CVSS:3.0/AV:L/AC:H/PR:H/UI:R/S:C/C:N/I:H/A:N", 50},
	{"CVSS:3.0/AV:L/AC:H/PR:H/UI:R/S:U/C:H/I:H/A:H", 63},
	{"CVSS:3.0/AV:L/AC:H/PR:H/UI:R/S:U/C:H/I:L/A:L", 51},
	{"CVSS:3.0/AV:L/AC:H/PR:H/UI:R/S:U/C:H/I:N/A:N", 40},
	{"CVSS:3.0/AV:L/AC:H/PR:H/UI:R/S:U/C:L/I:L/A:L", 38},
	{"CVSS:3.0/AV:L/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", 18},
	{"CVSS:3.0/AV:P/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 76},
	{"CVSS:3.0/AV:P/AC:L/PR:N/UI:N/S:C/C:H/I:L/A:L", 67},
	{"CVSS:3.0/AV:P/AC:L/PR:N/UI:N/S:C/C:L/I:L/A:L", 51},
	{"CVSS:3.0/AV:P/AC:L/PR:N/UI:N/S:C/C:L/I:N/A:N", 26},
	{"CVSS:3.0/AV:P/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 68},
	{"CVSS:3.0/AV:P/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", 46},
	{"CVSS:3.0/AV:P/AC:L/PR:N/UI:N/S:U/C:L/I:L/A:L", 43},
	{"CVSS:3.0/AV:P/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N", 24},
	{"CVSS:3.0/AV:P/AC:L/PR:N/UI:R/S:C/C:H/I:H/A:H", 73},
	{"CVSS:3.0/AV:P/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:L", 48},
	{"CVSS:3.0/AV:P/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H", 66},
	{"CVSS:3.0/AV:P/AC:L/PR:N/UI:R/S:U/C:L/I:L/A:L", 41},
	{"CVSS:3.0/AV:P/AC:L/PR:N/UI:R/S:U/C:L/I:N/A:N", 21},
	{"CVSS:3.0/AV:P/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H", 74},
	{"CVSS:3.0/AV:P/AC:L/PR:L/UI:N/S:C/C:L/I:L/A:L", 49},
	{"CVSS:3.0/AV:P/AC:L/PR:L/UI:N/S:C/C:L/I:N/A:N", 24},
	{"CVSS:3.0/AV:P/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 66},
	{"CVSS:3.0/AV:P/AC:L/PR:L/UI:R/S:C/C:H/I:H/A:H", 72},
	{"CVSS:3.0/AV:P/AC:L/PR:L/UI:R/S:C/C:L/I:L/A:L", 47},
	{"CVSS:3.0/AV:P/AC:L/PR:L/UI:R/S:U/C:H/I:H/A:H", 64},
	{"CVSS:3.0/AV:P/AC:L/PR:L/UI:R/S:U/C:L/I:N/A:N", 19},
};

static const Case v2_cases[] = {
	{"AV:L/AC:H/Au:M/C:N/I:N/A:N", 0},
	{"AV:L/AC:H/Au:M/C:N/I:N/A:P", 8},
	{"AV:L/AC:H/Au:M/C:N/I:N/A:C", 37},
	{"AV:L/AC:H/Au:M/C:N/I:P/A:P", 23},
	{"AV:L/AC:H/Au:M/C:P/I:P/A:P", 34},
	{"AV:L/AC:H/Au:M/C:C/I:C/A:C", 59},
	{"AV:L/AC:H/Au:S/C:N/I:N/A:P", 10},
	{"AV:L/AC:H/Au:S/C:P/I:P/A:P", 35},
	{"AV:L/AC:H/Au:S/C:C/I:C/A:C", 60},
	{"AV:L/AC:H/Au:N/C:N/I:N/A:P", 12},
	{"AV:L/AC:H/Au:N/C:P/I:P/A:P", 37},
	{"AV:L/AC:H/Au:N/C:P/I:P/A:C", 52},
	{"AV:L/AC:M/Au:M/C:N/I:N/A:P", 13},
	{"AV:L/AC:M/Au:M/C:P/I:P/A:P", 38},
	{"AV:L/AC:M/Au:S/C:N/I:P/A:P", 30},
	{"AV:L/AC:M/Au:S/C:C/I:C/A:C", 66},
	{"AV:L/AC:M/Au:N/C:N/I:N/A:P", 19},
	{"AV:L/AC:M/Au:N/C:P/I:P/A:P", 44},
	{"AV:L/AC:M/Au:N/C:C/I:C/A:C", 69},
	{"AV:L/AC:L/Au:M/C:P/I:P/A:P", 40},
	{"AV:L/AC:L/Au:S/C:N/I:N/A:P", 17},
	{"AV:L/AC:L/Au:S/C:C/I:C/A:C", 68},
	{"AV:L/AC:L/Au:N/C:N/I:N/A:P", 21},
	{"AV:L/AC:L/Au:N/C:P/I:P/A:P", 46},
	{"AV:L/AC:L/Au:N/C:C/I:C/A:C", 72},
	{"AV:A/AC:H/Au:M/C:N/I:N/A:P", 12},
	{"AV:A/AC:H/Au:M/C:C/I:C/A:C", 62},
	{"AV:A/AC:H/Au:S/C:P/I:P/A:P", 40},
	{"AV:A/AC:H/Au:N/C:P/I:P/A:P", 43},
	{"AV:A/AC:H/Au:N/C:C/I:C/A:C", 68},
	{"AV:A/AC:M/Au:M/C:P/I:P/A:P", 45},
};

static const Case v4_cases[] = {
	{"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", 93},
	{"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N", 0},
	{"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:H/VA:L/SC:N/SI:H/SA:L", 92},
	{"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:L/VA:L/SC:H/SI:N/SA:L", 78},
	{"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:L/VA:N/SC:N/SI:L/SA:N", 69},
	{"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:H/SI:L/SA:H", 79},
	{"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:P/VC:H/VI:N/VA:L/SC:N/SI:H/SA:N", 83},
	{"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:P/VC:L/VI:N/VA:L/SC:N/SI:H/SA:N", 63},
	{"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:P/VC:L/VI:N/VA:N/SC:L/SI:N/SA:L", 53},
	{"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:A/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", 86},
	{"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:A/VC:H/VI:H/VA:N/SC:N/SI:L/SA:L", 85},
	{"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:A/VC:L/VI:L/VA:H/SC:H/SI:H/SA:L", 84},
	{"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:A/VC:L/VI:L/VA:N/SC:N/SI:N/SA:N", 51},
	{"CVSS:4.0/AV:N/AC:L/AT:N/PR:L/UI:N/VC:H/VI:L/VA:N/SC:H/SI:N/SA:L", 84},
	{"CVSS:4.0/AV:N/AC:L/AT:N/PR:L/UI:N/VC:H/VI:N/VA:L/SC:N/SI:L/SA:N", 71},
	{"CVSS:4.0/AV:N/AC:L/AT:N/PR:L/UI:N/VC:L/VI:L/VA:N/SC:H/SI:L/SA:L", 64},
	{"CVSS:4.0/AV:N/AC:L/AT:N/PR:L/UI:N/VC:N/VI:H/VA:H/SC:N/SI:N/SA:L", 72},
	{"CVSS:4.0/AV:N/AC:L/AT:N/PR:L/UI:P/VC:H/VI:L/VA:L/SC:L/SI:L/SA:L", 70},
	{"CVSS:4.0/AV:N/AC:L/AT:N/PR:L/UI:A/VC:H/VI:H/VA:H/SC:H/SI:N/SA:H", 93},
	{"CVSS:4.0/AV:N/AC:L/AT:N/PR:L/UI:A/VC:N/VI:L/VA:L/SC:L/SI:L/SA:H", 62},
	{"CVSS:4.0/AV:N/AC:L/AT:N/PR:H/UI:N/VC:L/VI:L/VA:L/SC:L/SI:L/SA:N", 51},
	{"CVSS:4.0/AV:N/AC:L/AT:N/PR:H/UI:P/VC:L/VI:L/VA:N/SC:L/SI:N/SA:N", 48},
	{"CVSS:4.0/AV:N/AC:L/AT:N/PR:H/UI:A/VC:L/VI:N/VA:N/SC:H/SI:N/SA:H", 60},
	{"CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:N/SA:H", 95},
	{"CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:N/VC:H/VI:L/VA:L/SC:N/SI:L/SA:L", 83},
	{"CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:N/VC:N/VI:L/VA:L/SC:H/SI:L/SA:L", 70},
	{"CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:P/VC:L/VI:L/VA:N/SC:H/SI:N/SA:N", 49},
	{"CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:A/VC:N/VI:N/VA:N/SC:L/SI:N/SA:N", 21},
	{"CVSS:4.0/AV:N/AC:L/AT:P/PR:L/UI:N/VC:N/VI:N/VA:N/SC:N/SI:L/SA:N", 23},
	{"CVSS:4.0/AV:N/AC:L/AT:P/PR:L/UI:A/VC:L/VI:L/VA:N/SC:N/SI:H/SA:L", 45},
	{"CVSS:4.0/AV:N/AC:L/AT:P/PR:H/UI:N/VC:N/VI:L/VA:L/SC:H/SI:H/SA:H", 55},
	{"CVSS:4.0/AV:N/AC:L/AT:P/PR:H/UI:A/VC:N/VI:L/VA:L/SC:L/SI:N/SA:N", 18},
	{"CVSS:4.0/AV:N/AC:H/AT:N/PR:N/UI:N/VC:H/VI:H/VA:N/SC:L/SI:H/SA:L", 94},
	{"CVSS:4.0/AV:N/AC:H/AT:N/PR:N/UI:A/VC:L/VI:L/VA:N/SC:N/SI:N/SA:N", 21},
	{"CVSS:4.0/AV:N/AC:H/AT:N/PR:L/UI:N/VC:H/VI:N/VA:L/SC:L/SI:L/SA:L", 60},
	{"CVSS:4.0/AV:N/AC:H/AT:N/PR:L/UI:P/VC:H/VI:H/VA:H/SC:H/SI:L/SA:H", 88},
	{"CVSS:4.0/AV:N/AC:H/AT:N/PR:L/UI:A/VC:N/VI:L/VA:L/SC:H/SI:H/SA:L", 50},
	{"CVSS:4.0/AV:N/AC:H/AT:N/PR:H/UI:A/VC:N/VI:N/VA:N/SC:N/SI:H/SA:N", 40},
	{"CVSS:4.0/AV:N/AC:H/AT:P/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:L/SA:N", 95},
	{"CVSS:4.0/AV:N/AC:H/AT:P/PR:N/UI:N/VC:N/VI:L/VA:N/SC:L/SI:H/SA:L", 70},
	{"CVSS:4.0/AV:N/AC:H/AT:P/PR:N/UI:N/VC:L/VI:L/VA:H/SC:L/SI:N/SA:N", 83},
	{"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:A", 93},
};

static const char *const bad_vectors[] = {
	"",
	"CVSS:3.1/",
	"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H",			/* no A */
	"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:X",		/* bad value */
	"CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",	/* twice */
	"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/ZZ:1",	/* unknown */
	"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/",		/* trailing */
	"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N",
	"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:S/SA:N",
	"CVSS:9.9/AV:N",
	"AV:N/AC:L/Au:N/C:P/I:P",
	"AV:N/AC:L/Au:N/C:P/I:P/A:Q",
	"garbage",
};

static void
run_cases(const char *label, const Case *cases, size_t n)
{
	size_t		i;
	int			good = 0;

	for (i = 0; i < n; i++)
	{
		int32_t		score = -1;
		char		err[128] = "";
		char		desc[256];
		int			rc = sp_cvss_base_score(cases[i].vector, &score, err,
											sizeof(err));
		int			pass = rc == 0 && score == cases[i].tenths * 100;

		if (!pass)
			printf("# %s: got rc=%d score=%d (%s), want %d\n",
				   cases[i].vector, rc, score, err, cases[i].tenths * 100);
		good += pass;
		snprintf(desc, sizeof(desc), "%s %s = %d.%d", label, cases[i].vector,
				 cases[i].tenths / 10, cases[i].tenths % 10);
		ok(pass, desc);
	}
	printf("# %s: %d of %zu published vectors match\n", label, good, n);
}

int
main(void)
{
	size_t		i;

	run_cases("spec", spec_cases, sizeof(spec_cases) / sizeof(spec_cases[0]));
	run_cases("v3.1", v31_cases, sizeof(v31_cases) / sizeof(v31_cases[0]));
	run_cases("v3.0", v30_cases, sizeof(v30_cases) / sizeof(v30_cases[0]));
	run_cases("v2", v2_cases, sizeof(v2_cases) / sizeof(v2_cases[0]));
	run_cases("v4.0", v4_cases, sizeof(v4_cases) / sizeof(v4_cases[0]));

	for (i = 0; i < sizeof(bad_vectors) / sizeof(bad_vectors[0]); i++)
	{
		int32_t		score;
		char		err[128] = "";
		char		desc[256];
		int			rc = sp_cvss_base_score(bad_vectors[i], &score, err,
											sizeof(err));

		snprintf(desc, sizeof(desc), "bad vector \"%s\" fails: %s",
				 bad_vectors[i], err);
		ok(rc == -1 && err[0] != '\0', desc);
	}
	ok(sp_cvss_base_score(NULL, &(int32_t) {0}, (char[64]) {0}, 64) == -1,
	   "NULL vector fails");
	ok(sp_cvss_version("CVSS:4.0/AV:N") == 4 &&
	   sp_cvss_version("CVSS:3.0/AV:N") == 3 &&
	   sp_cvss_version("AV:N") == 2, "version detection");

	printf("1..%d\n", tests);
	return failures ? 1 : 0;
}
