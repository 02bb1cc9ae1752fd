#!/bin/bash
# Build and run the version/range tests of the plain-C core.
#   test/version/build.sh            unit tests + corpus check (seconds)
#   test/version/build.sh --diff     also the differential test (test/diff)
#   test/version/build.sh --bench    also the benchmark
# Compiles with gcc -Wall -Wextra -Werror (and clang when present); output
# is TAP via prove when available.  Exits non-zero on any failure.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${OUT:-${TMPDIR:-/tmp}/stellapolicy-version}
CC=${CC:-gcc}
CFLAGS="-std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -I$ROOT/src/core"
CORE="$ROOT/src/core/version.c $ROOT/src/core/version_pep440.c \
 $ROOT/src/core/version_maven.c $ROOT/src/core/version_distro.c \
 $ROOT/src/core/version_misc.c $ROOT/src/core/osvrange.c \
 $ROOT/src/core/ecosystem.c $ROOT/src/core/arena.c"
mkdir -p "$OUT"

# the core must also be clean under clang
if command -v clang >/dev/null; then
	for f in $CORE; do clang $CFLAGS -c "$f" -o /dev/null; done
fi

$CC $CFLAGS -o "$OUT/spver" "$ROOT/tools/spver.c" $CORE -ljansson
$CC $CFLAGS -o "$OUT/test_version" "$ROOT/test/unit/test_version.c" $CORE -ljansson
$CC $CFLAGS -o "$OUT/test_range" "$ROOT/test/unit/test_range.c" $CORE -ljansson
$CC $CFLAGS -o "$OUT/corpus_check" "$ROOT/test/diff/corpus_check.c" $CORE -ljansson
$CC $CFLAGS -o "$OUT/bench_version" "$ROOT/test/bench/bench_version.c" $CORE -ljansson

CORPUS=${CORPUS:-$(cd "$ROOT/.." && pwd)/shared/corpus}
[ -d "$CORPUS" ] || CORPUS=/work/shared/corpus
cat >"$OUT/corpus_check.sh" <<EOS
#!/bin/sh
exec "$OUT/corpus_check" "$CORPUS"
EOS
chmod +x "$OUT/corpus_check.sh"

tests="$OUT/test_version $OUT/test_range $OUT/corpus_check.sh"
if [ "${1:-}" = "--diff" ]; then
	tests="$tests $ROOT/test/diff/run.sh"
fi
if command -v prove >/dev/null; then
	prove -v $tests
else
	rc=0
	for t in $tests; do "$t" || rc=1; done
	[ $rc = 0 ]
fi
if [ "${1:-}" = "--bench" ]; then
	"$OUT/bench_version"
fi
