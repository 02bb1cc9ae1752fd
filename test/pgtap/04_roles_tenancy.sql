-- Tenancy and roles on the input tables: each role sees its own tenant only,
-- may do what its name says, and nothing writes the tables directly.
BEGIN;
SELECT plan(63);

CREATE ROLE sp_t_reader LOGIN;
CREATE ROLE sp_t_author LOGIN;
CREATE ROLE sp_t_operator LOGIN;
CREATE ROLE sp_t_admin LOGIN;
CREATE ROLE sp_t_plain LOGIN;
GRANT stellapolicy_reader TO sp_t_reader;
GRANT stellapolicy_author TO sp_t_author;
GRANT stellapolicy_operator TO sp_t_operator;
GRANT stellapolicy_admin TO sp_t_admin;

\i test/pgtap/helpers.psql

-- Two tenants with one SBOM each, loaded by the superuser.
SET LOCAL stellapolicy.tenant = 'acme';
SELECT stellapolicy.sbom_import('{"bomFormat":"CycloneDX","specVersion":"1.5","components":[{"name":"left-pad","purl":"pkg:npm/left-pad@1.3.0"}]}', 'acme-app');
SET LOCAL stellapolicy.tenant = 'globex';
SELECT stellapolicy.sbom_import('{"bomFormat":"CycloneDX","specVersion":"1.5","components":[{"name":"lodash","purl":"pkg:npm/lodash@4.17.15"},{"name":"ms","purl":"pkg:npm/ms@2.0.0"}]}', 'globex-app');
RESET stellapolicy.tenant;

SELECT stellapolicy.tenant_grant('acme', 'sp_t_reader');
SELECT stellapolicy.tenant_grant('acme', 'sp_t_operator');
SELECT stellapolicy.tenant_grant('acme', 'sp_t_author');
SELECT stellapolicy.tenant_grant('globex', 'stellapolicy_admin');

-- The roles themselves.
SELECT is((SELECT bool_and(NOT rolcanlogin) FROM pg_roles WHERE rolname LIKE 'stellapolicy\_%'), true, 'the four roles are NOLOGIN');
SELECT ok(pg_has_role('stellapolicy_admin', 'stellapolicy_operator', 'MEMBER')
	  AND pg_has_role('stellapolicy_admin', 'stellapolicy_author', 'MEMBER')
	  AND pg_has_role('stellapolicy_author', 'stellapolicy_reader', 'MEMBER')
	  AND pg_has_role('stellapolicy_operator', 'stellapolicy_reader', 'MEMBER')
	  AND NOT pg_has_role('stellapolicy_reader', 'stellapolicy_operator', 'MEMBER'),
	'admin holds author and operator; both hold reader');

-- Reader.
SELECT is(pg_temp.as_role('sp_t_reader', 'acme', 'SELECT string_agg(sbom_id, '','') FROM stellapolicy.sbom'), 'acme-app', 'reader sees its tenant''s SBOM');
SELECT is(pg_temp.as_role('sp_t_reader', 'acme', 'SELECT count(*) FROM stellapolicy.component'), '1', 'reader sees its tenant''s components only');
SELECT is(pg_temp.as_role('sp_t_reader', 'acme', $$SELECT count(*) FROM stellapolicy.component WHERE tenant = 'globex'$$), '0', 'asking for the other tenant by name returns nothing');
SELECT matches(pg_temp.as_role('sp_t_reader', 'globex', 'SELECT count(*) FROM stellapolicy.sbom'), '^42501: permission denied for tenant "globex"', 'reader cannot switch to a tenant it was not granted');
SELECT is(pg_temp.as_role('sp_t_reader', 'default', 'SELECT count(*) FROM stellapolicy.sbom'), '0', 'the default tenant is open to every role at install');
SELECT matches(pg_temp.as_role('sp_t_reader', 'acme', $$SELECT stellapolicy.sbom_import('{}')$$), '^42501: permission denied for function sbom_import', 'reader cannot ingest');
SELECT matches(pg_temp.as_role('sp_t_reader', 'acme', $$INSERT INTO stellapolicy.sbom (tenant, sbom_id, format, spec_version, content_digest, document) VALUES ('acme','x','spdx','2.3','sha256:' || repeat('0',64), '{}') RETURNING 1$$), '^42501: permission denied for table sbom', 'reader cannot insert directly');
SELECT is(pg_temp.as_role('sp_t_reader', 'acme', $$SELECT stellapolicy.purl_canonical('pkg:PyPI/Django_Rest@1')$$), 'pkg:pypi/django-rest@1', 'reader may use the purl helpers');

