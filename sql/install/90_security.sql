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
							 'golden_sbom']
	LOOP
		EXECUTE format('ALTER TABLE @extschema@.%I ENABLE ROW LEVEL SECURITY', t);
		EXECUTE format('CREATE POLICY tenant_isolation ON @extschema@.%I '
					   'USING (tenant = @extschema@.current_tenant())', t);
		EXECUTE format('GRANT SELECT ON @extschema@.%I TO stellapolicy_reader', t);
	END LOOP;
END
$rls$;

-- Views run with their owner's rights, so they filter by tenant themselves.
CREATE OR REPLACE VIEW @extschema@.vex_statement WITH (security_barrier) AS
SELECT v.statement_pk, v.tenant, v.format, v.document_digest, v.document_id,
	   v.issuer, v.statement_id, v.statement_time, v.vulnerability,
	   v.vuln_aliases, v.product_ref,
	   coalesce(v.product_purl, r.product_purl) AS product_purl,
	   v.product_context, v.product_versions,
	   (v.resolved OR r.statement_pk IS NOT NULL) AS resolved,
	   v.status, v.justification, v.raw_justification,
	   v.impact_statement, v.action_statement, v.change_seq,
	   greatest(v.change_seq, r.change_seq) AS effective_change_seq
FROM @extschema@.vex_raw v
LEFT JOIN @extschema@.vex_resolution r USING (statement_pk)
WHERE v.tenant = @extschema@.current_tenant();

CREATE OR REPLACE VIEW @extschema@.advisory_current WITH (security_barrier) AS
SELECT DISTINCT ON (tenant, advisory_id) *
FROM @extschema@.advisory_raw
WHERE tenant = @extschema@.current_tenant()
ORDER BY tenant, advisory_id, modified DESC, change_seq DESC;

GRANT SELECT ON @extschema@.vex_statement, @extschema@.advisory_current
	TO stellapolicy_reader;

-- Functions: nothing for PUBLIC unless granted below.
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA @extschema@ FROM PUBLIC;
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
	@extschema@.canonical_json(text)
	TO stellapolicy_reader;
GRANT EXECUTE ON FUNCTION
	@extschema@.stella_policy_run(text, text, text[], jsonb, text, text, boolean, boolean, timestamptz),
	@extschema@.stella_policy_replay(text),
	@extschema@.bundle_export(text)
	TO stellapolicy_operator;
GRANT EXECUTE ON FUNCTION @extschema@.bundle_import(bytea) TO stellapolicy_admin;
GRANT EXECUTE ON FUNCTION @extschema@.stella_policy_guard_clear(text, text) TO stellapolicy_admin;
GRANT EXECUTE ON FUNCTION @extschema@.golden_sbom_add(text),
	@extschema@.golden_sbom_remove(text),
	@extschema@.stella_policy_simulate(text, integer, text[], jsonb, boolean, integer)
	TO stellapolicy_author;
GRANT EXECUTE ON FUNCTION @extschema@.tenant_grant(text, name),
	@extschema@.tenant_revoke(text, name) TO stellapolicy_admin;
