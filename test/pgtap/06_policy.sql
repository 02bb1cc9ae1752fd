-- Policies through SQL: compile, store, lifecycle, and verdicts on corpus
-- tuples worked out by hand for the three published policies.
BEGIN;
SELECT plan(64);
SET LOCAL stellapolicy.tenant = 'policy-tests';

\i test/pgtap/helpers.psql

\set default_org `cat ../shared/policies/default-org-policy.stella`
\set baseline `cat ../shared/policies/docs2-short-baseline.stella`
\set internal `cat ../shared/policies/internal-only.stella`

-- Compilation ------------------------------------------------------------
SELECT is(jsonb_array_length(stellapolicy.policy_compile(:'default_org')->'diagnostics'), 0, 'Default Org Policy compiles');
SELECT is(jsonb_array_length(stellapolicy.policy_compile(:'baseline')->'diagnostics'), 0, 'Baseline compiles');
SELECT is(jsonb_array_length(stellapolicy.policy_compile(:'internal')->'diagnostics'), 0, 'Internal Only Policy compiles');
SELECT matches(stellapolicy.policy_compile(:'internal')->>'digest', '^sha256:[0-9a-f]{64}$', 'the digest is sha256:<64 hex>');
SELECT is(stellapolicy.policy_compile(:'internal')->>'digest', stellapolicy.policy_compile(:'internal')->>'digest', 'compiling twice gives the same digest');
SELECT is(encode(sha256(convert_to(stellapolicy.policy_compile(:'baseline')->>'ir', 'UTF8')), 'hex'),
		  encode(sha256(convert_to((stellapolicy.policy_compile(:'baseline')->'ir')::text, 'UTF8')), 'hex'),
		  'ir comes back as JSON');
SELECT is(stellapolicy.policy_compile(:'baseline')->>'digest',
		  stellapolicy.policy_compile('// a comment' || chr(10) || replace(replace(:'baseline', '  ', E'\t  '), '{', ' { /* c */ '))->>'digest',
		  'comments and layout do not change the digest');
SELECT isnt(stellapolicy.policy_compile(:'baseline')->>'digest',
			stellapolicy.policy_compile(replace(:'baseline', 'priority 10', 'priority 11'))->>'digest',
			'a changed priority changes the digest');
SELECT isnt(stellapolicy.policy_compile(:'baseline')->>'digest',
			stellapolicy.policy_compile(replace(:'baseline', '"VEX claim"', '"VEX claims"'))->>'digest',
			'a changed rationale changes the digest');
SELECT isnt(stellapolicy.policy_compile(:'baseline')->>'digest',
			stellapolicy.policy_compile(replace(:'baseline', '"OSV" => 0.0', '"OSV" => 0.001'))->>'digest',
			'a changed weight changes the digest');

-- Compile errors: code, line and column.
SELECT is(stellapolicy.policy_compile('policy "x" syntax "stella-dsl@2" { }')->'diagnostics'->0->>'code', 'ERR_POL_001', 'an unsupported syntax is ERR_POL_001');
SELECT matches(stellapolicy.policy_compile('policy "x" syntax "stella-dsl@2" { }')->'diagnostics'->0->>'message', 'stella-dsl@1', 'the message names the supported syntax');
SELECT is(stellapolicy.policy_compile('policy "x" syntax "stella-dsl@2" { }')->'digest', 'null'::jsonb, 'no digest when there are errors');
SELECT is(stellapolicy.policy_compile('policy "x" syntax "stella-dsl@2" { }')->'ir', 'null'::jsonb, 'no IR when there are errors');
SELECT results_eq(
	$$SELECT (d->>'line')::int, (d->>'column')::int FROM jsonb_array_elements(stellapolicy.policy_compile(
		E'policy "x" syntax "stella-dsl@1" {\n  rule a {\n    when advisory.nosuch == 1\n    then status := "blocked"\n    because "r"\n  }\n  rule b {\n    when frobnicate(1)\n    then status := "blocked"\n    because "r"\n  }\n}')->'diagnostics') d$$,
	$$VALUES (3, 19), (8, 10)$$,
	'two errors are reported at once, each at the line and column of the offending name');
