/*-------------------------------------------------------------------------
 *
 * ecosystem.h
 *	  Names and mappings between purl types and OSV ecosystems.
 *
 * A component (from an SBOM purl) and an advisory (an OSV affected[]
 * package) are joined on an equal (base ecosystem, package key) pair; this
 * module computes that pair from either side, and decides whether an OSV
 * ecosystem release ("Debian:10", "Alpine:v3.16") covers the distribution
 * a component came from (its purl "distro" qualifier).  Inputs are plain
 * strings: purl parsing belongs to purl.c.  Results are written to caller
 * buffers; nothing is allocated.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SP_ECOSYSTEM_H
#define SP_ECOSYSTEM_H

#include <stdbool.h>
#include <stddef.h>

/*
 * The base OSV ecosystem of a purl ("npm", "PyPI", "Debian", "Alpine", ...),
 * using the namespace and distro qualifier where the type alone does not
 * decide (deb: Debian or Ubuntu; rpm: the vendor).  Returns 0, or -1 when
 * the type has no OSV ecosystem (generic, oci, ...).
 */
extern int	sp_eco_from_purl(const char *type, const char *ns,
							 const char *distro, char *eco, size_t ecolen);

/*
 * The package key of a purl: npm "@scope/name", PyPI PEP 503 normalised,
 * Maven "group:artifact", Go "namespace/name", OS packages the binary name.
 * Namespace and name must already be percent-decoded.  Returns 0 or -1 if
 * the buffer is too small or the name empty.
 */
extern int	sp_eco_package_key(const char *type, const char *ns,
							   const char *name, char *key, size_t keylen);

/*
 * From an OSV affected[].package (ecosystem, name) compute the same pair a
 * component maps to: the ecosystem without its release and the key.
 */
extern int	sp_eco_osv_key(const char *ecosystem, const char *name,
						   char *base, size_t baselen,
						   char *key, size_t keylen);

/*
 * Does the OSV ecosystem's release cover the component's distro qualifier?
 * No release in the OSV ecosystem covers everything; a component without a
 * distro qualifier is covered by every release (the conservative answer).
 */
extern bool sp_eco_release_match(const char *osv_ecosystem,
								 const char *distro);

/* PEP 503 normalisation of a PyPI project name into buf. */
extern int	sp_pep503_normalize(const char *name, char *buf, size_t buflen);

#endif							/* SP_ECOSYSTEM_H */
