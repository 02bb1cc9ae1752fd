/*-------------------------------------------------------------------------
 *
 * test_dsl.c
 *	  TAP tests of the stella-dsl@1 compiler: lexing, parsing, semantic
 *	  checks with positions, canonical IR and digest stability.
 *
 * The three published policies in /work/shared/policies (or $SP_POLICIES)
 * must compile; their digests are printed as diagnostics.  Every class of
 * compile error is checked with its line and column.
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
	const char *p;

	tests++;
	if (!cond)
		failures++;
	printf("%sok %d - ", cond ? "" : "not ", tests);

	/* Keep each result on one line whatever the description holds. */
	for (p = desc; *p; p++)
		if (*p == '\n' || *p == '\t')
			fputs(*p == '\n' ? "\\n" : " ", stdout);
		else
			putchar(*p);
	putchar('\n');
}

static SpCompileResult *
compile(const char *src)
{
	return sp_dsl_compile(src, strlen(src), arena);
}

static const char *
digest(const char *src)
{
	SpCompileResult *r = compile(src);

	if (!r->ok)
	{
		int			i;

		for (i = 0; i < r->ndiags; i++)
			printf("# unexpected: %d:%d %s\n", r->diags[i].line,
				   r->diags[i].column, r->diags[i].message);
		return "(error)";
	}
	return r->digest;
}

/* Expect a diagnostic at line:col whose message contains what. */
static void
expect_error(const char *src, int line, int col, const char *what,
			 const char *desc)
{
	SpCompileResult *r = compile(src);
	int			i,
				found = 0;

	for (i = 0; i < r->ndiags; i++)
		if (r->diags[i].line == line && r->diags[i].column == col &&
			strstr(r->diags[i].message, what) != NULL &&
			strcmp(r->diags[i].code, "ERR_POL_001") == 0)
			found = 1;
	if (!found)
		for (i = 0; i < r->ndiags; i++)
			printf("# got %d:%d %s\n", r->diags[i].line, r->diags[i].column,
				   r->diags[i].message);
	ok(!r->ok && r->ir_json == NULL && r->digest == NULL && found, desc);
}

static char *
slurp(const char *path, size_t *len)
{
	FILE	   *f = fopen(path, "rb");
	char	   *buf;
	long		n;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t) n + 1);
	if (fread(buf, 1, (size_t) n, f) != (size_t) n)
		n = 0;
	buf[n] = '\0';
	fclose(f);
	*len = (size_t) n;
	return buf;
}

#define HEAD "policy \"t\" syntax \"stella-dsl@1\" {\n"

static const char *base_policy =
HEAD
"  metadata { description = \"d\"  tags = [\"a\",\"b\"] }\n"
"  settings { default_status = \"affected\" }\n"
"  profile severity {\n"
"    map vendor_weight { source \"GHSA\" => +0.5 }\n"
"    env adj { if env.stage == \"dev\" then -0.6 }\n"
"  }\n"
"  rule r1 priority 5 {\n"
"    when severity.normalized >= \"High\" and component.ecosystem == \"npm\"\n"
"    then status := \"blocked\"\n"
"    because \"high npm\"\n"
"  }\n"
"  rule r2 { when advisory.has_tag(\"kev\") then escalate to severity_band(\"Critical\") }\n"
"}\n";

/* Replace the first occurrence of from by to in base_policy. */
static char *
edit(const char *from, const char *to)
{
	const char *at = strstr(base_policy, from);
	char	   *out;

	if (at == NULL)
	{
		printf("# edit: \"%s\" not found\n", from);
		return strdup(base_policy);
	}
	out = malloc(strlen(base_policy) + strlen(to) + 1);
	memcpy(out, base_policy, (size_t) (at - base_policy));
	strcpy(out + (at - base_policy), to);
	strcat(out, at + strlen(from));
	return out;
}

