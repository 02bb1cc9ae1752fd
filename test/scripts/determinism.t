#!/usr/bin/env bash
# Determinism of policy runs.  The determinism hash covers content, not
# storage, so the same corpus must give the same hash however it was stored:
#
#   A  the cluster's default collation, corpus loaded by scripts/corpus.sh;
#   B  an ICU collation (en-US), another session time zone, and the corpus
#      loaded backwards: advisories, then VEX, then SBOMs, each in reverse
#      file order, so that every table is filled in another physical order;
#   A  again after VACUUM FULL of every stellapolicy table.
#
# Then a newer revision of one advisory arrives in A: a new run must give
# another hash, and a replay of the first run must still give the old one
# (its cursors end before the new revision).
#
# Uses the cluster of PGHOST/PGPORT (scripts/test.sh starts one), creates
# and drops the databases sp_det_a and sp_det_b, prints TAP.  Alone:
#   SP_ONLY=scripts bash scripts/test.sh test/scripts/determinism.t
# or, with PGHOST/PGPORT/PGUSER of a running cluster exported,
#   bash test/scripts/determinism.t
set -u -o pipefail
started=$EPOCHREALTIME
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root" || exit 1
corpus=${SP_CORPUS:-../shared/corpus}
corpus=$(cd "$corpus" 2>/dev/null && pwd) || corpus=${SP_CORPUS:-../shared/corpus}
policy=../shared/policies/internal-only.stella
evaltime=2025-12-01T00:00:00Z
env='{"exposure": "internal"}'

# The advisory that gets a newer revision, and the finding that it removes: npm
# axios 0.21.0 is affected below the fixed bound 0.21.2; moving the bound to
# 0.21.0 makes it unaffected.
newer_id=GHSA-cph5-m8f7-6c5x
newer_sbom=npm-webapp-2019
newer_key=pkg:npm/axios@0.21.0#GHSA-cph5-m8f7-6c5x

# The databases go also on failure; FORCE, as a failed step may leave a
# session behind.
drop_dbs() {
	for db in sp_det_a sp_det_b; do
		psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1
	done
}
tmp=$(mktemp -d)
trap 'drop_dbs; rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM HUP

# shellcheck source=test/scripts/tap.bash
source test/scripts/tap.bash
echo "1..17"
is_hash() { [[ $1 =~ ^sha256:[0-9a-f]{64}$ ]]; }

id_of() { local b; b=$(basename "$1" .json); b=${b%.cdx}; b=${b%.spdx}; printf '%s' "$b"; }

