-- Retention with prune(): which runs go (old, finished, needed by nothing)
-- and which stay (unfinished, each policy's baseline, the newest of each
-- policy and mode, runs behind current findings or a guard); their events
-- and explain traces go with them; changes go only once every active
-- policy's incremental runs have covered them, and an incremental run that
-- might have missed a pruned change evaluates the whole tenant; other
-- tenants are untouched; the append-only rules hold afterwards; bad input
-- and roles.
BEGIN;
SELECT plan(30);

\i test/pgtap/helpers.psql

CREATE ROLE sp_r_operator LOGIN;
CREATE ROLE sp_r_admin LOGIN;
GRANT stellapolicy_operator TO sp_r_operator;
GRANT stellapolicy_admin TO sp_r_admin;
SELECT stellapolicy.tenant_grant('ret', 'sp_r_operator'), stellapolicy.tenant_grant('ret', 'sp_r_admin');

-- A run that only a test writes: tenant, policy, status, finished that long ago.
CREATE FUNCTION pg_temp.old_run(id text, ten text, pol text, st text, age interval) RETURNS void
LANGUAGE sql AS $$
	INSERT INTO stellapolicy.policy_runs (run_id, tenant, policy_id, policy_version, policy_digest, mode,
		status, priority, inputs, evaluation_time, queued_at, started_at, finished_at)
	VALUES (id, ten, pol, 1, 'sha256:00', 'full', st, 'normal', '{}', now(),
			clock_timestamp() - age, clock_timestamp() - age,
			CASE WHEN st IN ('succeeded', 'failed', 'canceled') THEN clock_timestamp() - age END)
$$;
-- Changes are append-only; a test ages them behind the triggers' back.
CREATE FUNCTION pg_temp.age_changes(ten text, age interval) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	SET LOCAL session_replication_role = replica;
	UPDATE stellapolicy.input_change SET at = at - age WHERE tenant = ten;
	SET LOCAL session_replication_role = origin;
END $$;
CREATE FUNCTION pg_temp.runs(ten text) RETURNS text[] LANGUAGE sql AS $$
	SELECT array_agg(run_id ORDER BY run_id COLLATE "C") FROM stellapolicy.policy_runs WHERE tenant = ten
$$;

-- Tenant ret: one SBOM, one advisory, policy keep.
SET LOCAL stellapolicy.tenant = 'ret';
SELECT stellapolicy.sbom_import('{"bomFormat":"CycloneDX","specVersion":"1.5","components":[{"name":"lodash","purl":"pkg:npm/lodash@4.17.15"},{"name":"ms","purl":"pkg:npm/ms@2.0.0"}]}', 'app');
SELECT stellapolicy.advisory_ingest('{"id":"GHSA-r-0001","modified":"2025-01-01T00:00:00Z","database_specific":{"severity":"HIGH"},"affected":[{"package":{"ecosystem":"npm","name":"lodash"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"4.17.21"}]}]}]}');
\set src 'policy "K" syntax "stella-dsl@1" { rule high { when severity.normalized >= "High" then status := "blocked" because "high" } }'
SELECT stellapolicy.policy_create('keep', :'src');
SELECT stellapolicy.policy_submit('keep', 1), stellapolicy.policy_approve('keep', 1), stellapolicy.policy_activate('keep', 1);

-- r1 writes the finding; r2 (with explain traces) and r3 write nothing;
-- ri is the incremental baseline; rf, failed, is the newest full run.
SELECT stellapolicy.stella_policy_run('keep', wait => true) AS r1 \gset
SELECT stellapolicy.stella_policy_run('keep', wait => true, capture_explain => true) AS r2 \gset
SELECT stellapolicy.stella_policy_run('keep', wait => true) AS r3 \gset
SELECT stellapolicy.stella_policy_run('keep', mode => 'incremental', wait => true) AS ri \gset
SELECT stellapolicy.stella_policy_run('keep', sbom_set => ARRAY['nope'], wait => true) AS rf \gset
-- A guard (cleared since) names r3.
INSERT INTO stellapolicy.policy_guard (tenant, policy_id, run_id, recorded_hash, replayed_hash, cleared_at, cleared_by, clear_reason)
VALUES ('ret', 'keep', :'r3', 'sha256:aa', 'sha256:bb', now(), current_user, 'test');
-- All of them 100 days old, in the same order.
UPDATE stellapolicy.policy_runs SET queued_at = queued_at - interval '100 days',
	started_at = started_at - interval '100 days', finished_at = finished_at - interval '100 days'
