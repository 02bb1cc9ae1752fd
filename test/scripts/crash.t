#!/usr/bin/env bash
# A backend killed with SIGKILL in the middle of a run (the postmaster then
# restarts every backend and recovers) never leaves half a run: either the
# run committed whole (record succeeded, new findings, history of the old
# ones) or nothing of it is left (no record, findings exactly as before).
# Uses the cluster of scripts/test.sh and a database sp_crash, dropped at exit.
set -u
# The throwaway cluster runs with synchronous_commit = off, under which a
# crash may lose the last commits of any session: that is PostgreSQL's
# documented trade, not the extension's. Here every commit waits for WAL.
export PGOPTIONS="${PGOPTIONS:-} -c synchronous_commit=on"
cd "$(dirname "$0")/../.." || exit 1
n=0
fail=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); fail=1; echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d sp_crash "$@"; }
wait_ready() {
	for _ in $(seq 120); do
		psql -X -q -At -d postgres -c "SELECT 1" >/dev/null 2>&1 && return 0
		sleep 0.25
	done
	return 1
}
# After a SIGKILL the postmaster may still accept a connection before it
# notices the death; wait until the dead backend's entry is gone (shared
# memory was reinitialised) and the database accepts queries again.
wait_recovered() {
	for _ in $(seq 240); do
		[ "$(psql -X -q -At -d sp_crash -c "SELECT count(*) FROM pg_stat_activity WHERE pid = $1" 2>/dev/null)" = 0 ] && return 0
		sleep 0.25
	done
	return 1
}
trap 'wait_ready; psql -X -q -d postgres -c "DROP DATABASE IF EXISTS sp_crash" >/dev/null 2>&1' EXIT

psql -X -q -d postgres -c "DROP DATABASE IF EXISTS sp_crash" -c "CREATE DATABASE sp_crash" >/dev/null
q -c "CREATE EXTENSION stellapolicy" >/dev/null
# A generated tenant big enough for a run to take a moment.
q -v sboms=400 -v per=250 -v advisories=4000 -f test/bench/gen_tenant.sql >/dev/null
q -v src="$(cat data/policies/org-baseline.stella)" >/dev/null <<'SQL'
SET stellapolicy.tenant = 'bench';
SELECT stellapolicy.policy_create('p', :'src');
SELECT stellapolicy.policy_submit('p', 1), stellapolicy.policy_approve('p', 1), stellapolicy.policy_activate('p', 1);
SELECT stellapolicy.stella_policy_run('p', wait => true, evaluation_time => '2026-01-01T00:00:00Z');
SQL
base=$(q -c "SELECT count(*) FROM stellapolicy.effective_finding")
[ "${base:-0}" -gt 1000 ] && ok "a first run wrote $base findings" || notok "first run" "$base"

# Evaluation times alternate around org-baseline's ignore-until date
# (2027-06-30), so each run that completes changes verdicts.
i=0
for delay in 0.02 0.04 0.06 0.08 0.12 0.6; do
	i=$((i + 1))
	if [ $((i % 2)) = 0 ]; then at="2028-0${i}-01T00:00:00Z"; else at="2027-0${i}-01T00:00:00Z"; fi
	# State before: findings, digest of their content, history rows, runs.
	before=$(q -c "SELECT count(*) || ':' || md5(string_agg(sbom_id || finding_key || verdict_digest, ',' ORDER BY sbom_id, finding_key)) FROM stellapolicy.effective_finding")
	hist_before=$(q -c "SELECT count(*) FROM stellapolicy.effective_finding_history")
	runs_before=$(q -c "SELECT count(*) FROM stellapolicy.policy_runs")

	# A run whose evaluation time changes many verdicts (low findings wake up).
	psql -X -q -At -d sp_crash -c "SET stellapolicy.tenant = 'bench'" \
		-c "SELECT stellapolicy.stella_policy_run('p', wait => true, evaluation_time => '$at')" \
		>/dev/null 2>&1 &
	client=$!
	sleep "$delay"
	pid=$(psql -X -q -At -d postgres -c "SELECT pid FROM pg_stat_activity WHERE datname = 'sp_crash' AND query LIKE '%stella_policy_run%' AND pid <> pg_backend_pid() LIMIT 1")
	if [ -n "$pid" ]; then
		kill -9 "$pid"
		killed="killed backend $pid after ${delay}s"
		recovered() { wait_recovered "$pid"; }
	else
		killed="the run had finished after ${delay}s"
		recovered() { wait_ready; }
	fi
	wait "$client" 2>/dev/null
	recovered || { notok "the cluster recovers ($killed)"; continue; }

	after=$(q -c "SELECT count(*) || ':' || md5(string_agg(sbom_id || finding_key || verdict_digest, ',' ORDER BY sbom_id, finding_key)) FROM stellapolicy.effective_finding")
	hist_after=$(q -c "SELECT count(*) FROM stellapolicy.effective_finding_history")
	runs_after=$(q -c "SELECT count(*) FROM stellapolicy.policy_runs")
	last=$(q -c "SELECT status || ':' || (stats->>'findingsChanged') FROM stellapolicy.policy_runs ORDER BY queued_at DESC LIMIT 1")
	running=$(q -c "SELECT count(*) FROM stellapolicy.policy_runs WHERE status = 'running'")

	if [ "$runs_after" = "$runs_before" ] && [ "$after" = "$before" ] && [ "$hist_after" = "$hist_before" ]; then
		ok "$killed: nothing of the run is left, findings as before"
	elif [ "$runs_after" = $((runs_before + 1)) ] && [ "${last%%:*}" = succeeded ] &&
		[ "$hist_after" -ge "$hist_before" ] &&
		{ { [ "${last#*:}" = 0 ] && [ "$after" = "$before" ]; } ||
			{ [ "${last#*:}" != 0 ] && [ "$after" != "$before" ]; }; }; then
		ok "$killed: the run committed whole (${last#*:} findings changed, history $hist_before -> $hist_after)"
	else
		notok "$killed: half a run" "runs $runs_before -> $runs_after, findings $before -> $after" \
			"history $hist_before -> $hist_after, last run $last"
	fi
	[ "$running" = 0 ] && ok "no run is left marked running" || notok "a run is left marked running" "$running"
done

echo "1..$n"
exit $fail
