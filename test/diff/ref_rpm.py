"""Reference for "rpm": rpm.ver comparison (rpmverCmp, Debian python3-rpm)."""
import sys
import rpm

out = []
for line in sys.stdin.read().split("\n"):
    if line == "":
        continue
    a, b = line.split("\t")
    try:
        va, vb = rpm.ver(a), rpm.ver(b)
        out.append("-1" if va < vb else ("1" if va > vb else "0"))
    except Exception:
        out.append("ERR")
sys.stdout.write("\n".join(out) + "\n")
