/*-------------------------------------------------------------------------
 *
 * test_range.c
 *	  Tests of OSV range evaluation, ecosystem mapping and "vers:" (TAP).
 *
 * Advisories are written as JSON and loaded through sp_affected_from_json,
 * so the loader and its error paths are exercised too.  Withdrawn records
 * are the caller's business: a withdrawn document still loads and matches
 * here, and that is asserted.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <string.h>

#include "ecosystem.h"
#include "osvrange.h"

static int	ntest;
static int	nfail;

static void
ok(bool cond, const char *desc)
{
	ntest++;
	if (!cond)
		nfail++;
	printf("%s %d - %s\n", cond ? "ok" : "not ok", ntest, desc);
}

/* Load an affected[] element from JSON text; false on error. */
static bool
load(const char *json, SpArena *arena, SpOsvAffected *aff, char *err,
	 size_t errlen)
{
	json_error_t jerr;
	json_t	   *j = json_loads(json, 0, &jerr);
	int			rc;

	if (j == NULL)
	{
		snprintf(err, errlen, "bad test JSON: %s", jerr.text);
		return false;
	}
	rc = sp_affected_from_json(j, "affected[0]", arena, aff, err, errlen);
	json_decref(j);
	return rc == 0;
}

/* Is version text affected under aff's scheme? */
static bool
hit(const SpOsvAffected *aff, const char *ver, SpArena *arena)
{
	SpVersion	v;

	if (sp_version_parse(aff->scheme, ver, arena, &v, NULL, 0) != 0)
		return sp_affected_match(aff, NULL, ver);
	return sp_affected_match(aff, &v, ver);
}

/* Check a list of "version=expected" cases against one advisory. */
static void
expect(const char *what, const char *json, const char *const *yes,
	   const char *const *no, SpArena *arena)
{
	SpOsvAffected aff;
	char		err[512];
	char		desc[1024];

	if (!load(json, arena, &aff, err, sizeof(err)))
	{
		snprintf(desc, sizeof(desc), "%s: loads (%s)", what, err);
		ok(false, desc);
		return;
	}
	for (; yes && *yes; yes++)
	{
		snprintf(desc, sizeof(desc), "%s: %s affected", what, *yes);
		ok(hit(&aff, *yes, arena), desc);
	}
	for (; no && *no; no++)
	{
		snprintf(desc, sizeof(desc), "%s: %s not affected", what, *no);
		ok(!hit(&aff, *no, arena), desc);
	}
}

/* Loading must fail and the message must contain path. */
static void
expect_error(const char *what, const char *json, const char *path,
			 SpArena *arena)
{
	SpOsvAffected aff;
	char		err[512] = "";
	char		desc[768];
	bool		loaded = load(json, arena, &aff, err, sizeof(err));

	snprintf(desc, sizeof(desc), "%s: error names %s (%s)", what, path, err);
	ok(!loaded && strstr(err, path) != NULL, desc);
}

