-- Row-level security and grants for the input tables.
--
-- Each table shows a role only the rows of its current tenant (checked by
-- current_tenant(), which refuses a tenant the role was not granted).  No
-- role gets INSERT, UPDATE or DELETE on these tables: writes go through the
-- SECURITY DEFINER ingestion functions, which stamp the tenant themselves.

DO $rls$
DECLARE
	t text;
BEGIN
	FOREACH t IN ARRAY ARRAY['sbom', 'component', 'advisory_raw',
							 'advisory_affected', 'advisory_tag', 'vex_raw',
							 'vex_resolution', 'policy_version', 'policy_transition',
							 'policy_runs', 'policy_run_events', 'effective_finding',
							 'effective_finding_history', 'policy_explain', 'policy_guard',
							 'golden_sbom', 'input_change', 'queue_turn', 'nightly_schedule',
							 'change_horizon']
	LOOP
		EXECUTE format('ALTER TABLE @extschema@.%I ENABLE ROW LEVEL SECURITY', t);
		EXECUTE format('CREATE POLICY tenant_isolation ON @extschema@.%I '
					   'USING (tenant = @extschema@.current_tenant())', t);
		EXECUTE format('GRANT SELECT ON @extschema@.%I TO stellapolicy_reader', t);
	END LOOP;
END
$rls$;

GRANT SELECT ON @extschema@.vex_statement, @extschema@.advisory_current
	TO stellapolicy_reader;

-- Functions: nothing for PUBLIC unless granted below.
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA @extschema@ FROM PUBLIC;
-- The row filter of tenant_access runs as the reader of the table.
GRANT EXECUTE ON FUNCTION @extschema@.tenant_held(text) TO stellapolicy_admin;
GRANT EXECUTE ON FUNCTION @extschema@.current_tenant(), @extschema@.acting_role() TO PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.purl_canonical(text),
	@extschema@.purl_parse(text), @extschema@.advisory_tags(text),
	@extschema@.version_cmp(text, text, text),
	@extschema@.advisory_affects(text, text),
	@extschema@.candidate_tuples(text[], bigint, bigint),
	@extschema@.vers_contains(text, text)
	TO stellapolicy_reader;
GRANT EXECUTE ON FUNCTION
	@extschema@.sbom_import(text, text, text[]),
	@extschema@.sbom_import(jsonb, text, text[]),
	@extschema@.advisory_ingest(text, text),
	@extschema@.advisory_ingest(jsonb, text),
	@extschema@.vex_ingest(text, text),
	@extschema@.vex_ingest(jsonb, text),
	@extschema@.kev_import(text),
	@extschema@.kev_import(jsonb),
	@extschema@.advisory_tag_add(text, text),
	@extschema@.sbom_set_active(text, boolean)
	TO stellapolicy_operator;
GRANT EXECUTE ON FUNCTION @extschema@.policy_compile(text),
	@extschema@.policy_create(text, text),
	@extschema@.policy_submit(text, integer),
	@extschema@.policy_evaluate(text, integer, text, text, text, jsonb, boolean, timestamptz)
	TO stellapolicy_author;
GRANT EXECUTE ON FUNCTION @extschema@.policy_approve(text, integer),
	@extschema@.policy_activate(text, integer),
	@extschema@.policy_archive(text, integer)
	TO stellapolicy_admin;
GRANT EXECUTE ON FUNCTION @extschema@.policy_run_status(text),
	@extschema@.canonical_json(text),
	@extschema@.cvss_score(text)
	TO stellapolicy_reader;
GRANT EXECUTE ON FUNCTION
	@extschema@.stella_policy_run(text, text, text[], jsonb, text, text, boolean, boolean, timestamptz),
	@extschema@.stella_policy_replay(text),
	@extschema@.bundle_export(text)
	TO stellapolicy_operator;
GRANT EXECUTE ON FUNCTION @extschema@.bundle_import(bytea) TO stellapolicy_admin;
GRANT EXECUTE ON FUNCTION @extschema@.stella_policy_cancel(text),
	@extschema@.nightly_enqueue(text)
	TO stellapolicy_operator;
GRANT EXECUTE ON FUNCTION @extschema@.stella_policy_wait(text, interval),
	@extschema@.workers_available()
	TO stellapolicy_reader;
GRANT SELECT ON @extschema@.pg_stat_policy_runs, @extschema@.pg_stat_policy_queue,
	@extschema@.pg_stat_progress_policy_run, @extschema@.policy_alerts
	TO stellapolicy_reader;
GRANT EXECUTE ON FUNCTION @extschema@.baseline_run(text, text),
	@extschema@.changes_since(text, pg_snapshot)
	TO stellapolicy_reader;
GRANT EXECUTE ON FUNCTION @extschema@.alert_settings(), @extschema@.run_progress(),
	@extschema@.prom_label(text), @extschema@.metrics()
	TO stellapolicy_reader;
GRANT USAGE ON SCHEMA @extschema@ TO pg_monitor;
GRANT EXECUTE ON FUNCTION @extschema@.metrics() TO pg_monitor;
GRANT EXECUTE ON FUNCTION @extschema@.nightly_register(text, bigint, text),
	@extschema@.nightly_unregister(text)
	TO stellapolicy_admin;
GRANT EXECUTE ON FUNCTION @extschema@.schedule_nightly(text, text),
	@extschema@.unschedule_nightly(text),
	@extschema@.cron_job_name(text, text)
	TO stellapolicy_admin;
GRANT EXECUTE ON FUNCTION @extschema@.stella_policy_guard_clear(text, text) TO stellapolicy_admin;
GRANT EXECUTE ON FUNCTION @extschema@.prune(interval) TO stellapolicy_admin;
GRANT EXECUTE ON FUNCTION @extschema@.golden_sbom_add(text),
	@extschema@.golden_sbom_remove(text),
	@extschema@.stella_policy_simulate(text, integer, text[], jsonb, boolean, integer)
	TO stellapolicy_author;
GRANT EXECUTE ON FUNCTION @extschema@.tenant_grant(text, name),
	@extschema@.tenant_revoke(text, name) TO stellapolicy_admin;
