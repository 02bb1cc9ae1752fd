#!/usr/bin/env bash
# Source checks that the compiler does not make: the jansson include rule,
# one version number, and SQLSTATEs on every user-facing error.
cd "$(dirname "$0")/../.." || exit 1
n=0
fail=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); fail=1; echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }

# 1. jansson only through spjson.h (the server exports its own json_object).
bad=$(grep -rln '#include <jansson.h>' src tools test --include='*.c' --include='*.h' | grep -v 'src/core/spjson.h' || true)
if [ -z "$bad" ]; then ok "no file includes <jansson.h> except spjson.h"; else notok "files include <jansson.h> directly" $bad; fi

# 2. The version lives in the control file; META.json agrees.
ctl=$(sed -n "s/^default_version *= *'\(.*\)'/\1/p" stellapolicy.control)
meta=$(jq -r '.version, .provides.stellapolicy.version' META.json | sort -u)
if [ "$meta" = "$ctl" ]; then ok "META.json version $meta equals the control file's"; else notok "META.json version '$meta' differs from '$ctl' (run make META.json)"; fi
stray=$(grep -rlF "$ctl" Makefile sql src --include="*.c" --include="*.h" --include="*.sql" --include=Makefile 2>/dev/null || true)
if [ -z "$stray" ]; then ok "no other build file repeats the version"; else notok "version repeated in" $stray; fi

# 3. Every ereport(ERROR...) in the SQL-facing code has an errcode.
missing=$(for f in src/*.c; do awk -v F="$f" '/ereport\(ERROR/{s=1;b="";l=NR} s{b=b $0} s&&/;[[:space:]]*$/{if(b!~/errcode/)print F ":" l; s=0}' "$f"; done)
if [ -z "$missing" ]; then ok "every ereport(ERROR) has an errcode"; else notok "ereport(ERROR) without errcode" $missing; fi

# 4. No SQL is built by pasting values: SPI calls use parameters.  DDL,
#    which takes no parameters, may be built only with quote_identifier /
#    quote_literal_cstr in the same statement.
pasted=$(for f in src/*.c; do awk -v F="$f" '
	/SPI_exec[a-z_]*\(/ { s=1; b=""; l=NR }
	s { b = b $0 }
	s && /;[[:space:]]*$/ {
		if (b ~ /psprintf|appendStringInfo/ && b !~ /quote_identifier|quote_literal/) print F ":" l
		s=0
	}' "$f"; done)
if [ -z "$pasted" ]; then ok "no SQL built from pasted values"; else notok "SQL built by pasting" $pasted; fi

echo "1..$n"
exit $fail