static void
test_ranges(SpArena *arena)
{
	expect("introduced 0 / fixed",
		   "{\"package\":{\"ecosystem\":\"npm\",\"name\":\"x\"},"
		   "\"ranges\":[{\"type\":\"SEMVER\",\"events\":["
		   "{\"introduced\":\"0\"},{\"fixed\":\"1.2.3\"}]}]}",
		   (const char *[]) {"0.0.0", "1.2.2", "1.2.3-rc.1", NULL},
		   (const char *[]) {"1.2.3", "2.0.0", NULL}, arena);

	expect("last_affected is inclusive",
		   "{\"package\":{\"ecosystem\":\"PyPI\",\"name\":\"x\"},"
		   "\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":["
		   "{\"introduced\":\"1.0\"},{\"last_affected\":\"1.4\"}]}]}",
		   (const char *[]) {"1.0", "1.4", "1.4.0", "1.3.post1", NULL},
		   (const char *[]) {"0.9", "1.4.post1", "1.5", "1.0rc1", NULL}, arena);

	expect("unsorted events, two intervals",
		   "{\"package\":{\"ecosystem\":\"Maven\",\"name\":\"g:a\"},"
		   "\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":["
		   "{\"fixed\":\"2.5\"},{\"introduced\":\"3.0\"},"
		   "{\"introduced\":\"2.0\"},{\"fixed\":\"3.1.2\"}]}]}",
		   (const char *[]) {"2.0", "2.4.9", "3.0", "3.1.1", NULL},
		   (const char *[]) {"1.9", "2.5", "2.9", "3.1.2", "4", NULL}, arena);

	expect("several ranges",
		   "{\"package\":{\"ecosystem\":\"Go\",\"name\":\"m\"},"
		   "\"ranges\":[{\"type\":\"SEMVER\",\"events\":["
		   "{\"introduced\":\"0\"},{\"fixed\":\"0.5.0\"}]},"
		   "{\"type\":\"SEMVER\",\"events\":["
		   "{\"introduced\":\"1.0.0\"},{\"fixed\":\"1.2.0\"}]}]}",
		   (const char *[]) {"v0.4.9", "v0.0.0-20200101000000-abcdefabcdef",
			   "v1.1.0", "1.1.0", NULL},
		   (const char *[]) {"v0.5.0", "v0.9.0", "v1.2.0", NULL}, arena);

	expect("limit",
		   "{\"package\":{\"ecosystem\":\"npm\",\"name\":\"x\"},"
		   "\"ranges\":[{\"type\":\"SEMVER\",\"events\":["
		   "{\"introduced\":\"1.0.0\"},{\"limit\":\"1.5.0\"}]}]}",
		   (const char *[]) {"1.0.0", "1.4.9", NULL},
		   (const char *[]) {"0.9.0", "1.5.0", "2.0.0", NULL}, arena);

	expect("versions list only",
		   "{\"package\":{\"ecosystem\":\"npm\",\"name\":\"y18n\"},"
		   "\"versions\":[\"4.0.0\",\"not a version\"]}",
		   (const char *[]) {"4.0.0", "v4.0.0", NULL},
		   (const char *[]) {"4.0.1", "3.9.0", NULL}, arena);

	expect("GIT range alone never matches; versions do",
		   "{\"package\":{\"ecosystem\":\"PyPI\",\"name\":\"x\"},"
		   "\"ranges\":[{\"type\":\"GIT\",\"repo\":\"https://example.org/x\","
		   "\"events\":[{\"introduced\":\"0\"},{\"fixed\":\"abc123\"}]}],"
		   "\"versions\":[\"1.1\"]}",
		   (const char *[]) {"1.1", "1.1.0", NULL},
		   (const char *[]) {"1.0", "0.1", NULL}, arena);

	expect("Debian dpkg with epoch and tilde",
		   "{\"package\":{\"ecosystem\":\"Debian:10\",\"name\":\"openssl\"},"
		   "\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":["
		   "{\"introduced\":\"0\"},{\"fixed\":\"1.1.1d-0+deb10u7\"}]}]}",
		   (const char *[]) {"1.1.1d-0+deb10u6", "1.1.1d~rc1-0", NULL},
		   (const char *[]) {"1.1.1d-0+deb10u7", "1:1.0.0-1", NULL}, arena);

	expect_error("unparsable bound",
				 "{\"package\":{\"ecosystem\":\"PyPI\",\"name\":\"x\"},"
				 "\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":["
				 "{\"introduced\":\"0\"},{\"fixed\":\"1.0-foo-bar\"}]}]}",
				 "affected[0].ranges[0].events[1]", arena);
	expect_error("event with two keys",
				 "{\"package\":{\"ecosystem\":\"npm\",\"name\":\"x\"},"
				 "\"ranges\":[{\"type\":\"SEMVER\",\"events\":["
				 "{\"introduced\":\"0\",\"fixed\":\"1.0.0\"}]}]}",
				 "affected[0].ranges[0].events[0]", arena);
	expect_error("unknown range type",
				 "{\"package\":{\"ecosystem\":\"npm\",\"name\":\"x\"},"
				 "\"ranges\":[{\"type\":\"FOO\",\"events\":["
				 "{\"introduced\":\"0\"}]}]}",
				 "affected[0].ranges[0].type", arena);
	expect_error("package without name",
				 "{\"package\":{\"ecosystem\":\"npm\"}}",
				 "affected[0].package", arena);
}

/* A withdrawn document still loads: withdrawal is the caller's decision. */
static void
test_withdrawn(SpArena *arena)
{
	json_t	   *doc = json_loads("{\"id\":\"X\",\"withdrawn\":\"2024-01-01T00:00:00Z\","
								 "\"affected\":[{\"package\":{\"ecosystem\":\"npm\",\"name\":\"x\"},"
								 "\"ranges\":[{\"type\":\"SEMVER\",\"events\":[{\"introduced\":\"0\"}]}]}]}",
								 0, NULL);
	SpOsvAffected *aff;
	int			n;
	char		err[256];

	ok(doc && sp_osv_from_json(doc, arena, &aff, &n, err, sizeof(err)) == 0 &&
	   n == 1 && hit(&aff[0], "1.0.0", arena),
	   "withdrawn record still matches (the caller filters withdrawn)");
	json_decref(doc);
}

static void
test_ecosystems(void)
{
	char		eco[64],
				key[256],
				base[64];

	ok(sp_eco_from_purl("deb", "debian", "debian-10.2", eco, sizeof(eco)) == 0 &&
	   strcmp(eco, "Debian") == 0, "deb purl maps to Debian");
	ok(sp_eco_from_purl("deb", "ubuntu", "ubuntu-22.04", eco, sizeof(eco)) == 0 &&
	   strcmp(eco, "Ubuntu") == 0, "deb purl with ubuntu maps to Ubuntu");
	ok(sp_eco_from_purl("alpine", NULL, NULL, eco, sizeof(eco)) == 0 &&
	   strcmp(eco, "Alpine") == 0, "legacy alpine purl type maps to Alpine");
	ok(sp_eco_from_purl("rpm", "redhat", NULL, eco, sizeof(eco)) == 0 &&
	   strcmp(eco, "Red Hat") == 0, "rpm purl of redhat maps to Red Hat");
	ok(sp_eco_from_purl("generic", NULL, NULL, eco, sizeof(eco)) != 0,
	   "generic has no OSV ecosystem");

	ok(sp_eco_package_key("npm", "@babel", "core", key, sizeof(key)) == 0 &&
	   strcmp(key, "@babel/core") == 0, "npm key keeps the scope");
	ok(sp_eco_package_key("pypi", NULL, "Zope.Interface__x", key, sizeof(key)) == 0 &&
	   strcmp(key, "zope-interface-x") == 0, "PyPI key is PEP 503 normalised");
	ok(sp_eco_package_key("maven", "com.google.guava", "guava", key, sizeof(key)) == 0 &&
	   strcmp(key, "com.google.guava:guava") == 0, "Maven key is group:artifact");
	ok(sp_eco_package_key("golang", "golang.org/x", "net", key, sizeof(key)) == 0 &&
	   strcmp(key, "golang.org/x/net") == 0, "Go key is the module path");
	ok(sp_eco_osv_key("PyPI", "Django_Rest", base, sizeof(base), key, sizeof(key)) == 0 &&
	   strcmp(base, "PyPI") == 0 && strcmp(key, "django-rest") == 0,
	   "OSV PyPI name gives the same key");
	ok(sp_eco_osv_key("Debian:10", "openssl", base, sizeof(base), key, sizeof(key)) == 0 &&
	   strcmp(base, "Debian") == 0, "OSV release is dropped from the base");

	ok(sp_eco_release_match("Debian:10", "debian-10.2"), "Debian:10 covers debian-10.2");
	ok(sp_eco_release_match("Debian:10", "buster"), "Debian:10 covers buster");
	ok(!sp_eco_release_match("Debian:7", "debian-10.2"), "Debian:7 does not cover 10.2");
	ok(!sp_eco_release_match("Debian:1", "debian-10.2"), "Debian:1 does not cover 10.2");
	ok(sp_eco_release_match("Alpine:v3.16", "alpine-3.16.2"), "Alpine:v3.16 covers alpine-3.16.2");
	ok(sp_eco_release_match("Alpine:v3.16", "3.16.2"), "Alpine:v3.16 covers 3.16.2");
	ok(!sp_eco_release_match("Alpine:v3.1", "3.16.2"), "Alpine:v3.1 does not cover 3.16.2");
	ok(sp_eco_release_match("Ubuntu:22.04:LTS", "ubuntu-22.04"), "Ubuntu:22.04:LTS covers ubuntu-22.04");
	ok(sp_eco_release_match("Debian", "debian-10.2"), "no release covers every release");
	ok(sp_eco_release_match("Debian:10", NULL), "no distro qualifier is covered");
}

static void
test_vers(SpArena *arena)
{
	static const struct
	{
		const char *range;
		const char *ver;
		bool		want;
	}			cases[] = {
		{"vers:npm/>=1.0.0|<2.0.0", "1.5.0", true},
		{"vers:npm/>=1.0.0|<2.0.0", "2.0.0", false},
		{"vers:npm/>=1.0.0|<2.0.0", "0.9.0", false},
		{"vers:npm/<2.0.0|>=1.0.0", "1.0.0", true},
		{"vers:npm/*", "9.9.9", true},
		{"vers:npm/1.2.3", "1.2.3", true},
		{"vers:npm/1.2.3", "1.2.4", false},
		{"vers:npm/>=1.0.0|!=1.5.0|<2.0.0", "1.5.0", false},
		{"vers:npm/>=1.0.0|!=1.5.0|<2.0.0", "1.6.0", true},
		{"vers:npm/<1.0.0|>=2.0.0|<3.0.0", "0.5.0", true},
		{"vers:npm/<1.0.0|>=2.0.0|<3.0.0", "1.5.0", false},
		{"vers:npm/<1.0.0|>=2.0.0|<3.0.0", "2.5.0", true},
		{"vers:npm/>=4.0.0", "5.0.0", true},
		{"vers:maven/>=2.0|<=2.5.0-beta", "2.5-beta", true},
		{"vers:maven/>=2.0|<=2.5.0-beta", "2.5", false},
		{"vers:pypi/>=1.0| <1.0.post2", "1.0.post1", true},
		{"vers:deb/>=1:1.0-1", "1:1.0-2", true},
		{"vers:golang/<v1.2.3", "v1.2.2", true},
	};
	SpVers		vers;
	char		err[256];
	char		desc[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		SpVersion	v;
		bool		good = sp_vers_parse(cases[i].range, arena, &vers, err,
										 sizeof(err)) == 0 &&
			sp_version_parse(vers.scheme, cases[i].ver, arena, &v, err,
							 sizeof(err)) == 0;

		snprintf(desc, sizeof(desc), "%s %s %s", cases[i].range,
				 cases[i].want ? "contains" : "excludes", cases[i].ver);
		ok(good && sp_vers_match(&vers, &v) == cases[i].want, desc);
	}
	ok(sp_vers_parse("vers:npm/>=1.x", arena, &vers, err, sizeof(err)) != 0 &&
	   strstr(err, "1.x") != NULL, "vers: a bad version is an error");
	ok(sp_vers_parse("vers:cobol/1", arena, &vers, err, sizeof(err)) != 0,
	   "vers: unknown scheme is an error");
	ok(sp_vers_parse("npm/1.0", arena, &vers, err, sizeof(err)) != 0,
	   "vers: missing prefix is an error");
	ok(sp_vers_parse("vers:npm/*|1.0.0", arena, &vers, err, sizeof(err)) != 0,
	   "vers: * must stand alone");
}

int
main(void)
{
	SpArena    *arena = sp_arena_create();

	test_ranges(arena);
	test_withdrawn(arena);
	test_ecosystems();
	test_vers(arena);
	sp_arena_destroy(arena);
	printf("1..%d\n", ntest);
	return nfail ? 1 : 0;
}
