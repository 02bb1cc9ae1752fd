"""Reference for "pep440": packaging.version.Version (Debian python3-packaging)."""
import sys
from packaging.version import Version, InvalidVersion

out = []
for line in sys.stdin.read().split("\n"):
    if line == "":
        continue
    a, b = line.split("\t")
    try:
        va, vb = Version(a), Version(b)
        out.append("-1" if va < vb else ("1" if va > vb else "0"))
    except InvalidVersion:
        out.append("ERR")
sys.stdout.write("\n".join(out) + "\n")
