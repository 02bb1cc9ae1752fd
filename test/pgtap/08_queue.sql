-- The queue's rules, checked by calling what the workers call: the order
-- of lease_run() (emergency first, tenants in turn, the per-tenant cap,
-- runs of one policy never overlapping, ageing, backoff), the launcher's
-- housekeeping, the change stream's folding, cancel and wait, and who may
-- call what.  The workers themselves are tested in test/scripts/worker.t.
BEGIN;
SELECT plan(28);
SET LOCAL stellapolicy.tenant = 'queue';

\i test/pgtap/helpers.psql

-- Nothing queued by other files takes part.
UPDATE stellapolicy.policy_runs SET status = 'canceled' WHERE status IN ('queued', 'running');
DELETE FROM stellapolicy.queue_turn;

CREATE FUNCTION pg_temp.q(id text, ten text, pol text, prio text DEFAULT 'normal',
						  age interval DEFAULT '0', nb timestamptz DEFAULT NULL) RETURNS void
LANGUAGE sql AS $$
	INSERT INTO stellapolicy.policy_runs (run_id, tenant, policy_id, policy_version, policy_digest, mode,
		priority, inputs, evaluation_time, queued_at, not_before)
	VALUES (id, ten, pol, 1, 'sha256:00', 'full', prio, '{}', now(), clock_timestamp() - age, nb)
$$;
CREATE FUNCTION pg_temp.lease(cap integer DEFAULT 10) RETURNS text LANGUAGE sql AS $$
	SELECT stellapolicy.lease_run(4242, '1 minute', cap, '5 minutes')
$$;
CREATE FUNCTION pg_temp.done(id text) RETURNS void LANGUAGE sql AS $$
	UPDATE stellapolicy.policy_runs SET status = 'succeeded', lease_owner = NULL WHERE run_id = id
$$;

-- Emergency first, whatever the tenant and age.
SELECT pg_temp.q('a1', 'A', 'pa1', 'normal', '1 minute');
SELECT pg_temp.q('b1', 'B', 'pb1', 'emergency');
SELECT is(pg_temp.lease(), 'b1', 'an emergency run is leased first');
SELECT results_eq($$SELECT status, lease_owner, attempts, lease_expires > clock_timestamp() FROM stellapolicy.policy_runs WHERE run_id = 'b1'$$,
	$$VALUES ('running', 4242, 1, true)$$, 'a lease: running, the worker''s pid, one attempt, an expiry');
SELECT pg_temp.done('b1');

-- Tenants take turns: A has three runs, B one; B's waits for one of A's at most.
SELECT pg_temp.q('a2', 'A', 'pa2', 'normal', '50 seconds');
SELECT pg_temp.q('a3', 'A', 'pa3', 'normal', '40 seconds');
SELECT pg_temp.q('b2', 'B', 'pb2', 'normal', '1 second');
SELECT is(pg_temp.lease(), 'a1', 'tenant A has not been served yet: its oldest run');
SELECT pg_temp.done('a1');
SELECT is(pg_temp.lease(), 'b2', 'then tenant B, although A queued earlier');
SELECT pg_temp.done('b2');
SELECT is(pg_temp.lease(), 'a2', 'then A again');

-- At most max_active_runs_per_tenant running runs of a tenant.
SELECT pg_temp.q('b3', 'B', 'pb3');
SELECT is(pg_temp.lease(1), 'b3', 'with a cap of 1, A (one running) is passed over for B');
SELECT is(pg_temp.lease(1), NULL, 'and nothing is leased while both tenants are at their cap');
SELECT is(pg_temp.lease(2), 'a3', 'a cap of 2 lets A run a second one');
SELECT pg_temp.done('a2');
SELECT pg_temp.done('a3');
SELECT pg_temp.done('b3');

-- Runs of one policy never overlap.
SELECT pg_temp.q('c1', 'C', 'pc', 'normal', '10 seconds');
SELECT pg_temp.q('c2', 'C', 'pc', 'emergency');
SELECT is(pg_temp.lease(), 'c2', 'the emergency run of policy pc');
SELECT is(pg_temp.lease(), NULL, 'its other run waits while one of the policy runs');
SELECT pg_temp.done('c2');
SELECT is(pg_temp.lease(), 'c1', 'and follows it');
SELECT pg_temp.done('c1');

-- Ageing: a normal run that has waited 11 minutes (two steps of 5) beats a fresh high one.
SELECT pg_temp.q('d1', 'D', 'pd1', 'high');
SELECT pg_temp.q('d2', 'D', 'pd2', 'normal', '11 minutes');
SELECT is(pg_temp.lease(), 'd2', 'a normal run aged two steps is leased before a fresh high one');
SELECT pg_temp.done('d2');
SELECT is(pg_temp.lease(), 'd1', 'then the high one');
SELECT pg_temp.done('d1');

