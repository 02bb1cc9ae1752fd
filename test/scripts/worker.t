#!/usr/bin/env bash
# The background workers, for real: queued runs, incremental runs after an
# advisory, a VEX statement and an SBOM arrive, a transaction that commits
# late, idempotency under concurrent requests, cancel, priorities,
# fairness between tenants, retries with backoff, a worker killed with
# SIGKILL and a server stopped with -m immediate in the middle of a run,
# run events, and a pg_cron nightly job.  Uses the cluster of
# scripts/test.sh and its workers' database (stellapolicy.database_name),
# which it recreates.
set -u
cd "$(dirname "$0")/../.." || exit 1
source test/scripts/workers.bash

# A fresh workers' database: the launcher reconnects within seconds.
fresh_database p2 p3

# 1. The launcher and two workers, by backend type.
if workers_up 2 40 && wait_for "SELECT count(*) = 1 FROM pg_stat_activity WHERE datname = '$DB' AND backend_type = 'stellapolicy launcher'" 10; then
	ok "a launcher and stellapolicy.workers = 2 workers run in $DB, visible in pg_stat_activity"
else
	notok "launcher and workers" "$(psql -X -At -d postgres -c "SELECT datname, backend_type FROM pg_stat_activity")"
fi
check "workers_available() is true in the workers' database" "$(q -c "SELECT stellapolicy.workers_available()")" t
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS sp_noworker" -c "CREATE DATABASE sp_noworker" >/dev/null
psql -X -q -d sp_noworker -c "CREATE EXTENSION stellapolicy" >/dev/null
check "... and false in another database, where a queued run says so and waiting for it is refused with a hint" \
	"$(psql -X -q -At -d sp_noworker -c "SELECT stellapolicy.workers_available()"):$(psql -X -q -At -d sp_noworker 2>&1 <<'SQL' | grep -c 'no background worker serves database'
SET stellapolicy.tenant = 'default';
SELECT stellapolicy.policy_create('q', 'policy "q" syntax "stella-dsl@1" { rule r { when true then status := "affected" because "b" } }');
SELECT stellapolicy.policy_submit('q', 1), stellapolicy.policy_approve('q', 1), stellapolicy.policy_activate('q', 1);
SELECT stellapolicy.stella_policy_run('q') AS r \gset
SELECT stellapolicy.stella_policy_wait(:'r', '1 s');
SQL
)" "f:2"
psql -X -q -d postgres -c "DROP DATABASE sp_noworker" >/dev/null

# 2. A queued run completes through the workers, with its events heard.
out=$(psql -X -q -At -d "$DB" 2>&1 <<'SQL'
LISTEN stellapolicy_events;
SELECT stellapolicy.stella_policy_run('p', evaluation_time => '2026-06-01T00:00:00Z') AS r \gset
\echo RUN :r
SELECT 'STATUS ' || stellapolicy.stella_policy_wait(:'r', '30 s');
SELECT 1;
SQL
)
r1=$(echo "$out" | sed -n 's/^RUN //p')
check "a queued run is executed by a worker" "$(echo "$out" | sed -n 's/^STATUS //p')" succeeded
check "its record: one attempt, the lease returned, events queued, running, succeeded" \
	"$(q -c "SELECT attempts || ':' || (lease_owner IS NULL) || ':' || (SELECT string_agg(to_status, ',' ORDER BY event_id) FROM stellapolicy.policy_run_events e WHERE e.run_id = r.run_id) FROM stellapolicy.policy_runs r WHERE run_id = '$r1'")" \
	"1:true:queued,running,succeeded"
if echo "$out" | grep -q '"event": "policy.run.started"' && echo "$out" | grep -q "\"event\": \"policy.run.completed\".*\"runId\": \"$r1\"\|\"runId\": \"$r1\".*\"event\": \"policy.run.completed\"" &&
	echo "$out" | grep -q '"determinismHash": "sha256:'; then
	ok "NOTIFY on stellapolicy_events announces policy.run.started and policy.run.completed with the hash"
else
	notok "run events" "$out"
fi
r2=$(q -c "SELECT stellapolicy.stella_policy_run('p', wait => true, evaluation_time => '2026-06-01T00:00:00Z')")
check "a worker's run and a session's run of the same inputs give the same hash" \
	"$(q -c "SELECT count(DISTINCT determinism_hash) || ':' || (SELECT stats->>'findingsWritten' FROM stellapolicy.policy_runs WHERE run_id = '$r2') FROM stellapolicy.policy_runs WHERE run_id IN ('$r1', '$r2')")" "1:0"
if wait_for "SELECT coalesce(sum(s.n_tup_ins), 0) > 0 FROM pg_stat_user_tables s JOIN pg_inherits i ON i.inhrelid = s.relid
	WHERE i.inhparent = 'stellapolicy.effective_finding'::regclass AND s.relname LIKE 'effective\_finding\_p\_%'" 15; then
	ok "the worker reports its writes to the statistics while it lives (autovacuum sees them)"