-- Author: reads like a reader; no ingestion.
SELECT is(pg_temp.as_role('sp_t_author', 'acme', 'SELECT count(*) FROM stellapolicy.sbom'), '1', 'author reads its tenant');
SELECT matches(pg_temp.as_role('sp_t_author', 'acme', $$SELECT stellapolicy.advisory_ingest('{}')$$), '^42501: permission denied for function advisory_ingest', 'author cannot ingest advisories');

-- Operator: ingests into its own tenant, never another's.
SELECT is(pg_temp.as_role('sp_t_operator', 'acme', $$SELECT stellapolicy.sbom_import('{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"name":"a","purl":"pkg:npm/a@1.0.0"}]}', 'acme-two')$$), 'acme-two', 'operator imports an SBOM');
SELECT is((SELECT tenant FROM stellapolicy.sbom WHERE sbom_id = 'acme-two'), 'acme', 'the row is stamped with the operator''s tenant');
SELECT is(pg_temp.as_role('sp_t_operator', 'acme', $$SELECT stellapolicy.advisory_ingest('{"id":"GHSA-test-0001","modified":"2024-01-01T00:00:00Z"}')$$), '1', 'operator ingests an advisory');
SELECT is(pg_temp.as_role('sp_t_operator', 'acme', $$SELECT stellapolicy.vex_ingest('{"@context":"https://openvex.dev/ns/v0.2.0","@id":"x","author":"A","statements":[{"vulnerability":{"name":"GHSA-test-0001"},"products":[{"@id":"pkg:npm/a@1.0.0"}],"status":"not_affected","justification":"component_not_present"}]}')$$), '1', 'operator ingests VEX');
SELECT matches(pg_temp.as_role('sp_t_operator', 'globex', $$SELECT stellapolicy.sbom_import('{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"name":"b"}]}')$$), '^42501: permission denied for tenant "globex"', 'operator cannot ingest into another tenant');
SELECT matches(pg_temp.as_role('sp_t_operator', 'acme', $$UPDATE stellapolicy.sbom SET active = false RETURNING 1$$), '^42501: permission denied for table sbom', 'operator cannot update tables directly');
SELECT matches(pg_temp.as_role('sp_t_operator', 'acme', $$DELETE FROM stellapolicy.vex_raw RETURNING 1$$), '^42501: permission denied for table vex_raw', 'operator cannot delete directly');
SELECT is(pg_temp.as_role('sp_t_operator', 'acme', $$SELECT stellapolicy.sbom_set_active('acme-app', false)$$), 'false', 'operator deactivates an SBOM through the function');
SELECT matches(pg_temp.as_role('sp_t_operator', 'acme', $$SELECT stellapolicy.sbom_set_active('globex-app', false)$$), '^P0002: SBOM "globex-app" does not exist', 'another tenant''s SBOM does not exist for it');
SELECT matches(pg_temp.as_role('sp_t_operator', 'acme', $$SELECT stellapolicy.tenant_grant('acme', 'sp_t_plain')$$), '^42501: permission denied for function tenant_grant', 'operator cannot grant tenants');

-- Admin: grants tenants; acts for those granted to it.
SELECT is(pg_temp.as_role('sp_t_admin', 'globex', 'SELECT count(*) FROM stellapolicy.component'), '2', 'admin reads a tenant granted to stellapolicy_admin');
SELECT is(pg_temp.as_role('sp_t_admin', 'globex', $$SELECT stellapolicy.tenant_grant('globex', 'sp_t_reader')$$), '', 'admin grants a tenant to a role');
SELECT is(pg_temp.as_role('sp_t_reader', 'globex', 'SELECT count(*) FROM stellapolicy.component'), '2', 'the grant takes effect at once');
SELECT is(pg_temp.as_role('sp_t_admin', 'globex', $$SELECT stellapolicy.tenant_revoke('globex', 'sp_t_reader')$$), 'true', 'admin revokes it');
SELECT matches(pg_temp.as_role('sp_t_admin', 'globex', $$SELECT stellapolicy.tenant_grant('acme', 'sp_t_admin')$$),
	'^42501: permission denied for tenant "acme"', 'admin cannot grant itself a tenant it does not hold');
