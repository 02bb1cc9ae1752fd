#!/usr/bin/env bash
# Print a psql script that loads a corpus directory laid out like
# ../shared/corpus (sbom/, advisories/osv/, vex/) into the current tenant.
# Usage: scripts/corpus.sh [DIR] | psql -v ON_ERROR_STOP=1
set -euo pipefail
dir=${1:-$(dirname "$0")/../../shared/corpus}
dir=$(cd "$dir" && pwd)

q() { printf "'%s'" "${1//\'/\'\'}"; }
id_of() { local b; b=$(basename "$1" .json); b=${b%.cdx}; b=${b%.spdx}; printf '%s' "$b"; }

echo "\\set ON_ERROR_STOP 1"
# SBOMs first, so that VEX BOM-links resolve as soon as the statements arrive.
for f in "$dir"/sbom/*/*.json; do
	[ -e "$f" ] || continue
	echo "\\set doc \`cat $(q "$f")\`"
	echo "SELECT stellapolicy.sbom_import(:'doc', $(q "$(id_of "$f")"), ARRAY['corpus']) AS sbom_id \\gset"
done
for f in "$dir"/vex/cyclonedx/*.json; do
	[ -e "$f" ] || continue
	if ! grep -q '"vulnerabilities"' "$f"; then
		echo "\\set doc \`cat $(q "$f")\`"
		echo "SELECT stellapolicy.sbom_import(:'doc', $(q "$(id_of "$f")"), ARRAY['corpus','vex-target']) AS sbom_id \\gset"
	fi
done
for f in "$dir"/advisories/osv/*/*.json; do
	[ -e "$f" ] || continue
	echo "\\set doc \`cat $(q "$f")\`"
	echo "SELECT stellapolicy.advisory_ingest(:'doc') AS n \\gset"
done
for f in "$dir"/vex/openvex/*.json "$dir"/vex/csaf/*.json "$dir"/vex/cyclonedx/*.json; do
	[ -e "$f" ] || continue
	case "$f" in */cyclonedx/*) grep -q '"vulnerabilities"' "$f" || continue ;; esac
	echo "\\set doc \`cat $(q "$f")\`"
	echo "SELECT stellapolicy.vex_ingest(:'doc') AS n \\gset"
done
