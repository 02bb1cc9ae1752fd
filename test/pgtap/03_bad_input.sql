-- Bad documents are refused whole: a proper SQLSTATE (never XX000), a
-- message that says what and where (JSON path), and no row left behind.
BEGIN;
SELECT plan(57);

SET LOCAL stellapolicy.tenant = 'default';

\i test/pgtap/helpers.psql

CREATE FUNCTION pg_temp.rows() RETURNS bigint LANGUAGE sql AS $$
	SELECT (SELECT count(*) FROM stellapolicy.sbom) + (SELECT count(*) FROM stellapolicy.component)
		 + (SELECT count(*) FROM stellapolicy.advisory_raw) + (SELECT count(*) FROM stellapolicy.advisory_affected)
		 + (SELECT count(*) FROM stellapolicy.vex_raw) + (SELECT count(*) FROM stellapolicy.advisory_tag)
$$;

SELECT is(pg_temp.rows(), 0::bigint, 'the tenant starts empty');

-- SBOMs ---------------------------------------------------------------
SELECT matches(pg_temp.err($$SELECT stellapolicy.sbom_import('{"bomFormat":')$$),
	'^22032: malformed JSON in SBOM at line 1, column \d+', 'truncated JSON');
SELECT matches(pg_temp.err($$SELECT stellapolicy.sbom_import('[1,2]')$$),
	'^22023: invalid SBOM at \$: expected a JSON object', 'an array is not an SBOM');
SELECT matches(pg_temp.err($$SELECT stellapolicy.sbom_import('42')$$),
	'^22032: malformed JSON in SBOM', 'a bare number');
SELECT matches(pg_temp.err($$SELECT stellapolicy.sbom_import('{"foo": 1}')$$),
	'^22023: unknown SBOM format', 'unknown format');
SELECT matches(pg_temp.err($$SELECT stellapolicy.sbom_import('{"bomFormat":"CycloneDX","components":[]}')$$),
	'^22023: invalid SBOM at \$\.specVersion: required field "specVersion" is missing', 'CycloneDX without specVersion');
SELECT matches(pg_temp.err($$SELECT stellapolicy.sbom_import('{"bomFormat":"CycloneDX","specVersion":"2.0","components":[]}')$$),
	'^0A000: unsupported CycloneDX specVersion "2.0"', 'unsupported CycloneDX version');
SELECT matches(pg_temp.err($$SELECT stellapolicy.sbom_import('{"bomFormat":"CycloneDX","specVersion":"1.5","components":[{"type":"library"}]}')$$),
	'^22023: invalid SBOM at \$\.components\[0\]\.name: required field "name" is missing', 'component without name');
SELECT matches(pg_temp.err($$SELECT stellapolicy.sbom_import('{"bomFormat":"CycloneDX","specVersion":"1.5","components":[{"name":7}]}')$$),
	'^22023: invalid SBOM at \$\.components\[0\]\.name: expected a string, found a number', 'name is a number');
SELECT matches(pg_temp.err($$SELECT stellapolicy.sbom_import('{"bomFormat":"CycloneDX","specVersion":"1.5","components":[{"name":"a","purl":"pkg:"}]}')$$),
	'^22023: invalid SBOM at \$\.components\[0\]\.purl: invalid purl "pkg:"', 'purl with no type');
SELECT matches(pg_temp.err($$SELECT stellapolicy.sbom_import('{"bomFormat":"CycloneDX","specVersion":"1.5","components":[{"name":"a","purl":"npm/a@1"}]}')$$),
	'^22023: invalid SBOM at \$\.components\[0\]\.purl: invalid purl', 'purl without scheme');
SELECT matches(pg_temp.err($$SELECT stellapolicy.sbom_import('{"bomFormat":"CycloneDX","specVersion":"1.5","components":[{"name":"a"},{"name":"b","components":[{"name":"c","purl":"pkg:maven/x@1"}]}]}')$$),
	'^22023: invalid SBOM at \$\.components\[1\]\.components\[0\]\.purl: invalid purl', 'bad purl deep in the tree names its path');
SELECT matches(pg_temp.err($$SELECT stellapolicy.sbom_import('{"bomFormat":"CycloneDX","specVersion":"1.5","components":{"name":"a"}}')$$),
	'^22023: invalid SBOM at \$\.components: expected an array, found an object', 'components is an object');
SELECT matches(pg_temp.err($$SELECT stellapolicy.sbom_import('{"bomFormat":"CycloneDX","specVersion":"1.5","version":-3,"components":[{"name":"a"}]}')$$),
	'^22023: invalid SBOM at \$\.version: expected a positive integer', 'negative BOM version');
