#!/usr/bin/env bash
# Candidate-tuple throughput on a generated tenant, and comparisons per second
# per version scheme.  Starts its own throwaway cluster (scripts/lib.sh).
#
#   bash test/bench/bench_candidates.sh [SBOMS [PER_SBOM [ADVISORIES [RUNS]]]]
#   default: 2000 SBOMs x 250 components = 500,000 components, 20,000 advisories, 5 runs
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"
SBOMS=${1:-2000}
PER=${2:-250}
ADVISORIES=${3:-20000}
RUNS=${4:-5}

sp_install_packages
sp_build
make -C "$SP_ROOT" -s bench-bins >/dev/null
trap 'sp_cluster_stop' EXIT
sp_cluster_start
cd "$SP_ROOT"

echo "== version comparisons per second (median of 5 runs, one core)"
build/bench/bench_version

DB=stellapolicy_bench
psql -X -q -d postgres -c "CREATE DATABASE $DB"
psql -X -q -d "$DB" -c "CREATE EXTENSION stellapolicy"
t0=$(date +%s.%N)
psql -X -q -d "$DB" -v sboms="$SBOMS" -v per="$PER" -v advisories="$ADVISORIES" -f test/bench/gen_tenant.sql
echo "generated $SBOMS SBOMs x $PER components and $ADVISORIES advisories in $(echo "$(date +%s.%N) - $t0" | bc) s"

# Time one call of candidate_tuples RUNS times; print the median.
run() {
	local label=$1
	local times=()
	for i in $(seq "$RUNS"); do
		local out
		out=$(psql -X -At -d "$DB" -c "SET stellapolicy.tenant = 'bench'" -c '\timing on' \
			-c "SELECT count(*) FROM stellapolicy.candidate_tuples()" | tr '\n' ' ')
		tuples=$(echo "$out" | tr ' ' '\n' | grep -E '^[0-9]+$' | head -1)
		times+=("$(echo "$out" | sed -n 's/.*Time: \([0-9.]*\) ms.*/\1/p')")
	done
	local med
	med=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
	printf '%-34s %9s tuples  median %8.1f ms  (%s)  %10.0f tuples/s\n' "$label" "$tuples" "$med" \
		"$(printf '%s ' "${times[@]}")" "$(echo "$tuples / ($med / 1000)" | bc -l)"
}

echo "== candidate_tuples() over $((SBOMS * PER)) components and $ADVISORIES advisories ($RUNS runs)"
run "right after the load (no ANALYZE)"
psql -X -q -d "$DB" -c "VACUUM ANALYZE"
run "after VACUUM ANALYZE"
psql -X -At -d "$DB" -c "SET stellapolicy.tenant = 'bench'" -c "
	SELECT 'candidate pairs read (same package): ' || count(*)
	FROM stellapolicy.component c JOIN stellapolicy.advisory_affected a
	  ON a.base_ecosystem = c.match_ecosystem AND a.match_package = c.match_package
	WHERE c.tenant = 'bench'"
echo "target: under 5 s for 500,000 components and 20,000 advisories"
