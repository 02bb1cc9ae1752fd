# Helpers of the scripted tests that drive the background workers
# (worker.t, monitoring.t): TAP output, queries against the workers'
# database, waiting, the worker count.  Sourced, not run.
set -u
cd "$(dirname "$0")/../.." || exit 1
DB=${SP_WORKER_DB:-stellapolicy_work}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
# Commits of the sessions here wait for WAL (the cluster's default does not).
export PGOPTIONS="${PGOPTIONS:-} -c synchronous_commit=on -c stellapolicy.tenant=bench"
n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }
check() { # check "description" "got" "expected"; false when it fails
	if [ "$2" = "$3" ]; then ok "$1"; else notok "$1" "got: $2" "expected: $3"; return 1; fi
}
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$DB" "$@"; }
# Wait until a query returns t (default 30 s); returns 1 on timeout.
wait_for() {
	local sql=$1 limit=${2:-30} i
	for i in $(seq $((limit * 10))); do
		[ "$(q -c "$sql" 2>/dev/null)" = t ] && return 0
		sleep 0.1
	done
	return 1
}
workers_up() { wait_for "SELECT count(*) = $1 FROM pg_stat_activity WHERE datname = '$DB' AND backend_type = 'stellapolicy worker'" "${2:-30}"; }
set_workers() {
	psql -X -q -d postgres -c "ALTER SYSTEM SET stellapolicy.workers = $1" -c "SELECT pg_reload_conf()" >/dev/null
	workers_up "$1"
}
findings_digest() { q -c "SELECT count(*) || ':' || coalesce(md5(string_agg(sbom_id || finding_key || verdict_digest, ',' ORDER BY sbom_id, finding_key)), '') FROM stellapolicy.effective_finding WHERE policy_id = 'p' $1"; }
history_dups() { q -c "SELECT count(*) FROM (SELECT 1 FROM stellapolicy.effective_finding_history GROUP BY sbom_id, finding_key, run_id, verdict_digest HAVING count(*) > 1) d"; }
osv() { # osv ID PACKAGE
	printf '{"id": "%s", "modified": "2026-11-01T00:00:00Z", "database_specific": {"severity": "HIGH"}, "affected": [{"package": {"ecosystem": "npm", "name": "%s"}, "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}]}]}]}' "$1" "$2"
}
# The incremental run whose scope names an advisory (or SBOM), once it succeeded.
inc_run_for() { q -c "SELECT run_id FROM stellapolicy.policy_runs WHERE policy_id = 'p' AND mode = 'incremental' AND status = 'succeeded' AND inputs->'scope'->'$1' ? '$2' ORDER BY finished_at LIMIT 1"; }
data_dir=$(psql -X -At -d postgres -c "SHOW data_directory")
restart_wait() {
	for _ in $(seq 240); do
		psql -X -q -At -d "$DB" -c "SELECT 1" >/dev/null 2>&1 && return 0
		sleep 0.25
	done
	return 1
}
# Hold an ACCESS EXCLUSIVE lock on the findings for SECONDS, in the
# background, so that a run stops where it first touches them (before it
# writes).  The caller waits for $! when it needs the lock released.
hold_findings_lock() {
	psql -X -q -d "$DB" -c "BEGIN" -c "LOCK TABLE stellapolicy.effective_finding IN ACCESS EXCLUSIVE MODE" \
		-c "SELECT pg_sleep($1)" -c "COMMIT" >/dev/null 2>&1 &
}

# Put the settings the tests change back, and stop leftover jobs.
cleanup() {
	restart_wait
	psql -X -q -d postgres -c "ALTER SYSTEM RESET stellapolicy.workers" -c "ALTER SYSTEM RESET stellapolicy.worker_lock_timeout" \
		-c "ALTER SYSTEM RESET stellapolicy.retry_backoff" -c "ALTER SYSTEM RESET stellapolicy.max_attempts" \
		-c "ALTER SYSTEM RESET stellapolicy.run_ttl" -c "ALTER SYSTEM RESET stellapolicy.incremental_cycle" \
		-c "SELECT pg_reload_conf()" >/dev/null 2>&1
	jobs -p | xargs -r kill 2>/dev/null
}
trap cleanup EXIT

# A fresh workers' database with a small generated tenant 'bench' and
# policy p (org-baseline) and any further policies named as arguments.
fresh_database() {
	psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB" >/dev/null
	q -c "CREATE EXTENSION stellapolicy" >/dev/null
	q -v sboms="${SBOMS:-60}" -v per="${PER:-50}" -v advisories="${ADVISORIES:-600}" -f test/bench/gen_tenant.sql >/dev/null
	for p in p "$@"; do
		q -v src="$(cat data/policies/org-baseline.stella)" -v p="$p" >/dev/null <<'SQL'
SELECT stellapolicy.policy_create(:'p', :'src');
SELECT stellapolicy.policy_submit(:'p', 1), stellapolicy.policy_approve(:'p', 1), stellapolicy.policy_activate(:'p', 1);
SQL
	done
}
