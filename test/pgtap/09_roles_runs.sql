-- The role matrix for runs, findings and monitoring: for each role
-- (reader, author, operator, admin) and a plain user, what it may and may
-- not do; no role but the engine writes findings or their history; every
-- SECURITY DEFINER function pins its search_path; tenant and policy names
-- with quotes, dots, unicode and SQL are handled safely.
BEGIN;
SELECT plan(48);

\i test/pgtap/helpers.psql

CREATE ROLE sp_m_reader LOGIN;
CREATE ROLE sp_m_author LOGIN;
CREATE ROLE sp_m_operator LOGIN;
CREATE ROLE sp_m_admin LOGIN;
CREATE ROLE sp_m_plain LOGIN;
CREATE ROLE sp_m_monitor LOGIN;
GRANT stellapolicy_reader TO sp_m_reader;
GRANT stellapolicy_author TO sp_m_author;
GRANT stellapolicy_operator TO sp_m_operator;
GRANT stellapolicy_admin TO sp_m_admin;
GRANT pg_monitor TO sp_m_monitor;


-- A tenant whose name holds quotes, a dot, unicode and SQL, and a plain one.
\set evil 'o''hara.ünï"; DROP TABLE stellapolicy.sbom; --'
SELECT stellapolicy.tenant_grant(t, r)
FROM unnest(ARRAY[:'evil', 'rival']) t,
	 unnest(ARRAY['sp_m_reader', 'sp_m_author', 'sp_m_operator', 'sp_m_admin']) r;
SELECT set_config('stellapolicy.tenant', :'evil', true);
SELECT stellapolicy.sbom_import('{"bomFormat":"CycloneDX","specVersion":"1.5","components":[{"name":"lodash","purl":"pkg:npm/lodash@4.17.15"},{"name":"ms","purl":"pkg:npm/ms@2.0.0"}]}', 'app.v1');
SELECT stellapolicy.advisory_ingest('{"id":"GHSA-m-0001","modified":"2025-01-01T00:00:00Z","database_specific":{"severity":"HIGH"},"affected":[{"package":{"ecosystem":"npm","name":"lodash"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"4.17.21"}]}]}]}');
SELECT set_config('stellapolicy.tenant', 'rival', true);
SELECT stellapolicy.sbom_import('{"bomFormat":"CycloneDX","specVersion":"1.5","components":[{"name":"lodash","purl":"pkg:npm/lodash@4.17.10"}]}', 'rival-app');
SELECT stellapolicy.advisory_ingest('{"id":"GHSA-m-0001","modified":"2025-01-01T00:00:00Z","database_specific":{"severity":"HIGH"},"affected":[{"package":{"ecosystem":"npm","name":"lodash"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"4.17.21"}]}]}]}');
\set src 'policy "M" syntax "stella-dsl@1" { rule high { when severity.normalized >= "High" then status := "blocked" because "high" } }'
SELECT stellapolicy.policy_create('Org.Pol:v1-m', :'src');
SELECT stellapolicy.policy_submit('Org.Pol:v1-m', 1), stellapolicy.policy_approve('Org.Pol:v1-m', 1), stellapolicy.policy_activate('Org.Pol:v1-m', 1);
SELECT stellapolicy.stella_policy_run('Org.Pol:v1-m', wait => true);
RESET stellapolicy.tenant;

-- Names: the odd tenant runs like any other; the partition name is plain.
SELECT is(pg_temp.as_role('sp_m_author', :'evil', $$SELECT stellapolicy.policy_create('Org.Pol:v1-m', 'policy "M" syntax "stella-dsl@1" { rule high { when severity.normalized >= "High" then status := "blocked" because "high" } }')$$),
	'1', 'an author creates a policy with dots and a colon in its id, in a tenant named with quotes, unicode and SQL');
SELECT is(pg_temp.as_role('sp_m_author', :'evil', $$SELECT stellapolicy.policy_submit('Org.Pol:v1-m', 1)$$), 'submitted', 'the author submits it');
SELECT matches(pg_temp.as_role('sp_m_author', :'evil', $$SELECT stellapolicy.policy_approve('Org.Pol:v1-m', 1)$$), '^42501: permission denied for function policy_approve', 'the author cannot approve it');
SELECT is(pg_temp.as_role('sp_m_admin', :'evil', $$SELECT stellapolicy.policy_approve('Org.Pol:v1-m', 1)$$), 'approved', 'the admin approves it');
SELECT is(pg_temp.as_role('sp_m_admin', :'evil', $$SELECT stellapolicy.policy_activate('Org.Pol:v1-m', 1)$$), 'active', 'and activates it');

