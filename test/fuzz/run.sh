#!/bin/sh
# Build the stella-dsl@1 libFuzzer target and run it.
#   test/fuzz/run.sh [seconds]     (default 300)
# The committed seed corpus is test/fuzz/dsl_seeds/; new inputs go to a
# scratch corpus under build/fuzz so the committed one stays small.
# Crashes are written to build/fuzz/ as crash-<sha1>.
set -e
cd "$(dirname "$0")/../.."
SECS=${1:-300}
OUT=build/fuzz
mkdir -p "$OUT/corpus"
CORE="src/core/arena.c src/core/cvss.c src/core/dsl_lex.c src/core/dsl_parse.c \
      src/core/dsl_check.c src/core/dsl_ir.c src/core/dsl_eval.c"
clang -g -O1 -std=c11 -D_POSIX_C_SOURCE=200809L \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-o "$OUT/fuzz_dsl" test/fuzz/fuzz_dsl.c $CORE -ljansson -lcrypto -lm
"$OUT/fuzz_dsl" -max_total_time="$SECS" -max_len=8192 -timeout=10 \
	-rss_limit_mb=2048 -artifact_prefix="$OUT/" -print_final_stats=1 \
	-dict=test/fuzz/dsl.dict "$OUT/corpus" test/fuzz/dsl_seeds