# The corpus backwards: the calls, ids and tags of scripts/corpus.sh, with
# the kinds in the opposite order and the files of each kind in reverse.
backwards() { printf '%s\n' "$@" | LC_ALL=C sort -r; }
reverse_load() {
	local dir=$1 f tags
	echo "\\set ON_ERROR_STOP 1"
	while IFS= read -r f; do
		echo "\\set doc \`cat $(q "$f")\`"
		echo "SELECT stellapolicy.advisory_ingest(:'doc') AS n \\gset"
	done < <(backwards "$dir"/advisories/osv/*/*.json)
	while IFS= read -r f; do
		# CycloneDX files without "vulnerabilities" are SBOMs, loaded below.
		case "$f" in */cyclonedx/*) grep -q '"vulnerabilities"' "$f" || continue ;; esac
		echo "\\set doc \`cat $(q "$f")\`"
		echo "SELECT stellapolicy.vex_ingest(:'doc') AS n \\gset"
	done < <(backwards "$dir"/vex/openvex/*.json "$dir"/vex/csaf/*.json "$dir"/vex/cyclonedx/*.json)
	while IFS= read -r f; do
		case "$f" in
			*/vex/cyclonedx/*)
				grep -q '"vulnerabilities"' "$f" && continue
				tags="ARRAY['corpus','vex-target']" ;;
			*) tags="ARRAY['corpus']" ;;
		esac
		echo "\\set doc \`cat $(q "$f")\`"
		echo "SELECT stellapolicy.sbom_import(:'doc', $(q "$(id_of "$f")"), $tags) AS sbom_id \\gset"
	done < <(backwards "$dir"/sbom/*/*.json "$dir"/vex/cyclonedx/*.json)
}

# The findings as BI tools see them, in an order no collation changes.
findings() {
	sql "$1" <<-'SQL'
	SELECT sbom_id, finding_key, status, severity_band, score
	FROM stellapolicy.effective_finding WHERE policy_id = 'p'
	ORDER BY sbom_id COLLATE "C", finding_key COLLATE "C";
	SQL
}

# How a database collates, for the test names.
collation_of() {
	sql "$1" -c "SELECT CASE datlocprovider WHEN 'i' THEN 'ICU ' || daticulocale
		ELSE 'libc ' || datcollate END FROM pg_database WHERE datname = current_database()"
}

# replay DB RUN: prints match, recordedHash, replayedHash.
replay() {
	sql "$1" -v run="$2" <<-'SQL'
	SELECT r->>'match', r->>'recordedHash', r->>'replayedHash'
	FROM stellapolicy.stella_policy_replay(:'run') r;
	SQL
}

# Leftovers of an interrupted earlier run would make CREATE DATABASE fail.
drop_dbs

# Database A: default collation, normal load order.
s=0
diag=()
if ! sql postgres -c "CREATE DATABASE sp_det_a" \
		|| ! sql sp_det_a -c "CREATE EXTENSION stellapolicy"; then
	s=1; diag+=("create sp_det_a: $(err)")
elif ! bash scripts/corpus.sh "$corpus" | PGTZ=UTC sql sp_det_a; then
	s=1; diag+=("load the corpus into sp_det_a: $(err)")
elif ! make_policy sp_det_a; then
	s=1; diag+=("create the policy in sp_det_a: $(err)")
fi
IFS=$'\t' read -r run_a status_a hash_a written_a _ _ < <(PGTZ=UTC run_policy sp_det_a)
[ -n "${run_a:-}" ] || diag+=("run in sp_det_a: $(err)")
nfind_a=$(sql sp_det_a \
	-c "SELECT count(*) FROM stellapolicy.effective_finding WHERE policy_id = 'p'")
coll_a=$(collation_of sp_det_a)
# The finding the newer revision removes must be there now, or its test
# proves nothing.
key_before=$(sql sp_det_a -v s="$newer_sbom" -v k="$newer_key" <<-'SQL'
	SELECT count(*) FROM stellapolicy.effective_finding
	WHERE policy_id = 'p' AND sbom_id = :'s' AND finding_key = :'k';
	SQL
)
[ "${status_a:-}" = succeeded ] && is_hash "${hash_a:-}" && [ "${nfind_a:-0}" -gt 0 ] \
	&& [ "$nfind_a" = "${written_a:-}" ] && [ "$key_before" = 1 ] || s=1
check $s "database A ($coll_a): corpus loaded, run ${status_a:-missing} with ${nfind_a:-0} findings" \
	"${diag[@]}" "status=${status_a:-} hash=${hash_a:-} findings=${nfind_a:-} written=${written_a:-}" \
	"finding $newer_sbom $newer_key present: ${key_before:-?} (want 1)"

# Database B: ICU collation, reverse load order, a far time zone.
s=0
diag=()
if ! sql postgres -c "CREATE DATABASE sp_det_b TEMPLATE template0
		LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'"; then
	s=1; diag+=("create sp_det_b with ICU: $(err)")
elif ! sql sp_det_b -c "CREATE EXTENSION stellapolicy"; then
	s=1; diag+=("create the extension in sp_det_b: $(err)")
elif ! reverse_load "$corpus" | PGTZ=Pacific/Kiritimati sql sp_det_b; then
	s=1; diag+=("load the corpus backwards into sp_det_b: $(err)")
elif ! make_policy sp_det_b; then
	s=1; diag+=("create the policy in sp_det_b: $(err)")
fi
coll_b=$(collation_of sp_det_b)
# The two collations must really sort differently, or B tests nothing new.
sorted="SELECT string_agg(x, ' ' ORDER BY x) FROM unnest(ARRAY['b', 'B', '_a', 'a-']) x"
sort_a=$(sql sp_det_a -c "$sorted")
sort_b=$(sql sp_det_b -c "$sorted")
[ -n "$sort_b" ] && [ "$sort_a" != "$sort_b" ] \
	|| { s=1; diag+=("A sorts '$sort_a', B sorts '$sort_b': not different"); }
check $s "database B ($coll_b, TimeZone Pacific/Kiritimati): corpus loaded backwards" "${diag[@]}"

IFS=$'\t' read -r run_b status_b hash_b written_b _ _ \
	< <(PGTZ=Pacific/Kiritimati run_policy sp_det_b)
s=0
[ "${status_b:-}" = succeeded ] && is_hash "${hash_b:-}" && [ "$hash_b" = "${hash_a:-}" ] || s=1
diag=("A: ${hash_a:-none}"
	"B: ${hash_b:-none} (status ${status_b:-none}, findings written ${written_b:-none})")
[ -n "${run_b:-}" ] || diag+=("run in sp_det_b: $(err)")
if [ $s -ne 0 ]; then
	# Where to look: what each first run read, in short.
	for db in sp_det_a sp_det_b; do
		diag+=("$db: $(sql $db <<-'SQL'
			SELECT format('%s SBOMs (md5 of the set %s), cursors %s/%s, '
				'%s advisory revisions, %s VEX statements, %s VEX resolutions',
				jsonb_array_length(inputs->'sbomSet'), md5((inputs->'sbomSet')::text),
				advisory_cursor, vex_cursor,
				(SELECT count(*) FROM stellapolicy.advisory_raw),
				(SELECT count(*) FROM stellapolicy.vex_raw),
				(SELECT count(*) FROM stellapolicy.vex_resolution))
			FROM stellapolicy.policy_runs ORDER BY queued_at LIMIT 1;
			SQL
		)")
	done
fi
check $s "database B: the same run gives the hash of database A" "${diag[@]}"

# The findings themselves, compared under one byte order.
findings sp_det_a > "$tmp/a.tsv" || echo "error: $(err)" >> "$tmp/a.tsv"
findings sp_det_b > "$tmp/b.tsv" || echo "error: $(err)" >> "$tmp/b.tsv"
s=0
[ -s "$tmp/a.tsv" ] && cmp -s "$tmp/a.tsv" "$tmp/b.tsv" || s=1
check $s "effective findings of A and B identical ($(wc -l < "$tmp/a.tsv") rows, ordered COLLATE \"C\")" \
	"$(diff "$tmp/a.tsv" "$tmp/b.tsv" | head -20)"

# A after VACUUM FULL: same hash, and nothing to write.
ntables=$(sql sp_det_a <<-'SQL'
	SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	WHERE n.nspname = 'stellapolicy' AND c.relkind IN ('r', 'm');
	SQL
)
s=0
diag=()
sql sp_det_a <<-'SQL' || { s=1; diag+=("VACUUM FULL: $(err)"); }
	SELECT format('VACUUM FULL %I.%I', n.nspname, c.relname)
	FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	WHERE n.nspname = 'stellapolicy' AND c.relkind IN ('r', 'm')
	ORDER BY c.relname COLLATE "C" \gexec
	SQL
IFS=$'\t' read -r run_v status_v hash_v written_v changed_v removed_v \
	< <(PGTZ=UTC run_policy sp_det_a)
[ -n "${run_v:-}" ] || diag+=("run after VACUUM FULL: $(err)")
[ "${status_v:-}" = succeeded ] && [ "${hash_v:-}" = "${hash_a:-}" ] && is_hash "$hash_v" || s=1
check $s "database A after VACUUM FULL of ${ntables:-?} tables: the run gives the same hash" \
	"${diag[@]}" "before: ${hash_a:-none}" "after:  ${hash_v:-none} (status ${status_v:-none})"
s=0
[ "${written_v:-}" = 0 ] && [ "${changed_v:-}" = 0 ] && [ "${removed_v:-}" = 0 ] || s=1
check $s "database A after VACUUM FULL: the run writes nothing" \
	"findingsWritten=${written_v:-none} findingsChanged=${changed_v:-none}" \
	"findingsRemoved=${removed_v:-none}"

# Replay, then a newer advisory revision.
IFS=$'\t' read -r match1 _ replayed1 < <(replay sp_det_a "${run_a:-none}")
s=0
[ "${match1:-}" = true ] && [ "${replayed1:-}" = "${hash_a:-}" ] || s=1
check $s "replay of A's first run matches" "match=${match1:-none} replayed=${replayed1:-none} $(err)"

# The same record, modified later, with the fixed bound moved down to the
# version the corpus has, so that its verdict must change.
src=$(ls "$corpus"/advisories/osv/*/"$newer_id".json 2>/dev/null | head -1)
jq '.modified = "2025-06-01T00:00:00Z"
	| (.affected[] | select(.package.name == "axios") | .ranges[].events[]
	   | select(has("fixed")) | .fixed) = "0.21.0"' "${src:-/dev/null}" > "$tmp/newer.json" 2>"$tmp/err"
added=$(sql sp_det_a <<-SQL
	\\set doc \`cat $(q "$tmp/newer.json")\`
	SELECT stellapolicy.advisory_ingest(:'doc');
	SQL
)
s=0
[ "$added" = 1 ] || s=1
check $s "a newer revision of $newer_id is ingested" "new revisions: ${added:-none} $(err)"

IFS=$'\t' read -r run_n status_n hash_n _ changed_n removed_n < <(PGTZ=UTC run_policy sp_det_a)
key_after=$(sql sp_det_a -v s="$newer_sbom" -v k="$newer_key" <<-'SQL'
	SELECT count(*) FROM stellapolicy.effective_finding
	WHERE policy_id = 'p' AND sbom_id = :'s' AND finding_key = :'k';
	SQL
)
s=0
[ "${status_n:-}" = succeeded ] && is_hash "${hash_n:-}" && [ "$hash_n" != "${hash_a:-}" ] || s=1
check $s "a new run after the newer revision gives another hash" \
	"first: ${hash_a:-none}" "new:   ${hash_n:-none} (status ${status_n:-none}) $(err)"
s=0
[ "${key_after:-}" = 0 ] && [ "${removed_n:-0}" -ge 1 ] || s=1
check $s "the new run drops $newer_key" \
	"rows left: ${key_after:-none} (want 0)" \
	"findingsRemoved=${removed_n:-none} findingsChanged=${changed_n:-none}"

IFS=$'\t' read -r match2 _ replayed2 < <(replay sp_det_a "${run_a:-none}")
s=0
[ "${match2:-}" = true ] && [ "${replayed2:-}" = "${hash_a:-}" ] || s=1
check $s "replay of A's first run still matches after the newer revision" \
	"match=${match2:-none} recorded=${hash_a:-none} replayed=${replayed2:-none} $(err)"

# A run while an ingest is still open.  A third revision (the original
# bound again, modified later) is ingested in a transaction that stays open
# for 3 s; meanwhile a tag on another advisory commits, so the newest change
# number is above the open revision's.  The run must wait for the open
# ingest (or the replay, which sees the revision once it commits, would not
# match): it reads the third revision, and its replay matches.
jq '.modified = "2025-07-01T00:00:00Z"' "${src:-/dev/null}" > "$tmp/third.json" 2>"$tmp/err"
sql sp_det_a > "$tmp/open.out" 2>&1 <<-SQL &
	BEGIN;
	\set doc \`cat $(q "$tmp/third.json")\`
	SELECT stellapolicy.advisory_ingest(:'doc');
	SELECT pg_sleep(3);
	COMMIT;
	SQL
open_pid=$!
for _ in $(seq 100); do
	[ "$(sql sp_det_a -c "SELECT count(*) FROM pg_stat_activity WHERE datname = 'sp_det_a'
		AND state = 'active' AND query LIKE '%pg_sleep(3)%' AND pid <> pg_backend_pid()")" = 1 ] && break
	sleep 0.1
done
sql sp_det_a -c "SELECT stellapolicy.advisory_tag_add('GHSA-p6mc-m468-83gw', 'race-check')" >/dev/null
PGTZ=UTC run_policy sp_det_a > "$tmp/race.out" &
run_pid=$!
waiting=0
for _ in $(seq 50); do
	[ "$(sql sp_det_a -c "SELECT count(*) FROM pg_stat_activity WHERE datname = 'sp_det_a'
		AND wait_event = 'virtualxid' AND query LIKE '%stella_policy_run%'")" = 1 ] && { waiting=1; break; }
	sleep 0.1
done
# Another ingest of the tenant meanwhile is not held up by the waiting run.
other=$(sql sp_det_a -c "SET statement_timeout = '1s'" \
	-c "SELECT stellapolicy.advisory_tag_add('GHSA-p6mc-m468-83gw', 'race-check-2')" 2>&1)
still_open=$(sql sp_det_a -c "SELECT count(*) FROM pg_stat_activity WHERE datname = 'sp_det_a' AND query LIKE '%pg_sleep(3)%' AND state = 'active' AND pid <> pg_backend_pid()")
s=0
[ "$waiting" = 1 ] && [ "$other" = t ] && [ "$still_open" = 1 ] || s=1
check $s "while the run waits for the open ingest, another ingest of the tenant goes through" \
	"run seen waiting: $waiting; other ingest: $other; open ingest still open: $still_open"
wait "$run_pid"
IFS=$'\t' read -r run_r status_r hash_r _ _ _ < "$tmp/race.out"
wait "$open_pid"
key_race=$(sql sp_det_a -v s="$newer_sbom" -v k="$newer_key" -v r="${run_r:-none}" <<-'SQL'
	SELECT count(*) FROM stellapolicy.effective_finding
	WHERE policy_id = 'p' AND sbom_id = :'s' AND finding_key = :'k' AND run_id = :'r';
	SQL
)
s=0
[ "${status_r:-}" = succeeded ] && [ "${key_race:-}" = 1 ] || s=1
check $s "a run waits for an ingest still open in its tenant and reads what it committed" \
	"status=${status_r:-none} $newer_key written by the run: ${key_race:-none} (want 1)" "$(cat "$tmp/open.out")"
IFS=$'\t' read -r match3 _ replayed3 < <(replay sp_det_a "${run_r:-none}")
s=0
[ "${match3:-}" = true ] && [ "${replayed3:-}" = "${hash_r:-}" ] || s=1
check $s "its replay matches: no change number below its cursors was left unseen" \
	"match=${match3:-none} recorded=${hash_r:-none} replayed=${replayed3:-none} $(err)"

# A transaction snapshot taken before the run could miss rows below its
# cursors: a run with wait => true is refused outside READ COMMITTED.
rr=$(psql -X -q -At -d sp_det_a -v VERBOSITY=verbose -c "BEGIN ISOLATION LEVEL REPEATABLE READ" \
	-c "SELECT stellapolicy.stella_policy_run('p', wait => true)" 2>&1)
s=0
[[ $rr == *"25000: a run with wait => true needs a READ COMMITTED transaction"* ]] || s=1
check $s "a run with wait => true in a REPEATABLE READ transaction is refused (25000)" "$rr"

# The first run of a new policy creates its partition without locking the
# findings of the others: a transaction that holds it open holds up no
# reader.
psql -X -q -d sp_det_a -c "BEGIN" \
	-c "SELECT stellapolicy.policy_create('p-new', (SELECT source FROM stellapolicy.policy_version WHERE policy_id = 'p' AND version = 1))" \
	-c "SELECT stellapolicy.policy_submit('p-new', 1), stellapolicy.policy_approve('p-new', 1), stellapolicy.policy_activate('p-new', 1)" \
	-c "SELECT stellapolicy.stella_policy_run('p-new', wait => true)" -c "SELECT pg_sleep(3)" -c "COMMIT" >/dev/null 2>&1 &
newp_pid=$!
for _ in $(seq 50); do
	[ "$(sql sp_det_a -c "SELECT count(*) FROM pg_stat_activity WHERE datname = 'sp_det_a' AND query = 'SELECT pg_sleep(3)'")" = 1 ] && break
	sleep 0.1
done
read_p=$(sql sp_det_a -c "SET lock_timeout = '1s'" -c "SELECT count(*) FROM stellapolicy.effective_finding WHERE policy_id = 'p'" 2>&1)
wait "$newp_pid"
s=0
[[ $read_p =~ ^[0-9]+$ ]] && [ "$read_p" -gt 0 ] || s=1
check $s "a transaction holding a new policy's first run open does not lock the other policies' findings" "$read_p"

# Two sessions ingesting one new advisory record at once: the second waits
# for the first and finds it stored, instead of failing on the unique key.
osv_rec='{"id":"GHSA-conc-0001","modified":"2025-08-01T00:00:00Z","affected":[{"package":{"ecosystem":"npm","name":"conc"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.0.0"}]}]}]}'
psql -X -q -At -d sp_det_a -c "BEGIN" -c "SELECT stellapolicy.advisory_ingest('$osv_rec')" -c "SELECT pg_sleep(2)" -c "COMMIT" > "$tmp/conc_a.out" 2>&1 &
conc_a=$!
for _ in $(seq 50); do
	[ "$(sql sp_det_a -c "SELECT count(*) FROM pg_stat_activity WHERE datname = 'sp_det_a' AND query = 'SELECT pg_sleep(2)'")" = 1 ] && break
	sleep 0.1
done
conc_b=$(sql sp_det_a -c "SELECT stellapolicy.advisory_ingest('$osv_rec')" 2>&1)
wait "$conc_a"
s=0
[ "$(head -1 "$tmp/conc_a.out")" = 1 ] && [ "$conc_b" = 0 ] \
	&& [ "$(sql sp_det_a -c "SELECT count(*) FROM stellapolicy.advisory_raw WHERE advisory_id = 'GHSA-conc-0001'")" = 1 ] || s=1
check $s "the same advisory ingested by two sessions at once is stored once, and the second is told it was there" \
	"first: $(cat "$tmp/conc_a.out")" "second: $conc_b"

# The hashes and the time taken.
echo "# hash A (first run):       ${hash_a:-none}"
echo "# hash B:                   ${hash_b:-none}"
echo "# hash A after VACUUM FULL: ${hash_v:-none}"
echo "# hash A, newer advisory:   ${hash_n:-none}"
awk -v a="$started" -v b="$EPOCHREALTIME" 'BEGIN { printf "# took %.1f s\n", b - a }'
exit $fail
