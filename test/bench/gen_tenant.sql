-- A generated tenant for benchmarks: :sboms SBOMs of :per components each,
-- drawn from 40,000 packages in five ecosystems (npm, PyPI, Maven, Go,
-- Debian), and :advisories advisories of one or two ranges each.  Rows are
-- written straight into the tables (the ingestion path is not what is
-- measured here); keys are computed as ingestion computes them.
\set ON_ERROR_STOP 1
SET stellapolicy.tenant = 'bench';

CREATE TEMP TABLE pkg AS
SELECT p, (ARRAY['npm', 'PyPI', 'Maven', 'Go', 'Debian'])[p % 5 + 1] AS eco,
	   CASE p % 5 WHEN 0 THEN 'npm' WHEN 1 THEN 'pypi' WHEN 2 THEN 'maven' WHEN 3 THEN 'golang' ELSE 'deb' END AS ptype,
	   CASE p % 5 WHEN 2 THEN 'org.bench' || (p % 97) WHEN 3 THEN 'github.com/bench' || (p % 89) WHEN 4 THEN 'debian' END AS ns,
	   'pkg' || p AS name
FROM generate_series(0, 39999) p;

INSERT INTO stellapolicy.sbom (tenant, sbom_id, format, spec_version, content_digest, document, component_count)
SELECT 'bench', 'bench-' || lpad(i::text, 5, '0'), 'cyclonedx', '1.6',
	   'sha256:' || md5(i::text) || md5('b' || i), '{}', :per
FROM generate_series(1, :sboms) i;

-- Component j of SBOM i uses a pseudo-random package and version.
INSERT INTO stellapolicy.component (tenant, sbom_id, revision, ordinal, purl, purl_type, namespace, name,
	version, match_ecosystem, match_package, match_version)
SELECT 'bench', 'bench-' || lpad(i::text, 5, '0'), 1, j,
	   'pkg:' || k.ptype || '/' || coalesce(k.ns || '/', '') || k.name || '@' || k.ver,
	   k.ptype, k.ns, k.name, k.ver, k.eco,
	   CASE k.eco WHEN 'Maven' THEN k.ns || ':' || k.name WHEN 'Go' THEN k.ns || '/' || k.name ELSE k.name END,
	   k.ver
FROM generate_series(1, :sboms) i, generate_series(0, :per - 1) j,
LATERAL (SELECT pkg.*, CASE pkg.eco WHEN 'Go' THEN 'v' ELSE '' END || ((i * 31 + j) % 4) || '.' || ((i * 7 + j * 13) % 10) || '.' || ((i + j * 3) % 12)
				|| CASE pkg.eco WHEN 'Debian' THEN '-1' ELSE '' END AS ver
		 FROM pkg WHERE pkg.p = (i * 7919 + j * 104729) % 40000) k;

INSERT INTO stellapolicy.advisory_raw (tenant, advisory_id, source, modified, content_digest, document)
SELECT 'bench', 'BENCH-' || lpad(a::text, 6, '0'), 'BENCH', '2026-01-01'::timestamptz + a * interval '1 minute',
	   'sha256:' || md5('a' || a) || md5('adv' || a), '{}'
FROM generate_series(1, :advisories) a;

INSERT INTO stellapolicy.advisory_affected (tenant, revision_id, entry, ecosystem, base_ecosystem, package,
	match_package, ranges, range_count)
SELECT 'bench', r.revision_id, 0, k.eco, k.eco,
	   CASE k.eco WHEN 'Maven' THEN k.ns || ':' || k.name WHEN 'Go' THEN k.ns || '/' || k.name ELSE k.name END,
	   CASE k.eco WHEN 'Maven' THEN k.ns || ':' || k.name WHEN 'Go' THEN k.ns || '/' || k.name ELSE k.name END,
	   CASE WHEN a % 3 = 0 THEN
		 jsonb_build_array(jsonb_build_object('type', rt, 'events', jsonb_build_array(
			 jsonb_build_object('introduced', '0'), jsonb_build_object('fixed', (a % 4) || '.5.0' || sfx))),
		   jsonb_build_object('type', rt, 'events', jsonb_build_array(
			 jsonb_build_object('introduced', '3.0.0' || sfx), jsonb_build_object('last_affected', '3.2.1' || sfx))))
	   ELSE
		 jsonb_build_array(jsonb_build_object('type', rt, 'events', jsonb_build_array(
			 jsonb_build_object('introduced', (a % 2) || '.2.0' || sfx), jsonb_build_object('fixed', (a % 2 + 1) || '.8.3' || sfx))))
	   END,
	   CASE WHEN a % 3 = 0 THEN 2 ELSE 1 END
FROM stellapolicy.advisory_raw r,
	 LATERAL (SELECT substr(r.advisory_id, 7)::int AS a) x,
	 LATERAL (SELECT pkg.*, CASE pkg.eco WHEN 'Go' THEN 'SEMVER' ELSE 'ECOSYSTEM' END AS rt,
					 CASE pkg.eco WHEN 'Debian' THEN '-1' ELSE '' END AS sfx
			  FROM pkg WHERE pkg.p = (x.a * 2654435761::bigint) % 40000) k
WHERE r.tenant = 'bench';
