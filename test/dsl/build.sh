#!/bin/sh
# Build the DSL/CVSS core, its unit tests, the spdsl tool and the benchmark
# with gcc -Wall -Wextra -Werror, then run the unit tests under prove.
#   test/dsl/build.sh            build and test
#   test/dsl/build.sh --bench    also run the evaluation benchmark
set -e
cd "$(dirname "$0")/../.."
OUT=${OUT:-build/dsl}
CC=${CC:-gcc}
CFLAGS="-std=c11 -Isrc/core -Wall -Wextra -Werror -O2 -ffp-contract=off -D_POSIX_C_SOURCE=200809L"
LIBS="-ljansson -lcrypto -lm"
CORE="src/core/arena.c src/core/cvss.c src/core/dsl_lex.c src/core/dsl_parse.c \
      src/core/dsl_check.c src/core/dsl_ir.c src/core/dsl_eval.c"
mkdir -p "$OUT"
$CC $CFLAGS -o "$OUT/spdsl" tools/spdsl.c $CORE $LIBS
$CC $CFLAGS -o "$OUT/test_cvss" test/unit/test_cvss.c src/core/cvss.c -lm
$CC $CFLAGS -o "$OUT/test_dsl" test/unit/test_dsl.c $CORE $LIBS
$CC $CFLAGS -o "$OUT/test_dsl_eval" test/unit/test_dsl_eval.c $CORE $LIBS
$CC $CFLAGS -o "$OUT/bench_eval" test/bench/bench_eval.c $CORE $LIBS
prove -v "$OUT/test_cvss" "$OUT/test_dsl" "$OUT/test_dsl_eval" 2>&1 | tail -n 12
if [ "$1" = "--bench" ]; then
	"$OUT/bench_eval"
fi
