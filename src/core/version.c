/*-------------------------------------------------------------------------
 *
 * version.c
 *	  Scheme dispatch, scheme names, and the SemVer-shaped schemes (npm
 *	  SemVer, Go module versions, NuGet) plus the generic fallback.
 *
 * The other schemes live in version_pep440.c, version_maven.c,
 * version_distro.c (dpkg, RPM, apk) and version_misc.c (RubyGems,
 * Composer).  Every parser works on spans of the caller's text and fills an
 * SpVersion; sp_version_parse() first copies the text into the arena so the
 * spans outlive the caller's buffer.
 *
 *-------------------------------------------------------------------------
 */
#include "version.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* node-semver refuses longer versions and larger numeric components. */
#define SEMVER_MAX_LENGTH 256
#define SEMVER_MAX_SAFE "9007199254740991"

static const char *const scheme_names[SP_SCHEME__COUNT] = {
	"semver", "go", "pep440", "maven", "dpkg", "rpm", "apk", "gem",
	"nuget", "composer", "generic"
};

/* Every name sp_scheme_from_name() knows, lower case, without a release. */
static const struct
{
	const char *name;
	SpScheme	scheme;
}			scheme_aliases[] = {
	/* OSV ecosystems */
	{"npm", SP_SCHEME_SEMVER},
	{"crates.io", SP_SCHEME_SEMVER},
	{"hex", SP_SCHEME_SEMVER},
	{"pub", SP_SCHEME_SEMVER},
	{"go", SP_SCHEME_GO},
	{"pypi", SP_SCHEME_PEP440},
	{"maven", SP_SCHEME_MAVEN},
	{"debian", SP_SCHEME_DPKG},
	{"ubuntu", SP_SCHEME_DPKG},
	{"alpine", SP_SCHEME_APK},
	{"chainguard", SP_SCHEME_APK},
	{"wolfi", SP_SCHEME_APK},
	{"red hat", SP_SCHEME_RPM},
	{"rocky linux", SP_SCHEME_RPM},
	{"almalinux", SP_SCHEME_RPM},
	{"opensuse", SP_SCHEME_RPM},
	{"suse", SP_SCHEME_RPM},
	{"mageia", SP_SCHEME_RPM},
	{"openeuler", SP_SCHEME_RPM},
	{"rubygems", SP_SCHEME_GEM},
	{"nuget", SP_SCHEME_NUGET},
	{"packagist", SP_SCHEME_COMPOSER},
	/* purl types */
	{"pypi", SP_SCHEME_PEP440},
	{"golang", SP_SCHEME_GO},
	{"deb", SP_SCHEME_DPKG},
	{"rpm", SP_SCHEME_RPM},
	{"apk", SP_SCHEME_APK},
	{"cargo", SP_SCHEME_SEMVER},
	{"gem", SP_SCHEME_GEM},
	{"composer", SP_SCHEME_COMPOSER},
	{"generic", SP_SCHEME_GENERIC},
	/* scheme names */
	{"semver", SP_SCHEME_SEMVER},
	{"pep440", SP_SCHEME_PEP440},
	{"dpkg", SP_SCHEME_DPKG},
	{"gem", SP_SCHEME_GEM},
};

/* Return the canonical name of a scheme. */
const char *
sp_scheme_name(SpScheme scheme)
{
	if ((int) scheme < 0 || scheme >= SP_SCHEME__COUNT)
		return "unknown";
	return scheme_names[scheme];
}

