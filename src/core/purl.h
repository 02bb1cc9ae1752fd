/*-------------------------------------------------------------------------
 *
 * purl.h
 *	  Package URL (purl) parsing and canonical form for the plain-C core.
 *
 * Every SBOM component, VEX product and matching key in stellapolicy is
 * identified by a purl.  This module turns any purl string the package-url
 * specification accepts (including its lenient forms) into its parts, and
 * turns parts back into the one canonical string, so that two spellings of
 * the same package compare equal byte for byte.
 *
 * Everything is allocated in the caller's SpArena; nothing is kept between
 * calls.  Bad input is reported through the return value and a message that
 * names the byte offset in the input; the module never aborts.  The rules
 * as implemented are described in docs/purl.md.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SP_PURL_H
#define SP_PURL_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"

/* Longest purl string accepted, in bytes (without the terminating NUL). */
#define SP_PURL_MAX_LEN		8192

/* One qualifier: a lower-case key and its percent-decoded, non-empty value. */
typedef struct SpPurlQualifier
{
	const char *key;
	const char *value;
} SpPurlQualifier;

/*
 * A parsed purl.  All strings are percent-decoded, NUL-terminated, valid
 * UTF-8 without NUL bytes, and already carry the type-specific
 * normalisation (for example a lower-cased pypi name).  Optional parts are
 * NULL when absent, never empty strings.
 */
typedef struct SpPurl
{
	const char *type;			/* lower case, [a-z0-9.+-] */
	const char *namespace;		/* segments joined by '/', or NULL */
	const char *name;			/* never NULL or empty */
	const char *version;		/* or NULL */
	SpPurlQualifier *qualifiers;	/* sorted bytewise by key, unique keys */
	int			nqualifiers;
	const char *subpath;		/* segments joined by '/', or NULL */
} SpPurl;

/*
 * Parse a purl string.  Returns 0 and sets *out on success.  Returns -1 on
 * bad input (or arena exhaustion) and writes a message such as
 * "invalid percent-escape at offset 17" into errbuf (when errlen > 0);
 * offsets count bytes from 0.
 */
extern int	sp_purl_parse(const char *s, SpArena *a, SpPurl **out,
						  char *errbuf, size_t errlen);

/* The value of the qualifier named key (lower case), or NULL. */
extern const char *sp_purl_qualifier(const SpPurl *p, const char *key);

/*
 * The canonical purl string of a parsed purl, allocated in the arena; NULL
 * only when the arena is exhausted.
 */
extern char *sp_purl_canonical(const SpPurl *p, SpArena *a);

/*
 * The canonical form without qualifiers and subpath, and also without the
 * version unless with_version: the key used to match packages.
 */
extern char *sp_purl_base(const SpPurl *p, bool with_version, SpArena *a);

#endif							/* SP_PURL_H */
