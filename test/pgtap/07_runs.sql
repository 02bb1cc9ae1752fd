-- Runs on the corpus: findings, history, run records, the determinism hash,
-- replay and its guard, simulation, bundles.
BEGIN;
SELECT plan(80);
SET LOCAL stellapolicy.tenant = 'runs';

\i test/pgtap/helpers.psql

-- What a simulation must not touch.
CREATE FUNCTION pg_temp.fingerprint() RETURNS text LANGUAGE sql AS $$
	SELECT md5(string_agg(x, '|' ORDER BY x)) FROM (
		SELECT f::text AS x FROM stellapolicy.effective_finding f
		UNION ALL SELECT h::text FROM stellapolicy.effective_finding_history h
		UNION ALL SELECT r::text FROM stellapolicy.policy_runs r
		UNION ALL SELECT e::text FROM stellapolicy.policy_explain e) t
$$;

\i build/corpus_load.sql
\set internal `cat ../shared/policies/internal-only.stella`
SELECT stellapolicy.policy_create('internal', :'internal');
SELECT stellapolicy.policy_submit('internal', 1), stellapolicy.policy_approve('internal', 1),
	   stellapolicy.policy_activate('internal', 1);

-- Requests that are refused.
SELECT matches(pg_temp.err($$SELECT stellapolicy.stella_policy_run('internal', mode => 'partial')$$), '^22023: unknown run mode "partial"', 'unknown mode');
SELECT matches(pg_temp.err($$SELECT stellapolicy.stella_policy_run('internal', priority => 'urgent')$$), '^22023: unknown priority "urgent"', 'unknown priority');
SELECT matches(pg_temp.err($$SELECT stellapolicy.stella_policy_run('nosuch')$$), '^55000: policy "nosuch" has no active version', 'a policy without an active version');
SELECT matches(pg_temp.err($$SELECT stellapolicy.stella_policy_run('internal', evaluation_time => 'infinity')$$), '^22008: evaluation time must be finite', 'an infinite evaluation time');
SELECT matches(pg_temp.err($$SELECT stellapolicy.stella_policy_run('internal', env => '[1]')$$), '^22023: env must be a JSON object', 'env must be an object');
SELECT matches(pg_temp.err($$SELECT stellapolicy.stella_policy_run('internal', sbom_set => ARRAY['nope'], wait => true)$$), '^no error', 'a run over a missing SBOM is recorded, not raised ...');
SELECT results_eq($$SELECT status, error FROM stellapolicy.policy_runs WHERE inputs->'sbomSelection' = '["nope"]'$$,
	$$VALUES ('failed', 'P0002: SBOM "nope" does not exist')$$, '... as a failed run with its error');

-- A full run.
SELECT stellapolicy.stella_policy_run('internal', wait => true, evaluation_time => '2025-06-01T00:00:00Z',
	env => '{"Exposure": "internal"}') AS r1 \gset
SELECT matches(:'r1'::text, '^run:internal:\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z:[0-9a-f]{4}$', 'run ids are run:<policy>:<UTC time>:<4 hex>');
SELECT results_eq(format($$SELECT status, (stats->>'tuples')::int, (stats->>'components')::int, (stats->>'findingsWritten')::int,
	(stats->>'findingsRemoved')::int, attempts FROM stellapolicy.policy_runs WHERE run_id = %L$$, :'r1'),
	$$VALUES ('succeeded', 163, 1214, 163, 0, 1)$$, 'the run succeeded over 163 tuples of 1214 components');
SELECT is((SELECT count(*) FROM stellapolicy.effective_finding WHERE policy_id = 'internal'), 163::bigint, '163 findings written');
SELECT results_eq(format($$SELECT to_status FROM stellapolicy.policy_run_events WHERE run_id = %L ORDER BY event_id$$, :'r1'),
	$$VALUES ('queued'), ('running'), ('succeeded')$$, 'each status change is an event');
SELECT ok((SELECT inputs->'env' = '{"exposure": "internal"}' AND inputs->>'evaluationTime' = '2025-06-01T00:00:00.000000Z'
		   AND jsonb_array_length(inputs->'sbomSet') = 16 AND advisory_cursor > 0 AND vex_cursor > 0
		   FROM stellapolicy.policy_runs WHERE run_id = :'r1'),
	'inputs record lower-cased env keys, the evaluation time, the 16 SBOM revisions and both cursors');
SELECT ok((SELECT inputs->>'changeSnapshot' ~ '^\d+:\d+:' FROM stellapolicy.policy_runs WHERE run_id = :'r1'),
	'a run records the snapshot that locates the changes it saw');

