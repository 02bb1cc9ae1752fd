-- The run queue, the change stream and nightly scheduling.
--
-- Queued runs are leased by the background workers (src/worker.c) through
-- lease_run(), which takes tenants round-robin, then policies, then
-- priority with ageing.  Every insert into an input table appends a change
-- to input_change; the launcher turns pending changes into incremental
-- runs (plan_incremental()), and an incremental run finds what it must
-- re-evaluate with incremental_scope().  Changes are located by the
-- inserting transaction's id, compared with the snapshot the previous run
-- recorded, so a transaction that commits late is never skipped.

-- ---------- change stream ----------

CREATE TABLE @extschema@.input_change (
	change_id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	tenant			text NOT NULL,
	kind			text NOT NULL CHECK (kind IN ('sbom', 'advisory', 'vex')),
	key				text NOT NULL,		-- SBOM id, advisory id, or VEX vulnerability id
	change_digest	text NOT NULL,		-- SHA-256 of what changed; a repeat is folded
	xid				xid8 NOT NULL DEFAULT pg_catalog.pg_current_xact_id(),
	at				timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX input_change_xid_idx ON @extschema@.input_change (tenant, xid);
CREATE INDEX input_change_key_idx ON @extschema@.input_change (tenant, kind, key, change_id);
CREATE TRIGGER input_change_append_only BEFORE UPDATE OR DELETE ON @extschema@.input_change
	FOR EACH ROW EXECUTE FUNCTION @extschema@.refuse_change();
CREATE TRIGGER input_change_no_truncate BEFORE TRUNCATE ON @extschema@.input_change
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.refuse_change();

-- Per tenant, the newest transaction whose changes prune() deleted.  An
-- incremental run whose previous snapshot might not have seen one of them
-- evaluates the whole tenant instead (incremental_scope()).
CREATE TABLE @extschema@.change_horizon (
	tenant			text PRIMARY KEY,
	horizon			xid8 NOT NULL,
	pruned_at		timestamptz NOT NULL
);

-- Wake the launcher when the calling transaction commits (no-op without
-- the preloaded library).
CREATE FUNCTION @extschema@.wake_at_commit() RETURNS void
	AS 'MODULE_PATHNAME', 'stellapolicy_wake_at_commit'
	LANGUAGE C VOLATILE;

-- Append one change, unless it repeats the latest change of the same key;
-- tell listeners on channel stellapolicy_delta once the transaction commits.
CREATE FUNCTION @extschema@.record_change(p_tenant text, p_kind text, p_key text, p_what text)
	RETURNS void
	LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	d text := 'sha256:' || encode(sha256(convert_to(p_kind || chr(31) || p_key || chr(31) || p_what, 'UTF8')), 'hex');
	latest text;
	cid bigint;
BEGIN
	SELECT c.change_digest INTO latest FROM @extschema@.input_change c
	 WHERE c.tenant = p_tenant AND c.kind = p_kind AND c.key = p_key
	 ORDER BY c.change_id DESC LIMIT 1;
	IF latest IS NOT DISTINCT FROM d THEN
		RETURN;
	END IF;
	INSERT INTO @extschema@.input_change (tenant, kind, key, change_digest)
	VALUES (p_tenant, p_kind, p_key, d)
	RETURNING change_id INTO cid;
	-- Any role may LISTEN: minimal payloads name only the change row.
	IF current_setting('stellapolicy.notify_payload', true) = 'minimal' THEN
		PERFORM pg_notify('stellapolicy_delta', jsonb_build_object('changeId', cid)::text);
	ELSE
		PERFORM pg_notify('stellapolicy_delta',
						  jsonb_build_object('changeId', cid, 'tenant', p_tenant, 'kind', p_kind,
											 'key', left(p_key, 512), 'changeDigest', d)::text);
	END IF;
	PERFORM @extschema@.wake_at_commit();
END
$$;

CREATE FUNCTION @extschema@.change_from_input() RETURNS trigger
	LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	CASE TG_TABLE_NAME
		WHEN 'sbom' THEN
			IF TG_OP = 'INSERT' OR NEW.active IS DISTINCT FROM OLD.active THEN
				PERFORM @extschema@.record_change(NEW.tenant, 'sbom', NEW.sbom_id,
					NEW.revision || ':' || NEW.content_digest || ':' || NEW.active);
			END IF;
		WHEN 'advisory_raw' THEN
			PERFORM @extschema@.record_change(NEW.tenant, 'advisory', NEW.advisory_id, NEW.content_digest);
		WHEN 'advisory_tag' THEN
			PERFORM @extschema@.record_change(NEW.tenant, 'advisory', NEW.subject_id, 'tag:' || NEW.tag);
		WHEN 'vex_raw' THEN
			PERFORM @extschema@.record_change(NEW.tenant, 'vex', NEW.vulnerability,
				NEW.document_digest || '#' || NEW.item);
		WHEN 'vex_resolution' THEN
			PERFORM @extschema@.record_change(NEW.tenant, 'vex', v.vulnerability,
				'resolved:' || v.document_digest || '#' || v.item)
			   FROM @extschema@.vex_raw v WHERE v.statement_pk = NEW.statement_pk;
	END CASE;
	RETURN NULL;
END
$$;
CREATE TRIGGER sbom_change AFTER INSERT OR UPDATE OF active ON @extschema@.sbom
	FOR EACH ROW EXECUTE FUNCTION @extschema@.change_from_input();
CREATE TRIGGER advisory_change AFTER INSERT ON @extschema@.advisory_raw
	FOR EACH ROW EXECUTE FUNCTION @extschema@.change_from_input();
CREATE TRIGGER advisory_tag_change AFTER INSERT ON @extschema@.advisory_tag
	FOR EACH ROW EXECUTE FUNCTION @extschema@.change_from_input();
CREATE TRIGGER vex_change AFTER INSERT ON @extschema@.vex_raw
	FOR EACH ROW EXECUTE FUNCTION @extschema@.change_from_input();
CREATE TRIGGER vex_resolution_change AFTER INSERT ON @extschema@.vex_resolution
	FOR EACH ROW EXECUTE FUNCTION @extschema@.change_from_input();

-- The input lock.  Change numbers are taken at insert, transactions commit
-- in any order, and a run's cursors are the newest change numbers it sees:
-- a cursor taken while an ingest was open could lie above that ingest's
-- rows, which a replay as of the cursor would then see.  So a statement
-- that inserts into the inputs cursors count takes, before its rows get
-- their numbers, the tenant's input lock in share mode until its
-- transaction ends; a run, once it has its cursors, waits for the
-- transactions that hold it then (run_sql.c), without blocking new ones.
-- The first key is SP_INPUT_LOCK_KEY of run.h; the rows' tenant is the
-- session's, as every ingest function writes.
CREATE FUNCTION @extschema@.input_write_lock() RETURNS trigger
	LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	PERFORM pg_advisory_xact_lock_shared(1398293065,
		hashtext(coalesce(current_setting('stellapolicy.tenant', true), 'default')));
	RETURN NULL;
END
$$;
CREATE TRIGGER advisory_write_lock BEFORE INSERT ON @extschema@.advisory_raw
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.input_write_lock();
CREATE TRIGGER advisory_tag_write_lock BEFORE INSERT ON @extschema@.advisory_tag
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.input_write_lock();
CREATE TRIGGER vex_write_lock BEFORE INSERT ON @extschema@.vex_raw
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.input_write_lock();
CREATE TRIGGER vex_resolution_write_lock BEFORE INSERT ON @extschema@.vex_resolution
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.input_write_lock();

-- The baseline of a policy's next incremental run: its latest succeeded
-- full or incremental run that recorded the snapshot it read with.
CREATE FUNCTION @extschema@.baseline_run(p_tenant text, p_policy text)
	RETURNS @extschema@.policy_runs
	LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT r.* FROM @extschema@.policy_runs r
	 WHERE r.tenant = p_tenant AND r.policy_id = p_policy AND r.status = 'succeeded'
	   AND r.mode IN ('full', 'incremental') AND r.inputs ? 'changeSnapshot'
	 ORDER BY r.finished_at DESC LIMIT 1
	$$;

-- The changes of a tenant that a snapshot did not see (a transaction still
-- open when it was taken is among them once it commits).
CREATE FUNCTION @extschema@.changes_since(p_tenant text, p_snapshot pg_snapshot)
	RETURNS SETOF @extschema@.input_change
	LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT c.* FROM @extschema@.input_change c
	 WHERE c.tenant = p_tenant AND c.xid >= pg_snapshot_xmin(p_snapshot)
	   AND NOT pg_visible_in_snapshot(c.xid, p_snapshot)
	$$;

-- What an incremental run of a policy must re-evaluate: the changes its
-- snapshot sees that the snapshot of the policy's previous run did not.
-- previous is NULL when the policy has no previous run, or when prune()
-- may have deleted changes that run did not see (the caller then
-- evaluates the whole tenant).  A tuple is in scope when its SBOM is in
-- sboms or its advisory in advisories; scan_sboms are the current, active
-- SBOMs to read, all_sboms true when every SBOM must be read.
CREATE FUNCTION @extschema@.incremental_scope(p_tenant text, p_policy text, p_current text,
	OUT previous text, OUT changes bigint, OUT sboms text[], OUT advisories text[],
	OUT scan_sboms text[], OUT all_sboms boolean)
	-- STABLE: every query reads with the run's own snapshot.
	LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	prev pg_snapshot;
	cur pg_snapshot := p_current::pg_snapshot;
	names text[];
BEGIN
	previous := (@extschema@.baseline_run(p_tenant, p_policy)).inputs->>'changeSnapshot';
	IF previous IS NULL THEN
		RETURN;
	END IF;
	prev := previous::pg_snapshot;
	IF EXISTS (SELECT 1 FROM @extschema@.change_horizon h
				WHERE h.tenant = p_tenant AND h.horizon >= pg_snapshot_xmin(prev)) THEN
		previous := NULL;
		RETURN;
	END IF;

	SELECT count(*),
		   coalesce(array_agg(DISTINCT c.key) FILTER (WHERE c.kind = 'sbom'), '{}'),
		   coalesce(array_agg(DISTINCT c.key) FILTER (WHERE c.kind = 'advisory'), '{}'),
		   coalesce(array_agg(DISTINCT upper(c.key)) FILTER (WHERE c.kind IN ('advisory', 'vex')), '{}')
	  INTO changes, sboms, advisories, names
	  FROM @extschema@.changes_since(p_tenant, prev) c
	 WHERE pg_visible_in_snapshot(c.xid, cur);

	-- A VEX statement, or a tag, names a vulnerability: the advisories
	-- with that id or alias (compared case-insensitively, as VEX matching does).
	IF cardinality(names) > 0 THEN
		SELECT array_agg(DISTINCT x) INTO advisories FROM (
			SELECT unnest(advisories) AS x
			UNION
			SELECT a.advisory_id FROM @extschema@.advisory_raw a
			 WHERE a.tenant = p_tenant
			   AND (upper(a.advisory_id) = ANY (names)
					OR EXISTS (SELECT 1 FROM unnest(a.aliases) al WHERE upper(al) = ANY (names)))) u;
		advisories := coalesce(advisories, '{}');
	END IF;

	-- OS packages may match an advisory through their source package,
	-- which the BOM index does not cover: then every SBOM is read.  An
	-- ecosystem's components share a purl type, so one row tells.
	all_sboms := EXISTS (
		SELECT 1 FROM @extschema@.advisory_raw a
		  JOIN @extschema@.advisory_affected e ON e.revision_id = a.revision_id
		 WHERE a.tenant = p_tenant AND a.advisory_id = ANY (advisories)
		   AND (SELECT c.purl_type FROM @extschema@.component c
				 WHERE c.tenant = p_tenant AND c.match_ecosystem = e.base_ecosystem
				 LIMIT 1) IN ('deb', 'rpm', 'apk', 'alpine'));
	IF all_sboms THEN
		scan_sboms := NULL;
		RETURN;
	END IF;

	-- The current, active SBOMs that changed or hold a package of those
	-- advisories (in any of their revisions), through the BOM index.
	SELECT coalesce(array_agg(s.sbom_id ORDER BY s.sbom_id COLLATE "C"), '{}') INTO scan_sboms
	  FROM @extschema@.sbom s
	 WHERE s.tenant = p_tenant AND s.is_current AND s.active
	   AND (s.sbom_id = ANY (sboms)
			OR (s.sbom_id, s.revision) IN (
				SELECT c.sbom_id, c.revision
				  FROM @extschema@.advisory_raw a
				  JOIN @extschema@.advisory_affected e ON e.revision_id = a.revision_id
				  JOIN @extschema@.component c
					ON c.tenant = p_tenant AND c.match_ecosystem = e.base_ecosystem
				   AND c.match_package = e.match_package
				 WHERE a.tenant = p_tenant AND a.advisory_id = ANY (advisories)));
END
$$;

-- ---------- queue ----------

-- When each tenant (policy_id '') and each policy of a tenant last had a
-- run leased: the round-robin order of lease_run().
CREATE TABLE @extschema@.queue_turn (
	tenant			text NOT NULL,
	policy_id		text NOT NULL,
	last_leased		timestamptz NOT NULL,
	PRIMARY KEY (tenant, policy_id)
);

-- Lease the next run for worker p_pid, or return NULL.  Tenants take turns
-- (one with an emergency run first, then the one served longest ago), at
-- most p_max_active running runs each; within a tenant the best effective
-- priority wins, a run gaining one priority step per p_ageing of waiting,
-- then the policy served longest ago.  Runs of one policy never overlap.
CREATE FUNCTION @extschema@.lease_run(p_pid integer, p_lease interval,
	p_max_active integer, p_ageing interval)
	RETURNS text
	LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	t text;
	rid text;
	pol text;
	age_s double precision := greatest(extract(epoch FROM p_ageing), 0.001);
BEGIN
	-- One leaser at a time, so the per-tenant cap holds under races.
	PERFORM pg_advisory_xact_lock(hashtextextended('stellapolicy lease', 19));
	FOR t IN
		SELECT q.tenant FROM @extschema@.policy_runs q
		  LEFT JOIN @extschema@.queue_turn qt ON qt.tenant = q.tenant AND qt.policy_id = ''
		 WHERE q.status = 'queued' AND coalesce(q.not_before, '-infinity') <= clock_timestamp()
		 GROUP BY q.tenant, qt.last_leased
		HAVING (SELECT count(*) FROM @extschema@.policy_runs a
				 WHERE a.tenant = q.tenant AND a.status = 'running') < p_max_active
		 ORDER BY bool_or(q.priority = 'emergency') DESC, qt.last_leased NULLS FIRST,
				  q.tenant COLLATE "C"
	LOOP
		SELECT q.run_id, q.policy_id INTO rid, pol
		  FROM @extschema@.policy_runs q
		  LEFT JOIN @extschema@.queue_turn pt ON pt.tenant = q.tenant AND pt.policy_id = q.policy_id
		 WHERE q.tenant = t AND q.status = 'queued'
		   AND coalesce(q.not_before, '-infinity') <= clock_timestamp()
		   AND NOT EXISTS (SELECT 1 FROM @extschema@.policy_runs a
							WHERE a.tenant = q.tenant AND a.policy_id = q.policy_id
							  AND a.status = 'running')
		 ORDER BY CASE q.priority WHEN 'emergency' THEN 0 WHEN 'high' THEN 1 ELSE 2 END
				  - floor(extract(epoch FROM clock_timestamp() - q.queued_at) / age_s),
				  pt.last_leased NULLS FIRST, q.queued_at, q.run_id COLLATE "C"
		 LIMIT 1
		 FOR UPDATE OF q SKIP LOCKED;
		IF rid IS NOT NULL THEN
			UPDATE @extschema@.policy_runs
			   SET status = 'running', lease_owner = p_pid,
				   lease_expires = clock_timestamp() + p_lease,
				   attempts = attempts + 1, started_at = clock_timestamp(), not_before = NULL
			 WHERE run_id = rid;
			INSERT INTO @extschema@.queue_turn VALUES (t, '', clock_timestamp()), (t, pol, clock_timestamp())
			ON CONFLICT (tenant, policy_id) DO UPDATE SET last_leased = EXCLUDED.last_leased;
			RETURN rid;
		END IF;
	END LOOP;
	RETURN NULL;
END
$$;

-- Housekeeping of the launcher: renew the leases of runs whose workers
-- are alive and progressing (p_live), give back those whose worker is gone
-- (to the queue, or failed once out of attempts), and cancel queued runs
-- past their time to live.  Returns the number of leases given back.
CREATE FUNCTION @extschema@.queue_housekeeping(p_live integer[], p_lease interval,
	p_max_attempts integer, p_ttl interval)
	RETURNS integer
	LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	n integer;
BEGIN
	-- Rows another transaction holds (a cancel in an open transaction, a
	-- worker recording its run) are skipped until the next round: the
	-- launcher never waits on a client.
	UPDATE @extschema@.policy_runs SET lease_expires = clock_timestamp() + p_lease
	 WHERE run_id IN (SELECT r.run_id FROM @extschema@.policy_runs r
					   WHERE r.status = 'running' AND r.lease_owner = ANY (p_live)
					   FOR UPDATE SKIP LOCKED);

	UPDATE @extschema@.policy_runs
	   SET status = CASE WHEN cancel_requested THEN 'canceled'
						 WHEN attempts >= p_max_attempts THEN 'failed' ELSE 'queued' END,
		   finished_at = CASE WHEN cancel_requested OR attempts >= p_max_attempts THEN clock_timestamp() END,
		   error = 'lease released: worker ' || lease_owner || ' ended during attempt ' || attempts,
		   lease_owner = NULL, lease_expires = NULL
	 WHERE run_id IN (SELECT r.run_id FROM @extschema@.policy_runs r
					   WHERE r.status = 'running' AND r.lease_owner IS NOT NULL
						 AND NOT (r.lease_owner = ANY (coalesce(p_live, '{}')))
					   FOR UPDATE SKIP LOCKED);
	GET DIAGNOSTICS n = ROW_COUNT;

	IF p_ttl > '0'::interval THEN
		UPDATE @extschema@.policy_runs
		   SET status = 'canceled', finished_at = clock_timestamp(),
			   error = 'canceled: queued longer than stellapolicy.run_ttl (' || p_ttl || ')'
		 WHERE run_id IN (SELECT r.run_id FROM @extschema@.policy_runs r
						   WHERE r.status = 'queued' AND r.queued_at < clock_timestamp() - p_ttl
						   FOR UPDATE SKIP LOCKED);
	END IF;
	RETURN n;
END
$$;

-- Enqueue an incremental run for each active policy that has changes its
-- latest run did not see, once no change has arrived for p_debounce (or
-- the oldest has waited four times that).  Policies never run are left to
-- a full run.  Returns the milliseconds until a pending burst settles, or
-- NULL when nothing waits.
CREATE FUNCTION @extschema@.plan_incremental(p_debounce interval)
	RETURNS integer
	LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	p record;
	prev pg_snapshot;
	newest timestamptz;
	oldest timestamptz;
	wait_ms integer;
	left_ms integer;
BEGIN
	-- One planner at a time: two at once (launchers of an old and a new
	-- incarnation, a planner called by hand) would each see no queued run
	-- of a policy and each queue one.
	PERFORM pg_advisory_xact_lock(hashtextextended('stellapolicy plan', 19));
	FOR p IN
		SELECT v.tenant, v.policy_id, (@extschema@.baseline_run(v.tenant, v.policy_id)).inputs
		  FROM @extschema@.policy_version v
		 WHERE v.status = 'active'
		 ORDER BY v.tenant COLLATE "C", v.policy_id COLLATE "C"
	LOOP
		CONTINUE WHEN p.inputs IS NULL;
		-- A queued or running run of the policy will see these changes.
		CONTINUE WHEN EXISTS (SELECT 1 FROM @extschema@.policy_runs q
							   WHERE q.tenant = p.tenant AND q.policy_id = p.policy_id
								 AND q.status IN ('queued', 'running'));
		-- Runs of a policy stopped by its determinism guard are refused.
		CONTINUE WHEN EXISTS (SELECT 1 FROM @extschema@.policy_guard g
							   WHERE g.tenant = p.tenant AND g.policy_id = p.policy_id
								 AND g.cleared_at IS NULL);
		-- After an incremental run failed or was canceled, wait a minute.
		CONTINUE WHEN (SELECT r.mode = 'incremental' AND r.status IN ('failed', 'canceled')
							  AND r.finished_at > clock_timestamp() - interval '1 minute'
						 FROM @extschema@.policy_runs r
						WHERE r.tenant = p.tenant AND r.policy_id = p.policy_id AND r.finished_at IS NOT NULL
						ORDER BY r.finished_at DESC LIMIT 1);
		prev := (p.inputs->>'changeSnapshot')::pg_snapshot;
		SELECT max(c.at), min(c.at) INTO newest, oldest
		  FROM @extschema@.changes_since(p.tenant, prev) c;
		CONTINUE WHEN newest IS NULL;
		IF clock_timestamp() - newest < p_debounce AND clock_timestamp() - oldest < 4 * p_debounce THEN
			left_ms := ceil(extract(epoch FROM p_debounce - (clock_timestamp() - newest)) * 1000);
			wait_ms := least(coalesce(wait_ms, left_ms), left_ms);
			CONTINUE;
		END IF;
		-- One policy's refusal never stops the others.
		BEGIN
			PERFORM set_config('stellapolicy.tenant', p.tenant, true);
			PERFORM @extschema@.stella_policy_run(p.policy_id, mode => 'incremental',
												  env => coalesce(p.inputs->'env', '{}'),
												  priority => 'high');
		EXCEPTION WHEN OTHERS THEN
			RAISE WARNING 'stellapolicy could not queue an incremental run of policy "%" of tenant "%": %',
				p.policy_id, p.tenant, SQLERRM;
		END;
	END LOOP;
	RETURN wait_ms;
END
$$;

-- ---------- cancel, wait ----------

-- Flag a running run in the worker that holds it (false: no worker does).
CREATE FUNCTION @extschema@.worker_signal_cancel(run_id text) RETURNS boolean
	AS 'MODULE_PATHNAME', 'stellapolicy_worker_signal_cancel'
	LANGUAGE C STRICT VOLATILE;

-- Is there a background worker serving this database?
CREATE FUNCTION @extschema@.workers_available() RETURNS boolean
	AS 'MODULE_PATHNAME', 'stellapolicy_workers_available'
	LANGUAGE C STABLE;

CREATE FUNCTION @extschema@.stella_policy_cancel(run_id text) RETURNS boolean
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	r record;
	me text := @extschema@.current_tenant();
BEGIN
	IF run_id IS NULL THEN
		RAISE EXCEPTION 'run id must not be null' USING ERRCODE = '22004';
	END IF;
	SELECT p.status, p.cancel_requested INTO r FROM @extschema@.policy_runs p
	 WHERE p.run_id = stella_policy_cancel.run_id AND p.tenant = me FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'run "%" does not exist', run_id USING ERRCODE = 'P0002';
	END IF;
	CASE r.status
		WHEN 'queued', 'replay_pending' THEN
			UPDATE @extschema@.policy_runs p
			   SET status = 'canceled', cancel_requested = true, finished_at = clock_timestamp(),
				   error = 'canceled by ' || @extschema@.acting_role()
			 WHERE p.run_id = stella_policy_cancel.run_id;
			RETURN true;
		WHEN 'running' THEN
			-- The worker stops at its next batch boundary and rolls back.
			IF NOT r.cancel_requested THEN
				UPDATE @extschema@.policy_runs p SET cancel_requested = true
				 WHERE p.run_id = stella_policy_cancel.run_id;
			END IF;
			PERFORM @extschema@.worker_signal_cancel(run_id);
			RETURN true;
		WHEN 'canceled' THEN
			RETURN true;
		ELSE
			RETURN false;
	END CASE;
END
$$;

CREATE FUNCTION @extschema@.stella_policy_wait(run_id text, timeout interval DEFAULT '5 minutes')
	RETURNS text
	LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	s text;
	deadline timestamptz := clock_timestamp() + timeout;
BEGIN
	IF run_id IS NULL THEN
		RAISE EXCEPTION 'run id must not be null' USING ERRCODE = '22004';
	END IF;
	IF current_setting('transaction_isolation') <> 'read committed' THEN
		RAISE EXCEPTION 'stella_policy_wait needs READ COMMITTED isolation'
			USING ERRCODE = '25000',
				  HINT = 'Under a transaction snapshot the run''s progress is never visible; call it outside such a transaction.';
	END IF;
	LOOP
		SELECT p.status INTO s FROM @extschema@.policy_runs p WHERE p.run_id = stella_policy_wait.run_id;
		IF NOT FOUND THEN
			RAISE EXCEPTION 'run "%" does not exist', run_id USING ERRCODE = 'P0002';
		END IF;
		IF s IN ('succeeded', 'failed', 'canceled') OR clock_timestamp() >= deadline THEN
			RETURN s;
		END IF;
		IF s = 'queued' AND NOT @extschema@.workers_available() THEN
			RAISE EXCEPTION 'run "%" is queued but no background worker serves database "%"',
				run_id, current_database()
				USING ERRCODE = '55000',
					  HINT = 'Add stellapolicy to shared_preload_libraries, set stellapolicy.database_name to this database and stellapolicy.workers above 0, then restart; or run with wait => true.';
		END IF;
		PERFORM pg_sleep(0.02);
	END LOOP;
END
$$;

-- ---------- nightly runs through pg_cron ----------

-- Enqueue today's nightly full run of a policy, once per UTC day: a cron
-- job that fires again the same day returns the run it made.
CREATE FUNCTION @extschema@.nightly_enqueue(policy_id text) RETURNS text
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	k text := 'nightly:' || policy_id || ':' || to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD');
	rid text;
BEGIN
	PERFORM pg_advisory_xact_lock(hashtextextended(@extschema@.current_tenant() || chr(31) || k, 13));
	SELECT r.run_id INTO rid FROM @extschema@.policy_runs r
	 WHERE r.tenant = @extschema@.current_tenant() AND r.idempotency_key = k
	   AND r.status IN ('queued', 'running', 'replay_pending', 'succeeded')
	 ORDER BY r.queued_at DESC LIMIT 1;
	IF rid IS NOT NULL THEN
		RETURN rid;
	END IF;
	-- The env of the policy's baseline, as incremental runs take it, so that
	-- nightly and incremental runs evaluate alike.
	RETURN @extschema@.stella_policy_run(policy_id, mode => 'full', idempotency_key => k,
		env => coalesce((@extschema@.baseline_run(@extschema@.current_tenant(), policy_id)).inputs->'env',
						'{}'));
END
$$;

CREATE FUNCTION @extschema@.cron_job_name(tenant text, policy_id text) RETURNS text
	LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
	AS $$ SELECT 'stellapolicy-nightly:' || md5(current_database() || chr(31) || tenant || chr(31) || policy_id) $$;

CREATE FUNCTION @extschema@.schedule_nightly(policy_id text, schedule text DEFAULT '0 2 * * *')
	RETURNS bigint
	LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	me text := @extschema@.current_tenant();
	cmd text;
	job bigint;
BEGIN
	IF policy_id IS NULL OR schedule IS NULL THEN
		RAISE EXCEPTION 'policy id and schedule must not be null' USING ERRCODE = '22004';
	END IF;
	IF to_regnamespace('cron') IS NULL OR to_regproc('cron.schedule_in_database') IS NULL THEN
		RAISE EXCEPTION 'nightly runs need the pg_cron extension'
			USING ERRCODE = '55000',
				  HINT = 'Add pg_cron to shared_preload_libraries, set cron.database_name to this database and run CREATE EXTENSION pg_cron here.';
	END IF;
	IF NOT EXISTS (SELECT 1 FROM @extschema@.policy_version v
					WHERE v.tenant = me AND v.policy_id = schedule_nightly.policy_id AND v.status = 'active') THEN
		RAISE EXCEPTION 'policy "%" has no active version', policy_id
			USING ERRCODE = '55000', HINT = 'Activate a version before scheduling its nightly run.';
	END IF;
	IF NOT @extschema@.workers_available() THEN
		RAISE WARNING 'no background worker serves database "%": nightly runs will stay queued', current_database()
			USING HINT = 'Add stellapolicy to shared_preload_libraries and set stellapolicy.database_name to this database.';
	END IF;
	cmd := format('SET stellapolicy.tenant = %L; SELECT %I.nightly_enqueue(%L)',
				  me, '@extschema@', policy_id);
	EXECUTE 'SELECT cron.schedule_in_database($1, $2, $3, $4)'
		INTO job USING @extschema@.cron_job_name(me, policy_id), schedule, cmd, current_database();
	PERFORM @extschema@.nightly_register(policy_id, job, schedule);
	RETURN job;
END
$$;

CREATE FUNCTION @extschema@.unschedule_nightly(policy_id text) RETURNS boolean
	LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	name text := @extschema@.cron_job_name(@extschema@.current_tenant(), policy_id);
	ok boolean;
BEGIN
	IF to_regprocedure('cron.unschedule(name)') IS NULL THEN
		RAISE EXCEPTION 'nightly runs need the pg_cron extension' USING ERRCODE = '55000';
	END IF;
	EXECUTE 'SELECT EXISTS (SELECT 1 FROM cron.job WHERE jobname = $1)' INTO ok USING name;
	IF NOT ok THEN
		RETURN false;
	END IF;
	EXECUTE 'SELECT cron.unschedule($1::name)' INTO ok USING name;
	PERFORM @extschema@.nightly_unregister(policy_id);
	RETURN ok;
END
$$;