SELECT ok(jsonb_array_length(stellapolicy.policy_compile(
	E'policy "x" syntax "stella-dsl@1" {\n  rule a { when true then status := "x" because "r" }\n  rule a { when true then status := "y" because "r" }\n}')->'diagnostics') >= 1,
	'duplicate rule names are an error');

-- The store and the lifecycle --------------------------------------------
SELECT is(stellapolicy.policy_create('org-default', :'default_org'), 1, 'policy_create stores version 1 as a draft');
SELECT is(stellapolicy.policy_create('org-default', :'default_org'), 2, 'a second create is version 2');
SELECT is((SELECT status FROM stellapolicy.policy_version WHERE policy_id = 'org-default' AND version = 1), 'draft', 'new versions are drafts');
SELECT is((SELECT name FROM stellapolicy.policy_version WHERE policy_id = 'org-default' AND version = 1), 'Default Org Policy', 'the header name is kept');
SELECT matches(pg_temp.err($$SELECT stellapolicy.policy_create('broken', 'policy "b" syntax "stella-dsl@1" { rule r { when nope then status := "x" because "y" } }')$$),
	'^SP001: ERR_POL_001: policy "broken" does not compile \(1 error\)', 'a source that does not compile is refused with ERR_POL_001');
SELECT matches(pg_temp.err_detail($$SELECT stellapolicy.policy_create('broken', 'policy "b" syntax "stella-dsl@1" { rule r { when nope then status := "x" because "y" } }')$$),
	'^line 1, column \d+: ', 'the diagnostics are in the error detail');
SELECT is((SELECT count(*) FROM stellapolicy.policy_version WHERE policy_id = 'broken'), 0::bigint, 'nothing was stored for it');
SELECT matches(pg_temp.err($$SELECT stellapolicy.policy_create('bad id!', 'x')$$), '^22023: invalid policy id "bad id!"', 'policy ids are checked');

SELECT matches(pg_temp.err($$SELECT stellapolicy.policy_approve('org-default', 1)$$),
	'^55000: policy "org-default" version 1 is draft; it cannot become approved', 'a draft cannot be approved');
SELECT matches(pg_temp.err($$SELECT stellapolicy.policy_activate('org-default', 1)$$),
	'^55000: policy "org-default" version 1 is draft; it cannot become active', 'a draft cannot be activated');
SELECT is(stellapolicy.policy_submit('org-default', 1), 'submitted', 'draft -> submitted');
SELECT matches(pg_temp.err($$SELECT stellapolicy.policy_submit('org-default', 1)$$), '^55000', 'submitting twice is refused');
SELECT is(stellapolicy.policy_approve('org-default', 1), 'approved', 'submitted -> approved');
SELECT is(stellapolicy.policy_activate('org-default', 1), 'active', 'approved -> active');
SELECT is(stellapolicy.policy_submit('org-default', 2), 'submitted', 'version 2 submitted');
SELECT is(stellapolicy.policy_approve('org-default', 2), 'approved', 'version 2 approved');
SELECT is(stellapolicy.policy_activate('org-default', 2), 'active', 'activating version 2 ...');
SELECT results_eq($$SELECT version, status FROM stellapolicy.policy_version WHERE policy_id = 'org-default' ORDER BY version$$,
	$$VALUES (1, 'archived'), (2, 'active')$$, '... archives version 1: one active version at a time');
SELECT matches(pg_temp.err($$SELECT stellapolicy.policy_activate('org-default', 1)$$), '^55000: policy "org-default" version 1 is archived', 'an archived version stays archived');
SELECT matches(pg_temp.err($$SELECT stellapolicy.policy_submit('org-default', 9)$$), '^P0002: policy "org-default" version 9 does not exist', 'unknown version');
SELECT results_eq($$SELECT version, from_status, to_status FROM stellapolicy.policy_transition WHERE policy_id = 'org-default' ORDER BY at, version$$,
	$$VALUES (1, NULL, 'draft'), (2, NULL, 'draft'), (1, 'draft', 'submitted'),
			 (1, 'submitted', 'approved'), (1, 'approved', 'active'),
			 (2, 'draft', 'submitted'), (2, 'submitted', 'approved'),
			 (1, 'active', 'archived'), (2, 'approved', 'active')$$,
	'every transition is recorded, in order');
