-- Monitoring: views in the style of pg_stat_*, the alerts an operator must
-- act on, and Prometheus metrics.  The views run with the rights of the
-- role that queries them (security_invoker), so row-level security shows
-- each role its own tenant only; metrics() shows every tenant to members
-- of pg_monitor.  See docs/monitoring.md.

-- The settings the alerts compare with (stellapolicy.sla_full,
-- sla_incremental, incremental_cycle, nightly_deadline).
CREATE FUNCTION @extschema@.alert_settings(OUT sla_full interval, OUT sla_incremental interval,
	OUT incremental_cycle interval, OUT nightly_deadline time)
	AS 'MODULE_PATHNAME', 'stellapolicy_alert_settings'
	LANGUAGE C STABLE;

-- Runs in progress, from PostgreSQL's progress reporting (src/progress.c).
CREATE FUNCTION @extschema@.run_progress(OUT pid integer, OUT run_id text, OUT tenant text,
	OUT policy_id text, OUT mode text, OUT phase text,
	OUT components_total bigint, OUT components_done bigint,
	OUT tuples_total bigint, OUT tuples_done bigint,
	OUT findings_total bigint, OUT findings_done bigint, OUT started_at timestamptz)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'stellapolicy_run_progress'
	LANGUAGE C VOLATILE;

-- Nightly runs registered by schedule_nightly() (for the deadline alert).
CREATE TABLE @extschema@.nightly_schedule (
	tenant			text NOT NULL,
	policy_id		text NOT NULL,
	jobid			bigint NOT NULL,
	schedule		text NOT NULL,
	scheduled_at	timestamptz NOT NULL DEFAULT clock_timestamp(),
	scheduled_by	name NOT NULL DEFAULT @extschema@.acting_role(),
	PRIMARY KEY (tenant, policy_id)
);

CREATE FUNCTION @extschema@.nightly_register(policy_id text, jobid bigint, schedule text)
	RETURNS void
	LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
	AS $$
	INSERT INTO @extschema@.nightly_schedule (tenant, policy_id, jobid, schedule)
	VALUES (@extschema@.current_tenant(), policy_id, jobid, schedule)
	ON CONFLICT (tenant, policy_id) DO UPDATE
	SET jobid = EXCLUDED.jobid, schedule = EXCLUDED.schedule,
		scheduled_at = EXCLUDED.scheduled_at, scheduled_by = EXCLUDED.scheduled_by
	$$;

CREATE FUNCTION @extschema@.nightly_unregister(policy_id text)
	RETURNS void
	LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
	AS $$
	DELETE FROM @extschema@.nightly_schedule n
	WHERE n.tenant = @extschema@.current_tenant() AND n.policy_id = nightly_unregister.policy_id
	$$;

-- Per tenant, policy and mode: runs by status, their seconds, failures,
-- rules fired, findings written, and the latest run.
CREATE VIEW @extschema@.pg_stat_policy_runs WITH (security_invoker = true) AS
SELECT r.tenant, r.policy_id, r.mode,
	   count(*) AS runs,
	   count(*) FILTER (WHERE r.status = 'queued') AS queued,
	   count(*) FILTER (WHERE r.status = 'running') AS running,
	   count(*) FILTER (WHERE r.status = 'succeeded') AS succeeded,
	   count(*) FILTER (WHERE r.status = 'failed') AS failures,
	   count(*) FILTER (WHERE r.status = 'canceled') AS canceled,
	   coalesce(sum(extract(epoch FROM r.finished_at - r.started_at)), 0)::double precision AS total_seconds,
	   avg(extract(epoch FROM r.finished_at - r.started_at))::double precision AS mean_seconds,
	   max(extract(epoch FROM r.finished_at - r.started_at))::double precision AS max_seconds,
	   coalesce(sum((r.stats->>'rulesFired')::bigint), 0)::bigint AS rules_fired,
	   coalesce(sum((r.stats->>'findingsWritten')::bigint), 0)::bigint AS findings_written,
	   l.queued_at AS last_run_at,
	   l.status AS last_status,
	   l.determinism_hash AS last_determinism_hash