/* Resolve an ecosystem, purl type or scheme name to a scheme. */
int
sp_scheme_from_name(const char *name, SpScheme *out)
{
	size_t		len;
	const char *colon;

	if (name == NULL)
		return -1;

	/* "Debian:12", "Ubuntu:22.04:LTS": the release does not pick a scheme */
	colon = strchr(name, ':');
	len = colon ? (size_t) (colon - name) : strlen(name);

	for (size_t i = 0; i < sizeof(scheme_aliases) / sizeof(scheme_aliases[0]);
		 i++)
	{
		if (strlen(scheme_aliases[i].name) == len &&
			strncasecmp(scheme_aliases[i].name, name, len) == 0)
		{
			*out = scheme_aliases[i].scheme;
			return 0;
		}
	}
	for (int s = 0; s < SP_SCHEME__COUNT; s++)
	{
		if (strlen(scheme_names[s]) == len &&
			strncasecmp(scheme_names[s], name, len) == 0)
		{
			*out = (SpScheme) s;
			return 0;
		}
	}
	return -1;
}

/* Write "invalid <scheme> version "<text>": <why>" and return -1. */
int
sp_verr(char *errbuf, size_t errlen, SpScheme scheme, const char *text,
		const char *why)
{
	if (errbuf && errlen > 0)
		snprintf(errbuf, errlen, "invalid %s version \"%.200s\": %s",
				 sp_scheme_name(scheme), text, why);
	return -1;
}

/* Make an SpNum from a digit run, dropping leading zeros. */
SpNum
sp_num_make(const char *d, size_t len)
{
	SpNum		n;

	while (len > 0 && *d == '0')
	{
		d++;
		len--;
	}
	n.d = d;
	n.len = (uint32_t) len;
	return n;
}

