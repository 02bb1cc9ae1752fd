-- pg_dump: the tables and sequences of an extension are recreated by
-- CREATE EXTENSION, and their rows are dumped only when they are marked as
-- configuration.  Every table that holds data is marked, and so is every
-- sequence, so that a dump restores the inputs, policies, runs and their
-- history, and the numbering goes on where it stopped.  The findings live
-- in partitions that runs create; they are not members of the extension
-- and are dumped as ordinary tables.  Restore with triggers disabled
-- (pg_restore --disable-triggers, as a superuser): see docs/operations.md,
-- "Backup and restore".
DO $dump$
DECLARE
	t text;
BEGIN
	FOREACH t IN ARRAY ARRAY['tenant_access', 'sbom', 'component', 'advisory_raw',
							 'advisory_affected', 'advisory_tag', 'vex_raw', 'vex_resolution',
							 'policy_version', 'policy_transition', 'policy_runs',
							 'policy_run_events', 'effective_finding_history', 'policy_explain',
							 'policy_guard', 'golden_sbom', 'input_change', 'change_horizon',
							 'queue_turn', 'nightly_schedule',
							 'change_seq', 'advisory_raw_revision_id_seq', 'vex_raw_statement_pk_seq',
							 'policy_run_events_event_id_seq', 'effective_finding_history_history_id_seq',
							 'policy_guard_guard_id_seq', 'input_change_change_id_seq']
	LOOP
		PERFORM pg_catalog.pg_extension_config_dump(format('@extschema@.%I', t)::regclass, '');
	END LOOP;
END
$dump$;
