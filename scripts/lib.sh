# Shared by scripts/demo.sh and scripts/test.sh: packages, build, and a
# throwaway PostgreSQL cluster run as the postgres user.
#
# Settings (environment):
#   SP_PORT       first port to try for the cluster (default 54329; the next
#                 free one is taken if it is busy)
#   SP_BASE       where the cluster lives (default /tmp/stellapolicy-cluster)
#   SP_SKIP_APT   set to 1 to skip apt-get (packages already there)
#   SP_CORPUS     the shared corpus (default ../shared/corpus beside the repo)

set -euo pipefail

SP_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PG_BIN=/usr/lib/postgresql/15/bin
export PG_CONFIG=$PG_BIN/pg_config
SP_BASE=${SP_BASE:-/tmp/stellapolicy-cluster}
SP_CORPUS=${SP_CORPUS:-$SP_ROOT/../shared/corpus}

PACKAGES="jq bc postgresql-15 postgresql-server-dev-15 postgresql-15-cron
postgresql-15-pgtap libjansson-dev libssl-dev pkg-config make gcc
libtap-parser-sourcehandler-pgtap-perl perl"

log() { printf '==> %s\n' "$*" >&2; }

# Paths follow SP_BASE as it is when a function runs, not when this file
# was sourced, so a caller may point SP_BASE elsewhere at any time.
sp_paths() {
	SP_DATA=$SP_BASE/data
	SP_SOCK=$SP_BASE/sock
	SP_LOG=$SP_BASE/postgres.log
}
sp_paths

# Install what the build and the tests need (Debian 12, as root).
sp_install_packages() {
	local extra="${1:-}"
	if [ "${SP_SKIP_APT:-0}" = 1 ]; then return 0; fi
	local missing=""
	for p in $PACKAGES $extra; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
			|| missing="$missing $p"
	done
	if [ -n "$missing" ]; then
		log "installing:$missing"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq </dev/null
		# shellcheck disable=SC2086
		apt-get install -y -qq --no-install-recommends $missing </dev/null >/dev/null
	fi
	# The Debian package may have started its own cluster on 5432; ours does
	# not depend on it and leaves it alone.
}

sp_build() {
	log "building and installing stellapolicy"
	make -C "$SP_ROOT" -s PG_CONFIG="$PG_CONFIG" >/dev/null
	make -C "$SP_ROOT" -s PG_CONFIG="$PG_CONFIG" install >/dev/null
}

port_busy() {
	local port=$1
	if command -v ss >/dev/null 2>&1; then
		ss -ltn 2>/dev/null | awk '{print $4}' | grep -Eq "[:.]$port\$"
	else
		(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
	fi
}

# Stop a cluster left over from an earlier run of ours, if any.
sp_cluster_stop() {
	sp_paths
	if [ -f "$SP_DATA/postmaster.pid" ]; then
		log "stopping the throwaway cluster"
		(cd / && runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$SP_DATA" -m fast -w stop >/dev/null 2>&1) || true
	fi
}

# initdb a fresh cluster and start it; sets SP_PORT and the PG* variables.
sp_cluster_start() {
	sp_paths
	sp_cluster_stop
	rm -rf "$SP_BASE"
	mkdir -p "$SP_DATA" "$SP_SOCK"
	chown -R postgres:postgres "$SP_BASE"
	chmod 700 "$SP_DATA"
	chmod 755 "$SP_BASE" "$SP_SOCK"

	local port=${SP_PORT:-54329}
	while port_busy "$port" || [ -e "/tmp/.s.PGSQL.$port" ] || [ -e "/var/run/postgresql/.s.PGSQL.$port" ]; do
		port=$((port + 1))
	done
	SP_PORT=$port

	log "initdb in $SP_DATA (port $SP_PORT)"
	(cd / && runuser -u postgres -- "$PG_BIN/initdb" -D "$SP_DATA" -U postgres \
		--auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null)
	cat >> "$SP_DATA/postgresql.conf" <<CONF
port = $SP_PORT
listen_addresses = ''
unix_socket_directories = '$SP_SOCK'
shared_preload_libraries = 'pg_cron,stellapolicy'
cron.database_name = '${SP_WORKER_DB:-stellapolicy_work}'
cron.use_background_workers = on
stellapolicy.database_name = '${SP_WORKER_DB:-stellapolicy_work}'
max_worker_processes = 16
fsync = off
synchronous_commit = off
full_page_writes = off
log_min_messages = warning
CONF
	(cd / && runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$SP_DATA" -l "$SP_LOG" -w -t 60 start >/dev/null) || {
		log "the cluster did not start; its log follows"
		cat "$SP_LOG" >&2 || true
		return 1
	}
	export PGHOST=$SP_SOCK PGPORT=$SP_PORT PGUSER=postgres
	# The database of the background workers (and of pg_cron).
	psql -X -q -d postgres -c "CREATE DATABASE ${SP_WORKER_DB:-stellapolicy_work}" >/dev/null
}
