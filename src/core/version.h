/*-------------------------------------------------------------------------
 *
 * version.h
 *	  Version comparison for every package ecosystem stellapolicy matches.
 *
 * Deciding whether version V of package P is affected by an advisory comes
 * down to ordering two version strings the way P's ecosystem orders them.
 * Each ecosystem family has its own scheme (SemVer for npm, PEP 440 for
 * PyPI, ComparableVersion for Maven, dpkg for Debian, ...), and each scheme
 * here follows that ecosystem's reference implementation, quirks included;
 * docs/matching.md lists the rules and the references.
 *
 * Two forms are offered.  sp_version_cmp() compares two strings and needs
 * no arena.  sp_version_parse() parses once into an SpVersion (copying the
 * text into the arena) so that the hot path, one component version against
 * many range bounds, only runs sp_version_cmp_parsed(), which never
 * allocates.  Nothing here keeps state between calls.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SP_VERSION_H
#define SP_VERSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"

typedef enum SpScheme
{
	SP_SCHEME_SEMVER,			/* npm, crates.io, Hex, Pub (node-semver) */
	SP_SCHEME_GO,				/* Go modules (golang.org/x/mod/semver) */
	SP_SCHEME_PEP440,			/* PyPI */
	SP_SCHEME_MAVEN,			/* Maven ComparableVersion 3.x */
	SP_SCHEME_DPKG,				/* Debian, Ubuntu */
	SP_SCHEME_RPM,				/* Red Hat, Rocky, Alma, SUSE, ... */
	SP_SCHEME_APK,				/* Alpine */
	SP_SCHEME_GEM,				/* RubyGems Gem::Version */
	SP_SCHEME_NUGET,			/* NuGet NuGetVersion */
	SP_SCHEME_COMPOSER,			/* Packagist (Composer) */
	SP_SCHEME_GENERIC,			/* anything else */
	SP_SCHEME__COUNT
} SpScheme;

/* A run of decimal digits with leading zeros removed (len 0 means zero). */
typedef struct SpNum
{
	const char *d;
	uint32_t	len;
} SpNum;

/* SemVer, Go and NuGet: numeric core plus a dotted pre-release string. */
typedef struct SpSemverParts
{
	SpNum		num[4];			/* major, minor, patch, NuGet revision */
	const char *pre;			/* pre-release identifiers, NULL if none */
	uint32_t	prelen;
} SpSemverParts;

/* PEP 440, kept as spans of the text so that parsing never allocates. */
typedef struct SpPep440Parts
{
	SpNum		epoch;
	const char *release;		/* "1.2.3" span */
	uint32_t	rellen;
	int			pre_kind;		/* 0 none, 1 a, 2 b, 3 rc */
	SpNum		pre_n;
	bool		has_post;
	SpNum		post_n;
	bool		has_dev;
	SpNum		dev_n;
	const char *local;			/* local label span, NULL if none */
	uint32_t	loclen;
} SpPep440Parts;

/* dpkg and RPM: epoch, version, release as spans of the text. */
typedef struct SpEvrParts
{
	const char *epoch;			/* NULL when absent */
	uint32_t	elen;
	const char *ver;
	uint32_t	vlen;
	const char *rel;			/* NULL when absent */
	uint32_t	rlen;
} SpEvrParts;

/* One item of a tree- or list-shaped parse (Maven, RubyGems, Composer). */
typedef struct SpVerItem SpVerItem;
struct SpVerItem
{
	int			kind;			/* scheme-specific */
	SpNum		num;			/* numeric value */
	const char *str;			/* string value (arena) */
	uint32_t	slen;
	int			rank;			/* scheme-specific precomputed order */
	SpVerItem  *child;			/* Maven sub-list */
	int			nchild;
};

typedef struct SpItemList
{
	SpVerItem  *items;
	int			n;
} SpItemList;

/* A parsed version; which union member is valid follows from scheme. */
typedef struct SpVersion
{
	SpScheme	scheme;
	const char *text;			/* the version as given */
	union
	{
		SpSemverParts sv;
		SpPep440Parts pep;
		SpEvrParts	evr;
		SpItemList	list;
		const void *tree;		/* Maven: root of the item tree */
		struct
		{
			const char *s;
			uint32_t	len;
		}			raw;
	}			u;
} SpVersion;

