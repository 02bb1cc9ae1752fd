#!/usr/bin/env bash
# Run every stellapolicy test on a fresh Debian 12 machine, as root:
# installs packages, builds, starts a throwaway cluster, runs pg_regress,
# pgTAP, the core unit tests and the scripted tests, stops the cluster, and
# ends with the line "N passed, N failed".
#
#   bash scripts/test.sh            everything
#   SP_ONLY=pgtap bash scripts/test.sh test/pgtap/02_corpus.sql
#                                   one suite (regress|pgtap|unit|scripts),
#                                   optionally some of its files
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# The reference programs of the differential version test.  Node.js and a
# JDK may already be there from outside Debian (a Debian npm would conflict
# with such a Node.js): ask for them only when the command is missing.
EXTRA_PACKAGES="python3-packaging python3-rpm rpm maven libdpkg-perl python3-prometheus-client python3-yaml"
command -v javac >/dev/null 2>&1 || EXTRA_PACKAGES="$EXTRA_PACKAGES default-jdk-headless"
command -v node >/dev/null 2>&1 || EXTRA_PACKAGES="$EXTRA_PACKAGES nodejs"
command -v npm >/dev/null 2>&1 || EXTRA_PACKAGES="$EXTRA_PACKAGES npm"
sp_install_packages "$EXTRA_PACKAGES"
sp_build
make -C "$SP_ROOT" -s core unit-bins tools >/dev/null

trap 'sp_cluster_stop' EXIT
sp_cluster_start

cd "$SP_ROOT"
export SP_TEST_DB=stellapolicy_test
only=${SP_ONLY:-all}

# The corpus loader used by the pgTAP corpus test.
mkdir -p build
if [ -d "$SP_CORPUS" ]; then
	bash scripts/corpus.sh "$SP_CORPUS" > build/corpus_load.sql
else
	log "no corpus at $SP_CORPUS: the corpus tests will fail"
	echo "\\echo 'corpus missing' \\quit" > build/corpus_load.sql
fi

regress_passed=0
regress_failed=0
if [ "$only" = all ] || [ "$only" = regress ]; then
	log "pg_regress"
	set +e
	make -s installcheck PG_CONFIG="$PG_CONFIG" ${SP_ONLY:+REGRESS="$(basename -s .sql "$@")"} > build/regress.log 2>&1
	set -e
	cat build/regress.log
	regress_passed=$(grep -Ec '^(ok|test) .* \.\.\. ok|^ok ' build/regress.log || true)
	regress_failed=$(grep -Ec 'FAILED|failed \(ignored\)' build/regress.log || true)
	if [ -f regression.diffs ]; then
		head -100 regression.diffs
	fi
fi

# A database for the pgTAP files.
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $SP_TEST_DB" -c "CREATE DATABASE $SP_TEST_DB"
psql -X -q -d "$SP_TEST_DB" -c "CREATE EXTENSION pgtap" -c "CREATE EXTENSION stellapolicy"

files=()
case "$only" in
	all)
		files+=(test/pgtap/*.sql)
		files+=($(ls build/unit/* 2>/dev/null || true))
		files+=($(ls test/scripts/*.t 2>/dev/null || true))
		;;
	regress) ;;
	pgtap) files+=(${@:-test/pgtap/*.sql}) ;;
	unit) files+=(${@:-build/unit/*}) ;;
	scripts) files+=(${@:-test/scripts/*.t}) ;;
	*) log "unknown SP_ONLY=$only"; exit 2 ;;
esac

log "TAP tests"
perl test/harness.pl --regress-passed "$regress_passed" --regress-failed "$regress_failed" "${files[@]}"
