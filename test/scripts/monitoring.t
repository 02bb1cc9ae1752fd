#!/usr/bin/env bash
# The monitoring views, alerts, metrics and log lines, against real runs
# (succeeded, failed, canceled, incremental) executed by the workers:
# every number is checked against the run records.  The progress view is
# sampled from a second session during a run.  Uses the cluster of
# scripts/test.sh and its workers' database, which it recreates.
set -u
cd "$(dirname "$0")/../.." || exit 1
source test/scripts/workers.bash
PY=/usr/bin/python3

# A tenant large enough for a run to be watched (1,000 SBOMs, 250,000 components).
SBOMS=1000 PER=250 ADVISORIES=6000 fresh_database p2
workers_up 2 40 || notok "the workers run"

# Runs of every outcome: succeeded (queued), failed, canceled, incremental.
r_ok=$(q -c "SELECT stellapolicy.stella_policy_run('p', evaluation_time => '2026-06-01T00:00:00Z')")
q -c "SELECT stellapolicy.stella_policy_wait('$r_ok', '60 s')" >/dev/null
r_bad=$(q -c "SELECT stellapolicy.stella_policy_run('p', sbom_set => ARRAY['nope'])")
q -c "SELECT stellapolicy.stella_policy_wait('$r_bad', '60 s')" >/dev/null
q -c "SELECT stellapolicy.stella_policy_run('p2', wait => true, evaluation_time => '2026-06-01T00:00:00Z')" >/dev/null
set_workers 0
r_can=$(q -c "SELECT stellapolicy.stella_policy_run('p')" 2>/dev/null)
q -c "SELECT stellapolicy.stella_policy_cancel('$r_can')" >/dev/null
set_workers 2
pkg=$(q -c "SELECT c.match_package FROM stellapolicy.component c WHERE c.match_ecosystem = 'npm' GROUP BY 1 ORDER BY count(DISTINCT c.sbom_id) DESC, 1 LIMIT 1")
q -c "SELECT stellapolicy.advisory_ingest('$(osv GHSA-mon-1 "$pkg")'::jsonb, 'test')" >/dev/null
wait_for "SELECT count(*) = 2 FROM stellapolicy.policy_runs WHERE mode = 'incremental' AND status = 'succeeded'" 30
check "runs of each outcome exist: 1 succeeded and 1 failed full run of p, 1 canceled, 2 incremental" \
	"$(q -c "SELECT string_agg(policy_id || '/' || mode || '/' || status || '=' || n, ' ' ORDER BY policy_id, mode, status) FROM (SELECT policy_id, mode, status, count(*) n FROM stellapolicy.policy_runs GROUP BY 1, 2, 3) x")" \
	"p/full/canceled=1 p/full/failed=1 p/full/succeeded=1 p/incremental/succeeded=1 p2/full/succeeded=1 p2/incremental/succeeded=1" \
	|| q -c "SELECT '# ' || run_id || ' ' || mode || ' ' || status || ' snapshot=' || coalesce(inputs->>'changeSnapshot', '-')
		|| ' scope=' || coalesce((inputs->'scope')::text, '-') FROM stellapolicy.policy_runs ORDER BY queued_at" \
		-c "SELECT '# change ' || change_id || ' ' || kind || ' ' || key || ' xid=' || xid || ' at=' || at FROM stellapolicy.input_change ORDER BY change_id DESC LIMIT 5"