SELECT is((SELECT array_agg(DISTINCT actor::text) FROM stellapolicy.policy_transition WHERE policy_id = 'org-default'),
	ARRAY['postgres'], 'with the role that made it');
SELECT throws_ok($$UPDATE stellapolicy.policy_version SET source = 'x' WHERE policy_id = 'org-default'$$, '55000', 'policy versions are immutable', 'stored source cannot change');
SELECT throws_ok($$DELETE FROM stellapolicy.policy_transition$$, '55000', NULL, 'the transition log is append-only');

-- Verdicts on corpus tuples -------------------------------------------------
\i build/corpus_load.sql
SELECT is(stellapolicy.policy_create('baseline', :'baseline'), 1, 'Baseline stored as version 1');
SELECT is(stellapolicy.policy_create('internal', :'internal'), 1, 'Internal Only Policy stored as version 1');

-- Default Org Policy: GHSA weight +0.5; serverless -0.5; internal-only -1.0.
-- lodash 4.17.15, GHSA-p6mc-m468-83gw, CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:H/A:H = 7.4.
SELECT results_eq($$SELECT v->>'status', v->>'band', (v->>'score')::int, v->>'rule' FROM
	stellapolicy.policy_evaluate('org-default', 2, 'npm-webapp-2019', 'pkg:npm/lodash@4.17.15', 'GHSA-p6mc-m468-83gw') v$$,
	$$VALUES ('affected', 'High', 7900, NULL::text)$$, 'Default Org: 7.4 + 0.5 GHSA = 7.9 High, no rule, default status');
SELECT results_eq($$SELECT v->>'band', (v->>'score')::int FROM
	stellapolicy.policy_evaluate('org-default', 2, 'npm-webapp-2019', 'pkg:npm/lodash@4.17.15', 'GHSA-p6mc-m468-83gw',
								 '{"Exposure": "internal-only", "RUNTIME": "serverless"}') v$$,
	$$VALUES ('Medium', 6400)$$, 'Default Org: - 1.0 internal-only - 0.5 serverless = 6.4 Medium (env keys are case-insensitive)');
-- Trivy: aws-sdk-go GO-2022-0646, VEX not_affected / vulnerable_code_not_present.
SELECT results_eq($$SELECT v->>'status', v->>'rule', v->>'band', (v->>'score')::int FROM
	stellapolicy.policy_evaluate('org-default', 2, 'go-trivy-v0.58.0', 'pkg:golang/github.com/aws/aws-sdk-go@v1.55.5', 'GO-2022-0646') v$$,
	$$VALUES ('not_affected', 'vex_precedence', 'None', 0)$$, 'Default Org: strong VEX justification prevails (no CVSS: score 0)');
-- x/net GO-2024-3333: VEX not_affected but vulnerable_code_not_in_execute_path.
SELECT results_eq($$SELECT v->>'status', v->>'rule' FROM
	stellapolicy.policy_evaluate('org-default', 2, 'go-trivy-v0.58.0', 'pkg:golang/golang.org/x/net@v0.31.0', 'GO-2024-3333') v$$,
	$$VALUES ('affected', NULL::text)$$, 'Default Org: a justification outside the list does not suppress');

-- Baseline: no GHSA weight; any not_affected VEX wins.
SELECT results_eq($$SELECT v->>'status', v->>'rule', v->>'rationale' FROM
	stellapolicy.policy_evaluate('baseline', 1, 'go-trivy-v0.58.0', 'pkg:golang/golang.org/x/net@v0.31.0', 'GO-2024-3333') v$$,
	$$VALUES ('not_affected', 'vex_override', 'VEX claim')$$, 'Baseline: the Trivy VEX suppresses x/net');
SELECT results_eq($$SELECT v->>'status', (v->>'score')::int, v->>'band' FROM
	stellapolicy.policy_evaluate('baseline', 1, 'npm-webapp-2019', 'pkg:npm/lodash@4.17.15', 'GHSA-p6mc-m468-83gw') v$$,
	$$VALUES ('affected', 7400, 'High')$$, 'Baseline: lodash stays affected at 7.4 High');
