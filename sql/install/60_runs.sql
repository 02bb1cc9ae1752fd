-- Policy runs: the run record and its event log, effective findings with
-- append-only history, explain traces, and the determinism guard.

CREATE TABLE @extschema@.policy_runs (
	run_id			text PRIMARY KEY,		-- run:<policy>:<UTC ISO-8601>:<4 hex>
	tenant			text NOT NULL,
	policy_id		text NOT NULL,
	policy_version	integer NOT NULL,
	policy_digest	text NOT NULL,
	mode			text NOT NULL CHECK (mode IN ('full', 'incremental', 'simulate')),
	status			text NOT NULL DEFAULT 'queued'
		CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'canceled', 'replay_pending')),
	priority		text NOT NULL DEFAULT 'normal' CHECK (priority IN ('emergency', 'high', 'normal')),
	idempotency_key text,
	capture_explain boolean NOT NULL DEFAULT false,
	-- what the run reads: sbom_set, advisory_cursor, vex_cursor, env, evaluation time, sealed
	inputs			jsonb NOT NULL,
	advisory_cursor bigint,
	vex_cursor		bigint,
	evaluation_time timestamptz NOT NULL,
	stats			jsonb NOT NULL DEFAULT '{}',
	determinism_hash text CHECK (determinism_hash ~ '^sha256:[0-9a-f]{64}$'),
	attempts		integer NOT NULL DEFAULT 0,
	error			text,
	requested_by	name NOT NULL DEFAULT @extschema@.acting_role(),
	queued_at		timestamptz NOT NULL DEFAULT clock_timestamp(),
	started_at		timestamptz,
	finished_at		timestamptz,
	-- the queue: a worker's lease, the earliest next attempt, cancellation
	lease_owner		integer,				-- pid of the worker that leased it
	lease_expires	timestamptz,
	not_before		timestamptz,			-- retry backoff: not leased before
	cancel_requested boolean NOT NULL DEFAULT false
);
CREATE INDEX policy_runs_policy_idx ON @extschema@.policy_runs (tenant, policy_id, queued_at);
-- A policy's latest finished runs (the baseline of its next incremental run,
-- looked up by the launcher for every active policy at every planning round).
CREATE INDEX policy_runs_finished_idx ON @extschema@.policy_runs (tenant, policy_id, finished_at);
CREATE INDEX policy_runs_status_idx ON @extschema@.policy_runs (status, priority, queued_at)
	WHERE status IN ('queued', 'running');
-- An idempotency key names one live run per tenant.
CREATE UNIQUE INDEX policy_runs_idempotency ON @extschema@.policy_runs (tenant, idempotency_key)
	WHERE idempotency_key IS NOT NULL AND status IN ('queued', 'running', 'replay_pending');

-- Every status change of a run, appended by a trigger.
CREATE TABLE @extschema@.policy_run_events (
	event_id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	run_id			text NOT NULL REFERENCES @extschema@.policy_runs (run_id),
	tenant			text NOT NULL,
	from_status		text,
	to_status		text NOT NULL,
	at				timestamptz NOT NULL DEFAULT clock_timestamp(),
	detail			text
);
CREATE INDEX policy_run_events_run_idx ON @extschema@.policy_run_events (run_id, event_id);

CREATE FUNCTION @extschema@.policy_run_event() RETURNS trigger
	LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	eid bigint;
	ev text;
