-- Affected-version matching through SQL: the corpus ground truth, range
-- features one by one, distribution releases, cursors, VEX association.
BEGIN;
SELECT plan(57);
SET LOCAL stellapolicy.tenant = 'matching';

\i test/pgtap/helpers.psql

-- version_cmp -----------------------------------------------------------
SELECT is(stellapolicy.version_cmp('npm', '1.0.0-alpha', '1.0.0'), -1, 'semver: a pre-release sorts before its release');
SELECT is(stellapolicy.version_cmp('npm', '1.0.0+build.1', '1.0.0'), 0, 'semver: build metadata is ignored');
SELECT is(stellapolicy.version_cmp('Go', 'v1.2.3', '1.2.3'), 0, 'Go: the v prefix is optional');
SELECT is(stellapolicy.version_cmp('golang', 'v0.0.0-20210226172049-e18ecbb05110', 'v0.0.1'), -1, 'Go: a pseudo-version is a pre-release');
SELECT is(stellapolicy.version_cmp('PyPI', '1.0rc1', '1.0'), -1, 'PEP 440: rc before final');
SELECT is(stellapolicy.version_cmp('pypi', '1!0.1', '2.0'), 1, 'PEP 440: the epoch wins');
SELECT is(stellapolicy.version_cmp('pypi', '1.0.post1', '1.0'), 1, 'PEP 440: post-release after final');
SELECT is(stellapolicy.version_cmp('Maven', '1.0-SNAPSHOT', '1.0'), -1, 'Maven: SNAPSHOT before release');
SELECT is(stellapolicy.version_cmp('maven', '1.0.Final', '1.0'), 0, 'Maven: Final equals the release');
SELECT is(stellapolicy.version_cmp('Debian:12', '1:1.0', '2.0'), 1, 'dpkg: the epoch wins (release suffix ignored)');
SELECT is(stellapolicy.version_cmp('deb', '1.0~rc1', '1.0'), -1, 'dpkg: tilde sorts first');
SELECT is(stellapolicy.version_cmp('rpm', '1.0^git1', '1.0'), 1, 'rpm: caret sorts after');
SELECT is(stellapolicy.version_cmp('Alpine:v3.18', '1.2.3_rc1-r0', '1.2.3-r0'), -1, 'apk: _rc before release');
SELECT is(stellapolicy.version_cmp('RubyGems', '1.0.a', '1.0'), -1, 'gem: a letter makes a pre-release');
SELECT matches(pg_temp.err($$SELECT stellapolicy.version_cmp('cobol', '1', '2')$$), '^22023: unknown version scheme "cobol"', 'unknown scheme');
SELECT matches(pg_temp.err($$SELECT stellapolicy.version_cmp('pypi', '1.0x', '1.0')$$), '^22P02: invalid pep440 version "1.0x"', 'unparsable version names the scheme');

-- vers: -----------------------------------------------------------------
SELECT is(stellapolicy.vers_contains('vers:npm/>=1.0.0|<2.0.0', '1.5.0'), true, 'vers: inside');
SELECT is(stellapolicy.vers_contains('vers:npm/>=1.0.0|<2.0.0', '2.0.0'), false, 'vers: upper bound excluded');
SELECT is(stellapolicy.vers_contains('vers:maven/*', '9.9'), true, 'vers: star');
SELECT is(stellapolicy.vers_contains('vers:pypi/1.0|!=1.1|>=2.0', '1.1'), false, 'vers: != excludes');

-- Range features, one advisory each ---------------------------------------
SELECT stellapolicy.advisory_ingest($$[
 {"id":"T-ZERO","modified":"2026-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"npm","name":"zero"},
  "ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.2.0"}]}]}]},
 {"id":"T-LAST","modified":"2026-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"npm","name":"last"},
  "ranges":[{"type":"SEMVER","events":[{"introduced":"1.0.0"},{"last_affected":"1.4.2"}]}]}]},
 {"id":"T-LIMIT","modified":"2026-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"PyPI","name":"Lim_It"},
  "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"limit":"2.0"}]}]}]},
 {"id":"T-MULTI","modified":"2026-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"npm","name":"multi"},
  "ranges":[{"type":"SEMVER","events":[{"fixed":"1.5.0"},{"introduced":"1.0.0"},{"fixed":"3.1.0"},{"introduced":"3.0.0"}]},
			{"type":"SEMVER","events":[{"introduced":"5.0.0"}]}]}]},
 {"id":"T-LIST","modified":"2026-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"PyPI","name":"listed"},
  "versions":["0.9","1.0.post1"]}]},
 {"id":"T-GIT","modified":"2026-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"npm","name":"gitonly"},
  "ranges":[{"type":"GIT","repo":"https://example.invalid/r","events":[{"introduced":"0"},{"fixed":"abc123"}]}]}]},
 {"id":"T-GONE","modified":"2026-01-01T00:00:00Z","withdrawn":"2026-02-01T00:00:00Z","affected":[{"package":{"ecosystem":"npm","name":"gone"},
  "ranges":[{"type":"SEMVER","events":[{"introduced":"0"}]}]}]},
 {"id":"T-DEB","modified":"2026-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"Debian:10","name":"openssl"},
  "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1.1.1n-0+deb10u4"}]}]}]},
 {"id":"T-APK","modified":"2026-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"Alpine:v3.16","name":"openssl"},
  "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1.1.1q-r0"}]}]}]},
 {"id":"T-MVN","modified":"2026-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"Maven","name":"org.example:lib"},
  "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"2.0-rc1"},{"fixed":"2.0.1"}]}]}]}
]$$, 'tests');

