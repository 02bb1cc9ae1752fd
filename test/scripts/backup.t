#!/usr/bin/env bash
# Backup and restore with pg_dump.  Database A gets the corpus, a policy,
# two full runs (the second after a newer advisory revision, so findings
# have history), explain traces and a changed tenant grant.  A is dumped
# in custom format and restored into B, and in plain format into C, both
# with session_replication_role = replica as docs/operations.md says; then:
#
#   every table of the extension, partitions included, holds the same rows
#   in A, B and C, and every sequence the same value;
#   the revoked grant of tenant "default" stays revoked;
#   a run in B gives the hash of A's last run and writes nothing, and a
#   replay of A's first run matches in B;
#   ingestion and runs go on in B, numbering after A's;
#   a restore without the setting fails, its triggers colliding with the
#   dumped rows.
#
# Uses the cluster of PGHOST/PGPORT (scripts/test.sh starts one), creates
# and drops the databases sp_bk_a to sp_bk_d, prints TAP.  Alone:
#   SP_ONLY=scripts bash scripts/test.sh test/scripts/backup.t
set -u -o pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root" || exit 1
corpus=${SP_CORPUS:-../shared/corpus}
policy=../shared/policies/internal-only.stella
evaltime=2025-12-01T00:00:00Z
env='{"exposure": "internal"}'
bindir=$(pg_config --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin)
export PGTZ=UTC

dbs=(sp_bk_a sp_bk_b sp_bk_c sp_bk_d)
drop_dbs() {
	for db in "${dbs[@]}"; do
		psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1
	done
}
tmp=$(mktemp -d)
trap 'drop_dbs; rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM HUP

# shellcheck source=test/scripts/tap.bash
source test/scripts/tap.bash
echo "1..11"