else
	notok "worker statistics" "$(q -c "SELECT relname, n_tup_ins FROM pg_stat_user_tables WHERE relname LIKE 'effective_finding%'")"
fi
for p in p2 p3; do q -c "SELECT stellapolicy.stella_policy_run('$p', wait => true, evaluation_time => '2026-06-01T00:00:00Z')" >/dev/null; done

# 3. An advisory arrives: an incremental run re-evaluates exactly its tuples.
pkg=$(q -c "SELECT c.match_package FROM stellapolicy.component c JOIN stellapolicy.sbom s USING (tenant, sbom_id, revision)
	WHERE c.match_ecosystem = 'npm' AND s.is_current AND s.active GROUP BY 1 HAVING count(DISTINCT c.sbom_id) >= 2 ORDER BY count(DISTINCT c.sbom_id) DESC, 1 LIMIT 1")
expect=$(q -c "SELECT count(DISTINCT c.sbom_id) FROM stellapolicy.component c JOIN stellapolicy.sbom s USING (tenant, sbom_id, revision) WHERE c.match_ecosystem = 'npm' AND c.match_package = '$pkg' AND s.is_current AND s.active")
before=$(findings_digest "AND advisory_id <> 'GHSA-wk-0001'")
delta=$(psql -X -q -At -d "$DB" 2>&1 <<SQL
LISTEN stellapolicy_delta;
SELECT stellapolicy.advisory_ingest('$(osv GHSA-wk-0001 "$pkg")'::jsonb, 'test');
SELECT 1;
SQL
)
if echo "$delta" | grep -q '"kind": "advisory".*"key": "GHSA-wk-0001"\|"key": "GHSA-wk-0001".*"kind": "advisory"'; then
	ok "the insert is announced on stellapolicy_delta"
else
	notok "delta notification" "$delta"
fi
if wait_for "SELECT EXISTS (SELECT 1 FROM stellapolicy.policy_runs WHERE policy_id = 'p' AND mode = 'incremental' AND status = 'succeeded' AND inputs->'scope'->'advisories' ? 'GHSA-wk-0001')" 20; then
	ri=$(inc_run_for advisories GHSA-wk-0001)
	ok "an incremental run follows the advisory within seconds, through the workers"
else
	ri=
	notok "incremental run after an advisory" "$(q -c "SELECT run_id, mode, status, error FROM stellapolicy.policy_runs ORDER BY queued_at DESC LIMIT 5")"
fi
check "it writes one finding per SBOM holding $pkg, and nothing else changes" \
	"$(q -c "SELECT (SELECT count(*) FROM stellapolicy.effective_finding WHERE policy_id = 'p' AND advisory_id = 'GHSA-wk-0001') || ':' || (stats->>'findingsWritten') || ':' || (stats->>'findingsRemoved') FROM stellapolicy.policy_runs WHERE run_id = '$ri'"):$(findings_digest "AND advisory_id <> 'GHSA-wk-0001'")" \
	"$expect:$expect:0:$before"
check "every active policy of the tenant gets its incremental run" \
	"$(q -c "SELECT count(DISTINCT policy_id) FROM stellapolicy.policy_runs WHERE mode = 'incremental' AND status = 'succeeded' AND inputs->'scope'->'advisories' ? 'GHSA-wk-0001'")" 3

# 4. A VEX statement arrives: only its (vulnerability, product) findings change.
purl=$(q -c "SELECT c.purl FROM stellapolicy.component c JOIN stellapolicy.sbom s USING (tenant, sbom_id, revision) WHERE c.match_package = '$pkg' AND c.match_ecosystem = 'npm' AND s.is_current ORDER BY c.sbom_id LIMIT 1")
nvex=$(q -c "SELECT count(DISTINCT c.sbom_id) FROM stellapolicy.component c JOIN stellapolicy.sbom s USING (tenant, sbom_id, revision) WHERE c.purl = '$purl' AND s.is_current AND s.active")
before=$(findings_digest "AND NOT (advisory_id = 'GHSA-wk-0001' AND component_purl = '$purl')")
hist0=$(q -c "SELECT count(*) FROM stellapolicy.effective_finding_history WHERE policy_id = 'p'")
q -c "SELECT stellapolicy.vex_ingest('{\"@context\": \"https://openvex.dev/ns/v0.2.0\", \"@id\": \"https://example.invalid/vex/wk-1\", \"author\": \"Bench Corp\", \"timestamp\": \"2026-11-02T00:00:00Z\", \"statements\": [{\"vulnerability\": {\"name\": \"GHSA-wk-0001\"}, \"products\": [{\"@id\": \"$purl\"}], \"status\": \"not_affected\", \"justification\": \"vulnerable_code_not_in_execute_path\"}]}'::jsonb)" >/dev/null
if wait_for "SELECT EXISTS (SELECT 1 FROM stellapolicy.policy_runs WHERE policy_id = 'p' AND mode = 'incremental' AND status = 'succeeded' AND run_id <> '$ri' AND inputs->'scope'->'advisories' ? 'GHSA-wk-0001')" 20; then
	ok "an incremental run follows the VEX statement"
else
	notok "incremental run after VEX" "$(q -c "SELECT run_id, mode, status, error FROM stellapolicy.policy_runs ORDER BY queued_at DESC LIMIT 5")"
fi
check "exactly the $nvex finding(s) of that product become not_affected, the rest unchanged, history keeps the old rows" \
	"$(q -c "SELECT count(*) FILTER (WHERE status = 'not_affected') FROM stellapolicy.effective_finding WHERE policy_id = 'p' AND advisory_id = 'GHSA-wk-0001' AND component_purl = '$purl'"):$(findings_digest "AND NOT (advisory_id = 'GHSA-wk-0001' AND component_purl = '$purl')"):$(q -c "SELECT count(*) - $hist0 FROM stellapolicy.effective_finding_history WHERE policy_id = 'p'")" \
	"$nvex:$before:$nvex"

# 5. An SBOM arrives: its findings appear, nothing else changes.
before=$(findings_digest "")
ver=${purl##*@}
q -c "SELECT stellapolicy.sbom_import('{\"bomFormat\": \"CycloneDX\", \"specVersion\": \"1.5\", \"serialNumber\": \"urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79\", \"version\": 1, \"metadata\": {\"component\": {\"type\": \"application\", \"name\": \"wk-app\", \"purl\": \"pkg:npm/wk-app@1.0.0\"}}, \"components\": [{\"type\": \"library\", \"name\": \"$pkg\", \"version\": \"$ver\", \"purl\": \"pkg:npm/$pkg@$ver\"}]}'::jsonb, 'wk-new')" >/dev/null
if wait_for "SELECT EXISTS (SELECT 1 FROM stellapolicy.policy_runs WHERE policy_id = 'p' AND mode = 'incremental' AND status = 'succeeded' AND inputs->'scope'->'sboms' ? 'wk-new')" 20; then
	ok "an incremental run follows the SBOM import"
else
	notok "incremental run after an SBOM" "$(q -c "SELECT run_id, mode, status, error FROM stellapolicy.policy_runs ORDER BY queued_at DESC LIMIT 5")"
fi
check "the new SBOM's finding for GHSA-wk-0001 appears, the other findings are untouched" \
	"$(q -c "SELECT count(*) FROM stellapolicy.effective_finding WHERE policy_id = 'p' AND sbom_id = 'wk-new' AND finding_key = 'pkg:npm/$pkg@$ver#GHSA-wk-0001'"):$(findings_digest "AND sbom_id <> 'wk-new'")" \
	"1:$before"

# 6. A transaction that commits after a later one is not skipped: the run
# that follows the later one waits for it (the tenant's input lock); its
# scope is the changes committed when it took its cursors, so the late
# change is in it, or in the next incremental run's, as timing has it.
pkg2=$(q -c "SELECT c.match_package FROM stellapolicy.component c WHERE c.match_ecosystem = 'npm' AND c.match_package <> '$pkg' GROUP BY 1 ORDER BY count(DISTINCT c.sbom_id) DESC, 1 LIMIT 1")
psql -X -q -d "$DB" -c "BEGIN" -c "SELECT stellapolicy.advisory_ingest('$(osv GHSA-wk-late "$pkg2")'::jsonb, 'test')" \
	-c "SELECT pg_sleep(4)" -c "COMMIT" >/dev/null 2>&1 &
late=$!
sleep 1
q -c "SELECT stellapolicy.advisory_ingest('$(osv GHSA-wk-early "$pkg2")'::jsonb, 'test')" >/dev/null
wait_for "SELECT EXISTS (SELECT 1 FROM stellapolicy.policy_runs WHERE policy_id = 'p' AND mode = 'incremental' AND status = 'succeeded' AND inputs->'scope'->'advisories' ? 'GHSA-wk-early')" 20
early_scope=$(q -c "SELECT inputs->'scope'->'advisories' ? 'GHSA-wk-late' FROM stellapolicy.policy_runs WHERE run_id = '$(inc_run_for advisories GHSA-wk-early)'")
wait $late
if wait_for "SELECT EXISTS (SELECT 1 FROM stellapolicy.effective_finding WHERE policy_id = 'p' AND advisory_id = 'GHSA-wk-late')" 20; then
	check "the change of the later-committing transaction (lower change id) is in the scope of an incremental run (that run or the next: ${early_scope:-?}) and its findings are written" \
		"$(q -c "SELECT EXISTS (SELECT 1 FROM stellapolicy.policy_runs WHERE policy_id = 'p' AND mode = 'incremental' AND status = 'succeeded' AND inputs->'scope'->'advisories' ? 'GHSA-wk-late')"):$(q -c "SELECT count(*) = (SELECT count(*) FROM stellapolicy.effective_finding WHERE policy_id = 'p' AND advisory_id = 'GHSA-wk-early') FROM stellapolicy.effective_finding WHERE policy_id = 'p' AND advisory_id = 'GHSA-wk-late'")" "t:t"
else
	notok "late-committing change" "$(q -c "SELECT run_id, inputs->'scope' FROM stellapolicy.policy_runs WHERE mode = 'incremental' ORDER BY queued_at DESC LIMIT 3")"
fi

# 7. With the workers paused, concurrent requests with one idempotency key make one run.
set_workers 0 || notok "workers stop when stellapolicy.workers is set to 0"
for i in $(seq 8); do
	q -c "SELECT stellapolicy.stella_policy_run('p', idempotency_key => 'race-1')" > "/tmp/sp_race_$i.out" 2>/dev/null &
done
wait
check "8 concurrent requests with one idempotency key return one run" \
	"$(cat /tmp/sp_race_*.out | sort -u | wc -l):$(q -c "SELECT count(*) FROM stellapolicy.policy_runs WHERE idempotency_key = 'race-1'")" "1:1"
race=$(head -1 /tmp/sp_race_1.out)
rm -f /tmp/sp_race_*.out

# 8. Cancel: queued at once, twice harmlessly, a finished run not.
check "cancel of a queued run: true, canceled, and again true with one event" \
	"$(q -c "SELECT stellapolicy.stella_policy_cancel('$race')"):$(q -c "SELECT stellapolicy.stella_policy_cancel('$race')"):$(q -c "SELECT status || ':' || (SELECT count(*) FROM stellapolicy.policy_run_events e WHERE e.run_id = r.run_id AND to_status = 'canceled') FROM stellapolicy.policy_runs r WHERE run_id = '$race'")" \
	"t:t:canceled:1"
check "cancel of a finished run is false" "$(q -c "SELECT stellapolicy.stella_policy_cancel('$r1')")" f
check "cancel of an unknown run is an error" "$(q -c "SELECT stellapolicy.stella_policy_cancel('run:nope')" 2>&1 | grep -c 'does not exist')" 1

# 9. Priorities: an emergency run queued later starts first.
# (With no worker running, each request warns that its run stays queued.)
rn=$(q -c "SELECT stellapolicy.stella_policy_run('p2', evaluation_time => '2026-06-01T00:00:00Z')" 2>/dev/null)
re=$(q -c "SELECT stellapolicy.stella_policy_run('p3', priority => 'emergency', evaluation_time => '2026-06-01T00:00:00Z')" 2>/dev/null)

# 10. Fairness: a hot tenant's twelve runs delay another tenant's run by at most one.
for i in $(seq 4); do
	for p in p p2 p3; do q -c "SELECT stellapolicy.stella_policy_run('$p', evaluation_time => '2026-06-01T00:00:00Z')" >/dev/null 2>&1; done
done
PGOPTIONS="$PGOPTIONS -c stellapolicy.tenant=other" q -v src="$(cat data/policies/org-baseline.stella)" >/dev/null 2>&1 <<'SQL'
SELECT stellapolicy.policy_create('o', :'src');
SELECT stellapolicy.policy_submit('o', 1), stellapolicy.policy_approve('o', 1), stellapolicy.policy_activate('o', 1);
SELECT stellapolicy.stella_policy_run('o');
SQL
set_workers 1
wait_for "SELECT NOT EXISTS (SELECT 1 FROM stellapolicy.policy_runs WHERE status IN ('queued', 'running'))" 60
check "the emergency run started before the normal one queued earlier" \
	"$(q -c "SELECT (SELECT started_at FROM stellapolicy.policy_runs WHERE run_id = '$re') < (SELECT started_at FROM stellapolicy.policy_runs WHERE run_id = '$rn')")" t
check "the other tenant's single run started after at most one run of the busy tenant's fourteen" \
	"$(q -c "SELECT count(*) FROM stellapolicy.policy_runs b, stellapolicy.policy_runs o
		WHERE o.tenant = 'other' AND b.tenant = 'bench' AND b.started_at < o.started_at
		  AND b.queued_at >= (SELECT queued_at FROM stellapolicy.policy_runs WHERE run_id = '$rn')")" 1

# 11. Retries: a lock timeout is retried with growing backoff, up to max_attempts.
psql -X -q -d postgres -c "ALTER SYSTEM SET stellapolicy.worker_lock_timeout = '200ms'" -c "ALTER SYSTEM SET stellapolicy.retry_backoff = '400ms'" \
	-c "ALTER SYSTEM SET stellapolicy.max_attempts = 3" -c "ALTER SYSTEM SET stellapolicy.workers = 2" -c "SELECT pg_reload_conf()" >/dev/null
workers_up 2
hold_findings_lock 6
holder=$!
sleep 0.5
rr=$(q -c "SELECT stellapolicy.stella_policy_run('p', evaluation_time => '2026-06-01T00:00:00Z')")
wait_for "SELECT status IN ('failed', 'succeeded') FROM stellapolicy.policy_runs WHERE run_id = '$rr'" 30
check "a run that keeps meeting a lock timeout fails after 3 attempts with 55P03" \
	"$(q -c "SELECT status || ':' || attempts || ':' || left(error, 5) FROM stellapolicy.policy_runs WHERE run_id = '$rr'")" "failed:3:55P03"
check "events: running and queued again twice, then failed" \
	"$(q -c "SELECT string_agg(to_status, ',' ORDER BY event_id) FROM stellapolicy.policy_run_events WHERE run_id = '$rr'")" \
	"queued,running,queued,running,queued,running,failed"
# The event of a retry is stamped a moment after the backoff starts (its
# trigger runs after the update), so the gaps may fall short by that moment.
check "the backoff doubles: about 0.4 s, then about 0.8 s before the next attempt" \
	"$(q -c "WITH e AS (SELECT to_status, at, lead(at) OVER (ORDER BY event_id) AS nxt, row_number() OVER (ORDER BY event_id) AS k FROM stellapolicy.policy_run_events WHERE run_id = '$rr')
		SELECT string_agg((extract(epoch FROM nxt - at) >= CASE k WHEN 3 THEN 0.38 ELSE 0.78 END)::text, ',' ORDER BY k) FROM e WHERE k IN (3, 5)")" "true,true"
wait $holder
rv=$(q -c "SELECT stellapolicy.stella_policy_run('p', sbom_set => ARRAY['nope'])")
wait_for "SELECT status = 'failed' FROM stellapolicy.policy_runs WHERE run_id = '$rv'" 20
check "a validation failure is not retried" "$(q -c "SELECT status || ':' || attempts || ':' || left(error, 5) FROM stellapolicy.policy_runs WHERE run_id = '$rv'")" "failed:1:P0002"
psql -X -q -d postgres -c "ALTER SYSTEM SET stellapolicy.worker_lock_timeout = '60s'" -c "SELECT pg_reload_conf()" >/dev/null

# 12. Cancel of a running run: it stops at its next batch boundary, nothing written.
before=$(findings_digest "")
hold_findings_lock 3
holder=$!
sleep 0.3
rc=$(q -c "SELECT stellapolicy.stella_policy_run('p', evaluation_time => '2028-01-01T00:00:00Z')")
wait_for "SELECT status = 'running' FROM stellapolicy.policy_runs WHERE run_id = '$rc'" 10
check "cancel of a running run is accepted" "$(q -c "SELECT stellapolicy.stella_policy_cancel('$rc')")" t
wait $holder
wait_for "SELECT status <> 'running' FROM stellapolicy.policy_runs WHERE run_id = '$rc'" 20
check "it ends canceled, its writes rolled back" \
	"$(q -c "SELECT status FROM stellapolicy.policy_runs WHERE run_id = '$rc'"):$(findings_digest ""):$(q -c "SELECT count(*) FROM stellapolicy.effective_finding_history WHERE run_id = '$rc'")" \
	"canceled:$before:0"

# A burst of changes within stellapolicy.incremental_debounce makes one run.
q -c "SELECT stellapolicy.advisory_ingest('$(osv GHSA-wk-burst-1 "$pkg2")'::jsonb, 'test')" \
  -c "SELECT stellapolicy.advisory_ingest('$(osv GHSA-wk-burst-2 "$pkg2")'::jsonb, 'test')" \
  -c "SELECT stellapolicy.advisory_ingest('$(osv GHSA-wk-burst-3 "$pkg2")'::jsonb, 'test')" \
  -c "SELECT stellapolicy.advisory_ingest('$(osv GHSA-wk-burst-4 "$pkg2")'::jsonb, 'test')" \
  -c "SELECT stellapolicy.advisory_ingest('$(osv GHSA-wk-burst-5 "$pkg2")'::jsonb, 'test')" >/dev/null
if wait_for "SELECT count(DISTINCT a) = 5 FROM stellapolicy.policy_runs, jsonb_array_elements_text(inputs->'scope'->'advisories') a WHERE policy_id = 'p' AND status = 'succeeded' AND a LIKE 'GHSA-wk-burst-%'" 20; then
	check "five changes committed in a burst are folded into one incremental run" \
		"$(q -c "SELECT count(*) FROM stellapolicy.policy_runs WHERE policy_id = 'p' AND mode = 'incremental' AND inputs->'scope'->'advisories' ? 'GHSA-wk-burst-1'"):$(q -c "SELECT count(*) FROM stellapolicy.policy_runs WHERE policy_id = 'p' AND mode = 'incremental' AND inputs->'scope'->'advisories' ?| ARRAY['GHSA-wk-burst-1', 'GHSA-wk-burst-5']")" "1:1"
else
	notok "burst of changes" "$(q -c "SELECT run_id, inputs->'scope' FROM stellapolicy.policy_runs WHERE mode = 'incremental' ORDER BY queued_at DESC LIMIT 3")"
fi

# stellapolicy.run_ttl: a run still running or queued past it is canceled.
psql -X -q -d postgres -c "ALTER SYSTEM SET stellapolicy.run_ttl = '2s'" -c "SELECT pg_reload_conf()" >/dev/null
sleep 0.5
hold_findings_lock 3
holder=$!
sleep 0.3
rt=$(q -c "SELECT stellapolicy.stella_policy_run('p', evaluation_time => '2028-01-01T00:00:00Z')")
wait $holder
wait_for "SELECT status <> 'running' AND status <> 'queued' FROM stellapolicy.policy_runs WHERE run_id = '$rt'" 20
check "a running run past run_ttl is canceled at its next batch boundary" \
	"$(q -c "SELECT status || ':' || (error LIKE '%passed stellapolicy.run_ttl%') FROM stellapolicy.policy_runs WHERE run_id = '$rt'")" "canceled:true"
set_workers 0
rt=$(q -c "SELECT stellapolicy.stella_policy_run('p')" 2>/dev/null)
wait_for "SELECT status = 'canceled' FROM stellapolicy.policy_runs WHERE run_id = '$rt'" 15
check "a run queued past run_ttl is canceled by the launcher" \
	"$(q -c "SELECT status || ':' || (error LIKE 'canceled: queued longer than stellapolicy.run_ttl%') FROM stellapolicy.policy_runs WHERE run_id = '$rt'")" "canceled:true"
psql -X -q -d postgres -c "ALTER SYSTEM RESET stellapolicy.run_ttl" -c "SELECT pg_reload_conf()" >/dev/null
set_workers 2

# 13-14. A worker killed with SIGKILL, then the server stopped with -m immediate,
# each in the middle of a run: after recovery the run completes once.
for how in sigkill immediate; do
	if [ $how = sigkill ]; then at='2028-01-01T00:00:00Z'; else at='2027-01-01T00:00:00Z'; fi
	hold_findings_lock 30
	holder=$!
	sleep 0.3
	rk=$(q -c "SELECT stellapolicy.stella_policy_run('p', evaluation_time => '$at')")
	wait_for "SELECT status = 'running' FROM stellapolicy.policy_runs WHERE run_id = '$rk'" 10
	# The lease was committed asynchronously: let the WAL writer flush it.
	sleep 1
	if [ $how = sigkill ]; then
		kill -9 "$(q -c "SELECT lease_owner FROM stellapolicy.policy_runs WHERE run_id = '$rk'")"
	else
		(cd / && runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$data_dir" -m immediate -w stop >/dev/null 2>&1)
		(cd / && runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$data_dir" -l "$(dirname "$data_dir")/postgres.log" -w -t 60 start >/dev/null 2>&1)
	fi
	wait $holder 2>/dev/null
	restart_wait
	if wait_for "SELECT status = 'succeeded' FROM stellapolicy.policy_runs WHERE run_id = '$rk'" 60; then
		rs=$(q -c "SELECT stellapolicy.stella_policy_run('p', wait => true, evaluation_time => '$at')")
		check "after $how the run completes on its second attempt, once, with the hash of a clean run and no duplicate history" \
			"$(q -c "SELECT r.attempts || ':' || (r.determinism_hash = s.determinism_hash) || ':' || (s.stats->>'findingsWritten') FROM stellapolicy.policy_runs r, stellapolicy.policy_runs s WHERE r.run_id = '$rk' AND s.run_id = '$rs'"):$(history_dups)" \
			"2:true:0:0"
	else
		notok "after $how the run completes" "$(q -c "SELECT status, attempts, error FROM stellapolicy.policy_runs WHERE run_id = '$rk'")"
	fi
done

# 15. pg_cron: a nightly job fires and its run completes; once per day.
q -c "CREATE EXTENSION IF NOT EXISTS pg_cron" >/dev/null
job=$(q -c "SELECT stellapolicy.schedule_nightly('p', '* * * * *')")
[ -n "$job" ] && ok "schedule_nightly registers pg_cron job $job" || notok "schedule_nightly"
key="nightly:p:$(date -u +%F)"
if wait_for "SELECT EXISTS (SELECT 1 FROM stellapolicy.policy_runs WHERE idempotency_key = '$key' AND status = 'succeeded')" 90; then
	ok "the cron job fires and its full run completes through the workers"
else
	notok "nightly run" "$(q -c "SELECT status, return_message FROM cron.job_run_details ORDER BY runid DESC LIMIT 3")"
fi
check "a cron job that fires again the same day returns the same run" \
	"$(q -c "SELECT stellapolicy.nightly_enqueue('p') = (SELECT run_id FROM stellapolicy.policy_runs WHERE idempotency_key = '$key' AND status = 'succeeded' LIMIT 1)")" t
check "unschedule_nightly removes the job" \
	"$(q -c "SELECT stellapolicy.unschedule_nightly('p')"):$(q -c "SELECT count(*) FROM cron.job WHERE jobid = $job"):$(q -c "SELECT stellapolicy.unschedule_nightly('p')")" "t:0:f"

# 16. Minimal notification payloads: ids only, and the rows behind them stay
# with their tenant (any role may LISTEN on any channel).
q -c "CREATE ROLE sp_listener LOGIN" -c "GRANT stellapolicy_reader TO sp_listener" \
	-c "SELECT stellapolicy.tenant_grant('elsewhere', 'sp_listener')" >/dev/null
pkg16=$(q -c "SELECT match_package FROM stellapolicy.component WHERE match_ecosystem = 'npm' ORDER BY 1 LIMIT 1")
out=$(psql -X -q -At -d "$DB" 2>&1 <<SQL
SET stellapolicy.notify_payload = minimal;
LISTEN stellapolicy_events;
LISTEN stellapolicy_delta;
SELECT pg_backend_pid() AS pid \gset
\echo PID :pid
SELECT stellapolicy.stella_policy_run('p', wait => true, evaluation_time => '2026-06-01T00:00:00Z') AS r \gset
\echo RUN :r
SELECT stellapolicy.advisory_ingest('$(osv GHSA-wk-0016 "$pkg16")'::jsonb, 'test');
SELECT 1;
SQL
)
pid16=$(echo "$out" | sed -n 's/^PID \([0-9][0-9]*\)$/\1/p')
r16=$(echo "$out" | sed -n 's/^RUN //p')
own=$(echo "$out" | grep "received from server process with PID $pid16\.$" | sed 's/^Asynchronous notification "\([a-z_]*\)" with payload "\(.*\)" received.*/\1 \2/')
ev=$(echo "$own" | sed -n 's/^stellapolicy_events //p')
dl=$(echo "$own" | sed -n 's/^stellapolicy_delta //p')
check "with notify_payload = minimal a run's notifications carry only the event and the event row's id" \
	"$(echo "$ev" | sed 's/[0-9][0-9]*/N/')" \
	"$(printf '%s\n%s' '{"event": "policy.run.started", "eventId": N}' '{"event": "policy.run.completed", "eventId": N}')"
check "and a change's notification only the change row's id" "$(echo "$dl" | sed 's/[0-9][0-9]*/N/')" '{"changeId": N}'
eids=$(echo "$ev" | sed 's/.*"eventId": \([0-9]*\)}/\1/' | paste -sd, -)
cid=$(echo "$dl" | sed 's/.*"changeId": \([0-9]*\)}/\1/')
check "the ids lead to the run's events and to the change" \
	"$(q -c "SELECT string_agg(run_id || ' ' || to_status, ',' ORDER BY event_id) FROM stellapolicy.policy_run_events WHERE event_id IN (${eids:-0})"):$(q -c "SELECT kind || ' ' || key FROM stellapolicy.input_change WHERE change_id = ${cid:-0}")" \
	"$r16 running,$r16 succeeded:advisory GHSA-wk-0016"
check "a role of another tenant that listens gets the ids but no row behind them" \
	"$(psql -X -q -At -U sp_listener -d "$DB" -c "SET stellapolicy.tenant = 'elsewhere'" \
		-c "SELECT (SELECT count(*) FROM stellapolicy.policy_run_events WHERE event_id IN (${eids:-0})) + (SELECT count(*) FROM stellapolicy.input_change WHERE change_id = ${cid:-0})")" "0"
q -c "SELECT stellapolicy.tenant_revoke('elsewhere', 'sp_listener')" -c "DROP OWNED BY sp_listener" -c "DROP ROLE sp_listener" >/dev/null

# 17. A run that waited in the queue while a new version was activated
# evaluates the active version, and its record says so.
r17=$(q <<'SQL'
SELECT stellapolicy.policy_create('pv', 'policy "v1" syntax "stella-dsl@1" { rule r { when true then status := "affected" because "v1" } }') \gset
SELECT stellapolicy.policy_submit('pv', 1), stellapolicy.policy_approve('pv', 1), stellapolicy.policy_activate('pv', 1) \gset
BEGIN;
SELECT stellapolicy.stella_policy_run('pv', evaluation_time => '2026-06-01T00:00:00Z') AS r \gset
UPDATE stellapolicy.policy_runs SET not_before = clock_timestamp() + interval '1 hour' WHERE run_id = :'r';
COMMIT;
SELECT :'r';
SQL
)
q >/dev/null <<SQL
SELECT stellapolicy.policy_create('pv', 'policy "v2" syntax "stella-dsl@1" { rule r { when true then status := "blocked" because "v2" } }');
SELECT stellapolicy.policy_submit('pv', 2), stellapolicy.policy_approve('pv', 2), stellapolicy.policy_activate('pv', 2);
UPDATE stellapolicy.policy_runs SET not_before = NULL WHERE run_id = '$r17';
SQL
if wait_for "SELECT status IN ('succeeded', 'failed') FROM stellapolicy.policy_runs WHERE run_id = '$r17'" 20; then
	check "a run queued under version 1 and started after version 2 was activated evaluates version 2, and records it" \
		"$(q -c "SELECT status || ':' || policy_version || ':' || (policy_digest = (SELECT digest FROM stellapolicy.policy_version WHERE policy_id = 'pv' AND version = 2)) FROM stellapolicy.policy_runs WHERE run_id = '$r17'"):$(q -c "SELECT count(*) > 0 AND bool_and(status = 'blocked' AND policy_version = 2) FROM stellapolicy.effective_finding WHERE policy_id = 'pv'")" \
		"succeeded:2:true:t"
else
	notok "a run queued under an archived version" "$(q -c "SELECT status, error FROM stellapolicy.policy_runs WHERE run_id = '$r17'")"
fi

# 18. A retry that falls due while no worker can lease it does not make the
# launcher spin: it waits for a run to end, not one millisecond per round.
set_workers 0 || notok "workers stop when stellapolicy.workers is set to 0"
# (One transaction: its commit wakes the launcher, which then sees the
# retry due.)
r18=$(q 2>/dev/null <<'SQL'
BEGIN;
SELECT stellapolicy.stella_policy_run('p2', evaluation_time => '2026-06-01T00:00:00Z') AS r \gset
UPDATE stellapolicy.policy_runs SET not_before = clock_timestamp() - interval '1 second' WHERE run_id = :'r';
COMMIT;
SELECT :'r';
SQL
)
sleep 1
# CPU time of the launcher (user + system, in clock ticks) over 3 s.
lpid=$(q -c "SELECT pid FROM pg_stat_activity WHERE backend_type = 'stellapolicy launcher' AND datname = current_database()")
ticks() { awk '{print $14 + $15}' "/proc/$lpid/stat" 2>/dev/null || echo 0; }
c0=$(ticks)
sleep 3
c1=$(ticks)
if [ -n "$lpid" ] && [ $((c1 - c0)) -lt 30 ]; then
	ok "with a due retry and no worker, the launcher stays idle ($((c1 - c0)) CPU ticks in 3 s)"
else
	notok "the launcher spins on a due retry" "launcher pid ${lpid:-none}: $((c1 - c0)) CPU ticks in 3 s"
fi
q -c "SELECT stellapolicy.stella_policy_cancel('$r18')" >/dev/null

# An idempotency key raced from a REPEATABLE READ transaction whose snapshot
# predates the racer's commit still returns the racer's run.
q -c "BEGIN" -c "SELECT stellapolicy.stella_policy_run('p3', idempotency_key => 'rr-key', evaluation_time => '2026-06-01T00:00:00Z')" \
	-c "SELECT pg_sleep(2)" -c "COMMIT" > "/tmp/sp_rr_a.out" 2>/dev/null &
rr_a=$!
sleep 0.5
rr_b=$(q 2>&1 <<'SQL'
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT count(*) FROM stellapolicy.policy_runs \gset
SELECT stellapolicy.stella_policy_run('p3', idempotency_key => 'rr-key', evaluation_time => '2026-06-01T00:00:00Z');
COMMIT;
SQL
)
wait "$rr_a"
check "a REPEATABLE READ request with a key another session just used gets that session's run" \
	"$(echo "$rr_b" | grep -c '^run:'):$(grep -c '^run:' /tmp/sp_rr_a.out):$(q -c "SELECT count(*) FROM stellapolicy.policy_runs WHERE idempotency_key = 'rr-key'")" "1:1:1"
q -c "SELECT stellapolicy.stella_policy_cancel(run_id) FROM stellapolicy.policy_runs WHERE idempotency_key = 'rr-key'" >/dev/null
rm -f /tmp/sp_rr_a.out
set_workers 2 || notok "workers come back"

# 19. A client that holds a running run's row (a cancel in a transaction it
# leaves open) does not stall the launcher's rounds.
hold_findings_lock 8
hold=$!
r19=$(q -c "SELECT stellapolicy.stella_policy_run('p', evaluation_time => '2026-06-01T00:00:00Z')")
wait_for "SELECT status = 'running' FROM stellapolicy.policy_runs WHERE run_id = '$r19'" 10
q -c "BEGIN" -c "UPDATE stellapolicy.policy_runs SET priority = priority WHERE run_id = '$r19'" -c "SELECT pg_sleep(4)" -c "COMMIT" >/dev/null 2>&1 &
rowlock=$!
sleep 0.5
# A change wakes the launcher for a round while the row is held.
q -c "SELECT stellapolicy.advisory_tag_add('GHSA-wk-0001', 'launcher-round')" >/dev/null
blocked=0
for _ in $(seq 15); do
	[ "$(q -c "SELECT wait_event_type FROM pg_stat_activity WHERE backend_type = 'stellapolicy launcher' AND datname = current_database()")" = Lock ] && blocked=$((blocked + 1))
	sleep 0.2
done
check "the launcher's round skips a running run's row that a client holds, instead of waiting on it" "$blocked" 0
wait "$rowlock" "$hold"
if wait_for "SELECT status = 'succeeded' FROM stellapolicy.policy_runs WHERE run_id = '$r19'" 30; then
	ok "and the run ends normally once the client lets go"
else
	notok "the run after the client let go" "$(q -c "SELECT status, error FROM stellapolicy.policy_runs WHERE run_id = '$r19'")"
fi

echo "1..$n"
[ $failed = 0 ]
