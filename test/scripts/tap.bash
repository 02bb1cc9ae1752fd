# TAP output and psql helpers of the scripted tests that work on databases
# of their own (determinism.t, backup.t).  Sourced, not run; the sourcing
# script sets tmp (a scratch directory) first.
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