-- Running and canceling.
SELECT matches(pg_temp.as_role('sp_m_reader', :'evil', $$SELECT stellapolicy.stella_policy_run('Org.Pol:v1-m', wait => true)$$), '^42501: permission denied for function stella_policy_run', 'a reader cannot run');
SELECT matches(pg_temp.as_role('sp_m_author', :'evil', $$SELECT stellapolicy.stella_policy_run('Org.Pol:v1-m', wait => true)$$), '^42501: permission denied for function stella_policy_run', 'an author cannot run');
SELECT matches(pg_temp.as_role('sp_m_plain', :'evil', $$SELECT stellapolicy.stella_policy_run('Org.Pol:v1-m', wait => true)$$), '^42501: permission denied', 'a plain user cannot run');
SELECT matches(pg_temp.as_role('sp_m_operator', :'evil', $$SELECT stellapolicy.stella_policy_run('Org.Pol:v1-m', wait => true)$$), '^run:Org\.Pol:v1-m:', 'an operator runs the policy');
SELECT is((SELECT count(*) FROM stellapolicy.effective_finding WHERE tenant = :'evil'), 1::bigint, 'the run wrote its finding under the odd tenant''s exact name');
SELECT is((SELECT count(*) FROM pg_class c JOIN pg_inherits i ON i.inhrelid = c.oid
		   WHERE i.inhparent = 'stellapolicy.effective_finding'::regclass AND c.relname ~ '^effective_finding_org_pol_v1_m_[0-9a-f]{8}$'), 1::bigint,
	'the policy''s partition has a plain name made of its id and a hash');
SELECT is((SELECT pg_get_constraintdef(k.oid) FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
		   WHERE k.contype = 'p' AND c.relname ~ '^effective_finding_org_pol_v1_m_[0-9a-f]{8}$'),
	'PRIMARY KEY (tenant, policy_id, sbom_id, finding_key)', 'the partition is keyed by tenant, policy, SBOM and finding key');
SELECT pg_temp.as_role('sp_m_operator', :'evil', $$SELECT stellapolicy.stella_policy_run('Org.Pol:v1-m')$$) AS queued \gset
SELECT is(pg_temp.as_role('sp_m_operator', :'evil', format('SELECT stellapolicy.stella_policy_cancel(%L)', :'queued')), 'true', 'an operator cancels a queued run');
SELECT is(pg_temp.as_role('sp_m_admin', :'evil', format('SELECT stellapolicy.stella_policy_cancel(%L)', :'queued')), 'true', 'the admin may too (a second cancel is harmless)');
SELECT matches(pg_temp.as_role('sp_m_reader', :'evil', format('SELECT stellapolicy.stella_policy_cancel(%L)', :'queued')), '^42501: permission denied for function stella_policy_cancel', 'a reader cannot cancel');
SELECT matches(pg_temp.as_role('sp_m_author', :'evil', format('SELECT stellapolicy.stella_policy_cancel(%L)', :'queued')), '^42501: permission denied for function stella_policy_cancel', 'an author cannot cancel');
SELECT matches(pg_temp.as_role('sp_m_operator', 'rival', format('SELECT stellapolicy.stella_policy_cancel(%L)', :'queued')), '^P0002: run ".*" does not exist', 'another tenant''s run does not exist for an operator');
SELECT is(pg_temp.as_role('sp_m_reader', :'evil', format('SELECT stellapolicy.stella_policy_wait(%L, ''1 second'')', :'queued')), 'canceled', 'a reader waits for a run');

-- Compiling and simulating.
SELECT is(pg_temp.as_role('sp_m_author', :'evil', $$SELECT (stellapolicy.policy_compile('policy "M" syntax "stella-dsl@1" { rule r { when true then status := "affected" because "b" } }'))->>'digest' ~ '^sha256:[0-9a-f]{64}$'$$),
	'true', 'an author compiles');
SELECT matches(pg_temp.as_role('sp_m_reader', :'evil', $$SELECT stellapolicy.policy_compile('x')$$), '^42501: permission denied for function policy_compile', 'a reader does not compile');
SELECT ok(pg_temp.as_role('sp_m_author', :'evil', $$SELECT (stellapolicy.stella_policy_simulate('Org.Pol:v1-m', 1, ARRAY['app.v1']))->'diff'->>'unchanged'$$) ~ '^\d+$', 'an author simulates');
SELECT matches(pg_temp.as_role('sp_m_operator', :'evil', $$SELECT stellapolicy.stella_policy_simulate('Org.Pol:v1-m', 1, ARRAY['app.v1'])$$), '^42501: permission denied for function stella_policy_simulate', 'an operator does not simulate');
SELECT matches(pg_temp.as_role('sp_m_plain', :'evil', $$SELECT stellapolicy.stella_policy_simulate('Org.Pol:v1-m', 1, ARRAY['app.v1'])$$), '^42501: permission denied', 'a plain user does not simulate');

