-- The whole shared corpus imports, with counts verified by reading the
-- files (jq), and importing it again changes nothing.
BEGIN;
SELECT plan(52);
SET LOCAL stellapolicy.tenant = 'default';

\i build/corpus_load.sql

SELECT is((SELECT count(*) FROM stellapolicy.sbom), 16::bigint, '16 SBOMs (12 under sbom/, 4 BOMs under vex/cyclonedx/)');
SELECT is((SELECT count(*) FROM stellapolicy.sbom WHERE format = 'cyclonedx'), 13::bigint, '13 CycloneDX SBOMs');
SELECT is((SELECT count(*) FROM stellapolicy.sbom WHERE format = 'spdx'), 3::bigint, '3 SPDX SBOMs');
SELECT is((SELECT count(*) FROM stellapolicy.component), 1214::bigint, '1214 components in all');
SELECT results_eq(
	$$SELECT sbom_id, count(*)::int FROM stellapolicy.component GROUP BY 1 ORDER BY sbom_id COLLATE "C"$$,
	$$VALUES ('alpine-3.16.2-image', 16), ('bom-examples-vex-target-bom', 4),
			 ('debian-10-fluentd-image', 162), ('go-coredns-v1.9.3-image', 105),
			 ('go-minikube-v1.23.1', 184), ('go-trivy-v0.58.0', 422),
			 ('maven-dependency-track-4.5.0', 133), ('npm-toolkit-2020', 23),
			 ('npm-webapp-2019', 71), ('pypi-poetry-regression-issue702', 61),
			 ('pypi-webapp-2020', 23), ('spdx-spec-example-v2.3', 4),
			 ('use-case-6-bom-1', 1), ('use-case-6-bom-2', 1), ('use-case-6-bom-3', 1),
			 ('vexctl-csaf-example', 3)$$,
	'components per SBOM (subject plus nested components; SPDX packages)');
SELECT is((SELECT count(*) FROM stellapolicy.component WHERE purl IS NULL), 11::bigint,
	'components without a purl are kept (subjects and packages that have none)');
SELECT is((SELECT count(*) FROM stellapolicy.sbom WHERE component_count <> (
	SELECT count(*) FROM stellapolicy.component c WHERE c.sbom_id = sbom.sbom_id)), 0::bigint,
	'component_count agrees with the component rows');

-- Advisories.
SELECT is((SELECT count(*) FROM stellapolicy.advisory_raw), 142::bigint, '142 OSV revisions');
SELECT is((SELECT count(DISTINCT advisory_id) FROM stellapolicy.advisory_raw), 142::bigint, '142 distinct advisory ids');
SELECT is((SELECT count(*) FROM stellapolicy.advisory_raw WHERE withdrawn IS NOT NULL), 5::bigint, '5 withdrawn records kept');
SELECT is((SELECT sum(cardinality(aliases)) FROM stellapolicy.advisory_raw), 204::bigint, '204 aliases');
SELECT is((SELECT count(*) FROM stellapolicy.advisory_affected), 198::bigint, '198 affected entries');
SELECT is((SELECT sum(range_count) FROM stellapolicy.advisory_affected), 215::bigint, '215 ranges');
SELECT is((SELECT count(*) FROM stellapolicy.advisory_affected a, jsonb_array_elements(a.ranges) r WHERE r->>'type' = 'GIT'), 18::bigint, '18 GIT ranges kept');
SELECT is((SELECT sum(cardinality(versions)) FROM stellapolicy.advisory_affected), 2172::bigint, '2172 explicit versions');
SELECT results_eq(
	$$SELECT source, count(*)::int FROM stellapolicy.advisory_raw GROUP BY 1 ORDER BY source COLLATE "C"$$,
	$$VALUES ('CVE', 1), ('DSA', 1), ('GHSA', 40), ('GO', 70), ('PYSEC', 30)$$,
	'source defaults to the id prefix');