SELECT results_eq($$SELECT v->>'status' FROM
	stellapolicy.policy_evaluate('baseline', 1, 'maven-dependency-track-4.5.0', 'pkg:maven/com.google.guava/guava@31.1-jre?type=jar', 'GHSA-7g45-4rm6-3mm3') v$$,
	$$VALUES ('affected')$$, 'Baseline: Red Hat''s CSAF about its own products does not suppress guava');

-- Internal Only: block_kev (priority 1), then by name: accept_vendor_vex,
-- allow_medium_with_warning, quiet_low_priority; internal -0.4, dev -0.6.
SELECT results_eq($$SELECT v->>'status', v->>'rule', v->'annotations'->>'justification' FROM
	stellapolicy.policy_evaluate('internal', 1, 'go-trivy-v0.58.0', 'pkg:golang/golang.org/x/crypto@v0.29.0', 'GO-2024-3321') v$$,
	$$VALUES ('not_affected', 'accept_vendor_vex', 'vulnerable_code_not_in_execute_path')$$, 'Internal: vendor VEX accepted and its justification annotated');
-- minimist 1.2.0, GHSA-vh95-rmgr-6w4m, CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:L/I:L/A:L = 5.6.
SELECT results_eq($$SELECT v->>'status', v->>'rule', (v->>'score')::int, v->'warnings'->>0 FROM
	stellapolicy.policy_evaluate('internal', 1, 'npm-webapp-2019', 'pkg:npm/minimist@1.2.0', 'GHSA-vh95-rmgr-6w4m', '{"exposure": "internal"}') v$$,
	$$VALUES ('warned', 'allow_medium_with_warning', 5200, 'Medium severity permitted in internal environments.')$$,
	'Internal: 5.6 - 0.4 = 5.2 Medium in an internal environment is warned');
SELECT results_eq($$SELECT v->>'status', v->>'rule' FROM
	stellapolicy.policy_evaluate('internal', 1, 'npm-webapp-2019', 'pkg:npm/minimist@1.2.0', 'GHSA-vh95-rmgr-6w4m', '{"exposure": "internet"}') v$$,
	$$VALUES ('affected', NULL::text)$$, 'Internal: the same finding on the internet is not warned');
-- cookie 0.4.0, GHSA-pxg6-pf52-xh8x: only the word LOW = 2.0.
SELECT results_eq($$SELECT v->>'status', (v->>'quiet')::boolean, v->>'quietUntil', v->>'rule', v->>'band' FROM
	stellapolicy.policy_evaluate('internal', 1, 'npm-webapp-2019', 'pkg:npm/cookie@0.4.0', 'GHSA-pxg6-pf52-xh8x',
								 '{}', false, '2025-06-01T00:00:00Z') v$$,
	$$VALUES ('ignored', true, '2026-01-01T00:00:00Z', 'quiet_low_priority', 'Low')$$, 'Internal: Low is ignored and quiet before 2026-01-01');
SELECT results_eq($$SELECT v->>'status', (v->>'quiet')::boolean, v->>'rule' FROM
	stellapolicy.policy_evaluate('internal', 1, 'npm-webapp-2019', 'pkg:npm/cookie@0.4.0', 'GHSA-pxg6-pf52-xh8x',
								 '{}', false, '2026-06-01T00:00:00Z') v$$,
	$$VALUES ('affected', false, NULL::text)$$, 'Internal: after the date the ignore does nothing and evaluation falls through');
SELECT stellapolicy.kev_import('{"vulnerabilities":[{"cveID":"CVE-2020-8203"}]}');
SELECT results_eq($$SELECT v->>'status', v->>'rule' FROM
	stellapolicy.policy_evaluate('internal', 1, 'npm-webapp-2019', 'pkg:npm/lodash@4.17.15', 'GHSA-p6mc-m468-83gw') v$$,
	$$VALUES ('blocked', 'block_kev')$$, 'Internal: a KEV-listed CVE alias blocks, before every other rule');

