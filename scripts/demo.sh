#!/usr/bin/env bash
# The stellapolicy demo on a fresh Debian 12 machine, as root: installs
# packages, builds, starts a throwaway cluster, loads ../shared/corpus (or
# the project's sample data when it is absent) and prints what was loaded.
#
#   bash scripts/demo.sh             run, then stop the cluster
#   SP_KEEP=1 bash scripts/demo.sh   leave the cluster running to explore
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

sp_install_packages
sp_build
if [ "${SP_KEEP:-0}" != 1 ]; then
	trap 'sp_cluster_stop' EXIT
fi
sp_cluster_start
cd "$SP_ROOT"

DB=stellapolicy_demo
psql -X -q -d postgres -c "CREATE DATABASE $DB"
psql -X -q -d "$DB" -c "CREATE EXTENSION stellapolicy"

if [ -d "$SP_CORPUS/sbom" ]; then
	src=$(cd "$SP_CORPUS" && pwd)
else
	src=$SP_ROOT/data/sample
	log "no corpus at $SP_CORPUS; loading the project's sample data"
fi
log "loading $src"
mkdir -p build
if [ "$src" = "$SP_ROOT/data/sample" ]; then
	{
		echo "\\set ON_ERROR_STOP 1"
		for f in "$src"/sbom/*.json; do
			echo "\\set doc \`cat '$f'\`"
			echo "SELECT stellapolicy.sbom_import(:'doc', '$(basename "$f" .json)') \\gset"
		done
		for f in "$src"/advisories/*.json; do
			echo "\\set doc \`cat '$f'\`"; echo "SELECT stellapolicy.advisory_ingest(:'doc') \\gset"
		done
		for f in "$src"/vex/*.json; do
			echo "\\set doc \`cat '$f'\`"; echo "SELECT stellapolicy.vex_ingest(:'doc') \\gset"
		done
	} > build/demo_load.sql
else
	bash scripts/corpus.sh "$src" > build/demo_load.sql
fi
start=$(date +%s.%N)
psql -X -q -d "$DB" -f build/demo_load.sql
secs=$(echo "$(date +%s.%N) - $start" | bc)

psql -X -d "$DB" -P footer=off <<SQL
\\echo
\\echo '== SBOMs loaded'
SELECT s.sbom_id AS "SBOM", s.format || ' ' || s.spec_version AS "format",
	   s.component_count AS "components",
	   count(c.purl) AS "with purl",
	   coalesce(string_agg(DISTINCT c.match_ecosystem, ', ' ORDER BY c.match_ecosystem), '-') AS "ecosystems"
FROM stellapolicy.sbom s
JOIN stellapolicy.component c USING (tenant, sbom_id, revision)
GROUP BY s.sbom_id, s.format, s.spec_version, s.component_count
ORDER BY s.sbom_id COLLATE "C";

\\echo '== Advisories loaded (current revisions)'
SELECT coalesce(a.base_ecosystem, '(no package)') COLLATE "C" AS "ecosystem",
	   count(DISTINCT r.advisory_id) AS "advisories",
	   count(DISTINCT r.advisory_id) FILTER (WHERE r.withdrawn IS NOT NULL) AS "withdrawn",
	   count(*) AS "affected entries",
	   sum(a.range_count) AS "ranges",
	   sum(cardinality(a.versions)) AS "listed versions"
FROM stellapolicy.advisory_current r
JOIN stellapolicy.advisory_affected a USING (revision_id)
GROUP BY 1 ORDER BY 1;

\\echo '== VEX statements loaded'
SELECT format AS "format", status AS "status", count(*) AS "statements",
	   count(product_purl) AS "with purl", count(*) FILTER (WHERE NOT resolved) AS "unresolved",
	   count(DISTINCT issuer) AS "issuers"
FROM stellapolicy.vex_statement
GROUP BY 1, 2 ORDER BY 1, 2;
SQL

psql -X -At -d "$DB" <<SQL
SELECT format('Loaded %s SBOMs (%s components), %s advisory revisions (%s affected entries), %s VEX statements in $secs s.',
	(SELECT count(*) FROM stellapolicy.sbom WHERE is_current),
	(SELECT count(*) FROM stellapolicy.component),
	(SELECT count(*) FROM stellapolicy.advisory_raw),
	(SELECT count(*) FROM stellapolicy.advisory_affected),
	(SELECT count(*) FROM stellapolicy.vex_raw));
SQL
if [ "${SP_KEEP:-0}" = 1 ]; then
	echo "The cluster keeps running: psql -h $SP_SOCK -p $SP_PORT -U postgres $DB"
fi