FROM @extschema@.policy_runs r
JOIN LATERAL (SELECT x.queued_at, x.status, x.determinism_hash
				FROM @extschema@.policy_runs x
			   WHERE x.tenant = r.tenant AND x.policy_id = r.policy_id AND x.mode = r.mode
			   ORDER BY x.queued_at DESC, x.run_id COLLATE "C" DESC LIMIT 1) l ON true
GROUP BY r.tenant, r.policy_id, r.mode, l.queued_at, l.status, l.determinism_hash;

-- Per tenant and policy (every active policy, and any with queued or
-- running runs): the queue by priority and status, the oldest queued run,
-- and the incremental backlog (changes no run of the policy has covered).
CREATE VIEW @extschema@.pg_stat_policy_queue WITH (security_invoker = true) AS
WITH pol AS (
	SELECT v.tenant, v.policy_id FROM @extschema@.policy_version v WHERE v.status = 'active'
	UNION
	SELECT r.tenant, r.policy_id FROM @extschema@.policy_runs r WHERE r.status IN ('queued', 'running')
)
SELECT p.tenant, p.policy_id,
	   coalesce(q.queued_emergency, 0) AS queued_emergency,
	   coalesce(q.queued_high, 0) AS queued_high,
	   coalesce(q.queued_normal, 0) AS queued_normal,
	   coalesce(q.queued, 0) AS queued,
	   coalesce(q.running, 0) AS running,
	   coalesce(q.retrying, 0) AS retrying,
	   q.oldest_queued_at,
	   clock_timestamp() - q.oldest_queued_at AS oldest_queued_age,
	   b.changes AS backlog_changes,
	   b.oldest AS backlog_oldest_at,
	   CASE WHEN b.changes IS NULL THEN NULL
			WHEN b.changes = 0 THEN 0
			ELSE floor(extract(epoch FROM clock_timestamp() - b.oldest)
					   / extract(epoch FROM s.incremental_cycle))::bigint END AS backlog_cycles
FROM pol p
CROSS JOIN @extschema@.alert_settings() s
LEFT JOIN LATERAL (
	SELECT count(*) FILTER (WHERE r.status = 'queued' AND r.priority = 'emergency') AS queued_emergency,
		   count(*) FILTER (WHERE r.status = 'queued' AND r.priority = 'high') AS queued_high,
		   count(*) FILTER (WHERE r.status = 'queued' AND r.priority = 'normal') AS queued_normal,
		   count(*) FILTER (WHERE r.status = 'queued') AS queued,
		   count(*) FILTER (WHERE r.status = 'running') AS running,
		   count(*) FILTER (WHERE r.status = 'queued' AND r.not_before > clock_timestamp()) AS retrying,
		   min(r.queued_at) FILTER (WHERE r.status = 'queued') AS oldest_queued_at
	  FROM @extschema@.policy_runs r
	 WHERE r.tenant = p.tenant AND r.policy_id = p.policy_id AND r.status IN ('queued', 'running')) q ON true
CROSS JOIN LATERAL (
	SELECT ((@extschema@.baseline_run(p.tenant, p.policy_id)).inputs->>'changeSnapshot')::pg_snapshot AS snap) base
CROSS JOIN LATERAL (
	SELECT CASE WHEN base.snap IS NOT NULL THEN count(*) END AS changes, min(c.at) AS oldest
	  FROM @extschema@.changes_since(p.tenant, base.snap) c) b;

-- One row per run in progress, updated without a commit.
CREATE VIEW @extschema@.pg_stat_progress_policy_run AS
SELECT p.pid, a.datname, p.run_id, p.tenant, p.policy_id, p.mode, p.phase,
	   p.components_total, p.components_done, p.tuples_total, p.tuples_done,
	   p.findings_total, p.findings_done, p.started_at,
	   clock_timestamp() - p.started_at AS elapsed
