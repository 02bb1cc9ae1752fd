/*-------------------------------------------------------------------------
 *
 * matchkey.h
 *	  The key on which components and advisories meet: an OSV ecosystem,
 *	  a package name written as OSV writes it, and a distribution release.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SP_MATCHKEY_H
#define SP_MATCHKEY_H

typedef struct SpMatchKey
{
	char	   *ecosystem;		/* OSV ecosystem without release, or NULL */
	char	   *package;		/* package name as OSV writes it, or NULL */
	char	   *release;		/* distribution release, or NULL */
} SpMatchKey;

/* Key of a component from its purl parts (palloc'd strings). */
extern void sp_component_match_key(const char *type, const char *ns,
								   const char *name, const char *distro,
								   SpMatchKey *key);

/* Key of an OSV affected[].package (ecosystem as written, e.g. Debian:7). */
extern void sp_advisory_match_key(const char *ecosystem, const char *name,
								  SpMatchKey *key);

#endif							/* SP_MATCHKEY_H */