static void
test_shared_policies(void)
{
	static const char *const files[] = {
		"default-org-policy.stella", "docs2-short-baseline.stella",
		"internal-only.stella"
	};
	const char *dir = getenv("SP_POLICIES");
	size_t		i;

	if (dir == NULL)
		dir = "/work/shared/policies";
	for (i = 0; i < 3; i++)
	{
		char		path[512];
		size_t		len;
		char	   *src;
		SpCompileResult *r,
				   *r2;
		const char *err = NULL;
		char		desc[600];

		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		src = slurp(path, &len);
		if (src == NULL)
		{
			snprintf(desc, sizeof(desc), "read %s", path);
			ok(0, desc);
			continue;
		}
		r = sp_dsl_compile(src, len, arena);
		r2 = sp_dsl_compile(src, len, arena);
		snprintf(desc, sizeof(desc), "%s compiles", files[i]);
		ok(r->ok && r->ndiags == 0, desc);
		if (!r->ok)
			continue;
		printf("# digest %s %s\n", files[i], r->digest);
		snprintf(desc, sizeof(desc), "%s: same source gives same digest",
				 files[i]);
		ok(strcmp(r->digest, r2->digest) == 0 &&
		   strcmp(r->ir_json, r2->ir_json) == 0, desc);
		snprintf(desc, sizeof(desc), "%s: IR loads", files[i]);
		ok(sp_dsl_load(r->ir_json, r->ir_len, arena, &err) != NULL, desc);
		free(src);
	}
}

static void
test_digest_stability(void)
{
	const char *d0 = digest(base_policy);
	char	   *v;
	size_t		i;
	static const char *const same[][2] = {
		{"  metadata", "// a comment\n  /* block\n comment */ metadata"},
		{"description = \"d\"", "description: \"d\""},
		{"then status := \"blocked\"", "then\n\t\tstatus   :=   \"blocked\";"},
		{"=> +0.5", "=> 0.5"},
		{"=> +0.5", "=> 0.500"},
		{"because \"high npm\"", "because \"high npm\";"},
		{"\"High\" and", "\"high\" and"},
		{"env.stage", "env.STAGE"},
		{"rule r2 {", "rule r2 {\n\n\n"},
	};
	static const char *const diff[][2] = {
		{"rule r1", "rule r1b"},
		{"priority 5", "priority 6"},
		{"priority 5", ""},
		{"\"blocked\"", "\"affected\""},
		{">= \"High\"", "> \"High\""},
		{">= \"High\"", ">= \"Medium\""},
		{"+0.5", "+0.4"},
		{"\"GHSA\"", "\"OSV\""},
		{"-0.6", "-0.7"},
		{"description = \"d\"", "description = \"e\""},
		{"default_status = \"affected\"", "default_status = \"fixed\""},
		{"because \"high npm\"", "because \"npm\""},
		{"and component", "or component"},
		{"then status := \"blocked\"", "then status := \"blocked\" annotate k := 1"},
		{"then escalate", "then warn message \"x\" escalate"},
		{"policy \"t\"", "policy \"u\""},
	};

	ok(strncmp(d0, "sha256:", 7) == 0 && strlen(d0) == 71,
	   "digest is sha256:<64 hex>");
	for (i = 0; i < sizeof(same) / sizeof(same[0]); i++)
	{
		char		desc[256];

		v = edit(same[i][0], same[i][1]);
		snprintf(desc, sizeof(desc), "layout-only edit keeps digest: %s",
				 same[i][1]);
		ok(strcmp(digest(v), d0) == 0, desc);
		free(v);
	}
	for (i = 0; i < sizeof(diff) / sizeof(diff[0]); i++)
	{
		char		desc[256];
		const char *d;

		v = edit(diff[i][0], diff[i][1]);
		d = digest(v);
		snprintf(desc, sizeof(desc), "semantic edit changes digest: %s -> %s",
				 diff[i][0], diff[i][1]);
		ok(strcmp(d, "(error)") != 0 && strcmp(d, d0) != 0, desc);
		free(v);
	}
}

