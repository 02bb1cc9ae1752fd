#!/usr/bin/env bash
# prune() on a tenant with many run records and changes: how long the
# first prune takes to delete most of them, and a second one that finds
# nothing.  Starts its own throwaway cluster (scripts/lib.sh).
#
#   bash test/bench/bench_prune.sh [RUNS [REPEATS]]
#   default: 200,000 runs (one a minute, 10 policies) and as many changes, 3 repeats
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"
RUNS=${1:-200000}
REPEATS=${2:-3}

sp_install_packages
sp_build
trap 'sp_cluster_stop' EXIT
sp_cluster_start
cd "$SP_ROOT"

first=()
second=()
for i in $(seq "$REPEATS"); do
	psql -X -q -d postgres -c "DROP DATABASE IF EXISTS sp_bench_prune" -c "CREATE DATABASE sp_bench_prune"
	psql -X -q -d sp_bench_prune -c "CREATE EXTENSION stellapolicy"
	out=$(psql -X -q -At -d sp_bench_prune -v runs="$RUNS" <<'SQL'
SET stellapolicy.tenant = 'big';
INSERT INTO stellapolicy.policy_runs (run_id, tenant, policy_id, policy_version, policy_digest, mode,
	status, priority, inputs, evaluation_time, queued_at, started_at, finished_at)
SELECT 'r' || g, 'big', 'p' || (g % 10), 1, 'sha256:00',
	   CASE WHEN g % 3 = 0 THEN 'incremental' ELSE 'full' END, 'succeeded', 'normal',
	   jsonb_build_object('changeSnapshot', pg_current_snapshot()::text), now(),
	   now() - g * interval '1 minute', now() - g * interval '1 minute', now() - g * interval '1 minute'
FROM generate_series(1, :runs) g;
-- Changes are append-only; the bench writes aged ones behind the triggers' back.
SET session_replication_role = replica;
INSERT INTO stellapolicy.input_change (tenant, kind, key, change_digest, at)
SELECT 'big', 'advisory', 'A' || g, 'sha256:' || g, now() - g * interval '1 minute'
FROM generate_series(1, :runs) g;
RESET session_replication_role;
VACUUM ANALYZE;
SELECT clock_timestamp() AS t0 \gset
SELECT stellapolicy.prune('30 days') AS p \gset
SELECT clock_timestamp() AS t1 \gset
SELECT stellapolicy.prune('30 days') \gset
SELECT clock_timestamp() AS t2 \gset
SELECT extract(epoch FROM :'t1'::timestamptz - :'t0'::timestamptz) || ' '
	   || extract(epoch FROM :'t2'::timestamptz - :'t1'::timestamptz) || ' '
	   || (:'p'::jsonb->>'runs') || ' ' || (:'p'::jsonb->>'runEvents') || ' ' || (:'p'::jsonb->>'changes');
SQL
)
	read -r s1 s2 nr ne nc <<<"$(tail -1 <<<"$out")"
	printf 'repeat %d: first prune %.3f s (%s runs, %s events, %s changes deleted); second prune %.3f s\n' \
		"$i" "$s1" "$nr" "$ne" "$nc" "$s2"
	first+=("$s1")
	second+=("$s2")
done
med() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
printf 'median first prune %.3f s, second prune %.3f s, over %d run records and %d changes\n' \
	"$(med "${first[@]}")" "$(med "${second[@]}")" "$RUNS" "$RUNS"
