#!/bin/bash
# Differential test of the version comparators against the ecosystems' own
# code: node-semver (npm), python packaging (PyPI), Maven ComparableVersion,
# Dpkg::Version (dpkg), rpm.ver (RPM).  Generates >= 10,000 pairs per scheme,
# asks tools/spver and the reference program, and prints TAP: one test per
# scheme, failing on any disagreement or on a reference that cannot run.
# Usage: test/diff/run.sh [pairs-per-scheme] [seed]
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
N=${1:-10000}
SEED=${2:-20261203}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
PY=/usr/bin/python3
CC=${CC:-gcc}

# Install what is missing (non-interactive, waits for a busy dpkg lock).
need_pkgs=()
[ -e /usr/share/perl5/Dpkg/Version.pm ] || need_pkgs+=(libdpkg-perl)
$PY -c 'import packaging.version' 2>/dev/null || need_pkgs+=(python3-packaging)
$PY -c 'import rpm' 2>/dev/null || need_pkgs+=(python3-rpm)
command -v javac >/dev/null || need_pkgs+=(default-jdk-headless)
ls /usr/share/maven/lib/maven-artifact*.jar >/dev/null 2>&1 || need_pkgs+=(maven)
command -v node >/dev/null || need_pkgs+=(nodejs)
command -v npm >/dev/null || need_pkgs+=(npm)
if [ ${#need_pkgs[@]} -gt 0 ]; then
	echo "# installing ${need_pkgs[*]}"
	for try in 1 2 3 4 5 6 7 8 9 10; do
		if DEBIAN_FRONTEND=noninteractive apt-get install -y \
			--no-install-recommends "${need_pkgs[@]}" >"$WORK/apt.log" 2>&1; then
			break
		fi
		if [ "$try" = 1 ]; then apt-get update >/dev/null 2>&1; fi
		sleep 10
	done
fi
if [ ! -d "$HERE/node_modules/semver" ]; then
	(cd "$HERE" && npm ci --no-audit --no-fund >"$WORK/npm.log" 2>&1 ||
		npm install --no-audit --no-fund >>"$WORK/npm.log" 2>&1)
fi

# Build spver.
SPVER="$WORK/spver"
$CC -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -I"$ROOT/src/core" \
	"$ROOT/tools/spver.c" "$ROOT"/src/core/version*.c "$ROOT/src/core/arena.c" \
	-o "$SPVER" || { echo "1..1"; echo "not ok 1 - build spver"; exit 1; }

# Build the Maven driver.
MVJAR=$(ls /usr/share/maven/lib/maven-artifact*.jar /usr/share/java/maven3-artifact.jar 2>/dev/null | head -1)
if [ -n "$MVJAR" ] && command -v javac >/dev/null; then
	javac -d "$WORK" -cp "$MVJAR" "$HERE/RefMaven.java" 2>"$WORK/javac.log"
fi

$PY "$HERE/gen_pairs.py" "$N" "$SEED" >"$WORK/pairs.tsv"
"$SPVER" <"$WORK/pairs.tsv" >"$WORK/ours.txt"

# reference <scheme>: runs the reference on "a<TAB>b" lines from stdin
reference() {
	case "$1" in
		semver) node "$HERE/ref_semver.js" ;;
		pep440) $PY "$HERE/ref_pep440.py" ;;
		rpm) $PY "$HERE/ref_rpm.py" ;;
		dpkg) perl "$HERE/ref_dpkg.pl" ;;
		maven) java -cp "$WORK:$MVJAR" RefMaven ;;
	esac
}

schemes="semver pep440 maven dpkg rpm"
echo "1..5"
i=0
fail=0
paste "$WORK/pairs.tsv" "$WORK/ours.txt" >"$WORK/joined.tsv"
for s in $schemes; do
	i=$((i + 1))
	awk -F'\t' -v s="$s" '$1 == s { print $2 "\t" $3 }' "$WORK/pairs.tsv" >"$WORK/$s.in"
	awk -F'\t' -v s="$s" '$1 == s { print $2 "\t" $3 "\t" $4 }' "$WORK/joined.tsv" >"$WORK/$s.ours"
	n=$(wc -l <"$WORK/$s.in")
	if ! reference "$s" <"$WORK/$s.in" >"$WORK/$s.ref" 2>"$WORK/$s.err" ||
		[ "$(wc -l <"$WORK/$s.ref")" != "$n" ]; then
		echo "not ok $i - $s: reference program failed"
		sed 's/^/# /' "$WORK/$s.err" | head -5
		fail=1
		continue
	fi
	paste "$WORK/$s.ours" "$WORK/$s.ref" |
		awk -F'\t' '$3 != $4 { print }' >"$WORK/$s.diff"
	d=$(wc -l <"$WORK/$s.diff")
	errs=$(grep -c 'ERR$' "$WORK/$s.ref")
	echo "# $s: $n pairs compared, $errs invalid per reference, $d disagreements"
	if [ "$d" = 0 ]; then
		echo "ok $i - $s agrees with its reference on $n pairs"
	else
		echo "not ok $i - $s: $d disagreements (a, b, ours, reference)"
		head -20 "$WORK/$s.diff" | cat -A | sed 's/^/#   /'
		fail=1
	fi
done
exit $fail