FROM @extschema@.run_progress() p
LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid = p.pid;

-- The conditions an operator must act on.
CREATE VIEW @extschema@.policy_alerts WITH (security_invoker = true) AS
WITH s AS (SELECT * FROM @extschema@.alert_settings())
SELECT 'incremental_backlog'::text AS alert, 'warning'::text AS severity,
	   q.tenant, q.policy_id, NULL::text AS run_id, q.backlog_oldest_at AS since,
	   format('%s change(s) not covered by an incremental run, the oldest %s cycles old',
			  q.backlog_changes, q.backlog_cycles) AS detail,
	   'Check that the workers run and that the policy''s runs succeed (docs/operations.md, "Incremental runs do not happen").'::text AS hint
FROM @extschema@.pg_stat_policy_queue q
WHERE q.backlog_cycles > 3
UNION ALL
SELECT 'determinism_mismatch', 'critical', g.tenant, g.policy_id, g.run_id, g.set_at,
	   format('replay gave %s, not the recorded %s; runs of the policy are refused',
			  g.replayed_hash, g.recorded_hash),
	   'Compare the run''s inputs with its bundle, then clear the guard with stellapolicy.stella_policy_guard_clear(policy_id, reason).'
FROM @extschema@.policy_guard g
WHERE g.cleared_at IS NULL
UNION ALL
SELECT 'failure_rate', 'warning', f.tenant, f.policy_id, NULL, f.since,
	   format('%s of %s run(s) failed in the last hour (%s%%)', f.failed, f.total,
			  round(100.0 * f.failed / f.total, 1)),
	   'Read the error of the failed runs in stellapolicy.policy_runs (docs/operations.md, "A run keeps failing").'
FROM (SELECT r.tenant, r.policy_id, count(*) AS total,
			 count(*) FILTER (WHERE r.status = 'failed') AS failed,
			 min(r.finished_at) FILTER (WHERE r.status = 'failed') AS since
		FROM @extschema@.policy_runs r
	   WHERE r.finished_at > clock_timestamp() - interval '1 hour' AND r.mode <> 'simulate'
	   GROUP BY r.tenant, r.policy_id) f
WHERE f.failed > 0 AND f.failed > 0.05 * f.total
UNION ALL
SELECT 'run_over_sla', CASE WHEN o.status = 'running' THEN 'critical' ELSE 'warning' END,
	   o.tenant, o.policy_id, o.run_id, o.started_at,
	   format('%s run %s %s (SLA %s)', o.mode,
			  CASE WHEN o.status = 'running' THEN 'running for' ELSE 'took' END,
			  justify_interval(date_trunc('second', o.took)), o.sla),
	   CASE WHEN o.status = 'running'
			THEN 'Watch pg_stat_progress_policy_run; cancel with stellapolicy.stella_policy_cancel(run_id) if it does not progress.'
			ELSE 'Check what slowed it (server log "stellapolicy run finished ... seconds="), or raise stellapolicy.sla_full / sla_incremental.' END
FROM (SELECT r.*, coalesce(r.finished_at, clock_timestamp()) - r.started_at AS took,
			 CASE r.mode WHEN 'full' THEN s.sla_full ELSE s.sla_incremental END AS sla
		FROM @extschema@.policy_runs r, s
	   WHERE r.started_at IS NOT NULL AND r.mode IN ('full', 'incremental')
		 AND (r.status = 'running' OR r.finished_at > clock_timestamp() - interval '1 hour')) o
WHERE o.took > o.sla
UNION ALL
SELECT 'nightly_late', 'warning', n.tenant, n.policy_id,
	   (SELECT r.run_id FROM @extschema@.policy_runs r
		 WHERE r.tenant = n.tenant AND r.idempotency_key = d.key
		 ORDER BY r.queued_at DESC LIMIT 1),
	   d.deadline,
	   format('no nightly run of policy %s finished by %s UTC', n.policy_id, s.nightly_deadline),
	   'Check the pg_cron job (cron.job_run_details) and the run''s status and error in stellapolicy.policy_runs.'