BEGIN
	IF TG_OP = 'INSERT' OR NEW.status IS DISTINCT FROM OLD.status THEN
		INSERT INTO @extschema@.policy_run_events (run_id, tenant, from_status, to_status, detail)
		VALUES (NEW.run_id, NEW.tenant, CASE WHEN TG_OP = 'UPDATE' THEN OLD.status END,
				NEW.status, NEW.error)
		RETURNING event_id INTO eid;
		-- Listeners hear of starts and ends once the change commits.
		IF NEW.status IN ('running', 'succeeded', 'failed', 'canceled') THEN
			ev := CASE NEW.status WHEN 'running' THEN 'policy.run.started'
				WHEN 'succeeded' THEN 'policy.run.completed'
				WHEN 'failed' THEN 'policy.run.failed'
				ELSE 'policy.run.canceled' END;
			-- Any role may LISTEN: minimal payloads name only the event row.
			IF current_setting('stellapolicy.notify_payload', true) = 'minimal' THEN
				PERFORM pg_notify('stellapolicy_events',
								  jsonb_build_object('event', ev, 'eventId', eid)::text);
			ELSE
				PERFORM pg_notify('stellapolicy_events', jsonb_build_object(
					'event', ev, 'eventId', eid,
					'runId', NEW.run_id, 'tenant', NEW.tenant, 'policyId', NEW.policy_id,
					'policyVersion', NEW.policy_version, 'mode', NEW.mode,
					'status', NEW.status, 'attempt', NEW.attempts, 'stats', NEW.stats,
					'determinismHash', NEW.determinism_hash)::text);
			END IF;
		END IF;
	END IF;
	RETURN NEW;
END
$$;
CREATE TRIGGER policy_run_event AFTER INSERT OR UPDATE OF status ON @extschema@.policy_runs
	FOR EACH ROW EXECUTE FUNCTION @extschema@.policy_run_event();
CREATE TRIGGER policy_run_events_append_only BEFORE UPDATE OR DELETE ON @extschema@.policy_run_events
	FOR EACH ROW EXECUTE FUNCTION @extschema@.refuse_change();
CREATE TRIGGER policy_run_events_no_truncate BEFORE TRUNCATE ON @extschema@.policy_run_events
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.refuse_change();

-- Effective findings: one partition per policy, created when the policy is
-- first run.  Plain columns for BI tools; annotations and warnings as jsonb.
-- Each partition has the primary key (tenant, policy_id, sbom_id,
-- finding_key); the parent has none, so that pg_dump's partitions restore
-- into the parent that CREATE EXTENSION makes (a key on the parent would
-- be created twice on each partition).
CREATE TABLE @extschema@.effective_finding (
	tenant			text NOT NULL,
	policy_id		text NOT NULL,
	sbom_id			text NOT NULL,
	finding_key		text NOT NULL,			-- component purl, '#', advisory id
	component_purl	text NOT NULL,
	advisory_id		text NOT NULL,
	status			text NOT NULL,
	severity_band	text NOT NULL,
	score			numeric(6, 3) NOT NULL,
	quiet			boolean NOT NULL,
	quiet_until		timestamptz,
	rule_name		text,
	rationale		text,
	policy_version	integer NOT NULL,
	annotations		jsonb NOT NULL DEFAULT '{}',
	warnings		jsonb NOT NULL DEFAULT '[]',
	run_id			text NOT NULL,			-- the run that last changed it
	first_seen		timestamptz NOT NULL,	-- evaluation time of the run that created it
	last_seen		timestamptz NOT NULL,	-- evaluation time of the run that last changed it
	verdict_digest	text NOT NULL			-- SHA-256 of the canonical verdict
) PARTITION BY LIST (policy_id);

-- Previous versions of findings: one row per change or removal.
CREATE TABLE @extschema@.effective_finding_history (
	history_id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	operation		text NOT NULL CHECK (operation IN ('update', 'delete')),
	changed_by_run	text NOT NULL,
	changed_at		timestamptz NOT NULL DEFAULT clock_timestamp(),
	LIKE @extschema@.effective_finding
);
CREATE INDEX effective_finding_history_key_idx ON @extschema@.effective_finding_history
	(tenant, policy_id, sbom_id, finding_key, history_id);

-- The run writing findings names itself in stellapolicy.run_id; the trigger
-- keeps the previous row in the history.
CREATE FUNCTION @extschema@.effective_finding_keep() RETURNS trigger
	LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	run text := coalesce(nullif(current_setting('stellapolicy.run_id', true), ''),
						 CASE WHEN TG_OP = 'UPDATE' THEN NEW.run_id END, 'unknown');