-- Explain traces.
SELECT is((SELECT stellapolicy.policy_evaluate('internal', 1, 'go-trivy-v0.58.0', 'pkg:golang/golang.org/x/crypto@v0.29.0',
		   'GO-2024-3321', '{}', true)->>'schemaVersion'), 'scheduler.policy-explain-trace@1', 'the explain trace has the StellaOps schema');
SELECT results_eq($$SELECT r->>'name', (r->>'matched')::boolean FROM jsonb_array_elements(stellapolicy.policy_evaluate('internal', 1,
		   'go-trivy-v0.58.0', 'pkg:golang/golang.org/x/crypto@v0.29.0', 'GO-2024-3321', '{}', true)->'ruleChain') r$$,
	$$VALUES ('block_kev', false), ('accept_vendor_vex', true)$$, 'the rule chain stops at the first match, in evaluation order');
SELECT ok((SELECT bool_or((e->>'accepted')::boolean) FROM jsonb_array_elements(stellapolicy.policy_evaluate('internal', 1,
		   'go-trivy-v0.58.0', 'pkg:golang/golang.org/x/crypto@v0.29.0', 'GO-2024-3321', '{}', true)->'evidence') e WHERE e->>'type' = 'vex'),
	'the applying VEX statement is in the evidence, accepted');

-- CVSS base scores: examples of the FIRST specifications and calculators.
SELECT results_eq($$SELECT stellapolicy.cvss_score(v) FROM (VALUES
	('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N'),          -- CVE-2014-0160, 7.5
	('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H'),          -- CVE-2014-6271, 9.8
	('CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N'),          -- CVE-2013-1937, 6.1
	('CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H'),          -- 9.8
	('AV:N/AC:L/Au:N/C:N/I:N/A:C'),                            -- CVE-2002-0392, 7.8
	('AV:N/AC:L/Au:N/C:C/I:C/A:C'),                            -- CVE-2003-0818, 10.0
	('AV:L/AC:H/Au:N/C:C/I:C/A:C'),                            -- CVE-2003-0062, 6.2
	('CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N'),   -- 9.3
	('CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:P/VC:L/VI:N/VA:N/SC:L/SI:N/SA:L'),   -- 5.3
	('CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N')) x(v)$$,
	$$VALUES (7.5), (9.8), (6.1), (9.8), (7.8), (10.0), (6.2), (9.3), (5.3), (0.0)$$,
	'cvss_score gives the specifications'' scores for v3.1, v3.0, v2 and v4.0');
SELECT matches(pg_temp.err($$SELECT stellapolicy.cvss_score('CVSS:3.1/AV:X')$$), '^22023: invalid CVSS vector "CVSS:3.1/AV:X"', 'a bad vector is refused');

-- Bad calls.
SELECT matches(pg_temp.err($$SELECT stellapolicy.policy_evaluate('internal', 99, 'npm-webapp-2019', 'pkg:npm/cookie@0.4.0', 'GHSA-pxg6-pf52-xh8x')$$),
	'^P0002: policy "internal" version 99 does not exist', 'unknown policy version');
SELECT matches(pg_temp.err($$SELECT stellapolicy.policy_evaluate('internal', 1, 'npm-webapp-2019', 'pkg:npm/nope@1.0.0', 'GHSA-pxg6-pf52-xh8x')$$),
	'^P0002: component "pkg:npm/nope@1.0.0" is not in SBOM "npm-webapp-2019"', 'a component not in the SBOM');
SELECT matches(pg_temp.err($$SELECT stellapolicy.policy_evaluate('internal', 1, 'npm-webapp-2019', 'pkg:npm/cookie@0.4.0', 'GHSA-pxg6-pf52-xh8x', '{"a": {"b": 1}}')$$),
	'^22023: env value for key "a" is object', 'env values must be scalars');
SELECT matches(pg_temp.err($$SELECT stellapolicy.policy_evaluate('internal', 1, 'npm-webapp-2019', 'pkg:npm/cookie@0.4.0', 'GHSA-pxg6-pf52-xh8x', '{"A": 1, "a": 2}')$$),
	'^22023: env key "a" is given twice', 'env keys differing only in case are refused');

SELECT * FROM finish();
ROLLBACK;
