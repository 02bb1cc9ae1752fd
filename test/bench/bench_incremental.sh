#!/usr/bin/env bash
# Incremental-run latency and queued-run throughput of the background
# workers, on the generated tenant of bench_run.sh (gen_tenant.sql).
# Starts its own throwaway cluster (scripts/lib.sh) and stops it on exit.
#
#   bash test/bench/bench_incremental.sh [SBOMS [PER_SBOM [ADVISORIES [CHANGES]]]]
#   default: 2000 SBOMs x 250 components = 500,000 components,
#            20,000 advisories, 25 changes
#
# 1. Latency.  After one full baseline run of the policy (wait => true),
#    each change ingests one new OSV advisory (advisory_ingest) naming an
#    npm or PyPI package found in about 1% of the SBOMs, every version
#    affected.  The launcher queues an incremental run once the change has
#    settled (stellapolicy.incremental_debounce) and a worker executes it.
#    Latency is the time from the client's commit of the advisory to
#    finished_at of the succeeded incremental run whose scope names the
#    advisory; each change waits for its run before the next.  The run's
#    own length (finished_at - started_at) and the queueing delay
#    (started_at - commit) are printed beside it, with the run's phases
#    taken from the server log (the workers log at DEBUG1 while the
#    changes are measured).
# 2. Throughput.  TPUT_RUNS (200) queued full runs of TPUT_POLICIES (10)
#    policies, round-robin, in a tenant without SBOMs: runs of one policy
#    are serialised, so several policies let the workers run in parallel.
#
# Settings (environment): SP_BASE (/tmp/sp-bench-inc), SP_PORT (55800),
# SP_WORKER_DB (stellapolicy_bench_inc), SP_SKIP_APT=1 (no apt-get),
# SP_SKIP_BUILD=1 (use the installed build), POLICY_FILE, TPUT_RUNS,
# TPUT_POLICIES, CHANGE_TIMEOUT (seconds to wait for one change's run, 60).
set -euo pipefail

export SP_BASE=${SP_BASE:-/tmp/sp-bench-inc}
export SP_PORT=${SP_PORT:-55800}
# The tenant is loaded into the workers' database, which lib.sh creates.
export SP_WORKER_DB=${SP_WORKER_DB:-stellapolicy_bench_inc}
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"

SBOMS=${1:-2000}
PER=${2:-250}
ADVISORIES=${3:-20000}
CHANGES=${4:-25}
TPUT_RUNS=${TPUT_RUNS:-200}
TPUT_POLICIES=${TPUT_POLICIES:-10}
CHANGE_TIMEOUT=${CHANGE_TIMEOUT:-60}
T_START=$(date +%s.%N)

sp_install_packages
if [ "${SP_SKIP_BUILD:-0}" != 1 ]; then
	sp_build
fi
trap 'sp_cluster_stop' EXIT
sp_cluster_start
cd "$SP_ROOT"

DB=$SP_WORKER_DB
POLICY_FILE=${POLICY_FILE:-$SP_ROOT/../shared/policies/internal-only.stella}
[ -f "$POLICY_FILE" ] || POLICY_FILE=$SP_ROOT/data/policies/org-baseline.stella
ENV_JSON='{"exposure": "internal"}'
q() { psql -X -q -v ON_ERROR_STOP=1 -d "$DB" "$@"; }

# Median and nearest-rank 95th percentile of the numbers given.
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
p95() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {i=int(NR*0.95); if (i<NR*0.95) i++; print a[i]}'; }

# ---------- the tenant and its baseline run ----------

log "generating the tenant ($SBOMS SBOMs x $PER components, $ADVISORIES advisories)"
q -c "CREATE EXTENSION stellapolicy"
q -v sboms="$SBOMS" -v per="$PER" -v advisories="$ADVISORIES" -f test/bench/gen_tenant.sql
q -c "VACUUM ANALYZE"

# Polls for the incremental run that covers an advisory, in one statement:
# each query of a volatile plpgsql function takes a fresh snapshot.
q <<'SQL'
CREATE FUNCTION public.bench_wait_covered(p_adv text, p_after timestamptz, p_timeout interval,
	OUT run_id text, OUT queued_at timestamptz, OUT started_at timestamptz,
	OUT finished_at timestamptz, OUT seen_at timestamptz, OUT stats jsonb)
	LANGUAGE plpgsql AS $$
