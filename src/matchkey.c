/*-------------------------------------------------------------------------
 *
 * matchkey.c
 *	  Keys on which components and OSV affected[] entries meet.
 *
 * A component matches an advisory entry when both give the same OSV
 * ecosystem and package name, and, for distributions, the same release.
 * Keys are stored at ingestion (component.match_*, advisory_affected.*) so
 * that matching is an index join.  The mapping itself lives in the core
 * (ecosystem.c); this file adapts it to palloc'd strings.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "ecosystem.h"
#include "matchkey.h"

/*
 * Key of a component: its OSV ecosystem and package key from the core's
 * ecosystem mapping, and the distro qualifier as written (release matching
 * compares it with the advisory's ecosystem at match time).
 */
void
sp_component_match_key(const char *type, const char *ns, const char *name,
					   const char *distro, SpMatchKey *key)
{
	char		eco[64];
	char		pkg[1024];

	memset(key, 0, sizeof(*key));
	if (type == NULL || name == NULL)
		return;
	if (sp_eco_from_purl(type, ns, distro, eco, sizeof(eco)) != 0)
		return;
	if (sp_eco_package_key(type, ns, name, pkg, sizeof(pkg)) != 0)
		return;
	key->ecosystem = pstrdup(eco);
	key->package = pstrdup(pkg);
	key->release = distro ? pstrdup(distro) : NULL;
}

/*
 * Key of an OSV affected[].package: the base ecosystem and package key, and
 * the release part of the ecosystem name ("Debian:7" gives "7",
 * "Alpine:v3.18" gives "3.18"), kept for display and indexing.
 */
void
sp_advisory_match_key(const char *ecosystem, const char *name, SpMatchKey *key)
{
	char		base[64];
	char		pkg[1024];
	const char *colon;

	memset(key, 0, sizeof(*key));
	if (ecosystem == NULL || name == NULL)
		return;
	if (sp_eco_osv_key(ecosystem, name, base, sizeof(base), pkg, sizeof(pkg)) != 0)
		return;
	key->ecosystem = pstrdup(base);
	key->package = pstrdup(pkg);

	colon = strchr(ecosystem, ':');
	if (colon != NULL)
	{
		const char *rel = colon + 1;
		const char *end = strchr(rel, ':');

		if (*rel == 'v')
			rel++;
		key->release = end ? pnstrdup(rel, end - rel) : pstrdup(rel);
	}
}
