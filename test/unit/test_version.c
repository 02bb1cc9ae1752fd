/*-------------------------------------------------------------------------
 *
 * test_version.c
 *	  Table tests of the version comparators (TAP).
 *
 * Schemes without a reference program in the differential test (Go,
 * Alpine, RubyGems, NuGet, Packagist, generic) are checked against the
 * examples of their own documentation; the others get a few anchoring
 * cases here, and test/diff/run.sh checks them at scale.  Each case is
 * also run through the parse-once path, and the reverse comparison must
 * give the opposite answer.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <string.h>

#include "version.h"

#define ERR 2

typedef struct Case
{
	const char *scheme;
	const char *a;
	const char *b;
	int			want;			/* -1, 0, 1 or ERR */
} Case;

static const Case cases[] = {
	/* Go: x/mod/semver and the semver.org precedence list */
	{"go", "v1.0.0-alpha", "v1.0.0-alpha.1", -1},
	{"go", "v1.0.0-alpha.1", "v1.0.0-alpha.beta", -1},
	{"go", "v1.0.0-alpha.beta", "v1.0.0-beta", -1},
	{"go", "v1.0.0-beta", "v1.0.0-beta.2", -1},
	{"go", "v1.0.0-beta.2", "v1.0.0-beta.11", -1},
	{"go", "v1.0.0-beta.11", "v1.0.0-rc.1", -1},
	{"go", "v1.0.0-rc.1", "v1.0.0", -1},
	{"go", "v1.2", "v1.2.0", 0},
	{"go", "v1", "v1.0.0", 0},
	{"go", "1.2.3", "v1.2.3", 0},
	{"go", "v2.0.0+incompatible", "v2.0.0", 0},
	{"go", "v0.0.0-20210101000000-abcdef123456", "v0.0.1", -1},
	{"go", "v1.2.4-0.20191109021931-daa7c04131f5", "v1.2.3", 1},
	{"go", "v1.2.4-0.20191109021931-daa7c04131f5", "v1.2.4", -1},
	{"go", "v1.2.3", "v1.10.0", -1},
	{"go", "v100000000000000000000.0.0", "v99999999999999999999.0.0", 1},
	{"go", "v1.2-pre", "v1.2.0", ERR},
	{"go", "v01.2.3", "v1.2.3", ERR},
	{"go", "v1.2.3-01", "v1.2.3", ERR},
	{"go", "v1.2.3.4", "v1.2.3", ERR},

	/* Alpine: apk-tools ordering */
	{"apk", "1.2.3_alpha1-r0", "1.2.3-r0", -1},
	{"apk", "1.2.3_alpha", "1.2.3_beta", -1},
	{"apk", "1.2.3_beta", "1.2.3_pre", -1},
	{"apk", "1.2.3_pre", "1.2.3_rc", -1},
	{"apk", "1.2.3_rc1", "1.2.3", -1},
	{"apk", "1.2.3", "1.2.3_cvs", -1},
	{"apk", "1.2.3_cvs", "1.2.3_svn", -1},
	{"apk", "1.2.3_svn", "1.2.3_git", -1},
	{"apk", "1.2.3_git", "1.2.3_hg", -1},
	{"apk", "1.2.3_hg", "1.2.3_p", -1},
	{"apk", "1.2.3_p1", "1.2.4", -1},
	{"apk", "1.2.3a", "1.2.3", 1},
	{"apk", "1.2.3a", "1.2.3b", -1},
	{"apk", "1.2.3z", "1.2.4", -1},
	{"apk", "1.2.3-r10", "1.2.3-r9", 1},
	{"apk", "1.2.3-r1", "1.2.3", 1},
	{"apk", "1.0", "1.0.1", -1},
	{"apk", "2.01", "2.1", -1},
	{"apk", "2.001", "2.01", -1},
	{"apk", "1.2.3_rc1_p2", "1.2.3_rc1", 1},
	{"apk", "1.2.3_foo", "1.2.3", ERR},
	{"apk", "abc", "1", ERR},
	{"apk", "1.2-3", "1.2", ERR},

	/* RubyGems: Gem::Version documentation */
	{"gem", "1.0.a", "1.0", -1},
	{"gem", "1.0.a.2", "1.0.b1", -1},
	{"gem", "1.0.b1", "1.0", -1},
	{"gem", "0.9", "1.0.a", -1},
	{"gem", "1.0", "1.0.0", 0},
	{"gem", "1.0.0-rc1", "1.0.0.pre.rc1", 0},
	{"gem", "1.0.0-rc1", "1.0.0", -1},
	{"gem", "1.10", "1.9", 1},
	{"gem", "1.0.a10", "1.0.a9", 1},
	{"gem", "", "0", 0},
	{"gem", " 1.2 ", "1.2", 0},
	{"gem", "junk", "1", ERR},
	{"gem", "1..2", "1", ERR},

	/* NuGet: package versioning documentation */
	{"nuget", "1.0.0-alpha", "1.0.0-beta", -1},
	{"nuget", "1.0.0", "1.0.0.0", 0},
	{"nuget", "1.0", "1.0.0", 0},
	{"nuget", "1.0.0-ALPHA", "1.0.0-alpha", 0},
	{"nuget", "1.0.0-alpha.2", "1.0.0-alpha.10", -1},
	{"nuget", "1.0.0+meta", "1.0.0", 0},
	{"nuget", "1.0.0.1", "1.0.0", 1},
	{"nuget", "1.01", "1.1", 0},
	{"nuget", "1.0.0-rc.1", "1.0.0", -1},
	{"nuget", "1.0.0.0.0", "1", ERR},
	{"nuget", "a", "1", ERR},

	/* Packagist: Composer normalisation and version_compare() */
	{"composer", "1.0.0-alpha", "1.0.0-beta", -1},
	{"composer", "1.0.0-beta", "1.0.0-RC1", -1},
	{"composer", "1.0.0-RC1", "1.0.0", -1},
	{"composer", "1.0.0", "1.0.0-patch1", -1},
	{"composer", "1.0.0-pl1", "1.0.0-patch1", 0},
	{"composer", "1.0.0-dev", "1.0.0-alpha", -1},
	{"composer", "v1.0", "1.0.0", 0},
	{"composer", "1.0.0.0", "1.0", 0},
	{"composer", "1.0RC1", "1.0.0-RC1", 0},
	{"composer", "1.0-b2", "1.0.0-beta2", 0},
	{"composer", "2.0.0-rc.2", "2.0.0-RC2", 0},
	{"composer", "1.0.0-stable", "1.0.0", 0},
	{"composer", "1.2.3", "1.10.0", -1},
	{"composer", "foo", "1", ERR},

	/* SemVer (node-semver loose) anchors */
	{"semver", "1.0.0", "1.0.0-rc.1", 1},
	{"semver", "1.0", "1.0.0", 0},
	{"semver", "v1.2.3", "=1.2.3", 0},
	{"semver", "1.2.3+build", "1.2.3", 0},
	{"semver", "1.2.3beta", "1.2.3-beta", 0},
	{"semver", "01.2.3", "1.2.3", 0},
	{"semver", "1.2.34.5", "1.2.3-4.5", 0},
	{"semver", "1.2.3-a.01", "1.2.3-a.1", 0},
	{"semver", "9007199254740992.0.0", "1.0.0", ERR},
	{"semver", "1.2.3.4", "1.2.3", ERR},

	/* PEP 440 anchors */
	{"pep440", "1.0RC1", "1.0rc1", 0},
	{"pep440", "1.0-1", "1.0.post1", 0},
	{"pep440", "v1.0", "1.0", 0},
	{"pep440", "1.0.post", "1.0.post0", 0},
	{"pep440", "1.0.dev0", "1.0a0", -1},
	{"pep440", "1.0a1.post1", "1.0a2", -1},
	{"pep440", "1!0.1", "2.0", 1},
	{"pep440", "1.0+local.1", "1.0+local.a", 1},
	{"pep440", "1.0+abc", "1.0", 1},
	{"pep440", "1.0x", "1.0", ERR},

	/* Maven anchors */
	{"maven", "1.0-alpha1", "1.0-beta1", -1},
	{"maven", "1.0-rc1", "1.0-cr1", 0},
	{"maven", "1.0.0", "1", 0},
	{"maven", "1-ga", "1", 0},
	{"maven", "1.0-SNAPSHOT", "1.0", -1},
	{"maven", "1.0", "1.0-sp1", -1},
	{"maven", "6.2.0.Final", "6.2.0", 0},
	{"maven", "31.1-jre", "31.1-android", 1},
	{"maven", "2.13.2.2", "2.13.2", 1},

	/* dpkg and RPM anchors */
	{"dpkg", "1.0~rc1-1", "1.0-1", -1},
	{"dpkg", "1:0.9", "2.0", 1},
	{"dpkg", "1.0", "1.0-0", 0},
	{"dpkg", "1.0+dfsg-1", "1.0-1", 1},
	{"dpkg", "a1.0", "1.0", ERR},
	{"dpkg", "1.0-", "1.0", ERR},
	{"rpm", "1.0~rc1", "1.0", -1},
	{"rpm", "1.0^git1", "1.0", 1},
	{"rpm", "1.0^git1", "1.0.1", -1},
	{"rpm", "1:1.0-1.el8", "2.0-1.el8", 1},
	{"rpm", "1.0-1.el8", "1.0-1.el8_4", -1},

	/* generic fallback */
	{"generic", "1.0rc1", "1.0", -1},
	{"generic", "1.0", "1.0.0", 0},
	{"generic", "1.0.1", "1.0", 1},
	{"generic", "1.10", "1.9", 1},
	{"generic", "", "1", ERR},
};