SELECT is(stellapolicy.advisory_affects('T-ZERO', 'pkg:npm/zero@0.0.1'), true, 'introduced 0 covers the lowest version');
SELECT is(stellapolicy.advisory_affects('T-ZERO', 'pkg:npm/zero@1.2.0'), false, 'fixed is exclusive');
SELECT is(stellapolicy.advisory_affects('T-LAST', 'pkg:npm/last@1.4.2'), true, 'last_affected is inclusive');
SELECT is(stellapolicy.advisory_affects('T-LAST', 'pkg:npm/last@1.4.3'), false, 'after last_affected is not affected');
SELECT is(stellapolicy.advisory_affects('T-LIMIT', 'pkg:pypi/lim-it@1.9'), true, 'below the limit (PyPI name normalised)');
SELECT is(stellapolicy.advisory_affects('T-LIMIT', 'pkg:pypi/lim_it@2.0'), false, 'the limit is exclusive');
SELECT is(stellapolicy.advisory_affects('T-MULTI', 'pkg:npm/multi@1.2.0'), true, 'unsorted events: first interval');
SELECT is(stellapolicy.advisory_affects('T-MULTI', 'pkg:npm/multi@2.0.0'), false, 'unsorted events: between intervals');
SELECT is(stellapolicy.advisory_affects('T-MULTI', 'pkg:npm/multi@3.0.5'), true, 'unsorted events: second interval');
SELECT is(stellapolicy.advisory_affects('T-MULTI', 'pkg:npm/multi@9.0.0'), true, 'a second range open to the top');
SELECT is(stellapolicy.advisory_affects('T-LIST', 'pkg:pypi/listed@1.0.post1'), true, 'the explicit versions list');
SELECT is(stellapolicy.advisory_affects('T-LIST', 'pkg:pypi/listed@1.0'), false, 'a version not in the list');
SELECT is(stellapolicy.advisory_affects('T-GIT', 'pkg:npm/gitonly@0.1.0'), false, 'a GIT range alone matches nothing');
SELECT is(stellapolicy.advisory_affects('T-GONE', 'pkg:npm/gone@1.0.0'), false, 'a withdrawn advisory affects nothing');
SELECT is(stellapolicy.advisory_affects('T-DEB', 'pkg:deb/debian/openssl@1.1.1n-0%2Bdeb10u3?distro=debian-10.2'), true, 'Debian:10 covers distro debian-10.2');
SELECT is(stellapolicy.advisory_affects('T-DEB', 'pkg:deb/debian/openssl@1.1.1n-0%2Bdeb10u3?distro=debian-11.1'), false, 'but not debian-11.1');
SELECT is(stellapolicy.advisory_affects('T-APK', 'pkg:apk/alpine/libcrypto1.1@1.1.1p-r0?distro=3.16.2&upstream=openssl'), true, 'Alpine: a binary package matches through its upstream source name');
SELECT is(stellapolicy.advisory_affects('T-MVN', 'pkg:maven/org.example/lib@2.0-rc2?type=jar'), true, 'Maven: rc2 after rc1, before the fix');
SELECT matches(pg_temp.err($$SELECT stellapolicy.advisory_affects('T-NONE', 'pkg:npm/x@1.0.0')$$), '^P0002: advisory "T-NONE" does not exist', 'unknown advisory');
SELECT matches(pg_temp.err($$SELECT stellapolicy.advisory_affects('T-ZERO', 'pkg:npm/zero')$$), '^22023: purl "pkg:npm/zero" has no version', 'a purl without version cannot be matched');

-- Unparsable bounds refuse the advisory at ingestion.
SELECT matches(pg_temp.err($$SELECT stellapolicy.advisory_ingest('{"id":"T-BAD","modified":"2026-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"PyPI","name":"x"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"not a version"}]}]}]}')$$),
	'^22023: invalid OSV document at \$\.affected\[0\]: .*invalid pep440 version "not a version"', 'an unparsable bound is an error at ingestion');
