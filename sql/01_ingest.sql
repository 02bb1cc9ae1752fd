-- Ingestion of the project's sample documents, as an operator sees it.
CREATE EXTENSION stellapolicy;
SET stellapolicy.tenant = 'regress';

\set doc `cat data/sample/sbom/shop-frontend.cdx.json`
SELECT stellapolicy.sbom_import(:'doc', 'shop-frontend', ARRAY['web', 'prod']);
\set doc `cat data/sample/sbom/billing-api.spdx.json`
SELECT stellapolicy.sbom_import(:'doc'::jsonb, 'billing-api');

SELECT sbom_id, revision, format, spec_version, subject, subject_purl, tags,
	   component_count, is_current
FROM stellapolicy.sbom ORDER BY sbom_id COLLATE "C";

SELECT sbom_id, ordinal, parent_ordinal AS parent, is_subject AS subj, purl,
	   match_ecosystem AS eco, match_package AS pkg, version, scope, licenses
FROM stellapolicy.component ORDER BY sbom_id COLLATE "C", ordinal;

\set doc `cat data/sample/advisories/SAMPLE-2026-0001.json`
SELECT stellapolicy.advisory_ingest(:'doc') AS stored;
\set doc `cat data/sample/advisories/SAMPLE-2026-0002.json`
SELECT stellapolicy.advisory_ingest(:'doc', 'sample-feed') AS stored;
-- the same array again: nothing new
SELECT stellapolicy.advisory_ingest(:'doc', 'sample-feed') AS stored;

SELECT advisory_id, source, aliases, modified, severity_word, supersedes
FROM stellapolicy.advisory_raw ORDER BY advisory_id COLLATE "C";

SELECT r.advisory_id, a.entry, a.ecosystem, a.match_package, a.package_purl,
	   a.range_count, a.versions, a.ranges
FROM stellapolicy.advisory_affected a
JOIN stellapolicy.advisory_raw r USING (revision_id)
ORDER BY r.advisory_id COLLATE "C", a.entry;

\set doc `cat data/sample/vex/shop-frontend.openvex.json`
SELECT stellapolicy.vex_ingest(:'doc') AS stored;
SELECT stellapolicy.vex_ingest(:'doc') AS stored_again;

SELECT format, issuer, statement_id, statement_time, vulnerability, vuln_aliases,
	   product_ref, product_purl, product_context, resolved, status, justification,
	   impact_statement
FROM stellapolicy.vex_statement;

-- purls in any allowed form come out canonical
SELECT p, stellapolicy.purl_canonical(p)
FROM (VALUES ('pkg:PyPI/Django_Rest_Framework@3.12.0'),
			 ('pkg:npm/%40Babel/Core@7.12.0'),
			 ('pkg://maven/org.apache.logging.log4j/log4j-core@2.14.1?type=jar&classifier='),
			 ('pkg:deb/debian/openssl@1.1.1n-0+deb10u3?distro=debian-10.2&arch=amd64'),
			 ('pkg:golang/golang.org/x/net@v0.31.0#http2')) v(p);
SELECT stellapolicy.purl_parse('pkg:deb/debian/libssl1.1@1.1.1n-0+deb10u3?arch=amd64&distro=debian-10.2&upstream=openssl');

-- refused documents say what and where
SELECT stellapolicy.sbom_import('{"bomFormat":"CycloneDX","specVersion":"1.5","components":[{"name":"a","purl":"pkg:npm"}]}');
SELECT stellapolicy.advisory_ingest('{"id":"X-1","modified":"2026-13-45T00:00:00Z"}');
SELECT stellapolicy.vex_ingest('{"@context":"https://openvex.dev/ns/v0.2.0","@id":"x","statements":[]}');
SELECT stellapolicy.purl_canonical('npm/lodash');

-- append-only
UPDATE stellapolicy.advisory_raw SET summary = 'edited';
SELECT count(*) AS rows_left FROM stellapolicy.vex_raw;