DECLARE
	deadline timestamptz := clock_timestamp() + p_timeout;
	f record;
BEGIN
	LOOP
		SELECT r.run_id, r.queued_at, r.started_at, r.finished_at, clock_timestamp(), r.stats
		  INTO run_id, queued_at, started_at, finished_at, seen_at, stats
		  FROM stellapolicy.policy_runs r
		 WHERE r.tenant = 'bench' AND r.mode = 'incremental' AND r.status = 'succeeded'
		   AND r.inputs->'scope'->'advisories' ? p_adv
		 ORDER BY r.finished_at LIMIT 1;
		IF FOUND THEN
			RETURN;
		END IF;
		SELECT r.run_id, r.status, r.error INTO f FROM stellapolicy.policy_runs r
		 WHERE r.tenant = 'bench' AND r.mode = 'incremental' AND r.queued_at >= p_after
		   AND r.status IN ('failed', 'canceled')
		 LIMIT 1;
		IF FOUND THEN
			RAISE EXCEPTION 'incremental run % ended %: %', f.run_id, f.status, f.error;
		END IF;
		IF clock_timestamp() > deadline THEN
			RAISE EXCEPTION 'no succeeded incremental run covers advisory % after %', p_adv, p_timeout;
		END IF;
		PERFORM pg_sleep(0.005);
	END LOOP;
END
$$;

-- Waits until every run of a tenant has ended; returns how many succeeded.
CREATE FUNCTION public.bench_wait_all(p_tenant text, p_timeout interval) RETURNS bigint
	LANGUAGE plpgsql AS $$
DECLARE
	deadline timestamptz := clock_timestamp() + p_timeout;
BEGIN
	LOOP
		IF NOT EXISTS (SELECT 1 FROM stellapolicy.policy_runs r
						WHERE r.tenant = p_tenant AND r.status IN ('queued', 'running')) THEN
			RETURN (SELECT count(*) FROM stellapolicy.policy_runs r
					 WHERE r.tenant = p_tenant AND r.status = 'succeeded');
		END IF;
		IF clock_timestamp() > deadline THEN
			RAISE EXCEPTION 'runs of tenant % still pending after %', p_tenant, p_timeout;
		END IF;
		PERFORM pg_sleep(0.005);
	END LOOP;
END
$$;
SQL

log "baseline full run of $(basename "$POLICY_FILE")"
baseline=$(q -At -v src="$(cat "$POLICY_FILE")" -v env="$ENV_JSON" <<'SQL'
SET stellapolicy.tenant = 'bench';
SELECT stellapolicy.policy_create('inc-bench', :'src') \gset
SELECT stellapolicy.policy_submit('inc-bench', 1), stellapolicy.policy_approve('inc-bench', 1),
	   stellapolicy.policy_activate('inc-bench', 1) \gset
SELECT stellapolicy.stella_policy_run('inc-bench', env => :'env', wait => true) AS run \gset
SELECT status || ' ' || (stats->>'tuples') || ' '
	   || round(extract(epoch FROM finished_at - started_at)::numeric, 3)
  FROM stellapolicy.policy_runs WHERE run_id = :'run';
SQL
)
read -r b_status b_tuples b_secs <<<"$baseline"
[ "$b_status" = succeeded ] || { log "baseline run: $baseline"; exit 1; }

# Packages in about 1% of the current SBOMs (npm and PyPI only: an OS
# package makes an incremental run read every SBOM).
TARGET=$(( (SBOMS + 50) / 100 ))
[ "$TARGET" -ge 1 ] || TARGET=1
mapfile -t PKGS < <(q -At -F ' ' -v target="$TARGET" -v n="$CHANGES" <<'SQL'
SET stellapolicy.tenant = 'bench';
SELECT c.match_ecosystem, c.match_package, count(DISTINCT c.sbom_id)
  FROM stellapolicy.component c
  JOIN stellapolicy.sbom s ON s.tenant = c.tenant AND s.sbom_id = c.sbom_id
   AND s.revision = c.revision AND s.is_current AND s.active
 WHERE c.tenant = 'bench' AND c.match_ecosystem IN ('npm', 'PyPI')
 GROUP BY 1, 2
 ORDER BY abs(count(DISTINCT c.sbom_id) - :target), c.match_package COLLATE "C"
 LIMIT :n;
SQL
)
[ "${#PKGS[@]}" -eq "$CHANGES" ] || { log "found ${#PKGS[@]} packages, not $CHANGES"; exit 1; }