static void
test_ir_shape(void)
{
	SpCompileResult *r = compile(
								 HEAD
								 "rule zeta { when true then status := \"a\" }\n"
								 "rule alpha { when true then status := \"a\" }\n"
								 "rule late priority 9 { when true then status := \"a\" }\n"
								 "rule early priority -1 { when true then status := \"a\" }\n"
								 "rule mid priority 9 { when true then status := \"a\" }\n"
								 "}\n");
	const char *err = NULL;
	SpPolicy   *p;
	char	   *json;

	ok(r->ok, "ordering policy compiles");
	if (!r->ok)
		return;
	p = sp_dsl_load(r->ir_json, r->ir_len, arena, &err);
	ok(p != NULL && sp_policy_rule_count(p) == 5 &&
	   strcmp(sp_policy_rule_name(p, 0), "early") == 0 &&
	   strcmp(sp_policy_rule_name(p, 1), "late") == 0 &&
	   strcmp(sp_policy_rule_name(p, 2), "mid") == 0 &&
	   strcmp(sp_policy_rule_name(p, 3), "alpha") == 0 &&
	   strcmp(sp_policy_rule_name(p, 4), "zeta") == 0,
	   "rules sorted: priority ascending, ties and unprioritised by name, unprioritised last");
	ok(p != NULL && strcmp(sp_policy_digest(p), r->digest) == 0,
	   "loaded policy carries the same digest");
	ok(strchr(r->ir_json, ' ') == NULL && strchr(r->ir_json, '\n') == NULL,
	   "IR has no insignificant whitespace");
	ok(strstr(r->ir_json, "\"name\":\"t\",\"profile\"") != NULL &&
	   r->ir_json[0] == '{' && strncmp(r->ir_json, "{\"metadata\"", 11) == 0,
	   "IR keys sorted");
	ok(strstr(r->ir_json, "\"default_status\":\"affected\"") != NULL,
	   "default settings are written into the IR");

	json = sp_dsl_compile_result_json(r, arena);
	ok(strncmp(json, "{\"diagnostics\":[],\"digest\":\"sha256:", 35) == 0 &&
	   strstr(json, ",\"ir\":{") != NULL, "compile result JSON on success");

	r = compile("policy");
	json = sp_dsl_compile_result_json(r, arena);
	ok(strstr(json, "\"digest\":null,\"ir\":null") != NULL &&
	   strstr(json, "\"code\":\"ERR_POL_001\"") != NULL &&
	   strstr(json, "\"severity\":\"error\"") != NULL,
	   "compile result JSON on error");

	ok(sp_dsl_load("{", 1, arena, &err) == NULL && err != NULL,
	   "load rejects malformed JSON");
	ok(sp_dsl_load("{\"schema\":\"x\"}", 14, arena, &err) == NULL,
	   "load rejects a foreign document");
	{
		const char *bad = "{\"schema\":\"stellapolicy.ir@1\",\"name\":\"n\","
			"\"settings\":{\"default_status\":\"a\"},\"profile\":{\"vendor_weight\":{},"
			"\"env_adjustments\":[]},\"rules\":[{\"name\":\"r\",\"when\":{\"k\":\"bogus\"},"
			"\"then\":[]}]}";

		ok(sp_dsl_load(bad, strlen(bad), arena, &err) == NULL &&
		   strstr(err, "unknown expression") != NULL,
		   "load rejects an unknown node kind");
	}
}

