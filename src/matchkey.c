/*-------------------------------------------------------------------------
 *
 * matchkey.c
 *	  Keys on which components and OSV affected[] entries meet.
 *
 * A component matches an advisory entry when both give the same OSV
 * ecosystem and package name, and, for distributions, the same release.
 * Keys are stored at ingestion (component.match_*, advisory_affected.*) so
 * that matching is an index join.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "matchkey.h"

/* PEP 503: lower case, runs of -_. become one -. */
static char *
pep503(const char *name)
{
	char	   *out = palloc(strlen(name) + 1);
	char	   *o = out;
	const char *p;

	for (p = name; *p; p++)
	{
		if (*p == '-' || *p == '_' || *p == '.')
		{
			if (o == out || o[-1] != '-')
				*o++ = '-';
		}
		else
			*o++ = pg_ascii_tolower((unsigned char) *p);
	}
	*o = '\0';
	return out;
}

/* "10.2" -> "10" (Debian, Ubuntu keep major[.minor] as OSV does). */
static char *
release_prefix(const char *ver, int parts)
{
	const char *p = ver;
	int			seen = 0;

	if (*p == 'v')
		p++;
	ver = p;
	for (; *p; p++)
	{
		if (*p == '.' && ++seen == parts)
			break;
		if (!(isdigit((unsigned char) *p) || *p == '.'))
			break;
	}
	if (p == ver)
		return NULL;
	return pnstrdup(ver, p - ver);
}

void
sp_component_match_key(const char *type, const char *ns, const char *name,
					   const char *distro, SpMatchKey *key)
{
	memset(key, 0, sizeof(*key));
	if (type == NULL || name == NULL)
		return;

	if (strcmp(type, "npm") == 0)
	{
		key->ecosystem = "npm";
		key->package = ns ? psprintf("%s/%s", ns, name) : pstrdup(name);
	}
	else if (strcmp(type, "pypi") == 0)
	{
		key->ecosystem = "PyPI";
		key->package = pep503(name);
	}
	else if (strcmp(type, "maven") == 0)
	{
		key->ecosystem = "Maven";
		key->package = ns ? psprintf("%s:%s", ns, name) : pstrdup(name);
	}
	else if (strcmp(type, "golang") == 0)
	{
		key->ecosystem = "Go";
		key->package = ns ? psprintf("%s/%s", ns, name) : pstrdup(name);
	}
	else if (strcmp(type, "deb") == 0)
	{
		bool		ubuntu = (ns && strcmp(ns, "ubuntu") == 0) ||
			(distro && strncmp(distro, "ubuntu", 6) == 0);
		const char *d = distro ? strchr(distro, '-') : NULL;

		key->ecosystem = ubuntu ? "Ubuntu" : "Debian";
		key->package = pstrdup(name);
		if (d != NULL)
			key->release = release_prefix(d + 1, ubuntu ? 2 : 1);
	}
	else if (strcmp(type, "apk") == 0 || strcmp(type, "alpine") == 0)
	{
		const char *d = distro ? strrchr(distro, '-') : NULL;

		key->ecosystem = "Alpine";
		key->package = pstrdup(name);
		if (distro != NULL)
			key->release = release_prefix(d ? d + 1 : distro, 2);
	}
	else if (strcmp(type, "cargo") == 0)
	{
		key->ecosystem = "crates.io";
		key->package = pstrdup(name);
	}
	else if (strcmp(type, "gem") == 0)
	{
		key->ecosystem = "RubyGems";
		key->package = pstrdup(name);
	}
	else if (strcmp(type, "nuget") == 0)
	{
		key->ecosystem = "NuGet";
		key->package = pstrdup(name);
	}
	else if (strcmp(type, "composer") == 0)
	{
		key->ecosystem = "Packagist";
		key->package = ns ? psprintf("%s/%s", ns, name) : pstrdup(name);
	}
	else if (strcmp(type, "hex") == 0)
	{
		key->ecosystem = "Hex";
		key->package = pstrdup(name);
	}
	else if (strcmp(type, "pub") == 0)
	{
		key->ecosystem = "Pub";
		key->package = pstrdup(name);
	}
}

void
sp_advisory_match_key(const char *ecosystem, const char *name, SpMatchKey *key)
{
	const char *colon;

	memset(key, 0, sizeof(*key));
	if (ecosystem == NULL || name == NULL)
		return;

	colon = strchr(ecosystem, ':');
	key->ecosystem = colon ? pnstrdup(ecosystem, colon - ecosystem) : pstrdup(ecosystem);
	if (colon != NULL)
	{
		const char *rel = colon + 1;
		const char *end = strchr(rel, ':');

		if (*rel == 'v')
			rel++;
		key->release = end ? pnstrdup(rel, end - rel) : pstrdup(rel);
	}
	key->package = strcmp(key->ecosystem, "PyPI") == 0 ? pep503(name) : pstrdup(name);
}