-- Backoff: a run is not leased before not_before.
SELECT pg_temp.q('e1', 'E', 'pe', 'emergency', '0', clock_timestamp() + interval '1 hour');
SELECT is(pg_temp.lease(), NULL, 'a run waiting out its backoff is not leased');
UPDATE stellapolicy.policy_runs SET not_before = clock_timestamp() - interval '1 second' WHERE run_id = 'e1';
SELECT is(pg_temp.lease(), 'e1', 'once its time has come, it is');

-- Housekeeping: leases of workers that are gone go back to the queue, or fail when out of attempts.
UPDATE stellapolicy.policy_runs SET attempts = 3 WHERE run_id = 'e1';
SELECT pg_temp.q('f1', 'F', 'pf');
SELECT is(pg_temp.lease(), 'f1', 'a second lease by the same worker');
SELECT is(stellapolicy.queue_housekeeping(ARRAY[1, 2], '1 minute', 3, '0'), 2, 'with worker 4242 gone, both leases are given back');
SELECT results_eq($$SELECT run_id, status, lease_owner IS NULL, error LIKE 'lease released: worker 4242 ended during attempt %' FROM stellapolicy.policy_runs WHERE run_id IN ('e1', 'f1') ORDER BY run_id$$,
	$$VALUES ('e1', 'failed', true, true), ('f1', 'queued', true, true)$$, 'the run out of attempts fails, the other is queued again');
SELECT is(pg_temp.lease(), 'f1', 'and leased again');
SELECT is(stellapolicy.queue_housekeeping(ARRAY[4242], '10 minutes', 3, '0'), 0, 'a live worker keeps its lease ...');
SELECT ok((SELECT lease_expires > clock_timestamp() + interval '9 minutes' FROM stellapolicy.policy_runs WHERE run_id = 'f1'), '... renewed');
SELECT pg_temp.q('g1', 'G', 'pg', 'normal', '3 hours');
SELECT stellapolicy.queue_housekeeping(ARRAY[4242], '1 minute', 3, '2 hours');
SELECT results_eq($$SELECT status, error FROM stellapolicy.policy_runs WHERE run_id = 'g1'$$,
	$$VALUES ('canceled', 'canceled: queued longer than stellapolicy.run_ttl (02:00:00)')$$, 'a run queued past run_ttl is canceled');

-- The change stream: one change per insert, a repeat of the latest change of a key folded.
SELECT stellapolicy.record_change('queue', 'advisory', 'GHSA-q-1', 'sha256:aa');
SELECT stellapolicy.record_change('queue', 'advisory', 'GHSA-q-1', 'sha256:aa');
SELECT stellapolicy.record_change('queue', 'advisory', 'GHSA-q-1', 'sha256:bb');
SELECT stellapolicy.record_change('queue', 'advisory', 'GHSA-q-1', 'sha256:aa');
SELECT is((SELECT count(*) FROM stellapolicy.input_change WHERE tenant = 'queue' AND key = 'GHSA-q-1'), 3::bigint,
	'a change that repeats the latest of its key is folded; a return to an earlier state is not');

-- Cancel and wait: errors for what does not exist or cannot work.
SELECT matches(pg_temp.err($$SELECT stellapolicy.stella_policy_cancel('run:none')$$), '^P0002: run "run:none" does not exist', 'cancel of an unknown run');
SELECT matches(pg_temp.err($$SELECT stellapolicy.stella_policy_wait('run:none', '1 second')$$), '^P0002: run "run:none" does not exist', 'wait for an unknown run');

-- Who may call what.
SELECT ok(has_function_privilege('stellapolicy_operator', 'stellapolicy.stella_policy_cancel(text)', 'EXECUTE')
	AND NOT has_function_privilege('stellapolicy_author', 'stellapolicy.stella_policy_cancel(text)', 'EXECUTE'),
	'operators cancel runs, authors do not');
SELECT ok(has_function_privilege('stellapolicy_reader', 'stellapolicy.stella_policy_wait(text, interval)', 'EXECUTE')
	AND has_function_privilege('stellapolicy_admin', 'stellapolicy.schedule_nightly(text, text)', 'EXECUTE')
	AND NOT has_function_privilege('stellapolicy_operator', 'stellapolicy.schedule_nightly(text, text)', 'EXECUTE'),
	'readers wait for runs; only admins schedule nightly runs');
SELECT ok(NOT has_function_privilege('stellapolicy_admin', 'stellapolicy.lease_run(integer, interval, integer, interval)', 'EXECUTE')
	AND NOT has_function_privilege('stellapolicy_admin', 'stellapolicy.queue_housekeeping(integer[], interval, integer, interval)', 'EXECUTE')
	AND NOT has_function_privilege('stellapolicy_admin', 'stellapolicy.record_change(text, text, text, text)', 'EXECUTE'),
	'the workers'' own functions are granted to no role');

SELECT * FROM finish();
ROLLBACK;