/*
 * Compare two version strings under a scheme.  Returns 0 and sets *result
 * to -1, 0 or 1; or returns -1 with a message in errbuf that names the
 * scheme and the offending version.
 */
/* The longest version string any scheme accepts, in bytes. */
#define SP_VERSION_MAX_LEN 256

extern int	sp_version_cmp(SpScheme scheme, const char *a, const char *b,
						   int *result, char *errbuf, size_t errlen);

/*
 * Parse a version once.  The text is copied into the arena, and everything
 * out points at lives there, so out stays valid as long as the arena.
 */
extern int	sp_version_parse(SpScheme scheme, const char *str, SpArena *arena,
							 SpVersion *out, char *errbuf, size_t errlen);

/* Compare two versions parsed under the same scheme; never allocates. */
extern int	sp_version_cmp_parsed(const SpVersion *a, const SpVersion *b);

/* Check a version string without comparing it. */
extern bool sp_version_valid(SpScheme scheme, const char *str,
							 char *errbuf, size_t errlen);

/*
 * Map an OSV ecosystem (with or without ":release"), a purl type or a
 * scheme name to a scheme, case-insensitively.  Returns 0 or -1 if unknown.
 */
extern int	sp_scheme_from_name(const char *name, SpScheme *out);

/* The canonical scheme name ("semver", "pep440", ...). */
extern const char *sp_scheme_name(SpScheme scheme);

/*
 * Internals shared by the per-scheme files (version_*.c); not for callers.
 * Each parser fills out->u from text (which stays owned by the caller) and
 * may take items from arena; arena is NULL for schemes that never need it.
 */
extern bool sp_scheme_needs_arena(SpScheme scheme);
extern int	sp_numcmp(SpNum a, SpNum b);
extern SpNum sp_num_make(const char *d, size_t len);
extern int	sp_verr(char *errbuf, size_t errlen, SpScheme scheme,
					const char *text, const char *why);

extern int	sp_semver_parse(const char *s, SpVersion *out, char *eb, size_t el);
extern int	sp_semver_cmp(const SpVersion *a, const SpVersion *b);
extern int	sp_go_parse(const char *s, SpVersion *out, char *eb, size_t el);
extern int	sp_go_cmp(const SpVersion *a, const SpVersion *b);
extern int	sp_nuget_parse(const char *s, SpVersion *out, char *eb, size_t el);
extern int	sp_nuget_cmp(const SpVersion *a, const SpVersion *b);
extern int	sp_pep440_parse(const char *s, SpVersion *out, char *eb, size_t el);
extern int	sp_pep440_cmp(const SpVersion *a, const SpVersion *b);
extern int	sp_maven_parse(const char *s, SpArena *arena, SpVersion *out,
						   char *eb, size_t el);
extern int	sp_maven_cmp(const SpVersion *a, const SpVersion *b);
extern int	sp_dpkg_parse(const char *s, SpVersion *out, char *eb, size_t el);
extern int	sp_dpkg_cmp(const SpVersion *a, const SpVersion *b);
extern int	sp_rpm_parse(const char *s, SpVersion *out, char *eb, size_t el);
extern int	sp_rpm_cmp(const SpVersion *a, const SpVersion *b);
extern int	sp_apk_parse(const char *s, SpVersion *out, char *eb, size_t el);
extern int	sp_apk_cmp(const SpVersion *a, const SpVersion *b);
extern int	sp_gem_parse(const char *s, SpArena *arena, SpVersion *out,
						 char *eb, size_t el);
extern int	sp_gem_cmp(const SpVersion *a, const SpVersion *b);
extern int	sp_composer_parse(const char *s, SpArena *arena, SpVersion *out,
							  char *eb, size_t el);
extern int	sp_composer_cmp(const SpVersion *a, const SpVersion *b);
extern int	sp_generic_parse(const char *s, SpVersion *out, char *eb,
							 size_t el);
extern int	sp_generic_cmp(const SpVersion *a, const SpVersion *b);

#endif							/* SP_VERSION_H */
