/*-------------------------------------------------------------------------
 *
 * test_dsl_eval.c
 *	  TAP tests of the stella-dsl@1 evaluator: verdicts of the three
 *	  published policies and of test/policies/all-constructs.stella for
 *	  tuples built here, VEX applicability and supersession, the severity
 *	  profile, explain traces.
 *
 * Every expected verdict below was worked out by hand from DSL.md and
 * docs/policy-language.md and is compared as canonical JSON text.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/core/dsl.h"

static int	tests = 0;
static int	failures = 0;
static SpArena *arena;

static void
ok(int cond, const char *desc)
{
	tests++;
	if (!cond)
		failures++;
	printf("%sok %d - %s\n", cond ? "" : "not ", tests, desc);
}

static int64_t
ts(const char *s)
{
	int64_t		us = 0;

	if (!sp_parse_timestamp(s, strlen(s), &us))
		printf("# bad timestamp in test: %s\n", s);
	return us;
}

static SpPolicy *
load_file(const char *path)
{
	FILE	   *f = fopen(path, "rb");
	char		buf[65536];
	size_t		n;
	SpCompileResult *res;
	SpPolicy   *p;

	if (f == NULL)
	{
		printf("# cannot open %s\n", path);
		return NULL;
	}
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	p = sp_dsl_compile_load(buf, n, arena, &res);
	if (p == NULL && res != NULL && res->ndiags > 0)
		printf("# %s: %d:%d %s\n", path, res->diags[0].line,
			   res->diags[0].column, res->diags[0].message);
	return p;
}

/* Compile and load a policy held in a C string. */
static SpPolicy *
compile_str(const char *src)
{
	SpCompileResult *res;
	SpPolicy   *p = sp_dsl_compile_load(src, strlen(src), arena, &res);

	if (p == NULL && res != NULL && res->ndiags > 0)
		printf("# %d:%d %s\n", res->diags[0].line, res->diags[0].column,
			   res->diags[0].message);
	return p;
}

static const char *const lodash_aliases[] = {"CVE-2020-8203"};

/* The tuple most cases start from: lodash 4.17.15 and a GHSA advisory. */
static SpTuple
base_tuple(void)
{
	SpTuple		t;

	memset(&t, 0, sizeof(t));
	t.sbom_id = "sbom-1";
	t.purl = "pkg:npm/lodash@4.17.15";
	t.name = "lodash";
	t.version = "4.17.15";
	t.ecosystem = "npm";
	t.scope = "required";
	t.advisory_id = "GHSA-p6mc-m468-83gw";
	t.aliases = lodash_aliases;
	t.n_aliases = 1;
	t.base_score = 7500;
	t.eval_time = ts("2025-06-01T00:00:00Z");
	return t;
}

static SpVexStatement
stmt(const char *id, const char *issuer, const char *status,
	 const char *just, const char *when, const char *vuln,
	 const char *product)
{
	SpVexStatement s;

	s.id = id;
	s.issuer = issuer;
	s.status = status;
	s.justification = just;
	s.timestamp = ts(when);
	s.vulnerability = vuln;
	s.product = product;
	return s;
}

static void
expect(const SpPolicy *p, const SpTuple *t, const char *want,
	   const char *desc)
{
	SpVerdict	v;
	char	   *got;

	if (p == NULL)
	{
		ok(0, desc);
		return;
	}
	if (sp_dsl_evaluate(p, t, &v, arena) != 0)
	{
		ok(0, desc);
		return;
	}
	got = sp_verdict_json(&v, arena);
	if (strcmp(got, want) != 0)
		printf("# got  %s\n# want %s\n", got, want);
	ok(strcmp(got, want) == 0, desc);
}

#define V(ann, band, quiet, until, rat, rule, score, status, warn) \
	"{\"annotations\":{" ann "},\"band\":\"" band "\",\"quiet\":" quiet \
	",\"quietUntil\":" until ",\"rationale\":" rat ",\"rule\":" rule \
	",\"score\":" score ",\"status\":\"" status "\",\"warnings\":[" warn "]}"