# pg_stat_policy_runs against the records, row by row.
check "pg_stat_policy_runs: every count, sum, mean, max and the latest run equal the records" \
	"$(q -c "SELECT count(*) FROM stellapolicy.pg_stat_policy_runs s FULL JOIN (
		SELECT tenant, policy_id, mode, count(*) AS runs,
			   count(*) FILTER (WHERE status = 'succeeded') AS succeeded, count(*) FILTER (WHERE status = 'failed') AS failures,
			   count(*) FILTER (WHERE status = 'canceled') AS canceled,
			   coalesce(sum(extract(epoch FROM finished_at - started_at)), 0) AS total,
			   max(extract(epoch FROM finished_at - started_at)) AS mx, avg(extract(epoch FROM finished_at - started_at)) AS mean,
			   sum((stats->>'rulesFired')::bigint) AS fired, sum((stats->>'findingsWritten')::bigint) AS written,
			   (array_agg(status ORDER BY queued_at DESC))[1] AS last_status,
			   (array_agg(determinism_hash ORDER BY queued_at DESC))[1] AS last_hash
		  FROM stellapolicy.policy_runs GROUP BY 1, 2, 3) r USING (tenant, policy_id, mode)
		WHERE s.runs IS DISTINCT FROM r.runs OR s.succeeded IS DISTINCT FROM r.succeeded
		   OR s.failures IS DISTINCT FROM r.failures OR s.canceled IS DISTINCT FROM r.canceled
		   OR abs(s.total_seconds - r.total) > 1e-6 OR abs(s.max_seconds - r.mx) > 1e-6
		   OR abs(s.mean_seconds - r.mean) > 1e-6
		   OR s.rules_fired IS DISTINCT FROM coalesce(r.fired, 0) OR s.findings_written IS DISTINCT FROM coalesce(r.written, 0)
		   OR s.last_status IS DISTINCT FROM r.last_status OR s.last_determinism_hash IS DISTINCT FROM r.last_hash")" 0
check "... and it shows the failure and the cancellation of p's full runs" \
	"$(q -c "SELECT runs || ':' || succeeded || ':' || failures || ':' || canceled FROM stellapolicy.pg_stat_policy_runs WHERE policy_id = 'p' AND mode = 'full'")" "3:1:1:1"

# pg_stat_policy_queue: depth by priority and status, the oldest, the backlog.
set_workers 0
q -c "SELECT stellapolicy.stella_policy_run('p2'), stellapolicy.stella_policy_run('p2', priority => 'high'),
			 stellapolicy.stella_policy_run('p2', priority => 'emergency'), stellapolicy.stella_policy_run('p2')" >/dev/null 2>&1
q -c "SELECT stellapolicy.advisory_ingest('$(osv GHSA-mon-2 "$pkg")'::jsonb, 'test'), stellapolicy.advisory_ingest('$(osv GHSA-mon-3 "$pkg")'::jsonb, 'test')" >/dev/null
check "pg_stat_policy_queue: p2's queue by priority and its oldest run; both policies' backlog of two changes" \
	"$(q -c "SELECT string_agg(policy_id || ':' || queued_emergency || ',' || queued_high || ',' || queued_normal || ',' || queued || ',' || running
		|| ',' || coalesce(oldest_queued_at = (SELECT min(queued_at) FROM stellapolicy.policy_runs r WHERE r.policy_id = q.policy_id AND r.status = 'queued'), false)
		|| ',' || backlog_changes, ' ' ORDER BY policy_id) FROM stellapolicy.pg_stat_policy_queue q")" \
	"p:0,0,0,0,0,false,2 p2:1,1,2,4,0,true,2"

# Alerts.  A backlog older than three cycles (stellapolicy.incremental_cycle 1 s here).
psql -X -q -d postgres -c "ALTER SYSTEM SET stellapolicy.incremental_cycle = '1s'" -c "SELECT pg_reload_conf()" >/dev/null
sleep 4.2
check "policy_alerts: an incremental backlog older than 3 cycles, for each policy" \
	"$(q -c "SELECT string_agg(policy_id || ':' || severity, ',' ORDER BY policy_id) FROM stellapolicy.policy_alerts WHERE alert = 'incremental_backlog'")" "p:warning,p2:warning"
check "policy_alerts: a failure rate above 5% in the last hour (1 of the runs of p)" \
	"$(q -c "SELECT policy_id || ':' || (detail LIKE '1 of % run(s) failed in the last hour%') FROM stellapolicy.policy_alerts WHERE alert = 'failure_rate'")" "p:true"
q -c "INSERT INTO stellapolicy.policy_guard (tenant, policy_id, run_id, recorded_hash, replayed_hash)
	  VALUES ('bench', 'p2', (SELECT run_id FROM stellapolicy.policy_runs WHERE policy_id = 'p2' AND status = 'succeeded' LIMIT 1), 'sha256:' || repeat('a', 64), 'sha256:' || repeat('b', 64))" >/dev/null
