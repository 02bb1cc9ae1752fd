#!/usr/bin/env bash
# The stellapolicy demo on a fresh Debian 12 machine, as root: installs
# packages, builds, starts a throwaway cluster, loads ../shared/corpus (or
# the project's sample data when it is absent), prints what was loaded, runs
# a policy, simulates a candidate version, replays the run, and shows an
# advisory arriving and the incremental run the background workers make.
#
#   bash scripts/demo.sh             run, then stop the cluster
#   SP_KEEP=1 bash scripts/demo.sh   leave the cluster running to explore
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DB=stellapolicy_demo
# The background workers serve the demo's database.
export SP_WORKER_DB=$DB
sp_install_packages
sp_build
if [ "${SP_KEEP:-0}" != 1 ]; then
	trap 'sp_cluster_stop' EXIT
fi
sp_cluster_start
cd "$SP_ROOT"

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

# Policies: the project's demo policy, a full run, a simulation, a replay.
log "running the demo policy"
psql -X -q -d "$DB" -P footer=off \
	-v base="$(cat data/policies/org-baseline.stella)" \
	-v strict="$(cat data/policies/org-baseline-strict.stella)" <<'SQL'
\set ON_ERROR_STOP 1
SELECT stellapolicy.policy_create('org-baseline', :'base') \gset
SELECT stellapolicy.policy_submit('org-baseline', 1), stellapolicy.policy_approve('org-baseline', 1),
	   stellapolicy.policy_activate('org-baseline', 1) \gset
SELECT stellapolicy.stella_policy_run('org-baseline', env => '{"exposure": "internet"}', wait => true) AS run \gset

\echo
\echo '== Full run of policy org-baseline (Org Baseline, version 1), env exposure=internet'
SELECT run_id AS "run", status, stats->>'tuples' AS "tuples", stats->>'rulesFired' AS "rules fired",
	   stats->>'findingsWritten' AS "findings written", stats->>'vexOverrides' AS "VEX overrides",
	   round(extract(epoch FROM finished_at - started_at)::numeric, 3) AS "seconds"
FROM stellapolicy.policy_runs WHERE run_id = :'run';

\echo '== Findings by status and severity band'
SELECT status AS "status",
	   count(*) FILTER (WHERE severity_band = 'Critical') AS "Critical",
	   count(*) FILTER (WHERE severity_band = 'High') AS "High",
	   count(*) FILTER (WHERE severity_band = 'Medium') AS "Medium",
	   count(*) FILTER (WHERE severity_band = 'Low') AS "Low",
	   count(*) FILTER (WHERE severity_band = 'None') AS "None",
	   count(*) AS "total"
FROM stellapolicy.effective_finding WHERE policy_id = 'org-baseline'
GROUP BY status ORDER BY status COLLATE "C";

\echo '== Blocked findings'
SELECT sbom_id AS "SBOM", component_purl AS "component", advisory_id AS "advisory",
	   severity_band AS "band", score, rule_name AS "rule"
FROM stellapolicy.effective_finding WHERE policy_id = 'org-baseline' AND status = 'blocked'
ORDER BY score DESC, sbom_id COLLATE "C", finding_key COLLATE "C" LIMIT 10;

-- A candidate version that also blocks High, simulated over a golden set.
SELECT stellapolicy.policy_create('org-baseline', :'strict') \gset
SELECT count(stellapolicy.golden_sbom_add(sbom_id)) FROM stellapolicy.sbom WHERE is_current \gset
SELECT stellapolicy.stella_policy_simulate('org-baseline', env => '{"exposure": "internet"}') AS sim \gset
\echo '== Simulation of version 2 (blocks High too) against the active version 1'
SELECT s.side AS "version", x.key AS "status", x.value::int AS "findings"
FROM (SELECT 'base v1' AS side, (:'sim'::jsonb)->'base'->'countsByStatus' AS c
	  UNION ALL SELECT 'candidate v2', (:'sim'::jsonb)->'candidate'->'countsByStatus') s,
	 jsonb_each_text(s.c) x
WHERE x.value::int > 0
ORDER BY x.key COLLATE "C", s.side COLLATE "C";
SELECT (:'sim'::jsonb)->'diff'->>'added' AS "added", (:'sim'::jsonb)->'diff'->>'removed' AS "removed",
	   (:'sim'::jsonb)->'diff'->>'changed' AS "changed", (:'sim'::jsonb)->'diff'->>'unchanged' AS "unchanged";
SELECT e->>'sbomId' AS "SBOM", e->>'findingKey' AS "finding", e->'before'->>'status' AS "before",
	   e->'after'->>'status' AS "after", e->'after'->>'band' AS "band"
FROM jsonb_array_elements((:'sim'::jsonb)->'diff'->'examples') e LIMIT 5;

\echo '== Replay of the run from its recorded inputs'
SELECT stellapolicy.stella_policy_replay(:'run') AS rp \gset
SELECT (:'rp'::jsonb)->>'match' AS "hashes match", (:'rp'::jsonb)->>'recordedHash' AS "recorded",
	   (:'rp'::jsonb)->>'replayedHash' AS "replayed";