-- Reading findings and monitoring: own tenant only.
SELECT is(pg_temp.as_role('sp_m_reader', :'evil', 'SELECT count(*) FROM stellapolicy.effective_finding'), '1', 'a reader reads its tenant''s findings');
SELECT is(pg_temp.as_role('sp_m_reader', :'evil', $$SELECT count(*) FROM stellapolicy.effective_finding WHERE tenant = 'rival'$$), '0', '... and none of another tenant''s, even by name');
SELECT is(pg_temp.as_role('sp_m_reader', 'rival', 'SELECT string_agg(DISTINCT tenant, '','') FROM stellapolicy.effective_finding'), 'rival', 'acting for the other tenant shows only that one');
SELECT matches(pg_temp.as_role('sp_m_plain', :'evil', 'SELECT count(*) FROM stellapolicy.effective_finding'), '^42501: permission denied', 'a plain user reads no findings');
SELECT matches(pg_temp.as_role('sp_m_plain', 'default', 'SELECT count(*) FROM stellapolicy.effective_finding_history'), '^42501: permission denied', 'nor their history');
SELECT is(pg_temp.as_role('sp_m_reader', :'evil', 'SELECT string_agg(DISTINCT tenant, '','') FROM stellapolicy.pg_stat_policy_runs'), :'evil', 'pg_stat_policy_runs shows a reader its tenant only');
SELECT is(pg_temp.as_role('sp_m_reader', :'evil', 'SELECT count(DISTINCT tenant) FROM stellapolicy.pg_stat_policy_queue'), '1', 'so does pg_stat_policy_queue');
SELECT is(pg_temp.as_role('sp_m_reader', :'evil', 'SELECT count(*) FROM stellapolicy.policy_alerts WHERE tenant <> stellapolicy.current_tenant()'), '0', 'and policy_alerts');
SELECT is(pg_temp.as_role('sp_m_reader', :'evil', $$SELECT position('tenant="rival"' in stellapolicy.metrics()) = 0 AND position('policy_run_seconds_count' in stellapolicy.metrics()) > 0$$), 'true', 'metrics() shows a reader its own tenant''s series only');
SELECT is(pg_temp.as_role('sp_m_reader', :'evil', $$SELECT position('tenant=' || stellapolicy.prom_label(stellapolicy.current_tenant()) in stellapolicy.metrics()) > 0
	AND stellapolicy.prom_label(stellapolicy.current_tenant()) = '"o''hara.ünï\"; DROP TABLE stellapolicy.sbom; --"'$$), 'true', '... with the double quote in the tenant''s name escaped as the exposition format asks');
SELECT is(pg_temp.as_role('sp_m_monitor', 'default', $$SELECT position('tenant="rival"' in stellapolicy.metrics()) > 0$$), 'true', 'a member of pg_monitor sees every tenant''s series');
SELECT matches(pg_temp.as_role('sp_m_plain', 'default', 'SELECT stellapolicy.metrics()'), '^42501: permission denied', 'a plain user gets no metrics');
SELECT matches(pg_temp.as_role('sp_m_plain', 'default', 'SELECT count(*) FROM stellapolicy.pg_stat_policy_runs'), '^42501: permission denied', 'nor the views');

-- Nobody but the engine writes findings or history.
SELECT is((SELECT count(*) FROM unnest(ARRAY['sp_m_reader', 'sp_m_author', 'sp_m_operator', 'sp_m_admin', 'sp_m_plain']) r,
				unnest(ARRAY[
					$$INSERT INTO stellapolicy.effective_finding SELECT * FROM stellapolicy.effective_finding LIMIT 1 RETURNING 1$$,
					$$UPDATE stellapolicy.effective_finding SET status = 'ignored' RETURNING 1$$,
					$$DELETE FROM stellapolicy.effective_finding RETURNING 1$$,
					$$INSERT INTO stellapolicy.effective_finding_history (tenant) VALUES ('x') RETURNING 1$$,
					$$UPDATE stellapolicy.effective_finding_history SET status = 'ignored' RETURNING 1$$,
					$$DELETE FROM stellapolicy.effective_finding_history RETURNING 1$$,
					$$TRUNCATE stellapolicy.effective_finding$$]) s
		   WHERE pg_temp.as_role(r, :'evil', s) !~ '^42501: permission denied'),
	0::bigint, 'no role (reader, author, operator, admin, plain) may insert, update, delete or truncate findings or history');