/* Compare two digit runs by value; any length works. */
int
sp_numcmp(SpNum a, SpNum b)
{
	int			c;

	if (a.len != b.len)
		return a.len < b.len ? -1 : 1;
	if (a.len == 0)
		return 0;
	c = memcmp(a.d, b.d, a.len);
	return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

/* Schemes whose parse builds item arrays take memory from an arena. */
bool
sp_scheme_needs_arena(SpScheme scheme)
{
	return scheme == SP_SCHEME_MAVEN || scheme == SP_SCHEME_GEM ||
		scheme == SP_SCHEME_COMPOSER;
}

/* Run the scheme's parser on text that the caller keeps alive. */
static int
parse_dispatch(SpScheme scheme, const char *s, SpArena *arena,
			   SpVersion *out, char *eb, size_t el)
{
	memset(out, 0, sizeof(*out));
	out->scheme = scheme;
	out->text = s;

	/*
	 * No scheme has versions anywhere near this long; refusing longer ones
	 * bounds the work of every parser and the depth of Maven's nested item
	 * lists, which compare recursively.
	 */
	if (strlen(s) > SP_VERSION_MAX_LEN)
		return sp_verr(eb, el, scheme, s, "longer than 256 bytes");

	switch (scheme)
	{
		case SP_SCHEME_SEMVER:
			return sp_semver_parse(s, out, eb, el);
		case SP_SCHEME_GO:
			return sp_go_parse(s, out, eb, el);
		case SP_SCHEME_PEP440:
			return sp_pep440_parse(s, out, eb, el);
		case SP_SCHEME_MAVEN:
			return sp_maven_parse(s, arena, out, eb, el);
		case SP_SCHEME_DPKG:
			return sp_dpkg_parse(s, out, eb, el);
		case SP_SCHEME_RPM:
			return sp_rpm_parse(s, out, eb, el);
		case SP_SCHEME_APK:
			return sp_apk_parse(s, out, eb, el);
		case SP_SCHEME_GEM:
			return sp_gem_parse(s, arena, out, eb, el);
		case SP_SCHEME_NUGET:
			return sp_nuget_parse(s, out, eb, el);
		case SP_SCHEME_COMPOSER:
			return sp_composer_parse(s, arena, out, eb, el);
		case SP_SCHEME_GENERIC:
			return sp_generic_parse(s, out, eb, el);
		default:
			break;
	}
	if (eb && el > 0)
		snprintf(eb, el, "unknown version scheme %d", (int) scheme);
	return -1;
}

/* Parse once into the arena; see version.h. */
int
sp_version_parse(SpScheme scheme, const char *str, SpArena *arena,
				 SpVersion *out, char *errbuf, size_t errlen)
{
	char	   *copy;

	if (str == NULL)
		return sp_verr(errbuf, errlen, scheme, "(null)", "no version");
	copy = sp_strdup(arena, str);
	if (copy == NULL)
	{
		if (errbuf && errlen > 0)
			snprintf(errbuf, errlen, "out of memory parsing a version");
		return -1;
	}
	return parse_dispatch(scheme, copy, arena, out, errbuf, errlen);
}

/* Compare two parsed versions of one scheme. */
int
sp_version_cmp_parsed(const SpVersion *a, const SpVersion *b)
{
	switch (a->scheme)
	{
		case SP_SCHEME_SEMVER:
			return sp_semver_cmp(a, b);
		case SP_SCHEME_GO:
			return sp_go_cmp(a, b);
		case SP_SCHEME_PEP440:
			return sp_pep440_cmp(a, b);
		case SP_SCHEME_MAVEN:
			return sp_maven_cmp(a, b);
		case SP_SCHEME_DPKG:
			return sp_dpkg_cmp(a, b);
		case SP_SCHEME_RPM:
			return sp_rpm_cmp(a, b);
		case SP_SCHEME_APK:
			return sp_apk_cmp(a, b);
		case SP_SCHEME_GEM:
			return sp_gem_cmp(a, b);
		case SP_SCHEME_NUGET:
			return sp_nuget_cmp(a, b);
		case SP_SCHEME_COMPOSER:
			return sp_composer_cmp(a, b);
		default:
			return sp_generic_cmp(a, b);
	}
}

/* Compare two strings; see version.h. */
int
sp_version_cmp(SpScheme scheme, const char *a, const char *b, int *result,
			   char *errbuf, size_t errlen)
{
	SpVersion	va;
	SpVersion	vb;
	SpArena    *arena = NULL;
	int			rc = -1;

	if (a == NULL || b == NULL)
		return sp_verr(errbuf, errlen, scheme, "(null)", "no version");

	/* only the list-shaped schemes need memory; the rest parse in place */
	if (sp_scheme_needs_arena(scheme))
	{
		arena = sp_arena_create();
		if (arena == NULL)
		{
			if (errbuf && errlen > 0)
				snprintf(errbuf, errlen, "out of memory comparing versions");
			return -1;
		}
	}

	if (parse_dispatch(scheme, a, arena, &va, errbuf, errlen) == 0 &&
		parse_dispatch(scheme, b, arena, &vb, errbuf, errlen) == 0)
	{
		*result = sp_version_cmp_parsed(&va, &vb);
		rc = 0;
	}

	if (arena)
		sp_arena_destroy(arena);
	return rc;
}

/* Validate a version string under a scheme. */
bool
sp_version_valid(SpScheme scheme, const char *str, char *errbuf,
				 size_t errlen)
{
	int			r;

	return sp_version_cmp(scheme, str, str, &r, errbuf, errlen) == 0;
}

/* ----------------------------------------------------------------
 * SemVer as node-semver orders it (npm, crates.io, Hex, Pub)
 * ----------------------------------------------------------------
 */

/* JavaScript's String.prototype.trim() whitespace, ASCII part. */
static bool
js_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
		c == '\f';
}

static bool
ident_char(char c)
{
	return isalnum((unsigned char) c) || c == '-';
}

/* Scan dot-separated non-empty [0-9A-Za-z-] identifiers; return the end. */
static const char *
scan_idents(const char *p, const char *end)
{
	for (;;)
	{
		const char *start = p;

		while (p < end && ident_char(*p))
			p++;
		if (p == start)
			return NULL;
		if (p < end && *p == '.')
		{
			p++;
			continue;
		}
		return p;
	}
}

/* A digit run is within node-semver's Number.MAX_SAFE_INTEGER. */
static bool
semver_safe(SpNum n)
{
	SpNum		max = {SEMVER_MAX_SAFE, 16};

	return sp_numcmp(n, max) <= 0;
}

