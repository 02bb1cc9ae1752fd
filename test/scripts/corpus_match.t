#!/usr/bin/env bash
# Range evaluation over the real corpus: every (component, advisory) pair the
# core matches must be the ground truth of ../shared/corpus, no more, no less.
root=$(cd "$(dirname "$0")/../.." && pwd)
corpus=${SP_CORPUS:-$root/../shared/corpus}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
make -s -C "$root" core >/dev/null || { echo "1..1"; echo "not ok 1 - build the core"; exit 1; }
gcc -std=gnu11 -O2 -Wall -Wextra -Werror -I"$root/src/core" $(pkg-config --cflags jansson) \
	"$root/test/diff/corpus_check.c" "$root/build/libspcore.a" $(pkg-config --libs jansson) -lcrypto \
	-o "$out/corpus_check" || { echo "1..1"; echo "not ok 1 - build corpus_check"; exit 1; }
"$out/corpus_check" "$corpus"
rc=$?
exit $rc