# One line per table of the schema (partitions included): name, rows,
# md5 of its rows as text in byte order; then one per sequence.
fingerprint() {
	sql "$1" <<-'SQL'
	SELECT format('SELECT %L || E''\t'' || count(*) || E''\t'' || coalesce(md5(string_agg(t::text, E''\n'' ORDER BY t::text COLLATE "C")), '''') FROM %I.%I t',
				  c.relname, n.nspname, c.relname)
	FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	WHERE n.nspname = 'stellapolicy' AND c.relkind = 'r'
	ORDER BY c.relname COLLATE "C" \gexec
	SELECT format('SELECT %L || E''\t'' || last_value || E''\t'' || is_called FROM %I.%I',
				  c.relname, n.nspname, c.relname)
	FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	WHERE n.nspname = 'stellapolicy' AND c.relkind = 'S'
	ORDER BY c.relname COLLATE "C" \gexec
	SQL
}

drop_dbs

# Database A.
s=0
diag=()
if ! sql postgres -c "CREATE DATABASE sp_bk_a" || ! sql sp_bk_a -c "CREATE EXTENSION stellapolicy"; then
	s=1; diag+=("create sp_bk_a: $(err)")
elif ! bash scripts/corpus.sh "$corpus" | sql sp_bk_a; then
	s=1; diag+=("load the corpus: $(err)")
elif ! make_policy sp_bk_a; then
	s=1; diag+=("create the policy: $(err)")
fi
IFS=$'\t' read -r run1 st1 _ _ _ _ < <(run_policy sp_bk_a true)
# A newer revision of an advisory (its fixed bound moved below axios
# 0.21.0) removes a finding, which goes to the history.
if ! sql sp_bk_a <<-'SQL'
	SELECT jsonb_set(jsonb_set(document, '{modified}', '"2030-01-01T00:00:00Z"'),
		'{affected,0,ranges,0,events,1,fixed}', '"0.21.0"')::text AS doc
	FROM stellapolicy.advisory_current WHERE advisory_id = 'GHSA-cph5-m8f7-6c5x' \gset
	SELECT stellapolicy.advisory_ingest(:'doc') \gset
	SELECT stellapolicy.tenant_revoke('default', 'public') \gset
	SELECT stellapolicy.tenant_grant('default', 'stellapolicy_reader') \gset
	SQL
then
	s=1; diag+=("newer advisory revision, grants: $(err)")
fi
IFS=$'\t' read -r run2 st2 hash2 _ _ removed2 < <(run_policy sp_bk_a)
hist=$(sql sp_bk_a -c "SELECT count(*) FROM stellapolicy.effective_finding_history")
traces=$(sql sp_bk_a -c "SELECT count(*) FROM stellapolicy.policy_explain")
[ "${st1:-}" = succeeded ] && [ "${st2:-}" = succeeded ] && [ "${removed2:-0}" -ge 1 ] \
	&& [ "${hist:-0}" -ge 1 ] && [ "${traces:-0}" -gt 0 ] || s=1
check $s "A: corpus, two runs (${removed2:-?} finding(s) removed, ${hist:-?} history row(s)), ${traces:-?} explain traces" \
	"${diag[@]}" "run1=${run1:-} $st1 run2=${run2:-} ${st2:-} hist=${hist:-} traces=${traces:-}"
fingerprint sp_bk_a > "$tmp/a.fp"

# Custom format into B, plain format into C.
s=0
diag=()
if ! "$bindir/pg_dump" -Fc -f "$tmp/a.dump" sp_bk_a 2>"$tmp/dump.err"; then
	s=1; diag+=("pg_dump -Fc: $(cat "$tmp/dump.err")")
elif ! sql postgres -c "CREATE DATABASE sp_bk_b"; then
	s=1; diag+=("create sp_bk_b: $(err)")
elif ! PGOPTIONS='-c session_replication_role=replica' \
		"$bindir/pg_restore" --exit-on-error -d sp_bk_b "$tmp/a.dump" 2>"$tmp/restore.err"; then
	s=1; diag+=("pg_restore: $(cat "$tmp/restore.err")")
fi
check $s "pg_dump -Fc of A restores into B with pg_restore and session_replication_role = replica, without an error" "${diag[@]}"

s=0
diag=()
if ! "$bindir/pg_dump" -Fp -f "$tmp/a.sql" sp_bk_a 2>"$tmp/dump.err"; then
	s=1; diag+=("pg_dump -Fp: $(cat "$tmp/dump.err")")
elif ! sql postgres -c "CREATE DATABASE sp_bk_c"; then
	s=1; diag+=("create sp_bk_c: $(err)")
elif ! PGOPTIONS='-c session_replication_role=replica' sql sp_bk_c -f "$tmp/a.sql" >/dev/null; then
	s=1; diag+=("psql -f: $(err)")
fi
check $s "a plain pg_dump of A restores into C with psql and the same setting" "${diag[@]}"

for db in b c; do
	fingerprint "sp_bk_$db" > "$tmp/$db.fp"
	s=0
	cmp -s "$tmp/a.fp" "$tmp/$db.fp" || s=1
	tables=$(grep -c . "$tmp/a.fp")
	check $s "every table and sequence of A ($tables) is the same in ${db^^}" \
		"$(diff "$tmp/a.fp" "$tmp/$db.fp" | head -20)"
done

s=0
partitions=$(sql sp_bk_b -c "SELECT count(*) FROM pg_inherits WHERE inhparent = 'stellapolicy.effective_finding'::regclass")
pkeys=$(sql sp_bk_b -c "SELECT count(*) FROM pg_inherits i JOIN pg_constraint k ON k.conrelid = i.inhrelid AND k.contype = 'p'
	WHERE i.inhparent = 'stellapolicy.effective_finding'::regclass")
[ "$partitions" = 1 ] && [ "$pkeys" = 1 ] || s=1
check $s "B's findings partition is attached, with its primary key" "partitions=$partitions keys=$pkeys"

s=0
grants=$(sql sp_bk_b -c "SELECT string_agg(tenant || ':' || grantee, ',' ORDER BY grantee) FROM stellapolicy.tenant_access")
[ "$grants" = "default:stellapolicy_reader" ] || s=1
check $s "the grant of tenant default to every role, revoked in A, stays revoked in B" "tenant_access: $grants"

s=0
IFS=$'\t' read -r runb stb hashb wb cb rb < <(run_policy sp_bk_b)
[ "${stb:-}" = succeeded ] && [ "${hashb:-}" = "${hash2:-x}" ] && [ "$wb/$cb/$rb" = 0/0/0 ] || s=1
check $s "a run in B gives the hash of A's last run and writes nothing" \
	"run=${runb:-} status=${stb:-} hash=${hashb:-} want=${hash2:-} written/changed/removed=${wb:-}/${cb:-}/${rb:-}" "$(err)"

s=0
replay=$(sql sp_bk_b -v run="$run1" <<<"SELECT r->>'match' FROM stellapolicy.stella_policy_replay(:'run') r;")
[ "$replay" = true ] || s=1
check $s "a replay in B of A's first run (before the newer revision) matches" "match=$replay" "$(err)"

# Ingestion goes on with numbers after A's.
s=0
before=$(sql sp_bk_a -c "SELECT (SELECT max(revision_id) FROM stellapolicy.advisory_raw) || ' ' || (SELECT max(change_id) FROM stellapolicy.input_change) || ' ' || (SELECT max(event_id) FROM stellapolicy.policy_run_events)")
after=$(sql sp_bk_b <<-'SQL'
	SELECT stellapolicy.advisory_ingest('{"id":"GHSA-bk-0001","modified":"2030-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"npm","name":"lodash"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"99.0.0"}]}]}]}') \gset
	SELECT (SELECT max(revision_id) FROM stellapolicy.advisory_raw) || ' ' || (SELECT max(change_id) FROM stellapolicy.input_change) || ' ' || (SELECT max(event_id) FROM stellapolicy.policy_run_events);
	SQL
)
read -r rev_a chg_a ev_a <<<"$before"
read -r rev_b chg_b ev_b <<<"${after:-0 0 0}"
[ "${rev_b:-0}" -eq $((rev_a + 1)) ] && [ "${chg_b:-0}" -eq $((chg_a + 1)) ] && [ "${ev_b:-0}" -gt "$ev_a" ] || s=1
check $s "B ingests and runs on: the next advisory revision, change and event numbers follow A's" \
	"A: revision $rev_a change $chg_a event $ev_a; B: ${after:-}" "$(err)"

# Without the setting, the restore fails loudly.
s=0
sql postgres -c "CREATE DATABASE sp_bk_d" || s=1
if "$bindir/pg_restore" --exit-on-error -d sp_bk_d "$tmp/a.dump" 2>"$tmp/restore.err"; then
	s=1
fi
check $s "a restore of A without session_replication_role = replica fails: its triggers collide with the dumped rows" \
	"$(head -3 "$tmp/restore.err")"

exit $fail