BEGIN
	INSERT INTO @extschema@.effective_finding_history
		(operation, changed_by_run, tenant, policy_id, sbom_id, finding_key, component_purl,
		 advisory_id, status, severity_band, score, quiet, quiet_until, rule_name, rationale,
		 policy_version, annotations, warnings, run_id, first_seen, last_seen, verdict_digest)
	VALUES (lower(TG_OP), run, OLD.tenant, OLD.policy_id, OLD.sbom_id, OLD.finding_key,
			OLD.component_purl, OLD.advisory_id, OLD.status, OLD.severity_band, OLD.score,
			OLD.quiet, OLD.quiet_until, OLD.rule_name, OLD.rationale, OLD.policy_version,
			OLD.annotations, OLD.warnings, OLD.run_id, OLD.first_seen, OLD.last_seen,
			OLD.verdict_digest);
	RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END
$$;
CREATE TRIGGER effective_finding_keep AFTER UPDATE OR DELETE ON @extschema@.effective_finding
	FOR EACH ROW EXECUTE FUNCTION @extschema@.effective_finding_keep();
CREATE TRIGGER effective_finding_history_append_only BEFORE UPDATE OR DELETE ON @extschema@.effective_finding_history
	FOR EACH ROW EXECUTE FUNCTION @extschema@.refuse_change();
CREATE TRIGGER effective_finding_history_no_truncate BEFORE TRUNCATE ON @extschema@.effective_finding_history
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.refuse_change();

-- Explain traces captured by runs with capture_explain.
CREATE TABLE @extschema@.policy_explain (
	tenant			text NOT NULL,
	run_id			text NOT NULL REFERENCES @extschema@.policy_runs (run_id),
	sbom_id			text NOT NULL,
	finding_key		text NOT NULL,
	trace			jsonb NOT NULL,
	PRIMARY KEY (run_id, sbom_id, finding_key)
);

-- Determinism guard: a replay that did not reproduce its run's hash stops
-- further runs of the policy until an operator clears it with a reason.
CREATE TABLE @extschema@.policy_guard (
	guard_id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	tenant			text NOT NULL,
	policy_id		text NOT NULL,
	run_id			text NOT NULL,
	recorded_hash	text,
	replayed_hash	text,
	set_at			timestamptz NOT NULL DEFAULT clock_timestamp(),
	cleared_at		timestamptz,
	cleared_by		name,
	clear_reason	text
);
CREATE UNIQUE INDEX policy_guard_open ON @extschema@.policy_guard (tenant, policy_id)
	WHERE cleared_at IS NULL;

-- The SBOMs a simulation uses when none are named.
CREATE TABLE @extschema@.golden_sbom (
	tenant			text NOT NULL,
	sbom_id			text NOT NULL,
	added_at		timestamptz NOT NULL DEFAULT now(),
	added_by		name NOT NULL DEFAULT @extschema@.acting_role(),
	PRIMARY KEY (tenant, sbom_id)
);

CREATE FUNCTION @extschema@.golden_sbom_add(sbom_id text) RETURNS boolean
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	n integer;
BEGIN
	IF NOT EXISTS (SELECT 1 FROM @extschema@.sbom s WHERE s.tenant = @extschema@.current_tenant()
				   AND s.sbom_id = golden_sbom_add.sbom_id) THEN
		RAISE EXCEPTION 'SBOM "%" does not exist', sbom_id USING ERRCODE = 'no_data_found';
	END IF;
	INSERT INTO @extschema@.golden_sbom (tenant, sbom_id)
	VALUES (@extschema@.current_tenant(), sbom_id) ON CONFLICT DO NOTHING;
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n > 0;
END
$$;