/*
 * Parse like `new SemVer(v, {loose: true})`, plus one extension: a version
 * of one or two numeric components ("1.0", as OSV bounds sometimes are) is
 * completed with zeros.
 */
int
sp_semver_parse(const char *s, SpVersion *out, char *eb, size_t el)
{
	const char *p = s;
	const char *end = s + strlen(s);
	const char *q;
	int			n = 0;
	SpSemverParts *sv = &out->u.sv;

	if (end - s > SEMVER_MAX_LENGTH)
		return sp_verr(eb, el, SP_SCHEME_SEMVER, s, "longer than 256 characters");

	/* trim, then the loose prefix [v=\s]* */
	while (p < end && js_space(*p))
		p++;
	while (end > p && js_space(end[-1]))
		end--;
	while (p < end && (*p == 'v' || *p == '=' || js_space(*p)))
		p++;

	/* one to three numeric components */
	for (;;)
	{
		q = p;
		while (p < end && isdigit((unsigned char) *p))
			p++;
		if (p == q)
			return sp_verr(eb, el, SP_SCHEME_SEMVER, s, "expected a number");
		sv->num[n] = sp_num_make(q, p - q);
		n++;
		if (n == 3)
			break;
		if (p == end)
			goto check_numbers;	/* "1" or "1.2": padded with zeros */
		if (*p != '.')
			return sp_verr(eb, el, SP_SCHEME_SEMVER, s,
						   "expected major.minor.patch");
		p++;
	}

	/*
	 * When the rest cannot follow the patch number, the regex gives back
	 * the last digit of the patch number to the pre-release: loose mode
	 * reads "1.2.34.5" as 1.2.3-4.5.
	 */
	if (p < end && *p != '+' && *p != '-' && !ident_char(*p) && p - q >= 2)
	{
		const char *r = scan_idents(p - 1, end);

		if (r != NULL && (r == end || *r == '+'))
		{
			p--;
			sv->num[2] = sp_num_make(q, p - q);
		}
	}

	/*
	 * Pre-release: "-?" then identifiers.  When the hyphen is followed by
	 * something that cannot start an identifier, the regex backtracks and
	 * the hyphen becomes the first identifier itself ("1.2.3-" has
	 * pre-release "-").
	 */
	if (p < end && *p != '+')
	{
		const char *start = p;

		if (*p == '-' && p + 1 < end && ident_char(p[1]))
			start = p + 1;
		q = scan_idents(start, end);
		if (q == NULL)
			return sp_verr(eb, el, SP_SCHEME_SEMVER, s,
						   "bad pre-release identifier");
		sv->pre = start;
		sv->prelen = (uint32_t) (q - start);
		p = q;
	}

	/* build metadata is checked, then ignored */
	if (p < end && *p == '+')
	{
		q = scan_idents(p + 1, end);
		if (q == NULL)
			return sp_verr(eb, el, SP_SCHEME_SEMVER, s, "bad build metadata");
		p = q;
	}
	if (p != end)
		return sp_verr(eb, el, SP_SCHEME_SEMVER, s, "unexpected character");

check_numbers:
	for (int i = 0; i < 3; i++)
		if (!semver_safe(sv->num[i]))
			return sp_verr(eb, el, SP_SCHEME_SEMVER, s,
						   "numeric component larger than 2^53-1");
	return 0;
}

/* Next identifier of a dotted span; false when exhausted. */
static bool
next_ident(const char **p, const char *end, const char **id, size_t *len)
{
	const char *q;

	if (*p >= end)
		return false;
	q = memchr(*p, '.', end - *p);
	if (q == NULL)
		q = end;
	*id = *p;
	*len = q - *p;
	*p = (q < end) ? q + 1 : end;
	return true;
}

static bool
all_digits(const char *s, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isdigit((unsigned char) s[i]))
			return false;
	return true;
}

