-- The policy language through SQL: compile results, errors with positions,
-- the store, and verdicts on the sample documents.
SET stellapolicy.tenant = 'regress-policy';

\set doc `cat data/sample/sbom/shop-frontend.cdx.json`
SELECT stellapolicy.sbom_import(:'doc', 'shop-frontend', ARRAY['prod']);
\set doc `cat data/sample/advisories/SAMPLE-2026-0001.json`
SELECT stellapolicy.advisory_ingest(:'doc');
\set doc `cat data/sample/advisories/SAMPLE-2026-0002.json`
SELECT stellapolicy.advisory_ingest(:'doc');
\set doc `cat data/sample/vex/shop-frontend.openvex.json`
SELECT stellapolicy.vex_ingest(:'doc');
SELECT stellapolicy.advisory_tag_add('CVE-2099-1001', 'kev');

-- The project's policy that uses every construct compiles to a stable digest.
\set src `cat test/policies/all-constructs.stella`
SELECT c->>'digest' AS digest, jsonb_array_length(c->'diagnostics') AS errors,
	   jsonb_array_length(c->'ir'->'rules') AS rules
FROM stellapolicy.policy_compile(:'src') c;

-- Errors: every diagnostic with its line and column.
SELECT d->>'code' AS code, (d->>'line')::int AS line, (d->>'column')::int AS col, d->>'message' AS message
FROM jsonb_array_elements(stellapolicy.policy_compile(
'policy "Broken" syntax "stella-dsl@1" {
  rule a priority 1 {
    when advisory.nosuch == "x"
    then status := "blocked"
    because "unknown member"
  }
  rule b {
    when frobnicate(1) and severity.normalized >= 7
    then status := "blocked"
    because "unknown function, band against a number"
  }
  rule a { when true then status := "x" because "duplicate name" }
}')->'diagnostics') d;
SELECT stellapolicy.policy_compile('policy "x" syntax "stella-dsl@2" { }')->'diagnostics';
SELECT stellapolicy.policy_compile('policy "x" syntax "stella-dsl@1" { rule r { when "unterminated')->'diagnostics';

-- The store refuses what does not compile.
SELECT stellapolicy.policy_create('broken', 'policy "b" syntax "stella-dsl@1" { rule r { when nope then status := "x" because "y" } }');
SELECT stellapolicy.policy_create('all', :'src') AS version;
SELECT policy_id, version, status, name, digest = (stellapolicy.policy_compile(:'src')->>'digest') AS digest_matches
FROM stellapolicy.policy_version;

-- Verdicts: lodash is KEV-tagged (through its alias) in a prod SBOM.
SELECT stellapolicy.policy_evaluate('all', 1, 'shop-frontend', 'pkg:npm/lodash@4.17.15', 'SAMPLE-2026-0001');
-- The supplier's VEX about qs applies (see the evidence below), but this
-- policy trusts only Acme's statements, so the catch-all rule decides.
SELECT stellapolicy.policy_evaluate('all', 1, 'shop-frontend', 'pkg:npm/qs@6.7.0', 'SAMPLE-2026-0002',
	'{"exposure": "internet"}');
-- The same tuple, explained.
SELECT jsonb_pretty(stellapolicy.policy_evaluate('all', 1, 'shop-frontend', 'pkg:npm/qs@6.7.0', 'SAMPLE-2026-0002',
	'{"exposure": "internet"}', true) - 'policy');