# The launcher started with the cluster, before lib.sh created its
# database, so it failed once and comes back after its restart interval
# (5 s); measure only once it and its workers are up.
# (pg_stat_activity is read once per transaction: poll from here.)
for _ in $(seq 600); do
	up=$(q -At -c "SELECT count(*) FILTER (WHERE backend_type = 'stellapolicy launcher') || ' '
		|| count(*) FILTER (WHERE backend_type = 'stellapolicy worker') || ' '
		|| current_setting('stellapolicy.workers') FROM pg_stat_activity")
	read -r n_launcher n_workers n_want <<<"$up"
	[ "$n_launcher" = 1 ] && [ "$n_workers" = "$n_want" ] && break
	sleep 0.1
done
[ "$n_launcher" = 1 ] && [ "$n_workers" -ge 1 ] || { log "stellapolicy workers not running: $up"; exit 1; }

# CPU time of the idle launcher and workers over two seconds, in percent
# of one core (/proc/<pid>/stat: utime and stime, in clock ticks).
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
mapfile -t BGPIDS < <(q -At -F ' ' -c "SELECT pid, backend_type FROM pg_stat_activity
	WHERE backend_type IN ('stellapolicy launcher', 'stellapolicy worker') ORDER BY backend_type, pid")
declare -A tick0
for row in "${BGPIDS[@]}"; do tick0[${row%% *}]=$(cpu_ticks "${row%% *}"); done
sleep 2
idle_cpu=""
for row in "${BGPIDS[@]}"; do
	pid=${row%% *}
	idle_cpu+=$(printf '%s %d%%, ' "${row#* stellapolicy }" \
		$(( ($(cpu_ticks "$pid") - tick0[$pid]) * 100 / $(getconf CLK_TCK) / 2 )))
done
idle_cpu=${idle_cpu%, }
LOADAVG=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------- 1. latency of incremental runs ----------

# Phase timings of the workers' runs go to the server log from here on.
q -c "ALTER SYSTEM SET log_min_messages = debug1" -c "SELECT pg_reload_conf()" >/dev/null
sleep 0.5
log_from=$(($(wc -l <"$SP_LOG") + 1))

log "measuring $CHANGES changes"
lat=() queue=() runlen=() plan=() seen=() sbomcounts=()
for i in $(seq "$CHANGES"); do
	read -r eco pkg nsboms <<<"${PKGS[$((i - 1))]}"
	adv=$(printf 'BENCH-INC-%04d' "$i")
	out=$(q -At -F ' ' -v adv="$adv" -v eco="$eco" -v pkg="$pkg" -v timeout="$CHANGE_TIMEOUT" <<'SQL'
SET stellapolicy.tenant = 'bench';
SELECT jsonb_build_object(
	'schema_version', '1.6.0', 'id', :'adv',
	'modified', to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
	'summary', 'benchmark advisory for ' || :'pkg',
	'severity', jsonb_build_array(jsonb_build_object('type', 'CVSS_V3',
		'score', 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H')),
	'affected', jsonb_build_array(jsonb_build_object(
		'package', jsonb_build_object('ecosystem', :'eco', 'name', :'pkg'),
		'ranges', jsonb_build_array(jsonb_build_object('type', 'ECOSYSTEM',
			'events', jsonb_build_array(jsonb_build_object('introduced', '0'))))))) AS doc \gset
-- Autocommit: the statement has committed when the next one starts.
SELECT stellapolicy.advisory_ingest(:'doc'::jsonb) AS stored \gset
SELECT clock_timestamp() AS committed \gset
SELECT round(extract(epoch FROM w.finished_at - :'committed'::timestamptz)::numeric, 4),
	   round(extract(epoch FROM w.started_at - :'committed'::timestamptz)::numeric, 4),
	   round(extract(epoch FROM w.finished_at - w.started_at)::numeric, 4),
	   round(extract(epoch FROM w.queued_at - :'committed'::timestamptz)::numeric, 4),
	   round(extract(epoch FROM w.seen_at - :'committed'::timestamptz)::numeric, 4),
	   w.stats->>'tuples', w.stats->>'findingsWritten', :stored, w.run_id
  FROM public.bench_wait_covered(:'adv', :'committed'::timestamptz,
								 make_interval(secs => :timeout)) w;
SQL
)
	read -r l qd rl pl sn tuples written stored run_id <<<"$out"
	[ "$stored" = 1 ] || { log "$adv: advisory_ingest stored $stored revisions, not 1"; exit 1; }
	printf 'change %2d: %s %s %s in %s SBOMs: commit->finished %.3f s (queued +%.3f, started +%.3f, run %.3f s; seen by client +%.3f), %s tuples, %s findings written\n' \
		"$i" "$adv" "$eco" "$pkg" "$nsboms" "$l" "$pl" "$qd" "$rl" "$sn" "$tuples" "$written"
	lat+=("$l") queue+=("$qd") runlen+=("$rl") plan+=("$pl") seen+=("$sn") sbomcounts+=("$nsboms")
done

q -c "ALTER SYSTEM RESET log_min_messages" -c "SELECT pg_reload_conf()" >/dev/null

# Phases of the incremental runs, from the workers' log lines: a worker's
# DEBUG1 phase lines fall between its "run started" and "run finished".
phases=$(tail -n +"$log_from" "$SP_LOG" | awk '
	match($0, /\[[0-9]+\]/) { pid = substr($0, RSTART + 1, RLENGTH - 2) }
	/stellapolicy run started / && / mode=incremental / { cur[pid] = 1; sum[pid] = 0; next }
	/stellapolicy run phase=/ && cur[pid] {
		split($0, a, "phase="); split(a[2], b, " "); split(b[2], c, "=")
		v[b[1], ++n[b[1]]] = c[2]; sum[pid] += c[2]; names[b[1]] = 1; next }
	/stellapolicy run finished / && cur[pid] {
		split($0, a, "seconds="); split(a[2], b, " ")
		v["(outside the phases)", ++n["(outside the phases)"]] = b[1] - sum[pid]
		v["(whole run, engine)", ++n["(whole run, engine)"]] = b[1]
		cur[pid] = 0 }
	END {
		names["(outside the phases)"] = 1; names["(whole run, engine)"] = 1
		for (p in names) {
			m = n[p]; for (i = 1; i <= m; i++) s[i] = v[p, i]
			for (i = 2; i <= m; i++) { x = s[i]; for (j = i - 1; j >= 1 && s[j] > x; j--) s[j + 1] = s[j]; s[j + 1] = x }
			if (m > 0) printf "  %-22s median %.3f s  max %.3f s  (%d runs)\n", p, s[int((m + 1) / 2)], s[m], m
		}
	}' | sort)

# ---------- 2. throughput of queued trivial runs ----------

log "queueing $TPUT_RUNS runs of $TPUT_POLICIES policies in an empty tenant"
tput=$(q -At -F ' ' -v src="$(cat "$POLICY_FILE")" -v env="$ENV_JSON" -v nruns="$TPUT_RUNS" \
	-v npol="$TPUT_POLICIES" <<'SQL'
SET stellapolicy.tenant = 'tput';
SELECT count(stellapolicy.policy_create('tput-' || lpad(p::text, 3, '0'), :'src')),
	   count(stellapolicy.policy_submit('tput-' || lpad(p::text, 3, '0'), 1)),
	   count(stellapolicy.policy_approve('tput-' || lpad(p::text, 3, '0'), 1)),
	   count(stellapolicy.policy_activate('tput-' || lpad(p::text, 3, '0'), 1))
  FROM generate_series(1, :npol) p \gset
SELECT clock_timestamp() AS t_queue \gset
-- One transaction: the workers see all the runs at its commit.
SELECT count(stellapolicy.stella_policy_run('tput-' || lpad((i % :npol + 1)::text, 3, '0'), env => :'env'))
  FROM generate_series(0, :nruns - 1) i \gset
SELECT clock_timestamp() AS t_commit \gset
SELECT public.bench_wait_all('tput', '10 minutes') AS ok \gset
SELECT clock_timestamp() AS t_seen \gset
SELECT :ok,
	   round(extract(epoch FROM :'t_commit'::timestamptz - :'t_queue'::timestamptz)::numeric, 3),
	   round(extract(epoch FROM max(finished_at) - :'t_commit'::timestamptz)::numeric, 3),
	   round(extract(epoch FROM :'t_seen'::timestamptz - :'t_commit'::timestamptz)::numeric, 3),
	   round((percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM finished_at - started_at)))::numeric, 4),
	   round((sum(extract(epoch FROM finished_at - started_at))
			  / extract(epoch FROM max(finished_at) - min(started_at)))::numeric, 2),
	   current_setting('stellapolicy.workers'), current_setting('stellapolicy.max_active_runs_per_tenant')
  FROM stellapolicy.policy_runs WHERE tenant = 'tput';
SQL
)
read -r t_ok t_enqueue t_span t_seen t_runlen t_conc t_workers t_maxactive <<<"$tput"
[ "$t_ok" = "$TPUT_RUNS" ] || { log "throughput: $t_ok of $TPUT_RUNS runs succeeded"; exit 1; }
t_rate=$(echo "$TPUT_RUNS / $t_span" | bc -l)

# ---------- the figures ----------

m_lat=$(median "${lat[@]}")
p_lat=$(p95 "${lat[@]}")
T_END=$(date +%s.%N)
debounce=$(q -At -c "SHOW stellapolicy.incremental_debounce")
echo
echo "==== stellapolicy incremental runs and queue throughput ===="
printf 'tenant: %d components in %d SBOMs, %d advisories; policy %s\n' \
	"$((SBOMS * PER))" "$SBOMS" "$ADVISORIES" "$(basename "$POLICY_FILE")"
printf 'baseline full run: %s tuples in %.3f s\n' "$b_tuples" "$b_secs"
printf 'workers %s, max_active_runs_per_tenant %s, incremental_debounce %s\n' \
	"$t_workers" "$t_maxactive" "$debounce"
printf 'idle CPU of the background processes before the changes (%% of one core): %s\n' "$idle_cpu"
printf 'load average before the changes: %s (%s cores)\n' "$LOADAVG" "$(nproc)"
printf '1. latency, %d changes (one new OSV advisory each, a package in %s-%s SBOMs, target %d):\n' \
	"$CHANGES" "$(printf '%s\n' "${sbomcounts[@]}" | sort -n | head -1)" \
	"$(printf '%s\n' "${sbomcounts[@]}" | sort -n | tail -1)" "$TARGET"
printf '  commit -> finished_at         median %.3f s  p95 %.3f s  max %.3f s\n' \
	"$m_lat" "$p_lat" "$(printf '%s\n' "${lat[@]}" | sort -g | tail -1)"
printf '  commit -> queued_at (debounce) median %.3f s\n' "$(median "${plan[@]}")"
printf '  commit -> started_at (queue)   median %.3f s  p95 %.3f s\n' "$(median "${queue[@]}")" "$(p95 "${queue[@]}")"
printf '  started_at -> finished_at (run) median %.3f s  p95 %.3f s\n' "$(median "${runlen[@]}")" "$(p95 "${runlen[@]}")"
printf '  commit -> seen by a polling client median %.3f s\n' "$(median "${seen[@]}")"
echo "  phases of the incremental runs (workers' DEBUG1 log lines, seconds):"
echo "${phases:-  (none found in the log)}"
printf '2. throughput: %d queued full runs of %d policies round-robin in a tenant with no SBOMs\n' \
	"$TPUT_RUNS" "$TPUT_POLICIES"
printf '   (runs of one policy are serialised; %d policies let %s workers run in parallel)\n' \
	"$TPUT_POLICIES" "$t_workers"
printf '  enqueue (one transaction) %.3f s; commit -> last finished_at %.3f s (seen by client %.3f s)\n' \
	"$t_enqueue" "$t_span" "$t_seen"
printf '  median run %.4f s; mean runs in parallel %.2f; %.1f runs/s\n' "$t_runlen" "$t_conc" "$t_rate"
printf 'target: incremental p95 under 1 s: %s\n' \
	"$(if [ "$(echo "$p_lat < 1" | bc -l)" = 1 ]; then echo met; else echo NOT met; fi)"
printf 'script time %.0f s\n' "$(echo "$T_END - $T_START" | bc -l)"
printf 'RESULT incremental_p95_s=%.3f incremental_median_s=%.3f throughput_runs_per_s=%.1f\n' \
	"$p_lat" "$m_lat" "$t_rate"