WHERE tenant = 'ret';
-- Policy old has two old runs; a queued run of keep waits since long ago.
SELECT pg_temp.old_run('o1', 'ret', 'old', 'succeeded', '200 days');
SELECT pg_temp.old_run('o2', 'ret', 'old', 'canceled', '150 days');
SELECT pg_temp.old_run('q1', 'ret', 'keep', 'queued', '300 days');
-- Tenant ret2: two old runs and changes of its own.
SELECT pg_temp.old_run('t1', 'ret2', 'other', 'succeeded', '200 days');
SELECT pg_temp.old_run('t2', 'ret2', 'other', 'succeeded', '150 days');
SET LOCAL stellapolicy.tenant = 'ret2';
SELECT stellapolicy.sbom_import('{"bomFormat":"CycloneDX","specVersion":"1.5","components":[{"name":"ms","purl":"pkg:npm/ms@2.0.0"}]}', 'other-app');
SELECT pg_temp.age_changes('ret2', '100 days');
SET LOCAL stellapolicy.tenant = 'ret';
SELECT pg_temp.age_changes('ret', '100 days');

SELECT ok((SELECT count(*) FROM stellapolicy.policy_explain WHERE run_id = :'r2') > 0, 'r2 has explain traces');
SELECT count(*) AS doomed_events FROM stellapolicy.policy_run_events WHERE run_id IN (:'r2', 'o1') \gset
SELECT count(*) AS doomed_traces FROM stellapolicy.policy_explain WHERE run_id = :'r2' \gset
SELECT count(*) AS ret_changes FROM stellapolicy.input_change WHERE tenant = 'ret' \gset
SELECT count(*) AS ret2_changes FROM stellapolicy.input_change WHERE tenant = 'ret2' \gset
SELECT ok(:ret_changes > 0 AND :ret2_changes > 0, 'both tenants have changes, aged 100 days');
SELECT isnt((SELECT previous FROM stellapolicy.incremental_scope('ret', 'keep', pg_current_snapshot()::text)), NULL,
	'before pruning, an incremental run of keep starts from its baseline');

-- Bad input.
SELECT is(pg_temp.err($$SELECT stellapolicy.prune('59 minutes')$$),
	'22023: older_than must be at least 1 hour, not 00:59:00', 'less than an hour is refused');
SELECT is(pg_temp.err($$SELECT stellapolicy.prune(NULL)$$),
	'22023: older_than must be at least 1 hour, not NULL', 'NULL is refused');

-- Prune tenant ret, 30 days.
SELECT stellapolicy.prune('30 days') AS p1 \gset
SELECT is(pg_temp.runs('ret'), ARRAY['o2', 'q1', :'r1', :'r3', :'ri', :'rf'],
	'kept: o2 (newest of old), q1 (queued), r1 (behind the finding), r3 (guard), rf (newest full), ri (baseline); o1 and r2 are gone');
SELECT results_eq(format($$SELECT (%L::jsonb)->>'tenant', ((%L::jsonb)->>'runs')::int, ((%L::jsonb)->>'runEvents')::bigint,
	((%L::jsonb)->>'explainTraces')::bigint, ((%L::jsonb)->>'changes')::int$$, :'p1', :'p1', :'p1', :'p1', :'p1'),
	format($$VALUES ('ret', 2, %s::bigint, %s::bigint, 0)$$, :doomed_events, :doomed_traces),
	'the result counts the two runs, their events and traces, and no change');