SELECT matches(pg_temp.as_role('sp_t_admin', 'globex', $$SELECT stellapolicy.tenant_revoke('acme', 'sp_t_reader')$$),
	'^42501: permission denied for tenant "acme"', 'nor revoke another tenant''s grants');
SELECT is(pg_temp.as_role('sp_t_admin', 'globex', $$SELECT string_agg(DISTINCT tenant, ',' ORDER BY tenant) FROM stellapolicy.tenant_access$$),
	'default,globex', 'admin reads the grants of the tenants it holds only');
SELECT matches(pg_temp.as_role('sp_t_admin', 'globex', $$SELECT stellapolicy.tenant_grant('globex', 'sp_t_no_such_role')$$),
	'^42704: role "sp_t_no_such_role" does not exist', 'a grant to a role that does not exist is refused');
SELECT is((SELECT count(*) FROM stellapolicy.tenant_access WHERE tenant = 'acme' AND grantee = 'sp_t_admin'), 0::bigint,
	'and nothing was written');
SELECT matches(pg_temp.as_role('sp_t_reader', 'globex', 'SELECT count(*) FROM stellapolicy.component'), '^42501', 'the revoke takes effect at once');

-- Policies: authors write and submit, only admins approve and activate.
SELECT is(pg_temp.as_role('sp_t_author', 'acme', $$SELECT stellapolicy.policy_create('p1', 'policy "P" syntax "stella-dsl@1" { rule r { when true then status := "blocked" because "b" } }')$$), '1', 'author creates a policy');
SELECT is(pg_temp.as_role('sp_t_author', 'acme', $$SELECT stellapolicy.policy_submit('p1', 1)$$), 'submitted', 'author submits it');
SELECT matches(pg_temp.as_role('sp_t_author', 'acme', $$SELECT stellapolicy.policy_approve('p1', 1)$$), '^42501: permission denied for function policy_approve', 'author cannot approve');
SELECT matches(pg_temp.as_role('sp_t_reader', 'acme', $$SELECT stellapolicy.policy_create('p2', 'x')$$), '^42501: permission denied for function policy_create', 'reader cannot create policies');
SELECT matches(pg_temp.as_role('sp_t_operator', 'acme', $$SELECT stellapolicy.policy_compile('x')$$), '^42501: permission denied for function policy_compile', 'operator does not compile');
SELECT stellapolicy.tenant_grant('acme', 'sp_t_admin');
SELECT is(pg_temp.as_role('sp_t_admin', 'acme', $$SELECT stellapolicy.policy_approve('p1', 1)$$), 'approved', 'admin approves');
SELECT is(pg_temp.as_role('sp_t_admin', 'acme', $$SELECT stellapolicy.policy_activate('p1', 1)$$), 'active', 'admin activates');
SELECT results_eq($$SELECT to_status, actor::text COLLATE "default" FROM stellapolicy.policy_transition WHERE policy_id = 'p1' ORDER BY at$$,
	$$VALUES ('draft', 'sp_t_author'), ('submitted', 'sp_t_author'), ('approved', 'sp_t_admin'), ('active', 'sp_t_admin')$$,
	'each transition records the acting role, not the function owner');
SELECT is((SELECT imported_by::text FROM stellapolicy.sbom WHERE sbom_id = 'acme-two'), 'sp_t_operator', 'imports record the acting role too');
SELECT is(pg_temp.as_role('sp_t_admin', 'globex', $$SELECT count(*) FROM stellapolicy.policy_version$$), '0', 'policies are per tenant');

