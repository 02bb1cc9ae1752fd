/*-------------------------------------------------------------------------
 *
 * ecosystem.c
 *	  purl type <-> OSV ecosystem, package keys, distribution releases.
 *
 * See ecosystem.h for the contract and docs/matching.md for the rules.
 *
 *-------------------------------------------------------------------------
 */
#include "ecosystem.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Copy src into buf; -1 if it does not fit. */
static int
put(char *buf, size_t len, const char *src)
{
	size_t		n = strlen(src);

	if (n + 1 > len)
		return -1;
	memcpy(buf, src, n + 1);
	return 0;
}

static bool
eq(const char *a, const char *b)
{
	return a != NULL && strcasecmp(a, b) == 0;
}

static bool
prefix(const char *s, const char *p)
{
	return s != NULL && strncasecmp(s, p, strlen(p)) == 0;
}

/* Pick the vendor ecosystem of an rpm purl from namespace or distro. */
static const char *
rpm_vendor(const char *ns, const char *distro)
{
	static const struct
	{
		const char *key;
		const char *eco;
	}			vendors[] = {
		{"redhat", "Red Hat"}, {"rhel", "Red Hat"}, {"rocky", "Rocky Linux"},
		{"almalinux", "AlmaLinux"}, {"opensuse", "openSUSE"},
		{"suse", "SUSE"}, {"sles", "SUSE"}, {"mageia", "Mageia"},
		{"openeuler", "openEuler"}
	};

	for (size_t i = 0; i < sizeof(vendors) / sizeof(vendors[0]); i++)
		if (prefix(ns, vendors[i].key) || prefix(distro, vendors[i].key))
			return vendors[i].eco;
	return NULL;
}

/* Base OSV ecosystem of a purl; see ecosystem.h. */
int
sp_eco_from_purl(const char *type, const char *ns, const char *distro,
				 char *eco, size_t ecolen)
{
	static const struct
	{
		const char *type;
		const char *eco;
	}			simple[] = {
		{"npm", "npm"}, {"pypi", "PyPI"}, {"maven", "Maven"},
		{"golang", "Go"}, {"cargo", "crates.io"}, {"gem", "RubyGems"},
		{"nuget", "NuGet"}, {"composer", "Packagist"}, {"hex", "Hex"},
		{"pub", "Pub"}, {"apk", "Alpine"}, {"alpine", "Alpine"}
	};

	if (type == NULL)
		return -1;
	for (size_t i = 0; i < sizeof(simple) / sizeof(simple[0]); i++)
		if (eq(type, simple[i].type))
			return put(eco, ecolen, simple[i].eco);

	/* deb: Ubuntu when the namespace or distro says so, else Debian */
	if (eq(type, "deb"))
		return put(eco, ecolen, (eq(ns, "ubuntu") || prefix(distro, "ubuntu"))
				   ? "Ubuntu" : "Debian");
	if (eq(type, "rpm"))
	{
		const char *v = rpm_vendor(ns, distro);

		return v ? put(eco, ecolen, v) : -1;
	}
	return -1;
}

/* PEP 503: lower case, runs of "-", "_", "." become one "-". */
int
sp_pep503_normalize(const char *name, char *buf, size_t buflen)
{
	size_t		o = 0;

	for (const char *p = name; *p; p++)
	{
		char		c = *p;

		if (c == '-' || c == '_' || c == '.')
		{
			while (p[1] == '-' || p[1] == '_' || p[1] == '.')
				p++;
			c = '-';
		}
		if (o + 1 >= buflen)
			return -1;
		buf[o++] = (char) tolower((unsigned char) c);
	}
	if (o >= buflen)
		return -1;
	buf[o] = '\0';
	return 0;
}

/* Package key of a purl; see ecosystem.h. */
int
sp_eco_package_key(const char *type, const char *ns, const char *name,
				   char *key, size_t keylen)
{
	int			n;

	if (name == NULL || *name == '\0' || type == NULL)
		return -1;
	if (eq(type, "pypi"))
		return sp_pep503_normalize(name, key, keylen);

	/* npm scope, Go module path: namespace/name */
	if ((eq(type, "npm") || eq(type, "golang") || eq(type, "composer")) &&
		ns && *ns)
		n = snprintf(key, keylen, "%s/%s", ns, name);
	else if (eq(type, "maven") && ns && *ns)
		n = snprintf(key, keylen, "%s:%s", ns, name);
	else
		n = snprintf(key, keylen, "%s", name);
	return (n < 0 || (size_t) n >= keylen) ? -1 : 0;
}

/* OSV (ecosystem, name) to (base ecosystem, key); see ecosystem.h. */
int
sp_eco_osv_key(const char *ecosystem, const char *name, char *base,
			   size_t baselen, char *key, size_t keylen)
{
	const char *colon;
	size_t		blen;

	if (ecosystem == NULL || name == NULL || *name == '\0')
		return -1;
	colon = strchr(ecosystem, ':');
	blen = colon ? (size_t) (colon - ecosystem) : strlen(ecosystem);
	if (blen + 1 > baselen)
		return -1;
	memcpy(base, ecosystem, blen);
	base[blen] = '\0';

	/* only PyPI names need normalising; the others are already keys */
	if (strcasecmp(base, "PyPI") == 0)
		return sp_pep503_normalize(name, key, keylen);
	return put(key, keylen, name);
}

/* Debian code names, so that distro=buster works like distro=debian-10. */
static const char *
debian_codename(const char *s)
{
	static const char *const names[][2] = {
		{"wheezy", "7"}, {"jessie", "8"}, {"stretch", "9"},
		{"buster", "10"}, {"bullseye", "11"}, {"bookworm", "12"},
		{"trixie", "13"}
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(s, names[i][0]) == 0)
			return names[i][1];
	return s;
}

/* Release matching; see ecosystem.h and docs/matching.md. */
bool
sp_eco_release_match(const char *osv_ecosystem, const char *distro)
{
	const char *rel;
	const char *end;
	const char *d;
	size_t		rlen;

	rel = osv_ecosystem ? strchr(osv_ecosystem, ':') : NULL;
	if (rel == NULL || rel[1] == '\0')
		return true;
	if (distro == NULL || *distro == '\0')
		return true;

	/* "Ubuntu:22.04:LTS" -> "22.04"; "Alpine:v3.16" -> "3.16" */
	rel++;
	if (*rel == 'v' || *rel == 'V')
		rel++;
	end = strchr(rel, ':');
	rlen = end ? (size_t) (end - rel) : strlen(rel);

	/* "debian-10.2" -> "10.2"; "alpine-3.16.2" -> "3.16.2"; "buster" */
	d = strrchr(distro, '-');
	d = d ? d + 1 : distro;
	d = debian_codename(d);
	if (*d == 'v' || *d == 'V')
		d++;

	/* equal, or the distro is a point release of the OSV release */
	if (strncasecmp(d, rel, rlen) != 0)
		return false;
	return d[rlen] == '\0' || d[rlen] == '.';
}