static const char *
policy_path(const char *dir_env, const char *dflt, const char *file,
			char *buf, size_t len)
{
	const char *dir = getenv(dir_env);

	snprintf(buf, len, "%s/%s", dir ? dir : dflt, file);
	return buf;
}

static void
test_default_org(void)
{
	char		path[512];
	SpPolicy   *p = load_file(policy_path("SP_POLICIES", "/work/shared/policies",
										  "default-org-policy.stella",
										  path, sizeof(path)));
	SpTuple		t;
	SpVexStatement vs[3];
	SpEnvEntry	env[2];
#define RAT "\"Strong vendor justification prevails\""

	ok(p != NULL, "default-org-policy loads");

	t = base_tuple();
	expect(p, &t, V("", "High", "false", "null", "null", "null", "8000",
					"affected", ""),
		   "default-org: GHSA 7.5 +0.5 = 8.0 High, no rule, affected");

	env[0] = (SpEnvEntry) {"exposure", SP_ENV_STRING, "internal-only", 0, false};
	env[1] = (SpEnvEntry) {"runtime", SP_ENV_STRING, "serverless", 0, false};
	t.env = env;
	t.n_env = 2;
	expect(p, &t, V("", "Medium", "false", "null", "null", "null", "6500",
					"affected", ""),
		   "default-org: env adjustments 7.5 +0.5 -0.5 -1.0 = 6.5 Medium");

	t = base_tuple();
	vs[0] = stmt("s1", "Lodash", "not_affected", "vulnerable_code_not_present",
				 "2024-01-01T00:00:00Z", "cve-2020-8203", "pkg:npm/lodash");
	t.vex = vs;
	t.n_vex = 1;
	expect(p, &t, V("", "High", "false", "null", RAT, "\"vex_precedence\"",
					"8000", "not_affected", ""),
		   "default-org: VEX by alias (any case), versionless product -> not_affected");

	vs[0].justification = "inline_mitigations_already_exist";
	expect(p, &t, V("", "High", "false", "null", "null", "null", "8000",
					"affected", ""),
		   "default-org: justification not in the list -> affected");

	vs[0] = stmt("s1", "Lodash", "not_affected", "component_not_present",
				 "2024-01-01T00:00:00Z", "CVE-2020-8203", "pkg:npm/lodash");
	vs[1] = stmt("s2", "Lodash", "affected", NULL,
				 "2024-02-01T00:00:00Z", "CVE-2020-8203", "pkg:npm/lodash");
	t.n_vex = 2;
	expect(p, &t, V("", "High", "false", "null", "null", "null", "8000",
					"affected", ""),
		   "default-org: a later statement of the same issuer supersedes");

	vs[1] = stmt("s2", "Other", "under_investigation", NULL,
				 "2024-02-01T00:00:00Z", "CVE-2020-8203", "pkg:npm/lodash");
	expect(p, &t, V("", "High", "false", "null", "null", "null", "8000",
					"affected", ""),
		   "default-org: vex.justification reads the latest statement (another issuer's)");
	vs[1].timestamp = ts("2023-02-01T00:00:00Z");
	expect(p, &t, V("", "High", "false", "null", RAT, "\"vex_precedence\"",
					"8000", "not_affected", ""),
		   "default-org: when the other issuer is older, the not_affected one is latest");

	t.n_vex = 1;
	vs[0].product = "pkg:npm/express";
	expect(p, &t, V("", "High", "false", "null", "null", "null", "8000",
					"affected", ""),
		   "default-org: statement about another product does not apply");
	vs[0].product = "pkg:npm/lodash@4.17.15?foo=bar#sub";
	expect(p, &t, V("", "High", "false", "null", RAT, "\"vex_precedence\"",
					"8000", "not_affected", ""),
		   "default-org: product with the same version, qualifiers ignored");
	vs[0].product = "pkg:npm/lodash@4.17.21";
	expect(p, &t, V("", "High", "false", "null", "null", "null", "8000",
					"affected", ""),
		   "default-org: product with another version does not apply");
	vs[0].product = "pkg:npm/lodash";
	vs[0].vulnerability = "CVE-2021-23337";
	expect(p, &t, V("", "High", "false", "null", "null", "null", "8000",
					"affected", ""),
		   "default-org: statement about another vulnerability does not apply");

	/* Ties on timestamp go to the bytewise greater statement id. */
	vs[0] = stmt("a", "Lodash", "not_affected", "component_not_present",
				 "2024-01-01T00:00:00Z", "CVE-2020-8203", "pkg:npm/lodash");
	vs[1] = stmt("b", "Lodash", "affected", NULL,
				 "2024-01-01T00:00:00Z", "CVE-2020-8203", "pkg:npm/lodash");
	t.n_vex = 2;
	expect(p, &t, V("", "High", "false", "null", "null", "null", "8000",
					"affected", ""),
		   "default-org: timestamp tie broken by statement id (b beats a)");
	vs[0].id = "c";
	expect(p, &t, V("", "High", "false", "null", RAT, "\"vex_precedence\"",
					"8000", "not_affected", ""),
		   "default-org: timestamp tie broken by statement id (c beats b)");

	t = base_tuple();
	t.base_score = 9800;
	expect(p, &t, V("", "Critical", "false", "null", "null", "null", "10000",
					"affected", ""),
		   "default-org: 9.8 + 0.5 clamps to 10.0");
	t.base_score = 7500;
	t.advisory_source = "VendorX";
	expect(p, &t, V("", "High", "false", "null", "null", "null", "7300",
					"affected", ""),
		   "default-org: explicit source VendorX weighs -0.2");
	t.advisory_source = NULL;
	t.advisory_id = "OSV-2020-111";
	expect(p, &t, V("", "High", "false", "null", "null", "null", "7500",
					"affected", ""),
		   "default-org: source from the id prefix (OSV) weighs 0");
}