-- Runs: operators run, authors simulate, nobody writes findings directly.
SELECT matches(pg_temp.as_role('sp_t_operator', 'acme', $$SELECT stellapolicy.stella_policy_run('p1', wait => true)$$), '^run:p1:', 'operator runs the active policy');
SELECT is(pg_temp.as_role('sp_t_reader', 'acme', $$SELECT count(*) FROM stellapolicy.effective_finding$$), '0', 'reader reads its tenant''s findings');
SELECT matches(pg_temp.as_role('sp_t_author', 'acme', $$SELECT stellapolicy.stella_policy_run('p1')$$), '^42501: permission denied for function stella_policy_run', 'author cannot run');
SELECT is(pg_temp.as_role('sp_t_author', 'acme', $$SELECT stellapolicy.policy_create('p1', 'policy "P2" syntax "stella-dsl@1" { rule r { when true then status := "affected" because "b" } }')$$), '2', 'author drafts version 2');
SELECT is(pg_temp.as_role('sp_t_author', 'acme', $$SELECT (stellapolicy.stella_policy_simulate('p1', sbom_set => ARRAY['acme-app'])->'candidate'->>'version')$$), '2', 'author simulates it');
SELECT matches(pg_temp.as_role('sp_t_reader', 'acme', $$SELECT stellapolicy.stella_policy_simulate('p1', sbom_set => ARRAY['acme-app'])$$), '^42501', 'reader cannot simulate');
SELECT matches(pg_temp.as_role('sp_t_operator', 'acme', $$INSERT INTO stellapolicy.effective_finding (tenant, policy_id, sbom_id, finding_key, component_purl, advisory_id, status, severity_band, score, quiet, policy_version, run_id, first_seen, last_seen, verdict_digest) VALUES ('acme', 'p1', 'x', 'k', 'p', 'a', 'fixed', 'None', 0, false, 1, 'r', now(), now(), 'd') RETURNING 1$$), '^42501: permission denied for table effective_finding', 'operator cannot insert findings');
SELECT matches(pg_temp.as_role('sp_t_admin', 'acme', $$DELETE FROM stellapolicy.effective_finding_history RETURNING 1$$), '^42501: permission denied for table effective_finding_history', 'admin cannot delete history');
SELECT matches(pg_temp.as_role('sp_t_operator', 'acme', $$SELECT stellapolicy.stella_policy_guard_clear('p1', 'because')$$), '^42501', 'operator cannot clear the determinism guard');

-- A role outside the four.
SELECT matches(pg_temp.as_role('sp_t_plain', 'default', 'SELECT count(*) FROM stellapolicy.sbom'), '^42501: permission denied for schema stellapolicy', 'a plain role sees nothing');

-- The default tenant can be closed.
SELECT is(stellapolicy.tenant_revoke('default', 'public'), true, 'the public grant of the default tenant can be removed');
SELECT matches(pg_temp.as_role('sp_t_reader', 'default', 'SELECT count(*) FROM stellapolicy.sbom'), '^42501: permission denied for tenant "default"', 'then the default tenant is closed too');

-- The tenant setting itself.
SELECT throws_ok($$SET stellapolicy.tenant = ''$$, '22023', NULL, 'an empty tenant name is refused');
SELECT throws_ok($$SET stellapolicy.tenant = E'a\nb'$$, '22023', NULL, 'control characters in a tenant name are refused');
SELECT throws_ok($$SET stellapolicy.no_such_setting = 1$$, '42602', NULL, 'the stellapolicy. prefix is reserved');

-- Append-only tables refuse changes even from the owner.
SELECT throws_ok($$UPDATE stellapolicy.advisory_raw SET summary = 'x'$$, '55000', 'table "advisory_raw" is append-only', 'UPDATE on advisory_raw is refused');
SELECT throws_ok($$DELETE FROM stellapolicy.vex_raw$$, '55000', 'table "vex_raw" is append-only', 'DELETE on vex_raw is refused');
SELECT throws_ok($$TRUNCATE stellapolicy.advisory_raw CASCADE$$, '55000', NULL, 'TRUNCATE on advisory_raw is refused');
SELECT throws_ok($$TRUNCATE stellapolicy.advisory_affected$$, '55000', NULL, 'TRUNCATE on the derived advisory_affected is refused');
SELECT throws_ok($$TRUNCATE stellapolicy.component$$, '55000', NULL, 'TRUNCATE on component is refused');
SELECT throws_ok($$UPDATE stellapolicy.sbom SET document = '{}'$$, '55000', 'SBOM revisions are immutable', 'SBOM content cannot change');

SELECT * FROM finish();
ROLLBACK;