CREATE FUNCTION @extschema@.golden_sbom_remove(sbom_id text) RETURNS boolean
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	n integer;
BEGIN
	DELETE FROM @extschema@.golden_sbom g
	WHERE g.tenant = @extschema@.current_tenant() AND g.sbom_id = golden_sbom_remove.sbom_id;
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n > 0;
END
$$;

CREATE FUNCTION @extschema@.stella_policy_run(policy_id text, mode text DEFAULT 'full',
	sbom_set text[] DEFAULT NULL, env jsonb DEFAULT '{}', priority text DEFAULT 'normal',
	idempotency_key text DEFAULT NULL, capture_explain boolean DEFAULT false,
	wait boolean DEFAULT false, evaluation_time timestamptz DEFAULT NULL)
	RETURNS text
	AS 'MODULE_PATHNAME', 'stellapolicy_run'
	LANGUAGE C VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp;

-- The run record in the StellaOps DTO shape (camelCase).  jsonb prints its
-- keys in its own order; canonical_json() gives the canonical bytes.
CREATE FUNCTION @extschema@.policy_run_status(run_id text)
	RETURNS jsonb
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	result jsonb;
BEGIN
	SELECT jsonb_build_object(
		'schemaVersion', 'scheduler.policy-run-status@1',
		'runId', r.run_id,
		'tenantId', r.tenant,
		'policyId', r.policy_id,
		'policyVersion', r.policy_version,
		'policyDigest', r.policy_digest,
		'mode', r.mode,
		'status', r.status,
		'priority', r.priority,
		'idempotencyKey', r.idempotency_key,
		'inputs', r.inputs || jsonb_build_object('advisoryCursor', r.advisory_cursor,
												 'vexCursor', r.vex_cursor),
		'stats', r.stats,
		'determinismHash', r.determinism_hash,
		'attempts', r.attempts,
		'error', r.error,
		'requestedBy', r.requested_by,
		'queuedAt', to_char(r.queued_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
		'startedAt', to_char(r.started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
		'finishedAt', to_char(r.finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))
	INTO result
	FROM @extschema@.policy_runs r
	WHERE r.run_id = policy_run_status.run_id AND r.tenant = @extschema@.current_tenant();
	IF result IS NULL THEN
		RAISE EXCEPTION 'run "%" does not exist', run_id USING ERRCODE = 'no_data_found';
	END IF;
	RETURN result;
END
$$;

CREATE FUNCTION @extschema@.canonical_json(document text)
	RETURNS text
	AS 'MODULE_PATHNAME', 'stellapolicy_canonical_json'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.canonical_json(text) IS
	'JSON with keys sorted bytewise and no insignificant whitespace: the bytes digests are computed over';

CREATE FUNCTION @extschema@.stella_policy_replay(run_id text)
	RETURNS jsonb
	AS 'MODULE_PATHNAME', 'stellapolicy_replay'
	LANGUAGE C VOLATILE STRICT SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp;

-- Clear the determinism guard of a policy, with the reason recorded.
CREATE FUNCTION @extschema@.stella_policy_guard_clear(policy_id text, reason text)
	RETURNS boolean
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	n integer;
BEGIN
	IF reason IS NULL OR length(btrim(reason)) < 3 THEN
		RAISE EXCEPTION 'a reason is required to clear the determinism guard'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	UPDATE @extschema@.policy_guard g SET cleared_at = clock_timestamp(),
		cleared_by = @extschema@.acting_role(), clear_reason = reason
	WHERE g.tenant = @extschema@.current_tenant() AND g.policy_id = stella_policy_guard_clear.policy_id
	  AND g.cleared_at IS NULL;
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n > 0;
END
$$;

CREATE FUNCTION @extschema@.stella_policy_simulate(policy_id text, version integer DEFAULT NULL,
	sbom_set text[] DEFAULT NULL, env jsonb DEFAULT '{}', capture_explain boolean DEFAULT false,
	base_version integer DEFAULT NULL)
	RETURNS jsonb
	AS 'MODULE_PATHNAME', 'stellapolicy_simulate'
	LANGUAGE C STABLE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp;