-- An incremental run right after it: no change since, nothing evaluated or written.
SELECT stellapolicy.stella_policy_run('internal', mode => 'incremental', wait => true,
	evaluation_time => '2025-06-01T00:00:00Z', env => '{"Exposure": "internal"}') AS ri \gset
SELECT results_eq(format($$SELECT status, mode, (inputs->'scope'->>'changes')::int, (stats->>'tuples')::int,
	(stats->>'findingsWritten')::int, (stats->>'findingsRemoved')::int FROM stellapolicy.policy_runs WHERE run_id = %L$$, :'ri'),
	$$VALUES ('succeeded', 'incremental', 0, 0, 0, 0)$$, 'an incremental run with no change since the last run evaluates nothing');

-- Findings worked out by hand (Internal Only Policy, exposure internal: -0.4).
SELECT results_eq($$SELECT status, severity_band, score, quiet, rule_name FROM stellapolicy.effective_finding
	WHERE sbom_id = 'npm-webapp-2019' AND finding_key = 'pkg:npm/lodash@4.17.15#GHSA-p6mc-m468-83gw'$$,
	$$VALUES ('affected', 'High', 7.000, false, NULL::text)$$, 'lodash: 7.4 - 0.4 = 7.0 High, no rule');
SELECT results_eq($$SELECT status, severity_band, score, rule_name, warnings->>0 FROM stellapolicy.effective_finding
	WHERE sbom_id = 'npm-webapp-2019' AND finding_key = 'pkg:npm/minimist@1.2.0#GHSA-vh95-rmgr-6w4m'$$,
	$$VALUES ('warned', 'Medium', 5.200, 'allow_medium_with_warning', 'Medium severity permitted in internal environments.')$$,
	'minimist: 5.6 - 0.4 = 5.2 Medium, warned');
SELECT results_eq($$SELECT status, severity_band, score, quiet, quiet_until FROM stellapolicy.effective_finding
	WHERE sbom_id = 'npm-webapp-2019' AND finding_key = 'pkg:npm/cookie@0.4.0#GHSA-pxg6-pf52-xh8x'$$,
	$$VALUES ('ignored', 'Low', 1.600, true, '2026-01-01T00:00:00Z'::timestamptz)$$, 'cookie: LOW 2.0 - 0.4 = 1.6, ignored and quiet until 2026');
SELECT results_eq($$SELECT status, rule_name, annotations->>'justification' FROM stellapolicy.effective_finding
	WHERE sbom_id = 'go-trivy-v0.58.0' AND finding_key = 'pkg:golang/golang.org/x/crypto@v0.29.0#GO-2024-3321'$$,
	$$VALUES ('not_affected', 'accept_vendor_vex', 'vulnerable_code_not_in_execute_path')$$, 'x/crypto: the Trivy VEX is accepted');
SELECT is((SELECT count(*) FROM stellapolicy.effective_finding WHERE sbom_id = 'maven-dependency-track-4.5.0' AND status = 'not_affected'),
	0::bigint, 'Red Hat CSAF statements do not suppress Dependency-Track findings');

-- A second run with no input change writes nothing and has the same hash.
SELECT stellapolicy.stella_policy_run('internal', wait => true, evaluation_time => '2025-06-01T00:00:00Z',
	env => '{"exposure": "internal"}') AS r2 \gset
SELECT is((SELECT stats->>'findingsWritten' FROM stellapolicy.policy_runs WHERE run_id = :'r2'), '0', 'the second run writes nothing');
SELECT is((SELECT determinism_hash FROM stellapolicy.policy_runs WHERE run_id = :'r2'),
		  (SELECT determinism_hash FROM stellapolicy.policy_runs WHERE run_id = :'r1'), 'and has the same hash');
SELECT is((SELECT count(*) FROM stellapolicy.effective_finding_history), 0::bigint, 'no history yet');

