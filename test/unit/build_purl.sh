#!/bin/sh
#
# build_purl.sh
#	  Compile and run the purl unit test (TAP on stdout).
#
# Usage, from anywhere:  test/unit/build_purl.sh
# CC selects the compiler (default gcc); OUT_DIR where the binary goes
# (default a temporary directory); SP_CORPUS the shared corpus (default
# ../shared/corpus relative to the repository root).  The exit status is the
# test's: non-zero when any test fails.
#
set -eu

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"

cc=${CC:-gcc}
out=${OUT_DIR:-${TMPDIR:-/tmp}/stellapolicy-unit}
mkdir -p "$out"

"$cc" -std=c11 -Wall -Wextra -Werror -O2 -g -Isrc/core \
	src/core/arena.c src/core/purl.c test/unit/test_purl.c \
	-o "$out/test_purl"

SP_CORPUS=${SP_CORPUS:-../shared/corpus} "$out/test_purl"