SELECT is((SELECT count(*) FROM stellapolicy.advisory_raw WHERE severity_word IS NOT NULL), 
	(SELECT count(*) FROM stellapolicy.advisory_raw WHERE document #> '{database_specific,severity}' IS NOT NULL),
	'database_specific.severity kept');
SELECT results_eq(
	$$SELECT base_ecosystem, release FROM stellapolicy.advisory_affected WHERE release IS NOT NULL ORDER BY 1, 2$$,
	$$VALUES ('Alpine', '3.3'), ('Alpine', '3.4'), ('Alpine', '3.5'), ('Alpine', '3.6'),
			 ('Alpine', '3.7'), ('Alpine', '3.8'), ('Debian', '7')$$,
	'distribution releases split from the ecosystem name');

-- VEX.
SELECT results_eq(
	$$SELECT format, count(*)::int FROM stellapolicy.vex_statement GROUP BY 1 ORDER BY 1$$,
	$$VALUES ('csaf', 100), ('cyclonedx', 8), ('openvex', 89)$$,
	'VEX statements per format: one per (document, vulnerability, product)');
SELECT is((SELECT count(*) FROM stellapolicy.vex_statement WHERE format = 'csaf' AND status = 'not_affected'), 40::bigint,
	'CSAF known_not_affected entries');
SELECT is((SELECT count(*) FROM stellapolicy.vex_statement WHERE format = 'csaf' AND product_purl IS NOT NULL), 34::bigint,
	'CSAF products with a purl helper');
SELECT is((SELECT count(*) FROM stellapolicy.vex_statement WHERE NOT resolved), 1::bigint,
	'one CycloneDX BOM-link stays unresolved (its BOM is not in the corpus)');
SELECT is((SELECT product_ref FROM stellapolicy.vex_statement WHERE NOT resolved),
	'urn:cdx:3e671687-395b-41f5-a30f-a58921a69b79/1#pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.10.0?type=jar',
	'the unresolved statement keeps its reference');
SELECT is((SELECT count(*) FROM stellapolicy.vex_statement WHERE product_context = 'pkg:golang/github.com/aquasecurity/trivy'), 20::bigint,
	'Trivy OpenVEX: subcomponents become products within the Trivy product');
SELECT is((SELECT product_purl FROM stellapolicy.vex_statement WHERE vulnerability = 'GO-2024-3333' AND format = 'openvex'),
	'pkg:golang/golang.org/x/net', 'a version-less subcomponent purl is kept without version');
SELECT is((SELECT count(*) FROM stellapolicy.vex_statement WHERE format = 'openvex' AND statement_time IS NULL), 0::bigint,
	'OpenVEX statements without a timestamp take the document''s');

-- Importing everything again is a no-op.
CREATE TEMP TABLE before AS
SELECT (SELECT count(*) FROM stellapolicy.sbom) s, (SELECT count(*) FROM stellapolicy.component) c,
	   (SELECT count(*) FROM stellapolicy.advisory_raw) a, (SELECT count(*) FROM stellapolicy.vex_raw) v,
	   (SELECT max(change_seq) FROM stellapolicy.advisory_raw) seq;
\i build/corpus_load.sql
SELECT is((SELECT count(*) FROM stellapolicy.sbom), (SELECT s FROM before), 're-import adds no SBOM');
SELECT is((SELECT count(*) FROM stellapolicy.component), (SELECT c FROM before), 're-import adds no component');
SELECT is((SELECT count(*) FROM stellapolicy.advisory_raw), (SELECT a FROM before), 're-import adds no advisory revision');
SELECT is((SELECT count(*) FROM stellapolicy.vex_raw), (SELECT v FROM before), 're-import adds no VEX statement');

\set doc `cat ../shared/corpus/advisories/osv/npm/GHSA-p6mc-m468-83gw.json`
SELECT is(stellapolicy.advisory_ingest(:'doc'), 0, 'advisory_ingest returns 0 for a known document');
SELECT is(stellapolicy.advisory_ingest(:'doc'::jsonb), 0, 'the same document given as jsonb is known too');
\set doc `cat ../shared/corpus/sbom/cyclonedx/npm-toolkit-2020.cdx.json`
SELECT is(stellapolicy.sbom_import(:'doc'), 'npm-toolkit-2020', 'same content without an id returns the existing id');

-- A new revision of an advisory points to the one it supersedes.
SELECT is(stellapolicy.advisory_ingest(jsonb_set(document, '{modified}', '"2030-01-01T00:00:00Z"')), 1,
	'a changed advisory is stored as a new revision')
FROM stellapolicy.advisory_raw WHERE advisory_id = 'GHSA-p6mc-m468-83gw';
SELECT is((SELECT count(*) FROM stellapolicy.advisory_raw WHERE advisory_id = 'GHSA-p6mc-m468-83gw'), 2::bigint,
	'both revisions are kept');
SELECT is((SELECT n.supersedes FROM stellapolicy.advisory_raw n WHERE n.advisory_id = 'GHSA-p6mc-m468-83gw' ORDER BY change_seq DESC LIMIT 1),
		  (SELECT o.revision_id FROM stellapolicy.advisory_raw o WHERE o.advisory_id = 'GHSA-p6mc-m468-83gw' ORDER BY change_seq LIMIT 1),
	'the new revision points to the one it supersedes');
SELECT is((SELECT modified FROM stellapolicy.advisory_current WHERE advisory_id = 'GHSA-p6mc-m468-83gw'), '2030-01-01 00:00:00+00'::timestamptz,
	'advisory_current shows the newest revision');

-- A re-imported SBOM with other content is a new revision.
SELECT is(stellapolicy.sbom_import(jsonb_set(document, '{components,0,version}', '"9.9.9"'), 'npm-toolkit-2020'), 'npm-toolkit-2020',
	'changed content under a known id keeps the id')
FROM stellapolicy.sbom WHERE sbom_id = 'npm-toolkit-2020';
SELECT results_eq($$SELECT revision, is_current FROM stellapolicy.sbom WHERE sbom_id = 'npm-toolkit-2020' ORDER BY revision$$,
	$$VALUES (1, false), (2, true)$$, 'revision 2 is current, revision 1 is kept');

-- A CycloneDX VEX that arrives before the BOMs it links to resolves later.
SET LOCAL stellapolicy.tenant = 'late-arrivals';
\set doc `cat ../shared/corpus/vex/cyclonedx/use-case-6-vex.json`
SELECT is(stellapolicy.vex_ingest(:'doc'), 3, 'three statements stored before their BOMs exist');
SELECT is((SELECT count(*) FROM stellapolicy.vex_statement WHERE NOT resolved), 3::bigint, 'all three wait unresolved (the view shows the current tenant only)');
\set doc `cat ../shared/corpus/vex/cyclonedx/use-case-6-bom-2.json`
SELECT stellapolicy.sbom_import(:'doc') AS late_id \gset
SELECT is(:'late_id', (SELECT 'sbom-' || substr(content_digest, 8, 16) FROM stellapolicy.sbom WHERE sbom_id = :'late_id'),
	'a BOM imported without an id gets one derived from its content digest');
SELECT results_eq(format($$SELECT v.product_ref, r.sbom_id FROM stellapolicy.vex_resolution r
	JOIN stellapolicy.vex_raw v USING (statement_pk) WHERE r.tenant = 'late-arrivals'$$),
	format($$VALUES ('urn:cdx:6ffac0b2-5246-4fb9-a6fe-7993041856a0/1#acme-product-2', %L)$$, :'late_id'),
	'importing the BOM resolves exactly the statement that links to it');
SELECT is((SELECT count(*) FROM stellapolicy.vex_statement WHERE NOT resolved), 2::bigint, 'the other two still wait');

-- A BOM without "version" is version 1 (CycloneDX's default) for BOM-links;
-- a ref that is not a well-formed BOM-link never resolves.
SET LOCAL stellapolicy.tenant = 'links';
SELECT stellapolicy.vex_ingest('{"bomFormat":"CycloneDX","specVersion":"1.5","vulnerabilities":[
	{"id":"CVE-2099-0001","analysis":{"state":"not_affected","justification":"code_not_reachable"},
	 "affects":[{"ref":"urn:cdx:11111111-2222-3333-4444-555555555555/1#lib-a"},
				{"ref":"urn:cdx:11111111-2222-3333-4444-555555555555/1x"}]}]}') \gset
SELECT stellapolicy.sbom_import('{"bomFormat":"CycloneDX","specVersion":"1.5","serialNumber":"urn:uuid:11111111-2222-3333-4444-555555555555",
	"metadata":{"component":{"type":"application","name":"app","bom-ref":"app"}},
	"components":[{"type":"library","name":"lib-a","version":"1.0.0","bom-ref":"lib-a","purl":"pkg:npm/lib-a@1.0.0"}]}', 'links-app') \gset
SELECT results_eq($$SELECT product_ref, resolved, product_purl FROM stellapolicy.vex_statement ORDER BY product_ref COLLATE "C"$$,
	$$VALUES ('urn:cdx:11111111-2222-3333-4444-555555555555/1#lib-a', true, 'pkg:npm/lib-a@1.0.0'),
			 ('urn:cdx:11111111-2222-3333-4444-555555555555/1x', false, NULL::text)$$,
	'a link to a BOM without "version" resolves as version 1; a malformed link does not');

-- Date-times without a zone are UTC, whatever the separator and the
-- session's time zone.
SET LOCAL TimeZone = 'Pacific/Kiritimati';
SELECT stellapolicy.advisory_ingest('{"id":"T-TZ-1","modified":"2024-01-31 12:00:00"}') \gset
SELECT stellapolicy.advisory_ingest('{"id":"T-TZ-2","modified":"2024-01-31t12:00:00"}') \gset
SELECT stellapolicy.advisory_ingest('{"id":"T-TZ-3","modified":"2024-01-31T12:00:00-05:00"}') \gset
SELECT results_eq($$SELECT advisory_id, to_char(modified AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') FROM stellapolicy.advisory_raw
	WHERE advisory_id LIKE 'T-TZ-%' ORDER BY 1$$,
	$$VALUES ('T-TZ-1', '2024-01-31 12:00'), ('T-TZ-2', '2024-01-31 12:00'), ('T-TZ-3', '2024-01-31 17:00')$$,
	'a date-time without a zone is UTC with a space or a lower-case t too; an offset is honoured');
RESET TimeZone;

-- KEV tags reach advisories through their aliases.
SET LOCAL stellapolicy.tenant = 'default';
SELECT is(stellapolicy.kev_import('{"title":"CISA KEV","vulnerabilities":[{"cveID":"CVE-2022-32149"},{"cveID":"CVE-2099-0001"}]}'), 2,
	'kev_import tags two CVE ids');
SELECT is(stellapolicy.advisory_tags('GO-2022-1059'), ARRAY['kev'], 'GO-2022-1059 has the tag through its alias');
SELECT is(stellapolicy.advisory_tags('GHSA-69ch-w2m2-3vjp'), ARRAY['kev'], 'so does the GHSA record of the same CVE');
SELECT is(stellapolicy.advisory_tags('GO-2021-0113'), '{}'::text[], 'an advisory of another CVE has no tag');
SELECT is(stellapolicy.advisory_tag_add('GO-2021-0113', 'reviewed'), true, 'advisory_tag_add adds a tag');
SELECT is(stellapolicy.advisory_tag_add('GO-2021-0113', 'reviewed'), false, 'adding it again is harmless');

SELECT * FROM finish();
ROLLBACK;