static void
test_baseline(void)
{
	char		path[512];
	SpPolicy   *p = load_file(policy_path("SP_POLICIES", "/work/shared/policies",
										  "docs2-short-baseline.stella",
										  path, sizeof(path)));
	SpTuple		t = base_tuple();
	SpVexStatement vs[1];

	ok(p != NULL, "docs2-short-baseline loads");
	expect(p, &t, V("", "High", "false", "null", "null", "null", "7500",
					"affected", ""),
		   "baseline: no VEX -> affected, GHSA has no weight here");
	vs[0] = stmt("s1", "Lodash", "not_affected", NULL,
				 "2024-01-01T00:00:00Z", "GHSA-p6mc-m468-83gw",
				 "pkg:npm/lodash@4.17.15");
	t.vex = vs;
	t.n_vex = 1;
	expect(p, &t, V("", "High", "false", "null", "\"VEX claim\"",
					"\"vex_override\"", "7500", "not_affected", ""),
		   "baseline: not_affected VEX by advisory id -> not_affected");
	vs[0].status = "fixed";
	expect(p, &t, V("", "High", "false", "null", "null", "null", "7500",
					"affected", ""),
		   "baseline: fixed is not not_affected -> affected");
}

static void
test_internal_only(void)
{
	char		path[512];
	SpPolicy   *p = load_file(policy_path("SP_POLICIES", "/work/shared/policies",
										  "internal-only.stella",
										  path, sizeof(path)));
	SpTuple		t;
	SpVexStatement vs[1];
	SpEnvEntry	env[2];
	static const char *const kev[] = {"kev"};

	ok(p != NULL, "internal-only loads");
	t = base_tuple();
	t.advisory_tags = kev;
	t.n_advisory_tags = 1;
	expect(p, &t, V("", "High", "false", "null",
					"\"Known exploited vulnerabilities must be remediated.\"",
					"\"block_kev\"", "7500", "blocked", ""),
		   "internal-only: KEV -> blocked by block_kev (priority 1)");

	t = base_tuple();
	t.base_score = SP_SCORE_UNKNOWN;
	t.severity_word = "MODERATE";
	env[0] = (SpEnvEntry) {"exposure", SP_ENV_STRING, "internal", 0, false};
	t.env = env;
	t.n_env = 1;
	expect(p, &t, V("", "Medium", "false", "null",
					"\"Allow Medium findings with warning for internal workloads.\"",
					"\"allow_medium_with_warning\"", "4600", "warned",
					"\"Medium severity permitted in internal environments.\""),
		   "internal-only: MODERATE 5.0 -0.4 = 4.6 Medium internal -> warned");

	t = base_tuple();
	vs[0] = stmt("s1", "Lodash", "fixed", NULL, "2024-01-01T00:00:00Z",
				 "CVE-2020-8203", "pkg:npm/lodash");
	t.vex = vs;
	t.n_vex = 1;
	expect(p, &t, V("\"justification\":null", "High", "false", "null",
					"\"Trust vendor VEX statements for internal scope.\"",
					"\"accept_vendor_vex\"", "7500", "fixed", ""),
		   "internal-only: fixed VEX -> status fixed, null justification annotated");
	vs[0].status = "not_affected";
	vs[0].justification = "component_not_present";
	expect(p, &t, V("\"justification\":\"component_not_present\"", "High",
					"false", "null",
					"\"Trust vendor VEX statements for internal scope.\"",
					"\"accept_vendor_vex\"", "7500", "not_affected", ""),
		   "internal-only: not_affected VEX -> justification annotated");

	t = base_tuple();
	t.base_score = SP_SCORE_UNKNOWN;
	t.severity_word = "LOW";
	expect(p, &t, V("", "Low", "true", "\"2026-01-01T00:00:00Z\"",
					"\"Quiet low severity until next annual remediation sweep.\"",
					"\"quiet_low_priority\"", "2000", "ignored", ""),
		   "internal-only: Low before 2026 -> ignored and quiet");
	t.eval_time = ts("2026-02-01T00:00:00Z");
	expect(p, &t, V("", "Low", "false", "null", "null", "null", "2000",
					"affected", ""),
		   "internal-only: Low after 2026 -> ignore expired, default verdict");
	t.eval_time = ts("2025-12-31T23:59:59.999999Z");
	expect(p, &t, V("", "Low", "true", "\"2026-01-01T00:00:00Z\"",
					"\"Quiet low severity until next annual remediation sweep.\"",
					"\"quiet_low_priority\"", "2000", "ignored", ""),
		   "internal-only: one microsecond before the deadline still ignored");

	t = base_tuple();
	t.base_score = SP_SCORE_UNKNOWN;
	expect(p, &t, V("", "None", "true", "\"2026-01-01T00:00:00Z\"",
					"\"Quiet low severity until next annual remediation sweep.\"",
					"\"quiet_low_priority\"", "0", "ignored", ""),
		   "internal-only: no severity at all -> None <= Low -> ignored");

	t = base_tuple();
	t.base_score = 5000;
	expect(p, &t, V("", "Medium", "false", "null", "null", "null", "5000",
					"affected", ""),
		   "internal-only: Medium without internal exposure -> affected");
}