FROM @extschema@.nightly_schedule n, s,
	 LATERAL (SELECT 'nightly:' || n.policy_id || ':' || to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS key,
					 (date_trunc('day', clock_timestamp() AT TIME ZONE 'UTC') + s.nightly_deadline) AT TIME ZONE 'UTC' AS deadline) d
WHERE clock_timestamp() > d.deadline
  AND NOT EXISTS (SELECT 1 FROM @extschema@.policy_runs r
				   WHERE r.tenant = n.tenant AND r.idempotency_key = d.key
					 AND r.status = 'succeeded' AND r.finished_at <= d.deadline);

-- Prometheus text exposition (version 0.0.4) of the run statistics.
CREATE FUNCTION @extschema@.prom_label(v text) RETURNS text
	LANGUAGE sql IMMUTABLE STRICT SET search_path = pg_catalog, pg_temp
	AS $$ SELECT '"' || replace(replace(replace(v, E'\\', E'\\\\'), '"', E'\\"'), E'\n', E'\\n') || '"' $$;

CREATE FUNCTION @extschema@.metrics() RETURNS text
	LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	-- Members of pg_monitor see every tenant; others their own.
	everyone boolean := pg_has_role(@extschema@.acting_role(), 'pg_monitor', 'MEMBER');
	me text := CASE WHEN everyone THEN NULL ELSE @extschema@.current_tenant() END;
	bounds double precision[] := ARRAY[0.1, 0.5, 1, 5, 10, 30, 60, 300, 1800];
	out text := '';
	depth text := '';
	backlog text := '';
	failures text := '';
	fired text := '';
	fired_sum bigint;
	prev_tenant text;
	prev_policy text;
	r record;
	lbl text;