static void
test_errors(void)
{
	expect_error("policy \"p\" syntax \"stella-dsl@2\" {}", 1, 19,
				 "supported syntaxes: \"stella-dsl@1\"", "unsupported syntax");
	expect_error(HEAD "rule a { when foo.bar == 1 then status := \"x\" }\n}",
				 2, 15, "unknown namespace \"foo\"", "unknown namespace");
	expect_error(HEAD "rule a { when component.nme == \"x\" then status := \"x\" }\n}",
				 2, 25, "unknown member \"nme\"", "unknown member");
	expect_error(HEAD "rule a { when frob(1) then status := \"x\" }\n}",
				 2, 15, "unknown function \"frob\"", "unknown function");
	expect_error(HEAD "rule a { when advisory.has_flag(\"x\") then status := \"x\" }\n}",
				 2, 24, "unknown function \"advisory.has_flag\"",
				 "unknown method");
	expect_error(HEAD "rule a { when exists(1, 2) then status := \"x\" }\n}",
				 2, 15, "exists takes 1 argument, not 2", "arity");
	expect_error(HEAD "rule a { when vex.latest(1) == null then status := \"x\" }\n}",
				 2, 19, "takes 0 arguments", "arity of vex.latest");
	expect_error(HEAD "rule a { when coalesce() == 1 then status := \"x\" }\n}",
				 2, 15, "at least 1 argument", "arity of coalesce");
	expect_error(HEAD "rule a { when severity.normalized == 3 then status := \"x\" }\n}",
				 2, 35, "cannot compare a band with a number", "band vs number");
	expect_error(HEAD "rule a { when severity.score > \"High\" then status := \"x\" }\n}",
				 2, 30, "cannot compare a number with a string",
				 "number vs string");
	expect_error(HEAD "rule a { when component.name in \"x\" then status := \"x\" }\n}",
				 2, 33, "in needs an array", "in on a non-array");
	expect_error(HEAD "rule a { when true then status := \"x\" }\n"
				 "rule a { when true then status := \"y\" }\n}",
				 3, 6, "duplicate rule name \"a\"", "duplicate rule names");
	expect_error(HEAD "rule a { when bogus then status := \"x\" }\n}",
				 2, 15, "unknown identifier \"bogus\"", "unknown identifier");
	expect_error(HEAD "rule a { when vex.any(colour == \"x\") then status := \"x\" }\n}",
				 2, 23, "unknown identifier \"colour\"",
				 "unknown predicate identifier");
	expect_error(HEAD "rule a { when severity.normalized == \"Huge\" then status := \"x\" }\n}",
				 2, 38, "unknown severity band \"Huge\"", "unknown band");
	expect_error(HEAD "rule a { when true then ignore until \"tomorrow\" }\n}",
				 2, 38, "invalid timestamp", "bad ignore timestamp");
	expect_error(HEAD "rule a { when true then explode }\n}",
				 2, 25, "unknown action \"explode\"", "unknown action");
	expect_error(HEAD "rule a { then status := \"x\" }\n}",
				 2, 6, "has no when", "missing when");
	expect_error(HEAD "rule a { when true because \"x\" }\n}",
				 2, 6, "has no then", "missing then");
	expect_error(HEAD "rule a { when component.name == \"abc\n then status := \"x\" }\n}",
				 2, 33, "unterminated string", "unterminated string");
	expect_error(HEAD "rule a { when true then status := \"x\" } /* open\n}",
				 2, 41, "unterminated comment", "unterminated comment");
	expect_error(HEAD "rule a { when true then status := \"x\" $ }\n}",
				 2, 39, "unexpected character '$'", "unexpected character");
	expect_error(HEAD "rule a { when 1.2345 == 1 then status := \"x\" }\n}",
				 2, 15, "more than three decimal", "too many decimals");
	expect_error(HEAD "rule a { when 1 == 1 == 1 then status := \"x\" }\n}",
				 2, 22, "cannot be chained", "chained comparison");
	expect_error(HEAD "rule a { when true and 3 then status := \"x\" }\n}",
				 2, 24, "and needs boolean operands", "and with a number");
	expect_error(HEAD "rule a { when true then status := 3 }\n}",
				 2, 35, "status := needs a string", "status with a number");
	expect_error(HEAD "rule a { when true then escalate to 3 }\n}",
				 2, 37, "escalate to needs a severity band", "escalate number");
	expect_error(HEAD "rule a { when component.purl == \"a\\qb\" then status := \"x\" }\n}",
				 2, 35, "invalid escape", "bad escape");
	expect_error(HEAD "profile severity { env e { if severity.score > 1 then +1 } }\n}",
				 2, 40, "cannot be used inside the severity profile",
				 "severity inside the profile");
	expect_error(HEAD "profile severity { map vendor_weight { source \"A\" => 1 source \"A\" => 2 } }\n}",
				 2, 56, "duplicate vendor_weight source", "duplicate source");
	expect_error(HEAD "profile risk { }\n}", 2, 9, "unknown profile",
				 "unknown profile");
	expect_error(HEAD "settings { default_status = 3 }\n}", 2, 29,
				 "default_status must be a string", "default_status type");
	expect_error(HEAD "rule a { when vex.any(vex.all(status == \"x\")) then status := \"x\" }\n}",
				 2, 27, "cannot be nested", "nested quantifiers");
	expect_error(HEAD "rule a { when component.licenses == [\"MIT\"] then status := \"x\" }\n}",
				 2, 34, "cannot compare values of type array", "array equality");
	expect_error("policy \"p\" syntax \"stella-dsl@1\" { }\npolicy \"q\" syntax \"stella-dsl@1\" { }",
				 2, 1, "one policy per file", "two policies in one file");
	expect_error("", 1, 1, "expected policy", "empty source");
	expect_error(HEAD "profile severity { map vendor_weight { source \"A\" => 1 source \"B\" => 1 source \"C\" => 1 source \"D\" => 1 source \"E\" => 1 } }\n"
				 "profile severity { map vendor_weight { source \"F\" => 1 } }\n}",
				 3, 9, "duplicate profile", "a second profile is reported (and parsed safely)");

	/* Several diagnostics at once, in source order, across rules. */
	{
		SpCompileResult *r = compile(
									 HEAD
									 "rule a { when foo.x then status := \"x\" }\n"
									 "rule b { when true then status := \"x\" ) }\n"
									 "rule c { when component.zzz then status := \"x\" }\n"
									 "}\n");
		int			i,
					sorted = 1;

		for (i = 1; i < r->ndiags; i++)
			if (r->diags[i].line < r->diags[i - 1].line)
				sorted = 0;
		ok(!r->ok && r->ndiags >= 3 && r->diags[0].line == 2 &&
		   r->diags[r->ndiags - 1].line == 4 && sorted,
		   "errors in three rules are all reported, sorted by position");
	}
}