check "policy_alerts: a determinism hash mismatch is critical, until the guard is cleared" \
	"$(q -c "SELECT policy_id || ':' || severity FROM stellapolicy.policy_alerts WHERE alert = 'determinism_mismatch'"):$(q -c "SELECT stellapolicy.stella_policy_guard_clear('p2', 'test')" >/dev/null; q -c "SELECT count(*) FROM stellapolicy.policy_alerts WHERE alert = 'determinism_mismatch'")" \
	"p2:critical:0"
psql -X -q -d postgres -c "ALTER SYSTEM RESET stellapolicy.incremental_cycle" -c "SELECT pg_reload_conf()" >/dev/null
set_workers 2
wait_for "SELECT NOT EXISTS (SELECT 1 FROM stellapolicy.policy_runs WHERE status IN ('queued', 'running'))" 60

# A run over its SLA: critical while it runs, a warning once it is over.
hold_findings_lock 2.5
holder=$!
sleep 0.3
r_slow=$(q -c "SELECT stellapolicy.stella_policy_run('p2', evaluation_time => '2026-06-01T00:00:00Z')")
wait_for "SELECT status = 'running' FROM stellapolicy.policy_runs WHERE run_id = '$r_slow'" 10
sleep 1.2
running_alert=$(PGOPTIONS="$PGOPTIONS -c stellapolicy.sla_full=1" q -c "SELECT severity FROM stellapolicy.policy_alerts WHERE alert = 'run_over_sla' AND run_id = '$r_slow'")
wait $holder
q -c "SELECT stellapolicy.stella_policy_wait('$r_slow', '30 s')" >/dev/null
check "policy_alerts: a full run over stellapolicy.sla_full is critical while running, a warning after; none with the default SLA" \
	"$running_alert:$(PGOPTIONS="$PGOPTIONS -c stellapolicy.sla_full=1" q -c "SELECT severity FROM stellapolicy.policy_alerts WHERE alert = 'run_over_sla' AND run_id = '$r_slow'"):$(q -c "SELECT count(*) FROM stellapolicy.policy_alerts WHERE alert = 'run_over_sla'")" \
	"critical:warning:0"

# A nightly run not finished by its deadline.
q -c "CREATE EXTENSION IF NOT EXISTS pg_cron" >/dev/null
q -c "SELECT stellapolicy.schedule_nightly('p', '0 0 1 1 *')" >/dev/null
check "policy_alerts: a scheduled nightly run not finished by stellapolicy.nightly_deadline; none before the deadline" \
	"$(PGOPTIONS="$PGOPTIONS -c stellapolicy.nightly_deadline=00:00" q -c "SELECT policy_id || ':' || severity FROM stellapolicy.policy_alerts WHERE alert = 'nightly_late'"):$(PGOPTIONS="$PGOPTIONS -c stellapolicy.nightly_deadline=23:59:59" q -c "SELECT count(*) FROM stellapolicy.policy_alerts WHERE alert = 'nightly_late'")" \
	"p:warning:0"
q -c "SELECT stellapolicy.unschedule_nightly('p')" >/dev/null
check "unscheduling removes the nightly alert" \
	"$(PGOPTIONS="$PGOPTIONS -c stellapolicy.nightly_deadline=00:00" q -c "SELECT count(*) FROM stellapolicy.policy_alerts WHERE alert = 'nightly_late'")" 0

# Progress, sampled from a second session while a full run goes.
q >/dev/null 2>&1 <<'SQL' &
CREATE TABLE public.progress_sample AS SELECT clock_timestamp() AS at, * FROM stellapolicy.pg_stat_progress_policy_run WHERE false;
DO $$
DECLARE
	seen timestamptz;
	t0 timestamptz := clock_timestamp();
