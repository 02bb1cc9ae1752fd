-- Retention: run records (with their events and explain traces) and the
-- change stream grow with every run and every input change.  prune()
-- deletes, for the current tenant, what no run, view or finding still
-- needs.  Findings, their history and the raw inputs are never pruned.

-- Delete the current tenant's finished runs older than older_than (by
-- finish time), their events and explain traces, and the changes older
-- than older_than that every active policy's incremental runs have
-- covered.  Kept whatever their age: runs not finished; each policy's
-- baseline (the run its next incremental run starts from); the newest run
-- of each policy and mode; runs that last changed a current finding; runs
-- named by a determinism guard.  Returns what was deleted.
CREATE FUNCTION @extschema@.prune(older_than interval DEFAULT interval '90 days')
	RETURNS jsonb
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	-- The append-only triggers stand aside for this function's own deletes;
	-- the setting ends with the call.
	SET session_replication_role = replica
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	t text := @extschema@.current_tenant();
	cutoff timestamptz;
	min_xmin xid8;
	newest xid8;
	n_runs bigint;
	n_events bigint;
	n_traces bigint;
	n_changes bigint;
BEGIN
	IF older_than IS NULL OR older_than < interval '1 hour' THEN
		RAISE EXCEPTION 'older_than must be at least 1 hour, not %', coalesce(older_than::text, 'NULL')
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Alerts read the last hour of runs; keep at least that.';
	END IF;
	cutoff := clock_timestamp() - older_than;
	-- One prune of a tenant at a time.
	PERFORM pg_advisory_xact_lock(hashtextextended(t, 23));

	WITH pol AS (
		SELECT DISTINCT r.policy_id FROM @extschema@.policy_runs r WHERE r.tenant = t
	), keep AS (
		SELECT (@extschema@.baseline_run(t, pol.policy_id)).run_id FROM pol
		UNION
		-- the newest of each policy and mode, as pg_stat_policy_runs shows it
		SELECT l.run_id FROM (
			SELECT DISTINCT ON (x.policy_id, x.mode) x.run_id
			  FROM @extschema@.policy_runs x WHERE x.tenant = t
			 ORDER BY x.policy_id, x.mode, x.queued_at DESC, x.run_id COLLATE "C" DESC) l
		UNION
		SELECT g.run_id FROM @extschema@.policy_guard g WHERE g.tenant = t
		UNION
		SELECT f.run_id FROM @extschema@.effective_finding f WHERE f.tenant = t
	), doomed AS MATERIALIZED (
		SELECT r.run_id FROM @extschema@.policy_runs r
		 WHERE r.tenant = t AND r.status IN ('succeeded', 'failed', 'canceled')
		   AND r.finished_at < cutoff
		   AND NOT EXISTS (SELECT 1 FROM keep k WHERE k.run_id = r.run_id)
	), ev AS (
		DELETE FROM @extschema@.policy_run_events e USING doomed d
		 WHERE e.run_id = d.run_id RETURNING 1
	), tr AS (
		DELETE FROM @extschema@.policy_explain x USING doomed d
		 WHERE x.tenant = t AND x.run_id = d.run_id RETURNING 1
	), ru AS (
		DELETE FROM @extschema@.policy_runs r USING doomed d
		 WHERE r.run_id = d.run_id RETURNING 1
	)
	SELECT (SELECT count(*) FROM ru), (SELECT count(*) FROM ev), (SELECT count(*) FROM tr)
	  INTO n_runs, n_events, n_traces;

	-- Changes: the incremental runs of each active policy read only those
	-- from the xmin of its baseline's snapshot on.
	SELECT min(pg_snapshot_xmin((b.inputs->>'changeSnapshot')::pg_snapshot)) INTO min_xmin
	  FROM (SELECT DISTINCT v.policy_id FROM @extschema@.policy_version v
			 WHERE v.tenant = t AND v.status = 'active') p,
		   LATERAL (SELECT (@extschema@.baseline_run(t, p.policy_id)).inputs) b
	 WHERE b.inputs ? 'changeSnapshot';
	WITH gone AS (
		DELETE FROM @extschema@.input_change c
		 WHERE c.tenant = t AND c.at < cutoff AND (min_xmin IS NULL OR c.xid < min_xmin)
		RETURNING c.xid
	)
	SELECT count(*), (SELECT g.xid FROM gone g ORDER BY g.xid DESC LIMIT 1)
	  INTO n_changes, newest FROM gone;
	IF newest IS NOT NULL THEN
		INSERT INTO @extschema@.change_horizon AS h (tenant, horizon, pruned_at)
		VALUES (t, newest, clock_timestamp())
		ON CONFLICT (tenant) DO UPDATE
		   SET horizon = greatest(h.horizon, excluded.horizon), pruned_at = excluded.pruned_at;
	END IF;

	RAISE LOG 'stellapolicy prune tenant=% before=% runs=% events=% traces=% changes=%',
		t, cutoff, n_runs, n_events, n_traces, n_changes;
	RETURN jsonb_build_object('tenant', t,
							  'before', to_char(cutoff AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
							  'runs', n_runs, 'runEvents', n_events, 'explainTraces', n_traces,
							  'changes', n_changes);
END
$$;

-- prune() for every tenant that has runs or changes, one after the other
-- in the caller's transaction: one pg_cron job for a whole database.
-- Superusers only (no grant).  Returns prune()'s result for each tenant.
CREATE FUNCTION @extschema@.prune_all_tenants(older_than interval DEFAULT interval '90 days')
	RETURNS SETOF jsonb
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	t text;
	was text := current_setting('stellapolicy.tenant');
BEGIN
	FOR t IN
		SELECT u.tenant FROM (SELECT r.tenant FROM @extschema@.policy_runs r
							  UNION
							  SELECT c.tenant FROM @extschema@.input_change c) u
		 ORDER BY u.tenant COLLATE "C"
	LOOP
		PERFORM set_config('stellapolicy.tenant', t, true);
		RETURN NEXT @extschema@.prune(older_than);
	END LOOP;
	PERFORM set_config('stellapolicy.tenant', was, true);
END
$$;