static int	ntest;
static int	nfail;

static void
ok(bool cond, const char *fmt, const char *a, const char *b, const char *c)
{
	ntest++;
	if (!cond)
		nfail++;
	printf("%s %d - ", cond ? "ok" : "not ok", ntest);
	printf(fmt, a, b, c);
	printf("\n");
}

/* Run one case through both paths and both directions. */
static void
run_case(const Case *c, SpArena *arena)
{
	SpScheme	s;
	int			r1 = 0,
				r2 = 0;
	char		err[256] = "";
	int			rc1,
				rc2;
	int			got;

	if (sp_scheme_from_name(c->scheme, &s) != 0)
	{
		ok(false, "%s: unknown scheme%s%s", c->scheme, "", "");
		return;
	}
	rc1 = sp_version_cmp(s, c->a, c->b, &r1, err, sizeof(err));
	rc2 = sp_version_cmp(s, c->b, c->a, &r2, NULL, 0);
	got = rc1 != 0 ? ERR : r1;

	if (c->want == ERR)
	{
		/* the message names the scheme */
		ok(rc1 != 0 && rc2 != 0 && strstr(err, c->scheme) != NULL,
		   "%s: \"%s\" vs \"%s\" is an error", c->scheme, c->a, c->b);
		return;
	}
	if (got != c->want || rc2 != 0 || r2 != -r1)
		printf("# got %d (reverse %d), error \"%s\"\n", got, r2, err);

	/* the parse-once path must agree */
	{
		SpVersion	va,
					vb;
		bool		same = sp_version_parse(s, c->a, arena, &va, NULL, 0) == 0 &&
			sp_version_parse(s, c->b, arena, &vb, NULL, 0) == 0 &&
			sp_version_cmp_parsed(&va, &vb) == c->want;

		ok(got == c->want && rc2 == 0 && r2 == -r1 && same,
		   "%s: \"%s\" vs \"%s\"", c->scheme, c->a, c->b);
	}
}