BEGIN
	LOOP
		INSERT INTO public.progress_sample SELECT clock_timestamp(), * FROM stellapolicy.pg_stat_progress_policy_run WHERE policy_id = 'p2';
		IF FOUND THEN seen := clock_timestamp(); END IF;
		EXIT WHEN (seen IS NOT NULL AND clock_timestamp() - seen > interval '1 second')
			   OR clock_timestamp() - t0 > interval '60 seconds';
		PERFORM pg_sleep(0.003);
	END LOOP;
END
$$;
SQL
sampler=$!
sleep 1
r_prog=$(q -c "SELECT stellapolicy.stella_policy_run('p2', capture_explain => true, evaluation_time => '2027-09-01T00:00:00Z')")
q -c "SELECT stellapolicy.stella_policy_wait('$r_prog', '60 s')" >/dev/null
wait $sampler
check "pg_stat_progress_policy_run: the run appears with its id, tenant, pid and mode" \
	"$(q -c "SELECT count(*) > 3 AND bool_and(run_id = '$r_prog' AND tenant = 'bench' AND mode = 'full' AND pid > 0) FROM public.progress_sample")" t
check "... its components and tuples rise without a commit, through the phases in order" \
	"$(q -c "WITH s AS (SELECT *, lag(components_done) OVER w AS pc, lag(tuples_done) OVER w AS pt,
			 lag(array_position(ARRAY['initializing','reading inputs','scanning components','evaluating','hashing','merging','writing findings','writing explain traces','recording'], phase)) OVER w AS pp,
			 array_position(ARRAY['initializing','reading inputs','scanning components','evaluating','hashing','merging','writing findings','writing explain traces','recording'], phase) AS ph
			 FROM public.progress_sample WINDOW w AS (ORDER BY at))
		SELECT bool_and(components_done >= coalesce(pc, 0) AND tuples_done >= coalesce(pt, 0) AND ph >= coalesce(pp, 0))
			   AND count(DISTINCT components_done) FILTER (WHERE components_done > 0) + count(DISTINCT tuples_done) FILTER (WHERE tuples_done > 0) >= 3
			   AND count(DISTINCT phase) >= 2 FROM s")" t
check "... and its totals are the run's components and tuples" \
	"$(q -c "SELECT max(components_total) = (r.stats->>'components')::bigint AND max(tuples_total) = (r.stats->>'tuples')::bigint
		FROM public.progress_sample, stellapolicy.policy_runs r WHERE r.run_id = '$r_prog' GROUP BY r.stats")" t
check "... and the run is gone from the view once it has ended" \
	"$(q -c "SELECT count(*) FROM stellapolicy.pg_stat_progress_policy_run")" 0

# One structured LOG line at the start and at the end of each run.
log=$(dirname "$data_dir")/postgres.log
if grep -q "stellapolicy run started run_id=$r_ok tenant=bench policy=p version=1 mode=full attempt=1" "$log" &&
	grep -Eq "stellapolicy run finished run_id=$r_ok tenant=bench policy=p mode=full status=succeeded seconds=[0-9.]+ tuples=$(q -c "SELECT stats->>'tuples' FROM stellapolicy.policy_runs WHERE run_id = '$r_ok'") changed=[0-9]+ removed=[0-9]+ hash=$(q -c "SELECT determinism_hash FROM stellapolicy.policy_runs WHERE run_id = '$r_ok'")" "$log" &&
	grep -F "stellapolicy run finished run_id=$r_bad " "$log" | grep -F " status=failed " | grep -qF 'error="P0002: SBOM'; then
	ok "the server log has key=value lines for the start and end of each run, with status, seconds, tuples, changes and hash"
else
	notok "structured log lines" "$(grep "stellapolicy run" "$log" | tail -3)"
fi

