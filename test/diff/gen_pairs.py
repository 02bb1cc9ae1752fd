#!/usr/bin/env python3
"""Generate version pairs for the differential test.

Prints "scheme<TAB>a<TAB>b" lines: for every scheme that has a reference
program, at least N pairs (default 10000) drawn from a grammar of realistic
versions plus adversarial shapes (long digit runs, leading zeros, empty
segments, every pre-release keyword, epochs, tildes).  Pairs are built so
that many of them differ in one place only, where the orderings disagree
most.  The generator is seeded, so a failure can be replayed.
"""
import random
import sys

R = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 20261203)
N = int(sys.argv[1]) if len(sys.argv) > 1 else 10000


def num(lead_zero=0.1, long=0.03):
    x = R.random()
    if x < long:
        return str(R.randint(1, 9)) + "".join(R.choice("0123456789") for _ in range(R.randint(10, 30)))
    if x < long + lead_zero:
        return "0" * R.randint(1, 3) + str(R.randint(0, 12))
    return str(R.choice([0, 0, 1, 1, 2, 3, 4, 5, 9, 10, 11, 99, 100, 2020]))


def pick(*opts):
    return R.choice(opts)


def mutate(v, alphabet):
    """Small edit: change one character, insert one, delete one."""
    if not v:
        return v + R.choice(alphabet)
    i = R.randrange(len(v))
    op = R.random()
    if op < 0.4:
        return v[:i] + R.choice(alphabet) + v[i + 1:]
    if op < 0.7:
        return v[:i] + R.choice(alphabet) + v[i:]
    return v[:i] + v[i + 1:]


def bump(v):
    """Change one number in the version."""
    parts = []
    cur = ""
    for ch in v:
        if ch.isdigit() == (cur[:1].isdigit() if cur else ch.isdigit()):
            cur += ch
        else:
            parts.append(cur)
            cur = ch
    parts.append(cur)
    idx = [i for i, p in enumerate(parts) if p.isdigit()]
    if not idx:
        return v
    i = R.choice(idx)
    parts[i] = pick(str(int(parts[i]) + 1), str(max(0, int(parts[i]) - 1)), "0" + parts[i], "0", parts[i] + "0")
    return "".join(parts)


# ---- SemVer (node-semver loose + padding) ----
SV_PRE = ["alpha", "beta", "rc", "pre", "0", "1", "2", "10", "01", "alpha.1", "alpha.beta", "beta.2",
          "beta.11", "rc.1", "x-y", "-", "--", "1a", "a1", "0.0", "9007199254740993", "9007199254740992",
          "90071992547409931", "99999999999999999999", "SNAPSHOT", "Alpha", "a.b.c.d"]


def semver():
    x = R.random()
    core = ".".join(num() for _ in range(3))
    if x < 0.05:
        core = ".".join(num() for _ in range(R.randint(1, 2)))
        return pick("", "v", "=")[0:1] + core if R.random() < 0.3 else core
    pre = ""
    if R.random() < 0.5:
        pre = pick("-", "-", "-", "") + R.choice(SV_PRE)
        if R.random() < 0.3:
            pre += "." + R.choice(SV_PRE)
    build = "+" + pick("build.1", "001", "sha.abc", "x") if R.random() < 0.15 else ""
    prefix = pick("", "", "", "", "v", "=", " v", "v=", "  ", "=v ")
    suffix = pick("", "", "", "", " ", "\t")
    v = prefix + core + pre + build + suffix
    if R.random() < 0.1:
        v = mutate(v, "0123456789.-+av ")
    return v


# ---- PEP 440 ----
PEP_PRE = ["a", "alpha", "b", "beta", "c", "rc", "pre", "preview", "A", "RC", "Alpha"]
PEP_POST = ["post", "rev", "r", "POST"]
SEPS = ["", ".", "-", "_"]


