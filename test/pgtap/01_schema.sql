-- The shape every other part relies on: tenant columns, row-level security,
-- pinned search paths, the version in one place.
BEGIN;
SELECT plan(10);

SELECT has_schema('stellapolicy');
SELECT is((SELECT extversion FROM pg_extension WHERE extname = 'stellapolicy'),
		  (SELECT default_version FROM pg_available_extensions WHERE name = 'stellapolicy'),
		  'the installed version is the control file''s default_version');

SELECT is(ARRAY(SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
				WHERE n.nspname = 'stellapolicy' AND c.relkind IN ('r', 'p')
				  AND NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant')
				ORDER BY 1), '{}'::text[], 'every table has a tenant column');

SELECT is(ARRAY(SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
				WHERE n.nspname = 'stellapolicy' AND c.relkind IN ('r', 'p') AND NOT c.relrowsecurity
				  AND c.relname <> 'tenant_access'
				ORDER BY 1), '{}'::text[], 'every tenant table has row-level security (tenant_access is admin-only)');

SELECT is(ARRAY(SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
				WHERE n.nspname = 'stellapolicy' AND p.prosecdef
				  AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) c WHERE c LIKE 'search_path=%')
				ORDER BY 1), '{}'::text[], 'every SECURITY DEFINER function pins its search_path');

SELECT is(ARRAY(SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
				WHERE n.nspname = 'stellapolicy' AND p.prokind = 'f'
				  AND has_function_privilege('public', p.oid, 'EXECUTE')
				ORDER BY 1),
		  ARRAY['stellapolicy.acting_role()', 'stellapolicy.current_tenant()'],
		  'PUBLIC may execute only the tenant and acting-role lookups');

SELECT has_index('stellapolicy', 'component', 'component_bom_idx', ARRAY['tenant', 'match_ecosystem', 'match_package', 'sbom_id'],
	'the BOM index maps (ecosystem, package) to SBOMs');
SELECT is(current_setting('stellapolicy.tenant'), 'default', 'the tenant setting defaults to default');
SELECT is(current_setting('stellapolicy.max_document_size'), '64MB', 'documents up to 64MB by default');

-- pg_dump dumps the rows of an extension's tables only when marked.
SELECT is(ARRAY(SELECT c.relname::text FROM pg_depend d JOIN pg_class c ON c.oid = d.objid
				WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_extension'::regclass
				  AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'stellapolicy')
				  AND c.relkind IN ('r', 'S')
				  AND c.oid <> ALL ((SELECT extconfig FROM pg_extension WHERE extname = 'stellapolicy')::oid[])
				ORDER BY 1),
		  '{}'::text[], 'every table and sequence of the extension is dumped by pg_dump');

SELECT * FROM finish();
ROLLBACK;
