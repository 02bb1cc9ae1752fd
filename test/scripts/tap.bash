# TAP output, psql and policy helpers of the scripted tests that work on
# databases of their own (determinism.t, backup.t).  Sourced, not run; the
# sourcing script sets tmp (a scratch directory), policy (a policy file),
# evaltime and env first.
n=0
fail=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() {
	n=$((n + 1)); fail=1; echo "not ok $n - $1"; shift
	for l in "$@"; do printf '%s\n' "$l" | sed 's/^/# /'; done
}
# check STATUS DESCRIPTION [DIAGNOSTIC...]: ok when STATUS is 0.
check() { local s=$1; shift; if [ "$s" -eq 0 ]; then ok "$1"; else notok "$@"; fi; }

# psql DB [psql options] < script: quiet, unaligned, tab-separated, stops
# at the first error, which goes to $tmp/err for the diagnostics.
sql() {
	local db=$1; shift
	psql -X -q -At -F $'\t' -v ON_ERROR_STOP=1 -d "$db" "$@" 2>"$tmp/err"
}
err() { cat "$tmp/err"; }

# A psql string literal of a file name, as scripts/corpus.sh writes it.
q() { printf "'%s'" "${1//\'/\'\'}"; }

# make_policy DB: policy "p" from $policy, taken through to active.
make_policy() {
	sql "$1" <<-SQL
	\\set src \`cat $(q "$policy")\`
	SELECT stellapolicy.policy_create('p', :'src') \\gset
	SELECT stellapolicy.policy_submit('p', 1) \\gset
	SELECT stellapolicy.policy_approve('p', 1) \\gset
	SELECT stellapolicy.policy_activate('p', 1) \\gset
	SQL
}

# run_policy DB [CAPTURE_EXPLAIN]: one run of "p" at $evaltime with $env;
# prints run_id, status, hash, findingsWritten, findingsChanged,
# findingsRemoved.
run_policy() {
	sql "$1" -v evaltime="$evaltime" -v env="$env" -v explain="${2:-false}" <<-'SQL'
	SELECT stellapolicy.stella_policy_run('p', wait => true, capture_explain => :'explain',
		evaluation_time => :'evaltime', env => :'env') AS run \gset
	SELECT run_id, status, coalesce(determinism_hash, ''), stats->>'findingsWritten',
		stats->>'findingsChanged', stats->>'findingsRemoved'
	FROM stellapolicy.policy_runs WHERE run_id = :'run';
	SQL
}