SELECT matches(pg_temp.err(format($$SELECT stellapolicy.sbom_import(%L)$$,
	'{"bomFormat":"CycloneDX","specVersion":"1.5","components":[' || repeat('{"name":"n","components":[', 70) || '{"name":"leaf"}' || repeat(']}', 70) || ']}')),
	'^54000: invalid SBOM at \$(\.components\[0\])+.*: components are nested more than 64 deep', 'nesting limit');
SELECT matches(pg_temp.err($$SELECT stellapolicy.sbom_import('{"bomFormat":"CycloneDX","specVersion":"1.5"}')$$),
	'^22023: invalid SBOM at \$: the BOM has neither metadata.component nor components', 'empty BOM');
SELECT matches(pg_temp.err($$SELECT stellapolicy.sbom_import('{"bomFormat":"CycloneDX","bomFormat":"CycloneDX","specVersion":"1.5"}')$$),
	'^22032: malformed JSON in SBOM at line 1, column \d+: duplicate object key', 'duplicate keys are refused');
SELECT matches(pg_temp.err($$SELECT stellapolicy.sbom_import('{"spdxVersion":"SPDX-2.1","name":"x","packages":[]}')$$),
	'^0A000: unsupported SPDX version "SPDX-2.1"', 'unsupported SPDX version');
SELECT matches(pg_temp.err($$SELECT stellapolicy.sbom_import('{"spdxVersion":"SPDX-2.3","name":"x"}')$$),
	'^22023: invalid SBOM at \$\.packages: required field "packages" is missing', 'SPDX without packages');
SELECT matches(pg_temp.err($$SELECT stellapolicy.sbom_import('{"spdxVersion":"SPDX-2.3","name":"x","packages":[{"name":"p","SPDXID":"SPDXRef-p","externalRefs":[{"referenceType":"purl","referenceLocator":"pkg:pypi/"}]}]}')$$),
	'^22023: invalid SBOM at \$\.packages\[0\]\.externalRefs\[0\]\.referenceLocator: invalid purl', 'SPDX purl that does not parse');
SELECT matches(pg_temp.err($$SELECT stellapolicy.sbom_import('{"spdxVersion":"SPDX-2.3","name":"x","packages":[{"name":"p"}]}')$$),
	'^22023: invalid SBOM at \$\.packages\[0\]\.SPDXID: required field "SPDXID" is missing', 'SPDX package without SPDXID');
SELECT matches(pg_temp.err($$SELECT stellapolicy.sbom_import(NULL::text)$$),
	'^22004: SBOM document must not be null', 'null document');
SELECT matches(pg_temp.err($$SELECT stellapolicy.sbom_import('{"bomFormat":"CycloneDX","specVersion":"1.5","components":[{"name":"a"}]}', '')$$),
	'^22023: invalid SBOM id ""', 'empty SBOM id');
SELECT matches(pg_temp.err($$SELECT stellapolicy.sbom_import('{"bomFormat":"CycloneDX","specVersion":"1.5","components":[{"name":"a\u0000b"}]}')$$),
	'^22032: malformed JSON in SBOM', 'NUL escape inside a string');
SET LOCAL stellapolicy.max_document_size = 1;
SELECT matches(pg_temp.err(format($$SELECT stellapolicy.sbom_import(%L)$$,
	'{"bomFormat":"CycloneDX","specVersion":"1.5","components":[{"name":"' || repeat('x', 2000) || '"}]}')),
	'^54000: SBOM of \d+ bytes exceeds the limit of 1024 bytes', 'document over stellapolicy.max_document_size');
RESET stellapolicy.max_document_size;

-- OSV -----------------------------------------------------------------
SELECT matches(pg_temp.err($$SELECT stellapolicy.advisory_ingest('{"modified":"2024-01-01T00:00:00Z"}')$$),
	'^22023: invalid OSV document at \$\.id: required field "id" is missing', 'OSV without id');
SELECT matches(pg_temp.err($$SELECT stellapolicy.advisory_ingest('{"id":"X-1"}')$$),
	'^22023: invalid OSV document at \$\.modified: required field "modified" is missing', 'OSV without modified');
SELECT matches(pg_temp.err($$SELECT stellapolicy.advisory_ingest('{"id":"X-1","modified":"yesterday"}')$$),
	'^22007: invalid OSV document at \$\.modified: "yesterday" is not an RFC 3339 timestamp', 'bad timestamp');
SELECT matches(pg_temp.err($$SELECT stellapolicy.advisory_ingest('{"id":"X-1","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"npm","name":"a"},"ranges":[{"type":"FOO","events":[{"introduced":"0"}]}]}]}')$$),
	'^22023: invalid OSV document at \$\.affected\[0\]\.ranges\[0\]\.type: unknown range type "FOO"', 'unknown range type');