static void
test_hostile_input(void)
{
	static const char nul_src[] = "policy \"p\0\" syntax \"stella-dsl@1\" { }";
	static const char utf8_src[] = "policy \"p\xff\" syntax \"stella-dsl@1\" { }";
	SpCompileResult *r;
	char	   *big;
	size_t		i,
				n;

	r = sp_dsl_compile(nul_src, sizeof(nul_src) - 1, arena);
	ok(!r->ok && r->diags[0].line == 1 && r->diags[0].column == 10 &&
	   strstr(r->diags[0].message, "NUL") != NULL, "NUL byte reported at 1:10");
	r = sp_dsl_compile(utf8_src, sizeof(utf8_src) - 1, arena);
	ok(!r->ok && strstr(r->diags[0].message, "invalid UTF-8") != NULL,
	   "invalid UTF-8 reported");
	r = compile("policy \"caf\xc3\xa9\" syntax \"stella-dsl@1\" { rule r { when component.name == \"\xe2\x82\xac\" then status := \"x\" } }");
	ok(r->ok && strstr(r->ir_json, "caf\xc3\xa9") != NULL,
	   "valid UTF-8 in strings is kept");
	r = compile("policy \"p\" syntax \"stella-dsl@1\" {\n\xc3\xa9 }");
	ok(!r->ok && r->diags[0].line == 2 && r->diags[0].column == 1,
	   "non-ASCII outside strings is an error at its position");

	/* Deep nesting is refused, not a stack overflow. */
	n = 100000;
	big = malloc(n * 2 + 200);
	strcpy(big, HEAD "rule a { when ");
	memset(big + strlen(big), '(', n);
	strcpy(big + strlen(HEAD "rule a { when ") + n, "true");
	r = compile(big);
	ok(!r->ok && strstr(r->diags[0].message, "nested too deeply") != NULL,
	   "100000 nested parentheses are refused");
	free(big);

	/* A few megabytes of rules compile. */
	n = 20000;
	big = malloc(n * 80 + 100);
	strcpy(big, HEAD);
	{
		char	   *p = big + strlen(big);

		for (i = 0; i < n; i++)
			p += sprintf(p, "rule r%06zu { when component.name == \"x%zu\" then status := \"blocked\" }\n", i, i);
		strcpy(p, "}\n");
	}
	r = sp_dsl_compile(big, strlen(big), arena);
	ok(r->ok && r->ir_len > 1000000, "a 1.5 MB policy with 20000 rules compiles");
	free(big);

	/* Garbage never crashes and always reports. */
	{
		unsigned	seed = 12345;
		int			all_reported = 1;
		char		buf[512];
		int			k;

		for (k = 0; k < 2000; k++)
		{
			size_t		len = (size_t) (k % 500);

			for (i = 0; i < len; i++)
			{
				seed = seed * 1103515245 + 12345;
				buf[i] = (char) (seed >> 16);
			}
			r = sp_dsl_compile(buf, len, arena);
			if (r->ok || r->ndiags == 0)
				all_reported = 0;
			sp_arena_reset(arena);
		}
		ok(all_reported, "2000 random byte strings are all rejected with diagnostics");
	}
}

int
main(void)
{
	arena = sp_arena_create();
	test_shared_policies();
	test_digest_stability();
	test_ir_shape();
	test_errors();
	test_hostile_input();
	printf("1..%d\n", tests);
	sp_arena_destroy(arena);
	return failures ? 1 : 0;
}