/* Byte-wise comparison of two spans, shorter-is-less on a common prefix. */
static int
span_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int			c = memcmp(a, b, alen < blen ? alen : blen);

	if (c != 0)
		return c < 0 ? -1 : 1;
	if (alen != blen)
		return alen < blen ? -1 : 1;
	return 0;
}

/*
 * Compare pre-release lists as node-semver's comparePre() does.  Numeric
 * identifiers are JavaScript numbers: above 2^53 they lose precision, and a
 * comparison that comes out equal that way ends the whole comparison.
 */
static int
semver_pre_cmp(const SpSemverParts *a, const SpSemverParts *b)
{
	const char *pa = a->pre,
			   *ea = a->pre + a->prelen;
	const char *pb = b->pre,
			   *eb = b->pre + b->prelen;

	if (a->pre && !b->pre)
		return -1;
	if (!a->pre && b->pre)
		return 1;
	if (!a->pre)
		return 0;

	for (;;)
	{
		const char *ia = NULL,
				   *ib = NULL;
		size_t		la = 0,
					lb = 0;
		bool		ha = next_ident(&pa, ea, &ia, &la);
		bool		hb = next_ident(&pb, eb, &ib, &lb);
		bool		na,
					nb;

		if (!ha && !hb)
			return 0;
		if (!hb)
			return 1;
		if (!ha)
			return -1;
		if (la == lb && memcmp(ia, ib, la) == 0)
			continue;

		na = all_digits(ia, la);
		nb = all_digits(ib, lb);
		if (na && nb)
		{
			SpNum		x = sp_num_make(ia, la);
			SpNum		y = sp_num_make(ib, lb);
			int			c;

			if (x.len <= 15 && y.len <= 15)
			{
				c = sp_numcmp(x, y);
				if (c == 0)
					continue;	/* "01" and "1" are the same number */
				return c;
			}
			else
			{
				char		bufa[300],
							bufb[300];
				double		da,
							db;

				snprintf(bufa, sizeof(bufa), "%.*s", (int) la, ia);
				snprintf(bufb, sizeof(bufb), "%.*s", (int) lb, ib);
				da = strtod(bufa, NULL);
				db = strtod(bufb, NULL);
				return da < db ? -1 : (da > db ? 1 : 0);
			}
		}
		if (na)
			return -1;
		if (nb)
			return 1;
		return span_cmp(ia, la, ib, lb);
	}
}

/* Compare two node-semver versions; build metadata is ignored. */
int
sp_semver_cmp(const SpVersion *a, const SpVersion *b)
{
	for (int i = 0; i < 3; i++)
	{
		int			c = sp_numcmp(a->u.sv.num[i], b->u.sv.num[i]);

		if (c)
			return c;
	}
	return semver_pre_cmp(&a->u.sv, &b->u.sv);
}

/* ----------------------------------------------------------------
 * Go module versions (golang.org/x/mod/semver)
 * ----------------------------------------------------------------
 */

/* Scan one numeric component without leading zeros. */
static const char *
go_num(const char *p, SpNum *out)
{
	const char *q = p;

	while (isdigit((unsigned char) *q))
		q++;
	if (q == p || (*p == '0' && q - p > 1))
		return NULL;
	*out = sp_num_make(p, q - p);
	return q;
}

/*
 * Parse a Go module version.  The "v" is optional because OSV Go ranges
 * omit it while purls keep it; "v1" and "v1.2" are shorthands as in
 * x/mod/semver, and "+incompatible" is build metadata.
 */