SELECT matches(pg_temp.err($$SELECT stellapolicy.advisory_ingest('{"id":"X-1","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"npm","name":"a"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0","fixed":"1.0.0"}]}]}]}')$$),
	'^22023: invalid OSV document at \$\.affected\[0\]\.ranges\[0\]\.events\[0\]: an event must have exactly one of', 'event with two bounds');
SELECT matches(pg_temp.err($$SELECT stellapolicy.advisory_ingest('{"id":"X-1","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"npm","name":"a"},"ranges":[{"type":"SEMVER","events":[{"introduced2":"0"}]}]}]}')$$),
	'^22023: invalid OSV document at \$\.affected\[0\]\.ranges\[0\]\.events\[0\]\.introduced2: unknown event "introduced2"', 'unknown event');
SELECT matches(pg_temp.err($$SELECT stellapolicy.advisory_ingest('{"id":"X-1","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"npm","name":"a"},"ranges":[{"type":"SEMVER","events":[]}]}]}')$$),
	'^22023: invalid OSV document at \$\.affected\[0\]\.ranges\[0\]\.events: a range needs at least one event', 'range without events');
SELECT matches(pg_temp.err($$SELECT stellapolicy.advisory_ingest('[]')$$),
	'^22023: invalid OSV document at \$: the array holds no OSV records', 'empty array');
SELECT matches(pg_temp.err($$SELECT stellapolicy.advisory_ingest('{"id":"X-1","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"npm"}}]}')$$),
	'^22023: invalid OSV document at \$\.affected\[0\]\.package\.name: required field "name" is missing', 'package without name');
SELECT matches(pg_temp.err($$SELECT stellapolicy.advisory_ingest('{"id":"X-1","modified":"2024-01-01T00:00:00Z","aliases":["CVE-1", 5]}')$$),
	'^22023: invalid OSV document at \$\.aliases\[1\]: expected a non-empty string', 'alias that is not a string');
SELECT matches(pg_temp.err($$SELECT stellapolicy.advisory_ingest('[{"id":"X-1","modified":"2024-01-01T00:00:00Z"},{"id":"X-2"}]')$$),
	'^22023: invalid OSV document at \$\[1\]\.modified: required field "modified" is missing', 'second record of an array is bad');
SELECT matches(pg_temp.err($$SELECT stellapolicy.advisory_ingest('{"id":"X-1","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"npm","name":"a","purl":"pkg:npm"}}]}')$$),
	'^22023: invalid OSV document at \$\.affected\[0\]\.package\.purl: invalid purl', 'advisory purl that does not parse');

-- VEX -----------------------------------------------------------------
SELECT matches(pg_temp.err($$SELECT stellapolicy.vex_ingest('{"a":1}')$$),
	'^22023: unknown VEX format', 'unknown VEX format');
SELECT matches(pg_temp.err($$SELECT stellapolicy.vex_ingest('{"@context":"https://openvex.dev/ns/v0.2.0","@id":"d","statements":[{"vulnerability":{"name":"CVE-1"},"products":[{"@id":"pkg:npm/a@1"}],"status":"maybe"}]}')$$),
	'^22023: invalid VEX document at \$\.statements\[0\]\.status: unknown status "maybe"', 'OpenVEX unknown status');
SELECT matches(pg_temp.err($$SELECT stellapolicy.vex_ingest('{"@context":"https://openvex.dev/ns/v0.2.0","@id":"d"}')$$),
	'^22023: invalid VEX document at \$\.statements: required field "statements" is missing', 'OpenVEX without statements');
SELECT matches(pg_temp.err($$SELECT stellapolicy.vex_ingest('{"@context":"https://openvex.dev/ns/v0.2.0","@id":"d","statements":[{"vulnerability":{"name":"CVE-1"},"products":[{"@id":"pkg:npm/a@1"}],"status":"not_affected","justification":"trust_me"}]}')$$),
	'^22023: invalid VEX document at \$\.statements\[0\]\.justification: unknown justification "trust_me"', 'OpenVEX unknown justification');
SELECT matches(pg_temp.err($$SELECT stellapolicy.vex_ingest('{"@context":"https://openvex.dev/ns/v0.2.0","@id":"d","statements":[{"vulnerability":{"name":"CVE-1"},"products":[{"@id":"pkg:/x"}],"status":"fixed"}]}')$$),
	'^22023: invalid VEX document at \$\.statements\[0\]\.products\[0\]\.@id: invalid purl', 'OpenVEX product purl that does not parse');
SELECT matches(pg_temp.err($$SELECT stellapolicy.vex_ingest('{"bomFormat":"CycloneDX","specVersion":"1.4","vulnerabilities":[{"id":"CVE-1","analysis":{"state":"pondering"},"affects":[{"ref":"x"}]}]}')$$),
	'^22023: invalid VEX document at \$\.vulnerabilities\[0\]\.analysis\.state: unknown analysis state "pondering"', 'CycloneDX unknown state');