/* Names: OSV ecosystems with releases, purl types, scheme names. */
static void
test_names(void)
{
	static const struct
	{
		const char *name;
		SpScheme	want;
	}			names[] = {
		{"npm", SP_SCHEME_SEMVER}, {"PyPI", SP_SCHEME_PEP440},
		{"Maven", SP_SCHEME_MAVEN}, {"Go", SP_SCHEME_GO},
		{"Debian:12", SP_SCHEME_DPKG}, {"Ubuntu:22.04:LTS", SP_SCHEME_DPKG},
		{"Alpine:v3.18", SP_SCHEME_APK}, {"Red Hat", SP_SCHEME_RPM},
		{"Rocky Linux:9", SP_SCHEME_RPM}, {"AlmaLinux", SP_SCHEME_RPM},
		{"openSUSE", SP_SCHEME_RPM}, {"SUSE:Linux Enterprise", SP_SCHEME_RPM},
		{"crates.io", SP_SCHEME_SEMVER}, {"Hex", SP_SCHEME_SEMVER},
		{"Pub", SP_SCHEME_SEMVER}, {"RubyGems", SP_SCHEME_GEM},
		{"NuGet", SP_SCHEME_NUGET}, {"Packagist", SP_SCHEME_COMPOSER},
		{"golang", SP_SCHEME_GO}, {"deb", SP_SCHEME_DPKG},
		{"rpm", SP_SCHEME_RPM}, {"apk", SP_SCHEME_APK},
		{"alpine", SP_SCHEME_APK}, {"cargo", SP_SCHEME_SEMVER},
		{"gem", SP_SCHEME_GEM}, {"composer", SP_SCHEME_COMPOSER},
		{"generic", SP_SCHEME_GENERIC}, {"PEP440", SP_SCHEME_PEP440},
		{"DPKG", SP_SCHEME_DPKG}, {"semver", SP_SCHEME_SEMVER},
	};
	SpScheme	s;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		ok(sp_scheme_from_name(names[i].name, &s) == 0 && s == names[i].want,
		   "scheme name \"%s\"%s%s", names[i].name, "", "");
	ok(sp_scheme_from_name("cobol", &s) != 0, "unknown name is an error%s%s%s",
	   "", "", "");
}

int
main(void)
{
	SpArena    *arena = sp_arena_create();
	char		err[256];
	int			r;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(&cases[i], arena);
	test_names();

	/* the error message names the bad version */
	sp_version_cmp(SP_SCHEME_PEP440, "1.0", "not-a-version", &r, err,
				   sizeof(err));
	ok(strstr(err, "not-a-version") != NULL && strstr(err, "pep440") != NULL,
	   "error names scheme and version: %s%s%s", err, "", "");

	sp_arena_destroy(arena);
	printf("1..%d\n", ntest);
	return nfail ? 1 : 0;
}