int
sp_go_parse(const char *s, SpVersion *out, char *eb, size_t el)
{
	const char *p = s;
	const char *end = s + strlen(s);
	SpSemverParts *sv = &out->u.sv;

	if (*p == 'v')
		p++;
	if ((p = go_num(p, &sv->num[0])) == NULL)
		return sp_verr(eb, el, SP_SCHEME_GO, s, "bad major version");
	if (*p == '\0')
		return 0;
	if (*p != '.' || (p = go_num(p + 1, &sv->num[1])) == NULL)
		return sp_verr(eb, el, SP_SCHEME_GO, s, "bad minor version");
	if (*p == '\0')
		return 0;
	if (*p != '.' || (p = go_num(p + 1, &sv->num[2])) == NULL)
		return sp_verr(eb, el, SP_SCHEME_GO, s, "bad patch version");

	if (*p == '-')
	{
		const char *q = scan_idents(p + 1, end);
		const char *id,
				   *w;
		size_t		len;

		if (q == NULL)
			return sp_verr(eb, el, SP_SCHEME_GO, s, "bad pre-release");
		sv->pre = p + 1;
		sv->prelen = (uint32_t) (q - p - 1);

		/* numeric identifiers must not have leading zeros */
		w = sv->pre;
		while (next_ident(&w, q, &id, &len))
			if (len > 1 && id[0] == '0' && all_digits(id, len))
				return sp_verr(eb, el, SP_SCHEME_GO, s,
							   "leading zero in pre-release");
		p = q;
	}
	if (*p == '+')
	{
		p = scan_idents(p + 1, end);
		if (p == NULL)
			return sp_verr(eb, el, SP_SCHEME_GO, s, "bad build metadata");
	}
	if (p != end)
		return sp_verr(eb, el, SP_SCHEME_GO, s, "unexpected character");
	return 0;
}

/* SemVer 2.0 pre-release precedence with exact numeric identifiers. */
static int
semver2_pre_cmp(const SpSemverParts *a, const SpSemverParts *b, bool icase)
{
	const char *pa = a->pre,
			   *ea = a->pre + a->prelen;
	const char *pb = b->pre,
			   *eb = b->pre + b->prelen;

	if (a->pre && !b->pre)
		return -1;
	if (!a->pre && b->pre)
		return 1;
	if (!a->pre)
		return 0;

	for (;;)
	{
		const char *ia = NULL,
				   *ib = NULL;
		size_t		la = 0,
					lb = 0;
		bool		ha = next_ident(&pa, ea, &ia, &la);
		bool		hb = next_ident(&pb, eb, &ib, &lb);
		bool		na,
					nb;
		int			c;

		if (!ha || !hb)
			return ha ? 1 : (hb ? -1 : 0);
		na = all_digits(ia, la);
		nb = all_digits(ib, lb);
		if (na && nb)
			c = sp_numcmp(sp_num_make(ia, la), sp_num_make(ib, lb));
		else if (na || nb)
			c = na ? -1 : 1;
		else if (icase)
		{
			size_t		n = la < lb ? la : lb;

			c = strncasecmp(ia, ib, n);
			c = c < 0 ? -1 : (c > 0 ? 1 : (la == lb ? 0 : (la < lb ? -1 : 1)));
		}
		else
			c = span_cmp(ia, la, ib, lb);
		if (c)
			return c;
	}
}

/* Compare Go versions as x/mod/semver.Compare does for valid input. */
int
sp_go_cmp(const SpVersion *a, const SpVersion *b)
{
	for (int i = 0; i < 3; i++)
	{
		int			c = sp_numcmp(a->u.sv.num[i], b->u.sv.num[i]);

		if (c)
			return c;
	}
	return semver2_pre_cmp(&a->u.sv, &b->u.sv, false);
}

/* ----------------------------------------------------------------
 * NuGet (NuGetVersion: up to four parts, case-insensitive labels)
 * ----------------------------------------------------------------
 */