SELECT matches(pg_temp.err($$SELECT stellapolicy.vex_ingest('{"bomFormat":"CycloneDX","specVersion":"1.4","vulnerabilities":[{"id":"CVE-1","affects":[{"ref":"x"}]}]}')$$),
	'^22023: invalid VEX document at \$\.vulnerabilities\[0\]\.analysis: required field "analysis" is missing', 'CycloneDX without analysis');
SELECT matches(pg_temp.err($$SELECT stellapolicy.vex_ingest('{"bomFormat":"CycloneDX","specVersion":"1.4","components":[{"name":"a"}]}')$$),
	'^22023: CycloneDX document has no vulnerabilities', 'a BOM given to vex_ingest');
SELECT matches(pg_temp.err($$SELECT stellapolicy.vex_ingest('{"document":{"csaf_version":"2.1","category":"csaf_vex"}}')$$),
	'^0A000: unsupported CSAF version "2.1"', 'CSAF 2.1');
SELECT matches(pg_temp.err($$SELECT stellapolicy.vex_ingest('{"document":{"csaf_version":"2.0","category":"csaf_base"}}')$$),
	'^0A000: unsupported CSAF document category "csaf_base"', 'CSAF that is not VEX');
SELECT matches(pg_temp.err($$SELECT stellapolicy.vex_ingest('{"document":{"csaf_version":"2.0","category":"csaf_vex","publisher":{"name":"P"},"tracking":{"id":"T"}},"product_tree":{"full_product_names":[{"product_id":"A","name":"a"}]},"vulnerabilities":[{"cve":"CVE-1","product_status":{"fixed":["B"]}}]}')$$),
	'^22023: invalid VEX document at \$\.vulnerabilities\[0\]\.product_status\.fixed\[0\]: product id "B" is not defined in product_tree', 'CSAF undefined product');

SELECT matches(pg_temp.err($$SELECT stellapolicy.vex_ingest('{"bomFormat":"CycloneDX","specVersion":"9.9","vulnerabilities":[{"id":"CVE-2099-0002","analysis":{"state":"not_affected"},"affects":[{"ref":"pkg:npm/a@1.0.0"}]}]}')$$),
	'^0A000: unsupported CycloneDX specVersion "9.9"', 'CycloneDX VEX in an unsupported version');

SELECT matches(pg_temp.err($$SELECT stellapolicy.sbom_import('{"bomFormat":"CycloneDX","specVersion":"1.5","components":[' || repeat('{},', 800000) || '{}]}')$$),
	'^54000: SBOM of [0-9]+ bytes needs more than [0-9]+ bytes of memory to parse', 'a document of many tiny values is refused before it takes the server''s memory');

-- KEV and tags ----------------------------------------------------------
SELECT matches(pg_temp.err($$SELECT stellapolicy.kev_import('{"vulnerabilities":[{"cveID":"CVE-2021-44228"},{"cveID":"not-a-cve"}]}')$$),
	'^22023: invalid KEV catalogue at \$\.vulnerabilities\[1\]\.cveID: "not-a-cve" is not a CVE id', 'KEV entry that is not a CVE');
SELECT matches(pg_temp.err($$SELECT stellapolicy.kev_import('{"title":"x"}')$$),
	'^22023: invalid KEV catalogue at \$\.vulnerabilities: required field "vulnerabilities" is missing', 'KEV without vulnerabilities');
SELECT matches(pg_temp.err($$SELECT stellapolicy.advisory_tag_add('GHSA-x', 'KEV!')$$),
	'^22023: invalid tag "KEV!"', 'tag with bad characters');
SELECT matches(pg_temp.err($$SELECT stellapolicy.sbom_import('{"bomFormat":"CycloneDX","specVersion":"1.5","components":[]}', 't-tags', ARRAY['prod', 'KEV!'])$$),
	'^22023: invalid SBOM tag "KEV!"', 'SBOM tag with bad characters');
SELECT matches(pg_temp.err($$SELECT stellapolicy.sbom_import('{"bomFormat":"CycloneDX","specVersion":"1.5","components":[]}', 't-tags', ARRAY[NULL]::text[])$$),
	'^22023: SBOM tags must not be null', 'a null SBOM tag');
SELECT matches(pg_temp.err($$SELECT stellapolicy.sbom_import('{"bomFormat":"CycloneDX","specVersion":"1.5","components":[]}', 't-tags', '{{a},{b}}')$$),
	'^22023: SBOM tags must be a one-dimensional array', 'SBOM tags as a two-dimensional array');

SELECT is(pg_temp.rows(), 0::bigint, 'no refused document left a row behind');
SELECT * FROM finish();
ROLLBACK;