static void
test_all_constructs(void)
{
	char		path[512];
	SpPolicy   *p = load_file(policy_path("SP_TEST_POLICIES", "test/policies",
										  "all-constructs.stella",
										  path, sizeof(path)));
	SpTuple		t;
	SpVexStatement vs[2];
	SpEnvEntry	env[2];
	static const char *const kev[] = {"kev"};
	static const char *const prod[] = {"prod"};
	static const char *const lic[] = {"MIT", "GPL-3.0-only"};
	static const char *const pyal[] = {"CVE-2021-1"};

	ok(p != NULL, "all-constructs loads");

	t = base_tuple();
	t.advisory_tags = kev;
	t.n_advisory_tags = 1;
	t.sbom_tags = prod;
	t.n_sbom_tags = 1;
	t.base_score = 5000;
	expect(p, &t, V("\"kev\":true", "Critical", "false", "null",
					"\"KEV in production\"", "\"kev_in_prod\"", "6000",
					"blocked", ""),
		   "all: has_tag (any case), escalate to Critical keeps score 6.0");

	t = base_tuple();
	t.ecosystem = "pypi";
	t.purl = "pkg:pypi/django@3.0.7";
	t.name = "django";
	t.advisory_id = "PYSEC-2021-1";
	t.aliases = pyal;
	t.base_score = 8000;
	expect(p, &t, V("", "High", "false", "null",
					"\"High PyPI findings need an Acme VEX\"",
					"\"pypi_needs_vex\"", "7500", "blocked", ""),
		   "all: requireVex without VEX -> blocked");
	vs[0] = stmt("s1", "Acme", "not_affected", "vulnerable_code_not_present",
				 "2024-01-01T00:00:00Z", "CVE-2021-1", "pkg:pypi/django");
	t.vex = vs;
	t.n_vex = 1;
	expect(p, &t, V("", "High", "false", "null",
					"\"High PyPI findings need an Acme VEX\"",
					"\"pypi_needs_vex\"", "7500", "not_affected", ""),
		   "all: requireVex satisfied -> not_affected");
	vs[0].justification = "inline_mitigations_already_exist";
	expect(p, &t, V("", "High", "false", "null",
					"\"High PyPI findings need an Acme VEX\"",
					"\"pypi_needs_vex\"", "7500", "blocked", ""),
		   "all: requireVex with a justification not listed -> blocked");
	vs[0].justification = "vulnerable_code_not_present";
	vs[0].issuer = "Someone";
	expect(p, &t, V("", "High", "false", "null",
					"\"High PyPI findings need an Acme VEX\"",
					"\"pypi_needs_vex\"", "7500", "blocked", ""),
		   "all: requireVex from a vendor not listed -> blocked");

	t = base_tuple();
	t.base_score = 3000;
	vs[0] = stmt("s1", "Acme", "not_affected", "vulnerable_code_not_present",
				 "2024-01-01T00:00:00Z", "GHSA-p6mc-m468-83gw",
				 "pkg:npm/lodash");
	t.vex = vs;
	t.n_vex = 1;
	expect(p, &t, V("\"issuers\":[\"Acme\",\"x\"],\"statement\":{\"issuer\":\"Acme\",\"justification\":\"vulnerable_code_not_present\",\"statementId\":\"s1\",\"status\":\"not_affected\"}",
					"Medium", "false", "null", "\"Acme says not affected\"",
					"\"acme_all_clear\"", "4000", "not_affected", ""),
		   "all: vex.latest(), vex.all, annotations sorted, statement as JSON");
	vs[1] = stmt("s2", "Other", "affected", NULL, "2024-03-01T00:00:00Z",
				 "GHSA-p6mc-m468-83gw", "pkg:npm/lodash");
	t.n_vex = 2;
	expect(p, &t, V("", "High", "false", "null", "\"catch all\"",
					"\"zz_catch_all\"", "4000", "under_investigation", ""),
		   "all: later statement of another issuer -> falls to catch-all, escalated, default status");

	t = base_tuple();
	t.name = "LoDash";
	t.base_score = 3000;
	env[0] = (SpEnvEntry) {"quietuntil", SP_ENV_STRING, "soon", 0, false};
	t.env = env;
	t.n_env = 1;
	expect(p, &t, V("\"until\":\"soon\"", "Medium", "true",
					"\"2030-01-01T00:00:00Z\"", "\"snoozed by the run\"",
					"\"snoozed\"", "4000", "ignored", ""),
		   "all: env.quietUntil reads key quietuntil; lowercase(); ignore until");

	t = base_tuple();
	t.licenses = lic;
	t.n_licenses = 2;
	t.base_score = 1000;
	expect(p, &t, V("\"score\":2", "Low", "false", "null",
					"\"licence review\"", "\"gpl\"", "2000", "warned",
					"\"GPL component\""),
		   "all: in over licenses, cvss(), normalize_cvss(), warn, number annotation");

	t = base_tuple();
	t.advisory_id = "PYSEC-2020-9";
	t.base_score = 3000;
	expect(p, &t, V("", "Low", "false", "null", "\"catch all\"",
					"\"zz_catch_all\"", "2500", "not_affected", ""),
		   "all: else branch applies when the condition fails");

	t = base_tuple();
	t.base_score = 5000;
	env[0] = (SpEnvEntry) {"exposure", SP_ENV_STRING, "internet", 0, false};
	env[1] = (SpEnvEntry) {"critical_app", SP_ENV_BOOL, NULL, 0, true};
	t.env = env;
	t.n_env = 2;
	expect(p, &t, V("", "High", "false", "null", "\"catch all\"",
					"\"zz_catch_all\"", "8500", "under_investigation", ""),
		   "all: env adjustments with bool env value: 5 +1 +0.5 +2 = 8.5");
	env[1] = (SpEnvEntry) {"critical_app", SP_ENV_NUMBER, NULL, 1000, false};
	expect(p, &t, V("", "High", "false", "null", "\"catch all\"",
					"\"zz_catch_all\"", "6500", "under_investigation", ""),
		   "all: a number is not true: 5 +1 +0.5 = 6.5, escalated to High");
}

