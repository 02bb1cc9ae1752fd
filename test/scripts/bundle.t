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
	psql -X -q -d postgres -c "DROP DATABASE IF EXISTS sp_bundle_a" -c "DROP DATABASE IF EXISTS sp_bundle_b" \
		-c "DROP DATABASE IF EXISTS sp_bundle_c" >/dev/null 2>&1
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

# Two runs of one source: a tag, then run 1; a newer revision of the same
# advisory (the fixed bound moved below the corpus's axios), then run 2.
adv=GHSA-cph5-m8f7-6c5x
src=$(ls "$corpus"/advisories/osv/*/"$adv".json 2>/dev/null | head -1)
jq '.modified = "2025-06-01T00:00:00Z"
	| (.affected[] | select(.package.name == "axios") | .ranges[].events[] | select(has("fixed")) | .fixed) = "0.21.0"' \
	"${src:-/dev/null}" > "$bundle.newer"
runs=$(q -d sp_bundle_a <<SQL
SELECT stellapolicy.advisory_tag_add('$adv', 'watch') \gset
SELECT stellapolicy.stella_policy_run('org', wait => true, env => '{"exposure": "internet"}', evaluation_time => '2026-11-30T12:00:00Z');
\set doc \`cat '$bundle.newer'\`
SELECT stellapolicy.advisory_ingest(:'doc') \gset
SELECT stellapolicy.stella_policy_run('org', wait => true, env => '{"exposure": "internet"}', evaluation_time => '2026-11-30T12:00:00Z');
SQL
)
r1=$(echo "$runs" | sed -n 1p)
r2=$(echo "$runs" | sed -n 2p)
h1=$(q -d sp_bundle_a -c "SELECT determinism_hash FROM stellapolicy.policy_runs WHERE run_id = '$r1'")
h2=$(q -d sp_bundle_a -c "SELECT determinism_hash FROM stellapolicy.policy_runs WHERE run_id = '$r2'")
[ -n "$h1" ] && [ -n "$h2" ] && [ "$h1" != "$h2" ] && ok "two runs of the source, before and after a newer revision" \
	|| notok "two runs of the source" "$runs" "$h1 $h2"
q -d sp_bundle_a -c "SELECT encode(stellapolicy.bundle_export('$r1'), 'base64')" | tr -d '\n' > "$bundle.1"
q -d sp_bundle_a -c "SELECT encode(stellapolicy.bundle_export('$r2'), 'base64')" | tr -d '\n' > "$bundle.2"
# import TENANT FILE [DB]: the run id, or the error with its SQLSTATE.
import() {
	psql -X -q -At -v ON_ERROR_STOP=1 -v VERBOSITY=verbose -d "${3:-sp_bundle_b}" 2>&1 <<SQL
SET stellapolicy.tenant = '$1';
\\set b \`cat '$2'\`
SELECT stellapolicy.bundle_import(decode(:'b', 'base64'));
SQL
}
replayed() { replayed_in sp_bundle_b "$@"; }
replayed_in() { q -d "$1" -c "SET stellapolicy.tenant = '$2'" -c "SELECT r->>'match' FROM stellapolicy.stella_policy_replay('$3') r"; }
check "$(import inorder "$bundle.1"):$(import inorder "$bundle.2")" "$r1:$r2" \
	"the two bundles import into one tenant in the order of their runs"
check "$(replayed inorder "$r1"):$(replayed inorder "$r2")" "true:true" "and both replay to their hashes"
# A run id is unique in a database: the reversed order needs another one.
psql -X -q -d postgres -c "CREATE DATABASE sp_bundle_c" >/dev/null
q -d sp_bundle_c -c "CREATE EXTENSION stellapolicy" >/dev/null
check "$(import reversed "$bundle.2" sp_bundle_c)" "$r2" "the later bundle imports into a tenant of its own"
before=$(q -d sp_bundle_c -c "SELECT count(*) FROM stellapolicy.advisory_raw" -c "SELECT count(*) FROM stellapolicy.policy_runs" | paste -sd:)
err=$(import reversed "$bundle.1" sp_bundle_c)
case "$err" in
	*'55000: tenant "reversed" holds inputs that would change the replay of run "'"$r1"'"'*'would also read advisory '"$adv"' revision'*)
		ok "the earlier bundle after it is refused (55000): the tenant holds the newer revision, which the run never read" ;;
	*) notok "the earlier bundle after the later one is refused" "$err" ;;
esac
check "$(q -d sp_bundle_c -c "SELECT count(*) FROM stellapolicy.advisory_raw" -c "SELECT count(*) FROM stellapolicy.policy_runs" | paste -sd:)" "$before" \
	"and leaves nothing behind"
rm -f "$bundle.1" "$bundle.2" "$bundle.newer"

# A VEX statement that links into a BOM not yet imported is unresolved at
# run 1 and resolved when that BOM arrives, before run 2. Imported in order,
# run 2's bundle gives the statement its late resolution, and both replay.
# (The corpus's VEX example links to another serial than its target BOM's;
# the link is pointed at the target here.)
target_serial=$(jq -r '.serialNumber | sub("^urn:uuid:"; "")' "$corpus/vex/cyclonedx/bom-examples-vex-target-bom.cdx.json")
jq --arg s "$target_serial" '.vulnerabilities[].affects[].ref |= sub("urn:cdx:[^/]*/"; "urn:cdx:" + $s + "/")' \
	"$corpus/vex/cyclonedx/bom-examples-vex.cdx.json" > "$bundle.vex"
late=$(q -d sp_bundle_a -v dt="$corpus/sbom/cyclonedx/maven-dependency-track-4.5.0.cdx.json" \
	-v vex="$bundle.vex" \
	-v bom="$corpus/vex/cyclonedx/bom-examples-vex-target-bom.cdx.json" \
	-v src="$(cat data/policies/org-baseline.stella)" <<'SQL'
SET stellapolicy.tenant = 'late';
\set d `cat :'dt'`
SELECT stellapolicy.sbom_import(:'d', 'dt') \gset
SELECT stellapolicy.advisory_ingest('{"id":"GHSA-late-0001","aliases":["CVE-2020-25649"],"modified":"2025-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"Maven","name":"com.fasterxml.jackson.core:jackson-databind"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"2.10.5.1"}]}]}]}') \gset
\set v `cat :'vex'`
SELECT stellapolicy.vex_ingest(:'v') \gset
SELECT stellapolicy.policy_create('late', :'src') \gset
SELECT stellapolicy.policy_submit('late', 1), stellapolicy.policy_approve('late', 1), stellapolicy.policy_activate('late', 1) \gset
SELECT stellapolicy.stella_policy_run('late', wait => true, evaluation_time => '2026-11-30T12:00:00Z');
\set b `cat :'bom'`
SELECT stellapolicy.sbom_import(:'b', 'target') \gset
SELECT stellapolicy.stella_policy_run('late', wait => true, evaluation_time => '2026-11-30T12:00:00Z');
SELECT count(*) FROM stellapolicy.vex_resolution WHERE tenant = 'late';
SQL
)
l1=$(echo "$late" | sed -n 1p)
l2=$(echo "$late" | sed -n 2p)
check "$(echo "$late" | sed -n 3p)" "1" "in the source, the BOM's arrival resolves the statement between the two runs"
q -d sp_bundle_a -c "SET stellapolicy.tenant = 'late'" -c "SELECT encode(stellapolicy.bundle_export('$l1'), 'base64')" | tr -d '\n' > "$bundle.1"
q -d sp_bundle_a -c "SET stellapolicy.tenant = 'late'" -c "SELECT encode(stellapolicy.bundle_export('$l2'), 'base64')" | tr -d '\n' > "$bundle.2"
check "$(import late "$bundle.1" sp_bundle_c):$(import late "$bundle.2" sp_bundle_c)" "$l1:$l2" \
	"the two bundles import in order"
check "$(q -d sp_bundle_c -c "SELECT count(*) FROM stellapolicy.vex_resolution WHERE tenant = 'late'"):$(replayed_in sp_bundle_c late "$l1"):$(replayed_in sp_bundle_c late "$l2")" \
	"1:true:true" "the statement gets its late resolution, and both runs replay to their hashes"
rm -f "$bundle.1" "$bundle.2" "$bundle.vex"

echo "1..$n"
exit $fail
