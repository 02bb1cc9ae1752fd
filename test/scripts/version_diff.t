#!/usr/bin/env bash
# The version comparators against the ecosystems' own code (dpkg, Python
# packaging, node-semver, Maven ComparableVersion, rpm): 10,000 generated
# pairs per scheme, zero disagreements.  See test/diff/run.sh.
exec bash "$(dirname "$0")/../diff/run.sh" "${SP_DIFF_PAIRS:-10000}"