SELECT matches(pg_temp.err(format($$SELECT stellapolicy.advisory_ingest('{"id":"T-LONG","modified":"2026-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"Maven","name":"g:a"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"%s"},{"fixed":"%s2"}]}]}]}')$$,
		repeat('1-', 500000) || '1', repeat('1-', 500000))),
	'^22023: invalid OSV document at \$\.affected\[0\]: .*invalid maven version ".*": longer than 256 bytes',
	'a version of a million characters is refused (22023), not compared item by nested item');

-- Cursors: a replay sees the revision a past run saw.
SELECT stellapolicy.sbom_import('{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"name":"zero","purl":"pkg:npm/zero@1.1.0"},{"name":"multi","purl":"pkg:npm/multi@3.0.5"}]}', 'app');
SELECT max(change_seq) AS cursor_before FROM stellapolicy.advisory_raw WHERE tenant = 'matching' \gset
SELECT stellapolicy.advisory_ingest('{"id":"T-ZERO","modified":"2026-03-01T00:00:00Z","affected":[{"package":{"ecosystem":"npm","name":"zero"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.1.0"}]}]}]}');
SELECT results_eq($$SELECT advisory_id FROM stellapolicy.candidate_tuples() ORDER BY 1$$, $$VALUES ('T-MULTI')$$,
	'with the new revision, zero 1.1.0 is fixed');
SELECT results_eq(format($$SELECT advisory_id FROM stellapolicy.candidate_tuples(NULL, %s) ORDER BY 1$$, :cursor_before),
	$$VALUES ('T-MULTI'), ('T-ZERO')$$, 'as of the earlier cursor, the old revision still matches');
SELECT is((SELECT count(*) FROM stellapolicy.candidate_tuples(ARRAY['no-such-sbom'])), 0::bigint, 'an SBOM set that names nothing gives nothing');

-- CycloneDX VEX affects[].versions limits a statement to those versions.
SELECT is(stellapolicy.vex_ingest('{"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
	"metadata": {"supplier": {"name": "Multi Maintainers"}},
	"vulnerabilities": [
	  {"id": "T-MULTI", "analysis": {"state": "not_affected", "justification": "code_not_reachable"},
	   "affects": [{"ref": "pkg:npm/multi", "versions": [{"range": "vers:npm/>=3.0.0|<3.1.0"}]}]},
	  {"id": "T-MULTI", "analysis": {"state": "resolved"},
	   "affects": [{"ref": "pkg:npm/multi", "versions": [{"version": "1.2.0"}]}]}]}'), 2,
	'a CycloneDX VEX with version lists is stored');
SELECT results_eq($$SELECT t.advisory_id, v.status, v.product_versions->0->>'range'
	FROM stellapolicy.candidate_tuples() t JOIN stellapolicy.vex_statement v ON v.statement_pk = ANY (t.vex_statements)$$,
	$$VALUES ('T-MULTI', 'not_affected', 'vers:npm/>=3.0.0|<3.1.0')$$,
	'multi 3.0.5 gets the statement whose vers range includes it, not the one about 1.2.0');