/* Parse a NuGet version: N[.N[.N[.N]]][-label][+metadata]. */
int
sp_nuget_parse(const char *s, SpVersion *out, char *eb, size_t el)
{
	const char *p = s;
	const char *end = s + strlen(s);
	SpSemverParts *sv = &out->u.sv;
	int			n = 0;

	for (;;)
	{
		const char *q = p;

		while (isdigit((unsigned char) *p))
			p++;
		if (p == q)
			return sp_verr(eb, el, SP_SCHEME_NUGET, s, "expected a number");
		sv->num[n] = sp_num_make(q, p - q);

		/* each part is a .NET Int32 */
		if (sp_numcmp(sv->num[n], sp_num_make("2147483647", 10)) > 0)
			return sp_verr(eb, el, SP_SCHEME_NUGET, s, "part too large");
		n++;
		if (n == 4 || *p != '.')
			break;
		p++;
	}
	if (*p == '-')
	{
		const char *q = scan_idents(p + 1, end);

		if (q == NULL)
			return sp_verr(eb, el, SP_SCHEME_NUGET, s, "bad release label");
		sv->pre = p + 1;
		sv->prelen = (uint32_t) (q - p - 1);
		p = q;
	}
	if (*p == '+')
	{
		p = scan_idents(p + 1, end);
		if (p == NULL)
			return sp_verr(eb, el, SP_SCHEME_NUGET, s, "bad metadata");
	}
	if (p != end)
		return sp_verr(eb, el, SP_SCHEME_NUGET, s, "unexpected character");
	return 0;
}

/* Compare NuGet versions: four numbers, then labels ignoring case. */
int
sp_nuget_cmp(const SpVersion *a, const SpVersion *b)
{
	for (int i = 0; i < 4; i++)
	{
		int			c = sp_numcmp(a->u.sv.num[i], b->u.sv.num[i]);

		if (c)
			return c;
	}
	return semver2_pre_cmp(&a->u.sv, &b->u.sv, true);
}

/* ----------------------------------------------------------------
 * Generic fallback
 * ----------------------------------------------------------------
 */

/* Accept any non-empty string; comparison gives it a meaning. */
int
sp_generic_parse(const char *s, SpVersion *out, char *eb, size_t el)
{
	if (*s == '\0')
		return sp_verr(eb, el, SP_SCHEME_GENERIC, s, "empty version");
	out->u.raw.s = s;
	out->u.raw.len = (uint32_t) strlen(s);
	return 0;
}

/* Take the next digit or letter run, skipping anything else. */
static bool
generic_run(const char **p, const char **run, size_t *len, bool *num)
{
	const char *q = *p;

	while (*q && !isalnum((unsigned char) *q))
		q++;
	if (*q == '\0')
	{
		*p = q;
		return false;
	}
	*run = q;
	*num = isdigit((unsigned char) *q);
	while (*q && isalnum((unsigned char) *q) &&
		   (isdigit((unsigned char) *q) != 0) == *num)
		q++;
	*len = q - *run;
	*p = q;
	return true;
}

/*
 * Generic order: digit runs compare by value, letter runs case-insensitively,
 * a digit run beats a letter run, and when one side runs out a following
 * letter run marks a pre-release (1.0rc1 < 1.0) while a number counts as
 * newer unless it is zero (1.0 == 1.0.0 < 1.0.1).
 */
int
sp_generic_cmp(const SpVersion *a, const SpVersion *b)
{
	const char *pa = a->u.raw.s;
	const char *pb = b->u.raw.s;

	for (;;)
	{
		const char *ra,
				   *rb;
		size_t		la,
					lb;
		bool		na,
					nb;
		bool		ha = generic_run(&pa, &ra, &la, &na);
		bool		hb = generic_run(&pb, &rb, &lb, &nb);
		int			c;

		if (!ha && !hb)
			return 0;
		if (!hb)
		{
			if (!na)
				return -1;
			if (sp_num_make(ra, la).len)
				return 1;
			continue;			/* a trailing zero changes nothing */
		}
		if (!ha)
		{
			if (!nb)
				return 1;
			if (sp_num_make(rb, lb).len)
				return -1;
			continue;
		}
		if (na != nb)
			return na ? 1 : -1;
		if (na)
			c = sp_numcmp(sp_num_make(ra, la), sp_num_make(rb, lb));
		else
		{
			c = strncasecmp(ra, rb, la < lb ? la : lb);
			if (c == 0 && la != lb)
				c = la < lb ? -1 : 1;
		}
		if (c)
			return c < 0 ? -1 : 1;
	}
}