SQL

# An advisory arrives: the workers re-evaluate what it touches, on their own.
for _ in $(seq 300); do
	[ "$(psql -X -At -d "$DB" -c "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'stellapolicy worker'")" -gt 0 ] && break
	sleep 0.1
done
log "ingesting a new advisory; the background workers take it from here"
psql -X -q -d "$DB" -P footer=off <<'SQL'
\set ON_ERROR_STOP 1
SELECT c.match_package AS pkg, c.match_ecosystem AS eco FROM stellapolicy.component c
 JOIN stellapolicy.sbom s USING (tenant, sbom_id, revision)
 WHERE s.is_current AND c.match_ecosystem IN ('npm', 'PyPI', 'Go', 'Maven')
 GROUP BY 1, 2 ORDER BY count(DISTINCT c.sbom_id) DESC, c.match_package COLLATE "C" LIMIT 1 \gset
SELECT stellapolicy.advisory_ingest(jsonb_build_object('id', 'DEMO-2026-0001', 'modified', '2026-11-30T00:00:00Z',
	'summary', 'Demo advisory: every version of ' || :'pkg',
	'database_specific', jsonb_build_object('severity', 'CRITICAL'),
	'affected', jsonb_build_array(jsonb_build_object('package', jsonb_build_object('ecosystem', :'eco', 'name', :'pkg'),
		'ranges', jsonb_build_array(jsonb_build_object('type', 'ECOSYSTEM',
			'events', jsonb_build_array(jsonb_build_object('introduced', '0'))))))), 'demo') \gset
-- Wait (at most 30 s) for the incremental run the workers queue and execute.
DO $$
BEGIN
	FOR i IN 1..300 LOOP
		EXIT WHEN EXISTS (SELECT 1 FROM stellapolicy.policy_runs WHERE mode = 'incremental'
						   AND status = 'succeeded' AND inputs->'scope'->'advisories' ? 'DEMO-2026-0001');
		PERFORM pg_sleep(0.1);
	END LOOP;
END
$$;
\echo
\echo '== An advisory arrived (DEMO-2026-0001, every version of' :pkg '); the incremental run that followed'
SELECT r.run_id AS "run", r.mode, r.status, r.inputs->'scope'->'advisories' AS "scope",
	   r.stats->>'tuples' AS "tuples", r.stats->>'findingsWritten' AS "findings written",
	   round(extract(epoch FROM r.finished_at - a.ingested_at)::numeric, 3) AS "seconds after ingest"
FROM stellapolicy.policy_runs r, stellapolicy.advisory_raw a
WHERE r.mode = 'incremental' AND r.inputs->'scope'->'advisories' ? 'DEMO-2026-0001'
  AND a.advisory_id = 'DEMO-2026-0001'
ORDER BY r.queued_at;
SELECT sbom_id AS "SBOM", component_purl AS "component", status, severity_band AS "band", rule_name AS "rule"
FROM stellapolicy.effective_finding WHERE advisory_id = 'DEMO-2026-0001'
ORDER BY sbom_id COLLATE "C" LIMIT 10;
SQL

psql -X -At -d "$DB" <<SQL
SELECT format('Loaded %s SBOMs (%s components), %s advisory revisions (%s affected entries), %s VEX statements in $secs s; '
			  || 'policy org-baseline found %s findings (%s blocked), its replay %s; '
			  || 'a new advisory was evaluated by %s incremental run(s) of the workers, %s finding(s).',
	(SELECT count(*) FROM stellapolicy.sbom WHERE is_current),
	(SELECT count(*) FROM stellapolicy.component),
	(SELECT count(*) FROM stellapolicy.advisory_raw),
	(SELECT count(*) FROM stellapolicy.advisory_affected),
	(SELECT count(*) FROM stellapolicy.vex_raw),
	(SELECT count(*) FROM stellapolicy.effective_finding WHERE policy_id = 'org-baseline'),
	(SELECT count(*) FROM stellapolicy.effective_finding WHERE policy_id = 'org-baseline' AND status = 'blocked'),
	CASE WHEN (SELECT determinism_hash FROM stellapolicy.policy_runs WHERE policy_id = 'org-baseline' LIMIT 1) IS NOT NULL
		 THEN 'reproduced its hash' ELSE 'did not run' END,
	(SELECT count(*) FROM stellapolicy.policy_runs WHERE mode = 'incremental' AND status = 'succeeded'
	    AND inputs->'scope'->'advisories' ? 'DEMO-2026-0001'),
	(SELECT count(*) FROM stellapolicy.effective_finding WHERE advisory_id = 'DEMO-2026-0001'));
SQL
if [ "${SP_KEEP:-0}" = 1 ]; then
	echo "The cluster keeps running: psql -h $SP_SOCK -p $SP_PORT -U postgres $DB"
fi
