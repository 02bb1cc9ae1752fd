#!/usr/bin/env bash
# Full-run throughput on a generated tenant, next to the cost of writing the
# same finding rows with COPY into an empty table of the same shape.
# Starts its own throwaway cluster (scripts/lib.sh).
#
#   bash test/bench/bench_run.sh [SBOMS [PER_SBOM [ADVISORIES [RUNS]]]]
#   default: 2000 SBOMs x 250 components = 500,000 components, 20,000 advisories, 5 runs
#
# Each run uses a new policy id (same source), so every run writes all of its
# findings into a fresh partition, as a first full run does.
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"
SBOMS=${1:-2000}
PER=${2:-250}
ADVISORIES=${3:-20000}
RUNS=${4:-5}

sp_install_packages
sp_build
trap 'sp_cluster_stop' EXIT
sp_cluster_start
cd "$SP_ROOT"

DB=stellapolicy_bench
psql -X -q -d postgres -c "CREATE DATABASE $DB"
psql -X -q -d "$DB" -c "CREATE EXTENSION stellapolicy"
psql -X -q -d "$DB" -v sboms="$SBOMS" -v per="$PER" -v advisories="$ADVISORIES" -f test/bench/gen_tenant.sql
psql -X -q -d "$DB" -c "VACUUM ANALYZE"
POLICY_FILE=${POLICY_FILE:-$SP_ROOT/../shared/policies/internal-only.stella}
[ -f "$POLICY_FILE" ] || POLICY_FILE=$SP_ROOT/test/policies/all-constructs.stella
echo "tenant: $((SBOMS * PER)) components in $SBOMS SBOMs, $ADVISORIES advisories; policy $(basename "$POLICY_FILE")"

run_s=()
copy_s=()
ratio_s=()
for i in $(seq "$RUNS"); do
	out=$(psql -X -At -d "$DB" -v pid="bench-$i" -v src="$(cat "$POLICY_FILE")" <<'SQL'
SET stellapolicy.tenant = 'bench';
SELECT stellapolicy.policy_create(:'pid', :'src') \gset
SELECT stellapolicy.policy_submit(:'pid', 1), stellapolicy.policy_approve(:'pid', 1), stellapolicy.policy_activate(:'pid', 1) \gset
-- Each timed operation starts from a checkpoint, so neither pays for the other's WAL.
CHECKPOINT;
SELECT clock_timestamp() AS t0 \gset
SELECT stellapolicy.stella_policy_run(:'pid', wait => true, evaluation_time => '2026-06-01T00:00:00Z', env => '{"exposure": "internal"}') AS run \gset
SELECT extract(epoch FROM clock_timestamp() - :'t0'::timestamptz) AS secs \gset
SELECT 'RESULT_RUN ' || :'secs' || ' ' || (stats->>'tuples') || ' ' || status FROM stellapolicy.policy_runs WHERE run_id = :'run';
-- The same rows, written by COPY into an empty table of the same shape (a
-- regular, WAL-logged table with the same primary key, like the partition).
DROP TABLE IF EXISTS public.bench_copy_target;
CREATE TABLE public.bench_copy_target (LIKE stellapolicy.effective_finding INCLUDING ALL,
	PRIMARY KEY (tenant, policy_id, sbom_id, finding_key));
-- The comparison is fair only while both tables have the same indexes.
SELECT (SELECT count(*) FROM pg_index WHERE indrelid = 'public.bench_copy_target'::regclass)
	 = (SELECT count(*) FROM pg_index i
		  JOIN pg_inherits h ON h.inhrelid = i.indrelid
		  JOIN pg_class c ON c.oid = h.inhrelid
		 WHERE h.inhparent = 'stellapolicy.effective_finding'::regclass
		   AND pg_get_expr(c.relpartbound, c.oid) = format('FOR VALUES IN (%L)', :'pid')) AS same_indexes \gset
\if :same_indexes
\else
\echo 'bench_copy_target and the partition differ in their indexes'
\quit
\endif
CREATE TEMP TABLE copy_source AS SELECT * FROM stellapolicy.effective_finding WHERE policy_id = :'pid';
\copy copy_source TO '/tmp/stellapolicy-bench-findings.copy'
CHECKPOINT;
SELECT clock_timestamp() AS t1 \gset
\copy public.bench_copy_target FROM '/tmp/stellapolicy-bench-findings.copy'
SELECT 'RESULT_COPY ' || extract(epoch FROM clock_timestamp() - :'t1'::timestamptz) || ' ' || (SELECT count(*) FROM public.bench_copy_target);
DROP TABLE public.bench_copy_target;
SQL
)
	r=$(echo "$out" | awk '/^RESULT_RUN /{print $2}')
	tuples=$(echo "$out" | awk '/^RESULT_RUN /{print $3}')
	status=$(echo "$out" | awk '/^RESULT_RUN /{print $4}')
	c=$(echo "$out" | awk '/^RESULT_COPY /{print $2}')
	rows=$(echo "$out" | awk '/^RESULT_COPY /{print $3}')
	if [ -z "$r" ] || [ -z "$c" ]; then
		printf 'run %d gave no figures:\n%s\n' "$i" "$out" >&2
		exit 1
	fi
	ratio=$(echo "$r / $c" | bc -l)
	printf 'run %d: %s, %s tuples in %.3f s; COPY of %s rows %.3f s; ratio %.2f\n' "$i" "$status" "$tuples" "$r" "$rows" "$c" "$ratio"
	run_s+=("$r")
	copy_s+=("$c")
	ratio_s+=("$ratio")
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
mr=$(median "${run_s[@]}")
mc=$(median "${copy_s[@]}")
printf 'median full run %.3f s (%.0f tuples/s); median COPY of the same rows %.3f s\n' \
	"$mr" "$(echo "$tuples / $mr" | bc -l)" "$mc"
printf 'median of the per-run ratios run/COPY %.2f (target: at most 2)\n' "$(median "${ratio_s[@]}")"
