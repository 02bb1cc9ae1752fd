#!/usr/bin/env bash
# A run exported as a sealed bundle, imported into another database (with
# stellapolicy.sealed on, as on an air-gapped server) and replayed there,
# gives the recorded hash.  Uses the cluster of scripts/test.sh (PGHOST,
# PGPORT, PGUSER) and databases sp_bundle_a / sp_bundle_b, dropped at exit.
set -u
cd "$(dirname "$0")/../.." || exit 1
corpus=${SP_CORPUS:-../shared/corpus}
n=0
fail=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); fail=1; echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }
check() { if [ "$1" = "$2" ]; then ok "$3"; else notok "$3" "got: $1" "want: $2"; fi; }
q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }

cleanup() {
	psql -X -q -d postgres -c "DROP DATABASE IF EXISTS sp_bundle_a" -c "DROP DATABASE IF EXISTS sp_bundle_b" >/dev/null 2>&1
	rm -f "$bundle"
}
bundle=$(mktemp)
trap cleanup EXIT
cleanup
psql -X -q -d postgres -c "CREATE DATABASE sp_bundle_a" -c "CREATE DATABASE sp_bundle_b" >/dev/null
q -d sp_bundle_a -c "CREATE EXTENSION stellapolicy" >/dev/null
q -d sp_bundle_b -c "CREATE EXTENSION stellapolicy" >/dev/null

# The source database: the corpus, a policy, a run (a number in its env
# too: the bundle must carry it as given).
bash scripts/corpus.sh "$corpus" | q -d sp_bundle_a >/dev/null
run=$(q -d sp_bundle_a -v src="$(cat data/policies/org-baseline.stella)" <<'SQL'
SELECT stellapolicy.policy_create('org', :'src') \gset
SELECT stellapolicy.policy_submit('org', 1), stellapolicy.policy_approve('org', 1), stellapolicy.policy_activate('org', 1) \gset
SELECT stellapolicy.stella_policy_run('org', wait => true, env => '{"exposure": "internet", "tier": 2.5}',
	evaluation_time => '2026-11-30T12:00:00Z');
SQL
)
hash=$(q -d sp_bundle_a -c "SELECT determinism_hash FROM stellapolicy.policy_runs WHERE run_id = '$run'")
case "$hash" in sha256:*) ok "a run in the source database ($hash)" ;; *) notok "a run in the source database" "$hash" ;; esac

# Export, then import into an empty database in sealed mode.
q -d sp_bundle_a -c "SELECT encode(stellapolicy.bundle_export('$run'), 'base64')" | tr -d '\n' > "$bundle"
[ -s "$bundle" ] && ok "exported a bundle of $(wc -c < "$bundle") base64 bytes" || notok "export"
imported=$(q -d sp_bundle_b <<SQL
\\set b \`cat '$bundle'\`
SET stellapolicy.sealed = on;
SELECT stellapolicy.bundle_import(decode(:'b', 'base64'));
SQL
)
check "$imported" "$run" "the bundle imports as the same run"
check "$(q -d sp_bundle_b -c "SELECT status FROM stellapolicy.policy_runs WHERE run_id = '$run'")" "replay_pending" \
	"the imported run waits for its replay"

replay=$(q -d sp_bundle_b -c "SET stellapolicy.sealed = on" -c "SELECT r->>'match', r->>'replayedHash' FROM stellapolicy.stella_policy_replay('$run') r")
check "$replay" "true|$hash" "replaying it in the other database gives the recorded hash"

# A damaged bundle is refused.
err=$(q -d sp_bundle_b 2>&1 <<SQL
\\set b \`cat '$bundle'\`
SELECT stellapolicy.bundle_import(convert_to(replace(convert_from(decode(:'b', 'base64'), 'UTF8'), 'Org Baseline', 'Org Baseline!'), 'UTF8'));
SQL
)
case "$err" in *"checksum does not match"*) ok "a changed bundle is refused by its checksum" ;; *) notok "a changed bundle is refused" "$err" ;; esac

echo "1..$n"
exit $fail