BEGIN
	out := out || E'# HELP policy_run_seconds Duration of finished policy runs, from start to end.\n'
			   || E'# TYPE policy_run_seconds histogram\n';
	-- One pass over the runs: the cumulative bucket counts as an array, one
	-- FILTER per bound (the bounds are this function's constants).  Each
	-- duration is computed once (OFFSET 0 keeps the subquery whole), as a
	-- double (date_part; extract gives numeric).
	FOR r IN EXECUTE format(
		'SELECT p.tenant, p.policy_id, p.mode, ARRAY[%s] AS le, count(*) AS n, sum(p.d) AS total
		   FROM (SELECT x.tenant, x.policy_id, x.mode,
						date_part(''epoch'', x.finished_at - x.started_at) AS d
				   FROM @extschema@.policy_runs x
				  WHERE x.finished_at IS NOT NULL AND x.started_at IS NOT NULL
					AND ($1 IS NULL OR x.tenant = $1)
				 OFFSET 0) p
		  GROUP BY 1, 2, 3 ORDER BY p.tenant COLLATE "C", p.policy_id COLLATE "C", p.mode COLLATE "C"',
		(SELECT string_agg(format('count(*) FILTER (WHERE p.d <= %s)', b), ', ' ORDER BY i)
		   FROM unnest(bounds) WITH ORDINALITY u(b, i)))
		USING me
	LOOP
		lbl := 'tenant=' || @extschema@.prom_label(r.tenant) || ',policy=' || @extschema@.prom_label(r.policy_id)
			   || ',mode=' || @extschema@.prom_label(r.mode);
		FOR i IN 1 .. cardinality(bounds) LOOP
			out := out || 'policy_run_seconds_bucket{' || lbl || ',le="' || bounds[i] || '"} ' || r.le[i] || E'\n';
		END LOOP;
		out := out || 'policy_run_seconds_bucket{' || lbl || E',le="+Inf"} ' || r.n || E'\n'
			   || 'policy_run_seconds_sum{' || lbl || '} ' || r.total || E'\n'
			   || 'policy_run_seconds_count{' || lbl || '} ' || r.n || E'\n';
	END LOOP;

	-- The queue view once, for two families.
	FOR r IN
		SELECT q.tenant, q.policy_id, q.queued_emergency, q.queued_high, q.queued_normal, q.backlog_changes
		  FROM @extschema@.pg_stat_policy_queue q
		 WHERE me IS NULL OR q.tenant = me ORDER BY q.tenant COLLATE "C", q.policy_id COLLATE "C"
	LOOP
		lbl := 'tenant=' || @extschema@.prom_label(r.tenant) || ',policy=' || @extschema@.prom_label(r.policy_id);
		depth := depth || 'policy_run_queue_depth{' || lbl || E',priority="emergency"} ' || r.queued_emergency || E'\n'
				   || 'policy_run_queue_depth{' || lbl || E',priority="high"} ' || r.queued_high || E'\n'
				   || 'policy_run_queue_depth{' || lbl || E',priority="normal"} ' || r.queued_normal || E'\n';
		IF r.backlog_changes IS NOT NULL THEN
			backlog := backlog || 'policy_run_incremental_backlog{' || lbl || '} ' || r.backlog_changes || E'\n';
		END IF;
	END LOOP;
	out := out || E'# HELP policy_run_queue_depth Runs waiting in the queue.\n'
			   || E'# TYPE policy_run_queue_depth gauge\n' || depth;

	-- Failures by policy and mode, rules fired by policy: one pass.
	FOR r IN
		SELECT x.tenant, x.policy_id, x.mode, count(*) FILTER (WHERE x.status = 'failed') AS failures,
			   coalesce(sum((x.stats->>'rulesFired')::bigint), 0) AS fired
		  FROM @extschema@.policy_runs x
		 WHERE me IS NULL OR x.tenant = me
		 GROUP BY 1, 2, 3 ORDER BY x.tenant COLLATE "C", x.policy_id COLLATE "C", x.mode COLLATE "C"
	LOOP
		failures := failures || 'policy_run_failures_total{tenant=' || @extschema@.prom_label(r.tenant)
				   || ',policy=' || @extschema@.prom_label(r.policy_id) || ',mode=' || @extschema@.prom_label(r.mode)
				   || '} ' || r.failures || E'\n';
		-- Rows come by policy, then mode: a policy's total is printed at its last mode.
		IF prev_tenant IS NOT DISTINCT FROM r.tenant AND prev_policy IS NOT DISTINCT FROM r.policy_id THEN
			fired_sum := fired_sum + r.fired;
		ELSE
			IF prev_policy IS NOT NULL THEN
				fired := fired || 'policy_rules_fired_total{tenant=' || @extschema@.prom_label(prev_tenant)
						 || ',policy=' || @extschema@.prom_label(prev_policy) || '} ' || fired_sum || E'\n';
			END IF;
			prev_tenant := r.tenant;
			prev_policy := r.policy_id;
			fired_sum := r.fired;
		END IF;
	END LOOP;
	IF prev_policy IS NOT NULL THEN
		fired := fired || 'policy_rules_fired_total{tenant=' || @extschema@.prom_label(prev_tenant)
				 || ',policy=' || @extschema@.prom_label(prev_policy) || '} ' || fired_sum || E'\n';
	END IF;
	out := out || E'# HELP policy_run_failures_total Runs that ended failed.\n'
			   || E'# TYPE policy_run_failures_total counter\n' || failures
			   || E'# HELP policy_run_incremental_backlog Changes not yet covered by an incremental run of the policy.\n'
			   || E'# TYPE policy_run_incremental_backlog gauge\n' || backlog
			   || E'# HELP policy_rules_fired_total Rules fired by the runs of the policy.\n'
			   || E'# TYPE policy_rules_fired_total counter\n' || fired;
	RETURN out;
END
$$;