-- A later VEX statement from the same issuer changes exactly its finding.
SELECT is(stellapolicy.vex_ingest('{"@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://example.invalid/vex/recheck",
	"author": "Aqua Security", "timestamp": "2025-05-01T00:00:00Z",
	"statements": [{"vulnerability": {"name": "GO-2024-3321"},
					"products": [{"@id": "pkg:golang/github.com/aquasecurity/trivy", "subcomponents": [{"@id": "pkg:golang/golang.org/x/crypto"}]}],
					"status": "affected", "action_statement": "Upgrade x/crypto."}]}'), 1, 'a newer VEX statement from the same issuer arrives');
SELECT stellapolicy.stella_policy_run('internal', wait => true, evaluation_time => '2025-06-01T00:00:00Z',
	env => '{"exposure": "internal"}') AS r3 \gset
SELECT results_eq(format($$SELECT (stats->>'findingsWritten')::int, (stats->>'findingsChanged')::int, (stats->>'findingsRemoved')::int
	FROM stellapolicy.policy_runs WHERE run_id = %L$$, :'r3'), $$VALUES (1, 1, 0)$$, 'exactly one finding changed');
SELECT results_eq(format($$SELECT status, rule_name, run_id = %L FROM stellapolicy.effective_finding
	WHERE sbom_id = 'go-trivy-v0.58.0' AND finding_key = 'pkg:golang/golang.org/x/crypto@v0.29.0#GO-2024-3321'$$, :'r3'),
	$$VALUES ('ignored', 'quiet_low_priority', true)$$,
	'x/crypto loses its VEX (the later statement supersedes) and, with no score (None), is quiet until 2026');
SELECT results_eq(format($$SELECT operation, changed_by_run = %L, status, run_id = %L FROM stellapolicy.effective_finding_history$$, :'r3', :'r1'),
	$$VALUES ('update', true, 'not_affected', true)$$, 'the history keeps the previous row and names the run that changed it');
SELECT isnt((SELECT determinism_hash FROM stellapolicy.policy_runs WHERE run_id = :'r3'),
			(SELECT determinism_hash FROM stellapolicy.policy_runs WHERE run_id = :'r1'), 'a changed input changes the hash');

-- A withdrawn advisory removes its findings; the history keeps them.
SELECT stellapolicy.advisory_ingest(jsonb_set(jsonb_set(document, '{modified}', '"2025-05-02T00:00:00Z"'),
	'{withdrawn}', '"2025-05-02T00:00:00Z"')) FROM stellapolicy.advisory_raw WHERE advisory_id = 'GHSA-pxg6-pf52-xh8x';
SELECT stellapolicy.stella_policy_run('internal', wait => true, evaluation_time => '2025-06-01T00:00:00Z',
	env => '{"exposure": "internal"}') AS r4 \gset
SELECT is((SELECT stats->>'findingsRemoved' FROM stellapolicy.policy_runs WHERE run_id = :'r4'), '1', 'one finding removed');
SELECT is((SELECT count(*) FROM stellapolicy.effective_finding WHERE advisory_id = 'GHSA-pxg6-pf52-xh8x'), 0::bigint, 'it is gone from the current table');
SELECT results_eq(format($$SELECT operation, changed_by_run = %L, status FROM stellapolicy.effective_finding_history WHERE advisory_id = 'GHSA-pxg6-pf52-xh8x'$$, :'r4'),
	$$VALUES ('delete', true, 'ignored')$$, 'and kept in the history');

-- A run that fails leaves the findings as they were.
CREATE TEMP TABLE before_fail AS SELECT pg_temp.fingerprint() AS fp,
	(SELECT count(*) FROM stellapolicy.effective_finding_history) AS h;
ALTER TABLE stellapolicy.effective_finding ADD CONSTRAINT no_blocked CHECK (status <> 'blocked') NOT VALID;
SELECT stellapolicy.kev_import('{"vulnerabilities": [{"cveID": "CVE-2020-8203"}]}');
SELECT stellapolicy.stella_policy_run('internal', wait => true, evaluation_time => '2025-06-01T00:00:00Z',
	env => '{"exposure": "internal"}') AS r5 \gset
SELECT results_eq(format($$SELECT status, error ~ '^23514: ' FROM stellapolicy.policy_runs WHERE run_id = %L$$, :'r5'),
	$$VALUES ('failed', true)$$, 'a write that fails fails the run, with its error recorded');
SELECT is((SELECT count(*) FROM stellapolicy.effective_finding_history), (SELECT h FROM before_fail), 'no history row from the failed run');
SELECT is((SELECT count(*) FROM stellapolicy.effective_finding WHERE run_id = :'r5'), 0::bigint, 'no finding carries the failed run');
ALTER TABLE stellapolicy.effective_finding DROP CONSTRAINT no_blocked;
SELECT stellapolicy.stella_policy_run('internal', wait => true, evaluation_time => '2025-06-01T00:00:00Z',
	env => '{"exposure": "internal"}') AS r5b \gset
SELECT results_eq($$SELECT sbom_id, finding_key, status, rule_name FROM stellapolicy.effective_finding
	WHERE policy_id = 'internal' AND status = 'blocked' ORDER BY 1, 2$$,
	$$SELECT sbom_id, finding_key, 'blocked', 'block_kev' FROM stellapolicy.effective_finding
	  WHERE policy_id = 'internal' AND advisory_id IN (SELECT advisory_id FROM stellapolicy.advisory_raw WHERE 'CVE-2020-8203' = ANY (aliases))
	  ORDER BY 1, 2$$,
	'a KEV tag on a CVE id reaches the advisories that alias it, and only those');
SELECT ok((SELECT count(*) > 0 FROM stellapolicy.effective_finding WHERE status = 'blocked'), 'there are such findings');

-- The determinism hash, recomputed in SQL from its definition in runs.md.
CREATE FUNCTION pg_temp.sorted(text[]) RETURNS jsonb LANGUAGE sql AS $$
	SELECT coalesce(jsonb_agg(x ORDER BY x COLLATE "C"), '[]') FROM (SELECT DISTINCT unnest($1) AS x) u
$$;
SELECT is((
	WITH r AS (SELECT * FROM stellapolicy.policy_runs WHERE run_id = :'r5b'),
	t AS (SELECT c.* FROM r, stellapolicy.candidate_tuples(NULL, r.advisory_cursor, r.vex_cursor) c),
	a AS (SELECT DISTINCT t.advisory_id, ar.content_digest, ar.aliases
		  FROM t JOIN stellapolicy.advisory_raw ar ON ar.revision_id = t.advisory_revision),
	s AS (SELECT sbom_id, content_digest, tags FROM stellapolicy.sbom
		  WHERE tenant = 'runs' AND is_current AND active)
	SELECT 'sha256:' || encode(sha256(convert_to(stellapolicy.canonical_json(jsonb_build_object(
		'advisories', pg_temp.sorted(ARRAY(SELECT content_digest FROM a)),
		'engine', 'stellapolicy/' || (SELECT extversion FROM pg_extension WHERE extname = 'stellapolicy'),
		'env', r.inputs->'env',
		'evaluationTime', r.inputs->>'evaluationTime',
		'findings', (SELECT 'sha256:' || encode(sha256(convert_to(string_agg(
				stellapolicy.canonical_json(jsonb_build_object('findingKey', finding_key, 'sbomId', sbom_id,
											 'verdict', verdict_digest)::text),
				E'\n' ORDER BY sbom_id COLLATE "C", finding_key COLLATE "C") || E'\n', 'UTF8')), 'hex')
			FROM stellapolicy.effective_finding WHERE tenant = 'runs' AND policy_id = 'internal'),
		'policy', (SELECT digest FROM stellapolicy.policy_version
				   WHERE tenant = 'runs' AND policy_id = 'internal' AND version = r.policy_version),
		'sbomTags', pg_temp.sorted(ARRAY(SELECT content_digest || ':' || tag FROM s, unnest(s.tags) AS tag)),
		'sboms', pg_temp.sorted(ARRAY(SELECT content_digest FROM s)),
		'tags', pg_temp.sorted(ARRAY(SELECT a.advisory_id || ':' || g.tag FROM a JOIN stellapolicy.advisory_tag g
			ON g.tenant = 'runs' AND (g.subject_id = a.advisory_id OR g.subject_id = ANY (a.aliases))
			AND g.change_seq <= r.advisory_cursor)),
		'vex', pg_temp.sorted(ARRAY(SELECT 'sha256:' || encode(sha256(convert_to(v.document_digest || '#' || v.item, 'UTF8')), 'hex')
			FROM stellapolicy.vex_raw v WHERE v.statement_pk IN (SELECT unnest(t.vex_statements) FROM t))))::text),
		'UTF8')), 'hex')
	FROM r),
	(SELECT determinism_hash FROM stellapolicy.policy_runs WHERE run_id = :'r5b'),
	'the recorded hash is the SHA-256 of the canonical JSON that runs.md defines');
SELECT ok((SELECT count(*) FROM stellapolicy.advisory_tag WHERE tenant = 'runs') > 0
		  AND (SELECT count(*) FROM stellapolicy.candidate_tuples() WHERE cardinality(vex_statements) > 0) > 0
		  AND (SELECT count(*) FROM stellapolicy.sbom WHERE tenant = 'runs' AND cardinality(tags) > 0) > 0,
	'that run read advisory tags, VEX statements and SBOM tags');

-- The same for a first run, whose findings are all new (the bulk insert path).
ALTER TABLE stellapolicy.effective_finding ADD CONSTRAINT no_critical CHECK (severity_band <> 'Critical') NOT VALID;
SELECT stellapolicy.policy_create('fresh', :'internal');
SELECT stellapolicy.policy_submit('fresh', 1), stellapolicy.policy_approve('fresh', 1), stellapolicy.policy_activate('fresh', 1);
SELECT stellapolicy.stella_policy_run('fresh', wait => true) AS rf \gset
SELECT results_eq(format($$SELECT status, error ~ '^23514: .*no_critical' FROM stellapolicy.policy_runs WHERE run_id = %L$$, :'rf'),
	$$VALUES ('failed', true)$$, 'constraints hold on the bulk insert path too');
SELECT is((SELECT count(*) FROM stellapolicy.effective_finding WHERE policy_id = 'fresh'), 0::bigint, 'and the failed first run left no finding');
ALTER TABLE stellapolicy.effective_finding DROP CONSTRAINT no_critical;

-- Replay, and the determinism guard.
SELECT is((stellapolicy.stella_policy_replay(:'r1')->>'match')::boolean, true, 'replay of the first run matches, after newer inputs arrived');
UPDATE stellapolicy.policy_runs SET determinism_hash = 'sha256:' || repeat('0', 64) WHERE run_id = :'r2';
SELECT is((stellapolicy.stella_policy_replay(:'r2')->>'match')::boolean, false, 'a replay that does not reproduce the recorded hash ...');
SELECT matches(pg_temp.err($$SELECT stellapolicy.stella_policy_run('internal', wait => true)$$),
	'^SP004: ERR_POL_004: runs of policy "internal" are stopped by the determinism guard', '... stops further runs (ERR_POL_004)');
SELECT matches(pg_temp.err($$SELECT stellapolicy.stella_policy_guard_clear('internal', '')$$), '^22023', 'clearing needs a reason');
SELECT is(stellapolicy.stella_policy_guard_clear('internal', 'hash tampered with by the test'), true, 'an operator clears it with a reason');
SELECT is((SELECT clear_reason FROM stellapolicy.policy_guard WHERE policy_id = 'internal'), 'hash tampered with by the test', 'the reason is recorded');
SELECT is(pg_temp.err($$SELECT stellapolicy.stella_policy_run('internal', wait => true, evaluation_time => '2025-06-01T00:00:00Z', env => '{"exposure": "internal"}')$$),
	'no error', 'runs are allowed again');
SELECT matches(pg_temp.err(format($$SELECT stellapolicy.stella_policy_replay(%L)$$, :'r5')), '^55000: run ".*" is failed; only a run that succeeded can be replayed', 'a failed run cannot be replayed');
-- On a mismatch, firstDifferences names findings that differ, that only the
-- replay has, and that only the stored findings have.
SELECT run_id AS r_latest FROM stellapolicy.policy_runs WHERE policy_id = 'internal' AND status = 'succeeded'
	ORDER BY finished_at DESC LIMIT 1 \gset
SAVEPOINT tamper;
CREATE TEMP TABLE picked AS SELECT sbom_id, finding_key, row_number() OVER (ORDER BY sbom_id COLLATE "C", finding_key COLLATE "C") AS n
	FROM stellapolicy.effective_finding WHERE policy_id = 'internal';
UPDATE stellapolicy.effective_finding f SET verdict_digest = 'sha256:' || repeat('1', 64)
	FROM picked p WHERE p.n = 1 AND (f.sbom_id, f.finding_key) = (p.sbom_id, p.finding_key) AND f.policy_id = 'internal';
DELETE FROM stellapolicy.effective_finding f USING picked p
	WHERE p.n = 2 AND (f.sbom_id, f.finding_key) = (p.sbom_id, p.finding_key) AND f.policy_id = 'internal';
CREATE TEMP TABLE extra AS SELECT f.* FROM stellapolicy.effective_finding f JOIN picked p
	ON p.n = 3 AND (f.sbom_id, f.finding_key) = (p.sbom_id, p.finding_key) AND f.policy_id = 'internal';
UPDATE extra SET finding_key = finding_key || '-extra';
INSERT INTO stellapolicy.effective_finding SELECT * FROM extra;
UPDATE stellapolicy.policy_runs SET determinism_hash = 'sha256:' || repeat('0', 64) WHERE run_id = :'r_latest';
SELECT results_eq(format($$SELECT d->>'findingKey', d->>'stored' IS NULL, d->'replayed' = 'null'
		FROM jsonb_array_elements(stellapolicy.stella_policy_replay(%L)->'firstDifferences') d
		ORDER BY d->>'findingKey' COLLATE "C"$$, :'r_latest'),
	$$SELECT finding_key, n = 2, n = 3 FROM (SELECT finding_key, n FROM picked WHERE n IN (1, 2)
		UNION ALL SELECT finding_key || '-extra', 3 FROM picked WHERE n = 3) x ORDER BY finding_key COLLATE "C"$$,
	'a replay''s firstDifferences names a changed finding, one only replayed and one only stored');
ROLLBACK TO SAVEPOINT tamper;

-- Simulation writes nothing, and its diff is the difference of two real runs.
SELECT stellapolicy.stella_policy_run('internal', wait => true, env => '{"exposure": "internal"}') AS r6 \gset
SELECT stellapolicy.policy_create('internal', replace(:'internal', 'then -0.4', 'then -2.0')) AS v2 \gset
SELECT is(:v2, 2, 'a candidate version 2 is a draft');
CREATE TEMP TABLE fp AS SELECT pg_temp.fingerprint() AS before;
CREATE TEMP TABLE sim AS SELECT stellapolicy.stella_policy_simulate('internal', env => '{"exposure": "internal"}',
	sbom_set => (SELECT array_agg(sbom_id) FROM stellapolicy.sbom WHERE is_current), capture_explain => true) AS s;
SELECT is(pg_temp.fingerprint(), (SELECT before FROM fp), 'simulate wrote nothing (findings, history, runs, explain unchanged)');
SELECT results_eq($$SELECT (s->'candidate'->>'version')::int, (s->'base'->>'version')::int, s->>'schemaVersion' FROM sim$$,
	$$VALUES (2, 1, 'stellapolicy.simulation@1')$$, 'the newest draft against the active version');
SELECT stellapolicy.policy_submit('internal', 2), stellapolicy.policy_approve('internal', 2), stellapolicy.policy_activate('internal', 2);
SELECT stellapolicy.stella_policy_run('internal', wait => true, env => '{"exposure": "internal"}') AS r7 \gset
SELECT is((SELECT (s->'diff'->>'changed')::int FROM sim),
		  (SELECT count(*)::int FROM stellapolicy.effective_finding_history h JOIN stellapolicy.effective_finding f
			 USING (tenant, policy_id, sbom_id, finding_key)
		   WHERE h.changed_by_run = (SELECT max(run_id) FROM stellapolicy.policy_runs WHERE policy_version = 2 AND policy_id = 'internal') AND h.operation = 'update'
			 AND (h.status, h.severity_band) IS DISTINCT FROM (f.status, f.severity_band)),
	'changed findings (status or band) equal those of the real run of the candidate');
SELECT ok((SELECT (s->'diff'->>'changed')::int > 0 FROM sim), 'the candidate does change findings');
SELECT is((SELECT (s->'diff'->>'added')::int + (s->'diff'->>'removed')::int FROM sim), 0, 'no finding appears or disappears (same tuples)');
SELECT is((SELECT (s->'candidate'->'countsByBand'->>'Low')::int FROM sim),
		  (SELECT count(*)::int FROM stellapolicy.effective_finding WHERE policy_id = 'internal' AND severity_band = 'Low'),
		  'the candidate''s counts by band are those of the real run');
SELECT ok((SELECT bool_and(e ? 'explain') FROM sim, jsonb_array_elements(s->'diff'->'examples') e WHERE e->>'kind' = 'changed'),
	'examples carry explain traces when asked');

-- Bundles.
SELECT ok(length(stellapolicy.bundle_export(:'r6')) > 1000, 'a run exports as a bundle');
SELECT matches(pg_temp.err($$SELECT stellapolicy.bundle_import(convert_to('{"body": {"format": "stellapolicy-bundle@1"}, "checksum": "sha256:00"}', 'UTF8'))$$),
	'^XX001: invalid bundle: the checksum does not match', 'a damaged bundle is refused');
SELECT matches(pg_temp.err(format($$SELECT stellapolicy.bundle_import(stellapolicy.bundle_export(%L))$$, :'r6')),
	'^23505: run ".*" already exists in this database', 'a bundle cannot overwrite a run');

-- Status DTO, explain capture, idempotency, partition names.
SELECT results_eq(format($$SELECT s->>'schemaVersion', s->>'runId', s->>'status', s->'stats' ? 'rulesFired', s->'inputs' ? 'advisoryCursor'
	FROM stellapolicy.policy_run_status(%L) s$$, :'r1'),
	format($$VALUES ('scheduler.policy-run-status@1', %L, 'succeeded', true, true)$$, :'r1'), 'policy_run_status gives the DTO');
SELECT stellapolicy.stella_policy_run('internal', wait => true, capture_explain => true, sbom_set => ARRAY['go-trivy-v0.58.0']) AS r8 \gset
SELECT is((SELECT count(*) FROM stellapolicy.policy_explain WHERE run_id = :'r8'), 29::bigint, 'capture_explain stores one trace per tuple');
SELECT is((SELECT count(*) FROM stellapolicy.effective_finding WHERE policy_id = 'internal'), 162::bigint,
	'a run over one SBOM leaves the other SBOMs'' findings alone');
SELECT is(stellapolicy.stella_policy_run('internal', idempotency_key => 'nightly-1'),
		  stellapolicy.stella_policy_run('internal', idempotency_key => 'nightly-1'), 'the same idempotency key returns the same queued run');
SELECT matches(pg_temp.err($$SELECT stellapolicy.stella_policy_run('fresh', idempotency_key => 'nightly-1')$$),
	'^22023: idempotency key "nightly-1" names a live full run of policy "internal"', 'a live key is refused for another policy ...');
SELECT matches(pg_temp.err($$SELECT stellapolicy.stella_policy_run('internal', mode => 'incremental', idempotency_key => 'nightly-1')$$),
	'^22023: idempotency key "nightly-1" names a live full run', '... and for another mode');
-- A numeric env value is recorded as given, so the record can be passed
-- back as an env (replay, incremental and nightly runs) and mean the same.
SELECT stellapolicy.stella_policy_run('internal', wait => true, evaluation_time => '2025-06-01T00:00:00Z',
	env => '{"Exposure": "internal", "Tier": 2, "Ratio": -0.125}') AS r_env \gset
SELECT is((SELECT (inputs->'env')::text FROM stellapolicy.policy_runs WHERE run_id = :'r_env'),
	'{"tier": 2.000, "ratio": -0.125, "exposure": "internal"}', 'numbers in the recorded env are the numbers given');
SELECT stellapolicy.stella_policy_run('internal', wait => true, evaluation_time => '2025-06-01T00:00:00Z',
	env => (SELECT inputs->'env' FROM stellapolicy.policy_runs WHERE run_id = :'r_env')) AS r_env2 \gset
SELECT results_eq(format($$SELECT determinism_hash, (stats->>'findingsWritten')::int FROM stellapolicy.policy_runs WHERE run_id = %L$$, :'r_env2'),
	format($$SELECT determinism_hash, 0 FROM stellapolicy.policy_runs WHERE run_id = %L$$, :'r_env'),
	'a run given the recorded env has the same hash and writes nothing');
SELECT is((SELECT r->>'match' FROM stellapolicy.stella_policy_replay(:'r_env') r), 'true', 'a run with numbers in its env replays to its hash');
SELECT stellapolicy.stella_policy_run('internal', env => '{"RÉGION": "eu", "Exposure": "internal"}') AS r_uni \gset
SELECT is((SELECT inputs->'env' FROM stellapolicy.policy_runs WHERE run_id = :'r_uni'), '{"rÉgion": "eu", "exposure": "internal"}'::jsonb,
	'env keys fold ASCII letters only, as the compiler folds env.<key>, whatever the collation');
SELECT stellapolicy.nightly_enqueue('internal') AS r_nightly \gset
SELECT is((SELECT inputs->'env' FROM stellapolicy.policy_runs WHERE run_id = :'r_nightly'),
	(SELECT inputs->'env' FROM stellapolicy.policy_runs WHERE run_id = :'r_env2'),
	'a nightly run takes the env of the policy''s latest run, as incremental runs do');
-- Sealed mode: the env records "sealed": true; the key is the server's.
SET LOCAL stellapolicy.sealed = on;
SELECT stellapolicy.stella_policy_run('internal', wait => true, evaluation_time => '2025-06-01T00:00:00Z',
	env => '{"Exposure": "internal", "Sealed": false}') AS r_sealed \gset
SET LOCAL stellapolicy.sealed = off;
SELECT results_eq(format($$SELECT inputs->'env', inputs->'sealed' FROM stellapolicy.policy_runs WHERE run_id = %L$$, :'r_sealed'),
	$$VALUES ('{"sealed": true, "exposure": "internal"}'::jsonb, 'true'::jsonb)$$,
	'a run in sealed mode records inputs.env.sealed = true (and inputs.sealed), whatever the request said');
SELECT is((SELECT r->>'match' FROM stellapolicy.stella_policy_replay(:'r_sealed') r), 'true',
	'it replays to its hash outside sealed mode, with the env as recorded');
SELECT stellapolicy.stella_policy_run('internal', wait => true, env => '{"exposure": "internal", "sealed": true}') AS r_unsealed \gset
SELECT is((SELECT inputs->'env' FROM stellapolicy.policy_runs WHERE run_id = :'r_unsealed'), '{"exposure": "internal"}'::jsonb,
	'outside sealed mode a requested "sealed" is dropped');
SET LOCAL stellapolicy.sealed = on;
SELECT stellapolicy.stella_policy_run('internal', wait => true, sbom_set => ARRAY['npm-toolkit-2020'],
	env => '{"exposure": "internal"}') AS r_sealed2 \gset
SELECT is((SELECT s->'candidate'->>'hash' FROM stellapolicy.stella_policy_simulate('internal',
			version => (SELECT version FROM stellapolicy.policy_version WHERE tenant = 'runs' AND policy_id = 'internal' AND status = 'active'),
			sbom_set => ARRAY['npm-toolkit-2020'], env => '{"exposure": "internal", "sealed": false}') s),
	(SELECT determinism_hash FROM stellapolicy.policy_runs WHERE run_id = :'r_sealed2'),
	'a simulation in sealed mode evaluates the env a real run records (sealed: true), and gets its hash');
SET LOCAL stellapolicy.sealed = off;
SELECT isnt((SELECT s->'candidate'->>'hash' FROM stellapolicy.stella_policy_simulate('internal',
			version => (SELECT version FROM stellapolicy.policy_version WHERE tenant = 'runs' AND policy_id = 'internal' AND status = 'active'),
			sbom_set => ARRAY['npm-toolkit-2020'], env => '{"exposure": "internal", "sealed": true}') s),
	(SELECT determinism_hash FROM stellapolicy.policy_runs WHERE run_id = :'r_sealed2'),
	'outside sealed mode a simulation drops a requested "sealed", as a run does');
-- An SBOM taken out of runs loses its findings at the next full run.
CREATE TEMP TABLE trivy_before AS SELECT finding_key FROM stellapolicy.effective_finding
	WHERE policy_id = 'internal' AND sbom_id = 'go-trivy-v0.58.0';
SELECT stellapolicy.sbom_set_active('go-trivy-v0.58.0', false);
SELECT stellapolicy.stella_policy_run('internal', wait => true, evaluation_time => '2025-06-01T00:00:00Z',
	env => '{"exposure": "internal"}') AS r_inactive \gset
SELECT results_eq(format($$SELECT (stats->>'findingsRemoved')::bigint, jsonb_array_length(inputs->'sbomSet') FROM stellapolicy.policy_runs WHERE run_id = %L$$, :'r_inactive'),
	$$SELECT count(*), 15 FROM trivy_before$$, 'a full run removes the findings of an SBOM taken out of runs, and only those');
SELECT is((SELECT count(*) FROM stellapolicy.effective_finding WHERE policy_id = 'internal' AND sbom_id = 'go-trivy-v0.58.0'), 0::bigint,
	'they are gone from the current table');
SELECT set_eq(format($$SELECT finding_key FROM stellapolicy.effective_finding_history WHERE changed_by_run = %L AND operation = 'delete'$$, :'r_inactive'),
	$$SELECT finding_key FROM trivy_before$$, 'and the history keeps each of them');
SELECT stellapolicy.sbom_set_active('go-trivy-v0.58.0', true);
SELECT matches(pg_temp.err($$SELECT stellapolicy.policy_create('x''; DROP TABLE stellapolicy.sbom; --', 'policy "q" syntax "stella-dsl@1" { }')$$),
	'^22023: invalid policy id', 'a policy id with quotes and SQL is refused');
SELECT stellapolicy.policy_create('Org.Policy:v1-x', 'policy "q" syntax "stella-dsl@1" { rule r { when true then status := "blocked" because "b" } }');
SELECT stellapolicy.policy_submit('Org.Policy:v1-x', 1), stellapolicy.policy_approve('Org.Policy:v1-x', 1),
	   stellapolicy.policy_activate('Org.Policy:v1-x', 1);
SELECT stellapolicy.stella_policy_run('Org.Policy:v1-x', wait => true, sbom_set => ARRAY['npm-toolkit-2020']) AS r9 \gset
SELECT is((SELECT string_agg(c.relname || ' ' || pg_get_expr(c.relpartbound, c.oid), ', ') FROM pg_class c
		   JOIN pg_inherits i ON i.inhrelid = c.oid
		   WHERE i.inhparent = 'stellapolicy.effective_finding'::regclass AND c.relname LIKE '%org_policy%'),
	'effective_finding_org_policy_v1_x_' || left(encode(sha256('Org.Policy:v1-x'), 'hex'), 8) || ' FOR VALUES IN (''Org.Policy:v1-x'')',
	'the partition of a policy has a safe name and holds exactly that policy id');
SELECT * FROM finish();
ROLLBACK;