SELECT matches(pg_temp.err($$SELECT stellapolicy.vex_ingest('{"bomFormat": "CycloneDX", "specVersion": "1.5",
	"vulnerabilities": [{"id": "T-MULTI", "analysis": {"state": "not_affected"},
	"affects": [{"ref": "pkg:npm/multi", "versions": [{"range": "vers:npm/>>3"}]}]}]}')$$),
	'^22023: invalid VEX document at \$\.vulnerabilities\[0\]\.affects\[0\]\.versions\[0\]\.range: invalid vers range', 'a vers range that does not parse is refused');

-- The corpus: candidate tuples equal the ground truth ------------------------
-- Two revisions with the same modified time: the current one does not
-- depend on the order they arrived in.
SET LOCAL stellapolicy.tenant = 'tie_ab';
SELECT stellapolicy.advisory_ingest('{"id":"T-TIE","modified":"2026-04-01T00:00:00Z","summary":"a","affected":[{"package":{"ecosystem":"npm","name":"tie"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.0.0"}]}]}]}');
SELECT stellapolicy.advisory_ingest('{"id":"T-TIE","modified":"2026-04-01T00:00:00Z","summary":"b","affected":[{"package":{"ecosystem":"npm","name":"tie"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"2.0.0"}]}]}]}');
CREATE TEMP TABLE tie AS SELECT 'ab' AS load, content_digest, stellapolicy.advisory_affects('T-TIE', 'pkg:npm/tie@1.5.0') AS affects
	FROM stellapolicy.advisory_current WHERE advisory_id = 'T-TIE';
SET LOCAL stellapolicy.tenant = 'tie_ba';
SELECT stellapolicy.advisory_ingest('{"id":"T-TIE","modified":"2026-04-01T00:00:00Z","summary":"b","affected":[{"package":{"ecosystem":"npm","name":"tie"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"2.0.0"}]}]}]}');
SELECT stellapolicy.advisory_ingest('{"id":"T-TIE","modified":"2026-04-01T00:00:00Z","summary":"a","affected":[{"package":{"ecosystem":"npm","name":"tie"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.0.0"}]}]}]}');
INSERT INTO tie SELECT 'ba', content_digest, stellapolicy.advisory_affects('T-TIE', 'pkg:npm/tie@1.5.0')
	FROM stellapolicy.advisory_current WHERE advisory_id = 'T-TIE';
SELECT is((SELECT count(DISTINCT (content_digest, affects)) FROM tie), 1::bigint,
	'revisions with one modified time loaded in either order give the same current revision');
SELECT is((SELECT content_digest FROM tie WHERE load = 'ab'),
	(SELECT max(content_digest COLLATE "C") FROM stellapolicy.advisory_raw WHERE tenant = 'tie_ab' AND advisory_id = 'T-TIE'),
	'the one with the greatest content digest');

SET LOCAL stellapolicy.tenant = 'corpus';
\i build/corpus_load.sql
CREATE TEMP TABLE gt (sbom_file text, bom_ref text, purl text, advisory_id text, status text);
\copy gt FROM '../shared/corpus/ground-truth/expected-matches.csv' CSV HEADER
CREATE TEMP TABLE gt_norm AS
SELECT regexp_replace(regexp_replace(sbom_file, '^.*/', ''), '\.(cdx|spdx)\.json$', '') AS sbom_id,
	   stellapolicy.purl_canonical(purl) AS purl, advisory_id, status
FROM gt;
CREATE TEMP TABLE ct AS SELECT * FROM stellapolicy.candidate_tuples();
SELECT is((SELECT count(*) FROM gt_norm WHERE status = 'affected'), 162::bigint, 'the ground truth lists 162 affected pairs');
SELECT set_eq($$SELECT sbom_id, component_purl, advisory_id FROM ct WHERE sbom_id IN (SELECT sbom_id FROM gt_norm)$$,
			  $$SELECT sbom_id, purl, advisory_id FROM gt_norm WHERE status = 'affected'$$,
			  'candidate tuples of the corpus SBOMs equal expected-matches.csv');
SELECT is((SELECT count(*) FROM ct JOIN gt_norm g ON g.sbom_id = ct.sbom_id AND g.purl = ct.component_purl
		   AND g.advisory_id = ct.advisory_id WHERE g.status <> 'affected'), 0::bigint,
	'no withdrawn or out-of-range pair is a candidate');
SELECT results_eq($$SELECT sbom_id, component_purl, advisory_id FROM ct WHERE sbom_id NOT IN (SELECT sbom_id FROM gt_norm)$$,
	$$VALUES ('bom-examples-vex-target-bom', 'pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.10.0?type=jar', 'GHSA-jjjh-jjxp-wpff')$$,
	'outside the ground truth, jackson-databind 2.10.0 is in [2.4.0-rc1, 2.12.7.1) of GHSA-jjjh-jjxp-wpff');
SELECT ok((SELECT array_agg(x ORDER BY n) = array_agg(x ORDER BY x COLLATE "C")
		   FROM (SELECT row_number() OVER () n, sbom_id || E'\x01' || advisory_id || E'\x01' || component_purl || '#' || advisory_id x FROM stellapolicy.candidate_tuples()) o),
	'rows come grouped by SBOM, then advisory: sorted by SBOM id, advisory id and finding key (purl, #, advisory id) as bytes');
SELECT results_eq($$SELECT advisory_id, (SELECT array_agg(s.status ORDER BY s.statement_pk) FROM stellapolicy.vex_statement s WHERE s.statement_pk = ANY (vex_statements))
					FROM ct WHERE sbom_id = 'go-trivy-v0.58.0' AND cardinality(vex_statements) > 0 ORDER BY 1$$,
	$$VALUES ('GO-2022-0646', ARRAY['not_affected']), ('GO-2024-3321', ARRAY['not_affected']), ('GO-2024-3333', ARRAY['not_affected'])$$,
	'the Trivy VEX applies to exactly its three tuples (version-less subcomponent purls)');
SELECT is((SELECT count(*) FROM ct WHERE sbom_id = 'maven-dependency-track-4.5.0' AND cardinality(vex_statements) > 0), 0::bigint,
	'Red Hat CSAF statements about their own products do not apply to Dependency-Track''s guava and json-smart');

SELECT * FROM finish();
ROLLBACK;