SELECT ok((:'p1'::jsonb)->>'before' ~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$', 'and gives the cutoff in UTC');
SELECT is((SELECT count(*) FROM stellapolicy.policy_run_events WHERE run_id IN (:'r2', 'o1')), 0::bigint, 'their events are gone');
SELECT is((SELECT count(*) FROM stellapolicy.policy_explain WHERE run_id = :'r2'), 0::bigint, 'their explain traces are gone');
SELECT results_eq(format($$SELECT to_status FROM stellapolicy.policy_run_events WHERE run_id = %L ORDER BY event_id$$, :'r1'),
	$$VALUES ('queued'), ('running'), ('succeeded')$$, 'the events of kept runs stay');
SELECT is((SELECT count(*) FROM stellapolicy.effective_finding WHERE tenant = 'ret' AND run_id = :'r1'), 1::bigint,
	'the finding still names a run that exists');
SELECT is((SELECT count(*) FROM stellapolicy.input_change WHERE tenant = 'ret'), :ret_changes::bigint,
	'no change goes while the active policy''s baseline has not covered them');
SELECT is(pg_temp.runs('ret2'), ARRAY['t1', 't2'], 'the other tenant''s runs are untouched');
SELECT is((SELECT count(*) FROM stellapolicy.input_change WHERE tenant = 'ret2'), :ret2_changes::bigint,
	'and so are its changes');

-- The append-only rules hold again after the call.
SELECT is(current_setting('session_replication_role'), 'origin', 'the caller''s session_replication_role is unchanged');
SELECT matches(pg_temp.err($$DELETE FROM stellapolicy.policy_run_events WHERE run_id = 'o2'$$),
	'^55000: table "policy_run_events" is append-only', 'events are append-only again');
SELECT matches(pg_temp.err($$DELETE FROM stellapolicy.input_change WHERE tenant = 'ret'$$),
	'^55000: table "input_change" is append-only', 'and so are changes');

-- With no active policy, the aged changes go and the horizon moves to
-- them; keep's next incremental run would then evaluate the whole tenant.
SELECT stellapolicy.policy_archive('keep', 1);
SELECT stellapolicy.prune('30 days') AS p2 \gset
SELECT is(((:'p2'::jsonb)->>'changes')::bigint, :ret_changes::bigint, 'with no active policy, the aged changes go');
SELECT is(((:'p2'::jsonb)->>'runs')::int, 0, 'a second prune finds no run to delete');
SELECT is((SELECT count(*) FROM stellapolicy.input_change WHERE tenant = 'ret'), 0::bigint, 'the tenant has no change left');
SELECT is((SELECT horizon FROM stellapolicy.change_horizon WHERE tenant = 'ret'), pg_current_xact_id(),
	'the horizon is the newest pruned change''s transaction');
SELECT is((SELECT previous FROM stellapolicy.incremental_scope('ret', 'keep', pg_current_snapshot()::text)), NULL,
	'an incremental run of keep now evaluates the whole tenant');
SELECT is((SELECT count(*) FROM stellapolicy.input_change WHERE tenant = 'ret2'), :ret2_changes::bigint,
	'the other tenant''s changes are still untouched');

-- Every tenant at once, for a superuser; the caller's tenant is kept.
SELECT pg_temp.old_run('t0', 'ret2', 'other', 'succeeded', '300 days');
SELECT results_eq($$SELECT p->>'tenant', (p->>'runs')::int FROM stellapolicy.prune_all_tenants('30 days') p
					WHERE p->>'tenant' IN ('ret', 'ret2')$$,
	$$VALUES ('ret', 0), ('ret2', 2)$$, 'prune_all_tenants() prunes each tenant: ret2 loses t0 and t1, keeps t2');
SELECT is(pg_temp.runs('ret2'), ARRAY['t2'], 'ret2 keeps its newest run');
SELECT is(current_setting('stellapolicy.tenant'), 'ret', 'the caller''s tenant setting is restored');

-- Roles.
SELECT matches(pg_temp.as_role('sp_r_operator', 'ret', $$SELECT stellapolicy.prune('30 days')$$),
	'^42501: permission denied for function prune', 'an operator cannot prune');
SELECT matches(pg_temp.as_role('sp_r_admin', 'ret', $$SELECT stellapolicy.prune('30 days')->>'tenant'$$),
	'^ret$', 'an admin prunes its tenant');
SELECT matches(pg_temp.as_role('sp_r_admin', 'ret', $$SELECT count(*) FROM stellapolicy.prune_all_tenants('30 days')$$),
	'^42501: permission denied for function prune_all_tenants', 'only a superuser prunes every tenant');

SELECT * FROM finish();
ROLLBACK;