SELECT is((SELECT count(*) FROM unnest(ARRAY['sp_m_reader', 'sp_m_author', 'sp_m_operator', 'sp_m_admin']) r,
				unnest(ARRAY[
					$$UPDATE stellapolicy.policy_runs SET status = 'succeeded' RETURNING 1$$,
					$$INSERT INTO stellapolicy.input_change (tenant, kind, key, change_digest) VALUES ('x', 'sbom', 'x', 'x') RETURNING 1$$,
					$$DELETE FROM stellapolicy.policy_run_events RETURNING 1$$]) s
		   WHERE pg_temp.as_role(r, :'evil', s) !~ '^42501: permission denied'),
	0::bigint, 'nor the run records, their events or the change stream');
SELECT matches(pg_temp.as_role('sp_m_admin', :'evil', $$SELECT stellapolicy.lease_run(1, '1 minute', 1, '1 minute')$$), '^42501: permission denied for function lease_run', 'the workers'' functions are theirs alone');

-- With the advisory lock functions revoked from public (security.md), the
-- roles still ingest, run, queue nightly runs, replay and prune: the engine
-- takes its locks as the extension's owner.
REVOKE EXECUTE ON FUNCTION pg_advisory_lock(bigint), pg_advisory_lock_shared(bigint),
	pg_advisory_xact_lock(bigint), pg_advisory_xact_lock_shared(bigint),
	pg_advisory_lock(integer, integer), pg_advisory_lock_shared(integer, integer),
	pg_advisory_xact_lock(integer, integer), pg_advisory_xact_lock_shared(integer, integer) FROM PUBLIC;
SELECT matches(pg_temp.as_role('sp_m_plain', :'evil', $$SELECT pg_advisory_xact_lock_shared(1398293065, hashtext('rival'))$$),
	'^42501: permission denied for function pg_advisory_xact_lock_shared', 'a plain role can no longer take a tenant''s input lock');
SELECT is(pg_temp.as_role('sp_m_operator', 'rival', $$SELECT stellapolicy.advisory_ingest('{"id":"GHSA-m-0002","modified":"2025-01-02T00:00:00Z","affected":[{"package":{"ecosystem":"npm","name":"lodash"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"4.17.12"}]}]}]}')$$),
	'1', 'an operator still ingests (the input lock is taken as the owner)');
SELECT matches(pg_temp.as_role('sp_m_operator', 'rival', $$SELECT stellapolicy.stella_policy_run('Org.Pol:v1-m', wait => true)$$),
	'^run:', 'runs with wait => true');
SELECT matches(pg_temp.as_role('sp_m_operator', 'rival', $$SELECT stellapolicy.nightly_enqueue('Org.Pol:v1-m')$$),
	'^run:', 'queues the nightly run');
SELECT matches(pg_temp.as_role('sp_m_operator', 'rival', $$SELECT stellapolicy.stella_policy_run('Org.Pol:v1-m', idempotency_key => 'k-revoked')$$),
	'^run:', 'and uses idempotency keys');
SELECT matches(pg_temp.as_role('sp_m_admin', 'rival', $$SELECT stellapolicy.prune('1 day')$$), '^\{', 'an admin prunes');
GRANT EXECUTE ON FUNCTION pg_advisory_lock(bigint), pg_advisory_lock_shared(bigint),
	pg_advisory_xact_lock(bigint), pg_advisory_xact_lock_shared(bigint),
	pg_advisory_lock(integer, integer), pg_advisory_lock_shared(integer, integer),
	pg_advisory_xact_lock(integer, integer), pg_advisory_xact_lock_shared(integer, integer) TO PUBLIC;

-- Every SECURITY DEFINER function pins its search_path.
SELECT is((SELECT string_agg(p.proname, ', ') FROM pg_proc p
		   WHERE p.pronamespace = 'stellapolicy'::regnamespace AND p.prosecdef
			 AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) c WHERE c LIKE 'search\_path=%')),
	NULL, 'every SECURITY DEFINER function sets search_path');
SELECT ok((SELECT count(*) FROM pg_proc p WHERE p.pronamespace = 'stellapolicy'::regnamespace AND p.prosecdef) >= 20,
	'... and there are many of them');
SELECT is((SELECT string_agg(p.proname, ', ') FROM pg_proc p
		   WHERE p.pronamespace = 'stellapolicy'::regnamespace AND p.prosecdef
			 AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) c WHERE c LIKE 'search\_path=pg\_catalog, pg\_temp' OR c LIKE 'search\_path=pg\_catalog,pg\_temp' OR c = 'search_path=""')),
	NULL, '... to pg_catalog and pg_temp only');

SELECT * FROM finish();
ROLLBACK;