static void
test_misc(void)
{
	SpPolicy   *p;
	SpTuple		t;
	SpVerdict	v;
	SpSeverityVector sv[3];
	SpVexStatement vs[3];
	char	   *ex;
	int64_t		us;

	/* Base score selection. */
	sv[0] = (SpSeverityVector) {SP_CVSS_V3, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"};
	sv[1] = (SpSeverityVector) {SP_CVSS_V4, "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"};
	sv[2] = (SpSeverityVector) {SP_CVSS_V2, "AV:N/AC:L/Au:N/C:P/I:P/A:P"};
	ok(sp_advisory_base_score(sv, 3, "LOW") == 9300, "v4 preferred over v3 and v2");
	sv[1].vector = "CVSS:4.0/broken";
	ok(sp_advisory_base_score(sv, 3, NULL) == 9800, "invalid v4 falls back to v3");
	ok(sp_advisory_base_score(sv + 2, 1, NULL) == 7500, "v2 alone");
	ok(sp_advisory_base_score(NULL, 0, "critical") == 9500 &&
	   sp_advisory_base_score(NULL, 0, "MODERATE") == 5000 &&
	   sp_advisory_base_score(NULL, 0, "HIGH") == 8000 &&
	   sp_advisory_base_score(NULL, 0, "LOW") == 2000, "severity words");
	ok(sp_advisory_base_score(NULL, 0, "weird") == SP_SCORE_UNKNOWN,
	   "no usable severity -> unknown");

	/* Timestamps. */
	ok(sp_parse_timestamp("2026-01-01", 10, &us) && us == 1767225600000000LL,
	   "date-only timestamp is midnight UTC");
	ok(sp_parse_timestamp("2024-07-10T12:17:44.60495+04:00", 31, &us) &&
	   us == ts("2024-07-10T08:17:44.604950Z"), "offset and fraction");
	ok(!sp_parse_timestamp("2023-02-29T00:00:00Z", 20, &us) &&
	   !sp_parse_timestamp("2024-13-01", 10, &us) &&
	   !sp_parse_timestamp("2024-01-01T25:00Z", 17, &us),
	   "invalid dates rejected");

	/* Null tuple fields, comparisons with null, bands from strings. */
	p = compile_str(
							"policy \"m\" syntax \"stella-dsl@1\" {\n"
							" rule a priority 1 { when component.name == null and not exists(component.purl) "
							"and coalesce(env.x, env.y, 3) == 3 and severity_band(env.band) >= \"medium\" and env.band < \"medium\" and severity.score < 0.1 "
							"and advisory.published >= \"2020-01-01\" and vex.latest() == null and vex.status == null "
							"and not vex.any(true) and not vex.all(true) and cvss(env.y) == null "
							"then status := \"nulls\" annotate b := severity_band(env.band) annotate c := component.licenses annotate n := -1.25 because \"n\" }\n"
							"}\n");
	ok(p != NULL, "null-handling policy compiles");
	memset(&t, 0, sizeof(t));
	t.base_score = SP_SCORE_UNKNOWN;
	t.published = "2021-05-05T00:00:00Z";
	{
		SpEnvEntry	env[1] = {{"band", SP_ENV_STRING, "High", 0, false}};

		t.env = env;
		t.n_env = 1;
		expect(p, &t, V("\"b\":\"High\",\"c\":[],\"n\":-1.25", "None", "false",
						"null", "\"n\"", "\"a\"", "0", "nulls", ""),
			   "empty tuple: nulls, coalesce, runtime band names, empty lists");
	}

	/* quietUntil keeps microseconds, zero-padded, in the canonical form. */
	p = compile_str(
							"policy \"q\" syntax \"stella-dsl@1\" { rule r { when true then ignore until \"2030-01-02T03:04:05.000678Z\" because \"q\" } }");
	ok(p != NULL, "ignore-until policy with a fraction compiles");
	t = base_tuple();
	expect(p, &t, V("", "High", "true", "\"2030-01-02T03:04:05.000678Z\"", "\"q\"",
					"\"r\"", "7500", "ignored", ""),
		   "quietUntil with microseconds, fields zero-padded");

	/* Evaluation is deterministic and pure. */
	p = compile_str(
							"policy \"v\" syntax \"stella-dsl@1\" { rule r { when vex.any(issuer == \"A\") then requireVex { vendors = [\"A\"] } because \"x\" } }");
	ok(p != NULL, "requireVex policy compiles");
	t = base_tuple();
	vs[0] = stmt("s1", "A", "not_affected", "component_not_present",
				 "2024-01-01T00:00:00Z", "CVE-2020-8203", "pkg:npm/lodash");
	vs[1] = stmt("s0", "A", "affected", NULL, "2023-01-01T00:00:00Z",
				 "CVE-2020-8203", "pkg:npm/lodash");
	vs[2] = stmt("s9", "B", "not_affected", "component_not_present",
				 "2024-05-01T00:00:00Z", "CVE-2020-8203", "pkg:npm/lodash");
	t.vex = vs;
	t.n_vex = 3;
	if (p != NULL)
	{
		char	   *a,
				   *b;

		sp_dsl_evaluate(p, &t, &v, arena);
		a = sp_verdict_json(&v, arena);
		sp_dsl_evaluate(p, &t, &v, arena);
		b = sp_verdict_json(&v, arena);
		ok(strcmp(a, b) == 0 && strstr(a, "\"status\":\"not_affected\"") &&
		   v.rule_index == 0, "same tuple, same verdict; rule index reported");

		ex = sp_dsl_explain(p, &t, "finding-1", arena);
		printf("# explain: %s\n", ex ? ex : "(null)");
		ok(ex != NULL &&
		   strstr(ex, "\"schemaVersion\":\"scheduler.policy-explain-trace@1\"") &&
		   strstr(ex, "\"findingId\":\"finding-1\"") &&
		   strstr(ex, "\"condition\":\"vex.any(issuer == \\\"A\\\")\"") &&
		   strstr(ex, "\"reason\":\"superseded by a later statement\",\"statementId\":\"s0\"") &&
		   strstr(ex, "\"supersededBy\":\"s1\"") &&
		   strstr(ex, "\"reason\":\"issuer not accepted by requireVex\",\"statementId\":\"s9\"") &&
		   strstr(ex, "\"vexImpacts\":[{\"latest\":false,\"rule\":\"r\",\"statementId\":\"s1\""),
		   "explain trace: rule chain, condition text, VEX evidence and reasons");
		vs[2].product = "pkg:npm/other";
		vs[1].vulnerability = "CVE-1999-0001";
		ex = sp_dsl_explain(p, &t, NULL, arena);
		ok(ex != NULL && strstr(ex, "\"reason\":\"other product\"") &&
		   strstr(ex, "\"reason\":\"other vulnerability\"") &&
		   strstr(ex, "\"findingId\":null"),
		   "explain trace: other product, other vulnerability");
	}
	else
	{
		ok(0, "same tuple, same verdict");
		ok(0, "explain trace");
		ok(0, "explain trace 2");
	}
}

int
main(void)
{
	arena = sp_arena_create();
	test_default_org();
	test_baseline();
	test_internal_only();
	test_all_constructs();
	test_misc();
	printf("1..%d\n", tests);
	sp_arena_destroy(arena);
	return failures ? 1 : 0;
}