# metrics(): Prometheus text that a Prometheus parser reads, with the records' numbers.
q -c "SELECT stellapolicy.metrics()" > /tmp/sp_metrics.txt
expect=$(q -c "SELECT json_build_object(
	'failures_p_full', (SELECT count(*) FROM stellapolicy.policy_runs WHERE policy_id = 'p' AND mode = 'full' AND status = 'failed'),
	'count_p_full', (SELECT count(*) FROM stellapolicy.policy_runs WHERE policy_id = 'p' AND mode = 'full' AND finished_at IS NOT NULL AND started_at IS NOT NULL),
	'fired_p2', (SELECT sum((stats->>'rulesFired')::bigint) FROM stellapolicy.policy_runs WHERE policy_id = 'p2'),
	'backlog_p', (SELECT backlog_changes FROM stellapolicy.pg_stat_policy_queue WHERE policy_id = 'p'))")
got=$($PY - "$expect" <<'PY'
import json, sys
from prometheus_client.parser import text_string_to_metric_families
exp = json.loads(sys.argv[1])
fams = {f.name: f for f in text_string_to_metric_families(open('/tmp/sp_metrics.txt').read())}
def val(fam, name, **labels):
    for s in fams[fam].samples:
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
            return s.value
    return None
ok = (set(fams) == {'policy_run_seconds', 'policy_run_queue_depth', 'policy_run_failures', 'policy_run_incremental_backlog', 'policy_rules_fired'}
      and fams['policy_run_seconds'].type == 'histogram'
      and val('policy_run_failures', 'policy_run_failures_total', tenant='bench', policy='p', mode='full') == exp['failures_p_full']
      and val('policy_run_seconds', 'policy_run_seconds_count', tenant='bench', policy='p', mode='full') == exp['count_p_full']
      and val('policy_run_seconds', 'policy_run_seconds_bucket', tenant='bench', policy='p', mode='full', le='+Inf') == exp['count_p_full']
      and val('policy_rules_fired', 'policy_rules_fired_total', tenant='bench', policy='p2') == exp['fired_p2']
      and val('policy_run_incremental_backlog', 'policy_run_incremental_backlog', tenant='bench', policy='p') == exp['backlog_p']
      and val('policy_run_queue_depth', 'policy_run_queue_depth', tenant='bench', policy='p2', priority='emergency') == 0)
print('parsed' if ok else 'mismatch ' + json.dumps({k: [(s.name, s.labels, s.value) for s in f.samples][:4] for k, f in fams.items()}))
PY
)
check "metrics() parses as Prometheus text and its values equal the run records" "$got" parsed

# The shipped postgres_exporter queries run, with the columns they declare;
# the Grafana dashboard asks only for series that metrics() exposes.
got=$($PY - "$DB" /tmp/sp_metrics.txt <<'PY'
import json, re, subprocess, sys, yaml
db, metrics_file = sys.argv[1], sys.argv[2]
bad = []
for key, spec in yaml.safe_load(open('docs/monitoring/postgres_exporter.yaml')).items():
    cols = [list(m)[0] for m in spec['metrics']]
    out = subprocess.run(['psql', '-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-d', db, '-c',
                          'SELECT * FROM (' + spec['query'] + ') q LIMIT 0'],
                         capture_output=True, text=True)
    if out.returncode != 0:
        bad.append(key + ': ' + out.stderr.strip())
        continue
    names = subprocess.run(['psql', '-X', '-q', '-At', '-d', db, '-c',
                            'CREATE TEMP VIEW q AS ' + spec['query'] + '; SELECT string_agg(attname, \',\' ORDER BY attnum) FROM pg_attribute WHERE attrelid = \'q\'::regclass'],
                           capture_output=True, text=True).stdout.strip().split(',')
    for c in cols:
        if c not in names:
            bad.append(key + ': no column ' + c)
exposed = set(re.findall(r'^(policy_\w+?)(?:\{| )', open(metrics_file).read(), re.M))
for p in json.load(open('docs/monitoring/grafana-dashboard.json'))['panels']:
    for t in p['targets']:
        for name in re.findall(r'\b(policy_\w+)\{', t['expr']):
            if name not in exposed:
                bad.append('dashboard panel %r asks for %s' % (p['title'], name))
print('consistent' if not bad else '; '.join(bad))
PY
)
check "the postgres_exporter queries run with their declared columns; the dashboard uses only exposed series" "$got" consistent
rm -f /tmp/sp_metrics.txt

echo "1..$n"
[ $failed = 0 ]