def pep440():
    v = pick("", "", "", "", "v", "V", " ")
    if R.random() < 0.1:
        v += num() + "!"
    v += ".".join(num() for _ in range(R.randint(1, 4)))
    if R.random() < 0.35:
        v += R.choice(SEPS) + R.choice(PEP_PRE) + pick("", R.choice(SEPS)) + pick("", num(), "0")
    if R.random() < 0.25:
        if R.random() < 0.3:
            v += "-" + num()
        else:
            v += R.choice(SEPS) + R.choice(PEP_POST) + pick("", R.choice(SEPS)) + pick("", num())
    if R.random() < 0.25:
        v += R.choice(SEPS) + pick("dev", "DEV") + pick("", R.choice(SEPS)) + pick("", num())
    if R.random() < 0.15:
        v += "+" + R.choice(SEPS[1:]).join(pick("ubuntu", "1", "abc", "01", "Z9", "local", "0") for _ in range(R.randint(1, 3)))
    if R.random() < 0.12:
        v = mutate(v, "0123456789.-_+abcdrpostv!")
    return v


# ---- Maven ----
MV_Q = ["alpha", "beta", "milestone", "rc", "cr", "snapshot", "SNAPSHOT", "ga", "final", "release", "Final",
        "sp", "a", "b", "m", "RC", "jre", "android", "foo", "abc", "", "empty-to-avoid-conflict"]


def maven():
    v = ".".join(num(long=0.05) for _ in range(R.randint(1, 4)))
    for _ in range(R.randint(0, 3)):
        sep = pick(".", "-", "", "-", ".")
        q = R.choice(MV_Q)
        v += sep + q
        if R.random() < 0.5:
            v += pick("", ".", "-") + num()
    if R.random() < 0.1:
        v = pick("", "-", ".", "..", "--") + v + pick("", ".", "-", "..", ".0", "-0", ".0.0")
    if R.random() < 0.1:
        v = mutate(v, "0123456789.-abmrs")
    return v


# ---- dpkg ----
DP_UP = ["~", "~rc1", "~beta", "+dfsg", "+b1", ".orig", "a", "b", "+really", "~~", "+git20200101", "-1", ".0", ""]


def dpkg():
    v = ""
    if R.random() < 0.2:
        v += pick(num(), "0", "1", "", "a", "2147483648", "99") + ":"
    v += ".".join(num() for _ in range(R.randint(1, 4)))
    for _ in range(R.randint(0, 2)):
        v += R.choice(DP_UP)
    if R.random() < 0.7:
        v += "-" + pick(num(), "1", "0", "1ubuntu1", "1~bpo10+1", "2+deb10u3", "", "1.1", "0.1~", "1:2", "a")
    if R.random() < 0.05:
        v = pick(" ", "", "x", "-", ":") + v + pick("", " ")
    if R.random() < 0.12:
        v = mutate(v, "0123456789.-+~:ab ")
    return v


# ---- RPM ----
RPM_X = ["~rc1", "~", "^", "^git1", ".el8", ".el8_4", "_1", "a", "b", ".fc35", "+1", "~~", "^^", ".", "..", "alpha"]


def rpm():
    v = ""
    if R.random() < 0.2:
        v += pick(num(), "0", "1", "") + ":"
    v += ".".join(num() for _ in range(R.randint(1, 4)))
    for _ in range(R.randint(0, 2)):
        v += R.choice(RPM_X)
    if R.random() < 0.6:
        v += "-" + pick(num(), "1", "1.el8", "2.fc35", "0.1.rc1", "1~", "3^x", "")
    if R.random() < 0.12:
        v = mutate(v, "0123456789.-~^_:ab")
    return v


GEN = {"semver": semver, "pep440": pep440, "maven": maven, "dpkg": dpkg, "rpm": rpm}


def similar(scheme, v):
    x = R.random()
    if x < 0.4:
        return bump(v)
    if x < 0.6:
        return mutate(v, {"semver": "0123456789.-+ab", "pep440": "0123456789.-_abcrpv",
                          "maven": "0123456789.-abm", "dpkg": "0123456789.-+~:a",
                          "rpm": "0123456789.-~^a"}[scheme])
    return GEN[scheme]()


def main():
    out = sys.stdout
    for scheme, gen in GEN.items():
        seen = set()
        n = 0
        while n < N:
            a = gen()
            b = similar(scheme, a) if R.random() < 0.7 else gen()
            if R.random() < 0.5:
                a, b = b, a
            if "\t" in a + b or "\n" in a + b or (a, b) in seen:
                continue
            seen.add((a, b))
            out.write("%s\t%s\t%s\n" % (scheme, a, b))
            n += 1


if __name__ == "__main__":
    main()
